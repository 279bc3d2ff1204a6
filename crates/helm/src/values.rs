//! Helm's values machinery: coalescing chart defaults with user values (null deletes a key,
//! globals flow down to subcharts, subchart values live under their name/alias), dependency
//! `condition`/`tags`/`alias`, and `import-values`. Dicts share storage like Go maps, so
//! the aliasing of Helm's Go code is reproduced by following it step by step.

use crate::chart::{Chart, Dependency};
use crate::{Error, Result};
use ferroflux_gotemplate::{Dict, Value};
use ferroflux_semver::is_compatible_range;

/// A recursive copy with fresh dicts (Go's `copystructure.Copy`).
pub fn deep_copy(v: &Value) -> Value {
    match v {
        Value::Map(d) => Value::Map(deep_copy_dict(d)),
        Value::List(l, t) => Value::typed_list(l.iter().map(deep_copy), *t),
        other => other.clone(),
    }
}

pub fn deep_copy_dict(d: &Dict) -> Dict {
    Dict::from_map(
        d.read()
            .iter()
            .map(|(k, v)| (k.clone(), deep_copy(v)))
            .collect(),
    )
}

fn table(v: &Value) -> Option<Dict> {
    match v {
        Value::Map(d) => Some(d.clone()),
        _ => None,
    }
}

fn concat_prefix(a: &str, b: &str) -> String {
    if a.is_empty() {
        b.to_string()
    } else {
        format!("{a}.{b}")
    }
}

/// Helm's `mergeMaps` for `-f` files: later maps win, nested maps merge.
pub fn merge_maps(a: &Dict, b: &Dict) -> Dict {
    let out = Dict::from_map(a.snapshot());
    for (k, v) in b.snapshot() {
        if let (Value::Map(bv), Some(Value::Map(av))) = (&v, out.get(&k)) {
            out.insert(k, Value::Map(merge_maps(&av, bv)));
            continue;
        }
        out.insert(k, v);
    }
    out
}

/// `Values.Table`: the map at a dotted path.
pub fn table_at(v: &Dict, path: &str) -> Option<Dict> {
    let mut t = v.clone();
    for n in path.split('.') {
        t = table(&t.get(n)?)?;
    }
    Some(t)
}

/// `Values.PathValue`: a non-table value at a dotted path.
pub fn path_value(v: &Dict, path: &str) -> Option<Value> {
    if path.is_empty() {
        return None;
    }
    let (parent, key) = match path.rsplit_once('.') {
        Some((p, k)) => (table_at(v, p)?, k),
        None => (v.clone(), path),
    };
    let val = parent.get(key)?;
    if table(&val).is_some() {
        return None;
    }
    Some(val)
}

/// `CoalesceValues`: chart defaults under the (copied) user values; null deletes.
pub fn coalesce_values(ch: &Chart, vals: &Dict) -> Result<Dict> {
    let copy = deep_copy_dict(vals);
    coalesce(ch, copy, "", false)
}

/// `MergeValues`: like [`coalesce_values`] but nulls are kept.
pub fn merge_values(ch: &Chart, vals: &Dict) -> Result<Dict> {
    let copy = deep_copy_dict(vals);
    coalesce(ch, copy, "", true)
}

fn coalesce(ch: &Chart, dest: Dict, prefix: &str, merge: bool) -> Result<Dict> {
    coalesce_chart_values(ch, &dest, prefix, merge);
    coalesce_deps(ch, dest, prefix, merge)
}

fn coalesce_deps(ch: &Chart, dest: Dict, prefix: &str, merge: bool) -> Result<Dict> {
    for sub in &ch.dependencies {
        let dv = match dest.get(sub.name()) {
            None => {
                let d = Dict::new();
                dest.insert(sub.name(), Value::Map(d.clone()));
                d
            }
            Some(Value::Map(d)) => d,
            Some(other) => {
                return Err(Error::Values(format!(
                    "type mismatch on {}: %!t({}={})",
                    sub.name(),
                    other.kind(),
                    crate::objects::go_print(&other)
                )));
            }
        };
        let sub_prefix = concat_prefix(prefix, ch.name());
        coalesce_globals(&dv, &dest, &sub_prefix);
        let r = coalesce(sub, dv, &sub_prefix, merge)?;
        dest.insert(sub.name(), Value::Map(r));
    }
    Ok(dest)
}

