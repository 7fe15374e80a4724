//! EPSS snapshot files: the scores of many CVEs on many days in one CSV.
//!
//! The layout has a header that names at least the columns `cve`,
//! `snapshot_date`, `epss` and `percentile`, in any order, and one row per
//! CVE and day:
//!
//! ```text
//! cve,kev_dateAdded,snapshot_date,epss,percentile
//! CVE-2007-0671,2025-08-12,2025-01-06,0.9559100000,0.9956500000
//! ```
//!
//! Research data sets publish EPSS history this way, for example weekly
//! snapshots of the KEV CVEs. Other columns (here `kev_dateAdded`) are not
//! read, because KEV dates come from the KEV catalog itself. A field must
//! not contain a comma: the columns of this layout are ids, dates and
//! numbers. Each row is validated as the rows of the daily file are, and
//! `snapshot_date` must be a day (`2025-01-06`) from 2021-04-14 on.

use std::collections::hash_map::Entry;
use std::io::BufRead;

use chrono::NaiveDate;

use super::history::{Run, Runs, day_of};
use super::parse::{Limits, Lines, check_score_date, conflict, log_rows, parse_values, unquote};
use super::{CveHistory, CveMap, EpssFile, EpssScores};
use crate::error::{IntelError, shorten};

/// The columns that a snapshot file must have.
const REQUIRED: [&str; 4] = ["cve", "snapshot_date", "epss", "percentile"];

/// The positions of the required columns in a row.
struct Columns {
    count: usize,
    /// The index of each name of [`REQUIRED`], in that order.
    index: [usize; 4],
}

/// Reads a snapshot file. The [`EpssFile`] of the result has the latest
/// snapshot date as its score date and no model version.
pub(super) fn parse_snapshots(path: &str, reader: impl BufRead, limits: Limits) -> Result<EpssScores, IntelError> {
    let mut lines = Lines::new(path, reader, limits);
    let Some((_, header)) = lines.next_line()? else {
        return Err(not_snapshots(path, "the file is empty".to_string()));
    };
    let columns = parse_header(path, header)?;

    let mut dated: CveMap<CveHistory> = CveMap::default();
    let mut latest: Option<NaiveDate> = None;
    let (mut duplicates, mut rounded) = (0usize, 0usize);
    while let Some((number, line)) = lines.next_line()? {
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(unquote).collect();
        if fields.len() != columns.count {
            return Err(IntelError::Invalid {
                path: path.to_string(),
                location: format!("line {number}"),
                reason: format!(
                    "expected {} columns as in the header, found {}: {:?}",
                    columns.count,
                    fields.len(),
                    shorten(line)
                ),
            });
        }
        let [cve, date, epss, percentile] = columns.index.map(|index| fields[index]);

        let date = parse_snapshot_date(path, number, date)?;
        let day = day_of(date).expect("parse_snapshot_date checks the range");
        let row = parse_values(path, number, cve, epss, percentile)?;
        rounded += usize::from(row.rounded);
        latest = latest.max(Some(date));

        match dated.entry(row.cve) {
            Entry::Vacant(slot) => {
                slot.insert(CveHistory {
                    runs: Runs::One(Run::single(day, row.units)),
                    latest_file: 0,
                });
            }
            Entry::Occupied(mut slot) => match slot.get().runs.on(day) {
                Some(earlier) if earlier == row.units => duplicates += 1,
                Some(earlier) => return Err(conflict(path, number, slot.key(), earlier, row.units)),
                None => {
                    slot.get_mut().runs.insert(Run::single(day, row.units));
                }
            },
        }
    }

    log_rows(path, duplicates, rounded);
    let file = EpssFile {
        path: path.to_string(),
        model_version: None,
        score_date: latest,
        count: dated.len(),
    };
    Ok(EpssScores {
        newest: file.score_date,
        files: vec![file],
        dated,
        undated: CveMap::default(),
    })
}

fn parse_header(path: &str, header: &str) -> Result<Columns, IntelError> {
    let names: Vec<&str> = header.split(',').map(unquote).collect();
    let mut index = [0; 4];
    for (slot, required) in index.iter_mut().zip(REQUIRED) {
        *slot = names
            .iter()
            .position(|name| name.eq_ignore_ascii_case(required))
            .ok_or_else(|| {
                not_snapshots(
                    path,
                    format!(
                        "line 1 is {:?}, which has no column {required}; expected a header with the columns {}",
                        shorten(header),
                        REQUIRED.join(",")
                    ),
                )
            })?;
    }
    Ok(Columns {
        count: names.len(),
        index,
    })
}

fn parse_snapshot_date(path: &str, line: u64, text: &str) -> Result<NaiveDate, IntelError> {
    let invalid = |reason: &str| IntelError::EpssValue {
        path: path.to_string(),
        line,
        field: "snapshot_date",
        value: shorten(text),
        reason: reason.to_string(),
    };
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| invalid("expected a day such as 2025-01-06"))?;
    check_score_date(date).map_err(invalid)?;
    Ok(date)
}

fn not_snapshots(path: &str, reason: String) -> IntelError {
    IntelError::NotFormat {
        path: path.to_string(),
        expected: "an EPSS snapshot file",
        reason,
    }
}
