//! Real Git servers on loopback for the GitRepository tests, and a helper to build the
//! repositories they serve with the `git` CLI.
//!
//! * [`TestRepo`]: a working repository in a temp dir (fixed identity, no user or system
//!   config), published as a bare repository `<root>/<name>.git` under a served root; every
//!   [`TestRepo::push`] is visible to the servers at once (they read the bare repository per
//!   request).
//! * [`GitDaemon`]: `git daemon` (`git://`).
//! * [`GitHttp`]: smart HTTP(S) through the real `git http-backend` CGI, behind a small axum
//!   server that checks Basic or Bearer credentials and optionally serves TLS with a throwaway CA,
//!   also as mutual TLS that requires a client certificate from that CA.
//! * [`GitSsh`]: a real `sshd` (Debian's openssh-server) with its own host key, accepting one
//!   public key.
//! * [`SshKeyPair`] and [`GpgKey`]: throwaway keys for SSH auth and for signed commits/tags.
//!
//! Every server listens on 127.0.0.1 only, keeps its log in its own temp dir, is stopped (and
//! reaped) on drop, and prints its log when dropped during a panic.

use std::ffi::OsStr;
use std::fs::File;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::free_port;

/// Identity of every commit and tag made here.
pub const AUTHOR_NAME: &str = "Ferroflux E2E";
/// Email of every commit and tag made here.
pub const AUTHOR_EMAIL: &str = "e2e@ferroflux.invalid";

/// A `git` command isolated from the machine: no global or system config, no prompts, a fixed
/// identity, `main` as the initial branch and `file://` submodules allowed.
pub fn git_command() -> Command {
    let mut cmd = Command::new("git");
    isolate_git(&mut cmd);
    cmd
}

