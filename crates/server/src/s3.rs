//! The embedded S3 endpoint: S3's REST API, path-style, on the server's one listen address, so that `aws s3`,
//! `aws deploy push` and other S3 clients upload revisions straight into Cutover's revision store.
//!
//! [s3s](https://crates.io/crates/s3s) does the protocol — routing by method, path and query, the XML bodies, the
//! error documents, range and checksum headers — and calls [`CutoverS3`], which keeps buckets and object versions in
//! the store and their content in the content-addressed [`BlobStore`]. Agents never talk S3: a revision is resolved
//! to its blob's SHA-256 when a deployment is created (`api/deployments.rs`).
//!
//! Every request must be signed with AWS Signature V4 by an access key ([`crate::auth`]); [`serve`] checks the
//! signature over the headers and the declared `x-amz-content-sha256` (the body is checked against that digest when
//! it is stored), checks the key's role (reads need viewer, writes deployer), then removes the signature and hands
//! s3s an anonymous request: s3s without an auth provider refuses signed requests, and the check is done. It also
//! decodes `aws-chunked` bodies itself, because s3s only does that while verifying a signature; the chunk
//! signatures are not checked (the seed signature and the trailing checksums are). Presigned URLs are refused.

//! Two behaviours differ by the form of a `PUT /{bucket}/{key}`:
//! - an S3 client's upload (signed, or with any `x-amz-*` header, or a query) behaves as S3 does: the bucket must
//!   exist, the ETag is the content's MD5 (`<md5 of the part MD5s>-<parts>` after a multipart upload);
//! - a PUT with the header `x-cutover-upload: 1` and no query — `cutover push` — is Cutover's own upload: it creates
//!   the bucket when needed and answers with the content's SHA-256 as ETag, which is what `cutover push` checks and
//!   registers.
//!
//! Every PUT creates a new version (`x-amz-version-id`), and every version is kept, so a revision that names a
//! `version` stays deployable after its key is overwritten; a DeleteObject without a version removes the key and
//! keeps its versions, as in a versioned bucket. Object responses carry `x-cutover-sha256`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use axum::Extension;
use axum::body::Body;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use bytes::{Bytes, BytesMut};
use cutover_store::{ObjectVersionRow, Store};
use futures_util::{StreamExt, TryStreamExt};
use s3s::checksum::ChecksumHasher;
use s3s::crypto::{Checksum as _, Md5};
use s3s::dto::*;
use s3s::service::{S3Service, S3ServiceBuilder};
use s3s::{S3, S3Error, S3Request, S3Response, S3Result, s3_error};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::blobs::{BlobStore, ByteStream, StagedBlob};

/// Header with the SHA-256 (hex) of an object's content on object responses.
const SHA256_HEADER: &str = "x-cutover-sha256";
/// S3's limit on one listing page.
const MAX_KEYS: i32 = 1000;
/// Every part of a multipart upload but the last must be at least this large (S3's `EntityTooSmall`).
const MIN_PART_SIZE: u64 = 5 * 1024 * 1024;
/// Multipart uploads neither completed nor aborted are deleted after this long (S3 leaves that to lifecycle rules).
const STALE_UPLOAD_MS: i64 = 7 * 24 * 3600 * 1000;

/// Builds the S3 service over the server's state.
pub(crate) fn service(state: AppState) -> S3Service {
    S3ServiceBuilder::new(CutoverS3 { state }).build()
}

/// Marks Cutover's own upload (a PUT with `x-cutover-upload`, no query).
#[derive(Debug, Clone, Copy)]
struct NativeUpload;

/// The trailing headers of an `aws-chunked` body, filled in when the decoder reaches them.
#[derive(Debug, Clone, Default)]
struct ChunkTrailers(Arc<Mutex<HeaderMap>>);

/// Every request the router does not claim for the CodeDeploy API, the agent protocol or `/v1`: the S3 endpoint.
pub(crate) async fn serve(
    axum::extract::State(state): axum::extract::State<AppState>,
    Extension(service): Extension<S3Service>,
    request: axum::extract::Request,
) -> Response {
    let (mut parts, body) = request.into_parts();
    if let Err(response) = authorize(&state, &parts).await {
        return response;
    }
    let native = is_native_upload(&parts);
    strip_signature(&mut parts);
    let body = if chunked::is_aws_chunked(&parts.headers) {
        match chunked::decode(&mut parts, body) {
            Ok(body) => body,
            Err(message) => return xml_error(StatusCode::BAD_REQUEST, "InvalidRequest", &message),
        }
    } else {
        body
    };
    if native {
        parts.extensions.insert(NativeUpload);
    }
    let request = axum::http::Request::from_parts(parts, s3s::Body::http_body_unsync(body));
    match service.call(request).await {
        Ok(response) => response.map(Body::new),
        Err(error) => {
            tracing::error!(message = "S3 request failed.", error = ?error);
            xml_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalError",
                "We encountered an internal error. Please try again.",
            )
        }
    }
}

/// `/agent/…`, `/v1/…` and `/healthz` are Cutover's own paths, never buckets.
pub(crate) async fn reserved() -> Response {
    (StatusCode::NOT_FOUND, "Not found: /agent/…, /v1/… and /healthz are Cutover's own paths, not S3 buckets.\n")
        .into_response()
}

fn xml_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{}</Message></Error>",
        message.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
    );
    (status, [(header::CONTENT_TYPE, "application/xml")], body).into_response()
}

fn is_native_upload(parts: &Parts) -> bool {
    parts.method == axum::http::Method::PUT
        && parts.uri.query().is_none_or(str::is_empty)
        && parts.headers.contains_key("x-cutover-upload")
}

/// Checks the request's signature and the key's role; answers S3's error document when either fails. Writes are
/// recorded in the audit log.
async fn authorize(state: &AppState, parts: &Parts) -> Result<(), Response> {
    use cutover_auth::sigv4::VerifyError;
    let declared = parts.headers.get("x-amz-content-sha256").and_then(|value| value.to_str().ok());
    let empty = cutover_auth::sigv4::payload_hash(b"");
    let payload = declared.unwrap_or(&empty);
    let principal = match crate::auth::authenticate(state, parts, payload, &["s3"]).await {
        Ok(crate::auth::Caller::User(principal)) => principal,
        Ok(crate::auth::Caller::Agent(_)) => {
            return Err(xml_error(StatusCode::FORBIDDEN, "AccessDenied", "an agent credential cannot use S3"));
        }
        Err(crate::auth::AuthError::Signature(error)) => {
            let code = match &error {
                VerifyError::UnknownKey => "InvalidAccessKeyId",
                VerifyError::Mismatch => "SignatureDoesNotMatch",
                VerifyError::Expired { .. } | VerifyError::NotYetValid { .. } => "RequestTimeTooSkewed",
                VerifyError::Missing => "AccessDenied",
                _ => "AuthorizationHeaderMalformed",
            };
            return Err(xml_error(StatusCode::FORBIDDEN, code, &error.to_string()));
        }
        Err(crate::auth::AuthError::Internal(cause)) => return Err(internal_response(&cause)),
    };
    let action = match parts.method {
        axum::http::Method::GET | axum::http::Method::HEAD => "GetObject",
        axum::http::Method::DELETE => "DeleteObject",
        _ => "PutObject",
    };
    let allowed = principal.role.allows(action);
    if action != "GetObject" {
        let source = crate::auth::Source(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map_or_else(|| "unknown".to_owned(), |info| info.0.to_string()),
        );
        let outcome = if allowed { "Authorized" } else { "AccessDenied" };
        crate::auth::audit(state, &principal, &source, &format!("s3:{action}"), parts.uri.path(), outcome).await;
    }
    if !allowed {
        return Err(xml_error(
            StatusCode::FORBIDDEN,
            "AccessDenied",
            &format!("User: {} (role {}) is not authorized to perform: s3:{action}", principal.arn(), principal.role),
        ));
    }
    Ok(())
}

