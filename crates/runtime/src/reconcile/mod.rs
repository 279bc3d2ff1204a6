//! The controller wiring every Flux kind shares, so a reconciler only writes its steps.
//!
//! For each object the generic wrapper ([`run`]), built on `kube::runtime::Controller`:
//! 1. skips requests for objects that have not changed and are not due (Flux's predicates);
//! 2. on deletion runs [`Reconciler::finalize`] and removes the finalizer;
//! 3. adds the finalizer if missing;
//! 4. for a suspended object records `lastHandledReconcileAt` and stops (no requeue);
//! 5. on a new generation marks `Reconciling`/`Ready=Unknown` ("processing object: new
//!    generation X -> Y") with an intermediate patch;
//! 6. runs [`Reconciler::reconcile`] on a working copy whose status the reconciler edits;
//! 7. summarises `Ready` (kstatus; see [`crate::conditions::summarize`]), records
//!    `lastHandledReconcileAt` and `observedGeneration`, and patches the status once (JSON merge
//!    patch of what changed, field manager = controller name);
//! 8. emits an Event for failures, records metrics, and requeues: after `spec.interval` with
//!    jitter on success, after the given delay for [`ErrorKind::Waiting`], never for
//!    [`ErrorKind::Stalling`] (until the object changes), with per-object exponential backoff
//!    for [`ErrorKind::Generic`].

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::future::Future;
use std::marker::PhantomData;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ferroflux_api::conditions::{READY, RECONCILING, STALLED, reason};
use futures::{FutureExt, StreamExt};
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::{self, Action, Controller};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use kube::{Resource, ResourceExt};
use tracing::Instrument;

use crate::conditions::{self, Polarity, Verdict};
use crate::events::{EventRecorder, EventType};
use crate::flags::RuntimeConfig;
use crate::health::CacheState;
use crate::metrics::Metrics;

mod object;
pub mod schedule;

pub use object::{FluxObject, merge_diff, status_value};
use schedule::{Admit, Fingerprint, Key, Memory, Next};

/// Flux's finalizer on every kind.
pub const FINALIZER: &str = "finalizers.fluxcd.io";

/// A successful reconcile: Ready=True with this reason and message (unless an owned condition
/// says otherwise), requeued after `spec.interval` with jitter or `requeue_after`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub reason: String,
    pub message: String,
    pub requeue_after: Option<Duration>,
}

impl Outcome {
    /// Ready=True with `reason` (e.g. `Succeeded`) and `message` (e.g. "stored artifact for
    /// revision 'main@sha1:…'").
    pub fn ready(reason: impl Into<String>, message: impl Into<String>) -> Self {
        Outcome {
            reason: reason.into(),
            message: message.into(),
            requeue_after: None,
        }
    }

    /// Requeue after `d` instead of the jittered interval.
    pub fn requeue_after(mut self, d: Duration) -> Self {
        self.requeue_after = Some(d);
        self
    }
}

/// How a failed reconcile continues (source-controller's `serror` kinds).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// Retrying cannot help until the object changes (invalid spec): Stalled=True,
    /// `observedGeneration` recorded, no requeue.
    Stalling,
    /// Not a failure of this object (e.g. a dependency is not ready): requeue after the delay
    /// (`--requeue-dependency` typically), backoff reset.
    Waiting(Duration),
    /// A failure worth retrying: per-object exponential backoff between `--min-retry-delay` and
    /// `--max-retry-delay` (or `spec.retryInterval` where the kind has it).
    Generic,
}

/// A failed reconcile, with the Flux reason that goes to Ready, the Event and the log.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ReconcileError {
    pub kind: ErrorKind,
    /// A Flux reason, e.g. `GitOperationFailed`, `DependencyNotReady`.
    pub reason: String,
    pub message: String,
    /// Whether to emit an Event (Warning; Normal for Waiting). Default true.
    pub event: bool,
    /// Event annotations (e.g. [`crate::events::revision_annotations`]).
    pub annotations: BTreeMap<String, String>,
}

impl ReconcileError {
    fn new(kind: ErrorKind, reason: impl Into<String>, message: impl Into<String>) -> Self {
        ReconcileError {
            kind,
            reason: reason.into(),
            message: message.into(),
            event: true,
            annotations: BTreeMap::new(),
        }
    }

