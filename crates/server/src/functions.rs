//! The function platform (`computePlatform: Lambda`): a deployment moves a function's alias from its current version
//! to its target version — all at once, canary or linear — calling validation hooks before and after.
//!
//! Functions are declared in the traffic file (`[[function]]`) with one of two providers behind [`Provider`]:
//! - built-in: each version is a set of upstreams (`versions`), each alias a target group on a router (`aliases`);
//!   moving the alias sets the pool's weights, and a hook function is invoked by POSTing to its `invoke_url`;
//! - AWS Lambda (`[function.aws]`): `UpdateAlias` with a `RoutingConfig`, and `Invoke` (asynchronous) for hooks, at
//!   a configurable endpoint (AWS, or a Lambda-compatible server).
//!
//! A deployment has one target (`<function>:<alias>`) with three server-run events: BeforeAllowTraffic (hook),
//! AllowTraffic (the shift) and AfterAllowTraffic (hook). A hook is invoked with `{DeploymentId,
//! LifecycleEventHookExecutionId}` and resolves only through PutLifecycleEventHookExecutionStatus, or fails at its
//! deadline (CodeDeploy's hour, in Cutover "minutes"). Progress (hook executions, the shift step reached) is kept in
//! the deployment's options, so a restarted server carries on.

use std::time::{Duration, Instant};

use cutover_auth::sigv4::{self, RequestParts};
use cutover_domain::config::TrafficRouting;
use cutover_domain::traffic::split_weights;
use cutover_router::{Member, MemberState};
use cutover_store::{EventRow, StoreError};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::convert::DeploymentOptions;
use crate::traffic::RoutingSpec;

/// How often a wait (hook result, next step) looks again.
const POLL: Duration = Duration::from_millis(100);

/// CodeDeploy gives a hook function an hour to report.
pub(crate) const HOOK_DEADLINE_MINUTES: i64 = 60;

/// A function of the traffic file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FunctionSettings {
    pub name: String,
    /// Built-in provider: version → upstream addresses (`host:port`).
    #[serde(default)]
    pub versions: std::collections::BTreeMap<String, Vec<String>>,
    /// Built-in provider: alias → target group (a pool on a router) that routes it.
    #[serde(default)]
    pub aliases: std::collections::BTreeMap<String, String>,
    /// Built-in provider: where invoking the function (as a hook) POSTs its payload.
    #[serde(default)]
    pub invoke_url: Option<String>,
    /// AWS Lambda provider.
    #[serde(default)]
    pub aws: Option<AwsLambdaSettings>,
}

/// Where the Lambda API is and how to sign for it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwsLambdaSettings {
    /// e.g. `https://lambda.eu-west-1.amazonaws.com`, or a Lambda-compatible server.
    pub endpoint: String,
    pub region: String,
    /// Default: the server's `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`.
    #[serde(default)]
    pub access_key_id: Option<String>,
    #[serde(default)]
    pub secret_access_key: Option<String>,
}

/// Checks the functions of the traffic file against its target groups.
pub(crate) fn validate(functions: &[FunctionSettings], target_groups: &[String]) -> Result<(), String> {
    let mut names = std::collections::HashSet::new();
    for function in functions {
        if function.name.is_empty() {
            return Err("a [[function]] has an empty name".to_owned());
        }
        if !names.insert(function.name.as_str()) {
            return Err(format!("function {:?} is defined twice", function.name));
        }
        let builtin = !function.versions.is_empty() || !function.aliases.is_empty();
        if builtin && function.aws.is_some() {
            return Err(format!(
                "function {:?} has both built-in versions/aliases and [aws]; choose one",
                function.name
            ));
        }
        for (alias, group) in &function.aliases {
            if !target_groups.contains(group) {
                return Err(format!(
                    "function {:?}: alias {alias:?} routes through target group {group:?}, which is not defined",
                    function.name
                ));
            }
        }
        for (version, upstreams) in &function.versions {
            if upstreams.is_empty() {
                return Err(format!("function {:?}: version {version:?} has no upstream", function.name));
            }
        }
    }
    Ok(())
}

