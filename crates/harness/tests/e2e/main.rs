//! End-to-end tests: a real server and real agents, started by `cutover_harness::Cluster`, deploying real bundles.
//!
//! One test binary (`mod` per area), as cargo, jj and garage do.

mod agent_features;
mod alarms;
mod apply;
mod autoupdate;
mod cli;
mod compat_doc;
mod compat_python;
mod compat_sdk;
mod console;
mod containers;
mod crash;
mod deploy;
mod faults;
mod functions;
mod git;
mod hook_isolation;
mod hostile;
mod install;
mod local;
mod logs;
mod metrics;
mod packaging;
mod plan;
mod replicas;
mod rollback;
mod s3;
mod s3_store;
mod safety;
mod scripts;
mod security;
mod traffic;
mod triggers;
mod zonal;

use std::time::Duration;

/// Generous bound for a whole small deployment; tests finish far faster, this only stops a hang.
pub(crate) const DEPLOY_TIMEOUT: Duration = Duration::from_secs(60);

pub(crate) fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// A hook script that appends `<event> <deployment id>` to the host's evidence file.
pub(crate) const RECORD_HOOK: &str = r#"echo "$LIFECYCLE_EVENT $DEPLOYMENT_ID" >> "$CUTOVER_TEST_HOST_DIR/hooks.log""#;

pub(crate) fn appspec_all_hooks(files: &str, extra: &str) -> String {
    let mut res = format!("version: 0.0\nos: linux\n{files}{extra}hooks:\n");
    for event in ["ApplicationStop", "BeforeInstall", "AfterInstall", "ApplicationStart", "ValidateService"] {
        res.push_str(&format!("  {event}:\n    - location: scripts/record.sh\n      timeout: 60\n"));
    }
    res
}

/// Lines of a host's evidence file.
pub(crate) fn hook_lines(agent: &cutover_harness::AgentProc) -> Vec<String> {
    std::fs::read_to_string(agent.host_dir.join("hooks.log")).unwrap_or_default().lines().map(str::to_owned).collect()
}

/// Registers an on-premises instance tagged `env=test` through the API, with no agent behind it: a deployment
/// dispatches it and it never picks anything up, so it is a host that runs no event, for as long as a test needs.
pub(crate) async fn register_without_agent(cluster: &cutover_harness::Cluster, name: &str) {
    use cutover_api_types::codedeploy::Operation;
    let arn = format!("arn:aws:sts::123456789012:assumed-role/codedeploy/{name}");
    let _: serde_json::Value = cluster
        .client
        .call(Operation::RegisterOnPremisesInstance, &serde_json::json!({"instanceName": name, "iamSessionArn": arn}))
        .await
        .expect("RegisterOnPremisesInstance");
    let _: serde_json::Value = cluster
        .client
        .call(
            Operation::AddTagsToOnPremisesInstances,
            &serde_json::json!({"instanceNames": [name], "tags": [{"Key": "env", "Value": "test"}]}),
        )
        .await
        .expect("AddTagsToOnPremisesInstances");
}
