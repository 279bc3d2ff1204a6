//! `kustomize.toolkit.fluxcd.io/v1`: the storage version.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;

mod kustomization;

pub use kustomization::*;

pub const VERSION: &str = "v1";

/// This version's CRDs, one per kind, before merging with the other versions.
pub fn crds() -> Vec<CustomResourceDefinition> {
    vec![Kustomization::crd()]
}
