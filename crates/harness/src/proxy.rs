//! A fault-injecting HTTP/1.1 proxy between agents and the server.
//!
//! It forwards requests one at a time per connection and can, for requests whose path matches a rule, drop the
//! response (the request was delivered, the answer lost), deliver the request twice, or re-deliver an earlier
//! request later (a stale, out-of-order duplicate). Every request it saw is recorded for assertions.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// What to do with a matching request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Forward the request, then close the client's connection without the response, `times` times.
    DropResponse { times: usize },
    /// Deliver every matching request twice; the client gets the first answer.
    Duplicate,
    /// Deliver every matching request, and after it re-deliver the previous matching request (stale replay).
    ReplayPrevious,
}

#[derive(Debug, Clone)]
struct Rule {
    path: String,
    fault: Fault,
    fired: usize,
}

/// A request as the proxy saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    /// The request line and headers, as sent.
    pub head: String,
    pub body: Vec<u8>,
}

impl Seen {
    /// A header's value (name case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim().eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }
}

#[derive(Default)]
struct Shared {
    rules: Vec<Rule>,
    seen: Vec<Seen>,
    last_by_path: Vec<(String, Vec<u8>)>,
}

/// A running proxy.
#[derive(Clone)]
pub struct FaultProxy {
    pub addr: String,
    shared: Arc<Mutex<Shared>>,
}

impl FaultProxy {
    /// Starts a proxy on 127.0.0.1:0 forwarding to `upstream` (host:port).
    pub async fn start(upstream: &str) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("addr").to_string();
        let shared = Arc::new(Mutex::new(Shared::default()));
        let proxy = FaultProxy { addr, shared: shared.clone() };
        let upstream = upstream.to_owned();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let shared = shared.clone();
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    let _ = serve(client, &upstream, shared).await;
                });
            }
        });
        proxy
    }

    /// Adds a fault for requests whose path equals `path`.
    pub fn inject(&self, path: &str, fault: Fault) {
        self.lock().rules.push(Rule { path: path.to_owned(), fault, fired: 0 });
    }

    /// Every request seen so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.lock().seen.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

struct Message {
    head: String,
    body: Vec<u8>,
}

impl Message {
    fn bytes(&self) -> Vec<u8> {
        let mut res = self.head.clone().into_bytes();
        res.extend_from_slice(&self.body);
        res
    }
}

/// Reads one HTTP/1.1 message (request or response) with a Content-Length or chunked body.
async fn read_message<R: tokio::io::AsyncBufRead + Unpin>(
    reader: &mut R,
    is_head_response: bool,
) -> std::io::Result<Option<Message>> {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await? == 0 {
            return Ok(None);
        }
        head.push_str(&line);
        if line == "\r\n" {
            break;
        }
    }
    let lower = head.to_ascii_lowercase();
    let header = |name: &str| {
        lower.lines().find_map(|line| line.strip_prefix(&format!("{name}:")).map(|value| value.trim().to_owned()))
    };
    let mut body = Vec::new();
    if is_head_response {
        return Ok(Some(Message { head, body }));
    }
    if header("transfer-encoding").is_some_and(|value| value.contains("chunked")) {
        // Re-encode as-is: copy chunk framing through.
        loop {
            let mut size_line = String::new();
            reader.read_line(&mut size_line).await?;
            body.extend_from_slice(size_line.as_bytes());
            let size = usize::from_str_radix(size_line.trim().split(';').next().unwrap_or("0"), 16).unwrap_or(0);
            let mut chunk = vec![0u8; size + 2];
            reader.read_exact(&mut chunk).await?;
            body.extend_from_slice(&chunk);
            if size == 0 {
                break;
            }
        }
    } else if let Some(length) = header("content-length").and_then(|value| value.parse::<usize>().ok()) {
        body.resize(length, 0);
        reader.read_exact(&mut body).await?;
    }
    Ok(Some(Message { head, body }))
}

async fn roundtrip(upstream: &mut BufReader<TcpStream>, request: &Message, is_head: bool) -> std::io::Result<Message> {
    upstream.get_mut().write_all(&request.bytes()).await?;
    read_message(upstream, is_head).await?.ok_or_else(|| std::io::Error::other("upstream closed"))
}

async fn serve(client: TcpStream, upstream_addr: &str, shared: Arc<Mutex<Shared>>) -> std::io::Result<()> {
    let mut client = BufReader::new(client);
    let mut upstream = BufReader::new(TcpStream::connect(upstream_addr).await?);
    while let Some(request) = read_message(&mut client, false).await? {
        let mut parts = request.head.split_whitespace();
        let method = parts.next().unwrap_or("").to_owned();
        let path = parts.next().unwrap_or("").to_owned();
        let is_head = method == "HEAD";
        let (fault, previous) = {
            let mut shared = shared.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            shared.seen.push(Seen {
                method: method.clone(),
                path: path.clone(),
                head: request.head.clone(),
                body: request.body.clone(),
            });
            let previous = shared.last_by_path.iter().rev().find(|(p, _)| *p == path).map(|(_, bytes)| bytes.clone());
            shared.last_by_path.push((path.clone(), request.bytes()));
            let mut fault = None;
            for rule in shared.rules.iter_mut().filter(|rule| rule.path == path) {
                match rule.fault {
                    Fault::DropResponse { times } if rule.fired < times => {
                        rule.fired += 1;
                        fault = Some(rule.fault.clone());
                    }
                    Fault::DropResponse { .. } => {}
                    _ => fault = Some(rule.fault.clone()),
                }
            }
            (fault, previous)
        };
        let response = roundtrip(&mut upstream, &request, is_head).await?;
        match fault {
            Some(Fault::DropResponse { .. }) => return Ok(()),
            Some(Fault::Duplicate) => {
                let _ = roundtrip(&mut upstream, &request, is_head).await?;
            }
            Some(Fault::ReplayPrevious) => {
                if let Some(previous) = previous {
                    let stale = read_message(&mut BufReader::new(previous.as_slice()), false).await?;
                    if let Some(stale) = stale {
                        let _ = roundtrip(&mut upstream, &stale, false).await?;
                    }
                }
            }
            None => {}
        }
        client.get_mut().write_all(&response.bytes()).await?;
    }
    Ok(())
}
