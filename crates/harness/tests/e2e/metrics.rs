//! Prometheus `/metrics` on server and agent, with values that follow a deployment as it runs, and JSON logs whose
//! lines carry the deployment and instance.

use std::time::Duration;

use cutover_harness::http_stub;
use cutover_harness::{Bundle, Cluster, ClusterOptions, wait_for};

use crate::DEPLOY_TIMEOUT;

/// One sample: metric name, labels, value.
type Sample = (String, Vec<(String, String)>, f64);

fn parse(text: &str) -> Vec<Sample> {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let value: f64 = value.parse().ok()?;
            let (name, labels) = match series.split_once('{') {
                Some((name, rest)) => {
                    let labels = rest
                        .trim_end_matches('}')
                        .split(',')
                        .filter_map(|pair| pair.split_once('='))
                        .map(|(key, value)| (key.to_owned(), value.trim_matches('"').to_owned()))
                        .collect();
                    (name.to_owned(), labels)
                }
                None => (series.to_owned(), Vec::new()),
            };
            Some((name, labels, value))
        })
        .collect()
}

/// The value of the series `name` whose labels include `labels` (0 when absent: a series appears once recorded).
fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .find(|(sample, have, _)| {
            sample == name && labels.iter().all(|(k, v)| have.iter().any(|(hk, hv)| hk == k && hv == v))
        })
        .map_or(0.0, |(_, _, value)| *value)
}

