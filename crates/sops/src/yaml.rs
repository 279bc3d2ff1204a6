//! YAML in and out. Scalars are typed as SOPS sees them (Go's yaml.v3 decoding into
//! `interface{}`), because the MAC hashes each value's typed form.

use crate::node::{Node, yaml_float};
use crate::{Error, Result};
use granit_parser::{Event, Parser, ScalarStyle, Tag};
use std::collections::HashMap;

fn parse_error(reason: impl std::fmt::Display) -> Error {
    Error::Parse {
        format: "YAML",
        reason: reason.to_string(),
    }
}

/// Parses every document of a YAML stream. An empty document is an empty map; a document that
/// is a scalar or a sequence is refused, as SOPS does.
pub(crate) fn parse(text: &str) -> Result<Vec<Node>> {
    let mut reader = Reader {
        parser: Parser::new_from_str(text),
        anchors: HashMap::new(),
        alias_budget: ALIAS_BUDGET_BASE + 10 * text.len(),
    };
    let mut docs = Vec::new();
    loop {
        match reader.next()? {
            Event::StreamStart | Event::DocumentEnd => {}
            Event::StreamEnd => break,
            Event::DocumentStart(..) => {
                reader.anchors.clear();
                let doc = match reader.next()? {
                    Event::DocumentEnd => Node::Map(Vec::new()),
                    event => {
                        let node = reader.node(event)?;
                        match node {
                            Node::Null => Node::Map(Vec::new()),
                            Node::Map(_) => node,
                            Node::Seq(_) => {
                                return Err(parse_error(
                                    "YAML documents that are sequences are not supported",
                                ));
                            }
                            _ => {
                                return Err(parse_error(
                                    "YAML documents that are values are not supported",
                                ));
                            }
                        }
                    }
                };
                docs.push(doc);
            }
            other => return Err(parse_error(format!("unexpected event {other:?}"))),
        }
    }
    Ok(docs)
}

/// Aliases are expanded into copies; a few kilobytes of nested aliases could otherwise expand to
/// gigabytes ("billion laughs"). The nodes all aliases may add are capped relative to the input.
const ALIAS_BUDGET_BASE: usize = 100_000;

struct Reader<'a> {
    parser: Parser<'a, granit_parser::StrInput<'a>>,
    anchors: HashMap<usize, Node>,
    alias_budget: usize,
}

fn node_count(node: &Node) -> usize {
    match node {
        Node::Seq(items) => 1 + items.iter().map(node_count).sum::<usize>(),
        Node::Map(entries) => {
            1 + entries
                .iter()
                .map(|(_, v)| 1 + node_count(v))
                .sum::<usize>()
        }
        _ => 1,
    }
}

impl<'a> Reader<'a> {
    /// The next event that carries data (comments and anchor metadata are skipped).
    fn next(&mut self) -> Result<Event<'a>> {
        loop {
            match self.parser.next_event() {
                None => return Ok(Event::StreamEnd),
                Some(Err(e)) => return Err(parse_error(e)),
                Some(Ok((event, _))) => match event {
                    Event::StreamStart
                    | Event::StreamEnd
                    | Event::DocumentStart(..)
                    | Event::DocumentEnd
                    | Event::Alias(_)
                    | Event::Scalar(..)
                    | Event::SequenceStart(..)
                    | Event::SequenceEnd
                    | Event::MappingStart(..)
                    | Event::MappingEnd => return Ok(event),
                    _ => continue,
                },
            }
        }
    }

    fn node(&mut self, event: Event<'a>) -> Result<Node> {
        match event {
            Event::Scalar(value, style, anchor, tag) => {
                let node = resolve(&value, style, tag.as_deref())?;
                self.anchor(anchor, &node);
                Ok(node)
            }
            Event::Alias(id) => {
                let node = self
                    .anchors
                    .get(&id)
                    .ok_or_else(|| parse_error(format!("unknown alias (anchor id {id})")))?;
                let cost = node_count(node);
                if cost > self.alias_budget {
                    return Err(parse_error("document contains excessive aliasing"));
                }
                self.alias_budget -= cost;
                Ok(node.clone())
            }
            Event::SequenceStart(_, anchor, _) => {
                let mut items = Vec::new();
                loop {
                    match self.next()? {
                        Event::SequenceEnd => break,
                        event => items.push(self.node(event)?),
                    }
                }
                let node = Node::Seq(items);
                self.anchor(anchor, &node);
                Ok(node)
            }
            Event::MappingStart(_, anchor, _) => {
                let mut entries = Vec::new();
                loop {
                    let key = match self.next()? {
                        Event::MappingEnd => break,
                        event => self.node(event)?,
                    };
                    let key = key_string(key)?;
                    let event = self.next()?;
                    entries.push((key, self.node(event)?));
                }
                let node = Node::Map(entries);
                self.anchor(anchor, &node);
                Ok(node)
            }
            other => Err(parse_error(format!("unexpected event {other:?}"))),
        }
    }

    fn anchor(&mut self, id: usize, node: &Node) {
        if id != 0 {
            self.anchors.insert(id, node.clone());
        }
    }
}

