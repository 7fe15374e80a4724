//! The compact reads behind `ctem metrics`: finding facts, run statistics
//! and asset coverage.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use ctem_model::{AssetKey, FindingKind, Severity, Tier};
use rusqlite::types::ValueRef;
use rusqlite::{Row, params_from_iter};

use crate::codec::{parse_json, parse_name, parse_time, status_from_sql};
use crate::error::sql_error;
use crate::{AssetCoverage, FactTable, FindingFacts, RunStats, RunSummary, Store, StoreError, StoredFinding};

impl Store {
    /// Reads the facts of every finding, in id order. A million findings
    /// take well under a second: the query reads no JSON, and stored times
    /// are parsed by their fixed layout.
    pub fn fact_table(&self) -> Result<FactTable, StoreError> {
        let path = self.path.as_path();
        let mut select = self
            .conn
            .prepare_cached(
                "SELECT id, asset_key, tools, kind, severity, tier, score, status, first_seen, last_seen,
                        introduced_at, fixed_at, verified_at, validation, accepted_until
                 FROM findings ORDER BY id",
            )
            .map_err(sql_error(path, "preparing the fact query"))?;
        let mut rows = select.query([]).map_err(sql_error(path, "querying finding facts"))?;

        let mut table = FactTable::default();
        let mut assets: HashMap<String, u32> = HashMap::new();
        let mut tool_sets: HashMap<String, u32> = HashMap::new();
        while let Some(row) = rows.next().map_err(sql_error(path, "reading finding facts"))? {
            let id: i64 = row.get(0).map_err(sql_error(path, "reading finding facts"))?;
            let key = id.to_string();
            let text = |column: usize| -> Result<&str, StoreError> {
                match row.get_ref(column) {
                    Ok(ValueRef::Text(bytes)) => std::str::from_utf8(bytes).map_err(|error| StoreError::Corrupt {
                        table: "findings",
                        column: FACT_COLUMNS[column],
                        key: key.clone(),
                        reason: error.to_string(),
                    }),
                    Ok(other) => Err(StoreError::Corrupt {
                        table: "findings",
                        column: FACT_COLUMNS[column],
                        key: key.clone(),
                        reason: format!("expected text, found {:?}", other.data_type()),
                    }),
                    Err(error) => Err(sql_error(path, "reading finding facts")(error)),
                }
            };
            let optional_time = |column: usize| -> Result<Option<DateTime<Utc>>, StoreError> {
                match row.get_ref(column) {
                    Ok(ValueRef::Null) => Ok(None),
                    _ => stored_time(text(column)?, FACT_COLUMNS[column], &key).map(Some),
                }
            };

            let asset_text = text(1)?;
            let asset = match assets.get(asset_text) {
                Some(&index) => index,
                None => {
                    let index = intern_index(table.assets.len());
                    assets.insert(asset_text.to_string(), index);
                    table.assets.push(AssetKey::from_stored(asset_text.to_string()));
                    index
                }
            };
            let tools_text = text(2)?;
            let tools = match tool_sets.get(tools_text) {
                Some(&index) => index,
                None => {
                    let index = intern_index(table.tool_sets.len());
                    tool_sets.insert(tools_text.to_string(), index);
                    let mut set: Vec<String> = tools_text
                        .split(',')
                        .filter(|tool| !tool.is_empty())
                        .map(str::to_string)
                        .collect();
                    set.sort();
                    table.tool_sets.push(set);
                    index
                }
            };
            let status_text = text(7)?;
            let status = status_from_sql(status_text).ok_or_else(|| StoreError::Corrupt {
                table: "findings",
                column: "status",
                key: key.clone(),
                reason: format!("{status_text:?} is not a finding status"),
            })?;
            let score: f64 = row.get(6).map_err(sql_error(path, "reading finding facts"))?;
            let validation = match row.get_ref(13) {
                Ok(ValueRef::Null) => None,
                _ => Some(parse_name(text(13)?, "findings", "validation", &key)?),
            };

            table.findings.push(FindingFacts {
                id,
                asset,
                tools,
                kind: kind_from_sql(text(3)?, &key)?,
                severity: severity_from_sql(text(4)?, &key)?,
                tier: parse_name::<Tier>(text(5)?, "findings", "tier", &key)?,
                score,
                status,
                first_seen: stored_time(text(8)?, "first_seen", &key)?,
                last_seen: stored_time(text(9)?, "last_seen", &key)?,
                introduced_at: optional_time(10)?,
                fixed_at: optional_time(11)?,
                verified_at: optional_time(12)?,
                validation,
                accepted_until: optional_time(14)?,
            });
        }
        Ok(table)
    }

