//! The agent's main loop: register, recover from a crash, then long-poll, run and report, one command at a time.
//!
//! - **Register** (idempotent) until the server answers; transport errors and 5xx are retried with jittered
//!   backoff, a 4xx ends the agent with an error.
//! - **Recover**: a command left in `ongoing-deployment` by a previous run is stored and reported as Failed
//!   (`UnknownError`, [`RESTART_FAILURE_MESSAGE`]), unless its outcome had already been stored. Stored outcomes the
//!   server never acknowledged are reported again.
//! - **Poll** with `wait_ms = --poll-wait-ms` and a request timeout of that plus [`POLL_MARGIN`]. A command whose
//!   id is already in the [`CommandStore`] is not run again: its stored outcome is re-reported. Otherwise the agent
//!   writes the tracking file, runs the event, stores the outcome, removes the tracking file and reports.
//! - **Report** with jittered backoff (50 ms → 2 s) until the server answers; a 4xx (e.g. the command is no longer
//!   known) drops the report. Then poll again at once: no sleep on the dispatch path.
//! - **Shutdown** (the `shutdown` future completing): a running command is finished and reported (at least one
//!   attempt; unsent outcomes stay on disk and are re-reported at the next start), then `run` returns.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use cutover_api_types::agent::{HostCommand, PollRequest, RegisterRequest};
use cutover_client::agent::{AgentClient, AgentClientError, POLL_MARGIN};

use crate::bundle::HttpFetch;
use crate::config::AgentConfig;
use crate::executor::{EventOutcome, Executor, ExecutorOptions};
use crate::layout::Layout;
use crate::state::{CommandStore, RESTART_FAILURE_MESSAGE, StoredCommand, Tracking};
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
        if !self.register().await? {
            return Ok(());
        }
        self.recover().await;
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

    /// Reports commands a previous run left unfinished or unreported.
    async fn recover(&mut self) {
        match self.tracking.take_interrupted() {
            Ok(interrupted) => {
                for command in interrupted {
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
                                tracing::error!(%error, "cannot store the result of the interrupted command");
                            }
                        }
                    }
                }
            }
            Err(error) => tracing::error!(%error, "cannot read the ongoing-deployment directory"),
        }
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
        let tracking_file = match self.tracking.begin(&command.deployment.deployment_id, &command.command_id) {
            Ok(path) => Some(path),
            Err(error) => {
                tracing::error!(%error, "cannot write the tracking file");
                None
            }
        };
        let outcome = {
            let executor = &self.executor;
            let mut event = std::pin::pin!(executor.run_event(&command));
            loop {
                tokio::select! {
                    outcome = &mut event => break outcome,
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
        if let Some(path) = tracking_file {
            self.tracking.end(&path);
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
