//! The compact reads behind `ctem metrics`: finding facts, run statistics
//! and asset coverage.

use std::collections::HashMap;

use rusqlite::{Row, params_from_iter};

use crate::codec::{parse_json, parse_time};
use crate::error::sql_error;
use crate::fact_row::{BATCH_ROWS, FACT_QUERY, FactDecoder, RowBatch};
use crate::{AssetCoverage, FactTable, RunStats, RunSummary, Store, StoreError, StoredFinding};

impl Store {
    /// Reads the facts of every finding, in id order. The query reads no
    /// JSON, and the rows are decoded from their bytes (see the
    /// `fact_row` module) on a second thread, while SQLite reads the next
    /// rows on this one. Both see the one read transaction of the query.
    pub fn fact_table(&self) -> Result<FactTable, StoreError> {
        let (batches, received) = std::sync::mpsc::sync_channel::<RowBatch>(4);
        std::thread::scope(|scope| {
            let decoding = scope.spawn(move || {
                let mut table = FactTable::default();
                let mut decoder = FactDecoder::default();
                for batch in received {
                    batch.for_each(|row| decoder.push(row, &mut table))?;
                }
                Ok::<_, StoreError>(table)
            });
            // A send fails only when the decoding thread stopped at an
            // error, which its result then gives.
            let read = self.read_fact_rows(|batch| batches.send(batch).is_ok());
            drop(batches);
            let decoded = decoding.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            let table = decoded?;
            read?;
            Ok(table)
        })
    }

    /// Runs the fact query and hands its rows to `send` in batches, until
    /// `send` returns false.
    fn read_fact_rows(&self, mut send: impl FnMut(RowBatch) -> bool) -> Result<(), StoreError> {
        let path = self.path.as_path();
        let mut select = self
            .conn
            .prepare_cached(FACT_QUERY)
            .map_err(sql_error(path, "preparing the fact query"))?;
        let mut rows = select.query([]).map_err(sql_error(path, "querying finding facts"))?;
        let mut batch = RowBatch::with_capacity(BATCH_ROWS);
        while let Some(row) = rows.next().map_err(sql_error(path, "reading finding facts"))? {
            batch.push(row, path)?;
            if batch.len() == BATCH_ROWS {
                let full = std::mem::replace(&mut batch, RowBatch::with_capacity(BATCH_ROWS));
                if !send(full) {
                    return Ok(());
                }
            }
        }
        if batch.len() > 0 {
            send(batch);
        }
        Ok(())
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
