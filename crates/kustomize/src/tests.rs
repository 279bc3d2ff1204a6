//! End-to-end tests of `build` on small kustomizations, including adversarial input.

use super::*;
use std::fs;

fn write(dir: &Path, files: &[(&str, &str)]) {
    for (name, body) in files {
        let p = dir.join(name);
        if let Some(parent) = p.parent() {
            fs::create_dir_all(parent).unwrap();
        }
        fs::write(p, body).unwrap();
    }
}

const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  a: b\n";

#[test]
fn builds_overlay_with_base() {
    let t = tempfile::tempdir().unwrap();
    write(
        t.path(),
        &[
            ("base/kustomization.yaml", "resources: [cm.yaml]\n"),
            ("base/cm.yaml", CM),
            (
                "overlay/kustomization.yaml",
                "resources: [../base]\nnamePrefix: p-\nnamespace: ns\n",
            ),
        ],
    );
    let out = build(&t.path().join("overlay")).unwrap();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].name(), "p-cm");
    assert_eq!(out[0].namespace(), "ns");
}

#[test]
fn duplicate_ids_fail() {
    let t = tempfile::tempdir().unwrap();
    write(
        t.path(),
        &[
            ("kustomization.yaml", "resources: [a.yaml, b.yaml]\n"),
            ("a.yaml", CM),
            ("b.yaml", CM),
        ],
    );
    let err = build(t.path()).unwrap_err();
    assert!(matches!(err, Error::DuplicateId(_)), "{err}");
}

#[test]
fn invalid_yaml_names_the_file() {
    let t = tempfile::tempdir().unwrap();
    write(
        t.path(),
        &[
            ("kustomization.yaml", "resources: [bad.yaml]\n"),
            ("bad.yaml", "kind: [\n"),
        ],
    );
    let err = build(t.path()).unwrap_err().to_string();
    assert!(err.contains("bad.yaml"), "{err}");
}

#[test]
fn file_outside_root_fails() {
    let t = tempfile::tempdir().unwrap();
    write(
        t.path(),
        &[
            ("k/kustomization.yaml", "resources: [../cm.yaml]\n"),
            ("cm.yaml", CM),
        ],
    );
    let err = build(&t.path().join("k")).unwrap_err();
    assert!(matches!(err, Error::OutsideRoot { .. }), "{err}");
}

#[cfg(unix)]
#[test]
fn symlink_escape_fails() {
    let t = tempfile::tempdir().unwrap();
    write(
        t.path(),
        &[
            ("k/kustomization.yaml", "resources: [link.yaml]\n"),
            ("cm.yaml", CM),
        ],
    );
    std::os::unix::fs::symlink(t.path().join("cm.yaml"), t.path().join("k/link.yaml")).unwrap();
    let err = build(&t.path().join("k")).unwrap_err();
    assert!(matches!(err, Error::OutsideRoot { .. }), "{err}");
}

#[test]
fn fs_root_confines_bases() {
    let t = tempfile::tempdir().unwrap();
    write(
        t.path(),
        &[
            ("base/kustomization.yaml", "resources: [cm.yaml]\n"),
            ("base/cm.yaml", CM),
            ("repo/kustomization.yaml", "resources: [../base]\n"),
        ],
    );
    let opts = Options {
        fs_root: Some(t.path().join("repo")),
    };
    let err = build_with(&t.path().join("repo"), &opts).unwrap_err();
    assert!(matches!(err, Error::OutsideRoot { .. }), "{err}");
}

#[test]
fn cycles_fail() {
    let t = tempfile::tempdir().unwrap();
    write(
        t.path(),
        &[
            ("a/kustomization.yaml", "resources: [../b]\n"),
            ("b/kustomization.yaml", "resources: [../a]\n"),
        ],
    );
    let err = build(&t.path().join("a")).unwrap_err();
    assert!(matches!(err, Error::Cycle(_)), "{err}");
}

#[test]
fn remote_refused() {
    let t = tempfile::tempdir().unwrap();
    write(
        t.path(),
        &[(
            "kustomization.yaml",
            "resources:\n- https://example.com/x.yaml\n",
        )],
    );
    let err = build(t.path()).unwrap_err().to_string();
    assert!(err.contains("https://example.com/x.yaml"), "{err}");
}

#[test]
fn generator_hash_and_reference() {
    let t = tempfile::tempdir().unwrap();
    write(
        t.path(),
        &[
            (
                "kustomization.yaml",
                "resources: [pod.yaml]\nconfigMapGenerator:\n- name: my-cm\n  literals: [a=b]\n",
            ),
            (
                "pod.yaml",
                "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  volumes:\n  - name: v\n    configMap: {name: my-cm}\n",
            ),
        ],
    );
    let out = build(t.path()).unwrap();
    assert_eq!(out[0].name(), "my-cm-4h2mbtbbt6");
    let vol = &out[1]
        .value
        .pointer(&["spec", "volumes"])
        .unwrap()
        .as_seq()
        .unwrap()[0];
    assert_eq!(vol.str_at(&["configMap", "name"]), Some("my-cm-4h2mbtbbt6"));
}

