//! Deployment group triggers: CodeDeploy's notifications, delivered to webhooks and e-mail instead of SNS.
//!
//! The orchestrator queues an event into the `trigger_events` outbox in the same transaction as the state change it
//! reports, so a notification is never lost and never holds up a deployment. This worker, separate from request
//! handling, does the rest in two steps:
//!
//! 1. **Expansion.** Each new event becomes one delivery per trigger of its group that subscribes to it, with the
//!    message composed right then (CodeDeploy's JSON message), in the same transaction that marks the event
//!    expanded, so a crash in between neither loses nor doubles a delivery.
//! 2. **Delivery.** Due deliveries are sent (webhooks as a signed `POST`, e-mail over SMTP) and the outcome recorded;
//!    failures are retried with exponential backoff. Deliveries to one trigger go out strictly in order: a later
//!    event waits while an earlier one to the same trigger is pending. No transaction is held while sending.
//!
//! Delivery is at least once: a crash between a successful send and recording it sends again after the restart, so
//! receivers that must not act twice deduplicate on `X-Cutover-Delivery`.
//!
//! `triggerTargetArn` is a URL here, not an SNS topic ARN: `http(s)://…` for a webhook (`?format=slack` for a
//! Slack-compatible body) or `mailto:address` for e-mail. `docs/triggers-and-alarms.md` documents the formats.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use cutover_api_types::codedeploy as wire;
use cutover_store::{DeploymentRow, StoreError, TriggerDeliveryRow, TriggerEventRow, Tx};
use futures_util::StreamExt;
use hmac::{Hmac, Mac};
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::error::{ApiError, ApiResult};
use crate::{AppState, Clock, Config};

/// CodeDeploy's limit of triggers per deployment group.
pub(crate) const MAX_TRIGGERS: usize = 10;

/// Region and account of the messages; the same as in the ARNs Cutover hands out (`convert::ARN_PREFIX`).
const REGION: &str = "local";
const ACCOUNT_ID: &str = "000000000000";

/// Name of the generated signing key in the data directory.
const KEY_FILE_NAME: &str = "trigger-signing-key";

/// How often the worker looks for new events and due retries; a new event waits at most this long.
const TICK: Duration = Duration::from_millis(200);

/// Events expanded per transaction: short transactions, because SQLite has one connection for everyone.
const EXPAND_BATCH: i64 = 100;

/// Pending deliveries read per round. Each trigger's oldest pending delivery must be among them to be sent, so
/// this is far above what a healthy server ever has pending.
const PENDING_SCAN: i64 = 10_000;

/// Attempts in flight at once, each to a different trigger.
const CONCURRENCY: usize = 8;

/// Why the trigger worker cannot start.
#[derive(Debug, thiserror::Error)]
pub(crate) enum TriggerSetupError {
    #[error("trigger signing key {path}: {source}")]
    Key { path: PathBuf, source: std::io::Error },
    #[error("trigger signing key {0} is empty")]
    EmptyKey(PathBuf),
    #[error("--smtp-server {0:?}: expected HOST:PORT")]
    SmtpServer(String),
    #[error("--smtp-from {0:?} is not an e-mail address")]
    SmtpFrom(String),
    #[error("cannot set up the webhook HTTP client: {0}")]
    Http(#[from] reqwest::Error),
}

/// Where a trigger sends its notifications, parsed from `triggerTargetArn`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    /// `http(s)://…`; `slack` when the query has `format=slack` (removed from the URL that is called).
    Webhook { url: reqwest::Url, slack: bool },
    /// `mailto:address`.
    Email(Address),
}

