//! `source.toolkit.fluxcd.io/v1`, the storage version.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;

mod bucket;
mod externalartifact;
mod gitrepository;
mod helmchart;
mod helmrepository;
mod ocirepository;

pub use bucket::*;
pub use externalartifact::*;
pub use gitrepository::*;
pub use helmchart::*;
pub use helmrepository::*;
pub use ocirepository::*;

pub const VERSION: &str = "v1";

/// This version's CRDs, one per kind, before merging with the other versions.
pub fn crds() -> Vec<CustomResourceDefinition> {
    vec![
        GitRepository::crd(),
        OCIRepository::crd(),
        HelmRepository::crd(),
        HelmChart::crd(),
        Bucket::crd(),
        ExternalArtifact::crd(),
    ]
}
