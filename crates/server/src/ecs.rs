//! The container platform (`computePlatform: ECS`): a deployment replaces a container service's task set with a new
//! one, lets tests reach it through the test route, shifts production to it (all at once, canary or linear) and then
//! withdraws the original.
//!
//! A service (`ecsServices`: service and cluster name) runs on the hosts tagged `cutover:ecs-cluster=<cluster>`.
//! The server never talks to Docker: it writes which task sets each host is to run (`task_set_assignments`), and each
//! host's agent starts, health-checks and keeps them at their count, reporting their upstreams (`agent_api.rs`,
//! `/agent/v1/task-sets`). Routes are target groups of the traffic file: `prodTrafficRoute.listenerArns[0]` carries
//! production, `testTrafficRoute.listenerArns[0]` the test listener.
//!
//! A deployment has one target (`<cluster>:<service>`) whose eight events the server runs in order: BeforeInstall,
//! Install (assign the replacement, wait until every host reports it healthy), AfterInstall, AllowTestTraffic,
//! AfterAllowTestTraffic, BeforeAllowTraffic, AllowTraffic (the shift), AfterAllowTraffic (then the termination wait
//! and the withdrawal of the original). Hooks are hook functions as for Lambda (`functions::run_hook`). A failed or
//! stopped deployment always routes production (and the test route) back to the original and withdraws the
//! replacement: there is no state in which a broken replacement keeps traffic.

use std::time::Duration;

use cutover_api_types::agent::{ContainerService, ContainerServiceRequest, ContainerTaskSet};
use cutover_api_types::codedeploy as wire;
use cutover_domain::config::TrafficRouting;
use cutover_domain::traffic::split_weights;
use cutover_router::{Member, MemberState};
use cutover_store::{EventRow, NewTaskSet, StoreError, TaskSetRow};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::convert::DeploymentOptions;
use crate::error::{ApiError, ApiResult};
use crate::functions::{HookExecution, HookSource, ShiftProgress, ShiftTarget};
use crate::traffic::{RoutingSpec, Traffic};

/// The tag that puts a host in an ECS cluster.
pub const CLUSTER_TAG: &str = "cutover:ecs-cluster";

const POLL: Duration = Duration::from_millis(100);

/// `[containers]` of the traffic file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContainerSettings {
    /// Longest wait for a replacement task set to be started and healthy on every host (Install).
    #[serde(default = "default_health_timeout")]
    pub health_timeout_seconds: u64,
    /// How often agents report their task sets (and learn of new ones), in milliseconds.
    #[serde(default = "default_report_interval")]
    pub report_interval_ms: u64,
    /// Log lines per container sent for `cutover containers logs`.
    #[serde(default = "default_tail_lines")]
    pub tail_lines: u32,
}

impl Default for ContainerSettings {
    fn default() -> Self {
        ContainerSettings {
            health_timeout_seconds: default_health_timeout(),
            report_interval_ms: default_report_interval(),
            tail_lines: default_tail_lines(),
        }
    }
}

fn default_health_timeout() -> u64 {
    300
}

fn default_report_interval() -> u64 {
    2000
}

fn default_tail_lines() -> u32 {
    100
}

/// What a deployment group of an ECS application names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EcsGroup {
    pub cluster: String,
    pub service: String,
    pub prod_route: String,
    pub test_route: Option<String>,
    pub termination_wait_minutes: i64,
}

pub(crate) fn service_key(cluster: &str, service: &str) -> String {
    format!("{cluster}/{service}")
}

fn valid_ecs_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && name.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
}

