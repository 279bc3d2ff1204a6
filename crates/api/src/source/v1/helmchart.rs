use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{OIDCIdentityMatch, VerificationProvider};
use crate::meta::{Artifact, Condition, LocalObjectReference};

/// Desired state of a Helm chart packaged from a HelmRepository, GitRepository or Bucket.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "source.toolkit.fluxcd.io",
    version = "v1",
    kind = "HelmChart",
    plural = "helmcharts",
    shortname = "hc",
    category = "all",
    category = "fluxcd",
    category = "fluxcd-sources",
    namespaced,
    derive = "PartialEq",
    status = "HelmChartStatus",
    printcolumn = r#"{"jsonPath":".spec.chart","name":"Chart","type":"string"}"#,
    printcolumn = r#"{"jsonPath":".spec.version","name":"Version","type":"string"}"#,
    printcolumn = r#"{"jsonPath":".spec.sourceRef.kind","name":"Source Kind","type":"string"}"#,
    printcolumn = r#"{"jsonPath":".spec.sourceRef.name","name":"Source Name","type":"string"}"#,
    printcolumn = r#"{"jsonPath":".metadata.creationTimestamp","name":"Age","type":"date"}"#,
    printcolumn = r#"{"jsonPath":".status.conditions[?(@.type==\"Ready\")].status","name":"Ready","type":"string"}"#,
    printcolumn = r#"{"jsonPath":".status.conditions[?(@.type==\"Ready\")].message","name":"Status","type":"string"}"#
)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [{
    "message": "spec.verify is only supported when spec.sourceRef.kind is 'HelmRepository'",
    "rule": "!has(self.verify) || self.sourceRef.kind == 'HelmRepository'"
}]))]
pub struct HelmChartSpec {
    /// Chart name in a repository, or path to the chart directory in a Git/Bucket artifact.
    pub chart: String,
    /// Skip values files that do not exist instead of failing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_missing_values_files: Option<bool>,
    #[schemars(regex(pattern = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"))]
    pub interval: String,
    #[serde(
        default = "default_reconcile_strategy",
        skip_serializing_if = "Option::is_none"
    )]
    pub reconcile_strategy: Option<ReconcileStrategy>,
    pub source_ref: LocalHelmChartSourceReference,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend: Option<bool>,
    /// Values files (paths in the source) merged in order, later ones winning; `values.yaml`
    /// is only included when listed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values_files: Option<Vec<String>>,
    /// Signature verification; only for charts from an `oci` HelmRepository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify: Option<HelmChartVerification>,
    /// Semver constraint for repository charts (ignored for Git/Bucket sources); `*` is the
    /// latest.
    #[serde(default = "default_version", skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

fn default_reconcile_strategy() -> Option<ReconcileStrategy> {
    Some(ReconcileStrategy::ChartVersion)
}

fn default_version() -> Option<String> {
    Some("*".into())
}

/// When a new chart artifact is produced: on a new chart version only, or on every new
/// source revision.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum ReconcileStrategy {
    #[default]
    ChartVersion,
    Revision,
}

/// The source a chart comes from, in the HelmChart's namespace.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LocalHelmChartSourceReference {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    pub kind: HelmChartSourceKind,
    pub name: String,
}

/// Kinds a HelmChart can be built from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum HelmChartSourceKind {
    #[default]
    HelmRepository,
    GitRepository,
    Bucket,
}

impl HelmChartSourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::HelmRepository => "HelmRepository",
            Self::GitRepository => "GitRepository",
            Self::Bucket => "Bucket",
        }
    }
}

/// Signature verification of an OCI chart. Like OCIRepository's, without a custom Sigstore
/// trusted root; `provider` is required in the CRD but defaulted by the API server.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("required" = ["provider"]))]
pub struct HelmChartVerification {
    #[serde(
        default,
        rename = "matchOIDCIdentity",
        skip_serializing_if = "Option::is_none"
    )]
    pub match_oidc_identity: Option<Vec<OIDCIdentityMatch>>,
    #[serde(default)]
    pub provider: VerificationProvider,
    /// Secret holding the trusted public keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalObjectReference>,
}

/// Observed state of a HelmChart.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("default" = {"observedGeneration": -1}))]
pub struct HelmChartStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact: Option<Artifact>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_handled_reconcile_at: Option<String>,
    /// Chart name as resolved from the chart reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_chart_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Source artifact revision the current chart artifact was built from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_source_artifact_revision: Option<String>,
    /// Values files merged into the current chart artifact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_values_files: Option<Vec<String>>,
    /// Download address of the current artifact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helm_chart_manifest_deserialises_with_defaults() {
        let yaml = r#"
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmChart
metadata:
  name: podinfo
  namespace: default
spec:
  interval: 5m0s
  chart: podinfo
  sourceRef:
    kind: HelmRepository
    name: podinfo
  valuesFiles:
    - values.yaml
    - values-prod.yaml
  verify:
    provider: notation
    secretRef:
      name: notation-config
"#;
        let chart: HelmChart = serde_saphyr::from_str(yaml).unwrap();
        let spec = &chart.spec;
        assert_eq!(spec.chart, "podinfo");
        assert_eq!(spec.interval, "5m0s");
        assert_eq!(spec.version.as_deref(), Some("*"));
        assert_eq!(
            spec.reconcile_strategy,
            Some(ReconcileStrategy::ChartVersion)
        );
        assert_eq!(spec.source_ref.kind, HelmChartSourceKind::HelmRepository);
        assert_eq!(spec.source_ref.name, "podinfo");
        assert_eq!(spec.source_ref.api_version, None);
        assert_eq!(
            spec.values_files.as_deref(),
            Some(&["values.yaml".to_string(), "values-prod.yaml".to_string()][..])
        );
        let verify = spec.verify.as_ref().unwrap();
        assert_eq!(verify.provider, VerificationProvider::Notation);

        let json = serde_json::to_value(&chart).unwrap();
        assert_eq!(json["spec"]["reconcileStrategy"], "ChartVersion");
        assert_eq!(json["spec"]["version"], "*");
        assert_eq!(json["spec"]["sourceRef"]["kind"], "HelmRepository");
        let back: HelmChart = serde_json::from_value(json).unwrap();
        assert_eq!(back, chart);
    }

    #[test]
    fn helm_chart_from_git_keeps_revision_strategy() {
        let yaml = r#"
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmChart
metadata:
  name: podinfo
spec:
  interval: 1m
  chart: ./charts/podinfo
  reconcileStrategy: Revision
  sourceRef:
    kind: GitRepository
    name: podinfo
"#;
        let chart: HelmChart = serde_saphyr::from_str(yaml).unwrap();
        assert_eq!(
            chart.spec.reconcile_strategy,
            Some(ReconcileStrategy::Revision)
        );
        assert_eq!(chart.spec.source_ref.kind.as_str(), "GitRepository");
    }
}
