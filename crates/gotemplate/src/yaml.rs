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

use ferroflux_goyaml::{
    Resolved, Style, analyze, is_break, json_float_scalar, needs_escape, push_escape,
    requested_style, resolve_plain, select_style, sort_naturally,
};
use granit_parser::{Event, Parser, ScalarStyle};

use crate::error::{Error, Result};
use crate::gofmt::format_float;
use crate::json::{base64_std, format_json_float};
use crate::value::{Dict, Value};

mod fastyaml_sink;

// ------------------------------------------------------------ emitter

/// A node after the JSON round trip, in go-yaml's terms.
enum Node {
    Null,
    Bool(bool),
    Int(String),
    /// A float already spelled as the round trip leaves it (integral ones as integers).
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
        Value::Int(i, t) => Node::Int(crate::GoInt(*i, *t).to_string()),
        Value::Float(f) => {
            if !f.is_finite() {
                // json.Marshal's error: JSON has no infinities or NaN.
                format_json_float(*f)?;
            }
            Node::Float(json_float_scalar(*f))
        }
        Value::String(s) => Node::Str(if s.contains('\u{85}') {
            fold_nel(s)
        } else {
            s.to_string()
        }),
        Value::Bytes(b) => Node::Str(base64_std(b)),
        Value::List(l, _) => Node::Seq(
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
            sort_naturally(&mut entries, |e| e.0.as_str());
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
            Node::Str(s) => self.scalar(s, requested_style(s), root, simple_key),
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
        let style = select_style(value, requested, simple_key);
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
            if needs_escape(c) {
                self.column += push_escape(&mut self.out, c);
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
        Value::Int(i, t) => crate::GoInt(*i, *t).to_string(),
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
                        Value::List(l, _) => l.iter().cloned().collect(),
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
        Value::List(l, _) => l.iter().try_for_each(check_json_encodable),
        Value::Map(m) => m.read().values().try_for_each(check_json_encodable),
        _ => Ok(()),
    }
}

/// Comments are skipped, so the parser need not capture their text (values files are
/// mostly comments).
fn parser_options() -> granit_parser::Options {
    let mut o = granit_parser::Options::default();
    o.emit_comments = false;
    o
}

fn load_first(s: &str) -> Result<Option<Value>> {
    // Most values files take the one-pass reader; what it declines is read here.
    if let Some(v) = fastyaml_sink::load_first(s) {
        return Ok(v);
    }
    let mut l = Loader {
        parser: Parser::new_from_str_with_options(s, parser_options()),
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
        Some(v @ Value::List(..)) => Ok(v),
        Some(other) => Err(Error::Data(format!(
            "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type []interface {{}}",
            json_kind(&other)
        ))),
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Map(_) => "object",
        Value::List(..) => "array",
        Value::String(_) => "string",
        Value::Float(_) | Value::Int(_, _) => "number",
        Value::Bool(_) => "bool",
        _ => "null",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// go-yaml reading back what `json.Marshal` wrote, spelled out with this crate's own
    /// JSON and `strconv` formatting: the shared float text must agree with it.
    fn json_then_go_yaml(f: f64) -> String {
        let j = format_json_float(f).unwrap_or_default();
        match resolve_plain(&j) {
            Resolved::Int(i) => i.to_string(),
            Resolved::Uint(u) => u.to_string(),
            Resolved::Float(x) => format_float(x, b'g', -1),
            other => panic!("{j} resolved as {other:?}"),
        }
    }

    #[test]
    fn float_text_agrees_with_json_round_trip_and_strconv() {
        let mut specials = vec![
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.5,
            1e6,
            1e-6,
            1e-7,
            1e19,
            1e20,
            1e21,
            1e100,
            5e-324,
            f64::MAX,
            f64::MIN_POSITIVE,
            9223372036854775807.0,
            -9223372036854775808.0,
            18446744073709551615.0,
            1152921504606846976.0,
            123456789.125,
        ];
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..20_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let f = f64::from_bits(seed);
            if f.is_finite() {
                specials.push(f);
                // Integral values in every magnitude, where the int/float split happens.
                specials.push(f.trunc() % 1e22);
            }
        }
        for f in specials {
            assert_eq!(json_float_scalar(f), json_then_go_yaml(f), "{f:e}");
            assert_eq!(
                ferroflux_goyaml::format_float(f),
                format_float(f, b'g', -1),
                "{f:e}"
            );
        }
    }

    /// `want` is what `helm template` 3 prints for `toYaml` of these values.
    #[test]
    fn timestamps_and_signed_binary_resolve_like_helm() {
        let values = "a: \"0b-101\"\nb: \"2020-01-01T10:00:00\"\nc: \"2020-02-30\"\nd: \"2020-01-01 10:00:00,5\"\ne: \"2020-01-01T10:00:00+25:00\"\nf: \"2020-1-1t1:2:3\"\ng: \"2020-02-29\"\nh: 0b-101\n";
        let want = "a: \"0b-101\"\nb: 2020-01-01T10:00:00\nc: 2020-02-30\nd: \"2020-01-01 10:00:00,5\"\ne: 2020-01-01T10:00:00+25:00\nf: 2020-1-1t1:2:3\ng: \"2020-02-29\"\nh: -5\n";
        let v = decode(values).unwrap();
        assert_eq!(to_yaml(&v).unwrap(), want);
    }
}
