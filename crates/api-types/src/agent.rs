//! The host agent protocol (`/agent/v1/...`, JSON).
//!
//! One host command is one lifecycle event. The server hands out the events of one deployment to a host strictly one
//! after another; events of different deployments may run side by side (a poll lists what the agent is running). The agent long-polls for its next command, runs it, and reports its result with [`CompleteRequest`],
//! retrying until the server acknowledges it. A command the server hands out again (because the answer to a poll
//! was lost) has the same `command_id`; the agent remembers the results of the commands it ran, so a command never
//! runs twice.

use serde::{Deserialize, Serialize};

/// Path prefix of the agent protocol.
pub const PREFIX: &str = "/agent/v1";

/// Every agent request but an enrolment is signed with AWS Signature V4 by the instance's own key, with this
/// credential-scope service.
pub const SIGNING_SERVICE: &str = "cutover-agent";

/// Credential-scope region of agent signatures (the server accepts any; agents use this one).
pub const SIGNING_REGION: &str = "cutover";

/// `POST /agent/v1/register`: registers (or re-registers) the host as an on-premises instance.
///
/// The first registration is an enrolment: unsigned, it carries a join token and the key the agent proposes as its
/// own credential (generated and saved by the agent before it asks, so a retried enrolment is idempotent). Later
/// registrations are signed with that key and carry neither.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct RegisterRequest {
    pub instance_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enrollment_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_key_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_access_key: Option<String>,
    /// Tags to set on the instance (added to, or replacing values of, existing tags).
    #[serde(default)]
    pub tags: Vec<Tag>,
    #[serde(default)]
    pub agent_version: String,
    #[serde(default)]
    pub hostname: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct RegisterResponse {
    pub instance_name: String,
    pub instance_arn: String,
}

/// `POST /agent/v1/poll`: waits up to `wait_ms` for the instance's next command.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct PollRequest {
    pub instance_name: String,
    /// How long the server may hold the request when there is no work (the server caps it).
    #[serde(default)]
    pub wait_ms: u64,
    /// Commands the agent is running right now: the server does not hand them out again and offers the next
    /// event of another deployment instead, so deployments of different groups run side by side on one host.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub running_command_ids: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct PollResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<HostCommand>,
}

/// One lifecycle event to run on this host.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct HostCommand {
    /// Stable identity of the command: `<deploymentId>/<instanceName>/<eventIndex>`.
    pub command_id: String,
    /// The lifecycle event name, e.g. `BeforeInstall`.
    pub lifecycle_event: String,
    pub deployment: DeploymentSpec,
}

/// What the agent needs to know about the deployment a command belongs to.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DeploymentSpec {
    pub deployment_id: String,
    pub application_name: String,
    pub deployment_group_name: String,
    pub deployment_group_id: String,
    /// `user`, `codeDeployRollback`, ...
    pub creator: String,
    pub revision: BundleSpec,
    /// Deployment-level `fileExistsBehavior` (DISALLOW | OVERWRITE | RETAIN); the AppSpec's own value wins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_exists_behavior: Option<String>,
    /// Every lifecycle event of this deployment on this host, in order.
    #[serde(default)]
    pub lifecycle_events: Vec<String>,
    /// `IN_PLACE` or `BLUE_GREEN`: a blue/green rollback takes the traffic hooks' scripts from the revisions
    /// installed on the host (CodeDeploy's agent rule).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_type: Option<String>,
}

/// Where to download the revision and how to check it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct BundleSpec {
    /// Absolute URL, or a path on the server (starting with `/`) the agent resolves against its server URL.
    pub url: String,
    /// Hex SHA-256 of the bundle; the agent refuses a download that does not match.
    pub sha256: String,
    /// When the deployment group trusts signing keys: those keys, and the revision's signatures (public key,
    /// base64 ed25519 signature of the digest). The agent refuses a bundle none of them signed before extracting it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trusted_keys: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signatures: Vec<BundleSignature>,
    /// `tar`, `tgz` or `zip`.
    pub bundle_type: String,
    pub size: u64,
    /// For the hook environment (BUNDLE_BUCKET, BUNDLE_KEY, BUNDLE_VERSION, BUNDLE_ETAG, BUNDLE_COMMIT).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit_id: Option<String>,
}

/// A signature of a revision bundle.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct BundleSignature {
    pub public_key: String,
    pub signature: String,
}

/// `POST /agent/v1/complete`: the result of a command. Idempotent: reporting the same result twice is fine.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CompleteRequest {
    pub instance_name: String,
    pub command_id: String,
    /// `Succeeded` or `Failed`.
    pub status: String,
    pub diagnostics: Diagnostics,
    /// Epoch milliseconds at which the agent started and ended the event.
    pub start_time_ms: i64,
    pub end_time_ms: i64,
    /// The event's full log (`scripts.log` lines), capped by the agent.
    #[serde(default)]
    pub log: String,
}

