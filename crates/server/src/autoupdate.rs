//! Late joiners and outdated instances (CodeDeploy's Auto Scaling integration, for on-premises hosts).
//!
//! - An instance that registers and matches a group that already has a successful revision, but was never
//!   deployed to by that group, receives that revision at once: a deployment with creator `autoscaling` to just
//!   that instance. If the group is busy, the instance is picked up when the running deployment ends.
//! - When a deployment succeeds and the group's `outdatedInstancesStrategy` is UPDATE (the default), instances
//!   that match the group but do not run its revision (they joined during the deployment) get a follow-on
//!   deployment with creator `CodeDeployAutoUpdate` and `updateOutdatedInstancesOnly`.
//!
//! Only instances with no deployment history in the group count as late joiners, so an agent restarting on a host
//! whose last deployment failed does not trigger a redeploy by itself.

use cutover_api_types::codedeploy as wire;
use cutover_domain::tags;
use cutover_store::{DeploymentGroupRow, DeploymentRow, StoreError, Tx};

use crate::convert::{self, DeploymentOptions};
use crate::{AppState, orchestrator};

/// Instances that match a group's tags and are registered, in name order.
async fn matching_instances(tx: &mut Tx, settings: &wire::DeploymentGroupInfo) -> Result<Vec<String>, StoreError> {
    // Stored settings were validated when the group was written.
    let (filters, tag_set) = convert::group_targeting(settings).unwrap_or_default();
    let mut res = Vec::new();
    for instance in tx.list_instances().await? {
        let instance_tags = convert::domain_tags(&convert::tags_from_json(&instance.tags));
        if instance.deregister_time.is_none() && tags::is_targeted(&filters, &tag_set, &instance_tags) {
            res.push(instance.name);
        }
    }
    Ok(res)
}

/// Creates a deployment of the group's last successful revision to `targets`; returns its id, or None when the
/// group is busy or has no successful revision.
async fn create_catch_up(
    state: &AppState,
    tx: &mut Tx,
    group: &DeploymentGroupRow,
    creator: &str,
    targets: Vec<String>,
) -> Result<Option<String>, StoreError> {
    let Some(last_id) = group.last_successful_deployment_id.clone() else { return Ok(None) };
    let Some(last) = tx.deployment(&last_id).await? else { return Ok(None) };
    if targets.is_empty() || group.active_deployment_id.is_some() {
        return Ok(None);
    }
    let now = state.inner.clock.now_ms();
    let id = state.inner.clock.deployment_id();
    let last_options = DeploymentOptions::from_json(&last.options);
    // A catch-up is in place, even in a blue/green group; with traffic control the new hosts join the target groups
    // once they passed their health checks.
    let traffic_control = !last_options.target_groups.is_empty();
    let options = DeploymentOptions {
        description: Some(format!("{creator}: bring {} up to the group's revision", targets.join(", "))),
        file_exists_behavior: last_options.file_exists_behavior,
        update_outdated_instances_only: creator == "CodeDeployAutoUpdate",
        deployment_style: Some(wire::DeploymentStyle {
            deployment_type: Some("IN_PLACE".to_owned()),
            deployment_option: Some(
                if traffic_control { "WITH_TRAFFIC_CONTROL" } else { "WITHOUT_TRAFFIC_CONTROL" }.to_owned(),
            ),
        }),
        target_groups: last_options.target_groups,
        ..DeploymentOptions::default()
    };
    let row = DeploymentRow {
        id: id.clone(),
        application_id: group.application_id.clone(),
        application_name: group.application_name.clone(),
        deployment_group_id: group.id.clone(),
        deployment_group_name: group.name.clone(),
        // One host at a time whatever the group's configuration: a single new host must not fail the
        // deployment's health rule (HalfAtATime of one host is invalid).
        config_name: if targets.len() == 1 {
            cutover_domain::config::DEFAULT_CONFIG.to_owned()
        } else {
            group.config_name.clone()
        },
        status: "Created".to_owned(),
        creator: creator.to_owned(),
        revision: last.revision.clone(),
        bundle: last.bundle.clone(),
        previous_revision: group.target_revision.clone(),
        options: options.to_json(),
        min_healthy: None,
        error_code: None,
        error_message: None,
        stop_requested: false,
        create_time: now,
        start_time: None,
        complete_time: None,
    };
    if !tx.claim_group_for_deployment(&group.id, &id).await? {
        return Ok(None);
    }
    let plan = crate::api::deployments::plan_targets(&targets, &[], false, traffic_control, false);
    tx.insert_deployment_plan(&row, &plan).await?;
    tracing::info!(message = "Catch-up deployment created.", deployment_id = %id, %creator, group = %group.name, targets = targets.len());
    Ok(Some(id))
}

/// Deploys each group's current revision to instances of it that have never been deployed to by the group.
pub(crate) async fn catch_up_new_instances(state: &AppState) -> Result<(), StoreError> {
    let mut created = Vec::new();
    {
        let mut tx = state.store().begin().await?;
        for app in tx.list_applications().await? {
            for group in tx.list_deployment_groups(&app.id).await? {
                if group.last_successful_deployment_id.is_none() || group.active_deployment_id.is_some() {
                    continue;
                }
                let settings: wire::DeploymentGroupInfo = serde_json::from_str(&group.spec)
                    .map_err(|error| StoreError::Corrupt(format!("group {}: {error}", group.name)))?;
                if crate::api::groups::style(&settings).0 {
                    // Blue/green: each deployment names its replacement hosts; nothing is installed unasked.
                    continue;
                }
                let known: Vec<String> =
                    tx.group_instances(&group.id).await?.into_iter().map(|row| row.instance_name).collect();
                let new: Vec<String> = matching_instances(&mut tx, &settings)
                    .await?
                    .into_iter()
                    .filter(|name| !known.contains(name))
                    .collect();
                if let Some(id) = create_catch_up(state, &mut tx, &group, "autoscaling", new).await? {
                    created.push(id);
                }
            }
        }
        tx.commit().await?;
    }
    for id in created {
        orchestrator::advance(state, &id, None).await?;
    }
    Ok(())
}

/// After a successful deployment: deploys the revision to matching instances that do not run it yet, when the
/// group's `outdatedInstancesStrategy` is UPDATE.
pub(crate) async fn update_outdated(state: &AppState, group_id: &str) -> Result<(), StoreError> {
    let created = {
        let mut tx = state.store().begin().await?;
        let Some(group) = tx.deployment_group_by_id(group_id).await? else { return Ok(()) };
        let settings: wire::DeploymentGroupInfo = serde_json::from_str(&group.spec)
            .map_err(|error| StoreError::Corrupt(format!("group {}: {error}", group.name)))?;
        if settings.outdated_instances_strategy.as_deref() == Some("IGNORE") || crate::api::groups::style(&settings).0 {
            return Ok(());
        }
        if group.target_revision.is_none() {
            return Ok(());
        }
        // Hosts already on the revision have a row too, so "never deployed to by this group" covers both checks.
        let known: Vec<String> =
            tx.group_instances(&group.id).await?.into_iter().map(|row| row.instance_name).collect();
        // Instances that joined while the deployment ran: matching now, never deployed to by this group.
        let outdated: Vec<String> =
            matching_instances(&mut tx, &settings).await?.into_iter().filter(|name| !known.contains(name)).collect();
        let created = create_catch_up(state, &mut tx, &group, "CodeDeployAutoUpdate", outdated).await?;
        tx.commit().await?;
        created
    };
    if let Some(id) = created {
        orchestrator::advance(state, &id, None).await?;
    }
    Ok(())
}
