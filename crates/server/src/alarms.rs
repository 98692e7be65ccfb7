//! Alarms: CodeDeploy's CloudWatch alarms, read from Prometheus queries and HTTP probes instead.
//!
//! The server's alarm sources are named in a file (`--alarm-config`, TOML or JSON, validated at start); a group's
//! `alarmConfiguration` (or a deployment's `overrideAlarmConfiguration`) names which of them guard its deployments.
//! While a deployment is InProgress, this worker polls its alarms every `--alarm-poll-ms`. An alarm in ALARM stops it
//! ([`orchestrator::stop_for_alarm`]: Stopped, ALARM_ACTIVE, and a rollback if DEPLOYMENT_STOP_ON_ALARM is set);
//! so does an alarm whose state cannot be read (unknown name, source unreachable, bad answer) unless the
//! configuration has `ignorePollAlarmFailure`.
//!
//! The worker holds no state between rounds: which deployments to watch is read from the store every round, so
//! a restarted server resumes watching with nothing to recover. Each alarm is read once per round however many
//! deployments name it.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use cutover_api_types::codedeploy as wire;
use cutover_store::StoreError;
use serde::Deserialize;

use crate::convert::DeploymentOptions;
use crate::error::{ApiError, ApiResult};
use crate::{AppState, orchestrator};

/// CodeDeploy's limits: alarms per configuration and characters per alarm name.
pub(crate) const MAX_ALARMS: usize = 10;
pub(crate) const MAX_ALARM_NAME: usize = 255;

/// Time limit of one read when the file gives none.
const DEFAULT_TIMEOUT_MS: u64 = 5000;

/// Checks an `alarmConfiguration` (a group's, or a deployment's override).
pub(crate) fn validate_configuration(config: &wire::AlarmConfiguration) -> ApiResult<()> {
    let alarms = config.alarms.as_deref().unwrap_or_default();
    if alarms.len() > MAX_ALARMS {
        return Err(ApiError::new(
            "AlarmsLimitExceededException",
            format!("An alarm configuration can name at most {MAX_ALARMS} alarms; {} were given.", alarms.len()),
        ));
    }
    let invalid = |message: String| ApiError::new("InvalidAlarmConfigException", message);
    let mut names = HashSet::new();
    for alarm in alarms {
        let name = alarm.name.as_deref().unwrap_or_default();
        if name.is_empty() {
            return Err(invalid("every alarm needs a non-empty name".to_owned()));
        }
        if name.chars().count() > MAX_ALARM_NAME {
            return Err(invalid(format!("alarm name {name:?} is longer than {MAX_ALARM_NAME} characters")));
        }
        if !names.insert(name) {
            return Err(invalid(format!("alarm {name:?} is named twice")));
        }
    }
    if config.enabled == Some(true) && alarms.is_empty() {
        return Err(invalid("the alarm configuration is enabled but names no alarms".to_owned()));
    }
    Ok(())
}

/// Why the alarm configuration file cannot be used; the server does not start.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AlarmConfigError {
    #[error("alarm configuration {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("alarm configuration {path}: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("cannot set up the alarm HTTP client: {0}")]
    Http(#[from] reqwest::Error),
}

