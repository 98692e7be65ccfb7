//! Runs one host command (one lifecycle event) and turns the result into CodeDeploy diagnostics.
//!
//! [`Executor::run_event`] is the whole per-event behaviour, with no network and no retries, which is what the
//! integration tests drive:
//! - `DownloadBundle` → [`crate::bundle`]; `Install` → the `install` module. The runner runs events of different
//!   deployments at the same time, but Install events one at a time (one lock per executor, shared by its clones):
//!   the cleanup, plan and copy of one group's install assume that nothing else changes the destination tree
//!   meanwhile, and two groups often share destination ancestors (`/srv`, `/opt`): one group's cleanup removing a
//!   directory it created, left empty for a moment by the other group's cleanup, would break the other's plan;
//! - events that take scripts → the AppSpec's scripts for the event, run one after another, the first failure
//!   stopping the event. ApplicationStop, BeforeBlockTraffic and AfterBlockTraffic take the AppSpec and scripts of
//!   the group's last successful install (a no-op when there is none, e.g. on the first deployment); the others
//!   take them from the current deployment's `deployment-archive`. With [`Executor::run_event_tracked`], the
//!   command's tracking record names each script while it runs (see [`crate::state::Tracking`]);
//! - any other event (BlockTraffic, AllowTraffic, Start, End, names this agent does not know) succeeds as a no-op,
//!   and so does a command for `OnFailure`, which is no deployment step.
//!
//! **OnFailure** (a Cutover extension, `docs/appspec-extensions.md`; CodeDeploy's agent parses the hook but never
//! runs it). When an event fails on this host
//! (a script failed or timed out, or DownloadBundle or Install failed in the agent), the `OnFailure` scripts run
//! right away, before the failure is reported: those of the current deployment's `deployment-archive` if it exists,
//! else those of the group's last successful install, else none. They get the usual hook variables with
//! `LIFECYCLE_EVENT=OnFailure`, plus `FAILED_LIFECYCLE_EVENT=<the event that failed>`, and each its own timeout.
//! Their output is appended to the failed event's log (and so uploaded), but the diagnostics (error code, script,
//! message, log tail) are the failed event's, fixed before OnFailure starts; an OnFailure script that fails (or an
//! AppSpec that cannot be read) is only noted in the log. A failure that the runner records after an agent restart
//! (the event was interrupted by a crash) runs no OnFailure scripts: nothing is executed for it.
//!
//! Hook output always goes to the *current* deployment's `logs/scripts.log`, also when the scripts come from the last
//! successful install (the CodeDeploy agent writes those into the older revision's log, where nobody looks).
//! Blue/green rollbacks would take some hooks from other revisions (§3.2); the protocol does not carry the
//! deployment type yet, so every deployment uses the normal mapping.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use cutover_api_types::agent::{CompleteRequest, Diagnostics, HostCommand};
use cutover_domain::appspec::{AppSpec, HookScript, Os};
use cutover_domain::lifecycle::{LifecycleEvent, ScriptSource};
use serde::{Deserialize, Serialize};

use crate::archive::ExtractLimits;
use crate::bundle::{self, Fetch};
use crate::error::{Error, SUCCESS};
use crate::eventlog::{EventLog, LineObserver};
use crate::install;
use crate::layout::Layout;
use crate::script::{self, ScriptRun};
use crate::state::TrackingRecord;
use crate::util::now_ms;

/// AppSpec file names looked up at the revision root, in order.
pub const APPSPEC_FILE_NAMES: [&str; 2] = ["appspec.yml", "appspec.yaml"];

/// Tunables of event execution.
#[derive(Debug, Clone)]
pub struct ExecutorOptions {
    /// Revisions kept per deployment group (≥ 1), besides the current one.
    pub max_revisions: usize,
    /// Time between SIGTERM and SIGKILL of a timed-out script and the processes it started.
    pub kill_grace: Duration,
    /// How long a script's output is still read after it exited, when a background process keeps it open.
    pub drain_window: Duration,
    pub extract_limits: ExtractLimits,
    /// Prefix of every AppSpec destination and permission object (`--destination-root`); `None` is `/`.
    pub destination_root: Option<PathBuf>,
    /// Variables every hook gets besides the documented ones (`--hook-pass-env`); the hook variables win.
    pub hook_env: Vec<(String, String)>,
}

