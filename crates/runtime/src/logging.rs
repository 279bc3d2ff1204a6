//! Logging set-up from `--log-level` and `--log-encoding`, on stderr like controller-runtime.
//!
//! JSON lines carry Flux's keys so existing log queries keep working: `level`, `ts` (ISO 8601,
//! milliseconds, UTC), `logger`, `msg`, then the fields of the enclosing spans (the reconcile
//! span carries `controller`, `controllerGroup`, `controllerKind`, `name`, `namespace`,
//! `reconcileID`) and the event's own fields (e.g. `error`).

use std::fmt::Write as _;
use std::io::{IsTerminal, Write as _};
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::Value;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;

use crate::flags::{LogConfig, LogEncoding, LogLevel};
use crate::{Error, Result};

static INITIALIZED: AtomicBool = AtomicBool::new(false);

/// Whether [`init`] has installed the global subscriber.
pub fn is_initialized() -> bool {
    INITIALIZED.load(Ordering::SeqCst)
}

/// The filter for a level. `RUST_LOG`, when set, overrides it (an escape hatch for debugging
/// dependencies); the HTTP stack stays at info under debug/trace, as client-go's does.
pub fn filter(level: LogLevel) -> EnvFilter {
    filter_with(level, std::env::var("RUST_LOG").ok().as_deref())
}

fn filter_with(level: LogLevel, rust_log: Option<&str>) -> EnvFilter {
    if let Some(spec) = rust_log
        && let Ok(f) = EnvFilter::try_new(spec)
    {
        return f;
    }
    let directives = match level {
        LogLevel::Trace => {
            "trace,hyper=info,hyper_util=info,h2=info,tower=info,rustls=info,reqwest=info"
        }
        LogLevel::Debug => {
            "debug,hyper=info,hyper_util=info,h2=info,tower=info,rustls=info,reqwest=info"
        }
        LogLevel::Info => "info",
        LogLevel::Error => "error",
    };
    EnvFilter::new(directives)
}

/// Installs the global subscriber. Call once, first thing after parsing flags.
pub fn init(config: &LogConfig) -> Result<()> {
    let registry = tracing_subscriber::registry().with(filter(config.level));
    let result = match config.encoding {
        LogEncoding::Json => registry.with(JsonLayer::stderr()).try_init(),
        LogEncoding::Console => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(std::io::stderr)
                    .with_ansi(std::io::stderr().is_terminal()),
            )
            .try_init(),
    };
    result.map_err(|e| Error::Logging(e.to_string()))?;
    INITIALIZED.store(true, Ordering::SeqCst);
    Ok(())
}

/// A layer writing one Flux-style JSON object per event.
pub struct JsonLayer<W> {
    make_writer: W,
}

impl<W> JsonLayer<W>
where
    W: Fn() -> Box<dyn std::io::Write> + Send + Sync + 'static,
{
    /// A layer writing to what `make_writer` returns (tests capture into a buffer).
    pub fn with_writer(make_writer: W) -> Self {
        JsonLayer { make_writer }
    }
}

impl JsonLayer<fn() -> Box<dyn std::io::Write>> {
    /// A layer writing to `stderr`, where controller-runtime logs.
    pub fn stderr() -> Self {
        fn stderr() -> Box<dyn std::io::Write> {
            Box::new(std::io::stderr())
        }
        JsonLayer {
            make_writer: stderr,
        }
    }
}

/// Fields recorded on a span, in order.
#[derive(Default)]
struct SpanFields(Vec<(String, Value)>);

struct Visitor<'a>(&'a mut Vec<(String, Value)>);

impl Visitor<'_> {
    fn put(&mut self, field: &Field, value: Value) {
        let name = field.name();
        let name = if name == "message" { "msg" } else { name };
        // `r#type` and friends arrive with their raw prefix.
        let name = name.strip_prefix("r#").unwrap_or(name);
        match self.0.iter_mut().find(|(k, _)| k == name) {
            Some(slot) => slot.1 = value,
            None => self.0.push((name.to_string(), value)),
        }
    }
}

impl Visit for Visitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, Value::String(value.to_string()));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, Value::Bool(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, Value::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, Value::from(value));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, Value::from(value));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.put(field, Value::String(value.to_string()));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.put(field, Value::String(format!("{value:?}")));
    }
}

fn level_name(level: &Level) -> &'static str {
    match *level {
        Level::TRACE => "trace",
        Level::DEBUG => "debug",
        Level::INFO => "info",
        Level::WARN => "warn",
        Level::ERROR => "error",
    }
}

/// zap's ISO 8601 encoder: `2024-01-02T03:04:05.678Z`.
fn timestamp() -> String {
    jiff::fmt::strtime::format("%Y-%m-%dT%H:%M:%S%.3fZ", jiff::Timestamp::now())
        .unwrap_or_else(|_| jiff::Timestamp::now().to_string())
}

