//! JSON and YAML functions over the template engine's Go-identical
//! encoders and decoders (`ferroflux_gotemplate::{json, yaml}`): Sprig's
//! JSON set and Helm's overrides (`toJson`, `fromJson`, `fromJsonArray`,
//! `toYaml`, `toYamlPretty`, `fromYaml`, `fromYamlArray`).

use ferroflux_gotemplate::{Dict, Value, json, yaml};

use crate::conv::{err, str_arg};
use crate::{Arity, Reg};

use Arity::Exact;

pub(crate) fn register(r: &mut Reg<'_>) {
    // Helm's toJson swallows errors; Sprig's toPrettyJson too.
    r.add("toJson", Exact(1), |a| {
        Ok(Value::from(json::to_json(&a[0]).unwrap_or_default()))
    });
    r.add("toPrettyJson", Exact(1), |a| {
        Ok(Value::from(json::to_pretty_json(&a[0]).unwrap_or_default()))
    });
    r.add("toRawJson", Exact(1), |a| {
        json::to_raw_json(&a[0])
            .map(Value::from)
            .map_err(|e| err(e.message()))
    });
    r.add("mustToJson", Exact(1), |a| {
        json::to_json(&a[0])
            .map(Value::from)
            .map_err(|e| err(e.message()))
    });
    r.add("mustToPrettyJson", Exact(1), |a| {
        json::to_pretty_json(&a[0])
            .map(Value::from)
            .map_err(|e| err(e.message()))
    });
    r.add("mustToRawJson", Exact(1), |a| {
        json::to_raw_json(&a[0])
            .map(Value::from)
            .map_err(|e| err(e.message()))
    });
    r.add("mustFromJson", Exact(1), |a| {
        decode_json(str_arg(&a[0])?).map_err(err)
    });
    r.add("fromJson", Exact(1), |a| {
        let s = str_arg(&a[0])?;
        Ok(match decode_json(s) {
            Ok(v @ Value::Map(_)) => v,
            Ok(Value::Nil) => Value::Map(Dict::new()),
            Ok(other) => error_map(format!(
                "json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                json_kind(&other)
            )),
            Err(e) => error_map(e),
        })
    });
    r.add("fromJsonArray", Exact(1), |a| {
        let s = str_arg(&a[0])?;
        Ok(match decode_json(s) {
            Ok(v @ Value::List(..)) => v,
            Ok(Value::Nil) => Value::list([]),
            Ok(other) => Value::list([Value::from(format!(
                "json: cannot unmarshal {} into Go value of type []interface {{}}",
                json_kind(&other)
            ))]),
            Err(e) => Value::list([Value::from(e)]),
        })
    });
    r.add("toYaml", Exact(1), |a| {
        Ok(Value::from(
            yaml::to_yaml(&a[0])
                .map(|s| s.strip_suffix('\n').map(String::from).unwrap_or(s))
                .unwrap_or_default(),
        ))
    });
    r.add("toYamlPretty", Exact(1), |a| {
        Ok(Value::from(to_yaml_pretty(&a[0]).unwrap_or_default()))
    });
    r.add("fromYaml", Exact(1), |a| {
        let s = str_arg(&a[0])?;
        Ok(match yaml::from_yaml(s) {
            Ok(v) => v,
            Err(e) => error_map(e.message().to_string()),
        })
    });
    r.add("fromYamlArray", Exact(1), |a| {
        let s = str_arg(&a[0])?;
        Ok(match yaml::from_yaml_array(s) {
            Ok(v) => v,
            Err(e) => Value::list([Value::from(e.message())]),
        })
    });
}

