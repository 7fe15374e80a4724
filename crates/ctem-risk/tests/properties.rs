//! The properties that the risk model promises, checked over tables of
//! findings, assets and intelligence.

mod common;

use common::*;
use ctem_intel::Intel;
use ctem_model::{Asset, Criticality, Finding, FindingKind, RiskAssessment, Severity, Tier};
use ctem_risk::*;

const LISTED: &str = "CVE-2025-48384";
const LISTED_RANSOMWARE: &str = "CVE-2021-44228";
const UNLISTED: &str = "CVE-2024-0001";

const VECTORS: [Option<&str>; 9] = [
    Some(CVSS_10),
    Some(CVSS_9_8),
    Some(CVSS_7_5),
    Some(CVSS_7_8_LOCAL),
    Some(CVSS_1_8),
    Some(CVSS_0),
    Some(CVSS_V4_9_3),
    Some(CVSS_V2_10),
    None,
];

const EPSS_LADDER: [Option<f64>; 9] = [
    None,
    Some(0.0),
    Some(0.00001),
    Some(0.001),
    Some(0.01),
    Some(0.1),
    Some(0.5),
    Some(0.9),
    Some(1.0),
];

/// Findings with a CVE: every vector (and none) with a high and a low severity.
fn cve_findings(cve: &str) -> Vec<Finding> {
    let mut findings = Vec::new();
    for vector in VECTORS {
        for severity in [Severity::Critical, Severity::Low] {
            findings.push(vulnerability(cve, vector, severity));
        }
    }
    findings
}

/// Findings without CVE: every kind and severity.
fn other_findings() -> Vec<Finding> {
    let mut findings = Vec::new();
    for kind in ALL_KINDS {
        for severity in Severity::ALL {
            findings.push(weakness(kind, severity));
        }
    }
    findings
}

fn all_findings() -> Vec<Finding> {
    let mut findings = cve_findings(LISTED);
    findings.extend(cve_findings(LISTED_RANSOMWARE));
    findings.extend(cve_findings(UNLISTED));
    findings.extend(other_findings());
    findings
}

fn epss_rows(cve: &str, probability: Option<f64>) -> Vec<(&str, f64)> {
    probability.map(|p| (cve, p)).into_iter().collect()
}

/// Lists every asset context: no asset, and each exposure with each criticality.
fn asset_contexts() -> Vec<Option<Asset>> {
    let mut contexts = vec![None];
    for exposure in EXPOSURES {
        for criticality in CRITICALITIES {
            contexts.push(Some(host(exposure, criticality)));
        }
    }
    contexts
}

fn intel_variants() -> Vec<Intel> {
    vec![
        intel(false, &[]),
        intel(true, &[]),
        intel(true, &[(LISTED, 1.0), (LISTED_RANSOMWARE, 1.0), (UNLISTED, 1.0)]),
        intel(false, &[(LISTED, 0.0), (LISTED_RANSOMWARE, 0.0), (UNLISTED, 0.0)]),
        intel(true, &[(LISTED, 0.00001), (UNLISTED, 0.3)]),
    ]
}

fn contribution(risk: &RiskAssessment, name: &str) -> Option<f64> {
    risk.factors.iter().find(|f| f.name == name).map(|f| f.contribution)
}

#[test]
fn kev_on_crown_jewel_outranks_critical() {
    let intel = intel(true, &[(UNLISTED, 0.0005)]);

    let listed = vulnerability(LISTED, Some(CVSS_7_5), Severity::High);
    let crown_jewel = host(Some(true), Some(Criticality::CrownJewel));
    let exploited = assess(&listed, Some(&crown_jewel), &intel);

    let critical = vulnerability(UNLISTED, Some(CVSS_9_8), Severity::Critical);
    let test_host = host(Some(false), Some(Criticality::Low));
    let unexploited = assess(&critical, Some(&test_host), &intel);

    assert!(
        exploited.score > unexploited.score,
        "KEV CVSS 7.5 on an exposed crown jewel: {}; CVSS 9.8 with EPSS 0.0005 on an internal test host: {}",
        exploited.score,
        unexploited.score
    );
    assert!(
        exploited.tier < unexploited.tier,
        "{:?} vs {:?}",
        exploited.tier,
        unexploited.tier
    );
}

