//! The driver for the built-in router: its control API over HTTP(S), with a bearer token.

use std::time::Duration;

use crate::driver::{Member, MemberStatus, TrafficController, TrafficError, validate_members};

/// The built-in router's largest weight: fine enough for 0.01 % steps.
pub const BUILTIN_MAX_WEIGHT: u32 = 10_000;

/// A `cutover-router` process, driven through its control API.
pub struct BuiltinRouter {
    base: reqwest::Url,
    token: Option<String>,
    http: reqwest::Client,
}

impl std::fmt::Debug for BuiltinRouter {
    // Never prints the token.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BuiltinRouter").field("control_url", &self.base.as_str()).finish_non_exhaustive()
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
pub(crate) struct MembersBody<T> {
    pub(crate) members: Vec<T>,
}

/// The control API's error body.
#[derive(serde::Serialize, serde::Deserialize)]
pub(crate) struct ErrorBody {
    pub(crate) error: String,
}

impl BuiltinRouter {
    /// `control_url` is `http(s)://host:port`; `ca_pem` adds trusted CA certificates for `https`.
    pub fn new(control_url: &str, token: Option<String>, ca_pem: Option<&[u8]>) -> Result<Self, TrafficError> {
        let config = |message: String| TrafficError::Config(message);
        let base = reqwest::Url::parse(control_url)
            .map_err(|error| config(format!("control_url {control_url:?} is not a URL: {error}")))?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() || base.host().is_none() {
            return Err(config(format!("control_url {control_url:?} must be http(s)://host:port")));
        }
        let mut http =
            reqwest::Client::builder().connect_timeout(Duration::from_secs(5)).timeout(Duration::from_secs(30));
        if let Some(pem) = ca_pem {
            let certs = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|error| config(format!("the router's CA file is not PEM certificates: {error}")))?;
            http = http.tls_certs_merge(certs);
        }
        let http = http.build().map_err(|error| config(format!("cannot set up the HTTP client: {error}")))?;
        Ok(BuiltinRouter { base, token, http })
    }

    fn members_url(&self, pool: &str) -> reqwest::Url {
        let mut url = self.base.clone();
        // cannot_be_a_base was refused in new(), so the segments are always there.
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty().extend(["v1", "pools", pool, "members"]);
        }
        url
    }

    async fn send(&self, pool: &str, request: reqwest::RequestBuilder) -> Result<reqwest::Response, TrafficError> {
        let request = match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        };
        let response = request.send().await.map_err(|error| TrafficError::Unreachable {
            router: self.base.to_string(),
            reason: error_chain(&error),
        })?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let text = response.text().await.unwrap_or_default();
        let message = serde_json::from_str::<ErrorBody>(&text).map(|body| body.error).unwrap_or(text);
        let router = self.base.to_string();
        Err(match status.as_u16() {
            404 => TrafficError::UnknownPool(pool.to_owned()),
            400 | 401 | 403 => TrafficError::Refused { router, message },
            code => TrafficError::Protocol { router, message: format!("HTTP {code}: {message}") },
        })
    }
}

#[async_trait::async_trait]
impl TrafficController for BuiltinRouter {
    fn max_weight(&self) -> u32 {
        BUILTIN_MAX_WEIGHT
    }

    async fn apply(&self, pool: &str, members: &[Member]) -> Result<(), TrafficError> {
        validate_members(members, BUILTIN_MAX_WEIGHT)?;
        let body = MembersBody { members: members.to_vec() };
        self.send(pool, self.http.put(self.members_url(pool)).json(&body)).await?;
        Ok(())
    }

    async fn status(&self, pool: &str) -> Result<Vec<MemberStatus>, TrafficError> {
        let response = self.send(pool, self.http.get(self.members_url(pool))).await?;
        let body: MembersBody<MemberStatus> = response.json().await.map_err(|error| TrafficError::Protocol {
            router: self.base.to_string(),
            message: format!("member status is not the expected JSON: {error}"),
        })?;
        Ok(body.members)
    }
}

/// reqwest's error with its causes ("error sending request: … connection refused").
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
