//! `cutover-agent`: the host agent of Cutover, a self-hosted re-implementation of AWS CodeDeploy.
//!
//! The agent registers its host as an on-premises instance, long-polls the server for host commands (one command
//! is one lifecycle event of one deployment), runs each command, and reports its result with CodeDeploy's
//! diagnostics. Like CodeDeploy's agent (a thread pool), it runs commands of different deployments at the same time,
//! up to `--max-concurrent-commands`, so a long hook of one application does not hold up another's deployment; a
//! deployment runs one event at a time. Behaviour follows the CodeDeploy agent (1.8.1): its on-disk layout, its cleanup-file driven
//! install, which revision each hook's scripts come from, its hook variables and its error messages, with a few
//! deliberate improvements (safe archive extraction, SHA-256 verified bundles, a timed-out script is killed with
//! every process it started, SIGKILL after the grace period, scripts that leave output pipes open do not hang an
//! event, no `su`, hooks get a documented environment built from nothing in a session of their own and can mask
//! secrets in the logs, an event never runs twice, heartbeats while a command runs, clear disk-full failures, a redeployed
//! bundle is reused from disk instead of downloaded again) and one AppSpec extension, the `OnFailure` hook.
//!
//! Module map:
//! - [`runner`] (re-exported as [`run`]): register, crash recovery, the poll loop that runs each command in its own
//!   task (concurrency cap, running commands named in every poll), report, heartbeats, shutdown;
//! - [`command`]: the command path shared by the runner and local runs (skip a command that ran, tracking file,
//!   executor, stored outcome);
//! - [`local`]: `cutover local`, a deployment of a bundle on this host without a server, through [`command`];
//! - [`revision`]: what a revision would install, computed without touching the host (for deployment plans);
//! - [`executor`]: runs one command ([`executor::Executor::run_event`]), no network; what the tests drive; runs the
//!   `OnFailure` hook when an event fails;
//! - [`bundle`]: DownloadBundle (reuse a verified local bundle, prune, fetch, verify, extract, unwrap) and the
//!   [`bundle::Fetch`] sources;
//! - [`archive`]: validated two-pass extraction of tar, tgz and zip;
//! - `install`: the Install event (cleanup file, instructions, copy, permissions);
//! - `script`: one hook script (process group, timeout and kill, runas, output streaming);
//! - `proctree`: the processes a script started (found through `/proc`), killed with it at its timeout, or after an
//!   agent restart when the script was orphaned by a crash;
//! - [`layout`]: the on-disk layout under `--root`; [`state`]: stored command results and tracking files;
//! - [`containers`]: the task-set supervisor of container services: reports the task sets it runs on the local
//!   Docker engine (`POST /agent/v1/task-sets`) and makes the engine match the server's answer (start, keep at the
//!   count, stop when withdrawn); off with `--no-containers`;
//! - [`identity`]: the agent's own credential (enrolment with a join token, then signed requests);
//! - [`monitoring`]: Prometheus metrics on `--metrics-listen`;
//! - [`config`]: flags and configuration; [`error`]: the event error type and its diagnostics mapping;
//! - `livelog`: streams a running event's log to the server (bounded, batched, exactly once);
//! - `eventlog`: the per-event log (`scripts.log`, deployments log, what is sent to the server).

pub mod archive;
pub mod bundle;
pub mod command;
pub mod config;
pub mod containers;
pub mod error;
mod eventlog;
pub mod executor;
pub mod identity;
mod install;
pub mod layout;
mod livelog;
pub mod local;
pub mod monitoring;
mod proctree;
pub mod revision;
pub mod runner;
mod script;
pub mod state;
mod util;

pub use config::{AgentConfig, Cli, LogFormat};
pub use error::Error;
pub use eventlog::LineObserver;
pub use executor::{EventOutcome, Executor, ExecutorOptions};
pub use install::InstallSummary;
pub use runner::run;

/// Sends `tracing` output to stderr in `format`, filtered by `RUST_LOG` (default `info`).
pub fn init_tracing(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        // One object per line; the fields of the enclosing spans (deployment_id, instance) are listed with it.
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(false).with_span_list(true).try_init(),
    };
}

/// Completes at the first SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut terminate), Ok(mut interrupt)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt()))
    else {
        tracing::error!("cannot install signal handlers; the agent stops only when killed");
        return std::future::pending().await;
    };
    tokio::select! {
        _ = terminate.recv() => tracing::info!("SIGTERM received; finishing the running commands, then exiting"),
        _ = interrupt.recv() => tracing::info!("SIGINT received; finishing the running commands, then exiting"),
    }
}
