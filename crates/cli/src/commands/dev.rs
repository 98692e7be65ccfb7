//! `cutover dev`: the quickstart. Starts `cutover-server` and N `cutover-agent`s (found next to this executable)
//! under one data directory, deploys a sample revision with hooks to them while showing its progress, shows where
//! the files and logs are, then stops everything (or keeps it running until Ctrl-C).
//!
//! Layout of the data directory:
//!
//! ```text
//! DIR/server/                  the server's --data-dir (SQLite, revision blobs, listen-addr)
//! DIR/server.log               the server's output
//! DIR/revision/                the sample revision
//! DIR/hosts/<host>/agent/      the agent's --root (deployment archives, scripts logs)
//! DIR/hosts/<host>/files/      the agent's --destination-root: /srv/hello lands in files/srv/hello
//! DIR/hosts/<host>/agent.log   the agent's output
//! ```
//!
//! Every child runs in its own process group, so a Ctrl-C reaches only `cutover dev`, which then stops the agents
//! and the server in order (SIGTERM, SIGKILL after 10 s). They are stopped on every way out: success, error,
//! SIGINT/SIGTERM/SIGHUP, and a panic (the guard's destructor).

use std::cell::RefCell;
use std::fs;
use std::io::Write as _;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use clap::Args;
use cutover_api_types::codedeploy::{self as wire, Operation};

use super::{Api, deploy, push};
use crate::error::{CliError, CliResult};
use crate::output;

pub(crate) const AFTER_HELP: &str = "\
Needs cutover-server and cutover-agent next to the cutover executable: build them all with
  cargo build --release --workspace --bins

Exit codes: 0 the sample deployment succeeded; 1 error (e.g. a process did not start); 3 the deployment
did not succeed; 255 internal error.";

/// Application, group and tag of the sample.
const APPLICATION: &str = "hello";
const GROUP: &str = "dev";
const TAG_KEY: &str = "env";
const TAG_VALUE: &str = "dev";
/// How long the server and the agents get to start.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long an unfinished deployment of an earlier run gets to end before it is stopped.
const LEFTOVER_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a child gets between SIGTERM and SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(10);
/// Environment variable giving each agent its destination root, passed on to its hook scripts (`--hook-pass-env`).
const DESTINATION_ROOT_ENV: &str = "CUTOVER_DESTINATION_ROOT";

#[derive(Debug, Args)]
pub(crate) struct DevArgs {
    /// Number of agents (simulated hosts dev-host-1…) to start.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=50))]
    pub(crate) agents: u32,
    /// Directory for the server's data, the agents' state and the hosts' files [default: a new directory in the
    /// system's temp dir, kept afterwards]
    #[arg(long, value_name = "DIR")]
    pub(crate) data_dir: Option<PathBuf>,
    /// Keep the server and agents running after the deployment, until Ctrl-C.
    #[arg(long)]
    pub(crate) keep_running: bool,
}

/// One child process and where its output goes.
struct Proc {
    name: String,
    child: Child,
    log: PathBuf,
}

/// The children of `cutover dev`; dropping it stops them.
#[derive(Default)]
struct Cluster {
    server: Option<Proc>,
    agents: Vec<Proc>,
}

impl Cluster {
    /// An error (with the end of its log) if any child has exited.
    fn check_alive(&mut self) -> CliResult<()> {
        for proc in self.server.iter_mut().chain(self.agents.iter_mut()) {
            if let Ok(Some(status)) = proc.child.try_wait() {
                return Err(CliError::user(format!(
                    "{} exited unexpectedly ({status}); the end of {}:\n{}",
                    proc.name,
                    proc.log.display(),
                    log_tail(&proc.log)
                )));
            }
        }
        Ok(())
    }

    fn is_empty(&self) -> bool {
        self.server.is_none() && self.agents.is_empty()
    }

    /// Stops the agents, then the server: SIGTERM, then SIGKILL after the grace period. Idempotent.
    fn stop(&mut self) {
        let mut agents: Vec<Proc> = self.agents.drain(..).collect();
        terminate(&mut agents);
        let mut server: Vec<Proc> = self.server.take().into_iter().collect();
        terminate(&mut server);
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop();
    }
}