fn isolate_git(cmd: &mut Command) {
    for var in [
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_ASKPASS",
        "SSH_ASKPASS",
        "GIT_SSH",
        "GIT_SSH_COMMAND",
        "GIT_SSL_CAINFO",
        "GIT_SSL_NO_VERIFY",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_AUTHOR_NAME", AUTHOR_NAME)
        .env("GIT_AUTHOR_EMAIL", AUTHOR_EMAIL)
        .env("GIT_COMMITTER_NAME", AUTHOR_NAME)
        .env("GIT_COMMITTER_EMAIL", AUTHOR_EMAIL)
        .env("GIT_CONFIG_COUNT", "3")
        .env("GIT_CONFIG_KEY_0", "init.defaultBranch")
        .env("GIT_CONFIG_VALUE_0", "main")
        .env("GIT_CONFIG_KEY_1", "protocol.file.allow")
        .env("GIT_CONFIG_VALUE_1", "always")
        .env("GIT_CONFIG_KEY_2", "advice.detachedHead")
        .env("GIT_CONFIG_VALUE_2", "false");
}

/// Runs `cmd` with no stdin; returns its stdout (trailing whitespace trimmed) or fails with
/// the command line, status, stdout and stderr.
pub fn run(cmd: &mut Command) -> anyhow::Result<String> {
    let line = describe(cmd);
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {line}"))?;
    if !out.status.success() {
        bail!(
            "`{line}` failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim_end().to_string())
}

fn describe(cmd: &Command) -> String {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(OsStr::to_string_lossy)
        .collect::<Vec<_>>()
        .join(" ")
}

/// `<name>.git` unless `name` already ends with `.git`.
fn bare_name(name: &str) -> String {
    let name = name.trim_matches('/');
    if name.ends_with(".git") {
        name.to_string()
    } else {
        format!("{name}.git")
    }
}

// ------------------------------------------------------------------------------------------
// Repositories
// ------------------------------------------------------------------------------------------

/// A working repository in a temp dir, optionally published to a bare repository under a
/// served root (remote `origin`).
#[derive(Debug)]
pub struct TestRepo {
    pub name: String,
    work: PathBuf,
    bare: Option<PathBuf>,
    _dir: tempfile::TempDir,
}

impl TestRepo {
    /// `git init -b main` in a fresh temp dir.
    pub fn new(name: &str) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let work = dir.path().join("work");
        run(git_command().args(["init", "-q", "-b", "main"]).arg(&work))?;
        Ok(Self {
            name: name.to_string(),
            work,
            bare: None,
            _dir: dir,
        })
    }

    /// The working tree.
    pub fn path(&self) -> &Path {
        &self.work
    }

    /// The bare repository once published.
    pub fn bare_path(&self) -> Option<&Path> {
        self.bare.as_deref()
    }

    /// Runs `git <args>` in the working tree and returns its stdout.
    pub fn git<I, S>(&self, args: I) -> anyhow::Result<String>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        run(git_command().current_dir(&self.work).args(args))
    }

    /// Writes `content` to `path` (relative to the working tree), creating parent directories.
    pub fn write(&self, path: &str, content: impl AsRef<[u8]>) -> anyhow::Result<()> {
        let file = self.work.join(path);
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&file, content).with_context(|| format!("writing {}", file.display()))
    }

    /// Removes a file or directory from the working tree.
    pub fn remove(&self, path: &str) -> anyhow::Result<()> {
        let p = self.work.join(path);
        if p.is_dir() {
            std::fs::remove_dir_all(&p)?;
        } else {
            std::fs::remove_file(&p)?;
        }
        Ok(())
    }

    /// Stages everything and commits (empty commits allowed); returns the new HEAD sha.
    pub fn commit(&self, msg: &str) -> anyhow::Result<String> {
        self.git(["add", "-A"])?;
        self.git(["commit", "-q", "--allow-empty", "-m", msg])?;
        self.head()
    }

    /// Stages everything and amends HEAD with a new message; returns the new HEAD sha.
    pub fn amend(&self, msg: &str) -> anyhow::Result<String> {
        self.git(["add", "-A"])?;
        self.git(["commit", "-q", "--allow-empty", "--amend", "-m", msg])?;
        self.head()
    }

    /// The sha of HEAD.
    pub fn head(&self) -> anyhow::Result<String> {
        self.rev_parse("HEAD")
    }

    /// `git rev-parse <rev>^{commit}`: the commit a branch, tag or sha points at.
    pub fn rev_parse(&self, rev: &str) -> anyhow::Result<String> {
        self.git(["rev-parse", &format!("{rev}^{{commit}}")])
    }

    /// Creates a branch at HEAD without switching to it.
    pub fn branch(&self, name: &str) -> anyhow::Result<()> {
        self.git(["branch", name]).map(drop)
    }

    /// Switches to an existing branch (or detaches at a sha or tag).
    pub fn checkout(&self, rev: &str) -> anyhow::Result<()> {
        self.git(["checkout", "-q", rev]).map(drop)
    }

    /// Creates a branch at HEAD and switches to it.
    pub fn checkout_new(&self, name: &str) -> anyhow::Result<()> {
        self.git(["checkout", "-q", "-b", name]).map(drop)
    }

    /// A lightweight tag at HEAD.
    pub fn tag(&self, name: &str) -> anyhow::Result<()> {
        self.git(["tag", name]).map(drop)
    }

    /// An annotated tag at HEAD.
    pub fn tag_annotated(&self, name: &str, msg: &str) -> anyhow::Result<()> {
        self.git(["tag", "-a", name, "-m", msg]).map(drop)
    }

    /// Deletes a tag locally (the next [`push`](Self::push) deletes it from the bare repository).
    pub fn delete_tag(&self, name: &str) -> anyhow::Result<()> {
        self.git(["tag", "-d", name]).map(drop)
    }

    /// Deletes a branch locally (the next [`push`](Self::push) deletes it remotely).
    pub fn delete_branch(&self, name: &str) -> anyhow::Result<()> {
        self.git(["branch", "-D", name]).map(drop)
    }

    /// `git reset --hard <rev>`: with [`amend`](Self::amend) or [`commit`](Self::commit) and
    /// [`push`](Self::push), rewrites history as a force push does.
    pub fn reset_hard(&self, rev: &str) -> anyhow::Result<()> {
        self.git(["reset", "-q", "--hard", rev]).map(drop)
    }

    /// Rewrites the current branch: resets it to `rev`, commits the working tree as it is then
    /// with `msg`, and force-pushes. Returns the new sha.
    pub fn force_push_rewrite(&self, rev: &str, msg: &str) -> anyhow::Result<String> {
        self.reset_hard(rev)?;
        let sha = self.commit(msg)?;
        self.push()?;
        Ok(sha)
    }

    /// `git submodule add <url> <path>` (staged, not committed). `url` must be reachable by the
    /// `git` CLI here and by whoever clones later, e.g. `daemon.url_for("lib")`.
    pub fn add_submodule(&self, url: &str, path: &str) -> anyhow::Result<()> {
        self.git(["submodule", "add", "-q", url, path]).map(drop)
    }

    /// Commits with an SSH signature by `key` (`gpg.format=ssh`); returns the sha.
    pub fn commit_signed_ssh(&self, msg: &str, key: &SshKeyPair) -> anyhow::Result<String> {
        self.git(["add", "-A"])?;
        let signing = format!("user.signingkey={}", key.private_key.display());
        self.git([
            "-c",
            "gpg.format=ssh",
            "-c",
            &signing,
            "commit",
            "-q",
            "--allow-empty",
            "-S",
            "-m",
            msg,
        ])?;
        self.head()
    }

    /// An annotated tag at HEAD signed with SSH key `key`.
    pub fn tag_signed_ssh(&self, name: &str, msg: &str, key: &SshKeyPair) -> anyhow::Result<()> {
        let signing = format!("user.signingkey={}", key.private_key.display());
        self.git([
            "-c",
            "gpg.format=ssh",
            "-c",
            &signing,
            "tag",
            "-s",
            name,
            "-m",
            msg,
        ])
        .map(drop)
    }

    /// Commits with an OpenPGP signature by `key`; returns the sha.
    pub fn commit_signed_gpg(&self, msg: &str, key: &GpgKey) -> anyhow::Result<String> {
        self.git(["add", "-A"])?;
        run(key
            .git_signing(git_command().current_dir(&self.work))
            .args(["commit", "-q", "--allow-empty", "-S", "-m", msg]))?;
        self.head()
    }

    /// An annotated tag at HEAD with an OpenPGP signature by `key`.
    pub fn tag_signed_gpg(&self, name: &str, msg: &str, key: &GpgKey) -> anyhow::Result<()> {
        run(key
            .git_signing(git_command().current_dir(&self.work))
            .args(["tag", "-s", name, "-m", msg]))
        .map(drop)
    }

    /// Creates the bare repository `<root>/<name>.git` (HEAD → `main`), adds it as `origin`
    /// and pushes every branch and tag. `root` may be a server (`&daemon`, `&http`, `&ssh`) or
    /// any path. Returns the bare repository's path.
    pub fn publish_to(&mut self, root: impl AsRef<Path>) -> anyhow::Result<PathBuf> {
        let bare = root.as_ref().join(bare_name(&self.name));
        run(git_command()
            .args(["init", "-q", "--bare", "-b", "main"])
            .arg(&bare))?;
        if self.bare.is_some() {
            self.git(["remote", "remove", "origin"])?;
        }
        self.git([
            OsStr::new("remote"),
            "add".as_ref(),
            "origin".as_ref(),
            bare.as_os_str(),
        ])?;
        self.bare = Some(bare.clone());
        self.push()?;
        Ok(bare)
    }

    /// Force-pushes every branch and tag to the bare repository and deletes the branches and
    /// tags that no longer exist here.
    pub fn push(&self) -> anyhow::Result<()> {
        if self.bare.is_none() {
            bail!(
                "repository {} is not published (call publish_to first)",
                self.name
            );
        }
        self.git([
            "push",
            "-q",
            "--force",
            "--prune",
            "origin",
            "refs/heads/*:refs/heads/*",
            "refs/tags/*:refs/tags/*",
        ])
        .map(drop)
    }

    /// Points the bare repository's HEAD (the default branch clients get) at `branch`.
    pub fn set_default_branch(&self, branch: &str) -> anyhow::Result<()> {
        let Some(bare) = &self.bare else {
            bail!("repository {} is not published", self.name);
        };
        run(git_command().arg("--git-dir").arg(bare).args([
            "symbolic-ref",
            "HEAD",
            &format!("refs/heads/{branch}"),
        ]))
        .map(drop)
    }
}

