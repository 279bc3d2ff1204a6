//! Field specs: which field of which kinds a transformer touches.
//!
//! The tables are kustomize's own built-in configuration (`builtin_fieldspecs.yaml`, copied
//! from its source) so the set of touched fields matches kustomize field for field, and is
//! parsed once per build.

use crate::error::{Error, Result};
use crate::resource::Gvk;
use crate::value::Value;
use serde::Deserialize;

/// One field spec: a path, optionally limited to a group/version/kind.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct FieldSpec {
    /// Limit to this group (any when empty).
    #[serde(default)]
    pub group: String,
    /// Limit to this version (any when empty).
    #[serde(default)]
    pub version: String,
    /// Limit to this kind (any when empty).
    #[serde(default)]
    pub kind: String,
    /// Slash-separated path; `name[]` marks a sequence; sequences met on the way are entered.
    pub path: String,
    /// Create the field when missing.
    #[serde(default)]
    pub create: bool,
    /// `path` split once (transformers visit thousands of objects per spec).
    #[serde(skip)]
    pub(crate) segs: std::sync::OnceLock<Vec<String>>,
}

/// One name-reference rule: objects of `kind` are referred to at `field_specs`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct NameRef {
    /// Referred-to group.
    #[serde(default)]
    pub group: String,
    /// Referred-to version.
    #[serde(default)]
    pub version: String,
    /// Referred-to kind.
    pub kind: String,
    /// Where referrers name it.
    #[serde(default)]
    pub field_specs: Vec<FieldSpec>,
}

/// The built-in field spec tables.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Config {
    /// `namePrefix` targets.
    #[serde(default)]
    pub name_prefix: Vec<FieldSpec>,
    /// `nameSuffix` targets.
    #[serde(default)]
    pub name_suffix: Vec<FieldSpec>,
    /// `commonLabels` / `labels` with `includeSelectors` targets.
    #[serde(default)]
    pub common_labels: Vec<FieldSpec>,
    /// `labels` with `includeTemplates` targets.
    #[serde(default)]
    pub template_labels: Vec<FieldSpec>,
    /// `commonAnnotations` targets.
    #[serde(default)]
    pub common_annotations: Vec<FieldSpec>,
    /// `namespace` targets beyond `metadata.namespace`.
    #[serde(default)]
    pub namespace: Vec<FieldSpec>,
    /// Name references.
    #[serde(default)]
    pub name_reference: Vec<NameRef>,
    /// `images` targets.
    #[serde(default)]
    pub images: Vec<FieldSpec>,
    /// `replicas` targets.
    #[serde(default)]
    pub replicas: Vec<FieldSpec>,
    /// Fields where legacy `vars` (`$(NAME)`) are substituted.
    #[serde(default)]
    pub var_reference: Vec<FieldSpec>,
}

const BUILTIN: &str = include_str!("builtin_fieldspecs.yaml");

impl Config {
    /// kustomize's built-in configuration.
    ///
    /// Read with [`parse_builtin`], a reader for exactly the shape of that file (lists of
    /// `key: value` items, `nameReference` items holding a `fieldSpecs` list): every build
    /// starts here, and a general YAML parse of the table was a large part of the start-up
    /// cost of a small build. A unit test holds it equal to a general YAML parse.
    pub fn builtin() -> Result<Config> {
        parse_builtin(BUILTIN).map_err(|message| Error::Yaml {
            path: "builtin_fieldspecs.yaml".into(),
            message,
        })
    }
}

/// One `- key: value` item of the built-in table, with the items of its nested list.
#[derive(Default)]
struct RawItem<'a> {
    fields: Vec<(&'a str, &'a str)>,
    children: Vec<Vec<(&'a str, &'a str)>>,
}

