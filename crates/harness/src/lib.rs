//! Test harness: a real `cutover-server` and N real `cutover-agent` processes, in a temp dir, on port 0.
//!
//! The binaries are the ones cargo built next to the test executable (`cargo build --bins` first; the README's
//! test command does). Each agent gets its own `--root` and `--destination-root`, so several simulated hosts share
//! one machine without their installed files colliding, and the environment variable `CUTOVER_TEST_HOST_DIR`
//! (passed on to its hooks with `--hook-pass-env`) pointing at a scratch directory of its own that hook scripts can
//! write evidence into.
//!
//! Waiting is always "poll a condition until a deadline", never a fixed sleep.

pub mod balancer;
pub mod hooks;
pub mod load;
pub mod netns;
pub mod proxy;
pub mod router;

use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cutover_api_types::codedeploy::{self as wire, Operation};
use cutover_client::api::ApiClient;

/// Returns the path of a workspace binary built next to the running test executable.
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    // target/<profile>/deps/<test-exe> or target/<profile>/<bin> → target/<profile>/<name>
    let mut dir = exe.parent().expect("exe dir");
    if dir.ends_with("deps") {
        dir = dir.parent().expect("target dir");
    }
    let path = dir.join(name);
    assert!(path.exists(), "{} not found: run `cargo build --bins` before the tests", path.display());
    path
}

/// Polls `check` every 20 ms until it returns Some or `timeout` passes.
pub async fn wait_for<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out after {timeout:?} waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A running server process.
pub struct ServerProc {
    pub child: Child,
    pub data_dir: PathBuf,
    pub addr: String,
    pub log: PathBuf,
    /// Its extra flags.
    pub args: Vec<String>,
}

/// A running agent process and its directories.
pub struct AgentProc {
    pub name: String,
    pub child: Option<Child>,
    /// `--root`: the agent's state (deployment archives, logs, instructions).
    pub root: PathBuf,
    /// `--destination-root`: where this host's AppSpec destinations land.
    pub dest_root: PathBuf,
    /// `CUTOVER_TEST_HOST_DIR`: scratch space for hook scripts.
    pub host_dir: PathBuf,
    pub log: PathBuf,
    /// How the agent was started, to restart it the same way.
    spawn: AgentSpawn,
}

#[derive(Debug, Clone)]
struct AgentSpawn {
    server_url: String,
    /// The server's `DATA_DIR/enrollment-token`, used by the agent's first start.
    enrollment_token_file: PathBuf,
    tags: Vec<(String, String)>,
    extra: Vec<String>,
    netns: Option<String>,
}

impl AgentProc {
    /// Path of an AppSpec destination on this simulated host.
    pub fn dest(&self, absolute: &str) -> PathBuf {
        self.dest_root.join(absolute.trim_start_matches('/'))
    }
}

/// A server with agents, all stopped when dropped.
pub struct Cluster {
    pub dir: tempfile::TempDir,
    pub server: ServerProc,
    pub agents: Vec<AgentProc>,
    pub client: ApiClient,
    pub endpoint: String,
    /// Extra server flags, kept so a restart uses the same ones.
    server_args: Vec<String>,
    /// More replicas of the server on the same database ([`Cluster::start_replicated`]); `server` is the first.
    pub replicas: Vec<ServerProc>,
    /// The load balancer in front of the replicas; `endpoint` is its address when there is one.
    pub balancer: Option<balancer::Balancer>,
}

/// Options of [`Cluster::start`].
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    pub agents: usize,
    /// Tags of every agent (each also gets `host=<name>`).
    pub tags: Vec<(String, String)>,
    /// Extra flags for the server.
    pub server_args: Vec<String>,
    /// Extra flags for every agent.
    pub agent_args: Vec<String>,
    /// Address the server listens on (`0.0.0.0:0` when agents run in network namespaces).
    pub listen: String,
    /// Serve HTTPS with the server's generated CA (`--tls on`); clients and agents trust `DATA_DIR/tls/ca.pem`.
    pub tls: bool,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        ClusterOptions {
            agents: 1,
            tags: vec![("env".to_owned(), "test".to_owned())],
            server_args: Vec::new(),
            agent_args: vec!["--kill-grace-ms".to_owned(), "500".to_owned()],
            listen: "127.0.0.1:0".to_owned(),
            tls: false,
        }
    }
}

