//! Parity with the reference `helm template` on every chart of the shared corpus, with default
//! values and with each values file the chart ships for CI (`ci/*.yaml`, `values-*.yaml`).
//!
//! Outputs are compared as parsed documents, in order, with their `# Source:` paths. Values
//! that are random by design are compared by shape only (see [`shape_only`]): Secret
//! `data`/`stringData` entries (bitnami's generated passwords: same length; generated
//! certificates and keys: base64 of PEM with the same block types),
//! `checksum/*` annotations (hashes over those secrets: same length both sides), and
//! `metadata.name` of hooks named with a random suffix (podinfo's test pods:
//! `…-grpc-test-{{ randAlphaNum 5 | lower }}`: same text up to the last `-`, same length).
//! Where helm fails, ours must fail too. The count of identical cases may only rise.

use ferroflux_helm::{Options, default_funcs, template};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Identical cases achieved so far; raise it when the engine improves.
const IDENTICAL_FLOOR: usize = 62;

const RELEASE: &str = "parity";
const NAMESPACE: &str = "parity-ns";
/// Several corpus charts require a newer cluster than helm's default v1.20.0.
const KUBE_VERSION: &str = "1.33.0";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn shared() -> PathBuf {
    std::env::var_os("FERROFLUX_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("../shared"))
}

/// Chart directories: any directory with a Chart.yaml directly under a corpus group
/// (podinfo itself, bitnami/*, prometheus-community/*).
fn charts(corpus: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![corpus.to_path_buf()];
    while let Some(d) = stack.pop() {
        if d.join("Chart.yaml").is_file() {
            out.push(d);
            continue;
        }
        if let Ok(rd) = std::fs::read_dir(&d) {
            stack.extend(rd.flatten().map(|e| e.path()).filter(|p| p.is_dir()));
        }
    }
    out.sort();
    out
}

/// Values files a chart ships for CI.
fn ci_values(chart: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(chart.join("ci")) {
        out.extend(
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml")),
        );
    }
    if let Ok(rd) = std::fs::read_dir(chart) {
        out.extend(rd.flatten().map(|e| e.path()).filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("values-") && n.ends_with(".yaml"))
        }));
    }
    out.sort();
    out
}

/// `(source, document)` pairs of a `helm template` stream.
fn parse_stream(text: &str) -> Result<Vec<(String, serde_json::Value)>, String> {
    let mut out = Vec::new();
    for doc in ferroflux_helm::manifest::split_manifests(text) {
        let (source, body) = match doc.strip_prefix("# Source: ") {
            Some(rest) => match rest.split_once('\n') {
                Some((s, b)) => (s.to_string(), b.to_string()),
                None => (rest.to_string(), String::new()),
            },
            None => (String::new(), doc.clone()),
        };
        let v = ferroflux_helm::yaml::parse(&body).map_err(|e| format!("{source}: {e}"))?;
        out.push((source, v.to_json()));
    }
    Ok(out)
}

/// Whether the value at `path` (in a document of `kind`) is random by design.
fn shape_only(kind: &str, path: &[String], random_name: bool) -> bool {
    let p: Vec<&str> = path.iter().map(String::as_str).collect();
    match p.as_slice() {
        ["data" | "stringData", _] if kind == "Secret" => true,
        [.., "annotations", k] if k.starts_with("checksum/") => true,
        ["metadata", "name"] => random_name,
        _ => false,
    }
}

fn same_shape(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    match (a, b) {
        (serde_json::Value::String(x), serde_json::Value::String(y)) if x.contains('-') => {
            x.len() == y.len() && x.rsplit_once('-').map(|p| p.0) == y.rsplit_once('-').map(|p| p.0)
        }
        (serde_json::Value::String(x), serde_json::Value::String(y)) => {
            x.len() == y.len() || (pem_kinds(x).is_some() && pem_kinds(x) == pem_kinds(y))
        }
        _ => a == b,
    }
}

/// For base64 of PEM text (generated keys and certificates, whose length varies): the
/// sequence of PEM block types.
fn pem_kinds(b64: &str) -> Option<Vec<String>> {
    use base64::Engine as _;
    let raw = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    let text = String::from_utf8(raw).ok()?;
    let kinds: Vec<String> = text
        .lines()
        .filter_map(|l| {
            l.strip_prefix("-----BEGIN ")
                .and_then(|r| r.strip_suffix("-----"))
        })
        .map(str::to_string)
        .collect();
    (!kinds.is_empty()).then_some(kinds)
}

/// Compares two documents; `Err` names the first differing path.
fn compare(
    kind: &str,
    random_name: bool,
    a: &serde_json::Value,
    b: &serde_json::Value,
    path: &mut Vec<String>,
) -> Result<(), String> {
    use serde_json::Value as J;
    if shape_only(kind, path, random_name) {
        return if same_shape(a, b) {
            Ok(())
        } else {
            Err(format!("{}: shape differs", path.join(".")))
        };
    }
    match (a, b) {
        (J::Object(x), J::Object(y)) => {
            for k in x.keys().chain(y.keys()) {
                let (Some(va), Some(vb)) = (x.get(k), y.get(k)) else {
                    return Err(format!("{}.{k}: present on one side only", path.join(".")));
                };
                path.push(k.clone());
                compare(kind, random_name, va, vb, path)?;
                path.pop();
            }
            Ok(())
        }
        (J::Array(x), J::Array(y)) if x.len() == y.len() => {
            for (i, (va, vb)) in x.iter().zip(y).enumerate() {
                path.push(i.to_string());
                compare(kind, random_name, va, vb, path)?;
                path.pop();
            }
            Ok(())
        }
        _ if a == b => Ok(()),
        _ => Err(format!(
            "{}: helm {} vs ours {}",
            path.join("."),
            short(a),
            short(b)
        )),
    }
}

