//! The rules of the attack graph, each on a hand-built environment that
//! follows the conventions of the parsers, and two chained scenarios.

use std::collections::{HashSet, VecDeque};

use ctem_graph::rules::derive;
use ctem_graph::{
    AttackGraph, Capability, Controls, EdgeKind, Evidence, ExploitSignals, FixRef, GraphFinding, GraphInput, NodeId,
};
use ctem_model::{
    Asset, AssetKey, AssetKind, Criticality, Finding, FindingKind, MaskedSecret, Relationship, RelationshipKind,
    Severity,
};

/// An environment under construction.
#[derive(Default)]
struct Env {
    assets: Vec<Asset>,
    relationships: Vec<Relationship>,
    findings: Vec<(Finding, String, ExploitSignals)>,
    controls: Controls,
}

impl Env {
    /// Adds an asset named as the parsers name it: AWS and Kubernetes
    /// resources by the last part of their id, others by their identifier.
    fn asset(&mut self, kind: AssetKind, identifier: &str) -> &mut Asset {
        let name = if ["arn:", "aws:", "k8s:"]
            .iter()
            .any(|prefix| identifier.starts_with(prefix))
        {
            identifier.rsplit(['/', ':']).next().unwrap_or(identifier)
        } else {
            identifier
        };
        self.assets.push(Asset::new(kind, identifier, name));
        self.assets.last_mut().unwrap()
    }

    fn aws(&mut self, kind: AssetKind, identifier: &str, aws_type: &str) -> &mut Asset {
        let asset = self.asset(kind, identifier);
        asset.attributes.insert("aws_type".into(), aws_type.into());
        asset
    }

    fn link(&mut self, from: &str, kind: RelationshipKind, to: &str) {
        self.relationships.push(Relationship::new(
            AssetKey::from_stored(from.into()),
            kind,
            AssetKey::from_stored(to.into()),
        ));
    }

    fn reach(&mut self, from: &str, to: &str, protocol: &str, port: Option<u16>) {
        let mut relationship = Relationship::new(
            AssetKey::from_stored(from.into()),
            RelationshipKind::NetworkReach,
            AssetKey::from_stored(to.into()),
        );
        relationship.protocol = Some(protocol.into());
        relationship.port = port;
        self.relationships.push(relationship);
    }

    fn hosts(&mut self, host: &str, service: &str, port: u16) {
        let mut relationship = Relationship::new(
            AssetKey::from_stored(host.into()),
            RelationshipKind::Hosts,
            AssetKey::from_stored(service.into()),
        );
        relationship.port = Some(port);
        relationship.protocol = Some("tcp".into());
        self.relationships.push(relationship);
    }

    fn finding(
        &mut self,
        asset: &str,
        kind: FindingKind,
        rule: &str,
        vectors: &[&str],
        signals: ExploitSignals,
    ) -> &mut Finding {
        let mut finding = Finding::new(
            "test",
            rule,
            kind,
            rule,
            Severity::High,
            AssetKey::from_stored(asset.into()),
        );
        for vector in vectors {
            finding.add_cvss(vector.parse().unwrap());
        }
        self.findings.push((finding, format!("fp-{rule}"), signals));
        &mut self.findings.last_mut().unwrap().0
    }

    fn derive(&self) -> Graph {
        let findings: Vec<GraphFinding<'_>> = self
            .findings
            .iter()
            .map(|(finding, fingerprint, signals)| GraphFinding {
                finding,
                fingerprint,
                signals: *signals,
            })
            .collect();
        let input = GraphInput {
            assets: &self.assets,
            relationships: &self.relationships,
            findings: &findings,
            controls: &self.controls,
        };
        Graph(derive(&input))
    }
}

const REMOTE: &str = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H";
const REMOTE_ROOT: &str = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H";
const LOCAL: &str = "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H";
const NO_SIGNAL: ExploitSignals = ExploitSignals { kev: false, epss: None };
const KEV: ExploitSignals = ExploitSignals { kev: true, epss: None };

const INTERNET: &str = "other:internet/internet";
const SG_WEB: &str = "cloud_resource:aws:ec2:security-group/sg-web";
const SG_APP: &str = "cloud_resource:aws:ec2:security-group/sg-app";
const SG_DB: &str = "cloud_resource:aws:ec2:security-group/sg-db";
const WORLD: &str = "other:network:internet";
const WEB: &str = "cloud_resource:aws:ec2:instance/i-web";
const APP: &str = "cloud_resource:aws:ec2:instance/i-app";
const DB: &str = "cloud_resource:aws:ec2:instance/i-db";
const PROFILE: &str = "identity:arn:aws:iam::111122223333:instance-profile/web";
const ROLE: &str = "identity:arn:aws:iam::111122223333:role/web";
const BUCKET: &str = "data_store:arn:aws:s3:::payroll";

/// The derived graph, with lookups by node label (`key/capability`).
struct Graph(AttackGraph);

impl Graph {
    fn node(&self, label: &str) -> Option<NodeId> {
        (0..self.0.node_count() as NodeId).find(|&node| self.0.node_label(node) == label)
    }

    fn edges(&self, from: &str, to: &str) -> Vec<u32> {
        let (Some(from), Some(to)) = (self.node(from), self.node(to)) else {
            return Vec::new();
        };
        self.0
            .out_edges(from)
            .filter(|&edge| self.0.edge(edge).to == to)
            .collect()
    }

    /// The one edge between two nodes, of the expected kind.
    fn edge(&self, from: &str, to: &str, kind: EdgeKind) -> &ctem_graph::Edge {
        let edges = self.edges(from, to);
        assert_eq!(edges.len(), 1, "edges {from} -> {to}: {:?}", self.describe());
        let edge = self.0.edge(edges[0]);
        assert_eq!(edge.kind, kind, "{from} -> {to}");
        edge
    }

