//! The console's pages: applications, groups, deployments, instances, revisions, search.

use std::collections::BTreeMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use cutover_api_types::codedeploy as wire;
use cutover_store::{ApplicationRow, DeploymentGroupRow, DeploymentScope, Tx};
use serde::Deserialize;

use super::view::{
    self, Chrome, DeploymentLine, DeploymentView, TargetView, When, application_href, deployment_href, group_href,
    instance_href, revision_label, status_class, status_text,
};
use super::{ConsoleError, ConsoleResult, ConsoleUser, live};
use crate::AppState;
use crate::convert::{self, DeploymentOptions};

/// Deployments a history table shows.
const HISTORY: i64 = 50;
/// Finished deployments a group's success rate is computed over.
const RATE_WINDOW: i64 = 20;

// ----- applications -----

struct ApplicationLine {
    name: String,
    href: String,
    groups: usize,
    created: When,
    latest: Option<DeploymentLine>,
}

#[derive(Template, WebTemplate)]
#[template(path = "console/applications.html")]
pub(crate) struct ApplicationsPage {
    chrome: Chrome,
    applications: Vec<ApplicationLine>,
}

pub(crate) async fn applications(State(state): State<AppState>, user: ConsoleUser) -> ConsoleResult<ApplicationsPage> {
    let now = state.inner.clock.now_ms();
    let mut tx = state.store().begin().await?;
    let groups = tx.all_deployment_groups().await?;
    let mut lines = Vec::new();
    for app in tx.list_applications().await? {
        let latest = tx.recent_deployments(DeploymentScope::Application(&app.id), 1).await?;
        lines.push(ApplicationLine {
            href: application_href(&app.name),
            groups: groups.iter().filter(|group| group.application_id == app.id).count(),
            created: When::at(app.create_time),
            latest: latest.first().map(|row| DeploymentLine::new(row, now)),
            name: app.name,
        });
    }
    Ok(ApplicationsPage { chrome: Chrome { user: user.name, crumbs: Vec::new() }, applications: lines })
}

// ----- one application -----

/// A group as listed on its application's page.
struct GroupLine {
    name: String,
    href: String,
    config: String,
    current_revision: String,
    active: Option<DeploymentLine>,
    latest: Option<DeploymentLine>,
    success_rate: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "console/application.html")]
pub(crate) struct ApplicationPage {
    chrome: Chrome,
    name: String,
    revisions_href: String,
    created: When,
    groups: Vec<GroupLine>,
    deployments: Vec<DeploymentLine>,
}

async fn find_application(tx: &mut Tx, name: &str) -> ConsoleResult<ApplicationRow> {
    tx.application_by_name(name)
        .await?
        .ok_or_else(|| ConsoleError::NotFound(format!("There is no application named {name}.")))
}

async fn find_group(tx: &mut Tx, app: &ApplicationRow, name: &str) -> ConsoleResult<DeploymentGroupRow> {
    tx.deployment_group_by_name(&app.id, name).await?.ok_or_else(|| {
        ConsoleError::NotFound(format!("Application {} has no deployment group named {name}.", app.name))
    })
}

fn current_revision(group: &DeploymentGroupRow) -> String {
    group.target_revision.as_deref().map(revision_label).unwrap_or_else(|| "none yet".to_owned())
}

pub(crate) async fn application(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(name): Path<String>,
) -> ConsoleResult<ApplicationPage> {
    let now = state.inner.clock.now_ms();
    let mut tx = state.store().begin().await?;
    let app = find_application(&mut tx, &name).await?;
    let mut groups = Vec::new();
    for group in tx.list_deployment_groups(&app.id).await? {
        let recent = tx.recent_deployments(DeploymentScope::Group(&group.id), RATE_WINDOW).await?;
        let active = match &group.active_deployment_id {
            Some(id) => tx.deployment(id).await?.map(|row| DeploymentLine::new(&row, now)),
            None => None,
        };
        groups.push(GroupLine {
            href: group_href(&app.name, &group.name),
            config: group.config_name.clone(),
            current_revision: current_revision(&group),
            active,
            latest: recent.first().map(|row| DeploymentLine::new(row, now)),
            success_rate: view::success_rate(&recent).unwrap_or_else(|| "no finished deployment".to_owned()),
            name: group.name,
        });
    }
    let deployments = tx
        .recent_deployments(DeploymentScope::Application(&app.id), HISTORY)
        .await?
        .iter()
        .map(|row| DeploymentLine::new(row, now))
        .collect();
    Ok(ApplicationPage {
        chrome: Chrome::new(&user.name, &[(&app.name, application_href(&app.name))]),
        revisions_href: format!("{}/revisions", application_href(&app.name)),
        created: When::at(app.create_time),
        name: app.name,
        groups,
        deployments,
    })
}

