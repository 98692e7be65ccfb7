//! Finding (or installing) `ansible-playbook` for the peer runs, and running a playbook with a quiet, local,
//! reproducible configuration.
//!
//! Search order: `--ansible PATH`, `$ANSIBLE_PLAYBOOK`, `ansible-playbook` on `PATH`, `target/bench-venv/bin/`.
//! When none exists (and installing is allowed) it creates `target/bench-venv` with `python3 -m venv` and
//! `pip install ansible-core`, printing each command.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

use crate::common::{PeerRun, run_peer};

/// Where to look for `ansible-playbook`, and what to do when it is missing.
pub(crate) struct Lookup<'a> {
    pub(crate) flag: Option<&'a Path>,
    pub(crate) target_dir: &'a Path,
    pub(crate) install: bool,
}

/// Finds `ansible-playbook`; installs it into `target/bench-venv` when allowed and nothing is found.
pub(crate) fn find(lookup: &Lookup<'_>) -> anyhow::Result<Option<PathBuf>> {
    if let Some(path) = lookup.flag {
        anyhow::ensure!(is_executable(path), "--ansible {}: not an executable file", path.display());
        return Ok(Some(path.to_owned()));
    }
    if let Some(path) = std::env::var_os("ANSIBLE_PLAYBOOK").filter(|value| !value.is_empty()) {
        let path = PathBuf::from(path);
        anyhow::ensure!(is_executable(&path), "$ANSIBLE_PLAYBOOK={}: not an executable file", path.display());
        return Ok(Some(path));
    }
    if let Some(path) = std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join("ansible-playbook"))
        .find(|path| is_executable(path))
    {
        return Ok(Some(path));
    }
    let venv = lookup.target_dir.join("bench-venv");
    let playbook = venv.join("bin/ansible-playbook");
    if is_executable(&playbook) {
        return Ok(Some(playbook));
    }
    if !lookup.install {
        return Ok(None);
    }
    eprintln!("ansible-playbook not found (--ansible, $ANSIBLE_PLAYBOOK, PATH, {}): installing it", playbook.display());
    let mut create = Command::new("python3");
    create.arg("-m").arg("venv").arg(&venv);
    shout(&mut create)?;
    let mut pip = Command::new(venv.join("bin/pip"));
    pip.arg("install").arg("--quiet").arg("ansible-core");
    shout(&mut pip)?;
    anyhow::ensure!(is_executable(&playbook), "{} missing after pip install ansible-core", playbook.display());
    Ok(Some(playbook))
}

/// Prints a command, runs it with inherited output, and fails unless it succeeds.
fn shout(command: &mut Command) -> anyhow::Result<()> {
    eprintln!("+ {command:?}");
    let status = command.status().with_context(|| format!("cannot run {command:?}"))?;
    if !status.success() {
        bail!("{command:?} exited with {status}");
    }
    Ok(())
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

/// `ansible-playbook --version`'s first line, e.g. `ansible-playbook [core 2.19.1]`.
pub(crate) fn version(playbook: &Path) -> String {
    Command::new(playbook)
        .arg("--version")
        .output()
        .ok()
        .and_then(|out| String::from_utf8_lossy(&out.stdout).lines().next().map(str::to_owned))
        .unwrap_or_else(|| "ansible-playbook (unknown version)".to_owned())
}

/// Runs `playbook.yml` in `work` against `inventory` with `forks`, all Ansible state kept under `work`.
pub(crate) fn run(playbook: &Path, work: &Path, inventory: &Path, forks: usize) -> anyhow::Result<PeerRun> {
    let state = work.join("ansible-state");
    std::fs::create_dir_all(&state)?;
    let mut command = Command::new(playbook);
    command
        .arg("-i")
        .arg(inventory)
        .arg("--forks")
        .arg(forks.to_string())
        .arg(work.join("playbook.yml"))
        .current_dir(work)
        .env("ANSIBLE_HOME", &state)
        .env("ANSIBLE_LOCAL_TEMP", state.join("tmp"))
        .env("ANSIBLE_REMOTE_TEMP", state.join("remote-tmp"))
        .env("ANSIBLE_HOST_KEY_CHECKING", "False")
        .env("ANSIBLE_RETRY_FILES_ENABLED", "False")
        .env("ANSIBLE_NOCOLOR", "1")
        .env("ANSIBLE_LOCALHOST_WARNING", "False")
        .env("ANSIBLE_DEPRECATION_WARNINGS", "False")
        .env("ANSIBLE_CONFIG", work.join("ansible.cfg"))
        .stdin(std::process::Stdio::null());
    std::fs::write(work.join("ansible.cfg"), "[defaults]\ninterpreter_python = auto_silent\n")?;
    run_peer(&mut command)
}
