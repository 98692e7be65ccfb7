//! Fault injection (`reference/perf-reliability.md` §8): agents killed, partitions, lost and duplicated messages,
//! corrupt bundles. Every test ends by checking the five points of "nothing lost" ([`assert_nothing_lost`]).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use cutover_api_types::agent::InstanceLogs;
use cutover_harness::netns::Netns;
use cutover_harness::proxy::{Fault, FaultProxy};
use cutover_harness::{Bundle, Cluster, ClusterOptions, process_alive, wait_for};

use crate::{DEPLOY_TIMEOUT, RECORD_HOOK, appspec_all_hooks, hook_lines};

/// A bundle whose AfterInstall records its pid in `$CUTOVER_TEST_HOST_DIR/pids`, then waits for
/// `$CUTOVER_TEST_HOST_DIR/gate`, so a test can act while a hook runs.
fn gated_bundle(version: &str) -> Bundle {
    let hook = format!(
        "{RECORD_HOOK}\necho \"hook output for $LIFECYCLE_EVENT\"\nif [ \"$LIFECYCLE_EVENT\" = AfterInstall ]; then\n  echo $$ >> \"$CUTOVER_TEST_HOST_DIR/pids\"\n  while [ ! -f \"$CUTOVER_TEST_HOST_DIR/gate\" ]; do sleep 0.02; done\nfi"
    );
    Bundle::new()
        .file("appspec.yml", &appspec_all_hooks("files:\n  - source: app\n    destination: /srv/app\n", ""), 0o644)
        .file("app/version.txt", &format!("{version}\n"), 0o644)
        .file("app/other.txt", &format!("other {version}\n"), 0o644)
        .script("scripts/record.sh", &hook)
}

fn open_gate(agent: &cutover_harness::AgentProc) {
    std::fs::write(agent.host_dir.join("gate"), "").expect("gate");
}

/// The pid of the first AfterInstall hook that ran on `agent` (see [`gated_bundle`]), once the agent's tracking file
/// names it: from then on, an agent killed and restarted finds the hook again.
async fn tracked_after_install_pid(agent: &cutover_harness::AgentProc) -> i32 {
    let pids = agent.host_dir.join("pids");
    let ongoing = agent.root.join("ongoing-deployment");
    wait_for("the agent to record the AfterInstall hook it runs", Duration::from_secs(30), || {
        let pids = pids.clone();
        let ongoing = ongoing.clone();
        async move {
            let pid: i32 = std::fs::read_to_string(&pids).ok()?.lines().next()?.trim().parse().ok()?;
            let named = std::fs::read_dir(&ongoing).ok()?.flatten().any(|file| {
                let text = std::fs::read_to_string(file.path()).unwrap_or_default();
                text.lines().any(|line| line.starts_with(&format!("script {pid} ")))
            });
            named.then_some(pid)
        }
    })
    .await
}

async fn wait_in_after_install(agent: &cutover_harness::AgentProc) {
    let dir = agent.host_dir.clone();
    wait_for("the host to be inside AfterInstall", Duration::from_secs(30), || {
        let dir = dir.clone();
        async move {
            std::fs::read_to_string(dir.join("hooks.log")).unwrap_or_default().contains("AfterInstall").then_some(())
        }
    })
    .await;
}

