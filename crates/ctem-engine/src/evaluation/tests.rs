use ctem_graph::{
    AssetInfo, AttackGraph, Capability, EdgeKind, Evidence, FixId, FixRef, GraphBuilder, NewEdge, NodeId,
};
use ctem_model::{AssetKey, AssetKind, Criticality};

use super::*;

/// A hand-built graph with two crown jewels:
///
/// ```text
/// internet -0.9 [a]-> web -0.5 [b]-> jewel-1
/// internet -0.4 [c]-> vpn -1.0 [d]-> jewel-1
/// internet -0.2 [e]-> jewel-2
/// internet -0.3 [f]-> blog                    (leads nowhere)
/// ```
///
/// The measure is 0.9 * 0.5 + 0.2 = 0.65 before any fix.
struct Tiny {
    graph: AttackGraph,
    goals: Vec<Vec<NodeId>>,
}

fn tiny() -> Tiny {
    let mut builder = GraphBuilder::new();
    let asset = |builder: &mut GraphBuilder, name: &str, jewel: bool| {
        builder.asset(AssetInfo {
            key: AssetKey::from_stored(format!("host:{name}")),
            name: name.to_string(),
            kind: AssetKind::Host,
            criticality: jewel.then_some(Criticality::CrownJewel),
        })
    };
    let web = asset(&mut builder, "web", false);
    let vpn = asset(&mut builder, "vpn", false);
    let blog = asset(&mut builder, "blog", false);
    let jewel_1 = asset(&mut builder, "jewel-1", true);
    let jewel_2 = asset(&mut builder, "jewel-2", true);
    let web = builder.node_of(web, Capability::ExecuteUser);
    let vpn = builder.node_of(vpn, Capability::ExecuteUser);
    let blog = builder.node_of(blog, Capability::ExecuteUser);
    let jewel_1 = builder.node_of(jewel_1, Capability::Read);
    let jewel_2 = builder.node_of(jewel_2, Capability::Read);

    let internet = AttackGraph::INTERNET;
    for (from, to, probability, fix) in [
        (internet, web, 0.9, "a"),
        (web, jewel_1, 0.5, "b"),
        (internet, vpn, 0.4, "c"),
        (vpn, jewel_1, 1.0, "d"),
        (internet, jewel_2, 0.2, "e"),
        (internet, blog, 0.3, "f"),
    ] {
        builder.edge(
            from,
            to,
            NewEdge {
                kind: EdgeKind::Exploit,
                technique: None,
                probability,
                evidence: Evidence::Observed,
                fixes: vec![FixRef::Finding {
                    fingerprint: fix.to_string(),
                }],
            },
        );
    }
    let graph = builder.build();
    let goals = graph.crown_jewel_goals().into_iter().map(|(_, goals)| goals).collect();
    Tiny { graph, goals }
}

impl Tiny {
    fn fix(&self, name: &str) -> FixId {
        let position = self
            .graph
            .fixes
            .iter()
            .position(|fix| matches!(fix, FixRef::Finding { fingerprint } if fingerprint == name))
            .expect("the tiny graph has the fix");
        position as FixId
    }

    fn candidate(&self, key: &str, fixes: &[&str], cvss: Option<f64>, epss: Option<f64>, kev: bool) -> Candidate {
        Candidate {
            key: key.to_string(),
            fixes: fixes.iter().map(|name| self.fix(name)).collect(),
            cvss,
            epss,
            kev,
            plan_rank: 0,
            closes: Vec::new(),
            effort: 1.0,
        }
    }

    fn instance(&self, candidates: Vec<Candidate>) -> Instance {
        Instance {
            model: SuccessModel::new(&self.graph, &self.goals),
            candidates,
            finding_risk: Vec::new(),
        }
    }

    /// In ctem's order: bravo cuts both last steps to jewel-1 (0.65 to
    /// 0.2), charlie the only path to jewel-2 (to 0.45), alpha the most
    /// likely first step (to 0.4 + 0.2 = 0.6), delta the other first step
    /// (nothing alone).
    fn four(&self) -> Instance {
        self.instance(vec![
            self.candidate("bravo", &["b", "d"], Some(5.0), Some(0.9), false),
            self.candidate("charlie", &["e"], Some(7.0), Some(0.5), true),
            self.candidate("alpha", &["a"], Some(9.8), Some(0.01), false),
            self.candidate("delta", &["c"], None, None, false),
        ])
    }
}

fn close(actual: f64, expected: f64) -> bool {
    (actual - expected).abs() < 1e-6
}

