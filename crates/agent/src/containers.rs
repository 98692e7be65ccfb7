//! The task-set supervisor: the agent's side of container services (`computePlatform: ECS`, `docs/containers.md`).
//!
//! The server decides which task sets this host runs; the supervisor makes the local Docker engine match, through
//! `cutover-containers`:
//!
//! - **Report** (`POST /agent/v1/task-sets`, signed like every agent request): the state of every task set this agent
//!   was assigned and has not stopped yet, answered with the task sets it should run and when to report next
//!   (`interval_ms`, clamped to [`MIN_INTERVAL`]..[`MAX_INTERVAL`]). A worker whose state changes (a set got healthy,
//!   a task was replaced) wakes the loop, so the change is reported at once. While the server cannot be reached the
//!   loop retries after [`DEFAULT_INTERVAL`], backing off to [`MAX_ERROR_INTERVAL`].
//! - **Engine**: connected lazily, only once an answer holds a task set (or a set is left to stop): an agent without
//!   any never needs Docker. A failed connection is reported (`engine_error`) and tried again at the next answer.
//! - **Workers**: one tokio task per assigned task set ([`supervise_set`]). A set with no containers is started and
//!   waited on until healthy; a set that exists already (the agent or its worker restarted) is adopted, and healthy
//!   only once its health checks pass again. Then it is reconciled at its health-check interval: dead and unhealthy
//!   tasks are replaced (each replacement reported once in `messages`), the count and the revision follow the
//!   assignment. A worker that ended (it panicked) is replaced at the next answer.
//! - **Withdrawal**: a set that was assigned and is no longer in the answer is stopped ([`stop_set`]: once its worker
//!   has ended, SIGTERM, [`STOP_GRACE`], then removed; a failure is retried after [`STOP_RETRY`], backing off to
//!   [`MAX_STOP_RETRY`]) and dropped from the report once stopped. The assigned ids are kept in
//!   `<root>/.cutover/task-sets.json`
//!   ([`AssignedTaskSets`]), so a set withdrawn while the agent was down is still stopped after it restarts. The
//!   supervisor never touches a task set it was not assigned: several agents may share one engine.

use std::collections::{BTreeMap, BTreeSet};
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use cutover_api_types::agent::{TaskSetAssignment, TaskSetContainerLogs, TaskSetReport, TaskSetState};
use cutover_client::agent::AgentClient;
use cutover_containers::{ContainerLogs, LogStream, Reconciliation, ReplacedTask, TaskDefinition, TaskSet, TaskSets};
use serde::{Deserialize, Serialize};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use crate::monitoring;
use crate::util::{Backoff, write_atomic};

/// Between two reports while the server cannot be reached (first retry; doubling up to [`MAX_ERROR_INTERVAL`]).
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(2);
/// The longest wait between two reports while the server keeps failing.
pub const MAX_ERROR_INTERVAL: Duration = Duration::from_secs(10);
/// The server's `interval_ms` is clamped to this range.
pub const MIN_INTERVAL: Duration = Duration::from_millis(100);
pub const MAX_INTERVAL: Duration = Duration::from_secs(60);
/// Between SIGTERM and SIGKILL when a withdrawn task set is stopped.
pub const STOP_GRACE: Duration = Duration::from_secs(10);
/// After a failed stop, the first retry (doubling up to [`MAX_STOP_RETRY`]).
pub const STOP_RETRY: Duration = Duration::from_secs(2);
/// The longest wait between two attempts to stop a withdrawn task set.
pub const MAX_STOP_RETRY: Duration = Duration::from_secs(30);
/// Stop passes in a row that still found containers (a create that landed after the previous pass listed the set)
/// before the next pass waits like a failed one.
const STOP_PASSES: u32 = 3;
/// Reconcile interval of a task set without health checks.
pub const DEFAULT_CHECK_INTERVAL: Duration = Duration::from_secs(1);
/// The shortest reconcile interval, whatever the health checks say.
pub const MIN_CHECK_INTERVAL: Duration = Duration::from_millis(100);
/// Lines of logs per container when an assignment asks for logs without saying how many.
pub const DEFAULT_TAIL_LINES: u32 = 100;
/// Messages kept per task set while the server does not acknowledge them (the oldest are dropped first).
pub const MAX_MESSAGES: usize = 1000;

type EngineFuture<'a, T> = Pin<Box<dyn Future<Output = cutover_containers::Result<T>> + Send + 'a>>;

/// What the supervisor drives: the Docker engine through `cutover-containers` ([`TaskSets`]); a fake in the tests.
trait Engine: Send + Sync + 'static {
    fn task_set<'a>(&'a self, id: &'a str) -> EngineFuture<'a, Option<TaskSet>>;
    fn start_task_set<'a>(
        &'a self,
        id: &'a str,
        definition: &'a TaskDefinition,
        count: usize,
    ) -> EngineFuture<'a, TaskSet>;
    fn wait_healthy<'a>(&'a self, set: &'a TaskSet, timeout: Duration) -> EngineFuture<'a, ()>;
    fn reconcile<'a>(
        &'a self,
        id: &'a str,
        definition: &'a TaskDefinition,
        count: usize,
    ) -> EngineFuture<'a, Reconciliation>;
    fn stop_task_set<'a>(&'a self, id: &'a str, grace: Duration) -> EngineFuture<'a, usize>;
    fn logs<'a>(&'a self, id: &'a str, tail: usize) -> EngineFuture<'a, Vec<ContainerLogs>>;
}

impl Engine for TaskSets {
    fn task_set<'a>(&'a self, id: &'a str) -> EngineFuture<'a, Option<TaskSet>> {
        Box::pin(TaskSets::task_set(self, id))
    }

    fn start_task_set<'a>(
        &'a self,
        id: &'a str,
        definition: &'a TaskDefinition,
        count: usize,
    ) -> EngineFuture<'a, TaskSet> {
        Box::pin(TaskSets::start_task_set(self, id, definition, count))
    }

    fn wait_healthy<'a>(&'a self, set: &'a TaskSet, timeout: Duration) -> EngineFuture<'a, ()> {
        Box::pin(TaskSets::wait_healthy(self, set, timeout))
    }

    fn reconcile<'a>(
        &'a self,
        id: &'a str,
        definition: &'a TaskDefinition,
        count: usize,
    ) -> EngineFuture<'a, Reconciliation> {
        Box::pin(TaskSets::reconcile(self, id, definition, count))
    }

    fn stop_task_set<'a>(&'a self, id: &'a str, grace: Duration) -> EngineFuture<'a, usize> {
        Box::pin(TaskSets::stop_task_set(self, id, grace))
    }

    fn logs<'a>(&'a self, id: &'a str, tail: usize) -> EngineFuture<'a, Vec<ContainerLogs>> {
        Box::pin(TaskSets::logs(self, id, tail))
    }
}

/// What the supervisor needs besides the client.
#[derive(Debug, Clone)]
pub struct SupervisorConfig {
    /// The registered instance name (`instance_name` of every report).
    pub instance_name: String,
    /// `--docker-socket`; `None`: `$DOCKER_HOST` if it is a unix socket, else `/var/run/docker.sock`.
    pub docker_socket: Option<PathBuf>,
    /// `--container-publish-ip`: where the tasks' ports are published (their upstreams).
    pub publish_ip: IpAddr,
    /// Where the assigned ids are kept ([`crate::layout::Layout::task_sets_file`]).
    pub state_file: PathBuf,
}

