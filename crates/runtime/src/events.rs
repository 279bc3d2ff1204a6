//! Events, as Flux records them: a core/v1 Event in the object's namespace (what `kubectl
//! describe` and `flux events` show) and, when `--events-addr` is set, the same event POSTed as
//! JSON (`event.toolkit.fluxcd.io` v1beta1 `Event`) to notification-controller.
//!
//! Recording never fails a reconcile: errors are logged.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Event as KubeEvent, EventSource, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::{Resource, ResourceExt};
use serde::{Deserialize, Serialize};

/// Prefix of object annotations Flux copies into forwarded event metadata.
pub const EVENT_ANNOTATION_PREFIX: &str = "event.toolkit.fluxcd.io/";
/// Metadata key of the source revision (prefixed with the API group: [`meta_key`]).
pub const META_REVISION_KEY: &str = "revision";
/// Metadata key of the artifact digest.
pub const META_DIGEST_KEY: &str = "digest";
/// Metadata key of the revision of the source the artifact came from.
pub const META_ORIGIN_REVISION_KEY: &str = "originRevision";
/// Metadata key of a token that makes otherwise equal events distinct (helm-controller).
pub const META_TOKEN_KEY: &str = "token";

/// `<group>/<key>`, e.g. `source.toolkit.fluxcd.io/revision`: the keys controllers put in
/// event annotations and notification-controller reads from the metadata.
pub fn meta_key(group: &str, key: &str) -> String {
    format!("{group}/{key}")
}

/// The revision (and digest) annotations Flux's controllers attach to their events.
pub fn revision_annotations(
    group: &str,
    revision: &str,
    digest: Option<&str>,
) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    m.insert(meta_key(group, META_REVISION_KEY), revision.to_string());
    if let Some(d) = digest {
        m.insert(meta_key(group, META_DIGEST_KEY), d.to_string());
    }
    m
}

/// Event type, as in client-go plus Flux's `Trace` (recorded in Kubernetes as Normal, never
/// forwarded).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventType {
    Normal,
    Warning,
    Trace,
}

impl EventType {
    /// The core/v1 Event `type`.
    pub fn kube_type(self) -> &'static str {
        match self {
            EventType::Warning => "Warning",
            EventType::Normal | EventType::Trace => "Normal",
        }
    }

    /// The forwarded event `severity` (`None` for Trace: not forwarded).
    pub fn severity(self) -> Option<&'static str> {
        match self {
            EventType::Normal => Some("info"),
            EventType::Warning => Some("error"),
            EventType::Trace => None,
        }
    }
}

/// `corev1.ObjectReference` with Go's field order (what notification-controller receives).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvolvedObject {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub uid: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub api_version: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub resource_version: String,
}

impl InvolvedObject {
    /// The reference to a typed object.
    pub fn of<K: Resource<DynamicType = ()>>(obj: &K) -> Self {
        InvolvedObject {
            kind: K::kind(&()).into_owned(),
            namespace: obj.namespace().unwrap_or_default(),
            name: obj.name_any(),
            uid: obj.uid().unwrap_or_default(),
            api_version: K::api_version(&()).into_owned(),
            resource_version: obj.resource_version().unwrap_or_default(),
        }
    }

    fn to_kube(&self) -> ObjectReference {
        let opt = |s: &str| Some(s.to_string()).filter(|s| !s.is_empty());
        ObjectReference {
            api_version: opt(&self.api_version),
            kind: opt(&self.kind),
            name: opt(&self.name),
            namespace: opt(&self.namespace),
            resource_version: opt(&self.resource_version),
            uid: opt(&self.uid),
            field_path: None,
        }
    }
}

/// fluxcd/pkg/apis/event/v1beta1 `Event`, the body POSTed to `--events-addr`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FluxEvent {
    pub involved_object: InvolvedObject,
    /// `info` or `error`.
    pub severity: String,
    /// RFC 3339, second precision (`metav1.Time`).
    pub timestamp: String,
    pub message: String,
    pub reason: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
    pub reporting_controller: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reporting_instance: String,
}

