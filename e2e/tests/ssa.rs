//! The server-side apply engine (`ferroflux-ssa`) against the local control plane: change-set
//! actions, drift reverted after `kubectl edit`/`kubectl scale`, staged CRDs, dry-run
//! validation, the per-object `ssa`/`force` annotations, prune and kstatus waiting.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test file: failing loudly is the point

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::Duration;

use ferroflux_e2e::{Cluster, TestNamespace, tool, wait_for};
use ferroflux_ssa::{
    Action, ApplyOptions, ChangeSet, ObjMetadata, Owner, ResourceManager, WaitOptions, inventory,
};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::Client;
use kube::api::{Api, DynamicObject};
use kube::discovery::ApiResource;
use serde_json::{Value, json};

const GROUP: &str = "kustomize.toolkit.fluxcd.io";

async fn setup(prefix: &str) -> (Cluster, Client, TestNamespace, ResourceManager) {
    ferroflux_e2e::install_rustls();
    let cluster = Cluster::shared().unwrap();
    let client = cluster.client().await.unwrap();
    let ns = TestNamespace::create(&client, &cluster, prefix)
        .await
        .unwrap();
    let rm = manager(&client, &ns.name, "apps");
    (cluster, client, ns, rm)
}

fn manager(client: &Client, ns: &str, owner: &str) -> ResourceManager {
    ResourceManager::new(
        client.clone(),
        "kustomize-controller",
        Owner {
            group: GROUP.into(),
            name: owner.into(),
            namespace: ns.into(),
        },
    )
}

fn opts() -> ApplyOptions {
    ApplyOptions {
        wait_timeout: Duration::from_secs(30),
        ..ApplyOptions::default()
    }
}

fn configmap(ns: &str, name: &str, data: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {"name": name, "namespace": ns}, "data": data})
}

fn deployment(ns: &str, name: &str, replicas: i32) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": "ghcr.io/stefanprodan/podinfo:6.7.0"}]}
            }
        }
    })
}

fn service(ns: &str, name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Service",
           "metadata": {"name": name, "namespace": ns},
           "spec": {"selector": {"app": name}, "ports": [{"port": 80, "targetPort": 9898}]}})
}

fn actions(cs: &ChangeSet) -> BTreeMap<String, String> {
    cs.to_map()
}

