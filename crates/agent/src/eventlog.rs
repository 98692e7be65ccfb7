//! The log of one lifecycle event.
//!
//! Every line goes to three places: the event's in-memory log (sent to the server as `CompleteRequest.log`, capped
//! at [`MAX_EVENT_LOG`] by keeping its head and its tail), the deployments log
//! (`deployment-logs/codedeploy-agent-deployments.log`, `[YYYY-mm-dd HH:MM:SS.mmm] [<deployment-id>]<message>`), and
//! for hook events `<deployment dir>/logs/scripts.log` (`YYYY-MM-DD HH:MM:SS <message>`, UTC). Lines in memory carry
//! the `scripts.log` format. Writing a log file never fails an event; the first error is reported through tracing.
//!
//! **Masks.** A hook that prints `::add-mask::VALUE` marks VALUE as a secret ([`EventLog::add_mask`]): from then on
//! every occurrence of it in a line is replaced by `***` before the line goes anywhere, for the rest of the
//! deployment on this host. The masks of a deployment are kept in `<deployment dir>/masks` (mode 0600, one per
//! line, under the agent's root like the bundle itself), so later events of the deployment, and an agent restarted
//! in between, redact them too. What was logged before the mask was added stays as it was.
//!
//! A [`LineObserver`] given to [`EventLog::new`] sees every line as it is logged (formatted as in memory), in order:
//! the runner streams them to the server while the event runs, `cutover local` prints them.
//!
//! Commands of different deployments run at once, and all of them write the deployments log: each line is written
//! whole, with one `write` to a file opened in append mode, under a process-wide lock, so lines of concurrent events
//! never interleave or overwrite each other. `scripts.log` is per deployment, and a deployment runs one event at a
//! time.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use crate::util::{tail_str, utc_millis, utc_seconds};

/// Largest event log sent to the server.
pub(crate) const MAX_EVENT_LOG: usize = 1024 * 1024;
/// Size of `Diagnostics.log_tail`.
pub(crate) const LOG_TAIL: usize = 4096;

/// What a masked secret is replaced with.
const REDACTED: &str = "***";

/// Sees each line of an event's log as it is written (`YYYY-MM-DD HH:MM:SS <message>\n`). Called with the log's lock
/// held, so lines arrive in order: it must be quick and must not log to the same event.
pub type LineObserver = Arc<dyn Fn(&str) + Send + Sync>;

/// Held while a line is appended to the deployments log, which every running command writes.
static DEPLOYMENTS_LOG: Mutex<()> = Mutex::new(());

/// The head of the log kept whole: the first lines of an event, up to this many bytes, are its log's exact prefix.
pub(crate) const HEAD_CAP: usize = MAX_EVENT_LOG / 2;
const TAIL_CAP: usize = MAX_EVENT_LOG / 2 - 128;

/// The log of one event; cheap to clone (shared).
#[derive(Debug, Clone)]
pub(crate) struct EventLog {
    inner: Arc<Mutex<Inner>>,
}

struct Inner {
    deployment_id: String,
    /// Opened on the first line, so that an event that logs nothing creates no `scripts.log`.
    scripts_log_path: Option<PathBuf>,
    scripts_log: Option<File>,
    deployments_log: Option<File>,
    head: String,
    tail: String,
    omitted: u64,
    warned: bool,
    /// Secrets to redact, longest first (so that a secret containing another is hidden whole).
    masks: Vec<String>,
    /// Where the deployment's masks are kept (`<deployment dir>/masks`).
    masks_file: Option<PathBuf>,
    observer: Option<LineObserver>,
}

impl EventLog {
    /// A log for `deployment_id`, writing to `deployments_log` and, when given, to `scripts_log`; `observer` sees
    /// every line.
    pub(crate) fn new(
        deployment_id: &str,
        deployments_log: &Path,
        scripts_log: Option<PathBuf>,
        observer: Option<LineObserver>,
    ) -> Self {
        let inner = Inner {
            deployment_id: deployment_id.to_owned(),
            scripts_log_path: scripts_log,
            scripts_log: None,
            deployments_log: open_append(deployments_log),
            head: String::new(),
            tail: String::new(),
            omitted: 0,
            warned: false,
            masks: Vec::new(),
            masks_file: None,
            observer,
        };
        Self { inner: Arc::new(Mutex::new(inner)) }
    }