    /// See [`ErrorKind::Stalling`].
    pub fn stalling(reason: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Stalling, reason, message)
    }

    /// See [`ErrorKind::Waiting`].
    pub fn waiting(
        reason: impl Into<String>,
        message: impl Into<String>,
        requeue_after: Duration,
    ) -> Self {
        Self::new(ErrorKind::Waiting(requeue_after), reason, message)
    }

    /// See [`ErrorKind::Generic`].
    pub fn generic(reason: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Generic, reason, message)
    }

    /// Suppresses the Event.
    pub fn without_event(mut self) -> Self {
        self.event = false;
        self
    }

    /// Adds an Event annotation.
    pub fn with_annotation(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.annotations.insert(key.into(), value.into());
        self
    }
}

impl From<kube::Error> for ReconcileError {
    fn from(e: kube::Error) -> Self {
        ReconcileError::generic(reason::RECONCILIATION_FAILED, e.to_string())
    }
}

impl From<crate::Error> for ReconcileError {
    fn from(e: crate::Error) -> Self {
        ReconcileError::generic(reason::RECONCILIATION_FAILED, e.to_string())
    }
}

/// A Flux reconciler for kind `K`. Implement `reconcile` and `finalize` (both may be written
/// `async fn`); the wrapper does the rest (see the module docs).
pub trait Reconciler<K: FluxObject>: Send + Sync + Sized + 'static {
    /// The finalizer the wrapper adds and removes.
    const FINALIZER: &'static str = FINALIZER;

    /// Whether `reconcile` patches its own progress before any slow work (Flux's
    /// kustomize-controller reports "Fetching manifests…" that way). The wrapper then leaves
    /// its "new generation" progress in the status for that patch to carry, one status write
    /// fewer per new generation.
    const REPORTS_PROGRESS: bool = false;

    /// The condition types this reconciler owns, for the Ready summary.
    const POLARITY: Polarity = Polarity {
        negative: &[],
        positive: &[],
    };

    /// Brings the world in line with `obj` and records the result in `obj`'s status
    /// (conditions other than Ready, artifact, …). The wrapper patches the status afterwards.
    fn reconcile(
        &self,
        obj: &mut K,
        ctx: &ReconcileContext,
    ) -> impl Future<Output = Result<Outcome, ReconcileError>> + Send;

    /// Cleans up before deletion (e.g. garbage-collects artifacts or prunes). The finalizer is
    /// removed once this succeeds.
    fn finalize(
        &self,
        obj: &K,
        ctx: &ReconcileContext,
    ) -> impl Future<Output = Result<(), ReconcileError>> + Send;

    /// Adds watches (e.g. a Kustomization's sources) to the controller. Use
    /// [`WatchContext::triggers`] in the mappers so that the mapped objects are reconciled
    /// even though they did not change.
    fn configure(&self, controller: Controller<K>, _ctx: &WatchContext<K>) -> Controller<K> {
        controller
    }
}

/// What is shared by every reconcile of a process.
#[derive(Clone)]
pub struct SharedContext {
    pub client: kube::Client,
    pub config: Arc<RuntimeConfig>,
    pub events: EventRecorder,
    pub metrics: Metrics,
    /// The binary's name, e.g. `source-controller`: field manager and reporting controller.
    pub controller_name: Arc<str>,
}

impl std::fmt::Debug for SharedContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedContext")
            .field("controller_name", &self.controller_name)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for ReconcileContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReconcileContext")
            .field("controller_name", &self.controller_name)
            .field("reconcile_id", &self.reconcile_id)
            .finish_non_exhaustive()
    }
}

/// What a reconcile gets besides the object.
pub struct ReconcileContext {
    pub client: kube::Client,
    pub config: Arc<RuntimeConfig>,
    pub events: EventRecorder,
    /// The binary's name, e.g. `source-controller`.
    pub controller_name: Arc<str>,
    /// This reconcile's ID (also in the log span).
    pub reconcile_id: String,
    /// The status last written or read, to diff patches against.
    baseline: Mutex<serde_json::Value>,
    started: Instant,
}

