//! The agent's main loop: recover from a crash, register, then long-poll, run and report, one command at a time.
//!
//! - **Recover**, first thing, before registering: for each command left in `ongoing-deployment` by a previous run
//!   (which died while running it), the hook script its tracking file names (pid and start time, so never a process
//!   that merely reuses the pid; never after a reboot) is killed with every process it started, also those re-parented
//!   to init when the agent died: SIGTERM, the kill grace, then SIGKILL (§8 case 1); what was killed is logged. Then
//!   the command is stored as Failed (`UnknownError`, [`RESTART_FAILURE_MESSAGE`]), unless its outcome had already
//!   been stored, and its tracking file removed. A tracking file older than 24 hours is removed without a report (its
//!   script is still killed).
//! - **Register** (idempotent) until the server answers; transport errors and 5xx are retried with jittered
//!   backoff, a 4xx ends the agent with an error. Then stored outcomes the server never acknowledged (the failures
//!   of interrupted commands among them) are reported.
//! - **Poll** with `wait_ms = --poll-wait-ms` and a request timeout of that plus [`POLL_MARGIN`]. A command whose
//!   id is already in the [`CommandStore`] is not run again: its stored outcome is re-reported. Otherwise the agent
//!   writes the tracking file, runs the event (naming each hook script in the tracking file while it runs), stores
//!   the outcome, removes the tracking file and reports.
//! - **Heartbeat** every `--heartbeat-ms` while a command runs (any event, DownloadBundle and Install included): the
//!   server fails an event whose agent it has not heard from for its agent lease, and polls only renew the lease
//!   between commands. A failed heartbeat is only logged. `command_active: false` (the deployment was stopped, or
//!   the server already failed the event as lost) is logged too, and nothing else happens: like CodeDeploy, the agent
//!   never kills a running script because of a stop; the command runs to its end and its report is refused.
//! - **Report** with jittered backoff (50 ms → 2 s) until the server answers; a 4xx (e.g. the command is no longer
//!   known) drops the report. Then poll again at once: no sleep on the dispatch path.
//! - **Shutdown** (the `shutdown` future completing): a running command is finished and reported (at least one
//!   attempt; unsent outcomes stay on disk and are re-reported at the next start), then `run` returns.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use cutover_api_types::agent::{HeartbeatRequest, HostCommand, PollRequest, RegisterRequest};
use cutover_client::agent::{AgentClient, AgentClientError, POLL_MARGIN};

use crate::bundle::HttpFetch;
use crate::config::AgentConfig;
use crate::executor::{EventOutcome, Executor, ExecutorOptions};
use crate::layout::Layout;
use crate::proctree::{self, Tree};
use crate::state::{CommandStore, Interrupted, RESTART_FAILURE_MESSAGE, ScriptProcess, StoredCommand, Tracking};
use crate::util::Backoff;

/// Runs the agent until `shutdown` completes (or registration is refused).
pub async fn run(config: AgentConfig, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
    config.validate()?;
    std::fs::create_dir_all(&config.root)
        .with_context(|| format!("cannot create the root directory {}", config.root.display()))?;
    let client = AgentClient::new(config.server_url.clone())?;
    let layout = Layout::new(&config.root);
    let executor = Executor::new(
        layout.clone(),
        Arc::new(HttpFetch::new(client.clone())),
        ExecutorOptions {
            max_revisions: config.max_revisions,
            kill_grace: config.kill_grace,
            drain_window: config.drain_window,
            extract_limits: config.extract_limits,
            destination_root: config.destination_root.clone(),
        },
    );
    let mut agent = Agent {
        store: CommandStore::new(&layout),
        tracking: Tracking::new(&layout),
        client,
        executor,
        shutdown: Shutdown::new(shutdown),
        instance_name: config.name.clone(),
        commands_since_prune: PRUNE_EVERY,
        config,
    };
    agent.run().await
}

struct Agent<F: Future<Output = ()>> {
    config: AgentConfig,
    client: AgentClient,
    executor: Executor,
    store: CommandStore,
    tracking: Tracking,
    shutdown: Shutdown<F>,
    instance_name: String,
    commands_since_prune: usize,
}

