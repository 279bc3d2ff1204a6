//! [`FluxObject`]: what the generic reconcile wrapper needs from a Flux kind.
//!
//! Rust's orphan rule means the impls for `ferroflux_api` types must live here (this crate owns
//! the trait, `api` cannot depend on it): add one `impl_flux_object!` line per kind.

use std::fmt::Debug;
use std::time::Duration;

use ferroflux_api::meta::{Condition, RECONCILE_REQUEST_ANNOTATION};
use kube::Resource;
use kube::core::NamespaceResourceScope;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A namespaced Flux object with `spec.interval`, `spec.suspend` and the common status fields
/// (`conditions`, `observedGeneration`, `lastHandledReconcileAt`).
pub trait FluxObject:
    Resource<DynamicType = (), Scope = NamespaceResourceScope>
    + Clone
    + Debug
    + Serialize
    + DeserializeOwned
    + Send
    + Sync
    + 'static
{
    /// `spec.interval`: how often the object is reconciled on success.
    fn interval(&self) -> Result<Duration, ferroflux_api::Error>;
    /// `spec.suspend`.
    fn suspended(&self) -> bool;
    /// `status.conditions` (empty without status).
    fn conditions(&self) -> &[Condition];
    /// `status.conditions`, creating the status if needed.
    fn conditions_mut(&mut self) -> &mut Vec<Condition>;
    /// `status.observedGeneration`.
    fn observed_generation(&self) -> Option<i64>;
    fn set_observed_generation(&mut self, generation: Option<i64>);
    /// `status.lastHandledReconcileAt`.
    fn last_handled_reconcile_at(&self) -> Option<&str>;
    fn set_last_handled_reconcile_at(&mut self, value: Option<String>);
    /// `spec.retryInterval` where the kind has one (Kustomization, HelmRelease): the delay
    /// after a failure instead of the exponential backoff. `None` by default.
    fn retry_interval(&self) -> Option<Duration> {
        None
    }

    /// The `reconcile.fluxcd.io/requestedAt` annotation (`flux reconcile`).
    fn requested_at(&self) -> Option<&str> {
        self.meta()
            .annotations
            .as_ref()
            .and_then(|a| a.get(RECONCILE_REQUEST_ANNOTATION))
            .map(String::as_str)
    }
}

/// Implements [`FluxObject`] for a kind whose spec has `interval: String` and
/// `suspend: Option<bool>` and whose status has `conditions: Vec<Condition>`,
/// `observed_generation: Option<i64>` and `last_handled_reconcile_at: Option<String>`.
/// The optional `interval = |obj| expr` form computes the interval differently (e.g. an
/// optional `spec.interval` with a default).
macro_rules! impl_flux_object {
    ($ty:ty) => {
        impl_flux_object!(
            $ty,
            interval = |o| ferroflux_api::duration::parse(&o.spec.interval)
        );
    };
    ($ty:ty, interval = |$o:ident| $interval:expr) => {
        impl_flux_object!($ty, interval = |$o| $interval, retry = |_o| None);
    };
    ($ty:ty, interval = |$o:ident| $interval:expr, retry = |$r:ident| $retry:expr) => {
        impl FluxObject for $ty {
            fn interval(&self) -> Result<std::time::Duration, ferroflux_api::Error> {
                let $o = self;
                $interval
            }
            fn retry_interval(&self) -> Option<std::time::Duration> {
                let $r = self;
                $retry
            }
            fn suspended(&self) -> bool {
                self.spec.suspend.unwrap_or(false)
            }
            fn conditions(&self) -> &[Condition] {
                self.status
                    .as_ref()
                    .map(|s| s.conditions.as_slice())
                    .unwrap_or(&[])
            }
            fn conditions_mut(&mut self) -> &mut Vec<Condition> {
                &mut self.status.get_or_insert_with(Default::default).conditions
            }
            fn observed_generation(&self) -> Option<i64> {
                self.status.as_ref().and_then(|s| s.observed_generation)
            }
            fn set_observed_generation(&mut self, generation: Option<i64>) {
                self.status
                    .get_or_insert_with(Default::default)
                    .observed_generation = generation;
            }
            fn last_handled_reconcile_at(&self) -> Option<&str> {
                self.status
                    .as_ref()
                    .and_then(|s| s.last_handled_reconcile_at.as_deref())
            }
            fn set_last_handled_reconcile_at(&mut self, value: Option<String>) {
                self.status
                    .get_or_insert_with(Default::default)
                    .last_handled_reconcile_at = value;
            }
        }
    };
}

