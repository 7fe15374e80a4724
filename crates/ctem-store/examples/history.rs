//! Builds a store with a long history and times the reads and writes that
//! `ctem metrics` and `ctem assess` make on it.
//!
//! ```sh
//! cargo build --release -p ctem-store --example history
//! H=target/release/examples/history
//! $H build /tmp/ctem-history/history.db     # 100 runs, 1,000,000 findings; takes minutes
//! $H read /tmp/ctem-history/history.db      # fact_table, run_stats, asset_coverage
//! $H rescan /tmp/ctem-history/history.db /tmp/ctem-history/sample.db
//! $H native /tmp/ctem-history/last-run.json # the last run as a ctem-native report
//! ```
//!
//! `build` records the generated history (see `benches/history/generator.rs`)
//! into a new database, with risk acceptances and false positives set
//! through `Store::triage` along the way. `read` opens the database in a new
//! process and times each read of the metrics twice or more: the first read
//! starts with SQLite's cache empty. `rescan` copies the database
//! and records the last run again, a day later and otherwise unchanged,
//! into the copy, once or more. `native` writes the last run as a ctem-native JSON report,
//! for timing `ctem assess` on the same store. `benches/history.sh` runs them
//! all with `/usr/bin/time`.

#[path = "../benches/history/generator.rs"]
mod generator;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use chrono::Duration as TimeSpan;
use ctem_model::Fingerprint;
use ctem_store::{FindingFilter, Store, TriageAction, TriageRequest};
use generator::{History, RUNS, SEED};

const USAGE: &str = "usage:
  history build DB [RUNS]      generate RUNS runs (default 100) into the new database DB
  history read DB [REPEATS]    time the metrics reads on DB, each REPEATS times (default 3)
  history rescan DB COPY [N]   copy DB to COPY and record the last run again into COPY, N times
                               (default 1), a day apart
  history native OUT [RUNS]    write the last of RUNS runs as a ctem-native JSON report";

/// Runs after which some of the run's new findings get their risk accepted
/// for 30 days; the earlier acceptances end within the history.
const ACCEPT_RUNS: [usize; 4] = [20, 40, 60, 80];
const ACCEPTED_PER_RUN: usize = 50;
/// The run after which some new findings are marked false positives.
const FALSE_POSITIVE_RUN: usize = 50;
const FALSE_POSITIVES: usize = 25;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["build", db] => build(Path::new(db), RUNS),
        ["build", db, runs] => parse_count(runs, "RUNS").and_then(|runs| build(Path::new(db), runs)),
        ["read", db] => read(Path::new(db), 3),
        ["read", db, repeats] => parse_count(repeats, "REPEATS").and_then(|repeats| read(Path::new(db), repeats)),
        ["rescan", db, copy] => rescan(Path::new(db), Path::new(copy), 1),
        ["rescan", db, copy, times] => {
            parse_count(times, "N").and_then(|times| rescan(Path::new(db), Path::new(copy), times))
        }
        ["native", out] => native(Path::new(out), RUNS),
        ["native", out, runs] => parse_count(runs, "RUNS").and_then(|runs| native(Path::new(out), runs)),
        _ => Err(USAGE.to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("history: {message}");
            ExitCode::FAILURE
        }
    }
}

fn parse_count(text: &str, name: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(count) if count > 0 => Ok(count),
        _ => Err(format!("{name} must be a positive number, not {text:?}\n{USAGE}")),
    }
}

