//! Go's view of template arguments: how `text/template` checks typed
//! parameters, and spf13/cast's conversions that Sprig applies to
//! `interface{}` parameters.

use ferroflux_gotemplate::{Dict, ElemType, FuncError, IntType, Value};

use crate::fmtv;

pub type R = Result<Value, FuncError>;

pub fn err(msg: impl Into<String>) -> FuncError {
    FuncError::new(msg)
}

/// Go's `%T` of a value as a template function receives it.
pub fn type_name(v: &Value) -> String {
    match v {
        Value::Nil => "<nil>".into(),
        Value::Bool(_) => "bool".into(),
        Value::Int(_, t) => t.go_name().into(),
        Value::Float(_) => "float64".into(),
        Value::String(_) => "string".into(),
        Value::Bytes(_) => "[]uint8".into(),
        Value::List(_, t) => t.slice_name().into(),
        Value::Map(_) => "map[string]interface {}".into(),
        Value::Object(o) => o.type_name().to_string(),
    }
}

/// `reflect.Kind` name (`kindOf`).
pub fn kind_name(v: &Value) -> &'static str {
    match v {
        Value::Nil => "invalid",
        Value::Bool(_) => "bool",
        Value::Int(_, t) => t.go_name(),
        Value::Float(_) => "float64",
        Value::String(_) => "string",
        Value::Bytes(_) | Value::List(..) => "slice",
        Value::Map(_) => "map",
        Value::Object(o) => {
            if o.type_name().starts_with('*') {
                "ptr"
            } else {
                "struct"
            }
        }
    }
}

/// The error Go's template engine raises when an argument does not fit a typed
/// parameter. A nil (missing key) arrives as an empty `interface {}`.
pub fn wrong_type(expected: &str, got: &Value) -> FuncError {
    let got = match got {
        Value::Nil => "interface {}".to_string(),
        v => type_name(v),
    };
    err(format!(
        "wrong type for value; expected {expected}; got {got}"
    ))
}

/// A Go `string` parameter.
pub fn str_arg(v: &Value) -> Result<&str, FuncError> {
    match v {
        Value::String(s) => Ok(s),
        other => Err(wrong_type("string", other)),
    }
}

/// A Go `int` parameter.
pub fn int_arg(v: &Value) -> Result<i64, FuncError> {
    match v {
        Value::Int(i, _) => Ok(*i),
        other => Err(wrong_type("int", other)),
    }
}

/// A Go `bool` parameter.
pub fn bool_arg(v: &Value) -> Result<bool, FuncError> {
    match v {
        Value::Bool(b) => Ok(*b),
        other => Err(wrong_type("bool", other)),
    }
}

/// A Go `map[string]interface{}` parameter.
pub fn map_arg(v: &Value) -> Result<Dict, FuncError> {
    match v {
        Value::Map(d) => Ok(d.clone()),
        other => Err(wrong_type("map[string]interface {}", other)),
    }
}

/// Items of a slice-like value (`reflect.Slice`/`Array`), `None` otherwise.
pub fn list_items(v: &Value) -> Option<Vec<Value>> {
    match v {
        Value::List(l, _) => Some(l.to_vec()),
        Value::Bytes(b) => Some(
            b.iter()
                .map(|x| Value::Int(i64::from(*x), IntType::Uint8))
                .collect(),
        ),
        _ => None,
    }
}

/// Sprig's `strval`: strings as they are, bytes as text, the rest through `%v`.
pub fn strval(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_string(),
        Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        other => fmtv::sprint_v(other),
    }
}

/// spf13/cast `ToInt64`: numbers truncate, strings parse with Go's base
/// prefixes (after trailing `.0…` is trimmed), bools are 0/1, the rest 0.
pub fn to_int64(v: &Value) -> i64 {
    match v {
        Value::Int(i, _) => *i,
        Value::Float(f) => go_f64_to_i64(*f),
        Value::Bool(b) => i64::from(*b),
        Value::String(s) => parse_go_int(trim_zero_decimal(s)).unwrap_or(0),
        _ => 0,
    }
}

/// Go's float64 → int64 conversion on amd64 (out of range gives MinInt64).
pub fn go_f64_to_i64(f: f64) -> i64 {
    const LIM: f64 = 9_223_372_036_854_775_808.0;
    if f.is_nan() || !(-LIM..LIM).contains(&f) {
        i64::MIN
    } else {
        f as i64
    }
}