/// Runs kubectl with extra environment (the harness's `kubectl` has none).
fn kubectl_env(cluster: &Cluster, args: &[&str], env: &[(&str, &str)]) -> String {
    let out = Command::new(tool("kubectl"))
        .args(args)
        .env("KUBECONFIG", &cluster.kubeconfig)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "kubectl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
async fn apply_creates_then_reports_unchanged_and_labels_owner() {
    let (_c, client, ns, rm) = setup("ssa-create").await;
    let n = &ns.name;
    let objects = vec![
        deployment(n, "web", 1),
        service(n, "web"),
        configmap(n, "cfg", json!({"color": "blue"})),
    ];
    let cs = rm.apply_all_staged(objects.clone(), &opts()).await.unwrap();
    assert_eq!(
        cs.summary(),
        format!("ConfigMap/{n}/cfg created\nService/{n}/web created\nDeployment/{n}/web created")
    );
    let cm: ConfigMap = Api::namespaced(client.clone(), n).get("cfg").await.unwrap();
    let labels = cm.metadata.labels.unwrap();
    assert_eq!(labels[&format!("{GROUP}/name")], "apps");
    assert_eq!(labels[&format!("{GROUP}/namespace")], n.as_str());
    let managers: Vec<_> = cm
        .metadata
        .managed_fields
        .unwrap()
        .into_iter()
        .map(|m| (m.manager.unwrap(), m.operation.unwrap()))
        .collect();
    assert_eq!(
        managers,
        vec![("kustomize-controller".to_string(), "Apply".to_string())]
    );

    let again = rm.apply_all_staged(objects, &opts()).await.unwrap();
    assert!(
        again.entries.iter().all(|e| e.action == Action::Unchanged),
        "{}",
        again.summary()
    );
    assert_eq!(
        inventory::from_change_set(&again)
            .iter()
            .map(|e| format!("{} {}", e.id, e.v))
            .collect::<Vec<_>>(),
        vec![
            format!("{n}_cfg__ConfigMap v1"),
            format!("{n}_web__Service v1"),
            format!("{n}_web_apps_Deployment v1"),
        ]
    );
}

#[tokio::test]
async fn changed_field_is_configured() {
    let (_c, client, ns, rm) = setup("ssa-configure").await;
    let n = &ns.name;
    rm.apply_all_staged(
        vec![
            configmap(n, "a", json!({"k": "1"})),
            configmap(n, "b", json!({"k": "1"})),
        ],
        &opts(),
    )
    .await
    .unwrap();
    let cs = rm
        .apply_all_staged(
            vec![
                configmap(n, "a", json!({"k": "2"})),
                configmap(n, "b", json!({"k": "1"})),
            ],
            &opts(),
        )
        .await
        .unwrap();
    let a = actions(&cs);
    assert_eq!(a[&format!("ConfigMap/{n}/a")], "configured");
    assert_eq!(a[&format!("ConfigMap/{n}/b")], "unchanged");
    let cm: ConfigMap = Api::namespaced(client, n).get("a").await.unwrap();
    assert_eq!(cm.data.unwrap()["k"], "2");
}

#[tokio::test]
async fn kubectl_edit_drift_is_reverted() {
    let (cluster, client, ns, rm) = setup("ssa-edit").await;
    let n = &ns.name;
    let desired = vec![configmap(n, "cfg", json!({"color": "blue"}))];
    rm.apply_all_staged(desired.clone(), &opts()).await.unwrap();

    // A real `kubectl edit`: the editor changes our value and adds a key we never set.
    let dir = tempfile::tempdir().unwrap();
    let editor = dir.path().join("editor.sh");
    std::fs::write(
        &editor,
        "#!/bin/sh\nsed -i 's/^  color: blue$/  color: red\\n  extra: drift/' \"$1\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&editor, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    kubectl_env(
        &cluster,
        &["edit", "-n", n, "configmap/cfg"],
        &[("KUBE_EDITOR", editor.to_str().unwrap())],
    );
    let api: Api<ConfigMap> = Api::namespaced(client, n);
    let edited = api.get("cfg").await.unwrap().data.unwrap();
    assert_eq!(edited["color"], "red");
    assert_eq!(edited["extra"], "drift");

    let cs = rm.apply_all_staged(desired.clone(), &opts()).await.unwrap();
    assert_eq!(actions(&cs)[&format!("ConfigMap/{n}/cfg")], "configured");
    let cm = api.get("cfg").await.unwrap();
    assert_eq!(
        cm.data.unwrap(),
        BTreeMap::from([("color".to_string(), "blue".to_string())])
    );
    let managers: Vec<_> = cm
        .metadata
        .managed_fields
        .unwrap()
        .into_iter()
        .map(|m| m.manager.unwrap())
        .collect();
    assert_eq!(managers, vec!["kustomize-controller".to_string()]);

    // Converged: the next apply changes nothing.
    let cs = rm.apply_all_staged(desired, &opts()).await.unwrap();
    assert_eq!(actions(&cs)[&format!("ConfigMap/{n}/cfg")], "unchanged");
}

#[tokio::test]
async fn kubectl_scale_is_reverted() {
    let (cluster, client, ns, rm) = setup("ssa-scale").await;
    let n = &ns.name;
    let desired = vec![deployment(n, "web", 1)];
    rm.apply_all_staged(desired.clone(), &opts()).await.unwrap();
    cluster
        .kubectl(&["scale", "-n", n, "deployment/web", "--replicas=3"])
        .unwrap();
    let api: Api<Deployment> = Api::namespaced(client, n);
    assert_eq!(api.get("web").await.unwrap().spec.replicas, Some(3));
    let cs = rm.apply_all_staged(desired, &opts()).await.unwrap();
    assert_eq!(actions(&cs)[&format!("Deployment/{n}/web")], "configured");
    let d = api.get("web").await.unwrap();
    assert_eq!(d.spec.replicas, Some(1));
    assert!(
        d.metadata.managed_fields.unwrap().iter().all(|m| !m
            .manager
            .as_deref()
            .unwrap_or("")
            .starts_with("kubectl")),
        "kubectl's field manager was taken over"
    );
}

/// A CRD named after the test namespace so parallel tests never share one; deleted at the end.
struct TestCrd {
    group: String,
    kubeconfig: std::path::PathBuf,
}

impl TestCrd {
    fn new(cluster: &Cluster, ns: &str) -> Self {
        Self {
            group: format!("{ns}.ssa.ferroflux.dev"),
            kubeconfig: cluster.kubeconfig.clone(),
        }
    }

    fn name(&self) -> String {
        format!("widgets.{}", self.group)
    }

    /// A namespaced `Widget` kind without a status subresource, so tests can apply a status.
    fn definition(&self) -> Value {
        json!({
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": self.name()},
            "spec": {
                "group": self.group,
                "names": {"kind": "Widget", "plural": "widgets", "singular": "widget", "listKind": "WidgetList"},
                "scope": "Namespaced",
                "versions": [{
                    "name": "v1", "served": true, "storage": true,
                    "schema": {"openAPIV3Schema": {"type": "object",
                        "x-kubernetes-preserve-unknown-fields": true}}
                }]
            }
        })
    }

    fn widget(&self, ns: &str, name: &str, status: Value) -> Value {
        json!({"apiVersion": format!("{}/v1", self.group), "kind": "Widget",
               "metadata": {"name": name, "namespace": ns},
               "spec": {"size": 1}, "status": status})
    }
}

impl Drop for TestCrd {
    fn drop(&mut self) {
        let _ = Command::new(tool("kubectl"))
            .args([
                "delete",
                "crd",
                &self.name(),
                "--wait=false",
                "--ignore-not-found",
            ])
            .env("KUBECONFIG", &self.kubeconfig)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

#[tokio::test]
async fn crd_and_its_custom_resource_apply_in_one_set() {
    let (cluster, client, ns, rm) = setup("ssa-crd").await;
    let n = &ns.name;
    let crd = TestCrd::new(&cluster, n);
    // The custom resource comes first in the input: staging must still apply the CRD first.
    let objects = vec![crd.widget(n, "w1", json!({})), crd.definition()];
    let cs = rm.apply_all_staged(objects.clone(), &opts()).await.unwrap();
    assert_eq!(
        cs.summary(),
        format!(
            "CustomResourceDefinition/{} created\nWidget/{n}/w1 created",
            crd.name()
        )
    );
    let ar = ApiResource {
        group: crd.group.clone(),
        version: "v1".into(),
        api_version: format!("{}/v1", crd.group),
        kind: "Widget".into(),
        plural: "widgets".into(),
    };
    let w = Api::<DynamicObject>::namespaced_with(client, n, &ar)
        .get("w1")
        .await
        .unwrap();
    assert_eq!(w.data["spec"]["size"], 1);
    let cs = rm.apply_all_staged(objects, &opts()).await.unwrap();
    assert!(cs.entries.iter().all(|e| e.action == Action::Unchanged));
}

#[tokio::test]
async fn invalid_object_fails_dry_run_and_nothing_is_applied() {
    let (_c, client, ns, rm) = setup("ssa-invalid").await;
    let n = &ns.name;
    let mut bad = deployment(n, "bad", 1);
    bad["spec"]["replicas"] = json!(-1);
    let err = rm
        .apply_all_staged(vec![configmap(n, "ok", json!({"k": "v"})), bad], &opts())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(&format!("Deployment/{n}/bad dry-run failed (Invalid): ")),
        "{err}"
    );
    assert!(err.contains("spec.replicas"), "{err}");
    let cms: Api<ConfigMap> = Api::namespaced(client, n);
    assert!(cms.get_opt("ok").await.unwrap().is_none());
}

#[tokio::test]
async fn unknown_kind_is_a_clear_error_naming_the_object() {
    let (_c, client, ns, rm) = setup("ssa-unknown").await;
    let n = &ns.name;
    let err = rm
        .apply_all_staged(
            vec![
                configmap(n, "ok", json!({})),
                json!({"apiVersion": "nowhere.ferroflux.dev/v1", "kind": "Ghost",
                       "metadata": {"name": "boo", "namespace": n}}),
            ],
            &opts(),
        )
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        format!(
            "Ghost/{n}/boo dry-run failed: no matches for kind \"Ghost\" in version \"nowhere.ferroflux.dev/v1\""
        )
    );
    let cms: Api<ConfigMap> = Api::namespaced(client, n);
    assert!(cms.get_opt("ok").await.unwrap().is_none());
}

#[tokio::test]
async fn namespaced_object_without_namespace_is_refused() {
    let (_c, _client, ns, rm) = setup("ssa-nons").await;
    let mut cm = configmap(&ns.name, "x", json!({}));
    cm["metadata"].as_object_mut().unwrap().remove("namespace");
    let err = rm
        .apply_all_staged(vec![cm], &opts())
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(err, "ConfigMap/x namespace not specified");
}

#[tokio::test]
async fn ssa_annotations_ignore_ifnotpresent_and_merge() {
    let (cluster, client, ns, rm) = setup("ssa-annotations").await;
    let n = &ns.name;
    let annotated = |name: &str, mode: &str, value: &str| {
        let mut cm = configmap(n, name, json!({"k": value}));
        cm["metadata"]["annotations"] = json!({format!("{GROUP}/ssa"): mode});
        cm
    };
    let cs = rm
        .apply_all_staged(
            vec![
                annotated("ignored", "Ignore", "1"),
                annotated("once", "IfNotPresent", "1"),
                annotated("merged", "Merge", "1"),
            ],
            &opts(),
        )
        .await
        .unwrap();
    let a = actions(&cs);
    assert_eq!(a[&format!("ConfigMap/{n}/ignored")], "skipped");
    assert_eq!(a[&format!("ConfigMap/{n}/once")], "created");
    assert_eq!(a[&format!("ConfigMap/{n}/merged")], "created");
    let api: Api<ConfigMap> = Api::namespaced(client, n);
    assert!(api.get_opt("ignored").await.unwrap().is_none());

    // Someone else adds a key to the Merge object; IfNotPresent's source changes.
    cluster
        .kubectl(&[
            "patch",
            "-n",
            n,
            "configmap/merged",
            "--type=merge",
            "-p",
            r#"{"data":{"theirs":"kept"}}"#,
        ])
        .unwrap();
    let cs = rm
        .apply_all_staged(
            vec![
                annotated("ignored", "Ignore", "2"),
                annotated("once", "IfNotPresent", "2"),
                annotated("merged", "Merge", "1"),
            ],
            &opts(),
        )
        .await
        .unwrap();
    let a = actions(&cs);
    assert_eq!(a[&format!("ConfigMap/{n}/once")], "skipped");
    assert_eq!(a[&format!("ConfigMap/{n}/merged")], "unchanged");
    assert_eq!(api.get("once").await.unwrap().data.unwrap()["k"], "1");
    let merged = api.get("merged").await.unwrap().data.unwrap();
    assert_eq!(merged["theirs"], "kept");
    assert_eq!(merged["k"], "1");
}

fn job(ns: &str, name: &str, image: &str, force: bool) -> Value {
    let mut j = json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"template": {"spec": {
            "restartPolicy": "Never",
            "containers": [{"name": "run", "image": image}]
        }}}
    });
    if force {
        j["metadata"]["annotations"] = json!({format!("{GROUP}/force"): "Enabled"});
    }
    j
}

