//! Who is calling: AWS Signature V4 on every API, S3 and agent request, access keys with roles, agent enrolment,
//! and the secrets the server keeps.
//!
//! - API users sign with an access key (`admin`, `deployer` or `viewer`; [`cutover_auth::role`] says which
//!   operations each may call). The first start writes an admin key to `DATA_DIR/admin-credentials` in the AWS
//!   shared-credentials format, so the AWS CLI, boto3 and `cutover` work with no manual step.
//! - Host agents enrol once with a join token (`DATA_DIR/enrollment-token`), proposing a key of their own that
//!   becomes their per-instance credential; from then on they sign every request with it (service `cutover-agent`).
//!   An agent key speaks for one instance only, and deregistering the instance deletes it.
//! - Access-key secrets are needed in the clear to check signatures, so they are stored sealed (ChaCha20-Poly1305)
//!   under a master key kept outside the database (`DATA_DIR/master-key`, or `--master-key-file`): a copy of the
//!   database alone reveals no secret.

use std::net::SocketAddr;
use std::path::Path;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use cutover_auth::sigv4::{self, RequestParts, VerifyError};
use cutover_auth::{Credentials, Role};
use cutover_store::{AccessKeyRow, AuditEventRow, EnrollmentTokenRow};
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::error::ApiError;

/// Largest API request body (CodeDeploy's requests are small; the biggest are batch calls).
const MAX_API_BODY: usize = 8 * 1024 * 1024;
/// Largest agent request body (a lifecycle event's report carries its log, capped at 1 MiB).
const MAX_AGENT_BODY: usize = 4 * 1024 * 1024;
/// Credential-scope service of API requests (what the AWS clients sign for CodeDeploy).
pub(crate) const API_SERVICE: &str = "codedeploy";
/// Credential-scope service of agent requests.
pub(crate) const AGENT_SERVICE: &str = cutover_api_types::agent::SIGNING_SERVICE;
/// Enrolment tokens look like `cutover-enroll-v1.<id>.<secret>`.
const TOKEN_PREFIX: &str = "cutover-enroll-v1";

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub(crate) struct Principal {
    pub(crate) access_key_id: String,
    /// The key's description (a person, a CI job), for the audit log.
    pub(crate) name: String,
    pub(crate) role: Role,
}

impl Principal {
    pub(crate) fn arn(&self) -> String {
        format!("arn:cutover:iam::access-key/{}", self.access_key_id)
    }
}

/// The instance an agent request speaks for.
#[derive(Debug, Clone)]
pub(crate) struct AgentIdentity {
    pub(crate) instance_name: String,
}

/// Where a request came from, for the audit log.
#[derive(Debug, Clone)]
pub(crate) struct Source(pub(crate) String);

// ---------------------------------------------------------------------------------------------------------------
// Secrets at rest

/// Seals and opens access-key secrets with the master key.
pub(crate) struct Keyring {
    cipher: ChaCha20Poly1305,
}

impl Keyring {
    /// Reads the master key, creating it (mode 0600) when the file does not exist.
    pub(crate) fn load_or_create(path: &Path) -> anyhow::Result<Keyring> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                let text = format!("{}\n", STANDARD.encode(random_bytes::<32>()));
                write_private(path, &text)?;
                text
            }
            Err(error) => anyhow::bail!("cannot read the master key {}: {error}", path.display()),
        };
        let key = STANDARD
            .decode(text.trim())
            .ok()
            .filter(|key| key.len() == 32)
            .ok_or_else(|| anyhow::anyhow!("{} is not a master key (32 bytes in base64)", path.display()))?;
        let cipher = ChaCha20Poly1305::new_from_slice(&key).map_err(|_| anyhow::anyhow!("bad master key length"))?;
        Ok(Keyring { cipher })
    }

    pub(crate) fn seal(&self, secret: &str) -> String {
        let nonce = random_bytes::<12>();
        let sealed = self.cipher.encrypt(&Nonce::from(nonce), secret.as_bytes()).expect("encryption");
        let mut out = nonce.to_vec();
        out.extend(sealed);
        STANDARD.encode(out)
    }

    pub(crate) fn open(&self, sealed: &str) -> Option<String> {
        let bytes = STANDARD.decode(sealed).ok()?;
        if bytes.len() < 12 {
            return None;
        }
        let (nonce, data) = bytes.split_at(12);
        let nonce: [u8; 12] = nonce.try_into().ok()?;
        let plain = self.cipher.decrypt(&Nonce::from(nonce), data).ok()?;
        String::from_utf8(plain).ok()
    }
}

pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::getrandom(&mut bytes).expect("the operating system's random number generator");
    bytes
}

