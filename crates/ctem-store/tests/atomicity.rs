//! A run is written whole or not at all, whatever fails and whichever
//! connection reads.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::{TestStore, day, dump, image_scan, run, scope, scored, vulnerability};
use ctem_model::{Asset, AssetKind, Relationship, RelationshipKind};
use ctem_store::{SourceRecord, StoreError};

/// Builds a second run over shop:1 that writes every kind of row: a
/// source, an asset, a relationship, a new finding, an open one and two
/// fixed ones.
fn busy_second_run() -> ctem_store::RunInput {
    let mut input = image_scan(day(2), "shop:1", &["CVE-1", "CVE-4"]);
    input.sources.push(SourceRecord {
        path: "scans/shop.json".into(),
        format: "trivy-json".into(),
        sha256: "00".repeat(32),
        finding_count: 2,
        error: None,
    });
    let image = Asset::new(AssetKind::ContainerImage, "shop:1", "shop");
    let host = Asset::new(AssetKind::Host, "10.0.0.1", "node-1");
    input.relationships.push(Relationship::new(
        image.key.clone(),
        RelationshipKind::RunsOn,
        host.key.clone(),
    ));
    input.assets.extend([image, host]);
    input
}

#[test]
fn failure_inside_run_leaves_database_unchanged() {
    let mut test = TestStore::new();
    test.store
        .record_run(&image_scan(day(1), "shop:1", &["CVE-1", "CVE-2", "CVE-3"]))
        .unwrap();
    // Fail in the last step, after every other row of the run is written:
    // the history events of the findings that the run fixes.
    let conn = test.raw_connection();
    conn.execute_batch(
        "CREATE TRIGGER fail_on_fixed BEFORE INSERT ON finding_history
         WHEN NEW.status = 'fixed'
         BEGIN SELECT RAISE(ABORT, 'forced failure'); END",
    )
    .unwrap();
    let before = dump(&conn);

    let error = test.store.record_run(&busy_second_run()).unwrap_err();

    assert!(matches!(error, StoreError::Sqlite { .. }), "{error:?}");
    assert!(error.to_string().contains("forced failure"), "{error}");
    assert_eq!(dump(&conn), before);

    // The store stays usable once the cause is gone.
    conn.execute_batch("DROP TRIGGER fail_on_fixed").unwrap();
    let summary = test.store.record_run(&busy_second_run()).unwrap();
    assert_eq!(summary.fixed, 2);
}

#[test]
fn dropped_table_fails_run_without_writes() {
    let mut test = TestStore::new();
    test.store
        .record_run(&image_scan(day(1), "shop:1", &["CVE-1", "CVE-2"]))
        .unwrap();
    let conn = test.raw_connection();
    conn.execute_batch("DROP TABLE finding_scores").unwrap();
    let before = dump(&conn);

    let error = test.store.record_run(&busy_second_run()).unwrap_err();

    assert!(error.to_string().contains("finding_scores"), "{error}");
    assert_eq!(dump(&conn), before);
}

