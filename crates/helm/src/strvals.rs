//! `--set`, `--set-string` and `--set-json` parsed exactly as Helm's strvals parser does
//! (`a.b=c`, `a[0]=x`, `{a,b}` lists, `\` escapes, `null`, int64 and bool typing).

use ferroflux_gotemplate::{Dict, Value};

/// Largest list index accepted.
const MAX_INDEX: usize = 65536;
/// Deepest `a.b.c…` nesting accepted.
const MAX_NESTED: usize = 30;

#[derive(Debug)]
enum Stop {
    Eof,
    NotList,
    Err(String),
}

type R<T> = std::result::Result<T, Stop>;

fn err<T>(m: impl Into<String>) -> R<T> {
    Err(Stop::Err(m.into()))
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Typed,
    String,
    Json,
}

struct Parser {
    s: Vec<char>,
    pos: usize,
    mode: Mode,
}

/// Parses one `--set` argument into `dest`.
pub fn parse_into(s: &str, dest: &Dict) -> Result<(), String> {
    run(s, dest, Mode::Typed)
}

/// Parses one `--set-string` argument into `dest`.
pub fn parse_into_string(s: &str, dest: &Dict) -> Result<(), String> {
    run(s, dest, Mode::String)
}

/// Parses one `--set-json` argument into `dest`.
pub fn parse_json(s: &str, dest: &Dict) -> Result<(), String> {
    run(s, dest, Mode::Json)
}

fn run(s: &str, dest: &Dict, mode: Mode) -> Result<(), String> {
    let mut p = Parser {
        s: s.chars().collect(),
        pos: 0,
        mode,
    };
    loop {
        match p.key(dest, 0) {
            Ok(()) => continue,
            Err(Stop::Eof) => return Ok(()),
            Err(Stop::NotList) => return Err("not a list".into()),
            Err(Stop::Err(e)) => return Err(e),
        }
    }
}

fn set(data: &Dict, key: &str, val: Value) {
    if !key.is_empty() {
        data.insert(key, val);
    }
}

fn set_index(mut list: Vec<Value>, index: i64, val: Value) -> R<Vec<Value>> {
    if index < 0 {
        return err(format!("negative {index} index not allowed"));
    }
    let i = index as usize;
    if i > MAX_INDEX {
        return err(format!(
            "index of {index} is greater than maximum supported index of {MAX_INDEX}"
        ));
    }
    if list.len() <= i {
        list.resize(i + 1, Value::Nil);
    }
    list[i] = val;
    Ok(list)
}

fn typed_val(v: &str, st: bool) -> Value {
    if st {
        return Value::from(v);
    }
    if v.eq_ignore_ascii_case("true") {
        return Value::Bool(true);
    }
    if v.eq_ignore_ascii_case("false") {
        return Value::Bool(false);
    }
    if v.eq_ignore_ascii_case("null") {
        return Value::Nil;
    }
    if v == "0" {
        return Value::int64(0);
    }
    if !v.is_empty()
        && !v.starts_with('0')
        && let Some(i) = go_parse_int(v)
    {
        return Value::int64(i);
    }
    Value::from(v)
}

/// Go's `strconv.ParseInt(s, 10, 64)` (optional sign, digits only).
fn go_parse_int(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn list_of(v: Option<Value>, key: &str) -> R<Vec<Value>> {
    match v {
        None => Ok(Vec::new()),
        Some(Value::List(l, _)) => Ok(l.to_vec()),
        Some(other) => err(format!(
            "unable to parse key: interface conversion: interface {{}} is {}, not []interface {{}} (key {key:?})",
            go_type(&other)
        )),
    }
}

fn go_type(v: &Value) -> &'static str {
    match v {
        Value::Nil => "nil",
        Value::Bool(_) => "bool",
        Value::Int(_, t) => t.go_name(),
        Value::Float(_) => "float64",
        Value::String(_) => "string",
        Value::Map(_) => "map[string]interface {}",
        _ => "[]interface {}",
    }
}

impl Parser {
    fn read(&mut self) -> Option<char> {
        let c = self.s.get(self.pos).copied();
        if c.is_some() {
            self.pos += 1;
        }
        c
    }

    fn unread(&mut self) {
        self.pos = self.pos.saturating_sub(1);
    }

    /// Runes until one of `stop` (consumed), honouring `\` escapes. `Err(Eof)` carries the
    /// runes read so far through `partial`.
    fn until(&mut self, stop: &[char]) -> (String, Option<char>) {
        let mut v = String::new();
        loop {
            match self.read() {
                None => return (v, None),
                Some(c) if stop.contains(&c) => return (v, Some(c)),
                Some('\\') => match self.read() {
                    None => return (v, None),
                    Some(n) => v.push(n),
                },
                Some(c) => v.push(c),
            }
        }
    }

