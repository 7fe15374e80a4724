//! CSV exports read row by row, with columns found by name.
//!
//! Scanner CSV exports vary their columns between products and versions,
//! so parsers look columns up by header name, case-insensitively, and take
//! the first of several names that has a value. Rows are read one at a
//! time; a row longer than [`MAX_ROW_BYTES`] is rejected so that a file
//! without line ends cannot fill the memory.

use std::collections::HashMap;
use std::io::{self, BufRead, Read};

use csv::{ByteRecord, StringRecord};

use crate::{ParseError, Position};

/// The maximum size in bytes of one CSV row. Scanner outputs in a cell can
/// reach a few megabytes; a larger row is taken for a broken or hostile file.
pub(crate) const MAX_ROW_BYTES: usize = 16 * 1024 * 1024;

/// One CSV row, with the line it starts on.
#[derive(Debug)]
pub(crate) struct Row {
    fields: StringRecord,
    /// The line, counted from 1, where the row starts.
    pub line: u64,
}

impl Row {
    /// Returns whether every cell is empty or whitespace (exports pad with
    /// rows of commas).
    pub fn is_blank(&self) -> bool {
        self.fields.iter().all(|field| field.trim().is_empty())
    }

    /// Returns the cells, as written.
    pub fn cells(&self) -> impl Iterator<Item = &str> {
        self.fields.iter()
    }
}

/// The header of a CSV export: column names to positions.
#[derive(Debug)]
pub(crate) struct Columns {
    index: HashMap<String, usize>,
    names: Vec<String>,
}

impl Columns {
    /// Reads a header row. Names compare trimmed and without case; a byte
    /// order mark is dropped, and of two columns with one name the first
    /// counts.
    pub fn new(header: &Row) -> Columns {
        let mut index = HashMap::new();
        let mut names = Vec::new();
        for (position, cell) in header.cells().enumerate() {
            let name = cell.trim_start_matches('\u{feff}').trim().to_ascii_lowercase();
            index.entry(name.clone()).or_insert(position);
            names.push(name);
        }
        Columns { index, names }
    }

    /// Returns whether the header has a column of this name.
    pub fn has(&self, name: &str) -> bool {
        self.index.contains_key(&name.to_ascii_lowercase())
    }

    /// Returns whether the header has a column of any of these names.
    pub fn has_any(&self, names: &[&str]) -> bool {
        names.iter().any(|name| self.has(name))
    }

    /// Returns the number of columns.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Returns the trimmed value of the first of `names` that the row has a
    /// non-empty cell for.
    pub fn value<'r>(&self, row: &'r Row, names: &[&str]) -> Option<&'r str> {
        names.iter().find_map(|name| {
            let position = *self.index.get(&name.to_ascii_lowercase())?;
            let value = row.fields.get(position)?.trim();
            (!value.is_empty()).then_some(value)
        })
    }

    /// Lists the first column names, for error messages: at most twelve, each cut
    /// to 40 characters.
    pub fn describe(&self) -> String {
        let shown: Vec<String> = self
            .names
            .iter()
            .take(12)
            .map(|name| name.chars().take(40).collect())
            .collect();
        let more = if self.names.len() > shown.len() { ", ..." } else { "" };
        format!("{}{more}", shown.join(", "))
    }
}

/// A CSV export being read.
pub(crate) struct CsvRows<'r> {
    reader: csv::Reader<Counted<&'r mut dyn BufRead>>,
    path: &'r str,
    format: &'static str,
    /// The header's number of columns, once known.
    width: Option<usize>,
    /// The last row read: its line and whether it had fewer cells than the header.
    last: Option<(u64, bool)>,
}