#[test]
fn adding_kev_never_lowers() {
    for cve in [LISTED, LISTED_RANSOMWARE] {
        for finding in cve_findings(cve) {
            for probability in [None, Some(0.0), Some(0.2), Some(1.0)] {
                let without = intel(false, &epss_rows(cve, probability));
                let with = intel(true, &epss_rows(cve, probability));
                for asset in asset_contexts() {
                    let before = assess(&finding, asset.as_ref(), &without).score;
                    let after = assess(&finding, asset.as_ref(), &with).score;
                    assert!(
                        after >= before,
                        "{cve} {:?} epss {probability:?}: {before} -> {after}",
                        finding.cvss
                    );
                }
            }
        }
    }
}

#[test]
fn adding_kev_raises_unsaturated_score() {
    let finding = vulnerability(LISTED, Some(CVSS_9_8), Severity::Critical);
    let before = assess(&finding, None, &intel(false, &[])).score;
    let after = assess(&finding, None, &intel(true, &[])).score;
    assert!(after > before, "{before} -> {after}");
}

#[test]
fn raising_epss_never_lowers() {
    for cve in [UNLISTED, LISTED] {
        for finding in cve_findings(cve) {
            for with_kev in [false, true] {
                for asset in asset_contexts() {
                    // A missing score is not on the ladder: it takes the prior.
                    let scores: Vec<f64> = EPSS_LADDER
                        .iter()
                        .flatten()
                        .map(|p| assess(&finding, asset.as_ref(), &intel(with_kev, &epss_rows(cve, Some(*p)))).score)
                        .collect();
                    assert!(
                        scores.windows(2).all(|pair| pair[1] >= pair[0]),
                        "{cve} {:?} kev {with_kev}: {scores:?}",
                        finding.cvss
                    );
                }
            }
        }
    }
}

#[test]
fn exposure_orders_scores() {
    for finding in all_findings() {
        for intel in intel_variants() {
            for criticality in CRITICALITIES {
                let score = |exposure| assess(&finding, Some(&host(exposure, criticality)), &intel).score;
                let (exposed, unknown, internal) = (score(Some(true)), score(None), score(Some(false)));
                assert!(
                    exposed >= unknown,
                    "{} {:?}: {exposed} < {unknown}",
                    finding.rule_id,
                    finding.kind
                );
                assert!(
                    unknown >= internal,
                    "{} {:?}: {unknown} < {internal}",
                    finding.rule_id,
                    finding.kind
                );
            }
        }
    }
}

#[test]
fn criticality_orders_scores() {
    let order = [
        Criticality::Low,
        Criticality::Medium,
        Criticality::High,
        Criticality::CrownJewel,
    ];
    for finding in all_findings() {
        for intel in intel_variants() {
            for exposure in EXPOSURES {
                let scores: Vec<f64> = order
                    .iter()
                    .map(|c| assess(&finding, Some(&host(exposure, Some(*c))), &intel).score)
                    .collect();
                assert!(
                    scores.windows(2).all(|pair| pair[1] >= pair[0]),
                    "{} {:?}: {scores:?}",
                    finding.rule_id,
                    finding.kind
                );
            }
        }
    }
}

#[test]
fn unknown_criticality_is_default() {
    for finding in all_findings() {
        let intel = intel(true, &[]);
        let unknown = assess(&finding, Some(&host(None, None)), &intel);
        let default = assess(&finding, Some(&host(None, Some(DEFAULT_CRITICALITY))), &intel);
        assert_eq!(unknown.score, default.score, "{} {:?}", finding.rule_id, finding.kind);
    }
}

#[test]
fn scores_stay_in_range() {
    for finding in all_findings() {
        for intel in intel_variants() {
            for asset in asset_contexts() {
                let risk = assess(&finding, asset.as_ref(), &intel);
                let case = format!("{} {:?} {:?}", finding.rule_id, finding.kind, finding.cvss);
                assert!((0.0..=100.0).contains(&risk.score), "{case}: score {}", risk.score);
                assert!(
                    (0.0..=1.0).contains(&risk.likelihood),
                    "{case}: likelihood {}",
                    risk.likelihood
                );
                assert!((0.0..=1.0).contains(&risk.impact), "{case}: impact {}", risk.impact);
                assert!(
                    risk.factors.iter().all(|f| f.contribution.is_finite()),
                    "{case}: {:?}",
                    risk.factors
                );
            }
        }
    }
}

