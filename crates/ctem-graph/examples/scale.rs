//! Times each step of attack path analysis on a generated estate and
//! prints the figures of BENCHMARKS.md:
//!
//! ```text
//! cargo run --release -p ctem-graph --example scale -- --assets 1000000 --seed 7 --crown-jewels 25
//! ```
//!
//! The generator marks about one data store in a thousand assets a crown
//! jewel (1,037 at a million assets). A program names far fewer, and every
//! per-crown-jewel analysis costs a pass over the graph, so `--crown-jewels
//! N` keeps the first N of them and makes the others `high` (default: keep
//! them all).
//!
//! Steps: deriving the graph from the model (`rules::derive`), exposure,
//! the blast radius of the internet node, the most likely path and the 5
//! best paths to every crown jewel, the dominator tree, the minimal fix set
//! of every crown jewel, and the full `analysis::analyze` on both cores. Peak
//! memory is the process's high-water mark (`VmHWM` of /proc/self/status,
//! Linux only), read after generating the estate and at the end.

use std::process::ExitCode;
use std::time::Instant;

use ctem_graph::analysis::{self, AnalysisOptions, DominatorTree};
use ctem_graph::generate::{GenerateOptions, generate};
use ctem_graph::{AttackGraph, NodeId, rules};
use ctem_model::Criticality;

fn main() -> ExitCode {
    let (seed, assets, crown_jewels) = match parse_arguments() {
        Ok(arguments) => arguments,
        Err(message) => {
            eprintln!("error: {message}\nusage: scale --assets N [--seed S] [--crown-jewels N]");
            return ExitCode::from(2);
        }
    };

    let mut environment = generate(&GenerateOptions::new(seed, assets));
    if let Some(kept) = crown_jewels {
        environment
            .assets
            .iter_mut()
            .filter(|asset| asset.criticality == Some(Criticality::CrownJewel))
            .skip(kept)
            .for_each(|asset| asset.criticality = Some(Criticality::High));
    }
    let generated_peak = peak_memory_mib();
    let findings = environment.graph_findings();
    let input = environment.input(&findings);

    let graph = timed("derive", || rules::derive(&input));
    println!(
        "estate: {} assets, {} relationships, {} findings; graph: {} nodes, {} edges, {} fixes",
        environment.assets.len(),
        environment.relationships.len(),
        environment.findings.len(),
        graph.node_count(),
        graph.edge_count(),
        graph.fixes.len()
    );

    let exposure = timed("exposure", || analysis::exposure(&graph));
    println!(
        "  {} of {} crown jewels reachable, {} of {} assets with a path to one",
        exposure.reachable_crown_jewels.len(),
        exposure.crown_jewels,
        exposure.assets_with_path,
        exposure.assets
    );
    let reached = timed("blast radius of the internet", || {
        analysis::blast_radius(&graph, AttackGraph::INTERNET)
    });
    println!("  {} nodes reached", reached.nodes.len());

    let goals: Vec<Vec<NodeId>> = graph.crown_jewel_goals().into_iter().map(|(_, nodes)| nodes).collect();
    let found = timed("most likely path to every crown jewel", || {
        goals
            .iter()
            .filter(|targets| analysis::most_likely_path(&graph, AttackGraph::INTERNET, targets).is_some())
            .count()
    });
    println!("  {found} of {} crown jewels have a path", goals.len());
    let paths = timed("5 best paths to every crown jewel", || {
        goals
            .iter()
            .map(|targets| analysis::k_best_paths(&graph, AttackGraph::INTERNET, targets, 5).len())
            .sum::<usize>()
    });
    println!("  {paths} paths");
    timed("dominator tree from the internet", || {
        DominatorTree::new(&graph, AttackGraph::INTERNET)
    });
    let fixes = timed("minimal fix set of every crown jewel", || {
        goals
            .iter()
            .map(|targets| {
                analysis::minimal_fix_set(&graph, AttackGraph::INTERNET, targets, &|_| 1.0)
                    .fixes
                    .len()
            })
            .sum::<usize>()
    });
    println!("  {fixes} fixes in all");
    let full = timed("full analysis (analyze, every core)", || {
        analysis::analyze(&graph, &AnalysisOptions::default())
    });
    println!("  {} crown jewels analyzed", full.crown_jewels.len());

    println!(
        "peak memory: {} MiB after generating the estate, {} MiB at the end",
        generated_peak.map_or("unknown".to_string(), |mib| mib.to_string()),
        peak_memory_mib().map_or("unknown".to_string(), |mib| mib.to_string())
    );
    ExitCode::SUCCESS
}

/// Runs `step` and prints how long it took.
fn timed<T>(name: &str, step: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let result = step();
    println!("{name}: {:.3} s", start.elapsed().as_secs_f64());
    result
}

/// The peak resident set of this process in MiB, from /proc/self/status.
fn peak_memory_mib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}

fn parse_arguments() -> Result<(u64, usize, Option<usize>), String> {
    let mut seed = 7;
    let mut assets = None;
    let mut crown_jewels = None;
    let mut arguments = std::env::args().skip(1);
    while let Some(argument) = arguments.next() {
        let mut value = |name: &str| arguments.next().ok_or(format!("{name} needs a value"));
        match argument.as_str() {
            "--seed" => seed = value("--seed")?.parse().map_err(|e| format!("invalid --seed: {e}"))?,
            "--assets" => {
                assets = Some(
                    value("--assets")?
                        .parse()
                        .map_err(|e| format!("invalid --assets: {e}"))?,
                )
            }
            "--crown-jewels" => {
                crown_jewels = Some(
                    value("--crown-jewels")?
                        .parse()
                        .map_err(|e| format!("invalid --crown-jewels: {e}"))?,
                )
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok((seed, assets.ok_or("--assets is required")?, crown_jewels))
}