// ------------------------------------------------------------------------------------------
// Keys
// ------------------------------------------------------------------------------------------

/// An SSH key pair made by `ssh-keygen` (no passphrase) in its own temp dir.
#[derive(Debug)]
pub struct SshKeyPair {
    /// OpenSSH private key file (mode 0600).
    pub private_key: PathBuf,
    /// `<private_key>.pub`.
    pub public_key: PathBuf,
    _dir: tempfile::TempDir,
}

impl SshKeyPair {
    /// An ed25519 key pair.
    pub fn generate() -> anyhow::Result<Self> {
        Self::generate_type("ed25519")
    }

    /// A key pair of `ssh-keygen -t <kind>` (`ed25519`, `ecdsa`, `rsa`).
    pub fn generate_type(kind: &str) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let private_key = dir.path().join(format!("id_{kind}"));
        run(Command::new("ssh-keygen")
            .args(["-q", "-t", kind, "-N", "", "-C", "ferroflux-e2e", "-f"])
            .arg(&private_key))
        .context("ssh-keygen (install openssh-client: hack/deps.sh)")?;
        let public_key = private_key.with_extension("pub");
        Ok(Self {
            private_key,
            public_key,
            _dir: dir,
        })
    }

    /// The private key file's content (what a Flux `identity` secret key holds).
    pub fn private_pem(&self) -> anyhow::Result<String> {
        Ok(std::fs::read_to_string(&self.private_key)?)
    }

    /// `<type> <base64> <comment>`: one `authorized_keys` / `identity.pub` line.
    pub fn public_line(&self) -> anyhow::Result<String> {
        Ok(std::fs::read_to_string(&self.public_key)?
            .trim()
            .to_string())
    }
}

/// An OpenPGP key in a throwaway `GNUPGHOME` (no passphrase); its agent is stopped on drop.
#[derive(Debug)]
pub struct GpgKey {
    pub fingerprint: String,
    /// `gpg --armor --export`: what a Flux verification secret holds.
    pub public_armored: String,
    home: tempfile::TempDir,
}

impl GpgKey {
    /// `gpg --batch --quick-gen-key "<name> <email>" ed25519 sign never`.
    pub fn generate(name: &str, email: &str) -> anyhow::Result<Self> {
        let home = tempfile::tempdir()?;
        let uid = format!("{name} <{email}>");
        let gpg = |args: &[&str]| {
            run(Command::new("gpg")
                .env("GNUPGHOME", home.path())
                .args(["--batch", "--quiet", "--pinentry-mode", "loopback"])
                .args(args))
        };
        gpg(&[
            "--passphrase",
            "",
            "--quick-gen-key",
            &uid,
            "ed25519",
            "sign",
            "never",
        ])
        .context("gpg --quick-gen-key (install gnupg: hack/deps.sh)")?;
        let listing = gpg(&["--with-colons", "--list-secret-keys", &uid])?;
        let fingerprint = listing
            .lines()
            .find_map(|l| l.strip_prefix("fpr:"))
            .and_then(|rest| rest.split(':').find(|f| !f.is_empty()))
            .map(str::to_string)
            .context("no fingerprint in gpg --list-secret-keys")?;
        let public_armored = gpg(&["--armor", "--export", &fingerprint])?;
        Ok(Self {
            fingerprint,
            public_armored,
            home,
        })
    }

    /// The throwaway `GNUPGHOME`.
    pub fn home(&self) -> &Path {
        self.home.path()
    }

    /// `gpg --armor --export-secret-keys`.
    pub fn private_armored(&self) -> anyhow::Result<String> {
        run(Command::new("gpg")
            .env("GNUPGHOME", self.home.path())
            .args(["--batch", "--quiet", "--pinentry-mode", "loopback"])
            .args(["--passphrase", "", "--armor", "--export-secret-keys"])
            .arg(&self.fingerprint))
    }

    fn git_signing<'a>(&self, cmd: &'a mut Command) -> &'a mut Command {
        cmd.env("GNUPGHOME", self.home.path())
            .arg("-c")
            .arg("gpg.format=openpgp")
            .arg("-c")
            .arg(format!("user.signingkey={}", self.fingerprint))
    }
}

