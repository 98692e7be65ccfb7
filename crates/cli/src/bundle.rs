//! Revision bundles: the archive `cutover push` builds from a directory.
//!
//! - Entries are the directory's contents, relative to it (`appspec.yml` at the root, no `./` prefix), sorted by path
//!   (bytewise), so a parent directory always precedes its contents and the same tree always gives the same bytes.
//! - Directories are entries of their own; regular files keep their permission bits (`0o7777` in tar/tgz; zip keeps
//!   `0o777`) and mtime; symlinks are stored as symlinks, never followed. Ownership is not recorded (uid/gid 0).
//! - Hidden files (a name starting with `.`) are skipped, with everything below them, only when asked.
//! - Sockets, FIFOs and devices are refused, as are names that are not UTF-8 or contain a backslash (the agent
//!   refuses those too).

use std::fmt;
use std::fs;
use std::io::{self, Cursor, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::GzEncoder;
use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;

/// The archive formats of a revision (`bundleType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BundleType {
    /// A gzip-compressed tar archive.
    Tgz,
    /// A zip archive (deflate).
    Zip,
    /// An uncompressed tar archive.
    Tar,
}

impl BundleType {
    /// The `bundleType` value, also the file extension of the default key.
    pub fn as_str(self) -> &'static str {
        match self {
            BundleType::Tgz => "tgz",
            BundleType::Zip => "zip",
            BundleType::Tar => "tar",
        }
    }

    /// Parses a `bundleType` (`tgz`, `zip`, `tar`; case-insensitive).
    pub fn parse(text: &str) -> Option<BundleType> {
        match text.to_ascii_lowercase().as_str() {
            "tgz" => Some(BundleType::Tgz),
            "zip" => Some(BundleType::Zip),
            "tar" => Some(BundleType::Tar),
            _ => None,
        }
    }

    /// Guesses the type from an object key's extension (`.tgz`, `.tar.gz`, `.zip`, `.tar`).
    pub fn from_key(key: &str) -> Option<BundleType> {
        let key = key.to_ascii_lowercase();
        if key.ends_with(".tgz") || key.ends_with(".tar.gz") {
            Some(BundleType::Tgz)
        } else if key.ends_with(".zip") {
            Some(BundleType::Zip)
        } else if key.ends_with(".tar") {
            Some(BundleType::Tar)
        } else {
            None
        }
    }
}

impl fmt::Display for BundleType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an entry is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    Directory,
    File,
    /// A symlink and its target, exactly as `readlink` returns it.
    Symlink(String),
}

/// One entry of a bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleEntry {
    /// Path relative to the bundle root, `/`-separated, without a trailing slash.
    pub path: String,
    /// Where the entry is on disk.
    pub source: PathBuf,
    pub kind: EntryKind,
    /// Permission bits (`0o7777`).
    pub mode: u32,
    /// Modification time, epoch seconds.
    pub mtime: i64,
}

/// A problem building a bundle.
#[derive(Debug)]
pub struct BundleError {
    pub path: Option<PathBuf>,
    pub message: String,
}

impl BundleError {
    fn new(path: &Path, message: impl Into<String>) -> BundleError {
        BundleError { path: Some(path.to_owned()), message: message.into() }
    }

    fn io(path: &Path, error: &io::Error) -> BundleError {
        BundleError::new(path, error.to_string())
    }

    fn archive(error: impl fmt::Display) -> BundleError {
        BundleError { path: None, message: format!("cannot write the archive: {error}") }
    }
}

