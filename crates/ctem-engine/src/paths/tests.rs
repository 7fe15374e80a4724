//! The views, the crown-jewel selection, the DOT writer and the intelligence
//! signals, on a hand-built attack graph: internet, then network access to
//! the shop front, code execution on it, and read access to the payments
//! database, with a second crown jewel that nothing reaches.

use std::path::PathBuf;

use ctem_graph::analysis::{ChokeKind, ChokePoint, Exposure, FixSet, Path};
use ctem_graph::{AssetInfo, Capability, EdgeKind, Evidence, FixRef, GraphBuilder, NewEdge};
use ctem_model::{AssetKey, AssetKind, Criticality, FindingKind, Severity, VulnerabilityId};

use super::*;

pub(crate) const EXPLOIT_FINGERPRINT: &str = "v1:nmap:exploit-www";

fn asset(kind: AssetKind, identifier: &str, name: &str, criticality: Option<Criticality>) -> AssetInfo {
    AssetInfo {
        key: AssetKey::new(kind, identifier),
        name: name.to_string(),
        kind,
        criticality,
    }
}

fn edge(kind: EdgeKind, technique: Option<&'static str>, probability: f32, fixes: Vec<FixRef>) -> NewEdge {
    NewEdge {
        kind,
        technique,
        probability,
        evidence: Evidence::Observed,
        fixes,
    }
}

/// The first edge from `from` to `to`.
fn edge_between(graph: &AttackGraph, from: NodeId, to: NodeId) -> EdgeId {
    graph
        .out_edges(from)
        .find(|&id| graph.edge(id).to == to)
        .expect("the edge exists")
}

/// The hand-built attack paths, with the results that the analyses give
/// on this graph written out by hand: one path of probability
/// 1.0 * 0.9 * 0.5 = 0.45, whose exploit step every path passes, cut by
/// fixing the one finding.
pub(crate) fn sample_paths() -> AttackPaths {
    let mut builder = GraphBuilder::new();
    let www = builder.asset(asset(
        AssetKind::Host,
        "203.0.113.10",
        "www.acme.example",
        Some(Criticality::CrownJewel),
    ));
    let db = builder.asset(asset(
        AssetKind::Host,
        "10.20.0.5",
        "db-pay01.acme.internal",
        Some(Criticality::CrownJewel),
    ));
    let vault = builder.asset(asset(
        AssetKind::DataStore,
        "vault",
        "vault",
        Some(Criticality::CrownJewel),
    ));
    let www_access = builder.node_of(www, Capability::NetworkAccess);
    let www_exec = builder.node_of(www, Capability::ExecuteUser);
    let db_read = builder.node_of(db, Capability::Read);
    let vault_read = builder.node_of(vault, Capability::Read);

    let open_port = FixRef::Configuration {
        asset: AssetKey::new(AssetKind::Host, "203.0.113.10"),
        change: "close port 443/tcp to the internet".to_string(),
    };
    let exploit = FixRef::Finding {
        fingerprint: EXPLOIT_FINGERPRINT.to_string(),
    };
    builder.edge(
        AttackGraph::INTERNET,
        www_access,
        edge(EdgeKind::InternetExposure, None, 1.0, vec![open_port]),
    );
    builder.edge(
        www_access,
        www_exec,
        edge(EdgeKind::Exploit, Some("T1190"), 0.9, vec![exploit]),
    );
    builder.edge(
        www_exec,
        db_read,
        edge(EdgeKind::NetworkReach, Some("T1021"), 0.5, vec![]),
    );
    let graph = builder.build();

    let steps = vec![
        edge_between(&graph, AttackGraph::INTERNET, www_access),
        edge_between(&graph, www_access, www_exec),
        edge_between(&graph, www_exec, db_read),
    ];
    let path = Path {
        edges: steps,
        probability: 0.45,
    };
    let payments = CrownJewelPaths {
        asset: db,
        goals: vec![db_read],
        most_likely: Some(path.clone()),
        paths: vec![path],
        choke_points: vec![ChokePoint {
            node: www_exec,
            kind: ChokeKind::Dominator,
        }],
        fix_set: Some(FixSet {
            fixes: vec![1],
            cost: 1.0,
            exact: true,
            method: "min_cut",
            uncuttable: false,
            uncut_path: Vec::new(),
        }),
    };
    let unreachable = CrownJewelPaths {
        asset: vault,
        goals: vec![vault_read],
        most_likely: None,
        paths: Vec::new(),
        choke_points: Vec::new(),
        fix_set: None,
    };

    let findings = HashMap::from([(
        EXPLOIT_FINGERPRINT.to_string(),
        FindingLabel {
            title: "Apache 2.4.49 path traversal".to_string(),
            rule_id: "CVE-2021-41773".to_string(),
            vulnerability_ids: vec!["CVE-2021-41773".to_string()],
            asset: "host:203.0.113.10".to_string(),
        },
    )]);
    let jewel_names = HashMap::from([(db, "Payments database".to_string()), (vault, "Card vault".to_string())]);
    AttackPaths {
        exposure: Exposure {
            reachable_crown_jewels: vec![db],
            crown_jewels: 3,
            assets_with_path: 2,
            assets: 3,
        },
        graph,
        crown_jewels: vec![payments, unreachable],
        findings,
        jewel_names,
        without_attack_steps: Vec::new(),
    }
}

