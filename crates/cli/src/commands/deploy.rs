//! `cutover deploy`: CreateDeployment, and with `--wait` live per-host progress until the deployment ends.

use std::collections::HashMap;
use std::io::Read;
use std::time::{Duration, Instant};

use clap::Args;
use cutover_api_types::codedeploy::{self as wire, Operation};

use super::Api;
use crate::bundle::BundleType;
use crate::error::{CliError, CliResult};
use crate::output;
use crate::timefmt;

pub(crate) const AFTER_HELP: &str = "\
With --wait, one line is printed per host and lifecycle event as it changes, e.g.
  dev-host-1  BeforeInstall  Succeeded  12 ms
then a summary, and the diagnostics of every failed event.

Exit codes: 0 success (with --wait: the deployment Succeeded); 1 error; 2 usage;
3 with --wait, the deployment ended Failed or Stopped; 255 internal error.";

/// How often `--wait` polls the server.
const POLL_INTERVAL: Duration = Duration::from_millis(150);
/// How long `--wait` keeps trying a server it cannot reach, and how often.
const UNREACHABLE_GRACE: Duration = Duration::from_secs(30);
const UNREACHABLE_RETRY: Duration = Duration::from_millis(500);

/// `cutover deploy [FLAGS]` creates a deployment; `cutover deploy SUBCOMMAND` works with deployments.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub(crate) struct DeployCommand {
    #[command(subcommand)]
    pub(crate) command: Option<DeploySubcommand>,
    #[command(flatten)]
    pub(crate) args: Option<DeployArgs>,
}

#[derive(Debug, clap::Subcommand)]
pub(crate) enum DeploySubcommand {
    /// Show what a deployment would do now, without starting it: batches, hooks per host, files, rollback target.
    #[command(after_help = super::plan::AFTER_HELP)]
    Plan(super::plan::PlanArgs),
    /// Print the hook output of a deployment from every host; with -f, follow it live until the deployment ends.
    #[command(after_help = super::logs::AFTER_HELP)]
    Logs(super::logs::LogsArgs),
}

/// Runs `cutover deploy …`.
pub(crate) async fn command(api: &Api, command: DeployCommand) -> CliResult<()> {
    match (command.command, command.args) {
        (Some(DeploySubcommand::Logs(args)), _) => super::logs::run(api, args).await,
        (Some(DeploySubcommand::Plan(args)), _) => super::plan::run(api, args).await,
        (None, Some(args)) => run(api, args).await,
        (None, None) => Err(CliError::user("cutover deploy needs --application-name and --deployment-group-name")),
    }
}

#[derive(Debug, Args)]
pub(crate) struct DeployArgs {
    /// Application to deploy.
    #[arg(long, value_name = "NAME")]
    pub(crate) application_name: String,
    /// Deployment group to deploy to.
    #[arg(long, value_name = "NAME")]
    pub(crate) deployment_group_name: String,
    /// Revision as RevisionLocation JSON (what `cutover push --json` prints), or @FILE to read it from a file
    /// (@- for stdin). Without --revision or --s3-location, the group's target revision is deployed.
    #[arg(long, value_name = "JSON|@FILE", conflicts_with = "s3_location")]
    pub(crate) revision: Option<String>,
    /// Bundle in the server's revision store, as BUCKET/KEY.
    #[arg(long, value_name = "BUCKET/KEY")]
    pub(crate) s3_location: Option<String>,
    /// Archive format of --s3-location [default: from the key's extension]
    #[arg(long, value_enum, requires = "s3_location")]
    pub(crate) bundle_type: Option<BundleType>,
    /// Deployment configuration [default: the group's]
    #[arg(long, value_name = "NAME")]
    pub(crate) deployment_config_name: Option<String>,
    /// Description of the deployment.
    #[arg(long)]
    pub(crate) description: Option<String>,
    /// What Install does with files that exist at a destination but were not installed by the last deployment.
    #[arg(long, value_name = "BEHAVIOR", value_parser = ["DISALLOW", "OVERWRITE", "RETAIN"], ignore_case = true)]
    pub(crate) file_exists_behavior: Option<String>,
    /// Keep going when ApplicationStop fails on a host.
    #[arg(long)]
    pub(crate) ignore_application_stop_failures: bool,
    /// Follow the deployment until it ends, printing each host's lifecycle events as they change; exit 3 unless it
    /// Succeeded.
    #[arg(long)]
    pub(crate) wait: bool,
    /// Print CreateDeployment's output ({"deploymentId": …}) as JSON; with --wait, only the final DeploymentInfo.
    #[arg(long)]
    pub(crate) json: bool,
}