impl Default for ExecutorOptions {
    fn default() -> Self {
        Self {
            max_revisions: 5,
            kill_grace: Duration::from_secs(5),
            drain_window: Duration::from_secs(1),
            extract_limits: ExtractLimits::default(),
            destination_root: None,
            hook_env: Vec::new(),
        }
    }
}

/// The result of one event, as reported to the server (and kept on disk).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventOutcome {
    pub succeeded: bool,
    pub diagnostics: Diagnostics,
    /// The event's log (capped at 1 MiB).
    pub log: String,
    pub start_time_ms: i64,
    pub end_time_ms: i64,
}

impl EventOutcome {
    /// `Succeeded` or `Failed`.
    pub fn status(&self) -> &'static str {
        if self.succeeded { "Succeeded" } else { "Failed" }
    }

    /// A failed outcome that did not come from running the event (e.g. after an agent restart).
    pub fn failure(error_code: &str, message: &str) -> Self {
        let now = now_ms();
        Self {
            succeeded: false,
            diagnostics: Diagnostics {
                error_code: error_code.to_owned(),
                script_name: String::new(),
                message: message.to_owned(),
                log_tail: String::new(),
            },
            log: String::new(),
            start_time_ms: now,
            end_time_ms: now,
        }
    }

    /// The `POST /agent/v1/complete` body for this outcome.
    pub fn to_complete_request(&self, instance_name: &str, command_id: &str) -> CompleteRequest {
        CompleteRequest {
            instance_name: instance_name.to_owned(),
            command_id: command_id.to_owned(),
            status: self.status().to_owned(),
            diagnostics: self.diagnostics.clone(),
            start_time_ms: self.start_time_ms,
            end_time_ms: self.end_time_ms,
            log: self.log.clone(),
        }
    }
}

/// Runs lifecycle events on this host.
#[derive(Clone)]
pub struct Executor {
    layout: Layout,
    fetch: Arc<dyn Fetch>,
    options: ExecutorOptions,
    /// Held by the Install event running now: installs of different deployments never overlap.
    installing: Arc<tokio::sync::Mutex<()>>,
}

impl std::fmt::Debug for Executor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Executor").field("layout", &self.layout).field("options", &self.options).finish()
    }
}

impl Executor {
    pub fn new(layout: Layout, fetch: Arc<dyn Fetch>, options: ExecutorOptions) -> Self {
        Self { layout, fetch, options, installing: Arc::default() }
    }

    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// Runs one command to completion and returns its outcome. Never panics on bad input; every failure becomes
    /// a failed outcome with CodeDeploy diagnostics.
    pub async fn run_event(&self, command: &HostCommand) -> EventOutcome {
        self.run_event_tracked(command, None).await
    }

    /// [`Executor::run_event`], naming each hook script in `tracking` (the command's tracking record) while it runs,
    /// so that an agent restarted after a crash can kill it.
    pub async fn run_event_tracked(&self, command: &HostCommand, tracking: Option<&TrackingRecord>) -> EventOutcome {
        self.run_event_observed(command, tracking, None).await
    }

