//! `cutover local`: deploys a revision (a directory or an archive) on this machine without a server, through the
//! agent's own command path (`cutover_agent::local`), printing each lifecycle event and its log lines as they
//! happen.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Args;
use cutover_agent::local::{self, LocalDeployment, LocalReport, Progress};
use cutover_agent::{EventOutcome, ExecutorOptions};
use cutover_api_types::codedeploy as wire;
use cutover_domain::lifecycle::LifecycleEvent;

use crate::bundle::{self, BundleType};
use crate::error::{CliError, CliResult};
use crate::output;

pub(crate) const AFTER_HELP: &str = "\
The revision runs exactly as cutover-agent runs a deployment from a server: the same download check (SHA-256),
safe extraction, Install with its cleanup of the previous local revision, permissions, and hooks with CodeDeploy's
environment, runas and timeouts. Local deployments form a deployment group of their own, so a second run takes its
ApplicationStop scripts from the first. A directory is bundled first, exactly as `cutover push` bundles it.

Exit codes: 0 every event succeeded; 1 error (e.g. no such bundle); 2 usage; 3 an event failed; 255 internal error.";

#[derive(Debug, Args)]
pub(crate) struct LocalArgs {
    /// The revision: a directory with appspec.yml at its root, or a tar, tgz or zip archive.
    #[arg(default_value = ".", value_name = "BUNDLE")]
    pub(crate) bundle: PathBuf,
    /// Archive format of BUNDLE [default: from its extension; a directory is bundled as tgz]
    #[arg(long, value_enum)]
    pub(crate) bundle_type: Option<BundleType>,
    /// Run only these lifecycle events (comma-separated; DownloadBundle and Install always run), in deployment order.
    #[arg(long, value_delimiter = ',', value_name = "EVENT,...")]
    pub(crate) events: Vec<String>,
    /// The agent's state directory: revisions, logs, install records [default: /var/lib/cutover-agent as root,
    /// else ~/.local/state/cutover/agent]
    #[arg(long, value_name = "DIR")]
    pub(crate) root: Option<PathBuf>,
    /// Prefix for every AppSpec destination and permission object, to try a revision without touching `/`.
    #[arg(long, value_name = "DIR")]
    pub(crate) destination_root: Option<PathBuf>,
    /// Variables of this shell's environment that hooks get too: NAME[,NAME...]. Hooks see only the documented
    /// variables otherwise, exactly as under cutover-agent (docs/security.md).
    #[arg(long, value_delimiter = ',', value_name = "NAME")]
    pub(crate) hook_pass_env: Vec<String>,
    /// Application name given to hooks (APPLICATION_NAME).
    #[arg(long, value_name = "NAME", default_value = local::DEFAULT_APPLICATION)]
    pub(crate) application_name: String,
    /// Deployment group of local deployments (DEPLOYMENT_GROUP_NAME); each group has its own installed revision.
    #[arg(long, value_name = "NAME", default_value = local::DEFAULT_GROUP)]
    pub(crate) deployment_group_name: String,
    /// What Install does with files that exist at a destination but were not installed by the last deployment.
    #[arg(long, value_name = "BEHAVIOR", value_parser = ["DISALLOW", "OVERWRITE", "RETAIN"], ignore_case = true)]
    pub(crate) file_exists_behavior: Option<String>,
    /// Keep going when ApplicationStop fails.
    #[arg(long)]
    pub(crate) ignore_application_stop_failures: bool,
    /// Print nothing while it runs, then the result as JSON (lifecycle events as in GetDeploymentTarget).
    #[arg(long)]
    pub(crate) json: bool,
}

