//! `configMapGenerator` / `secretGenerator` and the content-hash name suffix.

use crate::error::{Error, Result};
use crate::kustomization::{GeneratorArgs, GeneratorOptions, map_strings};
use crate::loader;
use crate::resource::{Behavior, Resource};
use crate::value::{Mapping, Value};
use base64::Engine as _;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::Path;

/// Which generator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `configMapGenerator`.
    ConfigMap,
    /// `secretGenerator`.
    Secret,
}

/// Merge generator-wide options under per-generator ones (kustomize's
/// `MergeGlobalOptionsIntoLocal`: local values win, maps are merged).
fn merge_options(
    local: Option<&GeneratorOptions>,
    global: Option<&GeneratorOptions>,
) -> GeneratorOptions {
    let mut out = global.cloned().unwrap_or_default();
    if let Some(l) = local {
        out.labels.extend(l.labels.clone());
        out.annotations.extend(l.annotations.clone());
        if l.disable_name_suffix_hash.is_some() {
            out.disable_name_suffix_hash = l.disable_name_suffix_hash;
        }
        if l.immutable.is_some() {
            out.immutable = l.immutable;
        }
    }
    out
}

/// kustomize's `ParseFileSource`: `key=path` or `path` (key is the file name).
fn parse_file_source(src: &str) -> Result<(String, String)> {
    match src.split_once('=') {
        Some((k, p)) if !k.is_empty() && !p.is_empty() => Ok((k.to_string(), p.to_string())),
        Some(_) => Err(Error::Transform(format!(
            "file source '{src}': key or file path is empty"
        ))),
        None => {
            let key = Path::new(src)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| src.to_string());
            Ok((key, src.to_string()))
        }
    }
}

/// Strip matching surrounding quotes from a literal value, as kustomize does.
fn remove_quotes(s: &str) -> &str {
    let b = s.as_bytes();
    if b.len() >= 2 && b[0] == b[b.len() - 1] && (b[0] == b'"' || b[0] == b'\'') {
        &s[1..s.len() - 1]
    } else {
        s
    }
}

/// Key/value pairs from an env file (`KEY=VALUE` lines, `#` comments).
fn env_pairs(path: &Path, text: &str) -> Result<Vec<(String, Vec<u8>)>> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = if i == 0 {
            line.trim_start_matches('\u{feff}')
        } else {
            line
        };
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (k, v) = line.split_once('=').unwrap_or((line, ""));
        if k.is_empty() || k.chars().any(char::is_whitespace) {
            return Err(Error::Transform(format!(
                "{}: line {}: invalid environment variable name '{k}'",
                path.display(),
                i + 1
            )));
        }
        out.push((k.to_string(), v.as_bytes().to_vec()));
    }
    Ok(out)
}