#[tokio::test]
async fn immutable_change_fails_unless_forced_then_recreates() {
    let (_c, client, ns, rm) = setup("ssa-force").await;
    let n = &ns.name;
    rm.apply_all_staged(
        vec![
            job(n, "annotated", "busybox:1", false),
            job(n, "global", "busybox:1", false),
        ],
        &opts(),
    )
    .await
    .unwrap();
    let api: Api<Job> = Api::namespaced(client, n);
    let uid_before = api.get("annotated").await.unwrap().metadata.uid.unwrap();

    // Without force: the dry run fails, naming the object and the immutable field.
    let err = rm
        .apply_all_staged(vec![job(n, "annotated", "busybox:2", false)], &opts())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(&format!("Job/{n}/annotated dry-run failed (Invalid): ")),
        "{err}"
    );
    assert!(err.contains("immutable"), "{err}");

    // With the force annotation: deleted and created again with the new template.
    let cs = rm
        .apply_all_staged(vec![job(n, "annotated", "busybox:2", true)], &opts())
        .await
        .unwrap();
    assert_eq!(actions(&cs)[&format!("Job/{n}/annotated")], "created");
    let j = api.get("annotated").await.unwrap();
    assert_ne!(j.metadata.uid.unwrap(), uid_before);
    let image = j.spec.unwrap().template.spec.unwrap().containers[0]
        .image
        .clone()
        .unwrap();
    assert_eq!(image, "busybox:2");

    // With force in the options (the Kustomization's spec.force).
    let forced = ApplyOptions {
        force: true,
        ..opts()
    };
    let cs = rm
        .apply_all_staged(vec![job(n, "global", "busybox:3", false)], &forced)
        .await
        .unwrap();
    assert_eq!(actions(&cs)[&format!("Job/{n}/global")], "created");
}

