//! The container platform end to end (computePlatform ECS) on the real Docker engine: a real server, two real agents
//! whose cluster tag puts them in one ECS cluster, the built-in router carrying the production and test routes, and
//! test images made on the spot (`cutover-test-http` imported with `docker import`; nothing is pulled).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cutover_api_types::agent::{ContainerService, ContainerServiceRequest};
use cutover_api_types::codedeploy::{self as wire, Operation};
use cutover_containers::TaskSets;
use cutover_containers::testimage::TestRun;
use cutover_harness::http_stub::HttpStub;
use cutover_harness::load::{LoadLoop, LoadReport};
use cutover_harness::router::RouterProc;
use cutover_harness::{Cluster, ClusterOptions, binary, wait_for};

use crate::DEPLOY_TIMEOUT;

const SERVICE: &str = "web";

struct EcsRig {
    // Fields drop in order: the server and the agents (which would start removed task sets again) go first, the
    // containers and images (`run`) last.
    cluster: Cluster,
    router: RouterProc,
    hook: HttpStub,
    answering: Option<tokio::task::JoinHandle<()>>,
    images: (String, String),
    /// Whether the alarm `web-errors` (an HTTP probe) is raised.
    alarm: Arc<Mutex<bool>>,
    _alarm_probe: HttpStub,
    tasks: TaskSets,
    run: TestRun,
}

impl Drop for EcsRig {
    fn drop(&mut self) {
        if let Some(task) = self.answering.take() {
            task.abort();
        }
    }
}

impl EcsRig {
    /// A server whose "minute" lasts `minute_seconds`, two agents in cluster `<run id>`, images v1 and v2.
    async fn start(minute_seconds: f64) -> EcsRig {
        let tasks = TaskSets::connect_local().await.expect("the Docker engine (docker info must work)");
        let run = TestRun::new(tasks.socket());
        let http = binary("cutover-test-http");
        let v1 = run.http_image(&tasks, &http, "v1").await.expect("image v1").reference;
        let v2 = run.http_image(&tasks, &http, "v2").await.expect("image v2").reference;
        let dir: PathBuf = tempfile::tempdir().expect("tempdir").keep();
        let router = RouterProc::start(&dir, &["web-prod", "web-test"], 1).await;
        let hook = HttpStub::start(|_| (202, "application/json", b"{}".to_vec())).await;
        let alarm = Arc::new(Mutex::new(false));
        let raised = alarm.clone();
        let alarm_probe = HttpStub::start(move |_| {
            if *raised.lock().expect("alarm") {
                (500, "text/plain", b"errors".to_vec())
            } else {
                (200, "text/plain", b"ok".to_vec())
            }
        })
        .await;
        let alarms = dir.join("alarms.toml");
        std::fs::write(
            &alarms,
            format!("[[alarms]]\nname = \"web-errors\"\nhttp = {{ url = \"{}\" }}\n", alarm_probe.url("/")),
        )
        .expect("alarm file");
        let traffic = dir.join("traffic.toml");
        let group = |name: &str| {
            format!(
                "[[target_group]]\nname = \"{name}\"\nhealth_timeout_seconds = 30\n[target_group.router]\n{}\n",
                router.server_config()
            )
        };
        std::fs::write(
            &traffic,
            format!(
                "{}{}[[target_group]]\nname = \"web-haproxy\"\n[target_group.router]\nkind = \"haproxy\"\nsocket = \"/nonexistent/admin.sock\"\n\n[[function]]\nname = \"validate\"\ninvoke_url = \"{}\"\n\n[containers]\nreport_interval_ms = 200\nhealth_timeout_seconds = 60\n",
                group("web-prod"),
                group("web-test"),
                hook.url("/invoke"),
            ),
        )
        .expect("traffic file");
        let cluster = Cluster::start(ClusterOptions {
            agents: 2,
            tags: vec![("cutover:ecs-cluster".to_owned(), run.id().to_owned())],
            server_args: vec![
                "--traffic-config".to_owned(),
                traffic.display().to_string(),
                "--minute-seconds".to_owned(),
                minute_seconds.to_string(),
                "--alarm-config".to_owned(),
                alarms.display().to_string(),
                "--alarm-poll-ms".to_owned(),
                "100".to_owned(),
            ],
            ..Default::default()
        })
        .await;
        let _: wire::CreateApplicationOutput = cluster
            .client
            .call(
                Operation::CreateApplication,
                &serde_json::json!({"applicationName": "web", "computePlatform": "ECS"}),
            )
            .await
            .expect("CreateApplication");
        let _: wire::CreateDeploymentGroupOutput = cluster
            .client
            .call(
                Operation::CreateDeploymentGroup,
                &serde_json::json!({
                    "applicationName": "web", "deploymentGroupName": "web", "serviceRoleArn": "r",
                    "deploymentConfigName": "CodeDeployDefault.ECSAllAtOnce",
                    "ecsServices": [{"serviceName": SERVICE, "clusterName": run.id()}],
                    "loadBalancerInfo": {"targetGroupPairInfoList": [{
                        "targetGroups": [{"name": "web-blue"}, {"name": "web-green"}],
                        "prodTrafficRoute": {"listenerArns": ["web-prod"]},
                        "testTrafficRoute": {"listenerArns": ["web-test"]},
                    }]},
                    "blueGreenDeploymentConfiguration": {"terminateBlueInstancesOnDeploymentSuccess": {
                        "action": "TERMINATE", "terminationWaitTimeInMinutes": 0,
                    }},
                }),
            )
            .await
            .unwrap_or_else(|error| panic!("CreateDeploymentGroup: {error:?}\n{}", cluster.logs()));
        EcsRig {
            run,
            tasks,
            cluster,
            router,
            hook,
            answering: None,
            images: (v1, v2),
            alarm,
            _alarm_probe: alarm_probe,
        }
    }

