//! Deployment groups: Create, Get, BatchGet, List, Update (incl. rename), Delete.

use cutover_api_types::codedeploy as wire;
use cutover_domain::tags;
use cutover_store::{DeploymentGroupRow, StoreError, Tx};

use super::{application, paginate, required, valid_name};
use crate::AppState;
use crate::convert::{self, seconds};
use crate::error::{ApiError, ApiResult};
use crate::traffic::Traffic;

const DEFAULT_SERVICE_ROLE: &str = "arn:cutover:iam::000000000000:role/cutover";

/// The settings a group stores; everything else in DeploymentGroupInfo is derived on read.
fn settings_from_create(input: &wire::CreateDeploymentGroupInput) -> wire::DeploymentGroupInfo {
    wire::DeploymentGroupInfo {
        ec2_tag_filters: input.ec2_tag_filters.clone(),
        on_premises_instance_tag_filters: input.on_premises_instance_tag_filters.clone(),
        auto_scaling_groups: None,
        service_role_arn: Some(input.service_role_arn.clone().unwrap_or_else(|| DEFAULT_SERVICE_ROLE.to_owned())),
        trigger_configurations: input.trigger_configurations.clone(),
        alarm_configuration: input.alarm_configuration.clone(),
        auto_rollback_configuration: input.auto_rollback_configuration.clone(),
        deployment_style: input.deployment_style.clone(),
        outdated_instances_strategy: input.outdated_instances_strategy.clone(),
        blue_green_deployment_configuration: input.blue_green_deployment_configuration.clone(),
        load_balancer_info: input.load_balancer_info.clone(),
        ec2_tag_set: input.ec2_tag_set.clone(),
        on_premises_tag_set: input.on_premises_tag_set.clone(),
        ecs_services: input.ecs_services.clone(),
        ec2_deployment_options: input.ec2_deployment_options.clone(),
        termination_hook_enabled: input.termination_hook_enabled,
        ..Default::default()
    }
}

/// Cutover has no EC2 Auto Scaling: a group's hosts are the registered instances its tags select (new hosts get a
/// catch-up deployment when their agent registers), so naming Auto Scaling groups is refused rather than ignored.
fn reject_auto_scaling_groups(groups: &Option<Vec<String>>) -> ApiResult<()> {
    if groups.as_ref().is_some_and(|groups| !groups.is_empty()) {
        return Err(ApiError::new(
            "InvalidAutoScalingGroupException",
            "Auto Scaling groups are not supported: Cutover targets the registered on-premises instances that the group's tags select",
        ));
    }
    Ok(())
}

/// The group's deployment type and whether it uses traffic control, with CodeDeploy's defaults.
pub(crate) fn style(settings: &wire::DeploymentGroupInfo) -> (bool, bool) {
    let style = settings.deployment_style.as_ref();
    let blue_green = style.and_then(|style| style.deployment_type.as_deref()) == Some("BLUE_GREEN");
    let traffic_control = style.and_then(|style| style.deployment_option.as_deref()) == Some("WITH_TRAFFIC_CONTROL");
    (blue_green, traffic_control)
}

/// The target groups a group's `loadBalancerInfo` names.
pub(crate) fn target_group_names(settings: &wire::DeploymentGroupInfo) -> Vec<String> {
    settings
        .load_balancer_info
        .as_ref()
        .and_then(|info| info.target_group_info_list.as_ref())
        .map(|list| list.iter().filter_map(|group| group.name.clone()).collect())
        .unwrap_or_default()
}

