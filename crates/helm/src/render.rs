//! Helm's engine: every template of the chart and its enabled subcharts in one template set
//! (so `define`s are shared), parsed deepest path first, rendered with per-chart values
//! (`.Values`, `.Chart`, `.Files`, `.Subcharts`, `.Template`), `<no value>` removed.

use crate::chart::Chart;
use crate::objects::{self, Files};
use crate::template::Teardown;
use crate::{Error, Result};
use ferroflux_gotemplate::{Dict, FuncError, FuncMap, MissingKey, Templates, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

const WARN_START: &str = "HELM_ERR_START";
const WARN_END: &str = "HELM_ERR_END";

struct Renderable<'c> {
    source: std::borrow::Cow<'c, str>,
    vals: Dict,
    base_path: String,
}

/// The text of a template file: borrowed when it is valid UTF-8 (the usual case, checked
/// faster than `from_utf8_lossy` checks it), otherwise with U+FFFD for bad bytes.
pub(crate) fn utf8_lossy(data: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(data) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(data),
    }
}

/// Builds each chart's top-level data (`next` in Helm) and collects its templates.
fn collect<'c>(
    c: &'c Chart,
    full_path: &str,
    is_root: bool,
    parent: &Dict,
    out: &mut BTreeMap<String, Renderable<'c>>,
) -> Dict {
    let subcharts = Dict::new();
    let next = Dict::new();
    next.insert("Chart", objects::chart_value(c, is_root));
    next.insert("Files", Value::Object(Arc::new(Files::new(&c.files))));
    next.insert("Release", parent.get("Release").unwrap_or(Value::Nil));
    next.insert(
        "Capabilities",
        parent.get("Capabilities").unwrap_or(Value::Nil),
    );
    let values = if is_root {
        parent
            .get("Values")
            .unwrap_or_else(|| Value::Map(Dict::new()))
    } else {
        match parent.get("Values") {
            Some(Value::Map(pv)) => match pv.get(c.name()) {
                Some(Value::Map(v)) => Value::Map(v),
                _ => Value::Map(Dict::new()),
            },
            _ => Value::Map(Dict::new()),
        }
    };
    next.insert("Values", values);
    next.insert("Subcharts", Value::Map(subcharts.clone()));
    for child in &c.dependencies {
        let child_path = format!("{full_path}/charts/{}", child.name());
        let v = collect(child, &child_path, false, &next, out);
        subcharts.insert(child.name(), Value::Map(v));
    }
    for t in &c.templates {
        // Library charts contribute only their partials.
        let base = t.name.rsplit('/').next().unwrap_or(&t.name);
        if c.is_library() && !base.starts_with('_') {
            continue;
        }
        out.insert(
            format!("{full_path}/{}", t.name),
            Renderable {
                source: utf8_lossy(&t.data),
                vals: next.clone(),
                base_path: format!("{full_path}/templates"),
            },
        );
    }
    next
}

/// Helm's parse order: deepest paths first, then reverse lexical order (later definitions of
/// a `define` win, so the top chart's partials override its subcharts').
fn sort_templates(keys: &mut [&String]) {
    keys.sort_by(|a, b| {
        let (ca, cb) = (a.matches('/').count(), b.matches('/').count());
        cb.cmp(&ca).then_with(|| b.cmp(a))
    });
}

