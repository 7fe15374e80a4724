//! BloodHound OpenGraph JSON, both ways.
//!
//! The format (BloodHound CE 8 and later, <https://bloodhound.specterops.io/opengraph/schema>):
//!
//! ```json
//! {
//!   "metadata": { "source_kind": "CTEM" },
//!   "graph": {
//!     "nodes": [{ "id": "...", "kinds": ["User"], "properties": { "name": "..." } }],
//!     "edges": [{ "kind": "AdminTo",
//!                 "start": { "value": "...", "match_by": "id" },
//!                 "end": { "value": "...", "match_by": "name", "kind": "Computer" },
//!                 "properties": {} }]
//!   }
//! }
//! ```
//!
//! [`to_opengraph`] writes each capability node as an OpenGraph node (id:
//! the node label `asset key/capability`; kinds `CTEM_<Capability>` and
//! `CTEM_Node`) and each edge with the kind `CTEM_<EdgeKind>`.
//!
//! [`import_opengraph`] adds the edges of an OpenGraph file to a
//! [`GraphBuilder`] as [`EdgeKind::Imported`] edges. Each node becomes an
//! asset: the inventory asset it names when one matches (by the node's
//! `objectid` property or id against asset keys and the `objectid`,
//! `arn`, `sid`, `hostname` and `fqdn` identifiers, else by its `name`
//! against asset names, ignoring case), else a new asset, a host for the
//! node kinds of machines (`Computer`, `Host`, `Server`, `AZVM`...) and an
//! identity otherwise. The capability is execution as root on a host,
//! write on a data store and control of anything else.

use std::collections::{BTreeMap, HashMap};

use ctem_model::{Asset, AssetKey, AssetKind};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{AssetInfo, AttackGraph, Capability, EdgeKind, Evidence, FixRef, GraphBuilder, NewEdge, NodeId};

/// The `source_kind` of the files ctem writes.
const SOURCE_KIND: &str = "CTEM";

/// Node kinds that name a machine.
const HOST_KINDS: &[&str] = &[
    "computer",
    "host",
    "server",
    "device",
    "virtualmachine",
    "azvm",
    "gcpinstance",
];