/// The ids of the task sets this agent was assigned and has not stopped yet, kept across restarts.
#[derive(Debug, Clone)]
pub struct AssignedTaskSets {
    path: PathBuf,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct AssignedFile {
    task_set_ids: BTreeSet<String>,
}

impl AssignedTaskSets {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The ids saved last; none if the file does not exist.
    pub fn load(&self) -> io::Result<BTreeSet<String>> {
        match std::fs::read(&self.path) {
            Ok(bytes) => {
                let file: AssignedFile = serde_json::from_slice(&bytes).map_err(io::Error::other)?;
                Ok(file.task_set_ids)
            }
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(BTreeSet::new()),
            Err(error) => Err(error),
        }
    }

    /// Replaces the saved ids (atomically).
    pub fn save(&self, ids: &BTreeSet<String>) -> io::Result<()> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let file = AssignedFile { task_set_ids: ids.clone() };
        let mut text = serde_json::to_vec_pretty(&file).map_err(io::Error::other)?;
        text.push(b'\n');
        write_atomic(&self.path, &text)
    }
}

/// The server's `interval_ms`, clamped to [`MIN_INTERVAL`]..[`MAX_INTERVAL`].
pub fn report_interval(interval_ms: u64) -> Duration {
    Duration::from_millis(interval_ms).clamp(MIN_INTERVAL, MAX_INTERVAL)
}

/// How often a task set is reconciled: the shortest health-check interval of its containers ([`DEFAULT_CHECK_INTERVAL`]
/// without any), at least [`MIN_CHECK_INTERVAL`].
pub fn check_interval(definition: &TaskDefinition) -> Duration {
    let checks = definition.containers.iter().filter_map(|container| container.health_check.as_ref());
    checks.map(|check| check.interval()).min().unwrap_or(DEFAULT_CHECK_INTERVAL).max(MIN_CHECK_INTERVAL)
}

/// The message lines of one replaced task: `task <id> replaced: <reason>`, then its last output.
pub fn replacement_messages(task: &ReplacedTask) -> Vec<String> {
    let mut lines = vec![format!("task {} replaced: {}", task.task_id, task.reason)];
    lines.extend(task.logs.lines().map(str::to_owned));
    lines
}

/// Container logs as the report carries them: each line prefixed `stdout: ` or `stderr: `.
pub fn wire_logs(logs: Vec<ContainerLogs>) -> Vec<TaskSetContainerLogs> {
    logs.into_iter()
        .map(|container| TaskSetContainerLogs {
            task_id: container.task_id,
            container_name: container.container_name,
            lines: container
                .lines
                .into_iter()
                .map(|line| match line.stream {
                    LogStream::Stdout => format!("stdout: {}", line.text),
                    LogStream::Stderr => format!("stderr: {}", line.text),
                })
                .collect(),
        })
        .collect()
}

/// `host:port` of each running task's load-balanced container port, in task order.
pub fn upstreams(set: &TaskSet, container_name: &str, container_port: u16) -> Vec<String> {
    let running = set.tasks.iter().filter(|task| task.is_running());
    running.filter_map(|task| task.upstream(container_name, container_port)).map(|a| a.to_string()).collect()
}

fn running_tasks(set: &TaskSet) -> u32 {
    u32::try_from(set.tasks.iter().filter(|task| task.is_running()).count()).unwrap_or(u32::MAX)
}

/// What one task set is, as its worker last saw it; shared with the report loop.
#[derive(Debug, Clone, Default, PartialEq)]
struct SetState {
    running: u32,
    healthy: bool,
    upstreams: Vec<String>,
    error: Option<String>,
    replaced: u32,
    /// Not yet acknowledged by the server.
    messages: Vec<String>,
    /// Sequence number of `messages[0]`: what a report sent is acknowledged by, even if old lines were dropped
    /// meanwhile.
    first_message: u64,
}

impl SetState {
    fn push_messages(&mut self, lines: Vec<String>) {
        self.messages.extend(lines);
        let excess = self.messages.len().saturating_sub(MAX_MESSAGES);
        self.messages.drain(..excess);
        self.first_message += excess as u64;
    }

    /// The sequence number after the last message (what a report of them acknowledges up to).
    fn messages_end(&self) -> u64 {
        self.first_message + self.messages.len() as u64
    }

    /// Drops the messages before `end` (the server has them).
    fn acknowledge(&mut self, end: u64) {
        let sent = usize::try_from(end.saturating_sub(self.first_message)).unwrap_or(usize::MAX);
        let sent = sent.min(self.messages.len());
        self.messages.drain(..sent);
        self.first_message += sent as u64;
    }

    fn to_wire(&self, task_set_id: &str, logs: Option<Vec<TaskSetContainerLogs>>) -> TaskSetState {
        TaskSetState {
            task_set_id: task_set_id.to_owned(),
            running: self.running,
            healthy: self.healthy,
            upstreams: self.upstreams.clone(),
            error: self.error.clone(),
            replaced: self.replaced,
            messages: self.messages.clone(),
            logs,
        }
    }
}

/// The state of one task set, shared by its worker and the report loop; a change wakes the loop.
#[derive(Clone)]
struct Shared {
    state: Arc<Mutex<SetState>>,
    changed: Arc<Notify>,
}

impl Shared {
    fn new(changed: Arc<Notify>) -> Self {
        Self { state: Arc::default(), changed }
    }

    fn lock(&self) -> MutexGuard<'_, SetState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Changes the state; the report loop is woken if anything changed.
    fn update(&self, change: impl FnOnce(&mut SetState)) {
        let mut state = self.lock();
        let before = state.clone();
        change(&mut state);
        let changed = *state != before;
        drop(state);
        if changed {
            self.changed.notify_one();
        }
    }
}

/// An assigned task set and the task that keeps it.
struct Worker {
    assignment: watch::Sender<TaskSetAssignment>,
    shared: Shared,
    task: JoinHandle<()>,
}

/// A withdrawn task set being stopped ([`stop_set`], which retries failures itself).
struct Stopping {
    shared: Shared,
    /// The aborted worker of the set, until the stop task takes it (and waits for it to end before stopping).
    worker: Option<JoinHandle<()>>,
    /// The stop, once the engine is there; its result is how many containers were removed.
    task: Option<JoinHandle<usize>>,
}

/// The report loop and the task sets it keeps. Dropping it aborts every worker (the containers keep running).
pub struct Supervisor {
    client: AgentClient,
    config: SupervisorConfig,
    assigned_file: AssignedTaskSets,
    /// What the file holds now.
    saved: BTreeSet<String>,
    /// Ids of an earlier run not seen in an answer yet: stopped unless the first answer assigns them.
    leftover: BTreeSet<String>,
    engine: Option<Arc<dyn Engine>>,
    engine_error: Option<String>,
    workers: BTreeMap<String, Worker>,
    stopping: BTreeMap<String, Stopping>,
    changed: Arc<Notify>,
    /// The first and the longest wait before a failed stop is tried again ([`STOP_RETRY`], [`MAX_STOP_RETRY`]).
    stop_retry: (Duration, Duration),
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        for worker in self.workers.values() {
            worker.task.abort();
        }
        for stopping in self.stopping.values() {
            if let Some(worker) = &stopping.worker {
                worker.abort();
            }
            if let Some(task) = &stopping.task {
                task.abort();
            }
        }
    }
}

