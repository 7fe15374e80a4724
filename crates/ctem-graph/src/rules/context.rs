//! The facts that the rules join on, indexed once: dense asset ids and each
//! asset's role, the relationships by kind, the findings by asset, and the
//! emission of nodes and edges into the [`GraphBuilder`].

use ctem_model::{Asset, AssetKey, AssetKind, RelationshipKind};
use foldhash::{HashMap, HashMapExt};

use crate::{
    AssetId, AssetInfo, Capability, EdgeKind, Evidence, FixRef, GraphBuilder, GraphInput, INTERNET, NewEdge, NodeId,
};

/// The key under which the parsers name the internet as a network source
/// (`0.0.0.0/0` and `::/0`).
pub const NETWORK_INTERNET: &str = "other:network:internet";

/// The asset id of the internet.
pub const INTERNET_ASSET: AssetId = 0;

const NO_NODE: NodeId = NodeId::MAX;
const CAPABILITIES: usize = 8;
const RELATIONSHIP_KINDS: usize = 12;

/// The part an asset plays in the rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Internet,
    /// A security group, subnet, VPC, prefix list or address range: an
    /// intermediate node of network reachability.
    Zone,
    /// Something code runs on: a host, an instance, a function, a workload,
    /// a web application.
    Executable,
    /// A network endpoint that runs no code of its own in the model: a
    /// service on a host, a load balancer, a network interface.
    Endpoint,
    Identity,
    Credential,
    DataStore,
    Repository,
    Image,
    /// A resource pattern of a policy (`other:aws-pattern:...`,
    /// `other:k8s-pattern:...`).
    Pattern,
    Other,
}

/// Returns the role of an asset from its kind, key and `aws_type`.
fn role_of(key: &str, kind: AssetKind, aws_type: Option<&str>) -> Role {
    if key == INTERNET || key == NETWORK_INTERNET {
        return Role::Internet;
    }
    match kind {
        AssetKind::Host | AssetKind::KubernetesWorkload | AssetKind::WebApp => Role::Executable,
        AssetKind::Service => Role::Endpoint,
        AssetKind::Identity => Role::Identity,
        AssetKind::Credential => Role::Credential,
        AssetKind::DataStore => Role::DataStore,
        AssetKind::Repository => Role::Repository,
        AssetKind::ContainerImage => Role::Image,
        AssetKind::CloudResource => match aws_type {
            Some("security-group" | "subnet" | "vpc" | "prefix-list") => Role::Zone,
            Some("instance" | "lambda-function") | None => Role::Executable,
            Some("load-balancer" | "network-interface") => Role::Endpoint,
            Some(_) => Role::Other,
        },
        AssetKind::Other => {
            let identifier = key.split_once(':').map_or(key, |(_, id)| id);
            if identifier.starts_with("network:") {
                Role::Zone
            } else if identifier.starts_with("aws-pattern:") || identifier.starts_with("k8s-pattern:") {
                Role::Pattern
            } else {
                Role::Other
            }
        }
        AssetKind::Domain | AssetKind::Component => Role::Other,
    }
}

/// One relationship between two known assets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Link {
    pub from: AssetId,
    pub to: AssetId,
    /// The index of the relationship in [`GraphInput::relationships`].
    pub index: u32,
}

/// A compressed adjacency from asset ids to asset ids (or finding indexes).
#[derive(Debug, Default)]
pub struct Adjacency {
    offsets: Vec<u32>,
    targets: Vec<u32>,
}

impl Adjacency {
    /// Builds the adjacency of `n` keys from (key, value) pairs, keeping the
    /// values of one key in the order given.
    pub fn new(n: usize, pairs: &[(u32, u32)]) -> Adjacency {
        let mut offsets = vec![0u32; n + 1];
        for &(key, _) in pairs {
            offsets[key as usize + 1] += 1;
        }
        for i in 0..n {
            offsets[i + 1] += offsets[i];
        }
        let mut next = offsets.clone();
        let mut targets = vec![0u32; pairs.len()];
        for &(key, value) in pairs {
            let slot = &mut next[key as usize];
            targets[*slot as usize] = value;
            *slot += 1;
        }
        Adjacency { offsets, targets }
    }

    pub fn get(&self, key: u32) -> &[u32] {
        match (self.offsets.get(key as usize), self.offsets.get(key as usize + 1)) {
            (Some(&start), Some(&end)) => &self.targets[start as usize..end as usize],
            _ => &[],
        }
    }
}

/// The static part of an edge.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    pub kind: EdgeKind,
    pub technique: Option<&'static str>,
    pub probability: f32,
    pub evidence: Evidence,
}

