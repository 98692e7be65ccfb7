//! Hook script handling end to end: a timed-out script whose child holds stdout is killed with its whole group.

use std::time::{Duration, Instant};

use cutover_harness::{Bundle, Cluster, ClusterOptions, process_alive, wait_for};

use crate::DEPLOY_TIMEOUT;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timed_out_hook_with_a_child_holding_stdout_fails_fast_and_leaves_no_process() {
    let cluster = Cluster::start(ClusterOptions { agents: 1, ..Default::default() }).await;
    cluster.create_app_and_group("slow", "g", "CodeDeployDefault.AllAtOnce").await;
    let appspec = "version: 0.0\nos: linux\nhooks:\n  BeforeInstall:\n    - location: hang.sh\n      timeout: 2\n";
    // The background child inherits stdout and outlives the script: the classic cause of hooks that hang.
    let script = "echo $$ > \"$CUTOVER_TEST_HOST_DIR/pids\"\nsleep 300 &\necho $! >> \"$CUTOVER_TEST_HOST_DIR/pids\"\necho started\nsleep 300";
    let bundle = Bundle::new().file("appspec.yml", appspec, 0o644).script("hang.sh", script);
    let revision = cluster.push_bundle("slow", bundle.tgz(), "tgz").await;
    let started = Instant::now();
    let id = cluster.deploy("slow", "g", &revision, serde_json::json!({})).await;
    let info = cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await;
    let elapsed = started.elapsed();
    assert_eq!(info.status.as_deref(), Some("Failed"), "{}", cluster.logs());
    // Timeout 2 s + kill grace 0.5 s, plus scheduling slack; far below the 300 s the processes would live.
    assert!(elapsed < Duration::from_secs(8), "took {elapsed:?}");
    let target = cluster.target(&id, "host-1").await;
    let events = target.lifecycle_events.expect("events");
    let before_install =
        events.iter().find(|e| e.lifecycle_event_name.as_deref() == Some("BeforeInstall")).expect("event");
    let diagnostics = before_install.diagnostics.as_ref().expect("diagnostics");
    assert_eq!(diagnostics.error_code.as_deref(), Some("ScriptTimedOut"), "{diagnostics:?}");
    assert!(
        diagnostics.message.as_deref().unwrap_or("").contains("failed to complete in 2 seconds"),
        "{diagnostics:?}"
    );
    assert!(diagnostics.log_tail.as_deref().unwrap_or("").contains("[stdout]started"));
    let after: Vec<&str> = events
        .iter()
        .skip_while(|e| e.lifecycle_event_name.as_deref() != Some("BeforeInstall"))
        .skip(1)
        .map(|e| e.status.as_deref().unwrap_or(""))
        .collect();
    assert!(after.iter().all(|status| *status == "Skipped"), "{after:?}");
    let pids: Vec<i32> = std::fs::read_to_string(cluster.agents[0].host_dir.join("pids"))
        .expect("pids")
        .lines()
        .map(|line| line.trim().parse().expect("pid"))
        .collect();
    assert_eq!(pids.len(), 2);
    wait_for("the hook's processes to be gone", Duration::from_secs(5), || {
        let pids = pids.clone();
        async move { pids.iter().all(|pid| !process_alive(*pid)).then_some(()) }
    })
    .await;
}
