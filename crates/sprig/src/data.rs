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
        decode_json(str_arg(&a[0])?).map_err(|e| err(e))
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
            Ok(v @ Value::List(_)) => v,
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
        Value::List(_) => "array",
        Value::String(_) => "string",
        Value::Float(_) | Value::Int(_) => "number",
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