/// The indexed input and the graph being built.
pub struct Context<'a> {
    pub input: &'a GraphInput<'a>,
    pub builder: GraphBuilder,
    ids: HashMap<&'a str, AssetId>,
    /// The role of each asset, by id.
    pub roles: Vec<Role>,
    /// The input asset of each id; `None` for the internet and for assets
    /// that only a relationship or a rule names.
    pub assets: Vec<Option<&'a Asset>>,
    nodes: Vec<[NodeId; CAPABILITIES]>,
    /// The relationships of each kind, in input order.
    links: Vec<Vec<Link>>,
    /// The indexes of the findings of each asset.
    pub findings: Adjacency,
    /// The members of each zone (`<member> MemberOf <zone>`).
    pub members: Adjacency,
    /// Assets that the internet reaches directly or through load balancers
    /// and hosts, set by the exposure rule.
    pub internet_reached: Vec<bool>,
}

impl<'a> Context<'a> {
    /// Registers every asset and resolves every relationship and finding.
    pub fn new(input: &'a GraphInput<'a>) -> Context<'a> {
        let mut context = Context {
            input,
            builder: GraphBuilder::new(),
            ids: HashMap::with_capacity(input.assets.len() + 2),
            roles: vec![Role::Internet],
            assets: vec![None],
            nodes: vec![[NO_NODE; CAPABILITIES]],
            links: vec![Vec::new(); RELATIONSHIP_KINDS],
            findings: Adjacency::default(),
            members: Adjacency::default(),
            internet_reached: Vec::new(),
        };
        context.nodes[0][Capability::Internet as usize] = crate::AttackGraph::INTERNET;
        context.ids.insert(INTERNET, INTERNET_ASSET);
        context.ids.insert(NETWORK_INTERNET, INTERNET_ASSET);

        for asset in input.assets {
            let id = context.register_asset(asset.key.as_str(), || AssetInfo {
                key: asset.key.clone(),
                name: asset.name.clone(),
                kind: asset.kind,
                criticality: asset.criticality,
            });
            if id != INTERNET_ASSET && context.assets[id as usize].is_none() {
                let aws_type = asset.attributes.get("aws_type").map(String::as_str);
                context.roles[id as usize] = role_of(asset.key.as_str(), asset.kind, aws_type);
                context.assets[id as usize] = Some(asset);
            }
        }

        for (index, relationship) in input.relationships.iter().enumerate() {
            let from = context.asset_id(&relationship.from);
            let to = context.asset_id(&relationship.to);
            context.links[relationship.kind as usize].push(Link {
                from,
                to,
                index: index as u32,
            });
        }

        let mut by_asset = Vec::with_capacity(input.findings.len());
        for (index, finding) in input.findings.iter().enumerate() {
            let asset = context.asset_id(&finding.finding.asset);
            by_asset.push((asset, index as u32));
        }
        context.findings = Adjacency::new(context.roles.len(), &by_asset);

