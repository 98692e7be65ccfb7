//! Traffic control: the server's side of BlockTraffic and AllowTraffic, blue/green rerouting with weighted
//! canary/linear steps, and the replacement fleet's provisioning and the originals' termination.
//!
//! A deployment group names target groups (`loadBalancerInfo`); each is a pool on a router (the built-in
//! `cutover-router` or HAProxy, both behind `cutover_router::TrafficController`) configured in the traffic file
//! (`--traffic-config`). An instance's upstream address is its `cutover:address` tag.
//!
//! The events run here are marked `runner = server` in the store: the orchestrator starts them (Pending →
//! InProgress in its transaction) and calls [`spawn`] after committing; the result is recorded like an agent's
//! report. A task in flight is only remembered in this process to avoid running it twice; after a restart the
//! orchestrator hands the InProgress events over again and they run again, which is safe because every router
//! change here is idempotent (it sets the pool's members, it does not add to them). A blue/green shift persists the
//! step it reached, so it resumes where it was rather than restarting from the canary.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cutover_domain::config::TrafficRouting;
use cutover_domain::traffic::{Role, split_weights};
use cutover_router::{Member, MemberState, MemberStatus, RouterConfig, TrafficController};
use cutover_store::{EventDiagnostics, EventRow, StoreError};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::convert::DeploymentOptions;

/// The instance tag holding the address (`host:port`, or `host` plus the target group's port) the router sends the
/// instance's traffic to.
pub const ADDRESS_TAG: &str = "cutover:address";

/// How often a wait (health, drain, next step) looks again.
const POLL: Duration = Duration::from_millis(100);

/// The traffic file: target groups and blue/green fleets.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrafficFile {
    #[serde(default)]
    pub target_group: Vec<TargetGroupSettings>,
    #[serde(default)]
    pub fleet: Vec<FleetSettings>,
    /// Functions of Lambda deployments (`functions.rs`).
    #[serde(default)]
    pub function: Vec<crate::functions::FunctionSettings>,
    /// Container services of ECS deployments (`ecs.rs`).
    #[serde(default)]
    pub containers: crate::ecs::ContainerSettings,
}

/// A target group: a pool on one router.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetGroupSettings {
    /// The name `loadBalancerInfo.targetGroupInfoList[].name` refers to.
    pub name: String,
    pub router: RouterConfig,
    /// The router's pool (HAProxy: backend); default: the target group's name.
    #[serde(default)]
    pub pool: Option<String>,
    /// Port for instances whose `cutover:address` tag has none.
    #[serde(default)]
    pub port: Option<u16>,
    /// Longest wait for in-flight requests of a blocked instance to finish (AWS's deregistration delay).
    #[serde(default = "default_deregistration_delay")]
    pub deregistration_delay_seconds: u64,
    /// Longest wait for an instance to pass the router's health checks in AllowTraffic.
    #[serde(default = "default_health_timeout")]
    pub health_timeout_seconds: u64,
}

/// How a deployment group's replacement fleet is made and its originals are retired (blue/green).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FleetSettings {
    pub application: String,
    pub deployment_group: String,
    /// Run for `greenFleetProvisioningOption: COPY_AUTO_SCALING_GROUP`: must start as many hosts as the group has
    /// (`CUTOVER_INSTANCE_COUNT`), whose agents register with the tag `CUTOVER_GREEN_TAG_KEY=CUTOVER_GREEN_TAG_VALUE`.
    #[serde(default)]
    pub provision_command: Option<String>,
    /// Longest wait for the provisioned hosts to register.
    #[serde(default = "default_provision_timeout")]
    pub provision_timeout_seconds: u64,
    /// Run once per original instance when it is terminated (`CUTOVER_INSTANCE_NAME`, `CUTOVER_INSTANCE_ADDRESS`).
    #[serde(default)]
    pub terminate_command: Option<String>,
}

fn default_deregistration_delay() -> u64 {
    300
}

fn default_health_timeout() -> u64 {
    300
}

fn default_provision_timeout() -> u64 {
    600
}

/// Reads and checks the traffic file.
pub fn load_file(path: &Path) -> Result<TrafficFile, String> {
    let text = std::fs::read_to_string(path).map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    let file: TrafficFile = toml::from_str(&text).map_err(|error| format!("{}: {error}", path.display()))?;
    let mut names = HashSet::new();
    for group in &file.target_group {
        if group.name.is_empty() {
            return Err(format!("{}: a target_group has an empty name", path.display()));
        }
        if !names.insert(group.name.as_str()) {
            return Err(format!("{}: target_group {:?} is defined twice", path.display(), group.name));
        }
    }
    for fleet in &file.fleet {
        if fleet.application.is_empty() || fleet.deployment_group.is_empty() {
            return Err(format!("{}: a fleet needs application and deployment_group", path.display()));
        }
    }
    let groups: Vec<String> = file.target_group.iter().map(|group| group.name.clone()).collect();
    crate::functions::validate(&file.function, &groups).map_err(|error| format!("{}: {error}", path.display()))?;
    Ok(file)
}

struct TargetGroup {
    settings: TargetGroupSettings,
    controller: Arc<dyn TrafficController>,
}

impl TargetGroup {
    fn pool(&self) -> &str {
        self.settings.pool.as_deref().unwrap_or(&self.settings.name)
    }
}

/// The configured target groups and fleets, and what this process is running for them.
pub(crate) struct Traffic {
    groups: HashMap<String, TargetGroup>,
    fleets: Vec<FleetSettings>,
    functions: Vec<crate::functions::FunctionSettings>,
    pub(crate) containers: crate::ecs::ContainerSettings,
    /// Invokes hook functions of the built-in provider.
    pub(crate) http: reqwest::Client,
    /// How long one "minute" of blue/green waits and canary/linear intervals lasts (a Cutover extension, so tests and
    /// impatient users can run them in seconds).
    pub(crate) minute: Duration,
    /// One change at a time per pool: a change reads the pool's members and writes them back.
    pool_locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Keys of the tasks running in this process.
    running: Mutex<HashSet<String>>,
}

