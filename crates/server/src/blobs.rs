//! The revision blob store: content-addressed bundles behind the embedded S3 endpoint (`s3.rs`), GitHub revisions
//! (`git.rs`) and the agents' bundle downloads (`/agent/v1/bundles/<sha256>`).
//!
//! Two backends, chosen by configuration:
//! - a local directory (the default, `DATA_DIR/blobs` or `--blobs-dir`), a blob at `sha256/<first two hex>/<hex>`;
//! - an S3-compatible bucket ([`S3Settings`], `--s3-bucket` …), the same key under an optional prefix, so that
//!   replicas share revisions without a shared filesystem.
//!
//! Either way a blob is first written to a local temporary file while its SHA-256 (its name, and what agents verify)
//! and MD5 (S3's ETag) are computed, and it is only stored under its name when the caller commits it — after
//! checking the client's checksums. Locally that is a rename; in S3 the verified file is uploaded to its final key
//! (one PUT, or a multipart upload that S3 shows only once it is completed, and aborts otherwise). So a crash, a
//! failed or a corrupted upload never leaves a partial blob under a valid name, and callers record a blob in the
//! database only after its commit succeeded. Blobs are shared: objects with the same content, and every version of
//! them, name the same blob.
//!
//! Multipart uploads of the embedded S3 endpoint keep their parts under `uploads/<upload id>/` (a directory, or keys
//! in the bucket) until they are completed, so with S3 any replica can complete an upload whose parts went to others.
//!
//! Agents never talk to S3: the server streams bundles to them from either backend (`docs/guide/production.md`).

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::body::Body;
use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::{Stream, StreamExt, TryStreamExt};
use object_store::path::Path as Key;
use object_store::{ObjectStore, ObjectStoreExt};
use s3s::crypto::{Checksum, Md5};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt, BufWriter};

/// A blob's content, or part of it, as a stream.
pub type ByteStream = BoxStream<'static, std::io::Result<Bytes>>;

/// Reads and writes are done in pieces of this size.
const IO_CHUNK: usize = 256 * 1024;
/// Uploads to S3 up to this size are one PUT; larger ones are multipart uploads with parts of this size.
const S3_PART_SIZE: usize = 8 * 1024 * 1024;

/// Content-addressed blobs in a local directory or an S3 bucket.
#[derive(Clone)]
pub struct BlobStore {
    /// Local directory: the temporary files of both backends (`tmp/`), and everything else for the local one.
    root: PathBuf,
    backend: Backend,
}

#[derive(Clone)]
enum Backend {
    Local,
    S3(Remote),
}

/// A bucket (through `object_store`), the key prefix inside it, and how to name it in messages.
#[derive(Clone)]
struct Remote {
    store: Arc<dyn ObjectStore>,
    /// Empty, or ends with `/`.
    prefix: String,
    /// `s3://bucket/prefix at endpoint`.
    description: String,
}

/// A blob written to a temporary file but not yet in the store: [`StagedBlob::commit`] stores it, dropping it deletes
/// the file.
pub struct StagedBlob {
    tmp: Option<PathBuf>,
    store: BlobStore,
    /// Hex SHA-256 of the content.
    pub sha256: String,
    /// MD5 of the content.
    pub md5: [u8; 16],
    pub size: u64,
}

/// Whether `sha256` is a blob's name: 64 lowercase hex digits.
pub fn is_digest(sha256: &str) -> bool {
    sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

fn invalid_digest(sha256: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("not a sha256 digest: {sha256:?}"))
}

/// Relative location of a blob (`sha256/ab/ab…`), the same in a directory and in a bucket.
fn blob_key(sha256: &str) -> String {
    format!("sha256/{}/{sha256}", &sha256[..2])
}

fn part_name(part_number: i32) -> String {
    format!("part-{part_number:05}")
}

/// `object_store`'s errors as I/O errors, keeping "not found" recognisable.
fn io_error(error: object_store::Error) -> std::io::Error {
    match error {
        object_store::Error::NotFound { .. } => std::io::Error::new(std::io::ErrorKind::NotFound, error.to_string()),
        other => std::io::Error::other(other.to_string()),
    }
}

impl BlobStore {
    /// The local backend: blobs in `root`.
    pub fn open(root: PathBuf) -> std::io::Result<BlobStore> {
        std::fs::create_dir_all(root.join("tmp"))?;
        std::fs::create_dir_all(root.join("sha256"))?;
        std::fs::create_dir_all(root.join("uploads"))?;
        Ok(BlobStore { root, backend: Backend::Local })
    }

