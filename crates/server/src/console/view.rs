//! What the templates show: rows of the store turned into text (times, durations, revision names, status classes).
//!
//! Templates only print fields; every decision about wording and formatting is made here.

use cutover_api_types::codedeploy as wire;
use cutover_domain::time::{civil, rfc3339_ms};
use cutover_store::{DeploymentRow, EventRow, TargetRow};

use crate::convert::DeploymentOptions;

/// The page frame: who is signed in and where the page sits (breadcrumbs, the last one is the page itself).
pub(crate) struct Chrome {
    pub(crate) user: String,
    pub(crate) crumbs: Vec<Crumb>,
}

pub(crate) struct Crumb {
    pub(crate) label: String,
    pub(crate) href: String,
}

impl Chrome {
    pub(crate) fn new(user: &str, crumbs: &[(&str, String)]) -> Chrome {
        let mut all = vec![Crumb { label: "Applications".to_owned(), href: "/console".to_owned() }];
        all.extend(crumbs.iter().map(|(label, href)| Crumb { label: (*label).to_owned(), href: href.clone() }));
        Chrome { user: user.to_owned(), crumbs: all }
    }
}

/// A point in time, for people (UTC) and for `<time datetime>`.
pub(crate) struct When {
    pub(crate) text: String,
    pub(crate) iso: String,
}

impl When {
    pub(crate) fn at(epoch_ms: i64) -> When {
        let (year, month, day, hour, minute, second) = civil(epoch_ms.div_euclid(1000));
        When {
            text: format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02} UTC"),
            iso: rfc3339_ms(epoch_ms),
        }
    }

    pub(crate) fn maybe(epoch_ms: Option<i64>) -> Option<When> {
        epoch_ms.map(When::at)
    }
}

/// `850 ms`, `12.3 s`, `4 min 05 s`, `2 h 03 min`.
pub(crate) fn duration(ms: i64) -> String {
    let ms = ms.max(0);
    if ms < 1000 {
        format!("{ms} ms")
    } else if ms < 60_000 {
        format!("{:.1} s", ms as f64 / 1000.0)
    } else if ms < 3_600_000 {
        format!("{} min {:02} s", ms / 60_000, ms % 60_000 / 1000)
    } else {
        format!("{} h {:02} min", ms / 3_600_000, ms % 3_600_000 / 60_000)
    }
}

/// `12 s ago`, `3 min ago`, …
pub(crate) fn ago(now_ms: i64, then_ms: i64) -> String {
    let secs = (now_ms - then_ms).max(0) / 1000;
    match secs {
        0..60 => format!("{secs} s ago"),
        60..3600 => format!("{} min ago", secs / 60),
        3600..86_400 => format!("{} h ago", secs / 3600),
        _ => format!("{} d ago", secs / 86_400),
    }
}

/// The CSS class of a status (its colour and symbol; the status is always written out too).
pub(crate) fn status_class(status: &str) -> &'static str {
    match status {
        "Succeeded" => "ok",
        "Failed" => "bad",
        "Stopped" => "stop",
        "InProgress" => "run",
        "Skipped" => "skip",
        _ => "wait",
    }
}

/// People's words for the API's status names.
pub(crate) fn status_text(status: &str) -> String {
    match status {
        "InProgress" => "In progress".to_owned(),
        other => other.to_owned(),
    }
}

pub(crate) fn is_terminal(status: &str) -> bool {
    matches!(status, "Succeeded" | "Failed" | "Stopped")
}

/// A revision location (stored JSON) named for people: `s3://bucket/key`, `github:owner/repo@commit`, …
pub(crate) fn revision_label(json: &str) -> String {
    match serde_json::from_str::<wire::RevisionLocation>(json) {
        Ok(location) => location_label(&location),
        Err(_) => "unknown revision".to_owned(),
    }
}

pub(crate) fn location_label(location: &wire::RevisionLocation) -> String {
    if let Some(s3) = &location.s3_location {
        let mut label =
            format!("s3://{}/{}", s3.bucket.as_deref().unwrap_or_default(), s3.key.as_deref().unwrap_or_default());
        if let Some(version) = s3.version.as_deref().filter(|version| !version.is_empty()) {
            label.push_str(&format!(" (version {version})"));
        }
        return label;
    }
    if let Some(github) = &location.git_hub_location {
        let commit = github.commit_id.as_deref().unwrap_or_default();
        return format!(
            "github:{}@{}",
            github.repository.as_deref().unwrap_or_default(),
            commit.get(..12).unwrap_or(commit)
        );
    }
    if location.string.is_some() || location.app_spec_content.is_some() {
        return "inline AppSpec".to_owned();
    }
    "unknown revision".to_owned()
}

