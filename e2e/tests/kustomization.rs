//! Kustomization end to end: a git repository served over smart HTTP, source-controller and
//! kustomize-controller as real binaries, the local control plane. Each test has its own
//! namespaces (Flux objects, and the "app" namespace the walkthrough applies into), so tests
//! run in parallel.

use std::time::Duration;

use ferroflux_api::kustomize::v1::Kustomization;
use ferroflux_e2e::gitserver::{GitHttp, HttpAuth, TestRepo};
use ferroflux_e2e::{Cluster, ControllerProcess, TestNamespace, wait_for};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Secret, Service};
use kube::Client;
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams, PostParams};
use kube::core::GroupVersionKind;
use kube::discovery::pinned_kind;
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(90);

fn deployment(replicas: u32, image_tag: &str) -> String {
    format!(
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: podinfo
  labels:
    app: podinfo
spec:
  replicas: {replicas}
  selector:
    matchLabels:
      app: podinfo
  template:
    metadata:
      labels:
        app: podinfo
    spec:
      containers:
        - name: podinfo
          image: ghcr.io/stefanprodan/podinfo:{image_tag}
          ports:
            - containerPort: 9898
"#
    )
}

const SERVICE: &str = r#"apiVersion: v1
kind: Service
metadata:
  name: podinfo
spec:
  selector:
    app: podinfo
  ports:
    - name: http
      port: 9898
      targetPort: 9898
"#;

const CONFIGMAP: &str = r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: podinfo-config
data:
  greeting: hello
"#;

/// The walkthrough's `react-app` repository: podinfo's Deployment, Service and ConfigMap under
/// `manifests/`, plus files the GitRepository's ignore block leaves out.
fn react_app_repo() -> TestRepo {
    let repo = TestRepo::new("react-app").unwrap();
    repo.write("manifests/deployment.yaml", deployment(1, "6.0.0"))
        .unwrap();
    repo.write("manifests/service.yaml", SERVICE).unwrap();
    repo.write("manifests/configmap.yaml", CONFIGMAP).unwrap();
    repo.write("src/index.js", "console.log('hi')\n").unwrap();
    repo.write("README.md", "# react app\n").unwrap();
    repo.commit("initial app").unwrap();
    repo
}

struct Env {
    cluster: Cluster,
    client: Client,
    ns: TestNamespace,
    app: TestNamespace,
    _served: tempfile::TempDir,
    http: GitHttp,
    sc: ControllerProcess,
    kc: ControllerProcess,
}

impl Env {
    async fn start(prefix: &str, repo: &mut TestRepo, kc_flags: &[String]) -> Env {
        let cluster = Cluster::shared().unwrap();
        let client = cluster.client().await.unwrap();
        let ns = TestNamespace::create(&client, &cluster, prefix)
            .await
            .unwrap();
        let app = TestNamespace::create(&client, &cluster, &format!("{prefix}-app"))
            .await
            .unwrap();
        let served = tempfile::tempdir().unwrap();
        repo.publish_to(served.path()).unwrap();
        let http = GitHttp::start(served.path(), HttpAuth::None, false).unwrap();
        let sc = ControllerProcess::start("source-controller", &cluster.kubeconfig, &ns.name, &[])
            .unwrap();
        let kc = ControllerProcess::start(
            "kustomize-controller",
            &cluster.kubeconfig,
            &ns.name,
            kc_flags,
        )
        .unwrap();
        Env {
            cluster,
            client,
            ns,
            app,
            _served: served,
            http,
            sc,
            kc,
        }
    }

    fn ks(&self) -> Api<Kustomization> {
        Api::namespaced(self.client.clone(), &self.ns.name)
    }

    fn app_api<K>(&self) -> Api<K>
    where
        K: kube::Resource<Scope = kube::core::NamespaceResourceScope, DynamicType = ()>,
    {
        Api::namespaced(self.client.clone(), &self.app.name)
    }

    /// Server-side applies a manifest (any served version) into the test namespace.
    async fn apply(&self, doc: &Value) {
        let api_version = doc["apiVersion"].as_str().unwrap();
        let kind = doc["kind"].as_str().unwrap();
        let name = doc["metadata"]["name"].as_str().unwrap();
        let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
        let (ar, _) = pinned_kind(&self.client, &GroupVersionKind::gvk(group, version, kind))
            .await
            .unwrap();
        let api: Api<DynamicObject> = Api::namespaced_with(self.client.clone(), &self.ns.name, &ar);
        let obj: DynamicObject = serde_json::from_value(doc.clone()).unwrap();
        api.patch(
            name,
            &PatchParams::apply("e2e").force(),
            &Patch::Apply(&obj),
        )
        .await
        .unwrap_or_else(|e| panic!("{kind}/{name} ({api_version}) rejected: {e}"));
    }

    /// The walkthrough's GitRepository and Kustomization (`02-git-react-app.yaml`), in
    /// `version` form (`v1beta2` as written, or `v1`), pointed at our HTTP server and
    /// namespaces.
    fn walkthrough_docs(&self, v1: bool) -> Vec<Value> {
        let path = ferroflux_e2e::shared_dir().join("examples/02-git-react-app.yaml");
        let text = std::fs::read_to_string(&path).unwrap();
        let docs: Vec<Value> = serde_saphyr::from_multiple(&text).unwrap();
        docs.into_iter()
            .filter(|d| d.is_object())
            .map(|mut d| {
                d["metadata"]["namespace"] = Value::from(self.ns.name.as_str());
                if d["kind"] == "GitRepository" {
                    d["spec"]["url"] = Value::from(self.http.url_for("react-app"));
                }
                if d["kind"] == "Kustomization" {
                    assert_eq!(d["spec"]["targetNamespace"], "app");
                    d["spec"]["targetNamespace"] = Value::from(self.app.name.as_str());
                }
                if v1 {
                    let av = d["apiVersion"].as_str().unwrap().replace("/v1beta2", "/v1");
                    d["apiVersion"] = Value::from(av);
                }
                d
            })
            .collect()
    }

    /// Asks for a reconcile now (`flux reconcile`'s annotation) of a source or Kustomization.
    async fn request_reconcile(&self, kind: &str, name: &str) {
        let ts = format!("{:?}", std::time::SystemTime::now());
        self.cluster
            .kubectl(&[
                "annotate",
                "--overwrite",
                "-n",
                &self.ns.name,
                kind,
                name,
                &format!("reconcile.fluxcd.io/requestedAt={ts}"),
            ])
            .unwrap();
    }

    /// Waits until the Kustomization is Ready with `revision` as its last applied revision.
    async fn wait_applied(&self, name: &str, revision: &str) -> Kustomization {
        self.wait_ks(name, "True", |k| {
            k.status
                .as_ref()
                .and_then(|s| s.last_applied_revision.as_deref())
                == Some(revision)
        })
        .await
    }

