//! The Install event: the CodeDeploy agent's cleanup-file driven install (`installer.rb`, §8.5).
//!
//! 1. **Cleanup.** Every path listed in `<DGID>-cleanup` (what the previous Install of the group created) is removed,
//!    in reverse order: files and symlinks are deleted, directories only if empty, missing paths ignored,
//!    `semanage\0<path>` lines undo an SELinux file context. A half-written last line is dropped.
//! 2. **Plan.** `files` mappings become `mkdir`/`copy` instructions: missing ancestors of a destination are created;
//!    a directory source copies its contents (recursively, in name order); a file source goes to
//!    `destination/<basename>`; `/` is the whole revision, AppSpec included. A destination that already exists
//!    (and so was not installed by the previous revision) is handled by `file_exists_behavior` (AppSpec value, then
//!    the deployment's, then DISALLOW). Permissions are then matched against what this install creates (§2.1).
//! 3. `<DGID>-install.json` is written.
//! 4. **Execute**, recording every created path in a fresh `<DGID>-cleanup` (a copy's line is written before the
//!    copy, a mkdir's after it; a directory whose line cannot be written is removed again). Copies never follow
//!    symlinks: a symlink in the revision is recreated as a symlink, and files are written to a temporary name and
//!    renamed over the destination, so an existing symlink at the destination is replaced rather than written
//!    through. Modes and mtimes are preserved.
//! 5. `<DGID>_last_successful_install` is pointed at this deployment.
//!
//! A failed write (a full disk, most often) fails the event with [`Error::Write`]: `No space left on device while
//! installing <path>`. As in CodeDeploy, the previous revision's files are gone by then (step 1), but every path
//! this install created is in the cleanup file, so the next deployment (typically the rollback) removes the
//! half-installed revision before installing its own; the temporary file of an interrupted copy is removed at once.
//! `_last_successful_install` still names the previous deployment.
//!
//! With `--destination-root R`, every AppSpec destination and permission object `/p` becomes `R/p`, so several
//! simulated hosts can share one machine; messages show the real (prefixed) paths.
//!
//! **Hostile AppSpecs.** The plan (step 2) refuses, before anything of the new revision is written: a `files`
//! destination that is a symbolic link on the host, and any directory below it that the revision copies into and
//! that is a symbolic link on the host (installing through it would write wherever it points, e.g. a link an
//! application user planted in its own directory pointing at `/etc`); ancestors above the destination are the
//! administrator's (`/lib -> usr/lib`) and are followed. Also refused, unless the agent runs with
//! `--allow-setuid`: a `permissions` mode with the set-user-ID or set-group-ID bit for a file. `..` in a `files`
//! source is refused by the AppSpec parser already.
//!
//! The algorithm assumes that nothing else changes the destination tree between its steps, so the executor never
//! runs two installs at once, even of different deployment groups (whose other events do run concurrently).

use std::collections::{HashMap, HashSet};
use std::ffi::OsStr;
use std::fs::{self, File, FileTimes, OpenOptions};
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};
use std::process::Command;

use cutover_domain::appspec::{AppSpec, FileExistsBehavior, ObjectType, Permission, SeContext};
use serde::Serialize;

use crate::error::Error;
use crate::eventlog::EventLog;
use crate::layout::Layout;

/// What an install did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InstallSummary {
    pub files_copied: usize,
    pub directories_created: usize,
    pub files_retained: usize,
    pub permissions_applied: usize,
    pub cleaned_up: usize,
}

/// One step of an install, as written to `<DGID>-install.json`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(tag = "type", rename_all = "lowercase")]
enum Instruction {
    Copy { source: PathBuf, destination: PathBuf },
    Mkdir { directory: PathBuf },
    Chmod { mode: String, file: PathBuf },
    Chown { owner: Option<String>, group: Option<String>, file: PathBuf },
    Setfacl { acl: Vec<String>, file: PathBuf },
    Semanage { context: ContextJson, file: PathBuf },
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
struct ContextJson {
    user: Option<String>,
    #[serde(rename = "type")]
    type_: String,
    range: Option<String>,
}

#[derive(Serialize)]
struct InstructionsFile<'a> {
    instructions: &'a [Instruction],
}

