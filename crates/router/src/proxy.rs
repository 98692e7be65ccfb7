//! The proxy: one HTTP/1.1 listener per pool, forwarding each request to the member the pool picks.
//!
//! Upstream connections are hyper's own connection API with a small idle pool per member rather than a generic
//! client, because a generic client swallows the request when a connection fails: here a request that never left
//! (refused connect, a pooled connection found closed) comes back and is tried on another member. A bodiless
//! GET/HEAD/OPTIONS whose upstream dies before answering is sent again too; anything else that was already sent
//! gets 502, since repeating it could do its work twice.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::{Body, Incoming};
use hyper::client::conn::http1 as client;
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper::server::conn::http1 as server;
use hyper::{Method, Request, Response, StatusCode, Uri};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::pool::{InFlight, Pool, Tracker};

/// The body of every request and response that goes through the proxy.
pub type ProxyBody = BoxBody<Bytes, hyper::Error>;

/// Members tried for one request before the client gets an error.
const MAX_ATTEMPTS: usize = 3;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// A client that has not sent its request head by then is disconnected.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Accepts connections for `pool` until `shutdown` turns true, then lets every open connection finish the request
/// it is serving and returns once all have closed.
pub async fn serve(listener: TcpListener, pool: Arc<Pool>, shutdown: watch::Receiver<bool>) {
    let mut connections = tokio::task::JoinSet::new();
    let mut stopping = shutdown.clone();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    connections.spawn(serve_connection(stream, peer, pool.clone(), shutdown.clone()));
                }
                Err(error) => {
                    // Out of file descriptors, typically: back off instead of spinning.
                    tracing::warn!(pool = pool.name, %error, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            () = stopped(&mut stopping) => break,
        }
    }
    drop(listener);
    while connections.join_next().await.is_some() {}
}

async fn serve_connection(stream: TcpStream, peer: SocketAddr, pool: Arc<Pool>, mut shutdown: watch::Receiver<bool>) {
    let service = hyper::service::service_fn(move |request| {
        let pool = pool.clone();
        async move { Ok::<_, Infallible>(forward(&pool, peer, request).await) }
    });
    let connection = server::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .serve_connection(TokioIo::new(stream), service);
    let mut connection = std::pin::pin!(connection);
    tokio::select! {
        _ = connection.as_mut() => return,
        () = stopped(&mut shutdown) => {}
    }
    // Finishes the request in progress, then closes instead of waiting for the next one.
    connection.as_mut().graceful_shutdown();
    let _ = connection.await;
}

/// Resolves once shutdown has begun (or the router is going away).
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    // The guard wait_for returns is not Send: drop it here, not in the caller's select!.
    let _ = shutdown.wait_for(|stop| *stop).await.map(|_| ());
}

/// What every attempt sends: the client's request head, cleaned for the upstream hop.
struct Head {
    method: Method,
    uri: Uri,
    headers: HeaderMap,
}

impl Head {
    fn new(parts: &hyper::http::request::Parts, peer: SocketAddr) -> Head {
        let mut headers = parts.headers.clone();
        strip_hop_by_hop(&mut headers);
        // The proxy answers `Expect: 100-continue` itself when it starts reading the body.
        headers.remove(header::EXPECT);
        let forwarded_for = HeaderName::from_static("x-forwarded-for");
        let client = peer.ip().to_string();
        let chain = match headers.get(&forwarded_for).and_then(|prior| prior.to_str().ok()) {
            Some(prior) => format!("{prior}, {client}"),
            None => client.clone(),
        };
        let value = HeaderValue::from_str(&chain).or_else(|_| HeaderValue::from_str(&client));
        if let Ok(value) = value {
            headers.insert(forwarded_for, value);
        }
        let uri =
            parts.uri.path_and_query().map(|path| Uri::from(path.clone())).unwrap_or_else(|| Uri::from_static("/"));
        Head { method: parts.method.clone(), uri, headers }
    }

    fn request(&self, body: ProxyBody) -> Request<ProxyBody> {
        let mut request = Request::new(body);
        *request.method_mut() = self.method.clone();
        *request.uri_mut() = self.uri.clone();
        *request.headers_mut() = self.headers.clone();
        request
    }
}

/// Why one attempt on one member failed.
enum SendError {
    /// Nothing reached the member: the request comes back to be tried elsewhere.
    Unsent(Box<Request<ProxyBody>>, String),
    /// The request was sent and no answer came.
    Lost(hyper::Error),
}