/// Helm's `required` and `fail`: their messages are delimited so the error can be
/// reduced to `execution error at (file:line:col): message`.
fn helm_funcs(funcs: &mut FuncMap) {
    funcs.insert(
        "required".into(),
        Arc::new(|args: &[Value]| -> std::result::Result<Value, FuncError> {
            let [warn, val] = args else {
                return Err(FuncError::new(format!(
                    "wrong number of args for required: want 2 got {}",
                    args.len()
                )));
            };
            let warn = match warn {
                Value::String(s) => s.to_string(),
                other => objects::go_print(other),
            };
            match val {
                Value::Nil => Err(FuncError::new(format!("{WARN_START}{warn}{WARN_END}"))),
                Value::String(s) if s.is_empty() => {
                    Err(FuncError::new(format!("{WARN_START}{warn}{WARN_END}")))
                }
                v => Ok(v.clone()),
            }
        }),
    );
    funcs.insert(
        "fail".into(),
        Arc::new(|args: &[Value]| -> std::result::Result<Value, FuncError> {
            let msg = match args {
                [Value::String(s)] => s.to_string(),
                [other] => objects::go_print(other),
                _ => {
                    return Err(FuncError::new(format!(
                        "wrong number of args for fail: want 1 got {}",
                        args.len()
                    )));
                }
            };
            Err(FuncError::new(format!("{WARN_START}{msg}{WARN_END}")))
        }),
    );
}

fn cleanup_parse_error(filename: &str, e: &ferroflux_gotemplate::Error) -> Error {
    let s = e.to_string();
    let tokens: Vec<&str> = s.split(": ").collect();
    if tokens.len() == 1 {
        return Error::Render(format!("parse error in ({filename}): {s}"));
    }
    Error::Render(format!(
        "parse error at ({}): {}",
        tokens[1],
        tokens[tokens.len() - 1]
    ))
}

fn cleanup_exec_error(filename: &str, e: &ferroflux_gotemplate::Error) -> Error {
    let s = e.to_string();
    if !matches!(e, ferroflux_gotemplate::Error::Exec { .. }) {
        return Error::Render(s);
    }
    let tokens: Vec<&str> = s.splitn(3, ": ").collect();
    if tokens.len() != 3 {
        return Error::Render(format!("execution error in ({filename}): {s}"));
    }
    if let Some(start) = tokens[2].find(WARN_START)
        && let Some(end) = tokens[2].rfind(WARN_END)
        && end >= start + WARN_START.len()
    {
        return Error::Render(format!(
            "execution error at ({}): {}",
            tokens[1],
            &tokens[2][start + WARN_START.len()..end]
        ));
    }
    Error::Render(s)
}

/// Renders every template of `chart` (already dependency-processed) with `top`
/// (`Values`, `Release`, `Capabilities`). Returns file name → output, NOTES.txt included,
/// partials excluded.
pub fn render(chart: &Chart, top: &Dict, funcs: FuncMap) -> Result<BTreeMap<String, String>> {
    render_with(chart, top, funcs, Teardown::Free)
}

pub(crate) fn render_with(
    chart: &Chart,
    top: &Dict,
    funcs: FuncMap,
    teardown: Teardown,
) -> Result<BTreeMap<String, String>> {
    let mut tpls = BTreeMap::new();
    collect(chart, chart.name(), true, top, &mut tpls);
    let mut funcs = funcs;
    helm_funcs(&mut funcs);
    let mut set = Templates::new(funcs);
    set.set_missing_key(MissingKey::Zero);
    let mut keys: Vec<&String> = tpls.keys().collect();
    sort_templates(&mut keys);
    for k in &keys {
        set.parse(k, &tpls[*k].source)
            .map_err(|e| cleanup_parse_error(k, &e))?;
    }
    let mut out = BTreeMap::new();
    for k in &keys {
        let base = k.rsplit('/').next().unwrap_or(k);
        if base.starts_with('_') {
            continue;
        }
        let r = &tpls[*k];
        r.vals.insert(
            "Template",
            Value::map([
                ("Name".to_string(), Value::from(k.as_str())),
                ("BasePath".to_string(), Value::from(r.base_path.as_str())),
            ]),
        );
        let text = set
            .execute(k, &Value::Map(r.vals.clone()))
            .map_err(|e| cleanup_exec_error(k, &e))?;
        out.insert((*k).clone(), text.replace("<no value>", ""));
    }
    if teardown == Teardown::Leak {
        std::mem::forget((set, tpls));
    }
    Ok(out)
}
