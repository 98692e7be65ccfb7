//! Safe extraction of revision bundles (tar, tgz, zip).
//!
//! Extraction runs in two passes over the archive:
//! 1. **Validate** every entry before anything is written. Refused: absolute paths, `..` components, backslashes,
//!    device/FIFO/socket/sparse entries, duplicate paths (except a directory listed twice), entries below a
//!    non-directory, symlinks whose target (followed through the archive's other symlinks) leaves the bundle, hard
//!    links to anything but a regular file of the archive, a PAX `size` that disagrees with the tar header (the
//!    "TARmageddon" desync), oversized GNU long-name/PAX headers, regular files with the set-user-ID or set-group-ID
//!    bit (unless [`ExtractLimits::allow_setuid`]), more than [`ExtractLimits::max_entries`] entries, more than
//!    [`ExtractLimits::max_total_bytes`] of file data, file data more than [`ExtractLimits::max_ratio`] times the
//!    archive's own size, and zip entries that share their bytes with another entry (the overlapping-entry zip
//!    bomb). Errors name the offending entry.
//! 2. **Write** into `dest`, which must not exist yet: it is created only once validation passed, and removed again
//!    if writing fails. Directories and files come first, then hard links, then symlinks (so no write can go through
//!    a link), then directory modes and mtimes, deepest first. Files are opened with `O_CREAT|O_EXCL`. Ownership is
//!    never taken from the archive; permission bits (`0o7777`) and mtimes are. A failure of the host's filesystem
//!    (no space left, quota, ...) is an [`ArchiveError::Write`], told apart from a corrupt archive, so the caller can
//!    report the real cause.
//!
//! Tar headers are read in raw mode and GNU long names, long links and PAX records are merged here, by one parser
//! for both passes, so the passes cannot disagree about where an entry starts.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::fs::{self, File, FileTimes, OpenOptions};
use std::io::{self, BufReader, Read, Write};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use tar::EntryType;

use crate::util::days_from_civil;

/// Largest GNU long name / long link accepted.
const MAX_LONG_NAME: u64 = 64 * 1024;
/// Largest PAX extended header accepted.
const MAX_PAX_HEADER: u64 = 1024 * 1024;
/// Largest symlink target accepted (PATH_MAX).
const MAX_LINK_TARGET: u64 = 4096;
/// Most symlinks followed while resolving one target (Linux's MAXSYMLINKS).
const MAX_SYMLINK_HOPS: u32 = 40;

/// File data an archive may always hold, whatever its expansion ratio.
const RATIO_FLOOR_BYTES: u64 = 1024 * 1024;

/// What an extraction accepts: caps against decompression bombs, and whether set-user-ID files are allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtractLimits {
    /// Most bytes of file data the archive may expand to.
    pub max_total_bytes: u64,
    /// Most entries the archive may hold.
    pub max_entries: u64,
    /// Most bytes of file data per byte of archive (beyond the first MiB of data). Deflate cannot compress better
    /// than about 1032:1, so only an archive whose entries share or lie about their data goes beyond the default.
    pub max_ratio: u64,
    /// Regular files with the set-user-ID or set-group-ID bit are refused unless this is set (`--allow-setuid`).
    pub allow_setuid: bool,
}

impl Default for ExtractLimits {
    fn default() -> Self {
        Self { max_total_bytes: 8 * 1024 * 1024 * 1024, max_entries: 1_000_000, max_ratio: 1100, allow_setuid: false }
    }
}

/// The archive formats of CodeDeploy bundles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BundleFormat {
    Tar,
    Tgz,
    Zip,
}

impl BundleFormat {
    /// Parses a `bundleType` (`tar`, `tgz`, `zip`; case-insensitive).
    pub fn from_bundle_type(bundle_type: &str) -> Option<Self> {
        match bundle_type.to_ascii_lowercase().as_str() {
            "tar" => Some(Self::Tar),
            "tgz" | "tar.gz" | "gzip" => Some(Self::Tgz),
            "zip" => Some(Self::Zip),
            _ => None,
        }
    }

    /// Picks the format of the file at `path`: gzip and zip magic numbers win over the declared type (a bundle
    /// registered with the wrong type still extracts); otherwise the declared type, defaulting to tar.
    pub fn detect(path: &Path, declared: &str) -> io::Result<Self> {
        let mut magic = [0u8; 4];
        let mut file = File::open(path)?;
        let mut read = 0;
        while read < magic.len() {
            match file.read(&mut magic[read..])? {
                0 => break,
                n => read += n,
            }
        }
        Ok(if read >= 2 && magic[..2] == [0x1f, 0x8b] {
            Self::Tgz
        } else if read == 4 && (magic == *b"PK\x03\x04" || magic == *b"PK\x05\x06") {
            Self::Zip
        } else {
            match Self::from_bundle_type(declared) {
                Some(Self::Zip) | None => Self::Tar,
                Some(other) => other,
            }
        })
    }
}

