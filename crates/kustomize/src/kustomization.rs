//! The `kustomization.yaml` file format (the fields this engine implements).

use crate::value::{Mapping, Value};
use serde::Deserialize;
use std::collections::BTreeMap;

/// File names kustomize recognises, in its order of preference.
pub const FILE_NAMES: &[&str] = &["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// Fields kustomize accepts that this engine does not implement yet: refusing them beats
/// silently building something different from kustomize.
pub const UNSUPPORTED_FIELDS: &[&str] = &[
    "generators",
    "validators",
    "helmCharts",
    "helmChartInflationGenerator",
];

/// A kustomization (or Component).
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Kustomization {
    /// `Kustomization` or `Component`.
    pub kind: Option<String>,
    /// Files, directories.
    pub resources: Vec<String>,
    /// Legacy spelling of directory resources.
    pub bases: Vec<String>,
    /// Component directories.
    pub components: Vec<String>,
    /// Namespace for every namespaced object.
    pub namespace: Option<String>,
    /// Prefix for names.
    pub name_prefix: Option<String>,
    /// Suffix for names.
    pub name_suffix: Option<String>,
    /// Labels added to metadata, selectors and templates.
    pub common_labels: BTreeMap<String, Value>,
    /// Labels with per-entry selector/template control.
    pub labels: Vec<LabelSpec>,
    /// Annotations added to metadata and templates.
    pub common_annotations: BTreeMap<String, Value>,
    /// Image overrides.
    pub images: Vec<Image>,
    /// Replica overrides.
    pub replicas: Vec<Replica>,
    /// ConfigMap generators.
    pub config_map_generator: Vec<GeneratorArgs>,
    /// Secret generators.
    pub secret_generator: Vec<GeneratorArgs>,
    /// Options for every generator here.
    pub generator_options: Option<GeneratorOptions>,
    /// Strategic-merge or JSON 6902 patches with optional targets.
    pub patches: Vec<Patch>,
    /// Legacy strategic-merge patches (paths or inline).
    pub patches_strategic_merge: Vec<String>,
    /// Legacy JSON 6902 patches.
    pub patches_json6902: Vec<Patch>,
    /// Output ordering.
    pub sort_options: Option<SortOptions>,
    /// Replacements, inline or `{path: file}`.
    pub replacements: Vec<Value>,
    /// Legacy vars.
    pub vars: Vec<crate::vars::Var>,
    /// Transformer configuration files (built-in transformers only).
    pub transformers: Vec<String>,
    /// `originAnnotations`, `transformerAnnotations`, `managedByLabel` (top level only).
    pub build_metadata: Vec<String>,
    /// `path` (a custom OpenAPI schema file) or `version` (a built-in schema).
    pub openapi: BTreeMap<String, String>,
    /// OpenAPI definition files of custom types (name references, label/annotation/identity
    /// fields).
    pub crds: Vec<String>,
    /// Transformer configuration files: field specs added to the built-in ones.
    pub configurations: Vec<String>,
}

impl Kustomization {
    /// Label and annotation values and image tags must be strings (kustomize's `string`
    /// fields): a YAML 1.1 boolean such as `yes` or a number is refused, as kustomize refuses
    /// it.
    pub fn check_string_maps(&self) -> Result<(), String> {
        let check = |field: &str, m: &BTreeMap<String, Value>| -> Result<(), String> {
            for (k, v) in m {
                if !matches!(v, Value::String(_)) {
                    return Err(format!(
                        "{field}: value of '{k}' must be a string (quote it), got {}",
                        v.scalar_string().unwrap_or_else(|| "a non-scalar".into())
                    ));
                }
            }
            Ok(())
        };
        for i in &self.images {
            if let Some(t) = i
                .new_tag
                .as_ref()
                .filter(|t| !matches!(t, Value::String(_)))
            {
                return Err(format!(
                    "images: newTag of '{}' must be a string (quote it), got {}",
                    i.name,
                    t.scalar_string().unwrap_or_else(|| "a non-scalar".into())
                ));
            }
        }
        check("commonLabels", &self.common_labels)?;
        check("commonAnnotations", &self.common_annotations)?;
        for l in &self.labels {
            check("labels.pairs", &l.pairs)?;
        }
        Ok(())
    }
}

/// One `labels` entry.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct LabelSpec {
    /// The labels.
    pub pairs: BTreeMap<String, Value>,
    /// Also add to selectors (and templates).
    pub include_selectors: bool,
    /// Also add to pod templates.
    pub include_templates: bool,
}

/// One `images` entry.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Image {
    /// Image name to match (without tag/digest).
    pub name: String,
    /// Replacement name.
    pub new_name: Option<String>,
    /// Replacement tag.
    pub new_tag: Option<Value>,
    /// Replacement digest (wins over tag).
    pub digest: Option<String>,
}

/// One `replicas` entry.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Replica {
    /// Object name.
    pub name: String,
    /// Replica count.
    pub count: i64,
}

/// ConfigMap/Secret generator arguments.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct GeneratorArgs {
    /// Object name.
    pub name: String,
    /// Object namespace.
    pub namespace: Option<String>,
    /// create / merge / replace.
    pub behavior: Option<String>,
    /// `KEY=VALUE` literals.
    pub literals: Vec<String>,
    /// Files (`[key=]path`).
    pub files: Vec<String>,
    /// Env files.
    pub envs: Vec<String>,
    /// Legacy single env file.
    pub env: Option<String>,
    /// Per-generator options.
    pub options: Option<GeneratorOptions>,
    /// Secret type.
    #[serde(rename = "type")]
    pub type_: Option<String>,
}

/// Generator options.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct GeneratorOptions {
    /// Labels on generated objects.
    pub labels: BTreeMap<String, Value>,
    /// Annotations on generated objects.
    pub annotations: BTreeMap<String, Value>,
    /// No content hash suffix.
    pub disable_name_suffix_hash: Option<bool>,
    /// Mark immutable.
    pub immutable: Option<bool>,
}

/// A patch entry.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Patch {
    /// Patch file.
    pub path: Option<String>,
    /// Inline patch.
    pub patch: Option<String>,
    /// Which objects to patch.
    pub target: Option<Selector>,
    /// `allowNameChange` / `allowKindChange`.
    pub options: Mapping,
}

/// A target selector.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Selector {
    /// Group.
    pub group: Option<String>,
    /// Version.
    pub version: Option<String>,
    /// Kind.
    pub kind: Option<String>,
    /// Name (regular expression, anchored).
    pub name: Option<String>,
    /// Namespace (regular expression, anchored).
    pub namespace: Option<String>,
    /// Label selector (`a=b,c!=d,e in (f)` …).
    pub label_selector: Option<String>,
    /// Annotation selector.
    pub annotation_selector: Option<String>,
}

/// `sortOptions`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct SortOptions {
    /// `legacy` or `fifo`.
    pub order: Option<String>,
    /// Custom legacy order.
    pub legacy_sort_options: Option<LegacySortOptions>,
}

/// Custom kind order for the legacy sort.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct LegacySortOptions {
    /// Kinds first, in order.
    pub order_first: Vec<String>,
    /// Kinds last, in order.
    pub order_last: Vec<String>,
}

/// A label/annotation map value as text (YAML may give numbers or booleans).
pub fn map_strings(m: &BTreeMap<String, Value>) -> Vec<(String, String)> {
    m.iter()
        .map(|(k, v)| (k.clone(), v.scalar_string().unwrap_or_default()))
        .collect()
}
