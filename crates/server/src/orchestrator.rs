//! The deployment orchestrator: the only writer of deployment and target statuses.
//!
//! [`advance`] is called after anything that can move a deployment (its creation, each lifecycle result, a stop,
//! a sweep, a restart). In one transaction it reads the deployment, derives each running target's status from its
//! events, asks the pure planner what to do next, and writes the decision; agents to be woken are woken after the
//! commit. Because every decision is persisted before its effect (an agent can only pick up an event once the
//! transaction that made it runnable has committed), a server killed at any point resumes by calling `advance` on
//! every unfinished deployment ([`recover`]) without re-running completed events.

use std::collections::HashMap;
use std::time::Duration;

use cutover_domain::config::{self, MinimumHealthyHosts};
use cutover_domain::lifecycle::LifecycleEvent;
use cutover_domain::planner::{self, Progress, Step};
use cutover_domain::status::{DeploymentErrorCode, DeploymentStatus};
use cutover_store::{DeploymentRow, EventDiagnostics, EventRow, GroupInstanceRow, StoreError, Tx};

use crate::convert::DeploymentOptions;
use crate::{AppState, replicas};

/// Advances a deployment, logging (not returning) failures: callers are request handlers whose own work is done.
pub(crate) async fn advance_logged(state: &AppState, deployment_id: &str, changed: Option<&str>) {
    if let Err(error) = advance(state, deployment_id, changed).await {
        tracing::error!(message = "Advancing deployment failed.", %deployment_id, %error);
    }
}