fn internal_response(cause: &str) -> Response {
    tracing::error!(message = "S3 authentication failed internally.", cause);
    xml_error(StatusCode::INTERNAL_SERVER_ERROR, "InternalError", "We encountered an internal error. Please try again.")
}

/// Removes a request's SigV2/SigV4 signature once [`authorize`] has checked it (see the module docs).
fn strip_signature(parts: &mut Parts) {
    parts.headers.remove(header::AUTHORIZATION);
    let Some(query) = parts.uri.query() else { return };
    const PRESIGN: [&str; 10] = [
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Date",
        "X-Amz-Expires",
        "X-Amz-SignedHeaders",
        "X-Amz-Signature",
        "X-Amz-Security-Token",
        "AWSAccessKeyId",
        "Signature",
        "Expires",
    ];
    let signed = query.split('&').any(|pair| pair.starts_with("X-Amz-Signature=") || pair.starts_with("Signature="));
    if !signed {
        return;
    }
    let kept: Vec<&str> =
        query.split('&').filter(|pair| !PRESIGN.contains(&pair.split('=').next().unwrap_or(""))).collect();
    let path_and_query =
        if kept.is_empty() { parts.uri.path().to_owned() } else { format!("{}?{}", parts.uri.path(), kept.join("&")) };
    let mut uri = parts.uri.clone().into_parts();
    if let Ok(value) = path_and_query.parse() {
        uri.path_and_query = Some(value);
        if let Ok(rebuilt) = Uri::from_parts(uri) {
            parts.uri = rebuilt;
        }
    }
}

/// The S3 operations Cutover serves; everything else answers s3s's `NotImplemented`.
struct CutoverS3 {
    state: AppState,
}

/// Logs a fault of ours and answers S3's generic `InternalError`, without the cause (as the CodeDeploy API does).
fn internal(error: impl std::fmt::Display) -> S3Error {
    tracing::error!(message = "S3 endpoint internal error.", error = %error);
    s3_error!(InternalError, "We encountered an internal error. Please try again.")
}

fn timestamp(ms: i64) -> Timestamp {
    Timestamp::from(SystemTime::UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64))
}

fn sha256_headers(sha256: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if let Ok(value) = HeaderValue::from_str(sha256) {
        headers.insert(HeaderName::from_static(SHA256_HEADER), value);
    }
    headers
}

fn respond<T>(output: T, headers: HeaderMap) -> S3Response<T> {
    let mut response = S3Response::new(output);
    response.headers = headers;
    response
}

fn hex_etag(md5: &[u8]) -> String {
    hex::encode(md5)
}

/// Standard base64, for comparing with `Content-MD5`.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(chunk.get(1).copied().unwrap_or(0)) << 8)
            | u32::from(chunk.get(2).copied().unwrap_or(0));
        for (idx, shift) in [18u32, 12, 6, 0].into_iter().enumerate() {
            if idx <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Percent-encodes a key for `encoding-type=url` listings (botocore asks for it and decodes with `unquote`).
fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The checksums a client sent with a body — headers, or trailers of an aws-chunked body — checked once the body is
/// stored (but before it is committed).
struct BodyChecks {
    hasher: ChecksumHasher,
    expected: Checksum,
    content_md5: Option<String>,
    /// `x-amz-content-sha256`, when it is the payload's hash (not `UNSIGNED-PAYLOAD` or a streaming marker).
    content_sha256: Option<String>,
    trailers: Option<ChunkTrailers>,
}

impl BodyChecks {
    fn new(
        expected: Checksum,
        algorithm: Option<&ChecksumAlgorithm>,
        content_md5: Option<String>,
        headers: &HeaderMap,
        extensions: &axum::http::Extensions,
    ) -> S3Result<BodyChecks> {
        let trailers = extensions.get::<ChunkTrailers>().cloned();
        let trailer_names: Vec<String> = headers
            .get("x-amz-trailer")
            .and_then(|value| value.to_str().ok())
            .map(|value| value.split(',').map(|name| name.trim().to_ascii_lowercase()).collect())
            .unwrap_or_default();
        let wants = |field: &Option<String>, name: &str, algo: &str| {
            field.is_some()
                || algorithm.is_some_and(|a| a.as_str().eq_ignore_ascii_case(algo))
                || trailer_names.iter().any(|trailer| trailer == name)
        };
        let mut hasher = ChecksumHasher::default();
        if wants(&expected.checksum_crc32, "x-amz-checksum-crc32", ChecksumAlgorithm::CRC32) {
            hasher.crc32 = Some(Default::default());
        }
        if wants(&expected.checksum_crc32c, "x-amz-checksum-crc32c", ChecksumAlgorithm::CRC32C) {
            hasher.crc32c = Some(Default::default());
        }
        if wants(&expected.checksum_sha1, "x-amz-checksum-sha1", ChecksumAlgorithm::SHA1) {
            hasher.sha1 = Some(Default::default());
        }
        if wants(&expected.checksum_sha256, "x-amz-checksum-sha256", ChecksumAlgorithm::SHA256) {
            hasher.sha256 = Some(Default::default());
        }
        if wants(&expected.checksum_crc64nvme, "x-amz-checksum-crc64nvme", ChecksumAlgorithm::CRC64NVME) {
            hasher.crc64nvme = Some(Default::default());
        }
        if let Some(algo) = algorithm
            && ![
                ChecksumAlgorithm::CRC32,
                ChecksumAlgorithm::CRC32C,
                ChecksumAlgorithm::SHA1,
                ChecksumAlgorithm::SHA256,
                ChecksumAlgorithm::CRC64NVME,
            ]
            .iter()
            .any(|known| algo.as_str().eq_ignore_ascii_case(known))
        {
            return Err(s3_error!(InvalidArgument, "unsupported checksum algorithm {}", algo.as_str()));
        }
        let content_sha256 = headers
            .get("x-amz-content-sha256")
            .and_then(|value| value.to_str().ok())
            .filter(|value| value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit()))
            .map(str::to_ascii_lowercase);
        Ok(BodyChecks { hasher, expected, content_md5, content_sha256, trailers })
    }

    fn update(&mut self, bytes: &[u8]) {
        self.hasher.update(bytes);
    }

    /// Compares what the client claimed with what was received; returns the computed checksums, to echo.
    fn verify(self, staged: &StagedBlob) -> S3Result<Checksum> {
        let mut expected = self.expected;
        if let Some(trailers) = &self.trailers {
            let trailers = trailers.0.lock().map_err(internal)?;
            let get = |name: &str| trailers.get(name).and_then(|value| value.to_str().ok()).map(str::to_owned);
            expected.checksum_crc32 = expected.checksum_crc32.or_else(|| get("x-amz-checksum-crc32"));
            expected.checksum_crc32c = expected.checksum_crc32c.or_else(|| get("x-amz-checksum-crc32c"));
            expected.checksum_sha1 = expected.checksum_sha1.or_else(|| get("x-amz-checksum-sha1"));
            expected.checksum_sha256 = expected.checksum_sha256.or_else(|| get("x-amz-checksum-sha256"));
            expected.checksum_crc64nvme = expected.checksum_crc64nvme.or_else(|| get("x-amz-checksum-crc64nvme"));
        }
        let computed = self.hasher.finalize();
        let pairs = [
            ("CRC32", &expected.checksum_crc32, &computed.checksum_crc32),
            ("CRC32C", &expected.checksum_crc32c, &computed.checksum_crc32c),
            ("SHA1", &expected.checksum_sha1, &computed.checksum_sha1),
            ("SHA256", &expected.checksum_sha256, &computed.checksum_sha256),
            ("CRC64NVME", &expected.checksum_crc64nvme, &computed.checksum_crc64nvme),
        ];
        // A checksum without a computed value can only be a trailer the client did not announce in x-amz-trailer.
        for (name, want, got) in pairs {
            if let (Some(want), Some(got)) = (want, got)
                && want != got
            {
                return Err(s3_error!(
                    BadDigest,
                    "The {name} checksum you specified ({want}) did not match what we received ({got})."
                ));
            }
        }
        if let Some(want) = &self.content_md5
            && *want != base64(&staged.md5)
        {
            return Err(s3_error!(BadDigest, "The Content-MD5 you specified did not match what we received."));
        }
        if let Some(want) = &self.content_sha256
            && *want != staged.sha256
        {
            return Err(s3_error!(BadDigest, "The x-amz-content-sha256 you specified did not match what we received."));
        }
        Ok(computed)
    }
}

