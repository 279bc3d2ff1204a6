//! `helm.toolkit.fluxcd.io`: HelmRelease.

/// The API group of HelmRelease.
pub const GROUP: &str = "helm.toolkit.fluxcd.io";

pub mod v2;
pub mod v2beta1;
pub mod v2beta2;
