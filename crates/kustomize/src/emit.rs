//! YAML output byte for byte as `kustomize build` prints it.
//!
//! kustomize renders each object as JSON and converts that with `sigs.k8s.io/yaml`'s
//! `JSONToYAML`, i.e. the go-yaml v2 emitter: mapping keys in go-yaml's "natural" order, block
//! sequences not indented under their key, strings plain when they would read back as strings
//! under YAML 1.1 rules (else double-quoted), single-quoted when they start with an indicator,
//! literal blocks (`|`) for multi-line text, and plain or quoted text folded at 80 columns.
//! Numbers went through JSON, so integral floats print as integers.

use crate::value::Value;
use ferroflux_goyaml::{
    Style, json_float_scalar, natural_cmp, needs_escape, push_escape, requested_style, select_style,
};

const BEST_WIDTH: usize = 80;

/// Render one object (a YAML document without the `---` line).
pub fn to_string(v: &Value) -> String {
    let mut e = Emitter {
        out: String::new(),
        column: 0,
    };
    e.node(v, 0, Ctx::Top);
    if !e.out.ends_with('\n') {
        e.out.push('\n');
    }
    e.out
}

#[derive(Clone, Copy, PartialEq)]
enum Ctx {
    /// The document root.
    Top,
    /// The value of a mapping entry (after `key:`).
    MapValue,
    /// An item of a block sequence (after `- `).
    SeqItem,
}

struct Emitter {
    out: String,
    column: usize,
}

impl Emitter {
    fn write(&mut self, s: &str) {
        self.out.push_str(s);
        match s.rfind('\n') {
            Some(i) => self.column = s[i + 1..].chars().count(),
            None => self.column += s.chars().count(),
        }
    }

    fn newline_indent(&mut self, indent: usize) {
        self.out.push('\n');
        for _ in 0..indent {
            self.out.push(' ');
        }
        self.column = indent;
    }

