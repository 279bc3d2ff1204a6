//! The getting-started walkthrough's manifests (`../shared/examples/`), in their old
//! (`v1beta2`/`v2beta1`) and current (`v1`/`v2`) forms, against our CRDs in a real API server.

use std::collections::BTreeMap;

use ferroflux_e2e::{Cluster, TestNamespace};
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::core::GroupVersionKind;
use kube::discovery::pinned_kind;
use serde_json::Value;

/// The example's documents, moved into the test's namespace (cross-namespace refs too).
fn load_example(file: &str, ns: &str) -> Vec<Value> {
    let path = ferroflux_e2e::shared_dir().join("examples").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let docs: Vec<Value> = serde_saphyr::from_multiple(&text).unwrap();
    docs.into_iter()
        .filter(|d| d.is_object())
        .map(|mut d| {
            d["metadata"]["namespace"] = Value::from(ns);
            if let Some(r) = d
                .pointer_mut("/spec/chart/spec/sourceRef")
                .and_then(Value::as_object_mut)
            {
                r.insert("namespace".into(), Value::from(ns));
            }
            d
        })
        .collect()
}

/// Every leaf of `want` is in `got` with the same value (the server may add defaults).
fn assert_subset(want: &Value, got: &Value, path: &str) {
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => {
            for (k, v) in w {
                let child = format!("{path}.{k}");
                let gv = g
                    .get(k)
                    .unwrap_or_else(|| panic!("{child} was dropped by the API server; got {got}"));
                assert_subset(v, gv, &child);
            }
        }
        (Value::Array(w), Value::Array(g)) => {
            assert_eq!(w.len(), g.len(), "{path}: list length");
            for (i, (a, b)) in w.iter().zip(g).enumerate() {
                assert_subset(a, b, &format!("{path}[{i}]"));
            }
        }
        _ => assert_eq!(want, got, "{path}"),
    }
}

