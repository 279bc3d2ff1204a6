use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::meta::{Artifact, Condition, LocalObjectReference};

/// Desired state of an OCI artifact source: a repository in a container registry, polled for
/// a tag, a semver range or a pinned digest.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "source.toolkit.fluxcd.io",
    version = "v1",
    kind = "OCIRepository",
    plural = "ocirepositories",
    shortname = "ocirepo",
    category = "all",
    category = "fluxcd",
    category = "fluxcd-sources",
    namespaced,
    derive = "PartialEq",
    status = "OCIRepositoryStatus",
    printcolumn = r#"{"jsonPath":".spec.url","name":"URL","type":"string"}"#,
    printcolumn = r#"{"jsonPath":".status.conditions[?(@.type==\"Ready\")].status","name":"Ready","type":"string"}"#,
    printcolumn = r#"{"jsonPath":".status.conditions[?(@.type==\"Ready\")].message","name":"Status","type":"string"}"#,
    printcolumn = r#"{"jsonPath":".metadata.creationTimestamp","name":"Age","type":"date"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct OCIRepositorySpec {
    /// Secret with `tls.crt`/`tls.key` (client certificate) and/or `ca.crt` for the registry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_secret_ref: Option<LocalObjectReference>,
    /// Paths to exclude from the artifact, in gitignore syntax; replaces the default exclusions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore: Option<String>,
    /// Talk plain HTTP to the registry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insecure: Option<bool>,
    #[schemars(regex(pattern = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"))]
    pub interval: String,
    /// Which layer of the artifact to store, and how; the first layer when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer_selector: Option<OCILayerSelector>,
    #[serde(
        default = "default_oci_provider",
        skip_serializing_if = "Option::is_none"
    )]
    pub provider: Option<OCIProvider>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_secret_ref: Option<LocalObjectReference>,
    /// What to pull; the `latest` tag when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r#ref: Option<OCIRepositoryRef>,
    /// A `kubernetes.io/dockerconfigjson` Secret with registry credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalObjectReference>,
    /// ServiceAccount whose image pull secrets authenticate the pull.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend: Option<bool>,
    #[serde(
        default = "default_oci_timeout",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(regex(pattern = r"^([0-9]+(\.[0-9]+)?(ms|s|m))+$"))]
    pub timeout: Option<String>,
    /// Repository address, `oci://<registry>/<path>`.
    #[schemars(regex(pattern = r"^oci://.*$"))]
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify: Option<OCIRepositoryVerification>,
}

fn default_oci_provider() -> Option<OCIProvider> {
    Some(OCIProvider::Generic)
}

fn default_oci_timeout() -> Option<String> {
    Some("60s".into())
}

/// Cloud provider whose workload identity authenticates to a registry (OCIRepository, and
/// HelmRepository of type `oci`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum OCIProvider {
    #[default]
    Generic,
    Aws,
    Azure,
    Gcp,
}

/// The OCI reference to pull. Precedence: digest, semver, tag.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OCIRepositoryRef {
    /// Pinned manifest digest, `sha256:<hex>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// Semver range; the highest matching tag wins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub semver: Option<String>,
    /// Regular expression that tags must match before the semver range is applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub semver_filter: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
}

/// Chooses the artifact layer by media type and whether to unpack it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OCILayerSelector {
    /// The first layer with this media type is selected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<OCILayerOperation>,
}

/// What to do with the selected layer: unpack it (`extract`, the default) or store the
/// compressed blob unchanged (`copy`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum OCILayerOperation {
    #[default]
    Extract,
    Copy,
}

/// Signature verification of an OCIRepository artifact.
///
/// `provider` is required in the CRD but defaulted by the API server, so it is defaulted here
/// too rather than made mandatory for deserialisation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("required" = ["provider"]))]
pub struct OCIRepositoryVerification {
    /// Keyless (Cosign) signatures: accepted when any of these issuer/subject pairs matches.
    #[serde(
        default,
        rename = "matchOIDCIdentity",
        skip_serializing_if = "Option::is_none"
    )]
    pub match_oidc_identity: Option<Vec<OIDCIdentityMatch>>,
    #[serde(default)]
    pub provider: VerificationProvider,
    /// Secret holding the trusted public keys (or Notation trust policy and certificates).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalObjectReference>,
    /// Secret with a Sigstore `trusted_root.json`, for self-hosted Fulcio/Rekor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trusted_root_secret_ref: Option<LocalObjectReference>,
}

/// Signing technology used to verify OCI artifacts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum VerificationProvider {
    #[default]
    Cosign,
    Notation,
}

/// Issuer and subject regular expressions (Go syntax) matched against a Fulcio certificate.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OIDCIdentityMatch {
    pub issuer: String,
    pub subject: String,
}

/// Observed state of an OCIRepository.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("default" = {"observedGeneration": -1}))]
pub struct OCIRepositoryStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact: Option<Artifact>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_handled_reconcile_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_ignore: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_layer_selector: Option<OCILayerSelector>,
    /// Download address of the current artifact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oci_repository_manifest_deserialises_with_defaults() {
        let yaml = r#"
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: podinfo
  namespace: flux-system
spec:
  interval: 5m0s
  url: oci://ghcr.io/stefanprodan/manifests/podinfo
  ref:
    semver: ">=6.0.0"
    semverFilter: ".*-rc.*"
  layerSelector:
    mediaType: application/vnd.cncf.helm.chart.content.v1.tar+gzip
    operation: copy
  verify:
    matchOIDCIdentity:
      - issuer: "^https://token.actions.githubusercontent.com$"
        subject: "^https://github.com/stefanprodan/podinfo.*$"
"#;
        let repo: OCIRepository = serde_saphyr::from_str(yaml).unwrap();
        let spec = &repo.spec;
        assert_eq!(spec.interval, "5m0s");
        assert_eq!(spec.url, "oci://ghcr.io/stefanprodan/manifests/podinfo");
        assert_eq!(spec.provider, Some(OCIProvider::Generic));
        assert_eq!(spec.timeout.as_deref(), Some("60s"));
        let r = spec.r#ref.as_ref().unwrap();
        assert_eq!(r.semver.as_deref(), Some(">=6.0.0"));
        assert_eq!(r.semver_filter.as_deref(), Some(".*-rc.*"));
        assert_eq!(r.tag, None);
        let layer = spec.layer_selector.as_ref().unwrap();
        assert_eq!(layer.operation, Some(OCILayerOperation::Copy));
        let verify = spec.verify.as_ref().unwrap();
        assert_eq!(verify.provider, VerificationProvider::Cosign);
        let ids = verify.match_oidc_identity.as_ref().unwrap();
        assert_eq!(
            ids[0].issuer,
            "^https://token.actions.githubusercontent.com$"
        );

        let json = serde_json::to_value(&repo).unwrap();
        assert_eq!(json["spec"]["verify"]["provider"], "cosign");
        assert_eq!(json["spec"]["layerSelector"]["operation"], "copy");
        assert_eq!(json["spec"]["ref"]["semverFilter"], ".*-rc.*");
        let back: OCIRepository = serde_json::from_value(json).unwrap();
        assert_eq!(back, repo);
    }
}
