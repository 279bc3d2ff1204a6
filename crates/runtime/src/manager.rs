//! The manager a controller binary runs: client, start-up checks, metrics and health servers,
//! leader election, the registered controllers, and graceful shutdown on SIGTERM/SIGINT.
//!
//! Order of `run`: CRD checks → metrics and health servers (always on, also on a standby) →
//! lease (when `--enable-leader-election`) → controllers. On SIGTERM: controllers stop taking
//! work and finish in-flight reconciles (up to [`GRACEFUL_SHUTDOWN_TIMEOUT`]), the lease is
//! released (`--leader-election-release-on-cancel`), servers stop, `run` returns `Ok`.
//! Losing the lease returns [`Error::LeaderElectionLost`] at once, like controller-runtime.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use tokio::sync::watch;

use crate::events::EventRecorder;
use crate::flags::RuntimeConfig;
use crate::health::Health;
use crate::kube_client::{self, CrdRef};
use crate::leader::{self, HoldOutcome, LeaderElector};
use crate::metrics::Metrics;
use crate::reconcile::{self, FluxObject, Reconciler, SharedContext};
use crate::{Error, Result};

/// How long in-flight reconciles may take to finish after SIGTERM (controller-runtime's
/// default graceful shutdown timeout).
pub const GRACEFUL_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);

type StartFn = Box<
    dyn FnOnce(
            SharedContext,
            Pin<Box<dyn Future<Output = ()> + Send + Sync>>,
        ) -> Pin<Box<dyn Future<Output = ()> + Send>>
        + Send
        + Sync,
>;

struct Registration {
    label: String,
    crd: CrdRef,
    start: StartFn,
}

/// Starts a manager's graceful shutdown, as SIGTERM does.
#[derive(Clone, Debug)]
pub struct ShutdownHandle(watch::Sender<bool>);

impl ShutdownHandle {
    /// Starts shutdown.
    pub fn trigger(&self) {
        let _ = self.0.send(true);
    }
}

/// Runs one controller binary. See the module docs.
pub struct Manager {
    name: String,
    config: Arc<RuntimeConfig>,
    client: kube::Client,
    api_url: String,
    metrics: Metrics,
    health: Health,
    events: EventRecorder,
    shutdown_tx: watch::Sender<bool>,
    shutdown_rx: watch::Receiver<bool>,
    controllers: Vec<Registration>,
    leader_servers: Vec<LeaderServer>,
}

/// An HTTP server that runs only while this replica leads (source-controller's artifact
/// server: only the leader has the artifacts, so only it serves them, as in Flux).
struct LeaderServer {
    what: &'static str,
    addr: String,
    serve: LeaderServe,
}

enum LeaderServe {
    Router(axum::Router),
    Listener(ServeFn),
}

/// A server that runs its own accept loop on the listener the manager binds for it, until
/// the given future completes (shutdown). For servers axum cannot express, such as the
/// artifact server's zero-copy HTTP/1.1.
pub type ServeFn = Box<
    dyn FnOnce(
            tokio::net::TcpListener,
            Pin<Box<dyn Future<Output = ()> + Send>>,
        ) -> Pin<Box<dyn Future<Output = ()> + Send>>
        + Send
        + Sync,
>;

