//! helm-controller: installs, upgrades, tests and rolls back Helm releases from chart artifacts.
//!
//! The binary parses Flux's flags, serves metrics and health, takes its leader-election lease
//! and runs the reconcilers registered here. A kind is watched only once its reconciler exists:
//! this controller never writes statuses it did not earn.
#![forbid(unsafe_code)]

use clap::Parser;
use ferroflux_runtime::{Manager, RuntimeArgs};

/// Binary name, field manager, lease prefix and `reportingController` of events.
pub const NAME: &str = "helm-controller";

/// Flux's feature gates for this controller, with Flux's defaults.
pub const FEATURE_GATES: &[(&str, bool)] = &[
    ("AdoptLegacyReleases", true),
    ("AllowDNSLookups", false),
    ("CacheSecretsAndConfigMaps", false),
    ("DisableChartDigestTracking", false),
    ("ExternalArtifact", false),
    ("ObjectLevelWorkloadIdentity", false),
    ("OOMWatch", false),
];

/// The command line: Flux's flags, same names and defaults.
#[derive(Parser, Debug)]
#[command(name = NAME, version, about = "installs, upgrades, tests and rolls back Helm releases from chart artifacts.")]
pub struct Cli {
    #[command(flatten)]
    pub runtime: RuntimeArgs<4>,
}

/// Runs the controller until SIGTERM/SIGINT or a lost lease.
pub async fn run(cli: Cli) -> ferroflux_runtime::Result<()> {
    let config = cli.runtime.into_config(FEATURE_GATES)?;
    ferroflux_runtime::logging::init(&config.log)?;
    let manager = Manager::new(NAME, config).await?;
    manager.run().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_default_like_flux() {
        let cli = Cli::try_parse_from([NAME]).unwrap();
        let config = cli
            .runtime
            .into_config_with_namespace(FEATURE_GATES, None)
            .unwrap();
        assert_eq!(config.concurrent, 4);
        assert_eq!(config.health_addr, "0.0.0.0:9440");
        assert_eq!(config.metrics_addr.as_deref(), Some("0.0.0.0:8080"));
    }

    #[test]
    fn unknown_feature_gate_is_rejected() {
        let cli = Cli::try_parse_from([NAME, "--feature-gates=NoSuchGate=true"]).unwrap();
        let err = cli
            .runtime
            .into_config_with_namespace(FEATURE_GATES, None)
            .unwrap_err();
        assert!(err.to_string().contains("NoSuchGate"), "{err}");
    }
}