fn terminate(procs: &mut [Proc]) {
    for proc in procs.iter_mut() {
        if matches!(proc.child.try_wait(), Ok(None)) {
            // std has no SIGTERM and this crate allows no unsafe code: ask kill(1). The child is not reaped yet, so
            // its pid cannot have been reused.
            let sent = Command::new("kill")
                .arg("-TERM")
                .arg(proc.child.id().to_string())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|status| status.success());
            if !sent {
                let _ = proc.child.kill();
            }
        }
    }
    let deadline = Instant::now() + STOP_GRACE;
    loop {
        let running =
            procs.iter_mut().filter_map(|proc| matches!(proc.child.try_wait(), Ok(None)).then_some(())).count();
        if running == 0 {
            return;
        }
        if Instant::now() >= deadline {
            for proc in procs.iter_mut() {
                let _ = proc.child.kill();
                let _ = proc.child.wait();
            }
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The last lines of a log file.
fn log_tail(path: &Path) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let tail = lines[lines.len().saturating_sub(15)..].join("\n");
    if tail.is_empty() { "(empty)".to_owned() } else { tail }
}

/// Paths under the data directory.
struct Layout {
    dir: PathBuf,
}

impl Layout {
    fn server_dir(&self) -> PathBuf {
        self.dir.join("server")
    }
    fn server_log(&self) -> PathBuf {
        self.dir.join("server.log")
    }
    fn revision_dir(&self) -> PathBuf {
        self.dir.join("revision")
    }
    fn host_dir(&self, host: &str) -> PathBuf {
        self.dir.join("hosts").join(host)
    }
    fn agent_root(&self, host: &str) -> PathBuf {
        self.host_dir(host).join("agent")
    }
    fn destination_root(&self, host: &str) -> PathBuf {
        self.host_dir(host).join("files")
    }
    fn agent_log(&self, host: &str) -> PathBuf {
        self.host_dir(host).join("agent.log")
    }
}

/// `1 agent`, `3 agents`.
fn plural(count: usize, noun: &str) -> String {
    if count == 1 { format!("1 {noun}") } else { format!("{count} {noun}s") }
}

fn host_name(index: u32) -> String {
    format!("dev-host-{index}")
}

/// `name` in the directory of the running executable.
fn sibling(name: &str) -> CliResult<PathBuf> {
    let exe = std::env::current_exe()
        .map_err(|error| CliError::internal(format!("cannot find the cutover executable: {error}")))?;
    let dir = exe.parent().unwrap_or(Path::new("."));
    let path = dir.join(name);
    if path.is_file() {
        Ok(path)
    } else {
        Err(CliError::user(format!("{name} was not found next to cutover in {}", dir.display())).hint(
            "run `cargo build --release --workspace --bins`, which puts cutover, cutover-server and cutover-agent \
             in target/release, then run ./target/release/cutover dev",
        ))
    }
}

fn spawn(program: &Path, args: &[&std::ffi::OsStr], envs: &[(&str, &Path)], log: &Path, name: &str) -> CliResult<Proc> {
    let file = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|error| CliError::user(format!("cannot open {}: {error}", log.display())))?;
    let err = file.try_clone().map_err(|error| CliError::user(format!("cannot open {}: {error}", log.display())))?;
    let mut command = Command::new(program);
    // NO_COLOR: the logs are files, keep escape codes out of them.
    command.args(args).env("NO_COLOR", "1").stdin(Stdio::null()).stdout(file).stderr(err).process_group(0);
    for (key, value) in envs {
        command.env(key, value);
    }
    let child =
        command.spawn().map_err(|error| CliError::user(format!("cannot start {}: {error}", program.display())))?;
    Ok(Proc { name: name.to_owned(), child, log: log.to_owned() })
}

fn create_dir(path: &Path) -> CliResult<()> {
    fs::create_dir_all(path).map_err(|error| CliError::user(format!("cannot create {}: {error}", path.display())))
}

