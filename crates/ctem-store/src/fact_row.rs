//! Decoding the rows of the fact query, the loop behind
//! [`crate::Store::fact_table`].
//!
//! A store of a million findings gives fifteen million values, so the
//! decoder reads every text column as bytes. Enumerations are compared as
//! bytes. Times are parsed by their fixed layout unless they equal the
//! previous row's text in the same column, as `first_seen` does for the
//! findings that one run created, which have consecutive ids. Asset keys
//! and tool sets are interned by their bytes, and only text that the table
//! keeps is checked to be UTF-8.

use std::collections::HashMap;
use std::path::Path;

use chrono::{DateTime, NaiveDate, Utc};
use ctem_model::{AssetKey, FindingKind, Severity, Tier};
use rusqlite::Row;
use rusqlite::types::ValueRef;

use crate::codec::{parse_name, parse_time, status_from_sql};
use crate::error::sql_error;
use crate::{FactTable, FindingFacts, StoreError};

/// The fact query over an inclusive range of ids. Its columns are
/// [`FACT_COLUMNS`], in that order.
pub(crate) const FACT_QUERY: &str = "SELECT id, asset_key, tools, kind, severity, tier, score, status, first_seen, \
                                     last_seen, introduced_at, fixed_at, verified_at, validation, accepted_until \
                                     FROM findings WHERE id BETWEEN ?1 AND ?2 ORDER BY id";

/// The names of the fact query's columns, for errors.
const FACT_COLUMNS: [&str; 15] = [
    "id",
    "asset_key",
    "tools",
    "kind",
    "severity",
    "tier",
    "score",
    "status",
    "first_seen",
    "last_seen",
    "introduced_at",
    "fixed_at",
    "verified_at",
    "validation",
    "accepted_until",
];

/// The first of the time columns. `accepted_until` is the last.
const FIRST_TIME_COLUMN: usize = 8;

/// The length of a time as the store writes it.
const STORED_TIME_LEN: usize = "2024-05-01T12:00:00.000000000Z".len();

type ByteMap = HashMap<Box<[u8]>, u32, foldhash::fast::RandomState>;

/// Decodes fact rows into a [`FactTable`], interning as it goes.
#[derive(Default)]
pub(crate) struct FactDecoder {
    assets: ByteMap,
    tool_sets: ByteMap,
    /// The latest time of each time column, from column 8 (`first_seen`)
    /// on; the slot of column 13 (`validation`) stays empty.
    times: [LastTime; 7],
}

/// A time column's latest text and the time it gave.
#[derive(Default)]
struct LastTime {
    text: [u8; STORED_TIME_LEN],
    time: Option<DateTime<Utc>>,
}

/// The rows of the fact query per batch that the reading thread hands to
/// the decoding thread: large enough that the channel costs nothing per
/// row, small enough that both threads start at once.
pub(crate) const BATCH_ROWS: usize = 4096;

/// The text columns of [`FACT_QUERY`]: all but `id` (0) and `score` (6).
const TEXT_COLUMNS: [usize; 13] = [1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14];

/// Marks a NULL column in [`RowBatch::ends`].
const NULL: u32 = u32::MAX;

/// Rows of the fact query copied out of SQLite, so that another thread can
/// decode them while SQLite reads the next ones.
pub(crate) struct RowBatch {
    ids: Vec<i64>,
    scores: Vec<f64>,
    /// For each row, for each of [`TEXT_COLUMNS`], where its bytes end in
    /// `bytes`, or [`NULL`].
    ends: Vec<u32>,
    bytes: Vec<u8>,
}

/// One row of a [`RowBatch`]: the id, the score and the bytes of the text
/// columns, indexed by their column in [`FACT_QUERY`].
pub(crate) struct RowView<'a> {
    id: i64,
    score: f64,
    columns: [Option<&'a [u8]>; 15],
}

