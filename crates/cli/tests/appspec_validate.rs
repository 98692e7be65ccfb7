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

/// The bad-AppSpec corpus: each `tests/appspec_corpus/NAME.yml` must be refused with exit code 1 and print exactly
/// `NAME.out`. `CUTOVER_BLESS=1` rewrites the `.out` files from the current output (review the diff).
#[test]
fn the_bad_appspec_corpus_prints_exact_messages() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/appspec_corpus");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("corpus")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yml"))
        .collect();
    files.sort();
    assert!(files.len() >= 20, "the corpus is there");
    let bless = std::env::var_os("CUTOVER_BLESS").is_some();
    let mut stale = Vec::new();
    for file in files {
        let name = file.file_name().expect("name").to_str().expect("utf-8").to_owned();
        // Run from the corpus directory so that the file names in the output are the bare names.
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_cutover"))
            .args(["appspec", "validate", &name])
            .current_dir(&dir)
            .output()
            .expect("run cutover");
        assert_eq!(output.status.code(), Some(1), "{name} is refused with exit code 1");
        let err = stderr(&output);
        assert!(err.starts_with(&format!("Error: {name} is not a valid AppSpec (")), "{name}: {err}");
        let expected_path = file.with_extension("out");
        let got = stdout(&output);
        if bless {
            std::fs::write(&expected_path, &got).expect("bless");
        } else if std::fs::read_to_string(&expected_path).unwrap_or_default() != got {
            stale.push(format!("{name}: expected {}, got:\n{got}", expected_path.display()));
        }
    }
    assert!(stale.is_empty(), "run with CUTOVER_BLESS=1 to accept:\n{}", stale.join("\n"));
}