impl Supervisor {
    /// A supervisor that remembers the task sets a previous run was assigned (`config.state_file`).
    pub fn new(client: AgentClient, config: SupervisorConfig) -> Self {
        let assigned_file = AssignedTaskSets::new(&config.state_file);
        let leftover = assigned_file.load().unwrap_or_else(|error| {
            tracing::warn!(
                path = %assigned_file.path().display(),
                %error,
                "cannot read the task sets this agent was assigned; a task set withdrawn while it was down may be \
                 left running"
            );
            BTreeSet::new()
        });
        if !leftover.is_empty() {
            tracing::info!(task_sets = ?leftover, "task sets assigned before the restart; kept if still assigned");
        }
        Self {
            client,
            config,
            assigned_file,
            saved: leftover.clone(),
            leftover,
            engine: None,
            engine_error: None,
            workers: BTreeMap::new(),
            stopping: BTreeMap::new(),
            changed: Arc::new(Notify::new()),
            stop_retry: (STOP_RETRY, MAX_STOP_RETRY),
        }
    }

    /// Drives `engine` instead of connecting to Docker, and retries failed stops after `stop_retry` (first, longest).
    #[cfg(test)]
    fn with_engine(mut self, engine: Arc<dyn Engine>, stop_retry: (Duration, Duration)) -> Self {
        self.engine = Some(engine);
        self.stop_retry = stop_retry;
        self
    }

    /// Reports and applies the answers, forever (abort the task, or drop the future, to stop).
    pub async fn run(mut self) -> Infallible {
        let mut backoff = Backoff::new(DEFAULT_INTERVAL, MAX_ERROR_INTERVAL);
        let mut failing = false;
        loop {
            self.collect_stops().await;
            let (report, sent) = self.report().await;
            match self.client.task_sets(&report).await {
                Ok(answer) => {
                    monitoring::server_answered();
                    if failing {
                        tracing::info!("task-set reports reach the server again");
                        failing = false;
                    }
                    backoff.reset();
                    self.acknowledge(&sent);
                    self.apply(answer.task_sets).await;
                    tokio::select! {
                        () = tokio::time::sleep(report_interval(answer.interval_ms)) => {}
                        () = self.changed.notified() => {}
                    }
                }
                Err(error) => {
                    if failing {
                        tracing::debug!(%error, "task-set report failed again");
                    } else {
                        tracing::warn!(%error, "task-set report failed; retrying");
                        failing = true;
                    }
                    tokio::time::sleep(backoff.next_delay()).await;
                }
            }
        }
    }

    /// The report, and up to which message each task set's state was sent.
    async fn report(&self) -> (TaskSetReport, Vec<(Shared, u64)>) {
        let mut task_sets = Vec::new();
        let mut sent = Vec::new();
        for (id, worker) in &self.workers {
            let assignment = worker.assignment.borrow().clone();
            let logs = if assignment.send_logs { self.logs(id, assignment.tail_lines).await } else { None };
            let state = worker.shared.lock().clone();
            task_sets.push(state.to_wire(id, logs));
            sent.push((worker.shared.clone(), state.messages_end()));
        }
        for (id, stopping) in &self.stopping {
            let state = stopping.shared.lock().clone();
            task_sets.push(state.to_wire(id, None));
            sent.push((stopping.shared.clone(), state.messages_end()));
        }
        let report = TaskSetReport {
            instance_name: self.config.instance_name.clone(),
            task_sets,
            engine_error: self.engine_error.clone(),
        };
        (report, sent)
    }

    /// The server has the messages it was sent: they are not sent again.
    fn acknowledge(&self, sent: &[(Shared, u64)]) {
        for (shared, end) in sent {
            shared.lock().acknowledge(*end);
        }
    }

    async fn logs(&self, id: &str, tail_lines: u32) -> Option<Vec<TaskSetContainerLogs>> {
        let engine = self.engine.as_ref()?;
        let tail = if tail_lines == 0 { DEFAULT_TAIL_LINES } else { tail_lines };
        match engine.logs(id, tail as usize).await {
            Ok(logs) => Some(wire_logs(logs)),
            Err(cutover_containers::Error::TaskSetNotFound { .. }) => Some(Vec::new()),
            Err(error) => {
                tracing::warn!(task_set = %id, %error, "cannot read the logs the server asked for");
                None
            }
        }
    }

    /// Makes the workers match the answer: starts a worker per new task set, passes changed assignments on, stops
    /// withdrawn sets.
    async fn apply(&mut self, assigned: Vec<TaskSetAssignment>) {
        let mut by_id: BTreeMap<String, TaskSetAssignment> = BTreeMap::new();
        for assignment in assigned {
            by_id.entry(assignment.task_set_id.clone()).or_insert(assignment);
        }
        let withdrawn: Vec<String> = self.workers.keys().filter(|id| !by_id.contains_key(*id)).cloned().collect();
        for id in withdrawn {
            if let Some(worker) = self.workers.remove(&id) {
                // Aborted now, awaited by the stop task before it lists the containers.
                worker.task.abort();
                tracing::info!(task_set = %id, "task set withdrawn; stopping it");
                self.stopping.insert(id, Stopping { shared: worker.shared, worker: Some(worker.task), task: None });
            }
        }
        // Ids known but not kept by a worker (from before a restart, or assigned while the engine was unreachable):
        // what has been withdrawn is stopped, even if this run never started it.
        for id in std::mem::take(&mut self.leftover) {
            if !by_id.contains_key(&id) && !self.stopping.contains_key(&id) {
                tracing::info!(task_set = %id, "task set withdrawn before this agent took it over; stopping it");
                let shared = Shared::new(self.changed.clone());
                self.stopping.insert(id, Stopping { shared, worker: None, task: None });
            }
        }

        let needs_engine = !by_id.is_empty() || !self.stopping.is_empty();
        if !needs_engine {
            self.engine_error = None;
        } else if self.engine.is_none() {
            self.connect().await;
        }
        // Saved before anything starts: a set started is always one the next run knows about.
        let mut ids: BTreeSet<String> = self.workers.keys().chain(self.stopping.keys()).cloned().collect();
        ids.extend(by_id.keys().cloned());
        self.save(ids);
        let Some(engine) = self.engine.clone() else {
            self.leftover = by_id.into_keys().filter(|id| !self.workers.contains_key(id)).collect();
            return;
        };

        for (id, stopping) in &mut self.stopping {
            if stopping.task.is_none() {
                let worker = stopping.worker.take();
                let stop = stop_set(engine.clone(), id.clone(), worker, stopping.shared.clone(), self.stop_retry);
                stopping.task = Some(tokio::spawn(stop));
            }
        }
        for (id, assignment) in by_id {
            if self.stopping.contains_key(&id) {
                // Assigned again while being stopped: started afresh once the stop is done.
                continue;
            }
            if let Some(worker) = self.workers.get(&id)
                && !worker.task.is_finished()
            {
                worker.assignment.send_if_modified(|current| {
                    let modified = *current != assignment;
                    *current = assignment;
                    modified
                });
                continue;
            }
            let shared = match self.workers.remove(&id) {
                Some(worker) => {
                    // A worker only ends when it panicked: the set is still assigned, so another one takes over
                    // (and adopts what runs), keeping the state not reported yet.
                    let why = match worker.task.await {
                        Ok(()) => "it returned".to_owned(),
                        Err(error) => error.to_string(),
                    };
                    tracing::error!(task_set = %id, %why, "the worker of a task set ended; starting another");
                    let error = format!("the agent's worker for this task set ended ({why}); it was restarted");
                    worker.shared.update(|state| state.error = Some(error));
                    worker.shared
                }
                None => {
                    tracing::info!(task_set = %id, count = assignment.count, "task set assigned");
                    Shared::new(self.changed.clone())
                }
            };
            let (sender, receiver) = watch::channel(assignment);
            let task = tokio::spawn(supervise_set(engine.clone(), id.clone(), receiver, shared.clone()));
            self.workers.insert(id, Worker { assignment: sender, shared, task });
        }
    }

