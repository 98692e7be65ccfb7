//! Live logs: `cutover deploy logs -f` shows hook output from every host while the hooks run, and the server keeps
//! all of it afterwards.

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cutover_api_types::agent::{DeploymentLogs, InstanceLogs};
use cutover_harness::{Bundle, Cluster, ClusterOptions, binary, wait_for};
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::DEPLOY_TIMEOUT;

/// BeforeInstall prints a line, records when (after the line is in the pipe), then holds until the test releases it.
const HOLD_HOOK: &str = r#"echo "live line from $LIFECYCLE_EVENT"
date +%s%N > "$CUTOVER_TEST_HOST_DIR/printed"
while [ ! -f "$CUTOVER_TEST_HOST_DIR/go" ]; do sleep 0.02; done
echo "released""#;

/// AfterInstall prints more than the live stream carries (512 KiB): the rest must arrive with the result.
const CHATTY_HOOK: &str = r#"awk 'BEGIN { for (i = 0; i < 7000; i++) printf "chatty line %d %080d\n", i, i }'"#;

fn nanos_now() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_nanos()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_follow_shows_hook_output_from_every_host_while_it_runs_and_keeps_it() {
    let cluster = Cluster::start(ClusterOptions { agents: 2, ..Default::default() }).await;
    cluster.create_app_and_group("logs", "g", "CodeDeployDefault.AllAtOnce").await;
    let appspec = "version: 0.0\nos: linux\nhooks:\n  BeforeInstall:\n    - location: hold.sh\n  AfterInstall:\n    - location: chatty.sh\n";
    let bundle =
        Bundle::new().file("appspec.yml", appspec, 0o644).script("hold.sh", HOLD_HOOK).script("chatty.sh", CHATTY_HOOK);
    let revision = cluster.push_bundle("logs", bundle.tgz(), "tgz").await;
    let id = cluster.deploy("logs", "g", &revision, serde_json::json!({})).await;

    // Follow from the start; every line is stamped with the time this test read it.
    let mut follower = tokio::process::Command::new(binary("cutover"))
        .env("AWS_SHARED_CREDENTIALS_FILE", cluster.credentials_file())
        .args(["--endpoint", &cluster.endpoint, "deploy", "logs", &id, "-f"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn cutover deploy logs -f");
    let seen: Arc<Mutex<Vec<(u128, String)>>> = Arc::default();
    let reader = {
        let seen = seen.clone();
        let mut lines = BufReader::new(follower.stdout.take().expect("stdout")).lines();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                seen.lock().expect("lock").push((nanos_now(), line));
            }
        })
    };
    // When a line starting with `prefix` and ending with `suffix` was read.
    let seen_at = |prefix: String, suffix: &'static str| {
        let seen = seen.clone();
        move || {
            let found = seen
                .lock()
                .expect("lock")
                .iter()
                .find(|(_, line)| line.starts_with(&prefix) && line.ends_with(suffix))
                .map(|(at, _)| *at);
            async move { found }
        }
    };

    for agent in &cluster.agents {
        let printed = agent.host_dir.join("printed");
        let printed_at: u128 = wait_for("the hook to print its line", DEPLOY_TIMEOUT, || {
            let printed = printed.clone();
            async move { std::fs::read_to_string(printed).ok().and_then(|text| text.trim().parse().ok()) }
        })
        .await;
        let shown_at = wait_for(
            "the line in `logs -f` while the hook still runs",
            Duration::from_secs(10),
            seen_at(format!("[{} BeforeInstall] ", agent.name), "[stdout]live line from BeforeInstall"),
        )
        .await;
        // The hook is still held: the line was streamed while it ran, not uploaded with its result.
        assert!(!agent.host_dir.join("go").exists());
        let events = cluster.target(&id, &agent.name).await.lifecycle_events.expect("events");
        let before_install = events.iter().find(|e| e.lifecycle_event_name.as_deref() == Some("BeforeInstall"));
        assert_eq!(before_install.and_then(|e| e.status.as_deref()), Some("InProgress"));
        let latency_ms = shown_at.saturating_sub(printed_at) / 1_000_000;
        eprintln!("{}: hook print → `logs -f` output in {latency_ms} ms", agent.name);
        assert!(latency_ms < 1000, "{}: the line took {latency_ms} ms to show", agent.name);
    }
    for agent in &cluster.agents {
        std::fs::write(agent.host_dir.join("go"), "").expect("release the hook");
    }
    let info = cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await;
    assert_eq!(info.status.as_deref(), Some("Succeeded"), "{}", cluster.logs());
    // The follower ends by itself once the deployment has ended and everything was printed.
    let status =
        tokio::time::timeout(Duration::from_secs(30), follower.wait()).await.expect("follower ends").expect("wait");
    reader.await.expect("reader");
    assert!(status.success(), "logs -f exited with {status}");
    let followed: Vec<String> = seen.lock().expect("lock").iter().map(|(_, line)| line.clone()).collect();

    for agent in &cluster.agents {
        // Each host's lines in the order they were written: the held line, then the release, then the chatter.
        let host_lines: Vec<&String> =
            followed.iter().filter(|line| line.starts_with(&format!("[{} ", agent.name))).collect();
        let position = |needle: &str| host_lines.iter().position(|line| line.contains(needle));
        let live = position("live line from BeforeInstall").expect("live line");
        let released = position("[stdout]released").expect("released");
        let first = position("[stdout]chatty line 0 ").expect("first chatty line");
        let last = position("[stdout]chatty line 6999 ").expect("last chatty line");
        assert!(live < released && released < first && first < last, "{host_lines:?}");
        assert_eq!(host_lines.iter().filter(|line| line.contains("chatty line")).count(), 7000);

        // Kept after the fact: the stream of each event is its whole uploaded log, also beyond the live bound.
        let full: InstanceLogs = cluster
            .client
            .get_json(&format!("/v1/deployments/{id}/instances/{}/logs", agent.name))
            .await
            .expect("instance logs");
        let mut streamed: HashMap<String, String> = HashMap::new();
        let mut after = 0;
        loop {
            let page: DeploymentLogs = cluster
                .client
                .get_json(&format!("/v1/deployments/{id}/logs?after={after}&instance={}", agent.name))
                .await
                .expect("logs");
            for chunk in &page.chunks {
                assert_eq!(chunk.instance_name, agent.name);
                streamed.entry(chunk.lifecycle_event.clone()).or_default().push_str(&chunk.text);
            }
            after = page.next;
            if page.complete {
                break;
            }
        }
        for event in &full.events {
            assert_eq!(
                streamed.get(&event.lifecycle_event).map(String::as_str).unwrap_or_default(),
                event.log,
                "{} {}: the stream holds the whole log",
                agent.name,
                event.lifecycle_event
            );
        }
        assert!(full.events.iter().any(|event| event.log.len() > 600_000), "the chatty log passes the live bound");
    }

    // Without -f, one host's output, from the server's copy.
    let out = std::process::Command::new(binary("cutover"))
        .env("AWS_SHARED_CREDENTIALS_FILE", cluster.credentials_file())
        .args(["--endpoint", &cluster.endpoint, "deploy", "logs", &id, "--instance", "host-2"])
        .output()
        .expect("cutover deploy logs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let expected: Vec<&str> = followed.iter().filter(|line| line.starts_with("[host-2 ")).map(String::as_str).collect();
    assert_eq!(stdout.lines().collect::<Vec<_>>(), expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_of_an_unknown_deployment_is_an_error() {
    let cluster = Cluster::start(ClusterOptions { agents: 1, ..Default::default() }).await;
    let out = std::process::Command::new(binary("cutover"))
        .env("AWS_SHARED_CREDENTIALS_FILE", cluster.credentials_file())
        .args(["--endpoint", &cluster.endpoint, "deploy", "logs", "d-NOPE12345"])
        .output()
        .expect("cutover deploy logs");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("Error: DeploymentDoesNotExistException: The deployment d-NOPE12345 does not exist."),
        "{stderr}"
    );
}
