//! The gix side: init an empty repository, fetch exactly the refs a Flux reference needs
//! (shallow where Flux is), then materialise the worktree from the commit's tree.
//!
//! We drive fetch and checkout by hand instead of `gix::prepare_clone` because Flux's
//! references (a commit on a branch, arbitrary `refs/...` names, a semver-chosen tag) need
//! explicit refspecs and a detached checkout, and sparse checkout needs to filter the index
//! before files are written. gix cannot clone submodules either; [`checkout_submodules`]
//! recurses into this same checkout for each gitlink instead.

use std::num::NonZeroU32;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use gix::bstr::ByteSlice;
use gix::protocol::transport::client::blocking_io::http;

use crate::transport::{self, Scheme, SshFiles};
use crate::{Checkout, CloneOptions, Commit, Error, Reference, Result, Tag};

/// Run `f` on a helper thread and give up after `timeout`, raising gix's interrupt flag so the
/// helper stops at its next check. `Duration::ZERO` waits forever.
pub(crate) fn with_timeout<T, F>(timeout: Duration, f: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce(Arc<AtomicBool>) -> Result<T> + Send + 'static,
{
    let interrupt = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&interrupt);
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    std::thread::Builder::new()
        .name("ferroflux-git".into())
        .spawn(move || {
            // The receiver is gone after a timeout; nobody is left to care about the result.
            let _ = tx.send(f(flag));
        })?;
    let outcome = if timeout.is_zero() {
        rx.recv()
            .map_err(|_| std::sync::mpsc::RecvTimeoutError::Disconnected)
    } else {
        rx.recv_timeout(timeout)
    };
    match outcome {
        Ok(result) => result,
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            interrupt.store(true, Ordering::SeqCst);
            Err(Error::Timeout(timeout))
        }
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            Err(Error::Git("git worker thread panicked".into()))
        }
    }
}

/// Map a gix error onto ours, separating credential problems from everything else.
fn git_err(e: gix::Error) -> Error {
    let msg = error_chain(&e);
    let lower = msg.to_ascii_lowercase();
    let auth = e.classify().is_unauthenticated()
        || e.classify().is_permission_denied()
        || lower.contains(" 401")
        || lower.contains(" 403")
        || lower.contains("authentication")
        || lower.contains("permission denied (publickey")
        || lower.contains("host key verification failed")
        || lower.contains("no matching host key")
        || lower.contains("unauthorized")
        // The proxy refused our (or missing) `Proxy-Authorization`.
        || lower.contains(" 407")
        || lower.contains("proxy authentication required")
        || lower.contains("proxy authorization required");
    // TLS alerts a server sends about our client certificate (mutual TLS): none given, or
    // one it does not trust. The alert names alone do not say that.
    let hint = if lower.contains("alert: certificaterequired") {
        Some("the server requires a TLS client certificate ('tls.crt' and 'tls.key' in the secret)")
    } else if [
        "badcertificate",
        "unknownca",
        "certificateunknown",
        "accessdenied",
    ]
    .iter()
    .any(|a| lower.contains(&format!("alert: {a}")))
    {
        Some("the server rejected the TLS client certificate ('tls.crt' in the secret)")
    } else {
        None
    };
    match hint {
        Some(hint) => Error::Auth(format!("{hint}: {msg}")),
        None if auth => Error::Auth(msg),
        None => Error::Git(msg),
    }
}

/// One line with every cause, outermost first (gix errors nest several levels deep and the
/// useful part, e.g. "authentication required", is usually at the bottom).
fn error_chain(e: &gix::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for err in e.iter_errors() {
        let s = err.to_string();
        if !s.is_empty() && !parts.iter().any(|p| p == &s) {
            parts.push(s);
        }
    }
    if parts.is_empty() {
        e.to_string()
    } else {
        parts.join(": ")
    }
}

/// Anything displayable that gix's sub-crates return.
fn other_err(e: impl std::fmt::Display) -> Error {
    Error::Git(e.to_string())
}

/// A repository to fetch into plus whatever must live as long as its transports.
struct Workspace {
    repo: gix::Repository,
    _ssh: Option<SshFiles>,
}

