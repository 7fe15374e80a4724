//! Opening a store: the connection settings and the database checks.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rusqlite::{Connection, ErrorCode, OpenFlags};

use crate::StoreError;
use crate::error::{BUSY_TIMEOUT_SECS, sql_error};
use crate::migrations;

/// A ctem database: one SQLite file holding the runs, the assets and the
/// findings with their lifecycle.
///
/// A `Store` owns one connection. Several stores, in one process or in
/// several, may open the same file: readers see each recorded run whole or
/// not at all, and writers wait for each other up to the busy timeout
/// (5 s).
///
/// [`Store::record_run`] returns once the run is committed to the
/// write-ahead log, which readers see at once. A helper thread then copies
/// it into the database file; dropping the store and the next
/// `record_run` wait for that copy.
#[derive(Debug)]
pub struct Store {
    pub(crate) conn: Connection,
    pub(crate) path: PathBuf,
    /// The checkpoint started after the latest run, while it may still run.
    pub(crate) checkpoint: Option<std::thread::JoinHandle<()>>,
}

/// Returns the path to give SQLite for a database file. The bundled SQLite
/// reads a name that starts with `file:` as a URI whatever the open flags
/// are, so `--db file:ctem.db` would open `ctem.db`. The path
/// `./file:ctem.db` names the file itself.
pub(crate) fn sqlite_path(path: &Path) -> std::borrow::Cow<'_, Path> {
    if path.as_os_str().as_encoded_bytes().starts_with(b"file:") {
        std::borrow::Cow::Owned(Path::new(".").join(path))
    } else {
        std::borrow::Cow::Borrowed(path)
    }
}

impl Store {
    /// Opens the database at `path`, creating the file if it is missing, and
    /// applies the migrations it lacks.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotADatabase`] for a file that is not a SQLite
    /// database or that another program created, [`StoreError::SchemaTooNew`]
    /// for a database migrated by a newer ctem, [`StoreError::JournalMode`]
    /// where SQLite cannot use write-ahead logging, and the SQLite error
    /// otherwise.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let mut conn = Connection::open(sqlite_path(path)).map_err(|source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        })?;
        conn.busy_timeout(Duration::from_secs(BUSY_TIMEOUT_SECS))
            .map_err(sql_error(path, "setting the busy timeout"))?;

        // Before any setting writes to the file: switching the journal mode
        // would change the header of a database that is not ours.
        check_ctem_database(&conn, path, Access::ReadWrite)?;
        configure(&conn, path)?;
        migrations::migrate(&mut conn, path)?;

        // record_run and the reads prepare about twenty distinct statements.
        conn.set_prepared_statement_cache_capacity(64);
        Ok(Store {
            conn,
            path: path.to_path_buf(),
            checkpoint: None,
        })
    }

    /// Opens an existing database for reading only: nothing is created,
    /// migrated or written, so a CI job can read the store of a team
    /// without changing it.
    ///
    /// Returns `None` for a database without tables, such as an empty
    /// file. Such a database contains no runs, and [`Store::open`] would
    /// make it a store.
    ///
    /// # Errors
    ///
    /// The errors of [`Store::open`], and [`StoreError::SchemaTooOld`] for
    /// a database that lacks migrations (any `ctem assess` applies them).
    pub fn open_read_only(path: &Path) -> Result<Option<Store>, StoreError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(sqlite_path(path), flags).map_err(|source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        })?;
        conn.busy_timeout(Duration::from_secs(BUSY_TIMEOUT_SECS))
            .map_err(sql_error(path, "setting the busy timeout"))?;
        if check_ctem_database(&conn, path, Access::ReadOnly)? == Tables::None {
            return Ok(None);
        }

        let found = migrations::current_version(&conn, path)?;
        if found > migrations::SCHEMA_VERSION {
            return Err(StoreError::SchemaTooNew {
                path: path.to_path_buf(),
                found,
                supported: migrations::SCHEMA_VERSION,
            });
        }
        if found < migrations::SCHEMA_VERSION {
            return Err(StoreError::SchemaTooOld {
                path: path.to_path_buf(),
                found,
                expected: migrations::SCHEMA_VERSION,
            });
        }
        Ok(Some(Store {
            conn,
            path: path.to_path_buf(),
            checkpoint: None,
        }))
    }

    /// Returns the schema version of the database, the highest migration
    /// applied.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        migrations::current_version(&self.conn, &self.path)
    }

    /// Returns the path the store was opened with.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// How a store opens its database, which decides the advice for a file
/// that is not a database.
#[derive(Clone, Copy)]
enum Access {
    ReadWrite,
    ReadOnly,
}

/// Whether a database has tables.
#[derive(Debug, PartialEq, Eq)]
enum Tables {
    /// A new database, such as an empty file.
    None,
    /// A ctem database, with a `schema_migrations` table.
    Ctem,
}

