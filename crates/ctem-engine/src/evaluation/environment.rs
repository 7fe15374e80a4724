//! From a generated environment to an [`Instance`]: threat intelligence
//! from the generator's signals, scores, attack paths and the actions of
//! `ctem actions`.

use std::collections::{HashMap, HashSet};
use std::fmt::Write;

use ctem_graph::FixId;
use ctem_graph::generate::Environment;
use ctem_intel::{EpssScores, Intel, IntelError, KevCatalog};
use ctem_model::{Asset, Finding, Fingerprint, Severity};
use ctem_store::ScoredFinding;

use super::{Candidate, Instance};
use crate::actions::{Action, action_fixes, path_fixes, plan, rank_with_value};
use crate::paths::success::SuccessModel;
use crate::paths::{self, DEFAULT_PATH_COUNT, PathFinding, PathsInput};

/// An environment made ready for the evaluation.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub instance: Instance,
    pub findings: usize,
    /// The actions of `ctem actions`, in its order.
    pub actions: Vec<Action>,
    /// Crown jewels whose goals the attack graph has.
    pub crown_jewels: usize,
}

/// Builds the threat intelligence that the generator's exploitation
/// signals stand for: a KEV catalog of the CVEs it marks known exploited
/// and an EPSS file of the CVEs it scores, read by ctem's own KEV and EPSS
/// parsers.
///
/// # Errors
///
/// An error of those parsers, which would mean that the text written here
/// is wrong.
pub fn intel_of(environment: &Environment) -> Result<Intel, IntelError> {
    let mut kev: HashSet<String> = HashSet::new();
    let mut epss: HashMap<String, f64> = HashMap::new();
    for (finding, signals) in environment.findings.iter().zip(&environment.signals) {
        for id in &finding.vulnerability_ids {
            let Some(cve) = id.as_cve() else { continue };
            if signals.kev {
                kev.insert(cve.to_string());
            }
            if let Some(score) = signals.epss {
                epss.insert(cve.to_string(), score);
            }
        }
    }

    let mut kev: Vec<String> = kev.into_iter().collect();
    kev.sort();
    let entries: Vec<serde_json::Value> = kev
        .iter()
        .map(|cve| {
            serde_json::json!({
                "cveID": cve,
                "vendorProject": "generated",
                "product": "generated",
                "vulnerabilityName": "generated",
                "dateAdded": "2026-01-01",
                "shortDescription": "",
                "requiredAction": "",
                "dueDate": "2026-01-22",
                "knownRansomwareCampaignUse": "Unknown",
            })
        })
        .collect();
    let catalog = serde_json::json!({
        "catalogVersion": "2026.01.01",
        "dateReleased": "2026-01-01T00:00:00Z",
        "count": entries.len(),
        "vulnerabilities": entries,
    });
    let catalog = KevCatalog::from_reader("generated KEV catalog", catalog.to_string().as_bytes())?;

    let mut epss: Vec<(String, f64)> = epss.into_iter().collect();
    epss.sort_by(|a, b| a.0.cmp(&b.0));
    let mut csv = String::from("cve,epss,percentile\n");
    for (cve, score) in &epss {
        // The orderings do not read percentiles, so 0 only keeps the row valid.
        writeln!(csv, "{cve},{score:.5},0").expect("writing to a String cannot fail");
    }
    let scores = EpssScores::from_reader("generated EPSS scores", csv.as_bytes())?;

    let mut intel = Intel::default();
    intel.add_kev(catalog);
    intel.add_epss(scores);
    Ok(intel)
}

