//! Helpers shared by the scenarios: options, bundles, API calls that return errors instead of panicking, deployment
//! timing from the server's own timestamps, and running a peer command with its wall and CPU time.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use cutover_api_types::codedeploy::{self as wire, Operation};
use cutover_client::api::ApiClient;
use cutover_harness::{Bundle, Cluster};
use serde_json::json;

use crate::sys;

/// Options every scenario sees.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    /// The tiny, never-asserting version of every scenario.
    pub(crate) smoke: bool,
    /// `ansible-playbook` to run the peers with; None when peers are skipped.
    pub(crate) ansible: Option<PathBuf>,
    /// Scratch space for bundles and peer runs (under `target/`), removed at the end.
    pub(crate) scratch: PathBuf,
    pub(crate) b1_runs: usize,
    pub(crate) b2_agents: usize,
    pub(crate) b3_agents: usize,
    pub(crate) b3_poll_wait_ms: u64,
    pub(crate) b3_agents_per_client: usize,
    /// How long B3 waits for its deployment to finish.
    pub(crate) b3_deadline: Duration,
    pub(crate) soak_minutes: u64,
    pub(crate) soak_agents: usize,
    pub(crate) soak_interval: Duration,
    /// A PostgreSQL server (`--database-url`) on which each cluster gets a database of its own; None: SQLite.
    pub(crate) postgres: Option<String>,
}

/// The five no-op hook events of a trivial in-place deployment, in order.
pub(crate) const HOOK_EVENTS: [&str; 5] =
    ["ApplicationStop", "BeforeInstall", "AfterInstall", "ApplicationStart", "ValidateService"];

/// A bundle with `index.html` installed to `/srv/bench` and one script per hook event: `noop.sh` (`exit 0`), or
/// `validate.sh` for ValidateService when `validate_body` is given.
pub(crate) fn hook_bundle(validate_body: Option<&str>) -> Bundle {
    let mut appspec = String::from(
        "version: 0.0\nos: linux\nfiles:\n  - source: index.html\n    destination: /srv/bench\nfile_exists_behavior: OVERWRITE\nhooks:\n",
    );
    for event in HOOK_EVENTS {
        let script = if event == "ValidateService" && validate_body.is_some() { "validate.sh" } else { "noop.sh" };
        appspec.push_str(&format!("  {event}:\n    - location: {script}\n"));
    }
    let mut bundle = Bundle::new()
        .file("appspec.yml", &appspec, 0o644)
        .file("index.html", "<h1>cutover bench</h1>\n", 0o644)
        .script("noop.sh", "exit 0");
    if let Some(body) = validate_body {
        bundle = bundle.script("validate.sh", body);
    }
    bundle
}

/// Creates an application (ignoring "already exists").
pub(crate) async fn create_application(client: &ApiClient, app: &str) -> anyhow::Result<()> {
    let result: Result<serde_json::Value, _> =
        client.call(Operation::CreateApplication, &json!({"applicationName": app})).await;
    match result {
        Ok(_) => Ok(()),
        Err(error) if error.exception() == Some("ApplicationAlreadyExistsException") => Ok(()),
        Err(error) => Err(error).context("CreateApplication"),
    }
}

/// Creates a deployment group selecting on-premises instances tagged `key=value`.
pub(crate) async fn create_group(
    client: &ApiClient,
    app: &str,
    group: &str,
    config: &str,
    tag: (&str, &str),
) -> anyhow::Result<()> {
    let _: serde_json::Value = client
        .call(
            Operation::CreateDeploymentGroup,
            &json!({
                "applicationName": app,
                "deploymentGroupName": group,
                "deploymentConfigName": config,
                "serviceRoleArn": "arn:aws:iam::000000000000:role/bench",
                "onPremisesInstanceTagFilters": [{"Key": tag.0, "Value": tag.1, "Type": "KEY_AND_VALUE"}],
            }),
        )
        .await
        .with_context(|| format!("CreateDeploymentGroup {group}"))?;
    Ok(())
}