/// Generate one ConfigMap or Secret, relative to the kustomization directory `dir`.
pub fn generate(
    kind: Kind,
    args: &GeneratorArgs,
    global: Option<&GeneratorOptions>,
    dir: &Path,
) -> Result<Resource> {
    let mut pairs: Vec<(String, Vec<u8>)> = Vec::new();
    for env in args.env.iter().chain(args.envs.iter()) {
        let (path, text) = loader::read_text(dir, env)?;
        pairs.extend(env_pairs(&path, &text)?);
    }
    for lit in &args.literals {
        match lit.split_once('=') {
            Some((k, v)) if !k.is_empty() => {
                pairs.push((k.to_string(), remove_quotes(v).as_bytes().to_vec()))
            }
            _ => {
                return Err(Error::Transform(format!(
                    "invalid literal source {lit}, expected key=value"
                )));
            }
        }
    }
    for f in &args.files {
        let (key, rel) = parse_file_source(f)?;
        let (_, bytes) = loader::read_file(dir, &rel)?;
        pairs.push((key, bytes));
    }
    let mut data = Mapping::default();
    let mut binary = Mapping::default();
    for (k, v) in pairs {
        if data.contains_key(&k) || binary.contains_key(&k) {
            return Err(Error::Transform(format!(
                "configmap/secret {}: cannot add key '{k}', another key by that name already exists",
                args.name
            )));
        }
        match kind {
            Kind::Secret => {
                data.insert(
                    k,
                    base64::engine::general_purpose::STANDARD.encode(&v).into(),
                );
            }
            Kind::ConfigMap => match String::from_utf8(v) {
                Ok(s) => {
                    data.insert(k, s.into());
                }
                Err(e) => {
                    binary.insert(
                        k,
                        base64::engine::general_purpose::STANDARD
                            .encode(e.as_bytes())
                            .into(),
                    );
                }
            },
        }
    }
    let opts = merge_options(args.options.as_ref(), global);
    let mut meta = Mapping::default();
    meta.insert("name".into(), args.name.clone().into());
    if let Some(ns) = args.namespace.as_deref().filter(|n| !n.is_empty()) {
        meta.insert("namespace".into(), ns.into());
    }
    let labels = map_strings(&opts.labels);
    if !labels.is_empty() {
        meta.insert(
            "labels".into(),
            Value::Map(labels.into_iter().map(|(k, v)| (k, v.into())).collect()),
        );
    }
    let annotations = map_strings(&opts.annotations);
    if !annotations.is_empty() {
        meta.insert(
            "annotations".into(),
            Value::Map(
                annotations
                    .into_iter()
                    .map(|(k, v)| (k, v.into()))
                    .collect(),
            ),
        );
    }
    let mut obj = Mapping::default();
    obj.insert("apiVersion".into(), "v1".into());
    obj.insert(
        "kind".into(),
        match kind {
            Kind::ConfigMap => "ConfigMap",
            Kind::Secret => "Secret",
        }
        .into(),
    );
    obj.insert("metadata".into(), Value::Map(meta));
    if kind == Kind::Secret {
        obj.insert(
            "type".into(),
            args.type_.clone().unwrap_or_else(|| "Opaque".into()).into(),
        );
    }
    if !data.is_empty() {
        obj.insert("data".into(), Value::Map(data));
    }
    if !binary.is_empty() {
        obj.insert("binaryData".into(), Value::Map(binary));
    }
    if opts.immutable == Some(true) {
        obj.insert("immutable".into(), Value::Bool(true));
    }
    let behavior = match args.behavior.as_deref() {
        None | Some("") | Some("create") => Behavior::Create,
        Some("merge") => Behavior::Merge,
        Some("replace") => Behavior::Replace,
        Some(other) => {
            return Err(Error::Transform(format!(
                "generator {}: unknown behavior '{other}'",
                args.name
            )));
        }
    };
    let mut r = Resource::new(Value::Map(obj));
    r.needs_hash = opts.disable_name_suffix_hash != Some(true);
    r.behavior = behavior;
    Ok(r)
}

/// kustomize's name-suffix hash of a ConfigMap or Secret (`api/hasher`): SHA-256 over the JSON
/// of `{kind, name, data, binaryData?}` (Secrets: `type`, `stringData?` too) with sorted keys,
/// first 10 hex digits with some characters substituted so the result is never all-numeric
/// and avoids vowels.
pub fn hash(obj: &Value) -> String {
    let field = |k: &str| -> serde_json::Value {
        match obj.get(k) {
            None => serde_json::Value::String(String::new()),
            Some(Value::Map(m)) => serde_json::Value::Object(
                m.iter()
                    .map(|(k, v)| (k.clone(), v.to_json()))
                    .collect::<serde_json::Map<_, _>>(),
            ),
            Some(v) => serde_json::Value::String(v.scalar_string().unwrap_or_default()),
        }
    };
    let kind = obj.str_at(&["kind"]).unwrap_or_default();
    let mut m: BTreeMap<&str, serde_json::Value> = BTreeMap::new();
    m.insert("kind", kind.into());
    // kustomize looks the name up with `yaml.Lookup("metadata/name")`, which treats the path
    // as one key and finds nothing: the name in the hash is always empty. Byte parity needs
    // the same.
    m.insert("name", "".into());
    m.insert("data", field("data"));
    let encoded = match kind {
        "ConfigMap" | "Secret" => {
            if kind == "ConfigMap" {
                if let Some(Value::Map(_)) = obj.get("binaryData") {
                    m.insert("binaryData", field("binaryData"));
                }
            } else {
                m.insert("type", field("type"));
                if let Some(Value::Map(_)) = obj.get("stringData") {
                    m.insert("stringData", field("stringData"));
                }
            }
            go_json(&serde_json::to_value(&m).unwrap_or_default())
        }
        _ => go_json(&obj.to_json()),
    };
    let digest = hex::encode(Sha256::digest(encoded.as_bytes()));
    digest
        .chars()
        .take(10)
        .map(|c| match c {
            '0' => 'g',
            '1' => 'h',
            '3' => 'k',
            'a' => 'm',
            'e' => 't',
            c => c,
        })
        .collect()
}

