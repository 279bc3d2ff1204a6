//! The crate's one error type: every failure names the file, directory or object it is about,
//! because build errors are read by people fixing a repository, often through a controller's
//! status condition.

use std::path::PathBuf;

/// Anything that makes a build fail.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or directory could not be read.
    #[error("reading {path}: {source}")]
    Io {
        /// What was being read.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A file is not valid YAML (or not the shape expected).
    #[error("parsing {path}: {message}")]
    Yaml {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// The root-only load restriction: a file resolves outside the kustomization root.
    #[error("security; file '{path}' is not in or below '{root}'")]
    OutsideRoot {
        /// The path as resolved (symlinks followed).
        path: PathBuf,
        /// The root it must stay under.
        root: PathBuf,
    },
    /// A remote base or resource (URL or git reference); refused as Flux's `--no-remote-bases`.
    #[error("remote resource '{0}' refused: remote bases are not allowed")]
    Remote(String),
    /// Kustomizations include each other in a loop.
    #[error("cycle detected: '{0}' is already being built")]
    Cycle(PathBuf),
    /// A directory referenced as a kustomization has none.
    #[error(
        "unable to find one of 'kustomization.yaml', 'kustomization.yml' or 'Kustomization' in directory '{0}'"
    )]
    NoKustomization(PathBuf),
    /// Two objects with the same group/version/kind/namespace/name.
    #[error("may not add resource with an already registered id: {0}")]
    DuplicateId(String),
    /// A kustomization field is invalid or unsupported.
    #[error("{file}: {message}")]
    Invalid {
        /// The kustomization (or other) file.
        file: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A patch could not be applied.
    #[error("patch {patch}: {message}")]
    Patch {
        /// Where the patch came from.
        patch: String,
        /// What went wrong.
        message: String,
    },
    /// A generator or transformer failed.
    #[error("{0}")]
    Transform(String),
    /// The output could not be serialised.
    #[error("writing YAML: {0}")]
    Output(String),
}

/// Result with the crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
