//! Our generated CRDs against Flux's published ones (`../shared/reference/`): every field path
//! with its type, format, enum, default, required-ness, pattern, bounds and Kubernetes
//! extensions; names, short names, categories, printer columns, subresources and version flags.
//!
//! The current versions (v1, v2) are compared with `flux-crds/`, the older served ones
//! (v1beta2, v2beta1, v2beta2) with `flux-crds-legacy/`. Any deliberate difference is listed in
//! `ALLOWED` with its reason; everything else fails the test.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde_json::Value;

/// Deliberate differences from Flux: (difference key, why). Keys are printed by the test.
const ALLOWED: &[(&str, &str)] = &[
    (
        "gitrepositories.source.toolkit.fluxcd.io/v1 .spec.url pattern",
        "git:// URLs are accepted (the walkthrough's manifests use git daemon)",
    ),
    (
        "gitrepositories.source.toolkit.fluxcd.io/v1beta2 .spec.url pattern",
        "git:// URLs are accepted (the walkthrough's manifests use git daemon)",
    ),
];

/// Versions the reference holds that we deliberately do not serve.
const NOT_SERVED: &[&str] = &["v1beta1"];

fn shared_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("FERROFLUX_SHARED") {
        return PathBuf::from(dir);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared")
}

fn load(path: &PathBuf) -> Option<Value> {
    let text = std::fs::read_to_string(path).ok()?;
    Some(serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

/// Flattens a schema into `path -> attribute -> value` so two schemas compare field by field.
fn flatten(schema: &Value, path: &str, out: &mut BTreeMap<String, BTreeMap<&'static str, Value>>) {
    const ATTRS: &[&str] = &[
        "type",
        "format",
        "default",
        "pattern",
        "minLength",
        "maxLength",
        "minimum",
        "maximum",
        "minItems",
        "maxItems",
        "minProperties",
        "maxProperties",
        "x-kubernetes-preserve-unknown-fields",
        "x-kubernetes-int-or-string",
        "x-kubernetes-list-type",
        "x-kubernetes-list-map-keys",
        "x-kubernetes-map-type",
        "x-kubernetes-embedded-resource",
    ];
    let mut attrs = BTreeMap::new();
    for a in ATTRS {
        if let Some(v) = schema.get(*a) {
            // 0 and 0.0 are the same bound.
            let v = match v.as_f64() {
                Some(f) if v.is_number() && f.fract() == 0.0 => Value::from(f as i64),
                _ => v.clone(),
            };
            attrs.insert(*a, v);
        }
    }
    if let Some(Value::Array(e)) = schema.get("enum") {
        let mut e: Vec<String> = e.iter().map(|v| v.to_string()).collect();
        e.sort();
        attrs.insert("enum", Value::from(e));
    }
    if let Some(Value::Array(r)) = schema.get("required") {
        let mut r: Vec<String> = r
            .iter()
            .filter_map(|v| v.as_str().map(String::from))
            .collect();
        r.sort();
        attrs.insert("required", Value::from(r));
    }
    if let Some(Value::Array(v)) = schema.get("x-kubernetes-validations") {
        let mut rules: Vec<String> = v
            .iter()
            .filter_map(|r| r.get("rule").and_then(Value::as_str).map(String::from))
            .collect();
        rules.sort();
        attrs.insert("x-kubernetes-validations", Value::from(rules));
    }
    out.insert(path.to_string(), attrs);
    if let Some(Value::Object(props)) = schema.get("properties") {
        for (k, v) in props {
            flatten(v, &format!("{path}.{k}"), out);
        }
    }
    if let Some(items) = schema.get("items") {
        flatten(items, &format!("{path}[]"), out);
    }
    if let Some(ap @ Value::Object(_)) = schema.get("additionalProperties") {
        flatten(ap, &format!("{path}{{}}"), out);
    }
}

fn version<'a>(crd: &'a Value, name: &str) -> Option<&'a Value> {
    crd["spec"]["versions"]
        .as_array()?
        .iter()
        .find(|v| v["name"] == name)
}

