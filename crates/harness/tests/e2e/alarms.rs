//! Alarms end to end: a real Prometheus scraping a metric the test controls, HTTP probes, and sources that cannot
//! be read, each guarding a deployment whose hook waits on a gate file so that the alarm fires mid-deployment.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::time::Duration;

use cutover_api_types::codedeploy::{self as wire, Operation};
use cutover_harness::http_stub::{self, HttpStub};
use cutover_harness::{Bundle, Cluster, ClusterOptions, wait_for};

use crate::DEPLOY_TIMEOUT;

/// A revision whose AfterInstall hook signals `started-<deployment>` and then waits for `go-<deployment>`.
fn gated() -> Bundle {
    Bundle::new()
        .file(
            "appspec.yml",
            "version: 0.0\nos: linux\nhooks:\n  AfterInstall:\n    - location: gate.sh\n      timeout: 120\n",
            0o644,
        )
        .script(
            "gate.sh",
            "touch \"$CUTOVER_TEST_HOST_DIR/started-$DEPLOYMENT_ID\"\n\
             while [ ! -f \"$CUTOVER_TEST_HOST_DIR/go-$DEPLOYMENT_ID\" ]; do sleep 0.05; done",
        )
}

fn plain() -> Bundle {
    Bundle::new().file("appspec.yml", "version: 0.0\nos: linux\n", 0o644)
}

async fn create_group(cluster: &Cluster, extra: serde_json::Value) {
    let _: wire::CreateApplicationOutput = cluster
        .client
        .call(Operation::CreateApplication, &serde_json::json!({"applicationName": "app"}))
        .await
        .expect("app");
    let mut input = serde_json::json!({
        "applicationName": "app", "deploymentGroupName": "g", "serviceRoleArn": "r",
        "deploymentConfigName": "CodeDeployDefault.AllAtOnce",
        "onPremisesInstanceTagFilters": [{"Key": "env", "Value": "test", "Type": "KEY_AND_VALUE"}],
    });
    for (key, value) in extra.as_object().expect("object") {
        input[key] = value.clone();
    }
    let _: wire::CreateDeploymentGroupOutput =
        cluster.client.call(Operation::CreateDeploymentGroup, &input).await.expect("group");
}

async fn wait_started(cluster: &Cluster, id: &str) {
    let marker = cluster.agents[0].host_dir.join(format!("started-{id}"));
    wait_for(&format!("deployment {id} to reach its gate"), DEPLOY_TIMEOUT, || {
        let exists = marker.exists();
        async move { exists.then_some(()) }
    })
    .await;
}

fn open_gate(cluster: &Cluster, id: &str) {
    std::fs::write(cluster.agents[0].host_dir.join(format!("go-{id}")), "").expect("gate");
}

/// Waits until the deployment is stopping: its events after the running hook were skipped. The hook is still
/// waiting on its gate, so the deployment cannot have finished some other way first.
async fn wait_stopping(cluster: &Cluster, id: &str) {
    wait_for(&format!("deployment {id} to be stopped by its alarm"), DEPLOY_TIMEOUT, || {
        let client = cluster.client.clone();
        let id = id.to_owned();
        async move {
            let out: wire::GetDeploymentTargetOutput = client
                .call(Operation::GetDeploymentTarget, &serde_json::json!({"deploymentId": id, "targetId": "host-1"}))
                .await
                .ok()?;
            let events = out.deployment_target?.instance_target?.lifecycle_events?;
            events
                .iter()
                .any(|event| {
                    event.lifecycle_event_name.as_deref() == Some("ValidateService")
                        && event.status.as_deref() == Some("Skipped")
                })
                .then_some(())
        }
    })
    .await;
}