/// SOPS only supports string keys; scalar keys of other types keep their text.
fn key_string(key: Node) -> Result<String> {
    Ok(match key {
        Node::Str(s) => s,
        Node::Null => String::new(),
        Node::Bool(b) => b.to_string(),
        Node::Int(i) => i.to_string(),
        Node::Float(f) => yaml_float(f),
        Node::Time(t) => t,
        Node::Bytes(b) => String::from_utf8_lossy(&b).into_owned(),
        Node::Seq(_) | Node::Map(_) => {
            return Err(parse_error("complex mapping keys are not supported"));
        }
    })
}

const CORE: &str = "tag:yaml.org,2002:";

/// Types a scalar as yaml.v3 does when decoding into `interface{}`.
fn resolve(value: &str, style: ScalarStyle, tag: Option<&Tag>) -> Result<Node> {
    if let Some(tag) = tag {
        let core = tag.handle() == CORE || tag.handle() == "!!";
        return Ok(match (core, tag.suffix()) {
            (true, "str") => Node::Str(value.into()),
            (true, "null") => Node::Null,
            (true, "bool" | "int" | "float" | "timestamp") => {
                match (tag.suffix(), resolve_plain(value)) {
                    ("bool", node @ Node::Bool(_))
                    | ("int", node @ Node::Int(_))
                    | ("float", node @ Node::Float(_))
                    | ("timestamp", node @ Node::Time(_)) => node,
                    // yaml.v3 widens an integer tagged !!float.
                    ("float", Node::Int(i)) => Node::Float(i as f64),
                    _ => {
                        return Err(parse_error(format!(
                            "cannot decode {value:?} as !!{}",
                            tag.suffix()
                        )));
                    }
                }
            }
            (true, "binary") => {
                use base64::Engine;
                let compact: String = value.chars().filter(|c| !c.is_whitespace()).collect();
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(compact)
                    .map_err(|e| parse_error(format!("invalid !!binary value: {e}")))?;
                match String::from_utf8(bytes) {
                    Ok(s) => Node::Str(s),
                    Err(e) => Node::Bytes(e.into_bytes()),
                }
            }
            // Other tags keep the text, as yaml.v3 does.
            _ => Node::Str(value.into()),
        });
    }
    if style != ScalarStyle::Plain {
        return Ok(Node::Str(value.into()));
    }
    Ok(resolve_plain(value))
}