/// Per-event diagnostics, as CodeDeploy shows them.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
pub struct Diagnostics {
    /// Success | ScriptMissing | ScriptNotExecutable | ScriptTimedOut | ScriptFailed | UnknownError
    pub error_code: String,
    #[serde(default)]
    pub script_name: String,
    #[serde(default)]
    pub message: String,
    /// The last few KB of the event's log.
    #[serde(default)]
    pub log_tail: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct CompleteResponse {
    /// False when the server no longer knows the command (e.g. the deployment was deleted); the agent drops it.
    pub accepted: bool,
}

/// Error body of the agent protocol.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AgentError {
    pub code: String,
    pub message: String,
}

/// `POST /agent/v1/heartbeat`: sent every few seconds while the agent runs a command, so the server can tell a
/// long hook from a dead or partitioned host (idle agents are kept alive by their polls).
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct HeartbeatRequest {
    pub instance_name: String,
    /// The command being run, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct HeartbeatResponse {
    /// False when the server no longer expects this command (it was failed or the deployment was stopped).
    #[serde(default)]
    pub command_active: bool,
}

/// `GET /v1/deployments/{deploymentId}/instances/{instanceName}/logs`: the full hook logs the agent uploaded.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct InstanceLogs {
    pub deployment_id: String,
    pub instance_name: String,
    pub events: Vec<EventLog>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct EventLog {
    pub lifecycle_event: String,
    pub log: String,
}

/// `POST /agent/v1/logs`: the next piece of a running command's log, streamed while the event runs.
///
/// `offset` is the byte offset of `text` in the event's log. The server appends `text` only where its copy ends
/// (an overlap from a retried request is dropped) and answers with its new end, so a chunk is never stored twice. A
/// chunk for a command that is no longer running is refused (`accepted: false`): the complete log arrives with the
/// command's result, and the server then stores whatever part of it was not streamed.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct LogChunkRequest {
    pub instance_name: String,
    pub command_id: String,
    pub offset: u64,
    /// Whole lines of the event's log (`scripts.log` format).
    pub text: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct LogChunkResponse {
    pub accepted: bool,
    /// Where the server's copy of the event's log ends now.
    #[serde(default)]
    pub next_offset: u64,
}

/// `GET /v1/deployments/{deploymentId}/logs?after=N[&instance=NAME][&wait_ms=MS]`: the hook output of a deployment
/// from every host, in the order the server received it, starting after cursor `after` (0 for the beginning). With
/// `wait_ms`, the server holds the request until there is something new or the deployment has ended.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct DeploymentLogs {
    pub deployment_id: String,
    pub chunks: Vec<LogChunk>,
    /// The cursor to pass as `after` next time.
    pub next: u64,
    /// The deployment has ended and every chunk up to `next` was returned: nothing more will come.
    pub complete: bool,
}

/// A piece of one lifecycle event's log on one host: whole lines.
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq, Eq)]
pub struct LogChunk {
    pub seq: u64,
    pub instance_name: String,
    pub lifecycle_event: String,
    pub text: String,
}

/// `POST /v1/deployment-plans`: what CreateDeployment would do with these inputs now, without doing it.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct PlanRequest {
    pub application_name: String,
    pub deployment_group_name: String,
    /// The revision to deploy; the group's target revision when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<crate::codedeploy::RevisionLocation>,
    /// The deployment configuration; the group's when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_config_name: Option<String>,
    #[serde(default)]
    pub update_outdated_instances_only: bool,
}

/// The plan of a deployment: its targets in dispatch order, its batches, each host's last installed revision, and
/// where an automatic rollback would go.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct DeploymentPlan {
    pub application_name: String,
    pub deployment_group_name: String,
    pub deployment_config_name: String,
    pub revision: crate::codedeploy::RevisionLocation,
    /// SHA-256 and type of the bundle agents would download.
    pub bundle_sha256: String,
    pub bundle_type: String,
    /// Hosts that must stay healthy, and how many may be updating (or failed) at once; absent when the deployment
    /// would fail at once (see `error`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_healthy: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_unavailable: Option<u64>,
    /// Why the deployment would fail as soon as it is created (`NO_INSTANCES`, `HEALTH_CONSTRAINTS_INVALID`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<PlanError>,
    /// A zonal configuration: hosts go zone by zone (in `targets` order) and `batches` is empty.
    #[serde(default)]
    pub zonal: bool,
    /// The hosts, in the order they are dispatched.
    pub targets: Vec<PlannedTarget>,
    /// The hosts started together when every host takes as long as the others (with OneAtATime, and whenever hosts
    /// finish in order, exactly the order of execution): a host starts as soon as one of the batch before finishes.
    pub batches: Vec<Vec<String>>,
    pub rollback: PlannedRollback,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq, Eq)]
