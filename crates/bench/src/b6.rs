//! B6 — container service blue/green: a service of N tasks (4; smoke 2) on two Docker hosts goes from image v1 to
//! v2 under a constant load, with Cutover (computePlatform ECS, `CodeDeployDefault.ECSAllAtOnce`) and with
//! `docker-compose` (v1), both behind the same built-in router (`cutover-router`).
//!
//! Cutover: a real server and two real agents tagged into one ECS cluster, production routed through a pool of the
//! router; the first deployment puts v1 in place, then, with 4 load workers on the production pool, v2 is deployed.
//! Reported from the server's timestamps: CreateDeployment → the replacement task set healthy on every host (the
//! Install event's end) and → Succeeded; and the requests sent and failed between CreateDeployment and Succeeded.
//!
//! Peer: `docker-compose -p <unique> up -d --scale app=N` of the same v1 image (same container: Docker's init as PID 1
//! like a Cutover task, port 8080 published on loopback), routed through another pool of the same router; then the
//! image becomes v2 and `up -d --scale app=N` runs again. Compose has no traffic shifting: the pool is set to the new
//! containers' ports after `up -d` returns. Reported: `up -d` start → all N new containers answer `/health`, and the
//! requests sent and failed from `up -d` until the pool's new members are healthy.
//!
//! Images are `cutover-test-http` imported on the spot (`cutover_containers::testimage`), removed afterwards with
//! every container of the run (`TestRun`), and the compose project is taken down.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use cutover_api_types::agent::{ContainerService, ContainerServiceRequest};
use cutover_api_types::codedeploy::{self as wire, Operation};
use cutover_client::api::ApiClient;
use cutover_containers::TaskSets;
use cutover_containers::testimage::TestRun;
use cutover_harness::http_stub;
use cutover_harness::load::{LoadLoop, LoadReport};
use cutover_harness::router::{RouterProc, TOKEN};
use cutover_router::{BuiltinRouter, Member, MemberState, TrafficController};
use serde_json::json;

use crate::common::{self, Options, run_peer, write_file};
use crate::report::{Report, Row, ms, times_better};

const SERVICE: &str = "web";
/// Router pools: Cutover's production route and the compose peer's front.
const PROD_POOL: &str = "b6-prod";
const COMPOSE_POOL: &str = "b6-compose";
const HOSTS: usize = 2;
const LOAD_WORKERS: usize = 4;
/// How often agents report their task sets and learn of new ones (the traffic file's `[containers]`; the e2e tests'
/// value, the default is 2000 ms).
const REPORT_INTERVAL_MS: u64 = 200;
/// Requests that must have been sent before a switch starts and after it ends.
const MARGIN_REQUESTS: usize = 40;

