//! Patches: strategic merge (Kubernetes semantics for the common built-in lists) and
//! JSON 6902, plus target selectors.

use crate::error::{Error, Result};
use crate::kustomization::Selector;
use crate::resource::{Gvk, Resource};
use crate::schema::{Schema, Table};
use crate::value::{Mapping, Value};
use regex::Regex;

/// Strategic-merge `patch` into `target` as kustomize does (kyaml's merge2 with list items
/// from the patch prepended): lists merge only where the built-in schema says so
/// ([`Schema`]), paired by their merge keys; every other list is replaced. Returns `false`
/// when the patch deletes the object.
///
/// Only `$patch` is a directive here: kustomize v5 copies `$setElementOrder/…`,
/// `$retainKeys` and `$deleteFromPrimitiveList/…` into the output unchanged, and so do we.
pub fn strategic_merge(target: &mut Value, patch: &Value, gvk: &Gvk) -> bool {
    strategic_merge_with(target, patch, gvk, Table::builtin())
}

/// [`strategic_merge`] with the schema `table` (the built-in one, or one from `openapi:`).
pub fn strategic_merge_with(target: &mut Value, patch: &Value, gvk: &Gvk, table: &Table) -> bool {
    if patch.str_at(&["$patch"]) == Some("delete") {
        return false;
    }
    let schema = Schema::in_table(table, &gvk.group, &gvk.version, &gvk.kind);
    merge_value(target, patch, schema);
    true
}

fn merge_value(target: &mut Value, patch: &Value, schema: Schema<'_>) {
    match (target, patch) {
        (Value::Map(t), Value::Map(p)) => merge_map(t, p, schema),
        (t, p) => *t = strip_directives(p),
    }
}

fn is_delete(v: &Value) -> bool {
    v.str_at(&["$patch"]) == Some("delete")
}

/// Remove `$patch` directives from a value being inserted as a whole (and list items that
/// delete themselves).
fn strip_directives(v: &Value) -> Value {
    match v {
        Value::Map(m) => Value::Map(
            m.iter()
                .filter(|(k, _)| k.as_str() != "$patch")
                .map(|(k, v)| (k.clone(), strip_directives(v)))
                .collect(),
        ),
        Value::Seq(s) => Value::Seq(
            s.iter()
                .filter(|i| !is_delete(i))
                .map(strip_directives)
                .collect(),
        ),
        other => other.clone(),
    }
}

fn merge_map(t: &mut Mapping, p: &Mapping, schema: Schema<'_>) {
    if p.get("$patch").and_then(Value::as_str) == Some("replace") {
        *t = p
            .iter()
            .filter(|(k, _)| k.as_str() != "$patch")
            .map(|(k, v)| (k.clone(), strip_directives(v)))
            .collect();
        return;
    }
    for (k, pv) in p {
        if k == "$patch" {
            continue;
        }
        match pv {
            Value::Null => {
                t.shift_remove(k);
            }
            Value::Map(_) if is_delete(pv) => {
                t.shift_remove(k);
            }
            Value::Seq(pitems) => {
                let field = schema.field(k).filter(|f| f.merges());
                match (field, t.get_mut(k)) {
                    (Some(f), Some(Value::Seq(titems))) => {
                        let keys = f.merge_keys();
                        if keys.is_empty() {
                            merge_primitive_list(titems, pitems);
                        } else {
                            merge_keyed_list(titems, pitems, &keys, schema.items(k));
                        }
                    }
                    _ => {
                        t.insert(k.clone(), strip_directives(pv));
                    }
                }
            }
            _ => match t.get_mut(k) {
                Some(tv) => merge_value(tv, pv, schema.child(k)),
                None => {
                    t.insert(k.clone(), strip_directives(pv));
                }
            },
        }
    }
}

/// A set of scalars (`finalizers`): the patch's values first, then the target's others.
fn merge_primitive_list(t: &mut Vec<Value>, p: &[Value]) {
    let mut out: Vec<Value> = Vec::with_capacity(t.len() + p.len());
    for v in p.iter().chain(t.iter()) {
        if !matches!(v, Value::Null) && !out.contains(v) {
            out.push(v.clone());
        }
    }
    *t = out;
}

/// The values of the merge keys an item has (kyaml pairs items on the keys present).
fn key_values(item: &Value, keys: &[String]) -> Vec<(String, String)> {
    keys.iter()
        .filter_map(|k| {
            let v = item.get(k)?.scalar_string()?;
            (!v.is_empty()).then(|| (k.clone(), v))
        })
        .collect()
}

