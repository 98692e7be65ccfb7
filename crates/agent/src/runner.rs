//! The agent's main loop: recover from a crash, register, then long-poll and run commands, each in its own task, up
//! to `--max-concurrent-commands` at once (default 16), each of a different deployment.
//!
//! - **Recover**, first thing, before registering: for each command left in `ongoing-deployment` by a previous run
//!   (which died while running it; there is one file per deployment, so several commands may have been
//!   interrupted), the hook script its tracking file names (pid and start time, so never a process that merely
//!   reuses the pid; never after a reboot) is killed with every process it started, also those re-parented to init
//!   when the agent died: SIGTERM, the kill grace, then SIGKILL (§8 case 1); the scripts of all interrupted commands
//!   are killed at once, and what was killed is logged. Then each command is stored as Failed (`UnknownError`,
//!   [`RESTART_FAILURE_MESSAGE`]), unless its outcome had already been stored, and its tracking file removed. A
//!   tracking file older than 24 hours is removed without a report (its script is still killed).
//! - **Register** (idempotent) until the server answers; transport errors and 5xx are retried with jittered
//!   backoff, a 4xx ends the agent with an error (once the running commands ended). Then stored outcomes the server
//!   never acknowledged (the failures of interrupted commands among them) are reported.
//! - **Poll** with `wait_ms = --poll-wait-ms`, a request timeout of that plus [`POLL_MARGIN`], and the ids of the
//!   commands running now in `running_command_ids` (the server hands out none of them, nor any other event of their
//!   deployments). Each command received is spawned as its own task, and the agent polls again at once while fewer
//!   than `--max-concurrent-commands` run; at the cap it polls again only when one of them ends. When a command ends
//!   while a poll is held by the server, that poll is abandoned and a new one sent, so that the server may hand out
//!   the next event of the finished command's deployment at once (an answer lost this way is handed out again by
//!   the server, with the same id). A command whose id is running already is never started twice: a second delivery
//!   is ignored. A host runs one event of a deployment at a time (the server guarantees it too): a command of a
//!   deployment that has one running waits for it to end.
//! - **Run** (in the command's task): a command whose id is already in the [`CommandStore`] is not run again: its
//!   stored outcome is re-reported. Otherwise the task writes the deployment's tracking file, runs the event (naming
//!   each hook script in the tracking file while it runs), stores the outcome, removes the tracking file and reports.
//!   Besides their deployment's files, commands share the deployments log (each line appended whole, see `eventlog`),
//!   the command store (one file per command) and the destination tree, which Install events change one at a time
//!   (see [`crate::executor`]); the files of `deployment-instructions` are per deployment group.
//! - **Stream** the event's log while it runs (see [`crate::livelog`]), flushing what is left before the report.
//! - **Heartbeat** every `--heartbeat-ms` for each running command (any event, DownloadBundle and Install included),
//!   from the command's task: the server fails an event whose agent it has not heard from for its agent lease. A
//!   failed heartbeat is only logged. `command_active: false` (the deployment was stopped, or the server already
//!   failed the event as lost) is logged too, and nothing else happens: like CodeDeploy, the agent never kills a
//!   running script because of a stop; the command runs to its end and its report is refused. A command that logs
//!   something heartbeats soon after, with the new lines (the live log the console shows).
//! - **Report** with jittered backoff (50 ms → 2 s) until the server answers; a 4xx (e.g. the command is no longer
//!   known) drops the report. A command stays in `running_command_ids` until its report is done.
//! - **Shutdown** (the `shutdown` future completing): polling stops (a poll in flight is abandoned), every running
//!   command is finished and reported (at least one attempt; unsent outcomes stay on disk and are re-reported at the
//!   next start), then `run` returns.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use cutover_api_types::agent::{HeartbeatRequest, HostCommand, PollRequest, PollResponse, RegisterRequest};
use cutover_client::agent::{AgentClient, AgentClientError, POLL_MARGIN};
use tokio::sync::watch;
use tokio::task::{JoinError, JoinSet};
use tokio::time::Instant;
use tracing::Instrument;

use crate::bundle::HttpFetch;
use crate::command::{CommandRunner, Ran};
use crate::config::AgentConfig;
use crate::containers::{Supervisor, SupervisorConfig};
use crate::executor::{EventOutcome, Executor, ExecutorOptions};
use crate::identity::Identity;
use crate::layout::Layout;
use crate::livelog::LiveLog;
use crate::monitoring;
use crate::proctree::{self, Tree};
use crate::state::{Interrupted, RESTART_FAILURE_MESSAGE, ScriptProcess, StoredCommand};
use crate::util::Backoff;