#[tokio::test]
async fn prune_deletes_stale_objects_but_honours_prune_disabled_and_ownership() {
    let (_c, client, ns, rm) = setup("ssa-prune").await;
    let n = &ns.name;
    let mut keep_me = configmap(n, "keep-me", json!({}));
    keep_me["metadata"]["annotations"] = json!({format!("{GROUP}/prune"): "disabled"});
    let first = rm
        .apply_all_staged(
            vec![
                configmap(n, "stays", json!({})),
                configmap(n, "goes", json!({})),
                keep_me,
            ],
            &opts(),
        )
        .await
        .unwrap();
    // An object of another owner with the same name shape.
    let other = manager(&client, n, "someone-else");
    other
        .apply_all_staged(vec![configmap(n, "foreign", json!({}))], &opts())
        .await
        .unwrap();

    let second = rm
        .apply_all_staged(vec![configmap(n, "stays", json!({}))], &opts())
        .await
        .unwrap();
    let mut old = inventory::from_change_set(&first);
    old.push(inventory::Entry {
        id: format!("{n}_foreign__ConfigMap"),
        v: "v1".into(),
    });
    let stale = inventory::stale(&old, &inventory::from_change_set(&second));
    assert_eq!(
        stale.iter().map(ObjMetadata::subject).collect::<Vec<_>>(),
        vec![
            format!("ConfigMap/{n}/foreign"),
            format!("ConfigMap/{n}/goes"),
            format!("ConfigMap/{n}/keep-me"),
        ]
    );
    let cs = rm
        .delete_all(&stale, &rm.default_delete_options())
        .await
        .unwrap();
    let a = actions(&cs);
    assert_eq!(a[&format!("ConfigMap/{n}/goes")], "deleted");
    assert_eq!(a[&format!("ConfigMap/{n}/keep-me")], "skipped");
    assert_eq!(a[&format!("ConfigMap/{n}/foreign")], "skipped");
    rm.wait_for_termination(
        &[stale[1].clone()],
        WaitOptions {
            interval: Duration::from_millis(200),
            timeout: Duration::from_secs(30),
            fail_fast: false,
        },
    )
    .await
    .unwrap();
    let api: Api<ConfigMap> = Api::namespaced(client, n);
    assert!(api.get_opt("goes").await.unwrap().is_none());
    assert!(api.get_opt("keep-me").await.unwrap().is_some());
    assert!(api.get_opt("foreign").await.unwrap().is_some());
    assert!(api.get_opt("stays").await.unwrap().is_some());
}

