//! What the agent remembers across commands and restarts.
//!
//! - [`CommandStore`]: the outcome of every command the agent ran (`<root>/.cutover/commands/<id>.json`, the last
//!   [`CommandStore::KEEP`] kept), with whether the server acknowledged it. A command the server hands out again is
//!   answered from here instead of being run again, and unacknowledged outcomes are re-reported after a restart.
//! - [`Tracking`]: `ongoing-deployment/<deployment-id>` holds the id of the deployment's command running now
//!   (CodeDeploy §8.7) and, while one of its hook scripts runs, that script's pid, start time and boot id
//!   ([`TrackingRecord`]). Commands of different deployments run at once, each with its own file (a deployment runs
//!   one command at a time). A file left by a crashed agent means that command was interrupted: on start-up, the
//!   script each file names is killed with every process it started, then each command is reported Failed.
//!
//! Both are safe under concurrency: every file is written to a temporary name of its own and renamed into place, and
//! a listing of the store tolerates files replaced or removed while it runs.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::executor::EventOutcome;
use crate::layout::Layout;
use crate::util::{sanitize_file_name, write_replacing};

/// Message of a command interrupted by an agent restart (the CodeDeploy agent's, word for word).
pub const RESTART_FAILURE_MESSAGE: &str = "Failed: Failing in-progress lifecycle event after an agent restart.";

/// Tracking files older than this are deleted without reporting (CodeDeploy: 24 h); their script is still killed.
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
            // Running commands store their outcomes meanwhile: a file may be replaced or go away during the scan.
            let read = entry
                .metadata()
                .and_then(|metadata| Ok((metadata.modified().unwrap_or(SystemTime::UNIX_EPOCH), fs::read(&path)?)));
            let (modified, bytes) = match read {
                Ok(read) => read,
                Err(error) if error.kind() == io::ErrorKind::NotFound => continue,
                Err(error) => return Err(error),
            };
            if let Ok(stored) = serde_json::from_slice::<StoredCommand>(&bytes) {
                all.push((modified, path, stored));
            }
        }
        Ok(all)
    }
}

/// The identity of a hook script process, as recorded in a tracking file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptProcess {
    pub pid: i32,
    /// Its start time (`/proc/<pid>/stat` field 22, clock ticks after boot): with the pid, it names one process
    /// only, even once the pid is reused.
    pub start_time: u64,
    /// The boot it ran in (`/proc/sys/kernel/random/boot_id`; `None` if unreadable): after a reboot, the same pid
    /// and start time may name an unrelated process.
    pub boot_id: Option<String>,
}

/// A command found in `ongoing-deployment` at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interrupted {
    pub deployment_id: String,
    pub command_id: String,
    /// The hook script the command was running, if it was running one.
    pub script: Option<ScriptProcess>,
    /// Older than [`TRACKING_MAX_AGE`]: forgotten without reporting.
    pub stale: bool,
    path: PathBuf,
}

/// The `ongoing-deployment` directory.
#[derive(Debug, Clone)]
pub struct Tracking {
    dir: PathBuf,
}

/// The tracking file of the command running now: its command id on the first line (as the CodeDeploy agent writes
/// it), then `script <pid> <start time> <boot id or ->` while one of its hook scripts runs.
#[derive(Debug, Clone)]
pub struct TrackingRecord {
    path: PathBuf,
    command_id: String,
}

impl TrackingRecord {
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Names the hook script the command runs now (replacing the previous one), or none (`None`: it exited). A
    /// failure is only logged: it costs the crash recovery the script's kill, not the event.
    pub fn set_script(&self, script: Option<&ScriptProcess>) {
        if let Err(error) = write_replacing(&self.path, render(&self.command_id, script).as_bytes(), false) {
            tracing::warn!(path = %self.path.display(), %error, "cannot update the tracking file");
        }
    }
}

fn render(command_id: &str, script: Option<&ScriptProcess>) -> String {
    match script {
        None => format!("{command_id}\n"),
        Some(script) => format!(
            "{command_id}\nscript {} {} {}\n",
            script.pid,
            script.start_time,
            script.boot_id.as_deref().unwrap_or("-")
        ),
    }
}

