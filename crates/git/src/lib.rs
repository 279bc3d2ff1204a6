//! Git for ferroflux's source-controller: clone/fetch a repository at a Flux `GitRepositoryRef`
//! with gix, compute Flux's revision strings, select semver tags, apply Flux's ignore rules and
//! verify commit/tag signatures.
//!
//! This crate knows nothing about Kubernetes: the controller maps `GitRepository.spec` into
//! [`CloneOptions`] and maps [`Error::reason`] back into condition reasons.
//!
//! Everything that touches the network is blocking (gix's blocking client); call it from
//! `tokio::task::spawn_blocking`.
#![forbid(unsafe_code)]

use std::path::Path;
use std::time::Duration;

mod clone;
pub mod ignore;
pub mod semver;
mod transport;
pub mod verify;

#[cfg(test)]
mod testutil;

/// The branch Flux checks out when `spec.ref` is empty (fluxcd/pkg/git `DefaultBranch`).
///
/// Flux does not follow the remote HEAD: a GitRepository without a ref means `master`, so we
/// do the same to stay drop-in compatible (a repository whose only branch is `main` needs
/// `ref.branch: main`, exactly as with Flux).
pub const DEFAULT_BRANCH: &str = "master";

/// What to check out, mirroring Flux's `GitRepositoryRef`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference {
    /// A branch name without `refs/heads/`.
    Branch(String),
    /// A tag name without `refs/tags/`.
    Tag(String),
    /// A Masterminds-style semver constraint evaluated against the remote's tags.
    Semver(String),
    /// Any full reference name, e.g. `refs/pull/1/head` or `refs/heads/main`.
    Name(String),
    /// An exact commit, optionally looked up on a branch (which also names the revision).
    Commit {
        /// 40 hex digits (sha1).
        commit: String,
        /// The branch to fetch to find the commit.
        branch: Option<String>,
    },
}

impl Reference {
    /// Build from the optional fields of a `GitRepositoryRef` with Flux's precedence:
    /// commit > name > semver > tag > branch, and [`DEFAULT_BRANCH`] when all are empty.
    /// Empty strings count as unset, as they do in Go.
    pub fn from_flux(
        branch: Option<&str>,
        tag: Option<&str>,
        semver: Option<&str>,
        name: Option<&str>,
        commit: Option<&str>,
    ) -> Reference {
        let set = |v: Option<&str>| {
            v.map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        if let Some(commit) = set(commit) {
            return Reference::Commit {
                commit,
                branch: set(branch),
            };
        }
        if let Some(name) = set(name) {
            return Reference::Name(name);
        }
        if let Some(semver) = set(semver) {
            return Reference::Semver(semver);
        }
        if let Some(tag) = set(tag) {
            return Reference::Tag(tag);
        }
        Reference::Branch(set(branch).unwrap_or_else(|| DEFAULT_BRANCH.to_owned()))
    }
}

impl std::fmt::Display for Reference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reference::Branch(b) => write!(f, "branch '{b}'"),
            Reference::Tag(t) => write!(f, "tag '{t}'"),
            Reference::Semver(s) => write!(f, "semver '{s}'"),
            Reference::Name(n) => write!(f, "reference '{n}'"),
            Reference::Commit {
                commit,
                branch: None,
            } => write!(f, "commit '{commit}'"),
            Reference::Commit {
                commit,
                branch: Some(b),
            } => write!(f, "commit '{commit}' on branch '{b}'"),
        }
    }
}

/// Credentials, taken from the GitRepository's `secretRef`.
#[derive(Clone, Default)]
pub enum Auth {
    /// Anonymous access.
    #[default]
    None,
    /// HTTP basic auth (`username`/`password` keys), sent preemptively like go-git does.
    Basic {
        /// User name.
        username: String,
        /// Password or token.
        password: String,
    },
    /// HTTP `Authorization: Bearer <token>` (`bearerToken` key).
    Bearer(String),
    /// SSH (`identity`, `known_hosts`, optional `password` keys).
    Ssh {
        /// PEM or OpenSSH private key.
        identity: Vec<u8>,
        /// `known_hosts` lines; host keys are always checked, so this must not be empty.
        known_hosts: Vec<u8>,
        /// Passphrase of an encrypted OpenSSH key.
        passphrase: Option<String>,
    },
}

