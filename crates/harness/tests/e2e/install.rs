//! Install semantics end to end: file_exists_behavior and the cleanup of files dropped from a bundle.

use cutover_harness::{Bundle, Cluster, ClusterOptions};

use crate::DEPLOY_TIMEOUT;

fn site(version: &str, files: &[&str]) -> Bundle {
    let mut bundle = Bundle::new().file(
        "appspec.yml",
        "version: 0.0\nos: linux\nfiles:\n  - source: site\n    destination: /srv/site\n",
        0o644,
    );
    for file in files {
        bundle = bundle.file(&format!("site/{file}"), &format!("{file} {version}\n"), 0o644);
    }
    bundle
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_exists_behavior_disallow_retain_overwrite() {
    let cluster = Cluster::start(ClusterOptions { agents: 1, ..Default::default() }).await;
    cluster.create_app_and_group("site", "g", "CodeDeployDefault.AllAtOnce").await;
    let agent = &cluster.agents[0];
    let existing = agent.dest("/srv/site/index.html");
    std::fs::create_dir_all(existing.parent().expect("parent")).expect("mkdir");
    std::fs::write(&existing, "hand-made\n").expect("seed");
    let revision = cluster.push_bundle("site", site("v1", &["index.html"]).tgz(), "tgz").await;

    // DISALLOW (the default): the install fails and the file is untouched.
    let id = cluster.deploy("site", "g", &revision, serde_json::json!({})).await;
    let info = cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await;
    assert_eq!(info.status.as_deref(), Some("Failed"), "{}", cluster.logs());
    let target = cluster.target(&id, "host-1").await;
    let install = target
        .lifecycle_events
        .expect("events")
        .into_iter()
        .find(|e| e.lifecycle_event_name.as_deref() == Some("Install"))
        .expect("Install");
    assert_eq!(install.status.as_deref(), Some("Failed"));
    let diagnostics = install.diagnostics.expect("diagnostics");
    assert_eq!(diagnostics.error_code.as_deref(), Some("UnknownError"));
    assert_eq!(
        diagnostics.message.as_deref(),
        Some(
            format!(
                "The deployment failed because a specified file already exists at this location: {}",
                existing.display()
            )
            .as_str()
        )
    );
    assert_eq!(std::fs::read_to_string(&existing).expect("file"), "hand-made\n");

    // RETAIN: the existing file is kept.
    let id = cluster.deploy("site", "g", &revision, serde_json::json!({"fileExistsBehavior": "RETAIN"})).await;
    assert_eq!(
        cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await.status.as_deref(),
        Some("Succeeded"),
        "{}",
        cluster.logs()
    );
    assert_eq!(std::fs::read_to_string(&existing).expect("file"), "hand-made\n");

    // OVERWRITE: replaced (a retained file was never recorded as installed, so it still counts as existing).
    let id = cluster.deploy("site", "g", &revision, serde_json::json!({"fileExistsBehavior": "OVERWRITE"})).await;
    assert_eq!(
        cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await.status.as_deref(),
        Some("Succeeded"),
        "{}",
        cluster.logs()
    );
    assert_eq!(std::fs::read_to_string(&existing).expect("file"), "index.html v1\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redeploy_removes_a_file_dropped_from_the_bundle() {
    let cluster = Cluster::start(ClusterOptions { agents: 1, ..Default::default() }).await;
    cluster.create_app_and_group("site", "g", "CodeDeployDefault.AllAtOnce").await;
    let agent = &cluster.agents[0];
    let v1 = cluster.push_bundle("site", site("v1", &["index.html", "old.html"]).tgz(), "tgz").await;
    let id = cluster.deploy("site", "g", &v1, serde_json::json!({})).await;
    assert_eq!(
        cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await.status.as_deref(),
        Some("Succeeded"),
        "{}",
        cluster.logs()
    );
    assert!(agent.dest("/srv/site/old.html").exists());

    let v2 = cluster.push_bundle("site", site("v2", &["index.html"]).tgz(), "tgz").await;
    let id = cluster.deploy("site", "g", &v2, serde_json::json!({})).await;
    assert_eq!(
        cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await.status.as_deref(),
        Some("Succeeded"),
        "{}",
        cluster.logs()
    );
    assert!(!agent.dest("/srv/site/old.html").exists(), "a file dropped from the bundle must disappear");
    assert_eq!(std::fs::read_to_string(agent.dest("/srv/site/index.html")).expect("index"), "index.html v2\n");
}