fn resolve_plain(value: &str) -> Node {
    match value {
        "" | "~" | "null" | "Null" | "NULL" => return Node::Null,
        "true" | "True" | "TRUE" => return Node::Bool(true),
        "false" | "False" | "FALSE" => return Node::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Node::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Node::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Node::Float(f64::NAN),
        _ => {}
    }
    let first = value.as_bytes()[0];
    if first == b'.' {
        return match value.parse::<f64>() {
            Ok(f) if ferroflux_goyaml::yaml_style_float(value) => Node::Float(f),
            _ => Node::Str(value.into()),
        };
    }
    if !(first.is_ascii_digit() || first == b'+' || first == b'-') {
        return Node::Str(value.into());
    }
    if let Some(time) = parse_timestamp(value) {
        return Node::Time(time);
    }
    let plain: String = value.chars().filter(|&c| c != '_').collect();
    if let Some(i) = go_parse_int(&plain) {
        return Node::Int(i);
    }
    if go_parse_int_u64(&plain) {
        // Beyond int64: yaml.v3 yields uint64, which SOPS cannot walk; keep it as a number.
        if let Ok(f) = plain.trim_start_matches('+').parse::<f64>() {
            return Node::Float(f);
        }
    }
    if ferroflux_goyaml::yaml_style_float(&plain)
        && let Ok(f) = plain.parse::<f64>()
    {
        return Node::Float(f);
    }
    let (neg, digits) = match plain.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, plain.as_str()),
    };
    for (prefix, radix) in [("0b", 2), ("0o", 8)] {
        if let Some(d) = digits.strip_prefix(prefix)
            && let Ok(i) = i64::from_str_radix(d, radix)
            && !d.starts_with(['+', '-'])
        {
            return Node::Int(if neg { -i } else { i });
        }
    }
    Node::Str(value.into())
}

/// Go's `strconv.ParseInt(s, 0, 64)` (go-yaml's rules, shared with the other YAML crates).
fn go_parse_int(s: &str) -> Option<i64> {
    ferroflux_goyaml::go_parse_int(s).and_then(|v| i64::try_from(v).ok())
}

/// Go's `strconv.ParseUint(s, 0, 64)` accepts `s`.
fn go_parse_int_u64(s: &str) -> bool {
    !s.starts_with('-') && ferroflux_goyaml::go_parse_int(s).is_some_and(|v| v >= 0)
}

/// yaml.v3's unquoted timestamps (`2001-12-14`, `2001-12-14T21:59:43.10-05:00`,
/// `2001-12-14 21:59:43.10`), which SOPS 3.10+ keeps as `time.Time`: returns Go's
/// `MarshalText` form (RFC 3339 with nanoseconds, trailing zeros dropped), which is both what
/// the MAC hashes and what `sops decrypt` prints.
pub(crate) fn parse_timestamp(s: &str) -> Option<String> {
    let b = s.as_bytes();
    if b.len() < 5 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return None;
    }
    let mut i = 5;
    // 1 or 2 digits (Go's non-padded layout fields).
    let num = |i: &mut usize| -> Option<u32> {
        let start = *i;
        while *i < b.len() && *i - start < 2 && b[*i].is_ascii_digit() {
            *i += 1;
        }
        if *i == start {
            None
        } else {
            s[start..*i].parse().ok()
        }
    };
    let year: i32 = s[..4].parse().ok()?;
    let month = num(&mut i)?;
    if b.get(i) != Some(&b'-') {
        return None;
    }
    i += 1;
    let day = num(&mut i)?;
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        _ => return None,
    };
    if day == 0 || day > days_in_month {
        return None;
    }
    let date = format!("{year:04}-{month:02}-{day:02}");
    if i == b.len() {
        return Some(format!("{date}T00:00:00Z"));
    }
    let with_zone = match b[i] {
        b'T' | b't' => true,
        b' ' => false,
        _ => return None,
    };
    i += 1;
    let hour = num(&mut i)?;
    if b.get(i) != Some(&b':') {
        return None;
    }
    i += 1;
    let minute = num(&mut i)?;
    if b.get(i) != Some(&b':') {
        return None;
    }
    i += 1;
    let second = num(&mut i)?;
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut frac = String::new();
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return None;
        }
        // Nanosecond precision; Go drops trailing zeros when printing.
        let digits: String = s[start..i].chars().take(9).collect();
        let trimmed = digits.trim_end_matches('0');
        if !trimmed.is_empty() {
            frac = format!(".{trimmed}");
        }
    }
    let zone = if with_zone {
        match &s[i..] {
            "Z" => "Z".to_string(),
            z if z.len() == 6
                && (z.starts_with('+') || z.starts_with('-'))
                && z.as_bytes()[3] == b':'
                && z[1..3]
                    .bytes()
                    .chain(z[4..6].bytes())
                    .all(|c| c.is_ascii_digit()) =>
            {
                let (h, m): (u32, u32) = (z[1..3].parse().ok()?, z[4..6].parse().ok()?);
                if h > 24 || m > 59 {
                    return None;
                }
                if h == 0 && m == 0 {
                    "Z".to_string()
                } else {
                    z.to_string()
                }
            }
            _ => return None,
        }
    } else if i == b.len() {
        "Z".to_string()
    } else {
        return None;
    };
    Some(format!(
        "{date}T{hour:02}:{minute:02}:{second:02}{frac}{zone}"
    ))
}

