//! A load generator of simulated agents: light tokio tasks speaking the real agent protocol through
//! [`AgentClient`] (register, poll, complete). It is a simulation: a simulated agent runs nothing; it records when it
//! receives its first command and answers every command `Succeeded` at once.
//!
//! Two polling modes: **long poll** (`wait_ms` as the real agent sends, re-polling at once; the first poll of each
//! agent waits a random part of `wait_ms` so that the fleet's polls are spread evenly in time, as they are in a
//! fleet that has been running for a while), and **short poll** (`wait_ms: 0` every `period`, with a random phase).
//!
//! Agents share `AgentClient`s (`agents_per_client` each; a client is one reqwest connection pool).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use cutover_api_types::agent::{CompleteRequest, Diagnostics, HostCommand, PollRequest, RegisterRequest, Tag};
use cutover_client::Credentials;
use cutover_client::agent::{AgentClient, AgentClientError, POLL_MARGIN};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// How the simulated agents poll.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Mode {
    /// Long poll holding up to `wait_ms`, re-polling as soon as an answer arrives.
    Long { wait_ms: u64 },
    /// Poll with `wait_ms: 0` once every `period`.
    Short { period: Duration },
}

/// Counters shared by all simulated agents.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    /// Poll requests answered (with or without a command).
    pub(crate) polls: AtomicU64,
    pub(crate) poll_errors: AtomicU64,
    /// Completions acknowledged by the server.
    pub(crate) completes: AtomicU64,
    pub(crate) complete_errors: AtomicU64,
    /// Failed requests by operation and kind (`poll: HTTP 500`, `complete: transport`, …).
    errors: Mutex<BTreeMap<String, u64>>,
}

impl Counters {
    fn error(&self, operation: &str, error: &AgentClientError) {
        let kind = match error {
            AgentClientError::Rejected { status, .. } => format!("HTTP {status}"),
            AgentClientError::Transport { source, .. } if source.is_timeout() => "timeout".to_owned(),
            AgentClientError::Transport { .. } => "transport".to_owned(),
            AgentClientError::Decode { .. } => "decode".to_owned(),
            AgentClientError::InvalidUrl { .. } | AgentClientError::Io { .. } => "other".to_owned(),
        };
        let mut errors = self.errors.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        *errors.entry(format!("{operation}: {kind}")).or_default() += 1;
    }

    /// The failed requests by kind, e.g. `poll: timeout ×3, complete: HTTP 500 ×12`; `none` when there were none.
    pub(crate) fn error_summary(&self) -> String {
        let errors = self.errors.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if errors.is_empty() {
            return "none".to_owned();
        }
        errors.iter().map(|(kind, count)| format!("{kind} ×{count}")).collect::<Vec<_>>().join(", ")
    }
}

/// A random key for simulated agent `idx` (the process's random hasher seeds it: a benchmark needs no more).
fn sim_credentials(idx: usize) -> Credentials {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_usize(idx);
    let a = hasher.finish();
    hasher.write_u64(a);
    let b = hasher.finish();
    Credentials { access_key_id: format!("CUTASIM{idx:012}"), secret_access_key: format!("{a:016x}{b:016x}{idx:08x}") }
}

/// N simulated agents named `sim-00001`…, tagged `fleet=sim`.
pub(crate) struct Fleet {
    pub(crate) names: Vec<String>,
    clients: Vec<AgentClient>,
    agents_per_client: usize,
    /// Each simulated agent's own key (enrolled with `token`), as a real agent has.
    credentials: Vec<Credentials>,
    token: String,
    pub(crate) counters: Arc<Counters>,
    /// When each agent received its first command.
    pub(crate) first_command: Arc<Vec<OnceLock<Instant>>>,
    tasks: JoinSet<()>,
}

impl Fleet {
    pub(crate) fn new(endpoint: &str, n: usize, agents_per_client: usize, token: &str) -> anyhow::Result<Fleet> {
        let agents_per_client = agents_per_client.max(1);
        let clients =
            (0..n.div_ceil(agents_per_client)).map(|_| AgentClient::new(endpoint)).collect::<Result<Vec<_>, _>>()?;
        Ok(Fleet {
            names: (1..=n).map(|idx| format!("sim-{idx:05}")).collect(),
            clients,
            agents_per_client,
            credentials: (1..=n).map(sim_credentials).collect(),
            token: token.to_owned(),
            counters: Arc::default(),
            first_command: Arc::new((0..n).map(|_| OnceLock::new()).collect()),
            tasks: JoinSet::new(),
        })
    }

    pub(crate) fn client_count(&self) -> usize {
        self.clients.len()
    }

    /// The shared HTTP client of agent `idx`, signing with that agent's key.
    fn client(&self, idx: usize) -> AgentClient {
        self.clients[idx / self.agents_per_client].clone().with_credentials(self.credentials[idx].clone())
    }