// ----- one deployment group -----

struct GroupInstanceLine {
    name: String,
    href: String,
    health: &'static str,
    health_class: &'static str,
    revision: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "console/group.html")]
pub(crate) struct GroupPage {
    chrome: Chrome,
    application: String,
    application_href: String,
    name: String,
    config: String,
    targeting: Vec<String>,
    current_revision: String,
    last_success: Option<String>,
    active: Option<String>,
    success_rate: String,
    instances: Vec<GroupInstanceLine>,
    deployments: Vec<DeploymentLine>,
}

/// A group's tag filters, one line each (`env = prod`); a tag set's groups are ANDed, filters within one ORed.
fn targeting(settings: &wire::DeploymentGroupInfo) -> Vec<String> {
    let filter = |filter: &wire::TagFilter| {
        let key = filter.key.as_deref().unwrap_or_default();
        let value = filter.value.as_deref().unwrap_or_default();
        match filter.type_.as_deref().unwrap_or("KEY_AND_VALUE") {
            "KEY_ONLY" => format!("has tag {key}"),
            "VALUE_ONLY" => format!("any tag = {value}"),
            _ => format!("{key} = {value}"),
        }
    };
    let mut lines = Vec::new();
    let single: Vec<String> = settings.on_premises_instance_tag_filters.iter().flatten().map(filter).collect();
    if !single.is_empty() {
        lines.push(single.join(" or "));
    }
    let set = settings.on_premises_tag_set.as_ref().and_then(|set| set.on_premises_tag_set_list.as_ref());
    for group in set.into_iter().flatten() {
        lines.push(group.iter().map(filter).collect::<Vec<_>>().join(" or "));
    }
    lines
}

pub(crate) async fn group(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path((application, name)): Path<(String, String)>,
) -> ConsoleResult<GroupPage> {
    let now = state.inner.clock.now_ms();
    let mut tx = state.store().begin().await?;
    let app = find_application(&mut tx, &application).await?;
    let group = find_group(&mut tx, &app, &name).await?;
    let settings: wire::DeploymentGroupInfo = serde_json::from_str(&group.spec).unwrap_or_default();
    let recent = tx.recent_deployments(DeploymentScope::Group(&group.id), HISTORY.max(RATE_WINDOW)).await?;
    let rate_window = &recent[..recent.len().min(RATE_WINDOW as usize)];
    let mut instances: Vec<GroupInstanceLine> = tx
        .group_instances(&group.id)
        .await?
        .into_iter()
        .map(|record| GroupInstanceLine {
            href: instance_href(&record.instance_name),
            health: if record.healthy { "Healthy" } else { "Unhealthy" },
            health_class: if record.healthy { "ok" } else { "bad" },
            revision: record.revision_key.as_deref().map(revision_label).unwrap_or_else(|| "no revision".to_owned()),
            name: record.instance_name,
        })
        .collect();
    instances.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(GroupPage {
        chrome: Chrome::new(
            &user.name,
            &[(&app.name, application_href(&app.name)), (&group.name, group_href(&app.name, &group.name))],
        ),
        config: group.config_name.clone(),
        targeting: targeting(&settings),
        current_revision: current_revision(&group),
        last_success: group.last_successful_deployment_id.clone(),
        active: group.active_deployment_id.clone(),
        success_rate: view::success_rate(rate_window).unwrap_or_else(|| "no finished deployment".to_owned()),
        instances,
        deployments: recent.iter().take(HISTORY as usize).map(|row| DeploymentLine::new(row, now)).collect(),
        application_href: application_href(&app.name),
        application: app.name,
        name: group.name,
    })
}

