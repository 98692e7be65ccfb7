//! What the agent remembers across commands and restarts.
//!
//! - [`CommandStore`]: the outcome of every command the agent ran (`<root>/.cutover/commands/<id>.json`, the last
//!   [`CommandStore::KEEP`] kept), with whether the server acknowledged it. A command the server hands out again is
//!   answered from here instead of being run again, and unacknowledged outcomes are re-reported after a restart.
//! - [`Tracking`]: `ongoing-deployment/<deployment-id>` holds the id of the command running now (CodeDeploy §8.7).
//!   A file left by a crashed agent means that command was interrupted: it is reported Failed on start-up.

use std::fs;
use std::io;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::executor::EventOutcome;
use crate::layout::Layout;
use crate::util::{sanitize_file_name, write_replacing};

/// Message of a command interrupted by an agent restart (the CodeDeploy agent's, word for word).
pub const RESTART_FAILURE_MESSAGE: &str = "Failed: Failing in-progress lifecycle event after an agent restart.";

/// Tracking files older than this are deleted without reporting (CodeDeploy: 24 h).
pub const TRACKING_MAX_AGE: Duration = Duration::from_secs(24 * 3600);

/// The stored result of one command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredCommand {
    pub command_id: String,
    pub deployment_id: String,
    pub lifecycle_event: String,
    pub outcome: EventOutcome,
    /// True once the server answered the completion (accepted or not).
    pub reported: bool,
}

/// Outcomes of completed commands, one JSON file each.
#[derive(Debug, Clone)]
pub struct CommandStore {
    dir: PathBuf,
}

impl CommandStore {
    /// How many outcomes are kept.
    pub const KEEP: usize = 200;

    pub fn new(layout: &Layout) -> Self {
        Self { dir: layout.commands_dir() }
    }

    fn path_for(&self, command_id: &str) -> PathBuf {
        let digest = hex::encode(Sha256::digest(command_id.as_bytes()));
        let mut name = sanitize_file_name(command_id);
        name.truncate(100);
        self.dir.join(format!("{name}-{}.json", &digest[..16]))
    }

    /// The stored outcome of `command_id`, if this agent ran it.
    pub fn get(&self, command_id: &str) -> io::Result<Option<StoredCommand>> {
        match fs::read(self.path_for(command_id)) {
            Ok(bytes) => Ok(serde_json::from_slice::<StoredCommand>(&bytes)
                .ok()
                .filter(|stored| stored.command_id == command_id)),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Stores (or replaces) an outcome. A new outcome is written durably (fsync): it is what keeps the event from
    /// running again. Marking it reported is not (losing that only causes one more, idempotent, report).
    pub fn put(&self, stored: &StoredCommand) -> io::Result<()> {
        fs::create_dir_all(&self.dir)?;
        let json = serde_json::to_vec(stored).map_err(io::Error::other)?;
        write_replacing(&self.path_for(&stored.command_id), &json, !stored.reported)
    }

    /// Every stored outcome the server has not acknowledged yet, oldest first.
    pub fn unreported(&self) -> io::Result<Vec<StoredCommand>> {
        let mut found: Vec<StoredCommand> =
            self.all()?.into_iter().map(|(_, _, stored)| stored).filter(|stored| !stored.reported).collect();
        found.sort_by_key(|stored| stored.outcome.end_time_ms);
        Ok(found)
    }

    /// Removes the oldest acknowledged outcomes beyond [`Self::KEEP`].
    pub fn prune(&self) -> io::Result<()> {
        let mut all = self.all()?;
        if all.len() <= Self::KEEP {
            return Ok(());
        }
        all.sort_by_key(|(modified, _, _)| *modified);
        let excess = all.len() - Self::KEEP;
        for (_, path, stored) in all.into_iter().filter(|(_, _, stored)| stored.reported).take(excess) {
            tracing::debug!(command_id = %stored.command_id, "forgetting an old command result");
            fs::remove_file(path)?;
        }
        Ok(())
    }

    fn all(&self) -> io::Result<Vec<(SystemTime, PathBuf, StoredCommand)>> {
        let entries = match fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) => return Err(error),
        };
        let mut all = Vec::new();
        for entry in entries {
            let entry = entry?;
            let path = entry.path();
            if path.extension().is_none_or(|ext| ext != "json") {
                continue;
            }
            let modified = entry.metadata()?.modified().unwrap_or(SystemTime::UNIX_EPOCH);
            if let Ok(stored) = serde_json::from_slice::<StoredCommand>(&fs::read(&path)?) {
                all.push((modified, path, stored));
            }
        }
        Ok(all)
    }
}

/// A command found in `ongoing-deployment` at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interrupted {
    pub deployment_id: String,
    pub command_id: String,
}

/// The `ongoing-deployment` directory.
#[derive(Debug, Clone)]
pub struct Tracking {
    dir: PathBuf,
}

impl Tracking {
    pub fn new(layout: &Layout) -> Self {
        Self { dir: layout.ongoing_dir() }
    }

    /// Records that `command_id` of `deployment_id` is starting. Returns the tracking file.
    pub fn begin(&self, deployment_id: &str, command_id: &str) -> io::Result<PathBuf> {
        fs::create_dir_all(&self.dir)?;
        let path = self.dir.join(sanitize_file_name(deployment_id));
        // Not fsynced (like the CodeDeploy agent): it guards against agent crashes, and costs nothing per command.
        write_replacing(&path, command_id.as_bytes(), false)?;
        Ok(path)
    }

    /// Records that the command of a tracking file is over.
    pub fn end(&self, path: &PathBuf) {
        if let Err(error) = fs::remove_file(path)
            && error.kind() != io::ErrorKind::NotFound
        {
            tracing::warn!(path = %path.display(), %error, "cannot remove the tracking file");
        }
    }

    /// Empties the directory, returning the commands of tracking files younger than [`TRACKING_MAX_AGE`] (most
    /// recent last).
    pub fn take_interrupted(&self) -> io::Result<Vec<Interrupted>> {
        let entries = match fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) => return Err(error),
        };
        let now = SystemTime::now();
        let mut found = Vec::new();
        for entry in entries {
            let entry = entry?;
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if !entry.file_type()?.is_file() || name.starts_with('.') {
                let _ = fs::remove_file(&path);
                continue;
            }
            let modified = entry.metadata()?.modified().unwrap_or(SystemTime::UNIX_EPOCH);
            let young = now.duration_since(modified).map(|age| age < TRACKING_MAX_AGE).unwrap_or(true);
            let command_id = fs::read_to_string(&path).unwrap_or_default().trim().to_owned();
            if young && !command_id.is_empty() {
                found.push((modified, Interrupted { deployment_id: name, command_id }));
            }
            fs::remove_file(&path)?;
        }
        found.sort_by_key(|(modified, _)| *modified);
        Ok(found.into_iter().map(|(_, interrupted)| interrupted).collect())
    }
}
