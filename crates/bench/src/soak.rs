//! Soak — many consecutive deployments to a fleet of real agents (200 by default), one every few seconds for
//! `--soak-minutes`: server and agent RSS sampled every 10 s (start, end, max), and every failed deployment.
//!
//! The first sample is taken after the first deployment; the baseline is the first sample after a warm-up of a fifth
//! of the run (at most 2 minutes), when allocators and caches have settled; "no growth" means the end is within 10 %
//! of the baseline. The agents' total RSS from the baseline to the end is also reported per agent and deployment.

use std::time::{Duration, Instant};

use crate::common::{self, Options, hook_bundle};
use crate::report::{Report, Row, mb, ms, quantile, sig};
use crate::sys;

const SAMPLE_EVERY: Duration = Duration::from_secs(10);
const GROWTH_ALLOWED: f64 = 0.10;

/// One RSS sample: the server's, and the largest and total of the agents'.
#[derive(Debug, Clone, Copy)]
struct Sample {
    server: u64,
    agent_max: u64,
    agents_total: u64,
}

pub(crate) async fn run(options: &Options, report: &mut Report) -> anyhow::Result<()> {
    let n = options.soak_agents;
    let duration = if options.smoke { Duration::from_secs(20) } else { Duration::from_secs(options.soak_minutes * 60) };
    eprintln!(
        "soak: {n} agents, one deployment every {} s for {} s",
        options.soak_interval.as_secs(),
        duration.as_secs()
    );
    let cluster = common::start_cluster(options, n).await?;
    let server_pid = cluster.server.child.id();
    let agent_pids: Vec<u32> =
        cluster.agents.iter().filter_map(|agent| agent.child.as_ref().map(|child| child.id())).collect();
    let sample = || {
        let agents: Vec<u64> = agent_pids.iter().map(|&pid| sys::rss(pid)).collect();
        Sample {
            server: sys::rss(server_pid),
            agent_max: agents.iter().copied().max().unwrap_or(0),
            agents_total: agents.iter().sum(),
        }
    };
    cluster.create_app_and_group("soak", "fleet", "CodeDeployDefault.AllAtOnce").await;
    let revision = common::push(&cluster, "soak", "soak/bundle.tgz", hook_bundle(None).tgz(), "tgz").await?;

    let started = Instant::now();
    let mut samples: Vec<(Duration, usize, Sample)> = Vec::new();
    let mut next_sample = Instant::now();
    let mut durations = Vec::new();
    let mut failed = Vec::new();
    let mut errors = Vec::new();
    while started.elapsed() < duration {
        let tick = Instant::now();
        match common::deploy_and_wait(
            &cluster.client,
            "soak",
            "fleet",
            &revision,
            Duration::from_millis(50),
            Duration::from_secs(300),
        )
        .await
        {
            Ok(done) if done.succeeded() => durations.push(done.server_ms),
            Ok(done) => failed.push(done.failure()),
            Err(error) => errors.push(format!("{error:#}")),
        }
        if Instant::now() >= next_sample {
            let now = sample();
            eprintln!(
                "  {:>4.0} s: {} deployments, server RSS {}, agent RSS max {} total {}",
                started.elapsed().as_secs_f64(),
                durations.len() + failed.len() + errors.len(),
                mb(now.server),
                mb(now.agent_max),
                mb(now.agents_total)
            );
            samples.push((started.elapsed(), durations.len() + failed.len() + errors.len(), now));
            next_sample += SAMPLE_EVERY;
        }
        if let Some(rest) = options.soak_interval.checked_sub(tick.elapsed()) {
            tokio::time::sleep(rest).await;
        }
    }
    let total = durations.len() + failed.len() + errors.len();
    samples.push((started.elapsed(), total, sample()));
    drop(cluster);

    let warmup = (duration / 5).min(Duration::from_secs(120));
    let first = samples[0].2;
    let (_, base_deployments, base) = samples.iter().find(|(at, _, _)| *at >= warmup).copied().unwrap_or(samples[0]);
    let last = samples[samples.len() - 1].2;
    let growth = |start: u64, end: u64| (end as f64 - start as f64) / start.max(1) as f64;
    let server_growth = growth(base.server, last.server);
    let agent_growth = growth(base.agent_max, last.agent_max);
    let minutes = sig(duration.as_secs_f64() / 60.0);
    let warm = sig(warmup.as_secs_f64());
    let max = |pick: fn(&Sample) -> u64| mb(samples.iter().map(|(_, _, s)| pick(s)).max().unwrap_or(0));
    report.row(
        Row::new(
            "soak",
            format!("server RSS after 1st deployment / after {warm} s / end / max ({minutes} min, {n} agents)"),
            format!("{} / {} / {} / {}", mb(first.server), mb(base.server), mb(last.server), max(|s| s.server)),
        )
        .goal("end ≤ after warm-up + 10 %", server_growth <= GROWTH_ALLOWED),
    );
    report.row(
        Row::new(
            "soak",
            format!("largest agent RSS after 1st deployment / after {warm} s / end / max"),
            format!(
                "{} / {} / {} / {}",
                mb(first.agent_max),
                mb(base.agent_max),
                mb(last.agent_max),
                max(|s| s.agent_max)
            ),
        )
        .goal("end ≤ after warm-up + 10 %", agent_growth <= GROWTH_ALLOWED),
    );
    report.row(
        Row::new(
            "soak",
            "deployments: run / failed / errors; duration p50 / max",
            format!(
                "{total} / {} / {}; {} / {}",
                failed.len(),
                errors.len(),
                ms(quantile(&durations, 0.5)),
                ms(quantile(&durations, 1.0))
            ),
        )
        .goal("no failure, no error", failed.is_empty() && errors.is_empty()),
    );
    let later = total.saturating_sub(base_deployments).max(1);
    report.note(format!(
        "soak: {} RSS samples; after warm-up the server grew {} % and the largest agent {} %; the agents' total RSS went \
         from {} to {} over the last {later} deployments, {} KB per agent per deployment",
        samples.len(),
        sig(server_growth * 100.0),
        sig(agent_growth * 100.0),
        mb(base.agents_total),
        mb(last.agents_total),
        sig((last.agents_total as f64 - base.agents_total as f64) / 1024.0 / n as f64 / later as f64),
    ));
    for failure in failed.iter().chain(&errors).take(5) {
        report.fail(format!("soak: {failure}"));
    }
    Ok(())
}
