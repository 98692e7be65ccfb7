//! Hook scripts through `Executor::run_event`: environment, event order and script source, missing and
//! non-executable scripts, failures with their log tail, timeouts that kill the whole process tree (also what left
//! the process group with `setsid`, never an earlier hook's daemon), scripts that leave a background child holding
//! stdout, and `runas`.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use common::{Bundle, Deployment, IN_PLACE, KillOnDrop, executor, is_gone, is_root, open_tempdir, wait_for};
use nix::errno::Errno;
use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;

/// An AppSpec whose five script events all run `scripts/record.sh`.
fn appspec_all_hooks() -> String {
    let mut appspec = String::from("version: 0.0\nos: linux\nhooks:\n");
    for event in ["ApplicationStop", "BeforeInstall", "AfterInstall", "ApplicationStart", "ValidateService"] {
        appspec.push_str(&format!("  {event}:\n    - location: scripts/record.sh\n      timeout: 60\n"));
    }
    appspec
}

fn recording_bundle(evidence: &Path, version: &str) -> Bundle {
    let script = format!(
        "echo \"$LIFECYCLE_EVENT $DEPLOYMENT_ID {version}\" >> {log}\n\
         env | grep -E '^(LIFECYCLE_EVENT|DEPLOYMENT_ID|APPLICATION_NAME|DEPLOYMENT_GROUP_NAME|DEPLOYMENT_GROUP_ID|BUNDLE_[A-Z]+|AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|AWS_CREDENTIAL_FILE)=' | sort > {dir}/env-$LIFECYCLE_EVENT\n\
         echo \"hello from $LIFECYCLE_EVENT\"",
        log = evidence.join("hooks.log").display(),
        dir = evidence.display(),
    );
    Bundle::new().file("appspec.yml", &appspec_all_hooks(), 0o644).script("scripts/record.sh", &script)
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path).unwrap_or_default().lines().map(str::to_owned).collect()
}

#[tokio::test]
async fn hooks_run_in_order_with_codedeploy_environment_and_stop_uses_the_previous_revision() {
    // The agent drops these before running scripts. Set before any other thread exists (current-thread runtime;
    // nextest runs each test in its own process).
    #[allow(unsafe_code)]
    // SAFETY: no other thread of this process reads or writes the environment at this point.
    unsafe {
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "must-not-leak");
        std::env::set_var("AWS_ACCESS_KEY_ID", "must-not-leak");
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let evidence = dir.path().join("evidence");
    std::fs::create_dir(&evidence).expect("evidence");
    let executor = executor(&dir.path().join("root"));

    let first = Deployment::new(&executor, dir.path(), "d-first", &recording_bundle(&evidence, "v1").tgz(), "tgz");
    first.run_ok(&IN_PLACE).await;
    let expected: Vec<String> = ["BeforeInstall", "AfterInstall", "ApplicationStart", "ValidateService"]
        .iter()
        .map(|event| format!("{event} d-first v1"))
        .collect();
    assert_eq!(lines(&evidence.join("hooks.log")), expected, "ApplicationStop is a no-op on the first deployment");

    let env = std::fs::read_to_string(evidence.join("env-AfterInstall")).expect("env");
    assert_eq!(
        env,
        format!(
            "APPLICATION_NAME=app\nBUNDLE_BUCKET=bucket\nBUNDLE_ETAG=etag-1\nBUNDLE_KEY=app/v1.tgz\n\
             DEPLOYMENT_GROUP_ID={}\nDEPLOYMENT_GROUP_NAME=group\nDEPLOYMENT_ID=d-first\nLIFECYCLE_EVENT=AfterInstall\n",
            common::GROUP_ID
        ),
        "hook variables, no BUNDLE_VERSION (unknown), no AWS credentials"
    );

    // scripts.log in CodeDeploy's format.
    let scripts_log = std::fs::read_to_string(first.dir().join("logs/scripts.log")).expect("scripts.log");
    let log_lines: Vec<&str> = scripts_log.lines().collect();
    assert!(log_lines.len() >= 12, "{scripts_log}");
    for line in &log_lines {
        let (stamp, _) = line.split_at(19);
        assert!(stamp.as_bytes()[4] == b'-' && stamp.as_bytes()[10] == b' ' && stamp.as_bytes()[13] == b':', "{line}");
    }
    assert_eq!(&log_lines[0][20..], "LifecycleEvent - BeforeInstall");
    assert_eq!(&log_lines[1][20..], "Script - scripts/record.sh");
    assert_eq!(&log_lines[2][20..], "[stdout]hello from BeforeInstall");

    // The second deployment's ApplicationStop runs the first revision's script.
    let second = Deployment::new(&executor, dir.path(), "d-second", &recording_bundle(&evidence, "v2").tgz(), "tgz");
    second.run_ok(&IN_PLACE).await;
    let all = lines(&evidence.join("hooks.log"));
    assert_eq!(all.len(), 9);
    assert_eq!(all[4], "ApplicationStop d-second v1");
    assert_eq!(all[5], "BeforeInstall d-second v2");
    assert_eq!(all[8], "ValidateService d-second v2");
}

