//! Minimal fix sets: the cheapest set of fixes that cuts every path from a
//! start to a set of targets.
//!
//! An edge is removed when any one of its fixes is applied, and a fix costs
//! the same however many edges it removes. Only the edges on some path from
//! the start to a target matter (the relevant edges); targets are
//! absorbing, as everywhere in [`crate::analysis`].
//!
//! The relevant edges fall into groups of parallel edges (same source, same
//! target). When every fix removes relevant edges of one group only, the
//! groups share no fix and the problem is a minimum cut, solved exactly:
//!
//! - a group with an edge that no fix of finite cost removes is an arc of
//!   infinite capacity;
//! - any other group is split into a node pair whose inner arc carries the
//!   group's cost: the cheapest set of its fixes that removes all its
//!   edges, so a fix shared by parallel edges is paid once;
//! - Dinic's algorithm finds a maximum flow from the start to a super sink
//!   joined to the targets, and the groups whose inner arc leaves the
//!   residual-reachable side form a minimum cut.
//!
//! When a fix removes edges of several groups, the minimum fix set is
//! NP-hard in general (it contains minimum hitting set). Then the method is
//! `greedy` and the result is an upper bound, not a proven minimum: take the
//! minimum cut above, where each group is priced as if its fixes were its
//! own, apply the union of the chosen fixes, and drop again, most expensive
//! first, every fix whose removal leaves every path cut.

use std::collections::BTreeSet;

use crate::analysis::{FixSet, node_mask, reach_backward, reach_forward, usable};
use crate::{AttackGraph, EdgeId, FixId, NodeId};

const NONE: u32 = u32::MAX;

/// Limits of the fix-set search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixSetOptions {
    /// The most distinct fixes of one group of parallel edges whose cheapest
    /// hitting set is searched over every subset (2^n subsets). Larger
    /// groups use greedy set cover, and the result is no longer exact.
    pub max_exhaustive_group_fixes: usize,
}

impl Default for FixSetOptions {
    fn default() -> Self {
        FixSetOptions {
            max_exhaustive_group_fixes: 16,
        }
    }
}

/// Finds the cheapest set of fixes that cuts every path from `from` to
/// `targets`. A cost that is NaN or negative counts as 0; an infinite cost
/// means the fix cannot be applied.
pub fn minimal_fix_set_with(
    graph: &AttackGraph,
    from: NodeId,
    targets: &[NodeId],
    cost: &dyn Fn(FixId) -> f64,
    options: &FixSetOptions,
) -> FixSet {
    let is_target = node_mask(graph, targets);
    let fix_cost: Vec<f64> = (0..graph.fixes.len() as FixId)
        .map(|fix| {
            let cost = cost(fix);
            if cost >= 0.0 { cost } else { 0.0 }
        })
        .collect();
    let relevant = Relevant::new(graph, from, targets, &is_target);
    if !relevant.any_target {
        return FixSet {
            fixes: Vec::new(),
            cost: 0.0,
            exact: true,
            method: "min_cut",
            uncuttable: false,
            uncut_path: Vec::new(),
        };
    }

    let cuttable = |id: EdgeId| graph.fixes_of(id).iter().any(|&fix| fix_cost[fix as usize].is_finite());
    if let Some(path) = uncut_path(graph, from, &is_target, &relevant, &cuttable) {
        return FixSet {
            fixes: Vec::new(),
            cost: f64::INFINITY,
            exact: true,
            method: "min_cut",
            uncuttable: true,
            uncut_path: path,
        };
    }

    let local = fixes_are_local(graph, &relevant);
    let network = CutNetwork::build(graph, from, &is_target, &relevant, &fix_cost, options);
    let mut network = network;
    let groups_exact = network.groups_exact;
    let mut chosen_for = network.min_cut();
    let mut chosen: BTreeSet<FixId> = chosen_for.iter().map(|&(fix, _)| fix).collect();
    if !local {
        chosen_for.sort_unstable();
        prune(graph, &relevant, &network, &fix_cost, &chosen_for, &mut chosen);
    }

    let fixes: Vec<FixId> = chosen.into_iter().collect();
    FixSet {
        cost: fixes.iter().map(|&fix| fix_cost[fix as usize]).sum(),
        fixes,
        exact: local && groups_exact,
        method: if local { "min_cut" } else { "greedy" },
        uncuttable: false,
        uncut_path: Vec::new(),
    }
}

