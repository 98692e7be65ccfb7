//! Running one hook script (CodeDeploy agent `hook_executor.rb`, with Cutover's improvements).
//!
//! - Checks first: a missing script is `ScriptMissing`; a script without any execute bit gets `chmod +x`, and only
//!   if that fails is it `ScriptNotExecutable`.
//! - The script is executed directly by absolute path (so it needs a `#!` line), in a new session (`setsid`: its
//!   own process group, no controlling terminal), with stdin on `/dev/null` and the agent's working directory.
//! - Its environment is built from nothing, so no variable of the agent (credentials, tokens, proxies) reaches it
//!   unless the operator names it with `--hook-pass-env`: `PATH` ([`HOOK_PATH`]), `LANG` ([`HOOK_LANG`]), `HOME`,
//!   `USER`, `LOGNAME` and `SHELL` of the user the script runs as, then the passed-through variables, then the hook
//!   variables (`LIFECYCLE_EVENT`, `DEPLOYMENT_ID`, ...), which win. The contract is in `docs/security.md`.
//! - `runas: user` switches uid, gid and supplementary groups directly (no `su`, no terminal): the user and its
//!   group list are resolved in the agent, and the child only calls `setsid`, `setgroups`, `setgid`, `setuid` and,
//!   for a user other than root, clears its inheritable and ambient capabilities before `exec` (the kernel clears
//!   the permitted and effective sets on `setuid`). `sudo: true` runs the script through
//!   `sudo -n [-u user] --preserve-env=<hook variables> -- <script>` instead.
//! - stdout and stderr are streamed line by line (lines longer than 16 KiB are split) into the event log as
//!   `[stdout]…` / `[stderr]…`. A line `::add-mask::VALUE` (on either stream) is not logged: it marks VALUE as a
//!   secret, replaced by `***` in every later line of the deployment's logs on this host (see `eventlog`).
//! - At the deadline the script and every process descended from it get SIGTERM, also those that left its process
//!   group with `setsid` and orphans whose parent died (found through `/proc`, see the `proctree` module); once the
//!   kill grace has passed, the tree is collected again and every survivor gets SIGKILL: `ScriptTimedOut`. Nothing
//!   else is signalled, e.g. a daemon that an earlier hook started survives. Escaped processes that hold the output
//!   pipes do not extend the event.
//! - While the script runs, the running command's tracking record (see [`crate::state::Tracking`]) names it by pid
//!   and start time, so that an agent restarted after a crash kills it with everything it started. The record stops
//!   naming it as soon as it exits (or was killed at its timeout), so a restart never kills what an exited script
//!   left running on purpose (a daemon).
//! - When the script exits but a background child keeps stdout/stderr open (a daemon started without redirecting
//!   its output), output is read for at most the drain window, then the event goes on with the script's exit status.
//!   The pipes keep being drained (and discarded) in the background until the daemon closes them, so the daemon
//!   never gets SIGPIPE; it is not killed.

use std::ffi::CString;
use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use nix::errno::Errno;
use nix::sys::signal::Signal;
use nix::unistd::{Gid, Uid, User};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::error::Error;
use crate::eventlog::EventLog;
use crate::proctree::{self, CHECK_INTERVAL, Tree};
use crate::state::{ScriptProcess, TrackingRecord};

/// Longest line kept in one log record; longer output is split.
const MAX_LINE: usize = 16 * 1024;
/// `PATH` of every hook: the usual system directories, nothing from the agent's environment.
pub(crate) const HOOK_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// `LANG` of every hook (built into glibc since 2.35, so it exists on every current distribution).
pub(crate) const HOOK_LANG: &str = "C.UTF-8";
/// A script output line that marks the rest of the line as a secret to redact.
const ADD_MASK: &str = "::add-mask::";

/// One script to run.
#[derive(Debug, Clone)]
pub(crate) struct ScriptRun {
    /// `location` as written in the AppSpec (used in messages).
    pub(crate) location: String,
    /// Absolute path of the script.
    pub(crate) path: PathBuf,
    pub(crate) timeout: Duration,
    pub(crate) runas: Option<String>,
    pub(crate) sudo: bool,
    /// Variables besides the base ones (`PATH`, `LANG`, `HOME`, ...): the passed-through ones, then the hook
    /// variables (LIFECYCLE_EVENT, DEPLOYMENT_ID, ...); a later entry wins.
    pub(crate) env: Vec<(String, String)>,
    /// Time between SIGTERM and SIGKILL of a timed-out script and the processes it started.
    pub(crate) kill_grace: Duration,
    /// How long output is still read after the script exited.
    pub(crate) drain_window: Duration,
}

