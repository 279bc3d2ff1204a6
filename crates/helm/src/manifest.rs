//! From rendered files to `helm template`'s output: splitting into documents, telling hooks
//! from plain manifests, and Helm's install order (Helm's releaseutil).

use crate::{Error, Result, yaml};
use ferroflux_gotemplate::Value;
use std::collections::BTreeMap;

/// A plain manifest: one document of a rendered template.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// The template path, e.g. `chart/templates/deployment.yaml`.
    pub name: String,
    pub content: String,
    pub kind: String,
}

/// A document carrying a `helm.sh/hook` annotation.
#[derive(Debug, Clone)]
pub struct Hook {
    pub name: String,
    pub kind: String,
    pub path: String,
    pub manifest: String,
    pub events: Vec<String>,
    pub weight: i64,
    pub delete_policies: Vec<String>,
}

impl Hook {
    pub fn is_test(&self) -> bool {
        self.events.iter().any(|e| e == "test")
    }
}

/// Kinds in the order Helm installs them; unknown kinds go last, alphabetically.
pub const INSTALL_ORDER: &[&str] = &[
    "PriorityClass",
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
];

const HOOK_EVENTS: &[(&str, &str)] = &[
    ("pre-install", "pre-install"),
    ("post-install", "post-install"),
    ("pre-delete", "pre-delete"),
    ("post-delete", "post-delete"),
    ("pre-upgrade", "pre-upgrade"),
    ("post-upgrade", "post-upgrade"),
    ("pre-rollback", "pre-rollback"),
    ("post-rollback", "post-rollback"),
    ("test", "test"),
    ("test-success", "test"),
];

/// Helm's `SplitManifests`: documents separated by `---` at a line start, trimmed, empty
/// ones dropped.
///
/// A byte walk doing what Go's regexp `(?:^|\s*\n)---\s*` does (no multi-line flag: `^` is
/// the text start only; `\s` is ASCII `[\t\n\f\r ]`): compiling the regex cost more than
/// splitting every manifest of a chart.
pub fn split_manifests(big: &str) -> Vec<String> {
    fn go_space(b: u8) -> bool {
        matches!(b, b'\t' | b'\n' | b'\x0c' | b'\r' | b' ')
    }
    let s = big.trim();
    let b = s.as_bytes();
    // End of a separator whose `---` starts at `dash`: the dashes and the spaces after them.
    let sep_end = |dash: usize| {
        let mut j = dash + 3;
        while j < b.len() && go_space(b[j]) {
            j += 1;
        }
        j
    };
    let mut pieces: Vec<&str> = Vec::new();
    let mut doc_start = 0;
    if s.starts_with("---") {
        pieces.push("");
        doc_start = sep_end(0);
    }
    while let Some(off) = s[doc_start..].find("\n---") {
        let nl = doc_start + off;
        // The leftmost match starts where the run of spaces ending in that newline starts.
        let mut start = nl;
        while start > doc_start && go_space(b[start - 1]) {
            start -= 1;
        }
        pieces.push(&s[doc_start..start]);
        doc_start = sep_end(nl + 1);
    }
    pieces.push(&s[doc_start..]);
    pieces
        .into_iter()
        .filter(|d| !d.is_empty())
        .map(|d| d.trim().to_string())
        .collect()
}

fn kind_rank(kind: &str) -> Option<usize> {
    INSTALL_ORDER.iter().position(|k| *k == kind)
}

/// Helm's `lessByKind` as a total order for a stable sort.
fn cmp_kind(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering::*;
    match (kind_rank(a), kind_rank(b)) {
        (None, None) => a.cmp(b),
        (None, Some(_)) => Greater,
        (Some(_), None) => Less,
        (Some(x), Some(y)) => x.cmp(&y),
    }
}

struct Head {
    kind: String,
    name: String,
    annotations: Option<BTreeMap<String, String>>,
}

fn unmarshal_err(path: &str, what: &str, field: &str, want: &str) -> Error {
    Error::Manifest(format!(
        "YAML parse error on {path}: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {what} into Go struct field {field} of type {want}"
    ))
}