    async fn connect(&mut self) {
        let connected = match &self.config.docker_socket {
            Some(socket) => TaskSets::connect(socket).await,
            None => TaskSets::connect_local().await,
        };
        match connected {
            Ok(engine) => {
                let engine = engine.with_publish_ip(self.config.publish_ip);
                tracing::info!(
                    socket = %engine.socket().display(),
                    api_version = %engine.api_version(),
                    "connected to the Docker engine"
                );
                self.engine = Some(Arc::new(engine));
                self.engine_error = None;
            }
            Err(error) => {
                if self.engine_error.is_none() {
                    tracing::warn!(%error, "cannot drive the Docker engine; trying again at the next report");
                }
                self.engine_error = Some(error.to_string());
            }
        }
    }

    /// Takes the results of finished stops: a stopped set leaves the report and the file. (A stop that fails is
    /// retried by its task, with a backoff; one that panicked is started again at the next answer.)
    async fn collect_stops(&mut self) {
        let finished: Vec<String> = self
            .stopping
            .iter()
            .filter(|(_, stopping)| stopping.task.as_ref().is_some_and(JoinHandle::is_finished))
            .map(|(id, _)| id.clone())
            .collect();
        let mut removed = false;
        for id in finished {
            let Some(stopping) = self.stopping.get_mut(&id) else { continue };
            let Some(task) = stopping.task.take() else { continue };
            match task.await {
                Ok(containers) => {
                    tracing::info!(task_set = %id, containers, "task set stopped");
                    self.stopping.remove(&id);
                    removed = true;
                }
                Err(error) => {
                    tracing::error!(task_set = %id, %error, "the stop of a task set ended early; trying again");
                    let error = format!("cannot stop the task set: the stop ended early ({error})");
                    stopping.shared.update(|state| state.error = Some(error));
                }
            }
        }
        if removed {
            let mut ids: BTreeSet<String> = self.workers.keys().chain(self.stopping.keys()).cloned().collect();
            ids.extend(self.leftover.iter().cloned());
            self.save(ids);
        }
    }

    fn save(&mut self, ids: BTreeSet<String>) {
        if ids == self.saved {
            return;
        }
        match self.assigned_file.save(&ids) {
            Ok(()) => self.saved = ids,
            Err(error) => tracing::warn!(
                path = %self.assigned_file.path().display(),
                %error,
                "cannot save the task sets this agent was assigned"
            ),
        }
    }
}

/// Stops a withdrawn task set. Its aborted `worker` is awaited first: a container it was creating must not land after
/// the set was listed. Then passes of `stop_task_set` until one finds nothing left (what landed meanwhile is stopped
/// too); a failed pass is reported in the set's `error` and tried again after `retry.0`, doubling up to `retry.1`.
/// Wakes the report loop once the set is stopped (it leaves the report); returns how many containers were removed.
async fn stop_set(
    engine: Arc<dyn Engine>,
    id: String,
    worker: Option<JoinHandle<()>>,
    shared: Shared,
    retry: (Duration, Duration),
) -> usize {
    if let Some(worker) = worker {
        worker.abort();
        // Cancelled (or it had panicked): either way it does nothing more.
        let _ = worker.await;
    }
    let mut backoff = Backoff::new(retry.0, retry.1);
    let mut removed = 0;
    let mut passes = 0;
    let mut failures = 0u32;
    loop {
        match engine.stop_task_set(&id, STOP_GRACE).await {
            Ok(0) => break,
            Ok(containers) => {
                removed += containers;
                passes += 1;
                if passes >= STOP_PASSES {
                    // Something keeps creating containers of this set: do not spin on it.
                    passes = 0;
                    tokio::time::sleep(backoff.next_delay()).await;
                }
            }
            Err(error) => {
                passes = 0;
                failures += 1;
                if failures == 1 {
                    tracing::warn!(task_set = %id, %error, "cannot stop the task set; trying again");
                } else {
                    tracing::debug!(task_set = %id, %error, failures, "cannot stop the task set yet");
                }
                // Reported (at once if the error is new), but no wake-up for the same error again.
                shared.update(|state| state.error = Some(format!("cannot stop the task set: {error}")));
                tokio::time::sleep(backoff.next_delay()).await;
            }
        }
    }
    shared.changed.notify_one();
    removed
}

/// Keeps one assigned task set: starts it (or adopts it if it exists already), waits until it is healthy, then
/// reconciles it at its health-check interval, following changes of the assignment. Runs until aborted.
async fn supervise_set(
    engine: Arc<dyn Engine>,
    id: String,
    mut assignment: watch::Receiver<TaskSetAssignment>,
    shared: Shared,
) {
    // The set has containers on the engine (started here, or found after a restart): reconcile from now on.
    let mut started = false;
    loop {
        let current = assignment.borrow_and_update().clone();
        let definition = match TaskDefinition::from_json(&current.task_definition) {
            Ok(definition) => definition,
            Err(error) => {
                shared.update(|state| state.error = Some(error.to_string()));
                if assignment.changed().await.is_err() {
                    return;
                }
                continue;
            }
        };
        let count = current.count as usize;
        let health_timeout = Duration::from_millis(current.health_timeout_ms);
        let target = (current.container_name.as_str(), current.container_port);
        if !started {
            let found = match engine.task_set(&id).await {
                Ok(found) => found,
                Err(error) => {
                    shared.update(|state| state.error = Some(error.to_string()));
                    pause(&definition, &mut assignment).await;
                    continue;
                }
            };
            started = true;
            let set = match found {
                Some(set) => {
                    // Found on the engine (the agent restarted, or its worker did): healthy only once its checks
                    // pass again. A set that is not what is assigned (fewer tasks, another revision) is reconciled
                    // first, and waited on once the reconcile found the full count.
                    tracing::info!(task_set = %id, "task set found on the engine; adopting it");
                    shared.update(|state| {
                        state.running = running_tasks(&set);
                        state.upstreams = upstreams(&set, target.0, target.1);
                    });
                    let digest = definition.digest();
                    let complete = running_tasks(&set) as usize == count
                        && set.tasks.iter().all(|task| task.definition_digest == digest);
                    if !complete || shared.lock().healthy {
                        continue;
                    }
                    set
                }
                None => {
                    tracing::info!(task_set = %id, count, "starting the task set");
                    match engine.start_task_set(&id, &definition, count).await {
                        Ok(set) => {
                            shared.update(|state| {
                                state.running = running_tasks(&set);
                                state.upstreams = upstreams(&set, target.0, target.1);
                            });
                            set
                        }
                        Err(error) => {
                            tracing::warn!(task_set = %id, %error, "cannot start the task set");
                            shared.update(|state| state.error = Some(error.to_string()));
                            pause(&definition, &mut assignment).await;
                            continue;
                        }
                    }
                }
            };
            wait_healthy(engine.as_ref(), &id, &set, health_timeout, &shared).await;
            pause(&definition, &mut assignment).await;
            continue;
        }
        match engine.reconcile(&id, &definition, count).await {
            Ok(reconciled) => {
                let running = running_tasks(&reconciled.task_set);
                // Not healthy yet (the start failed or was slow, or the set was adopted): the health checks decide
                // once the full count runs. The error stays until they did, rather than flapping.
                let wait = !shared.lock().healthy && running as usize == count;
                shared.update(|state| {
                    state.running = running;
                    state.upstreams = upstreams(&reconciled.task_set, target.0, target.1);
                    if !wait {
                        state.error = None;
                    }
                    state.replaced += u32::try_from(reconciled.replaced.len()).unwrap_or(u32::MAX);
                    for task in &reconciled.replaced {
                        state.push_messages(replacement_messages(task));
                    }
                });
                if wait {
                    wait_healthy(engine.as_ref(), &id, &reconciled.task_set, health_timeout, &shared).await;
                }
            }
            Err(error) => {
                tracing::warn!(task_set = %id, %error, "cannot reconcile the task set");
                shared.update(|state| state.error = Some(error.to_string()));
            }
        }
        pause(&definition, &mut assignment).await;
    }
}

