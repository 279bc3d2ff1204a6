//! Entry point; everything lives in the library.
use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = helm_controller::Cli::parse();
    ferroflux_runtime::exit_code(helm_controller::run(cli).await)
}