/// A function deployment's settings and progress, kept in its options.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub(crate) struct FunctionDeployment {
    pub name: String,
    pub alias: String,
    pub current_version: String,
    pub target_version: String,
    /// (event, hook function) from the AppSpec.
    #[serde(default)]
    pub hooks: Vec<(String, String)>,
    pub routing: Option<RoutingSpec>,
    /// Hook executions started: their ids and, once reported, their status.
    #[serde(default)]
    pub executions: Vec<HookExecution>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shift_started: Option<i64>,
    #[serde(default)]
    pub shifts_done: usize,
    /// The share of traffic on the target version now, in percent.
    #[serde(default)]
    pub target_percent: u64,
    /// The alias is to go back to the current version (rollback), and whether that was done.
    #[serde(default)]
    pub restore: bool,
    #[serde(default)]
    pub restored: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub(crate) struct HookExecution {
    pub event: String,
    pub id: String,
    pub function: String,
    /// Epoch ms after which an unreported hook fails.
    pub deadline: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The function was invoked (a server restarted between recording the execution and invoking invokes again,
    /// with the same id).
    #[serde(default)]
    pub invoked: bool,
}

/// Moves an alias and invokes functions.
#[derive(Debug)]
enum Provider<'a> {
    Builtin,
    Aws(&'a AwsLambdaSettings),
}

fn provider<'a>(state: &'a AppState, function: &str) -> Result<(Provider<'a>, &'a FunctionSettings), String> {
    let settings =
        state.inner.traffic.function(function).ok_or_else(|| {
            format!("function {function:?} is not declared in the server's traffic file ([[function]])")
        })?;
    Ok(match &settings.aws {
        Some(aws) => (Provider::Aws(aws), settings),
        None => (Provider::Builtin, settings),
    })
}

/// Checks at CreateDeployment that the function, alias and versions can be deployed.
pub(crate) fn check_deployable(state: &AppState, spec: &cutover_domain::appspec::LambdaFunction) -> Result<(), String> {
    let (provider, settings) = provider(state, &spec.name)?;
    if let Provider::Builtin = provider {
        if !settings.aliases.contains_key(&spec.alias) {
            return Err(format!("function {} has no alias {:?} in the traffic file", spec.name, spec.alias));
        }
        for version in [&spec.current_version, &spec.target_version] {
            if !settings.versions.contains_key(version) {
                return Err(format!("function {} has no version {version:?} in the traffic file", spec.name));
            }
        }
    }
    Ok(())
}

/// Sets the alias so `target_percent` of its traffic goes to the target version (0: all on the current one).
async fn route(state: &AppState, deployment: &FunctionDeployment, target_percent: u64) -> Result<(), String> {
    let (provider, settings) = provider(state, &deployment.name)?;
    match provider {
        Provider::Builtin => {
            let group_name = settings
                .aliases
                .get(&deployment.alias)
                .ok_or_else(|| format!("function {} has no alias {:?}", deployment.name, deployment.alias))?;
            let current = settings.versions.get(&deployment.current_version).cloned().unwrap_or_default();
            let target = settings.versions.get(&deployment.target_version).cloned().unwrap_or_default();
            let traffic = &state.inner.traffic;
            let max = traffic.max_weight(group_name)?;
            let (current_weight, target_weight) = split_weights(target_percent, current.len(), target.len(), max);
            let member = |version: &str, index: usize, address: &String, weight: u32| Member {
                id: format!("{}-v{version}-{index}", deployment.name),
                address: address.clone(),
                weight,
                state: MemberState::Ready,
            };
            let mut members: Vec<Member> = current
                .iter()
                .enumerate()
                .map(|(index, address)| member(&deployment.current_version, index, address, current_weight))
                .collect();
            members.extend(
                target
                    .iter()
                    .enumerate()
                    .map(|(index, address)| member(&deployment.target_version, index, address, target_weight)),
            );
            // Before any request goes to a version, its upstreams must pass the router's health checks.
            traffic.apply_when_healthy(group_name, &members).await
        }
        Provider::Aws(aws) => {
            let body = if target_percent >= 100 {
                serde_json::json!({"FunctionVersion": deployment.target_version, "RoutingConfig": {"AdditionalVersionWeights": {}}})
            } else if target_percent == 0 {
                serde_json::json!({"FunctionVersion": deployment.current_version, "RoutingConfig": {"AdditionalVersionWeights": {}}})
            } else {
                serde_json::json!({
                    "FunctionVersion": deployment.current_version,
                    "RoutingConfig": {"AdditionalVersionWeights": {deployment.target_version.clone(): target_percent as f64 / 100.0}},
                })
            };
            let path = format!(
                "/2015-03-31/functions/{}/aliases/{}",
                urlencode(&deployment.name),
                urlencode(&deployment.alias)
            );
            aws_call(aws, "PUT", &path, &[], &serde_json::to_vec(&body).unwrap_or_default()).await.map(|_| ())
        }
    }
}

