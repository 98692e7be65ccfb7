//! Runs `cutover-bench --smoke` (the tiny version of every scenario, which never asserts timings) and checks that it
//! exits successfully and that its table has a row for each of B1..B5.
//!
//! The server and agent binaries must have been built next to the bench binary (`cargo build --workspace --bins`,
//! as CI does before the tests). The Ansible peers run only when `ansible-playbook` is available.

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
    for scenario in ["B1", "B2", "B3", "B4", "B5"] {
        assert!(
            stdout.lines().any(|line| line.starts_with(&format!("| {scenario} "))),
            "no {scenario} row in the table:\n{stdout}\n--- stderr ---\n{stderr}"
        );
    }
    // B5's rollback must come from the agents' local copies, not a new download.
    assert!(stdout.contains("DownloadBundle reused the local bundle"), "B5 observation:\n{stdout}");
}
