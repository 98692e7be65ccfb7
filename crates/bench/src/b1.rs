//! B1 — a trivial deployment to one host: one file, five no-op hooks, CreateDeployment → Succeeded.
//!
//! Cutover: one real agent; a warm-up deployment first so every measured run also executes ApplicationStop from
//! the previous revision. Each run is timed by the server's `createTime`/`completeTime` and by this client's wall
//! clock (CreateDeployment call until GetDeployment, polled every 2 ms, shows Succeeded).
//!
//! Peers, same bundle and same work per run (extract the bundle into a fresh directory, copy `index.html` to the
//! destination, execute the hook script five times), timed as the wall time of the whole command:
//! - the bash floor: `tar -xzf`, `cp`, five script execs in one `bash` process;
//! - Ansible: `ansible-playbook` with `connection: local`, `gather_facts: false`, tasks `command` (ApplicationStop),
//!   `unarchive`, `command`, `copy`, `command` ×3.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::ansible;
use crate::common::{self, HOOK_EVENTS, Options, hook_bundle, run_peer, write_file};
use crate::report::{Report, Row, ms, quantile, times_better};

const GOAL_P50_MS: f64 = 150.0;
const GOAL_VS_ANSIBLE: f64 = 10.0;
const GOAL_VS_BASH: f64 = 4.0;

pub(crate) async fn run(options: &Options, report: &mut Report) -> anyhow::Result<()> {
    let runs = options.b1_runs;
    eprintln!("B1: trivial deployment to 1 host, {runs} runs");
    let cluster = common::start_cluster(options, 1).await?;
    cluster.create_app_and_group("b1", "g", "CodeDeployDefault.AllAtOnce").await;
    let bundle = hook_bundle(None).tgz();
    let revision = common::push(&cluster, "b1", "b1/bundle.tgz", bundle.clone(), "tgz").await?;
    let timeout = Duration::from_secs(60);
    let poll = Duration::from_millis(2);
    let warmup = common::deploy_and_wait(&cluster.client, "b1", "g", &revision, poll, timeout).await?;
    if !warmup.succeeded() {
        report.fail(format!("B1 warm-up: {}", warmup.failure()));
        return Ok(());
    }
    let mut server_ms = Vec::new();
    let mut wall_ms = Vec::new();
    let mut last = None;
    for _ in 0..runs {
        let done = common::deploy_and_wait(&cluster.client, "b1", "g", &revision, poll, timeout).await?;
        if !done.succeeded() {
            report.fail(format!("B1: {}", done.failure()));
            return Ok(());
        }
        server_ms.push(done.server_ms);
        wall_ms.push(done.wall_ms);
        last = Some(done.id);
    }
    // Where the time goes, from the last run's event timestamps.
    if let Some(id) = last {
        let events = common::events(&cluster.client, &id, "host-1").await?;
        let info = common::get_deployment(&cluster.client, &id).await?;
        let created = info.create_time.unwrap_or(f64::NAN) * 1000.0;
        let mut split = Vec::new();
        let mut previous_end = created;
        for event in &events {
            split.push(format!(
                "{} +{:.0}/{:.0}",
                event.name,
                event.start_ms - previous_end,
                event.end_ms - event.start_ms
            ));
            previous_end = event.end_ms;
        }
        let complete = info.complete_time.unwrap_or(f64::NAN) * 1000.0;
        report.note(format!(
            "B1 last run, per event 'gap before start / duration' in ms (server timestamps): {}; last event end → complete {:.0} ms",
            split.join(", "),
            complete - previous_end
        ));
    }
    if let Some(summary) = common::log_summary(&cluster.server.log) {
        report.note(format!("B1 server log: {summary}"));
    }
    drop(cluster);

    // Peers.
    let work = options.scratch.join("b1");
    common::remove_dir(&work);
    let bundle_path = work.join("bundle.tgz");
    write_file(&bundle_path, &bundle, 0o644)?;
    let bash_ms = bash_floor(&work, runs)?;
    let ansible_ms = match &options.ansible {
        Some(playbook) => Some(ansible_peer(playbook, &work, runs)?),
        None => None,
    };
    common::remove_dir(&work);

    let server_p50 = quantile(&server_ms, 0.5);
    let server_p95 = quantile(&server_ms, 0.95);
    let wall_p50 = quantile(&wall_ms, 0.5);
    let wall_p95 = quantile(&wall_ms, 0.95);
    let bash_p50 = quantile(&bash_ms, 0.5);
    let (ansible_p50, ansible_p95) =
        ansible_ms.as_ref().map_or((f64::NAN, f64::NAN), |values| (quantile(values, 0.5), quantile(values, 0.95)));
    let ansible_cell =
        |value: f64| if ansible_ms.is_some() { format!("Ansible {}", ms(value)) } else { "Ansible not run".to_owned() };

    let vs_ansible = times_better(ansible_p50, server_p50);
    report.row(
        Row::new("B1", format!("create→Succeeded p50, server ts ({runs} runs)"), ms(server_p50))
            .peer(ansible_cell(ansible_p50))
            .ratio(vs_ansible)
            .goal(
                format!("≤ {GOAL_P50_MS:.0} ms, ≥ {GOAL_VS_ANSIBLE:.0}× Ansible"),
                server_p50 <= GOAL_P50_MS && vs_ansible.is_some_and(|ratio| ratio >= GOAL_VS_ANSIBLE),
            ),
    );
    report.row(
        Row::new("B1", "create→Succeeded p95, server ts", ms(server_p95))
            .peer(ansible_cell(ansible_p95))
            .ratio(times_better(ansible_p95, server_p95)),
    );
    report.row(
        Row::new("B1", "create→Succeeded p50 / p95, client wall", format!("{} / {}", ms(wall_p50), ms(wall_p95)))
            .peer(ansible_cell(ansible_p50))
            .ratio(times_better(ansible_p50, wall_p50)),
    );
    let vs_bash = times_better(bash_p50, server_p50);
    report.row(
        Row::new("B1", "p50 vs bash floor (tar + cp + 5 execs)", ms(server_p50))
            .peer(format!("bash {}", ms(bash_p50)))
            .ratio(vs_bash)
            .goal(
                format!("≤ {GOAL_VS_BASH:.0}× bash (ref §9)"),
                vs_bash.is_some_and(|ratio| ratio >= 1.0 / GOAL_VS_BASH),
            ),
    );
    Ok(())
}