/// An unfinished multipart upload, kept in `uploads/<id>/upload.json` next to its parts.
#[derive(Debug, Serialize, Deserialize)]
struct Upload {
    bucket: String,
    key: String,
    content_type: Option<String>,
    create_time: i64,
}

/// A page of a listing: objects and common prefixes in key order.
enum Entry {
    Object(ObjectVersionRow),
    Prefix(String),
}

impl Entry {
    fn name(&self) -> &str {
        match self {
            Entry::Object(row) => &row.key,
            Entry::Prefix(prefix) => prefix,
        }
    }
}

struct Listing {
    entries: Vec<Entry>,
    truncated: bool,
}

/// The common prefix that `key` is rolled up into, if `delimiter` occurs after `prefix`.
fn common_prefix(key: &str, prefix: &str, delimiter: &str) -> Option<String> {
    if delimiter.is_empty() {
        return None;
    }
    let rest = key.get(prefix.len()..)?;
    rest.find(delimiter).map(|pos| format!("{prefix}{}", &rest[..pos + delimiter.len()]))
}

impl CutoverS3 {
    fn store(&self) -> &Store {
        self.state.store()
    }

    fn blobs(&self) -> &BlobStore {
        &self.state.inner.blobs
    }

    fn new_id(&self) -> String {
        self.state.inner.clock.uuid().replace('-', "")
    }

    /// Fails with NoSuchBucket unless the bucket exists; a native upload creates it instead.
    async fn require_bucket(&self, bucket: &str, create: bool) -> S3Result<()> {
        let mut tx = self.store().begin().await.map_err(internal)?;
        if tx.bucket(bucket).await.map_err(internal)?.is_some() {
            return Ok(());
        }
        if !create {
            return Err(s3_error!(NoSuchBucket, "The specified bucket does not exist."));
        }
        tx.insert_bucket(bucket, self.state.inner.clock.now_ms()).await.map_err(internal)?;
        tx.commit().await.map_err(internal)
    }

    /// An object's current version, or the version named.
    async fn find(&self, bucket: &str, key: &str, version_id: Option<&str>) -> S3Result<ObjectVersionRow> {
        let mut tx = self.store().begin().await.map_err(internal)?;
        if tx.bucket(bucket).await.map_err(internal)?.is_none() {
            return Err(s3_error!(NoSuchBucket, "The specified bucket does not exist."));
        }
        match version_id {
            None => tx
                .current_object(bucket, key)
                .await
                .map_err(internal)?
                .ok_or_else(|| s3_error!(NoSuchKey, "The specified key does not exist.")),
            Some(version_id) => {
                if let Some(row) = tx.object_version(bucket, key, version_id).await.map_err(internal)? {
                    return Ok(row);
                }
                // Objects stored before versions existed are S3's "null" version.
                match tx.current_object(bucket, key).await.map_err(internal)? {
                    Some(row) if version_id == "null" && row.version_id.is_none() => Ok(row),
                    _ => Err(s3_error!(NoSuchVersion, "The specified version does not exist.")),
                }
            }
        }
    }

    /// Records a new current version of an object whose content is a committed blob.
    async fn record_version(
        &self,
        bucket: &str,
        key: &str,
        (sha256, size): (String, u64),
        etag: String,
        content_type: Option<String>,
    ) -> S3Result<ObjectVersionRow> {
        let row = ObjectVersionRow {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            version_id: Some(self.new_id()),
            sha256,
            etag: Some(etag),
            size: size as i64,
            content_type,
            create_time: self.state.inner.clock.now_ms(),
        };
        let mut tx = self.store().begin().await.map_err(internal)?;
        // The bucket may have been deleted while the body streamed in.
        if tx.bucket(bucket).await.map_err(internal)?.is_none() {
            return Err(s3_error!(NoSuchBucket, "The specified bucket does not exist."));
        }
        tx.put_object_version(&row).await.map_err(internal)?;
        tx.commit().await.map_err(internal)?;
        Ok(row)
    }