    /// Registers every agent, `concurrency` at a time.
    pub(crate) async fn register(&self, concurrency: usize) -> anyhow::Result<()> {
        let permits = Arc::new(Semaphore::new(concurrency));
        let mut set = JoinSet::new();
        for (idx, name) in self.names.iter().enumerate() {
            let permit = permits.clone().acquire_owned().await?;
            let client = self.client(idx);
            let request = RegisterRequest {
                instance_name: name.clone(),
                tags: vec![Tag { key: "fleet".into(), value: "sim".into() }],
                agent_version: "cutover-bench-sim".into(),
                hostname: "bench".into(),
                enrollment_token: Some(self.token.clone()),
                access_key_id: Some(self.credentials[idx].access_key_id.clone()),
                secret_access_key: Some(self.credentials[idx].secret_access_key.clone()),
            };
            set.spawn(async move {
                let _permit = permit;
                let mut attempt = 0;
                loop {
                    match client.enroll(&request).await {
                        Ok(_) => return Ok(()),
                        Err(error) if error.is_retryable() && attempt < 10 => {
                            attempt += 1;
                            tokio::time::sleep(Duration::from_millis(200 * attempt)).await;
                        }
                        Err(error) => return Err(anyhow::anyhow!("register {}: {error}", request.instance_name)),
                    }
                }
            });
        }
        while let Some(result) = set.join_next().await {
            result??;
        }
        Ok(())
    }

    /// Stops every agent task (their open requests are dropped), then starts them all in `mode`.
    pub(crate) async fn start(&mut self, mode: Mode) {
        self.stop().await;
        for (idx, name) in self.names.iter().enumerate() {
            let agent = SimAgent {
                idx,
                name: name.clone(),
                client: self.client(idx),
                counters: self.counters.clone(),
                first_command: self.first_command.clone(),
            };
            let phase = splitmix(idx as u64);
            self.tasks.spawn(async move {
                match mode {
                    Mode::Long { wait_ms } => agent.long_poll(wait_ms, phase % wait_ms.max(1)).await,
                    Mode::Short { period } => {
                        let period_ms = period.as_millis().max(1) as u64;
                        agent.short_poll(period, Duration::from_millis(phase % period_ms)).await;
                    }
                }
            });
        }
    }

    /// Aborts every agent task.
    pub(crate) async fn stop(&mut self) {
        self.tasks.shutdown().await;
    }
}

struct SimAgent {
    idx: usize,
    name: String,
    client: AgentClient,
    counters: Arc<Counters>,
    first_command: Arc<Vec<OnceLock<Instant>>>,
}

impl SimAgent {
    async fn long_poll(&self, wait_ms: u64, first_wait_ms: u64) {
        let mut wait = first_wait_ms;
        loop {
            self.poll_once(wait).await;
            wait = wait_ms;
        }
    }

    async fn short_poll(&self, period: Duration, phase: Duration) {
        tokio::time::sleep(phase).await;
        let mut ticks = tokio::time::interval(period);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            self.poll_once(0).await;
        }
    }

    /// One poll; runs (answers) a command at once if one comes back.
    async fn poll_once(&self, wait_ms: u64) {
        let request = PollRequest { instance_name: self.name.clone(), wait_ms, ..PollRequest::default() };
        match self.client.poll(&request, Duration::from_millis(wait_ms) + POLL_MARGIN).await {
            Ok(response) => {
                self.counters.polls.fetch_add(1, Ordering::Relaxed);
                if let Some(command) = response.command {
                    let _ = self.first_command[self.idx].set(Instant::now());
                    self.complete(command).await;
                }
            }
            Err(error) => {
                self.counters.poll_errors.fetch_add(1, Ordering::Relaxed);
                self.counters.error("poll", &error);
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }

    /// Reports `Succeeded`, retrying like the real agent until the server answers.
    async fn complete(&self, command: HostCommand) {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_millis() as i64);
        let request = CompleteRequest {
            instance_name: self.name.clone(),
            command_id: command.command_id,
            status: "Succeeded".into(),
            diagnostics: Diagnostics { error_code: "Success".into(), ..Diagnostics::default() },
            start_time_ms: now,
            end_time_ms: now,
            log: String::new(),
        };
        let mut backoff = Duration::from_millis(50);
        loop {
            match self.client.complete(&request).await {
                Ok(_) => {
                    self.counters.completes.fetch_add(1, Ordering::Relaxed);
                    return;
                }
                Err(error) => {
                    self.counters.complete_errors.fetch_add(1, Ordering::Relaxed);
                    self.counters.error("complete", &error);
                    if !error.is_retryable() {
                        return;
                    }
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(2));
                }
            }
        }
    }
}

/// A well-mixed pseudo-random number from `seed` (splitmix64).
pub(crate) fn splitmix(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
