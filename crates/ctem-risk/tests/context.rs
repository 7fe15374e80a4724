//! How the context of a finding (attack graph facts, compensating
//! controls, data classification, deadline table) moves its score, tier
//! and deadline, with hand-computed values.

mod common;

use common::*;
use ctem_model::{Asset, AssetKind, Criticality, Deadline, Decision, FindingKind, RiskAssessment, Severity, Tier};
use ctem_risk::{BodCriteria, Context, Controls, DataClassification, EPSS_PRIOR, GraphFacts, assess, assess_with};

/// The evidence of a CVE without score under CVSS 9.8: the EPSS prior and
/// the full CVSS exploitability (0.3), combined as independent chances.
fn prior_and_cvss_evidence() -> f64 {
    1.0 - (1.0 - EPSS_PRIOR.sqrt()) * (1.0 - 0.3)
}

fn web_app(internet_exposed: Option<bool>, criticality: Option<Criticality>) -> Asset {
    let mut asset = Asset::new(AssetKind::WebApp, "https://shop.example", "shop");
    asset.internet_exposed = internet_exposed;
    asset.criticality = criticality;
    asset
}

fn with_controls(controls: Controls) -> Context {
    Context {
        controls,
        ..Context::default()
    }
}

fn factor_names(risk: &RiskAssessment) -> Vec<&str> {
    risk.factors.iter().map(|f| f.name.as_str()).collect()
}

fn assert_adds_up(risk: &RiskAssessment) {
    let total: f64 = risk.factors.iter().map(|f| f.contribution).sum();
    assert!((total - risk.score).abs() < 1e-9, "sum {total} vs score {}", risk.score);
}

#[test]
fn empty_context_equals_assess() {
    let finding = vulnerability("CVE-2025-48384", Some(CVSS_9_8), Severity::Critical);
    let asset = host(Some(true), Some(Criticality::High));
    let intel = intel(true, &[]);
    assert_eq!(
        assess(&finding, Some(&asset), &intel),
        assess_with(&finding, Some(&asset), &intel, &Context::default())
    );
}

#[test]
fn path_raises_internal_score() {
    let finding = vulnerability("CVE-2024-0001", Some(CVSS_9_8), Severity::Critical);
    let asset = host(Some(false), None);
    let intel = intel(false, &[]);
    let evidence = prior_and_cvss_evidence();

    let alone = assess(&finding, Some(&asset), &intel);
    // Internal (0.5), medium criticality (0.6), full technical impact.
    let expected = 100.0 * (0.5 * evidence * 0.6f64).sqrt();
    assert!((alone.score - expected).abs() < 1e-9, "{} vs {expected}", alone.score);
    assert_eq!(alone.tier, Tier::P3);

    let context = Context {
        graph: GraphFacts {
            paths_to_crown_jewels: 2,
            crown_jewels: vec!["payments-db".to_string()],
            best_path_probability: Some(0.6),
            ..GraphFacts::default()
        },
        ..Context::default()
    };
    let on_path = assess_with(&finding, Some(&asset), &intel, &context);
    // Reach 0.5 + 0.5 * 0.6 = 0.8; a path to a crown jewel weighs like a
    // high-criticality asset (0.8).
    let expected = 100.0 * (0.8 * evidence * 0.8f64).sqrt();
    assert!(
        (on_path.score - expected).abs() < 1e-9,
        "{} vs {expected}",
        on_path.score
    );
    assert!((on_path.score - 47.39).abs() < 0.01, "{}", on_path.score);
    assert!(factor_names(&on_path).contains(&"attack_path"));
    assert_adds_up(&on_path);
}

#[test]
fn choke_point_weighs_like_crown_jewel() {
    let finding = vulnerability("CVE-2024-0001", Some(CVSS_9_8), Severity::Critical);
    let asset = host(Some(true), Some(Criticality::Medium));
    let intel = intel(false, &[]);
    let context = Context {
        graph: GraphFacts {
            paths_to_crown_jewels: 1,
            crown_jewels: vec!["payments-db".to_string()],
            best_path_probability: Some(0.9),
            choke_point: true,
            ..GraphFacts::default()
        },
        ..Context::default()
    };
    let risk = assess_with(&finding, Some(&asset), &intel, &context);
    assert!((risk.impact - 1.0).abs() < 1e-9, "{}", risk.impact);
    // None, open, automatable, very high: out-of-cycle.
    assert_eq!(risk.decision, Some(Decision::OutOfCycle));
    assert_eq!(risk.tier, Tier::P2);
    assert_adds_up(&risk);
}

