//! Artifacts, the one thing ferroflux processes exchange besides Kubernetes objects.
//!
//! source-controller writes reproducible `.tar.gz` archives into [`Storage`] and serves them
//! with [`ArtifactServer`]; kustomize-controller and helm-controller download them with
//! [`fetch::fetch`], which checks size and digest before it safely untars anything.
//!
//! Layout on disk (and in URLs) is Flux's: `<kind>/<namespace>/<name>/<file>`, with `kind`
//! lower-case, e.g. `gitrepository/flux-system/podinfo/<sha>.tar.gz`, plus a
//! `latest.tar.gz` symlink next to the newest archive.
#![forbid(unsafe_code)]

pub mod digest;
pub mod fetch;
pub mod server;
pub mod storage;
pub mod tarball;

use std::path::{Path, PathBuf};

pub use digest::{Digest, DigestAlgo, digest_file};
pub use server::{ArtifactServer, ServerMetrics, ServerOptions};
pub use storage::{ArtifactLocation, Storage, StorageConfig, StoredArtifact};

/// Everything that can go wrong in this crate. Variants carry enough context (path, URL,
/// entry name) that a controller can put `to_string()` straight into a condition message.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A filesystem operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A path given to storage is not a safe relative path under the root.
    #[error("invalid artifact path {path:?}: {reason}")]
    InvalidPath {
        /// The offending path.
        path: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// The directory to archive is missing or not a directory.
    #[error("invalid dir path: {0}")]
    NotADirectory(PathBuf),
    /// A digest string is not `<algo>:<hex>` with the right length.
    #[error("invalid digest {0:?}")]
    InvalidDigest(String),
    /// The digest names an algorithm we cannot compute.
    #[error("unsupported digest algorithm {0:?}")]
    UnsupportedDigestAlgo(String),
    /// The downloaded bytes do not hash to the expected digest.
    #[error("digest mismatch for {url}: expected {expected}, got {actual}")]
    DigestMismatch {
        /// Where it came from.
        url: String,
        /// What status.artifact.digest said.
        expected: String,
        /// What the bytes hash to.
        actual: String,
    },
    /// The download exceeded `FetchOptions::max_size`.
    #[error("artifact {url} is larger than the {limit} byte limit")]
    TooLarge {
        /// Where it came from.
        url: String,
        /// The limit in bytes.
        limit: u64,
    },
    /// A tar entry would escape the destination or is of a forbidden type.
    #[error("unsafe tar entry {entry:?}: {reason}")]
    UnsafeEntry {
        /// The entry name as found in the archive.
        entry: String,
        /// Why it was rejected.
        reason: String,
    },
    /// File-count or extracted-size limits were hit.
    #[error("tar extraction limit exceeded: {0}")]
    LimitExceeded(String),
    /// The tarball itself is malformed.
    #[error("corrupt archive: {0}")]
    CorruptArchive(String),
    /// The server answered with a non-success status.
    #[error("GET {url} returned HTTP {status}")]
    HttpStatus {
        /// The URL requested.
        url: String,
        /// The status code.
        status: u16,
    },
    /// A transport-level HTTP failure.
    #[error("GET {url}: {source}")]
    Http {
        /// The URL requested.
        url: String,
        /// The underlying error.
        #[source]
        source: reqwest::Error,
    },
    /// Retries ran out; `last` is the error of the final attempt.
    #[error("giving up on {url} after {attempts} attempts: {last}")]
    RetriesExhausted {
        /// The URL requested.
        url: String,
        /// How many attempts were made.
        attempts: u32,
        /// The final attempt's error.
        last: Box<Error>,
    },
    /// A background (blocking) task panicked or was cancelled.
    #[error("background task failed: {0}")]
    Task(String),
    /// Registering metrics failed (e.g. registered twice on one registry).
    #[error("metrics: {0}")]
    Metrics(#[from] prometheus::Error),
}

impl Error {
    /// Wraps an I/O error with the path it concerns.
    pub(crate) fn io(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.as_ref().to_path_buf(),
            source,
        }
    }

    /// Whether retrying the same request could succeed (connection errors, timeouts, 5xx,
    /// body cut short), as opposed to permanent failures (4xx, digest mismatch, limits).
    pub fn is_transient(&self) -> bool {
        match self {
            Error::HttpStatus { status, .. } => *status >= 500 || *status == 429,
            Error::Http { .. } => true,
            _ => false,
        }
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Runs blocking filesystem work off the async runtime, mapping a panic to [`Error::Task`].
pub(crate) async fn blocking<T, F>(f: F) -> Result<T>
where
    F: FnOnce() -> Result<T> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Task(e.to_string()))?
}
