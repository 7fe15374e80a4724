//! Environment-level evaluation of the remediation ranking: how much of
//! the attacker's chance of reaching the crown jewels the first k actions
//! of an ordering remove.
//!
//! An [`Instance`] is an attack graph with the actions that `ctem actions`
//! proposes for it, in ctem's order. Each [`Ordering`] ranks the same
//! actions another way (highest CVSS, EPSS or KEV first), [`optimum`]
//! finds the best k actions by an exact search where the instance is small
//! enough, and [`run`] does all of it on generated environments
//! ([`ctem_graph::generate`]). The success measure is
//! [`SuccessModel::success`]: the sum over crown jewels of the most likely
//! path's probability. docs/prioritization.md, section "Environment-level
//! evaluation", gives the definitions and the results.

mod environment;
mod optimum;
mod report;

#[cfg(test)]
mod tests;

use std::cmp::Ordering as CmpOrdering;

use ctem_graph::FixId;

pub use environment::{Prepared, intel_of, prepare};
pub use optimum::{Optimum, optimum, optimum_within_effort};
pub use report::{EnvironmentResult, Report, Settings, markdown, run};

use crate::paths::success::SuccessModel;

/// One remediation action, reduced to what the orderings and the success
/// measure read.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// The action's key, the last tie-break of every ordering.
    pub key: String,
    /// The fixes of the attack graph that the action applies.
    pub fixes: Vec<FixId>,
    /// The highest CVSS base score among the findings the action closes
    /// (the severity's lower bound for a finding without a vector).
    /// `None` for an action that closes no finding.
    pub cvss: Option<f64>,
    /// The highest EPSS probability among the CVEs of those findings.
    pub epss: Option<f64>,
    /// Whether one of those CVEs is in KEV.
    pub kev: bool,
    /// The rank that [`plan`](crate::actions::plan) gives the action, which
    /// scores each action on its own.
    pub plan_rank: usize,
    /// The findings the action closes, as indexes into
    /// [`Instance::finding_risk`].
    pub closes: Vec<usize>,
    /// The action's effort in effort units, as `ctem actions` estimates it.
    pub effort: f64,
}

/// An attack graph and the actions proposed for it, in ctem's order.
#[derive(Debug, Clone)]
pub struct Instance {
    pub model: SuccessModel,
    pub candidates: Vec<Candidate>,
    /// The score of each finding (0 for one the report suppresses), as
    /// [`Candidate::closes`] indexes them.
    pub finding_risk: Vec<f64>,
}

/// A way to rank the actions of an instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ordering {
    /// The order of `ctem actions`.
    Ctem,
    /// The order of [`plan`](crate::actions::plan) alone: each action
    /// scored on its own, with fixed attack path bonuses.
    PerAction,
    /// The highest CVSS base score of the closed findings first.
    CvssFirst,
    /// The highest EPSS probability first.
    EpssFirst,
    /// Actions that close a KEV-listed CVE first, then by CVSS.
    KevFirst,
}

impl Ordering {
    pub const ALL: [Ordering; 5] = [
        Ordering::Ctem,
        Ordering::PerAction,
        Ordering::CvssFirst,
        Ordering::EpssFirst,
        Ordering::KevFirst,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Ordering::Ctem => "ctem",
            Ordering::PerAction => "ctem per action (without marginal ranking)",
            Ordering::CvssFirst => "CVSS first",
            Ordering::EpssFirst => "EPSS first",
            Ordering::KevFirst => "KEV first, then CVSS",
        }
    }
}

/// Compares two candidates under an ordering other than [`Ordering::Ctem`].
fn compare(ordering: Ordering, a: &Candidate, b: &Candidate) -> CmpOrdering {
    // A missing value ranks below every real one.
    let descending = |a: Option<f64>, b: Option<f64>| b.unwrap_or(-1.0).total_cmp(&a.unwrap_or(-1.0));
    let signal = match ordering {
        Ordering::Ctem => CmpOrdering::Equal,
        Ordering::PerAction => return a.plan_rank.cmp(&b.plan_rank),
        Ordering::CvssFirst => descending(a.cvss, b.cvss),
        Ordering::EpssFirst => descending(a.epss, b.epss),
        Ordering::KevFirst => b.kev.cmp(&a.kev).then_with(|| descending(a.cvss, b.cvss)),
    };
    signal.then_with(|| a.key.cmp(&b.key))
}