/// Invokes a hook function with CodeDeploy's payload; it reports back through PutLifecycleEventHookExecutionStatus.
async fn invoke(
    state: &AppState,
    deployed: Option<&str>,
    function: &str,
    payload: &serde_json::Value,
) -> Result<(), String> {
    let body = serde_json::to_vec(payload).unwrap_or_default();
    // A hook function declared on its own wins; otherwise it lives where the deployed function does (AWS).
    let settings =
        state.inner.traffic.function(function).or_else(|| deployed.and_then(|name| state.inner.traffic.function(name)));
    let settings = settings.ok_or_else(|| format!("hook function {function:?} is not declared in the traffic file"))?;
    match (&settings.aws, &settings.invoke_url) {
        (Some(aws), _) => {
            let path = format!("/2015-03-31/functions/{}/invocations", urlencode(function));
            aws_call(aws, "POST", &path, &[("x-amz-invocation-type".to_owned(), "Event".to_owned())], &body)
                .await
                .map(|_| ())
        }
        (None, Some(url)) if settings.name == function => {
            let response = state
                .inner
                .traffic
                .http
                .post(url)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .map_err(|error| format!("invoking {function} at {url}: {error}"))?;
            if response.status().is_success() {
                Ok(())
            } else {
                Err(format!("invoking {function} at {url}: HTTP {}", response.status()))
            }
        }
        _ => {
            Err(format!("hook function {function:?} has no invoke_url (built-in) or [aws] section in the traffic file"))
        }
    }
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (byte as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// One signed call to the Lambda API; returns the response body.
async fn aws_call(
    aws: &AwsLambdaSettings,
    method: &str,
    path: &str,
    extra: &[(String, String)],
    body: &[u8],
) -> Result<String, String> {
    let credentials = cutover_auth::Credentials {
        access_key_id: aws
            .access_key_id
            .clone()
            .or_else(|| std::env::var("AWS_ACCESS_KEY_ID").ok())
            .ok_or("no access key for the Lambda API (access_key_id or AWS_ACCESS_KEY_ID)")?,
        secret_access_key: aws
            .secret_access_key
            .clone()
            .or_else(|| std::env::var("AWS_SECRET_ACCESS_KEY").ok())
            .ok_or("no secret key for the Lambda API (secret_access_key or AWS_SECRET_ACCESS_KEY)")?,
    };
    let url = reqwest::Url::parse(&format!("{}{path}", aws.endpoint.trim_end_matches('/')))
        .map_err(|error| format!("Lambda endpoint {}: {error}", aws.endpoint))?;
    let host = match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_owned(),
        (None, _) => String::new(),
    };
    let mut signed = vec![("host".to_owned(), host), ("content-type".to_owned(), "application/json".to_owned())];
    signed.extend(extra.iter().cloned());
    let payload = sigv4::payload_hash(body);
    let parts = RequestParts {
        method,
        path: url.path(),
        query: url.query().unwrap_or(""),
        headers: &signed,
        payload_sha256: &payload,
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs() as i64);
    let auth = sigv4::sign(&parts, &credentials, &aws.region, "lambda", now);
    let method = reqwest::Method::from_bytes(method.as_bytes()).map_err(|error| error.to_string())?;
    let client =
        reqwest::Client::builder().timeout(Duration::from_secs(30)).build().map_err(|error| error.to_string())?;
    let mut request = client.request(method, url.clone()).body(body.to_vec());
    for (name, value) in signed.iter().skip(1).chain(auth.iter()) {
        request = request.header(name, value);
    }
    let response = request.send().await.map_err(|error| format!("Lambda API {url}: {error}"))?;
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    if status.is_success() {
        Ok(text)
    } else {
        Err(format!(
            "Lambda API {} {path}: HTTP {status}: {}",
            aws.endpoint,
            text.chars().take(300).collect::<String>()
        ))
    }
}

fn load(options: &DeploymentOptions) -> Result<FunctionDeployment, String> {
    options.function.clone().ok_or_else(|| "the deployment is not a function deployment".to_owned())
}

/// Changes a deployment's options under its row lock (the one way Lambda and ECS progress is recorded, so a report
/// and a deadline decided at the same time cannot both win); returns what `change` returns.
pub(crate) async fn update_options<R>(
    state: &AppState,
    deployment_id: &str,
    change: impl FnOnce(&mut DeploymentOptions) -> R,
) -> Result<R, StoreError> {
    let mut tx = state.store().begin().await?;
    let row =
        tx.deployment_for_update(deployment_id).await?.ok_or_else(|| StoreError::NotFound(deployment_id.to_owned()))?;
    let mut options = DeploymentOptions::from_json(&row.options);
    let result = change(&mut options);
    tx.set_deployment_options(deployment_id, &options.to_json()).await?;
    tx.commit().await?;
    Ok(result)
}

async fn save(
    state: &AppState,
    deployment_id: &str,
    change: impl FnOnce(&mut FunctionDeployment),
) -> Result<FunctionDeployment, StoreError> {
    update_options(state, deployment_id, |options| {
        let function = options.function.get_or_insert_with(FunctionDeployment::default);
        change(function);
        function.clone()
    })
    .await
}

/// Runs one server-run event of a function deployment and records its result.
pub(crate) async fn run_event(state: &AppState, deployment_id: &str, event: &EventRow) -> Result<(), StoreError> {
    let options = {
        let mut tx = state.store().begin().await?;
        let row = tx.deployment(deployment_id).await?.ok_or_else(|| StoreError::NotFound(deployment_id.to_owned()))?;
        DeploymentOptions::from_json(&row.options)
    };
    let mut log = Vec::new();
    let result = match load(&options) {
        Err(message) => Err(message),
        Ok(function) => match event.name.as_str() {
            "AllowTraffic" => shift(state, deployment_id, &function, &mut log).await,
            name => {
                let hooks = HookSource { deployed: Some(&function.name), hooks: &function.hooks };
                run_hook(state, deployment_id, hooks, &function.executions, name, &mut log).await
            }
        },
    };
    crate::traffic::record(state, deployment_id, &[(event.instance_name.clone(), event.position)], result, &log).await
}

/// The hooks of a Lambda or ECS AppSpec: (event, hook function), and the deployed function a hook function may
/// share its provider with (Lambda).
#[derive(Debug, Clone, Copy)]
pub(crate) struct HookSource<'a> {
    pub deployed: Option<&'a str>,
    pub hooks: &'a [(String, String)],
}

