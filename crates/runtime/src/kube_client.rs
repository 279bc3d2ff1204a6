//! The Kubernetes client every controller uses: configuration inferred like kubectl
//! (`KUBECONFIG`/`~/.kube/config`, else in-cluster), client-go's token-bucket rate limit from
//! `--kube-api-qps`/`--kube-api-burst` (one bucket per resource, off when the API server runs
//! Priority and Fairness, as in Flux), controller-runtime's `rest_client_requests_total`, and
//! the start-up checks that turn a missing API server or CRD into a clear error instead of a
//! stream of watch failures.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, Mutex, Once};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::Instant;

use kube::Resource;
use kube::client::ClientBuilder;
use tower_layer::Layer;
use tower_service::Service;

use crate::{Error, Result};

/// How long the start-up reachability check waits for the API server.
pub const REACHABILITY_TIMEOUT: Duration = Duration::from_secs(30);

/// Installs ring as the process's rustls crypto provider (once; later calls are no-ops).
pub fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Err means another provider is already installed, which is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// Builds a client from the inferred configuration with the given rate limit.
/// Returns the client and the API server URL (for messages).
///
/// Like Flux (`fluxcd/pkg/runtime/client.GetConfigOrDie`), the client does not throttle
/// itself when the API server runs API Priority and Fairness: the server queues fairly.
pub async fn build(qps: f32, burst: u32) -> Result<(kube::Client, String)> {
    install_crypto_provider();
    let config = kube::Config::infer()
        .await
        .map_err(|e| Error::KubeConfig(e.to_string()))?;
    let url = config.cluster_url.to_string();
    let host = config
        .cluster_url
        .authority()
        .map_or_else(String::new, |a| a.to_string());
    let layer = RateLimitLayer::new(qps, burst).with_host(&host);
    let client = ClientBuilder::try_from(config)
        .map_err(|e| Error::KubeConfig(e.to_string()))?
        .with_layer(&layer)
        .build();
    if priority_and_fairness(&client).await {
        tracing::debug!("API Priority and Fairness is enabled: client-side throttling off");
        layer.disable();
    }
    Ok((client, url))
}

/// Whether the API server answers with the Priority-and-Fairness headers (client-go's
/// `flowcontrol.IsEnabled`: a HEAD of `/livez/ping`; any status carries them).
async fn priority_and_fairness(client: &kube::Client) -> bool {
    let Ok(req) = axum::http::Request::head("/livez/ping").body(Vec::new()) else {
        return false;
    };
    match tokio::time::timeout(REACHABILITY_TIMEOUT, client.send(req.map(Into::into))).await {
        Ok(Ok(resp)) => resp
            .headers()
            .contains_key("X-Kubernetes-PF-FlowSchema-UID"),
        _ => false,
    }
}

/// Fails clearly unless the API server answers `/version` within [`REACHABILITY_TIMEOUT`].
pub async fn check_reachable(client: &kube::Client, url: &str) -> Result<String> {
    let unreachable = |reason: String| Error::ApiServerUnreachable {
        url: url.to_string(),
        reason,
    };
    match tokio::time::timeout(REACHABILITY_TIMEOUT, client.apiserver_version()).await {
        Ok(Ok(info)) => Ok(info.git_version),
        Ok(Err(e)) => Err(unreachable(error_chain(&e))),
        Err(_) => Err(unreachable(format!(
            "no answer within {REACHABILITY_TIMEOUT:?}"
        ))),
    }
}

/// A kind the manager needs a CRD for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CrdRef {
    pub group: String,
    pub version: String,
    pub plural: String,
    pub kind: String,
}

impl CrdRef {
    /// The CRD behind a typed resource.
    pub fn of<K: Resource<DynamicType = ()>>() -> Self {
        CrdRef {
            group: K::group(&()).into_owned(),
            version: K::version(&()).into_owned(),
            plural: K::plural(&()).into_owned(),
            kind: K::kind(&()).into_owned(),
        }
    }

    /// `<plural>.<group>`, the CRD's name.
    pub fn crd_name(&self) -> String {
        format!("{}.{}", self.plural, self.group)
    }

    fn api_version(&self) -> String {
        format!("{}/{}", self.group, self.version)
    }
}

/// Fails with [`Error::CrdMissing`] unless the API server serves `crd` (checked through
/// discovery, which every authenticated client may read).
pub async fn check_crd(client: &kube::Client, crd: &CrdRef) -> Result<()> {
    let missing = || Error::CrdMissing {
        crd: crd.crd_name(),
        kind: crd.kind.clone(),
        api_version: crd.api_version(),
    };
    match client.list_api_group_resources(&crd.api_version()).await {
        Ok(list) if list.resources.iter().any(|r| r.name == crd.plural) => Ok(()),
        Ok(_) => Err(missing()),
        Err(kube::Error::Api(e)) if e.code == 404 => Err(missing()),
        Err(e) => Err(e.into()),
    }
}

