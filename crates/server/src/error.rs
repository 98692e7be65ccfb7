//! The API's error type: one enum, one mapping to HTTP.
//!
//! Client errors carry one of botocore's exception names and a message, and are returned as
//! `{"__type": "<Name>Exception", "message": "..."}` with status 400. Internal errors are logged with their cause
//! and answered with a generic `InternalFailure` (500), so no internals leak to clients.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use cutover_api_types::codedeploy::ErrorBody;
use cutover_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A request the client can fix; `exception` is the model's exception name.
    #[error("{exception}: {message}")]
    Client { exception: &'static str, message: String },
    /// A fault of ours.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn new(exception: &'static str, message: impl Into<String>) -> Self {
        ApiError::Client { exception, message: message.into() }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Client { .. } => StatusCode::BAD_REQUEST,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Client { exception, .. } => exception,
            ApiError::Internal(_) => "InternalFailure",
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        ApiError::Internal(error.to_string())
    }
}

impl From<serde_json::Error> for ApiError {
    fn from(error: serde_json::Error) -> Self {
        ApiError::Internal(format!("stored document is unreadable: {error}"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let message = match &self {
            ApiError::Client { message, .. } => message.clone(),
            ApiError::Internal(cause) => {
                tracing::error!(message = "Internal error.", error = %cause);
                "We encountered an internal error. Please try again.".to_owned()
            }
        };
        let body = ErrorBody { type_: self.code().to_owned(), message };
        let mut response = (self.status(), axum::Json(body)).into_response();
        let headers = response.headers_mut();
        headers.insert("content-type", HeaderValue::from_static("application/x-amz-json-1.1"));
        if let Ok(value) = HeaderValue::from_str(self.code()) {
            headers.insert("x-amzn-errortype", value);
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
