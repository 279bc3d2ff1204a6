//! YAML output byte for byte as `kustomize build` prints it.
//!
//! kustomize renders each object as JSON and converts that with `sigs.k8s.io/yaml`'s
//! `JSONToYAML`, i.e. the go-yaml v2 emitter: mapping keys in go-yaml's "natural" order, block
//! sequences not indented under their key, strings plain when they would read back as strings
//! under YAML 1.1 rules (else double-quoted), single-quoted when they start with an indicator,
//! literal blocks (`|`) for multi-line text, and plain or quoted text folded at 80 columns.
//! Numbers went through JSON, so integral floats print as integers.

use crate::value::Value;
use std::cmp::Ordering;

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

/// go-yaml v2's ordering of mapping keys: runs of digits compare as numbers, letters after
/// other characters.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let ar: Vec<char> = a.chars().collect();
    let br: Vec<char> = b.chars().collect();
    let digit = |c: char| c.is_ascii_digit();
    for i in 0..ar.len().min(br.len()) {
        if ar[i] == br[i] {
            continue;
        }
        let al = ar[i].is_alphabetic();
        let bl = br[i].is_alphabetic();
        if al && bl {
            return ar[i].cmp(&br[i]);
        }
        if al || bl {
            return if bl {
                Ordering::Less
            } else {
                Ordering::Greater
            };
        }
        let (mut an, mut bn) = (0i64, 0i64);
        if ar[i] == '0' || br[i] == '0' {
            let mut j = i;
            while j > 0 && digit(ar[j - 1]) {
                j -= 1;
                if ar[j] != '0' {
                    an = 1;
                    bn = 1;
                    break;
                }
            }
        }
        let mut ai = i;
        while ai < ar.len() && digit(ar[ai]) {
            an = an
                .wrapping_mul(10)
                .wrapping_add(i64::from(ar[ai] as u8 - b'0'));
            ai += 1;
        }
        let mut bi = i;
        while bi < br.len() && digit(br[bi]) {
            bn = bn
                .wrapping_mul(10)
                .wrapping_add(i64::from(br[bi] as u8 - b'0'));
            bi += 1;
        }
        if an != bn {
            return an.cmp(&bn);
        }
        if ai != bi {
            return ai.cmp(&bi);
        }
        return ar[i].cmp(&br[i]);
    }
    ar.len().cmp(&br.len())
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