/// Checks an ECS group's service, routes and blue/green settings (CreateDeploymentGroup, UpdateDeploymentGroup).
pub(crate) fn group_settings(settings: &wire::DeploymentGroupInfo, traffic: &Traffic) -> ApiResult<EcsGroup> {
    let services = settings.ecs_services.as_deref().unwrap_or_default();
    let [service] = services else {
        return Err(ApiError::new(
            "InvalidECSServiceException",
            format!("an ECS deployment group names exactly one service in ecsServices, got {}", services.len()),
        ));
    };
    let (Some(service_name), Some(cluster_name)) = (&service.service_name, &service.cluster_name) else {
        return Err(ApiError::new("InvalidECSServiceException", "ecsServices[0] needs serviceName and clusterName"));
    };
    for (field, name) in [("serviceName", service_name), ("clusterName", cluster_name)] {
        if !valid_ecs_name(name) {
            return Err(ApiError::new(
                "InvalidECSServiceException",
                format!("ecsServices[0].{field} {name:?} must be 1-255 letters, digits, hyphens or underscores"),
            ));
        }
    }
    if let Some(style) = &settings.deployment_style
        && (style.deployment_type.as_deref().is_some_and(|kind| kind != "BLUE_GREEN")
            || style.deployment_option.as_deref().is_some_and(|option| option != "WITH_TRAFFIC_CONTROL"))
    {
        return Err(ApiError::new(
            "InvalidDeploymentStyleException",
            "ECS deployments are BLUE_GREEN WITH_TRAFFIC_CONTROL (a replacement task set, then traffic shifting)",
        ));
    }
    let invalid_lb = |message: String| ApiError::new("InvalidLoadBalancerInfoException", message);
    let info = settings.load_balancer_info.as_ref();
    if info.and_then(|info| info.target_group_info_list.as_ref()).is_some_and(|list| !list.is_empty())
        || info.and_then(|info| info.elb_info_list.as_ref()).is_some_and(|list| !list.is_empty())
    {
        return Err(invalid_lb(
            "ECS deployment groups name their routes in targetGroupPairInfoList, not targetGroupInfoList/elbInfoList"
                .to_owned(),
        ));
    }
    let pairs = info.and_then(|info| info.target_group_pair_info_list.as_deref()).unwrap_or_default();
    let [pair] = pairs else {
        return Err(invalid_lb(format!(
            "an ECS deployment group needs exactly one loadBalancerInfo.targetGroupPairInfoList entry, got {}",
            pairs.len()
        )));
    };
    let route = |route: Option<&wire::TrafficRoute>, field: &str| -> ApiResult<Option<String>> {
        let Some(route) = route else { return Ok(None) };
        let listeners = route.listener_arns.as_deref().unwrap_or_default();
        let [listener] = listeners else {
            return Err(invalid_lb(format!(
                "targetGroupPairInfoList[0].{field}.listenerArns must name exactly one listener, got {}",
                listeners.len()
            )));
        };
        if !traffic.has_target_group(listener) {
            let known = traffic.target_group_names();
            return Err(invalid_lb(format!(
                "{field} listener {listener:?} is not a target group of this server's traffic file; configured: {}",
                if known.is_empty() {
                    "none (start the server with --traffic-config)".to_owned()
                } else {
                    known.join(", ")
                }
            )));
        }
        if !traffic.names_members_freely(listener) {
            return Err(invalid_lb(format!(
                "{field} listener {listener:?} is an HAProxy target group; ECS routes need the built-in router (kind = \"builtin\"): task set members are named per deployment, and HAProxy only fills server slots declared by name"
            )));
        }
        Ok(Some(listener.clone()))
    };
    let Some(prod_route) = route(pair.prod_traffic_route.as_ref(), "prodTrafficRoute")? else {
        return Err(invalid_lb("targetGroupPairInfoList[0].prodTrafficRoute is required".to_owned()));
    };
    let test_route = route(pair.test_traffic_route.as_ref(), "testTrafficRoute")?;
    if test_route.as_deref() == Some(prod_route.as_str()) {
        return Err(invalid_lb(format!("the test route and the production route are both {prod_route:?}")));
    }
    let invalid_bg = |message: &str| ApiError::new("InvalidBlueGreenDeploymentConfigurationException", message);
    let mut termination_wait_minutes = 0;
    if let Some(config) = &settings.blue_green_deployment_configuration {
        if config.green_fleet_provisioning_option.as_ref().is_some_and(|option| option.action.is_some()) {
            return Err(invalid_bg("greenFleetProvisioningOption does not apply to ECS deployments"));
        }
        if let Some(option) = &config.deployment_ready_option
            && (option.action_on_timeout.as_deref().is_some_and(|action| action != "CONTINUE_DEPLOYMENT")
                || option.wait_time_in_minutes.is_some_and(|minutes| minutes != 0))
        {
            return Err(invalid_bg(
                "deploymentReadyOption: ECS deployments in Cutover reroute without a manual wait (CONTINUE_DEPLOYMENT, 0 minutes); gate the shift with a BeforeAllowTraffic hook",
            ));
        }
        if let Some(option) = &config.terminate_blue_instances_on_deployment_success {
            if option.action.as_deref().is_some_and(|action| action != "TERMINATE") {
                return Err(invalid_bg(
                    "terminateBlueInstancesOnDeploymentSuccess.action must be TERMINATE for ECS (the original task set is always removed)",
                ));
            }
            if let Some(minutes) = option.termination_wait_time_in_minutes {
                if !(0..=2880).contains(&minutes) {
                    return Err(invalid_bg("terminationWaitTimeInMinutes must be 0-2880"));
                }
                termination_wait_minutes = minutes;
            }
        }
    }
    Ok(EcsGroup {
        cluster: cluster_name.clone(),
        service: service_name.clone(),
        prod_route,
        test_route,
        termination_wait_minutes,
    })
}

