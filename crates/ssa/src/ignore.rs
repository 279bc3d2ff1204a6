//! Drift-ignore rules (the Kustomization's `spec.ignore`): JSON pointers that other
//! controllers or people own on the applied objects, so the apply neither reverts them nor
//! counts their changes as drift.
//!
//! For an object that already exists, every ignored path present in the cluster is reshaped
//! in the desired object before the dry run: taken out when another server-side-apply
//! manager owns the field (so ours lets go of it and theirs is kept), otherwise set to the
//! live value (so applying keeps it as it is). Drift detection compares the live object and
//! the dry-run result with the ignored paths removed from both. New objects are created
//! whole, ignored fields included, as Flux does.

use std::collections::BTreeMap;

use regex::Regex;
use serde_json::Value;

use crate::object::{group_of, str_at, version_of};
use crate::{Error, Result};

/// Which objects a rule applies to: every field optional; `group`, `version`, `kind`, `name`
/// and `namespace` are anchored regular expressions, the two selectors use Kubernetes'
/// label-selector syntax.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selector {
    pub group: Option<String>,
    pub version: Option<String>,
    pub kind: Option<String>,
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub label_selector: Option<String>,
    pub annotation_selector: Option<String>,
}

/// One rule: JSON pointers (RFC 6901), for the objects its target selects (all without one).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IgnoreRule {
    pub paths: Vec<String>,
    pub target: Option<Selector>,
}

#[derive(Clone, Debug)]
struct Compiled {
    rule: IgnoreRule,
    /// group, version, kind, name, namespace
    regexes: [Option<Regex>; 5],
    labels: Option<Vec<Requirement>>,
    annotations: Option<Vec<Requirement>>,
}

/// Validated rules, ready to match objects.
#[derive(Clone, Debug, Default)]
pub struct IgnoreRules {
    rules: Vec<Compiled>,
}

impl PartialEq for IgnoreRules {
    fn eq(&self, other: &Self) -> bool {
        self.rules.len() == other.rules.len()
            && self
                .rules
                .iter()
                .zip(&other.rules)
                .all(|(a, b)| a.rule == b.rule)
    }
}

impl Eq for IgnoreRules {}

impl IgnoreRules {
    /// Checks every pointer and compiles every selector; the error names the rule.
    pub fn new(rules: Vec<IgnoreRule>) -> Result<Self> {
        let mut out = Vec::with_capacity(rules.len());
        for (i, rule) in rules.into_iter().enumerate() {
            let bad = |m: String| Error::InvalidIgnoreRule(format!("ignore[{i}]: {m}"));
            for p in &rule.paths {
                if !p.starts_with('/') {
                    return Err(bad(format!(
                        "path '{p}' is not a JSON pointer (it must start with '/')"
                    )));
                }
            }
            let sel = rule.target.clone().unwrap_or_default();
            let re = |s: &Option<String>| -> Result<Option<Regex>> {
                match s.as_deref().filter(|s| !s.is_empty()) {
                    None => Ok(None),
                    Some(s) => Regex::new(&format!("^(?:{s})$"))
                        .map(Some)
                        .map_err(|e| bad(format!("invalid target regex '{s}': {e}"))),
                }
            };
            let regexes = [
                re(&sel.group)?,
                re(&sel.version)?,
                re(&sel.kind)?,
                re(&sel.name)?,
                re(&sel.namespace)?,
            ];
            let parse = |s: &Option<String>| -> Result<Option<Vec<Requirement>>> {
                match s.as_deref().filter(|s| !s.trim().is_empty()) {
                    None => Ok(None),
                    Some(s) => parse_selector(s).map(Some).map_err(bad),
                }
            };
            out.push(Compiled {
                labels: parse(&sel.label_selector)?,
                annotations: parse(&sel.annotation_selector)?,
                regexes,
                rule,
            });
        }
        Ok(IgnoreRules { rules: out })
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The pointers ignored on `obj` (a desired object), in rule order.
    pub fn paths_for(&self, obj: &Value) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for c in &self.rules {
            if c.matches(obj) {
                for p in &c.rule.paths {
                    if !out.contains(p) {
                        out.push(p.clone());
                    }
                }
            }
        }
        out
    }
}

