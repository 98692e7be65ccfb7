//! The Cutover control plane: CodeDeploy's JSON 1.1 API, the host agent protocol, the revision blob store and the
//! deployment orchestrator, all on one listen address.
//!
//! The server keeps no deployment state of its own: every fact lives in the store, so a server killed at any
//! point and restarted picks up where it left off ([`orchestrator::recover`]).

pub mod agent_api;
// Triggers and alarms: background workers (see their module docs).
mod alarms;
pub mod api;
mod auth;
mod autoupdate;
pub mod blobs;
mod clock;
mod console;
mod convert;
pub mod ecs;
pub mod error;
mod functions;
mod git;
pub mod monitoring;
pub mod orchestrator;
mod plan;
mod replicas;
mod s3;
pub mod settings;
mod tls;
pub mod traffic;
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
    /// TOML file of settings (same names as the flags, with `_` or `-`); flags and `CUTOVER_*` variables win.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Address to listen on; port 0 picks a free port (the bound address is written to DATA_DIR/listen-addr).
    #[arg(long, default_value = "127.0.0.1:8700")]
    pub listen: String,
    /// Directory holding the SQLite database, the revision blobs and the server's generated files.
    #[arg(long, default_value = "cutover-data")]
    pub data_dir: PathBuf,
    /// The database: `postgres://USER:PASSWORD@HOST:PORT/DB` for PostgreSQL (required for several replicas), or
    /// `sqlite://PATH`. Default: SQLite in DATA_DIR/cutover.db.
    #[arg(long)]
    pub database_url: Option<String>,
    /// Directory of the revision blobs (content-addressed bundles). Replicas must share it (e.g. one NFS mount), or
    /// keep revisions in S3 instead (--s3-bucket). Default: DATA_DIR/blobs.
    #[arg(long)]
    pub blobs_dir: Option<PathBuf>,
    /// Revision blobs in an S3-compatible bucket instead of a directory (`--s3-*`, an `[s3]` table in the file).
    #[command(flatten)]
    pub s3: blobs::S3Settings,
    /// Most connections this server opens to PostgreSQL.
    #[arg(long, default_value_t = 10)]
    pub database_max_connections: u32,
    /// This replica's name in deployment leases; must differ between replicas. Default: `local` on SQLite (one
    /// server, which then resumes its leases at once after a restart), otherwise HOSTNAME-PID-RANDOM.
    #[arg(long)]
    pub replica_id: Option<String>,
    /// A replica holds the lease of each deployment it drives for this long and renews it every third of it; when
    /// the replica dies another one takes its deployments over after at most this plus a third.
    #[arg(long, default_value_t = 10)]
    pub deployment_lease_secs: u64,
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

    // --- Security (auth.rs) ---
    /// Key that seals access-key secrets in the database (32 bytes, base64). Default: DATA_DIR/master-key, generated
    /// (mode 0600) on first start. Replicas sharing a database must share it.
    #[arg(long)]
    pub master_key_file: Option<PathBuf>,
    /// Lifetime of the enrolment token the server keeps in DATA_DIR/enrollment-token (renewed at start when less
    /// than a day, or half its lifetime, is left).
    #[arg(long, default_value_t = 7 * 86_400)]
    pub enrollment_token_ttl_secs: u64,
    /// TLS: `auto` serves HTTPS when the listen address is not loopback (or --tls-cert is given), `on` always,
    /// `off` never.
    #[arg(long, value_enum, default_value_t = tls::TlsMode::Auto)]
    pub tls: tls::TlsMode,
    /// Certificate chain to serve (PEM). Without it, a private CA and certificate are generated in DATA_DIR/tls.
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// Private key of --tls-cert (PEM).
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Extra DNS name or IP address of the generated server certificate (repeatable).
    #[arg(long)]
    pub tls_san: Vec<String>,

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

    // --- Traffic control (traffic.rs) ---
    /// TOML file of target groups (`[[target_group]]`: name, router, port, deregistration_delay_seconds,
    /// health_timeout_seconds) and blue/green fleets (`[[fleet]]`: provision_command, terminate_command).
    #[arg(long)]
    pub traffic_config: Option<PathBuf>,
    /// How many seconds one "minute" lasts in blue/green waits and canary/linear intervals (Cutover extension; 60
    /// by default, less for tests and impatient users).
    #[arg(long, default_value_t = 60.0)]
    pub minute_seconds: f64,

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
    pub(crate) keyring: auth::Keyring,
    /// Whether the server serves HTTPS (console cookies are then `Secure`).
    pub(crate) tls: bool,
    /// When this process started: agents get a full lease after a server restart before being judged lost.
    pub(crate) started_at_ms: i64,
    /// This replica's name in leases (see `replicas.rs`).
    pub(crate) replica_id: String,
    /// Target groups and the traffic tasks running in this process (`traffic.rs`).
    pub(crate) traffic: traffic::Traffic,
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
    let api_auth = axum::middleware::from_fn_with_state(state.clone(), auth::api_layer);
    let agent_auth = axum::middleware::from_fn_with_state(state.clone(), auth::agent_layer);
    Router::new()
        // Any other method on `/` is S3's (GET / is ListBuckets).
        .route("/", post(git::api).route_layer(api_auth.clone()).fallback(s3::serve))
        .route("/healthz", get(|| async { "ok" }).fallback(s3::reserved))
        .route("/metrics", get(monitoring::serve).fallback(s3::reserved))
        .nest("/agent/v1", agent_api::routes().route_layer(agent_auth).fallback(s3::reserved))
        .route("/agent", any(s3::reserved))
        .route("/agent/{*rest}", any(s3::reserved))
        .route(
            "/v1/deployments/{deployment_id}/instances/{instance_name}/logs",
            get(agent_api::instance_logs).route_layer(api_auth.clone()),
        )
        .route("/v1/deployments/{deployment_id}/logs", get(agent_api::deployment_logs).route_layer(api_auth.clone()))
        .route("/v1/deployment-plans", post(plan::plan).route_layer(api_auth.clone()))
        .route("/v1/container-services", post(ecs::describe).route_layer(api_auth))
        .route("/v1", any(s3::reserved))
        .route("/v1/{*rest}", any(s3::reserved))
        .nest("/console", console::routes(&state))
        .fallback(s3::serve)
        .layer(Extension(git))
        .layer(Extension(s3))
        .with_state(state)
}