    fn fixes(&self, from: &str, to: &str) -> Vec<FixRef> {
        let edges = self.edges(from, to);
        assert_eq!(edges.len(), 1, "edges {from} -> {to}");
        self.0
            .fixes_of(edges[0])
            .iter()
            .map(|&fix| self.0.fixes[fix as usize].clone())
            .collect()
    }

    fn has_edge(&self, from: &str, to: &str) -> bool {
        !self.edges(from, to).is_empty()
    }

    /// Whether `to` is reachable from `from`, and the labels on one
    /// shortest path.
    fn path(&self, from: &str, to: &str) -> Option<Vec<String>> {
        let from = self.node(from)?;
        let to = self.node(to)?;
        let mut previous = vec![None; self.0.node_count()];
        let mut seen = vec![false; self.0.node_count()];
        let mut queue = VecDeque::from([from]);
        seen[from as usize] = true;
        while let Some(node) = queue.pop_front() {
            if node == to {
                let mut labels = vec![self.0.node_label(node)];
                let mut at = node;
                while let Some(back) = previous[at as usize] {
                    labels.push(self.0.node_label(back));
                    at = back;
                }
                labels.reverse();
                return Some(labels);
            }
            for edge in self.0.out_edges(node) {
                let next = self.0.edge(edge).to;
                if !seen[next as usize] {
                    seen[next as usize] = true;
                    previous[next as usize] = Some(node);
                    queue.push_back(next);
                }
            }
        }
        None
    }

    fn describe(&self) -> Vec<String> {
        self.0
            .edges
            .iter()
            .map(|edge| {
                format!(
                    "{} -> {} ({:?})",
                    self.0.node_label(edge.from),
                    self.0.node_label(edge.to),
                    edge.kind
                )
            })
            .collect()
    }

    /// Checks what every graph must satisfy: probabilities in (0, 1] and
    /// no edge twice with the same ends, kind and fixes.
    fn check_invariants(&self) {
        let mut seen = HashSet::new();
        for (id, edge) in self.0.edges.iter().enumerate() {
            assert!(
                edge.probability > 0.0 && edge.probability <= 1.0,
                "probability {} of {:?}",
                edge.probability,
                edge
            );
            let fixes = self.0.fixes_of(id as u32).to_vec();
            assert!(
                seen.insert((edge.from, edge.to, edge.kind, fixes)),
                "duplicate edge {} -> {}",
                self.0.node_label(edge.from),
                self.0.node_label(edge.to)
            );
        }
    }
}

fn label(key: &str, capability: Capability) -> String {
    format!("{key}/{}", capability.as_str())
}

fn configuration(fixes: &[FixRef]) -> (&str, &str) {
    match fixes {
        [FixRef::Configuration { asset, change }] => (asset.as_str(), change.as_str()),
        other => panic!("expected one configuration fix, got {other:?}"),
    }
}

/// A web tier in AWS: an open security group with a public and a private
/// member, as the aws-cli-json parser emits them.
fn web_tier() -> Env {
    let mut env = Env::default();
    env.aws(
        AssetKind::CloudResource,
        "aws:ec2:security-group/sg-web",
        "security-group",
    );
    env.aws(AssetKind::CloudResource, "aws:ec2:instance/i-web", "instance")
        .add_identifier("public_ip", "203.0.113.10");
    env.aws(AssetKind::CloudResource, "aws:ec2:instance/i-app", "instance");
    env.asset(AssetKind::Other, "network:internet").internet_exposed = Some(true);
    env.reach(WORLD, SG_WEB, "tcp", Some(22));
    env.reach(WORLD, SG_WEB, "tcp", Some(443));
    env.link(WEB, RelationshipKind::MemberOf, SG_WEB);
    env.link(APP, RelationshipKind::MemberOf, SG_WEB);
    env
}

#[test]
fn exposure_reaches_public_member() {
    let graph = web_tier().derive();
    graph.check_invariants();
    let edge = graph.edge(
        INTERNET,
        &label(WEB, Capability::NetworkAccess),
        EdgeKind::InternetExposure,
    );
    assert_eq!(edge.evidence, Evidence::Configured);
    assert_eq!(edge.probability, 0.9);
    let fixes = graph.fixes(INTERNET, &label(WEB, Capability::NetworkAccess));
    let (asset, change) = configuration(&fixes);
    assert_eq!(asset, SG_WEB);
    assert_eq!(
        change,
        "remove the ingress rules from 0.0.0.0/0 and ::/0 of security group sg-web (tcp 22, tcp 443)"
    );
}

#[test]
fn exposure_skips_private_member() {
    let graph = web_tier().derive();
    assert!(!graph.has_edge(INTERNET, &label(APP, Capability::NetworkAccess)));
}

#[test]
fn exposure_of_load_balancer_once() {
    let mut env = Env::default();
    let lb = "cloud_resource:aws:111122223333:us-east-1:elb/shop";
    env.aws(
        AssetKind::CloudResource,
        "aws:111122223333:us-east-1:elb/shop",
        "load-balancer",
    )
    .internet_exposed = Some(true);
    env.aws(AssetKind::CloudResource, "aws:ec2:instance/i-web", "instance");
    env.reach(WORLD, lb, "tcp", Some(443));
    env.link(lb, RelationshipKind::RoutesTo, WEB);
    let graph = env.derive();
    graph.check_invariants();

    let fixes = graph.fixes(INTERNET, &label(lb, Capability::NetworkAccess));
    assert_eq!(
        configuration(&fixes),
        (lb, "make load balancer shop internal (tcp 443)")
    );
    graph.edge(
        &label(lb, Capability::NetworkAccess),
        &label(WEB, Capability::NetworkAccess),
        EdgeKind::RoutesTo,
    );
}

