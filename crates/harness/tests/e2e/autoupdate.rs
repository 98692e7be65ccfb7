//! Late joiners: a host that registers into a group with a successful revision receives it by itself, and hosts
//! that join during a deployment are brought up to date when it succeeds.

use cutover_api_types::codedeploy::{self as wire, Operation};
use cutover_harness::{Bundle, Cluster, ClusterOptions, wait_for};

use crate::DEPLOY_TIMEOUT;

fn revision(version: &str) -> Bundle {
    Bundle::new()
        .file(
            "appspec.yml",
            "version: 0.0\nos: linux\nfiles:\n  - source: app\n    destination: /srv/app\nhooks:\n  AfterInstall:\n    - location: gate.sh\n",
            0o644,
        )
        .file("app/version.txt", &format!("{version}\n"), 0o644)
        .script("gate.sh", "while [ ! -f \"$CUTOVER_TEST_HOST_DIR/../../../gate\" ]; do sleep 0.02; done")
}

async fn deployments_by(cluster: &Cluster, creator: &str) -> Vec<wire::DeploymentInfo> {
    let list: wire::ListDeploymentsOutput = cluster
        .client
        .call(Operation::ListDeployments, &serde_json::json!({"applicationName": "app", "deploymentGroupName": "g"}))
        .await
        .expect("list");
    let ids = list.deployments.unwrap_or_default();
    if ids.is_empty() {
        return Vec::new();
    }
    let got: wire::BatchGetDeploymentsOutput = cluster
        .client
        .call(Operation::BatchGetDeployments, &serde_json::json!({"deploymentIds": ids}))
        .await
        .expect("batch");
    got.deployments_info.unwrap_or_default().into_iter().filter(|d| d.creator.as_deref() == Some(creator)).collect()
}

async fn wait_created_by(cluster: &Cluster, creator: &str) -> wire::DeploymentInfo {
    let found = wait_for(&format!("a deployment by {creator}"), DEPLOY_TIMEOUT, || async {
        deployments_by(cluster, creator).await.into_iter().next()
    })
    .await;
    cluster.wait_deployment(found.deployment_id.as_deref().expect("id"), DEPLOY_TIMEOUT).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_host_receives_the_groups_revision_on_its_own() {
    let mut cluster = Cluster::start(ClusterOptions { agents: 2, ..Default::default() }).await;
    std::fs::write(cluster.dir.path().join("gate"), "").expect("gate");
    cluster.create_app_and_group("app", "g", "CodeDeployDefault.HalfAtATime").await;
    let v1 = cluster.push_bundle("app", revision("v1").tgz(), "tgz").await;
    let id = cluster.deploy("app", "g", &v1, serde_json::json!({})).await;
    assert_eq!(
        cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await.status.as_deref(),
        Some("Succeeded"),
        "{}",
        cluster.logs()
    );

    let tags = vec![("env".to_owned(), "test".to_owned())];
    cluster.add_agent("host-3", &tags, &["--kill-grace-ms".to_owned(), "500".to_owned()]);
    let auto = wait_created_by(&cluster, "autoscaling").await;
    assert_eq!(auto.status.as_deref(), Some("Succeeded"), "{}", cluster.logs());
    assert_eq!(auto.deployment_overview.and_then(|o| o.succeeded), Some(1));
    assert_eq!(
        std::fs::read_to_string(cluster.agent("host-3").dest("/srv/app/version.txt")).expect("installed"),
        "v1\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_joining_during_a_deployment_is_updated_when_it_succeeds() {
    let mut cluster = Cluster::start(ClusterOptions { agents: 1, ..Default::default() }).await;
    cluster.create_app_and_group("app", "g", "CodeDeployDefault.AllAtOnce").await;
    std::fs::write(cluster.dir.path().join("gate"), "").expect("gate");
    let v1 = cluster.push_bundle("app", revision("v1").tgz(), "tgz").await;
    let first = cluster.deploy("app", "g", &v1, serde_json::json!({})).await;
    assert_eq!(cluster.wait_deployment(&first, DEPLOY_TIMEOUT).await.status.as_deref(), Some("Succeeded"));

    // v2 waits at AfterInstall until the gate reopens; host-2 joins meanwhile.
    std::fs::remove_file(cluster.dir.path().join("gate")).expect("close gate");
    let v2 = cluster.push_bundle("app", revision("v2").tgz(), "tgz").await;
    let second = cluster.deploy("app", "g", &v2, serde_json::json!({})).await;
    let tags = vec![("env".to_owned(), "test".to_owned())];
    cluster.add_agent("host-2", &tags, &["--kill-grace-ms".to_owned(), "500".to_owned()]);
    cluster.wait_registered(&["host-2".to_owned()]).await;
    assert!(deployments_by(&cluster, "autoscaling").await.is_empty(), "the group was busy: no deployment yet");
    std::fs::write(cluster.dir.path().join("gate"), "").expect("gate");
    assert_eq!(cluster.wait_deployment(&second, DEPLOY_TIMEOUT).await.status.as_deref(), Some("Succeeded"));
    let update = wait_created_by(&cluster, "CodeDeployAutoUpdate").await;
    assert_eq!(update.status.as_deref(), Some("Succeeded"), "{}", cluster.logs());
    assert_eq!(update.update_outdated_instances_only, Some(true));
    assert_eq!(
        std::fs::read_to_string(cluster.agent("host-2").dest("/srv/app/version.txt")).expect("installed"),
        "v2\n"
    );
    assert_eq!(
        std::fs::read_to_string(cluster.agent("host-1").dest("/srv/app/version.txt")).expect("installed"),
        "v2\n"
    );
}
