//! Tests of the KICS JSON parser: fixtures, hostile input and the shared
//! corpus.

mod common;

use std::collections::BTreeSet;

use ctem_ingest::{Detection, ParseError, ParsedReport, Position, find, parse_bytes};
use ctem_model::{AssetKind, Cwe, Finding, FindingKind, Severity};
use serde_json::json;

const FORMAT: &str = "kics-json";

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{FORMAT}/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn parse(name: &str, bytes: &[u8]) -> Result<ParsedReport, ParseError> {
    parse_bytes(find(FORMAT).expect("registered"), name, bytes)
}

fn parse_fixture(name: &str) -> ParsedReport {
    parse(name, &fixture(name)).unwrap_or_else(|e| panic!("{e}"))
}

/// Converts the report to JSON for snapshots, with each finding's fingerprint.
fn normalized(report: &ParsedReport) -> serde_json::Value {
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

fn by_name<'r>(report: &'r ParsedReport, query_name: &str) -> Vec<&'r Finding> {
    report
        .findings
        .iter()
        .filter(|f| f.attributes.get("query_name").map(String::as_str) == Some(query_name))
        .collect()
}

#[test]
fn no_queries_is_empty() {
    let report = parse_fixture("empty.json");
    assert!(report.findings.is_empty());
    let targets: Vec<_> = report.targets.iter().cloned().collect();
    assert_eq!(targets, [("kics".to_string(), "kics-json:empty.json".to_string())]);
    assert_eq!(report.assets.len(), 1);
    assert_eq!(report.assets[0].kind, AssetKind::Repository);
}

#[test]
fn one_finding_snapshot() {
    let report = parse_fixture("one.json");
    assert_eq!(report.findings.len(), 1);
    insta::assert_json_snapshot!("one", normalized(&report));
}

#[test]
fn many_findings_snapshot() {
    let report = parse_fixture("many.json");
    assert_eq!(report.findings.len(), 6);
    insta::assert_json_snapshot!("many", normalized(&report));
}

#[test]
fn query_fields_map() {
    let report = parse_fixture("one.json");
    let finding = &report.findings[0];
    assert_eq!(finding.tool, "kics");
    assert_eq!(finding.rule_id, "6726dcc0-5ff5-459d-b473-a780bef7665c");
    assert_eq!(finding.kind, FindingKind::Misconfiguration);
    assert_eq!(finding.title, "Encryption: S3 Bucket Without Server-side-encryption");
    assert_eq!(finding.severity, Severity::High);
    assert_eq!(finding.cwes, [Cwe(311)]);
    assert_eq!(finding.location.path.as_deref(), Some("infra/storage.tf"));
    assert_eq!(finding.location.start_line, Some(5));
    assert_eq!(
        finding.tool_fingerprint.as_deref(),
        Some("9f3c2a41d6e8b7c05a1f4e3d2c1b0a9f8e7d6c5b4a39281706f5e4d3c2b1a0f9")
    );
    assert_eq!(
        finding.fix.description.as_deref(),
        Some("'aws_s3_bucket.server_side_encryption_configuration' should be defined and not null")
    );
    assert_eq!(finding.references.len(), 1);
    assert_eq!(
        finding.attributes.get("resource_name").map(String::as_str),
        Some("invoices")
    );
    assert_eq!(
        finding.attributes.get("cloud_provider").map(String::as_str),
        Some("AWS")
    );
    assert_eq!(finding.target.as_deref(), Some("kics-json:one.json"));
}

#[test]
fn secret_query_is_secret_kind() {
    let report = parse_fixture("many.json");
    let findings = by_name(&report, "Passwords And Secrets - Generic Password");
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].kind, FindingKind::Secret);
    assert!(findings[0].secret.is_none(), "KICS masks the value itself");
    assert_eq!(findings[0].cwes, [Cwe(798)]);
}

#[test]
fn shared_similarity_ids_are_numbered() {
    let report = parse_fixture("many.json");
    let wildcard = by_name(&report, "RBAC Wildcard In Rule");
    assert_eq!(wildcard.len(), 3);
    let id = "8c2f6a0e4b9d3f7a1c5e9b3d7f1a5c9e3b7d1f5a9c3e7b1d5f9a3c7e1b5d9f3a";
    let fingerprints: Vec<_> = wildcard
        .iter()
        .map(|f| f.tool_fingerprint.clone().unwrap_or_default())
        .collect();
    assert_eq!(fingerprints, [id.to_string(), format!("{id}#2"), format!("{id}#3")]);
    let distinct: BTreeSet<_> = report.findings.iter().map(Finding::fingerprint).collect();
    assert_eq!(distinct.len(), report.findings.len());
}

