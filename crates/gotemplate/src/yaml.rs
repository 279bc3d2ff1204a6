//! YAML as Helm reads and writes it.
//!
//! Writing (`toYaml`) is `sigs.k8s.io/yaml.Marshal`: the value goes through
//! Go's JSON encoder, back through go-yaml v2's resolver, and out of go-yaml
//! v2's libyaml-derived emitter. [`to_yaml`] reproduces that pipeline's
//! output byte for byte: number forms, go-yaml's key order, its quoting
//! decisions (strings that would resolve to bool/int/float/null/timestamp are
//! double-quoted), literal blocks for multi-line strings, folding of long
//! lines at 80 columns, indentless sequences under keys.
//!
//! Reading (`fromYaml`, values files) is `sigs.k8s.io/yaml.Unmarshal`: go-yaml
//! v2 resolution (YAML 1.1 booleans `yes`/`on`, octal `0777`, ...), then
//! JSON, so every number becomes float64 and map keys become strings.

use std::collections::{BTreeMap, HashMap};

use granit_parser::{Event, Parser, ScalarStyle};

use crate::error::{Error, Result};
use crate::gofmt::format_float;
use crate::json::{base64_std, format_json_float};
use crate::value::{Dict, Value};

// ------------------------------------------------------------ resolver

/// What go-yaml v2 would decode a plain scalar as.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Resolved {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Timestamp,
    Merge,
    Str,
}

fn go_parse_int(s: &str) -> Option<i128> {
    // strconv.ParseInt/ParseUint with base 0 (underscores already removed).
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if body.is_empty() {
        return None;
    }
    let lower = body.to_ascii_lowercase();
    let (radix, digits) = if let Some(h) = lower.strip_prefix("0x") {
        (16, h)
    } else if let Some(o) = lower.strip_prefix("0o") {
        (8, o)
    } else if let Some(b) = lower.strip_prefix("0b") {
        (2, b)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, &lower[..])
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let v = u128::from_str_radix(digits, radix).ok()?;
    if v > u64::MAX as u128 {
        return None;
    }
    let v = v as i128;
    Some(if neg { -v } else { v })
}

