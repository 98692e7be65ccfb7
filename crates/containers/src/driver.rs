//! Task sets on the local Docker engine: start, health-check, keep at their count, stop, list, read logs.
//!
//! The engine is the only state: every container carries labels naming its task set, task, container definition,
//! family, definition digest and health check, so an agent that restarts finds its task sets again by label. The
//! only memory of this process is the health-check failure count per container (lost on restart: the count starts
//! again, which only delays a replacement).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bollard::Docker;
use bollard::container::LogOutput;
use bollard::errors::Error as BollardError;
use bollard::models::{ContainerCreateBody, ContainerState, ContainerSummary, HostConfig, PortBinding, PortMap};
use bollard::query_parameters::{
    CreateContainerOptions, InspectContainerOptions, KillContainerOptions, ListContainersOptions, LogsOptions,
    RemoveContainerOptions, StartContainerOptions,
};
use futures_util::StreamExt;
use futures_util::future::join_all;
use serde::Serialize;

use crate::definition::{ContainerDefinition, HealthCheck, TaskDefinition, is_docker_name};
use crate::error::{Error, Result};
use crate::health::probe;

/// The labels every container of a task set carries.
pub mod labels {
    pub const TASK_SET: &str = "cutover.task-set";
    pub const TASK: &str = "cutover.task";
    /// The container definition's name within the task.
    pub const CONTAINER: &str = "cutover.container";
    pub const FAMILY: &str = "cutover.family";
    /// `TaskDefinition::digest` of the revision the task runs.
    pub const DEFINITION: &str = "cutover.task-definition";
    /// The container's health check as JSON, so a rediscovered task can be checked without its definition.
    pub const HEALTH_CHECK: &str = "cutover.health-check";
    /// When the task was started, in microseconds since the Unix epoch: orders tasks (Docker's own `Created` of a
    /// listed container has whole seconds only).
    pub const TASK_CREATED: &str = "cutover.task-created";
}

