//! ferroflux's kustomize engine: `kustomize build` as a pure library (no cluster access, no
//! network, no plugin execution), used by kustomize-controller and the `ferroflux` CLI.
//!
//! [`build`] turns a directory holding a `kustomization.yaml` into the objects kustomize v5
//! would print, in the same order; [`to_yaml`] renders them as a YAML stream.
#![forbid(unsafe_code)]

pub mod crds;
pub mod emit;
pub mod error;
mod fastyaml;
pub mod fieldspec;
pub mod flux;
pub mod generator;
pub mod kustomization;
pub mod loader;
pub mod metadata;
pub mod nameref;
pub mod openapi;
pub mod patch;
pub mod replacement;
pub mod resource;
pub mod schema;
mod sort;
pub mod transform;
pub mod value;
pub mod vars;

pub use error::{Error, Result};
pub use resource::{ResId, Resource};
pub use value::Value;

use fieldspec::Config;
use kustomization::{FILE_NAMES, Kustomization, UNSUPPORTED_FIELDS, map_strings};
use resource::Behavior;
use std::path::{Path, PathBuf};

/// Build options.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// When set, nothing (not even a base directory) may be read outside this directory:
    /// Flux builds inside an artifact and must not reach the rest of the disk.
    pub fs_root: Option<PathBuf>,
}

/// `kustomize build DIR` with default options.
pub fn build(dir: &Path) -> Result<Vec<Resource>> {
    build_with(dir, &Options::default())
}

/// `kustomize build DIR`.
pub fn build_with(dir: &Path, opts: &Options) -> Result<Vec<Resource>> {
    let fs_root = opts
        .fs_root
        .as_ref()
        .map(|r| {
            r.canonicalize().map_err(|source| Error::Io {
                path: r.clone(),
                source,
            })
        })
        .transpose()?;
    let builtin_cfg = Config::builtin()?;
    let mut b = Builder {
        cfg: builtin_cfg.clone(),
        builtin_cfg,
        crd_cfg: Config::default(),
        stack: Vec::new(),
        vars: Vec::new(),
        fs_root,
        origin: None,
        schema: openapi::State::default(),
    };
    let dir = b.enter_dir(dir)?;
    // Only the top kustomization's buildMetadata counts; origins are tracked when it has any.
    let meta = {
        let (_, top) = load_kustomization(&dir)?;
        if !top.build_metadata.is_empty() {
            b.origin = Some(String::new());
        }
        metadata::Options::from_list(&top.build_metadata)
    };
    let (mut res, k) = b.accumulate(&dir, Vec::new(), false)?;
    // Hashes and reference fixing happen once, at the top (kustomize's makeCustomizedResMap).
    for r in res.iter_mut().filter(|r| r.needs_hash) {
        let h = generator::hash(&r.value);
        let name = format!("{}-{h}", r.name());
        r.store_previous_id();
        r.set_name(&name);
    }
    nameref::fix(&mut res, &b.cfg)?;
    vars::resolve(&mut res, &b.vars, &b.cfg)?;
    metadata::finish(&mut res, meta);
    // kustomize rewrites every object's annotations when dropping its internal build
    // annotations: values become strings of their source text, and an empty or null
    // `metadata.annotations` goes.
    for r in &mut res {
        r.stringify_annotations();
        if let Some(m) = r.value.get_mut("metadata").and_then(Value::as_map_mut)
            && m.get("annotations").is_some_and(|a| {
                matches!(a, Value::Null) || a.as_map().is_some_and(|a| a.is_empty())
            })
        {
            m.shift_remove("annotations");
        }
    }
    sort::validate(k.sort_options.as_ref())?;
    sort::sort(&mut res, k.sort_options.as_ref());
    Ok(res)
}

/// Render objects as a YAML stream (`---` between documents), byte for byte as
/// `kustomize build` prints them (see [`emit`]).
pub fn to_yaml(res: &[Resource]) -> Result<String> {
    let mut out = String::new();
    for (i, r) in res.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        emit::push_document(&mut out, &r.value);
    }
    Ok(out)
}

