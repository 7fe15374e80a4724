//! Prints the environment-level evaluation of the remediation ranking as
//! Markdown tables (docs/prioritization.md, section "Environment-level
//! evaluation").
//!
//! ```text
//! cargo run --release -p ctem-engine --example evaluate [-- SIZES]
//! ```
//!
//! `SIZES` is a comma-separated list of asset counts, such as
//! `1000,2000,5000`; the default is that of `Settings::default`. Sizes below
//! the generator's minimum of 1,000 are raised to it.

use std::process::ExitCode;

use ctem_engine::evaluation::{Settings, markdown, run};

fn main() -> ExitCode {
    let mut settings = Settings::default();
    if let Some(sizes) = std::env::args().nth(1) {
        match parse_sizes(&sizes) {
            Ok(parsed) => settings.sizes = parsed,
            Err(message) => {
                eprintln!("error: {message}");
                return ExitCode::from(2);
            }
        }
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
