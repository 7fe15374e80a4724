//! The compact reads behind `ctem metrics`: finding facts, run statistics
//! and asset coverage.

use std::collections::HashMap;

use std::mem::MaybeUninit;
use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, Row, params_from_iter};

use crate::codec::{parse_json, parse_time};
use crate::error::{BUSY_TIMEOUT_SECS, sql_error};
use crate::fact_row::{BATCH_ROWS, FACT_QUERY, FactDecoder, RowBatch};
use crate::store::read_generation;
use crate::{AssetCoverage, FactTable, FindingFacts, RunStats, RunSummary, Store, StoreError, StoredFinding};

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
        let _small_cache = ScanCache::shrink(&self.conn, path)?;
        let transaction = ReadTransaction::begin(&self.conn, path)?;
        let generation = read_generation(&self.conn, path)?;
        let (low, high): (Option<i64>, Option<i64>) = self
            .conn
            // Two subqueries, because SQLite reads a lone min() or max() from the
            // end of the table but scans every row for both in one query.
            .query_row(
                "SELECT (SELECT min(id) FROM findings), (SELECT max(id) FROM findings)",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .map_err(sql_error(path, "reading the range of finding ids"))?;
        let (Some(low), Some(high)) = (low, high) else {
            return Ok(FactTable::default());
        };
        let span = span_len(low, high);
        let table = if high.saturating_sub(low) < min_span || span > MAX_RESERVED_FACTS {
            read_facts(
                &self.conn,
                path,
                low,
                high,
                FactOutput::Vec(span.min(MAX_RESERVED_FACTS)),
            )?
            .0
        } else {
            between();
            let second = open_second_reader(path)?;
            ReadTransaction::begin(&second, path)?.keep_open();
            if read_generation(&second, path)? == generation {
                read_halves(&self.conn, second, path, low, high)?
            } else {
                tracing::debug!(path = %path.display(), "a write committed while the fact scan started; reading on one connection");
                drop(second);
                read_facts(&self.conn, path, low, high, FactOutput::Vec(span))?.0
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

/// The page cache of the connection during a fact scan, in KiB. The scan
/// reads each page once, so a large cache only costs the memory it fills.
const SCAN_CACHE_KIB: i64 = 2048;

/// Shrinks a connection's page cache for a scan and restores its size when
/// dropped.
struct ScanCache<'c> {
    conn: &'c Connection,
    size: i64,
}

impl<'c> ScanCache<'c> {
    fn shrink(conn: &'c Connection, path: &Path) -> Result<ScanCache<'c>, StoreError> {
        let size: i64 = conn
            .pragma_query_value(None, "cache_size", |row| row.get(0))
            .map_err(sql_error(path, "reading the cache size"))?;
        conn.pragma_update(None, "cache_size", -SCAN_CACHE_KIB)
            .map_err(sql_error(path, "setting the cache size"))?;
        Ok(ScanCache { conn, size })
    }
}

impl Drop for ScanCache<'_> {
    fn drop(&mut self) {
        // A failure leaves the smaller cache, which costs speed only.
        let _ = self.conn.pragma_update(None, "cache_size", self.size);
    }
}

/// The maximum number of findings a scan reserves room for up front. A
/// store whose ids span more is read on one connection.
const MAX_RESERVED_FACTS: usize = 1 << 22;

/// Returns how many ids there are from `low` to `high`. Ids are mostly
/// dense, so this is close to the count of findings, and a scan reserves
/// room for that many up front: growing the vector instead copies it and
/// zeroes new pages several times, a fifth of the time of a
/// million-finding read. [`MAX_RESERVED_FACTS`] keeps a store with sparse
/// ids from reserving gigabytes.
fn span_len(low: i64, high: i64) -> usize {
    let span = high.saturating_sub(low).saturating_add(1);
    usize::try_from(span).unwrap_or(usize::MAX)
}

/// Opens a read-only connection to the store for the second half of a scan.
fn open_second_reader(path: &Path) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn =
        Connection::open_with_flags(crate::store::sqlite_path(path), flags).map_err(|source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        })?;
    conn.busy_timeout(Duration::from_secs(BUSY_TIMEOUT_SECS))
        .map_err(sql_error(path, "setting the busy timeout"))?;
    Ok(conn)
}

/// The destination of the findings that a decoding thread decodes.
enum FactOutput<'a> {
    /// The table's own vector, with room reserved for this many.
    Vec(usize),
    /// Consecutive slots of a vector that the other half's thread shares.
    Slots(&'a mut [MaybeUninit<FindingFacts>]),
}