    async fn list(&self, bucket: &str, prefix: &str, delimiter: &str, after: &str, max_keys: i32) -> S3Result<Listing> {
        let mut tx = self.store().begin().await.map_err(internal)?;
        if tx.bucket(bucket).await.map_err(internal)?.is_none() {
            return Err(s3_error!(NoSuchBucket, "The specified bucket does not exist."));
        }
        let max_keys = max_keys.clamp(0, MAX_KEYS) as usize;
        let mut entries: Vec<Entry> = Vec::new();
        let mut cursor = after.to_owned();
        const BATCH: i64 = 1000;
        'pages: loop {
            let rows = tx.list_objects_after(bucket, prefix, &cursor, BATCH).await.map_err(internal)?;
            let full = rows.len() as i64 == BATCH;
            for row in rows {
                cursor.clone_from(&row.key);
                let entry = match common_prefix(&row.key, prefix, delimiter) {
                    // Keys under a prefix already returned (on this page or, via `after`, an earlier one).
                    Some(rolled) if rolled.as_str() <= after => continue,
                    Some(rolled) if entries.last().is_some_and(|last| last.name() == rolled) => continue,
                    Some(rolled) => Entry::Prefix(rolled),
                    None => Entry::Object(row),
                };
                entries.push(entry);
                if entries.len() > max_keys {
                    break 'pages;
                }
            }
            if !full {
                break;
            }
        }
        let truncated = entries.len() > max_keys;
        entries.truncate(max_keys);
        Ok(Listing { entries, truncated })
    }

    /// Upload ids are ours (hex), and name a directory or keys in the blob store: anything else does not exist.
    fn check_upload_id(upload_id: &str) -> S3Result<()> {
        if upload_id.is_empty() || upload_id.len() > 64 || !upload_id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(s3_error!(NoSuchUpload, "The specified multipart upload does not exist."));
        }
        Ok(())
    }

    async fn upload(&self, upload_id: &str, bucket: &str, key: &str) -> S3Result<Upload> {
        Self::check_upload_id(upload_id)?;
        let Some(text) = self.blobs().upload_description(upload_id).await.map_err(internal)? else {
            return Err(s3_error!(NoSuchUpload, "The specified multipart upload does not exist."));
        };
        let upload: Upload = serde_json::from_slice(&text).map_err(internal)?;
        if upload.bucket != bucket || upload.key != key {
            return Err(s3_error!(
                NoSuchUpload,
                "The specified multipart upload does not exist for this bucket and key."
            ));
        }
        Ok(upload)
    }

    /// Deletes uploads started more than [`STALE_UPLOAD_MS`] ago.
    /// (An upload without its description is the remains of a failed start or an abort; it is judged by the time
    /// of its newest part.)
    async fn prune_stale_uploads(&self) {
        let Ok(uploads) = self.blobs().uploads().await else { return };
        for (upload_id, started) in uploads {
            if started.elapsed().is_ok_and(|age| age.as_millis() > STALE_UPLOAD_MS as u128) {
                let _ = self.blobs().remove_upload(&upload_id).await;
            }
        }
    }
}

/// Opens the `idx`th part of a multipart upload. A named function rather than a closure returning an async block:
/// with the closure the compiler cannot prove the operation's future `Send` for all lifetimes, which
/// `async_trait` requires ("one type is more general than the other").
async fn open_part(
    (idx, blobs, upload_id, part_number): (usize, BlobStore, String, i32),
) -> std::io::Result<futures_util::stream::BoxStream<'static, std::io::Result<(usize, Bytes)>>> {
    let stream: ByteStream = blobs.read_part(&upload_id, part_number).await?;
    Ok(stream.map_ok(move |bytes| (idx, bytes)).boxed())
}

fn checksum_of(
    crc32: &Option<String>,
    crc32c: &Option<String>,
    sha1: &Option<String>,
    sha256: &Option<String>,
    crc64nvme: &Option<String>,
) -> Checksum {
    Checksum {
        checksum_crc32: crc32.clone(),
        checksum_crc32c: crc32c.clone(),
        checksum_sha1: sha1.clone(),
        checksum_sha256: sha256.clone(),
        checksum_crc64nvme: crc64nvme.clone(),
        checksum_type: None,
    }
}

#[async_trait::async_trait]
impl S3 for CutoverS3 {
    async fn create_bucket(&self, req: S3Request<CreateBucketInput>) -> S3Result<S3Response<CreateBucketOutput>> {
        let bucket = req.input.bucket;
        let mut tx = self.store().begin().await.map_err(internal)?;
        if !tx.insert_bucket(&bucket, self.state.inner.clock.now_ms()).await.map_err(internal)? {
            return Err(s3_error!(
                BucketAlreadyOwnedByYou,
                "Your previous request to create the named bucket succeeded and you already own it."
            ));
        }
        tx.commit().await.map_err(internal)?;
        Ok(S3Response::new(CreateBucketOutput { location: Some(format!("/{bucket}")) }))
    }

    async fn head_bucket(&self, req: S3Request<HeadBucketInput>) -> S3Result<S3Response<HeadBucketOutput>> {
        self.require_bucket(&req.input.bucket, false).await?;
        Ok(S3Response::new(HeadBucketOutput::default()))
    }

    async fn get_bucket_location(
        &self,
        req: S3Request<GetBucketLocationInput>,
    ) -> S3Result<S3Response<GetBucketLocationOutput>> {
        self.require_bucket(&req.input.bucket, false).await?;
        Ok(S3Response::new(GetBucketLocationOutput::default()))
    }

    async fn get_bucket_versioning(
        &self,
        req: S3Request<GetBucketVersioningInput>,
    ) -> S3Result<S3Response<GetBucketVersioningOutput>> {
        self.require_bucket(&req.input.bucket, false).await?;
        Ok(S3Response::new(GetBucketVersioningOutput {
            status: Some(BucketVersioningStatus::from_static(BucketVersioningStatus::ENABLED)),
            ..Default::default()
        }))
    }

    async fn list_buckets(&self, _req: S3Request<ListBucketsInput>) -> S3Result<S3Response<ListBucketsOutput>> {
        let mut tx = self.store().begin().await.map_err(internal)?;
        let buckets = tx
            .list_buckets()
            .await
            .map_err(internal)?
            .into_iter()
            .map(|row| Bucket {
                name: Some(row.name),
                creation_date: Some(timestamp(row.create_time)),
                bucket_region: None,
            })
            .collect();
        Ok(S3Response::new(ListBucketsOutput {
            buckets: Some(buckets),
            owner: Some(Owner { display_name: Some("cutover".to_owned()), id: Some("cutover".to_owned()) }),
            ..Default::default()
        }))
    }

    async fn delete_bucket(&self, req: S3Request<DeleteBucketInput>) -> S3Result<S3Response<DeleteBucketOutput>> {
        let bucket = req.input.bucket;
        let mut tx = self.store().begin().await.map_err(internal)?;
        if tx.bucket(&bucket).await.map_err(internal)?.is_none() {
            return Err(s3_error!(NoSuchBucket, "The specified bucket does not exist."));
        }
        if tx.bucket_has_objects(&bucket).await.map_err(internal)? {
            return Err(s3_error!(BucketNotEmpty, "The bucket you tried to delete is not empty."));
        }
        tx.delete_bucket(&bucket).await.map_err(internal)?;
        tx.commit().await.map_err(internal)?;
        Ok(S3Response::new(DeleteBucketOutput {}))
    }