/// Resolves when the process gets SIGINT, SIGTERM or SIGHUP; returns the signal's name.
async fn interrupted() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    async fn recv(signal: Option<tokio::signal::unix::Signal>) {
        match signal {
            Some(mut signal) => {
                signal.recv().await;
            }
            None => std::future::pending::<()>().await,
        }
    }
    tokio::select! {
        _ = tokio::signal::ctrl_c() => "SIGINT",
        () = recv(signal(SignalKind::terminate()).ok()) => "SIGTERM",
        () = recv(signal(SignalKind::hangup()).ok()) => "SIGHUP",
    }
}

/// Resolves with an error as soon as a child exits.
async fn watch(cluster: &RefCell<Cluster>) -> CliError {
    loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        if let Err(error) = cluster.borrow_mut().check_alive() {
            return error;
        }
    }
}

pub(crate) async fn run(args: DevArgs) -> CliResult<()> {
    let server_bin = sibling("cutover-server")?;
    let agent_bin = sibling("cutover-agent")?;
    let dir = match &args.data_dir {
        Some(dir) => {
            create_dir(dir)?;
            std::path::absolute(dir)
                .map_err(|error| CliError::user(format!("cannot resolve {}: {error}", dir.display())))?
        }
        None => tempfile::Builder::new()
            .prefix("cutover-dev-")
            .tempdir()
            .map_err(|error| CliError::user(format!("cannot create a temporary directory: {error}")))?
            .keep(),
    };
    let layout = Layout { dir };
    output::line(format!("cutover dev: data directory {}", layout.dir.display()))?;

    let cluster = RefCell::new(Cluster::default());
    let started = tokio::select! {
        result = start_and_deploy(&args, &layout, &server_bin, &agent_bin, &cluster) => result,
        signal = interrupted() => Err(CliError::user(format!("interrupted by {signal}"))),
    };
    let (endpoint, info) = match started {
        Ok(started) => started,
        Err(error) => {
            if !cluster.borrow().is_empty() {
                let _ = writeln!(std::io::stderr(), "Stopping the agents and the server…");
                cluster.borrow_mut().stop();
            }
            return Err(error);
        }
    };

    if args.keep_running {
        output::line("")?;
        output::line(format!(
            "The server and {} keep running at {endpoint}. Explore with:",
            plural(args.agents as usize, "agent")
        ))?;
        output::line(format!(
            "  AWS_SHARED_CREDENTIALS_FILE={} CUTOVER_ENDPOINT={endpoint} cutover deployments list",
            layout.server_dir().join("admin-credentials").display()
        ))?;
        output::line("Press Ctrl-C to stop them.")?;
        let stopped_by = tokio::select! {
            signal = interrupted() => Ok(signal),
            error = watch(&cluster) => Err(error),
        };
        output::line("")?;
        output::line("Stopping the agents and the server…")?;
        cluster.borrow_mut().stop();
        stopped_by?;
    } else {
        output::line("")?;
        output::line("Stopping the agents and the server…")?;
        cluster.borrow_mut().stop();
    }
    output::line(format!("Stopped. The data directory {} is kept.", layout.dir.display()))?;
    deploy::outcome(&info)
}