/// Two parallel paths of probability 0.9 to one crown jewel, the
/// payments database: through the shop front (port 443 open to the
/// internet) and through the admin portal (port 8443 open). Closing both
/// ports is the minimal fix set; closing one alone leaves the other path.
pub(crate) fn parallel_paths() -> AttackPaths {
    let mut builder = GraphBuilder::new();
    let shop = builder.asset(asset(AssetKind::Host, "203.0.113.10", "shop", None));
    let admin = builder.asset(asset(AssetKind::Host, "203.0.113.11", "admin", None));
    let db = builder.asset(asset(
        AssetKind::Host,
        "10.20.0.5",
        "db-pay01",
        Some(Criticality::CrownJewel),
    ));

    let db_read = builder.node_of(db, Capability::Read);
    let close = |address: &str, port: u16| FixRef::Configuration {
        asset: AssetKey::new(AssetKind::Host, address),
        change: format!("close port {port}/tcp to the internet"),
    };

    let mut paths = Vec::new();
    for (host, address, port) in [(shop, "203.0.113.10", 443), (admin, "203.0.113.11", 8443)] {
        let access = builder.node_of(host, Capability::NetworkAccess);
        builder.edge(
            AttackGraph::INTERNET,
            access,
            edge(EdgeKind::InternetExposure, None, 1.0, vec![close(address, port)]),
        );
        builder.edge(
            access,
            db_read,
            edge(EdgeKind::NetworkReach, Some("T1021"), 0.9, vec![]),
        );
        paths.push((access, db_read));
    }

    let graph = builder.build();
    let paths: Vec<Path> = paths
        .into_iter()
        .map(|(access, goal)| Path {
            edges: vec![
                edge_between(&graph, AttackGraph::INTERNET, access),
                edge_between(&graph, access, goal),
            ],
            probability: 0.9,
        })
        .collect();

    let payments = CrownJewelPaths {
        asset: db,
        goals: vec![db_read],
        most_likely: Some(paths[0].clone()),
        paths,
        choke_points: Vec::new(),
        fix_set: Some(FixSet {
            fixes: vec![0, 1],
            cost: 2.0,
            exact: true,
            method: "min_cut",
            uncuttable: false,
            uncut_path: Vec::new(),
        }),
    };

    AttackPaths {
        exposure: Exposure {
            reachable_crown_jewels: vec![db],
            crown_jewels: 1,
            assets_with_path: 3,
            assets: 3,
        },
        graph,
        crown_jewels: vec![payments],
        findings: HashMap::new(),
        jewel_names: HashMap::from([(db, "Payments database".to_string())]),
        without_attack_steps: Vec::new(),
    }
}

