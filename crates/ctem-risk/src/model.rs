//! The constants and the formula of the risk model (see the crate docs for
//! the reasons behind each value).

use ctem_intel::ExploitSignal;
use ctem_model::{Criticality, FindingKind, Severity};

use crate::context::DataClassification;

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

/// Evidence of exploitation from a STIX sighting of the CVE or of a threat
/// that exploits it: exploitation was seen, as with a KEV listing.
pub const EXPLOITED_SIGHTING: f64 = KEV_LISTED;
/// Evidence of exploitation from a CVSS v4.0 vector with Exploit Maturity
/// Attacked (`E:A`): the vector's author reports attacks, as SSVC active does.
pub const EXPLOIT_CVSS4_ATTACKED: f64 = EXPLOIT_SSVC_ACTIVE;
/// Evidence of exploitation from a CVSS v4.0 vector with Exploit Maturity
/// Proof-of-Concept (`E:P`), weighed like SSVC public PoC.
pub const EXPLOIT_CVSS4_POC: f64 = EXPLOIT_SSVC_POC;
/// Evidence of exploitation when CISA's SSVC assessment rates the CVE
/// Automatable: once an exploit exists, it can be run at scale. It weighs
/// less than a public proof of concept, because automation is no exploit.
pub const AUTOMATABLE_EVIDENCE: f64 = 0.25;

/// The EPSS probability assumed for a CVE that no loaded EPSS file scores:
/// the mean EPSS probability (0.0053) of the 37,906 CVE-2025 ids that FIRST
/// scored on 2025-12-29. A CVE without a score is usually new, and the
/// mean of a recent year is the expected probability of one drawn from it.
/// It is never 0, because missing data is no evidence against exploitation.
pub const EPSS_PRIOR: f64 = 0.0053;
/// The days of EPSS history whose maximum counts: EPSS estimates activity
/// in the next 30 days, so a score reached within the last 30 days still
/// describes the current window.
pub const EPSS_WINDOW_DAYS: i64 = 30;

/// Value at stake of an asset on an attack path to a crown jewel: a
/// foothold on the way to a crown jewel weighs like a high-criticality asset.
pub const PATH_VALUE: f64 = CRITICALITY_HIGH;
/// Value at stake of a finding that leads into a choke point: every path
/// to the crown jewel passes there, so it weighs like the crown jewel.
pub const CHOKE_POINT_VALUE: f64 = CRITICALITY_CROWN_JEWEL;
/// Value at stake of an asset from which a crown jewel is reachable.
pub const BLAST_RADIUS_JEWEL_VALUE: f64 = CRITICALITY_HIGH;
/// Share of the remaining value (1 - value) that a large blast radius adds.
pub const BLAST_RADIUS_ASSETS_WEIGHT: f64 = 0.2;
/// The number of reachable assets at which the blast radius term reaches
/// 1 - 1/e (63%) of its weight; the term saturates beyond a few times this.
pub const BLAST_RADIUS_ASSETS_SCALE: f64 = 50.0;

/// Impact multiplier of public data: no more than a low-criticality asset.
pub const CLASSIFICATION_PUBLIC: f64 = CRITICALITY_LOW;
/// Impact multiplier of internal data, as a medium-criticality asset.
pub const CLASSIFICATION_INTERNAL: f64 = CRITICALITY_MEDIUM;
/// Impact multiplier of confidential data, as a high-criticality asset.
pub const CLASSIFICATION_CONFIDENTIAL: f64 = CRITICALITY_HIGH;
/// Impact multiplier of restricted data, as a crown jewel.
pub const CLASSIFICATION_RESTRICTED: f64 = CRITICALITY_CROWN_JEWEL;

/// The technical impact (0..=1) below which a weakness puts little at
/// stake wherever it is, so that its SSVC Human Impact is low: the level
/// of a low severity. An informational finding (0.05) and a CVSS vector
/// with one limited impact (C:L alone, 0.24) fall below it.
pub const MINOR_TECHNICAL_IMPACT: f64 = SEVERITY_LOW;

/// A compensating control at or below this factor lowers the SSVC System
/// Exposure of the findings it addresses one step (open to controlled,
/// controlled to small): it halves the chance of the attack or better.
pub const CONTROL_EXPOSURE_STEP: f64 = 0.5;

