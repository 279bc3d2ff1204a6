//! YAML → template values the way Helm reads values files (sigs.k8s.io/yaml: via JSON, so
//! every number is a float64).

use crate::{Error, Result};
use ferroflux_gotemplate::{Dict, Value};

/// Parses the first YAML document into a value (`Nil` for an empty document), with
/// sigs.k8s.io/yaml's semantics (go-yaml v2 resolution, every number a float64).
pub fn parse(text: &str) -> std::result::Result<Value, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    ferroflux_gotemplate::yaml::decode(text).map_err(|e| e.to_string())
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
        Value::Int(_, _) | Value::Float(_) => "number",
        Value::String(_) => "string",
        Value::List(..) | Value::Bytes(_) => "array",
        Value::Map(_) | Value::Object(_) => "object",
    }
}

/// Go's YAML encoding of a value as Helm's `toYAML` prints it (no trailing newline).
pub fn to_yaml(v: &Value) -> String {
    ferroflux_gotemplate::yaml::to_yaml(v)
        .map(|s| s.strip_suffix('\n').map(str::to_string).unwrap_or(s))
        .unwrap_or_default()
}
