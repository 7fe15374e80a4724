//! The trace of an assessment: factor names, values and sources, the
//! documented examples, and suppressed findings.

mod common;

use common::*;
use ctem_intel::{EpssScores, Intel};
use ctem_model::{Criticality, Factor, FindingKind, RiskAssessment, Severity, SourceStatus, Tier, VulnerabilityId};
use ctem_risk::{EPSS_PRIOR, assess};

fn factor<'a>(risk: &'a RiskAssessment, name: &str) -> &'a Factor {
    risk.factors
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no factor {name} in {:#?}", risk.factors))
}

fn names(risk: &RiskAssessment) -> Vec<&str> {
    risk.factors.iter().map(|f| f.name.as_str()).collect()
}

/// Renders the short reason of a report row from the factors.
fn reason_row(risk: &RiskAssessment) -> String {
    let mut parts = Vec::new();
    for factor in &risk.factors {
        match factor.name.as_str() {
            "kev" => parts.push(format!("KEV {}", factor.value)),
            "epss" => parts.push(format!("EPSS {}", factor.value)),
            "internet_exposure" | "asset_criticality" if factor.source != "default" => {
                parts.push(factor.value.to_string())
            }
            _ => {}
        }
    }
    parts.join("; ")
}

#[test]
fn trace_renders_reason_row() {
    let finding = vulnerability("CVE-2021-44228", Some(CVSS_10), Severity::Critical);
    let asset = host(Some(true), Some(Criticality::CrownJewel));
    let intel = intel(true, &[("CVE-2021-44228", 0.94)]);
    let risk = assess(&finding, Some(&asset), &intel);
    assert_eq!(
        reason_row(&risk),
        "EPSS 0.94; KEV listed 2021-12-10, known ransomware use; crown jewel; internet-exposed"
    );
}

#[test]
fn cvss_factor_sources() {
    let finding = vulnerability("CVE-2025-48384", Some(CVSS_7_5), Severity::High);
    let asset = host(Some(true), Some(Criticality::High));
    let risk = assess(&finding, Some(&asset), &intel(true, &[("CVE-2025-48384", 0.3)]));

    let kev = factor(&risk, "kev");
    assert_eq!(kev.value, "listed 2025-08-25");
    assert_eq!(kev.source, "CISA KEV 2025.08.25");

    let epss = factor(&risk, "epss");
    assert_eq!(epss.value, "0.3");
    assert_eq!(epss.source, "FIRST EPSS 2025-03-14");

    let exploitability = factor(&risk, "cvss_exploitability");
    assert_eq!(exploitability.value, "1.00 (base score 7.5)");
    assert_eq!(exploitability.source, "CVSS v3.1 vector from trivy");

    let impact = factor(&risk, "cvss_impact");
    assert_eq!(impact.value, "0.61 (base score 7.5)");
    assert_eq!(impact.source, "CVSS v3.1 vector from trivy");

    let exposure = factor(&risk, "internet_exposure");
    assert_eq!(exposure.value, "internet-exposed");
    assert_eq!(exposure.source, "asset attribute");

    let criticality = factor(&risk, "asset_criticality");
    assert_eq!(criticality.value, "high");
    assert_eq!(criticality.source, "configuration");
}

#[test]
fn other_cvss_versions_named() {
    let cases = [
        (CVSS_V4_9_3, "CVSS v4.0 vector from trivy"),
        (CVSS_V2_10, "CVSS v2.0 vector from trivy"),
    ];
    for (vector, source) in cases {
        let finding = vulnerability("CVE-2024-0001", Some(vector), Severity::Critical);
        let risk = assess(&finding, None, &intel(false, &[]));
        assert_eq!(factor(&risk, "cvss_exploitability").source, source);
    }
}

