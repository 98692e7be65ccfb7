//! Deployment plans (`POST /v1/deployment-plans`, `cutover deploy plan`): what CreateDeployment would do with the
//! same inputs now, computed by the same code and changing nothing.
//!
//! - The targets and their order come from `api::deployments::ordered_targets`, which CreateDeployment uses: the
//!   group's tag selection, unhealthy hosts first (their last deployment in the group failed, or there was none),
//!   then by revision health and name, zone by zone for zonal configurations.
//! - The minimum healthy hosts and the failure at start (`NO_INSTANCES`, `HEALTH_CONSTRAINTS_INVALID`) come from the
//!   pure planner (`planner::start`); the batches from running `planner::step` with every batch succeeding
//!   together, so they are exact whenever hosts finish in the order they started (always with OneAtATime).
//! - Each host's last installed revision is the revision of the group's latest deployment whose Install succeeded
//!   on it, whatever happened after Install (a host whose ValidateService failed has the new files): that is where
//!   the agent takes ApplicationStop's scripts from and what Install's cleanup removes.
//! - The rollback target is the group's last successful deployment, which an automatic rollback redeploys.

use std::collections::HashMap;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use cutover_api_types::agent::{
    DeploymentPlan, InstalledRevision, PlanError, PlanRequest, PlannedRollback, PlannedTarget,
};
use cutover_api_types::codedeploy as wire;
use cutover_domain::config::ComputePlatform;
use cutover_domain::planner::{self, Progress, Step};

use crate::AppState;
use crate::agent_api::AgentApiError;
use crate::api::deployments::{ordered_targets, resolve_bundle};
use crate::convert;
use crate::error::ApiError;

impl From<ApiError> for AgentApiError {
    fn from(error: ApiError) -> Self {
        match error {
            ApiError::Client { exception, message } => AgentApiError(StatusCode::BAD_REQUEST, exception, message),
            ApiError::Internal(cause) => {
                tracing::error!(message = "Internal error in a plan.", error = %cause);
                AgentApiError(StatusCode::INTERNAL_SERVER_ERROR, "Internal", "internal error".to_owned())
            }
        }
    }
}

/// `POST /v1/deployment-plans`.
pub(crate) async fn plan(
    State(state): State<AppState>,
    Json(request): Json<PlanRequest>,
) -> Result<Json<DeploymentPlan>, AgentApiError> {
    Ok(Json(compute(&state, request).await?))
}