/// How a string scalar is written.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Style {
    Plain,
    Single,
    Double,
    Literal,
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
        match select_style(s, key) {
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
            if !printable(c) || c == '"' || c == '\\' || c == '\u{feff}' || is_break(c) {
                let esc = match c {
                    '\0' => "\\0".to_string(),
                    '\x07' => "\\a".to_string(),
                    '\x08' => "\\b".to_string(),
                    '\t' => "\\t".to_string(),
                    '\n' => "\\n".to_string(),
                    '\x0b' => "\\v".to_string(),
                    '\x0c' => "\\f".to_string(),
                    '\r' => "\\r".to_string(),
                    '\x1b' => "\\e".to_string(),
                    '"' => "\\\"".to_string(),
                    '\\' => "\\\\".to_string(),
                    '\u{85}' => "\\N".to_string(),
                    '\u{a0}' => "\\_".to_string(),
                    '\u{2028}' => "\\L".to_string(),
                    '\u{2029}' => "\\P".to_string(),
                    c if (c as u32) <= 0xff => format!("\\x{:02X}", c as u32),
                    c if (c as u32) <= 0xffff => format!("\\u{:04X}", c as u32),
                    c => format!("\\U{:08X}", c as u32),
                };
                self.column += esc.chars().count();
                buf.push_str(&esc);
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

fn is_break(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// libyaml's `is_printable` (4-byte characters are not, so emoji get escaped).
fn printable(c: char) -> bool {
    let u = c as u32;
    u == 0x0a
        || (0x20..=0x7e).contains(&u)
        || (0xa0..=0xd7ff).contains(&u)
        || ((0xe000..=0xfffd).contains(&u) && u != 0xfeff)
}

/// The scalar style go-yaml v2 ends up with for a string.
fn select_style(s: &str, key: bool) -> Style {
    let can_plain = resolves_to_string(s) && !is_base60_float(s);
    let requested = if s.contains('\n') {
        Style::Literal
    } else if can_plain {
        Style::Plain
    } else {
        Style::Double
    };
    let a = analyze(s);
    let mut style = requested;
    if key && a.multiline {
        style = Style::Double;
    }
    if style == Style::Plain && (!a.block_plain_allowed || (s.is_empty() && key)) {
        style = Style::Single;
    }
    if style == Style::Single && !a.single_quoted_allowed {
        style = Style::Double;
    }
    if style == Style::Literal && (!a.block_allowed || key) {
        style = Style::Double;
    }
    style
}

struct Analysis {
    multiline: bool,
    block_plain_allowed: bool,
    single_quoted_allowed: bool,
    block_allowed: bool,
}

/// libyaml's `yaml_emitter_analyze_scalar`, the parts that matter in block context.
fn analyze(s: &str) -> Analysis {
    if s.is_empty() {
        return Analysis {
            multiline: false,
            block_plain_allowed: true,
            single_quoted_allowed: true,
            block_allowed: false,
        };
    }
    let chars: Vec<char> = s.chars().collect();
    let mut block_indicators = s.starts_with("---") || s.starts_with("...");
    let mut special = false;
    let (mut leading_space, mut leading_break, mut trailing_space, mut trailing_break) =
        (false, false, false, false);
    let (mut break_space, mut space_break, mut prev_space, mut prev_break, mut line_breaks) =
        (false, false, false, false, false);
    let mut preceded_by_ws = true;
    let n = chars.len();
    for (i, &c) in chars.iter().enumerate() {
        let followed_by_ws = i + 1 >= n || matches!(chars[i + 1], ' ' | '\t');
        if i == 0 {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => block_indicators = true,
                '?' | ':' if followed_by_ws => block_indicators = true,
                '-' if followed_by_ws => block_indicators = true,
                _ => {}
            }
        } else {
            match c {
                ':' if followed_by_ws => block_indicators = true,
                '#' if preceded_by_ws => block_indicators = true,
                _ => {}
            }
        }
        if !printable(c) {
            special = true;
        }
        if c == ' ' {
            if i == 0 {
                leading_space = true;
            }
            if i + 1 == n {
                trailing_space = true;
            }
            if prev_break {
                break_space = true;
            }
            prev_space = true;
            prev_break = false;
        } else if is_break(c) {
            line_breaks = true;
            if i == 0 {
                leading_break = true;
            }
            if i + 1 == n {
                trailing_break = true;
            }
            if prev_space {
                space_break = true;
            }
            prev_space = false;
            prev_break = true;
        } else {
            prev_space = false;
            prev_break = false;
        }
        preceded_by_ws = matches!(c, ' ' | '\t') || is_break(c);
    }
    let mut a = Analysis {
        multiline: line_breaks,
        block_plain_allowed: true,
        single_quoted_allowed: true,
        block_allowed: true,
    };
    if leading_space || leading_break || trailing_space || trailing_break {
        a.block_plain_allowed = false;
    }
    if trailing_space {
        a.block_allowed = false;
    }
    if break_space {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
    }
    if space_break || special {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
        a.block_allowed = false;
    }
    if line_breaks || block_indicators {
        a.block_plain_allowed = false;
    }
    a
}

/// Whether go-yaml v2 reads the plain text `s` back as a string (YAML 1.1 resolution).
pub fn resolves_to_string(s: &str) -> bool {
    let Some(first) = s.bytes().next() else {
        return false;
    };
    match first {
        b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~' => !matches!(
            s,
            "y" | "Y"
                | "yes"
                | "Yes"
                | "YES"
                | "true"
                | "True"
                | "TRUE"
                | "on"
                | "On"
                | "ON"
                | "n"
                | "N"
                | "no"
                | "No"
                | "NO"
                | "false"
                | "False"
                | "FALSE"
                | "off"
                | "Off"
                | "OFF"
                | "~"
                | "null"
                | "Null"
                | "NULL"
        ),
        b'.' => {
            !matches!(s, ".nan" | ".NaN" | ".NAN" | ".inf" | ".Inf" | ".INF") && !go_parse_float(s)
        }
        b'0'..=b'9' | b'+' | b'-' => {
            if matches!(s, "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf" | "-.INF") {
                return false;
            }
            if is_timestamp(s) {
                return false;
            }
            let plain = s.replace('_', "");
            if go_parse_int(&plain) || yaml_style_float(&plain) {
                return false;
            }
            let bin = plain
                .strip_prefix("0b")
                .or_else(|| plain.strip_prefix("-0b"));
            !bin.is_some_and(|b| !b.is_empty() && b.bytes().all(|c| c == b'0' || c == b'1'))
        }
        _ => true,
    }
}

/// Go's `strconv.ParseInt(s, 0, 64)` / `ParseUint` acceptance (after `_` removal).
fn go_parse_int(s: &str) -> bool {
    let body = s
        .strip_prefix('+')
        .or_else(|| s.strip_prefix('-'))
        .unwrap_or(s);
    if body.is_empty() {
        return false;
    }
    let (digits, radix) =
        if let Some(r) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
            (r, 16)
        } else if let Some(r) = body.strip_prefix("0o").or_else(|| body.strip_prefix("0O")) {
            (r, 8)
        } else if let Some(r) = body.strip_prefix("0b").or_else(|| body.strip_prefix("0B")) {
            (r, 2)
        } else if body.len() > 1 && body.starts_with('0') {
            (&body[1..], 8)
        } else {
            (body, 10)
        };
    !digits.is_empty() && u64::from_str_radix(digits, radix).is_ok()
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
fn yaml_style_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// Go's `strconv.ParseFloat` on text starting with `.` (decimal forms only matter here).
fn go_parse_float(s: &str) -> bool {
    yaml_style_float(s)
}

/// go-yaml v2's timestamp forms: `YYYY-M-D` optionally followed by a time.
fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 5 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return false;
    }
    let rest = &s[5..];
    let (date_rest, time) = match rest.find(['T', 't', ' ']) {
        Some(i) => (&rest[..i], Some(&rest[i + 1..])),
        None => (rest, None),
    };
    let mut parts = date_rest.split('-');
    let ok_num = |p: Option<&str>, max: usize| {
        p.is_some_and(|p| !p.is_empty() && p.len() <= max && p.bytes().all(|c| c.is_ascii_digit()))
    };
    if !ok_num(parts.next(), 2) || !ok_num(parts.next(), 2) || parts.next().is_some() {
        return false;
    }
    match time {
        None => true,
        Some(t) => {
            let t = t.trim_end_matches('Z');
            let t = t.split(['+', '-']).next().unwrap_or_default();
            let mut hms = t.split(':');
            ok_num(hms.next(), 2)
                && ok_num(hms.next(), 2)
                && hms.next().is_some_and(|sec| {
                    let mut p = sec.splitn(2, '.');
                    ok_num(p.next(), 2)
                        && p.next()
                            .is_none_or(|f| f.bytes().all(|c| c.is_ascii_digit()))
                })
        }
    }
}

