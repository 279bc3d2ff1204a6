//! Parity with the reference `kustomize build` on every corpus folder holding a kustomization.
//!
//! The engine is incomplete, so the test asserts a floor (the number of identical outputs can
//! only go up) and that wherever kustomize fails, ours fails too.

use ferroflux_kustomize::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Identical outputs achieved so far (parsed documents equal, or both fail); raise it when the
/// engine improves.
const IDENTICAL_FLOOR: usize = 83;
/// Outputs identical byte for byte (or both fail).
const BYTE_IDENTICAL_FLOOR: usize = 83;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn shared() -> PathBuf {
    std::env::var_os("FERROFLUX_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("../shared"))
}

fn find_cases(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    if ["kustomization.yaml", "kustomization.yml", "Kustomization"]
        .iter()
        .any(|n| dir.join(n).is_file())
    {
        out.push(dir.to_path_buf());
    }
    for e in entries {
        if e.is_dir() && !e.is_symlink() {
            find_cases(&e, out);
        }
    }
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

#[test]
fn corpus_parity() {
    let kustomize = workspace().join(".cache/bin/kustomize");
    assert!(
        kustomize.exists(),
        "reference kustomize missing at {}: run `make tools`",
        kustomize.display()
    );
    let corpus = shared().join("corpus/kustomize");
    assert!(
        corpus.is_dir(),
        "corpus missing at {} (set FERROFLUX_SHARED)",
        corpus.display()
    );
    let mut cases = Vec::new();
    find_cases(&corpus, &mut cases);
    let (mut identical, mut both_fail, mut bytes) = (0, 0, 0);
    let mut differing = Vec::new();
    let mut missed_failures = Vec::new();
    for case in &cases {
        let rel = case
            .strip_prefix(&corpus)
            .unwrap_or(case)
            .display()
            .to_string();
        let reference = Command::new(&kustomize)
            .arg("build")
            .arg(case)
            .output()
            .expect("run kustomize");
        let ours = ferroflux_kustomize::build(case).and_then(|r| ferroflux_kustomize::to_yaml(&r));
        match (reference.status.success(), ours) {
            (true, Ok(out)) => {
                if reference.stdout == out.as_bytes() {
                    bytes += 1;
                }
                let want = parse(&String::from_utf8_lossy(&reference.stdout));
                let got = parse(&out);
                if want == got {
                    identical += 1;
                } else {
                    let first = want.iter().zip(&got).position(|(a, b)| a != b);
                    differing.push(format!(
                        "{rel}: differs (docs {} vs {}, first diff at {:?})",
                        want.len(),
                        got.len(),
                        first
                    ));
                }
            }
            (true, Err(e)) => differing.push(format!("{rel}: ours failed: {e}")),
            (false, Err(_)) => {
                identical += 1;
                both_fail += 1;
                bytes += 1;
            }
            (false, Ok(_)) => missed_failures.push(rel),
        }
    }
    println!(
        "{identical} of {} identical ({both_fail} of them fail in both), {bytes} of {} byte for byte",
        cases.len(),
        cases.len()
    );
    for d in &differing {
        println!("  {d}");
    }
    for m in &missed_failures {
        println!("  {m}: kustomize fails, ours succeeded");
    }
    assert!(
        missed_failures.is_empty(),
        "kustomize fails but we do not: {missed_failures:?}"
    );
    assert!(
        identical >= IDENTICAL_FLOOR,
        "regression: {identical} identical < floor {IDENTICAL_FLOOR}"
    );
    assert!(
        bytes >= BYTE_IDENTICAL_FLOOR,
        "regression: {bytes} byte-identical < floor {BYTE_IDENTICAL_FLOOR}"
    );
}

/// The same corpus with `buildMetadata: [originAnnotations, transformerAnnotations,
/// managedByLabel]` added to every kustomization (only the top one's counts): origin paths,
/// transformer lists and the managed-by label must match kustomize's byte for byte.
#[test]
fn corpus_parity_with_build_metadata() {
    let kustomize = workspace().join(".cache/bin/kustomize");
    assert!(
        kustomize.exists(),
        "reference kustomize missing at {}: run `make tools`",
        kustomize.display()
    );
    let corpus = shared().join("corpus/kustomize");
    assert!(
        corpus.is_dir(),
        "corpus missing at {} (set FERROFLUX_SHARED)",
        corpus.display()
    );
    let tmp = tempfile::tempdir().unwrap();
    let copy = tmp.path().join("corpus");
    let status = Command::new("cp")
        .arg("-a")
        .arg(&corpus)
        .arg(&copy)
        .status()
        .expect("run cp");
    assert!(status.success(), "copying the corpus failed");
    let mut cases = Vec::new();
    find_cases(&copy, &mut cases);
    for case in &cases {
        for name in ["kustomization.yaml", "kustomization.yml", "Kustomization"] {
            let f = case.join(name);
            if let Ok(text) = std::fs::read_to_string(&f)
                && !text.contains("buildMetadata")
            {
                let text = format!(
                    "buildMetadata: [originAnnotations, transformerAnnotations, managedByLabel]\n{text}"
                );
                std::fs::write(&f, text).unwrap();
            }
        }
    }
    let mut differing = Vec::new();
    for case in &cases {
        let rel = case
            .strip_prefix(&copy)
            .unwrap_or(case)
            .display()
            .to_string();
        let reference = Command::new(&kustomize)
            .arg("build")
            .arg(case)
            .output()
            .expect("run kustomize");
        let ours = ferroflux_kustomize::build(case).and_then(|r| ferroflux_kustomize::to_yaml(&r));
        match (reference.status.success(), ours) {
            (true, Ok(out)) if reference.stdout == out.as_bytes() => {}
            (false, Err(_)) => {}
            (true, Ok(_)) => differing.push(format!("{rel}: output differs")),
            (true, Err(e)) => differing.push(format!("{rel}: ours failed: {e}")),
            (false, Ok(_)) => differing.push(format!("{rel}: kustomize fails, ours succeeded")),
        }
    }
    println!(
        "{} of {} identical with buildMetadata",
        cases.len() - differing.len(),
        cases.len()
    );
    assert!(differing.is_empty(), "{}", differing.join("\n"));
}
