//! The analyses on hand-built graphs with hand-computed answers, and on
//! small seeded random graphs against brute force.

use std::collections::BTreeSet;

use ctem_graph::analysis::{
    self, AnalysisOptions, ChokeKind, DominatorTree, FixSet, Path, blast_radius, choke_points, exposure, k_best_paths,
    minimal_fix_set, most_likely_path, what_if,
};
use ctem_graph::{
    AssetInfo, AttackGraph, Capability, EdgeId, EdgeKind, Evidence, FixRef, GraphBuilder, NewEdge, NodeId,
};
use ctem_model::{AssetKey, AssetKind, Criticality};

const TOLERANCE: f64 = 1e-9;

/// A graph under construction whose nodes are named: each name is a host
/// with one capability, node 0 is the internet.
struct Net {
    builder: GraphBuilder,
}

impl Net {
    fn new() -> Net {
        Net {
            builder: GraphBuilder::new(),
        }
    }

    fn node(&mut self, name: &str, capability: Capability, crown_jewel: bool) -> NodeId {
        let asset = self.builder.asset(AssetInfo {
            key: AssetKey::new(AssetKind::Host, name),
            name: name.to_string(),
            kind: AssetKind::Host,
            criticality: crown_jewel.then_some(Criticality::CrownJewel),
        });
        self.builder.node_of(asset, capability)
    }

    fn host(&mut self, name: &str) -> NodeId {
        self.node(name, Capability::ExecuteUser, false)
    }

    fn edge(&mut self, from: NodeId, to: NodeId, probability: f64, fixes: &[&str]) {
        self.builder.edge(
            from,
            to,
            NewEdge {
                kind: EdgeKind::Exploit,
                technique: None,
                probability: probability as f32,
                evidence: Evidence::Observed,
                fixes: fixes.iter().map(|&name| fix(name)).collect(),
            },
        );
    }

    fn build(self) -> AttackGraph {
        self.builder.build()
    }
}

fn fix(name: &str) -> FixRef {
    FixRef::Finding {
        fingerprint: name.to_string(),
    }
}

fn fix_id(graph: &AttackGraph, name: &str) -> u32 {
    graph
        .fixes
        .iter()
        .position(|f| *f == fix(name))
        .expect("the fix exists") as u32
}

fn fix_names(graph: &AttackGraph, set: &FixSet) -> BTreeSet<String> {
    set.fixes
        .iter()
        .map(|&id| match &graph.fixes[id as usize] {
            FixRef::Finding { fingerprint } => fingerprint.clone(),
            other => panic!("unexpected fix {other:?}"),
        })
        .collect()
}

/// The nodes of a path, its start first.
fn path_nodes(graph: &AttackGraph, path: &Path) -> Vec<NodeId> {
    path.nodes(graph)
}

fn length(graph: &AttackGraph, edges: &[EdgeId]) -> f64 {
    edges
        .iter()
        .map(|&id| -f64::from(graph.edge(id).probability).ln())
        .sum()
}

// Exposure and blast radius.

#[test]
fn exposure_counts_reachable_crown_jewels() {
    let mut net = Net::new();
    let web_access = net.node("web", Capability::NetworkAccess, false);
    let web_exec = net.node("web", Capability::ExecuteUser, false);
    let db_read = net.node("db", Capability::Read, true);
    let laptop = net.host("laptop");
    let vault = net.node("vault", Capability::Control, true);
    net.host("lonely");
    net.edge(AttackGraph::INTERNET, web_access, 1.0, &[]);
    net.edge(web_access, web_exec, 0.5, &["cve-web"]);
    net.edge(web_exec, db_read, 0.9, &[]);
    net.edge(laptop, vault, 0.9, &[]);
    let graph = net.build();

    let exposure = exposure(&graph);

    let db = graph.nodes[db_read as usize].asset;
    assert_eq!(exposure.reachable_crown_jewels, [db]);
    assert_eq!(exposure.crown_jewels, 2);
    // web, db, laptop and vault have a path to a goal; lonely has none.
    assert_eq!(exposure.assets_with_path, 4);
    assert_eq!(exposure.assets, 5);
}

#[test]
fn exposure_ignores_network_access_to_crown_jewel() {
    let mut net = Net::new();
    let db_access = net.node("db", Capability::NetworkAccess, true);
    net.node("db", Capability::Read, true);
    net.edge(AttackGraph::INTERNET, db_access, 1.0, &[]);
    let graph = net.build();

    let exposure = exposure(&graph);

    assert!(exposure.reachable_crown_jewels.is_empty());
    assert_eq!(exposure.crown_jewels, 1);
    assert_eq!(exposure.assets_with_path, 1);
}