impl Drop for GpgKey {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .env("GNUPGHOME", self.home.path())
            .args(["--kill", "all"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

// ------------------------------------------------------------------------------------------
// Child-process servers
// ------------------------------------------------------------------------------------------

/// A server child process with its log in its own temp dir.
#[derive(Debug)]
struct ServerProcess {
    what: &'static str,
    child: Option<Child>,
    log: PathBuf,
}

impl ServerProcess {
    /// Starts `cmd` with stdout and stderr appended to `<dir>/<what>.log`.
    fn spawn(what: &'static str, dir: &Path, cmd: &mut Command) -> anyhow::Result<Self> {
        let log = dir.join(format!("{what}.log"));
        let file = File::options().create(true).append(true).open(&log)?;
        let child = cmd
            .stdin(Stdio::null())
            .stdout(file.try_clone()?)
            .stderr(file)
            .spawn()
            .with_context(|| format!("starting {what}: {}", describe(cmd)))?;
        Ok(Self {
            what,
            child: Some(child),
            log,
        })
    }

    fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until `port` accepts a connection (and `check` accepts it), failing early with the
    /// log if the process exits.
    fn wait_ready(
        &mut self,
        port: u16,
        check: impl Fn(&mut TcpStream) -> bool,
    ) -> anyhow::Result<()> {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                bail!(
                    "{} exited ({status}) before listening:\n{}",
                    self.what,
                    self.logs()
                );
            }
            if let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(200))
                && check(&mut s)
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!(
                    "{} did not listen on {addr} within 15s:\n{}",
                    self.what,
                    self.logs()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.stop();
        if std::thread::panicking() {
            eprintln!(
                "----- {} log ({}) -----\n{}\n----- end of {} log -----",
                self.what,
                self.log.display(),
                self.logs(),
                self.what
            );
        }
    }
}

/// Runs `start` on a free port, retrying on a fresh port when it fails (another process may
/// take the port between [`free_port`] and the server binding it).
fn with_free_port<T>(mut start: impl FnMut(u16) -> anyhow::Result<T>) -> anyhow::Result<(u16, T)> {
    let mut attempt = 0;
    loop {
        let port = free_port()?;
        match start(port) {
            Ok(v) => return Ok((port, v)),
            Err(e) if attempt >= 2 => return Err(e),
            Err(_) => attempt += 1,
        }
    }
}

/// `git daemon` serving every repository under a root over `git://`.
#[derive(Debug)]
pub struct GitDaemon {
    pub port: u16,
    root: PathBuf,
    // Dropped (stopped, log printed) before its directory.
    proc: ServerProcess,
    _dir: tempfile::TempDir,
}

impl GitDaemon {
    /// Starts `git daemon --export-all --base-path=<root>` on a free loopback port and waits
    /// until it accepts connections.
    pub fn start(root: impl AsRef<Path>) -> anyhow::Result<Self> {
        let root = std::path::absolute(root.as_ref())?;
        std::fs::create_dir_all(&root)?;
        let dir = tempfile::tempdir()?;
        let (port, proc) = with_free_port(|port| {
            let mut cmd = git_command();
            cmd.arg("daemon")
                .args([
                    "--export-all",
                    "--reuseaddr",
                    "--informative-errors",
                    "--verbose",
                    "--listen=127.0.0.1",
                ])
                .arg(format!("--port={port}"))
                .arg(format!("--base-path={}", root.display()))
                .arg(&root);
            let mut proc = ServerProcess::spawn("git-daemon", dir.path(), &mut cmd)?;
            proc.wait_ready(port, |_| true)?;
            Ok(proc)
        })?;
        Ok(Self {
            port,
            root,
            proc,
            _dir: dir,
        })
    }

    /// `git://127.0.0.1:<port>/<repo>.git`.
    pub fn url_for(&self, repo: &str) -> String {
        format!("git://127.0.0.1:{}/{}", self.port, bare_name(repo))
    }

    /// The served root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The daemon's log so far.
    pub fn logs(&self) -> String {
        self.proc.logs()
    }
}

impl AsRef<Path> for GitDaemon {
    fn as_ref(&self) -> &Path {
        &self.root
    }
}

/// A real `sshd` serving the repositories under a root to one public key, as the current user
/// (root on this project's machines).
#[derive(Debug)]
pub struct GitSsh {
    pub port: u16,
    /// The login user (the user running the tests).
    pub user: String,
    root: PathBuf,
    host_key: String,
    wrong_host_key: String,
    // Dropped (stopped, log printed) before its directory.
    proc: ServerProcess,
    _dir: tempfile::TempDir,
}

impl GitSsh {
    /// Starts `/usr/sbin/sshd -D -e` with its own ed25519 host key, accepting only
    /// `authorized_public_key` (an `authorized_keys` line, e.g. [`SshKeyPair::public_line`]).
    pub fn start(root: impl AsRef<Path>, authorized_public_key: &str) -> anyhow::Result<Self> {
        let sshd = Path::new("/usr/sbin/sshd");
        if !sshd.exists() {
            bail!("/usr/sbin/sshd missing (install openssh-server: hack/deps.sh)");
        }
        let root = std::fs::canonicalize(root.as_ref())
            .with_context(|| format!("served root {}", root.as_ref().display()))?;
        let user = run(Command::new("id").arg("-un"))?;
        let dir = tempfile::tempdir()?;
        let d = dir.path();
        let host_key = d.join("ssh_host_ed25519_key");
        let wrong_key = d.join("wrong_host_ed25519_key");
        for key in [&host_key, &wrong_key] {
            run(Command::new("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-C", "", "-f"])
                .arg(key))?;
        }
        let authorized = d.join("authorized_keys");
        std::fs::write(&authorized, format!("{}\n", authorized_public_key.trim()))?;
        // sshd refuses to start without its privilege separation directory (the package's
        // service unit would create it).
        let _ = std::fs::create_dir_all("/run/sshd");
        let config = d.join("sshd_config");
        let (port, proc) = with_free_port(|port| {
            std::fs::write(
                &config,
                format!(
                    "ListenAddress 127.0.0.1\n\
                 Port {port}\n\
                 HostKey {host}\n\
                 AuthorizedKeysFile {authorized}\n\
                 AuthenticationMethods publickey\n\
                 PubkeyAuthentication yes\n\
                 PasswordAuthentication no\n\
                 KbdInteractiveAuthentication no\n\
                 PermitRootLogin prohibit-password\n\
                 AllowUsers {user}\n\
                 StrictModes no\n\
                 UsePAM no\n\
                 PidFile none\n\
                 PrintMotd no\n\
                 PrintLastLog no\n\
                 X11Forwarding no\n\
                 AllowTcpForwarding no\n\
                 AcceptEnv GIT_PROTOCOL\n\
                 LogLevel VERBOSE\n",
                    host = host_key.display(),
                    authorized = authorized.display(),
                ),
            )?;
            let mut cmd = Command::new(sshd);
            cmd.args(["-D", "-e", "-f"]).arg(&config);
            let mut proc = ServerProcess::spawn("sshd", d, &mut cmd)?;
            proc.wait_ready(port, |s| {
                let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
                let mut buf = [0u8; 8];
                s.read_exact(&mut buf).is_ok() && &buf == b"SSH-2.0-"
            })?;
            Ok(proc)
        })?;
        let line = |pub_file: PathBuf| -> anyhow::Result<String> {
            let text = std::fs::read_to_string(pub_file)?;
            let key: Vec<&str> = text.split_whitespace().take(2).collect();
            Ok(format!("[127.0.0.1]:{port} {}", key.join(" ")))
        };
        Ok(Self {
            port,
            user,
            root,
            host_key: line(host_key.with_extension("pub"))?,
            wrong_host_key: line(wrong_key.with_extension("pub"))?,
            proc,
            _dir: dir,
        })
    }

    /// `ssh://<user>@127.0.0.1:<port><root>/<repo>.git`.
    pub fn url_for(&self, repo: &str) -> String {
        format!(
            "ssh://{}@127.0.0.1:{}{}/{}",
            self.user,
            self.port,
            self.root.display(),
            bare_name(repo)
        )
    }

    /// `[127.0.0.1]:<port> ssh-ed25519 <key>`: a known_hosts line for this server.
    pub fn host_key_known_hosts_line(&self) -> String {
        self.host_key.clone()
    }

    /// A known_hosts line for this host and port with a different key (host key mismatch).
    pub fn wrong_known_hosts_line(&self) -> String {
        self.wrong_host_key.clone()
    }

    /// A `GIT_SSH_COMMAND` for the `git` CLI: only `identity`, only `known_hosts`, strict host
    /// key checking, no prompts, no user ssh config.
    pub fn ssh_command(identity: &Path, known_hosts: &Path) -> String {
        format!(
            "ssh -F /dev/null -i {} -o IdentitiesOnly=yes -o UserKnownHostsFile={} \
             -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -o BatchMode=yes \
             -o ConnectTimeout=10",
            identity.display(),
            known_hosts.display()
        )
    }

    /// The served root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// sshd's log so far.
    pub fn logs(&self) -> String {
        self.proc.logs()
    }
}

impl AsRef<Path> for GitSsh {
    fn as_ref(&self) -> &Path {
        &self.root
    }
}

// ------------------------------------------------------------------------------------------
// Smart HTTP
// ------------------------------------------------------------------------------------------

/// What [`GitHttp`] asks of clients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpAuth {
    None,
    Basic { user: String, pass: String },
    Bearer(String),
}