/// The five points of "nothing lost" (`reference/perf-reliability.md` §8), for one deployment.
///
/// `versions` are the revisions a host may legitimately be on (the new one, or the previous good one).
async fn assert_nothing_lost(cluster: &Cluster, deployment_id: &str, versions: &[&str]) {
    // 1. The deployment reached exactly one terminal state.
    let info = cluster.wait_deployment(deployment_id, DEPLOY_TIMEOUT).await;
    let status = info.status.clone().unwrap_or_default();
    assert!(matches!(status.as_str(), "Succeeded" | "Failed" | "Stopped"), "{info:?}");
    for agent in &cluster.agents {
        let target = cluster.target(deployment_id, &agent.name).await;
        let events = target.lifecycle_events.unwrap_or_default();
        // 2. Every event result is recorded, once: terminal, with its times and diagnostics.
        for event in &events {
            let event_status = event.status.as_deref().unwrap_or("");
            assert!(matches!(event_status, "Succeeded" | "Failed" | "Skipped"), "{} {event:?}", agent.name);
            if event_status != "Skipped" {
                assert!(event.start_time.is_some() && event.end_time.is_some(), "{event:?}");
                assert!(event.diagnostics.as_ref().and_then(|d| d.error_code.as_ref()).is_some(), "{event:?}");
            }
        }
        // 3. No hook ran twice for this deployment.
        let mut counts = BTreeMap::new();
        for line in hook_lines(agent).into_iter().filter(|line| line.ends_with(deployment_id)) {
            *counts.entry(line).or_insert(0) += 1;
        }
        assert!(counts.values().all(|count| *count == 1), "a hook ran twice on {}: {counts:?}", agent.name);
        // 4. The host is on a complete revision: every file of one known version, or none installed yet.
        let version = std::fs::read_to_string(agent.dest("/srv/app/version.txt")).ok();
        if let Some(version) = version {
            let version = version.trim().to_owned();
            assert!(versions.contains(&version.as_str()), "{} is on unknown version {version}", agent.name);
            assert_eq!(
                std::fs::read_to_string(agent.dest("/srv/app/other.txt")).expect("other.txt"),
                format!("other {version}\n"),
                "{} has a mixed revision",
                agent.name
            );
        }
        // 5. Hook logs are kept on the host and uploaded for every event whose hook ran.
        let ran: Vec<String> = events
            .iter()
            .filter(|e| {
                e.status.as_deref() == Some("Succeeded")
                    && counts.keys().any(|line| line.starts_with(e.lifecycle_event_name.as_deref().unwrap_or("?")))
            })
            .filter_map(|e| e.lifecycle_event_name.clone())
            .collect();
        if !ran.is_empty() {
            let local = local_scripts_log(agent, deployment_id);
            let path = format!("/v1/deployments/{deployment_id}/instances/{}/logs", agent.name);
            let (status, body) = cluster.client.get_v1(&path).await.expect("GET logs");
            assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
            let uploaded: InstanceLogs = serde_json::from_slice(&body).expect("logs JSON");
            for event in &ran {
                let marker = format!("hook output for {event}");
                assert!(local.contains(&marker), "{}: scripts.log lacks {event}", agent.name);
                let log =
                    uploaded.events.iter().find(|e| &e.lifecycle_event == event).map(|e| e.log.as_str()).unwrap_or("");
                assert!(log.contains(&marker), "{}: uploaded log lacks {event}: {uploaded:?}", agent.name);
            }
        }
    }
}

fn local_scripts_log(agent: &cutover_harness::AgentProc, deployment_id: &str) -> String {
    let mut res = String::new();
    for group in std::fs::read_dir(&agent.root).into_iter().flatten().flatten() {
        let path = group.path().join(deployment_id).join("logs").join("scripts.log");
        res.push_str(&std::fs::read_to_string(path).unwrap_or_default());
    }
    res
}

