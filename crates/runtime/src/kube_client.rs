//! The Kubernetes client every controller uses: configuration inferred like kubectl
//! (`KUBECONFIG`/`~/.kube/config`, else in-cluster), client-go's token-bucket rate limit from
//! `--kube-api-qps`/`--kube-api-burst`, and the start-up checks that turn a missing API server
//! or CRD into a clear error instead of a stream of watch failures.

use std::future::Future;
use std::pin::Pin;
use std::sync::Once;
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
pub async fn build(qps: f32, burst: u32) -> Result<(kube::Client, String)> {
    install_crypto_provider();
    let config = kube::Config::infer()
        .await
        .map_err(|e| Error::KubeConfig(e.to_string()))?;
    let url = config.cluster_url.to_string();
    let client = ClientBuilder::try_from(config)
        .map_err(|e| Error::KubeConfig(e.to_string()))?
        .with_layer(&RateLimitLayer::new(qps, burst))
        .build();
    Ok((client, url))
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

/// client-go's `flowcontrol.NewTokenBucketRateLimiter(qps, burst)` as pure arithmetic.
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

    /// Takes a token, or says how long until one is available.
    pub fn try_take(&mut self, now: Instant) -> std::result::Result<(), Duration> {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.qps).min(self.burst);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - self.tokens) / self.qps))
        }
    }
}

/// A tower layer limiting requests to a token bucket. kube's client funnels every request
/// through one buffered service, so waiting in `poll_ready` paces all callers, as client-go's
/// shared rate limiter does.
#[derive(Clone, Debug)]
pub struct RateLimitLayer {
    qps: f32,
    burst: u32,
}

impl RateLimitLayer {
    pub fn new(qps: f32, burst: u32) -> Self {
        RateLimitLayer { qps, burst }
    }
}

impl<S> Layer<S> for RateLimitLayer {
    type Service = RateLimit<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RateLimit {
            inner,
            bucket: TokenBucket::new(self.qps, self.burst, Instant::now()),
            sleep: None,
            permit: false,
        }
    }
}

/// See [`RateLimitLayer`].
pub struct RateLimit<S> {
    inner: S,
    bucket: TokenBucket,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
    permit: bool,
}

impl<S, R> Service<R> for RateLimit<S>
where
    S: Service<R>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<std::result::Result<(), Self::Error>> {
        while !self.permit {
            if let Some(sleep) = self.sleep.as_mut() {
                if sleep.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                self.sleep = None;
            }
            match self.bucket.try_take(Instant::now()) {
                Ok(()) => self.permit = true,
                Err(wait) => self.sleep = Some(Box::pin(tokio::time::sleep(wait))),
            }
        }
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: R) -> Self::Future {
        self.permit = false;
        self.inner.call(req)
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

    #[tokio::test]
    async fn layer_paces_a_service() {
        use std::convert::Infallible;
        struct Echo;
        impl Service<u32> for Echo {
            type Response = u32;
            type Error = Infallible;
            type Future = std::future::Ready<std::result::Result<u32, Infallible>>;
            fn poll_ready(
                &mut self,
                _: &mut Context<'_>,
            ) -> Poll<std::result::Result<(), Infallible>> {
                Poll::Ready(Ok(()))
            }
            fn call(&mut self, r: u32) -> Self::Future {
                std::future::ready(Ok(r))
            }
        }
        let mut svc = RateLimitLayer::new(20.0, 2).layer(Echo);
        let start = tokio::time::Instant::now();
        for i in 0..4u32 {
            std::future::poll_fn(|cx| svc.poll_ready(cx)).await.unwrap();
            assert_eq!(svc.call(i).await.unwrap(), i);
        }
        // Two immediately, then one every 50ms.
        let took = start.elapsed();
        assert!(
            took >= Duration::from_millis(95) && took < Duration::from_millis(1000),
            "{took:?}"
        );
    }

    #[test]
    fn crd_names() {
        let c = CrdRef::of::<ferroflux_api::source::v1::GitRepository>();
        assert_eq!(c.crd_name(), "gitrepositories.source.toolkit.fluxcd.io");
        assert_eq!(c.api_version(), "source.toolkit.fluxcd.io/v1");
        assert_eq!(c.kind, "GitRepository");
    }
}
