use std::collections::BTreeMap;
use std::time::Duration;

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::meta::{
    Condition, CustomHealthCheck, DependencyReference, HistoryEntry, IgnoreRule,
    KubeConfigReference, KustomizeImage, KustomizePatch, LocalObjectReference, ResourceInventory,
};

/// Label set on every applied object: the name of the Kustomization that owns it.
pub const NAME_LABEL: &str = "kustomize.toolkit.fluxcd.io/name";
/// Label set on every applied object: the namespace of the Kustomization that owns it.
pub const NAMESPACE_LABEL: &str = "kustomize.toolkit.fluxcd.io/namespace";
/// Per-object server-side apply policy: [`SSA_MERGE`], [`SSA_IF_NOT_PRESENT`] or [`SSA_IGNORE`].
pub const SSA_ANNOTATION: &str = "kustomize.toolkit.fluxcd.io/ssa";
/// Per-object opt-out of garbage collection ([`DISABLED_VALUE`]).
pub const PRUNE_ANNOTATION: &str = "kustomize.toolkit.fluxcd.io/prune";
/// Per-object opt-in to recreate on immutable-field conflicts ([`ENABLED_VALUE`]).
pub const FORCE_ANNOTATION: &str = "kustomize.toolkit.fluxcd.io/force";
/// Per-object opt-out of post-build variable substitution ([`DISABLED_VALUE`]).
pub const SUBSTITUTE_ANNOTATION: &str = "kustomize.toolkit.fluxcd.io/substitute";
/// Per-object opt-out of reconciliation after creation ([`DISABLED_VALUE`]).
pub const RECONCILE_ANNOTATION: &str = "kustomize.toolkit.fluxcd.io/reconcile";

/// Value of the annotations above that turns a behaviour on.
pub const ENABLED_VALUE: &str = "enabled";
/// Value of the annotations above that turns a behaviour off.
pub const DISABLED_VALUE: &str = "disabled";
/// [`SSA_ANNOTATION`] value: apply, but keep fields other managers set.
pub const SSA_MERGE: &str = "Merge";
/// [`SSA_ANNOTATION`] value: create the object if missing, never update it.
pub const SSA_IF_NOT_PRESENT: &str = "IfNotPresent";
/// [`SSA_ANNOTATION`] value: never apply the object.
pub const SSA_IGNORE: &str = "Ignore";

/// Finalizer the controller puts on Kustomizations to garbage-collect on deletion.
pub const FINALIZER: &str = "finalizers.fluxcd.io";

/// Floor Flux puts on the effective timeout.
const MIN_TIMEOUT: Duration = Duration::from_secs(30);