/// Resolves `file_exists_behavior`: the AppSpec's value, then the deployment's, then DISALLOW.
pub(crate) fn effective_file_exists_behavior(
    appspec: &AppSpec,
    deployment_value: Option<&str>,
) -> Result<FileExistsBehavior, Error> {
    if let Some(behavior) = appspec.file_exists_behavior {
        return Ok(behavior);
    }
    match deployment_value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(FileExistsBehavior::Disallow),
        Some(value) => FileExistsBehavior::parse(&value.to_ascii_uppercase()).ok_or_else(|| {
            Error::Install(format!(
                "The deployment failed because an invalid option was specified for fileExistsBehavior: {value}. \
                 Valid options include OVERWRITE, RETAIN, and DISALLOW."
            ))
        }),
    }
}

/// How the agent was told to install.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct InstallOptions<'a> {
    /// `--destination-root`: prefix of every destination and permission object.
    pub(crate) destination_root: Option<&'a Path>,
    /// `--allow-setuid`: permissions may set the set-user-ID and set-group-ID bits of files.
    pub(crate) allow_setuid: bool,
}

/// Runs the whole Install algorithm for the revision unpacked in `<deployment_dir>/deployment-archive`.
pub(crate) fn install(
    layout: &Layout,
    group_id: &str,
    deployment_dir: &Path,
    appspec: &AppSpec,
    behavior: FileExistsBehavior,
    options: &InstallOptions<'_>,
    log: &EventLog,
) -> Result<InstallSummary, Error> {
    let mut summary = InstallSummary::default();
    fs::create_dir_all(layout.instructions_dir())
        .map_err(|e| Error::write(format!("creating {}", layout.instructions_dir().display()), e))?;
    let cleanup_file = layout.cleanup_file(group_id);
    summary.cleaned_up = cleanup(&cleanup_file, log)?;

    let archive = Layout::archive_dir(deployment_dir);
    let mut planner = Planner::new(archive, behavior, options);
    for mapping in &appspec.files {
        planner.add_mapping(&mapping.source, &mapping.destination)?;
    }
    for permission in &appspec.permissions {
        planner.add_permission(permission)?;
    }
    summary.files_retained = planner.retained.len();
    for retained in &planner.retained {
        log.line(&format!("[agent] RETAIN: kept the existing file {}", retained.display()));
    }

    let instructions_path = layout.install_instructions_file(group_id);
    let json = serde_json::to_vec_pretty(&InstructionsFile { instructions: &planner.instructions })
        .map_err(|e| Error::Install(format!("cannot serialise the install instructions: {e}")))?;
    crate::util::write_atomic(&instructions_path, &json)
        .map_err(|e| Error::write(format!("writing {}", instructions_path.display()), e))?;

    execute(&planner.instructions, &cleanup_file, &mut summary)?;

    let pointer = layout.last_successful_install_file(group_id);
    layout
        .write_install_pointer(&pointer, deployment_dir)
        .map_err(|e| Error::write(format!("writing {}", pointer.display()), e))?;
    log.line(&format!(
        "[agent] Installed {} files ({} directories created, {} existing files retained, {} permission \
         settings applied, {} paths of the previous install cleaned up)",
        summary.files_copied,
        summary.directories_created,
        summary.files_retained,
        summary.permissions_applied,
        summary.cleaned_up
    ));
    Ok(summary)
}

/// The files and symlinks an Install of the revision in `archive` creates, planned by this module's own planner
/// against `empty_root` (an empty directory standing for the host's `/`): (path on the host, source in the revision,
/// the mode a `permissions` entry sets, if any). Used by deployment plans; nothing is written.
pub(crate) fn planned_files(
    archive: &Path,
    appspec: &AppSpec,
    empty_root: &Path,
) -> Result<Vec<(PathBuf, PathBuf, Option<u32>)>, Error> {
    // Plans never refuse setuid modes: they only report what an install would do.
    let options = InstallOptions { destination_root: Some(empty_root), allow_setuid: true };
    let mut planner = Planner::new(archive.to_path_buf(), FileExistsBehavior::Overwrite, &options);
    for mapping in &appspec.files {
        planner.add_mapping(&mapping.source, &mapping.destination)?;
    }
    for permission in &appspec.permissions {
        planner.add_permission(permission)?;
    }
    let on_host = |path: &Path| Path::new("/").join(path.strip_prefix(empty_root).unwrap_or(path));
    let mut modes: HashMap<PathBuf, u32> = HashMap::new();
    for instruction in &planner.instructions {
        if let Instruction::Chmod { mode, file } = instruction
            && let Ok(mode) = u32::from_str_radix(mode, 8)
        {
            modes.insert(file.clone(), mode);
        }
    }
    Ok(planner
        .instructions
        .iter()
        .filter_map(|instruction| match instruction {
            Instruction::Copy { source, destination } => {
                Some((on_host(destination), source.clone(), modes.get(destination).copied()))
            }
            _ => None,
        })
        .collect())
}

