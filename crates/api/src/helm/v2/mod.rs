//! `helm.toolkit.fluxcd.io/v2`: the storage version.
//!
//! The types are public under Flux's names (with a few disambiguated: `TestFilter`,
//! `KustomizePostRenderer`, `ChartSourceKind`, `ChartRefKind`, `ValuesSourceKind`) so the older
//! versions can reuse those whose schema did not change.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;

mod actions;
mod chart;
mod durations;
mod helmrelease;
mod status;

pub use actions::*;
pub use chart::*;
pub use durations::*;
pub use helmrelease::*;
pub use status::*;

pub const VERSION: &str = "v2";

/// This version's CRDs, one per kind, before merging with the other versions.
pub fn crds() -> Vec<CustomResourceDefinition> {
    vec![HelmRelease::crd()]
}
