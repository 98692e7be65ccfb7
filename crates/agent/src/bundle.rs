//! The DownloadBundle event: reuse a bundle already on the host or download it, prune old revisions, verify the
//! bundle's SHA-256, extract it safely into `deployment-archive`, record the verified hash in `bundle.sha256`, and
//! point `<DGID>_most_recent_install` at the deployment.
//!
//! **Reuse.** A rollback or redeploy brings back a bundle this host already has. Before downloading, the group's
//! other deployment directories are searched for a `bundle.sha256` equal to the expected hash (written only once a
//! bundle was verified and extracted; directories without it never count) next to a `bundle.tar` that still exists,
//! the newest first. Its `bundle.tar` is hard-linked into the new deployment directory (copied when linking fails,
//! e.g. across filesystems), hashed again (local corruption), and extracted as usual; the event log says
//! `[agent] Reused the bundle of deployment <id> (sha256 <hash>); nothing was downloaded.`. Any problem (a mismatching hash,
//! a failed link and copy) is logged and the bundle is downloaded instead. Pruning runs after the reuse attempt, so
//! it may remove the directory just reused: the new directory holds its own link (or copy) by then. `bundle.tar` is
//! always removed before a download writes it, so a download never writes through a hard link into another
//! deployment's bundle.
//!
//! Where the bytes come from is behind [`Fetch`]: [`HttpFetch`] downloads from the server (or any http URL) with
//! [`AgentClient`]; [`LocalFetch`] copies a local file, which is what tests (and an offline mode) use. Both hash
//! while writing, and the hash is checked before a single byte is extracted. A bundle whose hash does not match
//! (corrupted or truncated in transit or at rest) is deleted and downloaded once more, then the event fails.
//!
//! When writing fails (typically a full disk), the event fails with [`Error::Write`] (`No space left on device while
//! downloading the bundle to <path>` / `... while extracting the bundle into <dir>`), and everything this event
//! wrote is removed again to give the space back: `bundle.tar`, the staging directory, this deployment's
//! `deployment-archive`, and the deployment directory itself if nothing else (logs) is in it. Nothing of other
//! deployments is touched: the previous revision, its `deployment-archive` and the install pointers stay as they
//! were, and `_most_recent_install` is written only once the new revision is complete.

use std::fs;
use std::future::Future;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use cutover_api_types::agent::HostCommand;
use cutover_client::agent::{AgentClient, AgentClientError};
use sha2::{Digest, Sha256};

use crate::archive::{self, ArchiveError, BundleFormat, ExtractLimits};
use crate::error::Error;
use crate::eventlog::EventLog;
use crate::layout::Layout;

/// A downloaded bundle: its hex SHA-256 and length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    pub sha256: String,
    pub bytes: u64,
}

/// Boxed future returned by [`Fetch::fetch`].
pub type FetchFuture<'a> = Pin<Box<dyn Future<Output = Result<Fetched, Error>> + Send + 'a>>;

/// Where bundles come from.
pub trait Fetch: Send + Sync {
    /// Writes the bundle at `url` to `dest` (created or truncated), hashing it on the way.
    fn fetch<'a>(&'a self, url: &'a str, dest: &'a Path) -> FetchFuture<'a>;
}

/// Downloads bundles over HTTP with the agent protocol client, retrying transient failures.
#[derive(Debug, Clone)]
pub struct HttpFetch {
    client: AgentClient,
}

impl HttpFetch {
    /// Attempts per download (transport errors and 5xx only).
    const ATTEMPTS: u32 = 3;

    pub fn new(client: AgentClient) -> Self {
        Self { client }
    }
}