    /// Redacts the masks recorded in `masks_file` (the deployment's), and records the ones added later there.
    pub(crate) fn with_masks(self, masks_file: PathBuf) -> Self {
        {
            let mut inner = self.lock();
            if let Ok(text) = fs::read_to_string(&masks_file) {
                inner.masks = text.lines().filter(|line| !line.is_empty()).map(str::to_owned).collect();
                inner.masks.sort_by_key(|mask| std::cmp::Reverse(mask.len()));
            }
            inner.masks_file = Some(masks_file);
        }
        self
    }

    /// Marks `secret` as a secret: it is replaced by `***` in every later line (of this deployment, with
    /// [`EventLog::with_masks`]). Empty values are ignored.
    pub(crate) fn add_mask(&self, secret: &str) {
        if secret.is_empty() {
            return;
        }
        let mut inner = self.lock();
        if inner.masks.iter().any(|mask| mask == secret) {
            return;
        }
        inner.masks.push(secret.to_owned());
        inner.masks.sort_by_key(|mask| std::cmp::Reverse(mask.len()));
        let Some(path) = inner.masks_file.clone() else { return };
        let saved = path.parent().map_or(Ok(()), fs::create_dir_all).and_then(|()| {
            let mut file = OpenOptions::new().create(true).append(true).mode(0o600).open(&path)?;
            file.write_all(format!("{secret}\n").as_bytes())
        });
        if let Err(error) = saved {
            // Never the value itself: this goes to the agent's own log.
            tracing::warn!(path = %path.display(), %error, "cannot record a mask; later events may not redact it");
        }
    }

    /// Appends one line (a trailing newline is added), with every mask redacted.
    pub(crate) fn line(&self, message: &str) {
        let now = SystemTime::now();
        let mut inner = self.lock();
        let redacted = redact(message, &inner.masks);
        let message = redacted.as_str();
        let formatted = format!("{} {message}\n", utc_seconds(now));
        let mut failed = false;
        if let Some(path) = inner.scripts_log_path.take() {
            inner.scripts_log = open_append(&path);
            failed |= inner.scripts_log.is_none();
        }
        if let Some(file) = inner.scripts_log.as_mut() {
            failed |= file.write_all(formatted.as_bytes()).is_err();
        }
        let deployment_line = format!("[{}] [{}]{message}\n", utc_millis(now), inner.deployment_id);
        if let Some(file) = inner.deployments_log.as_mut() {
            let _appending = DEPLOYMENTS_LOG.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            failed |= file.write_all(deployment_line.as_bytes()).is_err();
        }
        if failed && !inner.warned {
            inner.warned = true;
            tracing::warn!("cannot write to the deployment logs");
        }
        inner.push(&formatted);
        if let Some(observer) = &inner.observer {
            observer(&formatted);
        }
    }

    /// The event's log, capped at [`MAX_EVENT_LOG`]: its head and its tail when it was longer.
    pub(crate) fn contents(&self) -> String {
        let inner = self.lock();
        // The tail buffer grows to twice its cap between trims; only its last TAIL_CAP bytes are sent.
        let tail = tail_str(&inner.tail, TAIL_CAP);
        let omitted = inner.omitted + (inner.tail.len() - tail.len()) as u64;
        if omitted == 0 {
            format!("{}{tail}", inner.head)
        } else {
            format!("{}\n... [{omitted} bytes omitted] ...\n{tail}", inner.head)
        }
    }

    /// The last [`LOG_TAIL`] bytes of the log (on a char boundary).
    pub(crate) fn tail(&self) -> String {
        tail_str(&self.contents(), LOG_TAIL).to_owned()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventLog").field("deployment_id", &self.deployment_id).finish_non_exhaustive()
    }
}