/// Renders documents as a YAML stream the way `sops decrypt` prints them (Go's yaml.v3 encoder
/// with an indentation of 4, no line folding), so decrypted files hash the same as with Flux
/// when a secretGenerator reads them. Comments are not kept.
pub(crate) fn emit(docs: &[Node]) -> String {
    let mut out = String::new();
    for (i, doc) in docs.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        match doc {
            Node::Map(entries) if !entries.is_empty() => emit_map(&mut out, entries, 0, false),
            Node::Seq(items) if !items.is_empty() => emit_seq(&mut out, items, 0, false),
            other => {
                emit_scalar_value(&mut out, other, 4);
            }
        }
    }
    out
}

/// yaml.v3's indentation step.
const INDENT: usize = 4;

/// The indentation yaml.v3 gives a block nested under a mapping entry at `indent`: the next
/// multiple of 4.
fn nested(indent: usize) -> usize {
    INDENT * ((indent + INDENT) / INDENT)
}

fn pad(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

/// A block mapping whose keys sit at `indent`; with `inline`, the first key follows what is
/// already on the line (a sequence's `- `).
fn emit_map(out: &mut String, entries: &[(String, Node)], indent: usize, inline: bool) {
    for (i, (key, value)) in entries.iter().enumerate() {
        if !(inline && i == 0) {
            pad(out, indent);
        }
        if is_simple_key(key) {
            out.push_str(&key_text(key));
        } else {
            // yaml.v3 writes multi-line and very long keys as complex keys: "? key" ": value".
            out.push_str("? ");
            emit_scalar_value(out, &Node::Str(key.clone()), nested(indent));
            pad(out, indent);
        }
        out.push(':');
        match value {
            Node::Map(e) if !e.is_empty() => {
                out.push('\n');
                emit_map(out, e, nested(indent), false);
            }
            Node::Seq(items) if !items.is_empty() => {
                out.push('\n');
                emit_seq(out, items, nested(indent), false);
            }
            scalar => {
                out.push(' ');
                emit_scalar_value(out, scalar, nested(indent));
            }
        }
    }
}

/// A block sequence whose dashes sit at `indent`.
fn emit_seq(out: &mut String, items: &[Node], indent: usize, inline: bool) {
    for (i, item) in items.iter().enumerate() {
        if !(inline && i == 0) {
            pad(out, indent);
        }
        out.push_str("- ");
        // yaml.v3: the first indentation inside a sequence item just skips the "- ".
        match item {
            Node::Map(e) if !e.is_empty() => emit_map(out, e, indent + 2, true),
            Node::Seq(inner) if !inner.is_empty() => emit_seq(out, inner, indent + 2, true),
            scalar => emit_scalar_value(out, scalar, indent + 2),
        }
    }
}

/// A scalar (or empty collection) ending the current line; `block_indent` is where the lines of
/// a literal block go.
fn emit_scalar_value(out: &mut String, node: &Node, block_indent: usize) {
    match node {
        Node::Null => out.push_str("null"),
        Node::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Node::Int(i) => out.push_str(&i.to_string()),
        Node::Float(f) => out.push_str(&yaml_float(*f)),
        Node::Time(t) => out.push_str(t),
        Node::Seq(_) => out.push_str("[]"),
        Node::Map(_) => out.push_str("{}"),
        Node::Str(s) => {
            if string_style(s, false) == Style::Literal {
                emit_literal(out, s, block_indent);
                return;
            }
            if s == "<<" {
                // yaml.v3 resolves "<<" to its merge tag and writes the tag out.
                out.push_str("!!merge <<");
            } else {
                out.push_str(&styled(s, string_style(s, false), block_indent));
            }
        }
        Node::Bytes(b) => match std::str::from_utf8(b) {
            Ok(s) => return emit_scalar_value(out, &Node::Str(s.to_string()), block_indent),
            Err(_) => {
                use base64::Engine;
                out.push_str("!!binary ");
                out.push_str(&base64::engine::general_purpose::STANDARD.encode(b));
            }
        },
    }
    out.push('\n');
}

/// A literal block (`|`), with yaml.v3's indentation and chomping indicators.
fn emit_literal(out: &mut String, s: &str, indent: usize) {
    out.push('|');
    if s.starts_with([' ', '\n']) {
        out.push_str(&INDENT.to_string());
    }
    let trailing = s.len() - s.trim_end_matches('\n').len();
    match trailing {
        0 => out.push('-'),
        1 if s.len() > 1 => {}
        _ => out.push('+'),
    }
    out.push('\n');
    // Lines are indented only when they have content; the final break is the chomped one.
    let body = s.strip_suffix('\n').unwrap_or(s);
    for line in body.split('\n') {
        if !line.is_empty() {
            pad(out, indent);
            out.push_str(line);
        }
        out.push('\n');
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
}

/// yaml.v3 writes a key inline when it is a single line of at most 128 bytes.
fn is_simple_key(key: &str) -> bool {
    key.len() <= 128 && !key.chars().any(is_break)
}

fn key_text(key: &str) -> String {
    if key == "<<" {
        // A merge key: yaml.v3 writes its resolved tag.
        return "!!merge <<".to_string();
    }
    styled(key, string_style(key, true), 0)
}

fn styled(s: &str, style: Style, indent: usize) -> String {
    match style {
        Style::Plain => s.to_string(),
        Style::SingleQuoted => single_quoted(s, indent),
        Style::DoubleQuoted | Style::Literal => double_quoted(s),
    }
}

/// A single-quoted scalar as yaml.v3 writes it: quotes doubled, and after a line break (only
/// U+0085, U+2028 or U+2029 get here) the next character is indented.
fn single_quoted(s: &str, indent: usize) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    let mut after_break = false;
    for c in s.chars() {
        if is_break(c) {
            out.push(c);
            after_break = true;
            continue;
        }
        if after_break && c != ' ' {
            out.extend(std::iter::repeat_n(' ', indent));
        }
        after_break = false;
        out.push(c);
        if c == '\'' {
            out.push('\'');
        }
    }
    out.push('\'');
    out
}

/// The style yaml.v3 writes a string in: plain when it reads back as the same string and has no
/// indicators, else single-quoted, else double-quoted; multi-line strings as literal blocks.
fn string_style(s: &str, key: bool) -> Style {
    let a = analyze(s);
    let can_use_plain = matches!(resolve_plain(s), Node::Str(_))
        && s != "<<"
        && !is_old_bool(s)
        && !is_base60_float(s);
    let wanted = if s.contains('\n') {
        Style::Literal
    } else if can_use_plain {
        Style::Plain
    } else {
        Style::DoubleQuoted
    };
    match wanted {
        Style::Literal if key && a.multiline => Style::DoubleQuoted,
        Style::Literal if !a.block_allowed => Style::DoubleQuoted,
        Style::Plain if !a.block_plain_allowed => {
            if a.single_quoted_allowed {
                Style::SingleQuoted
            } else {
                Style::DoubleQuoted
            }
        }
        style => style,
    }
}

struct Analysis {
    multiline: bool,
    block_plain_allowed: bool,
    single_quoted_allowed: bool,
    block_allowed: bool,
}

/// yaml.v3's `yaml_emitter_analyze_scalar` (block context, Unicode output).
fn analyze(s: &str) -> Analysis {
    if s.is_empty() {
        return Analysis {
            multiline: false,
            block_plain_allowed: true,
            single_quoted_allowed: true,
            block_allowed: false,
        };
    }
    let mut block_indicators = s.starts_with("---") || s.starts_with("...");
    let (mut line_breaks, mut special, mut tabs) = (false, false, false);
    let (mut leading_space, mut leading_break) = (false, false);
    let (mut trailing_space, mut trailing_break) = (false, false);
    let (mut break_space, mut space_break) = (false, false);
    let (mut previous_space, mut previous_break) = (false, false);
    let mut preceded_by_whitespace = true;
    let chars: Vec<char> = s.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let followed_by_whitespace = chars.get(i + 1).is_none_or(|&n| is_blank(n));
        if i == 0 {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => block_indicators = true,
                '?' | ':' | '-' if followed_by_whitespace => block_indicators = true,
                _ => {}
            }
        } else {
            match c {
                ':' if followed_by_whitespace => block_indicators = true,
                '#' if preceded_by_whitespace => block_indicators = true,
                _ => {}
            }
        }
        if c == '\t' {
            tabs = true;
        } else if !is_printable(c) {
            special = true;
        }
        let last = i + 1 == chars.len();
        if c == ' ' {
            leading_space |= i == 0;
            trailing_space |= last;
            break_space |= previous_break;
            previous_space = true;
            previous_break = false;
        } else if is_break(c) {
            line_breaks = true;
            leading_break |= i == 0;
            trailing_break |= last;
            space_break |= previous_space;
            previous_space = false;
            previous_break = true;
        } else {
            previous_space = false;
            previous_break = false;
        }
        preceded_by_whitespace = is_blank(c) || is_break(c);
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
    if space_break || tabs || special {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
    }
    if space_break || special {
        a.block_allowed = false;
    }
    if line_breaks || block_indicators {
        a.block_plain_allowed = false;
    }
    a
}

fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// yaml.v3's printable set: no tab, no U+0085 and nothing beyond the Basic Multilingual Plane
/// (it escapes those).
fn is_printable(c: char) -> bool {
    matches!(c, '\n' | '\u{20}'..='\u{7e}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}')
        && c != '\u{feff}'
}

/// YAML 1.1 booleans yaml.v3 quotes for older readers.
fn is_old_bool(s: &str) -> bool {
    matches!(
        s,
        "y" | "Y"
            | "yes"
            | "Yes"
            | "YES"
            | "on"
            | "On"
            | "ON"
            | "n"
            | "N"
            | "no"
            | "No"
            | "NO"
            | "off"
            | "Off"
            | "OFF"
    )
}

/// `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`: YAML 1.1 sexagesimal numbers.
fn is_base60_float(s: &str) -> bool {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (int_part, frac) = match body.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    if frac.is_some_and(|f| !f.chars().all(|c| c.is_ascii_digit() || c == '_')) {
        return false;
    }
    let mut groups = int_part.split(':');
    let Some(head) = groups.next() else {
        return false;
    };
    if !head.starts_with(|c: char| c.is_ascii_digit())
        || !head.chars().all(|c| c.is_ascii_digit() || c == '_')
    {
        return false;
    }
    let rest: Vec<&str> = groups.collect();
    !rest.is_empty()
        && rest.iter().all(|g| {
            let b = g.as_bytes();
            match b.len() {
                1 => b[0].is_ascii_digit(),
                2 => (b'0'..=b'5').contains(&b[0]) && b[1].is_ascii_digit(),
                _ => false,
            }
        })
}

