//! The attacker's chance of reaching the crown jewels, and how much a set
//! of fixes lowers it.
//!
//! The measure is the sum over crown jewels of the probability of the most
//! likely path from the internet to a node that compromises the crown
//! jewel, the number that `ctem paths` shows per crown jewel. A crown jewel
//! that the internet does not reach adds 0, so the measure lies between 0
//! and the number of crown jewels.
//!
//! [`SuccessModel`] keeps only the part of the graph that lies on some path
//! from the internet to a crown-jewel goal, with compact adjacency, so that
//! the many evaluations of a ranking or of an exact search stay cheap.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use ctem_graph::analysis;
use ctem_graph::{AttackGraph, FixId, NodeId};

/// The most likely path to one crown jewel.
#[derive(Debug, Clone, PartialEq)]
pub struct JewelPath {
    /// The path's probability, as [`SuccessModel::per_crown_jewel`] gives
    /// it; 0 when the crown jewel is not reached.
    pub probability: f64,
    /// The model's edges of the path, from the goal back to the internet;
    /// empty when the crown jewel is not reached.
    pub edges: Vec<u32>,
}

/// The part of an attack graph that the success measure reads.
#[derive(Debug, Clone)]
pub struct SuccessModel {
    /// Local node 0 is the internet.
    node_count: usize,
    /// Compressed adjacency: the edges leaving local node `n` are
    /// `out_offsets[n]..out_offsets[n + 1]`.
    out_offsets: Vec<u32>,
    heads: Vec<u32>,
    tails: Vec<u32>,
    lengths: Vec<f64>,
    /// For each crown jewel, its goal nodes as local ids.
    goals: Vec<Vec<u32>>,
    /// For each fix of the graph, the local edges it removes.
    fix_edges: Vec<Vec<u32>>,
}

impl SuccessModel {
    /// Keeps the edges of `graph` that lie on a path from the internet to
    /// a goal of `crown_jewel_goals` (one goal list per crown jewel, as
    /// [`AttackGraph::crown_jewel_goals`] returns them).
    pub fn new(graph: &AttackGraph, crown_jewel_goals: &[Vec<NodeId>]) -> SuccessModel {
        let all_goals: Vec<NodeId> = crown_jewel_goals.iter().flatten().copied().collect();
        let from_internet = analysis::blast_radius(graph, AttackGraph::INTERNET).nodes;
        let to_goal = analysis::reaching(graph, &all_goals);

        let mut local = vec![u32::MAX; graph.node_count()];
        local[AttackGraph::INTERNET as usize] = 0;
        let mut node_count = 1;
        for &node in &from_internet {
            if node != AttackGraph::INTERNET && to_goal[node as usize] {
                local[node as usize] = node_count;
                node_count += 1;
            }
        }

        let mut by_tail: Vec<Vec<(u32, f64, u32)>> = vec![Vec::new(); node_count as usize];
        let mut kept = 0u32;
        let mut fix_edges: Vec<Vec<u32>> = vec![Vec::new(); graph.fixes.len()];
        for id in 0..graph.edge_count() as u32 {
            let (tail, head) = (local[graph.edge_tail(id) as usize], local[graph.edge_head(id) as usize]);
            let length = graph.edge_length(id);
            if tail == u32::MAX || head == u32::MAX || head == 0 || !length.is_finite() {
                continue;
            }
            by_tail[tail as usize].push((head, length, kept));
            for &fix in graph.fixes_of(id) {
                fix_edges[fix as usize].push(kept);
            }
            kept += 1;
        }

        // Renumber the edges in adjacency order, so that a fix names the
        // same edges that the search walks.
        let mut renumber = vec![0u32; kept as usize];
        let mut out_offsets = Vec::with_capacity(node_count as usize + 1);
        let mut heads = Vec::with_capacity(kept as usize);
        let mut tails = Vec::with_capacity(kept as usize);
        let mut lengths = Vec::with_capacity(kept as usize);
        out_offsets.push(0);
        for (tail, edges) in by_tail.iter().enumerate() {
            for &(head, length, old) in edges {
                renumber[old as usize] = heads.len() as u32;
                heads.push(head);
                tails.push(tail as u32);
                lengths.push(length);
            }
            out_offsets.push(heads.len() as u32);
        }
        for edges in &mut fix_edges {
            for edge in edges.iter_mut() {
                *edge = renumber[*edge as usize];
            }
        }

        let goals = crown_jewel_goals
            .iter()
            .map(|goals| {
                goals
                    .iter()
                    .map(|&goal| local[goal as usize])
                    .filter(|&goal| goal != u32::MAX)
                    .collect()
            })
            .collect();
        SuccessModel {
            node_count: node_count as usize,
            out_offsets,
            heads,
            tails,
            lengths,
            goals,
            fix_edges,
        }
    }

