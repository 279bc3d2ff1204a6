//! `source.toolkit.fluxcd.io/v1beta2`: served for manifests written for older Flux, deprecated.
//!
//! Sub-types whose schema is identical in v1 are the v1 types, re-exported here so that a
//! v1beta2 object can be written using this module alone.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;

mod bucket;
mod common;
mod gitrepository;
mod helmchart;
mod helmrepository;
mod ocirepository;

pub use bucket::*;
pub use common::*;
pub use gitrepository::*;
pub use helmchart::*;
pub use helmrepository::*;
pub use ocirepository::*;

pub use crate::source::v1::{
    AccessFrom, BucketProvider, BucketSTSProvider, BucketSTSSpec, GitRepositoryInclude,
    GitRepositoryRef, HelmChartSourceKind, HelmChartVerification, HelmRepositoryType,
    LocalHelmChartSourceReference, NamespaceSelector, OCILayerOperation, OCILayerSelector,
    OCIProvider, OCIRepositoryRef, OIDCIdentityMatch, ReconcileStrategy, VerificationProvider,
};

pub const VERSION: &str = "v1beta2";

/// This version's CRDs, one per kind, before merging with the other versions.
pub fn crds() -> Vec<CustomResourceDefinition> {
    vec![
        GitRepository::crd(),
        OCIRepository::crd(),
        HelmRepository::crd(),
        HelmChart::crd(),
        Bucket::crd(),
    ]
}