/// Why an archive was refused.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// One entry is unsafe or malformed.
    #[error("entry {entry:?}: {reason}")]
    Entry { entry: String, reason: String },
    #[error("the archive has more than {limit} entries")]
    TooManyEntries { limit: u64 },
    #[error("the archive expands to more than {limit} bytes")]
    TooLarge { limit: u64 },
    /// The entries declare far more data than the archive could hold (a zip bomb, or a truncated archive).
    #[error("the archive declares {declared} bytes of data in {archive_bytes} bytes, more than {limit} times its size")]
    TooCompressed { declared: u64, archive_bytes: u64, limit: u64 },
    /// The archive cannot be parsed.
    #[error("the archive is malformed: {0}")]
    Malformed(String),
    /// Writing into the destination failed (no space left on the device, quota exceeded, ...): the host's fault, not
    /// the archive's.
    #[error("cannot {action} {}: {source}", path.display())]
    Write {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
}

impl ArchiveError {
    fn entry(name: &[u8], reason: impl Into<String>) -> Self {
        Self::Entry { entry: String::from_utf8_lossy(name).into_owned(), reason: reason.into() }
    }

    fn io(context: impl Into<String>, source: io::Error) -> Self {
        Self::Io { context: context.into(), source }
    }

    fn write(action: &'static str, path: &Path, source: io::Error) -> Self {
        Self::Write { action, path: path.to_path_buf(), source }
    }
}

/// What an extraction wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExtractStats {
    pub files: u64,
    pub directories: u64,
    pub symlinks: u64,
    pub hardlinks: u64,
    /// Bytes of file data written.
    pub bytes: u64,
}