fn start_server(data_dir: &Path, listen: &str, extra: &[String], log: &Path) -> ServerProc {
    let _ = std::fs::remove_file(data_dir.join("listen-addr"));
    let log_file = std::fs::OpenOptions::new().create(true).append(true).open(log).expect("server log");
    let child = Command::new(binary("cutover-server"))
        .arg("--listen")
        .arg(listen)
        .arg("--data-dir")
        .arg(data_dir)
        .args(extra)
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(log_file.try_clone().expect("log"))
        .stderr(log_file)
        .spawn()
        .expect("spawn cutover-server");
    ServerProc { child, data_dir: data_dir.to_owned(), addr: String::new(), log: log.to_owned(), args: extra.to_vec() }
}

async fn wait_listening(server: &mut ServerProc) {
    let addr_file = server.data_dir.join("listen-addr");
    let log = server.log.clone();
    let addr = wait_for("the server to listen", Duration::from_secs(30), || {
        let addr_file = addr_file.clone();
        let exited = server.child.try_wait().ok().flatten();
        let log = log.clone();
        async move {
            if let Some(status) = exited {
                panic!("cutover-server exited with {status}: {}", std::fs::read_to_string(log).unwrap_or_default());
            }
            std::fs::read_to_string(addr_file).ok().map(|text| text.trim().to_owned()).filter(|text| !text.is_empty())
        }
    })
    .await;
    server.addr = addr;
}

/// The admin key the server wrote to `DATA_DIR/admin-credentials` on its first start.
pub fn admin_credentials(data_dir: &Path) -> cutover_client::Credentials {
    let path = data_dir.join("admin-credentials");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    cutover_auth::credentials_file::parse(&text, "default")
        .unwrap_or_else(|| panic!("{} has no [default] profile", path.display()))
}

impl Cluster {
    /// The server's admin credentials file (AWS shared-credentials format), for the CLI and the AWS clients.
    pub fn credentials_file(&self) -> PathBuf {
        self.server.data_dir.join("admin-credentials")
    }

    /// An API client signing with a new access key of `role` (admin, deployer or viewer).
    pub async fn client_with_role(&self, role: &str) -> (ApiClient, cutover_client::Credentials) {
        let out: cutover_api_types::cutover::CreateAccessKeyOutput = self
            .client
            .call_cutover(
                "CreateAccessKey",
                &cutover_api_types::cutover::CreateAccessKeyInput {
                    role: role.to_owned(),
                    description: format!("test {role}"),
                },
            )
            .await
            .expect("CreateAccessKey");
        let credentials =
            cutover_client::Credentials { access_key_id: out.access_key_id, secret_access_key: out.secret_access_key };
        (ApiClient::new(&self.endpoint).with_credentials(credentials.clone()), credentials)
    }

    /// Starts a server and `options.agents` agents named `host-1`… and waits until all are registered.
    pub async fn start(options: ClusterOptions) -> Cluster {
        let dir = tempfile::Builder::new().prefix("cutover-e2e-").tempdir().expect("tempdir");
        let data_dir = dir.path().join("server");
        std::fs::create_dir_all(&data_dir).expect("data dir");
        let mut server_args = options.server_args.clone();
        // Explicit either way: `--tls auto` would turn TLS on for a `0.0.0.0` listen address.
        server_args.extend(["--tls".to_owned(), if options.tls { "on" } else { "off" }.to_owned()]);
        let mut server = start_server(&data_dir, &options.listen, &server_args, &dir.path().join("server.log"));
        wait_listening(&mut server).await;
        let port = server.addr.rsplit(':').next().unwrap_or("0").to_owned();
        let scheme = if options.tls { "https" } else { "http" };
        let endpoint = format!("{scheme}://127.0.0.1:{port}");
        let mut client = ApiClient::new(&endpoint).with_credentials(admin_credentials(&data_dir));
        let mut agent_args = options.agent_args.clone();
        if options.tls {
            let ca = data_dir.join("tls").join("ca.pem");
            client = client.with_ca_pem(&std::fs::read(&ca).expect("ca.pem")).expect("CA");
            agent_args.push("--ca-file".to_owned());
            agent_args.push(ca.display().to_string());
        }
        let mut cluster = Cluster {
            dir,
            server,
            agents: Vec::new(),
            client,
            endpoint,
            server_args,
            replicas: Vec::new(),
            balancer: None,
        };
        for idx in 1..=options.agents {
            let name = format!("host-{idx}");
            let mut tags = options.tags.clone();
            tags.push(("host".to_owned(), name.clone()));
            cluster.add_agent(&name, &tags, &agent_args);
        }
        let expected: Vec<String> = cluster.agents.iter().map(|agent| agent.name.clone()).collect();
        cluster.wait_registered(&expected).await;
        cluster
    }

