//! The `cutover-router` process: binds every pool and the control API, writes the ready file, and on SIGTERM or
//! SIGINT stops accepting and lets requests in flight finish.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::config::Settings;
use crate::control::{ControlState, app};
use crate::pool::Pool;

/// How long requests in flight may take to finish after a shutdown signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot listen on {addr} for {what}: {source}")]
    Bind { what: String, addr: SocketAddr, source: std::io::Error },
    #[error("cannot load the control API's TLS certificate or key: {0}")]
    Tls(std::io::Error),
    #[error("cannot write the ready file {path}: {source}")]
    ReadyFile { path: PathBuf, source: std::io::Error },
    #[error("cannot handle signals: {0}")]
    Signals(std::io::Error),
}

/// What the ready file says: the addresses actually bound (the configuration may say port 0).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct Ready {
    pub control: SocketAddr,
    pub pools: BTreeMap<String, SocketAddr>,
}

/// Runs until SIGTERM or SIGINT.
pub async fn run(settings: Settings, ready_file: Option<&Path>) -> Result<(), StartError> {
    let mut terminate =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).map_err(StartError::Signals)?;
    let mut interrupt =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).map_err(StartError::Signals)?;
    let (stop, stopping) = watch::channel(false);
    let mut pools = HashMap::new();
    let mut ready = Ready { control: settings.control.listen, pools: BTreeMap::new() };
    let mut proxies = tokio::task::JoinSet::new();
    for config in settings.pools {
        let bind = |source| StartError::Bind { what: format!("pool {}", config.name), addr: config.listen, source };
        let listener = TcpListener::bind(config.listen).await.map_err(bind)?;
        ready.pools.insert(config.name.clone(), listener.local_addr().map_err(bind)?);
        let pool = Arc::new(Pool::new(config.name.clone(), config.health_check));
        proxies.spawn(crate::proxy::serve(listener, pool.clone(), stopping.clone()));
        pools.insert(config.name, pool);
    }

    let addr = settings.control.listen;
    let bind = |source| StartError::Bind { what: "the control API".into(), addr, source };
    let listener = std::net::TcpListener::bind(addr).map_err(bind)?;
    // axum-server's from_tcp needs a non-blocking socket.
    listener.set_nonblocking(true).map_err(bind)?;
    ready.control = listener.local_addr().map_err(bind)?;
    let service = app(ControlState::new(pools, &settings.token)).into_make_service();
    let handle = axum_server::Handle::new();
    let control = match (&settings.control.tls_cert, &settings.control.tls_key) {
        (Some(cert), Some(key)) => {
            let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
            let tls = axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key).await.map_err(StartError::Tls)?;
            let server = axum_server::from_tcp_rustls(listener, tls).map_err(bind)?.handle(handle.clone());
            tokio::spawn(async move { server.serve(service).await })
        }
        _ => {
            let server = axum_server::from_tcp(listener).map_err(bind)?.handle(handle.clone());
            tokio::spawn(async move { server.serve(service).await })
        }
    };

    if let Some(path) = ready_file {
        write_ready(path, &ready).map_err(|source| StartError::ReadyFile { path: path.to_owned(), source })?;
    }
    tracing::info!(control = %ready.control, pools = ?ready.pools, "cutover-router listening");

    tokio::select! {
        _ = terminate.recv() => tracing::info!("SIGTERM: finishing requests in flight"),
        _ = interrupt.recv() => tracing::info!("SIGINT: finishing requests in flight"),
    }
    let _ = stop.send(true);
    handle.graceful_shutdown(Some(SHUTDOWN_GRACE));
    let finished = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while proxies.join_next().await.is_some() {}
        let _ = control.await;
    })
    .await;
    if finished.is_err() {
        tracing::warn!("requests still in flight after {SHUTDOWN_GRACE:?}; exiting anyway");
    }
    Ok(())
}

/// Written to a temporary name and renamed, so a reader never sees half a file.
fn write_ready(path: &Path, ready: &Ready) -> std::io::Result<()> {
    let text = serde_json::to_string_pretty(ready).map_err(std::io::Error::other)?;
    let partial = path.with_extension("partial");
    std::fs::write(&partial, text)?;
    std::fs::rename(&partial, path)
}