/// Read the built-in table (see [`Config::builtin`]); the error names the line not understood.
fn parse_builtin(text: &str) -> std::result::Result<Config, String> {
    let mut sections: Vec<(&str, Vec<RawItem<'_>>)> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let content = line.trim_start_matches(' ');
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        let bad = || format!("line {}: unexpected '{line}'", n + 1);
        let indent = line.len() - content.len();
        let (dash, body) = match content.strip_prefix("- ") {
            Some(b) => (true, b),
            None => (false, content),
        };
        let (key, value) = body.split_once(':').ok_or_else(bad)?;
        let value = value.trim();
        match (indent, dash) {
            (0, false) if value.is_empty() => sections.push((key, Vec::new())),
            (0, true) => {
                let (_, items) = sections.last_mut().ok_or_else(bad)?;
                items.push(RawItem {
                    fields: vec![(key, value)],
                    children: Vec::new(),
                });
            }
            (2, false) => {
                let item = sections
                    .last_mut()
                    .and_then(|(_, i)| i.last_mut())
                    .ok_or_else(bad)?;
                if key == "fieldSpecs" && value.is_empty() {
                    continue;
                }
                item.fields.push((key, value));
            }
            (2, true) => sections
                .last_mut()
                .and_then(|(_, i)| i.last_mut())
                .ok_or_else(bad)?
                .children
                .push(vec![(key, value)]),
            (4, false) => sections
                .last_mut()
                .and_then(|(_, i)| i.last_mut())
                .and_then(|i| i.children.last_mut())
                .ok_or_else(bad)?
                .push((key, value)),
            _ => return Err(bad()),
        }
    }
    let spec = |fields: &[(&str, &str)]| -> std::result::Result<FieldSpec, String> {
        let mut fs = FieldSpec::default();
        for &(k, v) in fields {
            match k {
                "group" => fs.group = v.to_string(),
                "version" => fs.version = v.to_string(),
                "kind" => fs.kind = v.to_string(),
                "path" => fs.path = v.to_string(),
                "create" => {
                    fs.create = match v {
                        "true" => true,
                        "false" => false,
                        _ => return Err(format!("create: '{v}' is not a boolean")),
                    }
                }
                _ => return Err(format!("unknown field spec field '{k}'")),
            }
        }
        Ok(fs)
    };
    let mut cfg = Config::default();
    for (name, items) in sections {
        let list = match name {
            "namePrefix" => &mut cfg.name_prefix,
            "nameSuffix" => &mut cfg.name_suffix,
            "commonLabels" => &mut cfg.common_labels,
            "templateLabels" => &mut cfg.template_labels,
            "commonAnnotations" => &mut cfg.common_annotations,
            "namespace" => &mut cfg.namespace,
            "images" => &mut cfg.images,
            "replicas" => &mut cfg.replicas,
            "varReference" => &mut cfg.var_reference,
            "nameReference" => {
                for item in items {
                    let mut rule = NameRef::default();
                    for &(k, v) in &item.fields {
                        match k {
                            "group" => rule.group = v.to_string(),
                            "version" => rule.version = v.to_string(),
                            "kind" => rule.kind = v.to_string(),
                            _ => return Err(format!("unknown nameReference field '{k}'")),
                        }
                    }
                    rule.field_specs = item
                        .children
                        .iter()
                        .map(|c| spec(c))
                        .collect::<std::result::Result<_, _>>()?;
                    cfg.name_reference.push(rule);
                }
                continue;
            }
            // Sections the engine does not use (as serde skips unknown fields).
            _ => continue,
        };
        for item in items {
            if !item.children.is_empty() {
                return Err(format!("{name}: unexpected nested list"));
            }
            list.push(spec(&item.fields)?);
        }
    }
    Ok(cfg)
}

impl FieldSpec {
    /// Whether the spec applies to objects of `gvk` (empty parts match anything).
    pub fn applies_to(&self, gvk: &Gvk) -> bool {
        (self.group.is_empty() || self.group == gvk.group)
            && (self.version.is_empty() || self.version == gvk.version)
            && (self.kind.is_empty() || self.kind == gvk.kind)
    }

    /// The path split into segments (`\/` escapes a slash inside a key).
    pub fn segments(&self) -> &[String] {
        self.segs.get_or_init(|| split_path(&self.path))
    }
}

/// Split a kustomize field path on unescaped `/`.
pub fn split_path(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = path.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' && chars.peek() == Some(&'/') {
            cur.push('/');
            chars.next();
        } else if c == '/' {
            out.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
    }
    out.push(cur);
    out
}

