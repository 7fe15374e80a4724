//! Most likely paths: Dijkstra's algorithm (as A* when a lower bound of the
//! remaining length is known) and Yen's k shortest loopless paths.
//!
//! The length of an edge is `-ln(probability)`, so lengths add where
//! probabilities multiply and the shortest path is the most likely one.
//! Targets are absorbing: a search stops at the first target it reaches.

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashSet};

use crate::analysis::Path;
use crate::{AttackGraph, Edge, EdgeId, NodeId};

const NO_EDGE: EdgeId = EdgeId::MAX;

/// The length of an edge: `-ln(probability)`, never below 0.
pub(crate) fn weight(edge: &Edge) -> f64 {
    edge.weight()
}

/// An entry of a min-heap on `key`; ties go to the lower node id so that
/// results do not depend on the heap's internals.
#[derive(Debug, Clone, Copy)]
struct Entry {
    /// The bits of the key, a length of zero or more: for such floats the
    /// order of the bits is the order of the values, and integers compare
    /// faster.
    key: u64,
    length: f64,
    node: NodeId,
}

impl Entry {
    fn new(key: f64, length: f64, node: NodeId) -> Entry {
        debug_assert!(key >= 0.0, "path lengths are never negative");
        // Adding 0.0 turns -0.0, whose bits would order last, into 0.0.
        Entry {
            key: (key + 0.0).to_bits(),
            length,
            node,
        }
    }
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Entry {}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        other.key.cmp(&self.key).then_with(|| other.node.cmp(&self.node))
    }
}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The lengths of the shortest paths from every node to the nearest target
/// (infinite where none exists), by Dijkstra's algorithm over the reversed
/// edges. A path does not pass through a target before its end. When
/// `allowed` is given, only the nodes it marks are visited.
pub fn distances_to(graph: &AttackGraph, is_target: &[bool], allowed: Option<&[bool]>) -> Vec<f64> {
    let mut distance = vec![f64::INFINITY; graph.node_count()];
    let mut heap = BinaryHeap::new();
    for (node, _) in is_target.iter().enumerate().filter(|(_, is)| **is) {
        distance[node] = 0.0;
        heap.push(Entry::new(0.0, 0.0, node as NodeId));
    }

    while let Some(Entry { length, node, .. }) = heap.pop() {
        if length > distance[node as usize] {
            continue;
        }
        for &id in graph.in_edges(node) {
            let tail = graph.edge_tail(id);
            let from = tail as usize;
            let edge_length = graph.edge_length(id);
            if edge_length.is_infinite() || is_target[from] || allowed.is_some_and(|allowed| !allowed[from]) {
                continue;
            }
            let candidate = length + edge_length;
            if candidate < distance[from] {
                distance[from] = candidate;
                heap.push(Entry::new(candidate, candidate, tail));
            }
        }
    }
    distance
}

/// Finds the shortest path from `from` to the nearest target, as its
/// edges: Dijkstra's algorithm without the blocked nodes and the lower
/// bound of [`Search::shortest`], for the one search of
/// [`crate::analysis::most_likely_path`]. A heap entry is the bits of its
/// length and the node (16 bytes), and an entry is stale when the node's
/// length has dropped since it was pushed.
pub fn nearest_target(graph: &AttackGraph, from: NodeId, is_target: &[bool]) -> Option<Vec<EdgeId>> {
    if is_target[from as usize] {
        return Some(Vec::new());
    }
    let n = graph.node_count();
    let mut distance = vec![f64::INFINITY; n];
    let mut predecessor = vec![NO_EDGE; n];
    let mut heap = BinaryHeap::new();
    distance[from as usize] = 0.0;
    heap.push(Reverse((0.0_f64.to_bits(), from)));

    let mut found = None;
    while let Some(Reverse((bits, node))) = heap.pop() {
        let length = distance[node as usize];
        if bits != length.to_bits() {
            continue;
        }
        if is_target[node as usize] {
            found = Some(node);
            break;
        }
        for id in graph.out_edges(node) {
            let edge_length = graph.edge_length(id);
            let to = graph.edge_head(id) as usize;
            // Adding 0.0 turns a -0.0 sum, whose bits would order last,
            // into 0.0; an infinite length never passes the comparison.
            let candidate = length + edge_length + 0.0;
            if candidate < distance[to] {
                distance[to] = candidate;
                predecessor[to] = id;
                heap.push(Reverse((candidate.to_bits(), to as NodeId)));
            }
        }
    }

    let mut edges = Vec::new();
    let mut node = found?;
    while node != from {
        let id = predecessor[node as usize];
        edges.push(id);
        node = graph.edge_tail(id);
    }
    edges.reverse();
    Some(edges)
}

/// Nodes and edges a search may not use.
#[derive(Debug, Clone, Default)]
pub struct Blocked {
    pub nodes: Vec<NodeId>,
    /// Kept short: each expansion scans it.
    pub edges: Vec<EdgeId>,
}

/// The state of repeated shortest-path searches on one graph. Its vectors
/// are sized to the graph once and reset only where a search touched them,
/// so a short search stays cheap on a large graph.
pub struct Search<'g> {
    graph: &'g AttackGraph,
    distance: Vec<f64>,
    predecessor: Vec<EdgeId>,
    blocked: Vec<bool>,
    touched: Vec<NodeId>,
    heap: BinaryHeap<Entry>,
}