/// Runs the agent until `shutdown` completes (or registration is refused).
pub async fn run(config: AgentConfig, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
    config.validate()?;
    std::fs::create_dir_all(&config.root)
        .with_context(|| format!("cannot create the root directory {}", config.root.display()))?;
    if let Some(listen) = &config.metrics_listen {
        monitoring::start(listen, &config.root).await?;
    }
    let identity = Identity::load_or_create(&config.root, &config.name)?;
    let mut client = AgentClient::new(config.server_url.clone())?.with_credentials(identity.credentials());
    if let Some(path) = &config.ca_file {
        let pem = std::fs::read(path).with_context(|| format!("cannot read the CA file {}", path.display()))?;
        client = client.with_ca_pem(&pem)?;
    }
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
            hook_env: config.hook_env.clone(),
        },
    );
    let (stop, stopped) = watch::channel(false);
    let worker = Arc::new(Worker {
        client: client.clone(),
        commands: CommandRunner::new(executor),
        heartbeat_interval: config.heartbeat_interval,
        stopped,
    });
    let mut agent = Agent {
        worker,
        client,
        shutdown: Shutdown::new(shutdown),
        stop,
        instance_name: config.name.clone(),
        running: HashMap::new(),
        tasks: JoinSet::new(),
        deployments: HashMap::new(),
        commands_since_prune: PRUNE_EVERY,
        identity,
        config,
    };
    agent.run().await
}

/// The main loop's state: polling, and the tasks of the running commands.
struct Agent<F: Future<Output = ()>> {
    config: AgentConfig,
    client: AgentClient,
    worker: Arc<Worker>,
    shutdown: Shutdown<F>,
    /// Set once the agent stops: tells the tasks to give up retrying their reports (after one attempt).
    stop: watch::Sender<bool>,
    instance_name: String,
    /// The commands being run (from the moment they are received until their report is done), by task.
    running: HashMap<tokio::task::Id, Running>,
    tasks: JoinSet<()>,
    /// One lock per deployment with a command received: held by the task running it, so that a deployment runs one
    /// event at a time. Dropped once no task holds it.
    deployments: HashMap<String, Arc<tokio::sync::Mutex<()>>>,
    commands_since_prune: usize,
    identity: Identity,
}

/// A command being run.
struct Running {
    command_id: String,
    deployment_id: String,
}

/// What one running command's task needs; shared by all of them.
struct Worker {
    client: AgentClient,
    commands: CommandRunner,
    heartbeat_interval: Duration,
    /// True once the agent stops.
    stopped: watch::Receiver<bool>,
}

/// Commands between two prunings of the command store (which keeps the last [`CommandStore::KEEP`]).
const PRUNE_EVERY: usize = 20;

/// A poll in flight.
type PollFuture = Pin<Box<dyn Future<Output = Result<PollResponse, AgentClientError>> + Send>>;

/// What woke the main loop up.
enum Wake {
    Shutdown,
    /// Boxed: a response holds a whole command.
    Polled(Box<Result<PollResponse, AgentClientError>>),
    Finished(Result<(tokio::task::Id, ()), JoinError>),
    Retry,
}

impl<F: Future<Output = ()>> Agent<F> {
    async fn run(&mut self) -> anyhow::Result<()> {
        // Before anything else: an orphaned hook must not keep running while the server is unreachable.
        self.recover_interrupted().await;
        let result = self.serve().await;
        if !self.running.is_empty() {
            tracing::info!(commands = self.running.len(), "waiting for the running commands to finish");
        }
        // Tasks retry their reports until the server answers, unless the agent is stopping: then one attempt only.
        self.stop.send_replace(true);
        while let Some(joined) = self.tasks.join_next_with_id().await {
            self.finished(joined);
        }
        tracing::info!("agent stopped");
        result
    }