async fn forward(pool: &Pool, peer: SocketAddr, request: Request<Incoming>) -> Response<ProxyBody> {
    let replayable =
        matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS) && request.body().is_end_stream();
    let (parts, body) = request.into_parts();
    let head = Head::new(&parts, peer);
    let mut request = head.request(body.boxed());
    let mut tried: Vec<Arc<Tracker>> = Vec::new();
    let mut failures = Vec::new();
    while tried.len() < MAX_ATTEMPTS {
        let Some(member) = pool.pick(&tried) else { break };
        let in_flight = InFlight::new(member.clone());
        match send(&member, request).await {
            Ok(response) => return relay(response, in_flight),
            Err(SendError::Unsent(back, reason)) => {
                tracing::warn!(pool = pool.name, member = member.id, reason, "request not sent; trying another member");
                failures.push(format!("{}: {reason}", member.id));
                request = *back;
            }
            Err(SendError::Lost(error)) if replayable => {
                tracing::warn!(pool = pool.name, member = member.id, %error, "no answer; sending the request again");
                failures.push(format!("{}: {error}", member.id));
                request = head.request(empty());
            }
            Err(SendError::Lost(error)) => {
                tracing::warn!(pool = pool.name, member = member.id, %error, "no answer");
                return plain(StatusCode::BAD_GATEWAY, format!("member {} did not answer: {error}\n", member.id));
            }
        }
        tried.push(member);
    }
    if failures.is_empty() {
        return plain(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("no member of pool {} is ready and healthy\n", pool.name),
        );
    }
    plain(StatusCode::BAD_GATEWAY, format!("no member of pool {} answered: {}\n", pool.name, failures.join("; ")))
}

/// Sends on an idle connection to the member if one is open, else on a new one.
async fn send(member: &Arc<Tracker>, mut request: Request<ProxyBody>) -> Result<Response<Incoming>, SendError> {
    if let Ok(host) = HeaderValue::from_str(&member.address) {
        request.headers_mut().entry(header::HOST).or_insert(host);
    }
    while let Some(mut sender) = member.take_idle() {
        match sender.try_send_request(request).await {
            Ok(response) => {
                recycle(member, sender);
                return Ok(response);
            }
            Err(mut error) => match error.take_message() {
                // The idle connection had been closed by the member: try the next one.
                Some(back) => request = back,
                None => return Err(SendError::Lost(error.into_error())),
            },
        }
    }
    let mut sender = match connect(&member.address).await {
        Ok(sender) => sender,
        Err(reason) => return Err(SendError::Unsent(Box::new(request), reason)),
    };
    match sender.try_send_request(request).await {
        Ok(response) => {
            recycle(member, sender);
            Ok(response)
        }
        Err(mut error) => match error.take_message() {
            Some(back) => Err(SendError::Unsent(Box::new(back), error.into_error().to_string())),
            None => Err(SendError::Lost(error.into_error())),
        },
    }
}

async fn connect(address: &str) -> Result<client::SendRequest<ProxyBody>, String> {
    let stream = match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(address)).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(error)) => return Err(format!("connect to {address}: {error}")),
        Err(_) => return Err(format!("connect to {address}: no answer within {CONNECT_TIMEOUT:?}")),
    };
    let _ = stream.set_nodelay(true);
    let (sender, connection) =
        client::handshake(TokioIo::new(stream)).await.map_err(|error| format!("handshake with {address}: {error}"))?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(sender)
}

/// Keeps the connection for the next request once this response has been read to the end.
fn recycle(member: &Arc<Tracker>, mut sender: client::SendRequest<ProxyBody>) {
    let member = member.clone();
    tokio::spawn(async move {
        if sender.ready().await.is_ok() {
            member.put_idle(sender);
        }
    });
}

/// The member's response, counted in flight until its body has been sent on.
fn relay(response: Response<Incoming>, in_flight: InFlight) -> Response<ProxyBody> {
    let (mut parts, body) = response.into_parts();
    strip_hop_by_hop(&mut parts.headers);
    let body = body
        .map_frame(move |frame| {
            let _counted = &in_flight;
            frame
        })
        .boxed();
    Response::from_parts(parts, body)
}

/// Headers that describe one connection, not the message (RFC 9110 §7.6.1), including those `Connection` names.
fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect();
    for name in named {
        headers.remove(name);
    }
    for name in [
        header::CONNECTION,
        header::TE,
        header::TRAILER,
        header::TRANSFER_ENCODING,
        header::UPGRADE,
        header::PROXY_AUTHORIZATION,
        HeaderName::from_static("keep-alive"),
        HeaderName::from_static("proxy-connection"),
    ] {
        headers.remove(name);
    }
}

fn empty() -> ProxyBody {
    Empty::new().map_err(|never| match never {}).boxed()
}

fn plain(status: StatusCode, text: String) -> Response<ProxyBody> {
    let mut response = Response::new(Full::new(Bytes::from(text)).map_err(|never| match never {}).boxed());
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    response
}