impl Fetch for HttpFetch {
    fn fetch<'a>(&'a self, url: &'a str, dest: &'a Path) -> FetchFuture<'a> {
        Box::pin(async move {
            let mut attempt = 1;
            loop {
                let mut hasher = Sha256::new();
                match self.client.download(url, dest, |chunk| hasher.update(chunk)).await {
                    Ok(bytes) => return Ok(Fetched { sha256: hex::encode(hasher.finalize()), bytes }),
                    Err(error) if error.is_retryable() && attempt < Self::ATTEMPTS => {
                        tracing::warn!(%error, attempt, "bundle download failed; retrying");
                        tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
                        attempt += 1;
                    }
                    Err(AgentClientError::Io { path, source }) => {
                        return Err(Error::write(format!("downloading the bundle to {path}"), source));
                    }
                    Err(error) => return Err(Error::Download(error)),
                }
            }
        })
    }
}

/// Copies bundles from the local filesystem: `url` is a path, or a `file://` URL.
#[derive(Debug, Clone, Copy, Default)]
pub struct LocalFetch;

impl Fetch for LocalFetch {
    fn fetch<'a>(&'a self, url: &'a str, dest: &'a Path) -> FetchFuture<'a> {
        Box::pin(async move {
            let source = PathBuf::from(url.strip_prefix("file://").unwrap_or(url));
            let dest = dest.to_path_buf();
            tokio::task::spawn_blocking(move || copy_hashing(&source, &dest))
                .await
                .map_err(|e| Error::Install(format!("the copy task failed: {e}")))?
        })
    }
}

fn copy_hashing(source: &Path, dest: &Path) -> Result<Fetched, Error> {
    let mut input = fs::File::open(source)
        .map_err(|e| Error::Download(AgentClientError::Io { path: source.display().to_string(), source: e }))?;
    let writing = || format!("downloading the bundle to {}", dest.display());
    let mut output = fs::File::create(dest).map_err(|e| Error::write(writing(), e))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 256 * 1024];
    let mut bytes = 0u64;
    loop {
        let n = match input.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::io(format!("cannot read {}", source.display()), e)),
        };
        hasher.update(&buffer[..n]);
        output.write_all(&buffer[..n]).map_err(|e| Error::write(writing(), e))?;
        bytes += n as u64;
    }
    output.sync_all().map_err(|e| Error::write(writing(), e))?;
    Ok(Fetched { sha256: hex::encode(hasher.finalize()), bytes })
}

/// Downloads of a bundle whose SHA-256 does not match before the event fails: a second one recovers from
/// corruption in transit; corruption at rest fails again, quickly.
const CHECKSUM_ATTEMPTS: u32 = 2;

/// Runs DownloadBundle for `command`.
pub(crate) async fn download_bundle(
    layout: &Layout,
    fetch: &dyn Fetch,
    command: &HostCommand,
    max_revisions: usize,
    limits: ExtractLimits,
    log: &EventLog,
) -> Result<(), Error> {
    let deployment = &command.deployment;
    let deployment_dir = layout.deployment_dir(&deployment.deployment_group_id, &deployment.deployment_id);
    let result = fetch_and_extract(layout, fetch, command, &deployment_dir, max_revisions, limits, log).await;
    if let Err(error) = &result {
        if matches!(error, Error::Write { .. }) {
            remove_partial(&deployment_dir, log);
        }
        // Only succeeds when nothing (not even a log) is left in it.
        let _ = fs::remove_dir(&deployment_dir);
    }
    result
}

/// When the deployment group trusts signing keys, one of them must have signed the bundle's digest; checked before
/// anything is downloaded or reused, so an unsigned bundle is never even on disk.
fn check_signature(spec: &cutover_api_types::agent::BundleSpec, sha256: &str, log: &EventLog) -> Result<(), Error> {
    if spec.trusted_keys.is_empty() {
        return Ok(());
    }
    let signer = spec
        .signatures
        .iter()
        .find_map(|signature| cutover_auth::signature::verify(&spec.trusted_keys, sha256, &signature.signature).ok());
    match signer {
        Some(key) => {
            log.line(&format!("[agent] Bundle sha256 {sha256} is signed by trusted key {key}"));
            Ok(())
        }
        None => Err(Error::Unsigned(format!(
            "The bundle (sha256 {sha256}) is not signed by any of the {} key(s) the deployment group trusts; nothing was downloaded",
            spec.trusted_keys.len()
        ))),
    }
}