#[test]
fn exposure_flag_gives_access() {
    let mut env = Env::default();
    env.asset(AssetKind::Host, "203.0.113.7").internet_exposed = Some(true);
    env.asset(AssetKind::Host, "10.0.0.7").internet_exposed = Some(false);
    let graph = env.derive();
    graph.edge(INTERNET, "host:203.0.113.7/network_access", EdgeKind::InternetExposure);
    assert!(graph.node("host:10.0.0.7/network_access").is_none());
}

#[test]
fn exposure_of_public_repository_is_read() {
    let mut env = Env::default();
    env.asset(AssetKind::Repository, "https://git.example/shop")
        .internet_exposed = Some(true);
    let graph = env.derive();
    let edge = graph.edge(
        INTERNET,
        "repository:https://git.example/shop/read",
        EdgeKind::InternetExposure,
    );
    assert_eq!(edge.technique, Some("T1593.003"));
    let fixes = graph.fixes(INTERNET, "repository:https://git.example/shop/read");
    assert_eq!(
        configuration(&fixes).1,
        "make repository https://git.example/shop private"
    );
}

/// A host of a port scan with a web service, and its exploit.
fn scanned_host(exposed: bool, vector: &str, signals: ExploitSignals) -> Env {
    let mut env = Env::default();
    env.asset(AssetKind::Host, "203.0.113.10").internet_exposed = Some(exposed);
    env.asset(AssetKind::Service, "203.0.113.10:443/tcp")
        .attributes
        .insert("service".into(), "https".into());
    env.hosts("host:203.0.113.10", "service:203.0.113.10:443/tcp", 443);
    env.finding(
        "host:203.0.113.10",
        FindingKind::Vulnerability,
        "CVE-2024-0001",
        &[vector],
        signals,
    )
    .location
    .port = Some(443);
    env
}

#[test]
fn exploit_enters_through_service() {
    let graph = scanned_host(true, REMOTE, KEV).derive();
    graph.check_invariants();
    let from = "service:203.0.113.10:443/tcp/network_access";
    let edge = graph.edge(from, "host:203.0.113.10/execute_user", EdgeKind::Exploit);
    assert_eq!(edge.technique, Some("T1190"));
    assert_eq!(edge.evidence, Evidence::Observed);
    // KEV and the easiest CVSS vector: the cap of 0.99.
    assert!((edge.probability - 0.99).abs() < 1e-6, "{}", edge.probability);
    assert_eq!(
        graph.fixes(from, "host:203.0.113.10/execute_user"),
        [FixRef::Finding {
            fingerprint: "fp-CVE-2024-0001".into()
        }]
    );
    graph.edge("host:203.0.113.10/network_access", from, EdgeKind::NetworkReach);
}

#[test]
fn exploit_inside_is_t1210() {
    let graph = scanned_host(false, REMOTE, NO_SIGNAL).derive();
    let edge = graph.edge(
        "service:203.0.113.10:443/tcp/network_access",
        "host:203.0.113.10/execute_user",
        EdgeKind::Exploit,
    );
    assert_eq!(edge.technique, Some("T1210"));
    assert!((edge.probability - 0.5).abs() < 1e-6, "{}", edge.probability);
}

#[test]
fn exploit_with_scope_change_is_root() {
    let graph = scanned_host(true, REMOTE_ROOT, NO_SIGNAL).derive();
    graph.edge(
        "service:203.0.113.10:443/tcp/network_access",
        "host:203.0.113.10/execute_root",
        EdgeKind::Exploit,
    );
    graph.edge(
        "host:203.0.113.10/execute_root",
        "host:203.0.113.10/execute_user",
        EdgeKind::Implies,
    );
}

#[test]
fn exploit_behind_waf_is_lower() {
    let mut env = scanned_host(true, REMOTE, KEV);
    env.controls.waf = 0.5;
    let graph = env.derive();
    let edge = graph.edge(
        "service:203.0.113.10:443/tcp/network_access",
        "host:203.0.113.10/execute_user",
        EdgeKind::Exploit,
    );
    assert!((edge.probability - 0.495).abs() < 1e-6, "{}", edge.probability);
}

#[test]
fn exploit_of_image_lands_in_workload() {
    let mut env = Env::default();
    let workload = "kubernetes_workload:k8s:shop/Deployment/web";
    let image = "container_image:ghcr.io/acme/web:1.0";
    let service = "service:k8s:shop/service/web";
    env.asset(AssetKind::KubernetesWorkload, "k8s:shop/Deployment/web");
    env.asset(AssetKind::ContainerImage, "ghcr.io/acme/web:1.0");
    env.asset(AssetKind::Service, "k8s:shop/Service/web").internet_exposed = Some(true);
    env.link(workload, RelationshipKind::RunsOn, image);
    env.link(service, RelationshipKind::RoutesTo, workload);
    env.finding(image, FindingKind::Vulnerability, "CVE-2024-0002", &[REMOTE], NO_SIGNAL);
    let graph = env.derive();
    graph.check_invariants();

    let edge = graph.edge(
        &label(workload, Capability::NetworkAccess),
        &label(workload, Capability::ExecuteUser),
        EdgeKind::Exploit,
    );
    // The service routes the internet to the workload.
    assert_eq!(edge.technique, Some("T1190"));
    assert!(
        graph
            .path(INTERNET, &label(workload, Capability::ExecuteUser))
            .is_some()
    );
}

