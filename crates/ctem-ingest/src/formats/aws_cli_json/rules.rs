//! Security group rules: how a protocol and port range become network
//! edges, and which ranges open to the internet are findings.

use ctem_model::{AssetKey, Finding, FindingKind, Severity};

use super::TOOL;

/// Ranges of at most this many ports give one edge per port; wider ones
/// give one edge with the range in the protocol (`tcp:1024-65535`).
pub(super) const MAX_PORTS_PER_EDGE_LIST: u32 = 16;

/// The TCP services that must not be open to the whole internet: remote
/// administration and databases, which attackers scan for and whose
/// exposure is a direct entry point.
pub(super) const SENSITIVE_PORTS: &[(u16, &str)] = &[
    (22, "SSH"),
    (23, "Telnet"),
    (445, "SMB"),
    (1433, "Microsoft SQL Server"),
    (1521, "Oracle Database"),
    (2375, "Docker API"),
    (3306, "MySQL"),
    (3389, "RDP"),
    (5432, "PostgreSQL"),
    (5900, "VNC"),
    (6379, "Redis"),
    (9200, "Elasticsearch"),
    (11211, "Memcached"),
    (27017, "MongoDB"),
];

/// The traffic an ingress rule allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum PortRange {
    /// Every protocol and port (`IpProtocol` `-1`).
    All,
    /// A TCP or UDP range, both ends included.
    Ports { protocol: String, from: u16, to: u16 },
    /// A protocol without ports (ICMP, or a protocol number such as 50).
    Protocol(String),
}

impl PortRange {
    /// Reads `IpProtocol`, `FromPort` and `ToPort`. A TCP or UDP rule
    /// without ports, or with `-1`, allows every port.
    pub(super) fn of(protocol: Option<&str>, from: Option<i64>, to: Option<i64>) -> PortRange {
        let protocol = match protocol.map(str::trim).unwrap_or("-1").to_ascii_lowercase().as_str() {
            "-1" | "all" | "" => return PortRange::All,
            "6" | "tcp" => "tcp".to_string(),
            "17" | "udp" => "udp".to_string(),
            "1" | "icmp" => "icmp".to_string(),
            "58" | "icmpv6" => "icmpv6".to_string(),
            other => other.to_string(),
        };
        if protocol != "tcp" && protocol != "udp" {
            return PortRange::Protocol(protocol);
        }
        let port = |value: Option<i64>| value.and_then(|v| u16::try_from(v).ok());
        match (port(from), port(to)) {
            (Some(from), Some(to)) if from <= to => PortRange::Ports { protocol, from, to },
            _ => PortRange::Ports {
                protocol,
                from: 0,
                to: u16::MAX,
            },
        }
    }

    /// The (protocol, port) pairs of the network edges of this range: one
    /// per port for up to [`MAX_PORTS_PER_EDGE_LIST`] ports, else one edge
    /// without port and with the range in the protocol; `all` for every
    /// protocol.
    pub(super) fn edges(&self) -> Vec<(String, Option<u16>)> {
        match self {
            PortRange::All => vec![("all".to_string(), None)],
            PortRange::Protocol(protocol) => vec![(protocol.clone(), None)],
            PortRange::Ports { protocol, from, to } => {
                if u32::from(*to) - u32::from(*from) < MAX_PORTS_PER_EDGE_LIST {
                    (*from..=*to).map(|port| (protocol.clone(), Some(port))).collect()
                } else {
                    vec![(format!("{protocol}:{from}-{to}"), None)]
                }
            }
        }
    }

    /// Returns whether the range allows every TCP port.
    fn all_tcp(&self) -> bool {
        match self {
            PortRange::All => true,
            PortRange::Ports { protocol, from, to } => protocol == "tcp" && *from == 0 && *to == u16::MAX,
            PortRange::Protocol(_) => false,
        }
    }

    /// Returns whether the range allows this TCP port.
    fn allows_tcp(&self, port: u16) -> bool {
        match self {
            PortRange::All => true,
            PortRange::Ports { protocol, from, to } => protocol == "tcp" && (*from..=*to).contains(&port),
            PortRange::Protocol(_) => false,
        }
    }

    /// Formats the range as people write it: `tcp 22`, `tcp 1024-2048`, `all`.
    fn describe(&self) -> String {
        match self {
            PortRange::All => "all traffic".to_string(),
            PortRange::Protocol(protocol) => protocol.clone(),
            PortRange::Ports { protocol, from, to } if from == to => format!("{protocol} {from}"),
            PortRange::Ports { protocol, from, to } => format!("{protocol} {from}-{to}"),
        }
    }
}

