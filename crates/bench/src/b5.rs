//! B5: automatic rollback of N hosts (100 by default) with trivial hooks, after a revision whose ValidateService
//! fails everywhere. The rollback redeploys the last good revision from each agent's local copy (no download).
//!
//! Reported: the rollback deployment's `completeTime − createTime` and the time from the failed deployment's end to
//! the rollback's end (server timestamps), plus whether the sampled host reused its bundle.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use cutover_api_types::codedeploy::Operation;
use serde_json::json;

use crate::common::{self, Options};
use crate::report::{Report, Row, sig};

pub(crate) async fn run(options: &Options, report: &mut Report) -> anyhow::Result<()> {
    let hosts = options.b2_agents;
    let cluster = common::start_cluster(options, hosts).await?;
    let client = &cluster.client;
    common::create_application(client, "b5").await?;
    let _: serde_json::Value = client
        .call(
            Operation::CreateDeploymentGroup,
            &json!({
                "applicationName": "b5", "deploymentGroupName": "g", "serviceRoleArn": "arn:aws:iam::000000000000:role/bench",
                "deploymentConfigName": "CodeDeployDefault.AllAtOnce",
                "onPremisesInstanceTagFilters": [{"Key": "env", "Value": "test", "Type": "KEY_AND_VALUE"}],
                "autoRollbackConfiguration": {"enabled": true, "events": ["DEPLOYMENT_FAILURE"]},
            }),
        )
        .await
        .context("CreateDeploymentGroup")?;
    let good = common::push(&cluster, "b5", "b5/good.tgz", common::hook_bundle(None).tgz(), "tgz").await?;
    let bad = common::push(&cluster, "b5", "b5/bad.tgz", common::hook_bundle(Some("exit 1")).tgz(), "tgz").await?;
    let timeout = Duration::from_secs(600);
    let first = common::deploy_and_wait(client, "b5", "g", &good, Duration::from_millis(20), timeout).await?;
    if !first.succeeded() {
        bail!("B5 first deployment: {}", first.failure());
    }
    let failed = common::deploy_and_wait(client, "b5", "g", &bad, Duration::from_millis(20), timeout).await?;
    let rollback_id = failed
        .info
        .rollback_info
        .as_ref()
        .and_then(|info| info.rollback_deployment_id.clone())
        .with_context(|| format!("the failed deployment made no rollback: {}", failed.failure()))?;
    let rollback =
        common::wait_terminal(client, &rollback_id, Instant::now(), Duration::from_millis(20), timeout).await?;
    if !rollback.succeeded() {
        bail!("B5 rollback: {}", rollback.failure());
    }
    let rollback_ms = rollback.server_ms;
    let since_failure_ms =
        (rollback.info.complete_time.unwrap_or(f64::NAN) - failed.info.complete_time.unwrap_or(f64::NAN)) * 1000.0;
    let goal_met = since_failure_ms <= 10_000.0;
    report.row(
        Row::new(
            "B5",
            format!("rollback of {hosts} hosts: failed deployment end → rollback Succeeded"),
            format!("{} ms", sig(since_failure_ms)),
        )
        .goal("≤ 10 s", goal_met),
    );
    report.row(Row::new(
        "B5",
        "rollback deployment create → Succeeded (server ts)",
        format!("{} ms", sig(rollback_ms)),
    ));
    // Evidence that the rollback downloaded nothing: the sampled host's uploaded DownloadBundle log.
    let path = format!("/v1/deployments/{rollback_id}/instances/host-1/logs");
    let reused = match cluster.client.get_v1(&path).await {
        Ok((200, body)) => String::from_utf8_lossy(&body).contains("Reused the bundle"),
        _ => false,
    };
    report.note(format!(
        "B5: failed deployment {} → rollback {} ({} hosts, AllAtOnce); host-1's DownloadBundle {} the local bundle",
        failed.id,
        rollback_id,
        hosts,
        if reused { "reused" } else { "did NOT reuse" }
    ));
    Ok(())
}
