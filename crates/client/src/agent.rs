//! Client of the host agent protocol (`/agent/v1/...`), used by `cutover-agent`.
//!
//! Every call maps failures onto [`AgentClientError`], which separates what is worth retrying (the server could not be
//! reached, or answered 5xx/408/429) from a definite rejection (any other non-2xx, with the server's [`AgentError`]
//! body). Use [`AgentClientError::is_retryable`] to decide.
//!
//! The long poll is a normal `POST` whose request timeout the caller chooses: pass the poll's `wait_ms` plus
//! [`POLL_MARGIN`], so that a server that holds the request for the whole wait is not mistaken for a dead one.
//!
//! [`AgentClient::heartbeat`] keeps the agent's lease alive while it runs a command (idle agents are kept alive by
//! their polls); it has a shorter timeout than the other calls, see [`HEARTBEAT_TIMEOUT`].
//!
//! [`AgentClient::download`] streams a bundle to disk and hands every chunk to a caller-supplied observer, so the
//! caller hashes the bundle while it downloads (this crate does not depend on a hash implementation).

use std::path::Path;
use std::time::Duration;

use cutover_api_types::agent::{
    AgentError, CompleteRequest, CompleteResponse, HeartbeatRequest, HeartbeatResponse, LogChunkRequest,
    LogChunkResponse, PREFIX, PollRequest, PollResponse, RegisterRequest, RegisterResponse, SIGNING_REGION,
    SIGNING_SERVICE, TaskSetAssignments, TaskSetReport,
};
use cutover_auth::Credentials;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::io::AsyncWriteExt;

/// Extra time, on top of the long-poll wait, before a poll request is abandoned.
pub const POLL_MARGIN: Duration = Duration::from_secs(10);

/// Timeout of the short JSON calls (register, complete).
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// Timeout of a heartbeat. Shorter than [`CALL_TIMEOUT`]: a heartbeat stuck for long would let the server's agent
/// lease (45 s by default) run out while the agent waits, instead of trying again with a fresh request.
pub const HEARTBEAT_TIMEOUT: Duration = Duration::from_secs(10);

/// Timeout of sending a piece of a running event's log: short, so that a slow server delays the event's report
/// (which waits for a last piece) by little; what does not get through arrives with the report.
pub const LOG_CHUNK_TIMEOUT: Duration = Duration::from_secs(5);

/// Timeout of establishing a TCP connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Longest time a bundle download may go without receiving a byte.
const DOWNLOAD_STALL_TIMEOUT: Duration = Duration::from_secs(60);

/// Largest error body kept in an error message.
const MAX_ERROR_BODY: usize = 4096;

/// Why a call to the agent protocol failed.
#[derive(Debug, thiserror::Error)]
pub enum AgentClientError {
    /// The server URL (or a bundle URL) cannot be used.
    #[error("invalid URL {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },
    /// The request did not get an HTTP answer: connection refused or reset, timeout, DNS failure. Retryable.
    #[error("cannot reach {url}: {source}")]
    Transport {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    /// The server answered with a non-2xx status. Retryable only for 5xx, 408 and 429.
    #[error("{url} answered HTTP {status}: {} ({})", error.message, error.code)]
    Rejected { url: String, status: u16, error: AgentError },
    /// The server answered 2xx with a body that is not the expected JSON. Retryable (it may be a cut-off body).
    #[error("unexpected answer from {url}: {reason}")]
    Decode { url: String, reason: String },
    /// A bundle download could not be written to disk. Not retryable.
    #[error("cannot write {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl AgentClientError {
    /// Returns true when the same request may succeed if sent again later.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Transport { .. } | Self::Decode { .. } => true,
            Self::Rejected { status, .. } => *status >= 500 || *status == 408 || *status == 429,
            Self::InvalidUrl { .. } | Self::Io { .. } => false,
        }
    }

    /// The HTTP status of a rejection, if the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Rejected { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// Client of one Cutover server's agent protocol.
#[derive(Debug, Clone)]
pub struct AgentClient {
    http: reqwest::Client,
    /// The server URL without a trailing slash, e.g. `http://127.0.0.1:8080`.
    base_url: String,
    /// The instance's own key: every request to the server is signed with it (SigV4), except an enrolment.
    credentials: Option<Credentials>,
}

