//! Prometheus metrics: `GET /metrics` in the text exposition format.
//!
//! Two kinds of series:
//! - **Read from the store at scrape time** (gauges): deployments by status, queue depths (targets of active
//!   deployments not dispatched yet, lifecycle events ready for an agent, events running, undelivered trigger
//!   notifications) and agent liveness (registered instances heard from within the agent lease, and the others).
//!   They are true for every server sharing the store, and cost a few counting queries per scrape.
//! - **Recorded as things happen** (through the `metrics` facade, kept in this process): agent polls (total, and
//!   held right now), lifecycle event durations as reported by agents (a histogram by event and status), finished
//!   deployments by status, streamed log pieces.
//!
//! The recorder is installed once per process, when the server starts (or on the first `app()`): the facade's
//! macros record nothing before that.

use std::sync::OnceLock;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use cutover_domain::status::DeploymentStatus;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::AppState;

pub(crate) const POLLS: &str = "cutover_agent_polls_total";
pub(crate) const POLLS_WAITING: &str = "cutover_agent_polls_waiting";
pub(crate) const EVENT_DURATION: &str = "cutover_lifecycle_event_duration_seconds";
pub(crate) const DEPLOYMENTS_FINISHED: &str = "cutover_deployments_finished_total";
pub(crate) const LOG_CHUNKS: &str = "cutover_log_chunks_total";

/// Buckets of duration histograms, in seconds: from a no-op event to the default one-hour hook timeout.
const DURATION_BUCKETS: [f64; 14] =
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 120.0, 3600.0];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the process's recorder the first time; None if another recorder was installed first.
pub(crate) fn install() -> Option<&'static PrometheusHandle> {
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
                    tracing::warn!(message = "Cannot install the metrics recorder; /metrics is unavailable.", %error);
                    None
                }
            }
        })
        .as_ref()
}

fn describe() {
    metrics::describe_counter!(POLLS, "Agent long polls answered.");
    metrics::describe_gauge!(POLLS_WAITING, "Agent long polls held by this server right now.");
    metrics::describe_histogram!(
        EVENT_DURATION,
        metrics::Unit::Seconds,
        "Duration of lifecycle events as reported by agents, by event and status."
    );
    metrics::describe_counter!(DEPLOYMENTS_FINISHED, "Deployments this server finished, by status.");
    metrics::describe_counter!(LOG_CHUNKS, "Pieces of hook output stored (streamed by agents or left over).");
    metrics::describe_gauge!("cutover_deployments", "Deployments in the store, by status.");
    metrics::describe_gauge!("cutover_targets_pending", "Targets of active deployments not dispatched yet.");
    metrics::describe_gauge!(
        "cutover_lifecycle_events_ready",
        "Lifecycle events of dispatched targets waiting for their agent."
    );
    metrics::describe_gauge!("cutover_lifecycle_events_running", "Lifecycle events agents are running.");
    metrics::describe_gauge!("cutover_trigger_deliveries_pending", "Trigger notifications not delivered yet.");
    metrics::describe_gauge!(
        "cutover_agents",
        "Registered instances by liveness: live (heard from within the agent lease) or lost."
    );
}

/// Counts a long poll held for as long as the guard lives.
pub(crate) struct PollGuard;

impl PollGuard {
    pub(crate) fn new() -> Self {
        metrics::gauge!(POLLS_WAITING).increment(1.0);
        PollGuard
    }
}

impl Drop for PollGuard {
    fn drop(&mut self) {
        metrics::gauge!(POLLS_WAITING).decrement(1.0);
        metrics::counter!(POLLS).increment(1);
    }
}

/// `GET /metrics`.
pub(crate) async fn serve(State(state): State<AppState>) -> Response {
    let Some(handle) = install() else {
        return (StatusCode::SERVICE_UNAVAILABLE, "metrics recorder unavailable\n").into_response();
    };
    let lease_ms = i64::try_from(state.inner.config.agent_lease_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
    let live_since = state.inner.clock.now_ms().saturating_sub(lease_ms);
    let snapshot = async {
        let mut tx = state.store().begin().await?;
        let snapshot = tx.metrics_snapshot(live_since).await?;
        tx.commit().await?;
        Ok::<_, cutover_store::StoreError>(snapshot)
    }
    .await;
    match snapshot {
        Ok(snapshot) => {
            for status in DeploymentStatus::ALL {
                let count = snapshot.deployments.iter().find(|(s, _)| s == status.as_str()).map_or(0, |(_, n)| *n);
                metrics::gauge!("cutover_deployments", "status" => status.as_str()).set(count as f64);
            }
            metrics::gauge!("cutover_targets_pending").set(snapshot.targets_pending as f64);
            metrics::gauge!("cutover_lifecycle_events_ready").set(snapshot.events_ready as f64);
            metrics::gauge!("cutover_lifecycle_events_running").set(snapshot.events_running as f64);
            metrics::gauge!("cutover_trigger_deliveries_pending").set(snapshot.trigger_deliveries_pending as f64);
            metrics::gauge!("cutover_agents", "state" => "live").set(snapshot.instances_live as f64);
            metrics::gauge!("cutover_agents", "state" => "lost").set(snapshot.instances_lost as f64);
        }
        // The recorded series are still worth serving.
        Err(error) => tracing::error!(message = "Cannot read the store for /metrics.", %error),
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], handle.render()).into_response()
}
