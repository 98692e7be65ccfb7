//! The host agent protocol: register, long-poll for the next lifecycle event, report its result, download bundles.
//!
//! One host command is one lifecycle event. Handing out an event (Pending → InProgress) and recording its result
//! are the only writers of `lifecycle_events.status` besides skips; after each result the orchestrator advances the
//! deployment in the same request, so the agent's next poll finds its next event at once.

use std::time::Duration;

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use cutover_api_types::agent::{
    AgentError, BundleSpec, CompleteRequest, CompleteResponse, DeploymentLogs, DeploymentSpec, EventLog,
    HeartbeatRequest, HeartbeatResponse, HostCommand, InstanceLogs, LogChunk, LogChunkRequest, LogChunkResponse,
    PollRequest, PollResponse, RegisterRequest, RegisterResponse, TaskSetAssignment, TaskSetAssignments, TaskSetReport,
};
use cutover_domain::lifecycle::LifecycleEvent;
use cutover_store::{ClaimedEvent, EventDiagnostics, InstanceRow, RecordOutcome, StoreError};

use crate::auth::{self, AgentIdentity};
use crate::convert::{self, DeploymentOptions};
use crate::{AppState, monitoring, orchestrator};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/register", post(register))
        .route("/poll", post(poll))
        .route("/complete", post(complete))
        .route("/heartbeat", post(heartbeat))
        .route("/logs", post(log_chunk))
        .route("/task-sets", post(task_sets))
        .route("/bundles/{sha256}", get(bundle))
}

/// Errors of the agent protocol, answered as `AgentError` JSON.
#[derive(Debug)]
pub(crate) struct AgentApiError(pub(crate) StatusCode, pub(crate) &'static str, pub(crate) String);

impl From<StoreError> for AgentApiError {
    fn from(error: StoreError) -> Self {
        tracing::error!(message = "Store error in agent protocol.", %error);
        AgentApiError(StatusCode::INTERNAL_SERVER_ERROR, "Internal", "internal error".to_owned())
    }
}

impl IntoResponse for AgentApiError {
    fn into_response(self) -> Response {
        (self.0, Json(AgentError { code: self.1.to_owned(), message: self.2 })).into_response()
    }
}

type AgentResult<T> = Result<Json<T>, AgentApiError>;

/// Refuses a request that names another instance than the one whose key signed it.
fn check_identity(identity: &AgentIdentity, instance_name: &str) -> Result<(), AgentApiError> {
    if identity.instance_name == instance_name {
        Ok(())
    } else {
        Err(AgentApiError(
            StatusCode::FORBIDDEN,
            "WrongInstance",
            format!("this credential speaks for instance {}, not {instance_name}", identity.instance_name),
        ))
    }
}

/// The (deployment, instance, position) of a command the signing agent may report on: its own instance's.
fn own_command<'a>(
    identity: &AgentIdentity,
    instance_name: &str,
    command_id: &'a str,
) -> Result<(&'a str, &'a str, i64), AgentApiError> {
    check_identity(identity, instance_name)?;
    let Some((deployment_id, command_instance, position)) = parse_command_id(command_id) else {
        return Err(AgentApiError(
            StatusCode::BAD_REQUEST,
            "InvalidCommandId",
            format!("bad command id {command_id:?}"),
        ));
    };
    if command_instance != instance_name {
        return Err(AgentApiError(
            StatusCode::FORBIDDEN,
            "WrongInstance",
            format!("command {command_id} belongs to another instance"),
        ));
    }
    Ok((deployment_id, command_instance, position))
}

