//! Packaging: the install script installs the agent into a prefix, writes its configuration and starts it, and the
//! agent registers with a running server and deploys; `--version` on every binary; shell completions.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use cutover_api_types::codedeploy::{self as wire, Operation};
use cutover_harness::{Bundle, Cluster, ClusterOptions, binary, wait_for};

use crate::DEPLOY_TIMEOUT;

fn packaging() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../packaging")
}

/// Stops the agent the script started (by the pid it recorded) when the test ends, however it ends.
struct Started(PathBuf);

impl Drop for Started {
    fn drop(&mut self) {
        if let Some(pid) = std::fs::read_to_string(&self.0).ok().and_then(|text| text.trim().parse::<i32>().ok()) {
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_install_script_installs_an_agent_that_registers_and_deploys() {
    let cluster = Cluster::start(ClusterOptions { agents: 0, ..Default::default() }).await;
    let prefix = cluster.dir.path().join("prefix");
    // The server's own join token: the installed agent enrols with it.
    let token = cluster.server.data_dir.join("enrollment-token");
    let install = |tags: &str| {
        Command::new("sh")
            .arg(packaging().join("install-agent.sh"))
            .args(["--server", &cluster.endpoint, "--name", "pkg-1", "--tags", tags])
            .arg("--binary")
            .arg(binary("cutover-agent"))
            .arg("--prefix")
            .arg(&prefix)
            .arg("--enrollment-token-file")
            .arg(&token)
            .args(["--start", "background"])
            .output()
            .expect("run install-agent.sh")
    };
    let out = install("env=test,role=web");
    let _started = Started(prefix.join("run/cutover-agent.pid"));
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));

    // Installed where the script says, with its configuration.
    let installed = prefix.join("usr/local/bin/cutover-agent");
    let version = Command::new(&installed).arg("--version").output().expect("installed agent");
    assert_eq!(String::from_utf8_lossy(&version.stdout), format!("cutover-agent {}\n", env!("CARGO_PKG_VERSION")));
    let env = std::fs::read_to_string(prefix.join("etc/cutover/agent.env")).expect("agent.env");
    assert!(env.contains(&format!("CUTOVER_AGENT_SERVER=\"{}\"\n", cluster.endpoint)), "{env}");
    assert!(env.contains(&format!("CUTOVER_AGENT_ENROLLMENT_TOKEN_FILE=\"{}\"\n", token.display())), "{env}");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(prefix.join("etc/cutover/agent.env")).expect("env").permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "the configuration may name secrets");

    // It registers with the server, with its tags.
    cluster.wait_registered(&["pkg-1".to_owned()]).await;
    let out: wire::GetOnPremisesInstanceOutput = cluster
        .client
        .call(Operation::GetOnPremisesInstance, &serde_json::json!({"instanceName": "pkg-1"}))
        .await
        .expect("instance");
    let tags = out.instance_info.and_then(|info| info.tags).unwrap_or_default();
    let tag = |key: &str| tags.iter().find(|tag| tag.key.as_deref() == Some(key)).and_then(|tag| tag.value.clone());
    assert_eq!((tag("env").as_deref(), tag("role").as_deref()), (Some("test"), Some("web")));

    // And it deploys: its state lives in the prefix's root.
    cluster.create_app_and_group("pkg", "g", "CodeDeployDefault.AllAtOnce").await;
    let appspec = "version: 0.0\nos: linux\nhooks:\n  ValidateService:\n    - location: check.sh\n";
    let bundle = Bundle::new().file("appspec.yml", appspec, 0o644).script("check.sh", "echo installed-agent-ran");
    let revision = cluster.push_bundle("pkg", bundle.tgz(), "tgz").await;
    let id = cluster.deploy("pkg", "g", &revision, serde_json::json!({})).await;
    let info = cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await;
    let log = std::fs::read_to_string(prefix.join("var/log/cutover-agent.log")).unwrap_or_default();
    assert_eq!(info.status.as_deref(), Some("Succeeded"), "{log}");
    assert!(prefix.join("var/lib/cutover-agent/deployment-logs/codedeploy-agent-deployments.log").is_file());

    // Running it again updates the configuration and restarts the agent, which registers the new tags.
    let first_pid = std::fs::read_to_string(prefix.join("run/cutover-agent.pid")).expect("pid");
    let out = install("env=test,role=api");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let second_pid = std::fs::read_to_string(prefix.join("run/cutover-agent.pid")).expect("pid");
    assert_ne!(first_pid, second_pid, "the agent was restarted");
    let first: i32 = first_pid.trim().parse().expect("pid");
    assert!(!cutover_harness::process_alive(first), "the old agent stopped");
    wait_for("the new tags", Duration::from_secs(30), || {
        let client = cluster.client.clone();
        async move {
            let out: wire::GetOnPremisesInstanceOutput = client
                .call(Operation::GetOnPremisesInstance, &serde_json::json!({"instanceName": "pkg-1"}))
                .await
                .ok()?;
            let tags = out.instance_info?.tags?;
            tags.iter()
                .any(|tag| tag.key.as_deref() == Some("role") && tag.value.as_deref() == Some("api"))
                .then_some(())
        }
    })
    .await;
}

#[test]
fn every_binary_prints_its_version() {
    for name in ["cutover", "cutover-server", "cutover-agent"] {
        let out = Command::new(binary(name)).arg("--version").output().expect("run");
        assert!(out.status.success(), "{name}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), format!("{name} {}\n", env!("CARGO_PKG_VERSION")));
    }
}

#[test]
fn completions_cover_the_commands_for_each_shell() {
    for (shell, marker) in
        [("bash", "complete -F _cutover"), ("zsh", "#compdef cutover"), ("fish", "complete -c cutover")]
    {
        let out = Command::new(binary("cutover")).args(["completions", shell]).output().expect("run");
        assert!(out.status.success(), "{shell}");
        let script = String::from_utf8_lossy(&out.stdout);
        assert!(script.contains(marker), "{shell}: {script}");
        for command in ["deploy", "local", "apply", "completions"] {
            assert!(script.contains(command), "{shell} completes {command}");
        }
    }
    // bash accepts the script it is given.
    let out = Command::new(binary("cutover")).args(["completions", "bash"]).output().expect("run");
    let check = Command::new("bash")
        .args(["-c", "source /dev/stdin && complete -p cutover"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().expect("stdin").write_all(&out.stdout)?;
            child.wait_with_output()
        })
        .expect("bash");
    assert!(check.status.success());
    assert!(String::from_utf8_lossy(&check.stdout).contains("_cutover"), "bash registered the completion");
}