#[tokio::test]
async fn events_without_scripts_and_unknown_events_succeed_as_no_ops() {
    let dir = tempfile::tempdir().expect("tempdir");
    let executor = executor(&dir.path().join("root"));
    let bundle = Bundle::new().file("appspec.yml", "version: 0.0\nos: linux\n", 0o644);
    let deployment = Deployment::new(&executor, dir.path(), "d-noop", &bundle.tgz(), "tgz");
    deployment.run_ok(&["DownloadBundle", "BeforeInstall", "BlockTraffic", "AllowTraffic", "SomethingNew"]).await;
    let outcome = deployment.run("ValidateService").await;
    assert_eq!(outcome.diagnostics.error_code, "Success");
    assert_eq!(outcome.diagnostics.message, "Succeeded");
    assert!(!deployment.dir().join("logs/scripts.log").exists(), "no script ran, so nothing was logged");
}

fn single_hook(event: &str, location: &str, timeout: u64, extra: &str) -> String {
    format!(
        "version: 0.0\nos: linux\nhooks:\n  {event}:\n    - location: {location}\n      timeout: {timeout}\n{extra}"
    )
}

#[tokio::test]
async fn a_missing_script_is_script_missing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let executor = executor(&dir.path().join("root"));
    let bundle = Bundle::new().file("appspec.yml", &single_hook("BeforeInstall", "scripts/nope.sh", 10, ""), 0o644);
    let deployment = Deployment::new(&executor, dir.path(), "d-missing", &bundle.tgz(), "tgz");
    deployment.run_ok(&["DownloadBundle"]).await;
    let outcome = deployment.run("BeforeInstall").await;
    assert!(!outcome.succeeded);
    assert_eq!(outcome.diagnostics.error_code, "ScriptMissing");
    assert_eq!(outcome.diagnostics.script_name, "scripts/nope.sh");
    assert_eq!(
        outcome.diagnostics.message,
        format!(
            "Script does not exist at specified location: {}",
            deployment.archive().join("scripts/nope.sh").display()
        )
    );
}

#[tokio::test]
async fn a_script_without_execute_bits_is_made_executable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let executor = executor(&dir.path().join("root"));
    let bundle = Bundle::new().file("appspec.yml", &single_hook("AfterInstall", "run.sh", 10, ""), 0o644).file(
        "run.sh",
        "#!/bin/sh\necho ran\n",
        0o644,
    );
    let deployment = Deployment::new(&executor, dir.path(), "d-chmod", &bundle.tgz(), "tgz");
    deployment.run_ok(&["DownloadBundle"]).await;
    let outcome = deployment.run("AfterInstall").await;
    assert!(outcome.succeeded, "{:#?}", outcome.diagnostics);
    assert!(outcome.log.contains("[stdout]ran"), "{}", outcome.log);
    let mode = std::fs::metadata(deployment.archive().join("run.sh")).expect("run.sh").permissions().mode();
    assert_eq!(mode & 0o111, 0o111);
}