#[tokio::test]
async fn wait_for_set_sees_a_deployment_become_current() {
    let (_c, client, ns, rm) = setup("ssa-wait").await;
    let n = &ns.name;
    let cs = rm
        .apply_all_staged(vec![deployment(n, "web", 2), service(n, "web")], &opts())
        .await
        .unwrap();
    rm.wait_for_set(
        &cs.objects(),
        WaitOptions {
            interval: Duration::from_millis(500),
            timeout: Duration::from_secs(90),
            fail_fast: true,
        },
    )
    .await
    .unwrap();
    let d: Deployment = Api::namespaced(client, n).get("web").await.unwrap();
    assert_eq!(d.status.unwrap().ready_replicas, Some(2));
}

#[tokio::test]
async fn wait_for_set_times_out_listing_what_is_not_ready() {
    let (cluster, _client, ns, rm) = setup("ssa-wait-timeout").await;
    let n = &ns.name;
    let crd = TestCrd::new(&cluster, n);
    let pvc = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": {"name": "data", "namespace": n},
        "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "none-here",
                 "resources": {"requests": {"storage": "1Gi"}}}});
    let not_ready = crd.widget(
        n,
        "sad",
        json!({"conditions": [{"type": "Ready", "status": "False", "reason": "Broken",
                               "message": "widget is broken"}]}),
    );
    let cs = rm
        .apply_all_staged(
            vec![
                crd.definition(),
                pvc,
                not_ready,
                configmap(n, "fine", json!({})),
            ],
            &opts(),
        )
        .await
        .unwrap();
    let objects: Vec<ObjMetadata> = cs
        .objects()
        .into_iter()
        .filter(|o| o.kind != "CustomResourceDefinition")
        .collect();
    let err = rm
        .wait_for_set(
            &objects,
            WaitOptions {
                interval: Duration::from_millis(300),
                timeout: Duration::from_secs(3),
                fail_fast: true,
            },
        )
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        format!(
            "timeout waiting for: [PersistentVolumeClaim/{n}/data status: 'InProgress': PVC is not Bound. phase: Pending, Widget/{n}/sad status: 'InProgress': widget is broken]"
        )
    );

    // A stalled object ends a fail-fast wait at once.
    let stalled = crd.widget(
        n,
        "stuck",
        json!({"conditions": [{"type": "Stalled", "status": "True", "reason": "Nope",
                               "message": "cannot make progress"}]}),
    );
    let cs = rm.apply_all_staged(vec![stalled], &opts()).await.unwrap();
    let start = std::time::Instant::now();
    let err = rm
        .wait_for_set(
            &cs.objects(),
            WaitOptions {
                interval: Duration::from_millis(300),
                timeout: Duration::from_secs(60),
                fail_fast: true,
            },
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(start.elapsed() < Duration::from_secs(30));
    assert_eq!(
        err,
        format!(
            "failed early due to stalled resources: [Widget/{n}/stuck status: 'Failed': cannot make progress]"
        )
    );
}

#[tokio::test]
async fn namespace_in_the_set_is_applied_before_its_objects() {
    let (_c, client, ns, rm) = setup("ssa-ns").await;
    let extra = format!("{}-extra", ns.name);
    // Deleted at the end like the test namespace (the guard only knows its own name).
    let _extra_guard = NamespaceGuard(extra.clone());
    let objects = vec![
        configmap(&extra, "inside", json!({})),
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": extra}}),
    ];
    let cs = rm.apply_all_staged(objects, &opts()).await.unwrap();
    assert_eq!(
        cs.summary(),
        format!("Namespace/{extra} created\nConfigMap/{extra}/inside created")
    );
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), &extra);
    wait_for(Duration::from_secs(5), || async {
        api.get_opt("inside").await.ok().flatten()
    })
    .await
    .unwrap();
}