/// Deployment style, load balancer and blue/green settings. Traffic control needs target groups that this server's
/// traffic file configures; blue/green needs traffic control (there is no traffic to move otherwise).
fn validate_traffic(settings: &wire::DeploymentGroupInfo, traffic: &Traffic) -> ApiResult<()> {
    let invalid_style = |message: String| Err(ApiError::new("InvalidDeploymentStyleException", message));
    if let Some(style) = &settings.deployment_style {
        match style.deployment_type.as_deref() {
            None | Some("IN_PLACE" | "BLUE_GREEN") => {}
            Some(other) => return invalid_style(format!("deploymentType {other:?} is not IN_PLACE or BLUE_GREEN")),
        }
        match style.deployment_option.as_deref() {
            None | Some("WITHOUT_TRAFFIC_CONTROL" | "WITH_TRAFFIC_CONTROL") => {}
            Some(other) => {
                return invalid_style(format!(
                    "deploymentOption {other:?} is not WITH_TRAFFIC_CONTROL or WITHOUT_TRAFFIC_CONTROL"
                ));
            }
        }
    }
    let (blue_green, traffic_control) = style(settings);
    let invalid_lb = |message: String| Err(ApiError::new("InvalidLoadBalancerInfoException", message));
    if let Some(info) = &settings.load_balancer_info {
        if info.elb_info_list.as_ref().is_some_and(|list| !list.is_empty()) {
            return invalid_lb(
                "elbInfoList (Classic Load Balancers) is not supported: name Cutover target groups in targetGroupInfoList"
                    .to_owned(),
            );
        }
        if info.target_group_pair_info_list.as_ref().is_some_and(|list| !list.is_empty()) {
            return invalid_lb("targetGroupPairInfoList applies to ECS deployments only".to_owned());
        }
        let names = target_group_names(settings);
        if names.len() > 10 {
            return invalid_lb(format!("targetGroupInfoList has {} entries; at most 10 are allowed", names.len()));
        }
        for name in &names {
            if !traffic.has_target_group(name) {
                let known = traffic.target_group_names();
                return invalid_lb(format!(
                    "target group {name:?} is not configured on this server; configured: {}",
                    if known.is_empty() {
                        "none (start the server with --traffic-config)".to_owned()
                    } else {
                        known.join(", ")
                    }
                ));
            }
        }
    }
    if traffic_control && target_group_names(settings).is_empty() {
        return invalid_lb(
            "WITH_TRAFFIC_CONTROL needs loadBalancerInfo.targetGroupInfoList naming at least one target group"
                .to_owned(),
        );
    }
    if blue_green && !traffic_control {
        return invalid_style("BLUE_GREEN deployments need deploymentOption WITH_TRAFFIC_CONTROL".to_owned());
    }
    let Some(config) = &settings.blue_green_deployment_configuration else {
        return Ok(());
    };
    let invalid_bg = |message: String| Err(ApiError::new("InvalidBlueGreenDeploymentConfigurationException", message));
    if let Some(option) = &config.green_fleet_provisioning_option {
        match option.action.as_deref() {
            None | Some("DISCOVER_EXISTING" | "COPY_AUTO_SCALING_GROUP") => {}
            Some(other) => {
                return invalid_bg(format!(
                    "greenFleetProvisioningOption.action {other:?} is not DISCOVER_EXISTING or COPY_AUTO_SCALING_GROUP"
                ));
            }
        }
    }
    if let Some(option) = &config.terminate_blue_instances_on_deployment_success {
        match option.action.as_deref() {
            None | Some("TERMINATE" | "KEEP_ALIVE") => {}
            Some(other) => {
                return invalid_bg(format!(
                    "terminateBlueInstancesOnDeploymentSuccess.action {other:?} is not TERMINATE or KEEP_ALIVE"
                ));
            }
        }
        if let Some(minutes) = option.termination_wait_time_in_minutes
            && !(0..=2880).contains(&minutes)
        {
            return invalid_bg(format!("terminationWaitTimeInMinutes must be 0-2880, got {minutes}"));
        }
    }
    if let Some(option) = &config.deployment_ready_option {
        match option.action_on_timeout.as_deref() {
            None | Some("CONTINUE_DEPLOYMENT" | "STOP_DEPLOYMENT") => {}
            Some(other) => {
                return invalid_bg(format!(
                    "deploymentReadyOption.actionOnTimeout {other:?} is not CONTINUE_DEPLOYMENT or STOP_DEPLOYMENT"
                ));
            }
        }
        if let Some(minutes) = option.wait_time_in_minutes
            && !(0..=2880).contains(&minutes)
        {
            return invalid_bg(format!("deploymentReadyOption.waitTimeInMinutes must be 0-2880, got {minutes}"));
        }
    }
    Ok(())
}

