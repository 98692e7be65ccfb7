//! Deployments and their targets: Create, Get, BatchGet, List, Stop; targets and the older instance operations.

use cutover_api_types::agent::BundleSpec;
use cutover_api_types::codedeploy as wire;
use cutover_domain::config::TrafficRouting;
use cutover_domain::lifecycle::LifecycleEvent;
use cutover_domain::planner::{self, Candidate, InstanceHealth, RevisionHealth};
use cutover_domain::tags;
use cutover_domain::traffic::{Role, blue_green_events};
use cutover_store::{
    DeploymentFilter, DeploymentRow, EventRow, PlannedEvent, PlannedTarget, RevisionRow, TargetRow, Tx,
};

use super::groups::group;
use super::{application, paginate, required};
use crate::convert::{self, DeploymentOptions, seconds};
use crate::error::{ApiError, ApiResult};
use crate::traffic::BlueGreen;
use crate::{AppState, orchestrator};

/// Loads a deployment by id or answers DeploymentDoesNotExistException.
pub(crate) async fn deployment(tx: &mut Tx, id: &str) -> ApiResult<DeploymentRow> {
    tx.deployment(id).await?.ok_or_else(|| {
        ApiError::new(
            "DeploymentDoesNotExistException",
            format!("The deployment {id} does not exist with the user or AWS account."),
        )
    })
}

pub(crate) async fn create(
    state: AppState,
    input: wire::CreateDeploymentInput,
) -> ApiResult<wire::CreateDeploymentOutput> {
    let app_name = required(&input.application_name, "ApplicationNameRequiredException", "applicationName")?;
    let group_name =
        required(&input.deployment_group_name, "DeploymentGroupNameRequiredException", "deploymentGroupName")?;
    if input.description.as_ref().is_some_and(|d| d.chars().count() > 256) {
        return Err(ApiError::new(
            "DescriptionTooLongException",
            "The description is too long (at most 256 characters).",
        ));
    }
    if let Some(behavior) = input.file_exists_behavior.as_deref()
        && !wire::FILE_EXISTS_BEHAVIOR_VALUES.contains(&behavior)
    {
        return Err(ApiError::new(
            "InvalidFileExistsBehaviorException",
            format!("fileExistsBehavior {behavior:?} is not DISALLOW, OVERWRITE or RETAIN"),
        ));
    }
    if let Some(mode) = input.deployment_mode.as_deref().filter(|mode| *mode != "STANDARD") {
        return Err(ApiError::new(
            "OperationNotSupportedException",
            format!("deploymentMode {mode} is not supported yet"),
        ));
    }
    if let Some(alarms) = &input.override_alarm_configuration {
        crate::alarms::validate_configuration(alarms)?;
    }
    if let Some(rollback) = &input.auto_rollback_configuration {
        for event in rollback.events.iter().flatten() {
            if !wire::AUTO_ROLLBACK_EVENT_VALUES.contains(&event.as_str()) {
                return Err(ApiError::new(
                    "InvalidAutoRollbackConfigException",
                    format!("unknown auto-rollback event {event:?}"),
                ));
            }
        }
    }
    let now = state.inner.clock.now_ms();
    let mut tx = state.store().begin().await?;
    let app = application(&mut tx, app_name).await?;
    let group_row = group(&mut tx, &app.id, group_name).await?;
    let revision = match &input.revision {
        Some(revision) => revision.clone(),
        None => {
            group_row.target_revision.as_deref().and_then(|json| serde_json::from_str(json).ok()).ok_or_else(|| {
                ApiError::new(
                    "RevisionRequiredException",
                    "revision is required: the deployment group has no target revision yet",
                )
            })?
        }
    };
    if app.compute_platform == "Lambda" {
        return create_function_deployment(&state, tx, &input, &app, &group_row, revision, now).await;
    }
    if app.compute_platform == "ECS" {
        return create_container_deployment(&state, tx, &input, &app, &group_row, revision, now).await;
    }
    super::revisions::validate(&Some(revision.clone()))?;
    if matches!(revision.revision_type.as_deref(), Some("String" | "AppSpecContent")) {
        return Err(ApiError::new(
            "InvalidRevisionException",
            format!(
                "{} revisions (an inline AppSpec) deploy Lambda functions; application {} deploys to servers from a bundle (S3 or GitHub)",
                revision.revision_type.as_deref().unwrap_or_default(),
                app.name
            ),
        ));
    }
    let bundle = resolve_bundle(&mut tx, &revision).await?;
    let bundle = super::security::require_signature(&mut tx, &group_row.id, group_name, bundle).await?;
    let config_name = input.deployment_config_name.clone().unwrap_or_else(|| group_row.config_name.clone());
    let settings: wire::DeploymentGroupInfo = serde_json::from_str(&group_row.spec)?;
    let (blue_green, traffic_control) = super::groups::style(&settings);
    if input.target_instances.is_some() && !blue_green {
        return Err(ApiError::new(
            "InvalidTargetInstancesException",
            "targetInstances applies only to blue/green deployments (the group's deploymentType is IN_PLACE)",
        ));
    }
    let invalid_config = |message: String| Err(ApiError::new("InvalidDeploymentConfigNameException", message));
    let (zonal, routing) = match convert::find_config(&mut tx, &config_name).await? {
        Some((config, row)) => {
            let routing = config.effective_traffic_routing();
            let weighted = !matches!(routing, TrafficRouting::AllAtOnce);
            let server = config.compute_platform == cutover_domain::config::ComputePlatform::Server;
            let zonal = row.as_ref().and_then(convert::zonal_from_row).is_some();
            if weighted && !blue_green {
                return invalid_config(format!(
                    "deployment config {config_name} shifts traffic by weight ({}), which needs a BLUE_GREEN deployment group",
                    routing.wire_type()
                ));
            }
            if !server && !weighted {
                return invalid_config(format!(
                    "deployment config {config_name} is not for the Server compute platform"
                ));
            }
            if zonal && blue_green {
                return invalid_config(format!(
                    "deployment config {config_name} is zonal, which applies to in-place deployments only"
                ));
            }
            (zonal, routing)
        }
        None => {
            return Err(ApiError::new(
                "DeploymentConfigDoesNotExistException",
                format!("The deployment configuration {config_name} does not exist with the user or AWS account."),
            ));
        }
    };
    let revision_key = convert::revision_key(&revision);
    let outdated_only = input.update_outdated_instances_only.unwrap_or(false);
    let (mut targets, zones) =
        ordered_targets(&state, &mut tx, &group_row.id, &settings, &revision_key, outdated_only, zonal).await?;
    let bg_config = settings.blue_green_deployment_configuration.clone().unwrap_or_default();
    let provisioned = bg_config.green_fleet_provisioning_option.as_ref().and_then(|option| option.action.as_deref())
        == Some("COPY_AUTO_SCALING_GROUP");
    let green = if blue_green {
        if provisioned {
            // Cutover's counterpart of copying an Auto Scaling group: the fleet's provision command makes the hosts.
            if input.target_instances.is_some() {
                return Err(ApiError::new(
                    "InvalidTargetInstancesException",
                    "targetInstances applies to greenFleetProvisioningOption DISCOVER_EXISTING; this group provisions \
                     its replacement hosts (COPY_AUTO_SCALING_GROUP)",
                ));
            }
            let has_command =
                state.inner.traffic.fleet(app_name, group_name).is_some_and(|fleet| fleet.provision_command.is_some());
            if !has_command {
                return Err(ApiError::new(
                    "InvalidBlueGreenDeploymentConfigurationException",
                    format!(
                        "greenFleetProvisioningOption COPY_AUTO_SCALING_GROUP needs a [[fleet]] with a provision_command \
                         for {app_name}/{group_name} in the server's traffic file"
                    ),
                ));
            }
            Vec::new()
        } else {
            let green = replacement_instances(&mut tx, input.target_instances.as_ref()).await?;
            targets.retain(|name| !green.contains(name));
            green
        }
    } else {
        Vec::new()
    };

    let id = state.inner.clock.deployment_id();
    claim_group(&mut tx, &group_row, &id).await?;
    let options = DeploymentOptions {
        description: input.description.clone(),
        ignore_application_stop_failures: input.ignore_application_stop_failures.unwrap_or(false),
        file_exists_behavior: input.file_exists_behavior.clone(),
        update_outdated_instances_only: input.update_outdated_instances_only.unwrap_or(false),
        auto_rollback_configuration: input
            .auto_rollback_configuration
            .clone()
            .or(settings.auto_rollback_configuration.clone()),
        rollback_info: None,
        deployment_style: settings.deployment_style.clone(),
        stop_auto_rollback: None,
        stopped_by_alarm: None,
        zone_bake: None,
        override_alarm_configuration: input.override_alarm_configuration.clone(),
        target_groups: if traffic_control { super::groups::target_group_names(&settings) } else { Vec::new() },
        blue_green: blue_green.then(|| {
            let mut options = blue_green_options(&bg_config, routing, false);
            if provisioned {
                options.provision = Some(crate::traffic::Provision {
                    count: targets.len().max(1),
                    tag_value: id.clone(),
                    ..Default::default()
                });
            }
            options
        }),
        function: None,
        container: None,
    };
    let revision_json = serde_json::to_string(&revision)?;
    let row =
        created_row(&id, &app, &group_row, config_name, &revision_json, serde_json::to_string(&bundle)?, &options, now);
    let plan = plan_targets(&targets, &green, blue_green, traffic_control, false);
    tx.insert_deployment_plan(&row, &plan).await?;
    for (name, zone) in &zones {
        tx.set_target_zone(&id, name, zone.as_deref()).await?;
    }
    record_revision_use(&mut tx, &app.id, &revision_key, revision_json, now).await?;
    tx.commit().await?;
    tracing::info!(message = "Deployment created.", deployment_id = %id, targets = plan.len());
    orchestrator::advance(&state, &id, None).await?;
    Ok(wire::CreateDeploymentOutput { deployment_id: Some(id) })
}

