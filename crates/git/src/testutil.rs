//! Test fixtures: real repositories built with the `git` CLI and a `git daemon` on loopback.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// Run git in `dir` with a fixed identity and dates, panicking on failure (tests only).
pub(crate) fn git(dir: &Path, args: &[&str]) -> String {
    git_env(dir, args, &[])
}

/// [`git`] with extra environment variables (e.g. `GNUPGHOME`).
pub(crate) fn git_env(dir: &Path, args: &[&str], env: &[(&str, &Path)]) -> String {
    let out = Command::new("git")
        .args(args)
        .envs(env.iter().map(|(k, v)| (*k, *v)))
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .env("GIT_AUTHOR_NAME", "Flux Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "Flux Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .env("GIT_AUTHOR_DATE", "2024-01-01T00:00:00Z")
        .env("GIT_COMMITTER_DATE", "2024-01-01T00:00:00Z")
        .output()
        .expect("run git");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

pub(crate) fn write(dir: &Path, rel: &str, content: &str) {
    let p = dir.join(rel);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(p, content).expect("write");
}

/// A bare "remote" plus the work repo used to push into it.
pub(crate) struct Fixture {
    pub tmp: tempfile::TempDir,
    /// Commit hashes by label.
    pub commits: std::collections::HashMap<&'static str, String>,
}

impl Fixture {
    pub(crate) fn base(&self) -> &Path {
        self.tmp.path()
    }
    pub(crate) fn bare(&self) -> PathBuf {
        self.tmp.path().join("repo.git")
    }
    pub(crate) fn file_url(&self) -> String {
        format!("file://{}", self.bare().display())
    }
    pub(crate) fn commit(&self, label: &str) -> String {
        self.commits
            .get(label)
            .cloned()
            .expect("known commit label")
    }

    /// master: c1 ← c2 (tag v1.0.0 annotated at c1, lightweight v1.1.0 at c2)
    /// main: c1 ← c2 ← c3 (tag v2.0.0-rc.1 at c3), later force-pushed to c3' (c3 orphaned but tagged)
    /// feature/x: c4 with nested .sourceignore files; refs/pull/1/head → c4.
    pub(crate) fn new() -> Fixture {
        let tmp = tempfile::tempdir().expect("tmp");
        let base = tmp.path();
        let work = base.join("work");
        std::fs::create_dir_all(&work).expect("mkdir");
        let mut commits = std::collections::HashMap::new();
        git(base, &["init", "-q", "--bare", "-b", "master", "repo.git"]);
        git(&work, &["init", "-q", "-b", "master"]);
        write(&work, "README.md", "hello\n");
        write(&work, "manifests/deploy.yaml", "kind: Deployment\n");
        write(&work, "apps/app.yaml", "kind: ConfigMap\n");
        git(&work, &["add", "-A"]);
        git(&work, &["commit", "-q", "-m", "c1"]);
        commits.insert("c1", git(&work, &["rev-parse", "HEAD"]));
        git(&work, &["tag", "-a", "v1.0.0", "-m", "release 1.0.0"]);
        write(&work, "manifests/svc.yaml", "kind: Service\n");
        git(&work, &["add", "-A"]);
        git(&work, &["commit", "-q", "-m", "c2"]);
        commits.insert("c2", git(&work, &["rev-parse", "HEAD"]));
        git(&work, &["tag", "v1.1.0"]);
        git(&work, &["checkout", "-q", "-b", "main"]);
        write(&work, "manifests/rc.yaml", "kind: Secret\n");
        git(&work, &["add", "-A"]);
        git(&work, &["commit", "-q", "-m", "c3"]);
        commits.insert("c3", git(&work, &["rev-parse", "HEAD"]));
        git(&work, &["tag", "-a", "v2.0.0-rc.1", "-m", "rc"]);
        git(&work, &["checkout", "-q", "-b", "feature/x", "master"]);
        write(&work, ".sourceignore", "*.md\n");
        write(&work, "apps/.sourceignore", "!README.md\n");
        write(&work, "apps/README.md", "apps\n");
        git(&work, &["add", "-A"]);
        git(&work, &["commit", "-q", "-m", "c4"]);
        commits.insert("c4", git(&work, &["rev-parse", "HEAD"]));
        git(&work, &["remote", "add", "origin", "../repo.git"]);
        git(
            &work,
            &[
                "push",
                "-q",
                "origin",
                "master",
                "main",
                "feature/x",
                "--tags",
            ],
        );
        git(
            &work,
            &["push", "-q", "origin", "feature/x:refs/pull/1/head"],
        );
        // Force-push main to a rewritten commit.
        git(&work, &["checkout", "-q", "main"]);
        git(&work, &["commit", "-q", "--amend", "-m", "c3 rewritten"]);
        commits.insert("c3b", git(&work, &["rev-parse", "HEAD"]));
        git(&work, &["push", "-q", "-f", "origin", "main"]);
        Fixture { tmp, commits }
    }
}

/// `git daemon` serving a directory on a free loopback port; killed on drop.
pub(crate) struct Daemon {
    child: Child,
    pub port: u16,
}

impl Daemon {
    pub(crate) fn start(base: &Path) -> Daemon {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("free port");
        let child = Command::new("git")
            .args([
                "daemon",
                "--export-all",
                "--reuseaddr",
                "--listen=127.0.0.1",
                &format!("--port={port}"),
                &format!("--base-path={}", base.display()),
                &base.display().to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn git daemon");
        // Wait until it accepts connections.
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Daemon { child, port }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("git://127.0.0.1:{}/{path}", self.port)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        // SIGTERM, not SIGKILL: the `git` wrapper forwards TERM to the `git-daemon` it spawned,
        // while a killed wrapper would leave that child running.
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        for _ in 0..100 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
