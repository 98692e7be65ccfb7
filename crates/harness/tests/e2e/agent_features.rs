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
    let url = format!("{}/v1/deployments/{deployment_id}/instances/{instance}/logs", cluster.endpoint);
    let logs: InstanceLogs = tokio::task::spawn_blocking(move || get_json(&url)).await.expect("join");
    logs.events.into_iter().find(|e| e.lifecycle_event == event).map(|e| e.log).unwrap_or_default()
}

/// A plain `GET` over std's TcpStream, decoded as JSON.
fn get_json<T: serde::de::DeserializeOwned>(url: &str) -> T {
    use std::io::{Read, Write};
    let (host, path) = url.strip_prefix("http://").and_then(|rest| rest.split_once('/')).expect("http url");
    let mut stream = std::net::TcpStream::connect(host).expect("connect");
    write!(stream, "GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    let (head, body) = response.split_once("\r\n\r\n").expect("http response");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}\n{body}");
    let body = if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        let (mut res, mut rest) = (String::new(), body);
        while let Some((size, tail)) = rest.split_once("\r\n") {
            let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            if size == 0 {
                break;
            }
            res.push_str(&tail[..size]);
            rest = &tail[size + 2..];
        }
        res
    } else {
        body.to_owned()
    };
    serde_json::from_str(&body).expect("json")
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