/// Validates targeting and features; Cutover deploys in place to on-premises instances selected by tags, or (ECS)
/// a container service to the hosts of its cluster.
fn validate_settings(settings: &wire::DeploymentGroupInfo, traffic: &Traffic, platform: &str) -> ApiResult<()> {
    let (filters, tag_set) =
        convert::group_targeting(settings).map_err(|message| ApiError::new("InvalidTagException", message))?;
    tags::validate_filters(&filters, &tag_set)
        .map_err(|error| ApiError::new(error.exception_name(), error.to_string()))?;
    let ec2 = convert::domain_filters(
        settings
            .ec2_tag_filters
            .as_deref()
            .unwrap_or_default()
            .iter()
            .map(|f| wire::TagFilter { key: f.key.clone(), value: f.value.clone(), type_: f.type_.clone() })
            .collect::<Vec<_>>()
            .as_slice(),
    )
    .map_err(|message| ApiError::new("InvalidEC2TagException", message))?;
    if !ec2.is_empty() || settings.ec2_tag_set.is_some() {
        // Cutover has no EC2 inventory: hosts are on-premises instances registered by their agents.
        return Err(ApiError::new(
            "InvalidEC2TagException",
            "EC2 tag filters are not supported: Cutover targets on-premises instances; use onPremisesInstanceTagFilters",
        ));
    }
    if platform == "ECS" {
        crate::ecs::group_settings(settings, traffic)?;
    } else if settings.ecs_services.as_ref().is_some_and(|services| !services.is_empty()) {
        return Err(ApiError::new(
            "InvalidECSServiceException",
            format!("ecsServices apply to applications whose computePlatform is ECS, not {platform}"),
        ));
    } else {
        validate_traffic(settings, traffic)?;
    }
    if let Some(rollback) = &settings.auto_rollback_configuration {
        for event in rollback.events.iter().flatten() {
            if !wire::AUTO_ROLLBACK_EVENT_VALUES.contains(&event.as_str()) {
                return Err(ApiError::new(
                    "InvalidAutoRollbackConfigException",
                    format!("unknown auto-rollback event {event:?}"),
                ));
            }
        }
    }
    // --- Triggers and alarms (triggers.rs, alarms.rs) ---
    if let Some(triggers) = &settings.trigger_configurations {
        crate::triggers::validate(triggers)?;
    }
    if let Some(alarms) = &settings.alarm_configuration {
        crate::alarms::validate_configuration(alarms)?;
    }
    // --- end triggers and alarms ---
    if let Some(strategy) = settings.outdated_instances_strategy.as_deref()
        && !wire::OUTDATED_INSTANCES_STRATEGY_VALUES.contains(&strategy)
    {
        return Err(ApiError::new(
            "InvalidInputException",
            format!("outdatedInstancesStrategy {strategy:?} is not UPDATE or IGNORE"),
        ));
    }
    Ok(())
}

/// The group's configuration must suit its application's platform; a Server blue/green group may also use a
/// time-based (canary/linear) configuration of any platform, which shifts its traffic by weight.
async fn check_config(tx: &mut Tx, name: &str, platform: &str, settings: &wire::DeploymentGroupInfo) -> ApiResult<()> {
    use cutover_domain::config::{ComputePlatform, TrafficRouting};
    match convert::find_config(tx, name).await? {
        Some((config, _)) if platform == "Lambda" && config.compute_platform == ComputePlatform::Lambda => Ok(()),
        Some((config, _)) if platform == "Server" && config.compute_platform == ComputePlatform::Server => Ok(()),
        Some((config, _)) if platform == "ECS" && config.compute_platform == ComputePlatform::Ecs => Ok(()),
        Some((config, _))
            if platform == "Server"
                && style(settings).0
                && !matches!(config.effective_traffic_routing(), TrafficRouting::AllAtOnce) =>
        {
            Ok(())
        }
        Some(_) => Err(ApiError::new(
            "InvalidDeploymentConfigNameException",
            format!("deployment config {name} is not for the {platform} compute platform"),
        )),
        None => Err(ApiError::new(
            "DeploymentConfigDoesNotExistException",
            format!("The deployment configuration {name} does not exist with the user or AWS account."),
        )),
    }
}

