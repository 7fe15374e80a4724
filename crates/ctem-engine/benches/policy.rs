//! A small finding policy (one `tier`, one `raise` and one `accept` rule)
//! evaluated over 100,000 generated findings on one thread: the cost that
//! `[policy] files` adds to `ctem assess`.
//!
//! Run with `cargo bench -p ctem-engine --bench policy`. The findings come
//! from a fixed pattern, so every run measures the same values.

use std::collections::BTreeMap;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ctem_engine::policy::FindingPolicy;
use ctem_intel::Intel;
use ctem_model::{Asset, AssetKind, Criticality, Finding, FindingKind, Severity};
use ctem_store::ScoredFinding;

const FINDINGS: usize = 100_000;
const ASSETS: usize = 1_000;

const POLICY: &str = r#"package ctem

tier := {"tier": "P1", "reason": "critical flaw on the internet"} if {
  input.severity == "critical"
  input.asset.internet_exposed
}

raise contains "payment systems first" if input.asset.owner == "payments"

accept := "test fixture keys are fake" if {
  input.kind == "secret"
  "fixtures" in input.asset.tags
}
"#;

fn inputs() -> (Vec<ScoredFinding>, BTreeMap<ctem_model::AssetKey, Asset>) {
    let owners = ["payments", "web", "platform", "data"];
    let kinds = [
        FindingKind::Vulnerability,
        FindingKind::Secret,
        FindingKind::Misconfiguration,
    ];
    let severities = [Severity::Critical, Severity::High, Severity::Medium, Severity::Low];
    let assets: BTreeMap<_, _> = (0..ASSETS)
        .map(|index| {
            let mut asset = Asset::new(AssetKind::Host, &format!("host-{index}"), format!("host-{index}"));
            asset.internet_exposed = Some(index % 3 == 0);
            asset.criticality = Some(Criticality::High);
            asset.owner = Some(owners[index % owners.len()].to_string());
            if index % 5 == 0 {
                asset.tags.push("fixtures".to_string());
            }
            (asset.key.clone(), asset)
        })
        .collect();
    let keys: Vec<_> = assets.keys().cloned().collect();
    let intel = Intel::default();
    let findings = (0..FINDINGS)
        .map(|index| {
            let key = keys[index % keys.len()].clone();
            let finding = Finding::new(
                "trivy",
                format!("rule-{index}"),
                kinds[index % kinds.len()],
                "generated finding",
                severities[index % severities.len()],
                key,
            );
            let risk = ctem_risk::assess(&finding, assets.get(&finding.asset), &intel);
            ScoredFinding {
                fingerprint: finding.fingerprint(),
                finding,
                risk,
                published: None,
            }
        })
        .collect();
    (findings, assets)
}

fn policy(criterion: &mut Criterion) {
    let policy = FindingPolicy::from_sources(vec![("bench.rego".to_string(), POLICY.to_string())]).unwrap();
    let (findings, assets) = inputs();

    let mut group = criterion.benchmark_group("policy");
    group.sample_size(10);
    group.throughput(Throughput::Elements(FINDINGS as u64));
    group.bench_function("apply_100k", |bench| {
        bench.iter_batched(
            || findings.clone(),
            |mut findings| policy.apply(&mut findings, &assets).unwrap(),
            criterion::BatchSize::LargeInput,
        );
    });
    group.finish();
}

criterion_group!(benches, policy);
criterion_main!(benches);