/// Two crown jewels, each reached over three parallel paths from the
/// internet through a host whose open port is the only fix on the path:
/// the payments database over hosts 203.0.113.21 to .23 (ports 8001 to
/// 8003, each path 1.0 * 0.9 = 0.9) and the HR database over hosts
/// 198.51.100.21 to .23 (ports 9001 to 9003, paths of 0.3, 0.2 and 0.1).
/// Each crown jewel's minimal fix set is its three ports.
pub(crate) fn two_jewels_parallel_paths() -> AttackPaths {
    let mut builder = GraphBuilder::new();
    let close = |address: &str, port: u16| FixRef::Configuration {
        asset: AssetKey::new(AssetKind::Host, address),
        change: format!("close port {port}/tcp to the internet"),
    };
    let mut crown_jewels = Vec::new();
    let mut jewel_names = HashMap::new();
    let jewels = [
        (
            "10.20.0.5",
            "db-pay01",
            [
                ("203.0.113.21", 8001, 0.9),
                ("203.0.113.22", 8002, 0.9),
                ("203.0.113.23", 8003, 0.9),
            ],
        ),
        (
            "10.20.0.6",
            "db-hr01",
            [
                ("198.51.100.21", 9001, 0.3),
                ("198.51.100.22", 9002, 0.2),
                ("198.51.100.23", 9003, 0.1),
            ],
        ),
    ];
    let mut built = Vec::new();
    for (address, name, hosts) in jewels {
        let db = builder.asset(asset(AssetKind::Host, address, name, Some(Criticality::CrownJewel)));
        let read = builder.node_of(db, Capability::Read);
        let mut steps = Vec::new();
        for (host_address, port, probability) in hosts {
            let host = builder.asset(asset(AssetKind::Host, host_address, host_address, None));
            let access = builder.node_of(host, Capability::NetworkAccess);
            builder.edge(
                AttackGraph::INTERNET,
                access,
                edge(EdgeKind::InternetExposure, None, 1.0, vec![close(host_address, port)]),
            );
            builder.edge(
                access,
                read,
                edge(EdgeKind::NetworkReach, Some("T1021"), probability, vec![]),
            );
            steps.push((access, probability, close(host_address, port)));
        }
        jewel_names.insert(db, name.to_string());
        built.push((db, read, steps));
    }

    let graph = builder.build();
    for (db, read, steps) in built {
        let paths: Vec<Path> = steps
            .iter()
            .map(|&(access, probability, _)| Path {
                edges: vec![
                    edge_between(&graph, AttackGraph::INTERNET, access),
                    edge_between(&graph, access, read),
                ],
                probability: f64::from(probability),
            })
            .collect();
        let fixes = steps
            .iter()
            .map(|(_, _, fix)| {
                graph
                    .fixes
                    .iter()
                    .position(|known| known == fix)
                    .expect("the fix exists") as u32
            })
            .collect();
        crown_jewels.push(CrownJewelPaths {
            asset: db,
            goals: vec![read],
            most_likely: Some(paths[0].clone()),
            paths,
            choke_points: Vec::new(),
            fix_set: Some(FixSet {
                fixes,
                cost: 3.0,
                exact: true,
                method: "min_cut",
                uncuttable: false,
                uncut_path: Vec::new(),
            }),
        });
    }

    AttackPaths {
        exposure: Exposure {
            reachable_crown_jewels: crown_jewels.iter().map(|jewel| jewel.asset).collect(),
            crown_jewels: 2,
            assets_with_path: 8,
            assets: 8,
        },
        graph,
        crown_jewels,
        findings: HashMap::new(),
        jewel_names,
        without_attack_steps: Vec::new(),
    }
}

#[test]
fn view_resolves_steps_and_fixes() {
    let view = sample_paths().view(None);
    assert_eq!(view.graph.nodes, 5);
    assert_eq!(view.graph.edges, 3);
    assert_eq!(view.exposure.reachable_crown_jewels, ["host:10.20.0.5"]);

    let payments = &view.crown_jewels[0];
    assert_eq!(payments.display_name(), "Payments database");
    assert!(payments.reachable);
    assert_eq!(payments.probability, Some(0.45));
    let path = payments.most_likely_path.as_ref().unwrap();
    let kinds: Vec<&str> = path.steps.iter().map(|step| step.kind).collect();
    assert_eq!(kinds, ["internet_exposure", "exploit", "network_reach"]);
    assert_eq!(path.steps[0].from.capability, "internet");
    assert_eq!(path.steps[1].technique, Some("T1190"));
    assert_eq!(path.steps[1].to.label(), "www.acme.example (host, execute user)");
    assert_eq!(
        path.steps[1].enabled_by[0].describe(),
        "fix Apache 2.4.49 path traversal (CVE-2021-41773) on host:203.0.113.10"
    );
    assert_eq!(
        path.steps[0].enabled_by[0].describe(),
        "close port 443/tcp to the internet on host:203.0.113.10"
    );
    assert_eq!(payments.choke_points[0].node.name, "www.acme.example");
    let fixes = &payments.fix_set.as_ref().unwrap().fixes;
    assert!(matches!(&fixes[0], FixView::Finding { fingerprint, .. } if fingerprint == EXPLOIT_FINGERPRINT));

    let vault = &view.crown_jewels[1];
    assert!(!vault.reachable);
    assert_eq!(vault.most_likely_path, None);
    assert_eq!(vault.fix_set, None);
}

#[test]
fn view_json_has_documented_fields() {
    let json = serde_json::to_value(sample_paths().view(None)).unwrap();
    let jewel = &json["crown_jewels"][0];
    for field in [
        "asset",
        "name",
        "crown_jewel",
        "reachable",
        "probability",
        "most_likely_path",
        "paths",
        "choke_points",
        "fix_set",
    ] {
        assert!(jewel.get(field).is_some(), "{field} missing in {jewel}");
    }
    let step = &jewel["most_likely_path"]["steps"][1];
    assert_eq!(step["kind"], "exploit");
    assert_eq!(step["evidence"], "observed");
    assert_eq!(step["enabled_by"][0]["type"], "finding");
    assert_eq!(step["enabled_by"][0]["fingerprint"], EXPLOIT_FINGERPRINT);
    assert_eq!(jewel["choke_points"][0]["kind"], "dominator");
    assert_eq!(jewel["fix_set"]["method"], "min_cut");
    assert_eq!(json["exposure"]["crown_jewels"], 3);
}

