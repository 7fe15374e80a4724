//! Shared code of the conformance tests, which check every parser against
//! the real scanner outputs of the shared corpus and the counts that
//! another project's tests assert about them (`EXPECTED.tsv`).
//!
//! The corpus is found through `CTEM_SHARED`, the folder that holds
//! `corpus/` and `intel/`. Without it the tests print that they are skipped
//! and pass.

#![allow(dead_code)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use ctem_ingest::{ParseError, ParsedReport, find, parse_reader};
use ctem_model::Finding;

/// The corpus folder, or `None` (with a message on stderr) when the tests
/// are to be skipped.
pub fn corpus_dir() -> Option<PathBuf> {
    match std::env::var_os("CTEM_SHARED") {
        Some(dir) => {
            let corpus = PathBuf::from(dir).join("corpus");
            assert!(
                corpus.is_dir(),
                "CTEM_SHARED is set but {} is not a folder",
                corpus.display()
            );
            Some(corpus)
        }
        None => {
            eprintln!("skipped: set CTEM_SHARED to the folder holding corpus/ to run the conformance tests");
            None
        }
    }
}

/// One row of `EXPECTED.tsv`.
#[derive(Debug, Clone)]
pub struct ExpectedRow {
    pub folder: String,
    pub file: String,
    /// `Count(n)`, `MoreThan(n)`, `Any` (`?`) or `Error`.
    pub expected: Expected,
    pub notes: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    Count(usize),
    MoreThan(usize),
    Any,
    Error,
}

/// The rows of `EXPECTED.tsv` for one corpus folder.
pub fn expected_rows(corpus: &Path, folder: &str) -> Vec<ExpectedRow> {
    let table = std::fs::read_to_string(corpus.join("EXPECTED.tsv")).expect("EXPECTED.tsv is readable");
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let columns: Vec<&str> = line.split('\t').collect();
            if columns.len() < 3 || columns[0] != folder {
                return None;
            }
            let expected = match columns[2] {
                "?" => Expected::Any,
                "ERROR" => Expected::Error,
                more if more.starts_with('>') => Expected::MoreThan(more[1..].parse().expect("a count after >")),
                count => Expected::Count(count.parse().expect("a count")),
            };
            Some(ExpectedRow {
                folder: folder.to_string(),
                file: columns[1].to_string(),
                expected,
                notes: columns.get(3).unwrap_or(&"").to_string(),
            })
        })
        .collect()
}

/// Parses one corpus file with the parser of `format_id`.
pub fn parse_file(format_id: &str, path: &Path) -> Result<ParsedReport, ParseError> {
    let parser = find(format_id).unwrap_or_else(|| panic!("no parser with id {format_id}"));
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut reader = std::io::BufReader::new(file);
    parse_reader(parser, &path.display().to_string(), &mut reader)
}

/// Checks every file of a corpus folder that `EXPECTED.tsv` lists: files
/// marked `ERROR` must be rejected, the others must parse, and the number
/// of distinct `group_key` values must match the expected count. Returns
/// the parsed reports by file name for further checks.
pub fn check_folder(folder: &str, format_id: &str, group_key: fn(&Finding) -> String) -> Vec<(String, ParsedReport)> {
    check_folder_where(folder, format_id, group_key, |_| true)
}

/// Like [`check_folder`], for the listed files whose name passes `select`
/// (for folders that mix formats, such as CycloneDX JSON and XML).
pub fn check_folder_where(
    folder: &str,
    format_id: &str,
    group_key: fn(&Finding) -> String,
    select: fn(&str) -> bool,
) -> Vec<(String, ParsedReport)> {
    let Some(corpus) = corpus_dir() else {
        return Vec::new();
    };
    let rows: Vec<ExpectedRow> = expected_rows(&corpus, folder)
        .into_iter()
        .filter(|row| select(&row.file))
        .collect();
    assert!(!rows.is_empty(), "EXPECTED.tsv lists no file of {folder}");

    let mut failures = Vec::new();
    let mut reports = Vec::new();
    for row in rows {
        let path = corpus.join(folder).join(&row.file);
        let result = parse_file(format_id, &path);
        match (row.expected, result) {
            (Expected::Error, Ok(_)) => failures.push(format!("{}: expected a rejection, parsed", row.file)),
            (Expected::Error, Err(_)) => {}
            (_, Err(error)) => failures.push(format!("{}: {error}", row.file)),
            (expected, Ok(report)) => {
                let groups: BTreeSet<String> = report.findings.iter().map(group_key).collect();
                let ok = match expected {
                    Expected::Count(count) => groups.len() == count,
                    Expected::MoreThan(count) => groups.len() > count,
                    _ => true,
                };
                if !ok {
                    failures.push(format!(
                        "{}: expected {expected:?} groups, found {} groups in {} findings",
                        row.file,
                        groups.len(),
                        report.findings.len()
                    ));
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

/// Checks that every file of the folder whose name passes `select` is
/// detected as `format_id` by content.
pub fn check_detection(folder: &str, format_id: &str, select: fn(&str) -> bool) {
    let Some(corpus) = corpus_dir() else {
        return;
    };
    let mut failures = Vec::new();
    for entry in std::fs::read_dir(corpus.join(folder)).expect("corpus folder") {
        let path = entry.expect("entry").path();
        if !select(&path.file_name().unwrap_or_default().to_string_lossy()) {
            continue;
        }
        let bytes = std::fs::read(&path).expect("readable");
        let detected = ctem_ingest::detect(&bytes).map(|p| p.info().id);
        if detected != Some(format_id) && bytes.len() > 16 {
            failures.push(format!("{}: detected as {detected:?}", path.display()));
        }
    }
    assert!(failures.is_empty(), "detection failures:\n{}", failures.join("\n"));
}