/// An ECS deployment's settings and progress, kept in its options.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub(crate) struct ContainerDeployment {
    pub cluster: String,
    pub service: String,
    /// The replacement's task definition, JSON.
    pub task_definition: String,
    pub family: String,
    pub desired_count: u32,
    pub container_name: String,
    pub container_port: u16,
    pub prod_route: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_route: Option<String>,
    #[serde(default)]
    pub termination_wait_minutes: i64,
    /// (event, hook function) from the AppSpec.
    #[serde(default)]
    pub hooks: Vec<(String, String)>,
    pub routing: Option<RoutingSpec>,
    #[serde(default)]
    pub executions: Vec<HookExecution>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shift_started: Option<i64>,
    #[serde(default)]
    pub shifts_done: usize,
    /// The share of production on the replacement now, in percent.
    #[serde(default)]
    pub target_percent: u64,
    /// When every host first reported the replacement healthy (epoch ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replacement_healthy_at: Option<i64>,
    /// When the original task set is removed (epoch ms): the end of the termination wait, once it began.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terminate_at: Option<i64>,
    /// The replacement became the service's primary task set (the deployment's last step).
    #[serde(default)]
    pub promoted: bool,
    /// Traffic is to go back to the original and the replacement be withdrawn, and whether that was done.
    #[serde(default)]
    pub restore: bool,
    #[serde(default)]
    pub restored: bool,
}

impl ContainerDeployment {
    fn key(&self) -> String {
        service_key(&self.cluster, &self.service)
    }
}

/// The parts of CreateDeployment particular to ECS: the AppSpec's service against the group. Returns the
/// deployment's settings (progress empty) and the name of its one target.
pub(crate) fn plan(
    group: &EcsGroup,
    spec: &cutover_domain::appspec::EcsAppSpec,
    routing: TrafficRouting,
) -> ApiResult<ContainerDeployment> {
    use cutover_domain::appspec::TaskDefinitionSource;
    let invalid = |message: String| ApiError::new("InvalidRevisionException", message);
    let definition = match &spec.service.task_definition {
        TaskDefinitionSource::Inline(value) => {
            let text = serde_json::to_string(value).map_err(|error| invalid(error.to_string()))?;
            cutover_containers::TaskDefinition::from_json(&text).map_err(|error| {
                invalid(format!("Resources.{}.Properties.TaskDefinition: {error}", spec.service.logical_name))
            })?
        }
        TaskDefinitionSource::Reference(reference) => {
            return Err(invalid(format!(
                "TaskDefinition {reference:?} is a reference; Cutover has no task definition registry: put the task definition in the AppSpec (a mapping under TaskDefinition), so the revision holds it"
            )));
        }
    };
    definition
        .check_target(&spec.service.container_name, spec.service.container_port)
        .map_err(|error| invalid(format!("LoadBalancerInfo: {error}")))?;
    Ok(ContainerDeployment {
        cluster: group.cluster.clone(),
        service: group.service.clone(),
        task_definition: definition.to_json(),
        family: definition.family.clone(),
        desired_count: u32::try_from(definition.desired_count).unwrap_or(u32::MAX),
        container_name: spec.service.container_name.clone(),
        container_port: spec.service.container_port,
        prod_route: group.prod_route.clone(),
        test_route: group.test_route.clone(),
        termination_wait_minutes: group.termination_wait_minutes,
        hooks: spec.hooks.iter().map(|(event, name)| (event.as_str().to_owned(), name.clone())).collect(),
        routing: Some(routing.into()),
        ..Default::default()
    })
}

fn load(options: &DeploymentOptions) -> Result<ContainerDeployment, String> {
    options.container.clone().ok_or_else(|| "the deployment is not an ECS deployment".to_owned())
}

async fn save(
    state: &AppState,
    deployment_id: &str,
    change: impl FnOnce(&mut ContainerDeployment),
) -> Result<ContainerDeployment, StoreError> {
    crate::functions::update_options(state, deployment_id, |options| {
        let container = options.container.get_or_insert_with(ContainerDeployment::default);
        change(container);
        container.clone()
    })
    .await
}

fn text(error: impl ToString) -> String {
    error.to_string()
}

/// Whether the deployment was asked to stop or has ended (a wait gives up then).
async fn stopping(state: &AppState, deployment_id: &str) -> Result<bool, String> {
    let mut tx = state.store().begin().await.map_err(text)?;
    Ok(tx
        .deployment(deployment_id)
        .await
        .map_err(text)?
        .is_none_or(|row| row.stop_requested || row.status != "InProgress"))
}

/// Runs one event of an ECS deployment and records its result.
pub(crate) async fn run_event(state: &AppState, deployment_id: &str, event: &EventRow) -> Result<(), StoreError> {
    let options = {
        let mut tx = state.store().begin().await?;
        let row = tx.deployment(deployment_id).await?.ok_or_else(|| StoreError::NotFound(deployment_id.to_owned()))?;
        DeploymentOptions::from_json(&row.options)
    };
    let mut log = Vec::new();
    let result = match load(&options) {
        Err(message) => Err(message),
        // A stop that came while the previous event finished: nothing more happens (the restore follows).
        Ok(_) if stopping(state, deployment_id).await.unwrap_or(true) => {
            Err(format!("the deployment stopped before {}", event.name))
        }
        Ok(container) => match event.name.as_str() {
            "Install" => install(state, deployment_id, &container, &mut log).await,
            "AllowTestTraffic" => allow_test_traffic(state, deployment_id, &container, &mut log).await,
            "AllowTraffic" => shift(state, deployment_id, &container, &mut log).await,
            "AfterAllowTraffic" => match hook(state, deployment_id, &container, "AfterAllowTraffic", &mut log).await {
                Ok(()) => finish(state, deployment_id, &container, &mut log).await,
                Err(error) => Err(error),
            },
            name => hook(state, deployment_id, &container, name, &mut log).await,
        },
    };
    crate::traffic::record(state, deployment_id, &[(event.instance_name.clone(), event.position)], result, &log).await
}

