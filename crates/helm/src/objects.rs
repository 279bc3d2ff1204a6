//! The Go structs a chart template sees: `.Chart` (Helm's `chart.Metadata` + `IsRoot`),
//! `.Files`, `.Capabilities` (`KubeVersion`, `APIVersions`, `HelmVersion`), as
//! [`Object`]s with Go's field names, methods, `%v` printing and JSON view.

use crate::chart::{Chart, Dependency, File, Maintainer};
use base64::Engine as _;
use ferroflux_gotemplate::{Dict, ElemType, FuncError, Object, Value};
use std::any::Any;
use std::fmt;
use std::sync::Arc;

/// Go's `%v` of a value, enough for error messages and `fmt_go` of composite objects.
pub fn go_print(v: &Value) -> String {
    match v {
        Value::Nil => "<nil>".into(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i, _) => i.to_string(),
        Value::Float(f) => go_float(*f),
        Value::String(s) => s.to_string(),
        Value::Bytes(b) => format!(
            "[{}]",
            b.iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join(" ")
        ),
        Value::List(l, _) => format!("[{}]", l.iter().map(go_print).collect::<Vec<_>>().join(" ")),
        Value::Map(m) => format!(
            "map[{}]",
            m.read()
                .iter()
                .map(|(k, v)| format!("{k}:{}", go_print(v)))
                .collect::<Vec<_>>()
                .join(" ")
        ),
        Value::Object(o) => {
            struct P<'a>(&'a dyn Object);
            impl fmt::Display for P<'_> {
                fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    self.0.fmt_go(f)
                }
            }
            P(o.as_ref()).to_string()
        }
    }
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 64)` (what `%v` prints for a float64).
pub fn go_float(f: f64) -> String {
    ferroflux_goyaml::format_float(f)
}

/// A Go struct with ordered fields: `(Go name, JSON name, omitempty, value)`.
#[derive(Clone)]
pub struct Struct {
    type_name: &'static str,
    fields: Vec<(&'static str, &'static str, bool, Value)>,
}

impl Struct {
    fn new(type_name: &'static str) -> Self {
        Struct {
            type_name,
            fields: Vec::new(),
        }
    }

    fn f(mut self, go: &'static str, json: &'static str, omit: bool, v: Value) -> Self {
        self.fields.push((go, json, omit, v));
        self
    }
}

fn is_empty_json(v: &Value) -> bool {
    match v {
        Value::Nil => true,
        Value::Bool(b) => !b,
        Value::Int(i, _) => *i == 0,
        Value::Float(f) => *f == 0.0,
        Value::String(s) => s.is_empty(),
        Value::Bytes(b) => b.is_empty(),
        Value::List(l, _) => l.is_empty(),
        Value::Map(m) => m.is_empty(),
        Value::Object(_) => false,
    }
}

impl Object for Struct {
    fn type_name(&self) -> &str {
        self.type_name
    }
    fn field(&self, name: &str) -> Option<Value> {
        self.fields
            .iter()
            .find(|(g, ..)| *g == name)
            .map(|(.., v)| v.clone())
    }
    fn fmt_go(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .fields
            .iter()
            .map(|(.., v)| match v {
                Value::Nil => String::new(),
                v => go_print(v),
            })
            .collect();
        write!(f, "{{{}}}", parts.join(" "))
    }
    fn to_data(&self) -> Option<Value> {
        let d = Dict::new();
        for (_, json, omit, v) in &self.fields {
            if *omit && is_empty_json(v) {
                continue;
            }
            let v = match v {
                Value::Object(o) => o.to_data().unwrap_or(Value::Nil),
                Value::List(l, _) => Value::list(l.iter().map(|x| match x {
                    Value::Object(o) => o.to_data().unwrap_or(Value::Nil),
                    x => x.clone(),
                })),
                v => v.clone(),
            };
            d.insert(*json, v);
        }
        Some(Value::Map(d))
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

fn strings(v: &[String]) -> Value {
    if v.is_empty() {
        // A nil slice: prints `[]`, omitted from JSON.
        Value::list([])
    } else {
        Value::list(v.iter().map(|s| Value::from(s.as_str())))
    }
}

fn maintainer(m: &Maintainer) -> Value {
    Value::Object(Arc::new(
        Struct::new("*chart.Maintainer")
            .f("Name", "name", true, m.name.as_str().into())
            .f("Email", "email", true, m.email.as_str().into())
            .f("URL", "url", true, m.url.as_str().into()),
    ))
}

fn dependency(d: &Dependency) -> Value {
    Value::Object(Arc::new(
        Struct::new("*chart.Dependency")
            .f("Name", "name", false, d.name.as_str().into())
            .f("Version", "version", true, d.version.as_str().into())
            .f(
                "Repository",
                "repository",
                false,
                d.repository.as_str().into(),
            )
            .f("Condition", "condition", true, d.condition.as_str().into())
            .f("Tags", "tags", true, strings(&d.tags))
            .f("Enabled", "enabled", true, d.enabled.into())
            .f(
                "ImportValues",
                "import-values",
                true,
                Value::list(d.import_values.iter().cloned()),
            )
            .f("Alias", "alias", true, d.alias.as_str().into()),
    ))
}

/// `.Chart`: the chart's metadata plus `IsRoot`.
pub fn chart_value(c: &Chart, is_root: bool) -> Value {
    let m = &c.metadata;
    let annotations = if m.annotations.is_empty() {
        Value::Nil
    } else {
        Value::map(
            m.annotations
                .iter()
                .map(|(k, v)| (k.clone(), Value::from(v.as_str()))),
        )
    };
    let deps = m
        .dependencies
        .as_ref()
        .map(|d| Value::list(d.iter().map(dependency)))
        .unwrap_or_else(|| Value::list([]));
    let meta = Struct::new("chart.Metadata")
        .f("Name", "name", true, m.name.as_str().into())
        .f("Home", "home", true, m.home.as_str().into())
        .f("Sources", "sources", true, strings(&m.sources))
        .f("Version", "version", true, m.version.as_str().into())
        .f(
            "Description",
            "description",
            true,
            m.description.as_str().into(),
        )
        .f("Keywords", "keywords", true, strings(&m.keywords))
        .f(
            "Maintainers",
            "maintainers",
            true,
            Value::list(m.maintainers.iter().map(maintainer)),
        )
        .f("Icon", "icon", true, m.icon.as_str().into())
        .f(
            "APIVersion",
            "apiVersion",
            true,
            m.api_version.as_str().into(),
        )
        .f("Condition", "condition", true, m.condition.as_str().into())
        .f("Tags", "tags", true, m.tags.as_str().into())
        .f(
            "AppVersion",
            "appVersion",
            true,
            m.app_version.as_str().into(),
        )
        .f("Deprecated", "deprecated", true, m.deprecated.into())
        .f("Annotations", "annotations", true, annotations)
        .f(
            "KubeVersion",
            "kubeVersion",
            true,
            m.kube_version.as_str().into(),
        )
        .f("Dependencies", "dependencies", true, deps)
        .f("Type", "type", true, m.chart_type.as_str().into());
    Value::Object(Arc::new(ChartObject { meta, is_root }))
}

/// Helm's anonymous `struct{ chart.Metadata; IsRoot bool }`: embedded fields promoted.
struct ChartObject {
    meta: Struct,
    is_root: bool,
}

impl Object for ChartObject {
    fn type_name(&self) -> &str {
        "struct { *chart.Metadata; IsRoot bool }"
    }
    fn field(&self, name: &str) -> Option<Value> {
        match name {
            "IsRoot" => Some(self.is_root.into()),
            "Metadata" => Some(Value::Object(Arc::new(self.meta.clone()))),
            // Metadata's methods.
            "Validate" => Some(Value::Nil),
            _ => self.meta.field(name),
        }
    }
    fn fmt_go(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        self.meta.fmt_go(f)?;
        write!(f, " {}}}", self.is_root)
    }
    fn to_data(&self) -> Option<Value> {
        let d = match self.meta.to_data() {
            Some(Value::Map(d)) => d,
            _ => Dict::new(),
        };
        d.insert("IsRoot", self.is_root.into());
        Some(Value::Map(d))
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// `.Files`: a chart's non-template files (Go's `map[string][]byte` with methods).
#[derive(Clone, Default)]
pub struct Files(pub Arc<std::collections::BTreeMap<String, Arc<[u8]>>>);

impl Files {
    pub fn new(files: &[File]) -> Files {
        Files(Arc::new(
            files
                .iter()
                .map(|f| (f.name.clone(), Arc::from(f.data.as_slice())))
                .collect(),
        ))
    }

    fn get_bytes(&self, name: &str) -> Arc<[u8]> {
        self.0
            .get(name)
            .cloned()
            .unwrap_or_else(|| Arc::from(&[][..]))
    }

    fn glob(&self, pattern: &str) -> Files {
        let g = crate::glob::Glob::new(pattern).or_else(|| crate::glob::Glob::new("**"));
        Files(Arc::new(
            self.0
                .iter()
                .filter(|(k, _)| g.as_ref().is_some_and(|g| g.is_match(k)))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ))
    }

    fn as_map(&self, f: impl Fn(&[u8]) -> String) -> Value {
        Value::map(self.0.iter().map(|(k, v)| {
            let base = k.rsplit('/').next().unwrap_or(k).to_string();
            (base, Value::from(f(v)))
        }))
    }

    fn lines(&self, path: &str) -> Value {
        // Helm's `Lines` returns a `[]string`
        let Some(b) = self.0.get(path).filter(|b| !b.is_empty()) else {
            return Value::typed_list([], ElemType::String);
        };
        let s = String::from_utf8_lossy(b);
        let s = s.strip_suffix('\n').unwrap_or(&s);
        Value::typed_list(s.split('\n').map(Value::from), ElemType::String)
    }
}

fn arg_str<'a>(args: &'a [Value], method: &str) -> Result<&'a str, FuncError> {
    match args {
        [Value::String(s)] => Ok(s),
        [other] => Err(FuncError::new(format!(
            "wrong type for value; expected string; got {}",
            crate::objects::go_type_name(other)
        ))),
        _ => Err(FuncError::new(format!(
            "wrong number of args for {method}: want 1 got {}",
            args.len()
        ))),
    }
}

/// Go's `%T`-ish name of a value (for error messages).
pub fn go_type_name(v: &Value) -> String {
    match v {
        Value::Nil => "<nil>".into(),
        Value::Bool(_) => "bool".into(),
        Value::Int(_, t) => t.go_name().into(),
        Value::Float(_) => "float64".into(),
        Value::String(_) => "string".into(),
        Value::Bytes(_) => "[]uint8".into(),
        Value::List(_, t) => t.slice_name().into(),
        Value::Map(_) => "map[string]interface {}".into(),
        Value::Object(o) => o.type_name().to_string(),
    }
}

impl Object for Files {
    fn type_name(&self) -> &str {
        "engine.files"
    }
    fn field(&self, name: &str) -> Option<Value> {
        match name {
            "AsConfig" => Some(self.as_config()),
            "AsSecrets" => Some(self.as_secrets()),
            _ => None,
        }
    }
    fn call(&self, name: &str, args: &[Value]) -> Option<Result<Value, FuncError>> {
        let r = match name {
            "Get" => arg_str(args, name)
                .map(|n| Value::from(String::from_utf8_lossy(&self.get_bytes(n)).into_owned())),
            "GetBytes" => arg_str(args, name).map(|n| Value::Bytes(self.get_bytes(n))),
            // Still an `engine.files` when empty: falsy, ranges over nothing, `AsConfig` is `{}`.
            "Glob" => arg_str(args, name).map(|p| Value::Object(Arc::new(self.glob(p)))),
            "Lines" => arg_str(args, name).map(|p| self.lines(p)),
            "AsConfig" if args.is_empty() => Ok(self.as_config()),
            "AsSecrets" if args.is_empty() => Ok(self.as_secrets()),
            _ => return None,
        };
        Some(r)
    }
    /// `files` is a `map[string][]byte`: `range $path, $bytes := .Files.Glob "x/*"`.
    fn map_entries(&self) -> Option<Vec<(String, Value)>> {
        Some(
            self.0
                .iter()
                .map(|(k, v)| (k.clone(), Value::Bytes(v.clone())))
                .collect(),
        )
    }
    fn map_zero(&self) -> Value {
        Value::Bytes(Arc::from(&[][..]))
    }
    fn fmt_go(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|(k, v)| format!("{k}:{}", go_print(&Value::Bytes(v.clone()))))
            .collect();
        write!(f, "map[{}]", parts.join(" "))
    }
    fn to_data(&self) -> Option<Value> {
        Some(Value::map(
            self.0
                .iter()
                .map(|(k, v)| (k.clone(), Value::Bytes(v.clone()))),
        ))
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl Files {
    /// Helm returns "" only for a nil `files`, which templates never see; an
    /// empty glob gives `{}`.
    fn as_config(&self) -> Value {
        let m = self.as_map(|b| String::from_utf8_lossy(b).into_owned());
        Value::from(crate::yaml::to_yaml(&m))
    }

    fn as_secrets(&self) -> Value {
        let m = self.as_map(|b| base64::engine::general_purpose::STANDARD.encode(b));
        Value::from(crate::yaml::to_yaml(&m))
    }
}

/// `.Capabilities.KubeVersion`.
#[derive(Clone, Debug)]
pub struct KubeVersion {
    pub version: String,
    pub major: String,
    pub minor: String,
}

impl KubeVersion {
    /// What `helm template` assumes without `--kube-version`.
    pub fn default_version() -> KubeVersion {
        KubeVersion {
            version: "v1.20.0".into(),
            major: "1".into(),
            minor: "20".into(),
        }
    }

    /// Parses `--kube-version` as Helm does (k8s `ParseGeneric`: `v` optional, at least
    /// major.minor, trailing junk after the numbers ignored).
    pub fn parse(s: &str) -> Option<KubeVersion> {
        // `^\s*v?([0-9]+(?:\.[0-9]+)*)(.*)$` by hand (`.` stops at a newline).
        let t = s.trim_start();
        let t = t.strip_prefix('v').unwrap_or(t);
        let b = t.as_bytes();
        let digits =
            |from: usize| from + b[from..].iter().take_while(|c| c.is_ascii_digit()).count();
        let mut end = digits(0);
        if end == 0 {
            return None;
        }
        while b.get(end) == Some(&b'.') && b.get(end + 1).is_some_and(u8::is_ascii_digit) {
            end = digits(end + 1);
        }
        if t[end..].contains('\n') {
            return None;
        }
        let nums: Vec<&str> = t[..end].split('.').collect();
        if nums.len() < 2 {
            return None;
        }
        let mut comps = Vec::new();
        for n in &nums {
            if n.len() > 1 && n.starts_with('0') {
                return None;
            }
            comps.push(n.parse::<u64>().ok()?);
        }
        let version = format!(
            "v{}",
            comps
                .iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join(".")
        );
        Some(KubeVersion {
            version,
            major: comps[0].to_string(),
            minor: comps[1].to_string(),
        })
    }
}

impl Object for KubeVersion {
    fn type_name(&self) -> &str {
        "chartutil.KubeVersion"
    }
    fn field(&self, name: &str) -> Option<Value> {
        match name {
            "Version" | "GitVersion" | "String" => Some(self.version.as_str().into()),
            "Major" => Some(self.major.as_str().into()),
            "Minor" => Some(self.minor.as_str().into()),
            _ => None,
        }
    }
    fn fmt_go(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.version)
    }
    fn to_data(&self) -> Option<Value> {
        Some(Value::map([
            ("Version".to_string(), self.version.as_str().into()),
            ("Major".to_string(), self.major.as_str().into()),
            ("Minor".to_string(), self.minor.as_str().into()),
        ]))
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// `.Capabilities.APIVersions`: a list of `group/version` (and `group/version/Kind`) with `Has`.
#[derive(Clone, Debug)]
pub struct VersionSet(pub Arc<Vec<String>>);

impl VersionSet {
    /// The list `helm template` assumes (the API groups of its client library).
    pub fn default_set() -> VersionSet {
        let list: Vec<String> =
            serde_json::from_str(include_str!("default_api_versions.json")).unwrap_or_default();
        VersionSet(Arc::new(list))
    }
}

impl Object for VersionSet {
    fn type_name(&self) -> &str {
        "chartutil.VersionSet"
    }
    fn field(&self, _name: &str) -> Option<Value> {
        None
    }
    fn call(&self, name: &str, args: &[Value]) -> Option<Result<Value, FuncError>> {
        match name {
            "Has" => Some(arg_str(args, name).map(|v| Value::Bool(self.0.iter().any(|x| x == v)))),
            _ => None,
        }
    }
    fn fmt_go(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}]", self.0.join(" "))
    }
    fn to_data(&self) -> Option<Value> {
        Some(Value::list(self.0.iter().map(|s| Value::from(s.as_str()))))
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// The Helm version this engine reports as `.Capabilities.HelmVersion`.
pub const HELM_VERSION: &str = "v3.22.0";

/// `.Capabilities`.
pub fn capabilities(kube: &KubeVersion, apis: &VersionSet) -> Value {
    let helm = Struct::new("version.BuildInfo")
        .f("Version", "version", true, HELM_VERSION.into())
        .f("GitCommit", "git_commit", true, "".into())
        .f("GitTreeState", "git_tree_state", true, "".into())
        .f("GoVersion", "go_version", true, "".into());
    Value::Object(Arc::new(
        Struct::new("*chartutil.Capabilities")
            .f(
                "KubeVersion",
                "KubeVersion",
                false,
                Value::Object(Arc::new(kube.clone())),
            )
            .f(
                "APIVersions",
                "APIVersions",
                false,
                Value::Object(Arc::new(apis.clone())),
            )
            .f(
                "HelmVersion",
                "HelmVersion",
                false,
                Value::Object(Arc::new(helm)),
            ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kube_version_parses_like_helm() {
        let k = KubeVersion::parse("1.28").unwrap();
        assert_eq!(
            (k.version.as_str(), k.major.as_str(), k.minor.as_str()),
            ("v1.28", "1", "28")
        );
        let k = KubeVersion::parse("v1.30.2-gke.100").unwrap();
        assert_eq!(k.version, "v1.30.2");
        assert!(KubeVersion::parse("1").is_none());
    }

    #[test]
    fn files_methods() {
        let f = Files::new(&[
            File {
                name: "conf/a.txt".into(),
                data: b"x\ny\n".to_vec(),
            },
            File {
                name: "conf/sub/b.txt".into(),
                data: b"z".to_vec(),
            },
        ]);
        let lines = f
            .call("Lines", &[Value::from("conf/a.txt")])
            .unwrap()
            .unwrap();
        assert_eq!(lines.to_json(), serde_json::json!(["x", "y"]));
        // helm: `typeOf (.Files.Lines "f")` is `[]string`
        assert_eq!(go_type_name(&lines), "[]string");
        let g = f.call("Glob", &[Value::from("conf/*")]).unwrap().unwrap();
        let Value::Object(g) = g else { panic!() };
        assert_eq!(g.to_data().unwrap().to_json().as_object().unwrap().len(), 1);
        let missing = f.call("Get", &[Value::from("nope")]).unwrap().unwrap();
        assert_eq!(missing.as_str(), Some(""));
    }

    #[test]
    fn go_float_formats_like_go() {
        assert_eq!(go_float(1e6), "1e+06");
        assert_eq!(go_float(100000.0), "100000");
        assert_eq!(go_float(1.5), "1.5");
        assert_eq!(go_float(1e-5), "1e-05");
    }
}
