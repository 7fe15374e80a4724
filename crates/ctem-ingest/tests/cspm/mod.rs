//! Test helpers shared by the cloud posture parsers' tests (Prowler and
//! ScoutSuite): fixtures, snapshots in one shape, and the check that
//! detection picks a format for exactly its corpus folders.

#![allow(dead_code)]

use ctem_ingest::{ParseError, ParsedReport, find, parse_bytes};
use ctem_model::Finding;
use serde_json::json;

/// Reads a fixture of a format.
pub fn fixture(format: &str, name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{format}/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Parses bytes with the parser of a format.
pub fn parse(format: &str, name: &str, bytes: &[u8]) -> Result<ParsedReport, ParseError> {
    parse_bytes(find(format).expect("registered"), name, bytes)
}

/// Parses a fixture, which must be valid.
pub fn parse_fixture(format: &str, name: &str) -> ParsedReport {
    parse(format, name, &fixture(format, name)).unwrap_or_else(|e| panic!("{e}"))
}

/// Converts a report to JSON for snapshots, with each finding's fingerprint.
pub fn normalized(report: &ParsedReport) -> serde_json::Value {
    let findings: Vec<_> = report
        .findings
        .iter()
        .map(|f| json!({"fingerprint": f.fingerprint(), "finding": f}))
        .collect();
    json!({
        "targets": report.targets,
        "assets": report.assets,
        "relationships": report.relationships,
        "findings": findings,
    })
}

/// Returns the targets of the report's scopes and checks that every scope
/// names the tool.
pub fn targets<'r>(report: &'r ParsedReport, tool: &str) -> Vec<&'r str> {
    assert!(
        report.targets.iter().all(|(scope_tool, _)| scope_tool == tool),
        "{:?}",
        report.targets
    );
    report.targets.iter().map(|(_, target)| target.as_str()).collect()
}

/// Returns the first finding with this title.
pub fn by_title<'r>(report: &'r ParsedReport, title: &str) -> &'r Finding {
    report
        .findings
        .iter()
        .find(|finding| finding.title == title)
        .unwrap_or_else(|| panic!("no finding titled {title:?}"))
}

/// Checks that detection picks `format` for every file of `folders` and
/// for no file of any other corpus folder. Files of 16 bytes or less
/// (`[]`, an empty file) carry no marker of a format and are skipped.
pub fn check_detection_is_exact(format: &str, folders: &[&str]) {
    let Some(corpus) = corpus_dir() else {
        return;
    };
    let mut failures = Vec::new();
    let mut checked = 0usize;
    for folder in std::fs::read_dir(&corpus).expect("corpus folder").flatten() {
        if !folder.path().is_dir() {
            continue;
        }
        let folder_name = folder.file_name().to_string_lossy().into_owned();
        let mine = folders.contains(&folder_name.as_str());
        for file in std::fs::read_dir(folder.path()).expect("folder").flatten() {
            let bytes = std::fs::read(file.path()).expect("readable");
            if bytes.len() <= 16 {
                continue;
            }
            checked += 1;
            let detected = ctem_ingest::detect(&bytes).map(|p| p.info().id);
            if mine != (detected == Some(format)) {
                failures.push(format!("{}: detected as {detected:?}", file.path().display()));
            }
        }
    }
    assert!(checked > 0, "no corpus file checked");
    assert!(
        failures.is_empty(),
        "detection of {format} is not exact:\n{}",
        failures.join("\n")
    );
}

fn corpus_dir() -> Option<std::path::PathBuf> {
    match std::env::var_os("CTEM_SHARED") {
        Some(dir) => Some(std::path::PathBuf::from(dir).join("corpus")),
        None => {
            eprintln!("skipped: set CTEM_SHARED to the folder holding corpus/ to run the corpus tests");
            None
        }
    }
}