pub struct PlanError {
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct PlannedTarget {
    pub instance_name: String,
    /// False when the host's last deployment in the group failed, or it was never deployed to: it goes first.
    pub healthy: bool,
    /// `Current`, `Old` or `Unknown`: whether it runs the revision being deployed.
    pub revision_health: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    /// The group's last successful Install on this host: where ApplicationStop takes its scripts from, and what
    /// Install's cleanup removes. Absent when the group never installed anything there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_installed: Option<InstalledRevision>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct InstalledRevision {
    pub deployment_id: String,
    pub revision: crate::codedeploy::RevisionLocation,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct PlannedRollback {
    /// The events that would roll the deployment back (`DEPLOYMENT_FAILURE`, …); empty when automatic rollback is
    /// off.
    pub events: Vec<String>,
    /// The group's last successful deployment, whose revision a rollback redeploys; absent when there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<crate::codedeploy::RevisionLocation>,
}

/// `POST /agent/v1/task-sets`: what the agent runs on its Docker engine (container services, `computePlatform:
/// ECS`), answered with what it should run. The server is the desired state, the engine the actual one: the agent
/// starts an assigned task set it does not run, keeps it at its count (replacing tasks that die or fail their health
/// check, on the same host ports), and stops a task set it was assigned before that is no longer in the answer.
/// Sent every `interval_ms` of the last answer (and at once after a change the agent made).
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
pub struct TaskSetReport {
    pub instance_name: String,
    /// One per task set the agent was assigned and has not stopped yet.
    #[serde(default)]
    pub task_sets: Vec<TaskSetState>,
    /// The agent cannot drive a Docker engine (e.g. `the Docker engine at unix socket … is unreachable: …`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine_error: Option<String>,
}

/// What one assigned task set is on the engine now.
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
pub struct TaskSetState {
    pub task_set_id: String,
    /// Tasks whose containers all run.
    pub running: u32,
    /// Every task of the assigned count was started and passed its health checks (`healthyThreshold` in a row)
    /// at least once. Stays true while the set is reconciled afterwards.
    pub healthy: bool,
    /// `host:port` of each running task's load-balanced container port (the assignment's container and port).
    #[serde(default)]
    pub upstreams: Vec<String>,
    /// The last failure starting or reconciling the set (missing image, a task that stopped, health timeout);
    /// cleared by the next success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Tasks replaced since the agent started (a container died, or failed its health check).
    #[serde(default)]
    pub replaced: u32,
    /// New since the last report: one line per replaced task (its reason), then its last output lines.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<String>,
    /// Sent when the last answer asked for logs (`send_logs`): the last lines of each container of the set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logs: Option<Vec<TaskSetContainerLogs>>,
}

/// The last lines of one container of a task set.
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq, Eq)]
pub struct TaskSetContainerLogs {
    pub task_id: String,
    pub container_name: String,
    /// Oldest first; each line prefixed `stdout: ` or `stderr: `.
    pub lines: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
pub struct TaskSetAssignments {
    pub task_sets: Vec<TaskSetAssignment>,
    /// When to report next, in milliseconds.
    pub interval_ms: u64,
}

/// A task set this host is to run.
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
pub struct TaskSetAssignment {
    /// Unique across the fleet (`<cluster>-<16 hex>`): several agents may share one engine.
    pub task_set_id: String,
    /// The task definition as JSON (`cutover_containers::TaskDefinition`).
    pub task_definition: String,
    /// Tasks on this host.
    pub count: u32,
    /// The load balancer's target (`LoadBalancerInfo`): whose published port is the upstream.
    pub container_name: String,
    pub container_port: u16,
    /// How long a newly started set may take to become healthy before `error` reports it.
    pub health_timeout_ms: u64,
    /// Include the last `tail_lines` lines of every container in the next report.
    #[serde(default)]
    pub send_logs: bool,
    #[serde(default)]
    pub tail_lines: u32,
}

/// `POST /v1/container-services`: a container service's task sets on every host as their agents last reported
/// them (`cutover containers status`), and with `logs` the last lines of every container (`cutover containers logs`).
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
pub struct ContainerServiceRequest {
    pub cluster: String,
    pub service: String,
    /// Ask every host for its containers' last lines and wait (up to `wait_ms`, default 10 s) for them.
    #[serde(default)]
    pub logs: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_ms: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
pub struct ContainerService {
    pub cluster: String,
    pub service: String,
    /// Primary task sets first, then a running deployment's replacement; by host.
    pub task_sets: Vec<ContainerTaskSet>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
pub struct ContainerTaskSet {
    pub instance_name: String,
    pub task_set_id: String,
    /// `primary` or `replacement`.
    pub role: String,
    pub deployment_id: String,
    pub family: String,
    pub desired: u32,
    pub running: u32,
    pub healthy: bool,
    pub upstreams: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub replaced: u32,
    /// What the agent reported happening (replaced tasks with their reason and last output), newest last.
    #[serde(default)]
    pub messages: String,
    /// Epoch ms of the host's last report, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reported_at: Option<i64>,
    /// With `logs`: the containers' last lines (None when the host did not send them in time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logs: Option<Vec<TaskSetContainerLogs>>,
}