    /// The store the configuration asks for: the S3 bucket if `s3_bucket` is set (checked with one request), else
    /// the local directory.
    pub async fn from_config(config: &crate::Config) -> Result<BlobStore, OpenError> {
        let local_root = config.blobs_dir.clone().unwrap_or_else(|| config.data_dir.join("blobs"));
        if config.s3.s3_bucket.is_none() {
            return BlobStore::open(local_root.clone()).map_err(|source| OpenError::Local { dir: local_root, source });
        }
        let remote = config.s3.connect().await?;
        BlobStore::with_object_store(local_root.clone(), remote)
            .map_err(|source| OpenError::Local { dir: local_root, source })
    }

    /// An S3 backend over `remote` (any `object_store`; tests use the in-memory one), temporary files in `staging`.
    fn with_object_store(staging: PathBuf, remote: Remote) -> std::io::Result<BlobStore> {
        std::fs::create_dir_all(staging.join("tmp"))?;
        Ok(BlobStore { root: staging, backend: Backend::S3(remote) })
    }

    /// Where blobs are kept, for the start-up log.
    pub fn describe(&self) -> String {
        match &self.backend {
            Backend::Local => self.root.display().to_string(),
            Backend::S3(remote) => remote.description.clone(),
        }
    }

    fn local_path(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }

    /// Whether the blob is stored.
    pub async fn exists(&self, sha256: &str) -> std::io::Result<bool> {
        if !is_digest(sha256) {
            return Err(invalid_digest(sha256));
        }
        match &self.backend {
            Backend::Local => tokio::fs::try_exists(self.local_path(&blob_key(sha256))).await,
            Backend::S3(remote) => match remote.store.head(&remote.key(&blob_key(sha256))).await {
                Ok(_) => Ok(true),
                Err(object_store::Error::NotFound { .. }) => Ok(false),
                Err(error) => Err(io_error(error)),
            },
        }
    }

    /// The blob's content, or the bytes `range` of it (which the caller checked against the blob's size); an error of
    /// kind `NotFound` when there is no such blob.
    pub async fn read(&self, sha256: &str, range: Option<Range<u64>>) -> std::io::Result<ByteStream> {
        if !is_digest(sha256) {
            return Err(invalid_digest(sha256));
        }
        self.read_key(&blob_key(sha256), range).await
    }

    /// The blob's content as a response body.
    pub(crate) async fn response_body(&self, sha256: &str) -> std::io::Result<Body> {
        Ok(Body::from_stream(self.read(sha256, None).await?))
    }

    async fn read_key(&self, relative: &str, range: Option<Range<u64>>) -> std::io::Result<ByteStream> {
        match &self.backend {
            Backend::Local => {
                let mut file = tokio::fs::File::open(self.local_path(relative)).await?;
                let stream = match range {
                    None => reader_stream(file),
                    Some(range) => {
                        file.seek(std::io::SeekFrom::Start(range.start)).await?;
                        reader_stream(file.take(range.end.saturating_sub(range.start)))
                    }
                };
                Ok(stream)
            }
            Backend::S3(remote) => {
                let options = object_store::GetOptions { range: range.map(Into::into), ..Default::default() };
                let result = remote.store.get_opts(&remote.key(relative), options).await.map_err(io_error)?;
                Ok(result.into_stream().map_err(io_error).boxed())
            }
        }
    }

