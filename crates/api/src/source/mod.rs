//! `source.toolkit.fluxcd.io`: GitRepository, OCIRepository, HelmRepository, HelmChart, Bucket,
//! ExternalArtifact.

pub mod v1;
pub mod v1beta2;

/// The API group of the source kinds.
pub const GROUP: &str = "source.toolkit.fluxcd.io";