/// A new deployment's row, in status Created, by a user.
#[allow(clippy::too_many_arguments)]
fn created_row(
    id: &str,
    app: &cutover_store::ApplicationRow,
    group_row: &cutover_store::DeploymentGroupRow,
    config_name: String,
    revision_json: &str,
    bundle: String,
    options: &DeploymentOptions,
    now: i64,
) -> DeploymentRow {
    DeploymentRow {
        id: id.to_owned(),
        application_id: app.id.clone(),
        application_name: app.name.clone(),
        deployment_group_id: group_row.id.clone(),
        deployment_group_name: group_row.name.clone(),
        config_name,
        status: "Created".to_owned(),
        creator: "user".to_owned(),
        revision: revision_json.to_owned(),
        bundle,
        previous_revision: group_row.target_revision.clone(),
        options: options.to_json(),
        min_healthy: None,
        error_code: None,
        error_message: None,
        stop_requested: false,
        create_time: now,
        start_time: None,
        complete_time: None,
    }
}

/// Makes `id` the group's one active deployment, or answers DeploymentLimitExceededException.
async fn claim_group(tx: &mut Tx, group_row: &cutover_store::DeploymentGroupRow, id: &str) -> ApiResult<()> {
    if tx.claim_group_for_deployment(&group_row.id, id).await? {
        return Ok(());
    }
    Err(ApiError::new(
        "DeploymentLimitExceededException",
        format!(
            "The deployment group {} already has an active deployment ({}).",
            group_row.name,
            group_row.active_deployment_id.as_deref().unwrap_or("unknown")
        ),
    ))
}

/// CodeDeploy registers a revision the first time it is deployed, and notes every use.
async fn record_revision_use(
    tx: &mut Tx,
    application_id: &str,
    revision_key: &str,
    location: String,
    now: i64,
) -> ApiResult<()> {
    tx.upsert_revision(&RevisionRow {
        application_id: application_id.to_owned(),
        revision_key: revision_key.to_owned(),
        location,
        description: None,
        register_time: now,
        first_used_time: None,
        last_used_time: None,
    })
    .await?;
    tx.mark_revision_used(application_id, revision_key, now).await?;
    Ok(())
}

/// The AppSpec text of a Lambda revision: inline (`AppSpecContent`, or the older `String`).
fn inline_appspec(revision: &wire::RevisionLocation, platform: &str) -> ApiResult<String> {
    let invalid = |message: String| Err(ApiError::new("InvalidRevisionException", message));
    let (content, sha256) = match revision.revision_type.as_deref() {
        Some("AppSpecContent") => {
            let content = revision.app_spec_content.as_ref();
            (content.and_then(|c| c.content.clone()), content.and_then(|c| c.sha256.clone()))
        }
        Some("String") => {
            let content = revision.string.as_ref();
            (content.and_then(|c| c.content.clone()), content.and_then(|c| c.sha256.clone()))
        }
        other => {
            return invalid(format!(
                "a {platform} deployment's revision is its AppSpec, given inline: revisionType AppSpecContent (or String), got {other:?}"
            ));
        }
    };
    let Some(content) = content.filter(|content| !content.trim().is_empty()) else {
        return invalid("the revision's AppSpec content is empty".to_owned());
    };
    if let Some(expected) = sha256.filter(|sha| !sha.is_empty()) {
        use sha2::Digest;
        let actual = hex::encode(sha2::Sha256::digest(content.as_bytes()));
        if !actual.eq_ignore_ascii_case(&expected) {
            return invalid(format!("the AppSpec content's SHA-256 is {actual}, not {expected}"));
        }
    }
    Ok(content)
}

