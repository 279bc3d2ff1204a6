//! The `openapi` kustomization field: which schema strategic-merge patches consult.
//!
//! kustomize keeps one schema for the whole build, with these rules (kyaml's `SetSchema`):
//! - the top kustomization's `openapi` is applied first; a nested kustomization's `openapi` only
//!   counts when no `openapi` was applied before it (in the order directories are entered);
//! - `openapi: {path: FILE}` replaces the built-in Kubernetes schema with FILE (OpenAPI v2 JSON or
//!   YAML): built-in kinds then replace their lists like unknown kinds, unless the built-in
//!   schema had already been loaded (by an earlier patch, or an object of a kind outside
//!   kyaml's precomputed list), in which case FILE is added to it;
//! - `openapi: {version: v1.21.2}` names kustomize's only built-in schema; any other version fails;
//!   `path` and `version` together fail;
//! - a FILE that is not a valid schema fails the build when the schema is first needed.
//!
//! "First needed" is approximated as the first strategic-merge patch, or the first object of a
//! kind whose scope kustomize does not know without the schema ([`needs_schema`]).

use crate::error::{Error, Result};
use crate::loader;
use crate::schema::Table;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The kinds whose namespace scope kyaml knows without loading a schema
/// (`precomputedIsNamespaceScoped`); for any other kind it loads the schema.
const PRECOMPUTED_SCOPE: &[(&str, &str)] = &[
    (
        "admissionregistration.k8s.io/v1",
        "MutatingWebhookConfiguration",
    ),
    (
        "admissionregistration.k8s.io/v1",
        "ValidatingWebhookConfiguration",
    ),
    (
        "admissionregistration.k8s.io/v1beta1",
        "MutatingWebhookConfiguration",
    ),
    (
        "admissionregistration.k8s.io/v1beta1",
        "ValidatingWebhookConfiguration",
    ),
    ("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
    ("apiextensions.k8s.io/v1beta1", "CustomResourceDefinition"),
    ("apiregistration.k8s.io/v1", "APIService"),
    ("apiregistration.k8s.io/v1beta1", "APIService"),
    ("apps/v1", "ControllerRevision"),
    ("apps/v1", "DaemonSet"),
    ("apps/v1", "Deployment"),
    ("apps/v1", "ReplicaSet"),
    ("apps/v1", "StatefulSet"),
    ("autoscaling/v1", "HorizontalPodAutoscaler"),
    ("autoscaling/v1", "Scale"),
    ("autoscaling/v2beta1", "HorizontalPodAutoscaler"),
    ("autoscaling/v2beta2", "HorizontalPodAutoscaler"),
    ("batch/v1", "CronJob"),
    ("batch/v1", "Job"),
    ("batch/v1beta1", "CronJob"),
    ("certificates.k8s.io/v1", "CertificateSigningRequest"),
    ("certificates.k8s.io/v1beta1", "CertificateSigningRequest"),
    ("coordination.k8s.io/v1", "Lease"),
    ("coordination.k8s.io/v1beta1", "Lease"),
    ("discovery.k8s.io/v1", "EndpointSlice"),
    ("discovery.k8s.io/v1beta1", "EndpointSlice"),
    ("events.k8s.io/v1", "Event"),
    ("events.k8s.io/v1beta1", "Event"),
    ("extensions/v1beta1", "Ingress"),
    ("flowcontrol.apiserver.k8s.io/v1beta1", "FlowSchema"),
    (
        "flowcontrol.apiserver.k8s.io/v1beta1",
        "PriorityLevelConfiguration",
    ),
    ("networking.k8s.io/v1", "Ingress"),
    ("networking.k8s.io/v1", "IngressClass"),
    ("networking.k8s.io/v1", "NetworkPolicy"),
    ("networking.k8s.io/v1beta1", "Ingress"),
    ("networking.k8s.io/v1beta1", "IngressClass"),
    ("node.k8s.io/v1", "RuntimeClass"),
    ("node.k8s.io/v1beta1", "RuntimeClass"),
    ("policy/v1", "PodDisruptionBudget"),
    ("policy/v1beta1", "PodDisruptionBudget"),
    ("policy/v1beta1", "PodSecurityPolicy"),
    ("rbac.authorization.k8s.io/v1", "ClusterRole"),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
    ("rbac.authorization.k8s.io/v1", "Role"),
    ("rbac.authorization.k8s.io/v1", "RoleBinding"),
    ("rbac.authorization.k8s.io/v1beta1", "ClusterRole"),
    ("rbac.authorization.k8s.io/v1beta1", "ClusterRoleBinding"),
    ("rbac.authorization.k8s.io/v1beta1", "Role"),
    ("rbac.authorization.k8s.io/v1beta1", "RoleBinding"),
    ("scheduling.k8s.io/v1", "PriorityClass"),
    ("scheduling.k8s.io/v1beta1", "PriorityClass"),
    ("storage.k8s.io/v1", "CSIDriver"),
    ("storage.k8s.io/v1", "CSINode"),
    ("storage.k8s.io/v1", "StorageClass"),
    ("storage.k8s.io/v1", "VolumeAttachment"),
    ("storage.k8s.io/v1beta1", "CSIDriver"),
    ("storage.k8s.io/v1beta1", "CSINode"),
    ("storage.k8s.io/v1beta1", "CSIStorageCapacity"),
    ("storage.k8s.io/v1beta1", "StorageClass"),
    ("storage.k8s.io/v1beta1", "VolumeAttachment"),
    ("v1", "ComponentStatus"),
    ("v1", "ConfigMap"),
    ("v1", "Endpoints"),
    ("v1", "Event"),
    ("v1", "LimitRange"),
    ("v1", "Namespace"),
    ("v1", "Node"),
    ("v1", "NodeProxyOptions"),
    ("v1", "PersistentVolume"),
    ("v1", "PersistentVolumeClaim"),
    ("v1", "Pod"),
    ("v1", "PodAttachOptions"),
    ("v1", "PodExecOptions"),
    ("v1", "PodPortForwardOptions"),
    ("v1", "PodProxyOptions"),
    ("v1", "PodTemplate"),
    ("v1", "ReplicationController"),
    ("v1", "ResourceQuota"),
    ("v1", "Secret"),
    ("v1", "Service"),
    ("v1", "ServiceAccount"),
    ("v1", "ServiceProxyOptions"),
];

/// Whether reading an object of this kind makes kustomize load its schema.
pub fn needs_schema(api_version: &str, kind: &str) -> bool {
    !PRECOMPUTED_SCOPE.contains(&(api_version, kind))
}

/// The built-in schema version kustomize accepts in `openapi: {version:}`.
pub const BUILTIN_VERSION: &str = "v1.21.2";

/// A custom schema file, parsed when set, reported when first needed.
type Custom = std::result::Result<Table, (PathBuf, String)>;

/// The build's schema state.
#[derive(Debug, Default)]
pub struct State {
    /// An `openapi` field has been applied.
    set: bool,
    /// The custom schema waiting to be loaded at the next use.
    pending: Option<Custom>,
    /// The schema has been loaded since the last change.
    loaded: bool,
    /// The built-in schema is part of the loaded one.
    builtin_loaded: bool,
    /// The loaded schema when it is not just the built-in one.
    table: Option<Table>,
}

impl State {
    /// Apply a kustomization's `openapi` field (`reset` for the top kustomization).
    pub fn apply(
        &mut self,
        dir: &Path,
        kfile: &Path,
        field: &BTreeMap<String, String>,
        reset: bool,
    ) -> Result<()> {
        // kustomize reads the file before deciding whether the field counts, so a missing
        // file fails even where the field is ignored.
        let custom = match field.get("path") {
            Some(path) => Some(loader::read_text(dir, path)?),
            None => None,
        };
        if self.set && !reset {
            return Ok(());
        }
        let version = field.get("version");
        if let Some((file, text)) = custom {
            if version.is_some() {
                return Err(Error::Invalid {
                    file: kfile.to_path_buf(),
                    message: "openapi: builtin version and custom schema provided, cannot use both"
                        .into(),
                });
            }
            self.pending = Some(parse(&file, &text));
            self.set = true;
            self.loaded = false;
            return Ok(());
        }
        match version.map(String::as_str) {
            None | Some("") => {}
            Some(BUILTIN_VERSION) => {
                self.set = true;
                self.pending = None;
                self.loaded = false;
            }
            Some(v) => {
                return Err(Error::Invalid {
                    file: kfile.to_path_buf(),
                    message: format!(
                        "openapi: version '{v}' is not built in (kustomize has only {BUILTIN_VERSION})"
                    ),
                });
            }
        }
        Ok(())
    }

    /// Load the schema if it changed since it was last needed.
    pub fn load(&mut self) -> Result<()> {
        if self.loaded {
            return Ok(());
        }
        self.loaded = true;
        match self.pending.take() {
            Some(Ok(custom)) => {
                self.table = Some(match (&self.table, self.builtin_loaded) {
                    (Some(t), _) => t.union(&custom),
                    (None, true) => Table::builtin().union(&custom),
                    (None, false) => custom,
                });
            }
            Some(Err((file, message))) => {
                return Err(Error::Yaml {
                    path: file,
                    message: format!("invalid OpenAPI schema: {message}"),
                });
            }
            None => {
                if !self.builtin_loaded {
                    self.builtin_loaded = true;
                    if let Some(t) = &self.table {
                        self.table = Some(t.union(Table::builtin()));
                    }
                }
            }
        }
        Ok(())
    }

    /// The schema in force (call [`State::load`] first).
    pub fn table(&self) -> &Table {
        self.table.as_ref().unwrap_or_else(|| Table::builtin())
    }
}

fn parse(file: &Path, text: &str) -> Custom {
    let err = |m: String| (file.to_path_buf(), m);
    let doc: crate::Value = serde_saphyr::from_str_with_options(text, loader::yaml_options())
        .map_err(|e| err(e.to_string()))?;
    let json = doc.to_json();
    if !json.is_object() {
        return Err(err("an OpenAPI document must be a mapping".into()));
    }
    Table::from_openapi(&json).map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn version_rules() {
        let d = Path::new(".");
        let k = Path::new("kustomization.yaml");
        let mut s = State::default();
        assert!(
            s.apply(d, k, &field(&[("version", "v1.30.0")]), true)
                .is_err()
        );
        assert!(
            s.apply(d, k, &field(&[("version", "v1.21.2"), ("path", "x")]), true)
                .is_err()
        );
        s.apply(d, k, &field(&[("version", "v1.21.2")]), true)
            .unwrap();
        // Set once: a nested kustomization's field is ignored, even an invalid one.
        s.apply(d, k, &field(&[("version", "bogus")]), false)
            .unwrap();
        s.load().unwrap();
        assert!(s.table().knows("apps", "v1", "Deployment"));
    }

    #[test]
    fn custom_schema_replaces_builtin_unless_loaded_before() {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(
            t.path().join("s.yaml"),
            "definitions:\n  x.Foo:\n    x-kubernetes-group-version-kind: [{group: ex.com, version: v1, kind: Foo}]\n    properties:\n      spec:\n        properties:\n          items: {type: array, x-kubernetes-patch-strategy: merge, x-kubernetes-patch-merge-key: id}\n",
        )
        .unwrap();
        let k = t.path().join("kustomization.yaml");
        let f = field(&[("path", "s.yaml")]);
        let mut s = State::default();
        s.apply(t.path(), &k, &f, true).unwrap();
        s.load().unwrap();
        assert!(!s.table().knows("apps", "v1", "Deployment"));
        assert!(s.table().knows("ex.com", "v1", "Foo"));
        let mut s = State::default();
        s.load().unwrap();
        s.apply(t.path(), &k, &f, false).unwrap();
        s.load().unwrap();
        assert!(s.table().knows("apps", "v1", "Deployment"));
        assert!(s.table().knows("ex.com", "v1", "Foo"));
    }
}
