//! Read commands: applications, groups, deployments, instances. Each prints a table, or with `--json` the raw API
//! output: a get prints its Get operation's output; a list prints the output of the BatchGet operation that
//! filled the table, with the pages merged (e.g. `{"deploymentsInfo": [...]}`).

use clap::{Args, Subcommand};
use cutover_api_types::codedeploy::{self as wire, Operation};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::Api;
use super::deploy;
use crate::cli::JsonFlag;
use crate::error::{CliError, CliResult};
use crate::output::{self, or_dash};
use crate::timefmt;

// ---------------------------------------------------------------------------------------------------------------
// Command line.

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct ApplicationsCommand {
    #[command(subcommand)]
    command: Option<ApplicationsSubcommand>,
    #[command(flatten)]
    json: JsonFlag,
}

#[derive(Debug, Subcommand)]
enum ApplicationsSubcommand {
    /// List applications (the default).
    List {
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Show one application.
    Get {
        /// Application name.
        name: String,
        #[command(flatten)]
        json: JsonFlag,
    },
}

#[derive(Debug, Args)]
pub(crate) struct GroupsCommand {
    #[command(subcommand)]
    command: GroupsSubcommand,
}

#[derive(Debug, Subcommand)]
enum GroupsSubcommand {
    /// List the deployment groups of an application.
    List {
        #[arg(long, value_name = "NAME")]
        application_name: String,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Show one deployment group.
    Get {
        #[arg(long, value_name = "NAME")]
        application_name: String,
        /// Deployment group name.
        name: String,
        #[command(flatten)]
        json: JsonFlag,
    },
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct DeploymentsCommand {
    #[command(subcommand)]
    command: Option<DeploymentsSubcommand>,
    #[command(flatten)]
    list: DeploymentsListArgs,
}

#[derive(Debug, Args)]
struct DeploymentsListArgs {
    /// Only the deployments of this application.
    #[arg(long, value_name = "NAME")]
    application_name: Option<String>,
    /// Only the deployments of this group (needs --application-name).
    #[arg(long, value_name = "NAME", requires = "application_name")]
    deployment_group_name: Option<String>,
    #[command(flatten)]
    json: JsonFlag,
}

#[derive(Debug, Subcommand)]
enum DeploymentsSubcommand {
    /// List deployments, newest first (the default).
    List(DeploymentsListArgs),
    /// Show a deployment: summary, and each host's lifecycle events with status and duration.
    Get {
        /// Deployment id (d-…).
        id: String,
        #[command(flatten)]
        json: JsonFlag,
    },
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct InstancesCommand {
    #[command(subcommand)]
    command: Option<InstancesSubcommand>,
    #[command(flatten)]
    json: JsonFlag,
}

#[derive(Debug, Subcommand)]
enum InstancesSubcommand {
    /// List on-premises instances, registered and deregistered (the default).
    List {
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Show one instance.
    Get {
        /// Instance name.
        name: String,
        #[command(flatten)]
        json: JsonFlag,
    },
}

// ---------------------------------------------------------------------------------------------------------------
// Helpers.

/// Follows `nextToken` through every page of a List operation; returns the items of `field`.
async fn list_all(api: &Api, operation: Operation, mut input: Value, field: &str) -> CliResult<Vec<String>> {
    let mut items = Vec::new();
    loop {
        let page: Value = api.call(operation, &input).await?;
        let names: Vec<String> = match page.get(field) {
            None | Some(Value::Null) => Vec::new(),
            Some(value) => serde_json::from_value(value.clone()).map_err(|error| {
                CliError::user(format!("unexpected answer to {}: {field}: {error}", operation.name()))
            })?,
        };
        items.extend(names);
        match page.get("nextToken").and_then(Value::as_str).filter(|token| !token.is_empty()) {
            Some(token) => input["nextToken"] = Value::String(token.to_owned()),
            None => return Ok(items),
        }
    }
}

/// Calls a BatchGet operation on chunks of `names`; returns the raw items of `field` and the decoded ones.
async fn batch_get<T: DeserializeOwned>(
    api: &Api,
    operation: Operation,
    base: &Value,
    names_field: &str,
    names: &[String],
    chunk: usize,
    field: &str,
) -> CliResult<(Vec<Value>, Vec<T>)> {
    let mut raw = Vec::new();
    for names in names.chunks(chunk) {
        let mut input = base.clone();
        input[names_field] = serde_json::to_value(names).unwrap_or_default();
        let output: Value = api.call(operation, &input).await?;
        if let Some(Value::Array(items)) = output.get(field) {
            raw.extend(items.iter().cloned());
        }
    }
    let decoded = raw
        .iter()
        .map(|item| serde_json::from_value(item.clone()))
        .collect::<Result<Vec<T>, _>>()
        .map_err(|error| CliError::user(format!("unexpected answer to {}: {error}", operation.name())))?;
    Ok((raw, decoded))
}

fn time(value: Option<f64>) -> String {
    value.map(timefmt::timestamp).unwrap_or_else(|| "-".to_owned())
}

fn tag_filters(filters: Option<&Vec<wire::TagFilter>>) -> String {
    let text: Vec<String> = filters
        .into_iter()
        .flatten()
        .map(|filter| match filter.type_.as_deref() {
            Some("KEY_ONLY") => format!("{}=*", filter.key.as_deref().unwrap_or("")),
            Some("VALUE_ONLY") => format!("*={}", filter.value.as_deref().unwrap_or("")),
            _ => format!("{}={}", filter.key.as_deref().unwrap_or(""), filter.value.as_deref().unwrap_or("")),
        })
        .collect();
    if text.is_empty() { "-".to_owned() } else { text.join(", ") }
}

fn tags(tags: Option<&Vec<wire::Tag>>) -> String {
    let text: Vec<String> = tags
        .into_iter()
        .flatten()
        .map(|tag| format!("{}={}", tag.key.as_deref().unwrap_or(""), tag.value.as_deref().unwrap_or("")))
        .collect();
    if text.is_empty() { "-".to_owned() } else { text.join(", ") }
}

/// `s3://bucket/key (tgz)`.
pub(crate) fn revision(revision: Option<&wire::RevisionLocation>) -> String {
    let Some(revision) = revision else {
        return "-".to_owned();
    };
    match &revision.s3_location {
        Some(s3) => format!(
            "s3://{}/{} ({})",
            s3.bucket.as_deref().unwrap_or(""),
            s3.key.as_deref().unwrap_or(""),
            s3.bundle_type.as_deref().unwrap_or("?")
        ),
        None => or_dash(revision.revision_type.as_deref()),
    }
}

fn last_deployment(info: Option<&wire::LastDeploymentInfo>) -> String {
    match info {
        Some(info) => format!(
            "{} {} ({})",
            info.deployment_id.as_deref().unwrap_or("?"),
            info.status.as_deref().unwrap_or("?"),
            time(info.end_time.or(info.create_time))
        ),
        None => "-".to_owned(),
    }
}

// ---------------------------------------------------------------------------------------------------------------
// applications

pub(crate) async fn applications(api: &Api, command: ApplicationsCommand) -> CliResult<()> {
    match command.command {
        None => list_applications(api, command.json.json).await,
        Some(ApplicationsSubcommand::List { json }) => list_applications(api, json.json || command.json.json).await,
        Some(ApplicationsSubcommand::Get { name, json }) => get_application(api, &name, json.json).await,
    }
}

async fn list_applications(api: &Api, json: bool) -> CliResult<()> {
    let names = list_all(api, Operation::ListApplications, serde_json::json!({}), "applications").await?;
    let (raw, infos): (_, Vec<wire::ApplicationInfo>) = batch_get(
        api,
        Operation::BatchGetApplications,
        &serde_json::json!({}),
        "applicationNames",
        &names,
        100,
        "applicationsInfo",
    )
    .await?;
    if json {
        return output::json(&serde_json::json!({ "applicationsInfo": raw }));
    }
    if infos.is_empty() {
        return output::line("No applications. Create one with `cutover create-application --application-name NAME`.");
    }
    let mut table = output::table(&["NAME", "ID", "PLATFORM", "CREATED"]);
    for info in &infos {
        table.add_row(vec![
            or_dash(info.application_name.as_deref()),
            or_dash(info.application_id.as_deref()),
            or_dash(info.compute_platform.as_deref()),
            time(info.create_time),
        ]);
    }
    output::print_table(&table)
}

async fn get_application(api: &Api, name: &str, json: bool) -> CliResult<()> {
    let input = wire::GetApplicationInput { application_name: Some(name.to_owned()) };
    let (raw, output): (_, wire::GetApplicationOutput) = api.call_raw(Operation::GetApplication, &input).await?;
    if json {
        return output::json(&raw);
    }
    let info = output.application.unwrap_or_default();
    output::print_table(&output::details(vec![
        ("Name", or_dash(info.application_name.as_deref())),
        ("ID", or_dash(info.application_id.as_deref())),
        ("Platform", or_dash(info.compute_platform.as_deref())),
        ("Created", time(info.create_time)),
    ]))
}

// ---------------------------------------------------------------------------------------------------------------
// groups

pub(crate) async fn groups(api: &Api, command: GroupsCommand) -> CliResult<()> {
    match command.command {
        GroupsSubcommand::List { application_name, json } => list_groups(api, &application_name, json.json).await,
        GroupsSubcommand::Get { application_name, name, json } => {
            get_group(api, &application_name, &name, json.json).await
        }
    }
}

async fn list_groups(api: &Api, application: &str, json: bool) -> CliResult<()> {
    let base = serde_json::json!({ "applicationName": application });
    let names = list_all(api, Operation::ListDeploymentGroups, base.clone(), "deploymentGroups").await?;
    let (raw, infos): (_, Vec<wire::DeploymentGroupInfo>) = batch_get(
        api,
        Operation::BatchGetDeploymentGroups,
        &base,
        "deploymentGroupNames",
        &names,
        100,
        "deploymentGroupsInfo",
    )
    .await?;
    if json {
        return output::json(&serde_json::json!({ "deploymentGroupsInfo": raw }));
    }
    if infos.is_empty() {
        return output::line(format!(
            "Application {application} has no deployment groups. Create one with `cutover create-deployment-group`."
        ));
    }
    let mut table = output::table(&["NAME", "CONFIG", "TAG FILTERS", "TARGET REVISION", "LAST DEPLOYMENT"]);
    for info in &infos {
        table.add_row(vec![
            or_dash(info.deployment_group_name.as_deref()),
            or_dash(info.deployment_config_name.as_deref()),
            tag_filters(info.on_premises_instance_tag_filters.as_ref()),
            revision(info.target_revision.as_ref()),
            last_deployment(info.last_attempted_deployment.as_ref()),
        ]);
    }
    output::print_table(&table)
}

async fn get_group(api: &Api, application: &str, name: &str, json: bool) -> CliResult<()> {
    let input = wire::GetDeploymentGroupInput {
        application_name: Some(application.to_owned()),
        deployment_group_name: Some(name.to_owned()),
    };
    let (raw, output): (_, wire::GetDeploymentGroupOutput) =
        api.call_raw(Operation::GetDeploymentGroup, &input).await?;
    if json {
        return output::json(&raw);
    }
    let info = output.deployment_group_info.unwrap_or_default();
    let tag_set: Vec<String> = info
        .on_premises_tag_set
        .as_ref()
        .and_then(|set| set.on_premises_tag_set_list.as_ref())
        .into_iter()
        .flatten()
        .map(|group| format!("[{}]", tag_filters(Some(group))))
        .collect();
    let style = info.deployment_style.as_ref().map(|style| {
        format!(
            "{} {}",
            style.deployment_type.as_deref().unwrap_or("IN_PLACE"),
            style.deployment_option.as_deref().unwrap_or("WITHOUT_TRAFFIC_CONTROL")
        )
    });
    output::print_table(&output::details(vec![
        ("Application", or_dash(info.application_name.as_deref())),
        ("Name", or_dash(info.deployment_group_name.as_deref())),
        ("ID", or_dash(info.deployment_group_id.as_deref())),
        ("Config", or_dash(info.deployment_config_name.as_deref())),
        ("Tag filters", tag_filters(info.on_premises_instance_tag_filters.as_ref())),
        ("Tag set", if tag_set.is_empty() { "-".to_owned() } else { tag_set.join(" and ") }),
        ("Style", or_dash(style)),
        ("Target revision", revision(info.target_revision.as_ref())),
        ("Last attempted", last_deployment(info.last_attempted_deployment.as_ref())),
        ("Last successful", last_deployment(info.last_successful_deployment.as_ref())),
        ("Platform", or_dash(info.compute_platform.as_deref())),
    ]))
}

// ---------------------------------------------------------------------------------------------------------------
// deployments

pub(crate) async fn deployments(api: &Api, command: DeploymentsCommand) -> CliResult<()> {
    match command.command {
        None => list_deployments(api, command.list).await,
        Some(DeploymentsSubcommand::List(args)) => list_deployments(api, args).await,
        Some(DeploymentsSubcommand::Get { id, json }) => get_deployment(api, &id, json.json).await,
    }
}

async fn list_deployments(api: &Api, args: DeploymentsListArgs) -> CliResult<()> {
    let mut input = serde_json::json!({});
    if let Some(application) = &args.application_name {
        input["applicationName"] = Value::String(application.clone());
    }
    if let Some(group) = &args.deployment_group_name {
        input["deploymentGroupName"] = Value::String(group.clone());
    }
    let ids = list_all(api, Operation::ListDeployments, input, "deployments").await?;
    let (raw, mut infos): (_, Vec<wire::DeploymentInfo>) = batch_get(
        api,
        Operation::BatchGetDeployments,
        &serde_json::json!({}),
        "deploymentIds",
        &ids,
        100,
        "deploymentsInfo",
    )
    .await?;
    if args.json.json {
        return output::json(&serde_json::json!({ "deploymentsInfo": raw }));
    }
    if infos.is_empty() {
        return output::line("No deployments.");
    }
    infos.sort_by(|a, b| b.create_time.unwrap_or(0.0).total_cmp(&a.create_time.unwrap_or(0.0)));
    let mut table = output::table(&["ID", "APPLICATION", "GROUP", "STATUS", "CREATOR", "CREATED"]);
    for info in &infos {
        table.add_row(vec![
            or_dash(info.deployment_id.as_deref()),
            or_dash(info.application_name.as_deref()),
            or_dash(info.deployment_group_name.as_deref()),
            or_dash(info.status.as_deref()),
            or_dash(info.creator.as_deref()),
            time(info.create_time),
        ]);
    }
    output::print_table(&table)
}

async fn get_deployment(api: &Api, id: &str, json: bool) -> CliResult<()> {
    let input = wire::GetDeploymentInput { deployment_id: Some(id.to_owned()) };
    let (raw, output): (_, wire::GetDeploymentOutput) = api.call_raw(Operation::GetDeployment, &input).await?;
    let info = output
        .deployment_info
        .ok_or_else(|| CliError::user(format!("the server answered GetDeployment {id} without deploymentInfo")))?;
    let targets = deploy::fetch_targets(api, id).await?;
    if json {
        // GetDeployment's output, plus BatchGetDeploymentTargets' `deploymentTargets`.
        let mut raw = raw;
        let targets: Vec<wire::DeploymentTarget> = targets
            .iter()
            .map(|target| wire::DeploymentTarget {
                deployment_target_type: Some("InstanceTarget".to_owned()),
                instance_target: Some(target.clone()),
                ..Default::default()
            })
            .collect();
        raw["deploymentTargets"] = serde_json::to_value(&targets).unwrap_or_default();
        return output::json(&raw);
    }
    let mut rows = vec![
        ("Deployment", or_dash(info.deployment_id.as_deref())),
        ("Application", or_dash(info.application_name.as_deref())),
        ("Group", or_dash(info.deployment_group_name.as_deref())),
        ("Config", or_dash(info.deployment_config_name.as_deref())),
        ("Status", or_dash(info.status.as_deref())),
        ("Revision", revision(info.revision.as_ref())),
        ("Creator", or_dash(info.creator.as_deref())),
        ("Created", time(info.create_time)),
        ("Completed", time(info.complete_time)),
        ("Duration", or_dash(deploy::duration(&info))),
        ("Hosts", deploy::overview_text(info.deployment_overview.as_ref())),
    ];
    if let Some(description) = info.description.as_deref().filter(|d| !d.is_empty()) {
        rows.push(("Description", description.to_owned()));
    }
    if let Some(error) = &info.error_information {
        rows.push((
            "Error",
            format!("{}: {}", error.code.as_deref().unwrap_or("?"), error.message.as_deref().unwrap_or("")),
        ));
    }
    output::print_table(&output::details(rows))?;
    if targets.is_empty() {
        return output::line("\nNo hosts.");
    }
    output::line("")?;
    output::print_table(&targets_table(&targets))?;
    deploy::print_failures(&targets)
}

/// One row per host: its status, then each lifecycle event's status and duration.
fn targets_table(targets: &[wire::InstanceTarget]) -> comfy_table::Table {
    let mut events: Vec<String> = Vec::new();
    for target in targets {
        for event in target.lifecycle_events.iter().flatten() {
            if let Some(name) = &event.lifecycle_event_name
                && !events.contains(name)
            {
                events.push(name.clone());
            }
        }
    }
    let mut header = vec!["HOST", "STATUS"];
    header.extend(events.iter().map(String::as_str));
    let mut table = output::table(&header);
    for target in targets {
        let mut row = vec![or_dash(target.target_id.as_deref()), or_dash(target.status.as_deref())];
        for name in &events {
            let event =
                target.lifecycle_events.iter().flatten().find(|e| e.lifecycle_event_name.as_deref() == Some(name));
            row.push(match event {
                None => "-".to_owned(),
                Some(event) => {
                    let status = event.status.as_deref().unwrap_or("?");
                    match (event.start_time, event.end_time) {
                        (Some(start), Some(end)) => {
                            format!("{status}\n{}", timefmt::duration_ms(timefmt::millis_between(start, end)))
                        }
                        _ => status.to_owned(),
                    }
                }
            });
        }
        table.add_row(row);
    }
    table
}

// ---------------------------------------------------------------------------------------------------------------
// instances

pub(crate) async fn instances(api: &Api, command: InstancesCommand) -> CliResult<()> {
    match command.command {
        None => list_instances(api, command.json.json).await,
        Some(InstancesSubcommand::List { json }) => list_instances(api, json.json || command.json.json).await,
        Some(InstancesSubcommand::Get { name, json }) => get_instance(api, &name, json.json).await,
    }
}

async fn list_instances(api: &Api, json: bool) -> CliResult<()> {
    let names = list_all(api, Operation::ListOnPremisesInstances, serde_json::json!({}), "instanceNames").await?;
    let (raw, infos): (_, Vec<wire::InstanceInfo>) = batch_get(
        api,
        Operation::BatchGetOnPremisesInstances,
        &serde_json::json!({}),
        "instanceNames",
        &names,
        100,
        "instanceInfos",
    )
    .await?;
    if json {
        return output::json(&serde_json::json!({ "instanceInfos": raw }));
    }
    if infos.is_empty() {
        return output::line("No instances. Start cutover-agent on a host to register it.");
    }
    let mut table = output::table(&["NAME", "TAGS", "STATUS", "REGISTERED", "DEREGISTERED"]);
    for info in &infos {
        table.add_row(vec![
            or_dash(info.instance_name.as_deref()),
            tags(info.tags.as_ref()),
            if info.deregister_time.is_some() { "Deregistered" } else { "Registered" }.to_owned(),
            time(info.register_time),
            time(info.deregister_time),
        ]);
    }
    output::print_table(&table)
}

async fn get_instance(api: &Api, name: &str, json: bool) -> CliResult<()> {
    let input = wire::GetOnPremisesInstanceInput { instance_name: Some(name.to_owned()) };
    let (raw, output): (_, wire::GetOnPremisesInstanceOutput) =
        api.call_raw(Operation::GetOnPremisesInstance, &input).await?;
    if json {
        return output::json(&raw);
    }
    let info = output.instance_info.unwrap_or_default();
    output::print_table(&output::details(vec![
        ("Name", or_dash(info.instance_name.as_deref())),
        ("ARN", or_dash(info.instance_arn.as_deref())),
        ("Tags", tags(info.tags.as_ref())),
        ("Status", if info.deregister_time.is_some() { "Deregistered" } else { "Registered" }.to_owned()),
        ("Registered", time(info.register_time)),
        ("Deregistered", time(info.deregister_time)),
        ("IAM user ARN", or_dash(info.iam_user_arn.as_deref())),
        ("IAM session ARN", or_dash(info.iam_session_arn.as_deref())),
    ]))
}