/// Helm's tolerant decoders put the error text under `Error`.
fn error_map(msg: String) -> Value {
    let d = Dict::new();
    d.insert("Error", Value::from(msg));
    Value::Map(d)
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

/// `json.Unmarshal` into `interface{}`, with Go's syntax error wording.
fn decode_json(s: &str) -> Result<Value, String> {
    if let Some(e) = go_json_syntax_error(s) {
        return Err(e);
    }
    json::from_json(s).map_err(|e| e.message().to_string())
}

/// Go's `quoteChar` for scanner errors.
fn quote_char(c: char) -> String {
    match c {
        '\'' => "'\\''".into(),
        '"' => "'\"'".into(),
        c => {
            let q = crate::strings::go_quote(&c.to_string());
            format!("'{}'", &q[1..q.len() - 1])
        }
    }
}

/// Runs Go's `encoding/json` scanner over `s` and returns its first syntax
/// error message, if any.
fn go_json_syntax_error(s: &str) -> Option<String> {
    struct P<'a> {
        c: std::iter::Peekable<std::str::Chars<'a>>,
    }
    type E = Option<String>;
    fn bad(c: char, ctx: &str) -> E {
        Some(format!("invalid character {} {ctx}", quote_char(c)))
    }
    const EOF: &str = "unexpected end of JSON input";
    impl P<'_> {
        fn ws(&mut self) {
            while matches!(self.c.peek(), Some(' ' | '\t' | '\n' | '\r')) {
                self.c.next();
            }
        }
        fn value(&mut self) -> E {
            self.ws();
            let Some(c) = self.c.next() else {
                return Some(EOF.into());
            };
            match c {
                '{' => {
                    self.ws();
                    if self.c.peek() == Some(&'}') {
                        self.c.next();
                        return None;
                    }
                    loop {
                        self.ws();
                        match self.c.next() {
                            None => return Some(EOF.into()),
                            Some('"') => {
                                if let Err(e) = self.string() {
                                    return Some(e);
                                }
                            }
                            Some(c) => return bad(c, "looking for beginning of object key string"),
                        }
                        self.ws();
                        match self.c.next() {
                            None => return Some(EOF.into()),
                            Some(':') => {}
                            Some(c) => return bad(c, "after object key"),
                        }
                        if let Some(e) = self.value() {
                            return Some(e);
                        }
                        self.ws();
                        match self.c.next() {
                            None => return Some(EOF.into()),
                            Some(',') => {}
                            Some('}') => return None,
                            Some(c) => return bad(c, "after object key:value pair"),
                        }
                    }
                }
                '[' => {
                    self.ws();
                    if self.c.peek() == Some(&']') {
                        self.c.next();
                        return None;
                    }
                    loop {
                        if let Some(e) = self.value() {
                            return Some(e);
                        }
                        self.ws();
                        match self.c.next() {
                            None => return Some(EOF.into()),
                            Some(',') => {}
                            Some(']') => return None,
                            Some(c) => return bad(c, "after array element"),
                        }
                    }
                }
                '"' => self.string_e(),
                't' => self.lit("rue", "true"),
                'f' => self.lit("alse", "false"),
                'n' => self.lit("ull", "null"),
                '-' | '0'..='9' => self.number(c),
                c => bad(c, "looking for beginning of value"),
            }
        }
        fn string_e(&mut self) -> E {
            self.string().err()
        }
        fn string(&mut self) -> Result<(), String> {
            loop {
                let Some(c) = self.c.next() else {
                    return Err(EOF.into());
                };
                match c {
                    '"' => return Ok(()),
                    '\\' => match self.c.next() {
                        None => return Err(EOF.into()),
                        Some('"' | '\\' | '/' | 'b' | 'f' | 'n' | 'r' | 't') => {}
                        Some('u') => {
                            for _ in 0..4 {
                                match self.c.next() {
                                    None => return Err(EOF.into()),
                                    Some(h) if h.is_ascii_hexdigit() => {}
                                    Some(h) => {
                                        return Err(bad(h, "in \\u hexadecimal character escape")
                                            .unwrap_or_default());
                                    }
                                }
                            }
                        }
                        Some(e) => return Err(bad(e, "in string escape code").unwrap_or_default()),
                    },
                    c if (c as u32) < 0x20 => {
                        return Err(bad(c, "in string literal").unwrap_or_default());
                    }
                    _ => {}
                }
            }
        }
        fn lit(&mut self, rest: &str, word: &str) -> E {
            // at the end of input Go's scanner is fed a space
            for want in rest.chars() {
                match self.c.next().unwrap_or(' ') {
                    c if c == want => {}
                    c => {
                        return bad(
                            c,
                            &format!("in literal {word} (expecting {})", quote_char(want)),
                        );
                    }
                }
            }
            None
        }
        fn digits(&mut self) {
            while matches!(self.c.peek(), Some('0'..='9')) {
                self.c.next();
            }
        }
        fn number(&mut self, first: char) -> E {
            let mut first = first;
            if first == '-' {
                match self.c.next().unwrap_or(' ') {
                    c @ '0'..='9' => first = c,
                    c => return bad(c, "in numeric literal"),
                }
            }
            if first != '0' {
                self.digits();
            }
            if self.c.peek() == Some(&'.') {
                self.c.next();
                match self.c.next().unwrap_or(' ') {
                    '0'..='9' => self.digits(),
                    c => return bad(c, "after decimal point in numeric literal"),
                }
            }
            if matches!(self.c.peek(), Some('e' | 'E')) {
                self.c.next();
                if matches!(self.c.peek(), Some('+' | '-')) {
                    self.c.next();
                }
                match self.c.next().unwrap_or(' ') {
                    '0'..='9' => self.digits(),
                    c => return bad(c, "in exponent of numeric literal"),
                }
            }
            None
        }
    }
    let mut p = P {
        c: s.chars().peekable(),
    };
    if let Some(e) = p.value() {
        return Some(e);
    }
    p.ws();
    p.c.next().and_then(|c| bad(c, "after top-level value"))
}

