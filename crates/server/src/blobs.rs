//! The embedded revision store: content-addressed blobs on disk, and S3-style path routes to put and get them.
//!
//! A blob lives at `blobs/sha256/<first two hex>/<hex>`; it is written to a temporary file while hashing and
//! renamed into place, so a crash never leaves a partial blob under a valid name. `PUT /{bucket}/{key}` stores a
//! blob and maps the S3 name to it; `cutover push` uploads this way, and the revision it registers is an S3
//! location, exactly what CreateDeployment accepts.

use std::path::{Path, PathBuf};

use axum::Router;
use axum::body::Body;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::put;
use cutover_store::ObjectRow;
use futures_util::TryStreamExt;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::AppState;

/// Content-addressed files under one directory.
pub struct BlobStore {
    root: PathBuf,
}

impl BlobStore {
    pub fn open(root: PathBuf) -> std::io::Result<BlobStore> {
        std::fs::create_dir_all(root.join("tmp"))?;
        std::fs::create_dir_all(root.join("sha256"))?;
        Ok(BlobStore { root })
    }

    /// Path of a blob (which may not exist).
    pub fn path(&self, sha256: &str) -> Option<PathBuf> {
        if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()) {
            return None;
        }
        Some(self.root.join("sha256").join(&sha256[..2]).join(sha256))
    }

    /// Streams `body` into the store; returns its sha256 (hex) and size.
    pub async fn put(&self, body: Body, temp_name: &str) -> std::io::Result<(String, u64)> {
        let tmp = self.root.join("tmp").join(temp_name);
        let mut file = tokio::fs::File::create(&tmp).await?;
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        let mut stream = body.into_data_stream().map_err(std::io::Error::other);
        let result: std::io::Result<()> = async {
            while let Some(chunk) = stream.try_next().await? {
                hasher.update(&chunk);
                size += chunk.len() as u64;
                file.write_all(&chunk).await?;
            }
            file.sync_all().await?;
            Ok(())
        }
        .await;
        if let Err(error) = result {
            let _ = tokio::fs::remove_file(&tmp).await;
            return Err(error);
        }
        let sha256 = hex::encode(hasher.finalize());
        let dest = self.path(&sha256).ok_or_else(|| std::io::Error::other("bad digest"))?;
        if let Some(parent) = dest.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        tokio::fs::rename(&tmp, &dest).await?;
        Ok((sha256, size))
    }
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/{bucket}/{*key}", put(put_object).get(get_object).head(head_object))
}

async fn put_object(
    State(state): State<AppState>,
    UrlPath((bucket, key)): UrlPath<(String, String)>,
    body: Body,
) -> Response {
    let temp_name = state.inner.clock.uuid();
    let (sha256, size) = match state.inner.blobs.put(body, &temp_name).await {
        Ok(res) => res,
        Err(error) => return s3_error(StatusCode::INTERNAL_SERVER_ERROR, "InternalError", &error.to_string()),
    };
    let row = ObjectRow { bucket, key, sha256: sha256.clone(), size: size as i64, create_time: state.inner.clock.now_ms() };
    let result = async {
        let mut tx = state.store().begin().await?;
        tx.put_object(&row).await?;
        tx.commit().await
    }
    .await;
    if let Err(error) = result {
        return s3_error(StatusCode::INTERNAL_SERVER_ERROR, "InternalError", &error.to_string());
    }
    let mut headers = HeaderMap::new();
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{sha256}\"")) {
        headers.insert("etag", etag);
    }
    (StatusCode::OK, headers).into_response()
}

async fn find(state: &AppState, bucket: &str, key: &str) -> Result<(ObjectRow, PathBuf), Response> {
    let lookup = async {
        let mut tx = state.store().begin().await?;
        tx.object(bucket, key).await
    }
    .await;
    match lookup {
        Ok(Some(row)) => match state.inner.blobs.path(&row.sha256) {
            Some(path) => Ok((row, path)),
            None => Err(s3_error(StatusCode::INTERNAL_SERVER_ERROR, "InternalError", "corrupt object digest")),
        },
        Ok(None) => Err(s3_error(StatusCode::NOT_FOUND, "NoSuchKey", "The specified key does not exist.")),
        Err(error) => Err(s3_error(StatusCode::INTERNAL_SERVER_ERROR, "InternalError", &error.to_string())),
    }
}

async fn head_object(State(state): State<AppState>, UrlPath((bucket, key)): UrlPath<(String, String)>) -> Response {
    match find(&state, &bucket, &key).await {
        Ok((row, _)) => object_headers(&row).into_response(),
        Err(response) => response,
    }
}

async fn get_object(State(state): State<AppState>, UrlPath((bucket, key)): UrlPath<(String, String)>) -> Response {
    match find(&state, &bucket, &key).await {
        Ok((row, path)) => match file_response(&path).await {
            Ok(body) => (object_headers(&row), body).into_response(),
            Err(error) => s3_error(StatusCode::INTERNAL_SERVER_ERROR, "InternalError", &error.to_string()),
        },
        Err(response) => response,
    }
}

fn object_headers(row: &ObjectRow) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{}\"", row.sha256)) {
        headers.insert("etag", etag);
    }
    headers.insert("content-length", HeaderValue::from(row.size));
    headers.insert("content-type", HeaderValue::from_static("application/octet-stream"));
    headers
}

/// Streams a file as a response body.
pub(crate) async fn file_response(path: &Path) -> std::io::Result<Body> {
    let file = tokio::fs::File::open(path).await?;
    Ok(Body::from_stream(tokio_util::io::ReaderStream::with_capacity(file, 256 * 1024)))
}

fn s3_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{}</Message></Error>",
        message.replace('&', "&amp;").replace('<', "&lt;")
    );
    (status, [("content-type", "application/xml")], body).into_response()
}