/// Desired state of a Kustomization: which source artifact path to build with kustomize and how
/// to apply, prune and health-check the result.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "kustomize.toolkit.fluxcd.io",
    version = "v1",
    kind = "Kustomization",
    plural = "kustomizations",
    shortname = "ks",
    category = "all",
    category = "fluxcd",
    category = "fluxcd-appliers",
    namespaced,
    status = "KustomizationStatus",
    printcolumn = r#"{"jsonPath":".metadata.creationTimestamp","name":"Age","type":"date"}"#,
    printcolumn = r#"{"jsonPath":".status.conditions[?(@.type==\"Ready\")].status","name":"Ready","type":"string"}"#,
    printcolumn = r#"{"jsonPath":".status.conditions[?(@.type==\"Ready\")].message","name":"Status","type":"string"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct KustomizationSpec {
    /// Kustomize build metadata to add to the built objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_metadata: Option<Vec<BuildMetadata>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub common_metadata: Option<CommonMetadata>,
    /// Paths of kustomize Components, relative to `path`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub components: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decryption: Option<Decryption>,
    /// What happens to the applied objects when the Kustomization is deleted; see
    /// [`Kustomization::deletion_policy`] for the default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_policy: Option<DeletionPolicy>,
    /// Kustomizations that must be ready before this one is reconciled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depends_on: Option<Vec<DependencyReference>>,
    /// Recreate objects whose patch fails on an immutable field.
    #[serde(default)]
    pub force: bool,
    /// CEL health checks for custom kinds, used when `wait` or `healthChecks` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check_exprs: Option<Vec<CustomHealthCheck>>,
    /// Objects whose health gates readiness (ignored when `wait` is true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_checks: Option<Vec<NamespacedObjectKindReference>>,
    /// Drift-detection ignore rules: JSON pointers left out of diffing and applying.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore: Option<Vec<IgnoreRule>>,
    /// Drop `components` entries that do not exist in the source instead of failing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_missing_components: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub images: Option<Vec<KustomizeImage>>,
    #[schemars(regex(pattern = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"))]
    pub interval: String,
    /// Kubeconfig of a remote cluster to apply to; exactly one of its references must be set.
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 200))]
    pub name_prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 200))]
    pub name_suffix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patches: Option<Vec<KustomizePatch>>,
    /// Directory in the artifact to build; the artifact root when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_build: Option<PostBuild>,
    /// Garbage-collect objects that were applied before but are gone from the build.
    pub prune: bool,
    /// Requeue delay after a failed reconciliation; `interval` when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"))]
    pub retry_interval: Option<String>,
    /// Service account to impersonate when applying.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_name: Option<String>,
    pub source_ref: CrossNamespaceSourceReference,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend: Option<bool>,
    /// Namespace set on every namespaced object of the build.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 63))]
    pub target_namespace: Option<String>,
    /// Timeout of apply and health checks; see [`Kustomization::timeout`] for the default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"))]
    pub timeout: Option<String>,
    /// Wait for every applied object to become healthy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait: Option<bool>,
}

/// Kustomize build metadata that can be recorded on built objects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum BuildMetadata {
    /// Annotate objects with the file they came from.
    OriginAnnotations,
    /// Annotate objects with the transformers that changed them.
    TransformerAnnotations,
}

/// Labels and annotations added to every applied object, overriding same-key values.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CommonMetadata {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
}

/// How Secrets in the build are decrypted before applying.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Decryption {
    pub provider: DecryptionProvider,
    /// Secret with decryption keys (and cloud KMS credentials, which win over
    /// `serviceAccountName`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalObjectReference>,
    /// Service account whose identity authenticates to cloud KMS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_name: Option<String>,
}

/// Decryption engines.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DecryptionProvider {
    #[default]
    Sops,
}

/// Garbage collection on deletion of the Kustomization.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum DeletionPolicy {
    /// Delete the objects if `prune` is true, orphan them otherwise.
    #[default]
    MirrorPrune,
    /// Delete the objects.
    Delete,
    /// Delete the objects and wait until they are gone.
    WaitForTermination,
    /// Leave the objects in the cluster.
    Orphan,
}

/// An object of any kind, optionally in another namespace (`spec.healthChecks[]`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NamespacedObjectKindReference {
    /// The server's preferred version when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    pub kind: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// Steps run on the built YAML before applying it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PostBuild {
    /// Variables for `${var}` substitution (bash-style defaults and slicing supported).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub substitute: Option<BTreeMap<String, String>>,
    /// ConfigMaps and Secrets whose data keys are further substitution variables.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub substitute_from: Option<Vec<SubstituteReference>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub substitute_strategy: Option<SubstituteStrategy>,
}

/// When variable substitution runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum SubstituteStrategy {
    /// Only when at least one variable is defined (Flux's default).
    #[default]
    WithVariables,
    /// Even with no variables defined.
    Always,
}

/// A ConfigMap or Secret in the Kustomization's namespace holding substitution variables.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SubstituteReference {
    pub kind: SubstituteKind,
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Treat a missing object as empty instead of failing.
    #[serde(default)]
    pub optional: bool,
}

/// Kinds that can hold substitution variables.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum SubstituteKind {
    #[default]
    Secret,
    ConfigMap,
}

