//! Runs `cutover-bench --smoke` (the tiny version of every scenario, which never asserts timings) and checks that it
//! exits successfully and that its table has a row for each of B1..B6.
//!
//! The server, agent, router and `cutover-test-http` binaries must have been built next to the bench binary
//! (`cargo build --workspace --bins`, as CI does before the tests). The Ansible peers run only when `ansible-playbook`
//! is available. B6 runs when the local Docker engine answers (its row is a placeholder otherwise), its peer only
//! when `docker-compose` is installed.
//!
//! When `CUTOVER_TEST_PG_URL` names a PostgreSQL server (`.ci/run` starts one), B1 and B2 also run on PostgreSQL.

use std::process::Command;

#[test]
fn smoke_runs_every_scenario() {
    let output = Command::new(env!("CARGO_BIN_EXE_cutover-bench")).arg("--smoke").output().expect("run cutover-bench");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "cutover-bench --smoke exited with {}\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}",
        output.status
    );
    for scenario in ["B1", "B2", "B3", "B4", "B5", "B6"] {
        assert!(
            stdout.lines().any(|line| line.starts_with(&format!("| {scenario} "))),
            "no {scenario} row in the table:\n{stdout}\n--- stderr ---\n{stderr}"
        );
    }
    // B6 (when Docker ran it) removed its compose project, task sets and images; its run id is in the images' tag.
    if let Some(run) = stdout.split("images cutover-test/http:").nth(1).and_then(|rest| rest.split("-v1").next()) {
        let docker = |args: &[&str]| {
            let out = Command::new("docker").args(args).output().expect("docker");
            String::from_utf8_lossy(&out.stdout).trim().to_owned()
        };
        let project = format!("label=com.docker.compose.project=cutover-b6-{run}");
        assert_eq!(docker(&["ps", "-aq", "--filter", &project]), "", "compose containers of run {run} left behind");
        assert_eq!(
            docker(&["ps", "-aq", "--filter", &format!("name={run}-")]),
            "",
            "task sets of run {run} left behind"
        );
        for version in ["v1", "v2"] {
            let image = format!("cutover-test/http:{run}-{version}");
            assert_eq!(docker(&["images", "-q", &image]), "", "image {image} left behind");
        }
    }
    // B5's rollback must come from the agents' local copies, not a new download.
    assert!(stdout.contains("DownloadBundle reused the local bundle"), "B5 observation:\n{stdout}");
}

#[test]
fn smoke_runs_b1_and_b2_on_postgresql() {
    let Ok(url) = std::env::var("CUTOVER_TEST_PG_URL") else {
        eprintln!("CUTOVER_TEST_PG_URL is not set: PostgreSQL smoke skipped");
        return;
    };
    let child = Command::new(env!("CARGO_BIN_EXE_cutover-bench"))
        .args(["b1", "b2", "--smoke", "--no-ansible", "--database-url", &url])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run cutover-bench");
    // Its databases are named after its process id.
    let pid = child.id();
    let output = child.wait_with_output().expect("wait for cutover-bench");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "cutover-bench --smoke --database-url exited with {}\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}",
        output.status
    );
    assert!(stdout.lines().any(|line| line.starts_with("database: PostgreSQL ")), "header:\n{stdout}");
    for scenario in ["B1", "B2"] {
        assert!(
            stdout.lines().any(|line| line.starts_with(&format!("| {scenario} "))),
            "no {scenario} row in the table:\n{stdout}\n--- stderr ---\n{stderr}"
        );
    }
    // Every cluster's database is dropped again.
    let left = Command::new("psql")
        .arg(&url)
        .args([
            "-XAtq",
            "-c",
            &format!("SELECT count(*) FROM pg_database WHERE datname LIKE 'cutover\\_bench\\_{pid}\\_%'"),
        ])
        .output()
        .expect("psql");
    assert_eq!(String::from_utf8_lossy(&left.stdout).trim(), "0", "benchmark databases left behind");
}
