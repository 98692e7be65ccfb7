//! A deployment of a revision on this host without a server: what `cutover local` runs.
//!
//! Here the server's part is played in-process: the events of an in-place deployment (or a chosen subset, to which
//! DownloadBundle and Install are always added, as `codedeploy-local` does) become host commands, handed out one by
//! one in the server's order, and after a failed event the rest are Skipped (unless it is ApplicationStop,
//! BeforeBlockTraffic or AfterBlockTraffic and such failures are ignored, as the server's
//! `ignoreApplicationStopFailures`). Each command then takes the agent's own path, [`CommandRunner`] over the same
//! [`Executor`]: only the bundle's source differs ([`LocalFetch`] copies the archive and the same SHA-256 check
//! verifies it); extraction, the Install cleanup algorithm, permissions, hooks with their environment, `runas` and
//! timeouts, the `OnFailure` hook, the on-disk layout under the root, the tracking file and the stored outcome are
//! those of a deployment from a server.
//!
//! Local deployments belong to a deployment group of their own ([`DEFAULT_GROUP`] unless named), so a second local
//! run takes its ApplicationStop scripts from the first, as a second deployment would. Their ids are
//! `d-<9 characters>-local` (`codedeploy-local`'s form) and the instance is called [`INSTANCE_NAME`].

use std::convert::Infallible;
use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use cutover_api_types::agent::{BundleSpec, DeploymentSpec, HostCommand};
use cutover_domain::lifecycle::LifecycleEvent;
use sha2::{Digest, Sha256};

use crate::bundle::LocalFetch;
use crate::command::{CommandRunner, Ran};
use crate::eventlog::LineObserver;
use crate::executor::{EventOutcome, Executor, ExecutorOptions};
use crate::layout::Layout;

/// Application name of a local deployment unless one is given (`codedeploy-local`'s).
pub const DEFAULT_APPLICATION: &str = "default-local-application";
/// Deployment group of a local deployment unless one is given (`codedeploy-local`'s).
pub const DEFAULT_GROUP: &str = "default-local-deployment-group";
/// The instance name in command ids and logs.
pub const INSTANCE_NAME: &str = "local";

/// One local deployment.
#[derive(Debug, Clone)]
pub struct LocalDeployment {
    /// The agent's state directory (`--root`).
    pub root: PathBuf,
    /// The bundle: a tar, tgz or zip archive.
    pub bundle: PathBuf,
    /// `tar`, `tgz` or `zip`.
    pub bundle_type: String,
    pub application_name: String,
    pub deployment_group_name: String,
    /// The events to run, from [`events_to_run`].
    pub events: Vec<LifecycleEvent>,
    /// The deployment's `fileExistsBehavior` (the AppSpec's own value wins, as on a server).
    pub file_exists_behavior: Option<String>,
    pub ignore_application_stop_failures: bool,
    pub executor: ExecutorOptions,
}

/// What a local deployment reports while it runs.
pub trait Progress: Send + Sync {
    /// An event was handed out and starts now.
    fn started(&self, event: LifecycleEvent);
    /// A line of the running event's log (`YYYY-MM-DD HH:MM:SS <message>\n`), as it is written.
    fn line(&self, event: LifecycleEvent, line: &str);
    /// The event ended.
    fn finished(&self, event: LifecycleEvent, outcome: &EventOutcome);
}

/// The result of one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalEvent {
    pub lifecycle_event: LifecycleEvent,
    /// `Succeeded`, `Failed` or `Skipped`.
    pub status: &'static str,
    /// None when Skipped.
    pub outcome: Option<EventOutcome>,
}

/// The result of a local deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalReport {
    pub deployment_id: String,
    pub deployment_group_id: String,
    pub events: Vec<LocalEvent>,
    /// True when every event succeeded, or failed where failures are ignored (as a server decides a host's outcome).
    pub succeeded: bool,
}

/// Events that may be selected, in the order they run: an in-place deployment's.
pub const SELECTABLE: [LifecycleEvent; 7] = LifecycleEvent::IN_PLACE;

/// The events a local deployment runs for `selected` (every in-place event when empty): the selected ones plus
/// DownloadBundle and Install, in the server's order. Names outside an in-place deployment are refused.
pub fn events_to_run(selected: &[String]) -> Result<Vec<LifecycleEvent>, String> {
    if selected.is_empty() {
        return Ok(SELECTABLE.to_vec());
    }
    let mut chosen = vec![LifecycleEvent::DownloadBundle, LifecycleEvent::Install];
    for name in selected {
        let event = SELECTABLE.iter().copied().find(|event| event.as_str() == name.trim()).ok_or_else(|| {
            let names: Vec<&str> = SELECTABLE.iter().map(|event| event.as_str()).collect();
            format!("{name:?} is not an event of an in-place deployment; choose from {}", names.join(", "))
        })?;
        chosen.push(event);
    }
    Ok(SELECTABLE.into_iter().filter(|event| chosen.contains(event)).collect())
}

