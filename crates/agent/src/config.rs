//! Command-line flags and the agent's configuration.
//!
//! Every flag can also be given as an environment variable, `CUTOVER_AGENT_<FLAG>` (e.g. `CUTOVER_AGENT_SERVER`,
//! `CUTOVER_AGENT_TAGS`): the packaged systemd unit reads them from `/etc/cutover/agent.env`. A flag wins over its
//! variable. The flags are a contract other scripts depend on:
//! `cutover-agent --server URL --name NAME [--tags k=v[,k=v…]] --root DIR [--max-revisions N] [--poll-wait-ms MS]
//! [--kill-grace-ms MS] [--heartbeat-ms MS] [--max-concurrent-commands N] [--destination-root DIR]
//! [--enrollment-token-file PATH] [--ca-file PEM] [--allow-setuid] [--hook-pass-env NAME[,NAME…]]
//! [--no-containers] [--docker-socket PATH] [--container-publish-ip IP]`.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use cutover_api_types::agent::Tag;

use crate::archive::ExtractLimits;

/// Smallest `--heartbeat-ms`: anything faster only loads the server.
pub const MIN_HEARTBEAT_MS: u64 = 100;

/// `cutover-agent`: runs lifecycle events on this host for a Cutover server.
#[derive(Debug, Clone, clap::Parser)]
#[command(name = "cutover-agent", version, about)]
pub struct Cli {
    /// Server URL, e.g. `http://deploy.example.com:8080`
    #[arg(long, env = "CUTOVER_AGENT_SERVER")]
    pub server: String,
    /// Name of this instance (registered as an on-premises instance)
    #[arg(long, env = "CUTOVER_AGENT_NAME")]
    pub name: String,
    /// Tags to set on the instance: k=v[,k=v...]
    #[arg(long, env = "CUTOVER_AGENT_TAGS", default_value = "")]
    pub tags: String,
    /// State directory (CodeDeploy's deployment-root)
    #[arg(long, env = "CUTOVER_AGENT_ROOT")]
    pub root: PathBuf,
    /// Revisions kept per deployment group, besides the current one
    #[arg(long, env = "CUTOVER_AGENT_MAX_REVISIONS", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_revisions: u64,
    /// How long the server may hold a poll when there is no work, in milliseconds
    #[arg(long, env = "CUTOVER_AGENT_POLL_WAIT_MS", default_value_t = 50_000)]
    pub poll_wait_ms: u64,
    /// Time between SIGTERM and SIGKILL of a timed-out script and the processes it started, in milliseconds
    #[arg(long, env = "CUTOVER_AGENT_KILL_GRACE_MS", default_value_t = 5_000)]
    pub kill_grace_ms: u64,
    /// Time between two heartbeats while a command runs, in milliseconds (at least 100). Keep it well below the
    /// server's --agent-lease-secs, or the server fails long-running events as lost
    #[arg(long, env = "CUTOVER_AGENT_HEARTBEAT_MS", default_value_t = 5_000, value_parser = clap::value_parser!(u64).range(MIN_HEARTBEAT_MS..))]
    pub heartbeat_ms: u64,
    /// Most commands (lifecycle events of different deployments) run at once; at the cap, the agent stops polling
    /// until one of them ends
    #[arg(long, env = "CUTOVER_AGENT_MAX_CONCURRENT_COMMANDS", default_value_t = 16, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_concurrent_commands: u64,
    /// Prefix for every AppSpec destination and permission object (simulates several hosts on one machine)
    #[arg(long, env = "CUTOVER_AGENT_DESTINATION_ROOT")]
    pub destination_root: Option<PathBuf>,
    /// File holding a join token (the server writes one to DATA_DIR/enrollment-token). Needed on first start only:
    /// the agent enrols with it and then signs with its own key, kept in ROOT/credentials.json
    #[arg(long, env = "CUTOVER_AGENT_ENROLLMENT_TOKEN_FILE")]
    pub enrollment_token_file: Option<PathBuf>,
    /// CA certificates (PEM) to trust for an https server, e.g. the server's generated DATA_DIR/tls/ca.pem
    #[arg(long, env = "CUTOVER_AGENT_CA_FILE")]
    pub ca_file: Option<PathBuf>,
    /// Accept files with the set-user-ID or set-group-ID bit, in bundles and in AppSpec permissions (refused by
    /// default)
    #[arg(long, env = "CUTOVER_AGENT_ALLOW_SETUID")]
    pub allow_setuid: bool,
    /// Variables of the agent's own environment that hook scripts get too: NAME[,NAME...] (e.g. http_proxy).
    /// Hooks see only the documented variables otherwise (docs/security.md)
    #[arg(long, env = "CUTOVER_AGENT_HOOK_PASS_ENV", value_delimiter = ',')]
    pub hook_pass_env: Vec<String>,
    /// Serve Prometheus metrics at http://ADDR/metrics (e.g. 127.0.0.1:9187; port 0 picks one, written to
    /// ROOT/metrics-listen-addr). Off unless given
    #[arg(long, env = "CUTOVER_AGENT_METRICS_LISTEN", value_name = "ADDR")]
    pub metrics_listen: Option<String>,
    /// Log lines as human-readable text, or as one JSON object per line (with the fields of the enclosing spans,
    /// e.g. deployment_id and instance)
    #[arg(long, env = "CUTOVER_AGENT_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Run no container services (computePlatform ECS) on this host: no task-set reports to the server, and never a
    /// call to Docker
    #[arg(long, env = "CUTOVER_AGENT_NO_CONTAINERS")]
    pub no_containers: bool,
    /// Unix socket of the local Docker engine that runs this host's container services. Default: $DOCKER_HOST if it
    /// is unix://PATH, else /var/run/docker.sock. Opened only once the server assigns this host a task set
    #[arg(long, env = "CUTOVER_AGENT_DOCKER_SOCKET", value_name = "PATH")]
    pub docker_socket: Option<PathBuf>,
    /// Address the containers' ports are published on: the upstreams the router reaches them at
    #[arg(long, env = "CUTOVER_AGENT_CONTAINER_PUBLISH_IP", value_name = "IP", default_value = "127.0.0.1")]
    pub container_publish_ip: IpAddr,
}