/// A new access key id: a prefix and 16 characters of A-Z2-7, like AWS's.
pub(crate) fn new_access_key_id(prefix: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let id: String = random_bytes::<16>().iter().map(|b| ALPHABET[usize::from(b % 32)] as char).collect();
    format!("{prefix}{id}")
}

/// A new secret: 30 random bytes, 40 characters.
pub(crate) fn new_secret() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<30>())
}

/// Writes a file only its owner can read, atomically.
pub(crate) fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|error| anyhow::anyhow!("cannot write {}: {error}", tmp.display()))?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------------------------
// First start

/// Creates the first admin key and writes `DATA_DIR/admin-credentials` when no API key exists yet.
pub(crate) async fn bootstrap_admin(state: &AppState) -> anyhow::Result<()> {
    let mut tx = state.store().begin().await?;
    if tx.count_access_keys().await? > 0 {
        return Ok(());
    }
    let credentials = Credentials { access_key_id: new_access_key_id("CUTO"), secret_access_key: new_secret() };
    tx.insert_access_key(&AccessKeyRow {
        access_key_id: credentials.access_key_id.clone(),
        secret_sealed: state.inner.keyring.seal(&credentials.secret_access_key),
        role: Role::Admin.as_str().to_owned(),
        description: "first admin (written to admin-credentials on first start)".to_owned(),
        instance_name: None,
        create_time: state.inner.clock.now_ms(),
        last_used_time: None,
    })
    .await?;
    // The file first: a key nobody can read would lock everyone out.
    let path = state.inner.config.data_dir.join("admin-credentials");
    write_private(&path, &cutover_auth::credentials_file::render("default", &credentials))?;
    tx.commit().await?;
    tracing::info!(message = "Created the first admin access key.", path = %path.display());
    Ok(())
}

/// Makes sure `DATA_DIR/enrollment-token` holds a token that is valid now, minting a new one if needed.
pub(crate) async fn ensure_enrollment_token_file(state: &AppState) -> anyhow::Result<()> {
    let path = state.inner.config.data_dir.join("enrollment-token");
    let now = state.inner.clock.now_ms();
    let mut tx = state.store().begin().await?;
    tx.delete_expired_enrollment_tokens(now).await?;
    if let Ok(text) = std::fs::read_to_string(&path)
        && let Some((id, secret)) = parse_token(text.trim())
        && let Some(row) = tx.enrollment_token(id).await?
        && row.secret_sha256 == hex::encode(Sha256::digest(secret.as_bytes()))
        && row.uses_left.is_none_or(|left| left > 0)
        // Renewed when less than a day is left, so a host enrolled tomorrow still gets in.
        && row.expire_time > now + 86_400_000.min(state.inner.config.enrollment_token_ttl_secs as i64 * 500)
    {
        tx.commit().await?;
        return Ok(());
    }
    let ttl_ms = state.inner.config.enrollment_token_ttl_secs as i64 * 1000;
    let token = mint_token(&mut tx, now, ttl_ms, None).await?;
    write_private(&path, &format!("{token}\n"))?;
    tx.commit().await?;
    tracing::info!(message = "Wrote a new agent enrolment token.", path = %path.display());
    Ok(())
}

/// Creates an enrolment token valid for `ttl_ms`, for `uses` enrolments (any number when None).
pub(crate) async fn mint_token(
    tx: &mut cutover_store::Tx,
    now: i64,
    ttl_ms: i64,
    uses: Option<i64>,
) -> cutover_store::Result<String> {
    let id = new_access_key_id("").to_ascii_lowercase();
    let secret = new_secret();
    tx.insert_enrollment_token(&EnrollmentTokenRow {
        token_id: id.clone(),
        secret_sha256: hex::encode(Sha256::digest(secret.as_bytes())),
        expire_time: now + ttl_ms,
        uses_left: uses,
        create_time: now,
    })
    .await?;
    Ok(format!("{TOKEN_PREFIX}.{id}.{secret}"))
}

fn parse_token(token: &str) -> Option<(&str, &str)> {
    let rest = token.strip_prefix(TOKEN_PREFIX)?.strip_prefix('.')?;
    rest.split_once('.')
}

