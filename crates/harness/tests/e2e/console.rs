//! The web console in a real browser: Debian's `chromium`, driven through Debian's `chromium-driver` by Python's
//! selenium (from the compat virtualenv, see `compat_python.rs`), against a real server and agents.
//!
//! The Rust side sets the scene with the API: a failed deployment, and two deployments held in a hook that waits
//! for a gate file (`$CUTOVER_TEST_HOST_DIR/open-<group>`). The browser script (`tests/console/browser.py`) opens
//! the gates itself, so it sees the running pages change at the moments it chooses. Screenshots of the main pages go
//! to `target/console-screenshots/` (kept by CI as artifacts; `docs/console.md`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use cutover_api_types::codedeploy::{self as wire, Operation};
use cutover_harness::{Bundle, Cluster, ClusterOptions, wait_for};

use crate::DEPLOY_TIMEOUT;
use crate::compat_python::{target_dir, venv};

/// Holds BeforeInstall until the test opens this group's gate on this host; says so in its log first.
const GATE: &str = r#"gate="$CUTOVER_TEST_HOST_DIR/open-$DEPLOYMENT_GROUP_NAME"
echo "waiting for the gate of $DEPLOYMENT_GROUP_NAME"
while [ ! -e "$gate" ]; do sleep 0.05; done
echo "gate open, installing"
"#;

/// Fails on a host whose scratch directory has `fail-start`, with a message the browser looks for in the log.
const START: &str = r#"if [ -e "$CUTOVER_TEST_HOST_DIR/fail-start" ]; then
  echo "starting the shop"
  echo "boom: port 8080 is already taken by pid 4242" >&2
  exit 3
fi
echo "shop started"
"#;

fn shop(version: &str) -> Bundle {
    Bundle::new()
        .file(
            "appspec.yml",
            "version: 0.0\nos: linux\nfiles:\n  - source: site\n    destination: /srv/shop\nfile_exists_behavior: OVERWRITE\n\
             hooks:\n  BeforeInstall:\n    - location: scripts/gate.sh\n      timeout: 300\n  \
             ApplicationStart:\n    - location: scripts/start.sh\n",
            0o644,
        )
        .file("site/index.html", &format!("shop {version}\n"), 0o644)
        .script("scripts/gate.sh", GATE)
        .script("scripts/start.sh", START)
}

/// A group of application `shop` targeting the named hosts (`host=<name>` tags, ORed).
async fn create_group(cluster: &Cluster, group: &str, config: &str, hosts: &[&str]) {
    let filters: Vec<serde_json::Value> =
        hosts.iter().map(|host| serde_json::json!({"Key": "host", "Value": host, "Type": "KEY_AND_VALUE"})).collect();
    let _: wire::CreateDeploymentGroupOutput = cluster
        .client
        .call(
            Operation::CreateDeploymentGroup,
            &serde_json::json!({
                "applicationName": "shop",
                "deploymentGroupName": group,
                "deploymentConfigName": config,
                "serviceRoleArn": "arn:aws:iam::000000000000:role/test",
                "onPremisesInstanceTagFilters": filters,
            }),
        )
        .await
        .expect("CreateDeploymentGroup");
}

fn open_gate(cluster: &Cluster, host: &str, group: &str) {
    std::fs::write(cluster.agent(host).host_dir.join(format!("open-{group}")), "").expect("open gate");
}

/// Waits until `count` targets of the deployment run BeforeInstall (held at the gate).
async fn wait_at_gate(cluster: &Cluster, id: &str, count: usize) {
    let client = cluster.client.clone();
    wait_for(&format!("{count} hosts of {id} to wait at the gate"), DEPLOY_TIMEOUT, || {
        let client = client.clone();
        let id = id.to_owned();
        async move {
            let ids: wire::ListDeploymentTargetsOutput =
                client.call(Operation::ListDeploymentTargets, &serde_json::json!({"deploymentId": id})).await.ok()?;
            let targets: wire::BatchGetDeploymentTargetsOutput = client
                .call(
                    Operation::BatchGetDeploymentTargets,
                    &serde_json::json!({"deploymentId": id, "targetIds": ids.target_ids?}),
                )
                .await
                .ok()?;
            let waiting = targets
                .deployment_targets?
                .iter()
                .filter_map(|target| target.instance_target.as_ref())
                .filter(|target| {
                    target.lifecycle_events.iter().flatten().any(|event| {
                        event.lifecycle_event_name.as_deref() == Some("BeforeInstall")
                            && event.status.as_deref() == Some("InProgress")
                    })
                })
                .count();
            (waiting == count).then_some(())
        }
    })
    .await;
}

async fn deployment_status(cluster: &Cluster, id: &str) -> String {
    let out: wire::GetDeploymentOutput = cluster
        .client
        .call(Operation::GetDeployment, &serde_json::json!({"deploymentId": id}))
        .await
        .expect("GetDeployment");
    out.deployment_info.and_then(|info| info.status).unwrap_or_default()
}

