//! Timestamps (the API's epoch seconds) and durations, formatted without a date library.

/// `2025-03-01T12:34:56Z` (UTC, RFC 3339) for epoch seconds.
pub(crate) fn timestamp(epoch_secs: f64) -> String {
    let secs = epoch_secs.floor() as i64;
    let (year, month, day, hour, minute, second) = civil(secs);
    format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z")
}

/// Calendar date and time of day (UTC) of epoch seconds (the domain crate's one implementation).
pub(crate) fn civil(epoch_secs: i64) -> (i64, u32, u32, u32, u32, u32) {
    cutover_domain::time::civil(epoch_secs)
}

/// Milliseconds between two epoch-second timestamps (never negative).
pub(crate) fn millis_between(start: f64, end: f64) -> u64 {
    ((end - start) * 1000.0).round().max(0.0) as u64
}

/// `850 ms`, `4.2 s`, `3 min 5 s`.
pub(crate) fn duration_ms(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms} ms")
    } else if ms < 60_000 {
        format!("{:.1} s", ms as f64 / 1000.0)
    } else {
        let secs = ms / 1000;
        format!("{} min {} s", secs / 60, secs % 60)
    }
}

/// Now, in epoch seconds.
pub(crate) fn now_secs() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_epoch_seconds_as_utc() {
        assert_eq!(timestamp(0.0), "1970-01-01T00:00:00Z");
        assert_eq!(timestamp(951_782_400.5), "2000-02-29T00:00:00Z");
        assert_eq!(timestamp(1_700_000_000.0), "2023-11-14T22:13:20Z");
        assert_eq!(civil(-1), (1969, 12, 31, 23, 59, 59));
    }

    #[test]
    fn formats_durations() {
        assert_eq!(duration_ms(12), "12 ms");
        assert_eq!(duration_ms(4_210), "4.2 s");
        assert_eq!(duration_ms(185_000), "3 min 5 s");
        assert_eq!(millis_between(10.0, 10.012), 12);
    }
}
