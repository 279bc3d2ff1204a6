//! Helm's side of the one-pass YAML reader (crates/fastyaml): values files, `Chart.yaml` and
//! `fromYaml` text read straight into [`Value`]s with `sigs.k8s.io/yaml` semantics, skipping
//! the general parser's event stream (bitnami's large, comment-heavy values files made it a
//! fifth of a render).
//!
//! Only what is plainly identical to [`super::load_first`]'s general reading is taken: plain
//! scalars resolve through go-yaml v2's rules exactly as `scalar_value` does (every number a
//! float64), integer keys keep their integer spelling; anything else declines and the general
//! reader runs: merge keys, anchors, aliases, tags, a second document (go-yaml reads only the
//! first; the reader here would read them all), non-finite floats (the JSON step rejects
//! them, with its wording), keys that resolve to anything but a string or an integer,
//! duplicate keys. The tests compare both readers on every YAML file of the chart corpus and
//! on mutated ones.

use std::borrow::Cow;
use std::collections::BTreeMap;

use ferroflux_fastyaml::Sink;
use ferroflux_goyaml::{Resolved, resolve_plain};

use crate::value::{Dict, Value};

/// The first document as the general reader would give it (`Some(None)`: an empty stream),
/// or `None` when the fast reader declines the text.
pub(super) fn load_first(s: &str) -> Option<Option<Value>> {
    let p = ferroflux_fastyaml::parse(s, &mut GoSink)?;
    match p.documents {
        0 => Some(None),
        // An empty document (`---` alone) is a null, as go-yaml reads it.
        1 => Some(Some(p.docs.into_iter().next().unwrap_or(Value::Nil))),
        _ => None,
    }
}

/// Builds template values with sigs.k8s.io/yaml's typing.
struct GoSink;

/// go-yaml's scanner gives up on simple keys longer than this; such text goes to the
/// general reader.
const MAX_KEY: usize = 1024;

impl Sink for GoSink {
    type Value = Value;
    type Map = BTreeMap<String, Value>;

    fn null(&mut self) -> Value {
        Value::Nil
    }

    fn string(&mut self, s: Cow<'_, str>) -> Value {
        Value::string(&*s)
    }

    fn plain(&mut self, s: &str) -> Option<Value> {
        Some(match resolve_plain(s) {
            Resolved::Null => Value::Nil,
            Resolved::Bool(b) => Value::Bool(b),
            Resolved::Int(i) => Value::Float(i as f64),
            Resolved::Uint(u) => Value::Float(u as f64),
            Resolved::Float(f) if f.is_finite() => Value::Float(f),
            Resolved::Timestamp | Resolved::Str => Value::string(s),
            Resolved::Float(_) | Resolved::Merge => return None,
        })
    }

    fn key(&mut self, k: &str) -> Option<String> {
        if k.len() > MAX_KEY {
            return None;
        }
        match resolve_plain(k) {
            Resolved::Str | Resolved::Timestamp => Some(k.to_string()),
            // strconv.Itoa of the decoded integer, as the general reader spells them.
            Resolved::Int(i) => Some(i.to_string()),
            Resolved::Uint(u) => Some(u.to_string()),
            _ => None,
        }
    }

    fn seq(&mut self, items: Vec<Value>) -> Value {
        Value::list(items)
    }

    fn new_map(&mut self) -> Self::Map {
        BTreeMap::new()
    }

    fn insert(&mut self, m: &mut Self::Map, key: String, v: Value) -> bool {
        if key.len() > MAX_KEY {
            return false;
        }
        m.insert(key, v).is_none()
    }

