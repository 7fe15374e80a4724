//! Seeded generators of large, realistic reports for benchmarks and tests.
//! The same seed always gives the same bytes.

use std::fmt::Write;

use chrono::{DateTime, TimeDelta, Utc};
use ctem_model::{Asset, AssetKind, Criticality, FindingKind, LifecycleStatus, Severity, Tier};
use ctem_store::{AssetCoverage, FactTable, FindingFacts, RunStats, RunSummary};

/// A small xorshift generator: enough variety for test data, no dependency.
struct Xorshift(u64);

impl Xorshift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }
}

const SEVERITIES: [&str; 5] = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"];
const VECTORS: [&str; 4] = [
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H",
    "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N",
    "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:L/A:N",
];

/// A Trivy JSON report (schema version 2) of one container image with
/// `findings` vulnerabilities spread over `findings / 4 + 1` packages.
/// Every (CVE, package) pair is distinct, so every vulnerability is one
/// finding.
pub fn trivy_report(image: &str, findings: usize, seed: u64) -> String {
    let mut random = Xorshift(seed.max(1));
    let packages = findings / 4 + 1;
    let mut out = String::with_capacity(findings * 700 + 1024);
    write!(
        out,
        r#"{{"SchemaVersion":2,"CreatedAt":"2026-11-30T06:00:00Z","ArtifactName":"{image}","ArtifactType":"container_image","Metadata":{{"OS":{{"Family":"debian","Name":"12.7"}},"ImageID":"sha256:{:064x}","RepoTags":["{image}"]}},"Results":[{{"Target":"{image} (debian 12.7)","Class":"os-pkgs","Type":"debian","Vulnerabilities":["#,
        seed
    )
    .expect("writing to a String cannot fail");
    for index in 0..findings {
        if index > 0 {
            out.push(',');
        }
        let package = index % packages;
        let cve_year = 2015 + random.below(11);
        let cve_number = 10_000 + index;
        let severity = SEVERITIES[random.below(SEVERITIES.len() as u64) as usize];
        let vector = VECTORS[random.below(VECTORS.len() as u64) as usize];
        let fixed = if random.below(3) == 0 {
            String::new()
        } else {
            format!("1.{}.{}", package % 17, index % 9 + 1)
        };
        write!(
            out,
            r#"{{"VulnerabilityID":"CVE-{cve_year}-{cve_number}","PkgID":"libsynth{package}@1.{minor}.0","PkgName":"libsynth{package}","PkgIdentifier":{{"PURL":"pkg:deb/debian/libsynth{package}@1.{minor}.0?arch=amd64&distro=debian-12.7"}},"InstalledVersion":"1.{minor}.0","FixedVersion":"{fixed}","Status":"{status}","SeveritySource":"nvd","PrimaryURL":"https://avd.aquasec.com/nvd/cve-{cve_year}-{cve_number}","Title":"libsynth{package}: memory corruption in parser {index}","Description":"A crafted input can corrupt memory in libsynth{package} before 1.{minor}.1, which may let an attacker run code or crash the process.","Severity":"{severity}","CweIDs":["CWE-787"],"CVSS":{{"nvd":{{"V3Vector":"{vector}","V3Score":7.5}}}},"References":["https://nvd.nist.gov/vuln/detail/CVE-{cve_year}-{cve_number}"],"PublishedDate":"2024-03-01T10:15:00Z"}}"#,
            minor = package % 23,
            status = if fixed.is_empty() { "affected" } else { "fixed" },
        )
        .expect("writing to a String cannot fail");
    }
    out.push_str("]}]}\n");
    out
}

/// The store reads behind `ctem metrics`, generated.
pub struct MetricsInput {
    pub facts: FactTable,
    pub runs: Vec<RunStats>,
    pub coverage: Vec<AssetCoverage>,
}

const TOOL_SETS: [&[&str]; 6] = [
    &["trivy"],
    &["grype"],
    &["grype", "trivy"],
    &["nessus"],
    &["semgrep"],
    &["zap"],
];

