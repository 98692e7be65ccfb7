//! Automatic rollback: a failed (or stopped) deployment is followed by a deployment of the group's last
//! successful revision to the same hosts, linked both ways through `rollbackInfo`.

use cutover_api_types::codedeploy::{self as wire, Operation};
use cutover_harness::{Bundle, Cluster, ClusterOptions};

use crate::DEPLOY_TIMEOUT;

fn revision(version: &str, fail_on: Option<&str>) -> Bundle {
    let check = match fail_on {
        Some(host) => format!(
            "case \"$CUTOVER_TEST_HOST_DIR\" in */{host}/*) echo \"{version} is broken here\" >&2; exit 1;; esac"
        ),
        None => String::new(),
    };
    Bundle::new()
        .file(
            "appspec.yml",
            "version: 0.0\nos: linux\nfiles:\n  - source: app\n    destination: /srv/app\nhooks:\n  ValidateService:\n    - location: validate.sh\n",
            0o644,
        )
        .file("app/version.txt", &format!("{version}\n"), 0o644)
        .script("validate.sh", &check)
}

async fn group_with_rollback(cluster: &Cluster, events: &[&str]) {
    let _: wire::CreateApplicationOutput = cluster
        .client
        .call(Operation::CreateApplication, &serde_json::json!({"applicationName": "app"}))
        .await
        .expect("app");
    let _: wire::CreateDeploymentGroupOutput = cluster
        .client
        .call(
            Operation::CreateDeploymentGroup,
            &serde_json::json!({
                "applicationName": "app", "deploymentGroupName": "g", "serviceRoleArn": "r",
                "deploymentConfigName": "CodeDeployDefault.OneAtATime",
                "onPremisesInstanceTagFilters": [{"Key": "env", "Value": "test", "Type": "KEY_AND_VALUE"}],
                "autoRollbackConfiguration": {"enabled": true, "events": events},
            }),
        )
        .await
        .expect("group");
}

