//! [`assess_with`]: gathers a finding's inputs, evaluates the model,
//! decides the tier and the deadline, and explains them.

use std::sync::OnceLock;

use ctem_intel::Intel;
use ctem_model::{
    Asset, CompactString, CveId, Deadline, Decision, Factor, Finding, FindingKind, RiskAssessment, SourceStatus, Tier,
};
use smallvec::SmallVec;

use crate::context::{BodCriteria, Context};
use crate::decision::{DeployerPoints, Exploitation, HumanImpact, SystemExposure, deployer_decision};
use crate::gather::{Facts, gather};
use crate::model::{
    CRITICALITY_CROWN_JEWEL, CRITICALITY_HIGH, CRITICALITY_MEDIUM, Inputs, MINOR_TECHNICAL_IMPACT, evaluate, unit,
};
use crate::shapley::{MAX_CANDIDATES, shapley_values};

/// Scores a finding on its asset with the loaded intelligence and an
/// empty [`Context`]: no attack graph facts, no compensating controls, no
/// data classification, the default deadline table.
///
/// `asset` is the finding's asset where the inventory has it; without it,
/// exposure and criticality take their defaults. See [`assess_with`].
pub fn assess(finding: &Finding, asset: Option<&Asset>, intel: &Intel) -> RiskAssessment {
    assess_with(finding, asset, intel, &Context::default())
}

/// Scores a finding on its asset with the loaded intelligence and what
/// the attack graph and the configuration know about it.
///
/// The function is pure: the same arguments always give the same
/// assessment. See the crate docs for the model, the factors, the tier
/// and the deadline.
pub fn assess_with(finding: &Finding, asset: Option<&Asset>, intel: &Intel, context: &Context) -> RiskAssessment {
    let (inputs, candidates, facts) = gather(finding, asset, intel, context);

    let outcome = evaluate(&inputs);
    let mut contributions = [0.0; MAX_CANDIDATES];
    shapley_values(&inputs, candidates.resets(), &mut contributions);
    let mut factors = candidates.factors;
    for (factor, contribution) in factors.iter_mut().zip(contributions) {
        factor.contribution = contribution;
    }

    let status = finding.source_status.and_then(suppression);
    if let Some(status) = status {
        // The status takes back the whole score, so the contributions
        // still add up to it (0), and the other factors show what was
        // suppressed.
        factors.push(Factor {
            name: CompactString::const_new("source_status"),
            value: CompactString::const_new(status),
            contribution: -outcome.score,
            source: status_source(finding),
            weight: None,
            date: None,
        });
    }
    factors.sort_by(|a, b| {
        b.contribution
            .abs()
            .total_cmp(&a.contribution.abs())
            .then_with(|| a.name.cmp(&b.name))
    });

    if status.is_some() {
        return RiskAssessment {
            score: 0.0,
            tier: Tier::P4,
            likelihood: 0.0,
            impact: outcome.impact,
            factors,
            decision: Some(Decision::Defer),
            deadline: None,
        };
    }

    let (decision, points) = decide(finding, &inputs, &facts);
    factors.push(ssvc_factor(&points, decision));
    let criteria = facts.criteria();
    let deadline = context.deadlines.get(criteria);
    factors.push(Factor {
        name: CompactString::const_new("bod_26_04"),
        value: bod_value(criteria, deadline),
        contribution: 0.0,
        source: CompactString::const_new("CISA BOD 26-04 remediation timelines"),
        weight: None,
        date: None,
    });
    RiskAssessment {
        score: outcome.score,
        tier: decision.tier(),
        likelihood: outcome.likelihood,
        impact: outcome.impact,
        factors,
        decision: Some(decision),
        deadline: Some(deadline),
    }
}

