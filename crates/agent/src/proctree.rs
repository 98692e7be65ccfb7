//! The processes a hook script started, found through `/proc`, so that a timed-out script can be killed with
//! everything it left running (§8 case 6), and so that a restarted agent can kill the script it was running when it
//! died, with everything that script started (§8 case 1).
//!
//! Killing the script's process group is not enough: a descendant may have left the group (`setsid`, `setpgid`), and
//! a child whose parent died is re-parented to init, which cuts its `ppid` link to the script. A [`Tree`] therefore
//! remembers every process it ever found, and each [`Tree::collect`] scans `/proc/*/stat` and adds, until nothing
//! changes, every process whose parent, process group or session is a process of the tree (a process group or
//! session id names the process that created it, and Linux never reuses a pid while a group or session still
//! carries it), and that did not start before the script (a descendant never predates its ancestor). Processes are
//! identified by pid *and* start time (`/proc/<pid>/stat` field 22), so a pid reused by an unrelated process is
//! never mistaken for a member. A tree can also be rebuilt from a script identity recorded by an earlier agent
//! ([`Tree::recorded`]): the script and its descendants were re-parented to init when the agent died, but they are
//! still linked to the script through their process group and session.
//!
//! [`Tree::terminate`] is the whole kill: SIGTERM, the grace, then SIGKILL to whatever is left (the timeout path of
//! the `script` module interleaves the same steps, [`Tree::signal`] and [`Tree::kill`], with reading the script's
//! output).
//!
//! Only descendants are ever signalled: never the agent itself, never pid 1, never a group the tree does not lead
//! (in particular not the agent's own group), never a daemon started by an earlier script.
//!
//! What escapes: a process that double-forked into a new session *and* whose intermediate parents all exited before
//! the scan has no link left to the script. Catching that needs a cgroup per script.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::time::Duration;

use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::{Pid, getpgrp, getpid};
use tokio::time::Instant;

/// How often the members are checked for survivors while waiting for them to exit.
pub(crate) const CHECK_INTERVAL: Duration = Duration::from_millis(20);
/// Longest time SIGKILL is repeated at survivors (which may fork between a scan and the signal).
const KILL_SETTLE: Duration = Duration::from_secs(2);

/// One process as read from `/proc/<pid>/stat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stat {
    pid: i32,
    ppid: i32,
    pgrp: i32,
    session: i32,
    /// Clock ticks after boot: with the pid, identifies the process across pid reuse.
    start_time: u64,
    /// Zombie or dead: nothing left to kill.
    exited: bool,
}

/// A process identity: its pid and its start time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Member {
    pub(crate) pid: i32,
    pgrp: i32,
    start_time: u64,
}

/// What [`Tree::terminate`] did.
#[derive(Debug, Default)]
pub(crate) struct Termination {
    /// The members that were alive at first, and got SIGTERM.
    pub(crate) terminated: Vec<Member>,
    /// The members still alive after the grace (or started during it), which got SIGKILL.
    pub(crate) killed: Vec<Member>,
    /// The members still alive after SIGKILL was repeated for a while (uninterruptible sleep?).
    pub(crate) survivors: Vec<Member>,
}

/// Every process descended from one script, as far as it has been seen.
#[derive(Debug)]
pub(crate) struct Tree {
    /// pid → start time (`None`: the root, whose stat could not be read at spawn; it then matches any start time).
    known: HashMap<i32, Option<u64>>,
    /// The root's pid (0: none).
    root_pid: i32,
    /// The root's start time: no process that started earlier is a member.
    min_start_time: Option<u64>,
}

impl Tree {
    /// A tree rooted at the script's pid. Call it right after spawning, while the script cannot have been reaped.
    /// A pid of 0 or 1 (no pid known) gives an empty tree: 0 is the parent, group and session of kernel threads.
    pub(crate) fn new(root: i32) -> Self {
        if root <= 1 {
            return Self::empty();
        }
        let start_time = read_stat(root).map(|stat| stat.start_time);
        Self { known: HashMap::from([(root, start_time)]), root_pid: root, min_start_time: start_time }
    }

    /// A tree rooted at a script that an earlier agent recorded (pid and start time), e.g. one it was running when it
    /// died. The script may have exited since: its descendants are still found through its process group and
    /// session. A process that now has the script's pid but another start time is not the script.
    pub(crate) fn recorded(pid: i32, start_time: u64) -> Self {
        if pid <= 1 {
            return Self::empty();
        }
        Self { known: HashMap::from([(pid, Some(start_time))]), root_pid: pid, min_start_time: Some(start_time) }
    }

    fn empty() -> Self {
        Self { known: HashMap::new(), root_pid: 0, min_start_time: None }
    }

    /// The root's pid and start time, when both are known (what to record to find the script again later).
    pub(crate) fn root(&self) -> Option<(i32, u64)> {
        self.min_start_time.map(|start_time| (self.root_pid, start_time))
    }

    /// Scans `/proc`, adds every new descendant to the tree, and returns the members that are still alive (zombies
    /// are not: there is nothing left to kill).
    pub(crate) fn collect(&mut self) -> Vec<Member> {
        let procs = snapshot();
        self.extend(&procs);
        procs.values().filter(|stat| !stat.exited && self.is_member(stat)).map(member).collect()
    }

