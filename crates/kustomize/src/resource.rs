//! Resources and their identities.

use crate::value::{Mapping, Value};
use std::fmt;

/// Group, version and kind.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Gvk {
    /// API group (empty for core).
    pub group: String,
    /// API version.
    pub version: String,
    /// Kind.
    pub kind: String,
}

impl Gvk {
    /// Parse `apiVersion` + `kind`.
    pub fn from_api_version(api_version: &str, kind: &str) -> Gvk {
        let (group, version) = match api_version.rsplit_once('/') {
            Some((g, v)) => (g.to_string(), v.to_string()),
            None => (String::new(), api_version.to_string()),
        };
        Gvk {
            group,
            version,
            kind: kind.to_string(),
        }
    }
    /// Whether objects of this kind live outside namespaces. kustomize decides from a built-in
    /// list (it has no cluster to ask), so do we.
    pub fn is_cluster_scoped(&self) -> bool {
        CLUSTER_SCOPED.contains(&self.kind.as_str())
    }
}

/// kustomize's built-in list of cluster-scoped kinds (kyaml `openapi` defaults).
const CLUSTER_SCOPED: &[&str] = &[
    "APIService",
    "CertificateSigningRequest",
    "ClusterRole",
    "ClusterRoleBinding",
    "ComponentStatus",
    "CSIDriver",
    "CSINode",
    "CustomResourceDefinition",
    "FlowSchema",
    "IngressClass",
    "MutatingWebhookConfiguration",
    "Namespace",
    "Node",
    "PersistentVolume",
    "PodSecurityPolicy",
    "PriorityClass",
    "PriorityLevelConfiguration",
    "RuntimeClass",
    "SelfSubjectAccessReview",
    "SelfSubjectRulesReview",
    "StorageClass",
    "SubjectAccessReview",
    "TokenReview",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "ValidatingWebhookConfiguration",
    "VolumeAttachment",
];

/// The identity of an object: GVK, namespace and name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct ResId {
    /// Group, version, kind.
    pub gvk: Gvk,
    /// Namespace ("" when unset).
    pub namespace: String,
    /// Name.
    pub name: String,
}

impl ResId {
    /// The namespace used for identity: unset and `default` are the same for namespaced
    /// kinds, and cluster-scoped kinds have none (kustomize's `EffectiveNamespace`).
    pub fn effective_namespace(&self) -> &str {
        if self.gvk.is_cluster_scoped() {
            "_cluster_"
        } else if self.namespace.is_empty() {
            "default"
        } else {
            &self.namespace
        }
    }
    /// Same identity, as kustomize compares IDs.
    pub fn same_as(&self, o: &ResId) -> bool {
        self.gvk == o.gvk
            && self.name == o.name
            && self.effective_namespace() == o.effective_namespace()
    }
}

impl fmt::Display for ResId {
    /// kustomize's `Kind.version.group/name.namespace` spelling, so messages match its own.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let group = if self.gvk.group.is_empty() {
            "[noGrp]"
        } else {
            &self.gvk.group
        };
        let ns = if self.namespace.is_empty() {
            "[noNs]"
        } else {
            &self.namespace
        };
        write!(
            f,
            "{}.{}.{}/{}.{}",
            self.gvk.kind, self.gvk.version, group, self.name, ns
        )
    }
}

/// Generator behaviour recorded on generated objects, for merges across levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Behavior {
    /// Not generated, or `create`.
    #[default]
    Create,
    /// Merge into an existing object of the same ID.
    Merge,
    /// Replace an existing object of the same ID.
    Replace,
}

/// One object being built, with the bookkeeping kustomize keeps in build annotations.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    /// The object.
    pub value: Value,
    /// Every ID the object had before renames/namespace changes, oldest first (kustomize's
    /// `PrevIds`), used to fix references to renamed objects.
    pub prev_ids: Vec<ResId>,
    /// For generated ConfigMaps/Secrets: whether to append the content hash to the name.
    pub needs_hash: bool,
    /// Generated object's behaviour.
    pub behavior: Behavior,
    /// Mapping entries left empty in the source (`key:`), which kustomize's strategic merge
    /// removes from the objects it patches.
    pub blank_nulls: Vec<Vec<String>>,
    /// Annotations written as plain non-string scalars (`a: 0x10`, `b: ~`, `c:`), with their
    /// source text and parsed value: kustomize rewrites annotations as strings of the text
    /// as written.
    pub annotation_text: Vec<(String, String, Value)>,
}

