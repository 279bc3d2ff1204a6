//! The command-line flags every Flux controller shares (fluxcd/pkg/runtime: client, leader
//! election, logger, events, metrics, health, jitter, retry, feature gates and the controllers'
//! common flags), with Flux's names and defaults, validated into a typed [`RuntimeConfig`].
//!
//! Flags are parsed as strings where Flux accepts Go syntax (durations, addresses) so that a
//! bad value is reported by [`RuntimeArgs::into_config`] with the flag's name rather than by a
//! generic parser message.

use std::collections::BTreeMap;
use std::time::Duration;

use clap::Args;

use crate::{Error, Result};

/// Environment variable holding the controller's own namespace (set from the downward API).
pub const RUNTIME_NAMESPACE_ENV: &str = "RUNTIME_NAMESPACE";

/// Flux's shared flags. `CONCURRENT` is the controller's `--concurrent` default (source-controller
/// 2, kustomize- and helm-controller 4). Flatten it into the binary's own `clap::Parser`.
#[derive(Args, Debug, Clone)]
pub struct RuntimeArgs<const CONCURRENT: u32 = 4> {
    /// The maximum queries-per-second of requests sent to the Kubernetes API.
    #[arg(long = "kube-api-qps", default_value_t = 50.0)]
    pub kube_api_qps: f32,

    /// The maximum burst queries-per-second of requests sent to the Kubernetes API.
    #[arg(long = "kube-api-burst", default_value_t = 300)]
    pub kube_api_burst: i64,

    /// Enable leader election for controller manager. Enabling this will ensure there is only
    /// one active controller manager.
    #[arg(long = "enable-leader-election", default_value_t = false, num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set)]
    pub enable_leader_election: bool,

    /// Interval at which non-leader candidates will wait to force acquire leadership
    /// (duration string).
    #[arg(long = "leader-election-lease-duration", default_value = "35s")]
    pub leader_election_lease_duration: String,

    /// Duration that the leading controller manager will retry refreshing leadership before
    /// giving up (duration string).
    #[arg(long = "leader-election-renew-deadline", default_value = "30s")]
    pub leader_election_renew_deadline: String,

    /// Duration the LeaderElector clients should wait between tries of actions (duration
    /// string).
    #[arg(long = "leader-election-retry-period", default_value = "5s")]
    pub leader_election_retry_period: String,

    /// Release the leader election lease when the manager is stopped.
    #[arg(long = "leader-election-release-on-cancel", default_value_t = true, num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set)]
    pub leader_election_release_on_cancel: bool,

    /// Log verbosity level. Can be one of 'trace', 'debug', 'info', 'error'.
    #[arg(long = "log-level", default_value = "info")]
    pub log_level: String,

    /// Log encoding format. Can be 'json' or 'console'.
    #[arg(long = "log-encoding", default_value = "json")]
    pub log_encoding: String,

    /// The address of the events receiver.
    #[arg(long = "events-addr", default_value = "")]
    pub events_addr: String,

    /// The address the metric endpoint binds to ("0" disables it).
    #[arg(long = "metrics-addr", default_value = ":8080")]
    pub metrics_addr: String,

    /// The address the health endpoint binds to.
    #[arg(long = "health-addr", default_value = ":9440")]
    pub health_addr: String,

    /// The number of concurrent reconciles per kind.
    // Not `default_value_t`: clap keeps that string in a static shared by every CONCURRENT.
    #[arg(long = "concurrent", default_value = number_str(CONCURRENT))]
    pub concurrent: u32,

    /// Watch for custom resources in all namespaces, if set to false it will only watch the
    /// runtime namespace.
    #[arg(long = "watch-all-namespaces", default_value_t = true, num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set)]
    pub watch_all_namespaces: bool,

    /// Watch for resources with matching labels e.g. 'sharding.fluxcd.io/key=shard1'.
    #[arg(long = "watch-label-selector", default_value = "")]
    pub watch_label_selector: String,

    /// The interval at which failing dependencies are reevaluated.
    #[arg(long = "requeue-dependency", default_value = "30s")]
    pub requeue_dependency: String,