/// Hand-written so secrets never end up in logs.
impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::None => f.write_str("None"),
            Auth::Basic { username, .. } => write!(
                f,
                "Basic {{ username: {username:?}, password: <redacted> }}"
            ),
            Auth::Bearer(_) => f.write_str("Bearer(<redacted>)"),
            Auth::Ssh { passphrase, .. } => write!(
                f,
                "Ssh {{ identity: <redacted>, known_hosts: .., passphrase: {} }}",
                if passphrase.is_some() {
                    "<redacted>"
                } else {
                    "None"
                }
            ),
        }
    }
}

/// TLS settings for `https://`: the secret's `ca.crt` (formerly `caFile`) and the client
/// certificate `tls.crt` + `tls.key` (formerly `certFile` + `keyFile`) for mutual TLS.
#[derive(Clone, Default)]
pub struct TlsConfig {
    /// Extra PEM CA certificates trusted in addition to the built-in roots.
    pub ca_pem: Option<Vec<u8>>,
    /// PEM client certificate chain (leaf first), presented when the server asks for one.
    pub client_cert_pem: Option<Vec<u8>>,
    /// PEM private key of [`Self::client_cert_pem`] (PKCS#8, PKCS#1 or SEC1).
    pub client_key_pem: Option<Vec<u8>>,
}

/// Hand-written so the private key never ends up in logs.
impl std::fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsConfig")
            .field("ca_pem", &self.ca_pem.as_ref().map(|_| ".."))
            .field(
                "client_cert_pem",
                &self.client_cert_pem.as_ref().map(|_| ".."),
            )
            .field(
                "client_key_pem",
                &self.client_key_pem.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// An HTTP(S) proxy for http transports (`proxySecretRef`: `address`, `username`, `password`).
#[derive(Clone, Default)]
pub struct Proxy {
    /// `http://host:port` (or `https://`, `socks5://`).
    pub address: String,
    /// User for proxy basic auth (`Proxy-Authorization`).
    pub username: Option<String>,
    /// Password for proxy basic auth.
    pub password: Option<String>,
}

impl Proxy {
    /// A proxy without credentials.
    pub fn new(address: impl Into<String>) -> Self {
        Proxy {
            address: address.into(),
            ..Proxy::default()
        }
    }
}

/// Hand-written so the proxy password never ends up in logs.
impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proxy")
            .field("address", &self.address)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Everything needed for one clone.
#[derive(Debug, Clone)]
pub struct CloneOptions {
    /// `https://`, `http://`, `ssh://`, `user@host:path`, `git://` or `file://`.
    pub url: String,
    /// What to check out.
    pub reference: Reference,
    /// Credentials.
    pub auth: Auth,
    /// TLS settings for https.
    pub tls: TlsConfig,
    /// Upper bound for the whole operation; `Duration::ZERO` means no bound.
    pub timeout: Duration,
    /// Fetch only the tip (depth 1) where Flux does (branch, tag, semver, name).
    pub shallow: bool,
    /// Check out submodules recursively (up to 5 levels), each at the commit its gitlink
    /// records, with URLs from `.gitmodules` (relative ones resolved against [`Self::url`]) and
    /// the same auth, TLS, proxy and timeout. Local (`file://`) submodules are only followed
    /// from a local superproject. When false, gitlink directories stay empty.
    pub recurse_submodules: bool,
    /// Only materialise these directories (relative to the repository root).
    pub sparse_checkout: Option<Vec<String>>,
    /// HTTP(S) proxy for http transports.
    pub proxy: Option<Proxy>,
}

impl CloneOptions {
    /// Options with Flux's defaults: anonymous, 60s timeout, shallow.
    pub fn new(url: impl Into<String>, reference: Reference) -> Self {
        CloneOptions {
            url: url.into(),
            reference,
            auth: Auth::None,
            tls: TlsConfig::default(),
            timeout: Duration::from_secs(60),
            shallow: true,
            recurse_submodules: false,
            sparse_checkout: None,
            proxy: None,
        }
    }
}

/// The checked-out commit, with what signature verification needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    /// 40 hex digits.
    pub hash: String,
    /// Full reference name it was reached through (`refs/heads/main`, `refs/tags/v1`), or
    /// empty for a bare commit checkout.
    pub reference: String,
    /// `Name <email>`.
    pub author: String,
    /// Full commit message.
    pub message: String,
    /// The raw `gpgsig` header value (armored PGP or SSH signature), if signed.
    pub signature: Option<String>,
    /// The commit object without its signature header: the bytes the signature covers.
    pub encoded: Vec<u8>,
}