/// Create a repository in `dir` configured for `opts` (ssh command, no user/system config).
fn init_repo(
    dir: &Path,
    opts: &CloneOptions,
    scheme: Scheme,
    kind: gix::create::Kind,
) -> Result<Workspace> {
    let (overrides, ssh) = if scheme == Scheme::Ssh {
        transport::ssh_overrides(opts)?
    } else {
        (Vec::new(), None)
    };
    // `isolated()`: the host's ~/.gitconfig, credential helpers and `url.insteadOf` must not
    // leak into what a controller fetches.
    // Reflogs need a committer identity; there is no user here, so name the controller.
    let mut overrides = overrides;
    overrides.push("user.name=ferroflux".into());
    overrides.push("user.email=ferroflux@localhost".into());
    let open = gix::open::Options::isolated().config_overrides(overrides);
    let repo =
        gix::ThreadSafeRepository::init_opts(dir, kind, gix::create::Options::default(), open)
            .map_err(git_err)?
            .to_thread_local();
    Ok(Workspace { repo, _ssh: ssh })
}

/// What a fetch should bring in.
struct FetchSpec {
    refspecs: Vec<String>,
    shallow: bool,
}

/// Connect to the remote with our auth/TLS settings and either list refs or fetch.
fn connect_and<T>(
    repo: &gix::Repository,
    opts: &CloneOptions,
    scheme: Scheme,
    refspecs: &[String],
    f: impl FnOnce(
        gix::remote::Connection<
            '_,
            '_,
            '_,
            Box<dyn gix::protocol::transport::client::blocking_io::Transport + Send>,
        >,
    ) -> Result<T>,
) -> Result<T> {
    let remote = repo
        .remote_at(opts.url.as_str())
        .map_err(|e| Error::Url(error_chain(&e)))?
        .with_fetch_tags(gix::remote::fetch::Tags::None)
        .with_refspecs(
            refspecs.iter().map(String::as_str),
            gix::remote::Direction::Fetch,
        )
        .map_err(git_err)?;
    let mut conn = remote
        .connect(gix::remote::Direction::Fetch)
        .map_err(git_err)?;
    // Never prompt or consult helpers: credentials come only from the secret.
    conn.set_credentials(|_action| Ok(None));
    if scheme == Scheme::Http
        && let Some(mut options) = repo
            .transport_options(opts.url.as_str(), None)
            .map_err(git_err)?
    {
        if let Some(http_options) = options.downcast_mut::<http::Options>() {
            transport::configure_http(http_options, opts)?;
        }
        conn.set_transport_options(options);
    }
    f(conn)
}

/// List the remote's refs matching `refspecs` (an ls-remote).
fn list_remote(
    repo: &gix::Repository,
    opts: &CloneOptions,
    scheme: Scheme,
    refspecs: &[String],
) -> Result<Vec<gix::protocol::handshake::Ref>> {
    connect_and(repo, opts, scheme, refspecs, |conn| {
        let (map, _handshake) = conn
            .ref_map(gix::progress::Discard, Default::default())
            .map_err(git_err)?;
        Ok(map.remote_refs)
    })
}

/// Fetch `spec` into `repo`; `what` names the reference for a `NotFound`.
fn fetch(
    repo: &gix::Repository,
    opts: &CloneOptions,
    scheme: Scheme,
    spec: &FetchSpec,
    what: &str,
    interrupt: &AtomicBool,
) -> Result<()> {
    connect_and(repo, opts, scheme, &spec.refspecs, |conn| {
        let prepare = conn
            .prepare_fetch(gix::progress::Discard, Default::default())
            .map_err(git_err)?;
        if prepare.ref_map().mappings.is_empty() {
            return Err(Error::NotFound(what.to_owned()));
        }
        let prepare = if spec.shallow {
            prepare.with_shallow(gix::remote::fetch::Shallow::DepthAtRemote(NonZeroU32::MIN))
        } else {
            prepare
        };
        prepare
            .receive(gix::progress::Discard, interrupt)
            .map_err(git_err)?;
        Ok(())
    })
}

/// The ref a tip of `full_name` points at on the remote, peeled to the commit where known.
fn remote_tip(refs: &[gix::protocol::handshake::Ref], full_name: &str) -> Option<String> {
    refs.iter().find_map(|r| {
        let (name, target, peeled) = r.unpack();
        (name == full_name.as_bytes())
            .then(|| peeled.or(target).map(|id| id.to_hex().to_string()))?
    })
}

