//! Opening stores: creation, migrations and the files that are rejected.

mod common;

use common::{TestStore, day, image_scan, vulnerability};
use ctem_model::LifecycleStatus;
use ctem_store::{SCHEMA_VERSION, Store, StoreError};

#[test]
fn new_file_gets_every_migration() {
    let test = TestStore::new();
    assert!(test.path().exists());
    assert_eq!(test.store.schema_version().unwrap(), SCHEMA_VERSION);

    let conn = test.raw_connection();
    let applied: Vec<(i64, String)> = conn
        .prepare("SELECT version, name FROM schema_migrations ORDER BY version")
        .unwrap()
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        applied,
        [
            (1, "initial".to_string()),
            (2, "merged_findings".to_string()),
            (3, "finding_json".to_string()),
            (4, "json_hash".to_string()),
            (5, "generation".to_string()),
            (6, "tickets".to_string()),
            (7, "rank_index".to_string())
        ]
    );
    let tables: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table'
             AND name IN ('runs', 'run_sources', 'run_scopes', 'assets', 'relationships',
                          'findings', 'finding_json', 'finding_sources', 'finding_history',
                          'finding_scores', 'run_stats')",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(tables, 11);
}

#[test]
fn reopen_keeps_data_and_skips_migrations() {
    let mut test = TestStore::new();
    test.store
        .record_run(&image_scan(day(1), "shop:1", &["CVE-1"]))
        .unwrap();
    let applied_at: String = test
        .raw_connection()
        .query_row("SELECT min(applied_at) FROM schema_migrations", [], |row| row.get(0))
        .unwrap();
    let TestStore { dir, store } = test;
    drop(store);

    let store = Store::open(&dir.path().join("ctem.db")).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    assert_eq!(store.runs().unwrap().len(), 1);

    let conn = rusqlite::Connection::open(dir.path().join("ctem.db")).unwrap();
    let (rows, applied_again): (i64, String) = conn
        .query_row("SELECT count(*), min(applied_at) FROM schema_migrations", [], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
        .unwrap();
    assert_eq!(rows, SCHEMA_VERSION);
    assert_eq!(applied_again, applied_at);
}

#[test]
fn newer_schema_is_rejected() {
    let test = TestStore::new();
    test.raw_connection()
        .execute(
            "INSERT INTO schema_migrations (version, name, applied_at)
             VALUES (42, 'from the future', '2030-01-01T00:00:00.000000000Z')",
            [],
        )
        .unwrap();

    let error = Store::open(&test.path()).unwrap_err();
    assert!(
        matches!(error, StoreError::SchemaTooNew { found: 42, supported, .. } if supported == SCHEMA_VERSION),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.contains("42"), "{message}");
    assert!(message.contains(&format!("up to {SCHEMA_VERSION}")), "{message}");
    assert!(message.contains("upgrade ctem"), "{message}");
    assert!(message.contains("ctem.db"), "{message}");
}

#[test]
fn text_file_is_rejected_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.json");
    let text = "{\"results\": []}\n".repeat(100);
    std::fs::write(&path, &text).unwrap();

    let error = Store::open(&path).unwrap_err();
    assert!(matches!(error, StoreError::NotADatabase { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.starts_with("not a ctem database: "), "{message}");
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text, "the file was changed");
}

#[test]
fn short_garbage_file_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tiny.db");
    std::fs::write(&path, b"not sqlite").unwrap();

    let error = Store::open(&path).unwrap_err();
    assert!(matches!(error, StoreError::NotADatabase { .. }), "{error:?}");
}

#[test]
fn foreign_sqlite_database_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY)", [])
        .unwrap();
    drop(conn);

    let error = Store::open(&path).unwrap_err();
    assert!(matches!(error, StoreError::NotADatabase { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("no schema_migrations table"), "{message}");

    let journal_mode: String = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("PRAGMA journal_mode", [], |row| row.get(0))
        .unwrap();
    assert_eq!(journal_mode, "delete", "the foreign database was switched to WAL");
}

#[test]
fn empty_file_becomes_a_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.db");
    std::fs::write(&path, b"").unwrap();

    let store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
}

#[test]
fn missing_directory_is_an_open_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing").join("ctem.db");

    let error = Store::open(&path).unwrap_err();
    assert!(matches!(error, StoreError::Open { .. }), "{error:?}");
    assert!(error.to_string().contains("missing"), "{error}");
}

