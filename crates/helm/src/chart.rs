//! A loaded chart: Helm's `chart.Chart` (metadata, templates, other files, default values,
//! schema, dependencies) and how it is built from a list of files (Helm's `LoadFiles`).

use crate::{Error, Result, yaml};
use ferroflux_gotemplate::{Dict, Value};

/// One file of a chart, by its chart-relative `/`-separated name.
#[derive(Debug, Clone)]
pub struct File {
    pub name: String,
    pub data: Vec<u8>,
}

/// A maintainer entry of Chart.yaml.
#[derive(Debug, Clone, Default)]
pub struct Maintainer {
    pub name: String,
    pub email: String,
    pub url: String,
}

/// A dependency entry of Chart.yaml (v2) or requirements.yaml (v1).
#[derive(Debug, Clone, Default)]
pub struct Dependency {
    pub name: String,
    pub version: String,
    pub repository: String,
    pub condition: String,
    pub tags: Vec<String>,
    pub enabled: bool,
    /// Either strings (`exports.X`) or `{child, parent}` maps, as written.
    pub import_values: Vec<Value>,
    pub alias: String,
}

/// Chart.yaml.
#[derive(Debug, Clone, Default)]
pub struct Metadata {
    pub name: String,
    pub home: String,
    pub sources: Vec<String>,
    pub version: String,
    pub description: String,
    pub keywords: Vec<String>,
    pub maintainers: Vec<Maintainer>,
    pub icon: String,
    pub api_version: String,
    pub condition: String,
    pub tags: String,
    pub app_version: String,
    pub deprecated: bool,
    /// Sorted like a Go map.
    pub annotations: Vec<(String, String)>,
    pub kube_version: String,
    /// `None` when Chart.yaml has no `dependencies` key (Helm's nil slice).
    pub dependencies: Option<Vec<Dependency>>,
    pub chart_type: String,
}

/// A chart with its subcharts.
#[derive(Clone, Default)]
pub struct Chart {
    pub metadata: Metadata,
    /// Files under `templates/`, in load order.
    pub templates: Vec<File>,
    /// Files `.Files` sees (everything that is not Chart.yaml, values, templates, charts/…).
    pub files: Vec<File>,
    /// values.yaml.
    pub values: Dict,
    /// values.schema.json.
    pub schema: Option<Vec<u8>>,
    pub dependencies: Vec<Chart>,
}

impl std::fmt::Debug for Chart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chart")
            .field("metadata", &self.metadata)
            .field("templates", &self.templates.len())
            .field("files", &self.files.len())
            .field("dependencies", &self.dependencies)
            .finish()
    }
}

impl Chart {
    pub fn name(&self) -> &str {
        &self.metadata.name
    }

    /// Whether this is a library chart (`type: library`).
    pub fn is_library(&self) -> bool {
        self.metadata.chart_type == "library"
    }

