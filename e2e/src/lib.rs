//! The e2e harness: a real control plane from `hack/cluster.sh` (started once, or reused when
//! already running), Flux's CRDs as we generate them, a namespace per test, and the controller
//! binaries as child processes whose logs are printed when a test fails.
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

pub mod gitserver;
pub mod process;
pub mod prometheus;
pub mod proxy;

pub use process::{ControllerProcess, free_port};

/// The repository root (this crate lives in `<root>/e2e`).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `../shared` beside the checkout (read-only test corpus, reference CRDs, examples).
pub fn shared_dir() -> PathBuf {
    std::env::var_os("FERROFLUX_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("../shared"))
}

/// The directory holding the controller binaries (`make e2e` builds them first).
pub fn bin_dir() -> PathBuf {
    std::env::var_os("FERROFLUX_BIN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target/debug"))
}

/// A tool built by `hack/tools.sh` (kubectl, helm, ...).
pub fn tool(name: &str) -> PathBuf {
    repo_root().join(".cache/bin").join(name)
}

/// A local control plane started by `hack/cluster.sh` under the given instance name.
#[derive(Debug, Clone)]
pub struct Cluster {
    pub name: String,
    pub kubeconfig: PathBuf,
}

static DEFAULT: OnceLock<Result<Cluster, String>> = OnceLock::new();

impl Cluster {
    /// The shared cluster for this test process: started (or reused) once, CRDs installed.
    /// Each test makes its own [`Client`] with [`Cluster::client`]: a client is bound to the
    /// tokio runtime of the test that made it.
    pub fn shared() -> anyhow::Result<Cluster> {
        DEFAULT
            .get_or_init(|| {
                let name =
                    std::env::var("FERROFLUX_E2E_CLUSTER").unwrap_or_else(|_| "default".into());
                Cluster::up(&name).map_err(|e| format!("{e:#}"))
            })
            .clone()
            .map_err(|e| anyhow::anyhow!(e))
    }

    /// Starts the named instance if it is not running (idempotent; `hack/cluster.sh` serialises
    /// concurrent callers itself) and installs our CRDs into it.
    pub fn up(name: &str) -> anyhow::Result<Cluster> {
        let root = repo_root();
        let out = Command::new(root.join("hack/cluster.sh"))
            .arg("up")
            .env("CLUSTER_NAME", name)
            .stdin(Stdio::null())
            .output()
            .context("running hack/cluster.sh up")?;
        if !out.status.success() {
            bail!(
                "hack/cluster.sh up ({name}) failed:\n{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let cluster = Cluster {
            name: name.to_string(),
            kubeconfig: root.join(".cache/clusters").join(name).join("kubeconfig"),
        };
        block_on(cluster.install_crds())?;
        Ok(cluster)
    }

    /// A fresh client for the calling test's runtime.
    pub async fn client(&self) -> anyhow::Result<Client> {
        let kubeconfig = Kubeconfig::read_from(&self.kubeconfig)?;
        let config =
            Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default()).await?;
        Ok(Client::try_from(config)?)
    }

    /// Applies every CRD we generate (server-side apply) and waits until each is Established.
    pub async fn install_crds(&self) -> anyhow::Result<()> {
        install_rustls();
        let client = self.client().await?;
        let api: Api<CustomResourceDefinition> = Api::all(client);
        let pp = PatchParams::apply("ferroflux-e2e").force();
        let crds = ferroflux_api::crd::all();
        for (_, crd) in &crds {
            let name = crd.metadata.name.clone().unwrap_or_default();
            api.patch(&name, &pp, &Patch::Apply(crd))
                .await
                .with_context(|| format!("applying CRD {name}"))?;
        }
        for (_, crd) in &crds {
            let name = crd.metadata.name.clone().unwrap_or_default();
            wait_for(Duration::from_secs(30), || async {
                let c = api.get(&name).await.ok()?;
                let established = c
                    .status?
                    .conditions?
                    .iter()
                    .any(|c| c.type_ == "Established" && c.status == "True");
                established.then_some(())
            })
            .await
            .with_context(|| format!("CRD {name} not established"))?;
        }
        Ok(())
    }