#[test]
fn exploit_of_component_follows_container() {
    let mut env = Env::default();
    let host = "host:10.0.0.9";
    let component = "component:pkg:deb/debian/openssl@3.0.0";
    env.asset(AssetKind::Host, "10.0.0.9");
    env.asset(AssetKind::Component, "pkg:deb/debian/openssl@3.0.0");
    env.link(host, RelationshipKind::Contains, component);
    env.finding(
        component,
        FindingKind::Vulnerability,
        "CVE-2024-0003",
        &[REMOTE],
        NO_SIGNAL,
    );
    let graph = env.derive();
    graph.edge(
        &label(host, Capability::NetworkAccess),
        &label(host, Capability::ExecuteUser),
        EdgeKind::Exploit,
    );
}

#[test]
fn information_leak_gives_no_exploit() {
    let graph = scanned_host(true, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", KEV).derive();
    assert!(graph.node("host:203.0.113.10/execute_user").is_none());
}

#[test]
fn local_weakness_escalates() {
    let mut env = Env::default();
    env.asset(AssetKind::Host, "10.0.0.5");
    env.finding(
        "host:10.0.0.5",
        FindingKind::Vulnerability,
        "CVE-2024-0004",
        &[LOCAL],
        ExploitSignals {
            kev: false,
            epss: Some(0.25),
        },
    );
    env.controls.edr = 0.5;
    let graph = env.derive();
    graph.check_invariants();
    let edge = graph.edge(
        "host:10.0.0.5/execute_user",
        "host:10.0.0.5/execute_root",
        EdgeKind::PrivilegeEscalation,
    );
    assert_eq!(edge.technique, Some("T1068"));
    // Ease of AV:L/AC:L/PR:L/UI:N (8.22 * 0.55 * 0.77 * 0.62 * 0.85 / 3.887),
    // times 0.3 + 0.7 * sqrt(0.25), times EDR 0.5.
    let ease = 8.22 * 0.55 * 0.77 * 0.62 * 0.85 / 3.887;
    let expected = (ease * 0.65 * 0.5) as f32;
    assert!(
        (edge.probability - expected).abs() < 1e-3,
        "{} vs {expected}",
        edge.probability
    );
    assert!(!graph.has_edge("host:10.0.0.5/network_access", "host:10.0.0.5/execute_user"));
}

/// Three tiers: web, app and database, each in its security group; the
/// database group admits the app group, and the app group the web group.
fn three_tiers() -> Env {
    let mut env = web_tier();
    env.aws(
        AssetKind::CloudResource,
        "aws:ec2:security-group/sg-app",
        "security-group",
    );
    env.aws(
        AssetKind::CloudResource,
        "aws:ec2:security-group/sg-db",
        "security-group",
    );
    env.aws(AssetKind::CloudResource, "aws:ec2:instance/i-db", "instance");
    env.relationships
        .retain(|r| !(r.from.as_str() == APP && r.kind == RelationshipKind::MemberOf));
    env.link(APP, RelationshipKind::MemberOf, SG_APP);
    env.link(DB, RelationshipKind::MemberOf, SG_DB);
    env.reach(SG_WEB, SG_APP, "tcp", Some(8080));
    env.reach(SG_APP, SG_DB, "tcp", Some(5432));
    env.reach(SG_APP, SG_DB, "tcp", Some(5433));
    env
}

#[test]
fn lateral_reach_through_zones() {
    let graph = three_tiers().derive();
    graph.check_invariants();
    let path = graph
        .path(
            &label(APP, Capability::ExecuteUser),
            &label(DB, Capability::NetworkAccess),
        )
        .unwrap();
    assert_eq!(
        path,
        [
            label(APP, Capability::ExecuteUser),
            label(SG_APP, Capability::NetworkPosition),
            label(SG_DB, Capability::NetworkAccess),
            label(DB, Capability::NetworkAccess),
        ]
    );
    let rule = graph.edge(
        &label(SG_APP, Capability::NetworkPosition),
        &label(SG_DB, Capability::NetworkAccess),
        EdgeKind::NetworkReach,
    );
    assert_eq!(rule.probability, 0.95);
    let fixes = graph.fixes(
        &label(SG_APP, Capability::NetworkPosition),
        &label(SG_DB, Capability::NetworkAccess),
    );
    assert_eq!(
        configuration(&fixes),
        (SG_DB, "remove the ingress rule from sg-app of security group sg-db")
    );
}

#[test]
fn lateral_reach_needs_a_rule() {
    let graph = three_tiers().derive();
    assert!(
        graph
            .path(
                &label(DB, Capability::ExecuteUser),
                &label(APP, Capability::NetworkAccess)
            )
            .is_none()
    );
    assert!(
        graph
            .path(
                &label(WEB, Capability::ExecuteUser),
                &label(DB, Capability::NetworkAccess)
            )
            .is_none()
    );
}

#[test]
fn segmentation_lowers_lateral_reach() {
    let mut env = three_tiers();
    env.controls.segmentation = 0.5;
    let graph = env.derive();
    let rule = graph.edge(
        &label(SG_APP, Capability::NetworkPosition),
        &label(SG_DB, Capability::NetworkAccess),
        EdgeKind::NetworkReach,
    );
    assert!((rule.probability - 0.475).abs() < 1e-6);
}

#[test]
fn address_range_source_admits_subnet() {
    let mut env = Env::default();
    let subnet = "cloud_resource:aws:ec2:subnet/subnet-a";
    let range = "other:network:10.0.0.0/16";
    env.aws(AssetKind::CloudResource, "aws:ec2:subnet/subnet-a", "subnet")
        .add_identifier("cidr", "10.0.1.0/24");
    env.aws(AssetKind::CloudResource, "aws:ec2:subnet/subnet-b", "subnet")
        .add_identifier("cidr", "10.1.0.0/24");
    env.aws(
        AssetKind::CloudResource,
        "aws:ec2:security-group/sg-db",
        "security-group",
    );
    env.aws(AssetKind::CloudResource, "aws:ec2:instance/i-app", "instance");
    env.aws(AssetKind::CloudResource, "aws:ec2:instance/i-db", "instance");
    env.asset(AssetKind::Other, "network:10.0.0.0/16")
        .add_identifier("cidr", "10.0.0.0/16");
    env.link(APP, RelationshipKind::MemberOf, subnet);
    env.link(DB, RelationshipKind::MemberOf, SG_DB);
    env.reach(range, SG_DB, "tcp", Some(5432));
    let graph = env.derive();
    graph.check_invariants();

    let path = graph
        .path(
            &label(APP, Capability::ExecuteUser),
            &label(DB, Capability::NetworkAccess),
        )
        .unwrap();
    assert_eq!(
        path,
        [
            label(APP, Capability::ExecuteUser),
            label(subnet, Capability::NetworkPosition),
            label(range, Capability::NetworkPosition),
            label(SG_DB, Capability::NetworkAccess),
            label(DB, Capability::NetworkAccess),
        ]
    );
    assert!(
        graph
            .node("cloud_resource:aws:ec2:subnet/subnet-b/network_position")
            .is_none()
    );
}

#[test]
fn zone_edges_stay_linear() {
    // 50 app hosts reach 50 database hosts through two groups: the graph
    // has one edge per membership and one per rule, not 2,500 host pairs.
    let mut env = Env::default();
    env.aws(
        AssetKind::CloudResource,
        "aws:ec2:security-group/sg-app",
        "security-group",
    );
    env.aws(
        AssetKind::CloudResource,
        "aws:ec2:security-group/sg-db",
        "security-group",
    );
    for i in 0..50 {
        for tier in ["app", "db"] {
            let id = format!("aws:ec2:instance/i-{tier}{i}");
            env.aws(AssetKind::CloudResource, &id, "instance");
            let group = if tier == "app" { SG_APP } else { SG_DB };
            env.link(&format!("cloud_resource:{id}"), RelationshipKind::MemberOf, group);
        }
    }
    env.reach(SG_APP, SG_DB, "tcp", Some(5432));
    let graph = env.derive();
    assert_eq!(graph.0.edge_count(), 50 + 1 + 50);
    assert!(
        graph
            .path(
                "cloud_resource:aws:ec2:instance/i-app7/execute_user",
                "cloud_resource:aws:ec2:instance/i-db31/network_access"
            )
            .is_some()
    );
}

/// The instance of the web tier with its instance profile and role, which
/// may read the payroll bucket.
fn with_role(mut env: Env) -> Env {
    env.aws(
        AssetKind::Identity,
        "arn:aws:iam::111122223333:instance-profile/web",
        "iam-instance-profile",
    );
    env.aws(AssetKind::Identity, "arn:aws:iam::111122223333:role/web", "iam-role");
    env.aws(AssetKind::DataStore, "arn:aws:s3:::payroll", "bucket")
        .criticality = Some(Criticality::CrownJewel);
    env.link(WEB, RelationshipKind::CanAssume, PROFILE);
    env.link(PROFILE, RelationshipKind::CanAssume, ROLE);
    env.link(ROLE, RelationshipKind::CanRead, BUCKET);
    env
}

#[test]
fn instance_role_gives_control() {
    let mut env = with_role(Env::default());
    env.aws(AssetKind::CloudResource, "aws:ec2:instance/i-web", "instance");
    let graph = env.derive();
    let edge = graph.edge(
        &label(WEB, Capability::ExecuteUser),
        &label(PROFILE, Capability::Control),
        EdgeKind::InstanceRole,
    );
    assert_eq!(edge.technique, Some("T1552.005"));
    assert_eq!(edge.probability, 0.9);
    graph.edge(
        &label(PROFILE, Capability::Control),
        &label(ROLE, Capability::Control),
        EdgeKind::AssumeRole,
    );
    let read = graph.edge(
        &label(ROLE, Capability::Control),
        &label(BUCKET, Capability::Read),
        EdgeKind::Permission,
    );
    assert_eq!(read.technique, Some("T1530"));
    assert_eq!(read.evidence, Evidence::Permitted);
    let fixes = graph.fixes(&label(ROLE, Capability::Control), &label(BUCKET, Capability::Read));
    assert_eq!(
        configuration(&fixes),
        (ROLE, "remove read access to payroll from the policies of web")
    );
    // Read permission does not give write.
    assert!(graph.node(&label(BUCKET, Capability::Write)).is_none());
}

#[test]
fn metadata_disabled_lowers_role() {
    let mut env = with_role(Env::default());
    env.aws(AssetKind::CloudResource, "aws:ec2:instance/i-web", "instance")
        .attributes
        .insert("metadata_http_endpoint".into(), "disabled".into());
    let graph = env.derive();
    let edge = graph.edge(
        &label(WEB, Capability::ExecuteUser),
        &label(PROFILE, Capability::Control),
        EdgeKind::InstanceRole,
    );
    assert!((edge.probability - 0.1).abs() < 1e-6);
}

#[test]
fn pattern_permission_matches_buckets() {
    let mut env = Env::default();
    let pattern = "other:aws-pattern:arn:aws:s3:*";
    env.aws(AssetKind::Identity, "arn:aws:iam::111122223333:role/web", "iam-role");
    env.aws(AssetKind::DataStore, "arn:aws:s3:::payroll", "bucket");
    env.aws(AssetKind::DataStore, "arn:aws:s3:::logs", "bucket");
    env.aws(
        AssetKind::DataStore,
        "arn:aws:rds:us-east-1:111122223333:db:main",
        "db-instance",
    );
    env.asset(AssetKind::Other, "aws-pattern:arn:aws:s3:*");
    env.link(ROLE, RelationshipKind::CanWrite, pattern);
    let graph = env.derive();
    graph.check_invariants();
    graph.edge(
        &label(ROLE, Capability::Control),
        &label(pattern, Capability::Write),
        EdgeKind::Permission,
    );
    graph.edge(
        &label(pattern, Capability::Write),
        &label(BUCKET, Capability::Write),
        EdgeKind::Permission,
    );
    graph.edge(
        &label(pattern, Capability::Write),
        "data_store:arn:aws:s3:::logs/write",
        EdgeKind::Permission,
    );
    assert!(
        graph
            .node("data_store:arn:aws:rds:us-east-1:111122223333:db:main/write")
            .is_none()
    );
}

#[test]
fn assume_pattern_matches_roles_only() {
    let mut env = Env::default();
    let pattern = "other:aws-pattern:arn:aws:iam::*:role/*";
    let admin = "identity:arn:aws:iam::111122223333:role/admin";
    let alice = "identity:arn:aws:iam::111122223333:user/alice";
    env.aws(AssetKind::Identity, "arn:aws:iam::111122223333:user/alice", "iam-user");
    env.aws(AssetKind::Identity, "arn:aws:iam::111122223333:role/admin", "iam-role");
    env.asset(AssetKind::Other, "aws-pattern:arn:aws:iam::*:role/*");
    env.link(alice, RelationshipKind::CanAssume, pattern);
    let graph = env.derive();
    graph.edge(
        &label(pattern, Capability::Control),
        &label(admin, Capability::Control),
        EdgeKind::Permission,
    );
    assert!(!graph.has_edge(&label(pattern, Capability::Control), &label(alice, Capability::Control)));
    assert!(
        graph
            .path(&label(alice, Capability::Control), &label(admin, Capability::Control))
            .is_some()
    );
}

#[test]
fn trust_of_anyone_reaches_role() {
    let mut env = Env::default();
    let anyone = "identity:aws:principal:*";
    env.asset(AssetKind::Identity, "aws:principal:*");
    env.aws(AssetKind::Identity, "arn:aws:iam::111122223333:role/web", "iam-role");
    env.link(anyone, RelationshipKind::CanAssume, ROLE);
    env.finding(
        ROLE,
        FindingKind::Misconfiguration,
        "aws-iam-role-trusts-any-principal",
        &[],
        NO_SIGNAL,
    );
    let graph = env.derive();
    graph.edge(
        INTERNET,
        &label(anyone, Capability::Control),
        EdgeKind::InternetExposure,
    );
    graph.edge(
        &label(anyone, Capability::Control),
        &label(ROLE, Capability::Control),
        EdgeKind::AssumeRole,
    );
    assert_eq!(
        graph.fixes(&label(anyone, Capability::Control), &label(ROLE, Capability::Control)),
        [FixRef::Finding {
            fingerprint: "fp-aws-iam-role-trusts-any-principal".into()
        }]
    );
}

#[test]
fn group_member_controls_group() {
    let mut env = Env::default();
    let alice = "identity:arn:aws:iam::111122223333:user/alice";
    let admins = "identity:arn:aws:iam::111122223333:group/admins";
    env.aws(AssetKind::Identity, "arn:aws:iam::111122223333:user/alice", "iam-user");
    env.aws(
        AssetKind::Identity,
        "arn:aws:iam::111122223333:group/admins",
        "iam-group",
    );
    env.link(alice, RelationshipKind::MemberOf, admins);
    env.link(admins, RelationshipKind::CanWrite, BUCKET);
    let graph = env.derive();
    graph.edge(
        &label(alice, Capability::Control),
        &label(admins, Capability::Control),
        EdgeKind::Permission,
    );
    assert!(
        graph
            .path(&label(alice, Capability::Control), &label(BUCKET, Capability::Write))
            .is_some()
    );
}

#[test]
fn write_on_identity_controls_it() {
    let mut env = Env::default();
    let alice = "identity:arn:aws:iam::111122223333:user/alice";
    env.aws(AssetKind::Identity, "arn:aws:iam::111122223333:user/alice", "iam-user");
    env.aws(AssetKind::Identity, "arn:aws:iam::111122223333:role/web", "iam-role");
    env.link(alice, RelationshipKind::CanWrite, ROLE);
    let graph = env.derive();
    let edge = graph.edge(
        &label(alice, Capability::Control),
        &label(ROLE, Capability::Write),
        EdgeKind::Permission,
    );
    assert_eq!(edge.technique, Some("T1098"));
    graph.edge(
        &label(ROLE, Capability::Write),
        &label(ROLE, Capability::Control),
        EdgeKind::Implies,
    );
}

#[test]
fn kubernetes_rbac_reads_secret() {
    let mut env = Env::default();
    let workload = "kubernetes_workload:k8s:shop/Deployment/web";
    let account = "identity:k8s:shop/ServiceAccount/web";
    let role = "identity:k8s:shop/Role/reader";
    let pattern = "other:k8s-pattern:shop/Secret/*";
    let secret = "credential:k8s:shop/Secret/db";
    let other = "credential:k8s:billing/Secret/db";
    env.asset(AssetKind::KubernetesWorkload, "k8s:shop/Deployment/web");
    env.asset(AssetKind::Identity, "k8s:shop/ServiceAccount/web");
    env.asset(AssetKind::Identity, "k8s:shop/Role/reader");
    env.asset(AssetKind::Other, "k8s-pattern:shop/Secret/*");
    env.asset(AssetKind::Credential, "k8s:shop/Secret/db");
    env.asset(AssetKind::Credential, "k8s:billing/Secret/db");
    env.link(workload, RelationshipKind::CanAssume, account);
    env.link(account, RelationshipKind::CanAssume, role);
    env.link(role, RelationshipKind::CanRead, pattern);
    let graph = env.derive();
    graph.check_invariants();

    let token = graph.edge(
        &label(workload, Capability::ExecuteUser),
        &label(account, Capability::Control),
        EdgeKind::InstanceRole,
    );
    assert_eq!(token.technique, Some("T1528"));
    let fixes = graph.fixes(
        &label(workload, Capability::ExecuteUser),
        &label(account, Capability::Control),
    );
    assert_eq!(
        configuration(&fixes).1,
        "set automountServiceAccountToken: false on web"
    );
    graph.edge(
        &label(secret, Capability::Read),
        &label(secret, Capability::Control),
        EdgeKind::Implies,
    );
    assert!(
        graph
            .path(
                &label(workload, Capability::ExecuteUser),
                &label(secret, Capability::Control)
            )
            .is_some()
    );
    assert!(graph.node(&label(other, Capability::Read)).is_none());
}

#[test]
fn mounted_secret_and_token_login() {
    let mut env = Env::default();
    let workload = "kubernetes_workload:k8s:shop/Deployment/web";
    let secret = "credential:k8s:shop/Secret/token";
    let account = "identity:k8s:shop/ServiceAccount/deployer";
    env.asset(AssetKind::KubernetesWorkload, "k8s:shop/Deployment/web");
    env.asset(AssetKind::Credential, "k8s:shop/Secret/token");
    env.asset(AssetKind::Identity, "k8s:shop/ServiceAccount/deployer");
    env.link(workload, RelationshipKind::HasCredential, secret);
    env.link(account, RelationshipKind::HasCredential, secret);
    env.controls.mfa = 0.5;
    let graph = env.derive();
    graph.edge(
        &label(workload, Capability::ExecuteUser),
        &label(secret, Capability::Control),
        EdgeKind::CredentialAccess,
    );
    let login = graph.edge(
        &label(secret, Capability::Control),
        &label(account, Capability::Control),
        EdgeKind::UseCredential,
    );
    assert!((login.probability - 0.425).abs() < 1e-6);
}

#[test]
fn supply_chain_reaches_workload() {
    let mut env = Env::default();
    let repository = "repository:https://git.example/web";
    let image = "container_image:ghcr.io/acme/web:1.0";
    let workload = "kubernetes_workload:k8s:shop/Deployment/web";
    env.asset(AssetKind::Repository, "https://git.example/web");
    env.asset(AssetKind::ContainerImage, "ghcr.io/acme/web:1.0");
    env.asset(AssetKind::KubernetesWorkload, "k8s:shop/Deployment/web");
    env.link(repository, RelationshipKind::Builds, image);
    env.link(workload, RelationshipKind::RunsOn, image);
    let graph = env.derive();
    let build = graph.edge(
        &label(repository, Capability::Control),
        &label(image, Capability::Control),
        EdgeKind::Builds,
    );
    assert_eq!(build.technique, Some("T1195.002"));
    let implant = graph.edge(
        &label(image, Capability::Control),
        &label(workload, Capability::ExecuteUser),
        EdgeKind::RunsOn,
    );
    assert_eq!(implant.technique, Some("T1525"));
    graph.edge(
        &label(workload, Capability::ExecuteUser),
        &label(image, Capability::Read),
        EdgeKind::RunsOn,
    );
    graph.edge(
        &label(repository, Capability::Control),
        &label(repository, Capability::Read),
        EdgeKind::Implies,
    );
}

#[test]
fn privileged_container_escapes() {
    let mut env = Env::default();
    let workload = "kubernetes_workload:k8s:shop/Deployment/web";
    let node = "host:10.0.5.1";
    env.asset(AssetKind::KubernetesWorkload, "k8s:shop/Deployment/web");
    env.asset(AssetKind::Host, "10.0.5.1");
    env.link(workload, RelationshipKind::RunsOn, node);
    env.finding(
        workload,
        FindingKind::Misconfiguration,
        "k8s-privileged-container",
        &[],
        NO_SIGNAL,
    );
    env.finding(
        workload,
        FindingKind::Misconfiguration,
        "k8s-run-as-root",
        &[],
        NO_SIGNAL,
    );
    let graph = env.derive();
    graph.check_invariants();
    let escape = graph.edge(
        &label(workload, Capability::ExecuteRoot),
        &label(node, Capability::ExecuteRoot),
        EdgeKind::RunsOn,
    );
    assert_eq!(escape.technique, Some("T1611"));
    graph.edge(
        &label(node, Capability::ExecuteRoot),
        &label(workload, Capability::ExecuteRoot),
        EdgeKind::RunsOn,
    );
    graph.edge(
        &label(workload, Capability::ExecuteUser),
        &label(workload, Capability::ExecuteRoot),
        EdgeKind::PrivilegeEscalation,
    );
}

#[test]
fn isolated_container_stays() {
    let mut env = Env::default();
    let workload = "kubernetes_workload:k8s:shop/Deployment/web";
    env.asset(AssetKind::KubernetesWorkload, "k8s:shop/Deployment/web");
    env.asset(AssetKind::Host, "10.0.5.1");
    env.link(workload, RelationshipKind::RunsOn, "host:10.0.5.1");
    let graph = env.derive();
    assert!(!graph.has_edge(&label(workload, Capability::ExecuteRoot), "host:10.0.5.1/execute_root"));
}

#[test]
fn scanned_host_joins_instance() {
    let mut env = with_role(Env::default());
    env.aws(AssetKind::CloudResource, "aws:ec2:instance/i-web", "instance")
        .add_identifier("ip", "10.0.0.10");
    env.asset(AssetKind::Host, "10.0.0.10")
        .add_identifier("ip", "10.0.0.10");
    env.finding(
        "host:10.0.0.10",
        FindingKind::Vulnerability,
        "CVE-2024-0005",
        &[REMOTE],
        NO_SIGNAL,
    );
    let graph = env.derive();
    graph.check_invariants();
    graph.edge(
        "host:10.0.0.10/execute_user",
        &label(WEB, Capability::ExecuteUser),
        EdgeKind::Implies,
    );
    graph.edge(
        &label(WEB, Capability::ExecuteUser),
        "host:10.0.0.10/execute_user",
        EdgeKind::Implies,
    );
    assert!(
        graph
            .path("host:10.0.0.10/network_access", &label(BUCKET, Capability::Read))
            .is_some()
    );
}

#[test]
fn shared_address_joins_nothing() {
    let mut env = Env::default();
    env.aws(AssetKind::CloudResource, "aws:ec2:instance/i-a", "instance")
        .add_identifier("ip", "10.0.0.10");
    env.aws(AssetKind::CloudResource, "aws:ec2:instance/i-b", "instance")
        .add_identifier("ip", "10.0.0.10");
    env.asset(AssetKind::Host, "10.0.0.10")
        .add_identifier("ip", "10.0.0.10");
    env.finding(
        "host:10.0.0.10",
        FindingKind::Vulnerability,
        "CVE-2024-0005",
        &[REMOTE],
        NO_SIGNAL,
    );
    let graph = env.derive();
    assert_eq!(graph.0.edge_count(), 1);
}

#[test]
fn leaked_secret_without_credential() {
    let mut env = Env::default();
    let repository = "repository:https://git.example/shop";
    env.asset(AssetKind::Repository, "https://git.example/shop");
    env.finding(repository, FindingKind::Secret, "aws-access-token", &[], NO_SIGNAL)
        .secret = Some(MaskedSecret::new("AKIAIOSFODNN7EXAMPLE"));
    let graph = env.derive();
    let credential = format!(
        "credential:secret:{}/control",
        MaskedSecret::new("AKIAIOSFODNN7EXAMPLE").sha256
    );
    let edge = graph.edge(
        &label(repository, Capability::Read),
        &credential,
        EdgeKind::CredentialAccess,
    );
    assert_eq!(edge.evidence, Evidence::Observed);
    assert_eq!(edge.technique, Some("T1552.001"));
}

/// Chain (a): internet -> vulnerable web server (a remote CVE) -> its
/// instance role -> the payroll bucket, a crown jewel.
#[test]
fn chain_web_server_to_bucket() {
    let mut env = with_role(web_tier());
    env.finding(WEB, FindingKind::Vulnerability, "CVE-2021-44228", &[REMOTE_ROOT], KEV);
    let graph = env.derive();
    graph.check_invariants();

    let path = graph.path(INTERNET, &label(BUCKET, Capability::Read)).unwrap();
    assert_eq!(
        path,
        [
            INTERNET.to_string(),
            label(WEB, Capability::NetworkAccess),
            label(WEB, Capability::ExecuteRoot),
            label(WEB, Capability::ExecuteUser),
            label(PROFILE, Capability::Control),
            label(ROLE, Capability::Control),
            label(BUCKET, Capability::Read),
        ]
    );
    let bucket = graph
        .0
        .assets
        .iter()
        .position(|asset| asset.key.as_str() == BUCKET)
        .unwrap() as u32;
    let goals = graph.0.crown_jewel_goals();
    assert_eq!(goals.len(), 1);
    assert_eq!(goals[0].0, bucket);
    // The private app host has no way in.
    assert!(graph.path(INTERNET, &label(APP, Capability::ExecuteUser)).is_none());
}

/// Chain (b): a secret committed to a public repository is the login of
/// the customer database, a crown jewel.
#[test]
fn chain_repository_secret_to_database() {
    let mut env = Env::default();
    let repository = "repository:https://github.com/acme/shop";
    let credential = "credential:db/customers-login";
    let database = "data_store:arn:aws:rds:us-east-1:111122223333:db:customers";
    let secret = MaskedSecret::new("s3cr3t-passw0rd-of-the-db");
    env.asset(AssetKind::Repository, "https://github.com/acme/shop")
        .internet_exposed = Some(true);
    env.asset(AssetKind::Credential, "db/customers-login")
        .add_identifier("secret_sha256", secret.sha256.clone());
    env.aws(
        AssetKind::DataStore,
        "arn:aws:rds:us-east-1:111122223333:db:customers",
        "db-instance",
    )
    .criticality = Some(Criticality::CrownJewel);
    env.link(database, RelationshipKind::HasCredential, credential);
    let finding = env.finding(repository, FindingKind::Secret, "generic-password", &[], NO_SIGNAL);
    finding.secret = Some(secret);
    finding.location.path = Some("config/database.yml".into());
    let graph = env.derive();
    graph.check_invariants();

    let path = graph.path(INTERNET, &label(database, Capability::Write)).unwrap();
    assert_eq!(
        path,
        [
            INTERNET.to_string(),
            label(repository, Capability::Read),
            label(credential, Capability::Control),
            label(database, Capability::Write),
        ]
    );
    assert!(graph.path(INTERNET, &label(database, Capability::Read)).is_some());
    assert_eq!(
        graph.fixes(
            &label(repository, Capability::Read),
            &label(credential, Capability::Control)
        ),
        [FixRef::Finding {
            fingerprint: "fp-generic-password".into()
        }]
    );
    let login = graph.edge(
        &label(credential, Capability::Control),
        &label(database, Capability::Write),
        EdgeKind::UseCredential,
    );
    assert_eq!(login.technique, Some("T1078"));
}
