//! Deployment configurations: Create, Get, List, Delete (predefined ones are read-only).

use cutover_api_types::codedeploy as wire;
use cutover_domain::config::{self, NewDeploymentConfig};
use cutover_store::{DeploymentConfigRow, StoreError};

use super::{paginate, required};
use crate::AppState;
use crate::convert;
use crate::error::{ApiError, ApiResult};

pub(crate) async fn create(
    state: AppState,
    input: wire::CreateDeploymentConfigInput,
) -> ApiResult<wire::CreateDeploymentConfigOutput> {
    let name =
        required(&input.deployment_config_name, "DeploymentConfigNameRequiredException", "deploymentConfigName")?;
    if let Some(zonal) = &input.zonal_config {
        let per_zone = zonal.minimum_healthy_hosts_per_zone.as_ref();
        cutover_domain::zonal::validate(
            zonal.first_zone_monitor_duration_in_seconds,
            zonal.monitor_duration_in_seconds,
            per_zone.and_then(|m| m.type_.as_deref()),
            per_zone.and_then(|m| m.value),
        )
        .map_err(|error| ApiError::new("InvalidZonalDeploymentConfigurationException", error.to_string()))?;
    }
    let mhh = input.minimum_healthy_hosts.as_ref();
    let routing = input.traffic_routing_config.as_ref();
    let request = NewDeploymentConfig {
        name,
        compute_platform: input.compute_platform.as_deref(),
        minimum_healthy_hosts_type: mhh.and_then(|m| m.type_.as_deref()),
        minimum_healthy_hosts_value: mhh.and_then(|m| m.value),
        traffic_routing_type: routing.and_then(|r| r.type_.as_deref()),
        canary_percentage: routing.and_then(|r| r.time_based_canary.as_ref()).and_then(|c| c.canary_percentage),
        canary_interval: routing.and_then(|r| r.time_based_canary.as_ref()).and_then(|c| c.canary_interval),
        linear_percentage: routing.and_then(|r| r.time_based_linear.as_ref()).and_then(|l| l.linear_percentage),
        linear_interval: routing.and_then(|r| r.time_based_linear.as_ref()).and_then(|l| l.linear_interval),
    };
    let config = config::validate_new_config(&request)
        .map_err(|error| ApiError::new(error.exception_name(), error.to_string()))?;
    let id = state.inner.clock.uuid();
    let create_time = state.inner.clock.now_ms();
    let mut spec = convert::config_info(&config, None, None);
    spec.zonal_config = input.zonal_config.clone();
    let row = DeploymentConfigRow {
        id: id.clone(),
        name: config.name.clone(),
        compute_platform: config.compute_platform.as_str().to_owned(),
        spec: serde_json::to_string(&spec)?,
        create_time,
    };
    let mut tx = state.store().begin().await?;
    tx.insert_deployment_config(&row).await.map_err(|error| match error {
        StoreError::Conflict(_) => ApiError::new(
            "DeploymentConfigAlreadyExistsException",
            format!("A deployment configuration named {name} already exists with the user or AWS account."),
        ),
        other => other.into(),
    })?;
    tx.commit().await?;
    Ok(wire::CreateDeploymentConfigOutput { deployment_config_id: Some(id) })
}

pub(crate) async fn get(
    state: AppState,
    input: wire::GetDeploymentConfigInput,
) -> ApiResult<wire::GetDeploymentConfigOutput> {
    let name =
        required(&input.deployment_config_name, "DeploymentConfigNameRequiredException", "deploymentConfigName")?;
    let mut tx = state.store().begin().await?;
    let (config, row) = convert::find_config(&mut tx, name).await?.ok_or_else(|| {
        ApiError::new(
            "DeploymentConfigDoesNotExistException",
            format!("The deployment configuration {name} does not exist with the user or AWS account."),
        )
    })?;
    let mut info =
        convert::config_info(&config, row.as_ref().map(|r| r.id.clone()), row.as_ref().map(|r| r.create_time));
    info.zonal_config = row.as_ref().and_then(convert::zonal_wire_from_row);
    Ok(wire::GetDeploymentConfigOutput { deployment_config_info: Some(info) })
}

pub(crate) async fn list(
    state: AppState,
    input: wire::ListDeploymentConfigsInput,
) -> ApiResult<wire::ListDeploymentConfigsOutput> {
    let mut tx = state.store().begin().await?;
    let mut names: Vec<String> = config::predefined().into_iter().map(|c| c.name).collect();
    names.extend(tx.list_deployment_configs().await?.into_iter().map(|row| row.name));
    let (page, next_token) = paginate(&names, &input.next_token)?;
    Ok(wire::ListDeploymentConfigsOutput { deployment_configs_list: Some(page), next_token })
}

pub(crate) async fn delete(state: AppState, input: wire::DeleteDeploymentConfigInput) -> ApiResult<()> {
    let name =
        required(&input.deployment_config_name, "DeploymentConfigNameRequiredException", "deploymentConfigName")?;
    if config::find_predefined(name).is_some() {
        return Err(ApiError::new(
            "InvalidOperationException",
            format!("{name} is a predefined deployment configuration and cannot be deleted"),
        ));
    }
    let mut tx = state.store().begin().await?;
    if tx.deployment_config_use_count(name).await? > 0 {
        return Err(ApiError::new(
            "DeploymentConfigInUseException",
            format!("The deployment configuration {name} is still in use by a deployment group."),
        ));
    }
    if let Some(row) = tx.deployment_config_by_name(name).await? {
        tx.delete_resource_tags(super::tags::DEPLOYMENT_CONFIG, &row.id).await?;
    }
    tx.delete_deployment_config(name).await?;
    tx.commit().await?;
    Ok(())
}