#[tokio::test]
async fn a_failing_script_reports_its_exit_code_and_log_tail_and_stops_the_event() {
    let dir = tempfile::tempdir().expect("tempdir");
    let executor = executor(&dir.path().join("root"));
    let marker = dir.path().join("second-ran");
    let appspec = "version: 0.0\nos: linux\nhooks:\n  ValidateService:\n    - location: scripts/fail.sh\n      timeout: 30\n    - location: scripts/second.sh\n      timeout: 30\n";
    let noise: String = (0..200).map(|i| format!("echo noise line {i}\n")).collect();
    let bundle = Bundle::new()
        .file("appspec.yml", appspec, 0o644)
        .script("scripts/fail.sh", &format!("{noise}echo checking service\necho 'validation failed' >&2\nexit 7"))
        .script("scripts/second.sh", &format!("touch {}", marker.display()));
    let deployment = Deployment::new(&executor, dir.path(), "d-fail", &bundle.tgz(), "tgz");
    deployment.run_ok(&["DownloadBundle"]).await;
    let outcome = deployment.run("ValidateService").await;
    assert!(!outcome.succeeded);
    assert_eq!(outcome.status(), "Failed");
    assert_eq!(outcome.diagnostics.error_code, "ScriptFailed");
    assert_eq!(outcome.diagnostics.script_name, "scripts/fail.sh");
    assert_eq!(outcome.diagnostics.message, "Script at specified location: scripts/fail.sh failed with exit code 7");
    let tail = &outcome.diagnostics.log_tail;
    assert!(tail.len() <= 4096, "{}", tail.len());
    assert!(tail.contains("[stdout]checking service") && tail.contains("[stderr]validation failed"), "{tail}");
    assert!(!tail.contains("noise line 0\n"), "the tail is the end of the log");
    assert!(outcome.log.contains("[stdout]noise line 0\n") && outcome.log.contains("[stderr]validation failed"));
    assert!(!marker.exists(), "the first failure stops the event");
}