/// The hook executions of a Lambda or ECS deployment, kept in its options.
fn executions(options: &DeploymentOptions) -> Option<&Vec<HookExecution>> {
    match (&options.function, &options.container) {
        (Some(function), _) => Some(&function.executions),
        (None, Some(container)) => Some(&container.executions),
        (None, None) => None,
    }
}

fn executions_mut(options: &mut DeploymentOptions) -> Option<&mut Vec<HookExecution>> {
    match (&mut options.function, &mut options.container) {
        (Some(function), _) => Some(&mut function.executions),
        (None, Some(container)) => Some(&mut container.executions),
        (None, None) => None,
    }
}

/// Changes the hook executions under the deployment's row lock; returns them afterwards.
async fn save_executions(
    state: &AppState,
    deployment_id: &str,
    change: impl FnOnce(&mut Vec<HookExecution>),
) -> Result<Vec<HookExecution>, StoreError> {
    update_options(state, deployment_id, |options| {
        executions_mut(options).map(|executions| {
            change(executions);
            executions.clone()
        })
    })
    .await?
    .ok_or_else(|| StoreError::NotFound(format!("hook executions of {deployment_id}")))
}

/// A validation hook: invoke the hook function, then wait for its report or the deadline.
pub(crate) async fn run_hook(
    state: &AppState,
    deployment_id: &str,
    source: HookSource<'_>,
    known: &[HookExecution],
    event: &str,
    log: &mut Vec<String>,
) -> Result<(), String> {
    let Some((_, hook_function)) = source.hooks.iter().find(|(name, _)| name == event) else {
        log.push(format!("No {event} hook in the AppSpec."));
        return Ok(());
    };
    // One execution per event: a restarted server waits for the one it started rather than invoking again.
    let execution = match known.iter().find(|execution| execution.event == event) {
        Some(execution) => execution.clone(),
        None => {
            let now = state.inner.clock.now_ms();
            let execution = HookExecution {
                event: event.to_owned(),
                id: uuid::Uuid::new_v4().to_string(),
                function: hook_function.clone(),
                deadline: now + state.inner.traffic.minutes(HOOK_DEADLINE_MINUTES).as_millis() as i64,
                status: None,
                invoked: false,
            };
            let stored = execution.clone();
            save_executions(state, deployment_id, move |executions| executions.push(stored))
                .await
                .map_err(|error| error.to_string())?;
            execution
        }
    };
    if !execution.invoked && execution.status.is_none() {
        let payload = serde_json::json!({"DeploymentId": deployment_id, "LifecycleEventHookExecutionId": execution.id});
        invoke(state, source.deployed, hook_function, &payload).await?;
        let id = execution.id.clone();
        save_executions(state, deployment_id, move |executions| {
            if let Some(known) = executions.iter_mut().find(|known| known.id == id) {
                known.invoked = true;
            }
        })
        .await
        .map_err(|error| error.to_string())?;
        log.push(format!("Invoked {hook_function} (execution {}).", execution.id));
    }
    let started = Instant::now();
    loop {
        let (status, stop) = {
            let mut tx = state.store().begin().await.map_err(|error| error.to_string())?;
            let row = tx.deployment(deployment_id).await.map_err(|error| error.to_string())?;
            let stop = row.as_ref().is_none_or(|row| row.stop_requested || row.status != "InProgress");
            let status = row.map(|row| DeploymentOptions::from_json(&row.options)).and_then(|options| {
                executions(&options)?
                    .iter()
                    .find(|known| known.id == execution.id)
                    .and_then(|known| known.status.clone())
            });
            (status, stop)
        };
        match status.as_deref() {
            Some("Succeeded") => {
                log.push(format!("{hook_function} reported Succeeded after {} ms.", started.elapsed().as_millis()));
                return Ok(());
            }
            Some(other) => return Err(format!("the {event} hook {hook_function} reported {other}")),
            None => {}
        }
        if stop {
            return Err(format!("the deployment stopped while the {event} hook {hook_function} ran"));
        }
        if state.inner.clock.now_ms() >= execution.deadline {
            // Decided under the deployment's row lock, so a report that got in first still counts.
            let id = execution.id.clone();
            let decided = save_executions(state, deployment_id, move |executions| {
                if let Some(known) = executions.iter_mut().find(|known| known.id == id)
                    && known.status.is_none()
                {
                    known.status = Some("TimedOut".to_owned());
                }
            })
            .await
            .map_err(|error| error.to_string())?;
            let status = decided.iter().find(|known| known.id == execution.id).and_then(|known| known.status.clone());
            match status.as_deref() {
                Some("Succeeded") => {
                    log.push(format!("{hook_function} reported Succeeded at its deadline."));
                    return Ok(());
                }
                Some("TimedOut") | None => {
                    return Err(format!(
                        "the {event} hook {hook_function} did not report its status (PutLifecycleEventHookExecutionStatus) \
                         within {HOOK_DEADLINE_MINUTES} minutes"
                    ));
                }
                Some(other) => return Err(format!("the {event} hook {hook_function} reported {other}")),
            }
        }
        tokio::time::sleep(POLL).await;
    }
}

