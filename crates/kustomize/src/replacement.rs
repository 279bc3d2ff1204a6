//! `replacements`: copy a field of one object into fields of others (kustomize's
//! ReplacementTransformer), inline or from `path:` files.

use crate::error::{Error, Result};
use crate::kustomization::Selector;
use crate::patch::CompiledSelector;
use crate::resource::Resource;
use crate::value::{Mapping, Value};
use serde::Deserialize;

/// One replacement: a source field and where it goes.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Replacement {
    /// Where the value comes from.
    pub source: Option<Source>,
    /// Where it goes.
    pub targets: Vec<Target>,
}

/// A replacement source: exactly one object, and a field of it.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Source {
    /// Group.
    pub group: Option<String>,
    /// Version.
    pub version: Option<String>,
    /// Kind.
    pub kind: Option<String>,
    /// Name.
    pub name: Option<String>,
    /// Namespace.
    pub namespace: Option<String>,
    /// Field path (default `metadata.name`).
    pub field_path: Option<String>,
    /// Part of the value to take.
    pub options: Option<FieldOptions>,
}

/// A replacement target.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Target {
    /// Objects to change.
    pub select: Option<Selector>,
    /// Objects to leave alone even when selected.
    pub reject: Vec<Selector>,
    /// Fields to set.
    pub field_paths: Vec<String>,
    /// How to set them.
    pub options: Option<FieldOptions>,
}

/// `options` of a source or target.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct FieldOptions {
    /// Split the value on this delimiter…
    pub delimiter: Option<String>,
    /// …and use (or replace) this part of it.
    pub index: i64,
    /// Create the target field when missing.
    pub create: bool,
}

/// Apply `reps` in order. `origin` names the kustomization (or replacement file) for errors.
pub fn apply(res: &mut [Resource], reps: &[Replacement], origin: &str) -> Result<()> {
    for r in reps {
        apply_one(res, r, origin)?;
    }
    Ok(())
}

fn err(origin: &str, msg: String) -> Error {
    Error::Transform(format!("{origin}: replacements: {msg}"))
}

fn source_matches(s: &Source, r: &Resource) -> bool {
    let eq = |want: &Option<String>, have: &str| {
        want.as_deref().is_none_or(|w| w.is_empty() || w == have)
    };
    let gvk = r.gvk();
    if !eq(&s.group, &gvk.group) || !eq(&s.version, &gvk.version) || !eq(&s.kind, &gvk.kind) {
        return false;
    }
    let ids = std::iter::once(r.id()).chain(r.prev_ids.iter().cloned());
    let ns_of = |n: &str| {
        if n.is_empty() {
            "default".to_string()
        } else {
            n.to_string()
        }
    };
    ids.into_iter().any(|id| {
        eq(&s.name, &id.name)
            && s.namespace
                .as_deref()
                .is_none_or(|n| n.is_empty() || ns_of(n) == ns_of(&id.namespace))
    })
}

fn describe(s: &Source) -> String {
    let parts = [
        s.group.as_deref().unwrap_or_default(),
        s.version.as_deref().unwrap_or_default(),
        s.kind.as_deref().unwrap_or_default(),
        s.name.as_deref().unwrap_or_default(),
        s.namespace.as_deref().unwrap_or_default(),
    ];
    format!(
        "group '{}' version '{}' kind '{}' name '{}' namespace '{}'",
        parts[0], parts[1], parts[2], parts[3], parts[4]
    )
}

