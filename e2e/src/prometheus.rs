//! A real Prometheus server (Debian's package) on loopback, scraping the given targets.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::Value;

use crate::{free_port, wait_for};

/// A Prometheus process with its own data directory, stopped on drop.
#[derive(Debug)]
pub struct Prometheus {
    pub port: u16,
    child: Child,
    _dir: tempfile::TempDir,
    log: PathBuf,
}

impl Prometheus {
    /// Starts Prometheus scraping `targets` (`host:port`) every second.
    pub fn start(targets: &[String]) -> anyhow::Result<Self> {
        let bin = which_prometheus()?;
        let dir = tempfile::tempdir()?;
        let port = free_port()?;
        let list = targets
            .iter()
            .map(|t| format!("'{t}'"))
            .collect::<Vec<_>>()
            .join(", ");
        let config = format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: ferroflux\n    static_configs:\n      - targets: [{list}]\n"
        );
        let cfg = dir.path().join("prometheus.yml");
        std::fs::write(&cfg, config)?;
        let log = dir.path().join("prometheus.log");
        let file = std::fs::File::create(&log)?;
        let child = Command::new(bin)
            .arg(format!("--config.file={}", cfg.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(file.try_clone()?)
            .stderr(file)
            .spawn()
            .context("starting prometheus")?;
        Ok(Self {
            port,
            child,
            _dir: dir,
            log,
        })
    }

    /// Runs an instant query and returns the `data.result` array.
    pub async fn query(&self, q: &str) -> anyhow::Result<Vec<Value>> {
        let url = format!("http://127.0.0.1:{}/api/v1/query", self.port);
        let body: Value = reqwest::Client::new()
            .get(url)
            .query(&[("query", q)])
            .send()
            .await?
            .json()
            .await?;
        if body["status"] != "success" {
            bail!("query {q} failed: {body}");
        }
        Ok(body["data"]["result"]
            .as_array()
            .cloned()
            .unwrap_or_default())
    }

    /// Waits until `q` returns at least `n` series.
    pub async fn wait_for_series(
        &self,
        q: &str,
        n: usize,
        timeout: Duration,
    ) -> anyhow::Result<Vec<Value>> {
        wait_for(timeout, || async {
            self.query(q).await.ok().filter(|r| r.len() >= n)
        })
        .await
        .with_context(|| {
            format!(
                "waiting for {n} series of {q}; prometheus log:\n{}",
                std::fs::read_to_string(&self.log).unwrap_or_default()
            )
        })
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn which_prometheus() -> anyhow::Result<PathBuf> {
    for p in ["/usr/bin/prometheus", "/usr/local/bin/prometheus"] {
        if std::path::Path::new(p).exists() {
            return Ok(p.into());
        }
    }
    bail!("prometheus not installed (hack/deps.sh installs Debian's package)")
}