/// Helm's `toYamlPretty` is yaml.v3's encoder with a two-space indent. It
/// differs from `toYaml` (sigs.k8s.io/yaml over yaml.v2) in three ways, each
/// applied to the v2 output here: block sequences are indented under their
/// key, lines are not folded at 80 columns, and floats print with Go's `%g`
/// (`1e+06`) instead of going through JSON (`1000000`).
fn to_yaml_pretty(v: &Value) -> Option<String> {
    let mut floats = Vec::new();
    let marked = mark_floats(v, &mut floats);
    let text = yaml::to_yaml(&marked).ok()?;
    let text = unfold(&text);
    let mut text = reindent_sequences(&text);
    for (i, f) in floats.iter().enumerate().rev() {
        text = text.replace(&float_marker(i), f);
    }
    Some(text.strip_suffix('\n').map(String::from).unwrap_or(text))
}

fn float_marker(i: usize) -> String {
    format!("zzffsprigfloat{i:06}zz")
}

/// yaml.v3's float text (`strconv.FormatFloat(f, 'g', -1, 64)`).
fn v3_float(f: f64) -> String {
    if f.is_nan() {
        ".nan".into()
    } else if f.is_infinite() {
        if f > 0.0 {
            ".inf".into()
        } else {
            "-.inf".into()
        }
    } else {
        crate::fmtv::format_float_g(f, 6)
    }
}

