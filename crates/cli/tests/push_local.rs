//! `cutover push` refuses a revision without a valid AppSpec before any network call: the endpoint is a closed
//! port, so reaching the network would fail with a connection error instead of the AppSpec one.

mod common;

use common::{BAD_APPSPEC, GOOD_APPSPEC, closed_endpoint, cutover, stderr, stdout, write};

fn push(endpoint: &str, source: &str) -> std::process::Output {
    cutover(&["--endpoint", endpoint, "push", "--application-name", "app", "--source", source])
}

#[test]
fn a_directory_without_appspec_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "index.html", "hi");
    write(dir.path(), "sub/appspec.yml", GOOD_APPSPEC);
    let source = dir.path().to_str().expect("utf-8 path");
    let output = push(&closed_endpoint(), source);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(err.starts_with(&format!("Error: appspec.yml was not found in {source}\n")), "{err}");
    assert!(!err.contains("cannot reach"), "no network call was made: {err}");
    assert_eq!(stdout(&output), "");
}

#[test]
fn an_invalid_appspec_is_refused_with_every_diagnostic() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "appspec.yml", BAD_APPSPEC);
    write(dir.path(), "index.html", "hi");
    let source = dir.path().to_str().expect("utf-8 path");
    let output = push(&closed_endpoint(), source);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    let appspec = format!("{source}/appspec.yml");
    assert!(err.starts_with(&format!("Error: {appspec} is not a valid AppSpec (")), "{err}");
    assert!(err.contains(&format!("\n{appspec}: line 7: ")), "{err}");
    assert!(err.contains(&format!("\n{appspec}: line 9: ")), "{err}");
    assert!(!err.contains("cannot reach"), "no network call was made: {err}");
}

#[test]
fn appspec_yaml_is_accepted_and_then_the_server_is_needed() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "appspec.yaml", GOOD_APPSPEC);
    write(dir.path(), "index.html", "hi");
    let endpoint = closed_endpoint();
    let output = push(&endpoint, dir.path().to_str().expect("utf-8 path"));
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(err.starts_with(&format!("Error: cannot reach {endpoint}")), "a valid revision goes to the network: {err}");
}

#[test]
fn a_file_as_source_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "appspec.yml", GOOD_APPSPEC);
    let file = dir.path().join("appspec.yml");
    let output = push(&closed_endpoint(), file.to_str().expect("utf-8 path"));
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("is not a directory"), "{}", stderr(&output));
}
