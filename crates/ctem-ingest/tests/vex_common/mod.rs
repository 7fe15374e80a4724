//! Shared code of the VEX parser tests: conformance against the corpus,
//! where the expected counts are one per (vulnerability, product), and the
//! structural facts of the files that no count covers.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use ctem_ingest::ParsedReport;

use crate::common::{self, Expected};

/// Returns the distinct (vulnerability, product) pairs of a report's statements.
pub fn pairs(report: &ParsedReport) -> BTreeSet<(String, String)> {
    report
        .vex
        .iter()
        .flat_map(|statement| {
            statement
                .products()
                .iter()
                .map(|product| (statement.vulnerability().to_string(), product.id.to_string()))
        })
        .collect()
}

/// Returns the distinct vulnerabilities of each status, by status name.
pub fn vulnerabilities_by_status(report: &ParsedReport) -> BTreeMap<String, usize> {
    let mut sets: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for statement in &report.vex {
        sets.entry(statement.status().as_str().to_string())
            .or_default()
            .insert(statement.vulnerability().to_string());
    }
    sets.into_iter().map(|(status, set)| (status, set.len())).collect()
}

/// Checks every `EXPECTED.tsv` row of a folder: `ERROR` rows must be
/// rejected, the others must parse into as many (vulnerability, product)
/// pairs as expected. Returns the parsed reports by file name.
pub fn check_expected(folder: &str, format_id: &str) -> Vec<(String, ParsedReport)> {
    let Some(corpus) = common::corpus_dir() else {
        return Vec::new();
    };
    let rows = common::expected_rows(&corpus, folder);
    assert!(!rows.is_empty(), "EXPECTED.tsv lists no file of {folder}");

    let mut failures = Vec::new();
    let mut reports = Vec::new();
    for row in rows {
        let result = common::parse_file(format_id, &corpus.join(folder).join(&row.file));
        match (row.expected, result) {
            (Expected::Error, Ok(_)) => failures.push(format!("{}: expected a rejection, parsed", row.file)),
            (Expected::Error, Err(_)) => {}
            (_, Err(error)) => failures.push(format!("{}: {error}", row.file)),
            (expected, Ok(report)) => {
                let count = pairs(&report).len();
                let ok = match expected {
                    Expected::Count(n) => count == n,
                    Expected::MoreThan(n) => count > n,
                    _ => true,
                };
                if !ok {
                    failures.push(format!("{}: expected {expected:?} pairs, found {count}", row.file));
                }
                reports.push((row.file.clone(), report));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{format_id} conformance failures:\n{}",
        failures.join("\n")
    );
    reports
}

/// Returns the `STRUCTURAL_FACTS.tsv` rows of a folder as (file, facts).
pub fn structural_rows(corpus: &Path, folder: &str) -> Vec<(String, String)> {
    let table = std::fs::read_to_string(corpus.join("STRUCTURAL_FACTS.tsv")).expect("STRUCTURAL_FACTS.tsv");
    table
        .lines()
        .filter_map(|line| {
            let columns: Vec<&str> = line.split('\t').collect();
            (columns.len() >= 3 && columns[0] == folder).then(|| (columns[1].to_string(), columns[2].to_string()))
        })
        .collect()
}

/// Returns the number after `name=` in a facts column.
pub fn fact_count(facts: &str, name: &str) -> usize {
    let marker = format!("{name}=");
    let start = facts.find(&marker).unwrap_or_else(|| panic!("{name} in {facts}")) + marker.len();
    let digits: String = facts[start..].chars().take_while(char::is_ascii_digit).collect();
    digits.parse().expect("a count")
}

/// Returns the counts of a `{'key': n, ...}` fact after `name=`.
pub fn fact_map(facts: &str, name: &str) -> BTreeMap<String, usize> {
    let marker = format!("{name}={{");
    let start = facts.find(&marker).unwrap_or_else(|| panic!("{name} in {facts}")) + marker.len();
    let end = start + facts[start..].find('}').expect("a closing brace");
    facts[start..end]
        .split(',')
        .filter_map(|pair| pair.split_once(':'))
        .map(|(key, n)| {
            (
                key.trim().trim_matches('\'').to_string(),
                n.trim().parse().expect("a count"),
            )
        })
        .collect()
}
