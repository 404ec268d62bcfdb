//! Rendering data for stdout as plain lines, a table or JSON. Only data goes to
//! stdout; everything else goes to stderr through [`Printer`].

use std::io::{self, IsTerminal, Write};

use comfy_table::{
    presets::UTF8_BORDERS_ONLY, ColumnConstraint, ContentArrangement, Table, TableComponent, Width,
};
use serde::Serialize;

pub use crate::text::escape;

/// How data is written to stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One item per line, for scripts.
    Plain,
    /// An aligned table, for people.
    Table,
    /// One JSON document.
    Json,
}

/// Something printable as a row of output.
pub trait Row: Serialize {
    /// Column headings for the table format.
    fn headers(&self) -> Vec<&'static str>;
    /// The table cells, in heading order.
    fn cells(&self) -> Vec<String>;
    /// The line for the plain format.
    fn plain(&self) -> String;
}

impl<R: Row> Row for &R {
    fn headers(&self) -> Vec<&'static str> {
        (**self).headers()
    }
    fn cells(&self) -> Vec<String> {
        (**self).cells()
    }
    fn plain(&self) -> String {
        (**self).plain()
    }
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

/// `n` and the noun, plural when `n` is not 1: `1 tag`, `2 tags`, `3 repositories`,
/// `2 indexes`.
pub fn count(n: usize, singular: &str) -> String {
    if n == 1 {
        return format!("1 {singular}");
    }
    let plural = if let Some(stem) = singular
        .strip_suffix('y')
        .filter(|s| !s.ends_with(['a', 'e', 'i', 'o', 'u']))
    {
        format!("{stem}ies")
    } else if singular.ends_with(['s', 'x']) || singular.ends_with("ch") {
        format!("{singular}es")
    } else {
        format!("{singular}s")
    };
    format!("{n} {plural}")
}

/// [`count`] and the verb that agrees with it: `1 image has`, `2 images have`.
pub fn count_with(n: usize, singular: &str, verb: (&str, &str)) -> String {
    format!(
        "{} {}",
        count(n, singular),
        if n == 1 { verb.0 } else { verb.1 }
    )
}

/// The first few of `names` and how many more: `a, b, c and 4 more`.
pub fn first_few(names: &[String], few: usize) -> String {
    let shown: Vec<&str> = names.iter().take(few).map(String::as_str).collect();
    match names.len().saturating_sub(few) {
        0 => shown.join(", "),
        more => format!("{} and {more} more", shown.join(", ")),
    }
}

/// `bytes` for people: `512 B`, `1.2 KiB`, `3.4 GiB`.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// Writes `rows` to stdout in `format`.
pub fn render<R: Row>(format: Format, rows: &[R]) -> io::Result<()> {
    let mut writer = RowWriter::new(format);
    for row in rows {
        writer.write(row)?;
    }
    writer.finish()
}