#[test]
fn success_sums_most_likely_paths() {
    let tiny = tiny();
    let model = SuccessModel::new(&tiny.graph, &tiny.goals);

    let per_jewel = model.per_crown_jewel(&vec![false; model.edge_count()]);

    assert_eq!(per_jewel.len(), 2);
    assert!(close(per_jewel[0], 0.45), "jewel-1: {}", per_jewel[0]);
    assert!(close(per_jewel[1], 0.2), "jewel-2: {}", per_jewel[1]);
}

#[test]
fn success_keeps_only_path_edges() {
    let tiny = tiny();
    let model = SuccessModel::new(&tiny.graph, &tiny.goals);

    assert_eq!(model.edge_count(), 5, "the edge to the blog leads to no crown jewel");
    assert!(model.edges_of(tiny.fix("f")).is_empty());
    assert_eq!(model.edges_of(tiny.fix("a")).len(), 1);
}

#[test]
fn success_falls_back_to_next_path() {
    let tiny = tiny();
    let model = SuccessModel::new(&tiny.graph, &tiny.goals);

    let without_web = model.success(&model.removed_by([tiny.fix("a")]));
    let without_both = model.success(&model.removed_by([tiny.fix("a"), tiny.fix("c")]));

    assert!(close(without_web, 0.4 + 0.2), "{without_web}");
    assert!(close(without_both, 0.2), "{without_both}");
}

#[test]
fn success_is_zero_when_cut() {
    let tiny = tiny();
    let model = SuccessModel::new(&tiny.graph, &tiny.goals);

    let fixes = ["b", "d", "e"].map(|name| tiny.fix(name));

    assert_eq!(model.success(&model.removed_by(fixes)), 0.0);
}

#[test]
fn most_likely_edges_follow_fixes() {
    let tiny = tiny();
    let model = SuccessModel::new(&tiny.graph, &tiny.goals);
    let edges_of = |names: &[&str]| -> Vec<u32> {
        let mut edges: Vec<u32> = names
            .iter()
            .flat_map(|name| model.edges_of(tiny.fix(name)).to_vec())
            .collect();
        edges.sort_unstable();
        edges
    };

    let before = model.most_likely_edges(&vec![false; model.edge_count()]);
    let without_web = model.most_likely_edges(&model.removed_by([tiny.fix("a")]));
    let all_cut = model.most_likely_edges(&model.removed_by(["b", "d", "e"].map(|name| tiny.fix(name))));

    assert_eq!(before, edges_of(&["a", "b", "e"]));
    assert_eq!(without_web, edges_of(&["c", "d", "e"]));
    assert!(all_cut.is_empty());
}

#[test]
fn orderings_pick_by_their_signal() {
    let tiny = tiny();
    let instance = tiny.four();
    let keys = |ordering| -> Vec<&str> {
        instance
            .order(ordering)
            .iter()
            .map(|&index| instance.candidates[index].key.as_str())
            .collect()
    };

    assert_eq!(keys(Ordering::Ctem), ["bravo", "charlie", "alpha", "delta"]);
    assert_eq!(keys(Ordering::CvssFirst), ["alpha", "charlie", "bravo", "delta"]);
    assert_eq!(keys(Ordering::EpssFirst), ["bravo", "charlie", "alpha", "delta"]);
    assert_eq!(keys(Ordering::KevFirst), ["charlie", "alpha", "bravo", "delta"]);
}

#[test]
fn orderings_break_ties_by_key() {
    let tiny = tiny();
    let instance = tiny.instance(vec![
        tiny.candidate("zulu", &["a"], Some(9.8), None, false),
        tiny.candidate("yankee", &["e"], Some(9.8), None, false),
    ]);

    assert_eq!(instance.order(Ordering::CvssFirst), [1, 0]);
    assert_eq!(instance.order(Ordering::EpssFirst), [1, 0]);
}

#[test]
fn removed_share_per_budget() {
    let tiny = tiny();
    let instance = tiny.four();

    let share = |ordering, k| instance.removed_share(&instance.order(ordering), k);

    assert!(close(share(Ordering::Ctem, 1), 0.45 / 0.65));
    assert!(close(share(Ordering::CvssFirst, 1), 0.05 / 0.65));
    assert!(close(share(Ordering::KevFirst, 1), 0.2 / 0.65));
    assert!(close(share(Ordering::CvssFirst, 2), 0.25 / 0.65));
    assert!(close(share(Ordering::Ctem, 2), 1.0));
    assert!(
        close(share(Ordering::Ctem, 10), 1.0),
        "a budget above the actions takes them all"
    );
}

