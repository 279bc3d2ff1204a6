//! HelmRelease `v2beta2`. Types whose schema is the same as in `v2` are that version's types,
//! re-exported here; only the structs that differ are defined in this file.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::CustomResource;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};

use crate::duration::DURATION_PATTERN;
use crate::meta::{
    Condition, Json6902Patch, KustomizeImage, KustomizePatch, NamespacedObjectReference,
    ObjectWithConditions, SecretKeyReference, preserve_unknown_fields,
};

use crate::helm::v2::go_int;
pub use crate::helm::v2::{
    ChartSourceKind, CrdsPolicy, CrossNamespaceObjectReference, DeletionPropagation,
    DriftDetection, DriftDetectionMode, HelmChartTemplateObjectMeta, HelmChartTemplateVerification,
    InstallRemediation, ReconcileStrategy, ReleaseAction, RemediationStrategy, Test, TestFilter,
    TestHookStatus, Uninstall, UpgradeRemediation, ValuesSourceKind, VerificationProvider,
};

/// Schema of a list of free-form JSON values.
fn any_json_list(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "array",
        "items": { "x-kubernetes-preserve-unknown-fields": true }
    })
}

/// Desired state of a Helm release (deprecated `v2beta2` form).
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "helm.toolkit.fluxcd.io",
    version = "v2beta2",
    kind = "HelmRelease",
    plural = "helmreleases",
    shortname = "hr",
    category = "all",
    category = "fluxcd",
    category = "fluxcd-appliers",
    namespaced,
    status = "HelmReleaseStatus",
    deprecated = "v2beta2 HelmRelease is deprecated, upgrade to v2",
    printcolumn = r#"{"jsonPath":".metadata.creationTimestamp","name":"Age","type":"date"}"#,
    printcolumn = r#"{"jsonPath":".status.conditions[?(@.type==\"Ready\")].status","name":"Ready","type":"string"}"#,
    printcolumn = r#"{"jsonPath":".status.conditions[?(@.type==\"Ready\")].message","name":"Status","type":"string"}"#
)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [{
    "message": "either chart or chartRef must be set",
    "rule": "(has(self.chart) && !has(self.chartRef)) || (!has(self.chart) && has(self.chartRef))"
}]))]
pub struct HelmReleaseSpec {
    /// Template of the HelmChart the controller creates for this release. Exactly one of
    /// `chart` and `chartRef` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chart: Option<HelmChartTemplate>,
    /// An existing HelmChart or OCIRepository holding the chart (provisional in this version).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chart_ref: Option<CrossNamespaceSourceReference>,
    /// HelmReleases that must be Ready before this one is reconciled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depends_on: Option<Vec<NamespacedObjectReference>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drift_detection: Option<DriftDetection>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub install: Option<Install>,
    #[schemars(regex(pattern = DURATION_PATTERN))]
    pub interval: String,
    /// Kubeconfig of a remote cluster to release to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kube_config: Option<SecretKubeConfigReference>,
    /// Release revisions Helm keeps; `0` keeps all. The controller's default is 5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "go_int")]
    pub max_history: Option<i64>,
    /// Reuse one Kubernetes client for all Helm actions of a reconciliation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persistent_client: Option<bool>,
    /// Post-renderers applied, in order, to the rendered manifests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_renderers: Option<Vec<PostRenderer>>,
    /// Helm release name; defaults to `[<targetNamespace>-]<name>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 53))]
    pub release_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback: Option<Rollback>,
    /// Service account to impersonate for the Helm actions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253))]
    pub service_account_name: Option<String>,
    /// Namespace of the Helm storage; defaults to the HelmRelease's namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 63))]
    pub storage_namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend: Option<bool>,
    /// Namespace the release is installed into; defaults to the HelmRelease's namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 63))]
    pub target_namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test: Option<Test>,
    /// Timeout of each Kubernetes operation of a Helm action; the controller's default is 5m.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = DURATION_PATTERN))]
    pub timeout: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uninstall: Option<Uninstall>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upgrade: Option<Upgrade>,
    /// Inline chart values, merged last (after `valuesFrom`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "preserve_unknown_fields")]
    pub values: Option<serde_json::Value>,
    /// ConfigMaps/Secrets whose values are merged, in order, before `values`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values_from: Option<Vec<ValuesReference>>,
}

