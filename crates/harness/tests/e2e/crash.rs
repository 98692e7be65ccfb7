//! The server killed with SIGKILL mid-deployment: after a restart the deployment finishes and no event runs twice.

use std::time::Duration;

use cutover_harness::{Bundle, Cluster, ClusterOptions, wait_for};

use crate::{DEPLOY_TIMEOUT, RECORD_HOOK, appspec_all_hooks, hook_lines};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_killed_mid_deployment_finishes_after_restart_without_rerunning_events() {
    let mut cluster = Cluster::start(ClusterOptions { agents: 2, ..Default::default() }).await;
    cluster.create_app_and_group("app", "g", "CodeDeployDefault.OneAtATime").await;
    // AfterInstall waits for a gate file, so the test controls when host-1 is mid-deployment.
    let gate_hook = format!(
        "{RECORD_HOOK}\nif [ \"$LIFECYCLE_EVENT\" = AfterInstall ]; then\n  while [ ! -f \"$CUTOVER_TEST_HOST_DIR/../gate\" ]; do sleep 0.02; done\nfi"
    );
    let bundle = Bundle::new()
        .file("appspec.yml", &appspec_all_hooks("files:\n  - source: app.txt\n    destination: /srv/app\n", ""), 0o644)
        .file("app.txt", "v1\n", 0o644)
        .script("scripts/record.sh", &gate_hook);
    let revision = cluster.push_bundle("app", bundle.tgz(), "tgz").await;
    let id = cluster.deploy("app", "g", &revision, serde_json::json!({})).await;

    // Wait until the first host is inside AfterInstall, then kill the server.
    let first = cluster.agents.iter().map(|agent| agent.host_dir.clone()).collect::<Vec<_>>();
    let busy = wait_for("a host to reach AfterInstall", Duration::from_secs(30), || {
        let first = first.clone();
        async move {
            first.iter().position(|dir| {
                std::fs::read_to_string(dir.join("hooks.log")).unwrap_or_default().contains("AfterInstall")
            })
        }
    })
    .await;
    cluster.kill_server();
    // The hook finishes while the server is down; the agent keeps its result until it can report it.
    let gate = cluster.agents[busy].host_dir.join("..").join("gate");
    std::fs::write(&gate, "").expect("gate");
    for agent in &cluster.agents {
        std::fs::write(agent.host_dir.join("..").join("gate"), "").expect("gate");
    }
    cluster.restart_server().await;

    let info = cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await;
    assert_eq!(info.status.as_deref(), Some("Succeeded"), "{info:?}\n{}", cluster.logs());
    for agent in &cluster.agents {
        let expected: Vec<String> = ["BeforeInstall", "AfterInstall", "ApplicationStart", "ValidateService"]
            .iter()
            .map(|e| format!("{e} {id}"))
            .collect();
        assert_eq!(hook_lines(agent), expected, "each event ran exactly once on {}", agent.name);
        assert_eq!(std::fs::read_to_string(agent.dest("/srv/app/app.txt")).expect("installed"), "v1\n");
    }
}