/// The format of log lines on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

impl Cli {
    /// Validates the flags and builds the configuration.
    pub fn into_config(self) -> anyhow::Result<AgentConfig> {
        let config = AgentConfig {
            server_url: self.server,
            name: self.name,
            tags: parse_tags(&self.tags)?,
            root: self.root,
            max_revisions: usize::try_from(self.max_revisions)?,
            poll_wait: Duration::from_millis(self.poll_wait_ms),
            kill_grace: Duration::from_millis(self.kill_grace_ms),
            heartbeat_interval: Duration::from_millis(self.heartbeat_ms),
            max_concurrent_commands: usize::try_from(self.max_concurrent_commands)?,
            destination_root: self.destination_root,
            enrollment_token_file: self.enrollment_token_file,
            ca_file: self.ca_file,
            extract_limits: ExtractLimits { allow_setuid: self.allow_setuid, ..ExtractLimits::default() },
            hook_env: pass_env(&self.hook_pass_env)?,
            metrics_listen: self.metrics_listen,
            log_format: self.log_format,
            containers: !self.no_containers,
            docker_socket: self.docker_socket,
            container_publish_ip: self.container_publish_ip,
            ..AgentConfig::default()
        };
        config.validate()?;
        Ok(config)
    }
}

/// Everything [`crate::run`] needs.
#[derive(Debug, Clone)]
pub struct AgentConfig {
    pub server_url: String,
    pub name: String,
    pub tags: Vec<Tag>,
    pub root: PathBuf,
    /// ≥ 1 (default 5).
    pub max_revisions: usize,
    /// Long-poll wait (default 20 s).
    pub poll_wait: Duration,
    /// Time between SIGTERM and SIGKILL of a timed-out script (default 5 s).
    pub kill_grace: Duration,
    /// How long a script's output is still read after it exited (default 1 s).
    pub drain_window: Duration,
    /// Time between two heartbeats while a command runs (default 5 s, at least [`MIN_HEARTBEAT_MS`]).
    pub heartbeat_interval: Duration,
    /// Commands run at once, each of another deployment (≥ 1, default 16).
    pub max_concurrent_commands: usize,
    pub extract_limits: ExtractLimits,
    /// Prefix for AppSpec destinations and permission objects (`--destination-root`); `None` is `/`.
    pub destination_root: Option<PathBuf>,
    /// `--enrollment-token-file`: read once, when the agent has no accepted credential yet.
    pub enrollment_token_file: Option<PathBuf>,
    /// `--ca-file`: extra CA certificates for an https server.
    pub ca_file: Option<PathBuf>,
    /// Variables every hook gets besides the documented ones (`--hook-pass-env`, resolved at start).
    pub hook_env: Vec<(String, String)>,
    /// Where to serve `/metrics` (`--metrics-listen`); `None`: nowhere.
    pub metrics_listen: Option<String>,
    pub log_format: LogFormat,
    /// Run the task-set supervisor (`containers`); off with `--no-containers`.
    pub containers: bool,
    /// `--docker-socket`; `None`: `$DOCKER_HOST` (unix) or `/var/run/docker.sock`.
    pub docker_socket: Option<PathBuf>,
    /// `--container-publish-ip` (default 127.0.0.1).
    pub container_publish_ip: IpAddr,
}