impl HttpAuth {
    /// `HttpAuth::Basic` from string slices.
    pub fn basic(user: &str, pass: &str) -> Self {
        HttpAuth::Basic {
            user: user.to_string(),
            pass: pass.to_string(),
        }
    }
}

/// Smart HTTP(S) through `git http-backend`, in the test process on its own thread and runtime
/// (so it works from sync and async tests alike).
#[derive(Debug)]
pub struct GitHttp {
    pub port: u16,
    root: PathBuf,
    tls: Option<TlsFiles>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    log: PathBuf,
    dir: tempfile::TempDir,
}

/// The throwaway CA and server certificate of an HTTPS [`GitHttp`], and for mutual TLS the
/// client certificates: one from that CA and one from a stranger CA the server does not trust.
#[derive(Debug, Clone)]
struct TlsFiles {
    ca_pem: String,
    ca_path: PathBuf,
    client: Option<ClientIdentity>,
    stranger: Option<ClientIdentity>,
}

/// A PEM client certificate and its private key.
#[derive(Debug, Clone)]
pub struct ClientIdentity {
    pub cert_pem: String,
    pub key_pem: String,
    pub cert_path: PathBuf,
    pub key_path: PathBuf,
}

/// How a [`GitHttp`] uses TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// Plain HTTP.
    Off,
    /// HTTPS with a certificate from a throwaway CA.
    Server,
    /// HTTPS that also requires and verifies a client certificate issued by that CA.
    Mutual,
}

struct HttpState {
    root: PathBuf,
    auth: HttpAuth,
    log: Mutex<File>,
}

impl HttpState {
    fn log(&self, line: &str) {
        if let Ok(mut f) = self.log.lock() {
            let _ = writeln!(f, "{line}");
        }
    }

