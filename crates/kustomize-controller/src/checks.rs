//! The Kustomization's expression- and rule-driven checks, validated once per reconcile before
//! anything is fetched: `healthCheckExprs` (CEL health of custom kinds), `dependsOn[].readyExpr`
//! (CEL readiness of a dependency) and `ignore` (fields left to others on applied objects).
//! An invalid expression or rule stalls the Kustomization, as in Flux.

use ferroflux_api::kustomize::v1::{Kustomization, KustomizationSpec};
use ferroflux_api::meta::{CustomHealthCheck, IgnoreRule};
use ferroflux_cel::{Expression, Health, StatusEvaluator};
use ferroflux_ssa::ignore::{self, IgnoreRules};
use ferroflux_ssa::status::{self, Status};
use serde_json::Value;

/// Flux's reason for an expression that does not parse.
pub const INVALID_CEL_EXPRESSION: &str = "InvalidCELExpression";
/// Flux's prefix for errors that retrying cannot fix.
pub const TERMINAL_ERROR_MESSAGE: &str =
    "Reconciliation failed terminally due to configuration error";

/// A check that cannot be built: the Flux reason and the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub reason: &'static str,
    pub message: String,
}

/// Everything the spec's expressions and rules need, parsed.
#[derive(Debug, Default)]
pub struct Checks {
    pub health: HealthExprs,
    /// One entry per `dependsOn` item.
    pub ready: Vec<Option<Expression>>,
    pub ignore: IgnoreRules,
}

impl Checks {
    pub fn from_spec(spec: &KustomizationSpec) -> Result<Self, Invalid> {
        let cel = |message: String| Invalid {
            reason: INVALID_CEL_EXPRESSION,
            message: format!("{TERMINAL_ERROR_MESSAGE}: {message}"),
        };
        let health = HealthExprs::parse(spec.health_check_exprs.as_deref().unwrap_or_default())
            .map_err(cel)?;
        let ready = spec
            .depends_on
            .iter()
            .flatten()
            .map(
                |d| match d.ready_expr.as_deref().filter(|e| !e.trim().is_empty()) {
                    Some(src) => Expression::parse(src).map(Some).map_err(|e| {
                        cel(format!(
                            "failed to parse the readyExpr of dependency '{}': {e}",
                            d.name
                        ))
                    }),
                    None => Ok(None),
                },
            )
            .collect::<Result<Vec<_>, _>>()?;
        let ignore =
            ignore_rules(spec.ignore.as_deref().unwrap_or_default()).map_err(|m| Invalid {
                reason: ferroflux_api::conditions::reason::RECONCILIATION_FAILED,
                message: format!("{TERMINAL_ERROR_MESSAGE}: invalid spec.ignore: {m}"),
            })?;
        Ok(Checks {
            health,
            ready,
            ignore,
        })
    }
}

/// `spec.ignore` as the apply engine takes it.
pub fn ignore_rules(rules: &[IgnoreRule]) -> Result<IgnoreRules, String> {
    IgnoreRules::new(
        rules
            .iter()
            .map(|r| ignore::IgnoreRule {
                paths: r.paths.clone(),
                target: r.target.as_ref().map(|t| ignore::Selector {
                    group: t.group.clone(),
                    version: t.version.clone(),
                    kind: t.kind.clone(),
                    name: t.name.clone(),
                    namespace: t.namespace.clone(),
                    label_selector: t.label_selector.clone(),
                    annotation_selector: t.annotation_selector.clone(),
                }),
            })
            .collect(),
    )
    .map_err(|e| e.to_string())
}

/// `healthCheckExprs`: per group and kind, the expressions that replace kstatus.
#[derive(Debug, Default)]
pub struct HealthExprs {
    entries: Vec<(String, String, StatusEvaluator)>,
}

