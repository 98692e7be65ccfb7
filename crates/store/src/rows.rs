//! Row types: what the store reads and writes, in storage terms (epoch-ms times, JSON documents as text).
//!
//! The server owns the meaning of the JSON columns; the store only moves them.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::Result;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicationRow {
    pub id: String,
    pub name: String,
    pub compute_platform: String,
    pub create_time: i64,
    /// JSON list of `[key, value]` pairs.
    pub tags: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentConfigRow {
    pub id: String,
    pub name: String,
    pub compute_platform: String,
    /// JSON: the configuration's settings.
    pub spec: String,
    pub create_time: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentGroupRow {
    pub id: String,
    pub application_id: String,
    /// Filled from the applications table on reads.
    pub application_name: String,
    pub name: String,
    pub config_name: String,
    /// JSON: the group's settings.
    pub spec: String,
    /// JSON RevisionLocation of the last successful deployment.
    pub target_revision: Option<String>,
    pub last_successful_deployment_id: Option<String>,
    pub last_attempted_deployment_id: Option<String>,
    pub active_deployment_id: Option<String>,
    pub create_time: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevisionRow {
    pub application_id: String,
    /// Canonical identity of the revision location.
    pub revision_key: String,
    /// JSON RevisionLocation.
    pub location: String,
    pub description: Option<String>,
    pub register_time: i64,
    pub first_used_time: Option<i64>,
    pub last_used_time: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRow {
    pub bucket: String,
    pub key: String,
    pub sha256: String,
    pub size: i64,
    pub create_time: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceRow {
    pub name: String,
    pub arn: String,
    pub iam_user_arn: Option<String>,
    pub iam_session_arn: Option<String>,
    pub register_time: i64,
    pub deregister_time: Option<i64>,
    /// JSON list of `[key, value]` pairs.
    pub tags: String,
    pub agent_version: Option<String>,
    pub hostname: Option<String>,
    pub last_seen: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentRow {
    pub id: String,
    pub application_id: String,
    pub application_name: String,
    pub deployment_group_id: String,
    pub deployment_group_name: String,
    pub config_name: String,
    pub status: String,
    pub creator: String,
    /// JSON RevisionLocation.
    pub revision: String,
    /// JSON: where agents download the bundle (the server's resolved bundle spec).
    pub bundle: String,
    pub previous_revision: Option<String>,
    /// JSON: deployment options (description, fileExistsBehavior, ...).
    pub options: String,
    pub min_healthy: Option<i64>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub stop_requested: bool,
    pub create_time: i64,
    pub start_time: Option<i64>,
    pub complete_time: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetRow {
    pub deployment_id: String,
    pub instance_name: String,
    /// Dispatch order.
    pub position: i64,
    pub status: String,
    pub last_updated: i64,
    /// `Blue` (original) or `Green` (replacement) in a blue/green deployment; None in place.
    pub role: Option<String>,
}

/// A target of a deployment being created, with its events in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedTarget {
    pub instance_name: String,
    pub role: Option<String>,
    pub events: Vec<PlannedEvent>,
}

/// One lifecycle event of a [`PlannedTarget`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedEvent {
    pub name: String,
    /// The deployment phase from which it may run: a blue/green deployment moves phase by phase once every event of
    /// the earlier phases closed; in-place deployments have only phase 0.
    pub phase: i64,
    /// Run by the server (BlockTraffic, AllowTraffic), not by the host's agent.
    pub server: bool,
}

impl PlannedEvent {
    pub fn agent(name: &str, phase: i64) -> PlannedEvent {
        PlannedEvent { name: name.to_owned(), phase, server: false }
    }

    pub fn server(name: &str, phase: i64) -> PlannedEvent {
        PlannedEvent { name: name.to_owned(), phase, server: true }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRow {
    pub deployment_id: String,
    pub instance_name: String,
    pub position: i64,
    pub name: String,
    pub status: String,
    pub start_time: Option<i64>,
    pub end_time: Option<i64>,
    pub error_code: Option<String>,
    pub script_name: Option<String>,
    pub message: Option<String>,
    pub log_tail: Option<String>,
    /// The deployment phase from which the event may run (0 for every in-place event).
    pub phase: i64,
    /// Who runs it: `agent` (the host) or `server` (traffic events driving the router).
    pub runner: String,
}

/// Per-group health of an instance, as of the end of the group's last deployment that touched it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupInstanceRow {
    pub deployment_group_id: String,
    pub instance_name: String,
    pub healthy: bool,
    pub revision_key: Option<String>,
}

pub(crate) fn application(row: &AnyRow) -> Result<ApplicationRow> {
    Ok(ApplicationRow {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        compute_platform: row.try_get("compute_platform")?,
        create_time: row.try_get("create_time")?,
        tags: row.try_get("tags")?,
    })
}

pub(crate) fn deployment_config(row: &AnyRow) -> Result<DeploymentConfigRow> {
    Ok(DeploymentConfigRow {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        compute_platform: row.try_get("compute_platform")?,
        spec: row.try_get("spec")?,
        create_time: row.try_get("create_time")?,
    })
}

pub(crate) fn deployment_group(row: &AnyRow) -> Result<DeploymentGroupRow> {
    Ok(DeploymentGroupRow {
        id: row.try_get("id")?,
        application_id: row.try_get("application_id")?,
        application_name: row.try_get("application_name")?,
        name: row.try_get("name")?,
        config_name: row.try_get("config_name")?,
        spec: row.try_get("spec")?,
        target_revision: row.try_get("target_revision")?,
        last_successful_deployment_id: row.try_get("last_successful_deployment_id")?,
        last_attempted_deployment_id: row.try_get("last_attempted_deployment_id")?,
        active_deployment_id: row.try_get("active_deployment_id")?,
        create_time: row.try_get("create_time")?,
    })
}

pub(crate) fn revision(row: &AnyRow) -> Result<RevisionRow> {
    Ok(RevisionRow {
        application_id: row.try_get("application_id")?,
        revision_key: row.try_get("revision_key")?,
        location: row.try_get("location")?,
        description: row.try_get("description")?,
        register_time: row.try_get("register_time")?,
        first_used_time: row.try_get("first_used_time")?,
        last_used_time: row.try_get("last_used_time")?,
    })
}

pub(crate) fn object(row: &AnyRow) -> Result<ObjectRow> {
    Ok(ObjectRow {
        bucket: row.try_get("bucket")?,
        key: row.try_get("object_key")?,
        sha256: row.try_get("sha256")?,
        size: row.try_get("size")?,
        create_time: row.try_get("create_time")?,
    })
}

pub(crate) fn instance(row: &AnyRow) -> Result<InstanceRow> {
    Ok(InstanceRow {
        name: row.try_get("name")?,
        arn: row.try_get("arn")?,
        iam_user_arn: row.try_get("iam_user_arn")?,
        iam_session_arn: row.try_get("iam_session_arn")?,
        register_time: row.try_get("register_time")?,
        deregister_time: row.try_get("deregister_time")?,
        tags: row.try_get("tags")?,
        agent_version: row.try_get("agent_version")?,
        hostname: row.try_get("hostname")?,
        last_seen: row.try_get("last_seen")?,
    })
}

pub(crate) fn deployment(row: &AnyRow) -> Result<DeploymentRow> {
    let stop_requested: i64 = row.try_get("stop_requested")?;
    Ok(DeploymentRow {
        id: row.try_get("id")?,
        application_id: row.try_get("application_id")?,
        application_name: row.try_get("application_name")?,
        deployment_group_id: row.try_get("deployment_group_id")?,
        deployment_group_name: row.try_get("deployment_group_name")?,
        config_name: row.try_get("config_name")?,
        status: row.try_get("status")?,
        creator: row.try_get("creator")?,
        revision: row.try_get("revision")?,
        bundle: row.try_get("bundle")?,
        previous_revision: row.try_get("previous_revision")?,
        options: row.try_get("options")?,
        min_healthy: row.try_get("min_healthy")?,
        error_code: row.try_get("error_code")?,
        error_message: row.try_get("error_message")?,
        stop_requested: stop_requested != 0,
        create_time: row.try_get("create_time")?,
        start_time: row.try_get("start_time")?,
        complete_time: row.try_get("complete_time")?,
    })
}

pub(crate) fn target(row: &AnyRow) -> Result<TargetRow> {
    Ok(TargetRow {
        deployment_id: row.try_get("deployment_id")?,
        instance_name: row.try_get("instance_name")?,
        position: row.try_get("position")?,
        status: row.try_get("status")?,
        last_updated: row.try_get("last_updated")?,
        role: row.try_get("role")?,
    })
}

pub(crate) fn event(row: &AnyRow) -> Result<EventRow> {
    Ok(EventRow {
        deployment_id: row.try_get("deployment_id")?,
        instance_name: row.try_get("instance_name")?,
        position: row.try_get("position")?,
        name: row.try_get("name")?,
        status: row.try_get("status")?,
        start_time: row.try_get("start_time")?,
        end_time: row.try_get("end_time")?,
        error_code: row.try_get("error_code")?,
        script_name: row.try_get("script_name")?,
        message: row.try_get("message")?,
        log_tail: row.try_get("log_tail")?,
        phase: row.try_get("phase")?,
        runner: row.try_get("runner")?,
    })
}

pub(crate) fn group_instance(row: &AnyRow) -> Result<GroupInstanceRow> {
    let healthy: i64 = row.try_get("healthy")?;
    Ok(GroupInstanceRow {
        deployment_group_id: row.try_get("deployment_group_id")?,
        instance_name: row.try_get("instance_name")?,
        healthy: healthy != 0,
        revision_key: row.try_get("revision_key")?,
    })
}

/// A deployment or instance event for the group's triggers (outbox entry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TriggerEventRow {
    /// Order of the events (monotonic per database).
    pub seq: i64,
    pub deployment_id: String,
    pub deployment_group_id: String,
    /// CodeDeploy's trigger event type, e.g. `DeploymentFailure`, `InstanceSuccess`.
    pub trigger_event: String,
    pub instance_name: Option<String>,
    /// Deployment or instance status at the time of the event.
    pub status: String,
    pub create_time: i64,
}

/// One delivery of an event to one trigger, with its retry state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TriggerDeliveryRow {
    pub seq: i64,
    pub trigger_name: String,
    pub target: String,
    pub payload: String,
    pub attempts: i64,
    pub next_attempt: i64,
    pub delivered_time: Option<i64>,
    pub last_error: Option<String>,
}

pub(crate) fn trigger_event(row: &AnyRow) -> Result<TriggerEventRow> {
    Ok(TriggerEventRow {
        seq: row.try_get("seq")?,
        deployment_id: row.try_get("deployment_id")?,
        deployment_group_id: row.try_get("deployment_group_id")?,
        trigger_event: row.try_get("trigger_event")?,
        instance_name: row.try_get("instance_name")?,
        status: row.try_get("status")?,
        create_time: row.try_get("create_time")?,
    })
}

pub(crate) fn trigger_delivery(row: &AnyRow) -> Result<TriggerDeliveryRow> {
    Ok(TriggerDeliveryRow {
        seq: row.try_get("seq")?,
        trigger_name: row.try_get("trigger_name")?,
        target: row.try_get("target")?,
        payload: row.try_get("payload")?,
        attempts: row.try_get("attempts")?,
        next_attempt: row.try_get("next_attempt")?,
        delivered_time: row.try_get("delivered_time")?,
        last_error: row.try_get("last_error")?,
    })
}

/// A piece of a lifecycle event's log streamed by an agent, joined with the event's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogChunkRow {
    /// Order of arrival (monotonic per database): the cursor of `cutover deploy logs`.
    pub seq: i64,
    pub instance_name: String,
    pub lifecycle_event: String,
    pub text: String,
}

/// Counts read for the server's `/metrics`, at scrape time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetricsSnapshot {
    /// Deployments per status.
    pub deployments: Vec<(String, i64)>,
    /// Targets of active deployments not dispatched yet.
    pub targets_pending: i64,
    /// Pending lifecycle events of dispatched targets: work waiting for an agent's poll.
    pub events_ready: i64,
    /// Lifecycle events an agent runs now.
    pub events_running: i64,
    /// Trigger deliveries not delivered yet.
    pub trigger_deliveries_pending: i64,
    /// Registered instances heard from since the cutoff, and the others.
    pub instances_live: i64,
    pub instances_lost: i64,
}
