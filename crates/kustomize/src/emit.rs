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
    Style, json_float_scalar, needs_escape, push_escape, scalar_style, sort_naturally,
};
use std::fmt::Write as _;

const BEST_WIDTH: usize = 80;

/// Render one object (a YAML document without the `---` line).
pub fn to_string(v: &Value) -> String {
    let mut out = String::new();
    push_document(&mut out, v);
    out
}

/// Append one object (a YAML document without the `---` line) to `out`, which is empty or
/// ends with a line break; a whole stream is written into one buffer this way.
pub fn push_document(out: &mut String, v: &Value) {
    let mut e = Emitter {
        line_start: out.len(),
        out: std::mem::take(out),
        keys: Vec::new(),
    };
    if e.out.capacity() == 0 {
        e.out.reserve(16 * 1024);
    }
    e.node(v, 0, Ctx::Top);
    if !e.out.ends_with('\n') {
        e.out.push('\n');
    }
    *out = e.out;
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

/// The column folding is decided on is the number of characters since the last line break
/// of `out`. Most scalars are too short to fold wherever they start, so the column is not
/// kept up to date on every write: only the start of the current line is, and the column is
/// counted from it when a scalar might fold.
struct Emitter<'a> {
    out: String,
    /// Byte offset in `out` just after its last line break.
    line_start: usize,
    /// Sorted mapping entries of the maps being written, innermost last (one buffer for the
    /// whole document instead of a vector per mapping).
    keys: Vec<(&'a str, &'a Value)>,
}

impl<'a> Emitter<'a> {
    /// Append text holding no line break.
    fn write(&mut self, s: &str) {
        self.out.push_str(s);
    }

    /// The current column, in characters.
    fn column(&self) -> usize {
        let line = &self.out[self.line_start..];
        if line.is_ascii() {
            line.len()
        } else {
            line.chars().count()
        }
    }

    /// An upper bound of the current column (its length in bytes).
    fn column_bound(&self) -> usize {
        self.out.len() - self.line_start
    }

    fn newline_indent(&mut self, indent: usize) {
        self.out.push('\n');
        self.line_start = self.out.len();
        const SPACES: &str = "                                                                ";
        let mut left = indent;
        while left > 0 {
            let n = left.min(SPACES.len());
            self.out.push_str(&SPACES[..n]);
            left -= n;
        }
    }

    /// Write `v` at block indentation `indent` (the column its lines start at).
    fn node(&mut self, v: &'a Value, indent: usize, ctx: Ctx) {
        match v {
            Value::Map(m) if !m.is_empty() => {
                let start = self.keys.len();
                self.keys.extend(m.iter().map(|(k, v)| (k.as_str(), v)));
                sort_naturally(&mut self.keys[start..], |e| e.0);
                for i in 0..m.len() {
                    // Nested maps push their entries after ours and remove them when done.
                    let (k, child) = self.keys[start + i];
                    if i > 0 || ctx == Ctx::MapValue {
                        self.newline_indent(indent);
                    }
                    self.scalar_str(k, indent, true);
                    self.write(":");
                    self.value_after_key(child, indent);
                }
                self.keys.truncate(start);
            }
            Value::Seq(s) if !s.is_empty() => {
                for (i, item) in s.iter().enumerate() {
                    if i > 0 || ctx == Ctx::MapValue {
                        self.newline_indent(indent);
                    }
                    self.write("- ");
                    match item {
                        Value::Map(m) if !m.is_empty() => {
                            self.node(item, indent + 2, Ctx::SeqItem);
                        }
                        Value::Seq(s2) if !s2.is_empty() => {
                            self.node(item, indent + 2, Ctx::SeqItem);
                        }
                        _ => self.scalar(item, indent + 2),
                    }
                }
            }
            _ => self.scalar(v, indent),
        }
    }

