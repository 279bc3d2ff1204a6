//! When to reconcile again: interval jitter, per-object exponential backoff, and the memory
//! that filters watch events the way Flux's predicates do.
//!
//! kube's `Controller` reconciles on every change of the object, including our own status
//! patches. Flux only reacts to a new `metadata.generation` or a new
//! `reconcile.fluxcd.io/requestedAt` (GenerationChanged OR ReconcileRequested predicates). We
//! get the same by remembering, per object, what we last reconciled and when the next
//! reconcile is due: an early request for an unchanged object is answered with "not yet".

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use kube::{Resource, ResourceExt};

use crate::flags::RetryConfig;

/// Flux's `jitter.Percent`: `d * (1 + p * (2r - 1))` for `r` uniform in [0, 1).
pub fn jitter(d: Duration, percentage: u8, r: f64) -> Duration {
    let p = f64::from(percentage.min(99)) / 100.0;
    d.mul_f64((1.0 + p * (2.0 * r.clamp(0.0, 1.0) - 1.0)).max(0.0))
}

/// [`jitter`] with a random `r`.
pub fn jittered(d: Duration, percentage: u8) -> Duration {
    jitter(d, percentage, rand::random::<f64>())
}

/// controller-runtime's `ItemExponentialFailureRateLimiter`: `min * 2^failures`, capped at `max`
/// (`failures` counts the failures before this one).
pub fn backoff(retry: RetryConfig, failures: u32) -> Duration {
    let factor = 2f64.powi(i32::try_from(failures.min(64)).unwrap_or(64));
    let d = retry.min.as_secs_f64() * factor;
    if !d.is_finite() || d >= retry.max.as_secs_f64() {
        retry.max
    } else {
        Duration::from_secs_f64(d)
    }
}

/// Identifies an object across reconciles.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    pub namespace: String,
    pub name: String,
}

impl Key {
    pub fn of<K: Resource>(obj: &K) -> Self {
        Key {
            namespace: obj.namespace().unwrap_or_default(),
            name: obj.name_any(),
        }
    }
}

/// What makes an object worth reconciling again before its next due time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Fingerprint {
    pub uid: Option<String>,
    pub generation: Option<i64>,
    pub requested_at: Option<String>,
    pub deleting: bool,
    pub has_finalizer: bool,
}

impl Fingerprint {
    pub fn of<K: crate::reconcile::FluxObject>(obj: &K, finalizer: &str) -> Self {
        Fingerprint {
            uid: obj.uid(),
            generation: obj.meta().generation,
            requested_at: obj.requested_at().map(str::to_string),
            deleting: obj.meta().deletion_timestamp.is_some(),
            has_finalizer: obj.finalizers().iter().any(|f| f == finalizer),
        }
    }
}

/// What the wrapper decided after a reconcile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Next {
    /// Success or waiting: run again after this long; failures are forgotten.
    After(Duration),
    /// Stalled, suspended or no interval: only a change of the object triggers a reconcile.
    AwaitChange,
    /// A failure: retry with the object's exponential backoff (or `Some` fixed delay).
    Backoff(Option<Duration>),
    /// The object is gone (finalized): forget it.
    Gone,
}

#[derive(Clone, Debug, Default)]
struct Entry {
    seen: Option<Fingerprint>,
    /// `None`: await a change.
    next_due: Option<Instant>,
    failures: u32,
    running: bool,
    forced: bool,
}

/// Whether to run a reconcile request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Admit {
    Run,
    /// Not yet: requeue after this long (`None`: wait for a change).
    Skip(Option<Duration>),
}

/// Per-object scheduling memory shared by a controller's workers.
#[derive(Debug, Default)]
pub(crate) struct Memory {
    entries: Mutex<HashMap<Key, Entry>>,
}

impl Memory {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Entry>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Decides whether a request for `key` in state `fp` runs now.
    pub fn admit(&self, key: &Key, fp: &Fingerprint, now: Instant) -> Admit {
        let mut entries = self.lock();
        let entry = entries.entry(key.clone()).or_default();
        let run = entry.forced
            || entry.seen.as_ref() != Some(fp)
            || entry.next_due.is_some_and(|due| due <= now);
        if run {
            entry.forced = false;
            entry.running = true;
            Admit::Run
        } else {
            Admit::Skip(entry.next_due.map(|due| due.saturating_duration_since(now)))
        }
    }

