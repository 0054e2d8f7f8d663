//! The terminal: what goes to stdout (data) and stderr (progress, notes), tables, and the
//! machine formats.

use std::io::{IsTerminal as _, Write};
use std::time::Duration;

use anyhow::Result;
use comfy_table::{Cell, CellAlignment, ContentArrangement, LineStyle, Table, TableStyle, presets};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::Value;

/// Tables on a terminal: a rule under the header, nothing else.
const TERMINAL_STYLE: TableStyle =
    TableStyle::new().header_separator(LineStyle::none().fill('─').junction('─'));

/// How the terminal is set up, decided once at start.
#[derive(Clone, Copy, Debug)]
pub struct Ui {
    /// stdout is a terminal (tables get borders and fit its width).
    pub stdout_tty: bool,
    /// stderr is a terminal (progress bars and countdowns are drawn).
    pub stderr_tty: bool,
    /// `--quiet`: no progress, no notes.
    pub quiet: bool,
}

impl Ui {
    /// Detects the terminals.
    pub fn detect(quiet: bool) -> Self {
        Self {
            stdout_tty: std::io::stdout().is_terminal(),
            stderr_tty: std::io::stderr().is_terminal(),
            quiet,
        }
    }

    /// Whether bars are drawn at all.
    pub fn bars(&self) -> bool {
        self.stderr_tty && !self.quiet
    }

    /// A note on stderr (not with `--quiet`).
    pub fn note(&self, message: &str) {
        if !self.quiet {
            eprintln!("{message}");
        }
    }

    /// A warning on stderr (always).
    pub fn warn(&self, message: &str) {
        eprintln!("warning: {message}");
    }

    /// A progress bar of `len` steps with `template`, hidden unless stderr is a terminal.
    pub fn bar(&self, len: u64, template: &str) -> ProgressBar {
        let bar = ProgressBar::with_draw_target(Some(len), self.draw_target());
        bar.set_style(
            ProgressStyle::with_template(template)
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar
    }

    /// A spinner with `template`, hidden unless stderr is a terminal.
    pub fn spinner(&self, template: &str) -> ProgressBar {
        let bar = ProgressBar::with_draw_target(None, self.draw_target());
        bar.set_style(
            ProgressStyle::with_template(template)
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        if self.bars() {
            bar.enable_steady_tick(Duration::from_millis(120));
        }
        bar
    }

    /// A group of bars drawn together (one per file).
    pub fn multi(&self) -> MultiProgress {
        MultiProgress::with_draw_target(self.draw_target())
    }

    fn draw_target(&self) -> ProgressDrawTarget {
        if self.bars() {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        }
    }

    /// A table with `header` (none when empty), in the terminal's style: borders and the terminal's width on
    /// a terminal, plain aligned columns otherwise.
    pub fn table(&self, header: &[&str]) -> Table {
        let mut table = Table::new();
        if self.stdout_tty {
            table.load_style(TERMINAL_STYLE);
            // Fit the terminal only when its width is known and usable (a pseudo-terminal
            // may report 0 columns).
            if table.width().is_some_and(|w| w >= 40) {
                table.set_content_arrangement(ContentArrangement::Dynamic);
            }
        } else {
            table.load_style(presets::NOTHING);
        }
        if !header.is_empty() {
            table.set_header(header.iter().map(Cell::new));
        }
        table
    }
}

/// Right-aligns the columns at `indexes` (numbers).
pub fn align_right(table: &mut Table, indexes: &[usize]) {
    for &i in indexes {
        if let Some(column) = table.column_mut(i) {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
}

/// Writes a whole output at once to stdout.
pub fn stdout_bytes(bytes: &[u8]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)?;
    out.flush()?;
    Ok(())
}

/// Writes `text` and a newline to stdout.
pub fn print_line(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}")?;
    out.flush()?;
    Ok(())
}

/// `value` as pretty JSON on stdout.
pub fn print_json(value: &Value) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    stdout_bytes(text.as_bytes())
}

/// One compact JSON value per line on stdout.
pub fn print_ndjson<'a>(values: impl IntoIterator<Item = &'a Value>) -> Result<()> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for value in values {
        serde_json::to_writer(&mut out, value)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}

/// CSV with `header` and `rows` on stdout.
pub fn print_csv(header: &[&str], rows: impl IntoIterator<Item = Vec<String>>) -> Result<()> {
    let out = std::io::stdout().lock();
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(header)?;
    for row in rows {
        writer.write_record(&row)?;
    }
    writer.flush()?;
    Ok(())
}

/// A JSON value as a CSV cell: strings bare, `null` empty, numbers and booleans as
/// written, arrays and objects as compact JSON.
pub fn cell(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(Value::Number(n)) => n.to_string(),
        Some(other) => other.to_string(),
    }
}

/// The CSV row of `record` for the columns of `header` (each a top-level field).
pub fn csv_row(record: &Value, header: &[&str]) -> Vec<String> {
    header.iter().map(|key| cell(record.get(*key))).collect()
}

/// Writes the table to stdout.
pub fn print_table(table: &Table) -> Result<()> {
    let text = table.to_string();
    // Plain tables pad every line: trim the right edge.
    let text: Vec<&str> = text.lines().map(str::trim_end).collect();
    print_line(&text.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cells() {
        let record = json!({"a": "x", "b": 1.5, "c": null, "d": [1, 2], "e": true});
        assert_eq!(
            csv_row(&record, &["a", "b", "c", "d", "e", "missing"]),
            ["x", "1.5", "", "[1,2]", "true", ""]
        );
    }
}