/// Go's `json.Marshal`: keys sorted, and `<`, `>`, `&`, U+2028, U+2029 escaped as `\u00XX`.
fn go_json(v: &serde_json::Value) -> String {
    let sorted = sort_keys(v);
    let s = serde_json::to_string(&sorted).unwrap_or_default();
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// Re-build objects with sorted keys (in case serde_json preserves insertion order).
fn sort_keys(v: &serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::Object(m) => {
            let sorted: BTreeMap<&String, serde_json::Value> =
                m.iter().map(|(k, v)| (k, sort_keys(v))).collect();
            serde_json::Value::Object(sorted.into_iter().map(|(k, v)| (k.clone(), v)).collect())
        }
        serde_json::Value::Array(a) => serde_json::Value::Array(a.iter().map(sort_keys).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cm(yaml: &str) -> Value {
        serde_saphyr::from_str(yaml).unwrap()
    }

    #[test]
    fn hash_matches_kustomize() {
        // Expected values produced by kustomize v5.8 (`kustomize build` on the same generator).
        let v = cm("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: my-cm\ndata:\n  a: b\n");
        assert_eq!(hash(&v), KUSTOMIZE_CM_HASH);
        let s = cm(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: my-secret\ntype: Opaque\ndata:\n  a: Yg==\n",
        );
        assert_eq!(hash(&s), KUSTOMIZE_SECRET_HASH);
    }

    const KUSTOMIZE_CM_HASH: &str = "4h2mbtbbt6";
    const KUSTOMIZE_SECRET_HASH: &str = "k695gkmbtk";

    #[test]
    fn literals_files_envs() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::write(root.join("app.env"), "# c\nA=1\n\nB=x=y\n").unwrap();
        std::fs::write(root.join("f.txt"), "hello\n").unwrap();
        let args = GeneratorArgs {
            name: "g".into(),
            literals: vec!["L='q'".into()],
            files: vec!["f.txt".into(), "k=f.txt".into()],
            envs: vec!["app.env".into()],
            ..Default::default()
        };
        let r = generate(Kind::ConfigMap, &args, None, &root).unwrap();
        let d = r.value.get("data").unwrap();
        assert_eq!(d.str_at(&["A"]), Some("1"));
        assert_eq!(d.str_at(&["B"]), Some("x=y"));
        assert_eq!(d.str_at(&["L"]), Some("q"));
        assert_eq!(d.str_at(&["f.txt"]), Some("hello\n"));
        assert_eq!(d.str_at(&["k"]), Some("hello\n"));
        assert!(r.needs_hash);
    }

    #[test]
    fn file_outside_root_refused() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("k");
        std::fs::create_dir(&root).unwrap();
        std::fs::write(dir.path().join("secret.txt"), "x").unwrap();
        let root = root.canonicalize().unwrap();
        let args = GeneratorArgs {
            name: "g".into(),
            files: vec!["../secret.txt".into()],
            ..Default::default()
        };
        let err = generate(Kind::Secret, &args, None, &root).unwrap_err();
        assert!(matches!(err, Error::OutsideRoot { .. }), "{err}");
    }
}