async fn hook(
    state: &AppState,
    deployment_id: &str,
    container: &ContainerDeployment,
    event: &str,
    log: &mut Vec<String>,
) -> Result<(), String> {
    let source = HookSource { deployed: None, hooks: &container.hooks };
    crate::functions::run_hook(state, deployment_id, source, &container.executions, event, log).await
}

/// The hosts of a cluster (registered, tagged `cutover:ecs-cluster=<cluster>`), by name.
async fn cluster_hosts(state: &AppState, cluster: &str) -> Result<Vec<String>, String> {
    let mut tx = state.store().begin().await.map_err(text)?;
    let mut hosts: Vec<String> = tx
        .list_instances()
        .await
        .map_err(text)?
        .into_iter()
        .filter(|row| {
            row.deregister_time.is_none()
                && crate::convert::tags_from_json(&row.tags)
                    .iter()
                    .any(|(key, value)| key == CLUSTER_TAG && value == cluster)
        })
        .map(|row| row.name)
        .collect();
    hosts.sort();
    Ok(hosts)
}

/// `count` tasks over `hosts` hosts: as even as can be, the first hosts taking the remainder.
pub(crate) fn spread(count: u32, hosts: usize) -> Vec<u32> {
    if hosts == 0 {
        return Vec::new();
    }
    let hosts_u32 = hosts as u32;
    (0..hosts_u32).map(|index| count / hosts_u32 + u32::from(index < count % hosts_u32)).collect()
}

fn upstreams(row: &TaskSetRow) -> Vec<String> {
    serde_json::from_str(&row.upstreams).unwrap_or_default()
}

/// A task set's id, unique across the fleet (agents of several hosts may share an engine) and telling in `docker ps`:
/// `<cluster, at most 20 characters>-<16 hex digits>` (task set ids are at most 40 characters).
fn task_set_id(cluster: &str) -> String {
    let prefix: String = cluster.chars().take(20).collect();
    format!("{prefix}-{}", &uuid::Uuid::new_v4().simple().to_string()[..16])
}

/// Install: assign the replacement task set over the cluster's hosts, then wait until every host reports it
/// started and healthy.
async fn install(
    state: &AppState,
    deployment_id: &str,
    container: &ContainerDeployment,
    log: &mut Vec<String>,
) -> Result<(), String> {
    let settings = &state.inner.traffic.containers;
    let existing = {
        let mut tx = state.store().begin().await.map_err(text)?;
        tx.task_sets_of_deployment(deployment_id).await.map_err(text)?
    };
    // A restarted server finds the assignment it made and waits again.
    if existing.is_empty() {
        let hosts = cluster_hosts(state, &container.cluster).await?;
        if hosts.is_empty() {
            return Err(format!(
                "no registered instance is in cluster {:?}: register the Docker hosts with the tag {CLUSTER_TAG}={}",
                container.cluster, container.cluster
            ));
        }
        let rows: Vec<NewTaskSet> = hosts
            .iter()
            .zip(spread(container.desired_count, hosts.len()))
            .filter(|(_, count)| *count > 0)
            .map(|(host, count)| NewTaskSet {
                instance_name: host.clone(),
                task_set_id: task_set_id(&container.cluster),
                service: container.key(),
                deployment_id: deployment_id.to_owned(),
                role: "replacement".to_owned(),
                definition: container.task_definition.clone(),
                task_count: i64::from(count),
                container_name: container.container_name.clone(),
                container_port: i64::from(container.container_port),
            })
            .collect();
        let mut tx = state.store().begin().await.map_err(text)?;
        tx.insert_task_sets(&rows, state.inner.clock.now_ms()).await.map_err(text)?;
        tx.commit().await.map_err(text)?;
        let placed: Vec<String> = rows
            .iter()
            .map(|row| format!("{} ({} × {})", row.instance_name, row.task_count, row.task_set_id))
            .collect();
        log.push(format!(
            "Replacement task set of {} ({} tasks) assigned: {}.",
            container.family,
            container.desired_count,
            placed.join(", ")
        ));
    }
    let started = std::time::Instant::now();
    let timeout = Duration::from_secs(settings.health_timeout_seconds);
    loop {
        let rows = {
            let mut tx = state.store().begin().await.map_err(text)?;
            tx.task_sets_of_deployment(deployment_id).await.map_err(text)?
        };
        if let Some(failed) = rows.iter().find(|row| row.error.is_some()) {
            return Err(format!(
                "the replacement task set {} on {} failed: {}",
                failed.task_set_id,
                failed.instance_name,
                failed.error.as_deref().unwrap_or_default()
            ));
        }
        if !rows.is_empty() && rows.iter().all(|row| row.healthy && row.running >= row.task_count) {
            let now = state.inner.clock.now_ms();
            for row in &rows {
                log.push(format!(
                    "{}: {} tasks healthy, upstreams {}.",
                    row.instance_name,
                    row.running,
                    upstreams(row).join(", ")
                ));
            }
            log.push(format!("The replacement task set is healthy after {} ms.", started.elapsed().as_millis()));
            save(state, deployment_id, |container| {
                container.replacement_healthy_at.get_or_insert(now);
            })
            .await
            .map_err(text)?;
            return Ok(());
        }
        if rows.is_empty() {
            return Err("the replacement task set was withdrawn".to_owned());
        }
        if stopping(state, deployment_id).await? {
            return Err("the deployment stopped while the replacement task set started".to_owned());
        }
        if started.elapsed() >= timeout {
            let pending: Vec<String> = rows
                .iter()
                .filter(|row| !(row.healthy && row.running >= row.task_count))
                .map(|row| match row.reported_at {
                    None => format!("{}: its agent has not reported the task set", row.instance_name),
                    Some(_) => format!(
                        "{}: {} of {} tasks running, not healthy yet",
                        row.instance_name, row.running, row.task_count
                    ),
                })
                .collect();
            return Err(format!(
                "the replacement task set was not healthy within {} s: {}",
                timeout.as_secs(),
                pending.join("; ")
            ));
        }
        tokio::time::sleep(POLL).await;
    }
}

