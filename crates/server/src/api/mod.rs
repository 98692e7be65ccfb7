//! CodeDeploy's JSON 1.1 API: `POST /` with `X-Amz-Target: CodeDeploy_20141006.<Operation>`.
//!
//! The dispatcher decodes the target into an [`Operation`] and the body into the operation's input shape, calls
//! one handler per operation, and encodes the output or the error. Decoding is separate from handling so that a
//! second front (e.g. the smithy RPC v2 CBOR protocol) can be added without touching handlers.

mod applications;
mod configs;
pub(crate) mod deployments;
pub(crate) mod groups;
mod instances;
mod integrations;
mod other_types;
pub(crate) mod revisions;
mod security;
mod tags;

use std::future::Future;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use cutover_api_types::codedeploy::{Operation, TARGET_PREFIX};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::auth::{self, Principal, Source};
use crate::error::{ApiError, ApiResult};

/// Largest page a List operation returns (CodeDeploy picks its own page size; clients follow nextToken).
pub(crate) const PAGE_SIZE: usize = 100;

pub(crate) async fn handle(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Extension(source): Extension<Source>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request_id = state.inner.clock.uuid();
    let (operation, result) = match operation_name(&headers) {
        Ok((service, name)) => {
            let result = match auth::authorize(&principal, service, &name) {
                Ok(()) => dispatch(state.clone(), service, &name, body.clone()).await,
                Err(error) => Err(error),
            };
            (Some(name), result)
        }
        Err(error) => (None, Err(error)),
    };
    // Every call that may change something is audited, refused ones included.
    if let Some(name) = &operation
        && cutover_auth::role::required_role(name) > cutover_auth::Role::Viewer
    {
        let outcome = match &result {
            Ok(_) => "Success",
            Err(error) => error.code(),
        };
        auth::audit(&state, &principal, &source, name, &auth::resource_of(&body), outcome).await;
    }
    let mut response = match result {
        Ok(value) => {
            let body = serde_json::to_vec(&value).unwrap_or_else(|_| b"{}".to_vec());
            (StatusCode::OK, [("content-type", "application/x-amz-json-1.1")], body).into_response()
        }
        Err(error) => error.into_response(),
    };
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-amzn-requestid", value);
    }
    response
}

/// The service (`codedeploy` or `cutover`) and operation an `X-Amz-Target` names.
fn operation_name(headers: &HeaderMap) -> ApiResult<(&'static str, String)> {
    let target = headers
        .get("x-amz-target")
        .and_then(|value| value.to_str().ok())
        .ok_or_else(|| ApiError::new("UnknownOperationException", "missing X-Amz-Target header"))?;
    let (prefix, name) = target
        .split_once('.')
        .ok_or_else(|| ApiError::new("UnknownOperationException", format!("unknown target {target:?}")))?;
    let service = match prefix {
        TARGET_PREFIX => "codedeploy",
        cutover_api_types::cutover::TARGET_PREFIX => "cutover",
        _ => return Err(ApiError::new("UnknownOperationException", format!("unknown target {target:?}"))),
    };
    Ok((service, name.to_owned()))
}