// ---------------------------------------------------------------------------------------------------------------
// Cleanup

/// Removes what the previous install recorded, in reverse order, then deletes the cleanup file. Returns how many
/// paths were removed.
fn cleanup(cleanup_file: &Path, log: &EventLog) -> Result<usize, Error> {
    let text = match fs::read(cleanup_file) {
        Ok(text) => text,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(error) => return Err(Error::io(format!("cannot read {}", cleanup_file.display()), error)),
    };
    let mut lines: Vec<&[u8]> = text.split(|b| *b == b'\n').collect();
    // The last element is what follows the last newline: empty, or a half-written line.
    lines.pop();
    let mut removed = 0;
    for line in lines.into_iter().rev().filter(|line| !line.is_empty()) {
        if let Some(path) = line.strip_prefix(b"semanage\0") {
            let path = OsStr::from_bytes(path);
            if let Some(semanage) = find_tool("semanage") {
                let status = Command::new(semanage).args([OsStr::new("fcontext"), OsStr::new("-d"), path]).status();
                if !status.is_ok_and(|s| s.success()) {
                    log.line(&format!("[agent] cleanup: semanage fcontext -d {} failed", path.to_string_lossy()));
                }
            }
            continue;
        }
        let path = Path::new(OsStr::from_bytes(line));
        let Ok(metadata) = fs::symlink_metadata(path) else { continue };
        let result = if metadata.is_dir() { fs::remove_dir(path) } else { fs::remove_file(path) };
        match result {
            Ok(()) => removed += 1,
            // A directory that still holds files the scripts created stays.
            Err(_) if metadata.is_dir() => {}
            Err(error) => return Err(Error::io(format!("cleanup: cannot remove {}", path.display()), error)),
        }
    }
    fs::remove_file(cleanup_file).map_err(|e| Error::io(format!("cannot remove {}", cleanup_file.display()), e))?;
    Ok(removed)
}

// ---------------------------------------------------------------------------------------------------------------
// Planning

struct Planner {
    archive: PathBuf,
    behavior: FileExistsBehavior,
    /// Prefix of every destination and permission object (`--destination-root`).
    destination_root: Option<PathBuf>,
    allow_setuid: bool,
    instructions: Vec<Instruction>,
    /// Copy destinations in plan order, and their sources.
    copy_order: Vec<PathBuf>,
    copy_targets: HashMap<PathBuf, PathBuf>,
    mkdir_order: Vec<PathBuf>,
    mkdir_targets: HashSet<PathBuf>,
    permission_targets: HashSet<PathBuf>,
    retained: Vec<PathBuf>,
}

impl Planner {
    fn new(archive: PathBuf, behavior: FileExistsBehavior, options: &InstallOptions<'_>) -> Self {
        Self {
            archive,
            behavior,
            destination_root: options.destination_root.map(Path::to_path_buf),
            allow_setuid: options.allow_setuid,
            instructions: Vec::new(),
            copy_order: Vec::new(),
            copy_targets: HashMap::new(),
            mkdir_order: Vec::new(),
            mkdir_targets: HashSet::new(),
            permission_targets: HashSet::new(),
            retained: Vec::new(),
        }
    }

    fn add_mapping(&mut self, source: &str, destination: &str) -> Result<(), Error> {
        let relative = source.trim_start_matches('/');
        if Path::new(relative).components().any(|c| matches!(c, Component::ParentDir)) {
            return Err(Error::Install(format!("The files source {source} points outside the revision")));
        }
        let absolute_source = if relative.is_empty() { self.archive.clone() } else { self.archive.join(relative) };
        let destination = clean_path(Path::new(destination));
        if !destination.is_absolute() {
            return Err(Error::Install(format!(
                "The files destination {} is not an absolute path",
                destination.display()
            )));
        }
        let destination = self.on_host(&destination);
        refuse_symlink(&destination)?;
        let metadata = fs::metadata(&absolute_source)
            .map_err(|_| Error::Install(format!("The files source {source} does not exist in the revision")))?;
        if metadata.is_dir() {
            self.fill_in_missing_ancestors(&destination)?;
            self.directory_copy(&absolute_source, &destination)
        } else {
            let name = absolute_source
                .file_name()
                .ok_or_else(|| Error::Install(format!("The files source {source} has no file name")))?;
            let file_destination = destination.join(name);
            self.fill_in_missing_ancestors(&file_destination)?;
            self.normal_copy(&absolute_source, &file_destination)
        }
    }

