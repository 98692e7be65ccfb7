//! `cutover local` against a real deployment of the same bundles: the files on disk, the event statuses, the
//! diagnostics and what the hooks saw must be the same.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use cutover_harness::{Bundle, Cluster, ClusterOptions, binary};

use crate::{DEPLOY_TIMEOUT, RECORD_HOOK, appspec_all_hooks, hook_lines};

/// A tree as (relative path → kind, content and permission bits).
fn snapshot(root: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, res: &mut BTreeMap<String, String>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries.map(|entry| entry.expect("entry")) {
            let path = entry.path();
            let relative = path.strip_prefix(root).expect("prefix").display().to_string();
            let metadata = std::fs::symlink_metadata(&path).expect("metadata");
            let mode = metadata.permissions().mode() & 0o7777;
            if metadata.is_dir() {
                res.insert(relative, format!("dir {mode:o}"));
                walk(root, &path, res);
            } else if metadata.file_type().is_symlink() {
                res.insert(relative, format!("link {}", std::fs::read_link(&path).expect("link").display()));
            } else {
                let content = std::fs::read_to_string(&path).expect("content");
                res.insert(relative, format!("file {mode:o} {content:?}"));
            }
        }
    }
    let mut res = BTreeMap::new();
    walk(root, root, &mut res);
    res
}

/// A directory for one local run: the agent root, the destination root and the hooks' scratch directory.
struct LocalHost {
    root: PathBuf,
    dest: PathBuf,
    scratch: PathBuf,
}

impl LocalHost {
    fn new(base: &Path) -> LocalHost {
        let host = LocalHost { root: base.join("root"), dest: base.join("fs"), scratch: base.join("scratch") };
        for dir in [&host.root, &host.dest, &host.scratch] {
            std::fs::create_dir_all(dir).expect("mkdir");
        }
        host
    }

    /// `cutover local BUNDLE --json` on this host; returns the exit code and the JSON result.
    fn run(&self, bundle: &Path, extra: &[&str]) -> (Option<i32>, serde_json::Value) {
        let out = Command::new(binary("cutover"))
            .arg("local")
            .arg(bundle)
            .args(["--hook-pass-env", "CUTOVER_TEST_HOST_DIR"])
            .arg("--root")
            .arg(&self.root)
            .arg("--destination-root")
            .arg(&self.dest)
            .arg("--json")
            .args(extra)
            .env("CUTOVER_TEST_HOST_DIR", &self.scratch)
            .output()
            .expect("run cutover local");
        let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|error| {
            panic!("{error}: {}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
        });
        (out.status.code(), json)
    }
}

/// (event, status, errorCode, message) of every event, from the API or from `cutover local --json`.
fn statuses(events: &serde_json::Value) -> Vec<(String, String, String, String)> {
    events
        .as_array()
        .expect("events")
        .iter()
        .map(|event| {
            let text = |value: &serde_json::Value| value.as_str().unwrap_or_default().to_owned();
            (
                text(&event["lifecycleEventName"]),
                text(&event["status"]),
                text(&event["diagnostics"]["errorCode"]),
                text(&event["diagnostics"]["message"]),
            )
        })
        .collect()
}

