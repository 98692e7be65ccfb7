//! A client for Cutover's CodeDeploy-compatible JSON 1.1 API, plus the S3-style upload of revision bundles.

use std::time::Duration;

use cutover_api_types::codedeploy::{self as wire, ErrorBody, Operation};

use crate::sign;
use cutover_auth::Credentials;
use cutover_auth::sigv4;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Errors of the API client.
#[derive(Debug, thiserror::Error)]
pub enum ApiClientError {
    /// The server answered with a CodeDeploy error (`__type` and message).
    #[error("{type_}: {message}")]
    Api { status: u16, type_: String, message: String },
    /// The server could not be reached or the connection broke.
    #[error("cannot reach {endpoint}: {source}")]
    Transport { endpoint: String, source: reqwest::Error },
    /// The server answered something that is not the expected JSON.
    #[error("unexpected answer from the server: {0}")]
    Protocol(String),
}

impl ApiClientError {
    /// The exception name, e.g. `ApplicationDoesNotExistException`, when the server sent one.
    pub fn exception(&self) -> Option<&str> {
        match self {
            ApiClientError::Api { type_, .. } => Some(type_.as_str()),
            _ => None,
        }
    }
}

/// A client bound to one endpoint (e.g. `http://127.0.0.1:8700`), signing with one access key.
#[derive(Clone)]
pub struct ApiClient {
    endpoint: String,
    http: reqwest::Client,
    credentials: Option<Credentials>,
    region: String,
}

/// Region in the credential scope when none is configured (a Cutover server accepts any).
pub const DEFAULT_REGION: &str = "us-east-1";

impl ApiClient {
    pub fn new(endpoint: &str) -> ApiClient {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            .build()
            .unwrap_or_default();
        ApiClient {
            endpoint: endpoint.trim_end_matches('/').to_owned(),
            http,
            credentials: None,
            region: DEFAULT_REGION.to_owned(),
        }
    }

    /// The same client, also trusting the CA certificates in `pem` (e.g. the server's generated `DATA_DIR/tls/ca.pem`).
    pub fn with_ca_pem(mut self, pem: &[u8]) -> Result<ApiClient, ApiClientError> {
        let certs = reqwest::Certificate::from_pem_bundle(pem)
            .map_err(|error| ApiClientError::Protocol(format!("the CA file is not PEM certificates: {error}")))?;
        self.http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            .tls_certs_merge(certs)
            .build()
            .map_err(|error| ApiClientError::Protocol(format!("cannot set up TLS: {error}")))?;
        Ok(self)
    }

    /// The same client, signing its requests with `credentials` (AWS Signature V4).
    pub fn with_credentials(mut self, credentials: Credentials) -> ApiClient {
        self.credentials = Some(credentials);
        self
    }

    pub fn credentials(&self) -> Option<&Credentials> {
        self.credentials.as_ref()
    }

    /// Sends `method url` with `extra` headers and `body`, signed when the client has credentials.
    async fn send(
        &self,
        method: reqwest::Method,
        url: &str,
        extra: Vec<(String, String)>,
        body: Vec<u8>,
        payload_sha256: &str,
        service: &str,
    ) -> Result<reqwest::Response, ApiClientError> {
        let parsed =
            reqwest::Url::parse(url).map_err(|error| ApiClientError::Protocol(format!("bad URL {url}: {error}")))?;
        let mut headers = extra.clone();
        if let Some(credentials) = &self.credentials {
            headers.extend(sign::headers(
                method.as_str(),
                &parsed,
                &extra,
                payload_sha256,
                credentials,
                &self.region,
                service,
            ));
        }
        let mut request = self.http.request(method, parsed);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        request
            .body(body)
            .send()
            .await
            .map_err(|source| ApiClientError::Transport { endpoint: self.endpoint.clone(), source })
    }

    /// `GET` of one of Cutover's own `/v1/...` paths (signed like the API), as raw bytes.
    pub async fn get_v1(&self, path_and_query: &str) -> Result<(u16, Vec<u8>), ApiClientError> {
        let url = format!("{}{path_and_query}", self.endpoint);
        let response = self
            .send(reqwest::Method::GET, &url, Vec::new(), Vec::new(), &sigv4::payload_hash(b""), "codedeploy")
            .await?;
        let status = response.status().as_u16();
        let bytes = response
            .bytes()
            .await
            .map_err(|source| ApiClientError::Transport { endpoint: self.endpoint.clone(), source })?;
        Ok((status, bytes.to_vec()))
    }

