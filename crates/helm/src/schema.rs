//! `values.schema.json` validation (JSON Schema, as Helm validates each chart's values
//! against its own schema, subcharts with their own part of the values).

use crate::chart::Chart;
use ferroflux_gotemplate::{Dict, Value};

/// Helm's `ValidateAgainstSchema`: the error text lists each failing chart.
pub fn validate_chart(chart: &Chart, values: &Dict) -> Result<(), String> {
    let mut sb = String::new();
    if let Some(schema) = &chart.schema
        && let Err(e) = validate_single(values, schema)
    {
        sb.push_str(&format!("{}:\n{e}", chart.name()));
    }
    for sub in &chart.dependencies {
        match values.get(sub.name()) {
            None | Some(Value::Nil) => {}
            Some(Value::Map(v)) => {
                if let Err(e) = validate_chart(sub, &v) {
                    sb.push_str(&e);
                }
            }
            Some(other) => sb.push_str(&format!(
                "{}:\ninvalid type for values: expected object (map), got {}\n",
                sub.name(),
                crate::objects::go_type_name(&other)
            )),
        }
    }
    if sb.is_empty() { Ok(()) } else { Err(sb) }
}

const KNOWN_DRAFTS: &[&str] = &[
    "http://json-schema.org/draft-04/schema",
    "http://json-schema.org/draft-06/schema",
    "http://json-schema.org/draft-07/schema",
    "https://json-schema.org/draft/2019-09/schema",
    "https://json-schema.org/draft/2020-12/schema",
];

fn validate_single(values: &Dict, schema: &[u8]) -> Result<(), String> {
    let mut schema: serde_json::Value =
        serde_json::from_slice(schema).map_err(|e| format!("{e}"))?;
    // Helm's validator reads any `$schema` it does not know (charts commonly write
    // `http://json-schema.org/schema#`) as the latest draft; ours would refuse it.
    if let Some(obj) = schema.as_object_mut()
        && obj
            .get("$schema")
            .and_then(|s| s.as_str())
            .is_some_and(|s| !KNOWN_DRAFTS.contains(&s.trim_end_matches('#')))
    {
        obj.remove("$schema");
    }
    let instance = Value::Map(values.clone()).to_json();
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .build(&schema)
        .map_err(|e| format!("{e}"))?;
    let mut msgs: Vec<String> = validator
        .iter_errors(&instance)
        .map(|e| {
            let path = e.instance_path().to_string();
            format!("- at '{path}': {e}")
        })
        .collect();
    if msgs.is_empty() {
        return Ok(());
    }
    msgs.sort();
    Ok::<(), String>(()).and(Err(msgs.join("\n") + "\n"))
}