#[tracing::instrument(name = "register", skip_all, fields(instance = %req.instance_name))]
async fn register(
    State(state): State<AppState>,
    identity: Option<Extension<AgentIdentity>>,
    Json(req): Json<RegisterRequest>,
) -> AgentResult<RegisterResponse> {
    if let Some(Extension(identity)) = &identity {
        check_identity(identity, &req.instance_name)?;
    }
    if !cutover_domain::ids::is_valid_name(&req.instance_name) {
        return Err(AgentApiError(
            StatusCode::BAD_REQUEST,
            "InvalidInstanceName",
            format!("invalid instance name {:?}: use 1-100 characters of [A-Za-z0-9+=,.@_-]", req.instance_name),
        ));
    }
    let now = state.inner.clock.now_ms();
    let mut tx = state.store().begin().await?;
    if identity.is_none() {
        enroll(&state, &mut tx, &req, now).await?;
    }
    let tags: Vec<(String, String)> = req.tags.iter().map(|tag| (tag.key.clone(), tag.value.clone())).collect();
    let row = match tx.instance(&req.instance_name).await? {
        Some(mut row) => {
            if row.deregister_time.is_some() {
                return Err(AgentApiError(
                    StatusCode::CONFLICT,
                    "InstanceDeregistered",
                    format!(
                        "instance {} was deregistered; register it again (RegisterOnPremisesInstance) to deploy to it",
                        req.instance_name
                    ),
                ));
            }
            let mut existing = convert::tags_from_json(&row.tags);
            for (key, value) in tags {
                match existing.iter_mut().find(|(k, _)| *k == key) {
                    Some(entry) => entry.1 = value,
                    None => existing.push((key, value)),
                }
            }
            row.tags = convert::tags_to_json(&existing);
            row.agent_version = Some(req.agent_version.clone());
            row.hostname = Some(req.hostname.clone());
            row.last_seen = Some(now);
            tx.update_instance(&row).await?;
            row
        }
        None => {
            let row = InstanceRow {
                name: req.instance_name.clone(),
                arn: convert::instance_arn(&req.instance_name),
                iam_user_arn: None,
                iam_session_arn: Some(format!(
                    "arn:cutover:sts::agent:assumed-role/cutover-agent/{}",
                    req.instance_name
                )),
                register_time: now,
                deregister_time: None,
                tags: convert::tags_to_json(&tags),
                agent_version: Some(req.agent_version.clone()),
                hostname: Some(req.hostname.clone()),
                last_seen: Some(now),
            };
            tx.insert_instance(&row).await?;
            row
        }
    };
    tx.commit().await?;
    // A host that joins a group with a successful revision receives it right away.
    if let Err(error) = crate::autoupdate::catch_up_new_instances(&state).await {
        tracing::error!(message = "Catching up a new instance failed.", instance = %row.name, %error);
    }
    Ok(Json(RegisterResponse { instance_name: row.name, instance_arn: row.arn }))
}

/// An unsigned registration: redeems the join token and records the key the agent proposed as its credential. A
/// retry with the same key is accepted (the first answer may have been lost); another key for an instance that
/// already has one is refused, so a token cannot be used to take over an enrolled host's identity.
async fn enroll(
    state: &AppState,
    tx: &mut cutover_store::Tx,
    req: &RegisterRequest,
    now: i64,
) -> Result<(), AgentApiError> {
    let refuse = |status, code, message: String| Err(AgentApiError(status, code, message));
    let (Some(token), Some(key_id), Some(secret)) =
        (req.enrollment_token.as_deref(), req.access_key_id.as_deref(), req.secret_access_key.as_deref())
    else {
        return refuse(
            StatusCode::UNAUTHORIZED,
            "MissingAuthenticationTokenException",
            "an unsigned registration must carry an enrolment token and the agent's proposed key \
             (start the agent with --enrollment-token-file)"
                .to_owned(),
        );
    };
    if !key_id.starts_with("CUTA") || key_id.len() < 16 || secret.len() < 32 {
        return refuse(StatusCode::BAD_REQUEST, "InvalidKey", "the proposed agent key is malformed".to_owned());
    }
    if let Some(existing) = tx.instance_access_key(&req.instance_name).await? {
        let same = existing.access_key_id == key_id
            && state
                .inner
                .keyring
                .open(&existing.secret_sealed)
                .is_some_and(|known| auth::constant_time_eq(known.as_bytes(), secret.as_bytes()));
        if same {
            return Ok(());
        }
        return refuse(
            StatusCode::CONFLICT,
            "AlreadyEnrolled",
            format!(
                "instance {} is already enrolled with another key; deregister it (or delete its agent key) to enrol it again",
                req.instance_name
            ),
        );
    }
    if tx.access_key(key_id).await?.is_some() {
        return refuse(StatusCode::CONFLICT, "AlreadyEnrolled", "that key id is taken".to_owned());
    }
    if let Some(row) = tx.instance(&req.instance_name).await?
        && row.deregister_time.is_some()
    {
        return refuse(
            StatusCode::CONFLICT,
            "InstanceDeregistered",
            format!(
                "instance {} was deregistered; register it again (RegisterOnPremisesInstance) to deploy to it",
                req.instance_name
            ),
        );
    }
    if let Err(error) = auth::redeem_token(tx, token, now).await {
        return match error {
            auth::EnrollError::Store(error) => Err(error.into()),
            other => refuse(StatusCode::UNAUTHORIZED, "InvalidEnrollmentToken", other.to_string()),
        };
    }
    tx.insert_access_key(&cutover_store::AccessKeyRow {
        access_key_id: key_id.to_owned(),
        secret_sealed: state.inner.keyring.seal(secret),
        role: cutover_auth::role::AGENT_ROLE.to_owned(),
        description: format!("agent of {}", req.instance_name),
        instance_name: Some(req.instance_name.clone()),
        create_time: now,
        last_used_time: None,
    })
    .await?;
    tracing::info!(message = "Agent enrolled.", instance = %req.instance_name, access_key_id = %key_id);
    Ok(())
}

