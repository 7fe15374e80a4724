//! Reading a decision table from CSV: the records, the `#!` directives, the
//! header and the rows, and the check that every combination has one row.

use super::{DecisionPoint, DecisionTable, PointValue, SSVC_MAX_COMBINATIONS, SsvcError, normalize};
use crate::error::shorten;

/// The maximum number of columns. The built-in tables have four to six.
const MAX_COLUMNS: usize = 32;

/// The maximum number of values of one decision point. Those of the built-in tables have two to five.
const MAX_VALUES: usize = 64;

/// The maximum length of a field in bytes. The longest header field of the built-in tables has 50.
const MAX_FIELD_BYTES: usize = 256;

/// One CSV record, or one comment line.
enum Record {
    /// A line that starts with `#`, without the `#`.
    Comment { line: usize, text: String },
    /// The fields of a record and the line it starts on.
    Fields { line: usize, fields: Vec<String> },
}

/// A column of the header before its values are known.
struct Column {
    name: String,
    version: Option<String>,
    namespace: Option<String>,
    aliases: Vec<String>,
    values: Vec<PointValue>,
    /// Whether a `point` directive fixed the values.
    declared: bool,
}

impl Column {
    fn label(&self) -> String {
        match &self.version {
            Some(version) => format!("{} v{version}", self.name),
            None => self.name.clone(),
        }
    }

    fn into_point(self) -> DecisionPoint {
        let mut keys = vec![normalize(&self.name), normalize(&self.label())];
        if let Some(namespace) = &self.namespace {
            keys.push(normalize(&format!("{} ({namespace})", self.label())));
        }
        keys.extend(self.aliases.iter().map(|alias| normalize(alias)));
        DecisionPoint {
            name: self.name,
            version: self.version,
            namespace: self.namespace,
            aliases: self.aliases,
            values: self.values,
            keys,
        }
    }
}

/// A row of the table as value indices, with its line.
struct Row {
    line: usize,
    values: Vec<usize>,
    outcome: usize,
}

