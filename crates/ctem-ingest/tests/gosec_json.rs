//! Tests of the gosec JSON parser: fixtures, hostile input and the shared
//! corpus.

mod common;
mod sast_support;

use std::collections::BTreeSet;

use ctem_ingest::{Detection, ParseError, ParsedReport, Position, find};
use ctem_model::{AssetKind, Cwe, Finding, FindingKind, Severity, SourceStatus};

const FORMAT: &str = "gosec-json";

fn parse(name: &str, bytes: &[u8]) -> Result<ParsedReport, ParseError> {
    sast_support::parse(FORMAT, name, bytes)
}

fn parse_fixture(name: &str) -> ParsedReport {
    sast_support::parse_fixture(FORMAT, name)
}

#[test]
fn empty_report_declares_default_target() {
    let report = parse_fixture("empty.json");
    assert!(report.findings.is_empty());
    let targets: Vec<_> = report.targets.iter().cloned().collect();
    assert_eq!(targets, [("gosec".to_string(), "gosec-json:empty.json".to_string())]);
}

#[test]
fn one_finding_snapshot() {
    let report = parse_fixture("one.json");
    assert_eq!(report.findings.len(), 1);
    insta::assert_json_snapshot!("one", sast_support::normalized(&report));
}

#[test]
fn many_findings_snapshot() {
    let report = parse_fixture("many.json");
    assert_eq!(report.findings.len(), 4);
    insta::assert_json_snapshot!("many", sast_support::normalized(&report));
}

#[test]
fn issue_fields_map() {
    let report = parse_fixture("one.json");
    let finding = &report.findings[0];
    assert_eq!(finding.tool, "gosec");
    assert_eq!(finding.rule_id, "G201");
    assert_eq!(finding.kind, FindingKind::CodeWeakness);
    assert_eq!(finding.title, "SQL string formatting");
    assert_eq!(finding.severity, Severity::High);
    assert_eq!(finding.cwes, [Cwe(89)]);
    assert_eq!(finding.location.path.as_deref(), Some("/src/inventory/store/items.go"));
    assert_eq!(finding.location.start_line, Some(61));
    assert_eq!(finding.location.end_line, Some(62));
    assert_eq!(finding.location.start_column, Some(11));
    assert!(finding.evidence.as_deref().is_some_and(|e| e.contains("fmt.Sprintf")));
    assert_eq!(
        finding.references,
        [
            "https://securego.io/docs/rules/g201.html",
            "https://cwe.mitre.org/data/definitions/89.html"
        ]
    );
    assert!(
        finding
            .fix
            .description
            .as_deref()
            .is_some_and(|f| f.starts_with("Use a parameterized query"))
    );
    assert_eq!(finding.source_status, None);
    assert_eq!(finding.attributes.get("confidence").map(String::as_str), Some("HIGH"));
    assert_eq!(finding.target.as_deref(), Some("gosec-json:one.json"));
    assert_eq!(report.assets.len(), 1);
    assert_eq!(report.assets[0].kind, AssetKind::Repository);
}

#[test]
fn credentials_drop_code() {
    let report = parse_fixture("many.json");
    let credentials = &report.findings[0];
    assert_eq!(credentials.kind, FindingKind::Secret);
    assert_eq!(credentials.evidence, None);
    assert!(!sast_support::serialized(&report).contains("EXAMPLEnotArealPassw0rd"));
}

#[test]
fn suppressions_map() {
    let report = parse_fixture("many.json");
    let statuses: Vec<_> = report.findings.iter().map(|f| f.source_status).collect();
    assert_eq!(
        statuses,
        [
            None,
            Some(SourceStatus::Suppressed),
            Some(SourceStatus::Suppressed),
            None
        ]
    );
    let file = &report.findings[1];
    assert_eq!(
        file.attributes.get("suppression_kind").map(String::as_str),
        Some("inSource")
    );
    assert_eq!(
        file.attributes.get("justification").map(String::as_str),
        Some("path is checked by safePath above")
    );
}

#[test]
fn issue_without_cwe_keeps_rule_page() {
    let report = parse_fixture("many.json");
    let md5 = &report.findings[3];
    assert!(md5.cwes.is_empty());
    assert_eq!(md5.references, ["https://securego.io/docs/rules/g401.html"]);
    assert_eq!(md5.location.start_column, None);
}