    /// Hook functions answer with `status` from now on.
    fn answer_hooks(&mut self, status: &'static str) {
        if let Some(task) = self.answering.take() {
            task.abort();
        }
        self.answering =
            Some(cutover_harness::hooks::answer(self.cluster.client.clone(), self.hook.shared_requests(), status));
    }

    /// The ECS AppSpec of `image` with `count` tasks (and an AfterAllowTestTraffic hook when `hook`).
    fn appspec(image: &str, count: u32, hook: bool) -> String {
        let hooks = if hook { "Hooks:\n  - AfterAllowTestTraffic: validate\n" } else { "" };
        format!(
            "version: 0.0\nResources:\n  - TargetService:\n      Type: AWS::ECS::Service\n      Properties:\n        TaskDefinition:\n          family: web\n          desiredCount: {count}\n          containers:\n            - name: app\n              image: {image}\n              portMappings:\n                - containerPort: 8080\n              healthCheck:\n                port: 8080\n                path: /health\n                intervalSeconds: 0.2\n                healthyThreshold: 2\n                unhealthyThreshold: 2\n        LoadBalancerInfo:\n          ContainerName: app\n          ContainerPort: 8080\n{hooks}"
        )
    }

    async fn create(&self, image: &str, count: u32, config: &str, hook: bool) -> String {
        let input = serde_json::json!({
            "applicationName": "web", "deploymentGroupName": "web", "deploymentConfigName": config,
            "revision": {"revisionType": "AppSpecContent", "appSpecContent": {"content": Self::appspec(image, count, hook)}},
        });
        let out: Result<wire::CreateDeploymentOutput, _> =
            self.cluster.client.call(Operation::CreateDeployment, &input).await;
        match out {
            Ok(out) => out.deployment_id.expect("deploymentId"),
            Err(error) => panic!("CreateDeployment: {error:?}\n{}", self.cluster.logs()),
        }
    }

    async fn deploy(&self, image: &str, count: u32, config: &str, hook: bool) -> (String, wire::DeploymentInfo) {
        let id = self.create(image, count, config, hook).await;
        let done = self.cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await;
        (id, done)
    }

    /// The lifecycle events of the deployment's one target (`<cluster>:<service>`).
    async fn events(&self, id: &str) -> Vec<wire::LifecycleEvent> {
        let out: wire::GetDeploymentTargetOutput = self
            .cluster
            .client
            .call(
                Operation::GetDeploymentTarget,
                &serde_json::json!({"deploymentId": id, "targetId": format!("{}:{SERVICE}", self.run.id())}),
            )
            .await
            .expect("GetDeploymentTarget");
        let target = out.deployment_target.expect("target");
        assert_eq!(target.deployment_target_type.as_deref(), Some("ECSTarget"));
        target.ecs_target.expect("ecsTarget").lifecycle_events.unwrap_or_default()
    }

