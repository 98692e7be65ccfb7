//! The command line: global flags and the command tree. Each command's flags live in its module under `commands`.

use clap::{Parser, Subcommand};

use crate::commands::{apply, appspec, completions, containers, deploy, dev, local, manage, push, read, security};

/// Where the CLI looks for the server unless told otherwise.
pub(crate) const DEFAULT_ENDPOINT: &str = "http://127.0.0.1:8700";

/// The exit codes, shown by `cutover --help`.
pub(crate) const EXIT_CODES: &str = "\
Exit codes:
  0    Success.
  1    Error: invalid input, a request the server refused, or a server that cannot be reached.
  2    Invalid command line (usage error).
  3    `deploy --wait`, `dev` or `local`: the deployment ended, but did not succeed (Failed or Stopped).
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
        hide_env_values = true,
        value_name = "URL",
        display_order = 900
    )]
    pub(crate) endpoint: String,

    #[command(flatten)]
    pub(crate) credentials: crate::credentials::CredentialArgs,

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
    /// Container services (ECS deployments): their task sets on every host, and their containers' logs.
    #[command(subcommand)]
    Containers(containers::ContainersCommand),
    /// Work with AppSpec files locally.
    #[command(subcommand)]
    Appspec(appspec::AppspecCommand),
    /// Manage access keys (admin, deployer, viewer) for the API.
    #[command(subcommand)]
    Keys(security::KeysCommand),
    /// Create join tokens that agents enrol with (`cutover-agent --enrollment-token-file`).
    #[command(subcommand)]
    EnrollmentToken(security::EnrollmentTokenCommand),
    /// Show the audit log: every mutating API call, who made it, from where, and how it ended.
    Audit(security::AuditArgs),
    /// Revision signing: make a key pair, and choose the keys a deployment group trusts.
    #[command(subcommand)]
    Signing(security::SigningCommand),
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

/// The CLI reference (`docs/guide/cli-reference.md`): the full `--help` of every command, generated from the
/// command definitions, so the document cannot drift from the binary (a test compares them).
#[cfg(test)]
pub(crate) fn reference() -> String {
    use clap::CommandFactory;

    fn render(command: &mut clap::Command, path: &str, out: &mut String) {
        let help = command.render_long_help().to_string();
        let help: Vec<&str> = help.trim_end().lines().map(str::trim_end).collect();
        out.push_str(&format!("\n## `{path}`\n\n```text\n{}\n```\n", help.join("\n")));
        let names: Vec<String> = command
            .get_subcommands()
            .filter(|sub| sub.get_name() != "help" && !sub.is_hide_set())
            .map(|sub| sub.get_name().to_owned())
            .collect();
        for name in names {
            if let Some(sub) = command.find_subcommand_mut(&name) {
                render(sub, &format!("{path} {name}"), out);
            }
        }
    }

    let mut command = Cli::command().term_width(100);
    command.build();
    let mut out = String::from(
        "# CLI reference\n\n\
         <!-- Generated from the `cutover` command definitions by `CUTOVER_BLESS=1 cargo test -p cutover \
         cli_reference`; a test fails when this file is stale. Do not edit by hand. -->\n\n\
         Every command accepts `--endpoint URL` (or `CUTOVER_ENDPOINT`), the server's address.\n",
    );
    render(&mut command, "cutover", &mut out);
    out
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        super::Cli::command().debug_assert();
    }

    /// Every relative link of the user guide points at a file that exists.
    #[test]
    fn guide_links_resolve() {
        let guide = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/guide");
        let mut broken = Vec::new();
        for entry in std::fs::read_dir(&guide).expect("docs/guide") {
            let path = entry.expect("entry").path();
            let text = std::fs::read_to_string(&path).expect("read");
            for (_, rest) in text.match_indices("](").map(|(index, _)| text.split_at(index + 2)) {
                let target = rest.split(')').next().unwrap_or_default();
                let file = target.split('#').next().unwrap_or_default();
                if file.is_empty() || file.contains("://") {
                    continue;
                }
                if !guide.join(file).exists() {
                    broken.push(format!("{}: {target}", path.display()));
                }
            }
        }
        assert!(broken.is_empty(), "broken links: {broken:?}");
    }

    /// `docs/guide/cli-reference.md` is what the CLI says; `CUTOVER_BLESS=1` rewrites it.
    #[test]
    fn cli_reference_is_current() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/guide/cli-reference.md");
        let generated = super::reference();
        if std::env::var_os("CUTOVER_BLESS").is_some() {
            std::fs::write(&path, &generated).expect("write the CLI reference");
        }
        let current = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            current == generated,
            "{} is stale: regenerate it with `CUTOVER_BLESS=1 cargo test -p cutover cli_reference`",
            path.display()
        );
    }
}