impl Default for AgentConfig {
    fn default() -> Self {
        Self {
            server_url: String::new(),
            name: String::new(),
            tags: Vec::new(),
            root: PathBuf::new(),
            max_revisions: 5,
            poll_wait: Duration::from_secs(50),
            kill_grace: Duration::from_secs(5),
            drain_window: Duration::from_secs(1),
            heartbeat_interval: Duration::from_secs(5),
            max_concurrent_commands: 16,
            extract_limits: ExtractLimits::default(),
            destination_root: None,
            enrollment_token_file: None,
            ca_file: None,
            hook_env: Vec::new(),
            metrics_listen: None,
            log_format: LogFormat::Text,
            containers: true,
            docker_socket: None,
            container_publish_ip: cutover_containers::DEFAULT_PUBLISH_IP,
        }
    }
}

impl AgentConfig {
    /// Checks the invariants `run` relies on.
    pub fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(self.max_revisions >= 1, "--max-revisions must be at least 1");
        anyhow::ensure!(!self.name.trim().is_empty(), "--name must not be empty");
        anyhow::ensure!(!self.server_url.trim().is_empty(), "--server must not be empty");
        anyhow::ensure!(!self.root.as_os_str().is_empty(), "--root must not be empty");
        anyhow::ensure!(
            self.heartbeat_interval >= Duration::from_millis(MIN_HEARTBEAT_MS),
            "--heartbeat-ms must be at least {MIN_HEARTBEAT_MS}"
        );
        anyhow::ensure!(self.max_concurrent_commands >= 1, "--max-concurrent-commands must be at least 1");
        Ok(())
    }
}

/// The agent's own values of the variables named by `--hook-pass-env` (unset ones are left out).
pub fn pass_env(names: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    let mut env = Vec::new();
    for name in names.iter().map(|name| name.trim()).filter(|name| !name.is_empty()) {
        anyhow::ensure!(!name.contains('='), "--hook-pass-env takes variable names, got {name:?}");
        if let Ok(value) = std::env::var(name) {
            env.push((name.to_owned(), value));
        }
    }
    Ok(env)
}

