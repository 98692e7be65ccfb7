//! SkipWaitTimeForInstanceTermination (deprecated: ContinueDeployment(TERMINATION_WAIT) of a blue/green deployment)
//! and PutLifecycleEventHookExecutionStatus (a hook function of a Lambda deployment reports its result, see
//! `functions.rs`). For an in-place deployment to servers both answer the model's
//! UnsupportedActionForDeploymentTypeException, with a message saying what applies instead.

use cutover_api_types::codedeploy as wire;

use super::deployments::deployment;
use super::required;
use crate::AppState;
use crate::error::{ApiError, ApiResult};

pub(crate) async fn skip_wait_time_for_instance_termination(
    state: AppState,
    input: wire::SkipWaitTimeForInstanceTerminationInput,
) -> ApiResult<()> {
    let id = required(&input.deployment_id, "DeploymentIdRequiredException", "deploymentId")?;
    let mut tx = state.store().begin().await?;
    let row = deployment(&mut tx, id).await?;
    if crate::convert::DeploymentOptions::from_json(&row.options).blue_green.is_some() {
        drop(tx);
        // The deprecated form of ContinueDeployment(TERMINATION_WAIT).
        let input = wire::ContinueDeploymentInput {
            deployment_id: Some(id.to_owned()),
            deployment_wait_type: Some("TERMINATION_WAIT".to_owned()),
        };
        return super::deployments::continue_deployment(state, input).await;
    }
    Err(ApiError::new(
        "UnsupportedActionForDeploymentTypeException",
        format!(
            "The deployment {} is an in-place deployment: it has no original instances waiting to be terminated, so \
             there is no termination wait to skip (that applies to blue/green deployments only).",
            row.id
        ),
    ))
}

pub(crate) async fn put_lifecycle_event_hook_execution_status(
    state: AppState,
    input: wire::PutLifecycleEventHookExecutionStatusInput,
) -> ApiResult<wire::PutLifecycleEventHookExecutionStatusOutput> {
    let id = required(&input.deployment_id, "DeploymentIdRequiredException", "deploymentId")?;
    required(
        &input.lifecycle_event_hook_execution_id,
        "InvalidLifecycleEventHookExecutionIdException",
        "lifecycleEventHookExecutionId",
    )?;
    // A hook function can only report a final result.
    match input.status.as_deref() {
        Some("Succeeded" | "Failed") => {}
        other => {
            return Err(ApiError::new(
                "InvalidLifecycleEventHookExecutionStatusException",
                format!("status must be Succeeded or Failed, got {other:?}"),
            ));
        }
    }
    let execution_id = input.lifecycle_event_hook_execution_id.clone().unwrap_or_default();
    let status = input.status.clone().unwrap_or_default();
    match crate::functions::report_hook(&state, id, &execution_id, &status).await? {
        Ok(()) => Ok(wire::PutLifecycleEventHookExecutionStatusOutput {
            lifecycle_event_hook_execution_id: Some(execution_id),
        }),
        Err((exception, message)) => Err(ApiError::new(exception, message)),
    }
}