        let memberships: Vec<(u32, u32)> = context
            .links(RelationshipKind::MemberOf)
            .iter()
            .filter(|link| context.role(link.to) == Role::Zone)
            .map(|link| (link.to, link.from))
            .collect();
        context.members = Adjacency::new(context.roles.len(), &memberships);
        context.internet_reached = vec![false; context.roles.len()];
        context
    }

    fn register_asset(&mut self, key: &'a str, info: impl FnOnce() -> AssetInfo) -> AssetId {
        if let Some(&id) = self.ids.get(key) {
            return id;
        }
        let id = self.builder.asset(info());
        self.ids.insert(key, id);
        self.grow(id);
        id
    }

    fn grow(&mut self, id: AssetId) {
        while self.roles.len() <= id as usize {
            self.roles.push(Role::Other);
            self.assets.push(None);
            self.nodes.push([NO_NODE; CAPABILITIES]);
        }
    }

    /// The id of the asset with this key, registered from the key alone
    /// when the input has no asset for it.
    pub fn asset_id(&mut self, key: &'a AssetKey) -> AssetId {
        if let Some(&id) = self.ids.get(key.as_str()) {
            return id;
        }
        let kind = key.kind().unwrap_or(AssetKind::Other);
        let id = self.register_asset(key.as_str(), || AssetInfo {
            key: key.clone(),
            name: key.identifier().to_string(),
            kind,
            criticality: None,
        });
        self.roles[id as usize] = role_of(key.as_str(), kind, None);
        id
    }

    /// The id of the asset with this key, when one is known.
    pub fn find_asset(&self, key: &str) -> Option<AssetId> {
        self.ids.get(key).copied()
    }

    /// Registers an asset that no input names, such as the credential that a
    /// secret finding leaks.
    pub fn synthetic_asset(&mut self, info: AssetInfo, role: Role) -> AssetId {
        let id = self.builder.asset(info);
        self.grow(id);
        self.roles[id as usize] = role;
        if self.internet_reached.len() < self.roles.len() {
            self.internet_reached.resize(self.roles.len(), false);
        }
        id
    }

    /// The number of asset ids, the internet included.
    pub fn asset_count(&self) -> usize {
        self.roles.len()
    }

    pub fn role(&self, asset: AssetId) -> Role {
        self.roles[asset as usize]
    }

    pub fn info(&self, asset: AssetId) -> &AssetInfo {
        self.builder.asset_info(asset)
    }

    /// The relationships of one kind.
    pub fn links(&self, kind: RelationshipKind) -> &[Link] {
        &self.links[kind as usize]
    }

    /// The relationships of one kind, moved out so that a rule can emit
    /// edges while it walks them; give them back with [`Context::put_links`].
    pub fn take_links(&mut self, kind: RelationshipKind) -> Vec<Link> {
        std::mem::take(&mut self.links[kind as usize])
    }

    pub fn put_links(&mut self, kind: RelationshipKind, links: Vec<Link>) {
        self.links[kind as usize] = links;
    }

    /// The attribute of an input asset.
    pub fn attribute(&self, asset: AssetId, name: &str) -> Option<&'a str> {
        self.assets[asset as usize]?.attributes.get(name).map(String::as_str)
    }

    /// The values of an identifier of an input asset.
    pub fn identifiers(&self, asset: AssetId, kind: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.assets[asset as usize]
            .into_iter()
            .flat_map(move |asset| asset.identifier_values(kind))
    }

    /// Whether the input marks the asset as reached from the internet.
    pub fn internet_exposed(&self, asset: AssetId) -> bool {
        self.assets[asset as usize].is_some_and(|asset| asset.internet_exposed == Some(true))
    }

    /// Whether the asset has a public address or is exposed to the internet.
    pub fn is_public(&self, asset: AssetId) -> bool {
        self.internet_exposed(asset) || self.identifiers(asset, "public_ip").next().is_some()
    }

    /// The node of a capability on an asset, created on first use.
    pub fn node(&mut self, asset: AssetId, capability: Capability) -> NodeId {
        let slot = &mut self.nodes[asset as usize][capability as usize];
        if *slot == NO_NODE {
            *slot = self.builder.node_of(asset, capability);
        }
        *slot
    }

    /// Whether a rule has created the node of a capability on an asset.
    pub fn has_node(&self, asset: AssetId, capability: Capability) -> bool {
        self.nodes[asset as usize][capability as usize] != NO_NODE
    }

    /// Adds an edge between two capabilities, unless both are the same node.
    pub fn edge(&mut self, from: (AssetId, Capability), to: (AssetId, Capability), spec: Spec, fixes: Vec<FixRef>) {
        if from == to {
            return;
        }
        debug_assert!(
            spec.probability > 0.0 && spec.probability <= 1.0,
            "probability {} of a {:?} edge is outside (0, 1]",
            spec.probability,
            spec.kind
        );
        let from = self.node(from.0, from.1);
        let to = self.node(to.0, to.1);
        self.builder.edge(
            from,
            to,
            NewEdge {
                kind: spec.kind,
                technique: spec.technique,
                probability: spec.probability,
                evidence: spec.evidence,
                fixes,
            },
        );
    }

    /// A configuration fix on an asset.
    pub fn configuration_fix(&self, asset: AssetId, change: String) -> FixRef {
        FixRef::Configuration {
            asset: self.info(asset).key.clone(),
            change,
        }
    }

    /// The name of an asset in fix texts: its name, else its key.
    pub fn label(&self, asset: AssetId) -> &str {
        let info = self.info(asset);
        if info.name.is_empty() {
            info.key.as_str()
        } else {
            &info.name
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_follow_parser_conventions() {
        let cases = [
            ("other:network:internet", AssetKind::Other, None, Role::Internet),
            ("other:internet", AssetKind::Other, None, Role::Internet),
            ("other:network:10.0.0.0/8", AssetKind::Other, None, Role::Zone),
            ("other:aws-pattern:arn:aws:s3:*", AssetKind::Other, None, Role::Pattern),
            ("other:k8s-pattern:*/Secret/*", AssetKind::Other, None, Role::Pattern),
            (
                "cloud_resource:aws:ec2:security-group/sg-1",
                AssetKind::CloudResource,
                Some("security-group"),
                Role::Zone,
            ),
            (
                "cloud_resource:aws:ec2:instance/i-1",
                AssetKind::CloudResource,
                Some("instance"),
                Role::Executable,
            ),
            (
                "cloud_resource:x",
                AssetKind::CloudResource,
                Some("load-balancer"),
                Role::Endpoint,
            ),
            (
                "cloud_resource:arn:aws:iam::1:policy/p",
                AssetKind::CloudResource,
                Some("iam-policy"),
                Role::Other,
            ),
            ("host:10.0.0.1", AssetKind::Host, None, Role::Executable),
            ("service:10.0.0.1:22/tcp", AssetKind::Service, None, Role::Endpoint),
        ];
        for (key, kind, aws_type, role) in cases {
            assert_eq!(role_of(key, kind, aws_type), role, "{key}");
        }
    }

    #[test]
    fn adjacency_keeps_order() {
        let adjacency = Adjacency::new(3, &[(2, 7), (0, 1), (2, 5)]);
        assert_eq!(adjacency.get(0), [1]);
        assert_eq!(adjacency.get(1), [0u32; 0]);
        assert_eq!(adjacency.get(2), [7, 5]);
        assert_eq!(adjacency.get(9), [0u32; 0]);
    }
}
