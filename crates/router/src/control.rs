//! The control API: replace and read a pool's members (JSON), behind a bearer token.
//!
//! `PUT /v1/pools/{name}/members` `{"members":[Member…]}` → 204; `GET /v1/pools/{name}/members` →
//! `{"members":[MemberStatus…]}`; `GET /healthz` (no token). Errors are `{"error":"…"}`: 401 for a missing or wrong
//! token, 404 for an unknown pool, 400 naming the field or member that is wrong.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::client::{BUILTIN_MAX_WEIGHT, ErrorBody, MembersBody};
use crate::driver::{Member, MemberStatus, validate_members};
use crate::pool::Pool;

#[derive(Clone)]
pub struct ControlState {
    pools: Arc<HashMap<String, Arc<Pool>>>,
    token: Arc<str>,
}

impl ControlState {
    pub fn new(pools: HashMap<String, Arc<Pool>>, token: &str) -> ControlState {
        ControlState { pools: Arc::new(pools), token: token.into() }
    }

    fn pool(&self, name: &str) -> Option<&Arc<Pool>> {
        self.pools.get(name)
    }
}

pub fn app(state: ControlState) -> axum::Router {
    let api = axum::Router::new()
        .route("/v1/pools/{name}/members", get(members).put(replace_members))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), authorize));
    axum::Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .merge(api)
        .fallback(|| async { error(StatusCode::NOT_FOUND, "no such endpoint".into()) })
        .with_state(state)
}

async fn authorize(State(state): State<ControlState>, request: Request, next: Next) -> Response {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    let refusal = match presented {
        Some(token) if constant_time_eq(token.trim().as_bytes(), state.token.as_bytes()) => {
            return next.run(request).await;
        }
        Some(_) => "the control token is wrong",
        None => "missing `Authorization: Bearer <control token>`",
    };
    let mut response = error(StatusCode::UNAUTHORIZED, refusal.into());
    response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

async fn members(State(state): State<ControlState>, Path(name): Path<String>) -> Response {
    match state.pool(&name) {
        Some(pool) => Json(MembersBody::<MemberStatus> { members: pool.status() }).into_response(),
        None => unknown_pool(&name),
    }
}

async fn replace_members(State(state): State<ControlState>, Path(name): Path<String>, body: Bytes) -> Response {
    let Some(pool) = state.pool(&name) else { return unknown_pool(&name) };
    let mut json = serde_json::Deserializer::from_slice(&body);
    let members = match serde_path_to_error::deserialize::<_, MembersBody<Member>>(&mut json) {
        Ok(body) => body.members,
        Err(refusal) => {
            let path = refusal.path().to_string();
            return error(StatusCode::BAD_REQUEST, format!("body: {path}: {}", refusal.into_inner()));
        }
    };
    if let Err(refusal) = validate_members(&members, BUILTIN_MAX_WEIGHT) {
        return error(StatusCode::BAD_REQUEST, refusal.to_string());
    }
    let summary: Vec<String> =
        members.iter().map(|member| format!("{}={}/{:?}", member.id, member.weight, member.state)).collect();
    pool.apply(members);
    tracing::info!(pool = name, members = summary.join(" "), "members applied");
    StatusCode::NO_CONTENT.into_response()
}

fn unknown_pool(name: &str) -> Response {
    error(StatusCode::NOT_FOUND, format!("no pool {name:?}"))
}

fn error(status: StatusCode, message: String) -> Response {
    (status, Json(ErrorBody { error: message })).into_response()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