#[test]
fn blast_radius_lists_reachable_nodes() {
    let mut net = Net::new();
    let web = net.host("web");
    let app = net.host("app");
    let db_read = net.node("db", Capability::Read, true);
    let other = net.host("other");
    net.edge(AttackGraph::INTERNET, web, 0.5, &[]);
    net.edge(web, app, 0.5, &[]);
    net.edge(app, db_read, 0.5, &[]);
    net.edge(app, web, 0.5, &[]);
    net.edge(other, app, 0.5, &[]);
    // An edge of probability 0 is absent.
    net.edge(web, other, 0.0, &[]);
    let graph = net.build();

    let radius = blast_radius(&graph, web);

    assert_eq!(radius.nodes, [web, app, db_read]);
    let asset = |node: NodeId| graph.nodes[node as usize].asset;
    assert_eq!(radius.assets, [asset(web), asset(app), asset(db_read)]);
    assert_eq!(radius.crown_jewels, [asset(db_read)]);
}

// Most likely paths.

#[test]
fn most_likely_path_takes_highest_product() {
    let mut net = Net::new();
    let a = net.host("a");
    let b = net.host("b");
    let t = net.host("t");
    net.edge(AttackGraph::INTERNET, a, 0.9, &[]);
    net.edge(a, t, 0.5, &[]);
    net.edge(AttackGraph::INTERNET, b, 0.6, &[]);
    net.edge(b, t, 0.8, &[]);
    net.edge(b, t, 0.7, &[]);
    let graph = net.build();

    let path = most_likely_path(&graph, AttackGraph::INTERNET, &[t]).expect("t is reachable");

    assert_eq!(path_nodes(&graph, &path), [AttackGraph::INTERNET, b, t]);
    assert!((path.probability - 0.48).abs() < 1e-6);
    assert!((graph.edge(path.edges[1]).probability - 0.8).abs() < 1e-6);
}

#[test]
fn most_likely_path_to_unreachable_is_none() {
    let mut net = Net::new();
    let a = net.host("a");
    let t = net.host("t");
    net.edge(t, a, 0.9, &[]);
    let graph = net.build();

    assert_eq!(most_likely_path(&graph, AttackGraph::INTERNET, &[t]), None);
}

#[test]
fn most_likely_path_from_target_is_empty() {
    let graph = Net::new().build();

    let path = most_likely_path(&graph, AttackGraph::INTERNET, &[AttackGraph::INTERNET]).expect("start is a target");

    assert!(path.edges.is_empty());
    assert_eq!(path.probability, 1.0);
}

/// The graph of the Wikipedia article on Yen's algorithm, with each length
/// w turned into the probability e^-w.
fn yen_graph() -> (AttackGraph, [NodeId; 6]) {
    let mut net = Net::new();
    let c = AttackGraph::INTERNET;
    let d = net.host("d");
    let e = net.host("e");
    let f = net.host("f");
    let g = net.host("g");
    let h = net.host("h");
    for (from, to, length) in [
        (c, d, 3.0),
        (c, e, 2.0),
        (d, f, 4.0),
        (e, d, 1.0),
        (e, f, 2.0),
        (e, g, 3.0),
        (f, g, 2.0),
        (f, h, 1.0),
        (g, h, 2.0),
    ] {
        net.edge(from, to, f64::exp(-length), &[]);
    }
    (net.build(), [c, d, e, f, g, h])
}

#[test]
fn yen_finds_known_paths() {
    let (graph, [c, d, e, f, g, h]) = yen_graph();

    let paths = k_best_paths(&graph, c, &[h], 5);

    let lengths: Vec<f64> = paths.iter().map(|path| length(&graph, &path.edges)).collect();
    let expected = [5.0, 7.0, 8.0, 8.0, 8.0];
    assert_eq!(lengths.len(), expected.len());
    for (found, expected) in lengths.iter().zip(expected) {
        assert!((found - expected).abs() < 1e-5, "{lengths:?}");
    }
    assert_eq!(path_nodes(&graph, &paths[0]), [c, e, f, h]);
    assert_eq!(path_nodes(&graph, &paths[1]), [c, e, g, h]);
    // Three paths tie at length 8.
    let tied: BTreeSet<Vec<NodeId>> = paths[2..].iter().map(|path| path_nodes(&graph, path)).collect();
    let expected: BTreeSet<Vec<NodeId>> = [vec![c, d, f, h], vec![c, e, d, f, h], vec![c, e, f, g, h]].into();
    assert_eq!(tied, expected);
}

#[test]
fn yen_stops_when_paths_run_out() {
    let (graph, [c, .., h]) = yen_graph();

    // The graph has 7 loopless paths from c to h.
    assert_eq!(k_best_paths(&graph, c, &[h], 20).len(), 7);
    assert!(k_best_paths(&graph, c, &[h], 0).is_empty());
}

