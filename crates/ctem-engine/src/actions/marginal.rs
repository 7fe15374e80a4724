//! Greedy ranking by marginal reduction of the attacker's chance of
//! reaching the crown jewels.
//!
//! [`plan`](super::plan) scores each action on its own, which misses two
//! things. Two fixes on the same path remove the same chance. A fix that
//! leaves a parallel path of almost equal probability removes little.
//! [`rerank`] therefore picks the actions one at a time. Each step takes
//! the action with the highest priority given the actions picked before
//! it, where an action earns [`CROWN_JEWEL_VALUE`] risk points per
//! unit of attacker success it still removes. The success measure is
//! [`SuccessModel::success`]: the sum over crown jewels of the most likely
//! path's probability.

use std::collections::HashMap;

use ctem_graph::{AttackGraph, FixId, FixRef};

use super::Action;
use crate::paths::AttackPaths;
use crate::paths::success::SuccessModel;

/// Risk points for each unit of attacker success an action removes: 1,000,
/// ten findings of the maximum score, for cutting a path of probability 1
/// to one crown jewel. A crown jewel is what the organization exists to
/// protect, so a likely path to one outweighs several critical findings
/// that lead nowhere. docs/actions.md gives the evaluation behind the
/// value.
pub const CROWN_JEWEL_VALUE: f64 = 1_000.0;

/// Ranks `actions` (in the order of [`plan`](super::plan)) greedily by
/// marginal priority, and fills in each action's `success_removed` and its
/// share of `path_bonus`. The ranks and explanations are left to the
/// caller.
pub(super) fn rerank(mut actions: Vec<Action>, paths: &AttackPaths) -> Vec<Action> {
    let goals: Vec<_> = paths.crown_jewels.iter().map(|jewel| jewel.goals.clone()).collect();
    let model = SuccessModel::new(&paths.graph, &goals);
    let fixes = action_fixes(&actions, &paths.graph);
    let edges: Vec<Vec<u32>> = fixes
        .iter()
        .map(|fixes| {
            let mut edges: Vec<u32> = fixes
                .iter()
                .flat_map(|&fix| model.edges_of(fix).iter().copied())
                .collect();
            edges.sort_unstable();
            edges.dedup();
            edges
        })
        .collect();
    let mut by_edge: Vec<Vec<usize>> = vec![Vec::new(); model.edge_count()];
    for (action, edges) in edges.iter().enumerate() {
        for &edge in edges {
            by_edge[edge as usize].push(action);
        }
    }

    let count = actions.len();
    let mut taken = vec![false; count];
    let mut removed = vec![false; model.edge_count()];
    let mut current = model.success(&removed);
    let mut order = Vec::with_capacity(count);
    // The first action not yet taken in plan order: the best of the
    // actions whose priority does not depend on the graph.
    let mut first_static = 0;
    while order.len() < count {
        while taken[first_static] {
            first_static += 1;
        }

        let mut best = (first_static, priority(&actions[first_static], 0.0));
        if current > 0.0 {
            let mut touching: Vec<usize> = model
                .most_likely_edges(&removed)
                .iter()
                .flat_map(|&edge| by_edge[edge as usize].iter().copied())
                .filter(|&action| !taken[action])
                .collect();
            touching.sort_unstable();
            touching.dedup();
            for action in touching {
                let mut after = removed.clone();
                for &edge in &edges[action] {
                    after[edge as usize] = true;
                }
                let gain = current - model.success(&after);
                let score = priority(&actions[action], gain);
                if score > best.1 || (score == best.1 && action < best.0) {
                    best = (action, score);
                }
            }
        }

        let (pick, _) = best;
        taken[pick] = true;
        order.push(pick);
        for &edge in &edges[pick] {
            removed[edge as usize] = true;
        }
        let gain = if current > 0.0 {
            current - model.success(&removed)
        } else {
            0.0
        };
        current -= gain;
        let action = &mut actions[pick];
        action.success_removed = gain;
        action.path_bonus += CROWN_JEWEL_VALUE * gain;
        action.risk_removed = action.finding_risk + action.path_bonus;
        action.priority = action.risk_removed / action.effort;
    }

    let mut slots: Vec<Option<Action>> = actions.into_iter().map(Some).collect();
    order
        .into_iter()
        .map(|index| slots[index].take().expect("each action is taken once"))
        .collect()
}

/// Computes the priority of an action that would remove `gain` of
/// attacker success.
fn priority(action: &Action, gain: f64) -> f64 {
    (action.risk_removed + CROWN_JEWEL_VALUE * gain) / action.effort
}

/// Lists the fixes of the attack graph that each action applies: the
/// findings it closes, by fingerprint, and its configuration change.
pub fn action_fixes(actions: &[Action], graph: &AttackGraph) -> Vec<Vec<FixId>> {
    let index: HashMap<(Option<&str>, &str), FixId> = graph
        .fixes
        .iter()
        .enumerate()
        .map(|(id, fix)| {
            let key = match fix {
                FixRef::Finding { fingerprint } => (None, fingerprint.as_str()),
                FixRef::Configuration { asset, change } => (Some(asset.as_str()), change.as_str()),
            };
            (key, id as FixId)
        })
        .collect();
    actions
        .iter()
        .map(|action| {
            let mut fixes: Vec<FixId> = action
                .findings
                .iter()
                .filter_map(|closed| index.get(&(None, closed.fingerprint.as_str())).copied())
                .collect();
            if let Some(change) = &action.change
                && let Some(&fix) = index.get(&(Some(change.asset.as_str()), change.change.as_str()))
            {
                fixes.push(fix);
            }
            fixes
        })
        .collect()
}
