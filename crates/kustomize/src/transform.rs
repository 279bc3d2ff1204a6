//! The built-in transformers: namespace, name prefix/suffix, labels, annotations, images,
//! replicas. Each follows the matching kustomize builtin plugin and its field specs.

use crate::error::{Error, Result};
use crate::fieldspec::{Config, FieldSpec, split_path, visit};
use crate::kustomization::{Image, Replica};
use crate::resource::Resource;
use crate::value::{Mapping, Value};

/// Apply `f` to every field selected by `specs` in `r`.
fn apply_specs(
    r: &mut Resource,
    specs: &[FieldSpec],
    f: &mut dyn FnMut(&mut Value) -> Result<()>,
) -> Result<()> {
    let gvk = r.gvk();
    for fs in specs {
        if fs.applies_to(&gvk) {
            visit(&mut r.value, fs.segments(), fs.create, f)?;
        }
    }
    Ok(())
}

/// `namespace`: set `metadata.namespace` on namespaced objects (and the namespace fields of
/// the built-in specs, the `v1` Namespace's own name, and RoleBinding subjects named `default`).
pub fn namespace(res: &mut [Resource], ns: &str, cfg: &Config) -> Result<()> {
    for r in res.iter_mut() {
        let gvk = r.gvk();
        r.store_previous_id();
        if !gvk.is_cluster_scoped() {
            r.set_namespace(ns);
        }
        let api_version = r
            .value
            .str_at(&["apiVersion"])
            .unwrap_or_default()
            .to_string();
        let specs: Vec<FieldSpec> = cfg
            .namespace
            .iter()
            .filter(|fs| fs.path != "metadata/namespace")
            .filter(|fs| api_version == "v1" || fs.path != "metadata/name")
            .filter(|fs| {
                !(matches!(fs.kind.as_str(), "RoleBinding" | "ClusterRoleBinding")
                    && fs.path == "subjects/namespace")
            })
            .cloned()
            .collect();
        apply_specs(r, &specs, &mut |v| {
            *v = Value::String(ns.to_string());
            Ok(())
        })?;
        if matches!(gvk.kind.as_str(), "RoleBinding" | "ClusterRoleBinding")
            && let Some(Value::Seq(subjects)) = r.value.get_mut("subjects")
        {
            for s in subjects {
                if s.str_at(&["name"]) == Some("default")
                    && let Some(m) = s.as_map_mut()
                {
                    m.insert("namespace".into(), ns.into());
                }
            }
        }
    }
    Ok(())
}

/// Kinds whose names `namePrefix`/`nameSuffix` leave alone (kustomize's skip list).
fn skip_rename(r: &Resource) -> bool {
    let id = r.org_id();
    id.gvk.kind == "CustomResourceDefinition"
        || id.gvk.kind == "Namespace"
        || (id.gvk.kind == "APIService" && id.gvk.group == "apiregistration.k8s.io")
}

/// `namePrefix` / `nameSuffix`: the object's name, plus any other name fields the field specs
/// add (from `crds`).
pub fn prefix_suffix(res: &mut [Resource], prefix: &str, suffix: &str, cfg: &Config) -> Result<()> {
    let extra = |specs: &[FieldSpec]| -> Vec<FieldSpec> {
        specs
            .iter()
            .filter(|s| s.path != "metadata/name")
            .cloned()
            .collect()
    };
    let (pre, suf) = (extra(&cfg.name_prefix), extra(&cfg.name_suffix));
    for r in res.iter_mut() {
        if skip_rename(r) {
            continue;
        }
        let name = format!("{prefix}{}{suffix}", r.name());
        r.store_previous_id();
        r.set_name(&name);
        for (specs, add, front) in [(&pre, prefix, true), (&suf, suffix, false)] {
            if add.is_empty() {
                continue;
            }
            apply_specs(r, specs, &mut |v| {
                if let Value::String(s) = v {
                    *s = if front {
                        format!("{add}{s}")
                    } else {
                        format!("{s}{add}")
                    };
                }
                Ok(())
            })?;
        }
    }
    Ok(())
}

/// Set labels or annotations (`pairs`) on the fields `specs` selects.
pub fn set_map_fields(
    res: &mut [Resource],
    pairs: &[(String, String)],
    specs: &[FieldSpec],
) -> Result<()> {
    if pairs.is_empty() {
        return Ok(());
    }
    for r in res.iter_mut() {
        apply_specs(r, specs, &mut |v| {
            if matches!(v, Value::Null) {
                *v = Value::Map(Mapping::default());
            }
            if let Value::Map(m) = v {
                for (k, val) in pairs {
                    m.insert(k.clone(), Value::String(val.clone()));
                }
            }
            Ok(())
        })?;
    }
    Ok(())
}