#[test]
fn yen_counts_parallel_edges_as_distinct_paths() {
    let mut net = Net::new();
    let t = net.host("t");
    net.edge(AttackGraph::INTERNET, t, 0.5, &[]);
    net.edge(AttackGraph::INTERNET, t, 0.4, &[]);
    let graph = net.build();

    let paths = k_best_paths(&graph, AttackGraph::INTERNET, &[t], 3);

    let probabilities: Vec<f64> = paths.iter().map(|path| path.probability).collect();
    assert_eq!(probabilities.len(), 2);
    assert!((probabilities[0] - 0.5).abs() < 1e-6);
    assert!((probabilities[1] - 0.4).abs() < 1e-6);
}

#[test]
fn paths_stop_at_first_target() {
    let mut net = Net::new();
    let t1 = net.host("t1");
    let t2 = net.host("t2");
    net.edge(AttackGraph::INTERNET, t1, 0.9, &[]);
    net.edge(t1, t2, 1.0, &[]);
    net.edge(AttackGraph::INTERNET, t2, 0.1, &[]);
    let graph = net.build();

    let paths = k_best_paths(&graph, AttackGraph::INTERNET, &[t1, t2], 5);

    let ends: Vec<Vec<NodeId>> = paths.iter().map(|path| path_nodes(&graph, path)).collect();
    assert_eq!(ends, [vec![AttackGraph::INTERNET, t1], vec![AttackGraph::INTERNET, t2]]);
}

// Dominators and choke points.

/// The flowgraph of Lengauer and Tarjan's paper (TOPLAS 1979, figure 1),
/// the internet standing for its root R.
fn lengauer_tarjan_graph() -> (AttackGraph, Vec<NodeId>) {
    let mut net = Net::new();
    let mut ids = vec![AttackGraph::INTERNET];
    for name in ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"] {
        ids.push(net.host(name));
    }
    let id = |name: char| {
        ids[if name == 'r' {
            0
        } else {
            name as usize - 'a' as usize + 1
        }]
    };
    for (from, targets) in [
        ('r', "abc"),
        ('a', "d"),
        ('b', "ade"),
        ('c', "fg"),
        ('d', "l"),
        ('e', "h"),
        ('f', "i"),
        ('g', "ij"),
        ('h', "ek"),
        ('i', "k"),
        ('j', "i"),
        ('k', "ir"),
        ('l', "h"),
    ] {
        for to in targets.chars() {
            net.edge(id(from), id(to), 0.5, &[]);
        }
    }
    (net.build(), ids)
}

#[test]
fn dominator_tree_of_textbook_graph() {
    let (graph, ids) = lengauer_tarjan_graph();
    let id = |name: char| {
        ids[if name == 'r' {
            0
        } else {
            name as usize - 'a' as usize + 1
        }]
    };

    let tree = DominatorTree::new(&graph, AttackGraph::INTERNET);

    for (node, idom) in [
        ('a', 'r'),
        ('b', 'r'),
        ('c', 'r'),
        ('d', 'r'),
        ('e', 'r'),
        ('f', 'c'),
        ('g', 'c'),
        ('h', 'r'),
        ('i', 'r'),
        ('j', 'g'),
        ('k', 'r'),
        ('l', 'd'),
    ] {
        assert_eq!(tree.immediate_dominator(id(node)), Some(id(idom)), "idom of {node}");
    }
    assert_eq!(tree.immediate_dominator(AttackGraph::INTERNET), None);
    assert_eq!(tree.dominators(id('j')), [id('r'), id('c'), id('g'), id('j')]);
}

#[test]
fn dominators_of_target_set() {
    let (graph, ids) = lengauer_tarjan_graph();
    let id = |name: char| {
        ids[if name == 'r' {
            0
        } else {
            name as usize - 'a' as usize + 1
        }]
    };

    // Every path to j or f passes c; the sink version and the common
    // ancestor in the whole tree agree.
    let targets = [id('j'), id('f')];
    let with_sink = DominatorTree::with_sink(&graph, AttackGraph::INTERNET, &targets);
    let whole = DominatorTree::new(&graph, AttackGraph::INTERNET);

    assert_eq!(with_sink.dominators_of_sink(), [id('r'), id('c')]);
    assert_eq!(whole.dominators_of_set(&targets), [id('r'), id('c')]);
    assert_eq!(whole.dominators_of_set(&[id('l')]), [id('r'), id('d'), id('l')]);
}