fn coalesce_globals(dest: &Dict, src: &Dict, prefix: &str) {
    let dg = match dest.get("global") {
        None => Dict::new(),
        Some(Value::Map(d)) => d,
        Some(_) => return,
    };
    let sg = match src.get("global") {
        None => Dict::new(),
        Some(Value::Map(d)) => d,
        Some(_) => return,
    };
    for (key, val) in sg.snapshot() {
        if let Value::Map(t) = &val {
            let vv = Dict::from_map(t.snapshot());
            match dg.get(&key) {
                None => dg.insert(key, Value::Map(vv)),
                Some(Value::Map(destv)) => {
                    coalesce_tables(&vv, &destv, &concat_prefix(prefix, &key), true);
                    dg.insert(key, Value::Map(vv));
                }
                Some(_) => {}
            }
        } else if matches!(dg.get(&key), Some(Value::Map(_))) {
            // "key is table. Skipping"
        } else {
            dg.insert(key, val);
        }
    }
    dest.insert("global", Value::Map(dg));
}

fn coalesce_chart_values(c: &Chart, v: &Dict, _prefix: &str, merge: bool) {
    let vc = deep_copy_dict(&c.values);
    for (key, val) in vc.snapshot() {
        match v.get(&key) {
            Some(value) => {
                if value.is_nil() && !merge {
                    v.remove(&key);
                } else if let Value::Map(dest) = value
                    && let Value::Map(src) = &val
                {
                    let merge = merge || c.dependencies.iter().any(|d| d.name() == key);
                    coalesce_tables(&dest, src, &key, merge);
                }
            }
            None => v.insert(key, val),
        }
    }
}

/// `coalesceTablesFullKey`: fills `dst` with what `src` has and `dst` lacks; a null in `dst`
/// deletes the key unless merging.
pub fn coalesce_tables(dst: &Dict, src: &Dict, prefix: &str, merge: bool) {
    let src_non_nil: std::collections::HashSet<String> = src
        .read()
        .iter()
        .filter(|(_, v)| !v.is_nil())
        .map(|(k, _)| k.clone())
        .collect();
    for (k, v) in dst.snapshot() {
        if v.is_nil() {
            src.insert(k, Value::Nil);
        }
    }
    for (key, val) in src.snapshot() {
        match dst.get(&key) {
            Some(dv) if !merge && dv.is_nil() && src_non_nil.contains(&key) => {
                dst.remove(&key);
            }
            None => dst.insert(key, val),
            Some(dv) => {
                if let (Value::Map(s), Value::Map(d)) = (&val, &dv) {
                    coalesce_tables(d, s, &concat_prefix(prefix, &key), merge);
                }
            }
        }
    }
}

/// `ProcessDependenciesWithMerge`: drops disabled dependencies (condition, tags), applies
/// aliases and imports values from children.
pub fn process_dependencies(c: &mut Chart, vals: &Dict) -> Result<()> {
    process_dependency_enabled(c, vals, "")?;
    process_dependency_import_values(c)
}

fn process_dependency_enabled(c: &mut Chart, v: &Dict, path: &str) -> Result<()> {
    let Some(mut reqs) = c.metadata.dependencies.take() else {
        return Ok(());
    };
    let mut chart_deps: Vec<Chart> = Vec::new();
    for existing in &c.dependencies {
        let matched = reqs.iter().any(|r| {
            existing.name() == r.name && is_compatible_range(&r.version, &existing.metadata.version)
        });
        if !matched {
            chart_deps.push(existing.clone());
        }
    }
    for req in reqs.iter_mut() {
        if let Some(dep) = alias_dependency(&c.dependencies, req) {
            chart_deps.push(dep);
        }
        if !req.alias.is_empty() {
            req.name = req.alias.clone();
        }
    }
    c.dependencies = chart_deps;
    for r in reqs.iter_mut() {
        r.enabled = true;
    }
    c.metadata.dependencies = Some(reqs);
    let cvals = coalesce_values(c, v)?;
    let reqs = c
        .metadata
        .dependencies
        .as_mut()
        .map(std::mem::take)
        .unwrap_or_default();
    let mut reqs = reqs;
    process_tags(&mut reqs, &cvals);
    process_conditions(&mut reqs, &cvals, path);
    let removed: Vec<String> = reqs
        .iter()
        .filter(|r| !r.enabled)
        .map(|r| r.name.clone())
        .collect();
    let mut cd: Vec<Chart> = std::mem::take(&mut c.dependencies)
        .into_iter()
        .filter(|d| !removed.iter().any(|n| n == d.name()))
        .collect();
    let kept: Vec<Dependency> = reqs
        .into_iter()
        .filter(|r| !removed.contains(&r.name))
        .collect();
    for t in cd.iter_mut() {
        let sub = format!("{path}{}.", t.name());
        process_dependency_enabled(t, &cvals, &sub)?;
    }
    c.metadata.dependencies = Some(kept);
    c.dependencies = cd;
    Ok(())
}

