//! Flux's inventory (`status.inventory.entries[]`): which objects a Kustomization applied, so
//! the ones that left the source can be pruned.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::Result;
use crate::changeset::ChangeSet;
use crate::object::ObjMetadata;

/// One inventory entry: `id` is `<ns>_<name>_<group>_<kind>`, `v` the API version
/// (`v1` for `apps/v1`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Entry {
    pub id: String,
    pub v: String,
}

/// The inventory of a change set: every entry (skipped ones too, as Flux does), sorted by id
/// so that the status does not churn when the build order changes.
pub fn from_change_set(cs: &ChangeSet) -> Vec<Entry> {
    let set: BTreeSet<Entry> = cs
        .entries
        .iter()
        .map(|e| Entry {
            id: e.object.id(),
            v: e.version.clone(),
        })
        .collect();
    set.into_iter().collect()
}

/// The objects of `old` that are not in `new` (by id, whatever the version): what to prune.
/// Ids that do not parse are left out: they cannot name an object to delete.
pub fn stale(old: &[Entry], new: &[Entry]) -> Vec<ObjMetadata> {
    let keep: BTreeSet<&str> = new.iter().map(|e| e.id.as_str()).collect();
    let mut out: Vec<ObjMetadata> = old
        .iter()
        .filter(|e| !keep.contains(e.id.as_str()))
        .filter_map(|e| ObjMetadata::parse_id(&e.id).ok())
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The objects of an inventory, failing on the first id that does not parse.
pub fn objects(entries: &[Entry]) -> Result<Vec<ObjMetadata>> {
    entries
        .iter()
        .map(|e| ObjMetadata::parse_id(&e.id))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::changeset::{Action, ChangeSetEntry};

    fn e(id: &str, v: &str) -> Entry {
        Entry {
            id: id.into(),
            v: v.into(),
        }
    }

    #[test]
    fn from_change_set_sorts_and_keeps_versions() {
        let cs = ChangeSet {
            entries: vec![
                ChangeSetEntry {
                    object: ObjMetadata::parse_id("app_podinfo_apps_Deployment").unwrap(),
                    version: "v1".into(),
                    action: Action::Created,
                },
                ChangeSetEntry {
                    object: ObjMetadata::parse_id("_app__Namespace").unwrap(),
                    version: "v1".into(),
                    action: Action::Skipped,
                },
            ],
        };
        assert_eq!(
            from_change_set(&cs),
            vec![
                e("_app__Namespace", "v1"),
                e("app_podinfo_apps_Deployment", "v1")
            ]
        );
    }

    #[test]
    fn stale_is_old_minus_new_by_id() {
        let old = vec![
            e("app_podinfo_apps_Deployment", "v1"),
            e("app_cfg__ConfigMap", "v1"),
            e("app_hpa_autoscaling_HorizontalPodAutoscaler", "v2beta2"),
        ];
        let new = vec![
            e("app_podinfo_apps_Deployment", "v1"),
            // a version change is not a removal
            e("app_hpa_autoscaling_HorizontalPodAutoscaler", "v2"),
        ];
        let stale = stale(&old, &new);
        assert_eq!(stale.len(), 1);
        assert_eq!(stale[0].subject(), "ConfigMap/app/cfg");
    }
}
