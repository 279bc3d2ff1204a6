//! Flux's server-side apply engine (the behaviour of `fluxcd/pkg/ssa` and kstatus), for
//! kustomize-controller and helm-controller.
//!
//! Objects come in as plain JSON (`serde_json::Value` with `apiVersion`, `kind`, `metadata`), as
//! the kustomize engine and the Helm renderer produce them. [`ResourceManager::apply_all_staged`]
//! applies them in Flux's stages (definitions, classes, the rest), validating each stage with a
//! server-side dry run before writing anything, and returns a [`ChangeSet`] whose entries feed the
//! Kustomization's events and [`inventory`]. [`ResourceManager::delete_all`] prunes,
//! [`ResourceManager::wait_for_set`] waits until objects are healthy by the [`status`] rules.
//!
//! Where this deliberately differs from Flux:
//! - Every stage is validated before the first one is written (Flux validates a stage just
//!   before writing it), so an invalid object leaves the cluster untouched; only objects that
//!   need the first stage to exist (in a new Namespace, of a new CRD's kind) are validated
//!   after it.
//! - A forced recreate happens only for errors that say a field cannot change (`immutable`,
//!   `may not change`, …); Flux recreates on any `Invalid`, which deletes objects the server
//!   would refuse anyway.
//! - Wait errors carry each object's status message
//!   (`Deployment/app/podinfo status: 'InProgress': Ready: 0/1`).
//! - A namespace on a cluster-scoped object is dropped, so inventory ids name the real object.
#![forbid(unsafe_code)]

mod changeset;
mod discovery;
pub mod ignore;
mod manager;
mod object;

pub mod inventory;
pub mod status;

pub use changeset::{Action, ChangeSet, ChangeSetEntry};
pub use discovery::DiscoveryCache;
pub use manager::{
    ApplyOptions, CleanupOptions, CustomStatus, DeleteOptions, DiffEntry, FieldManager,
    ManagedFieldsOperation, ResourceManager, WaitOptions,
};
pub use object::{ObjMetadata, Owner};

/// Everything that can go wrong while applying, pruning or waiting. Messages name the object
/// (`Deployment/app/podinfo`) the way Flux does, so they can go straight into a condition.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input is not a Kubernetes object (missing `apiVersion`, `kind` or `metadata.name`).
    #[error("invalid object: {0}")]
    InvalidObject(String),
    /// A drift-ignore rule with a path that is not a JSON pointer or a selector that does not
    /// parse.
    #[error("{0}")]
    InvalidIgnoreRule(String),
    /// An inventory id that does not have the `<ns>_<name>_<group>_<kind>` shape.
    #[error("unable to parse stored object metadata: {0}")]
    InvalidId(String),
    /// The API server does not serve this kind (for example its CRD is missing).
    #[error(
        "{subject} dry-run failed: no matches for kind \"{kind}\" in version \"{api_version}\""
    )]
    UnknownKind {
        subject: String,
        kind: String,
        api_version: String,
    },
    /// A namespaced object without a namespace.
    #[error("{0} namespace not specified")]
    NamespaceNotSpecified(String),
    /// One or more objects of a stage failed validation; nothing of that stage was written.
    #[error("{}", .0.join("\n"))]
    DryRun(Vec<String>),
    /// Writing an object failed after its stage validated.
    #[error("{subject} apply failed: {message}")]
    Apply { subject: String, message: String },
    /// Reading an object failed.
    #[error("{subject} query failed: {message}")]
    Query { subject: String, message: String },
    /// Removing stale field managers or metadata failed.
    #[error("{subject} cleanup failed: {message}")]
    Cleanup { subject: String, message: String },
    /// One or more deletions failed (the others went ahead).
    #[error("{}", .0.join("\n"))]
    Delete(Vec<String>),
    /// API discovery failed for a reason other than an unknown kind.
    #[error("{subject} discovery failed: {message}")]
    Discovery { subject: String, message: String },
    /// Waiting ran out of time; the message lists the objects that were not ready.
    #[error("{0}")]
    Timeout(String),
    /// Waiting with fail-fast stopped because an object failed.
    #[error("{0}")]
    Stalled(String),
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