    /// Waits until the Kustomization's Ready condition has `status` for its generation and
    /// `pred` holds, printing the controllers' logs on timeout.
    async fn wait_ks(
        &self,
        name: &str,
        status: &str,
        pred: impl Fn(&Kustomization) -> bool,
    ) -> Kustomization {
        let api = self.ks();
        let got = wait_for(WAIT, || async {
            let k = api.get(name).await.ok()?;
            let st = k.status.as_ref()?;
            let c = st.conditions.iter().find(|c| c.type_ == "Ready")?;
            let observed = st.observed_generation == k.metadata.generation;
            (c.status.as_str() == status && (observed || status != "True") && pred(&k)).then_some(k)
        })
        .await;
        match got {
            Ok(k) => k,
            Err(e) => {
                let k = api.get(name).await.ok();
                panic!(
                    "Kustomization {name} never became Ready={status}: {e}\nstatus: {:#?}\n--- kustomize-controller ---\n{}\n--- source-controller ---\n{}",
                    k.and_then(|k| k.status),
                    self.kc.logs(),
                    self.sc.logs()
                )
            }
        }
    }

    async fn wait_app<T, F, Fut>(&self, what: &str, f: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Option<T>>,
    {
        match wait_for(WAIT, f).await {
            Ok(v) => v,
            Err(e) => panic!(
                "{what}: {e}\n--- kustomize-controller ---\n{}",
                self.kc.logs()
            ),
        }
    }
}

fn ready_message(k: &Kustomization) -> String {
    k.status
        .as_ref()
        .and_then(|s| s.conditions.iter().find(|c| c.type_ == "Ready"))
        .map(|c| format!("{}: {}", c.reason, c.message))
        .unwrap_or_default()
}

async fn deployment_json(api: &Api<Deployment>) -> Option<Value> {
    serde_json::to_value(api.get("podinfo").await.ok()?).ok()
}

async fn replicas(api: &Api<Deployment>) -> Option<i64> {
    deployment_json(api)
        .await?
        .pointer("/spec/replicas")?
        .as_i64()
}

async fn image(api: &Api<Deployment>) -> Option<String> {
    deployment_json(api)
        .await?
        .pointer("/spec/template/spec/containers/0/image")?
        .as_str()
        .map(str::to_string)
}

/// The walkthrough end to end, with the manifests in `v1beta2` (as written) or `v1` form.
async fn walkthrough(v1: bool) {
    let mut repo = react_app_repo();
    let prefix = if v1 { "ks-walk-v1" } else { "ks-walk" };
    let env = Env::start(prefix, &mut repo, &[]).await;
    for doc in env.walkthrough_docs(v1) {
        env.apply(&doc).await;
    }

    // 1. The manifests land in the app namespace, owned by the Kustomization.
    let head = repo.head().unwrap();
    let rev = format!("main@sha1:{head}");
    let k = env.wait_applied("react-app", &rev).await;
    let st = k.status.clone().unwrap();
    assert_eq!(
        ready_message(&k),
        format!("ReconciliationSucceeded: Applied revision: {rev}")
    );
    assert_eq!(st.last_attempted_revision.as_deref(), Some(rev.as_str()));
    let mut ids: Vec<String> = st
        .inventory
        .unwrap()
        .entries
        .into_iter()
        .map(|e| e.id)
        .collect();
    ids.sort();
    let app = env.app.name.clone();
    assert_eq!(
        ids,
        vec![
            format!("{app}_podinfo-config__ConfigMap"),
            format!("{app}_podinfo__Service"),
            format!("{app}_podinfo_apps_Deployment"),
        ]
    );
    assert_eq!(st.history.len(), 1);
    assert!(st.history[0].digest.starts_with("sha256:"));
    let deploys: Api<Deployment> = env.app_api();
    let d = deploys.get("podinfo").await.unwrap();
    let labels = d.metadata.labels.clone().unwrap_or_default();
    assert_eq!(labels["kustomize.toolkit.fluxcd.io/name"], "react-app");
    assert_eq!(labels["kustomize.toolkit.fluxcd.io/namespace"], env.ns.name);
    assert_eq!(replicas(&deploys).await, Some(1));
    let services: Api<Service> = env.app_api();
    services.get("podinfo").await.unwrap();
    let cms: Api<ConfigMap> = env.app_api();
    cms.get("podinfo-config").await.unwrap();
    // Field manager of the apply is the controller.
    let managers: Vec<String> = d
        .metadata
        .managed_fields
        .unwrap_or_default()
        .into_iter()
        .filter_map(|m| m.manager)
        .collect();
    assert!(
        managers.contains(&"kustomize-controller".to_string()),
        "{managers:?}"
    );

    // 2. A commit that edits the Deployment is applied once the source has it: the source's
    // new revision alone triggers the Kustomization (its own interval is 5m).
    repo.write("manifests/deployment.yaml", deployment(2, "6.0.0"))
        .unwrap();
    let head2 = repo.commit("scale to 2").unwrap();
    repo.push().unwrap();
    env.request_reconcile("gitrepository", "react-app").await;
    let rev2 = format!("main@sha1:{head2}");
    env.wait_applied("react-app", &rev2).await;
    assert_eq!(replicas(&deploys).await, Some(2));

    // 3. A commit that deletes the ConfigMap prunes it.
    repo.remove("manifests/configmap.yaml").unwrap();
    let head3 = repo.commit("drop the config map").unwrap();
    repo.push().unwrap();
    env.request_reconcile("gitrepository", "react-app").await;
    let rev3 = format!("main@sha1:{head3}");
    let k = env.wait_applied("react-app", &rev3).await;
    assert!(
        cms.get_opt("podinfo-config").await.unwrap().is_none(),
        "the ConfigMap left the source and must be pruned"
    );
    assert_eq!(k.status.unwrap().inventory.unwrap().entries.len(), 2);

    // 4. `kubectl edit` of a field we own is reverted at the next reconcile.
    let out = std::process::Command::new(ferroflux_e2e::tool("kubectl"))
        .args(["edit", "-n", &app, "deployment/podinfo"])
        .env("KUBECONFIG", &env.cluster.kubeconfig)
        .env("KUBE_EDITOR", "sed -i s#podinfo:6.0.0#podinfo:6.6.6#")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "kubectl edit: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        image(&deploys).await.as_deref(),
        Some("ghcr.io/stefanprodan/podinfo:6.6.6")
    );
    env.request_reconcile("kustomization", "react-app").await;
    env.wait_app("kubectl edit reverted", || async {
        (image(&deploys).await.as_deref() == Some("ghcr.io/stefanprodan/podinfo:6.0.0"))
            .then_some(())
    })
    .await;

    // 5. `kubectl scale` is reverted too.
    env.cluster
        .kubectl(&["scale", "-n", &app, "deployment/podinfo", "--replicas=5"])
        .unwrap();
    assert_eq!(replicas(&deploys).await, Some(5));
    env.request_reconcile("kustomization", "react-app").await;
    env.wait_app("kubectl scale reverted", || async {
        (replicas(&deploys).await == Some(2)).then_some(())
    })
    .await;

