//! Where a HelmRelease's chart comes from: a template for a HelmChart object (`spec.chart`) or a
//! reference to an existing chart artifact (`spec.chartRef`).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::duration::DURATION_PATTERN;
use crate::meta::LocalObjectReference;

/// Template of the HelmChart the controller creates for this release (`spec.chart`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct HelmChartTemplate {
    /// Labels and annotations for the generated HelmChart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<HelmChartTemplateObjectMeta>,
    pub spec: HelmChartTemplateSpec,
}

/// Labels and annotations copied onto the generated HelmChart.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct HelmChartTemplateObjectMeta {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
}

/// The spec of the generated HelmChart.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HelmChartTemplateSpec {
    /// Chart name (HelmRepository) or path (GitRepository, Bucket) within the source.
    #[schemars(length(min = 1, max = 2048))]
    pub chart: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_missing_values_files: Option<bool>,
    /// How often the HelmChart checks its source; falls back to the release's interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = DURATION_PATTERN))]
    pub interval: Option<String>,
    #[serde(
        default = "default_reconcile_strategy",
        skip_serializing_if = "Option::is_none"
    )]
    pub reconcile_strategy: Option<ReconcileStrategy>,
    pub source_ref: CrossNamespaceObjectReference,
    /// Values files within the source, merged in order (later ones win).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values_files: Option<Vec<String>>,
    /// Signature verification of OCI charts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify: Option<HelmChartTemplateVerification>,
    /// SemVer range; ignored for Git and Bucket sources.
    #[serde(default = "default_version", skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

fn default_reconcile_strategy() -> Option<ReconcileStrategy> {
    Some(ReconcileStrategy::ChartVersion)
}

fn default_version() -> Option<String> {
    Some("*".into())
}

/// What makes the HelmChart produce a new artifact.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum ReconcileStrategy {
    /// A new chart version.
    #[default]
    ChartVersion,
    /// A new source revision, even with the same chart version.
    Revision,
}

/// The source a templated HelmChart pulls from (`spec.chart.spec.sourceRef`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CrossNamespaceObjectReference {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    pub kind: ChartSourceKind,
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Defaults to the HelmRelease's namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 63))]
    pub namespace: Option<String>,
}

/// Kinds of source a templated HelmChart can pull from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum ChartSourceKind {
    #[default]
    HelmRepository,
    GitRepository,
    Bucket,
}

impl ChartSourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::HelmRepository => "HelmRepository",
            Self::GitRepository => "GitRepository",
            Self::Bucket => "Bucket",
        }
    }
}

/// A source object holding a ready chart artifact (`spec.chartRef`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CrossNamespaceSourceReference {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    pub kind: ChartRefKind,
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Defaults to the HelmRelease's namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 63))]
    pub namespace: Option<String>,
}

/// Kinds of object `spec.chartRef` may point at.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum ChartRefKind {
    #[default]
    OCIRepository,
    HelmChart,
    ExternalArtifact,
}

impl ChartRefKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OCIRepository => "OCIRepository",
            Self::HelmChart => "HelmChart",
            Self::ExternalArtifact => "ExternalArtifact",
        }
    }
}

/// How to verify the signature of an OCI chart.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
// Flux lists `provider` as required even though it has a default.
#[schemars(extend("required" = ["provider"]))]
pub struct HelmChartTemplateVerification {
    #[serde(default)]
    pub provider: VerificationProvider,
    /// Secret with the trusted public keys or certificates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalObjectReference>,
}

/// Signing technology of an OCI chart.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum VerificationProvider {
    #[default]
    Cosign,
    Notation,
}