/// The nodes and edges on some path from the start to a target.
struct Relevant {
    node: Vec<bool>,
    /// The relevant edges in ascending order, so parallel edges are adjacent.
    edges: Vec<EdgeId>,
    edge_mask: Vec<bool>,
    any_target: bool,
}

impl Relevant {
    fn new(graph: &AttackGraph, from: NodeId, targets: &[NodeId], is_target: &[bool]) -> Relevant {
        let forward = reach_forward(graph, from, Some(is_target));
        let backward = reach_backward(graph, targets, Some(is_target));
        let node: Vec<bool> = forward.iter().zip(&backward).map(|(&f, &b)| f && b).collect();
        let any_target = node.iter().zip(is_target).any(|(&n, &t)| n && t);

        let mut edges = Vec::new();
        let mut edge_mask = vec![false; graph.edge_count()];
        for tail in 0..graph.node_count() as NodeId {
            if !node[tail as usize] || is_target[tail as usize] {
                continue;
            }
            for id in graph.out_edges(tail) {
                let edge = graph.edge(id);
                if usable(edge) && node[edge.to as usize] {
                    edges.push(id);
                    edge_mask[id as usize] = true;
                }
            }
        }
        Relevant {
            node,
            edges,
            edge_mask,
            any_target,
        }
    }

    fn edge(&self, id: EdgeId) -> bool {
        self.edge_mask[id as usize]
    }
}

/// A path from `from` to a target whose edges no fix removes, if any.
fn uncut_path(
    graph: &AttackGraph,
    from: NodeId,
    is_target: &[bool],
    relevant: &Relevant,
    cuttable: &dyn Fn(EdgeId) -> bool,
) -> Option<Vec<EdgeId>> {
    if is_target[from as usize] {
        return Some(Vec::new());
    }
    let mut predecessor = vec![NONE; graph.node_count()];
    let mut seen = vec![false; graph.node_count()];
    seen[from as usize] = true;
    let mut queue = vec![from];
    let mut head = 0;
    while head < queue.len() {
        let node = queue[head];
        head += 1;
        for id in graph.out_edges(node) {
            let to = graph.edge(id).to;
            if seen[to as usize] || !relevant.edge(id) || cuttable(id) {
                continue;
            }
            seen[to as usize] = true;
            predecessor[to as usize] = id;
            if is_target[to as usize] {
                let mut path = vec![id];
                let mut at = node;
                while at != from {
                    let id = predecessor[at as usize];
                    path.push(id);
                    at = graph.edge(id).from;
                }
                path.reverse();
                return Some(path);
            }
            queue.push(to);
        }
    }
    None
}

/// Whether every fix removes relevant edges of at most one group of
/// parallel edges.
fn fixes_are_local(graph: &AttackGraph, relevant: &Relevant) -> bool {
    let mut group_of_fix = vec![(NONE, NONE); graph.fixes.len()];
    for &id in &relevant.edges {
        let edge = graph.edge(id);
        for &fix in graph.fixes_of(id) {
            let group = &mut group_of_fix[fix as usize];
            if group.0 == NONE {
                *group = (edge.from, edge.to);
            } else if *group != (edge.from, edge.to) {
                return false;
            }
        }
    }
    true
}