    fn fill_in_missing_ancestors(&mut self, destination: &Path) -> Result<(), Error> {
        let mut missing = Vec::new();
        let mut parent = destination.parent();
        while let Some(dir) = parent {
            if dir.parent().is_none() || fs::metadata(dir).is_ok() {
                break;
            }
            missing.push(dir.to_path_buf());
            parent = dir.parent();
        }
        for dir in missing.into_iter().rev() {
            self.mkdir(dir)?;
        }
        Ok(())
    }

    fn directory_copy(&mut self, source: &Path, destination: &Path) -> Result<(), Error> {
        refuse_symlink(destination)?;
        if !fs::metadata(destination).is_ok_and(|m| m.is_dir()) {
            self.mkdir(destination.to_path_buf())?;
        }
        let mut names: Vec<_> = fs::read_dir(source)
            .and_then(|entries| entries.map(|entry| entry.map(|e| e.file_name())).collect::<io::Result<Vec<_>>>())
            .map_err(|e| Error::io(format!("cannot list {}", source.display()), e))?;
        names.sort();
        for name in names {
            let entry_source = source.join(&name);
            let entry_destination = destination.join(&name);
            let metadata = fs::symlink_metadata(&entry_source)
                .map_err(|e| Error::io(format!("cannot stat {}", entry_source.display()), e))?;
            if metadata.is_dir() {
                self.directory_copy(&entry_source, &entry_destination)?;
            } else {
                self.normal_copy(&entry_source, &entry_destination)?;
            }
        }
        Ok(())
    }

    fn normal_copy(&mut self, source: &Path, destination: &Path) -> Result<(), Error> {
        if fs::symlink_metadata(destination).is_ok() && !self.copy_targets.contains_key(destination) {
            match self.behavior {
                FileExistsBehavior::Disallow => {
                    return Err(Error::FileExists { path: destination.to_path_buf() });
                }
                FileExistsBehavior::Retain => {
                    self.retained.push(destination.to_path_buf());
                    return Ok(());
                }
                FileExistsBehavior::Overwrite => {}
            }
        }
        self.copy(source, destination)
    }

    fn copy(&mut self, source: &Path, destination: &Path) -> Result<(), Error> {
        if let Some(other) = self.copy_targets.get(destination) {
            return Err(Error::Install(format!(
                "The deployment failed because the application specification file specifies two source files named \
                 {} and {} for the same destination ({}). Remove one of the source file paths from the AppSpec file \
                 and then try again.",
                self.relative(source),
                self.relative(other),
                destination.display()
            )));
        }
        if self.mkdir_targets.contains(destination) {
            return Err(duplicate_object(destination));
        }
        self.copy_targets.insert(destination.to_path_buf(), source.to_path_buf());
        self.copy_order.push(destination.to_path_buf());
        self.instructions
            .push(Instruction::Copy { source: source.to_path_buf(), destination: destination.to_path_buf() });
        Ok(())
    }

    fn mkdir(&mut self, directory: PathBuf) -> Result<(), Error> {
        if self.copy_targets.contains_key(&directory) {
            return Err(duplicate_object(&directory));
        }
        if self.mkdir_targets.insert(directory.clone()) {
            self.mkdir_order.push(directory.clone());
            self.instructions.push(Instruction::Mkdir { directory });
        }
        Ok(())
    }

    /// Where an absolute AppSpec path lands on this host: below `--destination-root` when one is set.
    fn on_host(&self, path: &Path) -> PathBuf {
        match &self.destination_root {
            Some(root) => root.join(path.strip_prefix("/").unwrap_or(path)),
            None => path.to_path_buf(),
        }
    }

    fn relative(&self, source: &Path) -> String {
        source.strip_prefix(&self.archive).unwrap_or(source).display().to_string()
    }

