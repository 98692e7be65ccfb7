//! `cutover completions SHELL`: prints a completion script for bash, zsh, fish, elvish or PowerShell.

use std::io::Write;

use clap::{Args, CommandFactory};

use crate::cli::Cli;
use crate::error::{CliError, CliResult};

pub(crate) const AFTER_HELP: &str = "\
Install it where your shell looks for completions, e.g.:
  cutover completions bash > /etc/bash_completion.d/cutover
  cutover completions zsh > \"${fpath[1]}/_cutover\"
  cutover completions fish > ~/.config/fish/completions/cutover.fish";

#[derive(Debug, Args)]
pub(crate) struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub(crate) shell: clap_complete::Shell,
}

pub(crate) fn run(args: CompletionsArgs) -> CliResult<()> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "cutover", &mut script);
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(&script).and_then(|()| stdout.flush()).map_err(|error| {
        if error.kind() == std::io::ErrorKind::BrokenPipe {
            CliError::broken_pipe()
        } else {
            CliError::user(format!("cannot write to stdout: {error}"))
        }
    })
}
