//! Legacy `vars`: `$(NAME)` in the fields kustomize's `varReference` configuration lists is
//! replaced by a field of a named object, after the whole build (so renamed objects give their
//! final names).

use crate::error::{Error, Result};
use crate::fieldspec::{Config, visit};
use crate::resource::{Gvk, Resource};
use crate::value::Value;
use serde::Deserialize;
use std::collections::HashMap;
use std::path::PathBuf;

/// One `vars` entry.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
pub struct Var {
    /// The name used as `$(NAME)`.
    pub name: String,
    /// The object holding the value.
    pub objref: ObjRef,
    /// The field holding the value (default `metadata.name`).
    pub fieldref: FieldRef,
}

/// The object a var reads.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct ObjRef {
    /// `group/version` or `version`.
    pub api_version: String,
    /// Group (alternative to apiVersion).
    pub group: String,
    /// Version (alternative to apiVersion).
    pub version: String,
    /// Kind.
    pub kind: String,
    /// Name (as written in the sources, before prefixes and suffixes).
    pub name: String,
    /// Namespace.
    pub namespace: String,
}

/// The field a var reads.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
pub struct FieldRef {
    /// Dotted path, e.g. `spec.ports[0].port`.
    pub fieldpath: String,
}

/// A var with the file that declared it (for errors).
#[derive(Debug, Clone)]
pub struct Declared {
    /// The var.
    pub var: Var,
    /// The kustomization declaring it.
    pub file: PathBuf,
}

fn matches(o: &ObjRef, r: &Resource) -> bool {
    let want = if o.api_version.is_empty() {
        Gvk {
            group: o.group.clone(),
            version: o.version.clone(),
            kind: o.kind.clone(),
        }
    } else {
        Gvk::from_api_version(&o.api_version, &o.kind)
    };
    let gvk = r.gvk();
    let eq = |w: &str, h: &str| w.is_empty() || w == h;
    if !eq(&want.group, &gvk.group)
        || !eq(&want.version, &gvk.version)
        || !eq(&want.kind, &gvk.kind)
    {
        return false;
    }
    std::iter::once(r.id())
        .chain(r.prev_ids.iter().cloned())
        .any(|id| id.name == o.name && (o.namespace.is_empty() || o.namespace == id.namespace))
}

