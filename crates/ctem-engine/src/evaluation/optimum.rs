//! The best actions of an instance within a budget, by branch and bound.
//! A budget counts either actions (the best k) or effort (the best set
//! whose efforts sum to at most a number of effort units).
//!
//! The search may drop two kinds of action without losing the optimum. An
//! action that removes no edge of the success model lowers nothing. An
//! action whose edges are a subset of another's, at no less effort, can be
//! replaced by the other, which does at least as well. The remaining
//! actions are tried in the order of what each removes alone, and a
//! subtree is cut when even taking every action left to it that fits the
//! budget left would not beat the best set found so far. That bound is
//! valid because removing edges never makes a path more likely.

use super::Instance;

/// The exact optimum for one budget.
#[derive(Debug, Clone, PartialEq)]
pub struct Optimum {
    /// The success measure after the best actions.
    pub success: f64,
    /// The best actions, as indexes into the instance's candidates.
    pub picks: Vec<usize>,
    /// The number of success evaluations the search took.
    pub evaluations: u64,
}

/// Slack for sums of efforts that are equal in exact arithmetic.
const EFFORT_SLACK: f64 = 1e-9;

/// Finds `k` actions that leave the lowest success measure. `None` when the
/// search would take more than `limit` evaluations of the measure, so the
/// optimum is unknown.
pub fn optimum(instance: &Instance, k: usize, limit: u64) -> Option<Optimum> {
    search(instance, Budget::Actions(k), limit)
}

/// Finds the actions whose efforts sum to at most `effort` units and that
/// leave the lowest success measure. `None` when the search would take
/// more than `limit` evaluations of the measure.
pub fn optimum_within_effort(instance: &Instance, effort: f64, limit: u64) -> Option<Optimum> {
    search(instance, Budget::Effort(effort), limit)
}

/// A budget: a number of actions or a number of effort units.
#[derive(Debug, Clone, Copy)]
enum Budget {
    Actions(usize),
    Effort(f64),
}

fn search(instance: &Instance, budget: Budget, limit: u64) -> Option<Optimum> {
    let edge_count = instance.model.edge_count();
    // Under a budget of actions every action costs one.
    let cost = |index: usize| match budget {
        Budget::Actions(_) => 1.0,
        Budget::Effort(_) => instance.candidates[index].effort,
    };
    let capacity = match budget {
        Budget::Actions(k) => k as f64,
        Budget::Effort(effort) => effort,
    };
    let pool: Vec<Slot> = (0..instance.candidates.len())
        .map(|index| Slot {
            index,
            edges: instance.edges_of(index),
            cost: cost(index),
        })
        .filter(|slot| !slot.edges.is_empty() && slot.cost <= capacity + EFFORT_SLACK)
        .collect();
    let pool = undominated(pool);

    let mut search = Search {
        instance,
        pool: Vec::new(),
        counting: matches!(budget, Budget::Actions(_)),
        limit,
        evaluations: 0,
        best: f64::INFINITY,
        best_picks: Vec::new(),
        counts: vec![0; edge_count],
    };
    let mut alone: Vec<(f64, Slot)> = pool
        .into_iter()
        .map(|slot| (search.evaluate(&slot.edges), slot))
        .collect();
    alone.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.index.cmp(&b.1.index)));
    search.pool = alone.into_iter().map(|(_, slot)| slot).collect();

    let total: f64 = search.pool.iter().map(|slot| slot.cost).sum();
    // Actions that cost more than the whole budget are already out of the
    // pool, so a budget of 0 still takes actions that cost nothing.
    if search.pool.is_empty() {
        let success = instance.success_before();
        return Some(Optimum {
            success,
            picks: Vec::new(),
            evaluations: search.evaluations,
        });
    }
    if total <= capacity + EFFORT_SLACK {
        let picks: Vec<usize> = search.pool.iter().map(|slot| slot.index).collect();
        return Some(Optimum {
            success: instance.success_after(&picks),
            picks,
            evaluations: search.evaluations + 1,
        });
    }

    let mut chosen = Vec::new();
    search.branch(0, capacity, &mut chosen).then(|| {
        let mut picks = search.best_picks.clone();
        picks.sort_unstable();
        Optimum {
            success: search.best,
            picks,
            evaluations: search.evaluations,
        }
    })
}

