//! GitRepository end to end: real git servers (git daemon, smart HTTP with auth, sshd), the
//! source-controller binary against the local control plane, and its artifact server.

use std::io::Read;
use std::time::Duration;

use ferroflux_api::source::v1::GitRepository;
use ferroflux_e2e::gitserver::{
    GitDaemon, GitHttp, GitSsh, HttpAuth, SshKeyPair, TestRepo, TlsMode,
};
use ferroflux_e2e::proxy::ForwardProxy;
use ferroflux_e2e::{Cluster, ControllerProcess, TestNamespace, free_port, wait_for};
use kube::Client;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use sha2::Digest;

/// A source-controller watching only the test's namespace, with its own storage.
struct SourceController {
    proc: ControllerProcess,
    storage_port: u16,
}

impl SourceController {
    fn start(cluster: &Cluster, ns: &str) -> Self {
        Self::start_with(cluster, ns, &[])
    }

    fn start_with(cluster: &Cluster, ns: &str, extra: &[String]) -> Self {
        let proc =
            ControllerProcess::start("source-controller", &cluster.kubeconfig, ns, extra).unwrap();
        SourceController {
            storage_port: proc.storage_port,
            proc,
        }
    }

    fn storage(&self) -> std::path::PathBuf {
        self.proc.storage_path()
    }
}

/// Publishes the repositories into a fresh directory served by a `git daemon`.
fn serve(repos: &mut [&mut TestRepo]) -> (tempfile::TempDir, GitDaemon) {
    let served = tempfile::tempdir().unwrap();
    for repo in repos.iter_mut() {
        repo.publish_to(served.path()).unwrap();
    }
    let daemon = GitDaemon::start(served.path()).unwrap();
    (served, daemon)
}

/// Creates Secrets from `stringData` maps.
async fn create_secrets<const N: usize>(client: &Client, ns: &str, secrets: [(&str, Value); N]) {
    let api: Api<k8s_openapi::api::core::v1::Secret> = Api::namespaced(client.clone(), ns);
    for (name, data) in secrets {
        let s = serde_json::from_value(json!({"metadata": {"name": name}, "stringData": data}))
            .unwrap();
        api.create(&PostParams::default(), &s).await.unwrap();
    }
}

/// One GitRepository per secret, both on `url` (branch main): the one using `good` becomes
/// Ready at `revision`, the one using `bad` fails and stores nothing.
async fn secret_decides(
    client: &Client,
    ns: &str,
    sc: &SourceController,
    url: &str,
    [good, bad]: [&str; 2],
    revision: &str,
) {
    let api: Api<GitRepository> = Api::namespaced(client.clone(), ns);
    for name in [good, bad] {
        let spec = json!({"interval": "10m", "url": url, "ref": {"branch": "main"}, "secretRef": {"name": name}});
        create(&api, ns, name, spec).await;
    }
    let ok = wait_ready(&api, good, "True", None, sc).await;
    assert_eq!(ok.status.unwrap().artifact.unwrap().revision, revision);
    let failed = wait_ready(&api, bad, "False", None, sc).await;
    assert!(
        failed.status.unwrap().artifact.is_none(),
        "{bad}: nothing stored"
    );
}

async fn setup(prefix: &str) -> (Cluster, Client, TestNamespace) {
    let cluster = Cluster::shared().unwrap();
    let client = cluster.client().await.unwrap();
    let ns = TestNamespace::create(&client, &cluster, prefix)
        .await
        .unwrap();
    (cluster, client, ns)
}

fn ready(repo: &GitRepository) -> Option<(String, String, String)> {
    let c = repo
        .status
        .as_ref()?
        .conditions
        .iter()
        .find(|c| c.type_ == "Ready")?;
    Some((
        c.status.as_str().to_string(),
        c.reason.clone(),
        c.message.clone(),
    ))
}

/// Waits until Ready has `status` (and, if given, `reason`) for the current generation.
async fn wait_ready(
    api: &Api<GitRepository>,
    name: &str,
    status: &str,
    reason: Option<&str>,
    sc: &SourceController,
) -> GitRepository {
    let got = wait_for(Duration::from_secs(90), || async {
        let repo = api.get(name).await.ok()?;
        let (s, r, _) = ready(&repo)?;
        let observed = repo.status.as_ref()?.observed_generation == repo.metadata.generation;
        (s == status && reason.is_none_or(|want| want == r) && (observed || status != "True"))
            .then_some(repo)
    })
    .await;
    match got {
        Ok(repo) => repo,
        Err(_) => {
            let repo = api.get(name).await.unwrap();
            panic!(
                "{name} never reached Ready={status} {reason:?}; status: {}\n{}",
                serde_json::to_string_pretty(&repo.status).unwrap(),
                sc.proc.logs()
            )
        }
    }
}

async fn create(api: &Api<GitRepository>, ns: &str, name: &str, spec: Value) {
    let obj: GitRepository = serde_json::from_value(json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": {"name": name, "namespace": ns},
        "spec": spec,
    }))
    .unwrap();
    api.create(&PostParams::default(), &obj).await.unwrap();
}

async fn request_reconcile(api: &Api<GitRepository>, name: &str) {
    let now = format!("{:?}", std::time::SystemTime::now());
    let patch = json!({"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": now}}});
    api.patch(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
}

