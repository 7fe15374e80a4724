//! Versioned schema migrations, applied in order when a store opens.
//!
//! Each migration runs in its own transaction together with the row that
//! records it in `schema_migrations`, so a failed migration leaves the
//! database at the version before it. Migrations are append-only: a
//! released one is never edited, a change of schema is a new file.
//!
//! A migration that rebuilds a table which other tables refer to runs with
//! foreign keys off and checks them all before it commits, as SQLite's
//! procedure for schema changes that ALTER TABLE cannot make requires ("Making
//! Other Kinds Of Table Schema Changes",
//! <https://sqlite.org/lang_altertable.html>). The other migrations run
//! with foreign keys on, because the whole check reads every referring row,
//! which took 6.5 s on the history example's store of 1,000,000 findings
//! (2 cores).

use std::path::Path;

use chrono::Utc;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use crate::StoreError;
use crate::codec::format_time;
use crate::error::sql_error;

/// One schema change, embedded in the binary.
struct Migration {
    version: i64,
    name: &'static str,
    sql: &'static str,
    /// Whether it drops and recreates a table that other tables refer to.
    rebuilds_tables: bool,
}

/// Every migration, in the order of their versions.
const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "initial",
        sql: include_str!("../migrations/0001_initial.sql"),
        rebuilds_tables: false,
    },
    Migration {
        version: 2,
        name: "merged_findings",
        sql: include_str!("../migrations/0002_merged_findings.sql"),
        rebuilds_tables: false,
    },
    Migration {
        version: 3,
        name: "finding_json",
        sql: include_str!("../migrations/0003_finding_json.sql"),
        rebuilds_tables: true,
    },
    Migration {
        version: 4,
        name: "json_hash",
        sql: include_str!("../migrations/0004_json_hash.sql"),
        rebuilds_tables: false,
    },
    Migration {
        version: 5,
        name: "generation",
        sql: include_str!("../migrations/0005_generation.sql"),
        rebuilds_tables: false,
    },
    Migration {
        version: 6,
        name: "tickets",
        sql: include_str!("../migrations/0006_tickets.sql"),
        rebuilds_tables: false,
    },
    Migration {
        version: 7,
        name: "rank_index",
        sql: include_str!("../migrations/0007_rank_index.sql"),
        rebuilds_tables: false,
    },
];

/// The migration that creates `store_generation`.
const GENERATION_VERSION: i64 = 5;

/// The schema version this build creates and reads.
pub const SCHEMA_VERSION: i64 = 7;

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at TEXT NOT NULL
)";

/// Reads the highest applied version, 0 for a database without migrations.
pub(crate) fn current_version(conn: &Connection, path: &Path) -> Result<i64, StoreError> {
    conn.query_row("SELECT coalesce(max(version), 0) FROM schema_migrations", [], |row| {
        row.get(0)
    })
    .map_err(sql_error(path, "reading the schema version"))
}

/// Applies every migration newer than the database, after rejecting a
/// database that a newer ctem has migrated.
pub(crate) fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    conn.execute(CREATE_TABLE, [])
        .map_err(sql_error(path, "creating the schema_migrations table"))?;

    let current = current_version(conn, path)?;
    if current > SCHEMA_VERSION {
        return Err(StoreError::SchemaTooNew {
            path: path.to_path_buf(),
            found: current,
            supported: SCHEMA_VERSION,
        });
    }

    for migration in MIGRATIONS.iter().filter(|m| m.version > current) {
        if !migration.rebuilds_tables {
            apply(conn, path, migration)?;
            continue;
        }
        // The pragma has no effect inside a transaction, so it is set
        // around the migration's, and set back even when it fails.
        conn.pragma_update(None, "foreign_keys", "OFF")
            .map_err(sql_error(path, "disabling foreign keys for a migration"))?;
        let applied = apply(conn, path, migration);
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(sql_error(path, "enabling foreign keys"))?;
        applied?;
    }
    Ok(())
}

fn apply(conn: &mut Connection, path: &Path, migration: &Migration) -> Result<(), StoreError> {
    let failed = |source| StoreError::Migration {
        path: path.to_path_buf(),
        version: migration.version,
        name: migration.name,
        source,
    };

    // IMMEDIATE takes the write lock first, so two processes opening a new
    // file at once apply each migration once: the second one finds it
    // recorded below and skips it.
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sql_error(path, "starting a migration"))?;
    let applied = tx
        .query_row(
            "SELECT 1 FROM schema_migrations WHERE version = ?1",
            [migration.version],
            |_| Ok(()),
        )
        .optional()
        .map_err(failed)?
        .is_some();
    if applied {
        return Ok(());
    }

    tx.execute_batch(migration.sql).map_err(failed)?;
    // A migration is a write like any other (see store::begin_write); the
    // generation exists from the migration that creates it on.
    if migration.version >= GENERATION_VERSION {
        tx.execute("UPDATE store_generation SET value = value + 1 WHERE id = 1", [])
            .map_err(failed)?;
    }
    if migration.rebuilds_tables {
        check_foreign_keys(&tx).map_err(failed)?;
    }
    tx.execute(
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
        params![migration.version, migration.name, format_time(Utc::now())],
    )
    .map_err(failed)?;
    tx.commit().map_err(failed)?;

    tracing::info!(
        path = %path.display(),
        version = migration.version,
        name = migration.name,
        "applied schema migration"
    );
    Ok(())
}

/// Fails with the first row that refers to a missing row, as
/// `PRAGMA foreign_key_check` reports it.
fn check_foreign_keys(tx: &rusqlite::Transaction) -> rusqlite::Result<()> {
    let violation: Option<(String, Option<i64>, String)> = tx
        .query_row("PRAGMA foreign_key_check", [], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        })
        .optional()?;
    match violation {
        None => Ok(()),
        Some((table, rowid, parent)) => Err(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY),
            Some(format!(
                "row {} of {table} refers to a row of {parent} that does not exist",
                rowid.map_or_else(|| "without rowid".to_string(), |rowid| rowid.to_string())
            )),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_increasing_and_end_at_schema_version() {
        let versions: Vec<i64> = MIGRATIONS.iter().map(|m| m.version).collect();
        assert!(versions.windows(2).all(|pair| pair[0] < pair[1]), "{versions:?}");
        assert_eq!(versions.first(), Some(&1));
        assert_eq!(versions.last(), Some(&SCHEMA_VERSION));
    }
}