#[test]
fn extreme_cases_stay_in_range() {
    let maximum = assess(
        &vulnerability(LISTED_RANSOMWARE, Some(CVSS_10), Severity::Critical),
        Some(&host(Some(true), Some(Criticality::CrownJewel))),
        &intel(true, &[(LISTED_RANSOMWARE, 1.0)]),
    );
    assert!(maximum.score <= 100.0, "{}", maximum.score);
    assert!(maximum.score > 99.0, "{}", maximum.score);
    assert_eq!(maximum.tier, Tier::P1);

    let license = assess(
        &weakness(FindingKind::License, Severity::Info),
        Some(&host(Some(false), Some(Criticality::Low))),
        &intel(false, &[]),
    );
    assert_eq!(license.score, 0.0);
    assert_eq!(license.tier, Tier::P4);

    let no_impact = assess(
        &vulnerability(UNLISTED, Some(CVSS_0), Severity::Info),
        None,
        &intel(false, &[(UNLISTED, 0.0)]),
    );
    assert!((0.0..=100.0).contains(&no_impact.score), "{}", no_impact.score);
    assert_eq!(no_impact.tier, Tier::P4);
}

#[test]
fn tiers_follow_decision() {
    let mut seen = std::collections::BTreeSet::new();
    for finding in all_findings() {
        for intel in intel_variants() {
            for asset in asset_contexts() {
                let risk = assess(&finding, asset.as_ref(), &intel);
                let decision = risk.decision.expect("every assessment has a decision");
                assert_eq!(risk.tier, decision.tier(), "{decision:?}");
                seen.insert(risk.tier);
            }
        }
    }
    assert_eq!(seen.len(), 4, "the table reaches every tier: {seen:?}");
}

#[test]
fn adding_kev_never_lowers_tier() {
    for finding in cve_findings(LISTED) {
        for asset in asset_contexts() {
            let without = assess(&finding, asset.as_ref(), &intel(false, &[]));
            let with = assess(&finding, asset.as_ref(), &intel(true, &[]));
            assert!(with.tier <= without.tier, "{:?} then {:?}", without.tier, with.tier);
        }
    }
}

#[test]
fn contributions_add_up_to_score() {
    for finding in all_findings() {
        for intel in intel_variants() {
            for asset in asset_contexts() {
                let risk = assess(&finding, asset.as_ref(), &intel);
                let total: f64 = risk.factors.iter().map(|f| f.contribution).sum();
                assert!((total - risk.score).abs() < 1e-9, "sum {total} vs score {}", risk.score);
            }
        }
    }
}

#[test]
fn factors_sorted_by_magnitude() {
    for finding in all_findings() {
        for intel in intel_variants() {
            for asset in asset_contexts() {
                let risk = assess(&finding, asset.as_ref(), &intel);
                let magnitudes: Vec<f64> = risk.factors.iter().map(|f| f.contribution.abs()).collect();
                assert!(magnitudes.windows(2).all(|pair| pair[0] >= pair[1]), "{magnitudes:?}");
            }
        }
    }
}

#[test]
fn baseline_inputs_contribute_nothing() {
    let finding = vulnerability(LISTED, Some(CVSS_9_8), Severity::Critical);
    let intel = intel(true, &[(LISTED, 0.4)]);
    for asset in [
        None,
        Some(host(None, None)),
        Some(host(None, Some(Criticality::Medium))),
    ] {
        let risk = assess(&finding, asset.as_ref(), &intel);
        assert_eq!(contribution(&risk, "internet_exposure"), Some(0.0));
        assert_eq!(contribution(&risk, "asset_criticality"), Some(0.0));
    }
}

#[test]
fn lowering_inputs_contribute_negatively() {
    let finding = vulnerability(LISTED, Some(CVSS_9_8), Severity::Critical);
    let risk = assess(
        &finding,
        Some(&host(Some(false), Some(Criticality::Low))),
        &intel(true, &[]),
    );
    let exposure = contribution(&risk, "internet_exposure").unwrap();
    let criticality = contribution(&risk, "asset_criticality").unwrap();
    assert!(exposure < 0.0, "{exposure}");
    assert!(criticality < 0.0, "{criticality}");
}