/// Rejects a file that is not a SQLite database, and a SQLite database
/// that has tables but no `schema_migrations`: another program's database,
/// which migrations must not alter. An empty file is a new database.
fn check_ctem_database(conn: &Connection, path: &Path, access: Access) -> Result<Tables, StoreError> {
    let tables = conn.query_row(
        "SELECT count(*), count(*) FILTER (WHERE name = 'schema_migrations')
         FROM sqlite_master WHERE type = 'table'",
        [],
        |row| Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?)),
    );
    let (table_count, migration_tables) = match tables {
        Ok(counts) => counts,
        Err(error) if error.sqlite_error_code() == Some(ErrorCode::NotADatabase) => {
            let advice = match access {
                Access::ReadWrite => "pass the path of a ctem database or of a file to create",
                Access::ReadOnly => "pass the path of a ctem database that `ctem assess` wrote",
            };
            return Err(StoreError::NotADatabase {
                path: path.to_path_buf(),
                reason: format!("the file is not a SQLite database; {advice}"),
            });
        }
        Err(error) => return Err(sql_error(path, "reading the list of tables")(error)),
    };

    if table_count == 0 {
        return Ok(Tables::None);
    }
    if migration_tables == 0 {
        return Err(StoreError::NotADatabase {
            path: path.to_path_buf(),
            reason: format!(
                "it is a SQLite database with {table_count} {} but no schema_migrations \
                 table, so another program created it; choose another path",
                if table_count == 1 { "table" } else { "tables" }
            ),
        });
    }
    Ok(Tables::Ctem)
}

/// The bound of SQLite's page cache per connection, in KiB (64 MiB).
const CACHE_KIB: i64 = 64 * 1024;

/// Sets the journal mode to WAL and returns the mode SQLite reports.
///
/// SQLite does not call the busy handler on every lock conflict of this
/// switch: a process that opens the file while another one creates the
/// log, or deletes it as its last connection closes, gets `SQLITE_BUSY`
/// at once (seen with four `ctem assess` started together on a new
/// database). The switch changes nothing until it succeeds, so it is
/// retried here for as long as the busy timeout.
fn switch_to_wal(conn: &Connection) -> rusqlite::Result<String> {
    let deadline = Instant::now() + Duration::from_secs(BUSY_TIMEOUT_SECS);
    loop {
        match conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0)) {
            Err(error) if error.sqlite_error_code() == Some(ErrorCode::DatabaseBusy) && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(10));
            }
            result => return result,
        }
    }
}

/// Sets write-ahead logging and the connection settings.
fn configure(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    // SQLite returns the mode it actually set: `memory` for an in-memory
    // database, the old mode where the file system cannot share memory.
    let mode = switch_to_wal(conn).map_err(sql_error(path, "switching to write-ahead logging"))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::JournalMode {
            path: path.to_path_buf(),
            mode,
        });
    }

    // NORMAL in WAL mode: a committed run survives a crash of the process,
    // and a power loss can only lose the latest runs, never corrupt older
    // ones (SQLite documentation, "PRAGMA synchronous").
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(sql_error(path, "setting synchronous"))?;
    conn.pragma_update(None, "foreign_keys", "ON")
        .map_err(sql_error(path, "enabling foreign keys"))?;

    // The indexes of 100,000 findings take about 25 MiB (measured on the
    // benchmark's database). SQLite's default cache of 2 MiB would re-read
    // their pages from the operating system during a run. The cache grows
    // to this bound only as pages are used.
    conn.pragma_update(None, "cache_size", -CACHE_KIB)
        .map_err(sql_error(path, "setting the cache size"))?;
    // record_run starts each checkpoint itself, on a helper thread (see
    // the checkpoint module).
    conn.pragma_update(None, "wal_autocheckpoint", 0)
        .map_err(sql_error(path, "turning off automatic checkpoints"))?;
    // Statement journals and sorts stay in memory rather than temporary
    // files.
    conn.pragma_update(None, "temp_store", "MEMORY")
        .map_err(sql_error(path, "setting temp_store"))?;
    Ok(())
}

/// A write transaction of the store: a rusqlite transaction with the
/// connection's change count at its start, to tell whether it changed rows. Every write of a store starts with
/// [`begin_write`] and ends with [`WriteTransaction::commit`].
pub(crate) struct WriteTransaction<'c> {
    tx: rusqlite::Transaction<'c>,
    changes_at_start: u64,
}

/// Starts a write transaction that takes the write lock at once.
pub(crate) fn begin_write<'c>(
    conn: &'c mut Connection,
    path: &Path,
    operation: &'static str,
) -> Result<WriteTransaction<'c>, StoreError> {
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(sql_error(path, operation))?;
    let changes_at_start = tx.total_changes();
    Ok(WriteTransaction { tx, changes_at_start })
}

impl WriteTransaction<'_> {
    /// Commits, and increments the store's generation when the transaction
    /// changed a row, so that readers can tell whether two read
    /// transactions see the same snapshot (see [`read_generation`]). A
    /// transaction that changed nothing leaves the files as they were.
    pub(crate) fn commit(self, path: &Path, operation: &'static str) -> Result<(), StoreError> {
        if self.tx.total_changes() != self.changes_at_start {
            self.tx
                .execute("UPDATE store_generation SET value = value + 1 WHERE id = 1", [])
                .map_err(sql_error(path, "incrementing the store generation"))?;
        }
        self.tx.commit().map_err(sql_error(path, operation))
    }
}

impl<'c> std::ops::Deref for WriteTransaction<'c> {
    type Target = rusqlite::Transaction<'c>;

    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

/// Reads the store's generation. Inside a read transaction this is also
/// the read that fixes the transaction's snapshot.
pub(crate) fn read_generation(conn: &Connection, path: &Path) -> Result<i64, StoreError> {
    conn.query_row("SELECT value FROM store_generation WHERE id = 1", [], |row| row.get(0))
        .map_err(sql_error(path, "reading the store generation"))
}