/// spf13/cast `ToFloat64`.
pub fn to_float64(v: &Value) -> f64 {
    match v {
        Value::Int(i, t) => ferroflux_gotemplate::go_int(*i, *t) as f64,
        Value::Float(f) => *f,
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::String(s) => parse_go_float(s).unwrap_or(0.0),
        _ => 0.0,
    }
}

fn trim_zero_decimal(s: &str) -> &str {
    let b = s.as_bytes();
    let mut found_zero = false;
    for i in (1..=b.len()).rev() {
        match b[i - 1] {
            b'.' => {
                if found_zero {
                    return &s[..i - 1];
                }
            }
            b'0' => found_zero = true,
            _ => return s,
        }
    }
    s
}

/// Go's `underscoreOK`: `_` only between digits (or after a base prefix).
fn underscore_ok(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let mut saw = b'^';
    let hex = b.len() >= i + 2
        && b[i] == b'0'
        && matches!(b[i + 1].to_ascii_lowercase(), b'x' | b'b' | b'o');
    if hex {
        i += 2;
        saw = b'0';
    }
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_digit() || (hex && c.is_ascii_hexdigit()) {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else {
            if saw == b'_' {
                return false;
            }
            saw = b'!';
        }
        i += 1;
    }
    saw != b'_'
}

/// `strconv.ParseInt(s, 0, 64)`: sign, `0x`/`0o`/`0b`/leading-`0` octal,
/// underscores between digits.
pub fn parse_go_int(s: &str) -> Option<i64> {
    if s.contains('_') && !underscore_ok(s) {
        return None;
    }
    let (neg, rest) = match s.as_bytes().first()? {
        b'+' => (false, &s[1..]),
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    let lower = rest.to_ascii_lowercase().replace('_', "");
    let (radix, digits) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d.to_string())
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d.to_string())
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d.to_string())
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, lower[1..].to_string())
    } else {
        (10, lower.clone())
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let mag = u64::from_str_radix(&digits, radix).ok()?;
    if neg {
        if mag > 1u64 << 63 {
            None
        } else {
            Some((mag as i64).wrapping_neg())
        }
    } else {
        i64::try_from(mag).ok()
    }
}

/// `strconv.ParseFloat(s, 64)`: decimal with optional exponent, `inf`,
/// `infinity`, `nan`, hex floats with a `p` exponent, underscores between
/// digits.
pub fn parse_go_float(s: &str) -> Option<f64> {
    if s.contains('_') && !underscore_ok(s) {
        return None;
    }
    let s = s.replace('_', "");
    let (neg, t) = match s.as_bytes().first()? {
        b'+' => (false, &s[1..]),
        b'-' => (true, &s[1..]),
        _ => (false, &s[..]),
    };
    let lower = t.to_ascii_lowercase();
    let v = match lower.as_str() {
        "inf" | "infinity" => f64::INFINITY,
        "nan" => f64::NAN,
        _ => {
            if let Some(h) = lower.strip_prefix("0x") {
                parse_hex_float(h)?
            } else {
                if t.is_empty()
                    || !t
                        .bytes()
                        .all(|c| c.is_ascii_digit() || b".eE+-".contains(&c))
                    || !t.bytes().any(|c| c.is_ascii_digit())
                {
                    return None;
                }
                t.parse::<f64>().ok()?
            }
        }
    };
    Some(if neg { -v } else { v })
}

fn parse_hex_float(h: &str) -> Option<f64> {
    let (mant, exp) = h.split_once('p')?;
    let exp: i32 = exp.parse().ok()?;
    let (ip, fp) = mant.split_once('.').unwrap_or((mant, ""));
    if ip.is_empty() && fp.is_empty() {
        return None;
    }
    let mut v = 0f64;
    for c in ip.chars() {
        v = v * 16.0 + f64::from(c.to_digit(16)?);
    }
    let mut scale = 1.0 / 16.0;
    for c in fp.chars() {
        v += f64::from(c.to_digit(16)?) * scale;
        scale /= 16.0;
    }
    Some(v * 2f64.powi(exp))
}