#[test]
fn optimum_of_one_action() {
    let tiny = tiny();
    let instance = tiny.four();

    let best = optimum(&instance, 1, 1_000).expect("the search is small");

    assert!(close(best.success, 0.2), "{}", best.success);
    assert_eq!(best.picks, [0], "bravo");
}

#[test]
fn optimum_finds_complementary_pair() {
    // Alone, delta removes nothing and charlie the most; together, alpha
    // and delta cut every path to jewel-1, which leaves 0.2 where the pair
    // with charlie leaves 0.4.
    let tiny = tiny();
    let instance = tiny.instance(vec![
        tiny.candidate("alpha", &["a"], None, None, false),
        tiny.candidate("delta", &["c"], None, None, false),
        tiny.candidate("charlie", &["e"], None, None, false),
    ]);

    let best = optimum(&instance, 2, 1_000).expect("the search is small");

    assert!(close(best.success, 0.2), "{}", best.success);
    assert_eq!(best.picks, [0, 1]);
}

#[test]
fn optimum_with_zero_budget() {
    let tiny = tiny();
    let instance = tiny.four();

    let best = optimum(&instance, 0, 1_000).expect("nothing to search");

    assert!(close(best.success, 0.65));
    assert!(best.picks.is_empty());
}

#[test]
fn optimum_drops_dominated_actions() {
    // echo removes a subset of bravo's edges, so only bravo is tried.
    let tiny = tiny();
    let instance = tiny.instance(vec![
        tiny.candidate("echo", &["b"], None, None, false),
        tiny.candidate("bravo", &["b", "d"], None, None, false),
        tiny.candidate("foxtrot", &["f"], None, None, false),
    ]);

    let best = optimum(&instance, 1, 1_000).expect("the search is small");

    assert_eq!(best.picks, [1]);
}

#[test]
fn optimum_reports_unknown_at_limit() {
    let tiny = tiny();
    let instance = tiny.four();

    assert_eq!(optimum(&instance, 2, 1), None);
}

/// A random graph of `nodes` nodes in layers, with one crown jewel, and
/// actions that each apply one or two random fixes.
fn random_instance(seed: u64) -> Instance {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut next = move |bound: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % bound
    };

    let mut builder = GraphBuilder::new();
    let mut nodes = vec![AttackGraph::INTERNET];
    for index in 0..8 {
        let asset = builder.asset(AssetInfo {
            key: AssetKey::from_stored(format!("host:n{index}")),
            name: format!("n{index}"),
            kind: AssetKind::Host,
            criticality: (index == 7).then_some(Criticality::CrownJewel),
        });
        nodes.push(builder.node_of(asset, Capability::ExecuteUser));
    }
    for _ in 0..20 {
        let from = next(8) as usize;
        let to = from + 1 + next((8 - from) as u64) as usize;
        builder.edge(
            nodes[from],
            nodes[to],
            NewEdge {
                kind: EdgeKind::Exploit,
                technique: None,
                probability: (1 + next(9)) as f32 / 10.0,
                evidence: Evidence::Observed,
                fixes: vec![FixRef::Finding {
                    fingerprint: format!("fix{}", next(12)),
                }],
            },
        );
    }
    let graph = builder.build();
    let goals: Vec<Vec<NodeId>> = graph.crown_jewel_goals().into_iter().map(|(_, goals)| goals).collect();
    let fix_count = graph.fixes.len() as u64;
    let candidates = (0..8)
        .map(|index| Candidate {
            key: format!("action{index}"),
            fixes: (0..1 + next(2)).map(|_| next(fix_count) as FixId).collect(),
            cvss: Some(next(100) as f64 / 10.0),
            epss: Some(next(1000) as f64 / 1000.0),
            kev: next(4) == 0,
            plan_rank: index,
            closes: Vec::new(),
            effort: (1 + next(4)) as f64,
        })
        .collect();
    Instance {
        model: SuccessModel::new(&graph, &goals),
        candidates,
        finding_risk: Vec::new(),
    }
}

#[test]
fn optimum_never_below_orderings() {
    for seed in 1..=40 {
        let instance = random_instance(seed);
        for k in [1, 2, 3, 5] {
            let best = optimum(&instance, k, 100_000).expect("the search is small");
            let picked = instance.success_after(&best.picks);
            assert!(close(picked, best.success), "seed {seed}, k {k}: picks give {picked}");
            assert!(best.picks.len() <= k, "seed {seed}, k {k}: {:?}", best.picks);
            for ordering in Ordering::ALL {
                let order = instance.order(ordering);
                let after = instance.success_after(&order[..k.min(order.len())]);
                assert!(
                    best.success <= after + 1e-9,
                    "seed {seed}, k {k}, {}: optimum {} above {after}",
                    ordering.name(),
                    best.success
                );
            }
        }
    }
}