async fn fetch_and_extract(
    layout: &Layout,
    fetch: &dyn Fetch,
    command: &HostCommand,
    deployment_dir: &Path,
    max_revisions: usize,
    limits: ExtractLimits,
    log: &EventLog,
) -> Result<(), Error> {
    let deployment = &command.deployment;
    let group_id = &deployment.deployment_group_id;
    let spec = &deployment.revision;
    let expected = spec.sha256.trim().to_ascii_lowercase();
    if expected.len() != 64 || !expected.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::Install(format!(
            "The deployment does not carry a valid SHA-256 for its bundle ({:?}); refusing to download it",
            spec.sha256
        )));
    }

    fs::create_dir_all(deployment_dir)
        .map_err(|e| Error::write(format!("creating {}", deployment_dir.display()), e))?;
    // Before any byte of the bundle is fetched or reused (the directory holds only this event's log so far).
    check_signature(spec, &expected, log)?;
    let bundle = Layout::bundle_file(deployment_dir);
    // Never write through a hard link into another deployment's bundle.
    remove_if_exists(&bundle).map_err(|e| Error::io(format!("cannot remove {}", bundle.display()), e))?;
    let _ = fs::remove_file(Layout::bundle_sha256_file(deployment_dir));

    // Before pruning: pruning may remove the directory reused here, once this one holds its own link or copy.
    let reused = reuse_local_bundle(layout, group_id, deployment_dir, &expected, log).await;

    let removed = layout
        .prune_revisions(group_id, deployment_dir, max_revisions)
        .map_err(|e| Error::io("cannot prune old revisions", e))?;
    for dir in removed {
        log.line(&format!("[agent] Removed the old revision {} (max revisions {max_revisions})", dir.display()));
    }

    if !reused {
        let fetched = download_verified(fetch, &spec.url, &bundle, &expected, log).await?;
        log.line(&format!("[agent] Downloaded {} bytes, sha256 {} verified", fetched.bytes, fetched.sha256));
    }

    let bundle_type = spec.bundle_type.clone();
    let archive_dir = Layout::archive_dir(deployment_dir);
    let dir = deployment_dir.to_path_buf();
    let extract_log = log.clone();
    let stats =
        tokio::task::spawn_blocking(move || extract_into_archive(&bundle, &bundle_type, &dir, &limits, &extract_log))
            .await
            .map_err(|e| Error::Install(format!("the extraction task failed: {e}")))??;
    log.line(&format!(
        "[agent] Extracted {} files, {} directories, {} symlinks ({} bytes) into {}",
        stats.files,
        stats.directories,
        stats.symlinks,
        stats.bytes,
        archive_dir.display()
    ));

    // Verified and extracted: a later redeploy of the same bundle may reuse it.
    if let Err(error) = Layout::write_bundle_sha256(deployment_dir, &expected) {
        log.line(&format!("[agent] Cannot record the bundle's SHA-256 (a redeploy will download it again): {error}"));
    }

    let pointer = layout.most_recent_install_file(group_id);
    layout
        .write_install_pointer(&pointer, deployment_dir)
        .map_err(|e| Error::write(format!("writing {}", pointer.display()), e))?;
    Ok(())
}

