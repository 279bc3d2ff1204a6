//! Controller binaries as child processes of a test.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::Context;

use crate::bin_dir;

/// A free TCP port on loopback (bound and released; good enough for tests on one machine).
pub fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A running controller. Dropping it stops it; when the test is panicking its log is printed.
#[derive(Debug)]
pub struct ControllerProcess {
    pub name: String,
    pub metrics_port: u16,
    pub health_port: u16,
    /// source-controller only: the artifact server's port (`--storage-addr`).
    pub storage_port: u16,
    child: Option<Child>,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl ControllerProcess {
    /// Starts `<bin_dir>/<name>` against `kubeconfig` on free metrics/health ports, watching
    /// only `namespace` (also its `RUNTIME_NAMESPACE`), with extra flags appended.
    pub fn start(
        name: &str,
        kubeconfig: &Path,
        namespace: &str,
        extra: &[String],
    ) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let log = dir.path().join(format!("{name}.log"));
        let (metrics_port, health_port) = (free_port()?, free_port()?);
        let file = std::fs::File::create(&log)?;
        // Each test's controllers see only the test's namespace, so parallel tests never
        // reconcile each other's objects.
        let mut args = vec![
            "--watch-all-namespaces=false".to_string(),
            format!("--metrics-addr=127.0.0.1:{metrics_port}"),
            format!("--health-addr=127.0.0.1:{health_port}"),
            "--log-encoding=console".to_string(),
            "--log-level=debug".to_string(),
        ];
        // source-controller gets private artifact storage and server port, never the
        // machine's `/data` or a shared :9090.
        let storage_port = free_port()?;
        if name == "source-controller" {
            args.extend([
                format!("--storage-path={}", dir.path().join("storage").display()),
                format!("--storage-addr=127.0.0.1:{storage_port}"),
                format!("--storage-adv-addr=127.0.0.1:{storage_port}"),
            ]);
        }
        args.extend(extra.iter().cloned());
        let bin = bin_dir().join(name);
        let child = Command::new(&bin)
            .args(&args)
            .env("KUBECONFIG", kubeconfig)
            .env("RUNTIME_NAMESPACE", namespace)
            .env("HOSTNAME", format!("{name}-{health_port}"))
            .stdin(Stdio::null())
            .stdout(file.try_clone()?)
            .stderr(file)
            .spawn()
            .with_context(|| format!("starting {} (run `make build` first)", bin.display()))?;
        Ok(Self {
            name: name.to_string(),
            metrics_port,
            health_port,
            storage_port,
            child: Some(child),
            log,
            _dir: dir,
        })
    }

    /// source-controller only: its `--storage-path`.
    pub fn storage_path(&self) -> PathBuf {
        self._dir.path().join("storage")
    }

    /// The process's output so far.
    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `Some(exit status)` once the process has ended.
    pub fn try_wait(&mut self) -> Option<std::process::ExitStatus> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
    }

    /// Waits up to `timeout` for the process to end on its own.
    pub async fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let deadline = std::time::Instant::now() + timeout;
        while std::time::Instant::now() < deadline {
            if let Some(status) = self.try_wait() {
                return Some(status);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        None
    }

    /// Sends a signal (`TERM`, `KILL`) to the process.
    pub fn signal(&self, sig: &str) {
        if let Some(c) = &self.child {
            let _ = Command::new("kill")
                .arg(format!("-{sig}"))
                .arg(c.id().to_string())
                .stderr(Stdio::null())
                .status();
        }
    }

    /// Stops the process: SIGTERM, then SIGKILL after `grace`. Returns its exit status.
    pub fn stop(&mut self, grace: Duration) -> Option<std::process::ExitStatus> {
        let mut child = self.child.take()?;
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .stderr(Stdio::null())
            .status();
        let deadline = std::time::Instant::now() + grace;
        while std::time::Instant::now() < deadline {
            if let Ok(Some(status)) = child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        child.wait().ok()
    }

    /// `http://127.0.0.1:<port>` of the health server.
    pub fn health_url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.health_port)
    }

    /// `http://127.0.0.1:<port>/metrics`.
    pub fn metrics_url(&self) -> String {
        format!("http://127.0.0.1:{}/metrics", self.metrics_port)
    }
}

impl Drop for ControllerProcess {
    fn drop(&mut self) {
        self.stop(Duration::from_secs(5));
        if std::thread::panicking() {
            eprintln!(
                "----- {} log -----\n{}\n----- end of {} log -----",
                self.name,
                self.logs(),
                self.name
            );
        }
    }
}
