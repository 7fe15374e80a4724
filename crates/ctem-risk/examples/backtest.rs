//! Backtests prioritization rules on every CVE-2025 id of an intelligence
//! folder and prints the tables as Markdown.
//!
//! ```text
//! cargo run --release -p ctem-risk --example backtest -- INTEL_DIR
//! ```
//!
//! `INTEL_DIR` must contain:
//!
//! - `kev/known_exploited_vulnerabilities.json`, the CISA KEV catalog;
//! - `epss/epss_scores-2025-12-29_cve2025.csv`, FIRST EPSS scores of
//!   2025-12-29 as `cve,epss,percentile` rows without a header line;
//! - `epss/kev_weekly_epss_2025.csv`, weekly EPSS scores of the CVEs added to
//!   KEV in 2025 (header `cve,kev_dateAdded,snapshot_date,epss,percentile`);
//! - `epss/kev_2025_epss.csv`, the KEV additions of 2025 through 2025-12-29
//!   (columns `cveID` and `dateAdded`), which extend an older catalog;
//! - optionally `cve5/`, CVE JSON 5 records, for CVSS vectors.

use std::collections::BTreeMap;
use std::error::Error;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use ctem_intel::{Cve5Store, KevCatalog};
use ctem_risk::backtest::{Config, CveRecord, Report, Rule, run};

type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// The decision dates: the first day of each month from January to September
/// 2025, so that every 90-day window ends before the last EPSS date, 2025-12-29.
const DECISION_MONTHS: std::ops::RangeInclusive<u32> = 1..=9;
const WINDOW_DAYS: u64 = 90;
const EFFORTS: [f64; 3] = [0.01, 0.05, 0.10];
const RESAMPLES: usize = 1000;
const SEED: u64 = 2025;

fn main() -> Result<()> {
    let Some(dir) = std::env::args_os().nth(1).map(PathBuf::from) else {
        return Err("usage: backtest INTEL_DIR (a folder with kev/, epss/ and optionally cve5/)".into());
    };

    let mut records: BTreeMap<String, CveRecord> = BTreeMap::new();
    load_final_epss(&dir.join("epss/epss_scores-2025-12-29_cve2025.csv"), &mut records)?;
    load_weekly_epss(&dir.join("epss/kev_weekly_epss_2025.csv"), &mut records)?;
    load_kev_additions(&dir.join("epss/kev_2025_epss.csv"), &mut records)?;
    load_kev_catalog(&dir.join("kev/known_exploited_vulnerabilities.json"), &mut records)?;
    let with_cvss = load_cvss(&dir.join("cve5"), &mut records)?;

    let records: Vec<CveRecord> = records.into_values().collect();
    let config = Config {
        decision_dates: DECISION_MONTHS
            .map(|month| NaiveDate::from_ymd_opt(2025, month, 1).expect("valid month"))
            .collect(),
        window_days: WINDOW_DAYS,
        efforts: EFFORTS.to_vec(),
        resamples: RESAMPLES,
        seed: SEED,
    };
    let rules = [
        Rule::CvssAtLeast(7.0),
        Rule::CvssAtLeast(9.0),
        Rule::EpssAtLeast(0.1),
        Rule::KevFirst,
        Rule::CvePrioritizer,
        Rule::CtemLikelihood,
    ];
    let report = run(&records, &rules, &config);

    print_report(&report, &records, with_cvss);
    Ok(())
}

fn is_population(cve: &str) -> bool {
    cve.starts_with("CVE-2025-")
}

fn entry<'a>(records: &'a mut BTreeMap<String, CveRecord>, cve: &str) -> &'a mut CveRecord {
    records.entry(cve.to_string()).or_insert_with(|| CveRecord {
        id: cve.to_string(),
        ..CveRecord::default()
    })
}

fn reader(path: &Path, has_headers: bool) -> Result<csv::Reader<std::fs::File>> {
    csv::ReaderBuilder::new()
        .has_headers(has_headers)
        .from_path(path)
        .map_err(|error| format!("{}: failed to open: {error}", path.display()).into())
}

/// Returns field `column` of a row, or an error naming the file, line and column.
fn field<'r>(path: &Path, row: &'r csv::StringRecord, column: usize, name: &str) -> Result<&'r str> {
    let line = row.position().map_or(0, |position| position.line());
    row.get(column)
        .ok_or_else(|| format!("{}:{line}: missing column {name}", path.display()).into())
}

fn parse_number(path: &Path, row: &csv::StringRecord, column: usize, name: &str) -> Result<f64> {
    let text = field(path, row, column, name)?;
    let line = row.position().map_or(0, |position| position.line());
    match text.parse::<f64>() {
        Ok(value) if (0.0..=1.0).contains(&value) => Ok(value),
        _ => Err(format!(
            "{}:{line}: invalid {name} {text:?}, expected a number in 0..=1",
            path.display()
        )
        .into()),
    }
}

fn parse_date(path: &Path, row: &csv::StringRecord, column: usize, name: &str) -> Result<NaiveDate> {
    let text = field(path, row, column, name)?;
    let line = row.position().map_or(0, |position| position.line());
    text.parse().map_err(|_| {
        format!(
            "{}:{line}: invalid {name} {text:?}, expected YYYY-MM-DD",
            path.display()
        )
        .into()
    })
}

