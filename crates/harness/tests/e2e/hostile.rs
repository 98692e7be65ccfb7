//! Hostile bundles end to end: refused with a clear error before anything is written, hand-made archives and cases
//! of the agent's hostile corpus (`crates/agent/tests/corpus/hostile/`, where every case is checked exhaustively).

use cutover_harness::{Bundle, Cluster, ClusterOptions};

use crate::DEPLOY_TIMEOUT;

/// Appends an entry whose name (and link target) bypass the tar crate's own path checks.
fn raw_entry(
    builder: &mut tar::Builder<flate2::write::GzEncoder<Vec<u8>>>,
    name: &str,
    kind: tar::EntryType,
    link: Option<&str>,
    data: &[u8],
) {
    let mut header = tar::Header::new_old();
    {
        let old = header.as_old_mut();
        old.name[..name.len()].copy_from_slice(name.as_bytes());
        if let Some(link) = link {
            old.linkname[..link.len()].copy_from_slice(link.as_bytes());
        }
    }
    header.set_entry_type(kind);
    header.set_mode(0o644);
    header.set_size(data.len() as u64);
    header.set_cksum();
    builder.append(&header, data).expect("raw entry");
}

async fn deploy_hostile(cluster: &Cluster, bytes: Vec<u8>) -> String {
    let revision = cluster.push_bundle("evil", bytes, "tgz").await;
    let id = cluster.deploy("evil", "g", &revision, serde_json::json!({})).await;
    let info = cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await;
    assert_eq!(info.status.as_deref(), Some("Failed"), "{}", cluster.logs());
    let target = cluster.target(&id, "host-1").await;
    let download = target
        .lifecycle_events
        .expect("events")
        .into_iter()
        .find(|e| e.lifecycle_event_name.as_deref() == Some("DownloadBundle"))
        .expect("DownloadBundle");
    assert_eq!(download.status.as_deref(), Some("Failed"));
    let diagnostics = download.diagnostics.expect("diagnostics");
    assert_eq!(diagnostics.error_code.as_deref(), Some("UnknownError"));
    diagnostics.message.unwrap_or_default()
}

fn files_under(dir: &std::path::Path) -> Vec<String> {
    let mut res = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(path.clone());
            }
            res.push(path.display().to_string());
        }
    }
    res
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn archives_escaping_the_bundle_are_refused_and_nothing_is_written() {
    let cluster = Cluster::start(ClusterOptions { agents: 1, ..Default::default() }).await;
    cluster.create_app_and_group("evil", "g", "CodeDeployDefault.AllAtOnce").await;
    let agent = &cluster.agents[0];
    let base = Bundle::new().file("appspec.yml", "version: 0.0\nos: linux\n", 0o644).file("ok.txt", "fine\n", 0o644);

    let dotdot =
        base.tgz_with(|builder| raw_entry(builder, "../../escape.txt", tar::EntryType::Regular, None, b"pwned\n"));
    let message = deploy_hostile(&cluster, dotdot).await;
    assert!(message.contains("../../escape.txt"), "the error names the entry: {message}");

    let symlink = base.tgz_with(|builder| {
        raw_entry(builder, "link", tar::EntryType::Symlink, Some("../../../../outside"), b"");
        raw_entry(builder, "link/escape.txt", tar::EntryType::Regular, None, b"pwned\n");
    });
    let message = deploy_hostile(&cluster, symlink).await;
    assert!(message.contains("link"), "the error names the entry: {message}");

    let absolute = base.tgz_with(|builder| raw_entry(builder, "etc-link", tar::EntryType::Symlink, Some("/etc"), b""));
    let message = deploy_hostile(&cluster, absolute).await;
    assert!(message.contains("etc-link"), "the error names the entry: {message}");

    // Nothing was extracted anywhere: no deployment-archive, no escaped file.
    let written = files_under(&agent.root);
    assert!(
        !written.iter().any(|path| path.contains("deployment-archive") || path.ends_with("ok.txt")),
        "{written:#?}"
    );
    assert!(!written.iter().any(|path| path.ends_with("escape.txt")));
    assert!(
        !files_under(cluster.dir.path()).iter().any(|path| path.ends_with("escape.txt") || path.ends_with("outside"))
    );
}