/// `strconv.Atoi` as Sprig's `atoi` uses it (the error dropped): `None` for
/// bad syntax; out of range it is clamped to the int64 limits, as Go returns
/// `MaxInt64`/`MinInt64` with its range error.
pub fn atoi(s: &str) -> Option<i64> {
    let (neg, digits) = match s.as_bytes().first()? {
        b'+' => (false, &s[1..]),
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let v = digits.bytes().try_fold(0u64, |acc, b| {
        acc.checked_mul(10)?.checked_add(u64::from(b - b'0'))
    });
    Some(match (v, neg) {
        (Some(m), false) => i64::try_from(m).unwrap_or(i64::MAX),
        (Some(m), true) => 0i64.checked_sub_unsigned(m).unwrap_or(i64::MIN),
        (None, false) => i64::MAX,
        (None, true) => i64::MIN,
    })
}

/// Sprig's `empty`: Go zero values.
pub fn empty(v: &Value) -> bool {
    match v {
        Value::Nil => true,
        Value::Bool(b) => !b,
        Value::Int(i, _) => *i == 0,
        Value::Float(f) => *f == 0.0,
        Value::String(s) => s.is_empty(),
        Value::Bytes(b) => b.is_empty(),
        Value::List(l, _) => l.is_empty(),
        Value::Map(m) => m.is_empty(),
        Value::Object(_) => false,
    }
}

/// `reflect.DeepEqual` over template values.
pub fn deep_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Nil, Value::Nil) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        // int(1) and int64(1) differ for reflect.DeepEqual.
        (Value::Int(x, s), Value::Int(y, t)) => x == y && s == t,
        (Value::Float(x), Value::Float(y)) => x == y,
        (Value::String(x), Value::String(y)) => x == y,
        (Value::Bytes(x), Value::Bytes(y)) => x == y,
        // []int{0} and []interface{}{0} differ too
        (Value::List(x, s), Value::List(y, t)) => {
            s == t && x.len() == y.len() && x.iter().zip(y.iter()).all(|(p, q)| deep_equal(p, q))
        }
        (Value::Map(x), Value::Map(y)) => {
            if x.ptr_eq(y) {
                return true;
            }
            let (x, y) = (x.snapshot(), y.snapshot());
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| deep_equal(v, w)))
        }
        (Value::Object(x), Value::Object(y)) => {
            std::sync::Arc::ptr_eq(x, y)
                || (x.type_name() == y.type_name() && fmtv::sprint_v(a) == fmtv::sprint_v(b))
        }
        _ => false,
    }
}

/// Deep copy: new dicts all the way down (Go's copystructure).
pub fn deep_copy(v: &Value) -> Value {
    match v {
        Value::List(l, t) => Value::typed_list(l.iter().map(deep_copy), *t),
        Value::Map(m) => Value::map(m.snapshot().into_iter().map(|(k, v)| (k, deep_copy(&v)))),
        other => other.clone(),
    }
}

/// A list of strings as a template value (`[]string`).
pub fn str_list<I, S>(items: I) -> Value
where
    I: IntoIterator<Item = S>,
    S: Into<std::sync::Arc<str>>,
{
    Value::typed_list(
        items.into_iter().map(|s| Value::String(s.into())),
        ElemType::String,
    )
}

/// Sprig's `strslice` (`toStrings`): nil items dropped, the rest `strval`.
pub fn strslice(v: &Value) -> Vec<String> {
    match v {
        Value::List(l, _) => l.iter().filter(|x| !x.is_nil()).map(strval).collect(),
        Value::Bytes(b) => b.iter().map(|x| x.to_string()).collect(),
        Value::Nil => Vec::new(),
        other => vec![strval(other)],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cast_to_int64_follows_spf13_cast() {
        assert_eq!(to_int64(&Value::string("0x1F")), 31);
        assert_eq!(to_int64(&Value::string("010")), 8);
        assert_eq!(to_int64(&Value::string("3.000")), 3);
        assert_eq!(to_int64(&Value::string("3.5")), 0);
        assert_eq!(to_int64(&Value::Float(-3.7)), -3);
        assert_eq!(to_int64(&Value::Bool(true)), 1);
        assert_eq!(to_int64(&Value::Nil), 0);
    }

    #[test]
    fn atoi_rejects_what_go_rejects() {
        assert_eq!(atoi("42"), Some(42));
        assert_eq!(atoi("-7"), Some(-7));
        assert_eq!(atoi("4.2"), None);
        assert_eq!(atoi(" 4"), None);
        assert_eq!(atoi("-9223372036854775808"), Some(i64::MIN));
        // Go's Atoi returns the clamped value with its range error
        assert_eq!(atoi("99999999999999999999"), Some(i64::MAX));
        assert_eq!(atoi("-9223372036854775809"), Some(i64::MIN));
    }
}
