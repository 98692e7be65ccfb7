//! `cutover appspec validate`: exit codes and output on a good and a bad file.

mod common;

use common::{BAD_APPSPEC, GOOD_APPSPEC, cutover, stderr, stdout, write};

#[test]
fn a_valid_file_prints_ok_and_exits_0() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "appspec.yml", GOOD_APPSPEC);
    let file = dir.path().join("appspec.yml");
    let file = file.to_str().expect("utf-8 path");
    let output = cutover(&["appspec", "validate", file]);
    assert_eq!(output.status.code(), Some(0), "stderr: {}", stderr(&output));
    assert_eq!(stdout(&output), format!("{file}: OK\n"));
    assert_eq!(stderr(&output), "");
}

#[test]
fn an_invalid_file_prints_every_diagnostic_with_its_line_and_exits_1() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "appspec.yml", BAD_APPSPEC);
    let file = dir.path().join("appspec.yml");
    let file = file.to_str().expect("utf-8 path");
    let output = cutover(&["appspec", "validate", file]);
    assert_eq!(output.status.code(), Some(1));
    let out = stdout(&output);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines.len() >= 2, "expected every problem, got {out}");
    for line in &lines {
        assert!(line.starts_with(&format!("{file}: line ")), "{line}");
    }
    assert!(out.contains("BeforeInstal"), "the unknown event is named: {out}");
    assert!(lines.iter().any(|line| line.contains("timeout")), "the bad timeout is reported: {out}");
    // Line numbers point at the offending nodes.
    assert!(out.contains(&format!("{file}: line 7:")), "{out}");
    assert!(out.contains(&format!("{file}: line 9:")), "{out}");
    let err = stderr(&output);
    assert!(err.starts_with(&format!("Error: {file} is not a valid AppSpec (")), "{err}");
}

#[test]
fn a_missing_file_is_an_error() {
    let output = cutover(&["appspec", "validate", "/nonexistent/appspec.yml"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).starts_with("Error: cannot read /nonexistent/appspec.yml"), "{}", stderr(&output));
}