    fn map(&mut self, m: Self::Map) -> Value {
        Value::Map(Dict::from_map(m))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Result;
    use std::collections::HashMap;
    use std::path::{Path, PathBuf};

    /// The general reader alone (granit-parser events), as `load_first` runs it on decline.
    fn general(s: &str) -> Result<Option<Value>> {
        let mut l = super::super::Loader {
            parser: granit_parser::Parser::new_from_str_with_options(
                s,
                super::super::parser_options(),
            ),
            anchors: HashMap::new(),
        };
        let v = l.first_document()?;
        if let Some(v) = &v {
            super::super::check_json_encodable(v)?;
        }
        Ok(v)
    }

    /// Where two values first differ, or `None` when they are equal (same kinds, same
    /// integer types, same float bits).
    fn diff(a: &Value, b: &Value, path: &str) -> Option<String> {
        let same = match (a, b) {
            (Value::Nil, Value::Nil) => true,
            (Value::Bool(x), Value::Bool(y)) => x == y,
            (Value::Int(x, s), Value::Int(y, t)) => x == y && s == t,
            (Value::Float(x), Value::Float(y)) => x.to_bits() == y.to_bits(),
            (Value::String(x), Value::String(y)) => x == y,
            (Value::List(x, s), Value::List(y, t)) => {
                if x.len() != y.len() || s != t {
                    return Some(format!("{path}: {} vs {} items", x.len(), y.len()));
                }
                return x
                    .iter()
                    .zip(y.iter())
                    .enumerate()
                    .find_map(|(i, (v, w))| diff(v, w, &format!("{path}[{i}]")));
            }
            (Value::Map(x), Value::Map(y)) => {
                let (x, y) = (x.read(), y.read());
                if x.keys().ne(y.keys()) {
                    return Some(format!(
                        "{path}: keys {:?} vs {:?}",
                        x.keys().collect::<Vec<_>>(),
                        y.keys().collect::<Vec<_>>()
                    ));
                }
                return x
                    .iter()
                    .zip(y.values())
                    .find_map(|((k, v), w)| diff(v, w, &format!("{path}.{k}")));
            }
            _ => false,
        };
        (!same).then(|| format!("{path}: fast {a:?} vs general {b:?}"))
    }

    fn first_diff(a: &Option<Value>, b: &Option<Value>) -> Option<String> {
        match (a, b) {
            (None, None) => None,
            (Some(a), Some(b)) => diff(a, b, "$"),
            _ => Some(format!("fast {a:?} vs general {b:?}")),
        }
    }

    /// Both readers on `text`: whenever the fast one accepts, the general one accepts too
    /// and gives the same value. Returns whether the fast reader accepted.
    fn check(text: &str, what: &str) -> bool {
        let Some(fast) = load_first(text) else {
            return false;
        };
        let slow = general(text).unwrap_or_else(|e| {
            panic!("{what}: fast reader accepted what the general one rejects ({e}): {text:?}")
        });
        if let Some(d) = first_diff(&fast, &slow) {
            panic!("{what}: {d}\n{text:?}");
        }
        true
    }

    #[test]
    fn values_read_as_sigs_k8s_io_yaml_reads_them() {
        let cases = [
            "",
            "# only a comment\n",
            "---\n",
            "a: 1\n",
            "a: 1.5\nb: -3\nc: 0x1F\nd: 0777\ne: 1e3\nf: 12345678901234567890\ng: 0b101\nh: 1_000\n",
            "a: yes\nb: no\nc: on\nd: off\ne: y\nf: n\ng: True\nh: NULL\ni: ~\nj: null\n",
            "t: 2020-01-01\nu: 2020-01-01T10:00:00Z\nv: 1:20\n",
            "80: http\n443: https\n0x10: hex\n",
            "'80': quoted\n\"true\": quoted\n",
            "a:\n  b:\n    c: d\n  e:\nl:\n- x\n- - y\n-\n- k: v\n  j: |\n    text\n",
            "flow: {a: 1, b: [x, 'y', \"z\"], c: {}}\nempty: []\n",
            "s: 'it''s'\nd: \"tab\\tnl\\n\\u00e9\"\nm: plain\n  continued\n",
            "f: >-\n  folded\n  text\nk: |+\n  kept\n\nz: 1\n",
            "a: .inf\n",
            "a: -.inf\n",
            "a: .nan\n",
            "<<: {a: 1}\nb: 2\n",
            "base: &b {a: 1}\nx:\n  <<: *b\n",
            "a: !!str 1\n",
            "a: 1\n---\nb: 2\n",
            "---\n---\na: 1\n",
            "a: 1\na: 2\n",
            "null: x\n",
            "true: x\n",
            "1.5: x\n",
            "- a\n- 1\n",
            "just a string\n",
            "42\n",
        ];
        let accepted = cases.iter().filter(|c| check(c, "case")).count();
        eprintln!("fast reader took {accepted} of {} cases", cases.len());
        assert!(accepted >= 14, "{accepted}");
        // Declined where the general reader is needed: merge keys, anchors, tags, later
        // documents, infinities (an error worded by the JSON step), non-string keys.
        for c in [
            "a: .inf\n",
            "<<: {a: 1}\nb: 2\n",
            "base: &b {a: 1}\n",
            "a: !!str 1\n",
            "a: 1\n---\nb: 2\n",
            "---\n---\na: 1\n",
            "true: x\n",
            "null: x\n",
            "1.5: x\n",
        ] {
            assert!(load_first(c).is_none(), "{c:?}");
        }
        let Some(Some(Value::Map(d))) = load_first("80: http\n0x10: hex\n") else {
            panic!("int keys declined");
        };
        assert_eq!(d.read().keys().collect::<Vec<_>>(), ["16", "80"]);
    }

    fn charts_root() -> PathBuf {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/charts");
        let root = std::env::var_os("FERROFLUX_SHARED")
            .map(|s| PathBuf::from(s).join("corpus/charts"))
            .unwrap_or(root);
        assert!(root.is_dir(), "chart corpus missing at {}", root.display());
        root
    }

    /// Every `.yaml`/`.yml` file under the chart corpus (templates included: those that are
    /// not YAML must be declined or rejected by both readers).
    fn chart_yaml_files() -> Vec<PathBuf> {
        let mut files = Vec::new();
        let mut stack = vec![charts_root()];
        while let Some(d) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&d) else {
                continue;
            };
            for e in entries.flatten() {
                let p = e.path();
                let Ok(ft) = e.file_type() else { continue };
                if ft.is_dir() {
                    stack.push(p);
                } else if ft.is_file() && p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
                    files.push(p);
                }
            }
        }
        files.sort();
        files
    }

    /// Values files, `Chart.yaml` and the like, as opposed to templates.
    fn is_data_file(p: &Path) -> bool {
        !p.components().any(|c| c.as_os_str() == "templates")
    }

    /// Every YAML file of the chart corpus: where the fast reader accepts, the general one
    /// agrees; nearly all values files and charts' metadata take the fast reader.
    #[test]
    fn corpus_chart_files_read_identically() {
        let (mut data, mut data_fast, mut data_bytes, mut data_fast_bytes) = (0, 0, 0, 0);
        let (mut tpl, mut tpl_fast) = (0, 0);
        for f in chart_yaml_files() {
            let Ok(text) = std::fs::read_to_string(&f) else {
                continue;
            };
            // helm strips a byte-order mark before reading.
            let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
            let fast = check(text, &f.display().to_string());
            if is_data_file(&f) {
                data += 1;
                data_bytes += text.len();
                if fast {
                    data_fast += 1;
                    data_fast_bytes += text.len();
                } else {
                    eprintln!(
                        "declined: {} ({} KiB): {:?}",
                        f.display(),
                        text.len() / 1024,
                        ferroflux_fastyaml::parse_or_decline(text, &mut GoSink).err()
                    );
                }
            } else if general(text).is_ok() {
                tpl += 1;
                tpl_fast += usize::from(fast);
            }
        }
        eprintln!(
            "fast YAML reader: {data_fast} of {data} values/chart files ({} of {} KiB); \
             {tpl_fast} of {tpl} templates that parse as YAML",
            data_fast_bytes / 1024,
            data_bytes / 1024
        );
        assert!(data > 100, "{data} files");
        assert!(data_fast * 10 >= data * 9, "{data_fast} of {data}");
        assert!(
            data_fast_bytes * 10 >= data_bytes * 9,
            "{data_fast_bytes} of {data_bytes} bytes"
        );
    }

    /// Mutated values files (characters inserted or deleted, lines duplicated or
    /// re-indented): wherever the fast reader accepts, the general one accepts and agrees.
    #[test]
    fn mutated_values_never_read_differently() {
        let corpus: Vec<String> = chart_yaml_files()
            .into_iter()
            .filter(|p| is_data_file(p))
            .filter(|p| std::fs::metadata(p).is_ok_and(|m| m.len() < 4000))
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .collect();
        let own = [
            "image:\n  registry: docker.io # c\n  tag: 1.2.3\n  pullPolicy: IfNotPresent\nports: {http: 80, 'https': \"443\"}\nreplicas: 3\nratio: 0.5\nenabled: yes\nannotations: {}\nlist: []\nblank:\nnote: |\n  line\n    more\n\n  end\nfolded: >-\n  a\n  b\n",
            "a:\n- b: |2-\n\n\n    x\n  c:\n    'q'\n  d:\n    {}\n  e:\n    [1,\n    2]\n- 'k': \"v\"\n  \"l\":\n  - x\n  80: n\n",
            "x: 0777\ny: 0x1f\nz: 1e3\nw: -.5\nt: 2001-12-14\nu: ~\nv: Null\nq: 'it''s\n  long'\n",
        ];
        let seeds: Vec<&str> = own
            .iter()
            .copied()
            .chain(corpus.iter().map(String::as_str))
            .collect();
        assert!(seeds.len() > 50, "{} seeds", seeds.len());
        let alphabet = b" :-#'\"\n|>[]{},!&*?x1\t.~<0e";
        // FERROFLUX_FASTYAML_ROUNDS / _SEED run longer or different searches by hand.
        let env = |k: &str| std::env::var(k).ok().and_then(|v| v.parse::<u64>().ok());
        let rounds = env("FERROFLUX_FASTYAML_ROUNDS").unwrap_or(20000) as usize;
        let seed = env("FERROFLUX_FASTYAML_SEED").unwrap_or(0x9e37_79b9_7f4a_7c15);
        let mut accepted = 0;
        for (round, text) in
            ferroflux_fastyaml::mutations::mutations(&seeds, alphabet, rounds, seed)
        {
            if check(&text, &format!("round {round}")) {
                accepted += 1;
            }
        }
        eprintln!("fast reader accepted {accepted} of {rounds} mutations");
        assert!(accepted * 10 > rounds, "{accepted} of {rounds}");
    }
}
