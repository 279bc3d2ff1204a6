//! The crate's error type. Messages follow Helm's wording where a user would compare them.

use std::path::PathBuf;

/// Everything that can go wrong loading or rendering a chart.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading a file or directory failed.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The chart (or archive) is malformed or refused.
    #[error("{0}")]
    Chart(String),
    /// User or chart values could not be read, parsed or merged.
    #[error("{0}")]
    Values(String),
    /// `values.schema.json` rejected the values.
    #[error("{0}")]
    Schema(String),
    /// A template failed to parse or execute.
    #[error("{0}")]
    Render(String),
    /// Rendered output is not a valid manifest stream.
    #[error("{0}")]
    Manifest(String),
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

/// The crate's result alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;
