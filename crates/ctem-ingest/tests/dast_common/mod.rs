//! Shared code of the tests of the DAST parsers (ZAP XML, Burp, Nuclei,
//! Nikto): fixtures, normalized snapshots, hostile inputs, and detection
//! over every file of the shared corpus.

#![allow(dead_code)]

use std::path::Path;

use ctem_ingest::{ParseError, ParsedReport, find, parse_bytes};
use ctem_model::Finding;
use serde_json::json;

/// Reads a fixture of a format from `tests/fixtures/<format>/`.
pub fn fixture(format: &str, name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{format}/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Parses bytes with the parser of `format`.
pub fn parse(format: &str, name: &str, bytes: &[u8]) -> Result<ParsedReport, ParseError> {
    parse_bytes(find(format).expect("registered"), name, bytes)
}

/// Parses a fixture, failing the test on a parse error.
pub fn parse_fixture(format: &str, name: &str) -> ParsedReport {
    parse(format, name, &fixture(format, name)).unwrap_or_else(|e| panic!("{e}"))
}

/// Converts the report to JSON for snapshots, with each finding's fingerprint.
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

/// Returns the targets of the report's scopes, checking that every scope
/// names `tool`.
pub fn targets<'r>(report: &'r ParsedReport, tool: &str) -> Vec<&'r str> {
    assert!(
        report.targets.iter().all(|(scope_tool, _)| scope_tool == tool),
        "{:?}",
        report.targets
    );
    report.targets.iter().map(|(_, target)| target.as_str()).collect()
}

/// Asserts that no clear value appears anywhere in the serialized report.
pub fn assert_absent(report: &ParsedReport, clear_values: &[&str]) {
    let text = normalized(report).to_string();
    for clear in clear_values {
        assert!(!text.contains(clear), "{clear:?} appears in the output");
    }
}

/// Returns how many report records a finding stands for.
pub fn instance_count(finding: &Finding) -> usize {
    finding
        .attributes
        .get("instances")
        .map_or(1, |count| count.parse().expect("a count"))
}

/// Builds a DOCTYPE that declares the billion laughs entities (`&lol9;`
/// expands to 10^9 `lol`s), for a document whose root is `root`.
pub fn billion_laughs_doctype(root: &str) -> String {
    let mut doctype = format!("<?xml version=\"1.0\"?>\n<!DOCTYPE {root} [\n  <!ENTITY lol \"lol\">\n");
    for level in 1..10 {
        let previous = if level == 1 {
            "lol".to_string()
        } else {
            format!("lol{}", level - 1)
        };
        let body: String = std::iter::repeat_n(format!("&{previous};"), 10).collect();
        doctype.push_str(&format!("  <!ENTITY lol{level} \"{body}\">\n"));
    }
    doctype.push_str("]>\n");
    doctype
}

/// Checks every file of every corpus folder: the parser of `format` is
/// detected for the files that `is_format` selects, and for no other file.
/// Files of 16 bytes or fewer (empty reports) are skipped, because no
/// content can name a format there.
pub fn check_corpus_detection(format: &str, is_format: fn(&str, &str) -> bool) {
    let Some(dir) = std::env::var_os("CTEM_SHARED") else {
        eprintln!("skipped: set CTEM_SHARED to the folder holding corpus/ to run the corpus tests");
        return;
    };
    let corpus = Path::new(&dir).join("corpus");
    let mut failures = Vec::new();
    let mut mine = 0;
    for folder in std::fs::read_dir(&corpus).expect("corpus folder") {
        let folder = folder.expect("entry").path();
        if !folder.is_dir() {
            continue;
        }
        let folder_name = folder.file_name().unwrap_or_default().to_string_lossy().into_owned();
        for file in std::fs::read_dir(&folder).expect("corpus folder") {
            let path = file.expect("entry").path();
            let file_name = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
            let bytes = std::fs::read(&path).expect("readable");
            if bytes.len() <= 16 {
                continue;
            }
            let detected = ctem_ingest::detect(&bytes).map(|p| p.info().id);
            let expected = is_format(&folder_name, &file_name);
            mine += usize::from(expected);
            if expected && detected != Some(format) {
                failures.push(format!(
                    "{folder_name}/{file_name}: detected as {detected:?}, not {format}"
                ));
            }
            if !expected && detected == Some(format) {
                failures.push(format!("{folder_name}/{file_name}: wrongly detected as {format}"));
            }
        }
    }
    assert!(mine > 0, "no corpus file is of {format}");
    assert!(failures.is_empty(), "detection failures:\n{}", failures.join("\n"));
}