#[test]
fn non_finite_score_is_rejected_before_writing() {
    let mut test = TestStore::new();
    let conn = test.raw_connection();
    let before = dump(&conn);
    let mut bad = scored(vulnerability("shop:1", "CVE-1"), 50.0);
    bad.risk.likelihood = f64::NAN;
    let fingerprint = bad.fingerprint.clone();
    let input = run(
        day(1),
        &[scope("trivy", "shop:1")],
        vec![scored(vulnerability("shop:1", "CVE-2"), 50.0), bad],
    );

    let error = test.store.record_run(&input).unwrap_err();

    assert!(matches!(error, StoreError::InvalidRun { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains(fingerprint.as_str()), "{message}");
    assert!(message.contains("likelihood"), "{message}");
    assert_eq!(dump(&conn), before);
}

#[test]
fn reader_snapshot_ignores_later_run() {
    let mut test = TestStore::new();
    test.store
        .record_run(&image_scan(day(1), "shop:1", &["CVE-1"]))
        .unwrap();
    let reader = test.raw_connection();
    reader.execute_batch("BEGIN").unwrap();
    let count_findings = |conn: &rusqlite::Connection| -> i64 {
        conn.query_row("SELECT count(*) FROM findings", [], |row| row.get(0))
            .unwrap()
    };
    assert_eq!(count_findings(&reader), 1);

    // WAL lets the writer commit while the reader keeps its snapshot.
    test.store
        .record_run(&image_scan(day(2), "shop:1", &["CVE-1", "CVE-2", "CVE-3"]))
        .unwrap();

    assert_eq!(count_findings(&reader), 1);
    reader.execute_batch("COMMIT").unwrap();
    assert_eq!(count_findings(&reader), 3);
}

#[test]
fn concurrent_reader_sees_whole_runs() {
    let mut test = TestStore::new();
    let path = test.path();
    let rules: Vec<String> = (0..20_000).map(|i| format!("CVE-2024-{i:05}")).collect();
    let rule_refs: Vec<&str> = rules.iter().map(String::as_str).collect();
    let big_run = image_scan(day(1), "shop:1", &rule_refs);
    let done = AtomicBool::new(false);

    let observed = std::thread::scope(|threads| {
        let reader = threads.spawn(|| {
            let conn = rusqlite::Connection::open(&path).unwrap();
            let mut observed = Vec::new();
            let deadline = Instant::now() + Duration::from_secs(60);
            while Instant::now() < deadline {
                let finished = done.load(Ordering::SeqCst);
                // One read transaction, so the three counts share a snapshot.
                conn.execute_batch("BEGIN").unwrap();
                let counts: (i64, i64, i64) = conn
                    .query_row(
                        "SELECT (SELECT count(*) FROM runs), (SELECT count(*) FROM findings),
                                (SELECT count(*) FROM finding_scores)",
                        [],
                        |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
                    )
                    .unwrap();
                conn.execute_batch("COMMIT").unwrap();
                observed.push(counts);
                if finished {
                    break;
                }
            }
            observed
        });
        test.store.record_run(&big_run).unwrap();
        done.store(true, Ordering::SeqCst);
        reader.join().unwrap()
    });

    eprintln!(
        "{} snapshots, {} before the commit",
        observed.len(),
        observed.iter().filter(|counts| counts.0 == 0).count()
    );
    for counts in &observed {
        assert!(
            *counts == (0, 0, 0) || *counts == (1, 20_000, 20_000),
            "a reader saw part of a run: {counts:?}"
        );
    }
    assert_eq!(observed.last(), Some(&(1, 20_000, 20_000)));
}

#[test]
fn second_writer_waits_then_reports_busy() {
    let mut test = TestStore::new();
    let blocker = test.raw_connection();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    let started = Instant::now();

    let error = test
        .store
        .record_run(&image_scan(day(1), "shop:1", &["CVE-1"]))
        .unwrap_err();

    assert!(started.elapsed() >= Duration::from_secs(4), "{:?}", started.elapsed());
    assert!(matches!(error, StoreError::Busy { .. }), "{error:?}");
    assert!(error.to_string().contains("retry"), "{error}");
    blocker.execute_batch("ROLLBACK").unwrap();
    assert!(test.store.runs().unwrap().is_empty());
}

#[test]
fn concurrent_writers_both_commit() {
    let test = TestStore::new();
    let path = test.path();
    let scans = [
        image_scan(day(1), "shop:1", &["CVE-1", "CVE-2"]),
        image_scan(day(1), "cart:1", &["CVE-3"]),
    ];

    std::thread::scope(|threads| {
        for scan in &scans {
            let path = &path;
            threads.spawn(move || {
                let mut store = ctem_store::Store::open(path).unwrap();
                store.record_run(scan).unwrap();
            });
        }
    });

    assert_eq!(test.store.runs().unwrap().len(), 2);
    assert_eq!(test.store.findings(&Default::default()).unwrap().len(), 3);
}
