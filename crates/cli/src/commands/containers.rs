//! `cutover containers status|logs`: a container service (ECS deployments) as its hosts report it.
//!
//! The server keeps what each host's agent last reported of its task sets (`POST /v1/container-services`); for logs it
//! asks the hosts, which send their containers' last lines with their next report.

use clap::{Args, Subcommand};
use cutover_api_types::agent::{ContainerService, ContainerServiceRequest};

use super::Api;
use crate::error::CliResult;
use crate::output;

#[derive(Debug, Subcommand)]
pub(crate) enum ContainersCommand {
    /// Show a service's task sets on every host: desired and running tasks, health, upstreams, replaced tasks.
    Status(ServiceArgs),
    /// Print the last lines of every container of a service (asked of the hosts now).
    Logs(LogsArgs),
}

#[derive(Debug, Args)]
pub(crate) struct ServiceArgs {
    /// The cluster (hosts tagged cutover:ecs-cluster=CLUSTER).
    #[arg(long, value_name = "NAME")]
    pub(crate) cluster: String,
    /// The service (the deployment group's ecsServices serviceName).
    #[arg(long, value_name = "NAME")]
    pub(crate) service: String,
    /// Print the server's answer as JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct LogsArgs {
    #[command(flatten)]
    pub(crate) service: ServiceArgs,
    /// How long to wait for the hosts to send their logs, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    pub(crate) wait: u64,
}

pub(crate) async fn command(api: &Api, command: ContainersCommand) -> CliResult<()> {
    match command {
        ContainersCommand::Status(args) => {
            let service = describe(api, &args, false, None).await?;
            if args.json {
                return output::json(&service);
            }
            print_status(&service)
        }
        ContainersCommand::Logs(args) => {
            let service = describe(api, &args.service, true, Some(args.wait.saturating_mul(1000))).await?;
            if args.service.json {
                return output::json(&service);
            }
            print_logs(&service)
        }
    }
}

async fn describe(api: &Api, args: &ServiceArgs, logs: bool, wait_ms: Option<u64>) -> CliResult<ContainerService> {
    let request =
        ContainerServiceRequest { cluster: args.cluster.clone(), service: args.service.clone(), logs, wait_ms };
    Ok(api.client().post_json("/v1/container-services", &request).await?)
}

fn print_status(service: &ContainerService) -> CliResult<()> {
    if service.task_sets.is_empty() {
        return output::line(format!(
            "Service {}/{} has no task set (it was never deployed).",
            service.cluster, service.service
        ));
    }
    let mut table =
        output::table(&["HOST", "TASK SET", "ROLE", "RUNNING", "HEALTHY", "REPLACED", "UPSTREAMS", "ERROR"]);
    for set in &service.task_sets {
        table.add_row(vec![
            set.instance_name.clone(),
            set.task_set_id.clone(),
            set.role.clone(),
            format!("{}/{}", set.running, set.desired),
            if set.healthy { "yes" } else { "no" }.to_owned(),
            set.replaced.to_string(),
            set.upstreams.join(" "),
            output::or_dash(set.error.as_deref()),
        ]);
    }
    output::print_table(&table)?;
    for set in service.task_sets.iter().filter(|set| !set.messages.is_empty()) {
        output::line(format!("\n{} on {}:\n{}", set.task_set_id, set.instance_name, set.messages.trim_end()))?;
    }
    Ok(())
}

fn print_logs(service: &ContainerService) -> CliResult<()> {
    for set in &service.task_sets {
        let Some(containers) = &set.logs else {
            output::line(format!(
                "== {} on {}: no logs (the host did not answer in time)",
                set.task_set_id, set.instance_name
            ))?;
            continue;
        };
        for container in containers {
            output::line(format!(
                "== {} on {}: task {} container {}",
                set.task_set_id, set.instance_name, container.task_id, container.container_name
            ))?;
            for line in &container.lines {
                output::line(line)?;
            }
        }
    }
    Ok(())
}
