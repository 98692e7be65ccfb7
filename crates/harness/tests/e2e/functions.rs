//! The function platform end to end (computePlatform Lambda): a real server moves a function's alias between two
//! versions through the built-in router while a constant load runs through the alias's route, with hook functions
//! that report through PutLifecycleEventHookExecutionStatus; and the AWS Lambda provider against a moto server.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cutover_api_types::codedeploy::{self as wire, Operation};
use cutover_harness::http_stub::HttpStub;
use cutover_harness::load::{LoadLoop, LoadReport};
use cutover_harness::router::{RouterProc, TOKEN};
use cutover_harness::{Cluster, ClusterOptions, wait_for};
use cutover_router::{Member, MemberState, TrafficController};

use crate::DEPLOY_TIMEOUT;

/// How a hook function answers: it calls PutLifecycleEventHookExecutionStatus with this status, or never.
#[derive(Clone, Copy, PartialEq, Eq)]
enum HookAnswer {
    Succeeded,
    Failed,
    Never,
}

struct FnRig {
    cluster: Cluster,
    _router: RouterProc,
    control: String,
    url: String,
    _versions: (HttpStub, HttpStub),
    v1_address: String,
    pre: HttpStub,
    post: HttpStub,
    /// Whether the alarm probe answers 500 (ALARM).
    alarm: Arc<Mutex<bool>>,
    _alarm_stub: HttpStub,
    answering: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for FnRig {
    fn drop(&mut self) {
        for task in &self.answering {
            task.abort();
        }
    }
}

async fn version_stub(body: &'static str) -> HttpStub {
    HttpStub::start(move |request| {
        let text = if request.target == "/health" { "ok" } else { body };
        (200, "text/plain", text.as_bytes().to_vec())
    })
    .await
}

impl FnRig {
    async fn start(minute_seconds: f64) -> FnRig {
        let dir: PathBuf = tempfile::tempdir().expect("tempdir").keep();
        let router = RouterProc::start(&dir, &["checkout-live"], 1).await;
        let (control, url) = (router.control_url.clone(), router.url("checkout-live"));
        let versions = (version_stub("v1").await, version_stub("v2").await);
        let pre = HttpStub::start(|_| (202, "application/json", b"{}".to_vec())).await;
        let post = HttpStub::start(|_| (202, "application/json", b"{}".to_vec())).await;
        let alarm = Arc::new(Mutex::new(false));
        let flag = alarm.clone();
        let alarm_stub = HttpStub::start(move |_| {
            if *flag.lock().expect("flag") {
                (500, "text/plain", b"errors".to_vec())
            } else {
                (200, "text/plain", b"ok".to_vec())
            }
        })
        .await;
        let traffic = dir.join("traffic.toml");
        std::fs::write(
            &traffic,
            format!(
                "[[target_group]]\nname = \"checkout-live\"\nhealth_timeout_seconds = 20\n[target_group.router]\n{}\n\
                 [[function]]\nname = \"checkout\"\n[function.versions]\n\"1\" = [\"{}\"]\n\"2\" = [\"{}\"]\n[function.aliases]\nlive = \"checkout-live\"\n\n\
                 [[function]]\nname = \"pre-traffic\"\ninvoke_url = \"{}\"\n\n[[function]]\nname = \"post-traffic\"\ninvoke_url = \"{}\"\n",
                router.server_config(),
                versions.0.addr,
                versions.1.addr,
                pre.url("/invoke"),
                post.url("/invoke"),
            ),
        )
        .expect("traffic file");
        let alarms = dir.join("alarms.toml");
        std::fs::write(
            &alarms,
            format!("[[alarms]]\nname = \"checkout-errors\"\nhttp = {{ url = \"{}\" }}\n", alarm_stub.url("/")),
        )
        .expect("alarm file");
        let cluster = Cluster::start(ClusterOptions {
            agents: 0,
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
                &serde_json::json!({"applicationName": "checkout", "computePlatform": "Lambda"}),
            )
            .await
            .expect("CreateApplication");
        let v1_address = versions.0.addr.to_string();
        let rig = FnRig {
            cluster,
            _router: router,
            control,
            url,
            _versions: versions,
            v1_address,
            pre,
            post,
            alarm,
            _alarm_stub: alarm_stub,
            answering: Vec::new(),
        };
        rig.alias_on_v1().await;
        rig
    }

    /// The alias exists before any deployment: all of its traffic on version 1 (as the server names the members).
    async fn alias_on_v1(&self) {
        let router = cutover_router::BuiltinRouter::new(&self.control, Some(TOKEN.to_owned()), None).expect("router");
        let member = Member {
            id: "checkout-v1-0".to_owned(),
            address: self.v1_address.clone(),
            weight: 10_000,
            state: MemberState::Ready,
        };
        router.apply("checkout-live", &[member]).await.expect("apply");
        let url = self.url.clone();
        wait_for("the alias to serve v1", Duration::from_secs(20), || {
            let url = url.clone();
            async move { (reqwest::get(&url).await.ok()?.text().await.ok()?.trim() == "v1").then_some(()) }
        })
        .await;
    }

    async fn group(&self, config: &str, extra: serde_json::Value) {
        let mut input = serde_json::json!({
            "applicationName": "checkout", "deploymentGroupName": "live", "serviceRoleArn": "r",
            "deploymentConfigName": config,
        });
        if let (Some(object), Some(extra)) = (input.as_object_mut(), extra.as_object()) {
            for (key, value) in extra {
                object.insert(key.clone(), value.clone());
            }
        }
        let _: wire::CreateDeploymentGroupOutput =
            self.cluster.client.call(Operation::CreateDeploymentGroup, &input).await.expect("CreateDeploymentGroup");
    }

    /// Makes a hook function answer its invocations.
    fn answer(&mut self, pre: HookAnswer, post: HookAnswer) {
        for (stub, answer) in [(self.pre.shared_requests(), pre), (self.post.shared_requests(), post)] {
            if answer == HookAnswer::Never {
                continue;
            }
            let status = if answer == HookAnswer::Succeeded { "Succeeded" } else { "Failed" };
            self.answering.push(cutover_harness::hooks::answer(self.cluster.client.clone(), stub, status));
        }
    }

    async fn create(&self, extra: serde_json::Value) -> String {
        let appspec = "version: 0.0\nResources:\n  - checkout:\n      Type: AWS::Lambda::Function\n      Properties:\n        Name: checkout\n        Alias: live\n        CurrentVersion: \"1\"\n        TargetVersion: \"2\"\nHooks:\n  - BeforeAllowTraffic: pre-traffic\n  - AfterAllowTraffic: post-traffic\n";
        let mut input = serde_json::json!({
            "applicationName": "checkout", "deploymentGroupName": "live",
            "revision": {"revisionType": "AppSpecContent", "appSpecContent": {"content": appspec}},
        });
        if let (Some(object), Some(extra)) = (input.as_object_mut(), extra.as_object()) {
            for (key, value) in extra {
                object.insert(key.clone(), value.clone());
            }
        }
        let out: Result<wire::CreateDeploymentOutput, _> =
            self.cluster.client.call(Operation::CreateDeployment, &input).await;
        match out {
            Ok(out) => out.deployment_id.expect("deploymentId"),
            Err(error) => panic!("CreateDeployment: {error:?}\n{}", self.cluster.logs()),
        }
    }

    fn load(&self) -> LoadLoop {
        LoadLoop::start(self.url.clone(), 4)
    }

    async fn target(&self, id: &str) -> wire::LambdaTarget {
        let out: wire::GetDeploymentTargetOutput = self
            .cluster
            .client
            .call(Operation::GetDeploymentTarget, &serde_json::json!({"deploymentId": id, "targetId": "checkout:live"}))
            .await
            .expect("GetDeploymentTarget");
        let target = out.deployment_target.expect("target");
        assert_eq!(target.deployment_target_type.as_deref(), Some("LambdaTarget"));
        target.lambda_target.expect("lambdaTarget")
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

async fn settle(load: &LoadLoop) {
    load.run_past(load.now_ms(), 50).await;
}

fn first_v2(report: &LoadReport) -> u64 {
    report.answered("v2", false).expect("v2 answered")
}

/// Keeps the load on until requests were sent `after_ms` past the first answer of v2.
async fn run_past_first_v2(load: &LoadLoop, after_ms: u64) {
    let first = wait_for("v2 to answer", Duration::from_secs(20), || {
        let first = load.first_answer("v2");
        async move { first }
    })
    .await;
    load.run_past(first + after_ms, 20).await;
}

/// Percentage points a measured share may differ from the configured step.
const SHARE_TOLERANCE: f64 = 0.06;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canary_sends_ten_percent_then_everything() {
    // LambdaCanary10Percent5Minutes with a "minute" of 0.6 s: 10 % for 3 s, then 100 %.
    let mut rig = FnRig::start(0.6).await;
    rig.group("CodeDeployDefault.LambdaCanary10Percent5Minutes", serde_json::json!({})).await;
    rig.answer(HookAnswer::Succeeded, HookAnswer::Succeeded);
    let load = rig.load();
    let id = rig.create(serde_json::json!({})).await;
    let done = rig.cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await;
    assert_eq!(done.status.as_deref(), Some("Succeeded"), "{}", rig.cluster.logs());
    assert_eq!(done.compute_platform.as_deref(), Some("Lambda"));
    // Keep the load on for a while after the last step.
    run_past_first_v2(&load, 3000 + 800).await;
    let report = load.stop().await;
    assert_no_failures(&report, &rig.cluster.logs());
    let first = first_v2(&report);
    let canary = report.share("v2", first + 200, first + 3000 - 200).expect("samples in the canary");
    assert!((canary - 0.10).abs() <= SHARE_TOLERANCE, "canary: {:.1} % on v2, expected 10 %", canary * 100.0);
    assert_eq!(report.share("v2", first + 3000 + 300, u64::MAX), Some(1.0));
    // Each hook was invoked once with CodeDeploy's payload, BeforeAllowTraffic before any request reached v2.
    for stub in [&rig.pre, &rig.post] {
        let requests = stub.requests();
        assert_eq!(requests.len(), 1);
        let payload: serde_json::Value = serde_json::from_slice(&requests[0].0.body).expect("payload");
        assert_eq!(payload["DeploymentId"], serde_json::json!(id));
        assert!(payload["LifecycleEventHookExecutionId"].as_str().is_some_and(|id| !id.is_empty()));
    }
    let target = rig.target(&id).await;
    let info = target.lambda_function_info.expect("info");
    assert_eq!((info.current_version.as_deref(), info.target_version.as_deref()), (Some("1"), Some("2")));
    assert_eq!(info.target_version_weight, Some(1.0));
    let events: Vec<String> = target
        .lifecycle_events
        .unwrap_or_default()
        .into_iter()
        .filter_map(|event| event.lifecycle_event_name)
        .collect();
    assert_eq!(events, ["BeforeAllowTraffic", "AllowTraffic", "AfterAllowTraffic"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn linear_moves_ten_percent_every_minute() {
    let minute_ms = 800u64;
    let mut rig = FnRig::start(minute_ms as f64 / 1000.0).await;
    rig.group("CodeDeployDefault.LambdaLinear10PercentEvery1Minute", serde_json::json!({})).await;
    rig.answer(HookAnswer::Succeeded, HookAnswer::Succeeded);
    let load = rig.load();
    let id = rig.create(serde_json::json!({})).await;
    let done = rig.cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await;
    assert_eq!(done.status.as_deref(), Some("Succeeded"), "{}", rig.cluster.logs());
    // Keep the load on for a while after the last step.
    run_past_first_v2(&load, 9 * minute_ms + 1000).await;
    let report = load.stop().await;
    assert_no_failures(&report, &rig.cluster.logs());
    let first = first_v2(&report);
    for step in 0..9u64 {
        let expected = (step + 1) as f64 / 10.0;
        let share = report
            .share("v2", first + step * minute_ms + 150, first + (step + 1) * minute_ms - 150)
            .expect("samples in the step");
        assert!(
            (share - expected).abs() <= SHARE_TOLERANCE + 0.04,
            "step {}: {:.1} % on v2, expected {:.0} %",
            step + 1,
            share * 100.0,
            expected * 100.0
        );
    }
    assert_eq!(report.share("v2", first + 9 * minute_ms + 300, u64::MAX), Some(1.0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_before_allow_traffic_hook_keeps_every_request_on_the_current_version() {
    let mut rig = FnRig::start(0.5).await;
    rig.group("CodeDeployDefault.LambdaAllAtOnce", serde_json::json!({})).await;
    rig.answer(HookAnswer::Failed, HookAnswer::Succeeded);
    let load = rig.load();
    let id = rig.create(serde_json::json!({})).await;
    let done = rig.cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await;
    assert_eq!(done.status.as_deref(), Some("Failed"), "{}", rig.cluster.logs());
    settle(&load).await;
    let report = load.stop().await;
    assert_no_failures(&report, &rig.cluster.logs());
    assert_eq!(report.share("v1", 0, u64::MAX), Some(1.0), "production traffic never reached version 2");
    assert!(rig.post.requests().is_empty(), "AfterAllowTraffic never ran");
    let target = rig.target(&id).await;
    let events = target.lifecycle_events.unwrap_or_default();
    let before = &events[0];
    assert_eq!(before.status.as_deref(), Some("Failed"));
    let message = before.diagnostics.as_ref().and_then(|diagnostics| diagnostics.message.clone()).unwrap_or_default();
    assert!(message.contains("reported Failed"), "{message}");
    assert_eq!(events[1].status.as_deref(), Some("Skipped"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alarm_during_a_linear_shift_returns_all_traffic_at_once() {
    let minute_ms = 1000u64;
    let mut rig = FnRig::start(minute_ms as f64 / 1000.0).await;
    rig.group(
        "CodeDeployDefault.LambdaLinear10PercentEvery1Minute",
        serde_json::json!({
            "alarmConfiguration": {"enabled": true, "alarms": [{"name": "checkout-errors"}]},
            "autoRollbackConfiguration": {"enabled": true, "events": ["DEPLOYMENT_STOP_ON_ALARM"]},
        }),
    )
    .await;
    rig.answer(HookAnswer::Succeeded, HookAnswer::Succeeded);
    let load = rig.load();
    let id = rig.create(serde_json::json!({})).await;
    // Let three steps pass (30 %), then raise the alarm.
    wait_for("the third step", DEPLOY_TIMEOUT, || {
        let samples = load.samples();
        async move {
            let first = samples.iter().find(|sample| sample.outcome.as_deref() == Ok("v2"))?.at_ms;
            samples.last().is_some_and(|last| last.at_ms > first + 2 * minute_ms + 300).then_some(())
        }
    })
    .await;
    let raised = load.now_ms();
    *rig.alarm.lock().expect("flag") = true;
    let done = rig.cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await;
    assert_eq!(done.status.as_deref(), Some("Stopped"), "{}", rig.cluster.logs());
    assert_eq!(done.error_information.as_ref().and_then(|error| error.code.as_deref()), Some("ALARM_ACTIVE"));
    let stopped = load.now_ms();
    settle(&load).await;
    let report = load.stop().await;
    assert_no_failures(&report, &rig.cluster.logs());
    let last_v2 = report.answered("v2", true).expect("v2 answered before the alarm");
    assert!(last_v2 < stopped, "version 2 answered after the deployment stopped");
    assert_eq!(report.share("v1", stopped, u64::MAX), Some(1.0), "all traffic back on version 1");
    let message = done.rollback_info.and_then(|info| info.rollback_message).unwrap_or_default();
    assert!(message.contains("returns to version 1"), "{message}");
    eprintln!("time to roll back traffic: {} ms after the alarm was raised", last_v2.saturating_sub(raised));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hook_that_never_reports_fails_at_its_deadline() {
    // A "minute" of 50 ms: the hook's hour is 3 s.
    let mut rig = FnRig::start(0.05).await;
    rig.group("CodeDeployDefault.LambdaAllAtOnce", serde_json::json!({})).await;
    rig.answer(HookAnswer::Never, HookAnswer::Succeeded);
    let load = rig.load();
    let id = rig.create(serde_json::json!({})).await;
    let done = rig.cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await;
    assert_eq!(done.status.as_deref(), Some("Failed"), "{}", rig.cluster.logs());
    settle(&load).await;
    let report = load.stop().await;
    assert_no_failures(&report, &rig.cluster.logs());
    assert_eq!(report.share("v1", 0, u64::MAX), Some(1.0));
    assert_eq!(rig.pre.requests().len(), 1, "invoked once");
    let target = rig.target(&id).await;
    let events = target.lifecycle_events.unwrap_or_default();
    let message =
        events[0].diagnostics.as_ref().and_then(|diagnostics| diagnostics.message.clone()).unwrap_or_default();
    assert!(message.contains("did not report its status"), "{message}");
    // A late report is refused: the hook already completed.
    let payload: serde_json::Value = serde_json::from_slice(&rig.pre.requests()[0].0.body).expect("payload");
    let late: Result<wire::PutLifecycleEventHookExecutionStatusOutput, _> = rig
        .cluster
        .client
        .call(
            Operation::PutLifecycleEventHookExecutionStatus,
            &serde_json::json!({"deploymentId": id, "lifecycleEventHookExecutionId": payload["LifecycleEventHookExecutionId"], "status": "Succeeded"}),
        )
        .await;
    assert!(format!("{late:?}").contains("LifecycleEventAlreadyCompletedException"), "{late:?}");
}

/// The AWS Lambda provider against moto: UpdateAlias with a RoutingConfig during the canary, the target version at
/// the end, and Invoke of a hook function (moto accepts it but cannot run code that reports back, so that hook fails
/// at its deadline — which shows the invocation was accepted).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_lambda_provider_moves_the_alias_on_a_lambda_api() {
    let venv = crate::compat_python::venv();
    let port =
        std::net::TcpListener::bind("127.0.0.1:0").and_then(|listener| listener.local_addr()).expect("port").port();
    let dir: PathBuf = tempfile::tempdir().expect("tempdir").keep();
    let log = std::fs::File::create(dir.join("moto.log")).expect("moto log");
    let mut moto = Command::new(venv.join("bin/moto_server"))
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log"))
        .stderr(log)
        .spawn()
        .expect("spawn moto_server");
    let endpoint = format!("http://127.0.0.1:{port}");
    wait_for("moto_server to listen", Duration::from_secs(60), || async move {
        std::net::TcpStream::connect(("127.0.0.1", port)).ok().map(|_| ())
    })
    .await;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/compat/lambda_moto.py");
    let python = |command: &str| {
        let output = Command::new(venv.join("bin/python"))
            .arg(&script)
            .arg(command)
            .env("MOTO_ENDPOINT", &endpoint)
            .output()
            .expect("python");
        assert!(output.status.success(), "{command}: {}", String::from_utf8_lossy(&output.stderr));
        serde_json::from_slice::<serde_json::Value>(&output.stdout).expect("json")
    };
    python("setup");
    let traffic = dir.join("traffic.toml");
    std::fs::write(
        &traffic,
        format!(
            "[[function]]\nname = \"orders\"\n[function.aws]\nendpoint = \"{endpoint}\"\nregion = \"us-east-1\"\n\
             access_key_id = \"test\"\nsecret_access_key = \"test\"\n"
        ),
    )
    .expect("traffic file");
    let cluster = Cluster::start(ClusterOptions {
        agents: 0,
        server_args: vec![
            "--traffic-config".to_owned(),
            traffic.display().to_string(),
            "--minute-seconds".to_owned(),
            "0.5".to_owned(),
        ],
        ..Default::default()
    })
    .await;
    let call = |operation: Operation, input: serde_json::Value| {
        let client = cluster.client.clone();
        async move {
            let out: serde_json::Value = client.call(operation, &input).await.expect("call");
            out
        }
    };
    call(Operation::CreateApplication, serde_json::json!({"applicationName": "orders", "computePlatform": "Lambda"}))
        .await;
    call(
        Operation::CreateDeploymentGroup,
        serde_json::json!({"applicationName": "orders", "deploymentGroupName": "live", "serviceRoleArn": "r",
                           "deploymentConfigName": "CodeDeployDefault.LambdaCanary10Percent5Minutes"}),
    )
    .await;
    let appspec = |hooks: &str| {
        format!(
            "version: 0.0\nResources:\n  - orders:\n      Type: AWS::Lambda::Function\n      Properties:\n        Name: orders\n        Alias: live\n        CurrentVersion: \"1\"\n        TargetVersion: \"2\"\n{hooks}"
        )
    };
    let deploy = |content: String| {
        let client = cluster.client.clone();
        async move {
            let out: wire::CreateDeploymentOutput = client
                .call(
                    Operation::CreateDeployment,
                    &serde_json::json!({"applicationName": "orders", "deploymentGroupName": "live",
                        "revision": {"revisionType": "AppSpecContent", "appSpecContent": {"content": content}}}),
                )
                .await
                .expect("CreateDeployment");
            out.deployment_id.expect("id")
        }
    };
    // Canary: during the 2.5 s canary the alias carries a 10 % routing weight for version 2.
    let id = deploy(appspec("")).await;
    let during = wait_for("the canary weight on the alias", Duration::from_secs(20), || {
        let alias = python("alias");
        async move { (alias["routing"]["AdditionalVersionWeights"]["2"].as_f64() == Some(0.1)).then_some(alias) }
    })
    .await;
    assert_eq!(during["version"], "1");
    let done = cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await;
    assert_eq!(done.status.as_deref(), Some("Succeeded"), "{}", cluster.logs());
    let after = python("alias");
    assert_eq!(after["version"], "2", "{after}");
    assert!(
        after["routing"]["AdditionalVersionWeights"].as_object().is_none_or(|weights| weights.is_empty()),
        "{after}"
    );

    // Invoke: the hook function is called on moto; it never reports, so the hook fails at its deadline (30 s here).
    let id = deploy(
        appspec("Hooks:\n  - BeforeAllowTraffic: orders-check\n")
            .replace("CurrentVersion: \"1\"", "CurrentVersion: \"2\"")
            .replace("TargetVersion: \"2\"", "TargetVersion: \"1\""),
    )
    .await;
    let done = cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await;
    assert_eq!(done.status.as_deref(), Some("Failed"), "{}", cluster.logs());
    let out: wire::GetDeploymentTargetOutput = cluster
        .client
        .call(Operation::GetDeploymentTarget, &serde_json::json!({"deploymentId": id, "targetId": "orders:live"}))
        .await
        .expect("target");
    let events = out
        .deployment_target
        .and_then(|target| target.lambda_target)
        .and_then(|target| target.lifecycle_events)
        .unwrap_or_default();
    let message =
        events[0].diagnostics.as_ref().and_then(|diagnostics| diagnostics.message.clone()).unwrap_or_default();
    assert!(message.contains("did not report its status"), "Invoke was not accepted: {message}");
    assert_eq!(python("alias")["version"], "2", "the alias stayed on the version that served");
    let _ = moto.kill();
    let _ = moto.wait();
}
