//! The Cutover control plane: CodeDeploy's JSON 1.1 API, the host agent protocol, the revision blob store and the
//! deployment orchestrator, all on one listen address.
//!
//! The server keeps no deployment state of its own: every fact lives in the store, so a server killed at any
//! point and restarted picks up where it left off ([`orchestrator::recover`]).

pub mod agent_api;
// Triggers and alarms: background workers (see their module docs).
mod alarms;
pub mod api;
mod autoupdate;
pub mod blobs;
mod clock;
mod convert;
pub mod error;
mod git;
pub mod monitoring;
pub mod orchestrator;
mod plan;
mod s3;
mod triggers;
mod wake;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::routing::{any, get, post};
use axum::{Extension, Router};
use cutover_store::Store;

pub use crate::clock::Clock;
use crate::wake::{LogFeed, Wakeups};

/// Command-line configuration of `cutover-server`.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "cutover-server",
    version,
    about = "Cutover control plane: CodeDeploy-compatible API and agent protocol"
)]
pub struct Config {
    /// Address to listen on; port 0 picks a free port (the bound address is written to DATA_DIR/listen-addr).
    #[arg(long, default_value = "127.0.0.1:8700")]
    pub listen: String,
    /// Directory holding the SQLite database and the revision blobs.
    #[arg(long, default_value = "cutover-data")]
    pub data_dir: PathBuf,
    /// A lifecycle event that no agent picks up within this many seconds fails its instance (dead agent).
    #[arg(long, default_value_t = 300)]
    pub event_start_timeout_secs: u64,
    /// A lifecycle event that an agent started but never reported fails after this many seconds.
    #[arg(long, default_value_t = 3900)]
    pub event_timeout_secs: u64,
    /// An agent not heard from (poll or heartbeat) for this many seconds is considered lost: the event it runs or
    /// should run fails, so a dead or partitioned host costs this long, not an hour.
    #[arg(long, default_value_t = 30)]
    pub agent_lease_secs: u64,
    /// A deployment still in progress this many seconds after it started fails with TIMEOUT (CodeDeploy's limit
    /// for in-place deployments is 8 hours).
    #[arg(long, default_value_t = 8 * 3600)]
    pub deployment_timeout_secs: u64,
    /// Instance tag whose value is a host's zone, for zonal deployment configurations.
    #[arg(long, default_value = "zone")]
    pub zone_tag_key: String,
    /// Log lines as human-readable text, or as one JSON object per line (with the fields of the enclosing spans,
    /// e.g. deployment_id and instance).
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Longest time the server holds an agent's long poll.
    #[arg(long, default_value_t = 60_000)]
    pub poll_max_wait_ms: u64,

    // --- Triggers (triggers.rs) ---
    /// Key that signs trigger webhooks (`X-Cutover-Signature: sha256=<HMAC-SHA256 of the body>`); the file's content
    /// without surrounding whitespace. Default: DATA_DIR/trigger-signing-key, generated (mode 0600) on first start.
    #[arg(long)]
    pub trigger_signing_key_file: Option<PathBuf>,
    /// Delay before the first retry of a failed trigger delivery; it doubles with every further attempt.
    #[arg(long, default_value_t = 1000)]
    pub trigger_retry_base_ms: u64,
    /// Longest delay between two attempts at one trigger delivery.
    #[arg(long, default_value_t = 300_000)]
    pub trigger_retry_max_ms: u64,
    /// Time limit of one delivery attempt (a webhook request, or an SMTP command).
    #[arg(long, default_value_t = 10_000)]
    pub trigger_timeout_ms: u64,
    /// SMTP relay (HOST:PORT) for `mailto:` triggers; plain SMTP without authentication, e.g. a local MTA.
    #[arg(long)]
    pub smtp_server: Option<String>,
    /// Sender of trigger e-mails.
    #[arg(long, default_value = "Cutover <cutover@localhost>")]
    pub smtp_from: String,

    // --- Alarms (alarms.rs) ---
    /// Alarm sources that alarmConfiguration names refer to: TOML, or JSON if the name ends in `.json`.
    #[arg(long)]
    pub alarm_config: Option<PathBuf>,
    /// How often the alarms of running deployments are read.
    #[arg(long, default_value_t = 1000)]
    pub alarm_poll_ms: u64,

    // --- GitHub revisions (git.rs) ---
    /// Where the repositories of GitHub revisions are fetched from: `<base>/<owner>/<repo>`. A URL git can fetch
    /// from (credentials may go in it, or in the host's git credential helper), a local directory or `file://` URL.
    #[arg(long, default_value = "https://github.com/")]
    pub git_base_url: String,
    /// Time limit of one git command (fetching a commit, archiving it).
    #[arg(long, default_value_t = 600)]
    pub git_timeout_secs: u64,
}