#[test]
fn choke_points_list_dominators_then_frequent() {
    let mut net = Net::new();
    let gate = net.host("gate");
    let a = net.host("a");
    let b = net.host("b");
    let c = net.host("c");
    let hub = net.host("hub");
    let t = net.host("t");
    net.edge(AttackGraph::INTERNET, gate, 0.9, &[]);
    net.edge(gate, a, 0.9, &[]);
    net.edge(gate, b, 0.8, &[]);
    net.edge(gate, c, 0.1, &[]);
    net.edge(a, hub, 0.9, &[]);
    net.edge(b, hub, 0.9, &[]);
    net.edge(hub, t, 0.9, &[]);
    net.edge(c, t, 0.9, &[]);
    let graph = net.build();

    let points = choke_points(&graph, AttackGraph::INTERNET, &[t], 3);

    // gate is on every path; hub is on the two most likely of three.
    assert_eq!(points.len(), 2);
    assert_eq!(points[0].node, gate);
    assert_eq!(points[0].kind, ChokeKind::Dominator);
    assert_eq!(points[1].node, hub);
    assert_eq!(points[1].kind, ChokeKind::Frequent { paths: 2, of: 3 });
}

// Minimal fix sets.

#[test]
fn min_cut_pays_shared_fix_once() {
    let mut net = Net::new();
    let a = net.host("a");
    let b = net.host("b");
    let t = net.host("t");
    // Two ports of a behind one security-group rule: one fix, two edges.
    net.edge(AttackGraph::INTERNET, a, 0.5, &["sg"]);
    net.edge(AttackGraph::INTERNET, a, 0.5, &["sg"]);
    net.edge(a, t, 0.5, &["vuln-a"]);
    net.edge(AttackGraph::INTERNET, b, 0.5, &[]);
    net.edge(b, t, 0.5, &["vuln-b", "patch-b"]);
    let graph = net.build();
    let costs = [("sg", 3.0), ("vuln-a", 4.0), ("vuln-b", 5.0), ("patch-b", 2.0)];
    let cost = |id: u32| costs.iter().find(|(name, _)| fix_id(&graph, name) == id).unwrap().1;

    let set = minimal_fix_set(&graph, AttackGraph::INTERNET, &[t], &cost);

    // Paying sg per edge (6) would make vuln-a (4) look cheaper.
    assert_eq!(
        fix_names(&graph, &set),
        BTreeSet::from(["sg".to_string(), "patch-b".to_string()])
    );
    assert_eq!(set.cost, 5.0);
    assert!(set.exact);
    assert_eq!(set.method, "min_cut");
    assert!(!set.uncuttable);
}

#[test]
fn min_cut_covers_parallel_edges_with_overlapping_fixes() {
    let mut net = Net::new();
    let t = net.host("t");
    net.edge(AttackGraph::INTERNET, t, 0.5, &["p", "q"]);
    net.edge(AttackGraph::INTERNET, t, 0.5, &["q", "r"]);
    net.edge(AttackGraph::INTERNET, t, 0.5, &["r"]);
    let graph = net.build();
    let costs = [("p", 1.0), ("q", 3.0), ("r", 1.0)];
    let cost = |id: u32| costs.iter().find(|(name, _)| fix_id(&graph, name) == id).unwrap().1;

    let set = minimal_fix_set(&graph, AttackGraph::INTERNET, &[t], &cost);

    assert_eq!(
        fix_names(&graph, &set),
        BTreeSet::from(["p".to_string(), "r".to_string()])
    );
    assert_eq!(set.cost, 2.0);
    assert!(set.exact);
}

#[test]
fn greedy_when_fix_spans_edges() {
    let mut net = Net::new();
    let a = net.host("a");
    let b = net.host("b");
    let t = net.host("t");
    // One firewall change removes both exposures.
    net.edge(AttackGraph::INTERNET, a, 0.5, &["firewall"]);
    net.edge(AttackGraph::INTERNET, b, 0.5, &["firewall"]);
    net.edge(a, t, 0.5, &["vuln-a"]);
    net.edge(b, t, 0.5, &["vuln-b"]);
    let graph = net.build();
    let firewall = fix_id(&graph, "firewall");

    // At cost 1 the relaxed cut (each exposure priced 1) picks the firewall.
    let cheap = minimal_fix_set(&graph, AttackGraph::INTERNET, &[t], &|id| {
        if id == firewall { 1.0 } else { 2.0 }
    });
    assert_eq!(fix_names(&graph, &cheap), BTreeSet::from(["firewall".to_string()]));
    assert_eq!(cheap.cost, 1.0);
    assert!(!cheap.exact);
    assert_eq!(cheap.method, "greedy");

    // At cost 3 the relaxed cut prices the firewall at 6 and picks both
    // vulnerabilities (4), above the optimum of 3: greedy is a bound.
    let dear = minimal_fix_set(&graph, AttackGraph::INTERNET, &[t], &|id| {
        if id == firewall { 3.0 } else { 2.0 }
    });
    assert_eq!(
        fix_names(&graph, &dear),
        BTreeSet::from(["vuln-a".to_string(), "vuln-b".to_string()])
    );
    assert_eq!(dear.cost, 4.0);
    assert!(!dear.exact);
}