struct NamespaceGuard(String);

impl Drop for NamespaceGuard {
    fn drop(&mut self) {
        let cluster = Cluster::shared().unwrap();
        let _ = Command::new(tool("kubectl"))
            .args([
                "delete",
                "namespace",
                &self.0,
                "--wait=false",
                "--ignore-not-found",
            ])
            .env("KUBECONFIG", &cluster.kubeconfig)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

#[tokio::test]
async fn secret_with_string_data_converges_to_unchanged() {
    let (_c, _client, ns, rm) = setup("ssa-secret").await;
    let n = &ns.name;
    let secret = json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "creds", "namespace": n},
        "type": "Opaque", "stringData": {"user": "admin"}});
    let cs = rm
        .apply_all_staged(vec![secret.clone()], &opts())
        .await
        .unwrap();
    assert_eq!(cs.summary(), format!("Secret/{n}/creds created"));
    let cs = rm.apply_all_staged(vec![secret], &opts()).await.unwrap();
    assert_eq!(cs.summary(), format!("Secret/{n}/creds unchanged"));
}

#[tokio::test]
async fn cluster_scoped_object_ignores_a_namespace_and_keeps_colons_in_ids() {
    let (cluster, client, ns, rm) = setup("ssa-cluster").await;
    let n = &ns.name;
    let name = format!("ferroflux:{n}:reader");
    let _guard = ClusterRoleGuard(name.clone(), cluster.kubeconfig.clone());
    // kustomize puts a namespace on every object of a kind it does not know is cluster-scoped.
    let role = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": name, "namespace": n},
        "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}]});
    let cs = rm.apply_all_staged(vec![role], &opts()).await.unwrap();
    assert_eq!(cs.summary(), format!("ClusterRole/{name} created"));
    let inv = inventory::from_change_set(&cs);
    assert_eq!(
        inv[0].id,
        format!("_ferroflux__{n}__reader_rbac.authorization.k8s.io_ClusterRole")
    );
    // The id parses back to the object, so prune finds and deletes it.
    let stale = inventory::stale(&inv, &[]);
    let deleted = rm
        .delete_all(&stale, &rm.default_delete_options())
        .await
        .unwrap();
    assert_eq!(deleted.summary(), format!("ClusterRole/{name} deleted"));
    let api: Api<k8s_openapi::api::rbac::v1::ClusterRole> = Api::all(client);
    wait_for(Duration::from_secs(10), || async {
        api.get_opt(&name).await.unwrap().is_none().then_some(())
    })
    .await
    .unwrap();
}

struct ClusterRoleGuard(String, std::path::PathBuf);