    /// [`Executor::run_event_tracked`], with `observer` seeing every line of the event's log as it is written.
    pub async fn run_event_observed(
        &self,
        command: &HostCommand,
        tracking: Option<&TrackingRecord>,
        observer: Option<LineObserver>,
    ) -> EventOutcome {
        let start_time_ms = now_ms();
        let deployment = &command.deployment;
        let event = command.lifecycle_event.parse::<LifecycleEvent>().ok();
        let deployment_dir = self.layout.deployment_dir(&deployment.deployment_group_id, &deployment.deployment_id);
        let scripts_log = event.filter(|e| e.accepts_scripts()).map(|_| Layout::scripts_log(&deployment_dir));
        let log = EventLog::new(&deployment.deployment_id, &self.layout.deployments_log(), scripts_log, observer)
            .with_masks(Layout::masks_file(&deployment_dir));
        tracing::info!(command_id = %command.command_id, event = %command.lifecycle_event, "running command");

        let result = match event {
            Some(LifecycleEvent::OnFailure) => {
                log.line("[agent] OnFailure is no deployment step: its scripts run only when another event fails");
                Ok(())
            }
            Some(LifecycleEvent::DownloadBundle) => {
                bundle::download_bundle(
                    &self.layout,
                    self.fetch.as_ref(),
                    command,
                    self.options.max_revisions.max(1),
                    self.options.extract_limits,
                    &log,
                )
                .await
            }
            Some(LifecycleEvent::Install) => self.install(command, &deployment_dir, &log).await,
            Some(event) if event.accepts_scripts() => {
                self.run_hooks(command, event, &deployment_dir, &log, tracking).await
            }
            _ => {
                log.line(&format!("[agent] {}: nothing to do on the host", command.lifecycle_event));
                Ok(())
            }
        };

        let (succeeded, mut diagnostics) = match &result {
            Ok(()) => {
                (true, Diagnostics { error_code: SUCCESS.into(), message: "Succeeded".into(), ..Default::default() })
            }
            Err(error) => {
                log.line(&format!("[agent] {} failed: {error}", command.lifecycle_event));
                (
                    false,
                    Diagnostics {
                        error_code: error.error_code().into(),
                        script_name: error.script_name().unwrap_or_default().into(),
                        message: error.to_string(),
                        log_tail: String::new(),
                    },
                )
            }
        };
        diagnostics.log_tail = log.tail();
        // After the diagnostics are fixed: OnFailure only adds to the log.
        if let (Err(_), Some(failed)) = (&result, event) {
            self.run_on_failure(command, failed, &deployment_dir, &log, tracking).await;
        }
        let end_time_ms = now_ms();
        match &result {
            Ok(()) => tracing::info!(command_id = %command.command_id, "command succeeded"),
            Err(error) => tracing::warn!(command_id = %command.command_id, %error, "command failed"),
        }
        EventOutcome { succeeded, diagnostics, log: log.contents(), start_time_ms, end_time_ms }
    }

    async fn install(&self, command: &HostCommand, deployment_dir: &Path, log: &EventLog) -> Result<(), Error> {
        let archive = Layout::archive_dir(deployment_dir);
        if !archive.is_dir() {
            return Err(Error::Install(format!(
                "The deployment archive {} does not exist; DownloadBundle must succeed before Install",
                archive.display()
            )));
        }
        let layout = self.layout.clone();
        let group_id = command.deployment.deployment_group_id.clone();
        let deployment_behavior = command.deployment.file_exists_behavior.clone();
        let deployment_dir = deployment_dir.to_path_buf();
        let destination_root = self.options.destination_root.clone();
        let allow_setuid = self.options.extract_limits.allow_setuid;
        let log = log.clone();
        // Moved into the blocking task: the lock is held until the install is over, even if this future is dropped.
        let one_install_at_a_time = self.installing.clone().lock_owned().await;
        tokio::task::spawn_blocking(move || {
            let _one_install_at_a_time = one_install_at_a_time;
            let appspec = load_appspec(&archive)?;
            let behavior = install::effective_file_exists_behavior(&appspec, deployment_behavior.as_deref())?;
            log.line(&format!("[agent] Installing with file_exists_behavior {}", behavior.as_str()));
            let options = install::InstallOptions { destination_root: destination_root.as_deref(), allow_setuid };
            install::install(&layout, &group_id, &deployment_dir, &appspec, behavior, &options, &log).map(|_| ())
        })
        .await
        .map_err(|e| Error::Install(format!("internal error while installing: {e}")))?
    }

    async fn run_hooks(
        &self,
        command: &HostCommand,
        event: LifecycleEvent,
        deployment_dir: &Path,
        log: &EventLog,
        tracking: Option<&TrackingRecord>,
    ) -> Result<(), Error> {
        let Some(source_dir) = self.script_source_dir(command, event, deployment_dir)? else {
            tracing::info!(%event, "no previous successful install of the group; nothing to run");
            return Ok(());
        };
        let archive = Layout::archive_dir(&source_dir);
        let appspec = load_appspec_blocking(&archive).await?;
        let scripts = appspec.scripts(event);
        if scripts.is_empty() {
            return Ok(());
        }
        log.line(&format!("LifecycleEvent - {event}"));
        let env = self.hook_environment(command, event);
        self.run_scripts(&archive, scripts, &env, log, tracking).await
    }