fn build(db: &Path, runs: usize) -> Result<(), String> {
    if db.exists() {
        return Err(format!(
            "{} exists; remove it or give another path, because runs are recorded in time order",
            db.display()
        ));
    }
    if runs > RUNS {
        return Err(format!("RUNS must be at most {RUNS}, not {runs}"));
    }
    let mut store = Store::open(db).map_err(|error| error.to_string())?;
    let started = Instant::now();
    let mut history = History::new(SEED);
    let mut recording = Duration::ZERO;

    for run in 0..runs {
        if run > 0 {
            history.advance();
        }
        let generating = Instant::now();
        let input = history.run_input();
        let reports = input.findings.len();
        let generated = generating.elapsed();

        let writing = Instant::now();
        let summary = store.record_run(&input).map_err(|error| error.to_string())?;
        let written = writing.elapsed();
        recording += written;
        drop(input);

        triage(&mut store, &history)?;
        eprintln!(
            "run {:>3}/{runs}: {:>6} reports, seen {:>6}, new {:>5}, still open {:>6}, reopened {:>3}, \
             fixed {:>5}; generated in {:.2} s, recorded in {:.2} s",
            run + 1,
            reports,
            summary.seen,
            summary.new,
            summary.still_open,
            summary.reopened,
            summary.fixed,
            generated.as_secs_f64(),
            written.as_secs_f64(),
        );
    }
    store.wait_for_checkpoint();

    let stored = store
        .count_findings(&FindingFilter::default())
        .map_err(|error| error.to_string())?;
    let expected = history.weakness_count() as u64;
    drop(store);
    let size = file_size(db);
    println!(
        "built {}: {runs} runs, {stored} findings, {:.0} MiB, in {:.0} s ({:.0} s in record_run)",
        db.display(),
        size as f64 / (1024.0 * 1024.0),
        started.elapsed().as_secs_f64(),
        recording.as_secs_f64(),
    );
    if stored != expected {
        return Err(format!(
            "the store has {stored} findings, but the generator made {expected} weaknesses"
        ));
    }
    Ok(())
}

/// Accepts risks and marks false positives among the run's new findings,
/// an hour after the run.
fn triage(store: &mut Store, history: &History) -> Result<(), String> {
    let run = history.run();
    let at = History::observed_at(run) + TimeSpan::hours(1);
    let (action, count, reason) = if ACCEPT_RUNS.contains(&run) {
        let action = TriageAction::AcceptRisk {
            approver: "ciso@example.com".into(),
            until: at + TimeSpan::days(30),
        };
        (
            action,
            ACCEPTED_PER_RUN,
            "not reachable: the service does not parse untrusted input",
        )
    } else if run == FALSE_POSITIVE_RUN {
        (
            TriageAction::FalsePositive,
            FALSE_POSITIVES,
            "the vulnerable code is not built into this package",
        )
    } else {
        return Ok(());
    };

    let new = history.new_in_run();
    let stride = (new.len() / count).max(1);
    let fingerprints: Vec<Fingerprint> = new
        .iter()
        .step_by(stride)
        .take(count)
        .map(|&id| history.trivy_finding(id).fingerprint)
        .collect();
    let request = TriageRequest {
        fingerprints,
        action,
        reason: reason.into(),
        actor: Some("analyst@example.com".into()),
        at,
    };
    store.triage(&request).map_err(|error| error.to_string())?;
    Ok(())
}

fn read(db: &Path, repeats: usize) -> Result<(), String> {
    if !db.exists() {
        return Err(format!(
            "{} does not exist; create it with `history build`",
            db.display()
        ));
    }
    let opening = Instant::now();
    let store = Store::open(db).map_err(|error| error.to_string())?;
    println!("open                       {:>9.1} ms", millis(opening.elapsed()));

    let mut totals = vec![Duration::ZERO; repeats];
    for (pass, total) in totals.iter_mut().enumerate() {
        let label = if pass == 0 { "first" } else { "repeat" };

        let timer = Instant::now();
        let facts = store.fact_table().map_err(|error| error.to_string())?;
        let fact_time = timer.elapsed();
        println!(
            "fact_table       {label:<6}    {:>9.1} ms  ({} findings, {} assets, {} tool sets)",
            millis(fact_time),
            facts.findings.len(),
            facts.assets.len(),
            facts.tool_sets.len()
        );
        let timer = Instant::now();
        drop(facts);
        let drop_time = timer.elapsed();

        let timer = Instant::now();
        let stats = store.run_stats().map_err(|error| error.to_string())?;
        let stats_time = timer.elapsed();
        println!(
            "run_stats        {label:<6}    {:>9.1} ms  ({} runs)",
            millis(stats_time),
            stats.len()
        );

        let timer = Instant::now();
        let coverage = store.asset_coverage().map_err(|error| error.to_string())?;
        let coverage_time = timer.elapsed();
        println!(
            "asset_coverage   {label:<6}    {:>9.1} ms  ({} assets)",
            millis(coverage_time),
            coverage.len()
        );

        *total = fact_time + stats_time + coverage_time;
        println!(
            "the three reads  {label:<6}    {:>9.1} ms  (freeing the fact table: {:.1} ms more)",
            millis(*total),
            millis(drop_time)
        );
    }
    Ok(())
}

