//! The validated AppSpec model. Everything here has passed validation; defaults are filled in.

use std::fmt;

use crate::lifecycle::LifecycleEvent;

/// Default per-script timeout, in seconds (CodeDeploy's).
pub const DEFAULT_HOOK_TIMEOUT_SECS: u64 = 3600;

/// A validated EC2/on-premises `appspec.yml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppSpec {
    /// Always "0.0".
    pub version: String,
    pub os: Os,
    /// `files` mappings in document order.
    pub files: Vec<FileMapping>,
    /// Top-level `file_exists_behavior`, if the file sets one.
    pub file_exists_behavior: Option<FileExistsBehavior>,
    /// `permissions` in document order.
    pub permissions: Vec<Permission>,
    /// Hooks in document order; an event appears at most once; events with a null value are omitted.
    pub hooks: Vec<Hook>,
}

impl AppSpec {
    /// Returns the scripts of one lifecycle event, in order (empty when the event has no hook).
    pub fn scripts(&self, event: LifecycleEvent) -> &[HookScript] {
        self.hooks.iter().find(|hook| hook.event == event).map(|hook| hook.scripts.as_slice()).unwrap_or(&[])
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Os {
    Linux,
    Windows,
}

/// One `files` entry: `source` relative to the bundle root ("/" = the whole bundle), absolute `destination` directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileMapping {
    pub source: String,
    pub destination: String,
}

/// What Install does when a file it would copy already exists and was not installed by the previous revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FileExistsBehavior {
    /// Fail the deployment (the default).
    #[default]
    Disallow,
    /// Replace the existing file.
    Overwrite,
    /// Keep the existing file and skip the copy.
    Retain,
}

impl FileExistsBehavior {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Disallow => "DISALLOW",
            Self::Overwrite => "OVERWRITE",
            Self::Retain => "RETAIN",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "DISALLOW" => Some(Self::Disallow),
            "OVERWRITE" => Some(Self::Overwrite),
            "RETAIN" => Some(Self::Retain),
            _ => None,
        }
    }
}

/// Whether a permission applies to files, directories or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectType {
    File,
    Directory,
}

/// SELinux context of a permission (`type` is required by CodeDeploy).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeContext {
    pub name: Option<String>,
    pub type_: String,
    pub range: Option<String>,
}

/// One `permissions` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permission {
    pub object: String,
    /// Glob matched against immediate child names; "**" (the default) matches at any depth.
    pub pattern: String,
    pub except: Vec<String>,
    pub owner: Option<String>,
    pub group: Option<String>,
    /// Octal mode bits, e.g. 0o755.
    pub mode: Option<u32>,
    pub acls: Vec<String>,
    pub context: Option<SeContext>,
    /// Defaults to both files and directories.
    pub types: Vec<ObjectType>,
}

/// The scripts of one lifecycle event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hook {
    pub event: LifecycleEvent,
    pub scripts: Vec<HookScript>,
}

/// One script of a hook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookScript {
    /// Path relative to the bundle root (a leading "/" is tolerated and means the same).
    pub location: String,
    /// Seconds; defaults to [`DEFAULT_HOOK_TIMEOUT_SECS`].
    pub timeout_secs: u64,
    pub runas: Option<String>,
    /// CodeDeploy's undocumented `sudo: true`.
    pub sudo: bool,
}

/// One problem found in an AppSpec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// 1-based line of the offending node, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// Dotted path of the field, e.g. `hooks.BeforeInstall[0].timeout`; empty for the document itself.
    pub field: String,
    pub message: String,
    /// How to fix it, when there is an obvious fix.
    pub hint: Option<String>,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(line) = self.line {
            write!(f, "line {line}: ")?;
        }
        if !self.field.is_empty() {
            write!(f, "{}: ", self.field)?;
        }
        f.write_str(&self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, " (hint: {hint})")?;
        }
        Ok(())
    }
}