#[test]
fn greedy_prunes_redundant_fixes() {
    let mut net = Net::new();
    let a = net.host("a");
    let b = net.host("b");
    let t = net.host("t");
    net.edge(AttackGraph::INTERNET, a, 0.5, &["x"]);
    net.edge(a, t, 0.5, &["z"]);
    net.edge(AttackGraph::INTERNET, b, 0.5, &["y"]);
    net.edge(b, t, 0.5, &["x"]);
    let graph = net.build();
    let costs = [("x", 2.0), ("y", 1.0), ("z", 5.0)];
    let cost = |id: u32| costs.iter().find(|(name, _)| fix_id(&graph, name) == id).unwrap().1;

    let set = minimal_fix_set(&graph, AttackGraph::INTERNET, &[t], &cost);

    // The relaxed cut is {internet -> a, internet -> b}, so {x, y} at 3;
    // x alone also removes b -> t, which makes y redundant.
    assert_eq!(fix_names(&graph, &set), BTreeSet::from(["x".to_string()]));
    assert_eq!(set.cost, 2.0);
    assert_eq!(set.method, "greedy");
}

#[test]
fn uncuttable_path_is_reported() {
    let mut net = Net::new();
    let a = net.host("a");
    let t = net.host("t");
    net.edge(AttackGraph::INTERNET, a, 0.5, &[]);
    net.edge(a, t, 0.5, &["fix-a"]);
    net.edge(a, t, 0.5, &[]);
    let graph = net.build();

    let set = minimal_fix_set(&graph, AttackGraph::INTERNET, &[t], &|_| 1.0);

    assert!(set.uncuttable);
    assert!(set.fixes.is_empty());
    assert!(set.cost.is_infinite());
    let path = Path::from_edges(&graph, set.uncut_path.clone());
    assert_eq!(path_nodes(&graph, &path), [AttackGraph::INTERNET, a, t]);
    assert!(graph.fixes_of(set.uncut_path[1]).is_empty());
}

#[test]
fn infinite_cost_fix_cannot_be_applied() {
    let mut net = Net::new();
    let t = net.host("t");
    net.edge(AttackGraph::INTERNET, t, 0.5, &["frozen"]);
    let graph = net.build();

    let set = minimal_fix_set(&graph, AttackGraph::INTERNET, &[t], &|_| f64::INFINITY);

    assert!(set.uncuttable);
}

#[test]
fn unreachable_target_needs_no_fix() {
    let mut net = Net::new();
    let t = net.host("t");
    net.edge(t, AttackGraph::INTERNET, 0.5, &["x"]);
    let graph = net.build();

    let set = minimal_fix_set(&graph, AttackGraph::INTERNET, &[t], &|_| 1.0);

    assert!(set.fixes.is_empty());
    assert_eq!(set.cost, 0.0);
    assert!(!set.uncuttable);
}

// What-if and the full analysis.

#[test]
fn what_if_removes_fixed_edges() {
    let mut net = Net::new();
    let web = net.host("web");
    let db_read = net.node("db", Capability::Read, true);
    net.edge(AttackGraph::INTERNET, web, 0.5, &["sg"]);
    net.edge(web, db_read, 0.5, &["cve", "rotate"]);
    net.edge(web, db_read, 0.4, &["rotate"]);
    let graph = net.build();
    let db = graph.nodes[db_read as usize].asset;

    let after_cve = what_if(&graph, &[fix_id(&graph, "cve")]);
    let after_rotate = what_if(&graph, &[fix_id(&graph, "rotate")]);

    assert_eq!(after_cve.edge_count(), 2);
    assert_eq!(exposure(&after_cve).reachable_crown_jewels, [db]);
    assert_eq!(after_rotate.edge_count(), 1);
    assert!(exposure(&after_rotate).reachable_crown_jewels.is_empty());
    // Node and fix ids survive.
    assert_eq!(after_rotate.node_count(), graph.node_count());
    assert_eq!(after_rotate.fixes, graph.fixes);
    assert_eq!(after_rotate.in_edges(web).len(), 1);
}