    /// The deployment directory whose `deployment-archive` holds the scripts of `event`, or `None` when the event
    /// takes them from the last successful install and there is none.
    fn script_source_dir(
        &self,
        command: &HostCommand,
        event: LifecycleEvent,
        deployment_dir: &Path,
    ) -> Result<Option<PathBuf>, Error> {
        let last_successful = || {
            let pointer = self.layout.last_successful_install_file(&command.deployment.deployment_group_id);
            let previous = Layout::read_install_pointer(&pointer)
                .map_err(|e| Error::io(format!("cannot read {}", pointer.display()), e))?;
            Ok(previous.filter(|dir| Layout::archive_dir(dir).is_dir()))
        };
        let current_exists = Layout::archive_dir(deployment_dir).is_dir();
        let blue_green_rollback = command.deployment.creator == "codeDeployRollback"
            && command.deployment.deployment_type.as_deref() == Some("BLUE_GREEN");
        match event.script_source_in(blue_green_rollback) {
            ScriptSource::Current if current_exists => Ok(Some(deployment_dir.to_path_buf())),
            ScriptSource::Current => Err(Error::Install(format!(
                "The deployment archive {} does not exist; DownloadBundle must succeed before {event}",
                Layout::archive_dir(deployment_dir).display()
            ))),
            ScriptSource::LastSuccessfulInstall => last_successful(),
            ScriptSource::MostRecentInstall => {
                let pointer = self.layout.most_recent_install_file(&command.deployment.deployment_group_id);
                let recent = Layout::read_install_pointer(&pointer)
                    .map_err(|e| Error::io(format!("cannot read {}", pointer.display()), e))?;
                Ok(recent.filter(|dir| Layout::archive_dir(dir).is_dir()))
            }
            ScriptSource::CurrentElseLastSuccessfulInstall if current_exists => Ok(Some(deployment_dir.to_path_buf())),
            ScriptSource::CurrentElseLastSuccessfulInstall => last_successful(),
        }
    }

    /// Runs `scripts` of the revision in `archive` one after another; the first failure stops them.
    async fn run_scripts(
        &self,
        archive: &Path,
        scripts: &[HookScript],
        env: &[(String, String)],
        log: &EventLog,
        tracking: Option<&TrackingRecord>,
    ) -> Result<(), Error> {
        for hook in scripts {
            let path = script_path(archive, &hook.location)?;
            let run = ScriptRun {
                location: hook.location.clone(),
                path,
                timeout: Duration::from_secs(hook.timeout_secs.max(1)),
                runas: hook.runas.clone(),
                sudo: hook.sudo,
                env: env.to_vec(),
                kill_grace: self.options.kill_grace,
                drain_window: self.options.drain_window,
            };
            script::run(&run, log, tracking).await?;
        }
        Ok(())
    }

    /// Runs the `OnFailure` scripts after `failed` failed, appending to its log; whatever happens is only logged.
    async fn run_on_failure(
        &self,
        command: &HostCommand,
        failed: LifecycleEvent,
        deployment_dir: &Path,
        log: &EventLog,
        tracking: Option<&TrackingRecord>,
    ) {
        let event = LifecycleEvent::OnFailure;
        let unchanged = format!("the failure of {failed} is reported unchanged");
        let source_dir = match self.script_source_dir(command, event, deployment_dir) {
            Ok(Some(dir)) => dir,
            Ok(None) => return,
            Err(error) => {
                log.line(&format!("[agent] Cannot run the OnFailure hook: {error}; {unchanged}"));
                return;
            }
        };
        let archive = Layout::archive_dir(&source_dir);
        let appspec = match load_appspec_blocking(&archive).await {
            Ok(appspec) => appspec,
            Err(error) => {
                log.line(&format!("[agent] Cannot run the OnFailure hook: {error}; {unchanged}"));
                return;
            }
        };
        let scripts = appspec.scripts(event);
        if scripts.is_empty() {
            return;
        }
        log.line(&format!("[agent] {failed} failed; running the OnFailure hook of {}", archive.display()));
        log.line(&format!("LifecycleEvent - {event}"));
        let mut env = self.hook_environment(command, event);
        env.push(("FAILED_LIFECYCLE_EVENT".to_owned(), failed.as_str().to_owned()));
        match self.run_scripts(&archive, scripts, &env, log, tracking).await {
            Ok(()) => log.line("[agent] The OnFailure hook succeeded"),
            Err(error) => log.line(&format!("[agent] The OnFailure hook failed: {error}; {unchanged}")),
        }
    }