/// Moves a deployment as far as it can go right now.
///
/// `changed` names the one target whose events changed (an agent's report), so only its status is re-derived;
/// `None` re-derives every running target (after a restart, a sweep or a stop), as does any call once a stop was
/// requested. Work per call is proportional to the number of running targets, not to the size of the deployment:
/// the planner is fed status counts plus the pending targets it may start, so a deployment to ten thousand hosts
/// does not reread them all per report.
#[tracing::instrument(name = "advance", skip_all, fields(deployment_id = %deployment_id))]
pub async fn advance(state: &AppState, deployment_id: &str, changed: Option<&str>) -> Result<(), StoreError> {
    let now = state.inner.clock.now_ms();
    let mut tx = state.store().begin().await?;
    // One replica drives a deployment: the lease, taken or renewed in this transaction, fences its writes.
    if replicas::acquire(state, &mut tx, deployment_id).await?.is_none() {
        replicas::forward_advance(&mut tx, deployment_id, changed).await?;
        tx.commit().await?;
        return Ok(());
    }
    let Some(deployment) = tx.deployment_for_update(deployment_id).await? else { return Ok(()) };
    let status = DeploymentStatus::parse(&deployment.status)
        .ok_or_else(|| StoreError::Corrupt(format!("deployment status {:?}", deployment.status)))?;
    if status.is_terminal() {
        replicas::release(state, &mut tx, deployment_id).await?;
        tx.commit().await?;
        return Ok(());
    }
    let options = DeploymentOptions::from_json(&deployment.options);
    let triggers = has_triggers(&mut tx, &deployment.deployment_group_id).await?;
    let group_id = deployment.deployment_group_id.clone();

    let min_healthy = match (status, deployment.min_healthy) {
        (DeploymentStatus::Created, _) | (_, None) => {
            let n: i64 = tx.target_status_counts(deployment_id).await?.iter().map(|(_, count)| count).sum();
            let rule = minimum_healthy_hosts(&mut tx, &deployment.config_name).await?;
            // A blue/green deployment whose replacement hosts are still to be provisioned may start with none.
            let provisioning = options.blue_green.as_ref().is_some_and(|bg| bg.provision.is_some());
            // Blue/green: the minimum-healthy rule guards hosts that serve traffic, which the replacements do not yet.
            let started =
                if provisioning || options.blue_green.is_some() { Ok(0) } else { planner::start(n as u64, &rule) };
            match started {
                Ok(min_healthy) => {
                    tx.start_deployment(deployment_id, min_healthy as i64, now).await?;
                    if triggers {
                        tx.enqueue_trigger_event(deployment_id, &group_id, "DeploymentStart", None, "InProgress", now)
                            .await?;
                    }
                    min_healthy
                }
                Err(code) => {
                    let message = start_failure_message(code, n as u64, &rule);
                    tx.skip_pending_targets(deployment_id, now).await?;
                    let rollback =
                        finish(state, &mut tx, &deployment, DeploymentStatus::Failed, Some((code, message)), now)
                            .await?;
                    tx.commit().await?;
                    if let Some(rollback) = rollback {
                        Box::pin(advance(state, &rollback, None)).await?;
                    }
                    return Ok(());
                }
            }
        }
        (_, Some(min_healthy)) => min_healthy as u64,
    };

    if deployment.stop_requested {
        // No new host starts; running events finish (scripts are never killed) and the rest is skipped. Skipped
        // before the targets are derived: a host stopped between two events, or before its first, has none running
        // and no report will come for it, so it must end now or the deployment never does. The skip touched every
        // running target, so all of them are derived again, not only the one that reported.
        tx.skip_pending_targets(deployment_id, now).await?;
        tx.skip_all_pending_events(deployment_id).await?;
    }

    // Derive the status of running targets from their events.
    let running_events = match changed.filter(|_| !deployment.stop_requested) {
        Some(instance_name) => match tx.target(deployment_id, instance_name).await? {
            Some(target) if target.status == "InProgress" => tx.target_events(deployment_id, instance_name).await?,
            _ => Vec::new(),
        },
        None => tx.events_of_targets_in_status(deployment_id, "InProgress").await?,
    };
    for chunk in running_events.chunk_by(|a, b| a.instance_name == b.instance_name) {
        if let Some(outcome) = target_outcome(chunk, &options) {
            tx.set_target_status(deployment_id, &chunk[0].instance_name, outcome, now).await?;
            if triggers {
                let event = if outcome == "Succeeded" { "InstanceSuccess" } else { "InstanceFailure" };
                tx.enqueue_trigger_event(deployment_id, &group_id, event, Some(&chunk[0].instance_name), outcome, now)
                    .await?;
            }
        }
    }

    let counts = tx.target_status_counts(deployment_id).await?;
    let count = |status: &str| counts.iter().find(|(s, _)| s == status).map_or(0, |(_, n)| *n as usize);
    let mut to_wake = Vec::new();
    let mut rollback = None;
    let mut succeeded = false;
    let mut finished = false;
    let mut terminate = None;
    let mut started: Vec<String> = Vec::new();
    let mut provision = None;
    if deployment.stop_requested {
        if count("InProgress") == 0 {
            let error = match &options.stopped_by_alarm {
                Some(reason) => {
                    (DeploymentErrorCode::AlarmActive, format!("The deployment was stopped by an alarm: {reason}"))
                }
                None => (DeploymentErrorCode::ManualStop, "The deployment was stopped by a user request.".to_owned()),
            };
            rollback = finish(state, &mut tx, &deployment, DeploymentStatus::Stopped, Some(error), now).await?;
            finished = true;
        }
    } else if let Some(bg) = &options.blue_green {
        match blue_green_step(&mut tx, &deployment, status, &options, bg, now, state).await? {
            BlueGreenOutcome::Wait(dispatched, woken) => {
                started = dispatched;
                to_wake.extend(woken);
            }
            BlueGreenOutcome::Terminate(instances) => terminate = Some(instances),
            BlueGreenOutcome::Provision(request) => provision = Some(request),
            BlueGreenOutcome::Succeeded => {
                rollback = finish(state, &mut tx, &deployment, DeploymentStatus::Succeeded, None, now).await?;
                succeeded = true;
            }
            BlueGreenOutcome::Finished(status, error) => {
                rollback = finish(state, &mut tx, &deployment, status, Some(error), now).await?;
                finished = true;
            }
        }
    } else if let Some(zonal) = zonal_config(&mut tx, &deployment.config_name).await? {
        match zonal_step(&mut tx, &deployment, &options, min_healthy, &zonal, now).await? {
            ZonalOutcome::Dispatched(instances) => started = instances,
            ZonalOutcome::Wait => {}
            ZonalOutcome::Succeeded => {
                rollback = finish(state, &mut tx, &deployment, DeploymentStatus::Succeeded, None, now).await?;
                succeeded = true;
            }
            ZonalOutcome::Failed(code) => {
                tx.skip_pending_targets(deployment_id, now).await?;
                rollback = finish(
                    state,
                    &mut tx,
                    &deployment,
                    DeploymentStatus::Failed,
                    Some((code, failure_message(code))),
                    now,
                )
                .await?;
                finished = true;
            }
        }
    } else {
        // The planner only needs how many targets are in each state and the order of the pending ones.
        let done = count("Succeeded") + count("Failed") + count("InProgress") + count("Skipped");
        let mut progress = Vec::with_capacity(done + count("Pending"));
        progress.extend(std::iter::repeat_n(Progress::Succeeded, count("Succeeded")));
        progress.extend(std::iter::repeat_n(Progress::Failed, count("Failed")));
        progress.extend(std::iter::repeat_n(Progress::InProgress, count("InProgress")));
        progress.extend(std::iter::repeat_n(Progress::Skipped, count("Skipped")));
        progress.extend(std::iter::repeat_n(Progress::Pending, count("Pending")));
        match planner::step(min_healthy, &progress) {
            Step::Dispatch(indices) => {
                let pending = tx.targets_in_status(deployment_id, "Pending", indices.len() as i64).await?;
                for target in pending {
                    tx.set_target_status(deployment_id, &target.instance_name, "InProgress", now).await?;
                    started.push(target.instance_name);
                }
            }
            Step::Wait => {}
            Step::Succeeded => {
                rollback = finish(state, &mut tx, &deployment, DeploymentStatus::Succeeded, None, now).await?;
                succeeded = true;
            }
            Step::Failed { code, .. } => {
                // The planner skips exactly the targets still pending.
                let message = failure_message(code);
                tx.skip_pending_targets(deployment_id, now).await?;
                rollback =
                    finish(state, &mut tx, &deployment, DeploymentStatus::Failed, Some((code, message)), now).await?;
                finished = true;
            }
        }
    }
    // Every host dispatched in this call, whatever the strategy: one InstanceStart each, and its agent is woken.
    if triggers {
        for instance_name in &started {
            tx.enqueue_trigger_event(deployment_id, &group_id, "InstanceStart", Some(instance_name), "InProgress", now)
                .await?;
        }
    }
    if !started.is_empty() {
        to_wake.extend(started);
        to_wake.sort_unstable();
        to_wake.dedup();
    }
    // Traffic events (BlockTraffic, AllowTraffic) that may run now are the server's own: started here, run after
    // the commit.
    let server_events = if finished
        || succeeded
        || (options.target_groups.is_empty() && options.function.is_none() && options.container.is_none())
    {
        Vec::new()
    } else {
        // Blue/green moves whole phases at once, and a restart or sweep (`changed` None) looks at every target.
        let only = if options.blue_green.is_none() && !deployment.stop_requested { changed } else { None };
        tx.start_server_events(deployment_id, only, now).await?
    };
    for instance_name in &to_wake {
        replicas::broadcast_wake(&mut tx, instance_name).await?;
    }
    tx.commit().await?;
    for instance_name in to_wake {
        state.inner.wakeups.wake(&instance_name);
    }
    if !server_events.is_empty() {
        crate::traffic::spawn(state, deployment_id, server_events);
    }
    if let Some(request) = provision {
        crate::traffic::spawn_provisioning(
            state,
            deployment_id,
            &deployment.application_name,
            &deployment.deployment_group_name,
            request,
        );
    }
    if let Some(instances) = terminate {
        crate::traffic::spawn_termination(
            state,
            deployment_id,
            &deployment.application_name,
            &deployment.deployment_group_name,
            instances,
        );
    }
    if finished && options.function.is_some() {
        // A failed or stopped function deployment whose rollback is configured: the alias goes back (finish decided).
        crate::functions::spawn_restore(state, deployment_id);
    }
    if finished && options.container.is_some() {
        // A failed or stopped ECS deployment: production goes back to the original, the replacement is withdrawn.
        crate::ecs::spawn_restore(state, deployment_id);
    }
    let rollback_started = rollback.is_some();
    if let Some(rollback) = rollback {
        Box::pin(advance(state, &rollback, None)).await?;
    }
    if succeeded {
        Box::pin(crate::autoupdate::update_outdated(state, &group_id)).await?;
    } else if finished && !rollback_started {
        // The group is free again: hosts that joined while it was busy get the group's revision now.
        Box::pin(crate::autoupdate::catch_up_new_instances(state)).await?;
    }
    Ok(())
}