/// Generates `findings` finding facts on 10,000 assets owned by 20 teams,
/// and `runs` weekly runs, all before `now`. Statuses are spread as in a
/// busy store: about 40% active, 45% fixed (nine in ten of them confirmed
/// by a run), 5% each risk accepted, false positive and not affected.
/// First sightings fall in the two years before `now`.
pub fn metrics_input(findings: usize, runs: usize, now: DateTime<Utc>, seed: u64) -> MetricsInput {
    let mut random = Xorshift(seed.max(1));
    let two_years_ms = 730 * 86_400_000u64;
    let before_now =
        |random: &mut Xorshift, range_ms: u64| now - TimeDelta::milliseconds(random.below(range_ms) as i64);

    let kinds = [
        AssetKind::Host,
        AssetKind::ContainerImage,
        AssetKind::Repository,
        AssetKind::WebApp,
    ];
    let criticalities = [
        None,
        Some(Criticality::Low),
        Some(Criticality::Medium),
        Some(Criticality::High),
        Some(Criticality::CrownJewel),
    ];
    let coverage: Vec<AssetCoverage> = (0..10_000u64)
        .map(|index| {
            let kind = kinds[random.below(kinds.len() as u64) as usize];
            let mut asset = Asset::new(kind, &format!("synthetic-{index}"), format!("synthetic-{index}"));
            let team = random.below(21);
            asset.owner = (team < 20).then(|| format!("team-{team}"));
            asset.criticality = criticalities[random.below(criticalities.len() as u64) as usize];
            let last_assessed = (random.below(10) > 0).then(|| before_now(&mut random, 90 * 86_400_000));
            AssetCoverage {
                asset,
                first_seen: now - TimeDelta::days(800),
                last_assessed,
            }
        })
        .collect();

    let mut facts = FactTable {
        assets: coverage.iter().map(|entry| entry.asset.key.clone()).collect(),
        tool_sets: TOOL_SETS
            .iter()
            .map(|set| set.iter().map(|tool| tool.to_string()).collect())
            .collect(),
        findings: Vec::with_capacity(findings),
    };
    for id in 0..findings {
        let first_seen = before_now(&mut random, two_years_ms);
        let introduced_at =
            (random.below(10) < 7).then(|| first_seen - TimeDelta::milliseconds(random.below(60 * 86_400_000) as i64));
        let status = match random.below(20) {
            0..=7 => [LifecycleStatus::New, LifecycleStatus::Open, LifecycleStatus::Reopened][random.below(3) as usize],
            8..=16 => LifecycleStatus::Fixed,
            17 => LifecycleStatus::RiskAccepted,
            18 => LifecycleStatus::FalsePositive,
            _ => LifecycleStatus::NotAffected,
        };
        let fixed_at = (status == LifecycleStatus::Fixed)
            .then(|| (first_seen + TimeDelta::milliseconds(random.below(200 * 86_400_000) as i64)).min(now));
        let verified_at = fixed_at.filter(|_| random.below(10) > 0);
        facts.findings.push(FindingFacts {
            id: id as i64 + 1,
            asset: random.below(coverage.len() as u64) as u32,
            tools: random.below(TOOL_SETS.len() as u64) as u32,
            kind: FindingKind::Vulnerability,
            severity: Severity::ALL[random.below(5) as usize],
            tier: Tier::ALL[random.below(4) as usize],
            score: random.below(10_000) as f64 / 100.0,
            status,
            first_seen,
            last_seen: first_seen,
            introduced_at,
            fixed_at,
            verified_at,
            validation: None,
            accepted_until: None,
        });
    }

    let runs = (0..runs)
        .map(|index| {
            let observed_at = now - TimeDelta::weeks((runs - index) as i64);
            let open_by_tier = [0; 4].map(|_: u64| random.below(50_000));
            RunStats {
                run_id: index as i64 + 1,
                observed_at,
                summary: RunSummary {
                    run_id: index as i64 + 1,
                    observed_at,
                    seen: random.below(100_000),
                    new: random.below(5_000),
                    still_open: random.below(90_000),
                    reopened: random.below(500),
                    fixed: random.below(5_000),
                },
                open_by_tier,
                risk_by_tier: open_by_tier.map(|open| open as f64 * 40.0),
                crown_jewel_open: random.below(5_000),
                crown_jewel_risk: random.below(300_000) as f64,
                accepted: random.below(2_000),
            }
        })
        .collect();

    MetricsInput { facts, runs, coverage }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_report() {
        assert_eq!(trivy_report("acme/a:1", 50, 7), trivy_report("acme/a:1", 50, 7));
        assert_ne!(trivy_report("acme/a:1", 50, 7), trivy_report("acme/a:1", 50, 8));
    }

    #[test]
    fn metrics_input_is_seeded() {
        let now = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 12, 1, 0, 0, 0).unwrap();
        let first = metrics_input(1_000, 10, now, 5);
        let second = metrics_input(1_000, 10, now, 5);
        assert_eq!(first.facts, second.facts);
        assert_eq!(first.runs, second.runs);
        assert_ne!(metrics_input(1_000, 10, now, 6).facts, first.facts);
        assert_eq!(first.facts.findings.len(), 1_000);
        assert_eq!(first.runs.len(), 10);
        assert!(first.facts.findings.iter().all(|f| f.first_seen <= now));
        assert!(first.runs.iter().all(|run| run.observed_at < now));
    }

    #[test]
    fn report_is_valid_json_with_every_vulnerability() {
        let report: serde_json::Value = serde_json::from_str(&trivy_report("acme/a:1", 120, 3)).unwrap();
        let vulnerabilities = report["Results"][0]["Vulnerabilities"].as_array().unwrap();
        assert_eq!(vulnerabilities.len(), 120);
    }
}
