use super::*;
use crate::testutil::{Daemon, Fixture};
use crate::{CloneOptions, Reference, checkout as do_checkout, remote_revision};
use std::time::Duration;

fn opts(url: &str, r: Reference) -> CloneOptions {
    let mut o = CloneOptions::new(url, r);
    o.timeout = Duration::from_secs(60);
    o
}

fn clone(url: &str, r: Reference) -> (tempfile::TempDir, crate::Result<crate::Checkout>) {
    let dest = tempfile::tempdir().expect("tmp");
    let res = do_checkout(&opts(url, r), &dest.path().join("src"));
    (dest, res)
}

#[test]
fn branch_checkout_over_file_url() {
    let fx = Fixture::new();
    let (dest, res) = clone(&fx.file_url(), Reference::Branch("master".into()));
    let co = res.expect("checkout");
    assert_eq!(co.commit.hash, fx.commit("c2"));
    assert_eq!(co.revision, format!("master@sha1:{}", fx.commit("c2")));
    assert_eq!(co.commit.reference, "refs/heads/master");
    assert_eq!(co.commit.author, "Flux Test <test@example.com>");
    assert_eq!(co.commit.message.trim(), "c2");
    let src = dest.path().join("src");
    assert!(src.join("manifests/svc.yaml").is_file());
    assert!(src.join("README.md").is_file());
    assert!(!src.join("manifests/rc.yaml").exists());
}

/// Every reference kind, once over `file://` and once over `git://` (a real `git daemon`).
fn every_reference_kind(url: &str, fx: &Fixture) {
    let cases: Vec<(Reference, &str, String)> = vec![
        (
            Reference::Branch("master".into()),
            "c2",
            format!("master@sha1:{}", fx.commit("c2")),
        ),
        (
            Reference::Branch("main".into()),
            "c3b",
            format!("main@sha1:{}", fx.commit("c3b")),
        ),
        (
            Reference::Branch("feature/x".into()),
            "c4",
            format!("feature/x@sha1:{}", fx.commit("c4")),
        ),
        (
            Reference::Tag("v1.0.0".into()),
            "c1",
            format!("v1.0.0@sha1:{}", fx.commit("c1")),
        ),
        (
            Reference::Tag("v1.1.0".into()),
            "c2",
            format!("v1.1.0@sha1:{}", fx.commit("c2")),
        ),
        (
            Reference::Tag("v2.0.0-rc.1".into()),
            "c3",
            format!("v2.0.0-rc.1@sha1:{}", fx.commit("c3")),
        ),
        (
            Reference::Semver(">=1.0.0".into()),
            "c2",
            format!("v1.1.0@sha1:{}", fx.commit("c2")),
        ),
        (
            Reference::Semver("~1.0".into()),
            "c1",
            format!("v1.0.0@sha1:{}", fx.commit("c1")),
        ),
        (
            Reference::Semver(">=2.0.0-0".into()),
            "c3",
            format!("v2.0.0-rc.1@sha1:{}", fx.commit("c3")),
        ),
        (
            Reference::Name("refs/pull/1/head".into()),
            "c4",
            format!("refs/pull/1/head@sha1:{}", fx.commit("c4")),
        ),
        (
            Reference::Name("refs/heads/main".into()),
            "c3b",
            format!("refs/heads/main@sha1:{}", fx.commit("c3b")),
        ),
        (
            Reference::Commit {
                commit: fx.commit("c1"),
                branch: None,
            },
            "c1",
            format!("sha1:{}", fx.commit("c1")),
        ),
        (
            Reference::Commit {
                commit: fx.commit("c1"),
                branch: Some("master".into()),
            },
            "c1",
            format!("master@sha1:{}", fx.commit("c1")),
        ),
        // The force-pushed-away commit is still reachable through its tag.
        (
            Reference::Commit {
                commit: fx.commit("c3"),
                branch: None,
            },
            "c3",
            format!("sha1:{}", fx.commit("c3")),
        ),
    ];
    for (reference, label, want_revision) in cases {
        let (dest, res) = clone(url, reference.clone());
        let co = res.unwrap_or_else(|e| panic!("{reference} over {url}: {e}"));
        assert_eq!(co.commit.hash, fx.commit(label), "{reference}");
        assert_eq!(co.revision, want_revision, "{reference}");
        assert!(
            dest.path().join("src/README.md").is_file(),
            "{reference}: worktree"
        );
        // HEAD of the clone names the same commit.
        let head = crate::testutil::git(&dest.path().join("src"), &["rev-parse", "HEAD"]);
        assert_eq!(head, fx.commit(label), "{reference}: HEAD");
    }
}

