//! End-to-end ingest throughput: generated Trivy reports parsed, resolved,
//! scored and recorded in a fresh SQLite database, in findings per second.
//!
//! Run with `cargo bench -p ctem-engine --bench ingest`. The inputs come
//! from a seeded generator, so every run measures the same bytes.

use std::path::PathBuf;

use chrono::{TimeZone, Utc};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ctem_engine::config::Config;
use ctem_engine::synthetic::trivy_report;
use ctem_engine::{AssessRequest, NoProgress, assess};
use ctem_store::Store;

/// Findings per report file; the benchmark assesses two files, one per
/// core of the machine the figures were taken on.
const FINDINGS_PER_FILE: usize = 50_000;
const FILES: usize = 2;

fn ingest(criterion: &mut Criterion) {
    let inputs = tempfile::tempdir().expect("temporary folder");
    for index in 0..FILES {
        let report = trivy_report(&format!("acme/bench-{index}:1.0"), FINDINGS_PER_FILE, index as u64 + 1);
        std::fs::write(inputs.path().join(format!("trivy-{index}.json")), report).expect("write input");
    }
    let total = (FINDINGS_PER_FILE * FILES) as u64;

    let mut group = criterion.benchmark_group("assess");
    group.sample_size(10);
    group.throughput(Throughput::Elements(total));
    group.bench_function(BenchmarkId::new("trivy_into_new_sqlite", total), |bench| {
        bench.iter_batched(
            || tempfile::tempdir().expect("temporary folder"),
            |db_dir| {
                let mut store = Store::open(&db_dir.path().join("ctem.db")).expect("open store");
                let request = request(inputs.path().to_path_buf());
                let outcome = assess(&request, &mut store, &NoProgress).expect("assess");
                assert_eq!(outcome.summary.new, total);
                db_dir
            },
            criterion::BatchSize::PerIteration,
        );
    });
    group.finish();
}

fn request(path: PathBuf) -> AssessRequest {
    AssessRequest {
        paths: vec![path],
        config: Config::default(),
        config_path: None,
        intel_dir: None,
        intel_cache: None,
        target: None,
        observed_at: Some(Utc.with_ymd_and_hms(2026, 11, 30, 8, 0, 0).unwrap()),
        strict: false,
    }
}

criterion_group!(benches, ingest);
criterion_main!(benches);