async fn target_status(cluster: &Cluster, deployment_id: &str, host: &str) -> String {
    cluster.target(deployment_id, host).await.status.unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_killed_mid_hook_reports_the_event_failed_after_restart() {
    let mut cluster = Cluster::start(ClusterOptions { agents: 1, ..Default::default() }).await;
    cluster.create_app_and_group("app", "g", "CodeDeployDefault.AllAtOnce").await;
    let revision = cluster.push_bundle("app", gated_bundle("v1").tgz(), "tgz").await;
    let id = cluster.deploy("app", "g", &revision, serde_json::json!({})).await;
    wait_in_after_install(&cluster.agents[0]).await;
    let hook_pid = tracked_after_install_pid(&cluster.agents[0]).await;
    cluster.kill_agent("host-1");
    assert!(process_alive(hook_pid), "the hook outlived the agent");
    let restarted = Instant::now();
    cluster.restart_agent("host-1");
    let info = cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await;
    assert!(restarted.elapsed() < Duration::from_secs(10), "host failed {:?} after the restart", restarted.elapsed());
    assert_eq!(info.status.as_deref(), Some("Failed"), "{}", cluster.logs());
    let events = cluster.target(&id, "host-1").await.lifecycle_events.expect("events");
    let after_install =
        events.iter().find(|e| e.lifecycle_event_name.as_deref() == Some("AfterInstall")).expect("event");
    let diagnostics = after_install.diagnostics.as_ref().expect("diagnostics");
    assert_eq!(diagnostics.error_code.as_deref(), Some("UnknownError"));
    assert_eq!(
        diagnostics.message.as_deref(),
        Some("Failed: Failing in-progress lifecycle event after an agent restart.")
    );
    // The restarted agent killed the orphaned hook: it is gone while its gate is still closed.
    wait_for("the orphaned AfterInstall hook to be killed", Duration::from_secs(10), || async move {
        (!process_alive(hook_pid)).then_some(())
    })
    .await;
    // Harmless now; it would have let the orphan exit on its own.
    open_gate(&cluster.agents[0]);
    assert_nothing_lost(&cluster, &id, &["v1"]).await;

    // The restarted agent is healthy: the next deployment goes through.
    let revision = cluster.push_bundle("app", gated_bundle("v2").tgz(), "tgz").await;
    let id = cluster.deploy("app", "g", &revision, serde_json::json!({})).await;
    assert_nothing_lost(&cluster, &id, &["v2"]).await;
    assert_eq!(
        cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await.status.as_deref(),
        Some("Succeeded"),
        "{}",
        cluster.logs()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_killed_for_good_is_declared_lost_after_its_lease() {
    let server_args = vec!["--agent-lease-secs".to_owned(), "2".to_owned()];
    let mut cluster = Cluster::start(ClusterOptions { agents: 1, server_args, ..Default::default() }).await;
    cluster.create_app_and_group("app", "g", "CodeDeployDefault.AllAtOnce").await;
    let revision = cluster.push_bundle("app", gated_bundle("v1").tgz(), "tgz").await;
    let id = cluster.deploy("app", "g", &revision, serde_json::json!({})).await;
    wait_in_after_install(&cluster.agents[0]).await;
    cluster.kill_agent("host-1");
    let killed = Instant::now();
    let info = cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await;
    // Lease 2 s plus the 0.5 s sweep: minutes would mean the lease is not honoured.
    assert!(killed.elapsed() < Duration::from_secs(10), "declared lost after {:?}", killed.elapsed());
    assert_eq!(info.status.as_deref(), Some("Failed"));
    let events = cluster.target(&id, "host-1").await.lifecycle_events.expect("events");
    let after_install =
        events.iter().find(|e| e.lifecycle_event_name.as_deref() == Some("AfterInstall")).expect("event");
    let message = after_install.diagnostics.as_ref().and_then(|d| d.message.clone()).unwrap_or_default();
    assert!(message.contains("is unreachable since") && message.contains("AfterInstall"), "{message}");
    open_gate(&cluster.agents[0]);
    assert_nothing_lost(&cluster, &id, &["v1"]).await;
}

async fn partition_cluster(lease_secs: &str) -> (Cluster, Netns) {
    let netns = Netns::create(1);
    let server_args = vec!["--agent-lease-secs".to_owned(), lease_secs.to_owned()];
    let mut cluster =
        Cluster::start(ClusterOptions { agents: 0, server_args, listen: "0.0.0.0:0".to_owned(), ..Default::default() })
            .await;
    let port = cluster.server.addr.rsplit(':').next().expect("port").to_owned();
    let url = format!("http://{}:{port}", netns.host_ip);
    let tags = vec![("env".to_owned(), "test".to_owned())];
    let extra = vec!["--kill-grace-ms".to_owned(), "500".to_owned()];
    cluster.add_agent_with("host-1", &tags, &extra, &url, Some(&netns.name));
    cluster.wait_registered(&["host-1".to_owned()]).await;
    (cluster, netns)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partition_during_a_hook_delivers_the_result_after_healing() {
    let (cluster, netns) = partition_cluster("45").await;
    cluster.create_app_and_group("app", "g", "CodeDeployDefault.AllAtOnce").await;
    let revision = cluster.push_bundle("app", gated_bundle("v1").tgz(), "tgz").await;
    let id = cluster.deploy("app", "g", &revision, serde_json::json!({})).await;
    wait_in_after_install(&cluster.agents[0]).await;
    netns.partition();
    // The hook finishes on its own while the host is cut off; its result waits in the agent.
    open_gate(&cluster.agents[0]);
    // Wait for the agent to have stored AfterInstall's result: the hook ran to its end while cut off.
    let commands = cluster.agents[0].root.join(".cutover/commands");
    let stored = wait_for("the hook to finish locally", Duration::from_secs(30), || {
        let commands = commands.clone();
        let id = id.clone();
        async move {
            std::fs::read_dir(&commands).ok()?.flatten().find_map(|file| {
                let stored: serde_json::Value = serde_json::from_slice(&std::fs::read(file.path()).ok()?).ok()?;
                (stored["deployment_id"] == id.as_str() && stored["lifecycle_event"] == "AfterInstall")
                    .then_some(stored)
            })
        }
    })
    .await;
    assert_eq!(stored["reported"], false, "the result cannot have reached the server: {stored}");
    assert_eq!(target_status(&cluster, &id, "host-1").await, "InProgress");
    netns.heal();
    let info = cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await;
    assert_eq!(info.status.as_deref(), Some("Succeeded"), "{}", cluster.logs());
    assert_nothing_lost(&cluster, &id, &["v1"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partition_longer_than_the_lease_fails_the_host_and_no_hook_runs_twice() {
    let (cluster, netns) = partition_cluster("2").await;
    cluster.create_app_and_group("app", "g", "CodeDeployDefault.AllAtOnce").await;
    let revision = cluster.push_bundle("app", gated_bundle("v1").tgz(), "tgz").await;
    let id = cluster.deploy("app", "g", &revision, serde_json::json!({})).await;
    wait_in_after_install(&cluster.agents[0]).await;
    netns.partition();
    let info = cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await;
    assert_eq!(info.status.as_deref(), Some("Failed"));
    open_gate(&cluster.agents[0]);
    netns.heal();
    // After healing the agent reports its late result, which is refused; it then polls normally again.
    let revision2 = cluster.push_bundle("app", gated_bundle("v2").tgz(), "tgz").await;
    let id2 = cluster.deploy("app", "g", &revision2, serde_json::json!({})).await;
    let info2 = cluster.wait_deployment(&id2, DEPLOY_TIMEOUT).await;
    assert_eq!(info2.status.as_deref(), Some("Succeeded"), "{}", cluster.logs());
    assert_nothing_lost(&cluster, &id, &["v1", "v2"]).await;
    assert_nothing_lost(&cluster, &id2, &["v2"]).await;
}

async fn proxied_cluster() -> (Cluster, FaultProxy) {
    let mut cluster = Cluster::start(ClusterOptions { agents: 0, ..Default::default() }).await;
    let upstream = cluster.endpoint.trim_start_matches("http://").to_owned();
    let proxy = FaultProxy::start(&upstream).await;
    let tags = vec![("env".to_owned(), "test".to_owned())];
    let url = format!("http://{}", proxy.addr);
    cluster.add_agent_with("host-1", &tags, &["--kill-grace-ms".to_owned(), "500".to_owned()], &url, None);
    cluster.wait_registered(&["host-1".to_owned()]).await;
    (cluster, proxy)
}

fn completes(proxy: &FaultProxy) -> Vec<serde_json::Value> {
    proxy
        .seen()
        .into_iter()
        .filter(|seen| seen.path == "/agent/v1/complete")
        .map(|seen| serde_json::from_slice(&seen.body).expect("complete body"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_response_to_a_completion_report_is_retried_and_recorded_once() {
    let (cluster, proxy) = proxied_cluster().await;
    proxy.inject("/agent/v1/complete", Fault::DropResponse { times: 3 });
    cluster.create_app_and_group("app", "g", "CodeDeployDefault.AllAtOnce").await;
    let revision = cluster.push_bundle("app", gated_bundle("v1").tgz(), "tgz").await;
    open_gate(&cluster.agents[0]);
    let id = cluster.deploy("app", "g", &revision, serde_json::json!({})).await;
    let info = cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await;
    assert_eq!(info.status.as_deref(), Some("Succeeded"), "{}", cluster.logs());
    // The first command's report was delivered four times (three answers lost), always the same result.
    let reports = completes(&proxy);
    let first_id = reports[0]["command_id"].clone();
    let first: Vec<&serde_json::Value> = reports.iter().filter(|r| r["command_id"] == first_id).collect();
    assert_eq!(first.len(), 4, "{reports:#?}");
    assert!(first.iter().all(|r| r["end_time_ms"] == first[0]["end_time_ms"] && r["status"] == first[0]["status"]));
    assert_nothing_lost(&cluster, &id, &["v1"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicated_and_stale_reports_leave_the_same_history_as_a_clean_run() {
    let (cluster, proxy) = proxied_cluster().await;
    proxy.inject("/agent/v1/complete", Fault::Duplicate);
    proxy.inject("/agent/v1/complete", Fault::ReplayPrevious);
    cluster.create_app_and_group("app", "g", "CodeDeployDefault.AllAtOnce").await;
    let revision = cluster.push_bundle("app", gated_bundle("v1").tgz(), "tgz").await;
    open_gate(&cluster.agents[0]);
    let id = cluster.deploy("app", "g", &revision, serde_json::json!({})).await;
    let info = cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await;
    assert_eq!(info.status.as_deref(), Some("Succeeded"), "{}", cluster.logs());
    let events = cluster.target(&id, "host-1").await.lifecycle_events.expect("events");
    let history: Vec<(String, String)> = events
        .iter()
        .map(|e| (e.lifecycle_event_name.clone().unwrap_or_default(), e.status.clone().unwrap_or_default()))
        .collect();
    let clean: Vec<(String, String)> = [
        "ApplicationStop",
        "DownloadBundle",
        "BeforeInstall",
        "Install",
        "AfterInstall",
        "ApplicationStart",
        "ValidateService",
    ]
    .iter()
    .map(|name| (name.to_string(), "Succeeded".to_owned()))
    .collect();
    assert_eq!(history, clean);
    assert_nothing_lost(&cluster, &id, &["v1"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_and_truncated_bundles_fail_the_checksum_before_anything_is_written() {
    let cluster = Cluster::start(ClusterOptions { agents: 1, ..Default::default() }).await;
    cluster.create_app_and_group("app", "g", "CodeDeployDefault.AllAtOnce").await;
    let good = cluster.push_bundle("app", gated_bundle("v1").tgz(), "tgz").await;
    open_gate(&cluster.agents[0]);
    let id = cluster.deploy("app", "g", &good, serde_json::json!({})).await;
    assert_eq!(cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await.status.as_deref(), Some("Succeeded"));

    for damage in ["flip", "truncate"] {
        let revision = cluster.push_bundle("app", gated_bundle(&format!("v2-{damage}")).tgz(), "tgz").await;
        let sha = revision["s3Location"]["eTag"].as_str().expect("etag").to_owned();
        let blob = cluster.server.data_dir.join("blobs/sha256").join(&sha[..2]).join(&sha);
        let mut bytes = std::fs::read(&blob).expect("blob");
        if damage == "flip" {
            let middle = bytes.len() / 2;
            bytes[middle] ^= 0x40;
        } else {
            bytes.truncate(bytes.len() / 2);
        }
        std::fs::write(&blob, bytes).expect("damage blob");
        let id = cluster.deploy("app", "g", &revision, serde_json::json!({})).await;
        let info = cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await;
        assert_eq!(info.status.as_deref(), Some("Failed"), "{damage}");
        let events = cluster.target(&id, "host-1").await.lifecycle_events.expect("events");
        let download =
            events.iter().find(|e| e.lifecycle_event_name.as_deref() == Some("DownloadBundle")).expect("event");
        let message = download.diagnostics.as_ref().and_then(|d| d.message.clone()).unwrap_or_default();
        assert!(message.contains(&sha) && message.contains("nothing was extracted"), "{damage}: {message}");
        // The previous revision stays installed and complete.
        assert_nothing_lost(&cluster, &id, &["v1"]).await;
        assert_eq!(std::fs::read_to_string(cluster.agents[0].dest("/srv/app/version.txt")).expect("v1"), "v1\n");
    }
}
