//! A Flux `Kustomization`'s build overrides layered over the user's kustomization, as
//! kustomize-controller does before building (`fluxcd/pkg/kustomize` `Generator.WriteFile`),
//! plus `spec.commonMetadata`, which it applies to the built objects.
//!
//! * `targetNamespace` replaces `namespace` (when set).
//! * `namePrefix` / `nameSuffix` replace the kustomization's own (when set and not empty).
//! * `patches`, `patchesStrategicMerge` and `patchesJson6902` are appended, after the user's.
//! * `images`: an entry replaces the user's entry of the same `name`, else is appended.
//! * `components` are appended.
//! * `commonMetadata`: labels and annotations set on every object's `metadata` only — not on
//!   selectors or pod templates ([`apply_common_metadata`], after the build, overriding
//!   values of the same keys).

use crate::kustomization::{Image, Kustomization, Patch};
use crate::resource::Resource;
use crate::value::Value;
use std::collections::BTreeMap;

/// The build-affecting fields of a Flux `Kustomization` spec.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `spec.targetNamespace`.
    pub target_namespace: Option<String>,
    /// `spec.namePrefix`.
    pub name_prefix: Option<String>,
    /// `spec.nameSuffix`.
    pub name_suffix: Option<String>,
    /// `spec.patches`.
    pub patches: Vec<Patch>,
    /// `spec.patchesStrategicMerge` (v1beta2), each an inline patch document.
    pub patches_strategic_merge: Vec<String>,
    /// `spec.patchesJson6902` (v1beta2), each with its operations as an inline patch.
    pub patches_json6902: Vec<Patch>,
    /// `spec.images`.
    pub images: Vec<Image>,
    /// `spec.components`.
    pub components: Vec<String>,
    /// `spec.commonMetadata`.
    pub common_metadata: Option<CommonMetadata>,
}

/// `spec.commonMetadata`.
#[derive(Debug, Clone, Default)]
pub struct CommonMetadata {
    /// Labels for every object.
    pub labels: BTreeMap<String, String>,
    /// Annotations for every object.
    pub annotations: BTreeMap<String, String>,
}

/// Layer `o` over `k` (everything but `commonMetadata`, which applies after the build).
pub fn apply_overrides(k: &mut Kustomization, o: &Overrides) {
    if let Some(ns) = &o.target_namespace {
        k.namespace = Some(ns.clone());
    }
    if let Some(p) = o.name_prefix.as_ref().filter(|p| !p.is_empty()) {
        k.name_prefix = Some(p.clone());
    }
    if let Some(s) = o.name_suffix.as_ref().filter(|s| !s.is_empty()) {
        k.name_suffix = Some(s.clone());
    }
    k.patches.extend(o.patches.iter().cloned());
    k.patches_strategic_merge
        .extend(o.patches_strategic_merge.iter().cloned());
    k.patches_json6902
        .extend(o.patches_json6902.iter().cloned());
    for img in &o.images {
        match k.images.iter_mut().find(|i| i.name == img.name) {
            Some(existing) => *existing = img.clone(),
            None => k.images.push(img.clone()),
        }
    }
    k.components.extend(o.components.iter().cloned());
}

