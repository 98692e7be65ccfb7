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
    /// Output the command logged since the last acknowledged heartbeat, so its log can be watched live; the full
    /// log still arrives with the result and replaces what was streamed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<LogPiece>,
}

/// A piece of a running command's log: `text` starts at byte `offset` of everything streamed for the command.
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq, Eq)]
pub struct LogPiece {
    pub offset: u64,
    pub text: String,
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