// ----- revisions -----

struct RevisionLine {
    label: String,
    origin: String,
    description: String,
    registered: When,
    first_deployed: Option<When>,
    last_deployed: Option<When>,
    deployments: usize,
    groups: Vec<(String, String)>,
}

#[derive(Template, WebTemplate)]
#[template(path = "console/revisions.html")]
pub(crate) struct RevisionsPage {
    chrome: Chrome,
    application: String,
    revisions: Vec<RevisionLine>,
}

/// Revisions kept in the history a revision's deployments are read from.
const REVISION_HISTORY: i64 = 1000;

pub(crate) async fn revisions(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(application): Path<String>,
) -> ConsoleResult<RevisionsPage> {
    let mut tx = state.store().begin().await?;
    let app = find_application(&mut tx, &application).await?;
    let history = tx.recent_deployments(DeploymentScope::Application(&app.id), REVISION_HISTORY).await?;
    // Per revision (by its identity): deployment times and groups, from the deployment history.
    let mut deployed: BTreeMap<String, (i64, i64, usize, Vec<String>)> = BTreeMap::new();
    for row in &history {
        let entry = deployed.entry(convert::revision_key_from_json(&row.revision)).or_insert((
            i64::MAX,
            i64::MIN,
            0,
            Vec::new(),
        ));
        entry.0 = entry.0.min(row.create_time);
        entry.1 = entry.1.max(row.create_time);
        entry.2 += 1;
        if !entry.3.contains(&row.deployment_group_name) {
            entry.3.push(row.deployment_group_name.clone());
        }
    }
    let mut lines = Vec::new();
    for row in tx.list_revisions(&app.id).await? {
        let location: wire::RevisionLocation = serde_json::from_str(&row.location).unwrap_or_default();
        let history = deployed.get(&row.revision_key);
        let mut groups: Vec<String> = history.map(|entry| entry.3.clone()).unwrap_or_default();
        groups.sort();
        lines.push(RevisionLine {
            label: view::location_label(&location),
            origin: view::revision_origin(&location),
            description: row.description.clone().unwrap_or_default(),
            registered: When::at(row.register_time),
            first_deployed: When::maybe(history.map(|entry| entry.0).or(row.first_used_time)),
            last_deployed: When::maybe(history.map(|entry| entry.1).or(row.last_used_time)),
            deployments: history.map(|entry| entry.2).unwrap_or(0),
            groups: groups.into_iter().map(|group| (group_href(&app.name, &group), group)).collect(),
        });
    }
    // Newest first: the most recently deployed, then the most recently registered.
    lines.sort_by(|a, b| {
        let key = |line: &RevisionLine| {
            (line.last_deployed.as_ref().map(|when| when.iso.clone()), line.registered.iso.clone())
        };
        key(b).cmp(&key(a))
    });
    Ok(RevisionsPage {
        chrome: Chrome::new(
            &user.name,
            &[
                (&app.name, application_href(&app.name)),
                ("Revisions", format!("{}/revisions", application_href(&app.name))),
            ],
        ),
        application: app.name,
        revisions: lines,
    })
}

// ----- one deployment, live -----

#[derive(Deserialize)]
pub(crate) struct DeploymentQuery {
    /// Set after an action: what the API answered (`stopped`, `stopping`, `continued`).
    #[serde(default)]
    done: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "console/deployment.html")]
pub(crate) struct DeploymentPage {
    chrome: Chrome,
    application: String,
    application_href: String,
    group: String,
    group_href: String,
    revision: String,
    previous_revision: String,
    creator: String,
    config: String,
    description: String,
    created: When,
    notice: Option<&'static str>,
    live_href: String,
    id: String,
    live_html: String,
}

