//! The web console: server-rendered pages under `/console` (askama templates in `templates/console/`), live updates
//! over server-sent events, and the deployment actions as POST forms.
//!
//! Pages read the store directly (the same rows the API handlers read); actions call the API handlers themselves
//! (`StopDeployment`, `ContinueDeployment`), so the console can do nothing the API cannot. Every handler takes a
//! [`ConsoleUser`]: the one place where signing in will be required. The only script is `assets/console.js`,
//! hand-written: the `/` shortcut to the search box, and `EventSource` for live pages; everything else works without
//! it.

mod actions;
mod live;
mod pages;
mod session;
mod view;

use std::path::Path;
use std::sync::Arc;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::error::ApiError;
use crate::{AppState, Clock};

/// The console's routes, to be nested under `/console`.
pub(crate) fn routes(state: &AppState) -> Router<AppState> {
    let csrf = Arc::new(CsrfKey::load(&state.inner.config.data_dir));
    Router::new()
        .route("/login", get(session::form).post(session::login))
        .route("/logout", post(session::logout))
        .route("/", get(pages::applications))
        .route("/applications/{application}", get(pages::application))
        .route("/applications/{application}/revisions", get(pages::revisions))
        .route("/applications/{application}/groups/{group}", get(pages::group))
        .route("/deployments/{deployment_id}", get(pages::deployment))
        .route("/deployments/{deployment_id}/live", get(live::deployment))
        .route("/deployments/{deployment_id}/instances/{instance}", get(pages::target))
        .route("/deployments/{deployment_id}/instances/{instance}/live", get(live::target))
        .route("/deployments/{deployment_id}/confirm/{action}", get(actions::confirm))
        .route("/deployments/{deployment_id}/actions/{action}", post(actions::perform))
        .route("/instances", get(pages::instances))
        .route("/instances/{instance}", get(pages::instance))
        .route("/search", get(pages::search))
        .route("/assets/console.css", get(css))
        .route("/assets/console.js", get(js))
        .fallback(not_found)
        .layer(axum::middleware::map_response(security_headers))
        .layer(Extension(csrf))
}

/// The person using the console: a signed-in access key (see `session.rs`, which extracts it from the session
/// cookie or sends the browser to the sign-in page). Every console handler takes one.
#[derive(Debug, Clone)]
pub(crate) struct ConsoleUser {
    pub(crate) name: String,
    pub(crate) access_key_id: String,
    pub(crate) role: cutover_auth::Role,
    /// Where the request came from, for the audit log.
    pub(crate) source: String,
}

/// What can go wrong in a console request, shown as a page.
#[derive(Debug)]
pub(crate) enum ConsoleError {
    NotFound(String),
    /// A request the API refused (its message is shown), or a form that makes no sense.
    Refused(String),
    /// A form without a valid CSRF token or from another site.
    Forbidden(String),
    Internal(String),
}

impl From<cutover_store::StoreError> for ConsoleError {
    fn from(error: cutover_store::StoreError) -> Self {
        ConsoleError::Internal(error.to_string())
    }
}

impl From<ApiError> for ConsoleError {
    fn from(error: ApiError) -> Self {
        match error {
            ApiError::Client { exception, message } => ConsoleError::Refused(format!("{exception}: {message}")),
            ApiError::Internal(cause) => ConsoleError::Internal(cause),
        }
    }
}

impl From<askama::Error> for ConsoleError {
    fn from(error: askama::Error) -> Self {
        ConsoleError::Internal(format!("template: {error}"))
    }
}

#[derive(askama::Template)]
#[template(path = "console/error.html")]
struct ErrorPage {
    chrome: view::Chrome,
    title: &'static str,
    message: String,
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        let (status, title, message) = match self {
            ConsoleError::NotFound(message) => (StatusCode::NOT_FOUND, "Not found", message),
            ConsoleError::Refused(message) => (StatusCode::CONFLICT, "Not done", message),
            ConsoleError::Forbidden(message) => (StatusCode::FORBIDDEN, "Refused", message),
            ConsoleError::Internal(cause) => {
                tracing::error!(message = "Console error.", error = %cause);
                (StatusCode::INTERNAL_SERVER_ERROR, "Internal error", "Something went wrong on the server.".to_owned())
            }
        };
        let page = ErrorPage { chrome: view::Chrome::new("", &[]), title, message };
        match askama::Template::render(&page) {
            Ok(html) => (status, axum::response::Html(html)).into_response(),
            Err(_) => (status, title).into_response(),
        }
    }
}

pub(crate) type ConsoleResult<T> = Result<T, ConsoleError>;

