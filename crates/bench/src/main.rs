//! `cutover-bench`: Cutover's benchmark scenarios on one machine, each figure next to a peer measured in the same
//! invocation, printed as one table. See `docs/benchmarks.md` for what each scenario measures and how.
//!
//! ```text
//! cargo build --release --workspace --bins && ./target/release/cutover-bench [b1] [b2] [b3] [b4] [b5] [b6] [soak] [flags]
//! ```
//!
//! The server and agents are the real `cutover-server` and `cutover-agent` binaries next to this executable
//! (started by `cutover-harness`); B3's fleet is a simulation speaking the real agent protocol ([`sim`]).
//! Scratch files (bundles, clusters, peer runs) live under `target/bench-tmp/` and are deleted at the end.

mod ansible;
mod b1;
mod b2;
mod b3;
mod b4;
mod b5;
mod b6;
mod common;
mod report;
mod sim;
mod soak;
mod sys;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::common::Options;
use crate::report::{Report, Row};

const USAGE: &str = "\
usage: cutover-bench [b1] [b2] [b3] [b4] [b5] [b6] [soak] [flags]

Runs the selected scenarios (default: b1 b2 b3 b4 b5 b6, not soak) and prints a table.

flags:
  --smoke                    tiny version of every scenario (never asserts timings)
  --ansible PATH             ansible-playbook for the peers (else $ANSIBLE_PLAYBOOK, PATH,
                             target/bench-venv; installed there with pip when missing)
  --no-ansible               skip the Ansible peers
  --database-url URL         run the servers on PostgreSQL: postgres://USER@HOST:PORT/DB of a server on
                             which each cluster gets a new database (created and dropped with psql);
                             default: SQLite
  --b1-runs N                measured B1 deployments (default 20; smoke 3)
  --b2-agents N              B2 agent processes (default 100; smoke 6)
  --b3-agents N              B3 simulated agents (default 10000; smoke 200)
  --b3-poll-wait-ms MS       B3 long-poll wait (default 20000, the agent's default)
  --b3-agents-per-client N   simulated agents sharing one HTTP client (default 100)
  --b3-deadline-secs S       how long B3 waits for its deployment to succeed (default 300; smoke 60)
  --soak-minutes M           soak duration (default 10); alone, runs only the soak
  --soak-agents N            soak agent processes (default 200)
  --soak-interval-secs S     time between soak deployments (default 5)
";

/// Parsed command line.
struct Args {
    selected: Vec<String>,
    smoke: bool,
    ansible: Option<PathBuf>,
    no_ansible: bool,
    b1_runs: Option<usize>,
    b2_agents: Option<usize>,
    b3_agents: Option<usize>,
    b3_poll_wait_ms: u64,
    b3_agents_per_client: usize,
    b3_deadline_secs: Option<u64>,
    soak_minutes: Option<u64>,
    soak_agents: usize,
    soak_interval_secs: u64,
    database_url: Option<String>,
}

const SCENARIOS: [&str; 7] = ["b1", "b2", "b3", "b4", "b5", "b6", "soak"];

fn parse_args() -> anyhow::Result<Option<Args>> {
    let mut args = Args {
        selected: Vec::new(),
        smoke: false,
        ansible: None,
        no_ansible: false,
        b1_runs: None,
        b2_agents: None,
        b3_agents: None,
        b3_poll_wait_ms: 20_000,
        b3_agents_per_client: 100,
        b3_deadline_secs: None,
        soak_minutes: None,
        soak_agents: 200,
        soak_interval_secs: 5,
        database_url: None,
    };
    let mut iter = std::env::args().skip(1);
    while let Some(arg) = iter.next() {
        let mut value = |name: &str| iter.next().with_context(|| format!("{name} needs a value"));
        fn number<T: std::str::FromStr>(name: &str, text: String) -> anyhow::Result<T> {
            text.parse().map_err(|_| anyhow::anyhow!("{name}: {text:?} is not a number"))
        }
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--smoke" => args.smoke = true,
            "--no-ansible" => args.no_ansible = true,
            "--ansible" => args.ansible = Some(PathBuf::from(value("--ansible")?)),
            "--b1-runs" => args.b1_runs = Some(number(&arg, value(&arg)?)?),
            "--b2-agents" => args.b2_agents = Some(number(&arg, value(&arg)?)?),
            "--b3-agents" => args.b3_agents = Some(number(&arg, value(&arg)?)?),
            "--b3-poll-wait-ms" => args.b3_poll_wait_ms = number(&arg, value(&arg)?)?,
            "--b3-agents-per-client" => args.b3_agents_per_client = number(&arg, value(&arg)?)?,
            "--b3-deadline-secs" => args.b3_deadline_secs = Some(number(&arg, value(&arg)?)?),
            "--soak-minutes" => args.soak_minutes = Some(number(&arg, value(&arg)?)?),
            "--soak-agents" => args.soak_agents = number(&arg, value(&arg)?)?,
            "--soak-interval-secs" => args.soak_interval_secs = number(&arg, value(&arg)?)?,
            "--database-url" => args.database_url = Some(value(&arg)?),
            name if SCENARIOS.contains(&name.to_ascii_lowercase().as_str()) => {
                args.selected.push(name.to_ascii_lowercase());
            }
            other => bail!("unknown argument {other:?}\n\n{USAGE}"),
        }
    }
    if args.selected.is_empty() {
        args.selected = if args.soak_minutes.is_some() {
            vec!["soak".to_owned()]
        } else {
            SCENARIOS.iter().filter(|name| **name != "soak").map(|name| (*name).to_owned()).collect()
        };
    }
    anyhow::ensure!(args.b1_runs != Some(0), "--b1-runs must be at least 1");
    anyhow::ensure!(args.b2_agents.is_none_or(|n| n >= 2), "--b2-agents must be at least 2");
    anyhow::ensure!(args.b3_agents != Some(0), "--b3-agents must be at least 1");
    anyhow::ensure!(args.soak_agents >= 1, "--soak-agents must be at least 1");
    if let Some(url) = &args.database_url {
        anyhow::ensure!(
            url.starts_with("postgres://") || url.starts_with("postgresql://"),
            "--database-url must be a postgres:// URL (SQLite is the default), got {url:?}"
        );
    }
    Ok(Some(args))
}

