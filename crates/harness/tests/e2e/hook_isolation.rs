//! Hook isolation end to end (docs/security.md, "Hooks"): a real deployment whose hooks dump what they were given.
//! Hooks see only the documented variables (none of the agent's own, credentials included), run in a new session
//! without a controlling terminal, and `runas` leaves no uid, gid, group or capability of root behind; a secret a
//! hook marks with `::add-mask::` appears nowhere afterwards, neither on the host nor on the server.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use cutover_harness::{Bundle, Cluster, ClusterOptions};

use crate::{DEPLOY_TIMEOUT, is_root};

/// Writes what the hook was given into `$CUTOVER_TEST_HOST_DIR/<event>.*`: its initial environment (as the agent
/// passed it, before the shell adds anything), its credentials and capabilities, and its session.
const DUMP: &str = r#"out="$CUTOVER_TEST_HOST_DIR/$LIFECYCLE_EVENT"
cp /proc/$$/environ "$out.environ"
grep -E '^(Uid|Gid|Groups|CapInh|CapPrm|CapEff|CapAmb):' /proc/$$/status > "$out.status"
echo "$$ $(sed 's/.*) //' /proc/$$/stat | cut -d' ' -f3-5)" > "$out.session"
if (exec 3</dev/tty) 2>/dev/null; then echo yes; else echo no; fi > "$out.tty""#;

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn environ(dir: &Path, event: &str) -> BTreeMap<String, String> {
    std::fs::read(dir.join(format!("{event}.environ")))
        .expect("environ")
        .split(|b| *b == 0)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            let (name, value) = std::str::from_utf8(entry).expect("utf-8").split_once('=').expect("NAME=value");
            (name.to_owned(), value.to_owned())
        })
        .collect()
}

/// `/proc/<pid>/status` lines as name → whitespace-separated values.
fn status(dir: &Path, event: &str) -> BTreeMap<String, Vec<String>> {
    read(dir, &format!("{event}.status"))
        .lines()
        .map(|line| {
            let (name, values) = line.split_once(':').expect("Name:\tvalues");
            (name.to_owned(), values.split_whitespace().map(str::to_owned).collect())
        })
        .collect()
}

/// A hook as root and one with `runas: nobody`: exact environments, no controlling terminal, a session of their own,
/// and for `nobody` nothing of root left: uid, gid, groups and every capability set but the bounding one.
#[test]
fn hooks_get_only_documented_variables_a_new_session_and_runas_drops_every_privilege() {
    // The agent inherits this process's environment: these must not reach any hook. Set before any other thread
    // exists (the runtime is built below; nextest runs each test in its own process).
    #[allow(unsafe_code)]
    // SAFETY: no other thread of this process reads or writes the environment at this point.
    unsafe {
        std::env::set_var("AWS_ACCESS_KEY_ID", "AKIA-must-not-leak");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "must-not-leak");
        std::env::set_var("CUTOVER_AGENT_TOKEN", "must-not-leak");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    runtime.block_on(async {
        if !is_root() {
            // runas needs root; CI runs the tests as root.
            return;
        }
        let cluster = Cluster::start(ClusterOptions { agents: 1, ..Default::default() }).await;
        let agent = &cluster.agents[0];
        // `nobody` must reach the script in the agent's root and write its evidence.
        std::fs::set_permissions(cluster.dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
        std::fs::set_permissions(&agent.host_dir, std::fs::Permissions::from_mode(0o777)).expect("chmod");
        cluster.create_app_and_group("iso", "g", "CodeDeployDefault.AllAtOnce").await;
        let appspec = "version: 0.0\nos: linux\nhooks:\n  BeforeInstall:\n    - location: dump.sh\n  AfterInstall:\n    \
                       - location: dump.sh\n      runas: nobody\n";
        let bundle = Bundle::new().file("appspec.yml", appspec, 0o644).script("dump.sh", DUMP);
        let revision = cluster.push_bundle("iso", bundle.tgz(), "tgz").await;
        let id = cluster.deploy("iso", "g", &revision, serde_json::json!({})).await;
        let info = cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await;
        assert_eq!(info.status.as_deref(), Some("Succeeded"), "{}", cluster.logs());

        let evidence = &agent.host_dir;
        let key = revision["s3Location"]["key"].as_str().expect("key");
        let etag = revision["s3Location"]["eTag"].as_str().expect("eTag");
        let group_id = std::fs::read_dir(&agent.root)
            .expect("root")
            .flatten()
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .find(|name| std::path::Path::new(&agent.root).join(name).join(&id).is_dir())
            .expect("the group's directory");
        let root = nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(0)).expect("lookup").expect("root");
        let nobody = nix::unistd::User::from_name("nobody").expect("lookup").expect("nobody");
        for (event, user) in [("BeforeInstall", &root), ("AfterInstall", &nobody)] {
            let expected: BTreeMap<String, String> = [
                ("APPLICATION_NAME", "iso".to_owned()),
                ("BUNDLE_BUCKET", "cutover-revisions".to_owned()),
                ("BUNDLE_ETAG", etag.to_owned()),
                ("BUNDLE_KEY", key.to_owned()),
                ("CUTOVER_TEST_HOST_DIR", evidence.display().to_string()),
                ("DEPLOYMENT_GROUP_ID", group_id.clone()),
                ("DEPLOYMENT_GROUP_NAME", "g".to_owned()),
                ("DEPLOYMENT_ID", id.clone()),
                ("HOME", user.dir.display().to_string()),
                ("LANG", "C.UTF-8".to_owned()),
                ("LIFECYCLE_EVENT", event.to_owned()),
                ("LOGNAME", user.name.clone()),
                ("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".to_owned()),
                ("SHELL", user.shell.display().to_string()),
                ("USER", user.name.clone()),
            ]
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value))
            .collect();
            assert_eq!(environ(evidence, event), expected, "{event}: the documented variables, nothing else");
            let session = read(evidence, &format!("{event}.session"));
            let fields: Vec<&str> = session.split_whitespace().collect();
            let (pid, pgrp, sid, tty_nr) = (fields[0], fields[1], fields[2], fields[3]);
            assert_eq!((pgrp, sid), (pid, pid), "{event}: the script leads a new session and process group");
            assert_eq!(tty_nr, "0", "{event}: no controlling terminal");
            assert_eq!(read(evidence, &format!("{event}.tty")).trim(), "no", "{event}: /dev/tty cannot be opened");
        }

        let as_root = status(evidence, "BeforeInstall");
        assert_eq!(as_root["Uid"], ["0", "0", "0", "0"]);
        assert_ne!(as_root["CapEff"], ["0000000000000000"], "hooks without runas run as root, as in CodeDeploy");

        let as_nobody = status(evidence, "AfterInstall");
        let uid = nobody.uid.to_string();
        let gid = nobody.gid.to_string();
        assert_eq!(as_nobody["Uid"], [uid.as_str(); 4], "real, effective, saved and filesystem uid");
        assert_eq!(as_nobody["Gid"], [gid.as_str(); 4], "real, effective, saved and filesystem gid");
        let c_name = std::ffi::CString::new(nobody.name.as_str()).expect("name");
        let mut groups: Vec<String> = nix::unistd::getgrouplist(&c_name, nobody.gid)
            .expect("groups")
            .iter()
            .map(|g| g.to_string())
            .collect();
        groups.sort();
        groups.dedup();
        let mut actual = as_nobody["Groups"].clone();
        actual.sort();
        assert_eq!(actual, groups, "exactly nobody's groups, none of root's");
        for set in ["CapInh", "CapPrm", "CapEff", "CapAmb"] {
            assert_eq!(as_nobody[set], ["0000000000000000"], "{set}: no capability left after runas");
        }
    });
}