pub(crate) async fn deployment(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
    Query(query): Query<DeploymentQuery>,
) -> ConsoleResult<DeploymentPage> {
    let now = state.inner.clock.now_ms();
    let mut tx = state.store().begin().await?;
    let row =
        tx.deployment(&id).await?.ok_or_else(|| ConsoleError::NotFound(format!("There is no deployment {id}.")))?;
    let targets = tx.targets(&id).await?;
    let events = tx.events(&id).await?;
    let options = DeploymentOptions::from_json(&row.options);
    let view = DeploymentView::new(&row, &targets, &events, now);
    let live_html = live::DeploymentLive { d: &view }.render()?;
    Ok(DeploymentPage {
        chrome: Chrome::new(
            &user.name,
            &[
                (&row.application_name, application_href(&row.application_name)),
                (&row.deployment_group_name, group_href(&row.application_name, &row.deployment_group_name)),
                (&row.id, deployment_href(&row.id)),
            ],
        ),
        application: row.application_name.clone(),
        application_href: application_href(&row.application_name),
        group: row.deployment_group_name.clone(),
        group_href: group_href(&row.application_name, &row.deployment_group_name),
        revision: revision_label(&row.revision),
        previous_revision: row.previous_revision.as_deref().map(revision_label).unwrap_or_default(),
        creator: row.creator.clone(),
        config: row.config_name.clone(),
        description: options.description.unwrap_or_default(),
        created: When::at(row.create_time),
        notice: match query.done.as_deref() {
            Some("stopped") => Some("The deployment was stopped."),
            Some("stopping") => {
                Some("Stop requested: lifecycle events already running on instances finish first, the rest is skipped.")
            }
            Some("continued") => Some("The deployment continues."),
            _ => None,
        },
        live_href: format!("{}/live?seen={}", deployment_href(&row.id), live::version(&live_html)),
        id: row.id,
        live_html,
    })
}

// ----- one instance of one deployment: timeline and logs, live -----

/// One lifecycle event's log on the target page.
pub(crate) struct LogView {
    pub(crate) position: i64,
    pub(crate) event: String,
    pub(crate) text: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "console/target.html")]
pub(crate) struct TargetPage {
    chrome: Chrome,
    deployment_id: String,
    deployment_href: String,
    instance: String,
    instance_href: String,
    live_href: String,
    deployment_status: String,
    deployment_class: &'static str,
    timeline_html: String,
    logs: Vec<LogView>,
}

pub(crate) async fn target(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path((id, instance)): Path<(String, String)>,
) -> ConsoleResult<TargetPage> {
    let now = state.inner.clock.now_ms();
    let mut tx = state.store().begin().await?;
    let row =
        tx.deployment(&id).await?.ok_or_else(|| ConsoleError::NotFound(format!("There is no deployment {id}.")))?;
    let target = tx
        .target(&id, &instance)
        .await?
        .ok_or_else(|| ConsoleError::NotFound(format!("Instance {instance} is not a target of deployment {id}.")))?;
    let events = tx.target_events(&id, &instance).await?;
    let logs = tx.event_logs(&id, &instance).await?;
    let event_refs: Vec<&cutover_store::EventRow> = events.iter().collect();
    let timeline_html = live::TargetTimeline { t: &TargetView::new(&row.id, &target, &event_refs, now) }.render()?;
    Ok(TargetPage {
        chrome: Chrome::new(
            &user.name,
            &[
                (&row.application_name, application_href(&row.application_name)),
                (&row.deployment_group_name, group_href(&row.application_name, &row.deployment_group_name)),
                (&row.id, deployment_href(&row.id)),
                (&instance, view::target_href(&row.id, &instance)),
            ],
        ),
        deployment_href: deployment_href(&row.id),
        instance_href: instance_href(&instance),
        live_href: format!(
            "{}/live?seen={}&logs={}",
            view::target_href(&row.id, &instance),
            live::version(&timeline_html),
            live::logs_seen(logs.iter().map(|(position, text)| (*position, text.as_str())))
        ),
        deployment_status: status_text(&row.status),
        deployment_class: status_class(&row.status),
        timeline_html,
        logs: events
            .iter()
            .map(|event| LogView {
                position: event.position,
                event: event.name.clone(),
                text: logs
                    .iter()
                    .find(|(position, _)| *position == event.position)
                    .map(|(_, log)| log.clone())
                    .unwrap_or_default(),
            })
            .collect(),
        deployment_id: row.id,
        instance,
    })
}

