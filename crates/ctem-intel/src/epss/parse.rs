//! Reading of one EPSS CSV file: layout detection, bounded line reading
//! and row validation.

use std::collections::hash_map::Entry;
use std::io::{BufRead, BufReader, Cursor, Read};

use chrono::{DateTime, NaiveDate, Utc};
use ctem_model::CveId;
use flate2::read::MultiGzDecoder;

use super::history::{Units, day_of};
use super::{CveMap, EPSS_MAX_LINE_BYTES, EPSS_MAX_LINES, EpssFile, EpssScores, GZIP_MAGIC, score_of};
use crate::error::{IntelError, shorten};

/// The layout of a CSV file, as its first line shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FirstLine {
    /// The `#model_version:...,score_date:...` comment of the daily file.
    Metadata,
    /// The header `cve,epss,percentile`.
    Header,
    /// A row `CVE-...,epss,percentile` of a file without header.
    Row,
}

/// Classifies the first line of a CSV file (byte order mark already
/// removed), or returns `None` when it belongs to no EPSS layout.
pub(crate) fn classify_first_line(line: &str) -> Option<FirstLine> {
    let line = line.trim();
    if line.starts_with('#') && line.contains("model_version") {
        return Some(FirstLine::Metadata);
    }
    if is_header(line) {
        return Some(FirstLine::Header);
    }
    let fields: Vec<&str> = line.split(',').map(unquote).collect();
    let starts_with_cve = fields
        .first()
        .is_some_and(|first| first.get(..4).is_some_and(|prefix| prefix.eq_ignore_ascii_case("CVE-")));
    if fields.len() == 3 && starts_with_cve {
        return Some(FirstLine::Row);
    }
    None
}

/// Size limits of the reader; tests use small ones.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub max_line_bytes: usize,
    pub max_lines: u64,
}

impl Limits {
    pub const DEFAULT: Limits = Limits {
        max_line_bytes: EPSS_MAX_LINE_BYTES,
        max_lines: EPSS_MAX_LINES,
    };
}

/// Wraps `reader` in a gzip decoder when it starts with the gzip magic bytes.
pub(crate) fn open_text<'a>(path: &str, mut reader: impl Read + 'a) -> Result<Box<dyn BufRead + 'a>, IntelError> {
    let mut magic = [0u8; 2];
    let mut filled = 0;
    while filled < magic.len() {
        let read = reader.read(&mut magic[filled..]).map_err(|source| IntelError::Io {
            path: path.to_string(),
            source,
        })?;
        if read == 0 {
            break;
        }
        filled += read;
    }

    let whole = Cursor::new(magic[..filled].to_vec()).chain(reader);
    if magic[..filled] == GZIP_MAGIC {
        // Multi-member streams are valid gzip (concatenated files); the
        // plain decoder would stop after the first member.
        Ok(Box::new(BufReader::new(MultiGzDecoder::new(whole))))
    } else {
        Ok(Box::new(BufReader::new(whole)))
    }
}

/// Reads lines with a length limit, so that a file without line breaks
/// cannot make the reader buffer all of it.
pub(crate) struct Lines<'p, R> {
    reader: R,
    buffer: Vec<u8>,
    number: u64,
    path: &'p str,
    limits: Limits,
}

impl<'p, R: BufRead> Lines<'p, R> {
    pub fn new(path: &'p str, reader: R, limits: Limits) -> Self {
        Lines {
            reader,
            buffer: Vec::new(),
            number: 0,
            path,
            limits,
        }
    }

    /// Reads the next line, returning its number (counted from 1) and its
    /// text without the line break.
    pub fn next_line(&mut self) -> Result<Option<(u64, &str)>, IntelError> {
        self.buffer.clear();
        let number = self.number + 1;
        // Two more bytes than the limit leave room for "\r\n".
        let budget = self.limits.max_line_bytes as u64 + 2;
        let read = (&mut self.reader)
            .take(budget)
            .read_until(b'\n', &mut self.buffer)
            .map_err(|source| IntelError::Read {
                path: self.path.to_string(),
                line: number,
                source,
            })?;
        if read == 0 {
            return Ok(None);
        }
        if number > self.limits.max_lines {
            return Err(IntelError::TooManyLines {
                path: self.path.to_string(),
                limit: self.limits.max_lines,
            });
        }
        self.number = number;

        if self.buffer.last() == Some(&b'\n') {
            self.buffer.pop();
        }
        if self.buffer.last() == Some(&b'\r') {
            self.buffer.pop();
        }
        if self.buffer.len() > self.limits.max_line_bytes {
            return Err(IntelError::LineTooLong {
                path: self.path.to_string(),
                line: number,
                limit: self.limits.max_line_bytes,
            });
        }
        let mut text = std::str::from_utf8(&self.buffer).map_err(|_| IntelError::NotUtf8 {
            path: self.path.to_string(),
            line: number,
        })?;
        if number == 1 {
            text = text.strip_prefix('\u{feff}').unwrap_or(text);
        }
        Ok(Some((number, text)))
    }
}

