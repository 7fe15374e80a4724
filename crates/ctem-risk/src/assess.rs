//! [`assess_with`]: gathers a finding's inputs, evaluates the model,
//! decides the tier and the deadline, and explains them.

use ctem_intel::Intel;
use ctem_model::{Asset, CveId, Decision, Factor, Finding, FindingKind, RiskAssessment, SourceStatus, Tier};

use crate::context::Context;
use crate::decision::{DeployerPoints, HumanImpact, deployer_decision};
use crate::gather::{Candidate, Facts, gather};
use crate::model::{
    CRITICALITY_CROWN_JEWEL, CRITICALITY_HIGH, CRITICALITY_MEDIUM, Inputs, MINOR_TECHNICAL_IMPACT, evaluate, unit,
};

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
    let contributions = shapley_values(&inputs, &candidates);
    let mut factors: Vec<Factor> = candidates
        .into_iter()
        .zip(contributions)
        .map(|(candidate, contribution)| Factor {
            name: candidate.name.to_string(),
            value: candidate.value,
            contribution,
            source: candidate.source,
            weight: candidate.weight,
            date: candidate.date,
        })
        .collect();

    let status = finding.source_status.and_then(suppression);
    if let Some(status) = status {
        // The status takes back the whole score, so the contributions
        // still add up to it (0), and the other factors show what was
        // suppressed.
        factors.push(Factor {
            name: "source_status".to_string(),
            value: status.to_string(),
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
        name: "bod_26_04".to_string(),
        value: format!("{}: {}", describe_criteria(&facts), deadline.describe()),
        contribution: 0.0,
        source: "CISA BOD 26-04 remediation timelines".to_string(),
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
    if facts.exploitation == crate::decision::Exploitation::Active {
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
        name: "ssvc".to_string(),
        value: format!(
            "exploitation {}, exposure {}, automatable {}, human impact {}: {}",
            points.exploitation.describe(),
            points.exposure.describe(),
            if points.automatable { "yes" } else { "no" },
            points.human_impact.describe(),
            decision.as_str().replace('_', "-"),
        ),
        contribution: 0.0,
        source: "SSVC Deployer Patch Application Priority 1.0.0".to_string(),
        weight: None,
        date: None,
    }
}

fn describe_criteria(facts: &Facts) -> String {
    let criteria = facts.criteria();
    let parts = [
        if criteria.kev { "KEV" } else { "not in KEV" },
        if criteria.public {
            "publicly exposed"
        } else {
            "not publicly exposed"
        },
        if criteria.automatable {
            "automatable"
        } else {
            "not automatable"
        },
        if criteria.total {
            "total technical impact"
        } else {
            "partial technical impact"
        },
    ];
    parts.join(", ")
}

/// Lists the CVEs of a finding, sorted and without repeats. A finding
/// that names only a GHSA or OSV id finds its CVEs through the aliases of
/// the loaded OSV advisories.
pub fn finding_cves(finding: &Finding, intel: &Intel) -> Vec<CveId> {
    let mut cves: Vec<CveId> = finding
        .vulnerability_ids
        .iter()
        .flat_map(|id| match id.as_cve() {
            Some(cve) => vec![cve.clone()],
            None => intel.osv().cves(id),
        })
        .collect();
    cves.sort();
    cves.dedup();
    cves
}

/// Computes the Shapley value of each candidate: its marginal effect on the
/// score (the score with its input minus the score with its input at the
/// baseline), averaged over every order in which the candidates can join.
///
/// With n candidates this evaluates the model on all 2^n subsets, where the
/// candidates outside the subset are at their baselines. n is at most 14
/// (one per input of the formula), so that is at most 16,384 evaluations
/// of a few multiplications each; a finding without intelligence or graph
/// facts has 5 candidates and takes 32.
fn shapley_values(inputs: &Inputs, candidates: &[Candidate]) -> Vec<f64> {
    // A candidate whose input already is its baseline changes no subset's
    // score, so its value is 0 and leaving it out of the enumeration
    // changes no other value (the null player property). Most findings
    // have a few such inputs, and each one halves the work.
    let active: Vec<usize> = (0..candidates.len())
        .filter(|&index| {
            let mut at_baseline = *inputs;
            (candidates[index].to_baseline)(&mut at_baseline);
            at_baseline != *inputs
        })
        .collect();
    let active_candidates: Vec<&Candidate> = active.iter().map(|&index| &candidates[index]).collect();
    let active_values = shapley_over(inputs, &active_candidates);
    let mut values = vec![0.0; candidates.len()];
    for (index, value) in active.into_iter().zip(active_values) {
        values[index] = value;
    }
    values
}

/// Computes the Shapley values of `candidates` by enumerating every subset.
fn shapley_over(inputs: &Inputs, candidates: &[&Candidate]) -> Vec<f64> {
    let count = candidates.len();
    let subsets = 1usize << count;
    let scores: Vec<f64> = (0..subsets)
        .map(|subset| {
            let mut partial = *inputs;
            for (index, candidate) in candidates.iter().enumerate() {
                if subset & (1 << index) == 0 {
                    (candidate.to_baseline)(&mut partial);
                }
            }
            evaluate(&partial).score
        })
        .collect();

    // A subset of s other candidates precedes candidate i in s! (n - s - 1)!
    // of the n! orders.
    let factorial = |k: usize| (1..=k).map(|x| x as f64).product::<f64>();
    let weights: Vec<f64> = (0..count)
        .map(|size| factorial(size) * factorial(count - size - 1) / factorial(count))
        .collect();

    (0..count)
        .map(|index| {
            let bit = 1usize << index;
            (0..subsets)
                .filter(|subset| subset & bit == 0)
                .map(|subset| weights[subset.count_ones() as usize] * (scores[subset | bit] - scores[subset]))
                .sum()
        })
        .collect()
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
fn status_source(finding: &Finding) -> String {
    match finding.attributes.get("vex_source") {
        Some(document) => format!("VEX {document}"),
        None => format!("{} report", finding.tool),
    }
}