/// Removes, most expensive first, every chosen fix without which every path
/// stays cut. Each try is one search over the network, where a split group
/// is closed while the remaining fixes remove all its edges.
///
/// `chosen_for` pairs each chosen fix with the group it was chosen for,
/// sorted. When no chosen fix removes an edge outside the groups it was
/// chosen for, nothing is tried: each group of a minimum cut then lies on a
/// path that no other chosen fix cuts (the flow through it reaches the sink
/// on the sink side of the cut), so every fix of positive cost is needed.
fn prune(
    graph: &AttackGraph,
    relevant: &Relevant,
    network: &CutNetwork,
    fix_cost: &[f64],
    chosen_for: &[(FixId, u32)],
    chosen: &mut BTreeSet<FixId>,
) {
    // How many applied fixes remove each relevant edge, and the edges of
    // each chosen fix, as positions in `relevant.edges`.
    let mut applied_count = vec![0u32; relevant.edges.len()];
    let mut edges_of_fix: Vec<(FixId, u32)> = Vec::new();
    for (position, &id) in relevant.edges.iter().enumerate() {
        let mut fixes: Vec<FixId> = graph
            .fixes_of(id)
            .iter()
            .copied()
            .filter(|fix| chosen.contains(fix))
            .collect();
        fixes.sort_unstable();
        fixes.dedup();
        applied_count[position] = fixes.len() as u32;
        edges_of_fix.extend(fixes.into_iter().map(|fix| (fix, position as u32)));
    }
    edges_of_fix.sort_unstable();

    let mut group_of_position = vec![NONE; relevant.edges.len()];
    let mut removed_in_group = vec![0u32; network.groups.len()];
    for (index, group) in network.groups.iter().enumerate() {
        for position in group.edges.clone() {
            group_of_position[position] = index as u32;
            if applied_count[position] > 0 {
                removed_in_group[index] += 1;
            }
        }
    }

    let spills = edges_of_fix.iter().any(|&(fix, position)| {
        chosen_for
            .binary_search(&(fix, group_of_position[position as usize]))
            .is_err()
    });
    if !spills {
        return;
    }

    let mut order: Vec<FixId> = chosen.iter().copied().collect();
    order.sort_by(|a, b| fix_cost[*b as usize].total_cmp(&fix_cost[*a as usize]).then(a.cmp(b)));
    let mut closed = vec![false; network.flow.head.len()];
    for (group, removed) in network.groups.iter().zip(&removed_in_group) {
        closed[group.inner_arc as usize] = *removed as usize == group.edges.len();
    }
    let mut changed = Vec::new();
    let mut searches = 0;
    for fix in order {
        let start = edges_of_fix.partition_point(|&(other, _)| other < fix);
        let end = edges_of_fix.partition_point(|&(other, _)| other <= fix);
        let fix_edges = &edges_of_fix[start..end];
        changed.clear();
        toggle(
            fix_edges,
            -1,
            &mut applied_count,
            &group_of_position,
            &mut removed_in_group,
            &mut changed,
        );
        let opened: Vec<usize> = changed
            .iter()
            .map(|&group| group as usize)
            .filter(|&group| {
                let arc = network.groups[group].inner_arc as usize;
                closed[arc] && removed_in_group[group] as usize != network.groups[group].edges.len()
            })
            .collect();
        // Withdrawing a fix whose groups all stay closed cuts every path
        // that was cut before, so it goes without a search.
        if opened.is_empty() {
            chosen.remove(&fix);
            continue;
        }
        let reconnects = if searches < MAX_PRUNE_SEARCHES {
            searches += 1;
            for &group in &opened {
                closed[network.groups[group].inner_arc as usize] = false;
            }
            let connects = network.flow.connects(network.source, network.sink, &closed);
            for &group in &opened {
                closed[network.groups[group].inner_arc as usize] = true;
            }
            connects
        } else {
            true
        };
        if reconnects {
            changed.clear();
            toggle(
                fix_edges,
                1,
                &mut applied_count,
                &group_of_position,
                &mut removed_in_group,
                &mut changed,
            );
        } else {
            chosen.remove(&fix);
            for &group in &opened {
                closed[network.groups[group].inner_arc as usize] = false;
            }
        }
    }
}

/// The searches over the network that [`prune`] runs at most per fix set.
/// Each costs a pass over the network, so a cut of thousands of fixes on a
/// graph of millions of edges would take minutes; past the bound the
/// remaining fixes are kept, which leaves a valid cut that may not be
/// minimal.
const MAX_PRUNE_SEARCHES: usize = 64;

/// Applies (`delta` 1) or withdraws (`delta` -1) one fix, given its edges,
/// in the removal counts of [`prune`].
fn toggle(
    fix_edges: &[(FixId, u32)],
    delta: i32,
    applied: &mut [u32],
    group_of_position: &[u32],
    removed_in_group: &mut [u32],
    changed: &mut Vec<u32>,
) {
    for &(_, position) in fix_edges {
        let position = position as usize;
        let before = applied[position] > 0;
        applied[position] = applied[position].wrapping_add_signed(delta);
        let group = group_of_position[position];
        if group != NONE && before != (applied[position] > 0) {
            let removed = &mut removed_in_group[group as usize];
            *removed = removed.wrapping_add_signed(delta);
            changed.push(group);
        }
    }
}

