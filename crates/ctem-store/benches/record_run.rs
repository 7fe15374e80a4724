//! Throughput of `Store::record_run` on a generated run of 100,000
//! findings:
//!
//! - `new_100k`: into a fresh database, every finding new;
//! - `new_100k_checkpointed`: the same, timed until the helper thread has
//!   also copied the run from the write-ahead log into the database file;
//! - `rescan_100k`: a second run over the same findings, every finding
//!   still open (a change of status from `new`);
//! - `steady_100k`: a third run, the steady state of daily scans, where no
//!   status changes.
//!
//! Except in `new_100k_checkpointed`, the time stops when `record_run`
//! returns, which is when readers see the run. The copy into the database
//! file goes on in the background and is waited for outside the timing.
//!
//! The run is generated from a fixed seed: 200 container images of 500
//! vulnerability findings each, with components, CVSS vectors, references
//! and a three-factor assessment, close in size to what the Trivy parser
//! produces. Run with `cargo bench -p ctem-store`; criterion reports the
//! findings per second as its throughput.

use std::collections::BTreeSet;
use std::hint::black_box;

use chrono::{TimeZone, Utc};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use ctem_model::{
    Asset, AssetKind, Component, CvssVector, Factor, Finding, FindingKind, Fix, RiskAssessment, Severity, Tier,
};
use ctem_store::{RunInput, Scope, ScoredFinding, SourceRecord, Store};
use tempfile::TempDir;

const FINDINGS: usize = 100_000;
const IMAGES: usize = 200;
const SEED: u64 = 0x5eed_c7e3;

/// SplitMix64: a small, well-distributed generator, so the bench needs no
/// random-number crate and every run generates the same findings.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }
}

const VECTORS: [&str; 4] = [
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
    "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:L/A:N",
    "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N",
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H",
];

fn generate_run(seed: u64) -> RunInput {
    let mut rng = SplitMix64(seed);
    let vectors: Vec<CvssVector> = VECTORS.iter().map(|v| v.parse().unwrap()).collect();
    let per_image = FINDINGS / IMAGES;

    let mut findings = Vec::with_capacity(FINDINGS);
    let mut assets = Vec::with_capacity(IMAGES);
    let mut scopes = BTreeSet::new();
    let mut sources = Vec::with_capacity(IMAGES);
    for image in 0..IMAGES {
        let target = format!("registry.example/team-{}/service-{image}:1.{}", image % 17, image % 5);
        let asset = Asset::new(AssetKind::ContainerImage, &target, format!("service-{image}"));
        scopes.insert(Scope {
            tool: "trivy".into(),
            target: target.clone(),
        });
        sources.push(SourceRecord {
            path: format!("scans/service-{image}.json"),
            format: "trivy-json".into(),
            sha256: format!("{:064x}", rng.next()),
            finding_count: per_image as u64,
            error: None,
        });

        for index in 0..per_image {
            let year = 2015 + rng.below(10);
            let cve = format!("CVE-{year}-{:05}", rng.below(60_000));
            let package = format!("lib{}", rng.below(3_000));
            let version = format!("{}.{}.{}", rng.below(5), rng.below(20), index);
            let severity = Severity::ALL[rng.below(5) as usize];

            let mut finding = Finding::new(
                "trivy",
                &cve,
                FindingKind::Vulnerability,
                format!("{package}: {cve} allows remote attackers to cause a denial of service"),
                severity,
                asset.key.clone(),
            );
            finding.description = Some(format!(
                "A flaw was found in {package} before {version}. A remote attacker could send a \
                 crafted request that leads to memory corruption."
            ));
            finding.add_vulnerability_id(cve.parse().unwrap());
            finding.add_cvss(vectors[rng.below(4) as usize].clone());
            finding.component = Some(Component {
                name: package.clone(),
                version: Some(version.clone()),
                purl: Some(format!("pkg:deb/debian/{package}@{version}").parse().unwrap()),
                ecosystem: Some("deb".into()),
            });
            finding.fix = Fix {
                fixed_versions: vec![format!("{version}-1")],
                description: None,
            };
            finding.references = vec![format!("https://security-tracker.debian.org/tracker/{cve}")];
            finding.target = Some(target.clone());

            let score = (rng.below(10_000) as f64) / 100.0;
            let tier = match score {
                s if s >= 80.0 => Tier::P1,
                s if s >= 60.0 => Tier::P2,
                s if s >= 30.0 => Tier::P3,
                _ => Tier::P4,
            };
            let risk = RiskAssessment {
                score,
                tier,
                likelihood: score / 100.0,
                impact: 0.7,
                factors: vec![
                    factor("cvss_impact", "high", score * 0.4, "report"),
                    factor("epss", "0.12", score * 0.3, "FIRST EPSS 2024-05-01"),
                    factor("severity", severity.as_str(), score * 0.3, "report"),
                ],
                decision: None,
                deadline: None,
            };
            findings.push(ScoredFinding {
                fingerprint: finding.fingerprint(),
                finding,
                risk,
                published: None,
            });
        }
        assets.push(asset);
    }

    RunInput {
        observed_at: Utc.with_ymd_and_hms(2024, 5, 1, 0, 0, 0).unwrap(),
        sources,
        scopes,
        assets,
        relationships: Vec::new(),
        findings,
    }
}