fn write_atomically(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
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
    let traffic = traffic::Traffic::load(config.traffic_config.as_ref(), config.minute_seconds)?;
    // Before anything is recorded: the facade drops what comes before a recorder.
    monitoring::install();
    let store = match &config.database_url {
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            Store::open_postgres(url, config.database_max_connections).await
        }
        Some(url) => Store::open(url).await,
        None => Store::open_sqlite(&config.data_dir.join("cutover.db")).await,
    }
    .map_err(|error| anyhow::anyhow!("cannot open the database: {error}"))?;
    let replica_id = match (&config.replica_id, store.dialect()) {
        (Some(id), _) => id.clone(),
        (None, cutover_store::Dialect::Sqlite) => "local".to_owned(),
        (None, cutover_store::Dialect::Postgres) => {
            let host = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
            let random = uuid::Uuid::new_v4().simple().to_string();
            format!("{}-{}-{}", host.trim(), std::process::id(), &random[..8])
        }
    };
    let blobs = blobs::BlobStore::from_config(&config).await?;
    tracing::info!(message = "Revision blobs opened.", location = %blobs.describe());
    let keyring = auth::Keyring::load_or_create(
        &config.master_key_file.clone().unwrap_or_else(|| config.data_dir.join("master-key")),
    )?;
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .map_err(|error| anyhow::anyhow!("cannot listen on {}: {error}", config.listen))?;
    let addr: SocketAddr = listener.local_addr()?;
    let tls = tls::server_config(&config, addr)?;
    let state = AppState {
        inner: Arc::new(Inner {
            store,
            blobs,
            wakeups: Wakeups::default(),
            log_feed: LogFeed::default(),
            clock: Clock,
            config: config.clone(),
            keyring,
            tls: tls.is_some(),
            started_at_ms: Clock.now_ms(),
            replica_id,
            traffic,
        }),
    };
    tracing::info!(message = "Store opened.", dialect = ?state.store().dialect(), replica_id = %state.inner.replica_id);
    auth::bootstrap_admin(&state).await?;
    auth::ensure_enrollment_token_file(&state).await?;
    orchestrator::recover(&state).await?;
    let sweeper = tokio::spawn(orchestrator::sweep_forever(state.clone(), Duration::from_millis(500)));
    // Replicas: deployment leases, takeovers, and the notifications between replicas (see replicas.rs).
    let lease_keeper = tokio::spawn(replicas::maintain_forever(state.clone()));
    let notifications = tokio::spawn(replicas::listen(state.clone()));
    // Triggers and alarms run apart from requests, so a slow webhook or alarm source never holds up a deployment.
    let trigger_worker = tokio::spawn(triggers::run(state.clone(), trigger_setup));
    let alarm_worker = tokio::spawn(alarms::run(state.clone(), alarm_sources));
    let scheme = if tls.is_some() { "https" } else { "http" };
    // Written after the bind so that a reader never sees a stale address; tests and scripts wait for listen-addr,
    // so the endpoint (with its scheme) is written first.
    write_atomically(&config.data_dir.join("endpoint"), &format!("{scheme}://{addr}\n"))?;
    write_atomically(&config.data_dir.join("listen-addr"), &format!("{addr}\n"))?;
    tracing::info!(message = "Listening.", %addr, scheme, data_dir = %config.data_dir.display());
    if config.log_format == LogFormat::Text {
        eprintln!("cutover-server listening on {scheme}://{addr}");
    }
    let service = app(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    match tls {
        None => axum::serve(listener, service).with_graceful_shutdown(shutdown).await?,
        Some(tls) => {
            let handle = axum_server::Handle::new();
            let stopper = handle.clone();
            tokio::spawn(async move {
                shutdown.await;
                stopper.graceful_shutdown(Some(Duration::from_secs(10)));
            });
            axum_server::from_tcp_rustls(
                listener.into_std()?,
                axum_server::tls_rustls::RustlsConfig::from_config(tls),
            )?
            .handle(handle)
            .serve(service)
            .await?;
        }
    }
    sweeper.abort();
    lease_keeper.abort();
    notifications.abort();
    trigger_worker.abort();
    alarm_worker.abort();
    state.store().close().await;
    Ok(())
}