impl ReconcileContext {
    /// A context for one reconcile of an object whose status is `baseline`.
    pub fn new(shared: &SharedContext, baseline: serde_json::Value) -> Self {
        ReconcileContext {
            client: shared.client.clone(),
            config: shared.config.clone(),
            events: shared.events.clone(),
            controller_name: shared.controller_name.clone(),
            reconcile_id: crate::leader::random_uuid(),
            baseline: Mutex::new(baseline),
            started: Instant::now(),
        }
    }

    /// Time since this reconcile started.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// An `Api` for `K` in `namespace`.
    pub fn api<K>(&self, namespace: &str) -> Api<K>
    where
        K: Resource<Scope = kube::core::NamespaceResourceScope, DynamicType = ()>,
    {
        Api::namespaced(self.client.clone(), namespace)
    }

    /// Emits an Event (and forwards it) in the background; see [`EventRecorder::record`].
    pub fn event<K: FluxObject>(
        &self,
        obj: &K,
        type_: EventType,
        reason: &str,
        message: &str,
        annotations: BTreeMap<String, String>,
    ) {
        let (events, obj, reason, message) = (
            self.events.clone(),
            obj.clone(),
            reason.to_string(),
            message.to_string(),
        );
        tokio::spawn(async move {
            events
                .record(&obj, type_, &reason, &message, annotations)
                .await
        });
    }

    /// Patches the status now (progress reports during a long reconcile); the final patch
    /// diffs against what this wrote.
    pub async fn patch_status<K: FluxObject>(&self, obj: &K) -> crate::Result<()> {
        let after = status_value(obj);
        let before = self
            .baseline
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if let Some(diff) = merge_diff(&before, &after) {
            let api: Api<K> = self.api(&obj.namespace().unwrap_or_default());
            let pp = PatchParams {
                field_manager: Some(self.controller_name.to_string()),
                ..PatchParams::default()
            };
            api.patch_status(
                &obj.name_any(),
                &pp,
                &Patch::Merge(serde_json::json!({ "status": diff })),
            )
            .await?;
            *self.baseline.lock().unwrap_or_else(|p| p.into_inner()) = after;
        }
        Ok(())
    }
}

/// Forces reconciles of objects that did not change (see [`Reconciler::configure`]).
pub struct Triggers<K> {
    memory: Arc<Memory>,
    _kind: PhantomData<fn() -> K>,
}

impl<K> Clone for Triggers<K> {
    fn clone(&self) -> Self {
        Triggers {
            memory: self.memory.clone(),
            _kind: PhantomData,
        }
    }
}

impl<K: Resource<DynamicType = ()> + 'static> Triggers<K> {
    /// The next request for `obj_ref` runs even if the object has not changed.
    pub fn force(&self, obj_ref: &ObjectRef<K>) {
        self.memory.force(Key {
            namespace: obj_ref.namespace.clone().unwrap_or_default(),
            name: obj_ref.name.clone(),
        });
    }

    /// Wraps a `Controller::watches` mapper so that every object it returns is reconciled.
    pub fn forcing<O, I, F>(
        &self,
        mapper: F,
    ) -> impl Fn(O) -> Vec<ObjectRef<K>> + Send + Sync + 'static
    where
        F: Fn(O) -> I + Send + Sync + 'static,
        I: IntoIterator<Item = ObjectRef<K>>,
    {
        let triggers = self.clone();
        move |o| {
            let refs: Vec<ObjectRef<K>> = mapper(o).into_iter().collect();
            for r in &refs {
                triggers.force(r);
            }
            refs
        }
    }
}

/// What [`Reconciler::configure`] may use.
pub struct WatchContext<K> {
    pub client: kube::Client,
    pub config: Arc<RuntimeConfig>,
    pub triggers: Triggers<K>,
}

impl<K> WatchContext<K> {
    /// An `Api` over the watched namespaces (all, or `RUNTIME_NAMESPACE` with
    /// `--watch-all-namespaces=false`).
    pub fn api<O>(&self) -> Api<O>
    where
        O: Resource<Scope = kube::core::NamespaceResourceScope, DynamicType = ()>,
    {
        watched_api(&self.client, &self.config)
    }
}

