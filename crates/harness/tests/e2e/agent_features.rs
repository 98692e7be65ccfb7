//! Agent features beyond a plain deployment, end to end: a redeploy of an earlier revision (what an automatic
//! rollback does) reuses the bundle already on the host instead of downloading it, and the `OnFailure` hook (a
//! Cutover extension) runs on the host whose event failed, its output uploaded with the failed event's log.

use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

use cutover_api_types::agent::InstanceLogs;
use cutover_harness::{AgentProc, Bundle, Cluster, ClusterOptions};

use crate::DEPLOY_TIMEOUT;

fn site(version: &str) -> Bundle {
    Bundle::new()
        .file("appspec.yml", "version: 0.0\nos: linux\nfiles:\n  - source: app\n    destination: /srv/app\n", 0o644)
        .file("app/version.txt", &format!("{version}\n"), 0o644)
}

/// The logs `instance` uploaded for `deployment_id`, by lifecycle event.
async fn uploaded_log(cluster: &Cluster, deployment_id: &str, instance: &str, event: &str) -> String {
    let path = format!("/v1/deployments/{deployment_id}/instances/{instance}/logs");
    let (status, body) = cluster.client.get_v1(&path).await.expect("GET logs");
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let logs: InstanceLogs = serde_json::from_slice(&body).expect("logs JSON");
    logs.events.into_iter().find(|e| e.lifecycle_event == event).map(|e| e.log).unwrap_or_default()
}

/// `<root>/<DGID>/<deployment id>` on the agent's host.
fn deployment_dir(agent: &AgentProc, deployment_id: &str) -> PathBuf {
    std::fs::read_dir(&agent.root)
        .expect("agent root")
        .flatten()
        .map(|group| group.path().join(deployment_id))
        .find(|dir| dir.is_dir())
        .unwrap_or_else(|| panic!("no directory for {deployment_id} under {}", agent.root.display()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redeploying_an_earlier_revision_reuses_the_bundle_already_on_the_host() {
    let cluster = Cluster::start(ClusterOptions { agents: 1, ..Default::default() }).await;
    cluster.create_app_and_group("app", "g", "CodeDeployDefault.AllAtOnce").await;
    let v1 = cluster.push_bundle("app", site("v1").tgz(), "tgz").await;
    let v2 = cluster.push_bundle("app", site("v2").tgz(), "tgz").await;
    let mut ids = Vec::new();
    for revision in [&v1, &v2, &v1] {
        let id = cluster.deploy("app", "g", revision, serde_json::json!({})).await;
        let info = cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await;
        assert_eq!(info.status.as_deref(), Some("Succeeded"), "{id}: {}", cluster.logs());
        ids.push(id);
    }
    let agent = &cluster.agents[0];
    assert_eq!(std::fs::read_to_string(agent.dest("/srv/app/version.txt")).expect("version"), "v1\n");

    let first = uploaded_log(&cluster, &ids[0], &agent.name, "DownloadBundle").await;
    assert!(first.contains("Downloading the bundle"), "{first}");
    let again = uploaded_log(&cluster, &ids[2], &agent.name, "DownloadBundle").await;
    assert!(again.contains(&format!("Reused the bundle of deployment {} (sha256 ", ids[0])), "{again}");
    assert!(again.contains("nothing was downloaded."), "{again}");
    assert!(!again.contains("Downloading the bundle"), "{again}");
    // On the host: the redeploy's bundle is the first deployment's, hard-linked.
    let bundle = |id: &str| deployment_dir(agent, id).join("bundle.tar");
    assert_eq!(
        std::fs::metadata(bundle(&ids[2])).expect("bundle").ino(),
        std::fs::metadata(bundle(&ids[0])).expect("bundle").ino()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_validate_service_runs_on_failure_on_that_host_and_uploads_its_output() {
    let cluster = Cluster::start(ClusterOptions { agents: 2, ..Default::default() }).await;
    cluster.create_app_and_group("app", "g", "CodeDeployDefault.AllAtOnce").await;
    let appspec = "version: 0.0\nos: linux\nfiles:\n  - source: app\n    destination: /srv/app\nhooks:\n  \
                   ValidateService:\n    - location: validate.sh\n      timeout: 60\n  OnFailure:\n    - location: \
                   on-failure.sh\n      timeout: 60\n";
    let bundle = Bundle::new()
        .file("appspec.yml", appspec, 0o644)
        .file("app/version.txt", "v1\n", 0o644)
        .script("validate.sh", "case \"$CUTOVER_TEST_HOST_DIR\" in */host-2/*) echo 'health check failed' >&2; exit 1;; esac")
        .script(
            "on-failure.sh",
            "echo \"$LIFECYCLE_EVENT $FAILED_LIFECYCLE_EVENT $DEPLOYMENT_ID\" >> \"$CUTOVER_TEST_HOST_DIR/on-failure.log\"\n\
             echo \"collected diagnostics after $FAILED_LIFECYCLE_EVENT\"",
        );
    let revision = cluster.push_bundle("app", bundle.tgz(), "tgz").await;
    let id = cluster.deploy("app", "g", &revision, serde_json::json!({})).await;
    cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await;

    let evidence =
        |name: &str| std::fs::read_to_string(cluster.agent(name).host_dir.join("on-failure.log")).unwrap_or_default();
    assert_eq!(evidence("host-2"), format!("OnFailure ValidateService {id}\n"), "{}", cluster.logs());
    assert_eq!(evidence("host-1"), "", "OnFailure ran on the host that succeeded");
    assert_eq!(cluster.target(&id, "host-1").await.status.as_deref(), Some("Succeeded"));
    let target = cluster.target(&id, "host-2").await;
    assert_eq!(target.status.as_deref(), Some("Failed"));
    let events = target.lifecycle_events.expect("events");
    let validate = events.iter().find(|e| e.lifecycle_event_name.as_deref() == Some("ValidateService")).expect("event");
    assert_eq!(validate.status.as_deref(), Some("Failed"));
    let diagnostics = validate.diagnostics.as_ref().expect("diagnostics");
    assert_eq!(diagnostics.error_code.as_deref(), Some("ScriptFailed"), "{diagnostics:?}");
    assert_eq!(diagnostics.script_name.as_deref(), Some("validate.sh"), "{diagnostics:?}");
    assert_eq!(
        diagnostics.message.as_deref(),
        Some("Script at specified location: validate.sh failed with exit code 1"),
        "{diagnostics:?}"
    );

    let log = uploaded_log(&cluster, &id, "host-2", "ValidateService").await;
    assert!(log.contains("[stderr]health check failed"), "{log}");
    assert!(log.contains("LifecycleEvent - OnFailure"), "{log}");
    assert!(log.contains("[stdout]collected diagnostics after ValidateService"), "{log}");
    assert!(log.find("[stderr]health check failed") < log.find("LifecycleEvent - OnFailure"), "{log}");
}
