//! Rendering data for stdout as plain lines, a table or JSON. Only data goes to
//! stdout; everything else goes to stderr through [`Printer`].

use std::io::{self, IsTerminal, Write};

use comfy_table::{presets::UTF8_BORDERS_ONLY, ContentArrangement, Table};
use serde::Serialize;

use crate::cli::Format;

/// Something printable as a row of output.
pub trait Row: Serialize {
    /// Column headings for the table format.
    fn headers(&self) -> Vec<&'static str>;
    /// The table cells, in heading order.
    fn cells(&self) -> Vec<String>;
    /// The line for the plain format.
    fn plain(&self) -> String;
}

/// The format in force: the flag, else table on a terminal and plain otherwise.
pub fn resolve_format(flag: Option<Format>) -> Format {
    flag.unwrap_or_else(|| {
        if io::stdout().is_terminal() {
            Format::Table
        } else {
            Format::Plain
        }
    })
}

/// Writes `rows` to stdout in `format`.
pub fn render<R: Row>(format: Format, rows: &[R]) -> io::Result<()> {
    let mut out = io::BufWriter::new(io::stdout().lock());
    match format {
        Format::Plain => {
            for row in rows {
                writeln!(out, "{}", row.plain())?;
            }
        }
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, rows)?;
            writeln!(out)?;
        }
        Format::Table => {
            if let Some(first) = rows.first() {
                let mut table = Table::new();
                table
                    .load_preset(UTF8_BORDERS_ONLY)
                    .set_content_arrangement(ContentArrangement::Disabled)
                    .set_header(first.headers());
                for row in rows {
                    table.add_row(row.cells());
                }
                writeln!(out, "{table}")?;
            }
        }
    }
    out.flush()
}

/// Status, warnings and the request log, all on stderr.
#[derive(Clone, Copy, Debug)]
pub struct Printer {
    /// Whether `-v` was given.
    pub verbose: bool,
}

impl Printer {
    /// A warning the user should see.
    pub fn warn(&self, message: impl std::fmt::Display) {
        eprintln!("warning: {message}");
    }

    /// A note about the result (counts, skipped items).
    pub fn note(&self, message: impl std::fmt::Display) {
        eprintln!("{message}");
    }

    /// An error about one item, when the command goes on with the others.
    pub fn error(&self, message: impl std::fmt::Display) {
        eprintln!("error: {message}");
    }
}