    /// Returns the statistics of every run that has them, the oldest first.
    /// Runs recorded by a ctem older than the statistics have none.
    pub fn run_stats(&self) -> Result<Vec<RunStats>, StoreError> {
        let path = self.path.as_path();
        let mut select = self
            .conn
            .prepare_cached(
                "SELECT run.id, run.observed_at, run.finding_count, run.new_count, run.open_count,
                        run.reopened_count, run.fixed_count,
                        stats.open_p1, stats.open_p2, stats.open_p3, stats.open_p4,
                        stats.risk_p1, stats.risk_p2, stats.risk_p3, stats.risk_p4,
                        stats.crown_open, stats.crown_risk, stats.accepted
                 FROM runs AS run JOIN run_stats AS stats ON stats.run_id = run.id
                 ORDER BY run.observed_at, run.id",
            )
            .map_err(sql_error(path, "preparing the run statistics query"))?;
        let mut rows = select.query([]).map_err(sql_error(path, "querying run statistics"))?;
        let mut stats = Vec::new();
        while let Some(row) = rows.next().map_err(sql_error(path, "reading run statistics"))? {
            stats.push(decode_run_stats(row).map_err(|error| match error {
                RowError::Sql(error) => sql_error(path, "reading run statistics")(error),
                RowError::Store(error) => error,
            })?);
        }
        Ok(stats)
    }

    /// Returns every asset with the time it was last assessed, by key.
    pub fn asset_coverage(&self) -> Result<Vec<AssetCoverage>, StoreError> {
        let path = self.path.as_path();
        let mut select = self
            .conn
            .prepare_cached("SELECT key, data, first_seen, last_assessed FROM assets ORDER BY key")
            .map_err(sql_error(path, "preparing the coverage query"))?;
        let mut rows = select.query([]).map_err(sql_error(path, "querying assets"))?;
        let mut coverage = Vec::new();
        while let Some(row) = rows.next().map_err(sql_error(path, "reading assets"))? {
            let (key, data, first_seen, last_assessed): (String, String, String, Option<String>) =
                (|| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)))()
                    .map_err(sql_error(path, "reading assets"))?;
            coverage.push(AssetCoverage {
                asset: parse_json(&data, "assets", "data", &key)?,
                first_seen: parse_time(&first_seen, "assets", "first_seen", &key)?,
                last_assessed: last_assessed
                    .map(|text| parse_time(&text, "assets", "last_assessed", &key))
                    .transpose()?,
            });
        }
        Ok(coverage)
    }

    /// Returns the findings with these row ids (as in
    /// [`crate::FindingFacts::id`]), in the order of the ids given; ids
    /// that are not stored are left out.
    pub fn findings_by_id(&self, ids: &[i64]) -> Result<Vec<StoredFinding>, StoreError> {
        let path = self.path.as_path();
        let mut found: HashMap<i64, StoredFinding> = HashMap::with_capacity(ids.len());
        // SQLite allows 32,766 parameters a statement.
        for chunk in ids.chunks(10_000) {
            let marks = vec!["?"; chunk.len()].join(", ");
            let sql = format!(
                "SELECT fingerprint, status, first_seen, last_seen, fixed_at, data, risk, tools, validation,
                        verified_at, accepted_until, introduced_at, id
                 FROM findings JOIN finding_json ON finding_json.finding_id = findings.id
                 WHERE id IN ({marks})"
            );
            let mut select = self
                .conn
                .prepare(&sql)
                .map_err(sql_error(path, "preparing the finding query"))?;
            let mut rows = select
                .query(params_from_iter(chunk.iter()))
                .map_err(sql_error(path, "querying findings"))?;
            while let Some(row) = rows.next().map_err(sql_error(path, "reading findings"))? {
                let id: i64 = row.get(12).map_err(sql_error(path, "reading findings"))?;
                found.insert(id, self.decode_finding(row)?);
            }
        }
        Ok(ids.iter().filter_map(|id| found.remove(id)).collect())
    }
}

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