/// Reads the facts of the findings with ids from `low` to `high`: this
/// thread steps SQLite, a second one decodes. Returns the table and, for
/// [`FactOutput::Slots`], how many slots it filled from the first on.
fn read_facts(
    conn: &Connection,
    path: &Path,
    low: i64,
    high: i64,
    mut output: FactOutput<'_>,
) -> Result<(FactTable, usize), StoreError> {
    let (batches, received) = std::sync::mpsc::sync_channel::<RowBatch>(4);
    // Decoded batches go back to the reading thread, which fills them
    // again: new batches would cost a fresh megabyte of zeroed pages each.
    let (spent, recycled) = std::sync::mpsc::channel::<RowBatch>();
    std::thread::scope(|scope| {
        let decoding = scope.spawn(move || {
            let mut table = FactTable::default();
            if let FactOutput::Vec(capacity) = output {
                table.findings.reserve(capacity);
            }
            let mut filled = 0;
            let mut decoder = FactDecoder::default();
            for mut batch in received {
                batch.for_each(|row| {
                    let facts = decoder.decode(row, &mut table)?;
                    match &mut output {
                        FactOutput::Vec(_) => table.findings.push(facts),
                        FactOutput::Slots(slots) => {
                            // Ids are unique, so a range of ids has no more
                            // rows than slots.
                            let slot = slots.get_mut(filled).ok_or_else(|| StoreError::Corrupt {
                                table: "findings",
                                column: "id",
                                key: facts.id.to_string(),
                                reason: format!("more rows than ids from {low} to {high}"),
                            })?;
                            slot.write(facts);
                            filled += 1;
                        }
                    }
                    Ok(())
                })?;
                batch.clear();
                // The reading thread may have finished; then the batch is
                // freed here.
                let _ = spent.send(batch);
            }
            Ok::<_, StoreError>((table, filled))
        });
        // A send fails only when the decoding thread stopped at an error,
        // which its result then gives.
        let next_batch = || {
            recycled
                .try_recv()
                .unwrap_or_else(|_| RowBatch::with_capacity(BATCH_ROWS))
        };
        let read = read_fact_rows(conn, path, low, high, next_batch, |batch| batches.send(batch).is_ok());
        drop(batches);
        let decoded = decoding.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        let decoded = decoded?;
        read?;
        Ok(decoded)
    })
}

// The halves write findings into uninitialized slots and a failed read
// abandons them, which is only sound for a type without drop glue.
const _: () = assert!(!std::mem::needs_drop::<FindingFacts>());

/// Reads the two halves of the ids from `low` to `high` at once, the upper
/// one on `second`, into one vector: each half decodes into its own part of
/// the vector's spare capacity, so that merging them moves no more than the
/// gap that missing ids leave. The span must not exceed
/// [`MAX_RESERVED_FACTS`].
fn read_halves(
    first: &Connection,
    second: Connection,
    path: &Path,
    low: i64,
    high: i64,
) -> Result<FactTable, StoreError> {
    let middle = low + (high - low) / 2;
    let lower_span = span_len(low, middle);
    let mut findings: Vec<FindingFacts> = Vec::with_capacity(span_len(low, high));
    let (lower_slots, upper_slots) = findings.spare_capacity_mut().split_at_mut(lower_span);
    let ((mut table, lower_filled), (upper, upper_filled)) = std::thread::scope(|scope| {
        let upper = scope.spawn(move || read_facts(&second, path, middle + 1, high, FactOutput::Slots(upper_slots)));
        let lower = read_facts(first, path, low, middle, FactOutput::Slots(lower_slots));
        let upper = upper.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        Ok::<_, StoreError>((lower?, upper?))
    })?;

    // SAFETY: the lower half initialized the first `lower_filled` slots and
    // the upper half the `upper_filled` slots from `lower_span` on, all
    // within the capacity (each half filled at most its own slots). Moving
    // the upper ones down to follow the lower ones leaves the first
    // `lower_filled + upper_filled` initialized; `ptr::copy` allows the
    // overlap.
    unsafe {
        let base = findings.as_mut_ptr();
        std::ptr::copy(base.add(lower_span), base.add(lower_filled), upper_filled);
        findings.set_len(lower_filled + upper_filled);
    }

    let asset_index = reindex(&mut table.assets, upper.assets);
    let tools_index = reindex(&mut table.tool_sets, upper.tool_sets);
    for facts in &mut findings[lower_filled..] {
        facts.asset = asset_index[facts.asset as usize];
        facts.tools = tools_index[facts.tools as usize];
    }
    table.findings = findings;
    Ok(table)
}

/// Runs the fact query and hands its rows to `send` in batches taken from
/// `next_batch`, until `send` returns false.
fn read_fact_rows(
    conn: &Connection,
    path: &Path,
    low: i64,
    high: i64,
    next_batch: impl Fn() -> RowBatch,
    mut send: impl FnMut(RowBatch) -> bool,
) -> Result<(), StoreError> {
    let mut select = conn
        .prepare_cached(FACT_QUERY)
        .map_err(sql_error(path, "preparing the fact query"))?;
    let mut rows = select
        .query([low, high])
        .map_err(sql_error(path, "querying finding facts"))?;
    let mut batch = next_batch();
    while let Some(row) = rows.next().map_err(sql_error(path, "reading finding facts"))? {
        batch.push(row, path)?;
        if batch.len() == BATCH_ROWS {
            let full = std::mem::replace(&mut batch, next_batch());
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
