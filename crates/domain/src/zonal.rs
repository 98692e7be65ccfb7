//! Zonal deployments: one zone at a time, with a bake time between zones and a health budget per zone.
//!
//! CodeDeploy's `zonalConfig` deploys Availability Zone by zone; Cutover takes a host's zone from a tag. Zones are
//! deployed in the caller's order (sorted by name, hosts without a zone last). The fleet-wide minimum of healthy
//! hosts applies as in [`crate::planner`], and within the zone being deployed, `minimumHealthyHostsPerZone`
//! (default 0 %) applies in addition: concurrency is the smaller of the two budgets.

use crate::config::MinimumHealthyHosts;
use crate::planner::unavailable_budget;
use crate::status::DeploymentErrorCode;

/// A validated `zonalConfig`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZonalConfig {
    /// Bake time after the first zone; defaults to `monitor_secs`.
    pub first_zone_monitor_secs: Option<u64>,
    /// Bake time after every later zone; 0 or absent means none.
    pub monitor_secs: Option<u64>,
    /// Per-zone minimum of healthy hosts; defaults to 0 %.
    pub minimum_healthy_hosts_per_zone: Option<MinimumHealthyHosts>,
}

impl ZonalConfig {
    /// Seconds to wait before starting zone `zone` (0 for the first zone).
    pub fn bake_before(&self, zone: usize) -> u64 {
        match zone {
            0 => 0,
            1 => self.first_zone_monitor_secs.or(self.monitor_secs).unwrap_or(0),
            _ => self.monitor_secs.unwrap_or(0),
        }
    }
}

/// Why a `zonalConfig` is invalid (`InvalidZonalDeploymentConfigurationException`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid zonal configuration: {0}")]
pub struct ZonalConfigError(pub String);

/// Validates the wire values of a `zonalConfig`.
pub fn validate(
    first_zone_monitor_secs: Option<i64>,
    monitor_secs: Option<i64>,
    per_zone_type: Option<&str>,
    per_zone_value: Option<i64>,
) -> Result<ZonalConfig, ZonalConfigError> {
    let seconds = |name: &str, value: Option<i64>| match value {
        Some(v) if v < 0 => Err(ZonalConfigError(format!("{name} must be 0 or more, got {v}"))),
        Some(v) => Ok(Some(v as u64)),
        None => Ok(None),
    };
    let first_zone_monitor_secs = seconds("firstZoneMonitorDurationInSeconds", first_zone_monitor_secs)?;
    let monitor_secs = seconds("monitorDurationInSeconds", monitor_secs)?;
    let minimum_healthy_hosts_per_zone = match (per_zone_type, per_zone_value) {
        (None, None) => None,
        (Some("HOST_COUNT"), Some(value)) if value >= 0 => Some(MinimumHealthyHosts::HostCount(value as u64)),
        (Some("FLEET_PERCENT"), Some(value)) if (0..=99).contains(&value) => {
            Some(MinimumHealthyHosts::FleetPercent(value as u64))
        }
        (kind, value) => {
            return Err(ZonalConfigError(format!(
                "minimumHealthyHostsPerZone needs type HOST_COUNT (value 0 or more) or FLEET_PERCENT (0-99), got {} {}",
                kind.unwrap_or("no type"),
                value.map_or("no value".to_owned(), |v| v.to_string())
            )));
        }
    };
    Ok(ZonalConfig { first_zone_monitor_secs, monitor_secs, minimum_healthy_hosts_per_zone })
}

/// How far the targets of one zone have got.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ZoneProgress {
    pub pending: u64,
    pub in_progress: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub skipped: u64,
}

impl ZoneProgress {
    fn total(&self) -> u64 {
        self.pending + self.in_progress + self.succeeded + self.failed + self.skipped
    }

    fn started(&self) -> bool {
        self.in_progress + self.succeeded + self.failed + self.skipped > 0
    }
}