#[test]
fn analyze_reports_each_crown_jewel() {
    let mut net = Net::new();
    let web_access = net.node("web", Capability::NetworkAccess, false);
    let web_exec = net.node("web", Capability::ExecuteUser, false);
    let db_read = net.node("db", Capability::Read, true);
    let db_write = net.node("db", Capability::Write, true);
    let vault = net.node("vault", Capability::Control, true);
    net.edge(AttackGraph::INTERNET, web_access, 1.0, &["sg"]);
    net.edge(web_access, web_exec, 0.5, &["cve-web"]);
    net.edge(web_exec, db_write, 0.8, &["creds"]);
    net.edge(web_exec, db_read, 0.9, &["creds"]);
    net.edge(db_write, db_read, 1.0, &[]);
    let graph = net.build();
    let options = AnalysisOptions {
        k: 3,
        fix_costs: Some(vec![2.0, 1.0, 5.0]),
        threads: 2,
    };

    let result = analysis::analyze(&graph, &options);

    assert_eq!(result.crown_jewels.len(), 2);
    let db = &result.crown_jewels[0];
    assert_eq!(db.key, "host:db");
    assert_eq!(db.goals, [db_read, db_write]);
    assert!(db.reachable);
    let best = db.best_path.as_ref().expect("db is reachable");
    assert!((best.probability - 0.45).abs() < 1e-6);
    assert_eq!(best.steps.last().unwrap().to_label, "host:db/read");
    // Paths end at the first goal, so web -> write -> read is not listed.
    assert_eq!(db.paths.len(), 2);
    let choke: Vec<&str> = db.choke_points.iter().map(|point| point.label.as_str()).collect();
    assert_eq!(choke, ["host:web/network_access", "host:web/execute_user"]);
    // sg (2) and cve-web (1) each cut everything; cve-web is cheaper.
    assert_eq!(db.fix_set.fixes.len(), 1);
    assert_eq!(
        db.fix_set.fixes[0].fix,
        FixRef::Finding {
            fingerprint: "cve-web".to_string()
        }
    );
    assert_eq!(db.fix_set.cost, 1.0);

    let vault_report = &result.crown_jewels[1];
    assert_eq!(vault_report.goals, [vault]);
    assert!(!vault_report.reachable);
    assert!(vault_report.paths.is_empty());
    assert!(vault_report.fix_set.fixes.is_empty());

    let json = serde_json::to_value(&result).expect("the analysis serializes");
    assert_eq!(json["crown_jewels"][0]["choke_points"][0]["kind"], "dominator");
    // creds removes edges to two nodes, so the method is greedy.
    assert_eq!(json["crown_jewels"][0]["fix_set"]["method"], "greedy");
    assert_eq!(json["crown_jewels"][0]["fix_set"]["exact"], false);
    assert_eq!(json["exposure"]["crown_jewels"], 2);
}

// Property tests against brute force on small seeded random graphs.

/// SplitMix64 (Steele, Lea and Flood, 2014), enough for seeded test graphs.
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

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// How random fixes are spread over edges.
#[derive(Clone, Copy, PartialEq)]
enum FixSpread {
    /// Each fix removes edges of one (from, to) pair only.
    Local,
    /// A fix may remove any edges.
    Shared,
}

/// A random graph of up to 9 nodes with parallel edges, at most 12 fixes
/// and one or two targets.
fn random_graph(rng: &mut SplitMix64, spread: FixSpread) -> (AttackGraph, Vec<NodeId>) {
    let mut net = Net::new();
    let n = 4 + rng.below(6);
    let mut nodes = vec![AttackGraph::INTERNET];
    for i in 1..n {
        nodes.push(net.host(&format!("n{i}")));
    }
    let mut names_used: BTreeSet<String> = BTreeSet::new();
    let mut shared_pool: Vec<String> = (0..12).map(|i| format!("f{i}")).collect();
    shared_pool.truncate(4 + rng.below(9));
    for from in 0..n {
        for to in 1..n {
            if from == to || !rng.chance(0.35) {
                continue;
            }
            let parallel = if rng.chance(0.2) { 2 } else { 1 };
            for _ in 0..parallel {
                let probability = 0.05 + 0.95 * rng.unit();
                let mut fixes = Vec::new();
                if !rng.chance(0.1) {
                    let count = 1 + usize::from(rng.chance(0.3));
                    for _ in 0..count {
                        let name = match spread {
                            // Fixes of this pair only: a fresh one or the pair's common one.
                            FixSpread::Local if rng.chance(0.5) => format!("p{from}-{to}-{}", rng.below(1000)),
                            FixSpread::Local => format!("p{from}-{to}-common"),
                            FixSpread::Shared => shared_pool[rng.below(shared_pool.len())].clone(),
                        };
                        if names_used.contains(&name) || names_used.len() < 12 {
                            names_used.insert(name.clone());
                            fixes.push(name);
                        }
                    }
                }
                let names: Vec<&str> = fixes.iter().map(String::as_str).collect();
                net.edge(nodes[from], nodes[to], probability, &names);
            }
        }
    }
    let mut targets = vec![nodes[1 + rng.below(n - 1)]];
    if rng.chance(0.4) {
        let second = nodes[1 + rng.below(n - 1)];
        if second != targets[0] {
            targets.push(second);
        }
    }
    (net.build(), targets)
}

