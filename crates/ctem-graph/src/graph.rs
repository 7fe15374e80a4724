//! The attack graph: dense node ids over (asset, capability) pairs and a
//! compressed sparse row (CSR) adjacency in both directions.
//!
//! Nodes and edges are added through a [`GraphBuilder`]; [`GraphBuilder::build`]
//! sorts the edges by their source and freezes the graph. Node ids are
//! indexes into [`AttackGraph::nodes`], edge ids indexes into
//! [`AttackGraph::edges`], so the analyses keep their state in plain
//! vectors.

use std::collections::HashMap;

use foldhash::HashMapExt;

use ctem_model::{AssetKey, AssetKind, Criticality};
use serde::{Deserialize, Serialize};

/// The index of a node in [`AttackGraph::nodes`].
pub type NodeId = u32;
/// The index of an edge in [`AttackGraph::edges`].
pub type EdgeId = u32;
/// The index of a fix in [`AttackGraph::fixes`].
pub type FixId = u32;
/// The index of an asset in [`AttackGraph::assets`].
pub type AssetId = u32;

/// A capability of the attacker on one asset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Capability {
    /// The attacker's start: anyone on the internet. Only the node of the
    /// [`INTERNET`] asset has it.
    Internet,
    /// The attacker can open connections to the asset (a service, a host, a
    /// load balancer, an endpoint).
    NetworkAccess,
    /// Code execution as an unprivileged user on a host or workload.
    ExecuteUser,
    /// Code execution as root or administrator on a host or workload.
    ExecuteRoot,
    /// Control of an identity, a role, a credential or a repository.
    Control,
    /// Reading a data store, a bucket or a secret.
    Read,
    /// Writing a data store, a bucket or an image.
    Write,
    /// Sending traffic from inside a network zone (a security group, a
    /// subnet, a VPC, an address range). Zone nodes keep the graph near
    /// linear in size: the hosts of a zone reach it once, and it reaches
    /// what the zone may reach once, instead of one edge per host pair.
    NetworkPosition,
}

impl Capability {
    pub fn as_str(self) -> &'static str {
        match self {
            Capability::Internet => "internet",
            Capability::NetworkAccess => "network_access",
            Capability::ExecuteUser => "execute_user",
            Capability::ExecuteRoot => "execute_root",
            Capability::Control => "control",
            Capability::Read => "read",
            Capability::Write => "write",
            Capability::NetworkPosition => "network_position",
        }
    }

    /// Whether holding this capability on a crown jewel means the crown
    /// jewel is compromised. Network access alone is not: it is what every
    /// legitimate client has, and a network position is no hold on an asset.
    pub fn compromises(self) -> bool {
        !matches!(
            self,
            Capability::Internet | Capability::NetworkAccess | Capability::NetworkPosition
        )
    }
}

/// The kind of step by which one capability yields another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EdgeKind {
    /// The internet reaches a service: a public address in a port scan, a
    /// security group open to 0.0.0.0/0, a public load balancer.
    InternetExposure,
    /// Network access to a service plus a remotely exploitable weakness in
    /// it gives code execution.
    Exploit,
    /// A weakness exploitable by a local user gives root.
    PrivilegeEscalation,
    /// Code execution on a host gives network access to what its subnet and
    /// security groups reach.
    NetworkReach,
    /// A load balancer forwards to its targets.
    RoutesTo,
    /// Code execution on a host gives control of its instance role.
    InstanceRole,
    /// Code execution on a host, or control of an image or repository,
    /// gives the credentials and secrets stored there.
    CredentialAccess,
    /// A credential or identity gives what it authenticates as.
    UseCredential,
    /// Control of an identity gives control of a role it may assume.
    AssumeRole,
    /// Control of an identity gives what its policies permit on a resource.
    Permission,
    /// Control of an image gives code execution in the workloads that run
    /// it; code execution in a workload gives its node.
    RunsOn,
    /// Control of a repository gives control of the images it builds.
    Builds,
    /// A stronger capability on the same asset includes a weaker one (root
    /// includes user, write includes read).
    Implies,
    /// An edge imported from another tool (BloodHound OpenGraph).
    Imported,
}

