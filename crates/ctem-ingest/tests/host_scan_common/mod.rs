//! Test helpers of the host scanner parsers (Nessus CSV, OpenVAS, Qualys):
//! fixtures, normalized output for snapshots, and detection over the whole
//! corpus.

#![allow(dead_code)]

use ctem_ingest::{ParseError, ParsedReport, find, parse_bytes};
use ctem_model::Finding;
use serde_json::json;

/// The bytes of a fixture of a format.
pub fn fixture(format: &str, name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{format}/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Parses bytes with the parser of a format.
pub fn parse(format: &str, name: &str, bytes: &[u8]) -> Result<ParsedReport, ParseError> {
    parse_bytes(find(format).expect("registered"), name, bytes)
}

/// Parses a fixture, which must succeed.
pub fn parse_fixture(format: &str, name: &str) -> ParsedReport {
    parse(format, name, &fixture(format, name)).unwrap_or_else(|e| panic!("{e}"))
}

/// Renders the report as JSON for snapshots, with each finding's fingerprint.
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

/// Lists the report's scopes as `tool target`.
pub fn scopes(report: &ParsedReport) -> Vec<String> {
    report
        .targets
        .iter()
        .map(|(tool, target)| format!("{tool} {target}"))
        .collect()
}

/// Returns the findings of one rule.
pub fn by_rule<'r>(report: &'r ParsedReport, rule_id: &str) -> Vec<&'r Finding> {
    report.findings.iter().filter(|f| f.rule_id == rule_id).collect()
}

/// Returns a finding's vulnerability ids as text.
pub fn ids(finding: &Finding) -> Vec<&str> {
    finding.vulnerability_ids.iter().map(|id| id.as_str()).collect()
}

/// Returns a finding's CVSS vectors as text.
pub fn vectors(finding: &Finding) -> Vec<String> {
    finding.cvss.iter().map(ToString::to_string).collect()
}

/// Returns an attribute of a finding.
pub fn attribute<'f>(finding: &'f Finding, name: &str) -> Option<&'f str> {
    finding.attributes.get(name).map(String::as_str)
}

/// Checks that every finding has a declared scope, a sent asset and a title,
/// and that no asset is sent twice.
pub fn assert_well_formed(report: &ParsedReport) {
    for finding in &report.findings {
        let target = finding.target.as_deref().expect("a scope target");
        let scope = (finding.tool.clone(), target.to_string());
        assert!(report.targets.contains(&scope), "{scope:?} is not declared");
        assert!(
            report.assets.iter().any(|a| a.key == finding.asset),
            "{} has no asset",
            finding.rule_id
        );
        assert!(!finding.title.trim().is_empty(), "{} has no title", finding.rule_id);
    }
    let mut keys: Vec<_> = report.assets.iter().map(|a| a.key.as_str()).collect();
    let count = keys.len();
    keys.sort_unstable();
    keys.dedup();
    assert_eq!(keys.len(), count, "an asset was sent twice");
}

/// Runs detection over every file of every corpus folder and checks that
/// `format_id` is detected for exactly the files of `folders` (all their
/// files, or those whose name passes `select`).
pub fn check_detected_exactly(format_id: &str, folders: &[&str], select: fn(&str) -> bool) {
    let Some(dir) = std::env::var_os("CTEM_SHARED") else {
        eprintln!("skipped: set CTEM_SHARED to the folder holding corpus/ to run the detection test");
        return;
    };
    let corpus = std::path::PathBuf::from(dir).join("corpus");
    let mut failures = Vec::new();
    let mut checked = 0;
    for folder in std::fs::read_dir(&corpus).expect("corpus folder") {
        let folder = folder.expect("entry").path();
        if !folder.is_dir() {
            continue;
        }
        let folder_name = folder.file_name().unwrap_or_default().to_string_lossy().into_owned();
        for file in std::fs::read_dir(&folder).expect("folder") {
            let path = file.expect("entry").path();
            let name = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
            let bytes = std::fs::read(&path).expect("readable");
            let detected = ctem_ingest::detect(&bytes).map(|p| p.info().id);
            let ours = folders.contains(&folder_name.as_str()) && select(&name);
            checked += 1;
            if ours && detected != Some(format_id) {
                failures.push(format!("{}: detected as {detected:?}", path.display()));
            }
            if !ours && detected == Some(format_id) {
                failures.push(format!("{}: wrongly detected as {format_id}", path.display()));
            }
        }
    }
    assert!(checked > 100, "only {checked} corpus files found");
    assert!(failures.is_empty(), "detection failures:\n{}", failures.join("\n"));
}

/// Builds an XML document with a billion laughs DOCTYPE before `body`, whose text
/// uses the entity `&lol9;`.
pub fn billion_laughs(root: &str, body: &str) -> String {
    let mut document = format!("<?xml version=\"1.0\"?>\n<!DOCTYPE {root} [\n  <!ENTITY lol \"lol\">\n");
    for level in 1..10 {
        let previous = if level == 1 {
            "lol".to_string()
        } else {
            format!("lol{}", level - 1)
        };
        let expansion: String = std::iter::repeat_n(format!("&{previous};"), 10).collect();
        document.push_str(&format!("  <!ENTITY lol{level} \"{expansion}\">\n"));
    }
    document.push_str("]>\n");
    document.push_str(body);
    document
}