#[test]
fn classification_and_blast_radius_raise_impact() {
    let finding = vulnerability("CVE-2024-0001", Some(CVSS_9_8), Severity::Critical);
    let asset = host(Some(false), Some(Criticality::Low));
    let intel = intel(false, &[]);

    let restricted = Context {
        data_classification: Some(DataClassification::Restricted),
        ..Context::default()
    };
    let risk = assess_with(&finding, Some(&asset), &intel, &restricted);
    assert!((risk.impact - 1.0).abs() < 1e-9, "{}", risk.impact);

    let blast = Context {
        graph: GraphFacts {
            blast_radius_crown_jewels: 1,
            blast_radius_assets: 50,
            ..GraphFacts::default()
        },
        ..Context::default()
    };
    let risk = assess_with(&finding, Some(&asset), &intel, &blast);
    // max(0.35, 0.8) = 0.8, then 0.8 + 0.2 * 0.2 * (1 - 1/e).
    let expected = 0.8 + 0.2 * 0.2 * (1.0 - (-1.0f64).exp());
    assert!((risk.impact - expected).abs() < 1e-9, "{} vs {expected}", risk.impact);
    assert_adds_up(&risk);
}

#[test]
fn controls_lower_only_what_they_address() {
    let finding = vulnerability("CVE-2024-0001", Some(CVSS_9_8), Severity::Critical);
    let exposed_app = web_app(Some(true), None);
    let intel = intel(false, &[]);
    let plain = assess(&finding, Some(&exposed_app), &intel);

    // EDR protects hosts, MFA credentials, segmentation internal assets:
    // none of them addresses an exploit of an internet-exposed web app.
    let unrelated = Controls {
        waf: 1.0,
        segmentation: 0.2,
        edr: 0.2,
        mfa: 0.2,
    };
    let risk = assess_with(&finding, Some(&exposed_app), &intel, &with_controls(unrelated));
    assert_eq!(risk.score, plain.score);

    let waf = Controls {
        waf: 0.5,
        ..Controls::default()
    };
    let risk = assess_with(&finding, Some(&exposed_app), &intel, &with_controls(waf));
    assert!((risk.likelihood - plain.likelihood * 0.5).abs() < 1e-12);
    assert_eq!(risk.impact, plain.impact);
    assert!(factor_names(&risk).contains(&"compensating_controls"));
    assert_adds_up(&risk);

    let secret = weakness(FindingKind::Secret, Severity::High);
    let mfa = Controls {
        mfa: 0.4,
        ..Controls::default()
    };
    let plain = assess(&secret, Some(&exposed_app), &intel);
    let risk = assess_with(&secret, Some(&exposed_app), &intel, &with_controls(mfa));
    assert!((risk.likelihood - plain.likelihood * 0.4).abs() < 1e-12);
}

#[test]
fn kev_floor_holds_under_controls() {
    // CVE-2025-48384 is in KEV. A local vector is not automatable.
    let finding = vulnerability("CVE-2025-48384", Some(CVSS_7_8_LOCAL), Severity::High);
    let asset = web_app(Some(true), Some(Criticality::Medium));
    let intel = intel(true, &[]);

    let plain = assess(&finding, Some(&asset), &intel);
    // Active, open, not automatable, medium: out-of-cycle.
    assert_eq!(plain.decision, Some(Decision::OutOfCycle));

    let waf = Controls {
        waf: 0.3,
        ..Controls::default()
    };
    let risk = assess_with(&finding, Some(&asset), &intel, &with_controls(waf));
    // The WAF lowers the exposure to controlled, where the table says
    // scheduled; an exploited finding stays out-of-cycle.
    assert_eq!(risk.decision, Some(Decision::OutOfCycle));
    assert_eq!(risk.tier, Tier::P2);
    assert!((risk.likelihood - plain.likelihood * 0.3).abs() < 1e-12);

    // Without a KEV listing the same control moves nothing here: none,
    // open, not automatable, medium is scheduled either way.
    let unlisted = vulnerability("CVE-2024-0001", Some(CVSS_7_8_LOCAL), Severity::High);
    let risk = assess_with(&unlisted, Some(&asset), &intel, &with_controls(waf));
    assert_eq!(risk.decision, Some(Decision::Scheduled));
}

#[test]
fn kev_floor_never_raises() {
    // Active, small, not automatable, low is scheduled with or without
    // segmentation; the floor must not lift it to out-of-cycle.
    let finding = vulnerability("CVE-2025-48384", Some(CVSS_7_8_LOCAL), Severity::High);
    let asset = host(Some(false), Some(Criticality::Low));
    let intel = intel(true, &[]);
    let segmentation = Controls {
        segmentation: 0.2,
        ..Controls::default()
    };
    let risk = assess_with(&finding, Some(&asset), &intel, &with_controls(segmentation));
    assert_eq!(risk.decision, Some(Decision::Scheduled));
    assert_eq!(risk.tier, Tier::P3);
}

