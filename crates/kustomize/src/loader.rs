//! Reading files under the root-only load restriction.
//!
//! Like kustomize's `RestrictionRootOnly`, a kustomization may read files only in or below its
//! own directory (checked after following symlinks, so a link cannot escape), and may refer to
//! other kustomization directories anywhere unless an overall filesystem root is set (Flux
//! builds inside an artifact and must not read the rest of the disk).

use crate::error::{Error, Result};
use crate::resource::Resource;
use crate::value::Value;
use std::path::{Path, PathBuf};

/// Resolve `path` (symlinks followed) and make sure it is in or below `root`.
pub fn contained(path: &Path, root: &Path) -> Result<PathBuf> {
    let real = path.canonicalize().map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if real.starts_with(root) {
        Ok(real)
    } else {
        Err(Error::OutsideRoot {
            path: real,
            root: root.to_path_buf(),
        })
    }
}

/// Read a file of the kustomization rooted at `dir` (already canonical).
pub fn read_file(dir: &Path, rel: &str) -> Result<(PathBuf, Vec<u8>)> {
    let real = contained(&dir.join(rel), dir)?;
    let bytes = std::fs::read(&real).map_err(|source| Error::Io {
        path: real.clone(),
        source,
    })?;
    Ok((real, bytes))
}

/// Read a text file of the kustomization rooted at `dir`.
pub fn read_text(dir: &Path, rel: &str) -> Result<(PathBuf, String)> {
    let (path, bytes) = read_file(dir, rel)?;
    let text = String::from_utf8(bytes).map_err(|e| Error::Yaml {
        path: path.clone(),
        message: format!("not UTF-8: {e}"),
    })?;
    Ok((path, text))
}

/// Whether a resource entry names something remote (URL, git or host-qualified path): those
/// are refused, as Flux does with `--no-remote-bases`.
pub fn is_remote(entry: &str, dir: &Path) -> bool {
    if entry.contains("://") || entry.starts_with("git@") || entry.starts_with("git::") {
        return true;
    }
    if dir.join(entry).exists() {
        return false;
    }
    let first = entry.split('/').next().unwrap_or_default();
    first.contains('.') && first != "." && first != ".." && entry.contains('/')
}

/// YAML parsing options matching go-yaml v3 (kustomize's parser): YAML 1.2 booleans only, so
/// `n`, `yes` or `off` stay strings.
pub fn yaml_options() -> serde_saphyr::Options {
    let mut o = serde_saphyr::Options::default();
    o.strict_booleans = true;
    // go-yaml v3 reads `0755` as octal (file modes in `defaultMode`).
    o.legacy_octal_numbers = true;
    o
}

/// Parse YAML documents with [`yaml_options`].
pub fn parse_docs(path: &Path, text: &str) -> Result<Vec<Value>> {
    serde_saphyr::from_multiple_with_options(text, yaml_options()).map_err(|e| Error::Yaml {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// Parse a multi-document YAML text into objects; `List` objects are flattened into their
/// items, empty documents skipped. Errors name the file.
pub fn parse_objects(path: &Path, text: &str) -> Result<Vec<Resource>> {
    let docs = parse_docs(path, text)?;
    let mut out = Vec::new();
    for doc in docs {
        match doc {
            Value::Null => {}
            Value::Map(ref m) if m.is_empty() => {}
            Value::Map(_) => {
                let is_list = doc.str_at(&["kind"]).is_some_and(|k| k.ends_with("List"))
                    && matches!(doc.get("items"), Some(Value::Seq(_)));
                if is_list {
                    if let Some(Value::Seq(items)) = doc.get("items") {
                        for item in items {
                            if let Value::Map(_) = item {
                                out.push(Resource::new(item.clone()));
                            }
                        }
                    }
                } else {
                    if doc.str_at(&["kind"]).is_none_or(str::is_empty) {
                        return Err(Error::Yaml {
                            path: path.to_path_buf(),
                            message: "missing kind in object".into(),
                        });
                    }
                    out.push(Resource::new(doc));
                }
            }
            _ => {
                return Err(Error::Yaml {
                    path: path.to_path_buf(),
                    message: "a document is not a mapping".into(),
                });
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_detection() {
        let d = Path::new("/nonexistent");
        assert!(is_remote("https://github.com/a/b", d));
        assert!(is_remote("github.com/a/b//c?ref=v1", d));
        assert!(!is_remote("../base", d));
        assert!(!is_remote("deploy.yaml", d));
    }

    #[test]
    fn invalid_yaml_names_file() {
        let err = parse_objects(Path::new("bad.yaml"), "a: [\n").unwrap_err();
        assert!(err.to_string().contains("bad.yaml"), "{err}");
    }

    #[test]
    fn lists_flatten() {
        let r = parse_objects(
            Path::new("l.yaml"),
            "kind: List\nitems:\n- {kind: A, metadata: {name: a}}\n- {kind: B, metadata: {name: b}}\n",
        )
        .unwrap();
        assert_eq!(r.len(), 2);
    }
}