    /// When set to true, references between custom resources are allowed only if the
    /// reference and the referee are in the same namespace.
    #[arg(long = "no-cross-namespace-refs", default_value_t = false, num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set)]
    pub no_cross_namespace_refs: bool,

    /// Default service account used for impersonation.
    #[arg(long = "default-service-account", default_value = "")]
    pub default_service_account: String,

    /// Percentage of jitter to apply to interval durations. A value of 10 will apply a jitter
    /// of +/-10% to the interval duration. It cannot be negative, and must be less than 100.
    #[arg(
        long = "interval-jitter-percentage",
        default_value_t = 5,
        allow_negative_numbers = true
    )]
    pub interval_jitter_percentage: i64,

    /// The minimum amount of time for which an object being reconciled will have to wait
    /// before a retry.
    #[arg(long = "min-retry-delay", default_value = "750ms")]
    pub min_retry_delay: String,

    /// The maximum amount of time for which an object being reconciled will have to wait
    /// before a retry.
    #[arg(long = "max-retry-delay", default_value = "15m")]
    pub max_retry_delay: String,

    /// A comma separated list of key=value pairs defining the state of experimental features.
    #[arg(long = "feature-gates", default_value = "")]
    pub feature_gates: String,
}

/// Log verbosity, as Flux's `--log-level`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogLevel {
    Trace,
    Debug,
    Info,
    Error,
}

/// Log line format, as Flux's `--log-encoding`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogEncoding {
    /// One JSON object per line (Flux's default, what log collectors parse).
    Json,
    /// Human-readable lines.
    Console,
}

/// Logging settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogConfig {
    pub level: LogLevel,
    pub encoding: LogEncoding,
}

/// Leader election settings (client-go's `LeaderElectionConfig`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeaderElectionConfig {
    pub enabled: bool,
    pub lease_duration: Duration,
    pub renew_deadline: Duration,
    pub retry_period: Duration,
    pub release_on_cancel: bool,
}

/// Which objects the controllers watch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WatchConfig {
    /// `None` watches every namespace; `Some(ns)` only `ns` (`--watch-all-namespaces=false`).
    pub namespace: Option<String>,
    /// Label selector for sharding (`--watch-label-selector`), `None` when empty.
    pub label_selector: Option<String>,
}

/// Per-object exponential retry delays on failure (`--min-retry-delay`, `--max-retry-delay`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryConfig {
    pub min: Duration,
    pub max: Duration,
}

/// The state of each feature gate the controller knows, after `--feature-gates`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FeatureGates(BTreeMap<String, bool>);

impl FeatureGates {
    /// Parses `A=true,B=false` against the controller's known gates and their defaults.
    /// Values follow Go's `strconv.ParseBool`; an unknown gate is an error listing the known.
    pub fn parse(spec: &str, known: &[(&str, bool)]) -> Result<Self> {
        let mut gates: BTreeMap<String, bool> =
            known.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        for pair in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').ok_or_else(|| Error::InvalidFlag {
                flag: "feature-gates",
                value: spec.to_string(),
                reason: format!("{pair:?} is not of the form Name=true|false"),
            })?;
            let (name, value) = (name.trim(), value.trim());
            if !gates.contains_key(name) {
                let known: Vec<&str> = known.iter().map(|(k, _)| *k).collect();
                return Err(Error::UnknownFeatureGate {
                    gate: name.to_string(),
                    known: if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    },
                });
            }
            let enabled = parse_go_bool(value).ok_or_else(|| Error::InvalidFlag {
                flag: "feature-gates",
                value: spec.to_string(),
                reason: format!("{value:?} is not a boolean for gate {name}"),
            })?;
            gates.insert(name.to_string(), enabled);
        }
        Ok(Self(gates))
    }

    /// Whether `gate` is enabled; unknown gates are disabled.
    pub fn enabled(&self, gate: &str) -> bool {
        self.0.get(gate).copied().unwrap_or(false)
    }

    /// Every known gate and its state.
    pub fn iter(&self) -> impl Iterator<Item = (&str, bool)> {
        self.0.iter().map(|(k, v)| (k.as_str(), *v))
    }
}

