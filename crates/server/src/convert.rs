//! Conversions between stored rows, domain values and CodeDeploy wire types.
//!
//! The JSON documents the server keeps in the store (group settings, config settings, deployment options) are
//! written and read only here.

use cutover_api_types::codedeploy as wire;
use cutover_domain::config::{self, ComputePlatform, DeploymentConfig, MinimumHealthyHosts, TrafficRouting};
use cutover_domain::tags::{Tag, TagFilter, TagFilterType};
use cutover_store::{DeploymentConfigRow, StoreError};
use serde::{Deserialize, Serialize};

/// Account and region in the ARNs Cutover hands out (stable, so scripts can build them).
pub(crate) const ARN_PREFIX: &str = "arn:cutover:codedeploy:local:000000000000";

pub(crate) fn instance_arn(name: &str) -> String {
    format!("{ARN_PREFIX}:instance/{name}")
}

/// Epoch milliseconds to the API's epoch seconds.
pub(crate) fn seconds(ms: i64) -> f64 {
    ms as f64 / 1000.0
}

pub(crate) fn tags_to_json(tags: &[(String, String)]) -> String {
    serde_json::to_string(tags).unwrap_or_else(|_| "[]".to_owned())
}

pub(crate) fn tags_from_json(json: &str) -> Vec<(String, String)> {
    serde_json::from_str(json).unwrap_or_default()
}

pub(crate) fn wire_tags(tags: &[(String, String)]) -> Vec<wire::Tag> {
    tags.iter().map(|(key, value)| wire::Tag { key: Some(key.clone()), value: Some(value.clone()) }).collect()
}

pub(crate) fn domain_tags(tags: &[(String, String)]) -> Vec<Tag> {
    tags.iter().map(|(key, value)| Tag { key: key.clone(), value: value.clone() }).collect()
}

/// Converts wire tag filters; None names the first filter with an unknown type.
pub(crate) fn domain_filters(filters: &[wire::TagFilter]) -> Result<Vec<TagFilter>, String> {
    filters
        .iter()
        .map(|filter| {
            let type_text = filter.type_.as_deref().unwrap_or("KEY_AND_VALUE");
            let filter_type = TagFilterType::parse(type_text)
                .ok_or_else(|| format!("tag filter type {type_text:?} is not KEY_ONLY, VALUE_ONLY or KEY_AND_VALUE"))?;
            Ok(TagFilter {
                key: filter.key.clone().filter(|key| !key.is_empty()),
                value: filter.value.clone().filter(|value| !value.is_empty()),
                filter_type,
            })
        })
        .collect()
}

/// A group's on-premises targeting: its tag filters and its tag set, in domain terms.
pub(crate) fn group_targeting(
    settings: &wire::DeploymentGroupInfo,
) -> Result<(Vec<TagFilter>, Vec<Vec<TagFilter>>), String> {
    let filters = domain_filters(settings.on_premises_instance_tag_filters.as_deref().unwrap_or_default())?;
    let tag_set = settings
        .on_premises_tag_set
        .as_ref()
        .and_then(|set| set.on_premises_tag_set_list.as_ref())
        .into_iter()
        .flatten()
        .map(|group| domain_filters(group))
        .collect::<Result<Vec<_>, String>>()?;
    Ok((filters, tag_set))
}

/// Options of a deployment that the API echoes back and the orchestrator and agents use.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct DeploymentOptions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    pub ignore_application_stop_failures: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_exists_behavior: Option<String>,
    #[serde(default)]
    pub update_outdated_instances_only: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_rollback_configuration: Option<wire::AutoRollbackConfiguration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback_info: Option<wire::RollbackInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_style: Option<wire::DeploymentStyle>,
    /// StopDeployment's `autoRollbackEnabled`, which decides rollback for that stop.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_auto_rollback: Option<bool>,
    /// Why an alarm stopped the deployment (it then ends Stopped with ALARM_ACTIVE).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped_by_alarm: Option<String>,
    /// Zonal deployments: the zone waiting for its bake time, and when the bake ends (epoch ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone_bake: Option<(usize, i64)>,
    /// CreateDeployment's `overrideAlarmConfiguration`, which replaces the group's alarms for this deployment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub override_alarm_configuration: Option<wire::AlarmConfiguration>,
    /// Target groups whose routers BlockTraffic/AllowTraffic drive (the group's `loadBalancerInfo`, when the
    /// deployment uses traffic control).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub target_groups: Vec<String>,
    /// Blue/green settings and progress; None for in-place deployments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blue_green: Option<crate::traffic::BlueGreen>,
    /// Function (Lambda) deployments: the alias, versions, hooks and progress.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<crate::functions::FunctionDeployment>,
    /// Container (ECS) deployments: the service, task definition, routes, hooks and progress.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<crate::ecs::ContainerDeployment>,
}

impl DeploymentOptions {
    pub(crate) fn from_json(json: &str) -> DeploymentOptions {
        serde_json::from_str(json).unwrap_or_default()
    }

    pub(crate) fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".to_owned())
    }
}

