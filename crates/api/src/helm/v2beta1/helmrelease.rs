//! HelmRelease `v2beta1`. Where a struct's schema is the same as in `v2beta2`, that type is
//! reused; only the structs that differ are defined here.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::duration::DURATION_PATTERN;
use crate::helm::v2::go_int;
pub use crate::helm::v2beta2::{
    ChartRefKind, ChartSourceKind, CrdsPolicy, CrossNamespaceObjectReference,
    CrossNamespaceSourceReference, DeletionPropagation, DriftDetection, DriftDetectionMode,
    HelmChartTemplateObjectMeta, Install, InstallRemediation, Kustomize, PostRenderer,
    ReconcileStrategy, RemediationStrategy, Rollback, SecretKubeConfigReference, Snapshot,
    TestHookStatus, Uninstall, Upgrade, UpgradeRemediation, ValuesReference, ValuesSourceKind,
};
use crate::helm::v2beta2::{default_reconcile_strategy, default_version};
use crate::meta::{
    Condition, LocalObjectReference, NamespacedObjectReference, ObjectWithConditions,
    preserve_unknown_fields,
};

/// Desired state of a Helm release (deprecated `v2beta1` form).
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "helm.toolkit.fluxcd.io",
    version = "v2beta1",
    kind = "HelmRelease",
    plural = "helmreleases",
    shortname = "hr",
    category = "all",
    category = "fluxcd",
    category = "fluxcd-appliers",
    namespaced,
    status = "HelmReleaseStatus",
    deprecated = "v2beta1 HelmRelease is deprecated, upgrade to v2",
    printcolumn = r#"{"jsonPath":".metadata.creationTimestamp","name":"Age","type":"date"}"#,
    printcolumn = r#"{"jsonPath":".status.conditions[?(@.type==\"Ready\")].status","name":"Ready","type":"string"}"#,
    printcolumn = r#"{"jsonPath":".status.conditions[?(@.type==\"Ready\")].message","name":"Status","type":"string"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct HelmReleaseSpec {
    /// Template of the HelmChart the controller creates for this release.
    pub chart: HelmChartTemplate,
    /// An existing HelmChart or OCIRepository holding the chart.
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

/// Spec of the generated HelmChart (`v2beta1`: no bounds on `chart`, no
/// `ignoreMissingValuesFiles`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HelmChartTemplateSpec {
    /// Chart name (Helm repository) or path (Git repository, bucket) in the source.
    pub chart: String,
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

/// Signature verification of an OCI chart (`v2beta1`: cosign only).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
// Listed as required by Flux although it has a default, which the API server fills in.
#[schemars(extend("required" = ["provider"]))]
pub struct HelmChartTemplateVerification {
    #[serde(default)]
    pub provider: VerificationProvider,
    /// Secret holding the trusted public keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalObjectReference>,
}

/// Signing technology of an OCI chart.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum VerificationProvider {
    #[default]
    Cosign,
}

/// Options of the Helm test action (`v2beta1`: no filters).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Test {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable: Option<bool>,
    /// Do not remediate failed tests (overridable per action).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_failures: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = DURATION_PATTERN))]
    pub timeout: Option<String>,
}