/// Reads the score date of the `#model_version` comment on the first line
/// of an EPSS file, without reading its rows. `None` when the first line
/// is no such comment, or names no date.
///
/// Fails as [`parse`] does where the first line shows that the file is no
/// EPSS file, or is empty.
pub(crate) fn first_line_score_date(path: &str, reader: impl BufRead) -> Result<Option<NaiveDate>, IntelError> {
    let mut lines = Lines::new(path, reader, Limits::DEFAULT);
    let Some((_, first)) = lines.next_line()? else {
        return Err(not_epss(path, "the file is empty".to_string()));
    };
    match classify_first_line(first) {
        Some(FirstLine::Metadata) => Ok(parse_metadata(path, first)?.1),
        Some(FirstLine::Header | FirstLine::Row) => Ok(None),
        None => Err(unexpected_first_line(path, first)),
    }
}

fn unexpected_first_line(path: &str, first: &str) -> IntelError {
    not_epss(
        path,
        format!(
            "line 1 is {:?}; expected the #model_version comment of the FIRST daily file, \
             the header cve,epss,percentile, or rows such as CVE-2025-0001,0.00275,0.50602",
            shorten(first)
        ),
    )
}

/// Reads one EPSS file. A CVE scored twice with the same values is logged
/// once per file. A CVE scored twice with different values rejects the
/// file, because the rows of one day cannot both be right.
pub(crate) fn parse(path: &str, reader: impl BufRead, limits: Limits) -> Result<EpssScores, IntelError> {
    let mut lines = Lines::new(path, reader, limits);
    let mut file = EpssFile {
        path: path.to_string(),
        model_version: None,
        score_date: None,
        count: 0,
    };
    let mut rows = Rows::default();

    let Some((_, first)) = lines.next_line()? else {
        return Err(not_epss(path, "the file is empty".to_string()));
    };
    match classify_first_line(first) {
        Some(FirstLine::Metadata) => {
            (file.model_version, file.score_date) = parse_metadata(path, first)?;
            expect_header(path, lines.next_line()?)?;
        }
        Some(FirstLine::Header) => {}
        Some(FirstLine::Row) => rows.add(path, 1, first)?,
        None => return Err(unexpected_first_line(path, first)),
    }

    while let Some((number, line)) = lines.next_line()? {
        if line.trim().is_empty() {
            continue;
        }
        rows.add(path, number, line)?;
    }

    rows.log(path);
    file.count = rows.scores.len();
    Ok(EpssScores::from_file(file, rows.scores))
}

/// The validated rows of one daily file.
#[derive(Default)]
struct Rows {
    scores: CveMap<Units>,
    /// Rows that repeat an earlier row of the same CVE with the same values.
    duplicates: usize,
    /// Values with more than five decimals, rounded to 1e-5.
    rounded: usize,
}

impl Rows {
    fn add(&mut self, path: &str, line: u64, text: &str) -> Result<(), IntelError> {
        let row = parse_row(path, line, text)?;
        self.rounded += usize::from(row.rounded);
        match self.scores.entry(row.cve) {
            Entry::Vacant(slot) => {
                slot.insert(row.units);
            }
            Entry::Occupied(slot) if *slot.get() == row.units => self.duplicates += 1,
            Entry::Occupied(slot) => return Err(conflict(path, line, slot.key(), *slot.get(), row.units)),
        }
        Ok(())
    }

    fn log(&self, path: &str) {
        log_rows(path, self.duplicates, self.rounded);
    }
}

/// Logs the repeated rows and the rounded values of a file, once per file.
pub(super) fn log_rows(path: &str, duplicates: usize, rounded: usize) {
    if duplicates > 0 {
        tracing::warn!(
            path,
            duplicates,
            "EPSS file repeats some rows with the same values; each is used once"
        );
    }
    if rounded > 0 {
        tracing::warn!(
            path,
            rounded,
            "EPSS file has values with more than five decimals; they are rounded to 0.00001, \
             the resolution that FIRST publishes"
        );
    }
}