/// Runs a local deployment to its end, reporting each event to `progress` as it happens.
pub async fn run(deployment: LocalDeployment, progress: Arc<dyn Progress>) -> anyhow::Result<LocalReport> {
    anyhow::ensure!(!deployment.events.is_empty(), "no lifecycle events to run");
    std::fs::create_dir_all(&deployment.root)
        .with_context(|| format!("cannot create the root directory {}", deployment.root.display()))?;
    let bundle = deployment.bundle.clone();
    let (sha256, size) = tokio::task::spawn_blocking(move || hash_file(&bundle))
        .await
        .context("hashing the bundle")?
        .with_context(|| format!("cannot read the bundle {}", deployment.bundle.display()))?;
    let executor = Executor::new(Layout::new(&deployment.root), Arc::new(LocalFetch), deployment.executor.clone());
    let commands = CommandRunner::new(executor);
    let deployment_id = new_deployment_id(&sha256);
    let spec = DeploymentSpec {
        deployment_id: deployment_id.clone(),
        application_name: deployment.application_name.clone(),
        deployment_group_name: deployment.deployment_group_name.clone(),
        // The name stands for the id: local groups exist nowhere else.
        deployment_group_id: deployment.deployment_group_name.clone(),
        creator: "user".to_owned(),
        revision: BundleSpec {
            url: deployment.bundle.display().to_string(),
            sha256,
            trusted_keys: Vec::new(),
            signatures: Vec::new(),
            bundle_type: deployment.bundle_type.clone(),
            size,
            bucket: None,
            key: None,
            version: None,
            etag: None,
            commit_id: None,
        },
        file_exists_behavior: deployment.file_exists_behavior.clone(),
        lifecycle_events: deployment.events.iter().map(|event| event.as_str().to_owned()).collect(),
        deployment_type: None,
    };
    let mut events = Vec::new();
    let mut failed = false;
    for (position, &event) in deployment.events.iter().enumerate() {
        if failed {
            events.push(LocalEvent { lifecycle_event: event, status: "Skipped", outcome: None });
            continue;
        }
        let command = HostCommand {
            command_id: format!("{deployment_id}/{INSTANCE_NAME}/{position}"),
            lifecycle_event: event.as_str().to_owned(),
            deployment: spec.clone(),
        };
        progress.started(event);
        let observer: LineObserver = {
            let progress = progress.clone();
            Arc::new(move |line: &str| progress.line(event, line))
        };
        let mut stored = match commands.run(&command, Some(observer), std::future::pending::<Infallible>()).await {
            Ran::Before(stored) | Ran::Now(stored) => stored,
        };
        // Nobody to report to: the outcome is marked delivered, so that an agent sharing the root never sends it.
        stored.reported = true;
        if let Err(error) = commands.store().put(&stored) {
            tracing::warn!(%error, "cannot mark the command result as reported");
        }
        progress.finished(event, &stored.outcome);
        let succeeded = stored.outcome.succeeded;
        let ignorable = deployment.ignore_application_stop_failures && is_stop_event(event);
        failed = !succeeded && !ignorable;
        events.push(LocalEvent {
            lifecycle_event: event,
            status: stored.outcome.status(),
            outcome: Some(stored.outcome),
        });
    }
    Ok(LocalReport { deployment_id, deployment_group_id: spec.deployment_group_id, events, succeeded: !failed })
}

/// The events whose failures `ignoreApplicationStopFailures` ignores (the server's rule).
fn is_stop_event(event: LifecycleEvent) -> bool {
    matches!(
        event,
        LifecycleEvent::ApplicationStop | LifecycleEvent::BeforeBlockTraffic | LifecycleEvent::AfterBlockTraffic
    )
}

/// The SHA-256 and size of a file.
fn hash_file(path: &std::path::Path) -> std::io::Result<(String, u64)> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 256 * 1024];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        size += n as u64;
    }
    Ok((hex::encode(hasher.finalize()), size))
}

/// `d-<9 characters>-local`, unique per run: derived from the bundle's hash, the time and the process.
fn new_deployment_id(sha256: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let digest = Sha256::digest(format!("{sha256} {} {}", now.as_nanos(), std::process::id()));
    let tag: String = digest.iter().take(9).map(|byte| ALPHABET[usize::from(*byte) % ALPHABET.len()] as char).collect();
    format!("d-{tag}-local")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selected_events_run_in_order_with_download_and_install() {
        let names = |events: Vec<LifecycleEvent>| events.iter().map(|event| event.as_str()).collect::<Vec<_>>();
        assert_eq!(names(events_to_run(&[]).unwrap()).len(), 7);
        let chosen = events_to_run(&["ValidateService".to_owned(), "BeforeInstall".to_owned()]).unwrap();
        assert_eq!(names(chosen), ["DownloadBundle", "BeforeInstall", "Install", "ValidateService"]);
        let error = events_to_run(&["BeforeInstal".to_owned()]).unwrap_err();
        assert!(error.starts_with("\"BeforeInstal\" is not an event of an in-place deployment"), "{error}");
    }

    #[test]
    fn deployment_ids_have_codedeploy_locals_form() {
        let id = new_deployment_id("abc");
        assert_eq!(id.len(), "d-123456789-local".len());
        assert!(id.starts_with("d-") && id.ends_with("-local"), "{id}");
    }
}
