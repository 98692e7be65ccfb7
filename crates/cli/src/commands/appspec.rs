//! `cutover appspec validate FILE`, and the AppSpec checks `push` runs before uploading anything.

use std::path::{Path, PathBuf};

use clap::Subcommand;
use cutover_domain::appspec::{self, AppSpec, Diagnostic};

use crate::error::{CliError, CliResult};
use crate::output;

#[derive(Debug, Subcommand)]
pub(crate) enum AppspecCommand {
    /// Check an appspec.yml (YAML or JSON) without a server: prints `FILE: OK`, or every problem with its line and
    /// field (`FILE: line N: field: message`) and exits 1.
    Validate {
        /// The AppSpec file.
        file: PathBuf,
    },
}

pub(crate) fn run(command: AppspecCommand) -> CliResult<()> {
    match command {
        AppspecCommand::Validate { file } => validate(&file),
    }
}

fn validate(file: &Path) -> CliResult<()> {
    let name = file.display().to_string();
    let text = read_text(file)?;
    match appspec::parse(&text) {
        Ok(_) => output::line(format!("{name}: OK")),
        Err(diagnostics) => {
            for diagnostic in &diagnostics {
                // `FILE: line N: field: message (hint: …)`, the same form `cutover push` refuses a bundle with.
                output::line(format!("{name}: {diagnostic}"))?;
            }
            Err(CliError::user(format!("{name} is not a valid AppSpec ({})", problems(diagnostics.len()))))
        }
    }
}

fn problems(count: usize) -> String {
    if count == 1 { "1 problem".to_owned() } else { format!("{count} problems") }
}

fn read_text(file: &Path) -> CliResult<String> {
    let bytes =
        std::fs::read(file).map_err(|error| CliError::user(format!("cannot read {}: {error}", file.display())))?;
    String::from_utf8(bytes).map_err(|_| CliError::user(format!("{} is not UTF-8 text", file.display())))
}

/// The AppSpec at the root of a revision directory: `appspec.yml`, else `appspec.yaml` (the agent's order).
pub(crate) fn find_in(dir: &Path) -> CliResult<PathBuf> {
    let metadata = std::fs::metadata(dir)
        .map_err(|error| CliError::user(format!("cannot read the source directory {}: {error}", dir.display())))?;
    if !metadata.is_dir() {
        return Err(CliError::user(format!("{} is not a directory", dir.display()))
            .hint("--source is the revision's directory, with appspec.yml at its root"));
    }
    for name in ["appspec.yml", "appspec.yaml"] {
        let path = dir.join(name);
        if path.is_file() {
            return Ok(path);
        }
    }
    Err(CliError::user(format!("appspec.yml was not found in {}", dir.display()))
        .hint("the AppSpec file must be at the root of the revision directory (appspec.yaml is accepted too)"))
}

/// Reads and validates a revision's AppSpec; on failure the error lists every diagnostic as `PATH: line N: …`.
pub(crate) fn check(path: &Path) -> CliResult<AppSpec> {
    let text = read_text(path)?;
    appspec::parse(&text).map_err(|diagnostics| refused(path, &diagnostics))
}

fn refused(path: &Path, diagnostics: &[Diagnostic]) -> CliError {
    let name = path.display();
    let mut message = format!("{name} is not a valid AppSpec ({}); nothing was uploaded", problems(diagnostics.len()));
    for diagnostic in diagnostics {
        message.push_str(&format!("\n{name}: {diagnostic}"));
    }
    CliError::user(message).hint(format!("check it with `cutover appspec validate {name}`"))
}