/// The cheapest set of fixes that removes every edge of a group, and
/// whether it is a proven minimum.
fn group_hitting_set(
    graph: &AttackGraph,
    edges: &[EdgeId],
    fix_cost: &[f64],
    options: &FixSetOptions,
) -> (Vec<FixId>, f64, bool) {
    let sets: Vec<Vec<FixId>> = edges
        .iter()
        .map(|&id| {
            let mut set: Vec<FixId> = graph
                .fixes_of(id)
                .iter()
                .copied()
                .filter(|&fix| fix_cost[fix as usize].is_finite())
                .collect();
            set.sort_unstable();
            set.dedup();
            set
        })
        .collect();
    let mut distinct: Vec<FixId> = sets.iter().flatten().copied().collect();
    distinct.sort_unstable();
    distinct.dedup();
    let total = |fixes: &[FixId]| fixes.iter().map(|&fix| fix_cost[fix as usize]).sum::<f64>();

    if sets.iter().all(|set| set.len() == 1) {
        let cost = total(&distinct);
        return (distinct, cost, true);
    }

    if distinct.len() <= options.max_exhaustive_group_fixes.min(20) {
        let masks: Vec<u32> = sets
            .iter()
            .map(|set| {
                set.iter()
                    .map(|fix| 1u32 << distinct.binary_search(fix).expect("fix is in the union"))
                    .fold(0, |mask, bit| mask | bit)
            })
            .collect();
        let mut best = (u32::MAX, f64::INFINITY);
        for subset in 1u32..(1 << distinct.len()) {
            if masks.iter().all(|&mask| mask & subset != 0) {
                let cost: f64 = (0..distinct.len())
                    .filter(|&i| subset & (1 << i) != 0)
                    .map(|i| fix_cost[distinct[i] as usize])
                    .sum();
                if cost < best.1 {
                    best = (subset, cost);
                }
            }
        }
        let fixes: Vec<FixId> = (0..distinct.len())
            .filter(|&i| best.0 & (1 << i) != 0)
            .map(|i| distinct[i])
            .collect();
        return (fixes, best.1, true);
    }

    // Greedy weighted set cover: the fix with the lowest cost per newly
    // removed edge, until every edge is removed.
    let mut removed = vec![false; sets.len()];
    let mut fixes = Vec::new();
    while removed.iter().any(|&done| !done) {
        let best = distinct
            .iter()
            .map(|&fix| {
                let newly = sets
                    .iter()
                    .zip(&removed)
                    .filter(|(set, done)| !**done && set.contains(&fix))
                    .count();
                (fix, newly)
            })
            .filter(|&(_, newly)| newly > 0)
            .min_by(|a, b| {
                let ratio = |(fix, newly): (FixId, usize)| fix_cost[fix as usize] / newly as f64;
                ratio(*a).total_cmp(&ratio(*b)).then(a.0.cmp(&b.0))
            })
            .map(|(fix, _)| fix)
            .expect("every group edge has a fix of finite cost");
        for (set, done) in sets.iter().zip(removed.iter_mut()) {
            *done |= set.contains(&best);
        }
        fixes.push(best);
    }
    let cost = total(&fixes);
    (fixes, cost, false)
}

/// The flow network of the relevant edges, with each group of parallel
/// edges that fixes can remove split into a node pair.
struct CutNetwork {
    flow: FlowNetwork,
    source: u32,
    sink: u32,
    groups: Vec<Group>,
    /// Whether every group's hitting set is a proven minimum.
    groups_exact: bool,
}

/// A group of parallel edges that fixes can remove, split into a node pair.
struct Group {
    inner: u32,
    outer: u32,
    /// The position of the arc from `inner` to `outer` in the network.
    inner_arc: u32,
    /// The cheapest fixes that remove all edges of the group.
    fixes: Vec<FixId>,
    /// The group's edges, as positions in [`Relevant::edges`].
    edges: std::ops::Range<usize>,
}