async fn dispatch(state: AppState, service: &str, name: &str, body: Bytes) -> ApiResult<serde_json::Value> {
    if service == "cutover" {
        return security::dispatch(state, name, body).await;
    }
    let operation = Operation::from_name(name)
        .ok_or_else(|| ApiError::new("UnknownOperationException", format!("unknown operation {name:?}")))?;
    use Operation as Op;
    match operation {
        Op::CreateApplication => run(state, body, applications::create).await,
        Op::GetApplication => run(state, body, applications::get).await,
        Op::BatchGetApplications => run(state, body, applications::batch_get).await,
        Op::ListApplications => run(state, body, applications::list).await,
        Op::UpdateApplication => run(state, body, applications::update).await,
        Op::DeleteApplication => run(state, body, applications::delete).await,
        Op::RegisterApplicationRevision => run(state, body, revisions::register).await,
        Op::GetApplicationRevision => run(state, body, revisions::get).await,
        Op::BatchGetApplicationRevisions => run(state, body, revisions::batch_get).await,
        Op::ListApplicationRevisions => run(state, body, revisions::list).await,
        Op::CreateDeploymentGroup => run(state, body, groups::create).await,
        Op::GetDeploymentGroup => run(state, body, groups::get).await,
        Op::BatchGetDeploymentGroups => run(state, body, groups::batch_get).await,
        Op::ListDeploymentGroups => run(state, body, groups::list).await,
        Op::UpdateDeploymentGroup => run(state, body, groups::update).await,
        Op::DeleteDeploymentGroup => run(state, body, groups::delete).await,
        Op::CreateDeploymentConfig => run(state, body, configs::create).await,
        Op::GetDeploymentConfig => run(state, body, configs::get).await,
        Op::ListDeploymentConfigs => run(state, body, configs::list).await,
        Op::DeleteDeploymentConfig => run(state, body, configs::delete).await,
        Op::CreateDeployment => run(state, body, deployments::create).await,
        Op::GetDeployment => run(state, body, deployments::get).await,
        Op::BatchGetDeployments => run(state, body, deployments::batch_get).await,
        Op::ListDeployments => run(state, body, deployments::list).await,
        Op::StopDeployment => run(state, body, deployments::stop).await,
        Op::ContinueDeployment => run(state, body, deployments::continue_deployment).await,
        Op::ListDeploymentTargets => run(state, body, deployments::list_targets).await,
        Op::GetDeploymentTarget => run(state, body, deployments::get_target).await,
        Op::BatchGetDeploymentTargets => run(state, body, deployments::batch_get_targets).await,
        Op::ListDeploymentInstances => run(state, body, deployments::list_instances).await,
        Op::GetDeploymentInstance => run(state, body, deployments::get_instance).await,
        Op::BatchGetDeploymentInstances => run(state, body, deployments::batch_get_instances).await,
        Op::RegisterOnPremisesInstance => run(state, body, instances::register).await,
        Op::DeregisterOnPremisesInstance => run(state, body, instances::deregister).await,
        Op::GetOnPremisesInstance => run(state, body, instances::get).await,
        Op::BatchGetOnPremisesInstances => run(state, body, instances::batch_get).await,
        Op::ListOnPremisesInstances => run(state, body, instances::list).await,
        Op::AddTagsToOnPremisesInstances => run(state, body, instances::add_tags).await,
        Op::RemoveTagsFromOnPremisesInstances => run(state, body, instances::remove_tags).await,
        Op::TagResource => run(state, body, tags::tag_resource).await,
        Op::UntagResource => run(state, body, tags::untag_resource).await,
        Op::ListTagsForResource => run(state, body, tags::list_tags_for_resource).await,
        Op::ListGitHubAccountTokenNames => run(state, body, integrations::list_github_token_names).await,
        Op::DeleteGitHubAccountToken => run(state, body, integrations::delete_github_token).await,
        Op::DeleteResourcesByExternalId => run(state, body, integrations::delete_resources_by_external_id).await,
        Op::SkipWaitTimeForInstanceTermination => {
            run(state, body, other_types::skip_wait_time_for_instance_termination).await
        }
        Op::PutLifecycleEventHookExecutionStatus => {
            run(state, body, other_types::put_lifecycle_event_hook_execution_status).await
        }
    }
}

/// Decodes the input, runs the handler, encodes the output (`{}` for operations without one).
pub(crate) async fn run<I, O, F, Fut>(state: AppState, body: Bytes, handler: F) -> ApiResult<serde_json::Value>
where
    I: DeserializeOwned,
    O: Serialize,
    F: FnOnce(AppState, I) -> Fut,
    Fut: Future<Output = ApiResult<O>>,
{
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) { b"{}" } else { &body };
    let input: I = serde_json::from_slice(body)
        .map_err(|error| ApiError::new("SerializationException", format!("invalid request body: {error}")))?;
    let output = handler(state, input).await?;
    let value = serde_json::to_value(output).map_err(|error| ApiError::Internal(error.to_string()))?;
    Ok(if value.is_null() { serde_json::json!({}) } else { value })
}

/// Returns a required string member, or the model's exception for its absence.
pub(crate) fn required<'a>(value: &'a Option<String>, exception: &'static str, what: &str) -> ApiResult<&'a str> {
    match value.as_deref() {
        Some(text) if !text.is_empty() => Ok(text),
        _ => Err(ApiError::new(exception, format!("{what} is required"))),
    }
}

/// Checks a resource name against CodeDeploy's pattern and length.
pub(crate) fn valid_name(name: &str, exception: &'static str, what: &str) -> ApiResult<()> {
    if cutover_domain::ids::is_valid_name(name) {
        Ok(())
    } else {
        Err(ApiError::new(exception, format!("{what} {name:?} is invalid: use 1-100 characters of [A-Za-z0-9+=,.@_-]")))
    }
}

/// Slices one page out of `items` by the opaque `next_token`; returns the page and the following token.
pub(crate) fn paginate<T: Clone>(items: &[T], next_token: &Option<String>) -> ApiResult<(Vec<T>, Option<String>)> {
    let start = match next_token.as_deref() {
        None | Some("") => 0,
        Some(token) => {
            token.strip_prefix("o").and_then(|n| n.parse::<usize>().ok()).filter(|&n| n <= items.len()).ok_or_else(
                || ApiError::new("InvalidNextTokenException", "The next token was specified in an invalid format."),
            )?
        }
    };
    let end = (start + PAGE_SIZE).min(items.len());
    let next = (end < items.len()).then(|| format!("o{end}"));
    Ok((items[start..end].to_vec(), next))
}

/// Loads an application by name or answers ApplicationDoesNotExistException.
pub(crate) async fn application(tx: &mut cutover_store::Tx, name: &str) -> ApiResult<cutover_store::ApplicationRow> {
    tx.application_by_name(name).await?.ok_or_else(|| {
        ApiError::new(
            "ApplicationDoesNotExistException",
            format!("The application {name} does not exist with the user or AWS account."),
        )
    })
}