/// Commands between two prunings of the command store (which keeps the last [`CommandStore::KEEP`]).
const PRUNE_EVERY: usize = 20;

impl<F: Future<Output = ()>> Agent<F> {
    async fn run(&mut self) -> anyhow::Result<()> {
        // Before anything else: an orphaned hook must not keep running while the server is unreachable.
        self.recover_interrupted().await;
        if !self.register().await? {
            return Ok(());
        }
        self.report_unreported().await;
        if let Err(error) = self.store.prune() {
            tracing::warn!(%error, "cannot prune stored command results");
        }
        self.commands_since_prune = 0;
        let mut backoff = Backoff::new(Duration::from_millis(50), Duration::from_secs(2));
        while !self.shutdown.fired() {
            let request = PollRequest {
                instance_name: self.instance_name.clone(),
                wait_ms: self.config.poll_wait.as_millis() as u64,
            };
            let timeout = self.config.poll_wait + POLL_MARGIN;
            let polled = tokio::select! {
                polled = self.client.poll(&request, timeout) => polled,
                () = self.shutdown.wait() => break,
            };
            match polled {
                Ok(response) => {
                    backoff.reset();
                    if let Some(command) = response.command {
                        self.handle(command).await;
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "poll failed");
                    if !error.is_retryable() {
                        // The server may have forgotten this instance: register again (idempotent).
                        if !self.register().await? {
                            break;
                        }
                    }
                    if !self.sleep(backoff.next_delay()).await {
                        break;
                    }
                }
            }
        }
        tracing::info!("agent stopped");
        Ok(())
    }

    /// Registers until the server answers. Returns false on shutdown.
    async fn register(&mut self) -> anyhow::Result<bool> {
        let request = RegisterRequest {
            instance_name: self.config.name.clone(),
            tags: self.config.tags.clone(),
            agent_version: env!("CARGO_PKG_VERSION").to_owned(),
            hostname: hostname(),
        };
        let mut backoff = Backoff::new(Duration::from_millis(50), Duration::from_secs(5));
        loop {
            let result = tokio::select! {
                result = self.client.register(&request) => result,
                () = self.shutdown.wait() => return Ok(false),
            };
            match result {
                Ok(response) => {
                    if !response.instance_name.is_empty() {
                        self.instance_name = response.instance_name;
                    }
                    tracing::info!(instance = %self.instance_name, arn = %response.instance_arn, "registered");
                    return Ok(true);
                }
                Err(error) if error.is_retryable() => {
                    tracing::warn!(%error, "registration failed; retrying");
                    if !self.sleep(backoff.next_delay()).await {
                        return Ok(false);
                    }
                }
                Err(error) => return Err(error).context("the server refused to register this instance"),
            }
        }
    }

    /// Deals with the commands a previous run left unfinished: kills the hook script each was running (with what it
    /// started), then stores each as failed (to be reported once registered).
    async fn recover_interrupted(&mut self) {
        let interrupted = match self.tracking.interrupted() {
            Ok(interrupted) => interrupted,
            Err(error) => {
                tracing::error!(%error, "cannot read the ongoing-deployment directory");
                return;
            }
        };
        for command in interrupted {
            if let Some(script) = &command.script {
                kill_orphaned_script(&command, script, self.config.kill_grace).await;
            }
            if command.stale {
                tracing::info!(command_id = %command.command_id, "forgetting a tracking file older than 24 hours");
                self.tracking.forget(&command);
                continue;
            }
            match self.store.get(&command.command_id) {
                Ok(Some(_)) => {
                    tracing::info!(command_id = %command.command_id, "interrupted command had finished");
                }
                _ => {
                    tracing::warn!(
                        command_id = %command.command_id,
                        "a command was running when the agent stopped; reporting it failed"
                    );
                    let stored = StoredCommand {
                        command_id: command.command_id.clone(),
                        deployment_id: command.deployment_id.clone(),
                        lifecycle_event: String::new(),
                        outcome: EventOutcome::failure("UnknownError", RESTART_FAILURE_MESSAGE),
                        reported: false,
                    };
                    if let Err(error) = self.store.put(&stored) {
                        // The tracking file stays: the next start tries again.
                        tracing::error!(%error, "cannot store the result of the interrupted command");
                        continue;
                    }
                }
            }
            self.tracking.forget(&command);
        }
    }