    /// Write `v` at block indentation `indent` (the column its lines start at).
    fn node(&mut self, v: &Value, indent: usize, ctx: Ctx) {
        match v {
            Value::Map(m) if !m.is_empty() => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort_by(|a, b| natural_cmp(a, b));
                for (i, k) in keys.into_iter().enumerate() {
                    if i > 0 || ctx == Ctx::MapValue {
                        self.newline_indent(indent);
                    }
                    self.scalar_str(k, indent, true);
                    self.write(":");
                    let child = &m[k];
                    self.value_after_key(child, indent);
                }
            }
            Value::Seq(s) if !s.is_empty() => {
                for (i, item) in s.iter().enumerate() {
                    if i > 0 || ctx == Ctx::MapValue {
                        self.newline_indent(indent);
                    }
                    self.write("-");
                    match item {
                        Value::Map(m) if !m.is_empty() => {
                            self.write(" ");
                            self.node(item, indent + 2, Ctx::SeqItem);
                        }
                        Value::Seq(s2) if !s2.is_empty() => {
                            self.write(" ");
                            self.node(item, indent + 2, Ctx::SeqItem);
                        }
                        _ => {
                            self.write(" ");
                            self.scalar(item, indent + 2);
                        }
                    }
                }
            }
            _ => self.scalar(v, indent),
        }
    }

    /// After `key:`: nested collections go on the next lines, scalars after a space.
    fn value_after_key(&mut self, v: &Value, indent: usize) {
        match v {
            Value::Map(m) if !m.is_empty() => self.node(v, indent + 2, Ctx::MapValue),
            // go-yaml v2 does not indent a sequence under its key.
            Value::Seq(s) if !s.is_empty() => self.node(v, indent, Ctx::MapValue),
            _ => {
                self.write(" ");
                self.scalar(v, indent + 2);
            }
        }
    }

    fn scalar(&mut self, v: &Value, indent: usize) {
        match v {
            Value::Null => self.write("null"),
            Value::Bool(b) => self.write(if *b { "true" } else { "false" }),
            Value::Int(i) => self.write(&i.to_string()),
            Value::UInt(u) => self.write(&u.to_string()),
            Value::Float(f) => self.write(&float_text(*f)),
            Value::String(s) => self.scalar_str(s, indent, false),
            Value::Map(_) => self.write("{}"),
            Value::Seq(_) => self.write("[]"),
        }
    }

    fn scalar_str(&mut self, s: &str, indent: usize, key: bool) {
        match select_style(s, requested_style(s), key) {
            Style::Plain => self.write_plain(s, indent),
            Style::Single => self.write_single(s, indent),
            Style::Double => self.write_double(s, indent),
            Style::Literal => self.write_literal(s, indent),
        }
    }

    fn write_plain(&mut self, s: &str, indent: usize) {
        let chars: Vec<char> = s.chars().collect();
        let mut spaces = false;
        let mut buf = String::new();
        for (i, &c) in chars.iter().enumerate() {
            if c == ' ' {
                let next_space = chars.get(i + 1) == Some(&' ');
                if !spaces && self.column > BEST_WIDTH && !next_space {
                    self.flush(&mut buf);
                    self.newline_indent(indent);
                } else {
                    buf.push(c);
                    self.column += 1;
                }
                spaces = true;
            } else {
                buf.push(c);
                self.column += 1;
                spaces = false;
            }
        }
        self.flush(&mut buf);
    }

    fn flush(&mut self, buf: &mut String) {
        self.out.push_str(buf);
        buf.clear();
    }

    fn write_single(&mut self, s: &str, indent: usize) {
        self.write("'");
        let chars: Vec<char> = s.chars().collect();
        let mut spaces = false;
        let mut buf = String::new();
        for (i, &c) in chars.iter().enumerate() {
            if c == ' ' {
                let last = i + 1 == chars.len();
                let next_space = chars.get(i + 1) == Some(&' ');
                if !spaces && self.column > BEST_WIDTH && i != 0 && !last && !next_space {
                    self.flush(&mut buf);
                    self.newline_indent(indent);
                } else {
                    buf.push(c);
                    self.column += 1;
                }
                spaces = true;
            } else {
                if c == '\'' {
                    buf.push('\'');
                    self.column += 1;
                }
                buf.push(c);
                self.column += 1;
                spaces = false;
            }
        }
        self.flush(&mut buf);
        self.write("'");
    }

    fn write_double(&mut self, s: &str, indent: usize) {
        self.write("\"");
        let chars: Vec<char> = s.chars().collect();
        let mut spaces = false;
        let mut buf = String::new();
        for (i, &c) in chars.iter().enumerate() {
            if needs_escape(c) {
                self.column += push_escape(&mut buf, c);
                spaces = false;
            } else if c == ' ' {
                let last = i + 1 == chars.len();
                if !spaces && self.column > BEST_WIDTH && i != 0 && !last {
                    self.flush(&mut buf);
                    self.newline_indent(indent);
                    if chars.get(i + 1) == Some(&' ') {
                        self.write("\\");
                    }
                } else {
                    buf.push(c);
                    self.column += 1;
                }
                spaces = true;
            } else {
                buf.push(c);
                self.column += 1;
                spaces = false;
            }
        }
        self.flush(&mut buf);
        self.write("\"");
    }

    fn write_literal(&mut self, s: &str, indent: usize) {
        let mut header = String::from("|");
        if s.starts_with(' ') || s.starts_with('\n') {
            header.push('2');
        }
        let trailing = s.len() - s.trim_end_matches('\n').len();
        if trailing == 0 {
            header.push('-');
        } else if trailing > 1 || s == "\n" {
            header.push('+');
        }
        self.write(&header);
        let body = s.strip_suffix('\n').unwrap_or(s);
        for line in body.split('\n') {
            if line.is_empty() {
                self.out.push('\n');
                self.column = 0;
            } else {
                self.newline_indent(indent);
                self.write(line);
            }
        }
    }
}

