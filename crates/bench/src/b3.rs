//! B3 — an idle fleet of simulated agents (10 000 by default) against one server, then one AllAtOnce deployment
//! to all of them.
//!
//! The agents are [`crate::sim`] tasks in this process speaking the real agent protocol (a simulation: they run
//! nothing). Sequence, on one server:
//! 1. register every agent (tag `fleet=sim`);
//! 2. peer: short poll (`wait_ms: 0` once a second); after a warm-up, server CPU % and RSS from `/proc` and the
//!    answered polls per second over the idle window;
//! 3. Cutover: long poll (`wait_ms` as the real agent, 20 s); the same measurements over the same window;
//! 4. one AllAtOnce deployment to a group whose tag filter (`fleet=sim`) matches only the simulated agents: the
//!    time from the CreateDeployment call to each agent's first command (p50/p99/max) and to Succeeded.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::common::{self, Options, hook_bundle};
use crate::report::{Report, Row, mb, ms, quantile, sig, times_better};
use crate::sim::{Fleet, Mode};
use crate::sys;

const GOAL_CPU_PERCENT: f64 = 5.0;
const GOAL_RSS: u64 = 300 * 1024 * 1024;
const GOAL_P99_MS: f64 = 1000.0;
const GOAL_FEWER_REQUESTS: f64 = 30.0;

/// Server load over one idle window.
#[derive(Debug, Clone, Copy)]
struct Idle {
    cpu_percent: f64,
    requests_per_s: f64,
    rss: u64,
    errors: u64,
    generator_cpu_percent: f64,
    server_fds: usize,
}