/// go-yaml's `yamlStyleFloat`: `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn yaml_style_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let st = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - st
    };
    if i < b.len() && b[i] == b'.' {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if i < b.len() && b[i] == b'.' {
            i += 1;
            digits(&mut i);
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

fn go_parse_float(s: &str) -> Option<f64> {
    // strconv.ParseFloat accepts what Rust does for decimal forms, plus
    // inf/infinity/nan spellings which Rust also accepts.
    let t = s.strip_prefix('+').unwrap_or(s);
    if t.starts_with(['+', '-']) && s.starts_with('+') {
        return None;
    }
    let f = t.parse::<f64>().ok()?;
    // Go reports out-of-range literals as errors (go-yaml then keeps a string).
    let spelled_inf = t
        .trim_start_matches('-')
        .to_ascii_lowercase()
        .starts_with("inf");
    if f.is_infinite() && !spelled_inf {
        return None;
    }
    Some(f)
}

/// go-yaml v2's `parseTimestamp` acceptance: `2006-1-2`, with an optional
/// time part (`T`/`t`/space) as its allowed formats list.
fn looks_like_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    let i = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if i != 4 || i == b.len() || b[i] != b'-' {
        return false;
    }
    let num = |p: &mut usize, max: usize| -> Option<u32> {
        let st = *p;
        while *p < b.len() && b[*p].is_ascii_digit() && *p - st < max {
            *p += 1;
        }
        if *p == st {
            return None;
        }
        s[st..*p].parse().ok()
    };
    let mut p = 5;
    let Some(m) = num(&mut p, 2) else {
        return false;
    };
    if p >= b.len() || b[p] != b'-' || !(1..=12).contains(&m) {
        return false;
    }
    p += 1;
    let Some(d) = num(&mut p, 2) else {
        return false;
    };
    if !(1..=31).contains(&d) {
        return false;
    }
    if p == b.len() {
        return true;
    }
    let sep = b[p];
    if !matches!(sep, b'T' | b't' | b' ') {
        return false;
    }
    p += 1;
    let Some(h) = num(&mut p, 2) else {
        return false;
    };
    if p >= b.len() || b[p] != b':' || h > 23 {
        return false;
    }
    p += 1;
    let Some(mi) = num(&mut p, 2) else {
        return false;
    };
    if p >= b.len() || b[p] != b':' || mi > 59 {
        return false;
    }
    p += 1;
    let Some(sec) = num(&mut p, 2) else {
        return false;
    };
    if sec > 59 {
        return false;
    }
    if p < b.len() && b[p] == b'.' {
        p += 1;
        let st = p;
        while p < b.len() && b[p].is_ascii_digit() {
            p += 1;
        }
        if p == st {
            return false;
        }
    }
    if p == b.len() {
        return true;
    }
    if sep == b' ' {
        return false;
    }
    // Zone: Z or ±hh:mm
    if &s[p..] == "Z" {
        return true;
    }
    let z = &b[p..];
    z.len() == 6
        && (z[0] == b'+' || z[0] == b'-')
        && z[1].is_ascii_digit()
        && z[2].is_ascii_digit()
        && z[3] == b':'
        && z[4].is_ascii_digit()
        && z[5].is_ascii_digit()
}

/// go-yaml v2 `resolve("", s)` for a plain scalar.
pub(crate) fn resolve_plain(s: &str) -> Resolved {
    let hint = match s.as_bytes().first() {
        None => b'N',
        Some(c) => match c {
            b'0'..=b'9' => b'D',
            b'+' | b'-' => b'S',
            b'.' => b'.',
            b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~' => b'M',
            _ => 0,
        },
    };
    if hint == 0 {
        return Resolved::Str;
    }
    match s {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Resolved::Bool(true);
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Resolved::Bool(false);
        }
        "" | "~" | "null" | "Null" | "NULL" => return Resolved::Null,
        ".nan" | ".NaN" | ".NAN" => return Resolved::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Resolved::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Resolved::Float(f64::NEG_INFINITY),
        "<<" => return Resolved::Merge,
        _ => {}
    }
    match hint {
        b'.' => {
            if let Some(f) = go_parse_float(s) {
                return Resolved::Float(f);
            }
        }
        b'D' | b'S' => {
            if looks_like_timestamp(s) {
                return Resolved::Timestamp;
            }
            let plain = s.replace('_', "");
            if let Some(v) = go_parse_int(&plain) {
                if v >= i64::MIN as i128 && v <= i64::MAX as i128 {
                    return Resolved::Int(v as i64);
                }
                if v >= 0 {
                    return Resolved::Uint(v as u64);
                }
            }
            if yaml_style_float(&plain)
                && let Some(f) = go_parse_float(&plain)
            {
                return Resolved::Float(f);
            }
            if let Some(b) = plain.strip_prefix("0b") {
                if let Ok(v) = u64::from_str_radix(b, 2) {
                    return if v <= i64::MAX as u64 {
                        Resolved::Int(v as i64)
                    } else {
                        Resolved::Uint(v)
                    };
                }
            } else if let Some(b) = plain.strip_prefix("-0b")
                && let Ok(v) = i64::from_str_radix(&format!("-{b}"), 2)
            {
                return Resolved::Int(v);
            }
        }
        _ => {}
    }
    Resolved::Str
}

/// go-yaml's `isBase60Float`: `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`.
fn is_base60_float(s: &str) -> bool {
    let b = s.as_bytes();
    if b.is_empty() {
        return false;
    }
    let c = b[0];
    if !(c == b'+' || c == b'-' || c.is_ascii_digit()) || !s.contains(':') {
        return false;
    }
    let mut i = 0;
    if b[0] == b'+' || b[0] == b'-' {
        i += 1;
    }
    if i >= b.len() || !b[i].is_ascii_digit() {
        return false;
    }
    i += 1;
    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
        i += 1;
    }
    let mut groups = 0;
    while i < b.len() && b[i] == b':' {
        i += 1;
        let st = i;
        if i < b.len()
            && (b'0'..=b'5').contains(&b[i])
            && i + 1 < b.len()
            && b[i + 1].is_ascii_digit()
        {
            i += 2;
        } else if i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == st {
            return false;
        }
        groups += 1;
    }
    if groups == 0 {
        return false;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
            i += 1;
        }
    }
    i == b.len()
}

// ------------------------------------------------------------ emitter

/// A node after the JSON round trip, in go-yaml's terms.
enum Node {
    Null,
    Bool(bool),
    Int(String),
    Float(String),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(String, Node)>),
}

/// What `json.Marshal` then go-yaml's decoder turn a value into.
fn to_node(v: &Value) -> Result<Node> {
    to_node_at(v, &mut Vec::new())
}