    async fn list_objects_v2(&self, req: S3Request<ListObjectsV2Input>) -> S3Result<S3Response<ListObjectsV2Output>> {
        let input = req.input;
        let prefix = input.prefix.clone().unwrap_or_default();
        let delimiter = input.delimiter.clone().unwrap_or_default();
        let after = match (input.continuation_token.as_deref(), input.start_after.as_deref()) {
            (Some(token), Some(start)) => token.max(start),
            (Some(token), None) => token,
            (None, start) => start.unwrap_or(""),
        };
        let max_keys = input.max_keys.unwrap_or(MAX_KEYS);
        let listing = self.list(&input.bucket, &prefix, &delimiter, after, max_keys).await?;
        let encode = input.encoding_type.as_ref().is_some_and(|e| e.as_str() == EncodingType::URL);
        let name = |text: &str| if encode { url_encode(text) } else { text.to_owned() };
        let next = listing.truncated.then(|| listing.entries.last().map(|entry| entry.name().to_owned())).flatten();
        let (contents, common_prefixes) = split_entries(listing.entries, &name);
        Ok(S3Response::new(ListObjectsV2Output {
            key_count: Some((contents.len() + common_prefixes.len()) as i32),
            max_keys: Some(max_keys),
            is_truncated: Some(listing.truncated),
            contents: (!contents.is_empty()).then_some(contents),
            common_prefixes: (!common_prefixes.is_empty()).then_some(common_prefixes),
            continuation_token: input.continuation_token,
            next_continuation_token: next,
            delimiter: input.delimiter.map(|d| name(&d)),
            prefix: Some(name(&prefix)),
            start_after: input.start_after.map(|s| name(&s)),
            encoding_type: input.encoding_type,
            name: Some(input.bucket),
            ..Default::default()
        }))
    }

    async fn list_objects(&self, req: S3Request<ListObjectsInput>) -> S3Result<S3Response<ListObjectsOutput>> {
        let input = req.input;
        let prefix = input.prefix.clone().unwrap_or_default();
        let delimiter = input.delimiter.clone().unwrap_or_default();
        let max_keys = input.max_keys.unwrap_or(MAX_KEYS);
        let listing =
            self.list(&input.bucket, &prefix, &delimiter, input.marker.as_deref().unwrap_or(""), max_keys).await?;
        let encode = input.encoding_type.as_ref().is_some_and(|e| e.as_str() == EncodingType::URL);
        let name = |text: &str| if encode { url_encode(text) } else { text.to_owned() };
        let next = listing.truncated.then(|| listing.entries.last().map(|entry| name(entry.name()))).flatten();
        let (contents, common_prefixes) = split_entries(listing.entries, &name);
        Ok(S3Response::new(ListObjectsOutput {
            max_keys: Some(max_keys),
            is_truncated: Some(listing.truncated),
            contents: (!contents.is_empty()).then_some(contents),
            common_prefixes: (!common_prefixes.is_empty()).then_some(common_prefixes),
            marker: input.marker.map(|m| name(&m)),
            next_marker: next,
            delimiter: input.delimiter.map(|d| name(&d)),
            prefix: Some(name(&prefix)),
            encoding_type: input.encoding_type,
            name: Some(input.bucket),
            ..Default::default()
        }))
    }

    async fn head_object(&self, req: S3Request<HeadObjectInput>) -> S3Result<S3Response<HeadObjectOutput>> {
        let input = req.input;
        let row = self.find(&input.bucket, &input.key, input.version_id.as_deref()).await?;
        let headers = sha256_headers(&row.sha256);
        Ok(respond(
            HeadObjectOutput {
                accept_ranges: Some("bytes".to_owned()),
                content_length: Some(row.size),
                content_type: row.content_type.clone(),
                e_tag: Some(ETag::Strong(row.s3_etag().to_owned())),
                last_modified: Some(timestamp(row.create_time)),
                version_id: row.version_id.clone(),
                ..Default::default()
            },
            headers,
        ))
    }

    async fn get_object(&self, req: S3Request<GetObjectInput>) -> S3Result<S3Response<GetObjectOutput>> {
        let input = req.input;
        let row = self.find(&input.bucket, &input.key, input.version_id.as_deref()).await?;
        let size = row.size.max(0) as u64;
        let (start, length, content_range) = match &input.range {
            None => (0, size, None),
            Some(range) => {
                let range = range
                    .check(size)
                    .map_err(|_| s3_error!(InvalidRange, "The requested range is not satisfiable."))?;
                (range.start, range.end - range.start, Some(format!("bytes {}-{}/{size}", range.start, range.end - 1)))
            }
        };
        let range = (start > 0 || length < size).then_some(start..start + length);
        let body = self.blobs().read(&row.sha256, range).await.map_err(internal)?;
        // StreamingBlob::wrap wants a `Sync` stream, which an S3 download is not; s3s wraps a body in a mutex.
        let body = StreamingBlob::from(s3s::Body::http_body_unsync(Body::from_stream(body)));
        let headers = sha256_headers(&row.sha256);
        Ok(respond(
            GetObjectOutput {
                accept_ranges: Some("bytes".to_owned()),
                body: Some(body),
                content_length: Some(length as i64),
                content_range,
                content_type: row.content_type.clone(),
                e_tag: Some(ETag::Strong(row.s3_etag().to_owned())),
                last_modified: Some(timestamp(row.create_time)),
                version_id: row.version_id.clone(),
                ..Default::default()
            },
            headers,
        ))
    }

    async fn put_object(&self, req: S3Request<PutObjectInput>) -> S3Result<S3Response<PutObjectOutput>> {
        let native = req.extensions.get::<NativeUpload>().is_some();
        let input = req.input;
        let mut checks = BodyChecks::new(
            checksum_of(
                &input.checksum_crc32,
                &input.checksum_crc32c,
                &input.checksum_sha1,
                &input.checksum_sha256,
                &input.checksum_crc64nvme,
            ),
            input.checksum_algorithm.as_ref(),
            input.content_md5.clone(),
            &req.headers,
            &req.extensions,
        )?;
        let body = input.body.ok_or_else(|| s3_error!(IncompleteBody, "The request body is missing."))?;
        self.require_bucket(&input.bucket, native).await?;
        if input.if_none_match.as_ref().is_some_and(|condition| matches!(condition, ETagCondition::Any))
            && self.find(&input.bucket, &input.key, None).await.is_ok()
        {
            return Err(s3_error!(
                PreconditionFailed,
                "At least one of the pre-conditions you specified did not hold."
            ));
        }
        let staged = self
            .blobs()
            .stage(body.inspect_ok(|bytes| checks.update(bytes)), &self.new_id())
            .await
            .map_err(|error| s3_error!(IncompleteBody, "The upload did not complete: {error}"))?;
        let computed = checks.verify(&staged)?;
        let md5 = hex_etag(&staged.md5);
        let content = (staged.sha256.clone(), staged.size);
        staged.commit().await.map_err(internal)?;
        let row = self.record_version(&input.bucket, &input.key, content, md5, input.content_type).await?;
        // `cutover push` checks the ETag of its plain PUT against the bundle's SHA-256 (module docs).
        let etag = if native { row.sha256.clone() } else { row.s3_etag().to_owned() };
        Ok(respond(
            PutObjectOutput {
                e_tag: Some(ETag::Strong(etag)),
                version_id: row.version_id.clone(),
                checksum_crc32: computed.checksum_crc32,
                checksum_crc32c: computed.checksum_crc32c,
                checksum_sha1: computed.checksum_sha1,
                checksum_sha256: computed.checksum_sha256,
                checksum_crc64nvme: computed.checksum_crc64nvme,
                ..Default::default()
            },
            sha256_headers(&row.sha256),
        ))
    }