/// A float as it prints after kustomize's JSON round trip (integral values as integers).
/// Real kustomize fails on infinities and NaN (`json: unsupported value`); they only come
/// from YAML input here, and print as YAML spells them.
fn float_text(f: f64) -> String {
    if f.is_finite() {
        json_float_scalar(f)
    } else if f.is_nan() {
        ".nan".into()
    } else if f > 0.0 {
        "+.inf".into()
    } else {
        "-.inf".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn y(s: &str) -> Value {
        serde_saphyr::from_str_with_options(s, crate::loader::yaml_options()).unwrap()
    }

    #[test]
    fn quoting_like_kustomize() {
        let cases = [
            ("8080", "\"8080\""),
            ("0755", "\"0755\""),
            ("yes", "\"yes\""),
            ("y", "\"y\""),
            ("1_000", "\"1_000\""),
            ("1:20", "\"1:20\""),
            ("2020-01-01", "\"2020-01-01\""),
            ("0o17", "\"0o17\""),
            ("", "\"\""),
            ("a #b", "'a #b'"),
            ("- dash", "'- dash'"),
            ("it's", "it's"),
            ("'s", "'''s'"),
            ("?q", "?q"),
            ("tab\there", "\"tab\\there\""),
            ("  leading", "'  leading'"),
            ("é unicode", "é unicode"),
            ("${PORT}", "${PORT}"),
        ];
        for (s, want) in cases {
            let mut e = Emitter {
                out: String::new(),
                column: 0,
            };
            e.scalar_str(s, 0, false);
            assert_eq!(e.out, want, "{s:?}");
        }
    }

    #[test]
    fn document_layout() {
        let v = y(
            "kind: ConfigMap\nmetadata: {name: x, labels: {}}\ndata:\n  s: \"multi\\nline\\n\"\n  r: \"a\\nb\"\n  h: \"  x\\ny\"\n  n: null\n  f: 1.0\n  g: 0.5\nlist:\n- a\n- {k: v, j: [1]}\n- []\n",
        );
        let want = "data:\n  f: 1\n  g: 0.5\n  h: |2-\n      x\n    y\n  \"n\": null\n  r: |-\n    a\n    b\n  s: |\n    multi\n    line\nkind: ConfigMap\nlist:\n- a\n- j:\n  - 1\n  k: v\n- []\nmetadata:\n  labels: {}\n  name: x\n";
        assert_eq!(to_string(&v), want);
    }

    #[test]
    fn long_plain_strings_fold_at_80_columns() {
        let v = y(
            "t: a very long string with spaces that goes beyond eighty characters in width for sure, yes really long indeed\n",
        );
        assert_eq!(
            to_string(&v),
            "t: a very long string with spaces that goes beyond eighty characters in width for\n  sure, yes really long indeed\n"
        );
    }

    /// Strings near go-yaml's resolution rules and floats across the JSON round trip's
    /// int/float split; `want` is `kustomize build` 5.8.2's output for `input`.
    #[test]
    fn edge_scalars_print_as_kustomize_does() {
        let input = r#"apiVersion: x/v1
kind: Foo
metadata:
  name: x
data:
  a: "2020-13-01"
  b: "1e999"
  c: ".5e999"
  d: "++5"
  e: "0x+1"
  f: "0b+101"
  h: "2020-01-01 10:00:00Z"
  j: "2020-01-01T25:00:00"
  k: "-0b11111111111111111111111111111111111111111111111111111111111111111"
  l: "1:60"
  m: "+.inf"
  n: "0b"
  o: "2020-01-01T10:00:00+0100"
  p: "2020-01-32"
  q: "2020-01-01 10:00:00.5"
spec:
  b: 1e20
  c: 1.0e+6
  e: 12345678901234567890
  f: 0.000001
  g: 1e19
  m: 1152921504606846976.0
  n: -0.0
  o: 123456789.125
  p: 1e-7
"#;
        let want = r#"apiVersion: x/v1
data:
  a: 2020-13-01
  b: 1e999
  c: .5e999
  d: ++5
  e: 0x+1
  f: "0b+101"
  h: 2020-01-01 10:00:00Z
  j: 2020-01-01T25:00:00
  k: -0b11111111111111111111111111111111111111111111111111111111111111111
  l: 1:60
  m: "+.inf"
  "n": 0b
  o: 2020-01-01T10:00:00+0100
  p: 2020-01-32
  q: "2020-01-01 10:00:00.5"
kind: Foo
metadata:
  name: x
spec:
  b: 1e+20
  c: 1000000
  e: 12345678901234567890
  f: 1e-06
  g: 10000000000000000000
  m: 1152921504606847000
  "n": 0
  o: 1.23456789125e+08
  p: 1e-07
"#;
        assert_eq!(to_string(&y(input)), want);
    }
}