async fn poll(
    State(state): State<AppState>,
    Extension(identity): Extension<AgentIdentity>,
    Json(req): Json<PollRequest>,
) -> AgentResult<PollResponse> {
    check_identity(&identity, &req.instance_name)?;
    let wait = Duration::from_millis(req.wait_ms.min(state.inner.config.poll_max_wait_ms));
    let deadline = tokio::time::Instant::now() + wait;
    let notify = state.inner.wakeups.get(&req.instance_name);
    let running: Vec<(String, i64)> = req
        .running_command_ids
        .iter()
        .filter_map(|id| parse_command_id(id).map(|(deployment_id, _, position)| (deployment_id.to_owned(), position)))
        .collect();
    let mut touched = false;
    let _held = monitoring::PollGuard::new();
    loop {
        // Register interest before looking, so a wake-up between the look and the wait is kept.
        let notified = notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let now = state.inner.clock.now_ms();
        let mut tx = state.store().begin().await?;
        if !touched {
            tx.touch_instance(&req.instance_name, now).await?;
            touched = true;
        }
        let claimed = tx.claim_next_event(&req.instance_name, now, &running).await?;
        tx.commit().await?;
        if let Some(claimed) = claimed {
            let command = host_command(&req.instance_name, claimed)?;
            return Ok(Json(PollResponse { command: Some(command) }));
        }
        tokio::select! {
            () = &mut notified => {}
            () = tokio::time::sleep_until(deadline) => return Ok(Json(PollResponse { command: None })),
        }
    }
}

fn host_command(instance_name: &str, claimed: ClaimedEvent) -> Result<HostCommand, AgentApiError> {
    let deployment = &claimed.deployment;
    let bundle: BundleSpec = serde_json::from_str(&deployment.bundle).map_err(|error| {
        tracing::error!(message = "Unreadable bundle spec.", deployment_id = %deployment.id, %error);
        AgentApiError(StatusCode::INTERNAL_SERVER_ERROR, "Internal", "internal error".to_owned())
    })?;
    let options = DeploymentOptions::from_json(&deployment.options);
    Ok(HostCommand {
        command_id: command_id(&deployment.id, instance_name, claimed.event.position),
        lifecycle_event: claimed.event.name.clone(),
        deployment: DeploymentSpec {
            deployment_id: deployment.id.clone(),
            application_name: deployment.application_name.clone(),
            deployment_group_name: deployment.deployment_group_name.clone(),
            deployment_group_id: deployment.deployment_group_id.clone(),
            creator: deployment.creator.clone(),
            revision: bundle,
            file_exists_behavior: options.file_exists_behavior.clone(),
            // The in-place event list (the agent only uses it for display and ordering).
            lifecycle_events: LifecycleEvent::IN_PLACE.iter().map(|event| event.as_str().to_owned()).collect(),
            deployment_type: options.blue_green.is_some().then(|| "BLUE_GREEN".to_owned()),
        },
    })
}

pub(crate) fn command_id(deployment_id: &str, instance_name: &str, position: i64) -> String {
    format!("{deployment_id}/{instance_name}/{position}")
}

fn parse_command_id(command_id: &str) -> Option<(&str, &str, i64)> {
    let (deployment_id, rest) = command_id.split_once('/')?;
    let (instance_name, position) = rest.rsplit_once('/')?;
    Some((deployment_id, instance_name, position.parse().ok()?))
}

