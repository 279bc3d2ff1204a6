use std::collections::BTreeMap;

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::OCIProvider;
use crate::meta::{Artifact, Condition, LocalObjectReference};

/// Desired state of a Helm chart repository: an HTTP(S) index to fetch, or (type `oci`) an OCI
/// registry that HelmCharts pull from directly.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "source.toolkit.fluxcd.io",
    version = "v1",
    kind = "HelmRepository",
    plural = "helmrepositories",
    shortname = "helmrepo",
    category = "all",
    category = "fluxcd",
    category = "fluxcd-sources",
    namespaced,
    derive = "PartialEq",
    status = "HelmRepositoryStatus",
    printcolumn = r#"{"jsonPath":".spec.url","name":"URL","type":"string"}"#,
    printcolumn = r#"{"jsonPath":".metadata.creationTimestamp","name":"Age","type":"date"}"#,
    printcolumn = r#"{"jsonPath":".status.conditions[?(@.type==\"Ready\")].status","name":"Ready","type":"string"}"#,
    printcolumn = r#"{"jsonPath":".status.conditions[?(@.type==\"Ready\")].message","name":"Status","type":"string"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct HelmRepositorySpec {
    /// Cross-namespace access list; provisional, not enforced by Flux.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_from: Option<AccessFrom>,
    /// Secret with `tls.crt`/`tls.key` (client certificate) and/or `ca.crt`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_secret_ref: Option<LocalObjectReference>,
    /// Plain HTTP to an OCI registry; only for type `oci`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insecure: Option<bool>,
    /// How often the index is fetched. Optional because `oci` repositories are not polled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"))]
    pub interval: Option<String>,
    /// Send the credentials also to hosts other than the repository's (chart URLs in the index
    /// may point elsewhere).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pass_credentials: Option<bool>,
    /// Workload-identity provider; only for type `oci`.
    #[serde(
        default = "default_helm_provider",
        skip_serializing_if = "Option::is_none"
    )]
    pub provider: Option<OCIProvider>,
    /// Secret with `username`/`password` (basic auth, or registry login for `oci`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalObjectReference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend: Option<bool>,
    /// Timeout of the index fetch (or of OCI pulls by HelmCharts); 60s when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^([0-9]+(\.[0-9]+)?(ms|s|m))+$"))]
    pub timeout: Option<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub type_: Option<HelmRepositoryType>,
    /// Repository address; `oci://` exactly when the type is `oci`.
    #[schemars(regex(pattern = r"^(http|https|oci)://.*$"))]
    pub url: String,
}

fn default_helm_provider() -> Option<OCIProvider> {
    Some(OCIProvider::Generic)
}

/// Kind of Helm repository: a classic HTTP index (`default`) or an OCI registry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum HelmRepositoryType {
    #[default]
    Default,
    Oci,
}

/// Access control list for cross-namespace references (Flux's `acl.AccessFrom`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccessFrom {
    /// Namespaces allowed to refer to this object; any matching selector grants access.
    pub namespace_selectors: Vec<NamespaceSelector>,
}

/// Selects namespaces by labels; an empty selector matches every namespace.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NamespaceSelector {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_labels: Option<BTreeMap<String, String>>,
}

/// Observed state of a HelmRepository.
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
    /// Download address of the current index artifact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_helm_repository_manifest_deserialises_with_defaults() {
        let yaml = r#"
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: podinfo
  namespace: flux-system
spec:
  interval: 10m
  url: https://stefanprodan.github.io/podinfo
  secretRef:
    name: podinfo-auth
  passCredentials: true
  accessFrom:
    namespaceSelectors:
      - matchLabels:
          team: apps
"#;
        let repo: HelmRepository = serde_saphyr::from_str(yaml).unwrap();
        let spec = &repo.spec;
        assert_eq!(spec.interval.as_deref(), Some("10m"));
        assert_eq!(spec.url, "https://stefanprodan.github.io/podinfo");
        assert_eq!(spec.type_, None);
        assert_eq!(spec.provider, Some(OCIProvider::Generic));
        assert_eq!(spec.timeout, None);
        assert_eq!(spec.pass_credentials, Some(true));
        let acl = spec.access_from.as_ref().unwrap();
        let labels = acl.namespace_selectors[0].match_labels.as_ref().unwrap();
        assert_eq!(labels.get("team").map(String::as_str), Some("apps"));

        let json = serde_json::to_value(&repo).unwrap();
        assert_eq!(json["spec"]["provider"], "generic");
        assert!(json["spec"].get("type").is_none());
        let back: HelmRepository = serde_json::from_value(json).unwrap();
        assert_eq!(back, repo);
    }

    #[test]
    fn oci_helm_repository_needs_no_interval() {
        let yaml = r#"
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: podinfo
spec:
  type: oci
  provider: aws
  url: oci://123456789000.dkr.ecr.us-east-2.amazonaws.com/charts
"#;
        let repo: HelmRepository = serde_saphyr::from_str(yaml).unwrap();
        assert_eq!(repo.spec.type_, Some(HelmRepositoryType::Oci));
        assert_eq!(repo.spec.provider, Some(OCIProvider::Aws));
        assert_eq!(repo.spec.interval, None);
        let json = serde_json::to_value(&repo).unwrap();
        assert_eq!(json["spec"]["type"], "oci");
    }
}