    async fn delete_object(&self, req: S3Request<DeleteObjectInput>) -> S3Result<S3Response<DeleteObjectOutput>> {
        let input = req.input;
        let mut tx = self.store().begin().await.map_err(internal)?;
        if tx.bucket(&input.bucket).await.map_err(internal)?.is_none() {
            return Err(s3_error!(NoSuchBucket, "The specified bucket does not exist."));
        }
        // Deleting what does not exist succeeds, as in S3.
        match input.version_id.as_deref() {
            Some(version_id) => {
                tx.delete_object_version(&input.bucket, &input.key, version_id).await.map_err(internal)?
            }
            None => tx.delete_current_object(&input.bucket, &input.key).await.map_err(internal)?,
        };
        tx.commit().await.map_err(internal)?;
        Ok(S3Response::new(DeleteObjectOutput { version_id: input.version_id, ..Default::default() }))
    }

    async fn delete_objects(&self, req: S3Request<DeleteObjectsInput>) -> S3Result<S3Response<DeleteObjectsOutput>> {
        let input = req.input;
        let mut tx = self.store().begin().await.map_err(internal)?;
        if tx.bucket(&input.bucket).await.map_err(internal)?.is_none() {
            return Err(s3_error!(NoSuchBucket, "The specified bucket does not exist."));
        }
        let mut deleted = Vec::new();
        for object in input.delete.objects {
            match object.version_id.as_deref() {
                Some(version_id) => {
                    tx.delete_object_version(&input.bucket, &object.key, version_id).await.map_err(internal)?
                }
                None => tx.delete_current_object(&input.bucket, &object.key).await.map_err(internal)?,
            };
            deleted.push(DeletedObject { key: Some(object.key), version_id: object.version_id, ..Default::default() });
        }
        tx.commit().await.map_err(internal)?;
        let quiet = input.delete.quiet.unwrap_or(false);
        Ok(S3Response::new(DeleteObjectsOutput { deleted: (!quiet).then_some(deleted), ..Default::default() }))
    }

    async fn create_multipart_upload(
        &self,
        req: S3Request<CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
        let input = req.input;
        self.require_bucket(&input.bucket, false).await?;
        self.prune_stale_uploads().await;
        let upload_id = self.new_id();
        let upload = Upload {
            bucket: input.bucket.clone(),
            key: input.key.clone(),
            content_type: input.content_type,
            create_time: self.state.inner.clock.now_ms(),
        };
        let text = serde_json::to_vec(&upload).map_err(internal)?;
        self.blobs().create_upload(&upload_id, text).await.map_err(internal)?;
        Ok(S3Response::new(CreateMultipartUploadOutput {
            bucket: Some(input.bucket),
            key: Some(input.key),
            upload_id: Some(upload_id),
            ..Default::default()
        }))
    }

    async fn upload_part(&self, req: S3Request<UploadPartInput>) -> S3Result<S3Response<UploadPartOutput>> {
        let input = req.input;
        if !(1..=10_000).contains(&input.part_number) {
            return Err(s3_error!(InvalidArgument, "Part number must be an integer between 1 and 10000, inclusive."));
        }
        self.upload(&input.upload_id, &input.bucket, &input.key).await?;
        let mut checks = BodyChecks::new(
            checksum_of(
                &input.checksum_crc32,
                &input.checksum_crc32c,
                &input.checksum_sha1,
                &input.checksum_sha256,
                &input.checksum_crc64nvme,
            ),
            input.checksum_algorithm.as_ref(),
            input.content_md5.clone(),
            &req.headers,
            &req.extensions,
        )?;
        let body = input.body.ok_or_else(|| s3_error!(IncompleteBody, "The request body is missing."))?;
        let staged = self
            .blobs()
            .stage(body.inspect_ok(|bytes| checks.update(bytes)), &self.new_id())
            .await
            .map_err(|error| s3_error!(IncompleteBody, "The upload did not complete: {error}"))?;
        let computed = checks.verify(&staged)?;
        let etag = hex_etag(&staged.md5);
        staged.commit_part(&input.upload_id, input.part_number).await.map_err(internal)?;
        Ok(S3Response::new(UploadPartOutput {
            e_tag: Some(ETag::Strong(etag)),
            checksum_crc32: computed.checksum_crc32,
            checksum_crc32c: computed.checksum_crc32c,
            checksum_sha1: computed.checksum_sha1,
            checksum_sha256: computed.checksum_sha256,
            checksum_crc64nvme: computed.checksum_crc64nvme,
            ..Default::default()
        }))
    }

