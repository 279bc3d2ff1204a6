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
    /// Render a Helm chart locally, printing what `helm template` prints.
    Template(TemplateArgs),
}

#[derive(clap::Args)]
struct TemplateArgs {
    /// Release name.
    release: String,
    /// Chart directory or packaged `.tgz`.
    chart: PathBuf,
    /// Namespace of the release.
    #[arg(short = 'n', long, default_value = "default")]
    namespace: String,
    /// Values files, merged in order.
    #[arg(short = 'f', long = "values")]
    values: Vec<PathBuf>,
    /// Set values (`a.b=c,d[0]=e`).
    #[arg(long)]
    set: Vec<String>,
    /// Set string values.
    #[arg(long = "set-string")]
    set_string: Vec<String>,
    /// Set JSON values (`a={"b":1}`).
    #[arg(long = "set-json")]
    set_json: Vec<String>,
    /// Kubernetes version for `.Capabilities.KubeVersion`.
    #[arg(long = "kube-version")]
    kube_version: Option<String>,
    /// Extra API versions for `.Capabilities.APIVersions` (repeatable, or comma-separated).
    #[arg(short = 'a', long = "api-versions", value_delimiter = ',')]
    api_versions: Vec<String>,
    /// Print the chart's `crds/` too.
    #[arg(long = "include-crds")]
    include_crds: bool,
    /// Leave out test hooks.
    #[arg(long = "skip-tests")]
    skip_tests: bool,
    /// Do not validate values against `values.schema.json`.
    #[arg(long = "skip-schema-validation")]
    skip_schema_validation: bool,
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
            // The process ends here: freeing every object one by one (~5% of a large build)
            // would only delay the exit.
            std::mem::forget(res);
        }
        Command::Template(a) => {
            let opts = ferroflux_helm::Options {
                release_name: a.release,
                namespace: a.namespace,
                value_files: a.values,
                set_json: a.set_json,
                set: a.set,
                set_string: a.set_string,
                kube_version: a.kube_version,
                api_versions: a.api_versions,
                include_crds: a.include_crds,
                skip_tests: a.skip_tests,
                skip_schema_validation: a.skip_schema_validation,
            };
            // The process ends here: see `template_then_exit`.
            let out = ferroflux_helm::template_then_exit(
                &a.chart,
                &opts,
                ferroflux_helm::default_funcs(),
            )?;
            std::io::stdout().lock().write_all(out.as_bytes())?;
        }
    }
    Ok(())
}