/// Longest full log kept per event; the agent caps it too.
const MAX_EVENT_LOG: usize = 1024 * 1024;

#[tracing::instrument(name = "complete", skip_all, fields(
    deployment_id = %req.command_id.split('/').next().unwrap_or_default(),
    instance = %req.instance_name,
    command_id = %req.command_id,
))]
async fn complete(
    State(state): State<AppState>,
    Extension(identity): Extension<AgentIdentity>,
    Json(req): Json<CompleteRequest>,
) -> AgentResult<CompleteResponse> {
    let (deployment_id, instance_name, position) = own_command(&identity, &req.instance_name, &req.command_id)?;
    let status = match req.status.as_str() {
        "Succeeded" | "Failed" => req.status.as_str(),
        other => {
            return Err(AgentApiError(
                StatusCode::BAD_REQUEST,
                "InvalidStatus",
                format!("status must be Succeeded or Failed, got {other:?}"),
            ));
        }
    };
    let diagnostics = EventDiagnostics {
        error_code: req.diagnostics.error_code.clone(),
        script_name: req.diagnostics.script_name.clone(),
        message: req.diagnostics.message.clone(),
        log_tail: req.diagnostics.log_tail.clone(),
    };
    let now = state.inner.clock.now_ms();
    let mut tx = state.store().begin().await?;
    let Some(deployment) = tx.deployment(deployment_id).await? else {
        return Ok(Json(CompleteResponse { accepted: false }));
    };
    let events = tx.target_events(deployment_id, instance_name).await?;
    let Some(event) = events.iter().find(|event| event.position == position) else {
        return Ok(Json(CompleteResponse { accepted: false }));
    };
    let outcome = tx
        .record_event_result(
            deployment_id,
            instance_name,
            position,
            status,
            &diagnostics,
            Some(req.start_time_ms),
            req.end_time_ms.max(now.min(req.end_time_ms)),
        )
        .await?;
    match outcome {
        RecordOutcome::Recorded => {
            let seconds = (req.end_time_ms - req.start_time_ms).max(0) as f64 / 1000.0;
            metrics::histogram!(monitoring::EVENT_DURATION, "event" => event.name.clone(), "status" => status.to_owned())
                .record(seconds);
            let options = DeploymentOptions::from_json(&deployment.options);
            let ignorable = event.name.parse::<LifecycleEvent>().is_ok_and(|event| {
                options.ignore_application_stop_failures
                    && matches!(
                        event,
                        LifecycleEvent::ApplicationStop
                            | LifecycleEvent::BeforeBlockTraffic
                            | LifecycleEvent::AfterBlockTraffic
                    )
            });
            if status == "Failed" && !ignorable {
                tx.skip_pending_events(deployment_id, instance_name).await?;
            }
            let mut log = req.log;
            let whole = log.len() <= MAX_EVENT_LOG;
            if log.len() > MAX_EVENT_LOG {
                let mut cut = log.len() - MAX_EVENT_LOG;
                while !log.is_char_boundary(cut) {
                    cut += 1;
                }
                log = log[cut..].to_owned();
            }
            tx.put_event_log(deployment_id, instance_name, position, &log).await?;
            // The streamed pieces are an exact prefix of the log (the agent streams only the head it keeps whole):
            // what was not streamed is appended, so the stream holds every event's whole log.
            let end = tx.log_chunks_end(deployment_id, instance_name, position).await?;
            let streamed = usize::try_from(end).unwrap_or(usize::MAX);
            let appended = whole && streamed < log.len() && log.is_char_boundary(streamed);
            if appended {
                tx.append_log_chunk(deployment_id, instance_name, position, end, &log[streamed..], now).await?;
            }
            tx.commit().await?;
            if appended {
                metrics::counter!(monitoring::LOG_CHUNKS).increment(1);
                state.inner.log_feed.bump();
            }
            orchestrator::advance_logged(&state, deployment_id, Some(instance_name)).await;
            Ok(Json(CompleteResponse { accepted: true }))
        }
        RecordOutcome::Duplicate => Ok(Json(CompleteResponse { accepted: true })),
        RecordOutcome::NotInProgress => Ok(Json(CompleteResponse { accepted: false })),
    }
}

