//! YAML → template values the way Helm reads values files (sigs.k8s.io/yaml: via JSON, so
//! every number is a float64).

use crate::{Error, Result};
use ferroflux_gotemplate::{Dict, Value};

/// Parses a YAML document into a value (`Nil` for an empty document).
pub fn parse(text: &str) -> std::result::Result<Value, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut o = serde_saphyr::Options::default();
    o.strict_booleans = true;
    let v: serde_json::Value =
        serde_saphyr::from_str_with_options(text, o).map_err(|e| e.to_string())?;
    Ok(Value::from_json(&v))
}

/// Parses a YAML mapping (values files); an empty document is an empty map.
pub fn parse_map(text: &str, what: &str) -> Result<Dict> {
    match parse(text) {
        Ok(Value::Map(d)) => Ok(d),
        Ok(Value::Nil) => Ok(Dict::new()),
        Ok(other) => Err(Error::Values(format!(
            "{what}: error unmarshaling JSON: json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
            json_kind(&other)
        ))),
        Err(e) => Err(Error::Values(format!(
            "{what}: error converting YAML to JSON: {e}"
        ))),
    }
}

pub(crate) fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Nil => "null",
        Value::Bool(_) => "bool",
        Value::Int(_) | Value::Float(_) => "number",
        Value::String(_) => "string",
        Value::List(_) | Value::Bytes(_) => "array",
        Value::Map(_) | Value::Object(_) => "object",
    }
}

/// Go's YAML encoding of a value as Helm's `toYAML` prints it (no trailing newline).
pub fn to_yaml(v: &Value) -> String {
    let j = v.to_json();
    serde_saphyr::to_string(&j)
        .unwrap_or_default()
        .trim_end_matches('\n')
        .to_string()
}