    /// `Some(REMOTE_USER)` when authorised.
    fn authorize(&self, headers: &axum::http::HeaderMap) -> Option<Option<String>> {
        use base64::Engine as _;
        let given = headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::trim);
        let split = |h: &str| -> Option<(String, String)> {
            let (scheme, rest) = h.split_once(' ')?;
            Some((scheme.to_ascii_lowercase(), rest.trim().to_string()))
        };
        match &self.auth {
            HttpAuth::None => Some(None),
            HttpAuth::Basic { user, pass } => {
                let (scheme, value) = split(given?)?;
                let decoded = base64::engine::general_purpose::STANDARD
                    .decode(value)
                    .ok()?;
                (scheme == "basic" && decoded == format!("{user}:{pass}").as_bytes())
                    .then(|| Some(user.clone()))
            }
            HttpAuth::Bearer(token) => {
                let (scheme, value) = split(given?)?;
                (scheme == "bearer" && &value == token).then(|| Some("bearer".to_string()))
            }
        }
    }
}

impl GitHttp {
    /// Starts the server on a free loopback port. With `tls`, serves HTTPS with a certificate
    /// for `127.0.0.1`/`localhost` signed by a throwaway CA ([`ca_pem`](Self::ca_pem)).
    pub fn start(root: impl AsRef<Path>, auth: HttpAuth, tls: bool) -> anyhow::Result<Self> {
        let mode = if tls { TlsMode::Server } else { TlsMode::Off };
        Self::start_with(root, auth, mode)
    }

    /// Like [`start`](Self::start) with the TLS mode spelled out; [`TlsMode::Mutual`] refuses
    /// handshakes without a client certificate from [`client`](Self::client)'s CA.
    pub fn start_with(
        root: impl AsRef<Path>,
        auth: HttpAuth,
        tls: TlsMode,
    ) -> anyhow::Result<Self> {
        let root = std::path::absolute(root.as_ref())?;
        std::fs::create_dir_all(&root)?;
        let dir = tempfile::tempdir()?;
        let log = dir.path().join("git-http.log");
        let state = Arc::new(HttpState {
            root: root.clone(),
            auth,
            log: Mutex::new(File::create(&log)?),
        });
        let (tls_files, acceptor) = if tls == TlsMode::Off {
            (None, None)
        } else {
            let (files, acceptor) = make_tls(dir.path(), tls == TlsMode::Mutual)?;
            (Some(files), Some(acceptor))
        };
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<anyhow::Result<u16>>();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("git-http".into())
            .spawn(move || serve_http(state, acceptor, ready_tx, stop_rx))?;
        let port = match ready_rx.recv_timeout(Duration::from_secs(15)) {
            Ok(Ok(port)) => port,
            Ok(Err(e)) => return Err(e),
            Err(_) => bail!("git http server did not start"),
        };
        Ok(Self {
            port,
            root,
            tls: tls_files,
            stop: Some(stop_tx),
            thread: Some(thread),
            log,
            dir,
        })
    }

    /// `http(s)://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    /// `http(s)://127.0.0.1:<port>/<repo>.git`.
    pub fn url_for(&self, repo: &str) -> String {
        format!("{}/{}", self.base_url(), bare_name(repo))
    }

    /// The URL with `user:pass@` in it (for the `git` CLI with Basic auth).
    pub fn url_with_credentials(&self, repo: &str, user: &str, pass: &str) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!(
            "{scheme}://{user}:{pass}@127.0.0.1:{}/{}",
            self.port,
            bare_name(repo)
        )
    }

    /// The CA certificate (PEM) that signed the server certificate, for HTTPS servers.
    pub fn ca_pem(&self) -> Option<&str> {
        self.tls.as_ref().map(|t| t.ca_pem.as_str())
    }

    /// For [`TlsMode::Mutual`]: a client certificate the server accepts.
    pub fn client(&self) -> Option<&ClientIdentity> {
        self.tls.as_ref().and_then(|t| t.client.as_ref())
    }

    /// For [`TlsMode::Mutual`]: a well-formed client certificate from another CA, which the
    /// server refuses.
    pub fn stranger(&self) -> Option<&ClientIdentity> {
        self.tls.as_ref().and_then(|t| t.stranger.as_ref())
    }

    /// The CA certificate file, for `GIT_SSL_CAINFO` / `http.sslCAInfo`.
    pub fn ca_path(&self) -> Option<&Path> {
        self.tls.as_ref().map(|t| t.ca_path.as_path())
    }

    /// The served root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// One line per request (and `git http-backend` stderr, TLS handshake failures).
    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl AsRef<Path> for GitHttp {
    fn as_ref(&self) -> &Path {
        &self.root
    }
}

impl Drop for GitHttp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        if std::thread::panicking() {
            eprintln!(
                "----- git-http log ({}) -----\n{}\n----- end of git-http log -----",
                self.dir.path().display(),
                self.logs()
            );
        }
    }
}

fn serve_http(
    state: Arc<HttpState>,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    ready: std::sync::mpsc::Sender<anyhow::Result<u16>>,
    stop: tokio::sync::oneshot::Receiver<()>,
) {
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let _ = ready.send(Err(e.into()));
            return;
        }
    };
    rt.block_on(async move {
        let tcp = match tokio::net::TcpListener::bind("127.0.0.1:0").await {
            Ok(l) => l,
            Err(e) => {
                let _ = ready.send(Err(e.into()));
                return;
            }
        };
        let port = match tcp.local_addr() {
            Ok(a) => a.port(),
            Err(e) => {
                let _ = ready.send(Err(e.into()));
                return;
            }
        };
        let app = axum::Router::new()
            .fallback(handle_git)
            .with_state(state.clone());
        let _ = ready.send(Ok(port));
        let result = match acceptor {
            Some(acceptor) => {
                let listener = TlsListener {
                    tcp,
                    acceptor,
                    state: state.clone(),
                };
                tokio::select! {
                    r = axum::serve(listener, app) => r,
                    _ = stop => Ok(()),
                }
            }
            None => tokio::select! {
                r = axum::serve(tcp, app) => r,
                _ = stop => Ok(()),
            },
        };
        if let Err(e) = result {
            state.log(&format!("server error: {e}"));
        }
    });
    rt.shutdown_timeout(Duration::from_secs(2));
}

