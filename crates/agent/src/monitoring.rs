//! Prometheus metrics of the agent, served at `GET /metrics` on `--metrics-listen` (off unless given).
//!
//! Series: commands running now, commands run by event and status, event durations (a histogram), polls and poll
//! failures, heartbeat failures, streamed log pieces, and the time the server last answered (liveness: a scrape
//! that finds it old shows an agent cut off from its server even though the process runs).
//!
//! The endpoint is a few lines of HTTP/1.1 on a plain listener (one GET per connection): the agent links no HTTP
//! server framework for one read-only page.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub(crate) const COMMANDS_RUNNING: &str = "cutover_agent_commands_running";
pub(crate) const COMMANDS: &str = "cutover_agent_commands_total";
pub(crate) const EVENT_DURATION: &str = "cutover_agent_event_duration_seconds";
pub(crate) const POLLS: &str = "cutover_agent_polls_total";
pub(crate) const POLL_ERRORS: &str = "cutover_agent_poll_errors_total";
pub(crate) const HEARTBEAT_ERRORS: &str = "cutover_agent_heartbeat_errors_total";
pub(crate) const LOG_CHUNKS: &str = "cutover_agent_log_chunks_sent_total";
pub(crate) const SERVER_CONTACT: &str = "cutover_agent_last_server_contact_timestamp_seconds";

/// File under `--root` where the bound metrics address is written (useful with port 0).
pub const ADDR_FILE: &str = "metrics-listen-addr";

const DURATION_BUCKETS: [f64; 14] =
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 120.0, 3600.0];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

fn install() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_duration_seconds".to_owned()), &DURATION_BUCKETS)
                .ok()?;
            match builder.install_recorder() {
                Ok(handle) => {
                    describe();
                    Some(handle)
                }
                Err(error) => {
                    tracing::warn!(%error, "cannot install the metrics recorder; /metrics is unavailable");
                    None
                }
            }
        })
        .as_ref()
}

fn describe() {
    metrics::describe_gauge!(COMMANDS_RUNNING, "Commands (lifecycle events) running on this host now.");
    metrics::describe_counter!(COMMANDS, "Commands run, by lifecycle event and status.");
    metrics::describe_histogram!(EVENT_DURATION, metrics::Unit::Seconds, "Duration of lifecycle events run here.");
    metrics::describe_counter!(POLLS, "Long polls answered by the server.");
    metrics::describe_counter!(POLL_ERRORS, "Long polls that failed.");
    metrics::describe_counter!(HEARTBEAT_ERRORS, "Heartbeats that failed.");
    metrics::describe_counter!(LOG_CHUNKS, "Pieces of hook output streamed to the server.");
    metrics::describe_gauge!(SERVER_CONTACT, "When the server last answered (Unix time, seconds).");
}

/// Records that the server answered just now.
pub(crate) fn server_answered() {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    metrics::gauge!(SERVER_CONTACT).set(now.as_secs_f64());
}

/// Installs the recorder, binds `listen` and serves `/metrics` in the background; writes the bound address to
/// `<root>/metrics-listen-addr`. Returns the bound address.
pub(crate) async fn start(listen: &str, root: &Path) -> anyhow::Result<SocketAddr> {
    let handle = install().context("the metrics recorder could not be installed")?;
    let listener = TcpListener::bind(listen).await.with_context(|| format!("cannot listen on {listen} for metrics"))?;
    let addr = listener.local_addr()?;
    let tmp = root.join(format!("{ADDR_FILE}.tmp"));
    std::fs::write(&tmp, format!("{addr}\n")).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, root.join(ADDR_FILE))?;
    tracing::info!(%addr, "serving metrics at /metrics");
    tokio::spawn(async move {
        loop {
            match listener.accept().await {
                Ok((stream, _)) => {
                    tokio::spawn(async move {
                        if let Err(error) = answer(stream, handle).await {
                            tracing::debug!(%error, "metrics request failed");
                        }
                    });
                }
                Err(error) => {
                    tracing::warn!(%error, "accepting a metrics connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    });
    Ok(addr)
}

/// Reads one request head and answers `GET /metrics` (anything else: 404), then closes the connection.
async fn answer(mut stream: TcpStream, handle: &PrometheusHandle) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut buffer = [0u8; 1024];
    while !head.windows(4).any(|window| window == b"\r\n\r\n") {
        let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buffer))
            .await
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "request head timed out"))??;
        if n == 0 || head.len() > 16 * 1024 {
            return Ok(());
        }
        head.extend_from_slice(&buffer[..n]);
    }
    let request_line = String::from_utf8_lossy(&head).lines().next().unwrap_or_default().to_owned();
    let mut parts = request_line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
    let path = target.split('?').next().unwrap_or_default();
    let (status, content_type, body) = if method == "GET" && path == "/metrics" {
        ("200 OK", "text/plain; version=0.0.4", handle.render())
    } else {
        ("404 Not Found", "text/plain", "not found; metrics are at /metrics\n".to_owned())
    };
    let response = format!(
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}
