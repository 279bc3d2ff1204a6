//! Serves a storage directory with the artifact server alone, for profiling it without a
//! cluster: `cargo run --release -p ferroflux-artifact --example serve_dir -- DIR ADDR`.
//! `hack/bench/serve.sh` measures the real controller; this is for quick iterations.

use ferroflux_artifact::{ArtifactServer, Storage, StorageConfig};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(dir), Some(addr)) = (args.next(), args.next()) else {
        anyhow::bail!("usage: serve_dir DIR ADDR");
    };
    let storage = Storage::new(StorageConfig::new(
        std::path::PathBuf::from(dir),
        addr.clone(),
    ))?;
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    ArtifactServer::new(&storage, None)
        .serve(listener, shutdown)
        .await;
    Ok(())
}