    /// The variables a hook of `command` gets besides the base ones: `--hook-pass-env`, then CodeDeploy's.
    fn hook_environment(&self, command: &HostCommand, event: LifecycleEvent) -> Vec<(String, String)> {
        let mut env = self.options.hook_env.clone();
        env.extend(hook_environment(command, event));
        env
    }
}

/// [`load_appspec`] on the blocking pool.
async fn load_appspec_blocking(archive: &Path) -> Result<AppSpec, Error> {
    let archive = archive.to_path_buf();
    tokio::task::spawn_blocking(move || load_appspec(&archive))
        .await
        .map_err(|e| Error::AppSpec(format!("internal error while reading the AppSpec: {e}")))?
}

/// Reads and validates the revision's AppSpec (`appspec.yml`, else `appspec.yaml`).
pub fn load_appspec(archive: &Path) -> Result<AppSpec, Error> {
    let Some(path) = APPSPEC_FILE_NAMES.iter().map(|name| archive.join(name)).find(|path| path.is_file()) else {
        return Err(Error::AppSpec(format!(
            "The revision in {} has no appspec.yml (or appspec.yaml) at its root",
            archive.display()
        )));
    };
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
    let appspec = cutover_domain::appspec::parse(&text).map_err(|diagnostics| {
        let lines: Vec<String> = diagnostics.iter().map(ToString::to_string).collect();
        Error::AppSpec(format!("The AppSpec file {} is invalid:\n{}", path.display(), lines.join("\n")))
    })?;
    if appspec.os != Os::Linux {
        return Err(Error::AppSpec(format!(
            "The AppSpec file {} targets os: windows, but this agent runs on Linux",
            path.display()
        )));
    }
    Ok(appspec)
}

/// The absolute path of a hook script; a location that climbs out of the revision is refused.
fn script_path(archive: &Path, location: &str) -> Result<PathBuf, Error> {
    let relative = Path::new(location.trim_start_matches('/'));
    if relative.components().any(|c| matches!(c, Component::ParentDir)) || relative.as_os_str().is_empty() {
        return Err(Error::AppSpec(format!("The script location {location} points outside the revision")));
    }
    Ok(archive.join(relative))
}

/// CodeDeploy's hook variables for `command`.
fn hook_environment(command: &HostCommand, event: LifecycleEvent) -> Vec<(String, String)> {
    let deployment = &command.deployment;
    let revision = &deployment.revision;
    let mut env = vec![
        ("LIFECYCLE_EVENT".to_owned(), event.as_str().to_owned()),
        ("DEPLOYMENT_ID".to_owned(), deployment.deployment_id.clone()),
        ("APPLICATION_NAME".to_owned(), deployment.application_name.clone()),
        ("DEPLOYMENT_GROUP_NAME".to_owned(), deployment.deployment_group_name.clone()),
        ("DEPLOYMENT_GROUP_ID".to_owned(), deployment.deployment_group_id.clone()),
    ];
    let optional = [
        ("BUNDLE_BUCKET", &revision.bucket),
        ("BUNDLE_KEY", &revision.key),
        ("BUNDLE_VERSION", &revision.version),
        ("BUNDLE_ETAG", &revision.etag),
        ("BUNDLE_COMMIT", &revision.commit_id),
    ];
    for (name, value) in optional {
        if let Some(value) = value.as_deref().filter(|v| !v.is_empty()) {
            env.push((name.to_owned(), value.to_owned()));
        }
    }
    env
}