    async fn service(&self) -> ContainerService {
        let request = ContainerServiceRequest {
            cluster: self.run.id().to_owned(),
            service: SERVICE.to_owned(),
            ..Default::default()
        };
        self.cluster.client.post_json("/v1/container-services", &request).await.expect("container service")
    }

    /// Ids of the engine's running containers of a task set.
    async fn containers(&self, task_set: &str) -> Vec<String> {
        match self.tasks.task_set(task_set).await.expect("task set") {
            None => Vec::new(),
            Some(set) => set
                .tasks
                .iter()
                .flat_map(|task| &task.containers)
                .filter(|container| container.state == "running")
                .map(|container| container.container_id.clone())
                .collect(),
        }
    }

    async fn wait_gone(&self, task_set: &str) {
        wait_for(&format!("the containers of {task_set} to be removed"), Duration::from_secs(30), || async {
            self.tasks.task_set(task_set).await.expect("task set").is_none().then_some(())
        })
        .await;
    }

    fn prod(&self) -> String {
        self.router.url("web-prod")
    }

    fn logs(&self) -> String {
        self.cluster.logs()
    }
}

fn assert_no_failures(report: &LoadReport, logs: &str) {
    assert!(report.total > 100, "the load sent only {} requests", report.total);
    assert!(
        report.failed.is_empty(),
        "{} of {} requests failed, first: {:?}\n{logs}",
        report.failed.len(),
        report.total,
        report.failed.first()
    );
}

fn succeeded(done: &wire::DeploymentInfo, logs: &str) {
    assert_eq!(done.status.as_deref(), Some("Succeeded"), "{:?}\n{logs}", done.error_information);
    assert_eq!(done.compute_platform.as_deref(), Some("ECS"));
}

/// The task set ids of the service with `role`.
fn task_sets(service: &ContainerService, role: &str) -> Vec<String> {
    service.task_sets.iter().filter(|set| set.role == role).map(|set| set.task_set_id.clone()).collect()
}

async fn get(url: &str) -> Option<String> {
    Some(reqwest::get(url).await.ok()?.text().await.ok()?.trim().to_owned())
}