/// Tag names (without `refs/tags/`) advertised by the remote.
fn remote_tags(refs: &[gix::protocol::handshake::Ref]) -> Vec<String> {
    refs.iter()
        .filter_map(|r| {
            let (name, _, _) = r.unpack();
            let name = name.to_str().ok()?.strip_prefix("refs/tags/")?;
            (!name.ends_with("^{}")).then(|| name.to_owned())
        })
        .collect()
}

fn tag_refspec(tag: &str) -> String {
    format!("+refs/tags/{tag}:refs/tags/{tag}")
}

fn branch_refspec(branch: &str) -> String {
    format!("+refs/heads/{branch}:refs/remotes/origin/{branch}")
}

/// Pick the semver-matching tag on the remote.
fn select_remote_tag(
    repo: &gix::Repository,
    opts: &CloneOptions,
    scheme: Scheme,
    constraint: &str,
) -> Result<String> {
    let refs = list_remote(repo, opts, scheme, &["+refs/tags/*:refs/tags/*".to_owned()])?;
    let tags = remote_tags(&refs);
    crate::semver::select_tag(constraint, tags.iter().map(String::as_str))?
        .map(str::to_owned)
        .ok_or_else(|| Error::Semver(format!("no match found for semver: {constraint}")))
}

/// See [`crate::remote_revision`].
pub(crate) fn remote_revision(
    opts: &CloneOptions,
    _interrupt: Arc<AtomicBool>,
) -> Result<Option<String>> {
    let (_, scheme) = transport::parse_url(&opts.url)?;
    let full_name = match &opts.reference {
        Reference::Branch(b) => format!("refs/heads/{b}"),
        Reference::Tag(t) => format!("refs/tags/{t}"),
        Reference::Name(n) => n.clone(),
        Reference::Semver(_) | Reference::Commit { .. } => return Ok(None),
    };
    let tmp = tempfile::Builder::new()
        .prefix("ferroflux-ls-remote")
        .tempdir()?;
    let ws = init_repo(tmp.path(), opts, scheme, gix::create::Kind::Bare)?;
    let refspec = format!("+{full_name}:{full_name}");
    let refs = list_remote(&ws.repo, opts, scheme, &[refspec])?;
    let hash =
        remote_tip(&refs, &full_name).ok_or_else(|| Error::NotFound(opts.reference.to_string()))?;
    Ok(Some(crate::revision(&opts.reference, &full_name, &hash)))
}

/// How deep submodules may nest (a submodule of a submodule of ... the superproject).
const MAX_SUBMODULE_DEPTH: usize = 5;

/// See [`crate::checkout`].
pub(crate) fn checkout(
    opts: &CloneOptions,
    dir: &Path,
    interrupt: Arc<AtomicBool>,
) -> Result<Checkout> {
    checkout_at_depth(opts, dir, &interrupt, 0)
}

