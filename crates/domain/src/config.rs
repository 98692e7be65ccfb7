//! Deployment configurations: the predefined `CodeDeployDefault.*` set, the minimum-healthy-hosts rule, traffic
//! routing for Lambda/ECS, and validation of CreateDeploymentConfig input.

use std::fmt;

use crate::ids;

/// The config used when neither the deployment nor its group names one.
pub const DEFAULT_CONFIG: &str = "CodeDeployDefault.OneAtATime";

/// The name prefix of the predefined configs; users cannot create configs with it.
pub const RESERVED_PREFIX: &str = "CodeDeployDefault.";

/// The longest time, in minutes, from the first to the last traffic shift.
pub const MAX_TRAFFIC_ROUTING_SPAN_MINUTES: u64 = 2880;

/// The largest share of traffic, in percent, that one shift may move.
pub const MAX_TRAFFIC_SHIFT_PERCENT: u64 = 99;

/// The platform an application, deployment group or config deploys to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ComputePlatform {
    /// EC2 and on-premises instances.
    Server,
    Lambda,
    Ecs,
}

impl ComputePlatform {
    /// Every platform.
    pub const ALL: [ComputePlatform; 3] = [Self::Server, Self::Lambda, Self::Ecs];

    /// Returns CodeDeploy's spelling: `Server`, `Lambda` or `ECS`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Server => "Server",
            Self::Lambda => "Lambda",
            Self::Ecs => "ECS",
        }
    }

    /// Parses CodeDeploy's spelling (exact, case-sensitive).
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|platform| platform.as_str() == text)
    }
}

impl fmt::Display for ComputePlatform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How many instances must stay healthy during an EC2/on-premises deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MinimumHealthyHosts {
    /// At least this many instances.
    HostCount(u64),
    /// At least this percentage of the instances, rounded up.
    FleetPercent(u64),
    /// `CodeDeployDefault.OneAtATime`: all but one instance, so one is updated at a time.
    ///
    /// The API reports it as `MOST_CONCURRENCY` 1, a type users cannot create; its behaviour is defined here.
    OneAtATime,
}

impl MinimumHealthyHosts {
    /// Returns the minimum number of healthy instances for a deployment to `n` instances.
    ///
    /// FLEET_PERCENT rounds up (40% of 9 is 4), and OneAtATime is `n − 1` (0 for a single instance).
    pub fn min_healthy(&self, n: u64) -> u64 {
        match *self {
            Self::HostCount(count) => count,
            Self::FleetPercent(percent) => {
                // u128 keeps `n * percent` exact for any inputs; the result is at most `n` for percent ≤ 100.
                let min = (u128::from(n) * u128::from(percent)).div_ceil(100);
                u64::try_from(min).unwrap_or(u64::MAX)
            }
            Self::OneAtATime => n.saturating_sub(1),
        }
    }

    /// Returns the `minimumHealthyHosts.type` CodeDeploy reports: `HOST_COUNT`, `FLEET_PERCENT` or `MOST_CONCURRENCY`.
    pub fn wire_type(&self) -> &'static str {
        match self {
            Self::HostCount(_) => "HOST_COUNT",
            Self::FleetPercent(_) => "FLEET_PERCENT",
            Self::OneAtATime => "MOST_CONCURRENCY",
        }
    }

    /// Returns the `minimumHealthyHosts.value` CodeDeploy reports (1 for OneAtATime).
    pub fn wire_value(&self) -> u64 {
        match *self {
            Self::HostCount(value) | Self::FleetPercent(value) => value,
            Self::OneAtATime => 1,
        }
    }

    /// Rebuilds a rule from what `wire_type`/`wire_value` produced, e.g. when reading it back from storage.
    ///
    /// This does not validate user input: it accepts `MOST_CONCURRENCY` and any value. Use [`validate_new_config`]
    /// for requests.
    pub fn from_wire(wire_type: &str, value: u64) -> Option<Self> {
        match wire_type {
            "HOST_COUNT" => Some(Self::HostCount(value)),
            "FLEET_PERCENT" => Some(Self::FleetPercent(value)),
            "MOST_CONCURRENCY" => Some(Self::OneAtATime),
            _ => None,
        }
    }
}

/// How a Lambda or ECS deployment shifts traffic to the new version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrafficRouting {
    /// Everything at once.
    AllAtOnce,
    /// `percentage` at once, then the rest `interval_minutes` later.
    TimeBasedCanary { percentage: u64, interval_minutes: u64 },
    /// `percentage` more every `interval_minutes` until all traffic has shifted.
    TimeBasedLinear { percentage: u64, interval_minutes: u64 },
}

/// One traffic shift: at `at_minute` after the first shift, `total_percent` of traffic is on the new version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrafficShift {
    pub at_minute: u64,
    pub total_percent: u64,
}