pub(crate) async fn run(options: &Options, report: &mut Report) -> anyhow::Result<()> {
    let count: u32 = if options.smoke { 2 } else { 4 };
    eprintln!("B6: container service blue/green, {count} tasks on {HOSTS} hosts, Cutover vs docker-compose");
    let tasks = match TaskSets::connect_local().await {
        Ok(tasks) => tasks,
        Err(error) if options.smoke => {
            report.row(Row::new("B6", "container service blue/green", "not run: Docker unavailable"));
            report.note(format!("B6 skipped in smoke: {error}"));
            return Ok(());
        }
        Err(error) => bail!("B6 needs the local Docker engine: {error}"),
    };
    let http = sibling_binary("cutover-test-http")?;
    for binary in ["cutover-router", "cutover-server", "cutover-agent"] {
        sibling_binary(binary)?;
    }
    let work = options.scratch.join("b6");
    std::fs::create_dir_all(&work).with_context(|| format!("cannot create {}", work.display()))?;
    // Dropped last: every container of the run (Cutover's task sets) and both images.
    let run = TestRun::new(tasks.socket());
    let v1 = run.http_image(&tasks, &http, "v1").await.context("image v1")?.reference;
    let v2 = run.http_image(&tasks, &http, "v2").await.context("image v2")?.reference;
    let router = RouterProc::start(&work, &[PROD_POOL, COMPOSE_POOL], 1).await;
    let engine = format!("Docker engine API {} at {}", tasks.api_version(), tasks.socket().display());

    let cutover = cutover_side(options, &run, &tasks, &router, (&v1, &v2), count).await?;
    let Some(cutover) = cutover.finished(report) else { return Ok(()) };

    let compose_version = compose_version();
    let peer = match &compose_version {
        Some(_) => Some(compose_side(&work, &run, &router, (&v1, &v2), count).await?),
        None => None,
    };

    let deploy_metric = format!("deploy v2 ({count} tasks, {HOSTS} hosts) time");
    let failed_metric = "failed requests during the switch";
    match &peer {
        Some(peer) => {
            report.row(
                Row::new("B6", deploy_metric, ms(cutover.succeeded_ms))
                    .peer(format!("compose {}", ms(peer.healthy_ms)))
                    .ratio(times_better(peer.healthy_ms, cutover.succeeded_ms)),
            );
            let ratio = times_better(peer.window.failed as f64, cutover.window.failed as f64);
            report.row(
                Row::new("B6", failed_metric, cutover.window.cell())
                    .peer(format!("compose {}", peer.window.cell()))
                    .ratio_or(ratio, if cutover.window.failed == 0 { "Cutover had none" } else { "compose had none" }),
            );
        }
        None => {
            report
                .row(Row::new("B6", deploy_metric, ms(cutover.succeeded_ms)).peer("docker-compose not found, not run"));
            report.row(Row::new("B6", failed_metric, cutover.window.cell()).peer("docker-compose not found, not run"));
        }
    }
    report.row(Row::new(
        "B6",
        "create → replacement task set healthy on every host (Install end, server ts)",
        ms(cutover.healthy_ms),
    ));

    report.note(
        "B6 rows: Cutover's time is createTime → completeTime of the v2 deployment (server timestamps: the replacement \
         healthy, production shifted, the original withdrawn); compose's is from the start of `up -d` to the moment all \
         its new containers answer /health (this client's clock; the front is updated after that). Failed requests: of \
         those the load sent from the start of the switch (CreateDeployment / `up -d`) until its end (Succeeded seen / \
         the front's new members healthy)",
    );
    report.note(format!(
        "B6 set-up: {engine}; {}; images {v1} and {v2} (`cutover-test-http`, imported); one cutover-router, pools {PROD_POOL} (Cutover production) and {COMPOSE_POOL} (compose), health check /health every 100 ms, healthy after 1 pass; tasks: Docker's init as PID 1, health check every 0.2 s, healthy after 2 passes; agents report every {REPORT_INTERVAL_MS} ms; load: {LOAD_WORKERS} workers sending GET / back to back",
        compose_version.as_deref().unwrap_or("docker-compose not found")
    ));
    report.note(format!(
        "B6 Cutover, per event 'gap before start / duration' in ms (server timestamps): {}; last event end → complete {:.0} ms; first v2 answer on production {} after CreateDeployment, last v1 answer {} after; {}; the original task sets' containers were gone from the engine {} after Succeeded was seen",
        cutover.events,
        cutover.tail_ms,
        optional_ms(cutover.first_v2_ms),
        optional_ms(cutover.last_v1_ms),
        cutover.window.describe(),
        optional_ms(cutover.originals_gone_ms),
    ));
    if let Some(peer) = &peer {
        report.note(format!(
            "B6 compose: `up -d --scale app={count}` to v2 returned after {} (it stops each old container, then creates and starts the new one, in parallel); all {count} new containers answered /health {} after `up -d` started; the router's pool was set to their ports at {} and its health checks passed at {}; first v2 answer through the front {} after `up -d` started; {}. Compose has no traffic shifting: the front is updated after `up -d` returns, and between the old containers stopping and that update requests fail",
            ms(peer.up_ms),
            ms(peer.healthy_ms),
            ms(peer.routed_ms),
            ms(peer.routed_healthy_ms),
            optional_ms(peer.first_v2_ms),
            peer.window.describe(),
        ));
    }
    drop(router);
    drop(run);
    common::remove_dir(&work);
    Ok(())
}

