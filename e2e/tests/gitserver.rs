//! The loopback Git servers of `ferroflux_e2e::gitserver`, proven with the real `git` CLI.
//! No Kubernetes cluster needed.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use ferroflux_e2e::gitserver::{
    ClientIdentity, GitDaemon, GitHttp, GitSsh, GpgKey, HttpAuth, SshKeyPair, TestRepo, TlsMode,
    git_command,
};

/// A repository with one commit on `main`, published under `root`; returns it and its sha.
fn published(root: &Path, name: &str) -> (TestRepo, String) {
    let mut repo = TestRepo::new(name).unwrap();
    repo.write("README.md", format!("# {name}\n")).unwrap();
    repo.write("deploy/app.yaml", "kind: ConfigMap\n").unwrap();
    let sha = repo.commit("initial").unwrap();
    repo.publish_to(root).unwrap();
    (repo, sha)
}

/// `git clone <url>` into a fresh dir with `envs`; returns the output and the dir.
fn clone(url: &str, envs: &[(&str, &str)]) -> (Output, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = git_command();
    cmd.args(["clone", "-q", url])
        .arg(dir.path().join("c"))
        .stdin(Stdio::null());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    (cmd.output().unwrap(), dir)
}

fn assert_cloned(out: &Output, dir: &tempfile::TempDir, sha: &str, file: &str) {
    assert!(
        out.status.success(),
        "clone failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let c = dir.path().join("c");
    assert!(c.join(file).exists(), "{file} missing in clone");
    let head = git_command()
        .current_dir(&c)
        .args(["rev-parse", "HEAD"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&head.stdout).trim(), sha);
}

fn assert_failed(out: &Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "expected failure, git succeeded");
    assert!(
        stderr.to_lowercase().contains(&needle.to_lowercase()),
        "expected {needle:?} in: {stderr}"
    );
}

fn ls_remote(url: &str, envs: &[(&str, &str)]) -> String {
    let mut cmd = git_command();
    cmd.args(["ls-remote", url]);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "ls-remote: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn git_daemon_serves_clones_and_later_pushes() {
    let root = tempfile::tempdir().unwrap();
    let (repo, sha) = published(root.path(), "app");
    let daemon = GitDaemon::start(root.path()).unwrap();
    let url = daemon.url_for("app");
    assert!(url.starts_with("git://127.0.0.1:"), "{url}");

    let (out, dir) = clone(&url, &[]);
    assert_cloned(&out, &dir, &sha, "deploy/app.yaml");

    // Changes after the server started: a branch, a tag, then a force-push rewrite of main.
    repo.checkout_new("feature").unwrap();
    repo.write("feature.txt", "f").unwrap();
    let feature = repo.commit("feature").unwrap();
    repo.tag("v1.0.0").unwrap();
    repo.tag_annotated("v1.1.0", "annotated").unwrap();
    repo.checkout("main").unwrap();
    let rewritten = repo.force_push_rewrite(&sha, "rewritten").unwrap();
    assert_ne!(rewritten, sha);
    repo.write("more.txt", "more").unwrap();
    let amended = repo.amend("amended").unwrap();
    repo.push().unwrap();

    let refs = ls_remote(&url, &[]);
    assert!(
        refs.contains(&format!("{amended}\trefs/heads/main")),
        "{refs}"
    );
    assert!(
        refs.contains(&format!("{feature}\trefs/heads/feature")),
        "{refs}"
    );
    assert!(
        refs.contains(&format!("{feature}\trefs/tags/v1.0.0")),
        "{refs}"
    );
    assert!(refs.contains("refs/tags/v1.1.0^{}"), "{refs}");
    assert!(!refs.contains(&sha), "old sha still advertised: {refs}");

    // Deleted refs disappear from the server too.
    repo.delete_tag("v1.0.0").unwrap();
    repo.delete_branch("feature").unwrap();
    repo.push().unwrap();
    let refs = ls_remote(&url, &[]);
    assert!(
        !refs.contains("v1.0.0") && !refs.contains("feature"),
        "{refs}"
    );

    // A missing repository is an error.
    let (out, _dir) = clone(&daemon.url_for("missing"), &[]);
    assert!(!out.status.success());
}