impl Traffic {
    pub(crate) fn new(file: TrafficFile, minute: Duration) -> anyhow::Result<Traffic> {
        let mut groups = HashMap::new();
        for settings in file.target_group {
            let controller = cutover_router::connect(&settings.router)
                .map_err(|error| anyhow::anyhow!("target group {}: {error}", settings.name))?;
            groups.insert(settings.name.clone(), TargetGroup { settings, controller });
        }
        Ok(Traffic {
            groups,
            fleets: file.fleet,
            functions: file.function,
            containers: file.containers,
            http: reqwest::Client::builder().timeout(Duration::from_secs(30)).build()?,
            minute,
            pool_locks: Mutex::default(),
            running: Mutex::default(),
        })
    }

    pub(crate) fn load(path: Option<&PathBuf>, minute_seconds: f64) -> anyhow::Result<Traffic> {
        let file = match path {
            Some(path) => load_file(path).map_err(|error| anyhow::anyhow!(error))?,
            None => TrafficFile::default(),
        };
        Traffic::new(file, Duration::from_secs_f64(minute_seconds))
    }

    /// Whether `name` is a configured target group.
    pub(crate) fn has_target_group(&self, name: &str) -> bool {
        self.groups.contains_key(name)
    }

    pub(crate) fn target_group_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.groups.keys().cloned().collect();
        names.sort();
        names
    }

    pub(crate) fn fleet(&self, application: &str, group: &str) -> Option<&FleetSettings> {
        self.fleets.iter().find(|fleet| fleet.application == application && fleet.deployment_group == group)
    }

    pub(crate) fn function(&self, name: &str) -> Option<&crate::functions::FunctionSettings> {
        self.functions.iter().find(|function| function.name == name)
    }

    pub(crate) fn max_weight(&self, group: &str) -> Result<u32, String> {
        Ok(self.group(group)?.controller.max_weight())
    }

    /// Makes a target group's pool exactly `members`.
    pub(crate) async fn set_pool(&self, group_name: &str, members: &[Member]) -> Result<(), String> {
        let group = self.group(group_name)?;
        let lock = self.pool_lock(group_name);
        let _guard = lock.lock().await;
        group.controller.apply(group.pool(), members).await.map_err(|error| error.to_string())
    }

    /// Makes the pool `members` without ever sending a request to a member the router has not seen healthy: members
    /// that are to get weight but are new (or unhealthy) to the router are first added with weight 0 while every
    /// other member keeps the weight it has, and get their weight only once the router's health checks pass. Without
    /// this, a one-step switch (all at once) briefly leaves the pool with no member that may take a request.
    pub(crate) async fn apply_when_healthy(&self, group_name: &str, members: &[Member]) -> Result<(), String> {
        let group = self.group(group_name)?;
        let current = group.controller.status(group.pool()).await.map_err(|error| error.to_string())?;
        let healthy = |id: &str| current.iter().any(|status| status.id == id && status.healthy);
        let newcomers: Vec<String> = members
            .iter()
            .filter(|member| member.weight > 0 && !healthy(&member.id))
            .map(|member| member.id.clone())
            .collect();
        if !newcomers.is_empty() {
            let mut staged: Vec<Member> = members
                .iter()
                .map(|member| match current.iter().find(|status| status.id == member.id) {
                    _ if newcomers.contains(&member.id) => Member { weight: 0, ..member.clone() },
                    Some(status) => Member { weight: status.weight, state: status.state, ..member.clone() },
                    None => member.clone(),
                })
                .collect();
            staged.extend(current.iter().filter(|status| !members.iter().any(|member| member.id == status.id)).map(
                |status| Member {
                    id: status.id.clone(),
                    address: status.address.clone(),
                    weight: status.weight,
                    state: status.state,
                },
            ));
            self.set_pool(group_name, &staged).await?;
            wait_healthy(group, &newcomers, &mut Vec::new()).await?;
        }
        self.set_pool(group_name, members).await
    }

    /// Whether a target group's router names its members freely (the built-in router); HAProxy fills server slots
    /// declared by name in its configuration.
    pub(crate) fn names_members_freely(&self, name: &str) -> bool {
        self.groups.get(name).is_some_and(|group| matches!(group.settings.router, RouterConfig::Builtin { .. }))
    }

    fn group(&self, name: &str) -> Result<&TargetGroup, String> {
        self.groups
            .get(name)
            .ok_or_else(|| format!("target group {name:?} is not configured on this server (see --traffic-config)"))
    }

    fn pool_lock(&self, group: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.pool_locks.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        locks.entry(group.to_owned()).or_default().clone()
    }

    /// Marks `key` running; false when it already is.
    pub(crate) fn start(&self, key: &str) -> bool {
        self.running.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).insert(key.to_owned())
    }

    pub(crate) fn done(&self, key: &str) {
        self.running.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).remove(key);
    }

    pub(crate) fn minutes(&self, minutes: i64) -> Duration {
        self.minute.mul_f64(minutes.max(0) as f64)
    }
}

