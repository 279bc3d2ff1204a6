//! Flux's APIs as Rust types: every kind and served version of the `source`, `kustomize` and
//! `helm` toolkit groups, the shared meta types, condition constants, and CRD generation.
//!
//! This crate does no I/O, so every other crate (controllers, CLI, tests) can depend on it.
#![forbid(unsafe_code)]

pub mod conditions;
pub mod crd;
pub mod duration;
pub mod helm;
pub mod kustomize;
pub mod meta;
pub mod source;

/// Errors from pure API helpers (parsing Go durations and the like).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid duration {0:?}: {1}")]
    InvalidDuration(String, &'static str),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