#[test]
fn every_reference_kind_over_file_url() {
    let fx = Fixture::new();
    every_reference_kind(&fx.file_url(), &fx);
}

#[test]
fn every_reference_kind_over_git_daemon() {
    let fx = Fixture::new();
    let daemon = Daemon::start(fx.base());
    every_reference_kind(&daemon.url("repo.git"), &fx);
}

#[test]
fn annotated_tag_checkout_reports_the_tag_object() {
    let fx = Fixture::new();
    let (_d, res) = clone(&fx.file_url(), Reference::Tag("v1.0.0".into()));
    let co = res.expect("checkout");
    let tag = co.tag.expect("annotated tag");
    assert_eq!(tag.name, "v1.0.0");
    assert_eq!(tag.message.trim(), "release 1.0.0");
    assert!(tag.signature.is_none());
    assert_eq!(co.commit.reference, "refs/tags/v1.0.0");
    let (_d, res) = clone(&fx.file_url(), Reference::Tag("v1.1.0".into()));
    assert!(
        res.expect("checkout").tag.is_none(),
        "lightweight tag has no object"
    );
}

#[test]
fn shallow_branch_clone_has_depth_one() {
    let fx = Fixture::new();
    let (dest, res) = clone(&fx.file_url(), Reference::Branch("main".into()));
    res.expect("checkout");
    let count = crate::testutil::git(&dest.path().join("src"), &["rev-list", "--count", "HEAD"]);
    assert_eq!(count, "1");
}

#[test]
fn commit_on_branch_fetches_full_history() {
    let fx = Fixture::new();
    let (dest, res) = clone(
        &fx.file_url(),
        Reference::Commit {
            commit: fx.commit("c1"),
            branch: Some("master".into()),
        },
    );
    let co = res.expect("checkout");
    assert_eq!(co.commit.reference, "refs/heads/master");
    assert!(
        !dest.path().join("src/manifests/svc.yaml").exists(),
        "c1 has no svc.yaml"
    );
}

#[test]
fn missing_branch_is_not_found_with_git_operation_failed() {
    let fx = Fixture::new();
    let (_d, res) = clone(&fx.file_url(), Reference::Branch("nope".into()));
    let err = res.expect_err("missing branch");
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
    assert_eq!(err.reason(), "GitOperationFailed");
    assert!(err.to_string().contains("nope"), "{err}");
}

#[test]
fn missing_tag_commit_and_semver_match_are_errors() {
    let fx = Fixture::new();
    let url = fx.file_url();
    let (_d, res) = clone(&url, Reference::Tag("v9.9.9".into()));
    assert!(matches!(res, Err(Error::NotFound(_))), "{res:?}");
    let (_d, res) = clone(
        &url,
        Reference::Commit {
            commit: "0123456789012345678901234567890123456789".into(),
            branch: Some("master".into()),
        },
    );
    assert!(matches!(res, Err(Error::NotFound(_))), "{res:?}");
    let (_d, res) = clone(
        &url,
        Reference::Commit {
            commit: fx.commit("c3b"),
            branch: Some("master".into()),
        },
    );
    assert!(
        matches!(res, Err(Error::NotFound(_))),
        "commit not on that branch: {res:?}"
    );
    let (_d, res) = clone(&url, Reference::Semver(">=5.0.0".into()));
    let err = res.expect_err("no semver match");
    assert!(matches!(err, Error::Semver(_)), "{err:?}");
    assert_eq!(err.reason(), "GitOperationFailed");
}

#[test]
fn bad_url_is_url_invalid() {
    for url in [
        "",
        "not a url",
        "/abs/path",
        "ftp://example.com/repo",
        "https://",
    ] {
        let (_d, res) = clone(url, Reference::Branch("main".into()));
        let err = res.expect_err("bad url");
        assert_eq!(err.reason(), "URLInvalid", "{url}: {err:?}");
    }
}

