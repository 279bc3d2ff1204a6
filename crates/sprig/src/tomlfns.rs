//! Helm's `toToml` (BurntSushi/toml's encoder layout: plain keys first, then
//! tables, sub-tables indented two spaces) and `fromToml`.

use std::collections::BTreeMap;

use ferroflux_gotemplate::{Dict, IntType, Value};

use crate::conv::str_arg;
use crate::dates::GoTime;
use crate::fmtv::format_float_g;
use crate::{Arity, Reg};

pub(crate) fn register(r: &mut Reg<'_>) {
    r.add("toToml", Arity::Exact(1), |a| {
        let mut enc = Enc::default();
        Ok(Value::from(match enc.encode(&[], &a[0]) {
            Ok(()) => enc.out,
            Err(e) => e,
        }))
    });
    r.add("fromToml", Arity::Exact(1), |a| {
        let s = str_arg(&a[0])?;
        Ok(match s.parse::<toml::Table>() {
            Ok(t) => Value::Map(table(&t)),
            Err(e) => {
                let d = Dict::new();
                d.insert("Error", Value::from(format!("toml: {}", e.message())));
                Value::Map(d)
            }
        })
    });
}

fn table(t: &toml::Table) -> Dict {
    Dict::from_map(
        t.iter()
            .map(|(k, v)| (k.clone(), from_toml(v)))
            .collect::<BTreeMap<_, _>>(),
    )
}

fn from_toml(v: &toml::Value) -> Value {
    match v {
        toml::Value::String(s) => Value::from(s.as_str()),
        toml::Value::Integer(i) => Value::int64(*i),
        toml::Value::Float(f) => Value::Float(*f),
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(d) => datetime(d).unwrap_or_else(|| Value::from(d.to_string())),
        toml::Value::Array(a) => Value::list(a.iter().map(from_toml)),
        toml::Value::Table(t) => Value::Map(table(t)),
    }
}

/// BurntSushi/toml's `time.Time` for a TOML datetime: offset datetimes in
/// UTC or a fixed zone, local ones in zones named `date-local`,
/// `datetime-local` and `time-local`.
fn datetime(d: &toml::value::Datetime) -> Option<Value> {
    use jiff::tz::{Offset, TimeZone};
    let date = match &d.date {
        Some(x) => jiff::civil::Date::new(x.year as i16, x.month as i8, x.day as i8).ok()?,
        None => jiff::civil::Date::new(0, 1, 1).ok()?,
    };
    let (h, m, s, ns) = match &d.time {
        Some(t) => (
            t.hour,
            t.minute,
            t.second.unwrap_or(0),
            t.nanosecond.unwrap_or(0),
        ),
        None => (0, 0, 0, 0),
    };
    let dt = date.at(h as i8, m as i8, s as i8, ns as i32);
    let (tz, label) = match (&d.offset, &d.date, &d.time) {
        (Some(toml::value::Offset::Z), _, _) => (TimeZone::UTC, None),
        (Some(toml::value::Offset::Custom { minutes }), _, _) => (
            TimeZone::fixed(Offset::from_seconds(i32::from(*minutes) * 60).ok()?),
            None,
        ),
        (None, Some(_), Some(_)) => (TimeZone::UTC, Some("datetime-local")),
        (None, Some(_), None) => (TimeZone::UTC, Some("date-local")),
        (None, None, _) => (TimeZone::UTC, Some("time-local")),
    };
    let z = dt.to_zoned(tz).ok()?;
    Some(match label {
        Some(l) => GoTime::labelled(z, l).value(),
        None => GoTime::new(z).value(),
    })
}

#[derive(Default)]
struct Enc {
    out: String,
}

fn is_table(v: &Value) -> bool {
    match v {
        Value::Map(_) => true,
        Value::List(l, _) => !l.is_empty() && l.iter().all(|x| matches!(x, Value::Map(_))),
        _ => false,
    }
}

fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{08}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{0C}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7F => {
                out.push_str(&format!("\\u{:04X}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn maybe_quoted(k: &str) -> String {
    if !k.is_empty()
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        k.to_string()
    } else {
        quote(k)
    }
}

fn key_string(key: &[String]) -> String {
    key.iter()
        .map(|k| maybe_quoted(k))
        .collect::<Vec<_>>()
        .join(".")
}

impl Enc {
    fn newline(&mut self) {
        if !self.out.is_empty() {
            self.out.push('\n');
        }
    }

    fn indent(key: &[String]) -> String {
        "  ".repeat(key.len().saturating_sub(1))
    }

    fn encode(&mut self, key: &[String], v: &Value) -> Result<(), String> {
        match v {
            Value::Nil => Ok(()),
            Value::Map(d) => {
                if key.len() == 1 {
                    self.newline();
                }
                if !key.is_empty() {
                    self.out
                        .push_str(&format!("{}[{}]", Self::indent(key), key_string(key)));
                    self.newline();
                }
                self.map(key, d, false)
            }
            Value::List(l, _) if is_table(v) => {
                if key.is_empty() {
                    return Err("toml: top-level values must be Go maps or structs".into());
                }
                for item in l.iter() {
                    self.newline();
                    self.out
                        .push_str(&format!("{}[[{}]]", Self::indent(key), key_string(key)));
                    self.newline();
                    if let Value::Map(d) = item {
                        self.map(key, d, false)?;
                    }
                }
                Ok(())
            }
            Value::Object(o) if o.as_any().downcast_ref::<GoTime>().is_none() => {
                match o.to_data() {
                    Some(d) => self.encode(key, &d),
                    None => Ok(()),
                }
            }
            _ => self.key_value(key, v, false),
        }
    }

    fn key_value(&mut self, key: &[String], v: &Value, inline: bool) -> Result<(), String> {
        if key.is_empty() {
            return self.element(v);
        }
        let last = key.last().map(String::as_str).unwrap_or("");
        self.out
            .push_str(&format!("{}{} = ", Self::indent(key), maybe_quoted(last)));
        self.element(v)?;
        if !inline {
            self.newline();
        }
        Ok(())
    }

    fn map(&mut self, key: &[String], d: &Dict, inline: bool) -> Result<(), String> {
        let entries = d.snapshot();
        let (sub, direct): (Vec<_>, Vec<_>) = entries.iter().partition(|(_, v)| is_table(v));
        if inline {
            self.out.push('{');
        }
        let has_sub = !sub.is_empty();
        for (group, trail) in [(direct, has_sub), (sub, false)] {
            let n = group.len();
            for (i, (k, v)) in group.into_iter().enumerate() {
                if v.is_nil() {
                    continue;
                }
                if inline {
                    self.key_value(std::slice::from_ref(k), v, true)?;
                    if trail || i != n - 1 {
                        self.out.push_str(", ");
                    }
                } else {
                    let mut kk = key.to_vec();
                    kk.push(k.clone());
                    self.encode(&kk, v)?;
                }
            }
        }
        if inline {
            self.out.push('}');
        }
        Ok(())
    }

    fn element(&mut self, v: &Value) -> Result<(), String> {
        match v {
            Value::String(s) => self.out.push_str(&quote(s)),
            Value::Bool(b) => self.out.push_str(if *b { "true" } else { "false" }),
            Value::Int(i, t) => {
                self.out
                    .push_str(&ferroflux_gotemplate::GoInt(*i, *t).to_string());
            }
            Value::Float(f) => {
                if f.is_nan() {
                    self.out
                        .push_str(if f.is_sign_negative() { "-nan" } else { "nan" });
                } else if f.is_infinite() {
                    self.out.push_str(if *f < 0.0 { "-inf" } else { "inf" });
                } else {
                    let s = format_float_g(*f, 6);
                    let s = if s.contains(['e', '.']) {
                        s
                    } else {
                        format!("{s}.0")
                    };
                    self.out.push_str(&s);
                }
            }
            Value::Bytes(b) => {
                let l = Value::list(b.iter().map(|x| Value::Int(i64::from(*x), IntType::Uint8)));
                self.element(&l)?;
            }
            Value::List(l, _) => {
                if l.iter().any(Value::is_nil) {
                    return Err("toml: cannot encode array with nil element".into());
                }
                self.out.push('[');
                for (i, x) in l.iter().enumerate() {
                    if i > 0 {
                        self.out.push_str(", ");
                    }
                    self.element(x)?;
                }
                self.out.push(']');
            }
            Value::Map(d) => self.map(&[], d, true)?,
            Value::Object(o) => {
                if let Some(t) = o.as_any().downcast_ref::<GoTime>() {
                    self.out
                        .push_str(&t.format("2006-01-02T15:04:05.999999999Z07:00"));
                } else if let Some(d) = o.to_data() {
                    self.element(&d)?;
                }
            }
            Value::Nil => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_dates_become_go_times_in_named_zones() {
        let t: toml::Table = "d = 1979-05-27\nt = 07:32:00\n".parse().unwrap();
        let d = &t["d"];
        let toml::Value::Datetime(dt) = d else {
            panic!("{d:?}")
        };
        let v = datetime(dt).unwrap_or_else(|| panic!("{dt:?}"));
        assert_eq!(crate::sprint_v(&v), "1979-05-27 00:00:00 +0000 date-local");
        let toml::Value::Datetime(tt) = &t["t"] else {
            panic!()
        };
        assert_eq!(
            crate::sprint_v(&datetime(tt).unwrap()),
            "0000-01-01 07:32:00 +0000 time-local"
        );
        let got = crate::testutil::out(
            "fromToml",
            &[crate::testutil::s(
                "t = 1979-05-27T07:32:00Z\nd = 1979-05-27\n",
            )],
        );
        assert_eq!(
            got,
            "map[d:1979-05-27 00:00:00 +0000 date-local t:1979-05-27 07:32:00 +0000 UTC]"
        );
    }
}