/// [`checkout`] of the superproject (`depth` 0) or of a submodule nested `depth` levels deep.
fn checkout_at_depth(
    opts: &CloneOptions,
    dir: &Path,
    interrupt: &Arc<AtomicBool>,
    depth: usize,
) -> Result<Checkout> {
    let (_, scheme) = transport::parse_url(&opts.url)?;
    if dir.exists() && std::fs::read_dir(dir)?.next().is_some() {
        return Err(Error::Git(format!(
            "destination '{}' is not empty",
            dir.display()
        )));
    }
    std::fs::create_dir_all(dir)?;
    let ws = init_repo(dir, opts, scheme, gix::create::Kind::WithWorktree)?;
    let repo = &ws.repo;
    let what = opts.reference.to_string();

    // Decide what to fetch and which local ref (or commit) to check out afterwards.
    let (spec, local, reference_name) = match &opts.reference {
        Reference::Branch(b) => (
            FetchSpec {
                refspecs: vec![branch_refspec(b)],
                shallow: opts.shallow,
            },
            Target::Ref(format!("refs/remotes/origin/{b}")),
            format!("refs/heads/{b}"),
        ),
        Reference::Tag(t) => (
            FetchSpec {
                refspecs: vec![tag_refspec(t)],
                shallow: opts.shallow,
            },
            Target::Ref(format!("refs/tags/{t}")),
            format!("refs/tags/{t}"),
        ),
        Reference::Semver(c) => {
            let t = select_remote_tag(repo, opts, scheme, c)?;
            (
                FetchSpec {
                    refspecs: vec![tag_refspec(&t)],
                    shallow: opts.shallow,
                },
                Target::Ref(format!("refs/tags/{t}")),
                format!("refs/tags/{t}"),
            )
        }
        Reference::Name(n) => {
            if !n.starts_with("refs/") {
                return Err(Error::NotFound(format!(
                    "{what}: reference names must start with 'refs/'"
                )));
            }
            (
                FetchSpec {
                    refspecs: vec![format!("+{n}:{n}")],
                    shallow: opts.shallow,
                },
                Target::Ref(n.clone()),
                n.clone(),
            )
        }
        Reference::Commit { commit, branch } => {
            let id = gix::ObjectId::from_hex(commit.as_bytes())
                .map_err(|_| Error::NotFound(format!("{what}: not a full sha1 commit hash")))?;
            // The commit may be anywhere in the branch history: fetch it whole.
            match branch {
                Some(b) => (
                    FetchSpec {
                        refspecs: vec![branch_refspec(b)],
                        shallow: false,
                    },
                    Target::Commit(id),
                    format!("refs/heads/{b}"),
                ),
                None => (
                    FetchSpec {
                        refspecs: vec![
                            "+refs/heads/*:refs/remotes/origin/*".to_owned(),
                            "+refs/tags/*:refs/tags/*".to_owned(),
                        ],
                        shallow: false,
                    },
                    Target::Commit(id),
                    String::new(),
                ),
            }
        }
    };
    fetch(repo, opts, scheme, &spec, &what, interrupt)?;

    // Resolve to a commit, remembering an annotated tag on the way.
    let (commit_id, tag) = match &local {
        Target::Ref(name) => {
            let r = repo
                .find_reference(name.as_str())
                .map_err(|_| Error::NotFound(what.clone()))?;
            // The direct target, not peeled: an annotated tag's object is what Tag verification needs.
            let direct = r
                .target()
                .try_id()
                .map(ToOwned::to_owned)
                .ok_or_else(|| Error::NotFound(format!("{what}: symbolic reference")))?;
            let object = repo.find_object(direct).map_err(git_err)?;
            let tag = if object.kind == gix::object::Kind::Tag {
                Some(tag_info(name, direct, &object.data))
            } else {
                None
            };
            let commit = object
                .peel_to_commit()
                .map_err(|e| Error::NotFound(format!("{what}: {}", error_chain(&e))))?;
            (commit.id, tag)
        }
        Target::Commit(id) => {
            let found = repo
                .try_find_object(*id)
                .map_err(git_err)?
                .filter(|o| o.kind == gix::object::Kind::Commit);
            if found.is_none() {
                return Err(Error::NotFound(what));
            }
            (*id, None)
        }
    };

    let commit_obj = repo.find_commit(commit_id).map_err(git_err)?;
    let commit = commit_info(&commit_obj, &reference_name)?;
    let tree = commit_obj.tree_id().map_err(git_err)?.detach();
    materialise(repo, tree, opts, interrupt)?;
    set_head(repo, commit_id, &opts.reference)?;
    if opts.recurse_submodules {
        checkout_submodules(repo, tree, opts, dir, interrupt, depth)?;
    }

    let revision = crate::revision(&opts.reference, &reference_name, &commit.hash);
    Ok(Checkout {
        commit,
        revision,
        tag,
    })
}

/// Where the checked-out commit comes from after the fetch.
enum Target {
    Ref(String),
    Commit(gix::ObjectId),
}

/// Lines that open a signature block appended to a tag (git's `sigs` formats).
const SIGNATURE_MARKERS: [&[u8]; 4] = [
    b"-----BEGIN PGP SIGNATURE-----",
    b"-----BEGIN PGP MESSAGE-----",
    b"-----BEGIN SSH SIGNATURE-----",
    b"-----BEGIN SIGNED MESSAGE-----",
];