    /// After `key:`: nested collections go on the next lines, scalars after a space.
    fn value_after_key(&mut self, v: &'a Value, indent: usize) {
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
            // Writing into a String can not fail.
            Value::Int(i) => {
                let _ = write!(self.out, "{i}");
            }
            Value::UInt(u) => {
                let _ = write!(self.out, "{u}");
            }
            Value::Float(f) => self.write(&float_text(*f)),
            Value::String(s) => self.scalar_str(s, indent, false),
            Value::Map(_) => self.write("{}"),
            Value::Seq(_) => self.write("[]"),
        }
    }

    fn scalar_str(&mut self, s: &str, indent: usize, key: bool) {
        match scalar_style(s, key) {
            Style::Plain => self.write_plain(s, indent),
            Style::Single => self.write_single(s, indent),
            Style::Double => self.write_double(s, indent),
            Style::Literal => self.write_literal(s, indent),
        }
    }

    /// Plain text, folded at a single space once past [`BEST_WIDTH`] (the space becomes the
    /// line break).
    fn write_plain(&mut self, s: &str, indent: usize) {
        // A space at character i is checked at column start + i < start + len.
        if self.column_bound() + s.len() <= BEST_WIDTH + 1 || !s.as_bytes().contains(&b' ') {
            self.out.push_str(s);
            return;
        }
        let b = s.as_bytes();
        let ascii = s.is_ascii();
        // The column at byte `at` of `s`; only spaces matter, so it is counted from one to
        // the next.
        let (mut at, mut column) = (0, self.column());
        let mut seg = 0;
        for i in (0..b.len()).filter(|&i| b[i] == b' ') {
            column += if ascii {
                i - at
            } else {
                s[at..i].chars().count()
            };
            at = i;
            let after_space = i > 0 && b[i - 1] == b' ';
            let next_space = b.get(i + 1) == Some(&b' ');
            if !after_space && column > BEST_WIDTH && !next_space {
                self.out.push_str(&s[seg..i]);
                seg = i + 1;
                self.newline_indent(indent);
                (at, column) = (i + 1, indent);
            }
        }
        self.out.push_str(&s[seg..]);
    }

    /// `'...'` with `'` doubled, folded like plain text but never at the first or last
    /// character.
    fn write_single(&mut self, s: &str, indent: usize) {
        self.out.push('\'');
        // A space at character i is checked at a column below start + 1 + 2 * len.
        if self.column_bound() + 2 * s.len() <= BEST_WIDTH || !s.as_bytes().contains(&b' ') {
            push_doubling_quotes(&mut self.out, s);
            self.out.push('\'');
            return;
        }
        let mut column = self.column();
        let mut seg = 0;
        let mut spaces = false;
        let mut chars = s.char_indices().peekable();
        let mut first = true;
        while let Some((i, c)) = chars.next() {
            if c == ' ' {
                let next = chars.peek().map(|&(_, n)| n);
                let last = next.is_none();
                let next_space = next == Some(' ');
                if !spaces && column > BEST_WIDTH && !first && !last && !next_space {
                    push_doubling_quotes(&mut self.out, &s[seg..i]);
                    seg = i + 1;
                    self.newline_indent(indent);
                    column = indent;
                } else {
                    column += 1;
                }
                spaces = true;
            } else {
                column += if c == '\'' { 2 } else { 1 };
                spaces = false;
            }
            first = false;
        }
        push_doubling_quotes(&mut self.out, &s[seg..]);
        self.out.push('\'');
    }

    /// `"..."` with libyaml's escapes, folded at a space past [`BEST_WIDTH`] (not at the
    /// first or last character; a following space is kept by escaping the line break).
    fn write_double(&mut self, s: &str, indent: usize) {
        self.out.push('"');
        // Only spaces fold: without one the column does not matter.
        let mut column = if s.as_bytes().contains(&b' ') {
            self.column()
        } else {
            0
        };
        let mut seg = 0;
        let mut spaces = false;
        let mut chars = s.char_indices().peekable();
        let mut first = true;
        while let Some((i, c)) = chars.next() {
            if needs_escape(c) {
                self.out.push_str(&s[seg..i]);
                seg = i + c.len_utf8();
                column += push_escape(&mut self.out, c);
                spaces = false;
            } else if c == ' ' {
                let next = chars.peek().map(|&(_, n)| n);
                if !spaces && column > BEST_WIDTH && !first && next.is_some() {
                    self.out.push_str(&s[seg..i]);
                    seg = i + 1;
                    self.newline_indent(indent);
                    column = indent;
                    if next == Some(' ') {
                        self.out.push('\\');
                        column += 1;
                    }
                } else {
                    column += 1;
                }
                spaces = true;
            } else {
                column += 1;
                spaces = false;
            }
            first = false;
        }
        self.out.push_str(&s[seg..]);
        self.out.push('"');
    }

    fn write_literal(&mut self, s: &str, indent: usize) {
        self.out.push('|');
        if s.starts_with(' ') || s.starts_with('\n') {
            self.out.push('2');
        }
        let trailing = s.len() - s.trim_end_matches('\n').len();
        if trailing == 0 {
            self.out.push('-');
        } else if trailing > 1 || s == "\n" {
            self.out.push('+');
        }
        let body = s.strip_suffix('\n').unwrap_or(s);
        // Lines are short: a plain byte walk finds their ends faster than a search per line.
        let mut start = 0;
        let ends = body.bytes().enumerate().filter(|&(_, c)| c == b'\n');
        for end in ends.map(|(i, _)| i).chain([body.len()]) {
            let line = &body[start..end];
            start = end + 1;
            if line.is_empty() {
                self.out.push('\n');
                self.line_start = self.out.len();
            } else {
                self.newline_indent(indent);
                self.out.push_str(line);
            }
        }
    }
}