#[test]
fn unreachable_host_fails_within_the_timeout() {
    // A listener that accepts but never speaks: the clone must give up on its own.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let mut o = opts(
        &format!("git://127.0.0.1:{port}/repo.git"),
        Reference::Branch("main".into()),
    );
    o.timeout = Duration::from_secs(2);
    let dest = tempfile::tempdir().expect("tmp");
    let start = std::time::Instant::now();
    let err = do_checkout(&o, &dest.path().join("src")).expect_err("must fail");
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "took {:?}",
        start.elapsed()
    );
    assert!(matches!(err, Error::Timeout(_)), "{err:?}");
    assert_eq!(err.reason(), "GitOperationFailed");
    drop(listener);

    // Nothing listening at all: fails fast, not a timeout.
    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port");
    let o = opts(
        &format!("git://127.0.0.1:{free}/repo.git"),
        Reference::Branch("main".into()),
    );
    let err = do_checkout(&o, &dest.path().join("src2")).expect_err("refused");
    assert_eq!(err.reason(), "GitOperationFailed", "{err:?}");
}

#[test]
fn sparse_checkout_materialises_only_listed_dirs() {
    let fx = Fixture::new();
    let mut o = opts(&fx.file_url(), Reference::Branch("master".into()));
    o.sparse_checkout = Some(vec!["manifests/".into()]);
    let dest = tempfile::tempdir().expect("tmp");
    let src = dest.path().join("src");
    do_checkout(&o, &src).expect("checkout");
    assert!(src.join("manifests/deploy.yaml").is_file());
    assert!(src.join("manifests/svc.yaml").is_file());
    assert!(!src.join("README.md").exists());
    assert!(!src.join("apps").exists());
}

#[test]
fn destination_must_be_empty() {
    let fx = Fixture::new();
    let dest = tempfile::tempdir().expect("tmp");
    std::fs::write(dest.path().join("x"), "x").expect("write");
    let err = do_checkout(
        &opts(&fx.file_url(), Reference::Branch("master".into())),
        dest.path(),
    )
    .expect_err("non-empty");
    assert_eq!(err.reason(), "GitOperationFailed");
}

#[test]
fn remote_revision_lists_without_cloning() {
    let fx = Fixture::new();
    let daemon = Daemon::start(fx.base());
    for url in [fx.file_url(), daemon.url("repo.git")] {
        let rr = |r: Reference| remote_revision(&opts(&url, r));
        assert_eq!(
            rr(Reference::Branch("main".into())).expect("ls"),
            Some(format!("main@sha1:{}", fx.commit("c3b"))),
            "force-pushed branch shows its new tip"
        );
        assert_eq!(
            rr(Reference::Tag("v1.0.0".into())).expect("ls"),
            Some(format!("v1.0.0@sha1:{}", fx.commit("c1"))),
            "annotated tag is peeled"
        );
        assert_eq!(
            rr(Reference::Name("refs/pull/1/head".into())).expect("ls"),
            Some(format!("refs/pull/1/head@sha1:{}", fx.commit("c4")))
        );
        assert_eq!(rr(Reference::Semver("*".into())).expect("ls"), None);
        assert_eq!(
            rr(Reference::Commit {
                commit: fx.commit("c1"),
                branch: None
            })
            .expect("ls"),
            None
        );
        assert!(matches!(
            rr(Reference::Branch("nope".into())),
            Err(Error::NotFound(_))
        ));
    }
}

#[test]
fn remote_revision_matches_checkout_revision() {
    let fx = Fixture::new();
    for r in [
        Reference::Branch("master".into()),
        Reference::Tag("v1.0.0".into()),
        Reference::Name("refs/heads/feature/x".into()),
    ] {
        let ls = remote_revision(&opts(&fx.file_url(), r.clone())).expect("ls");
        let (_d, co) = clone(&fx.file_url(), r);
        assert_eq!(ls, Some(co.expect("checkout").revision));
    }
}

/// `repo.git` with submodule `vendor/lib` (→ `../lib.git`), which itself has submodule
/// `deps/leaf` (→ `../leaf.git`); both submodule remotes move on after the gitlinks were
/// recorded, so a checkout of the wrong commit shows.
struct SubmoduleFixture {
    tmp: tempfile::TempDir,
    lib_commit: String,
    leaf_commit: String,
}

