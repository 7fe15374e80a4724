//! The full analysis of a graph, per crown jewel, with labels for output.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::Serialize;

use crate::analysis::cut::{FixSetOptions, minimal_fix_set_with};
use crate::analysis::dominators::DominatorTree;
use crate::analysis::{ChokeKind, ChokePoint, Exposure, FixSet, Path, exposure, node_mask, paths, reach_forward};
use crate::{AssetId, AttackGraph, EdgeId, EdgeKind, FixId, FixRef, NodeId};

/// What [`analyze`] computes.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalysisOptions {
    /// How many of the most likely paths to list per crown jewel.
    pub k: usize,
    /// The cost of each fix, indexed by fix id. `None` gives every fix a
    /// cost of 1, so the minimal fix set is the one with the fewest fixes.
    pub fix_costs: Option<Vec<f64>>,
    /// Worker threads over the crown jewels; 0 uses every available core.
    pub threads: usize,
}

impl Default for AnalysisOptions {
    fn default() -> Self {
        AnalysisOptions {
            k: 5,
            fix_costs: None,
            threads: 0,
        }
    }
}

/// The analysis of a whole graph from the internet.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Analysis {
    pub exposure: Exposure,
    /// One entry per crown jewel that has a goal node, in the order of
    /// [`AttackGraph::crown_jewel_goals`].
    pub crown_jewels: Vec<CrownJewelAnalysis>,
}

/// The attack paths to one crown jewel and how to cut them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CrownJewelAnalysis {
    pub asset: AssetId,
    /// The asset key, as text.
    pub key: String,
    pub name: String,
    /// The nodes whose capability compromises the crown jewel.
    pub goals: Vec<NodeId>,
    /// Whether the internet reaches one of the goals.
    pub reachable: bool,
    /// The most likely path from the internet, when one exists.
    pub best_path: Option<LabeledPath>,
    /// The k most likely loopless paths, most likely first.
    pub paths: Vec<LabeledPath>,
    pub choke_points: Vec<LabeledChokePoint>,
    pub fix_set: LabeledFixSet,
}

/// A path with the labels of its nodes and edges.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabeledPath {
    /// The product of the edge probabilities.
    pub probability: f64,
    pub steps: Vec<LabeledStep>,
}

/// One edge of a path.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabeledStep {
    pub edge: EdgeId,
    pub from: NodeId,
    pub from_label: String,
    pub to: NodeId,
    pub to_label: String,
    pub kind: EdgeKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub technique: Option<&'static str>,
    pub probability: f32,
    /// The fixes that remove this edge.
    pub fixes: Vec<FixId>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabeledChokePoint {
    pub node: NodeId,
    pub label: String,
    #[serde(flatten)]
    pub kind: ChokeKind,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabeledFix {
    pub id: FixId,
    pub fix: FixRef,
    pub cost: f64,
}

/// A [`FixSet`] with its fixes spelled out.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabeledFixSet {
    pub fixes: Vec<LabeledFix>,
    /// The total cost; infinite (`null` in JSON) when uncuttable.
    pub cost: f64,
    pub exact: bool,
    pub method: &'static str,
    pub uncuttable: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub uncut_path: Vec<LabeledStep>,
}

/// Analyzes the graph from the internet: the exposure, then for each crown
/// jewel its most likely paths, choke points and minimal fix set.
///
/// Shared work is done once: the reachability from the internet and the
/// dominator tree of the whole graph. The crown jewels are then analyzed on
/// `options.threads` threads.
pub fn analyze(graph: &AttackGraph, options: &AnalysisOptions) -> Analysis {
    let exposure = exposure(graph);
    let goals = graph.crown_jewel_goals();
    let from_internet = reach_forward(graph, AttackGraph::INTERNET, None);
    let tree = DominatorTree::new(graph, AttackGraph::INTERNET);
    let shared = Shared {
        graph,
        options,
        from_internet: &from_internet,
        tree: &tree,
    };

    let threads = match options.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
    .clamp(1, goals.len().max(1));
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<CrownJewelAnalysis>>> = Mutex::new(vec![None; goals.len()]);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some((asset, nodes)) = goals.get(index) else {
                        break;
                    };
                    let result = shared.crown_jewel(*asset, nodes);
                    results.lock().expect("no worker panics while holding the lock")[index] = Some(result);
                }
            });
        }
    });

    Analysis {
        exposure,
        crown_jewels: results
            .into_inner()
            .expect("no worker panicked")
            .into_iter()
            .map(|result| result.expect("every crown jewel was analyzed"))
            .collect(),
    }
}

/// What every crown jewel's analysis reads.
struct Shared<'a> {
    graph: &'a AttackGraph,
    options: &'a AnalysisOptions,
    from_internet: &'a [bool],
    tree: &'a DominatorTree,
}