impl TrafficRouting {
    /// Returns the `trafficRoutingConfig.type` spelling: `AllAtOnce`, `TimeBasedCanary` or `TimeBasedLinear`.
    pub fn wire_type(&self) -> &'static str {
        match self {
            Self::AllAtOnce => "AllAtOnce",
            Self::TimeBasedCanary { .. } => "TimeBasedCanary",
            Self::TimeBasedLinear { .. } => "TimeBasedLinear",
        }
    }

    /// Returns the shifts in time order; the last one always reaches 100%.
    ///
    /// Expects a validated routing (percentage 1–99): a percentage of 0 is treated as 1 so the schedule still ends.
    pub fn schedule(&self) -> Vec<TrafficShift> {
        match *self {
            Self::AllAtOnce => vec![TrafficShift { at_minute: 0, total_percent: 100 }],
            Self::TimeBasedCanary { percentage, interval_minutes } => vec![
                TrafficShift { at_minute: 0, total_percent: percentage.min(100) },
                TrafficShift { at_minute: interval_minutes, total_percent: 100 },
            ],
            Self::TimeBasedLinear { percentage, interval_minutes } => {
                let step = percentage.clamp(1, 100);
                let n_shifts = 100_u64.div_ceil(step);
                (0..n_shifts)
                    .map(|index| TrafficShift {
                        at_minute: index.saturating_mul(interval_minutes),
                        total_percent: ((index + 1) * step).min(100),
                    })
                    .collect()
            }
        }
    }

    /// Returns the time from the first to the last shift, in minutes (the quantity limited to 2880).
    pub fn span_minutes(&self) -> u64 {
        match *self {
            Self::AllAtOnce => 0,
            Self::TimeBasedCanary { interval_minutes, .. } => interval_minutes,
            Self::TimeBasedLinear { percentage, interval_minutes } => {
                let n_shifts = 100_u64.div_ceil(percentage.clamp(1, 100));
                (n_shifts - 1).saturating_mul(interval_minutes)
            }
        }
    }
}

/// A deployment configuration, predefined or created through CreateDeploymentConfig.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentConfig {
    pub name: String,
    pub compute_platform: ComputePlatform,
    /// Present for every Server config; Lambda and ECS configs normally have none.
    pub minimum_healthy_hosts: Option<MinimumHealthyHosts>,
    /// Present for the predefined Lambda/ECS configs; absent means all at once (see `effective_traffic_routing`).
    pub traffic_routing: Option<TrafficRouting>,
}

impl DeploymentConfig {
    /// Returns true for the `CodeDeployDefault.*` configs, which cannot be deleted.
    pub fn is_predefined(&self) -> bool {
        self.name.starts_with(RESERVED_PREFIX)
    }

    /// Returns the rule the in-place planner applies; a Server config without one behaves as OneAtATime, the default.
    pub fn effective_minimum_healthy_hosts(&self) -> MinimumHealthyHosts {
        self.minimum_healthy_hosts.unwrap_or(MinimumHealthyHosts::OneAtATime)
    }

    /// Returns how traffic shifts; a config without routing shifts all at once.
    pub fn effective_traffic_routing(&self) -> TrafficRouting {
        self.traffic_routing.unwrap_or(TrafficRouting::AllAtOnce)
    }
}

/// Builds one entry of the predefined table.
fn predefined_config(
    name: &str,
    compute_platform: ComputePlatform,
    minimum_healthy_hosts: Option<MinimumHealthyHosts>,
    traffic_routing: Option<TrafficRouting>,
) -> DeploymentConfig {
    DeploymentConfig { name: name.to_owned(), compute_platform, minimum_healthy_hosts, traffic_routing }
}

/// Returns every predefined `CodeDeployDefault.*` config: three Server, nine Lambda and five ECS configs.
pub fn predefined() -> Vec<DeploymentConfig> {
    use ComputePlatform::{Ecs, Lambda, Server};
    use TrafficRouting::{AllAtOnce, TimeBasedCanary, TimeBasedLinear};

    let canary = |interval_minutes| Some(TimeBasedCanary { percentage: 10, interval_minutes });
    let linear = |interval_minutes| Some(TimeBasedLinear { percentage: 10, interval_minutes });
    vec![
        predefined_config(DEFAULT_CONFIG, Server, Some(MinimumHealthyHosts::OneAtATime), None),
        predefined_config("CodeDeployDefault.HalfAtATime", Server, Some(MinimumHealthyHosts::FleetPercent(50)), None),
        predefined_config("CodeDeployDefault.AllAtOnce", Server, Some(MinimumHealthyHosts::HostCount(0)), None),
        predefined_config("CodeDeployDefault.LambdaAllAtOnce", Lambda, None, Some(AllAtOnce)),
        predefined_config("CodeDeployDefault.LambdaCanary10Percent5Minutes", Lambda, None, canary(5)),
        predefined_config("CodeDeployDefault.LambdaCanary10Percent10Minutes", Lambda, None, canary(10)),
        predefined_config("CodeDeployDefault.LambdaCanary10Percent15Minutes", Lambda, None, canary(15)),
        predefined_config("CodeDeployDefault.LambdaCanary10Percent30Minutes", Lambda, None, canary(30)),
        predefined_config("CodeDeployDefault.LambdaLinear10PercentEvery1Minute", Lambda, None, linear(1)),
        predefined_config("CodeDeployDefault.LambdaLinear10PercentEvery2Minutes", Lambda, None, linear(2)),
        predefined_config("CodeDeployDefault.LambdaLinear10PercentEvery3Minutes", Lambda, None, linear(3)),
        predefined_config("CodeDeployDefault.LambdaLinear10PercentEvery10Minutes", Lambda, None, linear(10)),
        predefined_config("CodeDeployDefault.ECSAllAtOnce", Ecs, None, Some(AllAtOnce)),
        predefined_config("CodeDeployDefault.ECSCanary10Percent5Minutes", Ecs, None, canary(5)),
        predefined_config("CodeDeployDefault.ECSCanary10Percent15Minutes", Ecs, None, canary(15)),
        // The ECS linear names really are plural even for one minute.
        predefined_config("CodeDeployDefault.ECSLinear10PercentEvery1Minutes", Ecs, None, linear(1)),
        predefined_config("CodeDeployDefault.ECSLinear10PercentEvery3Minutes", Ecs, None, linear(3)),
    ]
}