#[test]
fn submodules_through_the_daemon() {
    let root = tempfile::tempdir().unwrap();
    let daemon = GitDaemon::start(root.path()).unwrap();
    let (_lib, lib_sha) = published(root.path(), "lib");
    let mut app = TestRepo::new("app").unwrap();
    app.write("main.txt", "app").unwrap();
    app.add_submodule(&daemon.url_for("lib"), "vendor/lib")
        .unwrap();
    let sha = app.commit("with submodule").unwrap();
    app.publish_to(&daemon).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let out = git_command()
        .args([
            "clone",
            "-q",
            "--recurse-submodules",
            &daemon.url_for("app"),
        ])
        .arg(dir.path().join("c"))
        .output()
        .unwrap();
    assert_cloned(&out, &dir, &sha, "vendor/lib/README.md");
    let sub = git_command()
        .current_dir(dir.path().join("c/vendor/lib"))
        .args(["rev-parse", "HEAD"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&sub.stdout).trim(), lib_sha);
}

#[test]
fn http_without_auth() {
    let root = tempfile::tempdir().unwrap();
    let (_repo, sha) = published(root.path(), "org/app");
    let http = GitHttp::start(root.path(), HttpAuth::None, false).unwrap();
    let url = http.url_for("org/app");
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let (out, dir) = clone(&url, &[]);
    assert_cloned(&out, &dir, &sha, "README.md");
    // Protocol v0/v1 too (no Git-Protocol header).
    let (out, dir) = clone(&url, &[("GIT_PROTOCOL_VERSION", "0")]);
    assert_cloned(&out, &dir, &sha, "README.md");
    let logs = http.logs();
    assert!(
        logs.contains("info/refs?service=git-upload-pack -> 200"),
        "{logs}"
    );
    assert!(
        logs.contains("POST /org/app.git/git-upload-pack -> 200"),
        "{logs}"
    );
}