#[test]
fn trace_severity_is_info() {
    let report = parse_fixture("many.json");
    let findings = by_name(&report, "Healthcheck Instruction Missing");
    assert_eq!(findings[0].severity, Severity::Info);
}

#[test]
fn empty_similarity_id_uses_line() {
    let report = parse_fixture("many.json");
    let finding = by_name(&report, "Healthcheck Instruction Missing")[0];
    assert_eq!(finding.tool_fingerprint, None);
    assert_eq!(finding.location.start_line, Some(1));
}

#[test]
fn home_page_url_is_skipped() {
    let report = parse_fixture("many.json");
    let finding = by_name(&report, "Healthcheck Instruction Missing")[0];
    assert!(finding.references.is_empty(), "{:?}", finding.references);
}

#[test]
fn evidence_pairs_expected_and_actual() {
    let report = parse_fixture("many.json");
    let finding = by_name(&report, "Service Account Token Automount Not Disabled")[0];
    assert_eq!(
        finding.evidence.as_deref(),
        Some(
            "Expected: 'spec.template.spec.automountServiceAccountToken' should be defined and set to false\n\n\
             Actual: 'spec.template.spec.automountServiceAccountToken' is undefined"
        )
    );
    assert_eq!(
        finding.attributes.get("remediation").map(String::as_str),
        Some("automountServiceAccountToken: false")
    );
    assert_eq!(finding.cwes, [Cwe(250)]);
}

#[test]
fn fixtures_are_detected() {
    let parser = find(FORMAT).expect("registered");
    for name in ["empty.json", "one.json", "many.json"] {
        assert_eq!(parser.detect(&fixture(name)), Detection::Certain, "{name}");
        assert_eq!(
            ctem_ingest::detect(&fixture(name)).map(|p| p.info().id),
            Some(FORMAT),
            "{name}"
        );
    }
    assert_eq!(parser.detect(b"{\"queries\": []}"), Detection::No);
    assert_eq!(parser.detect(b"[{\"queries_total\": 1}]"), Detection::No);
}

#[test]
fn truncated_file_names_position() {
    let bytes = fixture("many.json");
    let error = parse("cut.json", &bytes[..bytes.len() / 2]).unwrap_err();
    assert!(error.message.contains("truncated"), "{}", error.message);
    assert!(matches!(error.position, Some(Position::LineColumn { .. })), "{error}");
    assert!(error.to_string().starts_with("cut.json: line "), "{error}");
}

#[test]
fn invalid_syntax_is_rejected() {
    let error = parse("bad.json", b"{\"queries\": [}").unwrap_err();
    assert_eq!(error.format, FORMAT);
    assert_eq!(error.position, Some(Position::LineColumn { line: 1, column: 14 }));
}