/// Every loopless path from `from` that ends at its first target.
fn all_paths(graph: &AttackGraph, from: NodeId, targets: &[NodeId]) -> Vec<Vec<EdgeId>> {
    fn walk(
        graph: &AttackGraph,
        node: NodeId,
        targets: &[NodeId],
        visited: &mut Vec<NodeId>,
        edges: &mut Vec<EdgeId>,
        out: &mut Vec<Vec<EdgeId>>,
    ) {
        if targets.contains(&node) {
            out.push(edges.clone());
            return;
        }
        for id in graph.out_edges(node) {
            let edge = graph.edge(id);
            if edge.probability <= 0.0 || visited.contains(&edge.to) {
                continue;
            }
            visited.push(edge.to);
            edges.push(id);
            walk(graph, edge.to, targets, visited, edges, out);
            edges.pop();
            visited.pop();
        }
    }
    let mut out = Vec::new();
    walk(graph, from, targets, &mut vec![from], &mut Vec::new(), &mut out);
    out
}

/// Whether a target is reachable from `from` without the nodes in
/// `removed_node` and the edges `removed_edge` accepts.
fn reaches(
    graph: &AttackGraph,
    from: NodeId,
    targets: &[NodeId],
    removed_node: Option<NodeId>,
    removed_edge: &dyn Fn(EdgeId) -> bool,
) -> bool {
    if Some(from) == removed_node {
        return false;
    }
    let mut seen = vec![false; graph.node_count()];
    seen[from as usize] = true;
    let mut stack = vec![from];
    while let Some(node) = stack.pop() {
        if targets.contains(&node) {
            return true;
        }
        for id in graph.out_edges(node) {
            let to = graph.edge(id).to;
            if !seen[to as usize] && Some(to) != removed_node && !removed_edge(id) {
                seen[to as usize] = true;
                stack.push(to);
            }
        }
    }
    false
}

fn assert_valid_path(graph: &AttackGraph, path: &Path, targets: &[NodeId]) {
    let nodes = path_nodes(graph, path);
    assert_eq!(nodes[0], AttackGraph::INTERNET);
    for pair in path.edges.windows(2) {
        assert_eq!(graph.edge(pair[0]).to, graph.edge(pair[1]).from);
    }
    let distinct: BTreeSet<NodeId> = nodes.iter().copied().collect();
    assert_eq!(distinct.len(), nodes.len(), "path {nodes:?} loops");
    assert!(targets.contains(nodes.last().unwrap()));
    assert!(nodes[..nodes.len() - 1].iter().all(|node| !targets.contains(node)));
}

#[test]
fn k_best_paths_match_brute_force() {
    let mut rng = SplitMix64(7);
    for round in 0..300 {
        let (graph, targets) = random_graph(&mut rng, FixSpread::Shared);
        let k = 1 + rng.below(8);

        let found = k_best_paths(&graph, AttackGraph::INTERNET, &targets, k);

        let mut expected: Vec<f64> = all_paths(&graph, AttackGraph::INTERNET, &targets)
            .iter()
            .map(|edges| length(&graph, edges))
            .collect();
        expected.sort_by(f64::total_cmp);
        expected.truncate(k);
        assert_eq!(found.len(), expected.len(), "round {round}");
        let distinct: BTreeSet<&Vec<EdgeId>> = found.iter().map(|path| &path.edges).collect();
        assert_eq!(distinct.len(), found.len(), "round {round}: repeated path");
        for (path, expected) in found.iter().zip(&expected) {
            assert_valid_path(&graph, path, &targets);
            let length = length(&graph, &path.edges);
            assert!(
                (length - expected).abs() < TOLERANCE,
                "round {round}: {length} vs {expected}"
            );
        }

        let best = most_likely_path(&graph, AttackGraph::INTERNET, &targets);
        assert_eq!(best.is_some(), !expected.is_empty(), "round {round}");
        if let Some(best) = best {
            assert!(
                (length(&graph, &best.edges) - expected[0]).abs() < TOLERANCE,
                "round {round}"
            );
        }
    }
}

#[test]
fn dominators_match_brute_force() {
    let mut rng = SplitMix64(11);
    for round in 0..300 {
        let (graph, targets) = random_graph(&mut rng, FixSpread::Shared);
        let none = |_: EdgeId| false;
        let tree = DominatorTree::new(&graph, AttackGraph::INTERNET);

        for v in 0..graph.node_count() as NodeId {
            let reachable = reaches(&graph, AttackGraph::INTERNET, &[v], None, &none);
            assert_eq!(tree.is_reachable(v), reachable, "round {round}, node {v}");
            if !reachable {
                continue;
            }
            // d dominates v when deleting d cuts every path to v.
            let expected: BTreeSet<NodeId> = (0..graph.node_count() as NodeId)
                .filter(|&d| d == v || !reaches(&graph, AttackGraph::INTERNET, &[v], Some(d), &none))
                .collect();
            let found: BTreeSet<NodeId> = tree.dominators(v).into_iter().collect();
            assert_eq!(found, expected, "round {round}, node {v}");
        }

        let expected: Vec<NodeId> = if reaches(&graph, AttackGraph::INTERNET, &targets, None, &none) {
            (0..graph.node_count() as NodeId)
                .filter(|&d| !reaches(&graph, AttackGraph::INTERNET, &targets, Some(d), &none))
                .collect()
        } else {
            Vec::new()
        };
        let mut with_sink = DominatorTree::with_sink(&graph, AttackGraph::INTERNET, &targets).dominators_of_sink();
        let mut of_set = tree.dominators_of_set(&targets);
        with_sink.sort_unstable();
        of_set.sort_unstable();
        assert_eq!(with_sink, expected, "round {round}: sink");
        assert_eq!(of_set, expected, "round {round}: set");
    }
}