/// What the Cutover side measured.
struct CutoverResult {
    /// createTime → the Install event's end.
    healthy_ms: f64,
    /// createTime → completeTime.
    succeeded_ms: f64,
    /// Per event "gap/duration".
    events: String,
    /// The last event's end → completeTime.
    tail_ms: f64,
    window: Window,
    first_v2_ms: Option<f64>,
    last_v1_ms: Option<f64>,
    originals_gone_ms: Option<f64>,
}

/// The Cutover side's outcome: measured, or a deployment that did not succeed.
enum CutoverOutcome {
    Measured(Box<CutoverResult>),
    Failed(String),
}

impl CutoverOutcome {
    /// The result, or None after recording the failure.
    fn finished(self, report: &mut Report) -> Option<CutoverResult> {
        match self {
            CutoverOutcome::Measured(result) => Some(*result),
            CutoverOutcome::Failed(failure) => {
                report.row(Row::new("B6", "scenario", "deployment failed (see below)"));
                report.fail(format!("B6: {failure}"));
                None
            }
        }
    }
}

async fn cutover_side(
    options: &Options,
    run: &TestRun,
    tasks: &TaskSets,
    router: &RouterProc,
    (v1, v2): (&str, &str),
    count: u32,
) -> anyhow::Result<CutoverOutcome> {
    let traffic = options.scratch.join("b6").join("traffic.toml");
    write_file(
        &traffic,
        format!(
            "[[target_group]]\nname = \"{PROD_POOL}\"\nhealth_timeout_seconds = 30\n[target_group.router]\n{}\n[containers]\nreport_interval_ms = {REPORT_INTERVAL_MS}\nhealth_timeout_seconds = 60\n",
            router.server_config()
        )
        .as_bytes(),
        0o644,
    )?;
    let cluster = common::start_cluster_with(
        options,
        cutover_harness::ClusterOptions {
            agents: HOSTS,
            tags: vec![("cutover:ecs-cluster".to_owned(), run.id().to_owned())],
            server_args: vec!["--traffic-config".to_owned(), traffic.display().to_string()],
            ..Default::default()
        },
    )
    .await?;
    let client = &cluster.client;
    let _: wire::CreateApplicationOutput = client
        .call(Operation::CreateApplication, &json!({"applicationName": "b6", "computePlatform": "ECS"}))
        .await
        .context("CreateApplication")?;
    let _: wire::CreateDeploymentGroupOutput = client
        .call(
            Operation::CreateDeploymentGroup,
            &json!({
                "applicationName": "b6", "deploymentGroupName": "web", "serviceRoleArn": "arn:aws:iam::000000000000:role/bench",
                "deploymentConfigName": "CodeDeployDefault.ECSAllAtOnce",
                "ecsServices": [{"serviceName": SERVICE, "clusterName": run.id()}],
                "loadBalancerInfo": {"targetGroupPairInfoList": [{
                    "targetGroups": [{"name": "web-blue"}, {"name": "web-green"}],
                    "prodTrafficRoute": {"listenerArns": [PROD_POOL]},
                }]},
                "blueGreenDeploymentConfiguration": {"terminateBlueInstancesOnDeploymentSuccess": {
                    "action": "TERMINATE", "terminationWaitTimeInMinutes": 0,
                }},
            }),
        )
        .await
        .context("CreateDeploymentGroup")?;
    let timeout = Duration::from_secs(180);
    let poll_every = Duration::from_millis(20);
    let first = create(client, v1, count).await?;
    let first = common::wait_terminal(client, &first, Instant::now(), poll_every, timeout).await?;
    if !first.succeeded() {
        return Ok(CutoverOutcome::Failed(format!("first deployment (v1): {}", first.failure())));
    }
    let originals = task_sets(&service(client, run.id()).await?, "primary");
    let front = router.url(PROD_POOL);
    poll("production to answer v1", Duration::from_secs(30), || answers(&front, "v1")).await?;

    let load = LoadLoop::start(front.clone(), LOAD_WORKERS);
    requests_after(&load, load.now_ms(), MARGIN_REQUESTS).await?;
    let from_ms = load.now_ms();
    let started = Instant::now();
    let id = create(client, v2, count).await?;
    let done = common::wait_terminal(client, &id, started, poll_every, timeout).await?;
    let to_ms = load.now_ms();
    let seen = Instant::now();
    requests_after(&load, to_ms, MARGIN_REQUESTS).await?;
    let samples = load.stop().await;
    if !done.succeeded() {
        return Ok(CutoverOutcome::Failed(format!("deployment of v2: {}", done.failure())));
    }
    // The original task sets' containers, stopped by their hosts once the deployment withdrew them.
    let gone = poll("the original task sets' containers to be removed", Duration::from_secs(60), || async {
        for set in &originals {
            if tasks.task_set(set).await.context("task set")?.is_some() {
                return Ok(None);
            }
        }
        Ok(Some(seen.elapsed().as_secs_f64() * 1000.0))
    })
    .await;
    let originals_gone_ms = match gone {
        Ok(elapsed) => Some(elapsed),
        Err(error) => {
            eprintln!("  B6: {error:#}");
            None
        }
    };

    let events = ecs_events(client, &id, run.id()).await?;
    let created = done.info.create_time.unwrap_or(f64::NAN) * 1000.0;
    let complete = done.info.complete_time.unwrap_or(f64::NAN) * 1000.0;
    let install_end = events.iter().find(|event| event.name == "Install").map_or(f64::NAN, |event| event.end_ms);
    let mut split = Vec::new();
    let mut previous_end = created;
    for event in &events {
        split.push(format!(
            "{} +{:.0}/{:.0}",
            event.name,
            event.start_ms - previous_end,
            event.end_ms - event.start_ms
        ));
        if event.end_ms.is_finite() {
            previous_end = event.end_ms;
        }
    }
    let since = |at: Option<u64>| at.map(|at| at as f64 - from_ms as f64);
    let window = Window::of(&samples, from_ms, to_ms);
    if let Some(summary) = common::log_summary(&cluster.server.log) {
        eprintln!("  B6 server log: {summary}");
    }
    Ok(CutoverOutcome::Measured(Box::new(CutoverResult {
        healthy_ms: install_end - created,
        succeeded_ms: done.server_ms,
        events: split.join(", "),
        tail_ms: complete - previous_end,
        window,
        first_v2_ms: since(samples.answered("v2", false)),
        last_v1_ms: since(samples.answered("v1", true)),
        originals_gone_ms,
    })))
}

