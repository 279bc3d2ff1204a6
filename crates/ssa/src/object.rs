//! Object identity: Flux's `ObjMetadata` (namespace, name, group, kind), its inventory id and
//! the `Kind/namespace/name` subject used in events and errors.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::{Error, Result};

/// The object that owns what is applied (a Kustomization or HelmRelease). Its `group` prefixes
/// the ownership labels (`<group>/name`, `<group>/namespace`) and the per-object annotations
/// (`<group>/ssa`, `<group>/force`, `<group>/prune`, `<group>/reconcile`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owner {
    pub group: String,
    pub name: String,
    pub namespace: String,
}

impl Owner {
    /// The ownership labels Flux puts on every object it applies.
    pub fn labels(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            (format!("{}/name", self.group), self.name.clone()),
            (format!("{}/namespace", self.group), self.namespace.clone()),
        ])
    }
}

/// Identity of one object, ordered and hashed like Flux's inventory entries.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjMetadata {
    pub namespace: String,
    pub name: String,
    pub group: String,
    pub kind: String,
}

const FIELD_SEPARATOR: char = '_';
/// RBAC names may hold ':'; inventory ids spell it '__' (as cli-utils does).
const COLON_TRANSCODED: &str = "__";

impl ObjMetadata {
    /// Reads the identity of a JSON object; fails naming what is missing.
    pub fn from_object(obj: &Value) -> Result<Self> {
        let api_version = str_at(obj, &["apiVersion"]);
        let kind = str_at(obj, &["kind"]);
        let name = str_at(obj, &["metadata", "name"]);
        let namespace = str_at(obj, &["metadata", "namespace"]);
        if kind.is_empty() || api_version.is_empty() || name.is_empty() {
            return Err(Error::InvalidObject(format!(
                "object {}/{}{} is missing {}",
                if kind.is_empty() { "<no kind>" } else { kind },
                if namespace.is_empty() {
                    String::new()
                } else {
                    format!("{namespace}/")
                },
                if name.is_empty() { "<no name>" } else { name },
                [
                    ("apiVersion", api_version.is_empty()),
                    ("kind", kind.is_empty()),
                    ("metadata.name", name.is_empty()),
                ]
                .iter()
                .filter(|(_, missing)| *missing)
                .map(|(f, _)| *f)
                .collect::<Vec<_>>()
                .join(", ")
            )));
        }
        Ok(Self {
            namespace: namespace.to_string(),
            name: name.to_string(),
            group: group_of(api_version).to_string(),
            kind: kind.to_string(),
        })
    }

    /// Flux's inventory id: `<namespace>_<name>_<group>_<kind>` (cluster-scoped objects have
    /// an empty namespace, core objects an empty group: `app_podinfo__Service`).
    pub fn id(&self) -> String {
        format!(
            "{}_{}_{}_{}",
            self.namespace,
            self.name.replace(':', COLON_TRANSCODED),
            self.group,
            self.kind
        )
    }

    /// Parses an inventory id written by [`ObjMetadata::id`] (or by Flux).
    pub fn parse_id(id: &str) -> Result<Self> {
        let bad = || Error::InvalidId(id.to_string());
        let (namespace, rest) = id.split_once(FIELD_SEPARATOR).ok_or_else(bad)?;
        let (rest, kind) = rest.rsplit_once(FIELD_SEPARATOR).ok_or_else(bad)?;
        let (name, group) = rest.rsplit_once(FIELD_SEPARATOR).ok_or_else(bad)?;
        let name = name.replace(COLON_TRANSCODED, ":");
        if name.contains(FIELD_SEPARATOR) || name.is_empty() || kind.is_empty() {
            return Err(bad());
        }
        Ok(Self {
            namespace: namespace.to_string(),
            name,
            group: group.to_string(),
            kind: kind.to_string(),
        })
    }

    /// `Kind/namespace/name`, or `Kind/name` for cluster-scoped objects, as Flux prints them.
    pub fn subject(&self) -> String {
        if self.namespace.is_empty() {
            format!("{}/{}", self.kind, self.name)
        } else {
            format!("{}/{}/{}", self.kind, self.namespace, self.name)
        }
    }
}

impl std::fmt::Display for ObjMetadata {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.subject())
    }
}