async fn get(cluster: &Cluster, id: &str) -> wire::DeploymentInfo {
    let out: wire::GetDeploymentOutput =
        cluster.client.call(Operation::GetDeployment, &serde_json::json!({"deploymentId": id})).await.expect("get");
    out.deployment_info.expect("info")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_validation_rolls_every_host_back_to_the_last_good_revision() {
    let cluster = Cluster::start(ClusterOptions { agents: 3, ..Default::default() }).await;
    group_with_rollback(&cluster, &["DEPLOYMENT_FAILURE"]).await;
    let v1 = cluster.push_bundle("app", revision("v1", None).tgz(), "tgz").await;
    let first = cluster.deploy("app", "g", &v1, serde_json::json!({})).await;
    assert_eq!(
        cluster.wait_deployment(&first, DEPLOY_TIMEOUT).await.status.as_deref(),
        Some("Succeeded"),
        "{}",
        cluster.logs()
    );

    let v2 = cluster.push_bundle("app", revision("v2", Some("host-2")).tgz(), "tgz").await;
    let bad = cluster.deploy("app", "g", &v2, serde_json::json!({})).await;
    let failed = cluster.wait_deployment(&bad, DEPLOY_TIMEOUT).await;
    assert_eq!(failed.status.as_deref(), Some("Failed"));
    let rollback_id = failed
        .rollback_info
        .as_ref()
        .and_then(|info| info.rollback_deployment_id.clone())
        .expect("rollbackDeploymentId");

    let rollback = cluster.wait_deployment(&rollback_id, DEPLOY_TIMEOUT).await;
    assert_eq!(rollback.status.as_deref(), Some("Succeeded"), "{}", cluster.logs());
    assert_eq!(rollback.creator.as_deref(), Some("codeDeployRollback"));
    assert_eq!(
        rollback.rollback_info.as_ref().and_then(|i| i.rollback_triggering_deployment_id.as_deref()),
        Some(bad.as_str())
    );
    assert_eq!(rollback.revision, get(&cluster, &first).await.revision, "the rollback deploys the last good revision");
    let overview = rollback.deployment_overview.expect("overview");
    assert_eq!(overview.succeeded, Some(3), "the rollback targets every host of the failed deployment");
    for agent in &cluster.agents {
        assert_eq!(
            std::fs::read_to_string(agent.dest("/srv/app/version.txt")).expect("version"),
            "v1\n",
            "{}",
            agent.name
        );
    }
    // The group is free again and its last good revision is still v1.
    let group: wire::GetDeploymentGroupOutput = cluster
        .client
        .call(Operation::GetDeploymentGroup, &serde_json::json!({"applicationName": "app", "deploymentGroupName": "g"}))
        .await
        .expect("group");
    let group = group.deployment_group_info.expect("info");
    assert_eq!(group.last_successful_deployment.and_then(|d| d.deployment_id), Some(rollback_id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_without_an_earlier_success_explains_why_nothing_rolled_back() {
    let cluster = Cluster::start(ClusterOptions { agents: 1, ..Default::default() }).await;
    group_with_rollback(&cluster, &["DEPLOYMENT_FAILURE"]).await;
    let bad = cluster.push_bundle("app", revision("v1", Some("host-1")).tgz(), "tgz").await;
    let id = cluster.deploy("app", "g", &bad, serde_json::json!({})).await;
    let info = cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await;
    assert_eq!(info.status.as_deref(), Some("Failed"));
    let rollback = info.rollback_info.expect("rollbackInfo");
    assert_eq!(rollback.rollback_deployment_id, None);
    assert!(rollback.rollback_message.unwrap_or_default().contains("no earlier successful revision"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_with_auto_rollback_enabled_rolls_back() {
    let cluster = Cluster::start(ClusterOptions { agents: 2, ..Default::default() }).await;
    group_with_rollback(&cluster, &[]).await;
    let v1 = cluster.push_bundle("app", revision("v1", None).tgz(), "tgz").await;
    let first = cluster.deploy("app", "g", &v1, serde_json::json!({})).await;
    assert_eq!(cluster.wait_deployment(&first, DEPLOY_TIMEOUT).await.status.as_deref(), Some("Succeeded"));
    let slow = Bundle::new()
        .file(
            "appspec.yml",
            "version: 0.0\nos: linux\nfiles:\n  - source: app\n    destination: /srv/app\nhooks:\n  AfterInstall:\n    - location: wait.sh\n",
            0o644,
        )
        .file("app/version.txt", "v2\n", 0o644)
        .script("wait.sh", "touch \"$CUTOVER_TEST_HOST_DIR/started\"\nwhile [ ! -f \"$CUTOVER_TEST_HOST_DIR/go\" ]; do sleep 0.02; done");
    let v2 = cluster.push_bundle("app", slow.tgz(), "tgz").await;
    let id = cluster.deploy("app", "g", &v2, serde_json::json!({})).await;
    let host = cutover_harness::wait_for("a host to start AfterInstall", DEPLOY_TIMEOUT, || {
        let dirs: Vec<_> = cluster.agents.iter().map(|a| a.host_dir.clone()).collect();
        async move { dirs.into_iter().find(|dir| dir.join("started").exists()) }
    })
    .await;
    let _: wire::StopDeploymentOutput = cluster
        .client
        .call(Operation::StopDeployment, &serde_json::json!({"deploymentId": id, "autoRollbackEnabled": true}))
        .await
        .expect("stop");
    std::fs::write(host.join("go"), "").expect("go");
    let stopped = cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await;
    assert_eq!(stopped.status.as_deref(), Some("Stopped"));
    let rollback_id = stopped.rollback_info.and_then(|info| info.rollback_deployment_id).expect("rollback");
    assert_eq!(
        cluster.wait_deployment(&rollback_id, DEPLOY_TIMEOUT).await.status.as_deref(),
        Some("Succeeded"),
        "{}",
        cluster.logs()
    );
    for agent in &cluster.agents {
        assert_eq!(std::fs::read_to_string(agent.dest("/srv/app/version.txt")).expect("version"), "v1\n");
    }
}