/// AllowTraffic: the alias moves step by step per the routing; a stop between steps returns everything to the
/// current version at once.
async fn shift(
    state: &AppState,
    deployment_id: &str,
    function: &FunctionDeployment,
    log: &mut Vec<String>,
) -> Result<(), String> {
    let routing: TrafficRouting = function.routing.map_or(TrafficRouting::AllAtOnce, Into::into);
    let target = format!("{}:{} on version {}", function.name, function.alias, function.target_version);
    let back =
        format!("all traffic of {}:{} is back on version {}", function.name, function.alias, function.current_version);
    let progress = ShiftProgress { started: function.shift_started, done: function.shifts_done };
    let alias = AliasShift { state, deployment_id, function };
    shift_by_schedule(state, deployment_id, &routing, progress, &alias, (&target, &back), log).await
}

struct AliasShift<'a> {
    state: &'a AppState,
    deployment_id: &'a str,
    function: &'a FunctionDeployment,
}

impl ShiftTarget for AliasShift<'_> {
    fn route(&self, percent: u64) -> impl Future<Output = Result<(), String>> + Send {
        route(self.state, self.function, percent)
    }

    async fn saved(&self, progress: ShiftProgress, percent: u64) -> Result<(), String> {
        save(self.state, self.deployment_id, move |function| {
            function.shift_started = progress.started;
            function.shifts_done = progress.done;
            function.target_percent = percent;
        })
        .await
        .map(|_| ())
        .map_err(|error| error.to_string())
    }
}

