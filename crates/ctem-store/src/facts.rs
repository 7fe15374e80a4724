//! The compact reads behind `ctem metrics`: finding facts, run statistics
//! and asset coverage.

use std::collections::HashMap;

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, Row, params_from_iter};

use crate::codec::{parse_json, parse_time};
use crate::error::{BUSY_TIMEOUT_SECS, sql_error};
use crate::fact_row::{BATCH_ROWS, FACT_QUERY, FactDecoder, RowBatch};
use crate::store::read_generation;
use crate::{AssetCoverage, FactTable, RunStats, RunSummary, Store, StoreError, StoredFinding};

/// Stores whose findings span fewer ids than this are read on one
/// connection: below it, opening a second connection and merging cost
/// about as much as the second half of the scan.
const SPLIT_MIN_IDS: i64 = 50_000;

impl Store {
    /// Reads the facts of every finding, in id order. The query reads no
    /// JSON, and the rows are decoded from their bytes (see the
    /// `fact_row` module) on a second thread, while SQLite reads the next
    /// rows on this one.
    ///
    /// A large store is scanned in two halves of its id range at once, the
    /// second on a connection of its own, and the halves are merged. Both
    /// read transactions see one snapshot: each starts with a read of the
    /// store's generation, which every write increments, and equal numbers
    /// mean no write committed between them. When they differ, the whole
    /// scan runs on this connection's transaction instead.
    pub fn fact_table(&self) -> Result<FactTable, StoreError> {
        self.fact_table_split(SPLIT_MIN_IDS)
    }

    /// [`Store::fact_table`], splitting the scan when the ids span at least
    /// `min_span`; tests split small stores with it.
    #[doc(hidden)]
    pub fn fact_table_split(&self, min_span: i64) -> Result<FactTable, StoreError> {
        self.fact_table_split_around(min_span, || {})
    }

    /// [`Store::fact_table_split`], calling `between` after this
    /// connection's snapshot is fixed and before the second connection's;
    /// tests write there.
    #[doc(hidden)]
    pub fn fact_table_split_around(&self, min_span: i64, between: impl FnOnce()) -> Result<FactTable, StoreError> {
        let path = self.path.as_path();
        let transaction = ReadTransaction::begin(&self.conn, path)?;
        let generation = read_generation(&self.conn, path)?;
        let (low, high): (Option<i64>, Option<i64>) = self
            .conn
            .query_row("SELECT min(id), max(id) FROM findings", [], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .map_err(sql_error(path, "reading the range of finding ids"))?;
        let (Some(low), Some(high)) = (low, high) else {
            return Ok(FactTable::default());
        };
        let table = if high.saturating_sub(low) < min_span {
            read_facts(&self.conn, path, low, high)?
        } else {
            between();
            let second = open_second_reader(path)?;
            ReadTransaction::begin(&second, path)?.keep_open();
            if read_generation(&second, path)? == generation {
                let middle = low + (high - low) / 2;
                std::thread::scope(|scope| {
                    let upper = scope.spawn(move || read_facts(&second, path, middle + 1, high));
                    let lower = read_facts(&self.conn, path, low, middle);
                    let upper = upper.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                    Ok::<_, StoreError>(append(lower?, upper?))
                })?
            } else {
                tracing::debug!(path = %path.display(), "a write committed while the fact scan started; reading on one connection");
                drop(second);
                read_facts(&self.conn, path, low, high)?
            }
        };
        transaction.end();
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

/// An explicit read transaction on a connection, rolled back when dropped
/// so that an error leaves the connection outside any transaction.
struct ReadTransaction<'c> {
    conn: &'c Connection,
    open: bool,
}

impl<'c> ReadTransaction<'c> {
    fn begin(conn: &'c Connection, path: &Path) -> Result<ReadTransaction<'c>, StoreError> {
        conn.execute_batch("BEGIN DEFERRED")
            .map_err(sql_error(path, "starting the fact read"))?;
        Ok(ReadTransaction { conn, open: true })
    }

    /// Leaves the transaction open for as long as its connection lives.
    fn keep_open(mut self) {
        self.open = false;
    }

    fn end(self) {}
}

impl Drop for ReadTransaction<'_> {
    fn drop(&mut self) {
        if self.open {
            // Ending a read transaction cannot lose anything; a failure
            // here would also fail the connection's next statement.
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

/// Opens a read-only connection to the store for the second half of a scan.
fn open_second_reader(path: &Path) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(|source| StoreError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    conn.busy_timeout(Duration::from_secs(BUSY_TIMEOUT_SECS))
        .map_err(sql_error(path, "setting the busy timeout"))?;
    Ok(conn)
}

/// Reads the facts of the findings with ids from `low` to `high`: this
/// thread steps SQLite, a second one decodes.
fn read_facts(conn: &Connection, path: &Path, low: i64, high: i64) -> Result<FactTable, StoreError> {
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
        // A send fails only when the decoding thread stopped at an error,
        // which its result then gives.
        let read = read_fact_rows(conn, path, low, high, |batch| batches.send(batch).is_ok());
        drop(batches);
        let decoded = decoding.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        let table = decoded?;
        read?;
        Ok(table)
    })
}

/// Runs the fact query and hands its rows to `send` in batches, until
/// `send` returns false.
fn read_fact_rows(
    conn: &Connection,
    path: &Path,
    low: i64,
    high: i64,
    mut send: impl FnMut(RowBatch) -> bool,
) -> Result<(), StoreError> {
    let mut select = conn
        .prepare_cached(FACT_QUERY)
        .map_err(sql_error(path, "preparing the fact query"))?;
    let mut rows = select
        .query([low, high])
        .map_err(sql_error(path, "querying finding facts"))?;
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

/// Appends the facts of `upper`, read after `lower` in id order, to
/// `lower`, re-interning its assets and tool sets. The result equals one
/// scan of both ranges: interned values keep the order of their first
/// appearance.
fn append(mut lower: FactTable, upper: FactTable) -> FactTable {
    let asset_index = reindex(&mut lower.assets, upper.assets);
    let tools_index = reindex(&mut lower.tool_sets, upper.tool_sets);
    lower.findings.reserve(upper.findings.len());
    lower.findings.extend(upper.findings.into_iter().map(|mut facts| {
        facts.asset = asset_index[facts.asset as usize];
        facts.tools = tools_index[facts.tools as usize];
        facts
    }));
    lower
}

/// Moves the values of `extra` that `values` lacks to its end, and returns
/// each of `extra`'s new index.
fn reindex<T: std::hash::Hash + Eq + Clone>(values: &mut Vec<T>, extra: Vec<T>) -> Vec<u32> {
    let mut index: HashMap<T, u32, foldhash::fast::RandomState> = values
        .iter()
        .enumerate()
        .map(|(position, value)| (value.clone(), position as u32))
        .collect();
    extra
        .into_iter()
        .map(|value| {
            *index.entry(value).or_insert_with_key(|value| {
                values.push(value.clone());
                (values.len() - 1) as u32
            })
        })
        .collect()
}