    /// Streams `body` into a temporary file named `temp_name`, hashing it on the way.
    pub async fn stage<S, E>(&self, body: S, temp_name: &str) -> std::io::Result<StagedBlob>
    where
        S: Stream<Item = Result<Bytes, E>>,
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let tmp = self.root.join("tmp").join(temp_name);
        let file = tokio::fs::File::create(&tmp).await?;
        // From here on the staged blob owns the file: any early return deletes it.
        let mut staged =
            StagedBlob { tmp: Some(tmp), store: self.clone(), sha256: String::new(), md5: [0; 16], size: 0 };
        // Request bodies arrive in small frames; buffering turns them into few large writes.
        let mut writer = BufWriter::with_capacity(IO_CHUNK, file);
        let mut sha256 = Sha256::new();
        let mut md5 = Md5::new();
        let mut body = std::pin::pin!(body);
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|error| std::io::Error::other(error.into()))?;
            sha256.update(&chunk);
            md5.update(&chunk);
            staged.size += chunk.len() as u64;
            writer.write_all(&chunk).await?;
        }
        writer.flush().await?;
        writer.get_ref().sync_all().await?;
        staged.sha256 = hex::encode(sha256.finalize());
        staged.md5 = md5.finalize();
        Ok(staged)
    }

    // --- Multipart uploads of the embedded S3 endpoint (upload ids are checked by `s3.rs`) ---

    /// Records a new multipart upload with its description (`upload.json`).
    pub(crate) async fn create_upload(&self, upload_id: &str, description: Vec<u8>) -> std::io::Result<()> {
        let relative = format!("uploads/{upload_id}/upload.json");
        match &self.backend {
            Backend::Local => {
                let dir = self.local_path(&format!("uploads/{upload_id}"));
                tokio::fs::create_dir_all(&dir).await?;
                // Written aside and renamed, so an upload is either fully described or absent.
                tokio::fs::write(dir.join("upload.json.tmp"), description).await?;
                tokio::fs::rename(dir.join("upload.json.tmp"), dir.join("upload.json")).await
            }
            Backend::S3(remote) => {
                remote.store.put(&remote.key(&relative), description.into()).await.map(drop).map_err(io_error)
            }
        }
    }

    /// The description of a multipart upload; None if there is no such upload.
    pub(crate) async fn upload_description(&self, upload_id: &str) -> std::io::Result<Option<Vec<u8>>> {
        let relative = format!("uploads/{upload_id}/upload.json");
        match &self.backend {
            Backend::Local => match tokio::fs::read(self.local_path(&relative)).await {
                Ok(bytes) => Ok(Some(bytes)),
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(error) => Err(error),
            },
            Backend::S3(remote) => match remote.store.get(&remote.key(&relative)).await {
                Ok(result) => Ok(Some(result.bytes().await.map_err(io_error)?.to_vec())),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(error) => Err(io_error(error)),
            },
        }
    }

    /// The size of an uploaded part; None if it was not uploaded.
    pub(crate) async fn part_size(&self, upload_id: &str, part_number: i32) -> std::io::Result<Option<u64>> {
        let relative = format!("uploads/{upload_id}/{}", part_name(part_number));
        match &self.backend {
            Backend::Local => match tokio::fs::metadata(self.local_path(&relative)).await {
                Ok(meta) => Ok(Some(meta.len())),
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(error) => Err(error),
            },
            Backend::S3(remote) => match remote.store.head(&remote.key(&relative)).await {
                Ok(meta) => Ok(Some(meta.size)),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(error) => Err(io_error(error)),
            },
        }
    }

    /// The content of an uploaded part.
    pub(crate) async fn read_part(&self, upload_id: &str, part_number: i32) -> std::io::Result<ByteStream> {
        self.read_key(&format!("uploads/{upload_id}/{}", part_name(part_number)), None).await
    }

    /// Deletes a multipart upload and its parts.
    pub(crate) async fn remove_upload(&self, upload_id: &str) -> std::io::Result<()> {
        match &self.backend {
            Backend::Local => tokio::fs::remove_dir_all(self.local_path(&format!("uploads/{upload_id}"))).await,
            Backend::S3(remote) => {
                let prefix = remote.key(&format!("uploads/{upload_id}"));
                let keys = remote.store.list(Some(&prefix)).map_ok(|meta| meta.location).boxed();
                remote.store.delete_stream(keys).try_collect::<Vec<_>>().await.map(drop).map_err(io_error)
            }
        }
    }

    /// Every multipart upload with when it was started (its description's time; the newest part's when it has
    /// none, e.g. after a failed start).
    pub(crate) async fn uploads(&self) -> std::io::Result<Vec<(String, SystemTime)>> {
        let mut uploads: Vec<(String, SystemTime, bool)> = Vec::new();
        match &self.backend {
            Backend::Local => {
                let mut dir = tokio::fs::read_dir(self.local_path("uploads")).await?;
                while let Some(entry) = dir.next_entry().await? {
                    let id = entry.file_name().to_string_lossy().into_owned();
                    let described = tokio::fs::metadata(entry.path().join("upload.json")).await;
                    let modified = match described {
                        Ok(meta) => meta.modified()?,
                        Err(_) => entry.metadata().await?.modified()?,
                    };
                    uploads.push((id, modified, true));
                }
            }
            Backend::S3(remote) => {
                let prefix = remote.key("uploads");
                let mut listing = remote.store.list(Some(&prefix));
                while let Some(meta) = listing.try_next().await.map_err(io_error)? {
                    let mut parts = meta.location.prefix_match(&prefix).into_iter().flatten();
                    let (Some(id), Some(name)) = (parts.next(), parts.next()) else { continue };
                    let (id, modified) = (id.as_ref().to_owned(), SystemTime::from(meta.last_modified));
                    let described = name.as_ref() == "upload.json";
                    match uploads.iter_mut().find(|(known, _, _)| *known == id) {
                        Some(entry) if entry.2 => {}
                        Some(entry) if described => *entry = (id, modified, true),
                        Some(entry) => entry.1 = entry.1.max(modified),
                        None => uploads.push((id, modified, described)),
                    }
                }
            }
        }
        Ok(uploads.into_iter().map(|(id, modified, _)| (id, modified)).collect())
    }
}

impl Remote {
    fn key(&self, relative: &str) -> Key {
        Key::from(format!("{}{relative}", self.prefix))
    }

