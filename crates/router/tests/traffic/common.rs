//! Real parts for the traffic tests: small HTTP upstreams in this process, the `cutover-router` binary and HAProxy
//! as child processes, each in a temp dir.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use cutover_harness::load::LoadLoop;
use cutover_harness::wait_for;
use cutover_router::{Member, MemberState, MemberStatus, RouterConfig, TrafficController};
use http_body_util::Full;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::sync::watch;

pub(crate) const WAIT: Duration = Duration::from_secs(20);
pub(crate) const TOKEN: &str = "test-control-token-0123456789";

struct UpstreamState {
    name: String,
    healthy: AtomicBool,
    /// Requests other than health checks and /slow.
    hits: AtomicU64,
    slow_started: AtomicU64,
    release: watch::Sender<bool>,
}

/// An HTTP server answering its name: `/health` is 200 while healthy (503 otherwise), `/slow` waits for
/// [`Upstream::release_slow`], anything else answers at once.
pub(crate) struct Upstream {
    pub(crate) name: String,
    pub(crate) addr: SocketAddr,
    state: Arc<UpstreamState>,
    listener: Mutex<Option<tokio::task::JoinHandle<()>>>,
    connections: Arc<Mutex<tokio::task::JoinSet<()>>>,
}

impl Upstream {
    pub(crate) async fn start(name: &str) -> Upstream {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind upstream");
        let addr = listener.local_addr().expect("upstream addr");
        let state = Arc::new(UpstreamState {
            name: name.to_owned(),
            healthy: AtomicBool::new(true),
            hits: AtomicU64::new(0),
            slow_started: AtomicU64::new(0),
            release: watch::channel(false).0,
        });
        let connections = Arc::new(Mutex::new(tokio::task::JoinSet::new()));
        let (served, tasks) = (state.clone(), connections.clone());
        let listener = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { continue };
                let state = served.clone();
                tasks.lock().unwrap().spawn(async move {
                    let service = hyper::service::service_fn(move |request| answer(state.clone(), request));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Upstream { name: name.to_owned(), addr, state, listener: Mutex::new(Some(listener)), connections }
    }

    pub(crate) fn set_healthy(&self, healthy: bool) {
        self.state.healthy.store(healthy, Ordering::SeqCst);
    }

    pub(crate) fn hits(&self) -> u64 {
        self.state.hits.load(Ordering::SeqCst)
    }

    pub(crate) fn slow_started(&self) -> u64 {
        self.state.slow_started.load(Ordering::SeqCst)
    }

    /// Lets every `/slow` request (waiting or future) answer.
    pub(crate) fn release_slow(&self) {
        self.state.release.send_replace(true);
    }

    /// As if the process died: the listener and every connection close at once.
    pub(crate) async fn kill(&self) {
        let listener = self.listener.lock().unwrap().take();
        if let Some(listener) = listener {
            listener.abort();
            let _ = listener.await;
        }
        let mut connections = std::mem::take(&mut *self.connections.lock().unwrap());
        connections.shutdown().await;
    }

    pub(crate) fn member(&self, weight: u32, state: MemberState) -> Member {
        Member { id: self.name.clone(), address: self.addr.to_string(), weight, state }
    }
}

async fn answer(
    state: Arc<UpstreamState>,
    request: Request<hyper::body::Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (status, body) = match request.uri().path() {
        "/health" if state.healthy.load(Ordering::SeqCst) => (StatusCode::OK, "ok".to_owned()),
        "/health" => (StatusCode::SERVICE_UNAVAILABLE, "unhealthy".to_owned()),
        "/slow" => {
            state.slow_started.fetch_add(1, Ordering::SeqCst);
            let mut release = state.release.subscribe();
            let _ = release.wait_for(|released| *released).await.map(|_| ());
            (StatusCode::OK, state.name.clone())
        }
        _ => {
            state.hits.fetch_add(1, Ordering::SeqCst);
            (StatusCode::OK, state.name.clone())
        }
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    Ok(response)
}

/// A running `cutover-router` process.
pub(crate) struct Router {
    child: Child,
    pub(crate) dir: tempfile::TempDir,
    pub(crate) control_url: String,
    pub(crate) pools: BTreeMap<String, SocketAddr>,
}

impl Router {
    /// A router with the given pools, health-checked every 50 ms on `/health` (2 passes up, 2 failures down).
    pub(crate) async fn start(pools: &[&str]) -> Router {
        let mut config = format!("[control]\nlisten = \"127.0.0.1:0\"\ntoken = \"{TOKEN}\"\n");
        for pool in pools {
            config.push_str(&format!(
                "[[pool]]\nname = \"{pool}\"\nlisten = \"127.0.0.1:0\"\n[pool.health_check]\npath = \"/health\"\n\
                 interval_ms = 50\ntimeout_ms = 1000\nhealthy_threshold = 2\nunhealthy_threshold = 2\n"
            ));
        }
        Router::with_config(&config, "http").await
    }

    pub(crate) async fn with_config(config: &str, scheme: &str) -> Router {
        let dir = tempfile::tempdir().expect("temp dir");
        let config_path = dir.path().join("router.toml");
        std::fs::write(&config_path, config).expect("write router.toml");
        let ready_path = dir.path().join("ready.json");
        let log = std::fs::File::create(dir.path().join("router.log")).expect("router log");
        let mut child = Command::new(env!("CARGO_BIN_EXE_cutover-router"))
            .arg("--config")
            .arg(&config_path)
            .arg("--ready-file")
            .arg(&ready_path)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start cutover-router");
        let log_path = dir.path().join("router.log");
        let ready: serde_json::Value = wait_for("the router's ready file", WAIT, || {
            let exited = child.try_wait().expect("router status");
            assert!(
                exited.is_none(),
                "cutover-router exited: {}",
                std::fs::read_to_string(&log_path).unwrap_or_default()
            );
            let text = std::fs::read_to_string(&ready_path).ok();
            async move { text.and_then(|text| serde_json::from_str(&text).ok()) }
        })
        .await;
        let control = ready["control"].as_str().expect("control address");
        let pools = serde_json::from_value(ready["pools"].clone()).expect("pool addresses");
        Router { child, dir, control_url: format!("{scheme}://{control}"), pools }
    }

    pub(crate) fn pool_url(&self, pool: &str, path: &str) -> String {
        format!("http://{}{path}", self.pools[pool])
    }

    pub(crate) fn driver(&self) -> Arc<dyn TrafficController> {
        cutover_router::connect(&RouterConfig::Builtin {
            control_url: self.control_url.clone(),
            token: Some(TOKEN.into()),
            token_file: None,
            ca_file: None,
        })
        .expect("driver")
    }

    pub(crate) fn pid(&self) -> nix::unistd::Pid {
        nix::unistd::Pid::from_raw(self.child.id() as i32)
    }

    /// Waits for the process to exit and returns its status.
    pub(crate) async fn exited(&mut self) -> std::process::ExitStatus {
        let child = &mut self.child;
        wait_for("cutover-router to exit", WAIT, || {
            let status = child.try_wait().expect("router status");
            async move { status }
        })
        .await
    }

    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("router.log")).unwrap_or_default()
    }
}

impl Drop for Router {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A running HAProxy with one frontend and backend `web`, whose servers are declared but disabled.
pub(crate) struct Haproxy {
    child: Child,
    pub(crate) dir: tempfile::TempDir,
    pub(crate) socket: PathBuf,
    pub(crate) url: String,
}

impl Haproxy {
    pub(crate) async fn start(servers: &[&str]) -> Haproxy {
        let dir = tempfile::tempdir().expect("temp dir");
        let socket = dir.path().join("admin.sock");
        // HAProxy binds by itself: take a free port and release it (the one race accepted, for HAProxy only).
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut config = format!(
            "global\n    stats socket {} mode 600 level admin\n\
             defaults\n    mode http\n    timeout connect 1s\n    timeout client 30s\n    timeout server 30s\n\
             frontend web\n    bind 127.0.0.1:{port}\n    default_backend web\n\
             backend web\n    balance roundrobin\n    option httpchk GET /health\n\
             \x20   default-server inter 100 rise 2 fall 2\n",
            socket.display()
        );
        for server in servers {
            config.push_str(&format!("    server {server} 0.0.0.0:0 disabled check\n"));
        }
        let config_path = dir.path().join("haproxy.cfg");
        std::fs::write(&config_path, config).expect("write haproxy.cfg");
        let log = std::fs::File::create(dir.path().join("haproxy.log")).expect("haproxy log");
        let child = Command::new("/usr/sbin/haproxy")
            .arg("-db")
            .arg("-f")
            .arg(&config_path)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start /usr/sbin/haproxy (Debian package haproxy)");
        let haproxy = Haproxy { child, dir, socket, url: format!("http://127.0.0.1:{port}") };
        let driver = haproxy.driver();
        wait_for("HAProxy's stats socket", WAIT, || {
            let driver = driver.clone();
            async move { driver.status("web").await.ok() }
        })
        .await;
        haproxy
    }

