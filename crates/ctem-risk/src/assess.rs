//! [`assess`]: gathers a finding's inputs, evaluates the model and explains it.

use std::cmp::Reverse;

use ctem_intel::{EpssRecord, ExploitClue, Intel, KevEntry};
use ctem_model::{Asset, CveId, CvssVector, Factor, Finding, RiskAssessment, SourceStatus, Tier};

use crate::model::{
    CVSS_EXPLOITABILITY_WEIGHT, DEFAULT_CRITICALITY, EXPOSURE_UNKNOWN, Inputs, KEV_LISTED, KEV_RANSOMWARE,
    criticality_weight, epss_evidence, evaluate, exploit_evidence, exposure_weight, kind_evidence, severity_level,
    tier_for, unit,
};

/// A factor before its contribution is known, with the change that sets
/// its input to its baseline.
struct Candidate {
    name: &'static str,
    value: String,
    source: String,
    to_baseline: fn(&mut Inputs),
}

/// Scores a finding on its asset with the loaded intelligence.
///
/// `asset` is the finding's asset where the inventory has it; without it,
/// exposure and criticality take their defaults. The function is pure: the
/// same arguments always give the same assessment. See the crate docs for
/// the model, the factors and the tiers.
pub fn assess(finding: &Finding, asset: Option<&Asset>, intel: &Intel) -> RiskAssessment {
    let (inputs, candidates) = gather_inputs(finding, asset, intel);

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
        });
    }
    factors.sort_by(|a, b| {
        b.contribution
            .abs()
            .total_cmp(&a.contribution.abs())
            .then_with(|| a.name.cmp(&b.name))
    });

    match status {
        Some(_) => RiskAssessment {
            score: 0.0,
            tier: Tier::P4,
            likelihood: 0.0,
            impact: outcome.impact,
            factors,
        },
        None => RiskAssessment {
            score: outcome.score,
            tier: tier_for(outcome.score),
            likelihood: outcome.likelihood,
            impact: outcome.impact,
            factors,
        },
    }
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

/// Reads the model's inputs from the finding, its asset and the
/// intelligence, with one candidate factor per input that the finding has.
fn gather_inputs(finding: &Finding, asset: Option<&Asset>, intel: &Intel) -> (Inputs, Vec<Candidate>) {
    let cves = finding_cves(finding, intel);
    let name_cve = cves.len() > 1;

    let mut inputs = Inputs {
        kev: 0.0,
        epss: 0.0,
        exploit: 0.0,
        base: 0.0,
        exposure: EXPOSURE_UNKNOWN,
        criticality: criticality_weight(DEFAULT_CRITICALITY),
        technical: 0.0,
    };
    let mut candidates = Vec::new();

    if let Some((cve, entry)) = strongest_kev(&cves, intel) {
        inputs.kev = if entry.known_ransomware_use {
            KEV_RANSOMWARE
        } else {
            KEV_LISTED
        };
        candidates.push(kev_candidate(cve, entry, name_cve, intel));
    }
    if let Some((cve, record)) = highest_epss(&cves, intel) {
        inputs.epss = epss_evidence(record.score.epss);
        candidates.push(epss_candidate(cve, &record, name_cve));
    }
    if let Some((cve, clue)) = strongest_exploit(&cves, intel) {
        inputs.exploit = exploit_evidence(clue.signal);
        candidates.push(exploit_candidate(&cve, &clue, name_cve));
    }
    let intel_cvss = match finding.max_cvss() {
        Some(_) => None,
        None => cves.iter().find_map(|cve| intel.preferred_cvss(cve)),
    };
    match (finding.max_cvss(), &intel_cvss) {
        (Some(vector), _) => {
            inputs.base = CVSS_EXPLOITABILITY_WEIGHT * unit(vector.exploitability());
            inputs.technical = unit(vector.impact());
            candidates.extend(cvss_candidates(vector, &finding.tool));
        }
        (None, Some((fact, reason))) => {
            let vector = &fact.value.vector;
            inputs.base = CVSS_EXPLOITABILITY_WEIGHT * unit(vector.exploitability());
            inputs.technical = unit(vector.impact());
            candidates.extend(cvss_candidates(vector, &format!("{}; {reason}", fact.source)));
        }
        (None, None) => {
            inputs.base = kind_evidence(finding.kind, finding.severity);
            inputs.technical = severity_level(finding.severity);
            candidates.extend(kind_candidates(finding));
        }
    }
    let exposed = asset.and_then(|a| a.internet_exposed);
    inputs.exposure = exposure_weight(exposed);
    candidates.push(exposure_candidate(exposed));
    let criticality = asset.and_then(|a| a.criticality);
    inputs.criticality = criticality_weight(criticality.unwrap_or(DEFAULT_CRITICALITY));
    candidates.push(criticality_candidate(criticality));

    (inputs, candidates)
}

/// Computes the Shapley value of each candidate: its marginal effect on the
/// score (the score with its input minus the score with its input at the
/// baseline), averaged over every order in which the candidates can join.
///
/// With n candidates this evaluates the model on all 2^n subsets, where the
/// candidates outside the subset are at their baselines. n is at most 7
/// (KEV, EPSS, exploit evidence, base evidence, technical impact, exposure,
/// criticality), so that is at most 128 evaluations.
fn shapley_values(inputs: &Inputs, candidates: &[Candidate]) -> Vec<f64> {
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

/// Picks the KEV entry with the strongest evidence among the finding's
/// CVEs: known ransomware use first, then the earliest listing.
fn strongest_kev<'a>(cves: &'a [CveId], intel: &'a Intel) -> Option<(&'a CveId, &'a KevEntry)> {
    cves.iter()
        .filter_map(|cve| intel.kev(cve).map(|entry| (cve, entry)))
        .max_by_key(|(_, entry)| (entry.known_ransomware_use, Reverse(entry.date_added)))
}