/// Split a raw object (commit or tag) into the bytes a signature covers and the signature.
///
/// Commits carry the signature as a `gpgsig`/`gpgsig-sha256` header with continuation lines
/// (removed, as go-git's `EncodeWithoutSignature` does); tags append it to the message.
pub(crate) fn split_signature(data: &[u8], is_tag: bool) -> (Vec<u8>, Option<String>) {
    if is_tag {
        // Like git's `parse_signed_buffer`: the signature starts at the *last* line that opens
        // with a known signature marker (a message may quote one earlier on).
        let mut start = None;
        let mut pos = 0;
        for line in data.split_inclusive(|b| *b == b'\n') {
            if SIGNATURE_MARKERS.iter().any(|m| line.starts_with(m)) {
                start = Some(pos);
            }
            pos += line.len();
        }
        return match start {
            Some(pos) => (
                data[..pos].to_vec(),
                Some(String::from_utf8_lossy(&data[pos..]).into_owned()),
            ),
            None => (data.to_vec(), None),
        };
    }
    let header_end = data.find(b"\n\n").map_or(data.len(), |p| p + 1);
    let (headers, body) = data.split_at(header_end);
    let mut encoded = Vec::with_capacity(data.len());
    let mut signature: Option<String> = None;
    let mut in_sig = false;
    for line in headers.split_inclusive(|b| *b == b'\n') {
        if in_sig && line.first() == Some(&b' ') {
            if let Some(sig) = signature.as_mut() {
                sig.push_str(&String::from_utf8_lossy(&line[1..]));
            }
            continue;
        }
        in_sig = false;
        let sig_header = [&b"gpgsig "[..], b"gpgsig-sha256 "]
            .into_iter()
            .find(|h| line.starts_with(h));
        if let Some(h) = sig_header
            && signature.is_none()
        {
            signature = Some(String::from_utf8_lossy(&line[h.len()..]).into_owned());
            in_sig = true;
            continue;
        }
        encoded.extend_from_slice(line);
    }
    encoded.extend_from_slice(body);
    (
        encoded,
        signature.map(|s| s.trim_end_matches('\n').to_owned() + "\n"),
    )
}

/// Raw object bytes as git hashes them, i.e. without the `<kind> <size>\0` prefix.
fn commit_info(commit: &gix::Commit<'_>, reference: &str) -> Result<Commit> {
    let decoded = commit.decode().map_err(git_err)?;
    let author = decoded.author().map_err(other_err)?;
    let (encoded, signature) = split_signature(&commit.data, false);
    Ok(Commit {
        hash: commit.id.to_hex().to_string(),
        reference: reference.to_owned(),
        author: format!("{} <{}>", author.name, author.email),
        message: decoded.message.to_str_lossy().into_owned(),
        signature,
        encoded,
    })
}

fn tag_info(full_name: &str, id: gix::ObjectId, data: &[u8]) -> Tag {
    let (encoded, signature) = split_signature(data, true);
    let message = encoded
        .find(b"\n\n")
        .map(|p| String::from_utf8_lossy(&encoded[p + 2..]).into_owned())
        .unwrap_or_default();
    Tag {
        hash: id.to_hex().to_string(),
        name: full_name
            .strip_prefix("refs/tags/")
            .unwrap_or(full_name)
            .to_owned(),
        message,
        signature,
        encoded,
    }
}

/// Does `dir` (a sparse-checkout entry) contain `path`?
fn in_sparse_set(path: &[u8], dirs: &[String]) -> bool {
    dirs.iter().any(|d| {
        let d = d.trim().trim_start_matches("./").trim_matches('/');
        d.is_empty()
            || path == d.as_bytes()
            || (path.starts_with(d.as_bytes()) && path.get(d.len()) == Some(&b'/'))
    })
}

/// Write the worktree for `tree`, restricted to the sparse directories if any.
fn materialise(
    repo: &gix::Repository,
    tree: gix::ObjectId,
    opts: &CloneOptions,
    interrupt: &AtomicBool,
) -> Result<()> {
    let workdir = repo
        .workdir()
        .ok_or_else(|| Error::Git("repository has no worktree".into()))?
        .to_path_buf();
    let mut index = repo.index_from_tree(&tree).map_err(git_err)?;
    if let Some(dirs) = opts.sparse_checkout.as_ref().filter(|d| !d.is_empty()) {
        index.remove_entries(|_, path, _| !in_sparse_set(path, dirs));
    }
    let mut copts = repo
        .checkout_options(gix::worktree::stack::state::attributes::Source::IdMapping)
        .map_err(git_err)?;
    copts.destination_is_initially_empty = true;
    let objects = repo.objects.clone().into_arc()?;
    let outcome = gix::worktree::state::checkout(
        &mut index,
        &workdir,
        objects,
        &gix::progress::Discard,
        &gix::progress::Discard,
        interrupt,
        copts,
    )
    .map_err(git_err)?;
    if let Some(e) = outcome.errors.first() {
        return Err(Error::Git(format!(
            "checkout of '{}' failed: {}",
            e.path, e.error
        )));
    }
    index.write(Default::default()).map_err(git_err)?;
    Ok(())
}