pub(crate) async fn run(options: &Options, report: &mut Report) -> anyhow::Result<()> {
    let n = options.b3_agents;
    let wait_ms = options.b3_poll_wait_ms;
    let (warmup, window) = if options.smoke {
        (Duration::from_secs(1), Duration::from_secs(2))
    } else {
        (Duration::from_secs(3), Duration::from_secs(10))
    };
    let deadline = options.b3_deadline;
    eprintln!("B3: {n} simulated agents, long poll {wait_ms} ms vs 1 s short poll, then one AllAtOnce deployment");

    let cluster = common::start_cluster(options, 0).await?;
    let server_pid = cluster.server.child.id();
    let base_rss = sys::rss(server_pid);
    let token = std::fs::read_to_string(cluster.server.data_dir.join("enrollment-token"))?;
    let mut fleet = Fleet::new(&cluster.endpoint, n, options.b3_agents_per_client, token.trim())?;
    let started = Instant::now();
    fleet.register(256).await?;
    let register_s = started.elapsed().as_secs_f64();
    eprintln!("  registered {n} agents in {register_s:.1} s ({} clients)", fleet.client_count());

    // Cutover's long poll first (so its RSS is not inflated by the peer's), then the peer: the same generator in
    // 1 s short-poll mode; then long poll again for the deployment.
    fleet.start(Mode::Long { wait_ms }).await;
    tokio::time::sleep(warmup).await;
    let long = measure_idle(&fleet, server_pid, window).await;
    eprintln!("  long poll: {long:?}");
    fleet.start(Mode::Short { period: Duration::from_secs(1) }).await;
    tokio::time::sleep(warmup).await;
    let short = measure_idle(&fleet, server_pid, window).await;
    eprintln!("  short poll: {short:?}");
    fleet.start(Mode::Long { wait_ms }).await;
    tokio::time::sleep(warmup).await;

    let cpu_ratio = times_better(short.cpu_percent, long.cpu_percent);
    report.row(
        Row::new(
            "B3",
            format!("idle server CPU, {n} agents long-polling {} s ({} s window)", wait_ms / 1000, window.as_secs()),
            format!("{} % of a core", sig(long.cpu_percent)),
        )
        .peer(format!("1 s short poll: {} %", sig(short.cpu_percent)))
        .ratio(cpu_ratio)
        .goal(format!("≤ {GOAL_CPU_PERCENT:.0} % of one core"), long.cpu_percent <= GOAL_CPU_PERCENT),
    );
    let request_ratio = times_better(short.requests_per_s, long.requests_per_s);
    report.row(
        Row::new("B3", "idle polls answered per second", format!("{} req/s", sig(long.requests_per_s)))
            .peer(format!("1 s short poll: {} req/s", sig(short.requests_per_s)))
            .ratio(request_ratio)
            .goal(
                format!("≥ {GOAL_FEWER_REQUESTS:.0}× fewer (ref §9)"),
                request_ratio.is_some_and(|r| r >= GOAL_FEWER_REQUESTS),
            ),
    );
    report.row(
        Row::new("B3", "idle server RSS (VmRSS)", mb(long.rss))
            .peer(format!("1 s short poll: {}", mb(short.rss)))
            .goal("≤ 300 MB", long.rss <= GOAL_RSS),
    );
    report.note(format!(
        "B3 generator: {n} agents on {} AgentClients ({} agents each), registered in {register_s:.1} s; generator CPU {} % (long) / {} % (short) of a core; \
         server fds {} (long) / {} (short); poll errors {} / {}; idle server CPU per answered poll {} ms (long) / {} ms (short); server RSS before registration {}, so ≈ {} KB per registered, long-polling agent",
        fleet.client_count(),
        options.b3_agents_per_client,
        sig(long.generator_cpu_percent),
        sig(short.generator_cpu_percent),
        long.server_fds,
        short.server_fds,
        long.errors,
        short.errors,
        sig(long.cpu_percent * 10.0 / long.requests_per_s),
        sig(short.cpu_percent * 10.0 / short.requests_per_s),
        mb(base_rss),
        sig((long.rss.saturating_sub(base_rss)) as f64 / 1024.0 / n as f64),
    ));
    if short.requests_per_s < 0.9 * n as f64 {
        report.note(format!(
            "B3 peer: the 1 s short poll reached {} of the intended {n} req/s (server or generator saturated)",
            sig(short.requests_per_s)
        ));
    }

    // The deployment to every simulated agent.
    common::create_application(&cluster.client, "b3").await?;
    common::create_group(&cluster.client, "b3", "sim", "CodeDeployDefault.AllAtOnce", ("fleet", "sim")).await?;
    let revision = common::push(&cluster, "b3", "b3/bundle.tgz", hook_bundle(None).tgz(), "tgz").await?;
    let server_cpu_before = sys::cpu(&server_pid.to_string()).unwrap_or_default();
    let t0 = Instant::now();
    let id = common::create_deployment(&cluster.client, "b3", "sim", &revision).await?;
    let create_ms = t0.elapsed().as_secs_f64() * 1000.0;
    let mut finished = None;
    let mut status = String::new();
    while t0.elapsed() < deadline {
        tokio::time::sleep(Duration::from_millis(250)).await;
        match common::get_deployment(&cluster.client, &id).await {
            Ok(info) => {
                status = info.status.clone().unwrap_or_default();
                if matches!(status.as_str(), "Succeeded" | "Failed" | "Stopped") {
                    let wall_ms = t0.elapsed().as_secs_f64() * 1000.0;
                    let server_ms =
                        (info.complete_time.unwrap_or(f64::NAN) - info.create_time.unwrap_or(f64::NAN)) * 1000.0;
                    finished = Some(common::Finished { id: id.clone(), info, server_ms, wall_ms });
                    break;
                }
            }
            Err(error) => eprintln!("  GetDeployment: {error:#}"),
        }
    }
    let elapsed_s = t0.elapsed().as_secs_f64();
    let completes = fleet.counters.completes.load(Ordering::Relaxed);
    let complete_errors = fleet.counters.complete_errors.load(Ordering::Relaxed);
    let got: Vec<f64> = fleet
        .first_command
        .iter()
        .filter_map(|slot| slot.get().map(|at| at.saturating_duration_since(t0).as_secs_f64() * 1000.0))
        .collect();
    let server_cpu = (sys::cpu(&server_pid.to_string()).unwrap_or_default() - server_cpu_before).own;
    fleet.stop().await;
    let server_rss_peak = sys::memory(server_pid).map_or(0, |(_, hwm)| hwm);
    if let Some(summary) = common::log_summary(&cluster.server.log) {
        report.note(format!("B3 server log: {summary}"));
    }
    drop(cluster);

    let all = got.len() == n;
    let p99 =
        if got.len() >= (n as f64 * 0.99).ceil() as usize { quantile_of_all(&got, n, 0.99) } else { f64::INFINITY };
    let first_text = if all {
        format!("{} / {} / {}", ms(quantile(&got, 0.5)), ms(p99), ms(quantile(&got, 1.0)))
    } else {
        format!(
            "{} of {n} got one in {:.0} s; p50 {}",
            got.len(),
            elapsed_s,
            if got.len() * 2 >= n { ms(quantile_of_all(&got, n, 0.5)) } else { "not reached".to_owned() }
        )
    };
    report.row(
        Row::new("B3", "create → first command p50 / p99 / max", first_text)
            .goal(format!("p99 ≤ {} s", GOAL_P99_MS / 1000.0), p99 <= GOAL_P99_MS),
    );
    match &finished {
        Some(done) => {
            report.row(Row::new(
                "B3",
                format!("create → {} ({n} hosts), server ts / wall", done.status()),
                format!("{} / {}", ms(done.server_ms), ms(done.wall_ms)),
            ));
            if !done.succeeded() {
                report.fail(format!("B3: {}", done.failure()));
            }
        }
        None => {
            let message = format!(
                "not finished in {:.0} s (status {status}): {completes} events reported, {} per s",
                elapsed_s,
                sig(completes as f64 / elapsed_s)
            );
            report.row(Row::new("B3", format!("create → Succeeded ({n} hosts)"), message.clone()));
            if options.smoke {
                report.fail(format!("B3: deployment {id} {message}"));
            }
        }
    }
    report.note(format!(
        "B3 deployment: CreateDeployment call took {}, first command after {}; {completes} completions acknowledged \
         ({complete_errors} failed attempts); server CPU {} s ({} ms per acknowledged event); failed requests over the \
         whole scenario: {}; server peak RSS {}",
        ms(create_ms),
        ms(quantile(&got, 0.0)),
        sig(server_cpu),
        sig(server_cpu * 1000.0 / completes.max(1) as f64),
        fleet.counters.error_summary(),
        mb(server_rss_peak)
    ));
    Ok(())
}

