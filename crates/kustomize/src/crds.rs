//! The `crds` kustomization field: OpenAPI definitions of custom types whose `x-kubernetes-*`
//! extensions teach the built-in transformers about the custom types' fields.
//!
//! kustomize reads each file as a map of type name (`<go package>.<Kind>`) to `{Schema: <OpenAPI schema>, Dependencies: [...]}`. For every type with
//! `apiVersion`, `kind` and `metadata` properties it walks the properties (following `$ref`s to
//! other entries of the same file) and, for the type's kind (any group and version):
//! - `x-kubernetes-object-ref-kind` + `x-kubernetes-object-ref-api-version` make the property a
//!   name reference to that kind (the name under `x-kubernetes-object-ref-name-key`, default
//!   `name`), fixed when the referred object is renamed;
//! - `x-kubernetes-label-selector` makes it a map `commonLabels` are added to;
//! - `x-kubernetes-annotation` makes it a map `commonAnnotations` are added to;
//! - `x-kubernetes-identity` makes it a name `namePrefix` is added to.
//!
//! Merge behaviour of patches does not come from `crds` (that is `openapi`). The definitions
//! apply to the kustomization that lists them and to every kustomization above it.

use crate::error::{Error, Result};
use crate::fieldspec::{Config, FieldSpec, NameRef};
use crate::loader;
use crate::value::Value;
use std::path::Path;

/// Deeper `$ref` chains than this are taken as a cycle.
const MAX_DEPTH: usize = 64;

/// Read one `crds` file into the field specs it adds.
pub fn load(dir: &Path, entry: &str) -> Result<Config> {
    let (path, text) = loader::read_text(dir, entry)?;
    let invalid = |message: String| Error::Invalid {
        file: path.clone(),
        message: format!("unable to parse open API definition: {message}"),
    };
    let doc: Value = serde_saphyr::from_str_with_options(&text, loader::yaml_options())
        .map_err(|e| invalid(e.to_string()))?;
    let doc = doc.to_json();
    let types = doc
        .as_object()
        .ok_or_else(|| invalid("expected a mapping of type names to definitions".into()))?;
    let mut schemas = std::collections::BTreeMap::new();
    for (name, def) in types {
        let def = def
            .as_object()
            .ok_or_else(|| invalid(format!("definition '{name}' must be a mapping")))?;
        // Go's JSON decoding matches field names without regard to case.
        let schema = def
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("schema"))
            .map(|(_, v)| v.clone())
            .unwrap_or(serde_json::Value::Null);
        schemas.insert(name.clone(), schema);
    }
    let mut cfg = Config::default();
    for (name, schema) in &schemas {
        let props = schema.get("properties").and_then(|p| p.as_object());
        let looks_like_k8s = props.is_some_and(|p| {
            ["kind", "apiVersion", "metadata"]
                .iter()
                .all(|k| p.contains_key(*k))
        });
        if !looks_like_k8s {
            continue;
        }
        let kind = name.rsplit('.').next().unwrap_or_default();
        walk(&mut cfg, kind, &schemas, name, &mut Vec::new(), &path)?;
    }
    Ok(cfg)
}

fn ext<'a>(prop: &'a serde_json::Value, key: &str) -> Option<&'a str> {
    prop.get(key).and_then(|v| v.as_str())
}

fn spec(kind: &str, path: &[String]) -> FieldSpec {
    FieldSpec {
        kind: kind.to_string(),
        path: path.join("/"),
        ..FieldSpec::default()
    }
}