fn diff_version(key: &str, ours: &Value, flux: &Value, diffs: &mut Vec<String>) {
    for field in [
        "served",
        "storage",
        "deprecated",
        "deprecationWarning",
        "subresources",
    ] {
        let (a, b) = (&ours[field], &flux[field]);
        let norm = |v: &Value| {
            if v == &Value::Bool(false) {
                Value::Null
            } else {
                v.clone()
            }
        };
        if norm(a) != norm(b) {
            diffs.push(format!("{key} {field}: ours {a} flux {b}"));
        }
    }
    let cols = |v: &Value| -> BTreeSet<String> {
        v["additionalPrinterColumns"]
            .as_array()
            .map(|c| {
                c.iter()
                    .map(|c| {
                        format!(
                            "{}|{}|{}|{}",
                            c["name"], c["type"], c["jsonPath"], c["priority"]
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let (a, b) = (cols(ours), cols(flux));
    if a != b {
        diffs.push(format!("{key} printer columns: ours {a:?} flux {b:?}"));
    }
    let mut fa = BTreeMap::new();
    let mut fb = BTreeMap::new();
    flatten(&ours["schema"]["openAPIV3Schema"], "", &mut fa);
    flatten(&flux["schema"]["openAPIV3Schema"], "", &mut fb);
    for (path, attrs) in &fb {
        match fa.get(path) {
            None => diffs.push(format!("{key} {path} missing")),
            Some(ours) => {
                let names: BTreeSet<_> = attrs.keys().chain(ours.keys()).collect();
                for n in names {
                    if attrs.get(n) != ours.get(n) {
                        diffs.push(format!(
                            "{key} {path} {n}: ours {} flux {}",
                            ours.get(n).map(|v| v.to_string()).unwrap_or("-".into()),
                            attrs.get(n).map(|v| v.to_string()).unwrap_or("-".into())
                        ));
                    }
                }
            }
        }
    }
    for path in fa.keys().filter(|p| !fb.contains_key(*p)) {
        diffs.push(format!("{key} {path} extra"));
    }
}

fn diff_crd(
    ours: &Value,
    current: Option<&Value>,
    legacy: Option<&Value>,
    diffs: &mut Vec<String>,
) {
    let name = ours["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let Some(current) = current else {
        diffs.push(format!("{name}: no reference CRD"));
        return;
    };
    let names = |v: &Value| {
        let n = &v["spec"]["names"];
        let sorted = |a: &Value| {
            let mut v: Vec<String> = a
                .as_array()
                .map(|a| a.iter().map(|x| x.to_string()).collect())
                .unwrap_or_default();
            v.sort();
            v
        };
        (
            n["kind"].clone(),
            n["plural"].clone(),
            n["singular"].clone(),
            n["listKind"].clone(),
            sorted(&n["shortNames"]),
            sorted(&n["categories"]),
            v["spec"]["scope"].clone(),
        )
    };
    if names(ours) != names(current) {
        diffs.push(format!(
            "{name} names: ours {:?} flux {:?}",
            names(ours),
            names(current)
        ));
    }
    let our_versions: Vec<&str> = ours["spec"]["versions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v["name"].as_str())
        .collect();
    for v in &our_versions {
        let key = format!("{name}/{v}");
        let reference = version(current, v).or_else(|| legacy.and_then(|l| version(l, v)));
        match reference {
            Some(r) => diff_version(&key, version(ours, v).unwrap_or(&Value::Null), r, diffs),
            None => diffs.push(format!("{key}: Flux never served this version")),
        }
    }
    for reference in [Some(current), legacy].into_iter().flatten() {
        for v in reference["spec"]["versions"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let vn = v["name"].as_str().unwrap_or_default();
            if !our_versions.contains(&vn) && !NOT_SERVED.contains(&vn) {
                diffs.push(format!("{name}/{vn}: served by Flux, not by us"));
            }
        }
    }
}

#[test]
fn generated_crds_match_flux_field_for_field() {
    let shared = shared_dir();
    assert!(
        shared.join("reference/flux-crds").is_dir(),
        "Flux reference CRDs not found under {}",
        shared.display()
    );
    let mut diffs = Vec::new();
    let mut seen = BTreeSet::new();
    for (_, crd) in ferroflux_api::crd::all() {
        let file = ferroflux_api::crd::file_name(&crd);
        seen.insert(file.clone());
        let ours = serde_json::to_value(&crd).unwrap();
        let current = load(&shared.join("reference/flux-crds").join(&file));
        let legacy = load(&shared.join("reference/flux-crds-legacy").join(&file));
        diff_crd(&ours, current.as_ref(), legacy.as_ref(), &mut diffs);
    }
    for entry in std::fs::read_dir(shared.join("reference/flux-crds")).unwrap() {
        let file = entry.unwrap().file_name().to_string_lossy().to_string();
        if !seen.contains(&file) {
            diffs.push(format!("{file}: Flux has this CRD, we do not generate it"));
        }
    }
    let allowed = |d: &String| ALLOWED.iter().any(|(k, _)| d.starts_with(k));
    let unexpected: Vec<&String> = diffs.iter().filter(|d| !allowed(d)).collect();
    let unused: Vec<&str> = ALLOWED
        .iter()
        .map(|(k, _)| *k)
        .filter(|k| !diffs.iter().any(|d| d.starts_with(k)))
        .collect();
    assert!(
        unused.is_empty(),
        "allow-list entries that no longer match a difference: {unused:#?}"
    );
    assert!(
        unexpected.is_empty(),
        "{} differences from Flux's CRDs:\n{}",
        unexpected.len(),
        unexpected
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
}