/// Validates the archive at `archive`, then extracts it into `dest`, which must not exist (its parent must). On any
/// error nothing is left at `dest`.
pub fn extract(
    archive: &Path,
    format: BundleFormat,
    dest: &Path,
    limits: &ExtractLimits,
) -> Result<ExtractStats, ArchiveError> {
    if fs::symlink_metadata(dest).is_ok() {
        return Err(ArchiveError::io(
            format!("cannot extract into {}", dest.display()),
            io::Error::from(io::ErrorKind::AlreadyExists),
        ));
    }
    let archive_bytes =
        fs::metadata(archive).map_err(|e| ArchiveError::io(format!("cannot open {}", archive.display()), e))?.len();
    let plan = match format {
        BundleFormat::Tar | BundleFormat::Tgz => {
            let mut validator = Validator::new(*limits, archive_bytes);
            walk_tar(archive, format, limits, |seq, item, _| validator.add_tar(seq, item))?;
            validator.finish()?
        }
        BundleFormat::Zip => validate_zip(archive, limits, archive_bytes)?,
    };
    fs::create_dir(dest).map_err(|source| ArchiveError::write("create", dest, source))?;
    let result = match format {
        BundleFormat::Tar | BundleFormat::Tgz => write_tar(archive, format, limits, &plan, dest),
        BundleFormat::Zip => write_zip(archive, &plan, dest),
    };
    match result {
        Ok(stats) => Ok(stats),
        Err(error) => {
            let _ = fs::remove_dir_all(dest);
            Err(error)
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Validation

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Dir,
    File { size: u64 },
    Symlink { target: Vec<u8> },
    Hardlink { target: PathBuf },
}

#[derive(Debug)]
struct Planned {
    /// Position of the entry in the archive (tar: n-th non-extension header; zip: central directory index).
    seq: usize,
    /// Normalised path relative to the bundle root (never empty).
    path: PathBuf,
    /// The name as stored, for error messages.
    name: Vec<u8>,
    kind: Kind,
    mode: u32,
    mtime: Option<u64>,
}

#[derive(Debug)]
struct Plan {
    entries: Vec<Planned>,
}

struct Validator {
    limits: ExtractLimits,
    /// Size of the archive file, for the expansion ratio.
    archive_bytes: u64,
    entries: Vec<Planned>,
    by_path: HashMap<PathBuf, usize>,
    count: u64,
    total: u64,
}

impl Validator {
    fn new(limits: ExtractLimits, archive_bytes: u64) -> Self {
        Self { limits, archive_bytes, entries: Vec::new(), by_path: HashMap::new(), count: 0, total: 0 }
    }

    fn add_tar(&mut self, seq: usize, item: &TarItem) -> Result<(), ArchiveError> {
        let kind = tar_kind(item)?;
        self.add(seq, &item.name, kind, item.mode, Some(item.mtime))
    }

    fn add(&mut self, seq: usize, name: &[u8], kind: Kind, mode: u32, mtime: Option<u64>) -> Result<(), ArchiveError> {
        self.count += 1;
        if self.count > self.limits.max_entries {
            return Err(ArchiveError::TooManyEntries { limit: self.limits.max_entries });
        }
        if let Kind::File { size } = kind {
            self.total = self.total.saturating_add(size);
            if self.total > self.limits.max_total_bytes {
                return Err(ArchiveError::TooLarge { limit: self.limits.max_total_bytes });
            }
            let allowed = self.archive_bytes.saturating_mul(self.limits.max_ratio).max(RATIO_FLOOR_BYTES);
            if self.total > allowed {
                return Err(ArchiveError::TooCompressed {
                    declared: self.total,
                    archive_bytes: self.archive_bytes,
                    limit: self.limits.max_ratio,
                });
            }
            if mode & 0o6000 != 0 && !self.limits.allow_setuid {
                let bit = if mode & 0o4000 != 0 { "set-user-ID" } else { "set-group-ID" };
                return Err(ArchiveError::entry(
                    name,
                    format!(
                        "mode {mode:04o} has the {bit} bit; start the agent with --allow-setuid to accept such files"
                    ),
                ));
            }
        }
        let path = match normalize(name).map_err(|reason| ArchiveError::entry(name, reason))? {
            Some(path) => path,
            // `./` itself: nothing to create.
            None if kind == Kind::Dir => return Ok(()),
            None => return Err(ArchiveError::entry(name, "the entry has an empty path")),
        };
        let kind = match kind {
            Kind::Symlink { target } => {
                if target.is_empty() {
                    return Err(ArchiveError::entry(name, "symlink with an empty target"));
                }
                if target.starts_with(b"/") {
                    return Err(ArchiveError::entry(
                        name,
                        format!(
                            "symlink target {:?} is an absolute path, which points outside the bundle",
                            String::from_utf8_lossy(&target)
                        ),
                    ));
                }
                Kind::Symlink { target }
            }
            Kind::Hardlink { target } => {
                let raw = target.as_os_str().as_bytes();
                match normalize(raw) {
                    Ok(Some(normalised)) => Kind::Hardlink { target: normalised },
                    Ok(None) => return Err(ArchiveError::entry(name, "hard link to the bundle root")),
                    Err(reason) => {
                        return Err(ArchiveError::entry(
                            name,
                            format!(
                                "hard link target {:?} points outside the bundle ({reason})",
                                String::from_utf8_lossy(raw)
                            ),
                        ));
                    }
                }
            }
            other => other,
        };
        if let Some(&existing) = self.by_path.get(&path) {
            let both_dirs = self.entries[existing].kind == Kind::Dir && kind == Kind::Dir;
            if !both_dirs {
                return Err(ArchiveError::entry(name, "the archive holds this path more than once"));
            }
        }
        self.by_path.insert(path.clone(), self.entries.len());
        self.entries.push(Planned { seq, path, name: name.to_vec(), kind, mode, mtime });
        Ok(())
    }

    /// Checks what needs the whole archive: ancestors are directories, symlinks stay inside, hard links point at
    /// regular files.
    fn finish(self) -> Result<Plan, ArchiveError> {
        for entry in &self.entries {
            let mut ancestor = entry.path.parent();
            while let Some(dir) = ancestor.filter(|dir| !dir.as_os_str().is_empty()) {
                if let Some(&index) = self.by_path.get(dir)
                    && self.entries[index].kind != Kind::Dir
                {
                    return Err(ArchiveError::entry(
                        &entry.name,
                        format!("it lies below {:?}, which is not a directory in the archive", dir.display()),
                    ));
                }
                ancestor = dir.parent();
            }
            match &entry.kind {
                Kind::Symlink { target } => {
                    let mut stack: Vec<OsString> =
                        entry.path.parent().map(|p| p.iter().map(OsStr::to_os_string).collect()).unwrap_or_default();
                    let mut hops = MAX_SYMLINK_HOPS;
                    self.follow(&mut stack, target, &mut hops).map_err(|reason| {
                        ArchiveError::entry(
                            &entry.name,
                            format!("symlink target {:?} {reason}", String::from_utf8_lossy(target)),
                        )
                    })?;
                }
                Kind::Hardlink { target } => {
                    let is_file = self
                        .by_path
                        .get(target)
                        .is_some_and(|&index| matches!(self.entries[index].kind, Kind::File { .. }));
                    if !is_file {
                        return Err(ArchiveError::entry(
                            &entry.name,
                            format!("hard link target {:?} is not a regular file of the archive", target.display()),
                        ));
                    }
                }
                Kind::Dir | Kind::File { .. } => {}
            }
        }
        Ok(Plan { entries: self.entries })
    }

    /// Walks `target` from the directory `stack`, expanding the archive's own symlinks, and fails if the walk ever
    /// climbs above the bundle root.
    fn follow(&self, stack: &mut Vec<OsString>, target: &[u8], hops: &mut u32) -> Result<(), &'static str> {
        if target.starts_with(b"/") {
            return Err("goes through an absolute symlink, which points outside the bundle");
        }
        for component in target.split(|b| *b == b'/') {
            match component {
                b"" | b"." => {}
                b".." => {
                    if stack.pop().is_none() {
                        return Err("resolves outside the bundle");
                    }
                }
                name => {
                    stack.push(OsStr::from_bytes(name).to_os_string());
                    let path: PathBuf = stack.iter().collect();
                    if let Some(&index) = self.by_path.get(&path)
                        && let Kind::Symlink { target: inner } = &self.entries[index].kind
                    {
                        *hops = hops.checked_sub(1).ok_or("has too many levels of symbolic links")?;
                        stack.pop();
                        self.follow(stack, inner, hops)?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// Normalises an archive path: `Ok(None)` for the root itself (`.`, `./`).
fn normalize(name: &[u8]) -> Result<Option<PathBuf>, &'static str> {
    if name.is_empty() {
        return Err("the entry has an empty path");
    }
    if name.starts_with(b"/") {
        return Err("absolute paths are not allowed");
    }
    if name.contains(&b'\\') {
        return Err("backslashes are not allowed in paths");
    }
    if name.contains(&0) {
        return Err("NUL bytes are not allowed in paths");
    }
    let mut path = PathBuf::new();
    for component in name.split(|b| *b == b'/') {
        match component {
            b"" | b"." => {}
            b".." => return Err("'..' path components are not allowed"),
            part => path.push(OsStr::from_bytes(part)),
        }
    }
    Ok(if path.as_os_str().is_empty() { None } else { Some(path) })
}

// ---------------------------------------------------------------------------------------------------------------
// Tar

/// One tar member after merging its GNU long name/link and PAX records.
struct TarItem {
    name: Vec<u8>,
    link: Option<Vec<u8>>,
    entry_type: EntryType,
    size: u64,
    mode: u32,
    mtime: u64,
}

fn tar_kind(item: &TarItem) -> Result<Kind, ArchiveError> {
    let et = item.entry_type;
    let link = || item.link.clone().ok_or_else(|| ArchiveError::entry(&item.name, "link entry without a link target"));
    Ok(if et.is_dir() || (et.is_file() && item.name.ends_with(b"/")) {
        Kind::Dir
    } else if et.is_file() || et.is_contiguous() {
        Kind::File { size: item.size }
    } else if et.is_symlink() {
        Kind::Symlink { target: link()? }
    } else if et.is_hard_link() {
        Kind::Hardlink { target: PathBuf::from(OsString::from_vec(link()?)) }
    } else if et.is_character_special() || et.is_block_special() || et.is_fifo() {
        return Err(ArchiveError::entry(&item.name, "device and FIFO entries are not allowed"));
    } else if et.is_gnu_sparse() {
        return Err(ArchiveError::entry(&item.name, "sparse files are not supported"));
    } else {
        return Err(ArchiveError::entry(&item.name, format!("unsupported entry type {:?}", et.as_byte() as char)));
    })
}

/// Reads every member of a tar/tgz archive and calls `visit(seq, item, data)` for each real entry.
fn walk_tar(
    archive: &Path,
    format: BundleFormat,
    limits: &ExtractLimits,
    mut visit: impl FnMut(usize, &TarItem, &mut dyn Read) -> Result<(), ArchiveError>,
) -> Result<(), ArchiveError> {
    let file = File::open(archive).map_err(|e| ArchiveError::io(format!("cannot open {}", archive.display()), e))?;
    let reader = BufReader::with_capacity(256 * 1024, file);
    match format {
        BundleFormat::Tgz => {
            let mut tar = tar::Archive::new(flate2::read::MultiGzDecoder::new(reader));
            let entries = tar.entries().map_err(malformed)?.raw(true);
            walk_entries(entries, limits, &mut visit)
        }
        _ => {
            let mut tar = tar::Archive::new(reader);
            let entries = tar.entries_with_seek().map_err(malformed)?.raw(true);
            walk_entries(entries, limits, &mut visit)
        }
    }
}

fn walk_entries<R: Read>(
    entries: tar::Entries<'_, R>,
    limits: &ExtractLimits,
    visit: &mut impl FnMut(usize, &TarItem, &mut dyn Read) -> Result<(), ArchiveError>,
) -> Result<(), ArchiveError> {
    let mut long_name: Option<Vec<u8>> = None;
    let mut long_link: Option<Vec<u8>> = None;
    let mut pax: Option<Vec<u8>> = None;
    let mut seq = 0usize;
    let mut headers = 0u64;
    for entry in entries {
        let mut entry = entry.map_err(malformed)?;
        headers += 1;
        // Extension headers count too, so that a stream of them cannot run forever.
        if headers > limits.max_entries.saturating_mul(4).max(16) {
            return Err(ArchiveError::TooManyEntries { limit: limits.max_entries });
        }
        let entry_type = entry.header().entry_type();
        if entry_type.is_gnu_longname() || entry_type.is_gnu_longlink() || entry_type.is_pax_local_extensions() {
            let (slot, max, what) = if entry_type.is_gnu_longname() {
                (&mut long_name, MAX_LONG_NAME, "GNU long name")
            } else if entry_type.is_gnu_longlink() {
                (&mut long_link, MAX_LONG_NAME, "GNU long link")
            } else {
                (&mut pax, MAX_PAX_HEADER, "PAX header")
            };
            if slot.is_some() {
                return Err(ArchiveError::Malformed(format!("two {what}s describe the same entry")));
            }
            if entry.size() > max {
                return Err(ArchiveError::Malformed(format!("a {what} of {} bytes (limit {max})", entry.size())));
            }
            let mut data = Vec::with_capacity(entry.size() as usize);
            entry.read_to_end(&mut data).map_err(malformed)?;
            while data.last() == Some(&0) {
                data.pop();
            }
            *slot = Some(data);
            continue;
        }
        if entry_type.is_pax_global_extensions() {
            // Ignored, but skipping it still decompresses it: its size is capped like a local PAX header's.
            if entry.size() > MAX_PAX_HEADER {
                return Err(ArchiveError::Malformed(format!(
                    "a PAX global header of {} bytes (limit {MAX_PAX_HEADER})",
                    entry.size()
                )));
            }
            continue;
        }
        let header = entry.header();
        let pax_records = pax.take();
        let pax_value = |key: &[u8]| -> Option<Vec<u8>> {
            pax_records.as_deref().and_then(|records| {
                tar::PaxExtensions::new(records)
                    .filter_map(Result::ok)
                    .filter(|ext| ext.key_bytes() == key)
                    .last()
                    .map(|ext| ext.value_bytes().to_vec())
            })
        };
        let name = long_name.take().or_else(|| pax_value(b"path")).unwrap_or_else(|| header.path_bytes().into_owned());
        let link = long_link
            .take()
            .or_else(|| pax_value(b"linkpath"))
            .or_else(|| header.link_name_bytes().map(|l| l.into_owned()));
        let size = entry.size();
        if let Some(pax_size) = pax_value(b"size") {
            let parsed = std::str::from_utf8(&pax_size).ok().and_then(|s| s.parse::<u64>().ok());
            if parsed != Some(size) {
                return Err(ArchiveError::entry(
                    &name,
                    format!(
                        "its PAX size {:?} disagrees with its header size {size}",
                        String::from_utf8_lossy(&pax_size)
                    ),
                ));
            }
        }
        let mode = header.mode().map_err(|e| ArchiveError::entry(&name, format!("bad mode: {e}")))? & 0o7777;
        let mtime = header.mtime().unwrap_or(0);
        let item = TarItem { name, link, entry_type, size, mode, mtime };
        visit(seq, &item, &mut entry)?;
        seq += 1;
    }
    if long_name.is_some() || long_link.is_some() || pax.is_some() {
        return Err(ArchiveError::Malformed("an extension header at the end of the archive describes no entry".into()));
    }
    Ok(())
}

fn malformed(error: io::Error) -> ArchiveError {
    ArchiveError::Malformed(error.to_string())
}

fn write_tar(
    archive: &Path,
    format: BundleFormat,
    limits: &ExtractLimits,
    plan: &Plan,
    dest: &Path,
) -> Result<ExtractStats, ArchiveError> {
    let mut writer = Writer::new(dest);
    let mut cursor = 0usize;
    walk_tar(archive, format, limits, |seq, item, data| {
        let Some(planned) = plan.entries.get(cursor).filter(|p| p.seq == seq) else {
            return Ok(());
        };
        cursor += 1;
        if normalize(&item.name).ok().flatten().as_ref() != Some(&planned.path)
            || !same_kind(&tar_kind(item)?, &planned.kind)
        {
            return Err(ArchiveError::Malformed("the archive changed while it was being extracted".into()));
        }
        writer.write(planned, data)
    })?;
    if cursor != plan.entries.len() {
        return Err(ArchiveError::Malformed("the archive changed while it was being extracted".into()));
    }
    writer.finish(plan)
}

fn same_kind(a: &Kind, b: &Kind) -> bool {
    match (a, b) {
        (Kind::Hardlink { .. }, Kind::Hardlink { .. }) => true,
        _ => a == b,
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Zip

const S_IFMT: u32 = 0o170_000;
const S_IFDIR: u32 = 0o040_000;
const S_IFREG: u32 = 0o100_000;

fn open_zip(archive: &Path) -> Result<zip::ZipArchive<BufReader<File>>, ArchiveError> {
    let file = File::open(archive).map_err(|e| ArchiveError::io(format!("cannot open {}", archive.display()), e))?;
    zip::ZipArchive::new(BufReader::with_capacity(256 * 1024, file)).map_err(zip_malformed)
}

fn zip_malformed(error: zip::result::ZipError) -> ArchiveError {
    ArchiveError::Malformed(error.to_string())
}

fn validate_zip(archive: &Path, limits: &ExtractLimits, archive_bytes: u64) -> Result<Plan, ArchiveError> {
    let mut zip = open_zip(archive)?;
    if zip.len() as u64 > limits.max_entries {
        return Err(ArchiveError::TooManyEntries { limit: limits.max_entries });
    }
    if zip.has_duplicate_names() {
        return Err(ArchiveError::Malformed("the archive holds the same name more than once".into()));
    }
    // One compressed block listed as many files expands without bound while each entry looks fine on its own.
    if zip.has_overlapping_entries().map_err(zip_malformed)? {
        return Err(ArchiveError::Malformed(
            "entries of the archive share their bytes (an overlapping-entry zip bomb)".into(),
        ));
    }
    let mut validator = Validator::new(*limits, archive_bytes);
    for index in 0..zip.len() {
        let mut file = zip.by_index(index).map_err(zip_malformed)?;
        let name = file.name().map_err(zip_malformed)?.as_bytes().to_vec();
        let unix_mode = file.unix_mode();
        let file_type = unix_mode.map(|m| m & S_IFMT).unwrap_or(0);
        let kind = if file.is_dir() {
            Kind::Dir
        } else if file.is_symlink() {
            if file.size() > MAX_LINK_TARGET {
                return Err(ArchiveError::entry(&name, "symlink target too long"));
            }
            let mut target = Vec::new();
            (&mut file)
                .take(MAX_LINK_TARGET + 1)
                .read_to_end(&mut target)
                .map_err(|e| ArchiveError::entry(&name, format!("cannot read the symlink target: {e}")))?;
            Kind::Symlink { target }
        } else if file_type != 0 && file_type != S_IFREG && file_type != S_IFDIR {
            return Err(ArchiveError::entry(&name, "device, FIFO and socket entries are not allowed"));
        } else {
            Kind::File { size: file.size() }
        };
        let default_mode = if kind == Kind::Dir { 0o755 } else { 0o644 };
        // The zip crate clears the set-user-ID, set-group-ID and sticky bits of `unix_mode`; they are read from the
        // raw attributes, so that such an entry is refused (or, with `allow_setuid`, kept) as in a tar.
        let special = match file.system() {
            zip::System::Unix => (file.external_attributes() >> 16) & 0o7000,
            _ => 0,
        };
        let mode = unix_mode.map(|m| (m & 0o777) | special).filter(|m| *m != 0).unwrap_or(default_mode);
        let mtime = file.last_modified().and_then(|t| {
            let days = days_from_civil(i64::from(t.year()), u32::from(t.month()), u32::from(t.day()));
            let secs = days * 86_400 + i64::from(t.hour()) * 3600 + i64::from(t.minute()) * 60 + i64::from(t.second());
            u64::try_from(secs).ok()
        });
        drop(file);
        validator.add(index, &name, kind, mode, mtime)?;
    }
    validator.finish()
}

fn write_zip(archive: &Path, plan: &Plan, dest: &Path) -> Result<ExtractStats, ArchiveError> {
    let mut zip = open_zip(archive)?;
    let mut writer = Writer::new(dest);
    for planned in &plan.entries {
        let mut file = zip.by_index(planned.seq).map_err(zip_malformed)?;
        if file.name().map_err(zip_malformed)?.as_bytes() != planned.name.as_slice() {
            return Err(ArchiveError::Malformed("the archive changed while it was being extracted".into()));
        }
        writer.write(planned, &mut file)?;
    }
    writer.finish(plan)
}

// ---------------------------------------------------------------------------------------------------------------
// Writing

struct Writer<'a> {
    dest: &'a Path,
    stats: ExtractStats,
    buffer: Vec<u8>,
}

impl<'a> Writer<'a> {
    fn new(dest: &'a Path) -> Self {
        Self { dest, stats: ExtractStats::default(), buffer: vec![0; 256 * 1024] }
    }

    fn write(&mut self, planned: &Planned, data: &mut dyn Read) -> Result<(), ArchiveError> {
        let target = self.dest.join(&planned.path);
        match &planned.kind {
            Kind::Dir => {
                fs::create_dir_all(&target).map_err(|e| ArchiveError::write("create the directory", &target, e))?;
            }
            Kind::File { size } => {
                if let Some(parent) = target.parent() {
                    fs::create_dir_all(parent).map_err(|e| ArchiveError::write("create the directory", parent, e))?;
                }
                let mut file = OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(&target)
                    .map_err(|e| ArchiveError::write("create", &target, e))?;
                let copied = self.copy(planned, &mut data.take(size + 1), &mut file, &target)?;
                if copied != *size {
                    return Err(ArchiveError::entry(
                        &planned.name,
                        format!("the archive holds {copied} bytes of data for it instead of {size}"),
                    ));
                }
                file.set_permissions(fs::Permissions::from_mode(planned.mode))
                    .map_err(|e| ArchiveError::write("set the mode of", &target, e))?;
                if let Some(mtime) = planned.mtime {
                    let _ = file.set_times(FileTimes::new().set_modified(UNIX_EPOCH + Duration::from_secs(mtime)));
                }
                self.stats.files += 1;
                self.stats.bytes += copied;
            }
            // Links are created by `finish`, after every regular file exists.
            Kind::Symlink { .. } | Kind::Hardlink { .. } => {}
        }
        Ok(())
    }

    /// Copies an entry's data. Unlike `io::copy`, tells a read error (a corrupt archive) from a write error (a full
    /// disk), which need different messages.
    fn copy(
        &mut self,
        planned: &Planned,
        data: &mut dyn Read,
        file: &mut File,
        target: &Path,
    ) -> Result<u64, ArchiveError> {
        let mut copied = 0u64;
        loop {
            let n = match data.read(&mut self.buffer) {
                Ok(0) => return Ok(copied),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(ArchiveError::entry(&planned.name, format!("cannot read its data: {e}"))),
            };
            file.write_all(&self.buffer[..n]).map_err(|e| ArchiveError::write("write", target, e))?;
            copied += n as u64;
        }
    }

    fn finish(mut self, plan: &Plan) -> Result<ExtractStats, ArchiveError> {
        let dest = self.dest;
        let parent_of = |planned: &Planned| -> Result<PathBuf, ArchiveError> {
            let target = dest.join(&planned.path);
            if let Some(parent) = target.parent() {
                fs::create_dir_all(parent).map_err(|e| ArchiveError::write("create the directory", parent, e))?;
            }
            Ok(target)
        };
        for planned in &plan.entries {
            if let Kind::Hardlink { target } = &planned.kind {
                let link = parent_of(planned)?;
                fs::hard_link(dest.join(target), &link)
                    .map_err(|e| ArchiveError::write("create the hard link", &link, e))?;
                self.stats.hardlinks += 1;
            }
        }
        for planned in &plan.entries {
            if let Kind::Symlink { target } = &planned.kind {
                let link = parent_of(planned)?;
                std::os::unix::fs::symlink(OsStr::from_bytes(target), &link)
                    .map_err(|e| ArchiveError::write("create the symlink", &link, e))?;
                self.stats.symlinks += 1;
            }
        }
        // Directory modes and mtimes last, deepest first: a read-only directory must not block its own children,
        // and creating children would bump the mtime again. The last entry for a path wins.
        let mut dirs: HashMap<&Path, &Planned> = HashMap::new();
        for planned in plan.entries.iter().filter(|p| p.kind == Kind::Dir) {
            dirs.insert(&planned.path, planned);
        }
        let mut dirs: Vec<&Planned> = dirs.into_values().collect();
        dirs.sort_by_key(|p| std::cmp::Reverse(p.path.components().count()));
        for planned in dirs {
            let target = dest.join(&planned.path);
            // Only real directories: the plan guarantees no link shares a directory's path.
            let metadata = fs::symlink_metadata(&target)
                .map_err(|e| ArchiveError::entry(&planned.name, format!("cannot stat the directory: {e}")))?;
            if !metadata.is_dir() {
                continue;
            }
            if let Some(mtime) = planned.mtime
                && let Ok(dir) = File::open(&target)
            {
                let _ = dir.set_times(FileTimes::new().set_modified(UNIX_EPOCH + Duration::from_secs(mtime)));
            }
            fs::set_permissions(&target, fs::Permissions::from_mode(planned.mode))
                .map_err(|e| ArchiveError::write("set the mode of", &target, e))?;
            self.stats.directories += 1;
        }
        Ok(self.stats)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_rejects_escapes() {
        assert_eq!(normalize(b"a/./b/"), Ok(Some(PathBuf::from("a/b"))));
        assert_eq!(normalize(b"./"), Ok(None));
        assert!(normalize(b"../x").is_err());
        assert!(normalize(b"a/../x").is_err());
        assert!(normalize(b"/etc/passwd").is_err());
        assert!(normalize(b"a\\..\\b").is_err());
    }

    fn validator_with(entries: &[(&str, Kind)]) -> Result<Plan, ArchiveError> {
        let mut validator = Validator::new(ExtractLimits::default(), 1 << 40);
        for (seq, (name, kind)) in entries.iter().enumerate() {
            validator.add(seq, name.as_bytes(), kind.clone(), 0o644, None)?;
        }
        validator.finish()
    }

    fn symlink(target: &str) -> Kind {
        Kind::Symlink { target: target.as_bytes().to_vec() }
    }

    #[test]
    fn symlinks_are_followed_through_the_archive() {
        assert!(validator_with(&[("a/b/l", symlink("../../x"))]).is_ok());
        assert!(validator_with(&[("a/l", symlink("../../x"))]).is_err());
        // `deep/s -> ..` is the root; `t -> deep/s/../..` then climbs above it, although it looks lexically fine.
        let escape = validator_with(&[("deep/s", symlink("..")), ("t", symlink("deep/s/../.."))]);
        assert!(matches!(escape, Err(ArchiveError::Entry { ref entry, .. }) if entry == "t"), "{escape:?}");
        let looped = validator_with(&[("a", symlink("b")), ("b", symlink("a/x"))]);
        assert!(looped.is_err());
    }

    #[test]
    fn entries_below_links_and_duplicates_are_refused() {
        assert!(validator_with(&[("l", symlink("d")), ("l/x", Kind::File { size: 1 })]).is_err());
        assert!(validator_with(&[("f", Kind::File { size: 1 }), ("f", Kind::File { size: 1 })]).is_err());
        assert!(validator_with(&[("d", Kind::Dir), ("d/", Kind::Dir)]).is_ok());
        assert!(validator_with(&[("d", Kind::Dir), ("d", symlink("."))]).is_err());
    }

    #[test]
    fn hardlinks_must_target_regular_files() {
        let file = Kind::File { size: 1 };
        assert!(validator_with(&[("f", file.clone()), ("h", Kind::Hardlink { target: "f".into() })]).is_ok());
        assert!(validator_with(&[("h", Kind::Hardlink { target: "../../etc/shadow".into() })]).is_err());
        assert!(validator_with(&[("h", Kind::Hardlink { target: "/etc/shadow".into() })]).is_err());
        assert!(validator_with(&[("d", Kind::Dir), ("h", Kind::Hardlink { target: "d".into() })]).is_err());
    }

    #[test]
    fn limits_are_enforced() {
        let mut validator =
            Validator::new(ExtractLimits { max_total_bytes: 10, max_entries: 2, ..Default::default() }, 1);
        validator.add(0, b"a", Kind::File { size: 6 }, 0o644, None).unwrap();
        assert!(matches!(
            validator.add(1, b"b", Kind::File { size: 6 }, 0o644, None),
            Err(ArchiveError::TooLarge { limit: 10 })
        ));
        let mut validator =
            Validator::new(ExtractLimits { max_total_bytes: 10, max_entries: 1, ..Default::default() }, 1);
        validator.add(0, b"a", Kind::Dir, 0o755, None).unwrap();
        assert!(matches!(
            validator.add(1, b"b", Kind::Dir, 0o755, None),
            Err(ArchiveError::TooManyEntries { limit: 1 })
        ));
    }
}