/// Blue/green settings of a deployment and how far it got, kept in its options.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub(crate) struct BlueGreen {
    /// This deployment is the rollback of a blue/green deployment: traffic goes back to the originals.
    #[serde(default)]
    pub rollback: bool,
    /// `deploymentReadyOption.actionOnTimeout`: STOP_DEPLOYMENT waits in Ready for ContinueDeployment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready_action: Option<String>,
    #[serde(default)]
    pub ready_wait_minutes: i64,
    /// `terminateBlueInstancesOnDeploymentSuccess.action`: TERMINATE or KEEP_ALIVE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub termination_action: Option<String>,
    #[serde(default)]
    pub termination_wait_minutes: i64,
    /// The replacement fleet is made by the fleet's provision command (COPY_AUTO_SCALING_GROUP's counterpart).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provision: Option<Provision>,
    /// ContinueDeployment(READY_WAIT) arrived.
    #[serde(default)]
    pub ready_continued: bool,
    /// When the current wait (Ready, termination) ends, epoch ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_until: Option<i64>,
    /// When the termination wait began (`instanceTerminationWaitTimeStarted`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub termination_started: Option<i64>,
    /// ContinueDeployment(TERMINATION_WAIT) arrived.
    #[serde(default)]
    pub termination_continued: bool,
    /// The originals were terminated (or kept alive): the deployment can end.
    #[serde(default)]
    pub retired: bool,
    /// When the first traffic shift happened, epoch ms; later shifts are timed from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shift_started: Option<i64>,
    /// How many shifts of the schedule were applied.
    #[serde(default)]
    pub shifts_done: usize,
    /// The traffic routing of the shift: canary/linear steps, or all at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routing: Option<RoutingSpec>,
}

/// Provisioning of a blue/green deployment's replacement hosts by the fleet's command.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub(crate) struct Provision {
    /// How many hosts to start (as many as the group has, at least one).
    pub count: usize,
    /// The tag the new hosts' agents register with: `cutover:green-for=<deployment id>`.
    pub tag_value: String,
    /// The hosts registered and became the deployment's Green targets.
    #[serde(default)]
    pub done: bool,
    /// Why provisioning failed; the deployment then fails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The tag key provisioned replacement hosts register with; its value is the deployment's id.
pub const GREEN_TAG_KEY: &str = "cutover:green-for";

/// A serializable [`TrafficRouting`].
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "type")]
pub(crate) enum RoutingSpec {
    AllAtOnce,
    TimeBasedCanary { percentage: u64, interval_minutes: u64 },
    TimeBasedLinear { percentage: u64, interval_minutes: u64 },
}

impl From<TrafficRouting> for RoutingSpec {
    fn from(routing: TrafficRouting) -> Self {
        match routing {
            TrafficRouting::AllAtOnce => Self::AllAtOnce,
            TrafficRouting::TimeBasedCanary { percentage, interval_minutes } => {
                Self::TimeBasedCanary { percentage, interval_minutes }
            }
            TrafficRouting::TimeBasedLinear { percentage, interval_minutes } => {
                Self::TimeBasedLinear { percentage, interval_minutes }
            }
        }
    }
}

impl From<RoutingSpec> for TrafficRouting {
    fn from(spec: RoutingSpec) -> Self {
        match spec {
            RoutingSpec::AllAtOnce => Self::AllAtOnce,
            RoutingSpec::TimeBasedCanary { percentage, interval_minutes } => {
                Self::TimeBasedCanary { percentage, interval_minutes }
            }
            RoutingSpec::TimeBasedLinear { percentage, interval_minutes } => {
                Self::TimeBasedLinear { percentage, interval_minutes }
            }
        }
    }
}

/// The upstream address of an instance for a target group, from its `cutover:address` tag.
fn instance_address(tags: &[(String, String)], instance: &str, group: &TargetGroupSettings) -> Result<String, String> {
    let value = tags.iter().find(|(key, _)| key == ADDRESS_TAG).map(|(_, value)| value.trim()).ok_or_else(|| {
        format!(
            "instance {instance} has no {ADDRESS_TAG} tag: the router of target group {} cannot reach it",
            group.name
        )
    })?;
    let has_port = value.rsplit_once(':').is_some_and(|(_, port)| port.parse::<u16>().is_ok()) && !value.ends_with(']');
    match (has_port, group.port) {
        (true, _) => Ok(value.to_owned()),
        (false, Some(port)) => Ok(format!("{value}:{port}")),
        (false, None) => Err(format!(
            "instance {instance}'s {ADDRESS_TAG} tag {value:?} has no port and target group {} sets none",
            group.name
        )),
    }
}

async fn addresses(
    state: &AppState,
    instances: &[String],
    group: &TargetGroupSettings,
) -> Result<Vec<(String, String)>, String> {
    let mut res = Vec::with_capacity(instances.len());
    let mut tx = state.store().begin().await.map_err(|error| error.to_string())?;
    for name in instances {
        let tags = tx
            .instance(name)
            .await
            .map_err(|error| error.to_string())?
            .map(|row| crate::convert::tags_from_json(&row.tags))
            .unwrap_or_default();
        res.push((name.clone(), instance_address(&tags, name, group)?));
    }
    Ok(res)
}

fn as_member(status: &MemberStatus) -> Member {
    Member { id: status.id.clone(), address: status.address.clone(), weight: status.weight, state: status.state }
}

/// Sets some members of a pool, keeping the others as the router has them.
async fn set_members(group: &TargetGroup, changes: &[Member], remove: &[String]) -> Result<(), String> {
    let statuses = group.controller.status(group.pool()).await.map_err(|error| error.to_string())?;
    let mut members: Vec<Member> = statuses
        .iter()
        .filter(|status| !remove.contains(&status.id) && !changes.iter().any(|change| change.id == status.id))
        .map(as_member)
        .collect();
    members.extend(changes.iter().cloned());
    group.controller.apply(group.pool(), &members).await.map_err(|error| error.to_string())
}

