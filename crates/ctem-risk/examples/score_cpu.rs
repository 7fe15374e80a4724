//! Scores the million findings of the `enrich` bench a given number of
//! times, for a measure of CPU time that other processes on the machine
//! disturb less than wall-clock time:
//!
//! ```sh
//! cargo build --release -p ctem-risk --example score_cpu
//! perf stat -e task-clock target/release/examples/score_cpu context 4
//! perf stat -e task-clock target/release/examples/score_cpu context 0
//! ```
//!
//! The first argument is `plain` (an empty context) or `context`, the
//! second the number of rounds. The run with 0 rounds measures generating
//! the workload. So the difference of the two task clocks, divided by the
//! rounds, is the CPU time of one million scorings.

#[path = "../benches/workload/mod.rs"]
mod workload;

use std::time::Instant;

use workload::{contexts, findings, intel, score_million};

/// The allocator of the `ctem` binary.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let mut args = std::env::args().skip(1);
    let case = args.next().unwrap_or_default();
    let rounds = args.next().and_then(|text| text.parse::<usize>().ok());
    let (in_context, rounds) = match (case.as_str(), rounds) {
        ("plain", Some(rounds)) => (false, rounds),
        ("context", Some(rounds)) => (true, rounds),
        _ => {
            eprintln!("invalid arguments: expected score_cpu plain|context ROUNDS");
            std::process::exit(2);
        }
    };

    let intel = intel();
    let (findings, asset) = findings();
    let contexts = contexts();
    let start = Instant::now();
    let mut total = 0.0;
    for _ in 0..rounds {
        total += score_million(&intel, &findings, &asset, in_context.then_some(contexts.as_slice()));
    }
    println!(
        "{case}: {rounds} rounds in {:.2?} (sum of scores {total:.0})",
        start.elapsed()
    );
}
