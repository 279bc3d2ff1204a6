//! `crdgen`: writes every CRD into `charts/<controller>/crds/`, or checks that the committed
//! files are current (`--check`, used by `make verify`).

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Parser;

#[derive(Parser)]
struct Args {
    /// The charts directory.
    #[arg(long, default_value = "charts")]
    charts: PathBuf,
    /// Fail when a committed CRD differs from a fresh generation instead of writing.
    #[arg(long)]
    check: bool,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut stale = Vec::new();
    for (controller, crd) in ferroflux_api::crd::all() {
        let dir = args.charts.join(controller.name()).join("crds");
        let path = dir.join(ferroflux_api::crd::file_name(&crd));
        let yaml = format!(
            "---\n{}",
            serde_saphyr::to_string(&crd).context("serialising CRD")?
        );
        if args.check {
            let current = std::fs::read_to_string(&path).unwrap_or_default();
            if current != yaml {
                stale.push(path.display().to_string());
            }
        } else {
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            std::fs::write(&path, yaml).with_context(|| format!("writing {}", path.display()))?;
            println!("wrote {}", path.display());
        }
    }
    if !stale.is_empty() {
        bail!(
            "CRDs are out of date (run `make crds`): {}",
            stale.join(", ")
        );
    }
    Ok(())
}