/// Find and parse the kustomization file of `dir`.
pub fn load_kustomization(dir: &Path) -> Result<(PathBuf, Kustomization)> {
    let file = FILE_NAMES
        .iter()
        .map(|n| dir.join(n))
        .find(|p| p.is_file())
        .ok_or_else(|| Error::NoKustomization(dir.to_path_buf()))?;
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (path, text) = loader::read_text(dir, &name)?;
    // kustomize reads its own file with go-yaml v2 (YAML 1.1: `n`, `yes`, `off` are booleans)
    // into string-typed fields, so `namespace: n` is an error there; read it the same way.
    let raw = loader::parse_value_with(&path, &text, loader::yaml11_options())?;
    let raw = match raw {
        Value::Null => Value::Map(Default::default()),
        Value::Map(m) => Value::Map(m),
        _ => {
            return Err(Error::Yaml {
                path,
                message: "a kustomization must be a mapping".into(),
            });
        }
    };
    if let Some(m) = raw.as_map() {
        for f in UNSUPPORTED_FIELDS {
            if m.contains_key(*f) {
                return Err(Error::Invalid {
                    file: path,
                    message: format!("field '{f}' is not supported yet"),
                });
            }
        }
    }
    let k: Kustomization = serde_json::from_value(raw.to_json()).map_err(|e| Error::Yaml {
        path: path.clone(),
        message: e.to_string(),
    })?;
    k.check_string_maps().map_err(|message| Error::Yaml {
        path: path.clone(),
        message,
    })?;
    Ok((path, k))
}

/// Build state across nested kustomizations.
struct Builder {
    /// The field specs in force for the kustomization being built: the built-in ones plus
    /// those its own and its descendants' `configurations` and `crds` add.
    cfg: Config,
    /// kustomize's built-in field specs, where every base starts.
    builtin_cfg: Config,
    /// The `configurations` and `crds` additions in scope.
    crd_cfg: Config,
    /// Directories being built, for cycle detection.
    stack: Vec<PathBuf>,
    /// Legacy vars declared anywhere in the build, resolved at the end.
    vars: Vec<vars::Declared>,
    fs_root: Option<PathBuf>,
    /// With `buildMetadata`: the directory being built, relative to the top one (the prefix of
    /// origin annotations).
    origin: Option<String>,
    /// The OpenAPI schema strategic-merge patches consult.
    schema: openapi::State,
}

impl Builder {
    /// Canonicalise a kustomization directory, enforcing the overall root if any.
    fn enter_dir(&self, dir: &Path) -> Result<PathBuf> {
        match &self.fs_root {
            Some(root) => loader::contained(dir, root),
            None => dir.canonicalize().map_err(|source| Error::Io {
                path: dir.to_path_buf(),
                source,
            }),
        }
    }

    /// Load the objects of one kustomization (kustomize's `accumulateTarget`). Components
    /// start from their parent's objects; other kustomizations from nothing.
    fn accumulate(
        &mut self,
        dir: &Path,
        start: Vec<Resource>,
        is_component: bool,
    ) -> Result<(Vec<Resource>, Kustomization)> {
        if self.stack.iter().any(|d| d == dir) {
            return Err(Error::Cycle(dir.to_path_buf()));
        }
        let (kfile, k) = load_kustomization(dir)?;
        let kind_is_component = k.kind.as_deref() == Some("Component");
        if is_component && !kind_is_component {
            return Err(Error::Invalid {
                file: kfile,
                message: "expected kind 'Component'".into(),
            });
        }
        if !is_component && kind_is_component && !self.stack.is_empty() {
            return Err(Error::Invalid {
                file: kfile,
                message: "a Component may only be listed under 'components'".into(),
            });
        }
        self.schema
            .apply(dir, &kfile, &k.openapi, self.stack.is_empty())?;
        self.vars.extend(k.vars.iter().map(|v| vars::Declared {
            var: v.clone(),
            file: kfile.clone(),
        }));
        self.stack.push(dir.to_path_buf());
        let result = self.accumulate_inner(dir, &kfile, &k, start);
        self.stack.pop();
        result.map(|r| (r, k))
    }

