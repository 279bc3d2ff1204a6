//! JSON as Go's `encoding/json` writes and reads it for Helm's `toJson`,
//! `toPrettyJson`, `toRawJson` and `fromJson`: sorted keys, HTML-safe
//! escaping, Go's float formatting, numbers decoded as float64.

use std::fmt::Write as _;

use crate::error::{Error, Result};
use crate::gofmt::format_float;
use crate::value::Value;

/// `json.Marshal`.
pub fn to_json(v: &Value) -> Result<String> {
    let mut out = String::new();
    encode(&mut out, v, true, None, 0, &mut Vec::new())?;
    Ok(out)
}

/// `json.MarshalIndent(v, "", "  ")`.
pub fn to_pretty_json(v: &Value) -> Result<String> {
    let mut out = String::new();
    encode(&mut out, v, true, Some("  "), 0, &mut Vec::new())?;
    Ok(out)
}

/// An encoder with `SetEscapeHTML(false)` (Helm's `toRawJson`), without the
/// trailing newline.
pub fn to_raw_json(v: &Value) -> Result<String> {
    let mut out = String::new();
    encode(&mut out, v, false, None, 0, &mut Vec::new())?;
    Ok(out)
}

/// Decodes any JSON document as Go decodes into `interface{}` (numbers are float64).
pub fn from_json(s: &str) -> Result<Value> {
    let v: serde_json::Value = serde_json::from_str(s).map_err(|e| Error::Data(e.to_string()))?;
    Ok(Value::from_json(&v))
}

/// Go's float64 encoding: `'f'` format, `'e'` beyond [1e-6, 1e21), with the
/// exponent's leading zero removed (`1e-7`).
pub fn format_json_float(f: f64) -> Result<String> {
    if f.is_nan() || f.is_infinite() {
        return Err(Error::Data(format!(
            "json: unsupported value: {}",
            format_float(f, b'g', -1)
        )));
    }
    let a = f.abs();
    let fmt = if a != 0.0 && !(1e-6..1e21).contains(&a) {
        b'e'
    } else {
        b'f'
    };
    let mut s = format_float(f, fmt, -1);
    if fmt == b'e' {
        let n = s.len();
        let b = s.as_bytes();
        if n >= 4 && b[n - 4] == b'e' && b[n - 3] == b'-' && b[n - 2] == b'0' {
            s.remove(n - 2);
        }
    }
    Ok(s)
}

/// Appends `s` as a JSON string the way Go's encoder escapes it.
pub fn write_json_string(out: &mut String, s: &str, escape_html: bool) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' if escape_html => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn newline(out: &mut String, indent: Option<&str>, depth: usize) {
    if let Some(ind) = indent {
        out.push('\n');
        for _ in 0..depth {
            out.push_str(ind);
        }
    }
}

fn encode(
    out: &mut String,
    v: &Value,
    html: bool,
    indent: Option<&str>,
    depth: usize,
    path: &mut Vec<crate::Dict>,
) -> Result<()> {
    match v {
        Value::Nil => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i, t) => {
            let _ = write!(out, "{}", crate::GoInt(*i, *t));
        }
        Value::Float(f) => out.push_str(&format_json_float(*f)?),
        Value::String(s) => write_json_string(out, s, html),
        Value::Bytes(b) => {
            out.push('"');
            out.push_str(&base64_std(b));
            out.push('"');
        }
        Value::List(l, _) => {
            if l.is_empty() {
                out.push_str("[]");
                return Ok(());
            }
            out.push('[');
            for (i, x) in l.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, indent, depth + 1);
                encode(out, x, html, indent, depth + 1, path)?;
            }
            newline(out, indent, depth);
            out.push(']');
        }
        Value::Map(m) => {
            if path.iter().any(|d| d.ptr_eq(m)) {
                return Err(cycle_error(v));
            }
            path.push(m.clone());
            let entries = m.read();
            if entries.is_empty() {
                out.push_str("{}");
                return Ok(());
            }
            out.push('{');
            for (i, (k, x)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, indent, depth + 1);
                write_json_string(out, k, html);
                out.push(':');
                if indent.is_some() {
                    out.push(' ');
                }
                encode(out, x, html, indent, depth + 1, path)?;
            }
            newline(out, indent, depth);
            out.push('}');
            drop(entries);
            path.pop();
        }
        Value::Object(o) => match o.to_data() {
            Some(d) => encode(out, &d, html, indent, depth, path)?,
            None => out.push_str("{}"),
        },
    }
    Ok(())
}

/// Go's error for a map that contains itself (`set $d "self" $d`).
pub(crate) fn cycle_error(v: &Value) -> Error {
    Error::Data(format!(
        "json: unsupported value: encountered a cycle via {}",
        crate::gofmt::go_type(v)
    ))
}

/// Standard base64 with padding (Go's encoding of `[]byte`).
pub(crate) fn base64_std(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(T[(n >> 18) as usize & 63] as char);
        out.push(T[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 {
            T[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if chunk.len() > 2 {
            T[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}