#[test]
fn highest_vector_is_used() {
    let mut finding = vulnerability("CVE-2024-0001", Some(CVSS_1_8), Severity::Critical);
    finding.add_cvss(CVSS_9_8.parse().unwrap());
    let risk = assess(&finding, None, &intel(false, &[]));
    assert_eq!(factor(&risk, "cvss_impact").value, "1.00 (base score 9.8)");
}

#[test]
fn defaults_are_named() {
    let finding = vulnerability("CVE-2024-0001", Some(CVSS_9_8), Severity::Critical);
    let risk = assess(&finding, None, &intel(false, &[]));
    let exposure = factor(&risk, "internet_exposure");
    assert_eq!(exposure.value, "unknown");
    assert_eq!(exposure.source, "default");
    let criticality = factor(&risk, "asset_criticality");
    assert_eq!(criticality.value, "unknown, default medium");
    assert_eq!(criticality.source, "default");
}

#[test]
fn absent_intel_is_not_listed() {
    let finding = vulnerability("CVE-2024-0001", Some(CVSS_9_8), Severity::Critical);
    let risk = assess(&finding, None, &intel(true, &[("CVE-2021-44228", 0.9)]));
    assert!(!names(&risk).contains(&"kev"), "{:?}", names(&risk));
    // A CVE without EPSS score takes the prior, named as such.
    let epss = factor(&risk, "epss");
    assert_eq!(epss.value, "no score, prior 0.0053");
    assert_eq!(epss.weight, Some(EPSS_PRIOR));
}

#[test]
fn finding_without_cve_has_no_epss() {
    let finding = weakness(FindingKind::Misconfiguration, Severity::High);
    let risk = assess(&finding, None, &intel(true, &[("CVE-2021-44228", 0.9)]));
    assert!(!names(&risk).contains(&"epss"), "{:?}", names(&risk));
}

#[test]
fn finding_without_vector_uses_kind() {
    let mut finding = weakness(FindingKind::Secret, Severity::High);
    finding.tool = "gitleaks".to_string();
    let risk = assess(&finding, Some(&host(Some(true), None)), &intel(false, &[]));
    let kind = factor(&risk, "finding_kind");
    assert_eq!(kind.value, "secret, severity high");
    assert_eq!(kind.source, "gitleaks report");
    let severity = factor(&risk, "severity");
    assert_eq!(severity.value, "high");
    assert_eq!(names(&risk)[0], "finding_kind");
}

#[test]
fn several_cves_take_strongest() {
    let mut finding = vulnerability("CVE-2025-48384", Some(CVSS_9_8), Severity::Critical);
    finding.add_vulnerability_id("CVE-2023-4966".parse::<VulnerabilityId>().unwrap());
    finding.add_vulnerability_id("CVE-2024-0001".parse::<VulnerabilityId>().unwrap());
    let intel = intel(true, &[("CVE-2025-48384", 0.2), ("CVE-2024-0001", 0.7)]);
    let risk = assess(&finding, None, &intel);
    // Citrix Bleed has known ransomware use; CVE-2025-48384 does not.
    assert_eq!(
        factor(&risk, "kev").value,
        "listed 2023-10-18, known ransomware use (CVE-2023-4966)"
    );
    assert_eq!(factor(&risk, "epss").value, "0.7 (CVE-2024-0001)");
}

#[test]
fn undated_epss_names_file() {
    let mut intel = Intel::default();
    let rows = "CVE-2024-0001,0.25,0.9\n";
    intel.add_epss(EpssScores::from_reader("feeds/extract.csv", rows.as_bytes()).unwrap());
    let finding = vulnerability("CVE-2024-0001", None, Severity::High);
    let risk = assess(&finding, None, &intel);
    assert_eq!(
        factor(&risk, "epss").source,
        "FIRST EPSS, undated file feeds/extract.csv"
    );
}