async fn handle_git(
    axum::extract::State(state): axum::extract::State<Arc<HttpState>>,
    req: axum::extract::Request,
) -> axum::response::Response {
    use axum::http::{StatusCode, header};
    use axum::response::IntoResponse;

    let (parts, body) = req.into_parts();
    let mut what = format!("{} {}", parts.method, parts.uri);
    if let Some(enc) = parts.headers.get(header::CONTENT_ENCODING) {
        what.push_str(&format!(
            " (Content-Encoding: {})",
            enc.to_str().unwrap_or("?")
        ));
    }
    let Some(remote_user) = state.authorize(&parts.headers) else {
        state.log(&format!("{what} -> 401"));
        let challenge = match state.auth {
            HttpAuth::Bearer(_) => "Bearer realm=\"git\"",
            _ => "Basic realm=\"git\"",
        };
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, challenge)],
            "authentication required\n",
        )
            .into_response();
    };
    match cgi(&state, parts, body, remote_user).await {
        Ok(resp) => {
            state.log(&format!("{what} -> {}", resp.status().as_u16()));
            resp
        }
        Err(e) => {
            state.log(&format!("{what} -> 500: {e:#}"));
            (StatusCode::INTERNAL_SERVER_ERROR, format!("{e:#}\n")).into_response()
        }
    }
}

/// Runs `git http-backend` as a CGI script for one request.
async fn cgi(
    state: &HttpState,
    parts: axum::http::request::Parts,
    body: axum::body::Body,
    remote_user: Option<String>,
) -> anyhow::Result<axum::response::Response> {
    use axum::http::{HeaderName, HeaderValue, StatusCode, header};
    use tokio::io::AsyncWriteExt as _;

    let body = axum::body::to_bytes(body, 512 << 20).await?;
    let mut cmd = tokio::process::Command::new("git");
    cmd.arg("http-backend")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_PROJECT_ROOT", &state.root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("GATEWAY_INTERFACE", "CGI/1.1")
        .env("SERVER_PROTOCOL", "HTTP/1.1")
        .env("REMOTE_ADDR", "127.0.0.1")
        .env("REQUEST_METHOD", parts.method.as_str())
        .env("PATH_INFO", parts.uri.path())
        .env("QUERY_STRING", parts.uri.query().unwrap_or(""))
        .env("CONTENT_LENGTH", body.len().to_string());
    if let Some(ct) = parts.headers.get(header::CONTENT_TYPE)
        && let Ok(ct) = ct.to_str()
    {
        cmd.env("CONTENT_TYPE", ct);
    }
    if let Some(user) = &remote_user {
        cmd.env("REMOTE_USER", user);
    }
    // Every other header as HTTP_<NAME>: Git-Protocol (v2), Content-Encoding (gzip bodies).
    for (name, value) in &parts.headers {
        if name == header::AUTHORIZATION
            || name == header::CONTENT_TYPE
            || name == header::CONTENT_LENGTH
        {
            continue;
        }
        if let Ok(v) = value.to_str() {
            let var = format!(
                "HTTP_{}",
                name.as_str().to_ascii_uppercase().replace('-', "_")
            );
            cmd.env(var, v);
        }
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .context("starting git http-backend")?;
    let stdin = child.stdin.take();
    let write = async move {
        if let Some(mut stdin) = stdin {
            // The backend may answer without reading everything (errors): ignore broken pipes.
            let _ = stdin.write_all(&body).await;
            let _ = stdin.shutdown().await;
        }
    };
    let ((), out) = tokio::join!(write, child.wait_with_output());
    let out = out.context("waiting for git http-backend")?;
    if !out.stderr.is_empty() {
        state.log(&format!(
            "  http-backend stderr: {}",
            String::from_utf8_lossy(&out.stderr).trim_end()
        ));
    }
    let stdout = out.stdout;
    let (head, rest) = split_cgi(&stdout).with_context(|| {
        format!(
            "git http-backend ({}) wrote no CGI header: {}",
            out.status,
            String::from_utf8_lossy(&stdout[..stdout.len().min(400)])
        )
    })?;
    let mut resp = axum::response::Response::builder().status(StatusCode::OK);
    for line in String::from_utf8_lossy(head).lines() {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("status") {
            let code = value.split_whitespace().next().unwrap_or("500");
            resp = resp.status(StatusCode::from_bytes(code.as_bytes())?);
        } else if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.trim().as_bytes()),
            HeaderValue::from_str(value),
        ) {
            resp = resp.header(n, v);
        }
    }
    Ok(resp.body(axum::body::Body::from(rest.to_vec()))?)
}

/// Splits CGI output at the blank line ending its headers (`\r\n\r\n` or `\n\n`).
fn split_cgi(out: &[u8]) -> Option<(&[u8], &[u8])> {
    let crlf = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i, 4));
    let lf = out.windows(2).position(|w| w == b"\n\n").map(|i| (i, 2));
    let (i, n) = match (crlf, lf) {
        (Some(a), Some(b)) => {
            if a.0 <= b.0 {
                a
            } else {
                b
            }
        }
        (a, b) => a.or(b)?,
    };
    Some((&out[..i], &out[i + n..]))
}

/// TCP + TLS handshake, for `axum::serve`.
struct TlsListener {
    tcp: tokio::net::TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
    state: Arc<HttpState>,
}