/// Where a revision came from, in more detail than its label: type, content identity and bundle type.
pub(crate) fn revision_origin(location: &wire::RevisionLocation) -> String {
    if let Some(s3) = &location.s3_location {
        let mut parts = vec!["S3 object in Cutover's revision store".to_owned()];
        if let Some(bundle_type) = s3.bundle_type.as_deref() {
            parts.push(format!("{bundle_type} bundle"));
        }
        if let Some(etag) = s3.e_tag.as_deref().map(|etag| etag.trim_matches('"')).filter(|etag| !etag.is_empty()) {
            parts.push(format!("ETag {}", etag.get(..16).unwrap_or(etag)));
        }
        return parts.join(", ");
    }
    if location.git_hub_location.is_some() {
        return "GitHub commit, fetched by the server".to_owned();
    }
    "AppSpec sent with the request".to_owned()
}

/// One deployment in a history table.
pub(crate) struct DeploymentLine {
    pub(crate) id: String,
    pub(crate) href: String,
    pub(crate) application: String,
    pub(crate) application_href: String,
    pub(crate) group: String,
    pub(crate) group_href: String,
    pub(crate) status: String,
    pub(crate) class: &'static str,
    pub(crate) revision: String,
    pub(crate) creator: String,
    pub(crate) created: When,
    pub(crate) duration: String,
}

impl DeploymentLine {
    pub(crate) fn new(row: &DeploymentRow, now_ms: i64) -> DeploymentLine {
        let end = row.complete_time.unwrap_or(now_ms);
        DeploymentLine {
            id: row.id.clone(),
            href: deployment_href(&row.id),
            application: row.application_name.clone(),
            application_href: application_href(&row.application_name),
            group: row.deployment_group_name.clone(),
            group_href: group_href(&row.application_name, &row.deployment_group_name),
            status: status_text(&row.status),
            class: status_class(&row.status),
            revision: revision_label(&row.revision),
            creator: row.creator.clone(),
            created: When::at(row.create_time),
            duration: match row.start_time {
                Some(start) => duration(end - start),
                None => String::new(),
            },
        }
    }
}

/// Success of a group's recent finished deployments: `4 of 5 (80%)`, or None before the first one finished.
pub(crate) fn success_rate(recent: &[DeploymentRow]) -> Option<String> {
    let finished: Vec<&DeploymentRow> = recent.iter().filter(|row| is_terminal(&row.status)).collect();
    if finished.is_empty() {
        return None;
    }
    let succeeded = finished.iter().filter(|row| row.status == "Succeeded").count();
    Some(format!("{succeeded} of {} ({}%)", finished.len(), succeeded * 100 / finished.len()))
}

/// Links. Names are URL path segments: CodeDeploy's names are `[A-Za-z0-9+=,.@_-]`, but encode anyway.
pub(crate) fn segment(name: &str) -> String {
    let mut res = String::with_capacity(name.len());
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~=,@".contains(&byte) {
            res.push(byte as char);
        } else {
            res.push_str(&format!("%{byte:02X}"));
        }
    }
    res
}

pub(crate) fn application_href(application: &str) -> String {
    format!("/console/applications/{}", segment(application))
}

pub(crate) fn group_href(application: &str, group: &str) -> String {
    format!("/console/applications/{}/groups/{}", segment(application), segment(group))
}

pub(crate) fn deployment_href(id: &str) -> String {
    format!("/console/deployments/{}", segment(id))
}

pub(crate) fn target_href(deployment_id: &str, instance: &str) -> String {
    format!("/console/deployments/{}/instances/{}", segment(deployment_id), segment(instance))
}

pub(crate) fn instance_href(instance: &str) -> String {
    format!("/console/instances/{}", segment(instance))
}

