//! Writes a generated environment as a ctem-native JSON report, which
//! `ctem assess` and `ctem parse` read like any scanner report.
//!
//! ```text
//! cargo run --release -p ctem-graph --example generate -- --seed 7 --assets 100000 --output estate.json
//! ctem assess estate.json
//! ```
//!
//! Without `--output` the report goes to standard output. A summary (the
//! record counts and the time taken) goes to standard error.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::process::ExitCode;
use std::time::Instant;

use ctem_graph::generate::{GenerateOptions, generate};

struct Arguments {
    seed: u64,
    assets: usize,
    output: Option<String>,
}

fn parse_arguments() -> Result<Arguments, String> {
    let mut arguments = Arguments {
        seed: 1,
        assets: 10_000,
        output: None,
    };
    let mut words = std::env::args().skip(1);
    while let Some(word) = words.next() {
        let mut value = || words.next().ok_or(format!("{word} needs a value"));
        match word.as_str() {
            "--seed" => arguments.seed = value()?.parse().map_err(|e| format!("invalid --seed: {e}"))?,
            "--assets" => arguments.assets = value()?.parse().map_err(|e| format!("invalid --assets: {e}"))?,
            "--output" => arguments.output = Some(value()?),
            other => {
                return Err(format!(
                    "unknown argument {other:?}; expected --seed, --assets or --output"
                ));
            }
        }
    }
    Ok(arguments)
}

fn main() -> ExitCode {
    let arguments = match parse_arguments() {
        Ok(arguments) => arguments,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };

    let start = Instant::now();
    let environment = generate(&GenerateOptions::new(arguments.seed, arguments.assets));
    let generated = start.elapsed();

    let result = match &arguments.output {
        Some(path) => File::create(path)
            .map_err(|e| format!("cannot create {path}: {e}"))
            .and_then(|file| write(BufWriter::new(file), &environment)),
        None => write(BufWriter::new(std::io::stdout().lock()), &environment),
    };
    if let Err(message) = result {
        eprintln!("error: {message}");
        return ExitCode::FAILURE;
    }

    eprintln!(
        "seed {}: {} assets, {} relationships, {} findings ({} crown jewels); generated in {:.2?}, written in {:.2?}",
        arguments.seed,
        environment.assets.len(),
        environment.relationships.len(),
        environment.findings.len(),
        environment.crown_jewels().count(),
        generated,
        start.elapsed() - generated,
    );
    ExitCode::SUCCESS
}

fn write(mut writer: impl Write, environment: &ctem_graph::generate::Environment) -> Result<(), String> {
    serde_json::to_writer(&mut writer, &environment.native_document()).map_err(|e| format!("write failed: {e}"))?;
    writer.flush().map_err(|e| format!("write failed: {e}"))
}