/// `::add-mask::VALUE`: the line is not logged and VALUE becomes `***` in every later line of the deployment on
/// the host (scripts.log, the deployments log) and in what the server received (diagnostics and stored logs).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_masked_secret_is_redacted_from_every_log_on_the_host_and_on_the_server() {
    const SECRET: &str = "hunter2-Zq8kR4";
    let cluster = Cluster::start(ClusterOptions { agents: 1, ..Default::default() }).await;
    cluster.create_app_and_group("mask", "g", "CodeDeployDefault.AllAtOnce").await;
    let appspec = "version: 0.0\nos: linux\nhooks:\n  AfterInstall:\n    - location: mask.sh\n  ValidateService:\n    \
                   - location: check.sh\n";
    let bundle = Bundle::new()
        .file("appspec.yml", appspec, 0o644)
        .script("mask.sh", &format!("token={SECRET}\necho \"::add-mask::$token\"\necho \"logging in with $token\""))
        .script("check.sh", &format!("echo \"health check with {SECRET} failed\" >&2\nexit 1"));
    let revision = cluster.push_bundle("mask", bundle.tgz(), "tgz").await;
    let id = cluster.deploy("mask", "g", &revision, serde_json::json!({})).await;
    let info = cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await;
    assert_eq!(info.status.as_deref(), Some("Failed"), "{}", cluster.logs());

    let target = cluster.target(&id, "host-1").await;
    let events = target.lifecycle_events.expect("events");
    let event = |name: &str| events.iter().find(|e| e.lifecycle_event_name.as_deref() == Some(name)).expect("event");
    let validate = event("ValidateService").diagnostics.clone().expect("diagnostics");
    let tail = validate.log_tail.unwrap_or_default();
    assert!(tail.contains("[stderr]health check with *** failed"), "{tail}");
    let after_install = event("AfterInstall").diagnostics.clone().expect("diagnostics").log_tail.unwrap_or_default();
    assert!(after_install.contains("[stdout]logging in with ***"), "{after_install}");
    assert!(!after_install.contains("add-mask"), "the directive itself is not logged: {after_install}");

    // Nothing on the server (its database and log) and nothing in the agent's logs and stored results holds the
    // secret; only the revision itself (the scripts the user wrote, as uploaded and as extracted) and the agent's
    // masks file do.
    let mut leaks = Vec::new();
    for path in files_under(cluster.dir.path()) {
        let Ok(bytes) = std::fs::read(&path) else { continue };
        if !bytes.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()) {
            continue;
        }
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let in_revision = path.components().any(|c| c.as_os_str() == "deployment-archive")
            || name == "bundle.tar"
            || path.starts_with(cluster.server.data_dir.join("blobs"));
        if !(in_revision || name == "masks") {
            leaks.push(path.display().to_string());
        }
    }
    assert!(leaks.is_empty(), "the secret leaked into {leaks:#?}");
    let scripts_log = files_under(&cluster.agents[0].root)
        .into_iter()
        .find(|p| p.ends_with("logs/scripts.log"))
        .expect("scripts.log");
    let text = std::fs::read_to_string(scripts_log).expect("scripts.log");
    assert!(text.contains("[stdout]logging in with ***") && text.contains("health check with *** failed"), "{text}");
}

fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut res = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            match entry.file_type() {
                Ok(t) if t.is_dir() => stack.push(path),
                Ok(t) if t.is_file() => res.push(path),
                _ => {}
            }
        }
    }
    res
}
