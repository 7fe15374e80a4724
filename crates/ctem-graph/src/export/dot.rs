//! Graphviz DOT: the whole graph, or the edges of a few paths.
//!
//! Nodes are labelled with the asset name and the capability, edges with
//! their kind, ATT&CK technique and probability. Crown-jewel nodes are
//! filled red, the internet is a diamond. Every label is a quoted DOT
//! string escaped by [`escape_dot`], so an asset name cannot end the
//! string or inject attributes.

use std::collections::BTreeSet;
use std::fmt::Write;

use crate::{AttackGraph, Capability, EdgeId, NodeId};

/// Formats the whole graph as a DOT `digraph`.
pub fn dot(graph: &AttackGraph) -> String {
    let edges: Vec<EdgeId> = (0..graph.edge_count() as EdgeId).collect();
    let nodes: BTreeSet<NodeId> = (0..graph.node_count() as NodeId).collect();
    render(graph, &nodes, &edges)
}

/// Formats the subgraph of the given edges (the edges of a set of paths)
/// and their end nodes.
pub fn dot_edges(graph: &AttackGraph, edges: &[EdgeId]) -> String {
    let mut unique: Vec<EdgeId> = edges.to_vec();
    unique.sort_unstable();
    unique.dedup();
    let nodes: BTreeSet<NodeId> = unique
        .iter()
        .flat_map(|&id| [graph.edge(id).from, graph.edge(id).to])
        .collect();
    render(graph, &nodes, &unique)
}

fn render(graph: &AttackGraph, nodes: &BTreeSet<NodeId>, edges: &[EdgeId]) -> String {
    let mut out = String::from("digraph attack_graph {\n  rankdir=LR;\n  node [shape=box, fontsize=10];\n");

    for &node in nodes {
        let asset = graph.asset_of(node);
        let capability = graph.nodes[node as usize].capability;
        let label = escape_dot(&format!("{}\n{}", asset.name, capability.as_str()));
        let style = if capability == Capability::Internet {
            ", shape=diamond"
        } else if asset.is_crown_jewel() && capability.compromises() {
            ", style=filled, fillcolor=\"#f4cccc\", color=\"#cc0000\", penwidth=2"
        } else {
            ""
        };
        let _ = writeln!(out, "  n{node} [label=\"{label}\"{style}];");
    }

    for &id in edges {
        let edge = graph.edge(id);
        let mut label = edge.kind.as_str().to_string();
        if let Some(technique) = edge.technique {
            label.push(' ');
            label.push_str(technique);
        }
        let _ = write!(label, "\np={:.2}", edge.probability);
        let _ = writeln!(
            out,
            "  n{} -> n{} [label=\"{}\"];",
            edge.from,
            edge.to,
            escape_dot(&label)
        );
    }
    out.push_str("}\n");
    out
}

/// Escapes text for a DOT double-quoted string: backslashes and quotes
/// are escaped, line breaks become `\n` (a centred line in a label),
/// and other control characters are dropped.
pub fn escape_dot(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use ctem_model::{AssetKey, AssetKind, Criticality};

    use super::*;
    use crate::{AssetInfo, EdgeKind, Evidence, GraphBuilder, NewEdge};

    fn hostile_graph() -> AttackGraph {
        let mut builder = GraphBuilder::new();
        let web = builder.asset(AssetInfo {
            key: AssetKey::new(AssetKind::Host, "web"),
            name: "web\" ] ; n0 -> n0 [color=red\n{evil}\\".to_string(),
            kind: AssetKind::Host,
            criticality: None,
        });
        let db = builder.asset(AssetInfo {
            key: AssetKey::new(AssetKind::DataStore, "db"),
            name: "payroll".to_string(),
            kind: AssetKind::DataStore,
            criticality: Some(Criticality::CrownJewel),
        });
        let access = builder.node_of(web, Capability::NetworkAccess);
        let read = builder.node_of(db, Capability::Read);
        let edge = |kind, technique| NewEdge {
            kind,
            technique,
            probability: 0.25,
            evidence: Evidence::Observed,
            fixes: Vec::new(),
        };
        builder.edge(
            AttackGraph::INTERNET,
            access,
            edge(EdgeKind::InternetExposure, Some("T1190")),
        );
        builder.edge(access, read, edge(EdgeKind::Exploit, None));
        builder.build()
    }

    /// The edge statements of a DOT text: lines of the form `nA -> nB [...]`.
    fn edge_lines(text: &str) -> usize {
        text.lines()
            .filter(|line| line.split_whitespace().nth(1) == Some("->"))
            .count()
    }

    #[test]
    fn escape_handles_quotes_and_lines() {
        assert_eq!(escape_dot(r#"a"b\c"#), r#"a\"b\\c"#);
        assert_eq!(escape_dot("one\ntwo\r\u{0}"), "one\\ntwo");
        assert_eq!(escape_dot("{braces} [and] <angles>"), "{braces} [and] <angles>");
    }

    #[test]
    fn hostile_name_stays_in_its_label() {
        let text = dot(&hostile_graph());
        let line = text.lines().find(|line| line.contains("evil")).expect("web node");
        assert_eq!(
            line,
            r#"  n1 [label="web\" ] ; n0 -> n0 [color=red\n{evil}\\\nnetwork_access"];"#
        );
        // Only the two real edges exist.
        assert_eq!(edge_lines(&text), 2);
    }

    #[test]
    fn labels_and_highlights() {
        let text = dot(&hostile_graph());
        assert!(
            text.contains(r#"n0 [label="internet\ninternet", shape=diamond];"#),
            "{text}"
        );
        assert!(text.contains(r#"n2 [label="payroll\nread", style=filled"#), "{text}");
        assert!(
            text.contains(r#"n0 -> n1 [label="internet_exposure T1190\np=0.25"];"#),
            "{text}"
        );
        assert!(text.contains(r#"n1 -> n2 [label="exploit\np=0.25"];"#), "{text}");
    }

    #[test]
    fn subgraph_keeps_only_path_nodes() {
        let graph = hostile_graph();
        let last = graph.in_edges(2)[0];
        let text = dot_edges(&graph, &[last, last]);
        assert_eq!(edge_lines(&text), 1);
        let declared = |node: &str| text.lines().any(|line| line.starts_with(&format!("  {node} [")));
        assert!(!declared("n0"), "{text}");
        assert!(declared("n1"), "{text}");
        assert!(declared("n2"), "{text}");
    }
}