fn apply_one(res: &mut [Resource], r: &Replacement, origin: &str) -> Result<()> {
    let src = r
        .source
        .as_ref()
        .ok_or_else(|| err(origin, "replacement source is missing".into()))?;
    let hits: Vec<usize> = res
        .iter()
        .enumerate()
        .filter(|(_, x)| source_matches(src, x))
        .map(|(i, _)| i)
        .collect();
    let i = match hits.as_slice() {
        [i] => *i,
        [] => {
            return Err(err(
                origin,
                format!("nothing selected by source {}", describe(src)),
            ));
        }
        _ => {
            return Err(err(
                origin,
                format!("multiple matches for source {}", describe(src)),
            ));
        }
    };
    let path = src.field_path.as_deref().unwrap_or("metadata.name");
    let segs = split_field_path(path);
    let mut found = Vec::new();
    collect(&res[i].value, &segs, &mut found);
    let mut value = match found.as_slice() {
        [v] => (*v).clone(),
        [] => {
            return Err(err(
                origin,
                format!(
                    "fieldPath '{path}' is missing for replacement source {}",
                    describe(src)
                ),
            ));
        }
        _ => {
            return Err(err(
                origin,
                format!(
                    "fieldPath '{path}' of source {} matches several fields",
                    describe(src)
                ),
            ));
        }
    };
    if let Some(o) = &src.options
        && let Some(d) = o.delimiter.as_deref().filter(|d| !d.is_empty())
    {
        let text = value.scalar_string().ok_or_else(|| {
            err(
                origin,
                "delimiter option can only be used with scalar nodes".into(),
            )
        })?;
        let parts: Vec<&str> = text.split(d).collect();
        let part = usize::try_from(o.index)
            .ok()
            .and_then(|ix| parts.get(ix))
            .ok_or_else(|| {
                err(
                    origin,
                    format!(
                        "options.index {} is out of bounds for value {text}",
                        o.index
                    ),
                )
            })?;
        value = Value::String((*part).to_string());
    }
    for t in &r.targets {
        let sel = t
            .select
            .as_ref()
            .ok_or_else(|| err(origin, "target must specify resources to select".into()))?;
        let sel = CompiledSelector::new(sel)?;
        let rejects = t
            .reject
            .iter()
            .map(CompiledSelector::new)
            .collect::<Result<Vec<_>>>()?;
        if t.field_paths.is_empty() {
            return Err(err(origin, "target must specify fieldPaths".into()));
        }
        for obj in res.iter_mut() {
            if !sel.matches(obj)? || rejects.iter().any(|r| r.matches(obj).unwrap_or(false)) {
                continue;
            }
            let create = t.options.as_ref().is_some_and(|o| o.create);
            for fp in &t.field_paths {
                let segs = split_field_path(fp);
                let n = set_all(&mut obj.value, &segs, create, &value, t.options.as_ref())
                    .map_err(|m| err(origin, m))?;
                if n == 0 && !create {
                    return Err(err(
                        origin,
                        format!(
                            "unable to find field \"{fp}\" in replacement target {}",
                            obj.id()
                        ),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Split a field path on `.` outside `[…]`.
pub fn split_field_path(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut depth = 0usize;
    for c in path.chars() {
        match c {
            '[' => {
                depth += 1;
                cur.push(c);
            }
            ']' => {
                depth = depth.saturating_sub(1);
                cur.push(c);
            }
            '.' if depth == 0 => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// A `[key=value]` list item selector.
fn item_filter(seg: &str) -> Option<(&str, &str)> {
    seg.strip_prefix('[')?.strip_suffix(']')?.split_once('=')
}

fn item_matches(item: &Value, k: &str, v: &str) -> bool {
    item.get(k).and_then(Value::scalar_string).as_deref() == Some(v)
}

fn collect<'a>(node: &'a Value, segs: &[String], out: &mut Vec<&'a Value>) {
    let Some((first, rest)) = segs.split_first() else {
        out.push(node);
        return;
    };
    match node {
        Value::Map(m) => {
            if first == "*" {
                m.values().for_each(|v| collect(v, rest, out));
            } else if let Some(v) = m.get(first) {
                collect(v, rest, out);
            }
        }
        Value::Seq(items) => {
            if first == "*" {
                items.iter().for_each(|v| collect(v, rest, out));
            } else if let Some((k, v)) = item_filter(first) {
                items
                    .iter()
                    .filter(|i| item_matches(i, k, v))
                    .for_each(|i| collect(i, rest, out));
            } else if let Some(v) = first.parse::<usize>().ok().and_then(|i| items.get(i)) {
                collect(v, rest, out);
            }
        }
        _ => {}
    }
}

/// Set every field `segs` reaches; returns how many were set.
fn set_all(
    node: &mut Value,
    segs: &[String],
    create: bool,
    value: &Value,
    opts: Option<&FieldOptions>,
) -> Result<usize, String> {
    let Some((first, rest)) = segs.split_first() else {
        set_field(node, value, opts)?;
        return Ok(1);
    };
    if create && matches!(node, Value::Null) {
        *node = if item_filter(first).is_some() || first.parse::<usize>().is_ok() {
            Value::Seq(Vec::new())
        } else {
            Value::Map(Mapping::default())
        };
    }
    let mut n = 0;
    match node {
        Value::Map(m) => {
            if first == "*" {
                for v in m.values_mut() {
                    n += set_all(v, rest, create, value, opts)?;
                }
            } else {
                if !m.contains_key(first.as_str()) {
                    if !create {
                        return Ok(0);
                    }
                    m.insert(first.clone(), Value::Null);
                }
                if let Some(v) = m.get_mut(first.as_str()) {
                    n += set_all(v, rest, create, value, opts)?;
                }
            }
        }
        Value::Seq(items) => {
            if first == "*" {
                for v in items.iter_mut() {
                    n += set_all(v, rest, create, value, opts)?;
                }
            } else if let Some((k, want)) = item_filter(first) {
                let mut any = false;
                for v in items.iter_mut().filter(|i| item_matches(i, k, want)) {
                    any = true;
                    n += set_all(v, rest, create, value, opts)?;
                }
                if !any && create {
                    let mut item = Mapping::default();
                    item.insert(k.to_string(), Value::String(want.to_string()));
                    items.push(Value::Map(item));
                    if let Some(v) = items.last_mut() {
                        n += set_all(v, rest, create, value, opts)?;
                    }
                }
            } else if let Some(v) = first.parse::<usize>().ok().and_then(|ix| items.get_mut(ix)) {
                n += set_all(v, rest, create, value, opts)?;
            }
        }
        _ => {}
    }
    Ok(n)
}

/// Set one target field: scalars take the value's text and keep their own type where the
/// text allows (kustomize copies only the scalar's text), other nodes are replaced.
fn set_field(target: &mut Value, value: &Value, opts: Option<&FieldOptions>) -> Result<(), String> {
    let mut value = value.clone();
    if let Some(o) = opts
        && let Some(d) = o.delimiter.as_deref().filter(|d| !d.is_empty())
    {
        let cur = match &*target {
            Value::Map(_) | Value::Seq(_) => {
                return Err("delimiter option can only be used with scalar nodes".into());
            }
            other => other.scalar_string().unwrap_or_default(),
        };
        let v = value.scalar_string().unwrap_or_default();
        let mut parts: Vec<String> = cur.split(d).map(str::to_string).collect();
        match usize::try_from(o.index) {
            Err(_) => parts.insert(0, v),
            Ok(i) if i >= parts.len() => parts.push(v),
            Ok(i) => parts[i] = v,
        }
        value = Value::String(parts.join(d));
    }
    *target = match (&*target, &value) {
        (Value::Map(_) | Value::Seq(_) | Value::Null, _) => value,
        (_, Value::Map(_) | Value::Seq(_)) => value,
        (Value::String(_), v) => Value::String(v.scalar_string().unwrap_or_default()),
        (Value::Int(_) | Value::UInt(_), v) => {
            let text = v.scalar_string().unwrap_or_default();
            text.parse::<i64>().map(Value::Int).unwrap_or(value.clone())
        }
        (Value::Bool(_), v) => match v.scalar_string().as_deref() {
            Some("true") => Value::Bool(true),
            Some("false") => Value::Bool(false),
            _ => value.clone(),
        },
        (Value::Float(_), v) => {
            let text = v.scalar_string().unwrap_or_default();
            text.parse::<f64>()
                .map(Value::Float)
                .unwrap_or(value.clone())
        }
    };
    Ok(())
}

/// Parse the replacements of a `path:` file: a list of replacements, or one.
pub fn parse_file(path: &std::path::Path, text: &str) -> Result<Vec<Replacement>> {
    let docs = crate::loader::parse_docs(path, text)?;
    let mut out = Vec::new();
    for d in docs {
        let items = match d {
            Value::Null => continue,
            Value::Seq(s) => s,
            other => vec![other],
        };
        for i in items {
            out.push(
                serde_json::from_value(i.to_json()).map_err(|e| Error::Yaml {
                    path: path.to_path_buf(),
                    message: e.to_string(),
                })?,
            );
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(y: &str) -> Vec<Resource> {
        crate::loader::parse_objects(std::path::Path::new("t.yaml"), y).unwrap()
    }
    fn reps(y: &str) -> Vec<Replacement> {
        parse_file(std::path::Path::new("r.yaml"), y).unwrap()
    }

    const OBJS: &str = "apiVersion: v1\nkind: Service\nmetadata: {name: dex, namespace: auth}\n---\napiVersion: networking.istio.io/v1alpha3\nkind: VirtualService\nmetadata: {name: dex}\nspec:\n  http:\n  - route:\n    - destination: {host: x.y.svc.cluster.local, port: {number: 5556}}\n  ports: [{name: a, port: '80'}]\n";

    #[test]
    fn delimiter_and_index_replace_parts() {
        let mut r = res(OBJS);
        let rs = reps(
            "- source: {kind: Service, name: dex}\n  targets:\n  - select: {kind: VirtualService}\n    fieldPaths: [spec.http.0.route.0.destination.host]\n    options: {delimiter: .}\n- source: {kind: Service, name: dex, fieldPath: metadata.namespace}\n  targets:\n  - select: {kind: VirtualService}\n    fieldPaths: ['spec.http.*.route.0.destination.host']\n    options: {delimiter: ., index: 1}\n",
        );
        apply(&mut r, &rs, "k").unwrap();
        let host = r[1]
            .value
            .pointer(&["spec", "http"])
            .unwrap()
            .as_seq()
            .unwrap()[0]
            .get("route")
            .unwrap()
            .as_seq()
            .unwrap()[0]
            .str_at(&["destination", "host"])
            .map(str::to_string);
        assert_eq!(host.as_deref(), Some("dex.auth.svc.cluster.local"));
    }

    #[test]
    fn list_filters_keep_the_target_type_and_create() {
        let mut r = res(OBJS);
        let rs = reps(
            "- source: {kind: Service, name: dex, fieldPath: metadata.name}\n  targets:\n  - select: {kind: VirtualService}\n    fieldPaths: ['spec.ports.[name=a].port', 'spec.new.field']\n    options: {create: true}\n",
        );
        apply(&mut r, &rs, "k").unwrap();
        let ports = r[1]
            .value
            .pointer(&["spec", "ports"])
            .unwrap()
            .as_seq()
            .unwrap();
        assert_eq!(ports[0].get("port"), Some(&Value::from("dex")));
        assert_eq!(r[1].value.str_at(&["spec", "new", "field"]), Some("dex"));
    }

    #[test]
    fn errors_name_the_problem() {
        let mut r = res(OBJS);
        let missing_src = reps("- source: {kind: Nope}\n  targets: []\n");
        let e = apply(&mut r, &missing_src, "kfile")
            .unwrap_err()
            .to_string();
        assert!(e.contains("kfile") && e.contains("nothing selected"), "{e}");
        let missing_field = reps(
            "- source: {kind: Service}\n  targets:\n  - select: {kind: VirtualService}\n    fieldPaths: [spec.nope]\n",
        );
        let e = apply(&mut r, &missing_field, "kfile")
            .unwrap_err()
            .to_string();
        assert!(e.contains("unable to find field"), "{e}");
        let bad_index =
            reps("- source: {kind: Service, options: {delimiter: '-', index: 3}}\n  targets: []\n");
        assert!(apply(&mut r, &bad_index, "k").is_err());
    }
}