/// The service's task sets split by side: (original = the primary of an earlier deployment, replacement = this
/// deployment's, whether promoted yet or not — so a step re-run after a crash sees the same sides).
async fn sides(state: &AppState, deployment_id: &str, key: &str) -> Result<(Vec<TaskSetRow>, Vec<TaskSetRow>), String> {
    let mut tx = state.store().begin().await.map_err(text)?;
    let rows = tx.task_sets_of_service(key).await.map_err(text)?;
    let (replacement, rest): (Vec<TaskSetRow>, Vec<TaskSetRow>) =
        rows.into_iter().partition(|row| row.deployment_id == deployment_id);
    let original = rest.into_iter().filter(|row| row.role == "primary").collect();
    Ok((original, replacement))
}

/// One router member per upstream of the task sets, all with `weight`.
fn members(rows: &[TaskSetRow], weight: u32) -> Vec<Member> {
    rows.iter()
        .flat_map(|row| {
            upstreams(row).into_iter().enumerate().map(move |(index, address)| Member {
                id: format!("{}-{index}", row.task_set_id),
                address,
                weight,
                state: MemberState::Ready,
            })
        })
        .collect()
}

/// Sets a route's pool to `members`, giving weight only to members the router has seen healthy.
async fn set_route(state: &AppState, route: &str, members: &[Member]) -> Result<(), String> {
    state.inner.traffic.apply_when_healthy(route, members).await
}

/// Production: `percent` on the replacement, the rest on the original (everything on the replacement if there is
/// no original: the service's first deployment).
async fn route_production(
    state: &AppState,
    deployment_id: &str,
    container: &ContainerDeployment,
    percent: u64,
) -> Result<(), String> {
    let (original, replacement) = sides(state, deployment_id, &container.key()).await?;
    let old = members(&original, 0);
    let new = members(&replacement, 0);
    let max = state.inner.traffic.max_weight(&container.prod_route)?;
    let (old_weight, new_weight) = split_weights(percent, old.len(), new.len(), max);
    let mut all: Vec<Member> = old.into_iter().map(|member| Member { weight: old_weight, ..member }).collect();
    all.extend(new.into_iter().map(|member| Member { weight: new_weight, ..member }));
    set_route(state, &container.prod_route, &all).await
}

/// AllowTestTraffic: the test route goes to the replacement.
async fn allow_test_traffic(
    state: &AppState,
    deployment_id: &str,
    container: &ContainerDeployment,
    log: &mut Vec<String>,
) -> Result<(), String> {
    let Some(route) = &container.test_route else {
        log.push("The deployment group has no test route (testTrafficRoute); nothing to do.".to_owned());
        return Ok(());
    };
    let (_, replacement) = sides(state, deployment_id, &container.key()).await?;
    let max = state.inner.traffic.max_weight(route)?;
    let members = members(&replacement, max);
    set_route(state, route, &members).await?;
    log.push(format!("Test route {route}: {} replacement tasks.", members.len()));
    Ok(())
}

/// AllowTraffic: production moves to the replacement per the deployment configuration.
async fn shift(
    state: &AppState,
    deployment_id: &str,
    container: &ContainerDeployment,
    log: &mut Vec<String>,
) -> Result<(), String> {
    let routing: TrafficRouting = container.routing.map_or(TrafficRouting::AllAtOnce, Into::into);
    let target = format!("{} production ({}) on the replacement task set", container.service, container.prod_route);
    let back = format!("all of {}'s production traffic is back on the original task set", container.service);
    let progress = ShiftProgress { started: container.shift_started, done: container.shifts_done };
    let production = ProductionShift { state, deployment_id, container };
    crate::functions::shift_by_schedule(state, deployment_id, &routing, progress, &production, (&target, &back), log)
        .await
}

