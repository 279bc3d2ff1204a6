//! source-controller: turns Git repositories (and, as they land, Helm repositories and charts,
//! OCI artifacts and buckets) into tarball artifacts served over HTTP.
//!
//! The binary parses Flux's flags, serves metrics and health, takes its leader-election lease
//! and runs the reconcilers registered here; the artifact server runs while leading, as in
//! Flux (only the leader writes, so only it has the files). A kind is watched only once its
//! reconciler exists: this controller never writes statuses it did not earn.
#![forbid(unsafe_code)]

use clap::{Args, Parser};
use ferroflux_api::source::v1::GitRepository;
use ferroflux_artifact::{DigestAlgo, Storage, StorageConfig};
use ferroflux_runtime::{Manager, RuntimeArgs};

pub mod gitrepository;

/// Binary name, field manager, lease prefix and `reportingController` of events.
pub const NAME: &str = "source-controller";

/// Flux's feature gates for this controller, with Flux's defaults.
pub const FEATURE_GATES: &[(&str, bool)] = &[
    ("CacheSecretsAndConfigMaps", false),
    ("ObjectLevelWorkloadIdentity", false),
    ("OptimizedGitClones", true),
];

/// Flux's artifact storage flags.
#[derive(Args, Debug, Clone)]
pub struct StorageArgs {
    /// The local storage path.
    #[arg(long = "storage-path", default_value = "/data")]
    pub storage_path: std::path::PathBuf,
    /// The address the static file server binds to.
    #[arg(long = "storage-addr", default_value = ":9090")]
    pub storage_addr: String,
    /// The advertised address of the static file server (host[:port] in artifact URLs).
    #[arg(long = "storage-adv-addr", default_value = "")]
    pub storage_adv_addr: String,
    /// The duration of time that artifacts from previous reconciliations will be kept in
    /// storage before being garbage collected.
    #[arg(long = "artifact-retention-ttl", default_value = "60s")]
    pub artifact_retention_ttl: String,
    /// The maximum number of artifacts to be kept in storage after a garbage collection.
    #[arg(long = "artifact-retention-records", default_value_t = 2)]
    pub artifact_retention_records: usize,
    /// The algorithm to use to calculate the digest of artifacts (sha256 or blake3).
    #[arg(long = "artifact-digest-algo", default_value = "sha256")]
    pub artifact_digest_algo: String,
}

impl StorageArgs {
    /// Validates the flags into a storage configuration (Go-style `:9090` binds all interfaces;
    /// an empty advertised address becomes the hostname with the storage port, as Flux does).
    pub fn into_config(self) -> ferroflux_runtime::Result<(StorageConfig, String)> {
        let invalid = |flag: &'static str, value: &str, reason: String| {
            ferroflux_runtime::Error::InvalidFlag {
                flag,
                value: value.to_string(),
                reason,
            }
        };
        let ttl = ferroflux_api::duration::parse(&self.artifact_retention_ttl).map_err(|e| {
            invalid(
                "artifact-retention-ttl",
                &self.artifact_retention_ttl,
                e.to_string(),
            )
        })?;
        if self.artifact_retention_records == 0 {
            return Err(invalid(
                "artifact-retention-records",
                "0",
                "must be at least 1 (the current artifact is always kept)".into(),
            ));
        }
        let algo = match self.artifact_digest_algo.as_str() {
            "sha256" => DigestAlgo::Sha256,
            "blake3" => DigestAlgo::Blake3,
            other => {
                return Err(invalid(
                    "artifact-digest-algo",
                    other,
                    "supported algorithms: sha256, blake3".into(),
                ));
            }
        };
        let bind = if self.storage_addr.starts_with(':') {
            format!("0.0.0.0{}", self.storage_addr)
        } else {
            self.storage_addr.clone()
        };
        let adv = if self.storage_adv_addr.is_empty() {
            let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "localhost".into());
            let port = bind.rsplit(':').next().unwrap_or("9090");
            format!("{host}:{port}")
        } else {
            self.storage_adv_addr.clone()
        };
        let mut cfg = StorageConfig::new(self.storage_path, adv);
        cfg.retention_ttl = ttl;
        cfg.retention_records = self.artifact_retention_records;
        cfg.digest_algo = algo;
        Ok((cfg, bind))
    }
}

/// The command line: Flux's flags, same names and defaults.
#[derive(Parser, Debug)]
#[command(
    name = NAME,
    version,
    about = "Turns Git repositories into tarball artifacts served over HTTP."
)]
pub struct Cli {
    #[command(flatten)]
    pub runtime: RuntimeArgs<2>,
    #[command(flatten)]
    pub storage: StorageArgs,
}

/// Runs the controller until SIGTERM/SIGINT or a lost lease.
pub async fn run(cli: Cli) -> ferroflux_runtime::Result<()> {
    let config = cli.runtime.into_config(FEATURE_GATES)?;
    let (storage_cfg, bind) = cli.storage.into_config()?;
    ferroflux_runtime::logging::init(&config.log)?;
    let storage = Storage::new(storage_cfg).map_err(|e| {
        ferroflux_runtime::Error::Other(format!("unable to initialise the artifact storage: {e}"))
    })?;
    let mut manager = Manager::new(NAME, config).await?;
    let server_metrics = ferroflux_artifact::ServerMetrics::new(manager.metrics().registry())
        .map_err(|e| ferroflux_runtime::Error::Other(e.to_string()))?;
    let server = ferroflux_artifact::ArtifactServer::new(&storage, Some(server_metrics));
    manager.add_leader_listener(
        "artifact",
        &bind,
        Box::new(move |listener, stop| Box::pin(server.serve(listener, stop))),
    );
    manager
        .add_controller::<GitRepository, _>(gitrepository::GitRepositoryReconciler::new(storage));
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
        assert_eq!(config.concurrent, 2);
        assert_eq!(config.health_addr, "0.0.0.0:9440");
        assert_eq!(config.metrics_addr.as_deref(), Some("0.0.0.0:8080"));
        let (storage, bind) = cli.storage.into_config().unwrap();
        assert_eq!(bind, "0.0.0.0:9090");
        assert_eq!(storage.retention_records, 2);
        assert_eq!(storage.retention_ttl, std::time::Duration::from_secs(60));
        assert_eq!(storage.root, std::path::PathBuf::from("/data"));
    }

    #[test]
    fn bad_storage_flags_are_rejected() {
        for args in [
            [NAME, "--artifact-digest-algo=md5"],
            [NAME, "--artifact-retention-ttl=soon"],
            [NAME, "--artifact-retention-records=0"],
        ] {
            let cli = Cli::try_parse_from(args).unwrap();
            assert!(cli.storage.into_config().is_err(), "{args:?}");
        }
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