pub(crate) async fn run(api: &Api, args: DeployArgs) -> CliResult<()> {
    let input = wire::CreateDeploymentInput {
        application_name: Some(args.application_name.clone()),
        deployment_group_name: Some(args.deployment_group_name.clone()),
        revision: revision_arg(&args)?,
        deployment_config_name: args.deployment_config_name.clone(),
        description: args.description.clone(),
        ignore_application_stop_failures: args.ignore_application_stop_failures.then_some(true),
        file_exists_behavior: args.file_exists_behavior.as_deref().map(str::to_ascii_uppercase),
        ..Default::default()
    };
    let (raw, created): (_, wire::CreateDeploymentOutput) = api.call_raw(Operation::CreateDeployment, &input).await?;
    let id = created
        .deployment_id
        .ok_or_else(|| CliError::user("the server answered CreateDeployment without a deploymentId"))?;
    if !args.wait {
        return if args.json { output::json(&raw) } else { output::line(&id) };
    }
    if !args.json {
        output::line(format!(
            "Deployment {id} created: {} to group {}",
            args.application_name, args.deployment_group_name
        ))?;
    }
    let followed = follow(api, &id, !args.json).await?;
    if args.json {
        output::json(&followed.info)?;
    } else {
        print_summary(&followed)?;
    }
    outcome(&followed.info)
}

/// The revision given by `--revision` or `--s3-location`, if any.
fn revision_arg(args: &DeployArgs) -> CliResult<Option<wire::RevisionLocation>> {
    revision_from(args.revision.as_deref(), args.s3_location.as_deref(), args.bundle_type)
}

/// A revision from `--revision` (JSON, `@FILE`) or `--s3-location BUCKET/KEY` (with `--bundle-type`), if any.
pub(crate) fn revision_from(
    revision: Option<&str>,
    s3_location: Option<&str>,
    bundle_type: Option<BundleType>,
) -> CliResult<Option<wire::RevisionLocation>> {
    if let Some(text) = revision {
        return parse_revision(text).map(Some);
    }
    let Some(location) = s3_location else {
        return Ok(None);
    };
    let path = location.strip_prefix("s3://").unwrap_or(location);
    let Some((bucket, key)) = path.split_once('/').filter(|(bucket, key)| !bucket.is_empty() && !key.is_empty()) else {
        return Err(CliError::user(format!("--s3-location must be BUCKET/KEY, got {location:?}")));
    };
    let bundle_type = match bundle_type.or_else(|| BundleType::from_key(key)) {
        Some(bundle_type) => bundle_type,
        None => {
            return Err(CliError::user(format!("cannot tell the bundle type of {key:?} from its extension"))
                .hint("pass --bundle-type tgz, zip or tar"));
        }
    };
    Ok(Some(wire::RevisionLocation {
        revision_type: Some("S3".to_owned()),
        s3_location: Some(wire::S3Location {
            bucket: Some(bucket.to_owned()),
            key: Some(key.to_owned()),
            bundle_type: Some(bundle_type.as_str().to_owned()),
            ..Default::default()
        }),
        ..Default::default()
    }))
}

/// Parses `--revision`: JSON, `@FILE` or `@-`.
pub(crate) fn parse_revision(text: &str) -> CliResult<wire::RevisionLocation> {
    let (json, origin) = match text.strip_prefix('@') {
        Some("-") => {
            let mut json = String::new();
            std::io::stdin()
                .read_to_string(&mut json)
                .map_err(|error| CliError::user(format!("cannot read the revision from stdin: {error}")))?;
            (json, "stdin".to_owned())
        }
        Some(path) => {
            let json = std::fs::read_to_string(path)
                .map_err(|error| CliError::user(format!("cannot read the revision from {path}: {error}")))?;
            (json, path.to_owned())
        }
        None => (text.to_owned(), "--revision".to_owned()),
    };
    let shape_hint = r#"a revision is a RevisionLocation like {"revisionType":"S3","s3Location":{"bucket":"…","key":"…","bundleType":"tgz"}}, which `cutover push --json` prints"#;
    let revision: wire::RevisionLocation = serde_json::from_str(&json)
        .map_err(|error| CliError::user(format!("{origin} is not a revision: {error}")).hint(shape_hint))?;
    if revision.revision_type.is_none() {
        return Err(CliError::user(format!("{origin} is not a revision: it has no revisionType")).hint(shape_hint));
    }
    Ok(revision)
}