/// The documented formula and its Shapley values, written out from the
/// crate docs. The Shapley values are averaged over all 720 orders of the
/// six inputs, an algorithm independent of the one in `assess`.
mod specification {
    use super::*;
    use ctem_model::Finding;

    pub const NAMES_WITH_VECTOR: [&str; 6] = [
        "kev",
        "epss",
        "cvss_exploitability",
        "cvss_impact",
        "internet_exposure",
        "asset_criticality",
    ];
    pub const NAMES_WITHOUT_VECTOR: [&str; 6] = [
        "kev",
        "epss",
        "finding_kind",
        "severity",
        "internet_exposure",
        "asset_criticality",
    ];

    fn severity_level(severity: Severity) -> f64 {
        match severity {
            Severity::Critical => SEVERITY_CRITICAL,
            Severity::High => SEVERITY_HIGH,
            Severity::Medium => SEVERITY_MEDIUM,
            Severity::Low => SEVERITY_LOW,
            Severity::Info => SEVERITY_INFO,
        }
    }

    fn kind_weight(kind: FindingKind) -> f64 {
        match kind {
            FindingKind::Secret => KIND_SECRET,
            FindingKind::WebWeakness => KIND_WEB_WEAKNESS,
            FindingKind::Misconfiguration => KIND_MISCONFIGURATION,
            FindingKind::CodeWeakness => KIND_CODE_WEAKNESS,
            FindingKind::Vulnerability => KIND_VULNERABILITY,
            FindingKind::ExposedService => KIND_EXPOSED_SERVICE,
            FindingKind::License => KIND_LICENSE,
        }
    }

    fn criticality_weight(criticality: Criticality) -> f64 {
        match criticality {
            Criticality::CrownJewel => CRITICALITY_CROWN_JEWEL,
            Criticality::High => CRITICALITY_HIGH,
            Criticality::Medium => CRITICALITY_MEDIUM,
            Criticality::Low => CRITICALITY_LOW,
        }
    }

    /// Computes the six inputs (kev, epss, base, technical, exposure,
    /// criticality) and their baselines.
    pub fn inputs(finding: &Finding, asset: Option<&Asset>, intel: &Intel) -> ([f64; 6], [f64; 6]) {
        let cve = finding.vulnerability_ids.first().and_then(|id| id.as_cve());
        let kev = match cve.and_then(|c| intel.kev(c)) {
            Some(entry) if entry.known_ransomware_use => KEV_RANSOMWARE,
            Some(_) => KEV_LISTED,
            None => 0.0,
        };
        // A CVE without score takes the prior; a finding without CVE has no EPSS input.
        let epss = match cve {
            Some(c) => intel.epss(c).map_or(EPSS_PRIOR.sqrt(), |r| r.score.epss.sqrt()),
            None => 0.0,
        };
        let (base, technical) = match finding.max_cvss() {
            Some(vector) => (CVSS_EXPLOITABILITY_WEIGHT * vector.exploitability(), vector.impact()),
            None => {
                let level = severity_level(finding.severity);
                let base =
                    kind_weight(finding.kind) * (1.0 - SEVERITY_LIKELIHOOD_SHARE + SEVERITY_LIKELIHOOD_SHARE * level);
                (base, level)
            }
        };
        let exposure = match asset.and_then(|a| a.internet_exposed) {
            Some(true) => EXPOSURE_INTERNET,
            Some(false) => EXPOSURE_INTERNAL,
            None => EXPOSURE_UNKNOWN,
        };
        let criticality = criticality_weight(asset.and_then(|a| a.criticality).unwrap_or(DEFAULT_CRITICALITY));
        let values = [kev, epss, base, technical, exposure, criticality];
        let baselines = [
            0.0,
            0.0,
            0.0,
            0.0,
            EXPOSURE_UNKNOWN,
            criticality_weight(DEFAULT_CRITICALITY),
        ];
        (values, baselines)
    }

