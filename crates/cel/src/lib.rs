//! CEL expressions as Flux evaluates them (the `runtime/cel` package of `fluxcd/pkg`): the
//! `healthCheckExprs` of Kustomizations and HelmReleases, and `dependsOn[].readyExpr`.
//!
//! The environment mirrors Flux's: the standard macros (`has`, `all`, `exists`, `exists_one`,
//! `map`, `filter`), optional values (`a.?b`, `orValue`), the `strings` and `encoders`
//! extensions, and numeric comparisons across `int`, `uint` and `double`. Objects come in as
//! JSON; integers become CEL `int` as Kubernetes' unstructured objects make them `int64`.
//! Flux also enables cel-go's `sets` extension, which the CEL library used here lacks:
//! `sets.contains`, `sets.equivalent` and `sets.intersects` are registered here.
#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use cel::common::types::{CelBool, LIST_TYPE};
use cel::common::value::{CowVal, Val};
use cel::objects::{Key, Map};
use cel::{Context, Env, ExecutionError, Program, Value};

/// What can go wrong with an expression: it does not parse, it fails at run time (a missing
/// field, a wrong type), or it does not return what it must.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("failed to parse the CEL expression '{expr}': {message}")]
    Parse { expr: String, message: String },
    #[error("failed to evaluate the CEL expression '{expr}': {message}")]
    Eval { expr: String, message: String },
    #[error("failed to evaluate CEL expression as boolean: '{expr}'")]
    NotBool { expr: String },
    /// A health check without its required `current` expression.
    #[error("expression Current not specified")]
    MissingCurrent,
    /// One of a health check's expressions did not parse.
    #[error("failed to parse the expression {field}: {source}")]
    HealthCheck {
        field: &'static str,
        #[source]
        source: Box<Error>,
    },
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One environment for every expression: building it registers the whole standard library.
static ENV: LazyLock<Arc<Env>> = LazyLock::new(|| {
    let mut env = Env::stdlib();
    // Both extensions only add functions; a failure would mean a name clash inside the
    // library itself, and the expressions that need them then fail with "undeclared".
    let _ = env.add_extension(cel::extensions::strings);
    let _ = env.add_extension(cel::extensions::encoders);
    let _ = env.add_extension(sets);
    Arc::new(env)
});

/// cel-go's `sets` extension: list arguments compared as sets (element equality as `==`).
fn sets(env: &mut Env) -> Result<(), cel::DeclarationError> {
    let two = || vec![LIST_TYPE, LIST_TYPE];
    env.add_overload(
        "sets.contains",
        "list_sets_contains_list",
        two(),
        sets_contains,
    )?;
    env.add_overload(
        "sets.equivalent",
        "list_sets_equivalent_list",
        two(),
        sets_equivalent,
    )?;
    env.add_overload(
        "sets.intersects",
        "list_sets_intersects_list",
        two(),
        sets_intersects,
    )?;
    Ok(())
}

/// Borrowed elements of a list argument.
type Elements<'b, 'v> = Vec<&'b (dyn Val + 'v)>;

/// The elements of a list argument.
fn elements<'a, 'v>(v: &'a (dyn Val + 'v)) -> Result<Vec<&'a (dyn Val + 'v)>, ExecutionError> {
    let it = v
        .as_iterable()
        .ok_or_else(|| ExecutionError::function_error("sets", "argument is not a list"))?;
    let mut iter = it.iter();
    let mut out = Vec::new();
    while let Some(x) = iter.next() {
        out.push(x);
    }
    Ok(out)
}

/// Whether every element of `sub` is in `of`.
fn all_in(sub: &[&dyn Val], of: &[&dyn Val]) -> bool {
    sub.iter().all(|x| of.iter().any(|y| x.equals(*y)))
}

fn two_lists<'b, 'v>(
    args: &'b [CowVal<'b, 'v>],
) -> Result<(Elements<'b, 'v>, Elements<'b, 'v>), ExecutionError> {
    match args {
        [a, b] => Ok((elements(a.as_ref())?, elements(b.as_ref())?)),
        _ => Err(ExecutionError::invalid_argument_count(2, args.len())),
    }
}

