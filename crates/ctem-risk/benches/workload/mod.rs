//! The generated workload of the scoring benchmark, shared by the
//! `enrich` bench and the `score_cpu` example: a full-size KEV catalog
//! (1,500 entries) and EPSS file (300,000 scores), 20,000 distinct
//! findings that 1,000,000 scorings cycle through, and 64 contexts.
//!
//! The inputs come from a seeded generator, so every run measures the
//! same data.

use std::fmt::Write;

use ctem_intel::{EpssScores, Intel, KevCatalog};
use ctem_model::{Asset, AssetKind, Criticality, Finding, FindingKind, Severity, VulnerabilityId};
use ctem_risk::{Context, Controls, DataClassification, GraphFacts, assess, assess_with};

pub const FINDINGS: usize = 1_000_000;
/// Distinct findings generated; the million cycles through them, since a
/// million finding structs would measure the allocator more than scoring.
pub const POOL: usize = 20_000;
const EPSS_ROWS: usize = 300_000;
const KEV_ENTRIES: usize = 1_500;

/// A small xorshift generator: the same seed gives the same data.
struct Xorshift(u64);

impl Xorshift {
    fn below(&mut self, bound: u64) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x % bound
    }
}

/// Returns the CVE of EPSS row `index`, with years spread over 2015-2025.
fn cve(index: usize) -> String {
    format!("CVE-{}-{}", 2015 + index % 11, 10_000 + index)
}

pub fn intel() -> Intel {
    let mut random = Xorshift(0x5eed_0003);
    let mut epss =
        String::from("#model_version:v2025.03.14,score_date:2025-12-29T00:00:00+0000\ncve,epss,percentile\n");
    for index in 0..EPSS_ROWS {
        let score = random.below(100_000) as f64 / 100_000.0;
        writeln!(epss, "{},{score:.5},{score:.5}", cve(index)).expect("write to a String");
    }
    let mut entries = Vec::with_capacity(KEV_ENTRIES);
    for index in 0..KEV_ENTRIES {
        let ransomware = if index % 5 == 0 { "Known" } else { "Unknown" };
        entries.push(format!(
            r#"{{"cveID":"{}","vendorProject":"Vendor {index}","product":"Product","vulnerabilityName":"Generated vulnerability","dateAdded":"2024-01-{:02}","shortDescription":"","requiredAction":"Apply updates.","dueDate":"2024-02-01","knownRansomwareCampaignUse":"{ransomware}","notes":"","cwes":["CWE-20"]}}"#,
            cve(index * 200),
            index % 28 + 1
        ));
    }
    let kev = format!(
        r#"{{"catalogVersion":"2025.12.29","dateReleased":"2025-12-29T12:00:00.000Z","count":{KEV_ENTRIES},"vulnerabilities":[{}]}}"#,
        entries.join(",")
    );
    let mut intel = Intel::default();
    intel.add_kev(KevCatalog::from_reader("kev.json", kev.as_bytes()).expect("valid KEV"));
    intel.add_epss(EpssScores::from_reader("epss.csv", epss.as_bytes()).expect("valid EPSS"));
    intel
}

/// Findings on one host, each with one CVE (nine in ten scored by EPSS,
/// some in KEV) and a CVSS vector on half of them.
pub fn findings() -> (Vec<Finding>, Asset) {
    let mut random = Xorshift(0x5eed_0004);
    let asset = Asset::new(AssetKind::Host, "10.0.0.5", "app01");
    let findings = (0..POOL)
        .map(|index| {
            let id = cve(random.below(EPSS_ROWS as u64 * 10 / 9) as usize);
            let mut finding = Finding::new(
                "trivy",
                id.clone(),
                FindingKind::Vulnerability,
                format!("{id} in a package"),
                Severity::High,
                asset.key.clone(),
            );
            finding.add_vulnerability_id(id.parse::<VulnerabilityId>().expect("valid id"));
            if index % 2 == 0 {
                finding.add_cvss(
                    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
                        .parse()
                        .expect("valid vector"),
                );
            }
            finding
        })
        .collect();
    (findings, asset)
}

/// Distinct contexts and assets that the findings cycle through: one
/// finding in four on an attack path, one in eight at a choke point, and
/// a mix of exposures, criticalities, classifications and controls.
pub const CONTEXTS: usize = 64;

pub fn contexts() -> Vec<(Context, Asset)> {
    let mut random = Xorshift(0x5eed_0005);
    let classifications = [
        None,
        Some(DataClassification::Internal),
        Some(DataClassification::Confidential),
        Some(DataClassification::Restricted),
    ];
    let criticalities = [
        None,
        Some(Criticality::Low),
        Some(Criticality::High),
        Some(Criticality::CrownJewel),
    ];
    (0..CONTEXTS)
        .map(|index| {
            let on_path = index % 4 == 0;
            let graph = GraphFacts {
                paths_to_crown_jewels: if on_path { 1 + random.below(3) as usize } else { 0 },
                crown_jewels: if on_path {
                    vec!["payments-db".to_string()]
                } else {
                    Vec::new()
                },
                best_path_probability: on_path.then(|| random.below(1_000) as f64 / 1_000.0),
                choke_point: index % 8 == 0,
                blast_radius_crown_jewels: random.below(3) as usize,
                blast_radius_assets: random.below(200) as usize,
            };
            let controls = Controls {
                waf: if index % 3 == 0 { 0.5 } else { 1.0 },
                segmentation: if index % 5 == 0 { 0.7 } else { 1.0 },
                edr: if index % 2 == 0 { 0.8 } else { 1.0 },
                mfa: 1.0,
            };
            let context = Context {
                graph,
                controls,
                data_classification: classifications[index % 4],
                ..Context::default()
            };
            let kind = if index % 3 == 0 {
                AssetKind::WebApp
            } else {
                AssetKind::Host
            };
            let mut asset = Asset::new(kind, &format!("10.0.{index}.5"), format!("app{index:02}"));
            asset.internet_exposed = [None, Some(true), Some(false)][index % 3];
            asset.criticality = criticalities[(index / 4) % 4];
            (context, asset)
        })
        .collect()
}

/// Scores the million findings on every core, each against `asset`
/// ([`assess`]) or, given `contexts`, against the context and asset that
/// its index picks ([`assess_with`]), and returns the sum of the scores.
///
/// Each core takes one contiguous range of indices, which cycles through
/// every finding and context alike. Interleaved indices would not. With
/// two cores, one core would score every even index, which is every
/// finding with a CVSS vector and every context on an attack path, and the
/// other core would wait for it.
pub fn score_million(intel: &Intel, findings: &[Finding], asset: &Asset, contexts: Option<&[(Context, Asset)]>) -> f64 {
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|thread| {
                scope.spawn(move || {
                    let mut total = 0.0;
                    for index in FINDINGS * thread / threads..FINDINGS * (thread + 1) / threads {
                        let finding = &findings[index % POOL];
                        total += match contexts {
                            Some(contexts) => {
                                let (context, asset) = &contexts[index % CONTEXTS];
                                assess_with(finding, Some(asset), intel, context).score
                            }
                            None => assess(finding, Some(asset), intel).score,
                        };
                    }
                    total
                })
            })
            .collect();
        workers.into_iter().map(|worker| worker.join().expect("worker")).sum()
    })
}