    /// Uploads a local file to `key`: one PUT when small, else a multipart upload, aborted if anything fails (S3
    /// shows neither until it is complete).
    async fn upload(&self, file: &Path, key: &Key) -> std::io::Result<()> {
        let mut source = tokio::io::BufReader::with_capacity(IO_CHUNK, tokio::fs::File::open(file).await?);
        let mut writer =
            object_store::buffered::BufWriter::with_capacity(self.store.clone(), key.clone(), S3_PART_SIZE)
                .with_max_concurrency(4);
        let written = async {
            tokio::io::copy_buf(&mut source, &mut writer).await?;
            writer.shutdown().await
        }
        .await;
        if written.is_err() {
            let _ = writer.abort().await;
        }
        written
    }
}

impl StagedBlob {
    /// Stores the blob under its SHA-256.
    pub async fn commit(self) -> std::io::Result<()> {
        let relative = blob_key(&self.sha256);
        self.persist(&relative, true).await
    }

    /// Stores the staged content as part `part_number` of a multipart upload instead.
    pub(crate) async fn commit_part(self, upload_id: &str, part_number: i32) -> std::io::Result<()> {
        self.persist(&format!("uploads/{upload_id}/{}", part_name(part_number)), false).await
    }

    async fn persist(mut self, relative: &str, content_addressed: bool) -> std::io::Result<()> {
        let Some(tmp) = self.tmp.take() else { return Ok(()) };
        let result = match &self.store.backend {
            Backend::Local => {
                let dest = self.store.local_path(relative);
                let parent_ready = match dest.parent() {
                    Some(parent) => tokio::fs::create_dir_all(parent).await,
                    None => Ok(()),
                };
                match parent_ready {
                    Ok(()) => tokio::fs::rename(&tmp, dest).await,
                    Err(error) => Err(error),
                }
            }
            Backend::S3(remote) => {
                let key = remote.key(relative);
                // A blob is named by its content: if it is there, it is this one (and re-uploading it is wasted).
                let stored =
                    content_addressed && remote.store.head(&key).await.is_ok_and(|meta| meta.size == self.size);
                if stored { Ok(()) } else { remote.upload(&tmp, &key).await }
            }
        };
        // Gone after a rename; after an upload, or any failure, the temporary file goes.
        let _ = tokio::fs::remove_file(&tmp).await;
        result
    }
}

impl Drop for StagedBlob {
    fn drop(&mut self) {
        if let Some(tmp) = self.tmp.take() {
            let _ = std::fs::remove_file(tmp);
        }
    }
}

/// A file (or part of one) as a byte stream.
fn reader_stream<R: tokio::io::AsyncRead + Send + 'static>(reader: R) -> ByteStream {
    tokio_util::io::ReaderStream::with_capacity(reader, IO_CHUNK).boxed()
}

// --- Configuration of the S3 backend ---

/// Settings of the S3 backend (`--s3-*` flags, `CUTOVER_S3_*` variables, or an `[s3]` table in the settings file).
#[derive(Clone, clap::Args)]
pub struct S3Settings {
    /// Keep revision bundles in this S3 bucket (which must exist) instead of a local directory: any S3-compatible
    /// store (AWS S3, MinIO, Ceph RGW, Garage, …). Replicas then need no shared directory.
    #[arg(long)]
    pub s3_bucket: Option<String>,
    /// The store's URL, e.g. `http://minio.internal:9000`. Default: AWS S3 in --s3-region.
    #[arg(long)]
    pub s3_endpoint: Option<String>,
    /// The bucket's region (what request signatures name).
    #[arg(long, default_value = "us-east-1")]
    pub s3_region: String,
    /// Access key id. Without one: the AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN variables, web
    /// identity or container credentials, else the EC2 instance role.
    #[arg(long)]
    pub s3_access_key_id: Option<String>,
    /// Secret of --s3-access-key-id. Prefer CUTOVER_S3_SECRET_ACCESS_KEY or --s3-secret-access-key-file to a flag,
    /// which other users can see in the process list.
    #[arg(long, hide_env_values = true)]
    pub s3_secret_access_key: Option<String>,
    /// File holding the secret of --s3-access-key-id (surrounding whitespace ignored).
    #[arg(long)]
    pub s3_secret_access_key_file: Option<PathBuf>,
    /// Key prefix of every object Cutover writes, e.g. `cutover/prod/`, to share a bucket.
    #[arg(long)]
    pub s3_prefix: Option<String>,
    /// Virtual-hosted-style requests (`https://BUCKET.host/KEY`). Default: path-style (`https://host/BUCKET/KEY`),
    /// which every S3-compatible store accepts.
    #[arg(long, action = clap::ArgAction::Set, num_args = 0..=1, default_value_t = false, default_missing_value = "true")]
    pub s3_virtual_hosted_style: bool,
    /// Allow an `http://` endpoint (no TLS: only on a trusted network, or for tests).
    #[arg(long, action = clap::ArgAction::Set, num_args = 0..=1, default_value_t = false, default_missing_value = "true")]
    pub s3_allow_http: bool,
}

