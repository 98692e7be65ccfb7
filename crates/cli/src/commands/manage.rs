//! Management commands: create-application, create-deployment-group, create-deployment-config, stop-deployment.

use clap::Args;
use cutover_api_types::codedeploy::{self as wire, Operation};

use super::Api;
use crate::cli::JsonFlag;
use crate::error::{CliError, CliResult};
use crate::output;

#[derive(Debug, Args)]
pub(crate) struct CreateApplicationArgs {
    /// Name of the new application.
    #[arg(long, value_name = "NAME")]
    pub(crate) application_name: String,
    #[command(flatten)]
    pub(crate) json: JsonFlag,
}

#[derive(Debug, Args)]
pub(crate) struct CreateDeploymentGroupArgs {
    /// Application the group belongs to.
    #[arg(long, value_name = "NAME")]
    pub(crate) application_name: String,
    /// Name of the new group.
    #[arg(long, value_name = "NAME")]
    pub(crate) deployment_group_name: String,
    /// Deployment configuration [server default: CodeDeployDefault.OneAtATime]
    #[arg(long, value_name = "NAME")]
    pub(crate) deployment_config_name: Option<String>,
    /// Instances whose tags match any of these filters are in the group. Key=K[,Value=V][,Type=KEY_ONLY|VALUE_ONLY|
    /// KEY_AND_VALUE]; Type defaults to KEY_AND_VALUE (KEY_ONLY when there is no Value). Repeatable, and several may
    /// follow one flag.
    #[arg(long, value_name = "Key=K,Value=V,Type=T", num_args = 1.., value_parser = parse_tag_filter)]
    pub(crate) on_premises_tag_filters: Vec<wire::TagFilter>,
    #[command(flatten)]
    pub(crate) json: JsonFlag,
}

#[derive(Debug, Args)]
pub(crate) struct CreateDeploymentConfigArgs {
    /// Name of the new configuration.
    #[arg(long, value_name = "NAME")]
    pub(crate) deployment_config_name: String,
    /// type=HOST_COUNT|FLEET_PERCENT,value=N: how many hosts must stay healthy during a deployment.
    #[arg(long, value_name = "type=T,value=N", value_parser = parse_minimum_healthy_hosts)]
    pub(crate) minimum_healthy_hosts: wire::MinimumHealthyHosts,
    #[command(flatten)]
    pub(crate) json: JsonFlag,
}

#[derive(Debug, Args)]
pub(crate) struct StopDeploymentArgs {
    /// The deployment to stop.
    #[arg(long, value_name = "ID")]
    pub(crate) deployment_id: String,
    #[command(flatten)]
    pub(crate) json: JsonFlag,
}

/// Splits `k=v,k=v` shorthand (keys case-insensitive) into pairs.
fn shorthand(text: &str) -> Result<Vec<(String, String)>, String> {
    text.split(',')
        .map(|part| {
            part.split_once('=')
                .map(|(key, value)| (key.trim().to_ascii_lowercase(), value.trim().to_owned()))
                .ok_or_else(|| format!("expected key=value, got {part:?}"))
        })
        .collect()
}

/// Parses `Key=k,Value=v,Type=KEY_AND_VALUE`.
pub(crate) fn parse_tag_filter(text: &str) -> Result<wire::TagFilter, String> {
    let mut filter = wire::TagFilter::default();
    for (key, value) in shorthand(text)? {
        match key.as_str() {
            "key" => filter.key = Some(value),
            "value" => filter.value = Some(value),
            "type" => {
                let upper = value.to_ascii_uppercase();
                if !wire::TAG_FILTER_TYPE_VALUES.contains(&upper.as_str()) {
                    return Err(format!("Type must be KEY_ONLY, VALUE_ONLY or KEY_AND_VALUE, got {value:?}"));
                }
                filter.type_ = Some(upper);
            }
            other => return Err(format!("unknown field {other:?} (use Key, Value and Type)")),
        }
    }
    if filter.key.is_none() && filter.value.is_none() {
        return Err("a tag filter needs a Key or a Value".to_owned());
    }
    if filter.type_.is_none() {
        filter.type_ = Some(if filter.value.is_none() { "KEY_ONLY" } else { "KEY_AND_VALUE" }.to_owned());
    }
    Ok(filter)
}

/// Parses `type=HOST_COUNT,value=2`.
pub(crate) fn parse_minimum_healthy_hosts(text: &str) -> Result<wire::MinimumHealthyHosts, String> {
    let mut hosts = wire::MinimumHealthyHosts::default();
    for (key, value) in shorthand(text)? {
        match key.as_str() {
            "type" => hosts.type_ = Some(value.to_ascii_uppercase()),
            "value" => hosts.value = Some(value.parse().map_err(|_| format!("value must be a number, got {value:?}"))?),
            other => return Err(format!("unknown field {other:?} (use type and value)")),
        }
    }
    match (&hosts.type_, hosts.value) {
        (Some(_), Some(_)) => Ok(hosts),
        _ => Err("both type and value are needed, e.g. type=HOST_COUNT,value=2".to_owned()),
    }
}