/// The string at a path of object keys, or "" when absent or not a string.
pub(crate) fn str_at<'a>(obj: &'a Value, path: &[&str]) -> &'a str {
    let mut cur = obj;
    for key in path {
        match cur.get(key) {
            Some(v) => cur = v,
            None => return "",
        }
    }
    cur.as_str().unwrap_or("")
}

/// `apps/v1` → `apps`; `v1` → "".
pub(crate) fn group_of(api_version: &str) -> &str {
    api_version
        .rsplit_once('/')
        .map(|(g, _)| g)
        .unwrap_or_default()
}

/// `apps/v1` → `v1`; `v1` → `v1`.
pub(crate) fn version_of(api_version: &str) -> &str {
    api_version
        .rsplit_once('/')
        .map(|(_, v)| v)
        .unwrap_or(api_version)
}

/// Whether any of `selector`'s key/value pairs is among the object's labels or annotations
/// (values compared case-insensitively, as Flux does for `Disabled`/`disabled`).
pub(crate) fn any_in_metadata(obj: &Value, selector: &BTreeMap<String, String>) -> bool {
    let meta = obj.get("metadata");
    selector.iter().any(|(k, v)| {
        ["labels", "annotations"].iter().any(|field| {
            meta.and_then(|m| m.get(field))
                .and_then(|m| m.get(k))
                .and_then(Value::as_str)
                .is_some_and(|actual| actual.eq_ignore_ascii_case(v))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn id_round_trips_flux_format() {
        let m = ObjMetadata::from_object(&json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "podinfo", "namespace": "app"}
        }))
        .unwrap();
        assert_eq!(m.id(), "app_podinfo_apps_Deployment");
        assert_eq!(m.subject(), "Deployment/app/podinfo");
        assert_eq!(ObjMetadata::parse_id(&m.id()).unwrap(), m);

        let svc = ObjMetadata::parse_id("app_podinfo__Service").unwrap();
        assert_eq!(svc.group, "");
        assert_eq!(svc.kind, "Service");

        let ns = ObjMetadata::parse_id("_app__Namespace").unwrap();
        assert_eq!(ns.namespace, "");
        assert_eq!(ns.subject(), "Namespace/app");
    }

    #[test]
    fn colon_in_rbac_names_is_transcoded() {
        let m = ObjMetadata {
            namespace: String::new(),
            name: "system:flux:reader".into(),
            group: "rbac.authorization.k8s.io".into(),
            kind: "ClusterRole".into(),
        };
        assert_eq!(
            m.id(),
            "_system__flux__reader_rbac.authorization.k8s.io_ClusterRole"
        );
        assert_eq!(ObjMetadata::parse_id(&m.id()).unwrap(), m);
    }

    #[test]
    fn malformed_ids_are_rejected() {
        for id in ["", "a", "a_b", "a_b_c", "ns_a_b_c_d_Kind_"] {
            assert!(ObjMetadata::parse_id(id).is_err(), "{id}");
        }
    }

    #[test]
    fn object_without_name_names_what_is_missing() {
        let err = ObjMetadata::from_object(&json!({"apiVersion": "v1", "kind": "ConfigMap"}))
            .unwrap_err()
            .to_string();
        assert!(err.contains("metadata.name"), "{err}");
        assert!(err.contains("ConfigMap"), "{err}");
    }

    #[test]
    fn selectors_match_labels_and_annotations_case_insensitively() {
        let obj = json!({"metadata": {
            "labels": {"kustomize.toolkit.fluxcd.io/prune": "Disabled"},
            "annotations": {"kustomize.toolkit.fluxcd.io/ssa": "IfNotPresent"}
        }});
        let sel = |k: &str, v: &str| BTreeMap::from([(k.to_string(), v.to_string())]);
        assert!(any_in_metadata(
            &obj,
            &sel("kustomize.toolkit.fluxcd.io/prune", "disabled")
        ));
        assert!(any_in_metadata(
            &obj,
            &sel("kustomize.toolkit.fluxcd.io/ssa", "ifnotpresent")
        ));
        assert!(!any_in_metadata(
            &obj,
            &sel("kustomize.toolkit.fluxcd.io/ssa", "merge")
        ));
    }
}
