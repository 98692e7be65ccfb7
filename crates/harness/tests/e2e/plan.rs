//! `cutover deploy plan` equals execution: on a rolling deployment where one host failed before, the planned order
//! and batches, the hooks each host runs (and from which revision), the files that change on each host and the
//! rollback target are what the deployment then does.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use cutover_api_types::codedeploy::Operation;
use cutover_harness::{Bundle, Cluster, ClusterOptions, binary};

use crate::DEPLOY_TIMEOUT;

fn appspec() -> String {
    let mut res = "version: 0.0\nos: linux\nfiles:\n  - source: app\n    destination: /srv/plan\nhooks:\n".to_owned();
    for event in ["ApplicationStop", "BeforeInstall", "AfterInstall", "ApplicationStart", "ValidateService"] {
        res.push_str(&format!("  {event}:\n    - location: scripts/record.sh\n"));
    }
    res
}

/// A revision whose hooks record `<event> <label> <deployment>`; with `fail_on`, ValidateService fails on that host.
fn revision(label: &str, files: &[(&str, &str)], fail_on: Option<&str>) -> Bundle {
    let fail = fail_on.map_or(String::new(), |host| {
        format!(
            "if [ \"$LIFECYCLE_EVENT\" = ValidateService ]; then case \"$CUTOVER_TEST_HOST_DIR\" in */{host}/*) exit 1;; esac; fi"
        )
    });
    let mut bundle = Bundle::new().file("appspec.yml", &appspec(), 0o644).script(
        "scripts/record.sh",
        &format!("echo \"$LIFECYCLE_EVENT {label} $DEPLOYMENT_ID\" >> \"$CUTOVER_TEST_HOST_DIR/hooks.log\"\n{fail}"),
    );
    for (path, content) in files {
        bundle = bundle.file(&format!("app/{path}"), content, 0o644);
    }
    bundle
}

/// Files under a host's /srv/plan: path on the host → content and mode.
fn files(dest_root: &Path) -> BTreeMap<String, String> {
    let dir = dest_root.join("srv/plan");
    let mut res = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).into_iter().flatten().map(|entry| entry.expect("entry")) {
        let metadata = entry.metadata().expect("metadata");
        let content = std::fs::read_to_string(entry.path()).expect("content");
        res.insert(
            format!("/srv/plan/{}", entry.file_name().to_string_lossy()),
            format!("{content:?} {:o}", metadata.permissions().mode() & 0o7777),
        );
    }
    res
}

/// (added, changed, removed) between two snapshots.
fn diff(before: &BTreeMap<String, String>, after: &BTreeMap<String, String>) -> [Vec<String>; 3] {
    let added = after.keys().filter(|path| !before.contains_key(*path)).cloned().collect();
    let changed = after
        .iter()
        .filter(|(path, v)| before.get(*path).is_some_and(|old| old != *v))
        .map(|(p, _)| p.clone())
        .collect();
    let removed = before.keys().filter(|path| !after.contains_key(*path)).cloned().collect();
    [added, changed, removed]
}