fn boolean<'b, 'v>(b: bool) -> CowVal<'b, 'v> {
    CowVal::owned(if b { CelBool::TRUE } else { CelBool::FALSE })
}

fn sets_contains<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let (a, b) = two_lists(&args)?;
    let r = all_in(&b, &a);
    Ok(boolean(r))
}

fn sets_equivalent<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let (a, b) = two_lists(&args)?;
    let r = all_in(&a, &b) && all_in(&b, &a);
    Ok(boolean(r))
}

fn sets_intersects<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let (a, b) = two_lists(&args)?;
    let r = a.iter().any(|x| b.iter().any(|y| x.equals(*y)));
    Ok(boolean(r))
}

/// A parsed expression, ready to evaluate many times.
pub struct Expression {
    source: String,
    program: Program,
}

impl std::fmt::Debug for Expression {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Expression").field(&self.source).finish()
    }
}

impl Expression {
    /// Parses `source`; a syntax error names the expression and the position.
    pub fn parse(source: &str) -> Result<Self> {
        let program = ENV.compile(source).map_err(|e| Error::Parse {
            expr: source.to_string(),
            message: e.to_string().trim().to_string(),
        })?;
        Ok(Expression {
            source: source.to_string(),
            program,
        })
    }

    /// The expression as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Evaluates with each `(name, value)` pair as a variable and requires a boolean result.
    pub fn eval_bool<'a>(
        &self,
        vars: impl IntoIterator<Item = (&'a str, &'a serde_json::Value)>,
    ) -> Result<bool> {
        let mut ctx = Context::with_env(Arc::clone(&ENV));
        for (name, value) in vars {
            ctx.add_variable_from_value(name, to_cel(value));
        }
        self.execute(&ctx)
    }

    fn execute(&self, ctx: &Context) -> Result<bool> {
        match self.program.execute(ctx) {
            Ok(Value::Bool(b)) => Ok(b),
            Ok(_) => Err(Error::NotBool {
                expr: self.source.clone(),
            }),
            Err(e) => Err(Error::Eval {
                expr: self.source.clone(),
                message: e.to_string(),
            }),
        }
    }

    /// Evaluates against an object whose top-level fields are the variables (`status`,
    /// `metadata`, `spec`, …), as Flux passes a custom resource to its health checks.
    pub fn eval_object(&self, obj: &serde_json::Value) -> Result<bool> {
        self.execute(&object_context(obj))
    }
}

/// A context whose variables are the top-level fields of `obj`.
fn object_context(obj: &serde_json::Value) -> Context<'static, 'static> {
    let mut ctx = Context::with_env(Arc::clone(&ENV));
    for (name, value) in obj.as_object().into_iter().flatten() {
        ctx.add_variable_from_value(name.as_str(), to_cel(value));
    }
    ctx
}

/// JSON to CEL: integers as `int` (Kubernetes' `int64`), larger ones as `uint`.
fn to_cel(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::Int(i)
            } else if let Some(u) = n.as_u64() {
                Value::UInt(u)
            } else {
                Value::Float(n.as_f64().unwrap_or(f64::NAN))
            }
        }
        serde_json::Value::String(s) => Value::String(Arc::new(s.clone())),
        serde_json::Value::Array(a) => Value::List(Arc::new(a.iter().map(to_cel).collect())),
        serde_json::Value::Object(o) => {
            let map: HashMap<Key, Value> = o
                .iter()
                .map(|(k, v)| (Key::String(Arc::new(k.clone())), to_cel(v)))
                .collect();
            Value::Map(Map { map: Arc::new(map) })
        }
    }
}

/// A kstatus-like verdict of a health check expression set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Health {
    Current,
    InProgress,
    Failed,
}

/// The `current`/`inProgress`/`failed` expressions of one `healthCheckExprs` entry.
#[derive(Debug)]
pub struct StatusEvaluator {
    current: Expression,
    failed: Option<Expression>,
    in_progress: Option<Expression>,
}