/// The file: `[[alarms]]` entries (TOML) or `{"alarms": [...]}` (JSON).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AlarmFile {
    #[serde(default)]
    alarms: Vec<AlarmEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AlarmEntry {
    name: String,
    prometheus: Option<PrometheusEntry>,
    http: Option<HttpEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PrometheusEntry {
    /// Base URL of the Prometheus server, e.g. `http://prometheus:9090`.
    url: String,
    /// PromQL; the alarm fires while the instant query returns at least one series.
    query: String,
    timeout_ms: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HttpEntry {
    /// Probed with GET; the alarm fires on a non-2xx answer or no answer in time.
    url: String,
    timeout_ms: Option<u64>,
}

/// Where an alarm's state comes from.
#[derive(Debug, Clone, PartialEq)]
enum Source {
    Prometheus { url: reqwest::Url, query: String, timeout: Duration },
    Http { url: reqwest::Url, timeout: Duration },
}

/// An alarm's state in one round.
#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    Ok,
    /// In ALARM, and why.
    Alarm(String),
    /// The state could not be read, and why.
    Unreadable(String),
}

/// The alarms the server knows, by name, with the client that reads them.
pub(crate) struct AlarmSources {
    sources: HashMap<String, Source>,
    http: reqwest::Client,
    poll: Duration,
}

impl AlarmSources {
    /// Reads and validates `--alarm-config` (none: no alarm is known, so enabled alarm configurations stop their
    /// deployments unless they ignore poll failures, as CodeDeploy does for alarms that do not exist).
    pub(crate) fn load(config: &crate::Config) -> Result<AlarmSources, AlarmConfigError> {
        let sources = match &config.alarm_config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|source| AlarmConfigError::Read { path: path.clone(), source })?;
                parse(path, &text).map_err(|message| AlarmConfigError::Invalid { path: path.clone(), message })?
            }
            None => HashMap::new(),
        };
        // Probes are health checks: following a redirect to a login page would hide a failure, so none are followed.
        let http = reqwest::Client::builder()
            .user_agent(concat!("cutover/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        if !sources.is_empty() {
            let mut names: Vec<&String> = sources.keys().collect();
            names.sort();
            tracing::info!(message = "Alarm sources loaded.", alarms = ?names);
        }
        Ok(AlarmSources { sources, http, poll: Duration::from_millis(config.alarm_poll_ms.max(10)) })
    }
}

/// Parses and validates the file; the message names the alarm and field at fault.
fn parse(path: &Path, text: &str) -> Result<HashMap<String, Source>, String> {
    let file: AlarmFile = if path.extension().is_some_and(|ext| ext.eq_ignore_ascii_case("json")) {
        serde_json::from_str(text).map_err(|error| format!("not valid JSON for an alarm file: {error}"))?
    } else {
        toml::from_str(text).map_err(|error| format!("not valid TOML for an alarm file: {error}"))?
    };
    let mut sources = HashMap::new();
    for (index, entry) in file.alarms.into_iter().enumerate() {
        let at = format!("alarm #{} ({:?})", index + 1, entry.name);
        if entry.name.is_empty() || entry.name.chars().count() > MAX_ALARM_NAME {
            return Err(format!("{at}: name must have 1 to {MAX_ALARM_NAME} characters"));
        }
        let timeout = |timeout_ms: Option<u64>| match timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS) {
            0 => Err(format!("{at}: timeout_ms must be positive")),
            ms => Ok(Duration::from_millis(ms)),
        };
        let source = match (entry.prometheus, entry.http) {
            (Some(prometheus), None) => {
                if prometheus.query.trim().is_empty() {
                    return Err(format!("{at}: prometheus.query is empty"));
                }
                Source::Prometheus {
                    url: http_url(&prometheus.url).map_err(|message| format!("{at}: prometheus.url {message}"))?,
                    query: prometheus.query,
                    timeout: timeout(prometheus.timeout_ms)?,
                }
            }
            (None, Some(http)) => Source::Http {
                url: http_url(&http.url).map_err(|message| format!("{at}: http.url {message}"))?,
                timeout: timeout(http.timeout_ms)?,
            },
            _ => {
                return Err(format!(
                    "{at}: needs exactly one of `prometheus = {{ url, query }}` or `http = {{ url, timeout_ms }}`"
                ));
            }
        };
        if sources.insert(entry.name.clone(), source).is_some() {
            return Err(format!("{at}: the name is used twice"));
        }
    }
    Ok(sources)
}

