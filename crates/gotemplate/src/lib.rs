//! Go's `text/template` for the Helm engine.
//!
//! The data model ([`Value`]) is shared with the Sprig function library and the
//! chart renderer, so its shape is the contract between those crates.

pub mod value;

pub use value::{Dict, Func, FuncError, FuncMap, Object, Value};
