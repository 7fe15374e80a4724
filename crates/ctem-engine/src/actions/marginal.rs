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

use std::cell::Cell;
use std::collections::HashMap;

use ctem_graph::{AttackGraph, FixId, FixRef};

use super::Action;
use crate::paths::AttackPaths;
use crate::paths::success::SuccessModel;

/// Risk points for each unit of attacker success an action removes:
/// 10,000, a hundred findings of the maximum score, for cutting a path of
/// probability 1 to one crown jewel. A crown jewel is what the
/// organization exists to protect, so a likely path to one outweighs many
/// critical findings that lead nowhere. The configuration can set another
/// value (`[prioritization] crown_jewel_value`). docs/actions.md gives the
/// evaluation behind the value.
pub const CROWN_JEWEL_VALUE: f64 = 10_000.0;

/// Ranks `actions` (in the order of [`plan`](super::plan)) greedily by
/// marginal priority, and fills in each action's `success_removed` and its
/// share of `path_bonus`. The ranks and explanations are left to the
/// caller.
///
/// `value` is the risk points per unit of success removed,
/// [`CROWN_JEWEL_VALUE`] unless the configuration sets another.
pub(super) fn rerank(mut actions: Vec<Action>, paths: &AttackPaths, value: f64) -> Vec<Action> {
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
    let mut lookahead_left = LOOKAHEAD_WORK / model.edge_count().max(1);
    while order.len() < count {
        while taken[first_static] {
            first_static += 1;
        }

        let mut best = (first_static, priority(&actions[first_static], 0.0, value));
        if current > 0.0 {
            let touching = touching_actions(&model, &removed, &by_edge, &taken);
            let mut singles = Vec::with_capacity(touching.len());
            for &action in &touching {
                let after = with_edges(&removed, &edges[action]);
                let gain = current - model.success(&after);
                let score = priority(&actions[action], gain, value);
                singles.push(Single {
                    action,
                    score,
                    gain,
                    after,
                });
                if score > best.1 || (score == best.1 && action < best.0) {
                    best = (action, score);
                }
            }
            let greedy = Greedy {
                evaluations: Cell::new(0),
                limit: lookahead_left,
                actions: &actions,
                model: &model,
                edges: &edges,
                by_edge: &by_edge,
                taken: &taken,
                removed: &removed,
                current,
                value,
            };
            if lookahead_left > 0 {
                if let Some(pick) = greedy.lookahead(&singles, best.0) {
                    best = (pick, best.1);
                }
                lookahead_left = lookahead_left.saturating_sub(greedy.evaluations.get());
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
        action.path_bonus += value * gain;
        action.risk_removed = action.finding_risk + action.path_bonus;
        action.priority = action.risk_removed / action.effort;
    }

    let mut slots: Vec<Option<Action>> = actions.into_iter().map(Some).collect();
    order
        .into_iter()
        .map(|index| slots[index].take().expect("each action is taken once"))
        .collect()
}

/// The number of actions from which the lookahead grows groups at each
/// rank: the actions with the highest priority on their own.
const LOOKAHEAD_CANDIDATES: usize = 24;

/// The number of parallel cuts from which the lookahead grows groups on
/// the same crown jewels at each rank (see `Greedy::parallel_seeds`).
const LOOKAHEAD_PARALLEL: usize = 8;

/// The largest group of actions that the lookahead scores together: three
/// actions cut three parallel paths.
const LOOKAHEAD_DEPTH: usize = 3;

/// The work that the lookahead may do in one ranking, counted in edges
/// that its success evaluations visit. An evaluation visits each edge of
/// the model at most once, so the lookahead gets `LOOKAHEAD_WORK / edges`
/// evaluations: at 20,000 generated assets (8,830 edges on paths) that
/// added 1.1 s to a ranking of 0.7 s. Estates of 1,000 and 2,000 assets
/// have about 1,000 edges on paths, and their evaluation ranks the same
/// with five times this work. On larger ones the first ranks, which
/// remove most of the attacker's success, get the lookahead, and the
/// later ranks are plain greedy ones. The check comes between groups, so
/// the last rank with a lookahead may exceed the limit by one group's
/// evaluations.
const LOOKAHEAD_WORK: usize = 40_000_000;

/// The state of the greedy ranking at one rank.
struct Greedy<'a> {
    /// Success evaluations done by the lookahead at this rank.
    evaluations: Cell<usize>,
    /// The evaluations left to the lookahead; past them, it stops and
    /// keeps the greedy pick.
    limit: usize,
    actions: &'a [Action],
    model: &'a SuccessModel,
    edges: &'a [Vec<u32>],
    by_edge: &'a [Vec<usize>],
    taken: &'a [bool],
    removed: &'a [bool],
    current: f64,
    /// Risk points per unit of success removed.
    value: f64,
}

/// An action that touches a most likely path, scored alone at one rank.
struct Single {
    action: usize,
    /// The action's priority if it were taken at this rank.
    score: f64,
    /// The attacker success that the action removes at this rank.
    gain: f64,
    /// The removed edges with the action's edges added.
    after: Vec<bool>,
}

/// A group of actions taken one after another, with what they remove.
struct Group {
    members: Vec<usize>,
    /// The model's edges the members remove, on top of those already removed.
    removed: Vec<bool>,
    risk: f64,
    effort: f64,
}

impl Greedy<'_> {
    /// Evaluates the success measure and counts the evaluation.
    fn success(&self, removed: &[bool]) -> f64 {
        self.evaluations.set(self.evaluations.get() + 1);
        self.model.success(removed)
    }

    /// Lists the actions on a most likely path, as [`touching_actions`]
    /// does, and counts the search.
    fn touching(&self, removed: &[bool], taken: &[bool]) -> Vec<usize> {
        self.evaluations.set(self.evaluations.get() + 1);
        touching_actions(self.model, removed, self.by_edge, taken)
    }

    /// Picks the first member of a group of actions that removes more
    /// together than the greedy ranks would, or returns `None`. An action
    /// that cuts one of two (or three) parallel paths removes little alone
    /// and much with the actions that cut the others, and a one-step greedy
    /// rank misses that.
    ///
    /// From each of the best [`LOOKAHEAD_CANDIDATES`] actions that touch a
    /// most likely path, grows a group by adding, up to
    /// [`LOOKAHEAD_DEPTH`] members, the action on a most likely path left
    /// that gives the group the highest priority, `(risk of the members +
    /// value * success the group removes) / (effort of the members)`. It
    /// grows a group from each parallel cut of [`Greedy::parallel_seeds`]
    /// too, adding only actions on the paths of that cut's crown jewels.
    /// The greedy ranks from `best_single` on grow a group the same way, by
    /// their own marginal priority. A group of size n competes with the
    /// greedy group of size n on its priority plus the priority of its
    /// best member alone, so that the first rank keeps some weight. When
    /// some group wins, returns its member of highest priority alone; the
    /// next ranks then find the other members worth more than before.
    fn lookahead(&self, singles: &[Single], best_single: usize) -> Option<usize> {
        let single_score: HashMap<usize, f64> = singles.iter().map(|single| (single.action, single.score)).collect();
        let alone = |action: usize| {
            single_score
                .get(&action)
                .copied()
                .unwrap_or_else(|| priority(&self.actions[action], 0.0, self.value))
        };
        let greedy = self.greedy_group(best_single);
        let mut first: Vec<&Single> = singles.iter().collect();
        first.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.action.cmp(&b.action)));
        first.truncate(LOOKAHEAD_CANDIDATES);
        let seeds = first.into_iter().map(|single| (single, None)).chain(
            self.parallel_seeds(singles)
                .into_iter()
                .map(|(single, jewels)| (single, Some(jewels))),
        );

        let mut best: Option<(f64, usize)> = None;
        for (single, focus) in seeds {
            if self.evaluations.get() >= self.limit {
                return None;
            }
            let action = single.action;
            let mut group = Group {
                members: vec![action],
                removed: single.after.clone(),
                risk: self.actions[action].risk_removed,
                effort: self.actions[action].effort,
            };
            while group.members.len() < LOOKAHEAD_DEPTH {
                let Some(score) = self.grow(&mut group, focus.as_deref()) else {
                    break;
                };
                let Some(&to_beat) = greedy.get(group.members.len() - 2) else {
                    break;
                };
                let lead = group
                    .members
                    .iter()
                    .map(|&member| alone(member))
                    .fold(f64::NEG_INFINITY, f64::max);
                let margin = lead + score - (alone(best_single) + to_beat);
                if margin > 0.0 && best.is_none_or(|(best_margin, _)| margin > best_margin) {
                    let pick = group
                        .members
                        .iter()
                        .copied()
                        .max_by(|&a, &b| alone(a).total_cmp(&alone(b)).then(b.cmp(&a)))
                        .expect("a group has members");
                    best = Some((margin, pick));
                }
            }
        }
        best.map(|(_, pick)| pick)
    }

    /// Picks the parallel cuts: actions that cut a most likely path but
    /// remove less than half of the success of the crown jewels on it,
    /// because a parallel path nearly as likely remains. Such an action
    /// ranks low alone, and growing its group by the best action overall
    /// adds other crown jewels' cuts before the partner it needs. Returns
    /// at most [`LOOKAHEAD_PARALLEL`] cuts with their crown jewels, those
    /// that leave the most success first.
    // NOTE: the half and the 8 cuts of LOOKAHEAD_PARALLEL were set by
    // judgement and not tuned; the evaluation in docs/prioritization.md
    // measured only these values.
    fn parallel_seeds<'s>(&self, singles: &'s [Single]) -> Vec<(&'s Single, Vec<usize>)> {
        self.evaluations.set(self.evaluations.get() + 1);
        let paths = self.model.most_likely_paths(self.removed);
        let mut seeds: Vec<(f64, &Single, Vec<usize>)> = singles
            .iter()
            .filter_map(|single| {
                let edges = &self.edges[single.action];
                let jewels: Vec<usize> = (0..paths.len())
                    .filter(|&jewel| paths[jewel].edges.iter().any(|edge| edges.binary_search(edge).is_ok()))
                    .collect();
                let at_stake: f64 = jewels.iter().map(|&jewel| paths[jewel].probability).sum();
                (single.gain < 0.5 * at_stake).then_some((at_stake - single.gain, single, jewels))
            })
            .collect();
        seeds.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.action.cmp(&b.1.action)));
        seeds.truncate(LOOKAHEAD_PARALLEL);
        seeds.into_iter().map(|(_, single, jewels)| (single, jewels)).collect()
    }

    /// Adds to `group` the action that gives the group the highest
    /// priority, among those on a most likely path left after the group,
    /// or on the most likely path of one of the crown jewels at `focus`
    /// where given. Returns that priority, or `None` when no such action
    /// exists.
    fn grow(&self, group: &mut Group, focus: Option<&[usize]>) -> Option<f64> {
        if self.success(&group.removed) <= 0.0 {
            return None;
        }
        let mut pending = self.taken.to_vec();
        for &member in &group.members {
            pending[member] = true;
        }
        let candidates = match focus {
            None => self.touching(&group.removed, &pending),
            Some(jewels) => {
                self.evaluations.set(self.evaluations.get() + 1);
                let paths = self.model.most_likely_paths(&group.removed);
                let mut candidates: Vec<usize> = jewels
                    .iter()
                    .flat_map(|&jewel| paths[jewel].edges.iter())
                    .flat_map(|&edge| self.by_edge[edge as usize].iter().copied())
                    .filter(|&action| !pending[action])
                    .collect();
                candidates.sort_unstable();
                candidates.dedup();
                candidates
            }
        };
        let mut best: Option<(f64, usize, Vec<bool>)> = None;
        for candidate in candidates {
            let removed = with_edges(&group.removed, &self.edges[candidate]);
            let action = &self.actions[candidate];
            let gain = self.current - self.success(&removed);
            let score = (group.risk + action.risk_removed + self.value * gain) / (group.effort + action.effort);
            if best.as_ref().is_none_or(|(best_score, _, _)| score > *best_score) {
                best = Some((score, candidate, removed));
            }
        }
        let (score, candidate, removed) = best?;
        group.members.push(candidate);
        group.removed = removed;
        group.risk += self.actions[candidate].risk_removed;
        group.effort += self.actions[candidate].effort;
        Some(score)
    }

    /// Scores the groups of sizes 2 to [`LOOKAHEAD_DEPTH`] that the next
    /// greedy ranks take from `first` on, as [`Greedy::lookahead`] scores
    /// a group.
    fn greedy_group(&self, first: usize) -> Vec<f64> {
        let mut taken = self.taken.to_vec();
        let mut removed = self.removed.to_vec();
        let (mut risk, mut effort) = (0.0, 0.0);
        let mut scores = Vec::new();
        let mut pick = first;
        loop {
            taken[pick] = true;
            removed = with_edges(&removed, &self.edges[pick]);
            risk += self.actions[pick].risk_removed;
            effort += self.actions[pick].effort;
            let left = self.success(&removed);
            if pick != first {
                scores.push((risk + self.value * (self.current - left)) / effort);
            }
            if scores.len() + 1 >= LOOKAHEAD_DEPTH {
                return scores;
            }
            // The next greedy rank: the best action on a path left, or else
            // the best action in plan order.
            let mut best = taken
                .iter()
                .position(|taken| !taken)
                .map(|in_order| (priority(&self.actions[in_order], 0.0, self.value), in_order));
            if left > 0.0 {
                for candidate in self.touching(&removed, &taken) {
                    let gain = left - self.success(&with_edges(&removed, &self.edges[candidate]));
                    let score = priority(&self.actions[candidate], gain, self.value);
                    if best.is_none_or(|(best_score, best_pick)| {
                        score > best_score || (score == best_score && candidate < best_pick)
                    }) {
                        best = Some((score, candidate));
                    }
                }
            }
            match best {
                Some((_, next)) => pick = next,
                None => return scores,
            }
        }
    }
}

/// Lists the actions not yet taken that remove an edge of a most likely
/// path with the edges of `removed` gone, sorted.
fn touching_actions(model: &SuccessModel, removed: &[bool], by_edge: &[Vec<usize>], taken: &[bool]) -> Vec<usize> {
    let mut touching: Vec<usize> = model
        .most_likely_edges(removed)
        .iter()
        .flat_map(|&edge| by_edge[edge as usize].iter().copied())
        .filter(|&action| !taken[action])
        .collect();
    touching.sort_unstable();
    touching.dedup();
    touching
}

/// Returns `removed` with `edges` removed too.
fn with_edges(removed: &[bool], edges: &[u32]) -> Vec<bool> {
    let mut after = removed.to_vec();
    for &edge in edges {
        after[edge as usize] = true;
    }
    after
}

/// Computes the priority of an action that would remove `gain` of
/// attacker success, worth `value` risk points per unit.
fn priority(action: &Action, gain: f64, value: f64) -> f64 {
    (action.risk_removed + value * gain) / action.effort
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
