//! A JSON edge list for external graph tools: the nodes with their labels
//! and the edges with their probability and a Dijkstra weight, `-ln p`,
//! so that the shortest path by weight is the most likely path.

use serde::{Deserialize, Serialize};

use crate::{AttackGraph, NodeId};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListNode {
    pub id: NodeId,
    /// `asset key/capability`, as [`AttackGraph::node_label`] writes it.
    pub label: String,
    pub name: String,
    pub capability: String,
    /// Whether holding this node compromises a crown jewel.
    pub crown_jewel_goal: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListEdge {
    pub from: NodeId,
    pub to: NodeId,
    pub kind: String,
    pub probability: f64,
    /// `-ln(probability)`: 0 for a certain edge, larger for an unlikely one.
    pub weight: f64,
}

/// The graph as an edge list. Node 0 is the internet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EdgeList {
    pub internet: NodeId,
    pub nodes: Vec<ListNode>,
    pub edges: Vec<ListEdge>,
}

/// Builds the edge list of a graph.
pub fn edge_list(graph: &AttackGraph) -> EdgeList {
    let nodes = (0..graph.node_count() as NodeId)
        .map(|id| {
            let asset = graph.asset_of(id);
            let capability = graph.nodes[id as usize].capability;
            ListNode {
                id,
                label: graph.node_label(id),
                name: asset.name.clone(),
                capability: capability.as_str().to_string(),
                crown_jewel_goal: asset.is_crown_jewel() && capability.compromises(),
            }
        })
        .collect();
    let edges = graph
        .edges
        .iter()
        .map(|edge| {
            let probability = f64::from(edge.probability);
            ListEdge {
                from: edge.from,
                to: edge.to,
                kind: edge.kind.as_str().to_string(),
                probability,
                weight: -probability.ln(),
            }
        })
        .collect();
    EdgeList {
        internet: AttackGraph::INTERNET,
        nodes,
        edges,
    }
}

#[cfg(test)]
mod tests {
    use ctem_model::{AssetKey, AssetKind, Criticality};

    use super::*;
    use crate::{AssetInfo, Capability, EdgeKind, Evidence, GraphBuilder, NewEdge};

    #[test]
    fn weights_are_negative_log_probabilities() {
        let mut builder = GraphBuilder::new();
        let db = builder.asset(AssetInfo {
            key: AssetKey::new(AssetKind::DataStore, "db"),
            name: "db".into(),
            kind: AssetKind::DataStore,
            criticality: Some(Criticality::CrownJewel),
        });
        let read = builder.node_of(db, Capability::Read);
        let new = |probability| NewEdge {
            kind: EdgeKind::InternetExposure,
            technique: None,
            probability,
            evidence: Evidence::Configured,
            fixes: Vec::new(),
        };
        builder.edge(AttackGraph::INTERNET, read, new(1.0));
        builder.edge(AttackGraph::INTERNET, read, new(0.5));
        let list = edge_list(&builder.build());

        assert_eq!(list.nodes.len(), 2);
        assert_eq!(list.nodes[1].label, "data_store:db/read");
        assert!(list.nodes[1].crown_jewel_goal);
        assert!(!list.nodes[0].crown_jewel_goal);
        let weights: Vec<f64> = list.edges.iter().map(|edge| edge.weight).collect();
        assert!(weights.contains(&0.0), "{weights:?}");
        assert!(
            weights.iter().any(|w| (w - std::f64::consts::LN_2).abs() < 1e-9),
            "{weights:?}"
        );

        let text = serde_json::to_string(&list).unwrap();
        let back: EdgeList = serde_json::from_str(&text).unwrap();
        assert_eq!(back, list);
    }
}