/// Parses `k=v[,k=v…]` (an empty string is no tags; a value may contain `=`).
pub fn parse_tags(text: &str) -> anyhow::Result<Vec<Tag>> {
    text.split(',')
        .map(str::trim)
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').ok_or_else(|| anyhow::anyhow!("tag {pair:?} is not k=v"))?;
            anyhow::ensure!(!key.trim().is_empty(), "tag {pair:?} has an empty key");
            Ok(Tag { key: key.trim().to_owned(), value: value.trim().to_owned() })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[test]
    fn flags_parse() {
        let cli = Cli::try_parse_from([
            "cutover-agent",
            "--server",
            "http://127.0.0.1:1",
            "--name",
            "host-1",
            "--tags",
            "env=prod,role=web=1",
            "--root",
            "/tmp/x",
            "--kill-grace-ms",
            "100",
        ])
        .unwrap();
        let config = cli.into_config().unwrap();
        assert_eq!(config.tags[1], Tag { key: "role".into(), value: "web=1".into() });
        assert_eq!(config.max_revisions, 5);
        assert_eq!(config.poll_wait, Duration::from_secs(50));
        assert_eq!(config.kill_grace, Duration::from_millis(100));
        assert_eq!(config.heartbeat_interval, Duration::from_secs(5));
        assert_eq!(config.max_concurrent_commands, 16);
        let base = ["cutover-agent", "--server", "http://x", "--name", "n", "--root", "/r"];
        let fast = Cli::try_parse_from(base.iter().copied().chain(["--heartbeat-ms", "100"])).unwrap();
        assert_eq!(fast.into_config().unwrap().heartbeat_interval, Duration::from_millis(100));
        assert!(Cli::try_parse_from(base.iter().copied().chain(["--heartbeat-ms", "99"])).is_err());
        let too_fast = AgentConfig { heartbeat_interval: Duration::from_millis(10), ..config.clone() };
        assert!(too_fast.validate().is_err());
        let one = Cli::try_parse_from(base.iter().copied().chain(["--max-concurrent-commands", "1"])).unwrap();
        assert_eq!(one.into_config().unwrap().max_concurrent_commands, 1);
        assert!(Cli::try_parse_from(base.iter().copied().chain(["--max-concurrent-commands", "0"])).is_err());
        let none = AgentConfig { max_concurrent_commands: 0, ..config.clone() };
        assert!(none.validate().is_err());
        let zero = Cli::try_parse_from([
            "cutover-agent",
            "--server",
            "http://x",
            "--name",
            "n",
            "--root",
            "/r",
            "--max-revisions",
            "0",
        ]);
        assert!(zero.is_err());
        assert!(!config.extract_limits.allow_setuid);
        assert!(config.hook_env.is_empty());
        let setuid = Cli::try_parse_from(base.iter().copied().chain(["--allow-setuid"])).unwrap();
        assert!(setuid.into_config().unwrap().extract_limits.allow_setuid);
        // Only variables the agent has are passed on (PATH always exists; the other is unset).
        let pass = ["--hook-pass-env", "PATH,CUTOVER_SURELY_UNSET_VARIABLE"];
        let passed = Cli::try_parse_from(base.iter().copied().chain(pass)).unwrap().into_config().unwrap();
        assert_eq!(passed.hook_env, [("PATH".to_owned(), std::env::var("PATH").unwrap())]);
        let bad = Cli::try_parse_from(base.iter().copied().chain(["--hook-pass-env", "A=b"])).unwrap();
        assert!(bad.into_config().is_err());
        assert!(config.containers && config.docker_socket.is_none(), "the supervisor runs unless told not to");
        assert_eq!(config.container_publish_ip.to_string(), "127.0.0.1");
        let containers = ["--no-containers", "--docker-socket", "/run/d.sock", "--container-publish-ip", "10.0.0.7"];
        let off = Cli::try_parse_from(base.iter().copied().chain(containers)).unwrap().into_config().unwrap();
        assert!(!off.containers);
        assert_eq!(off.docker_socket.as_deref(), Some(std::path::Path::new("/run/d.sock")));
        assert_eq!(off.container_publish_ip.to_string(), "10.0.0.7");
        assert!(Cli::try_parse_from(base.iter().copied().chain(["--container-publish-ip", "host"])).is_err());
        assert!(parse_tags("novalue").is_err());
        assert!(parse_tags("").unwrap().is_empty());
    }
}
