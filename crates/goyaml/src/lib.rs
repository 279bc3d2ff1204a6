//! The scalar rules of go-yaml v2 (and the libyaml emitter inside it), as pure functions.
//!
//! Helm's `toYaml` (`sigs.k8s.io/yaml.Marshal`) and `kustomize build` (`JSONToYAML`) both
//! print through go-yaml v2, so `crates/gotemplate` and `crates/kustomize` share these
//! rules instead of each keeping a copy: what a plain scalar reads back as ([`resolve_plain`]),
//! which quoting style a string gets ([`requested_style`], [`analyze`], [`select_style`]),
//! how floats are spelled ([`format_float`], [`float_scalar`], [`json_float_scalar`]) and
//! the order of mapping keys ([`natural_cmp`]). Walking each crate's value tree stays in
//! that crate.

#![forbid(unsafe_code)]

mod float;
mod order;
mod resolve;
mod style;

pub use float::{float_scalar, format_float, json_float_scalar};
pub use order::{natural_cmp, sort_naturally};
pub use resolve::{
    Resolved, can_use_plain, go_parse_int, is_base60_float, resolve_plain, yaml_style_float,
};
pub use style::{
    Analysis, Style, analyze, is_break, is_printable, needs_escape, push_escape, requested_style,
    scalar_style, select_style,
};