    fn add_permission(&mut self, permission: &Permission) -> Result<(), Error> {
        let object = self.on_host(&clean_path(Path::new(&permission.object)));
        let has_files = permission.types.contains(&ObjectType::File);
        let has_directories = permission.types.contains(&ObjectType::Directory);
        if self.copy_targets.contains_key(&object) {
            if !has_files {
                return Ok(());
            }
            if permission.pattern != "**" {
                return Err(Error::Install(format!(
                    "Attempt to use pattern {} when assigning permissions to file {}",
                    permission.pattern,
                    object.display()
                )));
            }
            if !permission.except.is_empty() {
                return Err(Error::Install(format!(
                    "Attempt to use except [{}] when assigning permissions to file {}",
                    permission.except.join(", "),
                    object.display()
                )));
            }
            if let Some(acl) = permission.acls.iter().find(|acl| is_default_acl(acl)) {
                return Err(Error::Install(format!("Attempt to set default acl {acl} on file {}", object.display())));
            }
            return self.set_permissions(&object, permission);
        }
        if self.mkdir_targets.contains(&object) || fs::metadata(&object).is_ok_and(|m| m.is_dir()) {
            let mut matches = Vec::new();
            if has_files {
                matches.extend(self.copy_order.iter().filter(|t| matches_permission(t, &object, permission)).cloned());
            }
            if has_directories {
                matches.extend(self.mkdir_order.iter().filter(|t| matches_permission(t, &object, permission)).cloned());
            }
            for target in matches {
                self.set_permissions(&target, permission)?;
            }
        }
        Ok(())
    }

    fn set_permissions(&mut self, object: &Path, permission: &Permission) -> Result<(), Error> {
        if !self.permission_targets.insert(object.to_path_buf()) {
            return Err(Error::Install(format!(
                "The deployment failed because the permissions setting for ({}) is specified more than once in the \
                 application specification file. Update the files section of the AppSpec file, and then try again.",
                object.display()
            )));
        }
        let file = object.to_path_buf();
        if let Some(mode) = permission.mode.filter(|mode| mode & 0o6000 != 0)
            && !self.allow_setuid
            && self.copy_targets.contains_key(object)
        {
            let bit = if mode & 0o4000 != 0 { "set-user-ID" } else { "set-group-ID" };
            return Err(Error::Install(format!(
                "The permissions mode {mode:04o} for {} sets the {bit} bit; start the agent with --allow-setuid to \
                 allow it",
                object.display()
            )));
        }
        if let Some(mode) = permission.mode {
            self.instructions.push(Instruction::Chmod { mode: format!("{mode:04o}"), file: file.clone() });
        }
        if !permission.acls.is_empty() {
            self.instructions.push(Instruction::Setfacl { acl: permission.acls.clone(), file: file.clone() });
        }
        if let Some(SeContext { name, type_, range }) = &permission.context {
            self.instructions.push(Instruction::Semanage {
                context: ContextJson { user: name.clone(), type_: type_.clone(), range: range.clone() },
                file: file.clone(),
            });
        }
        if permission.owner.is_some() || permission.group.is_some() {
            self.instructions.push(Instruction::Chown {
                owner: permission.owner.clone(),
                group: permission.group.clone(),
                file,
            });
        }
        Ok(())
    }
}

/// Refuses a destination directory that is a symbolic link on the host: installing into it would write wherever
/// the link points.
fn refuse_symlink(destination: &Path) -> Result<(), Error> {
    let Ok(metadata) = fs::symlink_metadata(destination) else { return Ok(()) };
    if !metadata.file_type().is_symlink() {
        return Ok(());
    }
    let target = fs::read_link(destination).map(|t| t.display().to_string()).unwrap_or_else(|_| "?".to_owned());
    Err(Error::Install(format!(
        "The destination {} is a symbolic link on this host (to {target}); installing through it could write outside \
         the destination, so it is refused. Remove the link, or name its target in the AppSpec",
        destination.display()
    )))
}

fn duplicate_object(path: &Path) -> Error {
    Error::Install(format!(
        "The deployment failed because the application specification file includes an object (file or directory) \
         named {} that duplicates the name of another object. Update the file to include only unique objects and \
         then try again.",
        path.display()
    ))
}