/// The cheapest fix set by trying every subset, or `None` when none cuts.
fn brute_force_fix_set(graph: &AttackGraph, targets: &[NodeId], cost: &[f64]) -> Option<f64> {
    let fixes = graph.fixes.len();
    assert!(fixes <= 12, "brute force is for at most 12 fixes");
    let mut best: Option<f64> = None;
    for subset in 0u32..(1 << fixes) {
        let removed = |id: EdgeId| graph.fixes_of(id).iter().any(|&fix| subset & (1 << fix) != 0);
        if reaches(graph, AttackGraph::INTERNET, targets, None, &removed) {
            continue;
        }
        let total: f64 = (0..fixes).filter(|&i| subset & (1 << i) != 0).map(|i| cost[i]).sum();
        if best.is_none_or(|best| total < best) {
            best = Some(total);
        }
    }
    best
}

fn check_fix_sets(seed: u64, spread: FixSpread) {
    let mut rng = SplitMix64(seed);
    let mut exact_cases = 0;
    let mut greedy_cases = 0;
    for round in 0..400 {
        let (graph, targets) = random_graph(&mut rng, spread);
        let cost: Vec<f64> = (0..graph.fixes.len()).map(|_| (1 + rng.below(5)) as f64).collect();

        let set = minimal_fix_set(&graph, AttackGraph::INTERNET, &targets, &|fix| cost[fix as usize]);

        let optimum = brute_force_fix_set(&graph, &targets, &cost);
        let Some(optimum) = optimum else {
            assert!(set.uncuttable, "round {round}: a cut was missed");
            let path = Path::from_edges(&graph, set.uncut_path.clone());
            if !set.uncut_path.is_empty() {
                assert_valid_path(&graph, &path, &targets);
            }
            assert!(set.uncut_path.iter().all(|&id| graph.fixes_of(id).is_empty()));
            continue;
        };
        assert!(!set.uncuttable, "round {round}");
        let applied: BTreeSet<u32> = set.fixes.iter().copied().collect();
        let removed = |id: EdgeId| graph.fixes_of(id).iter().any(|fix| applied.contains(fix));
        assert!(
            !reaches(&graph, AttackGraph::INTERNET, &targets, None, &removed),
            "round {round}: the set does not cut"
        );
        let total: f64 = set.fixes.iter().map(|&fix| cost[fix as usize]).sum();
        assert!((set.cost - total).abs() < TOLERANCE, "round {round}");
        if spread == FixSpread::Local {
            assert!(set.exact, "round {round}: local fixes give an exact cut");
        }
        if set.exact {
            exact_cases += 1;
            assert!(
                (set.cost - optimum).abs() < TOLERANCE,
                "round {round}: {} vs {optimum}",
                set.cost
            );
        } else {
            greedy_cases += 1;
            assert_eq!(set.method, "greedy");
            assert!(set.cost >= optimum - TOLERANCE, "round {round}");
        }
    }
    assert!(exact_cases > 50, "only {exact_cases} exact cases");
    if spread == FixSpread::Shared {
        assert!(greedy_cases > 50, "only {greedy_cases} greedy cases");
    }
}

#[test]
fn local_fix_sets_match_brute_force() {
    check_fix_sets(3, FixSpread::Local);
}

#[test]
fn shared_fix_sets_bounded_by_brute_force() {
    check_fix_sets(5, FixSpread::Shared);
}

#[test]
fn blast_radius_matches_search() {
    let mut rng = SplitMix64(13);
    for round in 0..100 {
        let (graph, _) = random_graph(&mut rng, FixSpread::Shared);
        let radius = blast_radius(&graph, AttackGraph::INTERNET);
        for v in 0..graph.node_count() as NodeId {
            let expected = reaches(&graph, AttackGraph::INTERNET, &[v], None, &|_| false);
            assert_eq!(radius.nodes.contains(&v), expected, "round {round}, node {v}");
        }
    }
}