/// Everything up to the end of the deployment; returns the endpoint and the final DeploymentInfo.
async fn start_and_deploy(
    args: &DevArgs,
    layout: &Layout,
    server_bin: &Path,
    agent_bin: &Path,
    cluster: &RefCell<Cluster>,
) -> CliResult<(String, wire::DeploymentInfo)> {
    // The server.
    let server_dir = layout.server_dir();
    create_dir(&server_dir)?;
    let addr_file = server_dir.join("listen-addr");
    // A stale address from an earlier run must not be mistaken for this server's.
    let _ = fs::remove_file(&addr_file);
    let server = spawn(
        server_bin,
        &["--listen".as_ref(), "127.0.0.1:0".as_ref(), "--data-dir".as_ref(), server_dir.as_os_str()],
        &[],
        &layout.server_log(),
        "cutover-server",
    )?;
    cluster.borrow_mut().server = Some(server);
    let addr = wait_for_listen_addr(&addr_file, cluster).await?;
    let endpoint = format!("http://{addr}");
    output::line(format!("Started cutover-server at {endpoint} (log: {})", layout.server_log().display()))?;

    // The agents.
    let hosts: Vec<String> = (1..=args.agents).map(host_name).collect();
    let credentials_file = server_dir.join("admin-credentials");
    let credentials = fs::read_to_string(&credentials_file)
        .ok()
        .and_then(|text| cutover_auth::credentials_file::parse(&text, "default"))
        .ok_or_else(|| CliError::user(format!("the server wrote no admin key to {}", credentials_file.display())))?;
    let api = Api::new(&endpoint).with_credentials(Some(credentials));
    let token_file = server_dir.join("enrollment-token");
    let registered_again = reregister(&api, &hosts).await?;
    for host in &hosts {
        let (root, destination) = (layout.agent_root(host), layout.destination_root(host));
        create_dir(&root)?;
        create_dir(&destination)?;
        if registered_again.contains(host) {
            // Deregistration deleted its agent key: it enrols again with the token.
            let _ = fs::remove_file(root.join("credentials.json"));
        }
        let tags = format!("{TAG_KEY}={TAG_VALUE}");
        let agent = spawn(
            agent_bin,
            &[
                "--server".as_ref(),
                endpoint.as_ref(),
                "--name".as_ref(),
                host.as_ref(),
                "--tags".as_ref(),
                tags.as_ref(),
                "--root".as_ref(),
                root.as_os_str(),
                "--destination-root".as_ref(),
                destination.as_os_str(),
                "--enrollment-token-file".as_ref(),
                token_file.as_os_str(),
                "--hook-pass-env".as_ref(),
                DESTINATION_ROOT_ENV.as_ref(),
            ],
            &[(DESTINATION_ROOT_ENV, &destination)],
            &layout.agent_log(host),
            host,
        )?;
        cluster.borrow_mut().agents.push(agent);
    }
    output::line(format!("Started {}: {}", plural(hosts.len(), "agent"), hosts.join(", ")))?;
    wait_for_agents(&api, &hosts, cluster).await?;
    output::line(format!("Registered: {}.", hosts.join(", ")))?;

    // The sample revision, application, group and deployment.
    let revision_dir = layout.revision_dir();
    write_sample(&revision_dir)?;
    create_application(&api).await?;
    let pushed = push::push(&api, &push::args_for(APPLICATION, &revision_dir)).await?;
    output::line(format!(
        "Pushed the sample revision {} as s3://{}/{} ({}, {} files)",
        revision_dir.display(),
        pushed.bucket,
        pushed.key,
        pushed.bundle_type,
        pushed.files
    ))?;
    let config = if hosts.len() >= 2 { "CodeDeployDefault.HalfAtATime" } else { "CodeDeployDefault.OneAtATime" };
    create_group(&api, config).await?;
    let input = wire::CreateDeploymentInput {
        application_name: Some(APPLICATION.to_owned()),
        deployment_group_name: Some(GROUP.to_owned()),
        revision: Some(pushed.revision.clone()),
        deployment_config_name: Some(config.to_owned()),
        description: Some("cutover dev sample".to_owned()),
        file_exists_behavior: Some("OVERWRITE".to_owned()),
        ..Default::default()
    };
    let created: wire::CreateDeploymentOutput = match api.client().call(Operation::CreateDeployment, &input).await {
        Err(error) if error.exception() == Some("DeploymentLimitExceededException") => {
            // An earlier run was stopped in the middle of a deployment; its agents are back, let it finish.
            finish_active_deployments(&api, cluster).await?;
            api.call(Operation::CreateDeployment, &input).await?
        }
        result => result?,
    };
    let id = created
        .deployment_id
        .ok_or_else(|| CliError::user("the server answered CreateDeployment without a deploymentId"))?;
    output::line(format!(
        "Deployment {id} created: {APPLICATION} to group {GROUP} ({config}, {})",
        plural(hosts.len(), "host")
    ))?;
    output::line("")?;
    let followed = tokio::select! {
        result = deploy::follow(&api, &id, true) => result?,
        error = watch(cluster) => return Err(error),
    };
    deploy::print_summary(&followed)?;
    print_hosts(layout, &hosts, &id)?;
    Ok((endpoint, followed.info))
}