    /// Starts `replicas` servers on one PostgreSQL database (`--replica-id replica-N`, a shared master key and blob
    /// directory, unless `options.server_args` keep blobs in S3 with `--s3-bucket`), a load balancer in front of them
    /// that agents and the API client use, and `options.agents` agents.
    pub async fn start_replicated(options: ClusterOptions, replicas: usize, database_url: &str) -> Cluster {
        let dir = tempfile::Builder::new().prefix("cutover-e2e-").tempdir().expect("tempdir");
        let mut servers = Vec::new();
        for n in 1..=replicas {
            let data_dir = dir.path().join(format!("server-{n}"));
            std::fs::create_dir_all(&data_dir).expect("data dir");
            let mut args = options.server_args.clone();
            args.extend([
                "--database-url".to_owned(),
                database_url.to_owned(),
                "--replica-id".to_owned(),
                format!("replica-{n}"),
                "--master-key-file".to_owned(),
                dir.path().join("master-key").display().to_string(),
            ]);
            if !options.server_args.iter().any(|arg| arg == "--s3-bucket") {
                args.extend(["--blobs-dir".to_owned(), dir.path().join("blobs").display().to_string()]);
            }
            // One after the other: the first creates the schema, the admin key and the master key.
            let mut server =
                start_server(&data_dir, &options.listen, &args, &dir.path().join(format!("server-{n}.log")));
            server.args = args;
            wait_listening(&mut server).await;
            servers.push(server);
        }
        let backends: Vec<String> = servers.iter().map(|server| server.addr.clone()).collect();
        let balancer = balancer::Balancer::start(backends).await;
        let endpoint = format!("http://{}", balancer.addr);
        let server = servers.remove(0);
        let client = ApiClient::new(&endpoint).with_credentials(admin_credentials(&server.data_dir));
        let mut cluster = Cluster {
            dir,
            server,
            agents: Vec::new(),
            client,
            endpoint,
            server_args: options.server_args.clone(),
            replicas: servers,
            balancer: Some(balancer),
        };
        for idx in 1..=options.agents {
            let name = format!("host-{idx}");
            let mut tags = options.tags.clone();
            tags.push(("host".to_owned(), name.clone()));
            cluster.add_agent(&name, &tags, &options.agent_args);
        }
        let expected: Vec<String> = cluster.agents.iter().map(|agent| agent.name.clone()).collect();
        cluster.wait_registered(&expected).await;
        cluster
    }

    /// The replica started with `--replica-id <id>` (see [`Cluster::start_replicated`]).
    pub fn replica(&mut self, id: &str) -> &mut ServerProc {
        let flag = |server: &ServerProc| server.args.windows(2).any(|pair| pair[0] == "--replica-id" && pair[1] == id);
        if flag(&self.server) {
            return &mut self.server;
        }
        self.replicas.iter_mut().find(|server| flag(server)).unwrap_or_else(|| panic!("no replica {id}"))
    }

    /// Starts one more agent talking to the server directly.
    pub fn add_agent(&mut self, name: &str, tags: &[(String, String)], extra: &[String]) {
        let url = self.endpoint.clone();
        self.add_agent_with(name, tags, extra, &url, None);
    }

    /// Starts one more agent with the given server URL (e.g. a fault proxy), optionally inside a network namespace.
    pub fn add_agent_with(
        &mut self,
        name: &str,
        tags: &[(String, String)],
        extra: &[String],
        server_url: &str,
        netns: Option<&str>,
    ) {
        let base = self.dir.path().join("hosts").join(name);
        let root = base.join("agent-root");
        let dest_root = base.join("fs");
        let host_dir = base.join("scratch");
        for dir in [&root, &dest_root, &host_dir] {
            std::fs::create_dir_all(dir).expect("agent dirs");
        }
        let log = base.join("agent.log");
        let spawn = AgentSpawn {
            server_url: server_url.to_owned(),
            enrollment_token_file: self.server.data_dir.join("enrollment-token"),
            tags: tags.to_vec(),
            extra: extra.to_vec(),
            netns: netns.map(str::to_owned),
        };
        let mut agent = AgentProc { name: name.to_owned(), child: None, root, dest_root, host_dir, log, spawn };
        agent.child = Some(spawn_agent(&agent));
        self.agents.push(agent);
    }