fn to_node_at(v: &Value, path: &mut Vec<Dict>) -> Result<Node> {
    Ok(match v {
        Value::Nil => Node::Null,
        Value::Bool(b) => Node::Bool(*b),
        Value::Int(i, _) => Node::Int(i.to_string()),
        Value::Float(f) => {
            let j = format_json_float(*f)?;
            match resolve_plain(&j) {
                Resolved::Int(i) => Node::Int(i.to_string()),
                Resolved::Uint(u) => Node::Int(u.to_string()),
                Resolved::Float(x) => Node::Float(yaml_float(x)),
                _ => Node::Str(j),
            }
        }
        Value::String(s) => Node::Str(if s.contains('\u{85}') {
            fold_nel(s)
        } else {
            s.to_string()
        }),
        Value::Bytes(b) => Node::Str(base64_std(b)),
        Value::List(l) => Node::Seq(
            l.iter()
                .map(|x| to_node_at(x, path))
                .collect::<Result<_>>()?,
        ),
        Value::Map(m) => {
            if path.iter().any(|d| d.ptr_eq(m)) {
                return Err(Error::Data(format!(
                    "error marshaling into JSON: {}",
                    crate::json::cycle_error(v)
                )));
            }
            path.push(m.clone());
            let entries: Result<Vec<(String, Node)>> = m
                .read()
                .iter()
                .map(|(k, v)| Ok((k.clone(), to_node_at(v, path)?)))
                .collect();
            path.pop();
            let mut entries = entries?;
            entries.sort_by(|a, b| key_order(&a.0, &b.0));
            Node::Map(entries)
        }
        Value::Object(o) => match o.to_data() {
            Some(d) => to_node_at(&d, path)?,
            None => Node::Map(Vec::new()),
        },
    })
}