/// The source whose artifact is built, optionally in another namespace.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CrossNamespaceSourceReference {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    pub kind: SourceKind,
    pub name: String,
    /// Defaults to the Kustomization's namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// Kinds a Kustomization can take its artifact from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum SourceKind {
    #[serde(rename = "OCIRepository")]
    OciRepository,
    #[default]
    GitRepository,
    Bucket,
    ExternalArtifact,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OciRepository => "OCIRepository",
            Self::GitRepository => "GitRepository",
            Self::Bucket => "Bucket",
            Self::ExternalArtifact => "ExternalArtifact",
        }
    }
}

/// Observed state of a Kustomization.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("default" = {"observedGeneration": -1}))]
pub struct KustomizationStatus {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// Snapshots of the most recent reconciliations, newest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<HistoryEntry>,
    /// Objects applied by the last successful reconciliation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inventory: Option<ResourceInventory>,
    /// Origin revision (e.g. the OCI `org.opencontainers.image.revision`) of the last applied
    /// artifact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_applied_origin_revision: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_applied_revision: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempted_revision: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_handled_reconcile_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}

impl Kustomization {
    /// `spec.interval`: how often the Kustomization is reconciled.
    pub fn interval(&self) -> crate::Result<Duration> {
        crate::duration::parse(&self.spec.interval)
    }

    /// `spec.retryInterval`, or `spec.interval` when unset: the requeue delay after a failure.
    pub fn retry_interval(&self) -> crate::Result<Duration> {
        match &self.spec.retry_interval {
            Some(r) => crate::duration::parse(r),
            None => self.interval(),
        }
    }

    /// The effective timeout, as Flux computes it: `spec.timeout`, or `spec.interval` minus 30s
    /// when unset, and never less than 30s.
    pub fn timeout(&self) -> crate::Result<Duration> {
        let timeout = match &self.spec.timeout {
            Some(t) => crate::duration::parse(t)?,
            None => self.interval()?.saturating_sub(MIN_TIMEOUT),
        };
        Ok(timeout.max(MIN_TIMEOUT))
    }

    /// `spec.deletionPolicy`, defaulting to [`DeletionPolicy::MirrorPrune`].
    pub fn deletion_policy(&self) -> DeletionPolicy {
        self.spec.deletion_policy.unwrap_or_default()
    }

    /// Whether `spec.suspend` is true.
    pub fn suspended(&self) -> bool {
        self.spec.suspend.unwrap_or(false)
    }
}

impl crate::meta::ObjectWithConditions for Kustomization {
    fn conditions(&self) -> &[Condition] {
        self.status
            .as_ref()
            .map(|s| s.conditions.as_slice())
            .unwrap_or(&[])
    }

