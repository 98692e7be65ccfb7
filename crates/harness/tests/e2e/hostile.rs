//! Hostile archives end to end: refused with a clear error before anything is written.

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