#[test]
fn missing_queries_is_wrong_format() {
    let error = parse("tfsec.json", br#"{"results": []}"#).unwrap_err();
    assert!(error.message.contains("expected a KICS report"), "{}", error.message);
    assert!(error.message.contains("\"results\""), "{}", error.message);
}

#[test]
fn array_root_is_wrong_format() {
    let error = parse("array.json", b"[{}]").unwrap_err();
    assert!(error.message.contains("KICS report"), "{}", error.message);
}

#[test]
fn wrong_field_type_is_rejected() {
    let error = parse("types.json", br#"{"queries": [{"files": [{"line": "five"}]}]}"#).unwrap_err();
    assert!(error.message.contains("invalid type"), "{}", error.message);
}

#[test]
fn array_record_is_rejected() {
    let error = parse("array.json", br#"{"queries": [["S3 Bucket"]]}"#).unwrap_err();
    assert!(error.message.contains("expected an object"), "{}", error.message);
}

#[test]
fn trailing_data_is_rejected() {
    let error = parse("two.json", br#"{"queries": []} x"#).unwrap_err();
    assert!(error.message.contains("trailing"), "{}", error.message);
}

#[test]
fn invalid_utf8_is_rejected() {
    let mut bytes = br#"{"queries": [{"query_name": ""#.to_vec();
    bytes.extend_from_slice(&[0xe2, 0x28, 0xa1]);
    bytes.extend_from_slice(br#""}]}"#);
    let error = parse("latin1.json", &bytes).unwrap_err();
    assert!(error.position.is_some(), "{error}");
    assert!(error.message.contains("invalid unicode"), "{}", error.message);
}

#[test]
fn deep_nesting_errors() {
    let depth = 10_000;
    let text = format!("{{\"queries\": {}{}}}", "[".repeat(depth), "]".repeat(depth));
    let error = parse("deep.json", text.as_bytes()).unwrap_err();
    assert_eq!(error.format, FORMAT);
    assert!(error.position.is_some(), "{error}");
}

#[test]
fn long_values_are_cut() {
    let long = "v".repeat(50_000);
    let text = format!(
        r#"{{"queries": [{{"query_name": "Long", "files": [{{"file_name": "a.tf", "line": 1, "expected_value": "{long}", "actual_value": "{long}"}}]}}]}}"#
    );
    let report = parse("long.json", text.as_bytes()).unwrap();
    let evidence = report.findings[0].evidence.as_deref().unwrap_or_default();
    assert!(evidence.len() < 5_000, "{} bytes", evidence.len());
}

#[test]
fn large_report_parses() {
    let queries = 100;
    let per_query = 200;
    let mut text = String::from("{\"kics_version\": \"v2.1.3\", \"queries\": [");
    for q in 0..queries {
        if q > 0 {
            text.push(',');
        }
        text.push_str(&format!(
            r#"{{"query_name": "Generated {q}", "query_id": "00000000-0000-4000-8000-{q:012}", "severity": "LOW", "category": "Best Practices", "files": ["#
        ));
        for f in 0..per_query {
            if f > 0 {
                text.push(',');
            }
            text.push_str(&format!(
                r#"{{"file_name": "gen/{f}.tf", "line": {line}, "similarity_id": "{q:04}{f:060}"}}"#,
                line = f + 1,
            ));
        }
        text.push_str("]}");
    }
    text.push_str("]}");
    let report = parse("large.json", text.as_bytes()).unwrap();
    assert_eq!(report.findings.len(), queries * per_query);
    let fingerprints: BTreeSet<_> = report.findings.iter().map(Finding::fingerprint).collect();
    assert_eq!(fingerprints.len(), queries * per_query);
}

/// DefectDojo keeps each of the 18 file entries of the corpus report, and
/// so does ctem, so every finding is its own group.
fn group_key(finding: &Finding) -> String {
    finding.fingerprint().to_string()
}

#[test]
fn corpus_conformance() {
    let reports = common::check_folder("kics", FORMAT, group_key);
    common::check_detection("kics", FORMAT, |_| true);
    if reports.is_empty() {
        return;
    }
    let many = &reports
        .iter()
        .find(|(file, _)| file == "many_findings.json")
        .expect("many_findings.json parsed")
        .1;
    let first = &many.findings[0];
    assert_eq!(
        first.title,
        "Secret Management: Passwords And Secrets In Infrastructure Code"
    );
    assert_eq!(first.severity, Severity::High);
    assert_eq!(
        first.location.path.as_deref(),
        Some("test/charts/example/terraform/main.tf")
    );
    assert_eq!(first.location.start_line, Some(25));
    assert_eq!(first.attributes.get("platform").map(String::as_str), Some("Common"));

    let second = &many.findings[1];
    assert_eq!(second.title, "Access Control: S3 Bucket Access to Any Principal");
    assert_eq!(second.severity, Severity::High);
    assert_eq!(
        second.location.path.as_deref(),
        Some("test/charts/example/terraform/s3.tf")
    );
    assert_eq!(second.location.start_line, Some(36));
    assert_eq!(second.attributes.get("platform").map(String::as_str), Some("Terraform"));

    let third = &many.findings[2];
    assert_eq!(
        third.title,
        "Access Control: S3 Bucket Allows Get Action From All Principals"
    );
    assert_eq!(third.severity, Severity::High);
    assert_eq!(third.location.start_line, Some(43));

    let fourth = &many.findings[3];
    assert_eq!(fourth.title, "Encryption: S3 Bucket Without Server-side-encryption");
    assert_eq!(fourth.severity, Severity::High);
    assert_eq!(
        fourth.location.path.as_deref(),
        Some("test/charts/example/terraform/s3.tf")
    );
}