impl CutNetwork {
    fn build(
        graph: &AttackGraph,
        from: NodeId,
        is_target: &[bool],
        relevant: &Relevant,
        fix_cost: &[f64],
        options: &FixSetOptions,
    ) -> CutNetwork {
        let mut index = vec![NONE; graph.node_count()];
        let mut next = 0u32;
        for (node, _) in relevant.node.iter().enumerate().filter(|(_, is)| **is) {
            index[node] = next;
            next += 1;
        }
        let sink = next;
        next += 1;

        let mut arcs: Vec<(u32, u32, f64)> = Vec::new();
        let mut groups = Vec::new();
        let mut groups_exact = true;
        for (node, &is) in is_target.iter().enumerate() {
            if is && relevant.node[node] {
                arcs.push((index[node], sink, f64::INFINITY));
            }
        }
        // Edges are sorted by (from, to), so each group is a run.
        let mut position = 0;
        let mut inner_arcs = Vec::new();
        for group in relevant.edges.chunk_by(|&a, &b| {
            let (a, b) = (graph.edge(a), graph.edge(b));
            (a.from, a.to) == (b.from, b.to)
        }) {
            let edges = position..position + group.len();
            position += group.len();
            let first = graph.edge(group[0]);
            let (tail, head) = (index[first.from as usize], index[first.to as usize]);
            let always = group.iter().any(|&id| {
                graph
                    .fixes_of(id)
                    .iter()
                    .all(|&fix| fix_cost[fix as usize].is_infinite())
            });
            if always {
                arcs.push((tail, head, f64::INFINITY));
                continue;
            }
            let (fixes, cost, exact) = group_hitting_set(graph, group, fix_cost, options);
            groups_exact &= exact;
            let (inner, outer) = (next, next + 1);
            next += 2;
            arcs.push((tail, inner, f64::INFINITY));
            inner_arcs.push(arcs.len());
            arcs.push((inner, outer, cost));
            arcs.push((outer, head, f64::INFINITY));
            groups.push(Group {
                inner,
                outer,
                inner_arc: 0,
                fixes,
                edges,
            });
        }

        let (flow, positions) = FlowNetwork::new(next as usize, &arcs);
        for (group, arc) in groups.iter_mut().zip(inner_arcs) {
            group.inner_arc = positions[arc];
        }
        CutNetwork {
            flow,
            source: index[from as usize],
            sink,
            groups,
            groups_exact,
        }
    }

    /// Finds a minimum cut; returns its fixes, each with the index of the
    /// group it cuts.
    fn min_cut(&mut self) -> Vec<(FixId, u32)> {
        self.flow.max_flow(self.source, self.sink);
        let reached = self.flow.residual_reach(self.source);
        self.groups
            .iter()
            .enumerate()
            .filter(|(_, group)| reached[group.inner as usize] && !reached[group.outer as usize])
            .flat_map(|(index, group)| group.fixes.iter().map(move |&fix| (fix, index as u32)))
            .collect()
    }
}

/// A flow network in compressed sparse rows, each arc next to its reverse.
struct FlowNetwork {
    start: Vec<u32>,
    head: Vec<u32>,
    reverse: Vec<u32>,
    residual: Vec<f64>,
    /// Whether an arc is one of the network's (not a reverse arc).
    forward: Vec<bool>,
    /// Residuals at or below this count as zero, against rounding.
    epsilon: f64,
}

impl FlowNetwork {
    /// Builds the network of `arcs` (tail, head, capacity); also returns
    /// the position of each arc.
    fn new(nodes: usize, arcs: &[(u32, u32, f64)]) -> (FlowNetwork, Vec<u32>) {
        let mut start = vec![0u32; nodes + 1];
        for &(tail, head, _) in arcs {
            start[tail as usize + 1] += 1;
            start[head as usize + 1] += 1;
        }
        for v in 0..nodes {
            start[v + 1] += start[v];
        }
        let mut slot = start.clone();
        let mut head = vec![0u32; arcs.len() * 2];
        let mut reverse = vec![0u32; arcs.len() * 2];
        let mut residual = vec![0.0; arcs.len() * 2];
        let mut forward = vec![false; arcs.len() * 2];
        let mut positions = Vec::with_capacity(arcs.len());
        for &(tail, to, capacity) in arcs {
            let arc = slot[tail as usize];
            slot[tail as usize] += 1;
            let backward = slot[to as usize];
            slot[to as usize] += 1;
            head[arc as usize] = to;
            head[backward as usize] = tail;
            residual[arc as usize] = capacity;
            forward[arc as usize] = true;
            reverse[arc as usize] = backward;
            reverse[backward as usize] = arc;
            positions.push(arc);
        }
        let largest = arcs
            .iter()
            .map(|arc| arc.2)
            .filter(|capacity| capacity.is_finite())
            .fold(0.0, f64::max);
        let network = FlowNetwork {
            start,
            head,
            reverse,
            residual,
            forward,
            epsilon: largest * 1e-12,
        };
        (network, positions)
    }