/// A deployment and its targets, as last seen.
pub(crate) struct Followed {
    pub(crate) info: wire::DeploymentInfo,
    pub(crate) targets: Vec<wire::InstanceTarget>,
}

pub(crate) fn is_terminal(status: Option<&str>) -> bool {
    matches!(status, Some("Succeeded" | "Failed" | "Stopped"))
}

/// Reads a deployment and then its targets (so once the deployment is terminal, the targets are too).
async fn poll(api: &Api, id: &str) -> CliResult<(wire::DeploymentInfo, Vec<wire::InstanceTarget>)> {
    let output: wire::GetDeploymentOutput =
        api.call(Operation::GetDeployment, &wire::GetDeploymentInput { deployment_id: Some(id.to_owned()) }).await?;
    let info = output
        .deployment_info
        .ok_or_else(|| CliError::user(format!("the server answered GetDeployment {id} without deploymentInfo")))?;
    let targets = fetch_targets(api, id).await?;
    Ok((info, targets))
}

/// Polls a deployment until it ends; with `live`, prints every change of a host's lifecycle event as it is seen.
/// A server that cannot be reached (e.g. while it restarts) is retried for [`UNREACHABLE_GRACE`].
pub(crate) async fn follow(api: &Api, id: &str, live: bool) -> CliResult<Followed> {
    let mut seen: HashMap<(String, String), String> = HashMap::new();
    let mut last_status: Option<String> = None;
    let mut unreachable_since: Option<Instant> = None;
    loop {
        let (info, targets) = match poll(api, id).await {
            Ok(polled) => {
                if unreachable_since.take().is_some() && live {
                    output::line("Reached the server again.")?;
                }
                polled
            }
            Err(error) if error.transient => {
                let since = match unreachable_since {
                    Some(since) => since,
                    None => {
                        if live {
                            output::line(format!(
                                "Lost contact with the server; retrying for {} s…",
                                UNREACHABLE_GRACE.as_secs()
                            ))?;
                        }
                        *unreachable_since.insert(Instant::now())
                    }
                };
                if since.elapsed() >= UNREACHABLE_GRACE {
                    return Err(error);
                }
                tokio::time::sleep(UNREACHABLE_RETRY).await;
                continue;
            }
            Err(error) => return Err(error),
        };
        if live {
            if info.status != last_status
                && let Some(status) = &info.status
                && status != "Succeeded"
                && status != "Failed"
                && status != "Stopped"
            {
                output::line(format!("Deployment {id} is {status}"))?;
            }
            for line in changes(&targets, &mut seen) {
                output::line(line)?;
            }
        }
        last_status = info.status.clone();
        if is_terminal(info.status.as_deref()) {
            return Ok(Followed { info, targets });
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// Every target of a deployment (ListDeploymentTargets, then BatchGetDeploymentTargets by 25).
pub(crate) async fn fetch_targets(api: &Api, id: &str) -> CliResult<Vec<wire::InstanceTarget>> {
    let mut ids = Vec::new();
    let mut next_token = None;
    loop {
        let input = wire::ListDeploymentTargetsInput {
            deployment_id: Some(id.to_owned()),
            next_token: next_token.take(),
            ..Default::default()
        };
        let page: wire::ListDeploymentTargetsOutput = api.call(Operation::ListDeploymentTargets, &input).await?;
        ids.extend(page.target_ids.unwrap_or_default());
        match page.next_token.filter(|token| !token.is_empty()) {
            Some(token) => next_token = Some(token),
            None => break,
        }
    }
    let mut targets = Vec::new();
    for chunk in ids.chunks(25) {
        let input = wire::BatchGetDeploymentTargetsInput {
            deployment_id: Some(id.to_owned()),
            target_ids: Some(chunk.to_vec()),
        };
        let output: wire::BatchGetDeploymentTargetsOutput =
            api.call(Operation::BatchGetDeploymentTargets, &input).await?;
        targets.extend(output.deployment_targets.unwrap_or_default().into_iter().filter_map(|t| t.instance_target));
    }
    Ok(targets)
}

/// Lines for the lifecycle events whose status changed since `seen`, oldest change first.
fn changes(targets: &[wire::InstanceTarget], seen: &mut HashMap<(String, String), String>) -> Vec<String> {
    let mut changed = Vec::new();
    for target in targets {
        let host = target.target_id.clone().unwrap_or_default();
        // A host that was skipped as a whole gets one line instead of one per event.
        let events = target.lifecycle_events.as_deref().unwrap_or_default();
        if target.status.as_deref() == Some("Skipped")
            && events.iter().all(|event| matches!(event.status.as_deref(), Some("Skipped" | "Pending") | None))
        {
            if seen.insert((host.clone(), String::new()), "Skipped".to_owned()).is_none() {
                changed.push((f64::MAX, host.clone(), 0, format!("{host}  Skipped")));
            }
            continue;
        }
        for (index, event) in events.iter().enumerate() {
            let name = event.lifecycle_event_name.clone().unwrap_or_default();
            let status = event.status.clone().unwrap_or_default();
            if status.is_empty() || status == "Pending" {
                continue;
            }
            let key = (host.clone(), name.clone());
            if seen.get(&key) == Some(&status) {
                continue;
            }
            seen.insert(key, status.clone());
            let when = event.end_time.or(event.start_time).unwrap_or(f64::MAX);
            changed.push((when, host.clone(), index, event_line(&host, event)));
        }
    }
    changed.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    changed.into_iter().map(|(_, _, _, line)| line).collect()
}

/// `host-1  BeforeInstall  Succeeded  12 ms` (the duration once the event ended).
pub(crate) fn event_line(host: &str, event: &wire::LifecycleEvent) -> String {
    let name = event.lifecycle_event_name.as_deref().unwrap_or("?");
    let status = event.status.as_deref().unwrap_or("?");
    match (event.start_time, event.end_time) {
        (Some(start), Some(end)) => format!("{host}  {name}  {status}  {} ms", timefmt::millis_between(start, end)),
        _ => format!("{host}  {name}  {status}"),
    }
}

/// `3 succeeded, 0 failed, 0 skipped, 0 in progress, 0 pending`.
pub(crate) fn overview_text(overview: Option<&wire::DeploymentOverview>) -> String {
    let default = wire::DeploymentOverview::default();
    let o = overview.unwrap_or(&default);
    format!(
        "{} succeeded, {} failed, {} skipped, {} in progress, {} pending",
        o.succeeded.unwrap_or(0),
        o.failed.unwrap_or(0),
        o.skipped.unwrap_or(0),
        o.in_progress.unwrap_or(0),
        o.pending.unwrap_or(0)
    )
}

/// Create-to-complete time of a deployment (to now while it runs).
pub(crate) fn duration(info: &wire::DeploymentInfo) -> Option<String> {
    let start = info.create_time?;
    let end = info.complete_time.unwrap_or_else(timefmt::now_secs);
    Some(timefmt::duration_ms(timefmt::millis_between(start, end)))
}

/// The end-of-deployment summary: status, host counts, duration, the error, and every failed event's diagnostics.
pub(crate) fn print_summary(followed: &Followed) -> CliResult<()> {
    let info = &followed.info;
    let id = info.deployment_id.as_deref().unwrap_or("?");
    let status = info.status.as_deref().unwrap_or("?");
    output::line("")?;
    match duration(info) {
        Some(duration) => output::line(format!("Deployment {id} {status} in {duration}"))?,
        None => output::line(format!("Deployment {id} {status}"))?,
    }
    output::line(format!("Hosts: {}", overview_text(info.deployment_overview.as_ref())))?;
    if let Some(error) = &info.error_information {
        output::line(format!(
            "Error: {}: {}",
            error.code.as_deref().unwrap_or("?"),
            error.message.as_deref().unwrap_or("")
        ))?;
    }
    print_failures(&followed.targets)
}

/// For every failed lifecycle event: its line, then errorCode, scriptName, message and logTail, indented.
pub(crate) fn print_failures(targets: &[wire::InstanceTarget]) -> CliResult<()> {
    let failed: Vec<(&str, &wire::LifecycleEvent)> = targets
        .iter()
        .flat_map(|target| {
            let host = target.target_id.as_deref().unwrap_or("?");
            target.lifecycle_events.iter().flatten().map(move |event| (host, event))
        })
        .filter(|(_, event)| event.status.as_deref() == Some("Failed"))
        .collect();
    if failed.is_empty() {
        return Ok(());
    }
    output::line("")?;
    output::line("Failed lifecycle events:")?;
    for (host, event) in failed {
        output::line(format!("  {}", event_line(host, event)))?;
        let Some(diagnostics) = &event.diagnostics else {
            continue;
        };
        for (name, value) in [
            ("errorCode", &diagnostics.error_code),
            ("scriptName", &diagnostics.script_name),
            ("message", &diagnostics.message),
        ] {
            if let Some(value) = value.as_deref().filter(|value| !value.is_empty()) {
                output::line(format!("    {name}: {value}"))?;
            }
        }
        if let Some(tail) = diagnostics.log_tail.as_deref().filter(|tail| !tail.trim().is_empty()) {
            output::line("    logTail:")?;
            for line in tail.trim_end().lines() {
                output::line(format!("      {line}"))?;
            }
        }
    }
    Ok(())
}

/// Ok when the deployment Succeeded, else the exit-3 error.
pub(crate) fn outcome(info: &wire::DeploymentInfo) -> CliResult<()> {
    match info.status.as_deref() {
        Some("Succeeded") => Ok(()),
        status => {
            let id = info.deployment_id.as_deref().unwrap_or("?");
            let mut message = format!("deployment {id} {}", status.unwrap_or("ended without a status"));
            if let Some(error) = &info.error_information
                && let Some(text) = error.message.as_deref().filter(|text| !text.is_empty())
            {
                message.push_str(&format!(": {text}"));
            }
            Err(CliError::deployment_not_succeeded(message))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(name: &str, status: &str, start: Option<f64>, end: Option<f64>) -> wire::LifecycleEvent {
        wire::LifecycleEvent {
            lifecycle_event_name: Some(name.to_owned()),
            status: Some(status.to_owned()),
            start_time: start,
            end_time: end,
            diagnostics: None,
        }
    }

    fn target(host: &str, events: Vec<wire::LifecycleEvent>) -> wire::InstanceTarget {
        wire::InstanceTarget { target_id: Some(host.to_owned()), lifecycle_events: Some(events), ..Default::default() }
    }

    #[test]
    fn prints_each_change_once_in_time_order() {
        let mut seen = HashMap::new();
        let first = vec![
            target("host-2", vec![event("ApplicationStop", "Succeeded", Some(10.0), Some(10.001))]),
            target(
                "host-1",
                vec![
                    event("ApplicationStop", "Succeeded", Some(9.0), Some(9.012)),
                    event("DownloadBundle", "InProgress", Some(9.5), None),
                    event("BeforeInstall", "Pending", None, None),
                ],
            ),
        ];
        assert_eq!(
            changes(&first, &mut seen),
            [
                "host-1  ApplicationStop  Succeeded  12 ms",
                "host-1  DownloadBundle  InProgress",
                "host-2  ApplicationStop  Succeeded  1 ms",
            ]
        );
        assert!(changes(&first, &mut seen).is_empty());
        let second = vec![target("host-1", vec![event("DownloadBundle", "Succeeded", Some(9.5), Some(9.75))])];
        assert_eq!(changes(&second, &mut seen), ["host-1  DownloadBundle  Succeeded  250 ms"]);
        let mut skipped = target("host-3", vec![event("ApplicationStop", "Skipped", None, None)]);
        skipped.status = Some("Skipped".to_owned());
        assert_eq!(changes(std::slice::from_ref(&skipped), &mut seen), ["host-3  Skipped"]);
        assert!(changes(&[skipped], &mut seen).is_empty());
    }

    #[test]
    fn revisions_are_parsed_from_push_json() {
        let revision = parse_revision(
            r#"{"revisionType":"S3","s3Location":{"bucket":"b","key":"k.tgz","bundleType":"tgz","eTag":"abc"}}"#,
        )
        .expect("revision");
        assert_eq!(revision.s3_location.and_then(|s3| s3.key).as_deref(), Some("k.tgz"));
        assert!(parse_revision(r#"{"revision":{}}"#).is_err());
        assert!(parse_revision("not json").is_err());
    }
}