    // 6. Suspended, nothing is applied: a new commit and a requested reconcile change nothing.
    env.ks()
        .patch(
            "react-app",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"suspend": true}})),
        )
        .await
        .unwrap();
    repo.write("manifests/deployment.yaml", deployment(3, "6.0.0"))
        .unwrap();
    let head4 = repo.commit("scale to 3").unwrap();
    repo.push().unwrap();
    env.request_reconcile("gitrepository", "react-app").await;
    let repos: Api<ferroflux_api::source::v1::GitRepository> =
        Api::namespaced(env.client.clone(), &env.ns.name);
    let rev4 = format!("main@sha1:{head4}");
    env.wait_app("source has the new commit", || async {
        let r = repos.get("react-app").await.ok()?;
        (r.status?.artifact?.revision == rev4).then_some(())
    })
    .await;
    env.request_reconcile("kustomization", "react-app").await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(replicas(&deploys).await, Some(2), "suspended: not applied");
    let k = env.ks().get("react-app").await.unwrap();
    assert_eq!(
        k.status.unwrap().last_applied_revision.as_deref(),
        Some(rev3.as_str())
    );

    // Resumed, it catches up.
    env.ks()
        .patch(
            "react-app",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"suspend": false}})),
        )
        .await
        .unwrap();
    env.wait_applied("react-app", &rev4).await;
    assert_eq!(replicas(&deploys).await, Some(3));

    // 7. Deleting the Kustomization (prune: true) deletes what it applied.
    env.ks()
        .delete("react-app", &DeleteParams::default())
        .await
        .unwrap();
    env.wait_app("objects garbage-collected", || async {
        let d = deploys.get_opt("podinfo").await.ok()?;
        let s = services.get_opt("podinfo").await.ok()?;
        let k = env.ks().get_opt("react-app").await.ok()?;
        (d.is_none() && s.is_none() && k.is_none()).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn walkthrough_v1beta2_applies_updates_prunes_reverts_drift_suspends_and_deletes() {
    walkthrough(false).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn walkthrough_v1_applies_updates_prunes_reverts_drift_suspends_and_deletes() {
    walkthrough(true).await;
}

// ------------------------------------------------------------------------------------------
// Bad input
// ------------------------------------------------------------------------------------------

/// A GitRepository `name` on the env's server and a v1 Kustomization of it at `path`.
fn pipeline(env: &Env, name: &str, repo: &str, path: &str, extra: Value) -> [Value; 2] {
    let mut spec = json!({
        "interval": "10m",
        "retryInterval": "5s",
        "path": path,
        "prune": true,
        "sourceRef": {"kind": "GitRepository", "name": name},
        "targetNamespace": env.app.name,
    });
    if let (Some(s), Some(e)) = (spec.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            s.insert(k.clone(), v.clone());
        }
    }
    [
        json!({
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "GitRepository",
            "metadata": {"name": name, "namespace": env.ns.name},
            "spec": {"interval": "10m", "url": env.http.url_for(repo), "ref": {"branch": "main"}},
        }),
        json!({
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
            "kind": "Kustomization",
            "metadata": {"name": name, "namespace": env.ns.name},
            "spec": spec,
        }),
    ]
}

/// Bad repositories: one directory per case in one repository.
fn bad_repo() -> TestRepo {
    let repo = TestRepo::new("bad").unwrap();
    repo.write("good/configmap.yaml", CONFIGMAP).unwrap();
    repo.write(
        "invalid-yaml/configmap.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: broken\n data: [unclosed\n",
    )
    .unwrap();
    repo.write(
        "kustomize-error/kustomization.yaml",
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - missing.yaml\n",
    )
    .unwrap();
    // One valid object and one the API server rejects: the dry run fails, nothing is applied.
    repo.write(
        "rejected/ok.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: should-not-exist\ndata:\n  a: b\n",
    )
    .unwrap();
    repo.write(
        "rejected/bad.yaml",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: bad-svc\nspec:\n  type: NotAType\n  ports:\n    - port: 99999\n",
    )
    .unwrap();
    repo.write(
        "unknown-kind/ok.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: also-not-applied\n",
    )
    .unwrap();
    repo.write(
        "unknown-kind/widget.yaml",
        "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\nspec: {}\n",
    )
    .unwrap();
    repo.write(
        "substitution/configmap.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: vars\ndata:\n  cluster: ${cluster_name}\n",
    )
    .unwrap();
    repo.commit("bad inputs").unwrap();
    repo
}

async fn wait_failed(env: &Env, name: &str, reason: &str, needle: &str) -> Kustomization {
    // Waits for the failure that names `needle`: an earlier one with the same reason (the
    // source had no artifact yet: "Source artifact not found") is not the case under test.
    let k = env
        .wait_ks(name, "False", |k| {
            let msg = ready_message(k);
            msg.starts_with(reason) && msg.contains(needle)
        })
        .await;
    let msg = ready_message(&k);
    assert!(
        msg.contains(needle),
        "{name}: {msg:?} should name {needle:?}"
    );
    k
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_fails_with_a_message_naming_the_file_or_object_and_applies_nothing() {
    let mut repo = bad_repo();
    let env = Env::start(
        "ks-bad",
        &mut repo,
        &["--feature-gates=StrictPostBuildSubstitutions=true".to_string()],
    )
    .await;
    let cases: [(&str, &str, Value); 6] = [
        ("invalid-yaml", "./invalid-yaml", json!({})),
        ("kustomize-error", "./kustomize-error", json!({})),
        ("rejected", "./rejected", json!({})),
        ("unknown-kind", "./unknown-kind", json!({})),
        ("missing-path", "./does-not-exist", json!({})),
        (
            "substitution",
            "./substitution",
            json!({"postBuild": {"substitute": {"other": "x"}}}),
        ),
    ];
    for (name, path, extra) in &cases {
        for doc in pipeline(&env, name, "bad", path, extra.clone()) {
            env.apply(&doc).await;
        }
    }
    // A Kustomization whose source does not exist.
    env.apply(&json!({
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": "no-source", "namespace": env.ns.name},
        "spec": {"interval": "10m", "retryInterval": "5s", "prune": true,
                 "sourceRef": {"kind": "GitRepository", "name": "nope"}},
    }))
    .await;

    wait_failed(&env, "invalid-yaml", "BuildFailed", "configmap.yaml").await;
    wait_failed(&env, "kustomize-error", "BuildFailed", "missing.yaml").await;
    wait_failed(&env, "rejected", "ReconciliationFailed", "Service/").await;
    wait_failed(&env, "unknown-kind", "ReconciliationFailed", "Widget").await;
    wait_failed(&env, "missing-path", "ArtifactFailed", "does-not-exist").await;
    wait_failed(&env, "substitution", "BuildFailed", "cluster_name").await;
    wait_failed(&env, "no-source", "ArtifactFailed", "GitRepository/nope").await;

    // The dry run failed, so the valid objects beside the bad ones were not applied.
    let cms: Api<ConfigMap> = env.app_api();
    for name in ["should-not-exist", "also-not-applied", "vars"] {
        assert!(
            cms.get_opt(name).await.unwrap().is_none(),
            "{name} was applied although its Kustomization failed"
        );
    }
    // Nothing recorded as applied.
    for (name, _, _) in &cases {
        let k = env.ks().get(name).await.unwrap();
        let st = k.status.unwrap_or_default();
        assert!(st.last_applied_revision.is_none(), "{name}: {st:?}");
        assert!(st.inventory.is_none_or(|i| i.entries.is_empty()), "{name}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_revision_prunes_nothing_and_keeps_the_last_applied_objects() {
    let mut repo = TestRepo::new("app").unwrap();
    repo.write("deploy/configmap.yaml", CONFIGMAP).unwrap();
    repo.write(
        "deploy/second.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: second\n",
    )
    .unwrap();
    repo.commit("two config maps").unwrap();
    let env = Env::start("ks-noprune", &mut repo, &[]).await;
    for doc in pipeline(&env, "app", "app", "./deploy", json!({})) {
        env.apply(&doc).await;
    }
    let head = repo.head().unwrap();
    let rev = format!("main@sha1:{head}");
    env.wait_applied("app", &rev).await;
    // The next commit drops `second` but breaks the other file: nothing may be pruned.
    repo.remove("deploy/second.yaml").unwrap();
    repo.write("deploy/configmap.yaml", "kind: [broken\n")
        .unwrap();
    repo.commit("broken").unwrap();
    repo.push().unwrap();
    env.request_reconcile("gitrepository", "app").await;
    let k = wait_failed(&env, "app", "BuildFailed", "configmap.yaml").await;
    let st = k.status.unwrap();
    assert_eq!(st.last_applied_revision.as_deref(), Some(rev.as_str()));
    assert_ne!(st.last_attempted_revision.as_deref(), Some(rev.as_str()));
    assert_eq!(st.inventory.unwrap().entries.len(), 2);
    let cms: Api<ConfigMap> = env.app_api();
    assert!(
        cms.get_opt("second").await.unwrap().is_some(),
        "pruned after a failed build"
    );
}

// ------------------------------------------------------------------------------------------
// Post-build substitution, dependencies, health checks
// ------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn substitution_from_configmaps_secrets_and_inline_values() {
    let mut repo = TestRepo::new("subst").unwrap();
    repo.write(
        "apps/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  cluster: ${cluster}\n  region: ${region}\n  token: ${token}\n  fallback: ${missing:=default}\n",
    )
    .unwrap();
    repo.commit("vars").unwrap();
    let env = Env::start("ks-subst", &mut repo, &[]).await;
    let cms: Api<ConfigMap> = Api::namespaced(env.client.clone(), &env.ns.name);
    cms.create(
        &PostParams::default(),
        &serde_json::from_value(json!({"metadata": {"name": "vars"}, "data": {"cluster": "from-cm", "region": "eu-west-1"}}))
            .unwrap(),
    )
    .await
    .unwrap();
    let secrets: Api<Secret> = Api::namespaced(env.client.clone(), &env.ns.name);
    secrets
        .create(
            &PostParams::default(),
            &serde_json::from_value(
                json!({"metadata": {"name": "secret-vars"}, "stringData": {"token": "s3cret"}}),
            )
            .unwrap(),
        )
        .await
        .unwrap();
    let extra = json!({"postBuild": {
        "substitute": {"cluster": "inline-wins"},
        "substituteFrom": [
            {"kind": "ConfigMap", "name": "vars"},
            {"kind": "Secret", "name": "secret-vars"},
            {"kind": "ConfigMap", "name": "absent", "optional": true},
        ],
    }});
    for doc in pipeline(&env, "subst", "subst", "./apps", extra) {
        env.apply(&doc).await;
    }
    env.wait_ks("subst", "True", |_| true).await;
    let app_cms: Api<ConfigMap> = env.app_api();
    let data = app_cms.get("settings").await.unwrap().data.unwrap();
    assert_eq!(data["cluster"], "inline-wins");
    assert_eq!(data["region"], "eu-west-1");
    assert_eq!(data["token"], "s3cret");
    assert_eq!(data["fallback"], "default");
}

#[tokio::test(flavor = "multi_thread")]
async fn depends_on_waits_for_the_dependency_and_health_checks_gate_readiness() {
    let mut repo = TestRepo::new("deps").unwrap();
    repo.write("infra/configmap.yaml", CONFIGMAP).unwrap();
    repo.write("app/deployment.yaml", deployment(1, "6.0.0"))
        .unwrap();
    repo.commit("infra and app").unwrap();
    let env = Env::start("ks-deps", &mut repo, &[]).await;
    // The app depends on infra, which does not exist yet.
    let [src, app] = pipeline(
        &env,
        "app",
        "deps",
        "./app",
        json!({"dependsOn": [{"name": "infra"}], "wait": true, "timeout": "60s",
               "sourceRef": {"kind": "GitRepository", "name": "deps"}}),
    );
    let [_, mut infra] = pipeline(
        &env,
        "infra",
        "deps",
        "./infra",
        json!({"sourceRef": {"kind": "GitRepository", "name": "deps"},
               "healthChecks": [{"apiVersion": "v1", "kind": "ConfigMap", "name": "podinfo-config", "namespace": env.app.name}]}),
    );
    let mut src = src;
    src["metadata"]["name"] = json!("deps");
    env.apply(&src).await;
    env.apply(&app).await;
    let k = env
        .wait_ks("app", "False", |k| {
            ready_message(k).starts_with("DependencyNotReady")
        })
        .await;
    assert!(ready_message(&k).contains("infra"), "{}", ready_message(&k));
    let deploys: Api<Deployment> = env.app_api();
    assert!(deploys.get_opt("podinfo").await.unwrap().is_none());

    infra["metadata"]["name"] = json!("infra");
    env.apply(&infra).await;
    let infra_k = env.wait_ks("infra", "True", |_| true).await;
    let healthy = infra_k
        .status
        .unwrap()
        .conditions
        .into_iter()
        .find(|c| c.type_ == "Healthy")
        .expect("Healthy condition with healthChecks");
    assert_eq!(healthy.status.as_str(), "True");
    // The dependent is retried (requeue-dependency) and becomes Ready with a healthy
    // Deployment (kwok runs its pods).
    env.request_reconcile("kustomization", "app").await;
    let k = env.wait_ks("app", "True", |_| true).await;
    let healthy = k
        .status
        .unwrap()
        .conditions
        .into_iter()
        .find(|c| c.type_ == "Healthy")
        .unwrap();
    assert_eq!(healthy.status.as_str(), "True", "{}", healthy.message);
    assert!(
        healthy.message.starts_with("Health check passed in"),
        "{}",
        healthy.message
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn health_check_of_a_missing_object_fails_after_the_timeout() {
    let mut repo = TestRepo::new("health").unwrap();
    repo.write("apps/configmap.yaml", CONFIGMAP).unwrap();
    repo.commit("cm").unwrap();
    let env = Env::start("ks-health", &mut repo, &[]).await;
    let extra = json!({"timeout": "5s",
        "healthChecks": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "not-there", "namespace": env.app.name}]});
    for doc in pipeline(&env, "health", "health", "./apps", extra) {
        env.apply(&doc).await;
    }
    let k = wait_failed(&env, "health", "HealthCheckFailed", "not-there").await;
    let healthy = k
        .status
        .unwrap()
        .conditions
        .into_iter()
        .find(|c| c.type_ == "Healthy")
        .unwrap();
    assert_eq!(healthy.status.as_str(), "False");
}

// ------------------------------------------------------------------------------------------
// SOPS decryption (test data encrypted by the reference sops from hack/tools.sh)
// ------------------------------------------------------------------------------------------

/// A new age identity: (private key file text, public recipient).
fn age_key(dir: &std::path::Path, name: &str) -> (String, String) {
    let path = dir.join(name);
    let out = std::process::Command::new(ferroflux_e2e::tool("age-keygen"))
        .arg("-o")
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "age-keygen: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let public = std::process::Command::new(ferroflux_e2e::tool("age-keygen"))
        .arg("-y")
        .arg(&path)
        .output()
        .unwrap();
    (
        std::fs::read_to_string(&path).unwrap(),
        String::from_utf8(public.stdout).unwrap().trim().to_string(),
    )
}

/// `sops --encrypt` of `text` (a file named `name`, whose extension picks the format).
fn sops_encrypt(
    dir: &std::path::Path,
    name: &str,
    text: &str,
    recipient: &str,
    regex: bool,
) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    let mut cmd = std::process::Command::new(ferroflux_e2e::tool("sops"));
    cmd.args(["--encrypt", "--age", recipient]);
    if regex {
        cmd.args(["--encrypted-regex", "^(data|stringData)$"]);
    }
    let out = cmd.arg(&path).current_dir(dir).output().unwrap();
    assert!(
        out.status.success(),
        "sops: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn sops_encrypted_secrets_and_generator_files_are_decrypted_and_a_wrong_key_applies_nothing()
{
    if !ferroflux_e2e::tool("sops").exists() || !ferroflux_e2e::tool("age-keygen").exists() {
        panic!("sops/age-keygen missing from .cache/bin: run `make tools`");
    }
    let keys = tempfile::tempdir().unwrap();
    let (private, public) = age_key(keys.path(), "right.txt");
    let (wrong_private, _) = age_key(keys.path(), "wrong.txt");
    let mut repo = TestRepo::new("secrets").unwrap();
    repo.write(
        "apps/secret.yaml",
        sops_encrypt(
            keys.path(),
            "secret.yaml",
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: hunter2\n",
            &public,
            true,
        ),
    )
    .unwrap();
    repo.write(
        "apps/app.env",
        sops_encrypt(keys.path(), "app.env", "API_TOKEN=abc123\n", &public, false),
    )
    .unwrap();
    repo.write(
        "apps/kustomization.yaml",
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - secret.yaml\nsecretGenerator:\n  - name: generated\n    envs:\n      - app.env\ngeneratorOptions:\n  disableNameSuffixHash: true\n",
    )
    .unwrap();
    repo.commit("encrypted secrets").unwrap();
    let env = Env::start("ks-sops", &mut repo, &[]).await;
    let secrets: Api<Secret> = Api::namespaced(env.client.clone(), &env.ns.name);
    for (name, key) in [("sops-age", &private), ("sops-wrong", &wrong_private)] {
        secrets
            .create(
                &PostParams::default(),
                &serde_json::from_value(
                    json!({"metadata": {"name": name}, "stringData": {"identity.agekey": key}}),
                )
                .unwrap(),
            )
            .await
            .unwrap();
    }
    let [src, right] = pipeline(
        &env,
        "secrets",
        "secrets",
        "./apps",
        json!({"decryption": {"provider": "sops", "secretRef": {"name": "sops-age"}}}),
    );
    env.apply(&src).await;
    env.apply(&right).await;
    env.wait_ks("secrets", "True", |_| true).await;
    let app_secrets: Api<Secret> = env.app_api();
    let db = app_secrets.get("db").await.unwrap();
    let data = db.data.unwrap();
    assert_eq!(String::from_utf8_lossy(&data["password"].0), "hunter2");
    let generated = app_secrets.get("generated").await.unwrap().data.unwrap();
    assert_eq!(String::from_utf8_lossy(&generated["API_TOKEN"].0), "abc123");
    assert_eq!(
        generated.len(),
        1,
        "sops metadata must not leak into the Secret"
    );

    // The same source with a key that opens nothing: BuildFailed, nothing applied.
    let [_, mut wrong] = pipeline(
        &env,
        "secrets",
        "secrets",
        "./apps",
        json!({"decryption": {"provider": "sops", "secretRef": {"name": "sops-wrong"}},
               "targetNamespace": env.ns.name}),
    );
    wrong["metadata"]["name"] = json!("wrong-key");
    env.apply(&wrong).await;
    wait_failed(&env, "wrong-key", "BuildFailed", "decrypt").await;
    let own: Api<Secret> = Api::namespaced(env.client.clone(), &env.ns.name);
    assert!(own.get_opt("db").await.unwrap().is_none());
    assert!(own.get_opt("generated").await.unwrap().is_none());
}

// ------------------------------------------------------------------------------------------
// Service account impersonation, deletion policies, remote clusters
// ------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn service_account_impersonation_is_bounded_by_the_accounts_rbac() {
    let mut repo = TestRepo::new("sa").unwrap();
    repo.write("apps/configmap.yaml", CONFIGMAP).unwrap();
    repo.commit("cm").unwrap();
    let env = Env::start("ks-sa", &mut repo, &[]).await;
    env.cluster
        .kubectl(&["create", "serviceaccount", "deployer", "-n", &env.ns.name])
        .unwrap();
    for doc in pipeline(
        &env,
        "sa",
        "sa",
        "./apps",
        json!({"serviceAccountName": "deployer"}),
    ) {
        env.apply(&doc).await;
    }
    // No RBAC for the account yet: the API server refuses, as that account.
    let k = wait_failed(&env, "sa", "ReconciliationFailed", "forbidden").await;
    assert!(
        ready_message(&k).contains(&format!("system:serviceaccount:{}:deployer", env.ns.name)),
        "{}",
        ready_message(&k)
    );
    let cms: Api<ConfigMap> = env.app_api();
    assert!(cms.get_opt("podinfo-config").await.unwrap().is_none());
    env.cluster
        .kubectl(&[
            "create",
            "role",
            "deployer",
            "-n",
            &env.app.name,
            "--verb=*",
            "--resource=configmaps",
        ])
        .unwrap();
    env.cluster
        .kubectl(&[
            "create",
            "rolebinding",
            "deployer",
            "-n",
            &env.app.name,
            "--role=deployer",
            &format!("--serviceaccount={}:deployer", env.ns.name),
        ])
        .unwrap();
    env.request_reconcile("kustomization", "sa").await;
    env.wait_ks("sa", "True", |_| true).await;
    let cm = cms.get("podinfo-config").await.unwrap();
    let managers: Vec<String> = cm
        .metadata
        .managed_fields
        .unwrap_or_default()
        .into_iter()
        .filter_map(|m| m.manager)
        .collect();
    assert!(
        managers.contains(&"kustomize-controller".to_string()),
        "{managers:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn deletion_policies_orphan_or_delete_regardless_of_prune() {
    let mut repo = TestRepo::new("policies").unwrap();
    for dir in ["orphan", "delete", "mirror"] {
        repo.write(
            &format!("{dir}/cm.yaml"),
            format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {dir}\n"),
        )
        .unwrap();
    }
    repo.commit("three apps").unwrap();
    let env = Env::start("ks-delpol", &mut repo, &[]).await;
    let cases = [
        ("orphan", json!({"prune": true, "deletionPolicy": "Orphan"})),
        (
            "delete",
            json!({"prune": false, "deletionPolicy": "Delete"}),
        ),
        ("mirror", json!({"prune": false})),
    ];
    let mut first = true;
    for (name, extra) in &cases {
        let mut extra = extra.clone();
        extra["sourceRef"] = json!({"kind": "GitRepository", "name": "policies"});
        let [mut src, k] = pipeline(&env, name, "policies", &format!("./{name}"), extra);
        if first {
            src["metadata"]["name"] = json!("policies");
            env.apply(&src).await;
            first = false;
        }
        env.apply(&k).await;
    }
    for (name, _) in &cases {
        env.wait_ks(name, "True", |_| true).await;
    }
    for (name, _) in &cases {
        env.ks()
            .delete(name, &DeleteParams::default())
            .await
            .unwrap();
    }
    env.wait_app("Kustomizations finalized", || async {
        let left = env.ks().list(&Default::default()).await.ok()?;
        left.items.is_empty().then_some(())
    })
    .await;
    let cms: Api<ConfigMap> = env.app_api();
    assert!(
        cms.get_opt("orphan").await.unwrap().is_some(),
        "Orphan keeps the objects"
    );
    assert!(
        cms.get_opt("delete").await.unwrap().is_none(),
        "Delete removes them without prune"
    );
    assert!(
        cms.get_opt("mirror").await.unwrap().is_some(),
        "MirrorPrune follows prune: false"
    );
}

/// Stops a second control plane when the test ends.
struct RemoteCluster(String);

impl Drop for RemoteCluster {
    fn drop(&mut self) {
        let _ = std::process::Command::new(ferroflux_e2e::repo_root().join("hack/cluster.sh"))
            .arg("down")
            .env("CLUSTER_NAME", &self.0)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn kubeconfig_secret_applies_to_a_remote_cluster() {
    let mut repo = TestRepo::new("remote").unwrap();
    repo.write("apps/configmap.yaml", CONFIGMAP).unwrap();
    repo.commit("cm").unwrap();
    let env = Env::start("ks-remote", &mut repo, &[]).await;
    let name = "ks-remote";
    let _guard = RemoteCluster(name.to_string());
    let remote = Cluster::up(name).unwrap();
    let remote_client = remote.client().await.unwrap();
    remote
        .kubectl(&["create", "namespace", &env.app.name])
        .unwrap();
    let kubeconfig = std::fs::read_to_string(&remote.kubeconfig).unwrap();
    let secrets: Api<Secret> = Api::namespaced(env.client.clone(), &env.ns.name);
    secrets
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "remote-kubeconfig"}, "stringData": {"value": kubeconfig}}))
                .unwrap(),
        )
        .await
        .unwrap();
    let extra = json!({"kubeConfig": {"secretRef": {"name": "remote-kubeconfig"}}, "wait": true});
    for doc in pipeline(&env, "remote", "remote", "./apps", extra) {
        env.apply(&doc).await;
    }
    env.wait_ks("remote", "True", |_| true).await;
    let remote_cms: Api<ConfigMap> = Api::namespaced(remote_client, &env.app.name);
    remote_cms.get("podinfo-config").await.unwrap();
    let local: Api<ConfigMap> = env.app_api();
    assert!(
        local.get_opt("podinfo-config").await.unwrap().is_none(),
        "applied locally"
    );
    // Deleting the Kustomization prunes in the remote cluster.
    env.ks()
        .delete("remote", &DeleteParams::default())
        .await
        .unwrap();
    env.wait_app("pruned remotely", || async {
        remote_cms
            .get_opt("podinfo-config")
            .await
            .ok()?
            .is_none()
            .then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn change_set_events_are_recorded_and_forwarded_with_the_revision() {
    use axum::routing::post;
    use std::sync::{Arc, Mutex};
    let received: Arc<Mutex<Vec<Value>>> = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let sink = received.clone();
    let app = axum::Router::new().route(
        "/",
        post(move |axum::Json(e): axum::Json<Value>| {
            let sink = sink.clone();
            async move {
                sink.lock().unwrap().push(e);
                axum::http::StatusCode::ACCEPTED
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });

    let mut repo = react_app_repo();
    let env = Env::start("ks-events", &mut repo, &[format!("--events-addr={url}")]).await;
    for doc in pipeline(&env, "events", "react-app", "./manifests", json!({})) {
        env.apply(&doc).await;
    }
    env.wait_ks("events", "True", |_| true).await;
    let rev = format!("main@sha1:{}", repo.head().unwrap());
    let app = env.app.name.clone();
    let event = env
        .wait_app("change set forwarded", || async {
            received
                .lock()
                .unwrap()
                .iter()
                .find(|e| {
                    e["message"]
                        .as_str()
                        .is_some_and(|m| m.contains(&format!("Deployment/{app}/podinfo created")))
                })
                .cloned()
        })
        .await;
    assert_eq!(event["involvedObject"]["kind"], "Kustomization");
    assert_eq!(event["reportingController"], "kustomize-controller");
    assert_eq!(event["severity"], "info");
    assert_eq!(
        event["metadata"]["kustomize.toolkit.fluxcd.io/revision"],
        json!(rev)
    );
    let message = event["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("Service/{app}/podinfo created")),
        "{message}"
    );
    assert!(
        message.contains(&format!("ConfigMap/{app}/podinfo-config created")),
        "{message}"
    );
    // The same text is a Kubernetes Event on the Kustomization.
    let events = env
        .cluster
        .kubectl(&["get", "events", "-n", &env.ns.name, "-o", "json"])
        .unwrap();
    let events: Value = serde_json::from_str(&events).unwrap();
    let k8s = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["involvedObject"]["kind"] == "Kustomization")
        .map(|e| e["message"].as_str().unwrap_or_default().to_string())
        .collect::<Vec<_>>();
    assert!(
        k8s.iter()
            .any(|m| m.contains(&format!("Deployment/{app}/podinfo created"))),
        "{k8s:?}"
    );
    assert!(
        k8s.iter()
            .any(|m| m.starts_with("Reconciliation finished in")),
        "{k8s:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn per_object_annotations_disable_pruning_and_updates() {
    let mut repo = TestRepo::new("annotations").unwrap();
    repo.write(
        "apps/keep.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: keep\n  annotations:\n    kustomize.toolkit.fluxcd.io/prune: disabled\ndata:\n  a: b\n",
    )
    .unwrap();
    repo.write(
        "apps/gone.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: gone\n",
    )
    .unwrap();
    repo.write(
        "apps/once.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: once\n  annotations:\n    kustomize.toolkit.fluxcd.io/ssa: IfNotPresent\ndata:\n  v: from-git\n",
    )
    .unwrap();
    repo.commit("three config maps").unwrap();
    let env = Env::start("ks-annot", &mut repo, &[]).await;
    for doc in pipeline(&env, "annotations", "annotations", "./apps", json!({})) {
        env.apply(&doc).await;
    }
    env.wait_ks("annotations", "True", |_| true).await;
    let cms: Api<ConfigMap> = env.app_api();
    // A change in the cluster to the IfNotPresent object is kept.
    cms.patch(
        "once",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"v": "edited"}})),
    )
    .await
    .unwrap();
    repo.remove("apps/keep.yaml").unwrap();
    repo.remove("apps/gone.yaml").unwrap();
    let head = repo.commit("drop two").unwrap();
    repo.push().unwrap();
    env.request_reconcile("gitrepository", "annotations").await;
    let rev = format!("main@sha1:{head}");
    env.wait_applied("annotations", &rev).await;
    assert!(cms.get_opt("gone").await.unwrap().is_none(), "pruned");
    assert!(
        cms.get_opt("keep").await.unwrap().is_some(),
        "prune: disabled"
    );
    let once = cms.get("once").await.unwrap();
    assert_eq!(
        once.data.unwrap()["v"],
        "edited",
        "IfNotPresent never updates"
    );
}

// ------------------------------------------------------------------------------------------
// CEL health checks and readiness, drift-ignore rules
// ------------------------------------------------------------------------------------------

/// A namespaced `Widget` kind in group `group`, without a status subresource (so manifests
/// carry their own `status`), established before returning. Deleted when dropped.
struct WidgetCrd {
    cluster: Cluster,
    name: String,
}

impl WidgetCrd {
    fn create(cluster: &Cluster, group: &str) -> WidgetCrd {
        let name = format!("widgets.{group}");
        let crd = json!({
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": name},
            "spec": {
                "group": group, "scope": "Namespaced",
                "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
                "versions": [{"name": "v1", "served": true, "storage": true,
                    "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]
            }
        });
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("crd.json");
        std::fs::write(&file, crd.to_string()).unwrap();
        cluster
            .kubectl(&["apply", "-f", file.to_str().unwrap()])
            .unwrap();
        cluster
            .kubectl(&[
                "wait",
                "--for=condition=Established",
                "--timeout=60s",
                &format!("crd/{name}"),
            ])
            .unwrap();
        WidgetCrd {
            cluster: cluster.clone(),
            name,
        }
    }
}

impl Drop for WidgetCrd {
    fn drop(&mut self) {
        let _ = self.cluster.kubectl(&[
            "delete",
            "--ignore-not-found",
            "--wait=false",
            &format!("crd/{}", self.name),
        ]);
    }
}

fn widget(group: &str, name: &str, phase: &str) -> String {
    format!(
        "apiVersion: {group}/v1\nkind: Widget\nmetadata:\n  name: {name}\nspec:\n  size: 1\nstatus:\n  phase: {phase}\n"
    )
}

fn condition<'a>(k: &'a Kustomization, type_: &str) -> Option<&'a ferroflux_api::meta::Condition> {
    k.status
        .as_ref()?
        .conditions
        .iter()
        .find(|c| c.type_ == type_)
}

#[tokio::test(flavor = "multi_thread")]
async fn health_check_exprs_decide_custom_resource_health() {
    let mut repo = TestRepo::new("widgets").unwrap();
    let env_probe = Cluster::shared().unwrap();
    // One group per run: CRDs are cluster-wide and tests run in parallel.
    let group = format!(
        "cel{}.e2e.ferroflux.io",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis()
    );
    let _crd = WidgetCrd::create(&env_probe, &group);
    repo.write("ready/w.yaml", widget(&group, "ready", "Ready"))
        .unwrap();
    repo.write("failed/w.yaml", widget(&group, "broken", "Failed"))
        .unwrap();
    repo.write("slow/w.yaml", widget(&group, "slow", "Provisioning"))
        .unwrap();
    repo.write(
        "nostatus/w.yaml",
        format!(
            "apiVersion: {group}/v1\nkind: Widget\nmetadata:\n  name: nostatus\nspec:\n  size: 1\n"
        ),
    )
    .unwrap();
    repo.commit("widgets").unwrap();
    let env = Env::start("ks-cel", &mut repo, &[]).await;
    let exprs = json!([{
        "apiVersion": format!("{group}/v1"), "kind": "Widget",
        "current": "status.phase == 'Ready'",
        "failed": "status.phase == 'Failed'",
        "inProgress": "status.phase == 'Provisioning'",
    }]);
    for (name, path, timeout) in [
        ("ready", "./ready", "60s"),
        ("failed", "./failed", "60s"),
        ("slow", "./slow", "5s"),
        ("nostatus", "./nostatus", "5s"),
    ] {
        let [src, ks] = pipeline(
            &env,
            name,
            "widgets",
            path,
            json!({"wait": true, "timeout": timeout, "healthCheckExprs": exprs}),
        );
        env.apply(&src).await;
        env.apply(&ks).await;
    }
    // An expression that does not parse stalls the Kustomization before anything is applied.
    let [_, mut invalid] = pipeline(
        &env,
        "invalid",
        "widgets",
        "./ready",
        json!({"wait": true, "healthCheckExprs": [{
            "apiVersion": format!("{group}/v1"), "kind": "Widget",
            "current": "status.phase ==",
        }], "sourceRef": {"kind": "GitRepository", "name": "ready"}}),
    );
    invalid["metadata"]["name"] = json!("invalid");
    env.apply(&invalid).await;

    // kstatus alone would call every Widget Current (no conditions): the expressions decide.
    let k = env.wait_ks("ready", "True", |_| true).await;
    let healthy = condition(&k, "Healthy").expect("Healthy condition");
    assert_eq!(healthy.status.as_str(), "True", "{}", healthy.message);

    let k = wait_failed(&env, "failed", "HealthCheckFailed", "Widget/").await;
    let msg = ready_message(&k);
    assert!(
        msg.contains("failed early due to stalled resources") && msg.contains("'Failed'"),
        "{msg}"
    );
    assert!(
        msg.contains(&format!("Widget/{}/broken", env.app.name)),
        "{msg}"
    );

    let k = wait_failed(&env, "slow", "HealthCheckFailed", "timeout waiting for").await;
    let msg = ready_message(&k);
    assert!(
        msg.contains(&format!(
            "Widget/{}/slow status: 'InProgress'",
            env.app.name
        )),
        "{msg}"
    );

    // An expression on a field the object does not have yet keeps waiting, then says why.
    let k = wait_failed(&env, "nostatus", "HealthCheckFailed", "timeout waiting for").await;
    let msg = ready_message(&k);
    assert!(
        msg.contains("status: 'Unknown'") && msg.contains("Undeclared reference to 'status'"),
        "{msg}"
    );

    let k = env
        .wait_ks("invalid", "False", |k| {
            ready_message(k).starts_with("InvalidCELExpression")
        })
        .await;
    let msg = ready_message(&k);
    assert!(
        msg.contains("failed to create custom status reader for healthchecks[0]")
            && msg.contains("status.phase =="),
        "{msg}"
    );
    let stalled = condition(&k, "Stalled").expect("Stalled condition");
    assert_eq!(stalled.status.as_str(), "True");
    assert_eq!(stalled.reason, "InvalidCELExpression");
}

#[tokio::test(flavor = "multi_thread")]
async fn ready_expr_replaces_the_dependency_ready_check() {
    let mut repo = TestRepo::new("lockstep").unwrap();
    repo.write("backend/cm.yaml", CONFIGMAP).unwrap();
    repo.write(
        "frontend/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: frontend\n",
    )
    .unwrap();
    repo.write(
        "tolerant/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: tolerant\n",
    )
    .unwrap();
    repo.commit("three parts").unwrap();
    let env = Env::start(
        "ks-readyexpr",
        &mut repo,
        &["--requeue-dependency=2s".to_string()],
    )
    .await;
    let src_ref = json!({"kind": "GitRepository", "name": "lockstep"});
    let [src, mut backend] = pipeline(
        &env,
        "lockstep",
        "lockstep",
        "./backend",
        json!({"sourceRef": src_ref}),
    );
    backend["metadata"]["name"] = json!("backend");
    backend["metadata"]["labels"] = json!({"app/version": "v1"});
    let lockstep = "dep.metadata.labels['app/version'] == self.metadata.labels['app/version'] && \
                    dep.status.conditions.filter(e, e.type == 'Ready').all(e, e.status == 'True')";
    let [_, mut frontend] = pipeline(
        &env,
        "frontend",
        "lockstep",
        "./frontend",
        json!({"sourceRef": src_ref,
               "dependsOn": [{"name": "backend", "readyExpr": lockstep}]}),
    );
    frontend["metadata"]["labels"] = json!({"app/version": "v2"});
    // A dependency that never becomes Ready, with an expression that accepts it anyway.
    let [_, mut broken] = pipeline(
        &env,
        "broken",
        "lockstep",
        "./does-not-exist",
        json!({"sourceRef": src_ref}),
    );
    broken["metadata"]["name"] = json!("broken");
    let [_, tolerant] = pipeline(
        &env,
        "tolerant",
        "lockstep",
        "./tolerant",
        json!({"sourceRef": src_ref,
               "dependsOn": [{"name": "broken", "readyExpr": "dep.metadata.name == 'broken'"}]}),
    );
    let [_, bad_expr] = pipeline(
        &env,
        "bad-expr",
        "lockstep",
        "./tolerant",
        json!({"sourceRef": src_ref,
               "dependsOn": [{"name": "backend", "readyExpr": "dep.status.("}]}),
    );
    for doc in [&src, &backend, &frontend, &broken, &tolerant, &bad_expr] {
        env.apply(doc).await;
    }

    // backend is Ready at v1 but the frontend wants v2: the expression holds it back.
    env.wait_ks("backend", "True", |_| true).await;
    let k = env
        .wait_ks("frontend", "False", |k| {
            ready_message(k).starts_with("DependencyNotReady")
        })
        .await;
    let msg = ready_message(&k);
    assert!(
        msg.contains("backend") && msg.contains("readyExpr"),
        "{msg}"
    );
    let cms: Api<ConfigMap> = env.app_api();
    assert!(cms.get_opt("frontend").await.unwrap().is_none());

    // The expression replaces the Ready check: a dependency that is not Ready passes it.
    wait_failed(&env, "broken", "ArtifactFailed", "does-not-exist").await;
    env.wait_ks("tolerant", "True", |_| true).await;
    assert!(cms.get_opt("tolerant").await.unwrap().is_some());

    // An expression that does not parse stalls.
    let k = env
        .wait_ks("bad-expr", "False", |k| {
            ready_message(k).starts_with("InvalidCELExpression")
        })
        .await;
    assert!(
        ready_message(&k).contains("dep.status.("),
        "{}",
        ready_message(&k)
    );

    // Upgrading the backend's version label lets the frontend through.
    env.ks()
        .patch(
            "backend",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"app/version": "v2"}}})),
        )
        .await
        .unwrap();
    env.wait_ks("frontend", "True", |_| true).await;
    assert!(cms.get_opt("frontend").await.unwrap().is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn ignored_fields_keep_out_of_band_edits_while_others_are_reverted() {
    let mut repo = TestRepo::new("ignore").unwrap();
    repo.write(
        "apps/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  managed: git\n  shared: git\n",
    )
    .unwrap();
    repo.write("apps/deployment.yaml", deployment(1, "6.0.0"))
        .unwrap();
    repo.commit("config and deployment").unwrap();
    let env = Env::start("ks-ignore", &mut repo, &[]).await;
    let extra = json!({"ignore": [
        {"paths": ["/data/shared"], "target": {"kind": "ConfigMap", "name": "sett.*"}},
        {"paths": ["/spec/replicas"], "target": {"group": "apps", "kind": "Deployment"}},
    ]});
    for doc in pipeline(&env, "ignore", "ignore", "./apps", extra) {
        env.apply(&doc).await;
    }
    let head = repo.head().unwrap();
    env.wait_applied("ignore", &format!("main@sha1:{head}"))
        .await;
    let cms: Api<ConfigMap> = env.app_api();
    let deploys: Api<Deployment> = env.app_api();
    // Created whole: ignored fields are applied on creation.
    let data = cms.get("settings").await.unwrap().data.unwrap();
    assert_eq!(
        (data["managed"].as_str(), data["shared"].as_str()),
        ("git", "git")
    );
    assert_eq!(replicas(&deploys).await, Some(1));

    // Out-of-band: kubectl-style edits of both keys, an autoscaler applying replicas, and
    // an image change nobody ignores.
    cms.patch(
        "settings",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"managed": "edited", "shared": "edited"}})),
    )
    .await
    .unwrap();
    deploys
        .patch(
            "podinfo",
            &PatchParams::apply("autoscaler").force(),
            &Patch::Apply(json!({"apiVersion": "apps/v1", "kind": "Deployment",
                                 "metadata": {"name": "podinfo"}, "spec": {"replicas": 3}})),
        )
        .await
        .unwrap();
    deploys
        .patch(
            "podinfo",
            &PatchParams::default(),
            &Patch::Strategic(json!({"spec": {"template": {"spec": {"containers": [
                {"name": "podinfo", "image": "ghcr.io/stefanprodan/podinfo:6.1.0"}]}}}})),
        )
        .await
        .unwrap();

    env.request_reconcile("kustomization", "ignore").await;
    env.wait_app("non-ignored fields reverted", || async {
        let cm = cms.get("settings").await.ok()?;
        let img = image(&deploys).await?;
        (cm.data?.get("managed")?.as_str() == "git" && img.ends_with(":6.0.0")).then_some(())
    })
    .await;
    let data = cms.get("settings").await.unwrap().data.unwrap();
    assert_eq!(data["shared"], "edited", "an ignored field was reverted");
    assert_eq!(
        replicas(&deploys).await,
        Some(3),
        "ignored replicas reverted"
    );
    // The autoscaler alone owns replicas now: ours let go of it.
    let d = deployment_json(&deploys).await.unwrap();
    let ours = d["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["manager"] == "kustomize-controller" && m["operation"] == "Apply")
        .expect("kustomize-controller's managed fields");
    assert!(
        ours["fieldsV1"]["f:spec"].get("f:replicas").is_none(),
        "{}",
        ours["fieldsV1"]
    );

    // A later reconcile with nothing else changed keeps both out-of-band values.
    env.ks()
        .patch(
            "ignore",
            &PatchParams::default(),
            &Patch::Merge(
                json!({"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": "again"}}}),
            ),
        )
        .await
        .unwrap();
    let k = env
        .wait_ks("ignore", "True", |k| {
            k.status
                .as_ref()
                .and_then(|s| s.last_handled_reconcile_at.as_deref())
                == Some("again")
        })
        .await;
    assert!(
        ready_message(&k).contains("Applied revision"),
        "{}",
        ready_message(&k)
    );
    let data = cms.get("settings").await.unwrap().data.unwrap();
    assert_eq!(data["shared"], "edited");
    assert_eq!(replicas(&deploys).await, Some(3));
}