/// The live part of a deployment page.
pub(crate) struct DeploymentView {
    pub(crate) status: String,
    pub(crate) class: &'static str,
    pub(crate) terminal: bool,
    pub(crate) stop_requested: bool,
    pub(crate) ready: bool,
    pub(crate) counts: Vec<Count>,
    pub(crate) targets: Vec<TargetView>,
    pub(crate) failures: Vec<FailureView>,
    pub(crate) started: Option<When>,
    pub(crate) completed: Option<When>,
    pub(crate) duration: String,
    pub(crate) error: Option<String>,
    pub(crate) rollback_of: Option<String>,
    pub(crate) rolled_back_by: Option<String>,
    pub(crate) rollback_message: Option<String>,
    /// One sentence for screen readers, announced when it changes.
    pub(crate) summary: String,
    pub(crate) stop_href: String,
    pub(crate) stop_rollback_href: String,
    pub(crate) continue_href: String,
}

pub(crate) struct Count {
    pub(crate) label: &'static str,
    pub(crate) value: usize,
    pub(crate) class: &'static str,
}

/// One instance of a deployment: its status and the timeline of its lifecycle events.
pub(crate) struct TargetView {
    pub(crate) instance: String,
    pub(crate) href: String,
    pub(crate) status: String,
    pub(crate) class: &'static str,
    pub(crate) events: Vec<EventView>,
    pub(crate) elapsed: String,
}

pub(crate) struct EventView {
    pub(crate) position: i64,
    pub(crate) name: String,
    pub(crate) status: String,
    pub(crate) class: &'static str,
    pub(crate) duration: String,
    /// Share of the instance's elapsed time, for the timeline bar (whole percent, at least 1 for a run event).
    pub(crate) share: i64,
    pub(crate) started: Option<When>,
    pub(crate) ended: Option<When>,
    pub(crate) error_code: String,
    pub(crate) script: String,
    pub(crate) message: String,
}

/// Why an instance failed: the failed event's diagnostics and the end of its log.
pub(crate) struct FailureView {
    pub(crate) instance: String,
    pub(crate) href: String,
    pub(crate) event: String,
    pub(crate) error_code: String,
    pub(crate) script: String,
    pub(crate) message: String,
    pub(crate) log_tail: String,
}

const COUNT_ORDER: [(&str, &str); 6] = [
    ("Pending", "Pending"),
    ("InProgress", "In progress"),
    ("Succeeded", "Succeeded"),
    ("Failed", "Failed"),
    ("Skipped", "Skipped"),
    ("Ready", "Ready"),
];

impl DeploymentView {
    pub(crate) fn new(row: &DeploymentRow, targets: &[TargetRow], events: &[EventRow], now_ms: i64) -> DeploymentView {
        let options = DeploymentOptions::from_json(&row.options);
        let counts: Vec<Count> = COUNT_ORDER
            .iter()
            .map(|(status, label)| Count {
                label,
                value: targets.iter().filter(|target| target.status == *status).count(),
                class: status_class(status),
            })
            .filter(|count| count.value > 0 || count.label != "Ready")
            .collect();
        let target_views: Vec<TargetView> = targets
            .iter()
            .map(|target| {
                let own: Vec<&EventRow> =
                    events.iter().filter(|event| event.instance_name == target.instance_name).collect();
                TargetView::new(&row.id, target, &own, now_ms)
            })
            .collect();
        let failures = targets
            .iter()
            .filter(|target| target.status == "Failed")
            .filter_map(|target| {
                let failed = events
                    .iter()
                    .find(|event| event.instance_name == target.instance_name && event.status == "Failed")?;
                Some(FailureView {
                    instance: target.instance_name.clone(),
                    href: target_href(&row.id, &target.instance_name),
                    event: failed.name.clone(),
                    error_code: failed.error_code.clone().unwrap_or_default(),
                    script: failed.script_name.clone().unwrap_or_default(),
                    message: failed.message.clone().unwrap_or_default(),
                    log_tail: failed.log_tail.clone().unwrap_or_default(),
                })
            })
            .collect();
        let rollback = options.rollback_info.as_ref();
        let terminal = is_terminal(&row.status);
        let mut summary = format!("Deployment {}.", status_text(&row.status));
        for count in counts.iter().filter(|count| count.value > 0) {
            summary.push_str(&format!(" {}: {}.", count.label, count.value));
        }
        if row.stop_requested && !terminal {
            summary.push_str(" Stopping.");
        }
        DeploymentView {
            status: status_text(&row.status),
            class: status_class(&row.status),
            terminal,
            stop_requested: row.stop_requested,
            ready: row.status == "Ready",
            counts,
            targets: target_views,
            failures,
            started: When::maybe(row.start_time),
            completed: When::maybe(row.complete_time),
            duration: row
                .start_time
                .map(|start| duration(row.complete_time.unwrap_or(now_ms) - start))
                .unwrap_or_default(),
            error: row.error_code.as_ref().map(|code| match &row.error_message {
                Some(message) => format!("{code}: {message}"),
                None => code.clone(),
            }),
            rollback_of: rollback.and_then(|info| info.rollback_triggering_deployment_id.clone()),
            rolled_back_by: rollback.and_then(|info| info.rollback_deployment_id.clone()),
            rollback_message: rollback.and_then(|info| info.rollback_message.clone()),
            summary,
            stop_href: format!("{}/confirm/stop", deployment_href(&row.id)),
            stop_rollback_href: format!("{}/confirm/stop-and-roll-back", deployment_href(&row.id)),
            continue_href: format!("{}/confirm/continue", deployment_href(&row.id)),
        }
    }
}