/// A list of objects paired by merge keys: the patch's items first (merged into their
/// counterparts), then the target's unpaired items in their order; `$patch: delete` items
/// remove their counterpart, a `$patch: replace` item replaces the whole list.
fn merge_keyed_list(t: &mut Vec<Value>, p: &[Value], keys: &[String], items: Schema<'_>) {
    if p.iter().any(|i| i.str_at(&["$patch"]) == Some("replace")) {
        *t = p
            .iter()
            .filter(|i| i.str_at(&["$patch"]).is_none())
            .map(strip_directives)
            .collect();
        return;
    }
    if keys.len() > 1 {
        merge_multi_keyed_list(t, p, keys, items);
        return;
    }
    let mut used = vec![false; t.len()];
    let mut out: Vec<Value> = Vec::with_capacity(t.len() + p.len());
    for item in p {
        let kv = key_values(item, keys);
        if kv.is_empty() {
            if !is_delete(item) {
                out.push(strip_directives(item));
            }
            continue;
        }
        let pos = t.iter().enumerate().position(|(i, x)| {
            !used[i]
                && kv
                    .iter()
                    .all(|(k, v)| x.get(k).and_then(Value::scalar_string).as_ref() == Some(v))
        });
        match pos {
            Some(i) => {
                used[i] = true;
                if !is_delete(item) {
                    let mut merged = t[i].clone();
                    merge_value(&mut merged, item, items);
                    out.push(merged);
                }
            }
            None if !is_delete(item) => out.push(strip_directives(item)),
            None => {}
        }
    }
    out.extend(t.drain(..).zip(used).filter(|(_, u)| !u).map(|(x, _)| x));
    *t = out;
}

/// A list paired on several keys (`x-kubernetes-list-map-keys`, e.g. container ports): kyaml
/// keeps the target's order, merging paired items in place, and puts the patch's new items
/// first, in patch order. (Observed with kustomize v5.8.2, including the partial-key case.)
fn merge_multi_keyed_list(t: &mut Vec<Value>, p: &[Value], keys: &[String], items: Schema<'_>) {
    let mut fresh = Vec::new();
    let mut used = vec![false; t.len()];
    let mut removed = vec![false; t.len()];
    for item in p {
        let kv = key_values(item, keys);
        let pos = (!kv.is_empty())
            .then(|| {
                t.iter().enumerate().position(|(i, x)| {
                    !used[i]
                        && kv.iter().all(|(k, v)| {
                            x.get(k).and_then(Value::scalar_string).as_ref() == Some(v)
                        })
                })
            })
            .flatten();
        match pos {
            // An item naming only some of the keys leaves the item it pairs with untouched
            // (kyaml's merge loses it), and adds nothing.
            Some(_) if kv.len() < keys.len() => {}
            Some(i) => {
                used[i] = true;
                if is_delete(item) {
                    removed[i] = true;
                } else {
                    merge_value(&mut t[i], item, items);
                }
            }
            None if !is_delete(item) => fresh.push(strip_directives(item)),
            None => {}
        }
    }
    let kept = t.drain(..).zip(removed).filter(|(_, r)| !r).map(|(x, _)| x);
    *t = fresh.into_iter().chain(kept).collect();
}

/// A JSON 6902 operation failure.
fn op_err(msg: impl Into<String>) -> Error {
    Error::Patch {
        patch: "json6902".into(),
        message: msg.into(),
    }
}

/// Decode a JSON pointer into tokens.
fn pointer_tokens(path: &str) -> Result<Vec<String>> {
    if path.is_empty() {
        return Ok(Vec::new());
    }
    let rest = path
        .strip_prefix('/')
        .ok_or_else(|| op_err(format!("invalid JSON pointer '{path}'")))?;
    Ok(rest
        .split('/')
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect())
}

fn get_ptr<'a>(v: &'a Value, toks: &[String]) -> Option<&'a Value> {
    toks.iter().try_fold(v, |cur, t| match cur {
        Value::Map(m) => m.get(t),
        Value::Seq(s) => t.parse::<usize>().ok().and_then(|i| s.get(i)),
        _ => None,
    })
}

