//! Errors worded as Go's `text/template` words them, because Helm users grep
//! for them and Helm itself rewrites some of them by pattern.

/// A template error; `Display` is the exact Go message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// `template: NAME:LINE: msg`
    #[error("template: {name}:{line}: {msg}")]
    Parse {
        name: String,
        line: usize,
        msg: String,
    },
    /// `template: NAME:LINE:COL: executing "TMPL" at <CTX>: msg`
    #[error("template: {location}: executing \"{template}\" at <{context}>: {msg}")]
    Exec {
        location: String,
        template: String,
        context: String,
        msg: String,
    },
    /// Errors without a node position (`template: no template "x" associated ...`).
    #[error("{0}")]
    Other(String),
    /// YAML/JSON encoding and decoding.
    #[error("{0}")]
    Data(String),
}

impl Error {
    /// The message without Go's `template: ...` prefix.
    pub fn message(&self) -> &str {
        match self {
            Error::Parse { msg, .. } | Error::Exec { msg, .. } => msg,
            Error::Other(m) | Error::Data(m) => m,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
