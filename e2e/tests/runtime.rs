//! The runtime library's pieces that need a real API server: the generic reconcile wrapper on
//! GitRepository with a tiny test-only reconciler (finalizer, status, Ready summary, backoff,
//! stalling, suspend, requestedAt, events, deletion), Lease leader election with two
//! candidates, the manager's lifecycle, Event aggregation and the start-up checks.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test file: failing loudly is the point

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::routing::post;
use ferroflux_api::conditions::{ARTIFACT_IN_STORAGE, FETCH_FAILED, READY, RECONCILING, STALLED};
use ferroflux_api::meta::{ConditionStatus, RECONCILE_REQUEST_ANNOTATION};
use ferroflux_api::source::v1::{GitRepository, GitRepositorySpec};
use ferroflux_e2e::{Cluster, TestNamespace, free_port, wait_for};
use ferroflux_runtime::conditions::{self, Polarity};
use ferroflux_runtime::events::{EventRecorder, EventType, FluxEvent, revision_annotations};
use ferroflux_runtime::flags::{RetryConfig, RuntimeConfig, WatchConfig};
use ferroflux_runtime::health::Health;
use ferroflux_runtime::kube_client::{self, CrdRef};
use ferroflux_runtime::leader::{HoldOutcome, LeaderElector};
use ferroflux_runtime::metrics::Metrics;
use ferroflux_runtime::reconcile::{
    self, Outcome, ReconcileContext, ReconcileError, Reconciler, SharedContext,
};
use ferroflux_runtime::{FluxObject, Manager};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::Event;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};

const GROUP: &str = "source.toolkit.fluxcd.io";

fn cluster() -> Cluster {
    Cluster::shared().unwrap()
}

#[derive(Clone, Default)]
struct TestReconciler {
    calls: Arc<AtomicUsize>,
    finalized: Arc<AtomicUsize>,
}

impl Reconciler<GitRepository> for TestReconciler {
    const POLARITY: Polarity = Polarity {
        negative: &[FETCH_FAILED],
        positive: &[],
    };