/// An action that the search may take.
#[derive(Debug, Clone)]
struct Slot {
    /// The index into the instance's candidates.
    index: usize,
    /// The edges the action removes, sorted.
    edges: Vec<u32>,
    /// The action's cost against the budget: 1 under a count budget, its
    /// effort under an effort budget.
    cost: f64,
}

struct Search<'a> {
    instance: &'a Instance,
    /// The actions that may be part of the optimum.
    pool: Vec<Slot>,
    /// Whether the budget counts actions, each of cost 1.
    counting: bool,
    limit: u64,
    evaluations: u64,
    best: f64,
    best_picks: Vec<usize>,
    /// How many chosen actions remove each edge.
    counts: Vec<u32>,
}

impl Search<'_> {
    /// Extends `chosen` with actions from `pool[next..]` that fit in
    /// `left`, the budget not yet spent. Returns false when the evaluation
    /// limit was reached.
    fn branch(&mut self, next: usize, left: f64, chosen: &mut Vec<usize>) -> bool {
        let fits = |slot: &Slot| slot.cost <= left + EFFORT_SLACK;
        let mut with_rest: Vec<bool> = self.counts.iter().map(|&count| count > 0).collect();
        let mut any_fits = false;
        for slot in self.pool[next..].iter().filter(|slot| fits(slot)) {
            any_fits = true;
            for &edge in &slot.edges {
                with_rest[edge as usize] = true;
            }
        }
        // With nothing left that fits, `with_rest` is the chosen set itself.
        if !any_fits {
            let success = self.measure(&with_rest);
            if success < self.best {
                self.best = success;
                self.best_picks = chosen.iter().map(|&slot| self.pool[slot].index).collect();
            }
            return self.evaluations <= self.limit;
        }

        // NOTE: 1e-12 absorbs rounding of sums that are equal in exact
        // arithmetic, so a tie with the best set is cut.
        if self.measure(&with_rest) >= self.best - 1e-12 {
            return self.evaluations <= self.limit;
        }
        if self.evaluations > self.limit {
            return false;
        }

        for slot in next..self.pool.len() {
            // With a count budget, a set that cannot be filled is never
            // better than one that can.
            if self.counting && ((self.pool.len() - slot) as f64) < left - EFFORT_SLACK {
                break;
            }
            let cost = self.pool[slot].cost;
            if cost > left + EFFORT_SLACK {
                continue;
            }
            self.apply(slot, true);
            chosen.push(slot);
            let finished = self.branch(slot + 1, left - cost, chosen);
            chosen.pop();
            self.apply(slot, false);
            if !finished {
                return false;
            }
        }
        true
    }

    fn apply(&mut self, slot: usize, add: bool) {
        for &edge in &self.pool[slot].edges {
            if add {
                self.counts[edge as usize] += 1;
            } else {
                self.counts[edge as usize] -= 1;
            }
        }
    }

    fn evaluate(&mut self, edges: &[u32]) -> f64 {
        let mut removed = vec![false; self.counts.len()];
        for &edge in edges {
            removed[edge as usize] = true;
        }
        self.measure(&removed)
    }

    fn measure(&mut self, removed: &[bool]) -> f64 {
        self.evaluations += 1;
        self.instance.model.success(removed)
    }
}

/// Drops every action whose edges are a subset of another's at no less
/// cost. Of actions with equal edges and cost, the first is kept.
fn undominated(pool: Vec<Slot>) -> Vec<Slot> {
    let is_subset = |small: &[u32], large: &[u32]| small.iter().all(|edge| large.binary_search(edge).is_ok());
    let dominated = |position: usize, slot: &Slot| {
        pool.iter().enumerate().any(|(other, larger)| {
            other != position
                && larger.cost <= slot.cost
                && is_subset(&slot.edges, &larger.edges)
                && (larger.edges.len() > slot.edges.len() || larger.cost < slot.cost || other < position)
        })
    };
    pool.iter()
        .enumerate()
        .filter(|(position, slot)| !dominated(*position, slot))
        .map(|(_, slot)| slot.clone())
        .collect()
}