impl Inner {
    fn push(&mut self, text: &str) {
        if self.tail.is_empty() && self.head.len() + text.len() <= HEAD_CAP {
            self.head.push_str(text);
            return;
        }
        self.tail.push_str(text);
        if self.tail.len() > 2 * TAIL_CAP {
            let keep = tail_str(&self.tail, TAIL_CAP);
            let drop = self.tail.len() - keep.len();
            self.omitted += drop as u64;
            self.tail.drain(..drop);
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(file) = self.scripts_log.as_mut() {
            let _ = file.flush();
        }
    }
}

/// `message` with every mask replaced by [`REDACTED`].
fn redact(message: &str, masks: &[String]) -> String {
    let mut text = message.to_owned();
    for mask in masks {
        if text.contains(mask.as_str()) {
            text = text.replace(mask.as_str(), REDACTED);
        }
    }
    text
}

fn open_append(path: &Path) -> Option<File> {
    if let Some(parent) = path.parent() {
        let _ = fs::create_dir_all(parent);
    }
    OpenOptions::new().create(true).append(true).open(path).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_logs_keep_head_and_tail() {
        let dir = tempfile::tempdir().unwrap();
        let log = EventLog::new("d-1", &dir.path().join("deployments.log"), Some(dir.path().join("scripts.log")), None);
        let line = "x".repeat(1000);
        for _ in 0..3000 {
            log.line(&line);
        }
        log.line("the end");
        let contents = log.contents();
        assert!(contents.len() <= MAX_EVENT_LOG, "{}", contents.len());
        assert!(contents.contains("bytes omitted"));
        assert!(log.tail().ends_with("the end\n"));
        assert!(log.tail().len() <= LOG_TAIL);
        let scripts = fs::read_to_string(dir.path().join("scripts.log")).unwrap();
        assert!(scripts.ends_with(" the end\n"));
        let deployments = fs::read_to_string(dir.path().join("deployments.log")).unwrap();
        assert!(deployments.ends_with("] [d-1]the end\n"));
    }

    #[test]
    fn masks_redact_later_lines_everywhere_and_persist_for_the_deployment() {
        let dir = tempfile::tempdir().unwrap();
        let (deployments, scripts, masks) =
            (dir.path().join("deployments.log"), dir.path().join("scripts.log"), dir.path().join("d/masks"));
        let log = EventLog::new("d-1", &deployments, Some(scripts.clone()), None).with_masks(masks.clone());
        log.line("before: hunter2");
        log.add_mask("hunter2");
        log.add_mask("hunter2-long");
        log.add_mask("");
        log.line("after: hunter2 and hunter2-long");
        assert_eq!(
            log.contents().lines().map(|l| &l[20..]).collect::<Vec<_>>(),
            ["before: hunter2", "after: *** and ***"]
        );
        assert_eq!(fs::read_to_string(&masks).unwrap(), "hunter2\nhunter2-long\n");
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(fs::metadata(&masks).unwrap().permissions().mode() & 0o777, 0o600);
        // A later event of the same deployment redacts them from its first line.
        let next = EventLog::new("d-1", &deployments, Some(scripts.clone()), None).with_masks(masks);
        next.line("again hunter2-long");
        assert!(next.contents().ends_with(" again ***\n"), "{}", next.contents());
        assert!(fs::read_to_string(&scripts).unwrap().ends_with(" again ***\n"));
        assert!(fs::read_to_string(&deployments).unwrap().ends_with("] [d-1]again ***\n"));
    }

    #[test]
    fn concurrent_events_write_whole_lines_to_the_shared_deployments_log() {
        let dir = tempfile::tempdir().unwrap();
        let shared = dir.path().join("deployments.log");
        let line = "y".repeat(10_000);
        std::thread::scope(|scope| {
            for deployment in 0..4 {
                let (shared, line) = (&shared, &line);
                scope.spawn(move || {
                    let log = EventLog::new(&format!("d-{deployment}"), shared, None, None);
                    for _ in 0..100 {
                        log.line(line);
                    }
                });
            }
        });
        let deployments = fs::read_to_string(&shared).unwrap();
        assert_eq!(deployments.lines().count(), 400);
        assert!(
            deployments.lines().all(|l| l.starts_with('[') && l.ends_with(&format!("]{line}"))),
            "interleaved lines"
        );
    }
}