    async fn complete_multipart_upload(
        &self,
        req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        let input = req.input;
        let upload = self.upload(&input.upload_id, &input.bucket, &input.key).await?;
        let parts = input.multipart_upload.and_then(|upload| upload.parts).unwrap_or_default();
        if parts.is_empty() {
            return Err(s3_error!(MalformedXML, "You must specify at least one part."));
        }
        let mut numbers = Vec::with_capacity(parts.len());
        let mut previous = 0;
        for (idx, part) in parts.iter().enumerate() {
            let number = part.part_number.ok_or_else(|| s3_error!(InvalidPart, "A part has no PartNumber."))?;
            if number <= previous {
                return Err(s3_error!(InvalidPartOrder, "The list of parts was not in ascending order."));
            }
            previous = number;
            let Some(size) = self.blobs().part_size(&input.upload_id, number).await.map_err(internal)? else {
                return Err(s3_error!(InvalidPart, "Part {number} was not uploaded."));
            };
            if idx + 1 < parts.len() && size < MIN_PART_SIZE {
                return Err(s3_error!(
                    EntityTooSmall,
                    "Part {number} is smaller than the minimum allowed size of 5 MiB."
                ));
            }
            numbers.push(number);
        }
        // Concatenate the parts into one blob, keeping each part's MD5 for the ETags.
        let mut part_md5s: Vec<Md5> = numbers.iter().map(|_| Md5::new()).collect();
        let blobs = self.blobs().clone();
        let upload_id = input.upload_id.clone();
        let stream = futures_util::stream::iter(numbers.into_iter().enumerate())
            .map(move |(idx, number)| (idx, blobs.clone(), upload_id.clone(), number))
            .then(open_part)
            .try_flatten()
            .map_ok(|(idx, bytes)| {
                part_md5s[idx].update(&bytes);
                bytes
            });
        let staged = self.blobs().stage(stream, &self.new_id()).await.map_err(internal)?;
        let digests: Vec<[u8; 16]> = part_md5s.into_iter().map(Md5::finalize).collect();
        for (part, digest) in parts.iter().zip(&digests) {
            let listed = part.e_tag.as_ref().map(|etag| etag.value().trim_matches('"').to_ascii_lowercase());
            if listed.is_some_and(|listed| listed != hex::encode(digest)) {
                return Err(s3_error!(
                    InvalidPart,
                    "The ETag of part {} does not match the uploaded part.",
                    part.part_number.unwrap_or(0)
                ));
            }
        }
        let mut whole = Md5::new();
        for digest in &digests {
            whole.update(digest);
        }
        let etag = format!("{}-{}", hex_etag(&whole.finalize()), digests.len());
        let content = (staged.sha256.clone(), staged.size);
        staged.commit().await.map_err(internal)?;
        let row = self.record_version(&input.bucket, &input.key, content, etag, upload.content_type).await?;
        let _ = self.blobs().remove_upload(&input.upload_id).await;
        Ok(respond(
            CompleteMultipartUploadOutput {
                bucket: Some(input.bucket.clone()),
                key: Some(input.key.clone()),
                e_tag: Some(ETag::Strong(row.s3_etag().to_owned())),
                location: Some(format!("/{}/{}", input.bucket, input.key)),
                version_id: row.version_id.clone(),
                ..Default::default()
            },
            sha256_headers(&row.sha256),
        ))
    }

    async fn abort_multipart_upload(
        &self,
        req: S3Request<AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
        let input = req.input;
        self.upload(&input.upload_id, &input.bucket, &input.key).await?;
        self.blobs().remove_upload(&input.upload_id).await.map_err(internal)?;
        Ok(S3Response::new(AbortMultipartUploadOutput::default()))
    }
}

fn split_entries(entries: Vec<Entry>, name: &dyn Fn(&str) -> String) -> (Vec<Object>, Vec<CommonPrefix>) {
    let mut contents = Vec::new();
    let mut prefixes = Vec::new();
    for entry in entries {
        match entry {
            Entry::Object(row) => contents.push(Object {
                e_tag: Some(ETag::Strong(row.s3_etag().to_owned())),
                key: Some(name(&row.key)),
                last_modified: Some(timestamp(row.create_time)),
                size: Some(row.size),
                storage_class: Some(ObjectStorageClass::from_static(ObjectStorageClass::STANDARD)),
                ..Default::default()
            }),
            Entry::Prefix(prefix) => prefixes.push(CommonPrefix { prefix: Some(name(&prefix)) }),
        }
    }
    (contents, prefixes)
}

/// `aws-chunked` request bodies (`Content-Encoding: aws-chunked`, `x-amz-content-sha256: STREAMING-…`): SDKs send
/// them over TLS, and some over plain HTTP, with the checksum in a trailer. s3s decodes them only while verifying a
/// signature, so [`serve`] decodes them here: chunk signatures are skipped (as every signature is, for now), the
/// decoded length is checked and the trailers are kept for [`BodyChecks`].
mod chunked {
    use super::*;

    /// Longest line (chunk header or trailer) accepted.
    const MAX_LINE: usize = 8 * 1024;

