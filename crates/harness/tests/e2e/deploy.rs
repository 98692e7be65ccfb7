//! Whole deployments across several hosts: files, modes, owners, hook environment, event order, batches, failures.

use std::os::unix::fs::{MetadataExt, PermissionsExt};

use cutover_api_types::codedeploy::{self as wire, Operation};
use cutover_harness::{Bundle, Cluster, ClusterOptions};

use crate::{DEPLOY_TIMEOUT, RECORD_HOOK, appspec_all_hooks, hook_lines, is_root};

const IN_PLACE_EVENTS: [&str; 7] = [
    "ApplicationStop",
    "DownloadBundle",
    "BeforeInstall",
    "Install",
    "AfterInstall",
    "ApplicationStart",
    "ValidateService",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_hosts_install_files_and_run_every_hook_in_order() {
    let cluster = Cluster::start(ClusterOptions { agents: 3, ..Default::default() }).await;
    cluster.create_app_and_group("web", "prod", "CodeDeployDefault.OneAtATime").await;
    let owner = if is_root() { "    owner: nobody\n" } else { "" };
    let permissions = format!(
        "permissions:\n  - object: /srv/web\n    pattern: \"*.sh\"\n    mode: 750\n{owner}    type:\n      - file\n"
    );
    let appspec = appspec_all_hooks(
        "files:\n  - source: site\n    destination: /srv/web\n  - source: conf/web.conf\n    destination: /etc/web\n",
        &permissions,
    );
    let env_hook = format!(
        "{RECORD_HOOK}\nenv | grep -E '^(LIFECYCLE_EVENT|DEPLOYMENT_ID|APPLICATION_NAME|DEPLOYMENT_GROUP_NAME|DEPLOYMENT_GROUP_ID|BUNDLE_BUCKET|BUNDLE_KEY|BUNDLE_ETAG)=' | sort > \"$CUTOVER_TEST_HOST_DIR/env-$LIFECYCLE_EVENT\""
    );
    let bundle = Bundle::new()
        .file("appspec.yml", &appspec, 0o644)
        .file("site/index.html", "<h1>v1</h1>\n", 0o644)
        .file("site/run.sh", "#!/bin/sh\necho run\n", 0o644)
        .file("conf/web.conf", "port=8080\n", 0o600)
        .script("scripts/record.sh", &env_hook);
    let revision = cluster.push_bundle("web", bundle.tgz(), "tgz").await;
    let id = cluster.deploy("web", "prod", &revision, serde_json::json!({})).await;
    let info = cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await;
    assert_eq!(info.status.as_deref(), Some("Succeeded"), "{info:?}\n{}", cluster.logs());
    let overview = info.deployment_overview.expect("overview");
    assert_eq!(
        (overview.succeeded, overview.failed, overview.skipped, overview.pending, overview.in_progress),
        (Some(3), Some(0), Some(0), Some(0), Some(0))
    );

    let group_id = {
        let out: wire::GetDeploymentGroupOutput = cluster
            .client
            .call(
                Operation::GetDeploymentGroup,
                &serde_json::json!({"applicationName": "web", "deploymentGroupName": "prod"}),
            )
            .await
            .expect("group");
        out.deployment_group_info.and_then(|info| info.deployment_group_id).expect("group id")
    };
    let mut windows = Vec::new();
    for agent in &cluster.agents {
        // Files, with the archive's modes and the AppSpec's permissions.
        assert_eq!(std::fs::read_to_string(agent.dest("/srv/web/index.html")).expect("index.html"), "<h1>v1</h1>\n");
        let run = std::fs::metadata(agent.dest("/srv/web/run.sh")).expect("run.sh");
        assert_eq!(run.permissions().mode() & 0o7777, 0o750, "permissions mode applied to *.sh");
        let conf = std::fs::metadata(agent.dest("/etc/web/web.conf")).expect("web.conf");
        assert_eq!(conf.permissions().mode() & 0o7777, 0o600, "archive mode kept");
        if is_root() {
            assert_eq!(run.uid(), 65534, "owner nobody applied");
        }
        // First deployment: ApplicationStop has no earlier revision, so its scripts do not run.
        let lines = hook_lines(agent);
        let expected: Vec<String> = ["BeforeInstall", "AfterInstall", "ApplicationStart", "ValidateService"]
            .iter()
            .map(|e| format!("{e} {id}"))
            .collect();
        assert_eq!(lines, expected, "hooks on {}", agent.name);
        // The environment CodeDeploy gives hooks.
        let env = std::fs::read_to_string(agent.host_dir.join("env-AfterInstall")).expect("env");
        let key = revision["s3Location"]["key"].as_str().expect("key");
        let etag = revision["s3Location"]["eTag"].as_str().expect("etag");
        assert_eq!(
            env,
            format!(
                "APPLICATION_NAME=web\nBUNDLE_BUCKET=cutover-revisions\nBUNDLE_ETAG={etag}\nBUNDLE_KEY={key}\nDEPLOYMENT_GROUP_ID={group_id}\nDEPLOYMENT_GROUP_NAME=prod\nDEPLOYMENT_ID={id}\nLIFECYCLE_EVENT=AfterInstall\n"
            )
        );
        // Event order and timings as the API reports them.
        let target = cluster.target(&id, &agent.name).await;
        assert_eq!(target.status.as_deref(), Some("Succeeded"));
        let events = target.lifecycle_events.expect("events");
        let names: Vec<&str> = events.iter().map(|e| e.lifecycle_event_name.as_deref().unwrap_or("")).collect();
        assert_eq!(names, IN_PLACE_EVENTS);
        let mut previous_end = 0.0;
        for event in &events {
            assert_eq!(event.status.as_deref(), Some("Succeeded"), "{event:?}");
            let (start, end) = (event.start_time.expect("start"), event.end_time.expect("end"));
            assert!(start <= end && start + 0.0005 >= previous_end, "event {event:?} overlaps the previous one");
            previous_end = end;
            assert_eq!(event.diagnostics.as_ref().and_then(|d| d.error_code.as_deref()), Some("Success"));
        }
        windows.push((events[0].start_time.unwrap_or(0.0), previous_end));
    }
    // OneAtATime: no two hosts deploy at the same time.
    windows.sort_by(|a, b| a.0.total_cmp(&b.0));
    for pair in windows.windows(2) {
        assert!(pair[1].0 + 0.0005 >= pair[0].1, "hosts overlapped under OneAtATime: {windows:?}");
    }

    // A second deployment runs ApplicationStop from the first revision's scripts.
    let id2 = cluster.deploy("web", "prod", &revision, serde_json::json!({})).await;
    let info2 = cluster.wait_deployment(&id2, DEPLOY_TIMEOUT).await;
    assert_eq!(info2.status.as_deref(), Some("Succeeded"), "{}", cluster.logs());
    for agent in &cluster.agents {
        let lines = hook_lines(agent);
        assert_eq!(lines.len(), 9);
        assert_eq!(lines[4], format!("ApplicationStop {id2}"));
        assert_eq!(lines[8], format!("ValidateService {id2}"));
    }
}

fn failing_on(hosts: &[&str]) -> String {
    let mut script = String::from("case \"$CUTOVER_TEST_HOST_DIR\" in\n");
    for host in hosts {
        script.push_str(&format!(
            "  */{host}/*) echo \"checking service\"; echo \"validation failed on purpose\" >&2; exit 7;;\n"
        ));
    }
    script.push_str("esac\necho healthy\n");
    script
}

async fn half_at_a_time(failing: &[&str]) -> (Cluster, String, wire::DeploymentInfo) {
    let cluster = Cluster::start(ClusterOptions { agents: 5, ..Default::default() }).await;
    cluster.create_app_and_group("api", "prod", "CodeDeployDefault.HalfAtATime").await;
    let appspec = "version: 0.0\nos: linux\nfiles:\n  - source: app.txt\n    destination: /srv/api\nhooks:\n  ValidateService:\n    - location: scripts/validate.sh\n      timeout: 30\n";
    let bundle = Bundle::new()
        .file("appspec.yml", appspec, 0o644)
        .file("app.txt", "api\n", 0o644)
        .script("scripts/validate.sh", &failing_on(failing));
    let revision = cluster.push_bundle("api", bundle.tgz(), "tgz").await;
    let id = cluster.deploy("api", "prod", &revision, serde_json::json!({})).await;
    let info = cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await;
    (cluster, id, info)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_at_a_time_tolerates_one_failed_host_and_reports_its_script() {
    let (cluster, id, info) = half_at_a_time(&["host-3"]).await;
    // 5 hosts at 50%: at least 3 must stay healthy, so one failure is within budget.
    assert_eq!(info.status.as_deref(), Some("Succeeded"), "{info:?}\n{}", cluster.logs());
    let overview = info.deployment_overview.expect("overview");
    assert_eq!(
        (overview.pending, overview.in_progress, overview.succeeded, overview.failed, overview.skipped, overview.ready),
        (Some(0), Some(0), Some(4), Some(1), Some(0), Some(0))
    );
    let target = cluster.target(&id, "host-3").await;
    assert_eq!(target.status.as_deref(), Some("Failed"));
    let events = target.lifecycle_events.expect("events");
    let validate =
        events.iter().find(|e| e.lifecycle_event_name.as_deref() == Some("ValidateService")).expect("ValidateService");
    assert_eq!(validate.status.as_deref(), Some("Failed"));
    let diagnostics = validate.diagnostics.as_ref().expect("diagnostics");
    assert_eq!(diagnostics.error_code.as_deref(), Some("ScriptFailed"));
    assert_eq!(diagnostics.script_name.as_deref(), Some("scripts/validate.sh"));
    let message = diagnostics.message.as_deref().unwrap_or("");
    assert!(message.contains("failed with exit code 7"), "{message}");
    let tail = diagnostics.log_tail.as_deref().unwrap_or("");
    assert!(
        tail.contains("[stdout]checking service") && tail.contains("[stderr]validation failed on purpose"),
        "{tail}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_at_a_time_stops_when_the_failure_budget_is_spent() {
    let (cluster, id, info) = half_at_a_time(&["host-2", "host-3"]).await;
    assert_eq!(info.status.as_deref(), Some("Failed"), "{}", cluster.logs());
    assert_eq!(info.error_information.as_ref().and_then(|e| e.code.as_deref()), Some("HEALTH_CONSTRAINTS"));
    let overview = info.deployment_overview.expect("overview");
    assert_eq!((overview.succeeded, overview.failed, overview.skipped), (Some(1), Some(2), Some(2)));
    for host in ["host-4", "host-5"] {
        let target = cluster.target(&id, host).await;
        assert_eq!(target.status.as_deref(), Some("Skipped"));
        assert!(target.lifecycle_events.expect("events").iter().all(|e| e.status.as_deref() == Some("Skipped")));
        assert!(!cluster.agent(host).dest("/srv/api/app.txt").exists(), "{host} must not be touched");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_deployment_to_a_busy_group_is_refused_and_empty_groups_fail() {
    let cluster = Cluster::start(ClusterOptions { agents: 1, ..Default::default() }).await;
    cluster.create_app_and_group("busy", "g", "CodeDeployDefault.OneAtATime").await;
    let bundle = Bundle::new()
        .file("appspec.yml", "version: 0.0\nos: linux\nhooks:\n  BeforeInstall:\n    - location: wait.sh\n", 0o644)
        .script("wait.sh", "while [ ! -f \"$CUTOVER_TEST_HOST_DIR/go\" ]; do sleep 0.02; done");
    let revision = cluster.push_bundle("busy", bundle.tgz(), "tgz").await;
    let first = cluster.deploy("busy", "g", &revision, serde_json::json!({})).await;
    let second: Result<wire::CreateDeploymentOutput, _> = cluster
        .client
        .call(
            Operation::CreateDeployment,
            &serde_json::json!({"applicationName": "busy", "deploymentGroupName": "g", "revision": revision}),
        )
        .await;
    let error = second.expect_err("second deployment must be refused");
    assert_eq!(error.exception(), Some("DeploymentLimitExceededException"));
    assert!(error.to_string().contains(&first), "{error}");
    std::fs::write(cluster.agents[0].host_dir.join("go"), "").expect("gate");
    assert_eq!(cluster.wait_deployment(&first, DEPLOY_TIMEOUT).await.status.as_deref(), Some("Succeeded"));

    // A group whose tags match no instance fails with NO_INSTANCES.
    let _: wire::CreateDeploymentGroupOutput = cluster
        .client
        .call(
            Operation::CreateDeploymentGroup,
            &serde_json::json!({"applicationName": "busy", "deploymentGroupName": "nobody", "serviceRoleArn": "r",
                "onPremisesInstanceTagFilters": [{"Key": "env", "Value": "nowhere", "Type": "KEY_AND_VALUE"}]}),
        )
        .await
        .expect("group");
    let id = cluster.deploy("busy", "nobody", &revision, serde_json::json!({})).await;
    let info = cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await;
    assert_eq!(info.status.as_deref(), Some("Failed"));
    assert_eq!(info.error_information.and_then(|e| e.code), Some("NO_INSTANCES".to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_create_deployment_calls_start_exactly_one() {
    let cluster = Cluster::start(ClusterOptions { agents: 1, ..Default::default() }).await;
    cluster.create_app_and_group("race", "g", "CodeDeployDefault.AllAtOnce").await;
    let bundle = Bundle::new().file("appspec.yml", "version: 0.0\nos: linux\n", 0o644);
    let revision = cluster.push_bundle("race", bundle.tgz(), "tgz").await;
    let calls = (0..8).map(|_| {
        let client = cluster.client.clone();
        let revision = revision.clone();
        tokio::spawn(async move {
            client
                .call::<_, wire::CreateDeploymentOutput>(
                    Operation::CreateDeployment,
                    &serde_json::json!({"applicationName": "race", "deploymentGroupName": "g", "revision": revision}),
                )
                .await
        })
    });
    let mut started = Vec::new();
    let mut refused = 0;
    for call in calls {
        match call.await.expect("join") {
            Ok(out) => started.push(out.deployment_id.expect("id")),
            Err(error) => {
                // A refused call either raced the active deployment or came after it finished.
                assert_eq!(error.exception(), Some("DeploymentLimitExceededException"), "{error}");
                refused += 1;
            }
        }
    }
    assert!(!started.is_empty() && started.len() + refused == 8);
    // At no point were two deployments of the group active: each started one began after the previous ended.
    let mut windows = Vec::new();
    for id in &started {
        let info = cluster.wait_deployment(id, DEPLOY_TIMEOUT).await;
        assert_eq!(info.status.as_deref(), Some("Succeeded"));
        windows.push((info.create_time.expect("create"), info.complete_time.expect("complete")));
    }
    windows.sort_by(|a, b| a.0.total_cmp(&b.0));
    for pair in windows.windows(2) {
        assert!(pair[1].0 >= pair[0].1, "two deployments were active at once: {windows:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deployment_past_its_deadline_fails_with_timeout() {
    let server_args = vec!["--deployment-timeout-secs".to_owned(), "1".to_owned()];
    let cluster = Cluster::start(ClusterOptions { agents: 1, server_args, ..Default::default() }).await;
    cluster.create_app_and_group("late", "g", "CodeDeployDefault.AllAtOnce").await;
    let bundle = Bundle::new()
        .file("appspec.yml", "version: 0.0\nos: linux\nhooks:\n  BeforeInstall:\n    - location: wait.sh\n", 0o644)
        .script("wait.sh", "while [ ! -f \"$CUTOVER_TEST_HOST_DIR/go\" ]; do sleep 0.02; done");
    let revision = cluster.push_bundle("late", bundle.tgz(), "tgz").await;
    let id = cluster.deploy("late", "g", &revision, serde_json::json!({})).await;
    let info = cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await;
    std::fs::write(cluster.agents[0].host_dir.join("go"), "").expect("go");
    assert_eq!(info.status.as_deref(), Some("Failed"));
    assert_eq!(info.error_information.and_then(|e| e.code), Some("TIMEOUT".to_owned()));
    let events = cluster.target(&id, "host-1").await.lifecycle_events.expect("events");
    let statuses: Vec<&str> = events.iter().map(|e| e.status.as_deref().unwrap_or("")).collect();
    assert_eq!(statuses, ["Succeeded", "Succeeded", "Failed", "Skipped", "Skipped", "Skipped", "Skipped"]);
    let message = events[2].diagnostics.as_ref().and_then(|d| d.message.clone()).unwrap_or_default();
    assert!(message.contains("time limit of 1 seconds"), "{message}");
    // The group is free for the next deployment.
    let next = cluster.deploy("late", "g", &revision, serde_json::json!({})).await;
    assert_eq!(cluster.wait_deployment(&next, DEPLOY_TIMEOUT).await.status.as_deref(), Some("Succeeded"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deployments_of_two_applications_to_the_same_hosts_run_together_without_interfering() {
    let cluster = Cluster::start(ClusterOptions { agents: 2, ..Default::default() }).await;
    // In BeforeInstall, each application marks that it started, then waits for the other's marker: on each host the
    // two deployments must overlap, or both time out (the wait gives up after 50 s, within the hook's 60 s timeout).
    let hook = "echo \"$APPLICATION_NAME $LIFECYCLE_EVENT $DEPLOYMENT_ID\" >> \"$CUTOVER_TEST_HOST_DIR/hooks.log\"\n\
                if [ \"$LIFECYCLE_EVENT\" = BeforeInstall ]; then\n\
                  touch \"$CUTOVER_TEST_HOST_DIR/$APPLICATION_NAME-started\"\n\
                  case \"$APPLICATION_NAME\" in alpha) other=beta ;; *) other=alpha ;; esac\n\
                  n=0\n\
                  while [ ! -f \"$CUTOVER_TEST_HOST_DIR/$other-started\" ]; do\n\
                    n=$((n + 1)); if [ $n -gt 2500 ]; then echo \"$other never started\"; exit 1; fi; sleep 0.02\n\
                  done\n\
                fi";
    let mut revisions = Vec::new();
    for app in ["alpha", "beta"] {
        cluster.create_app_and_group(app, "g", "CodeDeployDefault.AllAtOnce").await;
        let appspec = appspec_all_hooks(&format!("files:\n  - source: site\n    destination: /srv/{app}\n"), "");
        let bundle = Bundle::new()
            .file("appspec.yml", &appspec, 0o644)
            .file("site/index.html", &format!("{app}\n"), 0o644)
            .script("scripts/record.sh", hook);
        revisions.push(cluster.push_bundle(app, bundle.tgz(), "tgz").await);
    }
    // Both deployments are in flight at once, and each host runs their BeforeInstall hooks side by side.
    let alpha = cluster.deploy("alpha", "g", &revisions[0], serde_json::json!({})).await;
    let beta = cluster.deploy("beta", "g", &revisions[1], serde_json::json!({})).await;
    for id in [&alpha, &beta] {
        assert_eq!(
            cluster.wait_deployment(id, DEPLOY_TIMEOUT).await.status.as_deref(),
            Some("Succeeded"),
            "{}",
            cluster.logs()
        );
    }
    // Redeploy both: each ApplicationStop runs its own application's previous scripts only.
    let alpha2 = cluster.deploy("alpha", "g", &revisions[0], serde_json::json!({})).await;
    let beta2 = cluster.deploy("beta", "g", &revisions[1], serde_json::json!({})).await;
    for id in [&alpha2, &beta2] {
        assert_eq!(
            cluster.wait_deployment(id, DEPLOY_TIMEOUT).await.status.as_deref(),
            Some("Succeeded"),
            "{}",
            cluster.logs()
        );
    }
    for agent in &cluster.agents {
        for app in ["alpha", "beta"] {
            assert_eq!(
                std::fs::read_to_string(agent.dest(&format!("/srv/{app}/index.html"))).expect("installed"),
                format!("{app}\n")
            );
        }
        let lines = hook_lines(agent);
        for (app, id) in [("alpha", &alpha2), ("beta", &beta2)] {
            let stops: Vec<&String> =
                lines.iter().filter(|l| l.contains("ApplicationStop") && l.ends_with(id.as_str())).collect();
            assert_eq!(stops.len(), 1, "{lines:#?}");
            assert!(stops[0].starts_with(app), "ApplicationStop of {id} ran {}'s scripts", stops[0]);
        }
    }
}

/// A stop ends at once a host that runs no event at that moment (dispatched but not polled yet, or between two of
/// its events): no report will come for it, so nothing else would ever end it. Here no agent runs on the host, so
/// the host is dispatched and stays between events for as long as the test needs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_ends_at_once_a_host_that_runs_no_event() {
    let cluster = Cluster::start(ClusterOptions { agents: 0, ..Default::default() }).await;
    crate::register_without_agent(&cluster, "host-1").await;
    cluster.create_app_and_group("idle", "g", "CodeDeployDefault.AllAtOnce").await;
    let bundle = Bundle::new().file("appspec.yml", "version: 0.0\nos: linux\n", 0o644);
    let revision = cluster.push_bundle("idle", bundle.tgz(), "tgz").await;
    let id = cluster.deploy("idle", "g", &revision, serde_json::json!({})).await;
    let target = cluster.target(&id, "host-1").await;
    assert_eq!(target.status.as_deref(), Some("InProgress"), "the host was dispatched");

    let out: wire::StopDeploymentOutput =
        cluster.client.call(Operation::StopDeployment, &serde_json::json!({"deploymentId": id})).await.expect("stop");
    assert_eq!(out.status.as_deref(), Some("Succeeded"), "nothing runs, so the stop completes in the request");
    let out: wire::GetDeploymentOutput =
        cluster.client.call(Operation::GetDeployment, &serde_json::json!({"deploymentId": id})).await.expect("get");
    let info = out.deployment_info.expect("deploymentInfo");
    assert_eq!(info.status.as_deref(), Some("Stopped"), "{info:?}");
    assert_eq!(info.error_information.as_ref().and_then(|e| e.code.as_deref()), Some("MANUAL_STOP"));
    let target = cluster.target(&id, "host-1").await;
    // A stopped host counts as a failure, as when it is stopped while an event runs.
    assert_eq!(target.status.as_deref(), Some("Failed"));
    let statuses: Vec<&str> =
        target.lifecycle_events.iter().flatten().map(|e| e.status.as_deref().unwrap_or("")).collect();
    assert_eq!(statuses, ["Skipped"; 7]);
}