    fn accumulate_inner(
        &mut self,
        dir: &Path,
        kfile: &Path,
        k: &Kustomization,
        mut res: Vec<Resource>,
    ) -> Result<Vec<Resource>> {
        for entry in k.resources.iter().chain(k.bases.iter()) {
            if loader::is_remote(entry, dir) {
                return Err(Error::Remote(entry.clone()));
            }
            let p = dir.join(entry);
            if p.is_dir() {
                let sub = self.enter_dir(&p)?;
                let saved = self.descend_origin(entry);
                // A base starts from the built-in field specs; what its `crds` add applies
                // above it too.
                let saved_crds = std::mem::take(&mut self.crd_cfg);
                let saved_cfg = std::mem::replace(&mut self.cfg, self.builtin_cfg.clone());
                let objs = self.accumulate(&sub, Vec::new(), false);
                self.origin = saved;
                self.cfg = saved_cfg;
                let child_crds = std::mem::replace(&mut self.crd_cfg, saved_crds);
                self.add_crds(&child_crds);
                append_all(&mut res, objs?.0)?;
            } else {
                let (path, text) = loader::read_text(dir, entry)?;
                let mut objs = loader::parse_objects(&path, &text)?;
                if objs.iter().any(|r| {
                    openapi::needs_schema(
                        r.value.str_at(&["apiVersion"]).unwrap_or_default(),
                        r.kind(),
                    )
                }) {
                    self.schema.load()?;
                }
                if let Some(o) = &self.origin {
                    let origin = metadata::Origin::file(metadata::join(o, entry));
                    for r in &mut objs {
                        metadata::set_origin(r, &origin, true);
                    }
                }
                append_all(&mut res, objs)?;
            }
        }
        for entry in &k.configurations {
            let extra = load_configuration(dir, entry)?;
            self.add_crds(&extra);
        }
        for entry in &k.crds {
            let extra = crds::load(dir, entry)?;
            self.add_crds(&extra);
        }
        self.generate(dir, kfile, k, &mut res)?;
        for c in &k.components {
            if loader::is_remote(c, dir) {
                return Err(Error::Remote(c.clone()));
            }
            let sub = self.enter_dir(&dir.join(c))?;
            let saved = self.descend_origin(c);
            let objs = self.accumulate(&sub, std::mem::take(&mut res), true);
            self.origin = saved;
            res = objs?.0;
        }
        self.transform(dir, kfile, k, &mut res)?;
        Ok(res)
    }

    /// Bring field specs from `configurations` or `crds` into scope.
    fn add_crds(&mut self, extra: &Config) {
        crds::merge_into(&mut self.crd_cfg, extra);
        crds::merge_into(&mut self.cfg, extra);
    }

    /// Enter a sub-directory for origin tracking; returns the origin to restore afterwards.
    fn descend_origin(&mut self, entry: &str) -> Option<String> {
        let saved = self.origin.clone();
        if let Some(o) = &mut self.origin {
            *o = metadata::join(o, entry);
        }
        saved
    }

    /// The origin of a built-in generator/transformer configured in `kfile`.
    fn builtin_origin(&self, kfile: &Path, kind: &str) -> Option<metadata::Origin> {
        let o = self.origin.as_ref()?;
        let name = kfile
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        Some(metadata::Origin::builtin(metadata::join(o, &name), kind))
    }

    /// Record that `count` instances of built-in transformer `kind` ran.
    fn mark(&self, res: &mut [Resource], kfile: &Path, kind: &str, count: usize) -> Result<()> {
        if let Some(origin) = self.builtin_origin(kfile, kind) {
            for _ in 0..count {
                metadata::record_transformer(res, &origin)?;
            }
        }
        Ok(())
    }

    fn generate(
        &self,
        dir: &Path,
        kfile: &Path,
        k: &Kustomization,
        res: &mut Vec<Resource>,
    ) -> Result<()> {
        let gens = k
            .config_map_generator
            .iter()
            .map(|a| (generator::Kind::ConfigMap, a))
            .chain(
                k.secret_generator
                    .iter()
                    .map(|a| (generator::Kind::Secret, a)),
            );
        for (kind, args) in gens {
            let mut g = generator::generate(kind, args, k.generator_options.as_ref(), dir)?;
            let kind_name = match kind {
                generator::Kind::ConfigMap => "ConfigMapGenerator",
                generator::Kind::Secret => "SecretGenerator",
            };
            if let Some(origin) = self.builtin_origin(kfile, kind_name) {
                metadata::set_origin(&mut g, &origin, false);
            }
            absorb(res, g)?;
        }
        Ok(())
    }

