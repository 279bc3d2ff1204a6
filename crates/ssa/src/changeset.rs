//! The result of an apply or delete: one entry per object with what happened to it.

use std::collections::BTreeMap;
use std::fmt;

use crate::object::ObjMetadata;

/// What happened to one object, spelled as in Flux's events.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    Created,
    Configured,
    Unchanged,
    Deleted,
    Skipped,
    Unknown,
}

impl Action {
    /// The lower-case word Flux uses ("created", "configured", …).
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Created => "created",
            Action::Configured => "configured",
            Action::Unchanged => "unchanged",
            Action::Deleted => "deleted",
            Action::Skipped => "skipped",
            Action::Unknown => "unknown",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One object of a change set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangeSetEntry {
    pub object: ObjMetadata,
    /// The version of the object's `apiVersion` (`v1` for `apps/v1`), for the inventory's `v`.
    pub version: String,
    pub action: Action,
}

impl ChangeSetEntry {
    /// `Kind/namespace/name`.
    pub fn subject(&self) -> String {
        self.object.subject()
    }
}

impl fmt::Display for ChangeSetEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.object.subject(), self.action)
    }
}

/// Entries in the order the objects were applied or deleted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChangeSet {
    pub entries: Vec<ChangeSetEntry>,
}

impl ChangeSet {
    /// Adds the entries of another change set (a later stage) after this one's.
    pub fn append(&mut self, other: ChangeSet) {
        self.entries.extend(other.entries);
    }

    /// Subject → action word, as Flux's `ChangeSet.ToMap`.
    pub fn to_map(&self) -> BTreeMap<String, String> {
        self.entries
            .iter()
            .map(|e| (e.subject(), e.action.to_string()))
            .collect()
    }

    /// One `"<subject> <action>"` line per entry, in order (Flux's `ChangeSet.String`).
    pub fn summary(&self) -> String {
        self.entries
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Only the entries that changed the cluster (created, configured, deleted): what Flux puts
    /// in its events.
    pub fn changed(&self) -> ChangeSet {
        ChangeSet {
            entries: self
                .entries
                .iter()
                .filter(|e| {
                    matches!(
                        e.action,
                        Action::Created | Action::Configured | Action::Deleted
                    )
                })
                .cloned()
                .collect(),
        }
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The objects of all entries.
    pub fn objects(&self) -> Vec<ObjMetadata> {
        self.entries.iter().map(|e| e.object.clone()).collect()
    }
}

impl fmt::Display for ChangeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.summary())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(kind: &str, ns: &str, name: &str, action: Action) -> ChangeSetEntry {
        ChangeSetEntry {
            object: ObjMetadata {
                namespace: ns.into(),
                name: name.into(),
                group: String::new(),
                kind: kind.into(),
            },
            version: "v1".into(),
            action,
        }
    }

    #[test]
    fn summary_and_map_use_flux_wording() {
        let cs = ChangeSet {
            entries: vec![
                entry("Namespace", "", "app", Action::Unchanged),
                entry("Service", "app", "podinfo", Action::Created),
                entry("ConfigMap", "app", "cfg", Action::Configured),
            ],
        };
        assert_eq!(
            cs.summary(),
            "Namespace/app unchanged\nService/app/podinfo created\nConfigMap/app/cfg configured"
        );
        assert_eq!(cs.to_map()["Service/app/podinfo"], "created");
        assert_eq!(cs.changed().entries.len(), 2);
        assert_eq!(Action::Skipped.to_string(), "skipped");
        assert_eq!(Action::Deleted.to_string(), "deleted");
    }
}