    /// True when any member seen so far is still alive. Cheaper than [`Tree::collect`] (one stat per member, no
    /// `/proc` scan), so it can be polled; it cannot see processes started since the last collect.
    pub(crate) fn any_alive(&self) -> bool {
        self.known.keys().filter_map(|pid| read_stat(*pid)).any(|stat| !stat.exited && self.is_member(&stat))
    }

    /// Sends `signal` to each of `members` and to their process groups (which reaches processes forked since the
    /// scan). Errors (the process already exited) are ignored.
    pub(crate) fn signal(&self, members: &[Member], signal: Signal) {
        let own_pid = getpid().as_raw();
        let own_group = getpgrp().as_raw();
        let mut groups = HashSet::new();
        for member in members.iter().filter(|member| member.pid > 1 && member.pid != own_pid) {
            let _ = kill(Pid::from_raw(member.pid), signal);
            // Only a group that a process of the tree created (its id is a member's pid, alive or not): a process
            // can move itself into another group of its session (the agent's, say), whose other members are not
            // the script's to kill.
            if self.known.contains_key(&member.pgrp) {
                groups.insert(member.pgrp);
            }
        }
        for group in groups.into_iter().filter(|group| *group > 1 && *group != own_group) {
            let _ = killpg(Pid::from_raw(group), signal);
        }
    }

    /// SIGKILLs `survivors`, and again whatever of the tree is still alive (a survivor may fork between a scan and
    /// the signal; once killed, nothing forks any more), until nothing is left or [`KILL_SETTLE`] has passed (dying
    /// takes a moment, or longer in uninterruptible sleep). Returns the members still alive at the end.
    pub(crate) async fn kill(&mut self, mut survivors: Vec<Member>) -> Vec<Member> {
        let deadline = Instant::now() + KILL_SETTLE;
        while !survivors.is_empty() && Instant::now() < deadline {
            self.signal(&survivors, Signal::SIGKILL);
            tokio::time::sleep(CHECK_INTERVAL).await;
            survivors = self.collect();
        }
        survivors
    }

    /// Kills every live member: SIGTERM, up to `grace` for them all to exit, then [`Tree::kill`] for the rest.
    pub(crate) async fn terminate(&mut self, grace: Duration) -> Termination {
        let terminated = self.collect();
        if terminated.is_empty() {
            return Termination::default();
        }
        self.signal(&terminated, Signal::SIGTERM);
        let grace_deadline = Instant::now() + grace;
        // The cheap check first; a full scan only to confirm that nothing new was started meanwhile.
        while Instant::now() < grace_deadline && (self.any_alive() || !self.collect().is_empty()) {
            tokio::time::sleep(CHECK_INTERVAL).await;
        }
        let killed = self.collect();
        let survivors = if killed.is_empty() { Vec::new() } else { self.kill(killed.clone()).await };
        Termination { terminated, killed, survivors }
    }

    /// Adds, until nothing changes, every process whose parent, group or session is a member.
    fn extend(&mut self, procs: &HashMap<i32, Stat>) {
        // A member whose pid now belongs to another process (different start time) died and its pid was reused:
        // forget it, so the stranger and its children are not taken for descendants.
        self.known.retain(|pid, start| match (procs.get(pid), start) {
            (Some(stat), Some(start)) => stat.start_time == *start,
            _ => true,
        });
        let own_pid = getpid().as_raw();
        let min_start_time = self.min_start_time.unwrap_or(0);
        loop {
            let found: Vec<Stat> = procs
                .values()
                .filter(|stat| stat.pid > 1 && stat.pid != own_pid && !self.known.contains_key(&stat.pid))
                .filter(|stat| stat.start_time >= min_start_time)
                .filter(|stat| [stat.ppid, stat.pgrp, stat.session].iter().any(|id| self.known.contains_key(id)))
                .copied()
                .collect();
            if found.is_empty() {
                return;
            }
            for stat in found {
                self.known.insert(stat.pid, Some(stat.start_time));
            }
        }
    }

    fn is_member(&self, stat: &Stat) -> bool {
        match self.known.get(&stat.pid) {
            Some(Some(start)) => *start == stat.start_time,
            Some(None) => true,
            None => false,
        }
    }
}

fn member(stat: &Stat) -> Member {
    Member { pid: stat.pid, pgrp: stat.pgrp, start_time: stat.start_time }
}

/// `/proc/sys/kernel/random/boot_id`: a pid and start time name one process of one boot only.
pub(crate) fn boot_id() -> Option<String> {
    let id = fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
    let id = id.trim();
    (!id.is_empty()).then(|| id.to_owned())
}

/// Every process on the host.
fn snapshot() -> HashMap<i32, Stat> {
    let Ok(entries) = fs::read_dir("/proc") else { return HashMap::new() };
    entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str().and_then(|name| name.parse::<i32>().ok()))
        .filter_map(read_stat)
        .map(|stat| (stat.pid, stat))
        .collect()
}