/// The `target/` directory this binary was built into, when it was built by cargo.
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    let profile_dir = exe.parent().unwrap_or(Path::new("."));
    let profile_dir =
        if profile_dir.ends_with("deps") { profile_dir.parent().unwrap_or(profile_dir) } else { profile_dir };
    match profile_dir.parent() {
        Some(target) if target.join("CACHEDIR.TAG").exists() || target.ends_with("target") => target.to_owned(),
        _ => std::env::current_dir().unwrap_or_default().join("target"),
    }
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(Some(args)) => args,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(error) => {
            eprintln!("cutover-bench: {error:#}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cutover-bench: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("cutover-bench: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the selected scenarios and prints the table; returns whether every scenario ran and every deployment
/// succeeded.
async fn run(args: Args) -> anyhow::Result<bool> {
    let started = Instant::now();
    let date = sys::now_utc();
    let load_before = sys::load_average();
    let nofile = sys::raise_nofile_limit().context("cannot raise RLIMIT_NOFILE")?;
    let target = target_dir();
    remove_stale_scratch(&target.join("bench-tmp"));
    let scratch = target.join("bench-tmp").join(format!("run-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).with_context(|| format!("cannot create {}", scratch.display()))?;
    // Clusters (server data, agent roots) go under the scratch directory too, not /tmp.
    let _ = tempfile::env::override_temp_dir(&scratch);

    let wants_peers = !args.no_ansible && args.selected.iter().any(|name| name == "b1" || name == "b2");
    let ansible = if wants_peers {
        let lookup = ansible::Lookup { flag: args.ansible.as_deref(), target_dir: &target, install: !args.smoke };
        match ansible::find(&lookup) {
            Ok(found) => found,
            Err(error) if args.smoke => {
                eprintln!("Ansible peers skipped: {error:#}");
                None
            }
            Err(error) => return Err(error),
        }
    } else {
        None
    };
    if let Some(url) = &args.database_url {
        common::psql(url, "SELECT 1").context("cannot use --database-url")?;
    }
    let smoke = args.smoke;
    let options = Arc::new(Options {
        smoke,
        ansible: ansible.clone(),
        scratch: scratch.clone(),
        b1_runs: args.b1_runs.unwrap_or(if smoke { 3 } else { 20 }),
        b2_agents: args.b2_agents.unwrap_or(if smoke { 6 } else { 100 }),
        b3_agents: args.b3_agents.unwrap_or(if smoke { 200 } else { 10_000 }),
        b3_poll_wait_ms: args.b3_poll_wait_ms,
        b3_agents_per_client: args.b3_agents_per_client,
        b3_deadline: Duration::from_secs(args.b3_deadline_secs.unwrap_or(if smoke { 60 } else { 300 })),
        soak_minutes: args.soak_minutes.unwrap_or(10),
        soak_agents: args.soak_agents,
        soak_interval: Duration::from_secs(args.soak_interval_secs),
        postgres: args.database_url.clone(),
    });

    let mut report = Report::default();
    for name in &args.selected {
        let scenario_started = Instant::now();
        let options = options.clone();
        let name_owned = name.clone();
        let handle = tokio::spawn(async move {
            let mut part = Report::default();
            let result = match name_owned.as_str() {
                "b1" => b1::run(&options, &mut part).await,
                "b2" => b2::run(&options, &mut part).await,
                "b3" => b3::run(&options, &mut part).await,
                "b4" => b4::run(&options, &mut part).await,
                "b5" => b5::run(&options, &mut part).await,
                "b6" => b6::run(&options, &mut part).await,
                "soak" => soak::run(&options, &mut part).await,
                other => Err(anyhow::anyhow!("unknown scenario {other}")),
            };
            (part, result)
        });
        let label = name.to_ascii_uppercase();
        match handle.await {
            Ok((part, result)) => {
                report.rows.extend(part.rows);
                report.notes.extend(part.notes);
                report.failures.extend(part.failures);
                if let Err(error) = result {
                    report.row(Row::new(&label, "scenario", "error (see below)"));
                    report.fail(format!("{label}: {error:#}"));
                }
            }
            Err(error) => {
                let message = error.try_into_panic().map_or_else(
                    |error| error.to_string(),
                    |panic| {
                        panic
                            .downcast_ref::<String>()
                            .cloned()
                            .or_else(|| panic.downcast_ref::<&str>().map(|text| (*text).to_owned()))
                            .unwrap_or_else(|| "panic".to_owned())
                    },
                );
                report.row(Row::new(&label, "scenario", "error (see below)"));
                report.fail(format!("{label} panicked: {message}"));
            }
        }
        eprintln!("{label} done in {:.1} s", scenario_started.elapsed().as_secs_f64());
    }
    common::remove_dir(&scratch);
    let _ = std::fs::remove_dir(target.join("bench-tmp"));

    let mut out = String::new();
    out.push_str(&format!(
        "\nCutover benchmarks{}, {date}\n",
        if smoke { " (smoke: tiny sizes, timings not meaningful)" } else { "" }
    ));
    out.push_str(&format!("machine: {}\n", sys::machine()));
    out.push_str(&format!(
        "load average (1/5/15 min): {load_before} at start, {} at end (other work on the machine competes for its cores)\n",
        sys::load_average()
    ));
    out.push_str(&format!("command: {}\n", sys::command_line()));
    out.push_str(&format!("database: {}\n", common::database_description(&options)));
    out.push_str(&format!(
        "binaries: {} (cutover-server, cutover-agent); RLIMIT_NOFILE {nofile}\n",
        std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(|dir| dir.display().to_string()))
            .unwrap_or_default()
    ));
    out.push_str(&format!(
        "peers: {}; {}\n",
        ansible.as_deref().map_or("Ansible not run".to_owned(), |path| format!(
            "{} ({})",
            ansible::version(path),
            path.display()
        )),
        tool_versions()
    ));
    out.push_str(&format!("total time: {:.0} s\n\n", started.elapsed().as_secs_f64()));
    out.push_str(&report.table());
    out.push_str("\nratio: how many times better Cutover is than the peer (peer ÷ Cutover for times, CPU and requests; Cutover ÷ peer for throughput).\n");
    if !report.notes.is_empty() {
        out.push_str("\nobservations:\n");
        for note in &report.notes {
            out.push_str(&format!("- {note}\n"));
        }
    }
    if !report.failures.is_empty() {
        out.push_str("\nFAILURES:\n");
        for failure in &report.failures {
            out.push_str(&format!("- {failure}\n"));
        }
    }
    print!("{out}");
    Ok(report.failures.is_empty())
}

/// Removes the scratch directories of earlier runs that were interrupted (`run-<pid>` whose process is gone).
fn remove_stale_scratch(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(pid) = name.strip_prefix("run-").and_then(|pid| pid.parse::<u32>().ok())
            && !Path::new(&format!("/proc/{pid}")).exists()
        {
            eprintln!("removing the scratch directory of an interrupted run: {}", entry.path().display());
            common::remove_dir(&entry.path());
        }
    }
}

/// The versions of the GNU tools the B1 and B4 peers use.
fn tool_versions() -> String {
    let first_line = |program: &str| {
        std::process::Command::new(program)
            .arg("--version")
            .output()
            .ok()
            .and_then(|out| String::from_utf8_lossy(&out.stdout).lines().next().map(str::to_owned))
            .unwrap_or_else(|| format!("{program} (not found)"))
    };
    let curl = first_line("curl");
    let curl = curl.split_whitespace().take(2).collect::<Vec<_>>().join(" ");
    format!("{}; {}; {curl}", first_line("tar"), first_line("bash").replace("GNU bash, version", "bash"))
}