/// An ECS service is deployed by one deployment group: two would fight over its task sets and routes.
async fn check_service_mapping(
    tx: &mut Tx,
    settings: &wire::DeploymentGroupInfo,
    traffic: &Traffic,
    group_id: Option<&str>,
) -> ApiResult<()> {
    let group = crate::ecs::group_settings(settings, traffic)?;
    for app in tx.list_applications().await? {
        if app.compute_platform != "ECS" {
            continue;
        }
        for row in tx.list_deployment_groups(&app.id).await? {
            if Some(row.id.as_str()) == group_id {
                continue;
            }
            let other: wire::DeploymentGroupInfo = serde_json::from_str(&row.spec)?;
            let same = other.ecs_services.iter().flatten().any(|service| {
                service.cluster_name.as_deref() == Some(group.cluster.as_str())
                    && service.service_name.as_deref() == Some(group.service.as_str())
            });
            if same {
                return Err(ApiError::new(
                    "ECSServiceMappingLimitExceededException",
                    format!(
                        "The ECS service {} of cluster {} is already deployed by deployment group {} of application {}.",
                        group.service, group.cluster, row.name, app.name
                    ),
                ));
            }
        }
    }
    Ok(())
}

async fn last_deployment(tx: &mut Tx, id: &Option<String>) -> ApiResult<Option<wire::LastDeploymentInfo>> {
    let Some(id) = id else { return Ok(None) };
    Ok(tx.deployment(id).await?.map(|row| wire::LastDeploymentInfo {
        deployment_id: Some(row.id),
        status: Some(row.status),
        end_time: row.complete_time.map(seconds),
        create_time: Some(seconds(row.create_time)),
    }))
}

pub(crate) async fn info(
    tx: &mut Tx,
    row: &DeploymentGroupRow,
    compute_platform: &str,
) -> ApiResult<wire::DeploymentGroupInfo> {
    let mut info: wire::DeploymentGroupInfo = serde_json::from_str(&row.spec)?;
    info.application_name = Some(row.application_name.clone());
    info.deployment_group_id = Some(row.id.clone());
    info.deployment_group_name = Some(row.name.clone());
    info.deployment_config_name = Some(row.config_name.clone());
    info.target_revision = row.target_revision.as_deref().and_then(|json| serde_json::from_str(json).ok());
    info.compute_platform = Some(compute_platform.to_owned());
    info.last_successful_deployment = last_deployment(tx, &row.last_successful_deployment_id).await?;
    info.last_attempted_deployment = last_deployment(tx, &row.last_attempted_deployment_id).await?;
    info.deployment_style.get_or_insert_with(|| wire::DeploymentStyle {
        deployment_type: Some("IN_PLACE".to_owned()),
        deployment_option: Some("WITHOUT_TRAFFIC_CONTROL".to_owned()),
    });
    info.outdated_instances_strategy.get_or_insert_with(|| "UPDATE".to_owned());
    Ok(info)
}

pub(crate) async fn group(tx: &mut Tx, application_id: &str, name: &str) -> ApiResult<DeploymentGroupRow> {
    tx.deployment_group_by_name(application_id, name).await?.ok_or_else(|| {
        ApiError::new(
            "DeploymentGroupDoesNotExistException",
            format!("The deployment group {name} does not exist with the user or AWS account."),
        )
    })
}