pub(crate) async fn run(args: LocalArgs) -> CliResult<()> {
    let events = local::events_to_run(&args.events).map_err(CliError::user)?;
    let root = match &args.root {
        Some(root) => root.clone(),
        None => default_root()?,
    };
    let metadata = std::fs::metadata(&args.bundle)
        .map_err(|error| CliError::user(format!("cannot read {}: {error}", args.bundle.display())))?;
    // A directory is bundled like `cutover push` does; the archive lives until the deployment ends.
    let mut _bundled: Option<tempfile::NamedTempFile> = None;
    let (bundle_path, bundle_type, described) = if metadata.is_dir() {
        let bundle_type = args.bundle_type.unwrap_or(BundleType::Tgz);
        super::appspec::check(&super::appspec::find_in(&args.bundle)?)?;
        let built = bundle::build(&args.bundle, bundle_type, false)
            .map_err(|error| CliError::user(format!("cannot bundle {}: {error}", args.bundle.display())))?;
        let file = tempfile::Builder::new()
            .prefix("cutover-local-")
            .suffix(&format!(".{bundle_type}"))
            .tempfile()
            .map_err(|error| CliError::user(format!("cannot create a temporary bundle: {error}")))?;
        std::fs::write(file.path(), &built.bytes)
            .map_err(|error| CliError::user(format!("cannot write {}: {error}", file.path().display())))?;
        let path = file.path().to_owned();
        _bundled = Some(file);
        (path, bundle_type, format!("directory {} (bundled as {bundle_type})", args.bundle.display()))
    } else {
        let bundle_type = match args.bundle_type.or_else(|| BundleType::from_key(&args.bundle.to_string_lossy())) {
            Some(bundle_type) => bundle_type,
            None => {
                return Err(CliError::user(format!(
                    "cannot tell the archive format of {} from its name",
                    args.bundle.display()
                ))
                .hint("pass --bundle-type tgz, zip or tar"));
            }
        };
        (args.bundle.clone(), bundle_type, format!("{} ({bundle_type})", args.bundle.display()))
    };
    let deployment = LocalDeployment {
        root: root.clone(),
        bundle: absolute(&bundle_path),
        bundle_type: bundle_type.as_str().to_owned(),
        application_name: args.application_name.clone(),
        deployment_group_name: args.deployment_group_name.clone(),
        events,
        file_exists_behavior: args.file_exists_behavior.as_deref().map(str::to_ascii_uppercase),
        ignore_application_stop_failures: args.ignore_application_stop_failures,
        executor: ExecutorOptions {
            destination_root: args.destination_root.clone(),
            hook_env: cutover_agent::config::pass_env(&args.hook_pass_env)
                .map_err(|error| CliError::user(error.to_string()))?,
            ..ExecutorOptions::default()
        },
    };
    if !args.json {
        output::line(format!("Deploying {described} on this host (root {})", root.display()))?;
    }
    let progress: Arc<dyn Progress> = if args.json { Arc::new(Quiet) } else { Arc::new(Printer) };
    let report = local::run(deployment, progress).await.map_err(|error| CliError::user(format!("{error:#}")))?;
    if args.json {
        output::json(&json_report(&report, &root))?;
    } else {
        print_summary(&report)?;
    }
    if report.succeeded {
        Ok(())
    } else {
        Err(CliError::deployment_not_succeeded(format!("local deployment {} Failed", report.deployment_id)))
    }
}

/// `/var/lib/cutover-agent` for root (where the packaged agent keeps its state), else a directory of the user's.
fn default_root() -> CliResult<PathBuf> {
    if nix::unistd::geteuid().is_root() {
        return Ok(PathBuf::from("/var/lib/cutover-agent"));
    }
    let state = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".local").join("state")));
    state.map(|dir| dir.join("cutover").join("agent")).ok_or_else(|| {
        CliError::user("cannot choose a root directory: neither XDG_STATE_HOME nor HOME is set").hint("pass --root DIR")
    })
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}

/// Prints every event and its log lines as they happen.
struct Printer;

impl Progress for Printer {
    fn started(&self, event: LifecycleEvent) {
        let _ = output::line(format!("==> {event}"));
    }

    fn line(&self, _event: LifecycleEvent, line: &str) {
        let _ = output::line(format!("    {}", line.trim_end_matches('\n')));
    }

    fn finished(&self, event: LifecycleEvent, outcome: &EventOutcome) {
        let millis = outcome.end_time_ms - outcome.start_time_ms;
        let _ = output::line(format!("{event}  {}  {millis} ms", outcome.status()));
        if !outcome.succeeded {
            let diagnostics = &outcome.diagnostics;
            for (name, value) in [
                ("errorCode", &diagnostics.error_code),
                ("scriptName", &diagnostics.script_name),
                ("message", &diagnostics.message),
            ] {
                if !value.is_empty() {
                    let _ = output::line(format!("    {name}: {value}"));
                }
            }
        }
    }
}

/// Prints nothing (`--json`).
struct Quiet;

impl Progress for Quiet {
    fn started(&self, _event: LifecycleEvent) {}
    fn line(&self, _event: LifecycleEvent, _line: &str) {}
    fn finished(&self, _event: LifecycleEvent, _outcome: &EventOutcome) {}
}

fn print_summary(report: &LocalReport) -> CliResult<()> {
    for event in report.events.iter().filter(|event| event.status == "Skipped") {
        output::line(format!("{}  Skipped", event.lifecycle_event))?;
    }
    let status = if report.succeeded { "Succeeded" } else { "Failed" };
    output::line("")?;
    output::line(format!("Local deployment {} {status}", report.deployment_id))
}

/// The result as JSON: the deployment's id, status and root, and its lifecycle events as the API shows them.
fn json_report(report: &LocalReport, root: &Path) -> serde_json::Value {
    let events: Vec<wire::LifecycleEvent> = report
        .events
        .iter()
        .map(|event| {
            let outcome = event.outcome.as_ref();
            wire::LifecycleEvent {
                lifecycle_event_name: Some(event.lifecycle_event.as_str().to_owned()),
                status: Some(event.status.to_owned()),
                start_time: outcome.map(|outcome| outcome.start_time_ms as f64 / 1000.0),
                end_time: outcome.map(|outcome| outcome.end_time_ms as f64 / 1000.0),
                diagnostics: outcome.map(|outcome| wire::Diagnostics {
                    error_code: Some(outcome.diagnostics.error_code.clone()),
                    script_name: Some(outcome.diagnostics.script_name.clone()),
                    message: Some(outcome.diagnostics.message.clone()),
                    log_tail: Some(outcome.diagnostics.log_tail.clone()),
                }),
            }
        })
        .collect();
    serde_json::json!({
        "deploymentId": report.deployment_id,
        "deploymentGroupId": report.deployment_group_id,
        "status": if report.succeeded { "Succeeded" } else { "Failed" },
        "root": root,
        "lifecycleEvents": events,
    })
}