impl AgentClient {
    /// Creates a client for the server at `base_url` (`http://host:port`, optionally with a path prefix).
    pub fn new(base_url: impl Into<String>) -> Result<Self, AgentClientError> {
        let base_url = base_url.into();
        let trimmed = base_url.trim_end_matches('/').to_owned();
        if reqwest::Url::parse(&trimmed).is_err()
            || !(trimmed.starts_with("http://") || trimmed.starts_with("https://"))
        {
            return Err(AgentClientError::InvalidUrl { url: base_url, reason: "expected http://host[:port]".into() });
        }
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .user_agent(concat!("cutover-agent/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|source| AgentClientError::Transport { url: trimmed.clone(), source })?;
        Ok(Self { http, base_url: trimmed, credentials: None })
    }

    /// The same client, also trusting the CA certificates in `pem` (the server's `DATA_DIR/tls/ca.pem`).
    pub fn with_ca_pem(mut self, pem: &[u8]) -> Result<Self, AgentClientError> {
        let invalid = |reason: String| AgentClientError::InvalidUrl { url: self.base_url.clone(), reason };
        let certs = reqwest::Certificate::from_pem_bundle(pem)
            .map_err(|error| invalid(format!("the CA file is not PEM certificates: {error}")))?;
        self.http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .user_agent(concat!("cutover-agent/", env!("CARGO_PKG_VERSION")))
            .tls_certs_merge(certs)
            .build()
            .map_err(|source| AgentClientError::Transport { url: self.base_url.clone(), source })?;
        Ok(self)
    }

    /// The same client, signing its requests with the instance's key.
    pub fn with_credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// `POST /agent/v1/register` without a signature: an enrolment, carrying a join token and the proposed key.
    pub async fn enroll(&self, request: &RegisterRequest) -> Result<RegisterResponse, AgentClientError> {
        self.post_json_with("register", request, CALL_TIMEOUT, false).await
    }

    /// Signature headers for a request to this server (none without credentials).
    fn signature(&self, method: &str, url: &str, payload_sha256: &str, content_type: bool) -> Vec<(String, String)> {
        let (Some(credentials), Ok(parsed)) = (&self.credentials, reqwest::Url::parse(url)) else {
            return Vec::new();
        };
        let mut extra = Vec::new();
        if content_type {
            extra.push(("content-type".to_owned(), "application/json".to_owned()));
        }
        let mut headers = extra.clone();
        headers.extend(crate::sign::headers(
            method,
            &parsed,
            &extra,
            payload_sha256,
            credentials,
            SIGNING_REGION,
            SIGNING_SERVICE,
        ));
        headers
    }

    /// The server URL this client talks to, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// `POST /agent/v1/register`. Idempotent.
    pub async fn register(&self, request: &RegisterRequest) -> Result<RegisterResponse, AgentClientError> {
        self.post_json("register", request, CALL_TIMEOUT).await
    }

    /// `POST /agent/v1/poll`: waits up to `request.wait_ms` for the next command. `timeout` is the HTTP request
    /// timeout; pass the wait plus [`POLL_MARGIN`]. Name the commands still running in
    /// `request.running_command_ids`: the server hands out none of them, nor another event of their deployments.
    pub async fn poll(&self, request: &PollRequest, timeout: Duration) -> Result<PollResponse, AgentClientError> {
        self.post_json("poll", request, timeout).await
    }

    /// `POST /agent/v1/complete`: reports the result of a command. Idempotent.
    pub async fn complete(&self, request: &CompleteRequest) -> Result<CompleteResponse, AgentClientError> {
        self.post_json("complete", request, CALL_TIMEOUT).await
    }

    /// `POST /agent/v1/heartbeat`: tells the server this agent is alive and still running `command_id`. The answer
    /// says whether the server still expects that command's result. Times out after [`HEARTBEAT_TIMEOUT`].
    pub async fn heartbeat(&self, request: &HeartbeatRequest) -> Result<HeartbeatResponse, AgentClientError> {
        self.post_json("heartbeat", request, HEARTBEAT_TIMEOUT).await
    }

    /// `POST /agent/v1/logs`: streams a piece of a running command's log. Times out after [`LOG_CHUNK_TIMEOUT`].
    pub async fn log_chunk(&self, request: &LogChunkRequest) -> Result<LogChunkResponse, AgentClientError> {
        self.post_json("logs", request, LOG_CHUNK_TIMEOUT).await
    }

    /// `POST /agent/v1/task-sets`: reports the task sets this host runs on its Docker engine; the answer is the task
    /// sets it should run and when to report next.
    pub async fn task_sets(&self, request: &TaskSetReport) -> Result<TaskSetAssignments, AgentClientError> {
        self.post_json("task-sets", request, CALL_TIMEOUT).await
    }

    /// Downloads `url_or_path` (an absolute URL, or a path starting with `/` on this server) into `dest`, calling
    /// `on_chunk` with every chunk, in order, before it is written (feed it to a hasher). `dest` is created or
    /// truncated, and synced to disk before this returns. Returns the number of bytes written.
    pub async fn download(
        &self,
        url_or_path: &str,
        dest: &Path,
        mut on_chunk: impl FnMut(&[u8]) + Send,
    ) -> Result<u64, AgentClientError> {
        let url = self.resolve(url_or_path)?;
        let mut request = self.http.get(&url);
        // Only this server's own paths are signed: a URL elsewhere must not learn the instance's key id.
        if url_or_path.starts_with('/') {
            for (name, value) in self.signature("GET", &url, &cutover_auth::sigv4::payload_hash(b""), false) {
                request = request.header(name, value);
            }
        }
        let mut response =
            request.send().await.map_err(|source| AgentClientError::Transport { url: url.clone(), source })?;
        if !response.status().is_success() {
            return Err(rejection(&url, response).await);
        }
        let io_error = |source| AgentClientError::Io { path: dest.display().to_string(), source };
        let file = tokio::fs::File::create(dest).await.map_err(io_error)?;
        let mut writer = tokio::io::BufWriter::with_capacity(256 * 1024, file);
        let mut bytes = 0u64;
        loop {
            let chunk = match tokio::time::timeout(DOWNLOAD_STALL_TIMEOUT, response.chunk()).await {
                Ok(Ok(Some(chunk))) => chunk,
                Ok(Ok(None)) => break,
                Ok(Err(source)) => return Err(AgentClientError::Transport { url, source }),
                Err(_) => {
                    return Err(AgentClientError::Decode {
                        url,
                        reason: format!("no data received for {} s", DOWNLOAD_STALL_TIMEOUT.as_secs()),
                    });
                }
            };
            on_chunk(&chunk);
            bytes += chunk.len() as u64;
            writer.write_all(&chunk).await.map_err(io_error)?;
        }
        writer.flush().await.map_err(io_error)?;
        writer.into_inner().sync_all().await.map_err(io_error)?;
        Ok(bytes)
    }

    /// Turns a bundle location into an absolute URL: a path starting with `/` is relative to the server URL.
    fn resolve(&self, url_or_path: &str) -> Result<String, AgentClientError> {
        if url_or_path.starts_with('/') {
            Ok(format!("{}{url_or_path}", self.base_url))
        } else if url_or_path.starts_with("http://") || url_or_path.starts_with("https://") {
            Ok(url_or_path.to_owned())
        } else {
            Err(AgentClientError::InvalidUrl {
                url: url_or_path.to_owned(),
                reason: "expected an http(s) URL or a path starting with /".into(),
            })
        }
    }

    async fn post_json<Req: Serialize, Resp: DeserializeOwned>(
        &self,
        operation: &str,
        request: &Req,
        timeout: Duration,
    ) -> Result<Resp, AgentClientError> {
        self.post_json_with(operation, request, timeout, true).await
    }

    async fn post_json_with<Req: Serialize, Resp: DeserializeOwned>(
        &self,
        operation: &str,
        request: &Req,
        timeout: Duration,
        signed: bool,
    ) -> Result<Resp, AgentClientError> {
        let url = format!("{}{PREFIX}/{operation}", self.base_url);
        let body = serde_json::to_vec(request)
            .map_err(|error| AgentClientError::Decode { url: url.clone(), reason: error.to_string() })?;
        let mut builder = self.http.post(&url).timeout(timeout);
        if signed && self.credentials.is_some() {
            for (name, value) in self.signature("POST", &url, &cutover_auth::sigv4::payload_hash(&body), true) {
                builder = builder.header(name, value);
            }
        } else {
            builder = builder.header("content-type", "application/json");
        }
        let response = builder
            .body(body)
            .send()
            .await
            .map_err(|source| AgentClientError::Transport { url: url.clone(), source })?;
        if !response.status().is_success() {
            return Err(rejection(&url, response).await);
        }
        let body = response.bytes().await.map_err(|source| AgentClientError::Transport { url: url.clone(), source })?;
        serde_json::from_slice(&body).map_err(|error| AgentClientError::Decode { url, reason: error.to_string() })
    }
}

/// Builds the error for a non-2xx answer, keeping the server's `AgentError` body when it sent one.
async fn rejection(url: &str, response: reqwest::Response) -> AgentClientError {
    let status = response.status().as_u16();
    let body = response.bytes().await.unwrap_or_default();
    let error = serde_json::from_slice::<AgentError>(&body).unwrap_or_else(|_| {
        let mut text = String::from_utf8_lossy(&body).into_owned();
        if text.len() > MAX_ERROR_BODY {
            let mut end = MAX_ERROR_BODY;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            text.truncate(end);
        }
        AgentError { code: format!("HTTP{status}"), message: text.trim().to_owned() }
    });
    AgentClientError::Rejected { url: url.to_owned(), status, error }
}
