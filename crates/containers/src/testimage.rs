//! Test images built on the spot (feature `test-support`). No image can be pulled where Cutover's tests run (the
//! engine starts empty and there is no registry), so a test image is a host binary plus the shared libraries `ldd`
//! lists, in a tarball given to the engine's import (`docker import`), with the entrypoint, environment and a label
//! holding the content digest set by import's Dockerfile-style changes.
//!
//! [`TestRun`] names a test's task sets and images uniquely and removes them when dropped, even if the test panics.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use bollard::query_parameters::{
    CreateImageOptions, ListContainersOptions, RemoveContainerOptions, RemoveImageOptions,
};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};

use crate::driver::{TaskSets, labels};

/// The label holding the digest of an image's content and changes: an image with the same digest is not imported
/// again.
pub const DIGEST_LABEL: &str = "cutover.test-image.digest";
/// Where the binary lives in the image (its entrypoint).
pub const BINARY_DIR: &str = "/usr/local/bin";
/// The port `cutover-test-http` listens on unless told otherwise (`PORT`).
pub const HTTP_PORT: u16 = 8080;

#[derive(Debug, thiserror::Error)]
pub enum TestImageError {
    #[error("cannot put {} in an image: {message}", binary.display())]
    Binary { binary: PathBuf, message: String },
    #[error("{0:?} is not an image reference (repository[:tag])")]
    Reference(String),
    #[error(transparent)]
    Engine(#[from] crate::Error),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltImage {
    pub reference: String,
    pub image_id: String,
    /// `sha256:<hex>` of the tarball and the changes.
    pub digest: String,
    /// The engine already had this reference with this digest: nothing was imported.
    pub reused: bool,
}

/// The image's root file system: `binary` under [`BINARY_DIR`] and every shared library it needs at the path the
/// dynamic loader looks for it. Deterministic (sorted, time 0, owner root), so its digest identifies the content.
pub fn rootfs_tar(binary: &Path) -> Result<Vec<u8>, TestImageError> {
    let fail = |message: String| TestImageError::Binary { binary: binary.to_owned(), message };
    let name = binary.file_name().ok_or_else(|| fail("it has no file name".into()))?;
    let mut files: BTreeMap<PathBuf, PathBuf> = BTreeMap::new();
    files.insert(Path::new(BINARY_DIR).join(name), binary.to_owned());
    for library in shared_libraries(binary).map_err(fail)? {
        files.insert(library.clone(), library);
    }
    let directories: BTreeSet<PathBuf> = files
        .keys()
        .flat_map(|path| path.ancestors().skip(1))
        .filter(|dir| *dir != Path::new("/"))
        .map(Path::to_owned)
        .collect();

    let mut archive = tar::Builder::new(Vec::new());
    let header = |kind: tar::EntryType, mode: u32, size: u64| {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(kind);
        header.set_mode(mode);
        header.set_size(size);
        header.set_mtime(0);
        header.set_uid(0);
        header.set_gid(0);
        header
    };
    let in_archive = |path: &Path| path.strip_prefix("/").unwrap_or(path).to_owned();
    for directory in &directories {
        let mut entry = header(tar::EntryType::Directory, 0o755, 0);
        archive.append_data(&mut entry, in_archive(directory), std::io::empty()).map_err(|e| fail(e.to_string()))?;
    }
    for (target, source) in &files {
        // Read through symlinks (ld-linux is one): the image gets the file itself.
        let content = std::fs::read(source).map_err(|e| fail(format!("reading {}: {e}", source.display())))?;
        let mut entry = header(tar::EntryType::Regular, 0o755, content.len() as u64);
        archive.append_data(&mut entry, in_archive(target), content.as_slice()).map_err(|e| fail(e.to_string()))?;
    }
    archive.into_inner().map_err(|e| fail(e.to_string()))
}

/// What `ldd` says the binary loads (none for a static binary).
fn shared_libraries(binary: &Path) -> Result<Vec<PathBuf>, String> {
    let output = Command::new("ldd").arg(binary).output().map_err(|e| format!("cannot run ldd: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        if stdout.contains("not a dynamic executable") || stderr.contains("not a dynamic executable") {
            return Ok(Vec::new());
        }
        return Err(format!("ldd failed: {}{}", stdout.trim(), stderr.trim()));
    }
    let mut libraries = Vec::new();
    for line in stdout.lines().map(str::trim) {
        // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x…)", "/lib64/ld-linux-x86-64.so.2 (0x…)", and the
        // vdso, which has no file.
        let path = match line.split_once("=>") {
            Some((library, target)) => {
                let target = target.trim();
                if target.starts_with("not found") {
                    return Err(format!("ldd finds no {}", library.trim()));
                }
                target.split_whitespace().next().unwrap_or_default()
            }
            None => line.split_whitespace().next().unwrap_or_default(),
        };
        if path.starts_with('/') {
            libraries.push(PathBuf::from(path));
        }
    }
    Ok(libraries)
}

/// Imports an image holding `binary` as its entrypoint with `env` set, tagged `reference`; does nothing if the engine
/// already has `reference` with the same content digest.
pub async fn ensure_image(
    tasks: &TaskSets,
    binary: &Path,
    reference: &str,
    env: &[(&str, &str)],
    exposed_port: Option<u16>,
) -> Result<BuiltImage, TestImageError> {
    let (repository, tag) = split_reference(reference)?;
    let tarball = rootfs_tar(binary)?;
    let name = binary.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
    let mut changes = vec![format!("ENTRYPOINT [\"{BINARY_DIR}/{name}\"]")];
    changes.extend(env.iter().map(|(key, value)| format!("ENV {key}={value}")));
    changes.extend(exposed_port.map(|port| format!("EXPOSE {port}/tcp")));
    let mut hasher = Sha256::new();
    hasher.update(&tarball);
    for change in &changes {
        hasher.update(b"\n");
        hasher.update(change.as_bytes());
    }
    let digest = format!("sha256:{}", hex::encode(hasher.finalize()));

    let docker = tasks.docker();
    let mut replaced = None;
    if let Ok(existing) = docker.inspect_image(reference).await {
        let labels = existing.config.and_then(|config| config.labels).unwrap_or_default();
        if labels.get(DIGEST_LABEL) == Some(&digest) {
            let image_id = existing.id.unwrap_or_default();
            return Ok(BuiltImage { reference: reference.to_owned(), image_id, digest, reused: true });
        }
        replaced = existing.id;
    }
    changes.push(format!("LABEL {DIGEST_LABEL}={digest}"));
    let options = CreateImageOptions {
        from_src: Some("-".into()),
        repo: Some(repository.into()),
        tag: Some(tag.into()),
        changes,
        ..Default::default()
    };
    let engine = |operation: &str, message: String| {
        TestImageError::Engine(crate::Error::Engine { operation: operation.to_owned(), message })
    };
    let mut progress = docker.create_image(Some(options), Some(bollard::body_full(bytes::Bytes::from(tarball))), None);
    while let Some(step) = progress.next().await {
        step.map_err(|error| engine(&format!("import image {reference}"), error.to_string()))?;
    }
    let imported = docker
        .inspect_image(reference)
        .await
        .map_err(|error| engine(&format!("inspect image {reference}"), error.to_string()))?;
    if let Some(old) = replaced.filter(|old| Some(old) != imported.id.as_ref()) {
        // The tag moved to the new image; the old one would stay behind untagged. Not forced: an image a container
        // still uses is kept (the engine refuses, which is fine).
        let _ = docker.remove_image(old.as_str(), None::<RemoveImageOptions>, None).await;
    }
    Ok(BuiltImage { reference: reference.to_owned(), image_id: imported.id.unwrap_or_default(), digest, reused: false })
}

/// The image for the `cutover-test-http` binary: `/` answers `version`, `/health` answers `ok`.
pub async fn ensure_http_image(
    tasks: &TaskSets,
    binary: &Path,
    reference: &str,
    version: &str,
) -> Result<BuiltImage, TestImageError> {
    ensure_image(tasks, binary, reference, &[("VERSION", version)], Some(HTTP_PORT)).await
}

fn split_reference(reference: &str) -> Result<(&str, &str), TestImageError> {
    let last_slash = reference.rfind('/').map_or(0, |index| index + 1);
    let (repository, tag) = match reference[last_slash..].rfind(':') {
        Some(colon) => (&reference[..last_slash + colon], &reference[last_slash + colon + 1..]),
        None => (reference, "latest"),
    };
    let valid = |part: &str, extra: &[char]| {
        !part.is_empty()
            && part.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') || extra.contains(&c))
    };
    if valid(repository, &['/', ':']) && valid(tag, &[]) && repository == repository.to_ascii_lowercase() {
        Ok((repository, tag))
    } else {
        Err(TestImageError::Reference(reference.to_owned()))
    }
}

/// One test's share of the engine: task set ids and image references unique to it, and a guard that removes all of
/// them on drop, also after a failed assertion.
pub struct TestRun {
    id: String,
    socket: PathBuf,
    images: Mutex<Vec<String>>,
}

impl TestRun {
    pub fn new(socket: impl Into<PathBuf>) -> TestRun {
        let id = format!("t{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
        TestRun { id, socket: socket.into(), images: Mutex::new(Vec::new()) }
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// `<run>-<name>`: removed on drop like everything else whose task-set label starts with `<run>-`.
    pub fn task_set_id(&self, name: &str) -> String {
        format!("{}-{name}", self.id)
    }

    /// `cutover-test/http:<run>-<version>`, built from `binary` (the `cutover-test-http` executable) and removed on
    /// drop.
    pub async fn http_image(
        &self,
        tasks: &TaskSets,
        binary: &Path,
        version: &str,
    ) -> Result<BuiltImage, TestImageError> {
        let reference = format!("cutover-test/http:{}-{version}", self.id);
        self.images.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(reference.clone());
        ensure_http_image(tasks, binary, &reference, version).await
    }

    /// Registers another image for removal.
    pub fn track_image(&self, reference: &str) {
        self.images.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(reference.to_owned());
    }
}

impl Drop for TestRun {
    fn drop(&mut self) {
        let prefix = format!("{}-", self.id);
        let socket = self.socket.clone();
        let images = std::mem::take(&mut *self.images.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
        // Drop may run inside the test's runtime (where blocking on another future panics): clean up on a thread of
        // its own with a runtime of its own.
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(async move {
                let tasks = TaskSets::connect(&socket).await.map_err(std::io::Error::other)?;
                let docker = tasks.docker();
                let options = ListContainersOptions {
                    all: true,
                    filters: Some([("label".to_owned(), vec![labels::TASK_SET.to_owned()])].into()),
                    ..Default::default()
                };
                let containers = docker.list_containers(Some(options)).await.map_err(std::io::Error::other)?;
                for container in containers {
                    let ours = container
                        .labels
                        .as_ref()
                        .and_then(|labels| labels.get(labels::TASK_SET))
                        .is_some_and(|set| set.starts_with(&prefix));
                    if let (true, Some(id)) = (ours, container.id) {
                        let options = RemoveContainerOptions { force: true, v: true, ..Default::default() };
                        if let Err(error) = docker.remove_container(&id, Some(options)).await {
                            eprintln!("test cleanup: cannot remove container {id}: {error}");
                        }
                    }
                }
                for image in images {
                    let options = RemoveImageOptions { force: true, ..Default::default() };
                    match docker.remove_image(&image, Some(options), None).await {
                        Ok(_) | Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => {}
                        Err(error) => eprintln!("test cleanup: cannot remove image {image}: {error}"),
                    }
                }
                Ok::<(), std::io::Error>(())
            })
        });
        match cleanup.join() {
            Ok(Ok(())) => {}
            Ok(Err(error)) => eprintln!("test cleanup of run {}: {error}", self.id),
            Err(_) => eprintln!("test cleanup of run {} panicked", self.id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_split_into_repository_and_tag() {
        assert_eq!(split_reference("cutover-test/http:v1").unwrap(), ("cutover-test/http", "v1"));
        assert_eq!(split_reference("localhost:5000/http").unwrap(), ("localhost:5000/http", "latest"));
        assert!(split_reference("Upper/http:v1").is_err());
        assert!(split_reference("http:").is_err());
    }
}