/// The inputs of the formula, each on 0..=1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Inputs {
    /// Observed exploitation: [`KEV_LISTED`], [`KEV_RANSOMWARE`],
    /// [`EXPLOITED_SIGHTING`] or 0.
    pub exploited: f64,
    /// The square root of the EPSS probability (the recent maximum, or
    /// [`EPSS_PRIOR`] for a CVE without score), or 0 for a finding without CVE.
    pub epss: f64,
    /// The strongest exploit evidence (`EXPLOIT_*`), or 0 without any.
    pub exploit: f64,
    /// [`AUTOMATABLE_EVIDENCE`] where SSVC rates the CVE Automatable, else 0.
    pub automatable: f64,
    /// The CVSS exploitability or the kind and severity evidence.
    pub base: f64,
    pub exposure: f64,
    /// The success probability of the most likely attack path to a crown
    /// jewel that uses the finding, or 0.
    pub path: f64,
    /// The product of the compensating control factors that apply, 1 without.
    pub control: f64,
    pub criticality: f64,
    /// The impact multiplier of the data classification, or 0 without one.
    pub classification: f64,
    /// 1 when the finding leads into a choke point, else 0.
    pub choke_point: f64,
    /// 1 when a crown jewel is reachable from the asset, else 0.
    pub blast_jewels: f64,
    /// `1 - exp(-assets / BLAST_RADIUS_ASSETS_SCALE)` for the assets
    /// reachable from the asset.
    pub blast_assets: f64,
    /// The CVSS impact sub-score or the severity level.
    pub technical: f64,
}

impl Inputs {
    /// The inputs of a finding about which nothing is known: every input at
    /// its baseline.
    pub(crate) fn baseline() -> Inputs {
        Inputs {
            exploited: 0.0,
            epss: 0.0,
            exploit: 0.0,
            automatable: 0.0,
            base: 0.0,
            exposure: EXPOSURE_UNKNOWN,
            path: 0.0,
            control: 1.0,
            criticality: criticality_weight(DEFAULT_CRITICALITY),
            classification: 0.0,
            choke_point: 0.0,
            blast_jewels: 0.0,
            blast_assets: 0.0,
            technical: 0.0,
        }
    }

