//! The reads behind `ctem metrics` and a repeated run, on a store with a
//! long history: by default the 100 runs and 1,000,000 findings that
//! `cargo run --release -p ctem-store --example history -- build DB` writes
//! (see `generator.rs` for what they hold).
//!
//! - `fact_table`, `run_stats`, `asset_coverage`: each read repeated on one
//!   open store, so SQLite's cache and the operating system's are warm;
//!   `metrics_reads` is the three together. The example's `read` command
//!   times the first read in a new process.
//! - `record_run_unchanged`: the last run recorded again a day later,
//!   into a copy of the database. The copy is made before each sample
//!   and not timed, and the time stops when `record_run` returns.
//!
//! Building the database takes minutes, so the bench only reads one that
//! exists:
//!
//! ```sh
//! CTEM_HISTORY_DB=/tmp/ctem-history/history.db cargo bench -p ctem-store --bench history
//! ```
//!
//! Without `CTEM_HISTORY_DB` the bench prints how to build the database and
//! measures nothing. The copies go to a temporary folder beside the
//! database, which needs the database's size free on its disk.

mod generator;

use std::hint::black_box;
use std::path::{Path, PathBuf};

use criterion::{BatchSize, Criterion, Throughput};
use ctem_store::{RunInput, Store};
use generator::{History, SEED};
use tempfile::TempDir;

fn main() {
    let Some(db) = std::env::var_os("CTEM_HISTORY_DB").map(PathBuf::from) else {
        eprintln!(
            "history: set CTEM_HISTORY_DB to a database built with \
             `cargo run --release -p ctem-store --example history -- build PATH`; nothing measured"
        );
        return;
    };
    let mut criterion = Criterion::default().configure_from_args();
    reads(&mut criterion, &db);
    record_unchanged(&mut criterion, &db);
    criterion.final_summary();
}

fn reads(criterion: &mut Criterion, db: &Path) {
    let store = Store::open(db).unwrap_or_else(|error| panic!("cannot open {}: {error}", db.display()));
    let findings = store.fact_table().expect("read the facts").findings.len();

    let mut group = criterion.benchmark_group("history");
    group.sample_size(10);
    group.throughput(Throughput::Elements(findings as u64));
    group.bench_function("fact_table", |b| b.iter(|| store.fact_table().expect("read the facts")));
    group.bench_function("metrics_reads", |b| {
        b.iter(|| {
            let facts = store.fact_table().expect("read the facts");
            let stats = store.run_stats().expect("read the run statistics");
            let coverage = store.asset_coverage().expect("read the asset coverage");
            (facts, stats, coverage)
        })
    });
    let runs = store.run_stats().expect("read the run statistics").len();
    group.throughput(Throughput::Elements(runs as u64));
    group.bench_function("run_stats", |b| {
        b.iter(|| store.run_stats().expect("read the run statistics"))
    });
    let assets = store.asset_coverage().expect("read the asset coverage").len();
    group.throughput(Throughput::Elements(assets as u64));
    group.bench_function("asset_coverage", |b| {
        b.iter(|| store.asset_coverage().expect("read the asset coverage"))
    });
    group.finish();
}

fn record_unchanged(criterion: &mut Criterion, db: &Path) {
    let input = last_run_again(db);
    let folder = db.parent().unwrap_or(Path::new("."));

    let mut group = criterion.benchmark_group("history");
    group.sample_size(10);
    group.throughput(Throughput::Elements(input.findings.len() as u64));
    group.bench_function("record_run_unchanged", |b| {
        b.iter_batched(
            || {
                let copy = tempfile::tempdir_in(folder).expect("create a folder for the copy");
                let path = copy.path().join("sample.db");
                std::fs::copy(db, &path).expect("copy the database");
                let store = Store::open(&path).expect("open the copy");
                (copy, store)
            },
            |(copy, mut store): (TempDir, Store)| {
                let summary = store.record_run(black_box(&input)).expect("record the run");
                assert_eq!(
                    summary.new + summary.reopened + summary.fixed,
                    0,
                    "the run changed nothing"
                );
                // Returned so that the checkpoint and removing the copy are not timed.
                (copy, store)
            },
            BatchSize::PerIteration,
        );
    });
    group.finish();
}

/// Generates the latest stored run again, observed a day later.
fn last_run_again(db: &Path) -> RunInput {
    let store = Store::open(db).unwrap_or_else(|error| panic!("cannot open {}: {error}", db.display()));
    let latest = store
        .latest_run()
        .expect("read the latest run")
        .unwrap_or_else(|| panic!("{} has no runs; build it with the history example", db.display()));
    History::run_again(SEED, latest.summary.observed_at)
}