impl Compiled {
    fn matches(&self, obj: &Value) -> bool {
        let api_version = str_at(obj, &["apiVersion"]);
        let fields = [
            group_of(api_version),
            version_of(api_version),
            str_at(obj, &["kind"]),
            str_at(obj, &["metadata", "name"]),
            str_at(obj, &["metadata", "namespace"]),
        ];
        if self
            .regexes
            .iter()
            .zip(fields)
            .any(|(re, value)| re.as_ref().is_some_and(|re| !re.is_match(value)))
        {
            return false;
        }
        let map = |key: &str| -> BTreeMap<String, String> {
            obj.pointer(&format!("/metadata/{key}"))
                .and_then(Value::as_object)
                .map(|m| {
                    m.iter()
                        .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                        .collect()
                })
                .unwrap_or_default()
        };
        if let Some(reqs) = &self.labels
            && !selector_matches(reqs, &map("labels"))
        {
            return false;
        }
        if let Some(reqs) = &self.annotations
            && !selector_matches(reqs, &map("annotations"))
        {
            return false;
        }
        true
    }
}

/// One requirement of a label selector.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

/// Splits on commas outside parentheses.
fn split_requirements(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                out.push(s[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(s[start..].trim());
    out
}

fn valid_key(k: &str) -> bool {
    !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
}

/// Kubernetes label-selector syntax: `k=v`, `k==v`, `k!=v`, `k`, `!k`, `k in (a,b)`,
/// `k notin (a,b)`.
fn parse_selector(s: &str) -> std::result::Result<Vec<Requirement>, String> {
    let mut out = Vec::new();
    for req in split_requirements(s) {
        let bad = || format!("unable to parse selector requirement '{req}' in '{s}'");
        let set = |rest: &str| -> std::result::Result<Vec<String>, String> {
            let rest = rest.trim();
            let inner = rest
                .strip_prefix('(')
                .and_then(|r| r.strip_suffix(')'))
                .ok_or_else(bad)?;
            Ok(inner
                .split(',')
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .collect())
        };
        let r = if let Some((k, v)) = req.split_once("!=") {
            Requirement::NotEquals(k.trim().into(), v.trim().into())
        } else if let Some((k, v)) = req.split_once("==").or_else(|| req.split_once('=')) {
            Requirement::Equals(k.trim().into(), v.trim().into())
        } else if let Some((k, rest)) = req.split_once(" notin ") {
            Requirement::NotIn(k.trim().into(), set(rest)?)
        } else if let Some((k, rest)) = req.split_once(" in ") {
            Requirement::In(k.trim().into(), set(rest)?)
        } else if let Some(k) = req.strip_prefix('!') {
            Requirement::NotExists(k.trim().into())
        } else {
            Requirement::Exists(req.to_string())
        };
        let key = match &r {
            Requirement::Equals(k, _)
            | Requirement::NotEquals(k, _)
            | Requirement::In(k, _)
            | Requirement::NotIn(k, _)
            | Requirement::Exists(k)
            | Requirement::NotExists(k) => k,
        };
        if !valid_key(key) {
            return Err(bad());
        }
        out.push(r);
    }
    Ok(out)
}

fn selector_matches(reqs: &[Requirement], m: &BTreeMap<String, String>) -> bool {
    reqs.iter().all(|r| match r {
        Requirement::Equals(k, v) => m.get(k) == Some(v),
        Requirement::NotEquals(k, v) => m.get(k) != Some(v),
        Requirement::In(k, vs) => m.get(k).is_some_and(|v| vs.contains(v)),
        Requirement::NotIn(k, vs) => !m.get(k).is_some_and(|v| vs.contains(v)),
        Requirement::Exists(k) => m.contains_key(k),
        Requirement::NotExists(k) => !m.contains_key(k),
    })
}

/// RFC 6901 tokens of a pointer (`~1` is `/`, `~0` is `~`).
fn tokens(pointer: &str) -> Vec<String> {
    pointer
        .split('/')
        .skip(1)
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect()
}

/// Removes the value at `pointer`; true when something was there.
pub(crate) fn remove_path(obj: &mut Value, pointer: &str) -> bool {
    let Some((parent, _)) = pointer.rsplit_once('/') else {
        return false;
    };
    let toks = tokens(pointer);
    let Some(last) = toks.last() else {
        return false;
    };
    match obj.pointer_mut(parent) {
        Some(Value::Object(m)) => m.remove(last).is_some(),
        Some(Value::Array(a)) => match last.parse::<usize>() {
            Ok(i) if i < a.len() => {
                a.remove(i);
                true
            }
            _ => false,
        },
        _ => false,
    }
}

/// Sets the value at `pointer`, creating missing objects on the way; false when an array
/// index or a non-object is in the way.
fn set_path(obj: &mut Value, pointer: &str, value: Value) -> bool {
    let toks = tokens(pointer);
    let Some((last, parents)) = toks.split_last() else {
        return false;
    };
    let mut cur = obj;
    for t in parents {
        cur = match cur {
            Value::Object(m) => m
                .entry(t.clone())
                .or_insert_with(|| Value::Object(Default::default())),
            Value::Array(a) => match t.parse::<usize>().ok().and_then(|i| a.get_mut(i)) {
                Some(v) => v,
                None => return false,
            },
            _ => return false,
        };
    }
    match cur {
        Value::Object(m) => {
            m.insert(last.clone(), value);
            true
        }
        Value::Array(a) => match last.parse::<usize>().ok().and_then(|i| a.get_mut(i)) {
            Some(slot) => {
                *slot = value;
                true
            }
            None => false,
        },
        _ => false,
    }
}

/// A copy of `obj` without the ignored paths, for comparing.
pub(crate) fn without(obj: &Value, paths: &[String]) -> Value {
    let mut out = obj.clone();
    for p in paths {
        remove_path(&mut out, p);
    }
    out
}

/// Whether a server-side-apply manager other than `ours` owns the field at `pointer`
/// (`metadata.managedFields[].fieldsV1`). Only map keys are followed: a pointer through a
/// list is never counted as owned by another manager.
fn owned_by_other_applier(live: &Value, pointer: &str, ours: &str) -> bool {
    let toks = tokens(pointer);
    let Some(entries) = live
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
    else {
        return false;
    };
    entries.iter().any(|e| {
        if str_at(e, &["operation"]) != "Apply" || str_at(e, &["manager"]) == ours {
            return false;
        }
        let mut cur = match e.get("fieldsV1") {
            Some(v) => v,
            None => return false,
        };
        for t in &toks {
            match cur.get(format!("f:{t}")) {
                Some(v) => cur = v,
                None => return false,
            }
        }
        true
    })
}

/// Reshapes a desired object for an existing live one: each ignored path present in the
/// cluster is taken out when another applier owns it, else set to the live value.
pub(crate) fn reshape(desired: &mut Value, live: &Value, paths: &[String], ours: &str) {
    for p in paths {
        let Some(live_value) = live.pointer(p) else {
            // Absent in the cluster: the desired value (if any) stands, as in Flux.
            continue;
        };
        if owned_by_other_applier(live, p, ours) {
            remove_path(desired, p);
        } else if desired.pointer(p) != Some(live_value) {
            set_path(desired, p, live_value.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deploy() -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "apps",
                         "labels": {"app": "web", "tier": "fe"},
                         "annotations": {"a/b": "x"}},
            "spec": {"replicas": 2, "template": {"spec": {"containers": [{"name": "c", "image": "i:1"}]}}}
        })
    }

    fn rules(paths: &[&str], target: Option<Selector>) -> IgnoreRules {
        IgnoreRules::new(vec![IgnoreRule {
            paths: paths.iter().map(|s| s.to_string()).collect(),
            target,
        }])
        .unwrap()
    }

    #[test]
    fn no_target_matches_everything() {
        let r = rules(&["/spec/replicas"], None);
        assert_eq!(r.paths_for(&deploy()), vec!["/spec/replicas"]);
    }

    #[test]
    fn target_fields_are_anchored_regexes_and_selectors() {
        let sel = |f: fn(&mut Selector)| {
            let mut s = Selector::default();
            f(&mut s);
            rules(&["/spec/replicas"], Some(s))
        };
        let d = deploy();
        for (r, want) in [
            (sel(|s| s.kind = Some("Deployment".into())), true),
            (sel(|s| s.kind = Some("Deploy".into())), false),
            (sel(|s| s.kind = Some("Deploy.*".into())), true),
            (sel(|s| s.group = Some("apps".into())), true),
            (sel(|s| s.group = Some("".into())), true),
            (sel(|s| s.version = Some("v1".into())), true),
            (sel(|s| s.version = Some("v1beta1".into())), false),
            (sel(|s| s.name = Some("w.*".into())), true),
            (sel(|s| s.namespace = Some("other".into())), false),
            (
                sel(|s| s.label_selector = Some("app=web,tier in (fe, be)".into())),
                true,
            ),
            (sel(|s| s.label_selector = Some("app!=web".into())), false),
            (sel(|s| s.label_selector = Some("!missing".into())), true),
            (
                sel(|s| s.label_selector = Some("tier notin (fe)".into())),
                false,
            ),
            (sel(|s| s.annotation_selector = Some("a/b=x".into())), true),
            (sel(|s| s.annotation_selector = Some("a/b".into())), true),
            (sel(|s| s.annotation_selector = Some("a/b=y".into())), false),
        ] {
            assert_eq!(!r.paths_for(&d).is_empty(), want, "{:?}", r.rules[0].rule);
        }
    }

    #[test]
    fn invalid_rules_are_refused_with_their_index() {
        let bad_path = IgnoreRules::new(vec![IgnoreRule {
            paths: vec!["spec.replicas".into()],
            target: None,
        }])
        .unwrap_err();
        assert!(bad_path.to_string().contains("ignore[0]"), "{bad_path}");
        assert!(bad_path.to_string().contains("JSON pointer"), "{bad_path}");
        let bad_re = IgnoreRules::new(vec![
            IgnoreRule::default(),
            IgnoreRule {
                paths: vec![],
                target: Some(Selector {
                    kind: Some("(".into()),
                    ..Default::default()
                }),
            },
        ])
        .unwrap_err();
        assert!(bad_re.to_string().contains("ignore[1]"), "{bad_re}");
        let bad_sel = IgnoreRules::new(vec![IgnoreRule {
            paths: vec![],
            target: Some(Selector {
                label_selector: Some("a in b".into()),
                ..Default::default()
            }),
        }]);
        assert!(bad_sel.is_err());
    }

    #[test]
    fn pointers_unescape_and_reach_into_lists() {
        let mut d = deploy();
        assert!(remove_path(&mut d, "/metadata/annotations/a~1b"));
        assert!(d.pointer("/metadata/annotations/a~1b").is_none());
        assert!(remove_path(
            &mut d,
            "/spec/template/spec/containers/0/image"
        ));
        assert_eq!(
            d["spec"]["template"]["spec"]["containers"][0],
            json!({"name": "c"})
        );
        assert!(!remove_path(&mut d, "/spec/missing/x"));
        assert!(set_path(&mut d, "/spec/strategy/type", json!("Recreate")));
        assert_eq!(d["spec"]["strategy"]["type"], "Recreate");
        assert!(!set_path(
            &mut d,
            "/spec/template/spec/containers/5/image",
            json!("x")
        ));
    }

    #[test]
    fn reshape_adopts_live_values_unless_another_applier_owns_them() {
        let mut live = deploy();
        live["spec"]["replicas"] = json!(5);
        live["metadata"]["annotations"]["a/b"] = json!("live");
        live["metadata"]["managedFields"] = json!([
            {"manager": "hpa", "operation": "Apply",
             "fieldsV1": {"f:spec": {"f:replicas": {}}}},
            {"manager": "kubectl-edit", "operation": "Update",
             "fieldsV1": {"f:metadata": {"f:annotations": {"f:a/b": {}}}}},
            {"manager": "kustomize-controller", "operation": "Apply",
             "fieldsV1": {"f:metadata": {"f:annotations": {"f:a/b": {}}}}}
        ]);
        let mut desired = deploy();
        let paths = vec![
            "/spec/replicas".to_string(),
            "/metadata/annotations/a~1b".to_string(),
            "/spec/paused".to_string(),
        ];
        reshape(&mut desired, &live, &paths, "kustomize-controller");
        // hpa applies spec.replicas: ours lets go of it.
        assert!(desired.pointer("/spec/replicas").is_none());
        // kubectl edited the annotation (an update, not an applier): ours keeps it as is.
        assert_eq!(desired["metadata"]["annotations"]["a/b"], "live");
        // Absent in the cluster and in the source: nothing appears.
        assert!(desired.pointer("/spec/paused").is_none());
    }

    #[test]
    fn without_removes_only_the_ignored_paths() {
        let d = deploy();
        let w = without(&d, &["/spec/replicas".into(), "/nope".into()]);
        assert!(w.pointer("/spec/replicas").is_none());
        assert_eq!(w["metadata"], d["metadata"]);
    }
}