impl SubmoduleFixture {
    fn new() -> SubmoduleFixture {
        use crate::testutil::{git, write};
        let tmp = tempfile::tempdir().expect("tmp");
        let base = tmp.path();
        let file_url = |name: &str| format!("file://{}", base.join(name).display());
        let repo = |name: &str, file: &str, content: &str| -> std::path::PathBuf {
            git(
                base,
                &[
                    "init",
                    "-q",
                    "--bare",
                    "-b",
                    "master",
                    &format!("{name}.git"),
                ],
            );
            let work = base.join(format!("{name}-work"));
            std::fs::create_dir_all(&work).expect("mkdir");
            git(&work, &["init", "-q", "-b", "master"]);
            git(
                &work,
                &["remote", "add", "origin", &file_url(&format!("{name}.git"))],
            );
            write(&work, file, content);
            git(&work, &["add", "-A"]);
            git(&work, &["commit", "-q", "-m", "init"]);
            work
        };
        // Add a submodule by file:// URL, then record it with a relative URL as hosted
        // repositories usually do.
        let add_sub = |work: &Path, name: &str, path: &str| {
            git(
                work,
                &[
                    "-c",
                    "protocol.file.allow=always",
                    "submodule",
                    "add",
                    "-q",
                    &file_url(&format!("{name}.git")),
                    path,
                ],
            );
            git(
                work,
                &[
                    "config",
                    "-f",
                    ".gitmodules",
                    &format!("submodule.{path}.url"),
                    &format!("../{name}.git"),
                ],
            );
            git(work, &["add", "-A"]);
            git(work, &["commit", "-q", "-m", &format!("add {path}")]);
        };
        let advance = |work: &Path, file: &str, content: &str| {
            write(work, file, content);
            git(work, &["commit", "-q", "-am", "v2"]);
            git(work, &["push", "-q", "origin", "master"]);
        };

        let leaf = repo("leaf", "leaf.txt", "leaf v1\n");
        git(&leaf, &["push", "-q", "origin", "master"]);
        let leaf_commit = git(&leaf, &["rev-parse", "HEAD"]);
        let lib = repo("lib", "lib.txt", "lib v1\n");
        add_sub(&lib, "leaf", "deps/leaf");
        git(&lib, &["push", "-q", "origin", "master"]);
        let lib_commit = git(&lib, &["rev-parse", "HEAD"]);
        let sup = repo("repo", "README.md", "super\n");
        add_sub(&sup, "lib", "vendor/lib");
        git(&sup, &["push", "-q", "origin", "master"]);
        advance(&leaf, "leaf.txt", "leaf v2\n");
        advance(&lib, "lib.txt", "lib v2\n");
        SubmoduleFixture {
            tmp,
            lib_commit,
            leaf_commit,
        }
    }

    fn file_url(&self) -> String {
        format!("file://{}", self.tmp.path().join("repo.git").display())
    }

    fn check(&self, url: &str) {
        let mut o = opts(url, Reference::Branch("master".into()));
        o.recurse_submodules = true;
        let dest = tempfile::tempdir().expect("tmp");
        let src = dest.path().join("src");
        do_checkout(&o, &src).unwrap_or_else(|e| panic!("{url}: {e}"));
        assert_eq!(
            std::fs::read_to_string(src.join("vendor/lib/lib.txt")).expect("lib.txt"),
            "lib v1\n",
            "{url}: submodule at the recorded commit, not the tip"
        );
        assert_eq!(
            std::fs::read_to_string(src.join("vendor/lib/deps/leaf/leaf.txt")).expect("leaf"),
            "leaf v1\n",
            "{url}: nested submodule"
        );
        let head = |p: &str| crate::testutil::git(&src.join(p), &["rev-parse", "HEAD"]);
        assert_eq!(head("vendor/lib"), self.lib_commit);
        assert_eq!(head("vendor/lib/deps/leaf"), self.leaf_commit);

        // Without recursion: the superproject only, gitlink directories empty.
        o.recurse_submodules = false;
        let src2 = dest.path().join("src2");
        do_checkout(&o, &src2).expect("checkout without submodules");
        assert!(src2.join("README.md").is_file());
        assert!(!src2.join("vendor/lib/lib.txt").exists());
    }
}

