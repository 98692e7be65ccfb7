//! `cutover-test-http`: the HTTP server inside Cutover's test images (std only, so the image is this binary and libc).
//!
//! - `GET /` answers the version (`--version V`, else `$VERSION`, else `unknown`).
//! - `GET /health` answers `ok` (200), or `failing` (503) once told to fail.
//! - `POST /fail-health` makes `/health` fail from now on; `POST /exit?code=N` exits with code N after answering.
//! - `$PORT` (8080), `$FAIL_HEALTH=1` (fail from the start), `$EXIT_AT_START=N` (exit at once with code N).
//!
//! Every request is logged on stdout, so tests can read them back as container logs.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

fn main() {
    let mut args = std::env::args().skip(1);
    let mut version = std::env::var("VERSION").unwrap_or_else(|_| "unknown".to_owned());
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--version", Some(value)) => version = value,
            _ => {
                eprintln!("usage: cutover-test-http [--version VERSION]");
                std::process::exit(2);
            }
        }
    }
    if let Ok(code) = std::env::var("EXIT_AT_START") {
        println!("cutover-test-http {version}: exiting with code {code} as EXIT_AT_START says");
        std::process::exit(code.parse().unwrap_or(1));
    }
    let port = std::env::var("PORT").ok().and_then(|port| port.parse::<u16>().ok()).unwrap_or(8080);
    let failing = Arc::new(AtomicBool::new(std::env::var("FAIL_HEALTH").is_ok_and(|value| value == "1")));
    let listener = match TcpListener::bind(("0.0.0.0", port)) {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("cutover-test-http: cannot listen on port {port}: {error}");
            std::process::exit(1);
        }
    };
    println!("cutover-test-http {version} listening on 0.0.0.0:{port}");
    let version: Arc<str> = version.into();
    for stream in listener.incoming().flatten() {
        let (version, failing) = (version.clone(), failing.clone());
        std::thread::spawn(move || serve(stream, &version, &failing));
    }
}

fn serve(stream: TcpStream, version: &str, failing: &AtomicBool) {
    let Ok(mut writer) = stream.try_clone() else { return };
    let mut reader = BufReader::new(stream);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    // Headers are read and ignored; no request here has a body.
    let mut header = String::new();
    while reader.read_line(&mut header).is_ok_and(|read| read > 0) && header.trim_end() != "" {
        header.clear();
    }
    let mut parts = request_line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut exit_code = None;
    let (status, body) = match (method, path) {
        ("GET", "/") => (200, format!("{version}\n")),
        ("GET", "/health") if failing.load(Ordering::SeqCst) => (503, "failing\n".to_owned()),
        ("GET", "/health") => (200, "ok\n".to_owned()),
        ("POST", "/fail-health") => {
            failing.store(true, Ordering::SeqCst);
            (200, "health now fails\n".to_owned())
        }
        ("POST", "/exit") => {
            let code = query.strip_prefix("code=").and_then(|code| code.parse::<i32>().ok()).unwrap_or(0);
            exit_code = Some(code);
            (200, format!("exiting with code {code}\n"))
        }
        _ => (404, "not found\n".to_owned()),
    };
    println!("{method} {target} {status}");
    let reason = match status {
        200 => "OK",
        404 => "Not Found",
        _ => "Service Unavailable",
    };
    let response = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = writer.write_all(response.as_bytes());
    let _ = writer.flush();
    if let Some(code) = exit_code {
        println!("exiting with code {code} as asked");
        std::process::exit(code);
    }
}