fn parse_target(text: &str) -> Result<Target, String> {
    if let Some(address) = text.strip_prefix("mailto:") {
        return Address::from_str(address)
            .map(Target::Email)
            .map_err(|error| format!("{text:?} is not a mailto: URL with one e-mail address ({error})"));
    }
    let mut url = reqwest::Url::parse(text).map_err(|error| {
        format!(
            "triggerTargetArn {text:?} is not a URL ({error}); Cutover sends notifications to an http(s):// webhook or \
             a mailto: address instead of an SNS topic"
        )
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(format!(
            "triggerTargetArn {text:?} must be an http:// or https:// webhook URL or a mailto: address \
             (Cutover does not publish to SNS topics)"
        ));
    }
    let pairs: Vec<(String, String)> = url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let slack = pairs.iter().any(|(k, v)| k == "format" && v == "slack");
    if slack {
        // The option is for Cutover, not for the receiver.
        let rest: Vec<_> = pairs.iter().filter(|(k, v)| !(k == "format" && v == "slack")).collect();
        if rest.is_empty() {
            url.set_query(None);
        } else {
            url.query_pairs_mut().clear().extend_pairs(rest);
        }
    }
    Ok(Target::Webhook { url, slack })
}

/// Checks a group's `triggerConfigurations` (called by CreateDeploymentGroup and UpdateDeploymentGroup).
pub(crate) fn validate(triggers: &[wire::TriggerConfig]) -> ApiResult<()> {
    if triggers.len() > MAX_TRIGGERS {
        return Err(ApiError::new(
            "TriggerTargetsLimitExceededException",
            format!("A deployment group can have at most {MAX_TRIGGERS} triggers; {} were given.", triggers.len()),
        ));
    }
    let invalid = |message: String| ApiError::new("InvalidTriggerConfigException", message);
    let mut names = HashSet::new();
    for trigger in triggers {
        let name = trigger.trigger_name.as_deref().unwrap_or_default();
        if name.trim().is_empty() {
            return Err(invalid("every trigger needs a non-empty triggerName".to_owned()));
        }
        if !names.insert(name) {
            return Err(invalid(format!("trigger name {name:?} is used twice; trigger names must be unique")));
        }
        let events = trigger.trigger_events.as_deref().unwrap_or_default();
        if events.is_empty() {
            return Err(invalid(format!("trigger {name:?} has no triggerEvents")));
        }
        if let Some(event) = events.iter().find(|event| !wire::TRIGGER_EVENT_TYPE_VALUES.contains(&event.as_str())) {
            return Err(invalid(format!(
                "trigger {name:?}: {event:?} is not a trigger event type (one of {})",
                wire::TRIGGER_EVENT_TYPE_VALUES.join(", ")
            )));
        }
        let target = trigger.trigger_target_arn.as_deref().unwrap_or_default();
        parse_target(target).map_err(|message| invalid(format!("trigger {name:?}: {message}")))?;
    }
    Ok(())
}

/// What the worker needs besides the store: the signing key and the clients, set up once at start.
pub(crate) struct TriggerSetup {
    key: Vec<u8>,
    http: reqwest::Client,
    smtp: Option<AsyncSmtpTransport<Tokio1Executor>>,
    smtp_server: Option<String>,
    from: Mailbox,
    timeout: Duration,
    retry_base_ms: u64,
    retry_max_ms: u64,
}

impl TriggerSetup {
    /// Reads (or, on first start, creates) the signing key and builds the HTTP and SMTP clients.
    pub(crate) fn load(config: &Config) -> Result<TriggerSetup, TriggerSetupError> {
        let key = match &config.trigger_signing_key_file {
            Some(path) => read_key(path)?,
            None => load_or_create_key(&config.data_dir.join(KEY_FILE_NAME))?,
        };
        let timeout = Duration::from_millis(config.trigger_timeout_ms.max(1));
        let http = reqwest::Client::builder()
            .user_agent(concat!("cutover/", env!("CARGO_PKG_VERSION")))
            .timeout(timeout)
            .connect_timeout(timeout)
            // A redirected POST would turn into a GET without the body and pass for a delivery.
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let smtp = match &config.smtp_server {
            Some(server) => {
                let (host, port) = server
                    .rsplit_once(':')
                    .and_then(|(host, port)| Some((host.trim_matches(['[', ']']), port.parse::<u16>().ok()?)))
                    .filter(|(host, _)| !host.is_empty())
                    .ok_or_else(|| TriggerSetupError::SmtpServer(server.clone()))?;
                // Plain SMTP without authentication: meant for a local relay, which handles TLS and credentials.
                Some(
                    AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
                        .port(port)
                        .timeout(Some(timeout))
                        .build(),
                )
            }
            None => None,
        };
        let from =
            Mailbox::from_str(&config.smtp_from).map_err(|_| TriggerSetupError::SmtpFrom(config.smtp_from.clone()))?;
        Ok(TriggerSetup {
            key,
            http,
            smtp,
            smtp_server: config.smtp_server.clone(),
            from,
            timeout,
            retry_base_ms: config.trigger_retry_base_ms.max(1),
            retry_max_ms: config.trigger_retry_max_ms.max(config.trigger_retry_base_ms.max(1)),
        })
    }

    /// Delay before the next attempt after `attempts` failed ones: base, 2×base, 4×base … capped.
    fn backoff_ms(&self, attempts: i64) -> u64 {
        let doublings = attempts.clamp(1, 40) as u32 - 1;
        self.retry_base_ms.saturating_mul(1u64 << doublings.min(32)).min(self.retry_max_ms)
    }
}

/// The key is the file's content without surrounding whitespace, used as bytes (so `$(cat file)` works in shells).
fn read_key(path: &Path) -> Result<Vec<u8>, TriggerSetupError> {
    let bytes = std::fs::read(path).map_err(|source| TriggerSetupError::Key { path: path.to_owned(), source })?;
    let key = bytes.trim_ascii().to_vec();
    if key.is_empty() {
        return Err(TriggerSetupError::EmptyKey(path.to_owned()));
    }
    Ok(key)
}

fn load_or_create_key(path: &Path) -> Result<Vec<u8>, TriggerSetupError> {
    if path.exists() {
        return read_key(path);
    }
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let error = |source| TriggerSetupError::Key { path: path.to_owned(), source };
    // 64 hex digits from two v4 UUIDs (244 random bits); the clock is the server's only source of randomness.
    let key = format!("{}{}", Clock.uuid(), Clock.uuid()).replace('-', "");
    // Written aside and renamed, so a crash never leaves a truncated key that later signatures would use.
    let tmp = path.with_extension("tmp");
    let mut file =
        std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&tmp).map_err(error)?;
    file.write_all(format!("{key}\n").as_bytes()).and_then(|()| file.sync_all()).map_err(error)?;
    std::fs::rename(&tmp, path).map_err(error)?;
    tracing::info!(message = "Generated the trigger signing key.", path = %path.display());
    Ok(key.into_bytes())
}

