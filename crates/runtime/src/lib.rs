//! What every ferroflux controller shares, so that the three binaries behave like Flux's:
//! the same flags ([`flags`]), log format ([`logging`]), conditions and Ready summary
//! ([`conditions`]), controller wiring with finalizers, suspend, backoff and one status patch per
//! reconcile ([`reconcile`]), Events and their forwarding to notification-controller
//! ([`events`]), Prometheus metrics ([`metrics`]), health probes ([`health`]), Lease leader
//! election ([`leader`]) and the [`manager`] that ties them together for a `main.rs`.
//!
//! A binary with no reconcilers is:
//! ```no_run
//! use clap::Parser;
//! use ferroflux_runtime::{flags::RuntimeArgs, manager::Manager};
//!
//! #[derive(Parser)]
//! struct Cli {
//!     #[command(flatten)]
//!     runtime: RuntimeArgs<2>,
//! }
//!
//! #[tokio::main]
//! async fn main() -> std::process::ExitCode {
//!     let cli = Cli::parse();
//!     let config = match cli.runtime.into_config(&[]) {
//!         Ok(c) => c,
//!         Err(e) => {
//!             eprintln!("source-controller: {e}");
//!             return std::process::ExitCode::FAILURE;
//!         }
//!     };
//!     ferroflux_runtime::exit_code(async {
//!         ferroflux_runtime::logging::init(&config.log)?;
//!         let manager = Manager::new("source-controller", config).await?;
//!         manager.run().await
//!     }
//!     .await)
//! }
//! ```
#![forbid(unsafe_code)]

pub mod conditions;
pub mod events;
pub mod flags;
pub mod health;
pub mod kube_client;
pub mod leader;
pub mod logging;
pub mod manager;
pub mod metrics;
pub mod reconcile;

pub use flags::{RuntimeArgs, RuntimeConfig};
pub use manager::Manager;
pub use reconcile::{FluxObject, Outcome, ReconcileContext, ReconcileError, Reconciler};

/// Everything that can go wrong in the runtime. Binaries print it (`{}`) and exit non-zero.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A command-line flag has a value Flux would reject too.
    #[error("invalid value {value:?} for flag --{flag}: {reason}")]
    InvalidFlag {
        flag: &'static str,
        value: String,
        reason: String,
    },

    /// `--feature-gates` names a gate this controller does not have.
    #[error(
        "invalid value for flag --feature-gates: unknown feature gate {gate:?}; known feature gates: {known}"
    )]
    UnknownFeatureGate { gate: String, known: String },

    /// Neither a kubeconfig nor the in-cluster service account could be loaded.
    #[error("unable to load the Kubernetes client configuration: {0}")]
    KubeConfig(String),

    /// The API server did not answer a version request.
    #[error("the Kubernetes API server at {url} is not reachable: {reason}")]
    ApiServerUnreachable { url: String, reason: String },

    /// A kind the controller reconciles has no CRD in the cluster.
    #[error(
        "CustomResourceDefinition {crd} is not installed (needed for {kind} {api_version}): apply the CRDs first"
    )]
    CrdMissing {
        crd: String,
        kind: String,
        api_version: String,
    },

    /// A listener could not be bound.
    #[error("unable to start the {what} server on {addr}: {reason}")]
    Bind {
        what: &'static str,
        addr: String,
        reason: String,
    },

    /// The lease was not renewed in time: another replica may now be leading.
    #[error("leader election lost")]
    LeaderElectionLost,

    /// Logging could not be initialised (e.g. a global subscriber is already set).
    #[error("unable to initialise logging: {0}")]
    Logging(String),

    /// A Kubernetes API call failed.
    #[error("Kubernetes API error: {0}")]
    Kube(#[from] kube::Error),

    /// (De)serialising an object failed.
    #[error("JSON error: {0}")]
    Json(#[from] serde_json::Error),

    /// A metric could not be registered.
    #[error("metrics error: {0}")]
    Metrics(#[from] prometheus::Error),

    /// Anything else, with a message that says what.
    #[error("{0}")]
    Other(String),
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Turns the outcome of a binary's `main` into an exit code, printing the error on stderr
/// (and through `tracing` when logging is up) so that start-up failures are never silent.
pub fn exit_code(result: Result<()>) -> std::process::ExitCode {
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            if logging::is_initialized() {
                tracing::error!(error = %e, "exiting");
            } else {
                eprintln!("error: {e}");
            }
            std::process::ExitCode::FAILURE
        }
    }
}