/// How forwarded events are retried (go-retryablehttp's defaults, shortened per attempt).
#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// First wait; doubled each retry.
    pub initial_wait: Duration,
    /// Per-attempt timeout.
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 4,
            initial_wait: Duration::from_secs(1),
            timeout: Duration::from_secs(5),
        }
    }
}

/// Repeats of the same event within this window update the existing Event's count.
const AGGREGATION_WINDOW: Duration = Duration::from_secs(600);
/// Bound on the aggregation cache.
const AGGREGATION_CACHE: usize = 4096;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct AggregationKey {
    uid: String,
    type_: &'static str,
    reason: String,
    message: String,
}

#[derive(Clone, Debug)]
struct Aggregated {
    name: String,
    count: i32,
    first_seen: Instant,
}

/// Records events for one controller; cheap to clone.
#[derive(Clone)]
pub struct EventRecorder {
    client: Option<kube::Client>,
    controller: String,
    instance: String,
    webhook: Option<String>,
    http: reqwest::Client,
    retry: RetryPolicy,
    seen: Arc<Mutex<HashMap<AggregationKey, Aggregated>>>,
}

impl std::fmt::Debug for EventRecorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventRecorder")
            .field("controller", &self.controller)
            .field("webhook", &self.webhook)
            .finish_non_exhaustive()
    }
}

impl EventRecorder {
    /// A recorder writing Events through `client` (none: forwarding only, for tests) and
    /// forwarding to `webhook` when set.
    pub fn new(client: Option<kube::Client>, controller: &str, webhook: Option<String>) -> Self {
        Self::with_retry(client, controller, webhook, RetryPolicy::default())
    }