    /// Returns the value at stake on the asset before the blast radius
    /// term: the largest of the criticality, the classification and the
    /// graph's values. The SSVC Human Impact reads it.
    pub(crate) fn asset_value(&self) -> f64 {
        let mut value = unit(self.criticality).max(unit(self.classification));
        if unit(self.path) > 0.0 {
            value = value.max(PATH_VALUE);
        }
        if unit(self.choke_point) > 0.0 {
            value = value.max(CHOKE_POINT_VALUE);
        }
        if unit(self.blast_jewels) > 0.0 {
            value = value.max(BLAST_RADIUS_JEWEL_VALUE);
        }
        value
    }
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
/// clamped and NaN counts as 0 (as 1 for the control factor), so the score
/// stays within 0..=100.
pub(crate) fn evaluate(inputs: &Inputs) -> Outcome {
    let likelihood = reach(inputs) * control(inputs) * evidence(inputs);
    let impact = value(inputs) * technical(inputs);

    let score = (100.0 * (likelihood * impact).sqrt()).clamp(0.0, 100.0);
    Outcome {
        score,
        likelihood,
        impact,
    }
}

// The terms of the formula, each in 0..=1. The Shapley values (see
// `shapley`) rely on which inputs each term reads. Evidence reads the five
// evidence inputs, reach the exposure and the path, control the control
// factor, value the criticality, classification, path and graph inputs,
// and technical the technical impact.

/// Combines the evidence inputs by noisy OR.
pub(crate) fn evidence(inputs: &Inputs) -> f64 {
    // Independent pieces of evidence combine like independent chances
    // ("noisy OR"): any one of them can make exploitation likely.
    1.0 - (1.0 - unit(inputs.exploited))
        * (1.0 - unit(inputs.epss))
        * (1.0 - unit(inputs.exploit))
        * (1.0 - unit(inputs.automatable))
        * (1.0 - unit(inputs.base))
}

/// Computes the reach of the asset from its exposure and the attack path.
pub(crate) fn reach(inputs: &Inputs) -> f64 {
    // A path from the internet makes an internal asset reachable with the
    // path's probability; it never lowers a known exposure.
    let path_reach = EXPOSURE_INTERNAL + (EXPOSURE_INTERNET - EXPOSURE_INTERNAL) * unit(inputs.path);
    unit(inputs.exposure).max(if inputs.path > 0.0 { path_reach } else { 0.0 })
}

/// Reads the control factor, where NaN means no control.
pub(crate) fn control(inputs: &Inputs) -> f64 {
    if inputs.control.is_nan() {
        1.0
    } else {
        unit(inputs.control)
    }
}

/// Computes the value at stake, blast radius term included.
pub(crate) fn value(inputs: &Inputs) -> f64 {
    let value = inputs.asset_value();
    value + (1.0 - value) * BLAST_RADIUS_ASSETS_WEIGHT * unit(inputs.blast_assets)
}

/// Computes the technical impact term, which keeps a floor.
pub(crate) fn technical(inputs: &Inputs) -> f64 {
    TECHNICAL_IMPACT_FLOOR + (1.0 - TECHNICAL_IMPACT_FLOOR) * unit(inputs.technical)
}

/// Clamps to 0..=1, mapping NaN to 0.
pub(crate) fn unit(value: f64) -> f64 {
    if value.is_nan() { 0.0 } else { value.clamp(0.0, 1.0) }
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

pub(crate) fn classification_weight(classification: DataClassification) -> f64 {
    match classification {
        DataClassification::Public => CLASSIFICATION_PUBLIC,
        DataClassification::Internal => CLASSIFICATION_INTERNAL,
        DataClassification::Confidential => CLASSIFICATION_CONFIDENTIAL,
        DataClassification::Restricted => CLASSIFICATION_RESTRICTED,
    }
}

/// Spreads a count of reachable assets onto 0..=1: 0 assets give 0, and
/// the term saturates towards 1 as the count grows past
/// [`BLAST_RADIUS_ASSETS_SCALE`].
pub(crate) fn blast_assets_term(assets: usize) -> f64 {
    1.0 - (-(assets as f64) / BLAST_RADIUS_ASSETS_SCALE).exp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epss_window_matches_cache_history() {
        assert_eq!(ctem_intel::cache::EPSS_HISTORY_DAYS, EPSS_WINDOW_DAYS);
    }

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

    fn all_inputs(value: f64) -> Inputs {
        Inputs {
            exploited: value,
            epss: value,
            exploit: value,
            automatable: value,
            base: value,
            exposure: value,
            path: value,
            control: value,
            criticality: value,
            classification: value,
            choke_point: value,
            blast_jewels: value,
            blast_assets: value,
            technical: value,
        }
    }

    #[test]
    fn evaluate_clamps_hostile_inputs() {
        let hostile = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -1.0, 2.0, 0.0, 1.0];
        for value in hostile {
            let outcome = evaluate(&all_inputs(value));
            assert!((0.0..=100.0).contains(&outcome.score), "{value}: {outcome:?}");
            assert!((0.0..=1.0).contains(&outcome.likelihood), "{value}: {outcome:?}");
            assert!((0.0..=1.0).contains(&outcome.impact), "{value}: {outcome:?}");
        }
    }

    #[test]
    fn maximum_inputs_score_100() {
        assert_eq!(evaluate(&all_inputs(1.0)).score, 100.0);
    }

    #[test]
    fn baseline_scores_0() {
        assert_eq!(evaluate(&Inputs::baseline()).score, 0.0);
    }

    #[test]
    fn path_raises_internal_likelihood() {
        // An internal asset (0.5) on a path of probability 0.4 is reached
        // with 0.5 + 0.5 * 0.4 = 0.7.
        let mut inputs = Inputs::baseline();
        inputs.base = 1.0;
        inputs.exposure = EXPOSURE_INTERNAL;
        assert!((evaluate(&inputs).likelihood - 0.5).abs() < 1e-12);
        inputs.path = 0.4;
        assert!((evaluate(&inputs).likelihood - 0.7).abs() < 1e-12);
        inputs.exposure = EXPOSURE_INTERNET;
        assert_eq!(evaluate(&inputs).likelihood, 1.0);
    }

    #[test]
    fn context_raises_impact() {
        let mut inputs = Inputs::baseline();
        inputs.technical = 1.0;
        // Medium criticality: 0.6.
        assert!((evaluate(&inputs).impact - 0.6).abs() < 1e-12);
        inputs.classification = CLASSIFICATION_CONFIDENTIAL;
        assert!((evaluate(&inputs).impact - 0.8).abs() < 1e-12);
        inputs.choke_point = 1.0;
        assert!((evaluate(&inputs).impact - 1.0).abs() < 1e-12);

        let mut inputs = Inputs::baseline();
        inputs.technical = 1.0;
        inputs.blast_assets = blast_assets_term(50);
        // 0.6 + 0.4 * 0.2 * (1 - 1/e) = 0.650570...
        let expected = 0.6 + 0.4 * 0.2 * (1.0 - (-1.0f64).exp());
        assert!((evaluate(&inputs).impact - expected).abs() < 1e-12);
    }

    #[test]
    fn controls_lower_likelihood_only() {
        let mut inputs = Inputs::baseline();
        inputs.exploited = KEV_LISTED;
        inputs.technical = 1.0;
        let without = evaluate(&inputs);
        inputs.control = 0.5;
        let with = evaluate(&inputs);
        assert!((with.likelihood - without.likelihood * 0.5).abs() < 1e-12);
        assert_eq!(with.impact, without.impact);
    }

    #[test]
    fn epss_evidence_spreads_low_range() {
        assert_eq!(epss_evidence(0.0), 0.0);
        assert!((epss_evidence(0.01) - 0.1).abs() < 1e-12);
        assert_eq!(epss_evidence(1.0), 1.0);
    }
}