/// What a zonal deployment does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ZonalStep {
    /// Start `count` more pending targets of zone `zone`, in their order.
    Dispatch {
        zone: usize,
        count: u64,
    },
    /// Zone `zone` may start only after baking `secs` seconds since the previous zone finished.
    Bake {
        zone: usize,
        secs: u64,
    },
    Wait,
    Succeeded,
    /// Fail the deployment; every pending target is skipped.
    Failed {
        code: DeploymentErrorCode,
    },
}

/// Decides the next step of a zonal deployment. `baked` tells whether the bake before the next zone is over.
pub fn step(min_healthy: u64, config: &ZonalConfig, zones: &[ZoneProgress], baked: bool) -> ZonalStep {
    let sum = |f: fn(&ZoneProgress) -> u64| zones.iter().map(f).sum::<u64>();
    let (pending, in_progress, succeeded, failed) =
        (sum(|z| z.pending), sum(|z| z.in_progress), sum(|z| z.succeeded), sum(|z| z.failed));
    let n: u64 = zones.iter().map(ZoneProgress::total).sum();
    if n == 0 {
        return ZonalStep::Failed { code: DeploymentErrorCode::NoInstances };
    }
    if pending == 0 {
        if in_progress > 0 {
            return ZonalStep::Wait;
        }
        return if succeeded >= min_healthy && succeeded >= 1 {
            ZonalStep::Succeeded
        } else {
            ZonalStep::Failed { code: DeploymentErrorCode::HealthConstraints }
        };
    }
    let budget = unavailable_budget(n, min_healthy);
    if failed >= budget {
        return if in_progress > 0 {
            ZonalStep::Wait
        } else {
            ZonalStep::Failed { code: DeploymentErrorCode::HealthConstraints }
        };
    }
    // The zone being deployed: the first one with work left.
    let Some(zone) = zones.iter().position(|z| z.pending > 0 || z.in_progress > 0) else { return ZonalStep::Wait };
    let progress = zones[zone];
    if !progress.started() && zone > 0 && !baked {
        let secs = config.bake_before(zone);
        if secs > 0 {
            return ZonalStep::Bake { zone, secs };
        }
    }
    let rule = config.minimum_healthy_hosts_per_zone.unwrap_or(MinimumHealthyHosts::FleetPercent(0));
    let zone_budget = unavailable_budget(progress.total(), rule.min_healthy(progress.total()));
    if progress.failed >= zone_budget {
        return if in_progress > 0 {
            ZonalStep::Wait
        } else {
            ZonalStep::Failed { code: DeploymentErrorCode::HealthConstraints }
        };
    }
    let fleet_room = (budget - failed).saturating_sub(in_progress);
    let zone_room = (zone_budget - progress.failed).saturating_sub(progress.in_progress);
    let count = fleet_room.min(zone_room).min(progress.pending);
    if count == 0 { ZonalStep::Wait } else { ZonalStep::Dispatch { zone, count } }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Dispatch batches as (zone, count), bakes as (zone, seconds), and the outcome.
    type Simulation = (Vec<(usize, u64)>, Vec<(usize, u64)>, ZonalStep);

    fn zone(pending: u64) -> ZoneProgress {
        ZoneProgress { pending, ..ZoneProgress::default() }
    }

    /// Runs a whole zonal deployment where every host succeeds except `failing` (by global index), completing one
    /// host at a time; returns the dispatch batches as (zone, count), the bakes seen and the outcome.
    fn simulate(min_healthy: u64, config: ZonalConfig, sizes: &[u64], failing: &[usize]) -> Simulation {
        let mut zones: Vec<ZoneProgress> = sizes.iter().map(|&n| zone(n)).collect();
        let offsets: Vec<usize> = sizes
            .iter()
            .scan(0usize, |acc, &n| {
                let start = *acc;
                *acc += n as usize;
                Some(start)
            })
            .collect();
        let mut running: Vec<(usize, usize)> = Vec::new(); // (zone, global index)
        let mut started = vec![0u64; sizes.len()];
        let (mut batches, mut bakes) = (Vec::new(), Vec::new());
        let mut baked = false;
        for _ in 0..10_000 {
            match step(min_healthy, &config, &zones, baked) {
                ZonalStep::Dispatch { zone, count } => {
                    baked = false;
                    batches.push((zone, count));
                    for _ in 0..count {
                        let index = offsets[zone] + started[zone] as usize;
                        started[zone] += 1;
                        zones[zone].pending -= 1;
                        zones[zone].in_progress += 1;
                        running.push((zone, index));
                    }
                }
                ZonalStep::Bake { zone, secs } => {
                    bakes.push((zone, secs));
                    baked = true;
                }
                ZonalStep::Wait => {
                    let (zone, index) = running.remove(0);
                    zones[zone].in_progress -= 1;
                    if failing.contains(&index) { zones[zone].failed += 1 } else { zones[zone].succeeded += 1 }
                }
                done => return (batches, bakes, done),
            }
        }
        panic!("did not finish");
    }

    #[test]
    fn deploys_zone_by_zone_with_bakes_between() {
        let config = ZonalConfig {
            first_zone_monitor_secs: Some(60),
            monitor_secs: Some(30),
            minimum_healthy_hosts_per_zone: None,
        };
        // 9 hosts in three zones, fleet HOST_COUNT 6 → 3 unavailable at most; per zone 0% → whole zone at once.
        let (batches, bakes, outcome) = simulate(6, config, &[3, 3, 3], &[]);
        assert_eq!(outcome, ZonalStep::Succeeded);
        assert_eq!(bakes, [(1, 60), (2, 30)]);
        assert!(batches.iter().all(|(_, count)| *count <= 3));
        // Never two zones at once: batches are grouped by zone in order.
        let zones: Vec<usize> = batches.iter().map(|(zone, _)| *zone).collect();
        assert!(zones.windows(2).all(|pair| pair[0] <= pair[1]), "{zones:?}");
    }

    #[test]
    fn per_zone_budget_limits_concurrency_and_fails_the_deployment() {
        let config = ZonalConfig {
            first_zone_monitor_secs: None,
            monitor_secs: None,
            minimum_healthy_hosts_per_zone: Some(MinimumHealthyHosts::HostCount(3)),
        };
        // Zones of 4: at most 1 unavailable per zone even though the fleet allows 8 (min 0).
        let (batches, bakes, outcome) = simulate(0, config, &[4, 4], &[]);
        assert_eq!(outcome, ZonalStep::Succeeded);
        assert!(bakes.is_empty(), "no monitor duration, no bake");
        assert!(batches.iter().all(|(_, count)| *count == 1), "{batches:?}");
        // One failure spends the zone's budget while hosts of the zone remain: the deployment fails.
        let (_, _, outcome) = simulate(0, config, &[4, 4], &[0]);
        assert_eq!(outcome, ZonalStep::Failed { code: DeploymentErrorCode::HealthConstraints });
    }

    #[test]
    fn fleet_budget_still_applies() {
        let config =
            ZonalConfig { first_zone_monitor_secs: None, monitor_secs: None, minimum_healthy_hosts_per_zone: None };
        // Fleet of 6 with min 5: one at a time across zones; a failure with hosts left fails it.
        let (batches, _, outcome) = simulate(5, config, &[3, 3], &[1]);
        assert!(batches.iter().all(|(_, count)| *count == 1));
        assert_eq!(outcome, ZonalStep::Failed { code: DeploymentErrorCode::HealthConstraints });
        assert_eq!(step(0, &config, &[], false), ZonalStep::Failed { code: DeploymentErrorCode::NoInstances });
    }

    #[test]
    fn validation_messages() {
        assert_eq!(validate(Some(10), Some(5), Some("FLEET_PERCENT"), Some(50)).map(|c| c.bake_before(1)), Ok(10));
        assert_eq!(validate(None, Some(5), None, None).map(|c| (c.bake_before(1), c.bake_before(2))), Ok((5, 5)));
        assert_eq!(
            validate(Some(-1), None, None, None).unwrap_err().to_string(),
            "invalid zonal configuration: firstZoneMonitorDurationInSeconds must be 0 or more, got -1"
        );
        assert!(validate(None, None, Some("FLEET_PERCENT"), Some(100)).is_err());
        assert!(validate(None, None, Some("HOST_COUNT"), None).is_err());
    }
}