    async fn reconcile(
        &self,
        obj: &mut GitRepository,
        ctx: &ReconcileContext,
    ) -> Result<Outcome, ReconcileError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let generation = obj.metadata.generation;
        let url = obj.spec.url.clone();
        if url.contains("stall") {
            return Err(ReconcileError::stalling(
                "URLInvalid",
                format!("invalid URL {url}"),
            ));
        }
        if url.contains("fail") {
            conditions::mark_true(
                obj.conditions_mut(),
                FETCH_FAILED,
                "GitOperationFailed",
                "failed to checkout",
                generation,
            );
            return Err(ReconcileError::generic(
                "GitOperationFailed",
                "failed to checkout and determine revision",
            ));
        }
        conditions::remove(obj.conditions_mut(), FETCH_FAILED);
        conditions::mark_true(
            obj.conditions_mut(),
            ARTIFACT_IN_STORAGE,
            "Succeeded",
            "stored artifact",
            generation,
        );
        ctx.event(
            obj,
            EventType::Normal,
            "NewArtifact",
            "stored artifact for commit 'init'",
            revision_annotations(GROUP, "main@sha1:abc", Some("sha256:def")),
        );
        Ok(Outcome::ready(
            "Succeeded",
            "stored artifact for revision 'main@sha1:abc'",
        ))
    }

    async fn finalize(
        &self,
        _obj: &GitRepository,
        _ctx: &ReconcileContext,
    ) -> Result<(), ReconcileError> {
        self.finalized.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

#[derive(Clone, Default)]
struct Sink(Arc<Mutex<Vec<FluxEvent>>>);

async fn receive(
    State(sink): State<Sink>,
    axum::Json(e): axum::Json<FluxEvent>,
) -> axum::http::StatusCode {
    sink.0.lock().unwrap().push(e);
    axum::http::StatusCode::ACCEPTED
}

async fn event_sink() -> (Sink, String) {
    let sink = Sink::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let app = Router::new()
        .route("/", post(receive))
        .with_state(sink.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (sink, url)
}

fn ready(repo: &GitRepository) -> Option<(ConditionStatus, String, String)> {
    conditions::get(repo.conditions(), READY)
        .map(|c| (c.status, c.reason.clone(), c.message.clone()))
}

fn repo(name: &str, url: &str) -> GitRepository {
    GitRepository::new(
        name,
        GitRepositorySpec {
            url: url.into(),
            interval: "1m".into(),
            ..Default::default()
        },
    )
}

async fn patch_spec(api: &Api<GitRepository>, name: &str, patch: serde_json::Value) {
    api.patch(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn reconcile_wrapper_drives_a_git_repository() {
    ferroflux_e2e::install_rustls();
    let cluster = cluster();
    let client = cluster.client().await.unwrap();
    let ns = TestNamespace::create(&client, &cluster, "rt-reconcile")
        .await
        .unwrap();
    let (sink, webhook) = event_sink().await;
    let config = RuntimeConfig {
        watch: WatchConfig {
            namespace: Some(ns.name.clone()),
            label_selector: None,
        },
        interval_jitter_percentage: 0,
        retry: RetryConfig {
            min: Duration::from_millis(200),
            max: Duration::from_secs(1),
        },
        events_addr: Some(webhook.clone()),
        ..RuntimeConfig::default()
    };
    let metrics = Metrics::new().unwrap();
    metrics.register_controller("gitrepository", 4);
    let shared = SharedContext {
        client: client.clone(),
        config: Arc::new(config),
        events: EventRecorder::new(Some(client.clone()), "source-controller", Some(webhook)),
        metrics: metrics.clone(),
        controller_name: Arc::from("source-controller"),
    };
    let health = Health::new();
    let cache = health.register_cache("gitrepository");
    health.set_started();
    let rec = TestReconciler::default();
    let (stop_tx, stop_rx) = futures::channel::oneshot::channel::<()>();
    let controller = tokio::spawn(reconcile::run::<GitRepository, _>(
        shared,
        rec.clone(),
        cache,
        async move {
            let _ = stop_rx.await;
        },
    ));

    let api: Api<GitRepository> = Api::namespaced(client.clone(), &ns.name);
    api.create(
        &PostParams::default(),
        &repo("podinfo", "https://example.com/ok"),
    )
    .await
    .unwrap();

    // Success: finalizer, Ready=True with the reconciler's message, observedGeneration.
    let got = wait_for(Duration::from_secs(30), || async {
        let r = api.get("podinfo").await.ok()?;
        (ready(&r)?.0 == ConditionStatus::True).then_some(r)
    })
    .await
    .expect("Ready=True");
    wait_for(Duration::from_secs(5), || async { health.readiness().ok() })
        .await
        .expect("cache synced");
    assert_eq!(
        got.metadata.finalizers.clone().unwrap_or_default(),
        vec!["finalizers.fluxcd.io".to_string()]
    );
    assert_eq!(
        ready(&got).unwrap(),
        (
            ConditionStatus::True,
            "Succeeded".into(),
            "stored artifact for revision 'main@sha1:abc'".into()
        )
    );
    assert_eq!(got.observed_generation(), got.metadata.generation);
    assert!(
        got.conditions()
            .iter()
            .all(|c| c.observed_generation == got.metadata.generation)
    );
    assert!(
        conditions::get(got.conditions(), RECONCILING).is_none(),
        "Reconciling removed on success"
    );
    assert!(conditions::is_true(got.conditions(), ARTIFACT_IN_STORAGE));
    let status = got.status.clone().unwrap();
    assert_eq!(
        status.conditions.first().map(|c| c.type_.as_str()),
        Some(READY),
        "Ready sorts first"
    );

    // The reconciler's event reached the API and notification-controller's endpoint.
    let events: Api<Event> = Api::namespaced(client.clone(), &ns.name);
    let ev = wait_for(Duration::from_secs(10), || async {
        let list = events
            .list(&ListParams::default().fields("involvedObject.name=podinfo"))
            .await
            .ok()?;
        list.items
            .into_iter()
            .find(|e| e.reason.as_deref() == Some("NewArtifact"))
    })
    .await
    .expect("NewArtifact Event");
    assert_eq!(ev.type_.as_deref(), Some("Normal"));
    assert_eq!(ev.reporting_component.as_deref(), Some("source-controller"));
    assert_eq!(ev.involved_object.kind.as_deref(), Some("GitRepository"));
    assert_eq!(
        ev.metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get("source.toolkit.fluxcd.io/revision"))
            .map(String::as_str),
        Some("main@sha1:abc")
    );
    let forwarded = wait_for(Duration::from_secs(10), || async {
        sink.0
            .lock()
            .unwrap()
            .iter()
            .find(|e| e.reason == "NewArtifact")
            .cloned()
    })
    .await
    .expect("forwarded NewArtifact");
    assert_eq!(forwarded.severity, "info");
    assert_eq!(forwarded.involved_object.namespace, ns.name);
    assert_eq!(
        forwarded
            .metadata
            .get("source.toolkit.fluxcd.io/revision")
            .map(String::as_str),
        Some("main@sha1:abc")
    );

    // Our own status patches do not trigger reconciles: the count stays put until the interval.
    let calls = rec.calls.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        rec.calls.load(Ordering::SeqCst),
        calls,
        "no reconcile loop on status updates"
    );

    // Failure: Ready=False from the owned negative condition, retried with backoff.
    patch_spec(
        &api,
        "podinfo",
        serde_json::json!({"spec": {"url": "https://example.com/fail"}}),
    )
    .await;
    let failed = wait_for(Duration::from_secs(30), || async {
        let r = api.get("podinfo").await.ok()?;
        (ready(&r)?.1 == "GitOperationFailed").then_some(r)
    })
    .await
    .expect("Ready=False GitOperationFailed");
    assert_eq!(
        ready(&failed).unwrap(),
        (
            ConditionStatus::False,
            "GitOperationFailed".into(),
            "failed to checkout".into()
        )
    );
    let reconciling =
        conditions::get(failed.conditions(), RECONCILING).expect("Reconciling on a new generation");
    assert_eq!(reconciling.reason, "ProgressingWithRetry");
    assert_ne!(
        failed.observed_generation(),
        failed.metadata.generation,
        "failed generation not observed"
    );
    let before = rec.calls.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let retries = rec.calls.load(Ordering::SeqCst) - before;
    assert!(
        (2..=12).contains(&retries),
        "backoff retries in 3s: {retries}"
    );
    let warning = wait_for(Duration::from_secs(10), || async {
        let list = events
            .list(&ListParams::default().fields("involvedObject.name=podinfo"))
            .await
            .ok()?;
        list.items
            .into_iter()
            .find(|e| e.reason.as_deref() == Some("GitOperationFailed"))
    })
    .await
    .expect("Warning event");
    assert_eq!(warning.type_.as_deref(), Some("Warning"));
    let text = metrics.render().unwrap();
    assert!(
        text.contains("controller_runtime_reconcile_errors_total{controller=\"gitrepository\"}"),
        "{text}"
    );
    assert!(
        !text.contains("controller_runtime_reconcile_errors_total{controller=\"gitrepository\"} 0"),
        "{text}"
    );
    assert!(
        text.contains(
            "gotk_reconcile_duration_seconds_count{kind=\"GitRepository\",name=\"podinfo\""
        ),
        "{text}"
    );

    // Stalling: Stalled=True, generation observed, no more retries.
    patch_spec(
        &api,
        "podinfo",
        serde_json::json!({"spec": {"url": "https://example.com/stall"}}),
    )
    .await;
    let stalled = wait_for(Duration::from_secs(30), || async {
        let r = api.get("podinfo").await.ok()?;
        conditions::is_true(r.conditions(), STALLED).then_some(r)
    })
    .await
    .expect("Stalled=True");
    assert_eq!(ready(&stalled).unwrap().1, "URLInvalid");
    assert!(conditions::get(stalled.conditions(), RECONCILING).is_none());
    assert_eq!(stalled.observed_generation(), stalled.metadata.generation);
    let before = rec.calls.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        rec.calls.load(Ordering::SeqCst),
        before,
        "a stalled object is not retried"
    );

    // Suspended: no reconcile, but the request is recorded.
    patch_spec(
        &api,
        "podinfo",
        serde_json::json!({"metadata": {"annotations": {RECONCILE_REQUEST_ANNOTATION: "t1"}}, "spec": {"suspend": true, "url": "https://example.com/ok"}}),
    )
    .await;
    wait_for(Duration::from_secs(30), || async {
        let r = api.get("podinfo").await.ok()?;
        (r.last_handled_reconcile_at() == Some("t1")).then_some(())
    })
    .await
    .expect("lastHandledReconcileAt=t1 while suspended");
    assert_eq!(
        rec.calls.load(Ordering::SeqCst),
        before,
        "suspended objects are not reconciled"
    );

    // Resumed with `flux reconcile`: reconciled, Ready again, request recorded.
    patch_spec(
        &api,
        "podinfo",
        serde_json::json!({"metadata": {"annotations": {RECONCILE_REQUEST_ANNOTATION: "t2"}}, "spec": {"suspend": false}}),
    )
    .await;
    let resumed = wait_for(Duration::from_secs(30), || async {
        let r = api.get("podinfo").await.ok()?;
        (r.last_handled_reconcile_at() == Some("t2") && ready(&r)?.0 == ConditionStatus::True)
            .then_some(r)
    })
    .await
    .expect("Ready again after resume");
    assert!(conditions::get(resumed.conditions(), STALLED).is_none());
    assert!(conditions::get(resumed.conditions(), FETCH_FAILED).is_none());

    // A bare `flux reconcile` (annotation only, same generation) triggers a reconcile.
    let before = rec.calls.load(Ordering::SeqCst);
    patch_spec(
        &api,
        "podinfo",
        serde_json::json!({"metadata": {"annotations": {RECONCILE_REQUEST_ANNOTATION: "t3"}}}),
    )
    .await;
    wait_for(Duration::from_secs(30), || async {
        let r = api.get("podinfo").await.ok()?;
        (r.last_handled_reconcile_at() == Some("t3")).then_some(())
    })
    .await
    .expect("requestedAt handled");
    assert!(rec.calls.load(Ordering::SeqCst) > before);

    // Deletion: finalize runs, the finalizer goes, the object is gone.
    api.delete("podinfo", &DeleteParams::default())
        .await
        .unwrap();
    wait_for(Duration::from_secs(30), || async {
        api.get_opt("podinfo")
            .await
            .ok()
            .and_then(|o| o.is_none().then_some(()))
    })
    .await
    .expect("object deleted");
    assert_eq!(rec.finalized.load(Ordering::SeqCst), 1);

    // Graceful shutdown ends the controller.
    let _ = stop_tx.send(());
    tokio::time::timeout(Duration::from_secs(30), controller)
        .await
        .expect("controller stops")
        .unwrap();
}

fn lease_config(
    lease: u64,
    renew: u64,
    retry_ms: u64,
) -> ferroflux_runtime::flags::LeaderElectionConfig {
    ferroflux_runtime::flags::LeaderElectionConfig {
        enabled: true,
        lease_duration: Duration::from_secs(lease),
        renew_deadline: Duration::from_secs(renew),
        retry_period: Duration::from_millis(retry_ms),
        release_on_cancel: true,
    }
}

fn holder(l: &Lease) -> String {
    l.spec
        .as_ref()
        .and_then(|s| s.holder_identity.clone())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn lease_acquire_renew_takeover_release_and_loss() {
    ferroflux_e2e::install_rustls();
    let cluster = cluster();
    let client = cluster.client().await.unwrap();
    let ns = TestNamespace::create(&client, &cluster, "rt-lease")
        .await
        .unwrap();
    let leases: Api<Lease> = Api::namespaced(client.clone(), &ns.name);
    let name = "test-controller-leader-election";
    let cfg = lease_config(3, 2, 300);
    let mut a = LeaderElector::new(client.clone(), &ns.name, name, "a_1", cfg.clone());
    let mut b = LeaderElector::new(client.clone(), &ns.name, name, "b_1", cfg.clone());

    // A creates and holds; B must wait.
    assert!(a.try_acquire_or_renew().await.unwrap());
    assert!(!b.try_acquire_or_renew().await.unwrap());
    let first = leases.get(name).await.unwrap();
    assert_eq!(holder(&first), "a_1");
    assert_eq!(first.spec.as_ref().unwrap().lease_duration_seconds, Some(3));
    // A renews: renewTime moves, acquireTime and transitions stay.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert!(a.try_acquire_or_renew().await.unwrap());
    let renewed = leases.get(name).await.unwrap();
    let (s0, s1) = (first.spec.clone().unwrap(), renewed.spec.clone().unwrap());
    assert_eq!(s0.acquire_time, s1.acquire_time);
    assert_ne!(s0.renew_time, s1.renew_time);
    assert_eq!(s1.lease_transitions, Some(0));

    // A "crashes" (stops renewing): B takes over once the lease has not changed for 3s.
    let (_tx, mut rx) = tokio::sync::watch::channel(false);
    let start = Instant::now();
    assert!(b.acquire(&mut rx).await.unwrap());
    let took = start.elapsed();
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(8),
        "takeover after {took:?}"
    );
    let taken = leases.get(name).await.unwrap();
    assert_eq!(holder(&taken), "b_1");
    assert_eq!(taken.spec.unwrap().lease_transitions, Some(1));
    // A comes back: it must not steal the live lease.
    assert!(!a.try_acquire_or_renew().await.unwrap());

    // B releases: holder cleared, A takes it at once.
    b.release().await.unwrap();
    assert_eq!(holder(&leases.get(name).await.unwrap()), "");
    assert!(a.try_acquire_or_renew().await.unwrap());
    assert_eq!(
        leases
            .get(name)
            .await
            .unwrap()
            .spec
            .unwrap()
            .lease_transitions,
        Some(2)
    );

    // A holds; someone overwrites the lease: A loses it within the renew deadline.
    let hold = tokio::spawn(async move {
        let (_tx, mut rx) = tokio::sync::watch::channel(false);
        let outcome = a.hold(&mut rx).await;
        (outcome, Instant::now())
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut stolen = leases.get(name).await.unwrap();
    let spec = stolen.spec.as_mut().unwrap();
    spec.holder_identity = Some("intruder".into());
    spec.lease_duration_seconds = Some(3600);
    leases
        .replace(name, &PostParams::default(), &stolen)
        .await
        .unwrap();
    let stolen_at = Instant::now();
    let (outcome, at) = tokio::time::timeout(Duration::from_secs(10), hold)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(outcome, HoldOutcome::Lost);
    assert!(
        at.duration_since(stolen_at) <= Duration::from_secs(4),
        "lost after {:?}",
        at.duration_since(stolen_at)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn manager_without_controllers_serves_leads_and_releases_on_shutdown() {
    ferroflux_e2e::install_rustls();
    let cluster = cluster();
    let client = cluster.client().await.unwrap();
    let ns = TestNamespace::create(&client, &cluster, "rt-manager")
        .await
        .unwrap();
    let (metrics_port, health_port) = (free_port().unwrap(), free_port().unwrap());
    let config = RuntimeConfig {
        leader_election: lease_config(8, 6, 500),
        metrics_addr: Some(format!("127.0.0.1:{metrics_port}")),
        health_addr: format!("127.0.0.1:{health_port}"),
        runtime_namespace: Some(ns.name.clone()),
        ..RuntimeConfig::default()
    };
    let manager =
        Manager::with_client("test-controller", config, client.clone(), "test".into()).unwrap();
    let shutdown = manager.shutdown_signal();
    let stopper = manager.shutdown_handle();
    let run = tokio::spawn(manager.run());

    let readyz = format!("http://127.0.0.1:{health_port}/readyz");
    wait_for(Duration::from_secs(20), || async {
        let s = reqwest::get(&readyz).await.ok()?.status().as_u16();
        (s == 200).then_some(())
    })
    .await
    .expect("ready");
    let leases: Api<Lease> = Api::namespaced(client.clone(), &ns.name);
    let lease = wait_for(Duration::from_secs(20), || async {
        leases
            .get("test-controller-leader-election")
            .await
            .ok()
            .filter(|l| !holder(l).is_empty())
    })
    .await
    .expect("lease taken");
    assert!(
        holder(&lease).contains('_'),
        "hostname_uuid identity: {}",
        holder(&lease)
    );
    let body = reqwest::get(format!("http://127.0.0.1:{metrics_port}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(body.contains("process_resident_memory_bytes"), "{body}");

    assert!(!*shutdown.borrow());
    stopper.trigger();
    tokio::time::timeout(Duration::from_secs(20), run)
        .await
        .expect("run returns")
        .unwrap()
        .expect("Ok on shutdown");
    let released = leases.get("test-controller-leader-election").await.unwrap();
    assert_eq!(holder(&released), "", "released on shutdown");
    assert!(reqwest::get(&readyz).await.is_err(), "servers stopped");
}

#[tokio::test(flavor = "multi_thread")]
async fn events_aggregate_repeats() {
    ferroflux_e2e::install_rustls();
    let cluster = cluster();
    let client = cluster.client().await.unwrap();
    let ns = TestNamespace::create(&client, &cluster, "rt-events")
        .await
        .unwrap();
    let api: Api<GitRepository> = Api::namespaced(client.clone(), &ns.name);
    let obj = api
        .create(
            &PostParams::default(),
            &repo("agg", "https://example.com/ok"),
        )
        .await
        .unwrap();
    let rec = EventRecorder::new(Some(client.clone()), "source-controller", None);
    for _ in 0..3 {
        rec.record(
            &obj,
            EventType::Warning,
            "GitOperationFailed",
            "same failure",
            BTreeMap::new(),
        )
        .await;
    }
    rec.record(
        &obj,
        EventType::Normal,
        "NewArtifact",
        "other",
        BTreeMap::new(),
    )
    .await;
    let events: Api<Event> = Api::namespaced(client.clone(), &ns.name);
    let list = events
        .list(&ListParams::default().fields("involvedObject.name=agg"))
        .await
        .unwrap();
    let failures: Vec<&Event> = list
        .items
        .iter()
        .filter(|e| e.reason.as_deref() == Some("GitOperationFailed"))
        .collect();
    assert_eq!(failures.len(), 1, "{list:?}");
    assert_eq!(failures[0].count, Some(3));
    assert_eq!(failures[0].type_.as_deref(), Some("Warning"));
    assert_eq!(failures[0].involved_object.uid, obj.metadata.uid);
    assert_eq!(list.items.len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn startup_checks_name_what_is_missing() {
    ferroflux_e2e::install_rustls();
    let cluster = cluster();
    let client = cluster.client().await.unwrap();
    kube_client::check_crd(&client, &CrdRef::of::<GitRepository>())
        .await
        .expect("GitRepository CRD installed");
    let missing = CrdRef {
        group: "nothing.example.com".into(),
        version: "v1".into(),
        plural: "widgets".into(),
        kind: "Widget".into(),
    };
    let e = kube_client::check_crd(&client, &missing)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("widgets.nothing.example.com") && e.contains("Widget"),
        "{e}"
    );
    let wrong_plural = CrdRef {
        plural: "gitrepos".into(),
        ..CrdRef::of::<GitRepository>()
    };
    assert!(
        kube_client::check_crd(&client, &wrong_plural)
            .await
            .is_err()
    );
    let version = kube_client::check_reachable(&client, "cluster")
        .await
        .unwrap();
    assert!(version.starts_with('v'), "{version}");
}