impl RowBatch {
    /// An empty batch with room for `rows` rows of about 256 bytes.
    pub(crate) fn with_capacity(rows: usize) -> RowBatch {
        RowBatch {
            ids: Vec::with_capacity(rows),
            scores: Vec::with_capacity(rows),
            ends: Vec::with_capacity(rows * TEXT_COLUMNS.len()),
            bytes: Vec::with_capacity(rows * 256),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.ids.len()
    }

    /// Empties the batch and keeps its memory for the next rows.
    pub(crate) fn clear(&mut self) {
        self.ids.clear();
        self.scores.clear();
        self.ends.clear();
        self.bytes.clear();
    }

    /// Copies one row of [`FACT_QUERY`].
    pub(crate) fn push(&mut self, row: &Row<'_>, path: &Path) -> Result<(), StoreError> {
        let read_error = |error| sql_error(path, "reading finding facts")(error);
        let id: i64 = row.get(0).map_err(read_error)?;
        let score: f64 = row.get(6).map_err(read_error)?;
        for column in TEXT_COLUMNS {
            match text(row, column, id, path)? {
                Some(bytes) => {
                    self.bytes.extend_from_slice(bytes);
                    // A batch holds 4,096 rows of a few hundred bytes.
                    self.ends.push(self.bytes.len() as u32);
                }
                None => self.ends.push(NULL),
            }
        }
        self.ids.push(id);
        self.scores.push(score);
        Ok(())
    }

    /// Calls `decode` on each row, in order, until it fails.
    pub(crate) fn for_each(
        &self,
        mut decode: impl FnMut(&RowView<'_>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut start = 0;
        for (index, ends) in self.ends.chunks_exact(TEXT_COLUMNS.len()).enumerate() {
            let mut view = RowView {
                id: self.ids[index],
                score: self.scores[index],
                columns: [None; 15],
            };
            for (&column, &end) in TEXT_COLUMNS.iter().zip(ends) {
                if end != NULL {
                    view.columns[column] = Some(&self.bytes[start as usize..end as usize]);
                    start = end;
                }
            }
            decode(&view)?;
        }
        Ok(())
    }
}

impl FactDecoder {
    /// Decodes one row of [`FACT_QUERY`], interning its asset and tool set
    /// into `table`.
    pub(crate) fn decode(&mut self, row: &RowView<'_>, table: &mut FactTable) -> Result<FindingFacts, StoreError> {
        let id = row.id;
        let column = |index: usize| row.columns[index];
        let required = |index: usize| column(index).ok_or_else(|| corrupt(index, id, "expected text, found NULL"));

        let asset = self.intern_asset(required(1)?, table, id)?;
        let tools = self.intern_tools(required(2)?, table, id)?;
        let kind = enumeration(required(3)?, 3, id, &KINDS, FindingKind::as_str, "a finding kind")?;
        let severity = enumeration(required(4)?, 4, id, &Severity::ALL, Severity::as_str, "a severity")?;
        let tier = enumeration(required(5)?, 5, id, &TIERS, Tier::as_str, "one of P1, P2, P3 or P4")?;
        let status_bytes = required(7)?;
        let status = status_from_sql(status_bytes)
            .ok_or_else(|| corrupt(7, id, format!("{:?} is not a finding status", lossy(status_bytes))))?;
        let validation = match column(13) {
            None => None,
            Some(bytes) => Some(parse_name(
                utf8(bytes, 13, id)?,
                "findings",
                "validation",
                &id.to_string(),
            )?),
        };

        let facts = FindingFacts {
            id,
            asset,
            tools,
            kind,
            severity,
            tier,
            score: row.score,
            status,
            first_seen: self.time(required(8)?, 8, id)?,
            last_seen: self.time(required(9)?, 9, id)?,
            introduced_at: self.optional_time(column(10), 10, id)?,
            fixed_at: self.optional_time(column(11), 11, id)?,
            verified_at: self.optional_time(column(12), 12, id)?,
            validation,
            accepted_until: self.optional_time(column(14), 14, id)?,
        };
        Ok(facts)
    }

    fn intern_asset(&mut self, bytes: &[u8], table: &mut FactTable, id: i64) -> Result<u32, StoreError> {
        if let Some(&index) = self.assets.get(bytes) {
            return Ok(index);
        }
        let key = utf8(bytes, 1, id)?;
        let index = intern_index(table.assets.len());
        table.assets.push(AssetKey::from_stored(key.to_string()));
        self.assets.insert(bytes.into(), index);
        Ok(index)
    }

    fn intern_tools(&mut self, bytes: &[u8], table: &mut FactTable, id: i64) -> Result<u32, StoreError> {
        if let Some(&index) = self.tool_sets.get(bytes) {
            return Ok(index);
        }
        let tools = utf8(bytes, 2, id)?;
        let index = intern_index(table.tool_sets.len());
        let mut set: Vec<String> = tools
            .split(',')
            .filter(|tool| !tool.is_empty())
            .map(str::to_string)
            .collect();
        set.sort();
        table.tool_sets.push(set);
        self.tool_sets.insert(bytes.into(), index);
        Ok(index)
    }

    fn optional_time(
        &mut self,
        bytes: Option<&[u8]>,
        column: usize,
        id: i64,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        bytes.map(|bytes| self.time(bytes, column, id)).transpose()
    }

    fn time(&mut self, bytes: &[u8], column: usize, id: i64) -> Result<DateTime<Utc>, StoreError> {
        let last = &mut self.times[column - FIRST_TIME_COLUMN];
        if let Some(time) = last.time
            && bytes == last.text
        {
            return Ok(time);
        }
        match fast_time(bytes) {
            Some(time) => {
                last.text.copy_from_slice(bytes);
                last.time = Some(time);
                Ok(time)
            }
            None => parse_time(
                utf8(bytes, column, id)?,
                "findings",
                FACT_COLUMNS[column],
                &id.to_string(),
            ),
        }
    }
}

const KINDS: [FindingKind; 7] = [
    FindingKind::Vulnerability,
    FindingKind::CodeWeakness,
    FindingKind::WebWeakness,
    FindingKind::Misconfiguration,
    FindingKind::Secret,
    FindingKind::ExposedService,
    FindingKind::License,
];

const TIERS: [Tier; 4] = [Tier::P1, Tier::P2, Tier::P3, Tier::P4];

/// Reads a column as the bytes of its text; `None` for NULL.
fn text<'r>(row: &'r Row<'_>, column: usize, id: i64, path: &Path) -> Result<Option<&'r [u8]>, StoreError> {
    match row.get_ref(column) {
        Ok(ValueRef::Text(bytes)) => Ok(Some(bytes)),
        Ok(ValueRef::Null) => Ok(None),
        Ok(other) => Err(corrupt(
            column,
            id,
            format!("expected text, found {:?}", other.data_type()),
        )),
        Err(error) => Err(sql_error(path, "reading finding facts")(error)),
    }
}

/// Finds the value whose stored name is `bytes`.
fn enumeration<T: Copy>(
    bytes: &[u8],
    column: usize,
    id: i64,
    values: &[T],
    name: fn(T) -> &'static str,
    expected: &str,
) -> Result<T, StoreError> {
    values
        .iter()
        .copied()
        .find(|&value| name(value).as_bytes() == bytes)
        .ok_or_else(|| corrupt(column, id, format!("{:?} is not {expected}", lossy(bytes))))
}

fn utf8(bytes: &[u8], column: usize, id: i64) -> Result<&str, StoreError> {
    std::str::from_utf8(bytes).map_err(|error| corrupt(column, id, error.to_string()))
}

fn lossy(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(bytes)
}

fn corrupt(column: usize, id: i64, reason: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        table: "findings",
        column: FACT_COLUMNS[column],
        key: id.to_string(),
        reason: reason.into(),
    }
}

fn intern_index(len: usize) -> u32 {
    // Four billion distinct assets cannot come from a store that fits on
    // a disk.
    u32::try_from(len).unwrap_or(u32::MAX)
}

/// Parses a time as the store writes it (`2024-05-01T12:00:00.000000000Z`)
/// by its fixed layout, about ten times faster than an RFC 3339 parser.
/// Returns `None` for any other text.
fn fast_time(bytes: &[u8]) -> Option<DateTime<Utc>> {
    if bytes.len() != STORED_TIME_LEN
        || bytes[4] != b'-'
        || bytes[7] != b'-'
        || bytes[10] != b'T'
        || bytes[13] != b':'
        || bytes[16] != b':'
        || bytes[19] != b'.'
        || bytes[29] != b'Z'
    {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        bytes[range].iter().try_fold(0_u32, |value, &byte| {
            byte.is_ascii_digit().then(|| value * 10 + u32::from(byte - b'0'))
        })
    };
    let date = NaiveDate::from_ymd_opt(i32::try_from(number(0..4)?).ok()?, number(5..7)?, number(8..10)?)?;
    let time = date.and_hms_nano_opt(number(11..13)?, number(14..16)?, number(17..19)?, number(20..29)?)?;
    Some(time.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::format_time;
    use chrono::TimeZone;

    #[test]
    fn fast_time_reads_what_the_store_writes() {
        let time = Utc.timestamp_opt(1_714_564_800, 123_456_789).unwrap();
        assert_eq!(fast_time(format_time(time).as_bytes()), Some(time));
        assert_eq!(fast_time(b"2024-05-01T12:00:00Z"), None);
        assert_eq!(fast_time(b"2024-13-01T12:00:00.000000000Z"), None);
        assert_eq!(fast_time(b"2024-05-01T12:00:0x.000000000Z"), None);
    }

    #[test]
    fn time_column_falls_back_to_rfc_3339() {
        let mut decoder = FactDecoder::default();
        let short = decoder.time(b"2024-05-01T12:00:00Z", 8, 1).unwrap();
        assert_eq!(short, Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap());
        let error = decoder.time(b"yesterday", 8, 1).unwrap_err();
        assert!(error.to_string().contains("findings.first_seen for 1"), "{error}");
    }

    #[test]
    fn repeated_time_text_gives_same_time() {
        let mut decoder = FactDecoder::default();
        let first = Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap();
        let second = Utc.with_ymd_and_hms(2024, 5, 2, 12, 0, 0).unwrap();
        for time in [first, first, second, second, first] {
            let text = format_time(time);
            assert_eq!(decoder.time(text.as_bytes(), 9, 1).unwrap(), time);
        }
    }

    #[test]
    fn enumerations_match_their_stored_names() {
        for kind in KINDS {
            assert_eq!(
                enumeration(kind.as_str().as_bytes(), 3, 1, &KINDS, FindingKind::as_str, "a kind").unwrap(),
                kind
            );
        }
        let error = enumeration(b"P9", 5, 7, &TIERS, Tier::as_str, "one of P1, P2, P3 or P4").unwrap_err();
        assert!(error.to_string().contains("findings.tier for 7"), "{error}");
        assert!(error.to_string().contains("\"P9\" is not one of P1"), "{error}");
    }
}
