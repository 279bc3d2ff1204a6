//! The HelmRelease kind: its spec and the spec's own leaf types (values, post-renderers,
//! drift detection, waiting). Chart sources live in `chart.rs`, Helm action settings in
//! `actions.rs`, the status in `status.rs`.

use std::collections::BTreeMap;

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::actions::{Install, Rollback, Test, Uninstall, Upgrade, go_int};
use super::chart::{CrossNamespaceSourceReference, HelmChartTemplate};
use super::status::HelmReleaseStatus;
use crate::duration::DURATION_PATTERN;
use crate::meta::{
    CustomHealthCheck, DependencyReference, IgnoreRule, KubeConfigReference, KustomizeImage,
    KustomizePatch, preserve_unknown_fields,
};

/// Desired state of a Helm release: which chart, which values, and how to install, upgrade,
/// test, roll back and uninstall it.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "helm.toolkit.fluxcd.io",
    version = "v2",
    kind = "HelmRelease",
    plural = "helmreleases",
    shortname = "hr",
    category = "all",
    category = "fluxcd",
    category = "fluxcd-appliers",
    namespaced,
    status = "HelmReleaseStatus",
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
    /// Template of a HelmChart to create; exclusive with `chartRef`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chart: Option<HelmChartTemplate>,
    /// An existing chart artifact (OCIRepository, HelmChart, ExternalArtifact); exclusive with
    /// `chart`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chart_ref: Option<CrossNamespaceSourceReference>,
    /// Labels and annotations added to every rendered object, overriding the chart's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub common_metadata: Option<CommonMetadata>,
    /// HelmReleases that must be ready before this one is reconciled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depends_on: Option<Vec<DependencyReference>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drift_detection: Option<DriftDetection>,
    /// CEL health checks for custom resources, used by the `poller` wait strategy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check_exprs: Option<Vec<CustomHealthCheck>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub install: Option<Install>,
    #[schemars(regex(pattern = DURATION_PATTERN))]
    pub interval: String,
    /// Kubeconfig of a remote cluster to release into.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-validations" = [
        {
            "message": "exactly one of spec.kubeConfig.configMapRef or spec.kubeConfig.secretRef must be specified",
            "rule": "has(self.configMapRef) || has(self.secretRef)"
        },
        {
            "message": "exactly one of spec.kubeConfig.configMapRef or spec.kubeConfig.secretRef must be specified",
            "rule": "!has(self.configMapRef) || !has(self.secretRef)"
        }
    ]))]
    pub kube_config: Option<KubeConfigReference>,
    /// Release revisions Helm keeps; 0 is unlimited. Defaults to 5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "go_int")]
    pub max_history: Option<i64>,
    /// Reuse one Kubernetes client for a whole reconciliation. Defaults to true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persistent_client: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_render_strategy: Option<PostRenderStrategy>,
    /// Applied in order to the rendered manifests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_renderers: Option<Vec<PostRenderer>>,
    /// Defaults to `[<targetNamespace>-]<name>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 53))]
    pub release_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback: Option<Rollback>,
    /// Service account to impersonate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253))]
    pub service_account_name: Option<String>,
    /// Namespace of the Helm storage; defaults to the HelmRelease's namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 63))]
    pub storage_namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend: Option<bool>,
    /// Namespace to release into; defaults to the HelmRelease's namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 63))]
    pub target_namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test: Option<Test>,
    /// Default per-operation timeout of every Helm action. Defaults to 5m.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = DURATION_PATTERN))]
    pub timeout: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uninstall: Option<Uninstall>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upgrade: Option<Upgrade>,
    /// Inline chart values, merged over `valuesFrom`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "preserve_unknown_fields")]
    pub values: Option<serde_json::Value>,
    /// ConfigMaps and Secrets holding values, merged in order before `values`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values_from: Option<Vec<ValuesReference>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_strategy: Option<WaitStrategy>,
}

