//! B2 — rolling in-place deployment over N real agent processes (100 by default), with no-op hooks except
//! ValidateService, which sleeps a fixed time (0.2 s).
//!
//! Two configurations: `CodeDeployDefault.HalfAtATime` (window W = N/2) and a custom FLEET_PERCENT config giving a
//! window of N/10 hosts (90 % for 100 hosts). Each group gets one untimed warm-up deployment, so measured runs also
//! execute ApplicationStop, then `runs` measured deployments; the makespan is the median of the server's
//! `completeTime − createTime`.
//!
//! Orchestration overhead per host = (makespan − ⌈N/W⌉ × sleep) / N: everything that is not the unavoidable hook
//! sleep on the critical path (dispatch, downloads, extraction, installs, the no-op hook spawns, reporting).
//! CPU-seconds come from `/proc/<pid>/stat` (`utime + stime`) of the server and of every agent (the agents' hook
//! children are reported separately); peak agent RSS is the largest `VmHWM`.
//!
//! Peer: `ansible-playbook` on an inventory of N `ansible_connection=local` hosts, each with its own destination
//! directory (host var `dest`), `serial: W`, `--forks W`, the same steps as B1's playbook with the same sleep.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use cutover_harness::Cluster;

use crate::ansible;
use crate::common::{self, Options, hook_bundle, write_file};
use crate::report::{Report, Row, mb, ms, quantile, sig, times_better};
use crate::sys::{self, Cpu};

const GOAL_OVERHEAD_MS: f64 = 10.0;
const GOAL_VS_ANSIBLE: f64 = 10.0;
const GOAL_IDLE_RSS: u64 = 10 * 1024 * 1024;
const GOAL_SERVER_CPU_MS: f64 = 5.0;

/// What the measured deployments of one configuration took.
struct Measured {
    label: String,
    window: usize,
    makespans_ms: Vec<f64>,
    server_cpu: f64,
    /// CPU-s of the PostgreSQL backends per deployment; None on SQLite.
    database_cpu: Option<f64>,
    agent_cpu: Cpu,
    last_id: String,
}