#[test]
fn submodules_over_file_url() {
    let fx = SubmoduleFixture::new();
    fx.check(&fx.file_url());
}

#[test]
fn submodules_over_git_daemon() {
    let fx = SubmoduleFixture::new();
    let daemon = Daemon::start(fx.tmp.path());
    fx.check(&daemon.url("repo.git"));
}

#[test]
fn submodule_with_absolute_file_url_only_from_a_local_superproject() {
    use crate::testutil::git;
    let fx = SubmoduleFixture::new();
    let work = fx.tmp.path().join("repo-work");
    let leaf_url = format!("file://{}", fx.tmp.path().join("leaf.git").display());
    git(
        &work,
        &[
            "-c",
            "protocol.file.allow=always",
            "submodule",
            "add",
            "-q",
            &leaf_url,
            "leaf",
        ],
    );
    git(&work, &["commit", "-q", "-m", "add leaf by absolute URL"]);
    git(&work, &["push", "-q", "origin", "master"]);
    let mut o = opts(&fx.file_url(), Reference::Branch("master".into()));
    o.recurse_submodules = true;
    let dest = tempfile::tempdir().expect("tmp");
    do_checkout(&o, &dest.path().join("src")).expect("local superproject");
    assert_eq!(
        std::fs::read_to_string(dest.path().join("src/leaf/leaf.txt")).expect("leaf"),
        "leaf v2\n"
    );
    // Served by a daemon, the same .gitmodules must not reach into the local file system.
    let daemon = Daemon::start(fx.tmp.path());
    let mut o = opts(&daemon.url("repo.git"), Reference::Branch("master".into()));
    o.recurse_submodules = true;
    let err = do_checkout(&o, &dest.path().join("src2")).expect_err("local submodule");
    assert_eq!(err.reason(), "URLInvalid", "{err:?}");
    assert!(err.to_string().contains("submodule 'leaf'"), "{err}");
}

#[test]
fn gitlink_without_gitmodules_entry_is_an_error() {
    use crate::testutil::git;
    let fx = SubmoduleFixture::new();
    let work = fx.tmp.path().join("repo-work");
    git(&work, &["rm", "-q", "--cached", ".gitmodules"]);
    git(&work, &["commit", "-q", "-m", "drop .gitmodules"]);
    git(&work, &["push", "-q", "origin", "master"]);
    let mut o = opts(&fx.file_url(), Reference::Branch("master".into()));
    o.recurse_submodules = true;
    let dest = tempfile::tempdir().expect("tmp");
    let err = do_checkout(&o, &dest.path().join("src")).expect_err("no mapping");
    assert!(
        err.to_string()
            .contains("no submodule mapping found in .gitmodules for path 'vendor/lib'"),
        "{err}"
    );
    o.recurse_submodules = false;
    do_checkout(&o, &dest.path().join("src2")).expect("fine without recursion");
}

#[test]
fn submodule_urls_resolve_like_git() {
    let r = |s: &str, u: &str| resolve_submodule_url(s, u);
    assert_eq!(
        r("https://example.com/org/repo.git", "../lib.git").expect("ok"),
        "https://example.com/org/lib.git"
    );
    assert_eq!(
        r("https://example.com/org/repo.git/", "../../other/lib.git").expect("ok"),
        "https://example.com/other/lib.git"
    );
    assert_eq!(
        r("https://example.com/org/repo", "./lib").expect("ok"),
        "https://example.com/org/repo/lib"
    );
    assert_eq!(
        r("git@example.com:org/repo.git", "../lib.git").expect("ok"),
        "git@example.com:org/lib.git"
    );
    assert_eq!(
        r("git@example.com:repo.git", "../lib.git").expect("ok"),
        "git@example.com:lib.git"
    );
    assert_eq!(
        r("file:///srv/git/repo.git", "../lib.git").expect("ok"),
        "file:///srv/git/lib.git"
    );
    assert_eq!(
        r("file:///srv/repo.git", "/srv/lib.git").expect("ok"),
        "file:///srv/lib.git"
    );
    assert_eq!(
        r(
            "https://example.com/repo.git",
            "ssh://git@example.com/lib.git"
        )
        .expect("ok"),
        "ssh://git@example.com/lib.git"
    );
    for (sup, url) in [
        ("https://example.com/repo.git", "file:///etc/lib.git"),
        ("https://example.com/repo.git", "/etc/lib.git"),
        ("https://example.com/repo.git", "../../../x.git"),
    ] {
        let err = r(sup, url).expect_err(url);
        assert_eq!(err.reason(), "URLInvalid", "{url}: {err:?}");
    }
}

