//! What the benchmark reads from the operating system: per-process CPU time and memory from `/proc`, the machine's
//! description, the date, and the open-file limit.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

/// CPU time of one process, in seconds: its own threads (`utime + stime`) and its waited-for children
/// (`cutime + cstime`), from `/proc/<pid>/stat`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Cpu {
    pub(crate) own: f64,
    pub(crate) children: f64,
}

impl std::ops::Sub for Cpu {
    type Output = Cpu;
    fn sub(self, rhs: Cpu) -> Cpu {
        Cpu { own: self.own - rhs.own, children: self.children - rhs.children }
    }
}

impl std::ops::Add for Cpu {
    type Output = Cpu;
    fn add(self, rhs: Cpu) -> Cpu {
        Cpu { own: self.own + rhs.own, children: self.children + rhs.children }
    }
}

/// Clock ticks per second of `/proc/<pid>/stat` times (USER_HZ).
fn ticks_per_second() -> f64 {
    match nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK) {
        Ok(Some(ticks)) if ticks > 0 => ticks as f64,
        _ => 100.0,
    }
}

/// Reads the CPU time of `pid` (`"self"` for this process); None when the process is gone.
pub(crate) fn cpu(pid: &str) -> Option<Cpu> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may contain spaces; fields after it start at 3 (state).
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |n: usize| -> Option<f64> { fields.get(n - 3)?.parse::<f64>().ok() };
    let hz = ticks_per_second();
    Some(Cpu { own: (field(14)? + field(15)?) / hz, children: (field(16)? + field(17)?) / hz })
}

/// Reads `VmRSS` (current) and `VmHWM` (peak) of `pid`, in bytes; None when the process is gone.
pub(crate) fn memory(pid: u32) -> Option<(u64, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb = |key: &str| -> Option<u64> {
        let line = text.lines().find(|line| line.starts_with(key))?;
        line[key.len()..].trim().trim_end_matches("kB").trim().parse::<u64>().ok().map(|kb| kb * 1024)
    };
    Some((kb("VmRSS:")?, kb("VmHWM:")?))
}

/// Resident set size of `pid` in bytes (0 when it is gone).
pub(crate) fn rss(pid: u32) -> u64 {
    memory(pid).map_or(0, |(rss, _)| rss)
}

/// One line describing the machine: CPU model, cores, RAM, kernel.
pub(crate) fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|line| line.starts_with("model name"))
        .and_then(|line| line.split_once(':'))
        .map_or("unknown CPU".to_owned(), |(_, model)| model.trim().to_owned());
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let ram_kb: u64 = meminfo
        .lines()
        .find(|line| line.starts_with("MemTotal:"))
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|kb| kb.parse().ok())
        .unwrap_or(0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!("nproc {cores}, {:.1} GiB RAM, Linux {}, {model}", ram_kb as f64 / 1024.0 / 1024.0, kernel.trim())
}

/// The 1-, 5- and 15-minute load averages, e.g. `0.52 0.61 0.70`.
pub(crate) fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| text.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_owned())
}

/// The current UTC time as `YYYY-MM-DD HH:MM UTC`.
pub(crate) fn now_utc() -> String {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_secs());
    let (year, month, day, hour, minute, _) = cutover_domain::time::civil(secs as i64);
    format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02} UTC")
}

/// The command line this process was started with, quoted for a POSIX shell where needed.
pub(crate) fn command_line() -> String {
    std::env::args()
        .map(|arg| {
            if !arg.is_empty() && arg.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:,@%+".contains(c)) {
                arg
            } else {
                format!("'{}'", arg.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Raises the soft open-file limit to the hard limit (children started afterwards inherit it); returns the new limit.
pub(crate) fn raise_nofile_limit() -> anyhow::Result<u64> {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE)?;
    if soft < hard {
        setrlimit(Resource::RLIMIT_NOFILE, hard, hard)?;
    }
    Ok(hard)
}

/// Free space of the file system holding `path`, in bytes.
pub(crate) fn free_space(path: &Path) -> Option<u64> {
    let stat = nix::sys::statvfs::statvfs(path).ok()?;
    Some(stat.blocks_available() as u64 * stat.fragment_size() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_own_process() {
        let cpu = cpu("self").expect("own stat");
        assert!(cpu.own >= 0.0 && cpu.children >= 0.0);
        let (rss, hwm) = memory(std::process::id()).expect("own status");
        assert!(rss > 0 && hwm >= rss);
    }

    #[test]
    fn date_is_formatted() {
        let date = now_utc();
        assert_eq!(date.len(), "2026-01-01 00:00 UTC".len(), "{date}");
        assert!(date.starts_with("20"), "{date}");
    }
}