/// Downloads the artifact, checks its digest against the status, and lists the files in it.
async fn fetch_artifact(repo: &GitRepository) -> Vec<String> {
    let artifact = repo.status.as_ref().unwrap().artifact.as_ref().unwrap();
    let bytes = reqwest::get(&artifact.url)
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let digest = format!("sha256:{:x}", sha2::Sha256::digest(&bytes));
    assert_eq!(
        digest, artifact.digest,
        "served bytes hash to status.artifact.digest"
    );
    assert_eq!(artifact.size, Some(bytes.len() as i64));
    let mut files = Vec::new();
    let mut gz = flate2::read::GzDecoder::new(&bytes[..]);
    let mut raw = Vec::new();
    gz.read_to_end(&mut raw).unwrap();
    let mut archive = tar::Archive::new(&raw[..]);
    for entry in archive.entries().unwrap() {
        let entry = entry.unwrap();
        if entry.header().entry_type().is_file() {
            files.push(entry.path().unwrap().to_string_lossy().into_owned());
        }
    }
    files.sort();
    files
}

fn walkthrough_repo() -> TestRepo {
    let repo = TestRepo::new("react-app").unwrap();
    repo.write(
        "manifests/deployment.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: react-app\n",
    )
    .unwrap();
    repo.write(
        "manifests/service.yaml",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: react-app\n",
    )
    .unwrap();
    repo.write("src/index.js", "console.log('hi')\n").unwrap();
    repo.write("README.md", "# react app\n").unwrap();
    repo.commit("initial app").unwrap();
    repo
}