/// Builds the findings of a rule that allows the internet in: one for a rule
/// that opens every TCP port, else one per sensitive port in the range.
pub(super) fn open_to_world(group: &AssetKey, id: &str, name: &str, range: &PortRange, target: &str) -> Vec<Finding> {
    let label = if name == id {
        id.to_string()
    } else {
        format!("{name} ({id})")
    };
    let mut findings = Vec::new();

    if range.all_tcp() {
        let mut finding = Finding::new(
            TOOL,
            "aws-security-group-open-all-ports",
            FindingKind::Misconfiguration,
            format!("Security group {label} allows every TCP port from the internet"),
            Severity::High,
            group.clone(),
        );
        finding.location.protocol = Some("tcp".to_string());
        finding.description = Some(format!(
            "An ingress rule of security group {label} allows {} from 0.0.0.0/0 or ::/0. Every service that \
             listens on a member of the group with a public address can be reached from the internet.",
            range.describe()
        ));
        findings.push(finish(finding, range, target));
        return findings;
    }

    for (port, service) in SENSITIVE_PORTS {
        if !range.allows_tcp(*port) {
            continue;
        }
        let mut finding = Finding::new(
            TOOL,
            "aws-security-group-open-port",
            FindingKind::Misconfiguration,
            format!("Security group {label} allows {service} ({port}/tcp) from the internet"),
            Severity::High,
            group.clone(),
        );
        finding.location.port = Some(*port);
        finding.location.protocol = Some("tcp".to_string());
        finding.description = Some(format!(
            "An ingress rule of security group {label} allows {} from 0.0.0.0/0 or ::/0, which includes \
             {service} on port {port}. Attackers scan the internet for this service; a member of the group \
             with a public address is one password or one vulnerability away from compromise.",
            range.describe()
        ));
        findings.push(finish(finding, range, target));
    }
    findings
}

fn finish(mut finding: Finding, range: &PortRange, target: &str) -> Finding {
    finding.fix.description = Some(
        "Restrict the rule's source to the address ranges that need access, or reach the service through a \
         VPN, a bastion host or AWS Systems Manager Session Manager."
            .to_string(),
    );
    finding.attributes.insert("rule".into(), range.describe());
    finding
        .references
        .push("https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html".to_string());
    finding.target = Some(target.to_string());
    finding
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_read() {
        assert_eq!(PortRange::of(Some("-1"), None, None), PortRange::All);
        assert_eq!(
            PortRange::of(Some("6"), Some(22), Some(22)),
            PortRange::Ports {
                protocol: "tcp".into(),
                from: 22,
                to: 22
            }
        );
        assert_eq!(
            PortRange::of(Some("icmp"), Some(8), Some(0)),
            PortRange::Protocol("icmp".into())
        );
        assert_eq!(
            PortRange::of(Some("udp"), Some(-1), Some(-1)),
            PortRange::Ports {
                protocol: "udp".into(),
                from: 0,
                to: 65535
            }
        );
    }

    #[test]
    fn small_ranges_list_ports() {
        let range = PortRange::of(Some("tcp"), Some(8000), Some(8015));
        assert_eq!(range.edges().len(), 16);
        assert_eq!(range.edges()[0], ("tcp".to_string(), Some(8000)));
        let wide = PortRange::of(Some("tcp"), Some(8000), Some(8016));
        assert_eq!(wide.edges(), [("tcp:8000-8016".to_string(), None)]);
        assert_eq!(PortRange::All.edges(), [("all".to_string(), None)]);
    }

    #[test]
    fn world_findings() {
        let group = AssetKey::new(ctem_model::AssetKind::CloudResource, "aws:ec2:security-group/sg-1");
        let ssh = PortRange::of(Some("tcp"), Some(22), Some(22));
        let findings = open_to_world(&group, "sg-1", "admin", &ssh, "aws:1:vpc-1:x");
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].location.port, Some(22));
        assert_eq!(
            findings[0].title,
            "Security group admin (sg-1) allows SSH (22/tcp) from the internet"
        );

        let https = PortRange::of(Some("tcp"), Some(443), Some(443));
        assert!(open_to_world(&group, "sg-1", "sg-1", &https, "t").is_empty());

        let databases = PortRange::of(Some("tcp"), Some(3000), Some(6000));
        let ports: Vec<_> = open_to_world(&group, "sg-1", "sg-1", &databases, "t")
            .iter()
            .map(|f| f.location.port)
            .collect();
        assert_eq!(ports, [Some(3306), Some(3389), Some(5432), Some(5900)]);

        let everything = open_to_world(&group, "sg-1", "sg-1", &PortRange::All, "t");
        assert_eq!(everything.len(), 1);
        assert_eq!(everything[0].rule_id, "aws-security-group-open-all-ports");
    }
}