/// Identifier kinds that an OpenGraph `objectid` may equal.
const OBJECT_ID_IDENTIFIERS: &[&str] = &["objectid", "arn", "sid", "hostname", "fqdn"];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenGraphFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<OpenGraphMetadata>,
    pub graph: OpenGraphGraph,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenGraphMetadata {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_kind: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenGraphGraph {
    #[serde(default)]
    pub nodes: Vec<OpenGraphNode>,
    #[serde(default)]
    pub edges: Vec<OpenGraphEdge>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenGraphNode {
    pub id: String,
    pub kinds: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub properties: BTreeMap<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenGraphEdge {
    pub kind: String,
    pub start: OpenGraphEndpoint,
    pub end: OpenGraphEndpoint,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub properties: BTreeMap<String, Value>,
}

/// How an edge names one of its nodes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenGraphEndpoint {
    pub value: String,
    #[serde(default)]
    pub match_by: MatchBy,
    /// A node kind the matched node must have.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MatchBy {
    #[default]
    Id,
    Name,
}

/// Writes a graph as an OpenGraph file.
pub fn to_opengraph(graph: &AttackGraph) -> OpenGraphFile {
    let nodes = (0..graph.node_count() as NodeId)
        .map(|id| {
            let asset = graph.asset_of(id);
            let capability = graph.nodes[id as usize].capability;
            let label = graph.node_label(id);
            let mut properties = BTreeMap::new();
            properties.insert(
                "name".to_string(),
                Value::from(format!("{} ({})", asset.name, capability.as_str())),
            );
            properties.insert("objectid".to_string(), Value::from(label.clone()));
            properties.insert("asset_key".to_string(), Value::from(asset.key.as_str()));
            properties.insert("asset_kind".to_string(), Value::from(asset.kind.as_str()));
            properties.insert("capability".to_string(), Value::from(capability.as_str()));
            properties.insert(
                "crown_jewel".to_string(),
                Value::from(asset.is_crown_jewel() && capability.compromises()),
            );
            OpenGraphNode {
                id: label,
                kinds: vec![format!("CTEM_{}", camel(capability.as_str())), "CTEM_Node".to_string()],
                properties,
            }
        })
        .collect();
    let edges = graph
        .edges
        .iter()
        .map(|edge| {
            let mut properties = BTreeMap::new();
            let probability = f64::from(edge.probability);
            properties.insert("probability".to_string(), Value::from(probability));
            properties.insert("weight".to_string(), Value::from(-probability.ln()));
            let evidence = serde_json::to_value(edge.evidence).unwrap_or(Value::Null);
            properties.insert("evidence".to_string(), evidence);
            if let Some(technique) = edge.technique {
                properties.insert("technique".to_string(), Value::from(technique));
            }
            let endpoint = |node: NodeId| OpenGraphEndpoint {
                value: graph.node_label(node),
                match_by: MatchBy::Id,
                kind: None,
            };
            OpenGraphEdge {
                kind: format!("CTEM_{}", camel(edge.kind.as_str())),
                start: endpoint(edge.from),
                end: endpoint(edge.to),
                properties,
            }
        })
        .collect();
    OpenGraphFile {
        metadata: Some(OpenGraphMetadata {
            source_kind: Some(SOURCE_KIND.to_string()),
        }),
        graph: OpenGraphGraph { nodes, edges },
    }
}

/// `network_access` as `NetworkAccess`.
fn camel(snake: &str) -> String {
    snake
        .split('_')
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// Limits on an imported file. The defaults are estimates of what a large
/// BloodHound collection holds, with room to spare.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportLimits {
    /// The maximum size of the file in bytes (default 256 MiB).
    pub max_bytes: usize,
    /// The maximum number of nodes (default 2,000,000).
    pub max_nodes: usize,
    /// The maximum number of edges (default 10,000,000).
    pub max_edges: usize,
    /// The maximum length in bytes of an id, kind or name (default 1024).
    pub max_text_bytes: usize,
    /// The probability of an edge without a `probability` property: an
    /// estimate, because OpenGraph edges say what is possible, not how
    /// likely it is (default 0.8).
    pub default_probability: f32,
}

impl Default for ImportLimits {
    fn default() -> Self {
        ImportLimits {
            max_bytes: 256 << 20,
            max_nodes: 2_000_000,
            max_edges: 10_000_000,
            max_text_bytes: 1024,
            default_probability: 0.8,
        }
    }
}

/// What an import added.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportSummary {
    pub nodes: usize,
    pub edges: usize,
    /// Nodes that matched an inventory asset.
    pub joined: usize,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ImportError {
    #[error("the OpenGraph file has {bytes} bytes, more than the limit of {limit}: split it into several files")]
    TooLarge { bytes: usize, limit: usize },
    #[error("invalid OpenGraph JSON at line {line}, column {column}: {message}")]
    Json {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("the OpenGraph file has {count} {what}, more than the limit of {limit}")]
    TooMany {
        what: &'static str,
        count: usize,
        limit: usize,
    },
    #[error("invalid OpenGraph file at {path}: {message}")]
    Invalid { path: String, message: String },
    #[error("{path} names the node {value:?}, which the file does not define")]
    UnknownNode { path: String, value: String },
}

/// A node of the file, resolved to an asset.
struct Resolved {
    info: AssetInfo,
    joined: bool,
}

/// Adds the nodes and edges of an OpenGraph file to `builder`, joining
/// its nodes to the assets of `known` where they match.
pub fn import_opengraph(
    text: &str,
    known: &[Asset],
    builder: &mut GraphBuilder,
    limits: &ImportLimits,
) -> Result<ImportSummary, ImportError> {
    if text.len() > limits.max_bytes {
        return Err(ImportError::TooLarge {
            bytes: text.len(),
            limit: limits.max_bytes,
        });
    }
    // serde_json stops nesting deeper than 128 levels, so a hostile file
    // cannot exhaust the stack.
    // Windows tools often write a byte order mark, which JSON does not allow.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let file: OpenGraphFile = serde_json::from_str(text).map_err(|error| ImportError::Json {
        line: error.line(),
        column: error.column(),
        message: if error.is_eof() {
            "the file ends too early; it may be truncated".to_string()
        } else {
            // serde_json appends the position, which the error shows already.
            let text = error.to_string();
            match text.rfind(" at line ") {
                Some(end) => text[..end].to_string(),
                None => text,
            }
        },
    })?;
    check_sizes(&file, limits)?;

    let index = Inventory::new(known);
    let mut by_id: HashMap<&str, usize> = HashMap::new();
    let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
    let mut resolved = Vec::with_capacity(file.graph.nodes.len());
    for (position, node) in file.graph.nodes.iter().enumerate() {
        if by_id.insert(node.id.as_str(), position).is_some() {
            return Err(ImportError::Invalid {
                path: format!("graph.nodes[{position}].id"),
                message: format!("the id {:?} is used by an earlier node", node.id),
            });
        }
        if let Some(name) = name_of(node) {
            by_name.entry(name.to_lowercase()).or_default().push(position);
        }
        resolved.push(index.resolve(node));
    }

    let mut summary = ImportSummary {
        nodes: 0,
        edges: 0,
        joined: resolved.iter().filter(|node| node.joined).count(),
    };
    let mut added = vec![None; resolved.len()];
    for (position, edge) in file.graph.edges.iter().enumerate() {
        let path = |end: &str| format!("graph.edges[{position}].{end}");
        let start = find(&file, &by_id, &by_name, &edge.start, &path("start"))?;
        let end = find(&file, &by_id, &by_name, &edge.end, &path("end"))?;
        let probability = match edge.properties.get("probability") {
            None => limits.default_probability,
            Some(value) => match value.as_f64() {
                Some(p) if p > 0.0 && p <= 1.0 => p as f32,
                _ => {
                    return Err(ImportError::Invalid {
                        path: path("properties.probability"),
                        message: format!("expected a number in (0, 1], found {value}"),
                    });
                }
            },
        };

        let mut node_of = |position: usize, builder: &mut GraphBuilder| {
            let info = resolved[position].info.clone();
            let capability = capability_of(info.kind);
            let asset = builder.asset(info);
            if added[position].is_none() {
                summary.nodes += 1;
            }
            *added[position].get_or_insert_with(|| builder.node_of(asset, capability))
        };
        let from = node_of(start, builder);
        let to = node_of(end, builder);
        let change = format!(
            "remove the BloodHound {} relationship to {}",
            edge.kind, resolved[end].info.name
        );
        builder.edge(
            from,
            to,
            NewEdge {
                kind: EdgeKind::Imported,
                technique: None,
                probability,
                evidence: Evidence::Configured,
                fixes: vec![FixRef::Configuration {
                    asset: resolved[start].info.key.clone(),
                    change,
                }],
            },
        );
        summary.edges += 1;
    }
    Ok(summary)
}