/// The field specs a `labels` entry uses.
pub fn label_specs(
    cfg: &Config,
    include_selectors: bool,
    include_templates: bool,
) -> Vec<FieldSpec> {
    if include_selectors {
        cfg.common_labels.clone()
    } else if include_templates {
        cfg.template_labels.clone()
    } else {
        vec![FieldSpec {
            path: "metadata/labels".into(),
            create: true,
            ..Default::default()
        }]
    }
}

/// Split an image reference into name, and the rest (`:tag`, `@digest` or both).
fn split_image(image: &str) -> (&str, &str) {
    // A ':' after the last '/' starts the tag; '@' starts the digest.
    let at = image.find('@');
    let head = at.map_or(image, |i| &image[..i]);
    let last_slash = head.rfind('/').map_or(0, |i| i + 1);
    let colon = head[last_slash..].find(':').map(|i| i + last_slash);
    let end = colon.or(at).unwrap_or(image.len());
    (&image[..end], &image[end..])
}

/// The new image string if `img` matches the `images` entry.
fn update_image(img: &str, entry: &Image) -> Option<String> {
    let (name, rest) = split_image(img);
    if name != entry.name {
        return None;
    }
    let new_name = entry.new_name.as_deref().unwrap_or(name);
    let tag = entry.new_tag.as_ref().and_then(Value::scalar_string);
    let suffix = if let Some(d) = entry.digest.as_deref() {
        format!("@{d}")
    } else if let Some(t) = tag {
        format!(":{t}")
    } else {
        rest.to_string()
    };
    Some(format!("{new_name}{suffix}"))
}

/// Walk every `containers`/`initContainers` list anywhere in the object (kustomize's legacy
/// image filter, which covers custom kinds too).
fn walk_containers(v: &mut Value, images: &[Image]) {
    match v {
        Value::Map(m) => {
            for (k, child) in m.iter_mut() {
                if (k == "containers" || k == "initContainers")
                    && let Value::Seq(items) = child
                {
                    for c in items.iter_mut() {
                        if let Some(Value::String(img)) = c.get_mut("image") {
                            for e in images {
                                if let Some(n) = update_image(img, e) {
                                    *img = n;
                                    break;
                                }
                            }
                        }
                    }
                }
                walk_containers(child, images);
            }
        }
        Value::Seq(items) => items.iter_mut().for_each(|i| walk_containers(i, images)),
        _ => {}
    }
}

/// `images`.
pub fn images(res: &mut [Resource], images: &[Image], cfg: &Config) -> Result<()> {
    if images.is_empty() {
        return Ok(());
    }
    let specs: Vec<FieldSpec> = cfg
        .images
        .iter()
        // The built-in container paths are covered by the walk over every `containers` /
        // `initContainers` list below; the rest (image volumes, `configurations`) are not.
        .filter(|f| {
            !f.kind.is_empty()
                || !(f.path.ends_with("/containers[]/image")
                    || f.path.ends_with("/initContainers[]/image"))
        })
        .map(|f| FieldSpec {
            create: false,
            ..f.clone()
        })
        .collect();
    for r in res.iter_mut() {
        walk_containers(&mut r.value, images);
        apply_specs(r, &specs, &mut |v| {
            if let Value::String(img) = v {
                for e in images {
                    if let Some(n) = update_image(img, e) {
                        *img = n;
                        break;
                    }
                }
            }
            Ok(())
        })?;
    }
    Ok(())
}

/// `replicas`: set `spec.replicas` on workloads with that (current or earlier) name.
pub fn replicas(res: &mut [Resource], reps: &[Replica], cfg: &Config) -> Result<()> {
    for rep in reps {
        let mut found = false;
        for r in res.iter_mut() {
            let matches = r.name() == rep.name || r.prev_ids.iter().any(|id| id.name == rep.name);
            if !matches {
                continue;
            }
            let gvk = r.gvk();
            found |= cfg.replicas.iter().any(|s| s.applies_to(&gvk));
            let count = rep.count;
            apply_specs(r, &cfg.replicas, &mut |v| {
                *v = Value::Int(count);
                Ok(())
            })?;
        }
        // kustomize refuses a replica count that reaches no workload.
        if !found {
            let kinds: Vec<&str> = cfg.replicas.iter().map(|s| s.kind.as_str()).collect();
            return Err(Error::Transform(format!(
                "replicas: no workload named '{}' of kind {}",
                rep.name,
                kinds.join(", ")
            )));
        }
    }
    Ok(())
}