/// Returns the predefined config called `name` (exact match), if there is one.
pub fn find_predefined(name: &str) -> Option<DeploymentConfig> {
    predefined().into_iter().find(|config| config.name == name)
}

/// The input of CreateDeploymentConfig, as it arrives on the wire.
///
/// Fields are raw (strings and signed integers) so that every rule, including "unknown type" and "negative value",
/// is checked here rather than in the API layer. Absent JSON members are `None`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NewDeploymentConfig<'a> {
    pub name: &'a str,
    /// `computePlatform`; absent means Server.
    pub compute_platform: Option<&'a str>,
    /// `minimumHealthyHosts.type`.
    pub minimum_healthy_hosts_type: Option<&'a str>,
    /// `minimumHealthyHosts.value`.
    pub minimum_healthy_hosts_value: Option<i64>,
    /// `trafficRoutingConfig.type`.
    pub traffic_routing_type: Option<&'a str>,
    /// `trafficRoutingConfig.timeBasedCanary.canaryPercentage`.
    pub canary_percentage: Option<i64>,
    /// `trafficRoutingConfig.timeBasedCanary.canaryInterval`, in minutes.
    pub canary_interval: Option<i64>,
    /// `trafficRoutingConfig.timeBasedLinear.linearPercentage`.
    pub linear_percentage: Option<i64>,
    /// `trafficRoutingConfig.timeBasedLinear.linearInterval`, in minutes.
    pub linear_interval: Option<i64>,
}

/// Why a CreateDeploymentConfig request is invalid; each variant is one API exception.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("deployment config name is required")]
    NameRequired,
    #[error("invalid deployment config name {name:?}: {reason}")]
    InvalidName { name: String, reason: &'static str },
    #[error("invalid minimum healthy hosts: {0}")]
    InvalidMinimumHealthyHosts(String),
    #[error("invalid traffic routing configuration: {0}")]
    InvalidTrafficRouting(String),
    #[error("invalid compute platform {0:?}: expected Server, Lambda or ECS")]
    InvalidComputePlatform(String),
}

impl ConfigError {
    /// Returns the API exception (`__type`) this error is reported as.
    pub fn exception_name(&self) -> &'static str {
        match self {
            Self::NameRequired => "DeploymentConfigNameRequiredException",
            Self::InvalidName { .. } => "InvalidDeploymentConfigNameException",
            Self::InvalidMinimumHealthyHosts(_) => "InvalidMinimumHealthyHostValueException",
            Self::InvalidTrafficRouting(_) => "InvalidTrafficRoutingConfigurationException",
            Self::InvalidComputePlatform(_) => "InvalidComputePlatformException",
        }
    }
}

/// Validates a CreateDeploymentConfig request and returns the config to store.
///
/// Checks, in order: the name, the compute platform, the minimum-healthy-hosts rule, the traffic routing. Server
/// configs need `minimumHealthyHosts` and can only route all at once. A Lambda/ECS config may omit routing, which then
/// means all at once; a minimum-healthy-hosts rule given for Lambda/ECS is validated and kept, though nothing uses it.
pub fn validate_new_config(request: &NewDeploymentConfig<'_>) -> Result<DeploymentConfig, ConfigError> {
    validate_config_name(request.name)?;
    let compute_platform = match request.compute_platform {
        None => ComputePlatform::Server,
        Some(text) => {
            ComputePlatform::parse(text).ok_or_else(|| ConfigError::InvalidComputePlatform(text.to_owned()))?
        }
    };
    let minimum_healthy_hosts =
        validate_minimum_healthy_hosts(request.minimum_healthy_hosts_type, request.minimum_healthy_hosts_value)?;
    let traffic_routing = validate_traffic_routing(request)?;
    // Cutover extension: a Server config may shift traffic by weight (canary/linear) for blue/green deployments;
    // it then needs no minimumHealthyHosts (the replacement fleet installs all at once, then traffic moves in steps).
    let time_based = matches!(
        traffic_routing,
        Some(TrafficRouting::TimeBasedCanary { .. } | TrafficRouting::TimeBasedLinear { .. })
    );
    if compute_platform == ComputePlatform::Server && minimum_healthy_hosts.is_none() && !time_based {
        return Err(ConfigError::InvalidMinimumHealthyHosts(
            "minimumHealthyHosts is required for the Server compute platform (unless trafficRoutingConfig shifts traffic by weight)".to_owned(),
        ));
    }
    Ok(DeploymentConfig { name: request.name.to_owned(), compute_platform, minimum_healthy_hosts, traffic_routing })
}

