//! The agent's on-disk layout under `--root`, exactly as the CodeDeploy agent's `deployment-root` (§8.4):
//!
//! ```text
//! <root>/
//!   <DGID>/<DID>/bundle.tar                  the downloaded bundle, whatever its format
//!   <DGID>/<DID>/bundle.sha256               `<sha256>  bundle.tar` once the bundle was verified and extracted
//!                                            (Cutover only: what lets a redeploy reuse the bundle, see `bundle`)
//!   <DGID>/<DID>/deployment-archive/         the unpacked revision
//!   <DGID>/<DID>/logs/scripts.log            hook output
//!   <DGID>/<DID>/masks                       secrets the hooks marked with `::add-mask::` (Cutover only; mode 0600)
//!   deployment-instructions/<DGID>_last_successful_install   "<root>/<DGID>/<DID>", written after Install
//!   deployment-instructions/<DGID>_most_recent_install       "<root>/<DGID>/<DID>", written after DownloadBundle
//!   deployment-instructions/<DGID>-cleanup                    what the last Install created, one path per line
//!   deployment-instructions/<DGID>-install.json               the last Install's instructions
//!   deployment-logs/codedeploy-agent-deployments.log
//!   ongoing-deployment/<DID>                 the command id of the command running now (+ its running script)
//!   .cutover/commands/<command>.json         results of completed commands (Cutover only; see `state`)
//!   .cutover/task-sets.json                  the container task sets this agent was assigned (see `containers`)
//! ```
//!
//! Deployment and group ids come from the server; they are sanitised (`[A-Za-z0-9._-]` only) before they
//! become path components, so an id can never name a path outside the root.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::util::{sanitize_file_name, write_atomic, write_replacing};

/// Paths of the agent's state directory.
#[derive(Debug, Clone)]
pub struct Layout {
    root: PathBuf,
}

impl Layout {
    /// A layout rooted at `root` (created on demand).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `<root>/<DGID>`.
    pub fn group_dir(&self, group_id: &str) -> PathBuf {
        self.root.join(sanitize_file_name(group_id))
    }

    /// `<root>/<DGID>/<DID>`: the deployment's root directory.
    pub fn deployment_dir(&self, group_id: &str, deployment_id: &str) -> PathBuf {
        self.group_dir(group_id).join(sanitize_file_name(deployment_id))
    }

    /// `<deployment dir>/deployment-archive`.
    pub fn archive_dir(deployment_dir: &Path) -> PathBuf {
        deployment_dir.join("deployment-archive")
    }

    /// `<deployment dir>/bundle.tar`.
    pub fn bundle_file(deployment_dir: &Path) -> PathBuf {
        deployment_dir.join("bundle.tar")
    }

    /// `<deployment dir>/bundle.sha256`: the verified SHA-256 of `bundle.tar`, in `sha256sum` format.
    pub fn bundle_sha256_file(deployment_dir: &Path) -> PathBuf {
        deployment_dir.join("bundle.sha256")
    }

    /// Writes `bundle.sha256` for a verified `bundle.tar`.
    pub(crate) fn write_bundle_sha256(deployment_dir: &Path, sha256: &str) -> io::Result<()> {
        write_replacing(&Self::bundle_sha256_file(deployment_dir), format!("{sha256}  bundle.tar\n").as_bytes(), false)
    }