fn read_stat(pid: i32) -> Option<Stat> {
    parse_stat(&fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// Parses `pid (comm) state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime cutime
/// cstime priority nice num_threads itrealvalue starttime ...`. `comm` may hold spaces and parentheses, so the
/// fields are split after the last `)`.
fn parse_stat(text: &str) -> Option<Stat> {
    let open = text.find(" (")?;
    let pid = text[..open].trim().parse().ok()?;
    let close = text.rfind(')')?;
    let fields: Vec<&str> = text[close + 1..].split_whitespace().collect();
    let state = *fields.first()?;
    Some(Stat {
        pid,
        ppid: fields.get(1)?.parse().ok()?,
        pgrp: fields.get(2)?.parse().ok()?,
        session: fields.get(3)?.parse().ok()?,
        start_time: fields.get(19)?.parse().ok()?,
        exited: matches!(state, "Z" | "X" | "x"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_parse_with_odd_command_names() {
        let line = "4242 (a) b (c)) S 17 4242 99 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 123456 1 2 3";
        let stat = parse_stat(line).expect("parse");
        assert_eq!((stat.pid, stat.ppid, stat.pgrp, stat.session, stat.start_time), (4242, 17, 4242, 99, 123_456));
        assert!(!stat.exited);
        let zombie = parse_stat("7 (sh) Z 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0").expect("parse");
        assert!(zombie.exited);
        assert!(parse_stat("garbage").is_none());
    }

    #[test]
    fn descendants_are_found_through_parents_groups_and_sessions_and_reused_pids_are_dropped() {
        let stat = |pid, ppid, pgrp, session, start_time| Stat { pid, ppid, pgrp, session, start_time, exited: false };
        let procs: HashMap<i32, Stat> = [
            stat(100, 50, 50, 50, 1000),    // the script's parent (the agent): never a member
            stat(200, 100, 200, 50, 1001),  // the script, leader of its own group
            stat(201, 200, 200, 50, 1002),  // a child
            stat(202, 1, 200, 50, 1003),    // orphaned, still in the script's group
            stat(203, 201, 203, 203, 1004), // a grandchild that called setsid
            stat(204, 1, 203, 203, 1005),   // orphaned in that new session
            stat(300, 1, 300, 300, 900),    // an earlier daemon: unrelated
            stat(301, 100, 50, 50, 1006),   // another child of the agent: unrelated
        ]
        .into_iter()
        .map(|s| (s.pid, s))
        .collect();
        let mut tree = Tree::recorded(200, 1001);
        tree.extend(&procs);
        let mut members: Vec<i32> = tree.known.keys().copied().collect();
        members.sort();
        assert_eq!(members, [200, 201, 202, 203, 204]);

        // 201 died and its pid went to a stranger: it is forgotten, and so are the stranger's children.
        let mut procs = procs;
        procs.insert(201, stat(201, 1, 201, 201, 5000));
        procs.insert(205, stat(205, 201, 201, 201, 5001));
        tree.extend(&procs);
        assert!(!tree.known.contains_key(&201) && !tree.known.contains_key(&205));
        assert!(!tree.is_member(&procs[&201]));
    }

    #[test]
    fn a_recorded_script_is_found_again_through_its_group_but_never_through_a_reused_pid() {
        let stat = |pid, ppid, pgrp, session, start_time| Stat { pid, ppid, pgrp, session, start_time, exited: false };
        let map = |stats: Vec<Stat>| stats.into_iter().map(|s| (s.pid, s)).collect::<HashMap<i32, Stat>>();
        // The agent died: the script and what it started were re-parented to init.
        let procs = map(vec![
            stat(200, 1, 200, 50, 1001),    // the script
            stat(202, 1, 200, 50, 1003),    // its background child, whose parent (a subshell) exited
            stat(206, 1, 200, 50, 990),     // in the script's group but older than the script: not its descendant
            stat(207, 202, 207, 207, 1010), // a grandchild that called setsid, linked through its parent
            stat(300, 1, 300, 300, 900),    // unrelated
        ]);
        let mut tree = Tree::recorded(200, 1001);
        assert_eq!(tree.root(), Some((200, 1001)));
        tree.extend(&procs);
        let mut members: Vec<i32> = procs.values().filter(|stat| tree.is_member(stat)).map(|stat| stat.pid).collect();
        members.sort();
        assert_eq!(members, [200, 202, 207]);

        // The script itself exited: its process group still links the orphan.
        let procs = map(vec![stat(202, 1, 200, 50, 1003), stat(206, 1, 200, 50, 990)]);
        let mut tree = Tree::recorded(200, 1001);
        tree.extend(&procs);
        assert!(tree.is_member(&procs[&202]) && !tree.is_member(&procs[&206]));

        // The recorded pid now belongs to another process (another start time): nothing is a member.
        let procs = map(vec![stat(200, 1, 200, 200, 7000), stat(208, 200, 200, 200, 7001)]);
        let mut tree = Tree::recorded(200, 1001);
        tree.extend(&procs);
        assert!(procs.values().all(|stat| !tree.is_member(stat)));
        assert_eq!(Tree::recorded(1, 5).root(), None);
    }
}