impl Instance {
    /// Computes the success measure before any action.
    pub fn success_before(&self) -> f64 {
        self.model.success(&vec![false; self.model.edge_count()])
    }

    /// Computes the success measure after the actions at `picks` (indexes
    /// into `candidates`).
    pub fn success_after(&self, picks: &[usize]) -> f64 {
        self.model.success(&self.removed_by(picks))
    }

    /// Marks the model's edges that the actions at `picks` remove.
    pub fn removed_by(&self, picks: &[usize]) -> Vec<bool> {
        let fixes = picks
            .iter()
            .flat_map(|&pick| self.candidates[pick].fixes.iter().copied());
        self.model.removed_by(fixes)
    }

    /// Lists the edges of the model that candidate `index` removes, sorted
    /// and without repeats.
    pub fn edges_of(&self, index: usize) -> Vec<u32> {
        let mut edges: Vec<u32> = self.candidates[index]
            .fixes
            .iter()
            .flat_map(|&fix| self.model.edges_of(fix).iter().copied())
            .collect();
        edges.sort_unstable();
        edges.dedup();
        edges
    }

    /// Ranks the candidates, as indexes into `candidates`, first to take
    /// first. The baselines break ties by the action key, so that no
    /// baseline borrows ctem's order.
    pub fn order(&self, ordering: Ordering) -> Vec<usize> {
        let mut indexes: Vec<usize> = (0..self.candidates.len()).collect();
        if ordering == Ordering::Ctem {
            return indexes;
        }
        indexes.sort_by(|&a, &b| compare(ordering, &self.candidates[a], &self.candidates[b]));
        indexes
    }

    /// Computes the share of the success measure that the first `k`
    /// actions of `order` remove, or 0 when nothing is reachable before.
    pub fn removed_share(&self, order: &[usize], k: usize) -> f64 {
        self.share_removed_by(&order[..k.min(order.len())])
    }

    /// Computes the share of the success measure that the actions at
    /// `picks` remove, or 0 when nothing is reachable before.
    pub fn share_removed_by(&self, picks: &[usize]) -> f64 {
        let before = self.success_before();
        if before <= 0.0 {
            return 0.0;
        }
        (before - self.success_after(picks)) / before
    }

    /// Takes the actions of `order` first to last, skipping each one whose
    /// effort no longer fits in what is left of `budget` effort units, as
    /// a team with that budget works down a ranked list.
    pub fn within_effort(&self, order: &[usize], budget: f64) -> Vec<usize> {
        let mut left = budget;
        let mut picks = Vec::new();
        for &index in order {
            let effort = self.candidates[index].effort;
            // NOTE: the slack absorbs rounding of effort sums that are
            // equal in exact arithmetic.
            if effort <= left + 1e-9 {
                left -= effort;
                picks.push(index);
            }
        }
        picks
    }

    /// Computes the share of the findings' risk (the sum of their scores)
    /// that the first `k` actions of `order` close, or 0 without risk. A
    /// finding that two actions close counts once.
    pub fn risk_share(&self, order: &[usize], k: usize) -> f64 {
        self.risk_share_of(&order[..k.min(order.len())])
    }

    /// Computes the share of the findings' risk that the actions at `picks`
    /// close, or 0 without risk. A finding closed twice counts once.
    pub fn risk_share_of(&self, picks: &[usize]) -> f64 {
        let total: f64 = self.finding_risk.iter().sum();
        if total <= 0.0 {
            return 0.0;
        }
        let mut closed = vec![false; self.finding_risk.len()];
        for &pick in picks {
            for &finding in &self.candidates[pick].closes {
                closed[finding] = true;
            }
        }
        let removed: f64 = closed
            .iter()
            .zip(&self.finding_risk)
            .filter(|(closed, _)| **closed)
            .map(|(_, risk)| risk)
            .sum();
        removed / total
    }
}
