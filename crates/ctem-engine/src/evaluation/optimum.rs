//! The best k actions of an instance, by branch and bound.
//!
//! The search may drop two kinds of action without losing the optimum. An
//! action that removes no edge of the success model lowers nothing. An
//! action whose edges are a subset of another's can be replaced by the
//! other, which does at least as well. The remaining actions are tried in the order of what each
//! removes alone, and a subtree is cut when even taking every action left
//! to it, whatever the budget, would not beat the best set found so far.
//! That bound holds because removing edges never makes a path more likely.

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

/// Finds `k` actions that leave the lowest success measure. `None` when the
/// search would take more than `limit` evaluations of the measure, so the
/// optimum is unknown.
pub fn optimum(instance: &Instance, k: usize, limit: u64) -> Option<Optimum> {
    let edge_count = instance.model.edge_count();
    let mut pool: Vec<(usize, Vec<u32>)> = (0..instance.candidates.len())
        .map(|index| (index, instance.edges_of(index)))
        .filter(|(_, edges)| !edges.is_empty())
        .collect();
    pool = undominated(pool);

    let mut search = Search {
        instance,
        pool: Vec::new(),
        k,
        limit,
        evaluations: 0,
        best: f64::INFINITY,
        best_picks: Vec::new(),
        counts: vec![0; edge_count],
    };
    let mut alone: Vec<(f64, usize, Vec<u32>)> = pool
        .into_iter()
        .map(|(index, edges)| (search.evaluate(&edges), index, edges))
        .collect();
    alone.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    search.pool = alone.into_iter().map(|(_, index, edges)| (index, edges)).collect();

    if k == 0 || search.pool.is_empty() {
        let success = instance.success_before();
        return Some(Optimum {
            success,
            picks: Vec::new(),
            evaluations: search.evaluations,
        });
    }
    if search.pool.len() <= k {
        let picks: Vec<usize> = search.pool.iter().map(|(index, _)| *index).collect();
        return Some(Optimum {
            success: instance.success_after(&picks),
            picks,
            evaluations: search.evaluations + 1,
        });
    }

    let mut chosen = Vec::with_capacity(k);
    search.branch(0, &mut chosen).then(|| {
        let mut picks = search.best_picks.clone();
        picks.sort_unstable();
        Optimum {
            success: search.best,
            picks,
            evaluations: search.evaluations,
        }
    })
}

struct Search<'a> {
    instance: &'a Instance,
    /// The actions that may be part of the optimum, each with its edges.
    pool: Vec<(usize, Vec<u32>)>,
    k: usize,
    limit: u64,
    evaluations: u64,
    best: f64,
    best_picks: Vec<usize>,
    /// How many chosen actions remove each edge.
    counts: Vec<u32>,
}

impl Search<'_> {
    /// Extends `chosen` with actions from `pool[next..]`. Returns false when
    /// the evaluation limit was reached.
    fn branch(&mut self, next: usize, chosen: &mut Vec<usize>) -> bool {
        if chosen.len() == self.k || next == self.pool.len() {
            let removed: Vec<bool> = self.counts.iter().map(|&count| count > 0).collect();
            let success = self.measure(&removed);
            if success < self.best {
                self.best = success;
                self.best_picks = chosen.iter().map(|&slot| self.pool[slot].0).collect();
            }
            return self.evaluations <= self.limit;
        }

        let mut with_rest: Vec<bool> = self.counts.iter().map(|&count| count > 0).collect();
        for (_, edges) in &self.pool[next..] {
            for &edge in edges {
                with_rest[edge as usize] = true;
            }
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
            if self.pool.len() - slot < self.k - chosen.len() {
                break;
            }
            self.apply(slot, true);
            chosen.push(slot);
            let finished = self.branch(slot + 1, chosen);
            chosen.pop();
            self.apply(slot, false);
            if !finished {
                return false;
            }
        }
        true
    }

    fn apply(&mut self, slot: usize, add: bool) {
        for &edge in &self.pool[slot].1 {
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

/// Drops every action whose edges are a subset of another action's; of
/// actions with equal edges, the first is kept.
fn undominated(pool: Vec<(usize, Vec<u32>)>) -> Vec<(usize, Vec<u32>)> {
    let is_subset = |small: &[u32], large: &[u32]| small.iter().all(|edge| large.binary_search(edge).is_ok());
    let mut kept = Vec::with_capacity(pool.len());
    for (position, (index, edges)) in pool.iter().enumerate() {
        let dominated = pool.iter().enumerate().any(|(other, (_, larger))| {
            other != position && is_subset(edges, larger) && (larger.len() > edges.len() || other < position)
        });
        if !dominated {
            kept.push((*index, edges.clone()));
        }
    }
    kept
}