/// Labels and annotations applied to every object of the release.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CommonMetadata {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
}

/// Kind of object a values reference points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum ValuesSourceKind {
    Secret,
    ConfigMap,
}

impl ValuesSourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Secret => "Secret",
            Self::ConfigMap => "ConfigMap",
        }
    }
}

/// Helm values read from a key of a ConfigMap or Secret in the HelmRelease's namespace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ValuesReference {
    pub kind: ValuesSourceKind,
    /// With `targetPath`: set the value verbatim, like `helm --set-literal`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub literal: Option<bool>,
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Ignore a missing object or key (other errors still fail).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optional: Option<bool>,
    /// Dot-notation path (as in `helm --set`) to put a single value at; unset merges the
    /// key's YAML at the root.
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

impl ValuesReference {
    /// The data key to read: `valuesKey`, or `values.yaml` when unset or empty.
    pub fn values_key(&self) -> &str {
        match self.values_key.as_deref() {
            Some(k) if !k.is_empty() => k,
            _ => DEFAULT_VALUES_KEY,
        }
    }
}

/// The data key `valuesFrom` reads when `valuesKey` is not set.
pub const DEFAULT_VALUES_KEY: &str = "values.yaml";

/// Which hooks are passed to post-renderers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PostRenderStrategy {
    /// Hooks bypass post-renderers (Helm 3 behaviour).
    Nohooks,
    /// Hooks and templates go through post-renderers together (the default).
    Combined,
    /// Hooks and templates go through post-renderers as separate streams.
    Separate,
}

/// One post-renderer applied to the rendered manifests.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PostRenderer {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kustomize: Option<KustomizePostRenderer>,
}

/// Kustomize patches and image overrides applied as a post-renderer (Flux's `Kustomize`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct KustomizePostRenderer {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub images: Option<Vec<KustomizeImage>>,
    /// Strategic-merge or JSON6902 patches with optional targets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patches: Option<Vec<KustomizePatch>>,
}

/// How differences between the release manifest and the cluster are handled.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DriftDetectionMode {
    /// Detect and correct drift.
    Enabled,
    /// Detect and report drift, without correcting it.
    Warn,
    /// The default.
    #[default]
    Disabled,
}

/// Drift detection and correction (`spec.driftDetection`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DriftDetection {
    /// Changes to leave out of the comparison.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore: Option<Vec<IgnoreRule>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<DriftDetectionMode>,
}

/// Helm's way of waiting for resources to become ready.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum WaitStrategyName {
    /// kstatus polling (the default).
    Poller,
    /// Helm 3's readiness logic.
    Legacy,
}

/// `spec.waitStrategy`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct WaitStrategy {
    pub name: WaitStrategyName,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::helm::v2::{
        ChartSourceKind, CrdsPolicy, DeletionPropagation, ReconcileStrategy, RemediationStrategy,
        ServerSideApplyMode, StrategyName, VerificationProvider,
    };

    const CHART_TEMPLATE: &str = r#"
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: podinfo
  namespace: apps