#[test]
fn wal_mode_is_on() {
    let test = TestStore::new();
    let conn = test.raw_connection();
    let journal_mode: String = conn.query_row("PRAGMA journal_mode", [], |row| row.get(0)).unwrap();
    assert_eq!(journal_mode, "wal");
    assert!(test.dir.path().join("ctem.db-wal").exists());
}

#[test]
fn two_stores_on_one_file() {
    let mut test = TestStore::new();
    let reader = Store::open(&test.path()).unwrap();
    test.store
        .record_run(&image_scan(day(1), "shop:1", &["CVE-1", "CVE-2"]))
        .unwrap();

    assert_eq!(reader.runs().unwrap().len(), 1);
    assert_eq!(reader.findings(&Default::default()).unwrap().len(), 2);
}

#[test]
fn truncated_database_reports_its_path() {
    let mut test = TestStore::new();
    let rules: Vec<String> = (0..2_000).map(|i| format!("CVE-2024-{i:05}")).collect();
    let rule_refs: Vec<&str> = rules.iter().map(String::as_str).collect();
    test.store
        .record_run(&image_scan(day(1), "shop:1", &rule_refs))
        .unwrap();
    let TestStore { dir, store } = test;
    drop(store); // Closing the last connection checkpoints the WAL into the file.
    let path = dir.path().join("ctem.db");
    let length = std::fs::metadata(&path).unwrap().len();
    let wal = dir.path().join("ctem.db-wal");
    assert!(!wal.exists(), "the WAL was not checkpointed on close");
    let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    file.set_len(length / 2).unwrap();
    drop(file);

    // Depending on which pages survive, opening or reading fails first.
    let error = match Store::open(&path) {
        Err(error) => error,
        Ok(store) => store
            .findings(&Default::default())
            .expect_err("reading a truncated database succeeded"),
    };

    let message = error.to_string();
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(message.contains("malformed"), "{message}");
}

#[test]
fn checkpoint_copies_run_into_file() {
    let mut test = TestStore::new();
    let empty_size = std::fs::metadata(test.path()).unwrap().len();
    let rules: Vec<String> = (0..2_000).map(|i| format!("CVE-2024-{i:05}")).collect();
    let rule_refs: Vec<&str> = rules.iter().map(String::as_str).collect();

    test.store
        .record_run(&image_scan(day(1), "shop:1", &rule_refs))
        .unwrap();
    test.store.wait_for_checkpoint();

    let size = std::fs::metadata(test.path()).unwrap().len();
    assert!(
        size > empty_size + 1_000_000,
        "the database file grew from {empty_size} to only {size} bytes"
    );
}

#[test]
fn back_to_back_runs_reuse_the_log() {
    let mut test = TestStore::new();
    let wal = test.dir.path().join("ctem.db-wal");
    let rules: Vec<String> = (0..200).map(|i| format!("CVE-2024-{i:05}")).collect();
    let rule_refs: Vec<&str> = rules.iter().map(String::as_str).collect();

    // Each run rewrites the same findings, so each adds about as much to
    // the log as the one before.
    let mut sizes = Vec::new();
    for run_day in 1..=30 {
        test.store
            .record_run(&image_scan(day(run_day), "shop:1", &rule_refs))
            .unwrap();
        sizes.push(std::fs::metadata(&wal).unwrap().len());
    }

    // A log that starts over once a checkpoint copied it stays near the
    // size of the largest run, and one that only grows keeps every run.
    let largest_first_two = sizes[0].max(sizes[1]);
    assert!(
        sizes[29] <= 2 * largest_first_two,
        "the write-ahead log grew run after run: {sizes:?} bytes"
    );
}

#[test]
fn in_memory_database_is_rejected() {
    let error = Store::open(std::path::Path::new(":memory:")).unwrap_err();

    assert!(
        matches!(&error, StoreError::JournalMode { mode, .. } if mode == "memory"),
        "{error:?}"
    );
    assert!(error.to_string().contains("write-ahead logging"), "{error}");
}