fn rescan(db: &Path, copy: &Path, times: usize) -> Result<(), String> {
    if !db.exists() {
        return Err(format!(
            "{} does not exist; create it with `history build`",
            db.display()
        ));
    }
    let copying = Instant::now();
    copy_database(db, copy)?;
    let copied = copying.elapsed();

    let opening = Instant::now();
    let mut store = Store::open(copy).map_err(|error| error.to_string())?;
    let opened = opening.elapsed();
    let latest = store
        .latest_run()
        .map_err(|error| error.to_string())?
        .ok_or_else(|| format!("{} has no runs; create it with `history build`", db.display()))?;

    let generating = Instant::now();
    let mut input = History::run_again(SEED, latest.summary.observed_at);
    let generated = generating.elapsed();
    println!(
        "copied the database in {:.2} s; generated {} reports in {:.2} s",
        copied.as_secs_f64(),
        input.findings.len(),
        generated.as_secs_f64()
    );
    println!("open                 {:>9.1} ms", millis(opened));

    for repeat in 0..times {
        input.observed_at = latest.summary.observed_at + TimeSpan::days(repeat as i64 + 1);
        let recording = Instant::now();
        let summary = store.record_run(&input).map_err(|error| error.to_string())?;
        let recorded = recording.elapsed();
        store.wait_for_checkpoint();
        let checkpointed = recording.elapsed();

        println!(
            "record_run           {:>9.1} ms  (seen {}, new {}, still open {}, reopened {}, fixed {})",
            millis(recorded),
            summary.seen,
            summary.new,
            summary.still_open,
            summary.reopened,
            summary.fixed
        );
        println!("record_run + checkpoint {:>6.1} ms", millis(checkpointed));
        if summary.new + summary.reopened + summary.fixed > 0 {
            return Err("the repeated run changed findings; the copy does not hold the generated history".into());
        }
    }
    Ok(())
}

/// Copies the database file, after removing any log of an earlier copy.
/// The source must be closed: its write-ahead log is not copied.
fn copy_database(db: &Path, copy: &Path) -> Result<(), String> {
    for suffix in ["-wal", "-shm"] {
        let sibling = with_suffix(copy, suffix);
        if sibling.exists() {
            std::fs::remove_file(&sibling).map_err(|error| format!("cannot remove {}: {error}", sibling.display()))?;
        }
    }
    if file_size(&with_suffix(db, "-wal")) > 0 {
        return Err(format!(
            "{} has a write-ahead log; open and close it once (history read) so the log is copied into it",
            db.display()
        ));
    }
    std::fs::copy(db, copy)
        .map(|_| ())
        .map_err(|error| format!("cannot copy {} to {}: {error}", db.display(), copy.display()))
}

fn native(out: &Path, runs: usize) -> Result<(), String> {
    if runs > RUNS {
        return Err(format!("RUNS must be at most {RUNS}, not {runs}"));
    }
    let history = History::at(SEED, runs - 1);
    let input = history.run_input();
    let file = File::create(out).map_err(|error| format!("cannot create {}: {error}", out.display()))?;
    let mut writer = BufWriter::new(file);
    let failed = |error: std::io::Error| format!("cannot write {}: {error}", out.display());
    let json = |error: serde_json::Error| format!("cannot write {}: {error}", out.display());

    write!(
        writer,
        r#"{{"ctem_format":"1","tool":{{"name":"history-generator"}},"scopes":["#
    )
    .map_err(failed)?;
    for (index, scope) in input.scopes.iter().enumerate() {
        let separator = if index == 0 { "" } else { "," };
        write!(writer, "{separator}").map_err(failed)?;
        serde_json::to_writer(
            &mut writer,
            &serde_json::json!({"tool": scope.tool, "target": scope.target}),
        )
        .map_err(json)?;
    }
    write!(writer, r#"],"assets":"#).map_err(failed)?;
    serde_json::to_writer(&mut writer, &input.assets).map_err(json)?;
    write!(writer, r#","findings":["#).map_err(failed)?;
    for (index, scored) in input.findings.iter().enumerate() {
        let separator = if index == 0 { "" } else { "," };
        write!(writer, "{separator}").map_err(failed)?;
        serde_json::to_writer(&mut writer, &scored.finding).map_err(json)?;
    }
    writeln!(writer, "]}}").map_err(failed)?;
    writer.flush().map_err(failed)?;
    println!(
        "wrote {}: run {} of {RUNS}, {} findings, {:.0} MiB",
        out.display(),
        runs,
        input.findings.len(),
        file_size(out) as f64 / (1024.0 * 1024.0)
    );
    Ok(())
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |metadata| metadata.len())
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