/// The validated flags.
#[derive(Clone, Debug, PartialEq)]
pub struct RuntimeConfig {
    pub kube_api_qps: f32,
    pub kube_api_burst: u32,
    pub leader_election: LeaderElectionConfig,
    pub log: LogConfig,
    /// `None` when `--events-addr` is empty: events go to the Kubernetes API only.
    pub events_addr: Option<String>,
    /// `None` when `--metrics-addr=0` (disabled). Go's `:8080` becomes `0.0.0.0:8080`.
    pub metrics_addr: Option<String>,
    pub health_addr: String,
    pub concurrent: u16,
    pub watch: WatchConfig,
    pub requeue_dependency: Duration,
    pub no_cross_namespace_refs: bool,
    /// `None` when empty.
    pub default_service_account: Option<String>,
    /// 0..=99: a requeue interval `d` becomes `d * (1 ± p/100)`.
    pub interval_jitter_percentage: u8,
    pub retry: RetryConfig,
    pub feature_gates: FeatureGates,
    /// `RUNTIME_NAMESPACE`: the controller's own namespace (watch scope with
    /// `--watch-all-namespaces=false`, and where the leader election lease lives).
    pub runtime_namespace: Option<String>,
}

impl Default for RuntimeConfig {
    /// Flux's defaults (leader election off, watch all namespaces, concurrency 4).
    fn default() -> Self {
        RuntimeConfig {
            kube_api_qps: 50.0,
            kube_api_burst: 300,
            leader_election: LeaderElectionConfig {
                enabled: false,
                lease_duration: Duration::from_secs(35),
                renew_deadline: Duration::from_secs(30),
                retry_period: Duration::from_secs(5),
                release_on_cancel: true,
            },
            log: LogConfig {
                level: LogLevel::Info,
                encoding: LogEncoding::Json,
            },
            events_addr: None,
            metrics_addr: Some("0.0.0.0:8080".into()),
            health_addr: "0.0.0.0:9440".into(),
            concurrent: 4,
            watch: WatchConfig {
                namespace: None,
                label_selector: None,
            },
            requeue_dependency: Duration::from_secs(30),
            no_cross_namespace_refs: false,
            default_service_account: None,
            interval_jitter_percentage: 5,
            retry: RetryConfig {
                min: Duration::from_millis(750),
                max: Duration::from_secs(900),
            },
            feature_gates: FeatureGates::default(),
            runtime_namespace: None,
        }
    }
}

impl<const CONCURRENT: u32> RuntimeArgs<CONCURRENT> {
    /// Validates the flags, reading `RUNTIME_NAMESPACE` when `--watch-all-namespaces=false`.
    /// `known_gates` lists the controller's feature gates with their defaults.
    pub fn into_config(self, known_gates: &[(&str, bool)]) -> Result<RuntimeConfig> {
        let ns = std::env::var(RUNTIME_NAMESPACE_ENV)
            .ok()
            .filter(|s| !s.is_empty());
        self.into_config_with_namespace(known_gates, ns)
    }

    /// [`RuntimeArgs::into_config`] with the runtime namespace given (tests, embedding).
    pub fn into_config_with_namespace(
        self,
        known_gates: &[(&str, bool)],
        runtime_namespace: Option<String>,
    ) -> Result<RuntimeConfig> {
        let invalid = |flag: &'static str, value: &str, reason: String| Error::InvalidFlag {
            flag,
            value: value.to_string(),
            reason,
        };

        if !(self.kube_api_qps.is_finite() && self.kube_api_qps > 0.0) {
            return Err(invalid(
                "kube-api-qps",
                &self.kube_api_qps.to_string(),
                "must be greater than 0".into(),
            ));
        }
        let kube_api_burst = u32::try_from(self.kube_api_burst)
            .ok()
            .filter(|b| *b > 0)
            .ok_or_else(|| {
                invalid(
                    "kube-api-burst",
                    &self.kube_api_burst.to_string(),
                    "must be greater than 0".into(),
                )
            })?;