/// The ECS AppSpec of `image` with `count` tasks: the e2e tests' task definition.
fn appspec(image: &str, count: u32) -> String {
    format!(
        "version: 0.0\nResources:\n  - TargetService:\n      Type: AWS::ECS::Service\n      Properties:\n        TaskDefinition:\n          family: web\n          desiredCount: {count}\n          containers:\n            - name: app\n              image: {image}\n              portMappings:\n                - containerPort: 8080\n              healthCheck:\n                port: 8080\n                path: /health\n                intervalSeconds: 0.2\n                healthyThreshold: 2\n                unhealthyThreshold: 2\n        LoadBalancerInfo:\n          ContainerName: app\n          ContainerPort: 8080\n"
    )
}

async fn create(client: &ApiClient, image: &str, count: u32) -> anyhow::Result<String> {
    let input = json!({
        "applicationName": "b6", "deploymentGroupName": "web", "deploymentConfigName": "CodeDeployDefault.ECSAllAtOnce",
        "revision": {"revisionType": "AppSpecContent", "appSpecContent": {"content": appspec(image, count)}},
    });
    let out: wire::CreateDeploymentOutput =
        client.call(Operation::CreateDeployment, &input).await.context("CreateDeployment")?;
    out.deployment_id.context("CreateDeployment returned no deploymentId")
}