fn strings(value: &serde_json::Value) -> Vec<String> {
    value.as_array().expect("list").iter().map(|item| item.as_str().expect("string").to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_equals_execution_on_a_rolling_deployment_with_a_pre_failed_host() {
    let cluster = Cluster::start(ClusterOptions { agents: 3, ..Default::default() }).await;
    cluster.create_app_and_group("plan", "g", "CodeDeployDefault.OneAtATime").await;
    let mut ids: BTreeMap<String, &str> = BTreeMap::new();

    // v0 everywhere; then v1 fails on host-2 in ValidateService (after its Install): host-1 gets v1, host-3 is skipped.
    let v0 = revision("v0", &[("a.txt", "0"), ("b.txt", "b")], None);
    let rev = cluster.push_bundle("plan", v0.tgz(), "tgz").await;
    let v0_id = cluster.deploy("plan", "g", &rev, serde_json::json!({})).await;
    assert_eq!(cluster.wait_deployment(&v0_id, DEPLOY_TIMEOUT).await.status.as_deref(), Some("Succeeded"));
    ids.insert(v0_id.clone(), "v0");
    let v1 = revision("v1", &[("a.txt", "1"), ("c.txt", "c")], Some("host-2"));
    let rev = cluster.push_bundle("plan", v1.tgz(), "tgz").await;
    let v1_id = cluster.deploy("plan", "g", &rev, serde_json::json!({})).await;
    assert_eq!(cluster.wait_deployment(&v1_id, DEPLOY_TIMEOUT).await.status.as_deref(), Some("Failed"));
    ids.insert(v1_id.clone(), "v1");
    let _: serde_json::Value = cluster
        .client
        .call(
            Operation::UpdateDeploymentGroup,
            &serde_json::json!({"applicationName": "plan", "currentDeploymentGroupName": "g",
                "autoRollbackConfiguration": {"enabled": true, "events": ["DEPLOYMENT_FAILURE"]}}),
        )
        .await
        .expect("UpdateDeploymentGroup");

    let v2 = revision("v2", &[("a.txt", "2"), ("c.txt", "c"), ("d.txt", "d")], None);
    let rev = cluster.push_bundle("plan", v2.tgz(), "tgz").await;
    let out = Command::new(binary("cutover"))
        .env("AWS_SHARED_CREDENTIALS_FILE", cluster.credentials_file())
        .args(["--endpoint", &cluster.endpoint, "deploy", "plan", "--application-name", "plan"])
        .args(["--deployment-group-name", "g", "--revision", &rev.to_string(), "--json"])
        .output()
        .expect("cutover deploy plan");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let planned: serde_json::Value = serde_json::from_slice(&out.stdout).expect("plan JSON");
    let plan = &planned["plan"];
    // The pre-failed host first, then by name; OneAtATime: one host per batch.
    assert_eq!(plan["batches"], serde_json::json!([["host-2"], ["host-1"], ["host-3"]]), "{planned:#}");
    assert_eq!(plan["min_healthy"], 2);
    assert_eq!(plan["rollback"]["deployment_id"], serde_json::json!(v0_id), "rollback goes to the last success");
    assert_eq!(plan["rollback"]["events"], serde_json::json!(["DEPLOYMENT_FAILURE"]));
    let targets = plan["targets"].as_array().expect("targets");
    let installed = |host: &str| {
        let target = targets.iter().find(|t| t["instance_name"] == host).expect("target");
        ids[target["last_installed"]["deployment_id"].as_str().expect("installed")]
    };
    // host-2's deployment of v1 failed after its Install: it has v1's files and ApplicationStop.
    assert_eq!((installed("host-1"), installed("host-2"), installed("host-3")), ("v1", "v1", "v0"));

    // The human form says the same.
    let out = Command::new(binary("cutover"))
        .env("AWS_SHARED_CREDENTIALS_FILE", cluster.credentials_file())
        .args(["--endpoint", &cluster.endpoint, "deploy", "plan", "--application-name", "plan"])
        .args(["--deployment-group-name", "g", "--revision", &rev.to_string()])
        .output()
        .expect("cutover deploy plan");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("3 hosts; at least 2 must stay healthy, so at most 1 host is updated (or failed) at a time.")
    );
    assert!(text.contains("  1. host-2 (unhealthy: goes first)\n  2. host-1\n  3. host-3\n"), "{text}");
    assert!(text.contains(&format!("    ApplicationStop   scripts/record.sh  (from {v0_id})")), "{text}");
    assert!(
        text.contains(&format!(
            "Rollback: automatic on DEPLOYMENT_FAILURE: redeploys the last successful deployment {v0_id}"
        )),
        "{text}"
    );

    let before: Vec<BTreeMap<String, String>> = cluster.agents.iter().map(|agent| files(&agent.dest_root)).collect();
    let hooks_before: Vec<usize> = cluster.agents.iter().map(|agent| crate::hook_lines(agent).len()).collect();
    let v2_id = cluster.deploy("plan", "g", &rev, serde_json::json!({})).await;
    let info = cluster.wait_deployment(&v2_id, DEPLOY_TIMEOUT).await;
    assert_eq!(info.status.as_deref(), Some("Succeeded"), "{}", cluster.logs());

    // Order: hosts started in the planned order, one after another.
    let mut spans = Vec::new();
    for agent in &cluster.agents {
        let events = cluster.target(&v2_id, &agent.name).await.lifecycle_events.expect("events");
        let start = events.iter().filter_map(|e| e.start_time).fold(f64::MAX, f64::min);
        let end = events.iter().filter_map(|e| e.end_time).fold(f64::MIN, f64::max);
        spans.push((start, end, agent.name.clone()));
    }
    spans.sort_by(|a, b| a.0.total_cmp(&b.0));
    let executed: Vec<Vec<String>> = spans.iter().map(|(_, _, name)| vec![name.clone()]).collect();
    assert_eq!(serde_json::json!(executed), plan["batches"]);
    for pair in spans.windows(2) {
        assert!(pair[1].0 >= pair[0].1, "one at a time: {spans:?}");
    }

    for (index, agent) in cluster.agents.iter().enumerate() {
        let host =
            planned["hosts"].as_array().expect("hosts").iter().find(|h| h["instanceName"] == agent.name.as_str());
        let host = host.expect("host plan");
        // Hooks: what ran, from which revision, equals the plan.
        let ran: Vec<String> = crate::hook_lines(agent)[hooks_before[index]..]
            .iter()
            .map(|line| line.replace(&format!(" {v2_id}"), ""))
            .collect();
        let expected: Vec<String> = host["hooks"]
            .as_array()
            .expect("hooks")
            .iter()
            .map(|hook| {
                let from = hook["revision"].as_str().expect("revision");
                let label = if from == "new" { "v2" } else { ids[from] };
                format!("{} {label}", hook["lifecycleEvent"].as_str().expect("event"))
            })
            .collect();
        assert_eq!(ran, expected, "{}: hooks", agent.name);
        // Files: what changed on disk equals the plan.
        let [added, changed, removed] = diff(&before[index], &files(&agent.dest_root));
        let planned_files = &host["files"];
        assert_eq!(
            (strings(&planned_files["added"]), strings(&planned_files["changed"]), strings(&planned_files["removed"])),
            (added, changed, removed),
            "{}: files",
            agent.name
        );
    }
    let host3 =
        planned["hosts"].as_array().expect("hosts").iter().find(|h| h["instanceName"] == "host-3").expect("host-3");
    assert_eq!(strings(&host3["files"]["removed"]), ["/srv/plan/b.txt"], "the plan is not vacuous");
}
