use std::collections::BTreeMap;

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::kustomize::v1::{
    CommonMetadata, DecryptionProvider, NamespacedObjectKindReference, SubstituteReference,
};
use crate::meta::{
    Condition, Json6902Patch, KustomizeImage, KustomizePatch, LocalObjectReference,
    NamespacedObjectReference, ResourceInventory, SecretKeyReference,
};

/// Desired state of a Kustomization in the deprecated v1beta2 shape (still served so older
/// manifests apply; stored as v1).
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "kustomize.toolkit.fluxcd.io",
    version = "v1beta2",
    kind = "Kustomization",
    plural = "kustomizations",
    shortname = "ks",
    category = "all",
    category = "fluxcd",
    category = "fluxcd-appliers",
    namespaced,
    status = "KustomizationStatus",
    deprecated = "v1beta2 Kustomization is deprecated, upgrade to v1",
    printcolumn = r#"{"jsonPath":".metadata.creationTimestamp","name":"Age","type":"date"}"#,
    printcolumn = r#"{"jsonPath":".status.conditions[?(@.type==\"Ready\")].status","name":"Ready","type":"string"}"#,
    printcolumn = r#"{"jsonPath":".status.conditions[?(@.type==\"Ready\")].message","name":"Status","type":"string"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct KustomizationSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub common_metadata: Option<CommonMetadata>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub components: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decryption: Option<Decryption>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depends_on: Option<Vec<NamespacedObjectReference>>,
    /// Recreate objects whose patch fails on an immutable field.
    #[serde(default)]
    pub force: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_checks: Option<Vec<NamespacedObjectKindReference>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub images: Option<Vec<KustomizeImage>>,
    #[schemars(regex(pattern = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"))]
    pub interval: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kube_config: Option<KubeConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patches: Option<Vec<KustomizePatch>>,
    /// Deprecated in favour of `patches`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patches_json6902: Option<Vec<Json6902Patch>>,
    /// Deprecated in favour of `patches`: whole objects merged strategically.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "strategic_merge_patches")]
    pub patches_strategic_merge: Option<Vec<serde_json::Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_build: Option<PostBuild>,
    pub prune: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"))]
    pub retry_interval: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_name: Option<String>,
    pub source_ref: CrossNamespaceSourceReference,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 63))]
    pub target_namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"))]
    pub timeout: Option<String>,
    /// Accepted for compatibility and ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation: Option<Validation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait: Option<bool>,
}

/// `patchesStrategicMerge`: a list of arbitrary objects kept verbatim by the API server.
fn strategic_merge_patches(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "array",
        "items": crate::meta::preserve_unknown_fields(generator),
    })
}

/// Decryption settings of v1beta2 (no service-account KMS authentication yet).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Decryption {
    pub provider: DecryptionProvider,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalObjectReference>,
}

/// Remote cluster kubeconfig of v1beta2: only a Secret key.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KubeConfig {
    pub secret_ref: SecretKeyReference,
}

/// Post-build steps of v1beta2 (no substitution strategy).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PostBuild {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub substitute: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub substitute_from: Option<Vec<SubstituteReference>>,
}

/// The source whose artifact is built, optionally in another namespace.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CrossNamespaceSourceReference {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    pub kind: SourceKind,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// Source kinds v1beta2 accepts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum SourceKind {
    #[serde(rename = "OCIRepository")]
    OciRepository,
    #[default]
    GitRepository,
    Bucket,
}

/// Legacy validation mode; has no effect.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Validation {
    None,
    Client,
    Server,
}

/// Observed state of a v1beta2 Kustomization.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("default" = {"observedGeneration": -1}))]
pub struct KustomizationStatus {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inventory: Option<ResourceInventory>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_applied_revision: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempted_revision: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_handled_reconcile_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::Json6902Op;

    const MANIFEST: &str = r#"
apiVersion: kustomize.toolkit.fluxcd.io/v1beta2
kind: Kustomization
metadata:
  name: podinfo
  namespace: flux-system
spec:
  interval: 5m
  path: ./kustomize
  prune: true
  validation: client
  sourceRef:
    kind: GitRepository
    name: podinfo
  dependsOn:
    - name: common
  targetNamespace: apps
  kubeConfig:
    secretRef:
      name: remote-kubeconfig
  decryption:
    provider: sops
    secretRef:
      name: sops-gpg
  healthChecks:
    - apiVersion: apps/v1
      kind: Deployment
      name: podinfo
      namespace: apps
  patchesStrategicMerge:
    - apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: podinfo
      spec:
        replicas: 2
  patchesJson6902:
    - target:
        group: apps
        version: v1
        kind: Deployment
        name: podinfo
      patch:
        - op: add
          path: /metadata/labels/tier
          value: frontend
        - op: remove
          path: /spec/template/spec/securityContext
  postBuild:
    substitute:
      region: eu-west-1
    substituteFrom:
      - kind: Secret
        name: vars
status:
  observedGeneration: 2
  lastAppliedRevision: main@sha1:1234
  inventory:
    entries:
      - id: apps_podinfo_apps_Deployment
        v: v1
"#;

    #[test]
    fn deserialises_a_flux_v1beta2_manifest_with_legacy_patches_and_round_trips() {
        let ks: Kustomization = serde_saphyr::from_str(MANIFEST).unwrap();
        let spec = &ks.spec;
        assert!(spec.prune);
        assert!(!spec.force, "force defaults to false");
        assert_eq!(spec.validation, Some(Validation::Client));
        assert_eq!(spec.source_ref.kind, SourceKind::GitRepository);
        assert_eq!(spec.depends_on.as_ref().unwrap()[0].name, "common");
        assert_eq!(
            spec.kube_config.as_ref().unwrap().secret_ref.name,
            "remote-kubeconfig"
        );
        let smp = spec.patches_strategic_merge.as_ref().unwrap();
        assert_eq!(smp[0]["spec"]["replicas"], 2);
        let json6902 = &spec.patches_json6902.as_ref().unwrap()[0];
        assert_eq!(json6902.target.kind.as_deref(), Some("Deployment"));
        assert_eq!(json6902.patch[0].op, Json6902Op::Add);
        assert_eq!(json6902.patch[0].value, Some(serde_json::json!("frontend")));
        assert_eq!(json6902.patch[1].value, None);
        let from = &spec
            .post_build
            .as_ref()
            .unwrap()
            .substitute_from
            .as_ref()
            .unwrap()[0];
        assert!(!from.optional, "optional defaults to false");
        let status = ks.status.as_ref().unwrap();
        assert_eq!(status.observed_generation, Some(2));
        assert_eq!(status.inventory.as_ref().unwrap().entries.len(), 1);

        let json = serde_json::to_value(&ks).unwrap();
        let back: Kustomization = serde_json::from_value(json).unwrap();
        assert_eq!(back.metadata, ks.metadata);
        assert_eq!(back.spec, ks.spec);
        assert_eq!(back.status, ks.status);
    }

    #[test]
    fn external_artifact_sources_are_v1_only() {
        let yaml = "apiVersion: kustomize.toolkit.fluxcd.io/v1beta2\nkind: Kustomization\n\
                    metadata: {name: app}\n\
                    spec: {interval: 5m, prune: true, sourceRef: {kind: ExternalArtifact, name: x}}\n";
        assert!(serde_saphyr::from_str::<Kustomization>(yaml).is_err());
    }
}