        let lease_duration = duration_flag(
            "leader-election-lease-duration",
            &self.leader_election_lease_duration,
        )?;
        let renew_deadline = duration_flag(
            "leader-election-renew-deadline",
            &self.leader_election_renew_deadline,
        )?;
        let retry_period = duration_flag(
            "leader-election-retry-period",
            &self.leader_election_retry_period,
        )?;
        // The same invariants client-go's NewLeaderElector enforces.
        if lease_duration <= renew_deadline {
            return Err(invalid(
                "leader-election-lease-duration",
                &self.leader_election_lease_duration,
                format!(
                    "must be greater than --leader-election-renew-deadline ({})",
                    self.leader_election_renew_deadline
                ),
            ));
        }
        if renew_deadline.as_secs_f64() <= 1.2 * retry_period.as_secs_f64() {
            return Err(invalid(
                "leader-election-renew-deadline",
                &self.leader_election_renew_deadline,
                format!(
                    "must be greater than 1.2 x --leader-election-retry-period ({})",
                    self.leader_election_retry_period
                ),
            ));
        }
        if retry_period.is_zero() {
            return Err(invalid(
                "leader-election-retry-period",
                &self.leader_election_retry_period,
                "must be greater than 0".into(),
            ));
        }

        let level = match self.log_level.as_str() {
            "trace" => LogLevel::Trace,
            "debug" => LogLevel::Debug,
            "info" => LogLevel::Info,
            "error" => LogLevel::Error,
            other => {
                return Err(invalid(
                    "log-level",
                    other,
                    "must be one of trace, debug, info, error".into(),
                ));
            }
        };
        let encoding = match self.log_encoding.as_str() {
            "json" => LogEncoding::Json,
            "console" => LogEncoding::Console,
            other => {
                return Err(invalid(
                    "log-encoding",
                    other,
                    "must be one of json, console".into(),
                ));
            }
        };

        let events_addr = match self.events_addr.trim() {
            "" => None,
            addr => {
                let url = reqwest::Url::parse(addr)
                    .map_err(|e| invalid("events-addr", addr, format!("not a URL: {e}")))?;
                if !matches!(url.scheme(), "http" | "https") {
                    return Err(invalid(
                        "events-addr",
                        addr,
                        "the scheme must be http or https".into(),
                    ));
                }
                Some(addr.to_string())
            }
        };

        let metrics_addr = match self.metrics_addr.as_str() {
            "0" => None,
            addr => Some(listen_addr("metrics-addr", addr)?),
        };
        let health_addr = listen_addr("health-addr", &self.health_addr)?;

        let concurrent = u16::try_from(self.concurrent)
            .ok()
            .filter(|c| *c > 0)
            .ok_or_else(|| {
                invalid(
                    "concurrent",
                    &self.concurrent.to_string(),
                    "must be between 1 and 65535".into(),
                )
            })?;

        let namespace = if self.watch_all_namespaces {
            None
        } else {
            Some(runtime_namespace.clone().ok_or_else(|| {
                invalid(
                    "watch-all-namespaces",
                    "false",
                    format!("the {RUNTIME_NAMESPACE_ENV} environment variable must name the namespace to watch"),
                )
            })?)
        };
        let label_selector = match self.watch_label_selector.trim() {
            "" => None,
            sel => {
                validate_label_selector(sel)
                    .map_err(|reason| invalid("watch-label-selector", sel, reason))?;
                Some(sel.to_string())
            }
        };

        let requeue_dependency = duration_flag("requeue-dependency", &self.requeue_dependency)?;

        let interval_jitter_percentage = u8::try_from(self.interval_jitter_percentage)
            .ok()
            .filter(|p| *p < 100)
            .ok_or_else(|| {
                invalid(
                    "interval-jitter-percentage",
                    &self.interval_jitter_percentage.to_string(),
                    "the jitter percentage must be between 0 and 99".into(),
                )
            })?;

        let min = duration_flag("min-retry-delay", &self.min_retry_delay)?;
        let max = duration_flag("max-retry-delay", &self.max_retry_delay)?;
        if min > max {
            return Err(invalid(
                "min-retry-delay",
                &self.min_retry_delay,
                format!(
                    "must not be greater than --max-retry-delay ({})",
                    self.max_retry_delay
                ),
            ));
        }