/// Point HEAD at the checkout: attached to a local branch for branch references (so the
/// worktree looks like `git clone -b`), detached otherwise.
fn set_head(repo: &gix::Repository, id: gix::ObjectId, reference: &Reference) -> Result<()> {
    use gix::refs::transaction::PreviousValue;
    if let Reference::Branch(b) = reference {
        let name = format!("refs/heads/{b}");
        repo.reference(name.as_str(), id, PreviousValue::Any, "clone")
            .map_err(git_err)?;
        repo.edit_reference(gix::refs::transaction::RefEdit {
            change: gix::refs::transaction::Change::Update {
                log: Default::default(),
                expected: PreviousValue::Any,
                new: gix::refs::Target::Symbolic(name.as_str().try_into().map_err(other_err)?),
            },
            name: "HEAD".try_into().map_err(other_err)?,
            deref: false,
        })
        .map_err(git_err)?;
    } else {
        repo.edit_reference(gix::refs::transaction::RefEdit {
            change: gix::refs::transaction::Change::Update {
                log: Default::default(),
                expected: PreviousValue::Any,
                new: gix::refs::Target::Object(id),
            },
            name: "HEAD".try_into().map_err(other_err)?,
            deref: false,
        })
        .map_err(git_err)?;
    }
    Ok(())
}

/// One submodule to check out: where, from which URL, at which commit.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Submodule {
    path: String,
    url: String,
    commit: gix::ObjectId,
}

/// gix cannot clone submodules, so do what `git submodule update --init --recursive` does with
/// our own checkout: for every gitlink in `tree`, look up its URL in the tree's `.gitmodules`,
/// resolve it against the superproject URL, and check out exactly the recorded commit into the
/// gitlink's directory with the superproject's auth, TLS, proxy and (shared) timeout.
fn checkout_submodules(
    repo: &gix::Repository,
    tree: gix::ObjectId,
    opts: &CloneOptions,
    dir: &Path,
    interrupt: &Arc<AtomicBool>,
    depth: usize,
) -> Result<()> {
    let submodules = submodules_of(repo, tree, opts)?;
    if submodules.is_empty() {
        return Ok(());
    }
    if depth >= MAX_SUBMODULE_DEPTH {
        return Err(Error::Git(format!(
            "submodules nested more than {MAX_SUBMODULE_DEPTH} levels deep"
        )));
    }
    for sub in submodules {
        if interrupt.load(Ordering::Relaxed) {
            return Err(Error::Git("interrupted".into()));
        }
        let sub_opts = CloneOptions {
            url: sub.url.clone(),
            reference: Reference::Commit {
                commit: sub.commit.to_hex().to_string(),
                branch: None,
            },
            shallow: false,
            sparse_checkout: None,
            ..opts.clone()
        };
        checkout_at_depth(&sub_opts, &dir.join(&sub.path), interrupt, depth + 1).map_err(|e| {
            let why = format!("submodule '{}' ({}): {e}", sub.path, sub.url);
            match e {
                Error::Auth(_) => Error::Auth(why),
                Error::Url(_) => Error::Url(why),
                Error::Timeout(d) => Error::Timeout(d),
                _ => Error::Git(why),
            }
        })?;
    }
    Ok(())
}