impl EdgeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EdgeKind::InternetExposure => "internet_exposure",
            EdgeKind::Exploit => "exploit",
            EdgeKind::PrivilegeEscalation => "privilege_escalation",
            EdgeKind::NetworkReach => "network_reach",
            EdgeKind::RoutesTo => "routes_to",
            EdgeKind::InstanceRole => "instance_role",
            EdgeKind::CredentialAccess => "credential_access",
            EdgeKind::UseCredential => "use_credential",
            EdgeKind::AssumeRole => "assume_role",
            EdgeKind::Permission => "permission",
            EdgeKind::RunsOn => "runs_on",
            EdgeKind::Builds => "builds",
            EdgeKind::Implies => "implies",
            EdgeKind::Imported => "imported",
        }
    }
}

/// The evidence for an edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Evidence {
    /// The configuration allows it (a security group rule, a route, a
    /// trust policy).
    Configured,
    /// A permission grants it (an IAM policy statement).
    Permitted,
    /// A scanner observed it (an open port, a vulnerability, a secret).
    Observed,
}

/// Something a team can change that removes edges.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FixRef {
    /// Fixing a finding, named by its fingerprint.
    Finding { fingerprint: String },
    /// A configuration change on an asset ("remove the 0.0.0.0/0 rule on
    /// port 22 of sg-123").
    Configuration { asset: AssetKey, change: String },
}

/// The part of an asset that the graph keeps, for output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssetInfo {
    pub key: AssetKey,
    pub name: String,
    pub kind: AssetKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub criticality: Option<Criticality>,
}

impl AssetInfo {
    pub fn is_crown_jewel(&self) -> bool {
        self.criticality == Some(Criticality::CrownJewel)
    }
}

/// A capability on an asset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Node {
    pub asset: AssetId,
    pub capability: Capability,
}

/// A step by which one capability yields another.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Edge {
    pub from: NodeId,
    pub to: NodeId,
    pub kind: EdgeKind,
    /// The ATT&CK technique id (`T1190`) where one fits.
    pub technique: Option<&'static str>,
    /// The chance that an attacker holding `from` gets `to` this way, in
    /// (0, 1].
    pub probability: f32,
    /// `-ln(probability)`, the length of the edge in path searches,
    /// computed once when the edge is added.
    weight: f64,
    pub evidence: Evidence,
    /// The fixes that remove this edge: a range of [`AttackGraph::edge_fixes`].
    fixes_start: u32,
    fixes_len: u32,
}

/// The key of the asset that stands for the internet.
pub const INTERNET: &str = "other:internet";

/// An edge to add, before the graph is frozen.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEdge {
    pub kind: EdgeKind,
    pub technique: Option<&'static str>,
    pub probability: f32,
    pub evidence: Evidence,
    pub fixes: Vec<FixRef>,
}

/// Collects nodes and edges, then freezes them into an [`AttackGraph`].
#[derive(Debug)]
pub struct GraphBuilder {
    assets: Vec<AssetInfo>,
    // foldhash rather than SipHash: the rules look up millions of keys
    // here, and none of them comes from an attacker who could choose
    // colliding keys.
    asset_ids: foldhash::HashMap<AssetKey, AssetId>,
    nodes: Vec<Node>,
    node_ids: foldhash::HashMap<(AssetId, Capability), NodeId>,
    edges: Vec<Edge>,
    edge_fixes: Vec<FixId>,
    fixes: Vec<FixRef>,
    fix_ids: foldhash::HashMap<FixRef, FixId>,
}

impl Default for GraphBuilder {
    fn default() -> Self {
        GraphBuilder::new()
    }
}

impl GraphBuilder {
    /// Starts a graph that holds only the internet node, id 0.
    pub fn new() -> GraphBuilder {
        let mut builder = GraphBuilder {
            assets: Vec::new(),
            asset_ids: foldhash::HashMap::new(),
            nodes: Vec::new(),
            node_ids: foldhash::HashMap::new(),
            edges: Vec::new(),
            edge_fixes: Vec::new(),
            fixes: Vec::new(),
            fix_ids: foldhash::HashMap::new(),
        };
        let internet = builder.asset(AssetInfo {
            key: AssetKey::from_stored(INTERNET.to_string()),
            name: "internet".to_string(),
            kind: AssetKind::Other,
            criticality: None,
        });
        builder.node_of(internet, Capability::Internet);
        builder
    }