    /// Builds a chart from its files (names relative to the chart root), as Helm's loader.
    pub fn from_files(files: Vec<File>) -> Result<Chart> {
        let mut c = Chart::default();
        let mut have_meta = false;
        let mut meta_map = Dict::new();
        for f in &files {
            if f.name == "Chart.yaml" {
                let m = yaml::parse_map(
                    &crate::render::utf8_lossy(&f.data),
                    "cannot load Chart.yaml",
                )
                .map_err(|e| Error::Chart(e.to_string()))?;
                meta_map = m;
                have_meta = true;
            }
        }
        let mut subcharts: Vec<(String, Vec<File>)> = Vec::new();
        let mut requirements: Option<Dict> = None;
        for f in files {
            let name = f.name.as_str();
            if name == "Chart.yaml" || name == "Chart.lock" {
                continue;
            } else if name == "values.yaml" {
                c.values = yaml::parse_map(
                    &crate::render::utf8_lossy(&f.data),
                    "cannot load values.yaml",
                )
                .map_err(|e| Error::Chart(e.to_string()))?;
            } else if name == "values.schema.json" {
                c.schema = Some(f.data);
            } else if name == "requirements.yaml" {
                let r = yaml::parse_map(
                    &crate::render::utf8_lossy(&f.data),
                    "cannot load requirements.yaml",
                )
                .map_err(|e| Error::Chart(e.to_string()))?;
                requirements = Some(r);
                if api_version_of(&meta_map) == "v1" {
                    c.files.push(f);
                }
            } else if name == "requirements.lock" {
                if api_version_of(&meta_map) == "v1" {
                    c.files.push(f);
                }
            } else if name.starts_with("templates/") {
                c.templates.push(f);
            } else if let Some(rest) = name.strip_prefix("charts/") {
                if name.ends_with(".prov") {
                    c.files.push(f);
                    continue;
                }
                let (cname, inner) = match rest.split_once('/') {
                    Some((a, b)) => (a.to_string(), b.to_string()),
                    None => (rest.to_string(), rest.to_string()),
                };
                let file = File {
                    name: inner,
                    data: f.data,
                };
                match subcharts.iter_mut().find(|(n, _)| *n == cname) {
                    Some((_, v)) => v.push(file),
                    None => subcharts.push((cname, vec![file])),
                }
            } else {
                c.files.push(f);
            }
        }
        if !have_meta && requirements.is_none() {
            return Err(Error::Chart("Chart.yaml file is missing".into()));
        }
        if let Some(r) = requirements {
            // requirements.yaml is unmarshalled over the metadata: its `dependencies` win.
            if let Some(d) = r.get("dependencies") {
                meta_map.insert("dependencies", d);
            }
        }
        c.metadata = Metadata::from_map(&meta_map)?;
        if !have_meta {
            return Err(Error::Chart("Chart.yaml file is missing".into()));
        }
        c.metadata.validate()?;

        subcharts.sort_by(|a, b| a.0.cmp(&b.0));
        for (n, files) in subcharts {
            if n.starts_with('_') || n.starts_with('.') {
                continue;
            }
            let sc = if n.ends_with(".tgz") {
                let Some(file) = files.into_iter().next() else {
                    continue;
                };
                if file.name != n {
                    return Err(Error::Chart(format!(
                        "error unpacking subchart tar in {}: expected {n}, got {}",
                        c.name(),
                        file.name
                    )));
                }
                crate::loader::load_archive(&file.data)
            } else {
                // Files directly named `charts/x` (no inner path) are skipped, as Helm does.
                let inner: Vec<File> = files.into_iter().filter(|f| f.name != n).collect();
                Chart::from_files(inner)
            };
            let sc = sc.map_err(|e| {
                Error::Chart(format!("error unpacking subchart {n} in {}: {e}", c.name()))
            })?;
            c.dependencies.push(sc);
        }
        Ok(c)
    }

    /// Helm's `CRDObjects`: `crds/*.yaml|yml|json` of this chart and its (enabled)
    /// dependencies, with `Filename` relative to the release's top chart.
    pub fn crd_objects(&self, full_path: &str) -> Vec<(String, &File)> {
        let mut out = Vec::new();
        for f in &self.files {
            if f.name.starts_with("crds/")
                && (f.name.ends_with(".yaml")
                    || f.name.ends_with(".yml")
                    || f.name.ends_with(".json"))
            {
                out.push((format!("{full_path}/{}", f.name), f));
            }
        }
        for d in &self.dependencies {
            out.extend(d.crd_objects(&format!("{full_path}/charts/{}", d.name())));
        }
        out
    }
}

fn api_version_of(m: &Dict) -> String {
    match m.get("apiVersion") {
        Some(Value::String(s)) if !s.is_empty() => s.to_string(),
        _ => "v1".into(),
    }
}

fn get_string(m: &Dict, key: &str, ctx: &str) -> Result<String> {
    match m.get(key) {
        None | Some(Value::Nil) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.to_string()),
        Some(other) => Err(Error::Chart(format!(
            "cannot load Chart.yaml: error unmarshaling JSON: json: cannot unmarshal {} into Go struct field {ctx}.{key} of type string",
            yaml::json_kind(&other)
        ))),
    }
}

fn get_strings(m: &Dict, key: &str, ctx: &str) -> Result<Vec<String>> {
    match m.get(key) {
        None | Some(Value::Nil) => Ok(Vec::new()),
        Some(Value::List(l, _)) => l
            .iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.to_string()),
                Value::Nil => Ok(String::new()),
                other => Err(Error::Chart(format!(
                    "cannot load Chart.yaml: error unmarshaling JSON: json: cannot unmarshal {} into Go struct field {ctx}.{key} of type string",
                    yaml::json_kind(other)
                ))),
            })
            .collect(),
        Some(other) => Err(Error::Chart(format!(
            "cannot load Chart.yaml: error unmarshaling JSON: json: cannot unmarshal {} into Go struct field {ctx}.{key} of type []string",
            yaml::json_kind(&other)
        ))),
    }
}