/// Returns the index of a header column, or an error naming the file.
fn column(path: &Path, headers: &csv::StringRecord, name: &str) -> Result<usize> {
    headers
        .iter()
        .position(|header| header == name)
        .ok_or_else(|| format!("{}: missing column {name} in the header line", path.display()).into())
}

fn load_final_epss(path: &Path, records: &mut BTreeMap<String, CveRecord>) -> Result<()> {
    for row in reader(path, false)?.records() {
        let row = row.map_err(|error| format!("{}: {error}", path.display()))?;
        let cve = field(path, &row, 0, "cve")?;
        if is_population(cve) {
            entry(records, cve).epss_final = Some(parse_number(path, &row, 1, "epss")?);
        }
    }
    Ok(())
}

fn load_weekly_epss(path: &Path, records: &mut BTreeMap<String, CveRecord>) -> Result<()> {
    let mut reader = reader(path, true)?;
    let headers = reader.headers()?.clone();
    let (cve_column, date_column, epss_column) = (
        column(path, &headers, "cve")?,
        column(path, &headers, "snapshot_date")?,
        column(path, &headers, "epss")?,
    );
    for row in reader.records() {
        let row = row.map_err(|error| format!("{}: {error}", path.display()))?;
        let cve = field(path, &row, cve_column, "cve")?;
        if !is_population(cve) {
            continue;
        }
        let date = parse_date(path, &row, date_column, "snapshot_date")?;
        let epss = parse_number(path, &row, epss_column, "epss")?;
        entry(records, cve).epss_history.push((date, epss));
    }
    Ok(())
}

fn load_kev_additions(path: &Path, records: &mut BTreeMap<String, CveRecord>) -> Result<()> {
    let mut reader = reader(path, true)?;
    let headers = reader.headers()?.clone();
    let (cve_column, date_column) = (column(path, &headers, "cveID")?, column(path, &headers, "dateAdded")?);
    for row in reader.records() {
        let row = row.map_err(|error| format!("{}: {error}", path.display()))?;
        let cve = field(path, &row, cve_column, "cveID")?;
        if is_population(cve) {
            let added = parse_date(path, &row, date_column, "dateAdded")?;
            let record = entry(records, cve);
            record.kev_added = Some(record.kev_added.map_or(added, |known| known.min(added)));
        }
    }
    Ok(())
}

fn load_kev_catalog(path: &Path, records: &mut BTreeMap<String, CveRecord>) -> Result<()> {
    let catalog = KevCatalog::load(path)?;
    for kev in catalog.entries() {
        let cve = kev.cve.as_str();
        if is_population(cve) {
            let record = entry(records, cve);
            record.kev_added = Some(
                record
                    .kev_added
                    .map_or(kev.date_added, |known| known.min(kev.date_added)),
            );
        }
    }
    Ok(())
}

/// Fills CVSS from the CVE records of the population and returns how many had one.
fn load_cvss(dir: &Path, records: &mut BTreeMap<String, CveRecord>) -> Result<usize> {
    if !dir.is_dir() {
        return Ok(0);
    }
    let mut store = Cve5Store::new();
    let loaded = store.load_dir(dir)?;
    for failed in &loaded.failed {
        eprintln!("skipped an invalid CVE record: {failed:?}");
    }
    let mut with_cvss = 0;
    for record in store.records() {
        let cve = record.cve.as_str();
        let best = record
            .cvss
            .iter()
            .map(|fact| &fact.value.vector)
            .max_by(|a, b| a.base_score().total_cmp(&b.base_score()));
        if let (true, Some(vector)) = (is_population(cve), best) {
            let target = entry(records, cve);
            target.cvss = Some(vector.base_score());
            target.cvss_exploitability = Some(vector.exploitability());
            with_cvss += 1;
        }
    }
    Ok(with_cvss)
}

fn print_report(report: &Report, records: &[CveRecord], with_cvss: usize) {
    let with_history = records.iter().filter(|r| !r.epss_history.is_empty()).count();
    let in_kev = records.iter().filter(|r| r.kev_added.is_some()).count();
    println!(
        "Population: {} CVE-2025 ids; {} added to KEV by 2025-12-29; {} with weekly EPSS history; {} with a CVSS vector.\n",
        report.population, in_kev, with_history, with_cvss
    );

    println!(
        "| decision date | already in KEV | labels (KEV within {WINDOW_DAYS} days) | labels with EPSS | with EPSS | EPSS prior |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    for date in &report.dates {
        println!(
            "| {} | {} | {} | {} | {} | {:.5} |",
            date.date, date.kev_known, date.labels, date.labels_with_epss, date.with_epss, date.epss_prior
        );
    }
    println!();

    println!("| rule | effort | coverage (recall) | 95% CI | efficiency (precision) | 95% CI |");
    println!("| --- | ---: | ---: | --- | ---: | --- |");
    for rule in &report.rules {
        for result in &rule.efforts {
            println!(
                "| {} | {:.0}% | {:.1}% | {:.1} to {:.1} | {:.2}% | {:.2} to {:.2} |",
                rule.rule.name(),
                100.0 * result.effort,
                100.0 * result.coverage.value,
                100.0 * result.coverage.low,
                100.0 * result.coverage.high,
                100.0 * result.efficiency.value,
                100.0 * result.efficiency.low,
                100.0 * result.efficiency.high,
            );
        }
    }
}
