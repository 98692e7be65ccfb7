//! `cutover deploy plan`: what a deployment would do now, without starting it.
//!
//! The server plans the targets, their order and batches, each host's last installed revision and the rollback
//! target with the code CreateDeployment uses (`POST /v1/deployment-plans`). This command then downloads the new
//! revision and every revision a host has installed, unpacks them with the agent's own code
//! (`cutover_agent::revision`), and shows for each host the hooks it will run and from which revision (ApplicationStop
//! from the one it has installed, the others from the new one), and which files the Install changes compared with
//! what the host's last install put there.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use clap::Args;
use cutover_agent::revision::{self, FileChanges, Revision};
use cutover_api_types::agent::{DeploymentPlan, PlanRequest};
use cutover_api_types::codedeploy as wire;
use cutover_domain::lifecycle::{LifecycleEvent, ScriptSource};
use serde_json::json;

use super::Api;
use crate::bundle::BundleType;
use crate::error::{CliError, CliResult};
use crate::output;

pub(crate) const AFTER_HELP: &str = "\
Targets, order, batches and the rollback target come from the server, computed by the code CreateDeployment runs.
Batches assume every host takes as long as the others: a host starts as soon as any host of the batch before it
finishes (with OneAtATime, batches are exactly the order of execution). Files are compared with what the host's last
install of this group put there (from the server's record of that revision); changes made on a host by other
means are not visible.";

#[derive(Debug, Args)]
pub(crate) struct PlanArgs {
    /// Application to deploy.
    #[arg(long, value_name = "NAME")]
    pub(crate) application_name: String,
    /// Deployment group to deploy to.
    #[arg(long, value_name = "NAME")]
    pub(crate) deployment_group_name: String,
    /// Revision as RevisionLocation JSON, or @FILE [default: the group's target revision]
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
    /// Plan only the hosts that do not run the revision yet.
    #[arg(long)]
    pub(crate) update_outdated_instances_only: bool,
    /// Print the plan as JSON: the server's plan, and per host its batch, hooks and file changes.
    #[arg(long)]
    pub(crate) json: bool,
}

/// One hook of a host: the event, its scripts, and the revision they come from (`new`, or a deployment id).
struct HostHook {
    event: LifecycleEvent,
    scripts: Vec<String>,
    from: String,
}

pub(crate) async fn run(api: &Api, args: PlanArgs) -> CliResult<()> {
    let request = PlanRequest {
        application_name: args.application_name.clone(),
        deployment_group_name: args.deployment_group_name.clone(),
        revision: super::deploy::revision_from(
            args.revision.as_deref(),
            args.s3_location.as_deref(),
            args.bundle_type,
        )?,
        deployment_config_name: args.deployment_config_name.clone(),
        update_outdated_instances_only: args.update_outdated_instances_only,
    };
    let plan: DeploymentPlan = api.client().post_json("/v1/deployment-plans", &request).await?;
    let work = tempfile::Builder::new()
        .prefix("cutover-plan-")
        .tempdir()
        .map_err(|error| CliError::user(format!("cannot create a temporary directory: {error}")))?;
    let mut notes = Vec::new();
    let new = match fetch(api, &plan.revision, &plan.bundle_type, &work.path().join("new")).await {
        Ok(revision) => Some(revision),
        Err(note) => {
            notes.push(format!("The new revision cannot be read here ({note}): hooks and files are not shown."));
            None
        }
    };
    // Every revision a host has installed, once each.
    let mut installed: HashMap<String, Option<Revision>> = HashMap::new();
    for target in &plan.targets {
        let Some(last) = &target.last_installed else { continue };
        if installed.contains_key(&last.deployment_id) {
            continue;
        }
        let bundle_type = last
            .revision
            .s3_location
            .as_ref()
            .and_then(|s3| s3.bundle_type.clone())
            .unwrap_or_else(|| "tar".to_owned());
        let dir = work.path().join(&last.deployment_id);
        let revision = match fetch(api, &last.revision, &bundle_type, &dir).await {
            Ok(revision) => Some(revision),
            Err(note) => {
                notes.push(format!(
                    "The revision of deployment {} cannot be read here ({note}): hooks and files from it are not shown.",
                    last.deployment_id
                ));
                None
            }
        };
        installed.insert(last.deployment_id.clone(), revision);
    }

    let mut hosts = Vec::new();
    for target in &plan.targets {
        let last_id = target.last_installed.as_ref().map(|last| last.deployment_id.clone());
        let previous = last_id.as_ref().and_then(|id| installed.get(id)).and_then(Option::as_ref);
        let mut hooks = Vec::new();
        for event in LifecycleEvent::IN_PLACE.into_iter().filter(|event| event.accepts_scripts()) {
            let (source, from) = match event.script_source() {
                // In-place plans: the most recent install is the last successful one here.
                ScriptSource::LastSuccessfulInstall | ScriptSource::MostRecentInstall => {
                    (previous, last_id.clone().unwrap_or_default())
                }
                ScriptSource::Current | ScriptSource::CurrentElseLastSuccessfulInstall => {
                    (new.as_ref(), "new".to_owned())
                }
            };
            let Some(source) = source else { continue };
            let scripts: Vec<String> =
                source.appspec.scripts(event).iter().map(|script| script.location.clone()).collect();
            if !scripts.is_empty() {
                hooks.push(HostHook { event, scripts, from });
            }
        }
        let files = new.as_ref().map(|new| revision::file_changes(previous, new));
        // A host whose last install cannot be read would show every file as added: say nothing instead.
        let files = files.filter(|_| last_id.is_none() || previous.is_some());
        hosts.push((target, hooks, files));
    }

    if args.json {
        let batch_of = |name: &str| plan.batches.iter().position(|batch| batch.iter().any(|host| host == name));
        let hosts: Vec<serde_json::Value> = hosts
            .iter()
            .map(|(target, hooks, files)| {
                json!({
                    "instanceName": target.instance_name,
                    "batch": batch_of(&target.instance_name).map(|index| index + 1),
                    "hooks": hooks.iter().map(|hook| json!({
                        "lifecycleEvent": hook.event.as_str(),
                        "scripts": hook.scripts,
                        "revision": hook.from,
                    })).collect::<Vec<_>>(),
                    "files": files.as_ref().map(|files| json!({
                        "added": paths(&files.added),
                        "changed": paths(&files.changed),
                        "removed": paths(&files.removed),
                        "unchanged": files.unchanged,
                    })),
                })
            })
            .collect();
        return output::json(&json!({"plan": plan, "hosts": hosts, "notes": notes}));
    }
    print(&plan, &hosts, &notes)
}

fn paths(list: &[PathBuf]) -> Vec<String> {
    list.iter().map(|path| path.display().to_string()).collect()
}

/// Downloads and unpacks a revision of the server's store; an explanation when that is not possible here.
async fn fetch(
    api: &Api,
    location: &wire::RevisionLocation,
    bundle_type: &str,
    work: &Path,
) -> Result<Revision, String> {
    let Some(s3) = location.s3_location.as_ref().filter(|_| location.revision_type.as_deref() == Some("S3")) else {
        return Err(format!("a {} revision", location.revision_type.as_deref().unwrap_or("non-S3")));
    };
    let (bucket, key) = (s3.bucket.clone().unwrap_or_default(), s3.key.clone().unwrap_or_default());
    let bytes =
        api.client().get_object(&bucket, &key, s3.version.as_deref()).await.map_err(|error| error.to_string())?;
    std::fs::create_dir_all(work).map_err(|error| error.to_string())?;
    let bundle = work.join("bundle");
    std::fs::write(&bundle, bytes).map_err(|error| error.to_string())?;
    revision::unpack(&bundle, bundle_type, &work.join("unpacked")).map_err(|error| error.to_string())
}

fn describe(location: &wire::RevisionLocation) -> String {
    if let Some(s3) = &location.s3_location {
        let mut text =
            format!("s3://{}/{}", s3.bucket.as_deref().unwrap_or_default(), s3.key.as_deref().unwrap_or_default());
        if let Some(version) = s3.version.as_deref().filter(|version| !version.is_empty()) {
            text.push_str(&format!(" (version {version})"));
        }
        return text;
    }
    if let Some(github) = &location.git_hub_location {
        return format!(
            "github:{}@{}",
            github.repository.as_deref().unwrap_or_default(),
            github.commit_id.as_deref().unwrap_or_default()
        );
    }
    location.revision_type.clone().unwrap_or_default()
}

type HostPlan<'a> = (&'a cutover_api_types::agent::PlannedTarget, Vec<HostHook>, Option<FileChanges>);

