//! What a revision would put on a host, computed by the agent's own code without touching the host: the bundle is
//! unpacked as DownloadBundle unpacks it (validated extraction, single top-level directory unwrapped), its AppSpec
//! read as the executor reads it, and its files planned by Install's planner against an empty destination tree.
//! `cutover deploy plan` compares two revisions this way to show which files a deployment changes on a host.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use cutover_domain::appspec::AppSpec;
use sha2::{Digest, Sha256};

use crate::archive::ExtractLimits;
use crate::bundle::extract_into_archive;
use crate::error::Error;
use crate::eventlog::EventLog;
use crate::executor::load_appspec;
use crate::install::planned_files;
use crate::layout::Layout;

/// A revision unpacked under a work directory.
#[derive(Debug, Clone)]
pub struct Revision {
    /// The revision root (`deployment-archive`).
    pub archive: PathBuf,
    pub appspec: AppSpec,
    /// Every file and symlink an Install creates, by absolute path on the host.
    pub files: BTreeMap<PathBuf, InstalledFile>,
}

/// One file an Install creates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InstalledFile {
    /// A regular file: its SHA-256 and mode (from the bundle, or from a `permissions` entry).
    File {
        sha256: String,
        mode: u32,
    },
    Symlink {
        target: PathBuf,
    },
}

/// Unpacks `bundle` (`tar`, `tgz` or `zip`) into `work` (which must be empty or absent) and plans its Install.
pub fn unpack(bundle: &Path, bundle_type: &str, work: &Path) -> Result<Revision, Error> {
    let deployment_dir = work.join("deployment");
    fs::create_dir_all(&deployment_dir).map_err(|e| Error::io(format!("cannot create {}", work.display()), e))?;
    let log = EventLog::new("plan", &work.join("plan.log"), None, None);
    extract_into_archive(bundle, bundle_type, &deployment_dir, &ExtractLimits::default(), &log)?;
    let archive = Layout::archive_dir(&deployment_dir);
    let appspec = load_appspec(&archive)?;
    let empty_root = work.join("empty-root");
    fs::create_dir_all(&empty_root).map_err(|e| Error::io(format!("cannot create {}", empty_root.display()), e))?;
    let mut files = BTreeMap::new();
    for (destination, source, mode) in planned_files(&archive, &appspec, &empty_root)? {
        let metadata =
            fs::symlink_metadata(&source).map_err(|e| Error::io(format!("cannot stat {}", source.display()), e))?;
        let file = if metadata.file_type().is_symlink() {
            let target =
                fs::read_link(&source).map_err(|e| Error::io(format!("cannot read {}", source.display()), e))?;
            InstalledFile::Symlink { target }
        } else {
            InstalledFile::File { sha256: hash(&source)?, mode: mode.unwrap_or(metadata.permissions().mode() & 0o7777) }
        };
        files.insert(destination, file);
    }
    Ok(Revision { archive, appspec, files })
}

fn hash(path: &Path) -> Result<String, Error> {
    let read_error = |e| Error::io(format!("cannot read {}", path.display()), e);
    let mut file = fs::File::open(path).map_err(read_error)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let n = file.read(&mut buffer).map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// How the files of `next` differ from those of `previous` (the revision a host has installed, or none): paths
/// added, changed (content, mode or link target) and removed, each sorted.
pub fn file_changes(previous: Option<&Revision>, next: &Revision) -> FileChanges {
    let empty = BTreeMap::new();
    let before = previous.map_or(&empty, |revision| &revision.files);
    let mut changes = FileChanges::default();
    for (path, file) in &next.files {
        match before.get(path) {
            None => changes.added.push(path.clone()),
            Some(old) if old != file => changes.changed.push(path.clone()),
            Some(_) => changes.unchanged += 1,
        }
    }
    changes.removed = before.keys().filter(|path| !next.files.contains_key(*path)).cloned().collect();
    changes
}

/// The result of [`file_changes`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileChanges {
    pub added: Vec<PathBuf>,
    pub changed: Vec<PathBuf>,
    pub removed: Vec<PathBuf>,
    pub unchanged: usize,
}
