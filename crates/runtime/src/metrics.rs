//! Prometheus metrics under Flux's and controller-runtime's names, so Flux's dashboards and
//! alerts work unchanged, and the `/metrics` server.
//!
//! A fresh binary exports, before any reconcile: the `process_*` metrics, and for every
//! registered controller `controller_runtime_reconcile_total{controller,result}` (0 for each
//! result), `controller_runtime_reconcile_errors_total{controller}` (0),
//! `controller_runtime_active_workers{controller}`,
//! `controller_runtime_max_concurrent_reconciles{controller}` and `workqueue_depth{name}`.
//! `gotk_reconcile_duration_seconds{kind,name,namespace}` appears with the first reconcile.

use std::time::Duration;

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder,
};

use crate::Result;

/// controller-runtime's reconcile result labels.
pub const RESULTS: [&str; 4] = ["success", "error", "requeue", "requeue_after"];

/// The metrics of one process; cheap to clone.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    reconcile_duration: HistogramVec,
    reconcile_total: IntCounterVec,
    reconcile_errors: IntCounterVec,
    active_workers: IntGaugeVec,
    max_concurrent: IntGaugeVec,
    workqueue_depth: IntGaugeVec,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    /// A registry with the process collector and the reconcile metrics.
    pub fn new() -> Result<Self> {
        let registry = Registry::new();
        #[cfg(target_os = "linux")]
        registry.register(Box::new(
            prometheus::process_collector::ProcessCollector::for_self(),
        ))?;

        let reconcile_duration = HistogramVec::new(
            HistogramOpts::new(
                "gotk_reconcile_duration_seconds",
                "The duration in seconds of a GitOps Toolkit resource reconciliation.",
            )
            // Flux: prometheus.ExponentialBuckets(10e-3, 2, 10).
            .buckets(prometheus::exponential_buckets(10e-3, 2.0, 10)?),
            &["kind", "name", "namespace"],
        )?;
        let reconcile_total = IntCounterVec::new(
            Opts::new(
                "controller_runtime_reconcile_total",
                "Total number of reconciliations per controller",
            ),
            &["controller", "result"],
        )?;
        let reconcile_errors = IntCounterVec::new(
            Opts::new(
                "controller_runtime_reconcile_errors_total",
                "Total number of reconciliation errors per controller",
            ),
            &["controller"],
        )?;
        let active_workers = IntGaugeVec::new(
            Opts::new(
                "controller_runtime_active_workers",
                "Number of currently used workers per controller",
            ),
            &["controller"],
        )?;
        let max_concurrent = IntGaugeVec::new(
            Opts::new(
                "controller_runtime_max_concurrent_reconciles",
                "Maximum number of concurrent reconciles per controller",
            ),
            &["controller"],
        )?;
        let workqueue_depth = IntGaugeVec::new(
            Opts::new("workqueue_depth", "Current depth of workqueue"),
            &["name"],
        )?;
        registry.register(Box::new(reconcile_duration.clone()))?;
        registry.register(Box::new(reconcile_total.clone()))?;
        registry.register(Box::new(reconcile_errors.clone()))?;
        registry.register(Box::new(active_workers.clone()))?;
        registry.register(Box::new(max_concurrent.clone()))?;
        registry.register(Box::new(workqueue_depth.clone()))?;
        registry.register(Box::new(crate::kube_client::REST_CLIENT_REQUESTS.clone()))?;
        Ok(Self {
            registry,
            reconcile_duration,
            reconcile_total,
            reconcile_errors,
            active_workers,
            max_concurrent,
            workqueue_depth,
        })
    }

    /// The registry, for metrics of the binary's own (e.g. the artifact server's).
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Exports the per-controller series at zero so a scrape finds them before any reconcile.
    pub fn register_controller(&self, controller: &str, concurrency: u16) {
        for result in RESULTS {
            self.reconcile_total
                .with_label_values(&[controller, result]);
        }
        self.reconcile_errors.with_label_values(&[controller]);
        self.active_workers.with_label_values(&[controller]).set(0);
        self.max_concurrent
            .with_label_values(&[controller])
            .set(i64::from(concurrency));
        self.workqueue_depth.with_label_values(&[controller]).set(0);
    }

    /// Records one reconcile: its result (one of [`RESULTS`]) and its duration.
    pub fn record_reconcile(
        &self,
        controller: &str,
        kind: &str,
        namespace: &str,
        name: &str,
        result: &str,
        took: Duration,
    ) {
        self.reconcile_total
            .with_label_values(&[controller, result])
            .inc();
        if result == "error" {
            self.reconcile_errors.with_label_values(&[controller]).inc();
        }
        self.reconcile_duration
            .with_label_values(&[kind, name, namespace])
            .observe(took.as_secs_f64());
    }

    /// Forgets a deleted object's duration series, as Flux does once the finalizer is removed.
    pub fn forget_object(&self, kind: &str, namespace: &str, name: &str) {
        let _ = self
            .reconcile_duration
            .remove_label_values(&[kind, name, namespace]);
    }

    /// Adds `delta` to the controller's busy workers.
    pub fn add_active_workers(&self, controller: &str, delta: i64) {
        self.active_workers
            .with_label_values(&[controller])
            .add(delta);
    }

    /// Sets the controller's queue depth.
    pub fn set_queue_depth(&self, controller: &str, depth: usize) {
        self.workqueue_depth
            .with_label_values(&[controller])
            .set(i64::try_from(depth).unwrap_or(i64::MAX));
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> Result<String> {
        let mut buf = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut buf)?;
        String::from_utf8(buf)
            .map_err(|e| crate::Error::Other(format!("metrics are not UTF-8: {e}")))
    }

    /// The `/metrics` router.
    pub fn router(&self) -> Router {
        let metrics = self.clone();
        Router::new().route(
            "/metrics",
            get(move || {
                let metrics = metrics.clone();
                async move {
                    match metrics.render() {
                        Ok(body) => (
                            StatusCode::OK,
                            [(
                                header::CONTENT_TYPE,
                                "text/plain; version=0.0.4; charset=utf-8",
                            )],
                            body,
                        )
                            .into_response(),
                        Err(e) => {
                            (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response()
                        }
                    }
                }
            }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_registry_exports_controller_series_at_zero() {
        let m = Metrics::new().unwrap();
        m.register_controller("gitrepository", 2);
        let text = m.render().unwrap();
        for result in RESULTS {
            let line = format!(
                "controller_runtime_reconcile_total{{controller=\"gitrepository\",result=\"{result}\"}} 0"
            );
            assert!(text.contains(&line), "missing {line}:\n{text}");
        }
        assert!(
            text.contains(
                "controller_runtime_reconcile_errors_total{controller=\"gitrepository\"} 0"
            )
        );
        assert!(text.contains("workqueue_depth{name=\"gitrepository\"} 0"));
        assert!(text.contains(
            "controller_runtime_max_concurrent_reconciles{controller=\"gitrepository\"} 2"
        ));
        #[cfg(target_os = "linux")]
        for p in [
            "process_resident_memory_bytes",
            "process_cpu_seconds_total",
            "process_open_fds",
        ] {
            assert!(text.contains(p), "missing {p}");
        }
        // A histogram vector exports nothing until observed.
        assert!(!text.contains("gotk_reconcile_duration_seconds"));
    }

    #[test]
    fn reconcile_is_recorded_with_fluxs_buckets() {
        let m = Metrics::new().unwrap();
        m.register_controller("gitrepository", 2);
        m.record_reconcile(
            "gitrepository",
            "GitRepository",
            "flux-system",
            "podinfo",
            "error",
            Duration::from_millis(30),
        );
        m.record_reconcile(
            "gitrepository",
            "GitRepository",
            "flux-system",
            "podinfo",
            "requeue_after",
            Duration::from_millis(5),
        );
        let text = m.render().unwrap();
        assert!(text.contains(
            "controller_runtime_reconcile_total{controller=\"gitrepository\",result=\"error\"} 1"
        ));
        assert!(text.contains("controller_runtime_reconcile_total{controller=\"gitrepository\",result=\"requeue_after\"} 1"));
        assert!(
            text.contains(
                "controller_runtime_reconcile_errors_total{controller=\"gitrepository\"} 1"
            )
        );
        // 10ms, 20ms, ... 5.12s.
        assert!(text.contains(
            "gotk_reconcile_duration_seconds_bucket{kind=\"GitRepository\",name=\"podinfo\",namespace=\"flux-system\",le=\"0.01\"} 1"
        ), "{text}");
        assert!(text.contains("le=\"5.12\"} 2"), "{text}");
        assert!(text.contains("gotk_reconcile_duration_seconds_count{kind=\"GitRepository\",name=\"podinfo\",namespace=\"flux-system\"} 2"));
        m.forget_object("GitRepository", "flux-system", "podinfo");
        assert!(
            !m.render()
                .unwrap()
                .contains("gotk_reconcile_duration_seconds_count")
        );
    }
}
