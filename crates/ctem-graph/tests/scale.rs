//! Derivation on an estate of about a million assets. Ignored by default
//! because a debug build takes minutes; run it with
//! `cargo test --release -p ctem-graph --test scale -- --ignored --nocapture`,
//! which prints the time taken.

use std::time::Instant;

use ctem_graph::rules::derive;
use ctem_graph::{Controls, ExploitSignals, GraphFinding, GraphInput};
use ctem_model::{Asset, AssetKey, AssetKind, Finding, FindingKind, Relationship, RelationshipKind, Severity};

const INSTANCES: usize = 250_000;
const GROUPS: usize = 1_000;
const SUBNETS: usize = 500;
const PROFILES: usize = 1_000;
const BUCKETS: usize = 10_000;
const WORKLOADS: usize = 200_000;
const IMAGES: usize = 10_000;

fn aws(kind: AssetKind, identifier: &str, aws_type: &str) -> Asset {
    let mut asset = Asset::new(kind, identifier, identifier);
    asset.attributes.insert("aws_type".into(), aws_type.into());
    asset
}

fn link(from: &AssetKey, kind: RelationshipKind, to: &AssetKey) -> Relationship {
    Relationship::new(from.clone(), kind, to.clone())
}

#[test]
#[ignore = "a million assets; run in release mode"]
fn million_assets_derive() {
    let mut assets = Vec::new();
    let mut relationships = Vec::new();
    let mut findings = Vec::new();

    let group = |i: usize| AssetKey::new(AssetKind::CloudResource, &format!("aws:ec2:security-group/sg-{i}"));
    let subnet = |i: usize| AssetKey::new(AssetKind::CloudResource, &format!("aws:ec2:subnet/subnet-{i}"));
    let profile = |i: usize| AssetKey::new(AssetKind::Identity, &format!("arn:aws:iam::1:instance-profile/p{i}"));
    let role = |i: usize| AssetKey::new(AssetKind::Identity, &format!("arn:aws:iam::1:role/r{i}"));
    let bucket = |i: usize| AssetKey::new(AssetKind::DataStore, &format!("arn:aws:s3:::bucket-{i}"));
    let image = |i: usize| AssetKey::new(AssetKind::ContainerImage, &format!("registry/app-{i}:1"));
    let internet = AssetKey::new(AssetKind::Other, "network:internet");

    for i in 0..GROUPS {
        assets.push(aws(AssetKind::CloudResource, group(i).identifier(), "security-group"));
        let mut open = link(&internet, RelationshipKind::NetworkReach, &group(i));
        open.port = Some(443);
        if i % 10 == 0 {
            relationships.push(open);
        }
        for offset in 1..=5 {
            relationships.push(link(
                &group(i),
                RelationshipKind::NetworkReach,
                &group((i + offset) % GROUPS),
            ));
        }
    }
    for i in 0..SUBNETS {
        let mut asset = aws(AssetKind::CloudResource, subnet(i).identifier(), "subnet");
        asset.add_identifier("cidr", format!("10.{}.{}.0/24", i / 256, i % 256));
        assets.push(asset);
    }
    for i in 0..PROFILES {
        assets.push(aws(
            AssetKind::Identity,
            profile(i).identifier(),
            "iam-instance-profile",
        ));
        assets.push(aws(AssetKind::Identity, role(i).identifier(), "iam-role"));
        relationships.push(link(&profile(i), RelationshipKind::CanAssume, &role(i)));
        for offset in 0..3 {
            relationships.push(link(
                &role(i),
                RelationshipKind::CanRead,
                &bucket((i * 7 + offset) % BUCKETS),
            ));
        }
    }
    for i in 0..BUCKETS {
        assets.push(aws(AssetKind::DataStore, bucket(i).identifier(), "bucket"));
    }
    let pattern = AssetKey::new(AssetKind::Other, "aws-pattern:arn:aws:s3:*");
    assets.push(Asset::new(AssetKind::Other, pattern.identifier(), "s3"));
    relationships.push(link(&role(0), RelationshipKind::CanWrite, &pattern));

    for i in 0..INSTANCES {
        let ip = format!("10.{}.{}.{}", i / 65_536, (i / 256) % 256, i % 256);
        let key = AssetKey::new(AssetKind::CloudResource, &format!("aws:ec2:instance/i-{i}"));
        let mut instance = aws(AssetKind::CloudResource, key.identifier(), "instance");
        instance.add_identifier("ip", ip.clone());
        if i % 20 == 0 {
            instance.add_identifier("public_ip", format!("198.51.{}.{}", (i / 256) % 256, i % 256));
        }
        assets.push(instance);
        relationships.push(link(&key, RelationshipKind::MemberOf, &group(i % GROUPS)));
        relationships.push(link(&key, RelationshipKind::MemberOf, &subnet(i % SUBNETS)));
        relationships.push(link(&key, RelationshipKind::CanAssume, &profile(i % PROFILES)));

        let host = AssetKey::new(AssetKind::Host, &ip);
        let mut host_asset = Asset::new(AssetKind::Host, &ip, ip.clone());
        host_asset.add_identifier("ip", ip.clone());
        assets.push(host_asset);
        let service = AssetKey::new(AssetKind::Service, &format!("{ip}:443/tcp"));
        assets.push(Asset::new(AssetKind::Service, service.identifier(), "https"));
        let mut hosts = link(&host, RelationshipKind::Hosts, &service);
        hosts.port = Some(443);
        relationships.push(hosts);

        let mut remote = Finding::new(
            "nmap",
            "CVE-2024-1",
            FindingKind::Vulnerability,
            "t",
            Severity::High,
            host.clone(),
        );
        remote.location.port = Some(443);
        remote.add_cvss("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H".parse().unwrap());
        findings.push(remote);
        let mut local = Finding::new(
            "nessus",
            "CVE-2024-2",
            FindingKind::Vulnerability,
            "t",
            Severity::High,
            host,
        );
        local.add_cvss("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H".parse().unwrap());
        findings.push(local);
    }
    for i in 0..IMAGES {
        assets.push(Asset::new(AssetKind::ContainerImage, image(i).identifier(), "image"));
        let mut vulnerability = Finding::new(
            "trivy",
            "CVE-2024-3",
            FindingKind::Vulnerability,
            "t",
            Severity::High,
            image(i),
        );
        vulnerability.add_cvss("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H".parse().unwrap());
        findings.push(vulnerability);
    }
    for i in 0..WORKLOADS {
        let key = AssetKey::new(
            AssetKind::KubernetesWorkload,
            &format!("k8s:ns{}/Deployment/w{i}", i % 100),
        );
        assets.push(Asset::new(AssetKind::KubernetesWorkload, key.identifier(), "w"));
        relationships.push(link(&key, RelationshipKind::RunsOn, &image(i % IMAGES)));
    }

    let fingerprints: Vec<String> = (0..findings.len()).map(|i| format!("fp{i}")).collect();
    let graph_findings: Vec<GraphFinding<'_>> = findings
        .iter()
        .zip(&fingerprints)
        .map(|(finding, fingerprint)| GraphFinding {
            finding,
            fingerprint,
            signals: ExploitSignals::default(),
        })
        .collect();
    let controls = Controls::default();
    let input = GraphInput {
        assets: &assets,
        relationships: &relationships,
        findings: &graph_findings,
        controls: &controls,
    };

    let started = Instant::now();
    let graph = derive(&input);
    let elapsed = started.elapsed();
    println!(
        "{} assets, {} relationships, {} findings -> {} nodes, {} edges in {elapsed:?}",
        assets.len(),
        relationships.len(),
        findings.len(),
        graph.node_count(),
        graph.edge_count()
    );

    // Every instance is in a group that a rule names, so it has one edge
    // into its group's position; no rule pairs instances.
    assert!(graph.edge_count() < 10 * assets.len());
    assert!(graph.edge_count() > 2 * INSTANCES);
}