impl<S, W> Layer<S> for JsonLayer<W>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: Fn() -> Box<dyn std::io::Write> + Send + Sync + 'static,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = SpanFields::default();
        attrs.record(&mut Visitor(&mut fields.0));
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(fields);
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id) {
            let mut ext = span.extensions_mut();
            if let Some(fields) = ext.get_mut::<SpanFields>() {
                values.record(&mut Visitor(&mut fields.0));
            }
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let meta = event.metadata();
        let mut fields: Vec<(String, Value)> = Vec::new();
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope.from_root() {
                if let Some(f) = span.extensions().get::<SpanFields>() {
                    for (k, v) in &f.0 {
                        match fields.iter_mut().find(|(name, _)| name == k) {
                            Some(slot) => slot.1 = v.clone(),
                            None => fields.push((k.clone(), v.clone())),
                        }
                    }
                }
            }
        }
        let mut own = Vec::new();
        event.record(&mut Visitor(&mut own));
        let msg = own
            .iter()
            .position(|(k, _)| k == "msg")
            .map(|i| own.remove(i).1)
            .unwrap_or(Value::String(String::new()));
        for (k, v) in own {
            match fields.iter_mut().find(|(name, _)| *name == k) {
                Some(slot) => slot.1 = v,
                None => fields.push((k, v)),
            }
        }

        let mut line = String::with_capacity(256);
        let q = |s: &str| Value::String(s.to_string()).to_string();
        let _ = write!(
            line,
            "{{\"level\":{},\"ts\":{},\"logger\":{},\"msg\":{}",
            q(level_name(meta.level())),
            q(&timestamp()),
            q(meta.target()),
            msg
        );
        for (k, v) in fields {
            if matches!(k.as_str(), "level" | "ts" | "logger" | "msg") {
                continue;
            }
            let _ = write!(line, ",{}:{}", q(&k), v);
        }
        line.push_str("}\n");
        let mut w = (self.make_writer)();
        let _ = w.write_all(line.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn json_lines_have_flux_keys_and_span_fields() {
        let buf = Buf::default();
        let w = buf.clone();
        let layer = JsonLayer::with_writer(move || Box::new(w.clone()) as Box<dyn std::io::Write>);
        let subscriber = tracing_subscriber::registry()
            .with(EnvFilter::new("debug"))
            .with(layer);
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!(
                "reconcile",
                controller = "gitrepository",
                name = "podinfo",
                namespace = "flux-system",
                reconcileID = "1234"
            );
            let _g = span.enter();
            tracing::info!(revision = "main@sha1:abc", "stored artifact");
            let err = std::io::Error::other("boom");
            tracing::error!(
                error = &err as &dyn std::error::Error,
                "reconciliation failed"
            );
            tracing::trace!("filtered out");
        });
        let out = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<serde_json::Value> = out
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2, "{out}");
        let first = &lines[0];
        assert_eq!(first["level"], "info");
        assert_eq!(first["msg"], "stored artifact");
        assert_eq!(first["controller"], "gitrepository");
        assert_eq!(first["name"], "podinfo");
        assert_eq!(first["namespace"], "flux-system");
        assert_eq!(first["reconcileID"], "1234");
        assert_eq!(first["revision"], "main@sha1:abc");
        assert!(first["logger"].as_str().unwrap().contains("logging"));
        let ts = first["ts"].as_str().unwrap();
        assert!(
            ts.ends_with('Z') && ts.len() == "2024-01-02T03:04:05.678Z".len(),
            "{ts}"
        );
        assert_eq!(lines[1]["level"], "error");
        assert_eq!(lines[1]["error"], "boom");
        // Key order starts like zap's.
        assert!(out.starts_with("{\"level\":\"info\",\"ts\":"), "{out}");
    }

    #[test]
    fn filters_per_level() {
        for (level, allows_debug, allows_info) in [
            (LogLevel::Trace, true, true),
            (LogLevel::Debug, true, true),
            (LogLevel::Info, false, true),
            (LogLevel::Error, false, false),
        ] {
            let buf = Buf::default();
            let w = buf.clone();
            let layer =
                JsonLayer::with_writer(move || Box::new(w.clone()) as Box<dyn std::io::Write>);
            // RUST_LOG in the environment must not change the test.
            let f = filter_with(level, None);
            let subscriber = tracing_subscriber::registry().with(f).with(layer);
            tracing::subscriber::with_default(subscriber, || {
                tracing::debug!("d");
                tracing::info!("i");
            });
            let out = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
            assert_eq!(out.contains("\"msg\":\"d\""), allows_debug, "{level:?}");
            assert_eq!(out.contains("\"msg\":\"i\""), allows_info, "{level:?}");
        }
        // RUST_LOG overrides, when valid.
        let f = filter_with(LogLevel::Error, Some("debug")).to_string();
        assert!(f.contains("debug"), "{f}");
    }
}
