//! The analyses over an attack graph.
//!
//! Every analysis starts from a node (the internet for the attacker's view)
//! and, where it has them, a set of target nodes: the nodes that compromise
//! one crown jewel. The conventions they share:
//!
//! - An edge whose probability is not above 0 (or is NaN) is treated as
//!   absent. A probability above 1 counts as 1.
//! - A path ends at the first target it reaches: targets are absorbing, so
//!   a path never passes through one target on its way to another. Cutting
//!   these paths cuts every path, and the dominators are the same.
//! - Path lengths are sums of `-ln(probability)`, so the shortest path is
//!   the most likely one.
//!
//! - [`exposure`] and [`blast_radius`]: breadth-first searches, linear in
//!   edges;
//! - [`most_likely_path`] and [`k_best_paths`]: Dijkstra and Yen's
//!   algorithm ([`paths`]);
//! - [`choke_points`]: the dominators of the targets by Lengauer–Tarjan
//!   ([`dominators`]) and nodes frequent among the k best paths;
//! - [`minimal_fix_set`]: a minimum cut by Dinic's max flow, exact when
//!   every fix removes only parallel edges, else a stated greedy method
//!   ([`cut`]);
//! - [`what_if`]: the graph after applying fixes;
//! - [`analyze`]: all of the above per crown jewel, with labels for output
//!   ([`report`]).

pub mod cut;
pub mod dominators;
pub mod paths;
pub mod report;

use serde::Serialize;

use crate::{AssetId, AttackGraph, Edge, EdgeId, FixId, NodeId};

pub use cut::FixSetOptions;
pub use dominators::DominatorTree;
pub use report::{
    Analysis, AnalysisOptions, CrownJewelAnalysis, LabeledChokePoint, LabeledFix, LabeledFixSet, LabeledPath,
    LabeledStep, analyze,
};

/// Which crown jewels the internet reaches, and how much of the estate
/// has a path to one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Exposure {
    /// Crown-jewel assets with a path from the internet to a node that
    /// compromises them, in ascending order.
    pub reachable_crown_jewels: Vec<AssetId>,
    /// Crown-jewel assets with a node that compromises them (the entries
    /// of [`AttackGraph::crown_jewel_goals`]).
    pub crown_jewels: usize,
    /// Assets (other than the internet) with a path to a crown-jewel goal.
    /// A crown jewel that has a goal node counts, through the empty path.
    pub assets_with_path: usize,
    /// Assets with at least one node in the graph, the internet excluded.
    pub assets: usize,
}

/// Everything an attacker holding one node can reach.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BlastRadius {
    /// The reachable nodes, the start included, in ascending order.
    pub nodes: Vec<NodeId>,
    /// The assets of those nodes, in ascending order.
    pub assets: Vec<AssetId>,
    /// The crown jewels compromised by a reachable node, in ascending order.
    pub crown_jewels: Vec<AssetId>,
}

/// A path as its edges, in order, and its likelihood: the product of the
/// edge probabilities.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Path {
    pub edges: Vec<EdgeId>,
    pub probability: f64,
}

/// Why a node is a choke point.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChokeKind {
    /// Every path from the internet to the target passes the node (it
    /// dominates the target).
    Dominator,
    /// Many of the k best paths pass the node (an approximation).
    Frequent { paths: usize, of: usize },
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ChokePoint {
    pub node: NodeId,
    #[serde(flatten)]
    pub kind: ChokeKind,
}

/// A set of fixes that cuts every path to the targets, with its cost.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FixSet {
    pub fixes: Vec<FixId>,
    pub cost: f64,
    /// Whether the set is a proven minimum (else the method's bound).
    pub exact: bool,
    /// The method: `min_cut` or `greedy`.
    pub method: &'static str,
    /// Whether some path from the start to a target has no edge that a fix
    /// of finite cost removes. Then no fix set cuts every path: `fixes` is
    /// empty, `cost` is infinite (`null` in JSON) and `uncut_path` shows
    /// one such path.
    pub uncuttable: bool,
    /// A path that no fix removes, when `uncuttable`.
    pub uncut_path: Vec<EdgeId>,
}