#[tokio::test(flavor = "multi_thread")]
async fn walkthrough_react_app_becomes_an_artifact_with_only_manifests() {
    let (cluster, client, ns) = setup("git-walkthrough").await;
    let mut repo = walkthrough_repo();
    let (_served, daemon) = serve(&mut [&mut repo]);
    let sc = SourceController::start(&cluster, &ns.name);

    // The walkthrough's v1beta2 manifest, pointed at our daemon.
    let text =
        std::fs::read_to_string(ferroflux_e2e::shared_dir().join("examples/02-git-react-app.yaml"))
            .unwrap();
    let docs: Vec<Value> = serde_saphyr::from_multiple(&text).unwrap();
    let mut doc = docs
        .into_iter()
        .find(|d| d["kind"] == "GitRepository")
        .unwrap();
    doc["metadata"]["namespace"] = json!(ns.name);
    doc["spec"]["url"] = json!(daemon.url_for("react-app"));
    let ar = kube::discovery::ApiResource::from_gvk_with_plural(
        &kube::core::GroupVersionKind::gvk("source.toolkit.fluxcd.io", "v1beta2", "GitRepository"),
        "gitrepositories",
    );
    let dynamic: Api<kube::api::DynamicObject> =
        Api::namespaced_with(client.clone(), &ns.name, &ar);
    dynamic
        .create(
            &PostParams::default(),
            &serde_json::from_value(doc).unwrap(),
        )
        .await
        .unwrap();

    let api: Api<GitRepository> = Api::namespaced(client.clone(), &ns.name);
    let got = wait_ready(&api, "react-app", "True", Some("Succeeded"), &sc).await;
    let head = repo.head().unwrap();
    let artifact = got.status.as_ref().unwrap().artifact.clone().unwrap();
    assert_eq!(artifact.revision, format!("main@sha1:{head}"));
    assert_eq!(
        artifact.path,
        format!("gitrepository/{}/react-app/{head}.tar.gz", ns.name)
    );
    assert_eq!(
        artifact.url,
        format!("http://127.0.0.1:{}/{}", sc.storage_port, artifact.path)
    );
    let (_, _, message) = ready(&got).unwrap();
    assert_eq!(
        message,
        format!("stored artifact for revision 'main@sha1:{head}'")
    );
    assert_eq!(
        fetch_artifact(&got).await,
        vec!["manifests/deployment.yaml", "manifests/service.yaml"]
    );
    assert!(sc.storage().join(&artifact.path).is_file());
    let status = got.status.as_ref().unwrap();
    assert!(
        status
            .observed_ignore
            .as_deref()
            .is_some_and(|i| i.contains("!/manifests/"))
    );
    assert!(
        status
            .conditions
            .iter()
            .any(|c| c.type_ == "ArtifactInStorage" && c.status.as_str() == "True")
    );

    // An event tells the user what was stored.
    let events: Api<k8s_openapi::api::core::v1::Event> = Api::namespaced(client.clone(), &ns.name);
    let ev = wait_for(Duration::from_secs(20), || async {
        events
            .list(&Default::default())
            .await
            .ok()?
            .items
            .into_iter()
            .find(|e| e.reason.as_deref() == Some("NewArtifact"))
    })
    .await
    .unwrap();
    assert_eq!(
        ev.message.as_deref(),
        Some("stored artifact for commit 'initial app'")
    );

    // A new commit is picked up on request; the old artifact is replaced.
    repo.write(
        "manifests/configmap.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n",
    )
    .unwrap();
    let second = repo.commit("add config").unwrap();
    repo.push().unwrap();
    request_reconcile(&api, "react-app").await;
    let got = wait_for(Duration::from_secs(60), || async {
        let r = api.get("react-app").await.ok()?;
        let rev = r.status.as_ref()?.artifact.as_ref()?.revision.clone();
        (rev == format!("main@sha1:{second}")).then_some(r)
    })
    .await
    .unwrap_or_else(|_| panic!("new commit not picked up:\n{}", sc.proc.logs()));
    assert_eq!(
        fetch_artifact(&got).await,
        vec![
            "manifests/configmap.yaml",
            "manifests/deployment.yaml",
            "manifests/service.yaml"
        ]
    );

    // Deleting the object removes its artifacts (finalizer).
    api.delete("react-app", &DeleteParams::default())
        .await
        .unwrap();
    wait_for(Duration::from_secs(30), || async {
        api.get_opt("react-app").await.ok()?.is_none().then_some(())
    })
    .await
    .unwrap_or_else(|_| panic!("object not deleted:\n{}", sc.proc.logs()));
    assert!(
        !sc.storage()
            .join(format!("gitrepository/{}/react-app", ns.name))
            .join(format!("{second}.tar.gz"))
            .exists()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn refs_select_branch_tag_semver_and_commit_with_fluxs_revisions() {
    let (cluster, client, ns) = setup("git-refs").await;
    let mut repo = TestRepo::new("refs").unwrap();
    repo.write("a.yaml", "v: 1\n").unwrap();
    let c1 = repo.commit("one").unwrap();
    repo.tag("v1.0.0").unwrap();
    repo.write("a.yaml", "v: 2\n").unwrap();
    let c2 = repo.commit("two").unwrap();
    repo.tag("v1.1.0").unwrap();
    repo.write("a.yaml", "v: 3\n").unwrap();
    let c3 = repo.commit("three").unwrap();
    repo.tag("v2.0.0-rc.1").unwrap();
    repo.checkout_new("feature").unwrap();
    repo.write("b.yaml", "f: 1\n").unwrap();
    let cf = repo.commit("feature").unwrap();
    let (_served, daemon) = serve(&mut [&mut repo]);
    let url = daemon.url_for("refs");
    let sc = SourceController::start(&cluster, &ns.name);
    let api: Api<GitRepository> = Api::namespaced(client.clone(), &ns.name);

    let cases = [
        (
            "branch",
            json!({"branch": "feature"}),
            format!("feature@sha1:{cf}"),
        ),
        ("tag", json!({"tag": "v1.0.0"}), format!("v1.0.0@sha1:{c1}")),
        (
            "semver",
            json!({"semver": ">=1.0.0 <2.0.0"}),
            format!("v1.1.0@sha1:{c2}"),
        ),
        ("commit", json!({"commit": c3}), format!("sha1:{c3}")),
        (
            "name",
            json!({"name": "refs/heads/main"}),
            format!("refs/heads/main@sha1:{c3}"),
        ),
    ];
    for (name, r, _) in &cases {
        create(
            &api,
            &ns.name,
            name,
            json!({"interval": "10m", "url": url, "ref": r}),
        )
        .await;
    }
    for (name, _, revision) in &cases {
        let got = wait_ready(&api, name, "True", None, &sc).await;
        assert_eq!(
            &got.status.unwrap().artifact.unwrap().revision,
            revision,
            "{name}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_branch_fails_clearly_and_keeps_serving_the_last_artifact() {
    let (cluster, client, ns) = setup("git-fail").await;
    let mut repo = walkthrough_repo();
    let (_served, daemon) = serve(&mut [&mut repo]);
    let sc = SourceController::start(&cluster, &ns.name);
    let api: Api<GitRepository> = Api::namespaced(client.clone(), &ns.name);
    create(
        &api,
        &ns.name,
        "app",
        json!({"interval": "10m", "url": daemon.url_for("react-app"), "ref": {"branch": "main"}}),
    )
    .await;
    let good = wait_ready(&api, "app", "True", None, &sc).await;
    let artifact = good.status.unwrap().artifact.unwrap();

    let patch = json!({"spec": {"ref": {"branch": "no-such-branch"}}});
    api.patch("app", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    let bad = wait_ready(&api, "app", "False", Some("GitOperationFailed"), &sc).await;
    let (_, _, msg) = ready(&bad).unwrap();
    assert!(
        msg.contains("no-such-branch"),
        "message names the branch: {msg}"
    );
    let status = bad.status.unwrap();
    assert!(
        status
            .conditions
            .iter()
            .any(|c| c.type_ == "FetchFailed" && c.status.as_str() == "True")
    );
    assert_eq!(
        status.artifact.as_ref(),
        Some(&artifact),
        "last good artifact stays in status"
    );
    let still = reqwest::get(&artifact.url).await.unwrap();
    assert_eq!(
        still.status().as_u16(),
        200,
        "last good artifact stays served"
    );

    // An invalid URL stalls with URLInvalid instead of retrying forever.
    create(
        &api,
        &ns.name,
        "bad-url",
        json!({"interval": "10m", "url": "http://[::1"}),
    )
    .await;
    let stalled = wait_ready(&api, "bad-url", "False", None, &sc).await;
    let st = stalled.status.unwrap();
    assert!(
        st.conditions.iter().any(|c| c.type_ == "FetchFailed"),
        "{st:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn http_basic_and_bearer_auth_come_from_the_secret() {
    let (cluster, client, ns) = setup("git-http").await;
    let mut repo = walkthrough_repo();
    let served = tempfile::tempdir().unwrap();
    repo.publish_to(served.path()).unwrap();
    let basic = GitHttp::start(served.path(), HttpAuth::basic("flux", "s3cret"), false).unwrap();
    let bearer = GitHttp::start(served.path(), HttpAuth::Bearer("t0ken".into()), false).unwrap();
    let sc = SourceController::start(&cluster, &ns.name);
    create_secrets(
        &client,
        &ns.name,
        [
            (
                "good-basic",
                json!({"username": "flux", "password": "s3cret"}),
            ),
            (
                "bad-basic",
                json!({"username": "flux", "password": "wrong"}),
            ),
            ("good-bearer", json!({"bearerToken": "t0ken"})),
        ],
    )
    .await;
    let api: Api<GitRepository> = Api::namespaced(client.clone(), &ns.name);
    let spec = |url: String, secret: &str| json!({"interval": "10m", "url": url, "ref": {"branch": "main"}, "secretRef": {"name": secret}});
    create(
        &api,
        &ns.name,
        "basic",
        spec(basic.url_for("react-app"), "good-basic"),
    )
    .await;
    create(
        &api,
        &ns.name,
        "wrong",
        spec(basic.url_for("react-app"), "bad-basic"),
    )
    .await;
    create(
        &api,
        &ns.name,
        "bearer",
        spec(bearer.url_for("react-app"), "good-bearer"),
    )
    .await;
    let head = repo.head().unwrap();
    for name in ["basic", "bearer"] {
        let got = wait_ready(&api, name, "True", None, &sc).await;
        assert_eq!(
            got.status.unwrap().artifact.unwrap().revision,
            format!("main@sha1:{head}")
        );
    }
    let failed = wait_ready(&api, "wrong", "False", None, &sc).await;
    let (_, reason, msg) = ready(&failed).unwrap();
    assert!(
        reason == "AuthenticationFailed" || reason == "GitOperationFailed",
        "{reason}: {msg}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn ssh_checks_the_host_key() {
    let (cluster, client, ns) = setup("git-ssh").await;
    let mut repo = walkthrough_repo();
    let served = tempfile::tempdir().unwrap();
    repo.publish_to(served.path()).unwrap();
    let key = SshKeyPair::generate().unwrap();
    let sshd = GitSsh::start(served.path(), &key.public_line().unwrap()).unwrap();
    let sc = SourceController::start(&cluster, &ns.name);
    let identity = key.private_pem().unwrap();
    create_secrets(
        &client,
        &ns.name,
        [
            (
                "right",
                json!({"identity": identity, "known_hosts": sshd.host_key_known_hosts_line()}),
            ),
            (
                "wrong",
                json!({"identity": identity, "known_hosts": sshd.wrong_known_hosts_line()}),
            ),
        ],
    )
    .await;
    let url = sshd.url_for("react-app");
    let revision = format!("main@sha1:{}", repo.head().unwrap());
    secret_decides(&client, &ns.name, &sc, &url, ["right", "wrong"], &revision).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_artifact_server_refuses_traversal_and_serves_ranges() {
    let (cluster, client, ns) = setup("git-serve").await;
    let mut repo = walkthrough_repo();
    let (_served, daemon) = serve(&mut [&mut repo]);
    let sc = SourceController::start(&cluster, &ns.name);
    let api: Api<GitRepository> = Api::namespaced(client.clone(), &ns.name);
    create(
        &api,
        &ns.name,
        "app",
        json!({"interval": "10m", "url": daemon.url_for("react-app"), "ref": {"branch": "main"}}),
    )
    .await;
    let got = wait_ready(&api, "app", "True", None, &sc).await;
    let artifact = got.status.unwrap().artifact.unwrap();
    let http = reqwest::Client::new();
    let range = http
        .get(&artifact.url)
        .header("Range", "bytes=0-9")
        .send()
        .await
        .unwrap();
    assert_eq!(range.status().as_u16(), 206);
    assert_eq!(range.bytes().await.unwrap().len(), 10);
    let base = format!("http://127.0.0.1:{}", sc.storage_port);
    for path in [
        "/../../etc/passwd",
        "/gitrepository/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/%2e%2e%2fetc%2fpasswd",
    ] {
        let r = http.get(format!("{base}{path}")).send().await.unwrap();
        let code = r.status().as_u16();
        let body = r.text().await.unwrap_or_default();
        assert!(code == 404 || code == 400, "{path}: {code}");
        assert!(!body.contains("root:"), "{path} leaked a file");
    }
    let missing = http
        .get(format!("{base}/gitrepository/{}/app/nope.tar.gz", ns.name))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status().as_u16(), 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn include_copies_another_repositorys_artifact_and_follows_its_changes() {
    let (cluster, client, ns) = setup("git-include").await;
    let mut app = walkthrough_repo();
    let mut shared = TestRepo::new("shared").unwrap();
    shared
        .write("base/common.yaml", "kind: ConfigMap\n")
        .unwrap();
    shared.write("other/skip.yaml", "kind: Secret\n").unwrap();
    shared.commit("shared v1").unwrap();
    let (_served, daemon) = serve(&mut [&mut app, &mut shared]);
    let sc = SourceController::start(&cluster, &ns.name);
    let api: Api<GitRepository> = Api::namespaced(client.clone(), &ns.name);
    create(
        &api,
        &ns.name,
        "shared",
        json!({"interval": "10m", "url": daemon.url_for("shared"), "ref": {"branch": "main"}}),
    )
    .await;
    create(&api, &ns.name, "app", json!({
        "interval": "10m", "url": daemon.url_for("react-app"), "ref": {"branch": "main"},
        "include": [{"repository": {"name": "shared"}, "fromPath": "base", "toPath": "manifests/shared"}],
    }))
    .await;
    let got = wait_ready(&api, "app", "True", None, &sc).await;
    let files = fetch_artifact(&got).await;
    assert!(
        files.contains(&"manifests/shared/common.yaml".to_string()),
        "{files:?}"
    );
    assert!(
        !files.iter().any(|f| f.contains("skip.yaml")),
        "only fromPath is copied: {files:?}"
    );
    let status = got.status.clone().unwrap();
    let included = status.included_artifacts.clone().unwrap();
    assert_eq!(included.len(), 1);
    assert_eq!(
        included[0].revision,
        format!("main@sha1:{}", shared.head().unwrap())
    );

    // A new commit in the included repository rebuilds the including artifact.
    shared
        .write("base/extra.yaml", "kind: ConfigMap\n")
        .unwrap();
    let next = shared.commit("shared v2").unwrap();
    shared.push().unwrap();
    request_reconcile(&api, "shared").await;
    let got = wait_for(Duration::from_secs(60), || async {
        let r = api.get("app").await.ok()?;
        let inc = r.status.as_ref()?.included_artifacts.clone()?;
        (inc[0].revision == format!("main@sha1:{next}")).then_some(r)
    })
    .await
    .unwrap_or_else(|_| panic!("include change not followed:\n{}", sc.proc.logs()));
    assert!(
        fetch_artifact(&got)
            .await
            .contains(&"manifests/shared/extra.yaml".to_string())
    );

    // A missing include is reported, not silently ignored.
    create(
        &api,
        &ns.name,
        "dangling",
        json!({
            "interval": "10m", "url": daemon.url_for("react-app"), "ref": {"branch": "main"},
            "include": [{"repository": {"name": "nope"}}],
        }),
    )
    .await;
    let bad = wait_ready(&api, "dangling", "False", None, &sc).await;
    let st = bad.status.unwrap();
    assert!(
        st.conditions
            .iter()
            .any(|c| c.type_ == "IncludeUnavailable" && c.status.as_str() == "True"),
        "{st:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_force_pushed_branch_moves_the_artifact_to_the_new_history() {
    let (cluster, client, ns) = setup("git-force").await;
    let mut repo = walkthrough_repo();
    repo.write("manifests/old.yaml", "kind: ConfigMap\n")
        .unwrap();
    let old = repo.commit("to be rewritten").unwrap();
    let (_served, daemon) = serve(&mut [&mut repo]);
    let sc = SourceController::start(&cluster, &ns.name);
    let api: Api<GitRepository> = Api::namespaced(client.clone(), &ns.name);
    create(
        &api,
        &ns.name,
        "app",
        json!({"interval": "10m", "url": daemon.url_for("react-app"), "ref": {"branch": "main"}}),
    )
    .await;
    let got = wait_ready(&api, "app", "True", None, &sc).await;
    assert_eq!(
        got.status.unwrap().artifact.unwrap().revision,
        format!("main@sha1:{old}")
    );
    let rewritten = repo
        .force_push_rewrite("HEAD~1", "rewritten history")
        .unwrap();
    request_reconcile(&api, "app").await;
    let got = wait_for(Duration::from_secs(60), || async {
        let r = api.get("app").await.ok()?;
        (r.status.as_ref()?.artifact.as_ref()?.revision == format!("main@sha1:{rewritten}"))
            .then_some(r)
    })
    .await
    .unwrap_or_else(|_| panic!("force push not followed:\n{}", sc.proc.logs()));
    assert!(
        !fetch_artifact(&got)
            .await
            .contains(&"manifests/old.yaml".to_string())
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_host_fails_within_the_timeout() {
    let (cluster, client, ns) = setup("git-unreachable").await;
    let sc = SourceController::start(&cluster, &ns.name);
    let api: Api<GitRepository> = Api::namespaced(client.clone(), &ns.name);
    let port = free_port().unwrap();
    create(&api, &ns.name, "gone", json!({"interval": "10m", "timeout": "5s", "url": format!("git://127.0.0.1:{port}/nothing.git"), "ref": {"branch": "main"}})).await;
    let bad = wait_ready(&api, "gone", "False", Some("GitOperationFailed"), &sc).await;
    let st = bad.status.unwrap();
    assert!(st.artifact.is_none());
    assert!(
        st.conditions
            .iter()
            .any(|c| c.type_ == "FetchFailed" && c.status.as_str() == "True")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn new_artifacts_are_forwarded_to_the_events_address_in_fluxs_format() {
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

    let (cluster, client, ns) = setup("git-events").await;
    let mut repo = walkthrough_repo();
    let (_served, daemon) = serve(&mut [&mut repo]);
    let sc = SourceController::start_with(&cluster, &ns.name, &[format!("--events-addr={url}")]);
    let api: Api<GitRepository> = Api::namespaced(client.clone(), &ns.name);
    create(
        &api,
        &ns.name,
        "app",
        json!({"interval": "10m", "url": daemon.url_for("react-app"), "ref": {"branch": "main"}}),
    )
    .await;
    wait_ready(&api, "app", "True", None, &sc).await;
    let event = wait_for(Duration::from_secs(30), || async {
        received
            .lock()
            .unwrap()
            .iter()
            .find(|e| e["reason"] == "NewArtifact")
            .cloned()
    })
    .await
    .unwrap_or_else(|_| panic!("no event forwarded:\n{}", sc.proc.logs()));
    assert_eq!(event["involvedObject"]["kind"], "GitRepository");
    assert_eq!(event["involvedObject"]["name"], "app");
    assert_eq!(event["involvedObject"]["namespace"], json!(ns.name));
    assert_eq!(event["severity"], "info");
    assert_eq!(event["reportingController"], "source-controller");
    let head = repo.head().unwrap();
    assert_eq!(
        event["metadata"]["source.toolkit.fluxcd.io/revision"],
        json!(format!("main@sha1:{head}"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_large_repository_and_an_unchanged_remote_reuse_the_stored_artifact() {
    let (cluster, client, ns) = setup("git-large").await;
    // The kubeflow corpus: thousands of manifests.
    let mut repo = TestRepo::new("kubeflow").unwrap();
    let corpus = ferroflux_e2e::shared_dir().join("corpus/kustomize/kubeflow");
    let mut expected = 0usize;
    let mut stack = vec![corpus.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let ft = entry.file_type().unwrap();
            let rel = entry.path().strip_prefix(&corpus).unwrap().to_path_buf();
            if ft.is_dir() {
                stack.push(entry.path());
            } else if ft.is_file() {
                let content = std::fs::read_to_string(entry.path()).unwrap_or_default();
                repo.write(rel.to_str().unwrap(), &content).unwrap();
                expected += 1;
            }
        }
    }
    assert!(expected > 100, "corpus has {expected} files");
    repo.commit("kubeflow manifests").unwrap();
    let (_served, daemon) = serve(&mut [&mut repo]);
    let sc = SourceController::start(&cluster, &ns.name);
    let api: Api<GitRepository> = Api::namespaced(client.clone(), &ns.name);
    create(
        &api,
        &ns.name,
        "kubeflow",
        json!({"interval": "10m", "url": daemon.url_for("kubeflow"), "ref": {"branch": "main"}}),
    )
    .await;
    let got = wait_ready(&api, "kubeflow", "True", None, &sc).await;
    let files = fetch_artifact(&got).await;
    // Flux's default exclusions drop images and CI files; everything else is there.
    assert!(
        files.len() * 10 >= expected * 9,
        "{} of {expected} files archived",
        files.len()
    );
    let first = got.status.unwrap().artifact.unwrap();

    // Nothing changed upstream: a requested reconcile keeps the same artifact file.
    request_reconcile(&api, "kubeflow").await;
    let handled = wait_for(Duration::from_secs(60), || async {
        let r = api.get("kubeflow").await.ok()?;
        let want = r
            .metadata
            .annotations
            .as_ref()?
            .get("reconcile.fluxcd.io/requestedAt")?
            .clone();
        (r.status.as_ref()?.last_handled_reconcile_at.as_ref() == Some(&want)).then_some(r)
    })
    .await
    .unwrap_or_else(|_| panic!("request not handled:\n{}", sc.proc.logs()));
    let again = handled.status.unwrap().artifact.unwrap();
    assert_eq!(again.digest, first.digest);
    assert_eq!(
        again.last_update_time, first.last_update_time,
        "artifact not rebuilt"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn https_with_a_custom_ca_from_the_secret() {
    let (cluster, client, ns) = setup("git-https").await;
    let mut repo = walkthrough_repo();
    let served = tempfile::tempdir().unwrap();
    repo.publish_to(served.path()).unwrap();
    let https = GitHttp::start(served.path(), HttpAuth::basic("flux", "s3cret"), true).unwrap();
    let sc = SourceController::start(&cluster, &ns.name);
    let ca = https.ca_pem().unwrap().to_string();
    create_secrets(
        &client,
        &ns.name,
        [
            (
                "with-ca",
                json!({"username": "flux", "password": "s3cret", "ca.crt": ca}),
            ),
            (
                "without-ca",
                json!({"username": "flux", "password": "s3cret"}),
            ),
        ],
    )
    .await;
    let url = https.url_for("react-app");
    let revision = format!("main@sha1:{}", repo.head().unwrap());
    secret_decides(
        &client,
        &ns.name,
        &sc,
        &url,
        ["with-ca", "without-ca"],
        &revision,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn https_client_certificates_from_the_secret_with_fluxs_and_the_older_keys() {
    let (cluster, client, ns) = setup("git-mtls").await;
    let mut repo = walkthrough_repo();
    let served = tempfile::tempdir().unwrap();
    repo.publish_to(served.path()).unwrap();
    // No password: the client certificate is the only credential.
    let https = GitHttp::start_with(served.path(), HttpAuth::None, TlsMode::Mutual).unwrap();
    let sc = SourceController::start(&cluster, &ns.name);
    let ca = https.ca_pem().unwrap().to_string();
    let (me, stranger) = (https.client().unwrap(), https.stranger().unwrap());
    create_secrets(
        &client,
        &ns.name,
        [
            (
                "cert",
                json!({"ca.crt": ca, "tls.crt": me.cert_pem, "tls.key": me.key_pem}),
            ),
            ("no-cert", json!({"ca.crt": ca})),
            (
                "legacy-keys",
                json!({"caFile": ca, "certFile": me.cert_pem, "keyFile": me.key_pem}),
            ),
            (
                "stranger-cert",
                json!({"ca.crt": ca, "tls.crt": stranger.cert_pem, "tls.key": stranger.key_pem}),
            ),
            ("half-cert", json!({"ca.crt": ca, "tls.crt": me.cert_pem})),
        ],
    )
    .await;
    let url = https.url_for("react-app");
    let revision = format!("main@sha1:{}", repo.head().unwrap());
    secret_decides(&client, &ns.name, &sc, &url, ["cert", "no-cert"], &revision).await;
    secret_decides(
        &client,
        &ns.name,
        &sc,
        &url,
        ["legacy-keys", "stranger-cert"],
        &revision,
    )
    .await;
    let api: Api<GitRepository> = Api::namespaced(client.clone(), &ns.name);
    for name in ["no-cert", "stranger-cert"] {
        let failed = wait_ready(&api, name, "False", Some("AuthenticationFailed"), &sc).await;
        let (_, _, msg) = ready(&failed).unwrap();
        assert!(
            msg.to_ascii_lowercase().contains("certificate"),
            "{name}: {msg}"
        );
    }
    let spec = json!({"interval": "10m", "url": url, "ref": {"branch": "main"}, "secretRef": {"name": "half-cert"}});
    create(&api, &ns.name, "half-cert", spec).await;
    let half = wait_ready(
        &api,
        "half-cert",
        "False",
        Some("AuthenticationFailed"),
        &sc,
    )
    .await;
    let (_, _, msg) = ready(&half).unwrap();
    assert!(msg.contains("'tls.crt' and 'tls.key'"), "{msg}");
    assert!(half.status.unwrap().artifact.is_none());
    let logs = https.logs();
    assert!(
        logs.contains("TLS handshake") || logs.contains("certificate"),
        "the server saw no refused handshake:\n{logs}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_proxy_with_basic_credentials_from_the_proxy_secret() {
    let (cluster, client, ns) = setup("git-proxy").await;
    let mut repo = walkthrough_repo();
    let served = tempfile::tempdir().unwrap();
    repo.publish_to(served.path()).unwrap();
    let http = GitHttp::start(served.path(), HttpAuth::None, false).unwrap();
    let https = GitHttp::start(served.path(), HttpAuth::None, true).unwrap();
    let proxy = ForwardProxy::start(Some(("proxyuser", "proxypass"))).unwrap();
    let sc = SourceController::start(&cluster, &ns.name);
    let ca = https.ca_pem().unwrap().to_string();
    create_secrets(
        &client,
        &ns.name,
        [
            (
                "proxy",
                json!({"address": proxy.url(), "username": "proxyuser", "password": "proxypass"}),
            ),
            (
                "proxy-wrong",
                json!({"address": proxy.url(), "username": "proxyuser", "password": "nope"}),
            ),
            ("proxy-anonymous", json!({"address": proxy.url()})),
            ("ca", json!({"ca.crt": ca})),
        ],
    )
    .await;
    let api: Api<GitRepository> = Api::namespaced(client.clone(), &ns.name);
    let revision = format!("main@sha1:{}", repo.head().unwrap());
    // Plain http goes to the proxy in absolute form, https through a CONNECT tunnel.
    let cases = [
        ("http", http.url_for("react-app"), "proxy", true),
        ("https", https.url_for("react-app"), "proxy", true),
        (
            "http-wrong",
            http.url_for("react-app"),
            "proxy-wrong",
            false,
        ),
        (
            "https-wrong",
            https.url_for("react-app"),
            "proxy-wrong",
            false,
        ),
        (
            "https-anonymous",
            https.url_for("react-app"),
            "proxy-anonymous",
            false,
        ),
    ];
    for (name, url, proxy_secret, _) in &cases {
        let mut spec = json!({"interval": "10m", "url": url, "ref": {"branch": "main"},
            "proxySecretRef": {"name": proxy_secret}});
        if url.starts_with("https") {
            spec["secretRef"] = json!({"name": "ca"});
        }
        create(&api, &ns.name, name, spec).await;
    }
    for (name, _, _, ok) in &cases {
        if *ok {
            let got = wait_ready(&api, name, "True", None, &sc).await;
            assert_eq!(got.status.unwrap().artifact.unwrap().revision, revision);
        } else {
            let failed = wait_ready(&api, name, "False", Some("AuthenticationFailed"), &sc).await;
            let (_, _, msg) = ready(&failed).unwrap();
            assert!(
                msg.contains("407") || msg.to_ascii_lowercase().contains("proxy"),
                "{name}: {msg}"
            );
            assert!(
                failed.status.unwrap().artifact.is_none(),
                "{name}: nothing stored"
            );
        }
    }
    let log = proxy.log();
    let (http_port, https_port) = (http.port, https.port);
    let seen = |needle: &str| log.iter().any(|l| l.contains(needle));
    assert!(
        seen(&format!("127.0.0.1:{http_port}/react-app.git/info/refs")) && seen("-> forwarded"),
        "{log:#?}"
    );
    assert!(
        seen(&format!("CONNECT 127.0.0.1:{https_port} -> 200")),
        "{log:#?}"
    );
    assert!(
        seen(&format!("CONNECT 127.0.0.1:{https_port} -> 407")),
        "{log:#?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn cloud_providers_stall_with_a_clear_message() {
    let (cluster, client, ns) = setup("git-provider").await;
    let mut repo = walkthrough_repo();
    let (_served, daemon) = serve(&mut [&mut repo]);
    let sc = SourceController::start(&cluster, &ns.name);
    let api: Api<GitRepository> = Api::namespaced(client.clone(), &ns.name);
    for provider in ["github", "azure"] {
        let spec = json!({"interval": "10m", "url": daemon.url_for("react-app"),
            "ref": {"branch": "main"}, "provider": provider});
        create(&api, &ns.name, provider, spec).await;
    }
    for provider in ["github", "azure"] {
        let got = wait_ready(&api, provider, "False", Some("UnsupportedProvider"), &sc).await;
        let (_, _, msg) = ready(&got).unwrap();
        assert!(
            msg.contains(&format!("provider '{provider}' is not supported")),
            "{msg}"
        );
        let status = got.status.unwrap();
        let stalled = status.conditions.iter().find(|c| c.type_ == "Stalled");
        assert_eq!(
            stalled.map(|c| c.status.as_str()),
            Some("True"),
            "{provider}: {:?}",
            status.conditions
        );
        assert!(status.artifact.is_none(), "{provider}: nothing fetched");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn signed_commits_verify_and_unsigned_ones_keep_the_last_verified_artifact() {
    use ferroflux_e2e::gitserver::GpgKey;
    let (cluster, client, ns) = setup("git-verify").await;
    let ssh_key = SshKeyPair::generate().unwrap();
    let other_key = SshKeyPair::generate().unwrap();
    let gpg = GpgKey::generate("Flux Signer", "signer@example.com").unwrap();
    let mut repo = TestRepo::new("signed").unwrap();
    repo.write("a.yaml", "kind: ConfigMap\n").unwrap();
    let signed = repo.commit_signed_ssh("signed with ssh", &ssh_key).unwrap();
    let mut gpg_repo = TestRepo::new("gpg-signed").unwrap();
    gpg_repo.write("b.yaml", "kind: ConfigMap\n").unwrap();
    let gpg_signed = gpg_repo.commit_signed_gpg("signed with gpg", &gpg).unwrap();
    let (_served, daemon) = serve(&mut [&mut repo, &mut gpg_repo]);
    let sc = SourceController::start(&cluster, &ns.name);
    create_secrets(
        &client,
        &ns.name,
        [
            (
                "ssh-keys",
                json!({"signer.pub": ssh_key.public_line().unwrap()}),
            ),
            (
                "wrong-keys",
                json!({"other.pub": other_key.public_line().unwrap()}),
            ),
            ("gpg-keys", json!({"signer.asc": gpg.public_armored})),
        ],
    )
    .await;
    let api: Api<GitRepository> = Api::namespaced(client.clone(), &ns.name);
    let spec = |repo: &str, keys: &str| {
        json!({
            "interval": "10m", "url": daemon.url_for(repo), "ref": {"branch": "main"},
            "verify": {"mode": "HEAD", "secretRef": {"name": keys}},
        })
    };
    create(&api, &ns.name, "ssh", spec("signed", "ssh-keys")).await;
    create(&api, &ns.name, "gpg", spec("gpg-signed", "gpg-keys")).await;
    create(&api, &ns.name, "wrong", spec("signed", "wrong-keys")).await;

    for (name, head) in [("ssh", &signed), ("gpg", &gpg_signed)] {
        let got = wait_ready(&api, name, "True", None, &sc).await;
        let st = got.status.unwrap();
        let verified = st
            .conditions
            .iter()
            .find(|c| c.type_ == "SourceVerified")
            .unwrap();
        assert_eq!(verified.status.as_str(), "True", "{name}: {verified:?}");
        assert!(
            verified.message.contains(head.as_str()),
            "{name}: {}",
            verified.message
        );
        assert_eq!(st.source_verification_mode.as_deref(), Some("HEAD"));
    }
    let wrong = wait_ready(&api, "wrong", "False", Some("VerificationError"), &sc).await;
    assert!(
        wrong.status.unwrap().artifact.is_none(),
        "nothing stored without a valid signature"
    );

    // An unsigned commit on top: verification fails, the last verified artifact stays.
    repo.write("c.yaml", "kind: Secret\n").unwrap();
    repo.commit("unsigned").unwrap();
    repo.push().unwrap();
    request_reconcile(&api, "ssh").await;
    let failed = wait_ready(&api, "ssh", "False", Some("VerificationError"), &sc).await;
    let st = failed.status.unwrap();
    assert_eq!(st.artifact.unwrap().revision, format!("main@sha1:{signed}"));
    let verified = st
        .conditions
        .iter()
        .find(|c| c.type_ == "SourceVerified")
        .unwrap();
    assert_eq!(verified.status.as_str(), "False");
}

#[tokio::test(flavor = "multi_thread")]
async fn recurse_submodules_brings_in_the_recorded_submodule_commit() {
    let (cluster, client, ns) = setup("git-submodules").await;
    let served = tempfile::tempdir().unwrap();
    let mut lib = TestRepo::new("lib").unwrap();
    lib.write("lib.yaml", "version: 1\n").unwrap();
    lib.commit("lib v1").unwrap();
    let lib_bare = lib.publish_to(served.path()).unwrap();
    let mut app = TestRepo::new("app").unwrap();
    app.write("app.yaml", "kind: ConfigMap\n").unwrap();
    app.add_submodule(&format!("file://{}", lib_bare.display()), "vendor/lib")
        .unwrap();
    // A relative URL, resolved against the superproject's URL, as on a real server.
    app.git([
        "config",
        "-f",
        ".gitmodules",
        "submodule.vendor/lib.url",
        "../lib.git",
    ])
    .unwrap();
    app.commit("app with submodule").unwrap();
    app.publish_to(served.path()).unwrap();
    // A newer lib commit that the superproject did not record.
    lib.write("lib.yaml", "version: 2\n").unwrap();
    lib.commit("lib v2").unwrap();
    lib.push().unwrap();
    let daemon = GitDaemon::start(served.path()).unwrap();
    let sc = SourceController::start(&cluster, &ns.name);
    let api: Api<GitRepository> = Api::namespaced(client.clone(), &ns.name);
    create(&api, &ns.name, "with", json!({"interval": "10m", "url": daemon.url_for("app"), "ref": {"branch": "main"}, "recurseSubmodules": true})).await;
    create(
        &api,
        &ns.name,
        "without",
        json!({"interval": "10m", "url": daemon.url_for("app"), "ref": {"branch": "main"}}),
    )
    .await;
    let with = wait_ready(&api, "with", "True", None, &sc).await;
    let files = fetch_artifact(&with).await;
    assert!(
        files.contains(&"vendor/lib/lib.yaml".to_string()),
        "{files:?}"
    );
    assert_eq!(
        with.status.as_ref().unwrap().observed_recurse_submodules,
        Some(true)
    );
    let without = wait_ready(&api, "without", "True", None, &sc).await;
    assert!(
        !fetch_artifact(&without)
            .await
            .iter()
            .any(|f| f.starts_with("vendor/lib/"))
    );
}