/// `sha256=<hex>`: HMAC-SHA256 of `body` under `key`, the value of `X-Cutover-Signature`.
pub(crate) fn signature(key: &[u8], body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// What a delivery row's `payload` holds: everything needed to send it, fixed at expansion time.
#[derive(Debug, Serialize, Deserialize)]
struct Envelope {
    /// The trigger event type, e.g. `DeploymentFailure` (header `X-Cutover-Event`, e-mail subject).
    event: String,
    /// One line for people: the Slack body and the e-mail subject.
    summary: String,
    /// The exact JSON body of a webhook (CodeDeploy's message), also the body of the e-mail.
    message: String,
}

/// CodeDeploy's message for deployment events (numbers and times as strings, as CodeDeploy writes them).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct DeploymentMessage<'a> {
    region: &'a str,
    account_id: &'a str,
    event_trigger_name: &'a str,
    application_name: &'a str,
    deployment_id: &'a str,
    deployment_group_name: &'a str,
    create_time: String,
    /// Empty until the deployment is complete.
    complete_time: String,
    deployment_overview: Overview,
    status: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_information: Option<ErrorInformation<'a>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Overview {
    failed: String,
    in_progress: String,
    pending: String,
    skipped: String,
    succeeded: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ErrorInformation<'a> {
    error_code: &'a str,
    error_message: &'a str,
}

/// CodeDeploy's message for instance events.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct InstanceMessage<'a> {
    region: &'a str,
    account_id: &'a str,
    event_trigger_name: &'a str,
    deployment_id: &'a str,
    instance_id: String,
    last_updated_at: String,
    instance_status: &'a str,
    lifecycle_events: Vec<LifecycleEventMessage<'a>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct LifecycleEventMessage<'a> {
    lifecycle_event: &'a str,
    lifecycle_event_status: &'a str,
    start_time: String,
    end_time: String,
}