async fn not_found(_user: ConsoleUser) -> ConsoleError {
    ConsoleError::NotFound("There is no such page in the console.".to_owned())
}

async fn css() -> Response {
    asset("text/css; charset=utf-8", include_str!("assets/console.css"))
}

async fn js() -> Response {
    asset("text/javascript; charset=utf-8", include_str!("assets/console.js"))
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "no-cache")], body).into_response()
}

/// Pages load nothing from elsewhere, run only our own script and cannot be framed.
async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

/// Signs and checks the CSRF tokens of the console's forms: `<issued ms>.<hex HMAC-SHA256>` over the user's name and
/// the time of issue, under a key kept in the data directory (so forms survive a restart).
pub(crate) struct CsrfKey {
    key: Vec<u8>,
}

/// Name of the generated key in the data directory.
const CSRF_KEY_FILE: &str = "console-csrf-key";
/// How long a form stays valid.
const CSRF_VALIDITY_MS: i64 = 12 * 3600 * 1000;

impl CsrfKey {
    fn load(data_dir: &Path) -> CsrfKey {
        let path = data_dir.join(CSRF_KEY_FILE);
        match load_or_create_key(&path) {
            Ok(key) => CsrfKey { key },
            Err(error) => {
                // The console still works; its forms just do not survive a restart.
                tracing::error!(message = "Cannot keep the console's CSRF key; using one for this process only.",
                    path = %path.display(), %error);
                CsrfKey { key: format!("{}{}", Clock.uuid(), Clock.uuid()).into_bytes() }
            }
        }
    }

    /// Hex HMAC of `message` under the console key (session cookies).
    pub(crate) fn sign(&self, message: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key).expect("HMAC takes keys of any length");
        mac.update(message.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// Checks a hex HMAC made by [`CsrfKey::sign`], in constant time.
    pub(crate) fn check(&self, message: &str, signature: &str) -> bool {
        let Ok(signature) = hex::decode(signature) else { return false };
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key).expect("HMAC takes keys of any length");
        mac.update(message.as_bytes());
        mac.verify_slice(&signature).is_ok()
    }

    pub(crate) fn token(&self, user: &ConsoleUser, now_ms: i64) -> String {
        format!("{now_ms}.{}", hex::encode(self.mac(user, now_ms).finalize().into_bytes()))
    }

    pub(crate) fn verify(&self, user: &ConsoleUser, token: &str, now_ms: i64) -> bool {
        let Some((issued, signature)) = token.split_once('.') else {
            return false;
        };
        let (Ok(issued), Ok(signature)) = (issued.parse::<i64>(), hex::decode(signature)) else {
            return false;
        };
        if now_ms < issued || now_ms - issued > CSRF_VALIDITY_MS {
            return false;
        }
        self.mac(user, issued).verify_slice(&signature).is_ok()
    }

    fn mac(&self, user: &ConsoleUser, issued_ms: i64) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key).expect("HMAC takes keys of any length");
        mac.update(format!("cutover-console-csrf\n{}\n{issued_ms}", user.access_key_id).as_bytes());
        mac
    }
}

fn load_or_create_key(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if let Ok(text) = std::fs::read_to_string(path)
        && !text.trim().is_empty()
    {
        return Ok(text.trim().as_bytes().to_vec());
    }
    // 64 hex digits from two v4 UUIDs; the clock is the server's only source of randomness.
    let key = format!("{}{}", Clock.uuid(), Clock.uuid()).replace('-', "");
    // Written aside and renamed, so a crash never leaves a truncated key.
    let tmp = path.with_extension("tmp");
    let mut file = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&tmp)?;
    file.write_all(format!("{key}\n").as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)?;
    Ok(key.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csrf_tokens_are_bound_to_user_and_time() {
        let key = CsrfKey { key: b"k".to_vec() };
        let user = |id: &str| ConsoleUser {
            name: id.to_owned(),
            access_key_id: id.to_owned(),
            role: cutover_auth::Role::Admin,
            source: String::new(),
        };
        let (alice, bob) = (user("alice"), user("bob"));
        let token = key.token(&alice, 1_000);
        assert!(key.verify(&alice, &token, 2_000));
        assert!(!key.verify(&bob, &token, 2_000));
        assert!(!key.verify(&alice, &token, 1_000 + CSRF_VALIDITY_MS + 1));
        assert!(!key.verify(&alice, &token.replace("1000.", "1001."), 2_000));
        assert!(!key.verify(&alice, "garbage", 2_000));
        let other = CsrfKey { key: b"other".to_vec() };
        assert!(!other.verify(&alice, &token, 2_000));
    }
}
