//! Measures CreateDeployment → Succeeded for trivial deployments (one file, five no-op hooks) on N local agents.
//!
//! `cargo build --release --bins && ./target/release/cutover-measure --hosts 1 --runs 20`
//! Durations come from the server's own `createTime` and `completeTime` (millisecond resolution), so the polling
//! of this tool does not inflate them.

use std::time::Duration;

use cutover_api_types::codedeploy::Operation;
use cutover_harness::{Bundle, Cluster, ClusterOptions};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut hosts = 1usize;
    let mut runs = 20usize;
    let mut config = "CodeDeployDefault.AllAtOnce".to_owned();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--hosts" => hosts = args.next().and_then(|v| v.parse().ok()).unwrap_or(hosts),
            "--runs" => runs = args.next().and_then(|v| v.parse().ok()).unwrap_or(runs),
            "--config" => config = args.next().unwrap_or(config),
            other => anyhow::bail!("unknown argument {other}; use --hosts N --runs N --config NAME"),
        }
    }
    let cluster = Cluster::start(ClusterOptions { agents: hosts, ..Default::default() }).await;
    cluster.create_app_and_group("bench", "g", &config).await;
    let mut appspec = String::from("version: 0.0\nos: linux\nfiles:\n  - source: index.html\n    destination: /srv/bench\nfile_exists_behavior: OVERWRITE\nhooks:\n");
    for event in ["ApplicationStop", "BeforeInstall", "AfterInstall", "ApplicationStart", "ValidateService"] {
        appspec.push_str(&format!("  {event}:\n    - location: noop.sh\n"));
    }
    let bundle = Bundle::new().file("appspec.yml", &appspec, 0o644).file("index.html", "hello\n", 0o644).script("noop.sh", "true");
    let revision = cluster.push_bundle("bench", bundle.tgz(), "tgz").await;
    // One warm-up deployment so every later run has an ApplicationStop to execute.
    let warmup = cluster.deploy("bench", "g", &revision, serde_json::json!({})).await;
    let info = cluster.wait_deployment(&warmup, Duration::from_secs(120)).await;
    anyhow::ensure!(info.status.as_deref() == Some("Succeeded"), "warm-up failed: {info:?}\n{}", cluster.logs());
    let mut server_ms = Vec::new();
    let mut wall_ms = Vec::new();
    for _ in 0..runs {
        let started = std::time::Instant::now();
        let id = cluster.deploy("bench", "g", &revision, serde_json::json!({})).await;
        let client = cluster.client.clone();
        let info = loop {
            let out: cutover_api_types::codedeploy::GetDeploymentOutput =
                client.call(Operation::GetDeployment, &serde_json::json!({"deploymentId": id})).await?;
            let info = out.deployment_info.unwrap_or_default();
            if matches!(info.status.as_deref(), Some("Succeeded" | "Failed" | "Stopped")) {
                break info;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        };
        wall_ms.push(started.elapsed().as_secs_f64() * 1000.0);
        anyhow::ensure!(info.status.as_deref() == Some("Succeeded"), "run failed: {info:?}");
        server_ms.push((info.complete_time.unwrap_or(0.0) - info.create_time.unwrap_or(0.0)) * 1000.0);
    }
    let stats = |values: &mut Vec<f64>| {
        values.sort_by(f64::total_cmp);
        let pick = |q: f64| values[((values.len() as f64 - 1.0) * q).round() as usize];
        (pick(0.5), pick(0.95))
    };
    let (server_p50, server_p95) = stats(&mut server_ms);
    let (wall_p50, wall_p95) = stats(&mut wall_ms);
    println!("hosts={hosts} runs={runs} config={config}");
    println!("CreateDeployment -> Succeeded (server timestamps): p50 {server_p50:.0} ms, p95 {server_p95:.0} ms");
    println!("CreateDeployment -> Succeeded (client, 2 ms polling): p50 {wall_p50:.0} ms, p95 {wall_p95:.0} ms");
    Ok(())
}
