//! Writing to stdout: lines, pretty JSON, and comfy-table tables. A closed stdout (`cutover … | head`) ends the
//! command quietly instead of panicking.

use std::io::Write;

use comfy_table::{ContentArrangement, Table, presets};
use serde::Serialize;

use crate::error::{CliError, CliResult};

/// Prints `text` and a newline to stdout (flushed: live progress must show at once, even into a pipe).
pub(crate) fn line(text: impl std::fmt::Display) -> CliResult<()> {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{text}").and_then(|()| stdout.flush()).map_err(write_error)
}

/// Prints a value as pretty JSON.
pub(crate) fn json<T: Serialize + ?Sized>(value: &T) -> CliResult<()> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|error| CliError::internal(format!("cannot encode the output as JSON: {error}")))?;
    line(text)
}

fn write_error(error: std::io::Error) -> CliError {
    if error.kind() == std::io::ErrorKind::BrokenPipe {
        CliError::broken_pipe()
    } else {
        CliError::user(format!("cannot write to stdout: {error}"))
    }
}

/// A borderless table with a header row (like `kubectl get`), wrapped to the terminal's width when there is one.
pub(crate) fn table(header: &[&str]) -> Table {
    let mut table = Table::new();
    table
        .load_preset(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header.to_vec());
    table
}

/// A borderless two-column table of `name: value` rows, for one object.
pub(crate) fn details(rows: Vec<(&str, String)>) -> Table {
    let mut table = Table::new();
    table.load_preset(presets::NOTHING).set_content_arrangement(ContentArrangement::Dynamic);
    for (name, value) in rows {
        table.add_row(vec![format!("{name}:"), value]);
    }
    table
}

/// Prints a table without the outer spaces of its padding.
pub(crate) fn print_table(table: &Table) -> CliResult<()> {
    let text: Vec<String> =
        table.lines().map(|line| line.strip_prefix(' ').unwrap_or(&line).trim_end().to_owned()).collect();
    line(text.join("\n"))
}

/// `-` for a missing value.
pub(crate) fn or_dash(value: Option<impl ToString>) -> String {
    value.map(|value| value.to_string()).filter(|value| !value.is_empty()).unwrap_or_else(|| "-".to_owned())
}
