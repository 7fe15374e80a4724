//! Prints the environment-level evaluation of the remediation ranking as
//! Markdown tables (docs/prioritization.md, section "Environment-level
//! evaluation").
//!
//! ```text
//! cargo run --release -p ctem-engine --example evaluate [-- SIZES [SEEDS [VALUE]]]
//! ```
//!
//! `SIZES` is a comma-separated list of asset counts, such as
//! `1000,2000,5000`; the default is that of `Settings::default`. Sizes below
//! the generator's minimum of 1,000 are raised to it. `SEEDS` is a range of
//! generator seeds such as `31-60`; the default is 1 to 10. Seeds above 30
//! give estates that no constant of the ranking was chosen on. `VALUE` is
//! the risk points per unit of attacker success that the ranking gives an
//! action, as `crown_jewel_value` in the `[prioritization]` table of the
//! configuration sets it. The default is 10000.

use std::process::ExitCode;

const USAGE: &str = "SIZES: asset counts such as 1000,2000 (default 1000,2000)
SEEDS: a range of generator seeds such as 31-60 (default 1-10)
VALUE: risk points per unit of attacker success (default 10000)";

use ctem_engine::evaluation::{Settings, markdown, run};
use ctem_engine::prioritization::{MAX_CROWN_JEWEL_VALUE, check_crown_jewel_value};

fn main() -> ExitCode {
    let mut settings = Settings::default();
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    if arguments
        .iter()
        .any(|argument| argument == "-h" || argument == "--help")
    {
        println!("usage: evaluate [SIZES [SEEDS [VALUE]]]\n\n{USAGE}");
        return ExitCode::SUCCESS;
    }
    let parsed = (|| -> Result<(), String> {
        if let Some(sizes) = arguments.first() {
            settings.sizes = parse_sizes(sizes)?;
        }
        if let Some(seeds) = arguments.get(1) {
            settings.seeds = parse_seeds(seeds)?;
        }
        if let Some(value) = arguments.get(2) {
            let number = value
                .parse::<f64>()
                .map_err(|_| format!("invalid VALUE {value:?}: expected a number of risk points such as 10000"))?;
            settings.crown_jewel_value = check_crown_jewel_value(number).map_err(|_| {
                format!(
                    "invalid VALUE {value}: expected a number of risk points from 0 to {MAX_CROWN_JEWEL_VALUE}, \
                     as crown_jewel_value in the configuration"
                )
            })?;
        }
        if arguments.len() > 3 {
            return Err(format!(
                "{} arguments given: expected at most SIZES, SEEDS and VALUE",
                arguments.len()
            ));
        }
        Ok(())
    })();
    if let Err(message) = parsed {
        eprintln!("error: {message}");
        return ExitCode::from(2);
    }

    match run(&settings) {
        Ok(report) => {
            print!("{}", markdown(&report));
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn parse_sizes(text: &str) -> Result<Vec<usize>, String> {
    text.split(',')
        .enumerate()
        .map(|(index, part)| {
            part.trim().parse::<usize>().map_err(|error| {
                format!(
                    "invalid size {part:?} at position {} of SIZES: {error}; expected asset counts such as 1000,2000",
                    index + 1
                )
            })
        })
        .collect()
}

fn parse_seeds(text: &str) -> Result<Vec<u64>, String> {
    let invalid = |reason: String| format!("invalid SEEDS {text:?}: {reason}; expected a range such as 11-30");
    if text.trim_start().starts_with('-') {
        return Err(invalid("seeds cannot be negative".to_string()));
    }
    let (first, last) = text.split_once('-').unwrap_or((text, text));
    let first: u64 = first
        .trim()
        .parse()
        .map_err(|error| invalid(format!("first seed: {error}")))?;
    let last: u64 = last
        .trim()
        .parse()
        .map_err(|error| invalid(format!("last seed: {error}")))?;
    if first > last {
        return Err(invalid("the first seed is above the last".to_string()));
    }
    Ok((first..=last).collect())
}
