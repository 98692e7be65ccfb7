//! `cutover-agent` binary: parses flags, sets up logging and signals, and runs [`cutover_agent::run`].

use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = cutover_agent::Cli::parse();
    cutover_agent::init_tracing(cli.log_format);
    let config = match cli.into_config() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("cutover-agent: {error:#}");
            return ExitCode::from(2);
        }
    };
    match cutover_agent::run(config, cutover_agent::shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error:#}");
            ExitCode::FAILURE
        }
    }
}