#[test]
fn documented_examples_hold() {
    let kev_and_epss = intel(true, &[("CVE-2024-0001", 0.0005)]);
    let no_intel = intel(false, &[]);
    let crown_jewel = Some(Criticality::CrownJewel);
    let cases = [
        (
            vulnerability("CVE-2025-48384", Some(CVSS_7_5), Severity::High),
            host(Some(true), crown_jewel),
            &kev_and_epss,
            86.8,
            Tier::P1,
        ),
        (
            vulnerability("CVE-2025-48384", Some(CVSS_7_5), Severity::High),
            host(Some(true), None),
            &kev_and_epss,
            67.2,
            Tier::P2,
        ),
        (
            vulnerability("CVE-2025-48384", Some(CVSS_7_5), Severity::High),
            host(Some(false), Some(Criticality::Medium)),
            &kev_and_epss,
            47.6,
            Tier::P2,
        ),
        (
            vulnerability("CVE-2024-9999", Some(CVSS_9_8), Severity::Critical),
            host(Some(true), crown_jewel),
            &no_intel,
            59.2,
            Tier::P2,
        ),
        (
            vulnerability("CVE-2024-9999", Some(CVSS_9_8), Severity::Critical),
            host(None, None),
            &no_intel,
            38.4,
            Tier::P3,
        ),
        (
            vulnerability("CVE-2024-0001", Some(CVSS_9_8), Severity::Critical),
            host(Some(false), Some(Criticality::Low)),
            &kev_and_epss,
            23.5,
            Tier::P4,
        ),
        (
            weakness(FindingKind::Secret, Severity::High),
            host(Some(true), None),
            &no_intel,
            66.1,
            Tier::P3,
        ),
        (
            weakness(FindingKind::ExposedService, Severity::Info),
            host(Some(true), None),
            &no_intel,
            18.2,
            Tier::P4,
        ),
    ];
    for (finding, asset, intel, score, tier) in cases {
        let risk = assess(&finding, Some(&asset), intel);
        let case = format!(
            "{} {:?} on {:?}/{:?}",
            finding.rule_id, finding.kind, asset.internet_exposed, asset.criticality
        );
        assert!(
            (risk.score - score).abs() < 0.05,
            "{case}: {} documented as {score}",
            risk.score
        );
        assert_eq!(risk.tier, tier, "{case}");
    }
}

#[test]
fn suppressed_findings_are_p4() {
    let finding = vulnerability("CVE-2021-44228", Some(CVSS_10), Severity::Critical);
    let asset = host(Some(true), Some(Criticality::CrownJewel));
    let intel = intel(true, &[("CVE-2021-44228", 0.94)]);
    let unsuppressed = assess(&finding, Some(&asset), &intel);
    let cases = [
        (SourceStatus::NotAffected, "not affected"),
        (SourceStatus::Fixed, "fixed"),
        (SourceStatus::FalsePositive, "false positive"),
        (SourceStatus::Suppressed, "suppressed"),
    ];
    for (status, words) in cases {
        let risk = assess(&with_status(finding.clone(), status), Some(&asset), &intel);
        assert_eq!(risk.tier, Tier::P4, "{status:?}");
        assert_eq!(risk.score, 0.0, "{status:?}");
        assert_eq!(risk.likelihood, 0.0, "{status:?}");

        let reason = factor(&risk, "source_status");
        assert_eq!(reason.value, words);
        assert_eq!(reason.source, "trivy report");
        assert_eq!(reason.contribution, -unsuppressed.score, "{status:?}");
        assert_eq!(risk.factors[0].name, "source_status", "{status:?}");

        assert_eq!(
            factor(&risk, "kev").value,
            "listed 2021-12-10, known ransomware use",
            "{status:?}"
        );
        let total: f64 = risk.factors.iter().map(|f| f.contribution).sum();
        assert!(total.abs() < 1e-9, "{status:?}: contributions add up to {total}");
    }
}