/// The annotated tag a checkout went through (tag and semver references), for tag verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    /// Tag object id, 40 hex digits.
    pub hash: String,
    /// Tag name.
    pub name: String,
    /// Tag message.
    pub message: String,
    /// The armored signature that trails the message, if signed.
    pub signature: Option<String>,
    /// The tag object without its signature: the bytes the signature covers.
    pub encoded: Vec<u8>,
}

/// Result of [`checkout`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkout {
    /// The commit now in the worktree.
    pub commit: Commit,
    /// Flux revision string, see [`revision`].
    pub revision: String,
    /// The annotated tag, when the reference resolved through one.
    pub tag: Option<Tag>,
}

/// Errors, each mapping onto a Flux condition reason via [`Error::reason`].
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The URL cannot be parsed or uses an unsupported scheme.
    #[error("invalid URL: {0}")]
    Url(String),
    /// Credentials were rejected or are unusable.
    #[error("authentication failed: {0}")]
    Auth(String),
    /// The reference does not exist on the remote.
    #[error("unable to resolve {0}")]
    NotFound(String),
    /// Any other failure of the git operation.
    #[error("git operation failed: {0}")]
    Git(String),
    /// The operation exceeded [`CloneOptions::timeout`].
    #[error("git operation timed out after {0:?}")]
    Timeout(Duration),
    /// The semver constraint is invalid or no tag matched.
    #[error("semver: {0}")]
    Semver(String),
    /// Signature verification failed.
    #[error("{0}")]
    Verification(String),
    /// A feature this implementation does not provide.
    #[error("unsupported: {0}")]
    Unsupported(&'static str),
    /// Local file system trouble.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
}

impl Error {
    /// The Flux condition reason for this error (source-controller's `GitRepository` reasons).
    pub fn reason(&self) -> &'static str {
        match self {
            Error::Url(_) => "URLInvalid",
            Error::Auth(_) => "AuthenticationFailed",
            Error::Verification(_) => "VerificationError",
            Error::NotFound(_)
            | Error::Git(_)
            | Error::Timeout(_)
            | Error::Semver(_)
            | Error::Unsupported(_)
            | Error::Io(_) => "GitOperationFailed",
        }
    }
}

/// Crate result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Clone `opts.url` into `dir` (which must be empty or absent) and check out the worktree.
///
/// Blocking: run it in `spawn_blocking`. The work happens on a helper thread so that
/// [`CloneOptions::timeout`] is honoured even when a connect hangs; on timeout the helper is
/// told to stop and the caller gets [`Error::Timeout`] right away.
pub fn checkout(opts: &CloneOptions, dir: &Path) -> Result<Checkout> {
    let opts2 = opts.clone();
    let dir = dir.to_path_buf();
    clone::with_timeout(opts.timeout, move |interrupt| {
        clone::checkout(&opts2, &dir, interrupt)
    })
}

/// The revision `opts.reference` currently resolves to on the remote (an ls-remote), for the
/// controller's no-op fast path. `None` when only a clone can tell (semver, commit).
pub fn remote_revision(opts: &CloneOptions) -> Result<Option<String>> {
    let opts2 = opts.clone();
    clone::with_timeout(opts.timeout, move |interrupt| {
        clone::remote_revision(&opts2, interrupt)
    })
}