/// Append `s` with every `'` doubled.
fn push_doubling_quotes(out: &mut String, s: &str) {
    let mut parts = s.split('\'');
    if let Some(p) = parts.next() {
        out.push_str(p);
    }
    for p in parts {
        out.push_str("''");
        out.push_str(p);
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
/// The emitter as first written (a column counted on every write, a key vector per
/// mapping), to check the faster one against byte for byte.
mod reference {
    use crate::value::Value;
    use ferroflux_goyaml::{
        Style, natural_cmp, needs_escape, push_escape, requested_style, select_style,
    };

    const BEST_WIDTH: usize = 80;

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
                Value::Float(f) => self.write(&super::float_text(*f)),
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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn y(s: &str) -> Value {
        serde_saphyr::from_str_with_options(s, crate::loader::yaml_options()).unwrap()
    }

    #[test]
    fn keys_without_a_consistent_order_do_not_crash_the_emitter() {
        // go-yaml's order has 1 < 01 < 0a but 0a < 1 (kustomize's own output then varies run
        // to run); every key must still come out once, the same way every time.
        for n in [5usize, 40] {
            let data: String = (0..n)
                .map(|i| {
                    format!(
                        "  \"{}{}\": v\n",
                        ["1", "01", "0a", "001", "0b"][i % 5],
                        "x".repeat(i / 5)
                    )
                })
                .collect();
            let v = y(&format!("kind: ConfigMap\ndata:\n{data}"));
            let out = to_string(&v);
            assert_eq!(out, to_string(&v));
            assert_eq!(out.matches(": v").count(), n, "{out}");
        }
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
                line_start: 0,
                keys: Vec::new(),
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

    /// Strings near the folding width (spaces, runs of spaces, quotes, escapes, non-ASCII
    /// text) as keys and values at several depths, in one stream buffer: the same bytes as
    /// the reference emitter.
    #[test]
    fn folding_and_quoting_match_the_reference_emitter() {
        // Half the strings from words that stay plain, half from all pieces.
        let words = [
            "a",
            "word",
            "longer-word",
            "é",
            "日本語",
            "x:y",
            "it's",
            "-",
        ];
        let pieces = [
            "a",
            "word",
            "longer-word",
            "é",
            "ü",
            "😀",
            "it's",
            "x:y",
            " ",
            "  ",
            "\t",
            "#",
            "\"q\"",
            ": ",
            "'",
            "\\",
            "日本語",
            "\n",
            "-",
        ];
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let mut text = |max: usize| {
            let mut s = String::new();
            let len = next(max);
            let pool: &[&str] = if next(2) == 0 { &words } else { &pieces };
            while s.chars().count() < len {
                s.push_str(pool[next(pool.len())]);
                if next(3) == 0 {
                    s.push(' ');
                }
            }
            s
        };
        let mut docs = Vec::new();
        for _ in 0..300 {
            let mut inner = crate::value::Mapping::default();
            for _ in 0..6 {
                inner.insert(text(40), Value::String(text(240)));
            }
            let items = vec![
                Value::String(text(200)),
                Value::Map(inner.clone()),
                Value::Seq(vec![Value::String(text(160))]),
            ];
            let mut top = crate::value::Mapping::default();
            top.insert(text(30), Value::String(text(240)));
            top.insert(text(30), Value::Seq(items));
            let mut deep = crate::value::Mapping::default();
            deep.insert(text(20), Value::Map(inner));
            top.insert(text(30), Value::Map(deep));
            docs.push(Value::Map(top));
        }
        let (mut ours, mut want) = (String::new(), String::new());
        for (i, d) in docs.iter().enumerate() {
            if i > 0 {
                ours.push_str("---\n");
                want.push_str("---\n");
            }
            push_document(&mut ours, d);
            want.push_str(&reference::to_string(d));
        }
        // Some text did fold, quoted and plain.
        assert!(want.contains("\n    ") && want.contains("\\\n"), "{want}");
        for (o, w) in ours.split("---\n").zip(want.split("---\n")) {
            assert_eq!(o, w);
        }
        assert_eq!(ours, want);
    }

    /// One space at every position of text ending around the folding width, after keys of
    /// several lengths, plain, single-quoted (with a doubled quote) and double-quoted (with an
    /// escape), ASCII and not: the same bytes as the reference emitter.
    #[test]
    fn folding_at_the_width_boundary_matches_the_reference_emitter() {
        let (mut ours, mut want) = (String::new(), String::new());
        for key_len in [1, 2, 5, 8] {
            for len in 70..92 {
                for space in 1..len - 1 {
                    for (lead, fill) in [("", 'a'), ("", 'é'), ("'", 'a'), ("\t", 'a'), ("\t", 'é')]
                    {
                        let text: String = lead
                            .chars()
                            .chain((0..len).map(|i| if i == space { ' ' } else { fill }))
                            .collect();
                        let mut m = crate::value::Mapping::default();
                        m.insert("k".repeat(key_len), Value::String(text));
                        let doc = Value::Map(m);
                        push_document(&mut ours, &doc);
                        want.push_str(&reference::to_string(&doc));
                    }
                }
            }
        }
        assert_eq!(ours, want);
    }
}
