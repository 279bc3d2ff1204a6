//! The three controller binaries against the local control plane: health, metrics scraped by a
//! real Prometheus, leader election fail-over, and clear failures on bad input.

use std::time::{Duration, Instant};

use ferroflux_api::source::v1::GitRepository;
use ferroflux_e2e::gitserver::{GitDaemon, TestRepo};
use ferroflux_e2e::prometheus::Prometheus;
use ferroflux_e2e::{Cluster, ControllerProcess, TestNamespace, wait_for};
use k8s_openapi::api::coordination::v1::Lease;
use kube::api::Api;

const CONTROLLERS: [&str; 3] = [
    "source-controller",
    "kustomize-controller",
    "helm-controller",
];

async fn status_of(url: &str) -> Option<u16> {
    reqwest::get(url).await.ok().map(|r| r.status().as_u16())
}

async fn wait_ready(c: &mut ControllerProcess) {
    let url = c.health_url("/readyz");
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Some(status) = c.try_wait() {
            panic!(
                "{} exited with {status} before becoming ready:\n{}",
                c.name,
                c.logs()
            );
        }
        if status_of(&url).await == Some(200) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("{} did not become ready:\n{}", c.name, c.logs());
}

#[tokio::test(flavor = "multi_thread")]
async fn controllers_serve_health_and_metrics_scraped_by_prometheus() {
    let cluster = Cluster::shared().unwrap();
    let client = cluster.client().await.unwrap();
    let ns = TestNamespace::create(&client, &cluster, "metrics")
        .await
        .unwrap();
    let mut procs = Vec::new();
    for name in CONTROLLERS {
        procs.push(
            ControllerProcess::start(
                name,
                &cluster.kubeconfig,
                &ns.name,
                &["--enable-leader-election".into()],
            )
            .unwrap(),
        );
    }
    for p in &mut procs {
        wait_ready(p).await;
        assert_eq!(
            status_of(&p.health_url("/healthz")).await,
            Some(200),
            "{} /healthz",
            p.name
        );
        let body = reqwest::get(p.metrics_url())
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        for metric in [
            "process_resident_memory_bytes",
            "process_open_fds",
            "process_cpu_seconds_total",
            // controller-runtime's client metric, which Flux's controllers export too.
            "rest_client_requests_total{code=\"200\"",
        ] {
            assert!(
                body.contains(metric),
                "{} does not export {metric}:\n{body}",
                p.name
            );
        }
    }
    let targets: Vec<String> = procs
        .iter()
        .map(|p| format!("127.0.0.1:{}", p.metrics_port))
        .collect();
    let prom = Prometheus::start(&targets).unwrap();
    let up = prom
        .wait_for_series("up == 1", 3, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(up.len(), 3, "every controller is scraped: {up:?}");
    let rss = prom
        .wait_for_series("process_resident_memory_bytes", 3, Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(rss.len(), 3);
    // Each controller holds its own lease once leading.
    let leases: Api<Lease> = Api::namespaced(client.clone(), &ns.name);
    for name in CONTROLLERS {
        let lease = wait_for(Duration::from_secs(30), || async {
            leases
                .get(&format!("{name}-leader-election"))
                .await
                .ok()
                .filter(|l| {
                    l.spec
                        .as_ref()
                        .and_then(|s| s.holder_identity.as_deref())
                        .is_some_and(|h| !h.is_empty())
                })
        })
        .await;
        assert!(lease.is_ok(), "{name} took no lease");
    }

    // A reconcile shows up in Flux's metrics: a GitRepository against a real git daemon.
    let mut repo = TestRepo::new("metrics").unwrap();
    repo.write("a.yaml", "kind: ConfigMap\n").unwrap();
    repo.commit("one").unwrap();
    let served = tempfile::tempdir().unwrap();
    repo.publish_to(served.path()).unwrap();
    let daemon = GitDaemon::start(served.path()).unwrap();
    let repos: Api<GitRepository> = Api::namespaced(client.clone(), &ns.name);
    let obj: GitRepository = serde_json::from_value(serde_json::json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
        "metadata": {"name": "metrics", "namespace": ns.name},
        "spec": {"interval": "10m", "url": daemon.url_for("metrics"), "ref": {"branch": "main"}},
    }))
    .unwrap();
    repos.create(&Default::default(), &obj).await.unwrap();
    let q = format!(
        "gotk_reconcile_duration_seconds_count{{kind=\"GitRepository\",name=\"metrics\",namespace=\"{}\"}}",
        ns.name
    );
    prom.wait_for_series(&q, 1, Duration::from_secs(60))
        .await
        .unwrap();
    let totals = prom
        .wait_for_series(
            // A Flux reconcile that succeeds requeues after its interval: result requeue_after.
            "sum(controller_runtime_reconcile_total{controller=\"gitrepository\",result=~\"success|requeue_after\"}) > 0",
            1,
            Duration::from_secs(30),
        )
        .await
        .unwrap();
    assert_eq!(totals.len(), 1);
}