#[test]
fn components_and_patches() {
    let t = tempfile::tempdir().unwrap();
    write(
        t.path(),
        &[
            (
                "kustomization.yaml",
                "resources: [cm.yaml]\ncomponents: [comp]\npatches:\n- target: {kind: ConfigMap}\n  patch: |\n    - op: add\n      path: /data/x\n      value: y\n",
            ),
            ("cm.yaml", CM),
            (
                "comp/kustomization.yaml",
                "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\ncommonAnnotations: {c: d}\n",
            ),
        ],
    );
    let out = build(t.path()).unwrap();
    assert_eq!(out[0].value.str_at(&["data", "x"]), Some("y"));
    assert_eq!(
        out[0].value.str_at(&["metadata", "annotations", "c"]),
        Some("d")
    );
}

#[test]
fn legacy_order_and_fifo() {
    let t = tempfile::tempdir().unwrap();
    let dep = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n";
    let ns = "apiVersion: v1\nkind: Namespace\nmetadata: {name: n}\n";
    write(
        t.path(),
        &[
            ("kustomization.yaml", "resources: [d.yaml, n.yaml]\n"),
            ("d.yaml", dep),
            ("n.yaml", ns),
        ],
    );
    let out = build(t.path()).unwrap();
    assert_eq!(out[0].kind(), "Namespace");
    write(
        t.path(),
        &[(
            "kustomization.yaml",
            "resources: [d.yaml, n.yaml]\nsortOptions: {order: fifo}\n",
        )],
    );
    let out = build(t.path()).unwrap();
    assert_eq!(out[0].kind(), "Deployment");
}

#[test]
fn huge_generator_file() {
    let t = tempfile::tempdir().unwrap();
    let big = "x".repeat(4 << 20);
    write(
        t.path(),
        &[
            (
                "kustomization.yaml",
                "configMapGenerator:\n- name: big\n  files: [big.txt]\n",
            ),
            ("big.txt", &big),
        ],
    );
    let out = build(t.path()).unwrap();
    assert_eq!(
        out[0].value.str_at(&["data", "big.txt"]).map(str::len),
        Some(4 << 20)
    );
}

#[test]
fn sort_options_are_validated_like_kustomize() {
    let t = tempfile::tempdir().unwrap();
    write(
        t.path(),
        &[
            ("cm.yaml", CM),
            (
                "kustomization.yaml",
                "resources: [cm.yaml]\nsortOptions: {order: random}\n",
            ),
        ],
    );
    let e = build(t.path()).unwrap_err().to_string();
    assert!(e.contains("sortOptions.order"), "{e}");
    write(
        t.path(),
        &[(
            "kustomization.yaml",
            "resources: [cm.yaml]\nsortOptions: {order: fifo, legacySortOptions: {orderFirst: [], orderLast: []}}\n",
        )],
    );
    let e = build(t.path()).unwrap_err().to_string();
    assert!(e.contains("legacySortOptions"), "{e}");
}

#[test]
fn unsupported_fields_and_plugins_are_refused_naming_the_file() {
    for (field, body) in [
        ("helmCharts", "helmCharts:\n- name: x\n"),
        ("generators", "generators: [g.yaml]\n"),
        ("validators", "validators: [v.yaml]\n"),
    ] {
        let t = tempfile::tempdir().unwrap();
        write(t.path(), &[("kustomization.yaml", body)]);
        let e = build(t.path()).unwrap_err().to_string();
        assert!(e.contains(field) && e.contains("kustomization.yaml"), "{e}");
    }
    let t = tempfile::tempdir().unwrap();
    write(
        t.path(),
        &[
            (
                "kustomization.yaml",
                "resources: [cm.yaml]\ntransformers: [t.yaml]\n",
            ),
            ("cm.yaml", CM),
            (
                "t.yaml",
                "apiVersion: example.com/v1\nkind: Exec\nmetadata: {name: x, annotations: {config.kubernetes.io/function: 'exec: {path: ./x}'}}\n",
            ),
        ],
    );
    let e = build(t.path()).unwrap_err().to_string();
    assert!(e.contains("t.yaml") && e.contains("plugin"), "{e}");
}

#[test]
fn builtin_label_transformer_config_applies_its_field_specs() {
    let t = tempfile::tempdir().unwrap();
    write(
        t.path(),
        &[
            (
                "kustomization.yaml",
                "resources: [cm.yaml]\ntransformers: [t.yaml]\n",
            ),
            ("cm.yaml", CM),
            (
                "t.yaml",
                "apiVersion: builtin\nkind: LabelTransformer\nmetadata: {name: l}\nlabels: {env: dev}\nfieldSpecs:\n- {path: metadata/labels, create: true}\n",
            ),
        ],
    );
    let out = build(t.path()).unwrap();
    assert_eq!(
        out[0].value.str_at(&["metadata", "labels", "env"]),
        Some("dev")
    );
}

#[test]
fn replacements_from_a_path_file() {
    let t = tempfile::tempdir().unwrap();
    write(
        t.path(),
        &[
            (
                "kustomization.yaml",
                "resources: [cm.yaml, cm2.yaml]\nreplacements:\n- path: r.yaml\n",
            ),
            ("cm.yaml", CM),
            (
                "cm2.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm2}\ndata: {from: x}\n",
            ),
            (
                "r.yaml",
                "- source: {kind: ConfigMap, name: cm, fieldPath: data.a}\n  targets:\n  - select: {name: cm2}\n    fieldPaths: [data.from]\n",
            ),
        ],
    );
    let out = build(t.path()).unwrap();
    assert_eq!(out[1].value.str_at(&["data", "from"]), Some("b"));
}