/// Writes a database in the first schema: one finding open, one fixed,
/// with their history.
fn first_schema_database(path: &std::path::Path) {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL);
         INSERT INTO schema_migrations VALUES (1, 'initial', '2024-05-01T00:00:00.000000000Z');",
    )
    .unwrap();
    conn.execute_batch(include_str!("../migrations/0001_initial.sql"))
        .unwrap();
    let finding = |rule: &str| {
        let mut finding = vulnerability("shop:1", rule);
        finding.target = Some("shop:1".into());
        finding
    };
    let open = finding("CVE-1");
    let fixed = finding("CVE-2");
    conn.execute_batch(
        "INSERT INTO runs VALUES (1, '2024-05-01T00:00:00.000000000Z', '2024-05-01T00:00:00.000000000Z', 2, 2, 0, 0, 0);
         INSERT INTO runs VALUES (2, '2024-05-02T00:00:00.000000000Z', '2024-05-02T00:00:00.000000000Z', 1, 0, 1, 0, 1);
         INSERT INTO assets VALUES ('container_image:shop:1', 'container_image', 'shop', '{}',
             '2024-05-01T00:00:00.000000000Z', '2024-05-02T00:00:00.000000000Z');",
    )
    .unwrap();
    for (id, finding, status, fixed_at) in [
        (1, &open, "open", None),
        (2, &fixed, "fixed", Some("2024-05-02T00:00:00.000000000Z")),
    ] {
        conn.execute(
            "INSERT INTO findings VALUES (?1, ?2, 'trivy', 'shop:1', ?3, 'vulnerability', 'high', 't',
                 'container_image:shop:1', ?4, '2024-05-01T00:00:00.000000000Z', ?5, NULL, 2, 50.0, 'P3', ?6, ?7)",
            rusqlite::params![
                id,
                finding.fingerprint().as_str(),
                finding.rule_id,
                status,
                fixed_at.unwrap_or("2024-05-02T00:00:00.000000000Z"),
                serde_json::to_string(finding).unwrap(),
                serde_json::to_string(&common::risk(50.0)).unwrap(),
            ],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO finding_events VALUES (?1, 1, 'new', '2024-05-01T00:00:00.000000000Z')",
            [id],
        )
        .unwrap();
    }
    conn.execute_batch(
        "UPDATE findings SET fixed_at = '2024-05-02T00:00:00.000000000Z' WHERE id = 2;
         INSERT INTO finding_events VALUES (1, 2, 'open', '2024-05-02T00:00:00.000000000Z');
         INSERT INTO finding_events VALUES (2, 2, 'fixed', '2024-05-02T00:00:00.000000000Z');",
    )
    .unwrap();
}

#[test]
fn first_schema_database_is_migrated_with_its_history() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ctem.db");
    first_schema_database(&path);

    let mut store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    let open = vulnerability("shop:1", "CVE-1");
    let mut open_with_target = open.clone();
    open_with_target.target = Some("shop:1".into());
    let history = store.finding_history(&open_with_target.fingerprint()).unwrap();
    let statuses: Vec<LifecycleStatus> = history.iter().map(|entry| entry.status).collect();
    assert_eq!(statuses, [LifecycleStatus::New, LifecycleStatus::Open]);
    let sources = store.finding_sources(&open_with_target.fingerprint()).unwrap();
    assert_eq!(sources.len(), 1);
    assert!(sources[0].active);

    // A run after the migration continues the same findings: the open one
    // is seen again, the fixed one comes back as reopened.
    let summary = store
        .record_run(&image_scan(day(3), "shop:1", &["CVE-1", "CVE-2"]))
        .unwrap();
    assert_eq!((summary.new, summary.still_open, summary.reopened), (0, 1, 1));
    // The migration cannot compute merge keys; redupe does, and merges
    // nothing here.
    let redupe = store.redupe().unwrap();
    assert_eq!((redupe.before, redupe.after, redupe.merged), (2, 2, 0));
}

#[test]
fn redupe_merges_first_schema_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ctem.db");
    first_schema_database(&path);
    // The first schema kept Trivy's and Grype's reports of one CVE as two
    // findings.
    let trivy = vulnerability("shop:1", "CVE-2024-1234");
    let mut grype = trivy.clone();
    grype.tool = "grype".into();
    let conn = rusqlite::Connection::open(&path).unwrap();
    for (id, finding) in [(3, &trivy), (4, &grype)] {
        conn.execute(
            "INSERT INTO findings VALUES (?1, ?2, ?3, 'shop:1', ?4, 'vulnerability', 'high', 't',
                 'container_image:shop:1', 'open', '2024-05-01T00:00:00.000000000Z',
                 '2024-05-02T00:00:00.000000000Z', NULL, 2, 50.0, 'P3', ?5, ?6)",
            rusqlite::params![
                id,
                finding.fingerprint().as_str(),
                finding.tool,
                finding.rule_id,
                serde_json::to_string(finding).unwrap(),
                serde_json::to_string(&common::risk(50.0)).unwrap(),
            ],
        )
        .unwrap();
    }
    drop(conn);

    let mut store = Store::open(&path).unwrap();
    let redupe = store.redupe().unwrap();

    assert_eq!((redupe.before, redupe.after, redupe.merged), (4, 3, 1));
    let merged = store
        .finding(&grype.fingerprint())
        .unwrap()
        .expect("the merged finding");
    assert_eq!(merged.fingerprint, trivy.fingerprint());
    assert_eq!(merged.tools, ["grype", "trivy"]);
    assert_eq!(merged.finding.rule_id, "CVE-2024-1234");
    let json_rows: i64 = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("SELECT count(*) FROM finding_json", [], |row| row.get(0))
        .unwrap();
    assert_eq!(json_rows, 3, "the merged finding's JSON was left behind");
}