    /// The verified SHA-256 a deployment directory records for its `bundle.tar` (lowercase hex), if any.
    pub fn read_bundle_sha256(deployment_dir: &Path) -> Option<String> {
        let text = fs::read_to_string(Self::bundle_sha256_file(deployment_dir)).ok()?;
        let sha256 = text.split_whitespace().next()?.to_ascii_lowercase();
        (sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_hexdigit())).then_some(sha256)
    }

    /// The newest (by mtime) deployment directory of the group, other than `current`, whose `bundle.sha256` records
    /// `sha256` and whose `bundle.tar` still exists: a bundle this host already downloaded and verified.
    pub fn find_verified_bundle(&self, group_id: &str, current: &Path, sha256: &str) -> Option<PathBuf> {
        let entries = fs::read_dir(self.group_dir(group_id)).ok()?;
        entries
            .flatten()
            .filter(|entry| entry.path() != current && entry.file_type().is_ok_and(|t| t.is_dir()))
            .filter(|entry| Self::read_bundle_sha256(&entry.path()).is_some_and(|recorded| recorded == sha256))
            .filter(|entry| fs::symlink_metadata(Self::bundle_file(&entry.path())).is_ok_and(|m| m.is_file()))
            .map(|entry| (entry.metadata().and_then(|m| m.modified()).unwrap_or(SystemTime::UNIX_EPOCH), entry.path()))
            .max()
            .map(|(_, path)| path)
    }

    /// `<deployment dir>/masks`: the secrets redacted from the deployment's logs (see `eventlog`).
    pub fn masks_file(deployment_dir: &Path) -> PathBuf {
        deployment_dir.join("masks")
    }

    /// `<deployment dir>/logs/scripts.log`.
    pub fn scripts_log(deployment_dir: &Path) -> PathBuf {
        deployment_dir.join("logs").join("scripts.log")
    }

    /// `<root>/deployment-instructions`.
    pub fn instructions_dir(&self) -> PathBuf {
        self.root.join("deployment-instructions")
    }

    /// `<root>/deployment-instructions/<DGID>_last_successful_install`.
    pub fn last_successful_install_file(&self, group_id: &str) -> PathBuf {
        self.instructions_dir().join(format!("{}_last_successful_install", sanitize_file_name(group_id)))
    }

    /// `<root>/deployment-instructions/<DGID>_most_recent_install`.
    pub fn most_recent_install_file(&self, group_id: &str) -> PathBuf {
        self.instructions_dir().join(format!("{}_most_recent_install", sanitize_file_name(group_id)))
    }

    /// `<root>/deployment-instructions/<DGID>-cleanup`.
    pub fn cleanup_file(&self, group_id: &str) -> PathBuf {
        self.instructions_dir().join(format!("{}-cleanup", sanitize_file_name(group_id)))
    }

    /// `<root>/deployment-instructions/<DGID>-install.json`.
    pub fn install_instructions_file(&self, group_id: &str) -> PathBuf {
        self.instructions_dir().join(format!("{}-install.json", sanitize_file_name(group_id)))
    }

    /// `<root>/deployment-logs/codedeploy-agent-deployments.log`.
    pub fn deployments_log(&self) -> PathBuf {
        self.root.join("deployment-logs").join("codedeploy-agent-deployments.log")
    }

    /// `<root>/ongoing-deployment`.
    pub fn ongoing_dir(&self) -> PathBuf {
        self.root.join("ongoing-deployment")
    }

    /// `<root>/.cutover/commands`.
    pub fn commands_dir(&self) -> PathBuf {
        self.root.join(".cutover").join("commands")
    }

    /// `<root>/.cutover/task-sets.json`: the ids of the task sets this agent was assigned and has not stopped.
    pub fn task_sets_file(&self) -> PathBuf {
        self.root.join(".cutover").join("task-sets.json")
    }

    /// Reads a `_last_successful_install` / `_most_recent_install` file: the deployment directory it names, if the
    /// file exists and is not empty.
    pub fn read_install_pointer(path: &Path) -> io::Result<Option<PathBuf>> {
        match fs::read_to_string(path) {
            Ok(text) => {
                let text = text.trim();
                Ok(if text.is_empty() { None } else { Some(PathBuf::from(text)) })
            }
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Writes an install pointer (atomically, no trailing newline, like the CodeDeploy agent).
    pub fn write_install_pointer(&self, path: &Path, deployment_dir: &Path) -> io::Result<()> {
        fs::create_dir_all(self.instructions_dir())?;
        write_atomic(path, deployment_dir.as_os_str().as_encoded_bytes())
    }

    /// Applies `max_revisions` in DownloadBundle, before anything is downloaded (after a reused bundle was linked into
    /// `current`, see `bundle`): lists the group's deployment directories except the current one; if there are `count >= max_revisions`, removes the `count - max_revisions + 1` oldest (by
    /// mtime), never the last successful install. Returns the directories removed.
    pub fn prune_revisions(&self, group_id: &str, current: &Path, max_revisions: usize) -> io::Result<Vec<PathBuf>> {
        let group_dir = self.group_dir(group_id);
        let protected = Self::read_install_pointer(&self.last_successful_install_file(group_id))?;
        let mut dirs: Vec<(SystemTime, PathBuf)> = Vec::new();
        let entries = match fs::read_dir(&group_dir) {
            Ok(entries) => entries,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) => return Err(error),
        };
        for entry in entries {
            let entry = entry?;
            let path = entry.path();
            let metadata = entry.metadata()?;
            if !metadata.is_dir() || path == current {
                continue;
            }
            dirs.push((metadata.modified().unwrap_or(SystemTime::UNIX_EPOCH), path));
        }
        let extra = (dirs.len() + 1).saturating_sub(max_revisions);
        if extra == 0 {
            return Ok(Vec::new());
        }
        dirs.sort();
        let mut removed = Vec::new();
        for (_, path) in dirs {
            if removed.len() == extra {
                break;
            }
            if protected.as_deref() == Some(path.as_path()) {
                continue;
            }
            fs::remove_dir_all(&path)?;
            removed.push(path);
        }
        Ok(removed)
    }
}