/// Creates a deployment configuration with `minimumHealthyHosts` FLEET_PERCENT `percent`.
pub(crate) async fn create_fleet_percent_config(client: &ApiClient, name: &str, percent: u64) -> anyhow::Result<()> {
    let _: serde_json::Value = client
        .call(
            Operation::CreateDeploymentConfig,
            &json!({
                "deploymentConfigName": name,
                "minimumHealthyHosts": {"type": "FLEET_PERCENT", "value": percent},
                "computePlatform": "Server",
            }),
        )
        .await
        .with_context(|| format!("CreateDeploymentConfig {name}"))?;
    Ok(())
}

/// Uploads a bundle and registers it; returns the revision location (its `eTag` is the bundle's sha256).
pub(crate) async fn push(
    cluster: &Cluster,
    app: &str,
    key: &str,
    bytes: Vec<u8>,
    bundle_type: &str,
) -> anyhow::Result<serde_json::Value> {
    let etag = cluster.client.put_object("cutover-revisions", key, bytes).await.context("upload")?;
    let revision = json!({
        "revisionType": "S3",
        "s3Location": {"bucket": "cutover-revisions", "key": key, "bundleType": bundle_type, "eTag": etag},
    });
    let _: serde_json::Value = cluster
        .client
        .call(Operation::RegisterApplicationRevision, &json!({"applicationName": app, "revision": revision}))
        .await
        .context("RegisterApplicationRevision")?;
    Ok(revision)
}

/// Creates a deployment and returns its id.
pub(crate) async fn create_deployment(
    client: &ApiClient,
    app: &str,
    group: &str,
    revision: &serde_json::Value,
) -> anyhow::Result<String> {
    let out: wire::CreateDeploymentOutput = client
        .call(
            Operation::CreateDeployment,
            &json!({"applicationName": app, "deploymentGroupName": group, "revision": revision}),
        )
        .await
        .context("CreateDeployment")?;
    out.deployment_id.context("CreateDeployment returned no deploymentId")
}

/// Reads a deployment.
pub(crate) async fn get_deployment(client: &ApiClient, id: &str) -> anyhow::Result<wire::DeploymentInfo> {
    let out: wire::GetDeploymentOutput =
        client.call(Operation::GetDeployment, &json!({"deploymentId": id})).await.context("GetDeployment")?;
    out.deployment_info.context("GetDeployment returned no deploymentInfo")
}

/// A finished deployment and how long it took.
#[derive(Debug, Clone)]
pub(crate) struct Finished {
    pub(crate) id: String,
    pub(crate) info: wire::DeploymentInfo,
    /// `completeTime − createTime` (the server's timestamps, millisecond resolution).
    pub(crate) server_ms: f64,
    /// From just before the CreateDeployment call until this client saw the terminal status.
    pub(crate) wall_ms: f64,
}

impl Finished {
    pub(crate) fn status(&self) -> &str {
        self.info.status.as_deref().unwrap_or("?")
    }

    pub(crate) fn succeeded(&self) -> bool {
        self.status() == "Succeeded"
    }

    /// A one-line description of a deployment that did not succeed.
    pub(crate) fn failure(&self) -> String {
        let error = self.info.error_information.as_ref();
        format!(
            "deployment {} ended {}: {} {}",
            self.id,
            self.status(),
            error.and_then(|e| e.code.clone()).unwrap_or_default(),
            error.and_then(|e| e.message.clone()).unwrap_or_default()
        )
    }
}

/// Creates a deployment and waits until it is terminal, polling GetDeployment every `poll` (the client wall time
/// is therefore at most `poll` late), failing after `timeout`.
pub(crate) async fn deploy_and_wait(
    client: &ApiClient,
    app: &str,
    group: &str,
    revision: &serde_json::Value,
    poll: Duration,
    timeout: Duration,
) -> anyhow::Result<Finished> {
    let started = Instant::now();
    let id = create_deployment(client, app, group, revision).await?;
    wait_terminal(client, &id, started, poll, timeout).await
}