    /// Reports the stored outcomes the server has not acknowledged.
    async fn report_unreported(&mut self) {
        match self.store.unreported() {
            Ok(unreported) => {
                for stored in unreported {
                    if self.shutdown.fired() {
                        return;
                    }
                    self.report(&stored).await;
                }
            }
            Err(error) => tracing::error!(%error, "cannot read stored command results"),
        }
    }

    async fn handle(&mut self, command: HostCommand) {
        match self.store.get(&command.command_id) {
            Ok(Some(stored)) => {
                tracing::info!(command_id = %command.command_id, "command already ran; reporting its stored result");
                self.report(&stored).await;
                return;
            }
            Ok(None) => {}
            Err(error) => tracing::error!(%error, "cannot read stored command results"),
        }
        let tracking = match self.tracking.begin(&command.deployment.deployment_id, &command.command_id) {
            Ok(record) => Some(record),
            Err(error) => {
                tracing::error!(%error, "cannot write the tracking file");
                None
            }
        };
        let outcome = {
            let executor = &self.executor;
            let mut event = std::pin::pin!(executor.run_event_tracked(&command, tracking.as_ref()));
            let mut beats = std::pin::pin!(heartbeats(
                &self.client,
                &self.instance_name,
                &command.command_id,
                self.config.heartbeat_interval,
            ));
            loop {
                tokio::select! {
                    outcome = &mut event => break outcome,
                    never = &mut beats => match never {},
                    () = self.shutdown.wait(), if !self.shutdown.fired() => {
                        tracing::info!("shutdown requested; finishing the running command first");
                    }
                }
            }
        };
        let stored = StoredCommand {
            command_id: command.command_id.clone(),
            deployment_id: command.deployment.deployment_id.clone(),
            lifecycle_event: command.lifecycle_event.clone(),
            outcome,
            reported: false,
        };
        if let Err(error) = self.store.put(&stored) {
            tracing::error!(%error, "cannot store the command result");
        }
        if let Some(record) = &tracking {
            self.tracking.end(record);
        }
        self.report(&stored).await;
        // Pruning lists the whole store: do it once every PRUNE_EVERY commands, not on the dispatch path of each.
        self.commands_since_prune += 1;
        if self.commands_since_prune >= PRUNE_EVERY {
            self.commands_since_prune = 0;
            if let Err(error) = self.store.prune() {
                tracing::warn!(%error, "cannot prune stored command results");
            }
        }
    }

    /// Sends a command's outcome until the server answers (or shutdown, after at least one attempt).
    async fn report(&mut self, stored: &StoredCommand) {
        let request = stored.outcome.to_complete_request(&self.instance_name, &stored.command_id);
        let mut backoff = Backoff::new(Duration::from_millis(50), Duration::from_secs(2));
        loop {
            match self.client.complete(&request).await {
                Ok(response) => {
                    if !response.accepted {
                        tracing::warn!(command_id = %stored.command_id, "the server no longer knows the command");
                    }
                    break;
                }
                Err(error) if error.is_retryable() => {
                    tracing::warn!(command_id = %stored.command_id, %error, "reporting failed; retrying");
                    if !self.sleep(backoff.next_delay()).await {
                        tracing::warn!(command_id = %stored.command_id, "shutting down; the result will be re-sent");
                        return;
                    }
                }
                Err(error) => {
                    log_rejection(&stored.command_id, &error);
                    break;
                }
            }
        }
        let mut reported = stored.clone();
        reported.reported = true;
        if let Err(error) = self.store.put(&reported) {
            tracing::warn!(%error, "cannot mark the command result as reported");
        }
    }