/// Observed state of a HelmRelease (`v2beta1`).
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_applied_revision: Option<String>,
    /// Digest of the values of the last attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempted_config_digest: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempted_generation: Option<i64>,
    /// `install` or `upgrade` (not enforced by the schema in this version).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempted_release_action: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempted_revision: Option<String>,
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

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use kube::CustomResourceExt;
    use serde_json::{Value, json};

    use super::*;

    /// `FERROFLUX_SHARED`, else the `shared/` directory next to the workspace.
    fn shared_dir() -> PathBuf {
        std::env::var_os("FERROFLUX_SHARED")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"))
    }

    /// Serialises to YAML and back, and checks nothing was lost or added.
    fn assert_round_trips(hr: &HelmRelease) {
        let text = serde_saphyr::to_string(hr).unwrap();
        let back: HelmRelease = serde_saphyr::from_str(&text).unwrap();
        assert_eq!(back.metadata, hr.metadata);
        assert_eq!(back.spec, hr.spec);
        assert_eq!(back.status, hr.status);
    }

    #[test]
    fn deserialises_the_starboard_example_and_applies_defaults() {
        let path = shared_dir().join("examples/01-helm-starboard.yaml");
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let docs: Vec<Value> = serde_saphyr::from_multiple(&text).unwrap();
        let doc = docs
            .into_iter()
            .find(|d| d["kind"] == "HelmRelease")
            .expect("the example holds a HelmRelease");
        assert_eq!(doc["apiVersion"], "helm.toolkit.fluxcd.io/v2beta1");
        let hr: HelmRelease = serde_json::from_value(doc).unwrap();

        assert_eq!(hr.metadata.name.as_deref(), Some("starboard-operator"));
        assert_eq!(hr.metadata.namespace.as_deref(), Some("starboard-system"));
        assert_eq!(hr.spec.interval, "1m0s");
        let chart = &hr.spec.chart.spec;
        assert_eq!(chart.chart, "starboard-operator");
        assert_eq!(chart.version.as_deref(), Some("0.10.3"));
        assert_eq!(chart.source_ref.kind, ChartSourceKind::HelmRepository);
        assert_eq!(chart.source_ref.name, "starboard-operator");
        assert_eq!(chart.source_ref.namespace.as_deref(), Some("flux-system"));
        // Defaults the API server would fill in.
        assert_eq!(
            chart.reconcile_strategy,
            Some(ReconcileStrategy::ChartVersion)
        );
        assert!(hr.spec.chart_ref.is_none());
        assert!(hr.spec.values.is_none());
        assert!(hr.status.is_none());

        assert_round_trips(&hr);
    }

    #[test]
    fn deserialises_a_full_v2beta1_release_and_round_trips() {
        let hr: HelmRelease = serde_saphyr::from_str(
            r#"
apiVersion: helm.toolkit.fluxcd.io/v2beta1
kind: HelmRelease
metadata:
  name: podinfo
  namespace: apps
spec:
  interval: 5m
  releaseName: podinfo
  targetNamespace: podinfo
  serviceAccountName: helm
  maxHistory: 3
  chart:
    metadata:
      labels:
        team: web
    spec:
      chart: ./charts/podinfo
      sourceRef:
        kind: GitRepository
        name: podinfo
      valuesFile: values-base.yaml
      valuesFiles: [values-prod.yaml]
      verify:
        secretRef:
          name: cosign-pub
  dependsOn:
    - name: redis
      namespace: data
  install:
    crds: CreateReplace
    createNamespace: true
    remediation:
      retries: 3
  upgrade:
    disableOpenAPIValidation: true
    remediation:
      retries: -1
      remediateLastFailure: true
      strategy: uninstall
  test:
    enable: true
  uninstall:
    keepHistory: true
  kubeConfig:
    secretRef:
      name: remote
      key: value.yaml
  postRenderers:
    - kustomize:
        images:
          - name: ghcr.io/stefanprodan/podinfo
            newTag: 6.5.0
        patchesStrategicMerge:
          - apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: podinfo
            spec:
              replicas: 2
        patchesJson6902:
          - target:
              kind: Deployment
              name: podinfo
            patch:
              - op: add
                path: /metadata/annotations/x
                value: "y"
  values:
    replicaCount: 2
    ingress:
      enabled: true
  valuesFrom:
    - kind: ConfigMap
      name: podinfo-values
      valuesKey: prod.yaml
    - kind: Secret
      name: podinfo-token
      targetPath: auth.token
      optional: true
"#,
        )
        .unwrap();

        let spec = &hr.spec;
        assert_eq!(spec.max_history, Some(3));
        assert_eq!(
            spec.chart
                .metadata
                .as_ref()
                .unwrap()
                .labels
                .as_ref()
                .unwrap()["team"],
            "web"
        );
        let chart = &spec.chart.spec;
        assert_eq!(chart.values_file.as_deref(), Some("values-base.yaml"));
        assert_eq!(chart.version.as_deref(), Some("*"));
        let verify = chart.verify.as_ref().unwrap();
        assert_eq!(verify.provider, VerificationProvider::Cosign);
        assert_eq!(verify.secret_ref.as_ref().unwrap().name, "cosign-pub");
        assert_eq!(
            spec.depends_on.as_ref().unwrap()[0].namespace.as_deref(),
            Some("data")
        );
        let install = spec.install.as_ref().unwrap();
        assert_eq!(install.remediation.as_ref().unwrap().retries, Some(3));
        let upgrade = spec.upgrade.as_ref().unwrap();
        assert_eq!(upgrade.disable_openapi_validation, Some(true));
        let remediation = upgrade.remediation.as_ref().unwrap();
        assert_eq!(remediation.retries, Some(-1));
        assert_eq!(remediation.strategy, Some(RemediationStrategy::Uninstall));
        assert_eq!(
            spec.uninstall.as_ref().unwrap().deletion_propagation,
            Some(DeletionPropagation::Background)
        );
        assert_eq!(
            spec.kube_config.as_ref().unwrap().secret_ref.key.as_deref(),
            Some("value.yaml")
        );
        let kustomize = spec.post_renderers.as_ref().unwrap()[0]
            .kustomize
            .as_ref()
            .unwrap();
        assert_eq!(
            kustomize.patches_strategic_merge.as_ref().unwrap()[0]["spec"]["replicas"],
            json!(2)
        );
        let json6902 = &kustomize.patches_json6902.as_ref().unwrap()[0];
        assert_eq!(json6902.target.kind.as_deref(), Some("Deployment"));
        assert_eq!(json6902.patch[0].value, Some(json!("y")));
        assert_eq!(
            spec.values.as_ref().unwrap(),
            &json!({"replicaCount": 2, "ingress": {"enabled": true}})
        );
        let values_from = spec.values_from.as_ref().unwrap();
        assert_eq!(values_from[1].target_path.as_deref(), Some("auth.token"));

        let out = serde_json::to_value(&hr).unwrap();
        assert_eq!(out["spec"]["upgrade"]["disableOpenAPIValidation"], true);
        assert_eq!(
            out["spec"]["postRenderers"][0]["kustomize"]["patchesJson6902"][0]["patch"][0]["op"],
            "add"
        );
        assert_round_trips(&hr);
    }

    #[test]
    fn deserialises_a_v2beta1_status_with_history() {
        let status: HelmReleaseStatus = serde_saphyr::from_str(
            r#"
observedGeneration: 2
lastAttemptedRevision: 6.5.0
lastAttemptedReleaseAction: upgrade
lastReleaseRevision: 4
helmChart: apps/apps-podinfo
upgradeFailures: 1
conditions:
  - type: Ready
    status: "True"
    reason: UpgradeSucceeded
    message: Helm upgrade succeeded
    lastTransitionTime: "2024-05-01T10:00:00Z"
history:
  - chartName: podinfo
    chartVersion: 6.5.0
    configDigest: sha256:abc
    digest: sha256:def
    firstDeployed: "2024-04-01T10:00:00Z"
    lastDeployed: "2024-05-01T10:00:00Z"
    name: podinfo
    namespace: podinfo
    status: deployed
    version: 4
    testHooks:
      podinfo-test:
        phase: Succeeded
"#,
        )
        .unwrap();
        assert_eq!(status.last_release_revision, Some(4));
        assert_eq!(
            status.last_attempted_release_action.as_deref(),
            Some("upgrade")
        );
        assert_eq!(status.conditions()[0].reason, "UpgradeSucceeded");
        assert_eq!(status.history[0].version, 4);
        assert_eq!(
            status.history[0].test_hooks.as_ref().unwrap()["podinfo-test"]
                .phase
                .as_deref(),
            Some("Succeeded")
        );
        let text = serde_saphyr::to_string(&status).unwrap();
        assert_eq!(
            serde_saphyr::from_str::<HelmReleaseStatus>(&text).unwrap(),
            status
        );
    }

    #[test]
    fn crd_version_is_deprecated_and_requires_chart_and_verify_provider() {
        let crd = serde_json::to_value(HelmRelease::crd()).unwrap();
        let version = &crd["spec"]["versions"][0];
        assert_eq!(version["name"], "v2beta1");
        assert_eq!(version["deprecated"], true);
        assert_eq!(
            version["deprecationWarning"],
            "v2beta1 HelmRelease is deprecated, upgrade to v2"
        );
        let spec = &version["schema"]["openAPIV3Schema"]["properties"]["spec"];
        assert_eq!(spec["required"], json!(["chart", "interval"]));
        let verify = &spec["properties"]["chart"]["properties"]["spec"]["properties"]["verify"];
        assert_eq!(verify["required"], json!(["provider"]));
        assert_eq!(verify["properties"]["provider"]["default"], "cosign");
    }
}