    fn transform(
        &mut self,
        dir: &Path,
        kfile: &Path,
        k: &Kustomization,
        res: &mut Vec<Resource>,
    ) -> Result<()> {
        if !k.patches_strategic_merge.is_empty() || !k.patches.is_empty() {
            self.schema.load()?;
        }
        // The schema is only looked up when a strategic merge runs: the built-in table is
        // large, and most builds never need it.
        let table = &self.schema;
        let cfg = &self.cfg;
        // Strategic merge patches (legacy field), then `patches`.
        for p in &k.patches_strategic_merge {
            let (origin, text) = if p.contains('\n') || !dir.join(p).is_file() && p.contains(':') {
                ("inline patch".to_string(), p.clone())
            } else {
                let (path, text) = loader::read_text(dir, p)?;
                (path.display().to_string(), text)
            };
            for doc in loader::parse_objects(Path::new(&origin), &text)? {
                apply_smp_by_id(res, &doc, &origin, table)?;
            }
        }
        if !k.patches_strategic_merge.is_empty() {
            self.mark(res, kfile, "PatchStrategicMergeTransformer", 1)?;
        }
        for p in &k.patches {
            apply_patch(dir, res, p, false, table)?;
            self.mark(res, kfile, "PatchTransformer", 1)?;
        }
        if let Some(ns) = k.namespace.as_deref().filter(|n| !n.is_empty()) {
            transform::namespace(res, ns, cfg)?;
            self.mark(res, kfile, "NamespaceTransformer", 1)?;
        }
        let prefix = k.name_prefix.as_deref().unwrap_or_default();
        let suffix = k.name_suffix.as_deref().unwrap_or_default();
        if !prefix.is_empty() || !suffix.is_empty() {
            transform::prefix_suffix(res, prefix, suffix, cfg)?;
            self.mark(
                res,
                kfile,
                "PrefixTransformer",
                usize::from(!prefix.is_empty()),
            )?;
            self.mark(
                res,
                kfile,
                "SuffixTransformer",
                usize::from(!suffix.is_empty()),
            )?;
        }
        // kustomize runs one label transformer per `labels` entry, then one for `commonLabels`
        // (even when empty) whenever either is set.
        for l in &k.labels {
            let specs = transform::label_specs(cfg, l.include_selectors, l.include_templates);
            transform::set_map_fields(res, &map_strings(&l.pairs), &specs)?;
            self.mark(res, kfile, "LabelTransformer", 1)?;
        }
        transform::set_map_fields(res, &map_strings(&k.common_labels), &cfg.common_labels)?;
        if !k.labels.is_empty() || !k.common_labels.is_empty() {
            self.mark(res, kfile, "LabelTransformer", 1)?;
        }
        transform::set_map_fields(
            res,
            &map_strings(&k.common_annotations),
            &cfg.common_annotations,
        )?;
        if !k.common_annotations.is_empty() {
            self.mark(res, kfile, "AnnotationsTransformer", 1)?;
        }
        for p in &k.patches_json6902 {
            if p.target.is_none() {
                return Err(Error::Invalid {
                    file: kfile.to_path_buf(),
                    message: "patchesJson6902 entry without target".into(),
                });
            }
            apply_patch(dir, res, p, true, table)?;
            self.mark(res, kfile, "PatchJson6902Transformer", 1)?;
        }
        transform::replicas(res, &k.replicas, cfg)?;
        self.mark(res, kfile, "ReplicaCountTransformer", k.replicas.len())?;
        transform::images(res, &k.images, cfg)?;
        self.mark(res, kfile, "ImageTagTransformer", k.images.len())?;
        self.replacements(dir, kfile, k, res)?;
        if !k.replacements.is_empty() {
            self.mark(res, kfile, "ReplacementTransformer", 1)?;
        }
        for t in &k.transformers {
            self.config_transformer(dir, kfile, t, res)?;
        }
        Ok(())
    }

    /// `replacements`: inline entries and `path:` files, in order.
    fn replacements(
        &self,
        dir: &Path,
        kfile: &Path,
        k: &Kustomization,
        res: &mut [Resource],
    ) -> Result<()> {
        let origin = kfile.display().to_string();
        for entry in &k.replacements {
            if let Some(p) = entry.str_at(&["path"]) {
                let (path, text) = loader::read_text(dir, p)?;
                let reps = replacement::parse_file(&path, &text)?;
                replacement::apply(res, &reps, &path.display().to_string())?;
            } else {
                let rep: replacement::Replacement = serde_json::from_value(entry.to_json())
                    .map_err(|e| Error::Invalid {
                        file: kfile.to_path_buf(),
                        message: format!("replacements: {e}"),
                    })?;
                replacement::apply(res, std::slice::from_ref(&rep), &origin)?;
            }
        }
        Ok(())
    }