fn head(path: &str, doc: &str) -> Result<Head> {
    let v = yaml::parse(doc).map_err(|e| {
        Error::Manifest(format!(
            "YAML parse error on {path}: error converting YAML to JSON: {e}"
        ))
    })?;
    let mut h = Head {
        kind: String::new(),
        name: String::new(),
        annotations: None,
    };
    let m = match v {
        Value::Nil => return Ok(h),
        Value::Map(m) => m,
        other => {
            return Err(Error::Manifest(format!(
                "YAML parse error on {path}: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type releaseutil.SimpleHead",
                yaml::json_kind(&other)
            )));
        }
    };
    // sigs.k8s.io/yaml turns a scalar into a string when the target field is a string;
    // only lists and maps are refused.
    let string = |v: Option<Value>, field: &str| -> Result<String> {
        match v {
            None | Some(Value::Nil) => Ok(String::new()),
            Some(Value::String(s)) => Ok(s.to_string()),
            Some(v @ (Value::Bool(_) | Value::Int(_, _) | Value::Float(_))) => {
                Ok(crate::objects::go_print(&v))
            }
            Some(o) => Err(unmarshal_err(path, yaml::json_kind(&o), field, "string")),
        }
    };
    string(m.get("apiVersion"), "SimpleHead.apiVersion")?;
    h.kind = string(m.get("kind"), "SimpleHead.kind")?;
    match m.get("metadata") {
        None | Some(Value::Nil) => {}
        Some(Value::Map(md)) => {
            h.name = string(md.get("name"), "SimpleHead.metadata.name")?;
            match md.get("annotations") {
                None | Some(Value::Nil) => {}
                Some(Value::Map(a)) => {
                    let mut out = BTreeMap::new();
                    for (k, v) in a.read().iter() {
                        out.insert(
                            k.clone(),
                            string(Some(v.clone()), "SimpleHead.metadata.annotations")?,
                        );
                    }
                    h.annotations = Some(out);
                }
                Some(o) => {
                    return Err(unmarshal_err(
                        path,
                        yaml::json_kind(&o),
                        "SimpleHead.metadata.annotations",
                        "map[string]string",
                    ));
                }
            }
        }
        Some(o) => {
            return Err(unmarshal_err(
                path,
                yaml::json_kind(&o),
                "SimpleHead.metadata",
                "struct { Name string \"json:\\\"name\\\"\"; Annotations map[string]string \"json:\\\"annotations\\\"\" }",
            ));
        }
    }
    Ok(h)
}

/// Helm's `SortManifests`: files in path order (partials and blank files skipped), split into
/// documents; hooks separated (unknown hook events dropped); both sorted by kind.
pub fn sort_manifests(files: &BTreeMap<String, String>) -> Result<(Vec<Hook>, Vec<Manifest>)> {
    let mut hooks = Vec::new();
    let mut generic = Vec::new();
    for (path, content) in files {
        let base = path.rsplit('/').next().unwrap_or(path);
        if base.starts_with('_') || content.trim().is_empty() {
            continue;
        }
        for doc in split_manifests(content) {
            let h = head(path, &doc)?;
            let hook_types = h
                .annotations
                .as_ref()
                .filter(|a| !a.is_empty())
                .and_then(|a| a.get("helm.sh/hook").cloned());
            let Some(hook_types) = hook_types else {
                generic.push(Manifest {
                    name: path.clone(),
                    content: doc,
                    kind: h.kind,
                });
                continue;
            };
            let annotations = h.annotations.unwrap_or_default();
            let weight = annotations
                .get("helm.sh/hook-weight")
                .and_then(|w| go_atoi(w))
                .unwrap_or(0);
            let mut events = Vec::new();
            let mut unknown = false;
            for t in hook_types.split(',') {
                let t = t.trim().to_lowercase();
                match HOOK_EVENTS.iter().find(|(n, _)| *n == t) {
                    Some((_, e)) => events.push(e.to_string()),
                    None => {
                        unknown = true;
                        break;
                    }
                }
            }
            if unknown {
                continue;
            }
            let delete_policies = annotations
                .get("helm.sh/hook-delete-policy")
                .map(|p| p.split(',').map(|s| s.trim().to_string()).collect())
                .unwrap_or_default();
            hooks.push(Hook {
                name: h.name,
                kind: h.kind,
                path: path.clone(),
                manifest: doc,
                events,
                weight,
                delete_policies,
            });
        }
    }
    hooks.sort_by(|a, b| cmp_kind(&a.kind, &b.kind));
    generic.sort_by(|a, b| cmp_kind(&a.kind, &b.kind));
    Ok((hooks, generic))
}

