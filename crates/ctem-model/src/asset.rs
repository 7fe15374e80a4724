//! Assets and the typed relationships between them.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// What kind of thing an asset is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssetKind {
    /// A machine known by an IP address or a host name.
    Host,
    /// A network service: one port and protocol on a host.
    Service,
    /// A web application or an URL.
    WebApp,
    Domain,
    ContainerImage,
    /// A software package, named by a purl where the report gives one.
    Component,
    /// A source code repository or a scanned source tree.
    Repository,
    /// A resource of a cloud provider (instance, bucket, database...).
    CloudResource,
    /// A user, role or service account.
    Identity,
    KubernetesWorkload,
    Credential,
    DataStore,
    Other,
}

impl AssetKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AssetKind::Host => "host",
            AssetKind::Service => "service",
            AssetKind::WebApp => "web_app",
            AssetKind::Domain => "domain",
            AssetKind::ContainerImage => "container_image",
            AssetKind::Component => "component",
            AssetKind::Repository => "repository",
            AssetKind::CloudResource => "cloud_resource",
            AssetKind::Identity => "identity",
            AssetKind::KubernetesWorkload => "kubernetes_workload",
            AssetKind::Credential => "credential",
            AssetKind::DataStore => "data_store",
            AssetKind::Other => "other",
        }
    }

    /// Parses the name that [`AssetKind::as_str`] returns.
    pub fn parse(name: &str) -> Option<AssetKind> {
        let kinds = [
            AssetKind::Host,
            AssetKind::Service,
            AssetKind::WebApp,
            AssetKind::Domain,
            AssetKind::ContainerImage,
            AssetKind::Component,
            AssetKind::Repository,
            AssetKind::CloudResource,
            AssetKind::Identity,
            AssetKind::KubernetesWorkload,
            AssetKind::Credential,
            AssetKind::DataStore,
            AssetKind::Other,
        ];
        kinds.into_iter().find(|kind| kind.as_str() == name)
    }
}

impl fmt::Display for AssetKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The identity of an asset: its kind and one primary identifier, written
/// `kind:identifier` (`host:10.0.0.5`, `container_image:nginx:1.25`).
///
/// Host names and domains are lowercased so that two tools spelling the same
/// name differently name the same asset.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AssetKey(String);

impl AssetKey {
    pub fn new(kind: AssetKind, identifier: &str) -> AssetKey {
        let identifier = identifier.trim();
        let identifier = match kind {
            AssetKind::Host | AssetKind::Domain | AssetKind::Service => identifier.to_ascii_lowercase(),
            _ => identifier.to_string(),
        };
        AssetKey(format!("{}:{identifier}", kind.as_str()))
    }

    /// Wraps a key read back from storage, where it was built by [`AssetKey::new`].
    pub fn from_stored(text: String) -> AssetKey {
        AssetKey(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The kind named by the key's prefix, if it is one ctem knows.
    pub fn kind(&self) -> Option<AssetKind> {
        self.0.split_once(':').and_then(|(kind, _)| AssetKind::parse(kind))
    }

    /// The identifier after the kind prefix.
    pub fn identifier(&self) -> &str {
        self.0.split_once(':').map_or(&self.0, |(_, id)| id)
    }
}

impl fmt::Display for AssetKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Business criticality of an asset, set by the configuration. A crown
/// jewel is what an attacker must not reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Criticality {
    Low,
    Medium,
    High,
    CrownJewel,
}

impl Criticality {
    pub fn as_str(self) -> &'static str {
        match self {
            Criticality::Low => "low",
            Criticality::Medium => "medium",
            Criticality::High => "high",
            Criticality::CrownJewel => "crown_jewel",
        }
    }
}

impl fmt::Display for Criticality {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Anything attackable or worth protecting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Asset {
    pub key: AssetKey,
    pub kind: AssetKind,
    /// A name for people: the host name, the image reference, the package name.
    pub name: String,
    /// Every identifier the sources gave, as (kind, value): `ip`, `hostname`,
    /// `mac`, `fqdn`, `purl`, `image_digest`, `repo_url`, `arn`, `url`...
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub identifiers: Vec<(String, String)>,
    /// Free attributes such as `os`, `environment`, `product` or `version`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Whether the asset is reachable from the internet, where a source or
    /// the configuration says so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internet_exposed: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub criticality: Option<Criticality>,
}

impl Asset {
    /// Builds an asset with only its identity and name set.
    pub fn new(kind: AssetKind, identifier: &str, name: impl Into<String>) -> Asset {
        Asset {
            key: AssetKey::new(kind, identifier),
            kind,
            name: name.into(),
            identifiers: Vec::new(),
            attributes: BTreeMap::new(),
            tags: Vec::new(),
            internet_exposed: None,
            owner: None,
            criticality: None,
        }
    }

