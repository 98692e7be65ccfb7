//! The revision blob store: content-addressed files on disk, behind the embedded S3 endpoint (`s3.rs`) and the
//! agents' bundle downloads (`/agent/v1/bundles/<sha256>`).
//!
//! A blob lives at `blobs/sha256/<first two hex>/<hex>`. It is first written to a temporary file while its SHA-256
//! (its name, and what agents verify) and MD5 (S3's ETag) are computed, and only moved into place when the caller
//! commits it — after checking the client's checksums — so a crash or a corrupted upload never leaves a partial
//! blob under a valid name. Blobs are shared: objects with the same content, and every version of them, name the
//! same file. Multipart uploads keep their parts under `blobs/uploads/<upload id>/` until they are completed.

use std::path::{Path, PathBuf};

use axum::body::Body;
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use s3s::crypto::{Checksum, Md5};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncWriteExt, BufWriter};

/// Content-addressed files under one directory.
pub struct BlobStore {
    root: PathBuf,
}

/// A blob written to a temporary file but not yet in the store: [`StagedBlob::commit`] moves it into place, dropping
/// it deletes the file.
pub struct StagedBlob {
    tmp: Option<PathBuf>,
    dest: PathBuf,
    /// Hex SHA-256 of the content.
    pub sha256: String,
    /// MD5 of the content.
    pub md5: [u8; 16],
    pub size: u64,
}

impl BlobStore {
    pub fn open(root: PathBuf) -> std::io::Result<BlobStore> {
        std::fs::create_dir_all(root.join("tmp"))?;
        std::fs::create_dir_all(root.join("sha256"))?;
        std::fs::create_dir_all(root.join("uploads"))?;
        Ok(BlobStore { root })
    }

    /// Path of a blob (which may not exist).
    pub fn path(&self, sha256: &str) -> Option<PathBuf> {
        if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()) {
            return None;
        }
        Some(self.root.join("sha256").join(&sha256[..2]).join(sha256))
    }

    /// The directory of unfinished multipart uploads.
    pub(crate) fn uploads_dir(&self) -> PathBuf {
        self.root.join("uploads")
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
            StagedBlob { tmp: Some(tmp), dest: PathBuf::new(), sha256: String::new(), md5: [0; 16], size: 0 };
        // Request bodies arrive in small frames; buffering turns them into few large writes.
        let mut writer = BufWriter::with_capacity(256 * 1024, file);
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
        staged.dest = self.path(&staged.sha256).ok_or_else(|| std::io::Error::other("bad digest"))?;
        Ok(staged)
    }
}

impl StagedBlob {
    /// Moves the blob into the store under its SHA-256.
    pub async fn commit(self) -> std::io::Result<()> {
        let dest = self.dest.clone();
        self.persist_to(&dest).await
    }

    /// Moves the staged file to `dest` instead (e.g. a part of a multipart upload).
    pub async fn persist_to(mut self, dest: &Path) -> std::io::Result<()> {
        let Some(tmp) = self.tmp.take() else { return Ok(()) };
        if let Some(parent) = dest.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        let renamed = tokio::fs::rename(&tmp, dest).await;
        if renamed.is_err() {
            let _ = tokio::fs::remove_file(&tmp).await;
        }
        renamed
    }
}

impl Drop for StagedBlob {
    fn drop(&mut self) {
        if let Some(tmp) = self.tmp.take() {
            let _ = std::fs::remove_file(tmp);
        }
    }
}

/// Streams a file as a response body.
pub(crate) async fn file_response(path: &Path) -> std::io::Result<Body> {
    let file = tokio::fs::File::open(path).await?;
    Ok(Body::from_stream(tokio_util::io::ReaderStream::with_capacity(file, 256 * 1024)))
}