/// Hook evidence lines with the deployment id left out (ids differ between the two runs).
fn without_ids(lines: Vec<String>, ids: &[&str]) -> Vec<String> {
    lines.into_iter().map(|line| ids.iter().fold(line, |line, id| line.replace(id, "<id>"))).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_runs_match_real_deployments() {
    let cluster = Cluster::start(ClusterOptions { agents: 1, ..Default::default() }).await;
    cluster.create_app_and_group("loc", "g", "CodeDeployDefault.AllAtOnce").await;
    let permissions =
        "permissions:\n  - object: /srv/loc\n    pattern: \"*.sh\"\n    mode: 750\n    type:\n      - file\n";
    let appspec = appspec_all_hooks(
        "files:\n  - source: site\n    destination: /srv/loc\n  - source: conf/loc.conf\n    destination: /etc/loc\n",
        permissions,
    );
    let v1 = Bundle::new()
        .file("appspec.yml", &appspec, 0o644)
        .file("site/index.html", "v1\n", 0o644)
        .file("site/old.txt", "only in v1\n", 0o644)
        .file("site/run.sh", "#!/bin/sh\n", 0o644)
        .file("site/deep/a/b.txt", "deep\n", 0o640)
        .file("conf/loc.conf", "port=1\n", 0o600)
        .script("scripts/record.sh", RECORD_HOOK);
    // v2 drops old.txt (Install's cleanup removes it) and changes index.html.
    let v2 = Bundle::new()
        .file("appspec.yml", &appspec, 0o644)
        .file("site/index.html", "v2\n", 0o644)
        .file("site/run.sh", "#!/bin/sh\n", 0o644)
        .file("site/deep/a/b.txt", "deep\n", 0o640)
        .file("conf/loc.conf", "port=2\n", 0o600)
        .script("scripts/record.sh", RECORD_HOOK);
    // v3 fails in AfterInstall, after its files are installed.
    let v3_appspec = appspec.replace(
        "  AfterInstall:\n    - location: scripts/record.sh",
        "  AfterInstall:\n    - location: scripts/fail.sh",
    );
    let v3 = Bundle::new()
        .file("appspec.yml", &v3_appspec, 0o644)
        .file("site/index.html", "v3\n", 0o644)
        .file("conf/loc.conf", "port=3\n", 0o600)
        .script("scripts/record.sh", RECORD_HOOK)
        .script("scripts/fail.sh", "echo broken >&2\nexit 3");

    let local = LocalHost::new(&cluster.dir.path().join("local"));
    let agent = cluster.agent("host-1");
    let mut ids: Vec<String> = Vec::new();
    for (version, bundle) in [("v1", &v1), ("v2", &v2), ("v3", &v3)] {
        let bytes = bundle.tgz();
        let file = cluster.dir.path().join(format!("{version}.tgz"));
        std::fs::write(&file, &bytes).expect("bundle file");

        let revision = cluster.push_bundle("loc", bytes, "tgz").await;
        let id = cluster.deploy("loc", "g", &revision, serde_json::json!({})).await;
        let info = cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await;
        let real = serde_json::to_value(cluster.target(&id, "host-1").await.lifecycle_events).expect("json");

        let (code, result) = local.run(&file, &[]);
        let local_id = result["deploymentId"].as_str().expect("id").to_owned();
        assert!(local_id.starts_with("d-") && local_id.ends_with("-local"), "{local_id}");
        let expected_code = if version == "v3" { 3 } else { 0 };
        assert_eq!(code, Some(expected_code), "{version}: {result}");
        assert_eq!(result["status"].as_str(), info.status.as_deref(), "{version}: same outcome\n{}", cluster.logs());
        assert_eq!(statuses(&result["lifecycleEvents"]), statuses(&real), "{version}: same events");
        assert_eq!(snapshot(&local.dest), snapshot(&agent.dest_root), "{version}: same files on disk");
        ids.push(id);
        ids.push(local_id);
        let id_refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let local_lines: Vec<String> = std::fs::read_to_string(local.scratch.join("hooks.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect();
        assert_eq!(
            without_ids(local_lines, &id_refs),
            without_ids(hook_lines(agent), &id_refs),
            "{version}: the same hooks ran, in the same order, from the same revisions"
        );
    }
    // The failure is reported the same way, word for word.
    let v3_file = cluster.dir.path().join("v3.tgz");
    let (_, result) = local.run(&v3_file, &["--events", "ValidateService"]);
    let names: Vec<(String, String, String, String)> = statuses(&result["lifecycleEvents"]);
    assert_eq!(
        names.iter().map(|(name, status, _, _)| format!("{name} {status}")).collect::<Vec<_>>(),
        ["DownloadBundle Succeeded", "Install Succeeded", "ValidateService Succeeded"],
        "--events runs the chosen events with DownloadBundle and Install"
    );
}

#[test]
fn the_dev_sample_runs_locally_as_it_deploys() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("dev");
    let out = Command::new(binary("cutover"))
        .args(["dev", "--agents", "1", "--data-dir"])
        .arg(&data)
        .output()
        .expect("cutover dev");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    let deployed = data.join("hosts/dev-host-1/files");

    let local = LocalHost::new(&dir.path().join("local"));
    // The sample's scripts find this host's files through CUTOVER_DESTINATION_ROOT, as `cutover dev` sets it.
    let out = Command::new(binary("cutover"))
        .arg("local")
        .arg(data.join("revision"))
        .args(["--hook-pass-env", "CUTOVER_DESTINATION_ROOT"])
        .arg("--root")
        .arg(&local.root)
        .arg("--destination-root")
        .arg(&local.dest)
        .env("CUTOVER_DESTINATION_ROOT", &local.dest)
        .output()
        .expect("cutover local");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    // Each event is printed live with its log lines, as they happen.
    let before_validate = stdout.find("==> ValidateService").expect("event header");
    let validated = stdout.find("[stdout]hello is valid").expect("hook output");
    let succeeded = stdout.find("ValidateService  Succeeded").expect("event result");
    assert!(before_validate < validated && validated < succeeded, "{stdout}");
    assert!(stdout.trim_end().ends_with("Succeeded"), "{stdout}");
    assert_eq!(snapshot(&local.dest), snapshot(&deployed), "the sample installs the same files");
}