/// Polls until no process is left in group `pgid` (zombies count as alive until their parent reaps them).
async fn wait_group_gone(pgid: i32, within: Duration) {
    wait_for("the script's process group to be gone", within, || async move {
        (killpg(Pid::from_raw(pgid), None) == Err(Errno::ESRCH)).then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_timed_out_script_and_its_background_child_are_killed_quickly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let executor = executor(&dir.path().join("root"));
    let pids = dir.path().join("pids");
    // The background child inherits stdout and would outlive the script: the classic cause of hanging hooks.
    let script =
        format!("echo $$ > {pids}\nsleep 300 &\necho $! >> {pids}\necho started\nsleep 300", pids = pids.display());
    let bundle = Bundle::new()
        .file("appspec.yml", &single_hook("ApplicationStart", "hang.sh", 1, ""), 0o644)
        .script("hang.sh", &script);
    let deployment = Deployment::new(&executor, dir.path(), "d-timeout", &bundle.tgz(), "tgz");
    deployment.run_ok(&["DownloadBundle"]).await;
    let started = Instant::now();
    let outcome = deployment.run("ApplicationStart").await;
    let elapsed = started.elapsed();
    assert_eq!(outcome.diagnostics.error_code, "ScriptTimedOut", "{:#?}", outcome.diagnostics);
    assert_eq!(outcome.diagnostics.message, "Script at specified location: hang.sh failed to complete in 1 seconds");
    assert_eq!(outcome.diagnostics.script_name, "hang.sh");
    assert!(outcome.diagnostics.log_tail.contains("[stdout]started"), "{}", outcome.diagnostics.log_tail);
    // Timeout 1 s + kill grace 0.3 s + a generous margin, far below the 300 s the processes would live.
    assert!(elapsed < Duration::from_secs(4), "took {elapsed:?}");
    let pids: Vec<i32> = lines(&pids).iter().map(|line| line.trim().parse().expect("pid")).collect();
    assert_eq!(pids.len(), 2);
    // The script was its own process group leader.
    wait_group_gone(pids[0], Duration::from_secs(10)).await;
    assert_eq!(kill(Pid::from_raw(pids[1]), None), Err(Errno::ESRCH));
}

#[tokio::test]
async fn a_script_that_exits_while_a_child_holds_stdout_succeeds_quickly_and_the_child_survives() {
    let dir = tempfile::tempdir().expect("tempdir");
    let executor = executor(&dir.path().join("root"));
    let pid_file = dir.path().join("daemon.pid");
    let script = format!("sleep 300 &\necho $! > {}\necho daemon started", pid_file.display());
    let bundle = Bundle::new()
        .file("appspec.yml", &single_hook("ApplicationStart", "start.sh", 60, ""), 0o644)
        .script("start.sh", &script);
    let deployment = Deployment::new(&executor, dir.path(), "d-daemon", &bundle.tgz(), "tgz");
    deployment.run_ok(&["DownloadBundle"]).await;
    let started = Instant::now();
    let outcome = deployment.run("ApplicationStart").await;
    let elapsed = started.elapsed();
    assert!(outcome.succeeded, "{:#?}", outcome.diagnostics);
    // The drain window is 1 s; nowhere near the 60 s timeout or the daemon's 300 s.
    assert!(elapsed < Duration::from_secs(4), "took {elapsed:?}");
    assert!(outcome.log.contains("[stdout]daemon started"), "{}", outcome.log);
    assert!(outcome.log.contains("still holds its stdout/stderr open"), "{}", outcome.log);
    let pid: i32 = std::fs::read_to_string(&pid_file).expect("pid").trim().parse().expect("pid");
    assert_eq!(kill(Pid::from_raw(pid), None), Ok(()), "the daemon started by the hook must survive");
    let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
}

#[tokio::test]
async fn runas_switches_user_and_groups_without_su() {
    if !is_root() {
        // Switching users needs root; the harness's e2e tests cover the same path when run as root.
        return;
    }
    let dir = open_tempdir();
    let evidence = dir.path().join("evidence");
    std::fs::create_dir(&evidence).expect("evidence");
    std::fs::set_permissions(&evidence, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    let executor = executor(&dir.path().join("root"));
    let script = format!(
        "id -u > {dir}/uid\nid -G > {dir}/groups\necho \"$HOME $USER $LOGNAME\" > {dir}/env",
        dir = evidence.display()
    );
    let bundle = Bundle::new()
        .file("appspec.yml", &single_hook("AfterInstall", "who.sh", 10, "      runas: nobody\n"), 0o644)
        .script("who.sh", &script);
    let deployment = Deployment::new(&executor, dir.path(), "d-runas", &bundle.tgz(), "tgz");
    deployment.run_ok(&["DownloadBundle"]).await;
    let outcome = deployment.run("AfterInstall").await;
    assert!(outcome.succeeded, "{:#?}\n{}", outcome.diagnostics, outcome.log);
    assert_eq!(std::fs::read_to_string(evidence.join("uid")).expect("uid").trim(), "65534");
    let nobody = nix::unistd::User::from_name("nobody").expect("lookup").expect("nobody");
    let groups = std::fs::read_to_string(evidence.join("groups")).expect("groups");
    assert_eq!(groups.trim(), nobody.gid.to_string(), "root's supplementary groups are dropped");
    let env = std::fs::read_to_string(evidence.join("env")).expect("env");
    assert_eq!(env.trim(), format!("{} nobody nobody", nobody.dir.display()));

    // A failing runas script names the user in its message.
    let bundle = Bundle::new()
        .file("appspec.yml", &single_hook("AfterInstall", "fail.sh", 10, "      runas: nobody\n"), 0o644)
        .script("fail.sh", "exit 3");
    let deployment = Deployment::new(&executor, dir.path(), "d-runas-fail", &bundle.tgz(), "tgz");
    deployment.run_ok(&["DownloadBundle"]).await;
    let outcome = deployment.run("AfterInstall").await;
    assert_eq!(
        outcome.diagnostics.message,
        "Script at specified location: fail.sh run as user nobody failed with exit code 3"
    );
}

#[tokio::test]
async fn a_timed_out_script_that_ignores_sigterm_is_killed_after_the_grace() {
    let dir = tempfile::tempdir().expect("tempdir");
    let executor = executor(&dir.path().join("root"));
    let pids = dir.path().join("pids");
    // Ignored signals are inherited across exec: neither the shell nor its children die on SIGTERM.
    let script = format!("trap '' TERM\necho $$ > {pids}\nsleep 300 &\nsleep 300", pids = pids.display());
    let bundle = Bundle::new()
        .file("appspec.yml", &single_hook("ValidateService", "stubborn.sh", 1, ""), 0o644)
        .script("stubborn.sh", &script);
    let deployment = Deployment::new(&executor, dir.path(), "d-stubborn", &bundle.tgz(), "tgz");
    deployment.run_ok(&["DownloadBundle"]).await;
    let started = Instant::now();
    let outcome = deployment.run("ValidateService").await;
    let elapsed = started.elapsed();
    assert_eq!(outcome.diagnostics.error_code, "ScriptTimedOut", "{:#?}", outcome.diagnostics);
    assert!(outcome.log.contains("sending SIGKILL"), "{}", outcome.log);
    assert!(elapsed >= Duration::from_millis(1300), "SIGKILL comes only after the grace: {elapsed:?}");
    assert!(elapsed < Duration::from_secs(4), "took {elapsed:?}");
    let pgid: i32 = std::fs::read_to_string(&pids).expect("pid").trim().parse().expect("pid");
    wait_group_gone(pgid, Duration::from_secs(10)).await;
}

#[tokio::test]
async fn a_timeout_kills_descendants_that_escaped_with_setsid_and_ignore_sigterm_but_not_earlier_daemons() {
    let dir = tempfile::tempdir().expect("tempdir");
    let executor = executor(&dir.path().join("root"));
    let daemon_file = dir.path().join("daemon.pid");
    let pids = dir.path().join("pids");
    let appspec = "version: 0.0\nos: linux\nhooks:\n  ApplicationStart:\n    - location: start.sh\n      timeout: 30\n  \
                   ValidateService:\n    - location: stubborn.sh\n      timeout: 1\n";
    // An earlier hook's daemon: not a descendant of the script that times out later, so it must survive.
    let start = format!("sleep 1000 > /dev/null 2>&1 < /dev/null &\necho $! > {}", daemon_file.display());
    // Ignored signals are inherited across fork and exec. `setsid sleep` leaves the script's process group (and
    // session) but keeps stdout open; the foreground `sh -c` records its own pid, then becomes `sleep`.
    let stubborn = format!(
        "trap '' TERM\necho $$ > {pids}\nsetsid sleep 1000 &\necho $! >> {pids}\necho started\n\
         sh -c 'echo $$ >> {pids}; exec sleep 1000'",
        pids = pids.display()
    );
    let bundle =
        Bundle::new().file("appspec.yml", appspec, 0o644).script("start.sh", &start).script("stubborn.sh", &stubborn);
    let deployment = Deployment::new(&executor, dir.path(), "d-escape", &bundle.tgz(), "tgz");
    deployment.run_ok(&["DownloadBundle", "ApplicationStart"]).await;
    let daemon: i32 = std::fs::read_to_string(&daemon_file).expect("daemon pid").trim().parse().expect("pid");
    let _daemon = KillOnDrop(vec![daemon]);

    let started = Instant::now();
    let outcome = deployment.run("ValidateService").await;
    let elapsed = started.elapsed();
    let recorded: Vec<i32> = lines(&pids).iter().map(|line| line.trim().parse().expect("pid")).collect();
    let _recorded = KillOnDrop(recorded.clone());
    assert_eq!(outcome.diagnostics.error_code, "ScriptTimedOut", "{:#?}", outcome.diagnostics);
    assert_eq!(
        outcome.diagnostics.message,
        "Script at specified location: stubborn.sh failed to complete in 1 seconds"
    );
    assert!(outcome.log.contains("[stdout]started"), "{}", outcome.log);
    assert!(outcome.log.contains("sending SIGKILL"), "{}", outcome.log);
    // Timeout 1 s + kill grace 0.3 s + a margin; the escaped `sleep` holding stdout does not extend the event.
    assert!(elapsed >= Duration::from_millis(1300), "SIGKILL comes only after the grace: {elapsed:?}");
    assert!(elapsed < Duration::from_secs(4), "took {elapsed:?}");

    assert_eq!(recorded.len(), 3, "script, setsid child, foreground child: {recorded:?}");
    wait_for("every process of the timed-out script to be gone", Duration::from_secs(10), || {
        let recorded = recorded.clone();
        async move { recorded.iter().all(|pid| is_gone(*pid)).then_some(()) }
    })
    .await;
    assert!(!is_gone(daemon), "the daemon of an earlier hook must survive another script's timeout");
}

/// The variables a hook started with (its `/proc/<pid>/environ`), by name.
fn environ(path: &Path) -> std::collections::BTreeMap<String, String> {
    std::fs::read(path)
        .expect("environ")
        .split(|b| *b == 0)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            let entry = String::from_utf8_lossy(entry);
            let (name, value) = entry.split_once('=').expect("NAME=value");
            (name.to_owned(), value.to_owned())
        })
        .collect()
}

#[tokio::test]
async fn hooks_get_only_the_documented_environment_in_a_session_of_their_own() {
    // Before any other thread exists (current-thread runtime; nextest runs each test in its own process).
    #[allow(unsafe_code)]
    // SAFETY: no other thread of this process reads or writes the environment at this point.
    unsafe {
        std::env::set_var("CUTOVER_AGENT_SECRET", "must-not-leak");
        std::env::set_var("AWS_SESSION_TOKEN", "must-not-leak");
        std::env::set_var("PASSED_ON", "by the operator");
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let evidence = dir.path().join("evidence");
    std::fs::create_dir(&evidence).expect("evidence");
    let options = cutover_agent::ExecutorOptions {
        hook_env: vec![("PASSED_ON".to_owned(), "by the operator".to_owned()), ("PATH".to_owned(), "/bin".to_owned())],
        ..Default::default()
    };
    let executor = common::executor_with(&dir.path().join("root"), options);
    // `/proc/$$/environ` is what the agent passed, before the shell adds anything (PWD, SHLVL).
    let script = format!(
        "cp /proc/$$/environ {dir}/environ\nsed 's/.*) //' /proc/$$/stat | cut -d' ' -f3-5 > {dir}/stat\necho $$ > {dir}/pid",
        dir = evidence.display()
    );
    let bundle = Bundle::new()
        .file("appspec.yml", &single_hook("AfterInstall", "env.sh", 10, ""), 0o644)
        .script("env.sh", &script);
    let deployment = Deployment::new(&executor, dir.path(), "d-env", &bundle.tgz(), "tgz");
    deployment.run_ok(&["DownloadBundle", "AfterInstall"]).await;

    let env = environ(&evidence.join("environ"));
    let me = nix::unistd::User::from_uid(nix::unistd::getuid()).expect("lookup").expect("user");
    let expected: std::collections::BTreeMap<String, String> = [
        ("APPLICATION_NAME", "app"),
        ("BUNDLE_BUCKET", "bucket"),
        ("BUNDLE_ETAG", "etag-1"),
        ("BUNDLE_KEY", "app/v1.tgz"),
        ("DEPLOYMENT_GROUP_ID", common::GROUP_ID),
        ("DEPLOYMENT_GROUP_NAME", "group"),
        ("DEPLOYMENT_ID", "d-env"),
        ("HOME", &me.dir.display().to_string()),
        ("LANG", "C.UTF-8"),
        ("LIFECYCLE_EVENT", "AfterInstall"),
        ("LOGNAME", &me.name),
        ("PASSED_ON", "by the operator"),
        // Passed-through variables override the base ones (the operator's choice).
        ("PATH", "/bin"),
        ("SHELL", &me.shell.display().to_string()),
        ("USER", &me.name),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value.to_owned()))
    .collect();
    assert_eq!(env, expected, "nothing of the agent's own environment reaches the hook");

    // A new session: the script leads its session and its process group, and has no controlling terminal.
    let pid = std::fs::read_to_string(evidence.join("pid")).expect("pid").trim().to_owned();
    let stat = std::fs::read_to_string(evidence.join("stat")).expect("stat");
    assert_eq!(stat.trim(), format!("{pid} {pid} 0"), "pgrp, session, tty_nr");
}

#[tokio::test]
async fn add_mask_hides_a_secret_from_every_later_line_of_the_deployment() {
    let dir = tempfile::tempdir().expect("tempdir");
    let executor = executor(&dir.path().join("root"));
    let appspec = "version: 0.0\nos: linux\nhooks:\n  AfterInstall:\n    - location: mask.sh\n  ValidateService:\n    - location: leak.sh\n";
    let bundle = Bundle::new()
        .file("appspec.yml", appspec, 0o644)
        .script(
            "mask.sh",
            "echo 'early hunter2'\necho '::add-mask::hunter2'\necho 'token=hunter2'\necho 'hunter2 on stderr' >&2",
        )
        .script("leak.sh", "echo \"still hunter2\"\nexit 3");
    let deployment = Deployment::new(&executor, dir.path(), "d-mask", &bundle.tgz(), "tgz");
    deployment.run_ok(&["DownloadBundle"]).await;
    let outcome = deployment.run("AfterInstall").await;
    assert!(outcome.succeeded, "{:#?}", outcome.diagnostics);
    let lines: Vec<&str> = outcome.log.lines().map(|line| &line[20..]).collect();
    assert_eq!(
        lines,
        [
            "LifecycleEvent - AfterInstall",
            "Script - mask.sh",
            "[stdout]early hunter2",
            "[stdout]token=***",
            "[stderr]*** on stderr"
        ]
    );
    // A later event of the same deployment: the log sent to the server and its diagnostics.
    let outcome = deployment.run("ValidateService").await;
    assert_eq!(outcome.diagnostics.error_code, "ScriptFailed");
    assert!(outcome.log.contains("[stdout]still ***\n"), "{}", outcome.log);
    assert!(outcome.diagnostics.log_tail.contains("[stdout]still ***"), "{}", outcome.diagnostics.log_tail);
    assert!(!outcome.log.contains("hunter2"), "{}", outcome.log);
    // The logs on disk: only the line printed before the mask existed shows it.
    let scripts_log = std::fs::read_to_string(deployment.dir().join("logs/scripts.log")).expect("scripts.log");
    let deployments_log = std::fs::read_to_string(executor.layout().deployments_log()).expect("deployments log");
    for log in [&scripts_log, &deployments_log] {
        assert_eq!(log.matches("hunter2").count(), 1, "{log}");
        assert!(log.contains("early hunter2") && !log.contains("add-mask"), "{log}");
    }
    // Another deployment is not affected.
    let other = Bundle::new()
        .file("appspec.yml", "version: 0.0\nos: linux\nhooks:\n  AfterInstall:\n    - location: say.sh\n", 0o644)
        .script("say.sh", "echo hunter2");
    let other = Deployment::new(&executor, dir.path(), "d-other", &other.tgz(), "tgz");
    other.run_ok(&["DownloadBundle"]).await;
    let outcome = other.run("AfterInstall").await;
    assert!(outcome.log.contains("[stdout]hunter2\n"), "{}", outcome.log);
}