/// Builds the error for a CVE that one file scores twice with different values on the same day.
pub(super) fn conflict(path: &str, line: u64, cve: &CveId, earlier: Units, here: Units) -> IntelError {
    IntelError::EpssConflict {
        path: path.to_string(),
        line,
        cve: cve.to_string(),
        earlier: score_of(earlier),
        here: score_of(here),
    }
}

fn not_epss(path: &str, reason: String) -> IntelError {
    IntelError::NotEpss {
        path: path.to_string(),
        reason,
    }
}

pub(super) fn unquote(field: &str) -> &str {
    let field = field.trim();
    field
        .strip_prefix('"')
        .and_then(|inner| inner.strip_suffix('"'))
        .unwrap_or(field)
        .trim()
}

fn is_header(line: &str) -> bool {
    let mut fields = line.split(',').map(unquote);
    ["cve", "epss", "percentile"]
        .iter()
        .all(|name| fields.next().is_some_and(|field| field.eq_ignore_ascii_case(name)))
        && fields.next().is_none()
}

fn expect_header(path: &str, line: Option<(u64, &str)>) -> Result<(), IntelError> {
    match line {
        Some((_, text)) if is_header(text) => Ok(()),
        Some((number, text)) => Err(not_epss(
            path,
            format!(
                "line {number} is {:?}; after the #model_version comment the header cve,epss,percentile must follow",
                shorten(text)
            ),
        )),
        None => Err(not_epss(
            path,
            "the file ends after the #model_version comment; the header cve,epss,percentile is missing".to_string(),
        )),
    }
}

/// Reads `#model_version:v2025.03.14,score_date:2025-03-14T00:00:00+0000`.
/// Keys that FIRST may add later are ignored.
fn parse_metadata(path: &str, line: &str) -> Result<(Option<String>, Option<NaiveDate>), IntelError> {
    let body = line.trim().trim_start_matches('#');
    let mut model_version = None;
    let mut score_date = None;
    for part in body.split(',') {
        let Some((key, value)) = part.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match key.trim() {
            "model_version" if !value.is_empty() => model_version = Some(value.to_string()),
            "score_date" => {
                let invalid = |reason: &str| IntelError::EpssValue {
                    path: path.to_string(),
                    line: 1,
                    field: "score_date",
                    value: shorten(value),
                    reason: reason.to_string(),
                };
                let date = parse_score_date(value)
                    .ok_or_else(|| invalid("expected a date-time such as 2025-03-14T00:00:00+0000"))?;
                check_score_date(date).map_err(invalid)?;
                score_date = Some(date);
            }
            _ => {}
        }
    }
    Ok((model_version, score_date))
}

/// Checks that a score date lies in the range that the history stores.
pub(super) fn check_score_date(date: NaiveDate) -> Result<(), &'static str> {
    match day_of(date) {
        Some(_) => Ok(()),
        None => Err(
            "outside the range of EPSS score dates: expected a day from 2021-04-14, \
                     the first day of EPSS scores, to 2200-09-18",
        ),
    }
}

/// Parses FIRST's `2025-03-14T00:00:00+0000`, an RFC 3339 date-time or a bare date.
pub(super) fn parse_score_date(text: &str) -> Option<NaiveDate> {
    if let Ok(time) = DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%z") {
        return Some(time.with_timezone(&Utc).date_naive());
    }
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Some(time.with_timezone(&Utc).date_naive());
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}

/// One validated row: the CVE, its score in units, and whether a value had
/// more than five decimals and was rounded.
pub(super) struct Row {
    pub cve: CveId,
    pub units: Units,
    pub rounded: bool,
}

fn parse_row(path: &str, line: u64, text: &str) -> Result<Row, IntelError> {
    let fields: Vec<&str> = text.split(',').map(unquote).collect();
    let [cve_text, epss_text, percentile_text] = fields[..] else {
        return Err(IntelError::EpssColumns {
            path: path.to_string(),
            line,
            found: fields.len(),
            row: shorten(text),
        });
    };
    parse_values(path, line, cve_text, epss_text, percentile_text)
}