enum Output {
    Line(&'static str, String),
    Closed,
}

/// Runs one script to completion (or timeout), streaming its output into `log`. While it runs, `tracking` (the
/// running command's tracking record, if any) names it, so that an agent restarted after a crash can kill it.
pub(crate) async fn run(script: &ScriptRun, log: &EventLog, tracking: Option<&TrackingRecord>) -> Result<(), Error> {
    prepare(script)?;
    log.line(&format!("Script - {}", script.location));
    let mut command = build_command(script)?;
    let mut child = command.spawn().map_err(|error| Error::ScriptStart {
        script: script.location.clone(),
        runas: script.runas.clone(),
        reason: describe_spawn_error(script, &error),
    })?;
    // Read now, while the script cannot have been reaped: its start time tells it apart from a later process that
    // reuses its pid.
    let mut tree = Tree::new(child.id().map(|id| id as i32).unwrap_or(0));
    // Named in the tracking record while it runs; only with its start time, as a bare pid may name a stranger later.
    let tracking = match (tracking, tree.root()) {
        (Some(record), Some((pid, start_time))) => {
            record.set_script(Some(&ScriptProcess { pid, start_time, boot_id: proctree::boot_id() }));
            Some(record)
        }
        _ => None,
    };
    let deadline = Instant::now() + script.timeout;

    let (sender, mut receiver) = mpsc::channel::<Output>(256);
    let mut open_streams = 0;
    if let Some(stdout) = child.stdout.take() {
        tokio::spawn(pump(stdout, "[stdout]", sender.clone()));
        open_streams += 1;
    }
    if let Some(stderr) = child.stderr.take() {
        tokio::spawn(pump(stderr, "[stderr]", sender.clone()));
        open_streams += 1;
    }
    drop(sender);

    let mut status: Option<ExitStatus> = None;
    let timed_out = loop {
        // Deadline first, then exit, then output: a script that floods its output must still time out.
        tokio::select! {
            biased;
            _ = tokio::time::sleep_until(deadline) => break true,
            exited = child.wait(), if status.is_none() => {
                status = Some(exited.map_err(|e| Error::io(format!("cannot wait for {}", script.location), e))?);
                break false;
            }
            output = receiver.recv(), if open_streams > 0 => record(output, log, &mut open_streams),
        }
    };

    if timed_out {
        let error = terminate(script, &mut child, &mut tree, &mut receiver, &mut open_streams, log).await;
        if let Some(record) = tracking {
            record.set_script(None);
        }
        return Err(error);
    }
    // The script is over: a crash from now on must not kill what it left running on purpose (a daemon).
    if let Some(record) = tracking {
        record.set_script(None);
    }

    // The script exited: read what is left, but only for the drain window (and never past the deadline).
    let drain_deadline = (Instant::now() + script.drain_window).min(deadline);
    while open_streams > 0 {
        tokio::select! {
            biased;
            _ = tokio::time::sleep_until(drain_deadline) => {
                log.line(&format!(
                    "[agent] {} exited, but a background process still holds its stdout/stderr open; stopped \
                     waiting for its output (redirect the output of daemons started from hooks)",
                    script.location
                ));
                break;
            }
            output = receiver.recv() => record(output, log, &mut open_streams),
        }
    }
    // Dropping the receiver switches the pumps to discarding: they keep draining until the pipes close.
    drop(receiver);

    let status = status.unwrap_or_else(|| ExitStatus::from_raw(0));
    match (status.code(), status.signal()) {
        (Some(0), _) => Ok(()),
        (Some(code), _) => Err(Error::ScriptFailed {
            script: script.location.clone(),
            runas: script.runas.clone(),
            code,
            signal: None,
        }),
        (None, signal) => Err(Error::ScriptFailed {
            script: script.location.clone(),
            runas: script.runas.clone(),
            code: 128 + signal.unwrap_or(0),
            signal,
        }),
    }
}

/// The pre-flight checks: the script exists, and is executable (after `chmod +x` if needed).
fn prepare(script: &ScriptRun) -> Result<(), Error> {
    let missing = || Error::ScriptMissing { script: script.location.clone(), path: script.path.clone() };
    let metadata = fs::metadata(&script.path).map_err(|_| missing())?;
    if !metadata.is_file() {
        return Err(missing());
    }
    let mode = metadata.permissions().mode();
    if mode & 0o111 == 0 {
        fs::set_permissions(&script.path, fs::Permissions::from_mode(mode | 0o111))
            .map_err(|_| Error::ScriptNotExecutable { script: script.location.clone(), path: script.path.clone() })?;
    }
    Ok(())
}

fn build_command(script: &ScriptRun) -> Result<tokio::process::Command, Error> {
    let start_error =
        |reason: String| Error::ScriptStart { script: script.location.clone(), runas: script.runas.clone(), reason };
    let mut command = if script.sudo {
        let mut command = tokio::process::Command::new("sudo");
        command.arg("-n");
        let names: Vec<&str> = script.env.iter().map(|(name, _)| name.as_str()).collect();
        if !names.is_empty() {
            command.arg(format!("--preserve-env={}", names.join(",")));
        }
        if let Some(user) = &script.runas {
            command.arg("-u").arg(user).arg("-H");
        }
        command.arg("--").arg(&script.path);
        command
    } else {
        tokio::process::Command::new(&script.path)
    };
    command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(false);
    let switch = match (&script.runas, script.sudo) {
        (Some(user_name), false) => {
            let user = User::from_name(user_name)
                .map_err(|e| start_error(format!("cannot look up user {user_name}: {e}")))?
                .ok_or_else(|| start_error(format!("user {user_name} does not exist")))?;
            let c_name = CString::new(user_name.as_bytes()).map_err(|_| start_error("invalid user name".into()))?;
            let groups = nix::unistd::getgrouplist(&c_name, user.gid)
                .map_err(|e| start_error(format!("cannot list the groups of {user_name}: {e}")))?;
            set_base_env(&mut command, Some(&user));
            Some(Switch { uid: user.uid, gid: user.gid, groups })
        }
        _ => {
            // The agent's own user; `sudo -H` sets HOME for its target user itself.
            let user = User::from_uid(nix::unistd::getuid()).ok().flatten();
            set_base_env(&mut command, user.as_ref());
            None
        }
    };
    command.envs(script.env.iter().map(|(name, value)| (name, value)));
    isolate(&mut command, switch);
    Ok(command)
}

/// Starts the hook's environment from nothing: `PATH`, `LANG`, and who it runs as.
fn set_base_env(command: &mut tokio::process::Command, user: Option<&User>) {
    command.env_clear().env("PATH", HOOK_PATH).env("LANG", HOOK_LANG);
    if let Some(user) = user {
        command.env("HOME", &user.dir).env("USER", &user.name).env("LOGNAME", &user.name).env("SHELL", &user.shell);
    }
}

/// The user a `runas` script switches to, resolved in the agent.
struct Switch {
    uid: Uid,
    gid: Gid,
    groups: Vec<Gid>,
}

/// Makes the child start a new session (no controlling terminal) and, with `switch`, drop to its uid/gid with
/// exactly its supplementary groups and no capabilities, before `exec`.
#[allow(unsafe_code)]
fn isolate(command: &mut tokio::process::Command, switch: Option<Switch>) {
    // SAFETY: the closure runs in the forked child before exec, where only async-signal-safe operations are
    // allowed. It calls nothing but the setsid, setgroups, setgid, setuid, capset and prctl system calls (through
    // nix's and libc's thin wrappers, which do not allocate; errno converts into io::Error without allocating).
    // Everything that needs NSS or allocation (the user, its primary group and its group list) was computed in the
    // parent and moved in. Groups go first: after setuid the process would no longer have the privilege to change
    // them.
    unsafe {
        command.pre_exec(move || {
            nix::unistd::setsid()?;
            if let Some(switch) = &switch {
                nix::unistd::setgroups(&switch.groups)?;
                nix::unistd::setgid(switch.gid)?;
                nix::unistd::setuid(switch.uid)?;
                if !switch.uid.is_root() {
                    drop_capabilities()?;
                }
            }
            Ok(())
        });
    }
}

/// Clears the inheritable and ambient capability sets (and the permitted and effective ones, which `setuid` to a
/// user other than root has already emptied), so that `exec` cannot hand capabilities back through file
/// capabilities. The bounding set is left alone: set-user-ID programs the administrator installed (`sudo`) keep
/// working, as they do for that user's login sessions.
#[allow(unsafe_code)]
fn drop_capabilities() -> io::Result<()> {
    use nix::libc;
    #[repr(C)]
    struct Header {
        version: u32,
        pid: libc::c_int,
    }
    #[repr(C)]
    #[derive(Clone, Copy)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;
    let header = Header { version: LINUX_CAPABILITY_VERSION_3, pid: 0 };
    let data = [Data { effective: 0, permitted: 0, inheritable: 0 }; 2];
    // SAFETY: capset reads one header and two data structs (version 3), laid out as the kernel's
    // `__user_cap_header_struct` and `__user_cap_data_struct`; both outlive the call.
    if unsafe { libc::syscall(libc::SYS_capset, &header as *const Header, data.as_ptr()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: prctl with integer arguments only.
    if unsafe { libc::prctl(libc::PR_CAP_AMBIENT, libc::PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) } != 0 {
        let error = io::Error::last_os_error();
        // Kernels before 4.3 have no ambient set: nothing to clear.
        if error.raw_os_error() != Some(libc::EINVAL) {
            return Err(error);
        }
    }
    Ok(())
}

fn describe_spawn_error(script: &ScriptRun, error: &io::Error) -> String {
    match error.raw_os_error() {
        Some(code) if code == Errno::ENOEXEC as i32 => {
            format!("{error} (a script must start with a #! line, e.g. #!/bin/bash)")
        }
        Some(code) if code == Errno::ENOENT as i32 && script.sudo => format!("{error} (is sudo installed?)"),
        Some(code) if code == Errno::ENOENT as i32 => format!("{error} (is the #! interpreter installed?)"),
        _ => error.to_string(),
    }
}

/// Terminates a timed-out script and everything it started: SIGTERM to the whole tree, then SIGKILL to whatever is
/// left of it after the grace.
async fn terminate(
    script: &ScriptRun,
    child: &mut tokio::process::Child,
    tree: &mut Tree,
    receiver: &mut mpsc::Receiver<Output>,
    open_streams: &mut usize,
    log: &EventLog,
) -> Error {
    log.line(&format!(
        "[agent] {} did not finish within {} seconds; sending SIGTERM to it and to every process it started",
        script.location,
        script.timeout.as_secs()
    ));
    let members = tree.collect();
    tree.signal(&members, Signal::SIGTERM);
    let grace_deadline = Instant::now() + script.kill_grace;
    let mut exited = false;
    loop {
        // The cheap check first; a full scan only to confirm that nothing new was started meanwhile.
        if exited && !tree.any_alive() && tree.collect().is_empty() {
            break;
        }
        tokio::select! {
            biased;
            _ = tokio::time::sleep(CHECK_INTERVAL) => {}
            _ = child.wait(), if !exited => exited = true,
            output = receiver.recv(), if *open_streams > 0 => record(output, log, open_streams),
        }
        if Instant::now() >= grace_deadline {
            break;
        }
    }
    // Collected again: processes started since the first scan, and orphans whose parent died (found through the
    // pids, groups and sessions recorded earlier).
    let survivors = tree.collect();
    if !survivors.is_empty() {
        log.line(&format!(
            "[agent] {} processes of the script are still running after the kill grace; sending SIGKILL",
            survivors.len()
        ));
        let survivors = tree.kill(survivors).await;
        if !survivors.is_empty() {
            let pids: Vec<String> = survivors.iter().map(|member| member.pid.to_string()).collect();
            log.line(&format!("[agent] processes {} survived SIGKILL (uninterruptible sleep?)", pids.join(", ")));
        }
    }
    if !exited {
        let _ = tokio::time::timeout(Duration::from_secs(5), child.wait()).await;
    }
    // Collect the last lines the processes wrote before they died, without waiting for anything that escaped.
    let drain_deadline = Instant::now() + Duration::from_millis(100);
    while *open_streams > 0 {
        tokio::select! {
            biased;
            _ = tokio::time::sleep_until(drain_deadline) => break,
            output = receiver.recv() => record(output, log, open_streams),
        }
    }
    Error::ScriptTimedOut { script: script.location.clone(), timeout_secs: script.timeout.as_secs() }
}

fn record(output: Option<Output>, log: &EventLog, open_streams: &mut usize) {
    match output {
        Some(Output::Line(_, text)) if text.starts_with(ADD_MASK) => {
            log.add_mask(text[ADD_MASK.len()..].trim_end_matches('\r'));
        }
        Some(Output::Line(prefix, text)) => log.line(&format!("{prefix}{text}")),
        Some(Output::Closed) => *open_streams = open_streams.saturating_sub(1),
        None => *open_streams = 0,
    }
}

/// Reads one pipe to its end, sending each line. Once the receiver is gone it keeps reading and discarding, so the
/// writer (a daemon that inherited the pipe) never gets SIGPIPE.
async fn pump(reader: impl AsyncRead + Unpin, prefix: &'static str, sender: mpsc::Sender<Output>) {
    let mut reader = BufReader::with_capacity(8192, reader);
    let mut line: Vec<u8> = Vec::new();
    let mut forwarding = true;
    loop {
        let buffer = match reader.fill_buf().await {
            Ok([]) | Err(_) => break,
            Ok(buffer) => buffer,
        };
        let length = buffer.len();
        if !forwarding {
            reader.consume(length);
            continue;
        }
        let (consumed, complete) = match buffer.iter().position(|b| *b == b'\n') {
            Some(newline) => {
                line.extend_from_slice(&buffer[..newline]);
                (newline + 1, true)
            }
            None => {
                line.extend_from_slice(buffer);
                (length, line.len() >= MAX_LINE)
            }
        };
        reader.consume(consumed);
        if complete {
            let text = String::from_utf8_lossy(&line).into_owned();
            line.clear();
            forwarding = sender.send(Output::Line(prefix, text)).await.is_ok();
        }
    }
    if forwarding {
        if !line.is_empty() {
            let _ = sender.send(Output::Line(prefix, String::from_utf8_lossy(&line).into_owned())).await;
        }
        let _ = sender.send(Output::Closed).await;
    }
}
