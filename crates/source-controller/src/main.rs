//! Entry point; everything lives in the library.
use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = source_controller::Cli::parse();
    ferroflux_runtime::exit_code(source_controller::run(cli).await)
}