/// Validates the CVE id, the probability and the percentile of a row.
pub(super) fn parse_values(
    path: &str,
    line: u64,
    cve_text: &str,
    epss_text: &str,
    percentile_text: &str,
) -> Result<Row, IntelError> {
    let invalid = |field: &'static str, value: &str, reason: &str| IntelError::EpssValue {
        path: path.to_string(),
        line,
        field,
        value: shorten(value),
        reason: reason.to_string(),
    };

    let cve: CveId = cve_text.parse().map_err(|_| {
        invalid(
            "cve",
            cve_text,
            "expected CVE-YYYY-NNNN with a four-digit year and at least four digits after it",
        )
    })?;
    let epss = parse_probability(epss_text).map_err(|reason| invalid("epss", epss_text, reason))?;
    let percentile =
        parse_probability(percentile_text).map_err(|reason| invalid("percentile", percentile_text, reason))?;

    let (epss, epss_rounded) = Units::from_probability(epss);
    let (percentile, percentile_rounded) = Units::from_probability(percentile);
    Ok(Row {
        cve,
        units: Units { epss, percentile },
        rounded: epss_rounded || percentile_rounded,
    })
}

pub(super) fn parse_probability(text: &str) -> Result<f64, &'static str> {
    let value: f64 = text.parse().map_err(|_| "expected a number from 0 to 1")?;
    // NaN fails the range test too.
    if !(0.0..=1.0).contains(&value) {
        return Err("out of range: expected a number from 0 to 1");
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_text(text: &str, limits: Limits) -> Result<EpssScores, IntelError> {
        parse("test.csv", text.as_bytes(), limits)
    }

    #[test]
    fn classify_layouts() {
        let cases = [
            (
                "#model_version:v2025.03.14,score_date:2025-03-14T00:00:00+0000",
                Some(FirstLine::Metadata),
            ),
            ("cve,epss,percentile", Some(FirstLine::Header)),
            ("\"CVE\",\"EPSS\",\"Percentile\"", Some(FirstLine::Header)),
            ("CVE-2025-0001,0.00275,0.50602", Some(FirstLine::Row)),
            ("cve,kev_dateAdded,snapshot_date,epss,percentile", None),
            ("cveID,vendorProject,product", None),
            ("CVE-2025-0001,0.1", None),
            ("", None),
        ];
        for (line, expected) in cases {
            assert_eq!(classify_first_line(line), expected, "{line:?}");
        }
    }

    #[test]
    fn line_limit_applies() {
        let limits = Limits {
            max_line_bytes: 40,
            max_lines: 100,
        };
        let text = format!("CVE-2025-0001,0.1,0.2\n{}\n", "9".repeat(41));
        let error = parse_text(&text, limits).unwrap_err();
        assert!(
            matches!(error, IntelError::LineTooLong { line: 2, limit: 40, .. }),
            "{error}"
        );
    }

    #[test]
    fn line_limit_allows_crlf_at_limit() {
        let limits = Limits {
            max_line_bytes: 29,
            max_lines: 100,
        };
        let scores = parse_text("CVE-2025-0001,0.00275,0.50602\r\n", limits).unwrap();
        assert_eq!(scores.len(), 1);
    }

    #[test]
    fn line_count_limit_applies() {
        let limits = Limits {
            max_line_bytes: 100,
            max_lines: 3,
        };
        let text = "\n".repeat(10);
        let text = format!("cve,epss,percentile{text}");
        let error = parse_text(&text, limits).unwrap_err();
        assert!(matches!(error, IntelError::TooManyLines { limit: 3, .. }), "{error}");
    }

    #[test]
    fn score_date_forms() {
        let expected = NaiveDate::from_ymd_opt(2025, 3, 14);
        assert_eq!(parse_score_date("2025-03-14T00:00:00+0000"), expected);
        assert_eq!(parse_score_date("2025-03-14T00:00:00Z"), expected);
        assert_eq!(parse_score_date("2025-03-14"), expected);
        assert_eq!(parse_score_date("14/03/2025"), None);
    }

    #[test]
    fn probability_bounds() {
        assert_eq!(parse_probability("0"), Ok(0.0));
        assert_eq!(parse_probability("1"), Ok(1.0));
        assert!(parse_probability("1.0001").is_err());
        assert!(parse_probability("-0.1").is_err());
        assert!(parse_probability("NaN").is_err());
        assert!(parse_probability("inf").is_err());
        assert!(parse_probability("").is_err());
    }
}