/// Writes `rows` like [`render`], except that a reader that went away (a closed
/// pipe) is no reason to stop: the work goes on and the exit status still tells
/// its outcome. Other write errors are returned.
pub fn render_data<R: Row>(format: Format, rows: &[R]) -> io::Result<()> {
    match render(format, rows) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// Whether anything was written to stdout in this run (set before the write).
static WROTE_STDOUT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn mark_written() {
    WROTE_STDOUT.store(true, std::sync::atomic::Ordering::SeqCst);
}

/// True once the run has begun to write its output (a run stopped after that
/// has printed part of it).
pub fn wrote_stdout() -> bool {
    WROTE_STDOUT.load(std::sync::atomic::Ordering::SeqCst)
}

/// Writes a whole document to stdout as it is (a closed pipe is no error, as for
/// [`render_data`]).
pub fn write_stdout(text: impl AsRef<[u8]>) -> io::Result<()> {
    mark_written();
    let mut out = io::stdout().lock();
    match out.write_all(text.as_ref()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// `value` as pretty JSON in which text from outside can neither end a line nor
/// hide itself: JSON allows U+0085, U+2028, U+2029 and the other invisible
/// characters [`crate::text::escape`] shows raw inside strings, where a reader
/// splitting lines as Python's `splitlines()` does, or a terminal, would obey
/// them; they are written as `\u` escapes (UTF-16 pairs beyond the BMP). Only
/// strings can hold them (serde_json escapes the ASCII controls itself), so
/// the document reads back the same.
pub fn json_pretty<T: serde::Serialize + ?Sized>(value: &T) -> serde_json::Result<String> {
    let text = serde_json::to_string_pretty(value)?;
    let hidden = |c: char| !c.is_ascii() && crate::text::hidden(c);
    if !text.chars().any(hidden) {
        return Ok(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if hidden(c) {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        } else {
            out.push(c);
        }
    }
    Ok(out)
}

/// Writes rows to stdout as they come: plain lines and JSON array elements are
/// streamed (call [`RowWriter::flush`] at a natural boundary). A table is drawn
/// whole by [`RowWriter::finish`], sized to its rows; on a terminal a slow listing
/// calls [`RowWriter::draw_pending`] to draw what it has, and the table goes on in
/// the same columns as rows come.
pub struct RowWriter {
    format: Format,
    out: io::BufWriter<io::StdoutLock<'static>>,
    headers: Vec<&'static str>,
    table_rows: Vec<Vec<String>>,
    written: usize,
    /// The columns' widths, once the table's top is drawn.
    columns: Option<Vec<u16>>,
    /// Whether a streamed table shortens its digests (decided on its first part).
    shortened: Option<bool>,
}

impl RowWriter {
    /// A writer for `format` on stdout.
    pub fn new(format: Format) -> Self {
        RowWriter {
            format,
            out: io::BufWriter::new(io::stdout().lock()),
            headers: Vec::new(),
            table_rows: Vec::new(),
            written: 0,
            columns: None,
            shortened: None,
        }
    }

    /// Writes (or, for a table, keeps) one row.
    pub fn write<R: Row>(&mut self, row: &R) -> io::Result<()> {
        mark_written();
        match self.format {
            Format::Plain => writeln!(self.out, "{}", escape(&row.plain()))?,
            Format::Json => {
                let element = json_pretty(row)?;
                let sep = if self.written == 0 { "[\n" } else { ",\n" };
                write!(self.out, "{sep}  {}", element.replace('\n', "\n  "))?;
            }
            Format::Table => {
                if self.headers.is_empty() {
                    self.headers = row.headers();
                }
                self.table_rows
                    .push(row.cells().iter().map(|c| escape(c)).collect());
            }
        }
        self.written += 1;
        Ok(())
    }

    /// Pushes what was written so far to stdout.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// On a terminal, draws the table rows kept so far: the first time with the
    /// table's top, in columns fitted to these rows and the terminal; later rows
    /// go on in the same columns (a longer cell wraps). Nothing for other formats.
    pub fn draw_pending(&mut self) -> io::Result<()> {
        let Some(width) = terminal_width() else {
            return Ok(());
        };
        if self.format != Format::Table || self.table_rows.is_empty() {
            return Ok(());
        }
        let rows = std::mem::take(&mut self.table_rows);
        // Decided with the first part; later parts keep its columns.
        let header: Vec<String> = self.headers.iter().map(|h| h.to_string()).collect();
        let shorten = *self
            .shortened
            .get_or_insert_with(|| !fits_whole_text(&header, &rows, width));
        let rows: Vec<Vec<String>> = rows
            .iter()
            .map(|row| {
                row.iter()
                    .map(|c| {
                        if shorten {
                            shorten_digests(c)
                        } else {
                            c.clone()
                        }
                    })
                    .collect()
            })
            .collect();
        let top = self.columns.is_none();
        let columns = self
            .columns
            .get_or_insert_with(|| fit_columns(&self.headers, &rows, width));
        let mut table = Table::new();
        table
            .load_preset(UTF8_BORDERS_ONLY)
            .set_content_arrangement(ContentArrangement::Dynamic);
        for part in [
            TableComponent::BottomBorder,
            TableComponent::BottomLeftCorner,
            TableComponent::BottomRightCorner,
            TableComponent::BottomBorderIntersections,
        ] {
            table.remove_style(part);
        }
        if top {
            table.set_header(self.headers.clone());
        } else {
            for part in [
                TableComponent::TopBorder,
                TableComponent::TopLeftCorner,
                TableComponent::TopRightCorner,
                TableComponent::TopBorderIntersections,
            ] {
                table.remove_style(part);
            }
        }
        table.add_rows(rows);
        // Once the columns exist: the same widths in every part.
        table.set_constraints(
            columns
                .iter()
                .map(|&w| ColumnConstraint::Absolute(Width::Fixed(w))),
        );
        writeln!(self.out, "{table}")?;
        self.out.flush()
    }

    /// Ends the output: closes the JSON array, draws the table (or its rest).
    pub fn finish(mut self) -> io::Result<()> {
        match self.format {
            Format::Plain => {}
            Format::Json if self.written == 0 => writeln!(self.out, "[]")?,
            Format::Json => writeln!(self.out, "\n]")?,
            Format::Table if self.columns.is_some() => {
                self.draw_pending()?;
                let columns = self.columns.as_deref().unwrap_or_default();
                let inner = columns.iter().map(|&w| usize::from(w)).sum::<usize>()
                    + columns.len().saturating_sub(1);
                writeln!(self.out, "└{}┘", "─".repeat(inner))?;
            }
            Format::Table if self.table_rows.is_empty() => {}
            Format::Table => {
                let mut table = Table::new();
                table
                    .load_preset(UTF8_BORDERS_ONLY)
                    .set_header(std::mem::take(&mut self.headers));
                // On a terminal the table fits its width: digests shortened to a
                // recognisable prefix, and cells wrapped where still too wide.
                let width = terminal_width();
                match width {
                    Some(width) => {
                        table
                            .set_content_arrangement(ContentArrangement::Dynamic)
                            .set_width(width);
                    }
                    None => {
                        table.set_content_arrangement(ContentArrangement::Disabled);
                    }
                }
                // Whole digests when they fit (a shortened one cannot be pasted).
                let rows = std::mem::take(&mut self.table_rows);
                let shorten = width.is_some_and(|w| !fits_whole(table.header(), &rows, w));
                for row in rows {
                    if shorten {
                        table.add_row(row.iter().map(|c| shorten_digests(c)).collect::<Vec<_>>());
                    } else {
                        table.add_row(row);
                    }
                }
                writeln!(self.out, "{table}")?;
            }
        }
        self.out.flush()
    }
}

/// Column widths (padding included) for a table of `rows` on a terminal `width`
/// columns wide: each as wide as its widest cell, the widest cut down while the
/// table (with its borders and the blank between columns) would not fit.
fn fit_columns(headers: &[&str], rows: &[Vec<String>], width: u16) -> Vec<u16> {
    const PADDING: usize = 2;
    const NARROWEST: usize = 8;
    let mut widths: Vec<usize> = headers
        .iter()
        .map(|h| h.chars().count() + PADDING)
        .collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            let longest = cell.lines().map(|l| l.chars().count()).max().unwrap_or(0);
            *w = (*w).max(longest + PADDING);
        }
    }
    // Two borders, and a blank between columns.
    let available = usize::from(width).saturating_sub(1 + widths.len());
    while widths.iter().sum::<usize>() > available {
        let Some(widest) = widths.iter_mut().filter(|w| **w > NARROWEST).max() else {
            break;
        };
        *widest -= 1;
    }
    widths
        .into_iter()
        .map(|w| u16::try_from(w).unwrap_or(u16::MAX))
        .collect()
}

/// The width of the terminal stdout is, if it is one (80 when it says none).
fn terminal_width() -> Option<u16> {
    if !io::stdout().is_terminal() {
        return None;
    }
    let size = dialoguer::console::Term::stdout().size_checked();
    Some(size.map_or(80, |(_rows, columns)| columns))
}

/// True when a table of `header` and `rows`, cells whole, fits `width` columns
/// (each cell padded by one on both sides, a border at either edge).
fn fits_whole_text(header: &[String], rows: &[Vec<String>], width: u16) -> bool {
    let columns = header
        .len()
        .max(rows.iter().map(Vec::len).max().unwrap_or(0));
    let total: usize = (0..columns)
        .map(|i| {
            let cells = header
                .get(i)
                .into_iter()
                .chain(rows.iter().filter_map(|r| r.get(i)));
            cells.map(|c| c.chars().count()).max().unwrap_or(0) + 2
        })
        .sum::<usize>()
        + columns.saturating_sub(1)
        + 2;
    total <= usize::from(width)
}

/// [`fits_whole_text`] with comfy-table's header.
fn fits_whole(header: Option<&comfy_table::Row>, rows: &[Vec<String>], width: u16) -> bool {
    let header: Vec<String> = header
        .map(|h| h.cell_iter().map(|c| c.content()).collect())
        .unwrap_or_default();
    fits_whole_text(&header, rows, width)
}

/// `sha256:` digests in `text` cut to their first 12 hex digits and `…`, as
/// terminals show image IDs; scripts read plain or JSON output, which keeps them whole.
pub fn shorten_digests(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("sha256:") {
        let (before, from) = rest.split_at(at);
        out.push_str(before);
        let hex_len = from[7..]
            .bytes()
            .take_while(|b| b.is_ascii_hexdigit())
            .count();
        if hex_len == 64 {
            out.push_str(&from[..7 + 12]);
            out.push('…');
        } else {
            out.push_str(&from[..7 + hex_len]);
        }
        rest = &from[7 + hex_len..];
    }
    out.push_str(rest);
    out
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
        to_stderr(format_args!("warning: {message}"));
    }

    /// A note about the result (counts, skipped items).
    pub fn note(&self, message: impl std::fmt::Display) {
        to_stderr(message);
    }

    /// A detail shown only with `-v`.
    pub fn verbose(&self, message: impl std::fmt::Display) {
        if self.verbose {
            to_stderr(message);
        }
    }

    /// An error about one item, when the command goes on with the others.
    pub fn error(&self, message: impl std::fmt::Display) {
        to_stderr(format_args!("error: {message}"));
    }
}

/// Writes `message` and a newline to stderr. Never panics: a closed or failing
/// stderr (a log reader that went away) must not stop a deletion half-way. Each
/// line is escaped for the terminal; text from outside that may hold a newline is
/// escaped where it enters a message, so every line break here is regctl's own.
pub fn to_stderr(message: impl std::fmt::Display) {
    let text = message.to_string();
    let safe: Vec<String> = text.split('\n').map(escape).collect();
    let _ = writeln!(io::stderr().lock(), "{}", safe.join("\n"));
}

#[cfg(test)]
mod tests {
    #[test]
    fn json_output_has_no_line_separator_but_newlines() {
        let value =
            serde_json::json!({"label": "a\u{2028}digest: fake\u{2029}x\u{85}y\u{202e}\u{e0041}"});
        let text = super::json_pretty(&value).unwrap();
        assert!(text.is_ascii(), "{text}");
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, value);
    }

    use super::*;

    #[test]
    fn counts_say_their_plural() {
        assert_eq!(count(1, "action"), "1 action");
        assert_eq!(count(0, "manifest"), "0 manifests");
        assert_eq!(count(3, "repository"), "3 repositories");
        assert_eq!(count(2, "index"), "2 indexes");
        assert_eq!(count(2, "key"), "2 keys");
        assert_eq!(count_with(1, "image", ("has", "have")), "1 image has");
        assert_eq!(
            count_with(3, "repository", ("has", "have")),
            "3 repositories have"
        );
        let names: Vec<String> = ["a", "b", "c", "d"].map(String::from).to_vec();
        assert_eq!(first_few(&names, 3), "a, b, c and 1 more");
        assert_eq!(first_few(&names[..2], 3), "a, b");
        assert_eq!(human_bytes(512), "512 B");
        let d = format!("sha256:{}", "ab".repeat(32));
        assert_eq!(
            shorten_digests(&format!("app@{d} x")),
            "app@sha256:abababababab… x"
        );
        assert_eq!(shorten_digests("sha256:abc"), "sha256:abc");
        assert_eq!(human_bytes(1536), "1.5 KiB");
    }
}
