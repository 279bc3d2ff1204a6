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
    // Real repositories hold files of thousands of documents (CRD bundles, rendered charts):
    // lift the size caps, keep the alias limits that stop "billion laughs" expansion.
    let mut b = serde_saphyr::Budget::default();
    b.max_documents = 1_000_000;
    b.max_nodes = 100_000_000;
    b.max_events = 200_000_000;
    b.max_total_scalar_bytes = 1 << 30;
    b.max_depth = 256;
    o.budget = Some(b);
    o
}

/// go-yaml v2's reading (YAML 1.1 booleans such as `yes`, `on`, `y`), which Flux uses to
/// re-read objects after post-build substitution.
pub fn yaml11_options() -> serde_saphyr::Options {
    let mut o = yaml_options();
    o.strict_booleans = false;
    o
}

/// Parse YAML documents with [`yaml_options`].
pub fn parse_docs(path: &Path, text: &str) -> Result<Vec<Value>> {
    parse_docs_with(path, text, yaml_options())
}

/// Parse YAML documents with the given options.
pub fn parse_docs_with(path: &Path, text: &str, opts: serde_saphyr::Options) -> Result<Vec<Value>> {
    if let Some(p) = crate::fastyaml::parse(text, &opts) {
        return Ok(p.docs);
    }
    serde_saphyr::from_multiple_with_options(text, opts).map_err(|e| Error::Yaml {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// Parse a single-document YAML text (a kustomization, configuration or schema file) with
/// the given options, through the fast reader when it applies.
pub fn parse_value_with(path: &Path, text: &str, opts: serde_saphyr::Options) -> Result<Value> {
    if let Some(mut p) = crate::fastyaml::parse(text, &opts)
        && p.docs.len() == 1
    {
        return Ok(p.docs.swap_remove(0));
    }
    serde_saphyr::from_str_with_options(text, opts).map_err(|e| Error::Yaml {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// Parse a multi-document YAML text into objects; `List` objects are flattened into their
/// items, empty documents skipped. Errors name the file.
pub fn parse_objects(path: &Path, text: &str) -> Result<Vec<Resource>> {
    let (docs, mut blanks) = match crate::fastyaml::parse(text, &yaml_options()) {
        Some(p) => (p.docs, p.blanks),
        None => {
            let docs = parse_docs(path, text)?;
            let mut blanks = if may_have_blank_values(text) {
                blank_null_paths(text)
            } else {
                Vec::new()
            };
            if blanks.len() != docs.len() {
                blanks.clear();
            }
            (docs, blanks)
        }
    };
    blanks.resize(docs.len(), Vec::new());
    let mut out = Vec::new();
    // Source text of annotations, read only when some document needs it.
    let mut texts: Option<Vec<Vec<(String, String)>>> = None;
    let ndocs = docs.len();
    for (index, (doc, blank)) in docs.into_iter().zip(blanks).enumerate() {
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
                    let mut r = Resource::new(doc);
                    if has_nonstring_annotation(&r.value) {
                        let texts = texts.get_or_insert_with(|| {
                            let t = annotation_texts(text);
                            if t.len() == ndocs { t } else { Vec::new() }
                        });
                        r.annotation_text = texts
                            .get_mut(index)
                            .map(std::mem::take)
                            .unwrap_or_default()
                            .into_iter()
                            .filter_map(|(k, t)| {
                                let v = r.value.pointer(&["metadata", "annotations", &k])?;
                                (!matches!(v, Value::String(_))).then(|| (k, t, v.clone()))
                            })
                            .collect();
                    }
                    r.blank_nulls = blank
                        .into_iter()
                        .filter(|p| matches!(r.value.at_path(p), Some(Value::Null)))
                        .collect();
                    out.push(r);
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

fn has_nonstring_annotation(v: &Value) -> bool {
    v.pointer(&["metadata", "annotations"])
        .and_then(Value::as_map)
        .is_some_and(|a| a.values().any(|x| !matches!(x, Value::String(_))))
}

/// Per document, the source text of plain scalars under `metadata.annotations` (`""` for an
/// empty value), in the order written.
pub fn annotation_texts(text: &str) -> Vec<Vec<(String, String)>> {
    use serde_saphyr::granit_parser::{Event, Parser, ScalarStyle};
    // A mapping (with the key awaiting its value) or a sequence, each with the key it sits
    // under in its parent mapping.
    struct Frame {
        name: Option<String>,
        map: bool,
        key: Option<String>,
    }
    fn value_done(stack: &mut [Frame]) {
        if let Some(f) = stack.last_mut() {
            f.key = None;
        }
    }
    let mut docs = Vec::new();
    let mut cur = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut parser = Parser::new_from_str(text);
    while let Some(Ok((ev, span))) = parser.next_event() {
        match ev {
            Event::DocumentStart(..) => {
                cur = Vec::new();
                stack.clear();
            }
            Event::DocumentEnd => docs.push(std::mem::take(&mut cur)),
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                let name = stack.last().and_then(|f| f.key.clone());
                stack.push(Frame {
                    name,
                    map: matches!(ev, Event::MappingStart(..)),
                    key: None,
                });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                stack.pop();
                value_done(&mut stack);
            }
            Event::Scalar(v, style, _, tag) => {
                let Some(top) = stack.last_mut() else {
                    continue;
                };
                if top.map && top.key.is_none() {
                    top.key = Some(v.into_owned());
                    continue;
                }
                let at_annotations = stack.len() == 3
                    && stack.iter().all(|f| f.map)
                    && stack[1].name.as_deref() == Some("metadata")
                    && stack[2].name.as_deref() == Some("annotations");
                if at_annotations
                    && style == ScalarStyle::Plain
                    && tag.is_none()
                    && let Some(k) = stack[2].key.clone()
                {
                    let raw = if span.is_empty() {
                        String::new()
                    } else {
                        v.into_owned()
                    };
                    cur.push((k, raw));
                }
                value_done(&mut stack);
            }
            Event::Alias(_) => {
                if let Some(top) = stack.last_mut()
                    && top.map
                    && top.key.is_none()
                {
                    top.key = Some(String::new());
                    continue;
                }
                value_done(&mut stack);
            }
            _ => {}
        }
    }
    docs
}

/// Cheap line scan: whether some mapping key may have an empty value (`key:` followed by a
/// line that is not nested under it). Only then is the exact event pass worth running.
fn may_have_blank_values(text: &str) -> bool {
    let indent = |l: &str| l.len() - l.trim_start_matches(' ').len();
    let mut lines = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .peekable();
    while let Some(l) = lines.next() {
        if !l.trim_end().ends_with(':') {
            continue;
        }
        match lines.peek() {
            None => return true,
            Some(n) => {
                let (a, b) = (indent(l), indent(n));
                if b < a || (b == a && !n.trim_start().starts_with('-')) {
                    return true;
                }
            }
        }
    }
    false
}

/// Paths (per document) of mapping entries whose value is empty in the source (`key:` with
/// nothing after it, rather than an explicit `null` or `~`). kustomize's strategic merge drops
/// exactly those entries from the objects it patches, so they are remembered at parse time.
pub fn blank_null_paths(text: &str) -> Vec<Vec<Vec<String>>> {
    use serde_saphyr::granit_parser::{Event, Parser, ScalarStyle};
    enum Frame {
        Map { key: Option<String> },
        Seq { index: usize },
    }
    let mut docs = Vec::new();
    let mut cur: Vec<Vec<String>> = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    let path_of = |stack: &[Frame]| -> Vec<String> {
        stack
            .iter()
            .filter_map(|f| match f {
                Frame::Map { key } => key.clone(),
                Frame::Seq { index } => Some(index.to_string()),
            })
            .collect()
    };
    // After a value completes in the innermost frame: a map expects its next key, a sequence
    // moves to its next index.
    fn value_done(stack: &mut [Frame]) {
        match stack.last_mut() {
            Some(Frame::Map { key }) => *key = None,
            Some(Frame::Seq { index }) => *index += 1,
            None => {}
        }
    }
    let mut parser = Parser::new_from_str(text);
    while let Some(Ok((ev, span))) = parser.next_event() {
        match ev {
            Event::DocumentStart(..) => {
                cur.clear();
                stack.clear();
            }
            Event::DocumentEnd => docs.push(std::mem::take(&mut cur)),
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                let is_map = matches!(ev, Event::MappingStart(..));
                stack.push(if is_map {
                    Frame::Map { key: None }
                } else {
                    Frame::Seq { index: 0 }
                });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                stack.pop();
                value_done(&mut stack);
            }
            Event::Scalar(v, style, _, tag) => {
                if let Some(Frame::Map { key: key @ None }) = stack.last_mut() {
                    *key = Some(v.into_owned());
                    continue;
                }
                if matches!(stack.last(), Some(Frame::Map { .. }))
                    && style == ScalarStyle::Plain
                    && v == "~"
                    && span.is_empty()
                    && tag.is_none()
                {
                    cur.push(path_of(&stack));
                }
                value_done(&mut stack);
            }
            Event::Alias(_) => {
                if let Some(Frame::Map { key: key @ None }) = stack.last_mut() {
                    *key = Some(String::new());
                    continue;
                }
                value_done(&mut stack);
            }
            _ => {}
        }
    }
    docs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_values_are_told_from_explicit_nulls() {
        // The parser reports an empty value as `~` with an empty span.
        let text = "a:\n  b:\n  c: null\n  d: ~\n  e: ''\nl:\n- x:\n---\nf:\n";
        assert!(may_have_blank_values(text));
        let p = blank_null_paths(text);
        assert_eq!(p.len(), 2);
        assert_eq!(p[0], vec![vec!["a", "b"], vec!["l", "0", "x"]]);
        assert_eq!(p[1], vec![vec!["f"]]);
        assert!(!may_have_blank_values("a:\n  b: 1\nc:\n- 1\n"));
    }

    #[test]
    fn annotation_source_text_is_kept() {
        let text = "metadata:\n  name: x\n  annotations:\n    a: 0x10\n    b: ~\n    c:\n    d: 'q'\n    e: [1]\n    f: 1.50\nspec:\n  annotations: {z: 1}\n---\n---\nmetadata: {annotations: {g: null}}\n";
        let t = annotation_texts(text);
        assert_eq!(t.len(), 3);
        let s = |a: &str, b: &str| (a.to_string(), b.to_string());
        assert_eq!(
            t[0],
            vec![s("a", "0x10"), s("b", "~"), s("c", ""), s("f", "1.50")]
        );
        assert!(t[1].is_empty());
        assert_eq!(t[2], vec![s("g", "null")]);
    }

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