/// Template of the HelmChart object the controller creates for a release.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct HelmChartTemplate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<HelmChartTemplateObjectMeta>,
    pub spec: HelmChartTemplateSpec,
}

/// Spec of the generated HelmChart.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HelmChartTemplateSpec {
    /// Chart name (Helm repository) or path (Git repository, bucket) in the source.
    #[schemars(length(min = 1, max = 2048))]
    pub chart: String,
    /// Do not fail when a listed values file is missing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_missing_values_files: Option<bool>,
    /// How often to check the source; defaults to the HelmRelease's interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = DURATION_PATTERN))]
    pub interval: Option<String>,
    #[serde(
        default = "default_reconcile_strategy",
        skip_serializing_if = "Option::is_none"
    )]
    pub reconcile_strategy: Option<ReconcileStrategy>,
    pub source_ref: CrossNamespaceObjectReference,
    /// Deprecated single values file; merged before `valuesFiles`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values_file: Option<String>,
    /// Values files in the source, merged in order (later files win).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values_files: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify: Option<HelmChartTemplateVerification>,
    /// Semver range of the chart; ignored for Git and bucket sources.
    #[serde(default = "default_version", skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

pub(crate) fn default_reconcile_strategy() -> Option<ReconcileStrategy> {
    Some(ReconcileStrategy::ChartVersion)
}

pub(crate) fn default_version() -> Option<String> {
    Some("*".into())
}

/// Reference to an existing chart artifact (`spec.chartRef`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
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

/// Kinds of object `chartRef` may point at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ChartRefKind {
    OCIRepository,
    HelmChart,
}

/// Options of the Helm install action.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Install {
    /// CRD policy; unset behaves like `Create`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crds: Option<CrdsPolicy>,
    /// Create the target namespace if missing (never deleted on uninstall).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_namespace: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_hooks: Option<bool>,
    #[serde(
        default,
        rename = "disableOpenAPIValidation",
        skip_serializing_if = "Option::is_none"
    )]
    pub disable_openapi_validation: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_wait: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_wait_for_jobs: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remediation: Option<InstallRemediation>,
    /// Reuse the release name if only a deleted release with it remains in the history.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replace: Option<bool>,
    /// Deprecated: use `crds: Skip`.
    #[serde(default, rename = "skipCRDs", skip_serializing_if = "Option::is_none")]
    pub skip_crds: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = DURATION_PATTERN))]
    pub timeout: Option<String>,
}

/// Kubeconfig of a remote cluster, read from a Secret key (default key `value`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecretKubeConfigReference {
    pub secret_ref: SecretKeyReference,
}

/// A Helm post-renderer.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PostRenderer {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kustomize: Option<Kustomize>,
}

/// A kustomization applied to the rendered manifests.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Kustomize {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub images: Option<Vec<KustomizeImage>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patches: Option<Vec<KustomizePatch>>,
    /// Deprecated: use `patches`.
    #[serde(
        default,
        rename = "patchesJson6902",
        skip_serializing_if = "Option::is_none"
    )]
    pub patches_json6902: Option<Vec<Json6902Patch>>,
    /// Deprecated: use `patches`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "any_json_list")]
    pub patches_strategic_merge: Option<Vec<serde_json::Value>>,
}

/// Options of the Helm rollback action.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Rollback {
    /// Delete resources created by a failed rollback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cleanup_on_fail: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_hooks: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_wait: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_wait_for_jobs: Option<bool>,
    /// Update resources by replacing them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub force: Option<bool>,
    /// Restart pods where applicable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recreate: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = DURATION_PATTERN))]
    pub timeout: Option<String>,
}