struct ProductionShift<'a> {
    state: &'a AppState,
    deployment_id: &'a str,
    container: &'a ContainerDeployment,
}

impl ShiftTarget for ProductionShift<'_> {
    fn route(&self, percent: u64) -> impl Future<Output = Result<(), String>> + Send {
        route_production(self.state, self.deployment_id, self.container, percent)
    }

    async fn saved(&self, progress: ShiftProgress, percent: u64) -> Result<(), String> {
        save(self.state, self.deployment_id, move |container| {
            container.shift_started = progress.started;
            container.shifts_done = progress.done;
            container.target_percent = percent;
        })
        .await
        .map(|_| ())
        .map_err(text)
    }
}

/// After AfterAllowTraffic succeeded: the termination wait, then production holds only the replacement, which
/// becomes the service's primary task set; the original is withdrawn (its hosts stop it).
async fn finish(
    state: &AppState,
    deployment_id: &str,
    container: &ContainerDeployment,
    log: &mut Vec<String>,
) -> Result<(), String> {
    if container.promoted {
        return Ok(());
    }
    // The end of the wait is kept, so a restarted server does not wait again from the start.
    let terminate_at = match container.terminate_at {
        Some(at) => at,
        None => {
            let at = state.inner.clock.now_ms()
                + state.inner.traffic.minutes(container.termination_wait_minutes).as_millis() as i64;
            save(state, deployment_id, |container| container.terminate_at = Some(at)).await.map_err(text)?;
            at
        }
    };
    loop {
        if stopping(state, deployment_id).await? {
            return Err("the deployment stopped during the wait before the original task set is removed".to_owned());
        }
        let now = state.inner.clock.now_ms();
        if now >= terminate_at {
            break;
        }
        tokio::time::sleep(POLL.min(Duration::from_millis((terminate_at - now) as u64))).await;
    }
    // The replacement takes all of production only complete: every task running with its upstream reported.
    let timeout = Duration::from_secs(state.inner.traffic.containers.health_timeout_seconds);
    let started = std::time::Instant::now();
    let (original, replacement) = loop {
        let (original, replacement) = sides(state, deployment_id, &container.key()).await?;
        let complete =
            |row: &TaskSetRow| row.running >= row.task_count && upstreams(row).len() as i64 >= row.task_count;
        if !replacement.is_empty() && replacement.iter().all(complete) {
            break (original, replacement);
        }
        if stopping(state, deployment_id).await? {
            return Err("the deployment stopped before the original task set was removed".to_owned());
        }
        if started.elapsed() >= timeout {
            return Err(format!(
                "the replacement task set did not have all its tasks running within {} s, so the original was kept",
                timeout.as_secs()
            ));
        }
        tokio::time::sleep(POLL).await;
    };
    let max = state.inner.traffic.max_weight(&container.prod_route)?;
    set_route(state, &container.prod_route, &members(&replacement, max)).await?;
    // Promotion and its record in one transaction, under the deployment's row lock: a stop that got in first wins
    // (the restore then routes back to the original, which still exists), and a re-run finds `promoted`.
    {
        let mut tx = state.store().begin().await.map_err(text)?;
        let row = tx.deployment_for_update(deployment_id).await.map_err(text)?.ok_or("the deployment is gone")?;
        if row.stop_requested || row.status != "InProgress" {
            return Err("the deployment stopped before the original task set was removed".to_owned());
        }
        let mut options = DeploymentOptions::from_json(&row.options);
        if let Some(container) = options.container.as_mut() {
            container.promoted = true;
        }
        tx.set_deployment_options(deployment_id, &options.to_json()).await.map_err(text)?;
        tx.promote_task_sets(&container.key(), deployment_id).await.map_err(text)?;
        tx.commit().await.map_err(text)?;
    }
    let removed: Vec<&str> = original.iter().map(|row| row.task_set_id.as_str()).collect();
    log.push(if removed.is_empty() {
        format!("The replacement task set is {}'s primary task set.", container.service)
    } else {
        format!(
            "The replacement task set is {}'s primary task set; the original ({}) is withdrawn.",
            container.service,
            removed.join(", ")
        )
    });
    Ok(())
}