/// Takes the SSVC deployer decision of a finding.
///
/// A compensating control lowers the System Exposure one step, but it
/// never moves an actively exploited finding below out-of-cycle, nor below
/// the decision it would have without controls where that is lower.
fn decide(finding: &Finding, inputs: &Inputs, facts: &Facts) -> (Decision, DeployerPoints) {
    let uncontrolled = DeployerPoints {
        exploitation: facts.exploitation,
        exposure: facts.exposure,
        automatable: facts.automatable,
        human_impact: human_impact(inputs),
    };
    if finding.kind == FindingKind::License {
        // A license finding is no security risk.
        return (Decision::Defer, uncontrolled);
    }
    if !facts.controlled {
        return (deployer_decision(uncontrolled), uncontrolled);
    }

    let controlled = DeployerPoints {
        exposure: facts.exposure.lowered(),
        ..uncontrolled
    };
    let mut decision = deployer_decision(controlled);
    if facts.exploitation == Exploitation::Active {
        let floor = deployer_decision(uncontrolled).min(Decision::OutOfCycle);
        decision = decision.max(floor);
    }
    (decision, controlled)
}

/// Maps the value at stake onto SSVC Human Impact: a crown jewel (or a
/// finding that weighs like one) is very high, a high-criticality asset
/// high, a medium one medium, and a low one low. A weakness with a
/// technical impact below [`MINOR_TECHNICAL_IMPACT`] (an informational
/// finding, a CVSS vector with no or only a limited loss of
/// confidentiality, integrity and availability) puts little at stake
/// wherever it is, so its Human Impact is low.
fn human_impact(inputs: &Inputs) -> HumanImpact {
    if unit(inputs.technical) < MINOR_TECHNICAL_IMPACT {
        return HumanImpact::Low;
    }
    let value = inputs.asset_value();
    // The small tolerance keeps a weight equal to a threshold on its side
    // whatever the rounding of the products that led to it.
    let at_least = |threshold: f64| value >= threshold - 1e-9;
    if at_least(CRITICALITY_CROWN_JEWEL) {
        HumanImpact::VeryHigh
    } else if at_least(CRITICALITY_HIGH) {
        HumanImpact::High
    } else if at_least(CRITICALITY_MEDIUM) {
        HumanImpact::Medium
    } else {
        HumanImpact::Low
    }
}

fn ssvc_factor(points: &DeployerPoints, decision: Decision) -> Factor {
    Factor {
        name: CompactString::const_new("ssvc"),
        value: ssvc_value(points, decision),
        contribution: 0.0,
        source: CompactString::const_new("SSVC Deployer Patch Application Priority 1.0.0"),
        weight: None,
        date: None,
    }
}

/// Returns the words of an SSVC decision and its points. The 288 texts are
/// written once, and each finding's factor borrows one.
fn ssvc_value(points: &DeployerPoints, decision: Decision) -> CompactString {
    static TEXTS: OnceLock<Vec<String>> = OnceLock::new();
    let texts = TEXTS.get_or_init(|| {
        every_decision()
            .map(|(points, decision)| ssvc_words(&points, decision))
            .collect()
    });
    // `every_decision` runs in declaration order, which `as usize` counts.
    let index = (((points.exploitation as usize * SystemExposure::ALL.len() + points.exposure as usize) * 2
        + usize::from(points.automatable))
        * HumanImpact::ALL.len()
        + points.human_impact as usize)
        * Decision::ALL.len()
        + decision as usize;
    CompactString::const_new(&texts[index])
}

/// Lists every combination of decision points and decision, the last
/// field varying fastest.
fn every_decision() -> impl Iterator<Item = (DeployerPoints, Decision)> {
    Exploitation::ALL.into_iter().flat_map(|exploitation| {
        SystemExposure::ALL.into_iter().flat_map(move |exposure| {
            [false, true].into_iter().flat_map(move |automatable| {
                HumanImpact::ALL.into_iter().flat_map(move |human_impact| {
                    let points = DeployerPoints {
                        exploitation,
                        exposure,
                        automatable,
                        human_impact,
                    };
                    Decision::ALL.into_iter().map(move |decision| (points, decision))
                })
            })
        })
    })
}

fn ssvc_words(points: &DeployerPoints, decision: Decision) -> String {
    let decision = match decision {
        Decision::OutOfCycle => "out-of-cycle",
        other => other.as_str(),
    };
    format!(
        "exploitation {}, exposure {}, automatable {}, human impact {}: {decision}",
        points.exploitation.describe(),
        points.exposure.describe(),
        if points.automatable { "yes" } else { "no" },
        points.human_impact.describe(),
    )
}