/// Options of the Helm upgrade action.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Upgrade {
    /// Delete resources created by a failed upgrade.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cleanup_on_fail: Option<bool>,
    /// CRD policy; unset behaves like `Skip`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crds: Option<CrdsPolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_hooks: Option<bool>,
    #[serde(
        default,
        rename = "disableOpenAPIValidation",
        skip_serializing_if = "Option::is_none"
    )]
    pub disable_openapi_validation: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_wait: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_wait_for_jobs: Option<bool>,
    /// Update resources by replacing them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub force: Option<bool>,
    /// Reuse the previous release's values, merging `values` over them (not declarative).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preserve_values: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remediation: Option<UpgradeRemediation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = DURATION_PATTERN))]
    pub timeout: Option<String>,
}

/// Helm values read from a ConfigMap or Secret in the HelmRelease's namespace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ValuesReference {
    pub kind: ValuesSourceKind,
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Ignore the reference if the object is missing (other errors still fail).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optional: Option<bool>,
    /// Dot-notation path to merge a single value at; unset merges at the root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        length(max = 250),
        regex(pattern = r"^([a-zA-Z0-9_\-.\\\/]|\[[0-9]{1,5}\])+$")
    )]
    pub target_path: Option<String>,
    /// Data key to read; defaults to `values.yaml`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 253), regex(pattern = r"^[\-._a-zA-Z0-9]+$"))]
    pub values_key: Option<String>,
}

/// Observed state of a HelmRelease (`v2beta2`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("default" = {"observedGeneration": -1}))]
pub struct HelmReleaseStatus {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// Failed reconciliations since the last success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failures: Option<i64>,
    /// `<namespace>/<name>` of the generated HelmChart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub helm_chart: Option<String>,
    /// Releases performed, newest first, down to the last successful one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<Snapshot>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub install_failures: Option<i64>,
    /// Deprecated: see `history`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_applied_revision: Option<String>,
    /// Digest of the values of the last attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempted_config_digest: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempted_generation: Option<i64>,
    /// Decides which remediation applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempted_release_action: Option<ReleaseAction>,
    /// Chart revision of the last attempt (OCI: version plus `+` and 12 digest characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempted_revision: Option<String>,
    /// OCI artifact digest of the last attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempted_revision_digest: Option<String>,
    /// Deprecated: see `lastAttemptedConfigDigest`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempted_values_checksum: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_handled_force_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_handled_reconcile_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_handled_reset_at: Option<String>,
    /// Deprecated: see `history`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "go_int")]
    pub last_release_revision: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_post_renderers_digest: Option<String>,
    /// Namespace of the Helm storage of the current release.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 63))]
    pub storage_namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upgrade_failures: Option<i64>,
}

impl ObjectWithConditions for HelmReleaseStatus {
    fn conditions(&self) -> &[Condition] {
        &self.conditions
    }
    fn conditions_mut(&mut self) -> &mut Vec<Condition> {
        &mut self.conditions
    }
}

/// A copy of a Helm release's status taken by the controller.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    /// Version of the digest calculation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_version: Option<String>,
    pub chart_name: String,
    pub chart_version: String,
    /// `<algo>:<checksum>` of the release values.
    pub config_digest: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted: Option<Time>,
    /// `<algo>:<checksum>` of the release object.
    pub digest: String,
    pub first_deployed: Time,
    pub last_deployed: Time,
    pub name: String,
    pub namespace: String,
    /// Digest of the OCI artifact the chart came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oci_digest: Option<String>,
    /// Helm release status (`deployed`, `failed`, ...).
    pub status: String,
    /// Test hooks seen run for the release, by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_hooks: Option<BTreeMap<String, TestHookStatus>>,
    /// Helm release revision.
    #[schemars(schema_with = "go_int")]
    pub version: i64,
}

#[cfg(test)]
mod tests {
    use kube::CustomResourceExt;
    use serde_json::json;

    use super::*;