/// Computes which crown jewels the internet reaches and how many assets
/// have a path to one. Two breadth-first searches, linear in edges.
pub fn exposure(graph: &AttackGraph) -> Exposure {
    let goals = graph.crown_jewel_goals();
    let internet_asset = graph.nodes[AttackGraph::INTERNET as usize].asset;

    let from_internet = reach_forward(graph, AttackGraph::INTERNET, None);
    let mut reachable_crown_jewels: Vec<AssetId> = goals
        .iter()
        .filter(|(_, nodes)| nodes.iter().any(|&node| from_internet[node as usize]))
        .map(|&(asset, _)| asset)
        .collect();
    reachable_crown_jewels.sort_unstable();

    let all_goals: Vec<NodeId> = goals.iter().flat_map(|(_, nodes)| nodes.iter().copied()).collect();
    let to_goal = reach_backward(graph, &all_goals, None);
    let mut has_path = vec![false; graph.assets.len()];
    for (node, &reached) in graph.nodes.iter().zip(&to_goal) {
        if reached {
            has_path[node.asset as usize] = true;
        }
    }
    has_path[internet_asset as usize] = false;

    // Counted over the assets that have a node: a crown-jewel service or
    // component that no capability compromises, and an asset that no rule
    // gave a node, are not part of the graph.
    let mut in_graph = vec![false; graph.assets.len()];
    for node in &graph.nodes {
        in_graph[node.asset as usize] = true;
    }
    in_graph[internet_asset as usize] = false;
    Exposure {
        reachable_crown_jewels,
        crown_jewels: goals.len(),
        assets_with_path: has_path.iter().filter(|&&has| has).count(),
        assets: in_graph.iter().filter(|&&has| has).count(),
    }
}

/// Marks the nodes with a path to one of `targets` (the targets included),
/// by a breadth-first search over the reversed edges.
pub fn reaching(graph: &AttackGraph, targets: &[NodeId]) -> Vec<bool> {
    reach_backward(graph, targets, None)
}

/// Computes everything reachable from `from` by a breadth-first search.
pub fn blast_radius(graph: &AttackGraph, from: NodeId) -> BlastRadius {
    let reached = reach_forward(graph, from, None);

    let nodes: Vec<NodeId> = (0..graph.node_count() as NodeId)
        .filter(|&node| reached[node as usize])
        .collect();
    let mut assets: Vec<AssetId> = nodes.iter().map(|&node| graph.nodes[node as usize].asset).collect();
    assets.sort_unstable();
    assets.dedup();
    let mut crown_jewels: Vec<AssetId> = nodes
        .iter()
        .map(|&node| graph.nodes[node as usize])
        .filter(|node| node.capability.compromises() && graph.assets[node.asset as usize].is_crown_jewel())
        .map(|node| node.asset)
        .collect();
    crown_jewels.sort_unstable();
    crown_jewels.dedup();

    BlastRadius {
        nodes,
        assets,
        crown_jewels,
    }
}

/// Finds the most likely path from `from` to any of `targets` with
/// Dijkstra's algorithm on `-ln(probability)`. A start that is a target
/// gives the empty path of probability 1.
pub fn most_likely_path(graph: &AttackGraph, from: NodeId, targets: &[NodeId]) -> Option<Path> {
    let is_target = node_mask(graph, targets);
    let found = paths::nearest_target(graph, from, &is_target)?;
    Some(Path::from_edges(graph, found))
}

/// Finds the `k` most likely distinct loopless paths from `from` to any of
/// `targets`, most likely first, with Yen's algorithm. Paths are distinct
/// as edge sequences, so parallel edges give distinct paths.
pub fn k_best_paths(graph: &AttackGraph, from: NodeId, targets: &[NodeId], k: usize) -> Vec<Path> {
    let is_target = node_mask(graph, targets);
    let to_target = paths::distances_to(graph, &is_target, None);
    paths::yen(graph, from, &is_target, &to_target, k)
}

/// Finds the choke points between `from` and `targets`: the dominators of
/// the targets first, nearest to `from` first (exact), then the nodes on at
/// least half (and at least two) of the `k` best paths, most frequent first
/// (an approximation). `from` and the targets themselves are left out.
pub fn choke_points(graph: &AttackGraph, from: NodeId, targets: &[NodeId], k: usize) -> Vec<ChokePoint> {
    let tree = DominatorTree::with_sink(graph, from, targets);
    let dominators = tree.dominators_of_sink();
    let paths = k_best_paths(graph, from, targets, k);
    report::combine_choke_points(graph, from, targets, &dominators, &paths)
}

