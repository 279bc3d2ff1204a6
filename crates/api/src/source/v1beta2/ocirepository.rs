//! OCIRepository `v1beta2`: same spec as v1 except that verification has no trusted-root
//! secret, and the status still reports `url` and `contentConfigChecksum`.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::Artifact;
use crate::meta::{Condition, LocalObjectReference};
use crate::source::v1::{HelmChartVerification, OCILayerSelector, OCIProvider, OCIRepositoryRef};

/// Desired state of an OCI artifact source (deprecated version).
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "source.toolkit.fluxcd.io",
    version = "v1beta2",
    kind = "OCIRepository",
    plural = "ocirepositories",
    shortname = "ocirepo",
    category = "all",
    category = "fluxcd",
    category = "fluxcd-sources",
    namespaced,
    derive = "PartialEq",
    status = "OCIRepositoryStatus",
    deprecated = "v1beta2 OCIRepository is deprecated, upgrade to v1",
    printcolumn = r#"{"jsonPath":".spec.url","name":"URL","type":"string"}"#,
    printcolumn = r#"{"jsonPath":".status.conditions[?(@.type==\"Ready\")].status","name":"Ready","type":"string"}"#,
    printcolumn = r#"{"jsonPath":".status.conditions[?(@.type==\"Ready\")].message","name":"Status","type":"string"}"#,
    printcolumn = r#"{"jsonPath":".metadata.creationTimestamp","name":"Age","type":"date"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct OCIRepositorySpec {
    /// TLS client certificate, key and CA for the registry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_secret_ref: Option<LocalObjectReference>,
    /// Paths to exclude from the artifact, in gitignore syntax.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore: Option<String>,
    /// Allow plain HTTP registries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insecure: Option<bool>,
    #[schemars(regex(pattern = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"))]
    pub interval: String,
    /// Which layer of the artifact to take and how.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer_selector: Option<OCILayerSelector>,
    #[serde(default = "default_provider", skip_serializing_if = "Option::is_none")]
    pub provider: Option<OCIProvider>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_secret_ref: Option<LocalObjectReference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r#ref: Option<OCIRepositoryRef>,
    /// Registry credentials (a docker-registry Secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalObjectReference>,
    /// Service account whose image pull secrets authenticate to the registry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend: Option<bool>,
    #[serde(default = "default_timeout", skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^([0-9]+(\.[0-9]+)?(ms|s|m))+$"))]
    pub timeout: Option<String>,
    /// Artifact address without tag: `oci://<host>/<repository>`.
    #[schemars(regex(pattern = r"^oci://.*$"))]
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify: Option<OCIRepositoryVerification>,
}

fn default_provider() -> Option<OCIProvider> {
    Some(OCIProvider::Generic)
}

fn default_timeout() -> Option<String> {
    Some("60s".into())
}

/// Verification of v1beta2 OCIRepository artifacts: the v1 HelmChart shape (no custom Sigstore
/// trusted root), which is identical field for field.
pub type OCIRepositoryVerification = HelmChartVerification;

/// Observed state of a v1beta2 OCIRepository.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("default" = {"observedGeneration": -1}))]
pub struct OCIRepositoryStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact: Option<Artifact>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// Checksum of the content-affecting configuration, from older controllers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_config_checksum: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_handled_reconcile_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_ignore: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_layer_selector: Option<OCILayerSelector>,
    /// Download URL of the latest artifact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::v1::{OCILayerOperation, VerificationProvider};

    #[test]
    fn v1beta2_manifest_round_trips_with_defaults() {
        let yaml = r#"
apiVersion: source.toolkit.fluxcd.io/v1beta2
kind: OCIRepository
metadata:
  name: podinfo
  namespace: flux-system
spec:
  interval: 10m
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
        assert_eq!(spec.provider, Some(OCIProvider::Generic));
        assert_eq!(spec.timeout.as_deref(), Some("60s"));
        let r = spec.r#ref.as_ref().unwrap();
        assert_eq!(r.semver.as_deref(), Some(">=6.0.0"));
        assert_eq!(r.semver_filter.as_deref(), Some(".*-rc.*"));
        let layer = spec.layer_selector.as_ref().unwrap();
        assert_eq!(layer.operation, Some(OCILayerOperation::Copy));
        let verify = spec.verify.as_ref().unwrap();
        assert_eq!(
            verify.provider,
            VerificationProvider::Cosign,
            "provider defaults"
        );
        assert_eq!(verify.match_oidc_identity.as_ref().unwrap().len(), 1);

        let json = serde_json::to_value(&repo).unwrap();
        assert_eq!(json["spec"]["verify"]["provider"], "cosign");
        assert_eq!(json["spec"]["ref"]["semverFilter"], ".*-rc.*");
        let back: OCIRepository = serde_json::from_value(json).unwrap();
        assert_eq!(back, repo);
    }
}