fn validate_config_name(name: &str) -> Result<(), ConfigError> {
    let invalid = |reason| Err(ConfigError::InvalidName { name: name.to_owned(), reason });
    if name.is_empty() {
        return Err(ConfigError::NameRequired);
    }
    if name.starts_with(RESERVED_PREFIX) {
        return invalid("the CodeDeployDefault. prefix is reserved for predefined configs");
    }
    if !ids::is_valid_name(name) {
        return invalid("names are 1-100 characters of letters, digits and +=,.@_-");
    }
    Ok(())
}

fn validate_minimum_healthy_hosts(
    wire_type: Option<&str>,
    value: Option<i64>,
) -> Result<Option<MinimumHealthyHosts>, ConfigError> {
    let invalid = |message: String| Err(ConfigError::InvalidMinimumHealthyHosts(message));
    let (wire_type, value) = match (wire_type, value) {
        (None, None) => return Ok(None),
        (None, Some(_)) => return invalid("type is required: HOST_COUNT or FLEET_PERCENT".to_owned()),
        (Some(_), None) => return invalid("value is required".to_owned()),
        (Some(wire_type), Some(value)) => (wire_type, value),
    };
    match wire_type {
        "HOST_COUNT" => match u64::try_from(value) {
            Ok(count) => Ok(Some(MinimumHealthyHosts::HostCount(count))),
            Err(_) => invalid(format!("HOST_COUNT must be 0 or more, got {value}")),
        },
        "FLEET_PERCENT" => match u64::try_from(value) {
            Ok(percent) if percent <= 99 => Ok(Some(MinimumHealthyHosts::FleetPercent(percent))),
            _ => invalid(format!("FLEET_PERCENT must be between 0 and 99, got {value}")),
        },
        // MOST_CONCURRENCY is how OneAtATime is reported, but users cannot create it.
        other => invalid(format!("type must be HOST_COUNT or FLEET_PERCENT, got {other:?}")),
    }
}

fn validate_traffic_routing(request: &NewDeploymentConfig<'_>) -> Result<Option<TrafficRouting>, ConfigError> {
    let Some(wire_type) = request.traffic_routing_type else {
        return Ok(None);
    };
    let routing = match wire_type {
        "AllAtOnce" => TrafficRouting::AllAtOnce,
        "TimeBasedCanary" => {
            let (percentage, interval_minutes) =
                shift_parameters("timeBasedCanary", request.canary_percentage, request.canary_interval)?;
            TrafficRouting::TimeBasedCanary { percentage, interval_minutes }
        }
        "TimeBasedLinear" => {
            let (percentage, interval_minutes) =
                shift_parameters("timeBasedLinear", request.linear_percentage, request.linear_interval)?;
            TrafficRouting::TimeBasedLinear { percentage, interval_minutes }
        }
        other => {
            return Err(ConfigError::InvalidTrafficRouting(format!(
                "type must be AllAtOnce, TimeBasedCanary or TimeBasedLinear, got {other:?}"
            )));
        }
    };
    let span = routing.span_minutes();
    if span > MAX_TRAFFIC_ROUTING_SPAN_MINUTES {
        return Err(ConfigError::InvalidTrafficRouting(format!(
            "the traffic shifts span {span} minutes, more than the {MAX_TRAFFIC_ROUTING_SPAN_MINUTES} allowed"
        )));
    }
    Ok(Some(routing))
}