impl Resource {
    /// Wrap a parsed object.
    pub fn new(value: Value) -> Resource {
        Resource {
            value,
            prev_ids: Vec::new(),
            needs_hash: false,
            behavior: Behavior::Create,
            blank_nulls: Vec::new(),
            annotation_text: Vec::new(),
        }
    }
    /// The object's `kind`.
    pub fn kind(&self) -> &str {
        self.value.str_at(&["kind"]).unwrap_or_default()
    }
    /// `metadata.name`.
    pub fn name(&self) -> &str {
        self.value.str_at(&["metadata", "name"]).unwrap_or_default()
    }
    /// `metadata.namespace`.
    pub fn namespace(&self) -> &str {
        self.value
            .str_at(&["metadata", "namespace"])
            .unwrap_or_default()
    }
    /// Group/version/kind.
    pub fn gvk(&self) -> Gvk {
        Gvk::from_api_version(
            self.value.str_at(&["apiVersion"]).unwrap_or_default(),
            self.kind(),
        )
    }
    /// The current ID.
    pub fn id(&self) -> ResId {
        ResId {
            gvk: self.gvk(),
            namespace: self.namespace().to_string(),
            name: self.name().to_string(),
        }
    }
    /// The ID the object had when first loaded.
    pub fn org_id(&self) -> ResId {
        self.prev_ids.first().cloned().unwrap_or_else(|| self.id())
    }
    /// Record the current ID before a rename (`StorePreviousId`).
    pub fn store_previous_id(&mut self) {
        let id = self.id();
        self.prev_ids.push(id);
    }
    /// Set `metadata.name`.
    pub fn set_name(&mut self, name: &str) {
        if let Some(m) = self.value.ensure_map_path(&["metadata"]) {
            m.insert("name".into(), Value::String(name.to_string()));
        }
    }
    /// Set `metadata.namespace`.
    pub fn set_namespace(&mut self, ns: &str) {
        if let Some(m) = self.value.ensure_map_path(&["metadata"]) {
            m.insert("namespace".into(), Value::String(ns.to_string()));
        }
    }
    /// `metadata.labels` as a mapping (empty when absent).
    pub fn labels(&self) -> Mapping {
        self.value
            .pointer(&["metadata", "labels"])
            .and_then(Value::as_map)
            .cloned()
            .unwrap_or_default()
    }
    /// Rewrite every annotation value as a string, as kustomize does on output: the source
    /// text where the value is unchanged since it was read, else the scalar's usual text.
    pub fn stringify_annotations(&mut self) {
        let texts = std::mem::take(&mut self.annotation_text);
        let Some(a) = self
            .value
            .pointer_mut(&["metadata", "annotations"])
            .and_then(Value::as_map_mut)
        else {
            return;
        };
        for (k, v) in a.iter_mut() {
            if matches!(v, Value::String(_)) {
                continue;
            }
            let raw = texts
                .iter()
                .find(|(tk, _, tv)| tk == k && tv == v)
                .map(|(_, t, _)| t.clone());
            let text = match raw {
                Some(t) => t,
                None => match &*v {
                    Value::Null => "null".to_string(),
                    other => other.scalar_string().unwrap_or_default(),
                },
            };
            *v = Value::String(text);
        }
    }
    /// `metadata.annotations` as a mapping (empty when absent).
    pub fn annotations(&self) -> Mapping {
        self.value
            .pointer(&["metadata", "annotations"])
            .and_then(Value::as_map)
            .cloned()
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gvk_parsing_and_display() {
        let g = Gvk::from_api_version("apps/v1", "Deployment");
        assert_eq!(g.group, "apps");
        let id = ResId {
            gvk: Gvk::from_api_version("v1", "ConfigMap"),
            namespace: String::new(),
            name: "x".into(),
        };
        assert_eq!(id.to_string(), "ConfigMap.v1.[noGrp]/x.[noNs]");
        let mut other = id.clone();
        other.namespace = "default".into();
        assert!(id.same_as(&other));
    }
}