/// Registers again the hosts that an earlier run with fewer agents deregistered (see [`wait_for_agents`]): an
/// agent does not register a deregistered instance by itself.
async fn reregister(api: &Api, hosts: &[String]) -> CliResult<Vec<String>> {
    let mut again = Vec::new();
    for host in hosts {
        let input = wire::GetOnPremisesInstanceInput { instance_name: Some(host.clone()) };
        let info = match api
            .client()
            .call::<_, wire::GetOnPremisesInstanceOutput>(Operation::GetOnPremisesInstance, &input)
            .await
        {
            Ok(output) => output.instance_info.unwrap_or_default(),
            Err(error) if error.exception() == Some("InstanceNotRegisteredException") => continue,
            Err(error) => return Err(error.into()),
        };
        if info.deregister_time.is_none() {
            continue;
        }
        let (user, session) = match (info.iam_user_arn, info.iam_session_arn) {
            (Some(user), _) if !user.is_empty() => (Some(user), None),
            (_, Some(session)) if !session.is_empty() => (None, Some(session)),
            _ => (None, Some(format!("arn:cutover:sts::dev:assumed-role/cutover-dev/{host}"))),
        };
        let input = wire::RegisterOnPremisesInstanceInput {
            instance_name: Some(host.clone()),
            iam_user_arn: user,
            iam_session_arn: session,
        };
        let _: serde_json::Value = api.call(Operation::RegisterOnPremisesInstance, &input).await?;
        output::line(format!("Registered {host} again (an earlier run with fewer agents deregistered it)."))?;
        again.push(host.clone());
    }
    Ok(again)
}

/// Waits (up to [`LEFTOVER_TIMEOUT`]) for the group's unfinished deployments, left by an interrupted earlier run
/// on the same data directory, to end; stops them if they do not.
async fn finish_active_deployments(api: &Api, cluster: &RefCell<Cluster>) -> CliResult<()> {
    let input = wire::ListDeploymentsInput {
        application_name: Some(APPLICATION.to_owned()),
        deployment_group_name: Some(GROUP.to_owned()),
        include_only_statuses: Some(["Created", "Queued", "InProgress", "Baking", "Ready"].map(String::from).into()),
        ..Default::default()
    };
    let active: wire::ListDeploymentsOutput = api.call(Operation::ListDeployments, &input).await?;
    for id in active.deployments.unwrap_or_default() {
        output::line(format!("Waiting for deployment {id}, left unfinished by an earlier run, to end…"))?;
        let ended = tokio::select! {
            result = deploy::follow(api, &id, false) => Some(result?),
            error = watch(cluster) => return Err(error),
            () = tokio::time::sleep(LEFTOVER_TIMEOUT) => None,
        };
        if ended.is_none() {
            output::line(format!("Stopping deployment {id}."))?;
            let stop = wire::StopDeploymentInput { deployment_id: Some(id.clone()), auto_rollback_enabled: None };
            let _: serde_json::Value = api.call(Operation::StopDeployment, &stop).await?;
            tokio::select! {
                result = deploy::follow(api, &id, false) => { result?; }
                error = watch(cluster) => return Err(error),
            }
        }
    }
    Ok(())
}