    /// Registers, reports what was left unreported, then polls and runs commands until shutdown.
    async fn serve(&mut self) -> anyhow::Result<()> {
        if !self.register().await? {
            return Ok(());
        }
        self.report_unreported().await;
        // Container services, next to the poll loop until it ends (their containers keep running).
        let _containers = self.start_containers();
        if let Err(error) = self.worker.commands.store().prune() {
            tracing::warn!(%error, "cannot prune stored command results");
        }
        self.commands_since_prune = 0;
        let mut backoff = Backoff::new(Duration::from_millis(50), Duration::from_secs(2));
        let mut poll: Option<PollFuture> = None;
        let mut retry_at: Option<Instant> = None;
        loop {
            if poll.is_none() && retry_at.is_none() && self.running.len() < self.config.max_concurrent_commands {
                poll = Some(self.start_poll());
            }
            let wake = {
                let tasks = &mut self.tasks;
                tokio::select! {
                    biased;
                    () = self.shutdown.wait() => Wake::Shutdown,
                    // Before a finished task: an answer that has arrived is taken, not abandoned.
                    polled = in_flight(poll.as_mut()), if poll.is_some() => Wake::Polled(Box::new(polled)),
                    Some(joined) = tasks.join_next_with_id(), if !tasks.is_empty() => Wake::Finished(joined),
                    () = tokio::time::sleep_until(retry_at.unwrap_or_else(Instant::now)), if retry_at.is_some() => {
                        Wake::Retry
                    }
                }
            };
            match wake {
                Wake::Shutdown => {
                    if !self.running.is_empty() {
                        tracing::info!(
                            commands = self.running.len(),
                            "shutdown requested; no more polls, finishing the running commands first"
                        );
                    }
                    return Ok(());
                }
                Wake::Polled(polled) => {
                    poll = None;
                    match *polled {
                        Ok(response) => {
                            metrics::counter!(monitoring::POLLS).increment(1);
                            monitoring::server_answered();
                            backoff.reset();
                            if let Some(command) = response.command {
                                self.accept(command);
                            }
                        }
                        Err(error) => {
                            metrics::counter!(monitoring::POLL_ERRORS).increment(1);
                            tracing::warn!(%error, "poll failed");
                            if !error.is_retryable() {
                                // The server may have forgotten this instance: register again (idempotent).
                                if !self.register().await? {
                                    return Ok(());
                                }
                            }
                            retry_at = Some(Instant::now() + backoff.next_delay());
                        }
                    }
                }
                Wake::Finished(joined) => {
                    self.finished(joined);
                    // The poll in flight names the finished command as running, and the server holds back its
                    // deployment's next event because of that: abandon it and poll again with the current set.
                    poll = None;
                }
                Wake::Retry => retry_at = None,
            }
        }
    }

    /// Starts the task-set supervisor (unless `--no-containers`); it runs until the guard is dropped.
    fn start_containers(&self) -> Option<AbortOnDrop> {
        if !self.config.containers {
            return None;
        }
        let supervisor = Supervisor::new(
            self.client.clone(),
            SupervisorConfig {
                instance_name: self.instance_name.clone(),
                docker_socket: self.config.docker_socket.clone(),
                publish_ip: self.config.container_publish_ip,
                state_file: Layout::new(&self.config.root).task_sets_file(),
            },
        );
        Some(AbortOnDrop(tokio::spawn(supervisor.run())))
    }

    /// A poll naming the commands running now.
    fn start_poll(&self) -> PollFuture {
        let mut running_command_ids: Vec<String> =
            self.running.values().map(|running| running.command_id.clone()).collect();
        running_command_ids.sort();
        let request = PollRequest {
            instance_name: self.instance_name.clone(),
            wait_ms: self.config.poll_wait.as_millis() as u64,
            running_command_ids,
        };
        let timeout = self.config.poll_wait + POLL_MARGIN;
        let client = self.client.clone();
        Box::pin(async move { client.poll(&request, timeout).await })
    }

    /// Starts a received command in its own task, unless it is running already.
    fn accept(&mut self, command: HostCommand) {
        let command_id = command.command_id.clone();
        let deployment_id = command.deployment.deployment_id.clone();
        if self.running.values().any(|running| running.command_id == command_id) {
            tracing::warn!(%command_id, "the server handed out a command that is running already; ignoring it");
            return;
        }
        if self.running.values().any(|running| running.deployment_id == deployment_id) {
            tracing::warn!(
                %command_id,
                %deployment_id,
                "another event of the deployment is running on this host; this one starts once it ends"
            );
        }
        let deployment = self.deployments.entry(deployment_id.clone()).or_default().clone();
        let worker = self.worker.clone();
        let instance_name = self.instance_name.clone();
        // Every line logged for the command carries its deployment, instance and event.
        let span = tracing::info_span!(
            "command",
            deployment_id = %deployment_id,
            instance = %instance_name,
            command_id = %command_id,
            event = %command.lifecycle_event,
        );
        metrics::gauge!(monitoring::COMMANDS_RUNNING).increment(1.0);
        let task = self.tasks.spawn(
            async move {
                let _one_event_of_the_deployment_at_a_time = deployment.lock().await;
                worker.handle(&instance_name, command).await;
            }
            .instrument(span),
        );
        self.running.insert(task.id(), Running { command_id, deployment_id });
    }

