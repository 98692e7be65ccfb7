//! The agent's error type: why a lifecycle event failed, and how that maps onto CodeDeploy's diagnostics.
//!
//! Every failure of an event is an [`Error`]. [`Error::error_code`] gives the `LifecycleErrorCode` the server shows
//! (`ScriptMissing`, `ScriptNotExecutable`, `ScriptTimedOut`, `ScriptFailed`, or `UnknownError` for everything that
//! is not a script's fault), and the `Display` text is the diagnostics message. Script messages follow the
//! CodeDeploy agent word for word, so tooling that matches on them keeps working.

use std::path::PathBuf;

use cutover_client::agent::AgentClientError;

use crate::archive::ArchiveError;

/// `Diagnostics.error_code` of a successful event.
pub const SUCCESS: &str = "Success";

/// Why a lifecycle event failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A hook script is not in the revision.
    #[error("Script does not exist at specified location: {}", path.display())]
    ScriptMissing { script: String, path: PathBuf },

    /// A hook script is not executable and `chmod +x` failed.
    #[error("Unable to set script at specified location: {} as executable", path.display())]
    ScriptNotExecutable { script: String, path: PathBuf },

    /// A hook script ran past its timeout (it and every process it started were terminated).
    #[error("Script at specified location: {script} failed to complete in {timeout_secs} seconds")]
    ScriptTimedOut { script: String, timeout_secs: u64 },

    /// A hook script exited with a non-zero status (or was killed by a signal: `128 + signal`).
    #[error("Script at specified location: {script} {}failed with exit code {code}{}", run_as(runas),
        signal.map(|s| format!(" (killed by signal {s})")).unwrap_or_default())]
    ScriptFailed { script: String, runas: Option<String>, code: i32, signal: Option<i32> },

    /// A hook script could not be started (no shebang, unknown `runas` user, missing `sudo`, ...).
    #[error("Script at specified location: {script} {}failed to start: {reason}", run_as(runas))]
    ScriptStart { script: String, runas: Option<String>, reason: String },

    /// The AppSpec could not be read or is invalid; one line per problem.
    #[error("{0}")]
    AppSpec(String),

    /// The bundle could not be downloaded.
    #[error("Failed to download the bundle: {0}")]
    Download(#[from] AgentClientError),

    /// The downloaded bundle does not have the SHA-256 the server announced; nothing was extracted.
    #[error(
        "The bundle downloaded from {url} has SHA-256 {actual} ({bytes} bytes) but the deployment expects {expected}; \
         nothing was extracted"
    )]
    ChecksumMismatch { url: String, expected: String, actual: String, bytes: u64 },

    /// The deployment group requires signed revisions and this bundle has no valid signature; nothing was fetched.
    #[error("{0}")]
    Unsigned(String),

    /// The bundle is not a safe, well-formed archive; nothing was extracted.
    #[error("The bundle was refused: {0}")]
    Archive(#[from] ArchiveError),

    /// DISALLOW found a file that the previous install did not create.
    #[error("The deployment failed because a specified file already exists at this location: {}", path.display())]
    FileExists { path: PathBuf },

    /// Install could not be planned or carried out (conflicting mappings, failed permission, ...).
    #[error("{0}")]
    Install(String),

    /// Writing to the host's disk failed: no space left on the device, quota exceeded, read-only filesystem, ...
    /// The message starts with the cause, e.g. `No space left on device while extracting the bundle into <dir>`.
    #[error("{} while {action}", cause(source))]
    Write {
        /// What the agent was doing: `downloading the bundle to <path>`, `installing <path>`, ...
        action: String,
        #[source]
        source: std::io::Error,
    },

    /// A filesystem operation failed.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

/// The OS's description of an I/O error without Rust's ` (os error N)` suffix: `No space left on device`.
fn cause(error: &std::io::Error) -> String {
    match error.raw_os_error() {
        Some(code) => nix::errno::Errno::from_raw(code).desc().to_owned(),
        None => error.to_string(),
    }
}

fn run_as(runas: &Option<String>) -> String {
    runas.as_ref().map(|user| format!("run as user {user} ")).unwrap_or_default()
}

impl Error {
    /// The CodeDeploy `LifecycleErrorCode` of this failure.
    pub fn error_code(&self) -> &'static str {
        match self {
            Self::ScriptMissing { .. } => "ScriptMissing",
            Self::ScriptNotExecutable { .. } => "ScriptNotExecutable",
            Self::ScriptTimedOut { .. } => "ScriptTimedOut",
            Self::ScriptFailed { .. } | Self::ScriptStart { .. } => "ScriptFailed",
            Self::AppSpec(_)
            | Self::Download(_)
            | Self::ChecksumMismatch { .. }
            | Self::Unsigned(_)
            | Self::Archive(_)
            | Self::FileExists { .. }
            | Self::Install(_)
            | Self::Write { .. }
            | Self::Io { .. } => "UnknownError",
        }
    }

    /// The AppSpec `location` of the script that failed, if a script failed.
    pub fn script_name(&self) -> Option<&str> {
        match self {
            Self::ScriptMissing { script, .. }
            | Self::ScriptNotExecutable { script, .. }
            | Self::ScriptTimedOut { script, .. }
            | Self::ScriptFailed { script, .. }
            | Self::ScriptStart { script, .. } => Some(script),
            _ => None,
        }
    }

    /// A failed write to the host's disk, while doing `action` (`installing /srv/app/x`).
    pub(crate) fn write(action: impl Into<String>, source: std::io::Error) -> Self {
        Self::Write { action: action.into(), source }
    }

    /// Wraps an I/O error with what the agent was doing.
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io { context: context.into(), source }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_messages_match_codedeploy() {
        let failed = Error::ScriptFailed { script: "s.sh".into(), runas: None, code: 3, signal: None };
        assert_eq!(failed.to_string(), "Script at specified location: s.sh failed with exit code 3");
        let failed = Error::ScriptFailed { script: "s.sh".into(), runas: Some("app".into()), code: 3, signal: None };
        assert_eq!(failed.to_string(), "Script at specified location: s.sh run as user app failed with exit code 3");
        let timed_out = Error::ScriptTimedOut { script: "s.sh".into(), timeout_secs: 5 };
        assert_eq!(timed_out.to_string(), "Script at specified location: s.sh failed to complete in 5 seconds");
        assert_eq!(timed_out.error_code(), "ScriptTimedOut");
        assert_eq!(timed_out.script_name(), Some("s.sh"));
        let full = Error::write("installing /srv/app/a", std::io::Error::from_raw_os_error(nix::libc::ENOSPC));
        assert_eq!(full.to_string(), "No space left on device while installing /srv/app/a");
        assert_eq!(full.error_code(), "UnknownError");
    }
}