fn watched_api<O>(client: &kube::Client, config: &RuntimeConfig) -> Api<O>
where
    O: Resource<Scope = kube::core::NamespaceResourceScope, DynamicType = ()>,
{
    match &config.watch.namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    }
}

/// The controller label of a kind: controller-runtime's lower-cased kind (`gitrepository`).
pub fn controller_label<K: Resource<DynamicType = ()>>() -> String {
    K::kind(&()).to_lowercase()
}

struct Wiring<K, R> {
    reconciler: R,
    shared: SharedContext,
    memory: Arc<Memory>,
    label: String,
    _kind: PhantomData<fn() -> K>,
}

/// Runs the controller for `K` until `shutdown` resolves and in-flight reconciles finish.
pub async fn run<K, R>(
    shared: SharedContext,
    reconciler: R,
    cache: Arc<CacheState>,
    shutdown: impl Future<Output = ()> + Send + Sync + 'static,
) where
    K: FluxObject,
    R: Reconciler<K>,
{
    let label = controller_label::<K>();
    let memory = Arc::new(Memory::default());
    let config = shared.config.clone();
    let mut wc = watcher::Config::default().any_semantic();
    if let Some(sel) = &config.watch.label_selector {
        wc = wc.labels(sel);
    }
    let api: Api<K> = watched_api(&shared.client, &config);
    let watch_ctx = WatchContext {
        client: shared.client.clone(),
        config: config.clone(),
        triggers: Triggers {
            memory: memory.clone(),
            _kind: PhantomData,
        },
    };
    let controller = Controller::new(api, wc)
        .with_config(controller::Config::default().concurrency(config.concurrent));
    let controller = reconciler.configure(controller, &watch_ctx);
    let store = controller.store();
    cache.set_running(true);
    let synced = {
        let cache = cache.clone();
        let label = label.clone();
        tokio::spawn(async move {
            // Re-poll: the store's readiness is a oneshot that wakes only its latest poller
            // (the controller's runner also waits on it), so a lone await could sleep forever.
            loop {
                match tokio::time::timeout(Duration::from_millis(100), store.wait_until_ready())
                    .await
                {
                    Ok(Ok(())) => {
                        tracing::info!(controller = %label, "informer cache synced");
                        cache.set_synced(true);
                        break;
                    }
                    Ok(Err(_)) => break,
                    Err(_) => {}
                }
            }
        })
    };
    let depth = {
        let (memory, metrics, label) = (memory.clone(), shared.metrics.clone(), label.clone());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            loop {
                tick.tick().await;
                metrics.set_queue_depth(&label, memory.queue_depth(Instant::now()));
            }
        })
    };
    tracing::info!(controller = %label, controllerGroup = %K::group(&()), controllerKind = %K::kind(&()), worker_count = config.concurrent, "Starting Controller");
    let wiring = Arc::new(Wiring {
        reconciler,
        shared,
        memory: memory.clone(),
        label: label.clone(),
        _kind: PhantomData::<fn() -> K>,
    });
    controller
        .graceful_shutdown_on(shutdown)
        .run(
            |obj, wiring| reconcile_entry(obj, wiring),
            |_obj, err: &Infallible, _wiring| match *err {},
            wiring,
        )
        .for_each(|res| {
            match res {
                Ok(_) => {}
                Err(controller::Error::ObjectNotFound(r)) => {
                    memory.forget(&Key {
                        namespace: r.namespace.clone().unwrap_or_default(),
                        name: r.name.clone(),
                    });
                }
                Err(e) => tracing::warn!(controller = %label, error = %e, "controller error"),
            }
            std::future::ready(())
        })
        .await;
    depth.abort();
    synced.abort();
    cache.set_running(false);
    tracing::info!(controller = %label, "controller stopped");
}

/// Result label and what comes next, per outcome.
struct Done {
    next: Next,
    label: &'static str,
    fingerprint: Fingerprint,
}

