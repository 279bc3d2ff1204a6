//! `helm template`, end to end: values from files and flags, chart loading and checks,
//! dependency processing, coalescing, schema validation, rendering, and the output stream.

use crate::chart::Chart;
use crate::manifest::{self, Hook, Manifest};
use crate::objects::{self, KubeVersion, VersionSet};
use crate::{Error, Result, loader, render, strvals, values, yaml};
use ferroflux_gotemplate::{Dict, FuncMap, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The options of `helm template` we support.
#[derive(Debug, Clone)]
pub struct Options {
    pub release_name: String,
    pub namespace: String,
    /// `-f/--values` files, merged in order.
    pub value_files: Vec<PathBuf>,
    /// `--set-json` arguments.
    pub set_json: Vec<String>,
    /// `--set` arguments.
    pub set: Vec<String>,
    /// `--set-string` arguments.
    pub set_string: Vec<String>,
    /// `--kube-version`.
    pub kube_version: Option<String>,
    /// `--api-versions`, added to the default set.
    pub api_versions: Vec<String>,
    pub include_crds: bool,
    pub skip_tests: bool,
    pub skip_schema_validation: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            release_name: "release-name".into(),
            namespace: "default".into(),
            value_files: Vec::new(),
            set_json: Vec::new(),
            set: Vec::new(),
            set_string: Vec::new(),
            kube_version: None,
            api_versions: Vec::new(),
            include_crds: false,
            skip_tests: false,
            skip_schema_validation: false,
        }
    }
}

/// A rendered release: what `helm template` prints, in pieces.
#[derive(Debug, Clone, Default)]
pub struct Rendered {
    /// `(Source path, content)` of `crds/` files (all of them; printed with `--include-crds`).
    pub crds: Vec<(String, String)>,
    /// Plain manifests in install order.
    pub manifests: Vec<Manifest>,
    /// Hooks in Helm's kind order.
    pub hooks: Vec<Hook>,
    /// The top chart's rendered NOTES.txt.
    pub notes: String,
}

impl Rendered {
    /// The stream `helm template` prints.
    pub fn to_stream(&self, include_crds: bool, skip_tests: bool) -> String {
        let mut b = String::new();
        if include_crds {
            for (name, data) in &self.crds {
                b.push_str(&format!("---\n# Source: {name}\n{data}\n"));
            }
        }
        for m in &self.manifests {
            b.push_str(&format!("---\n# Source: {}\n{}\n", m.name, m.content));
        }
        let mut out = b.trim().to_string();
        out.push('\n');
        for h in &self.hooks {
            if skip_tests && h.is_test() {
                continue;
            }
            out.push_str(&format!("---\n# Source: {}\n{}\n", h.path, h.manifest));
        }
        out
    }
}

/// Helm's `values.Options.MergeValues`: files, then `--set-json`, `--set`, `--set-string`.
pub fn user_values(opts: &Options) -> Result<Dict> {
    let mut base = Dict::new();
    for f in &opts.value_files {
        let text = std::fs::read_to_string(f).map_err(|e| Error::io(f, e))?;
        let m = yaml::parse_map(&text, &format!("failed to parse {}", f.display()))?;
        base = values::merge_maps(&base, &m);
    }
    for v in &opts.set_json {
        strvals::parse_json(v, &base)
            .map_err(|_| Error::Values(format!("failed parsing --set-json data JSON: {v}")))?;
    }
    for v in &opts.set {
        strvals::parse_into(v, &base)
            .map_err(|e| Error::Values(format!("failed parsing --set data: {e}")))?;
    }
    for v in &opts.set_string {
        strvals::parse_into_string(v, &base)
            .map_err(|e| Error::Values(format!("failed parsing --set-string data: {e}")))?;
    }
    Ok(base)
}

fn validate_release_name(name: &str) -> Result<()> {
    const RE: &str = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
    if name.is_empty() {
        return Err(Error::Values(format!(
            "release name {name:?}: no name provided"
        )));
    }
    // RE by hand: dot-separated labels of `[-a-z0-9]`, each starting and ending alphanumeric.
    let ok = name.split('.').all(|label| {
        let b = label.as_bytes();
        let alnum = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
        b.first().is_some_and(alnum)
            && b.last().is_some_and(alnum)
            && b.iter().all(|c| alnum(c) || *c == b'-')
    });
    if name.len() > 53 || !ok {
        return Err(Error::Values(format!(
            "release name {name:?}: invalid release name, must match regex {RE} and the length must not be longer than 53"
        )));
    }
    Ok(())
}

/// Renders the chart at `path` (directory or `.tgz`) as `helm template RELEASE PATH` does.
pub fn template(path: &Path, opts: &Options, funcs: FuncMap) -> Result<String> {
    template_with(path, opts, funcs, Teardown::Free)
}

/// [`template`] for a process that exits right after printing (the CLI): the parsed
/// templates, chart and values are left to the exit instead of being freed object by object
/// (~5–10% of a render's CPU). Memory is not reclaimed: do not call it in a long-running
/// process.
pub fn template_then_exit(path: &Path, opts: &Options, funcs: FuncMap) -> Result<String> {
    template_with(path, opts, funcs, Teardown::Leak)
}

/// Whether a render frees what it built.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Teardown {
    Free,
    Leak,
}

