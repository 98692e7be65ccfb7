//! The HTTP health check, made from the host through a task's published port. Only the status line matters, so this
//! is one GET on a fresh connection rather than an HTTP client: it must not reuse a connection to a replaced task.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// `Ok` for a 2xx or 3xx answer (what a load balancer's default matcher accepts); otherwise why not.
pub(crate) async fn probe(address: SocketAddr, path: &str, timeout: Duration) -> Result<(), String> {
    match tokio::time::timeout(timeout, get_status(address, path)).await {
        Ok(Ok(status)) if (200..400).contains(&status) => Ok(()),
        Ok(Ok(status)) => Err(format!("GET {path} on {address} answered {status}")),
        Ok(Err(error)) => Err(format!("GET {path} on {address}: {error}")),
        Err(_) => Err(format!("GET {path} on {address}: no answer within {timeout:?}")),
    }
}

async fn get_status(address: SocketAddr, path: &str) -> std::io::Result<u16> {
    let mut stream = TcpStream::connect(address).await?;
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nUser-Agent: cutover-agent\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    // The status line fits in the first read in practice; read on until its end to be sure.
    let mut head = Vec::with_capacity(256);
    let mut buffer = [0u8; 256];
    while !head.contains(&b'\n') && head.len() < 4096 {
        let read = stream.read(&mut buffer).await?;
        if read == 0 {
            break;
        }
        head.extend_from_slice(&buffer[..read]);
    }
    let line = String::from_utf8_lossy(&head);
    let line = line.lines().next().unwrap_or_default();
    let mut parts = line.split_whitespace();
    match (parts.next(), parts.next().and_then(|status| status.parse::<u16>().ok())) {
        (Some(version), Some(status)) if version.starts_with("HTTP/") => Ok(status),
        _ if head.is_empty() => Err(std::io::Error::other("connection closed without an answer")),
        _ => Err(std::io::Error::other(format!("not an HTTP answer: {line:?}"))),
    }
}