    fn conditions_mut(&mut self) -> &mut Vec<Condition> {
        &mut self.status.get_or_insert_with(Default::default).conditions
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::{KustomizeSelector, ResourceRef};

    const FULL: &str = r#"
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: apps
  namespace: flux-system
spec:
  interval: 10m
  retryInterval: 2m
  timeout: 5m
  path: ./apps/production
  prune: true
  wait: true
  deletionPolicy: WaitForTermination
  sourceRef:
    kind: OCIRepository
    name: apps
    namespace: flux-system
  targetNamespace: production
  namePrefix: prod-
  serviceAccountName: flux-applier
  dependsOn:
    - name: infra-controllers
      readyExpr: "dep.status.conditions.all(c, c.type == 'Ready' && c.status == 'True')"
    - name: infra-configs
      namespace: flux-system
  decryption:
    provider: sops
    secretRef:
      name: sops-age
  commonMetadata:
    labels:
      team: platform
  buildMetadata: [originAnnotations]
  components: [../components/monitoring]
  ignoreMissingComponents: true
  images:
    - name: ghcr.io/stefanprodan/podinfo
      newTag: 6.7.0
  patches:
    - patch: |
        - op: replace
          path: /spec/replicas
          value: 3
      target:
        kind: Deployment
        labelSelector: app=podinfo
  ignore:
    - paths: ["/spec/replicas"]
      target:
        kind: Deployment
  healthChecks:
    - apiVersion: apps/v1
      kind: Deployment
      name: podinfo
      namespace: production
  healthCheckExprs:
    - apiVersion: example.com/v1
      kind: Widget
      current: status.phase == 'Ready'
  kubeConfig:
    secretRef:
      name: prod-kubeconfig
      key: value
  postBuild:
    substitute:
      cluster_env: production
    substituteFrom:
      - kind: ConfigMap
        name: cluster-vars
      - kind: Secret
        name: cluster-secrets
        optional: true
    substituteStrategy: Always
status:
  observedGeneration: 3
  lastAppliedRevision: latest@sha256:abc
  lastAttemptedRevision: latest@sha256:abc
  inventory:
    entries:
      - id: production_podinfo_apps_Deployment
        v: v1
  history:
    - digest: sha256:0123
      firstReconciled: "2024-05-01T10:00:00Z"
      lastReconciled: "2024-05-01T10:10:00Z"
      lastReconciledDuration: 2.5s
      lastReconciledStatus: ReconciliationSucceeded
      totalReconciliations: 2
  conditions:
    - type: Ready
      status: "True"
      reason: ReconciliationSucceeded
      message: "Applied revision: latest@sha256:abc"
      lastTransitionTime: "2024-05-01T10:10:00Z"
"#;

    #[test]
    fn deserialises_a_full_flux_v1_manifest_and_round_trips() {
        let ks: Kustomization = serde_saphyr::from_str(FULL).unwrap();
        let spec = &ks.spec;
        assert_eq!(spec.interval, "10m");
        assert!(spec.prune);
        assert!(!spec.force, "force defaults to false");
        assert_eq!(spec.source_ref.kind, SourceKind::OciRepository);
        assert_eq!(
            spec.deletion_policy,
            Some(DeletionPolicy::WaitForTermination)
        );
        let deps = spec.depends_on.as_ref().unwrap();
        assert!(deps[0].ready_expr.is_some());
        assert_eq!(deps[1].namespace.as_deref(), Some("flux-system"));
        assert_eq!(
            spec.decryption.as_ref().unwrap().provider,
            DecryptionProvider::Sops
        );
        assert_eq!(
            spec.build_metadata,
            Some(vec![BuildMetadata::OriginAnnotations])
        );
        assert_eq!(
            spec.patches.as_ref().unwrap()[0].target,
            Some(KustomizeSelector {
                kind: Some("Deployment".into()),
                label_selector: Some("app=podinfo".into()),
                ..Default::default()
            })
        );
        assert_eq!(spec.ignore.as_ref().unwrap()[0].paths, ["/spec/replicas"]);
        let post = spec.post_build.as_ref().unwrap();
        let from = post.substitute_from.as_ref().unwrap();
        assert_eq!(from[0].kind, SubstituteKind::ConfigMap);
        assert!(!from[0].optional, "optional defaults to false");
        assert!(from[1].optional);
        assert_eq!(post.substitute_strategy, Some(SubstituteStrategy::Always));

        let status = ks.status.as_ref().unwrap();
        assert_eq!(status.observed_generation, Some(3));
        assert_eq!(
            status.inventory.as_ref().unwrap().entries,
            [ResourceRef {
                id: "production_podinfo_apps_Deployment".into(),
                v: "v1".into()
            }]
        );
        assert_eq!(status.history[0].total_reconciliations, 2);
        assert_eq!(status.conditions[0].type_, "Ready");

        let json = serde_json::to_value(&ks).unwrap();
        let back: Kustomization = serde_json::from_value(json).unwrap();
        assert_eq!(back.metadata, ks.metadata);
        assert_eq!(back.spec, ks.spec);
        assert_eq!(back.status, ks.status);
    }

    fn minimal(extra: &str) -> Kustomization {
        let yaml = format!(
            "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n\
             metadata: {{name: app, namespace: default}}\n\
             spec:\n  interval: 5m\n  prune: false\n  sourceRef: {{kind: GitRepository, name: repo}}\n{extra}"
        );
        serde_saphyr::from_str(&yaml).unwrap()
    }

    #[test]
    fn minimal_manifest_leaves_optional_fields_unset() {
        let ks = minimal("");
        assert_eq!(ks.spec.path, None);
        assert_eq!(ks.spec.source_ref.namespace, None);
        assert!(ks.status.is_none());
        assert!(!ks.suspended());
        assert_eq!(ks.deletion_policy(), DeletionPolicy::MirrorPrune);
        let json = serde_json::to_value(&ks.spec).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "interval": "5m",
                "prune": false,
                "force": false,
                "sourceRef": {"kind": "GitRepository", "name": "repo"}
            })
        );
    }

    #[test]
    fn retry_interval_and_timeout_fall_back_like_flux() {
        let ks = minimal("");
        assert_eq!(ks.interval().unwrap(), Duration::from_secs(300));
        assert_eq!(ks.retry_interval().unwrap(), Duration::from_secs(300));
        // Unset timeout: interval minus 30s.
        assert_eq!(ks.timeout().unwrap(), Duration::from_secs(270));

        let ks = minimal("  retryInterval: 1m\n  timeout: 2m30s\n");
        assert_eq!(ks.retry_interval().unwrap(), Duration::from_secs(60));
        assert_eq!(ks.timeout().unwrap(), Duration::from_secs(150));
    }

    #[test]
    fn timeout_never_drops_below_thirty_seconds() {
        let mut ks = minimal("  timeout: 5s\n");
        assert_eq!(ks.timeout().unwrap(), Duration::from_secs(30));
        ks.spec.timeout = None;
        ks.spec.interval = "40s".into();
        assert_eq!(ks.timeout().unwrap(), Duration::from_secs(30));
        ks.spec.interval = "10s".into();
        assert_eq!(ks.timeout().unwrap(), Duration::from_secs(30));
    }

    #[test]
    fn invalid_durations_are_errors() {
        let mut ks = minimal("");
        ks.spec.retry_interval = Some("soon".into());
        assert!(ks.retry_interval().is_err());
        ks.spec.interval = "1d".into();
        assert!(ks.interval().is_err());
        assert!(ks.timeout().is_err());
    }

    #[test]
    fn annotation_and_label_keys_match_flux() {
        assert_eq!(NAME_LABEL, "kustomize.toolkit.fluxcd.io/name");
        assert_eq!(NAMESPACE_LABEL, "kustomize.toolkit.fluxcd.io/namespace");
        assert_eq!(SSA_ANNOTATION, "kustomize.toolkit.fluxcd.io/ssa");
        assert_eq!(PRUNE_ANNOTATION, "kustomize.toolkit.fluxcd.io/prune");
        assert_eq!(FORCE_ANNOTATION, "kustomize.toolkit.fluxcd.io/force");
        assert_eq!(
            SUBSTITUTE_ANNOTATION,
            "kustomize.toolkit.fluxcd.io/substitute"
        );
        assert_eq!(
            RECONCILE_ANNOTATION,
            "kustomize.toolkit.fluxcd.io/reconcile"
        );
        for key in [
            NAME_LABEL,
            NAMESPACE_LABEL,
            SSA_ANNOTATION,
            PRUNE_ANNOTATION,
            FORCE_ANNOTATION,
            SUBSTITUTE_ANNOTATION,
            RECONCILE_ANNOTATION,
        ] {
            assert_eq!(
                key.split_once('/').map(|(g, _)| g),
                Some(crate::kustomize::GROUP)
            );
        }
    }

    #[test]
    fn unknown_source_kind_is_rejected() {
        let yaml = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n\
                    metadata: {name: app}\n\
                    spec: {interval: 5m, prune: true, sourceRef: {kind: HelmRepository, name: x}}\n";
        assert!(serde_saphyr::from_str::<Kustomization>(yaml).is_err());
    }
}