/// Reads a tracking file: the command id, and the script it names if any. A file holding only a command id (as an
/// earlier agent wrote it) is valid; an empty one is not.
fn parse(text: &str) -> Option<(String, Option<ScriptProcess>)> {
    let mut lines = text.lines();
    let command_id = lines.next()?.trim();
    if command_id.is_empty() {
        return None;
    }
    let script = lines.find_map(|line| {
        let mut fields = line.split_whitespace();
        if fields.next()? != "script" {
            return None;
        }
        let pid = fields.next()?.parse().ok()?;
        let start_time = fields.next()?.parse().ok()?;
        let boot_id = fields.next().filter(|id| *id != "-").map(str::to_owned);
        Some(ScriptProcess { pid, start_time, boot_id })
    });
    Some((command_id.to_owned(), script))
}

impl Tracking {
    pub fn new(layout: &Layout) -> Self {
        Self { dir: layout.ongoing_dir() }
    }

    /// Records that `command_id` of `deployment_id` is starting.
    pub fn begin(&self, deployment_id: &str, command_id: &str) -> io::Result<TrackingRecord> {
        fs::create_dir_all(&self.dir)?;
        let path = self.dir.join(sanitize_file_name(deployment_id));
        // Not fsynced (like the CodeDeploy agent): it guards against agent crashes, and costs nothing per command.
        write_replacing(&path, render(command_id, None).as_bytes(), false)?;
        Ok(TrackingRecord { path, command_id: command_id.to_owned() })
    }

    /// Records that the command of a tracking record is over.
    pub fn end(&self, record: &TrackingRecord) {
        remove(&record.path);
    }

    /// Forgets an interrupted command, once it has been dealt with.
    pub fn forget(&self, interrupted: &Interrupted) {
        remove(&interrupted.path);
    }

    /// The commands of the tracking files a previous run left (most recent last). Each file stays until
    /// [`Tracking::forget`]: a crash during the recovery leaves it for the next start. Other entries (temporary
    /// files, unreadable or empty files) are removed.
    pub fn interrupted(&self) -> io::Result<Vec<Interrupted>> {
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
            let stale = now.duration_since(modified).is_ok_and(|age| age >= TRACKING_MAX_AGE);
            match parse(&fs::read_to_string(&path).unwrap_or_default()) {
                Some((command_id, script)) => {
                    found.push((modified, Interrupted { deployment_id: name, command_id, script, stale, path }))
                }
                None => fs::remove_file(&path)?,
            }
        }
        found.sort_by_key(|(modified, _)| *modified);
        Ok(found.into_iter().map(|(_, interrupted)| interrupted).collect())
    }
}

fn remove(path: &Path) {
    if let Err(error) = fs::remove_file(path)
        && error.kind() != io::ErrorKind::NotFound
    {
        tracing::warn!(path = %path.display(), %error, "cannot remove the tracking file");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracking_files_round_trip_with_and_without_a_script() {
        let script = ScriptProcess { pid: 4242, start_time: 123_456, boot_id: Some("b00t".to_owned()) };
        assert_eq!(
            parse(&render("d-1/host-1/AfterInstall", Some(&script))),
            Some(("d-1/host-1/AfterInstall".to_owned(), Some(script)))
        );
        assert_eq!(parse(&render("d-1/host-1/Install", None)), Some(("d-1/host-1/Install".to_owned(), None)));
        let no_boot = ScriptProcess { pid: 7, start_time: 8, boot_id: None };
        assert_eq!(parse(&render("c", Some(&no_boot))).and_then(|(_, script)| script), Some(no_boot));
        // What an earlier agent (and the CodeDeploy agent) writes: the command id alone.
        assert_eq!(parse("d-1/host-1/AfterInstall"), Some(("d-1/host-1/AfterInstall".to_owned(), None)));
        assert_eq!(parse("c\nscript x 1 -\n"), Some(("c".to_owned(), None)));
        assert_eq!(parse(""), None);
        assert_eq!(parse("\n"), None);
    }
}
