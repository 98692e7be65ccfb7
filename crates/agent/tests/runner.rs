//! The agent loop (`cutover_agent::run`) against a minimal in-process server speaking the agent protocol:
//! register, poll, download, complete with retries, no event run twice, crash recovery (every interrupted command
//! reported failed, the hook scripts they orphaned killed with their children, no OnFailure hook for them), graceful
//! shutdown, heartbeats while a command runs, and commands of different deployments running at the same time (polls
//! naming the running commands, the concurrency cap, a duplicated delivery never started twice).
//!
//! Like the real server, the fake one skips the commands a poll names as running, and every other command of their
//! deployments; hands out again a command whose answer was lost (handed out, never completed, not running); and
//! drops a poll the agent abandoned (closed its connection).

mod common;

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Bundle, KillOnDrop, command, is_gone, sha256_hex, wait_for};
use cutover_agent::AgentConfig;
use cutover_api_types::agent::{
    CompleteRequest, HeartbeatRequest, HeartbeatResponse, HostCommand, PollRequest, RegisterRequest,
};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, oneshot};

#[derive(Default)]
struct FakeState {
    /// Commands to hand out, each with whether to hand it out even while the agent runs it (a misbehaving server).
    queue: VecDeque<(HostCommand, bool)>,
    /// Handed out and not completed yet: handed out again to a poll that does not name them as running.
    handed_out: Vec<HostCommand>,
    /// Every poll request, in the order they arrived.
    poll_requests: Vec<PollRequest>,
    /// How many poll requests had arrived when the last forced command was handed out.
    forced_delivered_at: Option<usize>,
    registers: Vec<RegisterRequest>,
    /// Every completion attempt, including the ones answered 503.
    attempts: Vec<CompleteRequest>,
    /// Completions answered 200.
    accepted: Vec<CompleteRequest>,
    /// How many upcoming completions to refuse with 503.
    refuse_completes: usize,
    bundles: HashMap<String, Vec<u8>>,
    /// Polls received.
    polls: usize,
    /// Heartbeats received, with when they arrived.
    heartbeats: Vec<(Instant, HeartbeatRequest)>,
    /// What heartbeats are answered.
    command_active: bool,
}

#[derive(Clone, Default)]
struct FakeServer {
    state: Arc<Mutex<FakeState>>,
    work: Arc<Notify>,
}