/// `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`
fn is_base60_float(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (main, frac) = match s.split_once('.') {
        Some((m, f)) => (m, Some(f)),
        None => (s, None),
    };
    if frac.is_some_and(|f| !f.bytes().all(|c| c.is_ascii_digit() || c == b'_')) {
        return false;
    }
    let mut parts = main.split(':');
    let head = parts.next().unwrap_or_default();
    if head.is_empty()
        || !head.as_bytes()[0].is_ascii_digit()
        || !head.bytes().all(|c| c.is_ascii_digit() || c == b'_')
    {
        return false;
    }
    let mut n = 0;
    for p in parts {
        n += 1;
        let b = p.as_bytes();
        let ok = match b.len() {
            1 => b[0].is_ascii_digit(),
            2 => (b'0'..=b'5').contains(&b[0]) && b[1].is_ascii_digit(),
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    n > 0
}

/// A float as it prints after kustomize's JSON round trip: integral values below 1e21 as
/// integers, others as Go's `%g` with the shortest digits.
fn float_text(f: f64) -> String {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e21 {
        return format!("{f:.0}");
    }
    if !f.is_finite() {
        return if f.is_nan() {
            ".nan".into()
        } else if f > 0.0 {
            "+.inf".into()
        } else {
            "-.inf".into()
        };
    }
    // Shortest digits and decimal exponent from Rust's `{:e}` (also shortest round-trip);
    // Go's `%g` switches to an exponent below 1e-4 and from 1e6 on.
    let e = format!("{f:e}");
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mant}e{sign}{:02}", exp.abs());
    }
    format!("{f}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn y(s: &str) -> Value {
        serde_saphyr::from_str_with_options(s, crate::loader::yaml_options()).unwrap()
    }

    #[test]
    fn natural_key_order() {
        let mut k = vec!["b", "a10", "a9", "A", "_x", "a-b", "a.b", "a"];
        k.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(k, ["_x", "A", "a", "a-b", "a.b", "a9", "a10", "b"]);
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
}