fn get_ptr_mut<'a>(v: &'a mut Value, toks: &[String]) -> Option<&'a mut Value> {
    let mut cur = v;
    for t in toks {
        cur = match cur {
            Value::Map(m) => m.get_mut(t)?,
            Value::Seq(s) => s.get_mut(t.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

fn add(doc: &mut Value, toks: &[String], val: Value, path: &str) -> Result<()> {
    let Some((last, parent)) = toks.split_last() else {
        *doc = val;
        return Ok(());
    };
    let parent = get_ptr_mut(doc, parent)
        .ok_or_else(|| op_err(format!("add: missing parent of '{path}'")))?;
    match parent {
        Value::Map(m) => {
            m.insert(last.clone(), val);
        }
        Value::Seq(s) => {
            if last == "-" {
                s.push(val);
            } else {
                let i: usize = last
                    .parse()
                    .map_err(|_| op_err(format!("add: bad index in '{path}'")))?;
                if i > s.len() {
                    return Err(op_err(format!("add: index out of range in '{path}'")));
                }
                s.insert(i, val);
            }
        }
        _ => {
            return Err(op_err(format!(
                "add: parent of '{path}' is not a container"
            )));
        }
    }
    Ok(())
}

fn remove(doc: &mut Value, toks: &[String], path: &str) -> Result<Value> {
    let (last, parent) = toks
        .split_last()
        .ok_or_else(|| op_err("remove: cannot remove the whole document"))?;
    let missing = || op_err(format!("remove: path '{path}' does not exist"));
    match get_ptr_mut(doc, parent).ok_or_else(missing)? {
        Value::Map(m) => m.shift_remove(last).ok_or_else(missing),
        Value::Seq(s) => {
            let i: usize = last.parse().map_err(|_| missing())?;
            if i < s.len() {
                Ok(s.remove(i))
            } else {
                Err(missing())
            }
        }
        _ => Err(missing()),
    }
}

/// Apply a JSON 6902 patch (a sequence of operations) to `doc`.
pub fn json6902(doc: &mut Value, ops: &Value) -> Result<()> {
    let ops = ops
        .as_seq()
        .ok_or_else(|| op_err("a JSON 6902 patch must be a list of operations"))?;
    for op in ops {
        let name = op
            .str_at(&["op"])
            .ok_or_else(|| op_err("operation without 'op'"))?;
        let path = op
            .str_at(&["path"])
            .ok_or_else(|| op_err(format!("'{name}' without 'path'")))?;
        let toks = pointer_tokens(path)?;
        let value = || op.get("value").cloned().unwrap_or(Value::Null);
        let from = || -> Result<Vec<String>> {
            pointer_tokens(
                op.str_at(&["from"])
                    .ok_or_else(|| op_err(format!("'{name}' without 'from'")))?,
            )
        };
        match name {
            "add" => add(doc, &toks, value(), path)?,
            "remove" => {
                remove(doc, &toks, path)?;
            }
            "replace" => {
                let slot = get_ptr_mut(doc, &toks)
                    .ok_or_else(|| op_err(format!("replace: path '{path}' does not exist")))?;
                *slot = value();
            }
            "move" => {
                let v = remove(doc, &from()?, path)?;
                add(doc, &toks, v, path)?;
            }
            "copy" => {
                let v = get_ptr(doc, &from()?)
                    .cloned()
                    .ok_or_else(|| op_err(format!("copy: 'from' of '{path}' does not exist")))?;
                add(doc, &toks, v, path)?;
            }
            "test" => {
                if get_ptr(doc, &toks) != Some(&value()) {
                    return Err(op_err(format!("test failed at '{path}'")));
                }
            }
            other => return Err(op_err(format!("unknown operation '{other}'"))),
        }
    }
    Ok(())
}

/// A compiled target selector.
#[derive(Debug)]
pub struct CompiledSelector {
    sel: Selector,
    name: Option<Regex>,
    namespace: Option<Regex>,
}

fn anchored(re: &str) -> Result<Regex> {
    Regex::new(&format!("^(?:{re})$"))
        .map_err(|e| Error::Transform(format!("invalid regex '{re}': {e}")))
}

impl CompiledSelector {
    /// Compile the name/namespace regular expressions.
    pub fn new(sel: &Selector) -> Result<CompiledSelector> {
        Ok(CompiledSelector {
            sel: sel.clone(),
            name: sel
                .name
                .as_deref()
                .filter(|s| !s.is_empty())
                .map(anchored)
                .transpose()?,
            namespace: sel
                .namespace
                .as_deref()
                .filter(|s| !s.is_empty())
                .map(anchored)
                .transpose()?,
        })
    }

    /// Whether `r` is selected (original or current name/namespace, as kustomize matches).
    pub fn matches(&self, r: &Resource) -> Result<bool> {
        let cur = r.id();
        let org = r.org_id();
        if let Some(re) = &self.namespace
            && !re.is_match(org.effective_namespace())
            && !re.is_match(cur.effective_namespace())
        {
            return Ok(false);
        }
        if let Some(re) = &self.name
            && !re.is_match(&org.name)
            && !re.is_match(&cur.name)
        {
            return Ok(false);
        }
        let gvk = r.gvk();
        let eq = |want: &Option<String>, have: &str| {
            want.as_deref().is_none_or(|w| w.is_empty() || w == have)
        };
        if !eq(&self.sel.group, &gvk.group)
            || !eq(&self.sel.version, &gvk.version)
            || !eq(&self.sel.kind, &gvk.kind)
        {
            return Ok(false);
        }
        if let Some(ls) = self.sel.label_selector.as_deref().filter(|s| !s.is_empty())
            && !label_selector_matches(ls, &r.labels())?
        {
            return Ok(false);
        }
        if let Some(ls) = self
            .sel
            .annotation_selector
            .as_deref()
            .filter(|s| !s.is_empty())
            && !label_selector_matches(ls, &r.annotations())?
        {
            return Ok(false);
        }
        Ok(true)
    }
}

/// Split a selector on commas outside parentheses.
fn split_requirements(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
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

/// Kubernetes label selector syntax: `k=v`, `k==v`, `k!=v`, `k`, `!k`, `k in (a,b)`,
/// `k notin (a,b)`.
pub fn label_selector_matches(sel: &str, labels: &Mapping) -> Result<bool> {
    let get = |k: &str| labels.get(k).and_then(Value::scalar_string);
    for req in split_requirements(sel) {
        if req.is_empty() {
            continue;
        }
        let ok = if let Some((k, v)) = req.split_once("!=") {
            get(k.trim()).as_deref() != Some(v.trim())
        } else if let Some((k, v)) = req.split_once("==").or_else(|| req.split_once('=')) {
            get(k.trim()).as_deref() == Some(v.trim())
        } else if let Some(k) = req.strip_prefix('!') {
            get(k.trim()).is_none()
        } else if let Some((k, set)) = req.split_once(" notin ").or_else(|| req.split_once(" in "))
        {
            let notin = req.contains(" notin ");
            let set = set.trim().trim_start_matches('(').trim_end_matches(')');
            let vals: Vec<&str> = set.split(',').map(str::trim).collect();
            let have = get(k.trim());
            let inside = have.as_deref().is_some_and(|h| vals.contains(&h));
            if notin { !inside } else { inside }
        } else if req
            .chars()
            .all(|c| c.is_alphanumeric() || "-_./".contains(c))
        {
            get(req).is_some()
        } else {
            return Err(Error::Transform(format!(
                "unable to parse selector requirement '{req}'"
            )));
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(y: &str) -> Value {
        serde_saphyr::from_str(y).unwrap()
    }
    fn apps() -> Gvk {
        Gvk::from_api_version("apps/v1", "Deployment")
    }

    #[test]
    fn smp_merges_containers_by_name_and_replaces_other_lists() {
        let mut t = v(
            "spec:\n  args: [a, b]\n  containers:\n  - name: a\n    image: x\n    env: [{name: A, value: '1'}]\n  - name: b\n    image: y\n",
        );
        let p = v(
            "spec:\n  args: [c]\n  containers:\n  - name: a\n    image: z\n    env: [{name: B, value: '2'}]\n  - name: b\n    $patch: delete\n  - name: c\n    image: new\n",
        );
        assert!(strategic_merge(
            &mut t,
            &p,
            &Gvk::from_api_version("v1", "Pod")
        ));
        let exp = v(
            "spec:\n  args: [c]\n  containers:\n  - name: a\n    image: z\n    env: [{name: B, value: '2'}, {name: A, value: '1'}]\n  - name: c\n    image: new\n",
        );
        assert_eq!(t, exp);
    }

    #[test]
    fn smp_prepends_patch_items_like_kustomize() {
        let pod = Gvk::from_api_version("v1", "Pod");
        let mut t = v(
            "metadata: {finalizers: [a, b]}\nspec:\n  containers:\n  - name: a\n    ports: [{containerPort: 80, protocol: TCP}]\n  - name: b\n  tolerations: [{key: a}]\n",
        );
        let p = v(
            "metadata: {finalizers: [c, a]}\nspec:\n  $setElementOrder/containers: [{name: b}]\n  containers:\n  - name: c\n  - name: a\n    ports: [{containerPort: 80, protocol: UDP}]\n  tolerations: [{key: b}]\n",
        );
        assert!(strategic_merge(&mut t, &p, &pod));
        let exp = v(
            "metadata: {finalizers: [c, a, b]}\nspec:\n  containers:\n  - name: c\n  - name: a\n    ports: [{containerPort: 80, protocol: UDP}, {containerPort: 80, protocol: TCP}]\n  - name: b\n  tolerations: [{key: b}]\n  $setElementOrder/containers: [{name: b}]\n",
        );
        assert_eq!(t, exp);
    }

    #[test]
    fn multi_key_lists_keep_target_order_and_prepend_new_items() {
        let mut t = v(
            "spec:\n  template:\n    spec:\n      containers:\n      - name: a\n        ports: [{containerPort: 80, protocol: TCP}, {containerPort: 90, protocol: TCP}, {containerPort: 95, protocol: TCP}]\n",
        );
        let p = v(
            "spec:\n  template:\n    spec:\n      containers:\n      - name: a\n        ports: [{containerPort: 110, protocol: TCP}, {containerPort: 90, protocol: TCP, name: x}, {containerPort: 95, protocol: TCP, $patch: delete}, {containerPort: 120}]\n",
        );
        assert!(strategic_merge(&mut t, &p, &apps()));
        let exp = v(
            "spec:\n  template:\n    spec:\n      containers:\n      - name: a\n        ports: [{containerPort: 110, protocol: TCP}, {containerPort: 120}, {containerPort: 80, protocol: TCP}, {containerPort: 90, protocol: TCP, name: x}]\n",
        );
        assert_eq!(t, exp);
    }

    #[test]
    fn smp_null_deletes_and_patch_delete_removes_object() {
        let mut t = v("a: 1\nb: 2\n");
        strategic_merge(&mut t, &v("b: null\n"), &apps());
        assert_eq!(t, v("a: 1\n"));
        assert!(!strategic_merge(&mut t, &v("$patch: delete\n"), &apps()));
    }

    #[test]
    fn custom_kinds_replace_lists() {
        let mut t = v("spec:\n  containers: [{name: a, image: x}]\n");
        strategic_merge(
            &mut t,
            &v("spec:\n  containers: [{name: b}]\n"),
            &Gvk::from_api_version("ex.com/v1", "Foo"),
        );
        assert_eq!(t, v("spec:\n  containers: [{name: b}]\n"));
    }

    #[test]
    fn json6902_ops() {
        let mut d = v("a: {b: [1, 2]}\nc: x\n");
        let ops = v(
            "- {op: add, path: /a/b/-, value: 3}\n- {op: replace, path: /c, value: y}\n- {op: copy, from: /c, path: /d}\n- {op: move, from: /d, path: /e}\n- {op: remove, path: /a/b/0}\n- {op: test, path: /e, value: y}\n- {op: add, path: /f~1g, value: 1}\n",
        );
        json6902(&mut d, &ops).unwrap();
        assert_eq!(d, v("a: {b: [2, 3]}\nc: y\ne: y\nf/g: 1\n"));
        assert!(json6902(&mut d, &v("- {op: test, path: /e, value: z}\n")).is_err());
        assert!(json6902(&mut d, &v("- {op: remove, path: /nope}\n")).is_err());
    }

    #[test]
    fn selectors() {
        let r = Resource::new(v(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web-1, labels: {app: web, tier: fe}}\n",
        ));
        let sel = |s: Selector| CompiledSelector::new(&s).unwrap().matches(&r).unwrap();
        assert!(sel(Selector {
            kind: Some("Deployment".into()),
            name: Some("web-.*".into()),
            ..Default::default()
        }));
        assert!(!sel(Selector {
            name: Some("web".into()),
            ..Default::default()
        }));
        assert!(sel(Selector {
            label_selector: Some("app=web,tier in (fe, be),!x".into()),
            ..Default::default()
        }));
        assert!(!sel(Selector {
            label_selector: Some("app!=web".into()),
            ..Default::default()
        }));
        assert!(!sel(Selector {
            group: Some("batch".into()),
            ..Default::default()
        }));
    }
}