impl TargetView {
    pub(crate) fn new(deployment_id: &str, target: &TargetRow, events: &[&EventRow], now_ms: i64) -> TargetView {
        let first_start = events.iter().filter_map(|event| event.start_time).min();
        let last_end = if events.iter().any(|event| event.status == "InProgress") {
            Some(now_ms)
        } else {
            events.iter().filter_map(|event| event.end_time).max()
        };
        let elapsed = match (first_start, last_end) {
            (Some(start), Some(end)) => end - start,
            _ => 0,
        };
        let views = events
            .iter()
            .map(|event| {
                let took = event.start_time.map(|start| event.end_time.unwrap_or(now_ms) - start);
                EventView {
                    position: event.position,
                    name: event.name.clone(),
                    status: status_text(&event.status),
                    class: status_class(&event.status),
                    duration: took.map(duration).unwrap_or_default(),
                    share: match took {
                        Some(took) if elapsed > 0 => (took * 100 / elapsed).clamp(1, 100),
                        _ => 0,
                    },
                    started: When::maybe(event.start_time),
                    ended: When::maybe(event.end_time),
                    error_code: event.error_code.clone().filter(|code| code != "Success").unwrap_or_default(),
                    script: event.script_name.clone().unwrap_or_default(),
                    message: event.message.clone().filter(|_| event.status == "Failed").unwrap_or_default(),
                }
            })
            .collect();
        TargetView {
            instance: target.instance_name.clone(),
            href: target_href(deployment_id, &target.instance_name),
            status: status_text(&target.status),
            class: status_class(&target.status),
            events: views,
            elapsed: if elapsed > 0 { duration(elapsed) } else { String::new() },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(850), "850 ms");
        assert_eq!(duration(12_340), "12.3 s");
        assert_eq!(duration(245_000), "4 min 05 s");
        assert_eq!(duration(7_380_000), "2 h 03 min");
        assert_eq!(duration(-5), "0 ms");
    }

    #[test]
    fn revisions_are_named_by_their_location() {
        let s3 = r#"{"revisionType":"S3","s3Location":{"bucket":"b","key":"app/v1.tgz","bundleType":"tgz"}}"#;
        assert_eq!(revision_label(s3), "s3://b/app/v1.tgz");
        let git =
            r#"{"revisionType":"GitHub","gitHubLocation":{"repository":"o/r","commitId":"0123456789abcdef0123"}}"#;
        assert_eq!(revision_label(git), "github:o/r@0123456789ab");
        assert_eq!(revision_label("not json"), "unknown revision");
    }

    #[test]
    fn segments_are_escaped() {
        assert_eq!(segment("web-1.prod"), "web-1.prod");
        assert_eq!(segment("a b/c"), "a%20b%2Fc");
    }

    #[test]
    fn times_are_utc() {
        let when = When::at(1_795_305_614_250);
        assert_eq!(when.text, "2026-11-22 00:00:14 UTC");
        assert_eq!(when.iso, "2026-11-22T00:00:14.250Z");
    }
}