/// Stops a running deployment because an alarm fired (or its state could not be read and that is not ignored):
/// no new host starts, running events finish, and it ends Stopped with ALARM_ACTIVE, rolling back if configured
/// for DEPLOYMENT_STOP_ON_ALARM. Returns false when the deployment had already finished or was already stopping.
pub async fn stop_for_alarm(state: &AppState, deployment_id: &str, reason: &str) -> Result<bool, StoreError> {
    {
        let mut tx = state.store().begin().await?;
        let Some(deployment) = tx.deployment_for_update(deployment_id).await? else { return Ok(false) };
        if deployment.stop_requested || matches!(deployment.status.as_str(), "Succeeded" | "Failed" | "Stopped") {
            return Ok(false);
        }
        let mut options = DeploymentOptions::from_json(&deployment.options);
        options.stopped_by_alarm = Some(reason.to_owned());
        tx.set_deployment_options(deployment_id, &options.to_json()).await?;
        tx.request_stop(deployment_id).await?;
        tx.commit().await?;
    }
    tracing::warn!(message = "Deployment stopped by an alarm.", %deployment_id, %reason);
    advance(state, deployment_id, None).await?;
    Ok(true)
}

enum BlueGreenOutcome {
    /// Nothing more to do now: the targets dispatched in this step (first), and the agents to wake (dispatched, or
    /// with work in a new phase).
    Wait(Vec<String>, Vec<String>),
    /// The original instances are to be terminated now (after the commit).
    Terminate(Vec<String>),
    /// The replacement instances are to be provisioned (after the commit).
    Provision(crate::traffic::Provision),
    Succeeded,
    Finished(DeploymentStatus, (DeploymentErrorCode, String)),
}