/// Read a dotted field path (`a.b[0].c` or `a.b.0.c`).
fn field(v: &Value, path: &str) -> Option<Value> {
    let mut cur = v;
    for seg in path.split('.') {
        let (name, idx) = match seg.find('[') {
            Some(i) => (&seg[..i], Some(&seg[i..])),
            None => (seg, None),
        };
        if !name.is_empty() {
            cur = match cur {
                Value::Map(m) => m.get(name)?,
                Value::Seq(s) => s.get(name.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        if let Some(idx) = idx {
            for part in idx.split(']').filter(|p| !p.is_empty()) {
                let i: usize = part.trim_start_matches('[').parse().ok()?;
                cur = cur.as_seq()?.get(i)?;
            }
        }
    }
    Some(cur.clone())
}

/// Resolve every var against the built objects and substitute them.
pub fn resolve(res: &mut [Resource], vars: &[Declared], cfg: &Config) -> Result<()> {
    if vars.is_empty() {
        return Ok(());
    }
    let mut values: HashMap<String, Value> = HashMap::new();
    for d in vars {
        let v = &d.var;
        let invalid = |message: String| Error::Invalid {
            file: d.file.clone(),
            message,
        };
        if values.contains_key(&v.name) {
            return Err(invalid(format!("var '{}' already encountered", v.name)));
        }
        let hits: Vec<&Resource> = res.iter().filter(|r| matches(&v.objref, r)).collect();
        let r = match hits.as_slice() {
            [r] => *r,
            [] => {
                return Err(invalid(format!(
                    "var '{}' cannot be mapped to a field in the set of known resources",
                    v.name
                )));
            }
            _ => {
                return Err(invalid(format!(
                    "var '{}' matches more than one object",
                    v.name
                )));
            }
        };
        let path = if v.fieldref.fieldpath.is_empty() {
            "metadata.name"
        } else {
            v.fieldref.fieldpath.as_str()
        };
        let value = field(&r.value, path).ok_or_else(|| {
            invalid(format!(
                "var '{}': field '{path}' not found in {}",
                v.name,
                r.id()
            ))
        })?;
        values.insert(v.name.clone(), value);
    }
    for r in res.iter_mut() {
        let gvk = r.gvk();
        for fs in cfg.var_reference.iter().filter(|f| f.applies_to(&gvk)) {
            visit(&mut r.value, fs.segments(), false, &mut |node| {
                substitute(node, &values);
                Ok(())
            })?;
        }
    }
    Ok(())
}

fn substitute(node: &mut Value, values: &HashMap<String, Value>) {
    match node {
        Value::String(s) => {
            // A field that is exactly `$(NAME)` takes the value with its type.
            if let Some(name) = s.strip_prefix("$(").and_then(|r| r.strip_suffix(')'))
                && let Some(v) = values.get(name)
                && !matches!(v, Value::Map(_) | Value::Seq(_))
            {
                *node = v.clone();
                return;
            }
            *s = expand(s, values);
        }
        Value::Seq(items) => items.iter_mut().for_each(|i| substitute(i, values)),
        Value::Map(m) => m.values_mut().for_each(|i| substitute(i, values)),
        _ => {}
    }
}

/// Kubernetes' `$(VAR)` expansion: `$$` is an escaped `$`, unknown names stay as written.
pub fn expand(s: &str, values: &HashMap<String, Value>) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(r) = after.strip_prefix('$') {
            out.push('$');
            rest = r;
        } else if let Some(r) = after.strip_prefix('(')
            && let Some(end) = r.find(')')
        {
            let name = &r[..end];
            match values.get(name).and_then(Value::scalar_string) {
                Some(v) => out.push_str(&v),
                None => {
                    out.push_str("$(");
                    out.push_str(name);
                    out.push(')');
                }
            }
            rest = &r[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expansion_rules() {
        let mut m = HashMap::new();
        m.insert("A".to_string(), Value::from("x"));
        m.insert("N".to_string(), Value::Int(3));
        assert_eq!(expand("$(A)-$(N)-$(B)-$$(A)-$", &m), "x-3-$(B)-$(A)-$");
        let mut v = Value::from("$(N)");
        substitute(&mut v, &m);
        assert_eq!(v, Value::Int(3));
    }

    #[test]
    fn vars_follow_renames_and_fail_clearly() {
        let mut res = crate::loader::parse_objects(
            std::path::Path::new("t.yaml"),
            "apiVersion: v1\nkind: Service\nmetadata: {name: db}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n      containers:\n      - name: c\n        command: [run, --db=$(DB)]\n",
        )
        .unwrap();
        res[0].store_previous_id();
        res[0].set_name("p-db");
        let var: Var =
            serde_saphyr::from_str("name: DB\nobjref: {kind: Service, name: db, apiVersion: v1}\n")
                .unwrap();
        let d = Declared {
            var,
            file: "k.yaml".into(),
        };
        let cfg = Config::builtin().unwrap();
        resolve(&mut res, std::slice::from_ref(&d), &cfg).unwrap();
        let cmd = field(&res[1].value, "spec.template.spec.containers[0].command[1]");
        assert_eq!(cmd, Some(Value::from("--db=p-db")));
        let mut bad = d.clone();
        bad.var.objref.name = "nope".into();
        let e = resolve(&mut res, &[bad], &cfg).unwrap_err().to_string();
        assert!(
            e.contains("k.yaml") && e.contains("cannot be mapped"),
            "{e}"
        );
        let e = resolve(&mut res, &[d.clone(), d], &cfg)
            .unwrap_err()
            .to_string();
        assert!(e.contains("already encountered"), "{e}");
    }
}