/// CreateDeployment for a Lambda application: the AppSpec names the function, its alias and the two versions; the
/// deployment has one target (`<function>:<alias>`) whose three events the server runs.
async fn create_function_deployment(
    state: &AppState,
    mut tx: Tx,
    input: &wire::CreateDeploymentInput,
    app: &cutover_store::ApplicationRow,
    group_row: &cutover_store::DeploymentGroupRow,
    revision: wire::RevisionLocation,
    now: i64,
) -> ApiResult<wire::CreateDeploymentOutput> {
    if input.target_instances.is_some() {
        return Err(ApiError::new(
            "InvalidTargetInstancesException",
            "targetInstances applies to Server blue/green deployments",
        ));
    }
    let text = inline_appspec(&revision, "Lambda")?;
    let spec = cutover_domain::appspec::parse_lambda(&text).map_err(|diagnostics| {
        let lines: Vec<String> = diagnostics.iter().map(ToString::to_string).collect();
        ApiError::new("InvalidRevisionException", format!("the Lambda AppSpec is invalid:\n{}", lines.join("\n")))
    })?;
    crate::functions::check_deployable(state, &spec.function)
        .map_err(|message| ApiError::new("InvalidRevisionException", message))?;
    let config_name = input.deployment_config_name.clone().unwrap_or_else(|| group_row.config_name.clone());
    let routing = traffic_routing(&mut tx, &config_name, cutover_domain::config::ComputePlatform::Lambda).await?;
    let settings: wire::DeploymentGroupInfo = serde_json::from_str(&group_row.spec)?;
    let id = state.inner.clock.deployment_id();
    claim_group(&mut tx, group_row, &id).await?;
    let function = &spec.function;
    let options = DeploymentOptions {
        function: Some(crate::functions::FunctionDeployment {
            name: function.name.clone(),
            alias: function.alias.clone(),
            current_version: function.current_version.clone(),
            target_version: function.target_version.clone(),
            hooks: spec.hooks.iter().map(|(event, name)| (event.as_str().to_owned(), name.clone())).collect(),
            routing: Some(routing.into()),
            ..Default::default()
        }),
        ..traffic_shifting_options(input, &settings)
    };
    let revision_json = serde_json::to_string(&revision)?;
    let row = created_row(&id, app, group_row, config_name, &revision_json, "{}".to_owned(), &options, now);
    let target = PlannedTarget {
        instance_name: format!("{}:{}", function.name, function.alias),
        role: None,
        events: [LifecycleEvent::BeforeAllowTraffic, LifecycleEvent::AllowTraffic, LifecycleEvent::AfterAllowTraffic]
            .iter()
            .map(|event| PlannedEvent::server(event.as_str(), 0))
            .collect(),
    };
    tx.insert_deployment_plan(&row, &[target]).await?;
    let revision_key = convert::revision_key(&revision);
    record_revision_use(&mut tx, &app.id, &revision_key, revision_json, now).await?;
    tx.commit().await?;
    tracing::info!(message = "Function deployment created.", deployment_id = %id, function = %function.name, alias = %function.alias);
    orchestrator::advance(state, &id, None).await?;
    Ok(wire::CreateDeploymentOutput { deployment_id: Some(id) })
}

/// The traffic routing of a Lambda or ECS deployment's configuration, which must be of that platform.
async fn traffic_routing(
    tx: &mut Tx,
    config_name: &str,
    platform: cutover_domain::config::ComputePlatform,
) -> ApiResult<cutover_domain::config::TrafficRouting> {
    match convert::find_config(tx, config_name).await? {
        Some((config, _)) if config.compute_platform == platform => Ok(config.effective_traffic_routing()),
        Some(_) => Err(ApiError::new(
            "InvalidDeploymentConfigNameException",
            format!("deployment config {config_name} is not for the {} compute platform", platform.as_str()),
        )),
        None => Err(ApiError::new(
            "DeploymentConfigDoesNotExistException",
            format!("The deployment configuration {config_name} does not exist with the user or AWS account."),
        )),
    }
}

/// The options every Lambda and ECS deployment has (they always shift traffic blue/green).
fn traffic_shifting_options(
    input: &wire::CreateDeploymentInput,
    settings: &wire::DeploymentGroupInfo,
) -> DeploymentOptions {
    DeploymentOptions {
        description: input.description.clone(),
        auto_rollback_configuration: input
            .auto_rollback_configuration
            .clone()
            .or(settings.auto_rollback_configuration.clone()),
        deployment_style: Some(wire::DeploymentStyle {
            deployment_type: Some("BLUE_GREEN".to_owned()),
            deployment_option: Some("WITH_TRAFFIC_CONTROL".to_owned()),
        }),
        override_alarm_configuration: input.override_alarm_configuration.clone(),
        ..DeploymentOptions::default()
    }
}

/// CreateDeployment for an ECS application: the AppSpec holds the task definition and the load balancer target;
/// the group names the service and its routes. The deployment has one target (`<cluster>:<service>`) whose eight
/// events the server runs (`ecs.rs`).
async fn create_container_deployment(
    state: &AppState,
    mut tx: Tx,
    input: &wire::CreateDeploymentInput,
    app: &cutover_store::ApplicationRow,
    group_row: &cutover_store::DeploymentGroupRow,
    revision: wire::RevisionLocation,
    now: i64,
) -> ApiResult<wire::CreateDeploymentOutput> {
    if input.target_instances.is_some() {
        return Err(ApiError::new(
            "InvalidTargetInstancesException",
            "targetInstances applies to Server blue/green deployments; an ECS deployment runs on its cluster's hosts",
        ));
    }
    let text = inline_appspec(&revision, "ECS")?;
    let spec = cutover_domain::appspec::parse_ecs(&text).map_err(|diagnostics| {
        let lines: Vec<String> = diagnostics.iter().map(ToString::to_string).collect();
        ApiError::new("InvalidRevisionException", format!("the ECS AppSpec is invalid:\n{}", lines.join("\n")))
    })?;
    let settings: wire::DeploymentGroupInfo = serde_json::from_str(&group_row.spec)?;
    let group = crate::ecs::group_settings(&settings, &state.inner.traffic)?;
    let config_name = input.deployment_config_name.clone().unwrap_or_else(|| group_row.config_name.clone());
    let routing = traffic_routing(&mut tx, &config_name, cutover_domain::config::ComputePlatform::Ecs).await?;
    let container = crate::ecs::plan(&group, &spec, routing)?;
    let key = crate::ecs::service_key(&group.cluster, &group.service);
    if let Some(busy) = tx.task_sets_of_service(&key).await?.into_iter().find(|row| row.role == "replacement") {
        return Err(ApiError::new(
            "DeploymentLimitExceededException",
            format!(
                "service {key} is still being rolled back from deployment {} (its replacement task set is being removed); try again shortly",
                busy.deployment_id
            ),
        ));
    }
    let id = state.inner.clock.deployment_id();
    claim_group(&mut tx, group_row, &id).await?;
    let target = PlannedTarget {
        instance_name: format!("{}:{}", group.cluster, group.service),
        role: None,
        events: [
            LifecycleEvent::BeforeInstall,
            LifecycleEvent::Install,
            LifecycleEvent::AfterInstall,
            LifecycleEvent::AllowTestTraffic,
            LifecycleEvent::AfterAllowTestTraffic,
            LifecycleEvent::BeforeAllowTraffic,
            LifecycleEvent::AllowTraffic,
            LifecycleEvent::AfterAllowTraffic,
        ]
        .iter()
        .map(|event| PlannedEvent::server(event.as_str(), 0))
        .collect(),
    };
    let options = DeploymentOptions { container: Some(container), ..traffic_shifting_options(input, &settings) };
    let revision_json = serde_json::to_string(&revision)?;
    let row = created_row(&id, app, group_row, config_name, &revision_json, "{}".to_owned(), &options, now);
    tx.insert_deployment_plan(&row, &[target]).await?;
    let revision_key = convert::revision_key(&revision);
    record_revision_use(&mut tx, &app.id, &revision_key, revision_json, now).await?;
    tx.commit().await?;
    tracing::info!(message = "ECS deployment created.", deployment_id = %id, cluster = %group.cluster, service = %group.service);
    orchestrator::advance(state, &id, None).await?;
    Ok(wire::CreateDeploymentOutput { deployment_id: Some(id) })
}