/// The error with its sources, for one-line messages.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        let msg = inner.to_string();
        if !s.contains(&msg) {
            s.push_str(": ");
            s.push_str(&msg);
        }
        src = inner.source();
    }
    s
}

/// client-go's `flowcontrol.NewTokenBucketRateLimiter(qps, burst)` as pure arithmetic: a
/// request reserves a token, borrowing against the refill when the bucket is empty, and waits
/// until its token would have arrived (`golang.org/x/time/rate`'s `Wait`).
#[derive(Clone, Debug)]
pub struct TokenBucket {
    qps: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    /// A full bucket.
    pub fn new(qps: f32, burst: u32, now: Instant) -> Self {
        let burst = f64::from(burst.max(1));
        TokenBucket {
            qps: f64::from(qps).max(f64::MIN_POSITIVE),
            burst,
            tokens: burst,
            last: now,
        }
    }

    /// Takes a token, or says how long until one is available (takes nothing then).
    pub fn try_take(&mut self, now: Instant) -> std::result::Result<(), Duration> {
        self.refill(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - self.tokens) / self.qps))
        }
    }

    /// Reserves a token and says how long to wait before using it (zero when one was there).
    pub fn reserve(&mut self, now: Instant) -> Duration {
        self.refill(now);
        self.tokens -= 1.0;
        if self.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-self.tokens / self.qps)
        }
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.qps).min(self.burst);
        self.last = now;
    }
}

/// controller-runtime's `rest_client_requests_total{code,host,method}`: every request this
/// process's API clients sent, by status code (`<error>` when no response came back). Each
/// [`crate::metrics::Metrics`] registry exports it.
pub static REST_CLIENT_REQUESTS: LazyLock<prometheus::IntCounterVec> = LazyLock::new(|| {
    prometheus::IntCounterVec::new(
        prometheus::Opts::new(
            "rest_client_requests_total",
            "Number of HTTP requests, partitioned by status code, method, and host.",
        ),
        &["code", "host", "method"],
    )
    .unwrap_or_else(|e| panic!("static metric definition is valid: {e}"))
});

/// The rate-limit key of a request path: its resource (`configmaps`, `kustomizations`, …),
/// or "" for discovery and other non-resource paths. controller-runtime gives every kind its
/// own REST client, and client-go gives every REST client its own token bucket, so Flux's
/// controllers throttle per kind; so do we.
pub fn resource_of(path: &str) -> &str {
    let mut segs = path.trim_start_matches('/').split('/');
    let rest: Vec<&str> = match segs.next() {
        Some("api") => segs.skip(1).collect(),
        Some("apis") => segs.skip(2).collect(),
        _ => return "",
    };
    match rest.as_slice() {
        ["namespaces", _, resource, ..] => resource,
        [resource, ..] => resource,
        [] => "",
    }
}

/// A tower layer limiting requests with client-go's token bucket per resource (see
/// [`resource_of`]) and counting them in [`REST_CLIENT_REQUESTS`].
#[derive(Clone, Debug)]
pub struct RateLimitLayer {
    qps: f32,
    burst: u32,
    host: String,
    buckets: Arc<Mutex<HashMap<String, TokenBucket>>>,
    disabled: Arc<AtomicBool>,
}

impl RateLimitLayer {
    pub fn new(qps: f32, burst: u32) -> Self {
        RateLimitLayer {
            qps,
            burst,
            host: String::new(),
            buckets: Arc::default(),
            disabled: Arc::default(),
        }
    }

    /// The `host` label of the request counter.
    pub fn with_host(mut self, host: &str) -> Self {
        self.host = host.to_string();
        self
    }

    /// Stops throttling (services built by this layer included); requests are still counted.
    pub fn disable(&self) {
        self.disabled.store(true, Ordering::Relaxed);
    }

    /// How long a request to `path` waits for its token.
    fn delay(&self, path: &str) -> Duration {
        if self.disabled.load(Ordering::Relaxed) {
            return Duration::ZERO;
        }
        let key = resource_of(path);
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(b) = buckets.get_mut(key) {
            return b.reserve(now);
        }
        let mut b = TokenBucket::new(self.qps, self.burst, now);
        let d = b.reserve(now);
        buckets.insert(key.to_string(), b);
        d
    }
}

impl<S> Layer<S> for RateLimitLayer {
    type Service = RateLimit<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RateLimit {
            inner,
            limits: self.clone(),
        }
    }
}

/// See [`RateLimitLayer`].
pub struct RateLimit<S> {
    inner: S,
    limits: RateLimitLayer,
}