    /// Records the end of a reconcile and returns when to requeue (`None`: await change).
    pub fn finish(
        &self,
        key: &Key,
        fp: Fingerprint,
        next: Next,
        retry: RetryConfig,
        now: Instant,
    ) -> Option<Duration> {
        let mut entries = self.lock();
        if next == Next::Gone {
            entries.remove(key);
            return None;
        }
        let entry = entries.entry(key.clone()).or_default();
        entry.running = false;
        entry.seen = Some(fp);
        let after = match next {
            Next::After(d) => {
                entry.failures = 0;
                Some(d)
            }
            Next::AwaitChange => {
                entry.failures = 0;
                None
            }
            Next::Backoff(fixed) => {
                let d = fixed.unwrap_or_else(|| backoff(retry, entry.failures));
                entry.failures = entry.failures.saturating_add(1);
                Some(d)
            }
            Next::Gone => None,
        };
        entry.next_due = after.map(|d| now + d);
        after
    }

    /// Makes the next request for `key` run even if the object has not changed.
    pub fn force(&self, key: Key) {
        self.lock().entry(key).or_default().forced = true;
    }

    /// Drops what we know about `key` (the object left the cache).
    pub fn forget(&self, key: &Key) {
        self.lock().remove(key);
    }

    /// Objects that are due and waiting for a worker: our `workqueue_depth`.
    pub fn queue_depth(&self, now: Instant) -> usize {
        self.lock()
            .values()
            .filter(|e| !e.running && (e.forced || e.next_due.is_some_and(|d| d <= now)))
            .count()
    }

