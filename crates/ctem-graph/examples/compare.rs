//! Times ctem's graph queries on a generated estate and writes its edge
//! list for `scripts/networkx-compare.py`, which runs the same queries
//! with networkx:
//!
//! ```text
//! cargo run --release -p ctem-graph --example compare -- --seed 7 --assets 100000 --output /tmp/edges.json
//! python3 scripts/networkx-compare.py /tmp/edges.json
//! ```
//!
//! The queries: everything reachable from the internet
//! (`analysis::blast_radius`), the nodes with a path to a crown-jewel goal
//! (`analysis::reaching`), the assets with a path to a crown jewel
//! (`analysis::exposure`), and the most likely path from the internet to a
//! crown-jewel goal (`analysis::most_likely_path`). It prints one JSON
//! object with the results and the times in seconds.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::process::ExitCode;
use std::time::Instant;

use ctem_graph::generate::{GenerateOptions, generate};
use ctem_graph::{AttackGraph, analysis, export, rules};

fn main() -> ExitCode {
    let (seed, assets, output) = match parse_arguments() {
        Ok(arguments) => arguments,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };

    let start = Instant::now();
    let environment = generate(&GenerateOptions::new(seed, assets));
    let generate_seconds = start.elapsed().as_secs_f64();

    let start = Instant::now();
    let findings = environment.graph_findings();
    let graph = rules::derive(&environment.input(&findings));
    let derive_seconds = start.elapsed().as_secs_f64();

    let list = export::edge_list(&graph);
    let written = File::create(&output)
        .map_err(|e| format!("cannot create {output}: {e}"))
        .and_then(|file| {
            let mut writer = BufWriter::new(file);
            serde_json::to_writer(&mut writer, &list).map_err(|e| format!("write failed: {e}"))?;
            writer.flush().map_err(|e| format!("write failed: {e}"))
        });
    if let Err(message) = written {
        eprintln!("error: {message}");
        return ExitCode::FAILURE;
    }

    let goals: Vec<_> = graph
        .crown_jewel_goals()
        .into_iter()
        .flat_map(|(_, nodes)| nodes)
        .collect();
    let start = Instant::now();
    let radius = analysis::blast_radius(&graph, AttackGraph::INTERNET);
    let reach_seconds = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let reaching = analysis::reaching(&graph, &goals);
    let reverse_seconds = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let exposure = analysis::exposure(&graph);
    let exposure_seconds = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let path = analysis::most_likely_path(&graph, AttackGraph::INTERNET, &goals);
    let path_seconds = start.elapsed().as_secs_f64();

    let path_nodes = path.as_ref().map(|path| {
        let mut nodes = vec![AttackGraph::INTERNET];
        nodes.extend(path.edges.iter().map(|&edge| graph.edge(edge).to));
        nodes
    });
    let report = serde_json::json!({
        "seed": seed,
        "assets": assets,
        "nodes": graph.node_count(),
        "edges": graph.edge_count(),
        "goals": goals.len(),
        "reachable_from_internet": radius.nodes.len(),
        "with_path_to_goal": reaching.iter().filter(|&&reached| reached).count(),
        "assets_with_path_to_goal": exposure.assets_with_path,
        "most_likely_path": path_nodes.map(|nodes| serde_json::json!({
            "path": nodes,
            "probability": path.as_ref().map(|p| p.probability),
        })),
        "seconds": {
            "generate": generate_seconds,
            "derive": derive_seconds,
            "reachability": reach_seconds,
            "reverse_reachability": reverse_seconds,
            "exposure": exposure_seconds,
            "most_likely_path": path_seconds,
        },
    });
    println!("{report:#}");
    ExitCode::SUCCESS
}

fn parse_arguments() -> Result<(u64, usize, String), String> {
    let (mut seed, mut assets, mut output) = (1, 10_000, "edges.json".to_string());
    let mut words = std::env::args().skip(1);
    while let Some(word) = words.next() {
        let mut value = || words.next().ok_or(format!("{word} needs a value"));
        match word.as_str() {
            "--seed" => seed = value()?.parse().map_err(|e| format!("invalid --seed: {e}"))?,
            "--assets" => assets = value()?.parse().map_err(|e| format!("invalid --assets: {e}"))?,
            "--output" => output = value()?,
            other => {
                return Err(format!(
                    "unknown argument {other:?}; expected --seed, --assets or --output"
                ));
            }
        }
    }
    Ok((seed, assets, output))
}