    /// Runs kubectl against this cluster and returns its stdout; fails with stderr on error.
    pub fn kubectl(&self, args: &[&str]) -> anyhow::Result<String> {
        run_tool(&tool("kubectl"), args, &self.kubeconfig)
    }

    /// Runs the reference helm against this cluster.
    pub fn helm(&self, args: &[&str]) -> anyhow::Result<String> {
        run_tool(&tool("helm"), args, &self.kubeconfig)
    }
}

fn run_tool(bin: &Path, args: &[&str], kubeconfig: &Path) -> anyhow::Result<String> {
    let out = Command::new(bin)
        .args(args)
        .env("KUBECONFIG", kubeconfig)
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {}", bin.display()))?;
    if !out.status.success() {
        bail!(
            "{} {} failed: {}",
            bin.display(),
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// One namespace per test, deleted when the test ends (pass or fail).
#[derive(Debug)]
pub struct TestNamespace {
    pub name: String,
    kubeconfig: PathBuf,
}

impl TestNamespace {
    /// Creates `<prefix>-<random>`.
    pub async fn create(client: &Client, cluster: &Cluster, prefix: &str) -> anyhow::Result<Self> {
        let name = format!("{prefix}-{:08x}", rand_u32());
        let api: Api<Namespace> = Api::all(client.clone());
        let ns: Namespace = serde_json::from_value(serde_json::json!({
            "metadata": {"name": name, "labels": {"ferroflux.dev/e2e": "true"}}
        }))?;
        api.create(&PostParams::default(), &ns)
            .await
            .with_context(|| format!("creating namespace {name}"))?;
        Ok(Self {
            name,
            kubeconfig: cluster.kubeconfig.clone(),
        })
    }
}

/// The Flux kinds whose finalizers would keep a test namespace terminating once the test's
/// controllers are gone.
const FLUX_KINDS: &str = "gitrepositories.source.toolkit.fluxcd.io,ocirepositories.source.toolkit.fluxcd.io,helmrepositories.source.toolkit.fluxcd.io,helmcharts.source.toolkit.fluxcd.io,buckets.source.toolkit.fluxcd.io,kustomizations.kustomize.toolkit.fluxcd.io,helmreleases.helm.toolkit.fluxcd.io";

impl Drop for TestNamespace {
    fn drop(&mut self) {
        // The test's controllers have stopped by now: drop the finalizers they would have
        // handled, so the namespace really goes away.
        let strip = format!(
            "{kubectl} get {FLUX_KINDS} -n {ns} -o name | xargs -r -n1 {kubectl} patch -n {ns} --type=merge -p '{{\"metadata\":{{\"finalizers\":null}}}}'",
            kubectl = tool("kubectl").display(),
            ns = self.name,
        );
        let _ = Command::new("sh")
            .arg("-c")
            .arg(strip)
            .env("KUBECONFIG", &self.kubeconfig)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        // Drop cannot be async; kubectl deletes without waiting so teardown stays quick.
        let _ = Command::new(tool("kubectl"))
            .args([
                "delete",
                "namespace",
                &self.name,
                "--wait=false",
                "--ignore-not-found",
            ])
            .env("KUBECONFIG", &self.kubeconfig)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// Deletes an object and ignores "not found".
pub async fn delete_ignore_missing<K>(api: &Api<K>, name: &str) -> anyhow::Result<()>
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    match api.delete(name, &DeleteParams::default()).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Polls `f` until it returns `Some`, or fails after `timeout`.
pub async fn wait_for<T, F, Fut>(timeout: Duration, mut f: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = f().await {
            return Ok(v);
        }
        if start.elapsed() > timeout {
            bail!("timed out after {timeout:?}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn rand_u32() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.finish() as u32
}

/// kube needs one rustls crypto provider installed per process: ring, as everywhere here.
pub fn install_rustls() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

fn block_on<F>(f: F) -> F::Output
where
    F: std::future::Future + Send,
    F::Output: Send,
{
    // Cluster set-up runs once per test process, outside any test's runtime.
    std::thread::scope(|s| {
        s.spawn(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map(|rt| rt.block_on(f))
        })
        .join()
    })
    .unwrap_or_else(|e| std::panic::resume_unwind(e))
    .unwrap_or_else(|e| panic!("cannot build a tokio runtime: {e}"))
}