fn factor(name: &str, value: &str, contribution: f64, source: &str) -> Factor {
    Factor {
        name: name.into(),
        value: value.into(),
        contribution,
        source: source.into(),
        weight: None,
        date: None,
    }
}

fn fresh_store() -> (TempDir, Store) {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let store = Store::open(&dir.path().join("bench.db")).expect("open the store");
    (dir, store)
}

fn record_run(c: &mut Criterion) {
    let first = generate_run(SEED);
    let mut rescan = first.clone();
    rescan.observed_at = Utc.with_ymd_and_hms(2024, 5, 2, 0, 0, 0).unwrap();
    let mut steady = first.clone();
    steady.observed_at = Utc.with_ymd_and_hms(2024, 5, 3, 0, 0, 0).unwrap();

    let mut group = c.benchmark_group("record_run");
    group.sample_size(10);
    group.throughput(Throughput::Elements(FINDINGS as u64));

    group.bench_function("new_100k", |b| {
        b.iter_batched(
            fresh_store,
            |(dir, mut store)| {
                let summary = store.record_run(black_box(&first)).expect("record the run");
                assert_eq!(summary.new, FINDINGS as u64);
                // Returned so that removing the files is not timed.
                (dir, store)
            },
            BatchSize::PerIteration,
        );
    });

    group.bench_function("new_100k_checkpointed", |b| {
        b.iter_batched(
            fresh_store,
            |(dir, mut store)| {
                store.record_run(black_box(&first)).expect("record the run");
                store.wait_for_checkpoint();
                (dir, store)
            },
            BatchSize::PerIteration,
        );
    });

    group.bench_function("rescan_100k", |b| {
        b.iter_batched(
            || {
                let (dir, mut store) = fresh_store();
                store.record_run(&first).expect("record the first run");
                store.wait_for_checkpoint();
                (dir, store)
            },
            |(dir, mut store)| {
                let summary = store.record_run(black_box(&rescan)).expect("record the rescan");
                assert_eq!(summary.still_open, FINDINGS as u64);
                (dir, store)
            },
            BatchSize::PerIteration,
        );
    });
    group.bench_function("steady_100k", |b| {
        b.iter_batched(
            || {
                let (dir, mut store) = fresh_store();
                store.record_run(&first).expect("record the first run");
                store.record_run(&rescan).expect("record the rescan");
                store.wait_for_checkpoint();
                (dir, store)
            },
            |(dir, mut store)| {
                let summary = store.record_run(black_box(&steady)).expect("record the third run");
                assert_eq!(summary.still_open, FINDINGS as u64);
                (dir, store)
            },
            BatchSize::PerIteration,
        );
    });
    group.finish();
}

criterion_group!(benches, record_run);
criterion_main!(benches);