    /// [`EventRecorder::new`] with a custom retry policy.
    pub fn with_retry(
        client: Option<kube::Client>,
        controller: &str,
        webhook: Option<String>,
        retry: RetryPolicy,
    ) -> Self {
        let http = reqwest::Client::builder()
            .timeout(retry.timeout)
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        EventRecorder {
            client,
            controller: controller.to_string(),
            instance: crate::leader::hostname(),
            webhook,
            http,
            retry,
            seen: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// The reporting controller name.
    pub fn controller(&self) -> &str {
        &self.controller
    }

    /// Records an event about `obj`: a Kubernetes Event, and the forwarded Flux event unless
    /// `type_` is Trace. `annotations` become the Event's annotations and the forwarded
    /// metadata (use [`revision_annotations`]). Errors are logged, never returned.
    pub async fn record<K>(
        &self,
        obj: &K,
        type_: EventType,
        reason: &str,
        message: &str,
        annotations: BTreeMap<String, String>,
    ) where
        K: Resource<DynamicType = ()>,
    {
        let involved = InvolvedObject::of(obj);
        let mut metadata = annotations;
        for (k, v) in obj.annotations() {
            if k.starts_with(EVENT_ANNOTATION_PREFIX) {
                metadata.insert(k.clone(), v.clone());
            }
        }
        if let Err(e) = self
            .write_kube_event(&involved, type_, reason, message, &metadata)
            .await
        {
            tracing::error!(error = %e, reason, "unable to write event to the Kubernetes API");
        }
        let Some(severity) = type_.severity() else {
            return;
        };
        if self.webhook.is_none() {
            return;
        }
        let event = FluxEvent {
            involved_object: involved,
            severity: severity.to_string(),
            timestamp: rfc3339_seconds(jiff::Timestamp::now()),
            message: message.to_string(),
            reason: reason.to_string(),
            metadata,
            reporting_controller: self.controller.clone(),
            reporting_instance: self.instance.clone(),
        };
        if let Err(e) = self.forward(&event).await {
            tracing::error!(error = %e, reason, "unable to forward event");
        }
    }

    /// POSTs `event` to the webhook with retries on connection errors and 5xx responses;
    /// a 429 means notification-controller already has it (duplicate) and is not retried.
    pub async fn forward(&self, event: &FluxEvent) -> crate::Result<()> {
        let Some(url) = &self.webhook else {
            return Ok(());
        };
        if event.involved_object.namespace.is_empty() {
            return Err(crate::Error::Other("failed to get object namespace".into()));
        }
        let mut wait = self.retry.initial_wait;
        let mut attempt = 0;
        loop {
            let outcome = self.http.post(url).json(event).send().await;
            let retry_reason = match outcome {
                Ok(resp) if resp.status().is_success() || resp.status().as_u16() == 429 => {
                    return Ok(());
                }
                Ok(resp) if resp.status().is_server_error() => format!("HTTP {}", resp.status()),
                Ok(resp) => {
                    return Err(crate::Error::Other(format!(
                        "POST {url}: unexpected HTTP {}",
                        resp.status()
                    )));
                }
                Err(e) => format!("{e}"),
            };
            if attempt >= self.retry.max_retries {
                return Err(crate::Error::Other(format!(
                    "POST {url} giving up after {} attempt(s): {retry_reason}",
                    attempt + 1
                )));
            }
            tracing::debug!(%url, attempt, error = %retry_reason, "retrying event forwarding");
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(Duration::from_secs(30));
            attempt += 1;
        }
    }

    async fn write_kube_event(
        &self,
        involved: &InvolvedObject,
        type_: EventType,
        reason: &str,
        message: &str,
        annotations: &BTreeMap<String, String>,
    ) -> crate::Result<()> {
        let Some(client) = &self.client else {
            return Ok(());
        };
        let namespace = if involved.namespace.is_empty() {
            "default".to_string()
        } else {
            involved.namespace.clone()
        };
        let api: Api<KubeEvent> = Api::namespaced(client.clone(), &namespace);
        let now = crate::conditions::now();
        let key = AggregationKey {
            uid: involved.uid.clone(),
            type_: type_.kube_type(),
            reason: reason.to_string(),
            message: message.to_string(),
        };

        let previous = {
            let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
            seen.retain(|_, a| a.first_seen.elapsed() < AGGREGATION_WINDOW);
            seen.get_mut(&key).map(|a| {
                a.count += 1;
                a.clone()
            })
        };
        if let Some(prev) = previous {
            let patch = serde_json::json!({ "count": prev.count, "lastTimestamp": now });
            match api
                .patch(&prev.name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
            {
                Ok(_) => return Ok(()),
                Err(kube::Error::Api(e)) if e.code == 404 => {}
                Err(e) => return Err(e.into()),
            }
        }

        let nanos = jiff::Timestamp::now().as_nanosecond();
        let name = format!("{}.{:x}", involved.name, nanos);
        let event = KubeEvent {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                namespace: Some(namespace.clone()),
                annotations: Some(annotations.clone()).filter(|a| !a.is_empty()),
                ..ObjectMeta::default()
            },
            involved_object: involved.to_kube(),
            reason: Some(reason.to_string()),
            message: Some(message.to_string()),
            type_: Some(type_.kube_type().to_string()),
            count: Some(1),
            first_timestamp: Some(now.clone()),
            last_timestamp: Some(now),
            source: Some(EventSource {
                component: Some(self.controller.clone()),
                host: None,
            }),
            reporting_component: Some(self.controller.clone()),
            reporting_instance: Some(self.instance.chars().take(128).collect()),
            ..KubeEvent::default()
        };
        api.create(&PostParams::default(), &event).await?;
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if seen.len() >= AGGREGATION_CACHE {
            seen.clear();
        }
        seen.insert(
            key,
            Aggregated {
                name,
                count: 1,
                first_seen: Instant::now(),
            },
        );
        Ok(())
    }
}

/// `metav1.Time`'s JSON form: RFC 3339 in UTC with second precision.
pub fn rfc3339_seconds(t: jiff::Timestamp) -> String {
    jiff::fmt::strtime::format("%Y-%m-%dT%H:%M:%SZ", t).unwrap_or_else(|_| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use axum::Router;
    use axum::extract::State;
    use axum::http::StatusCode;
    use axum::routing::post;
    use ferroflux_api::source::v1::{GitRepository, GitRepositorySpec};

    fn repo() -> GitRepository {
        let mut r = GitRepository::new(
            "podinfo",
            GitRepositorySpec {
                url: "https://example.com/podinfo".into(),
                interval: "1m".into(),
                ..Default::default()
            },
        );
        r.metadata.namespace = Some("flux-system".into());
        r.metadata.uid = Some("8f3c0f7a-0000-4000-8000-000000000001".into());
        r.metadata.resource_version = Some("42".into());
        r.metadata.annotations = Some(BTreeMap::from([
            (
                "event.toolkit.fluxcd.io/team".to_string(),
                "platform".to_string(),
            ),
            ("unrelated.example.com/x".to_string(), "y".to_string()),
        ]));
        r
    }

    #[test]
    fn flux_event_json_shape() {
        let event = FluxEvent {
            involved_object: InvolvedObject::of(&repo()),
            severity: "info".into(),
            timestamp: rfc3339_seconds(jiff::Timestamp::from_second(1_700_000_000).unwrap()),
            message: "stored artifact for commit 'Add x'".into(),
            reason: "NewArtifact".into(),
            metadata: revision_annotations(
                "source.toolkit.fluxcd.io",
                "main@sha1:abc",
                Some("sha256:def"),
            ),
            reporting_controller: "source-controller".into(),
            reporting_instance: "source-controller-abc".into(),
        };
        let json = serde_json::to_string(&event).unwrap();
        assert_eq!(
            json,
            concat!(
                r#"{"involvedObject":{"kind":"GitRepository","namespace":"flux-system","name":"podinfo","#,
                r#""uid":"8f3c0f7a-0000-4000-8000-000000000001","apiVersion":"source.toolkit.fluxcd.io/v1","resourceVersion":"42"},"#,
                r#""severity":"info","timestamp":"2023-11-14T22:13:20Z","message":"stored artifact for commit 'Add x'","#,
                r#""reason":"NewArtifact","metadata":{"source.toolkit.fluxcd.io/digest":"sha256:def","#,
                r#""source.toolkit.fluxcd.io/revision":"main@sha1:abc"},"reportingController":"source-controller","#,
                r#""reportingInstance":"source-controller-abc"}"#
            )
        );
        // Without metadata the key is omitted, like Go's omitempty.
        let bare = FluxEvent {
            metadata: BTreeMap::new(),
            ..event
        };
        let v: serde_json::Value = serde_json::to_value(&bare).unwrap();
        assert!(v.get("metadata").is_none());
    }

    #[test]
    fn event_types() {
        assert_eq!(EventType::Warning.kube_type(), "Warning");
        assert_eq!(EventType::Trace.kube_type(), "Normal");
        assert_eq!(EventType::Normal.severity(), Some("info"));
        assert_eq!(EventType::Warning.severity(), Some("error"));
        assert_eq!(EventType::Trace.severity(), None);
    }

    #[derive(Clone, Default)]
    struct Sink {
        bodies: Arc<Mutex<Vec<FluxEvent>>>,
        calls: Arc<AtomicUsize>,
        fail_first: usize,
        status_after: u16,
    }

    async fn receive(State(sink): State<Sink>, body: axum::body::Bytes) -> StatusCode {
        let n = sink.calls.fetch_add(1, Ordering::SeqCst);
        if n < sink.fail_first {
            return StatusCode::INTERNAL_SERVER_ERROR;
        }
        if let Ok(e) = serde_json::from_slice::<FluxEvent>(&body) {
            sink.bodies.lock().unwrap().push(e);
        }
        StatusCode::from_u16(sink.status_after).unwrap()
    }

    async fn serve(sink: Sink) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new().route("/", post(receive)).with_state(sink);
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}/")
    }

    fn fast() -> RetryPolicy {
        RetryPolicy {
            max_retries: 3,
            initial_wait: Duration::from_millis(10),
            timeout: Duration::from_secs(2),
        }
    }

    #[tokio::test]
    async fn forwards_events_to_a_real_http_server() {
        let sink = Sink {
            status_after: 202,
            ..Sink::default()
        };
        let url = serve(sink.clone()).await;
        let rec = EventRecorder::with_retry(None, "source-controller", Some(url), fast());
        let obj = repo();
        rec.record(
            &obj,
            EventType::Normal,
            "NewArtifact",
            "stored artifact",
            revision_annotations("source.toolkit.fluxcd.io", "main@sha1:abc", None),
        )
        .await;
        rec.record(
            &obj,
            EventType::Warning,
            "GitOperationFailed",
            "clone failed",
            BTreeMap::new(),
        )
        .await;
        rec.record(
            &obj,
            EventType::Trace,
            "Progressing",
            "not forwarded",
            BTreeMap::new(),
        )
        .await;
        let got = sink.bodies.lock().unwrap().clone();
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[0].severity, "info");
        assert_eq!(got[0].reason, "NewArtifact");
        assert_eq!(got[0].reporting_controller, "source-controller");
        assert_eq!(got[0].involved_object.kind, "GitRepository");
        assert_eq!(
            got[0]
                .metadata
                .get("source.toolkit.fluxcd.io/revision")
                .map(String::as_str),
            Some("main@sha1:abc")
        );
        // Object annotations with Flux's event prefix ride along; others do not.
        assert_eq!(
            got[0]
                .metadata
                .get("event.toolkit.fluxcd.io/team")
                .map(String::as_str),
            Some("platform")
        );
        assert!(!got[0].metadata.contains_key("unrelated.example.com/x"));
        assert_eq!(got[1].severity, "error");
        let ts = &got[1].timestamp;
        assert!(
            ts.parse::<jiff::Timestamp>().is_ok() && ts.ends_with('Z') && !ts.contains('.'),
            "{ts}"
        );
    }