    /// Calls one of Cutover's own operations (`Cutover_20261122.<name>`).
    pub async fn call_cutover<I: Serialize, O: DeserializeOwned>(
        &self,
        name: &str,
        input: &I,
    ) -> Result<O, ApiClientError> {
        self.call_target(&format!("{}.{name}", cutover_api_types::cutover::TARGET_PREFIX), input).await
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Calls one operation with a typed input and output.
    pub async fn call<I: Serialize, O: DeserializeOwned>(
        &self,
        operation: Operation,
        input: &I,
    ) -> Result<O, ApiClientError> {
        self.call_target(&format!("{}.{}", wire::TARGET_PREFIX, operation.name()), input).await
    }

    async fn call_target<I: Serialize, O: DeserializeOwned>(
        &self,
        target: &str,
        input: &I,
    ) -> Result<O, ApiClientError> {
        let body = serde_json::to_vec(input).map_err(|error| ApiClientError::Protocol(error.to_string()))?;
        let hash = sigv4::payload_hash(&body);
        let extra = vec![
            ("content-type".to_owned(), wire::CONTENT_TYPE.to_owned()),
            ("x-amz-target".to_owned(), target.to_owned()),
        ];
        let response =
            self.send(reqwest::Method::POST, &format!("{}/", self.endpoint), extra, body, &hash, "codedeploy").await?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|source| ApiClientError::Transport { endpoint: self.endpoint.clone(), source })?;
        if !status.is_success() {
            return Err(match serde_json::from_slice::<ErrorBody>(&bytes) {
                Ok(body) => ApiClientError::Api { status: status.as_u16(), type_: body.type_, message: body.message },
                Err(_) => ApiClientError::Protocol(format!("HTTP {status}: {}", String::from_utf8_lossy(&bytes))),
            });
        }
        serde_json::from_slice(&bytes)
            .map_err(|error| ApiClientError::Protocol(format!("{error} in {}", String::from_utf8_lossy(&bytes))))
    }

    /// `GET {endpoint}{path_and_query}` of one of Cutover's own JSON reads (`/v1/...`). Errors come back as
    /// [`ApiClientError::Api`] with the server's error code.
    pub async fn get_json<O: DeserializeOwned>(&self, path_and_query: &str) -> Result<O, ApiClientError> {
        let url = format!("{}{path_and_query}", self.endpoint);
        let empty = sigv4::payload_hash(b"");
        self.v1(self.send(reqwest::Method::GET, &url, Vec::new(), Vec::new(), &empty, "codedeploy").await?).await
    }

    /// `POST {endpoint}{path}` with a JSON body, to one of Cutover's own endpoints (`/v1/...`).
    pub async fn post_json<I: Serialize, O: DeserializeOwned>(
        &self,
        path: &str,
        input: &I,
    ) -> Result<O, ApiClientError> {
        let url = format!("{}{path}", self.endpoint);
        let body = serde_json::to_vec(input).map_err(|error| ApiClientError::Protocol(error.to_string()))?;
        let hash = sigv4::payload_hash(&body);
        let extra = vec![("content-type".to_owned(), "application/json".to_owned())];
        self.v1(self.send(reqwest::Method::POST, &url, extra, body, &hash, "codedeploy").await?).await
    }

    async fn v1<O: DeserializeOwned>(&self, response: reqwest::Response) -> Result<O, ApiClientError> {
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|source| ApiClientError::Transport { endpoint: self.endpoint.clone(), source })?;
        if !status.is_success() {
            // Cutover's own endpoints answer `{"code": …, "message": …}`; authentication errors come in CodeDeploy's
            // form (`__type`).
            let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
            let code = body["code"].as_str().or(body["__type"].as_str());
            return Err(match (code, body["message"].as_str()) {
                (Some(code), Some(message)) => {
                    ApiClientError::Api { status: status.as_u16(), type_: code.to_owned(), message: message.to_owned() }
                }
                _ => ApiClientError::Protocol(format!("HTTP {status}: {}", String::from_utf8_lossy(&bytes))),
            });
        }
        serde_json::from_slice(&bytes)
            .map_err(|error| ApiClientError::Protocol(format!("{error} in {}", String::from_utf8_lossy(&bytes))))
    }

    /// Downloads an object of the embedded revision store (`GET /{bucket}/{key}`, a version if given).
    pub async fn get_object(&self, bucket: &str, key: &str, version: Option<&str>) -> Result<Vec<u8>, ApiClientError> {
        let mut url = format!("{}/{bucket}/{key}", self.endpoint);
        if let Some(version) = version {
            // Version ids are the store's own (hex and dashes): nothing to escape.
            url.push_str(&format!("?versionId={version}"));
        }
        let empty = sigv4::payload_hash(b"");
        let response = self.send(reqwest::Method::GET, &url, Vec::new(), Vec::new(), &empty, "s3").await?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|source| ApiClientError::Transport { endpoint: self.endpoint.clone(), source })?;
        if !status.is_success() {
            return Err(ApiClientError::Protocol(format!(
                "downloading s3://{bucket}/{key} failed with HTTP {status}: {}",
                String::from_utf8_lossy(&bytes)
            )));
        }
        Ok(bytes.to_vec())
    }

    /// Uploads a bundle to the embedded revision store at `bucket/key`; returns its ETag (the sha256, hex).
    pub async fn put_object(&self, bucket: &str, key: &str, body: Vec<u8>) -> Result<String, ApiClientError> {
        // `x-cutover-upload` asks for Cutover's own upload semantics (bucket created on demand, SHA-256 ETag) rather
        // than S3's; the body is not hashed into the signature (UNSIGNED-PAYLOAD): `cutover push` checks the ETag.
        let extra = vec![("x-cutover-upload".to_owned(), "1".to_owned())];
        let url = format!("{}/{bucket}/{key}", self.endpoint);
        let response = self.send(reqwest::Method::PUT, &url, extra, body, sigv4::UNSIGNED_PAYLOAD, "s3").await?;
        let status = response.status();
        if !status.is_success() {
            let text = response.text().await.unwrap_or_default();
            return Err(ApiClientError::Protocol(format!("upload failed with HTTP {status}: {text}")));
        }
        let etag = response
            .headers()
            .get("etag")
            .and_then(|value| value.to_str().ok())
            .unwrap_or("")
            .trim_matches('"')
            .to_owned();
        Ok(etag)
    }
}