/// JSON leaves U+0085 (NEL) raw, and go-yaml reads it back as a line break
/// inside a double-quoted scalar, folding it like any line break.
fn fold_nel(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == ' ' || c == '\t' || c == '\u{85}' {
            // A run of blanks and NELs.
            let mut j = i;
            let mut breaks = 0;
            while j < chars.len() && matches!(chars[j], ' ' | '\t' | '\u{85}') {
                if chars[j] == '\u{85}' {
                    breaks += 1;
                }
                j += 1;
            }
            if breaks == 0 {
                out.extend(&chars[i..j]);
            } else if breaks == 1 {
                out.push(' ');
            } else {
                out.extend(std::iter::repeat_n('\n', breaks - 1));
            }
            i = j;
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

fn yaml_float(x: f64) -> String {
    if x.is_nan() {
        return ".nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 {
            ".inf".into()
        } else {
            "-.inf".into()
        };
    }
    format_float(x, b'g', -1)
}

/// go-yaml v2's `keyList.Less` for string keys: runs of digits compare
/// numerically, letters sort after non-letters.
fn key_order(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering::*;
    if key_less(a, b) {
        Less
    } else if key_less(b, a) {
        Greater
    } else {
        Equal
    }
}

fn key_less(a: &str, b: &str) -> bool {
    let ar: Vec<char> = a.chars().collect();
    let br: Vec<char> = b.chars().collect();
    let mut i = 0;
    while i < ar.len() && i < br.len() {
        if ar[i] == br[i] {
            i += 1;
            continue;
        }
        let al = ar[i].is_alphabetic();
        let bl = br[i].is_alphabetic();
        if al && bl {
            return ar[i] < br[i];
        }
        if al || bl {
            return bl;
        }
        let mut an: i64 = 0;
        let mut bn: i64 = 0;
        if ar[i] == '0' || br[i] == '0' {
            let mut j = i;
            while j > 0 {
                j -= 1;
                if !ar[j].is_ascii_digit() {
                    break;
                }
                if ar[j] != '0' {
                    an = 1;
                    bn = 1;
                    break;
                }
            }
        }
        let mut ai = i;
        while ai < ar.len() && ar[ai].is_ascii_digit() {
            an = an.wrapping_mul(10).wrapping_add(ar[ai] as i64 - '0' as i64);
            ai += 1;
        }
        let mut bi = i;
        while bi < br.len() && br[bi].is_ascii_digit() {
            bn = bn.wrapping_mul(10).wrapping_add(br[bi] as i64 - '0' as i64);
            bi += 1;
        }
        if an != bn {
            return an < bn;
        }
        if ai != bi {
            return ai < bi;
        }
        return ar[i] < br[i];
    }
    ar.len() < br.len()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

struct Analysis {
    multiline: bool,
    flow_plain: bool,
    block_plain: bool,
    single: bool,
    block: bool,
}

fn is_printable(c: char) -> bool {
    let u = c as u32;
    u == 0x0A
        || (0x20..=0x7E).contains(&u)
        || (0xA0..=0xD7FF).contains(&u)
        || ((0xE000..=0xFFFD).contains(&u) && u != 0xFEFF)
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn analyze(value: &str) -> Analysis {
    if value.is_empty() {
        return Analysis {
            multiline: false,
            flow_plain: false,
            block_plain: true,
            single: true,
            block: false,
        };
    }
    let mut block_ind = false;
    let mut flow_ind = false;
    let mut line_breaks = false;
    let mut special = false;
    let mut leading_space = false;
    let mut leading_break = false;
    let mut trailing_space = false;
    let mut trailing_break = false;
    let mut break_space = false;
    let mut space_break = false;
    let mut prev_space = false;
    let mut prev_break = false;
    if value.starts_with("---") || value.starts_with("...") {
        block_ind = true;
        flow_ind = true;
    }
    let mut preceded_by_ws = true;
    let chars: Vec<char> = value.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let next = chars.get(i + 1).copied();
        let followed_by_ws = next.is_none_or(|n| n == ' ' || n == '\t' || is_break(n));
        if i == 0 {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => {
                    flow_ind = true;
                    block_ind = true;
                }
                '?' | ':' => {
                    flow_ind = true;
                    if followed_by_ws {
                        block_ind = true;
                    }
                }
                '-' if followed_by_ws => {
                    flow_ind = true;
                    block_ind = true;
                }
                _ => {}
            }
        } else {
            match c {
                ',' | '?' | '[' | ']' | '{' | '}' => flow_ind = true,
                ':' => {
                    flow_ind = true;
                    if followed_by_ws {
                        block_ind = true;
                    }
                }
                '#' if preceded_by_ws => {
                    flow_ind = true;
                    block_ind = true;
                }
                _ => {}
            }
        }
        if !is_printable(c) {
            special = true;
        }
        if c == ' ' {
            if i == 0 {
                leading_space = true;
            }
            if i + 1 == chars.len() {
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
            if i + 1 == chars.len() {
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
        preceded_by_ws = c == ' ' || c == '\t' || is_break(c);
    }
    let mut a = Analysis {
        multiline: line_breaks,
        flow_plain: true,
        block_plain: true,
        single: true,
        block: true,
    };
    if leading_space || leading_break || trailing_space || trailing_break {
        a.flow_plain = false;
        a.block_plain = false;
    }
    if trailing_space {
        a.block = false;
    }
    if break_space {
        a.flow_plain = false;
        a.block_plain = false;
        a.single = false;
    }
    if space_break || special {
        a.flow_plain = false;
        a.block_plain = false;
        a.single = false;
        a.block = false;
    }
    if line_breaks {
        a.flow_plain = false;
        a.block_plain = false;
    }
    if flow_ind {
        a.flow_plain = false;
    }
    if block_ind {
        a.block_plain = false;
    }
    a
}

const BEST_WIDTH: usize = 80;
const BEST_INDENT: i64 = 2;

struct Emitter {
    out: String,
    column: usize,
    whitespace: bool,
    indention: bool,
    open_ended: bool,
    indent: i64,
    indents: Vec<i64>,
}

impl Emitter {
    fn put(&mut self, c: char) {
        self.out.push(c);
        self.column += 1;
    }
    fn put_break(&mut self) {
        self.out.push('\n');
        self.column = 0;
    }
    fn write_indent(&mut self) {
        let indent = self.indent.max(0) as usize;
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.put_break();
        }
        while self.column < indent {
            self.put(' ');
        }
        self.whitespace = true;
        self.indention = true;
    }
    fn write_indicator(&mut self, ind: &str, need_ws: bool, is_ws: bool, is_indention: bool) {
        if need_ws && !self.whitespace {
            self.put(' ');
        }
        for c in ind.chars() {
            self.put(c);
        }
        self.whitespace = is_ws;
        self.indention = self.indention && is_indention;
        self.open_ended = false;
    }
    fn increase_indent(&mut self, flow: bool, indentless: bool) {
        self.indents.push(self.indent);
        if self.indent < 0 {
            self.indent = if flow { BEST_INDENT } else { 0 };
        } else if !indentless {
            self.indent += BEST_INDENT;
        }
    }
    fn pop_indent(&mut self) {
        self.indent = self.indents.pop().unwrap_or(-1);
    }

    /// One node; `mapping_ctx` when it is a mapping value, `simple_key` when
    /// it is a key, `root` at the document level.
    fn node(&mut self, n: &Node, root: bool, mapping_ctx: bool, simple_key: bool) {
        match n {
            Node::Null => self.scalar("null", Style::Plain, root, simple_key),
            Node::Bool(b) => self.scalar(
                if *b { "true" } else { "false" },
                Style::Plain,
                root,
                simple_key,
            ),
            Node::Int(s) | Node::Float(s) => self.scalar(s, Style::Plain, root, simple_key),
            Node::Str(s) => {
                let can_plain = resolve_plain(s) == Resolved::Str && !is_base60_float(s);
                let style = if s.contains('\n') {
                    Style::Literal
                } else if can_plain {
                    Style::Plain
                } else {
                    Style::Double
                };
                self.scalar(s, style, root, simple_key)
            }
            Node::Seq(items) => {
                if items.is_empty() {
                    self.write_indicator("[", true, true, false);
                    self.increase_indent(true, false);
                    self.pop_indent();
                    self.write_indicator("]", false, false, false);
                    return;
                }
                let indentless = mapping_ctx && !self.indention;
                self.increase_indent(false, indentless);
                for it in items {
                    self.write_indent();
                    self.write_indicator("-", true, false, true);
                    self.node(it, false, false, false);
                }
                self.pop_indent();
            }
            Node::Map(entries) => {
                if entries.is_empty() {
                    self.write_indicator("{", true, true, false);
                    self.increase_indent(true, false);
                    self.pop_indent();
                    self.write_indicator("}", false, false, false);
                    return;
                }
                self.increase_indent(false, false);
                for (k, v) in entries {
                    self.write_indent();
                    // libyaml's check_simple_key: at most 128 bytes, one line.
                    if k.len() <= 128 && !analyze(k).multiline {
                        self.node(&Node::Str(k.clone()), false, false, true);
                        self.write_indicator(":", false, false, false);
                    } else {
                        self.write_indicator("?", true, false, true);
                        self.node(&Node::Str(k.clone()), false, true, false);
                        self.write_indent();
                        self.write_indicator(":", true, false, true);
                    }
                    self.node(v, false, true, false);
                }
                self.pop_indent();
            }
        }
    }

    fn scalar(&mut self, value: &str, requested: Style, root: bool, simple_key: bool) {
        let a = analyze(value);
        let mut style = requested;
        if simple_key && a.multiline {
            style = Style::Double;
        }
        if style == Style::Plain && (!a.block_plain || (value.is_empty() && simple_key)) {
            style = Style::Single;
        }
        if style == Style::Single && !a.single {
            style = Style::Double;
        }
        if style == Style::Literal && (!a.block || simple_key) {
            style = Style::Double;
        }
        self.increase_indent(true, false);
        let allow_breaks = !simple_key;
        match style {
            Style::Plain => self.write_plain(value, allow_breaks, root),
            Style::Single => self.write_single(value, allow_breaks),
            Style::Double => self.write_double(value, allow_breaks),
            Style::Literal => self.write_literal(value),
        }
        self.pop_indent();
    }

    fn write_plain(&mut self, value: &str, allow_breaks: bool, root: bool) {
        if !self.whitespace {
            self.put(' ');
        }
        let chars: Vec<char> = value.chars().collect();
        let mut spaces = false;
        let mut breaks = false;
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c == ' ' {
                if allow_breaks
                    && !spaces
                    && self.column > BEST_WIDTH
                    && chars.get(i + 1) != Some(&' ')
                {
                    self.write_indent();
                } else {
                    self.put(c);
                }
                spaces = true;
            } else if is_break(c) {
                if !breaks && c == '\n' {
                    self.put_break();
                }
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.put(c);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
            i += 1;
        }
        self.whitespace = false;
        self.indention = false;
        if root {
            self.open_ended = true;
        }
    }

    fn write_break(&mut self, c: char) {
        if c == '\n' {
            self.put_break();
        } else {
            self.out.push(c);
            self.column = 0;
        }
    }

    fn write_single(&mut self, value: &str, allow_breaks: bool) {
        self.write_indicator("'", true, false, false);
        let chars: Vec<char> = value.chars().collect();
        let mut spaces = false;
        let mut breaks = false;
        let n = chars.len();
        for i in 0..n {
            let c = chars[i];
            if c == ' ' {
                if allow_breaks
                    && !spaces
                    && self.column > BEST_WIDTH
                    && i > 0
                    && i + 1 < n
                    && chars[i + 1] != ' '
                {
                    self.write_indent();
                } else {
                    self.put(c);
                }
                spaces = true;
            } else if is_break(c) {
                if !breaks && c == '\n' {
                    self.put_break();
                }
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                if c == '\'' {
                    self.put('\'');
                }
                self.put(c);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
        }
        self.write_indicator("'", false, false, false);
    }

    fn write_double(&mut self, value: &str, allow_breaks: bool) {
        self.write_indicator("\"", true, false, false);
        let chars: Vec<char> = value.chars().collect();
        let n = chars.len();
        let mut spaces = false;
        for i in 0..n {
            let c = chars[i];
            if !is_printable(c) || c == '\u{FEFF}' || is_break(c) || c == '"' || c == '\\' {
                self.put('\\');
                match c {
                    '\0' => self.put('0'),
                    '\x07' => self.put('a'),
                    '\x08' => self.put('b'),
                    '\t' => self.put('t'),
                    '\n' => self.put('n'),
                    '\x0b' => self.put('v'),
                    '\x0c' => self.put('f'),
                    '\r' => self.put('r'),
                    '\x1b' => self.put('e'),
                    '"' => self.put('"'),
                    '\\' => self.put('\\'),
                    '\u{85}' => self.put('N'),
                    '\u{A0}' => self.put('_'),
                    '\u{2028}' => self.put('L'),
                    '\u{2029}' => self.put('P'),
                    c => {
                        let v = c as u32;
                        let (p, w) = if v <= 0xFF {
                            ('x', 2)
                        } else if v <= 0xFFFF {
                            ('u', 4)
                        } else {
                            ('U', 8)
                        };
                        self.put(p);
                        for k in (0..w).rev() {
                            let d = (v >> (k * 4)) & 0xF;
                            self.put(char::from_digit(d, 16).unwrap_or('0').to_ascii_uppercase());
                        }
                    }
                }
                spaces = false;
            } else if c == ' ' {
                if allow_breaks && !spaces && self.column > BEST_WIDTH && i != 0 && i + 1 != n {
                    self.write_indent();
                    if chars.get(i + 1) == Some(&' ') {
                        self.put('\\');
                    }
                } else {
                    self.put(c);
                }
                spaces = true;
            } else {
                self.put(c);
                spaces = false;
            }
        }
        self.write_indicator("\"", false, false, false);
    }

    fn write_literal(&mut self, value: &str) {
        self.write_indicator("|", true, false, false);
        let chars: Vec<char> = value.chars().collect();
        if chars.first().is_some_and(|&c| c == ' ' || is_break(c)) {
            self.write_indicator("2", false, false, false);
        }
        self.open_ended = false;
        let mut chomp = None;
        match chars.last() {
            None => chomp = Some("-"),
            Some(&c) if !is_break(c) => chomp = Some("-"),
            Some(_) if chars.len() == 1 => {
                chomp = Some("+");
                self.open_ended = true;
            }
            Some(_) => {
                if is_break(chars[chars.len() - 2]) {
                    chomp = Some("+");
                    self.open_ended = true;
                }
            }
        }
        if let Some(h) = chomp {
            let oe = self.open_ended;
            self.write_indicator(h, false, false, false);
            self.open_ended = oe;
        }
        self.put_break();
        self.indention = true;
        self.whitespace = true;
        let mut breaks = true;
        for &c in &chars {
            if is_break(c) {
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                    breaks = false;
                }
                self.put(c);
                self.indention = false;
            }
        }
    }
}

/// `sigs.k8s.io/yaml.Marshal`, byte for byte (with the trailing newline;
/// Helm's `toYaml` trims it).
pub fn to_yaml(v: &Value) -> Result<String> {
    let node = to_node(v)?;
    let mut e = Emitter {
        out: String::new(),
        column: 0,
        whitespace: true,
        indention: true,
        open_ended: false,
        indent: -1,
        indents: Vec::new(),
    };
    e.node(&node, true, false, false);
    // Document end is implicit, and go-yaml's encoder clears `open_ended`
    // before the stream end, so no `...` marker is written.
    e.write_indent();
    Ok(e.out)
}

// ------------------------------------------------------------ parser

fn yaml_err(msg: impl std::fmt::Display) -> Error {
    Error::Data(format!("error converting YAML to JSON: yaml: {msg}"))
}

enum Built {
    Value(Value),
}

struct Loader<'a> {
    parser: Parser<'a, granit_parser::StrInput<'a>>,
    anchors: HashMap<usize, Value>,
}

/// A decoded YAML scalar as sigs.k8s.io/yaml produces it (JSON semantics).
fn scalar_value(s: &str, style: ScalarStyle, tag: Option<&granit_parser::Tag>) -> Value {
    if let Some(t) = tag {
        if t.is_yaml_core_schema() {
            match t.suffix() {
                "str" | "binary" | "timestamp" => return Value::string(s),
                "null" => return Value::Nil,
                "bool" | "int" | "float" => {
                    return match resolve_plain(s) {
                        Resolved::Bool(b) => Value::Bool(b),
                        Resolved::Int(i) => Value::Float(i as f64),
                        Resolved::Uint(u) => Value::Float(u as f64),
                        Resolved::Float(f) => Value::Float(f),
                        _ => Value::string(s),
                    };
                }
                _ => {}
            }
        } else {
            return Value::string(s);
        }
    }
    if style != ScalarStyle::Plain {
        return Value::string(s);
    }
    match resolve_plain(s) {
        Resolved::Null => Value::Nil,
        Resolved::Bool(b) => Value::Bool(b),
        Resolved::Int(i) => Value::Float(i as f64),
        Resolved::Uint(u) => Value::Float(u as f64),
        Resolved::Float(f) => Value::Float(f),
        Resolved::Timestamp | Resolved::Merge | Resolved::Str => Value::string(s),
    }
}

/// The JSON key string for a YAML key, as sigs.k8s.io/yaml converts them.
fn key_string(k: &Value) -> String {
    match k {
        Value::Nil => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Float(f) => format_float(*f, b'g', -1),
        Value::Int(i, _) => i.to_string(),
        Value::String(s) => s.to_string(),
        other => crate::gofmt::fmt_v(other),
    }
}

impl<'a> Loader<'a> {
    fn next(&mut self) -> Result<Event<'a>> {
        loop {
            return match self.parser.next_event() {
                Some(Ok((Event::Comment(..) | Event::Anchor(..), _))) => continue,
                Some(Ok((ev, _))) => Ok(ev),
                Some(Err(e)) => Err(yaml_err(format!(
                    "line {}: {}",
                    e.marker().line(),
                    e.info()
                ))),
                None => Ok(Event::StreamEnd),
            };
        }
    }

    fn load_node(&mut self, ev: Event<'a>) -> Result<Built> {
        match ev {
            Event::Scalar(s, style, anchor, tag) => {
                let v = scalar_value(&s, style, tag.as_deref());
                if anchor > 0 {
                    self.anchors.insert(anchor, v.clone());
                }
                Ok(Built::Value(v))
            }
            Event::Alias(id) => match self.anchors.get(&id) {
                Some(v) => Ok(Built::Value(v.clone())),
                None => Err(yaml_err("unknown anchor referenced")),
            },
            Event::SequenceStart(_, anchor, _) => {
                let mut items = Vec::new();
                loop {
                    let ev = self.next()?;
                    if matches!(ev, Event::SequenceEnd) {
                        break;
                    }
                    let Built::Value(v) = self.load_node(ev)?;
                    items.push(v);
                }
                let v = Value::list(items);
                if anchor > 0 {
                    self.anchors.insert(anchor, v.clone());
                }
                Ok(Built::Value(v))
            }
            Event::MappingStart(_, anchor, _) => {
                let mut map: BTreeMap<String, Value> = BTreeMap::new();
                let mut merges: Vec<Value> = Vec::new();
                loop {
                    let ev = self.next()?;
                    if matches!(ev, Event::MappingEnd) {
                        break;
                    }
                    let is_merge =
                        matches!(&ev, Event::Scalar(s, ScalarStyle::Plain, _, None) if s == "<<");
                    // Integer keys keep go-yaml's integer spelling (strconv.Itoa).
                    let int_key = match &ev {
                        Event::Scalar(s, ScalarStyle::Plain, _, None) => match resolve_plain(s) {
                            Resolved::Int(i) => Some(i.to_string()),
                            Resolved::Uint(u) => Some(u.to_string()),
                            _ => None,
                        },
                        _ => None,
                    };
                    let Built::Value(k) = self.load_node(ev)?;
                    let vev = self.next()?;
                    let Built::Value(v) = self.load_node(vev)?;
                    if is_merge {
                        merges.push(v);
                        continue;
                    }
                    if k.is_nil() {
                        return Err(Error::Data(format!(
                            "error converting YAML to JSON: unsupported map key of type: %!s(<nil>), key: <nil>, value: {}",
                            crate::gofmt::sprintf("%#v", std::slice::from_ref(&v))
                        )));
                    }
                    map.insert(int_key.unwrap_or_else(|| key_string(&k)), v);
                }
                // Merge keys: explicit keys win; earlier merge sources win over later.
                for m in merges {
                    let sources: Vec<Value> = match m {
                        Value::List(l) => l.iter().cloned().collect(),
                        other => vec![other],
                    };
                    for src in sources {
                        if let Value::Map(d) = src {
                            for (k, v) in d.read().iter() {
                                map.entry(k.clone()).or_insert_with(|| v.clone());
                            }
                        } else {
                            return Err(yaml_err(
                                "map merge requires map or sequence of maps as the value",
                            ));
                        }
                    }
                }
                let v = Value::Map(Dict::from_map(map));
                if anchor > 0 {
                    self.anchors.insert(anchor, v.clone());
                }
                Ok(Built::Value(v))
            }
            _ => Err(yaml_err("unexpected event")),
        }
    }

    /// The first document's root, or `None` for an empty stream.
    fn first_document(&mut self) -> Result<Option<Value>> {
        loop {
            match self.next()? {
                Event::StreamStart | Event::DocumentStart(..) => continue,
                Event::StreamEnd | Event::DocumentEnd => return Ok(None),
                ev => {
                    let Built::Value(v) = self.load_node(ev)?;
                    return Ok(Some(v));
                }
            }
        }
    }
}

/// sigs.k8s.io/yaml re-encodes the decoded YAML as JSON, which rejects
/// infinities and NaN.
fn check_json_encodable(v: &Value) -> Result<()> {
    match v {
        Value::Float(f) if !f.is_finite() => Err(Error::Data(format!(
            "error converting YAML to JSON: json: unsupported value: {}",
            format_float(*f, b'g', -1)
        ))),
        Value::List(l) => l.iter().try_for_each(check_json_encodable),
        Value::Map(m) => m.read().values().try_for_each(check_json_encodable),
        _ => Ok(()),
    }
}

fn load_first(s: &str) -> Result<Option<Value>> {
    let mut l = Loader {
        parser: Parser::new_from_str(s),
        anchors: HashMap::new(),
    };
    let v = l.first_document()?;
    if let Some(v) = &v {
        check_json_encodable(v)?;
    }
    // Like go-yaml's Unmarshal, later documents are not read at all.
    Ok(v)
}

/// Decodes the first YAML document as `sigs.k8s.io/yaml.Unmarshal` into
/// `interface{}` does; an empty document is `Nil`.
pub fn decode(s: &str) -> Result<Value> {
    Ok(load_first(s)?.unwrap_or(Value::Nil))
}

/// Helm's `fromYaml` core: decodes into `map[string]interface{}` (an empty
/// document gives an empty map; a non-map is an error worded like Go's).
pub fn from_yaml(s: &str) -> Result<Value> {
    match load_first(s)? {
        None | Some(Value::Nil) => Ok(Value::Map(Dict::new())),
        Some(v @ Value::Map(_)) => Ok(v),
        Some(other) => Err(Error::Data(format!(
            "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
            json_kind(&other)
        ))),
    }
}

/// Helm's `fromYamlArray` core: decodes into `[]interface{}`.
pub fn from_yaml_array(s: &str) -> Result<Value> {
    match load_first(s)? {
        None | Some(Value::Nil) => Ok(Value::list([])),
        Some(v @ Value::List(_)) => Ok(v),
        Some(other) => Err(Error::Data(format!(
            "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type []interface {{}}",
            json_kind(&other)
        ))),
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Map(_) => "object",
        Value::List(_) => "array",
        Value::String(_) => "string",
        Value::Float(_) | Value::Int(_, _) => "number",
        Value::Bool(_) => "bool",
        _ => "null",
    }
}