/// Finds the cheapest set of fixes that cuts every path from `from` to
/// `targets`. `cost` gives the cost of each fix. See [`cut`] for when the
/// result is exact.
pub fn minimal_fix_set(graph: &AttackGraph, from: NodeId, targets: &[NodeId], cost: &dyn Fn(FixId) -> f64) -> FixSet {
    cut::minimal_fix_set_with(graph, from, targets, cost, &FixSetOptions::default())
}

/// Builds the graph after the given fixes: every edge that one of them
/// removes is gone. Node and fix ids stay the same, edge ids change.
pub fn what_if(graph: &AttackGraph, applied: &[FixId]) -> AttackGraph {
    let mut is_applied = vec![false; graph.fixes.len()];
    for &fix in applied {
        is_applied[fix as usize] = true;
    }
    graph.retain_edges(|id, _| !graph.fixes_of(id).iter().any(|&fix| is_applied[fix as usize]))
}

impl Path {
    /// The path of the given edges, its probability their product.
    pub fn from_edges(graph: &AttackGraph, edges: Vec<EdgeId>) -> Path {
        let probability = edges
            .iter()
            .map(|&edge| f64::from(graph.edge(edge).probability).min(1.0))
            .product();
        Path { edges, probability }
    }

    /// The nodes of the path from its start to its end; empty for the empty
    /// path.
    pub fn nodes(&self, graph: &AttackGraph) -> Vec<NodeId> {
        let Some(&first) = self.edges.first() else {
            return Vec::new();
        };
        let mut nodes = vec![graph.edge(first).from];
        nodes.extend(self.edges.iter().map(|&edge| graph.edge(edge).to));
        nodes
    }
}

/// Whether an analysis may follow the edge: its probability is above 0.
pub(crate) fn usable(edge: &Edge) -> bool {
    edge.probability > 0.0
}

/// A mask over the nodes of the graph that is true on `nodes`.
pub(crate) fn node_mask(graph: &AttackGraph, nodes: &[NodeId]) -> Vec<bool> {
    let mut mask = vec![false; graph.node_count()];
    for &node in nodes {
        mask[node as usize] = true;
    }
    mask
}

/// The nodes reachable from `from` over usable edges. When `stop` is given,
/// the nodes it marks are reached but not expanded (absorbing targets).
pub(crate) fn reach_forward(graph: &AttackGraph, from: NodeId, stop: Option<&[bool]>) -> Vec<bool> {
    let mut reached = vec![false; graph.node_count()];
    reached[from as usize] = true;
    let mut queue = vec![from];
    let mut head = 0;
    while head < queue.len() {
        let node = queue[head];
        head += 1;
        if stop.is_some_and(|stop| stop[node as usize]) {
            continue;
        }
        for id in graph.out_edges(node) {
            let to = graph.edge_head(id);
            if graph.edge_length(id).is_finite() && !reached[to as usize] {
                reached[to as usize] = true;
                queue.push(to);
            }
        }
    }
    reached
}

/// The nodes with a path to one of `targets` over usable edges. When
/// `stop` is given, a path may not pass through a node it marks (other than
/// at its end).
pub(crate) fn reach_backward(graph: &AttackGraph, targets: &[NodeId], stop: Option<&[bool]>) -> Vec<bool> {
    let mut reached = vec![false; graph.node_count()];
    let mut queue = Vec::with_capacity(targets.len());
    for &target in targets {
        if !reached[target as usize] {
            reached[target as usize] = true;
            queue.push(target);
        }
    }
    let mut head = 0;
    while head < queue.len() {
        let node = queue[head];
        head += 1;
        for &id in graph.in_edges(node) {
            let from = graph.edge_tail(id);
            let blocked = stop.is_some_and(|stop| stop[from as usize]);
            if graph.edge_length(id).is_finite() && !blocked && !reached[from as usize] {
                reached[from as usize] = true;
                queue.push(from);
            }
        }
    }
    reached
}
