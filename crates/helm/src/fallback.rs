//! Stand-ins for Helm's YAML/JSON functions until the shared Go-compatible encoders are
//! registered by the function library: each is added only when the function map lacks it,
//! so the real implementation always wins. Output is valid and parses to the same data,
//! but is not byte-identical to Go's encoders.

use crate::yaml;
use ferroflux_gotemplate::{FuncError, FuncMap, Value};
use std::sync::Arc;

fn one<'a>(args: &'a [Value], name: &str) -> Result<&'a Value, FuncError> {
    match args {
        [v] => Ok(v),
        _ => Err(FuncError::new(format!(
            "wrong number of args for {name}: want 1 got {}",
            args.len()
        ))),
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_string(),
        other => crate::objects::go_print(other),
    }
}

fn json_of(v: &Value) -> serde_json::Value {
    match v {
        Value::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => serde_json::Value::from(*f as i64),
        Value::List(l) => serde_json::Value::Array(l.iter().map(json_of).collect()),
        Value::Map(m) => serde_json::Value::Object(
            m.read()
                .iter()
                .map(|(k, v)| (k.clone(), json_of(v)))
                .collect(),
        ),
        Value::Object(o) => o
            .to_data()
            .map(|d| json_of(&d))
            .unwrap_or(serde_json::Value::Null),
        other => other.to_json(),
    }
}

fn err_map(e: String) -> Value {
    Value::map([("Error".to_string(), Value::from(e))])
}

/// Adds the missing functions to `funcs`: Helm's template-mode `lookup` (always an empty
/// map) and the YAML/JSON stand-ins.
pub fn add_missing(funcs: &mut FuncMap) {
    let mut add = |name: &str, f: ferroflux_gotemplate::Func| {
        funcs.entry(name.to_string()).or_insert(f);
    };
    add(
        "lookup",
        Arc::new(|a: &[Value]| {
            if a.len() != 4 {
                return Err(FuncError::new(format!(
                    "wrong number of args for lookup: want 4 got {}",
                    a.len()
                )));
            }
            Ok(Value::Map(Default::default()))
        }),
    );
    add(
        "toYaml",
        Arc::new(|a: &[Value]| {
            let v = one(a, "toYaml")?;
            if v.is_nil() {
                return Ok(Value::from("null"));
            }
            Ok(Value::from(yaml::to_yaml(&Value::from_json(&json_of(v)))))
        }),
    );
    add(
        "toYamlPretty",
        Arc::new(|a: &[Value]| {
            let v = one(a, "toYamlPretty")?;
            Ok(Value::from(yaml::to_yaml(&Value::from_json(&json_of(v)))))
        }),
    );
    add(
        "fromYaml",
        Arc::new(|a: &[Value]| {
            let s = text(one(a, "fromYaml")?);
            Ok(match yaml::parse(&s) {
                Ok(Value::Map(m)) => Value::Map(m),
                Ok(Value::Nil) => Value::Map(Default::default()),
                Ok(_) => err_map("error unmarshaling JSON: json: cannot unmarshal into map".into()),
                Err(e) => err_map(e),
            })
        }),
    );
    add(
        "fromYamlArray",
        Arc::new(|a: &[Value]| {
            let s = text(one(a, "fromYamlArray")?);
            Ok(match yaml::parse(&s) {
                Ok(Value::List(l)) => Value::List(l),
                Ok(Value::Nil) => Value::list([]),
                Ok(_) => Value::list([Value::from("error unmarshaling JSON")]),
                Err(e) => Value::list([Value::from(e)]),
            })
        }),
    );
    add(
        "toJson",
        Arc::new(|a: &[Value]| Ok(Value::from(json_of(one(a, "toJson")?).to_string()))),
    );
    add(
        "fromJson",
        Arc::new(|a: &[Value]| {
            let s = text(one(a, "fromJson")?);
            Ok(match serde_json::from_str::<serde_json::Value>(&s) {
                Ok(v @ serde_json::Value::Object(_)) => Value::from_json(&v),
                Ok(_) => err_map("json: cannot unmarshal into map".into()),
                Err(e) => err_map(e.to_string()),
            })
        }),
    );
    add(
        "fromJsonArray",
        Arc::new(|a: &[Value]| {
            let s = text(one(a, "fromJsonArray")?);
            Ok(match serde_json::from_str::<serde_json::Value>(&s) {
                Ok(v @ serde_json::Value::Array(_)) => Value::from_json(&v),
                Ok(_) => Value::list([Value::from("json: cannot unmarshal into slice")]),
                Err(e) => Value::list([Value::from(e.to_string())]),
            })
        }),
    );
}
