//! The `OnFailure` hook (a Cutover extension): run right after an event fails on the host, from the current revision
//! (else the last successful install), with `FAILED_LIFECYCLE_EVENT`, its output appended to the failed event's log,
//! and never changing the failed event's diagnostics.

mod common;

use std::path::Path;

use common::{Bundle, Deployment, executor};

const ON_FAILURE_SCRIPT: &str = "echo \"$LIFECYCLE_EVENT $FAILED_LIFECYCLE_EVENT $DEPLOYMENT_ID\" >> \"$EVIDENCE\"\n\
                                 echo \"cleaning up after $FAILED_LIFECYCLE_EVENT\"";

/// A revision whose AfterInstall exits with `after_install_exit`, with the given OnFailure scripts (YAML list).
fn revision(evidence: &Path, after_install_exit: i32, on_failure: &str, extra_scripts: &[(&str, &str)]) -> Bundle {
    let appspec = format!(
        "version: 0.0\nos: linux\nhooks:\n  AfterInstall:\n    - location: after.sh\n      timeout: 30\n  \
         OnFailure:\n{on_failure}"
    );
    let mut bundle = Bundle::new()
        .file("appspec.yml", &appspec, 0o644)
        .script("after.sh", &format!("echo 'migrating'\necho 'migration failed' >&2\nexit {after_install_exit}"))
        .script("on-failure.sh", &ON_FAILURE_SCRIPT.replace("$EVIDENCE", &evidence.display().to_string()));
    for (path, body) in extra_scripts {
        bundle = bundle.script(path, body);
    }
    bundle
}

const ON_FAILURE: &str = "    - location: on-failure.sh\n      timeout: 30\n";

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path).unwrap_or_default().lines().map(str::to_owned).collect()
}

#[tokio::test]
async fn a_failing_after_install_runs_on_failure_and_keeps_its_own_diagnostics() {
    let dir = tempfile::tempdir().expect("tempdir");
    let evidence = dir.path().join("on-failure.log");
    let executor = executor(&dir.path().join("root"));
    let deployment =
        Deployment::new(&executor, dir.path(), "d-fail", &revision(&evidence, 3, ON_FAILURE, &[]).tgz(), "tgz");
    deployment.run_ok(&["DownloadBundle", "BeforeInstall", "Install"]).await;
    assert!(lines(&evidence).is_empty(), "OnFailure ran although nothing failed");

    let outcome = deployment.run("AfterInstall").await;
    assert_eq!(outcome.status(), "Failed");
    assert_eq!(outcome.diagnostics.error_code, "ScriptFailed");
    assert_eq!(outcome.diagnostics.script_name, "after.sh");
    assert_eq!(outcome.diagnostics.message, "Script at specified location: after.sh failed with exit code 3");
    let failure_line = "[agent] AfterInstall failed: Script at specified location: after.sh failed with exit code 3\n";
    assert!(outcome.diagnostics.log_tail.ends_with(failure_line), "{}", outcome.diagnostics.log_tail);
    assert!(!outcome.diagnostics.log_tail.contains("OnFailure"), "{}", outcome.diagnostics.log_tail);

    assert_eq!(lines(&evidence), ["OnFailure AfterInstall d-fail"]);
    // Appended to the failed event's log, after the failure; kept in scripts.log too.
    let failed_at = outcome.log.find(failure_line).expect("failure line");
    let hook_at = outcome.log.find("LifecycleEvent - OnFailure").expect("OnFailure section");
    assert!(failed_at < hook_at, "{}", outcome.log);
    assert!(outcome.log.contains("[stdout]cleaning up after AfterInstall"), "{}", outcome.log);
    assert!(outcome.log.contains("[agent] The OnFailure hook succeeded"), "{}", outcome.log);
    let scripts_log = std::fs::read_to_string(deployment.dir().join("logs/scripts.log")).expect("scripts.log");
    assert!(scripts_log.contains("[stdout]cleaning up after AfterInstall"), "{scripts_log}");

    // A command for OnFailure itself is no deployment step.
    let outcome = deployment.run("OnFailure").await;
    assert!(outcome.succeeded, "{:#?}", outcome.diagnostics);
    assert_eq!(lines(&evidence).len(), 1, "OnFailure ran as a command");
}

