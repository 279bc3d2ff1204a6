//! `ferroflux`: the command line. First command: `ferroflux build kustomize DIR`, which prints
//! the YAML stream `kustomize build DIR` would (used by benchmarks and parity tests).
#![forbid(unsafe_code)]

use clap::{Parser, Subcommand};
use std::io::Write;
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "ferroflux",
    version,
    about = "The Flux GitOps Toolkit, in Rust"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build artifacts locally.
    Build {
        #[command(subcommand)]
        what: Build,
    },
}

#[derive(Subcommand)]
enum Build {
    /// Print the objects `kustomize build DIR` would, as a YAML stream.
    Kustomize {
        /// Directory holding a kustomization.yaml.
        dir: PathBuf,
        /// Refuse to read anything outside this directory (Flux's artifact-root restriction).
        #[arg(long)]
        fs_root: Option<PathBuf>,
    },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Build {
            what: Build::Kustomize { dir, fs_root },
        } => {
            let opts = ferroflux_kustomize::Options { fs_root };
            let res = ferroflux_kustomize::build_with(&dir, &opts)?;
            let out = ferroflux_kustomize::to_yaml(&res)?;
            std::io::stdout().lock().write_all(out.as_bytes())?;
        }
    }
    Ok(())
}
