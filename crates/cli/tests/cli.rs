//! The command line itself: usage errors, help, and error classification without a server.

mod common;

use common::{closed_endpoint, cutover, stderr, stdout};

#[test]
fn usage_errors_exit_2() {
    assert_eq!(cutover(&["no-such-command"]).status.code(), Some(2));
    assert_eq!(cutover(&["push", "--source", "."]).status.code(), Some(2), "--application-name is required");
    assert_eq!(
        cutover(&["push", "--application-name", "a", "--source", ".", "--bundle-type", "rar"]).status.code(),
        Some(2)
    );
    assert_eq!(
        cutover(&[
            "deploy",
            "--application-name",
            "a",
            "--deployment-group-name",
            "g",
            "--revision",
            "{}",
            "--s3-location",
            "b/k"
        ])
        .status
        .code(),
        Some(2),
        "--revision and --s3-location conflict"
    );
    assert_eq!(cutover(&["deployments", "list", "--deployment-group-name", "g"]).status.code(), Some(2));
}

#[test]
fn help_documents_the_exit_codes() {
    let output = cutover(&["--help"]);
    assert_eq!(output.status.code(), Some(0));
    let help = stdout(&output);
    assert!(help.contains("Exit codes:"), "{help}");
    for code in ["0 ", "1 ", "2 ", "3 ", "255 "] {
        assert!(help.contains(&format!("\n  {code}")), "exit code {code} is documented: {help}");
    }
}

#[test]
fn an_unreachable_server_is_a_user_error_with_a_hint() {
    let endpoint = closed_endpoint();
    let output = cutover(&["--endpoint", &endpoint, "applications", "list"]);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(err.starts_with(&format!("Error: cannot reach {endpoint}")), "{err}");
    assert!(err.contains(&format!("Hint: is cutover-server running at {endpoint}?")), "{err}");
    assert_eq!(stdout(&output), "");
}

#[test]
fn the_endpoint_comes_from_the_environment_too() {
    let endpoint = closed_endpoint();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_cutover"))
        .args(["instances", "--json"])
        .env("CUTOVER_ENDPOINT", &endpoint)
        .output()
        .expect("run cutover");
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains(&endpoint), "{}", stderr(&output));
}