#[test]
fn rebuild_breaking_a_reference_rolls_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ctem.db");
    first_schema_database(&path);
    // A score of a finding that is not stored. The third migration rebuilds
    // findings with foreign keys off, and its check finds the score.
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(
            "PRAGMA foreign_keys = OFF;
             INSERT INTO finding_scores VALUES (1, 99, 50.0, 'P3');",
        )
        .unwrap();

    let error = Store::open(&path).unwrap_err();

    assert!(matches!(&error, StoreError::Migration { version: 3, .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("finding_scores"), "{message}");
    assert!(message.contains("does not exist"), "{message}");
    let version: i64 = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("SELECT max(version) FROM schema_migrations", [], |row| row.get(0))
        .unwrap();
    assert_eq!(version, 2);
}

/// Set in the child processes of `concurrent_processes_open_a_new_file`.
const CHILD_PATH: &str = "CTEM_STORE_TEST_OPEN";

#[test]
fn concurrent_processes_open_a_new_file() {
    if let Some(path) = std::env::var_os(CHILD_PATH) {
        // A child: open, record a run, close, and report through the exit
        // status.
        let recorded = Store::open(std::path::Path::new(&path))
            .and_then(|mut store| store.record_run(&image_scan(day(1), "shop:1", &["CVE-1", "CVE-2"])));
        if let Err(error) = recorded {
            eprintln!("{error}");
            std::process::exit(1);
        }
        return;
    }
    // Processes started together on a database that does not exist yet
    // race to create it, switch it to write-ahead logging, migrate it and
    // write; each one, on closing, may delete the log another one just
    // opened.
    let exe = std::env::current_exe().unwrap();
    for round in 0..40 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ctem.db");
        let children: Vec<_> = (0..6)
            .map(|_| {
                std::process::Command::new(&exe)
                    .args(["--exact", "concurrent_processes_open_a_new_file", "--nocapture"])
                    .env(CHILD_PATH, &path)
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for child in children {
            let output = child.wait_with_output().unwrap();
            assert!(
                output.status.success(),
                "round {round}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        let store = Store::open(&path).unwrap();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
        assert_eq!(store.runs().unwrap().len(), 6, "round {round}");
    }
}

#[test]
fn read_only_store_reads_a_recorded_run() {
    let mut test = TestStore::new();
    let run = image_scan(day(1), "shop:1", &["CVE-1"]);
    test.store.record_run(&run).unwrap();
    let fingerprint = run.findings[0].fingerprint.clone();
    drop(test.store);

    let store = Store::open_read_only(&test.dir.path().join("ctem.db"))
        .unwrap()
        .expect("the database has a run");
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    assert!(store.finding(&fingerprint).unwrap().is_some());
}

#[test]
fn read_only_store_does_not_create_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing.db");
    let error = Store::open_read_only(&path).unwrap_err();
    assert!(matches!(error, StoreError::Open { .. }), "{error}");
    assert!(!path.exists());
}

#[test]
fn read_only_store_rejects_an_unmigrated_database() {
    let test = TestStore::new();
    test.raw_connection()
        .execute("DELETE FROM schema_migrations WHERE version = ?1", [SCHEMA_VERSION])
        .unwrap();
    let error = Store::open_read_only(&test.path()).unwrap_err();
    assert!(matches!(error, StoreError::SchemaTooOld { .. }), "{error}");
}

#[test]
fn read_only_empty_file_is_none() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.db");
    std::fs::write(&path, b"").unwrap();

    let store = Store::open_read_only(&path).unwrap();
    assert!(store.is_none(), "an empty file holds no runs");
    assert_eq!(std::fs::read(&path).unwrap(), b"", "the file was changed");
}

#[test]
fn read_only_rejects_text_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.json");
    std::fs::write(&path, "{\"results\": []}\n".repeat(100)).unwrap();

    let error = Store::open_read_only(&path).unwrap_err();
    assert!(matches!(error, StoreError::NotADatabase { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("pass the path of a ctem database"), "{message}");
    assert!(!message.contains("file to create"), "{message}");
}