fn print(plan: &DeploymentPlan, hosts: &[HostPlan<'_>], notes: &[String]) -> CliResult<()> {
    let sha = plan.bundle_sha256.get(..12).unwrap_or(&plan.bundle_sha256);
    output::line(format!(
        "Plan: {} ({}, sha256 {sha}…) to {}/{} with {}",
        describe(&plan.revision),
        plan.bundle_type,
        plan.application_name,
        plan.deployment_group_name,
        plan.deployment_config_name
    ))?;
    let n = plan.targets.len();
    if let Some(error) = &plan.error {
        output::line(format!("The deployment would fail at once: {} ({})", error.message, error.code))?;
    }
    if let (Some(min_healthy), Some(max)) = (plan.min_healthy, plan.max_unavailable) {
        let at_once = if max == 1 { "1 host is".to_owned() } else { format!("{max} hosts are") };
        output::line(format!(
            "{n} hosts; at least {min_healthy} must stay healthy, so at most {at_once} updated (or failed) at a time."
        ))?;
    }
    if plan.zonal {
        output::line("Zonal configuration: hosts go zone by zone, in this order.")?;
    }
    output::line("")?;
    if !plan.batches.is_empty() {
        output::line("Batches (a host starts as soon as a host of the batch before it finishes):")?;
        for (index, batch) in plan.batches.iter().enumerate() {
            let hosts: Vec<String> = batch.iter().map(|name| with_health(plan, name)).collect();
            output::line(format!("  {}. {}", index + 1, hosts.join(", ")))?;
        }
    } else if !plan.targets.is_empty() {
        output::line("Order:")?;
        for target in &plan.targets {
            output::line(format!("  {}", with_health(plan, &target.instance_name)))?;
        }
    }
    for (target, hooks, files) in hosts {
        output::line("")?;
        match &target.last_installed {
            Some(last) => output::line(format!(
                "{}  last installed: {} ({})",
                target.instance_name,
                last.deployment_id,
                describe(&last.revision)
            ))?,
            None => output::line(format!("{}  nothing installed by this group yet", target.instance_name))?,
        }
        for hook in hooks {
            let from = if hook.from == "new" { String::new() } else { format!("  (from {})", hook.from) };
            output::line(format!("    {:<17} {}{from}", hook.event.as_str(), hook.scripts.join(", ")))?;
        }
        if let Some(files) = files {
            output::line(format!(
                "    files: {} added, {} changed, {} removed, {} unchanged",
                files.added.len(),
                files.changed.len(),
                files.removed.len(),
                files.unchanged
            ))?;
            for (sign, list) in [("+", &files.added), ("~", &files.changed), ("-", &files.removed)] {
                for path in list {
                    output::line(format!("      {sign} {}", path.display()))?;
                }
            }
        }
    }
    output::line("")?;
    let rollback = &plan.rollback;
    let target = match (&rollback.deployment_id, &rollback.revision) {
        (Some(id), Some(revision)) => Some(format!("{id} ({})", describe(revision))),
        _ => None,
    };
    let line = match (rollback.events.is_empty(), target) {
        (false, Some(target)) => {
            format!(
                "Rollback: automatic on {}: redeploys the last successful deployment {target}",
                rollback.events.join(", ")
            )
        }
        (false, None) => format!(
            "Rollback: automatic on {}, but the group has no successful deployment to go back to",
            rollback.events.join(", ")
        ),
        (true, Some(target)) => {
            format!("Rollback: automatic rollback is off; the last successful deployment is {target}")
        }
        (true, None) => {
            "Rollback: automatic rollback is off, and the group has no successful deployment yet".to_owned()
        }
    };
    output::line(line)?;
    for note in notes {
        output::line(note)?;
    }
    Ok(())
}

fn with_health(plan: &DeploymentPlan, name: &str) -> String {
    match plan.targets.iter().find(|target| target.instance_name == name) {
        Some(target) if !target.healthy => format!("{name} (unhealthy: goes first)"),
        _ => name.to_owned(),
    }
}