/// Epoch milliseconds as CodeDeploy's epoch-seconds string, e.g. `1446744188.595`.
fn epoch_seconds(ms: i64) -> String {
    format!("{}.{:03}", ms.div_euclid(1000), ms.rem_euclid(1000))
}

/// Facts about an event read from the store at expansion time, from which each trigger's message is written.
enum Facts {
    Deployment { deployment: DeploymentRow, counts: Vec<(String, i64)> },
    Instance { deployment: DeploymentRow, instance: String, events: Vec<cutover_store::EventRow> },
}

async fn facts(tx: &mut Tx, event: &TriggerEventRow) -> Result<Option<Facts>, StoreError> {
    let Some(deployment) = tx.deployment(&event.deployment_id).await? else { return Ok(None) };
    Ok(Some(match &event.instance_name {
        Some(instance) => {
            let events = tx.target_events(&event.deployment_id, instance).await?;
            Facts::Instance { deployment, instance: instance.clone(), events }
        }
        None => {
            let counts = tx.target_status_counts(&event.deployment_id).await?;
            Facts::Deployment { deployment, counts }
        }
    }))
}

/// Writes one trigger's envelope for an event.
fn envelope(event: &TriggerEventRow, facts: &Facts, trigger_name: &str) -> Result<Envelope, serde_json::Error> {
    let (message, summary) = match facts {
        Facts::Deployment { deployment, counts } => {
            let count = |status: &str| counts.iter().find(|(s, _)| s == status).map_or(0, |(_, n)| *n).to_string();
            // Errors belong to the events that end a deployment; a start expanded late must not show a later failure.
            let ended =
                matches!(event.trigger_event.as_str(), "DeploymentFailure" | "DeploymentStop" | "DeploymentSuccess");
            let error_information = match (&deployment.error_code, &deployment.error_message) {
                (Some(code), message) if ended => {
                    Some(ErrorInformation { error_code: code, error_message: message.as_deref().unwrap_or_default() })
                }
                _ => None,
            };
            let message = DeploymentMessage {
                region: REGION,
                account_id: ACCOUNT_ID,
                event_trigger_name: trigger_name,
                application_name: &deployment.application_name,
                deployment_id: &deployment.id,
                deployment_group_name: &deployment.deployment_group_name,
                create_time: epoch_seconds(deployment.create_time),
                complete_time: deployment.complete_time.filter(|_| ended).map(epoch_seconds).unwrap_or_default(),
                deployment_overview: Overview {
                    failed: count("Failed"),
                    in_progress: count("InProgress"),
                    pending: count("Pending"),
                    skipped: count("Skipped"),
                    succeeded: count("Succeeded"),
                },
                status: &event.status,
                error_information,
            };
            let mut summary = format!(
                "Cutover {}: deployment {} of {}/{} is {}",
                event.trigger_event,
                deployment.id,
                deployment.application_name,
                deployment.deployment_group_name,
                event.status
            );
            if let Some(error) = &message.error_information {
                summary.push_str(&format!(" ({}: {})", error.error_code, error.error_message));
            }
            (serde_json::to_string(&message)?, summary)
        }
        Facts::Instance { deployment, instance, events } => {
            let message = InstanceMessage {
                region: REGION,
                account_id: ACCOUNT_ID,
                event_trigger_name: trigger_name,
                deployment_id: &deployment.id,
                instance_id: crate::convert::instance_arn(instance),
                last_updated_at: epoch_seconds(event.create_time),
                instance_status: &event.status,
                lifecycle_events: events
                    .iter()
                    .map(|e| LifecycleEventMessage {
                        lifecycle_event: &e.name,
                        lifecycle_event_status: &e.status,
                        start_time: e.start_time.map(epoch_seconds).unwrap_or_default(),
                        end_time: e.end_time.map(epoch_seconds).unwrap_or_default(),
                    })
                    .collect(),
            };
            let summary = format!(
                "Cutover {}: instance {instance} is {} in deployment {} of {}/{}",
                event.trigger_event,
                event.status,
                deployment.id,
                deployment.application_name,
                deployment.deployment_group_name
            );
            (serde_json::to_string(&message)?, summary)
        }
    };
    Ok(Envelope { event: event.trigger_event.clone(), summary: one_line(&summary), message })
}

