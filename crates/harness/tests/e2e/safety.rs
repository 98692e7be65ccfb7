//! Deployment options that decide what a failure means: ignoreApplicationStopFailures, updateOutdatedInstancesOnly,
//! and outdatedInstancesStrategy IGNORE.

use cutover_api_types::codedeploy::{self as wire, Operation};
use cutover_harness::{Bundle, Cluster, ClusterOptions};

use crate::DEPLOY_TIMEOUT;

fn app(version: &str, stop_script: &str) -> Bundle {
    Bundle::new()
        .file(
            "appspec.yml",
            "version: 0.0\nos: linux\nfiles:\n  - source: app\n    destination: /srv/app\nfile_exists_behavior: OVERWRITE\nhooks:\n  ApplicationStop:\n    - location: stop.sh\n  ValidateService:\n    - location: validate.sh\n",
            0o644,
        )
        .file("app/version.txt", &format!("{version}\n"), 0o644)
        .script("stop.sh", stop_script)
        .script("validate.sh", "if [ -f \"$CUTOVER_TEST_HOST_DIR/broken\" ]; then echo broken >&2; exit 1; fi")
}

fn event_statuses(target: &wire::InstanceTarget) -> Vec<String> {
    target.lifecycle_events.iter().flatten().map(|e| e.status.clone().unwrap_or_default()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_application_stop_blocks_deployments_until_its_failures_are_ignored() {
    let cluster = Cluster::start(ClusterOptions { agents: 1, ..Default::default() }).await;
    cluster.create_app_and_group("app", "g", "CodeDeployDefault.AllAtOnce").await;
    let v1 = cluster.push_bundle("app", app("v1", "echo stop failed >&2; exit 9").tgz(), "tgz").await;
    let id = cluster.deploy("app", "g", &v1, serde_json::json!({})).await;
    assert_eq!(
        cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await.status.as_deref(),
        Some("Succeeded"),
        "first deploy: no ApplicationStop"
    );

    // v2's deployment runs v1's broken ApplicationStop script and fails there.
    let v2 = cluster.push_bundle("app", app("v2", "true").tgz(), "tgz").await;
    let id = cluster.deploy("app", "g", &v2, serde_json::json!({})).await;
    assert_eq!(cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await.status.as_deref(), Some("Failed"));
    let target = cluster.target(&id, "host-1").await;
    assert_eq!(event_statuses(&target)[..2], ["Failed".to_owned(), "Skipped".to_owned()]);

    // With ignoreApplicationStopFailures the failure is recorded and the host carries on.
    let id = cluster.deploy("app", "g", &v2, serde_json::json!({"ignoreApplicationStopFailures": true})).await;
    let info = cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await;
    assert_eq!(info.status.as_deref(), Some("Succeeded"), "{}", cluster.logs());
    assert_eq!(info.ignore_application_stop_failures, Some(true));
    let target = cluster.target(&id, "host-1").await;
    assert_eq!(target.status.as_deref(), Some("Succeeded"));
    let statuses = event_statuses(&target);
    assert_eq!(statuses[0], "Failed", "the ApplicationStop failure is still visible");
    assert!(statuses[1..].iter().all(|s| s == "Succeeded"), "{statuses:?}");
    assert_eq!(std::fs::read_to_string(cluster.agents[0].dest("/srv/app/version.txt")).expect("installed"), "v2\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_outdated_instances_only_targets_hosts_not_on_the_revision() {
    let cluster = Cluster::start(ClusterOptions { agents: 2, ..Default::default() }).await;
    cluster.create_app_and_group("app", "g", "CodeDeployDefault.AllAtOnce").await;
    std::fs::write(cluster.agent("host-2").host_dir.join("broken"), "").expect("break host-2");
    let v1 = cluster.push_bundle("app", app("v1", "true").tgz(), "tgz").await;
    let id = cluster.deploy("app", "g", &v1, serde_json::json!({})).await;
    let info = cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await;
    // AllAtOnce succeeds with one healthy host; host-2 failed and is not on v1.
    assert_eq!(info.status.as_deref(), Some("Succeeded"));
    assert_eq!(info.deployment_overview.and_then(|o| o.failed), Some(1));
    std::fs::remove_file(cluster.agent("host-2").host_dir.join("broken")).expect("fix host-2");

    let id = cluster.deploy("app", "g", &v1, serde_json::json!({"updateOutdatedInstancesOnly": true})).await;
    let info = cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await;
    assert_eq!(info.status.as_deref(), Some("Succeeded"), "{}", cluster.logs());
    let targets: wire::ListDeploymentTargetsOutput = cluster
        .client
        .call(Operation::ListDeploymentTargets, &serde_json::json!({"deploymentId": id}))
        .await
        .expect("targets");
    assert_eq!(targets.target_ids, Some(vec!["host-2".to_owned()]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outdated_instances_strategy_ignore_leaves_late_joiners_alone() {
    let mut cluster = Cluster::start(ClusterOptions { agents: 1, ..Default::default() }).await;
    let _: wire::CreateApplicationOutput = cluster
        .client
        .call(Operation::CreateApplication, &serde_json::json!({"applicationName": "app"}))
        .await
        .expect("app");
    let _: wire::CreateDeploymentGroupOutput = cluster
        .client
        .call(
            Operation::CreateDeploymentGroup,
            &serde_json::json!({"applicationName": "app", "deploymentGroupName": "g", "serviceRoleArn": "r",
                "deploymentConfigName": "CodeDeployDefault.AllAtOnce", "outdatedInstancesStrategy": "IGNORE",
                "onPremisesInstanceTagFilters": [{"Key": "env", "Value": "test", "Type": "KEY_AND_VALUE"}]}),
        )
        .await
        .expect("group");
    let slow = Bundle::new()
        .file("appspec.yml", "version: 0.0\nos: linux\nhooks:\n  BeforeInstall:\n    - location: wait.sh\n", 0o644)
        .script("wait.sh", "while [ ! -f \"$CUTOVER_TEST_HOST_DIR/go\" ]; do sleep 0.02; done");
    let revision = cluster.push_bundle("app", slow.tgz(), "tgz").await;
    let id = cluster.deploy("app", "g", &revision, serde_json::json!({})).await;
    cluster.add_agent("host-2", &[("env".to_owned(), "test".to_owned())], &[]);
    cluster.wait_registered(&["host-2".to_owned()]).await;
    std::fs::write(cluster.agent("host-1").host_dir.join("go"), "").expect("go");
    assert_eq!(cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await.status.as_deref(), Some("Succeeded"));
    // The follow-on decision is taken in the same request that finished the deployment: none was made.
    let list: wire::ListDeploymentsOutput = cluster
        .client
        .call(Operation::ListDeployments, &serde_json::json!({"applicationName": "app", "deploymentGroupName": "g"}))
        .await
        .expect("list");
    assert_eq!(list.deployments, Some(vec![id]));
}