fn alias_dependency(charts: &[Chart], dep: &Dependency) -> Option<Chart> {
    let c = charts
        .iter()
        .find(|c| c.name() == dep.name && is_compatible_range(&dep.version, &c.metadata.version))?;
    let mut out = c.clone();
    if !dep.alias.is_empty() {
        out.metadata.name = dep.alias.clone();
    }
    Some(out)
}

fn process_tags(reqs: &mut [Dependency], cvals: &Dict) {
    let Some(vt) = table_at(cvals, "tags") else {
        return;
    };
    for r in reqs.iter_mut() {
        let (mut has_true, mut has_false) = (false, false);
        for k in &r.tags {
            if let Some(Value::Bool(b)) = vt.get(k) {
                if b {
                    has_true = true;
                } else {
                    has_false = true;
                }
            }
        }
        r.enabled = has_true || !has_false;
    }
}

fn process_conditions(reqs: &mut [Dependency], cvals: &Dict, path: &str) {
    for r in reqs.iter_mut() {
        for cond in r.condition.trim().split(',') {
            if cond.is_empty() {
                continue;
            }
            if let Some(Value::Bool(b)) = path_value(cvals, &format!("{path}{cond}")) {
                r.enabled = b;
                break;
            }
        }
    }
}

fn process_dependency_import_values(c: &mut Chart) -> Result<()> {
    for d in c.dependencies.iter_mut() {
        process_dependency_import_values(d)?;
    }
    process_import_values(c)
}

fn path_to_map(path: &str, data: Dict) -> Dict {
    if path == "." {
        return data;
    }
    let mut cur = data;
    for p in path.split('.').rev() {
        cur = Dict::from_map([(p.to_string(), Value::Map(cur))].into_iter().collect());
    }
    cur
}

fn go_v(v: Option<Value>) -> String {
    match v {
        None | Some(Value::Nil) => "<nil>".into(),
        Some(v) => crate::objects::go_print(&v),
    }
}