/// One step of a blue/green deployment. Every target starts at once; the phases order the work (install on the
/// replacement hosts, optional Ready wait, reroute, block the originals), each starting when every event of the
/// earlier phases closed. Any failed host ends the deployment: nothing new starts, running events finish.
async fn blue_green_step(
    tx: &mut Tx,
    deployment: &DeploymentRow,
    status: DeploymentStatus,
    options: &DeploymentOptions,
    bg: &crate::traffic::BlueGreen,
    now: i64,
    state: &AppState,
) -> Result<BlueGreenOutcome, StoreError> {
    use cutover_domain::traffic::phase;
    let id = deployment.id.as_str();
    let counts = tx.target_status_counts(id).await?;
    let count = |status: &str| counts.iter().find(|(s, _)| s == status).map_or(0, |(_, n)| *n);
    if count("Failed") > 0 {
        tx.skip_all_pending_events(id).await?;
        tx.skip_pending_targets(id, now).await?;
        let events = tx.events_of_targets_in_status(id, "InProgress").await?;
        let mut running = false;
        let triggers = has_triggers(tx, &deployment.deployment_group_id).await?;
        for chunk in events.chunk_by(|a, b| a.instance_name == b.instance_name) {
            match target_outcome(chunk, options) {
                Some(outcome) => {
                    tx.set_target_status(id, &chunk[0].instance_name, outcome, now).await?;
                    if triggers {
                        let event = if outcome == "Succeeded" { "InstanceSuccess" } else { "InstanceFailure" };
                        let group = &deployment.deployment_group_id;
                        tx.enqueue_trigger_event(id, group, event, Some(&chunk[0].instance_name), outcome, now).await?;
                    }
                }
                None => running = true,
            }
        }
        if running {
            return Ok(BlueGreenOutcome::Wait(Vec::new(), Vec::new()));
        }
        let code = DeploymentErrorCode::HealthConstraints;
        return Ok(BlueGreenOutcome::Finished(DeploymentStatus::Failed, (code, failure_message(code))));
    }
    // A replacement fleet still to be made: nothing else may start (the originals' events would run at once).
    if let Some(provision) = bg.provision.as_ref().filter(|provision| !provision.done) {
        if let Some(error) = &provision.error {
            tx.skip_all_pending_events(id).await?;
            tx.skip_pending_targets(id, now).await?;
            let message = format!("Provisioning the replacement instances failed: {error}");
            return Ok(BlueGreenOutcome::Finished(
                DeploymentStatus::Failed,
                (DeploymentErrorCode::AutoScalingConfiguration, message),
            ));
        }
        return Ok(BlueGreenOutcome::Provision(provision.clone()));
    }
    let mut woken = Vec::new();
    for target in tx.targets_in_status(id, "Pending", i64::MAX).await? {
        tx.set_target_status(id, &target.instance_name, "InProgress", now).await?;
        woken.push(target.instance_name);
    }
    let dispatched = woken.clone();
    let save = |bg: crate::traffic::BlueGreen| {
        let mut options = options.clone();
        options.blue_green = Some(bg);
        options.to_json()
    };
    if status == DeploymentStatus::Ready && bg.ready_continued {
        tx.set_deployment_status(id, DeploymentStatus::InProgress.as_str(), None, None).await?;
    }
    let mut current = tx.deployment_phase(id).await?;
    loop {
        let (open, last) = tx.open_events_up_to_phase(id, current).await?;
        if open > 0 {
            return Ok(BlueGreenOutcome::Wait(dispatched, woken));
        }
        if current >= last.max(phase::LAST) {
            break;
        }
        if current == phase::INSTALL && bg.ready_action.as_deref() == Some("STOP_DEPLOYMENT") && !bg.ready_continued {
            let traffic = &state.inner.traffic;
            match bg.wait_until {
                None => {
                    let mut next = bg.clone();
                    next.wait_until = Some(now + traffic.minutes(bg.ready_wait_minutes).as_millis() as i64);
                    tx.set_deployment_options(id, &save(next)).await?;
                    tx.set_deployment_status(id, DeploymentStatus::Ready.as_str(), None, None).await?;
                    tracing::info!(message = "Replacement instances ready; waiting for ContinueDeployment.", deployment_id = %id);
                }
                Some(until) if now >= until => {
                    tx.skip_all_pending_events(id).await?;
                    let events = tx.events_of_targets_in_status(id, "InProgress").await?;
                    for chunk in events.chunk_by(|a, b| a.instance_name == b.instance_name) {
                        if let Some(outcome) = target_outcome(chunk, options) {
                            tx.set_target_status(id, &chunk[0].instance_name, outcome, now).await?;
                        }
                    }
                    let message = format!(
                        "The deployment was not continued within the {} minute(s) of its ready wait (deploymentReadyOption STOP_DEPLOYMENT).",
                        bg.ready_wait_minutes
                    );
                    return Ok(BlueGreenOutcome::Finished(
                        DeploymentStatus::Stopped,
                        (DeploymentErrorCode::Timeout, message),
                    ));
                }
                Some(_) => {}
            }
            return Ok(BlueGreenOutcome::Wait(dispatched, woken));
        }
        current += 1;
        tx.set_deployment_phase(id, current, now).await?;
        for target in tx.targets_in_status(id, "InProgress", i64::MAX).await? {
            if !woken.contains(&target.instance_name) {
                woken.push(target.instance_name);
            }
        }
    }
    // Every event closed. The originals of a successful deployment are terminated after the wait, or kept alive.
    let originals: Vec<String> = tx
        .targets(id)
        .await?
        .into_iter()
        .filter(|target| target.role.as_deref() == Some("Blue"))
        .map(|target| target.instance_name)
        .collect();
    let terminating = !bg.rollback && bg.termination_action.as_deref() == Some("TERMINATE") && !originals.is_empty();
    if !terminating || bg.retired {
        return Ok(BlueGreenOutcome::Succeeded);
    }
    if bg.termination_started.is_none() {
        let mut next = bg.clone();
        next.termination_started = Some(now);
        next.wait_until = Some(now + state.inner.traffic.minutes(bg.termination_wait_minutes).as_millis() as i64);
        tx.set_deployment_options(id, &save(next.clone())).await?;
        tracing::info!(message = "Traffic moved; waiting to terminate the original instances.", deployment_id = %id);
        if next.wait_until.is_some_and(|until| now >= until) {
            return Ok(BlueGreenOutcome::Terminate(originals));
        }
        return Ok(BlueGreenOutcome::Wait(dispatched, woken));
    }
    if bg.termination_continued || bg.wait_until.is_some_and(|until| now >= until) {
        return Ok(BlueGreenOutcome::Terminate(originals));
    }
    Ok(BlueGreenOutcome::Wait(dispatched, woken))
}

/// The zonal settings of a deployment's configuration, when it has some.
async fn zonal_config(
    tx: &mut Tx,
    config_name: &str,
) -> Result<Option<cutover_domain::zonal::ZonalConfig>, StoreError> {
    if config::find_predefined(config_name).is_some() {
        return Ok(None);
    }
    Ok(tx.deployment_config_by_name(config_name).await?.as_ref().and_then(crate::convert::zonal_from_row))
}

enum ZonalOutcome {
    Dispatched(Vec<String>),
    Wait,
    Succeeded,
    Failed(DeploymentErrorCode),
}

/// One step of a zonal deployment: zones in name order (hosts without a zone last), a bake between zones.
async fn zonal_step(
    tx: &mut Tx,
    deployment: &DeploymentRow,
    options: &DeploymentOptions,
    min_healthy: u64,
    zonal: &cutover_domain::zonal::ZonalConfig,
    now: i64,
) -> Result<ZonalOutcome, StoreError> {
    use cutover_domain::zonal::{self, ZonalStep, ZoneProgress};
    let mut zone_names: Vec<Option<String>> = Vec::new();
    let mut zones: Vec<ZoneProgress> = Vec::new();
    let mut counts = tx.zone_status_counts(&deployment.id).await?;
    counts.sort_by(|a, b| (a.0.is_none(), &a.0).cmp(&(b.0.is_none(), &b.0)));
    for (zone, status, count) in counts {
        if zone_names.last() != Some(&zone) {
            zone_names.push(zone.clone());
            zones.push(ZoneProgress::default());
        }
        let Some(progress) = zones.last_mut() else { continue };
        let count = count as u64;
        match status.as_str() {
            "Pending" => progress.pending += count,
            "InProgress" => progress.in_progress += count,
            "Succeeded" => progress.succeeded += count,
            "Failed" => progress.failed += count,
            _ => progress.skipped += count,
        }
    }
    let baked = |zone: usize| options.zone_bake.is_some_and(|(baking, until)| baking == zone && now >= until);
    let mut step = zonal::step(min_healthy, zonal, &zones, false);
    if let ZonalStep::Bake { zone, secs } = step {
        if baked(zone) {
            step = zonal::step(min_healthy, zonal, &zones, true);
        } else {
            if options.zone_bake.is_none_or(|(baking, _)| baking != zone) {
                // The previous zone just finished: the bake starts now and is persisted, so a restart keeps it.
                let mut options = options.clone();
                options.zone_bake = Some((zone, now + (secs as i64) * 1000));
                tx.set_deployment_options(&deployment.id, &options.to_json()).await?;
                tracing::info!(message = "Baking before the next zone.", deployment_id = %deployment.id, zone = ?zone_names[zone], secs);
            }
            return Ok(ZonalOutcome::Wait);
        }
    }
    Ok(match step {
        ZonalStep::Dispatch { zone, count } => {
            if options.zone_bake.is_some() {
                let mut options = options.clone();
                options.zone_bake = None;
                tx.set_deployment_options(&deployment.id, &options.to_json()).await?;
            }
            let pending = tx.pending_targets_in_zone(&deployment.id, zone_names[zone].as_deref(), count as i64).await?;
            let mut names = Vec::new();
            for target in pending {
                tx.set_target_status(&deployment.id, &target.instance_name, "InProgress", now).await?;
                names.push(target.instance_name);
            }
            ZonalOutcome::Dispatched(names)
        }
        ZonalStep::Bake { .. } | ZonalStep::Wait => ZonalOutcome::Wait,
        ZonalStep::Succeeded => ZonalOutcome::Succeeded,
        ZonalStep::Failed { code } => ZonalOutcome::Failed(code),
    })
}

