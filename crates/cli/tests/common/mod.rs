//! Helpers shared by the integration tests: run the built `cutover` binary.

#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

/// Runs `cutover` with `args`, without CUTOVER_ENDPOINT from the environment.
pub(crate) fn cutover(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cutover")).args(args).env_remove("CUTOVER_ENDPOINT").output().expect("run cutover")
}

pub(crate) fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub(crate) fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Writes `text` to `dir/name`, creating parent directories.
pub(crate) fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

/// An endpoint on which nothing listens: a port that was free a moment ago.
pub(crate) fn closed_endpoint() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

pub(crate) const GOOD_APPSPEC: &str = "\
version: 0.0
os: linux
files:
  - source: index.html
    destination: /srv/app
hooks:
  ValidateService:
    - location: scripts/check.sh
      timeout: 30
";

/// Two problems: an unknown event on line 7, and a timeout that is not a number on line 9.
pub(crate) const BAD_APPSPEC: &str = "\
version: 0.0
os: linux
files:
  - source: index.html
    destination: /srv/app
hooks:
  BeforeInstal:
    - location: scripts/check.sh
      timeout: soon
";