    /// Serialises to YAML and back, and checks nothing was lost or added.
    fn assert_round_trips(hr: &HelmRelease) {
        let text = serde_saphyr::to_string(hr).unwrap();
        let back: HelmRelease = serde_saphyr::from_str(&text).unwrap();
        assert_eq!(back.metadata, hr.metadata);
        assert_eq!(back.spec, hr.spec);
        assert_eq!(back.status, hr.status);
    }

    #[test]
    fn deserialises_a_v2beta2_release_with_chart_template_and_applies_defaults() {
        let hr: HelmRelease = serde_saphyr::from_str(
            r#"
apiVersion: helm.toolkit.fluxcd.io/v2beta2
kind: HelmRelease
metadata:
  name: podinfo
  namespace: apps
spec:
  interval: 10m
  timeout: 5m
  chart:
    spec:
      chart: podinfo
      version: ">=6.0.0 <7.0.0"
      sourceRef:
        kind: HelmRepository
        name: podinfo
        namespace: flux-system
      interval: 1h
      reconcileStrategy: Revision
      ignoreMissingValuesFiles: true
      valuesFiles: [values.yaml, values-prod.yaml]
      verify:
        provider: notation
        secretRef:
          name: notation-config
  driftDetection:
    mode: warn
    ignore:
      - paths: [/spec/replicas]
        target:
          kind: Deployment
  install:
    remediation:
      retries: 3
  upgrade:
    cleanupOnFail: true
    crds: CreateReplace
    remediation:
      retries: 3
      remediateLastFailure: false
  test:
    enable: true
    filters:
      - name: smoke
        exclude: true
  rollback:
    recreate: true
  uninstall:
    deletionPropagation: foreground
  postRenderers:
    - kustomize:
        patches:
          - target:
              kind: Deployment
              labelSelector: app=podinfo
            patch: |
              - op: add
                path: /metadata/labels/env
                value: prod
  values:
    replicaCount: 2
  valuesFrom:
    - kind: Secret
      name: podinfo-secrets
"#,
        )
        .unwrap();

        let spec = &hr.spec;
        assert_eq!(spec.interval, "10m");
        let chart = &spec.chart.as_ref().unwrap().spec;
        assert_eq!(chart.version.as_deref(), Some(">=6.0.0 <7.0.0"));
        assert_eq!(chart.source_ref.kind, ChartSourceKind::HelmRepository);
        assert_eq!(chart.reconcile_strategy, Some(ReconcileStrategy::Revision));
        assert_eq!(chart.ignore_missing_values_files, Some(true));
        assert_eq!(
            chart.verify.as_ref().unwrap().provider,
            VerificationProvider::Notation
        );
        let drift = spec.drift_detection.as_ref().unwrap();
        assert_eq!(drift.mode, Some(DriftDetectionMode::Warn));
        assert_eq!(drift.ignore.as_ref().unwrap()[0].paths, ["/spec/replicas"]);
        let upgrade = spec.upgrade.as_ref().unwrap();
        assert_eq!(upgrade.crds, Some(CrdsPolicy::CreateReplace));
        assert_eq!(upgrade.remediation.as_ref().unwrap().retries, Some(3));
        let filters = spec.test.as_ref().unwrap().filters.as_ref().unwrap();
        assert_eq!(filters[0].name, "smoke");
        assert_eq!(filters[0].exclude, Some(true));
        assert_eq!(
            spec.uninstall.as_ref().unwrap().deletion_propagation,
            Some(DeletionPropagation::Foreground)
        );
        let patch = &spec.post_renderers.as_ref().unwrap()[0]
            .kustomize
            .as_ref()
            .unwrap()
            .patches
            .as_ref()
            .unwrap()[0];
        assert!(patch.patch.contains("/metadata/labels/env"));
        assert_eq!(
            spec.values_from.as_ref().unwrap()[0].kind,
            ValuesSourceKind::Secret
        );
        assert_round_trips(&hr);
    }