    fn key(&mut self, data: &Dict, level: usize) -> R<()> {
        let (k, last) = self.until(&['=', '[', ',', '.']);
        match last {
            None => {
                if k.is_empty() {
                    return Err(Stop::Eof);
                }
                err(format!("key {k:?} has no value"))
            }
            Some('[') => {
                let i = self
                    .key_index()
                    .map_err(|e| Stop::Err(format!("error parsing index: {}", stop_msg(e))))?;
                let list = list_of(data.get(&k), &k)?;
                let (list, res) = match self.list_item(list.clone(), i, level) {
                    Ok(l) => (l, Ok(())),
                    Err(e) => (list, Err(e)),
                };
                set(data, &k, Value::list(list));
                res
            }
            Some('=') => {
                if self.mode == Mode::Json {
                    let v = self.json_value()?;
                    set(data, &k, v);
                    return self.empty_val().map(|_| ());
                }
                match self.val_list() {
                    Ok(vl) => {
                        set(data, &k, Value::list(vl));
                        Ok(())
                    }
                    Err(Stop::Eof) => {
                        set(data, &k, Value::from(""));
                        Err(Stop::Eof)
                    }
                    Err(Stop::NotList) => {
                        let (rs, _) = self.until(&[',']);
                        set(data, &k, typed_val(&rs, self.mode == Mode::String));
                        Ok(())
                    }
                    Err(e) => Err(e),
                }
            }
            Some(',') => {
                set(data, &k, Value::from(""));
                err(format!("key {k:?} has no value (cannot end with ,)"))
            }
            _ => {
                let level = level + 1;
                if level > MAX_NESTED {
                    return err(format!(
                        "value name nested level is greater than maximum supported nested level of {MAX_NESTED}"
                    ));
                }
                let inner = match data.get(&k) {
                    None => Dict::new(),
                    Some(Value::Map(d)) => d,
                    Some(other) => {
                        return err(format!(
                            "unable to parse key: interface conversion: interface {{}} is {}, not map[string]interface {{}}",
                            go_type(&other)
                        ));
                    }
                };
                let e = self.key(&inner, level);
                if e.is_ok() && inner.is_empty() {
                    return err(format!("key map {k:?} has no value"));
                }
                if !inner.is_empty() {
                    set(data, &k, Value::Map(inner));
                }
                e
            }
        }
    }

    /// Reads a JSON value for `--set-json`; an empty value is null.
    fn json_value(&mut self) -> R<Value> {
        if self.empty_val()? {
            return Ok(Value::Nil);
        }
        let rest: String = self.s[self.pos..].iter().collect();
        let mut de = serde_json::Deserializer::from_str(&rest).into_iter::<serde_json::Value>();
        match de.next() {
            Some(Ok(v)) => {
                let used = rest[..de.byte_offset()].chars().count();
                self.pos += used;
                Ok(Value::from_json(&v))
            }
            Some(Err(e)) => err(e.to_string()),
            None => err("unexpected end of JSON input"),
        }
    }

    fn key_index(&mut self) -> R<i64> {
        let (v, last) = self.until(&[']']);
        if last.is_none() {
            return Err(Stop::Eof);
        }
        v.parse::<i64>()
            .map_err(|_| Stop::Err(format!("strconv.Atoi: parsing {v:?}: invalid syntax")))
    }

