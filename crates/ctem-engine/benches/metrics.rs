//! `metrics::compute` over 1,000,000 generated finding facts and 100 runs,
//! without a breakdown and with the two kinds of breakdown (one group per
//! finding by team, one group per tool by source).
//!
//! Run with `cargo bench -p ctem-engine --bench metrics`. The inputs come
//! from a seeded generator, so every run measures the same values.

use chrono::{TimeDelta, TimeZone, Utc};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ctem_engine::metrics::{GroupBy, MetricsOptions, compute};
use ctem_engine::sla::SlaPolicy;
use ctem_engine::synthetic::metrics_input;

const FINDINGS: usize = 1_000_000;
const RUNS: usize = 100;

fn metrics(criterion: &mut Criterion) {
    let now = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
    let input = metrics_input(FINDINGS, RUNS, now, 1);
    let policy = SlaPolicy::default();

    let mut group = criterion.benchmark_group("metrics");
    group.sample_size(20);
    group.throughput(Throughput::Elements(FINDINGS as u64));
    for by in [None, Some(GroupBy::Team), Some(GroupBy::Source)] {
        let options = MetricsOptions {
            since: Some(now - TimeDelta::days(90)),
            by,
            ..MetricsOptions::new(now)
        };
        let name = by.map_or("none", GroupBy::as_str);
        group.bench_function(BenchmarkId::new("compute_by", name), |bench| {
            bench.iter(|| compute(&input.facts, &input.runs, &input.coverage, &policy, &options));
        });
    }
    group.finish();
}

criterion_group!(benches, metrics);
criterion_main!(benches);
