//! GitRepository `v1beta2`: the v1 shape plus the fields Flux later dropped
//! (`gitImplementation`, `accessFrom`) and a status that still reports `url` and
//! `contentConfigChecksum`.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::Artifact;
use crate::meta::{Condition, LocalObjectReference};
use crate::source::v1::{AccessFrom, GitRepositoryInclude, GitRepositoryRef};

/// Desired state of a Git repository source (deprecated version).
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "source.toolkit.fluxcd.io",
    version = "v1beta2",
    kind = "GitRepository",
    plural = "gitrepositories",
    shortname = "gitrepo",
    category = "all",
    category = "fluxcd",
    category = "fluxcd-sources",
    namespaced,
    derive = "PartialEq",
    status = "GitRepositoryStatus",
    deprecated = "v1beta2 GitRepository is deprecated, upgrade to v1",
    printcolumn = r#"{"jsonPath":".spec.url","name":"URL","type":"string"}"#,
    printcolumn = r#"{"jsonPath":".metadata.creationTimestamp","name":"Age","type":"date"}"#,
    printcolumn = r#"{"jsonPath":".status.conditions[?(@.type==\"Ready\")].status","name":"Ready","type":"string"}"#,
    printcolumn = r#"{"jsonPath":".status.conditions[?(@.type==\"Ready\")].message","name":"Status","type":"string"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct GitRepositorySpec {
    /// Cross-namespace access control (ignored by current controllers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_from: Option<AccessFrom>,
    /// Git client library the controller should use; only kept for compatibility.
    #[serde(
        default = "default_git_implementation",
        skip_serializing_if = "Option::is_none"
    )]
    pub git_implementation: Option<GitImplementation>,
    /// Paths to exclude from the artifact, in gitignore syntax; replaces the default exclusions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include: Option<Vec<GitRepositoryInclude>>,
    #[schemars(regex(pattern = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"))]
    pub interval: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recurse_submodules: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r#ref: Option<GitRepositoryRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalObjectReference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend: Option<bool>,
    #[serde(default = "default_timeout", skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^([0-9]+(\.[0-9]+)?(ms|s|m))+$"))]
    pub timeout: Option<String>,
    /// Repository URL: http, https, ssh, or git (beyond Flux; see the CRD allow-list).
    #[schemars(regex(pattern = r"^(http|https|ssh|git)://.*$"))]
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify: Option<GitRepositoryVerification>,
}

fn default_git_implementation() -> Option<GitImplementation> {
    Some(GitImplementation::GoGit)
}

fn default_timeout() -> Option<String> {
    Some("60s".into())
}

/// Git client library selector of v1beta2 (v1 always uses one implementation).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum GitImplementation {
    #[serde(rename = "go-git")]
    GoGit,
    #[serde(rename = "libgit2")]
    Libgit2,
}

/// Commit signature verification. v1beta2 only knows the `head` mode, and requires it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GitRepositoryVerification {
    pub mode: GitRepositoryVerificationMode,
    /// Secret holding the trusted PGP public keys.
    pub secret_ref: LocalObjectReference,
}

/// What to verify: only the HEAD commit in this version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum GitRepositoryVerificationMode {
    #[serde(rename = "head")]
    Head,
}

/// Observed state of a v1beta2 GitRepository.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("default" = {"observedGeneration": -1}))]
pub struct GitRepositoryStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact: Option<Artifact>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// Checksum of the content-affecting configuration, from older controllers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_config_checksum: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub included_artifacts: Option<Vec<Artifact>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_handled_reconcile_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_ignore: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_include: Option<Vec<GitRepositoryInclude>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_recurse_submodules: Option<bool>,
    /// Deprecated in-cluster download URL of the artifact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1beta2_manifest_with_legacy_fields_round_trips() {
        let yaml = r#"
apiVersion: source.toolkit.fluxcd.io/v1beta2
kind: GitRepository
metadata:
  name: podinfo
  namespace: flux-system
spec:
  interval: 5m
  url: https://github.com/stefanprodan/podinfo
  gitImplementation: libgit2
  ref:
    branch: master
  secretRef:
    name: https-credentials
  include:
    - repository:
        name: shared
      fromPath: deploy
      toPath: shared
  verify:
    mode: head
    secretRef:
      name: pgp-public-keys
  accessFrom:
    namespaceSelectors:
      - matchLabels:
          team: apps
status:
  observedGeneration: 2
  url: http://source-controller.flux-system.svc.cluster.local./gitrepository/flux-system/podinfo/latest.tar.gz
  artifact:
    path: gitrepository/flux-system/podinfo/1f3a.tar.gz
    url: http://source-controller.flux-system.svc.cluster.local./gitrepository/flux-system/podinfo/1f3a.tar.gz
    revision: master/1f3a
    lastUpdateTime: "2023-01-01T00:00:00Z"
"#;
        let repo: GitRepository = serde_saphyr::from_str(yaml).unwrap();
        let spec = &repo.spec;
        assert_eq!(spec.git_implementation, Some(GitImplementation::Libgit2));
        assert_eq!(spec.timeout.as_deref(), Some("60s"), "timeout defaults");
        assert_eq!(
            spec.r#ref.as_ref().and_then(|r| r.branch.as_deref()),
            Some("master")
        );
        let verify = spec.verify.as_ref().unwrap();
        assert_eq!(verify.mode, GitRepositoryVerificationMode::Head);
        assert_eq!(verify.secret_ref.name, "pgp-public-keys");
        let access = spec.access_from.as_ref().unwrap();
        assert_eq!(
            access.namespace_selectors[0]
                .match_labels
                .as_ref()
                .unwrap()
                .get("team")
                .map(String::as_str),
            Some("apps")
        );
        let status = repo.status.as_ref().unwrap();
        let artifact = status.artifact.as_ref().unwrap();
        assert_eq!(artifact.digest, None, "v1beta2 artifacts may lack a digest");
        assert_eq!(status.observed_generation, Some(2));

        let json = serde_json::to_value(&repo).unwrap();
        let back: GitRepository = serde_json::from_value(json).unwrap();
        assert_eq!(back, repo);
    }

    #[test]
    fn git_implementation_defaults_to_go_git() {
        let spec: GitRepositorySpec =
            serde_saphyr::from_str("interval: 1m\nurl: ssh://git@example.com/repo\n").unwrap();
        assert_eq!(spec.git_implementation, Some(GitImplementation::GoGit));
        assert_eq!(spec.access_from, None);
    }
}