#[tokio::test]
async fn an_on_failure_script_that_fails_or_times_out_is_only_noted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let evidence = dir.path().join("on-failure.log");
    let executor = executor(&dir.path().join("root"));
    let on_failure = "    - location: broken.sh\n      timeout: 30\n    - location: on-failure.sh\n      timeout: 30\n";
    let bundle = revision(&evidence, 4, on_failure, &[("broken.sh", "echo 'cannot clean up' >&2\nexit 9")]);
    let deployment = Deployment::new(&executor, dir.path(), "d-broken", &bundle.tgz(), "tgz");
    deployment.run_ok(&["DownloadBundle", "Install"]).await;
    let outcome = deployment.run("AfterInstall").await;
    assert_eq!(outcome.status(), "Failed");
    assert_eq!(outcome.diagnostics.error_code, "ScriptFailed");
    assert_eq!(outcome.diagnostics.script_name, "after.sh");
    assert_eq!(outcome.diagnostics.message, "Script at specified location: after.sh failed with exit code 4");
    assert!(outcome.log.contains("[stderr]cannot clean up"), "{}", outcome.log);
    assert!(
        outcome.log.contains(
            "[agent] The OnFailure hook failed: Script at specified location: broken.sh failed with exit code 9; the \
             failure of AfterInstall is reported unchanged"
        ),
        "{}",
        outcome.log
    );
    assert!(lines(&evidence).is_empty(), "the first failing OnFailure script stops the hook");

    // Its own timeout is honoured: the hung script is killed and the event reports the original failure.
    let on_failure = "    - location: hang.sh\n      timeout: 1\n";
    let bundle = revision(&evidence, 5, on_failure, &[("hang.sh", "exec sleep 300")]);
    let deployment = Deployment::new(&executor, dir.path(), "d-hang", &bundle.tgz(), "tgz");
    deployment.run_ok(&["DownloadBundle"]).await;
    let started = std::time::Instant::now();
    let outcome = deployment.run("AfterInstall").await;
    assert!(started.elapsed() < std::time::Duration::from_secs(20), "{:?}", started.elapsed());
    assert_eq!(outcome.diagnostics.error_code, "ScriptFailed");
    assert_eq!(outcome.diagnostics.message, "Script at specified location: after.sh failed with exit code 5");
    assert!(
        outcome.log.contains(
            "The OnFailure hook failed: Script at specified location: hang.sh failed to complete in 1 seconds"
        ),
        "{}",
        outcome.log
    );
}

#[tokio::test]
async fn a_failed_download_runs_the_on_failure_hook_of_the_last_successful_install_if_any() {
    let dir = tempfile::tempdir().expect("tempdir");
    let evidence = dir.path().join("on-failure.log");
    let executor = executor(&dir.path().join("root"));

    // No revision on the host yet: a failed DownloadBundle has no OnFailure scripts to run.
    let mut broken =
        Deployment::new(&executor, dir.path(), "d-broken", &revision(&evidence, 0, ON_FAILURE, &[]).tgz(), "tgz");
    broken.sha256 = "0".repeat(64);
    let outcome = broken.run("DownloadBundle").await;
    assert!(!outcome.succeeded);
    assert!(!outcome.log.contains("OnFailure"), "{}", outcome.log);
    assert!(lines(&evidence).is_empty());

    let good = Deployment::new(&executor, dir.path(), "d-good", &revision(&evidence, 0, ON_FAILURE, &[]).tgz(), "tgz");
    good.run_ok(&common::IN_PLACE).await;
    assert!(lines(&evidence).is_empty());

    // Now the current revision never arrives; the last successful install's OnFailure runs.
    let outcome = broken.run("DownloadBundle").await;
    assert!(!outcome.succeeded);
    assert_eq!(outcome.diagnostics.error_code, "UnknownError");
    assert!(outcome.diagnostics.message.contains("SHA-256"), "{}", outcome.diagnostics.message);
    assert_eq!(lines(&evidence), ["OnFailure DownloadBundle d-broken"]);
    assert!(outcome.log.contains("[stdout]cleaning up after DownloadBundle"), "{}", outcome.log);
    assert!(
        outcome.log.contains(&format!("running the OnFailure hook of {}", good.archive().display())),
        "{}",
        outcome.log
    );
}
