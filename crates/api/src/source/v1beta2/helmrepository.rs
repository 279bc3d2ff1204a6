//! HelmRepository `v1beta2`: same spec as v1; the status artifact's digest is optional.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::Artifact;
use crate::meta::{Condition, LocalObjectReference};
use crate::source::v1::{AccessFrom, HelmRepositoryType, OCIProvider};

/// Desired state of a Helm chart repository (HTTP index or OCI registry), deprecated version.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "source.toolkit.fluxcd.io",
    version = "v1beta2",
    kind = "HelmRepository",
    plural = "helmrepositories",
    shortname = "helmrepo",
    category = "all",
    category = "fluxcd",
    category = "fluxcd-sources",
    namespaced,
    derive = "PartialEq",
    status = "HelmRepositoryStatus",
    deprecated = "v1beta2 HelmRepository is deprecated, upgrade to v1",
    printcolumn = r#"{"jsonPath":".spec.url","name":"URL","type":"string"}"#,
    printcolumn = r#"{"jsonPath":".metadata.creationTimestamp","name":"Age","type":"date"}"#,
    printcolumn = r#"{"jsonPath":".status.conditions[?(@.type==\"Ready\")].status","name":"Ready","type":"string"}"#,
    printcolumn = r#"{"jsonPath":".status.conditions[?(@.type==\"Ready\")].message","name":"Status","type":"string"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct HelmRepositorySpec {
    /// Cross-namespace access control (ignored by current controllers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_from: Option<AccessFrom>,
    /// TLS client certificate, key and CA for the repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_secret_ref: Option<LocalObjectReference>,
    /// Allow plain HTTP for OCI registries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insecure: Option<bool>,
    /// Reconcile interval; OCI repositories are not reconciled, so it is optional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"))]
    pub interval: Option<String>,
    /// Send the credentials to chart URLs on other hosts than the index's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pass_credentials: Option<bool>,
    #[serde(default = "default_provider", skip_serializing_if = "Option::is_none")]
    pub provider: Option<OCIProvider>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalObjectReference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^([0-9]+(\.[0-9]+)?(ms|s|m))+$"))]
    pub timeout: Option<String>,
    /// `default` for an HTTP(S) index, `oci` for an OCI registry.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<HelmRepositoryType>,
    #[schemars(regex(pattern = r"^(http|https|oci)://.*$"))]
    pub url: String,
}

fn default_provider() -> Option<OCIProvider> {
    Some(OCIProvider::Generic)
}

/// Observed state of a v1beta2 HelmRepository.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("default" = {"observedGeneration": -1}))]
pub struct HelmRepositoryStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact: Option<Artifact>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_handled_reconcile_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Download URL of the repository index artifact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1beta2_oci_manifest_round_trips_with_defaults() {
        let yaml = r#"
apiVersion: source.toolkit.fluxcd.io/v1beta2
kind: HelmRepository
metadata:
  name: podinfo
  namespace: flux-system
spec:
  type: oci
  url: oci://ghcr.io/stefanprodan/charts
  secretRef:
    name: ghcr-auth
  accessFrom:
    namespaceSelectors:
      - matchLabels:
          kubernetes.io/metadata.name: apps
"#;
        let repo: HelmRepository = serde_saphyr::from_str(yaml).unwrap();
        let spec = &repo.spec;
        assert_eq!(spec.type_, Some(HelmRepositoryType::Oci));
        assert_eq!(spec.provider, Some(OCIProvider::Generic));
        assert_eq!(spec.interval, None, "interval is optional in v1beta2");
        assert_eq!(spec.timeout, None, "timeout has no default in v1beta2");
        assert_eq!(spec.secret_ref.as_ref().unwrap().name, "ghcr-auth");
        assert_eq!(
            spec.access_from.as_ref().unwrap().namespace_selectors.len(),
            1
        );

        let json = serde_json::to_value(&repo).unwrap();
        assert_eq!(json["spec"]["type"], "oci");
        assert_eq!(json["spec"]["provider"], "generic");
        let back: HelmRepository = serde_json::from_value(json).unwrap();
        assert_eq!(back, repo);
    }

    #[test]
    fn v1beta2_http_manifest_keeps_interval_and_timeout() {
        let spec: HelmRepositorySpec = serde_saphyr::from_str(
            "interval: 1h\ntimeout: 2m\nurl: https://stefanprodan.github.io/podinfo\npassCredentials: true\n",
        )
        .unwrap();
        assert_eq!(spec.interval.as_deref(), Some("1h"));
        assert_eq!(spec.timeout.as_deref(), Some("2m"));
        assert_eq!(spec.pass_credentials, Some(true));
        assert_eq!(spec.type_, None);
    }
}