#[test]
fn suppressed_internal_finding_is_p4() {
    // Internal exposure and low criticality contribute negative points, so
    // the status factor need not sort first; the tier is P4 all the same.
    let finding = with_status(
        vulnerability("CVE-2025-48384", Some(CVSS_9_8), Severity::Critical),
        SourceStatus::Suppressed,
    );
    let risk = assess(
        &finding,
        Some(&host(Some(false), Some(Criticality::Low))),
        &intel(true, &[]),
    );
    assert_eq!(risk.tier, Tier::P4);
    assert_eq!(risk.score, 0.0);
    assert!(factor(&risk, "source_status").contribution < 0.0);
}

#[test]
fn open_statuses_keep_score() {
    let finding = vulnerability("CVE-2025-48384", Some(CVSS_9_8), Severity::Critical);
    let intel = intel(true, &[]);
    let plain = assess(&finding, None, &intel);
    for status in [
        SourceStatus::Affected,
        SourceStatus::UnderInvestigation,
        SourceStatus::WillNotFix,
    ] {
        let risk = assess(&with_status(finding.clone(), status), None, &intel);
        assert_eq!(risk, plain, "{status:?}");
    }
}

#[test]
fn vex_status_names_document() {
    let mut finding = with_status(
        vulnerability("CVE-2021-44228", Some(CVSS_10), Severity::Critical),
        SourceStatus::NotAffected,
    );
    let document = "vex/storefront.openvex.json (https://vex.shop.example/docs/storefront-7)";
    finding
        .attributes
        .insert("vex_source".to_string(), document.to_string());
    let risk = assess(&finding, None, &intel(true, &[]));

    let reason = factor(&risk, "source_status");
    assert_eq!(reason.value, "not affected");
    assert_eq!(reason.source, format!("VEX {document}"));
    assert_eq!(risk.tier, Tier::P4);
    let from_vex: Vec<&str> = risk
        .factors
        .iter()
        .filter(|f| f.source.starts_with("VEX"))
        .map(|f| f.name.as_str())
        .collect();
    assert_eq!(from_vex, ["source_status"], "only the status came from VEX");
}

#[test]
fn epss_maximum_keeps_file_date_as_source() {
    // The score fell from 0.5 to 0.1 within the window, so the factor
    // weighs the maximum and dates it, while the source names the latest file.
    let header =
        |day: &str| format!("#model_version:v2025.03.14,score_date:{day}T00:00:00+0000\ncve,epss,percentile\n");
    let older = format!("{}CVE-2024-0001,0.5,0.9\n", header("2025-03-01"));
    let newer = format!("{}CVE-2024-0001,0.1,0.5\n", header("2025-03-14"));
    let mut intel = Intel::default();
    intel.add_epss(EpssScores::from_reader("epss-0301.csv", older.as_bytes()).unwrap());
    intel.add_epss(EpssScores::from_reader("epss-0314.csv", newer.as_bytes()).unwrap());
    let finding = vulnerability("CVE-2024-0001", None, Severity::High);

    let epss = factor(&assess(&finding, None, &intel), "epss").clone();
    assert_eq!(epss.value, "0.1, 30-day maximum 0.5");
    assert_eq!(epss.source, "FIRST EPSS 2025-03-14");
    assert_eq!(epss.date.as_deref(), Some("2025-03-01"));
    assert_eq!(epss.weight, Some(0.5));
}

#[test]
fn epss_latest_score_dates_factor() {
    let rows =
        "#model_version:v2025.03.14,score_date:2025-03-14T00:00:00+0000\ncve,epss,percentile\nCVE-2024-0001,0.25,0.9\n";
    let mut intel = Intel::default();
    intel.add_epss(EpssScores::from_reader("epss.csv", rows.as_bytes()).unwrap());
    let finding = vulnerability("CVE-2024-0001", None, Severity::High);

    let epss = factor(&assess(&finding, None, &intel), "epss").clone();
    assert_eq!(epss.value, "0.25");
    assert_eq!(epss.source, "FIRST EPSS 2025-03-14");
    assert_eq!(epss.date.as_deref(), Some("2025-03-14"));
}
