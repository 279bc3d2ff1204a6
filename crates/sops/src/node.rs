//! The document model SOPS works on: ordered maps, sequences and typed scalars. Types matter
//! because the MAC hashes each value's textual form as SOPS (Go) renders it.

/// One value of a SOPS document.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Node {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    /// A YAML timestamp, held in Go's `time.Time` text form (`2001-12-14T00:00:00Z`).
    Time(String),
    /// Raw bytes: a decrypted `type:bytes` value or the payload of a binary document.
    Bytes(Vec<u8>),
    Seq(Vec<Node>),
    /// Keys in document order.
    Map(Vec<(String, Node)>),
}

impl Node {
    /// The map entry `key`, if this is a map holding it.
    pub(crate) fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The bytes SOPS feeds into the MAC for a scalar (Go's `sops.ToBytes`).
    pub(crate) fn mac_bytes(&self) -> Vec<u8> {
        match self {
            Node::Str(s) | Node::Time(s) => s.as_bytes().to_vec(),
            Node::Bytes(b) => b.clone(),
            Node::Int(i) => i.to_string().into_bytes(),
            Node::Float(f) => go_format_float_f(*f).into_bytes(),
            Node::Bool(true) => b"True".to_vec(),
            Node::Bool(false) => b"False".to_vec(),
            Node::Null | Node::Seq(_) | Node::Map(_) => Vec::new(),
        }
    }

    /// Converts to a JSON value (used to read metadata and in tests).
    pub(crate) fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match self {
            Node::Null => Value::Null,
            Node::Bool(b) => Value::Bool(*b),
            Node::Int(i) => Value::from(*i),
            Node::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
            Node::Str(s) | Node::Time(s) => Value::String(s.clone()),
            Node::Bytes(b) => Value::String(String::from_utf8_lossy(b).into_owned()),
            Node::Seq(items) => Value::Array(items.iter().map(Node::to_json).collect()),
            Node::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_json()))
                    .collect(),
            ),
        }
    }
}

/// Go's `strconv.FormatFloat(f, 'f', -1, 64)`: the shortest digits that read back as `f`,
/// never in exponent form.
pub(crate) fn go_format_float_f(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        }
    } else {
        // Rust's Display is also shortest round-trip without an exponent.
        format!("{f}")
    }
}

/// Shortest round-trip digits and decimal exponent of a finite, non-zero `f`:
/// `f = 0.d1d2d3... × 10^(exp+1)`, i.e. `exp` is the exponent of the first digit.
fn shortest_digits(f: f64) -> (String, i32) {
    // `{:e}` prints the shortest round-trip mantissa, e.g. "1.2345e-7".
    let s = format!("{:e}", f.abs());
    let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    (digits, exp.parse().unwrap_or(0))
}

fn with_exponent(neg: bool, digits: &str, exp: i32, min_exp_digits: usize) -> String {
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    out.push_str(&digits[..1]);
    if digits.len() > 1 {
        out.push('.');
        out.push_str(&digits[1..]);
    }
    out.push('e');
    out.push(if exp < 0 { '-' } else { '+' });
    out.push_str(&format!(
        "{:0width$}",
        exp.unsigned_abs(),
        width = min_exp_digits
    ));
    out
}

/// A float as yaml.v3 prints it: Go's `strconv.FormatFloat(f, 'g', -1, 64)` with YAML's
/// names for the special values, the same text go-yaml v2 writes.
pub(crate) fn yaml_float(f: f64) -> String {
    ferroflux_goyaml::float_scalar(f)
}

/// Go's `encoding/json` float rendering: plain decimal unless the exponent is below -6 or at
/// least 21, then exponent form without zero padding.
pub(crate) fn json_float(f: f64) -> String {
    if !f.is_finite() {
        // JSON has no NaN/Infinity; SOPS would fail here, we keep the document readable.
        return "null".into();
    }
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    let abs = f.abs();
    if !(1e-6..1e21).contains(&abs) {
        let (digits, exp) = shortest_digits(f);
        return with_exponent(f < 0.0, &digits, exp, 1);
    }
    format!("{f}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_render_as_go_does() {
        assert_eq!(go_format_float_f(1000.0), "1000");
        assert_eq!(go_format_float_f(1.5), "1.5");
        assert_eq!(go_format_float_f(1e-7), "0.0000001");
        assert_eq!(go_format_float_f(f64::INFINITY), "+Inf");
        assert_eq!(json_float(3.0), "3");
        assert_eq!(json_float(1e21), "1e+21");
        assert_eq!(json_float(1e-7), "1e-7");
        assert_eq!(json_float(0.000001), "0.000001");
        assert_eq!(yaml_float(1.5), "1.5");
        assert_eq!(yaml_float(1000.0), "1000");
        assert_eq!(yaml_float(1e6), "1e+06");
        assert_eq!(yaml_float(123456789.5), "1.234567895e+08");
        assert_eq!(yaml_float(0.00001), "1e-05");
        assert_eq!(yaml_float(f64::NEG_INFINITY), "-.inf");
    }

    #[test]
    fn mac_bytes_follow_sops_to_bytes() {
        assert_eq!(Node::Bool(true).mac_bytes(), b"True");
        assert_eq!(Node::Bool(false).mac_bytes(), b"False");
        assert_eq!(Node::Int(-42).mac_bytes(), b"-42");
        assert_eq!(Node::Float(2.0).mac_bytes(), b"2");
    }
}