// ----- instances -----

/// An application's revision on an instance, as its group last left it.
struct RevisionOnInstance {
    application: String,
    group: String,
    group_href: String,
    revision: String,
    healthy: bool,
}

struct InstanceLine {
    name: String,
    href: String,
    tags: Vec<String>,
    agent_version: String,
    hostname: String,
    last_seen: Option<When>,
    last_seen_ago: String,
    liveness: &'static str,
    liveness_class: &'static str,
    registered: When,
    revisions: Vec<RevisionOnInstance>,
}

#[derive(Template, WebTemplate)]
#[template(path = "console/instances.html")]
pub(crate) struct InstancesPage {
    chrome: Chrome,
    lease: String,
    instances: Vec<InstanceLine>,
}

async fn instance_lines(state: &AppState, tx: &mut Tx, only: Option<&str>) -> ConsoleResult<Vec<InstanceLine>> {
    let now = state.inner.clock.now_ms();
    let lease_ms = state.inner.config.agent_lease_secs as i64 * 1000;
    let records = tx.all_group_instances().await?;
    let rows = match only {
        Some(name) => tx.instance(name).await?.into_iter().collect(),
        None => tx.list_instances().await?,
    };
    Ok(rows
        .into_iter()
        .map(|row| {
            let (liveness, liveness_class) = match (row.deregister_time, row.last_seen) {
                (Some(_), _) => ("Deregistered", "skip"),
                (None, None) => ("Never seen", "wait"),
                (None, Some(seen)) if now - seen <= lease_ms => ("Online", "ok"),
                (None, Some(_)) => ("Lost", "bad"),
            };
            InstanceLine {
                href: instance_href(&row.name),
                tags: convert::tags_from_json(&row.tags)
                    .into_iter()
                    .map(|(key, value)| format!("{key}={value}"))
                    .collect(),
                agent_version: row.agent_version.clone().unwrap_or_default(),
                hostname: row.hostname.clone().unwrap_or_default(),
                last_seen: When::maybe(row.last_seen),
                last_seen_ago: row.last_seen.map(|seen| view::ago(now, seen)).unwrap_or_default(),
                liveness,
                liveness_class,
                registered: When::at(row.register_time),
                revisions: records
                    .iter()
                    .filter(|record| record.instance_name == row.name)
                    .map(|record| RevisionOnInstance {
                        application: record.application_name.clone(),
                        group: record.deployment_group_name.clone(),
                        group_href: group_href(&record.application_name, &record.deployment_group_name),
                        revision: record
                            .revision_key
                            .as_deref()
                            .map(revision_label)
                            .unwrap_or_else(|| "no revision".to_owned()),
                        healthy: record.healthy,
                    })
                    .collect(),
                name: row.name,
            }
        })
        .collect())
}

