//! Attack graphs in the formats of other tools: Graphviz DOT for people,
//! a JSON edge list for graph libraries (networkx, igraph), and BloodHound
//! OpenGraph JSON both ways.
//!
//! ```
//! use ctem_graph::export::{dot, edge_list};
//! use ctem_graph::GraphBuilder;
//!
//! let graph = GraphBuilder::new().build();
//! assert!(dot(&graph).starts_with("digraph attack_graph {"));
//! assert_eq!(edge_list(&graph).nodes.len(), 1);
//! ```

mod dot;
mod edge_list;
mod opengraph;

pub use dot::{dot, dot_edges, escape_dot};
pub use edge_list::{EdgeList, ListEdge, ListNode, edge_list};
pub use opengraph::{
    ImportError, ImportLimits, ImportSummary, MatchBy, OpenGraphEdge, OpenGraphEndpoint, OpenGraphFile, OpenGraphGraph,
    OpenGraphMetadata, OpenGraphNode, import_opengraph, to_opengraph,
};
