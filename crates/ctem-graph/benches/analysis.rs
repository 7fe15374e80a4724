//! The analyses on a generated enterprise: hosts in subnets, a few exposed
//! to the internet, lateral movement inside each subnet and across
//! neighboring ones, and data stores as crown jewels.
//!
//! `CTEM_GRAPH_BENCH_HOSTS` sets the number of hosts (default 20,000). Each
//! host has three nodes and about 33 out-edges, so 330,000 hosts give about
//! 10^6 nodes and 10^7 edges.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use ctem_graph::analysis::{self, AnalysisOptions};
use ctem_graph::{AssetInfo, AttackGraph, Capability, EdgeKind, Evidence, FixRef, GraphBuilder, NewEdge};
use ctem_model::{AssetKey, AssetKind, Criticality};

/// SplitMix64, a small seeded generator.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn probability(&mut self) -> f32 {
        0.05 + 0.9 * ((self.next() >> 40) as f32 / (1u64 << 24) as f32)
    }
}

const SUBNET: usize = 250;
const CROWN_JEWELS: usize = 20;

fn edge(kind: EdgeKind, probability: f32, fixes: Vec<FixRef>) -> NewEdge {
    NewEdge {
        kind,
        technique: None,
        probability,
        evidence: Evidence::Observed,
        fixes,
    }
}

fn finding(text: String) -> FixRef {
    FixRef::Finding { fingerprint: text }
}

/// Generates the enterprise of `hosts` hosts from `seed`.
fn enterprise(hosts: usize, seed: u64) -> AttackGraph {
    let mut rng = SplitMix64(seed);
    let mut builder = GraphBuilder::new();
    let mut access = Vec::with_capacity(hosts);
    let mut user = Vec::with_capacity(hosts);
    let mut root = Vec::with_capacity(hosts);
    for i in 0..hosts {
        let asset = builder.asset(AssetInfo {
            key: AssetKey::new(AssetKind::Host, &format!("h{i}")),
            name: format!("h{i}"),
            kind: AssetKind::Host,
            criticality: None,
        });
        access.push(builder.node_of(asset, Capability::NetworkAccess));
        user.push(builder.node_of(asset, Capability::ExecuteUser));
        root.push(builder.node_of(asset, Capability::ExecuteRoot));
    }

    for i in 0..hosts {
        if rng.below(100) == 0 {
            let rule = FixRef::Configuration {
                asset: AssetKey::new(AssetKind::Host, &format!("h{i}")),
                change: "remove 0.0.0.0/0".to_string(),
            };
            builder.edge(
                AttackGraph::INTERNET,
                access[i],
                edge(EdgeKind::InternetExposure, 1.0, vec![rule]),
            );
        }
        if rng.below(3) == 0 {
            let p = rng.probability();
            builder.edge(
                access[i],
                user[i],
                edge(EdgeKind::Exploit, p, vec![finding(format!("rce-{i}"))]),
            );
        }
        if rng.below(2) == 0 {
            let p = rng.probability();
            builder.edge(
                user[i],
                root[i],
                edge(EdgeKind::PrivilegeEscalation, p, vec![finding(format!("lpe-{i}"))]),
            );
        }
        builder.edge(root[i], user[i], edge(EdgeKind::Implies, 1.0, vec![]));

        // Lateral movement: 30 network reaches inside the subnet, one reused
        // credential into the next subnet.
        let subnet = i / SUBNET * SUBNET;
        for _ in 0..30 {
            let peer = (subnet + rng.below(SUBNET)).min(hosts - 1);
            builder.edge(user[i], access[peer], edge(EdgeKind::NetworkReach, 1.0, vec![]));
        }
        let next = (subnet + SUBNET + rng.below(SUBNET)) % hosts;
        let p = rng.probability();
        let key = format!("cred-{i}");
        builder.edge(
            root[i],
            root[next],
            edge(EdgeKind::UseCredential, p, vec![finding(key)]),
        );
    }

    for j in 0..CROWN_JEWELS {
        let asset = builder.asset(AssetInfo {
            key: AssetKey::new(AssetKind::DataStore, &format!("db{j}")),
            name: format!("db{j}"),
            kind: AssetKind::DataStore,
            criticality: Some(Criticality::CrownJewel),
        });
        let read = builder.node_of(asset, Capability::Read);
        let write = builder.node_of(asset, Capability::Write);
        builder.edge(write, read, edge(EdgeKind::Implies, 1.0, vec![]));
        for k in 0..20 {
            let host = rng.below(hosts);
            let secret = finding(format!("secret-db{j}-{k}"));
            let p = rng.probability();
            builder.edge(
                root[host],
                write,
                edge(EdgeKind::CredentialAccess, p, vec![secret.clone()]),
            );
            builder.edge(user[host], read, edge(EdgeKind::CredentialAccess, p, vec![secret]));
        }
    }
    builder.build()
}

fn hosts() -> usize {
    std::env::var("CTEM_GRAPH_BENCH_HOSTS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(20_000)
}

fn bench(c: &mut Criterion) {
    let graph = enterprise(hosts(), 42);
    // Code execution on the first host, which reaches its subnet and more.
    let start = graph
        .nodes
        .iter()
        .position(|node| node.capability == Capability::ExecuteUser)
        .unwrap() as u32;
    let mut group = c.benchmark_group(format!("{}_nodes_{}_edges", graph.node_count(), graph.edge_count()));
    group.sample_size(10);
    group.bench_function("blast_radius", |b| {
        b.iter(|| analysis::blast_radius(black_box(&graph), start))
    });
    group.bench_function("analyze", |b| {
        b.iter(|| analysis::analyze(black_box(&graph), &AnalysisOptions::default()))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