    /// One `transformers` entry: a file configuring built-in transformers. Only the
    /// built-ins that map onto this engine's own are accepted; anything else (exec or
    /// container plugins, other kinds) is refused, as Flux refuses plugins.
    fn config_transformer(
        &self,
        dir: &Path,
        kfile: &Path,
        entry: &str,
        res: &mut [Resource],
    ) -> Result<()> {
        // An entry that reads as objects is an inline configuration (kustomize tries that
        // first), configured in the kustomization file itself.
        let inline =
            serde_saphyr::from_multiple_with_options::<Value>(entry, loader::yaml_options())
                .is_ok_and(|docs| docs.iter().any(|d| matches!(d, Value::Map(_))));
        let (path, text, configured_in) = if inline {
            let name = kfile
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            (kfile.to_path_buf(), entry.to_string(), name)
        } else {
            if dir.join(entry).is_dir() {
                return Err(Error::Invalid {
                    file: dir.join(entry),
                    message:
                        "transformers: kustomization directories as transformers are not supported"
                            .into(),
                });
            }
            let (path, text) = loader::read_text(dir, entry)?;
            (path, text, entry.to_string())
        };
        for doc in loader::parse_docs(&path, &text)? {
            if matches!(doc, Value::Null) {
                continue;
            }
            let kind = doc.str_at(&["kind"]).unwrap_or_default().to_string();
            let api = doc.str_at(&["apiVersion"]).unwrap_or_default();
            let invalid = |message: String| Error::Invalid {
                file: path.clone(),
                message,
            };
            if api != "builtin" {
                return Err(invalid(format!(
                    "transformer '{kind}' ({api}) is a plugin; plugins are not supported"
                )));
            }
            let specs: Vec<fieldspec::FieldSpec> = match doc.get("fieldSpecs") {
                Some(v) => serde_json::from_value(v.to_json())
                    .map_err(|e| invalid(format!("fieldSpecs: {e}")))?,
                None => Vec::new(),
            };
            let pairs = |field: &str| -> Vec<(String, String)> {
                doc.get(field)
                    .and_then(Value::as_map)
                    .map(|m| {
                        m.iter()
                            .map(|(k, v)| (k.clone(), v.scalar_string().unwrap_or_default()))
                            .collect()
                    })
                    .unwrap_or_default()
            };
            match kind.as_str() {
                "LabelTransformer" => transform::set_map_fields(res, &pairs("labels"), &specs)?,
                "AnnotationsTransformer" => {
                    transform::set_map_fields(res, &pairs("annotations"), &specs)?
                }
                _ => {
                    return Err(invalid(format!(
                        "built-in transformer '{kind}' is not supported in 'transformers'"
                    )));
                }
            }
            if let Some(o) = &self.origin {
                let by = |f: &[&str]| doc.str_at(f).unwrap_or_default().to_string();
                let origin = metadata::Origin {
                    path: None,
                    configured_in: Some(metadata::join(o, &configured_in)),
                    configured_by: vec![
                        ("apiVersion", api.to_string()),
                        ("kind", kind.clone()),
                        ("name", by(&["metadata", "name"])),
                        ("namespace", by(&["metadata", "namespace"])),
                    ],
                };
                metadata::record_transformer(res, &origin)?;
            }
        }
        Ok(())
    }
}

/// One `configurations` file: field specs in the format of kustomize's built-in configuration
/// (`namePrefix`, `commonLabels`, `nameReference`, `images`, … lists).
fn load_configuration(dir: &Path, entry: &str) -> Result<Config> {
    let (path, text) = loader::read_text(dir, entry)?;
    let doc = loader::parse_value_with(&path, &text, loader::yaml11_options())?;
    if matches!(doc, Value::Null) {
        return Ok(Config::default());
    }
    serde_json::from_value(doc.to_json()).map_err(|e| Error::Yaml {
        path,
        message: format!("invalid transformer configuration: {e}"),
    })
}

