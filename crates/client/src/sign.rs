//! Signs outgoing requests with AWS Signature V4 (`cutover_auth::sigv4`), for the API and the agent protocol.

use std::time::{SystemTime, UNIX_EPOCH};

use cutover_auth::Credentials;
use cutover_auth::sigv4::{self, RequestParts};

/// The headers that sign a request: `host` and `extra` are signed, and the returned list (x-amz-date,
/// x-amz-content-sha256, authorization) must be added to the request along with `extra`.
pub(crate) fn headers(
    method: &str,
    url: &reqwest::Url,
    extra: &[(String, String)],
    payload_sha256: &str,
    credentials: &Credentials,
    region: &str,
    service: &str,
) -> Vec<(String, String)> {
    let host = match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_owned(),
        (None, _) => String::new(),
    };
    let mut signed = vec![("host".to_owned(), host)];
    signed.extend(extra.iter().cloned());
    let request =
        RequestParts { method, path: url.path(), query: url.query().unwrap_or(""), headers: &signed, payload_sha256 };
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_secs() as i64);
    sigv4::sign(&request, credentials, region, service, now)
}