/// A double-quoted scalar with yaml.v3's escapes.
fn double_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    // yaml.v3 tests for a byte order mark at the start of the string, not at each character:
    // after a leading BOM every character is escaped.
    let bom = s.starts_with('\u{feff}');
    for c in s.chars() {
        let escape = bom || !is_printable(c) || is_break(c) || c == '"' || c == '\\';
        if !escape {
            out.push(c);
            continue;
        }
        match c {
            '\0' => out.push_str("\\0"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{b}' => out.push_str("\\v"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            '\u{1b}' => out.push_str("\\e"),
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{85}' => out.push_str("\\N"),
            '\u{a0}' => out.push_str("\\_"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            c if (c as u32) <= 0xff => out.push_str(&format!("\\x{:02X}", c as u32)),
            c if (c as u32) <= 0xffff => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push_str(&format!("\\U{:08X}", c as u32)),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Node {
        parse(text).unwrap().remove(0)
    }

    #[test]
    fn plain_scalars_are_typed_as_yaml_v3() {
        let doc = one(
            "a: 1\nb: 1.5\nc: true\nd: ~\ne: 0x10\nf: 1e3\ng: \"1\"\nh: yes\ni: 0777\nj: 08\n\
             k: 1_000\nl: 2001-12-14\nm: .5\nn: -.inf\no: !!str 5\np: '0'\nq: +12\n",
        );
        let get = |k| doc.get(k).unwrap().clone();
        assert_eq!(get("a"), Node::Int(1));
        assert_eq!(get("b"), Node::Float(1.5));
        assert_eq!(get("c"), Node::Bool(true));
        assert_eq!(get("d"), Node::Null);
        assert_eq!(get("e"), Node::Int(16));
        assert_eq!(get("f"), Node::Float(1000.0));
        assert_eq!(get("g"), Node::Str("1".into()));
        assert_eq!(get("h"), Node::Str("yes".into()));
        assert_eq!(get("i"), Node::Int(511));
        assert_eq!(get("j"), Node::Float(8.0));
        assert_eq!(get("k"), Node::Int(1000));
        assert_eq!(get("l"), Node::Time("2001-12-14T00:00:00Z".into()));
        assert_eq!(get("m"), Node::Float(0.5));
        assert_eq!(get("n"), Node::Float(f64::NEG_INFINITY));
        assert_eq!(get("o"), Node::Str("5".into()));
        assert_eq!(get("p"), Node::Str("0".into()));
        assert_eq!(get("q"), Node::Int(12));
    }

    #[test]
    fn timestamps_read_as_go_prints_them() {
        let t = |s| parse_timestamp(s);
        assert_eq!(t("2001-12-14").as_deref(), Some("2001-12-14T00:00:00Z"));
        assert_eq!(t("2001-2-3").as_deref(), Some("2001-02-03T00:00:00Z"));
        assert_eq!(
            t("2001-12-14t21:59:43.100-05:00").as_deref(),
            Some("2001-12-14T21:59:43.1-05:00")
        );
        assert_eq!(
            t("2001-12-14 21:59:43.10").as_deref(),
            Some("2001-12-14T21:59:43.1Z")
        );
        assert_eq!(
            t("2024-01-02T03:04:05+00:00").as_deref(),
            Some("2024-01-02T03:04:05Z")
        );
        assert_eq!(t("2001-02-30"), None);
        assert_eq!(t("2001-12-14 21:59:43.10 -5"), None);
        assert_eq!(t("1.2.3"), None);
    }

    #[test]
    fn aliases_resolve_and_documents_split() {
        let docs = parse("a: &x {b: 1}\nc: *x\n---\nd: [1, 2]\n---\n").unwrap();
        assert_eq!(docs.len(), 3);
        assert_eq!(docs[0].get("c"), docs[0].get("a"));
        assert_eq!(docs[2], Node::Map(vec![]));
        assert!(parse("- a\n").is_err());
        assert!(parse("just a value\n").is_err());
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let prev = format!("*a{}", i - 1);
            let items = [prev.as_str(); 10].join(", ");
            text.push_str(&format!("a{i}: &a{i} [{items}]\n"));
        }
        let err = parse(&text).unwrap_err();
        assert!(err.to_string().contains("excessive aliasing"), "{err}");
    }

    #[test]
    fn emitted_yaml_reads_back_the_same() {
        let text = "s: \"123\"\nt: \"yes\"\nu: plain text\nv: \"a: b\"\nw: \"line1\\nline2\\n\"\n\
                    x: [1, {y: z, w: [a, [b, c]]}, \"\"]\nn: null\nf: 1.5\nb: false\ne: {}\nl: []\n\
                    m: \"  lead\\nx\"\nk: \"multi\\n\\n\\nend\\n\\n\"\nq: \"tab\\tand \\\"quote\\\"\"\n";
        let docs = parse(text).unwrap();
        let out = emit(&docs);
        assert_eq!(parse(&out).unwrap(), docs, "{out}");
    }
}