/// Subjects and Slack lines must be one line (messages can quote multi-line script output).
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The group's triggers, or none if the group is gone or unreadable (its events then have nowhere to go).
async fn group_triggers(tx: &mut Tx, group_id: &str) -> Result<Vec<wire::TriggerConfig>, StoreError> {
    let Some(group) = tx.deployment_group_by_id(group_id).await? else { return Ok(Vec::new()) };
    match serde_json::from_str::<wire::DeploymentGroupInfo>(&group.spec) {
        Ok(settings) => Ok(settings.trigger_configurations.unwrap_or_default()),
        Err(error) => {
            tracing::error!(message = "Deployment group settings are unreadable; its trigger events are dropped.", group = %group.name, %error);
            Ok(Vec::new())
        }
    }
}

/// Expands one batch of new events into deliveries; returns how many events it expanded.
async fn expand(state: &AppState) -> Result<usize, StoreError> {
    let now = state.inner.clock.now_ms();
    let mut tx = state.store().begin().await?;
    let events = tx.unexpanded_trigger_events(EXPAND_BATCH).await?;
    let mut groups: HashMap<String, Vec<wire::TriggerConfig>> = HashMap::new();
    for event in &events {
        if !groups.contains_key(&event.deployment_group_id) {
            let triggers = group_triggers(&mut tx, &event.deployment_group_id).await?;
            groups.insert(event.deployment_group_id.clone(), triggers);
        }
        let subscribed: Vec<&wire::TriggerConfig> = groups[&event.deployment_group_id]
            .iter()
            .filter(|trigger| trigger.trigger_events.iter().flatten().any(|e| *e == event.trigger_event))
            .collect();
        if !subscribed.is_empty()
            && let Some(facts) = facts(&mut tx, event).await?
        {
            for trigger in subscribed {
                let name = trigger.trigger_name.as_deref().unwrap_or_default();
                let envelope = envelope(event, &facts, name).map_err(|error| StoreError::Corrupt(error.to_string()))?;
                let payload =
                    serde_json::to_string(&envelope).map_err(|error| StoreError::Corrupt(error.to_string()))?;
                tx.insert_trigger_delivery(&TriggerDeliveryRow {
                    seq: event.seq,
                    trigger_name: name.to_owned(),
                    target: trigger.trigger_target_arn.clone().unwrap_or_default(),
                    payload,
                    attempts: 0,
                    next_attempt: now,
                    delivered_time: None,
                    last_error: None,
                })
                .await?;
            }
        }
        tx.mark_trigger_event_expanded(event.seq).await?;
    }
    tx.commit().await?;
    Ok(events.len())
}

