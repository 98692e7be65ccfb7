//! The agent loop (`cutover_agent::run`) against a minimal in-process server speaking the agent protocol:
//! register, poll, download, complete with retries, no event run twice, crash recovery (the interrupted command
//! reported failed, the hook script it orphaned killed with its children, no OnFailure hook for it), graceful
//! shutdown and heartbeats while a command runs.

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
    queue: VecDeque<HostCommand>,
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
        self.state.lock().expect("state").queue.push_back(command);
        self.work.notify_waiters();
    }

    fn accepted(&self) -> Vec<CompleteRequest> {
        self.state.lock().expect("state").accepted.clone()
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
            let (status, response) = self.route(&path, &body).await;
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
                self.state.lock().expect("state").polls += 1;
                let deadline = tokio::time::Instant::now() + Duration::from_millis(request.wait_ms.min(300));
                loop {
                    let notified = self.work.notified();
                    tokio::pin!(notified);
                    notified.as_mut().enable();
                    if let Some(command) = self.state.lock().expect("state").queue.pop_front() {
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

fn config(url: &str, root: &Path) -> AgentConfig {
    AgentConfig {
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
async fn shutdown_finishes_the_running_command_and_reports_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("root");
    let started_marker = dir.path().join("started");
    let gate = dir.path().join("gate");
    let (server, url) = FakeServer::start().await;
    let appspec = "version: 0.0\nos: linux\nhooks:\n  ApplicationStart:\n    - location: slow.sh\n      timeout: 30\n";
    let script = format!(
        "touch {started}\nwhile [ ! -f {gate} ]; do sleep 0.02; done\necho finished",
        started = started_marker.display(),
        gate = gate.display()
    );
    let bytes = Bundle::new().file("appspec.yml", appspec, 0o644).script("slow.sh", &script).tgz();
    let sha = sha256_hex(&bytes);
    server.state.lock().expect("state").bundles.insert("/bundles/app.tgz".to_owned(), bytes);
    let (stop, agent) = start_agent(config(&url, &root));
    server.push(served_command("DownloadBundle", "d-3", &sha));
    server.push(served_command("ApplicationStart", "d-3", &sha));
    wait_for("the script to start", Duration::from_secs(20), || {
        let marker = started_marker.clone();
        async move { marker.exists().then_some(()) }
    })
    .await;
    // Shutdown while the script runs: the agent must not abandon it.
    stop.send(()).expect("stop");
    assert!(!agent.is_finished());
    std::fs::write(&gate, "").expect("gate");
    agent.await.expect("join").expect("agent");
    let accepted = server.accepted();
    let last = accepted.last().expect("a completion");
    assert_eq!(last.command_id, "d-3/host-1/ApplicationStart");
    assert_eq!(last.status, "Succeeded", "{:#?}", last.diagnostics);
    assert!(last.log.contains("[stdout]finished"));
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