/// What a time-based shift moves: `route(percent)` puts that share on the new side; `saved` records a step made.
pub(crate) trait ShiftTarget: Sync {
    fn route(&self, percent: u64) -> impl Future<Output = Result<(), String>> + Send;
    fn saved(&self, progress: ShiftProgress, percent: u64) -> impl Future<Output = Result<(), String>> + Send;
}

/// How far a time-based shift got: when its first step was made, and how many steps are done.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ShiftProgress {
    pub started: Option<i64>,
    pub done: usize,
}

/// Moves traffic step by step per `routing` (all at once, canary, linear), from where `progress` says, through
/// `target.route(percent on the new side)`, recording each step with `target.saved`. A stop between steps routes
/// everything back at once (`route(0)`) and fails. `describe` is (the new side, what a stop leaves) for the log.
pub(crate) async fn shift_by_schedule(
    state: &AppState,
    deployment_id: &str,
    routing: &TrafficRouting,
    progress: ShiftProgress,
    target_side: &impl ShiftTarget,
    describe: (&str, &str),
    log: &mut Vec<String>,
) -> Result<(), String> {
    let (target, back) = describe;
    let schedule = routing.schedule();
    let mut started_at = progress.started;
    for (index, step) in schedule.iter().enumerate().skip(progress.done) {
        loop {
            let now = state.inner.clock.now_ms();
            let due = started_at
                .map_or(now, |start| start + state.inner.traffic.minutes(step.at_minute as i64).as_millis() as i64);
            let stop = {
                let mut tx = state.store().begin().await.map_err(|error| error.to_string())?;
                tx.deployment(deployment_id)
                    .await
                    .map_err(|error| error.to_string())?
                    .is_none_or(|row| row.stop_requested || row.status != "InProgress")
            };
            if stop {
                let restored = target_side.route(0).await;
                let _ = target_side.saved(ShiftProgress { started: started_at, done: index }, 0).await;
                return Err(match restored {
                    Ok(()) => {
                        format!("The deployment stopped at step {} of {}: {back}.", index + 1, schedule.len())
                    }
                    Err(error) => format!("The deployment stopped, and routing the traffic back failed: {error}"),
                });
            }
            if now >= due {
                break;
            }
            tokio::time::sleep(POLL.min(Duration::from_millis((due - now) as u64))).await;
        }
        target_side.route(step.total_percent).await?;
        let now = state.inner.clock.now_ms();
        started_at = started_at.or(Some(now));
        log.push(format!("{} % of {target} (step {} of {}).", step.total_percent, index + 1, schedule.len()));
        tracing::info!(message = "Traffic shifted.", %deployment_id, percent = step.total_percent);
        target_side.saved(ShiftProgress { started: started_at, done: index + 1 }, step.total_percent).await?;
    }
    Ok(())
}

