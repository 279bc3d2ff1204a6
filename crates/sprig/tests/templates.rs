//! Whole templates through our engine with Helm's function set, against what
//! `helm template` rendered for each (`tests/templates.txt`, recorded by
//! `tests/record_templates.py`). Unlike the one-expression cases of
//! `parity.rs`, these reach the engine's builtins (`printf`, `eq`, `lt`,
//! `index`, `range`) with the values Sprig returns: typed slices (`until` is
//! `[]int`, `splitList` is `[]string`) and `uint64`s beyond int64 (a semver's
//! `.Major`).

#![allow(clippy::expect_used, clippy::unwrap_used)]

use ferroflux_gotemplate::{Templates, Value};
use ferroflux_sprig::{Options, funcs};

/// The name Helm gives the template file, which its error messages carry.
const NAME: &str = "c/templates/t.txt";

fn load() -> Vec<(String, Result<String, String>)> {
    include_str!("templates.txt")
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (tmpl, want) = l.split_once('\t').expect("tab-separated case");
            let want = match want.strip_prefix("ERR ") {
                Some(e) => Err(serde_json::from_str::<String>(e).expect("json error text")),
                None => Ok(serde_json::from_str::<String>(want).expect("json output")),
            };
            (tmpl.to_string(), want)
        })
        .collect()
}

fn render(tmpl: &str) -> Result<String, String> {
    let mut t = Templates::new(funcs(&Options::default()));
    t.parse(NAME, tmpl).map_err(|e| e.to_string())?;
    let data = Value::map([("Values".to_string(), Value::map([]))]);
    // Helm trims the rendered file's surrounding whitespace
    t.execute(NAME, &data)
        .map(|s| s.trim().to_string())
        .map_err(|e| e.to_string())
}

/// An execution error's message without its `template: NAME:L:C: executing
/// "NAME" at <node>: ` context.
fn message(e: &str) -> &str {
    e.split_once(">: ").map_or(e, |(_, m)| m)
}

#[test]
fn templates_render_like_helm() {
    let cases = load();
    assert!(!cases.is_empty());
    let mut failures = Vec::new();
    let mut context_differs = 0;
    for (tmpl, want) in &cases {
        let got = render(tmpl);
        let same = match (&got, want) {
            (Ok(g), Ok(w)) => g == w,
            // Go names the node it evaluated last (`at <$m>` for a typed
            // argument, where we name the function); the message must match
            (Err(g), Err(w)) if g != w && message(g) == message(w) => {
                context_differs += 1;
                println!("context differs: {tmpl}\n   helm {w}\n   ours {g}");
                true
            }
            (g, w) => g == w,
        };
        if !same {
            failures.push(format!("{tmpl}\n   helm {want:?}\n   ours {got:?}"));
        }
    }
    println!(
        "{} of {} templates identical to helm; {context_differs} errors differ in position only",
        cases.len() - failures.len() - context_differs,
        cases.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {} templates differ from helm:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
