//! Parity with the reference `kustomize build` on the hand-written fixtures in
//! `tests/fixtures/<case>/` (buildMetadata, crds, openapi, merge corner cases).
//!
//! Each case builds its own directory, or the directory named in its `BUILD_DIR` file. A case
//! with an `EXPECT_ERROR` file must fail in both engines, and our message must contain that
//! file's text (errors must name the offending file). Every other case must print exactly what
//! kustomize prints, byte for byte.

use ferroflux_kustomize::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn parse(text: &str) -> Vec<serde_json::Value> {
    let docs: Vec<Value> =
        serde_saphyr::from_multiple_with_options(text, ferroflux_kustomize::loader::yaml_options())
            .unwrap_or_default();
    docs.iter()
        .filter(|d| !matches!(d, Value::Null))
        .map(Value::to_json)
        .collect()
}

fn cases() -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(manifest().join("tests/fixtures")) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    out.sort();
    out
}

fn build_dir(case: &Path) -> PathBuf {
    match std::fs::read_to_string(case.join("BUILD_DIR")) {
        Ok(rel) => case.join(rel.trim()),
        Err(_) => case.to_path_buf(),
    }
}

#[test]
fn fixtures_match_reference_kustomize() {
    let kustomize = manifest().join("../../.cache/bin/kustomize");
    assert!(
        kustomize.exists(),
        "reference kustomize missing at {}: run `make tools`",
        kustomize.display()
    );
    let cases = cases();
    assert!(!cases.is_empty(), "no fixtures found");
    let mut failures = Vec::new();
    let mut identical = 0;
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let dir = build_dir(case);
        let reference = Command::new(&kustomize)
            .arg("build")
            .arg(&dir)
            .output()
            .expect("run kustomize");
        let ours = ferroflux_kustomize::build(&dir).and_then(|r| ferroflux_kustomize::to_yaml(&r));
        let expect_error = std::fs::read_to_string(case.join("EXPECT_ERROR"))
            .ok()
            .map(|s| s.trim().to_string());
        match (&expect_error, reference.status.success(), ours) {
            (Some(want), false, Err(e)) => {
                let msg = e.to_string();
                if msg.contains(want.as_str()) {
                    identical += 1;
                } else {
                    failures.push(format!("{name}: error {msg:?} lacks {want:?}"));
                }
            }
            (Some(_), true, _) => failures.push(format!(
                "{name}: kustomize succeeded but the case expects an error"
            )),
            (Some(_), false, Ok(_)) => {
                failures.push(format!("{name}: kustomize fails, ours succeeded"))
            }
            (None, true, Ok(out)) => {
                let want = String::from_utf8_lossy(&reference.stdout);
                if want == out {
                    identical += 1;
                } else if parse(&want) == parse(&out) {
                    failures.push(format!(
                        "{name}: same objects, different bytes\n--- kustomize\n{want}\n--- ours\n{out}"
                    ));
                } else {
                    failures.push(format!(
                        "{name}: differs\n--- kustomize\n{want}\n--- ours\n{out}"
                    ));
                }
            }
            (None, true, Err(e)) => failures.push(format!("{name}: ours failed: {e}")),
            (None, false, r) => failures.push(format!(
                "{name}: kustomize failed ({}), ours {}",
                String::from_utf8_lossy(&reference.stderr).trim(),
                if r.is_ok() { "succeeded" } else { "failed" }
            )),
        }
    }
    println!("{identical} of {} fixtures identical", cases.len());
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