/// Runs a gated deployment that an alarm already in ALARM should stop; returns it once finished. The alarm may
/// stop it before or while the gated hook runs, so the gate is opened only once it is stopping.
async fn stopped_by_alarm(
    cluster: &Cluster,
    revision: &serde_json::Value,
    extra: serde_json::Value,
) -> wire::DeploymentInfo {
    let id = cluster.deploy("app", "g", revision, extra).await;
    wait_stopping(cluster, &id).await;
    open_gate(cluster, &id);
    let info = cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await;
    assert_eq!(info.status.as_deref(), Some("Stopped"), "{info:?}\n{}", cluster.logs());
    let error = info.error_information.clone().expect("errorInformation");
    assert_eq!(error.code.as_deref(), Some("ALARM_ACTIVE"), "{error:?}");
    info
}

fn error_message(info: &wire::DeploymentInfo) -> String {
    info.error_information.as_ref().and_then(|error| error.message.clone()).unwrap_or_default()
}

/// A free TCP port on 127.0.0.1 (bound and released; nothing listens on it afterwards).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

fn prometheus_binary() -> PathBuf {
    let found = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .map(|dir| dir.join("prometheus"))
        .chain([PathBuf::from("/usr/bin/prometheus")])
        .find(|path| path.is_file());
    found.unwrap_or_else(|| {
        panic!(
            "the alarm tests need a real Prometheus, and no `prometheus` binary is on PATH or at /usr/bin/prometheus: \
             install it with `apt-get install -y --no-install-recommends prometheus` (.ci/run does)"
        )
    })
}

/// A Prometheus process, killed when dropped.
struct Prometheus {
    child: Child,
    url: String,
    log: PathBuf,
}

