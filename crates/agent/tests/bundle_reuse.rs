//! DownloadBundle reuses a bundle the host already verified: a redeploy (or rollback) of the same bundle in the same
//! deployment group hard-links the earlier `bundle.tar` instead of fetching it, checks its SHA-256 again, and falls
//! back to downloading when the local copy is damaged or was never recorded as verified; pruning never breaks it.

mod common;

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{Bundle, Deployment, GROUP_ID};
use cutover_agent::bundle::{Fetch, FetchFuture, LocalFetch};
use cutover_agent::layout::Layout;
use cutover_agent::{Executor, ExecutorOptions};

/// [`LocalFetch`] that counts its fetches.
#[derive(Default)]
struct CountingFetch {
    count: AtomicUsize,
}

impl CountingFetch {
    fn count(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }
}

impl Fetch for CountingFetch {
    fn fetch<'a>(&'a self, url: &'a str, dest: &'a Path) -> FetchFuture<'a> {
        self.count.fetch_add(1, Ordering::SeqCst);
        LocalFetch.fetch(url, dest)
    }
}

fn counting_executor(root: &Path, max_revisions: usize) -> (Executor, Arc<CountingFetch>) {
    let fetch = Arc::new(CountingFetch::default());
    let options = ExecutorOptions { max_revisions, ..Default::default() };
    (Executor::new(Layout::new(root), fetch.clone(), options), fetch)
}

fn site(version: &str) -> Vec<u8> {
    Bundle::new()
        .file("appspec.yml", "version: 0.0\nos: linux\n", 0o644)
        .file("site/version.txt", &format!("{version}\n"), 0o644)
        .tgz()
}

fn version(deployment: &Deployment<'_>) -> String {
    std::fs::read_to_string(deployment.archive().join("site/version.txt")).expect("version.txt")
}

fn inode(path: &Path) -> u64 {
    std::fs::metadata(path).expect("metadata").ino()
}

fn reused_line(from: &str, sha256: &str) -> String {
    format!("Reused the bundle of deployment {from} (sha256 {sha256}); nothing was downloaded.")
}

#[tokio::test]
async fn a_redeploy_of_the_same_bundle_in_the_same_group_fetches_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (executor, fetch) = counting_executor(&dir.path().join("root"), 5);
    let v1 = site("v1");

    let first = Deployment::new(&executor, dir.path(), "d-1", &v1, "tgz");
    first.run_ok(&["DownloadBundle"]).await;
    assert_eq!(fetch.count(), 1);
    assert_eq!(
        std::fs::read_to_string(first.dir().join("bundle.sha256")).expect("sidecar"),
        format!("{}  bundle.tar\n", first.sha256)
    );
    let second = Deployment::new(&executor, dir.path(), "d-2", &site("v2"), "tgz");
    second.run_ok(&["DownloadBundle"]).await;
    assert_eq!(fetch.count(), 2);

    // v1 again (what an automatic rollback deploys): linked from d-1, verified, extracted; nothing fetched.
    let again = Deployment::new(&executor, dir.path(), "d-3", &v1, "tgz");
    let outcome = again.run("DownloadBundle").await;
    assert!(outcome.succeeded, "{:#?}", outcome.diagnostics);
    assert_eq!(fetch.count(), 2, "the bundle was fetched again: {}", outcome.log);
    assert!(outcome.log.contains(&reused_line("d-1", &first.sha256)), "{}", outcome.log);
    assert!(!outcome.log.contains("Downloading the bundle"), "{}", outcome.log);
    assert_eq!(version(&again), "v1\n");
    assert_eq!(inode(&again.dir().join("bundle.tar")), inode(&first.dir().join("bundle.tar")), "hard-linked");
    assert!(again.dir().join("bundle.sha256").is_file(), "a reused bundle is verified too, and reusable in turn");
    let pointer = executor.layout().most_recent_install_file(GROUP_ID);
    assert_eq!(Path::new(&std::fs::read_to_string(pointer).expect("pointer")), again.dir());

    // The same bundle in another deployment group is downloaded: reuse never crosses groups.
    let mut other = again.command("DownloadBundle");
    other.deployment.deployment_id = "d-4".to_owned();
    other.deployment.deployment_group_id = "dg-other".to_owned();
    let outcome = executor.run_event(&other).await;
    assert!(outcome.succeeded, "{:#?}", outcome.diagnostics);
    assert_eq!(fetch.count(), 3, "{}", outcome.log);
    assert!(!outcome.log.contains("Reused the bundle"), "{}", outcome.log);
}

