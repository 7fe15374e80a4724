//! Host and service assets of host scanners, each sent once per report.

use std::collections::HashSet;
use std::net::IpAddr;

use ctem_model::{Asset, AssetKey, AssetKind, Relationship, RelationshipKind};

use crate::{Sink, util};

/// The facts that a report gives about one scanned host.
#[derive(Debug, Default, Clone)]
pub(crate) struct HostFacts {
    /// The address the scanner reached, usually an IP address.
    pub ip: Option<String>,
    /// A DNS name, fully qualified or not.
    pub name: Option<String>,
    pub netbios: Option<String>,
    pub macs: Vec<String>,
    pub os: Option<String>,
    /// Further asset attributes, such as the tracking method of Qualys.
    pub attributes: Vec<(&'static str, String)>,
}

impl HostFacts {
    /// Facts with only an address and a name, each ignored when empty.
    pub fn new(ip: Option<&str>, name: Option<&str>) -> HostFacts {
        HostFacts {
            ip: util::non_empty(ip),
            name: util::non_empty(name),
            ..HostFacts::default()
        }
    }
}

/// The destination of a host's findings: its asset and its scope target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HostScope {
    pub key: AssetKey,
    /// `host:<address>`, the asset key, so that a rescan of one host
    /// closes only that host's findings.
    pub target: String,
    /// The address that service assets are keyed by.
    pub address: String,
}

/// Sends host and service assets, and declares host scopes, once each.
#[derive(Debug)]
pub(crate) struct HostAssets {
    tool: &'static str,
    sent: HashSet<AssetKey>,
}

impl HostAssets {
    /// Starts a report of `tool`, the lowercase tool name of its findings.
    pub fn new(tool: &'static str) -> HostAssets {
        HostAssets {
            tool,
            sent: HashSet::new(),
        }
    }

    /// Returns the scope of a host, and the first time it is seen declares
    /// its scope target and sends its asset. The host is keyed by its IP
    /// address, else by its name; `None` when the facts have neither.
    pub fn host(&mut self, sink: &mut dyn Sink, facts: &HostFacts) -> Option<HostScope> {
        let address = facts.ip.clone().or_else(|| facts.name.clone())?;
        let key = AssetKey::new(AssetKind::Host, &address);
        let scope = HostScope {
            target: key.to_string(),
            address: key.identifier().to_string(),
            key,
        };
        if !self.sent.insert(scope.key.clone()) {
            return Some(scope);
        }

        sink.target(self.tool, &scope.target);
        sink.asset(host_asset(&address, facts));
        Some(scope)
    }

    /// Sends the service on a port of a host, and the relationship by which
    /// the host hosts it, once.
    pub fn service(
        &mut self,
        sink: &mut dyn Sink,
        scope: &HostScope,
        port: u16,
        protocol: &str,
        service_name: Option<&str>,
    ) {
        let identifier = format!("{}:{port}/{protocol}", scope.address);
        let mut asset = Asset::new(AssetKind::Service, &identifier, identifier.clone());
        if !self.sent.insert(asset.key.clone()) {
            return;
        }
        if let Some(service) = util::non_empty(service_name) {
            asset.attributes.insert("service".into(), service);
        }
        let mut relationship = Relationship::new(scope.key.clone(), RelationshipKind::Hosts, asset.key.clone());
        relationship.port = Some(port);
        relationship.protocol = Some(protocol.to_string());
        sink.asset(asset);
        sink.relationship(relationship);
    }
}

/// Builds a host asset with every identifier the facts give. A name with a
/// dot is a fully qualified domain name (`fqdn`), and one without is a
/// `hostname`. Both are lowercased, because DNS names compare without case.
fn host_asset(address: &str, facts: &HostFacts) -> Asset {
    let display_name = facts
        .name
        .clone()
        .or_else(|| facts.netbios.clone())
        .unwrap_or_else(|| address.to_string());
    let mut asset = Asset::new(AssetKind::Host, address, display_name);

    for candidate in [&facts.ip, &facts.name].into_iter().flatten() {
        if let Ok(ip) = candidate.parse::<IpAddr>() {
            asset.add_identifier("ip", ip.to_string());
        }
    }
    if let Some(name) = facts.name.as_deref().filter(|name| name.parse::<IpAddr>().is_err()) {
        let kind = if name.contains('.') { "fqdn" } else { "hostname" };
        asset.add_identifier(kind, name.to_ascii_lowercase());
    }
    if let Some(netbios) = &facts.netbios {
        asset.add_identifier("netbios_name", netbios.clone());
    }
    for mac in &facts.macs {
        asset.add_identifier("mac", mac.to_ascii_lowercase());
    }

    if let Some(os) = &facts.os {
        asset.attributes.insert("os".into(), os.clone());
    }
    for (name, value) in &facts.attributes {
        asset.attributes.insert((*name).into(), value.clone());
    }
    asset
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CollectingSink;

    #[test]
    fn host_is_sent_once() {
        let mut sink = CollectingSink::default();
        let mut hosts = HostAssets::new("openvas");
        let facts = HostFacts::new(Some("10.0.0.8"), Some("Web01.Example.test"));
        let first = hosts.host(&mut sink, &facts).expect("a scope");
        let second = hosts.host(&mut sink, &facts).expect("a scope");
        assert_eq!(first, second);

        let report = sink.into_report();
        assert_eq!(report.assets.len(), 1);
        assert_eq!(first.target, "host:10.0.0.8");
        let host = &report.assets[0];
        assert_eq!(host.name, "Web01.Example.test");
        assert_eq!(host.identifier_values("ip").collect::<Vec<_>>(), ["10.0.0.8"]);
        assert_eq!(
            host.identifier_values("fqdn").collect::<Vec<_>>(),
            ["web01.example.test"]
        );
        assert_eq!(report.targets.len(), 1);
    }

    #[test]
    fn host_without_ip_is_keyed_by_name() {
        let mut sink = CollectingSink::default();
        let mut hosts = HostAssets::new("nessus");
        let scope = hosts
            .host(&mut sink, &HostFacts::new(None, Some("PRINTER-3F")))
            .expect("a scope");
        assert_eq!(scope.target, "host:printer-3f");
        let report = sink.into_report();
        assert_eq!(
            report.assets[0].identifier_values("hostname").collect::<Vec<_>>(),
            ["printer-3f"]
        );
        assert!(
            hosts
                .host(&mut CollectingSink::default(), &HostFacts::default())
                .is_none()
        );
    }

    #[test]
    fn invalid_address_is_no_ip_identifier() {
        let mut sink = CollectingSink::default();
        let mut hosts = HostAssets::new("openvas");
        hosts.host(&mut sink, &HostFacts::new(Some("192.168.1.1001"), None));
        let report = sink.into_report();
        assert_eq!(report.assets[0].key.as_str(), "host:192.168.1.1001");
        assert_eq!(report.assets[0].identifier_values("ip").count(), 0);
    }
}