/// Flux's revision string for a checkout of `reference` that resolved to the reference
/// `resolved_name` (full or short) at commit `hash`.
///
/// Mirrors fluxcd/pkg/git `Commit.String()` (last part of the ref after `refs/<kind>/`) and
/// `AbsoluteReference()` (full name), which source-controller uses for `ref.name`.
pub fn revision(reference: &Reference, resolved_name: &str, hash: &str) -> String {
    let short = |name: &str| -> String {
        name.strip_prefix("refs/heads/")
            .or_else(|| name.strip_prefix("refs/tags/"))
            .or_else(|| name.strip_prefix("refs/remotes/"))
            .unwrap_or(name)
            .to_owned()
    };
    match reference {
        Reference::Commit { branch: None, .. } => format!("sha1:{hash}"),
        Reference::Commit {
            branch: Some(branch),
            ..
        } => format!("{}@sha1:{hash}", short(branch)),
        Reference::Name(_) => {
            if resolved_name.is_empty() {
                format!("sha1:{hash}")
            } else {
                format!("{resolved_name}@sha1:{hash}")
            }
        }
        Reference::Branch(_) | Reference::Tag(_) | Reference::Semver(_) => {
            format!("{}@sha1:{hash}", short(resolved_name))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_flux_follows_flux_precedence() {
        assert_eq!(
            Reference::from_flux(None, None, None, None, None),
            Reference::Branch("master".into())
        );
        assert_eq!(
            Reference::from_flux(Some(""), Some(""), None, None, Some("")),
            Reference::Branch("master".into())
        );
        assert_eq!(
            Reference::from_flux(Some("main"), Some("v1"), None, None, None),
            Reference::Tag("v1".into())
        );
        assert_eq!(
            Reference::from_flux(Some("main"), Some("v1"), Some(">=1"), None, None),
            Reference::Semver(">=1".into())
        );
        assert_eq!(
            Reference::from_flux(
                Some("main"),
                Some("v1"),
                Some(">=1"),
                Some("refs/pull/1/head"),
                None
            ),
            Reference::Name("refs/pull/1/head".into())
        );
        assert_eq!(
            Reference::from_flux(
                Some("main"),
                Some("v1"),
                Some(">=1"),
                Some("refs/x"),
                Some("abc")
            ),
            Reference::Commit {
                commit: "abc".into(),
                branch: Some("main".into())
            }
        );
        assert_eq!(
            Reference::from_flux(None, None, None, None, Some("abc")),
            Reference::Commit {
                commit: "abc".into(),
                branch: None
            }
        );
    }

    #[test]
    fn revision_strings_match_flux() {
        let h = "a0c14dc8580a23f79bc654faa79c4f62b46c2c22";
        assert_eq!(
            revision(&Reference::Branch("main".into()), "refs/heads/main", h),
            format!("main@sha1:{h}")
        );
        assert_eq!(
            revision(&Reference::Branch("main".into()), "main", h),
            format!("main@sha1:{h}")
        );
        assert_eq!(
            revision(
                &Reference::Branch("feature/x".into()),
                "refs/heads/feature/x",
                h
            ),
            format!("feature/x@sha1:{h}")
        );
        assert_eq!(
            revision(&Reference::Tag("v1.2.3".into()), "refs/tags/v1.2.3", h),
            format!("v1.2.3@sha1:{h}")
        );
        assert_eq!(
            revision(&Reference::Semver(">=1".into()), "v1.2.3", h),
            format!("v1.2.3@sha1:{h}")
        );
        assert_eq!(
            revision(
                &Reference::Name("refs/heads/main".into()),
                "refs/heads/main",
                h
            ),
            format!("refs/heads/main@sha1:{h}")
        );
        assert_eq!(
            revision(
                &Reference::Commit {
                    commit: h.into(),
                    branch: None
                },
                "",
                h
            ),
            format!("sha1:{h}")
        );
        assert_eq!(
            revision(
                &Reference::Commit {
                    commit: h.into(),
                    branch: Some("main".into())
                },
                "refs/heads/main",
                h
            ),
            format!("main@sha1:{h}")
        );
    }

    #[test]
    fn error_reasons_map_to_flux_reasons() {
        assert_eq!(Error::Url("x".into()).reason(), "URLInvalid");
        assert_eq!(Error::Auth("x".into()).reason(), "AuthenticationFailed");
        assert_eq!(Error::NotFound("x".into()).reason(), "GitOperationFailed");
        assert_eq!(
            Error::Timeout(Duration::from_secs(1)).reason(),
            "GitOperationFailed"
        );
        assert_eq!(
            Error::Verification("x".into()).reason(),
            "VerificationError"
        );
    }

    #[test]
    fn auth_debug_redacts_secrets() {
        let a = Auth::Basic {
            username: "u".into(),
            password: "hunter2".into(),
        };
        assert!(!format!("{a:?}").contains("hunter2"));
        assert!(!format!("{:?}", Auth::Bearer("tok".into())).contains("tok"));
        let tls = TlsConfig {
            ca_pem: None,
            client_cert_pem: Some(b"CERT".to_vec()),
            client_key_pem: Some(b"PRIVATE-KEY-BYTES".to_vec()),
        };
        assert!(!format!("{tls:?}").contains("PRIVATE-KEY-BYTES"));
        let proxy = Proxy {
            address: "http://p:3128".into(),
            username: Some("u".into()),
            password: Some("hunter2".into()),
        };
        let shown = format!("{proxy:?}");
        assert!(shown.contains("http://p:3128") && !shown.contains("hunter2"));
    }
}