async fn apply_and_read_back(file: &str) {
    let cluster = Cluster::shared().unwrap();
    let client = cluster.client().await.unwrap();
    let ns = TestNamespace::create(&client, &cluster, "walkthrough")
        .await
        .unwrap();
    let docs = load_example(file, &ns.name);
    assert!(!docs.is_empty(), "{file} has no documents");
    for doc in docs {
        let api_version = doc["apiVersion"].as_str().unwrap().to_string();
        let kind = doc["kind"].as_str().unwrap().to_string();
        let name = doc["metadata"]["name"].as_str().unwrap().to_string();
        let (group, version) = api_version.split_once('/').unwrap();
        let (ar, _) = pinned_kind(&client, &GroupVersionKind::gvk(group, version, &kind))
            .await
            .unwrap();
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), &ns.name, &ar);
        let obj: DynamicObject = serde_json::from_value(doc.clone()).unwrap();
        api.patch(
            &name,
            &PatchParams::apply("e2e").force(),
            &Patch::Apply(&obj),
        )
        .await
        .unwrap_or_else(|e| panic!("{file}: {kind}/{name} ({api_version}) rejected: {e}"));
        let back = serde_json::to_value(api.get(&name).await.unwrap()).unwrap();
        assert_eq!(back["apiVersion"], Value::from(api_version.as_str()));
        assert_subset(&doc["spec"], &back["spec"], &format!("{kind}/{name}.spec"));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn helm_starboard_v1beta2_v2beta1_manifests_are_accepted_and_read_back() {
    apply_and_read_back("01-helm-starboard.yaml").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn git_react_app_v1beta2_manifests_are_accepted_and_read_back() {
    apply_and_read_back("02-git-react-app.yaml").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn current_version_manifests_are_accepted_and_read_back() {
    apply_and_read_back("03-v1-forms.yaml").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn old_version_objects_read_back_in_the_storage_version() {
    let cluster = Cluster::shared().unwrap();
    let client = cluster.client().await.unwrap();
    let ns = TestNamespace::create(&client, &cluster, "versions")
        .await
        .unwrap();
    for doc in load_example("02-git-react-app.yaml", &ns.name) {
        let kind = doc["kind"].as_str().unwrap().to_string();
        let name = doc["metadata"]["name"].as_str().unwrap().to_string();
        let (group, _) = doc["apiVersion"].as_str().unwrap().split_once('/').unwrap();
        let (old, _) = pinned_kind(&client, &GroupVersionKind::gvk(group, "v1beta2", &kind))
            .await
            .unwrap();
        let (new, _) = pinned_kind(&client, &GroupVersionKind::gvk(group, "v1", &kind))
            .await
            .unwrap();
        let obj: DynamicObject = serde_json::from_value(doc.clone()).unwrap();
        Api::<DynamicObject>::namespaced_with(client.clone(), &ns.name, &old)
            .patch(&name, &PatchParams::apply("e2e"), &Patch::Apply(&obj))
            .await
            .unwrap();
        let back = Api::<DynamicObject>::namespaced_with(client.clone(), &ns.name, &new)
            .get(&name)
            .await
            .unwrap();
        let back = serde_json::to_value(back).unwrap();
        assert_eq!(back["apiVersion"], Value::from(format!("{group}/v1")));
        assert_eq!(
            back["spec"]["interval"], doc["spec"]["interval"],
            "{kind} interval"
        );
    }
    // The typed v1 GitRepository deserialises what the v1beta2 manifest stored.
    let repos: Api<ferroflux_api::source::v1::GitRepository> =
        Api::namespaced(client.clone(), &ns.name);
    let repo = repos.get("react-app").await.unwrap();
    assert_eq!(repo.spec.url, "git://127.0.0.1:19418/react-app.git");
    assert_eq!(
        repo.spec.r#ref.and_then(|r| r.branch).as_deref(),
        Some("main")
    );
    assert_eq!(
        repo.spec.timeout.as_deref(),
        Some("60s"),
        "v1 default applied"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_get_shows_fluxs_printer_columns() {
    let cluster = Cluster::shared().unwrap();
    let client = cluster.client().await.unwrap();
    let ns = TestNamespace::create(&client, &cluster, "columns")
        .await
        .unwrap();
    for file in ["01-helm-starboard.yaml", "02-git-react-app.yaml"] {
        for doc in load_example(file, &ns.name) {
            let api_version = doc["apiVersion"].as_str().unwrap().to_string();
            let (group, version) = api_version.split_once('/').unwrap();
            let kind = doc["kind"].as_str().unwrap();
            let (ar, _) = pinned_kind(&client, &GroupVersionKind::gvk(group, version, kind))
                .await
                .unwrap();
            let obj: DynamicObject = serde_json::from_value(doc.clone()).unwrap();
            Api::<DynamicObject>::namespaced_with(client.clone(), &ns.name, &ar)
                .patch(
                    obj.metadata.name.as_deref().unwrap(),
                    &PatchParams::apply("e2e"),
                    &Patch::Apply(&obj),
                )
                .await
                .unwrap();
        }
    }
    let out = cluster
        .kubectl(&[
            "get",
            "gitrepositories,kustomizations,helmreleases,helmrepositories",
            "-A",
        ])
        .unwrap();
    // kubectl prints one table per kind; collect each table's header by the kind of its rows.
    let mut headers: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut current: Vec<String> = Vec::new();
    for line in out.lines() {
        let cols: Vec<String> = line
            .split("  ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(String::from)
            .collect();
        if cols.first().map(String::as_str) == Some("NAMESPACE") {
            current = cols;
        } else if cols.first() == Some(&ns.name) {
            let kind = cols[1].split('/').next().unwrap_or_default().to_string();
            headers.insert(kind, current.clone());
        }
    }
    let expect = |kind: &str, cols: &[&str]| {
        let got = headers
            .get(kind)
            .unwrap_or_else(|| panic!("no {kind} rows in:\n{out}"));
        assert_eq!(
            got,
            &cols.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            "{kind} columns in:\n{out}"
        );
    };
    expect(
        "gitrepository.source.toolkit.fluxcd.io",
        &["NAMESPACE", "NAME", "URL", "AGE", "READY", "STATUS"],
    );
    expect(
        "helmrepository.source.toolkit.fluxcd.io",
        &["NAMESPACE", "NAME", "URL", "AGE", "READY", "STATUS"],
    );
    expect(
        "kustomization.kustomize.toolkit.fluxcd.io",
        &["NAMESPACE", "NAME", "AGE", "READY", "STATUS"],
    );
    expect(
        "helmrelease.helm.toolkit.fluxcd.io",
        &["NAMESPACE", "NAME", "AGE", "READY", "STATUS"],
    );
    // Short names resolve.
    for short in ["gitrepo", "helmrepo", "ks", "hr", "hc", "ocirepo"] {
        cluster
            .kubectl(&["get", short, "-n", &ns.name])
            .unwrap_or_else(|e| panic!("short name {short}: {e}"));
    }
}