/// Whether the group has triggers; events are only queued for groups that have some.
async fn has_triggers(tx: &mut Tx, group_id: &str) -> Result<bool, StoreError> {
    let Some(group) = tx.deployment_group_by_id(group_id).await? else { return Ok(false) };
    let settings: cutover_api_types::codedeploy::DeploymentGroupInfo = serde_json::from_str(&group.spec)
        .map_err(|error| StoreError::Corrupt(format!("group {}: {error}", group.name)))?;
    Ok(settings.trigger_configurations.is_some_and(|triggers| !triggers.is_empty()))
}

async fn minimum_healthy_hosts(tx: &mut Tx, config_name: &str) -> Result<MinimumHealthyHosts, StoreError> {
    if let Some(predefined) = config::find_predefined(config_name) {
        return Ok(predefined.effective_minimum_healthy_hosts());
    }
    let row = tx
        .deployment_config_by_name(config_name)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("deployment config {config_name}")))?;
    Ok(crate::convert::config_from_row(&row)?.effective_minimum_healthy_hosts())
}

/// The status a running target reaches once none of its events is open; None while one is.
fn target_outcome(events: &[EventRow], options: &DeploymentOptions) -> Option<&'static str> {
    if events.iter().any(|event| event.status == "Pending" || event.status == "InProgress") {
        return None;
    }
    let ok = events.iter().all(|event| match event.status.as_str() {
        "Succeeded" => true,
        "Failed" => {
            options.ignore_application_stop_failures
                && event.name.parse::<LifecycleEvent>().is_ok_and(|name| {
                    matches!(
                        name,
                        LifecycleEvent::ApplicationStop
                            | LifecycleEvent::BeforeBlockTraffic
                            | LifecycleEvent::AfterBlockTraffic
                    )
                })
        }
        // Skipped events mean the target was cut short (a failure, or a stop while it ran).
        _ => false,
    });
    Some(if ok { "Succeeded" } else { "Failed" })
}

/// Ends a deployment: records instance health for the group, releases the group, and starts an automatic
/// rollback when one is configured for this outcome; returns the rollback's id.
async fn finish(
    state: &AppState,
    tx: &mut Tx,
    deployment: &DeploymentRow,
    status: DeploymentStatus,
    error: Option<(DeploymentErrorCode, String)>,
    now: i64,
) -> Result<Option<String>, StoreError> {
    let revision_key = crate::convert::revision_key_from_json(&deployment.revision);
    let options = DeploymentOptions::from_json(&deployment.options);
    let previous: HashMap<String, Option<String>> = tx
        .group_instances(&deployment.deployment_group_id)
        .await?
        .into_iter()
        .map(|row| (row.instance_name, row.revision_key))
        .collect();
    for target_status in ["Succeeded", "Failed"] {
        let succeeded = target_status == "Succeeded";
        for target in tx.targets_in_status(&deployment.id, target_status, i64::MAX).await? {
            // Blue/green: the originals were never given the new revision (the rollback's replacements neither).
            let untouched = match (&options.blue_green, target.role.as_deref()) {
                (Some(bg), Some(role)) => (role == "Blue") != bg.rollback,
                _ => false,
            };
            let revision_key = if succeeded && !untouched {
                Some(revision_key.clone())
            } else {
                previous.get(&target.instance_name).cloned().flatten()
            };
            tx.upsert_group_instance(&GroupInstanceRow {
                deployment_group_id: deployment.deployment_group_id.clone(),
                instance_name: target.instance_name.clone(),
                healthy: succeeded,
                revision_key,
            })
            .await?;
        }
    }
    let error_ref = error.as_ref().map(|(code, message)| (code.as_str(), message.as_str()));
    tx.set_deployment_status(&deployment.id, status.as_str(), error_ref, Some(now)).await?;
    let triggers = has_triggers(tx, &deployment.deployment_group_id).await?;
    if triggers {
        let event = match status {
            DeploymentStatus::Succeeded => "DeploymentSuccess",
            DeploymentStatus::Stopped => "DeploymentStop",
            _ => "DeploymentFailure",
        };
        tx.enqueue_trigger_event(&deployment.id, &deployment.deployment_group_id, event, None, status.as_str(), now)
            .await?;
    }
    // A blue/green rollback leaves the originals on what they ran: the group's revision does not change.
    let blue_green_rollback = options.blue_green.as_ref().is_some_and(|bg| bg.rollback);
    let succeeded_revision =
        (status == DeploymentStatus::Succeeded && !blue_green_rollback).then_some(deployment.revision.as_str());
    tx.release_group(&deployment.deployment_group_id, &deployment.id, succeeded_revision).await?;
    replicas::release(state, tx, &deployment.id).await?;
    tracing::info!(message = "Deployment finished.", deployment_id = %deployment.id, status = %status.as_str());
    metrics::counter!(crate::monitoring::DEPLOYMENTS_FINISHED, "status" => status.as_str()).increment(1);
    let code = error.as_ref().map(|(code, _)| *code);
    start_rollback(state, tx, deployment, status, code, now).await
}