/// Routes production and the test route back to the original and withdraws the replacement (a failed or stopped
/// deployment). Retried with a growing pause (at most a minute) until it is done: a restarted server picks it up
/// again (`resume_restores`), and no new deployment of the service starts before it is done.
pub(crate) fn spawn_restore(state: &AppState, deployment_id: &str) {
    let key = format!("ecs-restore/{deployment_id}");
    if !state.inner.traffic.start(&key) {
        return;
    }
    let state = state.clone();
    let deployment_id = deployment_id.to_owned();
    tokio::spawn(async move {
        let mut pause = Duration::from_millis(200);
        let mut attempt = 0u32;
        loop {
            let options = {
                let Ok(mut tx) = state.store().begin().await else { break };
                let Ok(Some(row)) = tx.deployment(&deployment_id).await else { break };
                DeploymentOptions::from_json(&row.options)
            };
            let Some(container) = options.container.filter(|container| container.restore && !container.restored) else {
                break;
            };
            attempt += 1;
            match restore(&state, &deployment_id, &container).await {
                Ok(()) => {
                    tracing::info!(message = "ECS deployment rolled back.", %deployment_id, service = %container.service);
                    let _ = save(&state, &deployment_id, |container| {
                        container.restored = true;
                        container.target_percent = 0;
                    })
                    .await;
                    break;
                }
                Err(error) => {
                    tracing::error!(message = "Rolling the ECS deployment back failed.", %deployment_id, attempt, %error);
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(60));
                }
            }
        }
        state.inner.traffic.done(&key);
    });
}

/// Starts the restores that a server stopped before finishing: finished deployments whose replacement task sets are
/// still assigned. Run at start and by the maintenance tick.
pub(crate) async fn resume_restores(state: &AppState) -> Result<(), StoreError> {
    let pending: Vec<String> = {
        let mut tx = state.store().begin().await?;
        let mut ids: Vec<String> = tx
            .all_task_sets()
            .await?
            .into_iter()
            .filter(|row| row.role == "replacement")
            .map(|row| row.deployment_id)
            .collect();
        ids.sort();
        ids.dedup();
        let mut pending = Vec::new();
        for id in ids {
            if let Some(row) = tx.deployment(&id).await?
                && matches!(row.status.as_str(), "Succeeded" | "Failed" | "Stopped")
            {
                pending.push(id);
            }
        }
        pending
    };
    for deployment_id in pending {
        spawn_restore(state, &deployment_id);
    }
    Ok(())
}

async fn restore(state: &AppState, deployment_id: &str, container: &ContainerDeployment) -> Result<(), String> {
    if container.promoted {
        return Ok(());
    }
    let (original, _) = sides(state, deployment_id, &container.key()).await?;
    // Production had nothing before a service's first deployment: it is emptied rather than left on a replacement
    // that is about to go.
    let max = state.inner.traffic.max_weight(&container.prod_route)?;
    let back = members(&original, max);
    state.inner.traffic.set_pool(&container.prod_route, &back).await?;
    if let Some(route) = &container.test_route {
        state.inner.traffic.set_pool(route, &back).await?;
    }
    let mut tx = state.store().begin().await.map_err(text)?;
    tx.delete_task_sets_of_deployment(deployment_id).await.map_err(text)?;
    tx.commit().await.map_err(text)?;
    Ok(())
}

/// Re-applies a service's routes from its primary task sets after a host reported new upstreams for them (a task
/// replaced on another port), unless a deployment of the service is moving traffic (its own steps set the routes).
pub(crate) fn spawn_refresh(state: &AppState, service: &str) {
    let key = format!("ecs-refresh/{service}");
    if !state.inner.traffic.start(&key) {
        return;
    }
    let state = state.clone();
    let service = service.to_owned();
    tokio::spawn(async move {
        let mut applied: Option<Vec<TaskSetRow>> = None;
        // Again while reports changed the upstreams during the last change.
        for _ in 0..5 {
            match refresh(&state, &service, applied.as_deref()).await {
                Ok(Some(rows)) => applied = Some(rows),
                Ok(None) => break,
                Err(error) => {
                    tracing::warn!(message = "Refreshing the routes of a container service failed.", %service, %error);
                    break;
                }
            }
        }
        state.inner.traffic.done(&key);
    });
}

/// One refresh; the primary rows applied, or None when there was nothing (more) to do.
async fn refresh(
    state: &AppState,
    service: &str,
    applied: Option<&[TaskSetRow]>,
) -> Result<Option<Vec<TaskSetRow>>, String> {
    let (rows, container) = {
        let mut tx = state.store().begin().await.map_err(text)?;
        let rows = tx.task_sets_of_service(service).await.map_err(text)?;
        if rows.iter().any(|row| row.role == "replacement") {
            return Ok(None);
        }
        let primary: Vec<TaskSetRow> = rows.into_iter().filter(|row| row.role == "primary").collect();
        let Some(first) = primary.first() else { return Ok(None) };
        let container = tx
            .deployment(&first.deployment_id)
            .await
            .map_err(text)?
            .and_then(|row| DeploymentOptions::from_json(&row.options).container);
        (primary, container)
    };
    let Some(container) = container else { return Ok(None) };
    let same = |a: &[TaskSetRow], b: &[TaskSetRow]| {
        a.len() == b.len() && a.iter().zip(b).all(|(a, b)| a.task_set_id == b.task_set_id && a.upstreams == b.upstreams)
    };
    if applied.is_some_and(|applied| same(applied, &rows)) {
        return Ok(None);
    }
    for route in std::iter::once(&container.prod_route).chain(container.test_route.as_ref()) {
        let max = state.inner.traffic.max_weight(route)?;
        let members = members(&rows, max);
        // Never an empty pool: while every task is down the router's health checks already keep traffic off them.
        if !members.is_empty() {
            state.inner.traffic.set_pool(route, &members).await?;
        }
    }
    tracing::info!(message = "Container service routes refreshed from new upstreams.", %service);
    Ok(Some(rows))
}