fn template_with(
    path: &Path,
    opts: &Options,
    funcs: FuncMap,
    teardown: Teardown,
) -> Result<String> {
    if !path.exists() {
        return Err(Error::Chart(format!(
            "path {:?} not found",
            path.display().to_string()
        )));
    }
    let vals = user_values(opts)?;
    let chart = loader::load(path)?;
    let r = render_chart_with(chart, &vals, opts, funcs, teardown)?;
    let out = r.to_stream(opts.include_crds, opts.skip_tests);
    if teardown == Teardown::Leak {
        std::mem::forget((r, vals));
    }
    Ok(out)
}

/// Renders a loaded chart with user values: the library entry point (no file access).
pub fn render_chart(chart: Chart, vals: &Dict, opts: &Options, funcs: FuncMap) -> Result<Rendered> {
    render_chart_with(chart, vals, opts, funcs, Teardown::Free)
}

fn render_chart_with(
    mut chart: Chart,
    vals: &Dict,
    opts: &Options,
    funcs: FuncMap,
    teardown: Teardown,
) -> Result<Rendered> {
    if !matches!(chart.metadata.chart_type.as_str(), "" | "application") {
        return Err(Error::Chart(format!(
            "{} charts are not installable",
            chart.metadata.chart_type
        )));
    }
    if let Some(reqs) = &chart.metadata.dependencies {
        let missing: Vec<&str> = reqs
            .iter()
            .filter(|r| !chart.dependencies.iter().any(|d| d.name() == r.name))
            .map(|r| r.name.as_str())
            .collect();
        if !missing.is_empty() {
            return Err(Error::Chart(format!(
                "An error occurred while checking for chart dependencies. You may need to run `helm dependency build` to fetch missing dependencies: found in Chart.yaml, but missing in charts/ directory: {}",
                missing.join(", ")
            )));
        }
    }
    validate_release_name(&opts.release_name)?;
    values::process_dependencies(&mut chart, vals)?;

    let kube = match &opts.kube_version {
        None => KubeVersion::default_version(),
        Some(v) => KubeVersion::parse(v)
            .ok_or_else(|| Error::Values(format!("invalid kube version '{v}'")))?,
    };
    let mut apis = VersionSet::default_set().0.as_ref().clone();
    apis.extend(opts.api_versions.iter().cloned());
    let apis = VersionSet(Arc::new(apis));

    let coalesced = values::coalesce_values(&chart, vals)?;
    if !opts.skip_schema_validation {
        crate::schema::validate_chart(&chart, &coalesced).map_err(|e| {
            Error::Schema(format!(
                "values don't meet the specifications of the schema(s) in the following chart(s):\n{e}"
            ))
        })?;
    }
    let top = Dict::new();
    top.insert("Values", Value::Map(coalesced));
    top.insert(
        "Release",
        Value::map([
            ("Name".to_string(), Value::from(opts.release_name.as_str())),
            (
                "Namespace".to_string(),
                Value::from(opts.namespace.as_str()),
            ),
            ("IsUpgrade".to_string(), Value::Bool(false)),
            ("IsInstall".to_string(), Value::Bool(true)),
            ("Revision".to_string(), Value::int(1)),
            ("Service".to_string(), Value::from("Helm")),
        ]),
    );
    top.insert("Capabilities", objects::capabilities(&kube, &apis));

    if !chart.metadata.kube_version.is_empty()
        && !ferroflux_semver::is_compatible_range(&chart.metadata.kube_version, &kube.version)
    {
        return Err(Error::Chart(format!(
            "chart requires kubeVersion: {} which is incompatible with Kubernetes {}",
            chart.metadata.kube_version, kube.version
        )));
    }

    // The executor recurses per nested template: give it a generous stack.
    let mut files = std::thread::scope(|s| {
        std::thread::Builder::new()
            .stack_size(256 * 1024 * 1024)
            .spawn_scoped(s, || render::render_with(&chart, &top, funcs, teardown))
            .map_err(|e| Error::Render(format!("starting the renderer: {e}")))?
            .join()
            .map_err(|_| Error::Render("rendering template failed".into()))?
    })?;

    let top_notes = format!("{}/templates/NOTES.txt", chart.name());
    let notes = files.get(&top_notes).cloned().unwrap_or_default();
    files.retain(|k, _| !k.ends_with("NOTES.txt"));
    let (hooks, manifests) = manifest::sort_manifests(&files)?;
    let crds = chart
        .crd_objects(chart.name())
        .into_iter()
        .map(|(n, f)| (n, String::from_utf8_lossy(&f.data).into_owned()))
        .collect();
    if teardown == Teardown::Leak {
        std::mem::forget((chart, top, files));
    }
    Ok(Rendered {
        crds,
        manifests,
        hooks,
        notes,
    })
}

/// Template output keyed by file, for callers that want the raw render.
pub type Files = BTreeMap<String, String>;

/// The functions `helm template` gives templates: Sprig and Helm's plain functions, `lookup`
/// returning an empty map and DNS lookups off (`include`/`tpl` come with the executor;
/// `required`/`fail` are added by the renderer).
pub fn default_funcs() -> FuncMap {
    ferroflux_sprig::funcs(&ferroflux_sprig::Options::default())
}