        let feature_gates = FeatureGates::parse(&self.feature_gates, known_gates)?;

        Ok(RuntimeConfig {
            kube_api_qps: self.kube_api_qps,
            kube_api_burst,
            leader_election: LeaderElectionConfig {
                enabled: self.enable_leader_election,
                lease_duration,
                renew_deadline,
                retry_period,
                release_on_cancel: self.leader_election_release_on_cancel,
            },
            log: LogConfig { level, encoding },
            events_addr,
            metrics_addr,
            health_addr,
            concurrent,
            watch: WatchConfig {
                namespace,
                label_selector,
            },
            requeue_dependency,
            no_cross_namespace_refs: self.no_cross_namespace_refs,
            default_service_account: Some(self.default_service_account)
                .filter(|s| !s.trim().is_empty()),
            interval_jitter_percentage,
            retry: RetryConfig { min, max },
            feature_gates,
            runtime_namespace,
        })
    }
}

/// `n` as a `&'static str` for clap's default (small values from a table; larger ones are
/// leaked once, at flag parsing).
fn number_str(n: u32) -> &'static str {
    const SMALL: [&str; 17] = [
        "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16",
    ];
    match usize::try_from(n).ok().and_then(|i| SMALL.get(i)) {
        Some(s) => s,
        None => Box::leak(n.to_string().into_boxed_str()),
    }
}

/// Parses a Go duration flag, naming the flag in the error.
fn duration_flag(flag: &'static str, value: &str) -> Result<Duration> {
    ferroflux_api::duration::parse(value).map_err(|e| Error::InvalidFlag {
        flag,
        value: value.to_string(),
        reason: format!("{e} (expected a Go duration such as 30s, 5m, 750ms)"),
    })
}

/// Go's `strconv.ParseBool`.
fn parse_go_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// Turns a Go listen address (`:8080`, `127.0.0.1:8080`, `localhost:8080`, `[::1]:8080`) into
/// one tokio can bind: an empty host means every IPv4 interface.
fn listen_addr(flag: &'static str, addr: &str) -> Result<String> {
    let invalid = |reason: &str| Error::InvalidFlag {
        flag,
        value: addr.to_string(),
        reason: reason.to_string(),
    };
    let (host, port) = addr
        .rsplit_once(':')
        .ok_or_else(|| invalid("expected host:port or :port"))?;
    port.parse::<u16>()
        .map_err(|_| invalid("the port must be a number between 0 and 65535"))?;
    let host = if host.is_empty() { "0.0.0.0" } else { host };
    if host.contains(char::is_whitespace) {
        return Err(invalid("the host must not contain spaces"));
    }
    Ok(format!("{host}:{port}"))
}

/// Checks the syntax of a Kubernetes label selector (`a=b,c!=d,!e,f in (g,h),i notin (j)`),
/// so that a typo fails at start-up instead of making every watch fail.
fn validate_label_selector(sel: &str) -> std::result::Result<(), String> {
    // Split on commas outside parentheses.
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    for (i, c) in sel.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&sel[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        if depth < 0 {
            return Err("unbalanced parentheses".into());
        }
    }
    if depth != 0 {
        return Err("unbalanced parentheses".into());
    }
    parts.push(&sel[start..]);

    for part in parts.iter().map(|p| p.trim()) {
        if part.is_empty() {
            return Err("empty requirement".into());
        }
        if let Some(key) = part.strip_prefix('!') {
            check_label_key(key.trim())?;
            continue;
        }
        if let Some((key, rest)) = split_set_operator(part) {
            check_label_key(key)?;
            let inner = rest
                .trim()
                .strip_prefix('(')
                .and_then(|r| r.strip_suffix(')'))
                .ok_or_else(|| format!("{part:?}: expected a parenthesised list of values"))?;
            for v in inner.split(',') {
                check_label_value(v.trim())?;
            }
            continue;
        }
        let (key, value) = if let Some((k, v)) = part.split_once("!=") {
            (k, v)
        } else if let Some((k, v)) = part.split_once("==") {
            (k, v)
        } else if let Some((k, v)) = part.split_once('=') {
            (k, v)
        } else {
            (part, "")
        };
        check_label_key(key.trim())?;
        check_label_value(value.trim())?;
    }
    Ok(())
}