    pub fn score(x: &[f64; 6]) -> f64 {
        let [kev, epss, base, technical, exposure, criticality] = *x;
        let evidence = 1.0 - (1.0 - kev) * (1.0 - epss) * (1.0 - base);
        let likelihood = exposure * evidence;
        let impact = criticality * (TECHNICAL_IMPACT_FLOOR + (1.0 - TECHNICAL_IMPACT_FLOOR) * technical);
        100.0 * (likelihood * impact).sqrt()
    }

    fn permutations(items: Vec<usize>) -> Vec<Vec<usize>> {
        if items.len() <= 1 {
            return vec![items];
        }
        let mut all = Vec::new();
        for (position, &first) in items.iter().enumerate() {
            let mut rest = items.clone();
            rest.remove(position);
            for mut tail in permutations(rest) {
                tail.insert(0, first);
                all.push(tail);
            }
        }
        all
    }

    /// Averages each input's marginal effect over every order of joining.
    pub fn shapley(values: &[f64; 6], baselines: &[f64; 6]) -> [f64; 6] {
        let orders = permutations((0..6).collect());
        let mut totals = [0.0; 6];
        for order in &orders {
            let mut current = *baselines;
            for &input in order {
                let before = score(&current);
                current[input] = values[input];
                totals[input] += score(&current) - before;
            }
        }
        totals.map(|total| total / orders.len() as f64)
    }
}

#[test]
fn contributions_are_shapley_values() {
    let mut checked = 0;
    for finding in all_findings() {
        for intel in intel_variants() {
            for asset in asset_contexts() {
                let risk = assess(&finding, asset.as_ref(), &intel);
                let (values, baselines) = specification::inputs(&finding, asset.as_ref(), &intel);
                assert!(
                    (specification::score(&values) - risk.score).abs() < 1e-9,
                    "documented formula"
                );

                let expected = specification::shapley(&values, &baselines);
                let names = match finding.max_cvss() {
                    Some(_) => specification::NAMES_WITH_VECTOR,
                    None => specification::NAMES_WITHOUT_VECTOR,
                };
                for (name, value) in names.iter().zip(expected) {
                    match contribution(&risk, name) {
                        Some(actual) => assert!((actual - value).abs() < 1e-9, "{name}: {actual} vs {value}"),
                        None => assert_eq!(value, 0.0, "{name} is not listed but moves the score"),
                    }
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 1000, "{checked} cases");
}

#[test]
fn secret_outranks_exposed_service() {
    let exposed = host(Some(true), None);
    let intel = intel(false, &[]);
    for severity in Severity::ALL {
        let secret = assess(&weakness(FindingKind::Secret, severity), Some(&exposed), &intel);
        let service = assess(&weakness(FindingKind::ExposedService, severity), Some(&exposed), &intel);
        assert!(
            secret.score > service.score,
            "{severity}: {} vs {}",
            secret.score,
            service.score
        );
    }
}

#[test]
fn missing_epss_scores_as_prior() {
    for finding in cve_findings(UNLISTED) {
        for asset in asset_contexts() {
            let missing = assess(&finding, asset.as_ref(), &intel(false, &[]));
            let prior = assess(&finding, asset.as_ref(), &intel(false, &[(UNLISTED, EPSS_PRIOR)]));
            assert!(
                (missing.score - prior.score).abs() < 1e-9,
                "{} vs {}",
                missing.score,
                prior.score
            );
            assert!(missing.likelihood > 0.0);
        }
    }
}

#[test]
fn exposed_service_alone_is_p4() {
    // An informational open port has no technical impact of note, so its
    // SSVC Human Impact is low and the deployer decision defers it. From
    // low severity on it is scheduled (P3), like any flaw on a medium asset.
    let exposed = host(Some(true), None);
    let risk = assess(
        &weakness(FindingKind::ExposedService, Severity::Info),
        Some(&exposed),
        &intel(false, &[]),
    );
    assert_eq!(risk.tier, Tier::P4, "{}", risk.score);
}

#[test]
fn assessment_is_deterministic() {
    let finding = vulnerability(LISTED_RANSOMWARE, Some(CVSS_10), Severity::Critical);
    let asset = host(Some(true), Some(Criticality::High));
    let intel = intel(true, &[(LISTED_RANSOMWARE, 0.9)]);
    assert_eq!(
        assess(&finding, Some(&asset), &intel),
        assess(&finding, Some(&asset), &intel)
    );
}