fn intern_index(len: usize) -> u32 {
    // Four billion distinct assets cannot come from a store that fits on
    // a disk.
    u32::try_from(len).unwrap_or(u32::MAX)
}

enum RowError {
    Sql(rusqlite::Error),
    Store(StoreError),
}

impl From<rusqlite::Error> for RowError {
    fn from(error: rusqlite::Error) -> RowError {
        RowError::Sql(error)
    }
}

fn decode_run_stats(row: &Row<'_>) -> Result<RunStats, RowError> {
    let id: i64 = row.get(0)?;
    let key = id.to_string();
    let observed_at = parse_time(&row.get::<_, String>(1)?, "runs", "observed_at", &key).map_err(RowError::Store)?;
    let count = |column: usize, name: &'static str| -> Result<u64, RowError> {
        let value: i64 = row.get(column)?;
        u64::try_from(value).map_err(|_| {
            RowError::Store(StoreError::Corrupt {
                table: "run_stats",
                column: name,
                key: key.clone(),
                reason: format!("negative count {value}"),
            })
        })
    };
    let summary = RunSummary {
        run_id: id,
        observed_at,
        seen: count(2, "finding_count")?,
        new: count(3, "new_count")?,
        still_open: count(4, "open_count")?,
        reopened: count(5, "reopened_count")?,
        fixed: count(6, "fixed_count")?,
    };
    Ok(RunStats {
        run_id: id,
        observed_at,
        summary,
        open_by_tier: [
            count(7, "open_p1")?,
            count(8, "open_p2")?,
            count(9, "open_p3")?,
            count(10, "open_p4")?,
        ],
        risk_by_tier: [row.get(11)?, row.get(12)?, row.get(13)?, row.get(14)?],
        crown_jewel_open: count(15, "crown_open")?,
        crown_jewel_risk: row.get(16)?,
        accepted: count(17, "accepted")?,
    })
}

/// Parses a time as the store writes it (`2024-05-01T12:00:00.000000000Z`)
/// by its fixed layout, about ten times faster than an RFC 3339 parser;
/// any other text goes through [`parse_time`].
pub(crate) fn stored_time(text: &str, column: &'static str, key: &str) -> Result<DateTime<Utc>, StoreError> {
    fast_time(text.as_bytes()).map_or_else(|| parse_time(text, "findings", column, key), Ok)
}

fn fast_time(bytes: &[u8]) -> Option<DateTime<Utc>> {
    if bytes.len() != 30
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

fn kind_from_sql(name: &str, key: &str) -> Result<FindingKind, StoreError> {
    const KINDS: [FindingKind; 7] = [
        FindingKind::Vulnerability,
        FindingKind::CodeWeakness,
        FindingKind::WebWeakness,
        FindingKind::Misconfiguration,
        FindingKind::Secret,
        FindingKind::ExposedService,
        FindingKind::License,
    ];
    KINDS
        .into_iter()
        .find(|kind| kind.as_str() == name)
        .ok_or_else(|| StoreError::Corrupt {
            table: "findings",
            column: "kind",
            key: key.to_string(),
            reason: format!("{name:?} is not a finding kind"),
        })
}

fn severity_from_sql(name: &str, key: &str) -> Result<Severity, StoreError> {
    Severity::ALL
        .into_iter()
        .find(|severity| severity.as_str() == name)
        .ok_or_else(|| StoreError::Corrupt {
            table: "findings",
            column: "severity",
            key: key.to_string(),
            reason: format!("{name:?} is not a severity"),
        })
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
        assert_eq!(
            stored_time("2024-05-01T12:00:00Z", "first_seen", "1").unwrap(),
            Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap()
        );
        assert!(stored_time("yesterday", "first_seen", "1").is_err());
    }
}