/// Creates the automatic rollback of a failed or stopped deployment, if its configuration asks for one: a new
/// deployment (creator `codeDeployRollback`) of the group's last successful revision to the same instances, linked
/// both ways through `rollbackInfo`. Must run after the group was released, in the same transaction.
async fn start_rollback(
    state: &AppState,
    tx: &mut Tx,
    deployment: &DeploymentRow,
    status: DeploymentStatus,
    code: Option<DeploymentErrorCode>,
    now: i64,
) -> Result<Option<String>, StoreError> {
    // A rollback that fails is not rolled back again: that could loop between two bad revisions.
    if deployment.creator == "codeDeployRollback" {
        return Ok(None);
    }
    if status != DeploymentStatus::Succeeded
        && let Some(mut container) = DeploymentOptions::from_json(&deployment.options).container
    {
        // An ECS deployment that did not succeed always gives production back to the original task set and removes
        // the replacement (whatever the rollback configuration: a half-shifted service is never left behind).
        let mut options = DeploymentOptions::from_json(&deployment.options);
        // Once promoted (the stop came after the last step) there is no original left to go back to.
        container.restore = !container.promoted;
        let message = if container.promoted {
            format!(
                "No rollback was made: the replacement task set had become {}'s primary task set when the deployment stopped.",
                container.service
            )
        } else {
            format!(
                "Rolled back: all production traffic of {} returns to the original task set, and the replacement task set is removed.",
                container.service
            )
        };
        options.rollback_info = Some(cutover_api_types::codedeploy::RollbackInfo {
            rollback_deployment_id: None,
            rollback_triggering_deployment_id: None,
            rollback_message: Some(message),
        });
        options.container = Some(container);
        tx.set_deployment_options(&deployment.id, &options.to_json()).await?;
        return Ok(None);
    }
    let event = match (status, code) {
        // A blue/green deployment whose Ready wait ran out moved no traffic: there is nothing to roll back.
        (DeploymentStatus::Stopped, Some(DeploymentErrorCode::Timeout)) => return Ok(None),
        (DeploymentStatus::Failed, _) => "DEPLOYMENT_FAILURE",
        (DeploymentStatus::Stopped, Some(DeploymentErrorCode::AlarmActive)) => "DEPLOYMENT_STOP_ON_ALARM",
        (DeploymentStatus::Stopped, _) => "DEPLOYMENT_STOP_ON_REQUEST",
        _ => return Ok(None),
    };
    let mut options = DeploymentOptions::from_json(&deployment.options);
    let configured = options.auto_rollback_configuration.as_ref().is_some_and(|config| {
        config.enabled == Some(true) && config.events.iter().flatten().any(|configured| configured == event)
    });
    let enabled = match (event, options.stop_auto_rollback) {
        ("DEPLOYMENT_STOP_ON_REQUEST", Some(requested)) => requested,
        _ => configured,
    };
    if !enabled {
        return Ok(None);
    }
    if let Some(mut function) = options.function.clone() {
        // A function deployment is rolled back by moving its alias back to the current version (no new deployment).
        function.restore = true;
        options.rollback_info = Some(cutover_api_types::codedeploy::RollbackInfo {
            rollback_deployment_id: None,
            rollback_triggering_deployment_id: None,
            rollback_message: Some(format!(
                "Rolled back ({event}): all traffic of {}:{} returns to version {}.",
                function.name, function.alias, function.current_version
            )),
        });
        options.function = Some(function);
        tx.set_deployment_options(&deployment.id, &options.to_json()).await?;
        return Ok(None);
    }
    let group = tx.deployment_group_by_id(&deployment.deployment_group_id).await?;
    if let Some(bg) = &options.blue_green
        && (bg.termination_started.is_some() || bg.retired)
    {
        // The originals are being (or were) retired: there is no live fleet to give the traffic back to.
        options.rollback_info = Some(cutover_api_types::codedeploy::RollbackInfo {
            rollback_deployment_id: None,
            rollback_triggering_deployment_id: None,
            rollback_message: Some(
                "No rollback was made: traffic had moved to the replacement instances and the originals were being retired."
                    .to_owned(),
            ),
        });
        tx.set_deployment_options(&deployment.id, &options.to_json()).await?;
        return Ok(None);
    }
    let last_good = match group.as_ref().and_then(|group| group.last_successful_deployment_id.clone()) {
        Some(id) if id != deployment.id => tx.deployment(&id).await?,
        _ => None,
    };
    // A blue/green rollback installs nothing (the originals keep what they run), so it needs no earlier success:
    // it names the failed deployment's own revision.
    let last_good = last_good.or_else(|| options.blue_green.is_some().then(|| deployment.clone()));
    let Some(last_good) = last_good else {
        options.rollback_info = Some(cutover_api_types::codedeploy::RollbackInfo {
            rollback_deployment_id: None,
            rollback_triggering_deployment_id: None,
            rollback_message: Some(
                "No rollback was made: the deployment group has no earlier successful revision to go back to."
                    .to_owned(),
            ),
        });
        tx.set_deployment_options(&deployment.id, &options.to_json()).await?;
        return Ok(None);
    };
    let id = state.inner.clock.deployment_id();
    let last_options = DeploymentOptions::from_json(&last_good.options);
    let rollback_options = DeploymentOptions {
        description: Some(format!("Automatic rollback of {} ({event})", deployment.id)),
        ignore_application_stop_failures: options.ignore_application_stop_failures,
        file_exists_behavior: last_options.file_exists_behavior.clone(),
        update_outdated_instances_only: false,
        auto_rollback_configuration: options.auto_rollback_configuration.clone(),
        rollback_info: Some(cutover_api_types::codedeploy::RollbackInfo {
            rollback_deployment_id: None,
            rollback_triggering_deployment_id: Some(deployment.id.clone()),
            rollback_message: Some(format!(
                "Rolls back deployment {} to the revision of the last successful deployment {}.",
                deployment.id, last_good.id
            )),
        }),
        deployment_style: options.deployment_style.clone(),
        stop_auto_rollback: None,
        stopped_by_alarm: None,
        zone_bake: None,
        override_alarm_configuration: options.override_alarm_configuration.clone(),
        target_groups: options.target_groups.clone(),
        blue_green: None,
        function: None,
        container: None,
    };
    let mut rollback_options = rollback_options;
    let row = DeploymentRow {
        id: id.clone(),
        application_id: deployment.application_id.clone(),
        application_name: deployment.application_name.clone(),
        deployment_group_id: deployment.deployment_group_id.clone(),
        deployment_group_name: deployment.deployment_group_name.clone(),
        config_name: deployment.config_name.clone(),
        status: "Created".to_owned(),
        creator: "codeDeployRollback".to_owned(),
        revision: last_good.revision.clone(),
        bundle: last_good.bundle.clone(),
        previous_revision: group.as_ref().and_then(|group| group.target_revision.clone()),
        options: rollback_options.to_json(),
        min_healthy: None,
        error_code: None,
        error_message: None,
        stop_requested: false,
        create_time: now,
        start_time: None,
        complete_time: None,
    };
    // The same instances as the failed deployment, in the same order. A blue/green deployment is rolled back by
    // giving traffic back to the originals and blocking the replacements.
    let targets = tx.targets(&deployment.id).await?;
    let traffic_control = !options.target_groups.is_empty();
    let plan = if options.blue_green.is_some() {
        let with_role = |role: &str| -> Vec<String> {
            targets
                .iter()
                .filter(|target| target.role.as_deref() == Some(role))
                .map(|target| target.instance_name.clone())
                .collect()
        };
        let settings: Option<cutover_api_types::codedeploy::DeploymentGroupInfo> =
            group.as_ref().and_then(|group| serde_json::from_str(&group.spec).ok());
        let config = settings.and_then(|settings| settings.blue_green_deployment_configuration).unwrap_or_default();
        rollback_options.blue_green = Some(crate::api::deployments::blue_green_options(
            &config,
            cutover_domain::config::TrafficRouting::AllAtOnce,
            true,
        ));
        crate::api::deployments::plan_targets(&with_role("Blue"), &with_role("Green"), true, true, true)
    } else {
        let names: Vec<String> = targets.iter().map(|target| target.instance_name.clone()).collect();
        crate::api::deployments::plan_targets(&names, &[], false, traffic_control, false)
    };
    let row = DeploymentRow { options: rollback_options.to_json(), ..row };
    tx.insert_deployment_plan(&row, &plan).await?;
    if !tx.claim_group_for_deployment(&deployment.deployment_group_id, &id).await? {
        return Err(StoreError::Conflict(format!(
            "group {} is busy; cannot start rollback",
            deployment.deployment_group_name
        )));
    }
    options.rollback_info = Some(cutover_api_types::codedeploy::RollbackInfo {
        rollback_deployment_id: Some(id.clone()),
        rollback_triggering_deployment_id: None,
        rollback_message: Some(format!("Automatically rolled back by deployment {id} ({event}).")),
    });
    tx.set_deployment_options(&deployment.id, &options.to_json()).await?;
    if has_triggers(tx, &deployment.deployment_group_id).await? {
        tx.enqueue_trigger_event(&id, &deployment.deployment_group_id, "DeploymentRollback", None, "Created", now)
            .await?;
    }
    tracing::info!(message = "Rollback created.", deployment_id = %id, rolls_back = %deployment.id, %event);
    Ok(Some(id))
}