    /// Returns the number of edges on some path from the internet to a goal.
    pub fn edge_count(&self) -> usize {
        self.heads.len()
    }

    /// Returns the number of crown jewels the measure sums over.
    pub fn crown_jewel_count(&self) -> usize {
        self.goals.len()
    }

    /// Returns the edges of the model that `fix` removes.
    pub fn edges_of(&self, fix: FixId) -> &[u32] {
        self.fix_edges.get(fix as usize).map_or(&[], Vec::as_slice)
    }

    /// Marks the model's edges that the fixes remove, in a mask over all
    /// edges.
    pub fn removed_by(&self, fixes: impl IntoIterator<Item = FixId>) -> Vec<bool> {
        let mut removed = vec![false; self.edge_count()];
        for fix in fixes {
            for &edge in self.edges_of(fix) {
                removed[edge as usize] = true;
            }
        }
        removed
    }

    /// Computes the probability of the most likely path to each crown jewel
    /// with the edges of `removed` gone, in the order of the goal lists.
    pub fn per_crown_jewel(&self, removed: &[bool]) -> Vec<f64> {
        let (distance, _) = self.search(removed);
        self.goals
            .iter()
            .map(|goals| (-self.nearest_goal(goals, &distance).map_or(f64::INFINITY, |(_, d)| d)).exp())
            .collect()
    }

    /// Sums over crown jewels the probability of the most likely path, with the edges of `removed` gone.
    pub fn success(&self, removed: &[bool]) -> f64 {
        self.per_crown_jewel(removed).iter().sum()
    }

    /// Lists the edges of the most likely path to each crown jewel with the
    /// edges of `removed` gone, sorted and without repeats. Only a fix that
    /// removes one of them can lower [`SuccessModel::success`].
    pub fn most_likely_edges(&self, removed: &[bool]) -> Vec<u32> {
        let mut edges: Vec<u32> = self
            .most_likely_paths(removed)
            .into_iter()
            .flat_map(|path| path.edges)
            .collect();
        edges.sort_unstable();
        edges.dedup();
        edges
    }

    /// Finds the most likely path to each crown jewel with the edges of
    /// `removed` gone, in the order of the goal lists, with one search.
    pub fn most_likely_paths(&self, removed: &[bool]) -> Vec<JewelPath> {
        let (distance, predecessor) = self.search(removed);
        self.goals
            .iter()
            .map(|goals| {
                let mut path = JewelPath {
                    probability: 0.0,
                    edges: Vec::new(),
                };
                if let Some((mut node, length)) = self.nearest_goal(goals, &distance) {
                    path.probability = (-length).exp();
                    while node != 0 {
                        let edge = predecessor[node as usize];
                        path.edges.push(edge);
                        node = self.tails[edge as usize];
                    }
                }
                path
            })
            .collect()
    }

    /// The goal with the shortest distance, and that distance; `None` when
    /// no goal is reached.
    fn nearest_goal(&self, goals: &[u32], distance: &[f64]) -> Option<(u32, f64)> {
        goals
            .iter()
            .map(|&goal| (goal, distance[goal as usize]))
            .filter(|(_, length)| length.is_finite())
            .min_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)))
    }

    /// Dijkstra's algorithm from the internet on `-ln(probability)`, with
    /// the edge that reaches each node on its shortest path. A path
    /// may pass through the goal of one crown jewel on its way to another,
    /// and passing through its own goal never helps, so one search serves
    /// every crown jewel.
    fn search(&self, removed: &[bool]) -> (Vec<f64>, Vec<u32>) {
        let mut distance = vec![f64::INFINITY; self.node_count];
        let mut predecessor = vec![u32::MAX; self.node_count];
        let mut heap = BinaryHeap::new();
        distance[0] = 0.0;
        heap.push(Reverse((0.0_f64.to_bits(), 0u32)));
        while let Some(Reverse((bits, node))) = heap.pop() {
            if bits != distance[node as usize].to_bits() {
                continue;
            }
            let length = distance[node as usize];
            let range = self.out_offsets[node as usize] as usize..self.out_offsets[node as usize + 1] as usize;
            for edge in range {
                if removed[edge] {
                    continue;
                }
                let head = self.heads[edge] as usize;
                let candidate = length + self.lengths[edge];
                if candidate < distance[head] {
                    distance[head] = candidate;
                    predecessor[head] = edge as u32;
                    // Lengths are never negative, so the bits order as the
                    // values do.
                    heap.push(Reverse(((candidate + 0.0).to_bits(), head as u32)));
                }
            }
        }
        (distance, predecessor)
    }
}
