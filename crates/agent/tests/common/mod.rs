//! Helpers shared by the agent's integration tests: bundles (tar, tgz, zip, hostile raw entries), host commands,
//! executors over a temp root, polling with deadlines, and checking (and cleaning up) processes that scripts started.

#![allow(dead_code, unreachable_pub)]

use std::future::Future;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cutover_agent::bundle::LocalFetch;
use cutover_agent::layout::Layout;
use cutover_agent::{EventOutcome, Executor, ExecutorOptions};
use cutover_api_types::agent::{BundleSpec, DeploymentSpec, HostCommand};
use sha2::{Digest, Sha256};

pub const GROUP_ID: &str = "dg-1111";

/// One entry of a test bundle.
#[derive(Clone)]
pub enum Item {
    File { path: String, data: Vec<u8>, mode: u32 },
    Dir { path: String, mode: u32 },
    Symlink { path: String, target: String },
}

/// A bundle under construction.
#[derive(Clone, Default)]
pub struct Bundle {
    pub items: Vec<Item>,
}

impl Bundle {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn file(mut self, path: &str, data: &str, mode: u32) -> Self {
        self.items.push(Item::File { path: path.into(), data: data.as_bytes().to_vec(), mode });
        self
    }

    /// A file with arbitrary (binary) contents.
    pub fn bytes(mut self, path: &str, data: Vec<u8>, mode: u32) -> Self {
        self.items.push(Item::File { path: path.into(), data, mode });
        self
    }

    pub fn script(self, path: &str, body: &str) -> Self {
        self.file(path, &format!("#!/bin/sh\n{body}\n"), 0o755)
    }

    pub fn dir(mut self, path: &str, mode: u32) -> Self {
        self.items.push(Item::Dir { path: path.into(), mode });
        self
    }

    pub fn symlink(mut self, path: &str, target: &str) -> Self {
        self.items.push(Item::Symlink { path: path.into(), target: target.into() });
        self
    }

    /// A plain tar; `extra` may append raw (hostile) entries.
    pub fn tar_with(&self, extra: impl FnOnce(&mut tar::Builder<Vec<u8>>)) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        self.append_all(&mut builder);
        extra(&mut builder);
        builder.into_inner().expect("tar")
    }

    pub fn tar(&self) -> Vec<u8> {
        self.tar_with(|_| {})
    }

    pub fn tgz(&self) -> Vec<u8> {
        let tar = self.tar();
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(&tar).expect("gzip");
        encoder.finish().expect("gzip")
    }

    fn append_all<W: Write>(&self, builder: &mut tar::Builder<W>) {
        for item in &self.items {
            let mut header = tar::Header::new_gnu();
            header.set_mtime(1_700_000_000);
            match item {
                Item::File { path, data, mode } => {
                    header.set_entry_type(tar::EntryType::Regular);
                    header.set_size(data.len() as u64);
                    header.set_mode(*mode);
                    builder.append_data(&mut header, path, data.as_slice()).expect("tar file");
                }
                Item::Dir { path, mode } => {
                    header.set_entry_type(tar::EntryType::Directory);
                    header.set_size(0);
                    header.set_mode(*mode);
                    builder.append_data(&mut header, path, std::io::empty()).expect("tar dir");
                }
                Item::Symlink { path, target } => {
                    header.set_entry_type(tar::EntryType::Symlink);
                    header.set_size(0);
                    header.set_mode(0o777);
                    builder.append_link(&mut header, path, target).expect("tar symlink");
                }
            }
        }
    }

    /// A zip with unix modes; `extra` may add raw entries.
    pub fn zip_with(&self, extra: impl FnOnce(&mut zip::ZipWriter<std::io::Cursor<Vec<u8>>>)) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for item in &self.items {
            match item {
                Item::File { path, data, mode } => {
                    let options = zip::write::SimpleFileOptions::default().unix_permissions(*mode);
                    writer.start_file(path.as_str(), options).expect("zip file");
                    writer.write_all(data).expect("zip data");
                }
                Item::Dir { path, mode } => {
                    let options = zip::write::SimpleFileOptions::default().unix_permissions(*mode);
                    writer.add_directory(path.as_str(), options).expect("zip dir");
                }
                Item::Symlink { path, target } => {
                    writer
                        .add_symlink(path.as_str(), target.as_str(), zip::write::SimpleFileOptions::default())
                        .expect("zip symlink");
                }
            }
        }
        extra(&mut writer);
        writer.finish().expect("zip").into_inner()
    }

    pub fn zip(&self) -> Vec<u8> {
        self.zip_with(|_| {})
    }
}

/// Appends an entry whose name and link target bypass the tar crate's own path checks.
pub fn raw_tar_entry<W: Write>(
    builder: &mut tar::Builder<W>,
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
    header.set_mtime(1_700_000_000);
    header.set_cksum();
    builder.append(&header, data).expect("raw entry");
}