/// The target of an ECS deployment as the API shows it.
pub(crate) fn target(
    instance: wire::InstanceTarget,
    container: &ContainerDeployment,
    task_sets: &[TaskSetRow],
    deployment_id: &str,
) -> wire::ECSTarget {
    let set = |role: &str, rows: Vec<&TaskSetRow>| {
        let desired: i64 = rows.iter().map(|row| row.task_count).sum();
        let running: i64 = rows.iter().map(|row| row.running).sum();
        wire::ECSTaskSet {
            identifer: Some(rows.iter().map(|row| row.task_set_id.as_str()).collect::<Vec<_>>().join(",")),
            desired_count: Some(desired),
            pending_count: Some((desired - running).max(0)),
            running_count: Some(running),
            status: Some(if role == "replacement" { "ACTIVE" } else { "PRIMARY" }.to_owned()),
            traffic_weight: Some(if role == "replacement" {
                container.target_percent as f64
            } else {
                100.0 - container.target_percent as f64
            }),
            target_group: None,
            task_set_label: Some(if role == "replacement" { "Green" } else { "Blue" }.to_owned()),
        }
    };
    let original: Vec<&TaskSetRow> =
        task_sets.iter().filter(|row| row.role == "primary" && row.deployment_id != deployment_id).collect();
    let replacement: Vec<&TaskSetRow> = task_sets.iter().filter(|row| row.deployment_id == deployment_id).collect();
    let mut sets = Vec::new();
    if !original.is_empty() {
        sets.push(set("primary", original));
    }
    if !replacement.is_empty() {
        sets.push(set("replacement", replacement));
    }
    wire::ECSTarget {
        deployment_id: instance.deployment_id,
        target_id: instance.target_id,
        target_arn: Some(format!(
            "arn:cutover:ecs:local:000000000000:service/{}/{}",
            container.cluster, container.service
        )),
        last_updated_at: instance.last_updated_at,
        lifecycle_events: instance.lifecycle_events,
        status: instance.status,
        task_sets_info: Some(sets),
    }
}

/// `POST /v1/container-services`: a service's task sets as the hosts last reported them, and with `logs` the last
/// lines of every container, asked of the hosts now (they answer with their next report).
pub(crate) async fn describe(
    axum::extract::State(state): axum::extract::State<AppState>,
    axum::Json(request): axum::Json<ContainerServiceRequest>,
) -> Result<axum::Json<ContainerService>, crate::agent_api::AgentApiError> {
    let key = service_key(&request.cluster, &request.service);
    let asked = state.inner.clock.now_ms();
    let wait = Duration::from_millis(request.wait_ms.unwrap_or(10_000).min(60_000));
    if request.logs {
        let mut tx = state.store().begin().await?;
        tx.request_task_set_logs(&key, asked + wait.as_millis() as i64).await?;
        tx.commit().await?;
    }
    let started = std::time::Instant::now();
    let rows = loop {
        let rows = {
            let mut tx = state.store().begin().await?;
            tx.task_sets_of_service(&key).await?
        };
        let fresh = |row: &TaskSetRow| row.logs_at.is_some_and(|at| at >= asked);
        if !request.logs || rows.iter().all(fresh) || started.elapsed() >= wait {
            break rows;
        }
        tokio::time::sleep(POLL).await;
    };
    let task_sets = rows
        .iter()
        .map(|row| {
            let family = cutover_containers::TaskDefinition::from_json(&row.definition)
                .map(|definition| definition.family)
                .unwrap_or_default();
            let logs = (request.logs && row.logs_at.is_some_and(|at| at >= asked))
                .then(|| row.logs.as_deref().and_then(|json| serde_json::from_str(json).ok()))
                .flatten();
            ContainerTaskSet {
                instance_name: row.instance_name.clone(),
                task_set_id: row.task_set_id.clone(),
                role: row.role.clone(),
                deployment_id: row.deployment_id.clone(),
                family,
                desired: u32::try_from(row.task_count).unwrap_or(0),
                running: u32::try_from(row.running).unwrap_or(0),
                healthy: row.healthy,
                upstreams: upstreams(row),
                error: row.error.clone(),
                replaced: u32::try_from(row.replaced).unwrap_or(0),
                messages: row.messages.clone(),
                reported_at: row.reported_at,
                logs,
            }
        })
        .collect();
    Ok(axum::Json(ContainerService { cluster: request.cluster, service: request.service, task_sets }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_is_even_with_the_remainder_first() {
        assert_eq!(spread(3, 2), vec![2, 1]);
        assert_eq!(spread(4, 2), vec![2, 2]);
        assert_eq!(spread(1, 3), vec![1, 0, 0]);
        assert_eq!(spread(5, 0), Vec::<u32>::new());
    }
}