/// Visit the field at `segs` under `node`. Sequences on the way are entered element by element;
/// missing fields are created (as mappings, the leaf as `null`) only when `create` is set.
/// The visitor gets the leaf value (which may be `null` when just created).
pub fn visit(
    node: &mut Value,
    segs: &[String],
    create: bool,
    f: &mut dyn FnMut(&mut Value) -> Result<()>,
) -> Result<()> {
    let Some((first, rest)) = segs.split_first() else {
        return f(node);
    };
    if let Value::Seq(items) = node {
        for item in items {
            visit(item, segs, create, f)?;
        }
        return Ok(());
    }
    let (key, is_seq) = match first.strip_suffix("[]") {
        Some(k) => (k, true),
        None => (first.as_str(), false),
    };
    if matches!(node, Value::Null) && create {
        *node = Value::Map(Default::default());
    }
    let Value::Map(m) = node else {
        return Ok(());
    };
    if !m.contains_key(key) {
        if !create || is_seq {
            return Ok(());
        }
        let fresh = if rest.is_empty() {
            Value::Null
        } else {
            Value::Map(Default::default())
        };
        m.insert(key.to_string(), fresh);
    }
    let Some(child) = m.get_mut(key) else {
        return Ok(());
    };
    if is_seq {
        if let Value::Seq(items) = child {
            for item in items {
                visit(item, rest, create, f)?;
            }
        }
        return Ok(());
    }
    if rest.is_empty() {
        return f(child);
    }
    if matches!(child, Value::Null) && !create {
        return Ok(());
    }
    visit(child, rest, create, f)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Everything the built-in table holds, for comparing two readings of it.
    fn summary(c: &Config) -> Vec<String> {
        let specs = |l: &[FieldSpec]| -> Vec<String> {
            l.iter()
                .map(|f| {
                    format!(
                        "{}|{}|{}|{}|{}",
                        f.group, f.version, f.kind, f.path, f.create
                    )
                })
                .collect()
        };
        let mut out = Vec::new();
        for (name, l) in [
            ("namePrefix", &c.name_prefix),
            ("nameSuffix", &c.name_suffix),
            ("commonLabels", &c.common_labels),
            ("templateLabels", &c.template_labels),
            ("commonAnnotations", &c.common_annotations),
            ("namespace", &c.namespace),
            ("images", &c.images),
            ("replicas", &c.replicas),
            ("varReference", &c.var_reference),
        ] {
            out.push(format!("{name}: {:?}", specs(l)));
        }
        for r in &c.name_reference {
            out.push(format!(
                "nameReference {}|{}|{}: {:?}",
                r.group,
                r.version,
                r.kind,
                specs(&r.field_specs)
            ));
        }
        out
    }

    #[test]
    fn builtin_reader_matches_a_yaml_parse() {
        let fast = Config::builtin().unwrap();
        let yaml: Config = serde_saphyr::from_str(BUILTIN).unwrap();
        assert_eq!(summary(&fast), summary(&yaml));
        assert!(fast.var_reference.len() > 50);
        assert!(
            fast.name_reference
                .iter()
                .all(|r| !r.field_specs.is_empty())
        );
    }

    #[test]
    fn builtin_reader_refuses_unknown_shapes() {
        assert!(parse_builtin("commonLabels:\n- path: a\n  bogus: x\n").is_err());
        assert!(parse_builtin("commonLabels:\n- path: a\n      deep: x\n").is_err());
        assert!(parse_builtin("commonLabels:\n- path: a\n  create: maybe\n").is_err());
        assert!(parse_builtin("- path: a\n").is_err());
    }

    #[test]
    fn builtin_config_parses() {
        let c = Config::builtin().unwrap();
        assert!(!c.common_labels.is_empty());
        assert!(c.name_reference.iter().any(|r| r.kind == "ConfigMap"));
    }

    #[test]
    fn visit_enters_sequences() {
        let mut v: Value =
            serde_saphyr::from_str("spec:\n  volumes:\n  - configMap: {name: a}\n  - secret: {}\n")
                .unwrap();
        let segs = split_path("spec/volumes/configMap/name");
        let mut seen = Vec::new();
        visit(&mut v, &segs, false, &mut |x| {
            seen.push(x.clone());
            *x = "b".into();
            Ok(())
        })
        .unwrap();
        assert_eq!(seen, vec![Value::from("a")]);
        assert_eq!(
            v.pointer(&["spec", "volumes"]).unwrap().as_seq().unwrap()[0]
                .str_at(&["configMap", "name"]),
            Some("b")
        );
    }

    #[test]
    fn escaped_slash() {
        assert_eq!(split_path("a/b\\/c"), vec!["a", "b/c"]);
    }
}
