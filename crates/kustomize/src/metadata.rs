//! `buildMetadata`: the provenance kustomize can record on every object it prints.
//!
//! - `originAnnotations`: `config.kubernetes.io/origin` names the file an object was read from
//!   (`path:`, relative to the top kustomization), or the generator that made it
//!   (`configuredIn:` / `configuredBy:`).
//! - `transformerAnnotations`: `alpha.config.kubernetes.io/transformations` lists every
//!   transformer that ran over the object, in order. kustomize records each transformer on every
//!   object present when it ran, whether or not it changed it, and so do we.
//! - `managedByLabel`: `app.kubernetes.io/managed-by: kustomize-<version>`.
//!
//! Only the top kustomization's `buildMetadata` counts (kustomize overwrites a base's with its
//! parent's). Both annotations are removed from the output whenever they were not asked for,
//! even when they came with the input, as kustomize does.

use crate::error::{Error, Result};
use crate::resource::Resource;
use crate::value::{Mapping, Value};

/// The kustomize release this engine reproduces; `managedByLabel` prints it as the reference
/// binary does (`kustomize-v5.8.2`, see `hack/versions.env`).
pub const KUSTOMIZE_VERSION: &str = "v5.8.2";

/// Where an object came from.
pub const ORIGIN: &str = "config.kubernetes.io/origin";
/// The transformers that ran over an object.
pub const TRANSFORMATIONS: &str = "alpha.config.kubernetes.io/transformations";
/// The label `managedByLabel` sets.
pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by";

/// The `buildMetadata` options of the top kustomization.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Keep `config.kubernetes.io/origin`.
    pub origin: bool,
    /// Keep `alpha.config.kubernetes.io/transformations`.
    pub transformations: bool,
    /// Add the managed-by label.
    pub managed_by: bool,
}

impl Options {
    /// Read the list; unknown entries are ignored, as kustomize ignores them.
    pub fn from_list(list: &[String]) -> Options {
        let has = |s: &str| list.iter().any(|x| x == s);
        Options {
            origin: has("originAnnotations"),
            transformations: has("transformerAnnotations"),
            managed_by: has("managedByLabel"),
        }
    }
}

/// An origin record (kustomize's `resource.Origin`): a file path, or the kustomization file and
/// the generator/transformer configured in it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Origin {
    /// The file an object was read from.
    pub path: Option<String>,
    /// The kustomization (or transformer config) file that configured a generator/transformer.
    pub configured_in: Option<String>,
    /// `apiVersion`, `kind`, `name`, `namespace` of the generator/transformer.
    pub configured_by: Vec<(&'static str, String)>,
}

impl Origin {
    /// A file origin.
    pub fn file(path: String) -> Origin {
        Origin {
            path: Some(path),
            ..Origin::default()
        }
    }

    /// A built-in generator/transformer configured in `configured_in`.
    pub fn builtin(configured_in: String, kind: &str) -> Origin {
        Origin {
            path: None,
            configured_in: Some(configured_in),
            configured_by: vec![("apiVersion", "builtin".into()), ("kind", kind.into())],
        }
    }

    /// The YAML lines of the record, in kustomize's field order.
    fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(p) = &self.path {
            out.push(format!("path: {}", scalar(p)));
        }
        if let Some(c) = &self.configured_in {
            out.push(format!("configuredIn: {}", scalar(c)));
        }
        let by: Vec<_> = self
            .configured_by
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .collect();
        if !by.is_empty() {
            out.push("configuredBy:".into());
            for (k, v) in by {
                out.push(format!("  {k}: {}", scalar(v)));
            }
        }
        out
    }

    /// The annotation value of a single origin.
    pub fn render(&self) -> String {
        self.lines().iter().map(|l| format!("{l}\n")).collect()
    }

    /// The record as one item of the transformations list.
    fn render_item(&self) -> String {
        self.lines()
            .iter()
            .enumerate()
            .map(|(i, l)| format!("{}{l}\n", if i == 0 { "- " } else { "  " }))
            .collect()
    }
}

/// A string as a YAML value, quoted only where a plain scalar would not read back as that
/// string.
fn scalar(s: &str) -> String {
    let mut m = Mapping::default();
    m.insert("k".into(), Value::String(s.to_string()));
    let text = crate::emit::to_string(&Value::Map(m));
    match text.strip_prefix("k: ") {
        Some(v) if !v.trim_end().contains('\n') => v.trim_end().to_string(),
        _ => serde_json::Value::String(s.to_string()).to_string(),
    }
}