#[test]
fn optimum_matches_exhaustive_search() {
    for seed in 1..=20 {
        let instance = random_instance(seed);
        let count = instance.candidates.len();
        for k in [1, 2, 3] {
            let best = optimum(&instance, k, 100_000).expect("the search is small");
            let mut lowest = f64::INFINITY;
            for mask in 0u32..(1 << count) {
                if mask.count_ones() as usize <= k {
                    let picks: Vec<usize> = (0..count).filter(|bit| mask & (1 << bit) != 0).collect();
                    lowest = lowest.min(instance.success_after(&picks));
                }
            }
            assert!(
                close(best.success, lowest),
                "seed {seed}, k {k}: {} vs {lowest}",
                best.success
            );
        }
    }
}

#[test]
fn intel_of_loads_generated_signals() {
    let environment = ctem_graph::generate::generate(&ctem_graph::generate::GenerateOptions::new(3, 1_000));

    let intel = intel_of(&environment).expect("the generated feeds parse");

    for (finding, signals) in environment.findings.iter().zip(&environment.signals) {
        for cve in finding.vulnerability_ids.iter().filter_map(|id| id.as_cve()) {
            assert_eq!(intel.kev(cve).is_some(), signals.kev, "{cve}");
            let epss = intel.epss(cve).map(|record| record.score.epss);
            assert_eq!(epss.is_some(), signals.epss.is_some(), "{cve}");
            if let (Some(loaded), Some(generated)) = (epss, signals.epss) {
                assert!((loaded - generated).abs() < 1e-5, "{cve}: {loaded} vs {generated}");
            }
        }
    }
}

/// Findings of 50, 30 and 20 points: alpha closes the first two, bravo
/// the last two. Alpha alone closes 80 of 100 points; with bravo, the
/// finding both close counts once, so all 100.
#[test]
fn risk_share_counts_each_finding_once() {
    let mut instance = tiny().four();
    instance.finding_risk = vec![50.0, 30.0, 20.0];
    instance.candidates[0].closes = vec![0, 1];
    instance.candidates[1].closes = vec![1, 2];
    let order = [0, 1, 2, 3];
    assert!((instance.risk_share(&order, 1) - 0.8).abs() < 1e-12);
    assert!((instance.risk_share(&order, 2) - 1.0).abs() < 1e-12);
    assert!((instance.risk_share(&order, 10) - 1.0).abs() < 1e-12);
    assert_eq!(instance.risk_share(&order, 0), 0.0);
    instance.finding_risk = vec![0.0; 3];
    assert_eq!(instance.risk_share(&order, 2), 0.0);
}

/// Returns the four actions of [`Tiny::four`] with efforts: bravo 3, the
/// others 1.
fn four_with_efforts(tiny: &Tiny) -> Instance {
    let mut instance = tiny.four();
    for (candidate, effort) in instance.candidates.iter_mut().zip([3.0, 1.0, 1.0, 1.0]) {
        candidate.effort = effort;
    }
    instance
}

#[test]
fn within_effort_skips_what_no_longer_fits() {
    let tiny = tiny();
    let instance = four_with_efforts(&tiny);
    let ctem = instance.order(Ordering::Ctem);

    // bravo (3) does not fit in 2, while charlie and alpha (1 each) do.
    assert_eq!(instance.within_effort(&ctem, 2.0), [1, 2]);
    assert!(close(instance.share_removed_by(&[1, 2]), 0.25 / 0.65));
    assert_eq!(instance.within_effort(&ctem, 3.0), [0]);
    assert_eq!(instance.within_effort(&ctem, 4.0), [0, 1]);
    assert_eq!(instance.within_effort(&ctem, 0.5), Vec::<usize>::new());
    assert_eq!(instance.within_effort(&ctem, 100.0), [0, 1, 2, 3]);
}

#[test]
fn optimum_within_effort_by_hand() {
    let tiny = tiny();
    let instance = four_with_efforts(&tiny);

    // Within 2 units, alpha and delta cut both paths to jewel-1 (0.2 left).
    // Charlie and alpha leave 0.4, charlie and delta 0.45.
    let best = optimum_within_effort(&instance, 2.0, 1_000).expect("the search is small");
    assert!(close(best.success, 0.2), "{}", best.success);
    assert_eq!(best.picks, [2, 3]);

    // Within 3 units, charlie, alpha and delta remove everything, where
    // bravo alone leaves 0.2.
    let best = optimum_within_effort(&instance, 3.0, 1_000).expect("the search is small");
    assert!(close(best.success, 0.0), "{}", best.success);
    assert_eq!(best.picks, [1, 2, 3]);

    let none = optimum_within_effort(&instance, 0.5, 1_000).expect("nothing fits");
    assert!(close(none.success, 0.65));
    assert!(none.picks.is_empty());
}