/// Checks the percentage (1–99) and interval (≥ 1 minute) of a canary or linear routing.
fn shift_parameters(member: &str, percentage: Option<i64>, interval: Option<i64>) -> Result<(u64, u64), ConfigError> {
    let invalid = |message: String| Err(ConfigError::InvalidTrafficRouting(message));
    let (Some(percentage), Some(interval)) = (percentage, interval) else {
        return invalid(format!("{member} needs both a percentage and an interval"));
    };
    let percentage = match u64::try_from(percentage) {
        Ok(percentage) if (1..=MAX_TRAFFIC_SHIFT_PERCENT).contains(&percentage) => percentage,
        _ => return invalid(format!("{member} percentage must be between 1 and 99, got {percentage}")),
    };
    let interval = match u64::try_from(interval) {
        Ok(interval) if interval >= 1 => interval,
        _ => return invalid(format!("{member} interval must be at least 1 minute, got {interval}")),
    };
    Ok((percentage, interval))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compute_platform_spellings() {
        let cases = [
            ("Server", Some(ComputePlatform::Server)),
            ("Lambda", Some(ComputePlatform::Lambda)),
            ("ECS", Some(ComputePlatform::Ecs)),
            ("Ecs", None),
            ("server", None),
            ("", None),
        ];
        for (text, expected) in cases {
            assert_eq!(ComputePlatform::parse(text), expected, "{text:?}");
        }
        for platform in ComputePlatform::ALL {
            assert_eq!(ComputePlatform::parse(platform.as_str()), Some(platform));
            assert_eq!(platform.to_string(), platform.as_str());
        }
    }

    #[test]
    fn min_healthy_per_rule() {
        use MinimumHealthyHosts::*;
        let cases = [
            (HostCount(6), 9, 6),
            (HostCount(0), 9, 0),
            (HostCount(12), 9, 12),
            (FleetPercent(40), 9, 4),
            (FleetPercent(50), 9, 5),
            (FleetPercent(95), 10, 10),
            (FleetPercent(80), 10, 8),
            (FleetPercent(99), 1000, 990),
            (FleetPercent(1), 1, 1),
            (FleetPercent(0), 9, 0),
            (FleetPercent(100), u64::MAX, u64::MAX),
            (OneAtATime, 9, 8),
            (OneAtATime, 1, 0),
            (OneAtATime, 0, 0),
        ];
        for (rule, n, expected) in cases {
            assert_eq!(rule.min_healthy(n), expected, "{rule:?} of {n}");
        }
    }

    #[test]
    fn minimum_healthy_hosts_wire_form() {
        use MinimumHealthyHosts::*;
        let cases = [
            (HostCount(3), "HOST_COUNT", 3),
            (FleetPercent(75), "FLEET_PERCENT", 75),
            (OneAtATime, "MOST_CONCURRENCY", 1),
        ];
        for (rule, wire_type, wire_value) in cases {
            assert_eq!((rule.wire_type(), rule.wire_value()), (wire_type, wire_value));
            assert_eq!(MinimumHealthyHosts::from_wire(wire_type, wire_value), Some(rule));
        }
        assert_eq!(MinimumHealthyHosts::from_wire("host_count", 1), None);
    }

    #[test]
    fn predefined_table() {
        use ComputePlatform::*;
        use TrafficRouting::*;
        let configs = predefined();
        let expected: &[(&str, ComputePlatform, Option<MinimumHealthyHosts>, Option<TrafficRouting>)] = &[
            ("CodeDeployDefault.OneAtATime", Server, Some(MinimumHealthyHosts::OneAtATime), None),
            ("CodeDeployDefault.HalfAtATime", Server, Some(MinimumHealthyHosts::FleetPercent(50)), None),
            ("CodeDeployDefault.AllAtOnce", Server, Some(MinimumHealthyHosts::HostCount(0)), None),
            ("CodeDeployDefault.LambdaAllAtOnce", Lambda, None, Some(AllAtOnce)),
            (
                "CodeDeployDefault.LambdaCanary10Percent5Minutes",
                Lambda,
                None,
                Some(TimeBasedCanary { percentage: 10, interval_minutes: 5 }),
            ),
            (
                "CodeDeployDefault.LambdaCanary10Percent10Minutes",
                Lambda,
                None,
                Some(TimeBasedCanary { percentage: 10, interval_minutes: 10 }),
            ),
            (
                "CodeDeployDefault.LambdaCanary10Percent15Minutes",
                Lambda,
                None,
                Some(TimeBasedCanary { percentage: 10, interval_minutes: 15 }),
            ),
            (
                "CodeDeployDefault.LambdaCanary10Percent30Minutes",
                Lambda,
                None,
                Some(TimeBasedCanary { percentage: 10, interval_minutes: 30 }),
            ),
            (
                "CodeDeployDefault.LambdaLinear10PercentEvery1Minute",
                Lambda,
                None,
                Some(TimeBasedLinear { percentage: 10, interval_minutes: 1 }),
            ),
            (
                "CodeDeployDefault.LambdaLinear10PercentEvery2Minutes",
                Lambda,
                None,
                Some(TimeBasedLinear { percentage: 10, interval_minutes: 2 }),
            ),
            (
                "CodeDeployDefault.LambdaLinear10PercentEvery3Minutes",
                Lambda,
                None,
                Some(TimeBasedLinear { percentage: 10, interval_minutes: 3 }),
            ),
            (
                "CodeDeployDefault.LambdaLinear10PercentEvery10Minutes",
                Lambda,
                None,
                Some(TimeBasedLinear { percentage: 10, interval_minutes: 10 }),
            ),
            ("CodeDeployDefault.ECSAllAtOnce", Ecs, None, Some(AllAtOnce)),
            (
                "CodeDeployDefault.ECSCanary10Percent5Minutes",
                Ecs,
                None,
                Some(TimeBasedCanary { percentage: 10, interval_minutes: 5 }),
            ),
            (
                "CodeDeployDefault.ECSCanary10Percent15Minutes",
                Ecs,
                None,
                Some(TimeBasedCanary { percentage: 10, interval_minutes: 15 }),
            ),
            (
                "CodeDeployDefault.ECSLinear10PercentEvery1Minutes",
                Ecs,
                None,
                Some(TimeBasedLinear { percentage: 10, interval_minutes: 1 }),
            ),
            (
                "CodeDeployDefault.ECSLinear10PercentEvery3Minutes",
                Ecs,
                None,
                Some(TimeBasedLinear { percentage: 10, interval_minutes: 3 }),
            ),
        ];
        assert_eq!(configs.len(), expected.len());
        for (config, &(name, platform, rule, routing)) in configs.iter().zip(expected) {
            assert_eq!(config.name, name);
            assert_eq!(config.compute_platform, platform, "{name}");
            assert_eq!(config.minimum_healthy_hosts, rule, "{name}");
            assert_eq!(config.traffic_routing, routing, "{name}");
            assert!(config.is_predefined(), "{name}");
            assert!(ids::is_valid_name(name), "{name}");
            assert_eq!(find_predefined(name).as_ref(), Some(config));
        }
    }

    #[test]
    fn find_predefined_is_exact() {
        assert_eq!(
            find_predefined(DEFAULT_CONFIG).map(|config| config.compute_platform),
            Some(ComputePlatform::Server)
        );
        assert_eq!(find_predefined("CodeDeployDefault.onEATaTime"), None);
        assert_eq!(find_predefined("CodeDeployDefault.ECSLinear10PercentEvery1Minute"), None);
        assert_eq!(find_predefined("OneAtATime"), None);
        assert_eq!(find_predefined(""), None);
    }

    #[test]
    fn effective_defaults() {
        let server = DeploymentConfig {
            name: "Bare".to_owned(),
            compute_platform: ComputePlatform::Server,
            minimum_healthy_hosts: None,
            traffic_routing: None,
        };
        assert_eq!(server.effective_minimum_healthy_hosts(), MinimumHealthyHosts::OneAtATime);
        assert_eq!(server.effective_traffic_routing(), TrafficRouting::AllAtOnce);
        assert!(!server.is_predefined());
    }

    #[test]
    fn traffic_schedules() {
        use TrafficRouting::*;
        let shift = |at_minute, total_percent| TrafficShift { at_minute, total_percent };
        let cases = [
            (AllAtOnce, vec![shift(0, 100)], 0),
            (TimeBasedCanary { percentage: 10, interval_minutes: 5 }, vec![shift(0, 10), shift(5, 100)], 5),
            (
                TimeBasedLinear { percentage: 25, interval_minutes: 2 },
                vec![shift(0, 25), shift(2, 50), shift(4, 75), shift(6, 100)],
                6,
            ),
            (
                TimeBasedLinear { percentage: 30, interval_minutes: 10 },
                vec![shift(0, 30), shift(10, 60), shift(20, 90), shift(30, 100)],
                30,
            ),
            (TimeBasedLinear { percentage: 99, interval_minutes: 7 }, vec![shift(0, 99), shift(7, 100)], 7),
        ];
        for (routing, schedule, span) in cases {
            assert_eq!(routing.schedule(), schedule, "{routing:?}");
            assert_eq!(routing.span_minutes(), span, "{routing:?}");
        }
        let every_minute = TimeBasedLinear { percentage: 10, interval_minutes: 1 };
        assert_eq!(every_minute.schedule().len(), 10);
        assert_eq!(every_minute.span_minutes(), 9);
        assert_eq!(every_minute.wire_type(), "TimeBasedLinear");
        assert_eq!(AllAtOnce.wire_type(), "AllAtOnce");
        assert_eq!(TimeBasedCanary { percentage: 1, interval_minutes: 1 }.wire_type(), "TimeBasedCanary");
    }

    fn server_request(name: &str) -> NewDeploymentConfig<'_> {
        NewDeploymentConfig {
            name,
            minimum_healthy_hosts_type: Some("HOST_COUNT"),
            minimum_healthy_hosts_value: Some(1),
            ..NewDeploymentConfig::default()
        }
    }

    #[test]
    fn valid_requests() {
        let request = NewDeploymentConfig {
            name: "Quarter.Fleet@prod",
            compute_platform: Some("Server"),
            minimum_healthy_hosts_type: Some("FLEET_PERCENT"),
            minimum_healthy_hosts_value: Some(75),
            ..NewDeploymentConfig::default()
        };
        assert_eq!(
            validate_new_config(&request),
            Ok(DeploymentConfig {
                name: "Quarter.Fleet@prod".to_owned(),
                compute_platform: ComputePlatform::Server,
                minimum_healthy_hosts: Some(MinimumHealthyHosts::FleetPercent(75)),
                traffic_routing: None,
            })
        );

        // Without computePlatform, a config is for Server.
        let config = validate_new_config(&server_request("Two")).map(|config| config.compute_platform);
        assert_eq!(config, Ok(ComputePlatform::Server));

        let canary = NewDeploymentConfig {
            name: "Canary",
            compute_platform: Some("Lambda"),
            traffic_routing_type: Some("TimeBasedCanary"),
            canary_percentage: Some(20),
            canary_interval: Some(2880),
            ..NewDeploymentConfig::default()
        };
        assert_eq!(
            validate_new_config(&canary).map(|config| config.traffic_routing),
            Ok(Some(TrafficRouting::TimeBasedCanary { percentage: 20, interval_minutes: 2880 }))
        );

        // 10% every 320 minutes: the last of ten shifts comes 9 × 320 = 2880 minutes after the first.
        let linear = NewDeploymentConfig {
            name: "Linear",
            compute_platform: Some("ECS"),
            traffic_routing_type: Some("TimeBasedLinear"),
            linear_percentage: Some(10),
            linear_interval: Some(320),
            ..NewDeploymentConfig::default()
        };
        assert_eq!(
            validate_new_config(&linear).map(|config| config.traffic_routing),
            Ok(Some(TrafficRouting::TimeBasedLinear { percentage: 10, interval_minutes: 320 }))
        );

        // Lambda without routing is accepted and shifts all at once.
        let lambda = NewDeploymentConfig { name: "L", compute_platform: Some("Lambda"), ..Default::default() };
        let config = validate_new_config(&lambda);
        assert_eq!(config.as_ref().map(|config| config.traffic_routing), Ok(None));
        assert_eq!(config.map(|config| config.effective_traffic_routing()), Ok(TrafficRouting::AllAtOnce));

        // Server may say AllAtOnce explicitly.
        let server_all_at_once = NewDeploymentConfig { traffic_routing_type: Some("AllAtOnce"), ..server_request("S") };
        assert_eq!(
            validate_new_config(&server_all_at_once).map(|config| config.traffic_routing),
            Ok(Some(TrafficRouting::AllAtOnce))
        );
    }

    #[test]
    fn name_errors() {
        let too_long = "n".repeat(101);
        let longest = "n".repeat(100);
        let cases: &[(&str, Option<&str>)] = &[
            ("", Some("DeploymentConfigNameRequiredException")),
            ("CodeDeployDefault.Mine", Some("InvalidDeploymentConfigNameException")),
            ("CodeDeployDefault.OneAtATime", Some("InvalidDeploymentConfigNameException")),
            ("has space", Some("InvalidDeploymentConfigNameException")),
            ("slash/name", Some("InvalidDeploymentConfigNameException")),
            (too_long.as_str(), Some("InvalidDeploymentConfigNameException")),
            (longest.as_str(), None),
            ("CodeDeployDefault", None),
            ("codedeploydefault.mine", None),
            ("a+b=c,d.e@f_g-h", None),
        ];
        for &(name, exception) in cases {
            let result = validate_new_config(&server_request(name));
            assert_eq!(result.err().map(|error| error.exception_name()), exception, "{name:?}");
        }
    }

    #[test]
    fn minimum_healthy_hosts_errors() {
        let cases: &[(Option<&str>, Option<i64>, Option<MinimumHealthyHosts>)] = &[
            (Some("HOST_COUNT"), Some(0), Some(MinimumHealthyHosts::HostCount(0))),
            (Some("HOST_COUNT"), Some(500), Some(MinimumHealthyHosts::HostCount(500))),
            (Some("HOST_COUNT"), Some(-1), None),
            (Some("FLEET_PERCENT"), Some(0), Some(MinimumHealthyHosts::FleetPercent(0))),
            (Some("FLEET_PERCENT"), Some(99), Some(MinimumHealthyHosts::FleetPercent(99))),
            (Some("FLEET_PERCENT"), Some(100), None),
            (Some("FLEET_PERCENT"), Some(-5), None),
            (Some("MOST_CONCURRENCY"), Some(1), None),
            (Some("host_count"), Some(1), None),
            (Some("HOST_COUNT"), None, None),
            (None, Some(1), None),
            // The Server platform requires a rule.
            (None, None, None),
        ];
        for &(wire_type, value, expected) in cases {
            let request = NewDeploymentConfig {
                name: "Rule",
                minimum_healthy_hosts_type: wire_type,
                minimum_healthy_hosts_value: value,
                ..NewDeploymentConfig::default()
            };
            let result = validate_new_config(&request);
            match expected {
                Some(rule) => assert_eq!(result.map(|config| config.minimum_healthy_hosts), Ok(Some(rule))),
                None => assert_eq!(
                    result.err().map(|error| error.exception_name()),
                    Some("InvalidMinimumHealthyHostValueException"),
                    "{wire_type:?} {value:?}"
                ),
            }
        }
    }

    #[test]
    fn traffic_routing_errors() {
        let lambda = |routing: NewDeploymentConfig<'static>| NewDeploymentConfig {
            name: "Routing",
            compute_platform: Some("Lambda"),
            ..routing
        };
        let canary = |percentage, interval| {
            lambda(NewDeploymentConfig {
                traffic_routing_type: Some("TimeBasedCanary"),
                canary_percentage: percentage,
                canary_interval: interval,
                ..Default::default()
            })
        };
        let linear = |percentage, interval| {
            lambda(NewDeploymentConfig {
                traffic_routing_type: Some("TimeBasedLinear"),
                linear_percentage: percentage,
                linear_interval: interval,
                ..Default::default()
            })
        };
        let cases: &[(NewDeploymentConfig<'static>, bool)] = &[
            (canary(Some(1), Some(1)), true),
            (canary(Some(99), Some(2880)), true),
            (canary(Some(0), Some(5)), false),
            (canary(Some(100), Some(5)), false),
            (canary(Some(-10), Some(5)), false),
            (canary(Some(10), Some(0)), false),
            (canary(Some(10), Some(-1)), false),
            (canary(Some(10), Some(2881)), false),
            (canary(Some(10), None), false),
            (canary(None, Some(5)), false),
            (linear(Some(10), Some(320)), true),
            (linear(Some(10), Some(321)), false),
            (linear(Some(99), Some(2880)), true),
            (linear(Some(99), Some(2881)), false),
            // 1% shifts: a hundred of them, 99 intervals apart.
            (linear(Some(1), Some(29)), true),
            (linear(Some(1), Some(30)), false),
            (linear(Some(0), Some(1)), false),
            (linear(Some(100), Some(1)), false),
            (linear(Some(10), Some(0)), false),
            (linear(None, None), false),
            // Canary members do not make a linear routing.
            (
                lambda(NewDeploymentConfig {
                    traffic_routing_type: Some("TimeBasedLinear"),
                    canary_percentage: Some(10),
                    canary_interval: Some(5),
                    ..Default::default()
                }),
                false,
            ),
            (lambda(NewDeploymentConfig { traffic_routing_type: Some("Blue"), ..Default::default() }), false),
            (lambda(NewDeploymentConfig { traffic_routing_type: Some("allatonce"), ..Default::default() }), false),
        ];
        for (request, valid) in cases {
            let result = validate_new_config(request);
            if *valid {
                assert!(result.is_ok(), "{request:?}: {result:?}");
            } else {
                assert_eq!(
                    result.err().map(|error| error.exception_name()),
                    Some("InvalidTrafficRoutingConfigurationException"),
                    "{request:?}"
                );
            }
        }

        // Cutover extension: time-based routing for Server blue/green, with or without a minimum-healthy rule.
        let server_canary = NewDeploymentConfig {
            traffic_routing_type: Some("TimeBasedCanary"),
            canary_percentage: Some(10),
            canary_interval: Some(5),
            ..server_request("ServerCanary")
        };
        let config = validate_new_config(&server_canary).map(|config| config.traffic_routing);
        assert_eq!(config, Ok(Some(TrafficRouting::TimeBasedCanary { percentage: 10, interval_minutes: 5 })));
        let without_rule = NewDeploymentConfig {
            name: "ServerLinear",
            traffic_routing_type: Some("TimeBasedLinear"),
            linear_percentage: Some(25),
            linear_interval: Some(1),
            ..NewDeploymentConfig::default()
        };
        assert!(validate_new_config(&without_rule).is_ok());
        // All at once is no weighted shift: a Server config still needs its rule then.
        let all_at_once =
            NewDeploymentConfig { name: "ServerAll", traffic_routing_type: Some("AllAtOnce"), ..Default::default() };
        assert_eq!(
            validate_new_config(&all_at_once).err().map(|error| error.exception_name()),
            Some("InvalidMinimumHealthyHostValueException")
        );
    }

    #[test]
    fn compute_platform_errors() {
        for platform in ["ecs", "EC2", ""] {
            let request = NewDeploymentConfig { compute_platform: Some(platform), ..server_request("P") };
            let error = validate_new_config(&request).err();
            assert_eq!(error.as_ref().map(|error| error.exception_name()), Some("InvalidComputePlatformException"));
            assert_eq!(error, Some(ConfigError::InvalidComputePlatform(platform.to_owned())));
        }
    }

    #[test]
    fn error_messages_are_readable() {
        let error = validate_new_config(&server_request("CodeDeployDefault.X")).err();
        assert_eq!(
            error.map(|error| error.to_string()),
            Some(
                "invalid deployment config name \"CodeDeployDefault.X\": the CodeDeployDefault. prefix is reserved \
                 for predefined configs"
                    .to_owned()
            )
        );
        let request = NewDeploymentConfig { minimum_healthy_hosts_value: Some(100), ..server_request("P") };
        let request = NewDeploymentConfig { minimum_healthy_hosts_type: Some("FLEET_PERCENT"), ..request };
        assert_eq!(
            validate_new_config(&request).err().map(|error| error.to_string()),
            Some("invalid minimum healthy hosts: FLEET_PERCENT must be between 0 and 99, got 100".to_owned())
        );
    }
}