async fn compute(state: &AppState, request: PlanRequest) -> Result<DeploymentPlan, ApiError> {
    let mut tx = state.store().begin().await?;
    let app = crate::api::application(&mut tx, &request.application_name).await?;
    let group_row = crate::api::groups::group(&mut tx, &app.id, &request.deployment_group_name).await?;
    let revision = match request.revision.clone() {
        Some(revision) => revision,
        None => {
            group_row.target_revision.as_deref().and_then(|json| serde_json::from_str(json).ok()).ok_or_else(|| {
                ApiError::new(
                    "RevisionRequiredException",
                    "revision is required: the deployment group has no target revision yet",
                )
            })?
        }
    };
    crate::api::revisions::validate(&Some(revision.clone()))?;
    let bundle = resolve_bundle(&mut tx, &revision).await?;
    let config_name = request.deployment_config_name.clone().unwrap_or_else(|| group_row.config_name.clone());
    let (config, zonal) = match convert::find_config(&mut tx, &config_name).await? {
        Some((config, row)) if config.compute_platform == ComputePlatform::Server => {
            let zonal = row.as_ref().and_then(convert::zonal_from_row).is_some();
            (config, zonal)
        }
        Some(_) => {
            return Err(ApiError::new(
                "InvalidDeploymentConfigNameException",
                format!("deployment config {config_name} is not for the Server compute platform"),
            ));
        }
        None => {
            return Err(ApiError::new(
                "DeploymentConfigDoesNotExistException",
                format!("The deployment configuration {config_name} does not exist with the user or AWS account."),
            ));
        }
    };
    let settings: wire::DeploymentGroupInfo = serde_json::from_str(&group_row.spec)?;
    let revision_key = convert::revision_key(&revision);
    let (names, zones) = ordered_targets(
        state,
        &mut tx,
        &group_row.id,
        &settings,
        &revision_key,
        request.update_outdated_instances_only,
        zonal,
    )
    .await?;
    let health: HashMap<String, (bool, Option<String>)> = tx
        .group_instances(&group_row.id)
        .await?
        .into_iter()
        .map(|row| (row.instance_name, (row.healthy, row.revision_key)))
        .collect();
    // The latest successful Install per host wins (rows are oldest first).
    let mut installed: HashMap<String, InstalledRevision> = HashMap::new();
    for (instance, deployment_id, revision_json) in tx.successful_installs(&group_row.id).await? {
        if let Ok(revision) = serde_json::from_str(&revision_json) {
            installed.insert(instance, InstalledRevision { deployment_id, revision });
        }
    }
    let targets: Vec<PlannedTarget> = names
        .iter()
        .map(|name| {
            let (healthy, key) = health.get(name).cloned().unwrap_or((false, None));
            let revision_health = match key {
                None => "Unknown",
                Some(key) if key == revision_key => "Current",
                Some(_) => "Old",
            };
            PlannedTarget {
                instance_name: name.clone(),
                healthy,
                revision_health: revision_health.to_owned(),
                zone: zones.iter().find(|(zone_name, _)| zone_name == name).and_then(|(_, zone)| zone.clone()),
                last_installed: installed.remove(name),
            }
        })
        .collect();

    let rule = config.effective_minimum_healthy_hosts();
    let n = targets.len() as u64;
    let (min_healthy, max_unavailable, error, batches) = match planner::start(n, &rule) {
        Ok(min_healthy) => {
            let batches = if zonal { Vec::new() } else { batches(min_healthy, &names) };
            (Some(min_healthy), Some(planner::unavailable_budget(n, min_healthy)), None, batches)
        }
        Err(code) => {
            let message = crate::orchestrator::start_failure_message(code, n, &rule);
            (None, None, Some(PlanError { code: code.as_str().to_owned(), message }), Vec::new())
        }
    };

    let rollback_config = settings.auto_rollback_configuration.clone();
    let events = match &rollback_config {
        Some(config) if config.enabled == Some(true) => config.events.clone().unwrap_or_default(),
        _ => Vec::new(),
    };
    let last_good = match &group_row.last_successful_deployment_id {
        Some(id) => tx.deployment(id).await?,
        None => None,
    };
    tx.commit().await?;
    Ok(DeploymentPlan {
        application_name: app.name,
        deployment_group_name: group_row.name,
        deployment_config_name: config_name,
        revision,
        bundle_sha256: bundle.sha256,
        bundle_type: bundle.bundle_type,
        min_healthy,
        max_unavailable,
        error,
        zonal,
        targets,
        batches,
        rollback: PlannedRollback {
            events,
            deployment_id: last_good.as_ref().map(|deployment| deployment.id.clone()),
            revision: last_good.and_then(|deployment| serde_json::from_str(&deployment.revision).ok()),
        },
    })
}

/// The batches of an in-place deployment in which every batch succeeds together.
fn batches(min_healthy: u64, names: &[String]) -> Vec<Vec<String>> {
    let mut progress = vec![Progress::Pending; names.len()];
    let mut res = Vec::new();
    while let Step::Dispatch(indices) = planner::step(min_healthy, &progress) {
        res.push(indices.iter().map(|&index| names[index].clone()).collect());
        for index in indices {
            progress[index] = Progress::Succeeded;
        }
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_follow_the_budget() {
        let names: Vec<String> = ["a", "b", "c", "d", "e"].map(String::from).into();
        assert_eq!(batches(4, &names), [["a"], ["b"], ["c"], ["d"], ["e"]]);
        assert_eq!(batches(2, &names), vec![vec!["a", "b", "c"], vec!["d", "e"]]);
        assert_eq!(batches(0, &names), [["a", "b", "c", "d", "e"]]);
    }
}