#[test]
fn zero_budget_takes_free_actions() {
    let tiny = tiny();
    let mut instance = four_with_efforts(&tiny);
    instance.candidates[1].effort = 0.0;

    assert_eq!(instance.within_effort(&instance.order(Ordering::Ctem), 0.0), [1]);
    let best = optimum_within_effort(&instance, 0.0, 1_000).expect("the search is small");
    assert_eq!(best.picks, [1], "charlie costs nothing");
    assert!(close(best.success, 0.45), "{}", best.success);
    let none = optimum_within_effort(&instance, f64::NAN, 1_000).expect("nothing fits");
    assert!(none.picks.is_empty());
}

#[test]
fn optimum_within_effort_keeps_cheaper_subset_actions() {
    // echo removes a subset of bravo's edges at less effort, so it stays
    // in the search: within 1 unit it is the only action that fits.
    let tiny = tiny();
    let mut instance = tiny.instance(vec![
        tiny.candidate("echo", &["b"], None, None, false),
        tiny.candidate("bravo", &["b", "d"], None, None, false),
    ]);
    instance.candidates[1].effort = 2.0;

    let best = optimum_within_effort(&instance, 1.0, 1_000).expect("the search is small");

    assert_eq!(best.picks, [0]);
    assert!(close(best.success, 0.4 + 0.2), "{}", best.success);
}

#[test]
fn optimum_within_effort_matches_exhaustive_search() {
    for seed in 1..=20 {
        let instance = random_instance(seed);
        let count = instance.candidates.len();
        for budget in [1.0, 2.0, 3.0, 5.0, 8.0] {
            let best = optimum_within_effort(&instance, budget, 100_000).expect("the search is small");
            let spent: f64 = best.picks.iter().map(|&pick| instance.candidates[pick].effort).sum();
            assert!(spent <= budget, "seed {seed}, budget {budget}: {spent} spent");
            let mut lowest = f64::INFINITY;
            for mask in 0u32..(1 << count) {
                let picks: Vec<usize> = (0..count).filter(|bit| mask & (1 << bit) != 0).collect();
                let cost: f64 = picks.iter().map(|&pick| instance.candidates[pick].effort).sum();
                if cost <= budget {
                    lowest = lowest.min(instance.success_after(&picks));
                }
            }
            assert!(
                close(best.success, lowest),
                "seed {seed}, budget {budget}: {} vs {lowest}",
                best.success
            );
            for ordering in Ordering::ALL {
                let picks = instance.within_effort(&instance.order(ordering), budget);
                assert!(best.success <= instance.success_after(&picks) + 1e-9);
            }
        }
    }
}

#[test]
fn run_reports_both_budgets() {
    let settings = Settings {
        seeds: vec![2],
        sizes: vec![1_000],
        budgets: vec![1, 3],
        effort_budgets: vec![2.0, 10.0],
        search_limit: 20_000,
        crown_jewel_value: crate::actions::CROWN_JEWEL_VALUE,
    };

    let report = run(&settings).expect("the generated feeds parse");

    assert_eq!(report.environments.len(), 1, "seed 2 reaches a crown jewel");
    let result = &report.environments[0];
    for shares in [&result.shares, &result.effort_shares] {
        assert_eq!(shares.len(), Ordering::ALL.len());
        for row in shares {
            assert_eq!(row.len(), 2);
            assert!(row.iter().all(|share| (0.0..=1.0).contains(share)), "{row:?}");
        }
    }
    for row in &result.shares {
        assert!(row[0] <= row[1] + 1e-12, "a third action never removes less: {row:?}");
    }
    for (ctem, best) in result.effort_shares[0].iter().zip(&result.effort_optimum) {
        if let Some(best) = best {
            assert!(ctem <= &(best + 1e-9), "ctem {ctem} above the optimum {best}");
        }
    }
    let text = markdown(&report);
    assert!(text.contains("| ordering | k = 1 | k = 3 |"), "{text}");
    assert!(text.contains("| ordering | 2 units | 10 units |"), "{text}");
    assert!(text.contains("| effort units | solved |"), "{text}");
}