impl Metadata {
    fn from_map(m: &Dict) -> Result<Metadata> {
        let ctx = "Metadata";
        let mut md = Metadata {
            name: get_string(m, "name", ctx)?,
            home: get_string(m, "home", ctx)?,
            sources: get_strings(m, "sources", ctx)?,
            version: get_string(m, "version", ctx)?,
            description: get_string(m, "description", ctx)?,
            keywords: get_strings(m, "keywords", ctx)?,
            icon: get_string(m, "icon", ctx)?,
            api_version: get_string(m, "apiVersion", ctx)?,
            condition: get_string(m, "condition", ctx)?,
            tags: get_string(m, "tags", ctx)?,
            app_version: get_string(m, "appVersion", ctx)?,
            kube_version: get_string(m, "kubeVersion", ctx)?,
            chart_type: get_string(m, "type", ctx)?,
            ..Default::default()
        };
        if md.api_version.is_empty() {
            md.api_version = "v1".into();
        }
        md.deprecated = matches!(m.get("deprecated"), Some(Value::Bool(true)));
        if let Some(Value::Map(a)) = m.get("annotations") {
            for (k, v) in a.read().iter() {
                let v = match v {
                    Value::String(s) => s.to_string(),
                    Value::Nil => String::new(),
                    other => {
                        return Err(Error::Chart(format!(
                            "cannot load Chart.yaml: error unmarshaling JSON: json: cannot unmarshal {} into Go struct field Metadata.annotations of type string",
                            yaml::json_kind(other)
                        )));
                    }
                };
                md.annotations.push((k.clone(), v));
            }
        }
        if let Some(Value::List(ms, _)) = m.get("maintainers") {
            for v in ms.iter() {
                if let Value::Map(d) = v {
                    md.maintainers.push(Maintainer {
                        name: get_string(d, "name", "Maintainer")?,
                        email: get_string(d, "email", "Maintainer")?,
                        url: get_string(d, "url", "Maintainer")?,
                    });
                }
            }
        }
        match m.get("dependencies") {
            None | Some(Value::Nil) => {}
            Some(Value::List(ds, _)) => {
                let mut deps = Vec::new();
                for v in ds.iter() {
                    let Value::Map(d) = v else {
                        return Err(Error::Chart(
                            "validation: dependencies must not contain empty or null nodes".into(),
                        ));
                    };
                    let import_values = match d.get("import-values") {
                        Some(Value::List(l, _)) => l.to_vec(),
                        _ => Vec::new(),
                    };
                    deps.push(Dependency {
                        name: get_string(d, "name", "Dependency")?,
                        version: get_string(d, "version", "Dependency")?,
                        repository: get_string(d, "repository", "Dependency")?,
                        condition: get_string(d, "condition", "Dependency")?,
                        tags: get_strings(d, "tags", "Dependency")?,
                        enabled: matches!(d.get("enabled"), Some(Value::Bool(true))),
                        import_values,
                        alias: get_string(d, "alias", "Dependency")?,
                    });
                }
                md.dependencies = Some(deps);
            }
            Some(other) => {
                return Err(Error::Chart(format!(
                    "cannot load Chart.yaml: error unmarshaling JSON: json: cannot unmarshal {} into Go struct field Metadata.dependencies of type []*chart.Dependency",
                    yaml::json_kind(&other)
                )));
            }
        }
        Ok(md)
    }

    /// Helm's `Metadata.Validate`.
    fn validate(&self) -> Result<()> {
        let err = |m: String| Err(Error::Chart(format!("validation: {m}")));
        if self.api_version.is_empty() {
            return err("chart.metadata.apiVersion is required".into());
        }
        if self.name.is_empty() {
            return err("chart.metadata.name is required".into());
        }
        if self.name.contains('/') || self.name == "." || self.name == ".." {
            return err(format!("chart.metadata.name {:?} is invalid", self.name));
        }
        if self.version.is_empty() {
            return err("chart.metadata.version is required".into());
        }
        if ferroflux_semver::parse_version(&self.version).is_err() {
            return err(format!(
                "chart.metadata.version {:?} is invalid",
                self.version
            ));
        }
        if !matches!(self.chart_type.as_str(), "" | "application" | "library") {
            return err("chart.metadata.type must be application or library".into());
        }
        if let Some(deps) = &self.dependencies {
            // `^[a-zA-Z0-9_-]+$`
            let alias_ok = |a: &str| {
                !a.is_empty()
                    && a.bytes()
                        .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
            };
            let mut seen = std::collections::HashSet::new();
            for d in deps {
                if !d.alias.is_empty() && !alias_ok(&d.alias) {
                    return err(format!(
                        "dependency {:?} has disallowed characters in the alias",
                        d.name
                    ));
                }
                let key = if d.alias.is_empty() {
                    &d.name
                } else {
                    &d.alias
                };
                if !seen.insert(key.clone()) {
                    return err(format!(
                        "more than one dependency with name or alias {key:?}"
                    ));
                }
            }
        }
        Ok(())
    }
}