/// The identity of a revision: its location with the fields that name it, in a canonical order.
pub(crate) fn revision_key(location: &wire::RevisionLocation) -> String {
    let canonical = wire::RevisionLocation {
        revision_type: location.revision_type.clone(),
        s3_location: location.s3_location.as_ref().map(|s3| wire::S3Location {
            bucket: s3.bucket.clone(),
            key: s3.key.clone(),
            bundle_type: s3.bundle_type.clone(),
            version: s3.version.clone(),
            e_tag: s3.e_tag.as_ref().map(|etag| etag.trim_matches('"').to_owned()),
        }),
        git_hub_location: location.git_hub_location.clone(),
        string: location.string.clone(),
        app_spec_content: location.app_spec_content.clone(),
    };
    serde_json::to_string(&canonical).unwrap_or_default()
}

pub(crate) fn revision_key_from_json(json: &str) -> String {
    serde_json::from_str::<wire::RevisionLocation>(json).map(|location| revision_key(&location)).unwrap_or_default()
}

/// Reads a custom configuration's stored settings into the domain model.
pub(crate) fn config_from_row(row: &DeploymentConfigRow) -> Result<DeploymentConfig, StoreError> {
    let info: wire::DeploymentConfigInfo = serde_json::from_str(&row.spec)
        .map_err(|error| StoreError::Corrupt(format!("config {}: {error}", row.name)))?;
    let minimum_healthy_hosts = info.minimum_healthy_hosts.as_ref().and_then(|mhh| {
        MinimumHealthyHosts::from_wire(mhh.type_.as_deref().unwrap_or(""), mhh.value.unwrap_or(0).max(0) as u64)
    });
    let traffic_routing = info.traffic_routing_config.as_ref().and_then(|routing| match routing.type_.as_deref() {
        Some("TimeBasedCanary") => routing.time_based_canary.as_ref().map(|canary| TrafficRouting::TimeBasedCanary {
            percentage: canary.canary_percentage.unwrap_or(0).max(0) as u64,
            interval_minutes: canary.canary_interval.unwrap_or(0).max(0) as u64,
        }),
        Some("TimeBasedLinear") => routing.time_based_linear.as_ref().map(|linear| TrafficRouting::TimeBasedLinear {
            percentage: linear.linear_percentage.unwrap_or(0).max(0) as u64,
            interval_minutes: linear.linear_interval.unwrap_or(0).max(0) as u64,
        }),
        Some("AllAtOnce") => Some(TrafficRouting::AllAtOnce),
        _ => None,
    });
    Ok(DeploymentConfig {
        name: row.name.clone(),
        compute_platform: ComputePlatform::parse(&row.compute_platform).unwrap_or(ComputePlatform::Server),
        minimum_healthy_hosts,
        traffic_routing,
    })
}

/// The wire view of a configuration (predefined ones have no id or creation time of their own).
pub(crate) fn config_info(
    config: &DeploymentConfig,
    id: Option<String>,
    create_time: Option<i64>,
) -> wire::DeploymentConfigInfo {
    wire::DeploymentConfigInfo {
        deployment_config_id: id,
        deployment_config_name: Some(config.name.clone()),
        minimum_healthy_hosts: config.minimum_healthy_hosts.map(|mhh| wire::MinimumHealthyHosts {
            type_: Some(mhh.wire_type().to_owned()),
            value: Some(mhh.wire_value() as i64),
        }),
        create_time: create_time.map(seconds),
        compute_platform: Some(config.compute_platform.as_str().to_owned()),
        traffic_routing_config: config.traffic_routing.map(|routing| wire::TrafficRoutingConfig {
            type_: Some(routing.wire_type().to_owned()),
            time_based_canary: match routing {
                TrafficRouting::TimeBasedCanary { percentage, interval_minutes } => Some(wire::TimeBasedCanary {
                    canary_percentage: Some(percentage as i64),
                    canary_interval: Some(interval_minutes as i64),
                }),
                _ => None,
            },
            time_based_linear: match routing {
                TrafficRouting::TimeBasedLinear { percentage, interval_minutes } => Some(wire::TimeBasedLinear {
                    linear_percentage: Some(percentage as i64),
                    linear_interval: Some(interval_minutes as i64),
                }),
                _ => None,
            },
        }),
        zonal_config: None,
    }
}

/// Finds a configuration by name among the predefined ones and the store's; None if it does not exist.
pub(crate) async fn find_config(
    tx: &mut cutover_store::Tx,
    name: &str,
) -> Result<Option<(DeploymentConfig, Option<DeploymentConfigRow>)>, StoreError> {
    if let Some(predefined) = config::find_predefined(name) {
        return Ok(Some((predefined, None)));
    }
    match tx.deployment_config_by_name(name).await? {
        Some(row) => Ok(Some((config_from_row(&row)?, Some(row)))),
        None => Ok(None),
    }
}

/// The stored `zonalConfig` of a custom configuration, as sent.
pub(crate) fn zonal_wire_from_row(row: &DeploymentConfigRow) -> Option<wire::ZonalConfig> {
    serde_json::from_str::<wire::DeploymentConfigInfo>(&row.spec).ok().and_then(|info| info.zonal_config)
}

/// The zonal settings of a configuration, if it is zonal (predefined configurations never are).
pub(crate) fn zonal_from_row(row: &DeploymentConfigRow) -> Option<cutover_domain::zonal::ZonalConfig> {
    let zonal = zonal_wire_from_row(row)?;
    let per_zone = zonal.minimum_healthy_hosts_per_zone.as_ref();
    cutover_domain::zonal::validate(
        zonal.first_zone_monitor_duration_in_seconds,
        zonal.monitor_duration_in_seconds,
        per_zone.and_then(|m| m.type_.as_deref()),
        per_zone.and_then(|m| m.value),
    )
    .ok()
}
