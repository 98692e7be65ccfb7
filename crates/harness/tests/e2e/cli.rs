//! The real `cutover` CLI against a real cluster: push, deploy --wait (exit codes), reads, stop.

use std::process::Command;

use cutover_api_types::codedeploy::{self as wire, Operation};
use cutover_harness::{Cluster, ClusterOptions, binary};

use crate::DEPLOY_TIMEOUT;

/// Runs the CLI signed with the server's admin key, read from `DATA_DIR/admin-credentials` as a user would.
fn cutover(cluster: &Cluster, args: &[&str]) -> std::process::Output {
    Command::new(binary("cutover"))
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_PROFILE")
        .env("AWS_SHARED_CREDENTIALS_FILE", cluster.credentials_file())
        .arg("--endpoint")
        .arg(&cluster.endpoint)
        .args(args)
        .output()
        .expect("run cutover")
}

fn write_app(dir: &std::path::Path, validate_exit: u8) {
    std::fs::create_dir_all(dir.join("scripts")).expect("mkdir");
    std::fs::write(
        dir.join("appspec.yml"),
        "version: 0.0\nos: linux\nfiles:\n  - source: index.html\n    destination: /srv/cli\nfile_exists_behavior: OVERWRITE\nhooks:\n  ValidateService:\n    - location: scripts/validate.sh\n",
    )
    .expect("appspec");
    std::fs::write(dir.join("index.html"), format!("exit {validate_exit}\n")).expect("index");
    let script = dir.join("scripts/validate.sh");
    std::fs::write(&script, format!("#!/bin/sh\necho validating\nexit {validate_exit}\n")).expect("script");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_and_deploy_wait_through_the_cli() {
    let cluster = Cluster::start(ClusterOptions { agents: 2, ..Default::default() }).await;
    let out = cutover(&cluster, &["create-application", "--application-name", "cli"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = cutover(
        &cluster,
        &[
            "create-deployment-group",
            "--application-name",
            "cli",
            "--deployment-group-name",
            "g",
            "--deployment-config-name",
            "CodeDeployDefault.AllAtOnce",
            "--on-premises-tag-filters",
            "Key=env,Value=test,Type=KEY_AND_VALUE",
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let source = cluster.dir.path().join("app-good");
    write_app(&source, 0);
    let out =
        cutover(&cluster, &["push", "--application-name", "cli", "--source", source.to_str().expect("utf8"), "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // `push --json` prints exactly the RevisionLocation CreateDeployment accepts.
    let revision: wire::RevisionLocation = serde_json::from_slice(&out.stdout).expect("RevisionLocation JSON");
    assert_eq!(revision.revision_type.as_deref(), Some("S3"));
    let revision_file = cluster.dir.path().join("revision.json");
    std::fs::write(&revision_file, &out.stdout).expect("revision.json");
    let revision_arg = format!("@{}", revision_file.display());

    let out = cutover(
        &cluster,
        &["deploy", "--application-name", "cli", "--deployment-group-name", "g", "--revision", &revision_arg, "--wait"],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        stdout.contains("host-1  ValidateService  Succeeded") && stdout.contains("host-2  ValidateService  Succeeded"),
        "{stdout}"
    );
    assert!(stdout.contains("Hosts: 2 succeeded, 0 failed, 0 skipped"), "{stdout}");
    for agent in &cluster.agents {
        assert_eq!(std::fs::read_to_string(agent.dest("/srv/cli/index.html")).expect("installed"), "exit 0\n");
    }

    // A failing revision: deploy --wait exits 3 and shows the failing script's diagnostics.
    let bad = cluster.dir.path().join("app-bad");
    write_app(&bad, 4);
    let out =
        cutover(&cluster, &["push", "--application-name", "cli", "--source", bad.to_str().expect("utf8"), "--json"]);
    assert!(out.status.success());
    let out = cutover(
        &cluster,
        &[
            "deploy",
            "--application-name",
            "cli",
            "--deployment-group-name",
            "g",
            "--revision",
            &String::from_utf8_lossy(&out.stdout),
            "--wait",
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{stdout}");
    assert!(stdout.contains("ScriptFailed") && stdout.contains("validating"), "{stdout}");

    // Reads: table and --json.
    let out = cutover(&cluster, &["deployments", "list", "--application-name", "cli", "--json"]);
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let statuses: Vec<&str> =
        listed["deploymentsInfo"].as_array().expect("list").iter().filter_map(|d| d["status"].as_str()).collect();
    assert_eq!(statuses.len(), 2);
    assert!(statuses.contains(&"Succeeded") && statuses.contains(&"Failed"), "{statuses:?}");
    let out = cutover(&cluster, &["instances", "list"]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("host-1") && table.contains("host-2"), "{table}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_deployment_lets_the_running_event_finish_and_skips_the_rest() {
    let cluster = Cluster::start(ClusterOptions { agents: 3, ..Default::default() }).await;
    cluster.create_app_and_group("stop", "g", "CodeDeployDefault.OneAtATime").await;
    let bundle = cutover_harness::Bundle::new()
        .file("appspec.yml", "version: 0.0\nos: linux\nhooks:\n  BeforeInstall:\n    - location: wait.sh\n", 0o644)
        .script("wait.sh", "touch \"$CUTOVER_TEST_HOST_DIR/started\"\nwhile [ ! -f \"$CUTOVER_TEST_HOST_DIR/go\" ]; do sleep 0.02; done");
    let revision = cluster.push_bundle("stop", bundle.tgz(), "tgz").await;
    let id = cluster.deploy("stop", "g", &revision, serde_json::json!({})).await;
    let host = cutover_harness::wait_for("a host to start BeforeInstall", DEPLOY_TIMEOUT, || {
        let dirs: Vec<_> = cluster.agents.iter().map(|a| (a.name.clone(), a.host_dir.clone())).collect();
        async move { dirs.into_iter().find(|(_, dir)| dir.join("started").exists()) }
    })
    .await;
    let out: wire::StopDeploymentOutput =
        cluster.client.call(Operation::StopDeployment, &serde_json::json!({"deploymentId": id})).await.expect("stop");
    assert_eq!(out.status.as_deref(), Some("Pending"), "the running script is not killed");
    std::fs::write(host.1.join("go"), "").expect("go");
    let info = cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await;
    assert_eq!(info.status.as_deref(), Some("Stopped"));
    assert_eq!(info.error_information.as_ref().and_then(|e| e.code.as_deref()), Some("MANUAL_STOP"));
    let overview = info.deployment_overview.expect("overview");
    assert_eq!((overview.failed, overview.skipped, overview.succeeded), (Some(1), Some(2), Some(0)));
    let events = cluster.target(&id, &host.0).await.lifecycle_events.expect("events");
    let statuses: Vec<&str> = events.iter().map(|e| e.status.as_deref().unwrap_or("")).collect();
    // ApplicationStop, DownloadBundle ran; BeforeInstall finished; the rest never started.
    assert_eq!(statuses, ["Succeeded", "Succeeded", "Succeeded", "Skipped", "Skipped", "Skipped", "Skipped"]);
    let again: Result<wire::StopDeploymentOutput, _> =
        cluster.client.call(Operation::StopDeployment, &serde_json::json!({"deploymentId": id})).await;
    assert_eq!(again.expect_err("already stopped").exception(), Some("DeploymentAlreadyCompletedException"));
}
