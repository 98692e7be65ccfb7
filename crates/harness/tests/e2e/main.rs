//! End-to-end tests: a real server and real agents, started by `cutover_harness::Cluster`, deploying real bundles.
//!
//! One test binary (`mod` per area), as cargo, jj and garage do.

mod agent_features;
mod alarms;
mod autoupdate;
mod cli;
mod compat_doc;
mod compat_python;
mod compat_sdk;
mod console;
mod crash;
mod deploy;
mod faults;
mod git;
mod hostile;
mod install;
mod replicas;
mod rollback;
mod s3;
mod safety;
mod scripts;
mod security;
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
