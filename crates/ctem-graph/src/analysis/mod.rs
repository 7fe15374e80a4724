//! The analyses over an attack graph.

use serde::Serialize;

use crate::{AssetId, AttackGraph, EdgeId, FixId, NodeId};

/// Which crown jewels the internet reaches, and how much of the estate
/// has a path to one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Exposure {
    /// Crown-jewel assets with a path from the internet to a node that
    /// compromises them.
    pub reachable_crown_jewels: Vec<AssetId>,
    /// Crown-jewel assets in the graph.
    pub crown_jewels: usize,
    /// Assets (other than the internet) with a path to a crown-jewel goal.
    pub assets_with_path: usize,
    /// Assets in the graph, the internet excluded.
    pub assets: usize,
}

/// Everything an attacker holding one node can reach.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BlastRadius {
    pub nodes: Vec<NodeId>,
    pub assets: Vec<AssetId>,
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
}

/// Exposure of the graph.
pub fn exposure(graph: &AttackGraph) -> Exposure {
    let _ = graph;
    todo!("analysis")
}

/// Everything reachable from `from`.
pub fn blast_radius(graph: &AttackGraph, from: NodeId) -> BlastRadius {
    let _ = (graph, from);
    todo!("analysis")
}

/// The most likely path from `from` to any of `targets`.
pub fn most_likely_path(graph: &AttackGraph, from: NodeId, targets: &[NodeId]) -> Option<Path> {
    let _ = (graph, from, targets);
    todo!("analysis")
}

/// The `k` most likely distinct loopless paths from `from` to any of
/// `targets`, most likely first.
pub fn k_best_paths(graph: &AttackGraph, from: NodeId, targets: &[NodeId], k: usize) -> Vec<Path> {
    let _ = (graph, from, targets, k);
    todo!("analysis")
}

/// The choke points between `from` and `targets`: dominators first, then
/// nodes frequent among the `k` best paths.
pub fn choke_points(graph: &AttackGraph, from: NodeId, targets: &[NodeId], k: usize) -> Vec<ChokePoint> {
    let _ = (graph, from, targets, k);
    todo!("analysis")
}

/// The cheapest set of fixes that cuts every path from `from` to `targets`.
/// `cost` gives the cost of each fix.
pub fn minimal_fix_set(graph: &AttackGraph, from: NodeId, targets: &[NodeId], cost: &dyn Fn(FixId) -> f64) -> FixSet {
    let _ = (graph, from, targets, cost);
    todo!("analysis")
}

/// The graph after the given fixes: every edge that one of them removes is
/// gone.
pub fn what_if(graph: &AttackGraph, applied: &[FixId]) -> AttackGraph {
    let _ = (graph, applied);
    todo!("analysis")
}