impl<'r> CsvRows<'r> {
    /// Starts reading, with the delimiter that the first line shows (see
    /// [`sniff_delimiter`]).
    pub fn new(path: &'r str, format: &'static str, reader: &'r mut dyn BufRead) -> Result<CsvRows<'r>, ParseError> {
        let head = reader
            .fill_buf()
            .map_err(|error| ParseError::new(path, format, None, format!("read failed: {error}")))?;
        let delimiter = sniff_delimiter(head);

        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(Counted::new(reader));
        Ok(CsvRows {
            reader,
            path,
            format,
            width: None,
            last: None,
        })
    }

    /// Sets the header's number of columns, which the check for a truncated
    /// last row compares with.
    pub fn set_width(&mut self, width: usize) {
        self.width = Some(width);
    }

    /// Reads the next row, or `None` at the end of the file. Fails on a row
    /// that is not UTF-8, that is longer than [`MAX_ROW_BYTES`], or that the
    /// file ends inside.
    pub fn next_row(&mut self) -> Result<Option<Row>, ParseError> {
        let mut record = ByteRecord::new();
        let more = self
            .reader
            .read_byte_record(&mut record)
            .map_err(|error| self.read_error(&error))?;
        self.reader.get_mut().start_row();
        if !more {
            self.check_complete()?;
            return Ok(None);
        }

        let line = record.position().map_or(1, |position| position.line());
        let fields = StringRecord::from_byte_record(record).map_err(|error| {
            let column = error.utf8_error().field() + 1;
            self.error(
                line,
                format!("column {column} is not valid UTF-8 text: export the report again as UTF-8"),
            )
        })?;
        let short = self.width.is_some_and(|width| fields.len() < width);
        self.last = Some((line, short));
        Ok(Some(Row { fields, line }))
    }

    /// Builds an error at the start of a line.
    pub fn error(&self, line: u64, message: impl Into<String>) -> ParseError {
        ParseError::new(
            self.path,
            self.format,
            Some(Position::LineColumn { line, column: 1 }),
            message,
        )
    }

    fn read_error(&self, error: &csv::Error) -> ParseError {
        let line = self.reader.position().line();
        match error.kind() {
            csv::ErrorKind::Io(io) if io.get_ref().is_some_and(|inner| inner.is::<RowTooLong>()) => self.error(
                line,
                format!(
                    "a row is longer than {} MiB: the file is not a {} export, or a cell holds far more than a \
                     scanner writes",
                    MAX_ROW_BYTES / (1024 * 1024),
                    self.format
                ),
            ),
            csv::ErrorKind::Io(io) => self.error(line, format!("read failed: {io}")),
            _ => self.error(line, format!("invalid CSV: {error}")),
        }
    }

    /// Rejects a file that ends inside a row: without a final line break,
    /// and inside a quoted cell or with fewer cells than the header.
    fn check_complete(&self) -> Result<(), ParseError> {
        let counted = self.reader.get_ref();
        if counted.ends_with_line_break() {
            return Ok(());
        }
        let Some((line, short)) = self.last else {
            return Ok(());
        };
        if counted.odd_quotes() {
            return Err(self.error(line, "the file ends inside a quoted cell, it may be truncated"));
        }
        if short {
            return Err(self.error(
                line,
                "the file ends inside a row with fewer cells than the header, it may be truncated",
            ));
        }
        Ok(())
    }
}

/// Reads the first `limit` records at the start of a file, with cells trimmed
/// and lowercased, for detection by column names. Reading stops at the
/// first record that is not UTF-8 text; the last record may be cut short.
pub(crate) fn head_records(head: &[u8], limit: usize) -> Vec<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(sniff_delimiter(head))
        .from_reader(head);
    reader
        .records()
        .take(limit)
        .map_while(Result::ok)
        .map(|record| {
            record
                .iter()
                .map(|cell| cell.trim_start_matches('\u{feff}').trim().to_ascii_lowercase())
                .collect()
        })
        .collect()
}

/// Chooses the delimiter of a CSV file from its first line: a semicolon when the
/// line has more semicolons than commas (exports made with a European
/// locale), else a comma.
fn sniff_delimiter(head: &[u8]) -> u8 {
    let first_line = head.split(|byte| *byte == b'\n').next().unwrap_or_default();
    let count = |wanted: u8| first_line.iter().filter(|byte| **byte == wanted).count();
    if count(b';') > count(b',') { b';' } else { b',' }
}

/// The error of a row longer than [`MAX_ROW_BYTES`].
#[derive(Debug, thiserror::Error)]
#[error("a CSV row is longer than {MAX_ROW_BYTES} bytes")]
struct RowTooLong;