#[tokio::test]
async fn a_damaged_or_unrecorded_local_bundle_is_downloaded_again_without_touching_the_old_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (executor, fetch) = counting_executor(&dir.path().join("root"), 5);
    let v1 = site("v1");
    let first = Deployment::new(&executor, dir.path(), "d-1", &v1, "tgz");
    first.run_ok(&["DownloadBundle"]).await;
    assert_eq!(fetch.count(), 1);

    // Corrupted at rest, same length: the recorded hash no longer holds.
    let old_bundle = first.dir().join("bundle.tar");
    let mut damaged = std::fs::read(&old_bundle).expect("read");
    damaged[10] ^= 0xff;
    std::fs::write(&old_bundle, &damaged).expect("damage");
    let again = Deployment::new(&executor, dir.path(), "d-2", &v1, "tgz");
    let outcome = again.run("DownloadBundle").await;
    assert!(outcome.succeeded, "{:#?}", outcome.diagnostics);
    assert_eq!(fetch.count(), 2, "{}", outcome.log);
    let mismatch = format!("of deployment d-1 has SHA-256 {}", common::sha256_hex(&damaged));
    assert!(
        outcome.log.contains(&mismatch) && outcome.log.contains("downloading the bundle instead"),
        "{}",
        outcome.log
    );
    assert!(!outcome.log.contains("Reused the bundle"), "{}", outcome.log);
    assert_eq!(version(&again), "v1\n");
    assert_eq!(std::fs::read(&old_bundle).expect("read"), damaged, "the download wrote through the hard link");
    assert_ne!(inode(&again.dir().join("bundle.tar")), inode(&old_bundle));

    // A directory without bundle.sha256 (an older agent's, or never extracted) does not count.
    for deployment in [&first, &again] {
        std::fs::remove_file(deployment.dir().join("bundle.sha256")).expect("remove sidecar");
    }
    let third = Deployment::new(&executor, dir.path(), "d-3", &v1, "tgz");
    let outcome = third.run("DownloadBundle").await;
    assert!(outcome.succeeded, "{:#?}", outcome.diagnostics);
    assert_eq!(fetch.count(), 3, "{}", outcome.log);

    // Nor does a recorded bundle whose bundle.tar is gone.
    std::fs::remove_file(third.dir().join("bundle.tar")).expect("remove bundle");
    let fourth = Deployment::new(&executor, dir.path(), "d-4", &v1, "tgz");
    fourth.run_ok(&["DownloadBundle"]).await;
    assert_eq!(fetch.count(), 4);
}

#[tokio::test]
async fn pruning_the_reused_directory_leaves_the_new_revision_whole() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (executor, fetch) = counting_executor(&dir.path().join("root"), 2);
    let v1 = site("v1");
    let first = Deployment::new(&executor, dir.path(), "d-1", &v1, "tgz");
    first.run_ok(&["DownloadBundle"]).await;
    let second = Deployment::new(&executor, dir.path(), "d-2", &site("v2"), "tgz");
    second.run_ok(&["DownloadBundle"]).await;
    // d-1 is the oldest, and no install protects it: pruning for d-3 removes exactly the directory it reuses.
    let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
    std::fs::File::open(first.dir()).expect("open").set_modified(old).expect("mtime");

    let again = Deployment::new(&executor, dir.path(), "d-3", &v1, "tgz");
    let outcome = again.run("DownloadBundle").await;
    assert!(outcome.succeeded, "{:#?}", outcome.diagnostics);
    assert_eq!(fetch.count(), 2, "{}", outcome.log);
    assert!(outcome.log.contains(&reused_line("d-1", &first.sha256)), "{}", outcome.log);
    assert!(outcome.log.contains(&format!("Removed the old revision {}", first.dir().display())), "{}", outcome.log);
    assert!(!first.dir().exists());
    assert_eq!(version(&again), "v1\n");
    assert_eq!(std::fs::read(again.dir().join("bundle.tar")).expect("bundle"), v1, "the link outlives d-1");
}
