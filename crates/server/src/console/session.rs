//! Signing in to the console with an access key, and the session cookie that follows.
//!
//! The cookie is `<access key id>.<issued ms>.<HMAC>` under the console's key (HttpOnly, SameSite=Strict, Secure
//! over TLS, path `/console`), valid for 12 hours. Every request checks it again *and* looks the key up, so deleting
//! a key ends its sessions at once, and the session has the key's role: viewers see everything, only deployers and
//! admins may stop or continue deployments.

use axum::Form;
use axum::extract::{ConnectInfo, FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use cutover_auth::Role;
use serde::Deserialize;

use super::{ConsoleError, ConsoleResult, ConsoleUser, CsrfKey, view};
use crate::AppState;

const COOKIE: &str = "cutover_session";
const SESSION_MS: i64 = 12 * 3600 * 1000;

#[derive(askama::Template, askama_web::WebTemplate)]
#[template(path = "console/login.html")]
pub(crate) struct LoginPage {
    chrome: view::Chrome,
    next: String,
    error: String,
}

#[derive(Deserialize)]
pub(crate) struct NextQuery {
    #[serde(default)]
    next: String,
}

/// Only local paths of the console: never a redirect elsewhere.
fn safe_next(next: &str) -> String {
    if next.starts_with("/console") && !next.starts_with("//") && !next.contains("://") {
        next.to_owned()
    } else {
        "/console".to_owned()
    }
}

pub(crate) async fn form(Query(query): Query<NextQuery>) -> LoginPage {
    LoginPage { chrome: view::Chrome::new("", &[]), next: safe_next(&query.next), error: String::new() }
}

#[derive(Deserialize)]
pub(crate) struct LoginForm {
    #[serde(default)]
    access_key_id: String,
    #[serde(default)]
    secret_access_key: String,
    #[serde(default)]
    next: String,
}

pub(crate) async fn login(
    State(state): State<AppState>,
    axum::Extension(key): axum::Extension<std::sync::Arc<CsrfKey>>,
    parts: axum::http::HeaderMap,
    Form(form): Form<LoginForm>,
) -> ConsoleResult<Response> {
    let mut tx = state.store().begin().await?;
    let row = tx.access_key(form.access_key_id.trim()).await?.filter(|row| row.instance_name.is_none());
    let valid = row.as_ref().is_some_and(|row| {
        state.inner.keyring.open(&row.secret_sealed).is_some_and(|secret| {
            crate::auth::constant_time_eq(secret.as_bytes(), form.secret_access_key.trim().as_bytes())
        })
    });
    drop(tx);
    if !valid {
        tracing::warn!(message = "Console sign-in refused.", access_key_id = %form.access_key_id);
        let page = LoginPage {
            chrome: view::Chrome::new("", &[]),
            next: safe_next(&form.next),
            error: "That access key ID and secret do not match a key of this server.".to_owned(),
        };
        return Ok((axum::http::StatusCode::UNAUTHORIZED, page).into_response());
    }
    let now = state.inner.clock.now_ms();
    let id = form.access_key_id.trim();
    let value = format!("{id}.{now}.{}", key.sign(&format!("cutover-console-session\n{id}\n{now}")));
    let secure = if parts.get("x-forwarded-proto").is_some() || state.inner.tls { "; Secure" } else { "" };
    let cookie =
        format!("{COOKIE}={value}; Path=/console; HttpOnly; SameSite=Strict; Max-Age={}{secure}", SESSION_MS / 1000);
    let mut response = Redirect::to(&safe_next(&form.next)).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    Ok(response)
}

pub(crate) async fn logout() -> Response {
    let mut response = Redirect::to("/console/login").into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("cutover_session=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    response
}

impl FromRequestParts<AppState> for ConsoleUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let to_login = || {
            let next = parts.uri.path_and_query().map(|pq| pq.as_str()).unwrap_or("/console");
            let target = format!("/console/login?next={}", form_urlencode(next));
            Redirect::to(&target).into_response()
        };
        let Some(key) = parts.extensions.get::<std::sync::Arc<CsrfKey>>().cloned() else {
            return Err(ConsoleError::Internal("the console key is missing".into()).into_response());
        };
        let cookie = parts
            .headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(';'))
            .find_map(|pair| pair.trim().strip_prefix(&format!("{COOKIE}=")).map(str::to_owned));
        let Some(cookie) = cookie else { return Err(to_login()) };
        let mut fields = cookie.splitn(3, '.');
        let (Some(id), Some(issued), Some(mac)) = (fields.next(), fields.next(), fields.next()) else {
            return Err(to_login());
        };
        let Ok(issued_ms) = issued.parse::<i64>() else { return Err(to_login()) };
        let now = state.inner.clock.now_ms();
        if now < issued_ms
            || now - issued_ms > SESSION_MS
            || !key.check(&format!("cutover-console-session\n{id}\n{issued_ms}"), mac)
        {
            return Err(to_login());
        }
        let row = async {
            let mut tx = state.store().begin().await?;
            tx.access_key(id).await
        }
        .await
        .map_err(|error| ConsoleError::from(error).into_response())?;
        let Some(row) = row.filter(|row| row.instance_name.is_none()) else { return Err(to_login()) };
        let role = row.role.parse::<Role>().map_err(|error| ConsoleError::Internal(error).into_response())?;
        let source = parts
            .extensions
            .get::<ConnectInfo<std::net::SocketAddr>>()
            .map_or_else(|| "unknown".to_owned(), |info| info.0.to_string());
        let name = if row.description.is_empty() { row.access_key_id.clone() } else { row.description.clone() };
        Ok(ConsoleUser { name, access_key_id: row.access_key_id, role, source })
    }
}

fn form_urlencode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => (byte as char).to_string(),
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

impl ConsoleUser {
    /// The principal for permission checks and the audit log.
    pub(crate) fn principal(&self) -> crate::auth::Principal {
        crate::auth::Principal { access_key_id: self.access_key_id.clone(), name: self.name.clone(), role: self.role }
    }

    /// Refuses an action the session's role does not allow.
    pub(crate) fn require(&self, operation: &str) -> ConsoleResult<()> {
        crate::auth::authorize(&self.principal(), "codedeploy", operation)
            .map_err(|error| ConsoleError::Forbidden(error.to_string()))
    }
}
