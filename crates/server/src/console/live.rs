//! Live pages: server-sent event streams that re-render the changing part of a page when the store changes.
//!
//! Each stream polls the store every [`POLL`] with a cheap change stamp and sends, when something moved (and every
//! [`TICK`] while the deployment runs, as the durations of running events grow):
//! - `fragment`: `{"id", "html", "summary"}`, the new HTML of the element with that id (rendered by the same
//!   template as the page), and a sentence for screen readers;
//! - `log` (target pages): `{"position", "mode": "append" | "replace", "text"}`, new output of an event's log;
//! - `end`: the deployment is over and nothing will change; the page's script closes the stream.
//!
//! The page's URL for its stream says what it already shows, so nothing is sent twice; a reconnecting browser
//! (`Last-Event-ID`) gets everything again. Polling rather than in-process notifications keeps the server stateless
//! (any replica can serve a stream).

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::time::Duration;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use serde::Deserialize;
use serde_json::json;

use super::view::{DeploymentView, TargetView, is_terminal};
use super::{ConsoleError, ConsoleResult, ConsoleUser};
use crate::AppState;

/// How often a live page's stream looks at the store.
const POLL: Duration = Duration::from_millis(500);

/// The live part of a deployment page; the page itself renders it once, then its stream again when it changes.
#[derive(Template)]
#[template(path = "console/deployment_live.html")]
pub(crate) struct DeploymentLive<'a> {
    pub(crate) d: &'a DeploymentView,
}

/// The live part of a target page.
#[derive(Template)]
#[template(path = "console/target_timeline.html")]
pub(crate) struct TargetTimeline<'a> {
    pub(crate) t: &'a TargetView,
}

/// Names a rendering of a live part: a page passes the version it shows to its stream (`?seen=`), which then sends
/// the part only once it differs, instead of replacing the page's HTML by the same HTML right after loading.
pub(crate) fn version(html: &str) -> String {
    use sha2::Digest;
    hex::encode(&sha2::Sha256::digest(html.as_bytes())[..8])
}

/// What the page already shows: the version of its live part, and on target pages each log's length and version
/// (`<position>:<bytes>:<version>`, comma-separated), so the stream sends only what is new.
#[derive(Deserialize)]
pub(crate) struct LiveQuery {
    #[serde(default)]
    seen: String,
    #[serde(default)]
    logs: String,
}

/// The `logs` parameter of a target page's stream, for the logs it shows.
pub(crate) fn logs_seen<'a>(logs: impl Iterator<Item = (i64, &'a str)>) -> String {
    logs.filter(|(_, text)| !text.is_empty())
        .map(|(position, text)| format!("{position}:{}:{}", text.len(), version(text)))
        .collect::<Vec<_>>()
        .join(",")
}

fn parse_logs_seen(text: &str) -> HashMap<i64, (usize, String)> {
    text.split(',')
        .filter_map(|item| {
            let mut parts = item.splitn(3, ':');
            let position = parts.next()?.parse().ok()?;
            let length = parts.next()?.parse().ok()?;
            Some((position, (length, parts.next()?.to_owned())))
        })
        .collect()
}

/// A reconnecting `EventSource` names the last event it received: what the page shows is then newer than what its
/// URL says, so the stream starts from nothing and sends everything again.
fn reconnecting(headers: &HeaderMap) -> bool {
    headers.contains_key("last-event-id")
}

/// What a stream does at each look: the events to send, and whether this was the last look.
type Look = (Vec<Event>, bool);

/// A stream that calls `look` at once, then every [`POLL`], sending what it returns, until it says it is done or
/// fails.
fn poll_stream<S, F>(state: S, look: F) -> impl Stream<Item = Result<Event, Infallible>>
where
    S: Send + 'static,
    F: for<'a> FnMut(&'a mut S) -> futures_util::future::BoxFuture<'a, ConsoleResult<Look>> + Send + 'static,
{
    struct Run<S, F> {
        state: S,
        look: F,
        queue: VecDeque<Event>,
        first: bool,
        done: bool,
        sent: u64,
    }
    let run = Run { state, look, queue: VecDeque::new(), first: true, done: false, sent: 0 };
    futures_util::stream::unfold(run, |mut run| async move {
        loop {
            if let Some(event) = run.queue.pop_front() {
                // Ids only so that a reconnecting browser says so (`Last-Event-ID`).
                run.sent += 1;
                return Some((Ok(event.id(run.sent.to_string())), run));
            }
            if run.done {
                return None;
            }
            if !run.first {
                tokio::time::sleep(POLL).await;
            }
            run.first = false;
            match (run.look)(&mut run.state).await {
                Ok((events, done)) => {
                    run.queue.extend(events);
                    if done {
                        run.queue.push_back(Event::default().event("end").data("over"));
                        run.done = true;
                    }
                }
                Err(error) => {
                    if let ConsoleError::Internal(cause) = &error {
                        tracing::warn!(message = "Live console stream ends.", error = %cause);
                    }
                    return None;
                }
            }
        }
    })
}

fn fragment(id: &str, html: &str, summary: &str) -> Event {
    Event::default().event("fragment").data(json!({"id": id, "html": html, "summary": summary}).to_string())
}

struct DeploymentWatch {
    app: AppState,
    id: String,
    stamp: String,
    /// Version of the live part the page shows.
    html: String,
    rendered: tokio::time::Instant,
}

/// How often a running deployment is re-rendered although nothing moved: the durations of running events grow.
const TICK: Duration = Duration::from_secs(5);

