//! Durations of a HelmRelease as `std::time::Duration`, with Flux's fallbacks applied.
//!
//! The strings are validated by the API server's pattern, but objects built in code or stored
//! before a schema change may still be malformed, so every helper returns a `Result`.

use std::time::Duration;

use super::actions::{InstallStrategy, StrategyName, UpgradeStrategy};
use super::helmrelease::HelmReleaseSpec;
use crate::Result;
use crate::duration::parse;

/// Per-operation timeout when neither the action nor `spec.timeout` sets one.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5 * 60);
/// Wait between attempts of the `RetryOnFailure` strategy when `retryInterval` is unset.
pub const DEFAULT_RETRY_INTERVAL: Duration = Duration::from_secs(5 * 60);

fn parse_or(value: Option<&str>, fallback: Duration) -> Result<Duration> {
    value.map_or(Ok(fallback), parse)
}

impl HelmReleaseSpec {
    /// How often the release is reconciled (`spec.interval`).
    pub fn interval(&self) -> Result<Duration> {
        parse(&self.interval)
    }

    /// How often the templated HelmChart checks its source: `spec.chart.spec.interval`, else
    /// `spec.interval`.
    pub fn chart_interval(&self) -> Result<Duration> {
        let own = self.chart.as_ref().and_then(|c| c.spec.interval.as_deref());
        match own {
            Some(s) => parse(s),
            None => self.interval(),
        }
    }

    /// The default per-operation timeout: `spec.timeout`, else 5m.
    pub fn timeout(&self) -> Result<Duration> {
        parse_or(self.timeout.as_deref(), DEFAULT_TIMEOUT)
    }

    fn action_timeout(&self, own: Option<&str>) -> Result<Duration> {
        match own {
            Some(s) => parse(s),
            None => self.timeout(),
        }
    }

    /// `spec.install.timeout`, else [`Self::timeout`].
    pub fn install_timeout(&self) -> Result<Duration> {
        self.action_timeout(self.install.as_ref().and_then(|a| a.timeout.as_deref()))
    }

    /// `spec.upgrade.timeout`, else [`Self::timeout`].
    pub fn upgrade_timeout(&self) -> Result<Duration> {
        self.action_timeout(self.upgrade.as_ref().and_then(|a| a.timeout.as_deref()))
    }

    /// `spec.test.timeout`, else [`Self::timeout`].
    pub fn test_timeout(&self) -> Result<Duration> {
        self.action_timeout(self.test.as_ref().and_then(|a| a.timeout.as_deref()))
    }

    /// `spec.rollback.timeout`, else [`Self::timeout`].
    pub fn rollback_timeout(&self) -> Result<Duration> {
        self.action_timeout(self.rollback.as_ref().and_then(|a| a.timeout.as_deref()))
    }

    /// `spec.uninstall.timeout`, else [`Self::timeout`].
    pub fn uninstall_timeout(&self) -> Result<Duration> {
        self.action_timeout(self.uninstall.as_ref().and_then(|a| a.timeout.as_deref()))
    }
}

impl InstallStrategy {
    /// Wait before retrying a failed install: `None` unless the strategy is `RetryOnFailure`,
    /// then `retryInterval`, else 5m.
    pub fn retry_interval(&self) -> Result<Option<Duration>> {
        retry_interval(self.name, self.retry_interval.as_deref())
    }
}

impl UpgradeStrategy {
    /// Wait before retrying a failed upgrade: `None` unless the strategy is `RetryOnFailure`,
    /// then `retryInterval`, else 5m.
    pub fn retry_interval(&self) -> Result<Option<Duration>> {
        retry_interval(self.name, self.retry_interval.as_deref())
    }
}

fn retry_interval(name: StrategyName, value: Option<&str>) -> Result<Option<Duration>> {
    match name {
        StrategyName::RemediateOnFailure => Ok(None),
        StrategyName::RetryOnFailure => parse_or(value, DEFAULT_RETRY_INTERVAL).map(Some),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::helm::v2::HelmRelease;

    fn spec(yaml: &str) -> HelmReleaseSpec {
        let hr: HelmRelease = serde_saphyr::from_str(&format!(
            "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: x\nspec:\n{yaml}"
        ))
        .unwrap();
        hr.spec
    }

    #[test]
    fn timeouts_default_to_five_minutes() {
        let s = spec("  interval: 1m30s\n  chartRef: {kind: OCIRepository, name: x}\n");
        assert_eq!(s.interval().unwrap(), Duration::from_secs(90));
        assert_eq!(s.chart_interval().unwrap(), Duration::from_secs(90));
        assert_eq!(s.timeout().unwrap(), DEFAULT_TIMEOUT);
        assert_eq!(s.install_timeout().unwrap(), DEFAULT_TIMEOUT);
        assert_eq!(s.upgrade_timeout().unwrap(), DEFAULT_TIMEOUT);
        assert_eq!(s.test_timeout().unwrap(), DEFAULT_TIMEOUT);
        assert_eq!(s.rollback_timeout().unwrap(), DEFAULT_TIMEOUT);
        assert_eq!(s.uninstall_timeout().unwrap(), DEFAULT_TIMEOUT);
    }

    #[test]
    fn action_timeouts_override_the_release_timeout() {
        let s = spec(
            "  interval: 10m\n  timeout: 2m\n  chart:\n    spec:\n      chart: c\n      interval: 1h\n      sourceRef: {kind: HelmRepository, name: r}\n  install: {timeout: 30s}\n  upgrade: {}\n  test: {timeout: 1m}\n  rollback: {timeout: 250ms}\n  uninstall: {timeout: 1h}\n",
        );
        assert_eq!(s.chart_interval().unwrap(), Duration::from_secs(3600));
        assert_eq!(s.timeout().unwrap(), Duration::from_secs(120));
        assert_eq!(s.install_timeout().unwrap(), Duration::from_secs(30));
        assert_eq!(s.upgrade_timeout().unwrap(), Duration::from_secs(120));
        assert_eq!(s.test_timeout().unwrap(), Duration::from_secs(60));
        assert_eq!(s.rollback_timeout().unwrap(), Duration::from_millis(250));
        assert_eq!(s.uninstall_timeout().unwrap(), Duration::from_secs(3600));
    }

    #[test]
    fn malformed_durations_are_errors() {
        let mut s = spec("  interval: 5m\n  chartRef: {kind: OCIRepository, name: x}\n");
        s.interval = "five minutes".into();
        s.timeout = Some("-1s".into());
        assert!(s.interval().is_err());
        assert!(s.timeout().is_err());
        assert!(s.install_timeout().is_err());
    }

    #[test]
    fn retry_interval_applies_only_to_retry_on_failure() {
        let retry = InstallStrategy {
            name: StrategyName::RetryOnFailure,
            retry_interval: None,
        };
        assert_eq!(
            retry.retry_interval().unwrap(),
            Some(DEFAULT_RETRY_INTERVAL)
        );
        let retry = UpgradeStrategy {
            name: StrategyName::RetryOnFailure,
            retry_interval: Some("45s".into()),
        };
        assert_eq!(
            retry.retry_interval().unwrap(),
            Some(Duration::from_secs(45))
        );
        let remediate = UpgradeStrategy {
            name: StrategyName::RemediateOnFailure,
            retry_interval: None,
        };
        assert_eq!(remediate.retry_interval().unwrap(), None);
    }
}