fn split_set_operator(part: &str) -> Option<(&str, &str)> {
    for op in [" notin ", " in "] {
        if let Some((k, rest)) = part.split_once(op) {
            return Some((k.trim(), rest));
        }
    }
    None
}

fn check_label_key(key: &str) -> std::result::Result<(), String> {
    let (prefix, name) = match key.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    if let Some(p) = prefix {
        let ok = !p.is_empty()
            && p.len() <= 253
            && p.split('.').all(|l| {
                !l.is_empty()
                    && l.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                    && !l.starts_with('-')
                    && !l.ends_with('-')
            });
        if !ok {
            return Err(format!("{key:?}: the key prefix must be a DNS subdomain"));
        }
    }
    if name.is_empty() || name.len() > 63 || !label_chars_ok(name) {
        return Err(format!(
            "{key:?}: a label key name must be 1-63 alphanumeric characters, '-', '_' or '.', starting and ending with an alphanumeric"
        ));
    }
    Ok(())
}

fn check_label_value(v: &str) -> std::result::Result<(), String> {
    if v.is_empty() {
        return Ok(());
    }
    if v.len() > 63 || !label_chars_ok(v) {
        return Err(format!(
            "{v:?}: a label value must be at most 63 alphanumeric characters, '-', '_' or '.', starting and ending with an alphanumeric"
        ));
    }
    Ok(())
}