/// Takes an instance out of a target group: no new requests from now on; returns once its in-flight requests
/// finished or the deregistration delay passed.
async fn block(traffic: &Traffic, group_name: &str, instance: &str, log: &mut Vec<String>) -> Result<(), String> {
    let group = traffic.group(group_name)?;
    {
        let lock = traffic.pool_lock(group_name);
        let _guard = lock.lock().await;
        let statuses = group.controller.status(group.pool()).await.map_err(|error| error.to_string())?;
        if !statuses.iter().any(|status| status.id == instance && status.state != MemberState::Maint) {
            log.push(format!("{group_name}: {instance} receives no traffic; nothing to block."));
            return Ok(());
        }
        set_members(group, &[], &[instance.to_owned()]).await?;
    }
    let started = Instant::now();
    let delay = Duration::from_secs(group.settings.deregistration_delay_seconds);
    loop {
        let statuses = group.controller.status(group.pool()).await.map_err(|error| error.to_string())?;
        let in_flight = statuses.iter().find(|status| status.id == instance).map_or(0, |status| status.in_flight);
        if in_flight == 0 {
            log.push(format!(
                "{group_name}: {instance} drained in {} ms; it receives no new requests.",
                started.elapsed().as_millis()
            ));
            return Ok(());
        }
        if started.elapsed() >= delay {
            log.push(format!(
                "{group_name}: {instance} still had {in_flight} requests in flight after the deregistration delay of {} s; moving on.",
                delay.as_secs()
            ));
            return Ok(());
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Waits until every member of `instances` passes the target group's health checks.
async fn wait_healthy(group: &TargetGroup, instances: &[String], log: &mut Vec<String>) -> Result<(), String> {
    let started = Instant::now();
    let timeout = Duration::from_secs(group.settings.health_timeout_seconds);
    loop {
        let statuses = group.controller.status(group.pool()).await.map_err(|error| error.to_string())?;
        let unhealthy: Vec<&String> = instances
            .iter()
            .filter(|instance| !statuses.iter().any(|status| &status.id == *instance && status.healthy))
            .collect();
        if unhealthy.is_empty() {
            log.push(format!(
                "{}: {} healthy after {} ms.",
                group.settings.name,
                instances.join(", "),
                started.elapsed().as_millis()
            ));
            return Ok(());
        }
        if started.elapsed() >= timeout {
            let names: Vec<&str> = unhealthy.iter().map(|name| name.as_str()).collect();
            return Err(format!(
                "{} did not pass the health checks of target group {} within {} s",
                names.join(", "),
                group.settings.name,
                timeout.as_secs()
            ));
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Puts an instance (back) into a target group and returns once it is healthy there.
async fn allow(
    state: &AppState,
    traffic: &Traffic,
    group_name: &str,
    instance: &str,
    log: &mut Vec<String>,
) -> Result<(), String> {
    let group = traffic.group(group_name)?;
    let address = addresses(state, &[instance.to_owned()], &group.settings).await?.remove(0).1;
    {
        let lock = traffic.pool_lock(group_name);
        let _guard = lock.lock().await;
        let statuses = group.controller.status(group.pool()).await.map_err(|error| error.to_string())?;
        // The same weight as the instances serving now, so an in-place deployment keeps the pool's balance.
        let weight = statuses
            .iter()
            .filter(|status| status.id != instance && status.state == MemberState::Ready && status.weight > 0)
            .map(|status| status.weight)
            .max()
            .unwrap_or_else(|| group.controller.max_weight());
        let member = Member { id: instance.to_owned(), address: address.clone(), weight, state: MemberState::Ready };
        set_members(group, &[member], &[]).await?;
        log.push(format!("{group_name}: {instance} ({address}) added with weight {weight}."));
    }
    wait_healthy(group, &[instance.to_owned()], log).await
}

/// Starts the server-run events the orchestrator handed over, each at most once in this process.
pub(crate) fn spawn(state: &AppState, deployment_id: &str, events: Vec<EventRow>) {
    let traffic = &state.inner.traffic;
    let (shift, single): (Vec<EventRow>, Vec<EventRow>) =
        events.into_iter().partition(|event| event.name == "AllowTraffic" && event.phase > 0);
    if !shift.is_empty() {
        let key = format!("{deployment_id}/shift");
        if traffic.start(&key) {
            let state = state.clone();
            let deployment_id = deployment_id.to_owned();
            tokio::spawn(async move {
                let outcome = run_shift(&state, &deployment_id, &shift).await;
                state.inner.traffic.done(&key);
                if let Err(error) = outcome {
                    tracing::error!(message = "Traffic shift failed to record.", %deployment_id, %error);
                }
            });
        }
    }
    for event in single {
        let key = format!("{}/{}/{}", event.deployment_id, event.instance_name, event.position);
        if !traffic.start(&key) {
            continue;
        }
        let state = state.clone();
        let deployment_id = deployment_id.to_owned();
        tokio::spawn(async move {
            let outcome = run_instance_event(&state, &deployment_id, &event).await;
            state.inner.traffic.done(&key);
            if let Err(error) = outcome {
                tracing::error!(message = "Traffic event failed to record.", %deployment_id, %error);
            }
        });
    }
}

async fn deployment_target_groups(
    state: &AppState,
    deployment_id: &str,
) -> Result<(Vec<String>, DeploymentOptions), StoreError> {
    let mut tx = state.store().begin().await?;
    let row = tx.deployment(deployment_id).await?.ok_or_else(|| StoreError::NotFound(deployment_id.to_owned()))?;
    let options = DeploymentOptions::from_json(&row.options);
    Ok((options.target_groups.clone(), options))
}

/// BlockTraffic or AllowTraffic of one instance, in every target group of the deployment.
async fn run_instance_event(state: &AppState, deployment_id: &str, event: &EventRow) -> Result<(), StoreError> {
    let traffic = &state.inner.traffic;
    let (groups, options) = deployment_target_groups(state, deployment_id).await?;
    if options.function.is_some() {
        return crate::functions::run_event(state, deployment_id, event).await;
    }
    if options.container.is_some() {
        return crate::ecs::run_event(state, deployment_id, event).await;
    }
    let mut log = Vec::new();
    let mut result = Ok(());
    for group in &groups {
        result = match event.name.as_str() {
            "BlockTraffic" => block(traffic, group, &event.instance_name, &mut log).await,
            "AllowTraffic" => allow(state, traffic, group, &event.instance_name, &mut log).await,
            other => Err(format!("{other} is not a traffic event")),
        };
        if result.is_err() {
            break;
        }
    }
    if groups.is_empty() {
        log.push("The deployment group names no target group; nothing to do.".to_owned());
    }
    record(state, deployment_id, &[(event.instance_name.clone(), event.position)], result, &log).await
}

/// Records the result of server-run events (like an agent's report) with their log, then advances the deployment.
pub(crate) async fn record(
    state: &AppState,
    deployment_id: &str,
    events: &[(String, i64)],
    result: Result<(), String>,
    log: &[String],
) -> Result<(), StoreError> {
    let now = state.inner.clock.now_ms();
    let mut text = log.join("\n");
    if let Err(message) = &result {
        text.push_str(&format!("\n{message}"));
    }
    let (status, diagnostics) = match &result {
        Ok(()) => (
            "Succeeded",
            EventDiagnostics {
                error_code: "Success".to_owned(),
                script_name: String::new(),
                message: "Succeeded".to_owned(),
                log_tail: text.clone(),
            },
        ),
        Err(message) => (
            "Failed",
            EventDiagnostics {
                error_code: "UnknownError".to_owned(),
                script_name: String::new(),
                message: message.clone(),
                log_tail: text.clone(),
            },
        ),
    };
    let mut tx = state.store().begin().await?;
    for (instance, position) in events {
        tx.record_event_result(deployment_id, instance, *position, status, &diagnostics, None, now).await?;
        tx.put_event_log(deployment_id, instance, *position, &text).await?;
        if result.is_err() {
            tx.skip_pending_events(deployment_id, instance).await?;
        }
        crate::replicas::broadcast_wake(&mut tx, instance).await?;
    }
    tx.commit().await?;
    // The hosts' agents wait in a long poll for their next event, which this result made runnable.
    for (instance, _) in events {
        state.inner.wakeups.wake(instance);
    }
    let changed = if events.len() == 1 { Some(events[0].0.as_str()) } else { None };
    crate::orchestrator::advance(state, deployment_id, changed).await
}

/// The blue/green reroute: the fleet getting traffic (Green, or Blue in a rollback) is added to every target group
/// at weight 0 and must pass its health checks; then its share grows step by step per the routing, until it has all
/// traffic. A stop (user, alarm) between steps puts all traffic back on the other fleet at once.
async fn run_shift(state: &AppState, deployment_id: &str, events: &[EventRow]) -> Result<(), StoreError> {
    let traffic = &state.inner.traffic;
    let (groups, options) = deployment_target_groups(state, deployment_id).await?;
    let bg = options.blue_green.clone().unwrap_or_default();
    let gaining = if bg.rollback { Role::Blue } else { Role::Green };
    let targets = {
        let mut tx = state.store().begin().await?;
        tx.targets(deployment_id).await?
    };
    let new_fleet: Vec<String> = events.iter().map(|event| event.instance_name.clone()).collect();
    let old_fleet: Vec<String> = targets
        .iter()
        .filter(|target| target.role.as_deref().and_then(Role::parse).is_some_and(|role| role != gaining))
        .map(|target| target.instance_name.clone())
        .collect();
    let keys: Vec<(String, i64)> = events.iter().map(|event| (event.instance_name.clone(), event.position)).collect();
    let mut log = Vec::new();
    let routing: TrafficRouting = bg.routing.map_or(TrafficRouting::AllAtOnce, Into::into);
    let schedule = routing.schedule();

    // Resolve addresses first: a missing tag fails the step before any traffic moves.
    let mut fleets = Vec::new();
    for name in &groups {
        let group = match traffic.group(name) {
            Ok(group) => group,
            Err(message) => return record(state, deployment_id, &keys, Err(message), &log).await,
        };
        let new = match addresses(state, &new_fleet, &group.settings).await {
            Ok(new) => new,
            Err(message) => return record(state, deployment_id, &keys, Err(message), &log).await,
        };
        // The fleet losing traffic may hold hosts the router never knew (no address tag, failed before their
        // install): they are left out rather than failing the move, which a rollback must not.
        let mut old = Vec::new();
        for instance in &old_fleet {
            match addresses(state, std::slice::from_ref(instance), &group.settings).await {
                Ok(mut found) => old.append(&mut found),
                Err(message) => log.push(format!("{name}: {message}; left out of the routing.")),
            }
        }
        fleets.push((name.clone(), old, new));
    }

    if bg.shifts_done == 0 {
        // Gaining hosts join at weight 0: health-checked before any request reaches them.
        for (name, _, new) in &fleets {
            let Ok(group) = traffic.group(name) else { continue };
            let current = group.controller.status(group.pool()).await.map_err(|error| error.to_string());
            let current = match current {
                Ok(current) => current,
                Err(message) => return record(state, deployment_id, &keys, Err(message), &log).await,
            };
            let changes: Vec<Member> = new
                .iter()
                .map(|(id, address)| {
                    // In a rollback the originals may still serve: keep their weight rather than zero it.
                    let weight = current
                        .iter()
                        .find(|status| &status.id == id && status.state == MemberState::Ready)
                        .map_or(0, |status| status.weight);
                    Member { id: id.clone(), address: address.clone(), weight, state: MemberState::Ready }
                })
                .collect();
            let lock = traffic.pool_lock(name);
            let guard = lock.lock().await;
            let applied = set_members(group, &changes, &[]).await;
            drop(guard);
            if let Err(message) = applied {
                return record(state, deployment_id, &keys, Err(message), &log).await;
            }
            let ids: Vec<String> = new.iter().map(|(id, _)| id.clone()).collect();
            if let Err(message) = wait_healthy(group, &ids, &mut log).await {
                return record(state, deployment_id, &keys, Err(message), &log).await;
            }
        }
    }

    let mut started_at = bg.shift_started;
    for (index, shift) in schedule.iter().enumerate().skip(bg.shifts_done) {
        // Wait for the step's time, watching for a stop.
        loop {
            let now = state.inner.clock.now_ms();
            let due =
                started_at.map_or(now, |start| start + traffic.minutes(shift.at_minute as i64).as_millis() as i64);
            let (status, stop) = {
                let mut tx = state.store().begin().await?;
                let row = tx.deployment(deployment_id).await?;
                row.map_or(("Stopped".to_owned(), true), |row| (row.status.clone(), row.stop_requested))
            };
            if stop || status != "InProgress" {
                let restored = restore(traffic, &fleets, &mut log).await;
                let message = match restored {
                    Ok(()) => format!(
                        "Traffic shifting stopped at step {index} of {}: the deployment is {}; all traffic is back on the {} instances.",
                        schedule.len(),
                        if stop { "stopping" } else { status.as_str() },
                        if bg.rollback { "replacement" } else { "original" }
                    ),
                    Err(error) => format!("Traffic shifting stopped, and restoring traffic failed: {error}"),
                };
                return record(state, deployment_id, &keys, Err(message), &log).await;
            }
            if now >= due {
                break;
            }
            tokio::time::sleep(POLL.min(Duration::from_millis((due - now) as u64))).await;
        }
        for (name, old, new) in &fleets {
            let Ok(group) = traffic.group(name) else { continue };
            let (old_weight, new_weight) =
                split_weights(shift.total_percent, old.len(), new.len(), group.controller.max_weight());
            let mut changes: Vec<Member> = new
                .iter()
                .map(|(id, address)| Member {
                    id: id.clone(),
                    address: address.clone(),
                    weight: new_weight,
                    state: MemberState::Ready,
                })
                .collect();
            changes.extend(old.iter().map(|(id, address)| Member {
                id: id.clone(),
                address: address.clone(),
                weight: old_weight,
                state: MemberState::Ready,
            }));
            let lock = traffic.pool_lock(name);
            let guard = lock.lock().await;
            let applied = set_members(group, &changes, &[]).await;
            drop(guard);
            if let Err(message) = applied {
                // A failure part-way must not leave the traffic split: everything goes back to the other fleet.
                let restored = restore(traffic, &fleets, &mut log).await;
                let message = match restored {
                    Ok(()) => format!("{message}; all traffic is back where it was before the shift"),
                    Err(error) => format!("{message}; restoring the traffic failed too: {error}"),
                };
                return record(state, deployment_id, &keys, Err(message), &log).await;
            }
        }
        let now = state.inner.clock.now_ms();
        log.push(format!(
            "{} % of traffic on the {} instances (step {} of {}).",
            shift.total_percent,
            gaining.as_str().to_lowercase(),
            index + 1,
            schedule.len()
        ));
        tracing::info!(message = "Traffic shifted.", %deployment_id, percent = shift.total_percent, step = index + 1);
        started_at = started_at.or(Some(now));
        // Persist the step, so a restarted server resumes here.
        let mut tx = state.store().begin().await?;
        if let Some(row) = tx.deployment_for_update(deployment_id).await? {
            let mut options = DeploymentOptions::from_json(&row.options);
            let mut progress = options.blue_green.clone().unwrap_or_default();
            progress.shift_started = started_at;
            progress.shifts_done = index + 1;
            options.blue_green = Some(progress);
            tx.set_deployment_options(deployment_id, &options.to_json()).await?;
        }
        tx.commit().await?;
    }
    record(state, deployment_id, &keys, Ok(()), &log).await
}

/// A target group with the (instance, address) pairs of the fleet losing traffic and of the one gaining it.
type Fleets = (String, Vec<(String, String)>, Vec<(String, String)>);

/// Puts all traffic back on the fleet that had it before the shift (at once); the other keeps its place in the pool
/// at weight 0.
async fn restore(traffic: &Traffic, fleets: &[Fleets], log: &mut Vec<String>) -> Result<(), String> {
    for (name, old, new) in fleets {
        let group = traffic.group(name)?;
        if old.is_empty() {
            // Nothing served before this deployment: taking the new fleet out would leave nothing at all.
            log.push(format!("{name}: no original instance to return traffic to; routing left as it is."));
            continue;
        }
        let (old_weight, new_weight) = split_weights(0, old.len(), new.len(), group.controller.max_weight());
        let mut changes: Vec<Member> = old
            .iter()
            .map(|(id, address)| Member {
                id: id.clone(),
                address: address.clone(),
                weight: old_weight,
                state: MemberState::Ready,
            })
            .collect();
        changes.extend(new.iter().map(|(id, address)| Member {
            id: id.clone(),
            address: address.clone(),
            weight: new_weight,
            state: MemberState::Ready,
        }));
        let lock = traffic.pool_lock(name);
        let _guard = lock.lock().await;
        set_members(group, &changes, &[]).await?;
        log.push(format!(
            "{name}: all traffic restored to {}.",
            old.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>().join(", ")
        ));
    }
    Ok(())
}

/// Runs the fleet's provision command for a blue/green deployment and waits for the new hosts to register; they then
/// become the deployment's Green targets. Runs once per process; a restart runs the command again (it should be
/// idempotent per deployment id, e.g. reuse hosts already started for it).
pub(crate) fn spawn_provisioning(
    state: &AppState,
    deployment_id: &str,
    application: &str,
    group: &str,
    provision: Provision,
) {
    let key = format!("{deployment_id}/provision");
    if !state.inner.traffic.start(&key) {
        return;
    }
    let state = state.clone();
    let (deployment_id, application, group) = (deployment_id.to_owned(), application.to_owned(), group.to_owned());
    tokio::spawn(async move {
        let outcome = provision_fleet(&state, &deployment_id, &application, &group, &provision).await;
        let recorded = record_provisioning(&state, &deployment_id, outcome).await;
        state.inner.traffic.done(&key);
        if let Err(error) = recorded {
            tracing::error!(message = "Recording the provisioning failed.", %deployment_id, %error);
        }
    });
}

async fn provision_fleet(
    state: &AppState,
    deployment_id: &str,
    application: &str,
    group: &str,
    provision: &Provision,
) -> Result<Vec<String>, String> {
    let fleet = state.inner.traffic.fleet(application, group).cloned().ok_or_else(|| {
        format!("the traffic file has no [[fleet]] for {application}/{group}: nothing can provision replacement hosts")
    })?;
    let command = fleet
        .provision_command
        .clone()
        .ok_or_else(|| format!("the [[fleet]] of {application}/{group} has no provision_command"))?;
    let timeout = Duration::from_secs(fleet.provision_timeout_seconds);
    let started = Instant::now();
    let mut child = tokio::process::Command::new("sh");
    child
        .arg("-c")
        .arg(&command)
        .env("CUTOVER_DEPLOYMENT_ID", deployment_id)
        .env("CUTOVER_APPLICATION_NAME", application)
        .env("CUTOVER_DEPLOYMENT_GROUP_NAME", group)
        .env("CUTOVER_INSTANCE_COUNT", provision.count.to_string())
        .env("CUTOVER_GREEN_TAG_KEY", GREEN_TAG_KEY)
        .env("CUTOVER_GREEN_TAG_VALUE", &provision.tag_value)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    tracing::info!(message = "Provisioning replacement instances.", %deployment_id, count = provision.count);
    let output = tokio::time::timeout(timeout, child.output())
        .await
        .map_err(|_| format!("the provision command did not finish within {} s", timeout.as_secs()))?
        .map_err(|error| format!("the provision command could not run: {error}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: String =
            stderr.lines().rev().take(5).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n");
        return Err(format!("the provision command failed ({}): {tail}", output.status));
    }
    loop {
        let mut names = Vec::new();
        {
            let mut tx = state.store().begin().await.map_err(|error| error.to_string())?;
            for row in tx.list_instances().await.map_err(|error| error.to_string())? {
                let tags = crate::convert::tags_from_json(&row.tags);
                if row.deregister_time.is_none()
                    && tags.iter().any(|(key, value)| key == GREEN_TAG_KEY && *value == provision.tag_value)
                {
                    names.push(row.name);
                }
            }
        }
        if names.len() >= provision.count {
            names.sort();
            return Ok(names);
        }
        if started.elapsed() >= timeout {
            return Err(format!(
                "only {} of {} replacement hosts registered with the tag {GREEN_TAG_KEY}={} within {} s",
                names.len(),
                provision.count,
                provision.tag_value,
                timeout.as_secs()
            ));
        }
        tokio::time::sleep(POLL * 2).await;
    }
}

async fn record_provisioning(
    state: &AppState,
    deployment_id: &str,
    outcome: Result<Vec<String>, String>,
) -> Result<(), StoreError> {
    let now = state.inner.clock.now_ms();
    let mut tx = state.store().begin().await?;
    let Some(row) = tx.deployment_for_update(deployment_id).await? else { return Ok(()) };
    let mut options = DeploymentOptions::from_json(&row.options);
    let Some(mut bg) = options.blue_green.clone() else { return Ok(()) };
    let Some(mut provision) = bg.provision.clone() else { return Ok(()) };
    if provision.done || provision.error.is_some() || !matches!(row.status.as_str(), "InProgress" | "Created") {
        return Ok(());
    }
    match outcome {
        Ok(names) => {
            tracing::info!(message = "Replacement instances registered.", %deployment_id, instances = %names.join(", "));
            let plan = crate::api::deployments::plan_targets(&[], &names, true, true, false);
            tx.add_deployment_targets(deployment_id, &plan, now).await?;
            provision.done = true;
        }
        Err(message) => {
            tracing::warn!(message = "Provisioning replacement instances failed.", %deployment_id, error = %message);
            provision.error = Some(message);
        }
    }
    bg.provision = Some(provision);
    options.blue_green = Some(bg);
    tx.set_deployment_options(deployment_id, &options.to_json()).await?;
    tx.commit().await?;
    crate::orchestrator::advance(state, deployment_id, None).await
}

/// Retires the original instances of a successful blue/green deployment: runs the fleet's terminate command for
/// each and deregisters it (TERMINATE), then lets the deployment finish.
pub(crate) fn spawn_termination(
    state: &AppState,
    deployment_id: &str,
    application: &str,
    group: &str,
    instances: Vec<String>,
) {
    let key = format!("{deployment_id}/terminate");
    if !state.inner.traffic.start(&key) {
        return;
    }
    let state = state.clone();
    let deployment_id = deployment_id.to_owned();
    let command = state.inner.traffic.fleet(application, group).and_then(|fleet| fleet.terminate_command.clone());
    let (application, group) = (application.to_owned(), group.to_owned());
    tokio::spawn(async move {
        let outcome = terminate(&state, &deployment_id, &application, &group, command.as_deref(), &instances).await;
        state.inner.traffic.done(&key);
        if let Err(error) = outcome {
            tracing::error!(message = "Terminating the original instances failed.", %deployment_id, %error);
        }
    });
}

async fn terminate(
    state: &AppState,
    deployment_id: &str,
    application: &str,
    group: &str,
    command: Option<&str>,
    instances: &[String],
) -> Result<(), StoreError> {
    for instance in instances {
        let (address, gone) = {
            let mut tx = state.store().begin().await?;
            let row = tx.instance(instance).await?;
            let gone = row.as_ref().is_none_or(|row| row.deregister_time.is_some());
            let address = row
                .map(|row| crate::convert::tags_from_json(&row.tags))
                .and_then(|tags| tags.into_iter().find(|(key, _)| key == ADDRESS_TAG).map(|(_, value)| value))
                .unwrap_or_default();
            (address, gone)
        };
        // Already terminated (a run before a restart): the command is not run twice.
        if gone {
            continue;
        }
        if let Some(command) = command {
            let mut child = tokio::process::Command::new("sh");
            child
                .arg("-c")
                .arg(command)
                .env("CUTOVER_DEPLOYMENT_ID", deployment_id)
                .env("CUTOVER_APPLICATION_NAME", application)
                .env("CUTOVER_DEPLOYMENT_GROUP_NAME", group)
                .env("CUTOVER_INSTANCE_NAME", instance)
                .env("CUTOVER_INSTANCE_ADDRESS", &address)
                .stdin(std::process::Stdio::null())
                .kill_on_drop(true);
            let outcome = tokio::time::timeout(Duration::from_secs(600), child.output()).await;
            let terminated = match outcome {
                Ok(Ok(output)) if output.status.success() => {
                    tracing::info!(message = "Original instance terminated.", %deployment_id, %instance);
                    true
                }
                Ok(Ok(output)) => {
                    tracing::warn!(
                        message = "The terminate command failed; the instance stays registered.",
                        %deployment_id, %instance, status = %output.status,
                        stderr = %String::from_utf8_lossy(&output.stderr).trim()
                    );
                    false
                }
                Ok(Err(error)) => {
                    tracing::warn!(message = "The terminate command could not run; the instance stays registered.", %deployment_id, %instance, %error);
                    false
                }
                Err(_) => {
                    tracing::warn!(message = "The terminate command timed out (600 s); the instance stays registered.", %deployment_id, %instance);
                    false
                }
            };
            if !terminated {
                continue;
            }
        }
        let now = state.inner.clock.now_ms();
        let mut tx = state.store().begin().await?;
        if let Some(mut row) = tx.instance(instance).await?
            && row.deregister_time.is_none()
        {
            row.deregister_time = Some(now);
            tx.update_instance(&row).await?;
            tx.delete_instance_access_keys(instance).await?;
        }
        tx.commit().await?;
    }
    let mut tx = state.store().begin().await?;
    if let Some(row) = tx.deployment_for_update(deployment_id).await? {
        let mut options = DeploymentOptions::from_json(&row.options);
        let mut bg = options.blue_green.clone().unwrap_or_default();
        bg.retired = true;
        options.blue_green = Some(bg);
        tx.set_deployment_options(deployment_id, &options.to_json()).await?;
    }
    tx.commit().await?;
    crate::orchestrator::advance(state, deployment_id, None).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(port: Option<u16>) -> TargetGroupSettings {
        TargetGroupSettings {
            name: "web".to_owned(),
            router: RouterConfig::Haproxy { socket: PathBuf::from("/nonexistent") },
            pool: None,
            port,
            deregistration_delay_seconds: 1,
            health_timeout_seconds: 1,
        }
    }

    #[test]
    fn addresses_come_from_the_tag_and_the_group_port() {
        let tags = |value: &str| vec![(ADDRESS_TAG.to_owned(), value.to_owned())];
        assert_eq!(instance_address(&tags("10.0.0.5:8080"), "i", &group(None)), Ok("10.0.0.5:8080".to_owned()));
        assert_eq!(instance_address(&tags("10.0.0.5"), "i", &group(Some(80))), Ok("10.0.0.5:80".to_owned()));
        assert_eq!(instance_address(&tags("10.0.0.5:9"), "i", &group(Some(80))), Ok("10.0.0.5:9".to_owned()));
        let missing = instance_address(&[], "host-1", &group(Some(80))).unwrap_err();
        assert!(missing.contains("host-1") && missing.contains(ADDRESS_TAG), "{missing}");
        let no_port = instance_address(&tags("10.0.0.5"), "host-1", &group(None)).unwrap_err();
        assert!(no_port.contains("no port"), "{no_port}");
    }

    #[test]
    fn the_traffic_file_is_checked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("traffic.toml");
        std::fs::write(
            &path,
            "[[target_group]]\nname = \"web\"\nport = 8080\n[target_group.router]\nkind = \"haproxy\"\nsocket = \"/run/haproxy.sock\"\n",
        )
        .unwrap();
        let file = load_file(&path).unwrap();
        assert_eq!(file.target_group[0].deregistration_delay_seconds, 300);
        std::fs::write(&path, "[[target_group]]\nname = \"web\"\ncolour = \"blue\"\n").unwrap();
        let error = load_file(&path).unwrap_err();
        assert!(error.contains("colour"), "{error}");
        std::fs::write(
            &path,
            "[[target_group]]\nname = \"a\"\n[target_group.router]\nkind = \"haproxy\"\nsocket = \"/s\"\n\
             [[target_group]]\nname = \"a\"\n[target_group.router]\nkind = \"haproxy\"\nsocket = \"/s\"\n",
        )
        .unwrap();
        assert!(load_file(&path).unwrap_err().contains("defined twice"));
    }
}