impl std::fmt::Debug for Manager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Manager")
            .field("name", &self.name)
            .field("api_url", &self.api_url)
            .field(
                "controllers",
                &self
                    .controllers
                    .iter()
                    .map(|c| c.label.as_str())
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl Manager {
    /// Builds the client (kubeconfig or in-cluster), checks the API server answers, and sets up
    /// metrics, health and events. `name` is the binary's name (`source-controller`): field
    /// manager, reporting controller and lease name prefix.
    pub async fn new(name: &str, config: RuntimeConfig) -> Result<Self> {
        let (client, api_url) =
            kube_client::build(config.kube_api_qps, config.kube_api_burst).await?;
        let version = kube_client::check_reachable(&client, &api_url).await?;
        tracing::info!(api_server = %api_url, version = %version, "connected to the Kubernetes API server");
        Self::with_client(name, config, client, api_url)
    }

    /// A manager over an existing client (tests, embedding); no reachability check.
    pub fn with_client(
        name: &str,
        config: RuntimeConfig,
        client: kube::Client,
        api_url: String,
    ) -> Result<Self> {
        kube_client::install_crypto_provider();
        let metrics = Metrics::new()?;
        let events = EventRecorder::new(Some(client.clone()), name, config.events_addr.clone());
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        Ok(Manager {
            name: name.to_string(),
            config: Arc::new(config),
            client,
            api_url,
            metrics,
            health: Health::new(),
            events,
            shutdown_tx,
            shutdown_rx,
            controllers: Vec::new(),
            leader_servers: Vec::new(),
        })
    }

    /// Serves `router` on `addr` once this replica leads (immediately without leader
    /// election), until shutdown. A bind failure stops the manager with a clear error.
    pub fn add_leader_server(
        &mut self,
        what: &'static str,
        addr: &str,
        router: axum::Router,
    ) -> &mut Self {
        self.leader_servers.push(LeaderServer {
            what,
            addr: addr.to_string(),
            serve: LeaderServe::Router(router),
        });
        self
    }

    /// Like [`Manager::add_leader_server`] for a server with its own accept loop: `serve`
    /// gets the bound listener and a future that completes at shutdown.
    pub fn add_leader_listener(
        &mut self,
        what: &'static str,
        addr: &str,
        serve: ServeFn,
    ) -> &mut Self {
        self.leader_servers.push(LeaderServer {
            what,
            addr: addr.to_string(),
            serve: LeaderServe::Listener(serve),
        });
        self
    }

    /// The binary's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The Kubernetes client (rate-limited by `--kube-api-qps`/`--kube-api-burst`).
    pub fn client(&self) -> kube::Client {
        self.client.clone()
    }

    /// The validated flags.
    pub fn config(&self) -> Arc<RuntimeConfig> {
        self.config.clone()
    }

    /// The metrics registry (register the binary's own metrics here before `run`).
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The event recorder.
    pub fn events(&self) -> &EventRecorder {
        &self.events
    }

    /// The probe state.
    pub fn health(&self) -> &Health {
        &self.health
    }

    /// Turns true when shutdown starts: for the binary's own servers (e.g. the artifact server).
    pub fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.shutdown_rx.clone()
    }

    /// Starts shutdown as SIGTERM would.
    pub fn shutdown(&self) {
        let _ = self.shutdown_tx.send(true);
    }

    /// A handle that starts shutdown later (after `run` has consumed the manager).
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle(self.shutdown_tx.clone())
    }

    /// The context reconcilers share.
    pub fn shared_context(&self) -> SharedContext {
        SharedContext {
            client: self.client.clone(),
            config: self.config.clone(),
            events: self.events.clone(),
            metrics: self.metrics.clone(),
            controller_name: Arc::from(self.name.as_str()),
        }
    }

    /// Registers the controller for kind `K`; it starts in `run` once leading.
    pub fn add_controller<K, R>(&mut self, reconciler: R) -> &mut Self
    where
        K: FluxObject,
        R: Reconciler<K>,
    {
        let label = reconcile::controller_label::<K>();
        self.metrics
            .register_controller(&label, self.config.concurrent);
        let cache = self.health.register_cache(&label);
        let start: StartFn = Box::new(move |shared, shutdown| {
            reconcile::run::<K, R>(shared, reconciler, cache, shutdown).boxed()
        });
        self.controllers.push(Registration {
            label,
            crd: CrdRef::of::<K>(),
            start,
        });
        self
    }

    /// Runs until SIGTERM/SIGINT (`Ok`) or until the lease is lost or start-up fails (`Err`).
    pub async fn run(self) -> Result<()> {
        let shared = self.shared_context();
        let Manager {
            name,
            config,
            client,
            health,
            shutdown_tx,
            shutdown_rx,
            controllers,
            leader_servers,
            ..
        } = self;
        let signals = tokio::spawn(watch_signals(shutdown_tx.clone()));
        let result = run_inner(
            &name,
            shared,
            config,
            client,
            health,
            shutdown_tx,
            shutdown_rx,
            controllers,
            leader_servers,
        )
        .await;
        signals.abort();
        result
    }
}