    /// Sleeps unless shutdown comes first. Returns false on shutdown.
    async fn sleep(&mut self, delay: Duration) -> bool {
        if self.shutdown.fired() {
            return false;
        }
        tokio::select! {
            () = tokio::time::sleep(delay) => true,
            () = self.shutdown.wait() => false,
        }
    }
}

/// Kills the hook script that an interrupted command was running, with every process it started (the whole tree is
/// found again from the script's recorded pid and start time, see [`proctree`]), and logs what was killed.
async fn kill_orphaned_script(command: &Interrupted, script: &ScriptProcess, grace: Duration) {
    let command_id = &command.command_id;
    if let (Some(recorded), Some(current)) = (&script.boot_id, proctree::boot_id())
        && *recorded != current
    {
        tracing::info!(%command_id, pid = script.pid, "the host rebooted since the interrupted hook script ran");
        return;
    }
    let mut tree = Tree::recorded(script.pid, script.start_time);
    let killed = tree.terminate(grace).await;
    if killed.terminated.is_empty() {
        tracing::info!(%command_id, pid = script.pid, "the hook script of the interrupted command is no longer running");
        return;
    }
    let pids = |members: &[proctree::Member]| members.iter().map(|member| member.pid.to_string()).collect::<Vec<_>>();
    tracing::warn!(
        %command_id,
        script_pid = script.pid,
        pids = %pids(&killed.terminated).join(" "),
        "killed the orphaned hook script of the interrupted command and the processes it started (SIGTERM)"
    );
    if !killed.killed.is_empty() {
        tracing::warn!(
            %command_id,
            pids = %pids(&killed.killed).join(" "),
            "processes of the orphaned hook script were still running after the kill grace; sent SIGKILL"
        );
    }
    if !killed.survivors.is_empty() {
        tracing::error!(
            %command_id,
            pids = %pids(&killed.survivors).join(" "),
            "processes of the orphaned hook script survived SIGKILL (uninterruptible sleep?)"
        );
    }
}

/// Sends a heartbeat for `command_id` every `interval`, until the caller drops the future (when the command ends).
/// Failures and `command_active: false` are logged once per streak, not at every beat.
async fn heartbeats(client: &AgentClient, instance_name: &str, command_id: &str, interval: Duration) -> Infallible {
    let request = HeartbeatRequest { instance_name: instance_name.to_owned(), command_id: Some(command_id.to_owned()) };
    // The poll that handed out the command has just renewed the lease: the first beat is due one interval later.
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
    // After a slow heartbeat (up to HEARTBEAT_TIMEOUT), send the next one at once rather than a burst of them.
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failing = false;
    let mut inactive = false;
    loop {
        ticks.tick().await;
        match client.heartbeat(&request).await {
            Ok(response) => {
                if failing {
                    tracing::info!(%command_id, "heartbeats reach the server again");
                    failing = false;
                }
                if !response.command_active && !inactive {
                    tracing::info!(
                        %command_id,
                        "the server no longer expects this command's result (the deployment was stopped, or the \
                         event was failed as lost); letting it run to its end, its report will be refused"
                    );
                }
                inactive = !response.command_active;
            }
            Err(error) if !failing => {
                tracing::warn!(%command_id, %error, "heartbeat failed; the server fails the command as lost if this lasts");
                failing = true;
            }
            Err(error) => tracing::debug!(%command_id, %error, "heartbeat failed again"),
        }
    }
}

fn log_rejection(command_id: &str, error: &AgentClientError) {
    tracing::error!(%command_id, %error, "the server rejected the command result; dropping it");
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname").map(|h| h.trim().to_owned()).unwrap_or_default()
}

/// A shutdown future that can be awaited repeatedly: once it completed, [`Shutdown::wait`] returns at once.
struct Shutdown<F: Future<Output = ()>> {
    signal: Pin<Box<F>>,
    fired: bool,
}

impl<F: Future<Output = ()>> Shutdown<F> {
    fn new(signal: F) -> Self {
        Self { signal: Box::pin(signal), fired: false }
    }

    fn fired(&self) -> bool {
        self.fired
    }

    async fn wait(&mut self) {
        if !self.fired {
            self.signal.as_mut().await;
            self.fired = true;
        }
    }
}