/// Set `commonMetadata` labels and annotations on built objects (metadata only).
pub fn apply_common_metadata(objs: &mut [Resource], cm: &CommonMetadata) {
    for r in objs {
        for (field, pairs) in [("labels", &cm.labels), ("annotations", &cm.annotations)] {
            if pairs.is_empty() {
                continue;
            }
            if let Some(m) = r.value.ensure_map_path(&["metadata", field]) {
                for (k, v) in pairs {
                    m.insert(k.clone(), Value::String(v.clone()));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kustomization::Selector;

    fn img(name: &str, tag: &str) -> Image {
        Image {
            name: name.into(),
            new_tag: Some(Value::String(tag.into())),
            ..Default::default()
        }
    }

    #[test]
    fn layers_fields() {
        let mut k: Kustomization = serde_json::from_str(
            r#"{"namespace":"a","namePrefix":"u-","components":["c1"],
                "images":[{"name":"nginx","newTag":"1"},{"name":"redis","newTag":"6"}],
                "patches":[{"path":"p.yaml"}]}"#,
        )
        .unwrap();
        let o = Overrides {
            target_namespace: Some("flux-ns".into()),
            name_prefix: Some("f-".into()),
            name_suffix: Some("-s".into()),
            patches: vec![Patch {
                patch: Some("- op: remove\n  path: /x\n".into()),
                target: Some(Selector {
                    kind: Some("Deployment".into()),
                    ..Default::default()
                }),
                ..Default::default()
            }],
            images: vec![img("nginx", "2"), img("busybox", "3")],
            components: vec!["c2".into()],
            ..Default::default()
        };
        apply_overrides(&mut k, &o);
        assert_eq!(k.namespace.as_deref(), Some("flux-ns"));
        assert_eq!(k.name_prefix.as_deref(), Some("f-"));
        assert_eq!(k.name_suffix.as_deref(), Some("-s"));
        assert_eq!(k.components, ["c1", "c2"]);
        assert_eq!(k.patches.len(), 2);
        assert_eq!(k.patches[0].path.as_deref(), Some("p.yaml"));
        assert!(k.patches[1].target.is_some());
        let imgs: Vec<_> = k
            .images
            .iter()
            .map(|i| (i.name.as_str(), i.new_tag.clone()))
            .collect();
        assert_eq!(
            imgs,
            [
                ("nginx", Some(Value::String("2".into()))),
                ("redis", Some(Value::String("6".into()))),
                ("busybox", Some(Value::String("3".into()))),
            ]
        );
    }

    #[test]
    fn unset_overrides_change_nothing() {
        let mut k: Kustomization =
            serde_json::from_str(r#"{"namespace":"a","nameSuffix":"-u"}"#).unwrap();
        apply_overrides(
            &mut k,
            &Overrides {
                name_suffix: Some(String::new()),
                ..Default::default()
            },
        );
        assert_eq!(k.namespace.as_deref(), Some("a"));
        assert_eq!(k.name_suffix.as_deref(), Some("-u"));
    }

    #[test]
    fn common_metadata_skips_selectors() {
        let v: Value = serde_saphyr::from_str(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n  labels: {app: d, team: x}\nspec:\n  selector:\n    matchLabels: {app: d}\n  template:\n    metadata:\n      labels: {app: d}\n",
        )
        .unwrap();
        let mut objs = vec![Resource::new(v)];
        let cm = CommonMetadata {
            labels: [("team".to_string(), "flux".to_string())].into(),
            annotations: [("note".to_string(), "hi".to_string())].into(),
        };
        apply_common_metadata(&mut objs, &cm);
        let o = &objs[0].value;
        assert_eq!(o.str_at(&["metadata", "labels", "team"]), Some("flux"));
        assert_eq!(o.str_at(&["metadata", "labels", "app"]), Some("d"));
        assert_eq!(o.str_at(&["metadata", "annotations", "note"]), Some("hi"));
        assert_eq!(
            o.pointer(&["spec", "selector", "matchLabels", "team"]),
            None
        );
        assert_eq!(
            o.pointer(&["spec", "template", "metadata", "labels", "team"]),
            None
        );
    }

    #[test]
    fn overridden_kustomization_builds() {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(
            t.path().join("kustomization.yaml"),
            "resources: [cm.yaml]\n",
        )
        .unwrap();
        std::fs::write(
            t.path().join("cm.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n",
        )
        .unwrap();
        let (_, mut k) = crate::load_kustomization(t.path()).unwrap();
        apply_overrides(
            &mut k,
            &Overrides {
                target_namespace: Some("ns".into()),
                ..Default::default()
            },
        );
        assert_eq!(k.namespace.as_deref(), Some("ns"));
    }
}
