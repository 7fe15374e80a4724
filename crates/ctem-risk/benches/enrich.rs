//! Enrichment and scoring throughput: 1,000,000 findings scored against a
//! full-size KEV catalog (1,500 entries) and a full-size EPSS file
//! (300,000 scores), on every core: once with an empty context
//! ([`assess`](ctem_risk::assess)), once with generated attack graph
//! facts, compensating controls and data classifications
//! ([`assess_with`](ctem_risk::assess_with)).
//!
//! Run with `cargo bench -p ctem-risk --bench enrich`. The workload is in
//! `workload/mod.rs`. Loading the feeds is measured by `cargo bench -p
//! ctem-intel --bench load`.

mod workload;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

use workload::{FINDINGS, contexts, findings, intel, score_million};

/// The allocator of the `ctem` binary.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn enrich(criterion: &mut Criterion) {
    let intel = intel();
    let (findings, asset) = findings();
    let contexts = contexts();

    let mut group = criterion.benchmark_group("enrich");
    group.sample_size(10);
    group.throughput(Throughput::Elements(FINDINGS as u64));
    group.bench_function("score_1m_findings_full_kev_epss", |bench| {
        bench.iter(|| assert!(score_million(&intel, &findings, &asset, None) > 0.0))
    });
    group.bench_function("score_1m_findings_in_context", |bench| {
        bench.iter(|| assert!(score_million(&intel, &findings, &asset, Some(&contexts)) > 0.0))
    });
    group.finish();
}

criterion_group!(benches, enrich);
criterion_main!(benches);
