//! Small helpers shared by the agent's modules: UTC timestamps without a date crate, jittered backoff, file-name
//! sanitising, char-boundary-safe truncation and atomic file writes (safe when several commands run at once).

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// `YYYY-MM-DD HH:MM:SS` in UTC (the `scripts.log` timestamp).
pub(crate) fn utc_seconds(time: SystemTime) -> String {
    let (date, secs_of_day, _) = split(time);
    format!("{date} {:02}:{:02}:{:02}", secs_of_day / 3600, secs_of_day / 60 % 60, secs_of_day % 60)
}

/// `YYYY-MM-DD HH:MM:SS.mmm` in UTC (the deployments log timestamp).
pub(crate) fn utc_millis(time: SystemTime) -> String {
    let (date, secs_of_day, millis) = split(time);
    format!("{date} {:02}:{:02}:{:02}.{millis:03}", secs_of_day / 3600, secs_of_day / 60 % 60, secs_of_day % 60)
}

fn split(time: SystemTime) -> (String, u64, u32) {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (year, month, day) = civil_from_days((secs / 86_400) as i64);
    (format!("{year:04}-{month:02}-{day:02}"), secs % 86_400, since.subsec_millis())
}

/// Converts days since 1970-01-01 into a proleptic Gregorian (year, month, day) (the domain crate's implementation).
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let (year, month, day, ..) = cutover_domain::time::civil(days * 86_400);
    (year, month, day)
}

/// Converts a proleptic Gregorian date into days since 1970-01-01 (inverse of [`civil_from_days`]).
pub(crate) fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let month = i64::from(month);
    let doy = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Exponential backoff with jitter: each delay is drawn uniformly from `[d/2, d]`, and `d` doubles up to `max`.
#[derive(Debug)]
pub(crate) struct Backoff {
    initial: Duration,
    max: Duration,
    current: Duration,
    random: RandomState,
    counter: u64,
}

impl Backoff {
    pub(crate) fn new(initial: Duration, max: Duration) -> Self {
        Self { initial, max, current: initial, random: RandomState::new(), counter: 0 }
    }

    /// Returns the next delay and grows the following one.
    pub(crate) fn next_delay(&mut self) -> Duration {
        let ceiling = self.current;
        self.current = (self.current * 2).min(self.max);
        self.counter += 1;
        let mut hasher = self.random.build_hasher();
        hasher.write_u64(self.counter);
        let fraction = (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64;
        ceiling.mul_f64(0.5 + fraction / 2.0)
    }

    /// Starts again from the initial delay (after a success).
    pub(crate) fn reset(&mut self) {
        self.current = self.initial;
    }
}

/// Turns an identifier into a safe file name: characters outside `[A-Za-z0-9._-]` become `_`, and a leading dot is
/// replaced so that the name is never hidden, `.` or `..`.
pub(crate) fn sanitize_file_name(id: &str) -> String {
    let mut name: String =
        id.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '_' }).collect();
    if name.is_empty() || name.starts_with('.') {
        name.insert(0, '_');
    }
    name.truncate(200);
    name
}

/// Returns the longest suffix of `text` of at most `max` bytes that starts on a char boundary.
pub(crate) fn tail_str(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut start = text.len() - max;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}

/// Writes `contents` to `path` atomically: a temporary file in the same directory, fsync, then rename.
pub(crate) fn write_atomic(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    write_replacing(path, contents, true)
}

/// A suffix no other temporary file of this process carries: the pid and a counter. Commands run concurrently, so
/// a temporary name made of the pid alone could be used by two writers at once.
pub(crate) fn unique_suffix() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!("{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
}

/// Like [`write_atomic`] without the fsync: atomic for readers and across an agent crash, not across power loss.
/// Concurrent writers of one path each write their own temporary file; the last rename wins.
pub(crate) fn write_replacing(path: &Path, contents: &[u8], durable: bool) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{file_name}.tmp-{}", unique_suffix()));
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(contents)?;
        if durable {
            file.sync_all()?;
        }
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        for days in [-1000, 0, 59, 60, 11_016, 19_723, 50_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(utc_seconds(UNIX_EPOCH + Duration::from_secs(86_400 + 3661)), "1970-01-02 01:01:01");
    }

    #[test]
    fn truncation_respects_char_boundaries() {
        assert_eq!(tail_str("héllo", 4), "llo");
        assert_eq!(tail_str("abc", 10), "abc");
    }

    #[test]
    fn backoff_grows_and_stays_in_range() {
        let mut backoff = Backoff::new(Duration::from_millis(50), Duration::from_secs(2));
        let first = backoff.next_delay();
        assert!(first >= Duration::from_millis(25) && first <= Duration::from_millis(50));
        for _ in 0..20 {
            assert!(backoff.next_delay() <= Duration::from_secs(2));
        }
        backoff.reset();
        assert!(backoff.next_delay() <= Duration::from_millis(50));
    }

    #[test]
    fn concurrent_replacing_writes_of_one_path_do_not_clash() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("file");
        std::thread::scope(|scope| {
            for writer in 0..8u8 {
                let path = &path;
                scope.spawn(move || {
                    for _ in 0..50 {
                        write_replacing(path, &[writer; 64], false).unwrap();
                    }
                });
            }
        });
        let contents = std::fs::read(&path).unwrap();
        assert!(contents.len() == 64 && contents.iter().all(|b| *b == contents[0]));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary file left");
    }

    #[test]
    fn file_names_are_sanitised() {
        assert_eq!(sanitize_file_name("d-1/host/3"), "d-1_host_3");
        assert_eq!(sanitize_file_name(".."), "_..");
        assert_eq!(sanitize_file_name(""), "_");
    }
}