impl std::fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Settings")
            .field("s3_bucket", &self.s3_bucket)
            .field("s3_endpoint", &self.s3_endpoint)
            .field("s3_region", &self.s3_region)
            .field("s3_access_key_id", &self.s3_access_key_id)
            .field("s3_secret_access_key", &self.s3_secret_access_key.as_ref().map(|_| "***"))
            .field("s3_secret_access_key_file", &self.s3_secret_access_key_file)
            .field("s3_prefix", &self.s3_prefix)
            .field("s3_virtual_hosted_style", &self.s3_virtual_hosted_style)
            .field("s3_allow_http", &self.s3_allow_http)
            .finish()
    }
}

/// Why the blob store could not be opened at start.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("cannot use the blob directory {}: {source}", dir.display())]
    Local { dir: PathBuf, source: std::io::Error },
    #[error("cannot read s3_secret_access_key_file {}: {source}", path.display())]
    SecretFile { path: PathBuf, source: std::io::Error },
    #[error("invalid S3 settings for bucket `{bucket}` at {endpoint}: {message}")]
    Settings { bucket: String, endpoint: String, message: String },
    #[error(
        "the S3 bucket `{bucket}` does not exist at {endpoint}; create it first (e.g. `aws s3 mb s3://{bucket} \
         --endpoint-url {endpoint}`) or fix s3_bucket / s3_endpoint ({detail})"
    )]
    NoSuchBucket { bucket: String, endpoint: String, detail: String },
    #[error(
        "the S3 store at {endpoint} refused access to bucket `{bucket}`: check s3_access_key_id and the secret, \
         s3_region, and the key's permissions ({detail})"
    )]
    Denied { bucket: String, endpoint: String, detail: String },
    #[error(
        "no credentials for the S3 store at {endpoint} (bucket `{bucket}`): set s3_access_key_id and \
         s3_secret_access_key_file (or the AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY variables), or run on an \
         instance with a role ({detail})"
    )]
    NoCredentials { bucket: String, endpoint: String, detail: String },
    #[error("cannot reach the S3 store at {endpoint} (bucket `{bucket}`): {detail}")]
    Unreachable { bucket: String, endpoint: String, detail: String },
}

impl S3Settings {
    /// The endpoint as messages show it.
    fn endpoint_text(&self) -> String {
        self.s3_endpoint.clone().unwrap_or_else(|| format!("AWS S3 ({})", self.s3_region))
    }

    /// The prefix with exactly one trailing `/`, or empty.
    fn normalized_prefix(&self) -> String {
        match self.s3_prefix.as_deref().map(|prefix| prefix.trim_end_matches('/')) {
            None | Some("") => String::new(),
            Some(prefix) => format!("{prefix}/"),
        }
    }

    /// Checks that do not need the network (run with the other settings' checks, before the server opens anything).
    pub(crate) fn validate(&self, blobs_dir: Option<&Path>) -> Result<(), String> {
        let Some(bucket) = &self.s3_bucket else {
            let set: Vec<&str> = [
                ("s3_endpoint", self.s3_endpoint.is_some()),
                ("s3_access_key_id", self.s3_access_key_id.is_some()),
                ("s3_secret_access_key", self.s3_secret_access_key.is_some()),
                ("s3_secret_access_key_file", self.s3_secret_access_key_file.is_some()),
                ("s3_prefix", self.s3_prefix.is_some()),
            ]
            .into_iter()
            .filter_map(|(name, set)| set.then_some(name))
            .collect();
            if !set.is_empty() {
                return Err(format!(
                    "{} set but s3_bucket is not: set s3_bucket to keep revisions in S3",
                    set.join(", ")
                ));
            }
            return Ok(());
        };
        // S3's naming rules, loosely: S3-compatible stores differ in the details.
        if bucket.len() < 3
            || bucket.len() > 63
            || !bucket.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        {
            return Err(format!(
                "s3_bucket must be 3 to 63 lowercase letters, digits, dots or hyphens, got {bucket:?}"
            ));
        }
        if let Some(dir) = blobs_dir {
            return Err(format!(
                "blobs_dir ({}) and s3_bucket ({bucket}) are both set, but revisions are kept in one place: remove \
                 blobs_dir to use S3 (temporary files then go to DATA_DIR/blobs/tmp)",
                dir.display()
            ));
        }
        if let Some(endpoint) = &self.s3_endpoint {
            let rest = endpoint.strip_prefix("https://").or_else(|| endpoint.strip_prefix("http://"));
            let host = rest.map(|rest| rest.split('/').next().unwrap_or(""));
            if host.is_none_or(str::is_empty) {
                return Err(format!("s3_endpoint must be an http:// or https:// URL, got {endpoint:?}"));
            }
            if endpoint.starts_with("http://") && !self.s3_allow_http {
                return Err(format!(
                    "s3_endpoint {endpoint} is plain http: set s3_allow_http = true to send revisions unencrypted, \
                     or use https://"
                ));
            }
        }
        match (&self.s3_access_key_id, &self.s3_secret_access_key, &self.s3_secret_access_key_file) {
            (_, Some(_), Some(_)) => {
                return Err("set s3_secret_access_key or s3_secret_access_key_file, not both".to_owned());
            }
            (Some(_), None, None) => {
                return Err("s3_access_key_id is set without its secret: set s3_secret_access_key_file (or \
                            CUTOVER_S3_SECRET_ACCESS_KEY)"
                    .to_owned());
            }
            (None, Some(_), _) | (None, _, Some(_)) => {
                return Err("an S3 secret is set without s3_access_key_id".to_owned());
            }
            _ => {}
        }
        let prefix = self.normalized_prefix();
        if !prefix.is_empty() {
            let trimmed = prefix.trim_end_matches('/');
            if Key::parse(trimmed).map_or(true, |key| key.as_ref() != trimmed) {
                return Err(format!(
                    "s3_prefix must be a relative key prefix without empty, `.` or `..` segments, got {:?}",
                    self.s3_prefix.as_deref().unwrap_or_default()
                ));
            }
        }
        Ok(())
    }