async fn reconcile_entry<K, R>(obj: Arc<K>, wiring: Arc<Wiring<K, R>>) -> Result<Action, Infallible>
where
    K: FluxObject,
    R: Reconciler<K>,
{
    let key = Key::of(&*obj);
    let fingerprint = Fingerprint::of(&*obj, R::FINALIZER);
    if let Admit::Skip(after) = wiring.memory.admit(&key, &fingerprint, Instant::now()) {
        return Ok(after.map_or_else(Action::await_change, Action::requeue));
    }
    let ctx = ReconcileContext::new(&wiring.shared, status_value(&*obj));
    let span = tracing::info_span!(
        "reconcile",
        controller = %wiring.label,
        controllerGroup = %K::group(&()),
        controllerKind = %K::kind(&()),
        name = %key.name,
        namespace = %key.namespace,
        reconcileID = %ctx.reconcile_id,
    );
    let metrics = &wiring.shared.metrics;
    metrics.add_active_workers(&wiring.label, 1);
    let start = Instant::now();
    let done = AssertUnwindSafe(reconcile_object(
        &wiring,
        obj.clone(),
        &ctx,
        fingerprint.clone(),
    ))
    .catch_unwind()
    .instrument(span.clone())
    .await
    .unwrap_or_else(|_| {
        span.in_scope(|| tracing::error!("Observed a panic in reconciler"));
        Done {
            next: Next::Backoff(None),
            label: "error",
            fingerprint,
        }
    });
    metrics.add_active_workers(&wiring.label, -1);
    let kind = K::kind(&());
    metrics.record_reconcile(
        &wiring.label,
        &kind,
        &key.namespace,
        &key.name,
        done.label,
        start.elapsed(),
    );
    if done.next == Next::Gone {
        metrics.forget_object(&kind, &key.namespace, &key.name);
    }
    let after = wiring.memory.finish(
        &key,
        done.fingerprint,
        done.next,
        wiring.shared.config.retry,
        Instant::now(),
    );
    Ok(after.map_or_else(Action::await_change, Action::requeue))
}