/// Append objects, refusing duplicate IDs.
fn append_all(res: &mut Vec<Resource>, objs: Vec<Resource>) -> Result<()> {
    let mut seen: std::collections::HashSet<(resource::Gvk, String, String)> = res
        .iter()
        .map(|r| {
            let id = r.id();
            let ns = id.effective_namespace().to_string();
            (id.gvk, id.name, ns)
        })
        .collect();
    for o in objs {
        let id = o.id();
        let key = (
            id.gvk.clone(),
            id.name.clone(),
            id.effective_namespace().to_string(),
        );
        if !seen.insert(key) {
            return Err(Error::DuplicateId(id.to_string()));
        }
        res.push(o);
    }
    Ok(())
}

/// Add a generated object according to its behaviour.
fn absorb(res: &mut Vec<Resource>, g: Resource) -> Result<()> {
    let id = g.id();
    let pos = res
        .iter()
        .position(|r| r.id().same_as(&id) || r.prev_ids.iter().any(|p| p.same_as(&id)));
    match (g.behavior, pos) {
        (Behavior::Create, _) => append_all(res, vec![g]),
        (Behavior::Replace, Some(i)) => {
            let mut g = g;
            g.prev_ids = res[i].prev_ids.clone();
            g.set_name(res[i].name());
            res[i] = g;
            Ok(())
        }
        (Behavior::Merge, Some(i)) => {
            let old = &mut res[i];
            for field in ["data", "binaryData"] {
                if let Some(Value::Map(new)) = g.value.get(field)
                    && let Some(m) = old.value.ensure_map_path(&[field])
                {
                    m.extend(new.clone());
                }
            }
            for field in ["labels", "annotations"] {
                if let Some(Value::Map(new)) = g.value.pointer(&["metadata", field])
                    && let Some(m) = old.value.ensure_map_path(&["metadata", field])
                {
                    // A merged object keeps where it first came from.
                    m.extend(
                        new.iter()
                            .filter(|(k, _)| {
                                field != "annotations" || k.as_str() != metadata::ORIGIN
                            })
                            .map(|(k, v)| (k.clone(), v.clone())),
                    );
                }
            }
            if let Some(v) = g.value.get("immutable")
                && let Some(m) = old.value.as_map_mut()
            {
                m.insert("immutable".into(), v.clone());
            }
            old.needs_hash = old.needs_hash && g.needs_hash;
            Ok(())
        }
        (_, None) => Err(Error::Transform(format!(
            "id {id} does not exist; cannot merge or replace"
        ))),
    }
}

/// Apply a strategic-merge patch to the one object with its ID (current or earlier).
fn apply_smp_by_id(
    res: &mut Vec<Resource>,
    patch: &Resource,
    origin: &str,
    table: &openapi::State,
) -> Result<()> {
    let id = patch.id();
    let hits: Vec<usize> = res
        .iter()
        .enumerate()
        .filter(|(_, r)| r.id().same_as(&id) || r.prev_ids.iter().any(|p| p.same_as(&id)))
        .map(|(i, _)| i)
        .collect();
    let i = match hits.as_slice() {
        [i] => *i,
        [] => {
            return Err(Error::Patch {
                patch: origin.to_string(),
                message: format!("no resource matches strategic merge patch \"{id}\""),
            });
        }
        _ => {
            return Err(Error::Patch {
                patch: origin.to_string(),
                message: format!("multiple matches for Id {id}"),
            });
        }
    };
    smp_into(res, i, &patch.value, table);
    Ok(())
}

/// Strategic-merge into `res[i]`, keeping its identity (a patch cannot rename by default).
fn smp_into(res: &mut Vec<Resource>, i: usize, patch: &Value, table: &openapi::State) {
    let table = table.table();
    let gvk = res[i].gvk();
    let name = res[i].name().to_string();
    let ns = res[i]
        .value
        .str_at(&["metadata", "namespace"])
        .map(str::to_string);
    // kustomize's merge walks the whole object and drops entries left empty in the source
    // (`key:`), also inside the items of associative lists (containers, env, volumes…), which
    // it walks item by item; entries inside other lists are not walked and stay.
    let root = schema::Schema::in_table(table, &gvk.group, &gvk.version, &gvk.kind);
    for p in std::mem::take(&mut res[i].blank_nulls) {
        if !merge_walks(&res[i].value, &p, root) {
            continue;
        }
        if let Some((last, parent)) = p.split_last()
            && let Some(Value::Map(m)) = value_at_mut(&mut res[i].value, parent)
            && matches!(m.get(last), Some(Value::Null))
        {
            m.shift_remove(last);
        }
    }
    if patch::strategic_merge_with(&mut res[i].value, patch, &gvk, table) {
        res[i].set_name(&name);
        match ns {
            Some(ns) => res[i].set_namespace(&ns),
            None => {
                if let Some(m) = res[i].value.get_mut("metadata").and_then(Value::as_map_mut) {
                    m.shift_remove("namespace");
                }
            }
        }
    } else {
        res.remove(i);
    }
}

