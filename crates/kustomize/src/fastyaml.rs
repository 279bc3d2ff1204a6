//! kustomize's side of the fast YAML reader (crates/fastyaml): builds [`Value`]s, records
//! blank values (`key:` with nothing after it) as it goes, and has plain scalars that might
//! be non-strings (numbers, booleans, nulls) resolved by serde-saphyr itself with the
//! caller's options, so typing cannot drift from the general parser. Whatever the reader
//! declines is parsed with serde-saphyr as before. `tests` compares both readers on every
//! corpus file.

use std::borrow::Cow;

use ferroflux_fastyaml::{Sink, maybe_special};

use crate::value::{Mapping, Value};

/// Documents and, per document, the paths of blank mapping values.
pub(crate) type Parsed = ferroflux_fastyaml::Parsed<Value>;

/// Parse `text` if it stays within the supported part of YAML; `None` means "use the general
/// parser". `opts` are the options the general parser would use (they decide how plain
/// scalars such as `yes` or `0755` resolve).
pub(crate) fn parse(text: &str, opts: &serde_saphyr::Options) -> Option<Parsed> {
    ferroflux_fastyaml::parse(text, &mut KSink { opts })
}

/// Builds kustomize values; plain scalars resolve as serde-saphyr reads them with `opts`.
struct KSink<'o> {
    opts: &'o serde_saphyr::Options,
}

impl Sink for KSink<'_> {
    type Value = Value;
    type Map = Mapping;
    const BLANKS: bool = true;

    fn null(&mut self) -> Value {
        Value::Null
    }

    fn string(&mut self, s: Cow<'_, str>) -> Value {
        Value::String(s.into_owned())
    }

    /// Text that can only be a string is taken as is; anything that might be a number,
    /// boolean or null is resolved by the general parser.
    fn plain(&mut self, s: &str) -> Option<Value> {
        resolve(s, self.opts)
    }

    /// Keys that could resolve to anything but the same string decline (`n` reads back as
    /// itself under YAML 1.2 rules, not under 1.1; `80` never does).
    fn key(&mut self, k: &str) -> Option<String> {
        if maybe_special(k) && !matches!(resolve(k, self.opts), Some(Value::String(s)) if s == k) {
            return None;
        }
        Some(k.to_string())
    }

    fn seq(&mut self, items: Vec<Value>) -> Value {
        Value::Seq(items)
    }

    fn new_map(&mut self) -> Mapping {
        Mapping::default()
    }

    fn insert(&mut self, m: &mut Mapping, key: String, v: Value) -> bool {
        m.insert(key, v).is_none()
    }

    fn map(&mut self, m: Mapping) -> Value {
        Value::Map(m)
    }
}