/// Sends every due delivery that is the oldest pending one of its trigger; returns whether any was delivered
/// (then the next one of that trigger may be due at once).
async fn deliver_due(state: &AppState, setup: &TriggerSetup) -> Result<bool, StoreError> {
    let now = state.inner.clock.now_ms();
    let pending = {
        let mut tx = state.store().begin().await?;
        tx.pending_trigger_deliveries(PENDING_SCAN).await?
    };
    // In order per trigger: only the oldest pending delivery of each (name, target) may go, and only once due.
    // Triggers of different groups that share a name and a target are ordered together, which costs nothing.
    let mut heads = HashSet::new();
    let due: Vec<TriggerDeliveryRow> = pending
        .into_iter()
        .filter(|delivery| {
            heads.insert((delivery.trigger_name.clone(), delivery.target.clone())) && delivery.next_attempt <= now
        })
        .collect();
    if due.is_empty() {
        return Ok(false);
    }
    let outcomes: Vec<(TriggerDeliveryRow, Result<(), String>)> = futures_util::stream::iter(due)
        .map(|delivery| async move {
            let outcome =
                match tokio::time::timeout(setup.timeout + Duration::from_secs(1), attempt(setup, &delivery)).await {
                    Ok(outcome) => outcome,
                    Err(_) => Err(format!("no answer within {} ms", setup.timeout.as_millis())),
                };
            (delivery, outcome)
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let now = state.inner.clock.now_ms();
    let mut delivered = false;
    let mut tx = state.store().begin().await?;
    for (delivery, outcome) in &outcomes {
        match outcome {
            Ok(()) => {
                delivered = true;
                tx.record_trigger_attempt(delivery.seq, &delivery.trigger_name, Some(now), now, None).await?;
            }
            Err(error) => {
                let retry_in = setup.backoff_ms(delivery.attempts + 1);
                tracing::warn!(
                    message = "Trigger delivery failed; will retry.",
                    trigger = %delivery.trigger_name,
                    seq = delivery.seq,
                    attempt = delivery.attempts + 1,
                    retry_in_ms = retry_in,
                    %error,
                );
                tx.record_trigger_attempt(
                    delivery.seq,
                    &delivery.trigger_name,
                    None,
                    now + retry_in as i64,
                    Some(error),
                )
                .await?;
            }
        }
    }
    tx.commit().await?;
    Ok(delivered)
}

/// One attempt at one delivery; the error says why, for `last_error` and the log.
async fn attempt(setup: &TriggerSetup, delivery: &TriggerDeliveryRow) -> Result<(), String> {
    let envelope: Envelope =
        serde_json::from_str(&delivery.payload).map_err(|error| format!("stored delivery is unreadable: {error}"))?;
    match parse_target(&delivery.target)? {
        Target::Webhook { url, slack } => {
            let body =
                if slack { serde_json::json!({ "text": envelope.summary }).to_string() } else { envelope.message };
            let response = setup
                .http
                .post(url.clone())
                .header("content-type", "application/json")
                .header("x-cutover-event", &envelope.event)
                .header("x-cutover-delivery", delivery_id(delivery.seq, &delivery.trigger_name))
                .header("x-cutover-signature", signature(&setup.key, body.as_bytes()))
                .body(body)
                .send()
                .await
                .map_err(|error| format!("POST {}: {}", redact(&url), error_chain(&error)))?;
            let status = response.status();
            if status.is_success() { Ok(()) } else { Err(format!("POST {} answered HTTP {status}", redact(&url))) }
        }
        Target::Email(to) => {
            let Some(smtp) = &setup.smtp else {
                return Err("mailto: trigger, but the server has no --smtp-server".to_owned());
            };
            let email = Message::builder()
                .from(setup.from.clone())
                .to(Mailbox::new(None, to.clone()))
                .subject(&envelope.summary)
                .header(ContentType::TEXT_PLAIN)
                .body(format!("{}\n\n{}\n", envelope.summary, pretty(&envelope.message)))
                .map_err(|error| format!("cannot write the e-mail: {error}"))?;
            smtp.send(email).await.map_err(|error| {
                format!(
                    "SMTP to {} via {}: {}",
                    to,
                    setup.smtp_server.as_deref().unwrap_or_default(),
                    error_chain(&error)
                )
            })?;
            Ok(())
        }
    }
}

/// `X-Cutover-Delivery`: `<seq>/<trigger name>`, stable across retries. Bytes a header cannot carry (trigger
/// names may be any Unicode) are percent-encoded, so an unusual name never makes a delivery impossible.
fn delivery_id(seq: i64, trigger_name: &str) -> String {
    let mut id = format!("{seq}/");
    for byte in trigger_name.bytes() {
        if (0x20..0x7f).contains(&byte) && byte != b'%' {
            id.push(byte as char);
        } else {
            id.push_str(&format!("%{byte:02X}"));
        }
    }
    id
}

fn pretty(json: &str) -> String {
    serde_json::from_str::<serde_json::Value>(json)
        .and_then(|value| serde_json::to_string_pretty(&value))
        .unwrap_or_else(|_| json.to_owned())
}

/// A URL for logs: without credentials or query, which may hold secrets.
fn redact(url: &reqwest::Url) -> String {
    format!(
        "{}://{}{}",
        url.scheme(),
        url.host_str().unwrap_or_default(),
        url.port().map(|p| format!(":{p}")).unwrap_or_default()
    ) + url.path()
}

/// An error with its causes ("error sending request: connection refused"), since the top one rarely says why.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

/// The worker: expands new events and sends due deliveries, every tick and for as long as there is progress.
pub(crate) async fn run(state: AppState, setup: TriggerSetup) {
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        // One replica delivers, so that a notification is not sent once per replica.
        if !crate::replicas::holds_worker(&state, "triggers").await {
            continue;
        }
        // Drain without waiting for the next tick while there is work: a backlog, or the next event of a trigger
        // whose previous one was just delivered.
        loop {
            let expanded = expand(&state).await.unwrap_or_else(|error| {
                tracing::warn!(message = "Expanding trigger events failed.", %error);
                0
            });
            let delivered = deliver_due(&state, &setup).await.unwrap_or_else(|error| {
                tracing::warn!(message = "Delivering trigger notifications failed.", %error);
                false
            });
            if expanded == 0 && !delivered {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_webhooks_or_mailto() {
        let webhook = |url: &str, slack: bool| Ok(Target::Webhook { url: reqwest::Url::parse(url).unwrap(), slack });
        assert_eq!(parse_target("https://hooks.example.com/x"), webhook("https://hooks.example.com/x", false));
        assert_eq!(parse_target("http://127.0.0.1:9/h?format=slack"), webhook("http://127.0.0.1:9/h", true));
        assert_eq!(parse_target("http://h/x?a=1&format=slack"), webhook("http://h/x?a=1", true));
        assert_eq!(parse_target("http://h/x?format=json"), webhook("http://h/x?format=json", false));
        assert_eq!(
            parse_target("mailto:ops@example.com"),
            Ok(Target::Email(Address::from_str("ops@example.com").unwrap()))
        );
        for bad in
            ["arn:aws:sns:us-east-1:123456789012:topic", "ftp://h/x", "mailto:", "mailto:not an address", "", "http://"]
        {
            assert!(parse_target(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn signature_is_hmac_sha256_hex() {
        // RFC 4231, test case 2.
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn delivery_ids_fit_in_a_header() {
        assert_eq!(delivery_id(7, "deploy hook"), "7/deploy hook");
        assert_eq!(delivery_id(8, "déploiement 100%"), "8/d%C3%A9ploiement 100%25");
        assert!(reqwest::header::HeaderValue::from_str(&delivery_id(9, "a\nb\u{7f}")).is_ok());
    }

    #[test]
    fn times_are_epoch_second_strings() {
        assert_eq!(epoch_seconds(1_446_744_188_595), "1446744188.595");
        assert_eq!(epoch_seconds(5), "0.005");
    }

    fn trigger(name: &str, target: &str, events: &[&str]) -> wire::TriggerConfig {
        wire::TriggerConfig {
            trigger_name: Some(name.to_owned()),
            trigger_target_arn: Some(target.to_owned()),
            trigger_events: Some(events.iter().map(|e| (*e).to_owned()).collect()),
        }
    }

    #[test]
    fn validation_names_the_exception() {
        let ok = trigger("t", "https://h/x", &["DeploymentFailure"]);
        let code = |triggers: &[wire::TriggerConfig]| validate(triggers).err().map(|error| error.code());
        assert_eq!(code(std::slice::from_ref(&ok)), None);
        assert_eq!(code(&vec![ok.clone(); 11]), Some("TriggerTargetsLimitExceededException"));
        let cases = [
            vec![ok.clone(), ok.clone()],
            vec![trigger("", "https://h/x", &["DeploymentFailure"])],
            vec![trigger("t", "https://h/x", &[])],
            vec![trigger("t", "https://h/x", &["DeploymentExploded"])],
            vec![trigger("t", "arn:aws:sns:us-east-1:1:topic", &["DeploymentStart"])],
        ];
        for case in cases {
            assert_eq!(code(&case), Some("InvalidTriggerConfigException"), "{case:?}");
        }
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let setup = TriggerSetup {
            key: b"k".to_vec(),
            http: reqwest::Client::new(),
            smtp: None,
            smtp_server: None,
            from: Mailbox::from_str("a@b.c").unwrap(),
            timeout: Duration::from_secs(1),
            retry_base_ms: 1000,
            retry_max_ms: 300_000,
        };
        let delays: Vec<u64> = (1..=11).map(|n| setup.backoff_ms(n)).collect();
        assert_eq!(delays, [1000, 2000, 4000, 8000, 16000, 32000, 64000, 128000, 256000, 300000, 300000]);
        assert_eq!(setup.backoff_ms(10_000), 300_000);
    }
}