/// The targets of a deployment with their events: in place (with the traffic events when the group uses traffic
/// control), or blue/green (`originals` Blue, `replacements` Green, replacements first; a rollback swaps what each
/// side runs). The dispatch order is the order given.
pub(crate) fn plan_targets(
    originals: &[String],
    replacements: &[String],
    blue_green: bool,
    traffic_control: bool,
    rollback: bool,
) -> Vec<PlannedTarget> {
    let event = |event: LifecycleEvent, phase: i64| {
        if event.is_server_run() && traffic_control {
            PlannedEvent::server(event.as_str(), phase)
        } else {
            PlannedEvent::agent(event.as_str(), phase)
        }
    };
    if !blue_green {
        let events: &[LifecycleEvent] =
            if traffic_control { &LifecycleEvent::IN_PLACE_WITH_TRAFFIC_CONTROL } else { &LifecycleEvent::IN_PLACE };
        return originals
            .iter()
            .map(|name| PlannedTarget {
                instance_name: name.clone(),
                role: None,
                events: events.iter().map(|name| event(*name, 0)).collect(),
            })
            .collect();
    }
    let planned = |name: &String, role: Role| PlannedTarget {
        instance_name: name.clone(),
        role: Some(role.as_str().to_owned()),
        events: blue_green_events(role, rollback).into_iter().map(|(name, phase)| event(name, phase)).collect(),
    };
    replacements
        .iter()
        .map(|name| planned(name, Role::Green))
        .chain(originals.iter().map(|name| planned(name, Role::Blue)))
        .collect()
}

/// A blue/green deployment's settings, from the group's `blueGreenDeploymentConfiguration` and the routing.
pub(crate) fn blue_green_options(
    config: &wire::BlueGreenDeploymentConfiguration,
    routing: TrafficRouting,
    rollback: bool,
) -> BlueGreen {
    let ready = config.deployment_ready_option.as_ref();
    let termination = config.terminate_blue_instances_on_deployment_success.as_ref();
    BlueGreen {
        rollback,
        ready_action: if rollback { None } else { ready.and_then(|option| option.action_on_timeout.clone()) },
        ready_wait_minutes: ready.and_then(|option| option.wait_time_in_minutes).unwrap_or(0),
        termination_action: Some(
            termination.and_then(|option| option.action.clone()).unwrap_or_else(|| "KEEP_ALIVE".to_owned()),
        ),
        termination_wait_minutes: termination.and_then(|option| option.termination_wait_time_in_minutes).unwrap_or(0),
        // A rollback moves all traffic back at once.
        routing: Some(if rollback { TrafficRouting::AllAtOnce } else { routing }.into()),
        ..BlueGreen::default()
    }
}

/// The replacement hosts of a blue/green deployment (DISCOVER_EXISTING): the registered instances that
/// `targetInstances.tagFilters` select (Cutover's hosts are on-premises instances, so the filters match their tags).
async fn replacement_instances(
    tx: &mut Tx,
    target_instances: Option<&wire::TargetInstances>,
) -> ApiResult<Vec<String>> {
    let invalid = |message: &str| Err(ApiError::new("InvalidTargetInstancesException", message.to_owned()));
    let Some(target_instances) = target_instances else {
        return invalid("a blue/green deployment needs targetInstances.tagFilters selecting the replacement hosts");
    };
    if target_instances.auto_scaling_groups.as_ref().is_some_and(|groups| !groups.is_empty()) {
        return invalid("targetInstances.autoScalingGroups is not supported: select the replacement hosts by tags");
    }
    let filters: Vec<wire::TagFilter> = target_instances
        .tag_filters
        .iter()
        .flatten()
        .map(|filter| wire::TagFilter {
            key: filter.key.clone(),
            value: filter.value.clone(),
            type_: filter.type_.clone(),
        })
        .collect();
    let filters = convert::domain_filters(&filters).map_err(|message| ApiError::new("InvalidTagException", message))?;
    if filters.is_empty() {
        return invalid("targetInstances.tagFilters is empty: it must select the replacement hosts");
    }
    let mut names = Vec::new();
    for row in tx.list_instances().await? {
        let instance_tags = convert::domain_tags(&convert::tags_from_json(&row.tags));
        if row.deregister_time.is_none() && tags::is_targeted(&filters, &[], &instance_tags) {
            names.push(row.name);
        }
    }
    if names.is_empty() {
        return invalid("targetInstances.tagFilters select no registered instance");
    }
    names.sort();
    Ok(names)
}