    /// The `object_store` client these settings describe, retrying as `retry` says.
    fn build(
        &self,
        retry: object_store::RetryConfig,
        client: object_store::ClientOptions,
    ) -> Result<Arc<dyn ObjectStore>, OpenError> {
        let bucket = self.s3_bucket.clone().unwrap_or_default();
        let settings_error =
            |message: String| OpenError::Settings { bucket: bucket.clone(), endpoint: self.endpoint_text(), message };
        // The usual AWS variables (credentials, web identity, container credentials) when no key is configured;
        // what is configured wins.
        let mut builder = object_store::aws::AmazonS3Builder::from_env()
            .with_bucket_name(&bucket)
            .with_region(&self.s3_region)
            .with_virtual_hosted_style_request(self.s3_virtual_hosted_style)
            .with_allow_http(self.s3_allow_http)
            .with_retry(retry)
            .with_client_options(client.with_allow_http(self.s3_allow_http));
        if let Some(endpoint) = &self.s3_endpoint {
            let endpoint = endpoint.trim_end_matches('/');
            // object_store expects a virtual-hosted endpoint to name the bucket already.
            let endpoint = match endpoint.split_once("://") {
                Some((scheme, host)) if self.s3_virtual_hosted_style && !host.starts_with(&format!("{bucket}.")) => {
                    format!("{scheme}://{bucket}.{host}")
                }
                _ => endpoint.to_owned(),
            };
            builder = builder.with_endpoint(endpoint);
        }
        if let Some(key_id) = &self.s3_access_key_id {
            let secret = match (&self.s3_secret_access_key, &self.s3_secret_access_key_file) {
                (Some(secret), _) => secret.clone(),
                (None, Some(path)) => std::fs::read_to_string(path)
                    .map_err(|source| OpenError::SecretFile { path: path.clone(), source })?
                    .trim()
                    .to_owned(),
                (None, None) => return Err(settings_error("s3_access_key_id without a secret".to_owned())),
            };
            builder = builder.with_access_key_id(key_id).with_secret_access_key(secret);
        }
        let store = builder.build().map_err(|error| settings_error(error.to_string()))?;
        Ok(Arc::new(store))
    }