pub(crate) fn start_failure_message(code: DeploymentErrorCode, n: u64, rule: &MinimumHealthyHosts) -> String {
    match code {
        DeploymentErrorCode::NoInstances => {
            "The deployment failed because no instances were found for your deployment \
            group. Check your deployment group settings to make sure the tags for your on-premises instances correctly \
            identify the instances you want to deploy to, and then try again."
                .to_owned()
        }
        _ => format!(
            "The deployment failed because the deployment configuration requires at least {} healthy instances, \
             which leaves no instance that can be deployed to among the {n} in the deployment group.",
            rule.min_healthy(n)
        ),
    }
}

fn failure_message(code: DeploymentErrorCode) -> String {
    match code {
        DeploymentErrorCode::HealthConstraints => {
            "The overall deployment failed because too many individual instances \
            failed deployment, too few healthy instances are available for deployment, or some instances in your \
            deployment group are experiencing problems."
                .to_owned()
        }
        other => format!("The deployment failed ({}).", other.as_str()),
    }
}

/// Advances every unfinished deployment that this replica drives or that nobody drives; run at start so a
/// restarted server finishes what it started.
pub async fn recover(state: &AppState) -> Result<(), StoreError> {
    replicas::maintain(state).await
}

/// Fails events that no agent picked up, or that an agent never finished, within the configured times.
pub async fn sweep(state: &AppState) -> Result<(), StoreError> {
    let now = state.inner.clock.now_ms();
    let start_timeout = (state.inner.config.event_start_timeout_secs * 1000) as i64;
    let event_timeout = (state.inner.config.event_timeout_secs * 1000) as i64;
    let lease = (state.inner.config.agent_lease_secs * 1000) as i64;
    let mut touched = Vec::new();
    let mut tx = state.store().begin().await?;
    let cutoff = now - lease.min(start_timeout).min(event_timeout);
    // Each replica judges the deployments it drives.
    for (target, event, last_seen) in tx.stale_open_events(cutoff, &state.inner.replica_id).await? {
        // Only judge an agent by its lease once the event has waited that long, and once this server has been up
        // that long, so a server that was itself down does not fail every host the moment it comes back.
        let waited = now - event.start_time.unwrap_or(target.last_updated).max(target.last_updated);
        let up_for = now - state.inner.started_at_ms;
        let lost = waited > lease && up_for > lease && last_seen.is_none_or(|seen| now - seen > lease);
        let message = if lost {
            let since = last_seen.map_or_else(|| "it registered".to_owned(), cutover_domain::time::rfc3339_ms);
            format!(
                "The agent on instance {} is unreachable since {since} (no poll or heartbeat for more than {} s) while \
                 lifecycle event {} was {}. The host is down, the agent is not running, or the network is partitioned.",
                target.instance_name,
                lease / 1000,
                event.name,
                if event.status == "InProgress" { "running" } else { "waiting for it" }
            )
        } else if event.status == "Pending" && now - target.last_updated > start_timeout {
            format!(
                "The agent on instance {} did not pick up lifecycle event {} within {} seconds. \
                 Check that cutover-agent is running on the host and can reach the server.",
                target.instance_name,
                event.name,
                start_timeout / 1000
            )
        } else if event.status == "InProgress" && now - event.start_time.unwrap_or(now) > event_timeout {
            format!(
                "The agent on instance {} did not report lifecycle event {} within {} seconds.",
                target.instance_name,
                event.name,
                event_timeout / 1000
            )
        } else {
            continue;
        };
        let diagnostics = EventDiagnostics {
            error_code: "UnknownError".to_owned(),
            script_name: String::new(),
            message,
            log_tail: String::new(),
        };
        if tx
            .fail_unclaimed_event(&target.deployment_id, &target.instance_name, event.position, &diagnostics, now)
            .await?
        {
            tx.skip_pending_events(&target.deployment_id, &target.instance_name).await?;
            touched.push(target.deployment_id.clone());
        }
    }
    tx.commit().await?;
    touched.dedup();
    for id in touched {
        advance(state, &id, None).await?;
    }
    // Zonal deployments waiting out a bake move on once it ends.
    let baking = {
        let mut tx = state.store().begin().await?;
        let mut res = Vec::new();
        for id in tx.deployments_driven_by(&state.inner.replica_id).await? {
            if let Some(row) = tx.deployment(&id).await? {
                let options = DeploymentOptions::from_json(&row.options);
                let baked = options.zone_bake.is_some_and(|(_, until)| now >= until);
                // Blue/green: a Ready wait or a termination wait that ended.
                let waited = options
                    .blue_green
                    .as_ref()
                    .is_some_and(|bg| !bg.retired && bg.wait_until.is_some_and(|until| now >= until));
                if baked || waited {
                    res.push(id);
                }
            }
        }
        res
    };
    for id in baking {
        advance(state, &id, None).await?;
    }
    let deadline = now - (state.inner.config.deployment_timeout_secs * 1000) as i64;
    let expired = {
        let mut tx = state.store().begin().await?;
        let driven = tx.deployments_driven_by(&state.inner.replica_id).await?;
        let mut expired = tx.deployments_started_before(deadline).await?;
        expired.retain(|id| driven.contains(id));
        expired
    };
    for id in expired {
        expire(state, &id).await?;
    }
    Ok(())
}