fn short(v: &serde_json::Value) -> String {
    let s = v.to_string();
    if s.len() > 160 {
        format!(
            "{}…",
            &s[..s.char_indices().nth(160).map(|(i, _)| i).unwrap_or(s.len())]
        )
    } else {
        s
    }
}

fn compare_streams(want: &str, got: &str) -> Result<(), String> {
    let want = parse_stream(want).map_err(|e| format!("helm output unparsable: {e}"))?;
    let got = parse_stream(got).map_err(|e| format!("our output unparsable: {e}"))?;
    for (i, (w, g)) in want.iter().zip(&got).enumerate() {
        if w.0 != g.0 {
            return Err(format!("doc {i}: source {} vs ours {}", w.0, g.0));
        }
        let kind = w.1.get("kind").and_then(|k| k.as_str()).unwrap_or("");
        // Hook names generated with a random suffix.
        let random_name = w.1.pointer("/metadata/annotations/helm.sh~1hook").is_some();
        compare(kind, random_name, &w.1, &g.1, &mut Vec::new())
            .map_err(|e| format!("doc {i} ({}): {e}", w.0))?;
    }
    if want.len() != got.len() {
        return Err(format!("{} docs vs ours {}", want.len(), got.len()));
    }
    Ok(())
}

#[test]
fn corpus_parity() {
    let helm = workspace().join(".cache/bin/helm");
    assert!(
        helm.exists(),
        "reference helm missing at {}: run `make tools`",
        helm.display()
    );
    let corpus = shared().join("corpus/charts");
    assert!(
        corpus.is_dir(),
        "corpus missing at {} (set FERROFLUX_SHARED)",
        corpus.display()
    );
    let scratch = tempfile::tempdir().expect("tempdir");
    let (mut cases, mut identical, mut both_fail) = (0, 0, 0);
    let mut differing = Vec::new();
    let mut missed_failures = Vec::new();
    for chart in charts(&corpus) {
        let rel = chart
            .strip_prefix(&corpus)
            .unwrap_or(&chart)
            .display()
            .to_string();
        let mut variants: Vec<Option<PathBuf>> = vec![None];
        variants.extend(ci_values(&chart).into_iter().map(Some));
        for values in variants {
            cases += 1;
            let name = match &values {
                None => format!("{rel} (defaults)"),
                Some(v) => format!(
                    "{rel} -f {}",
                    v.file_name().unwrap_or_default().to_string_lossy()
                ),
            };
            let mut cmd = Command::new(&helm);
            cmd.args(["template", RELEASE])
                .arg(&chart)
                .args(["--namespace", NAMESPACE, "--kube-version", KUBE_VERSION])
                .env("HELM_CACHE_HOME", scratch.path().join("cache"))
                .env("HELM_CONFIG_HOME", scratch.path().join("config"))
                .env("HELM_DATA_HOME", scratch.path().join("data"))
                .env("KUBECONFIG", scratch.path().join("no-kubeconfig"));
            if let Some(v) = &values {
                cmd.arg("-f").arg(v);
            }
            let reference = cmd.output().expect("run helm");
            let opts = Options {
                release_name: RELEASE.into(),
                namespace: NAMESPACE.into(),
                kube_version: Some(KUBE_VERSION.into()),
                value_files: values.iter().cloned().collect(),
                ..Options::default()
            };
            let ours = template(&chart, &opts, default_funcs());
            match (reference.status.success(), ours) {
                (true, Ok(out)) => {
                    match compare_streams(&String::from_utf8_lossy(&reference.stdout), &out) {
                        Ok(()) => identical += 1,
                        Err(e) => differing.push(format!("{name}: {e}")),
                    }
                }
                (true, Err(e)) => differing.push(format!("{name}: ours failed: {e}")),
                (false, Err(e)) => {
                    identical += 1;
                    both_fail += 1;
                    println!(
                        "  {name}: both fail\n    helm: {}\n    ours: {e}",
                        String::from_utf8_lossy(&reference.stderr).trim()
                    );
                }
                (false, Ok(_)) => missed_failures.push(format!(
                    "{name}: helm fails ({}), ours succeeded",
                    String::from_utf8_lossy(&reference.stderr).trim()
                )),
            }
        }
    }
    println!("{identical} of {cases} identical ({both_fail} of them fail in both)");
    for d in &differing {
        println!("  {d}");
    }
    for m in &missed_failures {
        println!("  {m}");
    }
    assert!(
        missed_failures.is_empty(),
        "helm fails but we do not: {missed_failures:?}"
    );
    assert!(
        identical >= IDENTICAL_FLOOR,
        "regression: {identical} identical < floor {IDENTICAL_FLOOR}"
    );
}