pub(crate) async fn create_application(api: &Api, args: CreateApplicationArgs) -> CliResult<()> {
    let input = wire::CreateApplicationInput {
        application_name: Some(args.application_name.clone()),
        compute_platform: Some("Server".to_owned()),
        tags: None,
    };
    let (raw, output): (_, wire::CreateApplicationOutput) = api.call_raw(Operation::CreateApplication, &input).await?;
    if args.json.json {
        return output::json(&raw);
    }
    output::line(format!(
        "Created application {} (id {})",
        args.application_name,
        output::or_dash(output.application_id)
    ))
}

pub(crate) async fn create_deployment_group(api: &Api, args: CreateDeploymentGroupArgs) -> CliResult<()> {
    let input = wire::CreateDeploymentGroupInput {
        application_name: Some(args.application_name.clone()),
        deployment_group_name: Some(args.deployment_group_name.clone()),
        deployment_config_name: args.deployment_config_name.clone(),
        on_premises_instance_tag_filters: (!args.on_premises_tag_filters.is_empty())
            .then(|| args.on_premises_tag_filters.clone()),
        ..Default::default()
    };
    let (raw, output): (_, wire::CreateDeploymentGroupOutput) =
        api.call_raw(Operation::CreateDeploymentGroup, &input).await?;
    if args.json.json {
        return output::json(&raw);
    }
    output::line(format!(
        "Created deployment group {} of application {} (id {})",
        args.deployment_group_name,
        args.application_name,
        output::or_dash(output.deployment_group_id)
    ))?;
    if args.on_premises_tag_filters.is_empty() {
        output::line("It has no tag filters, so it targets no instance yet.")?;
    }
    Ok(())
}

pub(crate) async fn create_deployment_config(api: &Api, args: CreateDeploymentConfigArgs) -> CliResult<()> {
    let input = wire::CreateDeploymentConfigInput {
        deployment_config_name: Some(args.deployment_config_name.clone()),
        minimum_healthy_hosts: Some(args.minimum_healthy_hosts.clone()),
        compute_platform: Some("Server".to_owned()),
        ..Default::default()
    };
    let (raw, output): (_, wire::CreateDeploymentConfigOutput) =
        api.call_raw(Operation::CreateDeploymentConfig, &input).await?;
    if args.json.json {
        return output::json(&raw);
    }
    output::line(format!(
        "Created deployment configuration {} (id {})",
        args.deployment_config_name,
        output::or_dash(output.deployment_config_id)
    ))
}

pub(crate) async fn stop_deployment(api: &Api, args: StopDeploymentArgs) -> CliResult<()> {
    let input =
        wire::StopDeploymentInput { deployment_id: Some(args.deployment_id.clone()), auto_rollback_enabled: None };
    let (raw, output): (_, wire::StopDeploymentOutput) = api.call_raw(Operation::StopDeployment, &input).await?;
    if args.json.json {
        return output::json(&raw);
    }
    let status = output.status.ok_or_else(|| CliError::user("the server answered StopDeployment without a status"))?;
    match output.status_message.filter(|message| !message.is_empty()) {
        Some(message) => output::line(format!("{}: {status}: {message}", args.deployment_id)),
        None => output::line(format!("{}: {status}", args.deployment_id)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_filters_use_the_aws_shorthand() {
        let filter = parse_tag_filter("Key=env,Value=dev").expect("filter");
        assert_eq!(
            (filter.key.as_deref(), filter.value.as_deref(), filter.type_.as_deref()),
            (Some("env"), Some("dev"), Some("KEY_AND_VALUE"))
        );
        let filter = parse_tag_filter("Key=role").expect("filter");
        assert_eq!(filter.type_.as_deref(), Some("KEY_ONLY"));
        let filter = parse_tag_filter("Value=web,Type=value_only").expect("filter");
        assert_eq!(filter.type_.as_deref(), Some("VALUE_ONLY"));
        assert!(parse_tag_filter("Key=env,Type=BOTH").is_err());
        assert!(parse_tag_filter("env=dev").is_err());
    }

    #[test]
    fn minimum_healthy_hosts_shorthand() {
        let hosts = parse_minimum_healthy_hosts("type=HOST_COUNT,value=2").expect("hosts");
        assert_eq!((hosts.type_.as_deref(), hosts.value), (Some("HOST_COUNT"), Some(2)));
        let hosts = parse_minimum_healthy_hosts("Type=fleet_percent,Value=75").expect("hosts");
        assert_eq!((hosts.type_.as_deref(), hosts.value), (Some("FLEET_PERCENT"), Some(75)));
        assert!(parse_minimum_healthy_hosts("type=HOST_COUNT").is_err());
        assert!(parse_minimum_healthy_hosts("type=HOST_COUNT,value=two").is_err());
    }
}
