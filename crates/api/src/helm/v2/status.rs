//! Observed state of a HelmRelease, including the history of Helm releases it made.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::actions::go_int;
use crate::meta::{Condition, ObjectWithConditions, ResourceInventory};

/// The release action last attempted; selects the active retry/remediation strategy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReleaseAction {
    Install,
    Upgrade,
}

impl ReleaseAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Install => "install",
            Self::Upgrade => "upgrade",
        }
    }
}

/// Observed state of a HelmRelease.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("default" = {"observedGeneration": -1}))]
pub struct HelmReleaseStatus {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// Failed reconciliations against the current desired state; reset on success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failures: Option<i64>,
    /// `<namespace>/<name>` of the HelmChart created for `spec.chart`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub helm_chart: Option<String>,
    /// Releases made for this object, newest first, down to the last successful one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<Snapshot>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub install_failures: Option<i64>,
    /// Objects of the current release.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inventory: Option<ResourceInventory>,
    /// `<algo>:<checksum>` of the values of the last attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempted_config_digest: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempted_generation: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempted_release_action: Option<ReleaseAction>,
    /// Go duration string of the last release action.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempted_release_action_duration: Option<String>,
    /// Chart version (plus `+<digest prefix>` for OCI sources) of the last attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempted_revision: Option<String>,
    /// Artifact digest of the last attempt (OCIRepository sources only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempted_revision_digest: Option<String>,
    /// Deprecated: SHA1 of the values; superseded by `lastAttemptedConfigDigest`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempted_values_checksum: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_handled_force_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_handled_reconcile_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_handled_reset_at: Option<String>,
    /// Deprecated: revision of the last successful release; superseded by `history`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "go_int")]
    pub last_release_revision: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_common_metadata_digest: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_post_renderers_digest: Option<String>,
    /// Namespace of the Helm storage holding the current release.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 63))]
    pub storage_namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upgrade_failures: Option<i64>,
}

impl ObjectWithConditions for HelmReleaseStatus {
    fn conditions(&self) -> &[Condition] {
        &self.conditions
    }
    fn conditions_mut(&mut self) -> &mut Vec<Condition> {
        &mut self.conditions
    }
}

/// A copy of one Helm release's metadata as the controller last observed it
/// (`status.history[]`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    /// The action that produced this snapshot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// Version of the snapshot format; tells how `digest` was computed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_version: Option<String>,
    pub chart_name: String,
    pub chart_version: String,
    /// `<algo>:<checksum>` of the release's values.
    pub config_digest: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted: Option<Time>,
    /// `<algo>:<checksum>` of the stored release object.
    pub digest: String,
    pub first_deployed: Time,
    pub last_deployed: Time,
    /// Release name.
    pub name: String,
    /// Namespace the release is deployed to.
    pub namespace: String,
    /// Digest of the OCI artifact the chart came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oci_digest: Option<String>,
    /// Helm release status (`deployed`, `failed`, `superseded`, ...).
    pub status: String,
    /// Test hooks seen running for this release, by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_hooks: Option<BTreeMap<String, TestHookStatus>>,
    /// Helm release revision.
    #[schemars(schema_with = "go_int")]
    pub version: i64,
}

impl Snapshot {
    /// `<namespace>/<name>.v<version>`, the way Flux names a release in messages.
    pub fn full_release_name(&self) -> String {
        format!("{}/{}.v{}", self.namespace, self.name, self.version)
    }

    /// Whether the controller ran this release's tests; an empty map means the chart has none.
    pub fn has_been_tested(&self) -> bool {
        self.test_hooks.is_some()
    }

    /// Whether any test hook was last observed in `phase` (e.g. `Failed`).
    pub fn has_test_in_phase(&self, phase: &str) -> bool {
        self.test_hooks
            .iter()
            .flat_map(|h| h.values())
            .any(|t| t.phase.as_deref() == Some(phase))
    }
}

