//! `source.toolkit.fluxcd.io/v1`, the storage version.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;

mod gitrepository;

pub use gitrepository::*;

pub const VERSION: &str = "v1";

/// This version's CRDs, one per kind, before merging with the other versions.
pub fn crds() -> Vec<CustomResourceDefinition> {
    vec![GitRepository::crd()]
}