/// Maps a revision location to the bundle agents download: an object of the embedded S3 endpoint (its current
/// version, or the `version` named), or the tar bundle built from a GitHub revision's commit, which `git::api` fetched
/// before this transaction began.
pub(crate) async fn resolve_bundle(tx: &mut Tx, revision: &wire::RevisionLocation) -> ApiResult<BundleSpec> {
    if revision.revision_type.as_deref() == Some("GitHub") {
        let github = revision
            .git_hub_location
            .as_ref()
            .ok_or_else(|| ApiError::new("InvalidRevisionException", "revision of type GitHub needs gitHubLocation"))?;
        let repository = github.repository.clone().unwrap_or_default();
        let commit = github.commit_id.clone().unwrap_or_default();
        let bundle = tx.git_bundle(&repository, &commit.to_ascii_lowercase()).await?.ok_or_else(|| {
            ApiError::new(
                "InvalidRevisionException",
                format!("The commit {commit} of GitHub repository {repository} has not been fetched; name the revision in the request"),
            )
        })?;
        return Ok(BundleSpec {
            url: format!("/agent/v1/bundles/{}", bundle.sha256),
            sha256: bundle.sha256,
            trusted_keys: Vec::new(),
            signatures: Vec::new(),
            bundle_type: "tar".to_owned(),
            size: bundle.size.max(0) as u64,
            bucket: None,
            key: None,
            version: None,
            etag: None,
            commit_id: Some(commit),
        });
    }
    let s3 = revision
        .s3_location
        .as_ref()
        .ok_or_else(|| ApiError::new("InvalidRevisionException", "revision needs s3Location"))?;
    let bucket = s3.bucket.clone().unwrap_or_default();
    let key = s3.key.clone().unwrap_or_default();
    let version = s3.version.as_deref().filter(|version| !version.is_empty());
    let object = match version {
        Some(version) => tx.object_version(&bucket, &key, version).await?.ok_or_else(|| {
            ApiError::new(
                "RevisionDoesNotExistException",
                format!("The revision s3://{bucket}/{key} has no version {version} in Cutover's revision store."),
            )
        })?,
        None => tx.current_object(&bucket, &key).await?.ok_or_else(|| {
            ApiError::new(
                "RevisionDoesNotExistException",
                format!(
                    "The revision s3://{bucket}/{key} does not exist in Cutover's revision store; upload it with `cutover push`, `aws deploy push` or `aws s3 cp`."
                ),
            )
        })?,
    };
    // Clients pass the ETag they were given: the S3 ETag (MD5 or multipart form) from S3 clients, the SHA-256 from
    // `cutover push`. Either names this content.
    let etag = s3.e_tag.as_deref().map(|etag| etag.trim_matches('"')).filter(|etag| !etag.is_empty());
    if let Some(etag) = etag
        && !etag.eq_ignore_ascii_case(object.s3_etag())
        && !etag.eq_ignore_ascii_case(&object.sha256)
    {
        return Err(ApiError::new(
            "InvalidRevisionException",
            format!("s3://{bucket}/{key} has ETag {} (sha256 {}), not {etag}", object.s3_etag(), object.sha256),
        ));
    }
    Ok(BundleSpec {
        url: format!("/agent/v1/bundles/{}", object.sha256),
        sha256: object.sha256.clone(),
        trusted_keys: Vec::new(),
        signatures: Vec::new(),
        bundle_type: s3.bundle_type.clone().unwrap_or_default(),
        size: object.size.max(0) as u64,
        bucket: Some(bucket),
        key: Some(key),
        version: s3.version.clone(),
        etag: Some(etag.map_or_else(|| object.s3_etag().to_owned(), str::to_owned)),
        commit_id: None,
    })
}

/// The targets of a new deployment in dispatch order, and for a zonal one each target's zone (empty otherwise).
/// CreateDeployment and deployment plans (`crate::plan`) share it, so a plan shows the order a deployment takes.
pub(crate) async fn ordered_targets(
    state: &AppState,
    tx: &mut Tx,
    group_id: &str,
    settings: &wire::DeploymentGroupInfo,
    revision_key: &str,
    outdated_only: bool,
    zonal: bool,
) -> ApiResult<(Vec<String>, Vec<(String, Option<String>)>)> {
    let mut targets = select_targets(tx, group_id, settings, revision_key, outdated_only).await?;
    // Zonal: zone by zone (sorted by name, hosts without a zone last), keeping the health order within a zone.
    let mut zones: Vec<(String, Option<String>)> = Vec::new();
    if zonal {
        for name in &targets {
            let tags = tx.instance(name).await?.map(|row| convert::tags_from_json(&row.tags)).unwrap_or_default();
            let zone =
                tags.into_iter().find(|(key, _)| *key == state.inner.config.zone_tag_key).map(|(_, value)| value);
            zones.push((name.clone(), zone));
        }
        zones.sort_by(|a, b| (a.1.is_none(), &a.1).cmp(&(b.1.is_none(), &b.1)));
        targets = zones.iter().map(|(name, _)| name.clone()).collect();
    }
    Ok((targets, zones))
}

/// Registered instances the group's tags select, in CodeDeploy's order (unhealthy first, then by revision).
async fn select_targets(
    tx: &mut Tx,
    group_id: &str,
    settings: &wire::DeploymentGroupInfo,
    revision_key: &str,
    outdated_only: bool,
) -> ApiResult<Vec<String>> {
    let (filters, tag_set) =
        convert::group_targeting(settings).map_err(|message| ApiError::new("InvalidTagException", message))?;
    let health = tx.group_instances(group_id).await?;
    let mut candidates = Vec::new();
    for row in tx.list_instances().await? {
        if row.deregister_time.is_some() {
            continue;
        }
        let instance_tags = convert::domain_tags(&convert::tags_from_json(&row.tags));
        if !tags::is_targeted(&filters, &tag_set, &instance_tags) {
            continue;
        }
        let record = health.iter().find(|record| record.instance_name == row.name);
        let revision = match record.and_then(|record| record.revision_key.as_deref()) {
            None => RevisionHealth::Unknown,
            Some(key) if key == revision_key => RevisionHealth::Current,
            Some(_) => RevisionHealth::Old,
        };
        if outdated_only && revision == RevisionHealth::Current {
            continue;
        }
        let healthy = record.is_some_and(|record| record.healthy);
        candidates.push(Candidate {
            name: row.name,
            health: if healthy { InstanceHealth::Healthy } else { InstanceHealth::Unhealthy },
            revision,
        });
    }
    Ok(planner::order_candidates(candidates).into_iter().map(|candidate| candidate.name).collect())
}

pub(crate) fn overview(targets: &[TargetRow]) -> wire::DeploymentOverview {
    let count = |status: &str| targets.iter().filter(|target| target.status == status).count() as i64;
    wire::DeploymentOverview {
        pending: Some(count("Pending")),
        in_progress: Some(count("InProgress")),
        succeeded: Some(count("Succeeded")),
        failed: Some(count("Failed")),
        skipped: Some(count("Skipped")),
        ready: Some(count("Ready")),
    }
}

