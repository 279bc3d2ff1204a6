use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::meta::{Artifact, Condition};

/// An artifact produced by a controller outside Flux (for some custom resource) and exposed to
/// Flux appliers like any other source. The producing controller writes the status.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "source.toolkit.fluxcd.io",
    version = "v1",
    kind = "ExternalArtifact",
    plural = "externalartifacts",
    shortname = "ea",
    category = "all",
    category = "fluxcd",
    category = "fluxcd-sources",
    namespaced,
    derive = "PartialEq",
    status = "ExternalArtifactStatus",
    printcolumn = r#"{"jsonPath":".metadata.creationTimestamp","name":"Age","type":"date"}"#,
    printcolumn = r#"{"jsonPath":".status.conditions[?(@.type==\"Ready\")].status","name":"Ready","type":"string"}"#,
    printcolumn = r#"{"jsonPath":".status.conditions[?(@.type==\"Ready\")].message","name":"Status","type":"string"}"#,
    printcolumn = r#"{"jsonPath":".spec.sourceRef.name","name":"Source","type":"string"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct ExternalArtifactSpec {
    /// The custom resource the artifact was generated for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_ref: Option<NamespacedObjectKindReference>,
}

/// A reference to an object of any kind, optionally in another namespace (Flux's
/// `meta.NamespacedObjectKindReference`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NamespacedObjectKindReference {
    /// The server's preferred version when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    pub kind: String,
    pub name: String,
    /// The referring object's namespace when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// Observed state of an ExternalArtifact, written by the producing controller.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExternalArtifactStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact: Option<Artifact>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::ConditionStatus;

    #[test]
    fn external_artifact_with_status_round_trips() {
        let yaml = r#"
apiVersion: source.toolkit.fluxcd.io/v1
kind: ExternalArtifact
metadata:
  name: my-artifact
  namespace: flux-system
spec:
  sourceRef:
    apiVersion: example.com/v1
    kind: Source
    name: my-source
status:
  artifact:
    digest: sha256:35d47c9db0eee6ffe08a404dfb416bee31b2b79eabc3f2eb26749163ce487f52
    lastUpdateTime: "2025-08-21T13:37:31Z"
    path: source/flux-system/my-source/35d47c9d.tar.gz
    revision: v1.0.0@sha256:35d47c9db0eee6ffe08a404dfb416bee31b2b79eabc3f2eb26749163ce487f52
    size: 20914
    url: http://example-controller.flux-system.svc.cluster.local./source/flux-system/my-source/35d47c9d.tar.gz
  conditions:
    - lastTransitionTime: "2025-08-21T13:37:31Z"
      message: stored artifact for revision v1.0.0
      observedGeneration: 1
      reason: Succeeded
      status: "True"
      type: Ready
"#;
        let ea: ExternalArtifact = serde_saphyr::from_str(yaml).unwrap();
        let source = ea.spec.source_ref.as_ref().unwrap();
        assert_eq!(source.api_version.as_deref(), Some("example.com/v1"));
        assert_eq!(source.kind, "Source");
        assert_eq!(source.name, "my-source");
        assert_eq!(source.namespace, None);
        let status = ea.status.as_ref().unwrap();
        let artifact = status.artifact.as_ref().unwrap();
        assert_eq!(artifact.size, Some(20914));
        assert!(artifact.revision.starts_with("v1.0.0@sha256:"));
        assert_eq!(status.conditions[0].status, ConditionStatus::True);
        assert_eq!(status.conditions[0].type_, "Ready");

        let json = serde_json::to_value(&ea).unwrap();
        assert!(json["spec"]["sourceRef"].get("namespace").is_none());
        let back: ExternalArtifact = serde_json::from_value(json).unwrap();
        assert_eq!(back, ea);
    }
}