pub(crate) async fn create(
    state: AppState,
    input: wire::CreateDeploymentGroupInput,
) -> ApiResult<wire::CreateDeploymentGroupOutput> {
    let app_name = required(&input.application_name, "ApplicationNameRequiredException", "applicationName")?;
    let name = required(&input.deployment_group_name, "DeploymentGroupNameRequiredException", "deploymentGroupName")?;
    valid_name(name, "InvalidDeploymentGroupNameException", "deployment group name")?;
    reject_auto_scaling_groups(&input.auto_scaling_groups)?;
    let mut settings = settings_from_create(&input);
    let mut tx = state.store().begin().await?;
    let app = application(&mut tx, app_name).await?;
    let lambda = app.compute_platform == "Lambda";
    let ecs = app.compute_platform == "ECS";
    if ecs {
        // ECS deployments always replace the task set and shift traffic (CodeDeploy fixes the style).
        settings.deployment_style.get_or_insert(wire::DeploymentStyle {
            deployment_type: Some("BLUE_GREEN".to_owned()),
            deployment_option: Some("WITH_TRAFFIC_CONTROL".to_owned()),
        });
    }
    if lambda {
        // Lambda deployments always shift traffic (CodeDeploy fixes the style); the function is in the AppSpec.
        settings.deployment_style = Some(wire::DeploymentStyle {
            deployment_type: Some("BLUE_GREEN".to_owned()),
            deployment_option: Some("WITH_TRAFFIC_CONTROL".to_owned()),
        });
        if let Some(alarms) = &settings.alarm_configuration {
            crate::alarms::validate_configuration(alarms)?;
        }
    } else {
        validate_settings(&settings, &state.inner.traffic, &app.compute_platform)?;
    }
    if ecs {
        check_service_mapping(&mut tx, &settings, &state.inner.traffic, None).await?;
    }
    let tags = super::tags::tags_to_add(input.tags.as_deref())?;
    let default_config = match app.compute_platform.as_str() {
        "Lambda" => "CodeDeployDefault.LambdaAllAtOnce",
        "ECS" => "CodeDeployDefault.ECSAllAtOnce",
        _ => cutover_domain::config::DEFAULT_CONFIG,
    };
    let config_name = input.deployment_config_name.clone().unwrap_or_else(|| default_config.to_owned());
    check_config(&mut tx, &config_name, &app.compute_platform, &settings).await?;
    let row = DeploymentGroupRow {
        id: state.inner.clock.uuid(),
        application_id: app.id.clone(),
        application_name: app.name.clone(),
        name: name.to_owned(),
        config_name,
        spec: serde_json::to_string(&settings)?,
        target_revision: None,
        last_successful_deployment_id: None,
        last_attempted_deployment_id: None,
        active_deployment_id: None,
        create_time: state.inner.clock.now_ms(),
    };
    tx.insert_deployment_group(&row).await.map_err(|error| match error {
        StoreError::Conflict(_) => ApiError::new(
            "DeploymentGroupAlreadyExistsException",
            format!("The deployment group {name} already exists with the application {}.", app.name),
        ),
        other => other.into(),
    })?;
    tx.put_resource_tags(super::tags::DEPLOYMENT_GROUP, &row.id, &tags).await?;
    tx.commit().await?;
    Ok(wire::CreateDeploymentGroupOutput { deployment_group_id: Some(row.id) })
}

pub(crate) async fn get(
    state: AppState,
    input: wire::GetDeploymentGroupInput,
) -> ApiResult<wire::GetDeploymentGroupOutput> {
    let app_name = required(&input.application_name, "ApplicationNameRequiredException", "applicationName")?;
    let name = required(&input.deployment_group_name, "DeploymentGroupNameRequiredException", "deploymentGroupName")?;
    let mut tx = state.store().begin().await?;
    let app = application(&mut tx, app_name).await?;
    let row = group(&mut tx, &app.id, name).await?;
    Ok(wire::GetDeploymentGroupOutput {
        deployment_group_info: Some(info(&mut tx, &row, &app.compute_platform).await?),
    })
}

pub(crate) async fn batch_get(
    state: AppState,
    input: wire::BatchGetDeploymentGroupsInput,
) -> ApiResult<wire::BatchGetDeploymentGroupsOutput> {
    let app_name = required(&input.application_name, "ApplicationNameRequiredException", "applicationName")?;
    let names = input.deployment_group_names.unwrap_or_default();
    if names.is_empty() {
        return Err(ApiError::new("DeploymentGroupNameRequiredException", "deploymentGroupNames is required"));
    }
    if names.len() > 100 {
        return Err(ApiError::new(
            "BatchLimitExceededException",
            "The maximum number of names allowed for this request (100) was exceeded.",
        ));
    }
    let mut tx = state.store().begin().await?;
    let app = application(&mut tx, app_name).await?;
    let mut infos = Vec::new();
    let mut missing = Vec::new();
    for name in &names {
        match tx.deployment_group_by_name(&app.id, name).await? {
            Some(row) => infos.push(info(&mut tx, &row, &app.compute_platform).await?),
            None => missing.push(name.clone()),
        }
    }
    Ok(wire::BatchGetDeploymentGroupsOutput {
        deployment_groups_info: Some(infos),
        error_message: (!missing.is_empty()).then(|| format!("Deployment groups not found: {}", missing.join(", "))),
    })
}

pub(crate) async fn list(
    state: AppState,
    input: wire::ListDeploymentGroupsInput,
) -> ApiResult<wire::ListDeploymentGroupsOutput> {
    let app_name = required(&input.application_name, "ApplicationNameRequiredException", "applicationName")?;
    let mut tx = state.store().begin().await?;
    let app = application(&mut tx, app_name).await?;
    let names: Vec<String> = tx.list_deployment_groups(&app.id).await?.into_iter().map(|row| row.name).collect();
    let (page, next_token) = paginate(&names, &input.next_token)?;
    Ok(wire::ListDeploymentGroupsOutput { application_name: Some(app.name), deployment_groups: Some(page), next_token })
}

