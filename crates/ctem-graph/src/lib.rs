//! Attack path analysis of ctem.
//!
//! The attack graph says how an attacker who starts on the internet turns
//! one capability into the next until a crown jewel falls. Its nodes are
//! capabilities on assets ([`Capability`]: network access to a service,
//! code execution on a host, control of an identity, read or write of a
//! data store) plus the internet; its edges say how one capability yields
//! another, with the ATT&CK technique, a success probability, the evidence
//! and the fixes that would remove the edge.
//!
//! - [`input`]: what the rules read, the inventory and the open findings
//!   with their exploitation signals;
//! - `rules`: the rules that derive the edges, as a monotonic fixpoint;
//! - [`graph`]: the compact graph (dense node ids, CSR adjacency);
//! - `analysis`: exposure, blast radius, most likely paths, choke points,
//!   minimal fix sets and what-if;
//! - [`generate`]: seeded enterprise environments for tests and benchmarks;
//! - [`export`]: Graphviz DOT, a JSON edge list and BloodHound OpenGraph.
//!
//! Every function here is pure: no I/O, so the engine, the server and the
//! benchmarks call them alike.

pub mod graph;
pub mod input;

pub use graph::{
    AssetId, AssetInfo, AttackGraph, Capability, Edge, EdgeId, EdgeKind, Evidence, FixId, FixRef, GraphBuilder,
    INTERNET, NewEdge, Node, NodeId,
};
pub use input::{Controls, ExploitSignals, GraphFinding, GraphInput};
pub mod analysis;
pub mod export;
pub mod generate;
pub mod rules;