/// Downloads the bundle at `url` to `bundle` until its SHA-256 is `expected` ([`CHECKSUM_ATTEMPTS`] at most).
async fn download_verified(
    fetch: &dyn Fetch,
    url: &str,
    bundle: &Path,
    expected: &str,
    log: &EventLog,
) -> Result<Fetched, Error> {
    let mut attempt = 1;
    loop {
        log.line(&format!("[agent] Downloading the bundle from {url}"));
        let fetched = match fetch.fetch(url, bundle).await {
            Ok(fetched) => fetched,
            Err(error) => {
                let _ = fs::remove_file(bundle);
                return Err(error);
            }
        };
        if fetched.sha256 == expected {
            return Ok(fetched);
        }
        let _ = fs::remove_file(bundle);
        let mismatch = Error::ChecksumMismatch {
            url: url.to_owned(),
            expected: expected.to_owned(),
            actual: fetched.sha256,
            bytes: fetched.bytes,
        };
        if attempt >= CHECKSUM_ATTEMPTS {
            return Err(mismatch);
        }
        log.line(&format!("[agent] {mismatch}; downloading it again"));
        attempt += 1;
    }
}

/// Puts the bundle of an earlier deployment of the group with SHA-256 `expected` at `<deployment_dir>/bundle.tar`
/// (hard link, else copy) and checks its hash again. Returns false, with `bundle.tar` absent, when there is no such
/// bundle or it cannot be used; the reason is logged.
async fn reuse_local_bundle(
    layout: &Layout,
    group_id: &str,
    deployment_dir: &Path,
    expected: &str,
    log: &EventLog,
) -> bool {
    let Some(source_dir) = layout.find_verified_bundle(group_id, deployment_dir, expected) else {
        return false;
    };
    let source_id = source_dir.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
    let source = Layout::bundle_file(&source_dir);
    let dest = Layout::bundle_file(deployment_dir);
    let task = {
        let (source, dest) = (source.clone(), dest.clone());
        tokio::task::spawn_blocking(move || link_or_copy_hashing(&source, &dest))
    };
    let result = match task.await {
        Ok(result) => result,
        Err(error) => Err(Error::Install(format!("the copy task failed: {error}"))),
    };
    match result {
        Ok((fetched, how)) if fetched.sha256 == expected => {
            log.line(&format!(
                "[agent] Found the verified bundle {} ({} bytes); {how}",
                source.display(),
                fetched.bytes
            ));
            log.line(&format!(
                "[agent] Reused the bundle of deployment {source_id} (sha256 {expected}); nothing was downloaded."
            ));
            true
        }
        Ok((fetched, _)) => {
            let _ = fs::remove_file(&dest);
            log.line(&format!(
                "[agent] The local bundle {} of deployment {source_id} has SHA-256 {} ({} bytes), not {expected} as \
                 recorded; downloading the bundle instead",
                source.display(),
                fetched.sha256,
                fetched.bytes
            ));
            false
        }
        Err(error) => {
            let _ = fs::remove_file(&dest);
            log.line(&format!(
                "[agent] Cannot reuse the bundle {} of deployment {source_id}: {error}; downloading the bundle instead",
                source.display()
            ));
            false
        }
    }
}

/// Hard-links `source` to `dest`, or copies it when linking fails; returns the hash of what `dest` now holds and
/// how it got there.
fn link_or_copy_hashing(source: &Path, dest: &Path) -> Result<(Fetched, &'static str), Error> {
    match fs::hard_link(source, dest) {
        Ok(()) => {
            let fetched = hash_file(dest).map_err(|e| Error::io(format!("cannot read {}", dest.display()), e))?;
            Ok((fetched, "hard-linked it"))
        }
        Err(error) => {
            tracing::debug!(%error, "cannot hard-link the bundle; copying it");
            Ok((copy_hashing(source, dest)?, "copied it"))
        }
    }
}

/// The SHA-256 and length of a file.
fn hash_file(path: &Path) -> io::Result<Fetched> {
    let mut input = fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 256 * 1024];
    let mut bytes = 0u64;
    loop {
        let n = match input.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buffer[..n]);
        bytes += n as u64;
    }
    Ok(Fetched { sha256: hex::encode(hasher.finalize()), bytes })
}

fn remove_if_exists(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(error) if error.kind() != io::ErrorKind::NotFound => Err(error),
        _ => Ok(()),
    }
}