spec:
  interval: 10m
  timeout: 3m
  releaseName: podinfo
  targetNamespace: web
  storageNamespace: apps
  maxHistory: 3
  chart:
    metadata:
      labels:
        team: web
    spec:
      chart: podinfo
      version: ">=6.0.0 <7.0.0"
      sourceRef:
        kind: HelmRepository
        name: podinfo
        namespace: flux-system
      interval: 1h
      valuesFiles:
        - values.yaml
        - values-prod.yaml
      verify:
        secretRef:
          name: cosign-pub
  dependsOn:
    - name: redis
      namespace: data
  install:
    crds: CreateReplace
    createNamespace: true
    disableOpenAPIValidation: true
    skipCRDs: false
    remediation:
      retries: 3
    strategy:
      name: RetryOnFailure
      retryInterval: 2m
  upgrade:
    cleanupOnFail: true
    serverSideApply: auto
    remediation:
      retries: -1
      remediateLastFailure: false
      strategy: uninstall
  test:
    enable: true
    filters:
      - name: smoke
        exclude: true
  rollback:
    timeout: 2m
  uninstall:
    keepHistory: true
  driftDetection:
    mode: warn
    ignore:
      - paths: ["/spec/replicas"]
        target:
          kind: Deployment
  postRenderers:
    - kustomize:
        patches:
          - target:
              kind: Deployment
              name: podinfo
            patch: |
              - op: add
                path: /metadata/annotations/x
                value: y
        images:
          - name: ghcr.io/stefanprodan/podinfo
            newTag: 6.5.0
  values:
    replicaCount: 2
    ingress:
      enabled: true
      hosts: [{host: podinfo.example.com, paths: ["/"]}]
  valuesFrom:
    - kind: ConfigMap
      name: podinfo-values
    - kind: Secret
      name: podinfo-secret
      valuesKey: token
      targetPath: auth.token
      optional: true