/// The bash floor: the same extract, copy and five hook execs in one shell.
fn bash_floor(work: &Path, runs: usize) -> anyhow::Result<Vec<f64>> {
    let script = work.join("floor.sh");
    let mut body = String::from(
        "set -e\nstage=\"$1\"; dest=\"$2\"\nmkdir -p \"$stage\" \"$dest/srv/bench\"\ntar -xzf \"$3\" -C \"$stage\"\ncp \"$stage/index.html\" \"$dest/srv/bench/index.html\"\n",
    );
    for _ in HOOK_EVENTS {
        body.push_str("\"$stage/noop.sh\"\n");
    }
    write_file(&script, body.as_bytes(), 0o755)?;
    let mut times = Vec::new();
    for run in 0..runs {
        let stage = work.join(format!("bash-stage-{run}"));
        let dest = work.join("bash-dest");
        let mut command = Command::new("bash");
        command.arg(&script).arg(&stage).arg(&dest).arg(work.join("bundle.tgz"));
        times.push(run_peer(&mut command)?.wall_ms);
        common::remove_dir(&stage);
    }
    Ok(times)
}

/// The Ansible peer: one `ansible-playbook` run per deployment.
fn ansible_peer(playbook: &Path, work: &Path, runs: usize) -> anyhow::Result<Vec<f64>> {
    let dir = work.join("ansible");
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("inventory.ini"), "localhost ansible_connection=local\n")?;
    write_file(&dir.join("scripts/noop.sh"), b"#!/bin/sh\nexit 0\n", 0o755)?;
    std::fs::write(dir.join("playbook.yml"), playbook_yaml())?;
    let mut times = Vec::new();
    for run in 0..runs {
        let stage = dir.join("stage");
        common::remove_dir(&stage);
        std::fs::create_dir_all(&stage)?;
        // A fresh destination, so that `copy` writes the file as the agent's Install does.
        common::remove_dir(&dir.join("dest"));
        std::fs::create_dir_all(dir.join("dest/srv/bench"))?;
        let result = ansible::run(playbook, &dir, &dir.join("inventory.ini"), 1)?;
        eprintln!("  ansible run {}: {:.0} ms", run + 1, result.wall_ms);
        times.push(result.wall_ms);
    }
    Ok(times)
}

fn playbook_yaml() -> String {
    let hook = |event: &str| {
        format!("    - name: {event}\n      ansible.builtin.command: \"{{{{ playbook_dir }}}}/scripts/noop.sh\"\n")
    };
    let mut yaml = String::from(
        "- hosts: all\n  connection: local\n  gather_facts: false\n  vars:\n    ansible_python_interpreter: \"{{ ansible_playbook_python }}\"\n  tasks:\n",
    );
    yaml.push_str(&hook("ApplicationStop"));
    yaml.push_str(
        "    - name: DownloadBundle\n      ansible.builtin.unarchive:\n        src: \"{{ playbook_dir }}/../bundle.tgz\"\n        dest: \"{{ playbook_dir }}/stage\"\n        remote_src: true\n",
    );
    yaml.push_str(&hook("BeforeInstall"));
    yaml.push_str(
        "    - name: Install\n      ansible.builtin.copy:\n        src: \"{{ playbook_dir }}/stage/index.html\"\n        dest: \"{{ playbook_dir }}/dest/srv/bench/index.html\"\n        remote_src: true\n",
    );
    for event in ["AfterInstall", "ApplicationStart", "ValidateService"] {
        yaml.push_str(&hook(event));
    }
    yaml
}