/// Type a plain scalar as the general parser does.
fn resolve(s: &str, opts: &serde_saphyr::Options) -> Option<Value> {
    let b = s.as_bytes();
    if b.first().is_some_and(u8::is_ascii_digit)
        && b.len() <= 18
        && b.iter().all(u8::is_ascii_digit)
        && (b.len() == 1 || b[0] != b'0')
    {
        return s.parse::<i64>().map(Value::Int).ok();
    }
    if !maybe_special(s) {
        return Some(Value::String(s.to_string()));
    }
    if s.starts_with("---") || s.starts_with("...") {
        return None;
    }
    match serde_saphyr::from_str_with_options::<Value>(s, opts.clone()) {
        Ok(v) if !matches!(v, Value::Map(_) | Value::Seq(_)) => Some(v),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loader::{yaml_options, yaml11_options};

    fn parse_or_decline(
        text: &str,
        opts: &serde_saphyr::Options,
    ) -> Result<Parsed, ferroflux_fastyaml::Decline> {
        ferroflux_fastyaml::parse_or_decline(text, &mut KSink { opts })
    }

    /// Where two values first differ, as a path and both sides (for readable failures).
    fn first_diff(a: &Value, b: &Value, path: &str) -> Option<String> {
        match (a, b) {
            (Value::Map(x), Value::Map(y)) => {
                for (k, v) in x {
                    match y.get(k) {
                        Some(w) => {
                            if let Some(d) = first_diff(v, w, &format!("{path}.{k}")) {
                                return Some(d);
                            }
                        }
                        None => return Some(format!("{path}.{k}: only in fast")),
                    }
                }
                (x.len() != y.len()).then(|| {
                    format!(
                        "{path}: keys {:?} vs {:?}",
                        x.keys().collect::<Vec<_>>(),
                        y.keys().collect::<Vec<_>>()
                    )
                })
            }
            (Value::Seq(x), Value::Seq(y)) => {
                for (i, (v, w)) in x.iter().zip(y).enumerate() {
                    if let Some(d) = first_diff(v, w, &format!("{path}[{i}]")) {
                        return Some(d);
                    }
                }
                (x.len() != y.len()).then(|| format!("{path}: {} vs {} items", x.len(), y.len()))
            }
            _ => (a != b).then(|| format!("{path}: fast {a:?} vs general {b:?}")),
        }
    }

    fn docs_diff(a: &[Value], b: &[Value]) -> Option<String> {
        if a.len() != b.len() {
            return Some(format!("{} vs {} documents", a.len(), b.len()));
        }
        a.iter()
            .zip(b)
            .enumerate()
            .find_map(|(i, (x, y))| first_diff(x, y, &format!("doc{i}")))
    }

    /// Both readers on `text`: when the fast path accepts, it must give the same documents.
    fn same(text: &str) -> bool {
        let slow: Result<Vec<Value>, _> =
            serde_saphyr::from_multiple_with_options(text, yaml_options());
        match parse(text, &yaml_options()) {
            None => false,
            Some(p) => {
                let slow = slow
                    .unwrap_or_else(|e| panic!("fast path accepted invalid YAML {text:?}: {e}"));
                if let Some(d) = docs_diff(&p.docs, &slow) {
                    panic!("{text:?}: {d}");
                }
                assert_eq!(p.blanks.len(), p.docs.len());
                true
            }
        }
    }

    #[test]
    fn manifests_parse_as_the_general_parser_reads_them() {
        let cases = [
            "",
            "a: 1\n",
            "a: 1",
            "---\na: 1\n",
            "a: 1\n---\nb: 2\n",
            "a: 1\n---\n",
            "---\n---\na: b\n",
            "# c\n\na: b # c\nc: 'x y' # z\n",
            "a:\n  b:\n    c: d\n  e: f\ng: h\n",
            "a:\n- b\n- c: d\n  e: f\n- - x\n  - y\nz: 1\n",
            "a:\n  - 1\n  - 2.5\n  - true\n  - null\n  - ~\n  - -3\n  - 0x1F\n  - 0755\n  - 1e3\n  - -.5\n",
            "a: yes\nb: no\nc: on\nd: y\ne: True\nf: NULL\ng: 007\nh: 12345678901234567890\n",
            "s: 'it''s'\nt: \"q \\\"x\\\" \\u00e9 \\t \\\\ \\/ \\x41\"\nu: \"\"\nv: ''\n",
            "d: 'one\n  two\n\n  three'\n",
            "d: \"one  \n  two\n\n\n  three\"\n",
            "d: plain\n  continued\n  and more\n\n  after empty\ne: 1\n",
            "l: |\n  line 1\n    more\n\n  line 3\nn: x\n",
            "l: |-\n  a\n  b\n\n\nn: x\n",
            "l: |+\n  a\n\n\nn: x\n",
            "f: >\n  folded\n  text\n\n  para\nn: x\n",
            "f: >-\n  a\n  b\n",
            "l: |\n\n  after empty\n",
            "l: |\n  no final line break",
            "l: >-\n  no final\n  line break",
            "e: |\nn: x\n",
            "x: [a, 'b', \"c\", 1, [2, 3], {k: v}]\ny: {}\nz: []\nw: {a: 1, b: [x]}\n",
            "url: http://example.com:8080/x\nk8s.io/name: a:b\n",
            "a: b\n\n\n---\n# only a comment\n---\nc: d\n",
            "items:\n- name: x\n  value: |\n    text\n- name: y\n",
            "k:\n\nv: 1\n",
            "k: # comment\n  x: 1\n",
            "a: \"x\\ny\"\n",
            "'quoted key': 1\n\"dq key\": 2\n",
            "a: -\n",
            "a: b: c\n",
            "a:\n  b: 1\n c: 2\n",
            "a: 1\na: 2\n",
            "a: &x 1\nb: *x\n",
            "a: !!str 1\n",
            "? a\n: b\n",
            "a: [1,\n 2]\n",
            "a:\tb\n",
            "a: 'unterminated\n",
            "%YAML 1.2\n---\na: 1\n",
            "a: 1\n...\n",
            "- a\n- b\n",
            "a: b\r\nc: d\r\n",
            "\u{feff}a: b\n",
            "a: |2\n   x\n",
            "key: 'x' y\n",
            "a:\n  - b\n  -\n  - c\n",
            "a: 1 # c\n  b\n",
            "a: x\n# c\n  y\n",
            "a: '---'\nb: ...x\nc: --x\n",
            "emoji: \"\\U0001F600\"\n",
            "a: x #c\n",
            "a: x#c\n",
        ];
        let mut accepted = 0;
        for c in cases {
            if same(c) {
                accepted += 1;
            } else {
                eprintln!(
                    "declined case {c:?}: {:?}",
                    parse_or_decline(c, &yaml_options()).err()
                );
            }
        }
        // Most manifest-shaped cases take the fast path; the rest must decline (not differ).
        assert!(accepted >= 35, "only {accepted} accepted");
    }

    #[test]
    fn blank_values_are_recorded_with_their_paths() {
        let text = "a:\n  b:\n  c: null\n  d: ~\n  e: ''\nl:\n- x:\n---\nf:\n";
        let p = parse(text, &yaml_options()).expect("fast path");
        assert_eq!(p.blanks.len(), 2);
        assert_eq!(p.blanks[0], vec![vec!["a", "b"], vec!["l", "0", "x"]]);
        assert_eq!(p.blanks[1], vec![vec!["f"]]);
        assert_eq!(p.blanks, crate::loader::blank_null_paths(text));
    }

    #[test]
    fn plain_scalars_resolve_with_the_callers_options() {
        let p = parse("a: yes\nb: 0755\n", &yaml11_options()).expect("fast path");
        let slow: Vec<Value> =
            serde_saphyr::from_multiple_with_options("a: yes\nb: 0755\n", yaml11_options())
                .unwrap();
        assert_eq!(p.docs, slow);
        assert_eq!(p.docs[0].get("a"), Some(&Value::Bool(true)));
        let p = parse("a: yes\n", &yaml_options()).expect("fast path");
        assert_eq!(p.docs[0].get("a"), Some(&Value::String("yes".into())));
    }

    #[test]
    fn invalid_input_declines() {
        for bad in [
            "a: [\n",
            "a: b: c\n",
            "a: 1\na: 2\n",
            "a:\n  b: 1\n c: 2\n",
            "a: 'x\n",
        ] {
            assert!(parse(bad, &yaml_options()).is_none(), "{bad:?}");
        }
    }

    /// Every `.yaml`/`.yml` file of the shared corpus.
    fn corpus_yaml_files() -> Vec<std::path::PathBuf> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
        let root = std::env::var_os("FERROFLUX_SHARED")
            .map(|s| std::path::PathBuf::from(s).join("corpus"))
            .unwrap_or(root);
        assert!(root.is_dir(), "corpus missing at {}", root.display());
        let mut files = Vec::new();
        let mut stack = vec![root];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap().flatten() {
                let p = e.path();
                let ft = e.file_type().unwrap();
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

    /// Mutated manifests (characters inserted, deleted, lines duplicated or re-indented):
    /// wherever the fast path accepts, the general parser must accept too and agree.
    #[test]
    fn mutated_manifests_never_read_differently() {
        // Small corpus files join the hand-written seeds.
        let corpus: Vec<String> = corpus_yaml_files()
            .into_iter()
            .filter(|p| std::fs::metadata(p).is_ok_and(|m| m.len() < 3000))
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .collect();
        let own = [
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x # c\n  labels: {a: b, 'c': \"d\"}\ndata:\n  k: |\n    line\n      more\n\n  j: >-\n    folded\n    text\n  q: 'it''s\n    long'\n  n: 0755\n  e:\n",
            "a:\n- b: |2-\n\n\n    x\n  c:\n    'q'\n  d:\n    {}\n  e:\n    [1,\n    2]\n- 'k': \"v\"\n  \"l\":\n  - x\n",
            "spec:\n  containers:\n  - name: a\n    args: [\"x\", y,\n      z]\n    env:\n    - name: B\n      value: \"1\\n2\"\n  - - n\n    - m\n  description: plain\n    continued\n\n    more\n---\nkind: X\n",
        ];
        let seeds: Vec<&str> = own
            .iter()
            .copied()
            .chain(corpus.iter().map(String::as_str))
            .collect();
        assert!(seeds.len() > 100, "{} seeds", seeds.len());
        let alphabet = b" :-#'\"\n|>[]{},!&*?x1\t.~";
        let mut accepted = 0;
        for (_, text) in
            ferroflux_fastyaml::mutations::mutations(&seeds, alphabet, 20000, 0x2545_f491_4f6c_dd1d)
        {
            let Some(p) = parse(&text, &yaml_options()) else {
                continue;
            };
            accepted += 1;
            let slow: Vec<Value> = serde_saphyr::from_multiple_with_options(&text, yaml_options())
                .unwrap_or_else(|e| panic!("fast path accepted invalid YAML {text:?}: {e}"));
            if let Some(d) = docs_diff(&p.docs, &slow) {
                panic!("{text:?}: {d}");
            }
            let blanks = crate::loader::blank_null_paths(&text);
            if blanks.len() == p.docs.len() {
                assert_eq!(p.blanks, blanks, "{text:?}");
            }
        }
        assert!(accepted > 2000, "{accepted}");
    }

    /// Every YAML file of the shared corpus: where the fast path accepts, it agrees with the
    /// general parser, blanks included; most files are accepted.
    #[test]
    fn corpus_files_read_identically() {
        let files = corpus_yaml_files();
        let (mut total, mut accepted, mut bytes_total, mut bytes_accepted) = (0, 0, 0, 0);
        for f in &files {
            let Ok(text) = std::fs::read_to_string(f) else {
                continue;
            };
            let slow: Result<Vec<Value>, _> =
                serde_saphyr::from_multiple_with_options(&text, yaml_options());
            let Ok(slow) = slow else {
                assert!(
                    parse(&text, &yaml_options()).is_none(),
                    "fast path accepted {} which the general parser rejects",
                    f.display()
                );
                continue;
            };
            total += 1;
            bytes_total += text.len();
            let fast = parse(&text, &yaml_options());
            if fast.is_none() {
                eprintln!(
                    "declined: {} ({} KiB): {:?}",
                    f.display(),
                    text.len() / 1024,
                    parse_or_decline(&text, &yaml_options()).err()
                );
            }
            if let Some(p) = fast {
                accepted += 1;
                bytes_accepted += text.len();
                if let Some(d) = docs_diff(&p.docs, &slow) {
                    panic!("{}: {d}", f.display());
                }
                let blanks = crate::loader::blank_null_paths(&text);
                if blanks.len() == p.docs.len() {
                    assert_eq!(p.blanks, blanks, "{}", f.display());
                }
            }
        }
        eprintln!(
            "fast YAML path: {accepted} of {total} corpus files ({} of {} KiB)",
            bytes_accepted / 1024,
            bytes_total / 1024
        );
        assert!(total > 100, "{total} files");
        assert!(
            bytes_accepted * 10 >= bytes_total * 9,
            "{bytes_accepted} of {bytes_total} bytes"
        );
    }
}