impl StatusEvaluator {
    /// Parses the three expressions; empty optional ones are left out, as in Flux.
    pub fn new(current: &str, failed: Option<&str>, in_progress: Option<&str>) -> Result<Self> {
        if current.is_empty() {
            return Err(Error::MissingCurrent);
        }
        let wrap = |field: &'static str| {
            move |e: Error| Error::HealthCheck {
                field,
                source: Box::new(e),
            }
        };
        let optional = |src: Option<&str>, field: &'static str| -> Result<Option<Expression>> {
            match src.filter(|s| !s.is_empty()) {
                Some(s) => Expression::parse(s).map(Some).map_err(wrap(field)),
                None => Ok(None),
            }
        };
        Ok(StatusEvaluator {
            current: Expression::parse(current).map_err(wrap("Current"))?,
            failed: optional(failed, "Failed")?,
            in_progress: optional(in_progress, "InProgress")?,
        })
    }

    /// Flux's order (RFC 0009): a `status.observedGeneration` behind `metadata.generation` is
    /// in progress; then `inProgress`, `failed` and `current`, the first true one wins; none
    /// true is in progress. An evaluation error (a missing field) is returned to the caller,
    /// which keeps waiting as Flux does.
    pub fn evaluate(&self, obj: &serde_json::Value) -> Result<Health> {
        if let Some(observed) = obj
            .pointer("/status/observedGeneration")
            .and_then(|v| v.as_i64())
            && let Some(generation) = obj.pointer("/metadata/generation").and_then(|v| v.as_i64())
            && observed != generation
        {
            return Ok(Health::InProgress);
        }
        // The object is converted once for all three expressions.
        let ctx = object_context(obj);
        let order = [
            (self.in_progress.as_ref(), Health::InProgress),
            (self.failed.as_ref(), Health::Failed),
            (Some(&self.current), Health::Current),
        ];
        for (expr, health) in order {
            if let Some(expr) = expr
                && expr.execute(&ctx)?
            {
                return Ok(health);
            }
        }
        Ok(Health::InProgress)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn eval(expr: &str, obj: &serde_json::Value) -> Result<bool> {
        Expression::parse(expr)?.eval_object(obj)
    }

    fn sealed(status: &str) -> serde_json::Value {
        json!({
            "apiVersion": "bitnami.com/v1alpha1",
            "kind": "SealedSecret",
            "metadata": {"name": "s", "generation": 2, "labels": {"app/version": "v1"}},
            "status": {
                "observedGeneration": 2,
                "conditions": [
                    {"type": "Synced", "status": status, "message": "boom"},
                    {"type": "Other", "status": "False"}
                ]
            }
        })
    }

    #[test]
    fn flux_doc_sealed_secret_expressions() {
        let current = "status.conditions.filter(e, e.type == 'Synced').all(e, e.status == 'True')";
        let failed = "status.conditions.filter(e, e.type == 'Synced').all(e, e.status == 'False')";
        let ev = StatusEvaluator::new(current, Some(failed), None).unwrap();
        assert_eq!(ev.evaluate(&sealed("True")).unwrap(), Health::Current);
        assert_eq!(ev.evaluate(&sealed("False")).unwrap(), Health::Failed);
        assert_eq!(ev.evaluate(&sealed("Unknown")).unwrap(), Health::InProgress);
    }

    #[test]
    fn in_progress_wins_over_failed_and_current() {
        let ev = StatusEvaluator::new("true", Some("true"), Some("true")).unwrap();
        assert_eq!(ev.evaluate(&sealed("True")).unwrap(), Health::InProgress);
        let ev = StatusEvaluator::new("true", Some("true"), Some("false")).unwrap();
        assert_eq!(ev.evaluate(&sealed("True")).unwrap(), Health::Failed);
    }

    #[test]
    fn stale_observed_generation_is_in_progress() {
        let mut obj = sealed("True");
        obj["metadata"]["generation"] = json!(3);
        let ev = StatusEvaluator::new("true", None, None).unwrap();
        assert_eq!(ev.evaluate(&obj).unwrap(), Health::InProgress);
    }

    #[test]
    fn macros_and_functions_flux_users_write() {
        let obj = sealed("True");
        for (expr, want) in [
            ("has(status.conditions)", true),
            ("has(status.missing)", false),
            ("status.conditions.exists(c, c.type == 'Synced')", true),
            ("status.conditions.exists_one(c, c.status == 'False')", true),
            (
                "status.conditions.map(c, c.type) == ['Synced', 'Other']",
                true,
            ),
            ("size(status.conditions) == 2", true),
            ("metadata.generation == status.observedGeneration", true),
            ("metadata.generation >= 2", true),
            ("metadata.generation == 2.0", true),
            ("metadata.name.startsWith('s') && 'abc'.contains('b')", true),
            ("'Hello'.lowerAscii() == 'hello'", true),
            ("'a,b'.split(',').size() == 2", true),
            ("metadata.labels['app/version'] == 'v1'", true),
            ("status.?missing.orValue([]).size() == 0", true),
            (
                "status.?conditions.orValue([]).exists(c, c.type == 'Synced')",
                true,
            ),
            ("'x' in metadata.labels", false),
            ("matches(metadata.name, '^s$')", true),
            ("sets.contains([1, 2, 3], [3, 1])", true),
            ("sets.contains([1, 2], [4])", false),
            (
                "sets.contains(status.conditions.map(c, c.type), ['Synced'])",
                true,
            ),
            ("sets.equivalent([1, 2, 2], [2, 1])", true),
            ("sets.equivalent([1], [1, 2])", false),
            ("sets.intersects(['a', 'b'], ['c', 'b'])", true),
            ("sets.intersects([], ['c'])", false),
        ] {
            assert_eq!(eval(expr, &obj).unwrap(), want, "{expr}");
        }
    }

    #[test]
    fn missing_top_level_field_is_an_evaluation_error() {
        let obj = json!({"metadata": {"name": "x"}});
        let err = eval("status.conditions.size() > 0", &obj).unwrap_err();
        assert!(matches!(err, Error::Eval { .. }), "{err}");
        assert!(
            err.to_string().contains("status.conditions.size() > 0"),
            "{err}"
        );
    }

    #[test]
    fn syntax_error_names_the_expression() {
        let err = StatusEvaluator::new("status.conditions.filter(e, ", None, None).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("expression Current"), "{msg}");
        assert!(msg.contains("status.conditions.filter(e, "), "{msg}");
        let err = StatusEvaluator::new("true", Some("a ="), None).unwrap_err();
        assert!(err.to_string().contains("expression Failed"), "{err}");
        assert!(matches!(
            StatusEvaluator::new("", None, None),
            Err(Error::MissingCurrent)
        ));
    }

    #[test]
    fn non_boolean_result_is_refused() {
        let err = eval("metadata.name", &sealed("True")).unwrap_err();
        assert!(matches!(err, Error::NotBool { .. }), "{err}");
    }

    #[test]
    fn ready_expr_sees_self_and_dep() {
        let this = json!({"metadata": {"labels": {"app/version": "v1.2.3"}}});
        let dep = json!({
            "metadata": {"generation": 4, "labels": {"app/version": "v1.2.3"}},
            "status": {"observedGeneration": 4, "conditions": [{"type": "Ready", "status": "True"}]}
        });
        let expr = Expression::parse(
            "dep.metadata.labels['app/version'] == self.metadata.labels['app/version'] && \
             dep.status.conditions.filter(e, e.type == 'Ready').all(e, e.status == 'True') && \
             dep.metadata.generation == dep.status.observedGeneration",
        )
        .unwrap();
        assert!(expr.eval_bool([("self", &this), ("dep", &dep)]).unwrap());
        let other = json!({"metadata": {"labels": {"app/version": "v2"}}});
        assert!(!expr.eval_bool([("self", &other), ("dep", &dep)]).unwrap());
    }
}
