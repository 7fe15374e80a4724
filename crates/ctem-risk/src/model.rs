//! The constants and the formula of the risk model (see the crate docs for
//! the reasons behind each value).

use ctem_intel::ExploitSignal;
use ctem_model::{Criticality, FindingKind, Severity, Tier};

/// Evidence of exploitation when a CVE of the finding is in CISA KEV.
pub const KEV_LISTED: f64 = 0.9;
/// Evidence of exploitation when the KEV entry also notes known ransomware use.
pub const KEV_RANSOMWARE: f64 = 0.95;

/// Evidence of exploitation when CISA's SSVC assessment of the CVE rates
/// exploitation as active: seen in the wild, like a KEV listing.
pub const EXPLOIT_SSVC_ACTIVE: f64 = 0.9;
/// Evidence of exploitation from a Metasploit module: a weaponized exploit
/// that anyone can run.
pub const EXPLOIT_METASPLOIT: f64 = 0.8;
/// Evidence of exploitation from an Exploit-DB entry that its team verified.
pub const EXPLOIT_DB_VERIFIED: f64 = 0.7;
/// Evidence of exploitation from an unverified Exploit-DB entry.
pub const EXPLOIT_DB: f64 = 0.55;
/// Evidence of exploitation when SSVC rates exploitation as a public proof of concept.
pub const EXPLOIT_SSVC_POC: f64 = 0.5;
/// Evidence of exploitation from a Nuclei template or a Metasploit
/// auxiliary module: the flaw can be found by mass scanning, which
/// attackers run too.
pub const EXPLOIT_DETECTION: f64 = 0.4;
/// Evidence of exploitation from a reference that NVD or a CVE record tags as an exploit.
pub const EXPLOIT_REFERENCE: f64 = 0.4;
/// Weight of the CVSS exploitability sub-score (0..=1) in the base evidence.
pub const CVSS_EXPLOITABILITY_WEIGHT: f64 = 0.3;

/// Base evidence weight of a secret without CVSS vector: whoever finds it can use it.
pub const KIND_SECRET: f64 = 0.9;
/// Base evidence weight of a web weakness, observed on a running application.
pub const KIND_WEB_WEAKNESS: f64 = 0.6;
/// Base evidence weight of a misconfiguration, which may not be reachable.
pub const KIND_MISCONFIGURATION: f64 = 0.45;
/// Base evidence weight of a code weakness, which may not be reachable at run time.
pub const KIND_CODE_WEAKNESS: f64 = 0.35;
/// Base evidence weight of a vulnerability without CVSS vector. It equals
/// [`CVSS_EXPLOITABILITY_WEIGHT`], so that a critical vulnerability without
/// vector weighs as much as one with the easiest vector.
pub const KIND_VULNERABILITY: f64 = CVSS_EXPLOITABILITY_WEIGHT;
/// Base evidence weight of a reachable service, which alone is only an entry point.
pub const KIND_EXPOSED_SERVICE: f64 = 0.2;
/// Base evidence weight of a license finding, which is no security risk.
pub const KIND_LICENSE: f64 = 0.0;

/// Share of the kind weight that the severity scales; the rest is kept
/// whatever the severity.
pub const SEVERITY_LIKELIHOOD_SHARE: f64 = 0.5;

/// Level of a critical severity on 0..=1, used where a finding has no CVSS vector.
pub const SEVERITY_CRITICAL: f64 = 1.0;
/// Level of a high severity.
pub const SEVERITY_HIGH: f64 = 0.8;
/// Level of a medium severity.
pub const SEVERITY_MEDIUM: f64 = 0.5;
/// Level of a low severity.
pub const SEVERITY_LOW: f64 = 0.25;
/// Level of an informational finding: small but not zero, since an open
/// port reported as info is still an entry point.
pub const SEVERITY_INFO: f64 = 0.05;

/// Likelihood multiplier of an internet-exposed asset.
pub const EXPOSURE_INTERNET: f64 = 1.0;
/// Likelihood multiplier of an asset whose exposure is unknown.
pub const EXPOSURE_UNKNOWN: f64 = 0.7;
/// Likelihood multiplier of an asset that is not internet-exposed.
pub const EXPOSURE_INTERNAL: f64 = 0.5;

/// Impact multiplier of a crown jewel.
pub const CRITICALITY_CROWN_JEWEL: f64 = 1.0;
/// Impact multiplier of a high-criticality asset.
pub const CRITICALITY_HIGH: f64 = 0.8;
/// Impact multiplier of a medium-criticality asset, and of an unclassified one.
pub const CRITICALITY_MEDIUM: f64 = 0.6;
/// Impact multiplier of a low-criticality asset.
pub const CRITICALITY_LOW: f64 = 0.35;
/// The criticality assumed for an asset that the configuration does not classify.
pub const DEFAULT_CRITICALITY: Criticality = Criticality::Medium;