fn label_chars_ok(s: &str) -> bool {
    let alnum = |c: char| c.is_ascii_alphanumeric();
    s.chars().all(|c| alnum(c) || matches!(c, '-' | '_' | '.'))
        && s.chars().next().is_some_and(alnum)
        && s.chars().last().is_some_and(alnum)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser, Debug)]
    struct Cli {
        #[command(flatten)]
        runtime: RuntimeArgs<2>,
    }

    fn parse(args: &[&str]) -> RuntimeArgs<2> {
        let mut argv = vec!["controller"];
        argv.extend_from_slice(args);
        Cli::try_parse_from(argv).unwrap().runtime
    }

    fn config(args: &[&str]) -> Result<RuntimeConfig> {
        parse(args).into_config_with_namespace(
            &[("GateA", false), ("GateB", true)],
            Some("flux-system".into()),
        )
    }

    #[test]
    fn defaults_equal_fluxs() {
        let c = config(&[]).unwrap();
        let mut expected = RuntimeConfig {
            concurrent: 2,
            runtime_namespace: Some("flux-system".into()),
            ..RuntimeConfig::default()
        };
        expected.feature_gates =
            FeatureGates::parse("", &[("GateA", false), ("GateB", true)]).unwrap();
        assert_eq!(c, expected);
        assert_eq!(c.kube_api_qps, 50.0);
        assert_eq!(c.kube_api_burst, 300);
        assert!(!c.leader_election.enabled);
        assert_eq!(c.leader_election.lease_duration, Duration::from_secs(35));
        assert_eq!(c.leader_election.renew_deadline, Duration::from_secs(30));
        assert_eq!(c.leader_election.retry_period, Duration::from_secs(5));
        assert!(c.leader_election.release_on_cancel);
        assert_eq!(
            c.log,
            LogConfig {
                level: LogLevel::Info,
                encoding: LogEncoding::Json
            }
        );
        assert_eq!(c.events_addr, None);
        assert_eq!(c.metrics_addr.as_deref(), Some("0.0.0.0:8080"));
        assert_eq!(c.health_addr, "0.0.0.0:9440");
        assert_eq!(
            c.watch,
            WatchConfig {
                namespace: None,
                label_selector: None
            }
        );
        assert_eq!(c.requeue_dependency, Duration::from_secs(30));
        assert!(!c.no_cross_namespace_refs);
        assert_eq!(c.default_service_account, None);
        assert_eq!(c.interval_jitter_percentage, 5);
        assert_eq!(c.retry.min, Duration::from_millis(750));
        assert_eq!(c.retry.max, Duration::from_secs(15 * 60));
        assert!(!c.feature_gates.enabled("GateA"));
        assert!(c.feature_gates.enabled("GateB"));
    }

    #[test]
    fn concurrent_default_is_the_groups_parameter() {
        #[derive(Parser)]
        struct Four {
            #[command(flatten)]
            runtime: RuntimeArgs<4>,
        }
        let four = Four::try_parse_from(["c"]).unwrap().runtime;
        assert_eq!(four.concurrent, 4);
        assert_eq!(parse(&[]).concurrent, 2);
        assert_eq!(Four::try_parse_from(["c"]).unwrap().runtime.concurrent, 4);
        #[derive(Parser)]
        struct Many {
            #[command(flatten)]
            runtime: RuntimeArgs<40>,
        }
        assert_eq!(Many::try_parse_from(["c"]).unwrap().runtime.concurrent, 40);
        assert_eq!(config(&["--concurrent=10"]).unwrap().concurrent, 10);
    }

    #[test]
    fn go_style_flags_parse() {
        let c = config(&[
            "--enable-leader-election",
            "--leader-election-lease-duration=8s",
            "--leader-election-renew-deadline=6s",
            "--leader-election-retry-period=1s",
            "--leader-election-release-on-cancel=false",
            "--log-level=debug",
            "--log-encoding=console",
            "--events-addr=http://notification-controller.flux-system.svc.cluster.local./",
            "--metrics-addr=127.0.0.1:18080",
            "--health-addr",
            "localhost:19440",
            "--watch-all-namespaces=false",
            "--watch-label-selector=!sharding.fluxcd.io/key",
            "--requeue-dependency=5s",
            "--no-cross-namespace-refs=true",
            "--default-service-account=default",
            "--interval-jitter-percentage=0",
            "--min-retry-delay=1s",
            "--max-retry-delay=1m",
            "--feature-gates=GateA=true,GateB=false",
            "--kube-api-qps=10",
            "--kube-api-burst=20",
        ])
        .unwrap();
        assert!(c.leader_election.enabled);
        assert_eq!(c.leader_election.lease_duration, Duration::from_secs(8));
        assert!(!c.leader_election.release_on_cancel);
        assert_eq!(
            c.log,
            LogConfig {
                level: LogLevel::Debug,
                encoding: LogEncoding::Console
            }
        );
        assert!(c.events_addr.is_some());
        assert_eq!(c.metrics_addr.as_deref(), Some("127.0.0.1:18080"));
        assert_eq!(c.health_addr, "localhost:19440");
        assert_eq!(c.watch.namespace.as_deref(), Some("flux-system"));
        assert_eq!(
            c.watch.label_selector.as_deref(),
            Some("!sharding.fluxcd.io/key")
        );
        assert_eq!(c.requeue_dependency, Duration::from_secs(5));
        assert!(c.no_cross_namespace_refs);
        assert_eq!(c.default_service_account.as_deref(), Some("default"));
        assert_eq!(c.interval_jitter_percentage, 0);
        assert_eq!(
            c.retry,
            RetryConfig {
                min: Duration::from_secs(1),
                max: Duration::from_secs(60)
            }
        );
        assert!(c.feature_gates.enabled("GateA"));
        assert!(!c.feature_gates.enabled("GateB"));
        assert_eq!((c.kube_api_qps, c.kube_api_burst), (10.0, 20));
        assert_eq!(config(&["--metrics-addr=0"]).unwrap().metrics_addr, None);
    }

    fn err(args: &[&str]) -> String {
        config(args).unwrap_err().to_string()
    }

    #[test]
    fn bad_values_fail_with_the_flag_named() {
        let e = err(&["--log-encoding=xml"]);
        assert!(
            e.contains("--log-encoding") && e.contains("xml") && e.contains("json, console"),
            "{e}"
        );
        let e = err(&["--log-level=verbose"]);
        assert!(e.contains("--log-level"), "{e}");
        for p in ["100", "150", "-1"] {
            let e = err(&[&format!("--interval-jitter-percentage={p}")]);
            assert!(
                e.contains("--interval-jitter-percentage") && e.contains("between 0 and 99"),
                "{e}"
            );
        }
        assert_eq!(
            config(&["--interval-jitter-percentage=99"])
                .unwrap()
                .interval_jitter_percentage,
            99
        );
        let e = err(&["--min-retry-delay=soon"]);
        assert!(e.contains("--min-retry-delay") && e.contains("soon"), "{e}");
        let e = err(&["--min-retry-delay=1h", "--max-retry-delay=1m"]);
        assert!(e.contains("--max-retry-delay"), "{e}");
        let e = err(&["--requeue-dependency=30"]);
        assert!(e.contains("--requeue-dependency"), "{e}");
        let e = err(&["--leader-election-lease-duration=10s"]);
        assert!(
            e.contains("greater than --leader-election-renew-deadline"),
            "{e}"
        );
        let e = err(&["--leader-election-retry-period=29s"]);
        assert!(e.contains("--leader-election-renew-deadline"), "{e}");
        let e = err(&["--metrics-addr=8080"]);
        assert!(e.contains("--metrics-addr"), "{e}");
        let e = err(&["--health-addr=:http"]);
        assert!(e.contains("--health-addr"), "{e}");
        let e = err(&["--events-addr=not a url"]);
        assert!(e.contains("--events-addr"), "{e}");
        let e = err(&["--concurrent=0"]);
        assert!(e.contains("--concurrent"), "{e}");
        let e = err(&["--kube-api-qps=0"]);
        assert!(e.contains("--kube-api-qps"), "{e}");
        let e = err(&["--watch-label-selector=bad key=x"]);
        assert!(e.contains("--watch-label-selector"), "{e}");
    }

    #[test]
    fn watching_one_namespace_needs_runtime_namespace() {
        let e = parse(&["--watch-all-namespaces=false"])
            .into_config_with_namespace(&[], None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("RUNTIME_NAMESPACE"), "{e}");
    }

    #[test]
    fn feature_gates() {
        let known = [
            ("OOMWatch", false),
            ("DisableChartDigestTracking", false),
            ("CacheSecretsAndConfigMaps", true),
        ];
        let g =
            FeatureGates::parse("OOMWatch=true, CacheSecretsAndConfigMaps=False", &known).unwrap();
        assert!(g.enabled("OOMWatch"));
        assert!(!g.enabled("CacheSecretsAndConfigMaps"));
        assert!(!g.enabled("DisableChartDigestTracking"));
        assert_eq!(g.iter().count(), 3);
        let e = FeatureGates::parse("NoSuchGate=true", &known)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("NoSuchGate") && e.contains("OOMWatch, DisableChartDigestTracking"),
            "{e}"
        );
        let e = FeatureGates::parse("OOMWatch=yes", &known)
            .unwrap_err()
            .to_string();
        assert!(e.contains("OOMWatch"), "{e}");
        let e = FeatureGates::parse("OOMWatch", &known)
            .unwrap_err()
            .to_string();
        assert!(e.contains("Name=true|false"), "{e}");
        let e = FeatureGates::parse("A=true", &[]).unwrap_err().to_string();
        assert!(e.contains("known feature gates: none"), "{e}");
    }

    #[test]
    fn label_selectors() {
        for ok in [
            "!sharding.fluxcd.io/key",
            "sharding.fluxcd.io/key=shard1",
            "app=web,tier!=db",
            "env in (prod, staging),!legacy",
            "env notin (dev)",
            "app==web",
            "present",
        ] {
            assert!(
                validate_label_selector(ok).is_ok(),
                "{ok}: {:?}",
                validate_label_selector(ok)
            );
        }
        for bad in [
            "",
            "a=b,",
            "=x",
            "env in prod",
            "env in (a",
            "-a=b",
            "a=b c",
            "Bad_Prefix/x=y",
        ] {
            assert!(validate_label_selector(bad).is_err(), "{bad} should fail");
        }
    }
}