    #[test]
    fn deserialises_a_v2beta2_release_with_chart_ref() {
        let hr: HelmRelease = serde_saphyr::from_str(
            r#"
apiVersion: helm.toolkit.fluxcd.io/v2beta2
kind: HelmRelease
metadata:
  name: podinfo
  namespace: apps
spec:
  interval: 10m
  chartRef:
    kind: OCIRepository
    name: podinfo
    namespace: flux-system
  uninstall:
    keepHistory: true
"#,
        )
        .unwrap();
        assert!(hr.spec.chart.is_none());
        let chart_ref = hr.spec.chart_ref.as_ref().unwrap();
        assert_eq!(chart_ref.kind, ChartRefKind::OCIRepository);
        assert_eq!(chart_ref.namespace.as_deref(), Some("flux-system"));
        // The schema default of deletionPropagation.
        assert_eq!(
            hr.spec.uninstall.as_ref().unwrap().deletion_propagation,
            Some(DeletionPropagation::Background)
        );
        let out = serde_json::to_value(&hr).unwrap();
        assert_eq!(out["spec"]["chartRef"]["kind"], "OCIRepository");
        assert!(out["spec"].get("chart").is_none());
        assert_round_trips(&hr);
    }

    #[test]
    fn deserialises_a_v2beta2_status() {
        let status: HelmReleaseStatus = serde_saphyr::from_str(
            r#"
observedGeneration: 3
lastAttemptedGeneration: 3
lastAttemptedReleaseAction: install
lastAttemptedRevision: 6.5.0+0123456789ab
lastAttemptedRevisionDigest: sha256:0123456789abcdef
lastAttemptedConfigDigest: sha256:cfg
storageNamespace: podinfo
installFailures: 2
lastHandledReconcileAt: "2024-05-01T10:00:00Z"
conditions:
  - type: Released
    status: "False"
    reason: InstallFailed
    message: timed out
    lastTransitionTime: "2024-05-01T10:00:00Z"
    observedGeneration: 3
history:
  - apiVersion: v2beta2
    chartName: podinfo
    chartVersion: 6.5.0
    configDigest: sha256:cfg
    digest: sha256:rel
    firstDeployed: "2024-05-01T09:59:00Z"
    lastDeployed: "2024-05-01T09:59:00Z"
    name: podinfo
    namespace: podinfo
    ociDigest: sha256:0123456789abcdef
    status: failed
    version: 1
"#,
        )
        .unwrap();
        assert_eq!(
            status.last_attempted_release_action,
            Some(ReleaseAction::Install)
        );
        assert_eq!(status.install_failures, Some(2));
        assert_eq!(status.conditions()[0].observed_generation, Some(3));
        assert_eq!(status.history[0].status, "failed");
        assert_eq!(
            status.history[0].oci_digest.as_deref(),
            Some("sha256:0123456789abcdef")
        );
        let text = serde_saphyr::to_string(&status).unwrap();
        assert_eq!(
            serde_saphyr::from_str::<HelmReleaseStatus>(&text).unwrap(),
            status
        );
    }

    #[test]
    fn crd_version_is_deprecated_and_requires_exactly_one_chart_source() {
        let crd = serde_json::to_value(HelmRelease::crd()).unwrap();
        let version = &crd["spec"]["versions"][0];
        assert_eq!(version["name"], "v2beta2");
        assert_eq!(version["deprecated"], true);
        assert_eq!(
            version["deprecationWarning"],
            "v2beta2 HelmRelease is deprecated, upgrade to v2"
        );
        let spec = &version["schema"]["openAPIV3Schema"]["properties"]["spec"];
        assert_eq!(spec["required"], json!(["interval"]));
        assert_eq!(
            spec["x-kubernetes-validations"][0]["rule"],
            "(has(self.chart) && !has(self.chartRef)) || (!has(self.chart) && has(self.chartRef))"
        );
        let names = &crd["spec"]["names"];
        assert_eq!(names["shortNames"], json!(["hr"]));
        assert_eq!(
            names["categories"],
            json!(["all", "fluxcd", "fluxcd-appliers"])
        );
    }
}