    #[tokio::test]
    async fn retries_server_errors_and_not_duplicates() {
        let sink = Sink {
            fail_first: 2,
            status_after: 200,
            ..Sink::default()
        };
        let url = serve(sink.clone()).await;
        let rec = EventRecorder::with_retry(None, "kustomize-controller", Some(url), fast());
        rec.record(
            &repo(),
            EventType::Normal,
            "ReconciliationSucceeded",
            "applied",
            BTreeMap::new(),
        )
        .await;
        assert_eq!(sink.calls.load(Ordering::SeqCst), 3);
        assert_eq!(sink.bodies.lock().unwrap().len(), 1);

        let dup = Sink {
            status_after: 429,
            ..Sink::default()
        };
        let url = serve(dup.clone()).await;
        let rec = EventRecorder::with_retry(None, "kustomize-controller", Some(url), fast());
        let event = FluxEvent {
            involved_object: InvolvedObject::of(&repo()),
            severity: "info".into(),
            timestamp: rfc3339_seconds(jiff::Timestamp::now()),
            message: "m".into(),
            reason: "r".into(),
            metadata: BTreeMap::new(),
            reporting_controller: "kustomize-controller".into(),
            reporting_instance: String::new(),
        };
        rec.forward(&event).await.unwrap();
        assert_eq!(dup.calls.load(Ordering::SeqCst), 1, "429 is not retried");
    }

