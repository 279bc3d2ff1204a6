//! Fixing references to renamed objects (kustomize's name-reference transformer): after
//! prefixes, suffixes, namespaces and content hashes change names, every field that names
//! one of those objects (per the built-in `nameReference` table) is updated to the new name.

use crate::error::Result;
use crate::fieldspec::{Config, NameRef, visit};
use crate::resource::{Gvk, Resource};
use crate::value::Value;
use std::collections::HashMap;

/// What a candidate referral looks like, captured before referrers are edited.
struct Referral {
    gvk: Gvk,
    prev_names: Vec<String>,
    name: String,
    namespace: String,
    cluster_scoped: bool,
}

fn rule_matches(rule: &NameRef, gvk: &Gvk) -> bool {
    rule.kind == gvk.kind
        && (rule.group.is_empty() || rule.group == gvk.group)
        && (rule.version.is_empty() || rule.version == gvk.version)
}

/// The renamed objects, indexed by every name they had (lookups stay cheap with thousands of
/// objects).
struct Referrals {
    all: Vec<Referral>,
    by_old_name: HashMap<String, Vec<usize>>,
}

/// Pick the referral an old name means, as kustomize's `selectReferral` does.
fn select<'a>(
    refs: &'a Referrals,
    rule: &NameRef,
    old: &str,
    referrer_ns: Option<&str>,
    role_ref_kind: Option<&str>,
) -> Option<&'a Referral> {
    let eff = |ns: &str| {
        if ns.is_empty() {
            "default".to_string()
        } else {
            ns.to_string()
        }
    };
    let idx = refs.by_old_name.get(old)?;
    let cands: Vec<&Referral> = idx
        .iter()
        .map(|&i| &refs.all[i])
        .filter(|r| rule_matches(rule, &r.gvk))
        .filter(|r| role_ref_kind.is_none_or(|k| k == r.gvk.kind))
        .filter(|r| match referrer_ns {
            None => true,
            Some(ns) => {
                r.cluster_scoped || r.gvk.kind == "ServiceAccount" || eff(&r.namespace) == eff(ns)
            }
        })
        .collect();
    match cands.as_slice() {
        [one] => Some(one),
        [first, rest @ ..] if rest.iter().all(|r| r.name == first.name) => Some(first),
        _ => None,
    }
}

/// Update every reference in `res`.
pub fn fix(res: &mut [Resource], cfg: &Config) -> Result<()> {
    let all: Vec<Referral> = res
        .iter()
        .filter(|r| !r.prev_ids.is_empty())
        .map(|r| {
            let gvk = r.gvk();
            Referral {
                cluster_scoped: gvk.is_cluster_scoped(),
                gvk,
                prev_names: r.prev_ids.iter().map(|i| i.name.clone()).collect(),
                name: r.name().to_string(),
                namespace: r.namespace().to_string(),
            }
        })
        .collect();
    if all.is_empty() {
        return Ok(());
    }
    let mut by_old_name: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, r) in all.iter().enumerate() {
        for n in &r.prev_names {
            let v = by_old_name.entry(n.clone()).or_default();
            if v.last() != Some(&i) {
                v.push(i);
            }
        }
    }
    let refs = Referrals { all, by_old_name };
    // Only rules for kinds that were renamed matter.
    let rules: Vec<&NameRef> = cfg
        .name_reference
        .iter()
        .filter(|rule| refs.all.iter().any(|x| rule_matches(rule, &x.gvk)))
        .collect();
    for r in res.iter_mut() {
        let gvk = r.gvk();
        let referrer_ns = if gvk.is_cluster_scoped() {
            None
        } else {
            Some(r.namespace().to_string())
        };
        let role_ref_kind = r.value.str_at(&["roleRef", "kind"]).map(str::to_string);
        for rule in &rules {
            for fs in &rule.field_specs {
                if !fs.applies_to(&gvk) {
                    continue;
                }
                let rrk = if fs.path.ends_with("roleRef/name") {
                    role_ref_kind.as_deref()
                } else {
                    None
                };
                let ns = referrer_ns.as_deref();
                visit(&mut r.value, fs.segments(), false, &mut |v| {
                    update(v, &refs, rule, ns, rrk);
                    Ok(())
                })?;
            }
        }
    }
    Ok(())
}

fn update(v: &mut Value, refs: &Referrals, rule: &NameRef, ns: Option<&str>, rrk: Option<&str>) {
    match v {
        Value::String(s) => {
            if let Some(t) = select(refs, rule, s, ns, rrk) {
                *s = t.name.clone();
            }
        }
        Value::Seq(items) => items
            .iter_mut()
            .for_each(|i| update(i, refs, rule, ns, rrk)),
        Value::Map(m) => {
            if let Some(kind) = m.get("kind").and_then(Value::as_str)
                && kind != rule.kind
            {
                return;
            }
            let Some(old) = m.get("name").and_then(Value::as_str).map(str::to_string) else {
                return;
            };
            let sub_ns = m
                .get("namespace")
                .and_then(Value::as_str)
                .map(str::to_string);
            let eff_ns = sub_ns.as_deref().or(ns);
            if let Some(t) = select(refs, rule, &old, eff_ns, None) {
                m.insert("name".into(), t.name.clone().into());
                if !t.cluster_scoped && !t.namespace.is_empty() {
                    m.insert("namespace".into(), t.namespace.clone().into());
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transform::prefix_suffix;

    fn res(y: &str) -> Resource {
        Resource::new(
            serde_saphyr::from_str_with_options(y, crate::loader::yaml_options()).unwrap(),
        )
    }

    #[test]
    fn references_follow_renames() {
        let cfg = Config::builtin().unwrap();
        let mut rs = vec![
            res("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\n"),
            res("apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: sa}\n"),
            res("apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: role}\n"),
            res(
                "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: rb}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: role}\nsubjects:\n- {kind: ServiceAccount, name: sa}\n",
            ),
            res(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n    spec:\n      serviceAccountName: sa\n      volumes:\n      - name: v\n        configMap: {name: cm}\n      - name: p\n        projected:\n          sources:\n          - configMap: {name: cm}\n      containers:\n      - name: c\n        envFrom: [{configMapRef: {name: cm}}]\n        env: [{name: X, valueFrom: {configMapKeyRef: {name: cm, key: k}}}]\n",
            ),
        ];
        prefix_suffix(&mut rs, "p-", "", &Config::default()).unwrap();
        fix(&mut rs, &cfg).unwrap();
        let d = &rs[4].value;
        let spec = d.pointer(&["spec", "template", "spec"]).unwrap();
        assert_eq!(spec.str_at(&["serviceAccountName"]), Some("p-sa"));
        let vols = spec.get("volumes").unwrap().as_seq().unwrap();
        assert_eq!(vols[0].str_at(&["configMap", "name"]), Some("p-cm"));
        let c = &spec.get("containers").unwrap().as_seq().unwrap()[0];
        assert_eq!(
            c.get("envFrom").unwrap().as_seq().unwrap()[0].str_at(&["configMapRef", "name"]),
            Some("p-cm")
        );
        let rb = &rs[3].value;
        assert_eq!(rb.str_at(&["roleRef", "name"]), Some("p-role"));
        assert_eq!(
            rb.get("subjects").unwrap().as_seq().unwrap()[0].str_at(&["name"]),
            Some("p-sa")
        );
    }
}