/// Share of the impact that remains when the weakness itself has no
/// technical impact.
pub const TECHNICAL_IMPACT_FLOOR: f64 = 0.5;

/// Minimum score of tier `P1`.
pub const P1_MIN_SCORE: f64 = 65.0;
/// Minimum score of tier `P2`.
pub const P2_MIN_SCORE: f64 = 45.0;
/// Minimum score of tier `P3`. Lower scores are `P4`.
pub const P3_MIN_SCORE: f64 = 30.0;

/// The inputs of the formula, each on 0..=1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Inputs {
    /// The KEV evidence: [`KEV_LISTED`], [`KEV_RANSOMWARE`] or 0.
    pub kev: f64,
    /// The square root of the EPSS probability, or 0 without a score.
    pub epss: f64,
    /// The strongest exploit evidence (`EXPLOIT_*`), or 0 without any.
    pub exploit: f64,
    /// The CVSS exploitability or the kind and severity evidence.
    pub base: f64,
    pub exposure: f64,
    pub criticality: f64,
    /// The CVSS impact sub-score or the severity level.
    pub technical: f64,
}

/// The result of the formula.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Outcome {
    pub score: f64,
    pub likelihood: f64,
    pub impact: f64,
}

/// Maps a kind of exploit evidence to its weight.
pub(crate) fn exploit_evidence(signal: ExploitSignal) -> f64 {
    match signal {
        ExploitSignal::SsvcActive => EXPLOIT_SSVC_ACTIVE,
        ExploitSignal::MetasploitModule => EXPLOIT_METASPLOIT,
        ExploitSignal::ExploitDbVerified => EXPLOIT_DB_VERIFIED,
        ExploitSignal::ExploitDb => EXPLOIT_DB,
        ExploitSignal::SsvcPoc => EXPLOIT_SSVC_POC,
        ExploitSignal::DetectionTemplate => EXPLOIT_DETECTION,
        ExploitSignal::ExploitReference => EXPLOIT_REFERENCE,
    }
}

/// Computes score, likelihood and impact. Inputs outside 0..=1 are
/// clamped and NaN counts as 0, so the score stays within 0..=100.
pub(crate) fn evaluate(inputs: &Inputs) -> Outcome {
    let kev = unit(inputs.kev);
    let epss = unit(inputs.epss);
    let exploit = unit(inputs.exploit);
    let base = unit(inputs.base);

    // Independent pieces of evidence combine like independent chances
    // ("noisy OR"): any one of them can make exploitation likely.
    let evidence = 1.0 - (1.0 - kev) * (1.0 - epss) * (1.0 - exploit) * (1.0 - base);
    let likelihood = unit(inputs.exposure) * evidence;

    let technical = TECHNICAL_IMPACT_FLOOR + (1.0 - TECHNICAL_IMPACT_FLOOR) * unit(inputs.technical);
    let impact = unit(inputs.criticality) * technical;

    let score = (100.0 * (likelihood * impact).sqrt()).clamp(0.0, 100.0);
    Outcome {
        score,
        likelihood,
        impact,
    }
}

/// Clamps to 0..=1, mapping NaN to 0.
pub(crate) fn unit(value: f64) -> f64 {
    if value.is_nan() { 0.0 } else { value.clamp(0.0, 1.0) }
}

pub(crate) fn tier_for(score: f64) -> Tier {
    if score >= P1_MIN_SCORE {
        Tier::P1
    } else if score >= P2_MIN_SCORE {
        Tier::P2
    } else if score >= P3_MIN_SCORE {
        Tier::P3
    } else {
        Tier::P4
    }
}

/// Turns an EPSS probability into evidence: the square root spreads the
/// low range where most CVEs lie (0.01 becomes 0.1) and keeps 0, 1 and the order.
pub(crate) fn epss_evidence(probability: f64) -> f64 {
    unit(probability).sqrt()
}