fn process_import_values(c: &mut Chart) -> Result<()> {
    if c.metadata.dependencies.is_none() {
        return Ok(());
    }
    let cvals = merge_values(c, &Dict::new())?;
    let mut b = Dict::new();
    if let Some(reqs) = c.metadata.dependencies.as_mut() {
        for r in reqs.iter_mut() {
            let mut out = Vec::new();
            for riv in &r.import_values {
                match riv {
                    Value::Map(iv) => {
                        let child = go_v(iv.get("child"));
                        let parent = go_v(iv.get("parent"));
                        out.push(Value::map([
                            ("child".to_string(), Value::from(child.clone())),
                            ("parent".to_string(), Value::from(parent.clone())),
                        ]));
                        let Some(vv) = table_at(&cvals, &format!("{}.{child}", r.name)) else {
                            continue;
                        };
                        let src = path_to_map(&parent, vv);
                        coalesce_tables(&b, &src, "", true);
                    }
                    Value::String(s) => {
                        let child = format!("exports.{s}");
                        out.push(Value::map([
                            ("child".to_string(), Value::from(child.clone())),
                            ("parent".to_string(), Value::from(".")),
                        ]));
                        let Some(vm) = table_at(&cvals, &format!("{}.{child}", r.name)) else {
                            continue;
                        };
                        coalesce_tables(&b, &vm, "", true);
                    }
                    _ => {}
                }
            }
            r.import_values = out;
        }
    }
    let cvals = deep_copy_dict(&cvals);
    coalesce_tables(&cvals, &b, "", true);
    c.values = cvals;
    b = Dict::new();
    drop(b);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse_map;

    fn chart(values: &str, deps: Vec<Chart>) -> Chart {
        let mut c = Chart::default();
        c.metadata.name = "top".into();
        c.values = parse_map(values, "values").unwrap();
        c.dependencies = deps;
        c
    }

    fn sub(name: &str, values: &str) -> Chart {
        let mut c = chart(values, vec![]);
        c.metadata.name = name.into();
        c
    }

    fn get(d: &Dict, path: &str) -> Option<Value> {
        let (p, k) = path.rsplit_once('.').unwrap_or(("", path));
        let t = if p.is_empty() {
            d.clone()
        } else {
            table_at(d, p)?
        };
        t.get(k)
    }

    #[test]
    fn user_null_deletes_a_default() {
        let c = chart("a: 1\nb: {c: 2, d: 3}\n", vec![]);
        let user = parse_map("a: null\nb: {d: null}\n", "u").unwrap();
        let out = coalesce_values(&c, &user).unwrap();
        assert!(!out.contains_key("a"));
        assert!(get(&out, "b.c").is_some());
        assert!(get(&out, "b.d").is_none());
    }

    #[test]
    fn globals_flow_to_subcharts_and_parent_wins() {
        let c = chart(
            "global: {x: parent, t: {a: 1}}\nsub: {own: 1}\n",
            vec![sub(
                "sub",
                "global: {x: child, yy: child, t: {b: 2}}\nown: 0\nother: 5\n",
            )],
        );
        let out = coalesce_values(&c, &Dict::new()).unwrap();
        assert_eq!(get(&out, "sub.global.x").unwrap().as_str(), Some("parent"));
        assert_eq!(get(&out, "sub.global.yy").unwrap().as_str(), Some("child"));
        assert!(get(&out, "sub.global.t.a").is_some() && get(&out, "sub.global.t.b").is_some());
        assert!(matches!(get(&out, "sub.own"), Some(Value::Float(x)) if x == 1.0));
        assert!(matches!(get(&out, "sub.other"), Some(Value::Float(x)) if x == 5.0));
    }

    #[test]
    fn conditions_tags_and_alias() {
        let mut c = chart(
            "a: {enabled: false}\ntags: {front: false}\n",
            vec![sub("a", ""), sub("b", ""), sub("c", "")],
        );
        c.metadata.dependencies = Some(vec![
            Dependency {
                name: "a".into(),
                version: "*".into(),
                condition: "a.enabled".into(),
                ..Default::default()
            },
            Dependency {
                name: "b".into(),
                version: "*".into(),
                tags: vec!["front".into()],
                ..Default::default()
            },
            Dependency {
                name: "c".into(),
                version: "*".into(),
                alias: "cc".into(),
                ..Default::default()
            },
        ]);
        c.dependencies
            .iter_mut()
            .for_each(|d| d.metadata.version = "1.0.0".into());
        process_dependencies(&mut c, &Dict::new()).unwrap();
        let names: Vec<&str> = c.dependencies.iter().map(|d| d.name()).collect();
        assert_eq!(names, vec!["cc"]);
    }

    #[test]
    fn import_values_both_forms() {
        let mut c = chart(
            "",
            vec![sub("s", "exports: {data: {x: 1}}\ninner: {yy: 2}\n")],
        );
        c.dependencies[0].metadata.version = "1.0.0".into();
        c.metadata.dependencies = Some(vec![Dependency {
            name: "s".into(),
            version: "1.0.0".into(),
            import_values: vec![
                Value::from("data"),
                Value::map([
                    ("child".to_string(), Value::from("inner")),
                    ("parent".to_string(), Value::from("imported")),
                ]),
            ],
            ..Default::default()
        }]);
        process_dependencies(&mut c, &Dict::new()).unwrap();
        assert!(c.values.contains_key("x"));
        assert!(get(&c.values, "imported.yy").is_some());
    }
}