/// After a failed write: removes what this DownloadBundle wrote (the bundle, staging directories, the revision),
/// so that a full disk gets its space back. Logs stay.
fn remove_partial(deployment_dir: &Path, log: &EventLog) {
    let mut removed = Vec::new();
    let _ = fs::remove_file(Layout::bundle_sha256_file(deployment_dir));
    let bundle = Layout::bundle_file(deployment_dir);
    if fs::remove_file(&bundle).is_ok() {
        removed.push(bundle);
    }
    let archive_dir = Layout::archive_dir(deployment_dir);
    let mut dirs = vec![archive_dir];
    for entry in fs::read_dir(deployment_dir).into_iter().flatten().flatten() {
        if entry.file_name().to_string_lossy().starts_with(STAGING_PREFIX) {
            dirs.push(entry.path());
        }
    }
    for dir in dirs {
        if fs::symlink_metadata(&dir).is_ok() && fs::remove_dir_all(&dir).is_ok() {
            removed.push(dir);
        }
    }
    for path in removed {
        log.line(&format!("[agent] Removed {} to free the space it took", path.display()));
    }
}

/// Name prefix of the directories bundles are extracted into before being renamed to `deployment-archive`.
const STAGING_PREFIX: &str = ".deployment-archive.staging-";

static STAGING_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Extracts `bundle` into a staging directory inside `deployment_dir`, unwraps a single top-level directory that
/// holds the AppSpec, and renames the result to `deployment-archive` (replacing an older one). A failed write is
/// [`Error::Write`], naming `deployment-archive`; which file could not be written goes to `log`.
pub(crate) fn extract_into_archive(
    bundle: &Path,
    bundle_type: &str,
    deployment_dir: &Path,
    limits: &ExtractLimits,
    log: &EventLog,
) -> Result<archive::ExtractStats, Error> {
    let format = BundleFormat::detect(bundle, bundle_type)
        .map_err(|e| Error::io(format!("cannot read {}", bundle.display()), e))?;
    let staging = deployment_dir.join(format!(
        "{STAGING_PREFIX}{}-{}",
        std::process::id(),
        STAGING_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = fs::remove_dir_all(&staging);
    let archive_dir = Layout::archive_dir(deployment_dir);
    let stats = archive::extract(bundle, format, &staging, limits).map_err(|error| match error {
        ArchiveError::Write { action, path, source } => {
            let entry = path.strip_prefix(&staging).unwrap_or(&path);
            log.line(&format!("[agent] Extraction stopped: cannot {action} {}: {source}", entry.display()));
            Error::write(format!("extracting the bundle into {}", archive_dir.display()), source)
        }
        other => Error::Archive(other),
    })?;
    let result = (|| {
        let root = unwrap_single_directory(&staging)?;
        if fs::symlink_metadata(&archive_dir).is_ok() {
            fs::remove_dir_all(&archive_dir)?;
        }
        fs::rename(&root, &archive_dir)
    })();
    let _ = fs::remove_dir_all(&staging);
    result.map_err(|e| Error::io("cannot move the extracted bundle into place", e))?;
    Ok(stats)
}

/// Returns the directory to use as the revision root: the single top-level directory of `staging` when it is the
/// only entry and holds a file whose name contains "appspec" (any case), else `staging` itself.
fn unwrap_single_directory(staging: &Path) -> io::Result<PathBuf> {
    let mut entries = fs::read_dir(staging)?;
    let (Some(first), None) = (entries.next().transpose()?, entries.next()) else {
        return Ok(staging.to_path_buf());
    };
    if !first.file_type()?.is_dir() {
        return Ok(staging.to_path_buf());
    }
    let inner = first.path();
    for entry in fs::read_dir(&inner)? {
        let entry = entry?;
        if entry.file_type()?.is_file() && entry.file_name().to_string_lossy().to_ascii_lowercase().contains("appspec")
        {
            return Ok(inner);
        }
    }
    Ok(staging.to_path_buf())
}