async fn reconcile_object<K, R>(
    wiring: &Wiring<K, R>,
    obj: Arc<K>,
    ctx: &ReconcileContext,
    fingerprint: Fingerprint,
) -> Done
where
    K: FluxObject,
    R: Reconciler<K>,
{
    let shared = &wiring.shared;
    let api: Api<K> = ctx.api(&obj.namespace().unwrap_or_default());
    let generation = obj.meta().generation;

    if obj.meta().deletion_timestamp.is_some() {
        if !fingerprint.has_finalizer {
            return Done {
                next: Next::Gone,
                label: "success",
                fingerprint,
            };
        }
        return match wiring.reconciler.finalize(&obj, ctx).await {
            Ok(()) => {
                match remove_finalizer(&api, &obj, R::FINALIZER, &shared.controller_name).await {
                    Ok(()) => {
                        tracing::debug!("finalizer removed");
                        Done {
                            next: Next::Gone,
                            label: "success",
                            fingerprint,
                        }
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "failed to remove finalizer");
                        Done {
                            next: Next::Backoff(None),
                            label: "error",
                            fingerprint,
                        }
                    }
                }
            }
            Err(e) => {
                let mut working = (*obj).clone();
                conditions::mark_false(
                    working.conditions_mut(),
                    READY,
                    &e.reason,
                    &e.message,
                    generation,
                );
                report_error(ctx, &working, &e);
                if let Err(pe) = ctx.patch_status(&working).await {
                    tracing::debug!(error = %pe, "failed to patch status of a deleted object");
                }
                let (next, label) = next_for_error(&e, working.retry_interval());
                Done {
                    next,
                    label,
                    fingerprint,
                }
            }
        };
    }

    let mut working = (*obj).clone();
    let mut fingerprint = fingerprint;
    if !fingerprint.has_finalizer {
        match add_finalizer(&api, &working, R::FINALIZER, &shared.controller_name).await {
            Ok(updated) => {
                working = updated;
                fingerprint.has_finalizer = true;
            }
            Err(e) => {
                tracing::error!(error = %e, "failed to add finalizer");
                return Done {
                    next: Next::Backoff(None),
                    label: "error",
                    fingerprint,
                };
            }
        }
    }

    if working.suspended() {
        tracing::info!("Reconciliation is suspended for this object");
        record_requested_at(&mut working);
        if let Err(e) = ctx.patch_status(&working).await {
            tracing::error!(error = %e, "failed to patch status");
            return Done {
                next: Next::Backoff(None),
                label: "error",
                fingerprint,
            };
        }
        return Done {
            next: Next::AwaitChange,
            label: "success",
            fingerprint,
        };
    }

    let interval = match working.interval() {
        Ok(d) => Ok(d),
        Err(e) => Err(ReconcileError::stalling(
            "InvalidInterval",
            format!("invalid spec.interval: {e}"),
        )),
    };

    if working.observed_generation() != generation {
        let message = format!(
            "processing object: new generation {} -> {}",
            working.observed_generation().unwrap_or(0),
            generation.unwrap_or(0)
        );
        conditions::progressive_status(
            working.conditions_mut(),
            false,
            reason::PROGRESSING,
            &message,
            generation,
        );
        if !R::REPORTS_PROGRESS
            && let Err(e) = ctx.patch_status(&working).await
        {
            tracing::debug!(error = %e, "failed to patch the progressing status");
        }
    }

    let result = match &interval {
        Ok(_) => wiring.reconciler.reconcile(&mut working, ctx).await,
        Err(e) => Err(e.clone()),
    };

    // The one place Ready is summarised and the status patched.
    record_requested_at(&mut working);
    let conds = working.conditions_mut();
    let (next, label) = match &result {
        Ok(outcome) => {
            conditions::remove(conds, RECONCILING);
            conditions::remove(conds, STALLED);
            conditions::summarize(
                conds,
                &R::POLARITY,
                Verdict::Success {
                    reason: &outcome.reason,
                    message: &outcome.message,
                },
                generation,
            );
            working.set_observed_generation(generation);
            let d = outcome.requeue_after.or_else(|| {
                interval.as_ref().ok().map(|i| {
                    crate::reconcile::schedule::jittered(
                        *i,
                        shared.config.interval_jitter_percentage,
                    )
                })
            });
            match d {
                Some(d) if !d.is_zero() => (Next::After(d), "requeue_after"),
                _ => (Next::AwaitChange, "success"),
            }
        }
        Err(e) => {
            let failure = Verdict::Failure {
                reason: &e.reason,
                message: &e.message,
            };
            match e.kind {
                ErrorKind::Stalling => {
                    conditions::mark_stalled(conds, &e.reason, &e.message, generation);
                    conditions::summarize(conds, &R::POLARITY, failure, generation);
                    working.set_observed_generation(generation);
                }
                ErrorKind::Waiting(_) | ErrorKind::Generic => {
                    conditions::remove(conds, STALLED);
                    if let Some(r) = conditions::get(conds, RECONCILING).cloned() {
                        conditions::mark_true(
                            conds,
                            RECONCILING,
                            reason::PROGRESSING_WITH_RETRY,
                            &r.message,
                            generation,
                        );
                    }
                    conditions::summarize(conds, &R::POLARITY, failure, generation);
                }
            }
            report_error(ctx, &working, e);
            next_for_error(e, working.retry_interval())
        }
    };

    if let Err(e) = ctx.patch_status(&working).await {
        match &e {
            crate::Error::Kube(kube::Error::Api(ae)) if ae.code == 404 => {}
            _ => {
                tracing::error!(error = %e, "failed to patch status");
                return Done {
                    next: Next::Backoff(None),
                    label: "error",
                    fingerprint,
                };
            }
        }
    }
    if let (Ok(_), Next::After(d)) = (&result, next) {
        tracing::info!(
            "Reconciliation finished in {}, next run in {}",
            ferroflux_api::duration::format(round_ms(ctx.elapsed())),
            ferroflux_api::duration::format(round_ms(d))
        );
    }
    Done {
        next,
        label,
        fingerprint,
    }
}

fn next_for_error(e: &ReconcileError, retry_interval: Option<Duration>) -> (Next, &'static str) {
    match e.kind {
        ErrorKind::Stalling => (Next::AwaitChange, "success"),
        ErrorKind::Waiting(d) => (Next::After(d), "requeue_after"),
        ErrorKind::Generic => (Next::Backoff(retry_interval), "error"),
    }
}