/// `GET /console/deployments/{id}/live`: the live part of the deployment page (counts, timelines, failures, actions).
pub(crate) async fn deployment(
    State(app): State<AppState>,
    _user: ConsoleUser,
    Path(id): Path<String>,
    Query(query): Query<LiveQuery>,
    headers: HeaderMap,
) -> ConsoleResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let seen = if reconnecting(&headers) { String::new() } else { query.seen };
    {
        let mut tx = app.store().begin().await?;
        tx.deployment(&id).await?.ok_or_else(|| ConsoleError::NotFound(format!("There is no deployment {id}.")))?;
    }
    let watch = DeploymentWatch { app, id, stamp: String::new(), html: seen, rendered: tokio::time::Instant::now() };
    let stream = poll_stream(watch, |watch| Box::pin(look_at_deployment(watch)));
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

async fn look_at_deployment(watch: &mut DeploymentWatch) -> ConsoleResult<Look> {
    let now = watch.app.inner.clock.now_ms();
    let mut tx = watch.app.store().begin().await?;
    let row = tx
        .deployment(&watch.id)
        .await?
        .ok_or_else(|| ConsoleError::NotFound(format!("deployment {} is gone", watch.id)))?;
    let terminal = is_terminal(&row.status);
    let stamp =
        format!("{}|{}|{}|{:?}", row.status, row.stop_requested, row.options, tx.event_status_stamps(&row.id).await?);
    if stamp == watch.stamp && watch.rendered.elapsed() < TICK {
        return Ok((Vec::new(), false));
    }
    watch.stamp = stamp;
    watch.rendered = tokio::time::Instant::now();
    let targets = tx.targets(&row.id).await?;
    let events = tx.events(&row.id).await?;
    drop(tx);
    let view = DeploymentView::new(&row, &targets, &events, now);
    let html = DeploymentLive { d: &view }.render()?;
    let mut out = Vec::new();
    let rendered = version(&html);
    if rendered != watch.html {
        out.push(fragment("live", &html, &view.summary));
        watch.html = rendered;
    }
    Ok((out, terminal))
}

struct TargetWatch {
    app: AppState,
    id: String,
    instance: String,
    /// Version of the timeline the page shows.
    html: String,
    stamp: String,
    rendered: tokio::time::Instant,
    /// Length and version of the log each event's `<pre>` holds, as far as this stream knows.
    sent: HashMap<i64, (usize, String)>,
}

/// `GET /console/deployments/{id}/instances/{instance}/live`: the instance's timeline, and its logs as they grow.
pub(crate) async fn target(
    State(app): State<AppState>,
    _user: ConsoleUser,
    Path((id, instance)): Path<(String, String)>,
    Query(query): Query<LiveQuery>,
    headers: HeaderMap,
) -> ConsoleResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let (seen, logs) = if reconnecting(&headers) {
        (String::new(), HashMap::new())
    } else {
        (query.seen, parse_logs_seen(&query.logs))
    };
    {
        let mut tx = app.store().begin().await?;
        tx.target(&id, &instance).await?.ok_or_else(|| {
            ConsoleError::NotFound(format!("Instance {instance} is not a target of deployment {id}."))
        })?;
    }
    let watch = TargetWatch {
        app,
        id,
        instance,
        html: seen,
        stamp: String::new(),
        rendered: tokio::time::Instant::now(),
        sent: logs,
    };
    let stream = poll_stream(watch, |watch| Box::pin(look_at_target(watch)));
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

async fn look_at_target(watch: &mut TargetWatch) -> ConsoleResult<Look> {
    let now = watch.app.inner.clock.now_ms();
    let mut tx = watch.app.store().begin().await?;
    let row = tx
        .deployment(&watch.id)
        .await?
        .ok_or_else(|| ConsoleError::NotFound(format!("deployment {} is gone", watch.id)))?;
    let target = tx
        .target(&watch.id, &watch.instance)
        .await?
        .ok_or_else(|| ConsoleError::NotFound(format!("target {} is gone", watch.instance)))?;
    let events = tx.target_events(&watch.id, &watch.instance).await?;
    let sizes = tx.event_log_sizes(&watch.id, &watch.instance).await?;
    let terminal = is_terminal(&row.status);
    let stamp = format!("{}|{:?}|{:?}", row.status, events, sizes);
    let moved = stamp != watch.stamp;
    if !moved && watch.rendered.elapsed() < TICK {
        return Ok((Vec::new(), false));
    }
    watch.stamp = stamp;
    watch.rendered = tokio::time::Instant::now();
    let logs = if moved { tx.event_logs(&watch.id, &watch.instance).await? } else { Vec::new() };
    drop(tx);
    let mut out = Vec::new();
    let refs: Vec<&cutover_store::EventRow> = events.iter().collect();
    let view = TargetView::new(&watch.id, &target, &refs, now);
    let html = TargetTimeline { t: &view }.render()?;
    let rendered = version(&html);
    if rendered != watch.html {
        let summary = format!("{}: {}.", view.instance, view.status);
        out.push(fragment("timeline", &html, &summary));
        watch.html = rendered;
    }
    for (position, text) in logs {
        let current = (text.len(), version(&text));
        // What the page holds is a prefix of the log (it grew), or something else (the final log replaced it).
        let piece = match watch.sent.get(&position) {
            Some(known) if *known == current => continue,
            Some((length, hash))
                if *length > 0 && text.is_char_boundary(*length) && version(&text[..*length]) == *hash =>
            {
                ("append", &text[*length..])
            }
            _ => ("replace", text.as_str()),
        };
        let data = json!({"position": position, "mode": piece.0, "text": piece.1}).to_string();
        out.push(Event::default().event("log").data(data));
        watch.sent.insert(position, current);
    }
    Ok((out, terminal))
}