    #[tokio::test]
    async fn forwarding_failures_are_errors_not_panics() {
        let sink = Sink {
            fail_first: usize::MAX,
            status_after: 200,
            ..Sink::default()
        };
        let url = serve(sink.clone()).await;
        let rec = EventRecorder::with_retry(None, "helm-controller", Some(url), fast());
        let event = FluxEvent {
            involved_object: InvolvedObject::of(&repo()),
            severity: "error".into(),
            timestamp: rfc3339_seconds(jiff::Timestamp::now()),
            message: "m".into(),
            reason: "r".into(),
            metadata: BTreeMap::new(),
            reporting_controller: "helm-controller".into(),
            reporting_instance: String::new(),
        };
        let e = rec.forward(&event).await.unwrap_err().to_string();
        assert!(e.contains("giving up after 4 attempt(s)"), "{e}");
        assert_eq!(sink.calls.load(Ordering::SeqCst), 4);
        // A closed port: connection refused, retried, then an error.
        let closed = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap()
        };
        let rec = EventRecorder::with_retry(
            None,
            "helm-controller",
            Some(format!("http://{closed}/")),
            fast(),
        );
        assert!(rec.forward(&event).await.is_err());
        // No namespace: not forwarded (Flux refuses too).
        let mut no_ns = event.clone();
        no_ns.involved_object.namespace.clear();
        assert!(
            rec.forward(&no_ns)
                .await
                .unwrap_err()
                .to_string()
                .contains("namespace")
        );
    }
}