impl HealthExprs {
    /// Parses every entry; the error names the entry (`healthchecks[1]`) as Flux does.
    pub fn parse(checks: &[CustomHealthCheck]) -> Result<Self, String> {
        let mut entries = Vec::with_capacity(checks.len());
        for (i, c) in checks.iter().enumerate() {
            let group = c
                .api_version
                .rsplit_once('/')
                .map(|(g, _)| g.to_string())
                .unwrap_or_default();
            let kind = c.kind.clone().unwrap_or_default();
            let ev =
                StatusEvaluator::new(&c.current, c.failed.as_deref(), c.in_progress.as_deref())
                    .map_err(|e| {
                        format!("failed to create custom status reader for healthchecks[{i}]: {e}")
                    })?;
            entries.push((group, kind, ev));
        }
        Ok(HealthExprs { entries })
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The status of `obj` by the first entry of its group and kind; `None` leaves it to
    /// kstatus. An expression that fails to evaluate (a field that does not exist yet) is
    /// `Unknown`, so the wait goes on until the timeout, as in Flux.
    pub fn status(&self, obj: &Value) -> Option<status::Result> {
        let api_version = obj.get("apiVersion").and_then(Value::as_str).unwrap_or("");
        let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
        let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("");
        let (_, _, ev) = self
            .entries
            .iter()
            .find(|(g, k, _)| g == group && k == kind)?;
        Some(match ev.evaluate(obj) {
            Ok(Health::Current) => status::Result {
                status: Status::Current,
                message: "healthCheckExprs: current".into(),
            },
            Ok(Health::InProgress) => status::Result {
                status: Status::InProgress,
                message: "healthCheckExprs: in progress".into(),
            },
            Ok(Health::Failed) => status::Result {
                status: Status::Failed,
                message: "healthCheckExprs: failed".into(),
            },
            Err(e) => status::Result {
                status: Status::Unknown,
                message: e.to_string(),
            },
        })
    }
}

/// Evaluates a dependency's `readyExpr` with `self` (this Kustomization) and `dep`.
pub fn dependency_ready(
    expr: &Expression,
    this: &Kustomization,
    dep: &Kustomization,
) -> Result<bool, String> {
    let this = serde_json::to_value(this).map_err(|e| e.to_string())?;
    let dep = serde_json::to_value(dep).map_err(|e| e.to_string())?;
    expr.eval_bool([("self", &this), ("dep", &dep)])
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferroflux_api::meta::{DependencyReference, KustomizeSelector};
    use serde_json::json;

    fn widget(phase: &str) -> Value {
        json!({"apiVersion": "example.com/v1", "kind": "Widget",
               "metadata": {"name": "w", "generation": 1},
               "status": {"phase": phase}})
    }

    fn exprs() -> HealthExprs {
        HealthExprs::parse(&[CustomHealthCheck {
            api_version: "example.com/v1".into(),
            kind: Some("Widget".into()),
            current: "status.phase == 'Ready'".into(),
            failed: Some("status.phase == 'Failed'".into()),
            in_progress: None,
        }])
        .unwrap()
    }

    #[test]
    fn health_exprs_decide_only_their_kind() {
        let h = exprs();
        assert_eq!(h.status(&widget("Ready")).unwrap().status, Status::Current);
        assert_eq!(h.status(&widget("Failed")).unwrap().status, Status::Failed);
        assert_eq!(
            h.status(&widget("Pending")).unwrap().status,
            Status::InProgress
        );
        let mut other_group = widget("Ready");
        other_group["apiVersion"] = json!("other.com/v1");
        assert!(h.status(&other_group).is_none());
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}});
        assert!(h.status(&cm).is_none());
    }

    #[test]
    fn missing_status_is_unknown_not_an_error() {
        let h = exprs();
        let r = h
            .status(&json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {}}))
            .unwrap();
        assert_eq!(r.status, Status::Unknown);
        assert!(
            r.message.contains("status.phase == 'Failed'")
                && r.message.contains("Undeclared reference to 'status'"),
            "{}",
            r.message
        );
    }

    #[test]
    fn invalid_expressions_stall_with_flux_reason_and_message() {
        let mut spec = KustomizationSpec {
            health_check_exprs: Some(vec![CustomHealthCheck {
                api_version: "example.com/v1".into(),
                kind: Some("Widget".into()),
                current: "true".into(),
                in_progress: Some("foo.".into()),
                failed: None,
            }]),
            ..Default::default()
        };
        let err = Checks::from_spec(&spec).unwrap_err();
        assert_eq!(err.reason, INVALID_CEL_EXPRESSION);
        assert!(
            err.message.starts_with(
                "Reconciliation failed terminally due to configuration error: failed to create custom status reader for healthchecks[0]: failed to parse the expression InProgress: failed to parse the CEL expression 'foo.'"
            ),
            "{}",
            err.message
        );
        spec.health_check_exprs = None;
        spec.depends_on = Some(vec![DependencyReference {
            name: "db".into(),
            namespace: None,
            ready_expr: Some("dep.status ==".into()),
        }]);
        let err = Checks::from_spec(&spec).unwrap_err();
        assert_eq!(err.reason, INVALID_CEL_EXPRESSION);
        assert!(
            err.message.contains("readyExpr of dependency 'db'"),
            "{}",
            err.message
        );
        spec.depends_on = None;
        spec.ignore = Some(vec![IgnoreRule {
            paths: vec!["/spec/replicas".into()],
            target: Some(KustomizeSelector {
                kind: Some("[".into()),
                ..Default::default()
            }),
        }]);
        let err = Checks::from_spec(&spec).unwrap_err();
        assert!(
            err.message.contains("invalid spec.ignore: ignore[0]"),
            "{}",
            err.message
        );
    }

    #[test]
    fn ready_expr_compares_self_and_dep() {
        let spec = KustomizationSpec {
            depends_on: Some(vec![
                DependencyReference {
                    name: "backend".into(),
                    namespace: None,
                    ready_expr: Some(
                        "dep.metadata.labels['app/version'] == self.metadata.labels['app/version']"
                            .into(),
                    ),
                },
                DependencyReference {
                    name: "plain".into(),
                    ..Default::default()
                },
            ]),
            ..Default::default()
        };
        let checks = Checks::from_spec(&spec).unwrap();
        assert!(checks.ready[1].is_none());
        let expr = checks.ready[0].as_ref().unwrap();
        let mut this = Kustomization::new("frontend", spec.clone());
        this.metadata.labels = Some([("app/version".into(), "v1".into())].into());
        let mut dep = Kustomization::new("backend", KustomizationSpec::default());
        dep.metadata.labels = Some([("app/version".into(), "v1".into())].into());
        assert_eq!(dependency_ready(expr, &this, &dep), Ok(true));
        dep.metadata.labels = Some([("app/version".into(), "v2".into())].into());
        assert_eq!(dependency_ready(expr, &this, &dep), Ok(false));
    }
}
