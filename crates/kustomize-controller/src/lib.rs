//! kustomize-controller: builds Kustomizations from source artifacts and applies them with server-side apply, pruning and health checks.
//!
//! The binary parses Flux's flags, serves metrics and health, takes its leader-election lease
//! and runs the reconcilers registered here. A kind is watched only once its reconciler exists:
//! this controller never writes statuses it did not earn.
#![forbid(unsafe_code)]

use clap::{Args, Parser};
use ferroflux_api::kustomize::v1::Kustomization;
use ferroflux_runtime::{Manager, RuntimeArgs};

pub mod build;
pub mod checks;
pub mod clients;
pub mod kustomization;
pub mod source;

/// What can go wrong building a Kustomization (apply errors come from `ferroflux-ssa`).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `spec.path` is missing from the artifact or leaves it.
    #[error("{0}")]
    Path(String),
    /// Generating, overriding or building the kustomization failed.
    #[error("{0}")]
    Build(String),
    /// SOPS decryption failed.
    #[error("{0}")]
    Decrypt(String),
    /// The client for `spec.kubeConfig` or `spec.serviceAccountName` could not be built.
    #[error("{0}")]
    KubeConfig(String),
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Binary name, field manager, lease prefix and `reportingController` of events.
pub const NAME: &str = "kustomize-controller";

/// Flux's feature gates for this controller, with Flux's defaults.
pub const FEATURE_GATES: &[(&str, bool)] = &[
    ("AdditiveCELDependencyCheck", false),
    ("CacheSecretsAndConfigMaps", false),
    ("DisableFailFastBehavior", false),
    ("DisableStatusPollerCache", true),
    ("ExternalArtifact", false),
    ("GroupChangeLog", false),
    ("ObjectLevelWorkloadIdentity", false),
    ("StrictPostBuildSubstitutions", false),
];

/// The command line: Flux's flags, same names and defaults.
#[derive(Parser, Debug)]
#[command(name = NAME, version, about = "builds Kustomizations from source artifacts and applies them with server-side apply, pruning and health checks.")]
pub struct Cli {
    #[command(flatten)]
    pub runtime: RuntimeArgs<4>,
    #[command(flatten)]
    pub kustomize: KustomizeArgs,
}

/// kustomize-controller's own flags.
#[derive(Args, Debug, Clone)]
pub struct KustomizeArgs {
    /// The maximum number of retries when failing to fetch artifacts over HTTP.
    #[arg(long = "http-retry", default_value_t = 9)]
    pub http_retry: u32,
    /// Disallow remote bases usage in Kustomize overlays (always the case here: remote bases
    /// are refused by the build engine).
    #[arg(long = "no-remote-bases", default_value_t = false)]
    pub no_remote_bases: bool,
}

/// Runs the controller until SIGTERM/SIGINT or a lost lease.
pub async fn run(cli: Cli) -> ferroflux_runtime::Result<()> {
    let config = cli.runtime.into_config(FEATURE_GATES)?;
    ferroflux_runtime::logging::init(&config.log)?;
    let default_sa = config.default_service_account.clone();
    let mut manager = Manager::new(NAME, config).await?;
    // The controller's own configuration, cloned for impersonating clients.
    let base = kube::Config::infer().await.ok();
    let fetch = ferroflux_artifact::fetch::FetchOptions {
        retries: cli.kustomize.http_retry,
        // Flux's knob for controllers run outside the cluster against a port-forward.
        host_override: std::env::var("SOURCE_CONTROLLER_LOCALHOST")
            .ok()
            .filter(|s| !s.is_empty()),
        ..Default::default()
    };
    manager.add_controller::<Kustomization, _>(kustomization::KustomizationReconciler::new(
        fetch,
        clients::Clients::new(base, default_sa),
    ));
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
        assert_eq!(cli.kustomize.http_retry, 9);
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