pub(crate) async fn run(options: &Options, report: &mut Report) -> anyhow::Result<()> {
    let n = options.b2_agents;
    let sleep_s = if options.smoke { 0.05 } else { 0.2 };
    let runs = if options.smoke { 1 } else { 3 };
    let window = n.div_ceil(10).max(2).min(n);
    let percent = (100 * (n - window) / n) as u64;
    eprintln!(
        "B2: rolling deployment over {n} agents, ValidateService sleep {sleep_s} s, windows {} and {window}",
        n / 2
    );

    let cluster = common::start_cluster(options, n).await?;
    let agent_pids: Vec<u32> =
        cluster.agents.iter().filter_map(|agent| agent.child.as_ref().map(|child| child.id())).collect();
    let server_pid = cluster.server.child.id();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle_rss: Vec<f64> = agent_pids.iter().map(|&pid| sys::rss(pid) as f64).collect();

    cluster.create_app_and_group("b2", "half", "CodeDeployDefault.HalfAtATime").await;
    let config = format!("Bench.FleetPercent{percent}");
    common::create_fleet_percent_config(&cluster.client, &config, percent).await?;
    common::create_group(&cluster.client, "b2", "window", &config, ("env", "test")).await?;
    let bundle = hook_bundle(Some(&format!("sleep {sleep_s}"))).tgz();
    let revision = common::push(&cluster, "b2", "b2/bundle.tgz", bundle.clone(), "tgz").await?;

    let timeout = Duration::from_secs(600);
    let mut measured = Vec::new();
    for (group, label, w) in
        [("half", "HalfAtATime".to_owned(), n / 2), ("window", format!("FLEET_PERCENT {percent}"), window)]
    {
        let warmup =
            common::deploy_and_wait(&cluster.client, "b2", group, &revision, Duration::from_millis(200), timeout)
                .await?;
        if !warmup.succeeded() {
            report.fail(format!("B2 {label} warm-up: {}", warmup.failure()));
            return Ok(());
        }
        let server_before = sys::cpu(&server_pid.to_string()).unwrap_or_default();
        let database_before = cluster.database_cpu();
        let agents_before = agents_cpu(&agent_pids);
        let mut makespans = Vec::new();
        let mut last_id = String::new();
        for _ in 0..runs {
            let done =
                common::deploy_and_wait(&cluster.client, "b2", group, &revision, Duration::from_millis(200), timeout)
                    .await?;
            if !done.succeeded() {
                report.fail(format!("B2 {label}: {}", done.failure()));
                return Ok(());
            }
            makespans.push(done.server_ms);
            last_id = done.id;
        }
        let server_cpu = (sys::cpu(&server_pid.to_string()).unwrap_or_default() - server_before).own / runs as f64;
        let database_cpu = database_before
            .zip(cluster.database_cpu())
            .map(|(before, after)| common::database_cpu_since(&before, &after) / runs as f64);
        let agent_cpu = agents_cpu(&agent_pids) - agents_before;
        let agent_cpu = Cpu { own: agent_cpu.own / runs as f64, children: agent_cpu.children / runs as f64 };
        eprintln!("  {label}: makespans {:?} ms", makespans.iter().map(|v| v.round()).collect::<Vec<_>>());
        measured.push(Measured {
            label,
            window: w,
            makespans_ms: makespans,
            server_cpu,
            database_cpu,
            agent_cpu,
            last_id,
        });
    }
    let peak_rss = agent_pids.iter().filter_map(|&pid| sys::memory(pid)).map(|(_, hwm)| hwm).max().unwrap_or(0);
    if let Some(last) = measured.last() {
        report.note(breakdown(&cluster, &last.last_id, &last.label, sleep_s).await?);
    }
    if let Some(summary) = common::log_summary(&cluster.server.log) {
        report.note(format!("B2 server log: {summary}"));
    }
    drop(cluster);

    let ansible_run = match &options.ansible {
        Some(playbook) => {
            let work = options.scratch.join("b2");
            common::remove_dir(&work);
            write_file(&work.join("bundle.tgz"), &bundle, 0o644)?;
            let result = ansible_peer(playbook, &work, n, window, sleep_s);
            common::remove_dir(&work);
            Some(result?)
        }
        None => None,
    };

    for m in &measured {
        let makespan = quantile(&m.makespans_ms, 0.5);
        let critical = n.div_ceil(m.window) as f64 * sleep_s * 1000.0;
        let overhead = (makespan - critical) / n as f64;
        let is_peer_window = m.window == window;
        let peer = ansible_run.filter(|_| is_peer_window);
        let peer_overhead = peer.map(|p| (p.wall_ms - critical) / n as f64);
        let scenario = "B2";
        let runs_text =
            if m.makespans_ms.len() > 1 { format!(", median of {}", m.makespans_ms.len()) } else { String::new() };
        let mut row =
            Row::new(scenario, format!("makespan {n} hosts, {} (W={}{runs_text})", m.label, m.window), ms(makespan));
        if is_peer_window {
            let ratio = peer.and_then(|p| times_better(p.wall_ms, makespan));
            row = row
                .peer(
                    peer.map_or("Ansible not run".to_owned(), |p| {
                        format!("Ansible serial {window}: {}", ms(p.wall_ms))
                    }),
                )
                .ratio(ratio)
                .goal(
                    format!("≤ 0.1× Ansible (ratio ≥ {GOAL_VS_ANSIBLE:.0})"),
                    ratio.is_some_and(|r| r >= GOAL_VS_ANSIBLE),
                );
        }
        report.row(row);
        let mut row = Row::new(
            scenario,
            format!("overhead/host, {} (critical path {})", m.label, ms(critical)),
            format!("{} ms", sig(overhead)),
        )
        .goal(format!("≤ {GOAL_OVERHEAD_MS:.0} ms"), overhead <= GOAL_OVERHEAD_MS);
        if is_peer_window {
            row = row
                .peer(peer_overhead.map_or("Ansible not run".to_owned(), |o| format!("Ansible {} ms", sig(o))))
                .ratio(peer_overhead.and_then(|o| times_better(o, overhead)));
        }
        report.row(row);
        let server_ms_per_host = m.server_cpu * 1000.0 / n as f64;
        let mut row = Row::new(
            scenario,
            format!("CPU-s per deployment, {}: server / agents (+ hook children)", m.label),
            format!("{} / {} (+{})", sig(m.server_cpu), sig(m.agent_cpu.own), sig(m.agent_cpu.children)),
        )
        .goal(
            format!("server ≤ {GOAL_SERVER_CPU_MS:.0} ms per host (ref §9): {} ms", sig(server_ms_per_host)),
            server_ms_per_host <= GOAL_SERVER_CPU_MS,
        );
        if is_peer_window {
            let total = m.server_cpu + m.agent_cpu.own + m.agent_cpu.children;
            row = row
                .peer(peer.map_or("Ansible not run".to_owned(), |p| format!("Ansible {} CPU-s", sig(p.cpu_s))))
                .ratio(peer.and_then(|p| times_better(p.cpu_s, total)));
        }
        report.row(row);
        if let Some(database_cpu) = m.database_cpu {
            report.row(Row::new(
                scenario,
                format!("CPU-s per deployment, {}: PostgreSQL backends", m.label),
                format!("{} ({} ms per host)", sig(database_cpu), sig(database_cpu * 1000.0 / n as f64)),
            ));
        }
    }
    let idle_median = quantile(&idle_rss, 0.5);
    report.row(
        Row::new(
            "B2",
            format!("agent RSS: idle median / peak (max VmHWM of {n})"),
            format!("{} / {}", mb(idle_median as u64), mb(peak_rss)),
        )
        .goal("idle ≤ 10 MB (ref §9)", idle_median <= GOAL_IDLE_RSS as f64),
    );
    Ok(())
}

/// Sum of the CPU times of the agents.
fn agents_cpu(pids: &[u32]) -> Cpu {
    pids.iter().filter_map(|pid| sys::cpu(&pid.to_string())).fold(Cpu::default(), |sum, cpu| sum + cpu)
}

