//! The results table: one [`Row`] per figure, with the peer's figure, the ratio, the goal and whether it was met.
//!
//! Ratios are always "how many times better Cutover is than the peer" (> 1 means Cutover is better): peer ÷ Cutover
//! for times, CPU and request rates, Cutover ÷ peer for throughputs.

use std::fmt::Write as _;

/// One line of the results table.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub(crate) scenario: String,
    pub(crate) metric: String,
    pub(crate) cutover: String,
    pub(crate) peer: String,
    pub(crate) ratio: String,
    pub(crate) goal: String,
    /// None when the row has no goal (shown as "—").
    pub(crate) met: Option<bool>,
}

impl Row {
    pub(crate) fn new(scenario: &str, metric: impl Into<String>, cutover: impl Into<String>) -> Row {
        Row {
            scenario: scenario.to_owned(),
            metric: metric.into(),
            cutover: cutover.into(),
            peer: "—".to_owned(),
            ratio: "—".to_owned(),
            goal: "—".to_owned(),
            met: None,
        }
    }

    pub(crate) fn peer(mut self, peer: impl Into<String>) -> Row {
        self.peer = peer.into();
        self
    }

    pub(crate) fn ratio(mut self, ratio: Option<f64>) -> Row {
        self.ratio = ratio.map_or("—".to_owned(), |ratio| format!("{}×", sig(ratio)));
        self
    }

    /// Like [`Row::ratio`], but says why there is none (e.g. `— (Cutover had none)`) when `ratio` is None.
    pub(crate) fn ratio_or(mut self, ratio: Option<f64>, why_none: &str) -> Row {
        self.ratio = ratio.map_or_else(|| format!("— ({why_none})"), |ratio| format!("{}×", sig(ratio)));
        self
    }

    pub(crate) fn goal(mut self, goal: impl Into<String>, met: bool) -> Row {
        self.goal = goal.into();
        self.met = Some(met);
        self
    }
}

/// Everything one invocation measured.
#[derive(Debug, Default)]
pub(crate) struct Report {
    pub(crate) rows: Vec<Row>,
    /// Free-form observations printed under the table (per-event timings, what was skipped and why).
    pub(crate) notes: Vec<String>,
    /// Scenario errors and failed deployments; any makes the exit status non-zero.
    pub(crate) failures: Vec<String>,
}

impl Report {
    pub(crate) fn row(&mut self, row: Row) {
        self.rows.push(row);
    }

    pub(crate) fn note(&mut self, note: impl Into<String>) {
        let note = note.into();
        eprintln!("  note: {note}");
        self.notes.push(note);
    }

    pub(crate) fn fail(&mut self, failure: impl Into<String>) {
        let failure = failure.into();
        eprintln!("  FAILURE: {failure}");
        self.failures.push(failure);
    }

    /// Renders the rows as a Markdown pipe table (readable as text, pasteable into the docs).
    pub(crate) fn table(&self) -> String {
        let header = ["scenario", "metric", "Cutover", "peer", "ratio", "goal", "met"];
        let cells: Vec<[String; 7]> = self
            .rows
            .iter()
            .map(|row| {
                [
                    row.scenario.clone(),
                    row.metric.clone(),
                    row.cutover.clone(),
                    row.peer.clone(),
                    row.ratio.clone(),
                    row.goal.clone(),
                    match row.met {
                        Some(true) => "yes".to_owned(),
                        Some(false) => "no".to_owned(),
                        None => "—".to_owned(),
                    },
                ]
            })
            .collect();
        let mut widths = header.map(|title| title.chars().count());
        for row in &cells {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let line = |cells: &[String]| {
            let mut out = String::from("|");
            for (cell, width) in cells.iter().zip(widths) {
                let pad = width - cell.chars().count();
                let _ = write!(out, " {cell}{} |", " ".repeat(pad));
            }
            out.push('\n');
            out
        };
        let mut out = line(&header.map(str::to_owned));
        out.push('|');
        for width in widths {
            out.push_str(&format!("{}|", "-".repeat(width + 2)));
        }
        out.push('\n');
        for row in &cells {
            out.push_str(&line(row));
        }
        out
    }
}

/// The value at quantile `q` (0..=1) of `values` (nearest rank on the sorted values); NaN when empty.
pub(crate) fn quantile(values: &[f64], q: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Formats a number with about three significant digits.
pub(crate) fn sig(value: f64) -> String {
    if !value.is_finite() {
        return "n/a".to_owned();
    }
    let abs = value.abs();
    if abs >= 100.0 {
        format!("{value:.0}")
    } else if abs >= 10.0 {
        format!("{value:.1}")
    } else if abs >= 1.0 {
        format!("{value:.2}")
    } else {
        format!("{value:.3}")
    }
}

/// Milliseconds, e.g. `87 ms` or `1.52 s` from 10 s up.
pub(crate) fn ms(value: f64) -> String {
    if value >= 10_000.0 { format!("{} s", sig(value / 1000.0)) } else { format!("{} ms", sig(value)) }
}

/// Bytes as MB (10^6), e.g. `12.3 MB`.
pub(crate) fn mb(bytes: u64) -> String {
    format!("{} MB", sig(bytes as f64 / 1e6))
}

/// peer ÷ cutover when both are positive and finite.
pub(crate) fn times_better(peer: f64, cutover: f64) -> Option<f64> {
    (peer.is_finite() && cutover.is_finite() && peer > 0.0 && cutover > 0.0).then(|| peer / cutover)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_use_nearest_rank() {
        let values: Vec<f64> = (1..=20).map(f64::from).collect();
        assert_eq!(quantile(&values, 0.5), 10.0);
        assert_eq!(quantile(&values, 0.95), 19.0);
        assert_eq!(quantile(&values, 0.99), 20.0);
        assert_eq!(quantile(&values, 1.0), 20.0);
        assert_eq!(quantile(&[3.0], 0.5), 3.0);
        assert!(quantile(&[], 0.5).is_nan());
    }

    #[test]
    fn table_aligns_and_marks_goals() {
        let mut report = Report::default();
        report.row(Row::new("B1", "p50", "80 ms").peer("1.2 s").ratio(Some(15.0)).goal("≤ 150 ms", true));
        report.row(Row::new("B5", "rollback", "not measured"));
        report.row(Row::new("B6", "failed", "0").peer("12").ratio_or(times_better(12.0, 0.0), "Cutover had none"));
        let table = report.table();
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 5);
        assert!(lines[4].contains("| — (Cutover had none) |"), "{table}");
        assert!(lines[2].contains("| yes |"), "{table}");
        assert!(lines[3].contains("not measured"), "{table}");
        let widths: Vec<usize> = lines.iter().map(|line| line.chars().count()).collect();
        assert!(widths.windows(2).all(|pair| pair[0] == pair[1]), "{table}");
    }
}