fn check_sizes(file: &OpenGraphFile, limits: &ImportLimits) -> Result<(), ImportError> {
    let too_many = |what, count, limit| ImportError::TooMany { what, count, limit };
    if file.graph.nodes.len() > limits.max_nodes {
        return Err(too_many("nodes", file.graph.nodes.len(), limits.max_nodes));
    }
    if file.graph.edges.len() > limits.max_edges {
        return Err(too_many("edges", file.graph.edges.len(), limits.max_edges));
    }

    let check = |path: String, text: &str| {
        if text.is_empty() {
            return Err(ImportError::Invalid {
                path,
                message: "the value is empty".into(),
            });
        }
        if text.len() > limits.max_text_bytes {
            return Err(ImportError::Invalid {
                path,
                message: format!(
                    "the value has {} bytes, more than {}",
                    text.len(),
                    limits.max_text_bytes
                ),
            });
        }
        Ok(())
    };
    for (position, node) in file.graph.nodes.iter().enumerate() {
        check(format!("graph.nodes[{position}].id"), &node.id)?;
        for (index, kind) in node.kinds.iter().enumerate() {
            check(format!("graph.nodes[{position}].kinds[{index}]"), kind)?;
        }
        if let Some(name) = name_of(node) {
            check(format!("graph.nodes[{position}].properties.name"), name)?;
        }
    }
    for (position, edge) in file.graph.edges.iter().enumerate() {
        check(format!("graph.edges[{position}].kind"), &edge.kind)?;
        check(format!("graph.edges[{position}].start.value"), &edge.start.value)?;
        check(format!("graph.edges[{position}].end.value"), &edge.end.value)?;
    }
    Ok(())
}