/// Ports are published on loopback unless told otherwise ([`TaskSets::with_publish_ip`]): the router (or HAProxy) on
/// the same host is the way in.
pub const DEFAULT_PUBLISH_IP: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
/// Per request; stops are a SIGTERM and a poll, so no request waits for a grace period.
const ENGINE_TIMEOUT_SECS: u64 = 60;
const STOP_POLL: Duration = Duration::from_millis(100);
/// Output kept from a task that is replaced or that stopped before it was healthy.
const LAST_LINES: usize = 20;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskSet {
    pub id: String,
    pub family: String,
    /// Oldest first (then by id).
    pub tasks: Vec<Task>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Task {
    /// `<task set id>-<8 hex digits>`.
    pub id: String,
    /// Microseconds since the Unix epoch (`labels::TASK_CREATED`).
    pub created_at_micros: u64,
    pub definition_digest: String,
    /// By name.
    pub containers: Vec<TaskContainer>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskContainer {
    /// The container definition's name.
    pub name: String,
    pub container_id: String,
    /// `cutover-<task id>-<name>`, what `docker ps` shows.
    pub docker_name: String,
    pub image: String,
    /// Docker's state: `running`, `exited`, `created`, `dead`, …
    pub state: String,
    /// Docker's status text, e.g. `Exited (137) 2 seconds ago` (empty in what `start_task_set` returns).
    pub status: String,
    pub ports: Vec<PublishedPort>,
    /// From the container's label, so a rediscovered task is checked as it was started.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health_check: Option<HealthCheck>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PublishedPort {
    pub container_port: u16,
    /// `<publish IP>:<host port>`, e.g. `127.0.0.1:32771`.
    pub address: SocketAddr,
}

impl TaskSet {
    /// The upstream of every task for the load balancer's target container and port, in task order.
    pub fn upstreams(&self, container_name: &str, container_port: u16) -> Vec<SocketAddr> {
        self.tasks.iter().filter_map(|task| task.upstream(container_name, container_port)).collect()
    }

    pub fn task(&self, id: &str) -> Option<&Task> {
        self.tasks.iter().find(|task| task.id == id)
    }
}

impl Task {
    pub fn upstream(&self, container_name: &str, container_port: u16) -> Option<SocketAddr> {
        let container = self.containers.iter().find(|container| container.name == container_name)?;
        container.ports.iter().find(|port| port.container_port == container_port).map(|port| port.address)
    }

    pub fn is_running(&self) -> bool {
        !self.containers.is_empty() && self.containers.iter().all(|container| container.state == "running")
    }
}

/// What one `reconcile` did.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Reconciliation {
    /// The task set afterwards, as the engine lists it.
    pub task_set: TaskSet,
    /// Tasks removed because a container stopped, failed its health check or ran another revision.
    pub replaced: Vec<ReplacedTask>,
    /// Tasks started to reach the count (replacements included).
    pub started: Vec<String>,
    /// Healthy tasks removed because there were more than the count.
    pub removed: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplacedTask {
    pub task_id: String,
    pub reason: String,
    /// The last lines of each of its containers, kept because the containers are removed.
    pub logs: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerLogs {
    pub task_id: String,
    pub container_name: String,
    pub container_id: String,
    pub lines: Vec<LogLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogLine {
    pub stream: LogStream,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogStream {
    Stdout,
    Stderr,
}

/// Health-check memory of one container (keyed by container id).
struct ProbeState {
    first_seen: Instant,
    failures: u32,
}

/// Host ports a replacement task should publish again: (container name, container port) → host port.
type HostPorts = HashMap<(String, u16), u16>;

/// The driver of task sets on one Docker engine, reached through its unix socket.
pub struct TaskSets {
    docker: Docker,
    socket: PathBuf,
    publish_ip: IpAddr,
    probes: Mutex<HashMap<String, ProbeState>>,
    /// The ports each container (by id) was last seen publishing. The engine forgets the host port of a container
    /// that stopped (it lists none), and the task that replaces it publishes the same ones again.
    published: Mutex<HashMap<String, Vec<PublishedPort>>>,
}

impl TaskSets {
    /// Connects to the engine at this unix socket and agrees on an API version (engines as old as API 1.41, Docker
    /// 20.10, refuse bollard's newer default).
    pub async fn connect(socket: impl AsRef<Path>) -> Result<TaskSets> {
        let socket = socket.as_ref().to_path_buf();
        let unreachable =
            |error: BollardError| Error::EngineUnreachable { socket: socket.clone(), message: chain(&error) };
        let docker =
            Docker::connect_with_unix(&socket.to_string_lossy(), ENGINE_TIMEOUT_SECS, bollard::API_DEFAULT_VERSION)
                .map_err(unreachable)?;
        let docker = docker.negotiate_version().await.map_err(unreachable)?;
        Ok(TaskSets {
            docker,
            socket,
            publish_ip: DEFAULT_PUBLISH_IP,
            probes: Mutex::new(HashMap::new()),
            published: Mutex::new(HashMap::new()),
        })
    }

    /// Publishes the ports of the tasks started from now on on `ip` instead of 127.0.0.1 (e.g. a private address a
    /// router on another host reaches). Tasks are listed with the ports they publish on this address only.
    pub fn with_publish_ip(mut self, ip: IpAddr) -> TaskSets {
        self.publish_ip = ip;
        self
    }

    /// The address ports are published on (default [`DEFAULT_PUBLISH_IP`]).
    pub fn publish_ip(&self) -> IpAddr {
        self.publish_ip
    }

    /// Connects to `DOCKER_HOST` if it names a unix socket, else to `/var/run/docker.sock`.
    pub async fn connect_local() -> Result<TaskSets> {
        match std::env::var("DOCKER_HOST") {
            Ok(host) if host.starts_with("unix://") => Self::connect(host.trim_start_matches("unix://")).await,
            Ok(host) if !host.is_empty() => Err(Error::EngineUnreachable {
                socket: PathBuf::from(&host),
                message: format!("DOCKER_HOST={host} is not a unix socket; the agent drives only its local engine"),
            }),
            _ => Self::connect("/var/run/docker.sock").await,
        }
    }

    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// The API version agreed with the engine, e.g. `1.41`.
    pub fn api_version(&self) -> String {
        self.docker.client_version().to_string()
    }

    #[cfg(feature = "test-support")]
    pub(crate) fn docker(&self) -> &Docker {
        &self.docker
    }

    /// Creates and starts `count` tasks of `definition` as task set `id`, each container publishing its ports on
    /// the publish IP (127.0.0.1 by default). On any failure every container of the set is removed again.
    pub async fn start_task_set(&self, id: &str, definition: &TaskDefinition, count: usize) -> Result<TaskSet> {
        check_task_set_id(id)?;
        definition.validate()?;
        check_count(definition, count)?;
        let existing = self.containers_of(id).await?;
        if !existing.is_empty() {
            return Err(Error::TaskSetExists { id: id.to_owned(), containers: existing.len() });
        }
        self.check_images(definition).await?;
        let mut tasks = Vec::with_capacity(count);
        let none = HostPorts::new();
        for result in join_all((0..count).map(|_| self.start_task(id, definition, &none))).await {
            match result {
                Ok(task) => tasks.push(task),
                Err(error) => {
                    self.remove_all(id).await;
                    return Err(error);
                }
            }
        }
        tasks.sort_by(task_order);
        let set = TaskSet { id: id.to_owned(), family: definition.family.clone(), tasks };
        self.remember_ports(&set);
        Ok(set)
    }

    /// Waits until every container with a health check passed it `healthyThreshold` times in a row (checked from the
    /// host through its published port). Fails at once if any container stops, with its last output.
    pub async fn wait_healthy(&self, task_set: &TaskSet, timeout: Duration) -> Result<()> {
        struct Pending {
            task: String,
            container: String,
            container_id: String,
            address: SocketAddr,
            check: HealthCheck,
            successes: u32,
            last: String,
        }
        let deadline = Instant::now() + timeout;
        let mut pending = Vec::new();
        // Containers without a check only have to keep running while the others get healthy.
        let mut unchecked = Vec::new();
        for task in &task_set.tasks {
            for container in &task.containers {
                let Some(check) = container.health_check.clone() else {
                    unchecked.push((task.id.as_str(), container));
                    continue;
                };
                let Some(port) = container.ports.iter().find(|port| port.container_port == check.port) else {
                    return Err(Error::Engine {
                        operation: format!("publish port {} of {}", check.port, container.docker_name),
                        message: "the health-checked port is not published".into(),
                    });
                };
                pending.push(Pending {
                    task: task.id.clone(),
                    container: container.name.clone(),
                    container_id: container.container_id.clone(),
                    address: port.address,
                    check,
                    successes: 0,
                    last: "not checked yet".into(),
                });
            }
        }
        loop {
            let results = join_all(pending.iter().map(|p| probe(p.address, &p.check.path, p.check.timeout()))).await;
            for (entry, result) in pending.iter_mut().zip(results) {
                match result {
                    Ok(()) => entry.successes += 1,
                    Err(error) => {
                        entry.successes = 0;
                        entry.last = error;
                    }
                }
            }
            let failing = pending.iter().filter(|entry| entry.successes == 0);
            let suspects = failing
                .map(|entry| (entry.task.as_str(), entry.container.as_str(), entry.container_id.as_str()))
                .chain(unchecked.iter().map(|(task, c)| (*task, c.name.as_str(), c.container_id.as_str())));
            for (task, container, container_id) in suspects {
                if let Some(state) = self.stopped_state(container_id).await? {
                    return Err(Error::TaskStopped {
                        task: task.to_owned(),
                        container: container.to_owned(),
                        state,
                        logs: self.last_output(container_id).await,
                    });
                }
            }
            pending.retain(|entry| entry.successes < entry.check.healthy_threshold);
            if pending.is_empty() {
                return Ok(());
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(Error::Unhealthy {
                    task_set: task_set.id.clone(),
                    timeout,
                    pending: pending
                        .iter()
                        .map(|entry| format!("task {} container {:?}: {}", entry.task, entry.container, entry.last))
                        .collect(),
                });
            }
            let interval = pending.iter().map(|entry| entry.check.interval()).min().unwrap_or(STOP_POLL);
            tokio::time::sleep(interval.min(deadline - now)).await;
        }
    }

    /// Keeps task set `id` at `count` healthy tasks of `definition`: a task with a container that is not running,
    /// that failed its health check `unhealthyThreshold` times in a row (one check per call), or that runs another
    /// revision is removed and replaced; extra tasks (the newest) are removed. A replacement publishes the host ports
    /// of the task it replaces (so the router's upstream stays valid), or ports Docker picks if one of those is taken
    /// meanwhile; tasks started to make up the count get ports Docker picks. Meant to be called at the health-check
    /// interval, by one caller per task set at a time (a task being started by another call looks broken).
    pub async fn reconcile(&self, id: &str, definition: &TaskDefinition, count: usize) -> Result<Reconciliation> {
        check_task_set_id(id)?;
        definition.validate()?;
        check_count(definition, count)?;
        let current = self.task_set_from(id, self.containers_of(id).await?);
        self.remember_ports(&current);
        let digest = definition.digest();
        let verdicts = join_all(current.tasks.iter().map(|task| self.judge(task, definition, &digest))).await;
        let mut keep = Vec::new();
        let mut broken = Vec::new();
        for (task, verdict) in current.tasks.iter().zip(verdicts) {
            match verdict {
                None => keep.push(task),
                Some(reason) => broken.push((task, reason)),
            }
        }
        let extra = keep.split_off(keep.len().min(count));
        let missing = count - keep.len();
        if missing > 0 {
            // Before anything is removed: a missing image must not turn a degraded set into an empty one.
            self.check_images(definition).await?;
        }

        let mut replaced = Vec::new();
        let mut reused_ports = Vec::new();
        for (task, reason) in broken {
            reused_ports.push(self.host_ports_of(task).await);
            let mut logs = String::new();
            for container in &task.containers {
                let output = self.last_output(&container.container_id).await;
                logs.push_str(&format!("--- {} ---\n{output}", container.name));
            }
            self.remove_task(task).await?;
            tracing::warn!(task = %task.id, %reason, "replacing task");
            replaced.push(ReplacedTask { task_id: task.id.clone(), reason, logs });
        }
        let mut removed = Vec::new();
        for task in extra {
            self.remove_task(task).await?;
            removed.push(task.id.clone());
        }

        // Replacements first: they take the ports of the tasks they replace.
        let none = HostPorts::new();
        let starts = (0..missing).map(|n| self.start_task(id, definition, reused_ports.get(n).unwrap_or(&none)));
        let results = join_all(starts).await;
        let mut started = Vec::new();
        let mut first_error = None;
        for result in results {
            match result {
                Ok(task) => started.push(task.id),
                Err(error) => {
                    first_error.get_or_insert(error);
                }
            }
        }
        let task_set = self.task_set_from(id, self.containers_of(id).await?);
        self.remember_ports(&task_set);
        // Forget the containers of this set that are gone (not those of other sets: one driver serves them all).
        let live: HashSet<&str> =
            task_set.tasks.iter().flat_map(|task| &task.containers).map(|c| c.container_id.as_str()).collect();
        let gone: Vec<&str> = current
            .tasks
            .iter()
            .flat_map(|task| &task.containers)
            .map(|c| c.container_id.as_str())
            .filter(|container_id| !live.contains(container_id))
            .collect();
        self.forget_containers(&gone);
        if let Some(error) = first_error {
            return Err(error);
        }
        started.sort();
        Ok(Reconciliation { task_set, replaced, started, removed })
    }

    /// Sends SIGTERM to every container of the task set, gives them `grace` to exit, then removes them (killing what
    /// still runs). Returns how many containers were removed; a task set with none is already stopped.
    pub async fn stop_task_set(&self, id: &str, grace: Duration) -> Result<usize> {
        check_task_set_id(id)?;
        let containers = self.containers_of(id).await?;
        let results = join_all(containers.iter().filter_map(|c| c.id.as_deref()).map(|c| self.stop(c, grace))).await;
        let ids: Vec<&str> = containers.iter().filter_map(|c| c.id.as_deref()).collect();
        self.forget_containers(&ids);
        results.into_iter().collect::<Result<Vec<()>>>()?;
        Ok(containers.len())
    }

    /// Every task set on this engine (containers labelled `cutover.task-set`), by id.
    pub async fn list_task_sets(&self) -> Result<Vec<TaskSet>> {
        let containers = self.list(labels::TASK_SET.to_owned()).await?;
        let mut by_set: BTreeMap<String, Vec<ContainerSummary>> = BTreeMap::new();
        for container in containers {
            if let Some(id) = label(&container, labels::TASK_SET) {
                by_set.entry(id.to_owned()).or_default().push(container);
            }
        }
        let sets: Vec<TaskSet> =
            by_set.into_iter().map(|(id, containers)| self.task_set_from(&id, containers)).collect();
        sets.iter().for_each(|set| self.remember_ports(set));
        Ok(sets)
    }

    /// One task set as the engine lists it; `None` if it has no containers.
    pub async fn task_set(&self, id: &str) -> Result<Option<TaskSet>> {
        check_task_set_id(id)?;
        let containers = self.containers_of(id).await?;
        let set = (!containers.is_empty()).then(|| self.task_set_from(id, containers));
        if let Some(set) = &set {
            self.remember_ports(set);
        }
        Ok(set)
    }

    /// The last `tail` lines of stdout and stderr of every container of the task set (stopped ones included, until
    /// reconcile replaces them).
    pub async fn logs(&self, id: &str, tail: usize) -> Result<Vec<ContainerLogs>> {
        check_task_set_id(id)?;
        let set = self.task_set_from(id, self.containers_of(id).await?);
        if set.tasks.is_empty() {
            return Err(Error::TaskSetNotFound { id: id.to_owned() });
        }
        let mut all = Vec::new();
        for task in &set.tasks {
            for container in &task.containers {
                let lines = self.log_lines(&container.container_id, tail).await?;
                all.push(ContainerLogs {
                    task_id: task.id.clone(),
                    container_name: container.name.clone(),
                    container_id: container.container_id.clone(),
                    lines,
                });
            }
        }
        Ok(all)
    }

    // ---- engine calls ----

    fn probes(&self) -> std::sync::MutexGuard<'_, HashMap<String, ProbeState>> {
        self.probes.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn published(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<PublishedPort>>> {
        self.published.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Keeps the host ports of every container that lists some (a running one).
    fn remember_ports(&self, set: &TaskSet) {
        let mut published = self.published();
        for container in set.tasks.iter().flat_map(|task| &task.containers) {
            if !container.ports.is_empty() {
                published.insert(container.container_id.clone(), container.ports.clone());
            }
        }
    }

    fn forget_containers(&self, container_ids: &[&str]) {
        let mut probes = self.probes();
        let mut published = self.published();
        for container_id in container_ids {
            probes.remove(*container_id);
            published.remove(*container_id);
        }
    }

    /// The host ports `task` published, for its replacement: what the engine lists (a running container), else what
    /// this process saw it publish, else the fixed ports it was created with (a replacement that stopped while the
    /// agent was not running). A port found nowhere is left to Docker.
    async fn host_ports_of(&self, task: &Task) -> HostPorts {
        let mut ports = HostPorts::new();
        for container in &task.containers {
            let mut known = container.ports.clone();
            if known.is_empty() {
                known = self.published().get(&container.container_id).cloned().unwrap_or_default();
            }
            if known.is_empty() {
                known = self.created_with_ports(&container.container_id).await;
            }
            for port in known {
                ports.insert((container.name.clone(), port.container_port), port.address.port());
            }
        }
        ports
    }

    /// The fixed host ports a container was created with (none for those Docker picked), from its configuration,
    /// which outlives the container's run.
    async fn created_with_ports(&self, container_id: &str) -> Vec<PublishedPort> {
        let Ok(inspect) = self.docker.inspect_container(container_id, None::<InspectContainerOptions>).await else {
            return Vec::new();
        };
        let bindings = inspect.host_config.and_then(|config| config.port_bindings).unwrap_or_default();
        let mut ports = Vec::new();
        for (key, bindings) in bindings {
            let Some(container_port) = key.strip_suffix("/tcp").and_then(|port| port.parse::<u16>().ok()) else {
                continue;
            };
            let host_port = bindings.iter().flatten().find_map(|binding| binding.host_port.as_deref()?.parse().ok());
            if let Some(host_port) = host_port.filter(|port: &u16| *port != 0) {
                ports.push(PublishedPort { container_port, address: SocketAddr::new(self.publish_ip, host_port) });
            }
        }
        ports
    }

    fn engine_error(&self, operation: impl Into<String>, error: BollardError) -> Error {
        match error {
            BollardError::DockerResponseServerError { status_code, message } => {
                Error::Engine { operation: operation.into(), message: format!("{message} (HTTP {status_code})") }
            }
            BollardError::HyperLegacyError { .. }
            | BollardError::HyperResponseError { .. }
            | BollardError::IOError { .. }
            | BollardError::RequestTimeoutError
            | BollardError::SocketNotFoundError(_) => {
                Error::EngineUnreachable { socket: self.socket.clone(), message: chain(&error) }
            }
            other => Error::Engine { operation: operation.into(), message: chain(&other) },
        }
    }

    async fn list(&self, label_filter: String) -> Result<Vec<ContainerSummary>> {
        let options = ListContainersOptions {
            all: true,
            filters: Some(HashMap::from([("label".to_owned(), vec![label_filter])])),
            ..Default::default()
        };
        self.docker.list_containers(Some(options)).await.map_err(|error| self.engine_error("list containers", error))
    }

    async fn containers_of(&self, id: &str) -> Result<Vec<ContainerSummary>> {
        self.list(format!("{}={id}", labels::TASK_SET)).await
    }

    async fn check_images(&self, definition: &TaskDefinition) -> Result<()> {
        let mut seen = HashSet::new();
        for container in &definition.containers {
            if !seen.insert(container.image.as_str()) {
                continue;
            }
            match self.docker.inspect_image(&container.image).await {
                Ok(_) => {}
                Err(BollardError::DockerResponseServerError { status_code: 404, .. }) => {
                    return Err(Error::ImageMissing {
                        image: container.image.clone(),
                        container: container.name.clone(),
                    });
                }
                Err(error) => return Err(self.engine_error(format!("inspect image {}", container.image), error)),
            }
        }
        Ok(())
    }

    /// Starts one task; a container publishes the host ports `reuse` names for it (a replacement's), unless one of them
    /// is taken: then Docker picks them.
    async fn start_task(&self, set_id: &str, definition: &TaskDefinition, reuse: &HostPorts) -> Result<Task> {
        let task_id = format!("{set_id}-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
        let digest = definition.digest();
        let created_at_micros = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| u64::try_from(since.as_micros()).unwrap_or(u64::MAX));
        let task = Task { id: task_id.clone(), created_at_micros, definition_digest: digest, containers: Vec::new() };
        let mut containers = Vec::new();
        for container in &definition.containers {
            let mut result = self.start_container(set_id, &task, definition, container, reuse).await;
            if let Err(Error::PortConflict { host_port, message, .. }) = &result
                && reuses_a_port(container, reuse)
            {
                tracing::info!(
                    task = %task_id,
                    container = %container.name,
                    host_port,
                    %message,
                    "a host port of the replaced task is taken; letting Docker pick"
                );
                result = self.start_container(set_id, &task, definition, container, &HostPorts::new()).await;
            }
            match result {
                Ok(started) => containers.push(started),
                Err(error) => {
                    let partial = Task { containers, ..task };
                    // The set's own cleanup (or the next reconcile) removes what this misses.
                    let _ = self.remove_task(&partial).await;
                    let _ = self.remove(&format!("cutover-{task_id}-{}", container.name)).await;
                    return Err(error);
                }
            }
        }
        containers.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Task { containers, ..task })
    }

    async fn start_container(
        &self,
        set_id: &str,
        task: &Task,
        definition: &TaskDefinition,
        container: &ContainerDefinition,
        reuse: &HostPorts,
    ) -> Result<TaskContainer> {
        let task_id = task.id.as_str();
        let docker_name = format!("cutover-{task_id}-{}", container.name);
        let mut container_labels = HashMap::from([
            (labels::TASK_SET.to_owned(), set_id.to_owned()),
            (labels::TASK.to_owned(), task_id.to_owned()),
            (labels::TASK_CREATED.to_owned(), task.created_at_micros.to_string()),
            (labels::CONTAINER.to_owned(), container.name.clone()),
            (labels::FAMILY.to_owned(), definition.family.clone()),
            (labels::DEFINITION.to_owned(), task.definition_digest.clone()),
        ]);
        if let Some(check) = &container.health_check {
            container_labels.insert(labels::HEALTH_CHECK.to_owned(), serde_json::to_string(check).unwrap_or_default());
        }
        let host_ports: Vec<u16> = container
            .port_mappings
            .iter()
            .map(|mapping| match mapping.host_port {
                0 => reuse.get(&(container.name.clone(), mapping.container_port)).copied().unwrap_or(0),
                fixed => fixed,
            })
            .collect();
        let port_bindings: PortMap = container
            .port_mappings
            .iter()
            .zip(&host_ports)
            .map(|(mapping, host_port)| {
                let binding = PortBinding {
                    host_ip: Some(self.publish_ip.to_string()),
                    // Empty: the engine picks a free port.
                    host_port: Some(if *host_port == 0 { String::new() } else { host_port.to_string() }),
                };
                (format!("{}/tcp", mapping.container_port), Some(vec![binding]))
            })
            .collect();
        let body = ContainerCreateBody {
            image: Some(container.image.clone()),
            cmd: (!container.command.is_empty()).then(|| container.command.clone()),
            env: Some(container.environment.iter().map(|(key, value)| format!("{key}={value}")).collect()),
            exposed_ports: Some(port_bindings.keys().cloned().collect()),
            labels: Some(container_labels),
            host_config: Some(HostConfig {
                port_bindings: Some(port_bindings),
                init: Some(container.init_process),
                ..Default::default()
            }),
            ..Default::default()
        };
        let options = CreateContainerOptions { name: Some(docker_name.clone()), ..Default::default() };
        let created = self.docker.create_container(Some(options), body).await.map_err(|error| match error {
            BollardError::DockerResponseServerError { status_code: 404, ref message } if message.contains("image") => {
                Error::ImageMissing { image: container.image.clone(), container: container.name.clone() }
            }
            error => self.engine_error(format!("create container {docker_name}"), error),
        })?;
        if let Err(error) = self.docker.start_container(&created.id, None::<StartContainerOptions>).await {
            let _ = self.remove(&created.id).await;
            return Err(match error {
                BollardError::DockerResponseServerError { message, .. }
                    if message.contains("port is already allocated") || message.contains("address already in use") =>
                {
                    let fixed = host_ports.iter().copied().filter(|port| *port != 0);
                    let host_port = fixed
                        .clone()
                        .find(|port| message.contains(&format!(":{port}")))
                        .or_else(|| fixed.clone().next())
                        .unwrap_or(0);
                    Error::PortConflict { container: container.name.clone(), host_port, ip: self.publish_ip, message }
                }
                error => self.engine_error(format!("start container {docker_name}"), error),
            });
        }
        self.describe_started(task_id, &created.id, container).await
    }

    /// The started container as a `TaskContainer`, with the host ports the engine assigned. A container that already
    /// stopped has none: that is said with its output.
    async fn describe_started(
        &self,
        task_id: &str,
        container_id: &str,
        container: &ContainerDefinition,
    ) -> Result<TaskContainer> {
        let inspect = self
            .docker
            .inspect_container(container_id, None::<InspectContainerOptions>)
            .await
            .map_err(|error| self.engine_error(format!("inspect container {container_id}"), error))?;
        if let Some(state) = inspect.state.as_ref().and_then(describe_stopped) {
            return Err(Error::TaskStopped {
                task: task_id.to_owned(),
                container: container.name.clone(),
                state,
                logs: self.last_output(container_id).await,
            });
        }
        let published = inspect.network_settings.and_then(|settings| settings.ports).unwrap_or_default();
        let mut ports = Vec::new();
        for mapping in &container.port_mappings {
            let key = format!("{}/tcp", mapping.container_port);
            let host_port = published.get(&key).and_then(Option::as_ref).and_then(|bindings| {
                bindings.iter().find_map(|binding| binding.host_port.as_deref()?.parse::<u16>().ok())
            });
            let Some(host_port) = host_port else {
                return Err(Error::Engine {
                    operation: format!("publish port {key} of container {container_id}"),
                    message: "the engine reported no host port".into(),
                });
            };
            ports.push(PublishedPort {
                container_port: mapping.container_port,
                address: SocketAddr::new(self.publish_ip, host_port),
            });
        }
        let state = inspect.state.as_ref();
        Ok(TaskContainer {
            name: container.name.clone(),
            container_id: container_id.to_owned(),
            docker_name: inspect.name.unwrap_or_default().trim_start_matches('/').to_owned(),
            image: container.image.clone(),
            state: state.and_then(|s| s.status).map(|s| s.to_string()).unwrap_or_default(),
            status: String::new(),
            ports,
            health_check: container.health_check.clone(),
        })
    }

    /// Why the task must be replaced, if it must. One health check per call.
    async fn judge(&self, task: &Task, definition: &TaskDefinition, digest: &str) -> Option<String> {
        if task.definition_digest != digest {
            return Some(format!("it runs task definition {} instead of {digest}", task.definition_digest));
        }
        for wanted in &definition.containers {
            match task.containers.iter().find(|container| container.name == wanted.name) {
                None => return Some(format!("container {:?} is missing", wanted.name)),
                Some(container) if container.state != "running" => {
                    return Some(format!(
                        "container {:?} is {}: {}",
                        container.name, container.state, container.status
                    ));
                }
                Some(_) => {}
            }
        }
        for container in &task.containers {
            let Some(check) = &container.health_check else { continue };
            let Some(port) = container.ports.iter().find(|port| port.container_port == check.port) else { continue };
            let result = probe(port.address, &check.path, check.timeout()).await;
            let mut probes = self.probes();
            let state = probes
                .entry(container.container_id.clone())
                .or_insert_with(|| ProbeState { first_seen: Instant::now(), failures: 0 });
            match result {
                Ok(()) => state.failures = 0,
                Err(_) if state.first_seen.elapsed() < check.start_period() => {}
                Err(error) => {
                    state.failures += 1;
                    if state.failures >= check.unhealthy_threshold {
                        return Some(format!(
                            "container {:?} failed {} health checks in a row: {error}",
                            container.name, state.failures
                        ));
                    }
                }
            }
        }
        None
    }

    /// `Some(description)` if the container is no longer running (or is gone).
    async fn stopped_state(&self, container_id: &str) -> Result<Option<String>> {
        match self.docker.inspect_container(container_id, None::<InspectContainerOptions>).await {
            Ok(inspect) => Ok(inspect.state.as_ref().and_then(describe_stopped)),
            Err(BollardError::DockerResponseServerError { status_code: 404, .. }) => Ok(Some("removed".into())),
            Err(error) => Err(self.engine_error(format!("inspect container {container_id}"), error)),
        }
    }

    async fn log_lines(&self, container_id: &str, tail: usize) -> Result<Vec<LogLine>> {
        let options = LogsOptions { stdout: true, stderr: true, tail: tail.to_string(), ..Default::default() };
        let mut stream = self.docker.logs(container_id, Some(options));
        let mut lines = Vec::new();
        while let Some(item) = stream.next().await {
            let (stream, message) =
                match item.map_err(|e| self.engine_error(format!("read logs of {container_id}"), e))? {
                    LogOutput::StdOut { message } | LogOutput::Console { message } => (LogStream::Stdout, message),
                    LogOutput::StdErr { message } => (LogStream::Stderr, message),
                    LogOutput::StdIn { .. } => continue,
                };
            let text = String::from_utf8_lossy(&message);
            lines.extend(text.lines().map(|line| LogLine { stream, text: line.to_owned() }));
        }
        Ok(lines)
    }

    /// The last lines of a container, for an error or a replacement report; the failure to read them is said instead.
    async fn last_output(&self, container_id: &str) -> String {
        match self.log_lines(container_id, LAST_LINES).await {
            Ok(lines) => lines.iter().map(|line| format!("{}\n", line.text)).collect(),
            Err(error) => format!("(no output: {error})\n"),
        }
    }

    async fn stop(&self, container_id: &str, grace: Duration) -> Result<()> {
        let term = KillContainerOptions { signal: "SIGTERM".into() };
        match self.docker.kill_container(container_id, Some(term)).await {
            // 409: not running; 404: already gone.
            Ok(()) | Err(BollardError::DockerResponseServerError { status_code: 404 | 409, .. }) => {}
            Err(error) => return Err(self.engine_error(format!("send SIGTERM to {container_id}"), error)),
        }
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline && self.stopped_state(container_id).await?.is_none() {
            tokio::time::sleep(STOP_POLL.min(deadline.saturating_duration_since(Instant::now()))).await;
        }
        self.remove(container_id).await
    }

    /// Force-removes a container (SIGKILL if it still runs); one that is already gone is fine.
    async fn remove(&self, container_id: &str) -> Result<()> {
        let options = RemoveContainerOptions { force: true, v: true, ..Default::default() };
        match self.docker.remove_container(container_id, Some(options)).await {
            Ok(()) => Ok(()),
            // 404: gone; 409: "removal already in progress" (a concurrent stop).
            Err(BollardError::DockerResponseServerError { status_code: 404 | 409, .. }) => Ok(()),
            Err(error) => Err(self.engine_error(format!("remove container {container_id}"), error)),
        }
    }

    async fn remove_task(&self, task: &Task) -> Result<()> {
        let containers = self.list(format!("{}={}", labels::TASK, task.id)).await?;
        let ids = containers.iter().filter_map(|c| c.id.as_deref()).map(str::to_owned);
        let ids: HashSet<String> = ids.chain(task.containers.iter().map(|c| c.container_id.clone())).collect();
        join_all(ids.iter().map(|id| self.remove(id))).await.into_iter().collect::<Result<Vec<()>>>()?;
        Ok(())
    }

    /// Best effort, after a failed start: the error being returned matters more than one from the cleanup.
    async fn remove_all(&self, set_id: &str) {
        if let Ok(containers) = self.containers_of(set_id).await {
            join_all(containers.iter().filter_map(|c| c.id.as_deref()).map(|id| self.remove(id))).await;
        }
    }

    /// Groups listed containers into tasks, oldest first, containers by name.
    fn task_set_from(&self, id: &str, containers: Vec<ContainerSummary>) -> TaskSet {
        let mut family = String::new();
        let mut tasks: BTreeMap<String, Task> = BTreeMap::new();
        for container in containers {
            let Some(task_id) = label(&container, labels::TASK) else { continue };
            if family.is_empty() {
                family = label(&container, labels::FAMILY).unwrap_or_default().to_owned();
            }
            let task = tasks.entry(task_id.to_owned()).or_insert_with(|| Task {
                id: task_id.to_owned(),
                created_at_micros: label(&container, labels::TASK_CREATED).and_then(|t| t.parse().ok()).unwrap_or(0),
                definition_digest: label(&container, labels::DEFINITION).unwrap_or_default().to_owned(),
                containers: Vec::new(),
            });
            task.containers.push(summary_to_container(&container, self.publish_ip));
        }
        let mut tasks: Vec<Task> = tasks.into_values().collect();
        for task in &mut tasks {
            task.containers.sort_by(|a, b| a.name.cmp(&b.name));
        }
        tasks.sort_by(task_order);
        TaskSet { id: id.to_owned(), family, tasks }
    }
}

fn task_order(a: &Task, b: &Task) -> std::cmp::Ordering {
    a.created_at_micros.cmp(&b.created_at_micros).then_with(|| a.id.cmp(&b.id))
}

/// `None` while the container runs; otherwise its state, exit code and why, e.g. `exited with code 137`.
fn describe_stopped(state: &ContainerState) -> Option<String> {
    if state.running == Some(true) {
        return None;
    }
    let status = state.status.map(|s| s.to_string()).unwrap_or_else(|| "stopped".into());
    let mut description = format!("{status} with code {}", state.exit_code.unwrap_or(-1));
    if state.oom_killed == Some(true) {
        description.push_str(", killed for lack of memory");
    }
    if let Some(error) = state.error.as_deref().filter(|error| !error.is_empty()) {
        description.push_str(&format!(", {error}"));
    }
    Some(description)
}

/// Whether a container of a replacement task publishes a host port of the task it replaces.
fn reuses_a_port(container: &ContainerDefinition, reuse: &HostPorts) -> bool {
    container
        .port_mappings
        .iter()
        .any(|mapping| mapping.host_port == 0 && reuse.contains_key(&(container.name.clone(), mapping.container_port)))
}

/// A listed container; only the ports it publishes on `publish_ip` count.
fn summary_to_container(container: &ContainerSummary, publish_ip: IpAddr) -> TaskContainer {
    let ports = container
        .ports
        .iter()
        .flatten()
        .filter(|port| port.ip.as_deref().and_then(|ip| ip.parse::<IpAddr>().ok()) == Some(publish_ip))
        .filter_map(|port| {
            Some(PublishedPort {
                container_port: port.private_port,
                address: SocketAddr::new(publish_ip, port.public_port?),
            })
        })
        .collect();
    TaskContainer {
        name: label(container, labels::CONTAINER).unwrap_or_default().to_owned(),
        container_id: container.id.clone().unwrap_or_default(),
        docker_name: container
            .names
            .iter()
            .flatten()
            .next()
            .map(|name| name.trim_start_matches('/').to_owned())
            .unwrap_or_default(),
        image: container.image.clone().unwrap_or_default(),
        state: container.state.map(|state| state.to_string()).unwrap_or_default(),
        status: container.status.clone().unwrap_or_default(),
        ports,
        health_check: label(container, labels::HEALTH_CHECK).and_then(|json| serde_json::from_str(json).ok()),
    }
}

fn label<'a>(container: &'a ContainerSummary, key: &str) -> Option<&'a str> {
    container.labels.as_ref()?.get(key).map(String::as_str)
}

fn check_task_set_id(id: &str) -> Result<()> {
    if is_docker_name(id, 40) { Ok(()) } else { Err(Error::InvalidTaskSetId { id: id.to_owned() }) }
}

fn check_count(definition: &TaskDefinition, count: usize) -> Result<()> {
    if count > crate::definition::MAX_TASKS {
        return Err(Error::InvalidDefinition(crate::definition::TaskDefinitionError::Invalid {
            problems: vec![crate::definition::FieldProblem {
                field: "count".into(),
                message: format!("{count} is more than the {} tasks one host runs", crate::definition::MAX_TASKS),
            }],
        }));
    }
    if count > 1 {
        for container in &definition.containers {
            if let Some(mapping) = container.port_mappings.iter().find(|mapping| mapping.host_port != 0) {
                return Err(Error::FixedHostPort {
                    container: container.name.clone(),
                    host_port: mapping.host_port,
                    count,
                });
            }
        }
    }
    Ok(())
}

/// The error with its causes: hyper's own message ("client error (Connect)") says nothing without them.
fn chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

/// Compile-time check: the agent runs these on spawned tasks, so none may hold the probe table's lock across an
/// await.
#[cfg(test)]
#[allow(dead_code)]
fn driver_futures_are_send(tasks: &TaskSets, definition: &TaskDefinition, set: &TaskSet) {
    fn send<T: Send>(_: T) {}
    send(tasks.start_task_set("s", definition, 1));
    send(tasks.wait_healthy(set, Duration::ZERO));
    send(tasks.reconcile("s", definition, 1));
    send(tasks.stop_task_set("s", Duration::ZERO));
    send(tasks.list_task_sets());
    send(tasks.task_set("s"));
    send(tasks.logs("s", 1));
}