impl Drop for ClusterRoleGuard {
    fn drop(&mut self) {
        let _ = Command::new(tool("kubectl"))
            .args(["delete", "clusterrole", &self.0, "--ignore-not-found"])
            .env("KUBECONFIG", &self.1)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

#[tokio::test]
async fn object_first_applied_by_kubectl_is_taken_over_completely() {
    let (cluster, client, ns, rm) = setup("ssa-adopt").await;
    let n = &ns.name;
    // Client-side `kubectl apply` of a version with a key that Git no longer has.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cm.json");
    std::fs::write(
        &file,
        configmap(n, "cfg", json!({"keep": "1", "old": "gone-in-git"})).to_string(),
    )
    .unwrap();
    cluster
        .kubectl(&["apply", "-f", file.to_str().unwrap()])
        .unwrap();
    let api: Api<ConfigMap> = Api::namespaced(client, n);
    let before = api.get("cfg").await.unwrap();
    assert!(
        before
            .metadata
            .annotations
            .unwrap()
            .contains_key("kubectl.kubernetes.io/last-applied-configuration")
    );

    let cs = rm
        .apply_all_staged(vec![configmap(n, "cfg", json!({"keep": "1"}))], &opts())
        .await
        .unwrap();
    assert_eq!(cs.summary(), format!("ConfigMap/{n}/cfg configured"));
    let after = api.get("cfg").await.unwrap();
    assert_eq!(
        after.data.unwrap(),
        BTreeMap::from([("keep".to_string(), "1".to_string())])
    );
    assert!(
        !after
            .metadata
            .annotations
            .unwrap_or_default()
            .contains_key("kubectl.kubernetes.io/last-applied-configuration")
    );
    assert_eq!(
        after.metadata.labels.unwrap()[&format!("{GROUP}/name")],
        "apps"
    );
}

#[tokio::test]
async fn shared_discovery_cache_notices_a_deleted_crd() {
    let (cluster, client, ns, _rm) = setup("ssa-cache").await;
    let n = &ns.name;
    let cache = ferroflux_ssa::DiscoveryCache::default();
    let rm = manager(&client, n, "apps").with_discovery_cache(cache.clone());
    let crd = TestCrd::new(&cluster, n);
    rm.apply_all_staged(
        vec![crd.definition(), crd.widget(n, "w", json!({}))],
        &opts(),
    )
    .await
    .unwrap();

    cluster
        .kubectl(&["delete", "crd", &crd.name(), "--wait=true"])
        .unwrap();
    // The kind is still in the cache; the next run must report it as unknown, not as a
    // confusing 404.
    let again = manager(&client, n, "apps").with_discovery_cache(cache);
    let err = wait_for(Duration::from_secs(20), || async {
        let r = again
            .apply_all_staged(vec![crd.widget(n, "w", json!({}))], &opts())
            .await;
        r.err()
            .map(|e| e.to_string())
            .filter(|e| e.contains("no matches"))
    })
    .await
    .unwrap();
    assert_eq!(
        err,
        format!(
            "Widget/{n}/w dry-run failed: no matches for kind \"Widget\" in version \"{}/v1\"",
            crd.group
        )
    );
}

#[tokio::test]
async fn invalid_object_in_a_later_stage_keeps_the_first_stage_unapplied() {
    let (_c, client, ns, rm) = setup("ssa-nothing").await;
    let n = &ns.name;
    let extra = format!("{n}-never");
    let _guard = NamespaceGuard(extra.clone());
    let mut bad = deployment(n, "bad", 1);
    bad["spec"]["replicas"] = json!(-1);
    let err = rm
        .apply_all_staged(
            vec![
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": extra}}),
                configmap(&extra, "inside", json!({})),
                bad,
            ],
            &opts(),
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(&format!("Deployment/{n}/bad dry-run failed (Invalid): ")),
        "{err}"
    );
    let namespaces: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client);
    assert!(namespaces.get_opt(&extra).await.unwrap().is_none());
}

#[tokio::test]
async fn deployment_past_its_progress_deadline_fails_the_wait_early() {
    let (_c, _client, ns, rm) = setup("ssa-deadline").await;
    let n = &ns.name;
    // Its pods can never be scheduled (no node has this label), so the rollout stalls and the
    // deployment controller reports ProgressDeadlineExceeded after a second.
    let mut stuck = deployment(n, "stuck", 1);
    stuck["spec"]["progressDeadlineSeconds"] = json!(1);
    stuck["spec"]["template"]["spec"]["nodeSelector"] = json!({"ferroflux.dev/nowhere": "true"});
    let cs = rm.apply_all_staged(vec![stuck], &opts()).await.unwrap();
    let start = std::time::Instant::now();
    let err = rm
        .wait_for_set(
            &cs.objects(),
            WaitOptions {
                interval: Duration::from_millis(500),
                timeout: Duration::from_secs(120),
                fail_fast: true,
            },
        )
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        format!(
            "failed early due to stalled resources: [Deployment/{n}/stuck status: 'Failed': Progress deadline exceeded]"
        )
    );
    assert!(start.elapsed() < Duration::from_secs(100));
}

#[tokio::test]
async fn reconcile_disabled_on_the_live_object_stops_apply() {
    let (cluster, client, ns, rm) = setup("ssa-disabled").await;
    let n = &ns.name;
    rm.apply_all_staged(vec![configmap(n, "cfg", json!({"k": "1"}))], &opts())
        .await
        .unwrap();
    cluster
        .kubectl(&[
            "annotate",
            "-n",
            n,
            "configmap/cfg",
            &format!("{GROUP}/reconcile=disabled"),
        ])
        .unwrap();
    cluster
        .kubectl(&[
            "patch",
            "-n",
            n,
            "configmap/cfg",
            "--type=merge",
            "-p",
            r#"{"data":{"k":"hand-made"}}"#,
        ])
        .unwrap();
    let cs = rm
        .apply_all_staged(vec![configmap(n, "cfg", json!({"k": "1"}))], &opts())
        .await
        .unwrap();
    assert_eq!(cs.summary(), format!("ConfigMap/{n}/cfg skipped"));
    let api: Api<ConfigMap> = Api::namespaced(client, n);
    assert_eq!(
        api.get("cfg").await.unwrap().data.unwrap()["k"],
        "hand-made"
    );
}