fn http_url(text: &str) -> Result<reqwest::Url, String> {
    let url = reqwest::Url::parse(text).map_err(|error| format!("{text:?} is not a URL ({error})"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(format!("{text:?} is not an http:// or https:// URL"));
    }
    Ok(url)
}

/// Reads one alarm's state.
async fn read(sources: &AlarmSources, name: &str) -> State {
    match sources.sources.get(name) {
        None => State::Unreadable(format!("no alarm named {name:?} is configured on this server (--alarm-config)")),
        Some(Source::Prometheus { url, query, timeout }) => read_prometheus(&sources.http, url, query, *timeout).await,
        Some(Source::Http { url, timeout }) => probe(&sources.http, url, *timeout).await,
    }
}

/// Prometheus' answer to an instant query (`/api/v1/query`).
#[derive(Debug, Deserialize)]
struct QueryResponse {
    status: String,
    #[serde(default)]
    data: Option<QueryData>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct QueryData {
    result_type: String,
    result: serde_json::Value,
}

async fn read_prometheus(http: &reqwest::Client, base: &reqwest::Url, query: &str, timeout: Duration) -> State {
    let endpoint = format!("{}/api/v1/query", base.as_str().trim_end_matches('/'));
    let Ok(url) = reqwest::Url::parse_with_params(&endpoint, [("query", query)]) else {
        return State::Unreadable(format!("cannot build the query URL from {base}"));
    };
    let response = match http.get(url).timeout(timeout).send().await {
        Ok(response) => response,
        Err(error) => {
            return State::Unreadable(format!("Prometheus at {base} cannot be reached: {}", error_chain(&error)));
        }
    };
    let status = response.status();
    let body = match response.bytes().await {
        Ok(body) => body,
        Err(error) => return State::Unreadable(format!("Prometheus at {base}: {}", error_chain(&error))),
    };
    let answer: QueryResponse = match serde_json::from_slice(&body) {
        Ok(answer) => answer,
        Err(_) => {
            let start = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
            return State::Unreadable(format!(
                "Prometheus at {base} answered HTTP {status} with no query result: {start:?}"
            ));
        }
    };
    if answer.status != "success" {
        return State::Unreadable(format!(
            "Prometheus at {base} rejected query `{query}`: {}",
            answer.error.unwrap_or_else(|| format!("status {}", answer.status))
        ));
    }
    match answer.data {
        Some(QueryData { result_type, result: serde_json::Value::Array(series) }) if result_type == "vector" => {
            match series.first() {
                None => State::Ok,
                Some(first) => State::Alarm(format!(
                    "Prometheus query `{query}` returned {} series, e.g. {}",
                    series.len(),
                    describe_series(first)
                )),
            }
        }
        Some(QueryData { result_type, .. }) => {
            State::Unreadable(format!("Prometheus query `{query}` returned a {result_type}, not an instant vector"))
        }
        None => State::Unreadable(format!("Prometheus at {base} answered without data")),
    }
}

/// `name{label="value"} = 1` for one series of a vector result.
fn describe_series(series: &serde_json::Value) -> String {
    let metric = series.get("metric").and_then(serde_json::Value::as_object);
    let name = metric.and_then(|m| m.get("__name__")).and_then(serde_json::Value::as_str).unwrap_or_default();
    let labels: Vec<String> = metric
        .into_iter()
        .flatten()
        .filter(|(key, _)| *key != "__name__")
        .map(|(key, value)| format!("{key}={}", value))
        .collect();
    let value = series.get("value").and_then(|v| v.get(1)).and_then(serde_json::Value::as_str).unwrap_or("?");
    format!("{name}{{{}}} = {value}", labels.join(","))
}

/// An HTTP probe: 2xx is OK; another status or no answer in time is ALARM; no connection is a poll failure.
async fn probe(http: &reqwest::Client, url: &reqwest::Url, timeout: Duration) -> State {
    match http.get(url.clone()).timeout(timeout).send().await {
        Ok(response) if response.status().is_success() => State::Ok,
        Ok(response) => State::Alarm(format!("GET {url} answered HTTP {}", response.status())),
        Err(error) if error.is_timeout() => {
            State::Alarm(format!("GET {url} got no answer within {} ms", timeout.as_millis()))
        }
        Err(error) => State::Unreadable(format!("GET {url} failed: {}", error_chain(&error))),
    }
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

/// The alarm configuration that guards a running deployment, if it is enabled and names alarms.
async fn watched(state: &AppState) -> Result<Vec<(String, wire::AlarmConfiguration)>, StoreError> {
    let mut tx = state.store().begin().await?;
    let mut res = Vec::new();
    for id in tx.active_deployment_ids().await? {
        let Some(deployment) = tx.deployment(&id).await? else { continue };
        if deployment.status != "InProgress" || deployment.stop_requested {
            continue;
        }
        let configuration = match DeploymentOptions::from_json(&deployment.options).override_alarm_configuration {
            Some(configuration) => Some(configuration),
            None => match tx.deployment_group_by_id(&deployment.deployment_group_id).await? {
                Some(group) => {
                    serde_json::from_str::<wire::DeploymentGroupInfo>(&group.spec)
                        .map_err(|error| StoreError::Corrupt(format!("group {}: {error}", group.name)))?
                        .alarm_configuration
                }
                None => None,
            },
        };
        if let Some(configuration) = configuration
            && configuration.enabled == Some(true)
            && configuration.alarms.as_ref().is_some_and(|alarms| !alarms.is_empty())
        {
            res.push((id, configuration));
        }
    }
    Ok(res)
}

/// One round: reads every alarm that guards a running deployment, and stops the deployments they condemn.
async fn poll(state: &AppState, sources: &AlarmSources) -> Result<(), StoreError> {
    let watched = watched(state).await?;
    if watched.is_empty() {
        return Ok(());
    }
    let names: BTreeSet<String> = watched
        .iter()
        .flat_map(|(_, config)| config.alarms.iter().flatten().filter_map(|alarm| alarm.name.clone()))
        .collect();
    let states: HashMap<String, State> = futures_util::future::join_all(names.into_iter().map(|name| async move {
        let state = read(sources, &name).await;
        (name, state)
    }))
    .await
    .into_iter()
    .collect();
    for (deployment_id, config) in watched {
        let ignore_failures = config.ignore_poll_alarm_failure == Some(true);
        let reason = config.alarms.iter().flatten().filter_map(|alarm| alarm.name.as_deref()).find_map(|name| {
            match states.get(name) {
                Some(State::Alarm(why)) => Some(format!("{name}: {why}")),
                Some(State::Unreadable(why)) if !ignore_failures => {
                    Some(format!("{name}: the alarm's state cannot be read ({why}) and ignorePollAlarmFailure is false"))
                }
                Some(State::Unreadable(why)) => {
                    tracing::warn!(message = "Alarm state cannot be read; ignored.", %deployment_id, alarm = %name, %why);
                    None
                }
                _ => None,
            }
        });
        // One deployment that cannot be stopped right now must not spare the others this round.
        if let Some(reason) = reason
            && let Err(error) = orchestrator::stop_for_alarm(state, &deployment_id, &reason).await
        {
            tracing::warn!(message = "Stopping a deployment for an alarm failed; retrying next round.", %deployment_id, %error);
        }
    }
    Ok(())
}

/// The worker: one round every `--alarm-poll-ms` (a slow source delays the next round rather than piling up).
pub(crate) async fn run(state: AppState, sources: AlarmSources) {
    let mut tick = tokio::time::interval(sources.poll);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        // One replica polls the alarms (a source is asked once per round, not once per replica).
        if !crate::replicas::holds_worker(&state, "alarms").await {
            continue;
        }
        if let Err(error) = poll(&state, &sources).await {
            tracing::warn!(message = "Polling alarms failed.", %error);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_and_json_files_parse() {
        let toml = r#"
            [[alarms]]
            name = "errors"
            prometheus = { url = "http://127.0.0.1:9090/", query = "errors > 0" }

            [[alarms]]
            name = "health"
            http = { url = "https://app.example.com/health", timeout_ms = 1500 }
        "#;
        let sources = parse(Path::new("alarms.toml"), toml).expect("valid");
        assert_eq!(
            sources["errors"],
            Source::Prometheus {
                url: reqwest::Url::parse("http://127.0.0.1:9090/").unwrap(),
                query: "errors > 0".to_owned(),
                timeout: Duration::from_millis(DEFAULT_TIMEOUT_MS),
            }
        );
        assert_eq!(
            sources["health"],
            Source::Http {
                url: reqwest::Url::parse("https://app.example.com/health").unwrap(),
                timeout: Duration::from_millis(1500)
            }
        );
        let json = r#"{"alarms": [{"name": "health", "http": {"url": "http://h/health"}}]}"#;
        assert_eq!(parse(Path::new("alarms.JSON"), json).expect("valid").len(), 1);
        assert!(parse(Path::new("empty.toml"), "").expect("valid").is_empty());
    }

    #[test]
    fn bad_files_say_what_is_wrong() {
        let cases = [
            ("[[alarms]]\nname = \"a\"\n", "exactly one of"),
            (
                "[[alarms]]\nname = \"a\"\nhttp = { url = \"h\" }\nprometheus = { url = \"http://p\", query = \"q\" }\n",
                "exactly one of",
            ),
            ("[[alarms]]\nname = \"\"\nhttp = { url = \"http://h\" }\n", "name must have"),
            ("[[alarms]]\nname = \"a\"\nhttp = { url = \"ftp://h\" }\n", "http.url"),
            ("[[alarms]]\nname = \"a\"\nhttp = { url = \"http://h\", timeout_ms = 0 }\n", "timeout_ms"),
            ("[[alarms]]\nname = \"a\"\nprometheus = { url = \"http://p\", query = \" \" }\n", "query is empty"),
            (
                "[[alarms]]\nname = \"a\"\nhttp = { url = \"http://h\" }\n[[alarms]]\nname = \"a\"\nhttp = { url = \"http://h\" }\n",
                "used twice",
            ),
            ("[[alarms]]\nname = \"a\"\nhttp = { url = \"http://h\", timeout = 3 }\n", "unknown field"),
            ("[[alarm]]\nname = \"a\"\n", "unknown field"),
            ("alarms = 3", "not valid TOML"),
        ];
        for (text, expected) in cases {
            let error = parse(Path::new("a.toml"), text).expect_err(text);
            assert!(error.contains(expected), "{text:?}: {error}");
        }
    }

    fn config(enabled: bool, names: &[&str]) -> wire::AlarmConfiguration {
        wire::AlarmConfiguration {
            enabled: Some(enabled),
            ignore_poll_alarm_failure: None,
            alarms: Some(names.iter().map(|name| wire::Alarm { name: Some((*name).to_owned()) }).collect()),
        }
    }

    #[test]
    fn configurations_are_validated_like_codedeploy() {
        let code = |config: &wire::AlarmConfiguration| validate_configuration(config).err().map(|error| error.code());
        assert_eq!(code(&config(true, &["a", "b"])), None);
        assert_eq!(code(&config(false, &[])), None);
        assert_eq!(code(&config(true, &["a"; 11])), Some("AlarmsLimitExceededException"));
        let long = "x".repeat(256);
        for bad in [config(true, &[]), config(true, &[""]), config(true, &["a", "a"]), config(false, &[long.as_str()])]
        {
            assert_eq!(code(&bad), Some("InvalidAlarmConfigException"), "{bad:?}");
        }
    }

    #[test]
    fn series_are_described_with_their_labels() {
        let series = serde_json::json!({"metric": {"__name__": "errors", "job": "web"}, "value": [1.5, "3"]});
        assert_eq!(describe_series(&series), "errors{job=\"web\"} = 3");
    }
}