impl Prometheus {
    async fn start(dir: &Path, scrape_target: &str) -> Prometheus {
        let binary = prometheus_binary();
        let config = dir.join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 200ms\n  scrape_timeout: 150ms\n  evaluation_interval: 200ms\n\
                 scrape_configs:\n  - job_name: cutover-test\n    static_configs:\n      - targets: ['{scrape_target}']\n"
            ),
        )
        .expect("prometheus.yml");
        let listen = format!("127.0.0.1:{}", free_port());
        let log = dir.join("prometheus.log");
        let log_file = std::fs::File::create(&log).expect("log");
        let child = Command::new(&binary)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", dir.join("tsdb").display()))
            .arg(format!("--web.listen-address={listen}"))
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("log"))
            .stderr(log_file)
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {}: {error}", binary.display()));
        let mut prometheus = Prometheus { child, url: format!("http://{listen}"), log };
        let ready = format!("{}/-/ready", prometheus.url);
        for _ in 0..600 {
            if let Some(status) = prometheus.child.try_wait().expect("try_wait") {
                panic!("prometheus exited with {status}: {}", prometheus.logs());
            }
            if matches!(http_stub::get(&ready).await, Ok((200, _))) {
                return prometheus;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("prometheus did not become ready in 30 s: {}", prometheus.logs());
    }

    fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The number of series an instant query returns (None if Prometheus did not answer a result).
    async fn series(&self, query: &str) -> Option<usize> {
        let encoded: String = query
            .bytes()
            .map(|b| if b.is_ascii_alphanumeric() || b == b'_' { (b as char).to_string() } else { format!("%{b:02X}") })
            .collect();
        let (status, body) = http_stub::get(&format!("{}/api/v1/query?query={encoded}", self.url)).await.ok()?;
        let answer: serde_json::Value = serde_json::from_str(&body).ok()?;
        (status == 200).then(|| answer["data"]["result"].as_array().map(Vec::len)).flatten()
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_alarm_stops_the_deployment_and_rolls_back() {
    // The scrape target: a gauge the test flips.
    let errors = Arc::new(AtomicU64::new(0));
    let metrics = {
        let errors = errors.clone();
        HttpStub::start(move |_| {
            let body =
                format!("# TYPE cutover_test_errors gauge\ncutover_test_errors {}\n", errors.load(Ordering::SeqCst));
            (200, "text/plain; version=0.0.4", body.into_bytes())
        })
        .await
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let prometheus = Prometheus::start(dir.path(), &metrics.addr.to_string()).await;
    wait_for("Prometheus to scrape the gauge", Duration::from_secs(30), || async {
        (prometheus.series("cutover_test_errors").await == Some(1)).then_some(())
    })
    .await;
    assert_eq!(prometheus.series("cutover_test_errors > 0").await, Some(0), "not firing yet");

    let alarm_config = dir.path().join("alarms.toml");
    std::fs::write(
        &alarm_config,
        format!(
            "[[alarms]]\nname = \"errors\"\nprometheus = {{ url = \"{}\", query = \"cutover_test_errors > 0\" }}\n",
            prometheus.url
        ),
    )
    .expect("alarms.toml");
    let server_args = vec![
        "--alarm-config".to_owned(),
        alarm_config.display().to_string(),
        "--alarm-poll-ms".to_owned(),
        "200".to_owned(),
    ];
    let cluster = Cluster::start(ClusterOptions { agents: 1, server_args, ..Default::default() }).await;
    create_group(
        &cluster,
        serde_json::json!({
            "alarmConfiguration": {"enabled": true, "alarms": [{"name": "errors"}]},
            "autoRollbackConfiguration": {"enabled": true, "events": ["DEPLOYMENT_STOP_ON_ALARM"]},
        }),
    )
    .await;
    // A good deployment first, polled all along without firing, so there is a revision to roll back to.
    let good = cluster.push_bundle("app", plain().tgz(), "tgz").await;
    let first = cluster.deploy("app", "g", &good, serde_json::json!({})).await;
    assert_eq!(
        cluster.wait_deployment(&first, DEPLOY_TIMEOUT).await.status.as_deref(),
        Some("Succeeded"),
        "{}",
        cluster.logs()
    );

    let revision = cluster.push_bundle("app", gated().tgz(), "tgz").await;
    let id = cluster.deploy("app", "g", &revision, serde_json::json!({})).await;
    wait_started(&cluster, &id).await;
    errors.store(1, Ordering::SeqCst);
    wait_stopping(&cluster, &id).await;
    open_gate(&cluster, &id);
    let info = cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await;
    assert_eq!(info.status.as_deref(), Some("Stopped"), "{info:?}\n{}", cluster.logs());
    assert_eq!(info.error_information.as_ref().and_then(|e| e.code.as_deref()), Some("ALARM_ACTIVE"));
    let message = error_message(&info);
    assert!(message.contains("errors:") && message.contains("cutover_test_errors > 0"), "{message}");
    let rollback =
        info.rollback_info.and_then(|rollback| rollback.rollback_deployment_id).expect("a rollback was created");
    let out: wire::GetDeploymentOutput = cluster
        .client
        .call(Operation::GetDeployment, &serde_json::json!({"deploymentId": rollback}))
        .await
        .expect("rollback");
    assert_eq!(out.deployment_info.and_then(|info| info.creator).as_deref(), Some("codeDeployRollback"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_probes_overrides_and_poll_failures() {
    // `health`: a probe answering 200 or 503 as the test says. `flaky`: a "Prometheus" that answers garbage (its
    // state cannot be read), counting polls. `unreachable`: nothing listens there.
    let health_status = Arc::new(AtomicU16::new(200));
    let health = {
        let status = health_status.clone();
        HttpStub::start(move |_| (status.load(Ordering::SeqCst), "text/plain", b"health".to_vec())).await
    };
    let flaky = HttpStub::start(|_| (500, "text/html", b"<h1>proxy error</h1>".to_vec())).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let alarm_config = dir.path().join("alarms.json");
    std::fs::write(
        &alarm_config,
        serde_json::json!({"alarms": [
            {"name": "health", "http": {"url": health.url("/health"), "timeout_ms": 2000}},
            {"name": "flaky", "prometheus": {"url": flaky.url(""), "query": "up == 0"}},
            {"name": "unreachable", "prometheus": {"url": format!("http://127.0.0.1:{}", free_port()), "query": "up == 0"}},
        ]})
        .to_string(),
    )
    .expect("alarms.json");
    let server_args = vec![
        "--alarm-config".to_owned(),
        alarm_config.display().to_string(),
        "--alarm-poll-ms".to_owned(),
        "100".to_owned(),
    ];
    let cluster = Cluster::start(ClusterOptions { agents: 1, server_args, ..Default::default() }).await;
    create_group(
        &cluster,
        serde_json::json!({"alarmConfiguration": {"enabled": true, "alarms": [{"name": "health"}]}}),
    )
    .await;
    let revision = cluster.push_bundle("app", gated().tgz(), "tgz").await;

    // An override replaces the group's alarms, and ignorePollAlarmFailure lets it run on while `flaky` is
    // unreadable: it is polled again and again, and the deployment succeeds.
    let override_flaky = serde_json::json!({"overrideAlarmConfiguration":
        {"enabled": true, "ignorePollAlarmFailure": true, "alarms": [{"name": "flaky"}]}});
    let id = cluster.deploy("app", "g", &revision, override_flaky).await;
    wait_started(&cluster, &id).await;
    health_status.store(503, Ordering::SeqCst);
    wait_for("flaky to be polled three times", DEPLOY_TIMEOUT, || {
        let polls = flaky.requests().len();
        async move { (polls >= 3).then_some(()) }
    })
    .await;
    open_gate(&cluster, &id);
    let info = cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await;
    assert_eq!(info.status.as_deref(), Some("Succeeded"), "{info:?}\n{}", cluster.logs());
    assert!(health.requests().is_empty(), "the group's alarm is not polled for a deployment that overrides it");
    assert!(flaky.requests().iter().all(|(request, _)| request.target.starts_with("/api/v1/query?query=up")));

    // The group's own alarm: the probe answers 503.
    let info = stopped_by_alarm(&cluster, &revision, serde_json::json!({})).await;
    let message = error_message(&info);
    assert!(message.contains("health:") && message.contains("503"), "{message}");

    // An unreachable source stops the deployment when failures are not ignored.
    let unreachable = serde_json::json!({"overrideAlarmConfiguration":
        {"enabled": true, "ignorePollAlarmFailure": false, "alarms": [{"name": "unreachable"}]}});
    let info = stopped_by_alarm(&cluster, &revision, unreachable).await;
    let message = error_message(&info);
    assert!(message.contains("unreachable:") && message.contains("cannot be reached"), "{message}");

    // So does an alarm the server has never heard of.
    let unknown =
        serde_json::json!({"overrideAlarmConfiguration": {"enabled": true, "alarms": [{"name": "no-such-alarm"}]}});
    let info = stopped_by_alarm(&cluster, &revision, unknown).await;
    assert!(error_message(&info).contains("no alarm named \"no-such-alarm\""), "{}", error_message(&info));

    // With the probe healthy again, a deployment guarded by the group's alarm runs to the end.
    health_status.store(200, Ordering::SeqCst);
    let polled = health.requests().len();
    let id = cluster.deploy("app", "g", &revision, serde_json::json!({})).await;
    wait_started(&cluster, &id).await;
    wait_for("the probe to be polled while the deployment runs", DEPLOY_TIMEOUT, || {
        let polls = health.requests().len();
        async move { (polls >= polled + 3).then_some(()) }
    })
    .await;
    open_gate(&cluster, &id);
    assert_eq!(
        cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await.status.as_deref(),
        Some("Succeeded"),
        "{}",
        cluster.logs()
    );
}

/// An alarm that fires while the host runs no event (between two events, or before its first) ends the deployment at
/// once: no report will come to finish it. No agent runs on the host, so it never leaves that state.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alarm_stops_a_deployment_whose_host_runs_no_event() {
    let health = HttpStub::start(|_| (503, "text/plain", b"down".to_vec())).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let alarm_config = dir.path().join("alarms.json");
    std::fs::write(
        &alarm_config,
        serde_json::json!({"alarms": [{"name": "health", "http": {"url": health.url("/")}}]}).to_string(),
    )
    .expect("alarms.json");
    let server_args = vec![
        "--alarm-config".to_owned(),
        alarm_config.display().to_string(),
        "--alarm-poll-ms".to_owned(),
        "100".to_owned(),
    ];
    let cluster = Cluster::start(ClusterOptions { agents: 0, server_args, ..Default::default() }).await;
    crate::register_without_agent(&cluster, "host-1").await;
    create_group(
        &cluster,
        serde_json::json!({"alarmConfiguration": {"enabled": true, "alarms": [{"name": "health"}]}}),
    )
    .await;
    let revision = cluster.push_bundle("app", plain().tgz(), "tgz").await;
    let id = cluster.deploy("app", "g", &revision, serde_json::json!({})).await;
    let info = cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await;
    assert_eq!(info.status.as_deref(), Some("Stopped"), "{info:?}\n{}", cluster.logs());
    assert_eq!(info.error_information.as_ref().and_then(|e| e.code.as_deref()), Some("ALARM_ACTIVE"));
    assert!(error_message(&info).contains("503"), "{}", error_message(&info));
    let statuses: Vec<String> = cluster
        .target(&id, "host-1")
        .await
        .lifecycle_events
        .into_iter()
        .flatten()
        .map(|event| event.status.unwrap_or_default())
        .collect();
    assert_eq!(statuses, ["Skipped"; 7]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_alarm_configurations_are_rejected() {
    let cluster = Cluster::start(ClusterOptions { agents: 0, ..Default::default() }).await;
    let _: wire::CreateApplicationOutput = cluster
        .client
        .call(Operation::CreateApplication, &serde_json::json!({"applicationName": "app"}))
        .await
        .expect("app");
    let alarms =
        |names: Vec<String>| names.into_iter().map(|name| serde_json::json!({"name": name})).collect::<Vec<_>>();
    let cases = [
        (
            serde_json::json!({"enabled": true, "alarms": alarms((0..11).map(|i| format!("a{i}")).collect())}),
            "AlarmsLimitExceededException",
        ),
        (serde_json::json!({"enabled": true, "alarms": alarms(vec![String::new()])}), "InvalidAlarmConfigException"),
        (serde_json::json!({"enabled": true, "alarms": alarms(vec!["x".repeat(256)])}), "InvalidAlarmConfigException"),
        (
            serde_json::json!({"enabled": true, "alarms": alarms(vec!["a".into(), "a".into()])}),
            "InvalidAlarmConfigException",
        ),
        (serde_json::json!({"enabled": true, "alarms": []}), "InvalidAlarmConfigException"),
    ];
    for (config, exception) in cases {
        let error = cluster
            .client
            .call::<_, wire::CreateDeploymentGroupOutput>(
                Operation::CreateDeploymentGroup,
                &serde_json::json!({"applicationName": "app", "deploymentGroupName": "g", "serviceRoleArn": "r",
                    "alarmConfiguration": config}),
            )
            .await
            .expect_err("rejected");
        assert_eq!(error.exception(), Some(exception), "{config}: {error}");
    }
}

#[test]
fn a_bad_alarm_file_stops_the_server_with_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("alarms.toml");
    std::fs::write(&config, "[[alarms]]\nname = \"errors\"\nprometheus = { url = \"http://p:9090\" }\n").expect("file");
    let output = Command::new(cutover_harness::binary("cutover-server"))
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path().join("data"))
        .arg("--alarm-config")
        .arg(&config)
        .output()
        .expect("run cutover-server");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains("alarms.toml") && stderr.contains("query"), "{stderr}");
}