#[test]
fn fixtures_are_detected() {
    let parser = find(FORMAT).expect("registered");
    for name in ["empty.json", "one.json", "many.json"] {
        let bytes = sast_support::fixture(FORMAT, name);
        assert_eq!(parser.detect(&bytes), Detection::Certain, "{name}");
        assert_eq!(ctem_ingest::detect(&bytes).map(|p| p.info().id), Some(FORMAT), "{name}");
    }
    assert_eq!(parser.detect(br#"{"issues": []}"#), Detection::No);
    assert_eq!(parser.detect(br#"[{"Issues": [], "Stats": {}}]"#), Detection::No);
}

#[test]
fn truncated_file_names_position() {
    let bytes = sast_support::fixture(FORMAT, "one.json");
    let error = parse("cut.json", &bytes[..bytes.len() / 2]).unwrap_err();
    assert!(error.message.contains("truncated"), "{}", error.message);
    assert!(matches!(error.position, Some(Position::LineColumn { .. })), "{error}");
}

#[test]
fn invalid_syntax_is_rejected() {
    let error = parse("bad.json", b"{\"Issues\": [{\"rule_id\": G101}]}").unwrap_err();
    assert_eq!(error.format, FORMAT);
    assert_eq!(error.position, Some(Position::LineColumn { line: 1, column: 25 }));
}

#[test]
fn object_without_issues_is_wrong_format() {
    let error = parse("bandit.json", br#"{"results": [], "metrics": {}}"#).unwrap_err();
    assert!(
        error.message.contains("expected a gosec JSON report"),
        "{}",
        error.message
    );
}

#[test]
fn other_issues_are_wrong_format() {
    let error = parse("other.json", br#"{"Issues": [{"id": 4, "name": "x"}]}"#).unwrap_err();
    assert!(error.message.contains("no gosec issue"), "{}", error.message);
}

#[test]
fn wrong_suppressions_type_is_rejected() {
    let error = parse(
        "types.json",
        br#"{"Issues": [{"rule_id": "G104", "suppressions": "none"}]}"#,
    )
    .unwrap_err();
    assert!(error.message.contains("invalid type"), "{}", error.message);
}

#[test]
fn invalid_utf8_is_rejected() {
    let mut bytes = br#"{"Issues": [{"rule_id": "G104", "file": ""#.to_vec();
    bytes.extend_from_slice(b"\xf8\x88\x80\x80\x80");
    bytes.extend_from_slice(br#""}]}"#);
    let error = parse("binary.json", &bytes).unwrap_err();
    assert!(error.position.is_some(), "{error}");
}

#[test]
fn deep_nesting_errors() {
    let error = parse("deep.json", sast_support::nested_arrays(10_000).as_bytes()).unwrap_err();
    assert!(error.message.contains("found an array"), "{}", error.message);
    let text = format!("{{\"Issues\": [{}]}}", sast_support::nested_arrays(10_000));
    let error = parse("deep.json", text.as_bytes()).unwrap_err();
    assert!(
        error.message.contains("expected a gosec issue object"),
        "{}",
        error.message
    );
}

#[test]
fn large_report_parses() {
    let count = 20_000;
    let mut text = String::from("{\"Golang errors\": {}, \"Issues\": [");
    for i in 0..count {
        if i > 0 {
            text.push(',');
        }
        text.push_str(&format!(
            r#"{{"severity": "LOW", "confidence": "HIGH", "cwe": {{"id": "703", "url": ""}}, "rule_id": "G104", "details": "Errors unhandled", "file": "/src/p{file}.go", "code": "x()", "line": "{line}", "column": "2", "nosec": false, "suppressions": null}}"#,
            file = i / 500,
            line = i % 500 + 1,
        ));
    }
    text.push_str("], \"Stats\": {}}");
    let report = parse("large.json", text.as_bytes()).unwrap();
    assert_eq!(report.findings.len(), count);
    let fingerprints: BTreeSet<_> = report.findings.iter().map(Finding::fingerprint).collect();
    assert_eq!(fingerprints.len(), count);
}

/// DefectDojo merges issues with the same title (`details - rule
/// rule_id`), file and start line.
fn group_key(finding: &Finding) -> String {
    format!(
        "{} - rule {}|{}|{}",
        finding.title,
        finding.rule_id,
        finding.location.path.as_deref().unwrap_or_default(),
        finding.location.start_line.map(|l| l.to_string()).unwrap_or_default()
    )
}

#[test]
fn corpus_conformance() {
    let reports = common::check_folder("gosec_json", FORMAT, group_key);
    common::check_detection("gosec_json", FORMAT, |_| true);
    let Some((_, many)) = reports.iter().find(|(file, _)| file == "many_vulns.json") else {
        return;
    };
    let findings = &many.findings;
    assert_eq!(findings.len(), 28);
    assert_eq!(findings[0].severity, Severity::Low);
    assert_eq!(
        findings[0].location.path.as_deref(),
        Some("/vagrant/go/src/govwa/app.go")
    );
    assert_eq!(findings[0].location.start_line, Some(79));
    assert_eq!(findings[0].cwes, [Cwe(252)]);
    assert!(findings[2].cwes.is_empty());
    assert_eq!(findings[2].references, ["https://securego.io/docs/rules/g104.html"]);
    assert_eq!(findings[3].cwes, [Cwe(327)]);
    assert_eq!(findings[22].cwes, [Cwe(89)]);
    assert_eq!(findings[22].location.start_line, Some(36));
    assert_eq!(findings[22].location.end_line, Some(39));
}

#[test]
fn corpus_detection_is_exact() {
    sast_support::check_exact_detection(FORMAT, &["gosec_json"], |_| true);
}
