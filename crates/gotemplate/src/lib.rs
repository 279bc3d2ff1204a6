//! Go's `text/template` for the Helm engine.
//!
//! The data model ([`Value`]) is shared with the Sprig function library and the
//! chart renderer, so its shape is the contract between those crates.
//!
//! # Why our own engine, not `gotmpl`
//!
//! The issue asked to evaluate `gotmpl` 0.6.1 (phsym/gotmpl-rs) as the base.
//! It is a careful port of Go's parser and executor, but it cannot carry what
//! Helm needs without rewriting its core, so this crate implements the
//! language itself (studying Go's grammar and error wording, not copying code):
//!
//! - Its `Value::Map` is an immutable `Arc<BTreeMap>`; Helm charts rely on Go
//!   maps being shared and mutable (`$_ := set $ "k" v`, `merge` into `.Values`),
//!   which our [`Dict`] provides. Converting between the two per call would
//!   copy whole value trees.
//! - It has no struct-like values with methods (`.Files.Get "x"`,
//!   `.Capabilities.APIVersions.Has`), which our [`Object`] trait provides.
//! - Its functions are `Fn(&[Value])` without access to the template set, so
//!   `include` and `tpl` cannot be written on top of it; and `tpl` done by
//!   cloning the set per call (as Helm does) is quadratic on big charts. Here the
//!   executor owns `include`/`tpl`, overlays `tpl`'s defines instead of cloning,
//!   and caches parsed `tpl` texts.
//! - Helm's behaviour hinges on Go's distinction between an invalid value and a
//!   nil interface (missingkey=zero, `nil pointer evaluating interface {}.x`),
//!   which the executor here models explicitly.
//!
//! # Helm functions
//!
//! `include NAME DATA` and `tpl TEXT DATA` are always available (a [`Func`]
//! of the same name in the [`FuncMap`] overrides them). `include` stops at
//! Helm's nesting limit; `tpl` parses under the set's root name (`gotpl`, see
//! [`Templates::set_root_name`]) and strips `<no value>` from its output as
//! Helm does. The renderer itself must strip `<no value>` from file output.
//!
//! # Function error conventions
//!
//! A [`FuncError`] is reported as Go reports a returned error:
//! `error calling NAME: MSG`. Messages starting with `wrong number of args for`
//! or `wrong type for value` are reported without that prefix, as Go reports
//! argument checks it performs before calling.

#![forbid(unsafe_code)]

pub mod error;
mod exec;
mod gofmt;
pub mod json;
mod parse;
pub mod value;
pub mod yaml;

pub use error::{Error, Result};
pub use exec::{
    ArgOrigin, MissingKey, Templates, arg_origin, html_escape, js_escape, query_escape,
};
pub use gofmt::{fmt_v, format_float, go_quote, go_type, sprint, sprintf, sprintln};
pub use value::{Dict, Func, FuncError, FuncMap, Object, Value};

#[cfg(test)]
mod golden_cases;
#[cfg(test)]
mod golden_tests;
#[cfg(test)]
mod golden_yaml_cases;