fn holder(lease: &Lease) -> String {
    lease
        .spec
        .as_ref()
        .and_then(|s| s.holder_identity.clone())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_standby_replica_takes_over_within_the_lease_duration() {
    let cluster = Cluster::shared().unwrap();
    let client = cluster.client().await.unwrap();
    let ns = TestNamespace::create(&client, &cluster, "leader")
        .await
        .unwrap();
    let lease_duration = Duration::from_secs(8);
    let flags: Vec<String> = [
        "--enable-leader-election",
        "--leader-election-lease-duration=8s",
        "--leader-election-renew-deadline=6s",
        "--leader-election-retry-period=1s",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let a = ControllerProcess::start("source-controller", &cluster.kubeconfig, &ns.name, &flags)
        .unwrap();
    let leases: Api<Lease> = Api::namespaced(client.clone(), &ns.name);
    let lease_name = "source-controller-leader-election";
    let first = wait_for(Duration::from_secs(30), || async {
        leases
            .get(lease_name)
            .await
            .ok()
            .map(|l| holder(&l))
            .filter(|h| !h.is_empty())
    })
    .await
    .unwrap_or_else(|e| panic!("no leader: {e}\n{}", a.logs()));
    let mut b =
        ControllerProcess::start("source-controller", &cluster.kubeconfig, &ns.name, &flags)
            .unwrap();
    wait_ready(&mut b).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        holder(&leases.get(lease_name).await.unwrap()),
        first,
        "the standby must not steal a live lease"
    );

    // Kill the leader without letting it release the lease: the standby waits for expiry.
    a.signal("KILL");
    let killed = Instant::now();
    let second = wait_for(lease_duration * 2, || async {
        leases
            .get(lease_name)
            .await
            .ok()
            .map(|l| holder(&l))
            .filter(|h| !h.is_empty() && h != &first)
    })
    .await
    .unwrap_or_else(|e| panic!("standby did not take over: {e}\n{}", b.logs()));
    let took = killed.elapsed();
    assert!(
        took <= lease_duration + Duration::from_secs(3),
        "took over after {took:?}, lease duration {lease_duration:?}"
    );
    assert_ne!(second, first);
    let lease = leases.get(lease_name).await.unwrap();
    assert!(
        lease.spec.and_then(|s| s.lease_transitions).unwrap_or(0) >= 1,
        "transition recorded"
    );

    // A graceful stop releases the lease at once (release-on-cancel), and exits 0.
    let status = b.stop(Duration::from_secs(10)).unwrap();
    assert!(
        status.success(),
        "graceful shutdown exits 0, got {status:?}"
    );
    let released = leases.get(lease_name).await.unwrap();
    assert!(
        holder(&released).is_empty(),
        "lease released on SIGTERM, holder {:?}",
        holder(&released)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_gives_a_clear_error_and_non_zero_exit() {
    let cluster = Cluster::shared().unwrap();
    let dir = tempfile::tempdir().unwrap();

    // Invalid flag values.
    for (flag, expect) in [
        ("--log-encoding=xml", "log-encoding"),
        ("--interval-jitter-percentage=150", "jitter"),
        ("--min-retry-delay=soon", "min-retry-delay"),
        ("--feature-gates=NoSuchGate=true", "NoSuchGate"),
    ] {
        let mut p = ControllerProcess::start(
            "kustomize-controller",
            &cluster.kubeconfig,
            "default",
            &[flag.into()],
        )
        .unwrap();
        let status = p
            .wait_exit(Duration::from_secs(20))
            .await
            .unwrap_or_else(|| panic!("{flag}: still running"));
        assert!(!status.success(), "{flag} must fail");
        let logs = p.logs();
        assert!(
            logs.to_lowercase().contains(&expect.to_lowercase()),
            "{flag}: unclear error:\n{logs}"
        );
        assert!(!logs.contains("panicked"), "{flag}: panicked:\n{logs}");
    }

    // An unreachable API server.
    let port = ferroflux_e2e::free_port().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:{port}\n    insecure-skip-tls-verify: true\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\ncurrent-context: c\nusers:\n- name: u\n  user:\n    token: x\n"
        ),
    )
    .unwrap();
    let mut p = ControllerProcess::start("helm-controller", &kubeconfig, "default", &[]).unwrap();
    let status = p
        .wait_exit(Duration::from_secs(60))
        .await
        .expect("still running with an unreachable API server");
    assert!(!status.success());
    let logs = p.logs();
    assert!(
        logs.contains(&port.to_string()) || logs.to_lowercase().contains("api server"),
        "unclear error:\n{logs}"
    );
    assert!(!logs.contains("panicked"), "panicked:\n{logs}");
}