    /// Builds the client and checks the bucket with one request (a listing under the prefix), so that a wrong
    /// endpoint, bucket or key stops the server at start rather than failing the first upload.
    async fn connect(&self) -> Result<Remote, OpenError> {
        let bucket = self.s3_bucket.clone().unwrap_or_default();
        let endpoint = self.endpoint_text();
        let prefix = self.normalized_prefix();
        // The probe fails fast; the store used afterwards retries transient errors (object_store's defaults).
        let probe_retry = object_store::RetryConfig { max_retries: 0, ..Default::default() };
        let probe_client = object_store::ClientOptions::new()
            .with_connect_timeout(Duration::from_secs(5))
            .with_timeout(Duration::from_secs(15));
        let probe = self.build(probe_retry, probe_client)?;
        let probe_prefix = (!prefix.is_empty()).then(|| Key::from(prefix.trim_end_matches('/')));
        if let Err(error) = probe.list_with_delimiter(probe_prefix.as_ref()).await {
            let detail = summarize(&error.to_string());
            // Without configured credentials object_store asks the instance metadata service for a role's.
            if detail.contains("169.254.169.254") || detail.contains("169.254.170.2") {
                return Err(OpenError::NoCredentials { bucket, endpoint, detail });
            }
            return Err(match error {
                object_store::Error::NotFound { .. } => OpenError::NoSuchBucket { bucket, endpoint, detail },
                object_store::Error::PermissionDenied { .. } | object_store::Error::Unauthenticated { .. } => {
                    OpenError::Denied { bucket, endpoint, detail }
                }
                _ if detail.contains("NoSuchBucket") => OpenError::NoSuchBucket { bucket, endpoint, detail },
                _ if detail.contains("AccessDenied") || detail.contains("InvalidAccessKeyId") => {
                    OpenError::Denied { bucket, endpoint, detail }
                }
                _ => OpenError::Unreachable { bucket, endpoint, detail },
            });
        }
        let store = self.build(object_store::RetryConfig::default(), object_store::ClientOptions::new())?;
        let description = format!("s3://{bucket}/{prefix} at {endpoint}");
        Ok(Remote { store, prefix, description })
    }
}