/// The `q` quantile over all `n` agents, where the ones missing from `values` count as later than every value.
fn quantile_of_all(values: &[f64], n: usize, q: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((q * n as f64).ceil() as usize).max(1);
    sorted.get(rank - 1).copied().unwrap_or(f64::INFINITY)
}

/// Server CPU %, answered polls per second and RSS over `window`.
async fn measure_idle(fleet: &Fleet, server_pid: u32, window: Duration) -> Idle {
    let pid = server_pid.to_string();
    let cpu_before = sys::cpu(&pid).unwrap_or_default();
    let own_before = sys::cpu("self").unwrap_or_default();
    let polls_before = fleet.counters.polls.load(Ordering::Relaxed);
    let errors_before = fleet.counters.poll_errors.load(Ordering::Relaxed);
    let started = Instant::now();
    tokio::time::sleep(window).await;
    let seconds = started.elapsed().as_secs_f64();
    let cpu = sys::cpu(&pid).unwrap_or_default() - cpu_before;
    let own = sys::cpu("self").unwrap_or_default() - own_before;
    let polls = fleet.counters.polls.load(Ordering::Relaxed) - polls_before;
    let server_fds = std::fs::read_dir(format!("/proc/{server_pid}/fd")).map_or(0, |dir| dir.count());
    Idle {
        cpu_percent: cpu.own / seconds * 100.0,
        requests_per_s: polls as f64 / seconds,
        rss: sys::rss(server_pid),
        errors: fleet.counters.poll_errors.load(Ordering::Relaxed) - errors_before,
        generator_cpu_percent: own.own / seconds * 100.0,
        server_fds,
    }
}