impl axum::serve::Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<tokio::net::TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let (tcp, addr) = match self.tcp.accept().await {
                Ok(x) => x,
                Err(e) => {
                    self.state.log(&format!("accept: {e}"));
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            };
            match tokio::time::timeout(Duration::from_secs(10), self.acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => return (tls, addr),
                Ok(Err(e)) => self.state.log(&format!("TLS handshake from {addr}: {e}")),
                Err(_) => self
                    .state
                    .log(&format!("TLS handshake from {addr}: timed out")),
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

/// A throwaway CA and a server certificate for 127.0.0.1/localhost, made with `openssl`; with
/// `mutual`, also client certificates and a server that requires one from that CA.
fn make_tls(dir: &Path, mutual: bool) -> anyhow::Result<(TlsFiles, tokio_rustls::TlsAcceptor)> {
    use rustls::pki_types::pem::PemObject as _;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};

    let openssl = |args: &[&str]| {
        run(Command::new("openssl").current_dir(dir).args(args))
            .context("openssl (install openssl: hack/deps.sh)")
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    openssl(
        &[
            &["req", "-x509"][..],
            &ec,
            &[
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-days",
                "2",
                "-subj",
                "/CN=ferroflux-e2e-ca",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
        ]
        .concat(),
    )?;
    openssl(
        &[
            &["req"][..],
            &ec,
            &[
                "-keyout",
                "server.key",
                "-out",
                "server.csr",
                "-subj",
                "/CN=127.0.0.1",
            ],
        ]
        .concat(),
    )?;
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n\
         basicConstraints=CA:FALSE\n\
         keyUsage=critical,digitalSignature\n\
         extendedKeyUsage=serverAuth\n",
    )?;
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "server.ext",
    ])?;
    let certs = CertificateDer::pem_file_iter(dir.join("server.pem"))?
        .collect::<Result<Vec<_>, _>>()
        .context("reading server.pem")?;
    let key = PrivateKeyDer::from_pem_file(dir.join("server.key")).context("reading server.key")?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?;
    let (client, stranger, builder) = if mutual {
        // A second CA that the server does not know issues the stranger's certificate.
        openssl(
            &[
                &["req", "-x509"][..],
                &ec,
                &[
                    "-keyout",
                    "stranger-ca.key",
                    "-out",
                    "stranger-ca.pem",
                    "-days",
                    "2",
                    "-subj",
                    "/CN=ferroflux-e2e-stranger-ca",
                    "-addext",
                    "basicConstraints=critical,CA:TRUE",
                    "-addext",
                    "keyUsage=critical,keyCertSign,cRLSign",
                ],
            ]
            .concat(),
        )?;
        let client = client_cert(dir, &openssl, &ec, "client", "ca")?;
        let stranger = client_cert(dir, &openssl, &ec, "stranger", "stranger-ca")?;
        let mut roots = rustls::RootCertStore::empty();
        for ca in CertificateDer::pem_file_iter(dir.join("ca.pem"))? {
            roots.add(ca?)?;
        }
        let verifier =
            rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()?;
        (
            Some(client),
            Some(stranger),
            builder.with_client_cert_verifier(verifier),
        )
    } else {
        (None, None, builder.with_no_client_auth())
    };
    let mut config = builder.with_single_cert(certs, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let ca_path = dir.join("ca.pem");
    let files = TlsFiles {
        ca_pem: std::fs::read_to_string(&ca_path)?,
        ca_path,
        client,
        stranger,
    };
    Ok((files, tokio_rustls::TlsAcceptor::from(Arc::new(config))))
}

/// A client certificate `<name>.pem`/`<name>.key` issued by `<ca>.pem`.
fn client_cert(
    dir: &Path,
    openssl: &dyn Fn(&[&str]) -> anyhow::Result<String>,
    ec: &[&str],
    name: &str,
    ca: &str,
) -> anyhow::Result<ClientIdentity> {
    let (key, csr, pem, ext) = (
        format!("{name}.key"),
        format!("{name}.csr"),
        format!("{name}.pem"),
        format!("{name}.ext"),
    );
    let subject = format!("/CN=ferroflux-e2e-{name}");
    openssl(
        &[
            &["req"][..],
            ec,
            &["-keyout", &key, "-out", &csr, "-subj", &subject],
        ]
        .concat(),
    )?;
    std::fs::write(
        dir.join(&ext),
        "basicConstraints=CA:FALSE\n\
         keyUsage=critical,digitalSignature\n\
         extendedKeyUsage=clientAuth\n",
    )?;
    openssl(&[
        "x509",
        "-req",
        "-in",
        &csr,
        "-CA",
        &format!("{ca}.pem"),
        "-CAkey",
        &format!("{ca}.key"),
        "-CAcreateserial",
        "-out",
        &pem,
        "-days",
        "2",
        "-extfile",
        &ext,
    ])?;
    let (cert_path, key_path) = (dir.join(&pem), dir.join(&key));
    Ok(ClientIdentity {
        cert_pem: std::fs::read_to_string(&cert_path)?,
        key_pem: std::fs::read_to_string(&key_path)?,
        cert_path,
        key_path,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_cgi_output() {
        let out = b"Status: 404 Not Found\r\nContent-Type: text/plain\r\n\r\nbody\n\nmore";
        let (head, rest) = split_cgi(out).unwrap();
        assert_eq!(head, b"Status: 404 Not Found\r\nContent-Type: text/plain");
        assert_eq!(rest, b"body\n\nmore");
        let (head, rest) = split_cgi(b"Content-Type: x\n\nbody").unwrap();
        assert_eq!(head, b"Content-Type: x");
        assert_eq!(rest, b"body");
        assert!(split_cgi(b"no header end").is_none());
    }

    #[test]
    fn bare_names() {
        assert_eq!(bare_name("app"), "app.git");
        assert_eq!(bare_name("app.git"), "app.git");
        assert_eq!(bare_name("/org/app"), "org/app.git");
    }
}