async fn scrape(url: &str) -> Vec<Sample> {
    let (status, body) = http_stub::get(url).await.expect("scrape");
    assert_eq!(status, 200, "{url}: {body}");
    parse(&body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_follow_a_deployment_and_logs_name_it() {
    let options = ClusterOptions {
        agents: 1,
        server_args: vec!["--log-format".into(), "json".into()],
        agent_args: vec![
            "--kill-grace-ms".into(),
            "500".into(),
            "--metrics-listen".into(),
            "127.0.0.1:0".into(),
            "--log-format".into(),
            "json".into(),
        ],
        ..Default::default()
    };
    let cluster = Cluster::start(options).await;
    let agent = cluster.agent("host-1");
    let agent_addr = wait_for("the agent's metrics address", Duration::from_secs(10), || {
        let file = agent.root.join("metrics-listen-addr");
        async move { std::fs::read_to_string(file).ok().map(|text| text.trim().to_owned()) }
    })
    .await;
    let server_url = format!("{}/metrics", cluster.endpoint);
    let agent_url = format!("http://{agent_addr}/metrics");

    let before = scrape(&server_url).await;
    assert_eq!(value(&before, "cutover_deployments", &[("status", "InProgress")]), 0.0);
    assert_eq!(value(&before, "cutover_agents", &[("state", "live")]), 1.0);
    assert_eq!(value(&before, "cutover_agents", &[("state", "lost")]), 0.0);
    // The agent waits in a long poll (it may be between two for a moment).
    wait_for("the agent's long poll to be held", Duration::from_secs(10), || {
        let url = server_url.clone();
        async move { (value(&scrape(&url).await, "cutover_agent_polls_waiting", &[]) >= 1.0).then_some(()) }
    })
    .await;

    cluster.create_app_and_group("met", "g", "CodeDeployDefault.AllAtOnce").await;
    let appspec = "version: 0.0\nos: linux\nhooks:\n  BeforeInstall:\n    - location: hold.sh\n";
    let hold =
        "touch \"$CUTOVER_TEST_HOST_DIR/started\"\nwhile [ ! -f \"$CUTOVER_TEST_HOST_DIR/go\" ]; do sleep 0.02; done";
    let bundle = Bundle::new().file("appspec.yml", appspec, 0o644).script("hold.sh", hold);
    let revision = cluster.push_bundle("met", bundle.tgz(), "tgz").await;
    let id = cluster.deploy("met", "g", &revision, serde_json::json!({})).await;
    wait_for("BeforeInstall to start", DEPLOY_TIMEOUT, || {
        let started = agent.host_dir.join("started");
        async move { started.exists().then_some(()) }
    })
    .await;

    // While the hook runs.
    let during = scrape(&server_url).await;
    assert_eq!(value(&during, "cutover_deployments", &[("status", "InProgress")]), 1.0);
    assert_eq!(value(&during, "cutover_lifecycle_events_running", &[]), 1.0);
    // Install, AfterInstall, ApplicationStart, ValidateService wait behind BeforeInstall.
    assert_eq!(value(&during, "cutover_lifecycle_events_ready", &[]), 4.0);
    let agent_during = scrape(&agent_url).await;
    assert_eq!(value(&agent_during, "cutover_agent_commands_running", &[]), 1.0);
    let succeeded = [("event", "DownloadBundle"), ("status", "Succeeded")];
    assert_eq!(value(&agent_during, "cutover_agent_commands_total", &succeeded), 1.0);
    let contact = value(&agent_during, "cutover_agent_last_server_contact_timestamp_seconds", &[]);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs_f64();
    assert!((now - contact).abs() < 60.0, "the agent heard from its server recently: {contact} vs {now}");

    std::fs::write(agent.host_dir.join("go"), "").expect("release");
    let info = cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await;
    assert_eq!(info.status.as_deref(), Some("Succeeded"));

    let after = scrape(&server_url).await;
    assert_eq!(value(&after, "cutover_deployments", &[("status", "InProgress")]), 0.0);
    assert_eq!(value(&after, "cutover_deployments", &[("status", "Succeeded")]), 1.0);
    assert_eq!(value(&after, "cutover_deployments_finished_total", &[("status", "Succeeded")]), 1.0);
    assert_eq!(value(&after, "cutover_lifecycle_events_running", &[]), 0.0);
    assert_eq!(value(&after, "cutover_lifecycle_events_ready", &[]), 0.0);
    let before_install = [("event", "BeforeInstall"), ("status", "Succeeded")];
    assert_eq!(value(&after, "cutover_lifecycle_event_duration_seconds_count", &before_install), 1.0);
    assert!(value(&after, "cutover_agent_polls_total", &[]) > value(&before, "cutover_agent_polls_total", &[]));
    let agent_after = scrape(&agent_url).await;
    assert_eq!(value(&agent_after, "cutover_agent_commands_running", &[]), 0.0);
    assert_eq!(value(&agent_after, "cutover_agent_commands_total", &before_install), 1.0);
    assert_eq!(value(&agent_after, "cutover_agent_event_duration_seconds_count", &before_install), 1.0);
    // The hook held for a while: its duration lands above the smallest buckets.
    assert!(value(&agent_after, "cutover_agent_event_duration_seconds_sum", &before_install) > 0.0);

    // JSON logs: every line is an object, and the lines about the command name its deployment and instance.
    let named = |log: &std::path::Path| {
        let text = std::fs::read_to_string(log).expect("log");
        let objects: Vec<serde_json::Value> = text
            .lines()
            .filter(|line| line.starts_with('{'))
            .map(|line| serde_json::from_str(line).unwrap_or_else(|error| panic!("{error}: {line}")))
            .collect();
        assert!(!objects.is_empty(), "{text}");
        objects
            .into_iter()
            .filter(|object| {
                let spans = object["spans"].as_array().cloned().unwrap_or_default();
                let fields = spans.iter().chain(std::iter::once(object));
                let mut deployment = false;
                let mut instance = false;
                for field in fields {
                    deployment |= field["deployment_id"] == serde_json::json!(id);
                    instance |= field["instance"] == serde_json::json!("host-1");
                }
                deployment && instance
            })
            .map(|object| object["message"].as_str().unwrap_or_default().to_owned())
            .collect::<Vec<_>>()
    };
    let agent_lines = named(&agent.log);
    assert!(agent_lines.iter().any(|message| message == "command succeeded"), "{agent_lines:?}");
    let server_lines = named(&cluster.server.log);
    assert!(!server_lines.is_empty(), "server lines name the deployment and instance");
}
