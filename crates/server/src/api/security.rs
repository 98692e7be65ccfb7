//! Cutover's own operations (`X-Amz-Target: Cutover_20261122.<Op>`): access keys, enrolment tokens, the audit log,
//! revision signatures and the signing keys deployment groups trust. Roles are checked by the dispatcher like
//! CodeDeploy's operations ([`cutover_auth::role::required_role`]).

use axum::body::Bytes;
use cutover_api_types::agent::{BundleSignature, BundleSpec};
use cutover_api_types::cutover as wire;
use cutover_auth::{Role, signature};
use cutover_store::{AccessKeyRow, Tx};

use super::{application, run};
use crate::AppState;
use crate::auth;
use crate::error::{ApiError, ApiResult};

pub(crate) async fn dispatch(state: AppState, name: &str, body: Bytes) -> ApiResult<serde_json::Value> {
    match name {
        "CreateAccessKey" => run(state, body, create_access_key).await,
        "ListAccessKeys" => run(state, body, list_access_keys).await,
        "DeleteAccessKey" => run(state, body, delete_access_key).await,
        "CreateEnrollmentToken" => run(state, body, create_enrollment_token).await,
        "ListAuditEvents" => run(state, body, list_audit_events).await,
        "PutRevisionSignature" => run(state, body, put_revision_signature).await,
        "PutDeploymentGroupTrustedKeys" => run(state, body, put_trusted_keys).await,
        "GetDeploymentGroupTrustedKeys" => run(state, body, get_trusted_keys).await,
        other => Err(ApiError::new("UnknownOperationException", format!("unknown operation {other:?}"))),
    }
}

fn seconds(ms: i64) -> f64 {
    ms as f64 / 1000.0
}

async fn create_access_key(
    state: AppState,
    input: wire::CreateAccessKeyInput,
) -> ApiResult<wire::CreateAccessKeyOutput> {
    let role = input.role.parse::<Role>().map_err(|message| ApiError::new("InvalidRoleException", message))?;
    let access_key_id = auth::new_access_key_id("CUTO");
    let secret = auth::new_secret();
    let mut tx = state.store().begin().await?;
    tx.insert_access_key(&AccessKeyRow {
        access_key_id: access_key_id.clone(),
        secret_sealed: state.inner.keyring.seal(&secret),
        role: role.as_str().to_owned(),
        description: input.description.chars().take(256).collect(),
        instance_name: None,
        create_time: state.inner.clock.now_ms(),
        last_used_time: None,
    })
    .await?;
    tx.commit().await?;
    Ok(wire::CreateAccessKeyOutput { access_key_id, secret_access_key: secret, role: role.as_str().to_owned() })
}

async fn list_access_keys(state: AppState, _input: serde_json::Value) -> ApiResult<wire::ListAccessKeysOutput> {
    let mut tx = state.store().begin().await?;
    let access_keys = tx
        .list_access_keys()
        .await?
        .into_iter()
        .map(|row| wire::AccessKeyInfo {
            access_key_id: row.access_key_id,
            role: row.role,
            description: row.description,
            create_time: seconds(row.create_time),
            last_used_time: row.last_used_time.map(seconds),
        })
        .collect();
    Ok(wire::ListAccessKeysOutput { access_keys })
}

async fn delete_access_key(state: AppState, input: wire::DeleteAccessKeyInput) -> ApiResult<()> {
    let mut tx = state.store().begin().await?;
    let key =
        tx.access_key(&input.access_key_id).await?.filter(|row| row.instance_name.is_none()).ok_or_else(|| {
            ApiError::new("AccessKeyDoesNotExistException", format!("no access key {}", input.access_key_id))
        })?;
    // Never lock every administrator out.
    if key.role == Role::Admin.as_str() {
        let admins = tx.list_access_keys().await?.iter().filter(|row| row.role == Role::Admin.as_str()).count();
        if admins <= 1 {
            return Err(ApiError::new(
                "InvalidOperationException",
                "this is the last admin key: create another admin key before deleting it",
            ));
        }
    }
    tx.delete_access_key(&key.access_key_id).await?;
    tx.commit().await?;
    Ok(())
}

async fn create_enrollment_token(
    state: AppState,
    input: wire::CreateEnrollmentTokenInput,
) -> ApiResult<wire::CreateEnrollmentTokenOutput> {
    let ttl_secs = input.ttl_seconds.unwrap_or(3600);
    if ttl_secs == 0 || ttl_secs > 365 * 86_400 {
        return Err(ApiError::new("InvalidInputException", "ttlSeconds must be between 1 and 31536000"));
    }
    if input.max_uses == Some(0) {
        return Err(ApiError::new("InvalidInputException", "maxUses must be at least 1"));
    }
    let now = state.inner.clock.now_ms();
    let ttl_ms = ttl_secs as i64 * 1000;
    let mut tx = state.store().begin().await?;
    let token =
        auth::mint_token(&mut tx, now, ttl_ms, input.max_uses.map(|uses| uses.min(i64::MAX as u64) as i64)).await?;
    tx.commit().await?;
    Ok(wire::CreateEnrollmentTokenOutput { token, expire_time: seconds(now + ttl_ms) })
}