impl fmt::Display for BundleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.path {
            Some(path) => write!(f, "{}: {}", path.display(), self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for BundleError {}

/// A built bundle.
#[derive(Debug, Clone)]
pub struct Bundle {
    pub bundle_type: BundleType,
    pub bytes: Vec<u8>,
    /// sha256 of `bytes`, lowercase hex (the ETag the server answers).
    pub sha256: String,
    /// The entries, in archive order.
    pub entries: Vec<BundleEntry>,
}

/// Lists the entries of a bundle of `dir`, sorted by path.
pub fn collect_entries(dir: &Path, ignore_hidden_files: bool) -> Result<Vec<BundleEntry>, BundleError> {
    let metadata = fs::metadata(dir).map_err(|error| BundleError::io(dir, &error))?;
    if !metadata.is_dir() {
        return Err(BundleError::new(dir, "not a directory"));
    }
    let mut entries = Vec::new();
    walk(dir, "", ignore_hidden_files, &mut entries)?;
    entries.sort_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
    Ok(entries)
}

fn walk(dir: &Path, prefix: &str, ignore_hidden: bool, entries: &mut Vec<BundleEntry>) -> Result<(), BundleError> {
    let read = fs::read_dir(dir).map_err(|error| BundleError::io(dir, &error))?;
    let mut children = Vec::new();
    for child in read {
        let child = child.map_err(|error| BundleError::io(dir, &error))?;
        children.push(child.path());
    }
    children.sort();
    for path in children {
        let name = path.file_name().unwrap_or_default();
        let Some(name) = name.to_str() else {
            return Err(BundleError::new(&path, "the file name is not valid UTF-8"));
        };
        if name.contains('\\') {
            return Err(BundleError::new(&path, "the file name contains a backslash, which agents refuse"));
        }
        if ignore_hidden && name.starts_with('.') {
            continue;
        }
        let relative = if prefix.is_empty() { name.to_owned() } else { format!("{prefix}/{name}") };
        let metadata = fs::symlink_metadata(&path).map_err(|error| BundleError::io(&path, &error))?;
        let file_type = metadata.file_type();
        let kind = if file_type.is_symlink() {
            let target = fs::read_link(&path).map_err(|error| BundleError::io(&path, &error))?;
            let target = target
                .into_os_string()
                .into_string()
                .map_err(|_| BundleError::new(&path, "the symlink target is not valid UTF-8"))?;
            if leaves_root(&relative, &target) {
                return Err(BundleError::new(
                    &path,
                    format!("the symlink target {target:?} is outside the revision directory, which agents refuse"),
                ));
            }
            EntryKind::Symlink(target)
        } else if file_type.is_dir() {
            EntryKind::Directory
        } else if file_type.is_file() {
            EntryKind::File
        } else {
            return Err(BundleError::new(
                &path,
                "not a regular file, directory or symlink (sockets, FIFOs and devices cannot be bundled)",
            ));
        };
        let is_dir = kind == EntryKind::Directory;
        entries.push(BundleEntry {
            path: relative.clone(),
            source: path.clone(),
            kind,
            mode: metadata.permissions().mode() & 0o7777,
            mtime: metadata.mtime(),
        });
        if is_dir {
            walk(&path, &relative, ignore_hidden, entries)?;
        }
    }
    Ok(())
}

/// Whether a symlink at `link` (relative to the bundle root) pointing to `target` resolves, lexically, outside the
/// bundle. Agents also follow the archive's other symlinks; this catches the common mistakes (absolute targets,
/// too many `..`).
fn leaves_root(link: &str, target: &str) -> bool {
    if target.starts_with('/') {
        return true;
    }
    // The directory holding the link, as a stack of components.
    let mut depth: Vec<&str> = link.split('/').collect();
    depth.pop();
    for component in target.split('/') {
        match component {
            "" | "." => {}
            ".." => {
                if depth.pop().is_none() {
                    return true;
                }
            }
            name => depth.push(name),
        }
    }
    false
}

/// Builds a bundle of `dir` in memory.
pub fn build(dir: &Path, bundle_type: BundleType, ignore_hidden_files: bool) -> Result<Bundle, BundleError> {
    let entries = collect_entries(dir, ignore_hidden_files)?;
    let bytes = write_archive(&entries, bundle_type)?;
    let sha256 = hex::encode(Sha256::digest(&bytes));
    Ok(Bundle { bundle_type, bytes, sha256, entries })
}

/// Writes `entries` as an archive of `bundle_type`.
pub fn write_archive(entries: &[BundleEntry], bundle_type: BundleType) -> Result<Vec<u8>, BundleError> {
    match bundle_type {
        BundleType::Tar => write_tar(entries, Vec::new()),
        BundleType::Tgz => {
            // flate2's default gzip header has no name and mtime 0, so the bytes depend on the entries only.
            let gzip = write_tar(entries, GzEncoder::new(Vec::new(), Compression::default()))?;
            gzip.finish().map_err(BundleError::archive)
        }
        BundleType::Zip => write_zip(entries),
    }
}

fn read_file(entry: &BundleEntry) -> Result<Vec<u8>, BundleError> {
    fs::read(&entry.source).map_err(|error| BundleError::io(&entry.source, &error))
}

fn write_tar<W: Write>(entries: &[BundleEntry], out: W) -> Result<W, BundleError> {
    let mut builder = tar::Builder::new(out);
    for entry in entries {
        let mut header = tar::Header::new_gnu();
        header.set_mtime(entry.mtime.max(0) as u64);
        header.set_uid(0);
        header.set_gid(0);
        match &entry.kind {
            EntryKind::Directory => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_mode(entry.mode);
                header.set_size(0);
                builder.append_data(&mut header, &entry.path, io::empty()).map_err(BundleError::archive)?;
            }
            EntryKind::File => {
                // Read whole, so the size in the header is exactly what follows it even if the file is changing.
                let data = read_file(entry)?;
                header.set_entry_type(tar::EntryType::Regular);
                header.set_mode(entry.mode);
                header.set_size(data.len() as u64);
                builder.append_data(&mut header, &entry.path, data.as_slice()).map_err(BundleError::archive)?;
            }
            EntryKind::Symlink(target) => {
                header.set_entry_type(tar::EntryType::Symlink);
                header.set_mode(0o777);
                header.set_size(0);
                builder.append_link(&mut header, &entry.path, target).map_err(BundleError::archive)?;
            }
        }
    }
    builder.into_inner().map_err(BundleError::archive)
}

fn zip_time(mtime: i64) -> zip::DateTime {
    let (year, month, day, hour, minute, second) = crate::timefmt::civil(mtime);
    u16::try_from(year)
        .ok()
        .and_then(|year| {
            zip::DateTime::from_date_and_time(year, month as u8, day as u8, hour as u8, minute as u8, second as u8).ok()
        })
        .unwrap_or_default()
}

fn write_zip(entries: &[BundleEntry]) -> Result<Vec<u8>, BundleError> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for entry in entries {
        let options = SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .last_modified_time(zip_time(entry.mtime))
            .unix_permissions(entry.mode);
        match &entry.kind {
            EntryKind::Directory => zip.add_directory(&entry.path, options).map_err(BundleError::archive)?,
            EntryKind::File => {
                let data = read_file(entry)?;
                let options = options.large_file(data.len() as u64 >= u64::from(u32::MAX));
                zip.start_file(&entry.path, options).map_err(BundleError::archive)?;
                zip.write_all(&data).map_err(BundleError::archive)?;
            }
            EntryKind::Symlink(target) => {
                zip.add_symlink(&entry.path, target, options.unix_permissions(0o777)).map_err(BundleError::archive)?
            }
        }
    }
    Ok(zip.finish().map_err(BundleError::archive)?.into_inner())
}