    fn list_item(&mut self, list: Vec<Value>, i: i64, level: usize) -> R<Vec<Value>> {
        if i < 0 {
            return err(format!("negative {i} index not allowed"));
        }
        let (k, last) = self.until(&['[', '.', '=']);
        if !k.is_empty() {
            return err(format!("unexpected data at end of array index: {k:?}"));
        }
        match last {
            None => Err(Stop::Eof),
            Some('=') => {
                if self.mode == Mode::Json {
                    let v = self.json_value()?;
                    let list = set_index(list, i, v)?;
                    self.empty_val()?;
                    return Ok(list);
                }
                match self.val_list() {
                    Ok(vl) => set_index(list, i, Value::list(vl)),
                    Err(Stop::Eof) => set_index(list, i, Value::from("")),
                    Err(Stop::NotList) => {
                        let (rs, _) = self.until(&[',']);
                        set_index(list, i, typed_val(&rs, self.mode == Mode::String))
                    }
                    Err(e) => Err(e),
                }
            }
            Some('[') => {
                let next = self
                    .key_index()
                    .map_err(|e| Stop::Err(format!("error parsing index: {}", stop_msg(e))))?;
                let cur = match list.get(i as usize) {
                    Some(Value::List(l, _)) => l.to_vec(),
                    Some(Value::Nil) | None => Vec::new(),
                    Some(other) => {
                        return err(format!(
                            "interface conversion: interface {{}} is {}, not []interface {{}}",
                            go_type(other)
                        ));
                    }
                };
                let l2 = self.list_item(cur, next, level)?;
                set_index(list, i, Value::list(l2))
            }
            _ => {
                let mut list = list;
                let inner = match list.get(i as usize) {
                    Some(Value::Map(d)) => d.clone(),
                    Some(_) => {
                        let d = Dict::new();
                        list[i as usize] = Value::Map(d.clone());
                        d
                    }
                    None => Dict::new(),
                };
                self.key(&inner, level)?;
                set_index(list, i, Value::Map(inner))
            }
        }
    }

    fn empty_val(&mut self) -> R<bool> {
        loop {
            match self.read() {
                None | Some(',') => return Ok(true),
                Some(c) if c.is_whitespace() => {}
                Some(_) => {
                    self.unread();
                    return Ok(false);
                }
            }
        }
    }

    fn val_list(&mut self) -> R<Vec<Value>> {
        match self.read() {
            None => return Err(Stop::Eof),
            Some('{') => {}
            Some(_) => {
                self.unread();
                return Err(Stop::NotList);
            }
        }
        let mut list = Vec::new();
        let st = self.mode == Mode::String;
        loop {
            let (rs, last) = self.until(&[',', '}']);
            match last {
                None => return err("list must terminate with '}'"),
                Some('}') => {
                    if let Some(c) = self.read()
                        && c != ','
                    {
                        self.unread();
                    }
                    list.push(typed_val(&rs, st));
                    return Ok(list);
                }
                _ => list.push(typed_val(&rs, st)),
            }
        }
    }
}

fn stop_msg(s: Stop) -> String {
    match s {
        Stop::Eof => "EOF".into(),
        Stop::NotList => "not a list".into(),
        Stop::Err(e) => e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> serde_json::Value {
        let d = Dict::new();
        parse_into(s, &d).unwrap();
        Value::Map(d).to_json()
    }

    #[test]
    fn set_parses_like_helm() {
        use serde_json::json;
        assert_eq!(parse("a=b,c.d=1"), json!({"a": "b", "c": {"d": 1}}));
        assert_eq!(
            parse("a=true,b=null,c=0,d=012,e=-3"),
            json!({"a": true, "b": null, "c": 0, "d": "012", "e": -3})
        );
        assert_eq!(parse("l={a,b,c}"), json!({"l": ["a", "b", "c"]}));
        assert_eq!(parse("l[1]=x"), json!({"l": [null, "x"]}));
        assert_eq!(
            parse("l[0].n=x,l[0].m=y"),
            json!({"l": [{"n": "x", "m": "y"}]})
        );
        assert_eq!(parse(r"a=b\,c,k\.x=1"), json!({"a": "b,c", "k.x": 1}));
        assert_eq!(parse("a="), json!({"a": ""}));
        assert_eq!(parse("n[0][1]=z"), json!({"n": [[null, "z"]]}));
    }

    #[test]
    fn set_values_are_int64_not_float() {
        let d = Dict::new();
        parse_into("n=5", &d).unwrap();
        assert!(matches!(
            d.get("n"),
            Some(Value::Int(5, ferroflux_gotemplate::IntType::Int64))
        ));
        parse_into_string("s=5", &d).unwrap();
        assert!(matches!(d.get("s"), Some(Value::String(_))));
    }

    #[test]
    fn set_errors_like_helm() {
        let d = Dict::new();
        assert_eq!(parse_into("a", &d).unwrap_err(), "key \"a\" has no value");
        assert_eq!(
            parse_into("a,b=c", &d).unwrap_err(),
            "key \"a\" has no value (cannot end with ,)"
        );
        assert!(parse_into("l[-1]=x", &d).is_err());
        assert!(parse_into("l={a,b", &d).is_err());
    }

    #[test]
    fn set_json_decodes_values() {
        let d = Dict::new();
        parse_json(r#"a={"b":[1,2]},c=3"#, &d).unwrap();
        assert_eq!(
            Value::Map(d).to_json(),
            serde_json::json!({"a": {"b": [1.0, 2.0]}, "c": 3.0})
        );
    }
}