/// Why an enrolment was refused.
#[derive(Debug, thiserror::Error)]
pub(crate) enum EnrollError {
    #[error("the enrolment token is not valid (unknown, mistyped or revoked)")]
    Invalid,
    #[error("the enrolment token expired")]
    Expired,
    #[error("the enrolment token has been used up")]
    UsedUp,
    #[error(transparent)]
    Store(#[from] cutover_store::StoreError),
}

/// Checks an enrolment token and uses up one enrolment of it.
pub(crate) async fn redeem_token(tx: &mut cutover_store::Tx, token: &str, now: i64) -> Result<(), EnrollError> {
    let (id, secret) = parse_token(token.trim()).ok_or(EnrollError::Invalid)?;
    let row = tx.enrollment_token(id).await?.ok_or(EnrollError::Invalid)?;
    let digest = hex::encode(Sha256::digest(secret.as_bytes()));
    if !constant_time_eq(digest.as_bytes(), row.secret_sha256.as_bytes()) {
        return Err(EnrollError::Invalid);
    }
    if row.expire_time <= now {
        return Err(EnrollError::Expired);
    }
    if row.uses_left.is_some() && !tx.consume_enrollment_token(id).await? {
        return Err(EnrollError::UsedUp);
    }
    Ok(())
}

pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

// ---------------------------------------------------------------------------------------------------------------
// Verifying requests

/// The key behind a verified signature.
pub(crate) enum Caller {
    User(Principal),
    Agent(AgentIdentity),
}

/// Why a request was not authenticated.
pub(crate) enum AuthError {
    Signature(VerifyError),
    Internal(String),
}

impl From<cutover_store::StoreError> for AuthError {
    fn from(error: cutover_store::StoreError) -> Self {
        AuthError::Internal(error.to_string())
    }
}

impl AuthError {
    /// As a CodeDeploy API error.
    pub(crate) fn into_api_error(self) -> ApiError {
        match self {
            AuthError::Signature(error) => ApiError::new(error.exception(), error.to_string()),
            AuthError::Internal(cause) => ApiError::Internal(cause),
        }
    }
}

/// Verifies the SigV4 signature of a request whose payload hash is `payload_sha256`.
pub(crate) async fn authenticate(
    state: &AppState,
    parts: &Parts,
    payload_sha256: &str,
    services: &[&str],
) -> Result<Caller, AuthError> {
    let Some(header) = parts.headers.get(axum::http::header::AUTHORIZATION) else {
        let presigned = parts.uri.query().is_some_and(|query| query.contains("X-Amz-Signature="));
        return Err(AuthError::Signature(if presigned {
            VerifyError::Malformed("presigned URLs are not accepted; sign the request's headers instead".into())
        } else {
            VerifyError::Missing
        }));
    };
    let header = header.to_str().map_err(|_| AuthError::Signature(VerifyError::Malformed("not ASCII".into())))?;
    let authorization = sigv4::parse_authorization(header).map_err(AuthError::Signature)?;
    let now = state.inner.clock.now_ms();
    let mut tx = state.store().begin().await?;
    let Some(key) = tx.access_key(&authorization.access_key_id).await? else {
        return Err(AuthError::Signature(VerifyError::UnknownKey));
    };
    let secret = state
        .inner
        .keyring
        .open(&key.secret_sealed)
        .ok_or_else(|| AuthError::Internal(format!("the secret of {} cannot be opened", key.access_key_id)))?;
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .filter_map(|(name, value)| Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned())))
        .collect();
    // Inside a nested router the URI lost its prefix; the signature covers the path as the client sent it.
    let uri = parts.extensions.get::<axum::extract::OriginalUri>().map_or(&parts.uri, |original| &original.0);
    let request = RequestParts {
        method: parts.method.as_str(),
        path: uri.path(),
        query: uri.query().unwrap_or(""),
        headers: &headers,
        payload_sha256,
    };
    sigv4::verify(&request, &authorization, &secret, services, now.div_euclid(1000)).map_err(AuthError::Signature)?;
    let caller = match &key.instance_name {
        Some(instance_name) => {
            // A deregistered instance is locked out even if its key somehow survived.
            let registered = tx.instance(instance_name).await?.is_some_and(|row| row.deregister_time.is_none());
            if !registered {
                return Err(AuthError::Signature(VerifyError::UnknownKey));
            }
            Caller::Agent(AgentIdentity { instance_name: instance_name.clone() })
        }
        None => {
            let role = key.role.parse::<Role>().map_err(AuthError::Internal)?;
            Caller::User(Principal { access_key_id: key.access_key_id.clone(), name: key.description.clone(), role })
        }
    };
    tx.touch_access_key(&key.access_key_id, now).await?;
    tx.commit().await?;
    Ok(caller)
}

fn source_of(parts: &Parts) -> Source {
    Source(
        parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or_else(|| "unknown".to_owned(), |info| info.0.to_string()),
    )
}