async fn wait_healthy(engine: &dyn Engine, id: &str, set: &TaskSet, timeout: Duration, shared: &Shared) {
    match engine.wait_healthy(set, timeout).await {
        Ok(()) => {
            tracing::info!(task_set = %id, "task set healthy");
            shared.update(|state| {
                state.healthy = true;
                state.error = None;
            });
        }
        Err(error) => {
            tracing::warn!(task_set = %id, %error, "task set not healthy");
            shared.update(|state| state.error = Some(error.to_string()));
        }
    }
}

/// Waits for the next reconcile: the health-check interval, or less if the assignment changed. Never returns if the
/// supervisor is gone (its worker is aborted anyway).
async fn pause(definition: &TaskDefinition, assignment: &mut watch::Receiver<TaskSetAssignment>) {
    tokio::select! {
        () = tokio::time::sleep(check_interval(definition)) => {}
        changed = assignment.changed() => {
            if changed.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use cutover_api_types::agent::TaskSetAssignments;

    use super::*;

    fn definition(intervals: &[Option<f64>]) -> TaskDefinition {
        let mut yaml = String::from("family: web\ncontainers:\n");
        for (n, interval) in intervals.iter().enumerate() {
            yaml.push_str(&format!(
                "  - name: c{n}\n    image: img\n    portMappings: [{{containerPort: 80{n:02}}}]\n"
            ));
            if let Some(interval) = interval {
                yaml.push_str(&format!("    healthCheck: {{port: 80{n:02}, intervalSeconds: {interval}}}\n"));
            }
        }
        TaskDefinition::from_yaml(&yaml).unwrap()
    }

    #[test]
    fn the_report_interval_is_clamped() {
        assert_eq!(report_interval(0), MIN_INTERVAL);
        assert_eq!(report_interval(99), Duration::from_millis(100));
        assert_eq!(report_interval(1_500), Duration::from_millis(1_500));
        assert_eq!(report_interval(60_000), Duration::from_secs(60));
        assert_eq!(report_interval(u64::MAX), MAX_INTERVAL);
    }

    #[test]
    fn a_set_is_reconciled_at_its_shortest_health_check_interval() {
        assert_eq!(check_interval(&definition(&[None])), DEFAULT_CHECK_INTERVAL);
        assert_eq!(check_interval(&definition(&[Some(5.0), Some(0.5), None])), Duration::from_millis(500));
        assert_eq!(check_interval(&definition(&[Some(0.02)])), MIN_CHECK_INTERVAL);
        assert_eq!(check_interval(&definition(&[Some(3.0)])), Duration::from_secs(3));
    }

    #[test]
    fn a_replaced_task_is_its_reason_then_its_last_output() {
        let task = ReplacedTask {
            task_id: "ts-1-0a1b2c3d".into(),
            reason: "container \"app\" is exited: Exited (137) 1 second ago".into(),
            logs: "--- app ---\nlistening on 0.0.0.0:8080\nGET /health 200\n".into(),
        };
        assert_eq!(
            replacement_messages(&task),
            [
                "task ts-1-0a1b2c3d replaced: container \"app\" is exited: Exited (137) 1 second ago",
                "--- app ---",
                "listening on 0.0.0.0:8080",
                "GET /health 200",
            ]
        );
    }

    #[test]
    fn log_lines_are_prefixed_with_their_stream() {
        let logs = vec![ContainerLogs {
            task_id: "t".into(),
            container_name: "app".into(),
            container_id: "abc".into(),
            lines: vec![
                cutover_containers::LogLine { stream: LogStream::Stdout, text: "up".into() },
                cutover_containers::LogLine { stream: LogStream::Stderr, text: "oops".into() },
            ],
        }];
        let wire = wire_logs(logs);
        assert_eq!(wire.len(), 1);
        assert_eq!((wire[0].task_id.as_str(), wire[0].container_name.as_str()), ("t", "app"));
        assert_eq!(wire[0].lines, ["stdout: up", "stderr: oops"]);
    }

    #[test]
    fn messages_are_sent_once_even_when_old_ones_are_dropped() {
        let mut state = SetState::default();
        state.push_messages(vec!["a".into(), "b".into()]);
        let sent = state.messages_end();
        state.push_messages(vec!["c".into()]);
        state.acknowledge(sent);
        assert_eq!(state.messages, ["c"], "what came after the report stays");
        state.acknowledge(sent);
        assert_eq!(state.messages, ["c"], "acknowledging twice drops nothing more");

        // Overflow while a report is in flight: only what was sent (and is still there) goes.
        let mut state = SetState::default();
        state.push_messages((0..MAX_MESSAGES).map(|n| n.to_string()).collect());
        let sent = state.messages_end();
        state.push_messages(vec!["new".into()]);
        assert_eq!(state.messages.len(), MAX_MESSAGES);
        assert_eq!(state.messages[0], "1", "the oldest was dropped");
        state.acknowledge(sent);
        assert_eq!(state.messages, ["new"]);
    }

    #[test]
    fn the_assigned_ids_survive_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let file = AssignedTaskSets::new(dir.path().join(".cutover").join("task-sets.json"));
        assert!(file.load().unwrap().is_empty(), "no file: nothing assigned");
        let ids: BTreeSet<String> = ["ts-b".to_owned(), "ts-a".to_owned()].into();
        file.save(&ids).unwrap();
        assert_eq!(AssignedTaskSets::new(file.path()).load().unwrap(), ids);
        let text = std::fs::read_to_string(file.path()).unwrap();
        assert!(text.contains("\"task_set_ids\"") && text.find("ts-a") < text.find("ts-b"), "{text}");
        file.save(&BTreeSet::new()).unwrap();
        assert!(file.load().unwrap().is_empty());
        std::fs::write(file.path(), "not json").unwrap();
        assert!(file.load().is_err(), "a damaged file is an error, not an empty list");
    }

    /// A stand-in for the server's `/agent/v1/task-sets`: answers every report with `answer`, and hands the reports
    /// to the test.
    struct FakeServer {
        url: String,
        answer: Arc<Mutex<TaskSetAssignments>>,
        reports: tokio::sync::mpsc::UnboundedReceiver<TaskSetReport>,
    }

    impl FakeServer {
        async fn start(answer: TaskSetAssignments) -> FakeServer {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let url = format!("http://{}", listener.local_addr().unwrap());
            let answer = Arc::new(Mutex::new(answer));
            let (sender, reports) = tokio::sync::mpsc::unbounded_channel();
            let shared = answer.clone();
            tokio::spawn(async move {
                while let Ok((stream, _)) = listener.accept().await {
                    tokio::spawn(serve(stream, shared.clone(), sender.clone()));
                }
            });
            FakeServer { url, answer, reports }
        }

        fn answer(&self, answer: TaskSetAssignments) {
            *self.answer.lock().unwrap() = answer;
        }

        /// The reports received and not taken yet.
        fn drain(&mut self) -> Vec<TaskSetReport> {
            std::iter::from_fn(|| self.reports.try_recv().ok()).collect()
        }

        /// The first report (from now on) that `accept` takes, within a deadline.
        async fn report_where(&mut self, accept: impl Fn(&TaskSetReport) -> bool) -> TaskSetReport {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
            let mut last = None;
            loop {
                match tokio::time::timeout_at(deadline, self.reports.recv()).await {
                    Ok(Some(report)) if accept(&report) => return report,
                    Ok(Some(report)) => last = Some(report),
                    Ok(None) | Err(_) => panic!("no such report within the deadline; the last one: {last:#?}"),
                }
            }
        }
    }

    async fn serve(
        mut stream: tokio::net::TcpStream,
        answer: Arc<Mutex<TaskSetAssignments>>,
        reports: tokio::sync::mpsc::UnboundedSender<TaskSetReport>,
    ) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut buffer = Vec::new();
        loop {
            let head_end = loop {
                if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                    break end + 4;
                }
                let mut chunk = [0u8; 4096];
                match stream.read(&mut chunk).await {
                    Ok(0) | Err(_) => return,
                    Ok(read) => buffer.extend_from_slice(&chunk[..read]),
                }
            };
            let head = String::from_utf8_lossy(&buffer[..head_end]).to_ascii_lowercase();
            assert!(head.starts_with("post /agent/v1/task-sets "), "{head}");
            let length: usize = head
                .lines()
                .find_map(|line| line.strip_prefix("content-length:"))
                .and_then(|value| value.trim().parse().ok())
                .unwrap_or(0);
            while buffer.len() < head_end + length {
                let mut chunk = [0u8; 4096];
                match stream.read(&mut chunk).await {
                    Ok(0) | Err(_) => return,
                    Ok(read) => buffer.extend_from_slice(&chunk[..read]),
                }
            }
            let report: TaskSetReport = serde_json::from_slice(&buffer[head_end..head_end + length]).unwrap();
            buffer.drain(..head_end + length);
            let _ = reports.send(report);
            let body = serde_json::to_string(&*answer.lock().unwrap()).unwrap();
            let response = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            );
            if stream.write_all(response.as_bytes()).await.is_err() {
                return;
            }
        }
    }

    fn supervisor(server: &FakeServer, root: &Path, docker_socket: Option<PathBuf>) -> JoinHandle<Infallible> {
        let client = AgentClient::new(server.url.clone()).unwrap();
        let config = SupervisorConfig {
            instance_name: "host-1".into(),
            docker_socket,
            publish_ip: cutover_containers::DEFAULT_PUBLISH_IP,
            state_file: crate::layout::Layout::new(root).task_sets_file(),
        };
        tokio::spawn(Supervisor::new(client, config).run())
    }

    fn assignment(id: &str, image: &str) -> TaskSetAssignment {
        let definition = format!(
            r#"{{"family":"web","containers":[{{"name":"app","image":"{image}","portMappings":[{{"containerPort":8080}}]}}]}}"#
        );
        TaskSetAssignment {
            task_set_id: id.into(),
            task_definition: definition,
            count: 1,
            container_name: "app".into(),
            container_port: 8080,
            health_timeout_ms: 5_000,
            send_logs: false,
            tail_lines: 0,
        }
    }

    fn unique(name: &str) -> String {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
        format!("ts-{name}-{}-{nanos}", std::process::id())
    }

    fn saved(root: &Path) -> BTreeSet<String> {
        AssignedTaskSets::new(crate::layout::Layout::new(root).task_sets_file()).load().unwrap()
    }

    #[tokio::test]
    async fn without_assignments_docker_is_never_needed() {
        let root = tempfile::tempdir().unwrap();
        let mut server = FakeServer::start(TaskSetAssignments { task_sets: Vec::new(), interval_ms: 100 }).await;
        let missing = root.path().join("no-docker.sock");
        let agent = supervisor(&server, root.path(), Some(missing));
        for _ in 0..3 {
            let report = server.report_where(|_| true).await;
            assert_eq!(report.instance_name, "host-1");
            assert!(report.task_sets.is_empty() && report.engine_error.is_none(), "{report:#?}");
        }
        assert!(saved(root.path()).is_empty());
        agent.abort();
    }

    #[tokio::test]
    async fn an_unreachable_engine_is_reported_and_a_withdrawn_set_is_stopped_once_it_answers() {
        let root = tempfile::tempdir().unwrap();
        let id = unique("gone");
        let mut server = FakeServer::start(TaskSetAssignments {
            task_sets: vec![assignment(&id, "cutover-test/absent:never")],
            interval_ms: 100,
        })
        .await;
        let missing = root.path().join("no-docker.sock");
        let agent = supervisor(&server, root.path(), Some(missing.clone()));
        let report = server.report_where(|report| report.engine_error.is_some()).await;
        let error = report.engine_error.unwrap();
        assert!(error.contains(&missing.display().to_string()) && error.contains("unreachable"), "{error}");
        assert_eq!(saved(root.path()), [id.clone()].into(), "the assignment is remembered before anything runs");

        // Withdrawn while the engine is unreachable: still reported (not stopped yet), still remembered.
        server.answer(TaskSetAssignments { task_sets: Vec::new(), interval_ms: 100 });
        let report = server.report_where(|report| report.task_sets.iter().any(|set| set.task_set_id == id)).await;
        assert!(report.engine_error.is_some(), "{report:#?}");
        agent.abort();
        let _ = agent.await;
        assert_eq!(saved(root.path()), [id.clone()].into());

        // A restarted agent with a working engine stops it (nothing of it runs) and forgets it.
        let agent = supervisor(&server, root.path(), None);
        let report = server.report_where(|report| report.task_sets.is_empty() && report.engine_error.is_none()).await;
        assert!(report.task_sets.is_empty());
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while !saved(root.path()).is_empty() {
            assert!(tokio::time::Instant::now() < deadline, "the stopped set was never forgotten");
            let _ = server.report_where(|_| true).await;
        }
        agent.abort();
    }

    #[tokio::test]
    async fn a_set_that_cannot_start_reports_why_and_is_dropped_once_withdrawn() {
        let root = tempfile::tempdir().unwrap();
        let id = unique("absent");
        let image = format!("cutover-test/absent:{id}");
        let mut server =
            FakeServer::start(TaskSetAssignments { task_sets: vec![assignment(&id, &image)], interval_ms: 100 }).await;
        let agent = supervisor(&server, root.path(), None);
        let report = server
            .report_where(|report| {
                report.task_sets.iter().any(|set| set.error.as_deref().is_some_and(|e| !e.is_empty()))
            })
            .await;
        assert!(report.engine_error.is_none(), "this test needs a Docker engine: {report:#?}");
        let state = &report.task_sets[0];
        assert_eq!(state.task_set_id, id);
        assert!((state.running, state.healthy) == (0, false), "{state:#?}");
        let error = state.error.as_deref().unwrap();
        assert!(error.contains(&image) && error.contains("never pulls images"), "{error}");

        server.answer(TaskSetAssignments { task_sets: Vec::new(), interval_ms: 100 });
        server.report_where(|report| report.task_sets.is_empty()).await;
        assert!(saved(root.path()).is_empty(), "a stopped set is forgotten");
        agent.abort();
    }

    /// A stand-in for the Docker engine: task sets as plain data, with knobs for the failures under test.
    #[derive(Clone, Default)]
    struct FakeEngine(Arc<Mutex<Fake>>);

    #[derive(Default)]
    struct Fake {
        sets: BTreeMap<String, TaskSet>,
        /// Every call fails as if the engine could not be reached.
        down: bool,
        /// What `wait_healthy` answers.
        healthy: bool,
        /// `start_task_set` never finishes; when its future is dropped (the worker aborted), its tasks land anyway,
        /// as a create the engine had received already would.
        hang_starts: bool,
        /// The next reconciles panic.
        panics: u32,
        starts: u32,
        reconciles: u32,
        /// When each stop was tried.
        stops: Vec<tokio::time::Instant>,
        /// How many tasks each set `wait_healthy` was asked about had.
        waited: Vec<usize>,
        events: Vec<&'static str>,
    }

    fn fake_set(id: &str, count: usize, digest: &str) -> TaskSet {
        use cutover_containers::{PublishedPort, Task, TaskContainer};
        let tasks = (0..count)
            .map(|n| Task {
                id: format!("{id}-{n:08x}"),
                created_at_micros: n as u64,
                definition_digest: digest.to_owned(),
                containers: vec![TaskContainer {
                    name: "app".into(),
                    container_id: format!("{id}-{n}"),
                    docker_name: format!("cutover-{id}-{n}"),
                    image: "img".into(),
                    state: "running".into(),
                    status: String::new(),
                    ports: vec![PublishedPort {
                        container_port: 8080,
                        address: ([127, 0, 0, 1], 31_000 + n as u16).into(),
                    }],
                    health_check: None,
                }],
            })
            .collect();
        TaskSet { id: id.to_owned(), family: "web".into(), tasks }
    }

    impl FakeEngine {
        fn lock(&self) -> MutexGuard<'_, Fake> {
            self.0.lock().unwrap()
        }

        fn up(&self) -> cutover_containers::Result<MutexGuard<'_, Fake>> {
            let fake = self.lock();
            if fake.down {
                let message = "connection refused".to_owned();
                return Err(cutover_containers::Error::EngineUnreachable { socket: "/fake.sock".into(), message });
            }
            Ok(fake)
        }

        /// Polls `done` until it holds, within a deadline.
        async fn until(&self, what: &str, done: impl Fn(&Fake) -> bool) {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
            while !done(&self.lock()) {
                assert!(tokio::time::Instant::now() < deadline, "never: {what}");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }

    /// What lands when a hanging start is dropped: a create the engine received lands a little later.
    struct Lands(FakeEngine, TaskSet);

    impl Drop for Lands {
        fn drop(&mut self) {
            // A slow engine: without waiting for the worker to end, the first stop would list the set before this.
            std::thread::sleep(Duration::from_millis(100));
            let mut fake = self.0.lock();
            fake.events.push("create landed");
            fake.sets.insert(self.1.id.clone(), self.1.clone());
        }
    }

    impl Engine for FakeEngine {
        fn task_set<'a>(&'a self, id: &'a str) -> EngineFuture<'a, Option<TaskSet>> {
            let result = self.up().map(|fake| fake.sets.get(id).cloned());
            Box::pin(async move { result })
        }

        fn start_task_set<'a>(
            &'a self,
            id: &'a str,
            definition: &'a TaskDefinition,
            count: usize,
        ) -> EngineFuture<'a, TaskSet> {
            let result = self.up().map(|mut fake| {
                fake.starts += 1;
                fake.events.push("start");
                fake.hang_starts
            });
            let set = fake_set(id, count, &definition.digest());
            Box::pin(async move {
                if result? {
                    let _lands = Lands(self.clone(), set);
                    return std::future::pending().await;
                }
                self.lock().sets.insert(id.to_owned(), set.clone());
                Ok(set)
            })
        }

        fn wait_healthy<'a>(&'a self, set: &'a TaskSet, timeout: Duration) -> EngineFuture<'a, ()> {
            let result = self.up().and_then(|mut fake| {
                fake.waited.push(set.tasks.len());
                if fake.healthy {
                    return Ok(());
                }
                let pending = vec!["task t container \"app\": connection refused".to_owned()];
                Err(cutover_containers::Error::Unhealthy { task_set: set.id.clone(), timeout, pending })
            });
            Box::pin(async move { result })
        }

        fn reconcile<'a>(
            &'a self,
            id: &'a str,
            definition: &'a TaskDefinition,
            count: usize,
        ) -> EngineFuture<'a, Reconciliation> {
            let result = self.up().map(|mut fake| {
                if fake.panics > 0 {
                    fake.panics -= 1;
                    return None;
                }
                fake.reconciles += 1;
                let task_set = fake_set(id, count, &definition.digest());
                fake.sets.insert(id.to_owned(), task_set.clone());
                Some(Reconciliation { task_set, replaced: Vec::new(), started: Vec::new(), removed: Vec::new() })
            });
            Box::pin(async move { result?.map(Ok).unwrap_or_else(|| panic!("the fake engine panics in reconcile")) })
        }

        fn stop_task_set<'a>(&'a self, id: &'a str, _grace: Duration) -> EngineFuture<'a, usize> {
            self.lock().stops.push(tokio::time::Instant::now());
            let result = self.up().map(|mut fake| {
                fake.events.push("stop");
                fake.sets.remove(id).map_or(0, |set| set.tasks.len())
            });
            Box::pin(async move { result })
        }

        fn logs<'a>(&'a self, _id: &'a str, _tail: usize) -> EngineFuture<'a, Vec<ContainerLogs>> {
            Box::pin(async { Ok(Vec::new()) })
        }
    }

    /// Failed stops are retried after 50 ms, backing off to 200 ms.
    const TEST_STOP_RETRY: (Duration, Duration) = (Duration::from_millis(50), Duration::from_millis(200));

    fn fake_supervisor(server: &FakeServer, root: &Path, engine: &FakeEngine) -> JoinHandle<Infallible> {
        let client = AgentClient::new(server.url.clone()).unwrap();
        let config = SupervisorConfig {
            instance_name: "host-1".into(),
            docker_socket: Some(root.join("never-used.sock")),
            publish_ip: cutover_containers::DEFAULT_PUBLISH_IP,
            state_file: crate::layout::Layout::new(root).task_sets_file(),
        };
        let supervisor = Supervisor::new(client, config).with_engine(Arc::new(engine.clone()), TEST_STOP_RETRY);
        tokio::spawn(supervisor.run())
    }

    fn answer(task_sets: Vec<TaskSetAssignment>, interval_ms: u64) -> TaskSetAssignments {
        TaskSetAssignments { task_sets, interval_ms }
    }

    fn state<'r>(report: &'r TaskSetReport, id: &str) -> Option<&'r TaskSetState> {
        report.task_sets.iter().find(|set| set.task_set_id == id)
    }

    fn error_has(report: &TaskSetReport, id: &str, text: &str) -> bool {
        state(report, id).and_then(|set| set.error.as_deref()).is_some_and(|error| error.contains(text))
    }

    #[tokio::test]
    async fn a_state_change_is_reported_at_once_even_after_a_long_interval() {
        let root = tempfile::tempdir().unwrap();
        let engine = FakeEngine::default();
        engine.lock().healthy = true;
        let mut server = FakeServer::start(answer(vec![assignment("ts-a", "img")], 60_000)).await;
        let agent = fake_supervisor(&server, root.path(), &engine);
        // The first report is answered with 60 s; the set getting healthy is reported long before that.
        let report = server.report_where(|report| state(report, "ts-a").is_some_and(|set| set.healthy)).await;
        let set = state(&report, "ts-a").unwrap();
        assert_eq!(
            (set.running, set.upstreams.as_slice(), set.error.as_deref()),
            (1, &["127.0.0.1:31000".to_owned()][..], None)
        );
        agent.abort();
    }

    #[tokio::test]
    async fn a_failing_stop_is_retried_with_a_backoff_and_does_not_drive_the_reports() {
        let root = tempfile::tempdir().unwrap();
        let engine = FakeEngine::default();
        engine.lock().healthy = true;
        let mut server = FakeServer::start(answer(vec![assignment("ts-a", "img")], 100)).await;
        let agent = fake_supervisor(&server, root.path(), &engine);
        server.report_where(|report| state(report, "ts-a").is_some_and(|set| set.healthy)).await;

        // Withdrawn while the engine is down; the server asks for the next report in a minute.
        engine.lock().down = true;
        server.answer(answer(Vec::new(), 60_000));
        engine.until("six attempts to stop", |fake| fake.stops.len() >= 6).await;
        let failed = server.drain().into_iter().filter(|report| error_has(report, "ts-a", "cannot stop")).count();
        assert!((1..=2).contains(&failed), "the failed stop is reported, not each attempt: {failed} reports");
        let stops = engine.lock().stops.clone();
        for pair in stops.windows(2) {
            // The first retry comes after 25–50 ms (jittered), each later one after at least as long.
            assert!(pair[1] - pair[0] >= Duration::from_millis(25), "{stops:?}");
        }
        assert!(stops[5] - stops[0] >= Duration::from_millis(25 + 50 + 100 + 100 + 100), "it backs off: {stops:?}");
        assert_eq!(saved(root.path()), ["ts-a".to_owned()].into(), "not stopped yet: still remembered");

        // The engine is back: the stop succeeds at its next retry, and that is reported at once.
        engine.lock().down = false;
        server.report_where(|report| report.task_sets.is_empty()).await;
        assert!(engine.lock().sets.is_empty());
        assert!(saved(root.path()).is_empty(), "a stopped set is forgotten");
        agent.abort();
    }

    // Multi-threaded, as the agent runs: the aborted worker and the stop could run at the same time.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_withdrawn_set_is_stopped_after_its_worker_ended_and_what_landed_meanwhile_too() {
        let root = tempfile::tempdir().unwrap();
        let engine = FakeEngine::default();
        engine.lock().hang_starts = true;
        let mut server = FakeServer::start(answer(vec![assignment("ts-a", "img")], 100)).await;
        let agent = fake_supervisor(&server, root.path(), &engine);
        engine.until("a start in flight", |fake| fake.events.contains(&"start")).await;

        // (The reports so far include the first one, from before the set was assigned.)
        server.drain();
        server.answer(answer(Vec::new(), 100));
        server.report_where(|report| report.task_sets.is_empty()).await;
        let fake = engine.lock();
        assert!(fake.sets.is_empty(), "no orphan: {:?}", fake.sets.keys());
        // The create lands when the worker ends, before the first stop lists the set; a second pass finds nothing.
        assert_eq!(fake.events, ["start", "create landed", "stop", "stop"]);
        drop(fake);
        assert!(saved(root.path()).is_empty());
        agent.abort();
    }

    #[tokio::test]
    async fn a_worker_that_panicked_is_replaced_and_adopts_the_set() {
        let root = tempfile::tempdir().unwrap();
        let engine = FakeEngine::default();
        {
            let mut fake = engine.lock();
            fake.healthy = true;
            fake.panics = 1;
        }
        let mut server = FakeServer::start(answer(vec![assignment("ts-a", "img")], 100)).await;
        let agent = fake_supervisor(&server, root.path(), &engine);
        let report = server.report_where(|report| error_has(report, "ts-a", "worker for this task set ended")).await;
        assert!(error_has(&report, "ts-a", "panicked"), "{report:#?}");
        server.report_where(|report| state(report, "ts-a").is_some_and(|set| set.healthy && set.error.is_none())).await;
        engine.until("a reconcile by the new worker", |fake| fake.reconciles >= 1).await;
        let fake = engine.lock();
        assert_eq!(fake.starts, 1, "the new worker adopts the set rather than starting it again");
        assert!(fake.sets.contains_key("ts-a"));
        drop(fake);
        agent.abort();
    }

    #[tokio::test]
    async fn an_adopted_set_is_healthy_only_once_its_checks_pass() {
        let root = tempfile::tempdir().unwrap();
        let engine = FakeEngine::default();
        let assigned = assignment("ts-a", "img");
        let digest = TaskDefinition::from_json(&assigned.task_definition).unwrap().digest();
        // Containers of an earlier run.
        engine.lock().sets.insert("ts-a".into(), fake_set("ts-a", 1, &digest));
        let mut server = FakeServer::start(answer(vec![assigned], 100)).await;
        let agent = fake_supervisor(&server, root.path(), &engine);
        server
            .report_where(|report| {
                assert!(report.task_sets.iter().all(|set| !set.healthy), "healthy before a check passed: {report:#?}");
                error_has(report, "ts-a", "not healthy")
            })
            .await;
        assert_eq!(engine.lock().waited.first(), Some(&1), "the listed set is waited on");

        engine.lock().healthy = true;
        let report = server.report_where(|report| state(report, "ts-a").is_some_and(|set| set.healthy)).await;
        let set = state(&report, "ts-a").unwrap();
        assert_eq!((set.running, set.error.as_deref()), (1, None));
        assert_eq!(engine.lock().starts, 0, "adopted, not started");
        agent.abort();
    }

    #[tokio::test]
    async fn an_adopted_set_short_of_tasks_is_reconciled_before_it_is_waited_on() {
        let root = tempfile::tempdir().unwrap();
        let engine = FakeEngine::default();
        let assigned = TaskSetAssignment { count: 2, ..assignment("ts-a", "img") };
        let digest = TaskDefinition::from_json(&assigned.task_definition).unwrap().digest();
        {
            let mut fake = engine.lock();
            fake.healthy = true;
            fake.sets.insert("ts-a".into(), fake_set("ts-a", 1, &digest));
        }
        let mut server = FakeServer::start(answer(vec![assigned], 100)).await;
        let agent = fake_supervisor(&server, root.path(), &engine);
        let report = server
            .report_where(|report| {
                let set = state(report, "ts-a");
                assert!(set.is_none_or(|set| !set.healthy || set.running == 2), "{report:#?}");
                set.is_some_and(|set| set.healthy)
            })
            .await;
        assert_eq!(state(&report, "ts-a").unwrap().running, 2);
        let fake = engine.lock();
        assert_eq!(fake.waited.first(), Some(&2), "waited on once the reconcile made up the count: {:?}", fake.waited);
        assert!(fake.reconciles >= 1 && fake.starts == 0);
        drop(fake);
        agent.abort();
    }

    #[test]
    fn upstreams_are_the_running_tasks_target_ports_in_task_order() {
        use cutover_containers::{PublishedPort, Task, TaskContainer};
        let task = |id: &str, state: &str, port: u16| Task {
            id: id.into(),
            created_at_micros: 0,
            definition_digest: String::new(),
            containers: vec![TaskContainer {
                name: "app".into(),
                container_id: id.into(),
                docker_name: id.into(),
                image: "img".into(),
                state: state.into(),
                status: String::new(),
                ports: vec![PublishedPort { container_port: 8080, address: ([127, 0, 0, 1], port).into() }],
                health_check: None,
            }],
        };
        let set = TaskSet {
            id: "ts".into(),
            family: "web".into(),
            tasks: vec![task("a", "running", 3001), task("b", "exited", 3002), task("c", "running", 3000)],
        };
        assert_eq!(upstreams(&set, "app", 8080), ["127.0.0.1:3001", "127.0.0.1:3000"]);
        assert!(upstreams(&set, "app", 9090).is_empty());
        assert_eq!(running_tasks(&set), 2);
    }
}