async fn wait_for_listen_addr(addr_file: &Path, cluster: &RefCell<Cluster>) -> CliResult<String> {
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if let Ok(text) = fs::read_to_string(addr_file)
            && !text.trim().is_empty()
        {
            return Ok(text.trim().to_owned());
        }
        cluster.borrow_mut().check_alive()?;
        if Instant::now() >= deadline {
            let log = cluster.borrow().server.as_ref().map(|server| log_tail(&server.log)).unwrap_or_default();
            return Err(CliError::user(format!(
                "cutover-server did not write {} within {} s; the end of its log:\n{log}",
                addr_file.display(),
                START_TIMEOUT.as_secs()
            )));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until every host is a registered instance; then deregisters `dev-host-*` instances of earlier runs with
/// more agents, which would otherwise be targeted without an agent to run their events.
async fn wait_for_agents(api: &Api, hosts: &[String], cluster: &RefCell<Cluster>) -> CliResult<()> {
    let deadline = Instant::now() + START_TIMEOUT;
    let input = wire::ListOnPremisesInstancesInput {
        registration_status: Some("Registered".to_owned()),
        tag_filters: Some(vec![wire::TagFilter {
            key: Some(TAG_KEY.to_owned()),
            value: Some(TAG_VALUE.to_owned()),
            type_: Some("KEY_AND_VALUE".to_owned()),
        }]),
        next_token: None,
    };
    loop {
        cluster.borrow_mut().check_alive()?;
        let mut names = Vec::new();
        let mut page_input = input.clone();
        loop {
            let page: wire::ListOnPremisesInstancesOutput =
                api.call(Operation::ListOnPremisesInstances, &page_input).await?;
            names.extend(page.instance_names.unwrap_or_default());
            match page.next_token.filter(|token| !token.is_empty()) {
                Some(token) => page_input.next_token = Some(token),
                None => break,
            }
        }
        let missing: Vec<&String> = hosts.iter().filter(|host| !names.contains(host)).collect();
        if missing.is_empty() {
            for stale in names.iter().filter(|name| name.starts_with("dev-host-") && !hosts.contains(name)) {
                let input = wire::DeregisterOnPremisesInstanceInput { instance_name: Some(stale.clone()) };
                let _: serde_json::Value = api.call(Operation::DeregisterOnPremisesInstance, &input).await?;
                output::line(format!("Deregistered {stale}, left over from an earlier run with more agents."))?;
            }
            return Ok(());
        }
        if Instant::now() >= deadline {
            let missing: Vec<&str> = missing.iter().map(|host| host.as_str()).collect();
            return Err(CliError::user(format!(
                "agents did not register within {} s: {}",
                START_TIMEOUT.as_secs(),
                missing.join(", ")
            ))
            .hint("their output is in hosts/<host>/agent.log under the data directory"));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn create_application(api: &Api) -> CliResult<()> {
    let input = wire::CreateApplicationInput {
        application_name: Some(APPLICATION.to_owned()),
        compute_platform: Some("Server".to_owned()),
        tags: None,
    };
    match api.client().call::<_, serde_json::Value>(Operation::CreateApplication, &input).await {
        Ok(_) => output::line(format!("Created application {APPLICATION}.")),
        Err(error) if error.exception() == Some("ApplicationAlreadyExistsException") => Ok(()),
        Err(error) => Err(error.into()),
    }
}

async fn create_group(api: &Api, config: &str) -> CliResult<()> {
    let input = wire::CreateDeploymentGroupInput {
        application_name: Some(APPLICATION.to_owned()),
        deployment_group_name: Some(GROUP.to_owned()),
        deployment_config_name: Some(config.to_owned()),
        on_premises_instance_tag_filters: Some(vec![wire::TagFilter {
            key: Some(TAG_KEY.to_owned()),
            value: Some(TAG_VALUE.to_owned()),
            type_: Some("KEY_AND_VALUE".to_owned()),
        }]),
        ..Default::default()
    };
    match api.client().call::<_, serde_json::Value>(Operation::CreateDeploymentGroup, &input).await {
        Ok(_) => output::line(format!("Created deployment group {GROUP} (tag {TAG_KEY}={TAG_VALUE}, {config}).")),
        Err(error) if error.exception() == Some("DeploymentGroupAlreadyExistsException") => Ok(()),
        Err(error) => Err(error.into()),
    }
}

/// Where each host's files and logs are.
fn print_hosts(layout: &Layout, hosts: &[String], deployment_id: &str) -> CliResult<()> {
    output::line("")?;
    output::line("Files on each host (/srv/hello under the host's destination root):")?;
    for host in hosts {
        let dir = layout.destination_root(host).join("srv/hello");
        let mut files = Vec::new();
        list_files(&dir, "", &mut files);
        output::line(format!("  {host}  {}  {}", dir.display(), summarize_files(&files)))?;
    }
    output::line("")?;
    output::line("Logs:")?;
    output::line(format!("  server      {}", layout.server_log().display()))?;
    for host in hosts {
        output::line(format!("  {host}  {}", layout.agent_log(host).display()))?;
        if let Some(scripts) = scripts_log(&layout.agent_root(host), deployment_id) {
            output::line(format!("  {host}  {}", scripts.display()))?;
        }
    }
    Ok(())
}

/// Relative paths of the files under `dir`, sorted.
fn list_files(dir: &Path, prefix: &str, files: &mut Vec<String>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(|entry| entry.file_name());
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        let relative = if prefix.is_empty() { name } else { format!("{prefix}/{name}") };
        if entry.file_type().is_ok_and(|kind| kind.is_dir()) {
            list_files(&entry.path(), &relative, files);
        } else {
            files.push(relative);
        }
    }
}

/// `index.html, config/app.conf, scripts/ (5 files)`: directories with more than two files are counted.
fn summarize_files(files: &[String]) -> String {
    if files.is_empty() {
        return "(nothing installed)".to_owned();
    }
    let mut parts: Vec<String> = Vec::new();
    let mut index = 0;
    while index < files.len() {
        let Some((dir, _)) = files[index].split_once('/') else {
            parts.push(files[index].clone());
            index += 1;
            continue;
        };
        let prefix = format!("{dir}/");
        let count = files[index..].iter().take_while(|file| file.starts_with(&prefix)).count();
        if count > 2 {
            parts.push(format!("{prefix} ({count} files)"));
        } else {
            parts.extend(files[index..index + count].iter().cloned());
        }
        index += count;
    }
    parts.join(", ")
}

/// `<root>/<group id>/<deployment id>/logs/scripts.log`, if the agent wrote one.
fn scripts_log(root: &Path, deployment_id: &str) -> Option<PathBuf> {
    fs::read_dir(root).ok()?.filter_map(Result::ok).find_map(|group| {
        let path = group.path().join(deployment_id).join("logs").join("scripts.log");
        path.is_file().then_some(path)
    })
}

/// The sample: `index.html` and `config/app.conf` installed to /srv/hello, the scripts too (mode 0755 through a
/// permissions entry), and a small shell script for every hook that takes one.
const APPSPEC: &str = r#"version: 0.0
os: linux
files:
  - source: index.html
    destination: /srv/hello
  - source: config/app.conf
    destination: /srv/hello/config
  - source: scripts
    destination: /srv/hello/scripts
permissions:
  - object: /srv/hello/scripts
    pattern: "*.sh"
    mode: 0755
    type:
      - file
hooks:
  ApplicationStop:
    - location: scripts/application_stop.sh
      timeout: 30
  BeforeInstall:
    - location: scripts/before_install.sh
      timeout: 30
  AfterInstall:
    - location: scripts/after_install.sh
      timeout: 30
  ApplicationStart:
    - location: scripts/application_start.sh
      timeout: 30
  ValidateService:
    - location: scripts/validate_service.sh
      timeout: 30
"#;

const INDEX_HTML: &str = "<!doctype html>\n<title>hello</title>\n<h1>Hello from Cutover</h1>\n";
const APP_CONF: &str = "# Installed by the cutover dev sample.\ngreeting=Hello from Cutover\nport=8080\n";

/// Every script starts like this: where this host's files go (the agent's --destination-root, which `cutover dev`
/// also exports to the agent and so to its hooks; empty on a real host).
const SCRIPT_HEAD: &str = "#!/bin/sh\nset -e\nAPP=\"${CUTOVER_DESTINATION_ROOT:-}/srv/hello\"\n\
echo \"$LIFECYCLE_EVENT of deployment $DEPLOYMENT_ID\"\n";

const SCRIPTS: [(&str, &str); 5] = [
    (
        "application_stop.sh",
        "echo \"stopping hello (the sample has no process to stop)\"\ntest -n \"$DEPLOYMENT_ID\"\n",
    ),
    ("before_install.sh", "test -n \"$LIFECYCLE_EVENT\"\necho \"about to install hello into $APP\"\n"),
    (
        "after_install.sh",
        "test -f \"$APP/config/app.conf\" || { echo \"$APP/config/app.conf is missing\" >&2; exit 1; }\n\
echo \"config installed: $(grep -c = \"$APP/config/app.conf\") settings\"\n",
    ),
    (
        "application_start.sh",
        "greeting=$(sed -n 's/^greeting=//p' \"$APP/config/app.conf\")\n\
test -n \"$greeting\" || { echo \"no greeting in app.conf\" >&2; exit 1; }\necho \"starting hello: $greeting\"\n",
    ),
    (
        "validate_service.sh",
        "test -f \"$APP/index.html\" || { echo \"$APP/index.html was not installed\" >&2; exit 1; }\n\
grep -q 'Hello from Cutover' \"$APP/index.html\"\necho \"hello is valid: $APP/index.html is in place\"\n",
    ),
];

/// Writes the sample revision into `dir` (replacing what was there).
fn write_sample(dir: &Path) -> CliResult<()> {
    let write = |path: PathBuf, text: &str, mode: u32| -> CliResult<()> {
        let fail = |error: std::io::Error| CliError::user(format!("cannot write {}: {error}", path.display()));
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(fail)?;
        }
        fs::write(&path, text).map_err(fail)?;
        fs::set_permissions(&path, fs::Permissions::from_mode(mode)).map_err(fail)
    };
    if dir.exists() {
        fs::remove_dir_all(dir).map_err(|error| CliError::user(format!("cannot clear {}: {error}", dir.display())))?;
    }
    write(dir.join("appspec.yml"), APPSPEC, 0o644)?;
    write(dir.join("index.html"), INDEX_HTML, 0o644)?;
    write(dir.join("config/app.conf"), APP_CONF, 0o644)?;
    for (name, body) in SCRIPTS {
        write(dir.join("scripts").join(name), &format!("{SCRIPT_HEAD}{body}"), 0o755)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_appspec_is_valid_and_names_existing_scripts() {
        let spec = cutover_domain::appspec::parse(APPSPEC).expect("valid sample AppSpec");
        assert_eq!(spec.hooks.len(), 5);
        assert_eq!(spec.permissions[0].mode, Some(0o755));
        let dir = tempfile::tempdir().expect("tempdir");
        write_sample(dir.path()).expect("sample");
        for hook in &spec.hooks {
            for script in &hook.scripts {
                let path = dir.path().join(&script.location);
                let mode = fs::metadata(&path).expect("script").permissions().mode();
                assert_eq!(mode & 0o777, 0o755, "{}", path.display());
            }
        }
    }

    #[test]
    fn installed_files_are_summarized() {
        let files: Vec<String> =
            ["config/app.conf", "index.html", "scripts/a.sh", "scripts/b.sh", "scripts/c.sh"].map(String::from).into();
        assert_eq!(summarize_files(&files), "config/app.conf, index.html, scripts/ (3 files)");
        assert_eq!(summarize_files(&[]), "(nothing installed)");
    }

    #[test]
    fn the_sample_scripts_pass_against_an_installed_tree() {
        let dir = tempfile::tempdir().expect("tempdir");
        let revision = dir.path().join("revision");
        write_sample(&revision).expect("sample");
        let root = dir.path().join("files");
        let app = root.join("srv/hello");
        fs::create_dir_all(app.join("config")).expect("mkdir");
        fs::copy(revision.join("index.html"), app.join("index.html")).expect("copy");
        fs::copy(revision.join("config/app.conf"), app.join("config/app.conf")).expect("copy");
        for (name, _) in SCRIPTS {
            let output = Command::new(revision.join("scripts").join(name))
                .env(DESTINATION_ROOT_ENV, &root)
                .env("LIFECYCLE_EVENT", "Test")
                .env("DEPLOYMENT_ID", "d-TEST")
                .output()
                .expect("run script");
            assert!(output.status.success(), "{name}: {}", String::from_utf8_lossy(&output.stderr));
        }
        fs::remove_file(app.join("index.html")).expect("rm");
        let output = Command::new(revision.join("scripts/validate_service.sh"))
            .env(DESTINATION_ROOT_ENV, &root)
            .output()
            .expect("run script");
        assert!(!output.status.success(), "ValidateService must fail without index.html");
    }
}