#[test]
fn select_matches_name_key_or_configured_name() {
    let paths = sample_paths();
    assert_eq!(paths.select("Payments database"), Ok(vec![0]));
    assert_eq!(paths.select("host:10.20.0.5"), Ok(vec![0]));
    assert_eq!(paths.select("db-pay01.acme.internal"), Ok(vec![0]));
    assert_eq!(paths.select("Card vault"), Ok(vec![1]));

    let error = paths.select("Payroll").unwrap_err();
    assert!(error.contains("unknown crown jewel \"Payroll\""), "{error}");
    assert!(error.contains("\"Payments database\" (host:10.20.0.5)"), "{error}");
    assert!(error.contains("\"Card vault\""), "{error}");
}

#[test]
fn dot_draws_paths_as_digraph() {
    let dot = to_dot(&sample_paths().view(None));
    assert!(dot.starts_with("digraph attack_paths {"), "{dot}");
    assert!(dot.trim_end().ends_with('}'), "{dot}");
    assert_eq!(dot.matches('{').count(), dot.matches('}').count(), "{dot}");
    // Four nodes on the path, three steps.
    assert_eq!(dot.matches(" [label=").count(), 4 + 3, "{dot}");
    assert!(dot.contains("\"exploit T1190 p=0.90\""), "{dot}");
    assert!(dot.contains("\"db-pay01.acme.internal\\nread\""), "{dot}");
}

#[test]
fn dot_string_escapes_quotes_and_breaks() {
    assert_eq!(dot_string("a \"b\" \\ c\nd\u{1b}"), "\"a \\\"b\\\" \\\\ c\\nd\"");
}

#[test]
fn sentence_names_reachable_jewels() {
    let view = sample_paths().view(None);
    assert_eq!(
        crate::report::attack_path_sentence(&view),
        "An attacker on the internet can reach 1 of 2 crown jewels: Payments database (45% likely)."
    );

    let paths = sample_paths();
    let vault_only = paths.view(Some(&[1]));
    assert_eq!(
        crate::report::attack_path_sentence(&vault_only),
        "No path of attack from the internet reaches the crown jewel Card vault."
    );
}

#[test]
fn no_crown_jewel_skips_graph() {
    let assets = vec![Asset::new(AssetKind::Host, "10.0.0.1", "app01")];
    let paths = compute(PathsInput {
        assets: &assets,
        relationships: &[],
        findings: &[],
        intel: &Intel::default(),
        controls: &Controls::default(),
        opengraph: &[],
        dismissed: &HashSet::new(),
        path_count: 3,
    })
    .unwrap();
    assert!(paths.is_none());
}

fn example_intel() -> Intel {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/acme/intel");
    Intel::load_files(
        Some(&dir.join("known_exploited_vulnerabilities.json")),
        &[dir.join("epss_scores-2026-11-30.csv")],
    )
    .unwrap()
}

fn finding_with(ids: &[&str]) -> Finding {
    let mut finding = Finding::new(
        "nmap",
        "vulners",
        FindingKind::Vulnerability,
        "Apache httpd 2.4.49",
        Severity::High,
        AssetKey::new(AssetKind::Host, "203.0.113.10"),
    );
    finding.vulnerability_ids = ids.iter().map(|id| id.parse::<VulnerabilityId>().unwrap()).collect();
    finding
}

#[test]
fn signals_take_kev_and_highest_epss() {
    let intel = example_intel();

    // CVE-2021-41773 is in the example KEV catalog; CVE-2021-34798 is not.
    let signals = exploit_signals(&finding_with(&["CVE-2021-34798", "CVE-2021-41773"]), &intel);
    assert!(signals.kev);
    assert_eq!(signals.epss, Some(0.94401));

    let signals = exploit_signals(&finding_with(&["CVE-2021-34798"]), &intel);
    assert!(!signals.kev);
    assert_eq!(signals.epss, Some(0.01866));

    assert_eq!(exploit_signals(&finding_with(&[]), &intel), ExploitSignals::default());
}

#[test]
fn closed_statuses_give_no_step() {
    let mut finding = finding_with(&["CVE-2021-41773"]);
    assert!(is_open(&finding));
    for (status, open) in [
        (SourceStatus::Affected, true),
        (SourceStatus::UnderInvestigation, true),
        (SourceStatus::WillNotFix, true),
        (SourceStatus::NotAffected, false),
        (SourceStatus::Fixed, false),
        (SourceStatus::Suppressed, false),
        (SourceStatus::FalsePositive, false),
    ] {
        finding.source_status = Some(status);
        assert_eq!(is_open(&finding), open, "{status:?}");
    }
}
