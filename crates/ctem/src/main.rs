//! The `ctem` command line: argument parsing and rendering only; the work
//! happens in `ctem-engine` and the crates below it.

// First, so that its macros are in scope in the modules below.
#[macro_use]
mod output;

mod actions;
mod cli;
mod commands;
mod finding;
mod gate;
mod intel;
mod metrics;
mod paths;
mod tickets;
mod triage;

use std::process::ExitCode;

use clap::Parser;

/// mimalloc instead of the system allocator: an assessment allocates and
/// frees millions of small strings, and with glibc's allocator a quarter
/// of an `assess` run was spent in malloc and free (perf, 100,000 findings).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exit code of a run in which a file failed while the others were processed.
pub const EXIT_FILE_FAILED: u8 = 1;
/// Exit code of a usage, configuration or storage error: nothing was done.
pub const EXIT_USAGE: u8 = 2;
/// Exit code of `ctem gate` when its policy denies the run.
pub const EXIT_GATE_DENIED: u8 = 1;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    init_logging(cli.verbose);

    match commands::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("error: {}", error_text(&error));
            ExitCode::from(EXIT_USAGE)
        }
    }
}

/// Joins the error and its causes with ": ", leaving out a cause whose text
/// the message already contains (many errors print their source themselves).
fn error_text(error: &anyhow::Error) -> String {
    let mut text = error.to_string();
    for cause in error.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
    }
    text
}

/// Logs to stderr at `warn` (or `debug` with `-v`), overridden by `CTEM_LOG`
/// with the `tracing-subscriber` filter syntax.
fn init_logging(verbose: bool) {
    let default = if verbose { "debug" } else { "warn" };
    let filter = tracing_subscriber::EnvFilter::try_from_env("CTEM_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .init();
}