    /// Registers an asset, or returns the id it already has.
    pub fn asset(&mut self, info: AssetInfo) -> AssetId {
        if let Some(&id) = self.asset_ids.get(&info.key) {
            return id;
        }
        let id = self.assets.len() as AssetId;
        self.asset_ids.insert(info.key.clone(), id);
        self.assets.push(info);
        id
    }

    /// The asset registered under an id.
    pub fn asset_info(&self, id: AssetId) -> &AssetInfo {
        &self.assets[id as usize]
    }

    /// The number of assets registered, the internet included.
    pub fn asset_count(&self) -> usize {
        self.assets.len()
    }

    /// The id of an asset registered before.
    pub fn asset_id(&self, key: &AssetKey) -> Option<AssetId> {
        self.asset_ids.get(key).copied()
    }

    /// The node of a capability on an asset, created on first use.
    pub fn node_of(&mut self, asset: AssetId, capability: Capability) -> NodeId {
        let next = self.nodes.len() as NodeId;
        *self.node_ids.entry((asset, capability)).or_insert_with(|| {
            self.nodes.push(Node { asset, capability });
            next
        })
    }

    /// The node of a capability on an asset, if it exists.
    pub fn find_node(&self, asset: AssetId, capability: Capability) -> Option<NodeId> {
        self.node_ids.get(&(asset, capability)).copied()
    }

    /// Adds an edge. An edge equal to one already added (same ends, kind
    /// and fixes) is added again: callers that derive edges to a fixpoint
    /// deduplicate before they call this.
    pub fn edge(&mut self, from: NodeId, to: NodeId, new: NewEdge) -> EdgeId {
        let start = self.edge_fixes.len() as u32;
        for fix in new.fixes {
            // Look up before inserting, so that a known fix is not cloned.
            let id = match self.fix_ids.get(&fix) {
                Some(&id) => id,
                None => {
                    let id = self.fixes.len() as FixId;
                    self.fix_ids.insert(fix.clone(), id);
                    self.fixes.push(fix);
                    id
                }
            };
            self.edge_fixes.push(id);
        }
        self.edges.push(Edge {
            from,
            to,
            kind: new.kind,
            technique: new.technique,
            probability: new.probability,
            weight: (-f64::from(new.probability).min(1.0).ln()).max(0.0),
            evidence: new.evidence,
            fixes_start: start,
            fixes_len: self.edge_fixes.len() as u32 - start,
        });
        (self.edges.len() - 1) as EdgeId
    }

    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    pub fn edge_count(&self) -> usize {
        self.edges.len()
    }

    /// Freezes the graph: edges sorted by source (then target), CSR offsets
    /// for both directions.
    pub fn build(mut self) -> AttackGraph {
        let n = self.nodes.len();
        self.edges.sort_by_key(|edge| (edge.from, edge.to));
        let offsets = offsets(n, self.edges.iter().map(|edge| edge.from));

        let mut in_offsets = offsets_counts(n, self.edges.iter().map(|edge| edge.to));
        let mut in_edges = vec![0; self.edges.len()];
        {
            let mut next = in_offsets.clone();
            for (id, edge) in self.edges.iter().enumerate() {
                let slot = &mut next[edge.to as usize];
                in_edges[*slot as usize] = id as EdgeId;
                *slot += 1;
            }
        }
        in_offsets.truncate(n + 1);

        let (heads, tails, lengths) = search_arrays(&self.edges);
        AttackGraph {
            assets: self.assets,
            nodes: self.nodes,
            edges: self.edges,
            out_offsets: offsets,
            in_offsets,
            in_edges,
            heads,
            tails,
            lengths,
            edge_fixes: self.edge_fixes,
            fixes: self.fixes,
        }
    }
}

/// Builds the targets, sources and search lengths of `edges`. An edge that no
/// search may use (probability 0 or below, or NaN) has an infinite length.
fn search_arrays(edges: &[Edge]) -> (Vec<NodeId>, Vec<NodeId>, Vec<f64>) {
    let heads = edges.iter().map(|edge| edge.to).collect();
    let tails = edges.iter().map(|edge| edge.from).collect();
    let lengths = edges
        .iter()
        .map(|edge| {
            if edge.probability > 0.0 {
                edge.weight
            } else {
                f64::INFINITY
            }
        })
        .collect();
    (heads, tails, lengths)
}