/// A one-off field spec (used by tests and callers with custom paths).
pub fn spec(path: &str, create: bool) -> FieldSpec {
    FieldSpec {
        path: split_path(path).join("/"),
        create,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(y: &str) -> Resource {
        Resource::new(
            serde_saphyr::from_str_with_options(y, crate::loader::yaml_options()).unwrap(),
        )
    }
    const DEPLOY: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - name: c\n        image: nginx:1.0\n      initContainers:\n      - name: i\n        image: docker.io/busybox@sha256:abc\n";

    #[test]
    fn namespace_skips_cluster_scoped() {
        let cfg = Config::builtin().unwrap();
        let mut rs = vec![
            res(DEPLOY),
            res(
                "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: r}\n",
            ),
            res(
                "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: b}\nsubjects:\n- {kind: ServiceAccount, name: default, namespace: x}\n- {kind: ServiceAccount, name: other, namespace: x}\n",
            ),
        ];
        namespace(&mut rs, "prod", &cfg).unwrap();
        assert_eq!(rs[0].namespace(), "prod");
        assert_eq!(rs[1].namespace(), "");
        let subj = rs[2].value.get("subjects").unwrap().as_seq().unwrap();
        assert_eq!(subj[0].str_at(&["namespace"]), Some("prod"));
        assert_eq!(subj[1].str_at(&["namespace"]), Some("x"));
    }

    #[test]
    fn prefix_suffix_skips_namespaces_and_records_history() {
        let mut rs = vec![
            res(DEPLOY),
            res("apiVersion: v1\nkind: Namespace\nmetadata: {name: n}\n"),
        ];
        prefix_suffix(&mut rs, "p-", "-s", &Config::default()).unwrap();
        assert_eq!(rs[0].name(), "p-web-s");
        assert_eq!(rs[0].prev_ids[0].name, "web");
        assert_eq!(rs[1].name(), "n");
    }

    #[test]
    fn common_labels_reach_selectors_and_templates() {
        let cfg = Config::builtin().unwrap();
        let mut rs = vec![
            res(DEPLOY),
            res(
                "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 80}]}\n",
            ),
        ];
        set_map_fields(&mut rs, &[("team".into(), "a".into())], &cfg.common_labels).unwrap();
        let d = &rs[0].value;
        assert_eq!(d.str_at(&["metadata", "labels", "team"]), Some("a"));
        assert_eq!(
            d.str_at(&["spec", "selector", "matchLabels", "team"]),
            Some("a")
        );
        assert_eq!(
            d.str_at(&["spec", "template", "metadata", "labels", "team"]),
            Some("a")
        );
        assert_eq!(rs[1].value.str_at(&["spec", "selector", "team"]), Some("a"));
    }

    #[test]
    fn labels_without_selectors_touch_metadata_only() {
        let cfg = Config::builtin().unwrap();
        let mut rs = vec![res(DEPLOY)];
        set_map_fields(
            &mut rs,
            &[("t".into(), "1".into())],
            &label_specs(&cfg, false, true),
        )
        .unwrap();
        let d = &rs[0].value;
        assert_eq!(d.str_at(&["spec", "selector", "matchLabels", "t"]), None);
        assert_eq!(
            d.str_at(&["spec", "template", "metadata", "labels", "t"]),
            Some("1")
        );
    }

    #[test]
    fn images_update_tags_names_and_digests() {
        let cfg = Config::builtin().unwrap();
        let mut rs = vec![res(DEPLOY)];
        let imgs = vec![
            Image {
                name: "nginx".into(),
                new_name: Some("reg/nginx".into()),
                new_tag: Some("2.0".into()),
                digest: None,
            },
            Image {
                name: "docker.io/busybox".into(),
                new_name: None,
                new_tag: None,
                digest: Some("sha256:def".into()),
            },
        ];
        images(&mut rs, &imgs, &cfg).unwrap();
        let spec = rs[0].value.pointer(&["spec", "template", "spec"]).unwrap();
        assert_eq!(
            spec.get("containers").unwrap().as_seq().unwrap()[0].str_at(&["image"]),
            Some("reg/nginx:2.0")
        );
        assert_eq!(
            spec.get("initContainers").unwrap().as_seq().unwrap()[0].str_at(&["image"]),
            Some("docker.io/busybox@sha256:def")
        );
        assert_eq!(
            split_image("localhost:5000/a/b:1"),
            ("localhost:5000/a/b", ":1")
        );
    }

    #[test]
    fn replicas_set() {
        let cfg = Config::builtin().unwrap();
        let mut rs = vec![res(DEPLOY)];
        replicas(
            &mut rs,
            &[Replica {
                name: "web".into(),
                count: 3,
            }],
            &cfg,
        )
        .unwrap();
        assert_eq!(
            rs[0].value.pointer(&["spec", "replicas"]),
            Some(&Value::Int(3))
        );
    }
}
