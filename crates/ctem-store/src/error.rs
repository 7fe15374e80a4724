//! The errors of the store.

use std::path::{Path, PathBuf};

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::ErrorCode;

/// Everything that can go wrong when opening, writing or reading a store.
///
/// Every variant names the database file or the stored row involved. An
/// error from [`crate::Store::record_run`] means that nothing of the run was
/// written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// SQLite could not open or create the file.
    #[error("cannot open database {}: {source}; check that the directory exists and is writable", path.display())]
    Open { path: PathBuf, source: rusqlite::Error },

    /// The file exists but is not a SQLite database, or is a SQLite
    /// database that some other program created.
    #[error("not a ctem database: {}: {reason}", path.display())]
    NotADatabase { path: PathBuf, reason: String },

    /// SQLite refused write-ahead logging, which readers need to read while
    /// a run is written.
    #[error(
        "database {} cannot use write-ahead logging: SQLite set journal_mode to {mode:?}; \
         put the database on a local file system",
        path.display()
    )]
    JournalMode { path: PathBuf, mode: String },

    /// The database was migrated by a newer ctem.
    #[error(
        "database {} has schema version {found}, but this ctem supports versions up to \
         {supported}: upgrade ctem to open it",
        path.display()
    )]
    SchemaTooNew { path: PathBuf, found: i64, supported: i64 },

    /// A database opened for reading only lacks migrations of this ctem.
    #[error(
        "database {} has schema version {found}, but this ctem reads version {expected}: run \
         `ctem assess` once with this ctem to migrate it",
        path.display()
    )]
    SchemaTooOld { path: PathBuf, found: i64, expected: i64 },

    /// A migration failed; its transaction was rolled back.
    #[error(
        "migration {version} ({name}) failed on {}: {source}; the database stays at the version before it",
        path.display()
    )]
    Migration {
        path: PathBuf,
        version: i64,
        name: &'static str,
        source: rusqlite::Error,
    },

    /// A run older than the latest stored run, triage or end of a risk
    /// acceptance: the lifecycle would close and reopen findings in the
    /// wrong order.
    #[error(
        "run observed at {} is older than the latest stored {latest_change}, at {}: \
         import history in chronological order",
        observed_at.to_rfc3339_opts(SecondsFormat::AutoSi, true),
        latest.to_rfc3339_opts(SecondsFormat::AutoSi, true)
    )]
    OutOfOrder {
        observed_at: DateTime<Utc>,
        latest: DateTime<Utc>,
        /// The change recorded at `latest`: `run`, `triage` or `end of a risk acceptance`.
        latest_change: &'static str,
    },

    /// A run carries a value the store cannot keep.
    #[error("invalid run: {reason}")]
    InvalidRun { reason: String },

    /// A triage request that cannot be applied; nothing was written.
    #[error("triage not applied: {reason}")]
    InvalidTriage { reason: String },

    /// Another connection held the write lock longer than the busy timeout.
    #[error(
        "database {} is locked by another ctem process (waited {timeout_secs} s while {operation}); \
         retry when it has finished",
        path.display()
    )]
    Busy {
        path: PathBuf,
        operation: &'static str,
        timeout_secs: u64,
    },

    /// A stored value that does not read back: JSON that no longer
    /// deserializes, a malformed time or an unknown enumeration name.
    #[error(
        "invalid value in {table}.{column} for {key}: {reason}; the row was written by another \
         program or the file is damaged"
    )]
    Corrupt {
        table: &'static str,
        column: &'static str,
        key: String,
        reason: String,
    },

    /// Any other SQLite failure.
    #[error("database error on {} while {operation}: {source}", path.display())]
    Sqlite {
        path: PathBuf,
        operation: &'static str,
        source: rusqlite::Error,
    },
}

/// The busy timeout set on every connection, in seconds.
pub(crate) const BUSY_TIMEOUT_SECS: u64 = 5;

/// Builds the mapping of a SQLite error raised while `operation` ran on the
/// database at `path`.
pub(crate) fn sql_error<'a>(
    path: &'a Path,
    operation: &'static str,
) -> impl FnOnce(rusqlite::Error) -> StoreError + 'a {
    move |source| match source.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StoreError::Busy {
            path: path.to_path_buf(),
            operation,
            timeout_secs: BUSY_TIMEOUT_SECS,
        },
        _ => StoreError::Sqlite {
            path: path.to_path_buf(),
            operation,
            source,
        },
    }
}
