//! HelmChart `v1beta2`: the v1 spec plus `accessFrom` and the single `valuesFile`.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::Artifact;
use crate::meta::Condition;
use crate::source::v1::{
    AccessFrom, HelmChartVerification, LocalHelmChartSourceReference, ReconcileStrategy,
};

/// Desired state of a Helm chart packaged from a HelmRepository, GitRepository or Bucket
/// (deprecated version).
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "source.toolkit.fluxcd.io",
    version = "v1beta2",
    kind = "HelmChart",
    plural = "helmcharts",
    shortname = "hc",
    category = "all",
    category = "fluxcd",
    category = "fluxcd-sources",
    namespaced,
    derive = "PartialEq",
    status = "HelmChartStatus",
    deprecated = "v1beta2 HelmChart is deprecated, upgrade to v1",
    printcolumn = r#"{"jsonPath":".spec.chart","name":"Chart","type":"string"}"#,
    printcolumn = r#"{"jsonPath":".spec.version","name":"Version","type":"string"}"#,
    printcolumn = r#"{"jsonPath":".spec.sourceRef.kind","name":"Source Kind","type":"string"}"#,
    printcolumn = r#"{"jsonPath":".spec.sourceRef.name","name":"Source Name","type":"string"}"#,
    printcolumn = r#"{"jsonPath":".metadata.creationTimestamp","name":"Age","type":"date"}"#,
    printcolumn = r#"{"jsonPath":".status.conditions[?(@.type==\"Ready\")].status","name":"Ready","type":"string"}"#,
    printcolumn = r#"{"jsonPath":".status.conditions[?(@.type==\"Ready\")].message","name":"Status","type":"string"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct HelmChartSpec {
    /// Cross-namespace access control (ignored by current controllers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_from: Option<AccessFrom>,
    /// Chart name (HelmRepository) or path to the chart directory/package (Git, Bucket).
    pub chart: String,
    /// Skip values files that do not exist instead of failing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_missing_values_files: Option<bool>,
    #[schemars(regex(pattern = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"))]
    pub interval: String,
    /// When a new artifact is built: on chart version change or on every source revision.
    #[serde(
        default = "default_reconcile_strategy",
        skip_serializing_if = "Option::is_none"
    )]
    pub reconcile_strategy: Option<ReconcileStrategy>,
    pub source_ref: LocalHelmChartSourceReference,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend: Option<bool>,
    /// A single alternative values file; superseded by `valuesFiles`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values_file: Option<String>,
    /// Values files merged in order over the chart's default values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values_files: Option<Vec<String>>,
    /// Signature verification of OCI charts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify: Option<HelmChartVerification>,
    /// SemVer range of the chart version (HelmRepository sources only).
    #[serde(default = "default_version", skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

fn default_reconcile_strategy() -> Option<ReconcileStrategy> {
    Some(ReconcileStrategy::ChartVersion)
}

fn default_version() -> Option<String> {
    Some("*".into())
}

/// Observed state of a v1beta2 HelmChart.
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_chart_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Revision of the source artifact the chart was last built from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_source_artifact_revision: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_values_files: Option<Vec<String>>,
    /// Download URL of the chart package artifact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::v1beta2::{HelmChartSourceKind, VerificationProvider};

    #[test]
    fn v1beta2_manifest_round_trips_with_defaults() {
        let yaml = r#"
apiVersion: source.toolkit.fluxcd.io/v1beta2
kind: HelmChart
metadata:
  name: podinfo
  namespace: flux-system
spec:
  interval: 5m
  chart: podinfo
  sourceRef:
    kind: HelmRepository
    name: podinfo
  valuesFile: values-prod.yaml
  valuesFiles:
    - values.yaml
    - values-prod.yaml
  verify:
    provider: notation
    secretRef:
      name: trust-policy
"#;
        let chart: HelmChart = serde_saphyr::from_str(yaml).unwrap();
        let spec = &chart.spec;
        assert_eq!(spec.version.as_deref(), Some("*"), "version defaults");
        assert_eq!(
            spec.reconcile_strategy,
            Some(ReconcileStrategy::ChartVersion)
        );
        assert_eq!(spec.source_ref.kind, HelmChartSourceKind::HelmRepository);
        assert_eq!(spec.source_ref.api_version, None);
        assert_eq!(spec.values_file.as_deref(), Some("values-prod.yaml"));
        assert_eq!(spec.values_files.as_ref().unwrap().len(), 2);
        let verify = spec.verify.as_ref().unwrap();
        assert_eq!(verify.provider, VerificationProvider::Notation);

        let json = serde_json::to_value(&chart).unwrap();
        assert_eq!(json["spec"]["reconcileStrategy"], "ChartVersion");
        assert_eq!(json["spec"]["sourceRef"]["kind"], "HelmRepository");
        let back: HelmChart = serde_json::from_value(json).unwrap();
        assert_eq!(back, chart);
    }
}