fn mark_floats(v: &Value, floats: &mut Vec<String>) -> Value {
    match v {
        Value::Float(f) => {
            let s = v3_float(*f);
            if s.contains(['e', 'n', 'i']) {
                floats.push(s);
                Value::from(float_marker(floats.len() - 1))
            } else {
                v.clone()
            }
        }
        Value::List(l, t) => Value::typed_list(l.iter().map(|x| mark_floats(x, floats)), *t),
        Value::Map(m) => Value::map(
            m.snapshot()
                .into_iter()
                .map(|(k, x)| (k, mark_floats(&x, floats))),
        ),
        other => other.clone(),
    }
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// Where a line's key starts and whether the line opens a nested block
/// (`key:` with nothing after it), after any `- ` prefixes.
fn key_opening(line: &str) -> Option<usize> {
    let mut col = indent_of(line);
    let mut rest = &line[col..];
    while let Some(r) = rest.strip_prefix("- ") {
        rest = r;
        col += 2;
    }
    (rest.ends_with(':') && !rest.starts_with(['\'', '"', '|', '>', '-'])
        || (rest.ends_with(':') && (rest.starts_with('"') || rest.starts_with('\''))))
    .then_some(col)
}

fn opens_block_scalar(line: &str) -> bool {
    let t = line.trim_end();
    let last = t.rsplit([' ']).next().unwrap_or("");
    (t.contains(": ") || t.trim_start().starts_with("- "))
        && matches!(
            last.trim_end_matches(|c: char| c.is_ascii_digit()),
            "|" | "|-" | "|+" | ">" | ">-" | ">+"
        )
}

fn is_seq_item(line: &str, ind: usize) -> bool {
    let rest = &line[ind..];
    rest.starts_with("- ") || rest == "-"
}

/// Indents block sequences under their parent key by two spaces (yaml.v3
/// with `SetIndent(2)`; yaml.v2 writes them at the key's column).
fn reindent_sequences(src: &str) -> String {
    let mut out = String::with_capacity(src.len() + 64);
    let mut stack: Vec<usize> = Vec::new();
    let mut scalar_from: Option<usize> = None;
    let mut prev_key: Option<usize> = None;
    for line in src.lines() {
        let ind = indent_of(line);
        if let Some(b) = scalar_from {
            if line.trim().is_empty() || ind > b {
                if !line.is_empty() {
                    out.push_str(&" ".repeat(2 * stack.len()));
                }
                out.push_str(line);
                out.push('\n');
                continue;
            }
            scalar_from = None;
        }
        while let Some(&s) = stack.last() {
            if ind < s || (ind == s && !is_seq_item(line, ind)) {
                stack.pop();
            } else {
                break;
            }
        }
        if is_seq_item(line, ind) && prev_key == Some(ind) && stack.last() != Some(&ind) {
            stack.push(ind);
        }
        out.push_str(&" ".repeat(2 * stack.len()));
        out.push_str(line);
        out.push('\n');
        prev_key = key_opening(line);
        if opens_block_scalar(line) {
            scalar_from = Some(ind);
        }
    }
    out
}

/// Undoes yaml.v2's folding of long flow scalars (plain or quoted): a line
/// more indented than a preceding `key: value` / `- value` line continues it.
fn unfold(src: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut cont_from: Option<usize> = None;
    let mut scalar_from: Option<usize> = None;
    for line in src.lines() {
        let ind = indent_of(line);
        if let Some(b) = scalar_from {
            if line.trim().is_empty() || ind > b {
                out.push(line.to_string());
                continue;
            }
            scalar_from = None;
        }
        if let Some(c) = cont_from
            && ind > c
            && !line.trim().is_empty()
            && let Some(last) = out.last_mut()
        {
            // a fold is one space; a following space was escaped as `\ `
            let rest = line.trim_start();
            last.push(' ');
            last.push_str(
                rest.strip_prefix("\\ ")
                    .map(|r| format!(" {r}"))
                    .as_deref()
                    .unwrap_or(rest),
            );
            continue;
        }
        cont_from = None;
        let mut col = ind;
        let mut rest = &line[ind..];
        while let Some(r) = rest.strip_prefix("- ") {
            rest = r;
            col += 2;
        }
        if opens_block_scalar(line) {
            scalar_from = Some(ind);
        } else if let Some(p) = rest.find(": ") {
            let value = &rest[p + 2..];
            if !value.is_empty() {
                cont_from = Some(col);
            }
        } else if col > ind && !rest.is_empty() && !rest.ends_with(':') {
            cont_from = Some(col - 2);
        }
        out.push(line.to_string());
    }
    let mut s = out.join("\n");
    s.push('\n');
    s
}