impl FakeServer {
    async fn start() -> (Self, String) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let server = Self::default();
        let accepting = server.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let _ = stream.set_nodelay(true);
                tokio::spawn(accepting.clone().serve(stream));
            }
        });
        (server, url)
    }

    fn push(&self, command: HostCommand) {
        self.state.lock().expect("state").queue.push_back((command, false));
        self.work.notify_waiters();
    }

    /// Queues a command that is handed out even if the agent says it runs it.
    fn push_forced(&self, command: HostCommand) {
        self.state.lock().expect("state").queue.push_back((command, true));
        self.work.notify_waiters();
    }

    fn accepted(&self) -> Vec<CompleteRequest> {
        self.state.lock().expect("state").accepted.clone()
    }

    fn poll_requests(&self) -> Vec<PollRequest> {
        self.state.lock().expect("state").poll_requests.clone()
    }

    fn queued_ids(&self) -> Vec<String> {
        self.state.lock().expect("state").queue.iter().map(|(command, _)| command.command_id.clone()).collect()
    }

    async fn serve(self, stream: TcpStream) {
        let mut reader = BufReader::new(stream);
        loop {
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).await.unwrap_or(0) == 0 {
                return;
            }
            let mut length = 0usize;
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).await.unwrap_or(0) == 0 {
                    return;
                }
                let header = header.trim_end();
                if header.is_empty() {
                    break;
                }
                if let Some((name, value)) = header.split_once(':')
                    && name.eq_ignore_ascii_case("content-length")
                {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0u8; length];
            if reader.read_exact(&mut body).await.is_err() {
                return;
            }
            let path = request_line.split_whitespace().nth(1).unwrap_or("").to_owned();
            let (status, response) = tokio::select! {
                answer = self.route(&path, &body) => answer,
                // The agent abandoned the request (a poll it no longer wants): forget it, as a real server does.
                // An answer popped just before is not lost: it is handed out again (see `next_command`).
                _ = reader.fill_buf() => return,
            };
            // One write per response: a head and a body in two small writes meet Nagle and delayed ACKs (40 ms).
            let mut message = format!(
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                response.len()
            )
            .into_bytes();
            message.extend_from_slice(&response);
            if reader.get_mut().write_all(&message).await.is_err() {
                return;
            }
        }
    }

    async fn route(&self, path: &str, body: &[u8]) -> (&'static str, Vec<u8>) {
        match path {
            "/agent/v1/register" => {
                let request: RegisterRequest = serde_json::from_slice(body).expect("register");
                let name = request.instance_name.clone();
                self.state.lock().expect("state").registers.push(request);
                let response = serde_json::json!({"instance_name": name, "instance_arn": format!("arn:test:{name}")});
                ("200 OK", response.to_string().into_bytes())
            }
            "/agent/v1/poll" => {
                let request: PollRequest = serde_json::from_slice(body).expect("poll");
                {
                    let mut state = self.state.lock().expect("state");
                    state.polls += 1;
                    state.poll_requests.push(request.clone());
                }
                let deadline = tokio::time::Instant::now() + Duration::from_millis(request.wait_ms.min(300));
                loop {
                    let notified = self.work.notified();
                    tokio::pin!(notified);
                    notified.as_mut().enable();
                    if let Some(command) =
                        next_command(&mut self.state.lock().expect("state"), &request.running_command_ids)
                    {
                        return ("200 OK", serde_json::json!({ "command": command }).to_string().into_bytes());
                    }
                    tokio::select! {
                        () = &mut notified => {}
                        () = tokio::time::sleep_until(deadline) => return ("200 OK", b"{}".to_vec()),
                    }
                }
            }
            "/agent/v1/complete" => {
                let request: CompleteRequest = serde_json::from_slice(body).expect("complete");
                let mut state = self.state.lock().expect("state");
                state.attempts.push(request.clone());
                if state.refuse_completes > 0 {
                    state.refuse_completes -= 1;
                    let error = serde_json::json!({"code": "Unavailable", "message": "try again"});
                    return ("503 Service Unavailable", error.to_string().into_bytes());
                }
                state.handed_out.retain(|command| command.command_id != request.command_id);
                state.accepted.push(request);
                ("200 OK", br#"{"accepted":true}"#.to_vec())
            }
            "/agent/v1/heartbeat" => {
                let request: HeartbeatRequest = serde_json::from_slice(body).expect("heartbeat");
                let mut state = self.state.lock().expect("state");
                state.heartbeats.push((Instant::now(), request));
                let response = HeartbeatResponse { command_active: state.command_active };
                ("200 OK", serde_json::to_vec(&response).expect("json"))
            }
            other => match self.state.lock().expect("state").bundles.get(other) {
                Some(bytes) => ("200 OK", bytes.clone()),
                None => ("404 Not Found", br#"{"code":"NoSuchBundle","message":"no such bundle"}"#.to_vec()),
            },
        }
    }
}

/// The command to answer a poll with, given the commands the agent says it runs: a command handed out before whose
/// answer was lost first, else the first queued command, skipping (unless forced) running commands and every other
/// command of their deployments.
fn next_command(state: &mut FakeState, running: &[String]) -> Option<HostCommand> {
    let busy = |command: &HostCommand| {
        running.iter().any(|id| {
            *id == command.command_id || id.split('/').next() == Some(command.deployment.deployment_id.as_str())
        })
    };
    if let Some(lost) = state.handed_out.iter().find(|command| !busy(command)) {
        return Some(lost.clone());
    }
    let index = state.queue.iter().position(|(command, forced)| *forced || !busy(command))?;
    let (command, forced) = state.queue.remove(index)?;
    if forced {
        state.forced_delivered_at = Some(state.poll_requests.len());
    }
    if !state.handed_out.iter().any(|handed_out| handed_out.command_id == command.command_id) {
        state.handed_out.push(command.clone());
    }
    Some(command)
}

fn config(url: &str, root: &Path) -> AgentConfig {
    // The first start enrols with a join token; the fake server accepts any.
    let token = root.with_extension("enrollment-token");
    std::fs::create_dir_all(root.parent().expect("parent")).expect("parent dir");
    std::fs::write(&token, "cutover-enroll-v1.test.token\n").expect("token");
    AgentConfig {
        enrollment_token_file: Some(token),
        server_url: url.to_owned(),
        name: "host-1".to_owned(),
        tags: cutover_agent::config::parse_tags("env=test,role=web").expect("tags"),
        root: root.to_owned(),
        poll_wait: Duration::from_millis(300),
        kill_grace: Duration::from_millis(300),
        ..AgentConfig::default()
    }
}

/// Starts the agent; returns the shutdown trigger and its task.
fn start_agent(config: AgentConfig) -> (oneshot::Sender<()>, tokio::task::JoinHandle<anyhow::Result<()>>) {
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(cutover_agent::run(config, async move {
        let _ = stopped.await;
    }));
    (stop, task)
}

/// A command whose bundle is served by the fake server (a path relative to the server URL).
fn served_command(event: &str, deployment_id: &str, sha256: &str) -> HostCommand {
    command(event, deployment_id, Path::new("/bundles/app.tgz"), sha256, "tgz")
}

fn lines(path: &PathBuf) -> Vec<String> {
    std::fs::read_to_string(path).unwrap_or_default().lines().map(str::to_owned).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_run_once_are_reported_with_retries_and_dispatch_is_immediate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let evidence = dir.path().join("ran.log");
    let (server, url) = FakeServer::start().await;
    let appspec = "version: 0.0\nos: linux\nhooks:\n  BeforeInstall:\n    - location: record.sh\n      timeout: 30\n";
    let bytes = Bundle::new()
        .file("appspec.yml", appspec, 0o644)
        .script("record.sh", &format!("echo \"$LIFECYCLE_EVENT\" >> {}\necho recorded", evidence.display()))
        .tgz();
    let sha = sha256_hex(&bytes);
    server.state.lock().expect("state").bundles.insert("/bundles/app.tgz".to_owned(), bytes);
    server.state.lock().expect("state").refuse_completes = 2;
    let (stop, agent) = start_agent(config(&url, &dir.path().join("root")));

    let download = served_command("DownloadBundle", "d-1", &sha);
    let before_install = served_command("BeforeInstall", "d-1", &sha);
    server.push(download.clone());
    server.push(before_install.clone());
    // The same command handed out again (e.g. the answer to a poll was lost): re-reported, not re-run.
    server.push(before_install.clone());
    let accepted = wait_for("three completions", Duration::from_secs(20), || {
        let server = server.clone();
        async move { (server.accepted().len() >= 3).then(|| server.accepted()) }
    })
    .await;
    assert_eq!(accepted[0].command_id, download.command_id);
    assert_eq!(accepted[0].status, "Succeeded", "{:#?}", accepted[0].diagnostics);
    assert_eq!(accepted[1].command_id, before_install.command_id);
    assert_eq!(accepted[1].status, "Succeeded", "{:#?}", accepted[1].diagnostics);
    assert_eq!(accepted[1].diagnostics.error_code, "Success");
    assert!(accepted[1].log.contains("[stdout]recorded"), "{}", accepted[1].log);
    assert_eq!(accepted[2].command_id, before_install.command_id);
    assert_eq!(
        (accepted[2].start_time_ms, accepted[2].end_time_ms),
        (accepted[1].start_time_ms, accepted[1].end_time_ms)
    );
    assert_eq!(lines(&evidence), ["BeforeInstall"], "the event ran exactly once");
    {
        let state = server.state.lock().expect("state");
        assert_eq!(state.attempts.len(), 5, "two refused attempts were retried");
        assert_eq!(state.registers[0].tags.len(), 2);
        assert_eq!(state.registers[0].instance_name, "host-1");
        // The first registration is an enrolment: the token and the agent's own proposed key.
        assert_eq!(state.registers[0].enrollment_token.as_deref(), Some("cutover-enroll-v1.test.token"));
        assert!(state.registers[0].access_key_id.as_deref().is_some_and(|id| id.starts_with("CUTA")));
    }

    // Dispatch is immediate: ten no-op commands go through in well under a poll wait each.
    let started = Instant::now();
    for index in 0..10 {
        server.push(served_command(&format!("Noop{index}"), "d-2", &sha));
    }
    wait_for("ten more completions", Duration::from_secs(20), || {
        let server = server.clone();
        async move { (server.accepted().len() >= 13).then_some(()) }
    })
    .await;
    assert!(started.elapsed() < Duration::from_secs(1), "took {:?}", started.elapsed());

    stop.send(()).expect("stop");
    agent.await.expect("join").expect("agent");
    let root = dir.path().join("root");
    assert_eq!(std::fs::read_dir(root.join("ongoing-deployment")).expect("ongoing").count(), 0);
    assert_eq!(std::fs::read_dir(root.join(".cutover/commands")).expect("store").count(), 12);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_command_is_reported_failed_after_a_restart_and_never_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("root");
    let (server, url) = FakeServer::start().await;
    // What a crash mid-command leaves behind.
    std::fs::create_dir_all(root.join("ongoing-deployment")).expect("mkdir");
    std::fs::write(root.join("ongoing-deployment/d-crash"), "d-crash/host-1/AfterInstall").expect("tracking");
    let (stop, agent) = start_agent(config(&url, &root));

    let first = wait_for("the recovery report", Duration::from_secs(20), || {
        let server = server.clone();
        async move { server.accepted().first().cloned() }
    })
    .await;
    assert_eq!(first.command_id, "d-crash/host-1/AfterInstall");
    assert_eq!(first.status, "Failed");
    assert_eq!(first.diagnostics.error_code, "UnknownError");
    assert_eq!(first.diagnostics.message, "Failed: Failing in-progress lifecycle event after an agent restart.");
    assert_eq!(std::fs::read_dir(root.join("ongoing-deployment")).expect("ongoing").count(), 0);

    // The server hands the interrupted command out again: the stored failure is re-sent, the event does not run.
    let mut again = served_command("AfterInstall", "d-crash", &"0".repeat(64));
    again.command_id = "d-crash/host-1/AfterInstall".to_owned();
    server.push(again);
    let second = wait_for("the re-report", Duration::from_secs(20), || {
        let server = server.clone();
        async move { server.accepted().get(1).cloned() }
    })
    .await;
    assert_eq!(second.command_id, first.command_id);
    assert_eq!(second.diagnostics, first.diagnostics);
    assert!(!root.join(common::GROUP_ID).exists(), "nothing ran for the interrupted command");

    stop.send(()).expect("stop");
    agent.await.expect("join").expect("agent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_agent_kills_the_hook_its_crash_orphaned_with_its_children_then_reports_the_event_failed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("root");
    let pids = dir.path().join("pids");
    let (server, url) = FakeServer::start().await;
    let on_failure_ran = dir.path().join("on-failure-ran");
    let appspec = "version: 0.0\nos: linux\nhooks:\n  AfterInstall:\n    - location: hang.sh\n      timeout: 300\n  \
                   OnFailure:\n    - location: on-failure.sh\n      timeout: 30\n";
    // Everything ignores SIGTERM (ignored signals are inherited across fork and exec), so the restarted agent has
    // to go on to SIGKILL. The `sh -c` exits at once: its `sleep` is orphaned, linked to the script by its group only.
    let script = format!(
        "trap '' TERM\necho $$ >> {pids}\nsleep 300 &\necho $! >> {pids}\nsh -c 'sleep 300 & echo $! >> {pids}'\n\
         sleep 300",
        pids = pids.display()
    );
    let bytes = Bundle::new()
        .file("appspec.yml", appspec, 0o644)
        .script("hang.sh", &script)
        .script("on-failure.sh", &format!("touch {}", on_failure_ran.display()))
        .tgz();
    let sha = sha256_hex(&bytes);
    server.state.lock().expect("state").bundles.insert("/bundles/app.tgz".to_owned(), bytes);
    let (_stop, agent) = start_agent(config(&url, &root));
    server.push(served_command("DownloadBundle", "d-orphan", &sha));
    let running = served_command("AfterInstall", "d-orphan", &sha);
    server.push(running.clone());
    let recorded: Vec<i32> = wait_for("the script and its two children to start", Duration::from_secs(20), || {
        let pids = pids.clone();
        async move {
            let recorded: Vec<i32> = lines(&pids).iter().filter_map(|line| line.trim().parse().ok()).collect();
            (recorded.len() == 3).then_some(recorded)
        }
    })
    .await;
    let _cleanup = KillOnDrop(recorded.clone());
    let tracking_file = root.join("ongoing-deployment/d-orphan");
    wait_for("the tracking file to name the running script", Duration::from_secs(20), || {
        let tracking_file = tracking_file.clone();
        let script_pid = recorded[0];
        async move {
            let text = std::fs::read_to_string(&tracking_file).unwrap_or_default();
            text.lines().any(|line| line.starts_with(&format!("script {script_pid} "))).then_some(())
        }
    })
    .await;

    // The crash: the agent vanishes without any cleanup; the script and its children keep running.
    agent.abort();
    assert!(agent.await.expect_err("aborted").is_cancelled());
    assert!(tracking_file.exists());
    assert!(recorded.iter().all(|pid| !is_gone(*pid)), "the hook outlived the agent");
    // Started after the script, but not by it: the restarted agent must leave it alone.
    let mut bystander = std::process::Command::new("sleep").arg("300").spawn().expect("spawn sleep");
    let _bystander = KillOnDrop(vec![bystander.id() as i32]);

    let (stop, agent) = start_agent(config(&url, &root));
    let report = wait_for("the interrupted command's report", Duration::from_secs(20), || {
        let server = server.clone();
        let command_id = running.command_id.clone();
        async move { server.accepted().into_iter().find(|c| c.command_id == command_id) }
    })
    .await;
    assert_eq!(report.status, "Failed");
    assert_eq!(report.diagnostics.error_code, "UnknownError");
    assert_eq!(report.diagnostics.message, "Failed: Failing in-progress lifecycle event after an agent restart.");
    wait_for("the orphaned script and its children to be gone", Duration::from_secs(10), || {
        let recorded = recorded.clone();
        async move { recorded.iter().all(|pid| is_gone(*pid)).then_some(()) }
    })
    .await;
    assert!(bystander.try_wait().expect("try_wait").is_none(), "an unrelated process was killed");
    bystander.kill().expect("kill sleep");
    bystander.wait().expect("reap sleep");
    assert!(!tracking_file.exists());
    // The failure was recovered after a restart, not run: no OnFailure hook for it.
    assert!(!on_failure_ran.exists(), "OnFailure ran for a restart-recovered failure");

    stop.send(()).expect("stop");
    agent.await.expect("join").expect("agent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_stops_polling_and_finishes_every_running_command_and_reports_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("root");
    let gate = dir.path().join("gate");
    let (server, url) = FakeServer::start().await;
    let appspec = "version: 0.0\nos: linux\nhooks:\n  ApplicationStart:\n    - location: slow.sh\n      timeout: 30\n";
    let script = format!(
        "touch {dir}/started-$DEPLOYMENT_ID\n{wait}\necho finished",
        dir = dir.path().display(),
        wait = await_file(&gate.display().to_string())
    );
    let bytes = Bundle::new().file("appspec.yml", appspec, 0o644).script("slow.sh", &script).tgz();
    let sha = sha256_hex(&bytes);
    server.state.lock().expect("state").bundles.insert("/bundles/app.tgz".to_owned(), bytes);
    let (stop, agent) = start_agent(config(&url, &root));
    let deployments = ["d-3", "d-4"];
    for deployment in deployments {
        server.push(deployment_command("DownloadBundle", deployment, &sha));
        server.push(deployment_command("ApplicationStart", deployment, &sha));
    }
    wait_for("both scripts to start", Duration::from_secs(20), || {
        let dir = dir.path().to_owned();
        async move { deployments.iter().all(|d| dir.join(format!("started-{d}")).exists()).then_some(()) }
    })
    .await;
    // Shutdown while the scripts run: the agent must not abandon them.
    stop.send(()).expect("stop");
    assert!(!agent.is_finished());
    std::fs::write(&gate, "").expect("gate");
    agent.await.expect("join").expect("agent");
    let accepted = server.accepted();
    for deployment in deployments {
        let command_id = format!("{deployment}/host-1/ApplicationStart");
        let completion = accepted.iter().find(|c| c.command_id == command_id).expect("a completion");
        assert_eq!(completion.status, "Succeeded", "{:#?}", completion.diagnostics);
        assert!(completion.log.contains("[stdout]finished"));
    }
    assert_eq!(std::fs::read_dir(root.join("ongoing-deployment")).expect("ongoing").count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeats_are_sent_at_the_configured_rate_while_a_command_runs_and_never_when_idle() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("root");
    let started_marker = dir.path().join("started");
    let gate = dir.path().join("gate");
    let (server, url) = FakeServer::start().await;
    let appspec = "version: 0.0\nos: linux\nhooks:\n  ApplicationStart:\n    - location: slow.sh\n      timeout: 60\n";
    let script = format!(
        "touch {started}\nwhile [ ! -f {gate} ]; do sleep 0.02; done\necho finished",
        started = started_marker.display(),
        gate = gate.display()
    );
    let bytes = Bundle::new().file("appspec.yml", appspec, 0o644).script("slow.sh", &script).tgz();
    let sha = sha256_hex(&bytes);
    server.state.lock().expect("state").bundles.insert("/bundles/app.tgz".to_owned(), bytes);
    // The server says it no longer expects the result (as after a stop): the script must still run to its end.
    server.state.lock().expect("state").command_active = false;
    let interval = Duration::from_millis(100);
    let (stop, agent) = start_agent(AgentConfig { heartbeat_interval: interval, ..config(&url, &root) });
    let polls = |server: &FakeServer| server.state.lock().expect("state").polls;
    let heartbeats = |server: &FakeServer| server.state.lock().expect("state").heartbeats.clone();

    // Idle: polls keep the agent alive, no heartbeats (each empty poll is held 300 ms, three intervals).
    wait_for("three idle polls", Duration::from_secs(20), || {
        let server = server.clone();
        async move { (polls(&server) >= 3).then_some(()) }
    })
    .await;
    assert!(heartbeats(&server).is_empty(), "heartbeats while idle: {}", heartbeats(&server).len());

    server.push(served_command("DownloadBundle", "d-hb", &sha));
    let running = served_command("ApplicationStart", "d-hb", &sha);
    server.push(running.clone());
    wait_for("the script to start", Duration::from_secs(20), || {
        let marker = started_marker.clone();
        async move { marker.exists().then_some(()) }
    })
    .await;
    let during = wait_for("six heartbeats while the script runs", Duration::from_secs(20), || {
        let server = server.clone();
        let command_id = running.command_id.clone();
        async move {
            let beats: Vec<(Instant, HeartbeatRequest)> = heartbeats(&server)
                .into_iter()
                .filter(|(_, beat)| beat.command_id.as_deref() == Some(command_id.as_str()))
                .collect();
            (beats.len() >= 6).then_some(beats)
        }
    })
    .await;
    assert!(during.iter().all(|(_, beat)| beat.instance_name == "host-1"));
    // Five intervals between the first and the sixth beat: neither faster than configured (allowing for jitter in
    // when requests arrive) nor much slower.
    let span = during[5].0 - during[0].0;
    assert!(span >= interval * 5 - Duration::from_millis(150), "six heartbeats within {span:?}");
    assert!(span <= interval * 5 + Duration::from_secs(2), "six heartbeats took {span:?}");

    std::fs::write(&gate, "").expect("gate");
    let completed = wait_for("the script's completion", Duration::from_secs(20), || {
        let server = server.clone();
        let command_id = running.command_id.clone();
        async move { server.accepted().into_iter().find(|c| c.command_id == command_id) }
    })
    .await;
    assert_eq!(completed.status, "Succeeded", "{:#?}", completed.diagnostics);
    assert!(completed.log.contains("[stdout]finished"), "command_active: false must not kill the script");

    // Idle again: once the agent polls, no more heartbeats while three more polls are held.
    let after = polls(&server);
    wait_for("the agent to poll again", Duration::from_secs(20), || {
        let server = server.clone();
        async move { (polls(&server) > after).then_some(()) }
    })
    .await;
    let count = heartbeats(&server).len();
    let after = polls(&server);
    wait_for("three more idle polls", Duration::from_secs(20), || {
        let server = server.clone();
        async move { (polls(&server) >= after + 3).then_some(()) }
    })
    .await;
    assert_eq!(heartbeats(&server).len(), count, "heartbeats while idle");

    stop.send(()).expect("stop");
    agent.await.expect("join").expect("agent");
}

/// `event` of deployment `deployment_id`, which has a deployment group of its own (`dg-<deployment id>`); its bundle
/// is served at `/bundles/app.tgz`.
fn deployment_command(event: &str, deployment_id: &str, sha256: &str) -> HostCommand {
    let mut command = served_command(event, deployment_id, sha256);
    command.deployment.deployment_group_id = format!("dg-{deployment_id}");
    command.deployment.application_name = format!("app-{deployment_id}");
    command
}

/// Serves a bundle whose BeforeInstall hook is `body` (timeout 60 s); returns its SHA-256.
fn serve_before_install(server: &FakeServer, body: &str) -> String {
    let appspec = "version: 0.0\nos: linux\nhooks:\n  BeforeInstall:\n    - location: hook.sh\n      timeout: 60\n";
    let bytes = Bundle::new().file("appspec.yml", appspec, 0o644).script("hook.sh", body).tgz();
    let sha = sha256_hex(&bytes);
    server.state.lock().expect("state").bundles.insert("/bundles/app.tgz".to_owned(), bytes);
    sha
}

/// Shell lines that wait until `path` exists; after 30 s they give up (exit 1), so that a failing test leaves no
/// script behind.
fn await_file(path: &str) -> String {
    format!(
        "n=0\nwhile [ ! -e \"{path}\" ]; do n=$((n + 1)); if [ $n -gt 1500 ]; then echo gave up; exit 1; fi; \
         sleep 0.02; done"
    )
}

/// Waits until `count` completions were accepted; returns them.
async fn completions(server: &FakeServer, count: usize) -> Vec<CompleteRequest> {
    wait_for(&format!("{count} completions"), Duration::from_secs(40), || {
        let server = server.clone();
        async move { (server.accepted().len() >= count).then(|| server.accepted()) }
    })
    .await
}

fn completion_of<'a>(accepted: &'a [CompleteRequest], command: &HostCommand) -> &'a CompleteRequest {
    accepted.iter().find(|c| c.command_id == command.command_id).expect("a completion of the command")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_of_different_deployments_run_at_the_same_time_and_polls_name_the_running_ones() {
    let dir = tempfile::tempdir().expect("tempdir");
    let markers = dir.path().join("markers");
    std::fs::create_dir_all(&markers).expect("markers");
    let (server, url) = FakeServer::start().await;
    // Each hook waits for the other deployment's marker: run one after the other, they would both time out.
    let hook = format!(
        "case \"$DEPLOYMENT_ID\" in d-a) other=d-b ;; *) other=d-a ;; esac\ntouch \"{m}/$DEPLOYMENT_ID\"\n{wait}\n\
         echo \"saw $other\"",
        m = markers.display(),
        wait = await_file(&format!("{}/$other", markers.display()))
    );
    let sha = serve_before_install(&server, &hook);
    let (stop, agent) = start_agent(config(&url, &dir.path().join("root")));
    server.push(deployment_command("DownloadBundle", "d-a", &sha));
    server.push(deployment_command("DownloadBundle", "d-b", &sha));
    completions(&server, 2).await;

    let polls_before = server.poll_requests().len();
    let (a, b) = (deployment_command("BeforeInstall", "d-a", &sha), deployment_command("BeforeInstall", "d-b", &sha));
    server.push(a.clone());
    server.push(b.clone());
    let accepted = completions(&server, 4).await;
    for (command, other) in [(&a, "d-b"), (&b, "d-a")] {
        let completion = completion_of(&accepted, command);
        assert_eq!(completion.status, "Succeeded", "{:#?}", completion.diagnostics);
        assert!(completion.log.contains(&format!("[stdout]saw {other}")), "{}", completion.log);
    }
    // The BeforeInstall commands each poll names as running (a DownloadBundle may still be named by a poll sent
    // before its report was answered).
    let hooks = |request: &PollRequest| -> Vec<String> {
        let hooks = request.running_command_ids.iter().filter(|id| **id == a.command_id || **id == b.command_id);
        hooks.cloned().collect()
    };
    let requests: Vec<Vec<String>> = server.poll_requests()[polls_before..].iter().map(hooks).collect();
    // The poll after the first command was received names it; a later one names both.
    let first = requests.iter().find(|running| !running.is_empty()).expect("a poll naming a running command");
    assert!(*first == [a.command_id.as_str()] || *first == [b.command_id.as_str()], "{requests:?}");
    assert!(requests.contains(&vec![a.command_id.clone(), b.command_id.clone()]), "no poll named both: {requests:?}");

    stop.send(()).expect("stop");
    agent.await.expect("join").expect("agent");
    let root = dir.path().join("root");
    assert_eq!(std::fs::read_dir(root.join("ongoing-deployment")).expect("ongoing").count(), 0);
    let deployments_log = std::fs::read_to_string(root.join("deployment-logs/codedeploy-agent-deployments.log"))
        .expect("deployments log");
    for other in ["d-a", "d-b"] {
        assert!(deployments_log.contains(&format!("[stdout]saw {other}\n")), "{deployments_log}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_cap_of_one_command_the_agent_runs_commands_one_after_another_and_polls_only_when_idle() {
    let dir = tempfile::tempdir().expect("tempdir");
    let evidence = dir.path().join("ran.log");
    let (server, url) = FakeServer::start().await;
    // No cross dependency: each hook waits for a gate of its own, which the test opens.
    let hook = format!(
        "echo \"start $DEPLOYMENT_ID\" >> {log}\n{wait}\necho \"end $DEPLOYMENT_ID\" >> {log}",
        log = evidence.display(),
        wait = await_file(&format!("{}/gate-$DEPLOYMENT_ID", dir.path().display()))
    );
    let sha = serve_before_install(&server, &hook);
    let (stop, agent) =
        start_agent(AgentConfig { max_concurrent_commands: 1, ..config(&url, &dir.path().join("root")) });
    server.push(deployment_command("DownloadBundle", "d-a", &sha));
    server.push(deployment_command("DownloadBundle", "d-b", &sha));
    completions(&server, 2).await;
    let (a, b) = (deployment_command("BeforeInstall", "d-a", &sha), deployment_command("BeforeInstall", "d-b", &sha));
    server.push(a.clone());
    server.push(b.clone());

    let started = |count: usize| {
        let evidence = evidence.clone();
        async move {
            let started: Vec<String> =
                lines(&evidence).iter().filter_map(|line| line.strip_prefix("start ").map(str::to_owned)).collect();
            (started.len() >= count).then_some(started)
        }
    };
    let first = wait_for("the first hook to start", Duration::from_secs(20), || started(1)).await.remove(0);
    let (first_command, second_command) = if first == "d-a" { (&a, &b) } else { (&b, &a) };
    // At the cap, the agent does not poll: the other command is still waiting on the server.
    assert_eq!(server.queued_ids(), [second_command.command_id.as_str()]);
    std::fs::write(dir.path().join(format!("gate-{first}")), "").expect("gate");
    let second = wait_for("the second hook to start", Duration::from_secs(20), || started(2)).await.remove(1);
    assert_eq!(second, second_command.deployment.deployment_id);
    std::fs::write(dir.path().join(format!("gate-{second}")), "").expect("gate");
    let accepted = completions(&server, 4).await;
    for command in [first_command, second_command] {
        assert_eq!(completion_of(&accepted, command).status, "Succeeded");
    }
    assert_eq!(
        lines(&evidence),
        [format!("start {first}"), format!("end {first}"), format!("start {second}"), format!("end {second}")]
    );
    let requests = server.poll_requests();
    assert!(requests.iter().all(|request| request.running_command_ids.is_empty()), "polled while at the cap");

    stop.send(()).expect("stop");
    agent.await.expect("join").expect("agent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_handed_out_again_while_it_runs_is_not_started_twice() {
    let dir = tempfile::tempdir().expect("tempdir");
    let evidence = dir.path().join("ran.log");
    let gate = dir.path().join("gate");
    let (server, url) = FakeServer::start().await;
    let hook =
        format!("echo \"$LIFECYCLE_EVENT\" >> {}\n{}", evidence.display(), await_file(&gate.display().to_string()));
    let sha = serve_before_install(&server, &hook);
    let (stop, agent) = start_agent(config(&url, &dir.path().join("root")));
    server.push(deployment_command("DownloadBundle", "d-dup", &sha));
    completions(&server, 1).await;
    let running = deployment_command("BeforeInstall", "d-dup", &sha);
    server.push(running.clone());
    wait_for("the hook to start", Duration::from_secs(20), || {
        let evidence = evidence.clone();
        async move { (!lines(&evidence).is_empty()).then_some(()) }
    })
    .await;

    // A server that ignores `running_command_ids` hands the running command out again.
    server.push_forced(running.clone());
    let next_poll = wait_for("the agent to poll again after the duplicate", Duration::from_secs(20), || {
        let server = server.clone();
        async move {
            let state = server.state.lock().expect("state");
            let delivered_at = state.forced_delivered_at?;
            state.poll_requests.get(delivered_at).cloned()
        }
    })
    .await;
    assert_eq!(next_poll.running_command_ids, [running.command_id.as_str()]);
    std::fs::write(&gate, "").expect("gate");
    completions(&server, 2).await;
    // Shutdown waits for every running command: a second run would have reported by then.
    stop.send(()).expect("stop");
    agent.await.expect("join").expect("agent");
    let reports: Vec<CompleteRequest> =
        server.accepted().into_iter().filter(|c| c.command_id == running.command_id).collect();
    assert_eq!(reports.len(), 1, "{reports:#?}");
    assert_eq!(reports[0].status, "Succeeded", "{:#?}", reports[0].diagnostics);
    assert_eq!(lines(&evidence), ["BeforeInstall"], "the event ran exactly once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_agent_kills_and_reports_every_interrupted_command() {
    use std::os::unix::process::CommandExt;

    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("root");
    let (server, url) = FakeServer::start().await;
    std::fs::create_dir_all(root.join("ongoing-deployment")).expect("mkdir");
    let boot_id = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").expect("boot id");
    // What a crash while two deployments ran hooks leaves behind: two scripts (each with a child), two tracking files.
    let mut scripts = Vec::new();
    let mut pids = Vec::new();
    for deployment in ["d-x", "d-y"] {
        let child_pid_file = dir.path().join(format!("{deployment}.child"));
        let script = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("sleep 300 & echo $! > {}; wait", child_pid_file.display()))
            .process_group(0)
            .spawn()
            .expect("spawn");
        let pid = script.id() as i32;
        let child: i32 = wait_for("the script's child", Duration::from_secs(10), || {
            let file = child_pid_file.clone();
            async move { std::fs::read_to_string(&file).ok().and_then(|text| text.trim().parse().ok()) }
        })
        .await;
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
        let start_time = stat[stat.rfind(')').expect(")") + 1..].split_whitespace().nth(19).expect("starttime");
        std::fs::write(
            root.join("ongoing-deployment").join(deployment),
            format!("{deployment}/host-1/AfterInstall\nscript {pid} {start_time} {}\n", boot_id.trim()),
        )
        .expect("tracking");
        pids.extend([pid, child]);
        scripts.push(script);
    }
    let _cleanup = KillOnDrop(pids.clone());

    let (stop, agent) = start_agent(config(&url, &root));
    let accepted = completions(&server, 2).await;
    let mut reported: Vec<&str> = accepted.iter().map(|c| c.command_id.as_str()).collect();
    reported.sort();
    assert_eq!(reported, ["d-x/host-1/AfterInstall", "d-y/host-1/AfterInstall"]);
    for completion in &accepted {
        assert_eq!(completion.status, "Failed");
        assert_eq!(
            completion.diagnostics.message,
            "Failed: Failing in-progress lifecycle event after an agent restart."
        );
    }
    wait_for("both orphaned scripts and their children to be gone", Duration::from_secs(10), || {
        let pids = pids.clone();
        async move { pids.iter().all(|pid| is_gone(*pid)).then_some(()) }
    })
    .await;
    for mut script in scripts {
        script.wait().expect("reap");
    }
    assert_eq!(std::fs::read_dir(root.join("ongoing-deployment")).expect("ongoing").count(), 0);

    stop.send(()).expect("stop");
    agent.await.expect("join").expect("agent");
}