impl_flux_object!(ferroflux_api::source::v1::GitRepository);
// Kustomization: `spec.retryInterval` (else `spec.interval`) is the delay after a failure.
impl_flux_object!(
    ferroflux_api::kustomize::v1::Kustomization,
    interval = |o| o.interval(),
    retry = |o| o.retry_interval().ok()
);

/// The object's status as JSON (`{}` without status): what the wrapper diffs and patches.
pub fn status_value<K: Serialize>(obj: &K) -> serde_json::Value {
    serde_json::to_value(obj)
        .ok()
        .and_then(|mut v| v.get_mut("status").map(serde_json::Value::take))
        .filter(|v| !v.is_null())
        .unwrap_or_else(|| serde_json::Value::Object(Default::default()))
}

/// An RFC 7386 merge patch turning `before` into `after` (`None` when equal): changed keys
/// are set, removed keys become `null`, arrays are replaced whole.
pub fn merge_diff(
    before: &serde_json::Value,
    after: &serde_json::Value,
) -> Option<serde_json::Value> {
    use serde_json::Value;
    match (before, after) {
        (Value::Object(b), Value::Object(a)) => {
            let mut patch = serde_json::Map::new();
            for (k, av) in a {
                match b.get(k) {
                    Some(bv) if bv == av => {}
                    Some(bv) => {
                        if let Some(d) = merge_diff(bv, av) {
                            patch.insert(k.clone(), d);
                        }
                    }
                    None => {
                        patch.insert(k.clone(), av.clone());
                    }
                }
            }
            for k in b.keys() {
                if !a.contains_key(k) {
                    patch.insert(k.clone(), Value::Null);
                }
            }
            (!patch.is_empty()).then_some(Value::Object(patch))
        }
        _ if before == after => None,
        _ => Some(after.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferroflux_api::source::v1::{GitRepository, GitRepositorySpec};
    use serde_json::json;

    fn repo() -> GitRepository {
        GitRepository::new(
            "podinfo",
            GitRepositorySpec {
                url: "https://example.com/x".into(),
                interval: "5m".into(),
                ..Default::default()
            },
        )
    }

    #[test]
    fn git_repository_is_a_flux_object() {
        let mut r = repo();
        assert_eq!(r.interval().unwrap(), Duration::from_secs(300));
        assert!(!r.suspended());
        assert!(r.conditions().is_empty());
        assert_eq!(r.observed_generation(), None);
        assert_eq!(status_value(&r), json!({}));
        r.spec.suspend = Some(true);
        assert!(r.suspended());
        r.conditions_mut().push(Condition {
            last_transition_time: crate::conditions::now(),
            message: "m".into(),
            observed_generation: Some(1),
            reason: "Succeeded".into(),
            status: ferroflux_api::meta::ConditionStatus::True,
            type_: "Ready".into(),
        });
        r.set_observed_generation(Some(3));
        r.set_last_handled_reconcile_at(Some("now".into()));
        assert_eq!(r.conditions().len(), 1);
        assert_eq!(r.observed_generation(), Some(3));
        assert_eq!(r.last_handled_reconcile_at(), Some("now"));
        let status = status_value(&r);
        assert_eq!(status["observedGeneration"], 3);
        assert_eq!(status["lastHandledReconcileAt"], "now");
        assert_eq!(r.requested_at(), None);
        r.metadata.annotations = Some(
            [(
                RECONCILE_REQUEST_ANNOTATION.to_string(),
                "2024-01-01T00:00:00Z".to_string(),
            )]
            .into(),
        );
        assert_eq!(r.requested_at(), Some("2024-01-01T00:00:00Z"));
        r.spec.interval = "bogus".into();
        assert!(r.interval().is_err());
    }

    #[test]
    fn merge_diffs() {
        let before = json!({"a": 1, "b": {"c": 2, "d": 3}, "e": [1, 2], "gone": true});
        let after = json!({"a": 1, "b": {"c": 2, "d": 4}, "e": [1], "new": "x"});
        assert_eq!(
            merge_diff(&before, &after),
            Some(json!({"b": {"d": 4}, "e": [1], "new": "x", "gone": null}))
        );
        assert_eq!(merge_diff(&before, &before), None);
        assert_eq!(
            merge_diff(&json!({}), &json!({"a": {"b": 1}})),
            Some(json!({"a": {"b": 1}}))
        );
        assert_eq!(
            merge_diff(&json!({"a": 1}), &json!({"a": {"b": 1}})),
            Some(json!({"a": {"b": 1}}))
        );
    }
}