#[test]
fn http_basic_auth() {
    let root = tempfile::tempdir().unwrap();
    let (repo, sha) = published(root.path(), "app");
    let http = GitHttp::start(root.path(), HttpAuth::basic("flux", "s3cret"), false).unwrap();

    let (out, dir) = clone(&http.url_with_credentials("app", "flux", "s3cret"), &[]);
    assert_cloned(&out, &dir, &sha, "README.md");

    let (out, _d) = clone(&http.url_with_credentials("app", "flux", "wrong"), &[]);
    assert_failed(&out, "Authentication failed");
    let (out, _d) = clone(&http.url_for("app"), &[]);
    assert_failed(&out, "terminal prompts disabled");

    // A larger push of history later: the client gzips big upload-pack requests.
    for i in 0..60 {
        repo.write(&format!("f{i}.txt"), format!("{i}")).unwrap();
        repo.commit(&format!("c{i}")).unwrap();
        repo.tag(&format!("t{i}")).unwrap();
    }
    repo.push().unwrap();
    let head = repo.head().unwrap();
    let (out, dir) = clone(&http.url_with_credentials("app", "flux", "s3cret"), &[]);
    assert_cloned(&out, &dir, &head, "f59.txt");
    let logs = http.logs();
    assert!(
        logs.contains("(Content-Encoding: gzip) -> 200"),
        "no gzip request body seen: {logs}"
    );
    // Fetching into the old clone sends "have" lines for the old history.
    let out = git_command()
        .current_dir(dir.path().join("c"))
        .args(["fetch", "-q", "--tags", "origin"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn http_answers_401_with_a_basic_challenge() {
    ferroflux_e2e::install_rustls();
    let root = tempfile::tempdir().unwrap();
    let (_repo, _sha) = published(root.path(), "app");
    let http = GitHttp::start(root.path(), HttpAuth::basic("flux", "s3cret"), false).unwrap();
    let url = format!("{}/info/refs?service=git-upload-pack", http.url_for("app"));
    let client = reqwest::Client::new();

    let resp = client.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(
        resp.headers()["www-authenticate"].to_str().unwrap(),
        "Basic realm=\"git\""
    );
    let resp = client
        .get(&url)
        .basic_auth("flux", Some("nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let resp = client
        .get(&url)
        .basic_auth("flux", Some("s3cret"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["content-type"].to_str().unwrap(),
        "application/x-git-upload-pack-advertisement"
    );
}

#[test]
fn http_bearer_token() {
    let root = tempfile::tempdir().unwrap();
    let (_repo, sha) = published(root.path(), "app");
    let http = GitHttp::start(root.path(), HttpAuth::Bearer("tok-123".into()), false).unwrap();
    let url = http.url_for("app");

    let dir = tempfile::tempdir().unwrap();
    let out = git_command()
        .args(["-c", "http.extraHeader=Authorization: Bearer tok-123"])
        .args(["clone", "-q", &url])
        .arg(dir.path().join("c"))
        .output()
        .unwrap();
    assert_cloned(&out, &dir, &sha, "README.md");

    let out = git_command()
        .args(["-c", "http.extraHeader=Authorization: Bearer wrong"])
        .args(["ls-remote", &url])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(http.logs().contains("-> 401"));
}

#[test]
fn https_with_a_private_ca() {
    let root = tempfile::tempdir().unwrap();
    let (_repo, sha) = published(root.path(), "app");
    let http = GitHttp::start(root.path(), HttpAuth::basic("flux", "pw"), true).unwrap();
    let ca = http.ca_path().unwrap().to_str().unwrap().to_string();
    assert!(
        http.ca_pem()
            .unwrap()
            .starts_with("-----BEGIN CERTIFICATE-----")
    );
    let url = http.url_with_credentials("app", "flux", "pw");
    assert!(url.starts_with("https://"), "{url}");

    let (out, dir) = clone(&url, &[("GIT_SSL_CAINFO", &ca)]);
    assert_cloned(&out, &dir, &sha, "README.md");

    // Without the CA the certificate is not trusted.
    let (out, _d) = clone(&url, &[]);
    assert_failed(&out, "certificate");
    // With the CA but wrong credentials.
    let (out, _d) = clone(
        &http.url_with_credentials("app", "flux", "bad"),
        &[("GIT_SSL_CAINFO", &ca)],
    );
    assert_failed(&out, "Authentication failed");
    // `localhost` is in the certificate too.
    let local = url.replace("127.0.0.1", "localhost");
    let (out, dir) = clone(&local, &[("GIT_SSL_CAINFO", &ca)]);
    assert_cloned(&out, &dir, &sha, "README.md");
}

#[test]
fn mutual_tls_requires_a_client_certificate_from_the_ca() {
    let root = tempfile::tempdir().unwrap();
    let (_repo, sha) = published(root.path(), "app");
    let http = GitHttp::start_with(root.path(), HttpAuth::None, TlsMode::Mutual).unwrap();
    let ca = http.ca_path().unwrap().to_str().unwrap().to_string();
    let url = http.url_for("app");
    let (me, stranger) = (http.client().unwrap(), http.stranger().unwrap());
    let with = |id: &ClientIdentity| {
        [
            ("GIT_SSL_CAINFO", ca.clone()),
            ("GIT_SSL_CERT", id.cert_path.to_str().unwrap().to_string()),
            ("GIT_SSL_KEY", id.key_path.to_str().unwrap().to_string()),
        ]
    };
    let env = with(me);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (out, dir) = clone(&url, &env);
    assert_cloned(&out, &dir, &sha, "README.md");
    // No client certificate, or one from a CA the server does not trust: refused.
    let (out, _d) = clone(&url, &[("GIT_SSL_CAINFO", &ca)]);
    assert!(!out.status.success());
    let env = with(stranger);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (out, _d) = clone(&url, &env);
    assert!(!out.status.success());
    assert_eq!(
        http.logs().matches("TLS handshake").count(),
        2,
        "{}",
        http.logs()
    );
}

#[test]
fn ssh_with_key_and_known_hosts() {
    let root = tempfile::tempdir().unwrap();
    let (_repo, sha) = published(root.path(), "app");
    let key = SshKeyPair::generate().unwrap();
    assert!(key.private_pem().unwrap().contains("OPENSSH PRIVATE KEY"));
    let ssh = GitSsh::start(root.path(), &key.public_line().unwrap()).unwrap();
    let url = ssh.url_for("app");
    assert!(url.starts_with("ssh://"), "{url}");

    let files = tempfile::tempdir().unwrap();
    let kh = files.path().join("known_hosts");
    std::fs::write(&kh, format!("{}\n", ssh.host_key_known_hosts_line())).unwrap();
    let wrong_kh = files.path().join("wrong_known_hosts");
    std::fs::write(&wrong_kh, format!("{}\n", ssh.wrong_known_hosts_line())).unwrap();
    let empty_kh = files.path().join("empty_known_hosts");
    std::fs::write(&empty_kh, "").unwrap();

    let cmd = GitSsh::ssh_command(&key.private_key, &kh);
    let (out, dir) = clone(&url, &[("GIT_SSH_COMMAND", &cmd)]);
    assert_cloned(&out, &dir, &sha, "README.md");

    // Host key mismatch.
    let cmd = GitSsh::ssh_command(&key.private_key, &wrong_kh);
    let (out, _d) = clone(&url, &[("GIT_SSH_COMMAND", &cmd)]);
    assert_failed(&out, "host key");
    // Unknown host.
    let cmd = GitSsh::ssh_command(&key.private_key, &empty_kh);
    let (out, _d) = clone(&url, &[("GIT_SSH_COMMAND", &cmd)]);
    assert_failed(&out, "Host key verification failed");
    // A key the server does not know.
    let other = SshKeyPair::generate_type("ecdsa").unwrap();
    let cmd = GitSsh::ssh_command(&other.private_key, &kh);
    let (out, _d) = clone(&url, &[("GIT_SSH_COMMAND", &cmd)]);
    assert_failed(&out, "Permission denied");
}

#[test]
fn signed_commits_and_tags_verify() {
    let repo = TestRepo::new("signed").unwrap();

    // SSH signatures, checked against an allowed-signers file.
    let key = SshKeyPair::generate().unwrap();
    repo.write("a.txt", "a").unwrap();
    let sha = repo.commit_signed_ssh("ssh signed", &key).unwrap();
    repo.tag_signed_ssh("v1-ssh", "ssh tag", &key).unwrap();
    let allowed = repo.path().join("../allowed_signers");
    std::fs::write(&allowed, format!("* {}\n", key.public_line().unwrap())).unwrap();
    let allowed_cfg = format!("gpg.ssh.allowedSignersFile={}", allowed.display());
    for verify in [["verify-commit", sha.as_str()], ["verify-tag", "v1-ssh"]] {
        repo.git(["-c", allowed_cfg.as_str(), verify[0], verify[1]])
            .unwrap();
    }
    let raw = repo.git(["cat-file", "commit", &sha]).unwrap();
    assert!(raw.contains("-----BEGIN SSH SIGNATURE-----"), "{raw}");

    // OpenPGP signatures, checked in a different keyring holding only the public key.
    let gpg = GpgKey::generate("Flux Signer", "signer@ferroflux.invalid").unwrap();
    assert!(gpg.public_armored.contains("BEGIN PGP PUBLIC KEY BLOCK"));
    assert!(
        gpg.private_armored()
            .unwrap()
            .contains("BEGIN PGP PRIVATE KEY BLOCK")
    );
    repo.write("b.txt", "b").unwrap();
    let sha = repo.commit_signed_gpg("gpg signed", &gpg).unwrap();
    repo.tag_signed_gpg("v1-gpg", "gpg tag", &gpg).unwrap();
    let raw = repo.git(["cat-file", "commit", &sha]).unwrap();
    assert!(raw.contains("-----BEGIN PGP SIGNATURE-----"), "{raw}");

    let verifier = tempfile::tempdir().unwrap();
    let pubkey = verifier.path().join("pub.asc");
    std::fs::write(&pubkey, &gpg.public_armored).unwrap();
    let gnupghome = verifier.path().join("gnupg");
    std::fs::create_dir(&gnupghome).unwrap();
    let import = Command::new("gpg")
        .env("GNUPGHOME", &gnupghome)
        .args(["--batch", "--quiet", "--import"])
        .arg(&pubkey)
        .output()
        .unwrap();
    assert!(import.status.success(), "{import:?}");
    for verify in [["verify-commit", sha.as_str()], ["verify-tag", "v1-gpg"]] {
        let out = git_command()
            .current_dir(repo.path())
            .env("GNUPGHOME", &gnupghome)
            .args(verify)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // An unsigned commit does not verify.
    let unsigned = repo.commit("unsigned").unwrap();
    let out = git_command()
        .current_dir(repo.path())
        .env("GNUPGHOME", &gnupghome)
        .args(["verify-commit", &unsigned])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let _ = Command::new("gpgconf")
        .env("GNUPGHOME", &gnupghome)
        .args(["--kill", "all"])
        .status();
}
