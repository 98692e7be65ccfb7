//! The task-set driver against the real Docker engine, with images built here from `cutover-test-http` (nothing can
//! be pulled). Every test has its own `TestRun`: unique task set ids and image tags, removed on drop even when an
//! assertion fails.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use cutover_containers::testimage::{TestRun, ensure_http_image};
use cutover_containers::{Error, TaskDefinition, TaskSet, TaskSets};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const HEALTHY_WITHIN: Duration = Duration::from_secs(60);
const DEADLINE: Duration = Duration::from_secs(60);
/// Between two looks at a condition polled until its deadline.
const POLL: Duration = Duration::from_millis(200);

fn binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_cutover-test-http"))
}

struct Fixture {
    tasks: TaskSets,
    run: TestRun,
    image: String,
}

async fn fixture() -> Fixture {
    let tasks = TaskSets::connect_local().await.expect("the Docker engine answers");
    let run = TestRun::new(tasks.socket());
    let image = run.http_image(&tasks, binary(), "v1").await.expect("test image imports").reference;
    Fixture { tasks, run, image }
}

/// One container `app` of the test image, health-checked fast so tests converge quickly.
fn definition(image: &str) -> TaskDefinition {
    TaskDefinition::from_yaml(&format!(
        "family: web
containers:
  - name: app
    image: {image}
    portMappings:
      - containerPort: 8080
    healthCheck:
      port: 8080
      path: /health
      intervalSeconds: 0.2
      timeoutSeconds: 1
      healthyThreshold: 2
      unhealthyThreshold: 2
"
    ))
    .expect("the test definition is valid")
}