pub(crate) async fn info(tx: &mut Tx, row: &DeploymentRow) -> ApiResult<wire::DeploymentInfo> {
    let targets = tx.targets(&row.id).await?;
    let options = DeploymentOptions::from_json(&row.options);
    Ok(wire::DeploymentInfo {
        application_name: Some(row.application_name.clone()),
        deployment_group_name: Some(row.deployment_group_name.clone()),
        deployment_config_name: Some(row.config_name.clone()),
        deployment_id: Some(row.id.clone()),
        previous_revision: row.previous_revision.as_deref().and_then(|json| serde_json::from_str(json).ok()),
        revision: serde_json::from_str(&row.revision).ok(),
        status: Some(row.status.clone()),
        error_information: row
            .error_code
            .as_ref()
            .map(|code| wire::ErrorInformation { code: Some(code.clone()), message: row.error_message.clone() }),
        create_time: Some(seconds(row.create_time)),
        start_time: row.start_time.map(seconds),
        complete_time: row.complete_time.map(seconds),
        deployment_overview: Some(overview(&targets)),
        description: options.description.clone(),
        creator: Some(row.creator.clone()),
        ignore_application_stop_failures: Some(options.ignore_application_stop_failures),
        auto_rollback_configuration: options.auto_rollback_configuration.clone(),
        update_outdated_instances_only: Some(options.update_outdated_instances_only),
        rollback_info: options.rollback_info.clone(),
        override_alarm_configuration: options.override_alarm_configuration.clone(),
        deployment_style: Some(options.deployment_style.clone().unwrap_or(wire::DeploymentStyle {
            deployment_type: Some("IN_PLACE".to_owned()),
            deployment_option: Some("WITHOUT_TRAFFIC_CONTROL".to_owned()),
        })),
        blue_green_deployment_configuration: options.blue_green.as_ref().map(|bg| {
            wire::BlueGreenDeploymentConfiguration {
                terminate_blue_instances_on_deployment_success: Some(wire::BlueInstanceTerminationOption {
                    action: bg.termination_action.clone(),
                    termination_wait_time_in_minutes: Some(bg.termination_wait_minutes),
                }),
                deployment_ready_option: Some(wire::DeploymentReadyOption {
                    action_on_timeout: Some(
                        bg.ready_action.clone().unwrap_or_else(|| "CONTINUE_DEPLOYMENT".to_owned()),
                    ),
                    wait_time_in_minutes: Some(bg.ready_wait_minutes),
                }),
                green_fleet_provisioning_option: Some(wire::GreenFleetProvisioningOption {
                    action: Some(
                        if bg.provision.is_some() { "COPY_AUTO_SCALING_GROUP" } else { "DISCOVER_EXISTING" }.to_owned(),
                    ),
                }),
            }
        }),
        load_balancer_info: (!options.target_groups.is_empty()).then(|| wire::LoadBalancerInfo {
            target_group_info_list: Some(
                options.target_groups.iter().map(|name| wire::TargetGroupInfo { name: Some(name.clone()) }).collect(),
            ),
            ..Default::default()
        }),
        // True once the wait before the originals are terminated began (never for KEEP_ALIVE).
        instance_termination_wait_time_started: Some(
            options.blue_green.as_ref().is_some_and(|bg| bg.termination_started.is_some()),
        ),
        file_exists_behavior: Some(options.file_exists_behavior.clone().unwrap_or_else(|| "DISALLOW".to_owned())),
        deployment_status_messages: Some(Vec::new()),
        compute_platform: Some(
            if options.function.is_some() {
                "Lambda"
            } else if options.container.is_some() {
                "ECS"
            } else {
                "Server"
            }
            .to_owned(),
        ),
        ..Default::default()
    })
}

pub(crate) async fn get(state: AppState, input: wire::GetDeploymentInput) -> ApiResult<wire::GetDeploymentOutput> {
    let id = required(&input.deployment_id, "DeploymentIdRequiredException", "deploymentId")?;
    let mut tx = state.store().begin().await?;
    let row = deployment(&mut tx, id).await?;
    Ok(wire::GetDeploymentOutput { deployment_info: Some(info(&mut tx, &row).await?) })
}

pub(crate) async fn batch_get(
    state: AppState,
    input: wire::BatchGetDeploymentsInput,
) -> ApiResult<wire::BatchGetDeploymentsOutput> {
    let ids = input.deployment_ids.unwrap_or_default();
    if ids.is_empty() {
        return Err(ApiError::new("DeploymentIdRequiredException", "deploymentIds is required"));
    }
    if ids.len() > 100 {
        return Err(ApiError::new(
            "BatchLimitExceededException",
            "The maximum number of deployment IDs allowed for this request (100) was exceeded.",
        ));
    }
    let mut tx = state.store().begin().await?;
    let mut infos = Vec::new();
    for id in &ids {
        if let Some(row) = tx.deployment(id).await? {
            infos.push(info(&mut tx, &row).await?);
        }
    }
    Ok(wire::BatchGetDeploymentsOutput { deployments_info: Some(infos) })
}

pub(crate) async fn list(state: AppState, input: wire::ListDeploymentsInput) -> ApiResult<wire::ListDeploymentsOutput> {
    let mut filter = DeploymentFilter::default();
    let mut tx = state.store().begin().await?;
    match (input.application_name.as_deref(), input.deployment_group_name.as_deref()) {
        (Some(app_name), group_name) => {
            let app = application(&mut tx, app_name).await?;
            match group_name {
                Some(group_name) => filter.deployment_group_id = Some(group(&mut tx, &app.id, group_name).await?.id),
                None => filter.application_id = Some(app.id),
            }
        }
        (None, Some(_)) => {
            return Err(ApiError::new(
                "ApplicationNameRequiredException",
                "applicationName is required with deploymentGroupName",
            ));
        }
        (None, None) => {}
    }
    for status in input.include_only_statuses.iter().flatten() {
        if !wire::DEPLOYMENT_STATUS_VALUES.contains(&status.as_str()) {
            return Err(ApiError::new(
                "InvalidDeploymentStatusException",
                format!("unknown deployment status {status:?}"),
            ));
        }
        filter.statuses.push(status.clone());
    }
    if let Some(range) = &input.create_time_range {
        if let (Some(start), Some(end)) = (range.start, range.end)
            && start > end
        {
            return Err(ApiError::new(
                "InvalidTimeRangeException",
                "The specified time range was specified in an invalid format.",
            ));
        }
        filter.created_after = range.start.map(|s| (s * 1000.0) as i64);
        filter.created_before = range.end.map(|s| (s * 1000.0) as i64);
    }
    let mut ids: Vec<String> = tx.list_deployments(&filter).await?.into_iter().map(|row| row.id).collect();
    // External ids link deployments to CloudFormation stacks; Cutover's deployments have none.
    if input.external_id.as_deref().is_some_and(|id| !id.is_empty()) {
        ids.clear();
    }
    let (page, next_token) = paginate(&ids, &input.next_token)?;
    Ok(wire::ListDeploymentsOutput { deployments: Some(page), next_token })
}

pub(crate) async fn stop(state: AppState, input: wire::StopDeploymentInput) -> ApiResult<wire::StopDeploymentOutput> {
    let id = required(&input.deployment_id, "DeploymentIdRequiredException", "deploymentId")?;
    {
        let mut tx = state.store().begin().await?;
        // Locked: the options document is rewritten below, perhaps while another replica advances the deployment.
        let row = tx.deployment_for_update(id).await?.ok_or_else(|| {
            ApiError::new(
                "DeploymentDoesNotExistException",
                format!("The deployment {id} does not exist with the user or AWS account."),
            )
        })?;
        if matches!(row.status.as_str(), "Succeeded" | "Failed" | "Stopped") {
            return Err(ApiError::new(
                "DeploymentAlreadyCompletedException",
                format!("The deployment {id} is already completed."),
            ));
        }
        tx.request_stop(id).await?;
        if let Some(rollback) = input.auto_rollback_enabled {
            let mut options = DeploymentOptions::from_json(&row.options);
            options.stop_auto_rollback = Some(rollback);
            tx.set_deployment_options(id, &options.to_json()).await?;
        }
        tx.commit().await?;
    }
    orchestrator::advance(&state, id, None).await?;
    let mut tx = state.store().begin().await?;
    let row = deployment(&mut tx, id).await?;
    Ok(if row.status == "Stopped" {
        wire::StopDeploymentOutput {
            status: Some("Succeeded".to_owned()),
            status_message: Some("Deployment stopped.".to_owned()),
        }
    } else {
        wire::StopDeploymentOutput {
            status: Some("Pending".to_owned()),
            status_message: Some(
                "Stopping: waiting for lifecycle events already running on instances to finish.".to_owned(),
            ),
        }
    })
}