    pub(super) fn is_aws_chunked(headers: &HeaderMap) -> bool {
        let encoded = headers
            .get_all(header::CONTENT_ENCODING)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .any(|value| value.split(',').any(|coding| coding.trim().eq_ignore_ascii_case("aws-chunked")));
        let streaming = headers
            .get("x-amz-content-sha256")
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.starts_with("STREAMING-"));
        encoded || streaming
    }

    /// Replaces an aws-chunked body by its payload, and the headers by those of a plain upload of it.
    pub(super) fn decode(parts: &mut Parts, body: Body) -> Result<Body, String> {
        let decoded_length: u64 = parts
            .headers
            .get("x-amz-decoded-content-length")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse().ok())
            .ok_or("an aws-chunked body needs a valid x-amz-decoded-content-length header")?;
        let codings: Vec<String> = parts
            .headers
            .get_all(header::CONTENT_ENCODING)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .filter(|coding| !coding.is_empty() && !coding.eq_ignore_ascii_case("aws-chunked"))
            .map(str::to_owned)
            .collect();
        parts.headers.remove(header::CONTENT_ENCODING);
        if let Ok(value) = HeaderValue::from_str(&codings.join(", "))
            && !codings.is_empty()
        {
            parts.headers.insert(header::CONTENT_ENCODING, value);
        }
        for name in ["x-amz-decoded-content-length", "x-amz-content-sha256"] {
            parts.headers.remove(name);
        }
        parts.headers.remove(header::TRANSFER_ENCODING);
        parts.headers.insert(header::CONTENT_LENGTH, HeaderValue::from(decoded_length));
        let trailers = ChunkTrailers::default();
        parts.extensions.insert(trailers.clone());
        let decoder = Decoder {
            inner: body.into_data_stream().map_err(std::io::Error::other).boxed(),
            buf: BytesMut::new(),
            phase: Phase::Size,
            remaining: decoded_length,
            trailers,
            trailer_map: HeaderMap::new(),
        };
        let stream = futures_util::stream::unfold(decoder, |mut decoder| async move {
            let item = decoder.next_item().await?;
            Some((item, decoder))
        });
        Ok(Body::from_stream(stream))
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub(super) enum Phase {
        /// Expecting `<hex size>[;chunk-signature=…]\r\n`.
        Size,
        /// Inside a chunk's data, with this many bytes to go.
        Data(u64),
        /// Expecting the `\r\n` after a chunk's data.
        DataEnd,
        /// After the last (empty) chunk: `name:value\r\n` lines until an empty line.
        Trailers,
        Done,
    }

    pub(super) struct Decoder {
        pub(super) inner: futures_util::stream::BoxStream<'static, std::io::Result<Bytes>>,
        pub(super) buf: BytesMut,
        pub(super) phase: Phase,
        pub(super) remaining: u64,
        pub(super) trailers: ChunkTrailers,
        pub(super) trailer_map: HeaderMap,
    }

    impl Decoder {
        fn fail(&mut self, message: &str) -> Option<std::io::Result<Bytes>> {
            self.phase = Phase::Done;
            Some(Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("malformed aws-chunked body: {message}"),
            )))
        }

        /// Reads more input; false at its end.
        async fn fill(&mut self) -> std::io::Result<bool> {
            match self.inner.next().await {
                Some(Ok(bytes)) => {
                    self.buf.extend_from_slice(&bytes);
                    Ok(true)
                }
                Some(Err(error)) => Err(error),
                None => Ok(false),
            }
        }

        /// The next line without its `\r\n`; the unterminated rest at the end of input; None when nothing is left.
        async fn line(&mut self) -> std::io::Result<Option<String>> {
            loop {
                if let Some(pos) = self.buf.windows(2).position(|window| window == b"\r\n") {
                    let line = self.buf.split_to(pos + 2);
                    return Ok(Some(String::from_utf8_lossy(&line[..pos]).into_owned()));
                }
                if self.buf.len() > MAX_LINE {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        "malformed aws-chunked body: line too long",
                    ));
                }
                if !self.fill().await? {
                    if self.buf.is_empty() {
                        return Ok(None);
                    }
                    let rest = self.buf.split();
                    return Ok(Some(String::from_utf8_lossy(&rest).into_owned()));
                }
            }
        }

        pub(super) async fn next_item(&mut self) -> Option<std::io::Result<Bytes>> {
            loop {
                match self.phase {
                    Phase::Done => return None,
                    Phase::Size => {
                        let line = match self.line().await {
                            Ok(Some(line)) => line,
                            Ok(None) => return self.fail("it ends before its last chunk"),
                            Err(error) => return Some(Err(error)),
                        };
                        let size_text = line.split(';').next().unwrap_or("").trim();
                        match u64::from_str_radix(size_text, 16) {
                            Ok(0) => self.phase = Phase::Trailers,
                            Ok(size) => self.phase = Phase::Data(size),
                            Err(_) => return self.fail(&format!("bad chunk size {size_text:?}")),
                        }
                    }
                    Phase::Data(left) => {
                        if self.buf.is_empty() {
                            match self.fill().await {
                                Ok(true) => continue,
                                Ok(false) => return self.fail("it ends inside a chunk"),
                                Err(error) => return Some(Err(error)),
                            }
                        }
                        let take = left.min(self.buf.len() as u64);
                        if take > self.remaining {
                            return self.fail("it is longer than x-amz-decoded-content-length");
                        }
                        let data = self.buf.split_to(take as usize).freeze();
                        self.remaining -= take;
                        self.phase = if take == left { Phase::DataEnd } else { Phase::Data(left - take) };
                        return Some(Ok(data));
                    }
                    Phase::DataEnd => match self.line().await {
                        Ok(Some(line)) if line.is_empty() => self.phase = Phase::Size,
                        Ok(_) => return self.fail("a chunk is longer than its size"),
                        Err(error) => return Some(Err(error)),
                    },
                    Phase::Trailers => match self.line().await {
                        Ok(Some(line)) if !line.is_empty() => {
                            let Some((name, value)) = line.split_once(':') else {
                                return self.fail(&format!("bad trailer {line:?}"));
                            };
                            if let (Ok(name), Ok(value)) = (
                                HeaderName::from_bytes(name.trim().to_ascii_lowercase().as_bytes()),
                                HeaderValue::from_str(value.trim()),
                            ) {
                                self.trailer_map.insert(name, value);
                            }
                        }
                        Ok(_) => {
                            if self.remaining != 0 {
                                return self.fail("it is shorter than x-amz-decoded-content-length");
                            }
                            if let Ok(mut trailers) = self.trailers.0.lock() {
                                *trailers = std::mem::take(&mut self.trailer_map);
                            }
                            self.phase = Phase::Done;
                        }
                        Err(error) => return Some(Err(error)),
                    },
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn decode(input: &[&[u8]], decoded_length: u64) -> (Result<Vec<u8>, String>, HeaderMap) {
        let pieces: Vec<std::io::Result<Bytes>> = input.iter().map(|piece| Ok(Bytes::copy_from_slice(piece))).collect();
        let trailers = ChunkTrailers::default();
        let mut decoder = chunked::Decoder {
            inner: futures_util::stream::iter(pieces).boxed(),
            buf: BytesMut::new(),
            phase: chunked::Phase::Size,
            remaining: decoded_length,
            trailers: trailers.clone(),
            trailer_map: HeaderMap::new(),
        };
        let mut out = Vec::new();
        while let Some(item) = decoder.next_item().await {
            match item {
                Ok(bytes) => out.extend_from_slice(&bytes),
                Err(error) => return (Err(error.to_string()), HeaderMap::new()),
            }
        }
        let map = trailers.0.lock().expect("lock").clone();
        (Ok(out), map)
    }

    #[tokio::test]
    async fn decodes_signed_and_unsigned_aws_chunked_bodies_split_anywhere() {
        let signed =
            b"5;chunk-signature=abc\r\nhello\r\n6;chunk-signature=def\r\n world\r\n0;chunk-signature=0f\r\n\r\n";
        for split in 0..signed.len() {
            let (out, _) = decode(&[&signed[..split], &signed[split..]], 11).await;
            assert_eq!(out.as_deref(), Ok(&b"hello world"[..]), "split at {split}");
        }
        let trailer = b"3\r\nabc\r\n0\r\nx-amz-checksum-crc32:NSRBwg==\r\n\r\n";
        let (out, trailers) = decode(&[trailer], 3).await;
        assert_eq!(out.as_deref(), Ok(&b"abc"[..]));
        assert_eq!(trailers.get("x-amz-checksum-crc32").and_then(|v| v.to_str().ok()), Some("NSRBwg=="));
    }

    #[tokio::test]
    async fn refuses_truncated_or_mislabelled_aws_chunked_bodies() {
        for (body, length) in [
            (&b"5\r\nhel"[..], 5),
            (&b"5\r\nhello\r\n"[..], 5),
            (&b"5\r\nhello\r\n0\r\n\r\n"[..], 6),
            (&b"5\r\nhello\r\n0\r\n\r\n"[..], 4),
            (&b"zz\r\nhello\r\n0\r\n\r\n"[..], 5),
            (&b"3\r\nhello\r\n0\r\n\r\n"[..], 3),
        ] {
            let (out, _) = decode(&[body], length).await;
            assert!(out.is_err(), "{:?} accepted", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn helpers_match_s3s_encodings() {
        assert_eq!(base64(&[0, 1, 2, 3]), "AAECAw==");
        assert_eq!(base64(b"hello"), "aGVsbG8=");
        assert_eq!(base64(b"abc"), "YWJj");
        assert_eq!(url_encode("a b/c+d%é"), "a%20b/c%2Bd%25%C3%A9");
        assert_eq!(common_prefix("photos/2024/a.jpg", "photos/", "/").as_deref(), Some("photos/2024/"));
        assert_eq!(common_prefix("photos/a.jpg", "photos/", "/"), None);
        assert_eq!(common_prefix("photos/a.jpg", "", ""), None);
    }
}