/// Scores the findings of `environment`, derives its attack paths, ranks
/// its actions as `ctem actions` does and describes each action for the
/// orderings. `None` when the environment has no crown jewel.
///
/// # Errors
///
/// An error of [`intel_of`].
pub fn prepare(environment: &Environment, crown_jewel_value: f64) -> Result<Option<Prepared>, IntelError> {
    let intel = intel_of(environment)?;
    let assets: HashMap<&str, &Asset> = environment
        .assets
        .iter()
        .map(|asset| (asset.key.as_str(), asset))
        .collect();
    let findings: Vec<ScoredFinding> = environment
        .findings
        .iter()
        .map(|finding| ScoredFinding {
            fingerprint: Fingerprint::of(finding),
            risk: ctem_risk::assess(finding, assets.get(finding.asset.as_str()).copied(), &intel),
            finding: finding.clone(),
            published: None,
        })
        .collect();

    let no_dismissals = HashSet::new();
    let path_findings: Vec<PathFinding<'_>> = findings.iter().map(PathFinding::of).collect();
    let request = PathsInput {
        assets: &environment.assets,
        relationships: &environment.relationships,
        findings: &path_findings,
        intel: &intel,
        controls: &environment.controls,
        opengraph: &[],
        dismissed: &no_dismissals,
        path_count: DEFAULT_PATH_COUNT,
    };
    let Some(attack_paths) = paths::compute(request).expect("no OpenGraph file is imported") else {
        return Ok(None);
    };
    let actions = rank_with_value(&findings, &environment.assets, Some(&attack_paths), crown_jewel_value);

    let goals: Vec<_> = attack_paths
        .crown_jewels
        .iter()
        .map(|jewel| jewel.goals.clone())
        .collect();
    let model = SuccessModel::new(&attack_paths.graph, &goals);
    let by_fingerprint: HashMap<&str, (usize, &ScoredFinding)> = findings
        .iter()
        .enumerate()
        .map(|(index, scored)| (scored.fingerprint.as_str(), (index, scored)))
        .collect();
    let plan_ranks: HashMap<String, usize> = plan(&findings, &environment.assets, &path_fixes(&attack_paths))
        .into_iter()
        .map(|action| (action.key, action.rank))
        .collect();
    let candidates = actions
        .iter()
        .zip(action_fixes(&actions, &attack_paths.graph))
        .map(|(action, fixes)| candidate(action, fixes, plan_ranks[&action.key], &by_fingerprint, &intel))
        .collect();

    Ok(Some(Prepared {
        instance: Instance {
            model,
            candidates,
            // A finding that the report suppresses scores 0.
            finding_risk: findings.iter().map(|scored| scored.risk.score).collect(),
        },
        findings: findings.len(),
        crown_jewels: goals.len(),
        actions,
    }))
}

fn candidate(
    action: &Action,
    fixes: Vec<FixId>,
    plan_rank: usize,
    findings: &HashMap<&str, (usize, &ScoredFinding)>,
    intel: &Intel,
) -> Candidate {
    let closes: Vec<usize> = action
        .findings
        .iter()
        .filter_map(|closed| findings.get(closed.fingerprint.as_str()))
        .map(|(index, _)| *index)
        .collect();
    let closed: Vec<&Finding> = action
        .findings
        .iter()
        .filter_map(|closed| findings.get(closed.fingerprint.as_str()))
        .map(|(_, scored)| &scored.finding)
        .collect();
    let signals: Vec<_> = closed
        .iter()
        .map(|finding| paths::exploit_signals(finding, intel))
        .collect();
    Candidate {
        key: action.key.clone(),
        fixes,
        plan_rank,
        cvss: closed.iter().map(|finding| cvss_of(finding)).max_by(f64::total_cmp),
        epss: signals.iter().filter_map(|signals| signals.epss).max_by(f64::total_cmp),
        kev: signals.iter().any(|signals| signals.kev),
        closes,
        effort: action.effort,
    }
}

/// Returns the highest CVSS base score of a finding, else the lower bound of its
/// severity's CVSS v3.1 rating, so that a misconfiguration or a secret
/// rated critical ranks with the CVEs of 9.0.
fn cvss_of(finding: &Finding) -> f64 {
    if let Some(vector) = finding.max_cvss() {
        return vector.base_score();
    }
    match finding.severity {
        Severity::Critical => 9.0,
        Severity::High => 7.0,
        Severity::Medium => 4.0,
        Severity::Low => 0.1,
        Severity::Info => 0.0,
    }
}