#[allow(clippy::too_many_arguments)] // the manager's parts, moved out of `self`
async fn run_inner(
    name: &str,
    shared: SharedContext,
    config: Arc<RuntimeConfig>,
    client: kube::Client,
    health: Health,
    shutdown_tx: watch::Sender<bool>,
    shutdown_rx: watch::Receiver<bool>,
    controllers: Vec<Registration>,
    leader_servers: Vec<LeaderServer>,
) -> Result<()> {
    for c in &controllers {
        kube_client::check_crd(&client, &c.crd).await?;
    }

    let mut servers = Vec::new();
    if let Some(addr) = &config.metrics_addr {
        servers.push(
            crate::health::serve(
                "metrics",
                addr,
                shared.metrics.router(),
                shutdown_rx.clone(),
            )
            .await?,
        );
    }
    servers.push(
        crate::health::serve(
            "health",
            &config.health_addr,
            health.router(),
            shutdown_rx.clone(),
        )
        .await?,
    );
    health.set_started();
    tracing::info!("manager started");

    let mut elector = None;
    if config.leader_election.enabled {
        let mut el = LeaderElector::new(
            client.clone(),
            &leader::lease_namespace(config.runtime_namespace.as_deref()),
            &leader::lease_name(name),
            &leader::new_identity(),
            config.leader_election.clone(),
        );
        let mut rx = shutdown_rx.clone();
        if !el.acquire(&mut rx).await? {
            tracing::info!("shutdown before acquiring the lease");
            stop_servers(&shutdown_tx, servers).await;
            return Ok(());
        }
        elector = Some(el);
    }

    for ls in leader_servers {
        let started = match ls.serve {
            LeaderServe::Router(router) => {
                crate::health::serve(ls.what, &ls.addr, router, shutdown_rx.clone()).await
            }
            LeaderServe::Listener(serve) => {
                crate::health::serve_with(ls.what, &ls.addr, serve, shutdown_rx.clone()).await
            }
        };
        match started {
            Ok(handle) => servers.push(handle),
            Err(e) => {
                if let Some(mut el) = elector.take()
                    && let Err(re) = el.release().await
                {
                    tracing::error!(error = %re, "failed to release the lease");
                }
                stop_servers(&shutdown_tx, servers).await;
                return Err(e);
            }
        }
    }

    let mut running = Vec::new();
    for c in controllers {
        let (tx, rx) = futures::channel::oneshot::channel::<()>();
        let mut watch_rx = shutdown_rx.clone();
        tokio::spawn(async move {
            while !*watch_rx.borrow() {
                if watch_rx.changed().await.is_err() {
                    break;
                }
            }
            let _ = tx.send(());
        });
        let stop: Pin<Box<dyn Future<Output = ()> + Send + Sync>> = Box::pin(rx.map(|_| ()));
        running.push(tokio::spawn((c.start)(shared.clone(), stop)));
    }

    let mut rx = shutdown_rx.clone();
    let lost = match elector.take() {
        Some(mut el) => {
            let mut hold_rx = shutdown_rx.clone();
            let handle = tokio::spawn(async move {
                let outcome = el.hold(&mut hold_rx).await;
                (el, outcome)
            });
            match handle.await {
                Ok((el, HoldOutcome::Shutdown)) => {
                    elector = Some(el);
                    false
                }
                Ok((_, HoldOutcome::Lost)) => true,
                Err(e) => {
                    tracing::error!(error = %e, "leader election task failed");
                    true
                }
            }
        }
        None => {
            while !*rx.borrow() {
                if rx.changed().await.is_err() {
                    break;
                }
            }
            false
        }
    };
    if lost {
        tracing::error!("leader election lost");
        return Err(Error::LeaderElectionLost);
    }

    tracing::info!("stopping and waiting for controllers to finish");
    let drained = tokio::time::timeout(
        GRACEFUL_SHUTDOWN_TIMEOUT,
        futures::future::join_all(running),
    )
    .await;
    if drained.is_err() {
        tracing::error!(timeout = ?GRACEFUL_SHUTDOWN_TIMEOUT, "controllers did not finish in time");
    }
    if let Some(mut el) = elector
        && config.leader_election.release_on_cancel
        && let Err(e) = el.release().await
    {
        tracing::error!(error = %e, "failed to release the lease");
    }
    stop_servers(&shutdown_tx, servers).await;
    tracing::info!("stopped");
    Ok(())
}