pub(crate) async fn instances(State(state): State<AppState>, user: ConsoleUser) -> ConsoleResult<InstancesPage> {
    let mut tx = state.store().begin().await?;
    let instances = instance_lines(&state, &mut tx, None).await?;
    Ok(InstancesPage {
        chrome: Chrome::new(&user.name, &[("Instances", "/console/instances".to_owned())]),
        lease: view::duration(state.inner.config.agent_lease_secs as i64 * 1000),
        instances,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "console/instance.html")]
pub(crate) struct InstancePage {
    chrome: Chrome,
    i: InstanceLine,
    deployments: Vec<DeploymentLine>,
}

pub(crate) async fn instance(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(name): Path<String>,
) -> ConsoleResult<InstancePage> {
    let now = state.inner.clock.now_ms();
    let mut tx = state.store().begin().await?;
    let line = instance_lines(&state, &mut tx, Some(&name))
        .await?
        .pop()
        .ok_or_else(|| ConsoleError::NotFound(format!("There is no instance named {name}.")))?;
    let deployments = tx
        .recent_deployments(DeploymentScope::Instance(&name), HISTORY)
        .await?
        .iter()
        .map(|row| DeploymentLine::new(row, now))
        .collect();
    Ok(InstancePage {
        chrome: Chrome::new(
            &user.name,
            &[("Instances", "/console/instances".to_owned()), (&line.name, instance_href(&line.name))],
        ),
        i: line,
        deployments,
    })
}

// ----- search -----

#[derive(Deserialize)]
pub(crate) struct SearchQuery {
    #[serde(default)]
    q: String,
}

struct Hit {
    kind: &'static str,
    label: String,
    detail: String,
    href: String,
    exact: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "console/search.html")]
pub(crate) struct SearchPage {
    chrome: Chrome,
    query: String,
    hits: Vec<Hit>,
}

/// Results per kind.
const SEARCH_LIMIT: usize = 20;

/// Finds applications, groups and instances whose name contains the query, and deployments whose id starts with
/// it (with or without `d-`), ignoring case. One exact match (or a single result) goes straight to its page.
pub(crate) async fn search(
    State(state): State<AppState>,
    user: ConsoleUser,
    Query(query): Query<SearchQuery>,
) -> ConsoleResult<Response> {
    let needle = query.q.trim().to_lowercase();
    let mut hits = Vec::new();
    if !needle.is_empty() {
        let mut tx = state.store().begin().await?;
        let matches = |name: &str| name.to_lowercase().contains(&needle);
        for app in tx.list_applications().await?.into_iter().filter(|app| matches(&app.name)).take(SEARCH_LIMIT) {
            hits.push(Hit {
                kind: "Application",
                href: application_href(&app.name),
                detail: String::new(),
                exact: app.name.to_lowercase() == needle,
                label: app.name,
            });
        }
        let groups = tx.all_deployment_groups().await?;
        for group in groups.into_iter().filter(|group| matches(&group.name)).take(SEARCH_LIMIT) {
            hits.push(Hit {
                kind: "Deployment group",
                href: group_href(&group.application_name, &group.name),
                detail: format!("of {}", group.application_name),
                exact: group.name.to_lowercase() == needle,
                label: group.name,
            });
        }
        // Deployment ids are `d-` and upper-case letters and digits; `d-` may be left out.
        let id_prefix = format!("d-{}", needle.strip_prefix("d-").unwrap_or(&needle).to_uppercase());
        let ids = tx.deployment_ids_with_prefix(&id_prefix, SEARCH_LIMIT as i64).await?;
        for id in ids {
            let detail = match tx.deployment(&id).await? {
                Some(row) => {
                    format!("{} / {}, {}", row.application_name, row.deployment_group_name, status_text(&row.status))
                }
                None => String::new(),
            };
            hits.push(Hit {
                kind: "Deployment",
                href: deployment_href(&id),
                detail,
                exact: id.to_lowercase() == needle,
                label: id,
            });
        }
        for row in tx.list_instances().await?.into_iter().filter(|row| matches(&row.name)).take(SEARCH_LIMIT) {
            hits.push(Hit {
                kind: "Instance",
                href: instance_href(&row.name),
                detail: row.hostname.clone().unwrap_or_default(),
                exact: row.name.to_lowercase() == needle,
                label: row.name,
            });
        }
    }
    let exact: Vec<&Hit> = hits.iter().filter(|hit| hit.exact).collect();
    if exact.len() == 1 {
        return Ok(Redirect::to(&exact[0].href).into_response());
    }
    if exact.is_empty() && hits.len() == 1 {
        return Ok(Redirect::to(&hits[0].href).into_response());
    }
    Ok(SearchPage {
        chrome: Chrome::new(&user.name, &[("Search", "/console/search".to_owned())]),
        query: query.q.trim().to_owned(),
        hits,
    }
    .into_response())
}