/// A reader that counts the bytes of the current row, and remembers the
/// last byte and the parity of the quotes of the whole file.
struct Counted<R> {
    inner: R,
    /// Bytes handed to the CSV reader since the last row was read. The CSV
    /// reader buffers ahead, so this runs ahead of the row by at most its
    /// buffer size.
    row_bytes: usize,
    last_byte: Option<u8>,
    quotes: u64,
}

impl<R> Counted<R> {
    fn new(inner: R) -> Counted<R> {
        Counted {
            inner,
            row_bytes: 0,
            last_byte: None,
            quotes: 0,
        }
    }

    fn start_row(&mut self) {
        self.row_bytes = 0;
    }

    fn ends_with_line_break(&self) -> bool {
        matches!(self.last_byte, None | Some(b'\n' | b'\r'))
    }

    fn odd_quotes(&self) -> bool {
        self.quotes % 2 == 1
    }
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        if self.row_bytes > MAX_ROW_BYTES {
            return Err(io::Error::new(io::ErrorKind::InvalidData, RowTooLong));
        }
        let read = self.inner.read(buffer)?;
        let chunk = &buffer[..read];
        self.row_bytes += read;
        self.quotes += chunk.iter().filter(|byte| **byte == b'"').count() as u64;
        if let Some(last) = chunk.last() {
            self.last_byte = Some(*last);
        }
        Ok(read)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(text: &[u8]) -> Result<Vec<Row>, ParseError> {
        let mut reader = text;
        let mut rows = CsvRows::new("t.csv", "test-csv", &mut reader)?;
        let mut all = Vec::new();
        while let Some(row) = rows.next_row()? {
            if all.is_empty() {
                rows.set_width(row.cells().count());
            }
            all.push(row);
        }
        Ok(all)
    }

    #[test]
    fn rows_keep_their_line() {
        let all = rows(b"a,b\n\"1\nx\",2\n3,4\n").expect("rows");
        let lines: Vec<u64> = all.iter().map(|row| row.line).collect();
        assert_eq!(lines, [1, 2, 4]);
    }

    #[test]
    fn columns_by_name() {
        let all = rows("\u{feff}Plugin ID, Name ,Name\n42,first,second\n".as_bytes()).expect("rows");
        let columns = Columns::new(&all[0]);
        assert_eq!(columns.value(&all[1], &["plugin id"]), Some("42"));
        assert_eq!(columns.value(&all[1], &["NAME"]), Some("first"));
        assert_eq!(columns.value(&all[1], &["missing", "Name"]), Some("first"));
        assert!(!columns.has("host"));
    }

    #[test]
    fn semicolons_are_detected() {
        let all = rows(b"a;b\n1;2\n").expect("rows");
        assert_eq!(all[1].cells().collect::<Vec<_>>(), ["1", "2"]);
    }

    #[test]
    fn head_records_are_lowercased() {
        let records = head_records("\u{feff}IP, NVT OID\n10.0.0.1,\"1.3.6\n".as_bytes(), 5);
        assert_eq!(records[0], ["ip", "nvt oid"]);
        assert_eq!(records.len(), 2, "the cut last record still counts");
    }

    #[test]
    fn truncated_quote_is_rejected() {
        let error = rows(b"a,b\n1,\"unterminated").unwrap_err();
        assert!(error.message.contains("truncated"), "{}", error.message);
        assert_eq!(error.position, Some(Position::LineColumn { line: 2, column: 1 }));
    }

    #[test]
    fn short_last_row_without_line_break_is_rejected() {
        assert!(rows(b"a,b,c\n1,2").is_err());
        assert!(
            rows(b"a,b,c\n1,2\n").is_ok(),
            "a short row that ends in a line break is complete"
        );
        assert!(rows(b"a,b,c\n1,2,3").is_ok(), "a complete row needs no line break");
    }

    #[test]
    fn invalid_utf8_names_line_and_column() {
        let error = rows(b"a,b\n1,2\n3,\xff\n").unwrap_err();
        assert_eq!(error.position, Some(Position::LineColumn { line: 3, column: 1 }));
        assert!(
            error.message.contains("column 2 is not valid UTF-8"),
            "{}",
            error.message
        );
    }
}