async fn service(client: &ApiClient, cluster: &str) -> anyhow::Result<ContainerService> {
    let request =
        ContainerServiceRequest { cluster: cluster.to_owned(), service: SERVICE.to_owned(), ..Default::default() };
    client.post_json("/v1/container-services", &request).await.context("POST /v1/container-services")
}

fn task_sets(service: &ContainerService, role: &str) -> Vec<String> {
    service.task_sets.iter().filter(|set| set.role == role).map(|set| set.task_set_id.clone()).collect()
}

/// The lifecycle events of an ECS deployment's one target (`<cluster>:<service>`).
async fn ecs_events(client: &ApiClient, id: &str, cluster: &str) -> anyhow::Result<Vec<common::EventTime>> {
    let out: wire::GetDeploymentTargetOutput = client
        .call(Operation::GetDeploymentTarget, &json!({"deploymentId": id, "targetId": format!("{cluster}:{SERVICE}")}))
        .await
        .context("GetDeploymentTarget")?;
    let target = out.deployment_target.and_then(|target| target.ecs_target).context("no ecsTarget")?;
    Ok(target
        .lifecycle_events
        .unwrap_or_default()
        .into_iter()
        .map(|event| common::EventTime {
            name: event.lifecycle_event_name.unwrap_or_default(),
            start_ms: event.start_time.map_or(f64::NAN, |t| t * 1000.0),
            end_ms: event.end_time.map_or(f64::NAN, |t| t * 1000.0),
        })
        .collect())
}

/// What the compose peer measured, in ms since `up -d` (to v2) started.
struct PeerResult {
    up_ms: f64,
    healthy_ms: f64,
    routed_ms: f64,
    routed_healthy_ms: f64,
    first_v2_ms: Option<f64>,
    window: Window,
}

async fn compose_side(
    work: &Path,
    run: &TestRun,
    router: &RouterProc,
    (v1, v2): (&str, &str),
    count: u32,
) -> anyhow::Result<PeerResult> {
    let front = BuiltinRouter::new(&router.control_url, Some(TOKEN.to_owned()), None)?;
    let mut compose = Compose::new(work, &format!("cutover-b6-{}", run.id()));
    compose.up(v1, count)?;
    let upstreams = compose.wait_healthy(v1, count, Instant::now()).await?.1;
    route(&front, &upstreams).await?;
    let url = router.url(COMPOSE_POOL);
    poll("the compose front to answer v1", Duration::from_secs(30), || answers(&url, "v1")).await?;

    let load = LoadLoop::start(url, LOAD_WORKERS);
    requests_after(&load, load.now_ms(), MARGIN_REQUESTS).await?;
    let from_ms = load.now_ms();
    let started = Instant::now();
    let up = compose.up(v2, count)?;
    let (healthy_ms, upstreams) = compose.wait_healthy(v2, count, started).await?;
    let routed_ms = started.elapsed().as_secs_f64() * 1000.0;
    route(&front, &upstreams).await?;
    let routed_healthy_ms = started.elapsed().as_secs_f64() * 1000.0;
    let to_ms = load.now_ms();
    requests_after(&load, to_ms, MARGIN_REQUESTS).await?;
    let samples = load.stop().await;
    compose.down()?;
    Ok(PeerResult {
        up_ms: up.wall_ms,
        healthy_ms,
        routed_ms,
        routed_healthy_ms,
        first_v2_ms: samples.answered("v2", false).map(|at| at as f64 - from_ms as f64),
        window: Window::of(&samples, from_ms, to_ms),
    })
}