#[tokio::test]
async fn diff_reports_drift_without_writing() {
    let (cluster, client, ns, rm) = setup("ssa-diff").await;
    let n = &ns.name;
    let objects = vec![
        deployment(n, "web", 1),
        configmap(n, "cfg", json!({"k": "1"})),
    ];
    rm.apply_all_staged(objects.clone(), &opts()).await.unwrap();
    let diff = rm.diff_all(objects.clone(), &opts()).await.unwrap();
    assert!(
        diff.iter().all(|e| e.action == Action::Unchanged),
        "{diff:?}"
    );

    cluster
        .kubectl(&["scale", "-n", n, "deployment/web", "--replicas=3"])
        .unwrap();
    let mut with_new = objects;
    with_new.push(configmap(n, "new", json!({})));
    let diff = rm.diff_all(with_new, &opts()).await.unwrap();
    let by_subject: BTreeMap<String, (Action, Vec<String>)> = diff
        .into_iter()
        .map(|e| (e.object.subject(), (e.action, e.paths)))
        .collect();
    assert_eq!(
        by_subject[&format!("Deployment/{n}/web")],
        (Action::Configured, vec!["/spec/replicas".to_string()])
    );
    assert_eq!(
        by_subject[&format!("ConfigMap/{n}/cfg")].0,
        Action::Unchanged
    );
    assert_eq!(by_subject[&format!("ConfigMap/{n}/new")].0, Action::Created);
    // Nothing was written.
    let d: Deployment = Api::namespaced(client.clone(), n).get("web").await.unwrap();
    assert_eq!(d.spec.replicas, Some(3));
    let cms: Api<ConfigMap> = Api::namespaced(client, n);
    assert!(cms.get_opt("new").await.unwrap().is_none());
}

#[tokio::test]
async fn ignore_rules_keep_live_values_and_release_fields_to_another_applier() {
    use ferroflux_ssa::ignore::{IgnoreRule, IgnoreRules, Selector};
    use kube::api::{Patch, PatchParams};
    let (_c, client, ns, rm) = setup("ssa-ignore").await;
    let n = &ns.name;
    let objects = vec![
        deployment(n, "web", 1),
        configmap(n, "cfg", json!({"managed": "git", "shared": "git"})),
    ];
    let ignoring = ApplyOptions {
        ignore: IgnoreRules::new(vec![
            IgnoreRule {
                paths: vec!["/spec/replicas".into()],
                target: Some(Selector {
                    kind: Some("Deployment".into()),
                    ..Default::default()
                }),
            },
            IgnoreRule {
                paths: vec!["/data/shared".into()],
                target: Some(Selector {
                    kind: Some("ConfigMap".into()),
                    label_selector: Some(format!("{GROUP}/name=apps")),
                    ..Default::default()
                }),
            },
        ])
        .unwrap(),
        ..opts()
    };
    // Created whole, ignored fields included.
    let cs = rm
        .apply_all_staged(objects.clone(), &ignoring)
        .await
        .unwrap();
    assert!(cs.entries.iter().all(|e| e.action == Action::Created));
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), n);
    let deploys: Api<Deployment> = Api::namespaced(client.clone(), n);
    // An autoscaler applies replicas; someone updates the shared key.
    deploys
        .patch(
            "web",
            &PatchParams::apply("autoscaler").force(),
            &Patch::Apply(json!({"apiVersion": "apps/v1", "kind": "Deployment",
                                 "metadata": {"name": "web"}, "spec": {"replicas": 4}})),
        )
        .await
        .unwrap();
    cms.patch(
        "cfg",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"shared": "edited"}})),
    )
    .await
    .unwrap();
    // Only ignored fields differ: no drift, nothing written.
    let diff = rm.diff_all(objects.clone(), &ignoring).await.unwrap();
    assert!(
        diff.iter().all(|d| d.action == Action::Unchanged),
        "{diff:?}"
    );
    let cs = rm
        .apply_all_staged(objects.clone(), &ignoring)
        .await
        .unwrap();
    assert!(
        cs.entries.iter().all(|e| e.action == Action::Unchanged),
        "{}",
        cs.summary()
    );
    // Without the rules both count as drift.
    let diff = rm.diff_all(objects.clone(), &opts()).await.unwrap();
    let paths: Vec<String> = diff.iter().flat_map(|d| d.paths.clone()).collect();
    assert!(paths.contains(&"/spec/replicas".to_string()), "{paths:?}");
    assert!(paths.contains(&"/data/shared".to_string()), "{paths:?}");

    // A change elsewhere is applied and the ignored values stay.
    let changed = vec![
        deployment(n, "web", 1),
        configmap(n, "cfg", json!({"managed": "git2", "shared": "git"})),
    ];
    let cs = rm.apply_all_staged(changed, &ignoring).await.unwrap();
    assert_eq!(
        cs.summary(),
        format!("ConfigMap/{n}/cfg configured\nDeployment/{n}/web unchanged")
    );
    let data = cms.get("cfg").await.unwrap().data.unwrap();
    assert_eq!(
        (data["managed"].as_str(), data["shared"].as_str()),
        ("git2", "edited")
    );
    let d = deploys.get("web").await.unwrap();
    assert_eq!(d.spec.replicas, Some(4));
}