/// A bundle of the agent's hostile corpus (`crates/agent/tests/corpus/hostile/`) and its sidecar.
fn corpus(name: &str) -> (Vec<u8>, serde_json::Value) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../agent/tests/corpus/hostile");
    let bytes = std::fs::read(dir.join(name)).expect("corpus archive");
    let sidecar = std::fs::read_to_string(dir.join(format!("{name}.json"))).expect("sidecar");
    (bytes, serde_json::from_str(&sidecar).expect("sidecar json"))
}

/// The diagnostics of `event` on host-1 after a failed deployment of `bytes`.
async fn deploy_failing(
    cluster: &Cluster,
    app: &str,
    bytes: Vec<u8>,
    bundle_type: &str,
    event: &str,
) -> (String, String) {
    let revision = cluster.push_bundle(app, bytes, bundle_type).await;
    let id = cluster.deploy(app, "g", &revision, serde_json::json!({})).await;
    let info = cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await;
    assert_eq!(info.status.as_deref(), Some("Failed"), "{}", cluster.logs());
    let target = cluster.target(&id, "host-1").await;
    let failed = target
        .lifecycle_events
        .expect("events")
        .into_iter()
        .find(|e| e.status.as_deref() == Some("Failed"))
        .expect("a failed event");
    assert_eq!(failed.lifecycle_event_name.as_deref(), Some(event), "{failed:?}");
    let diagnostics = failed.diagnostics.expect("diagnostics");
    (diagnostics.error_code.unwrap_or_default(), diagnostics.message.unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corpus_bundles_are_refused_through_a_real_deployment_and_the_host_is_untouched() {
    let cluster = Cluster::start(ClusterOptions { agents: 1, ..Default::default() }).await;
    let agent = &cluster.agents[0];
    for app in ["setuid", "bomb", "hook", "dest"] {
        cluster.create_app_and_group(app, "g", "CodeDeployDefault.AllAtOnce").await;
    }

    // Refused by the extractor, with the sidecar's exact message.
    for (app, name, bundle_type) in [("setuid", "setuid.tar", "tar"), ("bomb", "bomb-overlapping.zip", "zip")] {
        let (bytes, sidecar) = corpus(name);
        let (code, message) = deploy_failing(&cluster, app, bytes, bundle_type, "DownloadBundle").await;
        assert_eq!(code, "UnknownError");
        assert_eq!(message, format!("The bundle was refused: {}", sidecar["error"].as_str().expect("error")));
    }
    assert!(!files_under(&agent.root).iter().any(|path| path.contains("deployment-archive")));

    // A hook location climbing out of the revision: the AppSpec is refused before any hook runs.
    let (bytes, _) = corpus("hook-location-dotdot.tgz");
    let (code, message) = deploy_failing(&cluster, "hook", bytes, "tgz", "BeforeInstall").await;
    assert_eq!(code, "UnknownError");
    assert!(message.contains("location must stay inside the revision"), "{message}");

    // A destination that is a symlink on the host, pointing outside it: Install refuses before writing anything.
    let outside = cluster.dir.path().join("outside");
    std::fs::create_dir(&outside).expect("outside");
    std::fs::create_dir_all(agent.dest("/srv")).expect("srv");
    std::os::unix::fs::symlink(&outside, agent.dest("/srv/app")).expect("symlink");
    let (bytes, _) = corpus("destination-symlink.tgz");
    let (code, message) = deploy_failing(&cluster, "dest", bytes, "tgz", "Install").await;
    assert_eq!(code, "UnknownError");
    assert!(
        message.starts_with(&format!(
            "The destination {} is a symbolic link on this host",
            agent.dest("/srv/app").display()
        )),
        "{message}"
    );
    assert!(files_under(&outside).is_empty(), "written through the symlink: {:?}", files_under(&outside));
    let mut host = files_under(&agent.dest_root);
    host.sort();
    assert_eq!(host, [agent.dest("/srv").display().to_string(), agent.dest("/srv/app").display().to_string()]);
}