/// Sets the compose pool to `upstreams` and waits until the router's health checks pass for every one.
async fn route(front: &BuiltinRouter, upstreams: &[String]) -> anyhow::Result<()> {
    let members: Vec<Member> = upstreams
        .iter()
        .map(|address| Member {
            id: format!("app-{address}"),
            address: address.clone(),
            weight: 100,
            state: MemberState::Ready,
        })
        .collect();
    front.apply(COMPOSE_POOL, &members).await?;
    poll("the compose pool's members to be healthy", Duration::from_secs(30), || async {
        let status = front.status(COMPOSE_POOL).await?;
        let healthy = members.iter().all(|member| status.iter().any(|seen| seen.id == member.id && seen.healthy));
        Ok(healthy.then_some(()))
    })
    .await
}

/// A compose project in the scratch directory; taken down when dropped if `down` was not called.
struct Compose {
    dir: PathBuf,
    project: String,
    running: bool,
}

impl Compose {
    fn new(work: &Path, project: &str) -> Compose {
        Compose { dir: work.join("compose"), project: project.to_owned(), running: false }
    }

    fn command(&self) -> Command {
        let mut command = Command::new("docker-compose");
        command.current_dir(&self.dir).args(["--ansi", "never", "-p", &self.project, "-f", "docker-compose.yml"]);
        command
    }

    /// Writes the service with `image` and runs `up -d --scale app=<count>`.
    fn up(&mut self, image: &str, count: u32) -> anyhow::Result<common::PeerRun> {
        // The same container as a Cutover task: Docker's init as PID 1 (a task's `initProcess` default), the
        // container port published on a free loopback port.
        let file = format!(
            "version: \"2.4\"\nservices:\n  app:\n    image: {image}\n    init: true\n    ports:\n      - \"127.0.0.1::8080\"\n"
        );
        write_file(&self.dir.join("docker-compose.yml"), file.as_bytes(), 0o644)?;
        self.running = true;
        // Off the runtime's worker: the load's tasks must keep running while compose does.
        tokio::task::block_in_place(|| run_peer(self.command().args(["up", "-d", "--scale", &format!("app={count}")])))
    }

    /// Waits until `count` containers of `image` answer `/health`; returns the time since `started` and their
    /// published addresses.
    async fn wait_healthy(&self, image: &str, count: u32, started: Instant) -> anyhow::Result<(f64, Vec<String>)> {
        let upstreams = poll("compose's containers to be listed", Duration::from_secs(30), || async {
            let upstreams = tokio::task::block_in_place(|| self.upstreams(image))?;
            Ok((upstreams.len() == count as usize).then_some(upstreams))
        })
        .await?;
        let what = format!("compose's {image} containers to answer /health");
        let elapsed = poll(&what, Duration::from_secs(60), || async {
            for upstream in &upstreams {
                match http_stub::get(&format!("http://{upstream}/health")).await {
                    Ok((200, _)) => {}
                    _ => return Ok(None),
                }
            }
            Ok(Some(started.elapsed().as_secs_f64() * 1000.0))
        })
        .await?;
        Ok((elapsed, upstreams))
    }

    /// `127.0.0.1:<port>` of each running container of the project with `image`, from `docker ps`.
    fn upstreams(&self, image: &str) -> anyhow::Result<Vec<String>> {
        let output = Command::new("docker")
            .args(["ps", "--filter", &format!("label=com.docker.compose.project={}", self.project)])
            .args(["--format", "{{.Image}}\t{{.Ports}}"])
            .output()
            .context("cannot run docker ps")?;
        if !output.status.success() {
            bail!("docker ps: {}", String::from_utf8_lossy(&output.stderr).trim());
        }
        let text = String::from_utf8_lossy(&output.stdout);
        Ok(text
            .lines()
            .filter_map(|line| line.split_once('\t'))
            .filter(|(listed, _)| *listed == image)
            .filter_map(|(_, ports)| {
                ports.split(", ").find_map(|port| port.strip_suffix("->8080/tcp").map(str::to_owned))
            })
            .collect())
    }

    fn down(&mut self) -> anyhow::Result<()> {
        self.running = false;
        tokio::task::block_in_place(|| run_peer(self.command().args(["down", "--timeout", "5"]))).map(|_| ())
    }
}

