//! The source a Kustomization builds from: GitRepository, OCIRepository, Bucket or
//! ExternalArtifact, read as dynamic objects (only `status.artifact` and the conditions matter).

use ferroflux_api::kustomize::v1::{CrossNamespaceSourceReference, SourceKind};
use kube::api::{Api, ApiResource, DynamicObject};
use kube::core::GroupVersionKind;

/// The group of every source kind.
pub const SOURCE_GROUP: &str = "source.toolkit.fluxcd.io";

/// The artifact fields a consumer needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceArtifact {
    pub url: String,
    pub digest: String,
    pub revision: String,
    /// `org.opencontainers.image.revision` from the artifact metadata (OCI sources).
    pub origin_revision: Option<String>,
}

/// What the source looks like now.
#[derive(Clone, Debug)]
pub enum SourceState {
    /// No such object.
    NotFound,
    /// The object exists but has no artifact yet.
    NoArtifact,
    /// The object has an artifact.
    Ready(SourceArtifact),
}

/// `Kind/name` or `Kind/namespace/name`, as Flux prints a source reference.
pub fn display(r: &CrossNamespaceSourceReference) -> String {
    match &r.namespace {
        Some(ns) if !ns.is_empty() => format!("{}/{}/{}", r.kind.as_str(), ns, r.name),
        _ => format!("{}/{}", r.kind.as_str(), r.name),
    }
}

/// The served version we read each kind at.
pub fn api_resource(kind: SourceKind) -> ApiResource {
    ApiResource::from_gvk(&GroupVersionKind::gvk(SOURCE_GROUP, "v1", kind.as_str()))
}

/// Reads the source `kind/namespace/name`.
pub async fn get(
    client: &kube::Client,
    kind: SourceKind,
    namespace: &str,
    name: &str,
) -> Result<SourceState, kube::Error> {
    let api: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), namespace, &api_resource(kind));
    match api.get_opt(name).await {
        Ok(None) => Ok(SourceState::NotFound),
        // A kind whose CRD is missing is a missing source too.
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(SourceState::NotFound),
        Err(e) => Err(e),
        Ok(Some(obj)) => {
            Ok(artifact_of(&obj.data).map_or(SourceState::NoArtifact, SourceState::Ready))
        }
    }
}

/// `status.artifact` of a source object as JSON.
pub fn artifact_of(obj: &serde_json::Value) -> Option<SourceArtifact> {
    let a = obj.pointer("/status/artifact")?;
    let s = |k: &str| a.get(k).and_then(|v| v.as_str()).map(str::to_string);
    Some(SourceArtifact {
        url: s("url")?,
        digest: s("digest").unwrap_or_default(),
        revision: s("revision").unwrap_or_default(),
        origin_revision: a
            .pointer("/metadata/org.opencontainers.image.revision")
            .and_then(|v| v.as_str())
            .map(str::to_string),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_artifacts_and_prints_refs() {
        let obj = json!({"status": {"artifact": {
            "url": "http://x/a.tar.gz", "digest": "sha256:ab", "revision": "main@sha1:cd",
            "metadata": {"org.opencontainers.image.revision": "v1@sha1:ef"}
        }}});
        let a = artifact_of(&obj).unwrap();
        assert_eq!(a.revision, "main@sha1:cd");
        assert_eq!(a.origin_revision.as_deref(), Some("v1@sha1:ef"));
        assert!(artifact_of(&json!({"status": {}})).is_none());
        let mut r = CrossNamespaceSourceReference {
            kind: SourceKind::GitRepository,
            name: "app".into(),
            ..Default::default()
        };
        assert_eq!(display(&r), "GitRepository/app");
        r.namespace = Some("flux-system".into());
        assert_eq!(display(&r), "GitRepository/flux-system/app");
        assert_eq!(
            api_resource(SourceKind::OciRepository).plural,
            "ocirepositories"
        );
    }
}