async fn bundle(
    State(state): State<AppState>,
    Extension(identity): Extension<AgentIdentity>,
    Path(sha256): Path<String>,
) -> Response {
    if !crate::blobs::is_digest(&sha256) {
        return AgentApiError(StatusCode::BAD_REQUEST, "InvalidDigest", "not a sha256 digest".to_owned())
            .into_response();
    }
    // Only the bundles of this instance's own deployments: a bundle may hold another team's secrets.
    let allowed = async {
        let mut tx = state.store().begin().await?;
        tx.instance_may_fetch_bundle(&identity.instance_name, &sha256.to_ascii_lowercase()).await
    }
    .await;
    match allowed {
        Ok(true) => {}
        Ok(false) => {
            return AgentApiError(
                StatusCode::FORBIDDEN,
                "AccessDenied",
                format!("instance {} has no deployment of bundle {sha256}", identity.instance_name),
            )
            .into_response();
        }
        Err(error) => return AgentApiError::from(error).into_response(),
    }
    match state.inner.blobs.response_body(&sha256).await {
        Ok(body) => ([("content-type", "application/octet-stream")], body).into_response(),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            AgentApiError(StatusCode::NOT_FOUND, "NoSuchBundle", format!("no bundle with sha256 {sha256}"))
                .into_response()
        }
        // E.g. the S3 store is unreachable: a 5xx, which agents retry.
        Err(error) => {
            tracing::error!(message = "Cannot read a bundle from the blob store.", sha256, %error);
            AgentApiError(
                StatusCode::SERVICE_UNAVAILABLE,
                "BlobStoreUnavailable",
                format!("cannot read bundle {sha256}"),
            )
            .into_response()
        }
    }
}

async fn heartbeat(
    State(state): State<AppState>,
    Extension(identity): Extension<AgentIdentity>,
    Json(req): Json<HeartbeatRequest>,
) -> AgentResult<HeartbeatResponse> {
    check_identity(&identity, &req.instance_name)?;
    let now = state.inner.clock.now_ms();
    let mut tx = state.store().begin().await?;
    tx.touch_instance(&req.instance_name, now).await?;
    let mut command_active = false;
    if let Some((deployment_id, instance_name, position)) = req.command_id.as_deref().and_then(parse_command_id)
        && instance_name == req.instance_name
    {
        command_active = tx
            .target_events(deployment_id, instance_name)
            .await?
            .iter()
            .any(|event| event.position == position && event.status == "InProgress");
    }
    tx.commit().await?;
    Ok(Json(HeartbeatResponse { command_active }))
}

/// `GET /v1/deployments/{id}/instances/{instance}/logs`: the full logs agents uploaded, per lifecycle event.
pub(crate) async fn instance_logs(
    State(state): State<AppState>,
    Path((deployment_id, instance_name)): Path<(String, String)>,
) -> AgentResult<InstanceLogs> {
    let mut tx = state.store().begin().await?;
    let events = tx.target_events(&deployment_id, &instance_name).await?;
    if events.is_empty() {
        return Err(AgentApiError(
            StatusCode::NOT_FOUND,
            "DeploymentTargetDoesNotExist",
            format!("instance {instance_name} is not a target of deployment {deployment_id}"),
        ));
    }
    let logs = tx.event_logs(&deployment_id, &instance_name).await?;
    let events = logs
        .into_iter()
        .filter_map(|(position, log)| {
            let event = events.iter().find(|event| event.position == position)?;
            Some(EventLog { lifecycle_event: event.name.clone(), log })
        })
        .collect();
    Ok(Json(InstanceLogs { deployment_id, instance_name, events }))
}

/// Largest piece of log accepted in one request; the agent sends at most 64 KiB.
const MAX_LOG_CHUNK: usize = 256 * 1024;