/// Where the time of one deployment went, from every target's event timestamps.
async fn breakdown(cluster: &Cluster, id: &str, label: &str, sleep_s: f64) -> anyhow::Result<String> {
    let info = common::get_deployment(&cluster.client, id).await?;
    let created = info.create_time.unwrap_or(f64::NAN) * 1000.0;
    let mut first_start = Vec::new();
    let mut host_span = Vec::new();
    let mut busy = Vec::new();
    let mut gaps = Vec::new();
    let mut per_event: Vec<(String, Vec<f64>)> = Vec::new();
    for agent in &cluster.agents {
        let events = common::events(&cluster.client, id, &agent.name).await?;
        let (Some(first), Some(last)) = (events.first(), events.last()) else { continue };
        first_start.push(first.start_ms - created);
        host_span.push(last.end_ms - first.start_ms);
        busy.push(events.iter().map(|event| event.end_ms - event.start_ms).sum::<f64>());
        for pair in events.windows(2) {
            gaps.push(pair[1].start_ms - pair[0].end_ms);
        }
        for event in &events {
            let duration = event.end_ms - event.start_ms;
            match per_event.iter_mut().find(|(name, _)| *name == event.name) {
                Some((_, values)) => values.push(duration),
                None => per_event.push((event.name.clone(), vec![duration])),
            }
        }
    }
    let mut text = format!(
        "B2 {label}, last run, per host (median/max, ms, server timestamps): first event starts {}/{} after create; \
         host span {}/{} of which events {}/{} (sleep {:.0}); gap between events {}/{}; event durations:",
        sig(quantile(&first_start, 0.5)),
        sig(quantile(&first_start, 1.0)),
        sig(quantile(&host_span, 0.5)),
        sig(quantile(&host_span, 1.0)),
        sig(quantile(&busy, 0.5)),
        sig(quantile(&busy, 1.0)),
        sleep_s * 1000.0,
        sig(quantile(&gaps, 0.5)),
        sig(quantile(&gaps, 1.0)),
    );
    for (name, values) in &per_event {
        let _ = write!(text, " {name} {}/{}", sig(quantile(values, 0.5)), sig(quantile(values, 1.0)));
    }
    Ok(text)
}

/// Runs the Ansible peer once: `serial: window`, `--forks window`, one local "host" per simulated agent.
fn ansible_peer(
    playbook: &Path,
    work: &Path,
    n: usize,
    window: usize,
    sleep_s: f64,
) -> anyhow::Result<common::PeerRun> {
    let dir = work.join("ansible");
    let mut inventory = String::from("[fleet]\n");
    for idx in 1..=n {
        let dest = dir.join("hosts").join(format!("host-{idx}"));
        std::fs::create_dir_all(dest.join("stage"))?;
        std::fs::create_dir_all(dest.join("srv/bench"))?;
        inventory.push_str(&format!("host-{idx} ansible_connection=local dest={}\n", dest.display()));
    }
    std::fs::write(dir.join("inventory.ini"), inventory)?;
    write_file(&dir.join("scripts/noop.sh"), b"#!/bin/sh\nexit 0\n", 0o755)?;
    write_file(&dir.join("scripts/validate.sh"), format!("#!/bin/sh\nsleep {sleep_s}\n").as_bytes(), 0o755)?;
    let hook = |event: &str, script: &str| {
        format!("    - name: {event}\n      ansible.builtin.command: \"{{{{ playbook_dir }}}}/scripts/{script}\"\n")
    };
    let mut yaml = format!(
        "- hosts: all\n  serial: {window}\n  gather_facts: false\n  vars:\n    ansible_python_interpreter: \"{{{{ ansible_playbook_python }}}}\"\n  tasks:\n"
    );
    yaml.push_str(&hook("ApplicationStop", "noop.sh"));
    yaml.push_str(
        "    - name: DownloadBundle\n      ansible.builtin.unarchive:\n        src: \"{{ playbook_dir }}/../bundle.tgz\"\n        dest: \"{{ dest }}/stage\"\n        remote_src: true\n",
    );
    yaml.push_str(&hook("BeforeInstall", "noop.sh"));
    yaml.push_str(
        "    - name: Install\n      ansible.builtin.copy:\n        src: \"{{ dest }}/stage/index.html\"\n        dest: \"{{ dest }}/srv/bench/index.html\"\n        remote_src: true\n",
    );
    yaml.push_str(&hook("AfterInstall", "noop.sh"));
    yaml.push_str(&hook("ApplicationStart", "noop.sh"));
    yaml.push_str(&hook("ValidateService", "validate.sh"));
    std::fs::write(dir.join("playbook.yml"), yaml)?;
    eprintln!("  running the Ansible peer: {n} hosts, serial {window}, forks {window}");
    let result = ansible::run(playbook, &dir, &dir.join("inventory.ini"), window)?;
    eprintln!("  Ansible: {:.1} s wall, {:.1} CPU-s", result.wall_ms / 1000.0, result.cpu_s);
    Ok(result)
}
