//! The command line: global flags and the command tree. Each command's flags live in its module under `commands`.

use clap::{Parser, Subcommand};

use crate::commands::{apply, appspec, completions, deploy, dev, local, manage, push, read};

/// Where the CLI looks for the server unless told otherwise.
pub(crate) const DEFAULT_ENDPOINT: &str = "http://127.0.0.1:8700";

/// The exit codes, shown by `cutover --help`.
pub(crate) const EXIT_CODES: &str = "\
Exit codes:
  0    Success.
  1    Error: invalid input, a request the server refused, or a server that cannot be reached.
  2    Invalid command line (usage error).
  3    `deploy --wait` or `dev`: the deployment ended, but did not succeed (Failed or Stopped).
  255  Internal error (a bug in cutover).";

/// Cutover: self-hosted, CodeDeploy-compatible deployments to your own hosts.
#[derive(Debug, Parser)]
#[command(name = "cutover", version, after_help = EXIT_CODES, max_term_width = 120)]
pub(crate) struct Cli {
    /// URL of the cutover-server API.
    #[arg(
        long,
        global = true,
        env = "CUTOVER_ENDPOINT",
        default_value = DEFAULT_ENDPOINT,
        value_name = "URL",
        display_order = 900
    )]
    pub(crate) endpoint: String,

    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Bundle a directory (with appspec.yml at its root), upload it and register it as a revision.
    Push(push::PushArgs),
    /// Start a deployment, and with --wait follow it host by host until it ends; `deploy logs` shows hook output.
    #[command(after_help = deploy::AFTER_HELP)]
    Deploy(deploy::DeployCommand),
    /// Create an application.
    CreateApplication(manage::CreateApplicationArgs),
    /// Create a deployment group: the hosts (on-premises instances selected by tags) an application deploys to.
    CreateDeploymentGroup(manage::CreateDeploymentGroupArgs),
    /// Create a deployment configuration (how many hosts must stay healthy).
    CreateDeploymentConfig(manage::CreateDeploymentConfigArgs),
    /// Create or update deployment configurations, applications and deployment groups from a YAML or TOML file.
    #[command(after_help = apply::AFTER_HELP)]
    Apply(apply::ApplyArgs),
    /// Stop a deployment that is in progress.
    StopDeployment(manage::StopDeploymentArgs),
    /// List applications, or show one.
    Applications(read::ApplicationsCommand),
    /// List the deployment groups of an application, or show one.
    Groups(read::GroupsCommand),
    /// List deployments, or show one with its hosts' lifecycle events.
    Deployments(read::DeploymentsCommand),
    /// List on-premises instances (hosts running cutover-agent), or show one.
    Instances(read::InstancesCommand),
    /// Work with AppSpec files locally.
    #[command(subcommand)]
    Appspec(appspec::AppspecCommand),
    /// Deploy a revision (directory or archive) on this machine without a server, as cutover-agent would.
    #[command(after_help = local::AFTER_HELP)]
    Local(local::LocalArgs),
    /// Run a local server and agents, and deploy a sample revision to them (the quickstart).
    #[command(after_help = dev::AFTER_HELP)]
    Dev(dev::DevArgs),
    /// Print a shell completion script.
    #[command(after_help = completions::AFTER_HELP)]
    Completions(completions::CompletionsArgs),
}

/// `--json`, shared by the commands that print API output.
#[derive(Debug, Clone, Copy, clap::Args)]
pub(crate) struct JsonFlag {
    /// Print the raw API output as JSON instead of a table.
    #[arg(long)]
    pub(crate) json: bool,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