/// One HTTP/1.1 request on a fresh connection: (status, body).
async fn http(address: SocketAddr, method: &str, path: &str) -> std::io::Result<(u16, String)> {
    let mut stream = tokio::net::TcpStream::connect(address).await?;
    let request =
        format!("{method} {path} HTTP/1.1\r\nHost: {address}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head.split_whitespace().nth(1).and_then(|status| status.parse().ok()).unwrap_or(0);
    Ok((status, body.to_owned()))
}

/// `docker …` through the CLI: an observer independent of the driver.
fn docker(args: &[&str]) -> String {
    let output = Command::new("docker").args(args).output().expect("the docker CLI runs");
    assert!(output.status.success(), "docker {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn containers_labelled(task_set: &str, only_running: bool) -> Vec<String> {
    let filter = format!("label=cutover.task-set={task_set}");
    let mut args = vec!["ps", "-q", "--no-trunc", "--filter", filter.as_str()];
    if !only_running {
        args.push("-a");
    }
    docker(&args).lines().map(str::to_owned).collect()
}

async fn answers(set: &TaskSet) -> Vec<String> {
    let mut bodies = Vec::new();
    for upstream in set.upstreams("app", 8080) {
        let (status, body) = http(upstream, "GET", "/").await.expect("the task answers");
        assert_eq!(status, 200, "GET / on {upstream}");
        bodies.push(body.trim().to_owned());
    }
    bodies
}

#[tokio::test]
async fn a_task_set_of_three_starts_healthy_and_every_task_answers() {
    let Fixture { tasks, run, image } = fixture().await;
    let id = run.task_set_id("web");
    let set = tasks.start_task_set(&id, &definition(&image), 3).await.expect("the task set starts");
    tasks.wait_healthy(&set, HEALTHY_WITHIN).await.expect("every task gets healthy");

    let upstreams = set.upstreams("app", 8080);
    assert_eq!(upstreams.len(), 3, "{set:#?}");
    assert_eq!(upstreams.iter().collect::<HashSet<_>>().len(), 3, "distinct host ports: {upstreams:?}");
    assert!(upstreams.iter().all(|upstream| upstream.ip().is_loopback()), "{upstreams:?}");
    assert_eq!(answers(&set).await, ["v1", "v1", "v1"]);
    assert_eq!(containers_labelled(&id, true).len(), 3);
    let task = &set.tasks[0];
    let labelled =
        docker(&["inspect", "--format", "{{index .Config.Labels \"cutover.task\"}}", &task.containers[0].container_id]);
    assert_eq!(labelled.trim(), task.id);

    let again = tasks.start_task_set(&id, &definition(&image), 1).await.unwrap_err();
    assert!(matches!(again, Error::TaskSetExists { containers: 3, .. }), "{again}");

    // An agent that restarts finds the set again by its labels.
    let restarted = TaskSets::connect(tasks.socket()).await.unwrap();
    let listed = restarted.list_task_sets().await.unwrap();
    let found = listed.iter().find(|listed| listed.id == id).expect("the set is listed");
    assert_eq!(found.family, "web");
    assert_eq!(found.upstreams("app", 8080).into_iter().collect::<HashSet<_>>(), upstreams.into_iter().collect());
    assert!(found.tasks.iter().all(|task| task.containers[0].health_check.is_some()), "{found:#?}");
    restarted.wait_healthy(found, HEALTHY_WITHIN).await.expect("a rediscovered set is checked from its labels");
}

#[tokio::test]
async fn reconcile_replaces_a_killed_container_and_keeps_the_count() {
    let Fixture { tasks, run, image } = fixture().await;
    let id = run.task_set_id("web");
    let definition = definition(&image);
    let set = tasks.start_task_set(&id, &definition, 3).await.unwrap();
    tasks.wait_healthy(&set, HEALTHY_WITHIN).await.unwrap();

    let steady = tasks.reconcile(&id, &definition, 3).await.unwrap();
    assert!(steady.replaced.is_empty() && steady.started.is_empty(), "{steady:#?}");
    assert_eq!(steady.task_set.upstreams("app", 8080), set.upstreams("app", 8080));

    let victim = &set.tasks[1];
    let victim_upstream = victim.upstream("app", 8080).unwrap();
    docker(&["kill", &victim.containers[0].container_id]);

    let reconciled = replaced_after_kill(&tasks, &id, &definition, 3).await;
    assert_eq!(reconciled.replaced.len(), 1, "{reconciled:#?}");
    assert_eq!(reconciled.replaced[0].task_id, victim.id);
    assert!(reconciled.replaced[0].reason.contains("exited"), "{}", reconciled.replaced[0].reason);
    assert!(reconciled.replaced[0].logs.contains("listening on 0.0.0.0:8080"), "{}", reconciled.replaced[0].logs);
    assert_eq!(reconciled.started.len(), 1);

    let now = &reconciled.task_set;
    assert_eq!(now.tasks.len(), 3, "{now:#?}");
    assert!(now.task(&victim.id).is_none());
    let replacement = now.task(&reconciled.started[0]).expect("the replacement is in the set");
    assert_ne!(replacement.id, victim.id);
    assert_eq!(
        replacement.upstream("app", 8080),
        Some(victim_upstream),
        "the replacement publishes the host port of the task it replaces: the router's upstream stays valid"
    );
    let upstreams = now.upstreams("app", 8080);
    assert_eq!(
        upstreams.iter().collect::<HashSet<_>>(),
        set.upstreams("app", 8080).iter().collect::<HashSet<_>>(),
        "the same three upstreams"
    );
    tasks.wait_healthy(now, HEALTHY_WITHIN).await.unwrap();
    assert_eq!(answers(now).await, ["v1", "v1", "v1"]);
    let (status, body) = http(victim_upstream, "GET", "/").await.expect("the upstream answers again");
    assert_eq!((status, body.trim()), (200, "v1"));
    assert_eq!(containers_labelled(&id, true).len(), 3);
    assert_eq!(containers_labelled(&id, false).len(), 3, "the dead container was removed");

    // After an agent restart (a driver that never saw the port), a replacement's replacement keeps it too: the
    // replacement was created with that host port, and the engine keeps that after the container stopped.
    let replacement_id = replacement.id.clone();
    docker(&["kill", &replacement.containers[0].container_id]);
    let restarted = TaskSets::connect(tasks.socket()).await.unwrap();
    let again = replaced_after_kill(&restarted, &id, &definition, 3).await;
    assert_eq!(again.replaced[0].task_id, replacement_id);
    let second = again.task_set.task(&again.started[0]).expect("the second replacement is in the set");
    assert_eq!(second.upstream("app", 8080), Some(victim_upstream));
    restarted.wait_healthy(&again.task_set, HEALTHY_WITHIN).await.unwrap();
    assert_eq!(http(victim_upstream, "GET", "/").await.unwrap().0, 200);
}

/// Reconciles at the health-check interval until a task was replaced.
async fn replaced_after_kill(
    tasks: &TaskSets,
    id: &str,
    definition: &TaskDefinition,
    count: usize,
) -> cutover_containers::Reconciliation {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let reconciled = tasks.reconcile(id, definition, count).await.expect("reconcile succeeds");
        if !reconciled.replaced.is_empty() {
            return reconciled;
        }
        assert!(Instant::now() < deadline, "the killed task was never replaced: {reconciled:#?}");
        tokio::time::sleep(POLL).await;
    }
}

#[tokio::test]
async fn a_replacement_whose_host_port_was_taken_gets_another_one() {
    let Fixture { tasks, run, image } = fixture().await;
    let id = run.task_set_id("web");
    let definition = definition(&image);
    let set = tasks.start_task_set(&id, &definition, 1).await.unwrap();
    tasks.wait_healthy(&set, HEALTHY_WITHIN).await.unwrap();
    let victim = &set.tasks[0];
    let victim_upstream = victim.upstream("app", 8080).unwrap();
    docker(&["kill", &victim.containers[0].container_id]);

    // Someone else takes the port as soon as the engine lets go of it.
    let deadline = Instant::now() + DEADLINE;
    let _taken = loop {
        match std::net::TcpListener::bind(victim_upstream) {
            Ok(listener) => break listener,
            Err(error) => assert!(Instant::now() < deadline, "{victim_upstream} was never released: {error}"),
        }
        tokio::time::sleep(POLL).await;
    };

    let reconciled = replaced_after_kill(&tasks, &id, &definition, 1).await;
    assert_eq!(reconciled.replaced[0].task_id, victim.id);
    assert_eq!(reconciled.started.len(), 1, "{reconciled:#?}");
    let replacement = reconciled.task_set.task(&reconciled.started[0]).expect("the replacement is in the set");
    let upstream = replacement.upstream("app", 8080).expect("the replacement publishes its port");
    assert_ne!(upstream, victim_upstream, "Docker picked another port");
    tasks.wait_healthy(&reconciled.task_set, HEALTHY_WITHIN).await.unwrap();
    assert_eq!(answers(&reconciled.task_set).await, ["v1"]);
    assert_eq!(containers_labelled(&id, false).len(), 1, "the failed attempt left no container");
}

#[tokio::test]
async fn ports_are_published_on_the_publish_ip() {
    let Fixture { tasks, run, image } = fixture().await;
    assert_eq!(tasks.publish_ip(), cutover_containers::DEFAULT_PUBLISH_IP);
    // Another loopback address: published there, listed there, and not on 127.0.0.1.
    let ip: std::net::IpAddr = "127.0.0.2".parse().unwrap();
    let tasks = tasks.with_publish_ip(ip);
    let id = run.task_set_id("web");
    let set = tasks.start_task_set(&id, &definition(&image), 1).await.unwrap();
    tasks.wait_healthy(&set, HEALTHY_WITHIN).await.unwrap();
    let upstream = set.upstreams("app", 8080)[0];
    assert_eq!(upstream.ip(), ip);
    assert_eq!(tasks.task_set(&id).await.unwrap().unwrap().upstreams("app", 8080), [upstream]);
    assert_eq!(answers(&set).await, ["v1"]);
    let loopback = SocketAddr::from(([127, 0, 0, 1], upstream.port()));
    assert!(http(loopback, "GET", "/").await.is_err(), "nothing is published on 127.0.0.1");
}

#[tokio::test]
async fn an_unhealthy_task_is_replaced_with_its_last_output() {
    let Fixture { tasks, run, image } = fixture().await;
    let id = run.task_set_id("web");
    let definition = definition(&image);
    let set = tasks.start_task_set(&id, &definition, 2).await.unwrap();
    tasks.wait_healthy(&set, HEALTHY_WITHIN).await.unwrap();

    let sick = &set.tasks[0];
    let (status, _) = http(sick.upstream("app", 8080).unwrap(), "POST", "/fail-health").await.unwrap();
    assert_eq!(status, 200);

    let deadline = Instant::now() + DEADLINE;
    let reconciled = loop {
        let reconciled = tasks.reconcile(&id, &definition, 2).await.unwrap();
        if !reconciled.replaced.is_empty() {
            break reconciled;
        }
        assert!(Instant::now() < deadline, "the unhealthy task was never replaced: {reconciled:#?}");
        tokio::time::sleep(POLL).await; // the health-check interval, as the agent would call it
    };
    let replaced = &reconciled.replaced[0];
    assert_eq!(replaced.task_id, sick.id);
    assert!(
        replaced.reason.contains("failed 2 health checks in a row") && replaced.reason.contains("503"),
        "{replaced:#?}"
    );
    assert!(replaced.logs.contains("GET /health 503"), "{}", replaced.logs);
    assert_eq!(reconciled.task_set.tasks.len(), 2);
    assert!(reconciled.task_set.task(&sick.id).is_none());
    assert!(reconciled.task_set.task(&set.tasks[1].id).is_some(), "the healthy task was kept");
}

#[tokio::test]
async fn stop_removes_every_container_of_the_set_and_only_those() {
    let Fixture { tasks, run, image } = fixture().await;
    // Two containers per task: the app and a sidecar on another port.
    let two = TaskDefinition::from_yaml(&format!(
        "family: web
containers:
  - name: app
    image: {image}
    portMappings: [{{containerPort: 8080}}]
    healthCheck: {{port: 8080, path: /health, intervalSeconds: 0.2}}
  - name: sidecar
    image: {image}
    environment: {{PORT: '9090', VERSION: sidecar}}
    portMappings: [{{containerPort: 9090}}]
    healthCheck: {{port: 9090, path: /health, intervalSeconds: 0.2}}
"
    ))
    .unwrap();
    let id = run.task_set_id("web");
    let other = run.task_set_id("other");
    let set = tasks.start_task_set(&id, &two, 2).await.unwrap();
    tasks.start_task_set(&other, &definition(&image), 1).await.unwrap();
    tasks.wait_healthy(&set, HEALTHY_WITHIN).await.unwrap();
    let sidecars = set.upstreams("sidecar", 9090);
    assert_eq!(sidecars.len(), 2);
    assert_eq!(http(sidecars[0], "GET", "/").await.unwrap().1.trim(), "sidecar");
    assert_eq!(containers_labelled(&id, false).len(), 4);

    assert_eq!(tasks.stop_task_set(&id, Duration::from_secs(10)).await.unwrap(), 4);
    assert!(containers_labelled(&id, false).is_empty(), "every container of the set is removed");
    assert_eq!(containers_labelled(&other, true).len(), 1, "another set is left alone");
    let listed: Vec<String> = tasks.list_task_sets().await.unwrap().into_iter().map(|set| set.id).collect();
    assert!(listed.contains(&other) && !listed.contains(&id), "{listed:?}");
    assert!(tasks.task_set(&id).await.unwrap().is_none());
    assert_eq!(tasks.stop_task_set(&id, Duration::from_secs(10)).await.unwrap(), 0, "stopping again is a no-op");
}

#[tokio::test]
async fn a_missing_image_is_a_clear_error_and_leaves_nothing() {
    let Fixture { tasks, run, .. } = fixture().await;
    let id = run.task_set_id("web");
    let absent = format!("cutover-test/absent:{}", run.id());
    let error = tasks.start_task_set(&id, &definition(&absent), 2).await.unwrap_err();
    assert!(
        matches!(&error, Error::ImageMissing { image, container } if *image == absent && container == "app"),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.contains(&absent) && message.contains("never pulls images"), "{message}");
    assert!(containers_labelled(&id, false).is_empty());
    let error = tasks.reconcile(&id, &definition(&absent), 1).await.unwrap_err();
    assert!(matches!(error, Error::ImageMissing { .. }), "{error:?}");
}

#[tokio::test]
async fn logs_of_every_container_are_returned() {
    let Fixture { tasks, run, image } = fixture().await;
    let id = run.task_set_id("web");
    let set = tasks.start_task_set(&id, &definition(&image), 1).await.unwrap();
    tasks.wait_healthy(&set, HEALTHY_WITHIN).await.unwrap();
    let upstream = set.upstreams("app", 8080)[0];
    assert_eq!(http(upstream, "GET", "/?from=logs-test").await.unwrap().0, 200);

    let deadline = Instant::now() + DEADLINE;
    let logs = loop {
        let logs = tasks.logs(&id, 100).await.unwrap();
        if logs.iter().flat_map(|c| &c.lines).any(|line| line.text == "GET /?from=logs-test 200") {
            break logs;
        }
        assert!(Instant::now() < deadline, "the request never showed in the logs: {logs:#?}");
        tokio::time::sleep(POLL).await;
    };
    assert_eq!(logs.len(), 1);
    assert_eq!((logs[0].task_id.as_str(), logs[0].container_name.as_str()), (set.tasks[0].id.as_str(), "app"));
    assert!(
        logs[0].lines.iter().any(|line| line.text == "cutover-test-http v1 listening on 0.0.0.0:8080"),
        "{logs:#?}"
    );
    let tail = tasks.logs(&id, 1).await.unwrap();
    assert_eq!(tail[0].lines.len(), 1, "{tail:#?}");

    let missing = tasks.logs(&run.task_set_id("nothing"), 10).await.unwrap_err();
    assert!(matches!(missing, Error::TaskSetNotFound { .. }), "{missing:?}");
}

#[tokio::test]
async fn a_fixed_host_port_in_use_is_a_port_conflict() {
    let Fixture { tasks, run, image } = fixture().await;
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let mut fixed = definition(&image);
    fixed.containers[0].port_mappings[0].host_port = port;
    let id = run.task_set_id("web");

    let error = tasks.start_task_set(&id, &fixed, 1).await.unwrap_err();
    assert!(
        matches!(&error, Error::PortConflict { host_port, container, .. } if *host_port == port && container == "app"),
        "{error:?}"
    );
    assert!(error.to_string().contains(&format!("host port {port}")), "{error}");
    assert!(containers_labelled(&id, false).is_empty());

    let error = tasks.start_task_set(&id, &fixed, 2).await.unwrap_err();
    assert!(matches!(error, Error::FixedHostPort { count: 2, .. }), "{error:?}");

    drop(taken);
    let set = tasks.start_task_set(&id, &fixed, 1).await.expect("the port is free now");
    assert_eq!(set.upstreams("app", 8080), [SocketAddr::from(([127, 0, 0, 1], port))]);
}

#[tokio::test]
async fn a_task_that_exits_is_reported_with_its_exit_code_and_output() {
    let Fixture { tasks, run, image } = fixture().await;
    let mut exits = definition(&image);
    exits.containers[0].environment.insert("EXIT_AT_START".into(), "3".into());
    let id = run.task_set_id("web");
    // The container may be gone before the engine even reports its ports, or die while being checked.
    let error = match tasks.start_task_set(&id, &exits, 1).await {
        Err(error) => error,
        Ok(set) => tasks.wait_healthy(&set, HEALTHY_WITHIN).await.unwrap_err(),
    };
    let Error::TaskStopped { container, state, logs, .. } = &error else { panic!("expected TaskStopped: {error:?}") };
    assert_eq!(container, "app");
    assert!(state.contains("code 3"), "{state}");
    assert!(logs.contains("exiting with code 3 as EXIT_AT_START says"), "{logs}");
}

#[tokio::test]
async fn reconcile_scales_and_rolls_onto_a_new_revision() {
    let Fixture { tasks, run, image } = fixture().await;
    let id = run.task_set_id("web");
    let v1 = definition(&image);
    let set = tasks.start_task_set(&id, &v1, 1).await.unwrap();

    let up = tasks.reconcile(&id, &v1, 3).await.unwrap();
    assert_eq!((up.started.len(), up.task_set.tasks.len()), (2, 3), "{up:#?}");
    assert!(up.task_set.task(&set.tasks[0].id).is_some(), "the first task is kept");
    let down = tasks.reconcile(&id, &v1, 1).await.unwrap();
    assert_eq!((down.removed.len(), down.task_set.tasks.len()), (2, 1), "{down:#?}");
    assert_eq!(down.task_set.tasks[0].id, set.tasks[0].id, "the oldest task is kept");

    let v2_image = run.http_image(&tasks, binary(), "v2").await.unwrap().reference;
    let v2 = definition(&v2_image);
    let rolled = tasks.reconcile(&id, &v2, 1).await.unwrap();
    assert_eq!(rolled.replaced.len(), 1, "{rolled:#?}");
    assert!(rolled.replaced[0].reason.contains("task definition"), "{}", rolled.replaced[0].reason);
    tasks.wait_healthy(&rolled.task_set, HEALTHY_WITHIN).await.unwrap();
    assert_eq!(answers(&rolled.task_set).await, ["v2"]);
}

#[tokio::test]
async fn test_images_are_imported_once_per_content() {
    let Fixture { tasks, run, .. } = fixture().await;
    let reference = format!("cutover-test/http:{}-idempotent", run.id());
    run.track_image(&reference);
    let first = ensure_http_image(&tasks, binary(), &reference, "v1").await.unwrap();
    assert!(!first.reused);
    let second = ensure_http_image(&tasks, binary(), &reference, "v1").await.unwrap();
    assert!(second.reused && second.image_id == first.image_id && second.digest == first.digest, "{second:?}");
    let label =
        docker(&["image", "inspect", "--format", "{{index .Config.Labels \"cutover.test-image.digest\"}}", &reference]);
    assert_eq!(label.trim(), first.digest);

    let other = ensure_http_image(&tasks, binary(), &reference, "v9").await.unwrap();
    assert!(!other.reused && other.digest != first.digest && other.image_id != first.image_id, "{other:?}");
    let old = Command::new("docker").args(["image", "inspect", &first.image_id]).output().unwrap();
    assert!(!old.status.success(), "the image the tag moved away from is removed");
}

#[tokio::test]
async fn an_unreachable_engine_names_its_socket() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("docker.sock");
    let error = match TaskSets::connect(&socket).await {
        Err(error) => error,
        Ok(_) => panic!("connected to a socket that does not exist"),
    };
    assert!(matches!(&error, Error::EngineUnreachable { socket: named, .. } if *named == socket), "{error:?}");
    assert!(error.to_string().contains(&socket.display().to_string()), "{error}");
}
