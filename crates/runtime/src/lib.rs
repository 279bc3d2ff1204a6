//! Shared controller runtime.