/// Waits until deployment `id` (created at `started`) is terminal.
pub(crate) async fn wait_terminal(
    client: &ApiClient,
    id: &str,
    started: Instant,
    poll: Duration,
    timeout: Duration,
) -> anyhow::Result<Finished> {
    loop {
        let info = get_deployment(client, id).await?;
        if matches!(info.status.as_deref(), Some("Succeeded" | "Failed" | "Stopped")) {
            let wall_ms = started.elapsed().as_secs_f64() * 1000.0;
            let server_ms = (info.complete_time.unwrap_or(f64::NAN) - info.create_time.unwrap_or(f64::NAN)) * 1000.0;
            return Ok(Finished { id: id.to_owned(), info, server_ms, wall_ms });
        }
        if started.elapsed() > timeout {
            bail!("deployment {id} not finished after {} s (status {:?})", timeout.as_secs(), info.status);
        }
        tokio::time::sleep(poll).await;
    }
}

/// One lifecycle event of a target, with its server timestamps in epoch milliseconds.
#[derive(Debug, Clone)]
pub(crate) struct EventTime {
    pub(crate) name: String,
    pub(crate) start_ms: f64,
    pub(crate) end_ms: f64,
}

/// The lifecycle events of one instance target.
pub(crate) async fn events(client: &ApiClient, id: &str, instance: &str) -> anyhow::Result<Vec<EventTime>> {
    let out: wire::GetDeploymentTargetOutput = client
        .call(Operation::GetDeploymentTarget, &json!({"deploymentId": id, "targetId": instance}))
        .await
        .context("GetDeploymentTarget")?;
    let target = out.deployment_target.and_then(|target| target.instance_target).context("no instanceTarget")?;
    Ok(target
        .lifecycle_events
        .unwrap_or_default()
        .into_iter()
        .map(|event| EventTime {
            name: event.lifecycle_event_name.unwrap_or_default(),
            start_ms: event.start_time.map_or(f64::NAN, |t| t * 1000.0),
            end_ms: event.end_time.map_or(f64::NAN, |t| t * 1000.0),
        })
        .collect())
}

/// Wall time and CPU (of it and its descendants) of one peer command.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PeerRun {
    pub(crate) wall_ms: f64,
    pub(crate) cpu_s: f64,
}

/// Runs `command` to completion; fails with its output when it exits non-zero.
pub(crate) fn run_peer(command: &mut Command) -> anyhow::Result<PeerRun> {
    // The command's CPU (and that of every descendant it waited for) lands in this process's cutime/cstime once
    // it is reaped; nothing else is reaped meanwhile because scenarios run one at a time.
    let before = sys::cpu("self").unwrap_or_default();
    let started = Instant::now();
    let output = command.output().with_context(|| format!("cannot run {command:?}"))?;
    let wall_ms = started.elapsed().as_secs_f64() * 1000.0;
    let after = sys::cpu("self").unwrap_or_default();
    if !output.status.success() {
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail = |text: &str| text.chars().rev().take(3000).collect::<Vec<_>>().into_iter().rev().collect::<String>();
        bail!(
            "{command:?} exited with {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            output.status,
            tail(&stdout),
            tail(&stderr)
        );
    }
    Ok(PeerRun { wall_ms, cpu_s: (after - before).children })
}