/// Whether kyaml's merge reaches `path` in `v`: every list on the way must be associative
/// (merged by key per the schema), because only those are walked item by item.
fn merge_walks(v: &Value, path: &[String], schema: schema::Schema<'_>) -> bool {
    let (mut cur, mut sch, mut field) = (v, schema, "");
    for seg in path {
        match cur {
            Value::Map(m) => {
                let Some(next) = m.get(seg) else {
                    return false;
                };
                if !matches!(next, Value::Seq(_)) {
                    sch = sch.child(seg);
                }
                field = seg;
                cur = next;
            }
            Value::Seq(items) => {
                let associative = sch
                    .field(field)
                    .is_some_and(|f| f.merges() && !f.merge_keys().is_empty());
                let Some(next) = seg.parse::<usize>().ok().and_then(|i| items.get(i)) else {
                    return false;
                };
                if !associative {
                    return false;
                }
                sch = sch.items(field);
                cur = next;
            }
            _ => return false,
        }
    }
    true
}

/// The value at a path of mapping keys and sequence indices.
fn value_at_mut<'a>(v: &'a mut Value, path: &[String]) -> Option<&'a mut Value> {
    let mut cur = v;
    for seg in path {
        cur = match cur {
            Value::Map(m) => m.get_mut(seg)?,
            Value::Seq(s) => s.get_mut(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// One `patches` / `patchesJson6902` entry.
fn apply_patch(
    dir: &Path,
    res: &mut Vec<Resource>,
    p: &kustomization::Patch,
    force_json: bool,
    table: &openapi::State,
) -> Result<()> {
    let (origin, text) = match (&p.path, &p.patch) {
        (Some(path), None) => {
            let (path, text) = loader::read_text(dir, path)?;
            (path.display().to_string(), text)
        }
        (None, Some(inline)) => ("inline patch".to_string(), inline.clone()),
        _ => {
            return Err(Error::Patch {
                patch: format!("{:?}", p.path),
                message: "exactly one of 'path' and 'patch' must be set".into(),
            });
        }
    };
    let docs = loader::parse_docs(Path::new(&origin), &text)?;
    let docs: Vec<Value> = docs
        .into_iter()
        .filter(|d| !matches!(d, Value::Null))
        .collect();
    let is_json = force_json || matches!(docs.as_slice(), [Value::Seq(_)]);
    match &p.target {
        None => {
            if is_json {
                return Err(Error::Patch {
                    patch: origin,
                    message: "a JSON 6902 patch needs a target".into(),
                });
            }
            for d in docs {
                apply_smp_by_id(res, &Resource::new(d), &origin, table)?;
            }
        }
        Some(sel) => {
            let sel = patch::CompiledSelector::new(sel)?;
            let mut targets = Vec::new();
            for (i, r) in res.iter().enumerate() {
                if sel.matches(r)? {
                    targets.push(i);
                }
            }
            let allow_name = p.options.get("allowNameChange") == Some(&Value::Bool(true));
            for &i in targets.iter().rev() {
                if is_json {
                    let ops = docs.first().cloned().unwrap_or(Value::Seq(Vec::new()));
                    let before = res[i].id();
                    patch::json6902(&mut res[i].value, &ops).map_err(|e| Error::Patch {
                        patch: origin.clone(),
                        message: e.to_string(),
                    })?;
                    if res[i].id() != before {
                        res[i].prev_ids.push(before);
                    }
                } else {
                    for d in &docs {
                        let mut d = d.clone();
                        if allow_name
                            && let Some(n) = d.str_at(&["metadata", "name"]).map(str::to_string)
                        {
                            res[i].store_previous_id();
                            res[i].set_name(&n);
                        }
                        // The target selector decides the object; the patch's own name is
                        // only a placeholder.
                        if let Some(m) = d.get_mut("metadata").and_then(Value::as_map_mut) {
                            m.shift_remove("name");
                            m.shift_remove("namespace");
                        }
                        smp_into(res, i, &d, table);
                        if i >= res.len() {
                            break;
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