async fn list_audit_events(
    state: AppState,
    input: wire::ListAuditEventsInput,
) -> ApiResult<wire::ListAuditEventsOutput> {
    let limit = i64::from(input.max_results.unwrap_or(100).clamp(1, 1000));
    let before = match input.next_token.as_deref() {
        None | Some("") => None,
        Some(token) => Some(token.parse::<i64>().map_err(|_| {
            ApiError::new("InvalidNextTokenException", "The next token was specified in an invalid format.")
        })?),
    };
    let mut tx = state.store().begin().await?;
    let rows = tx.audit_events(before, limit + 1).await?;
    let more = rows.len() as i64 > limit;
    let events: Vec<wire::AuditEvent> = rows
        .into_iter()
        .take(limit as usize)
        .map(|row| wire::AuditEvent {
            seq: row.seq,
            event_time: seconds(row.event_time),
            access_key_id: row.access_key_id,
            principal: row.principal,
            action: row.action,
            resource: row.resource,
            source: row.source,
            outcome: row.outcome,
        })
        .collect();
    let next_token = more.then(|| events.last().map(|event| event.seq.to_string())).flatten();
    Ok(wire::ListAuditEventsOutput { events, next_token })
}

fn valid_digest(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

async fn put_revision_signature(state: AppState, input: wire::PutRevisionSignatureInput) -> ApiResult<()> {
    let sha256 = input.bundle_sha256.to_ascii_lowercase();
    if !valid_digest(&sha256) {
        return Err(ApiError::new("InvalidRevisionException", "bundleSha256 must be 64 hex digits"));
    }
    let public_key = signature::parse_public_key(&input.public_key)
        .map_err(|error| ApiError::new("InvalidSignatureKeyException", error.to_string()))?;
    // A signature that does not verify is refused now, not when a deployment needs it.
    signature::verify(std::slice::from_ref(&public_key), &sha256, &input.signature)
        .map_err(|error| ApiError::new("InvalidRevisionSignatureException", error.to_string()))?;
    let mut tx = state.store().begin().await?;
    tx.put_bundle_signature(&sha256, &public_key, input.signature.trim(), state.inner.clock.now_ms()).await?;
    tx.commit().await?;
    Ok(())
}

async fn put_trusted_keys(state: AppState, input: wire::PutDeploymentGroupTrustedKeysInput) -> ApiResult<()> {
    let keys = input
        .trusted_keys
        .iter()
        .map(|key| signature::parse_public_key(key))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| ApiError::new("InvalidSignatureKeyException", error.to_string()))?;
    let mut tx = state.store().begin().await?;
    let app = application(&mut tx, &input.application_name).await?;
    let group = super::groups::group(&mut tx, &app.id, &input.deployment_group_name).await?;
    tx.set_group_trusted_keys(&group.id, &keys).await?;
    tx.commit().await?;
    Ok(())
}

async fn get_trusted_keys(
    state: AppState,
    input: wire::GetDeploymentGroupTrustedKeysInput,
) -> ApiResult<wire::DeploymentGroupTrustedKeys> {
    let mut tx = state.store().begin().await?;
    let app = application(&mut tx, &input.application_name).await?;
    let group = super::groups::group(&mut tx, &app.id, &input.deployment_group_name).await?;
    Ok(wire::DeploymentGroupTrustedKeys { trusted_keys: tx.group_trusted_keys(&group.id).await? })
}

/// When the group trusts signing keys, refuses a bundle none of them signed, and hands the keys and signatures
/// to the agents so they check again before extracting.
pub(crate) async fn require_signature(
    tx: &mut Tx,
    group_id: &str,
    group_name: &str,
    mut bundle: BundleSpec,
) -> ApiResult<BundleSpec> {
    let trusted = tx.group_trusted_keys(group_id).await?;
    if trusted.is_empty() {
        return Ok(bundle);
    }
    let signatures = tx.bundle_signatures(&bundle.sha256).await?;
    let valid: Vec<BundleSignature> = signatures
        .into_iter()
        .filter(|(key, sig)| trusted.contains(key) && signature::verify(&trusted, &bundle.sha256, sig).is_ok())
        .map(|(public_key, signature)| BundleSignature { public_key, signature })
        .collect();
    if valid.is_empty() {
        return Err(ApiError::new(
            "InvalidRevisionException",
            format!(
                "deployment group {group_name} requires revisions signed by a key it trusts, and bundle sha256 {} has no such signature (sign it with `cutover push --sign KEY`)",
                bundle.sha256
            ),
        ));
    }
    bundle.trusted_keys = trusted;
    bundle.signatures = valid;
    Ok(bundle)
}