fn script_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/console/browser.py")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_follows_deployments_live_shows_failed_logs_stops_and_searches() {
    let cluster = Cluster::start(ClusterOptions { agents: 3, ..Default::default() }).await;
    let _: wire::CreateApplicationOutput = cluster
        .client
        .call(Operation::CreateApplication, &serde_json::json!({"applicationName": "shop"}))
        .await
        .expect("CreateApplication");
    create_group(&cluster, "live", "CodeDeployDefault.AllAtOnce", &["host-1", "host-2"]).await;
    create_group(&cluster, "canary", "CodeDeployDefault.AllAtOnce", &["host-3"]).await;
    create_group(&cluster, "stoppable", "CodeDeployDefault.OneAtATime", &["host-2", "host-3"]).await;
    let v1 = cluster.push_bundle("shop", shop("v1").tgz(), "tgz").await;
    let v2 = cluster.push_bundle("shop", shop("v2").tgz(), "tgz").await;

    // The canary group: v1 succeeds, then v2 fails in ApplicationStart.
    open_gate(&cluster, "host-3", "canary");
    let first = cluster.deploy("shop", "canary", &v1, serde_json::json!({})).await;
    assert_eq!(cluster.wait_deployment(&first, DEPLOY_TIMEOUT).await.status.as_deref(), Some("Succeeded"));
    std::fs::write(cluster.agent("host-3").host_dir.join("fail-start"), "").expect("break host-3");
    let failed = cluster.deploy("shop", "canary", &v2, serde_json::json!({"description": "v2 to the canary"})).await;
    assert_eq!(cluster.wait_deployment(&failed, DEPLOY_TIMEOUT).await.status.as_deref(), Some("Failed"));
    std::fs::remove_file(cluster.agent("host-3").host_dir.join("fail-start")).expect("mend host-3");

    // Two deployments held at their gates: the browser opens them.
    let live = cluster.deploy("shop", "live", &v2, serde_json::json!({"description": "v2 everywhere"})).await;
    wait_at_gate(&cluster, &live, 2).await;
    let stoppable = cluster.deploy("shop", "stoppable", &v1, serde_json::json!({})).await;
    wait_at_gate(&cluster, &stoppable, 1).await;

    let screenshots = target_dir().join("console-screenshots");
    std::fs::create_dir_all(&screenshots).expect("screenshot dir");
    let hosts: serde_json::Value =
        cluster.agents.iter().map(|agent| (agent.name.clone(), serde_json::json!(agent.host_dir))).collect();
    let admin = cutover_harness::admin_credentials(&cluster.server.data_dir);
    let (_, viewer) = cluster.client_with_role("viewer").await;
    let mut command = Command::new(venv().join("bin/python"));
    command
        .env("CONSOLE_ADMIN_ID", &admin.access_key_id)
        .env("CONSOLE_ADMIN_SECRET", &admin.secret_access_key)
        .env("CONSOLE_VIEWER_ID", &viewer.access_key_id)
        .env("CONSOLE_VIEWER_SECRET", &viewer.secret_access_key)
        .arg("-B")
        .arg(script_path())
        .env("CUTOVER_ENDPOINT", &cluster.endpoint)
        .env("CONSOLE_HOSTS", hosts.to_string())
        .env("CONSOLE_LIVE", &live)
        .env("CONSOLE_FAILED", &failed)
        .env("CONSOLE_STOPPABLE", &stoppable)
        .env("CONSOLE_SCREENSHOTS", &screenshots)
        // Selenium must not look for or download a driver: it is given Debian's.
        .env("SE_OFFLINE", "true")
        .env("HOME", cluster.dir.path());
    let out: Output =
        tokio::task::spawn_blocking(move || command.output().expect("run python")).await.expect("python task");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "browser.py failed:\n{stdout}\n{stderr}\n{}", cluster.logs());
    assert!(
        stdout.trim_end().ends_with("passed, 0 failed"),
        "browser.py did not report its tally:\n{stdout}\n{stderr}"
    );
    println!("{stdout}");

    // What the browser did, seen through the API.
    assert_eq!(deployment_status(&cluster, &live).await, "Succeeded");
    let info = cluster.wait_deployment(&stoppable, Duration::from_secs(30)).await;
    assert_eq!(info.status.as_deref(), Some("Stopped"), "{}", cluster.logs());
    assert_eq!(info.error_information.and_then(|error| error.code).as_deref(), Some("MANUAL_STOP"));
    for page in ["applications", "deployment-running", "deployment-failed", "instance-log", "confirm-stop", "instances"]
    {
        let path = screenshots.join(format!("{page}.png"));
        assert!(std::fs::metadata(&path).is_ok_and(|meta| meta.len() > 1000), "no screenshot {}", path.display());
    }
}