    /// Kills an agent with SIGKILL.
    pub fn kill_agent(&mut self, name: &str) {
        let agent = self.agents.iter_mut().find(|agent| agent.name == name).expect("agent");
        if let Some(mut child) = agent.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts a killed agent again, the same way, on the same root.
    pub fn restart_agent(&mut self, name: &str) {
        let agent = self.agents.iter_mut().find(|agent| agent.name == name).expect("agent");
        assert!(agent.child.is_none(), "agent {name} is still running");
        agent.child = Some(spawn_agent(agent));
    }

    /// Waits until every named instance is registered.
    pub async fn wait_registered(&self, names: &[String]) {
        let client = self.client.clone();
        wait_for("agents to register", Duration::from_secs(30), || {
            let client = client.clone();
            let names = names.to_vec();
            async move {
                // Every page: a fleet of more than 100 instances spans several.
                let mut have = Vec::new();
                let mut token: Option<String> = None;
                loop {
                    let input = match &token {
                        Some(token) => serde_json::json!({"nextToken": token}),
                        None => serde_json::json!({}),
                    };
                    let out: wire::ListOnPremisesInstancesOutput =
                        client.call(Operation::ListOnPremisesInstances, &input).await.ok()?;
                    have.extend(out.instance_names.unwrap_or_default());
                    token = out.next_token;
                    if token.is_none() {
                        break;
                    }
                }
                names.iter().all(|name| have.contains(name)).then_some(())
            }
        })
        .await;
    }

    pub fn agent(&self, name: &str) -> &AgentProc {
        self.agents.iter().find(|agent| agent.name == name).expect("agent")
    }

    /// Kills the server with SIGKILL (no chance to clean up).
    pub fn kill_server(&mut self) {
        let _ = self.server.child.kill();
        let _ = self.server.child.wait();
    }

    /// Starts the server again on the same address and data directory.
    pub async fn restart_server(&mut self) {
        let listen = self.server.addr.clone();
        let mut server = start_server(&self.server.data_dir, &listen, &self.server_args, &self.server.log);
        wait_listening(&mut server).await;
        self.server = server;
    }

    /// Creates an application and a group targeting `env=test` with the given configuration.
    pub async fn create_app_and_group(&self, app: &str, group: &str, config: &str) {
        let _: wire::CreateApplicationOutput = self
            .client
            .call(Operation::CreateApplication, &serde_json::json!({"applicationName": app}))
            .await
            .expect("CreateApplication");
        let _: wire::CreateDeploymentGroupOutput = self
            .client
            .call(
                Operation::CreateDeploymentGroup,
                &serde_json::json!({
                    "applicationName": app,
                    "deploymentGroupName": group,
                    "deploymentConfigName": config,
                    "serviceRoleArn": "arn:aws:iam::000000000000:role/test",
                    "onPremisesInstanceTagFilters": [{"Key": "env", "Value": "test", "Type": "KEY_AND_VALUE"}],
                }),
            )
            .await
            .expect("CreateDeploymentGroup");
    }

    /// Uploads a bundle and registers it; returns the revision location.
    pub async fn push_bundle(&self, app: &str, bytes: Vec<u8>, bundle_type: &str) -> serde_json::Value {
        let key = format!("{app}/{}.{bundle_type}", self.agents.len() as u64 + bytes.len() as u64 + unique());
        let etag = self.client.put_object("cutover-revisions", &key, bytes).await.expect("upload");
        let revision = serde_json::json!({
            "revisionType": "S3",
            "s3Location": {"bucket": "cutover-revisions", "key": key, "bundleType": bundle_type, "eTag": etag},
        });
        let _: serde_json::Value = self
            .client
            .call(
                Operation::RegisterApplicationRevision,
                &serde_json::json!({"applicationName": app, "revision": revision}),
            )
            .await
            .expect("RegisterApplicationRevision");
        revision
    }

    /// Creates a deployment and returns its id.
    pub async fn deploy(
        &self,
        app: &str,
        group: &str,
        revision: &serde_json::Value,
        extra: serde_json::Value,
    ) -> String {
        let mut input = serde_json::json!({"applicationName": app, "deploymentGroupName": group, "revision": revision});
        if let (Some(object), Some(extra)) = (input.as_object_mut(), extra.as_object()) {
            for (key, value) in extra {
                object.insert(key.clone(), value.clone());
            }
        }
        let out: wire::CreateDeploymentOutput =
            self.client.call(Operation::CreateDeployment, &input).await.expect("CreateDeployment");
        out.deployment_id.expect("deploymentId")
    }

    /// Waits until the deployment is terminal and returns it.
    pub async fn wait_deployment(&self, id: &str, timeout: Duration) -> wire::DeploymentInfo {
        let client = self.client.clone();
        wait_for(&format!("deployment {id} to finish"), timeout, || {
            let client = client.clone();
            let id = id.to_owned();
            async move {
                let out: wire::GetDeploymentOutput =
                    client.call(Operation::GetDeployment, &serde_json::json!({"deploymentId": id})).await.ok()?;
                let info = out.deployment_info?;
                matches!(info.status.as_deref(), Some("Succeeded" | "Failed" | "Stopped")).then_some(info)
            }
        })
        .await
    }

    /// The instance target of a deployment (status and lifecycle events).
    pub async fn target(&self, deployment_id: &str, instance: &str) -> wire::InstanceTarget {
        let out: wire::GetDeploymentTargetOutput = self
            .client
            .call(
                Operation::GetDeploymentTarget,
                &serde_json::json!({"deploymentId": deployment_id, "targetId": instance}),
            )
            .await
            .expect("GetDeploymentTarget");
        out.deployment_target.and_then(|target| target.instance_target).expect("instanceTarget")
    }

    /// Server and agent logs, for assertion messages.
    pub fn logs(&self) -> String {
        let mut res = String::new();
        for server in std::iter::once(&self.server).chain(&self.replicas) {
            res.push_str(&format!(
                "--- server {} ---\n{}\n",
                server.data_dir.display(),
                std::fs::read_to_string(&server.log).unwrap_or_default()
            ));
        }
        for agent in &self.agents {
            res.push_str(&format!(
                "--- {} ---\n{}\n",
                agent.name,
                std::fs::read_to_string(&agent.log).unwrap_or_default()
            ));
        }
        res
    }
}

fn spawn_agent(agent: &AgentProc) -> Child {
    let log_file = std::fs::OpenOptions::new().create(true).append(true).open(&agent.log).expect("agent log");
    let spawn = &agent.spawn;
    let tags = spawn.tags.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",");
    let mut command = match &spawn.netns {
        Some(netns) => {
            let mut command = Command::new("ip");
            command.arg("netns").arg("exec").arg(netns).arg(binary("cutover-agent"));
            command
        }
        None => Command::new(binary("cutover-agent")),
    };
    command
        .arg("--server")
        .arg(&spawn.server_url)
        .arg("--name")
        .arg(&agent.name)
        .arg("--tags")
        .arg(tags)
        .arg("--root")
        .arg(&agent.root)
        .arg("--destination-root")
        .arg(&agent.dest_root)
        .arg("--enrollment-token-file")
        .arg(&spawn.enrollment_token_file)
        .args(&spawn.extra)
        // Hooks see only documented variables unless the agent passes one on.
        .arg("--hook-pass-env")
        .arg("CUTOVER_TEST_HOST_DIR")
        .env("CUTOVER_TEST_HOST_DIR", &agent.host_dir)
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(log_file.try_clone().expect("log"))
        .stderr(log_file)
        .spawn()
        .expect("spawn cutover-agent")
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed) * 1_000_003 + std::process::id() as u64
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for agent in &mut self.agents {
            if let Some(child) = agent.child.as_mut() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
        for server in std::iter::once(&mut self.server).chain(self.replicas.iter_mut()) {
            let _ = server.child.kill();
            let _ = server.child.wait();
        }
    }
}