    pub(crate) fn driver(&self) -> Arc<dyn TrafficController> {
        cutover_router::connect(&RouterConfig::Haproxy { socket: self.socket.clone() }).expect("driver")
    }
}

impl Drop for Haproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) async fn status_of(driver: &dyn TrafficController, pool: &str, id: &str) -> Option<MemberStatus> {
    let members = driver.status(pool).await.expect("status");
    members.into_iter().find(|member| member.id == id)
}

/// Waits until the member's status satisfies `check`.
pub(crate) async fn wait_member(
    driver: &dyn TrafficController,
    pool: &str,
    id: &str,
    what: &str,
    check: impl Fn(&MemberStatus) -> bool,
) -> MemberStatus {
    let check = &check;
    wait_for(&format!("{id} {what}"), WAIT, || async move {
        status_of(driver, pool, id).await.filter(|member| check(member))
    })
    .await
}

/// Waits until at least `count` requests sent at or after `from_ms` have been answered.
pub(crate) async fn wait_samples(load: &LoadLoop, from_ms: u64, count: usize) {
    wait_for(&format!("{count} requests after {from_ms} ms"), Duration::from_secs(60), || {
        let done = load.samples().iter().filter(|sample| sample.at_ms >= from_ms).count();
        async move { (done >= count).then_some(()) }
    })
    .await
}

/// GET `url` and return status and trimmed body.
pub(crate) async fn get(url: &str) -> (u16, String) {
    let response = reqwest::get(url).await.unwrap_or_else(|error| panic!("GET {url}: {error:?}"));
    let status = response.status().as_u16();
    (status, response.text().await.expect("body").trim().to_owned())
}