/// The submodules `tree` records (gitlinks), in path order, skipping those outside the sparse
/// checkout set.
fn submodules_of(
    repo: &gix::Repository,
    tree: gix::ObjectId,
    opts: &CloneOptions,
) -> Result<Vec<Submodule>> {
    let index = repo.index_from_tree(&tree).map_err(git_err)?;
    let sparse = opts.sparse_checkout.as_ref().filter(|d| !d.is_empty());
    let gitlinks: Vec<(String, gix::ObjectId)> = index
        .entries()
        .iter()
        .filter(|e| e.mode == gix::index::entry::Mode::COMMIT)
        .map(|e| (e.path(&index).to_str_lossy().into_owned(), e.id))
        .filter(|(path, _)| sparse.is_none_or(|dirs| in_sparse_set(path.as_bytes(), dirs)))
        .collect();
    if gitlinks.is_empty() {
        return Ok(Vec::new());
    }
    let modules_blob = index
        .entry_by_path(".gitmodules".into())
        .filter(|e| e.mode == gix::index::entry::Mode::FILE)
        .map(|e| e.id)
        .ok_or_else(|| {
            Error::Git(format!(
                "no submodule mapping found in .gitmodules for path '{}'",
                gitlinks[0].0
            ))
        })?;
    let data = repo
        .find_object(modules_blob)
        .map_err(git_err)?
        .detach()
        .data;
    let empty = gix::config::File::new(gix::config::file::Metadata::api());
    let modules = gix::submodule::File::from_bytes(&data, None, &empty)
        .map_err(|e| Error::Git(format!("invalid .gitmodules: {e}")))?;
    let mut out = Vec::with_capacity(gitlinks.len());
    for (path, commit) in gitlinks {
        let name = modules
            .name_by_path(path.as_str().into())
            .ok_or_else(|| {
                Error::Git(format!(
                    "no submodule mapping found in .gitmodules for path '{path}'"
                ))
            })?
            .to_owned();
        // Validates the path (relative, inside the worktree) as git does.
        modules
            .path(name.as_ref())
            .map_err(|e| Error::Git(format!("invalid .gitmodules: {e}")))?;
        let raw_url = modules
            .config()
            .string_by("submodule", Some(name.as_ref()), "url")
            .filter(|u| !u.is_empty())
            .ok_or_else(|| Error::Git(format!("submodule '{name}' has no url in .gitmodules")))?;
        let url =
            resolve_submodule_url(&opts.url, &raw_url.to_str_lossy()).map_err(|e| match e {
                Error::Url(why) => Error::Url(format!("submodule '{path}': {why}")),
                other => other,
            })?;
        out.push(Submodule { path, url, commit });
    }
    Ok(out)
}

/// Resolve a `.gitmodules` URL against the superproject's: `./x` and `../x` are relative to the
/// superproject URL (each `../` drops one path component, as git does); anything else is used
/// as it is. Local submodules (`file://` or a plain path) are only followed from a local
/// superproject: a remote repository must not make the controller read its own file system
/// (git's `protocol.file.allow=user` default for submodules).
fn resolve_submodule_url(super_url: &str, url: &str) -> Result<String> {
    let super_is_file = super_url.starts_with("file://");
    let url = url.trim();
    let resolved = if url.starts_with("./") || url.starts_with("../") {
        let mut base = super_url.trim_end_matches('/').to_owned();
        // `scheme://host` or scp-style `host:` is the root no `../` may climb above.
        let root_len = match base.find("://") {
            Some(i) => base[i + 3..].find('/').map_or(base.len(), |p| i + 3 + p),
            None => base.find(':').map_or(0, |p| p + 1),
        };
        let mut rest = url;
        loop {
            if let Some(r) = rest.strip_prefix("./") {
                rest = r;
            } else if let Some(r) = rest.strip_prefix("../") {
                rest = r;
                let path = &base[root_len..];
                if path.trim_matches('/').is_empty() {
                    return Err(Error::Url(format!(
                        "submodule URL '{url}' climbs above the root of '{super_url}'"
                    )));
                }
                let cut = path.rfind('/').map_or(root_len, |p| root_len + p);
                base.truncate(cut);
            } else {
                break;
            }
        }
        if base.ends_with(':') || base.ends_with('/') {
            format!("{base}{rest}")
        } else {
            format!("{base}/{rest}")
        }
    } else if url.starts_with('/') {
        format!("file://{url}")
    } else {
        url.to_owned()
    };
    if resolved.starts_with("file://") && !super_is_file {
        return Err(Error::Url(format!(
            "submodule URL '{url}' is local, but the repository is not"
        )));
    }
    Ok(resolved)
}

#[cfg(test)]
mod tests;