/// `len` bytes that do not compress (xorshift64), so a bundle holding them is as large as they are.
pub fn incompressible(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    let mut bytes = Vec::with_capacity(len + 8);
    while bytes.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        bytes.extend_from_slice(&state.to_le_bytes());
    }
    bytes.truncate(len);
    bytes
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Writes `bytes` to `<dir>/<name>` and returns the path.
pub fn write_bundle(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("bundle");
    path
}

/// A host command for `event` of deployment `deployment_id`, whose bundle is the local file `bundle`.
pub fn command(event: &str, deployment_id: &str, bundle: &Path, sha256: &str, bundle_type: &str) -> HostCommand {
    HostCommand {
        command_id: format!("{deployment_id}/host-1/{event}"),
        lifecycle_event: event.to_owned(),
        deployment: DeploymentSpec {
            deployment_id: deployment_id.to_owned(),
            application_name: "app".to_owned(),
            deployment_group_name: "group".to_owned(),
            deployment_group_id: GROUP_ID.to_owned(),
            creator: "user".to_owned(),
            revision: BundleSpec {
                url: bundle.display().to_string(),
                sha256: sha256.to_owned(),
                trusted_keys: Vec::new(),
                signatures: Vec::new(),
                bundle_type: bundle_type.to_owned(),
                size: 0,
                bucket: Some("bucket".to_owned()),
                key: Some("app/v1.tgz".to_owned()),
                version: None,
                etag: Some("etag-1".to_owned()),
                commit_id: None,
            },
            file_exists_behavior: None,
            lifecycle_events: Vec::new(),
            deployment_type: None,
        },
    }
}

/// An executor over `root` that reads bundles from local files, with a short kill grace.
pub fn executor(root: &Path) -> Executor {
    executor_with(root, ExecutorOptions { kill_grace: Duration::from_millis(300), ..Default::default() })
}

pub fn executor_with(root: &Path, options: ExecutorOptions) -> Executor {
    Executor::new(Layout::new(root), Arc::new(LocalFetch), options)
}

/// A deployment under test: one bundle, run event by event.
pub struct Deployment<'a> {
    pub executor: &'a Executor,
    pub id: String,
    pub bundle: PathBuf,
    pub sha256: String,
    pub bundle_type: String,
    pub file_exists_behavior: Option<String>,
}

impl<'a> Deployment<'a> {
    /// Writes `bytes` next to the root and prepares deployment `id`.
    pub fn new(executor: &'a Executor, dir: &Path, id: &str, bytes: &[u8], bundle_type: &str) -> Self {
        let bundle = write_bundle(dir, &format!("{id}.{bundle_type}"), bytes);
        Self {
            executor,
            id: id.to_owned(),
            bundle,
            sha256: sha256_hex(bytes),
            bundle_type: bundle_type.to_owned(),
            file_exists_behavior: None,
        }
    }

    pub fn command(&self, event: &str) -> HostCommand {
        let mut command = command(event, &self.id, &self.bundle, &self.sha256, &self.bundle_type);
        command.deployment.file_exists_behavior = self.file_exists_behavior.clone();
        command
    }

    pub async fn run(&self, event: &str) -> EventOutcome {
        self.executor.run_event(&self.command(event)).await
    }

    /// Runs `events` in order, asserting each succeeds.
    pub async fn run_ok(&self, events: &[&str]) {
        for event in events {
            let outcome = self.run(event).await;
            assert!(outcome.succeeded, "{event} failed: {:#?}", outcome.diagnostics);
        }
    }

    /// `<root>/<DGID>/<DID>`.
    pub fn dir(&self) -> PathBuf {
        self.executor.layout().deployment_dir(GROUP_ID, &self.id)
    }

    pub fn archive(&self) -> PathBuf {
        self.dir().join("deployment-archive")
    }
}

/// The in-place events, in order.
pub const IN_PLACE: [&str; 7] = [
    "ApplicationStop",
    "DownloadBundle",
    "BeforeInstall",
    "Install",
    "AfterInstall",
    "ApplicationStart",
    "ValidateService",
];

/// Polls `check` every 10 ms until it returns Some or `timeout` passes.
pub async fn wait_for<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out after {timeout:?} waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// True once `pid` has exited: no such process, or a zombie (nothing left to kill; its new parent reaps it).
pub fn is_gone(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat.rfind(')').and_then(|i| stat[i + 1..].split_whitespace().next()).is_some_and(|s| s == "Z"),
    }
}

/// SIGKILLs the pids that are still alive when dropped, so that a failing test leaves no `sleep 1000` behind.
pub struct KillOnDrop(pub Vec<i32>);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        for pid in self.0.iter().copied().filter(|pid| *pid > 1 && !is_gone(*pid)) {
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL);
        }
    }
}

/// A temp dir that `nobody` can traverse (tempfile creates 0700 directories).
pub fn open_tempdir() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    dir
}

pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Every path below `dir` (empty if it does not exist).
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut res = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(path.clone());
            }
            res.push(path);
        }
    }
    res
}
