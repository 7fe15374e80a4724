//! Dominators by the Lengauer–Tarjan algorithm.
//!
//! A node `d` dominates `v` when every path from the root to `v` passes
//! `d`. This is the simple version of Lengauer and Tarjan ("A fast
//! algorithm for finding dominators in a flowgraph", TOPLAS 1979): path
//! compression without balanced linking, O(m log n) on m edges and n nodes.
//! The depth-first search and the compression are iterative, so a path of a
//! million nodes does not overflow the stack.
//!
//! The dominators of a set of targets (the nodes on every path to any of
//! them) are the dominators of a virtual sink joined to all targets. They
//! are also the common dominators of the reachable targets, which
//! [`DominatorTree::dominators_of_set`] reads from one tree of the whole
//! graph by walking up to the targets' lowest common ancestor.

use crate::analysis::usable;
use crate::{AttackGraph, NodeId};

const UNREACHED: u32 = u32::MAX;

/// The dominator tree of the nodes reachable from a root, optionally with a
/// virtual sink (node id `graph.node_count()`) joined to a set of targets.
#[derive(Debug, Clone)]
pub struct DominatorTree {
    root: NodeId,
    /// The immediate dominator of each node; the root's is itself, an
    /// unreached node's is `UNREACHED`.
    idom: Vec<u32>,
    /// The depth in the tree, the root at 0.
    depth: Vec<u32>,
    sink: Option<NodeId>,
}

impl DominatorTree {
    /// Computes the dominator tree of the graph from `root`.
    pub fn new(graph: &AttackGraph, root: NodeId) -> DominatorTree {
        lengauer_tarjan(graph, root, None)
    }

    /// Computes the dominator tree of the graph plus a virtual sink, with an
    /// edge from each target to the sink.
    pub fn with_sink(graph: &AttackGraph, root: NodeId, targets: &[NodeId]) -> DominatorTree {
        lengauer_tarjan(graph, root, Some(targets))
    }

    pub fn root(&self) -> NodeId {
        self.root
    }

    /// The virtual sink's id, when the tree has one.
    pub fn sink(&self) -> Option<NodeId> {
        self.sink
    }

    pub fn is_reachable(&self, node: NodeId) -> bool {
        self.idom[node as usize] != UNREACHED
    }

    /// The immediate dominator of `node`; `None` for the root and for nodes
    /// the root does not reach.
    pub fn immediate_dominator(&self, node: NodeId) -> Option<NodeId> {
        let idom = self.idom[node as usize];
        (idom != UNREACHED && node != self.root).then_some(idom)
    }

    /// The dominators of `node`, the root first and `node` itself last;
    /// empty when the root does not reach `node`.
    pub fn dominators(&self, node: NodeId) -> Vec<NodeId> {
        if !self.is_reachable(node) {
            return Vec::new();
        }
        let mut chain = vec![node];
        let mut current = node;
        while let Some(idom) = self.immediate_dominator(current) {
            chain.push(idom);
            current = idom;
        }
        chain.reverse();
        chain
    }

    /// The nodes on every path from the root to the virtual sink, root
    /// first, the sink left out; empty when the tree has no sink or the
    /// root reaches no target.
    pub fn dominators_of_sink(&self) -> Vec<NodeId> {
        let Some(sink) = self.sink else {
            return Vec::new();
        };
        let mut chain = self.dominators(sink);
        chain.pop();
        chain
    }

    /// The nodes on every path from the root to any of the reachable
    /// `targets`, root first: the dominators of their lowest common
    /// ancestor in the tree. Empty when the root reaches none of them.
    pub fn dominators_of_set(&self, targets: &[NodeId]) -> Vec<NodeId> {
        let mut reachable = targets.iter().copied().filter(|&node| self.is_reachable(node));
        let Some(first) = reachable.next() else {
            return Vec::new();
        };
        let ancestor = reachable.fold(first, |a, b| self.lowest_common_ancestor(a, b));
        self.dominators(ancestor)
    }

    fn lowest_common_ancestor(&self, mut a: NodeId, mut b: NodeId) -> NodeId {
        while self.depth[a as usize] > self.depth[b as usize] {
            a = self.idom[a as usize];
        }
        while self.depth[b as usize] > self.depth[a as usize] {
            b = self.idom[b as usize];
        }
        while a != b {
            a = self.idom[a as usize];
            b = self.idom[b as usize];
        }
        a
    }
}

/// The arrays of the algorithm, indexed by depth-first number (1-based, 0
/// meaning none).
struct State {
    semi: Vec<u32>,
    label: Vec<u32>,
    ancestor: Vec<u32>,
    /// A stack reused by `eval` for its path compression.
    path: Vec<u32>,
}