/// Percentage points a measured share may differ from the configured step.
const SHARE_TOLERANCE: f64 = 0.06;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canary_under_load_moves_ten_percent_then_all_with_no_failed_request() {
    // ECSCanary10Percent5Minutes with a "minute" of 0.8 s: 10 % for 4 s, then 100 %.
    let mut rig = EcsRig::start(0.8).await;
    let (v1, v2) = rig.images.clone();
    // The service's first deployment: everything on v1 at once, spread 2 + 2 over the cluster's two hosts.
    let (_, first) = rig.deploy(&v1, 4, "CodeDeployDefault.ECSAllAtOnce", false).await;
    succeeded(&first, &rig.logs());
    let service = rig.service().await;
    let originals = task_sets(&service, "primary");
    assert_eq!(originals.len(), 2, "{service:?}");
    assert!(service.task_sets.iter().all(|set| set.desired == 2 && set.running == 2 && set.healthy), "{service:?}");
    assert_eq!(get(&rig.prod()).await.as_deref(), Some("v1"));

    let load = LoadLoop::start(rig.prod(), 4);
    load.run_past(load.now_ms() + 300, 20).await;
    let created = Instant::now();
    let id = rig.create(&v2, 4, "CodeDeployDefault.ECSCanary10Percent5Minutes", true).await;
    // CreateDeployment → the replacement task set started and healthy on both hosts.
    let healthy_after = wait_for("the replacement to be healthy", Duration::from_secs(60), || async {
        let service = rig.service().await;
        let replacement: Vec<_> = service.task_sets.iter().filter(|set| set.role == "replacement").collect();
        (replacement.len() == 2 && replacement.iter().all(|set| set.healthy)).then(|| created.elapsed())
    })
    .await;
    eprintln!("ECS: CreateDeployment to replacement task set healthy: {} ms", healthy_after.as_millis());
    // While AfterAllowTestTraffic runs, the test route reaches the replacement and production only the original.
    wait_for("the AfterAllowTestTraffic hook", Duration::from_secs(30), || async {
        (rig.hook.requests().len() == 1).then_some(())
    })
    .await;
    assert_eq!(get(&rig.router.url("web-test")).await.as_deref(), Some("v2"));
    assert_eq!(load.first_answer("v2"), None, "production reached v2 before the test traffic hook answered");
    rig.answer_hooks("Succeeded");
    let done = rig.cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await;
    succeeded(&done, &rig.logs());
    let first_v2 =
        wait_for("v2 to answer on production", Duration::from_secs(20), || async { load.first_answer("v2") }).await;
    load.run_past(first_v2 + 4000 + 1000, 20).await;
    let report = load.stop().await;
    assert_no_failures(&report, &rig.logs());
    eprintln!("ECS canary: {} requests, {} failed", report.total, report.failed.len());
    // During the canary about 10 % reached v2; afterwards everything.
    let canary = report.share("v2", first_v2 + 300, first_v2 + 4000 - 300).expect("samples in the canary");
    assert!((canary - 0.10).abs() <= SHARE_TOLERANCE, "canary: {:.1} % on v2, expected 10 %", canary * 100.0);
    assert_eq!(report.share("v2", first_v2 + 4000 + 500, u64::MAX), Some(1.0));
    assert_eq!(rig.hook.requests().len(), 1);
    // The replacement is the service's primary now; the original's containers are gone from both hosts.
    let service = rig.service().await;
    assert_eq!(task_sets(&service, "replacement"), Vec::<String>::new());
    assert_eq!(service.task_sets.iter().filter(|set| set.role == "primary").count(), 2);
    for original in &originals {
        rig.wait_gone(original).await;
    }
    // The deployment target shows the events CodeDeploy's ECS deployments have, all run by the server.
    let events: Vec<String> = rig
        .events(&id)
        .await
        .into_iter()
        .map(|event| format!("{}={}", event.lifecycle_event_name.unwrap_or_default(), event.status.unwrap_or_default()))
        .collect();
    assert_eq!(
        events,
        [
            "BeforeInstall=Succeeded",
            "Install=Succeeded",
            "AfterInstall=Succeeded",
            "AllowTestTraffic=Succeeded",
            "AfterAllowTestTraffic=Succeeded",
            "BeforeAllowTraffic=Succeeded",
            "AllowTraffic=Succeeded",
            "AfterAllowTraffic=Succeeded"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_test_traffic_hook_rolls_back_before_production_sees_the_replacement() {
    let mut rig = EcsRig::start(0.5).await;
    let (v1, v2) = rig.images.clone();
    let (_, first) = rig.deploy(&v1, 2, "CodeDeployDefault.ECSAllAtOnce", false).await;
    succeeded(&first, &rig.logs());
    let originals = task_sets(&rig.service().await, "primary");
    rig.answer_hooks("Failed");
    let load = LoadLoop::start(rig.prod(), 4);
    let id = rig.create(&v2, 2, "CodeDeployDefault.ECSAllAtOnce", true).await;
    let replacement = wait_for("the replacement task sets to be assigned", Duration::from_secs(30), || async {
        let sets = task_sets(&rig.service().await, "replacement");
        (sets.len() == 2).then_some(sets)
    })
    .await;
    let done = rig.cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await;
    assert_eq!(done.status.as_deref(), Some("Failed"), "{}", rig.logs());
    // The failing event is the hook's, with the hook's report in its diagnostics; the shift never ran.
    let events = rig.events(&id).await;
    let status = |name: &str| {
        let event = events.iter().find(|event| event.lifecycle_event_name.as_deref() == Some(name)).expect("event");
        (
            event.status.clone().unwrap_or_default(),
            event.diagnostics.clone().and_then(|d| d.message).unwrap_or_default(),
        )
    };
    assert_eq!(status("AllowTestTraffic").0, "Succeeded");
    let (hook, message) = status("AfterAllowTestTraffic");
    assert_eq!(hook, "Failed");
    assert!(message.contains("the AfterAllowTestTraffic hook validate reported Failed"), "{message}");
    assert_eq!(status("AllowTraffic").0, "Skipped");
    // The replacement is withdrawn: its containers are removed from both hosts; the original keeps serving.
    for set in &replacement {
        rig.wait_gone(set).await;
    }
    let service = rig.service().await;
    assert_eq!(task_sets(&service, "primary"), originals);
    assert_eq!(task_sets(&service, "replacement"), Vec::<String>::new());
    for set in &originals {
        assert_eq!(rig.containers(set).await.len(), 1, "{set}");
    }
    load.run_past(load.now_ms() + 500, 20).await;
    let report = load.stop().await;
    assert_no_failures(&report, &rig.logs());
    // Production never reached v2.
    assert_eq!(report.answered("v2", false), None);
    assert_eq!(report.share("v2", 0, u64::MAX), Some(0.0));
    // The test route is back on the original too.
    assert_eq!(get(&rig.router.url("web-test")).await.as_deref(), Some("v1"));
    let info = done.rollback_info.expect("rollbackInfo");
    assert!(info.rollback_message.unwrap_or_default().contains("original task set"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn containers_killed_during_and_after_the_deployment_are_replaced_and_their_logs_are_reachable() {
    let mut rig = EcsRig::start(0.5).await;
    let (v1, v2) = rig.images.clone();
    let (_, first) = rig.deploy(&v1, 2, "CodeDeployDefault.ECSAllAtOnce", false).await;
    succeeded(&first, &rig.logs());
    // A custom configuration: 50 % per "minute" (0.5 s), two steps.
    let _: wire::CreateDeploymentConfigOutput = rig
        .cluster
        .client
        .call(
            Operation::CreateDeploymentConfig,
            &serde_json::json!({
                "deploymentConfigName": "Halves", "computePlatform": "ECS",
                "trafficRoutingConfig": {"type": "TimeBasedLinear",
                    "timeBasedLinear": {"linearPercentage": 50, "linearInterval": 1}},
            }),
        )
        .await
        .expect("CreateDeploymentConfig");
    rig.answer_hooks("Succeeded");
    let id = rig.create(&v2, 2, "Halves", false).await;
    // Once production reached the replacement, kill one of its containers.
    let (set, upstreams) = wait_for("production to reach v2", Duration::from_secs(60), || async {
        if get(&rig.prod()).await.as_deref() != Some("v2") {
            return None;
        }
        let service = rig.service().await;
        let replacement = service.task_sets.iter().find(|set| set.role == "replacement")?;
        Some((replacement.task_set_id.clone(), replacement.upstreams.clone()))
    })
    .await;
    kill_and_wait_replaced(&rig, &set, &upstreams).await;
    let done = rig.cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await;
    succeeded(&done, &rig.logs());
    // Afterwards too: the service keeps its count, and production keeps answering from every task.
    kill_and_wait_replaced(&rig, &set, &upstreams).await;
    let load = LoadLoop::start(rig.prod(), 2);
    load.run_past(load.now_ms() + 500, 40).await;
    let report = load.stop().await;
    assert!(report.failed.is_empty(), "{:?}", report.failed.first());
    assert_eq!(report.share("v2", 0, u64::MAX), Some(1.0));
    // The containers' logs through the CLI: the test server logs every request (the health checks among them).
    let output = std::process::Command::new(binary("cutover"))
        .args([
            "--endpoint",
            &rig.cluster.endpoint,
            "containers",
            "logs",
            "--cluster",
            rig.run.id(),
            "--service",
            SERVICE,
        ])
        .env("AWS_SHARED_CREDENTIALS_FILE", rig.cluster.credentials_file())
        .output()
        .expect("cutover containers logs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains(&format!("== {set} on ")), "{stdout}");
    assert!(stdout.contains("/health"), "{stdout}");
    // And the status table shows the replaced tasks, with the reason.
    let output = std::process::Command::new(binary("cutover"))
        .args([
            "--endpoint",
            &rig.cluster.endpoint,
            "containers",
            "status",
            "--cluster",
            rig.run.id(),
            "--service",
            SERVICE,
        ])
        .env("AWS_SHARED_CREDENTIALS_FILE", rig.cluster.credentials_file())
        .output()
        .expect("cutover containers status");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.contains(&set) && stdout.contains("primary") && stdout.contains("replaced"), "{stdout}");
}

/// Kills the one running container of `set` and waits until the agent replaced it on the same upstream.
async fn kill_and_wait_replaced(rig: &EcsRig, set: &str, upstreams: &[String]) {
    let killed = rig.containers(set).await;
    assert_eq!(killed.len(), 1, "{set}");
    let before = rig.service().await.task_sets.iter().find(|known| known.task_set_id == set).map_or(0, |s| s.replaced);
    let status = std::process::Command::new("docker").args(["kill", &killed[0]]).status().expect("docker kill");
    assert!(status.success());
    let service = wait_for("the killed container to be replaced", Duration::from_secs(30), || async {
        let running = rig.containers(set).await;
        let service = rig.service().await;
        let reported = service.task_sets.iter().find(|known| known.task_set_id == set)?;
        (running.len() == 1 && running[0] != killed[0] && reported.replaced > before && reported.running == 1)
            .then_some(service)
    })
    .await;
    let reported = service.task_sets.iter().find(|known| known.task_set_id == set).expect("reported");
    assert_eq!(reported.upstreams, upstreams, "the replacement task keeps the router's upstream");
    assert!(reported.messages.contains("replaced"), "{}", reported.messages);
}

/// Calls an operation that must fail; returns (exception, message).
async fn refused(rig: &EcsRig, operation: Operation, input: serde_json::Value) -> (String, String) {
    let out: Result<serde_json::Value, _> = rig.cluster.client.call(operation, &input).await;
    match out {
        Ok(value) => panic!("{operation:?} succeeded: {value}"),
        Err(cutover_client::api::ApiClientError::Api { type_, message, .. }) => (type_, message),
        Err(other) => panic!("{operation:?}: {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_groups_appspecs_and_a_missing_image_get_specific_errors() {
    let rig = EcsRig::start(0.5).await;
    let group = |extra: serde_json::Value| {
        let mut input =
            serde_json::json!({"applicationName": "web", "deploymentGroupName": "other", "serviceRoleArn": "r"});
        for (key, value) in extra.as_object().expect("object") {
            input[key] = value.clone();
        }
        input
    };
    let pair =
        |prod: &str| serde_json::json!({"targetGroupPairInfoList": [{"prodTrafficRoute": {"listenerArns": [prod]}}]});
    let (kind, message) = refused(
        &rig,
        Operation::CreateDeploymentGroup,
        group(serde_json::json!({"loadBalancerInfo": pair("web-prod")})),
    )
    .await;
    assert_eq!(kind, "InvalidECSServiceException", "{message}");
    assert!(message.contains("exactly one service in ecsServices"), "{message}");
    let services = serde_json::json!([{"serviceName": "api", "clusterName": "c1"}]);
    let (kind, message) = refused(
        &rig,
        Operation::CreateDeploymentGroup,
        group(serde_json::json!({"ecsServices": services, "loadBalancerInfo": pair("nowhere")})),
    )
    .await;
    assert_eq!(kind, "InvalidLoadBalancerInfoException", "{message}");
    assert!(message.contains("\"nowhere\" is not a target group"), "{message}");
    let (kind, message) = refused(
        &rig,
        Operation::CreateDeploymentGroup,
        group(serde_json::json!({"ecsServices": services, "loadBalancerInfo": pair("web-haproxy")})),
    )
    .await;
    assert_eq!(kind, "InvalidLoadBalancerInfoException", "{message}");
    assert!(message.contains("ECS routes need the built-in router"), "{message}");
    let (kind, message) = refused(
        &rig,
        Operation::CreateDeploymentGroup,
        group(serde_json::json!({"ecsServices": services, "loadBalancerInfo": pair("web-prod"),
            "deploymentConfigName": "CodeDeployDefault.LambdaAllAtOnce"})),
    )
    .await;
    assert_eq!(kind, "InvalidDeploymentConfigNameException", "{message}");
    let taken = serde_json::json!([{"serviceName": SERVICE, "clusterName": rig.run.id()}]);
    let (kind, message) = refused(
        &rig,
        Operation::CreateDeploymentGroup,
        group(serde_json::json!({"ecsServices": taken, "loadBalancerInfo": pair("web-prod")})),
    )
    .await;
    assert_eq!(kind, "ECSServiceMappingLimitExceededException", "{message}");
    assert!(message.contains("already deployed by deployment group web"), "{message}");

    // AppSpecs: the task definition's own checks with their field paths, the load balancer target, references.
    let create = |content: String| {
        serde_json::json!({
            "applicationName": "web", "deploymentGroupName": "web",
            "revision": {"revisionType": "AppSpecContent", "appSpecContent": {"content": content}},
        })
    };
    let good = EcsRig::appspec(&rig.images.0, 1, false);
    let (kind, message) = refused(
        &rig,
        Operation::CreateDeployment,
        create(good.replace("                port: 8080\n", "                port: 81\n")),
    )
    .await;
    assert_eq!(kind, "InvalidRevisionException", "{message}");
    assert!(
        message.contains("TaskDefinition: invalid task definition: containers[0].healthCheck.port: 81"),
        "{message}"
    );
    let (kind, message) =
        refused(&rig, Operation::CreateDeployment, create(good.replace("ContainerPort: 8080", "ContainerPort: 9090")))
            .await;
    assert_eq!(kind, "InvalidRevisionException", "{message}");
    assert!(message.contains("LoadBalancerInfo"), "{message}");
    let reference = "version: 0.0\nResources:\n  - TargetService:\n      Type: AWS::ECS::Service\n      Properties:\n        TaskDefinition: \"arn:aws:ecs:eu-west-1:1:task-definition/web:3\"\n        LoadBalancerInfo:\n          ContainerName: app\n          ContainerPort: 8080\n";
    let (kind, message) = refused(&rig, Operation::CreateDeployment, create(reference.to_owned())).await;
    assert_eq!(kind, "InvalidRevisionException", "{message}");
    assert!(message.contains("no task definition registry"), "{message}");

    // An image that is not on the hosts: Install fails with the engine's reason, nothing is left running, and the
    // group is free for the next deployment.
    let missing = format!("cutover-test/http:{}-missing", rig.run.id());
    let (id, done) = rig.deploy(&missing, 2, "CodeDeployDefault.ECSAllAtOnce", false).await;
    assert_eq!(done.status.as_deref(), Some("Failed"), "{}", rig.logs());
    let events = rig.events(&id).await;
    let install =
        events.iter().find(|event| event.lifecycle_event_name.as_deref() == Some("Install")).expect("Install");
    let message = install.diagnostics.clone().and_then(|diagnostics| diagnostics.message).unwrap_or_default();
    assert!(message.contains("never pulls images"), "{message}");
    let service = wait_for("the failed replacement to be withdrawn", Duration::from_secs(30), || async {
        let service = rig.service().await;
        service.task_sets.is_empty().then_some(service)
    })
    .await;
    assert_eq!(service.task_sets, Vec::new());
    let (_, done) = rig.deploy(&rig.images.0, 2, "CodeDeployDefault.ECSAllAtOnce", false).await;
    succeeded(&done, &rig.logs());
    assert_eq!(get(&rig.prod()).await.as_deref(), Some("v1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_during_the_canary_resumes_the_deployment_without_a_failed_request() {
    // ECSCanary10Percent5Minutes with a "minute" of 1 s: 10 % for 5 s, then 100 %.
    let mut rig = EcsRig::start(1.0).await;
    let (v1, v2) = rig.images.clone();
    let (_, first) = rig.deploy(&v1, 2, "CodeDeployDefault.ECSAllAtOnce", false).await;
    succeeded(&first, &rig.logs());
    let load = LoadLoop::start(rig.prod(), 4);
    let id = rig.create(&v2, 2, "CodeDeployDefault.ECSCanary10Percent5Minutes", false).await;
    wait_for("the canary step", Duration::from_secs(60), || async { load.first_answer("v2") }).await;
    rig.cluster.kill_server();
    // Production keeps its routing while the server is down (the router and the containers do not need it).
    load.run_past(load.now_ms() + 500, 20).await;
    rig.cluster.restart_server().await;
    let done = rig.cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await;
    succeeded(&done, &rig.logs());
    let all_v2 = wait_for("production on v2", Duration::from_secs(20), || async {
        (get(&rig.prod()).await.as_deref() == Some("v2")).then(|| load.now_ms())
    })
    .await;
    load.run_past(all_v2 + 300, 20).await;
    let report = load.stop().await;
    assert_no_failures(&report, &rig.logs());
    // One replacement was assigned (the restarted Install did not assign a second one), now the primary.
    let service = rig.service().await;
    assert_eq!(service.task_sets.len(), 2, "{service:?}");
    assert!(service.task_sets.iter().all(|set| set.role == "primary" && set.deployment_id == id), "{service:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_during_the_canary_returns_production_to_the_original_at_once() {
    // ECSCanary10Percent15Minutes with a "minute" of 1 s: the canary would last 15 s; it is stopped in its middle.
    let rig = EcsRig::start(1.0).await;
    let (v1, v2) = rig.images.clone();
    let (_, first) = rig.deploy(&v1, 2, "CodeDeployDefault.ECSAllAtOnce", false).await;
    succeeded(&first, &rig.logs());
    let originals = task_sets(&rig.service().await, "primary");
    let load = LoadLoop::start(rig.prod(), 4);
    let id = rig.create(&v2, 2, "CodeDeployDefault.ECSCanary10Percent15Minutes", false).await;
    let first_v2 = wait_for("the canary step", Duration::from_secs(60), || async { load.first_answer("v2") }).await;
    let replacement = task_sets(&rig.service().await, "replacement");
    assert_eq!(replacement.len(), 2);
    load.run_past(first_v2 + 1000, 20).await;
    let stopped_at = load.now_ms();
    let out: wire::StopDeploymentOutput = rig
        .cluster
        .client
        .call(Operation::StopDeployment, &serde_json::json!({"deploymentId": id}))
        .await
        .expect("StopDeployment");
    assert_eq!(out.status.as_deref(), Some("Pending"));
    let done = rig.cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await;
    assert_eq!(done.status.as_deref(), Some("Stopped"), "{}", rig.logs());
    for set in &replacement {
        rig.wait_gone(set).await;
    }
    let back = load.now_ms();
    load.run_past(back + 500, 20).await;
    let report = load.stop().await;
    assert_no_failures(&report, &rig.logs());
    // Once the replacement is gone nothing answers v2; the original serves as before.
    assert_eq!(report.share("v2", back, u64::MAX), Some(0.0));
    assert!(report.share("v2", first_v2, stopped_at).is_some_and(|share| share > 0.0));
    assert_eq!(task_sets(&rig.service().await, "primary"), originals);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alarm_during_a_linear_shift_returns_production_to_the_original() {
    let rig = EcsRig::start(1.0).await;
    let (v1, v2) = rig.images.clone();
    let (_, first) = rig.deploy(&v1, 2, "CodeDeployDefault.ECSAllAtOnce", false).await;
    succeeded(&first, &rig.logs());
    let _: wire::UpdateDeploymentGroupOutput = rig
        .cluster
        .client
        .call(
            Operation::UpdateDeploymentGroup,
            &serde_json::json!({"applicationName": "web", "currentDeploymentGroupName": "web",
                "alarmConfiguration": {"enabled": true, "alarms": [{"name": "web-errors"}]}}),
        )
        .await
        .expect("UpdateDeploymentGroup");
    let load = LoadLoop::start(rig.prod(), 4);
    let id = rig.create(&v2, 2, "CodeDeployDefault.ECSLinear10PercentEvery1Minutes", false).await;
    // Two steps in (20 %), raise the alarm.
    let first_v2 = wait_for("the first step", Duration::from_secs(60), || async { load.first_answer("v2") }).await;
    load.run_past(first_v2 + 1300, 20).await;
    let replacement = task_sets(&rig.service().await, "replacement");
    *rig.alarm.lock().expect("alarm") = true;
    let done = rig.cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await;
    assert_eq!(done.status.as_deref(), Some("Stopped"), "{}", rig.logs());
    assert_eq!(done.error_information.as_ref().and_then(|error| error.code.as_deref()), Some("ALARM_ACTIVE"));
    for set in &replacement {
        rig.wait_gone(set).await;
    }
    let back = load.now_ms();
    load.run_past(back + 500, 20).await;
    let report = load.stop().await;
    assert_no_failures(&report, &rig.logs());
    assert_eq!(report.share("v1", back, u64::MAX), Some(1.0), "all of production back on the original");
    let message = done.rollback_info.and_then(|info| info.rollback_message).unwrap_or_default();
    assert!(message.contains("returns to the original task set"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_at_once_under_load_has_no_failed_request() {
    // One step from the original to the replacement: the new tasks get production's weight only once the router
    // has seen them healthy.
    let rig = EcsRig::start(0.5).await;
    let (v1, v2) = rig.images.clone();
    let (_, first) = rig.deploy(&v1, 2, "CodeDeployDefault.ECSAllAtOnce", false).await;
    succeeded(&first, &rig.logs());
    let load = LoadLoop::start(rig.prod(), 4);
    load.run_past(load.now_ms() + 300, 20).await;
    let (_, done) = rig.deploy(&v2, 2, "CodeDeployDefault.ECSAllAtOnce", false).await;
    succeeded(&done, &rig.logs());
    let first_v2 = load.first_answer("v2").expect("v2 answered");
    load.run_past(first_v2 + 500, 20).await;
    let report = load.stop().await;
    assert_no_failures(&report, &rig.logs());
    assert_eq!(report.share("v2", first_v2 + 200, u64::MAX), Some(1.0));
}