fn wire_events(events: &[EventRow]) -> Vec<wire::LifecycleEvent> {
    events
        .iter()
        .map(|event| wire::LifecycleEvent {
            lifecycle_event_name: Some(event.name.clone()),
            diagnostics: event.error_code.as_ref().map(|code| wire::Diagnostics {
                error_code: Some(code.clone()),
                script_name: event.script_name.clone(),
                message: event.message.clone(),
                log_tail: event.log_tail.clone(),
            }),
            start_time: event.start_time.map(seconds),
            end_time: event.end_time.map(seconds),
            status: Some(event.status.clone()),
        })
        .collect()
}

async fn target_view(tx: &mut Tx, row: &TargetRow) -> ApiResult<wire::InstanceTarget> {
    let events = tx.target_events(&row.deployment_id, &row.instance_name).await?;
    Ok(wire::InstanceTarget {
        deployment_id: Some(row.deployment_id.clone()),
        target_id: Some(row.instance_name.clone()),
        target_arn: Some(convert::instance_arn(&row.instance_name)),
        status: Some(row.status.clone()),
        last_updated_at: Some(seconds(row.last_updated)),
        lifecycle_events: Some(wire_events(&events)),
        // CodeDeploy labels blue/green targets Blue (original) or Green (replacement).
        instance_label: row.role.clone(),
    })
}

async fn target(tx: &mut Tx, deployment_id: &str, target_id: &str) -> ApiResult<TargetRow> {
    let targets = tx.targets(deployment_id).await?;
    targets.into_iter().find(|row| row.instance_name == target_id).ok_or_else(|| {
        ApiError::new(
            "DeploymentTargetDoesNotExistException",
            format!("The target {target_id} does not exist in deployment {deployment_id}."),
        )
    })
}

pub(crate) async fn list_targets(
    state: AppState,
    input: wire::ListDeploymentTargetsInput,
) -> ApiResult<wire::ListDeploymentTargetsOutput> {
    let id = required(&input.deployment_id, "DeploymentIdRequiredException", "deploymentId")?;
    let mut tx = state.store().begin().await?;
    deployment(&mut tx, id).await?;
    let mut targets = tx.targets(id).await?;
    for (name, values) in input.target_filters.iter().flatten() {
        match name.as_str() {
            "TargetStatus" => {
                for value in values {
                    if !wire::TARGET_STATUS_VALUES.contains(&value.as_str()) {
                        return Err(ApiError::new(
                            "InvalidInstanceStatusException",
                            format!("unknown target status {value:?}"),
                        ));
                    }
                }
                targets.retain(|target| values.contains(&target.status));
            }
            "ServerInstanceLabel" => {
                for value in values {
                    if !wire::TARGET_LABEL_VALUES.contains(&value.as_str()) {
                        return Err(ApiError::new(
                            "InvalidInstanceTypeException",
                            format!("unknown instance label {value:?} (Blue or Green)"),
                        ));
                    }
                }
                // In-place deployments have no Blue/Green labels.
                targets.retain(|_| values.is_empty());
            }
            other => {
                return Err(ApiError::new(
                    "InvalidTargetFilterNameException",
                    format!("unknown target filter {other:?}"),
                ));
            }
        }
    }
    let ids: Vec<String> = targets.into_iter().map(|target| target.instance_name).collect();
    let (page, next_token) = paginate(&ids, &input.next_token)?;
    Ok(wire::ListDeploymentTargetsOutput { target_ids: Some(page), next_token })
}

pub(crate) async fn get_target(
    state: AppState,
    input: wire::GetDeploymentTargetInput,
) -> ApiResult<wire::GetDeploymentTargetOutput> {
    let id = required(&input.deployment_id, "DeploymentIdRequiredException", "deploymentId")?;
    let target_id = required(&input.target_id, "DeploymentTargetIdRequiredException", "targetId")?;
    let mut tx = state.store().begin().await?;
    let deployment_row = deployment(&mut tx, id).await?;
    let row = target(&mut tx, id, target_id).await?;
    Ok(wire::GetDeploymentTargetOutput {
        deployment_target: Some(deployment_target(&mut tx, &deployment_row, &row).await?),
    })
}

/// A target as the API shows it: an instance, or the function alias of a Lambda deployment.
async fn deployment_target(
    tx: &mut Tx,
    deployment: &DeploymentRow,
    row: &TargetRow,
) -> ApiResult<wire::DeploymentTarget> {
    let instance = target_view(tx, row).await?;
    let options = DeploymentOptions::from_json(&deployment.options);
    if let Some(container) = &options.container {
        let task_sets =
            tx.task_sets_of_service(&crate::ecs::service_key(&container.cluster, &container.service)).await?;
        return Ok(wire::DeploymentTarget {
            deployment_target_type: Some("ECSTarget".to_owned()),
            ecs_target: Some(crate::ecs::target(instance, container, &task_sets, &deployment.id)),
            ..Default::default()
        });
    }
    let Some(function) = options.function else {
        return Ok(wire::DeploymentTarget {
            deployment_target_type: Some("InstanceTarget".to_owned()),
            instance_target: Some(instance),
            ..Default::default()
        });
    };
    Ok(wire::DeploymentTarget {
        deployment_target_type: Some("LambdaTarget".to_owned()),
        lambda_target: Some(wire::LambdaTarget {
            deployment_id: instance.deployment_id,
            target_id: instance.target_id,
            target_arn: Some(format!("arn:cutover:lambda:local:000000000000:function:{}", row.instance_name)),
            status: instance.status,
            last_updated_at: instance.last_updated_at,
            lifecycle_events: instance.lifecycle_events,
            lambda_function_info: Some(wire::LambdaFunctionInfo {
                function_name: Some(function.name.clone()),
                function_alias: Some(function.alias.clone()),
                current_version: Some(function.current_version.clone()),
                target_version: Some(function.target_version.clone()),
                target_version_weight: Some(function.target_percent as f64 / 100.0),
            }),
        }),
        ..Default::default()
    })
}

pub(crate) async fn batch_get_targets(
    state: AppState,
    input: wire::BatchGetDeploymentTargetsInput,
) -> ApiResult<wire::BatchGetDeploymentTargetsOutput> {
    let id = required(&input.deployment_id, "DeploymentIdRequiredException", "deploymentId")?;
    let ids = input.target_ids.unwrap_or_default();
    if ids.is_empty() {
        return Err(ApiError::new("DeploymentTargetIdRequiredException", "targetIds is required"));
    }
    if ids.len() > 25 {
        return Err(ApiError::new(
            "DeploymentTargetListSizeExceededException",
            "The maximum number of targets that can be associated with this request (25) was exceeded.",
        ));
    }
    let mut tx = state.store().begin().await?;
    let deployment_row = deployment(&mut tx, id).await?;
    let mut res = Vec::new();
    for target_id in &ids {
        let row = target(&mut tx, id, target_id).await?;
        res.push(deployment_target(&mut tx, &deployment_row, &row).await?);
    }
    Ok(wire::BatchGetDeploymentTargetsOutput { deployment_targets: Some(res) })
}

