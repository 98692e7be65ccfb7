//! Traffic control end to end: a real server and agents deploy a real HTTP app (a small Python server started by the
//! hooks) behind a real router — the built-in `cutover-router` and Debian's HAProxy — while a constant load runs
//! through the router. Every case asserts zero failed requests and which version answered when.
//!
//! Each host runs its app on its own loopback port, written to the host's scratch dir (`port`) and published as the
//! instance's `cutover:address` tag. The server runs with `--minute-seconds` so a "minute" of canary/linear
//! intervals lasts a second or two.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use cutover_api_types::codedeploy::{self as wire, Operation};
use cutover_harness::load::{LoadLoop, LoadReport};
use cutover_harness::router::RouterProc;
use cutover_harness::{Bundle, Cluster, ClusterOptions, binary, wait_for};

use crate::DEPLOY_TIMEOUT;

/// The app: answers its version on `/` and `ok` on `/health`; serves until SIGTERM.
const APP: &str = r#"
import http.server, signal, sys
port, version = int(sys.argv[1]), sys.argv[2]
class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        body = (version if self.path != "/health" else "ok").encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
server.daemon_threads = True
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
server.serve_forever()
"#;

/// A revision of the app: `fail_validation_on` names a host whose ValidateService fails.
fn app_revision(version: &str, fail_validation_on: Option<&str>) -> Vec<u8> {
    let fail = match fail_validation_on {
        Some(host) => {
            format!(
                "case \"$CUTOVER_TEST_HOST_DIR\" in */{host}/*) echo \"{version} fails validation here\" >&2; exit 1;; esac\n"
            )
        }
        None => String::new(),
    };
    let appspec = "version: 0.0\nos: linux\nhooks:\n  ApplicationStop:\n    - location: stop.sh\n  ApplicationStart:\n    - location: start.sh\n  ValidateService:\n    - location: validate.sh\n  BeforeAllowTraffic:\n    - location: mark.sh\n  AfterBlockTraffic:\n    - location: mark.sh\n";
    // The app runs from the host's scratch dir, so ApplicationStop of a later revision finds it by its pid file.
    let start = format!(
        "dir=\"$CUTOVER_TEST_HOST_DIR\"\ncp \"$(dirname \"$0\")/app.py\" \"$dir/app-{version}.py\"\n\
         nohup python3 \"$dir/app-{version}.py\" \"$(cat \"$dir/port\")\" {version} >\"$dir/app.log\" 2>&1 &\n\
         echo $! > \"$dir/app.pid\"\n"
    );
    let stop = "dir=\"$CUTOVER_TEST_HOST_DIR\"\n[ -f \"$dir/app.pid\" ] || exit 0\npid=$(cat \"$dir/app.pid\")\n\
                kill \"$pid\" 2>/dev/null || true\n\
                i=0; while kill -0 \"$pid\" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done\n\
                rm -f \"$dir/app.pid\"\n";
    let validate = format!(
        "{fail}port=$(cat \"$CUTOVER_TEST_HOST_DIR/port\")\n\
         i=0; until python3 -c \"import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$port/health', timeout=1)\" 2>/dev/null; do\n\
           i=$((i+1)); [ $i -lt 100 ] || {{ echo 'the app did not come up' >&2; exit 1; }}; sleep 0.1\n\
         done\n"
    );
    let mark = "echo \"$LIFECYCLE_EVENT $DEPLOYMENT_ID\" >> \"$CUTOVER_TEST_HOST_DIR/traffic-hooks\"\n";
    Bundle::new()
        .file("appspec.yml", appspec, 0o644)
        .file("app.py", APP, 0o644)
        .script("start.sh", &start)
        .script("stop.sh", stop)
        .script("validate.sh", &validate)
        .script("mark.sh", mark)
        .tgz()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// The router in front of the hosts.
enum RouterKind {
    Builtin,
    Haproxy,
}

struct Router {
    process: RouterProcess,
    /// Where the load goes.
    url: String,
    /// The `[target_group.router]` table of the server's traffic file.
    config: String,
}

enum RouterProcess {
    Builtin(#[allow(dead_code)] RouterProc),
    Haproxy(Child),
}

impl Drop for Router {
    fn drop(&mut self) {
        if let RouterProcess::Haproxy(child) = &mut self.process {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Router {
    async fn start(kind: &RouterKind, dir: &Path, hosts: &[(String, u16)]) -> Router {
        match kind {
            RouterKind::Builtin => Router::builtin(dir).await,
            RouterKind::Haproxy => Router::haproxy(dir, hosts).await,
        }
    }

    async fn builtin(dir: &Path) -> Router {
        let router = RouterProc::start(dir, &["web"], 2).await;
        Router { url: router.url("web"), config: router.server_config(), process: RouterProcess::Builtin(router) }
    }

    async fn haproxy(dir: &Path, hosts: &[(String, u16)]) -> Router {
        let socket = dir.join("haproxy.sock");
        let port = free_port();
        // One server line per host, out of rotation until the server sets it ready.
        let servers: String = hosts
            .iter()
            .map(|(name, port)| {
                format!("    server {name} 127.0.0.1:{port} check inter 100 rise 2 fall 2 weight 0 disabled\n")
            })
            .collect();
        let config = dir.join("haproxy.cfg");
        std::fs::write(
            &config,
            format!(
                "global\n    stats socket {} mode 600 level admin\n\ndefaults\n    mode http\n    timeout connect 2s\n    timeout client 10s\n    timeout server 10s\n    retries 3\n    option redispatch\n\n\
                 frontend web_front\n    bind 127.0.0.1:{port}\n    default_backend web\n\n\
                 backend web\n    balance roundrobin\n    option httpchk GET /health\n{servers}",
                socket.display()
            ),
        )
        .expect("haproxy config");
        let log = std::fs::File::create(dir.join("haproxy.log")).expect("haproxy log");
        let child = Command::new("haproxy")
            .arg("-db")
            .arg("-f")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("spawn haproxy (Debian package `haproxy`)");
        wait_for("haproxy's stats socket", Duration::from_secs(20), || {
            let socket = socket.clone();
            async move { std::os::unix::net::UnixStream::connect(socket).ok().map(|_| ()) }
        })
        .await;
        Router {
            process: RouterProcess::Haproxy(child),
            url: format!("http://127.0.0.1:{port}/"),
            config: format!("kind = \"haproxy\"\nsocket = \"{}\"\n", socket.display()),
        }
    }
}

/// A cluster of `hosts` agents behind a router. `fleet` tags each host (`fleet=<value>`), so tests can tell the
/// original and replacement hosts apart.
struct Rig {
    cluster: Cluster,
    router: Router,
    terminated_file: PathBuf,
    /// The fleet's provision command runs `sh <dir>/provision.sh`.
    dir: PathBuf,
}

impl Drop for Rig {
    fn drop(&mut self) {
        // Agents started by the provision command.
        for pid in std::fs::read_to_string(self.dir.join("provisioned.pids")).unwrap_or_default().lines() {
            if let Ok(pid) = pid.trim().parse::<i32>() {
                let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL);
            }
        }
    }
}

impl Rig {
    async fn start(kind: RouterKind, fleets: &[(&str, &str)], minute_seconds: f64) -> Rig {
        let dir = tempfile::tempdir().expect("tempdir").keep();
        let hosts: Vec<(String, u16)> = fleets.iter().map(|(name, _)| ((*name).to_owned(), free_port())).collect();
        let router = Router::start(&kind, &dir, &hosts).await;
        let terminated_file = dir.join("terminated");
        let traffic = dir.join("traffic.toml");
        std::fs::write(
            &traffic,
            format!(
                "[[target_group]]\nname = \"web\"\nderegistration_delay_seconds = 5\nhealth_timeout_seconds = 30\n\
                 [target_group.router]\n{}\n\
                 [[fleet]]\napplication = \"shop\"\ndeployment_group = \"bluegreen\"\n\
                 terminate_command = \"echo $CUTOVER_INSTANCE_NAME >> {}\"\n\
                 provision_command = \"sh {}\"\nprovision_timeout_seconds = 30\n",
                router.config,
                terminated_file.display(),
                dir.join("provision.sh").display()
            ),
        )
        .expect("traffic config");
        let mut cluster = Cluster::start(ClusterOptions {
            agents: 0,
            server_args: vec![
                "--traffic-config".to_owned(),
                traffic.display().to_string(),
                "--minute-seconds".to_owned(),
                minute_seconds.to_string(),
            ],
            ..Default::default()
        })
        .await;
        for ((name, port), (_, fleet)) in hosts.iter().zip(fleets) {
            let tags = vec![
                ("env".to_owned(), "test".to_owned()),
                ("host".to_owned(), name.clone()),
                ("fleet".to_owned(), (*fleet).to_owned()),
                ("cutover:address".to_owned(), format!("127.0.0.1:{port}")),
            ];
            cluster.add_agent(name, &tags, &[]);
            std::fs::write(cluster.agent(name).host_dir.join("port"), port.to_string()).expect("port file");
        }
        let names: Vec<String> = hosts.iter().map(|(name, _)| name.clone()).collect();
        cluster.wait_registered(&names).await;
        let _: wire::CreateApplicationOutput = cluster
            .client
            .call(Operation::CreateApplication, &serde_json::json!({"applicationName": "shop"}))
            .await
            .expect("CreateApplication");
        Rig { cluster, router, terminated_file, dir }
    }

    async fn group(&self, name: &str, config: &str, fleet: Option<&str>, extra: serde_json::Value) {
        let filter = match fleet {
            Some(fleet) => serde_json::json!([{"Key": "fleet", "Value": fleet, "Type": "KEY_AND_VALUE"}]),
            None => serde_json::json!([{"Key": "env", "Value": "test", "Type": "KEY_AND_VALUE"}]),
        };
        let mut input = serde_json::json!({
            "applicationName": "shop", "deploymentGroupName": name, "serviceRoleArn": "r",
            "deploymentConfigName": config,
            "onPremisesInstanceTagFilters": filter,
            "loadBalancerInfo": {"targetGroupInfoList": [{"name": "web"}]},
        });
        if let (Some(object), Some(extra)) = (input.as_object_mut(), extra.as_object()) {
            for (key, value) in extra {
                object.insert(key.clone(), value.clone());
            }
        }
        let _: wire::CreateDeploymentGroupOutput =
            self.cluster.client.call(Operation::CreateDeploymentGroup, &input).await.expect("CreateDeploymentGroup");
    }

    /// Deploys `version` and waits for the outcome.
    async fn deploy(
        &self,
        group: &str,
        version: &str,
        fail_on: Option<&str>,
        extra: serde_json::Value,
    ) -> wire::DeploymentInfo {
        let revision = self.cluster.push_bundle("shop", app_revision(version, fail_on), "tgz").await;
        let mut input =
            serde_json::json!({"applicationName": "shop", "deploymentGroupName": group, "revision": revision});
        if let (Some(object), Some(extra)) = (input.as_object_mut(), extra.as_object()) {
            for (key, value) in extra {
                object.insert(key.clone(), value.clone());
            }
        }
        let out: Result<wire::CreateDeploymentOutput, _> =
            self.cluster.client.call(Operation::CreateDeployment, &input).await;
        let id = match out {
            Ok(out) => out.deployment_id.expect("deploymentId"),
            Err(error) => panic!("CreateDeployment of {version}: {error:?}\n{}", self.cluster.logs()),
        };
        self.cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await
    }

    /// Waits until the router answers with `version`, so the load starts on a serving fleet.
    async fn wait_serving(&self, version: &str) {
        let url = self.router.url.clone();
        wait_for(&format!("the router to serve {version}"), Duration::from_secs(20), || {
            let url = url.clone();
            let version = version.to_owned();
            async move {
                let body = reqwest::get(&url).await.ok()?.text().await.ok()?;
                (body.trim() == version).then_some(())
            }
        })
        .await;
    }

    fn load(&self) -> LoadLoop {
        LoadLoop::start(self.router.url.clone(), 4)
    }
}

fn assert_no_failures(report: &LoadReport, what: &str, logs: &str) {
    assert!(report.total > 100, "{what}: the load sent only {} requests", report.total);
    assert!(
        report.failed.is_empty(),
        "{what}: {} of {} requests failed, first: {:?}\n{logs}",
        report.failed.len(),
        report.total,
        report.failed.first()
    );
}

/// Distinct successful bodies in time order of first appearance.
fn versions_seen(report: &LoadReport) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    for sample in &report.samples {
        if let Ok(body) = &sample.outcome
            && !seen.contains(body)
        {
            seen.push(body.clone());
        }
    }
    seen
}

fn event_names(target: &wire::InstanceTarget) -> Vec<(String, String)> {
    target
        .lifecycle_events
        .iter()
        .flatten()
        .map(|event| (event.lifecycle_event_name.clone().unwrap_or_default(), event.status.clone().unwrap_or_default()))
        .collect()
}

async fn in_place_with_traffic_control(kind: RouterKind) {
    let rig = Rig::start(kind, &[("host-1", "a"), ("host-2", "a")], 1.0).await;
    rig.group(
        "web",
        "CodeDeployDefault.OneAtATime",
        None,
        serde_json::json!({
            "deploymentStyle": {"deploymentType": "IN_PLACE", "deploymentOption": "WITH_TRAFFIC_CONTROL"},
        }),
    )
    .await;
    let first = rig.deploy("web", "v1", None, serde_json::json!({})).await;
    assert_eq!(first.status.as_deref(), Some("Succeeded"), "{}", rig.cluster.logs());
    rig.wait_serving("v1").await;

    let load = rig.load();
    let second = rig.deploy("web", "v2", None, serde_json::json!({})).await;
    assert_eq!(second.status.as_deref(), Some("Succeeded"), "{}", rig.cluster.logs());
    let end = load.now_ms();
    rig.wait_serving("v2").await;
    let tail_start = load.now_ms();
    load.run_past(tail_start, 50).await;
    let report = load.stop().await;
    assert_no_failures(&report, "in-place with traffic control", &rig.cluster.logs());
    assert_eq!(versions_seen(&report), ["v1", "v2"]);
    assert_eq!(report.share("v2", end, u64::MAX), Some(1.0), "only v2 answers once the deployment succeeded");

    // Each host ran the 13 events of an in-place deployment with traffic control, all successfully.
    let id = second.deployment_id.clone().expect("id");
    for host in ["host-1", "host-2"] {
        let events = event_names(&rig.cluster.target(&id, host).await);
        assert_eq!(events.len(), 13, "{events:?}");
        assert!(events.iter().all(|(_, status)| status == "Succeeded"), "{events:?}");
        assert_eq!(events[1].0, "BlockTraffic");
        assert_eq!(events[11].0, "AllowTraffic");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_place_with_traffic_control_builtin_router() {
    in_place_with_traffic_control(RouterKind::Builtin).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_place_with_traffic_control_haproxy() {
    in_place_with_traffic_control(RouterKind::Haproxy).await;
}

/// Original hosts blue-1/2 (v1, put in service by an in-place group of their own), replacement hosts green-1/2.
async fn blue_green_rig(kind: RouterKind, minute_seconds: f64, config: &str, termination: &str) -> Rig {
    let hosts = [("blue-1", "blue"), ("blue-2", "blue"), ("green-1", "green"), ("green-2", "green")];
    let rig = seeded_rig(kind, &hosts, minute_seconds).await;
    if config == "Linear25" {
        // 25 % more every minute: 25, 50, 75, 100 %.
        let _: wire::CreateDeploymentConfigOutput = rig
            .cluster
            .client
            .call(
                Operation::CreateDeploymentConfig,
                &serde_json::json!({
                    "deploymentConfigName": "Linear25",
                    "trafficRoutingConfig": {"type": "TimeBasedLinear", "timeBasedLinear": {"linearPercentage": 25, "linearInterval": 1}},
                }),
            )
            .await
            .expect("CreateDeploymentConfig");
    }
    rig.blue_green_group(
        config,
        serde_json::json!({
            "terminateBlueInstancesOnDeploymentSuccess": {"action": termination, "terminationWaitTimeInMinutes": 0},
            "deploymentReadyOption": {"actionOnTimeout": "CONTINUE_DEPLOYMENT"},
            "greenFleetProvisioningOption": {"action": "DISCOVER_EXISTING"},
        }),
    )
    .await;
    rig
}

/// A rig whose `fleet=blue` hosts run v1 and serve it (put in service by an in-place group of their own, `seed`).
async fn seeded_rig(kind: RouterKind, hosts: &[(&str, &str)], minute_seconds: f64) -> Rig {
    let rig = Rig::start(kind, hosts, minute_seconds).await;
    rig.group(
        "seed",
        "CodeDeployDefault.AllAtOnce",
        Some("blue"),
        serde_json::json!({
            "deploymentStyle": {"deploymentType": "IN_PLACE", "deploymentOption": "WITH_TRAFFIC_CONTROL"},
        }),
    )
    .await;
    let seeded = rig.deploy("seed", "v1", None, serde_json::json!({})).await;
    assert_eq!(seeded.status.as_deref(), Some("Succeeded"), "{}", rig.cluster.logs());
    rig.wait_serving("v1").await;
    rig
}

impl Rig {
    /// The blue/green group `bluegreen` over every host (`env=test`), with auto-rollback on failure and stop.
    async fn blue_green_group(&self, config: &str, blue_green: serde_json::Value) {
        self.group(
            "bluegreen",
            config,
            None,
            serde_json::json!({
                "deploymentStyle": {"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"},
                "blueGreenDeploymentConfiguration": blue_green,
                "autoRollbackConfiguration": {"enabled": true, "events": ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_REQUEST"]},
            }),
        )
        .await;
    }
}

fn green_targets() -> serde_json::Value {
    serde_json::json!({"targetInstances": {"tagFilters": [{"Key": "fleet", "Value": "green", "Type": "KEY_AND_VALUE"}]}})
}

async fn instance_deregistered(rig: &Rig, name: &str) -> bool {
    let out: wire::GetOnPremisesInstanceOutput = rig
        .cluster
        .client
        .call(Operation::GetOnPremisesInstance, &serde_json::json!({"instanceName": name}))
        .await
        .expect("GetOnPremisesInstance");
    out.instance_info.and_then(|info| info.deregister_time).is_some()
}

async fn blue_green_all_at_once(kind: RouterKind) {
    let rig = blue_green_rig(kind, 1.0, "CodeDeployDefault.AllAtOnce", "TERMINATE").await;
    let load = rig.load();
    let done = rig.deploy("bluegreen", "v2", None, green_targets()).await;
    assert_eq!(done.status.as_deref(), Some("Succeeded"), "{}", rig.cluster.logs());
    assert_eq!(done.instance_termination_wait_time_started, Some(true));
    let overview = done.deployment_overview.clone().expect("overview");
    assert_eq!((overview.succeeded, overview.in_progress, overview.failed), (Some(4), Some(0), Some(0)));
    let end = load.now_ms();
    load.run_past(end, 50).await;
    let report = load.stop().await;
    assert_no_failures(&report, "blue/green all at once", &rig.cluster.logs());
    assert_eq!(versions_seen(&report), ["v1", "v2"]);
    assert_eq!(report.share("v2", end, u64::MAX), Some(1.0));

    // The originals ran the block hooks, were terminated by the fleet's command and deregistered.
    let id = done.deployment_id.clone().expect("id");
    let blue = event_names(&rig.cluster.target(&id, "blue-1").await);
    let names: Vec<&str> = blue.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, ["BeforeBlockTraffic", "BlockTraffic", "AfterBlockTraffic"]);
    let green = event_names(&rig.cluster.target(&id, "green-1").await);
    assert_eq!(green.len(), 10, "{green:?}");
    let terminated = std::fs::read_to_string(&rig.terminated_file).unwrap_or_default();
    let mut terminated: Vec<&str> = terminated.lines().collect();
    terminated.sort();
    assert_eq!(terminated, ["blue-1", "blue-2"]);
    assert!(instance_deregistered(&rig, "blue-1").await && instance_deregistered(&rig, "blue-2").await);
    assert!(!instance_deregistered(&rig, "green-1").await);
    let hooks =
        std::fs::read_to_string(rig.cluster.agent("green-2").host_dir.join("traffic-hooks")).unwrap_or_default();
    assert!(hooks.contains(&format!("BeforeAllowTraffic {id}")), "{hooks}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blue_green_all_at_once_builtin_router() {
    blue_green_all_at_once(RouterKind::Builtin).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blue_green_all_at_once_haproxy() {
    blue_green_all_at_once(RouterKind::Haproxy).await;
}

/// Percentage points the measured share of v2 may differ from the configured step.
const SHARE_TOLERANCE: f64 = 0.10;

async fn blue_green_linear(kind: RouterKind) {
    // 25 % more every "minute" of 2 s: 25, 50, 75, 100 % at 0, 2, 4, 6 s.
    let minute_ms = 2000u64;
    let rig = blue_green_rig(kind, minute_ms as f64 / 1000.0, "Linear25", "KEEP_ALIVE").await;
    let load = rig.load();
    let done = rig.deploy("bluegreen", "v2", None, green_targets()).await;
    assert_eq!(done.status.as_deref(), Some("Succeeded"), "{}", rig.cluster.logs());
    let end = load.now_ms();
    load.run_past(end, 50).await;
    let report = load.stop().await;
    assert_no_failures(&report, "blue/green linear", &rig.cluster.logs());
    // The first v2 answer marks the first shift; each step then holds for one minute.
    let first = report.answered("v2", false).expect("v2 answered");
    let margin = 300;
    for (step, expected) in [0.25, 0.50, 0.75].into_iter().enumerate() {
        let from = first + step as u64 * minute_ms + margin;
        let to = first + (step as u64 + 1) * minute_ms - margin;
        let share = report.share("v2", from, to).expect("samples in the step");
        assert!(
            (share - expected).abs() <= SHARE_TOLERANCE,
            "step {}: {:.1} % of requests reached v2, expected {:.0} % ± {:.0}",
            step + 1,
            share * 100.0,
            expected * 100.0,
            SHARE_TOLERANCE * 100.0
        );
    }
    assert_eq!(report.share("v2", first + 3 * minute_ms + margin, u64::MAX), Some(1.0));
    // KEEP_ALIVE: the originals are out of traffic but still registered.
    assert!(!instance_deregistered(&rig, "blue-1").await);
    assert_eq!(done.instance_termination_wait_time_started, Some(false));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blue_green_linear_builtin_router() {
    blue_green_linear(RouterKind::Builtin).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blue_green_linear_haproxy() {
    blue_green_linear(RouterKind::Haproxy).await;
}

async fn blue_green_failed_validation(kind: RouterKind) {
    let rig = blue_green_rig(kind, 1.0, "CodeDeployDefault.AllAtOnce", "KEEP_ALIVE").await;
    // v2 on the green hosts succeeds: they serve, the blue hosts are kept alive out of traffic.
    let good = rig.deploy("bluegreen", "v2", None, green_targets()).await;
    assert_eq!(good.status.as_deref(), Some("Succeeded"), "{}", rig.cluster.logs());
    rig.wait_serving("v2").await;

    // v3 goes to the blue hosts (now the replacements) and fails validation on one of them.
    let load = rig.load();
    let blue_targets = serde_json::json!({"targetInstances": {"tagFilters": [{"Key": "fleet", "Value": "blue", "Type": "KEY_AND_VALUE"}]}});
    let failed = rig.deploy("bluegreen", "v3", Some("blue-2"), blue_targets).await;
    assert_eq!(failed.status.as_deref(), Some("Failed"), "{}", rig.cluster.logs());
    let rollback_id = failed
        .rollback_info
        .as_ref()
        .and_then(|info| info.rollback_deployment_id.clone())
        .unwrap_or_else(|| panic!("no rollback: {:?}\n{}", failed.rollback_info, rig.cluster.logs()));
    let rollback = rig.cluster.wait_deployment(&rollback_id, DEPLOY_TIMEOUT).await;
    assert_eq!(rollback.status.as_deref(), Some("Succeeded"), "{}", rig.cluster.logs());
    let end = load.now_ms();
    load.run_past(end, 50).await;
    let report = load.stop().await;
    assert_no_failures(&report, "blue/green with a failing ValidateService", &rig.cluster.logs());
    assert_eq!(versions_seen(&report), ["v2"], "production traffic never reached v3");
    // The rollback blocked the replacements and let traffic back in to the originals.
    let green = event_names(&rig.cluster.target(&rollback_id, "green-1").await);
    let names: Vec<&str> = green.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, ["BeforeAllowTraffic", "AllowTraffic", "AfterAllowTraffic"]);
    let blue = event_names(&rig.cluster.target(&rollback_id, "blue-1").await);
    let names: Vec<&str> = blue.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, ["BeforeBlockTraffic", "BlockTraffic", "AfterBlockTraffic"]);
    assert!(blue.iter().all(|(_, status)| status == "Succeeded"), "{blue:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blue_green_failed_validation_rolls_back_builtin_router() {
    blue_green_failed_validation(RouterKind::Builtin).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blue_green_failed_validation_rolls_back_haproxy() {
    blue_green_failed_validation(RouterKind::Haproxy).await;
}

/// Stopping a linear shift half-way (with rollback) puts all traffic back on the originals at once.
async fn stopping_a_linear_shift(kind: RouterKind) {
    let minute_ms = 3000u64;
    let rig = blue_green_rig(kind, minute_ms as f64 / 1000.0, "Linear25", "KEEP_ALIVE").await;
    let load = rig.load();
    let revision = rig.cluster.push_bundle("shop", app_revision("v2", None), "tgz").await;
    let id = rig.cluster.deploy("shop", "bluegreen", &revision, green_targets()).await;
    // Wait for the second step (50 %), then stop with rollback.
    wait_for("the shift to reach its second step", DEPLOY_TIMEOUT, || {
        let samples = load.samples();
        async move {
            let first = samples.iter().find(|sample| sample.outcome.as_deref() == Ok("v2"))?.at_ms;
            samples.last().is_some_and(|last| last.at_ms > first + minute_ms + 500).then_some(())
        }
    })
    .await;
    let stop_at = load.now_ms();
    let _: wire::StopDeploymentOutput = rig
        .cluster
        .client
        .call(Operation::StopDeployment, &serde_json::json!({"deploymentId": id, "autoRollbackEnabled": true}))
        .await
        .expect("StopDeployment");
    let stopped = rig.cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await;
    assert_eq!(stopped.status.as_deref(), Some("Stopped"), "{}", rig.cluster.logs());
    let after = load.now_ms();
    load.run_past(after, 50).await;
    let report = load.stop().await;
    assert_no_failures(&report, "stopped linear shift", &rig.cluster.logs());
    let last_v2 = report.answered("v2", true).expect("v2 answered before the stop");
    // Traffic went back before the deployment even reported Stopped, and never reached v2 again.
    assert!(last_v2 < after, "v2 answered after the deployment stopped");
    assert_eq!(report.share("v1", after, u64::MAX), Some(1.0));
    eprintln!("time to roll back traffic: {} ms after StopDeployment", last_v2.saturating_sub(stop_at));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_a_linear_shift_returns_all_traffic_to_blue_at_once_builtin_router() {
    stopping_a_linear_shift(RouterKind::Builtin).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_a_linear_shift_returns_all_traffic_to_blue_at_once_haproxy() {
    stopping_a_linear_shift(RouterKind::Haproxy).await;
}

/// `deploymentReadyOption` STOP_DEPLOYMENT waits in Ready (traffic untouched) until ContinueDeployment, and a
/// termination wait ends early with ContinueDeployment(TERMINATION_WAIT).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blue_green_waits_for_continue_deployment() {
    let rig = seeded_rig(RouterKind::Builtin, &[("blue-1", "blue"), ("green-1", "green")], 1.0).await;
    rig.blue_green_group(
        "CodeDeployDefault.AllAtOnce",
        serde_json::json!({
            "terminateBlueInstancesOnDeploymentSuccess": {"action": "TERMINATE", "terminationWaitTimeInMinutes": 600},
            "deploymentReadyOption": {"actionOnTimeout": "STOP_DEPLOYMENT", "waitTimeInMinutes": 600},
        }),
    )
    .await;
    let load = rig.load();
    let revision = rig.cluster.push_bundle("shop", app_revision("v2", None), "tgz").await;
    let id = rig.cluster.deploy("shop", "bluegreen", &revision, green_targets()).await;
    let get = |id: String| {
        let client = rig.cluster.client.clone();
        async move {
            let out: wire::GetDeploymentOutput = client
                .call(Operation::GetDeployment, &serde_json::json!({"deploymentId": id}))
                .await
                .expect("GetDeployment");
            out.deployment_info.expect("info")
        }
    };
    wait_for("the deployment to wait in Ready", DEPLOY_TIMEOUT, || {
        let info = get(id.clone());
        async move { (info.await.status.as_deref() == Some("Ready")).then_some(()) }
    })
    .await;
    let ready_at = load.now_ms();
    load.run_past(ready_at, 50).await;
    // Termination cannot be skipped before it began.
    let early: Result<serde_json::Value, _> = rig
        .cluster
        .client
        .call(
            Operation::ContinueDeployment,
            &serde_json::json!({"deploymentId": id, "deploymentWaitType": "TERMINATION_WAIT"}),
        )
        .await;
    assert!(format!("{early:?}").contains("DeploymentIsNotInReadyStateException"), "{early:?}");
    let continued = load.now_ms();
    let _: serde_json::Value = rig
        .cluster
        .client
        .call(
            Operation::ContinueDeployment,
            &serde_json::json!({"deploymentId": id, "deploymentWaitType": "READY_WAIT"}),
        )
        .await
        .expect("ContinueDeployment READY_WAIT");
    wait_for("the termination wait", DEPLOY_TIMEOUT, || {
        let info = get(id.clone());
        async move {
            let info = info.await;
            (info.instance_termination_wait_time_started == Some(true)).then_some(info.status)
        }
    })
    .await;
    assert_eq!(get(id.clone()).await.status.as_deref(), Some("InProgress"));
    assert!(!instance_deregistered(&rig, "blue-1").await, "the originals wait for the termination time");
    let _: serde_json::Value = rig
        .cluster
        .client
        .call(
            Operation::ContinueDeployment,
            &serde_json::json!({"deploymentId": id, "deploymentWaitType": "TERMINATION_WAIT"}),
        )
        .await
        .expect("ContinueDeployment TERMINATION_WAIT");
    let done = rig.cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await;
    assert_eq!(done.status.as_deref(), Some("Succeeded"), "{}", rig.cluster.logs());
    assert!(instance_deregistered(&rig, "blue-1").await);
    let report = load.stop().await;
    assert_no_failures(&report, "blue/green with waits", &rig.cluster.logs());
    assert_eq!(report.share("v1", 0, continued), Some(1.0), "no traffic moved while the deployment waited in Ready");
}

/// COPY_AUTO_SCALING_GROUP's counterpart: the fleet's provision command starts the replacement hosts (real agents
/// that register with the deployment's tag); the revision goes to them and the traffic follows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blue_green_provisions_the_replacement_fleet() {
    let rig = seeded_rig(RouterKind::Builtin, &[("blue-1", "blue"), ("blue-2", "blue")], 1.0).await;
    rig.blue_green_group(
        "CodeDeployDefault.AllAtOnce",
        serde_json::json!({
            "terminateBlueInstancesOnDeploymentSuccess": {"action": "TERMINATE", "terminationWaitTimeInMinutes": 0},
            "greenFleetProvisioningOption": {"action": "COPY_AUTO_SCALING_GROUP"},
        }),
    )
    .await;
    // The provision command: one real agent per requested host, each with its own port and scratch dir.
    let ports: Vec<String> = (0..2).map(|_| free_port().to_string()).collect();
    let script = format!(
        "set -e\nports=\"{ports}\"\ni=0\nfor port in $ports; do\n  i=$((i+1)); [ $i -le \"$CUTOVER_INSTANCE_COUNT\" ] || break\n\
           name=\"made-$i\"; base=\"{dir}/hosts/$name\"\n  mkdir -p \"$base/root\" \"$base/fs\" \"$base/scratch\"\n\
           echo \"$port\" > \"$base/scratch/port\"\n\
           CUTOVER_TEST_HOST_DIR=\"$base/scratch\" nohup {agent} --server {server} --name \"$name\" \\\n\
             --tags \"env=test,fleet=made,cutover:address=127.0.0.1:$port,$CUTOVER_GREEN_TAG_KEY=$CUTOVER_GREEN_TAG_VALUE\" \\\n\
             --root \"$base/root\" --destination-root \"$base/fs\" --enrollment-token-file {token} \\\n\
             --hook-pass-env CUTOVER_TEST_HOST_DIR > \"$base/agent.log\" 2>&1 &\n\
           echo $! >> {dir}/provisioned.pids\ndone\n",
        ports = ports.join(" "),
        dir = rig.dir.display(),
        agent = binary("cutover-agent").display(),
        server = rig.cluster.endpoint,
        token = rig.cluster.server.data_dir.join("enrollment-token").display(),
    );
    std::fs::write(rig.dir.join("provision.sh"), script).expect("provision script");
    let load = rig.load();
    let done = rig.deploy("bluegreen", "v2", None, serde_json::json!({})).await;
    assert_eq!(done.status.as_deref(), Some("Succeeded"), "{}", rig.cluster.logs());
    let end = load.now_ms();
    load.run_past(end, 50).await;
    let report = load.stop().await;
    assert_no_failures(&report, "blue/green with a provisioned fleet", &rig.cluster.logs());
    assert_eq!(report.share("v2", end, u64::MAX), Some(1.0));
    let id = done.deployment_id.clone().expect("id");
    let provisioning = done
        .blue_green_deployment_configuration
        .as_ref()
        .and_then(|config| config.green_fleet_provisioning_option.as_ref())
        .and_then(|option| option.action.clone());
    assert_eq!(provisioning.as_deref(), Some("COPY_AUTO_SCALING_GROUP"));
    let out: wire::ListDeploymentInstancesOutput = rig
        .cluster
        .client
        .call(
            Operation::ListDeploymentInstances,
            &serde_json::json!({"deploymentId": id, "instanceTypeFilter": ["Green"]}),
        )
        .await
        .expect("ListDeploymentInstances");
    assert_eq!(out.instances_list.unwrap_or_default(), ["made-1", "made-2"]);
    assert!(instance_deregistered(&rig, "blue-1").await && instance_deregistered(&rig, "blue-2").await);
}