pub(crate) async fn update(
    state: AppState,
    input: wire::UpdateDeploymentGroupInput,
) -> ApiResult<wire::UpdateDeploymentGroupOutput> {
    let app_name = required(&input.application_name, "ApplicationNameRequiredException", "applicationName")?;
    let name = required(
        &input.current_deployment_group_name,
        "DeploymentGroupNameRequiredException",
        "currentDeploymentGroupName",
    )?;
    let mut tx = state.store().begin().await?;
    let app = application(&mut tx, app_name).await?;
    let mut row = group(&mut tx, &app.id, name).await?;
    let mut settings: wire::DeploymentGroupInfo = serde_json::from_str(&row.spec)?;
    macro_rules! replace {
        ($($field:ident),*) => { $( if input.$field.is_some() { settings.$field = input.$field.clone(); } )* };
    }
    replace!(
        ec2_tag_filters,
        on_premises_instance_tag_filters,
        service_role_arn,
        trigger_configurations,
        alarm_configuration,
        auto_rollback_configuration,
        outdated_instances_strategy,
        deployment_style,
        blue_green_deployment_configuration,
        load_balancer_info,
        ec2_tag_set,
        ecs_services,
        on_premises_tag_set,
        ec2_deployment_options,
        termination_hook_enabled
    );
    reject_auto_scaling_groups(&input.auto_scaling_groups)?;
    if app.compute_platform != "Lambda" {
        validate_settings(&settings, &state.inner.traffic, &app.compute_platform)?;
    }
    if app.compute_platform == "ECS" {
        check_service_mapping(&mut tx, &settings, &state.inner.traffic, Some(&row.id)).await?;
    }
    if let Some(config_name) = &input.deployment_config_name {
        check_config(&mut tx, config_name, &app.compute_platform, &settings).await?;
        row.config_name = config_name.clone();
    }
    if let Some(new_name) = input.new_deployment_group_name.as_deref().filter(|n| !n.is_empty()) {
        valid_name(new_name, "InvalidDeploymentGroupNameException", "deployment group name")?;
        row.name = new_name.to_owned();
    }
    row.spec = serde_json::to_string(&settings)?;
    tx.update_deployment_group(&row).await.map_err(|error| match error {
        StoreError::Conflict(_) => ApiError::new(
            "DeploymentGroupAlreadyExistsException",
            format!("The deployment group {} already exists with the application {}.", row.name, app.name),
        ),
        other => other.into(),
    })?;
    tx.commit().await?;
    Ok(wire::UpdateDeploymentGroupOutput { hooks_not_cleaned_up: Some(Vec::new()) })
}

pub(crate) async fn delete(
    state: AppState,
    input: wire::DeleteDeploymentGroupInput,
) -> ApiResult<wire::DeleteDeploymentGroupOutput> {
    let app_name = required(&input.application_name, "ApplicationNameRequiredException", "applicationName")?;
    let name = required(&input.deployment_group_name, "DeploymentGroupNameRequiredException", "deploymentGroupName")?;
    let mut tx = state.store().begin().await?;
    // As DeleteApplication: deleting what does not exist succeeds (the model has no "does not exist" error here).
    let Some(app) = tx.application_by_name(app_name).await? else {
        return Ok(wire::DeleteDeploymentGroupOutput { hooks_not_cleaned_up: Some(Vec::new()) });
    };
    if let Some(row) = tx.deployment_group_by_name(&app.id, name).await? {
        if let Some(active) = &row.active_deployment_id {
            return Err(ApiError::new(
                "InvalidOperationException",
                format!("deployment group {name} has an active deployment ({active}); stop it first"),
            ));
        }
        tx.delete_resource_tags(super::tags::DEPLOYMENT_GROUP, &row.id).await?;
        tx.delete_deployment_group(&row.id).await?;
    }
    tx.commit().await?;
    Ok(wire::DeleteDeploymentGroupOutput { hooks_not_cleaned_up: Some(Vec::new()) })
}