/// Logs the failure and emits its Event.
fn report_error<K: FluxObject>(ctx: &ReconcileContext, obj: &K, e: &ReconcileError) {
    let type_ = match e.kind {
        ErrorKind::Stalling => {
            tracing::error!(reason = %e.reason, error = %e.message, "Reconciliation stalled");
            EventType::Warning
        }
        ErrorKind::Waiting(after) => {
            tracing::info!(reason = %e.reason, "{}, retrying in {}", e.message, ferroflux_api::duration::format(after));
            EventType::Normal
        }
        ErrorKind::Generic => {
            tracing::error!(reason = %e.reason, error = %e.message, "Reconciler error");
            EventType::Warning
        }
    };
    if e.event {
        ctx.event(obj, type_, &e.reason, &e.message, e.annotations.clone());
    }
}

fn record_requested_at<K: FluxObject>(obj: &mut K) {
    if let Some(v) = obj.requested_at().map(str::to_string) {
        obj.set_last_handled_reconcile_at(Some(v));
    }
}

fn round_ms(d: Duration) -> Duration {
    Duration::from_millis(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Adds `finalizer` with a merge patch guarded by `resourceVersion` (a concurrent change fails
/// with 409 and is retried), returning the updated object.
async fn add_finalizer<K: FluxObject>(
    api: &Api<K>,
    obj: &K,
    finalizer: &str,
    manager: &str,
) -> crate::Result<K> {
    let mut finalizers = obj.finalizers().to_vec();
    finalizers.push(finalizer.to_string());
    let patch = serde_json::json!({
        "metadata": { "finalizers": finalizers, "resourceVersion": obj.resource_version() }
    });
    let pp = PatchParams {
        field_manager: Some(manager.to_string()),
        ..PatchParams::default()
    };
    Ok(api
        .patch(&obj.name_any(), &pp, &Patch::Merge(&patch))
        .await?)
}

/// Removes `finalizer`, guarded by `resourceVersion` like [`add_finalizer`]; a missing object
/// is fine.
async fn remove_finalizer<K: FluxObject>(
    api: &Api<K>,
    obj: &K,
    finalizer: &str,
    manager: &str,
) -> crate::Result<()> {
    let finalizers: Vec<&String> = obj
        .finalizers()
        .iter()
        .filter(|f| *f != finalizer)
        .collect();
    let patch = serde_json::json!({
        "metadata": { "finalizers": finalizers, "resourceVersion": obj.resource_version() }
    });
    let pp = PatchParams {
        field_manager: Some(manager.to_string()),
        ..PatchParams::default()
    };
    match api.patch(&obj.name_any(), &pp, &Patch::Merge(&patch)).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(()),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_map_to_requeues_and_results() {
        let d = Duration::from_secs(30);
        assert_eq!(
            next_for_error(&ReconcileError::stalling("InvalidURL", "bad"), None),
            (Next::AwaitChange, "success")
        );
        assert_eq!(
            next_for_error(
                &ReconcileError::waiting("DependencyNotReady", "wait", d),
                None
            ),
            (Next::After(d), "requeue_after")
        );
        assert_eq!(
            next_for_error(&ReconcileError::generic("GitOperationFailed", "x"), None),
            (Next::Backoff(None), "error")
        );
        assert_eq!(
            next_for_error(&ReconcileError::generic("GitOperationFailed", "x"), Some(d)),
            (Next::Backoff(Some(d)), "error")
        );
    }

    #[test]
    fn reconcile_error_builders() {
        let e = ReconcileError::generic("BuildFailed", "kustomize build failed")
            .with_annotation("kustomize.toolkit.fluxcd.io/revision", "main@sha1:abc")
            .without_event();
        assert_eq!(e.to_string(), "kustomize build failed");
        assert!(!e.event);
        assert_eq!(e.annotations.len(), 1);
        let o = Outcome::ready("Succeeded", "done").requeue_after(Duration::from_secs(5));
        assert_eq!(o.requeue_after, Some(Duration::from_secs(5)));
        assert_eq!(
            controller_label::<ferroflux_api::source::v1::GitRepository>(),
            "gitrepository"
        );
    }
}