impl<S, B, RB> Service<axum::http::Request<B>> for RateLimit<S>
where
    S: Service<axum::http::Request<B>, Response = axum::http::Response<RB>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = std::result::Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<std::result::Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: axum::http::Request<B>) -> Self::Future {
        let delay = self.limits.delay(req.uri().path());
        let method = req.method().as_str().to_string();
        let host = self.limits.host.clone();
        // The inner future sends nothing until polled: the request leaves after the wait.
        let fut = self.inner.call(req);
        Box::pin(async move {
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            let res = fut.await;
            let code = match &res {
                Ok(r) => r.status().as_u16().to_string(),
                Err(_) => "<error>".to_string(),
            };
            REST_CLIENT_REQUESTS
                .with_label_values(&[code.as_str(), host.as_str(), method.as_str()])
                .inc();
            res
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_bucket_allows_burst_then_paces_at_qps() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(10.0, 3, t0);
        for _ in 0..3 {
            assert_eq!(b.try_take(t0), Ok(()));
        }
        let wait = b.try_take(t0).unwrap_err();
        assert!((wait.as_secs_f64() - 0.1).abs() < 1e-9, "{wait:?}");
        assert_eq!(b.try_take(t0 + Duration::from_millis(100)), Ok(()));
        assert!(b.try_take(t0 + Duration::from_millis(150)).is_err());
        // Refill never exceeds the burst.
        let later = t0 + Duration::from_secs(60);
        for _ in 0..3 {
            assert_eq!(b.try_take(later), Ok(()));
        }
        assert!(b.try_take(later).is_err());
    }

    #[test]
    fn reservations_borrow_against_the_refill() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(10.0, 2, t0);
        assert_eq!(b.reserve(t0), Duration::ZERO);
        assert_eq!(b.reserve(t0), Duration::ZERO);
        let w1 = b.reserve(t0);
        let w2 = b.reserve(t0);
        assert!((w1.as_secs_f64() - 0.1).abs() < 1e-9, "{w1:?}");
        assert!((w2.as_secs_f64() - 0.2).abs() < 1e-9, "{w2:?}");
    }

    #[test]
    fn requests_are_keyed_by_resource() {
        assert_eq!(
            resource_of("/api/v1/namespaces/a/configmaps/x"),
            "configmaps"
        );
        assert_eq!(resource_of("/api/v1/namespaces/a/configmaps"), "configmaps");
        assert_eq!(resource_of("/api/v1/namespaces/a"), "namespaces");
        assert_eq!(resource_of("/api/v1/namespaces"), "namespaces");
        assert_eq!(
            resource_of(
                "/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/a/kustomizations/k/status"
            ),
            "kustomizations"
        );
        assert_eq!(
            resource_of("/apis/rbac.authorization.k8s.io/v1/clusterroles/r"),
            "clusterroles"
        );
        assert_eq!(resource_of("/apis/apps/v1"), "");
        assert_eq!(resource_of("/api"), "");
        assert_eq!(resource_of("/version"), "");
    }

    struct Ok200;
    impl Service<axum::http::Request<()>> for Ok200 {
        type Response = axum::http::Response<()>;
        type Error = std::convert::Infallible;
        type Future = std::future::Ready<std::result::Result<Self::Response, Self::Error>>;
        fn poll_ready(
            &mut self,
            _: &mut Context<'_>,
        ) -> Poll<std::result::Result<(), Self::Error>> {
            Poll::Ready(Ok(()))
        }
        fn call(&mut self, _: axum::http::Request<()>) -> Self::Future {
            std::future::ready(Ok(axum::http::Response::new(())))
        }
    }

    async fn send(svc: &mut RateLimit<Ok200>, path: &str) {
        std::future::poll_fn(|cx| svc.poll_ready(cx)).await.unwrap();
        let req = axum::http::Request::get(path).body(()).unwrap();
        svc.call(req).await.unwrap();
    }

    #[tokio::test]
    async fn layer_paces_each_resource_on_its_own_bucket() {
        let layer = RateLimitLayer::new(20.0, 2).with_host("pace.test:1");
        let mut svc = layer.layer(Ok200);
        let start = Instant::now();
        for _ in 0..4 {
            send(&mut svc, "/api/v1/namespaces/a/configmaps/x").await;
        }
        // Two at once, then one every 50ms.
        let took = start.elapsed();
        assert!(
            took >= Duration::from_millis(95) && took < Duration::from_millis(1000),
            "{took:?}"
        );
        // Another resource has its own full bucket.
        let start = Instant::now();
        send(&mut svc, "/api/v1/namespaces/a/secrets/x").await;
        send(&mut svc, "/api/v1/namespaces/a/secrets/x").await;
        assert!(start.elapsed() < Duration::from_millis(40));
        let counted = REST_CLIENT_REQUESTS
            .with_label_values(&["200", "pace.test:1", "GET"])
            .get();
        assert_eq!(counted, 6);
        // Disabled: no waiting at all.
        layer.disable();
        let start = Instant::now();
        for _ in 0..10 {
            send(&mut svc, "/api/v1/namespaces/a/configmaps/x").await;
        }
        assert!(start.elapsed() < Duration::from_millis(40));
    }

    #[test]
    fn crd_names() {
        let c = CrdRef::of::<ferroflux_api::source::v1::GitRepository>();
        assert_eq!(c.crd_name(), "gitrepositories.source.toolkit.fluxcd.io");
        assert_eq!(c.api_version(), "source.toolkit.fluxcd.io/v1");
        assert_eq!(c.kind, "GitRepository");
    }
}