/// The format of log lines on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Shared state of request handlers and background workers.
#[derive(Clone)]
pub struct AppState {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) store: Store,
    pub(crate) blobs: blobs::BlobStore,
    pub(crate) wakeups: Wakeups,
    pub(crate) log_feed: LogFeed,
    pub(crate) clock: Clock,
    pub(crate) config: Config,
    /// When this process started: agents get a full lease after a server restart before being judged lost.
    pub(crate) started_at_ms: i64,
}

impl AppState {
    pub(crate) fn store(&self) -> &Store {
        &self.inner.store
    }
}

/// Builds the HTTP application. The protocols share one address and are told apart by the request's form:
/// `POST /` is CodeDeploy's API (`X-Amz-Target`), `/agent/v1/*` the agent protocol, `/v1/*`, `/healthz` and
/// `/metrics` are Cutover's own, and everything else is the S3 endpoint, path-style (`s3.rs`).
pub fn app(state: AppState) -> Router {
    monitoring::install();
    let git = Arc::new(git::GitRevisions::new(&state.inner.config));
    let s3 = s3::service(state.clone());
    Router::new()
        // Any other method on `/` is S3's (GET / is ListBuckets).
        .route("/", post(git::api).fallback(s3::serve))
        .route("/healthz", get(|| async { "ok" }).fallback(s3::reserved))
        .route("/metrics", get(monitoring::serve).fallback(s3::reserved))
        .nest("/agent/v1", agent_api::routes().fallback(s3::reserved))
        .route("/agent", any(s3::reserved))
        .route("/agent/{*rest}", any(s3::reserved))
        .route("/v1/deployments/{deployment_id}/instances/{instance_name}/logs", get(agent_api::instance_logs))
        .route("/v1/deployments/{deployment_id}/logs", get(agent_api::deployment_logs))
        .route("/v1/deployment-plans", post(plan::plan))
        .route("/v1", any(s3::reserved))
        .route("/v1/{*rest}", any(s3::reserved))
        .fallback(s3::serve)
        .layer(Extension(git))
        .layer(Extension(s3))
        .with_state(state)
}

/// Sets up logging to stderr in `format`, filtered by `RUST_LOG` (default `info`).
pub fn init_tracing(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        // One object per line; the fields of the enclosing spans (deployment_id, instance) are flattened in.
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(false).with_span_list(true).try_init(),
    };
}

/// Resolves when the process receives SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

/// Opens the data directory, recovers unfinished deployments, and serves until `shutdown` resolves.
pub async fn run(config: Config, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
    std::fs::create_dir_all(&config.data_dir)
        .map_err(|error| anyhow::anyhow!("cannot create data directory {}: {error}", config.data_dir.display()))?;
    // Triggers and alarms: configuration errors stop the server before it serves anything.
    let trigger_setup = triggers::TriggerSetup::load(&config)?;
    let alarm_sources = alarms::AlarmSources::load(&config)?;
    // Before anything is recorded: the facade drops what comes before a recorder.
    monitoring::install();
    let store = Store::open_sqlite(&config.data_dir.join("cutover.db")).await?;
    let blobs = blobs::BlobStore::open(config.data_dir.join("blobs"))?;
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .map_err(|error| anyhow::anyhow!("cannot listen on {}: {error}", config.listen))?;
    let addr: SocketAddr = listener.local_addr()?;
    let state = AppState {
        inner: Arc::new(Inner {
            store,
            blobs,
            wakeups: Wakeups::default(),
            log_feed: LogFeed::default(),
            clock: Clock,
            config: config.clone(),
            started_at_ms: Clock.now_ms(),
        }),
    };
    orchestrator::recover(&state).await?;
    let sweeper = tokio::spawn(orchestrator::sweep_forever(state.clone(), Duration::from_millis(500)));
    // Triggers and alarms run apart from requests, so a slow webhook or alarm source never holds up a deployment.
    let trigger_worker = tokio::spawn(triggers::run(state.clone(), trigger_setup));
    let alarm_worker = tokio::spawn(alarms::run(state.clone(), alarm_sources));
    // Written after the bind so that a reader never sees a stale address; tests and scripts wait for it.
    let addr_file = config.data_dir.join("listen-addr");
    let tmp = config.data_dir.join("listen-addr.tmp");
    std::fs::write(&tmp, format!("{addr}\n"))?;
    std::fs::rename(&tmp, &addr_file)?;
    tracing::info!(message = "Listening.", %addr, data_dir = %config.data_dir.display());
    if config.log_format == LogFormat::Text {
        eprintln!("cutover-server listening on http://{addr}");
    }
    axum::serve(listener, app(state.clone())).with_graceful_shutdown(shutdown).await?;
    sweeper.abort();
    trigger_worker.abort();
    alarm_worker.abort();
    state.store().close().await;
    Ok(())
}