#[test]
fn commit_signature_is_split_from_the_signed_payload() {
    let raw = b"tree 1111111111111111111111111111111111111111\nauthor A <a@b> 1 +0000\ncommitter A <a@b> 1 +0000\ngpgsig -----BEGIN PGP SIGNATURE-----\n \n abc\n -----END PGP SIGNATURE-----\n\nmessage\n";
    let (encoded, sig) = split_signature(raw, false);
    assert_eq!(
        String::from_utf8_lossy(&encoded),
        "tree 1111111111111111111111111111111111111111\nauthor A <a@b> 1 +0000\ncommitter A <a@b> 1 +0000\n\nmessage\n"
    );
    assert_eq!(
        sig.as_deref(),
        Some("-----BEGIN PGP SIGNATURE-----\n\nabc\n-----END PGP SIGNATURE-----\n")
    );
    let tag = b"object 1\ntype commit\ntag v1\ntagger A <a@b> 1 +0000\n\nmsg\n-----BEGIN PGP SIGNATURE-----\nx\n-----END PGP SIGNATURE-----\n";
    let (encoded, sig) = split_signature(tag, true);
    assert!(String::from_utf8_lossy(&encoded).ends_with("\n\nmsg\n"));
    assert!(sig.is_some_and(|s| s.starts_with("-----BEGIN PGP SIGNATURE-----")));
    // A marker quoted inside the message (not at a line start, or followed by the real
    // signature) is part of the signed payload, as in git.
    let tag = b"object 1\ntype commit\ntag v1\ntagger A <a@b> 1 +0000\n\nsee -----BEGIN SSH SIGNATURE-----\n-----BEGIN PGP SIGNATURE-----\nquoted\n-----END PGP SIGNATURE-----\n-----BEGIN SSH SIGNATURE-----\nreal\n-----END SSH SIGNATURE-----\n";
    let (encoded, sig) = split_signature(tag, true);
    assert!(String::from_utf8_lossy(&encoded).ends_with("quoted\n-----END PGP SIGNATURE-----\n"));
    assert_eq!(
        sig.as_deref(),
        Some("-----BEGIN SSH SIGNATURE-----\nreal\n-----END SSH SIGNATURE-----\n")
    );
    let (encoded, sig) = split_signature(b"object 1\n\nno signature\n", true);
    assert_eq!(encoded, b"object 1\n\nno signature\n");
    assert!(sig.is_none());
}

#[test]
fn https_transport_builds_a_ring_tls_client_and_reports_connection_errors() {
    // Exercises the reqwest client construction (ring provider, custom CA, proxy-less, auth
    // header) without a server: the connection is refused, which must be an error, not a panic.
    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port");
    let mut o = opts(
        &format!("https://127.0.0.1:{free}/repo.git"),
        Reference::Branch("main".into()),
    );
    o.auth = crate::Auth::Bearer("token".into());
    o.timeout = Duration::from_secs(10);
    let err = remote_revision(&o).expect_err("refused");
    assert_eq!(err.reason(), "GitOperationFailed", "{err:?}");
    let mut o = opts(
        &format!("http://127.0.0.1:{free}/repo.git"),
        Reference::Branch("main".into()),
    );
    o.auth = crate::Auth::Basic {
        username: "u".into(),
        password: "p".into(),
    };
    o.proxy = Some(crate::Proxy::new(format!("http://127.0.0.1:{free}")));
    let dest = tempfile::tempdir().expect("tmp");
    let err = do_checkout(&o, &dest.path().join("src")).expect_err("refused");
    assert_eq!(err.reason(), "GitOperationFailed", "{err:?}");
}