pub(crate) fn kind_weight(kind: FindingKind) -> f64 {
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

pub(crate) fn severity_level(severity: Severity) -> f64 {
    match severity {
        Severity::Critical => SEVERITY_CRITICAL,
        Severity::High => SEVERITY_HIGH,
        Severity::Medium => SEVERITY_MEDIUM,
        Severity::Low => SEVERITY_LOW,
        Severity::Info => SEVERITY_INFO,
    }
}

/// Base evidence of a finding without CVSS vector, from its kind and severity.
pub(crate) fn kind_evidence(kind: FindingKind, severity: Severity) -> f64 {
    kind_weight(kind) * ((1.0 - SEVERITY_LIKELIHOOD_SHARE) + SEVERITY_LIKELIHOOD_SHARE * severity_level(severity))
}

pub(crate) fn exposure_weight(internet_exposed: Option<bool>) -> f64 {
    match internet_exposed {
        Some(true) => EXPOSURE_INTERNET,
        Some(false) => EXPOSURE_INTERNAL,
        None => EXPOSURE_UNKNOWN,
    }
}

pub(crate) fn criticality_weight(criticality: Criticality) -> f64 {
    match criticality {
        Criticality::CrownJewel => CRITICALITY_CROWN_JEWEL,
        Criticality::High => CRITICALITY_HIGH,
        Criticality::Medium => CRITICALITY_MEDIUM,
        Criticality::Low => CRITICALITY_LOW,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL_KINDS: [FindingKind; 7] = [
        FindingKind::Vulnerability,
        FindingKind::CodeWeakness,
        FindingKind::WebWeakness,
        FindingKind::Misconfiguration,
        FindingKind::Secret,
        FindingKind::ExposedService,
        FindingKind::License,
    ];

    #[test]
    fn weights_are_in_unit_range() {
        for kind in ALL_KINDS {
            assert!((0.0..=1.0).contains(&kind_weight(kind)), "{kind:?}");
        }
        for severity in Severity::ALL {
            assert!((0.0..=1.0).contains(&severity_level(severity)), "{severity:?}");
        }
    }

    #[test]
    fn severity_levels_follow_order() {
        // Severity::ALL runs from the highest to the lowest.
        let levels: Vec<f64> = Severity::ALL.iter().map(|s| severity_level(*s)).collect();
        assert!(levels.windows(2).all(|pair| pair[0] > pair[1]), "{levels:?}");
    }

    #[test]
    fn criticality_weights_follow_order() {
        let order = [
            Criticality::Low,
            Criticality::Medium,
            Criticality::High,
            Criticality::CrownJewel,
        ];
        let weights: Vec<f64> = order.iter().map(|c| criticality_weight(*c)).collect();
        assert!(weights.windows(2).all(|pair| pair[0] < pair[1]), "{weights:?}");
    }

    #[test]
    fn exposure_weights_follow_order() {
        assert!(exposure_weight(Some(true)) > exposure_weight(None));
        assert!(exposure_weight(None) > exposure_weight(Some(false)));
    }

    #[test]
    fn tier_boundaries() {
        let cases = [
            (100.0, Tier::P1),
            (P1_MIN_SCORE, Tier::P1),
            (P1_MIN_SCORE - 0.001, Tier::P2),
            (P2_MIN_SCORE, Tier::P2),
            (P2_MIN_SCORE - 0.001, Tier::P3),
            (P3_MIN_SCORE, Tier::P3),
            (P3_MIN_SCORE - 0.001, Tier::P4),
            (0.0, Tier::P4),
        ];
        for (score, tier) in cases {
            assert_eq!(tier_for(score), tier, "score {score}");
        }
    }

    #[test]
    fn evaluate_clamps_hostile_inputs() {
        let hostile = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -1.0, 2.0, 0.0, 1.0];
        for value in hostile {
            let inputs = Inputs {
                kev: value,
                epss: value,
                exploit: value,
                base: value,
                exposure: value,
                criticality: value,
                technical: value,
            };
            let outcome = evaluate(&inputs);
            assert!((0.0..=100.0).contains(&outcome.score), "{value}: {outcome:?}");
            assert!((0.0..=1.0).contains(&outcome.likelihood), "{value}: {outcome:?}");
            assert!((0.0..=1.0).contains(&outcome.impact), "{value}: {outcome:?}");
        }
    }

    #[test]
    fn maximum_inputs_score_100() {
        let inputs = Inputs {
            kev: 1.0,
            epss: 1.0,
            exploit: 1.0,
            base: 1.0,
            exposure: 1.0,
            criticality: 1.0,
            technical: 1.0,
        };
        assert_eq!(evaluate(&inputs).score, 100.0);
    }

    #[test]
    fn epss_evidence_spreads_low_range() {
        assert_eq!(epss_evidence(0.0), 0.0);
        assert!((epss_evidence(0.01) - 0.1).abs() < 1e-12);
        assert_eq!(epss_evidence(1.0), 1.0);
    }
}