async fn stop_servers(
    shutdown_tx: &watch::Sender<bool>,
    servers: Vec<tokio::task::JoinHandle<()>>,
) {
    let _ = shutdown_tx.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(5), futures::future::join_all(servers)).await;
}

/// First SIGTERM/SIGINT: graceful shutdown. Second: exit at once with status 1.
async fn watch_signals(tx: watch::Sender<bool>) {
    #[cfg(unix)]
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::error!(error = %e, "cannot listen for SIGTERM");
            None
        }
    };
    for first in [true, false] {
        #[cfg(unix)]
        let term_recv = async {
            match term.as_mut() {
                Some(t) => {
                    t.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let term_recv = std::future::pending::<()>();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term_recv => {}
        }
        if first {
            tracing::info!("shutdown signal received, stopping");
            let _ = tx.send(true);
        } else {
            tracing::error!("second shutdown signal received, exiting");
            std::process::exit(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>(_: &T) {}

    // Compile-time check: binaries and tests spawn `run` on a multi-threaded runtime.
    #[allow(dead_code)]
    fn run_is_send(m: Manager) {
        assert_send(&m.run());
    }

    struct Noop;

    impl Reconciler<ferroflux_api::source::v1::GitRepository> for Noop {
        async fn reconcile(
            &self,
            _obj: &mut ferroflux_api::source::v1::GitRepository,
            _ctx: &crate::ReconcileContext,
        ) -> Result<crate::Outcome, crate::ReconcileError> {
            Ok(crate::Outcome::ready("Succeeded", "ok"))
        }

        async fn finalize(
            &self,
            _obj: &ferroflux_api::source::v1::GitRepository,
            _ctx: &crate::ReconcileContext,
        ) -> Result<(), crate::ReconcileError> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn registering_a_controller_exports_its_metrics_and_cache() {
        kube_client::install_crypto_provider();
        // A client that is never used: nothing here talks to an API server.
        let config = kube::Config::new("http://127.0.0.1:1".parse().unwrap());
        let client = kube::Client::try_from(config).unwrap();
        let mut m = Manager::with_client(
            "source-controller",
            RuntimeConfig::default(),
            client,
            "test".into(),
        )
        .unwrap();
        m.add_controller(Noop);
        let text = m.metrics().render().unwrap();
        assert!(text.contains(
            "controller_runtime_reconcile_total{controller=\"gitrepository\",result=\"success\"} 0"
        ));
        assert!(text.contains("workqueue_depth{name=\"gitrepository\"} 0"));
        assert!(format!("{m:?}").contains("gitrepository"));
        m.health().set_started();
        assert!(
            m.health().readiness().is_ok(),
            "not running yet: does not block readiness"
        );
        let handle = m.shutdown_handle();
        let rx = m.shutdown_signal();
        handle.trigger();
        assert!(*rx.borrow());
    }
}