/// Ends a deployment that ran past its deadline: running events fail, the rest is skipped, status Failed/TIMEOUT.
async fn expire(state: &AppState, deployment_id: &str) -> Result<(), StoreError> {
    let now = state.inner.clock.now_ms();
    let limit = state.inner.config.deployment_timeout_secs;
    let mut tx = state.store().begin().await?;
    if replicas::acquire(state, &mut tx, deployment_id).await?.is_none() {
        return Ok(());
    }
    let Some(deployment) = tx.deployment_for_update(deployment_id).await? else { return Ok(()) };
    if deployment.status != "InProgress" {
        return Ok(());
    }
    let diagnostics = EventDiagnostics {
        error_code: "UnknownError".to_owned(),
        script_name: String::new(),
        message: format!("The deployment exceeded its time limit of {limit} seconds; this event was still running."),
        log_tail: String::new(),
    };
    tx.fail_running_events(deployment_id, &diagnostics, now).await?;
    tx.skip_all_pending_events(deployment_id).await?;
    tx.skip_pending_targets(deployment_id, now).await?;
    let options = DeploymentOptions::from_json(&deployment.options);
    let events = tx.events_of_targets_in_status(deployment_id, "InProgress").await?;
    for chunk in events.chunk_by(|a, b| a.instance_name == b.instance_name) {
        if let Some(outcome) = target_outcome(chunk, &options) {
            tx.set_target_status(deployment_id, &chunk[0].instance_name, outcome, now).await?;
        }
    }
    let message = format!("The deployment timed out: it was still in progress {limit} seconds after it started.");
    let rollback = finish(
        state,
        &mut tx,
        &deployment,
        DeploymentStatus::Failed,
        Some((DeploymentErrorCode::Timeout, message)),
        now,
    )
    .await?;
    tx.commit().await?;
    if let Some(rollback) = rollback {
        advance(state, &rollback, None).await?;
    }
    Ok(())
}

/// How long delivered notifications are kept.
const TRIGGER_HISTORY_MS: i64 = 7 * 24 * 3600 * 1000;

pub(crate) async fn sweep_forever(state: AppState, every: Duration) {
    let mut last_prune = 0i64;
    let mut interval = tokio::time::interval(every);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        if let Err(error) = sweep(&state).await {
            tracing::warn!(message = "Sweep failed.", %error);
        }
        let now = state.inner.clock.now_ms();
        if now - last_prune > 10 * 60 * 1000 {
            last_prune = now;
            let pruned = async {
                let mut tx = state.store().begin().await?;
                let pruned = tx.prune_trigger_history(now - TRIGGER_HISTORY_MS).await?;
                tx.commit().await?;
                Ok::<u64, StoreError>(pruned)
            }
            .await;
            match pruned {
                Ok(0) => {}
                Ok(rows) => tracing::info!(message = "Pruned delivered notifications.", rows),
                Err(error) => tracing::warn!(message = "Pruning notifications failed.", %error),
            }
        }
    }
}
