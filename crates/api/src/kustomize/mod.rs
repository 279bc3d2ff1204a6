//! `kustomize.toolkit.fluxcd.io`: Kustomization.

/// The API group of Kustomization.
pub const GROUP: &str = "kustomize.toolkit.fluxcd.io";

pub mod v1;
pub mod v1beta2;