/// Last observed run of one test hook.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TestHookStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_completed: Option<Time>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_started: Option<Time>,
    /// Helm hook phase (`Running`, `Succeeded`, `Failed`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::helm::v2::HelmRelease;

    const WITH_STATUS: &str = r#"
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: podinfo
  namespace: apps
spec:
  interval: 5m
  chartRef:
    kind: HelmChart
    name: apps-podinfo
status:
  observedGeneration: 4
  lastAttemptedGeneration: 4
  lastAttemptedRevision: 6.5.4
  lastAttemptedConfigDigest: sha256:abc
  lastAttemptedReleaseAction: upgrade
  lastAttemptedReleaseActionDuration: 12.5s
  lastHandledReconcileAt: "2024-05-01T10:00:00Z"
  helmChart: apps/apps-podinfo
  storageNamespace: apps
  installFailures: 0
  upgradeFailures: 1
  failures: 1
  conditions:
    - type: Ready
      status: "True"
      reason: UpgradeSucceeded
      message: "Helm upgrade succeeded for release apps/podinfo.v2 with chart podinfo@6.5.4"
      lastTransitionTime: "2024-05-01T10:00:05Z"
      observedGeneration: 4
  history:
    - apiVersion: v2
      name: podinfo
      namespace: apps
      version: 2
      status: deployed
      chartName: podinfo
      chartVersion: 6.5.4
      appVersion: 6.5.4
      configDigest: sha256:abc
      digest: sha256:def
      firstDeployed: "2024-05-01T09:00:00Z"
      lastDeployed: "2024-05-01T10:00:00Z"
      action: upgrade
      testHooks:
        podinfo-grpc-test-abcde:
          lastStarted: "2024-05-01T10:00:01Z"
          lastCompleted: "2024-05-01T10:00:03Z"
          phase: Succeeded
    - name: podinfo
      namespace: apps
      version: 1
      status: superseded
      chartName: podinfo
      chartVersion: 6.5.3
      configDigest: sha256:abc
      digest: sha256:123
      firstDeployed: "2024-05-01T09:00:00Z"
      lastDeployed: "2024-05-01T09:00:00Z"
  inventory:
    entries:
      - id: apps_podinfo_apps_Deployment
        v: v1
"#;

    #[test]
    fn status_with_history_snapshots_round_trips() {
        let hr: HelmRelease = serde_saphyr::from_str(WITH_STATUS).unwrap();
        let status = hr.status.as_ref().unwrap();
        assert_eq!(status.observed_generation, Some(4));
        assert_eq!(
            status.last_attempted_release_action,
            Some(ReleaseAction::Upgrade)
        );
        assert_eq!(status.upgrade_failures, Some(1));
        assert_eq!(status.conditions().len(), 1);
        assert_eq!(status.inventory.as_ref().unwrap().entries[0].v, "v1");

        let latest = &status.history[0];
        assert_eq!(latest.full_release_name(), "apps/podinfo.v2");
        assert!(latest.has_been_tested());
        assert!(latest.has_test_in_phase("Succeeded"));
        assert!(!latest.has_test_in_phase("Failed"));
        let hook = &latest.test_hooks.as_ref().unwrap()["podinfo-grpc-test-abcde"];
        assert!(hook.last_completed.is_some());

        let previous = &status.history[1];
        assert_eq!(previous.version, 1);
        assert!(previous.api_version.is_none());
        assert!(!previous.has_been_tested());

        let json = serde_json::to_value(&hr).unwrap();
        assert_eq!(
            json["status"]["history"][0]["testHooks"]["podinfo-grpc-test-abcde"]["phase"],
            "Succeeded"
        );
        let back: HelmRelease = serde_json::from_value(json).unwrap();
        assert_eq!(back.spec, hr.spec);
        assert_eq!(back.status, hr.status);
        assert_eq!(back.metadata, hr.metadata);
    }

    #[test]
    fn empty_status_serialises_without_empty_lists() {
        let json = serde_json::to_value(HelmReleaseStatus::default()).unwrap();
        assert_eq!(json, serde_json::json!({}));
    }
}