/// Writes `contents` to `path`, creating parent directories; `mode` e.g. 0o755.
pub(crate) fn write_file(path: &Path, contents: &[u8], mode: u32) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    }
    std::fs::write(path, contents).with_context(|| format!("cannot write {}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    Ok(())
}

/// Removes a directory tree if it exists.
pub(crate) fn remove_dir(path: &Path) {
    if path.exists()
        && let Err(error) = std::fs::remove_dir_all(path)
    {
        eprintln!("  warning: cannot remove {}: {error}", path.display());
    }
}

/// Counts the ERROR and WARN lines of a process log and names the most frequent messages; None when there are none.
pub(crate) fn log_summary(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut counts: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    for line in text.lines() {
        let line = strip_ansi(line);
        let mut tokens = line.split_whitespace();
        let Some(level) = tokens.by_ref().find(|token| matches!(*token, "ERROR" | "WARN")) else { continue };
        let _target = tokens.next();
        let message: Vec<&str> = tokens.take_while(|token| !token.contains('=')).collect();
        *counts.entry(format!("{level} {}", message.join(" "))).or_default() += 1;
    }
    if counts.is_empty() {
        return None;
    }
    let mut sorted: Vec<(String, usize)> = counts.into_iter().collect();
    sorted.sort_by_key(|entry| std::cmp::Reverse(entry.1));
    Some(sorted.iter().take(4).map(|(message, count)| format!("{message} ×{count}")).collect::<Vec<_>>().join("; "))
}

/// Removes ANSI escape sequences (`ESC [ … letter`).
fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A cluster of a scenario, with the PostgreSQL database it runs on (dropped after the cluster is stopped).
pub(crate) struct BenchCluster {
    cluster: Cluster,
    database: Option<ScratchDatabase>,
}

impl std::ops::Deref for BenchCluster {
    type Target = Cluster;

    fn deref(&self) -> &Cluster {
        &self.cluster
    }
}

impl std::ops::DerefMut for BenchCluster {
    fn deref_mut(&mut self) -> &mut Cluster {
        &mut self.cluster
    }
}

impl BenchCluster {
    /// CPU-seconds so far of each PostgreSQL backend process serving this cluster's database (they run on this
    /// machine too, so they belong to the server's cost); None on SQLite.
    pub(crate) fn database_cpu(&self) -> Option<std::collections::HashMap<u32, f64>> {
        let database = self.database.as_ref()?;
        let sql = format!("SELECT pid FROM pg_stat_activity WHERE datname = '{}'", database.name);
        let pids = psql(&database.admin_url, &sql).ok()?;
        Some(
            pids.lines()
                .filter_map(|pid| pid.trim().parse::<u32>().ok())
                .filter_map(|pid| sys::cpu(&pid.to_string()).map(|cpu| (pid, cpu.own)))
                .collect(),
        )
    }
}

/// CPU-seconds the backends of `after` used since `before` (a backend started in between counts whole).
pub(crate) fn database_cpu_since(
    before: &std::collections::HashMap<u32, f64>,
    after: &std::collections::HashMap<u32, f64>,
) -> f64 {
    after.iter().map(|(pid, cpu)| cpu - before.get(pid).copied().unwrap_or(0.0)).sum()
}

/// A database created for one cluster on the `--database-url` server, dropped with it.
pub(crate) struct ScratchDatabase {
    admin_url: String,
    name: String,
    pub(crate) url: String,
}

impl ScratchDatabase {
    fn create(admin_url: &str) -> anyhow::Result<ScratchDatabase> {
        use std::sync::atomic::{AtomicU32, Ordering};
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!("cutover_bench_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
        let (base, _) = admin_url.rsplit_once('/').context("--database-url must end with /DATABASE")?;
        psql(admin_url, &format!("CREATE DATABASE {name}"))?;
        Ok(ScratchDatabase { admin_url: admin_url.to_owned(), url: format!("{base}/{name}"), name })
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        // FORCE: connections of the killed server may linger for a moment.
        if let Err(error) = psql(&self.admin_url, &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)) {
            eprintln!("  warning: cannot drop the benchmark database {}: {error:#}", self.name);
        }
    }
}

/// Runs one SQL statement with `psql`; returns its unaligned, tuples-only output.
pub(crate) fn psql(url: &str, sql: &str) -> anyhow::Result<String> {
    let out = Command::new("psql")
        .arg(url)
        .args(["-XAtq", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .output()
        .context("cannot run psql (Debian package postgresql-client)")?;
    if !out.status.success() {
        bail!("psql {sql:?}: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// What the report's header says about the database.
pub(crate) fn database_description(options: &Options) -> String {
    match &options.postgres {
        None => "SQLite (DATA_DIR/cutover.db, the default)".to_owned(),
        Some(url) => {
            let version = psql(url, "SHOW server_version").unwrap_or_else(|error| format!("? ({error:#})"));
            let host = url.rsplit_once('@').map_or(url.as_str(), |(_, rest)| rest);
            let host = host.rsplit_once('/').map_or(host, |(host, _)| host);
            format!("PostgreSQL {version} at {host} (--database-url; a new database per cluster)")
        }
    }
}

/// Starts a server (on SQLite, or on a new database of `options.postgres`) and `agents` real agents (`host-1`…,
/// tagged `env=test`) and waits until all are registered.
///
/// `Cluster::start` checks registration with one page of ListOnPremisesInstances (100 names), so it starts at most
/// 100 agents here; the rest are added one by one and awaited over every page.
pub(crate) async fn start_cluster(options: &Options, agents: usize) -> anyhow::Result<BenchCluster> {
    let defaults = cutover_harness::ClusterOptions::default();
    let first = agents.min(100);
    let database = options.postgres.as_deref().map(ScratchDatabase::create).transpose()?;
    let server_args =
        database.iter().flat_map(|database| ["--database-url".to_owned(), database.url.clone()]).collect();
    let cluster =
        Cluster::start(cutover_harness::ClusterOptions { agents: first, server_args, ..defaults.clone() }).await;
    let mut cluster = BenchCluster { cluster, database };
    for idx in first + 1..=agents {
        let name = format!("host-{idx}");
        let mut tags = defaults.tags.clone();
        tags.push(("host".to_owned(), name.clone()));
        cluster.add_agent(&name, &tags, &defaults.agent_args);
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let registered = registered_hosts(&cluster.client).await?;
        if registered >= agents {
            return Ok(cluster);
        }
        if Instant::now() > deadline {
            bail!("only {registered} of {agents} agents registered after 120 s");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Starts a server (on SQLite, or on a new database of `options.postgres`) with `cluster`'s agents, tags and server
/// flags (at most 100 agents: `Cluster::start` waits for them on one page of ListOnPremisesInstances).
pub(crate) async fn start_cluster_with(
    options: &Options,
    mut cluster: cutover_harness::ClusterOptions,
) -> anyhow::Result<BenchCluster> {
    anyhow::ensure!(cluster.agents <= 100, "start_cluster_with starts at most 100 agents");
    let database = options.postgres.as_deref().map(ScratchDatabase::create).transpose()?;
    cluster
        .server_args
        .extend(database.iter().flat_map(|database| ["--database-url".to_owned(), database.url.clone()]));
    let cluster = Cluster::start(cluster).await;
    Ok(BenchCluster { cluster, database })
}

/// Counts the registered instances named `host-…`, over every page of ListOnPremisesInstances.
async fn registered_hosts(client: &ApiClient) -> anyhow::Result<usize> {
    let mut count = 0;
    let mut token: Option<String> = None;
    loop {
        let mut input = json!({});
        if let Some(token) = &token {
            input["nextToken"] = json!(token);
        }
        let out: wire::ListOnPremisesInstancesOutput =
            client.call(Operation::ListOnPremisesInstances, &input).await.context("ListOnPremisesInstances")?;
        count += out.instance_names.unwrap_or_default().iter().filter(|name| name.starts_with("host-")).count();
        match out.next_token {
            Some(next) if !next.is_empty() => token = Some(next),
            _ => return Ok(count),
        }
    }
}