fn name_of(node: &OpenGraphNode) -> Option<&str> {
    node.properties.get("name").and_then(Value::as_str)
}

/// Finds the node an endpoint names: by id, or by name ignoring case
/// (which must name exactly one node), with the endpoint's kind if any.
fn find(
    file: &OpenGraphFile,
    by_id: &HashMap<&str, usize>,
    by_name: &HashMap<String, Vec<usize>>,
    endpoint: &OpenGraphEndpoint,
    path: &str,
) -> Result<usize, ImportError> {
    let has_kind = |position: &usize| match &endpoint.kind {
        Some(kind) => file.graph.nodes[*position].kinds.iter().any(|k| k == kind),
        None => true,
    };
    let candidates: Vec<usize> = match endpoint.match_by {
        MatchBy::Id => by_id.get(endpoint.value.as_str()).copied().into_iter().collect(),
        MatchBy::Name => by_name.get(&endpoint.value.to_lowercase()).cloned().unwrap_or_default(),
    };
    let matching: Vec<usize> = candidates.into_iter().filter(has_kind).collect();
    match matching.as_slice() {
        [position] => Ok(*position),
        [] => Err(ImportError::UnknownNode {
            path: path.to_string(),
            value: endpoint.value.clone(),
        }),
        _ => Err(ImportError::Invalid {
            path: path.to_string(),
            message: format!(
                "the name {:?} matches {} nodes; match by id",
                endpoint.value,
                matching.len()
            ),
        }),
    }
}

fn capability_of(kind: AssetKind) -> Capability {
    match kind {
        AssetKind::Host => Capability::ExecuteRoot,
        AssetKind::DataStore => Capability::Write,
        _ => Capability::Control,
    }
}

/// The inventory, indexed for joining.
struct Inventory<'a> {
    by_key: HashMap<&'a str, &'a Asset>,
    by_identifier: HashMap<String, &'a Asset>,
    by_name: HashMap<String, &'a Asset>,
}

impl<'a> Inventory<'a> {
    fn new(known: &'a [Asset]) -> Inventory<'a> {
        let mut inventory = Inventory {
            by_key: HashMap::new(),
            by_identifier: HashMap::new(),
            by_name: HashMap::new(),
        };
        for asset in known {
            inventory.by_key.insert(asset.key.as_str(), asset);
            for (kind, value) in &asset.identifiers {
                if OBJECT_ID_IDENTIFIERS.contains(&kind.as_str()) {
                    inventory.by_identifier.entry(value.to_lowercase()).or_insert(asset);
                }
            }
            inventory.by_name.entry(asset.name.to_lowercase()).or_insert(asset);
        }
        inventory
    }

    fn resolve(&self, node: &OpenGraphNode) -> Resolved {
        let object_id = node
            .properties
            .get("objectid")
            .and_then(Value::as_str)
            .unwrap_or(&node.id);
        let name = name_of(node);
        let found = self
            .by_key
            .get(object_id)
            .or_else(|| self.by_identifier.get(&object_id.to_lowercase()))
            .or_else(|| name.and_then(|name| self.by_name.get(&name.to_lowercase())));
        if let Some(asset) = found {
            return Resolved {
                info: AssetInfo {
                    key: asset.key.clone(),
                    name: asset.name.clone(),
                    kind: asset.kind,
                    criticality: asset.criticality,
                },
                joined: true,
            };
        }

        let host = node
            .kinds
            .iter()
            .any(|kind| HOST_KINDS.contains(&kind.to_ascii_lowercase().as_str()));
        let name = name.unwrap_or(&node.id).to_string();
        let key = if host {
            AssetKey::new(AssetKind::Host, &name)
        } else {
            AssetKey::new(AssetKind::Identity, &format!("bloodhound:{}", node.id))
        };
        Resolved {
            info: AssetInfo {
                key,
                name,
                kind: if host { AssetKind::Host } else { AssetKind::Identity },
                criticality: None,
            },
            joined: false,
        }
    }
}

#[cfg(test)]
mod tests;