impl State {
    /// The vertex of minimum semidominator number on the path from `v` up
    /// to (not including) the root of its tree in the forest, compressing
    /// that path.
    fn eval(&mut self, v: u32) -> u32 {
        if self.ancestor[v as usize] == 0 {
            return v;
        }
        self.compress(v);
        self.label[v as usize]
    }

    fn compress(&mut self, v: u32) {
        self.path.clear();
        let mut x = v;
        while self.ancestor[self.ancestor[x as usize] as usize] != 0 {
            self.path.push(x);
            x = self.ancestor[x as usize];
        }
        // Top down: each vertex's ancestor is already compressed.
        while let Some(x) = self.path.pop() {
            let a = self.ancestor[x as usize] as usize;
            if self.semi[self.label[a] as usize] < self.semi[self.label[x as usize] as usize] {
                self.label[x as usize] = self.label[a];
            }
            self.ancestor[x as usize] = self.ancestor[a];
        }
    }
}

fn lengauer_tarjan(graph: &AttackGraph, root: NodeId, targets: Option<&[NodeId]>) -> DominatorTree {
    let n = graph.node_count();
    let sink = targets.map(|_| n as NodeId);
    let total = n + usize::from(sink.is_some());
    let mut is_target = vec![false; total];
    for &target in targets.unwrap_or(&[]) {
        is_target[target as usize] = true;
    }

    // Step 1: number the vertices in depth-first preorder.
    let mut number = vec![0u32; total];
    let mut vertex = vec![0u32; total + 1];
    let mut parent = vec![0u32; total + 1];
    let mut count = 1u32;
    number[root as usize] = 1;
    vertex[1] = root;
    let out_range = |v: NodeId| {
        if Some(v) == sink { 0..0 } else { graph.out_edges(v) }
    };
    let mut stack = vec![(root, out_range(root).start)];
    while let Some((v, cursor)) = stack.last_mut() {
        let v = *v;
        let range = out_range(v);
        let next = if *cursor < range.end {
            let edge = graph.edge(*cursor);
            *cursor += 1;
            if !usable(edge) {
                continue;
            }
            edge.to
        } else if *cursor == range.end && is_target[v as usize] {
            *cursor += 1;
            sink.expect("targets come with a sink")
        } else {
            stack.pop();
            continue;
        };
        if number[next as usize] == 0 {
            count += 1;
            number[next as usize] = count;
            vertex[count as usize] = next;
            parent[count as usize] = number[v as usize];
            stack.push((next, out_range(next).start));
        }
    }

    // Steps 2 and 3: semidominators, and immediate dominators implicitly.
    let size = count as usize + 1;
    let mut state = State {
        semi: (0..size as u32).collect(),
        label: (0..size as u32).collect(),
        ancestor: vec![0; size],
        path: Vec::new(),
    };
    let mut idom = vec![0u32; size];
    let mut bucket_head = vec![0u32; size];
    let mut bucket_next = vec![0u32; size];
    for w in (2..=count).rev() {
        let node = vertex[w as usize];
        let mut semi = state.semi[w as usize];
        let mut relax = |state: &mut State, predecessor: NodeId| {
            let v = number[predecessor as usize];
            if v != 0 {
                let u = state.eval(v);
                semi = semi.min(state.semi[u as usize]);
            }
        };
        if Some(node) == sink {
            for &target in targets.unwrap_or(&[]) {
                relax(&mut state, target);
            }
        } else {
            for &id in graph.in_edges(node) {
                let edge = graph.edge(id);
                if usable(edge) {
                    relax(&mut state, edge.from);
                }
            }
        }
        state.semi[w as usize] = semi;
        bucket_next[w as usize] = bucket_head[semi as usize];
        bucket_head[semi as usize] = w;

        let p = parent[w as usize];
        state.ancestor[w as usize] = p;
        let mut v = std::mem::take(&mut bucket_head[p as usize]);
        while v != 0 {
            let u = state.eval(v);
            idom[v as usize] = if state.semi[u as usize] < state.semi[v as usize] {
                u
            } else {
                p
            };
            v = bucket_next[v as usize];
        }
    }

    // Step 4: explicit immediate dominators, in preorder.
    for w in 2..=count as usize {
        if idom[w] != state.semi[w] {
            idom[w] = idom[idom[w] as usize];
        }
    }

    let mut idom_node = vec![UNREACHED; total];
    let mut depth = vec![0u32; total];
    idom_node[root as usize] = root;
    for w in 2..=count as usize {
        let node = vertex[w] as usize;
        let dominator = vertex[idom[w] as usize];
        idom_node[node] = dominator;
        depth[node] = depth[dominator as usize] + 1;
    }
    DominatorTree {
        root,
        idom: idom_node,
        depth,
        sink,
    }
}