/// Go's `strconv.Atoi`.
fn go_atoi(s: &str) -> Option<i64> {
    let d = s.strip_prefix(['+', '-']).unwrap_or(s);
    if d.is_empty() || !d.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_drops_empty_documents_and_trims() {
        let docs = split_manifests("\n---\na: 1\n  \n---  \n\nb: 2\n---\n");
        assert_eq!(docs, vec!["a: 1", "b: 2"]);
        // Like Go's regexp, a separator swallows the newlines before the next `---`.
        let docs = split_manifests("a: 1\n---\n\n---   \nb: 2\n");
        assert_eq!(docs, vec!["a: 1", "---   \nb: 2"]);
        assert_eq!(
            split_manifests("a: 1\n--- # c\nb: 2"),
            vec!["a: 1", "# c\nb: 2"]
        );
    }

    #[test]
    fn split_agrees_with_gos_separator_regex() {
        // The regex Helm splits with, `\s` spelled out as Go's ASCII class.
        let re = regex::Regex::new(r"(?:^|[\t\n\x0c\r ]*\n)---[\t\n\x0c\r ]*").unwrap();
        let by_regex = |big: &str| -> Vec<String> {
            re.split(big.trim())
                .filter(|d| !d.is_empty())
                .map(|d| d.trim().to_string())
                .collect()
        };
        // Every string of up to 7 pieces drawn from the bytes that matter.
        let parts = ["-", "---", "\n", " ", "\t", "a", "\r\n"];
        let mut stack = vec![String::new()];
        while let Some(s) = stack.pop() {
            assert_eq!(split_manifests(&s), by_regex(&s), "{s:?}");
            if s.len() < 8 {
                for p in parts {
                    stack.push(format!("{s}{p}"));
                }
            }
        }
    }

    #[test]
    fn install_order_then_unknown_kinds_alphabetically() {
        let mut files = BTreeMap::new();
        files.insert(
            "c/templates/a.yaml".to_string(),
            "kind: Zeta\n---\nkind: Deployment\n---\nkind: Alpha\n---\nkind: Service\n---\nkind: Namespace\n".to_string(),
        );
        let (_, m) = sort_manifests(&files).unwrap();
        let kinds: Vec<&str> = m.iter().map(|m| m.kind.as_str()).collect();
        assert_eq!(
            kinds,
            vec!["Namespace", "Service", "Deployment", "Alpha", "Zeta"]
        );
    }

    #[test]
    fn hooks_are_identified_with_weights_and_policies() {
        let mut files = BTreeMap::new();
        files.insert(
            "c/templates/h.yaml".to_string(),
            "kind: Job\nmetadata:\n  name: j\n  annotations:\n    helm.sh/hook: pre-install, test-success\n    helm.sh/hook-weight: \"-5\"\n    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded\n---\nkind: Pod\nmetadata:\n  annotations:\n    helm.sh/hook: nonsense\n".to_string(),
        );
        let (h, m) = sort_manifests(&files).unwrap();
        assert!(m.is_empty());
        assert_eq!(h.len(), 1, "unknown hook events are dropped like Helm");
        assert_eq!(h[0].events, vec!["pre-install", "test"]);
        assert_eq!(h[0].weight, -5);
        assert_eq!(
            h[0].delete_policies,
            vec!["before-hook-creation", "hook-succeeded"]
        );
        assert!(h[0].is_test());
    }

    #[test]
    fn list_where_a_string_belongs_is_a_parse_error() {
        let mut files = BTreeMap::new();
        files.insert(
            "c/templates/x.yaml".to_string(),
            "kind: A\nmetadata:\n  annotations:\n    n: [1]\n".to_string(),
        );
        let e = sort_manifests(&files).unwrap_err().to_string();
        assert!(
            e.starts_with("YAML parse error on c/templates/x.yaml"),
            "{e}"
        );
    }
}