/// A PostgreSQL database of its own for one test, created on the server `CUTOVER_TEST_PG_URL` names (with Debian's
/// `psql`); None when the variable is not set.
pub fn scratch_postgres_database() -> Option<String> {
    let admin = std::env::var("CUTOVER_TEST_PG_URL").ok()?;
    let name = format!("e2e_{}", unique());
    psql(&admin, &format!("CREATE DATABASE {name}"));
    let (base, _) = admin.rsplit_once('/').expect("CUTOVER_TEST_PG_URL names a database");
    Some(format!("{base}/{name}"))
}

/// Runs one SQL statement with `psql` and returns its unaligned, tuples-only output (for assertions on the
/// database a PostgreSQL-backed server uses).
pub fn psql(url: &str, sql: &str) -> String {
    let out = Command::new("psql").arg(url).arg("-XAtq").arg("-v").arg("ON_ERROR_STOP=1").arg("-c").arg(sql).output();
    let out = out.expect("run psql (Debian package postgresql-client)");
    assert!(out.status.success(), "psql {sql:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// A bundle under construction: files with modes, symlinks, and raw hostile entries.
#[derive(Default)]
pub struct Bundle {
    entries: Vec<(String, Vec<u8>, u32)>,
}

impl Bundle {
    pub fn new() -> Bundle {
        Bundle::default()
    }

    /// Adds a file (mode e.g. 0o644 or 0o755).
    pub fn file(mut self, path: &str, contents: &str, mode: u32) -> Bundle {
        self.entries.push((path.to_owned(), contents.as_bytes().to_vec(), mode));
        self
    }

    /// Adds an executable `#!/bin/sh` script.
    pub fn script(self, path: &str, body: &str) -> Bundle {
        let text = format!("#!/bin/sh\n{body}\n");
        self.file(path, &text, 0o755)
    }

    /// Builds a tar.gz; `extra` may append raw entries (for hostile archives).
    pub fn tgz_with(&self, extra: impl FnOnce(&mut tar::Builder<flate2::write::GzEncoder<Vec<u8>>>)) -> Vec<u8> {
        let encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let mut builder = tar::Builder::new(encoder);
        for (path, contents, mode) in &self.entries {
            let mut header = tar::Header::new_gnu();
            header.set_size(contents.len() as u64);
            header.set_mode(*mode);
            header.set_mtime(1_700_000_000);
            header.set_entry_type(tar::EntryType::Regular);
            builder.append_data(&mut header, path, contents.as_slice()).expect("tar entry");
        }
        extra(&mut builder);
        builder.into_inner().and_then(|encoder| encoder.finish()).expect("tar.gz")
    }

    pub fn tgz(&self) -> Vec<u8> {
        self.tgz_with(|_| {})
    }
}

/// Sends SIGTERM to a process group leader's group is not needed by tests; this checks liveness of a pid.
pub fn process_alive(pid: i32) -> bool {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok()
}

/// A tiny HTTP/1.1 server and client for tests that need a web endpoint (webhook receivers, metrics targets, health
/// probes): one request per connection, answered by a closure, every request recorded.
pub mod http_stub {
    use std::net::SocketAddr;
    use std::sync::{Arc, Mutex};

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    /// A request as received.
    #[derive(Debug, Clone)]
    pub struct Request {
        pub method: String,
        /// Path and query, as sent.
        pub target: String,
        /// Header names in lower case, in order.
        pub headers: Vec<(String, String)>,
        pub body: Vec<u8>,
    }

    impl Request {
        pub fn header(&self, name: &str) -> Option<&str> {
            self.headers.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, value)| value.as_str())
        }

        pub fn body_text(&self) -> String {
            String::from_utf8_lossy(&self.body).into_owned()
        }
    }

    /// An answer: status, content type, body.
    pub type Response = (u16, &'static str, Vec<u8>);

    type Handler = dyn Fn(&Request) -> Response + Send + Sync;

    /// A server on 127.0.0.1 (port 0), stopped when dropped.
    pub struct HttpStub {
        pub addr: SocketAddr,
        requests: Arc<Mutex<Vec<(Request, u16)>>>,
        task: tokio::task::JoinHandle<()>,
    }

    impl HttpStub {
        pub async fn start(respond: impl Fn(&Request) -> Response + Send + Sync + 'static) -> HttpStub {
            let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind stub");
            let addr = listener.local_addr().expect("stub addr");
            let requests = Arc::new(Mutex::new(Vec::new()));
            let handler: Arc<Handler> = Arc::new(respond);
            let recorded = requests.clone();
            let task = tokio::spawn(async move {
                while let Ok((stream, _)) = listener.accept().await {
                    let (handler, recorded) = (handler.clone(), recorded.clone());
                    tokio::spawn(async move {
                        let _ = serve(stream, handler, recorded).await;
                    });
                }
            });
            HttpStub { addr, requests, task }
        }

        /// `http://127.0.0.1:<port>` followed by `path`.
        pub fn url(&self, path: &str) -> String {
            format!("http://{}{path}", self.addr)
        }

        /// Every request so far, with the status it was answered with.
        pub fn requests(&self) -> Vec<(Request, u16)> {
            self.requests.lock().expect("stub lock").clone()
        }

        /// The live list of requests, for a task that watches them while the stub is owned elsewhere.
        pub fn shared_requests(&self) -> Arc<Mutex<Vec<(Request, u16)>>> {
            self.requests.clone()
        }
    }

    impl Drop for HttpStub {
        fn drop(&mut self) {
            self.task.abort();
        }
    }

    async fn serve(
        mut stream: TcpStream,
        handler: Arc<Handler>,
        recorded: Arc<Mutex<Vec<(Request, u16)>>>,
    ) -> std::io::Result<()> {
        let Some(request) = read_request(&mut stream).await? else { return Ok(()) };
        let (status, content_type, body) = handler(&request);
        recorded.lock().expect("stub lock").push((request, status));
        let head = format!(
            "HTTP/1.1 {status} Stub\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(&body).await?;
        stream.shutdown().await
    }

    /// Reads one request (head and a `content-length` body); None if the peer closed first.
    async fn read_request(stream: &mut TcpStream) -> std::io::Result<Option<Request>> {
        let mut buffer = Vec::new();
        let mut chunk = [0u8; 8192];
        let head_end = loop {
            if let Some(pos) = buffer.windows(4).position(|window| window == b"\r\n\r\n") {
                break pos;
            }
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                return Ok(None);
            }
            buffer.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
        let mut lines = head.split("\r\n");
        let mut request_line = lines.next().unwrap_or_default().split(' ');
        let method = request_line.next().unwrap_or_default().to_owned();
        let target = request_line.next().unwrap_or_default().to_owned();
        let headers: Vec<(String, String)> = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(key, value)| (key.trim().to_ascii_lowercase(), value.trim().to_owned()))
            .collect();
        let length: usize = headers
            .iter()
            .find(|(key, _)| key == "content-length")
            .and_then(|(_, value)| value.parse().ok())
            .unwrap_or(0);
        let mut body = buffer[head_end + 4..].to_vec();
        while body.len() < length {
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
        body.truncate(length);
        Ok(Some(Request { method, target, headers, body }))
    }

    /// A plain `GET http://host:port/path`; returns the status and body (for readiness checks in tests).
    pub async fn get(url: &str) -> std::io::Result<(u16, String)> {
        let rest = url.strip_prefix("http://").ok_or_else(|| std::io::Error::other("only http:// URLs"))?;
        let (host, path) =
            rest.split_once('/').map_or((rest, "/".to_owned()), |(host, path)| (host, format!("/{path}")));
        let mut stream = TcpStream::connect(host).await?;
        let request = format!("GET {path} HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\naccept: */*\r\n\r\n");
        stream.write_all(request.as_bytes()).await?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await?;
        let text = String::from_utf8_lossy(&response).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((text.as_str(), ""));
        let status = head.split(' ').nth(1).and_then(|code| code.parse().ok()).unwrap_or(0);
        // Prometheus answers small JSON without chunking when the client closes; decode chunks if it does not.
        let chunked = head.to_ascii_lowercase().contains("transfer-encoding: chunked");
        Ok((status, if chunked { dechunk(body) } else { body.to_owned() }))
    }

    fn dechunk(mut body: &str) -> String {
        let mut out = String::new();
        while let Some((size, rest)) = body.split_once("\r\n") {
            let Ok(size) = usize::from_str_radix(size.trim(), 16) else { break };
            if size == 0 || rest.len() < size {
                break;
            }
            out.push_str(&rest[..size]);
            body = rest[size..].trim_start_matches("\r\n");
        }
        out
    }
}