/// Go's `filepath.Join` + `Clean` for the relative paths origins use.
pub fn join(base: &str, rel: &str) -> String {
    let joined = if base.is_empty() {
        rel.to_string()
    } else {
        format!("{base}/{rel}")
    };
    let absolute = joined.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for p in joined.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else if !absolute {
                    parts.push("..");
                }
            }
            other => parts.push(other),
        }
    }
    match (absolute, parts.is_empty()) {
        (true, _) => format!("/{}", parts.join("/")),
        (false, true) => ".".into(),
        (false, false) => parts.join("/"),
    }
}

fn annotations_mut(r: &mut Resource) -> Option<&mut Mapping> {
    if let Some(m) = r.value.get_mut("metadata").and_then(Value::as_map_mut)
        && matches!(m.get("annotations"), Some(Value::Null))
    {
        m.shift_remove("annotations");
    }
    r.value.ensure_map_path(&["metadata", "annotations"])
}

/// Record `origin` on an object that has none yet (a generator's output, or a file's objects
/// replacing whatever the input said).
pub fn set_origin(r: &mut Resource, origin: &Origin, overwrite: bool) {
    if let Some(a) = annotations_mut(r)
        && (overwrite || !a.contains_key(ORIGIN))
    {
        a.insert(ORIGIN.into(), Value::String(origin.render()));
    }
}

/// Record that the transformer `origin` ran over every object (kustomize's
/// `AddTransformerAnnotation`): objects without an origin take it as their origin.
pub fn record_transformer(res: &mut [Resource], origin: &Origin) -> Result<()> {
    for r in res {
        let id = r.id();
        let Some(a) = annotations_mut(r) else {
            continue;
        };
        if !a.contains_key(ORIGIN) {
            a.insert(ORIGIN.into(), Value::String(origin.render()));
            continue;
        }
        let mut list = match a.get(TRANSFORMATIONS) {
            None => String::new(),
            Some(Value::String(s)) if s.trim().is_empty() || s.trim_start().starts_with('-') => {
                s.clone()
            }
            Some(other) => {
                return Err(Error::Transform(format!(
                    "{id}: annotation {TRANSFORMATIONS} is not a list of transformations: {:?}",
                    other.scalar_string().unwrap_or_default()
                )));
            }
        };
        list.push_str(&origin.render_item());
        a.insert(TRANSFORMATIONS.into(), Value::String(list));
    }
    Ok(())
}

/// The final step of a build: add the managed-by label if asked, and drop the annotations that
/// were not asked for.
pub fn finish(res: &mut [Resource], opts: Options) {
    for r in res {
        if opts.managed_by
            && let Some(l) = r.value.ensure_map_path(&["metadata", "labels"])
        {
            l.insert(
                MANAGED_BY.into(),
                Value::String(format!("kustomize-{KUSTOMIZE_VERSION}")),
            );
        }
        if let Some(a) = r
            .value
            .pointer_mut(&["metadata", "annotations"])
            .and_then(Value::as_map_mut)
        {
            if !opts.origin {
                a.shift_remove(ORIGIN);
            }
            if !opts.transformations {
                a.shift_remove(TRANSFORMATIONS);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_cleans_like_go() {
        assert_eq!(join("", "./a.yaml"), "a.yaml");
        assert_eq!(join("../base", "dep.yaml"), "../base/dep.yaml");
        assert_eq!(join("a/b", "../c"), "a/c");
        assert_eq!(join("..", "../x"), "../../x");
        assert_eq!(join("", "/abs/./x"), "/abs/x");
        assert_eq!(join("a", ".."), ".");
    }

    #[test]
    fn origins_render_in_kustomize_field_order() {
        assert_eq!(Origin::file("a.yaml".into()).render(), "path: a.yaml\n");
        let g = Origin::builtin("kustomization.yaml".into(), "ConfigMapGenerator");
        assert_eq!(
            g.render(),
            "configuredIn: kustomization.yaml\nconfiguredBy:\n  apiVersion: builtin\n  kind: ConfigMapGenerator\n"
        );
        assert_eq!(
            g.render_item(),
            "- configuredIn: kustomization.yaml\n  configuredBy:\n    apiVersion: builtin\n    kind: ConfigMapGenerator\n"
        );
        assert_eq!(scalar("yes"), "\"yes\"");
    }
}