    /// Adds an identifier unless the asset has it already.
    pub fn with_identifier(mut self, kind: &str, value: impl Into<String>) -> Asset {
        self.add_identifier(kind, value);
        self
    }

    pub fn add_identifier(&mut self, kind: &str, value: impl Into<String>) {
        let value = value.into();
        if !self.identifiers.iter().any(|(k, v)| k == kind && *v == value) {
            self.identifiers.push((kind.to_string(), value));
        }
    }

    /// Values of every identifier of the given kind.
    pub fn identifier_values<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.identifiers
            .iter()
            .filter(move |(k, _)| k == kind)
            .map(|(_, v)| v.as_str())
    }

    /// Merges what another source said about the same asset: identifiers,
    /// attributes and tags are added, and set fields of `other` win over
    /// unset ones of `self`.
    pub fn merge(&mut self, other: Asset) {
        for (kind, value) in other.identifiers {
            self.add_identifier(&kind, value);
        }
        for (name, value) in other.attributes {
            self.attributes.entry(name).or_insert(value);
        }
        for tag in other.tags {
            if !self.tags.contains(&tag) {
                self.tags.push(tag);
            }
        }
        if self.name.is_empty() {
            self.name = other.name;
        }
        self.internet_exposed = match (self.internet_exposed, other.internet_exposed) {
            (Some(a), Some(b)) => Some(a || b),
            (a, b) => a.or(b),
        };
        self.owner = self.owner.take().or(other.owner);
        self.criticality = self.criticality.max(other.criticality);
    }
}

/// The type of an edge between two assets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RelationshipKind {
    /// `from` can open connections to `to` (with the port and protocol in
    /// the relationship).
    NetworkReach,
    /// `from` hosts `to`: a host and its services, a node and its pods.
    Hosts,
    /// `from` runs on `to`: a workload on a host, a container on an image.
    RunsOn,
    /// `from` contains `to`: an image or repository and its components.
    Contains,
    Builds,
    Deploys,
    CanAssume,
    HasCredential,
    CanRead,
    CanWrite,
    MemberOf,
    RoutesTo,
}

/// A typed edge between two assets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Relationship {
    pub from: AssetKey,
    pub to: AssetKey,
    pub kind: RelationshipKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
}

impl Relationship {
    pub fn new(from: AssetKey, kind: RelationshipKind, to: AssetKey) -> Relationship {
        Relationship {
            from,
            to,
            kind,
            protocol: None,
            port: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_lowercases_host_names() {
        let key = AssetKey::new(AssetKind::Host, "Web01.ACME.example");
        assert_eq!(key.as_str(), "host:web01.acme.example");
        assert_eq!(key.kind(), Some(AssetKind::Host));
        assert_eq!(key.identifier(), "web01.acme.example");
    }

    #[test]
    fn key_keeps_image_case() {
        let key = AssetKey::new(AssetKind::ContainerImage, "ghcr.io/Acme/shop:1.0");
        assert_eq!(key.identifier(), "ghcr.io/Acme/shop:1.0");
    }

    #[test]
    fn merge_keeps_the_highest_criticality() {
        let mut a = Asset::new(AssetKind::Host, "10.0.0.1", "db");
        a.criticality = Some(Criticality::Medium);
        let mut b = Asset::new(AssetKind::Host, "10.0.0.1", "");
        b.criticality = Some(Criticality::CrownJewel);
        b.internet_exposed = Some(true);
        b.add_identifier("ip", "10.0.0.1");
        a.merge(b);
        assert_eq!(a.criticality, Some(Criticality::CrownJewel));
        assert_eq!(a.internet_exposed, Some(true));
        assert_eq!(a.name, "db");
        assert_eq!(a.identifier_values("ip").collect::<Vec<_>>(), ["10.0.0.1"]);
    }

    #[test]
    fn kind_names_round_trip() {
        for name in ["host", "web_app", "container_image", "kubernetes_workload", "other"] {
            assert_eq!(AssetKind::parse(name).unwrap().as_str(), name);
        }
        assert_eq!(AssetKind::parse("spaceship"), None);
    }
}