async fn summary(tx: &mut Tx, row: &TargetRow) -> ApiResult<wire::InstanceSummary> {
    let events = tx.target_events(&row.deployment_id, &row.instance_name).await?;
    Ok(wire::InstanceSummary {
        deployment_id: Some(row.deployment_id.clone()),
        instance_id: Some(row.instance_name.clone()),
        status: Some(row.status.clone()),
        last_updated_at: Some(seconds(row.last_updated)),
        lifecycle_events: Some(wire_events(&events)),
        instance_type: row.role.clone(),
    })
}

pub(crate) async fn list_instances(
    state: AppState,
    input: wire::ListDeploymentInstancesInput,
) -> ApiResult<wire::ListDeploymentInstancesOutput> {
    let id = required(&input.deployment_id, "DeploymentIdRequiredException", "deploymentId")?;
    let mut tx = state.store().begin().await?;
    deployment(&mut tx, id).await?;
    let mut targets = tx.targets(id).await?;
    if let Some(statuses) = input.instance_status_filter.as_ref().filter(|s| !s.is_empty()) {
        for status in statuses {
            if !wire::INSTANCE_STATUS_VALUES.contains(&status.as_str()) {
                return Err(ApiError::new(
                    "InvalidInstanceStatusException",
                    format!("unknown instance status {status:?}"),
                ));
            }
        }
        targets.retain(|target| statuses.contains(&target.status));
    }
    if let Some(types) = input.instance_type_filter.as_ref().filter(|t| !t.is_empty()) {
        for instance_type in types {
            if !wire::INSTANCE_TYPE_VALUES.contains(&instance_type.as_str()) {
                return Err(ApiError::new(
                    "InvalidInstanceTypeException",
                    format!("unknown instance type {instance_type:?} (Blue or Green)"),
                ));
            }
        }
        // In-place deployments have no Blue/Green instances.
        targets.retain(|target| target.role.as_ref().is_some_and(|role| types.contains(role)));
    }
    let ids: Vec<String> = targets.into_iter().map(|target| target.instance_name).collect();
    let (page, next_token) = paginate(&ids, &input.next_token)?;
    Ok(wire::ListDeploymentInstancesOutput { instances_list: Some(page), next_token })
}

pub(crate) async fn get_instance(
    state: AppState,
    input: wire::GetDeploymentInstanceInput,
) -> ApiResult<wire::GetDeploymentInstanceOutput> {
    let id = required(&input.deployment_id, "DeploymentIdRequiredException", "deploymentId")?;
    let instance_id = required(&input.instance_id, "InstanceIdRequiredException", "instanceId")?;
    let mut tx = state.store().begin().await?;
    deployment(&mut tx, id).await?;
    let row = tx.targets(id).await?.into_iter().find(|row| row.instance_name == instance_id).ok_or_else(|| {
        ApiError::new(
            "InstanceDoesNotExistException",
            format!("The instance {instance_id} is not part of deployment {id}."),
        )
    })?;
    Ok(wire::GetDeploymentInstanceOutput { instance_summary: Some(summary(&mut tx, &row).await?) })
}

pub(crate) async fn batch_get_instances(
    state: AppState,
    input: wire::BatchGetDeploymentInstancesInput,
) -> ApiResult<wire::BatchGetDeploymentInstancesOutput> {
    let id = required(&input.deployment_id, "DeploymentIdRequiredException", "deploymentId")?;
    let ids = input.instance_ids.unwrap_or_default();
    if ids.is_empty() {
        return Err(ApiError::new("InstanceIdRequiredException", "instanceIds is required"));
    }
    if ids.len() > 100 {
        return Err(ApiError::new(
            "BatchLimitExceededException",
            "The maximum number of instance IDs allowed for this request (100) was exceeded.",
        ));
    }
    let mut tx = state.store().begin().await?;
    deployment(&mut tx, id).await?;
    let targets = tx.targets(id).await?;
    let mut res = Vec::new();
    let mut missing = Vec::new();
    for instance_id in &ids {
        match targets.iter().find(|row| &row.instance_name == instance_id) {
            Some(row) => res.push(summary(&mut tx, row).await?),
            None => missing.push(instance_id.clone()),
        }
    }
    Ok(wire::BatchGetDeploymentInstancesOutput {
        instances_summary: Some(res),
        error_message: (!missing.is_empty())
            .then(|| format!("Instances not in the deployment: {}", missing.join(", "))),
    })
}

pub(crate) async fn continue_deployment(state: AppState, input: wire::ContinueDeploymentInput) -> ApiResult<()> {
    let id = required(&input.deployment_id, "DeploymentIdRequiredException", "deploymentId")?;
    match input.deployment_wait_type.as_deref() {
        None | Some("READY_WAIT" | "TERMINATION_WAIT") => {}
        Some(other) => {
            return Err(ApiError::new(
                "InvalidDeploymentWaitTypeException",
                format!("deploymentWaitType {other:?} is not READY_WAIT or TERMINATION_WAIT"),
            ));
        }
    }
    let wait = input.deployment_wait_type.as_deref().unwrap_or("READY_WAIT");
    let mut tx = state.store().begin().await?;
    let Some(row) = tx.deployment_for_update(id).await? else {
        return Err(ApiError::new(
            "DeploymentDoesNotExistException",
            format!("The deployment {id} does not exist with the user or AWS account."),
        ));
    };
    if matches!(row.status.as_str(), "Succeeded" | "Failed" | "Stopped") {
        return Err(ApiError::new(
            "DeploymentAlreadyCompletedException",
            format!("The deployment {id} is already completed."),
        ));
    }
    let mut options = DeploymentOptions::from_json(&row.options);
    // In-place deployments never wait for a go-ahead; only blue/green ones enter Ready or a termination wait.
    let Some(mut bg) = options.blue_green.clone() else {
        return Err(ApiError::new(
            "DeploymentIsNotInReadyStateException",
            format!("The deployment {id} is not in the Ready state (it is {}).", row.status),
        ));
    };
    match wait {
        "READY_WAIT" if row.status == "Ready" => {
            bg.ready_continued = true;
            bg.wait_until = None;
        }
        "TERMINATION_WAIT" if bg.termination_started.is_some() && !bg.retired => bg.termination_continued = true,
        "TERMINATION_WAIT" => {
            return Err(ApiError::new(
                "DeploymentIsNotInReadyStateException",
                format!("The deployment {id} is not waiting to terminate its original instances."),
            ));
        }
        _ => {
            return Err(ApiError::new(
                "DeploymentIsNotInReadyStateException",
                format!("The deployment {id} is not in the Ready state (it is {}).", row.status),
            ));
        }
    }
    options.blue_green = Some(bg);
    tx.set_deployment_options(id, &options.to_json()).await?;
    tx.commit().await?;
    // The orchestrator moves it on (it alone writes the deployment's status).
    orchestrator::advance(&state, id, None).await?;
    Ok(())
}