/// `POST /agent/v1/logs`: appends a piece of a running event's log where the server's copy ends.
#[tracing::instrument(name = "log_chunk", skip_all, fields(
    deployment_id = %req.command_id.split('/').next().unwrap_or_default(),
    instance = %req.instance_name,
))]
async fn log_chunk(
    State(state): State<AppState>,
    Extension(identity): Extension<AgentIdentity>,
    Json(req): Json<LogChunkRequest>,
) -> AgentResult<LogChunkResponse> {
    let (deployment_id, instance_name, position) = own_command(&identity, &req.instance_name, &req.command_id)?;
    if req.text.len() > MAX_LOG_CHUNK {
        return Err(AgentApiError(
            StatusCode::PAYLOAD_TOO_LARGE,
            "LogChunkTooLarge",
            format!("a log chunk may have at most {MAX_LOG_CHUNK} bytes"),
        ));
    }
    let now = state.inner.clock.now_ms();
    let mut tx = state.store().begin().await?;
    let running = tx
        .target_events(deployment_id, instance_name)
        .await?
        .iter()
        .any(|event| event.position == position && event.status == "InProgress");
    if !running {
        return Ok(Json(LogChunkResponse { accepted: false, next_offset: 0 }));
    }
    let end = tx.log_chunks_end(deployment_id, instance_name, position).await?;
    let offset = i64::try_from(req.offset).unwrap_or(i64::MAX);
    // A retried piece overlaps what is stored: only its new part is kept. A gap (a lost piece) is never filled
    // from here: the agent stops streaming that event, and its result carries the rest.
    let skip = usize::try_from(end.saturating_sub(offset)).unwrap_or(usize::MAX);
    let fresh = offset <= end && skip < req.text.len() && req.text.is_char_boundary(skip);
    if fresh {
        tx.append_log_chunk(deployment_id, instance_name, position, end, &req.text[skip..], now).await?;
        // The console's live view reads the event's log itself: it grows with the same pieces while the event runs
        // (the result's full log replaces it).
        tx.append_event_log(deployment_id, instance_name, position, end as u64, &req.text[skip..], MAX_EVENT_LOG)
            .await?;
    }
    let next_offset = if fresh { end + (req.text.len() - skip) as i64 } else { end };
    tx.commit().await?;
    if fresh {
        metrics::counter!(monitoring::LOG_CHUNKS).increment(1);
        state.inner.log_feed.bump();
    }
    Ok(Json(LogChunkResponse { accepted: true, next_offset: next_offset.max(0) as u64 }))
}

/// Query of `GET /v1/deployments/{id}/logs`.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct LogsQuery {
    #[serde(default)]
    after: u64,
    instance: Option<String>,
    #[serde(default)]
    wait_ms: u64,
}

/// Longest time a logs request is held, and the most pieces it returns.
const LOGS_MAX_WAIT_MS: u64 = 25_000;
const LOGS_PAGE: i64 = 500;
/// Followers look at the store at least this often, for a deployment that ends without new output.
const LOGS_RECHECK: Duration = Duration::from_secs(1);

/// `GET /v1/deployments/{id}/logs?after=N[&instance=NAME][&wait_ms=MS]`: a deployment's hook output from every host
/// (or one), in arrival order after cursor `after`; with `wait_ms`, held until there is some or the deployment ended.
pub(crate) async fn deployment_logs(
    State(state): State<AppState>,
    Path(deployment_id): Path<String>,
    Query(query): Query<LogsQuery>,
) -> AgentResult<DeploymentLogs> {
    let deadline = tokio::time::Instant::now() + Duration::from_millis(query.wait_ms.min(LOGS_MAX_WAIT_MS));
    let after = i64::try_from(query.after).unwrap_or(i64::MAX);
    let instance = query.instance.as_deref().filter(|name| !name.is_empty());
    let mut appended = state.inner.log_feed.subscribe();
    loop {
        appended.borrow_and_update();
        let mut tx = state.store().begin().await?;
        let Some(deployment) = tx.deployment(&deployment_id).await? else {
            return Err(AgentApiError(
                StatusCode::NOT_FOUND,
                "DeploymentDoesNotExistException",
                format!("The deployment {deployment_id} does not exist."),
            ));
        };
        let chunks = tx.log_chunks_after(&deployment_id, instance, after, LOGS_PAGE).await?;
        tx.commit().await?;
        let ended = matches!(deployment.status.as_str(), "Succeeded" | "Failed" | "Stopped");
        let now = tokio::time::Instant::now();
        if !chunks.is_empty() || ended || now >= deadline {
            let next = chunks.last().map_or(query.after, |chunk| chunk.seq.max(0) as u64);
            // Complete only when this answer holds everything: a full page may have more behind it.
            let complete = ended && (chunks.len() as i64) < LOGS_PAGE;
            let chunks = chunks
                .into_iter()
                .map(|chunk| LogChunk {
                    seq: chunk.seq.max(0) as u64,
                    instance_name: chunk.instance_name,
                    lifecycle_event: chunk.lifecycle_event,
                    text: chunk.text,
                })
                .collect();
            return Ok(Json(DeploymentLogs { deployment_id, chunks, next, complete }));
        }
        let wait_until = deadline.min(now + LOGS_RECHECK);
        tokio::select! {
            _ = appended.changed() => {}
            () = tokio::time::sleep_until(wait_until) => {}
        }
    }
}

