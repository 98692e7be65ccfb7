//! A client for Cutover's CodeDeploy-compatible JSON 1.1 API, plus the S3-style upload of revision bundles.

use std::time::Duration;

use cutover_api_types::codedeploy::{self as wire, ErrorBody, Operation};
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

/// A client bound to one endpoint (e.g. `http://127.0.0.1:8700`).
#[derive(Clone)]
pub struct ApiClient {
    endpoint: String,
    http: reqwest::Client,
}

impl ApiClient {
    pub fn new(endpoint: &str) -> ApiClient {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            .build()
            .unwrap_or_default();
        ApiClient { endpoint: endpoint.trim_end_matches('/').to_owned(), http }
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
        let response = self
            .http
            .post(format!("{}/", self.endpoint))
            .header("content-type", wire::CONTENT_TYPE)
            .header("x-amz-target", format!("{}.{}", wire::TARGET_PREFIX, operation.name()))
            .json(input)
            .send()
            .await
            .map_err(|source| ApiClientError::Transport { endpoint: self.endpoint.clone(), source })?;
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
        self.v1(self.http.get(format!("{}{path_and_query}", self.endpoint))).await
    }

    /// `POST {endpoint}{path}` with a JSON body, to one of Cutover's own endpoints (`/v1/...`).
    pub async fn post_json<I: Serialize, O: DeserializeOwned>(
        &self,
        path: &str,
        input: &I,
    ) -> Result<O, ApiClientError> {
        self.v1(self.http.post(format!("{}{path}", self.endpoint)).json(input)).await
    }

    async fn v1<O: DeserializeOwned>(&self, request: reqwest::RequestBuilder) -> Result<O, ApiClientError> {
        let response = request
            .send()
            .await
            .map_err(|source| ApiClientError::Transport { endpoint: self.endpoint.clone(), source })?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|source| ApiClientError::Transport { endpoint: self.endpoint.clone(), source })?;
        if !status.is_success() {
            // Cutover's own endpoints answer `{"code": …, "message": …}`.
            let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
            return Err(match (body["code"].as_str(), body["message"].as_str()) {
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
        let response = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|source| ApiClientError::Transport { endpoint: self.endpoint.clone(), source })?;
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
        let response = self
            .http
            .put(format!("{}/{bucket}/{key}", self.endpoint))
            .body(body)
            .send()
            .await
            .map_err(|source| ApiClientError::Transport { endpoint: self.endpoint.clone(), source })?;
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