/// Drops `.` components, repeated and trailing slashes (keeps `..`; destinations are taken as written).
fn clean_path(path: &Path) -> PathBuf {
    path.components().filter(|c| !matches!(c, Component::CurDir)).collect()
}

fn is_default_acl(acl: &str) -> bool {
    acl.starts_with("d:") || acl.starts_with("default:")
}

/// CodeDeploy's permission matching: `target` lies below `object`; `**` matches at any depth, other patterns
/// (and `except`) are `*` globs (with `{a,b}` alternatives) matched against the immediate child name only.
fn matches_permission(target: &Path, object: &Path, permission: &Permission) -> bool {
    let Ok(relative) = target.strip_prefix(object) else { return false };
    if relative.as_os_str().is_empty() {
        return false;
    }
    let relative = relative.to_string_lossy();
    let included = permission.pattern == "**" || simple_glob(&relative, &permission.pattern);
    included && !permission.except.iter().any(|except| simple_glob(&relative, except))
}

fn simple_glob(name: &str, pattern: &str) -> bool {
    if name.contains('/') {
        return false;
    }
    expand_braces(pattern).iter().any(|option| wildcard(name.as_bytes(), option.as_bytes()))
}

/// Expands the first `{a,b,...}` group, recursively (no nesting inside a group).
fn expand_braces(pattern: &str) -> Vec<String> {
    let Some(open) = pattern.find('{') else { return vec![pattern.to_owned()] };
    let Some(close) = pattern[open..].find('}').map(|i| open + i) else { return vec![pattern.to_owned()] };
    let (prefix, rest) = (&pattern[..open], &pattern[close + 1..]);
    pattern[open + 1..close].split(',').flat_map(|option| expand_braces(&format!("{prefix}{option}{rest}"))).collect()
}