/// Returns the words for the BOD 26-04 criteria of a finding, followed by
/// its deadline. The 80 texts are written once, and each finding's factor
/// borrows one.
fn bod_value(criteria: BodCriteria, deadline: Deadline) -> CompactString {
    static TEXTS: OnceLock<Vec<String>> = OnceLock::new();
    let texts = TEXTS.get_or_init(|| {
        BodCriteria::all()
            .flat_map(|criteria| Deadline::ALL.map(|deadline| criteria_words(criteria, deadline)))
            .collect()
    });
    // `Deadline::ALL` lists the deadlines in declaration order, which `as
    // usize` counts.
    CompactString::const_new(&texts[criteria.index() * Deadline::ALL.len() + deadline as usize])
}

fn criteria_words(criteria: BodCriteria, deadline: Deadline) -> String {
    let kev = if criteria.kev { "KEV" } else { "not in KEV" };
    let public = if criteria.public {
        "publicly exposed"
    } else {
        "not publicly exposed"
    };
    let automatable = if criteria.automatable {
        "automatable"
    } else {
        "not automatable"
    };
    let total = if criteria.total {
        "total technical impact"
    } else {
        "partial technical impact"
    };
    format!("{kev}, {public}, {automatable}, {total}: {}", deadline.describe())
}

/// Lists the CVEs of a finding, sorted and without repeats. A finding
/// that names only a GHSA or OSV id finds its CVEs through the aliases of
/// the loaded OSV advisories.
pub fn finding_cves(finding: &Finding, intel: &Intel) -> Vec<CveId> {
    cves_of(finding, intel).into_vec()
}

/// [`finding_cves`], kept on the stack for the one or two CVEs of most
/// findings.
pub(crate) fn cves_of(finding: &Finding, intel: &Intel) -> SmallVec<[CveId; 2]> {
    let mut cves: SmallVec<[CveId; 2]> = SmallVec::with_capacity(finding.vulnerability_ids.len());
    for id in &finding.vulnerability_ids {
        match id.as_cve() {
            Some(cve) => cves.push(cve.clone()),
            None => cves.extend(intel.osv().cves(id)),
        }
    }
    cves.sort();
    cves.dedup();
    cves
}

/// Returns the words for a source status that makes the finding P4, or
/// `None` for statuses that leave it scored.
fn suppression(status: SourceStatus) -> Option<&'static str> {
    match status {
        SourceStatus::NotAffected => Some("not affected"),
        SourceStatus::Fixed => Some("fixed"),
        SourceStatus::FalsePositive => Some("false positive"),
        SourceStatus::Suppressed => Some("suppressed"),
        SourceStatus::Affected | SourceStatus::UnderInvestigation | SourceStatus::WillNotFix => None,
    }
}

/// Names who set the finding's status: the VEX document whose statement
/// the engine applied (the `vex_source` attribute), else the tool's report.
fn status_source(finding: &Finding) -> CompactString {
    match finding.attributes.get("vex_source") {
        Some(document) => ctem_model::format_compact!("VEX {document}"),
        None => ctem_model::format_compact!("{} report", finding.tool),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bod_texts_follow_their_criteria() {
        let mut count = 0;
        for criteria in BodCriteria::all() {
            for deadline in Deadline::ALL {
                assert_eq!(bod_value(criteria, deadline), criteria_words(criteria, deadline));
                count += 1;
            }
        }
        assert_eq!(count, 80);
        let criteria = BodCriteria {
            kev: true,
            public: false,
            automatable: true,
            total: false,
        };
        assert_eq!(
            bod_value(criteria, Deadline::FourteenDays),
            "KEV, not publicly exposed, automatable, partial technical impact: 14 days"
        );
    }

    #[test]
    fn ssvc_texts_follow_their_points() {
        let mut count = 0;
        for (points, decision) in every_decision() {
            assert_eq!(ssvc_value(&points, decision), ssvc_words(&points, decision));
            count += 1;
        }
        assert_eq!(count, 288);
    }
}