/// Middleware of the API (`POST /`) and Cutover's `/v1` endpoints: a valid signature by a user key, or an error
/// in CodeDeploy's form.
pub(crate) async fn api_layer(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    let bytes: Bytes = match axum::body::to_bytes(body, MAX_API_BODY).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return ApiError::new("SerializationException", "request body too large or unreadable").into_response();
        }
    };
    let hash = sigv4::payload_hash(&bytes);
    match authenticate(&state, &parts, &hash, &[API_SERVICE]).await {
        Ok(Caller::User(principal)) => {
            let source = source_of(&parts);
            parts.extensions.insert(principal);
            parts.extensions.insert(source);
        }
        Ok(Caller::Agent(_)) => {
            return ApiError::new("AccessDeniedException", "an agent credential cannot call the API").into_response();
        }
        Err(error) => return error.into_api_error().into_response(),
    }
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}

/// Middleware of the agent protocol: a valid signature by an agent key, except for an enrolment (an unsigned
/// `register` carrying a join token, checked by the handler).
pub(crate) async fn agent_layer(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    let bytes: Bytes = match axum::body::to_bytes(body, MAX_AGENT_BODY).await {
        Ok(bytes) => bytes,
        Err(_) => return agent_error(axum::http::StatusCode::PAYLOAD_TOO_LARGE, "TooLarge", "request body too large"),
    };
    let enrolment =
        !parts.headers.contains_key(axum::http::header::AUTHORIZATION) && parts.uri.path().ends_with("/register");
    if !enrolment {
        let hash = sigv4::payload_hash(&bytes);
        match authenticate(&state, &parts, &hash, &[AGENT_SERVICE]).await {
            Ok(Caller::Agent(identity)) => {
                parts.extensions.insert(identity);
            }
            Ok(Caller::User(_)) => {
                return agent_error(
                    axum::http::StatusCode::FORBIDDEN,
                    "AccessDenied",
                    "only an agent credential may use the agent protocol",
                );
            }
            Err(AuthError::Signature(error)) => {
                return agent_error(axum::http::StatusCode::UNAUTHORIZED, error.exception(), &error.to_string());
            }
            Err(AuthError::Internal(cause)) => {
                tracing::error!(message = "Agent authentication failed internally.", cause);
                return agent_error(axum::http::StatusCode::INTERNAL_SERVER_ERROR, "Internal", "internal error");
            }
        }
    }
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}

fn agent_error(status: axum::http::StatusCode, code: &str, message: &str) -> Response {
    let body = cutover_api_types::agent::AgentError { code: code.to_owned(), message: message.to_owned() };
    (status, axum::Json(body)).into_response()
}

/// Checks that the principal's role may call `operation`.
pub(crate) fn authorize(principal: &Principal, service: &str, operation: &str) -> Result<(), ApiError> {
    if principal.role.allows(operation) {
        Ok(())
    } else {
        Err(ApiError::new(
            "AccessDeniedException",
            format!(
                "User: {} (role {}) is not authorized to perform: {service}:{operation}",
                principal.arn(),
                principal.role
            ),
        ))
    }
}

/// Records a mutating call in the audit log. Failures to record are logged, never hidden from the operator.
pub(crate) async fn audit(
    state: &AppState,
    principal: &Principal,
    source: &Source,
    action: &str,
    resource: &str,
    outcome: &str,
) {
    let row = AuditEventRow {
        seq: 0,
        event_time: state.inner.clock.now_ms(),
        access_key_id: principal.access_key_id.clone(),
        principal: principal.name.clone(),
        action: action.to_owned(),
        resource: resource.to_owned(),
        source: source.0.clone(),
        outcome: outcome.to_owned(),
    };
    let result = async {
        let mut tx = state.store().begin().await?;
        tx.append_audit_event(&row).await?;
        tx.commit().await
    }
    .await;
    if let Err(error) = result {
        tracing::error!(message = "Cannot write the audit log.", action, %error);
    }
}

/// The resource a request names, for the audit log: its identifying members as `key=value` pairs.
pub(crate) fn resource_of(body: &[u8]) -> String {
    const KEYS: [&str; 9] = [
        "applicationName",
        "deploymentGroupName",
        "currentDeploymentGroupName",
        "deploymentConfigName",
        "deploymentId",
        "instanceName",
        "instanceNames",
        "accessKeyId",
        "resourceArn",
    ];
    let Ok(serde_json::Value::Object(map)) = serde_json::from_slice::<serde_json::Value>(body) else {
        return String::new();
    };
    KEYS.iter()
        .filter_map(|key| {
            let value = map.get(*key)?;
            let text = match value {
                serde_json::Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            Some(format!("{key}={text}"))
        })
        .collect::<Vec<_>>()
        .join(" ")
}
