//! `cutover apply -f`: configuration as code against a real server, idempotent, with `--diff`, YAML and TOML.

use std::process::{Command, Output};

use cutover_api_types::codedeploy::{self as wire, Operation};
use cutover_harness::proxy::FaultProxy;
use cutover_harness::{Cluster, ClusterOptions, binary};

const YAML: &str = r#"
deploymentConfigs:
  - deploymentConfigName: two-at-a-time
    minimumHealthyHosts: {type: HOST_COUNT, value: 2}
applications:
  - applicationName: web
    computePlatform: Server
    deploymentGroups:
      - deploymentGroupName: prod
        deploymentConfigName: two-at-a-time
        serviceRoleArn: arn:aws:iam::000000000000:role/cutover
        onPremisesInstanceTagFilters:
          - {Key: env, Value: prod, Type: KEY_AND_VALUE}
        autoRollbackConfiguration: {enabled: true, events: [DEPLOYMENT_FAILURE, DEPLOYMENT_STOP_ON_ALARM]}
        alarmConfiguration: {enabled: true, alarms: [{name: web-errors}]}
        triggerConfigurations:
          - triggerName: chat
            triggerTargetArn: https://chat.example.com/hook
            triggerEvents: [DeploymentFailure, DeploymentSuccess]
      - deploymentGroupName: staging
        deploymentConfigName: CodeDeployDefault.AllAtOnce
        serviceRoleArn: arn:aws:iam::000000000000:role/cutover
        onPremisesInstanceTagFilters:
          - {Key: env, Value: staging, Type: KEY_AND_VALUE}
  - applicationName: api
    deploymentGroups:
      - deploymentGroupName: prod
        serviceRoleArn: arn:aws:iam::000000000000:role/cutover
        onPremisesTagSet:
          onPremisesTagSetList:
            - - {Key: role, Value: api, Type: KEY_AND_VALUE}
"#;

/// The same configuration in TOML, with web/staging moved to two-at-a-time and an e-mail trigger added.
const TOML: &str = r#"
[[deploymentConfigs]]
deploymentConfigName = "two-at-a-time"
minimumHealthyHosts = { type = "HOST_COUNT", value = 2 }

[[applications]]
applicationName = "web"
computePlatform = "Server"

