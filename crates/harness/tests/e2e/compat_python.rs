//! Real Python clients against a real cluster: the compatibility suites in `crates/harness/tests/compat/` run with
//! boto3 and the AWS CLI, and a differential run against moto (the reference for response shapes and error codes
//! of the operations it implements).
//!
//! The clients live in a virtualenv: `$CUTOVER_COMPAT_VENV` if set, otherwise `target/compat-venv`, created on first
//! use from `compat/requirements.txt` (`.ci/run` creates it before the tests, so no test spends minutes in pip).

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use cutover_harness::{Cluster, ClusterOptions, wait_for};

/// Directory of the Python suites.
fn suites_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/compat")
}

/// `target/`, from the test executable's path (`target/<profile>/deps/<exe>`).
pub(crate) fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    exe.ancestors().nth(3).expect("target dir").to_owned()
}

/// The virtualenv with the pinned clients; creates `target/compat-venv` when missing or out of date.
pub(crate) fn venv() -> PathBuf {
    if let Some(dir) = std::env::var_os("CUTOVER_COMPAT_VENV") {
        return PathBuf::from(dir);
    }
    let venv = target_dir().join("compat-venv");
    let requirements = suites_dir().join("requirements.txt");
    let wanted = std::fs::read_to_string(&requirements).expect("requirements.txt");
    // The marker holds the requirements it was installed from, so a change of pins reinstalls.
    let marker = venv.join(".cutover-compat-ready");
    // Tests run in parallel processes: one creates the venv while the others wait on the lock.
    let lock = std::fs::File::create(target_dir().join("compat-venv.lock")).expect("lock file");
    let _lock =
        nix::fcntl::Flock::lock(lock, nix::fcntl::FlockArg::LockExclusive).map_err(|(_, errno)| errno).expect("flock");
    if std::fs::read_to_string(&marker).ok().as_deref() == Some(wanted.as_str()) {
        return venv;
    }
    let run = |command: &mut Command| {
        let out = command.output().expect("run python3");
        assert!(
            out.status.success(),
            "{command:?} failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(Command::new("python3").arg("-m").arg("venv").arg(&venv));
    run(Command::new(venv.join("bin/pip")).args(["install", "--quiet", "-r"]).arg(&requirements));
    std::fs::write(&marker, wanted).expect("marker");
    venv
}

/// Runs a suite with the venv's Python, the cluster's admin credentials and `env`; panics with its output unless it passes.
async fn run_suite(script: &str, env: Vec<(&'static str, String)>, cluster: &Cluster) {
    let venv = venv();
    let home = cluster.dir.path().join("python-home");
    std::fs::create_dir_all(&home).expect("home");
    let path = format!("{}:{}", venv.join("bin").display(), std::env::var("PATH").unwrap_or_default());
    let mut command = Command::new(venv.join("bin/python"));
    command.arg("-B").arg(suites_dir().join(script)).current_dir(suites_dir());
    // A clean AWS environment: no key, profile or config of the developer's, no instance metadata.
    for (key, _) in std::env::vars() {
        if key.starts_with("AWS_") {
            command.env_remove(key);
        }
    }
    command
        .env("PATH", path)
        .env("HOME", &home)
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", home.join("aws-config"))
        // The admin key the server wrote on first start, exactly as a user would use it.
        .env("AWS_SHARED_CREDENTIALS_FILE", cluster.credentials_file())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("CUTOVER_ENDPOINT", &cluster.endpoint)
        .envs(env);
    let out: Output =
        tokio::task::spawn_blocking(move || command.output().expect("run python")).await.expect("python task");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{script} failed:\n{stdout}\n{stderr}\n{}", cluster.logs());
    assert!(stdout.trim_end().ends_with("passed, 0 failed"), "{script} did not report its tally:\n{stdout}\n{stderr}");
    println!("{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boto3_and_aws_cli_drive_the_whole_lifecycle() {
    let cluster = Cluster::start(ClusterOptions { agents: 2, ..Default::default() }).await;
    let hosts: Vec<serde_json::Value> = cluster
        .agents
        .iter()
        .map(|agent| serde_json::json!({"name": agent.name, "host_dir": agent.host_dir, "dest_root": agent.dest_root}))
        .collect();
    run_suite("lifecycle.py", vec![("CUTOVER_HOSTS", serde_json::to_string(&hosts).expect("json"))], &cluster).await;
}

/// A `moto_server` process, killed when dropped.
struct Moto(Child);

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn responses_match_moto_for_the_operations_it_implements() {
    let venv = venv();
    let cluster = Cluster::start(ClusterOptions { agents: 0, ..Default::default() }).await;
    // moto_server takes a fixed port: ask the kernel for a free one and hand it over.
    let port = TcpListener::bind("127.0.0.1:0").and_then(|listener| listener.local_addr()).expect("free port").port();
    let log = std::fs::File::create(cluster.dir.path().join("moto.log")).expect("moto log");
    let moto = Moto(
        Command::new(venv.join("bin/moto_server"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("spawn moto_server"),
    );
    wait_for("moto_server to listen", Duration::from_secs(60), || async move {
        TcpStream::connect(("127.0.0.1", port)).ok().map(|_| ())
    })
    .await;
    run_suite("moto_diff.py", vec![("MOTO_ENDPOINT", format!("http://127.0.0.1:{port}"))], &cluster).await;
    drop(moto);
}