/// CSR offsets of sorted keys: `offsets[v]..offsets[v + 1]` holds the keys
/// equal to `v`.
fn offsets(n: usize, sorted_keys: impl Iterator<Item = NodeId>) -> Vec<u32> {
    offsets_counts(n, sorted_keys)
}

/// CSR offsets from keys in any order.
fn offsets_counts(n: usize, keys: impl Iterator<Item = NodeId>) -> Vec<u32> {
    let mut offsets = vec![0u32; n + 1];
    for key in keys {
        offsets[key as usize + 1] += 1;
    }
    for v in 0..n {
        offsets[v + 1] += offsets[v];
    }
    offsets
}

/// The frozen attack graph. Node 0 is the internet.
#[derive(Debug, Clone)]
pub struct AttackGraph {
    pub assets: Vec<AssetInfo>,
    pub nodes: Vec<Node>,
    /// Sorted by source, then target.
    pub edges: Vec<Edge>,
    out_offsets: Vec<u32>,
    in_offsets: Vec<u32>,
    in_edges: Vec<EdgeId>,
    /// The ends and the length of each edge, by edge id: what searches
    /// read, packed apart from the rest of [`Edge`] so that a search
    /// touches a fraction of the memory.
    heads: Vec<NodeId>,
    tails: Vec<NodeId>,
    lengths: Vec<f64>,
    edge_fixes: Vec<FixId>,
    pub fixes: Vec<FixRef>,
}

impl Edge {
    /// The length of the edge in path searches, `-ln(probability)`, so
    /// that the shortest path is the most likely one. 0 for probabilities
    /// of 1 and above; infinite for 0.
    pub fn weight(&self) -> f64 {
        self.weight
    }
}

impl AttackGraph {
    /// The attacker's start.
    pub const INTERNET: NodeId = 0;

    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    pub fn edge_count(&self) -> usize {
        self.edges.len()
    }

    /// The ids of the edges leaving `node`.
    pub fn out_edges(&self, node: NodeId) -> std::ops::Range<EdgeId> {
        self.out_offsets[node as usize]..self.out_offsets[node as usize + 1]
    }

    /// The ids of the edges entering `node`.
    pub fn in_edges(&self, node: NodeId) -> &[EdgeId] {
        let range = self.in_offsets[node as usize] as usize..self.in_offsets[node as usize + 1] as usize;
        &self.in_edges[range]
    }

    /// The node an edge leads to.
    pub fn edge_head(&self, id: EdgeId) -> NodeId {
        self.heads[id as usize]
    }

    /// The node an edge leaves.
    pub fn edge_tail(&self, id: EdgeId) -> NodeId {
        self.tails[id as usize]
    }

    /// The search length of an edge: [`Edge::weight`], or infinite for an
    /// edge that no path may use (probability 0 or below).
    pub fn edge_length(&self, id: EdgeId) -> f64 {
        self.lengths[id as usize]
    }

    pub fn edge(&self, id: EdgeId) -> &Edge {
        &self.edges[id as usize]
    }

    /// The fixes that remove an edge.
    pub fn fixes_of(&self, id: EdgeId) -> &[FixId] {
        let edge = &self.edges[id as usize];
        &self.edge_fixes[edge.fixes_start as usize..(edge.fixes_start + edge.fixes_len) as usize]
    }

    pub fn asset_of(&self, node: NodeId) -> &AssetInfo {
        &self.assets[self.nodes[node as usize].asset as usize]
    }

    /// `asset key/capability`, the name of a node in outputs.
    pub fn node_label(&self, node: NodeId) -> String {
        let n = self.nodes[node as usize];
        format!("{}/{}", self.assets[n.asset as usize].key, n.capability.as_str())
    }