/// Picks the highest EPSS probability among the finding's CVEs.
fn highest_epss<'a>(cves: &'a [CveId], intel: &'a Intel) -> Option<(&'a CveId, EpssRecord<'a>)> {
    cves.iter()
        .filter_map(|cve| intel.epss(cve).map(|record| (cve, record)))
        .max_by(|(_, a), (_, b)| a.score.epss.total_cmp(&b.score.epss))
}

fn kev_candidate(cve: &CveId, entry: &KevEntry, name_cve: bool, intel: &Intel) -> Candidate {
    let mut value = format!("listed {}", entry.date_added);
    if entry.known_ransomware_use {
        value.push_str(", known ransomware use");
    }
    if name_cve {
        value.push_str(&format!(" ({cve})"));
    }
    let source = match intel.kev_catalog() {
        Some(catalog) => format!("CISA KEV {}", catalog.version),
        None => "CISA KEV".to_string(),
    };
    Candidate {
        name: "kev",
        value,
        source,
        to_baseline: |inputs| inputs.kev = 0.0,
    }
}

fn epss_candidate(cve: &CveId, record: &EpssRecord<'_>, name_cve: bool) -> Candidate {
    let mut value = record.score.epss.to_string();
    if name_cve {
        value.push_str(&format!(" ({cve})"));
    }
    let file = record.file;
    let source = match (file.score_date, &file.model_version) {
        (Some(date), _) => format!("FIRST EPSS {date}"),
        (None, Some(model)) => format!("FIRST EPSS {model}"),
        (None, None) => format!("FIRST EPSS, undated file {}", file.path),
    };
    Candidate {
        name: "epss",
        value,
        source,
        to_baseline: |inputs| inputs.epss = 0.0,
    }
}

/// Picks the strongest exploit evidence among the finding's CVEs.
fn strongest_exploit(cves: &[CveId], intel: &Intel) -> Option<(CveId, ExploitClue)> {
    cves.iter()
        .filter_map(|cve| {
            intel
                .exploit_clues(cve)
                .into_iter()
                .next()
                .map(|clue| (cve.clone(), clue))
        })
        .min_by(|(_, a), (_, b)| a.signal.cmp(&b.signal))
}

fn exploit_candidate(cve: &CveId, clue: &ExploitClue, name_cve: bool) -> Candidate {
    let mut value = clue.detail.clone();
    if name_cve {
        value.push_str(&format!(" ({cve})"));
    }
    Candidate {
        name: "exploit",
        value,
        source: clue.source.to_string(),
        to_baseline: |inputs| inputs.exploit = 0.0,
    }
}

/// `origin` names where the vector comes from: the report, or the
/// intelligence source and why it was chosen.
fn cvss_candidates(vector: &CvssVector, origin: &str) -> [Candidate; 2] {
    let source = format!("CVSS v{} vector from {origin}", vector.version().as_str());
    let base_score = vector.base_score();
    [
        Candidate {
            name: "cvss_exploitability",
            value: format!("{:.2} (base score {base_score:.1})", unit(vector.exploitability())),
            source: source.clone(),
            to_baseline: |inputs| inputs.base = 0.0,
        },
        Candidate {
            name: "cvss_impact",
            value: format!("{:.2} (base score {base_score:.1})", unit(vector.impact())),
            source,
            to_baseline: |inputs| inputs.technical = 0.0,
        },
    ]
}

/// Names who set the finding's status: the VEX document whose statement
/// the engine applied (the `vex_source` attribute), else the tool's report.
fn status_source(finding: &Finding) -> String {
    match finding.attributes.get("vex_source") {
        Some(document) => format!("VEX {document}"),
        None => format!("{} report", finding.tool),
    }
}

fn kind_candidates(finding: &Finding) -> [Candidate; 2] {
    let source = format!("{} report", finding.tool);
    let kind = finding.kind.as_str().replace('_', " ");
    [
        Candidate {
            name: "finding_kind",
            value: format!("{kind}, severity {}", finding.severity),
            source: source.clone(),
            to_baseline: |inputs| inputs.base = 0.0,
        },
        Candidate {
            name: "severity",
            value: finding.severity.to_string(),
            source,
            to_baseline: |inputs| inputs.technical = 0.0,
        },
    ]
}

fn exposure_candidate(exposed: Option<bool>) -> Candidate {
    let (value, source) = match exposed {
        Some(true) => ("internet-exposed", "asset attribute"),
        Some(false) => ("not internet-exposed", "asset attribute"),
        None => ("unknown", "default"),
    };
    Candidate {
        name: "internet_exposure",
        value: value.to_string(),
        source: source.to_string(),
        to_baseline: |inputs| inputs.exposure = EXPOSURE_UNKNOWN,
    }
}

fn criticality_candidate(criticality: Option<ctem_model::Criticality>) -> Candidate {
    let (value, source) = match criticality {
        Some(level) => (level.as_str().replace('_', " "), "configuration"),
        None => (
            format!("unknown, default {}", DEFAULT_CRITICALITY.as_str().replace('_', " ")),
            "default",
        ),
    };
    Candidate {
        name: "asset_criticality",
        value,
        source: source.to_string(),
        to_baseline: |inputs| inputs.criticality = criticality_weight(DEFAULT_CRITICALITY),
    }
}