    /// Forgets a command whose task ended; prunes the command store now and then.
    fn finished(&mut self, joined: Result<(tokio::task::Id, ()), JoinError>) {
        let id = match &joined {
            Ok((id, ())) => *id,
            Err(error) => error.id(),
        };
        let running = self.running.remove(&id);
        if running.is_some() {
            metrics::gauge!(monitoring::COMMANDS_RUNNING).decrement(1.0);
        }
        if let Err(error) = joined {
            // Its tracking file (if written) is left behind: the next start reports the command failed.
            let command_id = running.as_ref().map(|running| running.command_id.as_str()).unwrap_or_default();
            tracing::error!(%command_id, %error, "the task running a command failed");
        }
        self.deployments.retain(|_, lock| Arc::strong_count(lock) > 1);
        // Pruning lists the whole store: do it once every PRUNE_EVERY commands, not on the dispatch path of each.
        self.commands_since_prune += 1;
        if self.commands_since_prune >= PRUNE_EVERY {
            self.commands_since_prune = 0;
            if let Err(error) = self.worker.commands.store().prune() {
                tracing::warn!(%error, "cannot prune stored command results");
            }
        }
    }

    /// Registers until the server answers. Returns false on shutdown.
    async fn register(&mut self) -> anyhow::Result<bool> {
        let mut request = RegisterRequest {
            instance_name: self.config.name.clone(),
            tags: self.config.tags.clone(),
            agent_version: env!("CARGO_PKG_VERSION").to_owned(),
            hostname: hostname(),
            ..RegisterRequest::default()
        };
        let enrolling = !self.identity.enrolled();
        if enrolling {
            let path = self.config.enrollment_token_file.as_ref().ok_or_else(|| {
                anyhow::anyhow!(
                    "this agent has no credential yet: start it once with --enrollment-token-file PATH (the server \
                     writes a token to DATA_DIR/enrollment-token; `cutover enrollment-token create` makes more)"
                )
            })?;
            let token = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the enrolment token {}", path.display()))?;
            let credentials = self.identity.credentials();
            request.enrollment_token = Some(token.trim().to_owned());
            request.access_key_id = Some(credentials.access_key_id);
            request.secret_access_key = Some(credentials.secret_access_key);
        }
        let mut backoff = Backoff::new(Duration::from_millis(50), Duration::from_secs(5));
        loop {
            let call = async {
                if enrolling { self.client.enroll(&request).await } else { self.client.register(&request).await }
            };
            let result = tokio::select! {
                result = call => result,
                () = self.shutdown.wait() => return Ok(false),
            };
            match result {
                Ok(response) => {
                    if enrolling {
                        self.identity.mark_enrolled()?;
                        tracing::info!(instance = %self.config.name, "enrolled with the server; requests are signed from now on");
                    }
                    monitoring::server_answered();
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
    /// started; all of them at once), then stores each as failed (to be reported once registered).
    async fn recover_interrupted(&mut self) {
        let interrupted = match self.worker.commands.tracking().interrupted() {
            Ok(interrupted) => interrupted,
            Err(error) => {
                tracing::error!(%error, "cannot read the ongoing-deployment directory");
                return;
            }
        };
        let mut kills = JoinSet::new();
        for command in &interrupted {
            if let Some(script) = command.script.clone() {
                let command = command.clone();
                let grace = self.config.kill_grace;
                kills.spawn(async move { kill_orphaned_script(&command, &script, grace).await });
            }
        }
        while kills.join_next().await.is_some() {}
        let (store, tracking) = (self.worker.commands.store(), self.worker.commands.tracking());
        for command in interrupted {
            if command.stale {
                tracing::info!(command_id = %command.command_id, "forgetting a tracking file older than 24 hours");
                tracking.forget(&command);
                continue;
            }
            match store.get(&command.command_id) {
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
                    if let Err(error) = store.put(&stored) {
                        // The tracking file stays: the next start tries again.
                        tracing::error!(%error, "cannot store the result of the interrupted command");
                        continue;
                    }
                }
            }
            tracking.forget(&command);
        }
    }

    /// Reports the stored outcomes the server has not acknowledged.
    async fn report_unreported(&mut self) {
        let unreported = match self.worker.commands.store().unreported() {
            Ok(unreported) => unreported,
            Err(error) => {
                tracing::error!(%error, "cannot read stored command results");
                return;
            }
        };
        for stored in unreported {
            if self.shutdown.fired() {
                return;
            }
            let report = self.worker.report(&self.instance_name, &stored);
            let mut report = std::pin::pin!(report);
            loop {
                tokio::select! {
                    () = &mut report => break,
                    // The report gives up after its current attempt once told so.
                    () = self.shutdown.wait(), if !self.shutdown.fired() => {
                        self.stop.send_replace(true);
                    }
                }
            }
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

/// The poll in flight, if any (never completes otherwise).
async fn in_flight(poll: Option<&mut PollFuture>) -> Result<PollResponse, AgentClientError> {
    match poll {
        Some(poll) => poll.await,
        None => std::future::pending().await,
    }
}

impl Worker {
    /// Runs one command received from the server (in its own task) and reports its outcome; a command that ran
    /// before has its stored outcome re-reported instead.
    async fn handle(&self, instance_name: &str, command: HostCommand) {
        let command_id = command.command_id.as_str();
        let live = LiveLog::new();
        let alongside = async {
            let beats = heartbeats(&self.client, instance_name, command_id, self.heartbeat_interval);
            let streaming = live.stream(&self.client, instance_name, command_id);
            tokio::select! {
                never = beats => never,
                never = streaming => never,
            }
        };
        match self.commands.run(&command, Some(live.observer()), alongside).await {
            Ran::Before(stored) => {
                tracing::info!(%command_id, "command already ran; reporting its stored result");
                self.report(instance_name, &stored).await;
            }
            Ran::Now(stored) => {
                let labels =
                    [("event", stored.lifecycle_event.clone()), ("status", stored.outcome.status().to_owned())];
                let seconds = (stored.outcome.end_time_ms - stored.outcome.start_time_ms).max(0) as f64 / 1000.0;
                metrics::counter!(monitoring::COMMANDS, &labels).increment(1);
                metrics::histogram!(monitoring::EVENT_DURATION, &labels).record(seconds);
                // The last lines go before the result, so that the stream is whole in the order it was written.
                live.flush(&self.client, instance_name, command_id).await;
                self.report(instance_name, &stored).await;
            }
        }
    }

    /// Sends a command's outcome until the server answers (or the agent stops, after at least one attempt).
    async fn report(&self, instance_name: &str, stored: &StoredCommand) {
        let request = stored.outcome.to_complete_request(instance_name, &stored.command_id);
        let mut backoff = Backoff::new(Duration::from_millis(50), Duration::from_secs(2));
        loop {
            match self.client.complete(&request).await {
                Ok(response) => {
                    monitoring::server_answered();
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
        if let Err(error) = self.commands.store().put(&reported) {
            tracing::warn!(%error, "cannot mark the command result as reported");
        }
    }

    /// Sleeps unless the agent stops first. Returns false when it stops.
    async fn sleep(&self, delay: Duration) -> bool {
        let mut stopped = self.stopped.clone();
        if *stopped.borrow_and_update() {
            return false;
        }
        tokio::select! {
            () = tokio::time::sleep(delay) => true,
            _ = stopped.wait_for(|stopped| *stopped) => false,
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

/// Sends a heartbeat for `command_id` every `interval`, until the caller drops the future (when the command ends); the
/// live log goes separately (`livelog.rs`). Failures and
/// `command_active: false` are logged once per streak, not at every beat.
async fn heartbeats(client: &AgentClient, instance_name: &str, command_id: &str, interval: Duration) -> Infallible {
    // The poll that handed out the command has just renewed the lease: the first beat is due one interval later.
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
    // After a slow heartbeat (up to HEARTBEAT_TIMEOUT), send the next one at once rather than a burst of them.
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failing = false;
    let mut inactive = false;
    loop {
        ticks.tick().await;
        let request =
            HeartbeatRequest { instance_name: instance_name.to_owned(), command_id: Some(command_id.to_owned()) };
        match client.heartbeat(&request).await {
            Ok(response) => {
                monitoring::server_answered();
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
                metrics::counter!(monitoring::HEARTBEAT_ERRORS).increment(1);
                tracing::warn!(%command_id, %error, "heartbeat failed; the server fails the command as lost if this lasts");
                failing = true;
            }
            Err(error) => {
                metrics::counter!(monitoring::HEARTBEAT_ERRORS).increment(1);
                tracing::debug!(%command_id, %error, "heartbeat failed again");
            }
        }
    }
}

fn log_rejection(command_id: &str, error: &AgentClientError) {
    tracing::error!(%command_id, %error, "the server rejected the command result; dropping it");
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname").map(|h| h.trim().to_owned()).unwrap_or_default()
}

/// Aborts the task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<Infallible>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
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