impl Shared<'_> {
    fn crown_jewel(&self, asset: AssetId, goals: &[NodeId]) -> CrownJewelAnalysis {
        let graph = self.graph;
        let info = &graph.assets[asset as usize];
        let reachable = goals.iter().any(|&goal| self.from_internet[goal as usize]);
        let fix_cost = |fix: FixId| {
            self.options
                .fix_costs
                .as_ref()
                .map_or(1.0, |costs| costs.get(fix as usize).copied().unwrap_or(1.0))
        };

        let (paths, choke_points) = if reachable {
            let is_target = node_mask(graph, goals);
            let to_target = paths::distances_to(graph, &is_target, Some(self.from_internet));
            let paths = paths::yen(graph, AttackGraph::INTERNET, &is_target, &to_target, self.options.k);
            let dominators = self.tree.dominators_of_set(goals);
            let choke_points = combine_choke_points(graph, AttackGraph::INTERNET, goals, &dominators, &paths);
            (paths, choke_points)
        } else {
            (Vec::new(), Vec::new())
        };
        let fix_set = minimal_fix_set_with(
            graph,
            AttackGraph::INTERNET,
            goals,
            &fix_cost,
            &FixSetOptions::default(),
        );

        let paths: Vec<LabeledPath> = paths.iter().map(|path| label_path(graph, path)).collect();
        CrownJewelAnalysis {
            asset,
            key: info.key.to_string(),
            name: info.name.clone(),
            goals: goals.to_vec(),
            reachable,
            best_path: paths.first().cloned(),
            paths,
            choke_points: choke_points
                .into_iter()
                .map(|point| LabeledChokePoint {
                    node: point.node,
                    label: graph.node_label(point.node),
                    kind: point.kind,
                })
                .collect(),
            fix_set: label_fix_set(graph, &fix_set, &fix_cost),
        }
    }
}

/// Labels a path for output.
pub fn label_path(graph: &AttackGraph, path: &Path) -> LabeledPath {
    LabeledPath {
        probability: path.probability,
        steps: label_steps(graph, &path.edges),
    }
}

/// Labels a fix set for output; `cost` is the cost function it was
/// computed with.
pub fn label_fix_set(graph: &AttackGraph, set: &FixSet, cost: &dyn Fn(FixId) -> f64) -> LabeledFixSet {
    LabeledFixSet {
        fixes: set
            .fixes
            .iter()
            .map(|&id| LabeledFix {
                id,
                fix: graph.fixes[id as usize].clone(),
                cost: cost(id),
            })
            .collect(),
        cost: set.cost,
        exact: set.exact,
        method: set.method,
        uncuttable: set.uncuttable,
        uncut_path: label_steps(graph, &set.uncut_path),
    }
}

fn label_steps(graph: &AttackGraph, edges: &[EdgeId]) -> Vec<LabeledStep> {
    edges
        .iter()
        .map(|&id| {
            let edge = graph.edge(id);
            LabeledStep {
                edge: id,
                from: edge.from,
                from_label: graph.node_label(edge.from),
                to: edge.to,
                to_label: graph.node_label(edge.to),
                kind: edge.kind,
                technique: edge.technique,
                probability: edge.probability,
                fixes: graph.fixes_of(id).to_vec(),
            }
        })
        .collect()
}

/// The dominators (exact), then the nodes on at least half, and at least
/// two, of `paths` (approximate), most frequent first. `from` and the
/// targets are left out.
pub(crate) fn combine_choke_points(
    graph: &AttackGraph,
    from: NodeId,
    targets: &[NodeId],
    dominators: &[NodeId],
    paths: &[Path],
) -> Vec<ChokePoint> {
    let excluded = |node: NodeId| node == from || targets.contains(&node);
    let mut points: Vec<ChokePoint> = dominators
        .iter()
        .filter(|&&node| !excluded(node))
        .map(|&node| ChokePoint {
            node,
            kind: ChokeKind::Dominator,
        })
        .collect();

    let mut counts: HashMap<NodeId, usize> = HashMap::new();
    for path in paths {
        for node in path.nodes(graph) {
            *counts.entry(node).or_default() += 1;
        }
    }
    let threshold = paths.len().div_ceil(2).max(2);
    let mut frequent: Vec<(NodeId, usize)> = counts
        .into_iter()
        .filter(|&(node, count)| count >= threshold && !excluded(node) && !dominators.contains(&node))
        .collect();
    frequent.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    points.extend(frequent.into_iter().map(|(node, count)| ChokePoint {
        node,
        kind: ChokeKind::Frequent {
            paths: count,
            of: paths.len(),
        },
    }));
    points
}