/// An S3 error without the XML around it: `…: 404 Not Found: <Error><Code>C</Code><Message>M</Message>…` becomes
/// `…: 404 Not Found: C: M`.
fn summarize(detail: &str) -> String {
    let element = |name: &str| {
        let start = detail.find(&format!("<{name}>"))? + name.len() + 2;
        let end = start + detail[start..].find(&format!("</{name}>"))?;
        Some(detail[start..end].to_owned())
    };
    match (detail.find("<?xml").or_else(|| detail.find("<Error>")), element("Code")) {
        (Some(xml), Some(code)) => {
            format!("{}{code}: {}", &detail[..xml], element("Message").unwrap_or_default())
        }
        _ => detail.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(data: &[u8]) -> impl Stream<Item = Result<Bytes, std::io::Error>> + use<> {
        let pieces: Vec<Result<Bytes, std::io::Error>> =
            data.chunks(7).map(|piece| Ok(Bytes::copy_from_slice(piece))).collect();
        futures_util::stream::iter(pieces)
    }

    async fn collect(stream: ByteStream) -> Vec<u8> {
        stream
            .try_fold(Vec::new(), |mut all, bytes| async move {
                all.extend_from_slice(&bytes);
                Ok(all)
            })
            .await
            .expect("read")
    }

    /// A backend's name, the store, and for S3 the bucket behind it.
    type Case = (&'static str, BlobStore, Option<Arc<dyn ObjectStore>>);

    fn stores(dir: &Path) -> Vec<Case> {
        let memory: Arc<dyn ObjectStore> = Arc::new(object_store::memory::InMemory::new());
        let remote = Remote { store: memory.clone(), prefix: "team/".to_owned(), description: "memory".to_owned() };
        vec![
            ("local", BlobStore::open(dir.join("local")).expect("local"), None),
            ("s3", BlobStore::with_object_store(dir.join("staging"), remote).expect("s3"), Some(memory)),
        ]
    }

    #[tokio::test]
    async fn blobs_are_stored_under_their_sha256_only_when_committed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let data: Vec<u8> = (0..10_000u32).map(|n| (n % 251) as u8).collect();
        let sha = hex::encode(Sha256::digest(&data));
        for (name, store, memory) in stores(dir.path()) {
            let staged = store.stage(chunks(&data), "upload-1").await.expect("stage");
            assert_eq!((staged.sha256.as_str(), staged.size), (sha.as_str(), data.len() as u64), "{name}");
            assert!(!store.exists(&sha).await.expect("exists"), "{name}: visible before commit");
            staged.commit().await.expect("commit");
            assert!(store.exists(&sha).await.expect("exists"), "{name}");
            assert_eq!(collect(store.read(&sha, None).await.expect("read")).await, data, "{name}");
            assert_eq!(collect(store.read(&sha, Some(10..20)).await.expect("range")).await, &data[10..20], "{name}");
            if let Some(memory) = memory {
                let key = Key::from(format!("team/sha256/{}/{sha}", &sha[..2]));
                assert_eq!(memory.head(&key).await.expect("object").size, data.len() as u64);
            }
            // A staged blob that is dropped leaves nothing: not in the store, not in the temporary directory.
            let other = store.stage(chunks(b"never committed"), "upload-2").await.expect("stage");
            let other_sha = other.sha256.clone();
            drop(other);
            assert!(!store.exists(&other_sha).await.expect("exists"), "{name}");
            let leftovers = std::fs::read_dir(store.root.join("tmp")).expect("tmp").count();
            assert_eq!(leftovers, 0, "{name}: temporary files left");
            let missing = store.read(&"0".repeat(64), None).await.err().map(|error| error.kind());
            assert_eq!(missing, Some(std::io::ErrorKind::NotFound), "{name}");
            assert!(store.read("../etc/passwd", None).await.is_err(), "{name}");
        }
    }

    #[tokio::test]
    async fn multipart_parts_are_kept_until_the_upload_is_removed() {
        let dir = tempfile::tempdir().expect("tempdir");
        for (name, store, _) in stores(dir.path()) {
            assert_eq!(store.upload_description("abc").await.expect("description"), None, "{name}");
            store.create_upload("abc", b"{\"key\":1}".to_vec()).await.expect("create");
            assert_eq!(
                store.upload_description("abc").await.expect("description").as_deref(),
                Some(&b"{\"key\":1}"[..])
            );
            for (number, text) in [(1, &b"first "[..]), (2, b"second")] {
                store
                    .stage(chunks(text), &format!("part-{number}"))
                    .await
                    .expect("stage")
                    .commit_part("abc", number)
                    .await
                    .expect("part");
            }
            assert_eq!(store.part_size("abc", 2).await.expect("size"), Some(6), "{name}");
            assert_eq!(store.part_size("abc", 3).await.expect("size"), None, "{name}");
            assert_eq!(collect(store.read_part("abc", 1).await.expect("part")).await, b"first ", "{name}");
            let uploads = store.uploads().await.expect("uploads");
            assert_eq!(uploads.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>(), ["abc"], "{name}");
            assert!(uploads[0].1.elapsed().is_ok_and(|age| age < Duration::from_secs(60)), "{name}");
            store.remove_upload("abc").await.expect("remove");
            assert!(store.uploads().await.expect("uploads").is_empty(), "{name}");
            assert_eq!(store.part_size("abc", 1).await.expect("size"), None, "{name}");
        }
    }

    fn settings(args: &[&str]) -> S3Settings {
        #[derive(clap::Parser)]
        struct Wrapper {
            #[command(flatten)]
            s3: S3Settings,
        }
        let argv = std::iter::once("test").chain(args.iter().copied());
        <Wrapper as clap::Parser>::try_parse_from(argv).expect("parse").s3
    }

    #[test]
    fn s3_error_documents_are_summarized() {
        let detail = "list request: GET http://h/b - 404 Not Found: <?xml version=\"1.0\"?>\n<Error><Code>NoSuchBucket\
                      </Code><Message>The specified bucket does not exist</Message><RequestId>x</RequestId></Error>";
        assert_eq!(
            summarize(detail),
            "list request: GET http://h/b - 404 Not Found: NoSuchBucket: The specified bucket does not exist"
        );
        assert_eq!(summarize("connection refused"), "connection refused");
    }

    #[test]
    fn settings_are_checked_before_anything_opens() {
        let ok = settings(&["--s3-bucket", "revs", "--s3-endpoint", "http://127.0.0.1:9000", "--s3-allow-http"]);
        assert_eq!(ok.validate(None), Ok(()));
        let error = |args: &[&str]| settings(args).validate(None).expect_err("invalid");
        assert!(error(&["--s3-endpoint", "https://s3.example"]).contains("s3_bucket is not"));
        assert!(error(&["--s3-bucket", "Revs"]).contains("lowercase"));
        assert!(error(&["--s3-bucket", "revs", "--s3-endpoint", "http://h:9000"]).contains("s3_allow_http"));
        assert!(error(&["--s3-bucket", "revs", "--s3-endpoint", "minio:9000"]).contains("http:// or https://"));
        assert!(error(&["--s3-bucket", "revs", "--s3-access-key-id", "AK"]).contains("without its secret"));
        assert!(error(&["--s3-bucket", "revs", "--s3-secret-access-key", "s"]).contains("without s3_access_key_id"));
        assert!(error(&["--s3-bucket", "revs", "--s3-prefix", "a//b"]).contains("s3_prefix"));
        assert!(error(&["--s3-bucket", "revs", "--s3-prefix", "/a"]).contains("s3_prefix"));
        let both = settings(&["--s3-bucket", "revs"]).validate(Some(Path::new("/mnt/blobs"))).expect_err("both");
        assert!(both.contains("blobs_dir") && both.contains("/mnt/blobs"), "{both}");
        assert_eq!(settings(&["--s3-bucket", "revs", "--s3-prefix", "a/b/"]).normalized_prefix(), "a/b/");
        assert_eq!(settings(&["--s3-bucket", "revs", "--s3-prefix", "a"]).normalized_prefix(), "a/");
        assert!(!format!("{:?}", settings(&["--s3-secret-access-key", "hunter2"])).contains("hunter2"));
    }
}