    /// The same graph with only the edges that `keep` accepts. Node, asset
    /// and fix ids stay the same; edge ids are renumbered.
    pub fn retain_edges(&self, mut keep: impl FnMut(EdgeId, &Edge) -> bool) -> AttackGraph {
        let n = self.nodes.len();
        let edges: Vec<Edge> = (0..self.edges.len() as EdgeId)
            .filter(|&id| keep(id, &self.edges[id as usize]))
            .map(|id| self.edges[id as usize])
            .collect();
        let out_offsets = offsets(n, edges.iter().map(|edge| edge.from));

        let in_offsets = offsets_counts(n, edges.iter().map(|edge| edge.to));
        let mut in_edges = vec![0; edges.len()];
        let mut next = in_offsets.clone();
        for (id, edge) in edges.iter().enumerate() {
            let slot = &mut next[edge.to as usize];
            in_edges[*slot as usize] = id as EdgeId;
            *slot += 1;
        }

        let (heads, tails, lengths) = search_arrays(&edges);
        AttackGraph {
            assets: self.assets.clone(),
            nodes: self.nodes.clone(),
            edges,
            out_offsets,
            in_offsets,
            in_edges,
            heads,
            tails,
            lengths,
            edge_fixes: self.edge_fixes.clone(),
            fixes: self.fixes.clone(),
        }
    }

    /// The nodes whose capability compromises a crown jewel, grouped by
    /// crown-jewel asset.
    pub fn crown_jewel_goals(&self) -> Vec<(AssetId, Vec<NodeId>)> {
        let mut goals: Vec<(AssetId, Vec<NodeId>)> = Vec::new();
        let mut index: HashMap<AssetId, usize> = HashMap::new();
        for (id, node) in self.nodes.iter().enumerate() {
            if node.capability.compromises() && self.assets[node.asset as usize].is_crown_jewel() {
                let slot = *index.entry(node.asset).or_insert_with(|| {
                    goals.push((node.asset, Vec::new()));
                    goals.len() - 1
                });
                goals[slot].1.push(id as NodeId);
            }
        }
        goals
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(key: &str, criticality: Option<Criticality>) -> AssetInfo {
        AssetInfo {
            key: AssetKey::new(AssetKind::Host, key),
            name: key.to_string(),
            kind: AssetKind::Host,
            criticality,
        }
    }

    fn plain(kind: EdgeKind, fixes: Vec<FixRef>) -> NewEdge {
        NewEdge {
            kind,
            technique: None,
            probability: 0.5,
            evidence: Evidence::Observed,
            fixes,
        }
    }

    #[test]
    fn csr_lists_edges_both_ways() {
        let mut builder = GraphBuilder::new();
        let web = builder.asset(info("web", None));
        let db = builder.asset(info("db", Some(Criticality::CrownJewel)));
        let web_access = builder.node_of(web, Capability::NetworkAccess);
        let web_exec = builder.node_of(web, Capability::ExecuteUser);
        let db_read = builder.node_of(db, Capability::Read);
        assert_eq!(builder.node_of(web, Capability::ExecuteUser), web_exec);

        let cve = FixRef::Finding {
            fingerprint: "f1".to_string(),
        };
        builder.edge(web_exec, db_read, plain(EdgeKind::UseCredential, vec![]));
        builder.edge(web_access, web_exec, plain(EdgeKind::Exploit, vec![cve.clone()]));
        builder.edge(web_access, web_exec, plain(EdgeKind::Exploit, vec![cve.clone()]));
        builder.edge(
            AttackGraph::INTERNET,
            web_access,
            plain(EdgeKind::InternetExposure, vec![]),
        );
        let graph = builder.build();

        assert_eq!(graph.node_count(), 4);
        let from_internet: Vec<_> = graph
            .out_edges(AttackGraph::INTERNET)
            .map(|e| graph.edge(e).to)
            .collect();
        assert_eq!(from_internet, [web_access]);
        assert_eq!(graph.out_edges(web_access).len(), 2);
        assert_eq!(graph.in_edges(web_exec).len(), 2);
        assert_eq!(graph.in_edges(db_read).len(), 1);
        assert_eq!(graph.edge(graph.in_edges(db_read)[0]).from, web_exec);
        // The fix is stored once and named by both exploit edges.
        assert_eq!(graph.fixes, [cve]);
        for edge in graph.out_edges(web_access) {
            assert_eq!(graph.fixes_of(edge), [0]);
        }
        assert_eq!(graph.crown_jewel_goals(), [(db, vec![db_read])]);
        assert_eq!(graph.node_label(db_read), "host:db/read");
    }
}
