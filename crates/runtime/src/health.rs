//! Liveness and readiness probes (`/healthz`, `/readyz` on `--health-addr`), and the small
//! HTTP server helper the metrics endpoint shares.
//!
//! `/healthz` answers 200 while the process serves. `/readyz` answers 200 once the manager has
//! started and every *running* controller's informer cache has synced; a standby replica
//! (leader election on, not leading) runs no controller and is ready, like controller-runtime's
//! manager whose caches do not depend on the lease.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use axum::serve::ListenerExt as _;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::{Error, Result};

/// Readiness of one controller's cache.
#[derive(Debug, Default)]
pub struct CacheState {
    name: String,
    running: AtomicBool,
    synced: AtomicBool,
}

impl CacheState {
    /// The controller started watching.
    pub fn set_running(&self, running: bool) {
        self.running.store(running, Ordering::SeqCst);
    }

    /// The initial list has been loaded into the cache.
    pub fn set_synced(&self, synced: bool) {
        self.synced.store(synced, Ordering::SeqCst);
    }
}

/// Shared probe state; cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct Health {
    started: Arc<AtomicBool>,
    caches: Arc<Mutex<Vec<Arc<CacheState>>>>,
}

impl Health {
    /// A state that is live but not ready.
    pub fn new() -> Self {
        Self::default()
    }

    /// The manager is up (servers listening, API server reachable).
    pub fn set_started(&self) {
        self.started.store(true, Ordering::SeqCst);
    }

    /// Adds a controller's cache to the readiness check.
    pub fn register_cache(&self, name: &str) -> Arc<CacheState> {
        let state = Arc::new(CacheState {
            name: name.to_string(),
            ..CacheState::default()
        });
        self.caches
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(state.clone());
        state
    }

    /// `Ok(())` when ready, else the reason.
    pub fn readiness(&self) -> std::result::Result<(), String> {
        if !self.started.load(Ordering::SeqCst) {
            return Err("manager not started".into());
        }
        let caches = self.caches.lock().unwrap_or_else(|p| p.into_inner());
        let waiting: Vec<&str> = caches
            .iter()
            .filter(|c| c.running.load(Ordering::SeqCst) && !c.synced.load(Ordering::SeqCst))
            .map(|c| c.name.as_str())
            .collect();
        if waiting.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "informer caches not synced: {}",
                waiting.join(", ")
            ))
        }
    }

    /// `/healthz` and `/readyz`.
    pub fn router(&self) -> Router {
        let health = self.clone();
        Router::new()
            .route("/healthz", get(|| async { (StatusCode::OK, "ok") }))
            .route(
                "/readyz",
                get(move || {
                    let health = health.clone();
                    async move {
                        match health.readiness() {
                            Ok(()) => (StatusCode::OK, "ok".to_string()),
                            Err(why) => (StatusCode::SERVICE_UNAVAILABLE, why),
                        }
                    }
                }),
            )
    }
}

/// Binds `addr` (failing clearly if it cannot) and serves `router` until `shutdown` is true.
pub async fn serve(
    what: &'static str,
    addr: &str,
    router: Router,
    mut shutdown: watch::Receiver<bool>,
) -> Result<JoinHandle<()>> {
    let listener = bind(what, addr).await?;
    // Without TCP_NODELAY a keep-alive client waits ~40 ms per small response (Nagle's
    // algorithm against delayed ACKs); measured by hack/bench/serve.sh.
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    Ok(tokio::spawn(async move {
        let stop = async move {
            while !*shutdown.borrow() {
                if shutdown.changed().await.is_err() {
                    break;
                }
            }
        };
        if let Err(e) = axum::serve(listener, router)
            .with_graceful_shutdown(stop)
            .await
        {
            tracing::error!(error = %e, "{what} server failed");
        }
    }))
}

/// Binds `addr` for the `what` server, with an error naming both.
async fn bind(what: &'static str, addr: &str) -> Result<tokio::net::TcpListener> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| Error::Bind {
            what,
            addr: addr.to_string(),
            reason: e.to_string(),
        })?;
    let local = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_else(|_| addr.to_string());
    tracing::info!(addr = %local, "starting {what} server");
    Ok(listener)
}

/// Binds `addr` and runs `serve` on it (its own accept loop) until `shutdown` turns true.
pub async fn serve_with(
    what: &'static str,
    addr: &str,
    serve: crate::manager::ServeFn,
    mut shutdown: watch::Receiver<bool>,
) -> Result<JoinHandle<()>> {
    let listener = bind(what, addr).await?;
    let stop = Box::pin(async move {
        while !*shutdown.borrow() {
            if shutdown.changed().await.is_err() {
                break;
            }
        }
    });
    Ok(tokio::spawn(serve(listener, stop)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readiness_follows_start_and_running_caches() {
        let h = Health::new();
        assert!(h.readiness().is_err());
        h.set_started();
        assert!(h.readiness().is_ok(), "no controllers: ready once started");
        let git = h.register_cache("gitrepository");
        assert!(
            h.readiness().is_ok(),
            "a controller that does not run (standby) does not block"
        );
        git.set_running(true);
        let e = h.readiness().unwrap_err();
        assert!(e.contains("gitrepository"), "{e}");
        git.set_synced(true);
        assert!(h.readiness().is_ok());
    }

    #[tokio::test]
    async fn probes_over_http() {
        let h = Health::new();
        let (tx, rx) = watch::channel(false);
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        drop(listener);
        let server = serve("health", &addr, h.router(), rx).await.unwrap();
        let get = |p: &str| {
            let url = format!("http://{addr}{p}");
            async move { reqwest::get(url).await.unwrap().status().as_u16() }
        };
        assert_eq!(get("/healthz").await, 200);
        assert_eq!(get("/readyz").await, 503);
        h.set_started();
        assert_eq!(get("/readyz").await, 200);
        // Binding a taken address is a clear error.
        let (_tx2, rx2) = watch::channel(false);
        let e = serve("health", &addr, h.router(), rx2)
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("health") && e.contains(&addr), "{e}");
        tx.send(true).unwrap();
        tokio::time::timeout(std::time::Duration::from_secs(5), server)
            .await
            .unwrap()
            .unwrap();
    }
}