impl Drop for Compose {
    fn drop(&mut self) {
        if self.running
            && let Err(error) = self.down()
        {
            eprintln!("  warning: docker-compose down of {}: {error:#}", self.project);
        }
    }
}

/// `docker-compose version --short`, None when it cannot run.
fn compose_version() -> Option<String> {
    let output = Command::new("docker-compose").args(["version", "--short"]).output().ok()?;
    output.status.success().then(|| format!("docker-compose {}", String::from_utf8_lossy(&output.stdout).trim()))
}

/// Requests sent in a window (from the start of a switch until it is done) and how many failed.
#[derive(Debug, Clone)]
struct Window {
    sent: usize,
    failed: usize,
    /// When the first and last failed request of the window were sent, ms after its start.
    failing: Option<(u64, u64)>,
    first_error: Option<String>,
    /// Failed requests outside the window (before or after it).
    failed_outside: usize,
}

impl Window {
    fn of(samples: &LoadReport, from_ms: u64, to_ms: u64) -> Window {
        let inside = |at: u64| (from_ms..=to_ms).contains(&at);
        let sent = samples.samples.iter().filter(|sample| inside(sample.at_ms)).count();
        let failed: Vec<_> = samples.failed.iter().filter(|sample| inside(sample.at_ms)).collect();
        let failing = failed.first().zip(failed.last()).map(|(a, b)| (a.at_ms - from_ms, b.at_ms - from_ms));
        let first_error = failed.first().and_then(|sample| sample.outcome.clone().err());
        let failed_outside = samples.failed.len() - failed.len();
        Window { sent, failed: failed.len(), failing, first_error, failed_outside }
    }

    /// `failed of sent`, and for how long requests failed (a failing request returns at once, so a loop sends many
    /// more of them: the span is the figure to compare).
    fn cell(&self) -> String {
        match self.failing {
            Some((first, last)) => format!("{} of {}, over {} ms", self.failed, self.sent, last - first),
            None => format!("0 of {}", self.sent),
        }
    }

    fn describe(&self) -> String {
        let mut text = format!("{} of {} requests failed during the switch", self.failed, self.sent);
        if let Some((first, last)) = self.failing {
            text.push_str(&format!(", sent from {first} ms to {last} ms after it started"));
        }
        if let Some(error) = &self.first_error {
            let error: String = error.chars().take(160).collect();
            text.push_str(&format!(" (first: {error})"));
        }
        text.push_str(&format!(", {} failed before or after it", self.failed_outside));
        text
    }
}

/// Polls `check` every 10 ms until it returns Some, fails, or `timeout` passes.
async fn poll<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<Option<T>>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check().await? {
            return Ok(value);
        }
        if Instant::now() > deadline {
            bail!("timed out after {} s waiting for {what}", timeout.as_secs());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Whether `url` answers 200 with `body` now.
async fn answers(url: &str, body: &str) -> anyhow::Result<Option<()>> {
    Ok(match http_stub::get(url).await {
        Ok((200, text)) if text.trim() == body => Some(()),
        _ => None,
    })
}

/// Waits until the load has sent more than `count` requests after `at_ms`.
async fn requests_after(load: &LoadLoop, at_ms: u64, count: usize) -> anyhow::Result<()> {
    poll(&format!("{count} requests after {at_ms} ms"), Duration::from_secs(30), || async {
        Ok((load.samples().iter().filter(|sample| sample.at_ms > at_ms).count() > count).then_some(()))
    })
    .await
}

fn optional_ms(value: Option<f64>) -> String {
    value.map_or("never".to_owned(), ms)
}

/// A binary next to this executable (`cargo build --workspace --bins` puts them all in `target/<profile>/`).
fn sibling_binary(name: &str) -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe().context("current_exe")?;
    let mut dir = exe.parent().context("the executable's directory")?;
    if dir.ends_with("deps") {
        dir = dir.parent().unwrap_or(dir);
    }
    let path = dir.join(name);
    anyhow::ensure!(path.exists(), "{} not found: build it with `cargo build --workspace --bins`", path.display());
    Ok(path)
}