[[applications.deploymentGroups]]
deploymentGroupName = "prod"
deploymentConfigName = "two-at-a-time"
serviceRoleArn = "arn:aws:iam::000000000000:role/cutover"
onPremisesInstanceTagFilters = [{ Key = "env", Value = "prod", Type = "KEY_AND_VALUE" }]
autoRollbackConfiguration = { enabled = true, events = ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"] }
alarmConfiguration = { enabled = true, alarms = [{ name = "web-errors" }] }
triggerConfigurations = [
  { triggerName = "chat", triggerTargetArn = "https://chat.example.com/hook", triggerEvents = ["DeploymentFailure", "DeploymentSuccess"] },
]

[[applications.deploymentGroups]]
deploymentGroupName = "staging"
deploymentConfigName = "two-at-a-time"
serviceRoleArn = "arn:aws:iam::000000000000:role/cutover"
onPremisesInstanceTagFilters = [{ Key = "env", Value = "staging", Type = "KEY_AND_VALUE" }]
triggerConfigurations = [
  { triggerName = "oncall", triggerTargetArn = "mailto:oncall@example.com", triggerEvents = ["DeploymentFailure"] },
]

[[applications]]
applicationName = "api"

[[applications.deploymentGroups]]
deploymentGroupName = "prod"
serviceRoleArn = "arn:aws:iam::000000000000:role/cutover"
onPremisesTagSet = { onPremisesTagSetList = [[{ Key = "role", Value = "api", Type = "KEY_AND_VALUE" }]] }
"#;

fn apply(cluster: &Cluster, endpoint: &str, file: &std::path::Path, extra: &[&str]) -> Output {
    Command::new(binary("cutover"))
        .env("AWS_SHARED_CREDENTIALS_FILE", cluster.credentials_file())
        .args(["--endpoint", endpoint, "apply", "-f"])
        .arg(file)
        .args(extra)
        .output()
        .expect("run cutover apply")
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// The operations a proxy saw (X-Amz-Target without its prefix).
fn operations(proxy: &FaultProxy) -> Vec<String> {
    proxy
        .seen()
        .iter()
        .filter_map(|seen| seen.header("x-amz-target"))
        .map(|target| target.rsplit('.').next().unwrap_or_default().to_owned())
        .collect()
}

async fn group(cluster: &Cluster, app: &str, name: &str) -> wire::DeploymentGroupInfo {
    let out: wire::GetDeploymentGroupOutput = cluster
        .client
        .call(Operation::GetDeploymentGroup, &serde_json::json!({"applicationName": app, "deploymentGroupName": name}))
        .await
        .expect("GetDeploymentGroup");
    out.deployment_group_info.expect("info")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_creates_updates_and_a_second_apply_changes_nothing() {
    let cluster = Cluster::start(ClusterOptions { agents: 1, ..Default::default() }).await;
    let yaml = cluster.dir.path().join("cutover.yml");
    std::fs::write(&yaml, YAML).expect("yaml");

    // --diff: the plan, and nothing written.
    let proxy = FaultProxy::start(&cluster.server.addr).await;
    let proxied = format!("http://{}", proxy.addr);
    let out = apply(&cluster, &proxied, &yaml, &["--diff"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        stdout,
        "+ deployment config two-at-a-time (create)\n\
         + application web (create)\n\
         + deployment group web/prod (create)\n\
         + deployment group web/staging (create)\n\
         + application api (create)\n\
         + deployment group api/prod (create)\n\
         Would create 6, update 0; 0 unchanged. Nothing was changed (--diff).\n"
    );
    assert!(operations(&proxy).iter().all(|op| op.starts_with("Get")), "{:?}", operations(&proxy));

    let out = apply(&cluster, &cluster.endpoint, &yaml, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).ends_with("Applied: 6 created, 0 updated, 0 unchanged.\n"));
    let prod = group(&cluster, "web", "prod").await;
    assert_eq!(prod.deployment_config_name.as_deref(), Some("two-at-a-time"));
    assert_eq!(prod.alarm_configuration.and_then(|alarms| alarms.enabled), Some(true));
    assert_eq!(prod.trigger_configurations.map(|triggers| triggers.len()), Some(1));
    let events = prod.auto_rollback_configuration.and_then(|rollback| rollback.events).unwrap_or_default();
    assert_eq!(events, ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"]);

    // Again: no changes, and no call that writes.
    let proxy = FaultProxy::start(&cluster.server.addr).await;
    let proxied = format!("http://{}", proxy.addr);
    let out = apply(&cluster, &proxied, &yaml, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).ends_with("No changes (6 unchanged).\n"), "{}", text(&out));
    let seen = operations(&proxy);
    assert!(!seen.is_empty() && seen.iter().all(|op| op.starts_with("Get")), "{seen:?}");

    // The TOML file moves web/staging and adds a trigger: one update, shown field by field.
    let toml = cluster.dir.path().join("cutover.toml");
    std::fs::write(&toml, TOML).expect("toml");
    let out = apply(&cluster, &cluster.endpoint, &toml, &["--diff"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(
            "~ deployment group web/staging (update)\n    deploymentConfigName: \"CodeDeployDefault.AllAtOnce\" -> \"two-at-a-time\"\n    triggerConfigurations: null -> [{"
        ),
        "{stdout}"
    );
    assert!(stdout.ends_with("Would create 0, update 1; 5 unchanged. Nothing was changed (--diff).\n"), "{stdout}");
    let out = apply(&cluster, &cluster.endpoint, &toml, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).ends_with("Applied: 0 created, 1 updated, 5 unchanged.\n"));
    let staging = group(&cluster, "web", "staging").await;
    assert_eq!(staging.deployment_config_name.as_deref(), Some("two-at-a-time"));
    let proxy = FaultProxy::start(&cluster.server.addr).await;
    let out = apply(&cluster, &format!("http://{}", proxy.addr), &toml, &[]);
    assert!(String::from_utf8_lossy(&out.stdout).ends_with("No changes (6 unchanged).\n"), "{}", text(&out));
    assert!(operations(&proxy).iter().all(|op| op.starts_with("Get")));

    // A configuration cannot change: an error before anything is written.
    let changed = cluster.dir.path().join("changed.yml");
    std::fs::write(&changed, YAML.replace("value: 2}", "value: 1}").replace("staging, Type", "qa, Type"))
        .expect("changed");
    let proxy = FaultProxy::start(&cluster.server.addr).await;
    let out = apply(&cluster, &format!("http://{}", proxy.addr), &changed, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).lines().take(2).collect::<Vec<_>>(),
        [
            "Error: nothing was changed:",
            "deployment config two-at-a-time exists with a different minimumHealthyHosts; configurations cannot be \
             changed: give the new one another name (and point the groups at it)",
        ]
    );
    assert!(operations(&proxy).iter().all(|op| op.starts_with("Get")));

    // A typo is named by its path, and nothing is read or written.
    let typo = cluster.dir.path().join("typo.yml");
    std::fs::write(&typo, YAML.replace("triggerEvents:", "triggerEvent:")).expect("typo");
    let out = apply(&cluster, &cluster.endpoint, &typo, &[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "{}: applications[0].deploymentGroups[0].triggerConfigurations[0].triggerEvent: unknown field",
            typo.display()
        )),
        "{stderr}"
    );
}