/// Collect the specs of type `type_name`'s properties, found at `path` under objects of `kind`.
fn walk(
    cfg: &mut Config,
    kind: &str,
    schemas: &std::collections::BTreeMap<String, serde_json::Value>,
    type_name: &str,
    path: &mut Vec<String>,
    file: &Path,
) -> Result<()> {
    let Some(schema) = schemas.get(type_name) else {
        return Ok(());
    };
    if path.len() > MAX_DEPTH {
        return Err(Error::Invalid {
            file: file.to_path_buf(),
            message: format!("type '{type_name}': $ref chain too deep (a cycle?)"),
        });
    }
    let Some(props) = schema.get("properties").and_then(|p| p.as_object()) else {
        return Ok(());
    };
    for (prop_name, prop) in props {
        path.push(prop_name.clone());
        if ext(prop, "x-kubernetes-annotation").is_some() {
            add_unique(&mut cfg.common_annotations, spec(kind, path));
        }
        if ext(prop, "x-kubernetes-label-selector").is_some() {
            add_unique(&mut cfg.common_labels, spec(kind, path));
        }
        if ext(prop, "x-kubernetes-identity").is_some() {
            add_unique(&mut cfg.name_prefix, spec(kind, path));
        }
        if let (Some(version), Some(ref_kind)) = (
            ext(prop, "x-kubernetes-object-ref-api-version"),
            ext(prop, "x-kubernetes-object-ref-kind"),
        ) {
            let key = ext(prop, "x-kubernetes-object-ref-name-key").unwrap_or("name");
            let mut p = path.clone();
            p.push(key.to_string());
            add_name_ref(
                cfg,
                NameRef {
                    group: String::new(),
                    version: version.to_string(),
                    kind: ref_kind.to_string(),
                    field_specs: vec![spec(kind, &p)],
                },
            );
        }
        if let Some(r) = prop
            .get("$ref")
            .and_then(|r| r.as_str())
            .filter(|r| !r.is_empty())
        {
            walk(cfg, kind, schemas, r, path, file)?;
        }
        path.pop();
    }
    Ok(())
}

fn same_spec(a: &FieldSpec, b: &FieldSpec) -> bool {
    a.path == b.path && a.kind == b.kind && a.group == b.group && a.version == b.version
}

fn add_unique(list: &mut Vec<FieldSpec>, fs: FieldSpec) {
    if !list.iter().any(|x| same_spec(x, &fs)) {
        list.push(fs);
    }
}

fn add_name_ref(cfg: &mut Config, rule: NameRef) {
    match cfg
        .name_reference
        .iter_mut()
        .find(|r| r.kind == rule.kind && r.group == rule.group && r.version == rule.version)
    {
        Some(existing) => {
            for fs in rule.field_specs {
                add_unique(&mut existing.field_specs, fs);
            }
        }
        None => cfg.name_reference.push(rule),
    }
}

/// Add `extra`'s specs to `cfg` (kustomize's `TransformerConfig.Merge`).
pub fn merge_into(cfg: &mut Config, extra: &Config) {
    for (to, from) in [
        (&mut cfg.name_prefix, &extra.name_prefix),
        (&mut cfg.name_suffix, &extra.name_suffix),
        (&mut cfg.common_labels, &extra.common_labels),
        (&mut cfg.template_labels, &extra.template_labels),
        (&mut cfg.common_annotations, &extra.common_annotations),
        (&mut cfg.namespace, &extra.namespace),
        (&mut cfg.images, &extra.images),
        (&mut cfg.replicas, &extra.replicas),
        (&mut cfg.var_reference, &extra.var_reference),
    ] {
        for fs in from {
            add_unique(to, fs.clone());
        }
    }
    for rule in &extra.name_reference {
        add_name_ref(cfg, rule.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_extensions_through_refs() {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(
            t.path().join("c.json"),
            r#"{
              "ex.com/pkg/v1.Foo": {"Schema": {"properties": {
                "apiVersion": {}, "kind": {}, "metadata": {},
                "spec": {"$ref": "ex.com/pkg/v1.FooSpec"}}}},
              "ex.com/pkg/v1.FooSpec": {"schema": {"properties": {
                "cm": {"x-kubernetes-object-ref-api-version": "v1",
                       "x-kubernetes-object-ref-kind": "ConfigMap",
                       "x-kubernetes-object-ref-name-key": "ref"},
                "sel": {"x-kubernetes-label-selector": ""},
                "id": {"x-kubernetes-identity": ""},
                "notes": {"x-kubernetes-annotation": true}}}}
            }"#,
        )
        .unwrap();
        let cfg = load(t.path(), "c.json").unwrap();
        assert_eq!(cfg.name_reference.len(), 1);
        assert_eq!(cfg.name_reference[0].field_specs[0].path, "spec/cm/ref");
        assert_eq!(cfg.name_reference[0].field_specs[0].kind, "Foo");
        assert_eq!(cfg.common_labels[0].path, "spec/sel");
        assert_eq!(cfg.name_prefix[0].path, "spec/id");
        // Extensions must be strings, as kustomize reads them.
        assert!(cfg.common_annotations.is_empty());
    }
}