impl<'g> Search<'g> {
    pub fn new(graph: &'g AttackGraph) -> Search<'g> {
        let n = graph.node_count();
        Search {
            graph,
            distance: vec![f64::INFINITY; n],
            predecessor: vec![NO_EDGE; n],
            blocked: vec![false; n],
            touched: Vec::new(),
            heap: BinaryHeap::new(),
        }
    }

    /// Finds the shortest path from `from` to the nearest target, avoiding
    /// `blocked`, as its edges. With `lower_bound` (a consistent lower bound
    /// of the remaining length per node, such as [`distances_to`] of the
    /// unblocked graph) the search is A*; nodes with an infinite bound are
    /// skipped.
    pub fn shortest(
        &mut self,
        from: NodeId,
        is_target: &[bool],
        lower_bound: Option<&[f64]>,
        blocked: &Blocked,
    ) -> Option<Vec<EdgeId>> {
        if is_target[from as usize] {
            return Some(Vec::new());
        }
        let bound = |node: NodeId| lower_bound.map_or(0.0, |bound| bound[node as usize]);
        if bound(from).is_infinite() {
            return None;
        }

        self.reset();
        for &node in &blocked.nodes {
            self.blocked[node as usize] = true;
        }
        self.distance[from as usize] = 0.0;
        self.touched.push(from);
        self.heap.push(Entry::new(bound(from), 0.0, from));

        let mut found = None;
        while let Some(Entry { length, node, .. }) = self.heap.pop() {
            if length > self.distance[node as usize] {
                continue;
            }
            if is_target[node as usize] {
                found = Some(node);
                break;
            }
            for id in self.graph.out_edges(node) {
                let to = self.graph.edge_head(id);
                let edge_length = self.graph.edge_length(id);
                if edge_length.is_infinite() || self.blocked[to as usize] || blocked.edges.contains(&id) {
                    continue;
                }
                let remaining = bound(to);
                let candidate = length + edge_length;
                if remaining.is_infinite() || candidate >= self.distance[to as usize] {
                    continue;
                }
                if self.distance[to as usize].is_infinite() {
                    self.touched.push(to);
                }
                self.distance[to as usize] = candidate;
                self.predecessor[to as usize] = id;
                self.heap.push(Entry::new(candidate + remaining, candidate, to));
            }
        }

        for &node in &blocked.nodes {
            self.blocked[node as usize] = false;
        }
        let target = found?;
        let mut edges = Vec::new();
        let mut node = target;
        while node != from {
            let id = self.predecessor[node as usize];
            edges.push(id);
            node = self.graph.edge(id).from;
        }
        edges.reverse();
        Some(edges)
    }

    fn reset(&mut self) {
        for &node in &self.touched {
            self.distance[node as usize] = f64::INFINITY;
            self.predecessor[node as usize] = NO_EDGE;
        }
        self.touched.clear();
        self.heap.clear();
    }
}

/// A candidate path of Yen's algorithm, ordered by length, then by its
/// edges so that ties resolve the same way on every run.
#[derive(Debug, PartialEq)]
struct Candidate {
    length: f64,
    edges: Vec<EdgeId>,
}

impl Eq for Candidate {}

impl Ord for Candidate {
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .length
            .total_cmp(&self.length)
            .then_with(|| other.edges.cmp(&self.edges))
    }
}

impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Yen's algorithm: the `k` shortest loopless paths from `from` to the
/// targets, shortest first. `to_target` is [`distances_to`] of the same
/// targets; it guides every spur search as an A* bound, so a spur search
/// that is not blocked walks straight to a target.
pub fn yen(graph: &AttackGraph, from: NodeId, is_target: &[bool], to_target: &[f64], k: usize) -> Vec<Path> {
    let mut search = Search::new(graph);
    let length = |edges: &[EdgeId]| edges.iter().map(|&id| weight(graph.edge(id))).sum::<f64>();
    if k == 0 {
        return Vec::new();
    }
    let Some(first) = search.shortest(from, is_target, Some(to_target), &Blocked::default()) else {
        return Vec::new();
    };

    let mut accepted = vec![first.clone()];
    let mut seen: HashSet<Vec<EdgeId>> = HashSet::from([first]);
    let mut candidates = BinaryHeap::new();
    while accepted.len() < k {
        let last = accepted.last().expect("one path is accepted before the loop");
        let mut nodes = vec![from];
        nodes.extend(last.iter().map(|&id| graph.edge(id).to));

        // Each spur leaves the last path at node i, keeps its first i edges
        // (the root) and may not take the next edge of any accepted path
        // with the same root, nor revisit a root node.
        let mut spurs = Vec::new();
        for i in 0..last.len() {
            let root = &last[..i];
            let blocked = Blocked {
                nodes: nodes[..i].to_vec(),
                edges: accepted
                    .iter()
                    .filter(|path| path.len() > i && path[..i] == *root)
                    .map(|path| path[i])
                    .collect(),
            };
            if let Some(spur) = search.shortest(nodes[i], is_target, Some(to_target), &blocked) {
                let mut edges = root.to_vec();
                edges.extend(spur);
                spurs.push(edges);
            }
        }
        for edges in spurs {
            if seen.insert(edges.clone()) {
                candidates.push(Candidate {
                    length: length(&edges),
                    edges,
                });
            }
        }

        let Some(next) = candidates.pop() else {
            break;
        };
        accepted.push(next.edges);
    }

    accepted
        .into_iter()
        .map(|edges| Path::from_edges(graph, edges))
        .collect()
}