    /// Consecutive failures of `key` (tests, diagnostics).
    #[cfg(test)]
    pub fn failures(&self, key: &Key) -> u32 {
        self.lock().get(key).map(|e| e.failures).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RETRY: RetryConfig = RetryConfig {
        min: Duration::from_millis(750),
        max: Duration::from_secs(900),
    };

    #[test]
    fn jitter_stays_within_the_percentage() {
        let d = Duration::from_secs(600);
        assert_eq!(jitter(d, 5, 0.0), Duration::from_secs(570));
        assert_eq!(jitter(d, 5, 0.5), d);
        assert_eq!(jitter(d, 5, 1.0), Duration::from_secs(630));
        assert_eq!(jitter(d, 0, 0.0), d);
        assert_eq!(jitter(d, 99, 0.0), Duration::from_secs(6));
        for _ in 0..1000 {
            let j = jittered(d, 10);
            assert!(
                j >= Duration::from_secs(540) && j <= Duration::from_secs(660),
                "{j:?}"
            );
        }
    }

    #[test]
    fn backoff_doubles_from_min_to_max() {
        let table = [
            (0, Duration::from_millis(750)),
            (1, Duration::from_millis(1500)),
            (2, Duration::from_millis(3000)),
            (10, Duration::from_millis(768_000)),
            (11, Duration::from_secs(900)),
            (64, Duration::from_secs(900)),
            (u32::MAX, Duration::from_secs(900)),
        ];
        for (failures, want) in table {
            assert_eq!(backoff(RETRY, failures), want, "after {failures} failures");
        }
    }

    fn key() -> Key {
        Key {
            namespace: "flux-system".into(),
            name: "podinfo".into(),
        }
    }

    fn fp(generation: i64, requested: Option<&str>) -> Fingerprint {
        Fingerprint {
            uid: Some("u".into()),
            generation: Some(generation),
            requested_at: requested.map(str::to_string),
            deleting: false,
            has_finalizer: true,
        }
    }

    #[test]
    fn unchanged_objects_wait_for_their_due_time() {
        let m = Memory::default();
        let t0 = Instant::now();
        let s = |n: u64| t0 + Duration::from_secs(n);
        // First sight: run.
        assert_eq!(m.admit(&key(), &fp(1, None), t0), Admit::Run);
        assert_eq!(
            m.finish(
                &key(),
                fp(1, None),
                Next::After(Duration::from_secs(60)),
                RETRY,
                t0
            ),
            Some(Duration::from_secs(60))
        );
        // Our own status patch comes back as a watch event: not yet.
        assert_eq!(
            m.admit(&key(), &fp(1, None), s(1)),
            Admit::Skip(Some(Duration::from_secs(59)))
        );
        // Due: run.
        assert_eq!(m.admit(&key(), &fp(1, None), s(60)), Admit::Run);
        m.finish(
            &key(),
            fp(1, None),
            Next::After(Duration::from_secs(60)),
            RETRY,
            s(60),
        );
        // A new generation runs at once.
        assert_eq!(m.admit(&key(), &fp(2, None), s(61)), Admit::Run);
        m.finish(
            &key(),
            fp(2, None),
            Next::After(Duration::from_secs(60)),
            RETRY,
            s(61),
        );
        // So does `flux reconcile` (requestedAt).
        assert_eq!(m.admit(&key(), &fp(2, Some("t1")), s(62)), Admit::Run);
        m.finish(&key(), fp(2, Some("t1")), Next::AwaitChange, RETRY, s(62));
        // Awaiting change: skipped without requeue until something changes.
        assert_eq!(
            m.admit(&key(), &fp(2, Some("t1")), s(10_000)),
            Admit::Skip(None)
        );
        // A forced trigger (a watched source changed) runs once.
        m.force(key());
        assert_eq!(m.admit(&key(), &fp(2, Some("t1")), s(10_001)), Admit::Run);
        m.finish(
            &key(),
            fp(2, Some("t1")),
            Next::AwaitChange,
            RETRY,
            s(10_001),
        );
        assert_eq!(
            m.admit(&key(), &fp(2, Some("t1")), s(10_002)),
            Admit::Skip(None)
        );
        // Deletion changes the fingerprint.
        let deleting = Fingerprint {
            deleting: true,
            ..fp(3, Some("t1"))
        };
        assert_eq!(m.admit(&key(), &deleting, s(10_003)), Admit::Run);
        assert_eq!(
            m.finish(&key(), deleting, Next::Gone, RETRY, s(10_003)),
            None
        );
        assert_eq!(m.queue_depth(s(20_000)), 0);
    }

    #[test]
    fn failures_back_off_and_reset_on_success() {
        let m = Memory::default();
        let t0 = Instant::now();
        let mut delays = Vec::new();
        for _ in 0..4 {
            assert_eq!(
                m.admit(&key(), &fp(1, None), t0 + Duration::from_secs(3600)),
                Admit::Run
            );
            delays.push(
                m.finish(&key(), fp(1, None), Next::Backoff(None), RETRY, t0)
                    .unwrap(),
            );
        }
        assert_eq!(
            delays,
            [750, 1500, 3000, 6000].map(Duration::from_millis).to_vec()
        );
        assert_eq!(m.failures(&key()), 4);
        // A fixed retry interval (spec.retryInterval) still counts as a failure.
        m.admit(&key(), &fp(2, None), t0);
        assert_eq!(
            m.finish(
                &key(),
                fp(2, None),
                Next::Backoff(Some(Duration::from_secs(7))),
                RETRY,
                t0
            ),
            Some(Duration::from_secs(7))
        );
        assert_eq!(m.failures(&key()), 5);
        // Waiting (dependency not ready) resets, like controller-runtime's Forget.
        m.admit(&key(), &fp(3, None), t0);
        m.finish(
            &key(),
            fp(3, None),
            Next::After(Duration::from_secs(30)),
            RETRY,
            t0,
        );
        assert_eq!(m.failures(&key()), 0);
        m.admit(&key(), &fp(4, None), t0);
        assert_eq!(
            m.finish(&key(), fp(4, None), Next::Backoff(None), RETRY, t0),
            Some(Duration::from_millis(750))
        );
    }

    #[test]
    fn queue_depth_counts_due_idle_objects() {
        let m = Memory::default();
        let t0 = Instant::now();
        let a = key();
        let b = Key {
            namespace: "ns".into(),
            name: "b".into(),
        };
        m.admit(&a, &fp(1, None), t0);
        m.finish(
            &a,
            fp(1, None),
            Next::After(Duration::from_secs(10)),
            RETRY,
            t0,
        );
        m.admit(&b, &fp(1, None), t0);
        assert_eq!(m.queue_depth(t0), 0, "b is running, a is not due");
        assert_eq!(m.queue_depth(t0 + Duration::from_secs(10)), 1);
        m.finish(
            &b,
            fp(1, None),
            Next::After(Duration::from_secs(5)),
            RETRY,
            t0,
        );
        assert_eq!(m.queue_depth(t0 + Duration::from_secs(10)), 2);
        m.forget(&a);
        assert_eq!(m.queue_depth(t0 + Duration::from_secs(10)), 1);
    }
}
