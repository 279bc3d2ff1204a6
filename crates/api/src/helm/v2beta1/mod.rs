//! `helm.toolkit.fluxcd.io/v2beta1`: served for manifests written for older Flux, deprecated.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;

mod helmrelease;

pub use helmrelease::*;

pub const VERSION: &str = "v2beta1";

/// This version's CRDs, one per kind, before merging with the other versions.
pub fn crds() -> Vec<CustomResourceDefinition> {
    vec![HelmRelease::crd()]
}