#[test]
fn bod_cells_follow_criteria() {
    let intel = intel(true, &[]);
    let cases = [
        // KEV, public, automatable (AV:N/AC:L/PR:N/UI:N), total (C:H/I:H).
        ("CVE-2025-48384", CVSS_9_8, Some(true), Deadline::ThreeDaysForensic),
        // KEV, public, automatable, partial (I:N).
        ("CVE-2025-48384", CVSS_7_5, Some(true), Deadline::ThreeDays),
        // KEV, internal, not automatable (AV:L), total.
        ("CVE-2025-48384", CVSS_7_8_LOCAL, Some(false), Deadline::FourteenDays),
        // Not in KEV, public, automatable, total.
        ("CVE-2024-0001", CVSS_9_8, Some(true), Deadline::ThreeDays),
        // Not in KEV, unknown exposure (not public), not automatable, total.
        ("CVE-2024-0001", CVSS_7_8_LOCAL, None, Deadline::NextUpgrade),
    ];
    for (cve, vector, exposed, deadline) in cases {
        let finding = vulnerability(cve, Some(vector), Severity::High);
        let risk = assess(&finding, Some(&host(exposed, None)), &intel);
        assert_eq!(risk.deadline, Some(deadline), "{cve} {vector} {exposed:?}");
    }
}

#[test]
fn deadline_cells_are_configurable() {
    let finding = vulnerability("CVE-2024-0001", Some(CVSS_7_8_LOCAL), Severity::High);
    let asset = host(None, None);
    let intel = intel(false, &[]);
    let mut context = Context::default();
    context.deadlines.set(
        BodCriteria {
            total: true,
            ..BodCriteria::default()
        },
        Deadline::SixtyDays,
    );
    let risk = assess_with(&finding, Some(&asset), &intel, &context);
    assert_eq!(risk.deadline, Some(Deadline::SixtyDays));
}

#[test]
fn suppressed_finding_has_no_deadline() {
    let finding = with_status(
        vulnerability("CVE-2025-48384", Some(CVSS_9_8), Severity::Critical),
        ctem_model::SourceStatus::NotAffected,
    );
    let risk = assess(&finding, Some(&host(Some(true), None)), &intel(true, &[]));
    assert_eq!(risk.tier, Tier::P4);
    assert_eq!(risk.deadline, None);
    assert_eq!(risk.decision, Some(Decision::Defer));
}

#[test]
fn expected_loss_is_likelihood_times_impact() {
    let finding = vulnerability("CVE-2025-48384", Some(CVSS_7_5), Severity::High);
    let asset = host(Some(true), Some(Criticality::CrownJewel));
    let risk = assess(&finding, Some(&asset), &intel(true, &[]));
    // Evidence 1 - 0.1 * (1 - sqrt(0.0053)) * 0.7, impact 0.5 + 0.5 * 0.56 / 0.9148.
    let likelihood = 1.0 - 0.1 * (1.0 - EPSS_PRIOR.sqrt()) * 0.7;
    let impact = 0.5 + 0.5 * 0.56 / 0.9148;
    assert!((risk.expected_loss() - likelihood * impact).abs() < 1e-6);
    assert!((risk.score - 100.0 * risk.expected_loss().sqrt()).abs() < 1e-9);
}

#[test]
fn hostile_context_stays_in_range() {
    let finding = vulnerability("CVE-2025-48384", Some(CVSS_9_8), Severity::Critical);
    let asset = host(Some(false), None);
    let intel = intel(true, &[]);
    let hostile = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -1.0, 2.0, 0.0];
    for value in hostile {
        let context = Context {
            graph: GraphFacts {
                paths_to_crown_jewels: usize::MAX,
                crown_jewels: vec![String::new()],
                best_path_probability: Some(value),
                choke_point: true,
                blast_radius_crown_jewels: usize::MAX,
                blast_radius_assets: usize::MAX,
            },
            controls: Controls {
                waf: value,
                segmentation: value,
                edr: value,
                mfa: value,
            },
            data_classification: Some(DataClassification::Public),
            ..Context::default()
        };
        let risk = assess_with(&finding, Some(&asset), &intel, &context);
        assert!((0.0..=100.0).contains(&risk.score), "{value}: {}", risk.score);
        assert!((0.0..=1.0).contains(&risk.likelihood), "{value}: {}", risk.likelihood);
        assert!((0.0..=1.0).contains(&risk.impact), "{value}: {}", risk.impact);
        assert!(risk.factors.iter().all(|f| f.contribution.is_finite()), "{value}");
        assert!(
            risk.factors.iter().all(|f| f.weight.is_none_or(f64::is_finite)),
            "{value}: {:?}",
            risk.factors
        );
        assert_adds_up(&risk);
    }
}

#[test]
fn explanation_names_context() {
    let finding = vulnerability("CVE-2025-48384", Some(CVSS_9_8), Severity::Critical);
    let asset = host(Some(true), None);
    let intel = intel(true, &[("CVE-2025-48384", 0.94)]);
    let context = Context {
        graph: GraphFacts {
            paths_to_crown_jewels: 2,
            crown_jewels: vec!["payments-db".to_string()],
            best_path_probability: Some(0.5),
            ..GraphFacts::default()
        },
        ..Context::default()
    };
    let risk = assess_with(&finding, Some(&asset), &intel, &context);
    assert_eq!(
        ctem_risk::explain(&risk),
        "KEV since 2025-08-25, EPSS 0.94, internet-facing, 2 paths to payments-db, CVSS 9.8"
    );
}