/// Parses a whole table file.
pub(super) fn parse_table(path: &str, bytes: &[u8]) -> Result<DecisionTable, SsvcError> {
    let text = std::str::from_utf8(bytes).map_err(|error| SsvcError::NotUtf8 {
        path: path.to_string(),
        line: bytes[..error.valid_up_to()].iter().filter(|&&b| b == b'\n').count() + 1,
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = CsvReader::new(path, text);

    let mut table_name = None;
    let mut directives = Vec::new();
    let (header_line, header) = loop {
        match reader.next_record()? {
            None => {
                return Err(line_error(
                    path,
                    reader.line,
                    "the file has no header; expected row,<decision point>...,<outcome>",
                ));
            }
            Some(Record::Comment { line, text }) => {
                if let Some(directive) = text.strip_prefix('!') {
                    parse_directive(path, line, directive, &mut table_name, &mut directives)?;
                }
            }
            Some(Record::Fields { line, fields }) => break (line, fields),
        }
    };
    let mut columns = parse_header(path, header_line, &header)?;
    apply_directives(path, &mut columns, directives)?;

    let rows = parse_rows(path, &mut reader, &mut columns)?;
    if rows.is_empty() {
        return Err(line_error(path, header_line, "the table has a header but no rows"));
    }
    let cells = fill_cells(path, &columns, &rows)?;

    let outcome = columns.pop().expect("the header has an outcome column").into_point();
    let points = columns.into_iter().map(Column::into_point).collect();
    let (name, version) = match table_name {
        Some((name, version)) => (name, version),
        None => (path.to_string(), None),
    };
    Ok(DecisionTable {
        name,
        version,
        path: path.to_string(),
        points,
        outcome,
        cells,
    })
}

fn csv_error(path: &str, line: usize, column: usize, reason: impl Into<String>) -> SsvcError {
    SsvcError::Csv {
        path: path.to_string(),
        line,
        column,
        reason: reason.into(),
    }
}

fn line_error(path: &str, line: usize, reason: impl Into<String>) -> SsvcError {
    SsvcError::Line {
        path: path.to_string(),
        line,
        reason: reason.into(),
    }
}

/// A `point` directive: the column name, its aliases and its values.
struct PointDirective {
    line: usize,
    name: String,
    aliases: Vec<String>,
    values: Vec<(String, Vec<String>)>,
}

/// Parses the text after `#!`: `table: <name>` or `point: <name> = <values>`.
fn parse_directive(
    path: &str,
    line: usize,
    text: &str,
    table_name: &mut Option<(String, Option<String>)>,
    directives: &mut Vec<PointDirective>,
) -> Result<(), SsvcError> {
    let Some((keyword, rest)) = text.split_once(':') else {
        return Err(line_error(
            path,
            line,
            format!(
                "invalid directive {:?}; expected `#! table: <name>` or `#! point: <name> = <value> | ...`",
                shorten(text)
            ),
        ));
    };

    match keyword.trim() {
        "table" => {
            let (name, version, _) = split_label(rest);
            if name.is_empty() {
                return Err(line_error(path, line, "the table directive has no name"));
            }
            *table_name = Some((name, version));
        }
        "point" => {
            let Some((point, values)) = rest.split_once('=') else {
                return Err(line_error(
                    path,
                    line,
                    "the point directive has no `=` before its values",
                ));
            };
            let (name, aliases) = split_aliases(point);
            if name.is_empty() {
                return Err(line_error(path, line, "the point directive has no decision point name"));
            }
            let values: Vec<(String, Vec<String>)> = values.split('|').map(split_aliases).collect();
            if values.iter().any(|(value, _)| value.is_empty()) {
                return Err(line_error(
                    path,
                    line,
                    format!("the point directive of {name} has an empty value"),
                ));
            }
            if values.len() > MAX_VALUES {
                return Err(line_error(
                    path,
                    line,
                    format!("{name} declares more than {MAX_VALUES} values"),
                ));
            }
            directives.push(PointDirective {
                line,
                name,
                aliases,
                values,
            });
        }
        other => {
            return Err(line_error(
                path,
                line,
                format!("unknown directive {:?}; expected table or point", shorten(other)),
            ));
        }
    }
    Ok(())
}

/// Splits `Public PoC (P, PoC)` into the name and its aliases.
fn split_aliases(text: &str) -> (String, Vec<String>) {
    let text = text.trim();
    if let Some(inner) = text.strip_suffix(')')
        && let Some(open) = inner.rfind('(')
    {
        let aliases = inner[open + 1..]
            .split(',')
            .map(str::trim)
            .filter(|alias| !alias.is_empty())
            .map(str::to_string)
            .collect();
        return (inner[..open].trim().to_string(), aliases);
    }
    (text.to_string(), Vec::new())
}

/// Splits a header label `In KEV v1.0.0 (cisa)` into name, version and namespace.
fn split_label(text: &str) -> (String, Option<String>, Option<String>) {
    let mut rest = text.trim();
    let mut namespace = None;
    if let Some(inner) = rest.strip_suffix(')')
        && let Some(open) = inner.rfind('(')
    {
        namespace = Some(inner[open + 1..].trim().to_string());
        rest = inner[..open].trim_end();
    }

    let mut version = None;
    if let Some(cut) = rest.rfind(" v") {
        let candidate = &rest[cut + 2..];
        let looks_like_version = candidate.starts_with(|c: char| c.is_ascii_digit())
            && candidate.chars().all(|c| c.is_ascii_digit() || c == '.');
        if looks_like_version {
            version = Some(candidate.to_string());
            rest = rest[..cut].trim_end();
        }
    }
    (rest.to_string(), version, namespace)
}

fn parse_header(path: &str, line: usize, fields: &[String]) -> Result<Vec<Column>, SsvcError> {
    let first = fields.first().map(String::as_str).unwrap_or_default();
    if normalize(first) != "row" {
        return Err(csv_error(
            path,
            line,
            1,
            format!(
                "the header starts with {:?}; an SSVC table starts with row,<decision point>...,<outcome>",
                shorten(first)
            ),
        ));
    }
    if fields.len() < 3 {
        return Err(csv_error(
            path,
            line,
            fields.len() + 1,
            "the header needs at least one decision point column and an outcome column after row",
        ));
    }

    let mut columns: Vec<Column> = Vec::with_capacity(fields.len() - 1);
    for (offset, field) in fields[1..].iter().enumerate() {
        let column = offset + 2;
        let (name, version, namespace) = split_label(field);
        if name.is_empty() {
            return Err(csv_error(path, line, column, "the header names no decision point here"));
        }
        if columns
            .iter()
            .any(|earlier| normalize(&earlier.name) == normalize(&name))
        {
            return Err(csv_error(
                path,
                line,
                column,
                format!("the decision point {:?} appears twice in the header", shorten(&name)),
            ));
        }
        columns.push(Column {
            name,
            version,
            namespace,
            aliases: Vec::new(),
            values: Vec::new(),
            declared: false,
        });
    }
    Ok(columns)
}

fn apply_directives(path: &str, columns: &mut [Column], directives: Vec<PointDirective>) -> Result<(), SsvcError> {
    for directive in directives {
        let directive_name = normalize(&directive.name);
        let Some(column) = columns
            .iter_mut()
            .find(|column| normalize(&column.name) == directive_name || normalize(&column.label()) == directive_name)
        else {
            return Err(line_error(
                path,
                directive.line,
                format!(
                    "the point directive names {:?}, which is no column of the header",
                    shorten(&directive.name)
                ),
            ));
        };
        if column.declared {
            return Err(line_error(
                path,
                directive.line,
                format!("{} is declared twice", column.name),
            ));
        }

        let mut values: Vec<PointValue> = Vec::with_capacity(directive.values.len());
        for (name, aliases) in directive.values {
            let value = PointValue::new(name, aliases);
            if let Some(clash) = value
                .keys
                .iter()
                .find(|key| values.iter().any(|v| v.keys.contains(key)))
            {
                return Err(line_error(
                    path,
                    directive.line,
                    format!("{} has two values named {clash:?}", column.name),
                ));
            }
            values.push(value);
        }
        column.aliases = directive.aliases;
        column.values = values;
        column.declared = true;
    }
    Ok(())
}

fn parse_rows(path: &str, reader: &mut CsvReader<'_>, columns: &mut [Column]) -> Result<Vec<Row>, SsvcError> {
    let expected = columns.len() + 1;
    let mut rows = Vec::new();
    while let Some(record) = reader.next_record()? {
        let (line, fields) = match record {
            Record::Comment { line, text } if text.starts_with('!') => {
                return Err(line_error(path, line, "directives must come before the header"));
            }
            Record::Comment { .. } => continue,
            Record::Fields { line, fields } => (line, fields),
        };
        if fields.len() != expected {
            let reason = if fields.len() < expected {
                format!(
                    "expected {expected} fields (row, {} decision points, outcome), found {}; the row is incomplete or the file is truncated",
                    expected - 2,
                    fields.len()
                )
            } else {
                format!("expected {expected} fields as in the header, found {}", fields.len())
            };
            return Err(csv_error(path, line, fields.len().min(expected) + 1, reason));
        }
        if rows.len() == SSVC_MAX_COMBINATIONS {
            return Err(line_error(
                path,
                line,
                format!("the table has more than {SSVC_MAX_COMBINATIONS} rows"),
            ));
        }

        if fields[0].parse::<u64>().is_err() {
            return Err(csv_error(
                path,
                line,
                1,
                format!("invalid row number {:?}; expected a whole number", shorten(&fields[0])),
            ));
        }
        let mut values = Vec::with_capacity(columns.len());
        for (offset, column) in columns.iter_mut().enumerate() {
            values.push(value_index(path, line, offset + 2, column, &fields[offset + 1])?);
        }
        let outcome = values.pop().expect("the outcome is the last column");
        rows.push(Row { line, values, outcome });
    }
    Ok(rows)
}

/// Returns the index of a value in its column, adding it when the column
/// has no `point` directive.
fn value_index(
    path: &str,
    line: usize,
    column_number: usize,
    column: &mut Column,
    text: &str,
) -> Result<usize, SsvcError> {
    if text.is_empty() {
        return Err(csv_error(
            path,
            line,
            column_number,
            format!("no value for {}", column.name),
        ));
    }
    let key = normalize(text);
    if let Some(index) = column.values.iter().position(|value| value.keys.contains(&key)) {
        return Ok(index);
    }

    if column.declared {
        let known: Vec<&str> = column.values.iter().map(|value| value.name.as_str()).collect();
        return Err(csv_error(
            path,
            line,
            column_number,
            format!(
                "unknown value {:?} for {}; expected one of {}",
                shorten(text),
                column.name,
                known.join(", ")
            ),
        ));
    }
    if column.values.len() == MAX_VALUES {
        return Err(csv_error(
            path,
            line,
            column_number,
            format!("{} has more than {MAX_VALUES} different values", column.name),
        ));
    }
    column.values.push(PointValue::new(text.to_string(), Vec::new()));
    Ok(column.values.len() - 1)
}

/// Places every row in its cell, rejecting duplicate and missing combinations.
fn fill_cells(path: &str, columns: &[Column], rows: &[Row]) -> Result<Vec<u16>, SsvcError> {
    let points = &columns[..columns.len() - 1];
    let mut total: usize = 1;
    for point in points {
        total = total
            .checked_mul(point.values.len())
            .filter(|&total| total <= SSVC_MAX_COMBINATIONS)
            .ok_or_else(|| {
                line_error(
                    path,
                    rows[0].line,
                    format!("the decision points have more than {SSVC_MAX_COMBINATIONS} combinations of values"),
                )
            })?;
    }

    // Each cell keeps the outcome and the line of its row.
    let mut cells: Vec<Option<(u16, usize)>> = vec![None; total];
    for row in rows {
        let mut cell = 0;
        for (point, &index) in points.iter().zip(&row.values) {
            cell = cell * point.values.len() + index;
        }
        if let Some((_, first_line)) = cells[cell] {
            return Err(SsvcError::Duplicate {
                path: path.to_string(),
                line: row.line,
                first_line,
                combination: describe(points, &row.values),
            });
        }
        let outcome = u16::try_from(row.outcome).expect("outcomes are limited to MAX_VALUES");
        cells[cell] = Some((outcome, row.line));
    }

    let missing = cells.iter().filter(|cell| cell.is_none()).count();
    if let Some(first) = cells.iter().position(Option::is_none) {
        return Err(SsvcError::Incomplete {
            path: path.to_string(),
            missing,
            total,
            example: describe(points, &decode(points, first)),
        });
    }
    Ok(cells.into_iter().flatten().map(|(outcome, _)| outcome).collect())
}

/// Returns the value indices of the combination at `cell`.
fn decode(points: &[Column], cell: usize) -> Vec<usize> {
    let mut rest = cell;
    let mut indices = vec![0; points.len()];
    for (slot, point) in indices.iter_mut().zip(points).rev() {
        *slot = rest % point.values.len();
        rest /= point.values.len();
    }
    indices
}

/// Formats a combination as `Exploitation=None, Automatable=Yes`.
fn describe(points: &[Column], indices: &[usize]) -> String {
    let parts: Vec<String> = points
        .iter()
        .zip(indices)
        .map(|(point, &index)| format!("{}={}", point.name, point.values[index].name))
        .collect();
    parts.join(", ")
}

/// An RFC 4180 reader over the whole text that also yields `#` comment lines.
struct CsvReader<'a> {
    path: &'a str,
    text: &'a str,
    position: usize,
    /// The line of `position`, counted from 1.
    line: usize,
}

impl<'a> CsvReader<'a> {
    fn new(path: &'a str, text: &'a str) -> CsvReader<'a> {
        CsvReader {
            path,
            text,
            position: 0,
            line: 1,
        }
    }

    /// Reads the next record, skipping blank lines.
    fn next_record(&mut self) -> Result<Option<Record>, SsvcError> {
        loop {
            let rest = &self.text[self.position..];
            if rest.is_empty() {
                return Ok(None);
            }
            let line_end = rest.find('\n').unwrap_or(rest.len());
            let line_text = rest[..line_end].strip_suffix('\r').unwrap_or(&rest[..line_end]);

            if line_text.trim().is_empty() {
                self.advance_line(line_end);
                continue;
            }
            if let Some(comment) = line_text.trim_start().strip_prefix('#') {
                let record = Record::Comment {
                    line: self.line,
                    text: comment.to_string(),
                };
                self.advance_line(line_end);
                return Ok(Some(record));
            }
            return self.read_fields().map(Some);
        }
    }

    /// Moves past a line of `length` bytes and its line break.
    fn advance_line(&mut self, length: usize) {
        self.position = (self.position + length + 1).min(self.text.len());
        self.line += 1;
    }

    fn read_fields(&mut self) -> Result<Record, SsvcError> {
        let start_line = self.line;
        let bytes = self.text.as_bytes();
        let mut fields = Vec::new();

        loop {
            let column = fields.len() + 1;
            if column > MAX_COLUMNS {
                return Err(csv_error(
                    self.path,
                    start_line,
                    column,
                    format!("more than {MAX_COLUMNS} fields"),
                ));
            }

            let field = if bytes.get(self.position) == Some(&b'"') {
                self.read_quoted(column)?
            } else {
                self.read_plain(column)?
            };
            if field.len() > MAX_FIELD_BYTES {
                return Err(csv_error(
                    self.path,
                    self.line,
                    column,
                    format!("the field is longer than {MAX_FIELD_BYTES} bytes"),
                ));
            }
            fields.push(field);

            match bytes.get(self.position) {
                Some(b',') => self.position += 1,
                Some(b'\n') => {
                    self.position += 1;
                    self.line += 1;
                    break;
                }
                Some(b'\r') if bytes.get(self.position + 1) == Some(&b'\n') => {
                    self.position += 2;
                    self.line += 1;
                    break;
                }
                None => break,
                Some(_) => {
                    return Err(csv_error(
                        self.path,
                        self.line,
                        column,
                        "text after the closing quote of the field; double a quote inside a quoted field",
                    ));
                }
            }
        }
        Ok(Record::Fields {
            line: start_line,
            fields,
        })
    }

    /// Reads an unquoted field up to the next comma or line break.
    fn read_plain(&mut self, column: usize) -> Result<String, SsvcError> {
        let rest = &self.text[self.position..];
        let end = rest.find([',', '\n']).unwrap_or(rest.len());
        let raw = &rest[..end];
        let raw = if rest[end..].starts_with('\n') {
            raw.strip_suffix('\r').unwrap_or(raw)
        } else {
            raw
        };
        if raw.contains('"') {
            return Err(csv_error(
                self.path,
                self.line,
                column,
                "a quote inside an unquoted field; quote the whole field and double the quote",
            ));
        }
        self.position += raw.len();
        Ok(raw.trim().to_string())
    }

    /// Reads a quoted field, which may span lines and contains `""` for a quote.
    fn read_quoted(&mut self, column: usize) -> Result<String, SsvcError> {
        let open_line = self.line;
        let mut value = String::new();
        self.position += 1;
        loop {
            let rest = &self.text[self.position..];
            let Some(quote) = rest.find('"') else {
                return Err(csv_error(
                    self.path,
                    open_line,
                    column,
                    "the quoted field is never closed; the file may be truncated",
                ));
            };
            let chunk = &rest[..quote];
            self.line += chunk.matches('\n').count();
            value.push_str(chunk);
            if value.len() > MAX_FIELD_BYTES {
                return Err(csv_error(
                    self.path,
                    open_line,
                    column,
                    format!("the field is longer than {MAX_FIELD_BYTES} bytes"),
                ));
            }
            self.position += quote + 1;
            if self.text.as_bytes().get(self.position) == Some(&b'"') {
                value.push('"');
                self.position += 1;
            } else {
                return Ok(value.trim().to_string());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_splits_version_and_namespace() {
        let (name, version, namespace) = split_label("CISA BOD 26-04 Remediation Timelines v1.0.0 (cisa)");
        assert_eq!(name, "CISA BOD 26-04 Remediation Timelines");
        assert_eq!(version.as_deref(), Some("1.0.0"));
        assert_eq!(namespace.as_deref(), Some("cisa"));

        let (name, version, namespace) = split_label("Defer, Scheduled, Out-of-Cycle, Immediate v1.0.0");
        assert_eq!(name, "Defer, Scheduled, Out-of-Cycle, Immediate");
        assert_eq!(version.as_deref(), Some("1.0.0"));
        assert_eq!(namespace, None);

        let (name, version, _) = split_label("Exposure vector");
        assert_eq!(name, "Exposure vector");
        assert_eq!(version, None);
    }

    #[test]
    fn aliases_split_from_name() {
        assert_eq!(
            split_aliases(" Public PoC (P, PoC) "),
            ("Public PoC".to_string(), vec!["P".to_string(), "PoC".to_string()])
        );
        assert_eq!(split_aliases("Active"), ("Active".to_string(), vec![]));
    }

    #[test]
    fn reader_handles_quotes_and_line_breaks() {
        let text = "a,\"b, c\",\"say \"\"hi\"\"\"\r\n\n# note\nd,e,f";
        let mut reader = CsvReader::new("t.csv", text);
        let Some(Record::Fields { line, fields }) = reader.next_record().unwrap() else {
            panic!("expected fields");
        };
        assert_eq!(line, 1);
        assert_eq!(fields, ["a", "b, c", "say \"hi\""]);
        let Some(Record::Comment { line, text }) = reader.next_record().unwrap() else {
            panic!("expected a comment");
        };
        assert_eq!((line, text.as_str()), (3, " note"));
        let Some(Record::Fields { line, fields }) = reader.next_record().unwrap() else {
            panic!("expected fields");
        };
        assert_eq!((line, fields.len()), (4, 3));
        assert!(reader.next_record().unwrap().is_none());
    }
}