/// `*` matches any run of characters; everything else is literal.
fn wildcard(name: &[u8], pattern: &[u8]) -> bool {
    let (mut n, mut p) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while n < name.len() {
        if p < pattern.len() && pattern[p] == b'*' {
            backtrack = Some((p, n));
            p += 1;
        } else if p < pattern.len() && pattern[p] == name[n] {
            p += 1;
            n += 1;
        } else if let Some((star, matched)) = backtrack {
            p = star + 1;
            n = matched + 1;
            backtrack = Some((star, matched + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|b| *b == b'*')
}

// ---------------------------------------------------------------------------------------------------------------
// Execution

fn execute(instructions: &[Instruction], cleanup_file: &Path, summary: &mut InstallSummary) -> Result<(), Error> {
    let mut cleanup = OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .open(cleanup_file)
        .map_err(|e| Error::write(format!("writing {}", cleanup_file.display()), e))?;
    let result = execute_recording(instructions, &mut cleanup, cleanup_file, summary);
    // Also after a failure: the lines written so far are what the next install must clean up.
    let synced = cleanup.sync_all().map_err(|e| Error::write(format!("writing {}", cleanup_file.display()), e));
    result.and(synced)
}

fn execute_recording(
    instructions: &[Instruction],
    cleanup: &mut File,
    cleanup_file: &Path,
    summary: &mut InstallSummary,
) -> Result<(), Error> {
    // Unbuffered, one write per line: a line is in the file before the path it names is created.
    let mut record = |line: &[u8]| -> Result<(), Error> {
        let mut buffer = Vec::with_capacity(line.len() + 1);
        buffer.extend_from_slice(line);
        buffer.push(b'\n');
        cleanup.write_all(&buffer).map_err(|e| {
            Error::write(format!("recording {} in {}", String::from_utf8_lossy(line), cleanup_file.display()), e)
        })
    };
    for instruction in instructions {
        match instruction {
            Instruction::Copy { source, destination } => {
                record(destination.as_os_str().as_bytes())?;
                copy_entry(source, destination)?;
                summary.files_copied += 1;
            }
            Instruction::Mkdir { directory } => match fs::create_dir(directory) {
                Ok(()) => {
                    // Recorded after the mkdir, since a directory that already existed must not be recorded; one
                    // that cannot be recorded is removed again (it is still empty).
                    if let Err(error) = record(directory.as_os_str().as_bytes()) {
                        let _ = fs::remove_dir(directory);
                        return Err(error);
                    }
                    summary.directories_created += 1;
                }
                Err(error) if error.kind() == io::ErrorKind::AlreadyExists && directory.is_dir() => {}
                Err(error) => return Err(Error::write(format!("installing {}", directory.display()), error)),
            },
            Instruction::Chmod { mode, file } => {
                chmod(file, mode)?;
                summary.permissions_applied += 1;
            }
            Instruction::Chown { owner, group, file } => {
                chown(file, owner.as_deref(), group.as_deref())?;
                summary.permissions_applied += 1;
            }
            Instruction::Setfacl { acl, file } => {
                setfacl(file, acl)?;
                summary.permissions_applied += 1;
            }
            Instruction::Semanage { context, file } => {
                let real = semanage(file, context)?;
                let mut line = b"semanage\0".to_vec();
                line.extend_from_slice(real.as_os_str().as_bytes());
                record(&line)?;
                summary.permissions_applied += 1;
            }
        }
    }
    Ok(())
}

/// Copies one file or symlink without following links, replacing `destination` atomically. On failure nothing is
/// left at the temporary name, and `destination` is as it was.
fn copy_entry(source: &Path, destination: &Path) -> Result<(), Error> {
    let fail = |e: io::Error| Error::write(format!("installing {}", destination.display()), e);
    let metadata = fs::symlink_metadata(source)
        .map_err(|e| Error::io(format!("cannot copy {} to {}", source.display(), destination.display()), e))?;
    let parent = destination.parent().unwrap_or_else(|| Path::new("/"));
    let name = destination.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let temporary = parent.join(format!(".{name}.cutover-{}.tmp", crate::util::unique_suffix()));
    let _ = fs::remove_file(&temporary);
    let result = (|| -> io::Result<()> {
        if metadata.file_type().is_symlink() {
            std::os::unix::fs::symlink(fs::read_link(source)?, &temporary)?;
        } else {
            let mut input = File::open(source)?;
            let mut output = OpenOptions::new().write(true).create_new(true).mode(0o600).open(&temporary)?;
            io::copy(&mut input, &mut output)?;
            output.set_permissions(fs::Permissions::from_mode(metadata.permissions().mode() & 0o7777))?;
            let mut times = FileTimes::new();
            if let Ok(modified) = metadata.modified() {
                times = times.set_modified(modified);
            }
            if let Ok(accessed) = metadata.accessed() {
                times = times.set_accessed(accessed);
            }
            let _ = output.set_times(times);
        }
        fs::rename(&temporary, destination)
    })();
    if let Err(error) = result {
        let _ = fs::remove_file(&temporary);
        return Err(fail(error));
    }
    Ok(())
}

fn chmod(file: &Path, mode: &str) -> Result<(), Error> {
    let bits = u32::from_str_radix(mode, 8).map_err(|_| Error::Install(format!("invalid mode {mode}")))?;
    let metadata = fs::symlink_metadata(file).map_err(|e| Error::io(format!("cannot chmod {}", file.display()), e))?;
    if metadata.file_type().is_symlink() {
        // Linux has no lchmod: a symlink's own mode is meaningless, and following it could leave the install.
        return Ok(());
    }
    fs::set_permissions(file, fs::Permissions::from_mode(bits))
        .map_err(|e| Error::io(format!("cannot chmod {mode} {}", file.display()), e))
}

fn chown(file: &Path, owner: Option<&str>, group: Option<&str>) -> Result<(), Error> {
    let uid = match owner {
        None => None,
        Some(name) => Some(
            nix::unistd::User::from_name(name)
                .ok()
                .flatten()
                .ok_or_else(|| {
                    Error::Install(format!(
                        "Unable to change the owner of {}: user {name} does not exist",
                        file.display()
                    ))
                })?
                .uid
                .as_raw(),
        ),
    };
    let gid = match group {
        None => None,
        Some(name) => Some(
            nix::unistd::Group::from_name(name)
                .ok()
                .flatten()
                .ok_or_else(|| {
                    Error::Install(format!(
                        "Unable to change the group of {}: group {name} does not exist",
                        file.display()
                    ))
                })?
                .gid
                .as_raw(),
        ),
    };
    std::os::unix::fs::lchown(file, uid, gid).map_err(|e| Error::io(format!("cannot chown {}", file.display()), e))
}

fn setfacl(file: &Path, acl: &[String]) -> Result<(), Error> {
    let tool = find_tool("setfacl").ok_or_else(|| {
        Error::Install(format!(
            "Unable to set the ACLs {} on {}: setfacl is not installed on this host (install the acl package)",
            acl.join(","),
            file.display()
        ))
    })?;
    let mode = fs::symlink_metadata(file)
        .map_err(|e| Error::io(format!("cannot set ACLs on {}", file.display()), e))?
        .permissions()
        .mode();
    let entries = full_acl(acl, mode);
    run_tool(&tool, &[OsStr::new("--set"), OsStr::new(&entries.join(",")), file.as_os_str()]).map_err(|reason| {
        Error::Install(format!("Unable to set the ACLs {} on {}: {reason}", acl.join(","), file.display()))
    })
}

/// Adds the base entries (`user::`, `group::`, `other::`) that `setfacl --set` requires, from the current mode.
fn full_acl(acl: &[String], mode: u32) -> Vec<String> {
    let bits = |shift: u32| {
        let b = (mode >> shift) & 0o7;
        format!(
            "{}{}{}",
            if b & 4 != 0 { 'r' } else { '-' },
            if b & 2 != 0 { 'w' } else { '-' },
            if b & 1 != 0 { 'x' } else { '-' }
        )
    };
    let has = |short: &str, long: &str| acl.iter().any(|e| e.starts_with(short) || e.starts_with(long));
    let mut entries: Vec<String> = acl.to_vec();
    if !has("u::", "user::") {
        entries.push(format!("u::{}", bits(6)));
    }
    if !has("g::", "group::") {
        entries.push(format!("g::{}", bits(3)));
    }
    if !has("o::", "other::") {
        entries.push(format!("o::{}", bits(0)));
    }
    entries
}

fn semanage(file: &Path, context: &ContextJson) -> Result<PathBuf, Error> {
    let unavailable = |tool: &str| {
        Error::Install(format!(
            "Unable to set the SELinux context {} on {}: {tool} is not installed on this host",
            context.type_,
            file.display()
        ))
    };
    let semanage = find_tool("semanage").ok_or_else(|| unavailable("semanage"))?;
    let restorecon = find_tool("restorecon").ok_or_else(|| unavailable("restorecon"))?;
    let real = fs::canonicalize(file).map_err(|e| Error::io(format!("cannot resolve {}", file.display()), e))?;
    let mut args: Vec<&OsStr> =
        vec![OsStr::new("fcontext"), OsStr::new("-a"), OsStr::new("-t"), OsStr::new(&context.type_)];
    if let Some(user) = &context.user {
        args.extend([OsStr::new("-s"), OsStr::new(user)]);
    }
    if let Some(range) = &context.range {
        args.extend([OsStr::new("-r"), OsStr::new(range)]);
    }
    args.push(real.as_os_str());
    let fail = |reason: String| {
        Error::Install(format!("Unable to set the SELinux context {} on {}: {reason}", context.type_, file.display()))
    };
    run_tool(&semanage, &args).map_err(fail)?;
    run_tool(&restorecon, &[OsStr::new("-v"), real.as_os_str()]).map_err(fail)?;
    Ok(real)
}

fn run_tool(tool: &Path, args: &[&OsStr]) -> Result<(), String> {
    let output = Command::new(tool).args(args).output().map_err(|e| format!("cannot run {}: {e}", tool.display()))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{} exited with {}: {}",
            tool.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

/// Finds an executable on `PATH` (and in the sbin directories, which root's tools live in).
pub(crate) fn find_tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/local/sbin", "/usr/sbin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|candidate| fs::metadata(candidate).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_immediate_children() {
        assert!(simple_glob("run.sh", "*.sh"));
        assert!(!simple_glob("sub/run.sh", "*.sh"));
        assert!(simple_glob("a.conf", "*.{conf,ini}"));
        assert!(simple_glob("a.ini", "*.{conf,ini}"));
        assert!(!simple_glob("a.txt", "*.{conf,ini}"));
        assert!(simple_glob("abc", "a*c"));
        assert!(simple_glob("ac", "a*c"));
        assert!(!simple_glob("ab", "a*c"));
        assert!(simple_glob("anything", "*"));
    }

    #[test]
    fn acl_gets_base_entries() {
        let acl = full_acl(&["u:bob:rw".to_owned()], 0o640);
        assert_eq!(acl, ["u:bob:rw", "u::rw-", "g::r--", "o::---"]);
    }
}