/// Puts all of the alias's traffic back on the current version (rollback of a failed or stopped deployment).
pub(crate) fn spawn_restore(state: &AppState, deployment_id: &str) {
    let state = state.clone();
    let deployment_id = deployment_id.to_owned();
    tokio::spawn(async move {
        let options = {
            let Ok(mut tx) = state.store().begin().await else { return };
            let Ok(Some(row)) = tx.deployment(&deployment_id).await else { return };
            DeploymentOptions::from_json(&row.options)
        };
        let Some(function) = options.function.filter(|function| function.restore && !function.restored) else { return };
        // The router or the Lambda API may be briefly unreachable: try again with a growing pause, for ~5 minutes.
        let mut pause = Duration::from_millis(200);
        for attempt in 1..=12 {
            match route(&state, &function, 0).await {
                Ok(()) => {
                    tracing::info!(message = "Function alias rolled back.", %deployment_id, version = %function.current_version);
                    let _ = save(&state, &deployment_id, |function| {
                        function.restored = true;
                        function.target_percent = 0;
                    })
                    .await;
                    return;
                }
                Err(error) => {
                    tracing::error!(message = "Rolling the function alias back failed.", %deployment_id, attempt, %error);
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(60));
                }
            }
        }
    });
}

/// PutLifecycleEventHookExecutionStatus: records a hook's result for the waiting event.
pub(crate) async fn report_hook(
    state: &AppState,
    deployment_id: &str,
    execution_id: &str,
    status: &str,
) -> Result<Result<(), (&'static str, String)>, StoreError> {
    let mut tx = state.store().begin().await?;
    let Some(row) = tx.deployment_for_update(deployment_id).await? else {
        return Ok(Err((
            "DeploymentDoesNotExistException",
            format!("The deployment {deployment_id} does not exist with the user or AWS account."),
        )));
    };
    let mut options = DeploymentOptions::from_json(&row.options);
    let Some(executions) = executions_mut(&mut options) else {
        return Ok(Err((
            "UnsupportedActionForDeploymentTypeException",
            format!(
                "The deployment {deployment_id} deploys to servers: its hooks are scripts the agents run. \
                 PutLifecycleEventHookExecutionStatus applies to the hook functions of Lambda and ECS deployments."
            ),
        )));
    };
    let Some(execution) = executions.iter_mut().find(|execution| execution.id == execution_id) else {
        return Ok(Err((
            "InvalidLifecycleEventHookExecutionIdException",
            format!("{execution_id} is not a lifecycle event hook execution of deployment {deployment_id}"),
        )));
    };
    let late = state.inner.clock.now_ms() >= execution.deadline;
    if execution.status.is_some()
        || late
        || row.stop_requested
        || matches!(row.status.as_str(), "Succeeded" | "Failed" | "Stopped")
    {
        return Ok(Err((
            "LifecycleEventAlreadyCompletedException",
            format!("The {} hook of deployment {deployment_id} has already completed.", execution.event),
        )));
    }
    execution.status = Some(status.to_owned());
    tx.set_deployment_options(deployment_id, &options.to_json()).await?;
    tx.commit().await?;
    Ok(Ok(()))
}