    fn nodes(&self) -> usize {
        self.start.len() - 1
    }

    /// Dinic's algorithm: breadth-first levels, then blocking flows along
    /// level-increasing arcs with an explicit stack of arcs.
    fn max_flow(&mut self, source: u32, sink: u32) -> f64 {
        let mut total = 0.0;
        let mut level = vec![u32::MAX; self.nodes()];
        let mut cursor = vec![0u32; self.nodes()];
        let mut stack: Vec<u32> = Vec::new();
        loop {
            self.levels(source, Some(sink), &mut level);
            if level[sink as usize] == u32::MAX {
                return total;
            }
            cursor.copy_from_slice(&self.start[..self.nodes()]);
            stack.clear();
            let mut node = source;
            loop {
                if node == sink {
                    let pushed = stack
                        .iter()
                        .map(|&arc| self.residual[arc as usize])
                        .fold(f64::INFINITY, f64::min);
                    for &arc in &stack {
                        self.residual[arc as usize] -= pushed;
                        self.residual[self.reverse[arc as usize] as usize] += pushed;
                    }
                    total += pushed;
                    let saturated = stack
                        .iter()
                        .position(|&arc| self.residual[arc as usize] <= self.epsilon)
                        .expect("the path has a finite arc, since no path is uncuttable");
                    stack.truncate(saturated);
                    node = stack.last().map_or(source, |&arc| self.head[arc as usize]);
                    continue;
                }

                let end = self.start[node as usize + 1];
                let mut arc = cursor[node as usize];
                while arc < end {
                    let to = self.head[arc as usize];
                    if self.residual[arc as usize] > self.epsilon && level[to as usize] == level[node as usize] + 1 {
                        break;
                    }
                    arc += 1;
                }
                cursor[node as usize] = arc;
                if arc < end {
                    stack.push(arc);
                    node = self.head[arc as usize];
                    continue;
                }

                // A dead end: no augmenting path leaves it in this phase.
                level[node as usize] = u32::MAX;
                let Some(arc) = stack.pop() else {
                    break;
                };
                node = self.head[self.reverse[arc as usize] as usize];
                cursor[node as usize] += 1;
            }
        }
    }

    /// Sets the breadth-first level of each node over arcs with residual
    /// capacity. With `stop`, nodes no closer than `stop` are not expanded,
    /// since no shortest augmenting path goes through them.
    fn levels(&self, source: u32, stop: Option<u32>, level: &mut [u32]) {
        level.fill(u32::MAX);
        level[source as usize] = 0;
        let mut queue = vec![source];
        let mut head = 0;
        while head < queue.len() {
            let node = queue[head];
            head += 1;
            if stop.is_some_and(|stop| level[node as usize] >= level[stop as usize]) {
                break;
            }
            for arc in self.start[node as usize]..self.start[node as usize + 1] {
                let to = self.head[arc as usize];
                if self.residual[arc as usize] > self.epsilon && level[to as usize] == u32::MAX {
                    level[to as usize] = level[node as usize] + 1;
                    queue.push(to);
                }
            }
        }
    }

    /// Returns the nodes reachable from `source` along arcs with residual
    /// capacity.
    fn residual_reach(&self, source: u32) -> Vec<bool> {
        let mut level = vec![u32::MAX; self.nodes()];
        self.levels(source, None, &mut level);
        level.iter().map(|&level| level != u32::MAX).collect()
    }

    /// Checks whether `sink` is reachable from `source` along the network's
    /// own arcs, whatever their capacity, except the `closed` ones.
    fn connects(&self, source: u32, sink: u32, closed: &[bool]) -> bool {
        let mut seen = vec![false; self.nodes()];
        seen[source as usize] = true;
        let mut stack = vec![source];
        while let Some(node) = stack.pop() {
            if node == sink {
                return true;
            }
            for arc in self.start[node as usize]..self.start[node as usize + 1] {
                let to = self.head[arc as usize];
                if self.forward[arc as usize] && !closed[arc as usize] && !seen[to as usize] {
                    seen[to as usize] = true;
                    stack.push(to);
                }
            }
        }
        false
    }
}