/// How often a host outside every ECS cluster reports (it is told of task sets only once it is in one).
const IDLE_TASK_SET_INTERVAL_MS: u64 = 60_000;

/// The task sets this host is to run (container services), after recording what its agent reports of them. The
/// report is the only writer of the reported columns; the answer is the desired state.
async fn task_sets(
    State(state): State<AppState>,
    Extension(identity): Extension<AgentIdentity>,
    Json(report): Json<TaskSetReport>,
) -> AgentResult<TaskSetAssignments> {
    check_identity(&identity, &report.instance_name)?;
    let now = state.inner.clock.now_ms();
    let mut tx = state.store().begin().await?;
    let before = tx.task_sets_of_instance(&report.instance_name).await?;
    // Primary task sets whose upstreams moved (a task replaced on another port): their service's routes follow.
    let mut moved: Vec<String> = Vec::new();
    for set in &report.task_sets {
        let upstreams = serde_json::to_string(&set.upstreams).unwrap_or_else(|_| "[]".to_owned());
        if let Some(row) = before.iter().find(|row| row.task_set_id == set.task_set_id)
            && row.role == "primary"
            && row.reported_at.is_some()
            && row.upstreams != upstreams
            && !set.upstreams.is_empty()
            && !moved.contains(&row.service)
        {
            moved.push(row.service.clone());
        }
    }
    for set in &report.task_sets {
        let row = cutover_store::TaskSetReportRow {
            task_set_id: set.task_set_id.clone(),
            running: i64::from(set.running),
            healthy: set.healthy,
            upstreams: serde_json::to_string(&set.upstreams).unwrap_or_else(|_| "[]".to_owned()),
            error: set.error.clone(),
            replaced: i64::from(set.replaced),
            messages: set.messages.join("\n"),
            logs: set.logs.as_ref().map(|logs| serde_json::to_string(logs).unwrap_or_default()),
        };
        tx.record_task_set_report(&report.instance_name, &row, now).await?;
    }
    let assigned = tx.task_sets_of_instance(&report.instance_name).await?;
    if let Some(error) = &report.engine_error {
        // Sets the agent could not even look at: the deployment waiting on them fails with the reason.
        for row in assigned.iter().filter(|row| !report.task_sets.iter().any(|set| set.task_set_id == row.task_set_id))
        {
            let failed = cutover_store::TaskSetReportRow {
                task_set_id: row.task_set_id.clone(),
                error: Some(error.clone()),
                upstreams: "[]".to_owned(),
                ..Default::default()
            };
            tx.record_task_set_report(&report.instance_name, &failed, now).await?;
        }
    }
    // A host outside every cluster with nothing to run reports rarely (it cannot be given task sets).
    let in_cluster = assigned.is_empty()
        && tx.instance(&report.instance_name).await?.is_some_and(|row| {
            convert::tags_from_json(&row.tags).iter().any(|(key, _)| key == crate::ecs::CLUSTER_TAG)
        });
    tx.commit().await?;
    for service in moved {
        crate::ecs::spawn_refresh(&state, &service);
    }
    let settings = &state.inner.traffic.containers;
    let interval_ms =
        if assigned.is_empty() && !in_cluster { IDLE_TASK_SET_INTERVAL_MS } else { settings.report_interval_ms };
    let task_sets = assigned
        .into_iter()
        .map(|row| TaskSetAssignment {
            task_set_id: row.task_set_id,
            task_definition: row.definition,
            count: u32::try_from(row.task_count).unwrap_or(0),
            container_name: row.container_name,
            container_port: u16::try_from(row.container_port).unwrap_or(0),
            health_timeout_ms: settings.health_timeout_seconds.saturating_mul(1000),
            send_logs: row.logs_wanted_until.is_some_and(|until| until > now),
            tail_lines: settings.tail_lines,
        })
        .collect();
    Ok(Json(TaskSetAssignments { task_sets, interval_ms }))
}