"#;

    #[test]
    fn chart_template_release_deserialises_with_flux_defaults() {
        let hr: HelmRelease = serde_saphyr::from_str(CHART_TEMPLATE).unwrap();
        let spec = &hr.spec;
        assert_eq!(spec.interval, "10m");
        assert_eq!(spec.max_history, Some(3));
        let chart = spec.chart.as_ref().unwrap();
        assert_eq!(
            chart.metadata.as_ref().unwrap().labels.as_ref().unwrap()["team"],
            "web"
        );
        assert_eq!(chart.spec.source_ref.kind, ChartSourceKind::HelmRepository);
        assert_eq!(
            chart.spec.source_ref.namespace.as_deref(),
            Some("flux-system")
        );
        assert_eq!(chart.spec.version.as_deref(), Some(">=6.0.0 <7.0.0"));
        // Defaults the API server would also apply.
        assert_eq!(
            chart.spec.reconcile_strategy,
            Some(ReconcileStrategy::ChartVersion)
        );
        assert_eq!(
            chart.spec.verify.as_ref().unwrap().provider,
            VerificationProvider::Cosign
        );
        assert_eq!(
            spec.uninstall.as_ref().unwrap().deletion_propagation,
            Some(DeletionPropagation::Background)
        );
        assert!(spec.chart_ref.is_none());

        let install = spec.install.as_ref().unwrap();
        assert_eq!(install.crds, Some(CrdsPolicy::CreateReplace));
        assert_eq!(install.disable_openapi_validation, Some(true));
        assert_eq!(install.skip_crds, Some(false));
        assert_eq!(install.remediation.as_ref().unwrap().retries, Some(3));
        let strategy = install.strategy.as_ref().unwrap();
        assert_eq!(strategy.name, StrategyName::RetryOnFailure);

        let upgrade = spec.upgrade.as_ref().unwrap();
        assert_eq!(upgrade.server_side_apply, Some(ServerSideApplyMode::Auto));
        let remediation = upgrade.remediation.as_ref().unwrap();
        assert_eq!(remediation.retries, Some(-1));
        assert_eq!(remediation.strategy, Some(RemediationStrategy::Uninstall));

        let test = spec.test.as_ref().unwrap();
        assert_eq!(test.filters.as_ref().unwrap()[0].exclude, Some(true));

        let drift = spec.drift_detection.as_ref().unwrap();
        assert_eq!(drift.mode, Some(DriftDetectionMode::Warn));
        assert_eq!(drift.ignore.as_ref().unwrap()[0].paths, ["/spec/replicas"]);

        let kustomize = spec.post_renderers.as_ref().unwrap()[0]
            .kustomize
            .as_ref()
            .unwrap();
        assert!(
            kustomize.patches.as_ref().unwrap()[0]
                .patch
                .contains("op: add")
        );
        assert_eq!(
            kustomize.images.as_ref().unwrap()[0].new_tag.as_deref(),
            Some("6.5.0")
        );

        let from = spec.values_from.as_ref().unwrap();
        assert_eq!(from[0].kind, ValuesSourceKind::ConfigMap);
        assert_eq!(from[0].values_key(), DEFAULT_VALUES_KEY);
        assert_eq!(from[1].kind, ValuesSourceKind::Secret);
        assert_eq!(from[1].values_key(), "token");
        assert_eq!(from[1].target_path.as_deref(), Some("auth.token"));
        assert_eq!(from[1].optional, Some(true));

        assert_eq!(
            spec.depends_on.as_ref().unwrap()[0].namespace.as_deref(),
            Some("data")
        );
    }

    #[test]
    fn values_keep_arbitrary_structure_and_round_trip() {
        let hr: HelmRelease = serde_saphyr::from_str(CHART_TEMPLATE).unwrap();
        let values = hr.spec.values.as_ref().unwrap();
        assert_eq!(values["replicaCount"], 2);
        assert_eq!(values["ingress"]["hosts"][0]["host"], "podinfo.example.com");

        let json = serde_json::to_value(&hr).unwrap();
        assert_eq!(json["spec"]["install"]["disableOpenAPIValidation"], true);
        assert_eq!(json["spec"]["install"]["skipCRDs"], false);
        assert!(json["spec"].get("chartRef").is_none());
        let back: HelmRelease = serde_json::from_value(json).unwrap();
        assert_eq!(back.spec, hr.spec);
        assert_eq!(back.status, hr.status);
        assert_eq!(back.metadata, hr.metadata);
    }

    #[test]
    fn chart_ref_release_deserialises_without_chart_template() {
        let hr: HelmRelease = serde_saphyr::from_str(
            r#"
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: podinfo
spec:
  interval: 5m
  chartRef:
    kind: OCIRepository
    name: podinfo
  kubeConfig:
    secretRef:
      name: remote
      key: value.yaml
  commonMetadata:
    labels:
      app.kubernetes.io/part-of: demo
  postRenderStrategy: separate
  waitStrategy:
    name: poller
  healthCheckExprs:
    - apiVersion: example.com/v1
      kind: Widget
      current: status.ready == true
"#,
        )
        .unwrap();
        let r = hr.spec.chart_ref.as_ref().unwrap();
        assert_eq!(r.kind, super::super::ChartRefKind::OCIRepository);
        assert!(r.namespace.is_none());
        assert!(hr.spec.chart.is_none());
        assert_eq!(
            hr.spec
                .kube_config
                .as_ref()
                .unwrap()
                .secret_ref
                .as_ref()
                .unwrap()
                .key
                .as_deref(),
            Some("value.yaml")
        );
        assert_eq!(
            hr.spec.post_render_strategy,
            Some(PostRenderStrategy::Separate)
        );
        assert_eq!(
            hr.spec.wait_strategy.as_ref().unwrap().name,
            WaitStrategyName::Poller
        );
        assert_eq!(
            hr.spec.health_check_exprs.as_ref().unwrap()[0].current,
            "status.ready == true"
        );
        assert!(hr.status.is_none());
        let json = serde_json::to_value(&hr.spec).unwrap();
        // Unset optional fields stay off the wire.
        assert!(json.get("values").is_none());
        assert!(json.get("install").is_none());
    }

    #[test]
    fn crd_requires_exactly_one_of_chart_and_chart_ref() {
        use kube::CustomResourceExt;
        let crd = serde_json::to_value(HelmRelease::crd()).unwrap();
        let spec = &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"];
        assert_eq!(
            spec["x-kubernetes-validations"][0]["rule"],
            "(has(self.chart) && !has(self.chartRef)) || (!has(self.chart) && has(self.chartRef))"
        );
        assert_eq!(
            spec["properties"]["values"]["x-kubernetes-preserve-unknown-fields"],
            true
        );
        assert_eq!(spec["required"], serde_json::json!(["interval"]));
    }
}
