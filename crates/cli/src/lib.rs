//! The `cutover` command-line client: pushes revisions, starts and follows deployments, manages applications,
//! deployment groups and configurations, shows what the server knows, validates AppSpec files, and runs a local
//! server with agents (`cutover dev`).
//!
//! The binary is a thin wrapper around [`main`]. [`bundle`] is public so that tests (and other tools) can build
//! exactly the archives `cutover push` uploads.

pub mod bundle;
mod cli;
mod commands;
mod credentials;
mod error;
mod output;
mod timefmt;

use std::process::ExitCode;

use clap::Parser;

use crate::error::CliError;

/// Parses the command line, runs the command and turns its outcome into the process exit code (see
/// [`cli::EXIT_CODES`]).
pub fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        // Help and version exit 0, usage errors exit 2 (clap's convention, and ours).
        Err(error) => error.exit(),
    };
    let outcome = std::panic::catch_unwind(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|error| CliError::internal(format!("cannot start the async runtime: {error}")))?;
        runtime.block_on(commands::run(cli))
    });
    match outcome {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(error)) => error.report(),
        // The panic message was already printed by the default hook; unwinding ran the destructors (which stop the
        // processes `cutover dev` started).
        Err(_) => CliError::internal("cutover panicked; this is a bug".to_owned()).report(),
    }
}
