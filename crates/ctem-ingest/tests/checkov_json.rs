//! Tests of the Checkov JSON parser: fixtures, hostile input and the
//! shared corpus.

mod common;

use ctem_ingest::{Detection, ParseError, ParsedReport, Position, find, parse_bytes};
use ctem_model::{AssetKind, Finding, FindingKind, RelationshipKind, Severity, SourceStatus};
use serde_json::json;

const FORMAT: &str = "checkov-json";

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

fn by_rule<'r>(report: &'r ParsedReport, rule_id: &str) -> &'r Finding {
    report
        .findings
        .iter()
        .find(|f| f.rule_id == rule_id)
        .unwrap_or_else(|| panic!("no finding {rule_id}"))
}

#[test]
fn bare_summary_is_empty() {
    let report = parse_fixture("empty.json");
    assert!(report.findings.is_empty());
    let targets: Vec<_> = report.targets.iter().cloned().collect();
    assert_eq!(
        targets,
        [("checkov".to_string(), "checkov-json:empty.json".to_string())]
    );
    assert_eq!(report.assets.len(), 1);
    assert_eq!(report.assets[0].kind, AssetKind::Repository);
}

#[test]
fn passed_checks_are_not_findings() {
    let report = parse_fixture("no_failures.json");
    assert!(report.findings.is_empty());
    assert_eq!(report.targets.len(), 1);
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
    assert_eq!(report.findings.len(), 7);
    insta::assert_json_snapshot!("many", normalized(&report));
}

#[test]
fn check_fields_map() {
    let report = parse_fixture("one.json");
    let finding = &report.findings[0];
    assert_eq!(finding.tool, "checkov");
    assert_eq!(finding.rule_id, "CKV_AWS_18");
    assert_eq!(finding.kind, FindingKind::Misconfiguration);
    assert_eq!(finding.title, "Ensure the S3 bucket has access logging enabled");
    assert_eq!(finding.location.path.as_deref(), Some("/modules/storage/main.tf"));
    assert_eq!(finding.location.start_line, Some(4));
    assert_eq!(finding.location.end_line, Some(7));
    assert_eq!(
        finding.tool_fingerprint.as_deref(),
        Some("module.storage.aws_s3_bucket.invoices")
    );
    assert_eq!(finding.target.as_deref(), Some("checkov-json:one.json"));
    assert_eq!(finding.asset.as_str(), "repository:checkov-json:one.json");

    let evidence = finding.evidence.as_deref().unwrap_or_default();
    assert!(
        evidence.starts_with("4 | resource \"aws_s3_bucket\" \"invoices\" {"),
        "{evidence}"
    );
    assert_eq!(finding.references.len(), 1);

    assert_eq!(
        finding.attributes.get("bc_check_id").map(String::as_str),
        Some("BC_AWS_S3_13")
    );
    assert_eq!(
        finding.attributes.get("check_type").map(String::as_str),
        Some("terraform")
    );
    assert_eq!(
        finding.attributes.get("evaluated_keys").map(String::as_str),
        Some("logging")
    );
}

/// Checkov without a platform key writes no severity, so such checks are
/// Medium, as the module docs explain.
#[test]
fn missing_severity_is_medium() {
    let report = parse_fixture("one.json");
    assert_eq!(report.findings[0].severity, Severity::Medium);
}

#[test]
fn severity_object_is_read() {
    let report = parse_fixture("severity_object.json");
    assert_eq!(report.findings.len(), 1);
    assert_eq!(report.findings[0].severity, Severity::Critical);
}

#[test]
fn report_severities_win() {
    let report = parse_fixture("many.json");
    assert_eq!(by_rule(&report, "CKV_AWS_16").severity, Severity::High);
    assert_eq!(by_rule(&report, "CKV_AWS_293").severity, Severity::Low);
    assert_eq!(by_rule(&report, "CKV_DOCKER_3").severity, Severity::Medium);
}

#[test]
fn skipped_check_is_suppressed() {
    let report = parse_fixture("many.json");
    let finding = by_rule(&report, "CKV_AWS_157");
    assert_eq!(finding.source_status, Some(SourceStatus::Suppressed));
    assert_eq!(
        finding.attributes.get("suppress_comment").map(String::as_str),
        Some("Single zone is enough for the staging database")
    );
    let failed = by_rule(&report, "CKV_AWS_16");
    assert_eq!(failed.source_status, None);
}

#[test]
fn dockerfile_line_zero_is_none() {
    let report = parse_fixture("many.json");
    let finding = by_rule(&report, "CKV_DOCKER_3");
    assert_eq!(finding.location.path.as_deref(), Some("/services/api/Dockerfile"));
    assert_eq!(finding.location.start_line, None);
    assert_eq!(finding.location.end_line, None);
    assert_eq!(finding.evidence, None);
}

#[test]
fn secret_check_is_secret_kind() {
    let report = parse_fixture("many.json");
    let finding = by_rule(&report, "CKV_SECRET_2");
    assert_eq!(finding.kind, FindingKind::Secret);
    assert_eq!(finding.title, "AWS Access Key");
    assert!(finding.secret.is_none(), "Checkov reports no clear value");
    assert_eq!(
        finding.evidence.as_deref(),
        Some("3 | aws_access_key_id = AKIA****************")
    );
}

#[test]
fn package_vulnerability_maps() {
    let report = parse_fixture("many.json");
    let finding = by_rule(&report, "CKV_CVE_2023_30861");
    assert_eq!(finding.kind, FindingKind::Vulnerability);
    assert_eq!(finding.title, "CVE-2023-30861 - flask: 2.2.2");
    assert_eq!(finding.severity, Severity::High);
    let ids: Vec<_> = finding.vulnerability_ids.iter().map(|id| id.as_str()).collect();
    assert_eq!(ids, ["CVE-2023-30861"]);
    assert_eq!(finding.cvss.len(), 1);
    let component = finding.component.as_ref().expect("component");
    assert_eq!(component.name, "flask");
    assert_eq!(component.version.as_deref(), Some("2.2.2"));
    assert_eq!(component.ecosystem.as_deref(), Some("python"));
    assert_eq!(finding.fix.fixed_versions, ["2.3.2", "2.2.5"]);
    assert_eq!(finding.references, ["https://nvd.nist.gov/vuln/detail/CVE-2023-30861"]);
}

#[test]
fn license_check_is_license_kind() {
    let report = parse_fixture("many.json");
    let finding = by_rule(&report, "BC_LIC_1");
    assert_eq!(finding.kind, FindingKind::License);
    assert_eq!(finding.title, "SCA license: chardet: 5.1.0 (LGPL-2.1)");
    assert_eq!(finding.component.as_ref().map(|c| c.name.as_str()), Some("chardet"));
}

#[test]
fn packages_are_contained_components() {
    let report = parse_fixture("many.json");
    let components: Vec<_> = report
        .assets
        .iter()
        .filter(|a| a.kind == AssetKind::Component)
        .map(|a| a.key.as_str())
        .collect();
    assert_eq!(components, ["component:flask@2.2.2", "component:chardet@5.1.0"]);
    assert_eq!(report.relationships.len(), 2);
    assert!(
        report
            .relationships
            .iter()
            .all(|r| r.kind == RelationshipKind::Contains && r.from.as_str() == "repository:checkov-json:many.json")
    );
}

#[test]
fn fingerprints_are_distinct() {
    let report = parse_fixture("many.json");
    let fingerprints: std::collections::BTreeSet<_> = report.findings.iter().map(Finding::fingerprint).collect();
    assert_eq!(fingerprints.len(), report.findings.len());
}

#[test]
fn fingerprint_ignores_line_shift() {
    let original = String::from_utf8(fixture("one.json")).unwrap();
    let shifted = original.replace("\"file_line_range\": [4, 7]", "\"file_line_range\": [9, 12]");
    assert_ne!(original, shifted);
    let before = parse("one.json", original.as_bytes()).unwrap();
    let after = parse("one.json", shifted.as_bytes()).unwrap();
    assert_eq!(before.findings[0].fingerprint(), after.findings[0].fingerprint());
}

#[test]
fn fixtures_are_detected() {
    let parser = find(FORMAT).expect("registered");
    for name in [
        "empty.json",
        "no_failures.json",
        "one.json",
        "many.json",
        "severity_object.json",
    ] {
        assert_eq!(parser.detect(&fixture(name)), Detection::Certain, "{name}");
        assert_eq!(
            ctem_ingest::detect(&fixture(name)).map(|p| p.info().id),
            Some(FORMAT),
            "{name}"
        );
    }
    assert_eq!(parser.detect(b"[]"), Detection::No);
    assert_eq!(parser.detect(br#"{"results": []}"#), Detection::No);
    assert_eq!(parser.detect(br#"[{"check_id": "python.lang.x"}]"#), Detection::No);
}

#[test]
fn truncated_file_names_position() {
    let bytes = fixture("one.json");
    let error = parse("cut.json", &bytes[..bytes.len() / 2]).unwrap_err();
    assert!(error.message.contains("truncated"), "{}", error.message);
    assert!(matches!(error.position, Some(Position::LineColumn { .. })), "{error}");
    assert!(error.to_string().starts_with("cut.json: line "), "{error}");
}

#[test]
fn invalid_syntax_is_rejected() {
    let error = parse("bad.json", br#"{"check_type": "terraform",, }"#).unwrap_err();
    assert_eq!(error.format, FORMAT);
    assert_eq!(error.position, Some(Position::LineColumn { line: 1, column: 28 }));
}

#[test]
fn other_object_is_wrong_format() {
    let error = parse("trivy.json", br#"{"SchemaVersion": 2, "Results": []}"#).unwrap_err();
    assert!(error.message.contains("expected a Checkov report"), "{}", error.message);
    assert!(error.message.contains("\"SchemaVersion\""), "{}", error.message);
}

#[test]
fn other_array_is_wrong_format() {
    let error = parse("gitleaks.json", br#"[{"RuleID": "aws-access-token", "Secret": "x"}]"#).unwrap_err();
    assert!(error.message.contains("expected a Checkov report"), "{}", error.message);
    assert!(error.message.contains("\"RuleID\""), "{}", error.message);
}

#[test]
fn scalar_root_is_rejected() {
    let error = parse("number.json", b"42").unwrap_err();
    assert!(error.message.contains("Checkov report"), "{}", error.message);
}

#[test]
fn wrong_field_type_is_rejected() {
    let text = br#"{"check_type": "terraform", "results": {"failed_checks": [{"check_id": "CKV_AWS_1", "file_line_range": "one"}]}}"#;
    let error = parse("types.json", text).unwrap_err();
    assert!(error.message.contains("invalid type"), "{}", error.message);
}

#[test]
fn trailing_data_is_rejected() {
    let error = parse("two.json", br#"{"checkov_version": "3.0.0"} {}"#).unwrap_err();
    assert!(error.message.contains("trailing"), "{}", error.message);
}

#[test]
fn invalid_utf8_is_rejected() {
    let mut bytes = br#"{"check_type": "terraform", "results": {"failed_checks": [{"check_id": ""#.to_vec();
    bytes.extend_from_slice(&[0xff, 0xfe]);
    bytes.extend_from_slice(br#""}]}}"#);
    let error = parse("latin1.json", &bytes).unwrap_err();
    assert!(error.position.is_some(), "{error}");
    assert!(error.message.contains("invalid unicode"), "{}", error.message);
}

#[test]
fn deep_nesting_errors() {
    let depth = 10_000;
    let text = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let error = parse("deep.json", text.as_bytes()).unwrap_err();
    assert_eq!(error.format, FORMAT);
    assert!(error.position.is_some(), "{error}");
}

/// serde_json skips a value it does not keep without recursion, so depth
/// there costs no stack and the check around it still counts.
#[test]
fn deep_skipped_value_is_read() {
    let depth = 10_000;
    let text = format!(
        r#"{{"check_type": "terraform", "results": {{"failed_checks": [{{"check_id": "CKV_AWS_1", "details": {}{}}}]}}}}"#,
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let report = parse("deep.json", text.as_bytes()).unwrap();
    assert_eq!(report.findings.len(), 1);
}

/// A deeply nested code block is no `[line, text]` pair, so it is rejected
/// at its position, and the nesting costs no stack.
#[test]
fn deep_code_block_is_rejected() {
    let depth = 10_000;
    let text = format!(
        r#"{{"check_type": "terraform", "results": {{"failed_checks": [{{"check_id": "CKV_AWS_1", "code_block": {}{}}}]}}}}"#,
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let error = parse("deep.json", text.as_bytes()).unwrap_err();
    assert!(error.position.is_some(), "{error}");
    assert!(error.message.contains("CodeLine"), "{}", error.message);
}

#[test]
fn long_code_block_is_cut() {
    let line = "x".repeat(100_000);
    let text = format!(
        r#"{{"check_type": "terraform", "results": {{"failed_checks": [{{"check_id": "CKV_AWS_1", "check_name": "Long", "code_block": [[1, "{line}"]]}}]}}}}"#
    );
    let report = parse("long.json", text.as_bytes()).unwrap();
    let evidence = report.findings[0].evidence.as_deref().unwrap_or_default();
    assert!(evidence.len() < 5_000, "{} bytes", evidence.len());
    assert!(
        evidence.ends_with("bytes kept]"),
        "{}",
        &evidence[evidence.len() - 40..]
    );
}

#[test]
fn large_report_parses() {
    let count = 20_000;
    let mut text = String::from(r#"{"check_type": "terraform", "results": {"failed_checks": ["#);
    for i in 0..count {
        if i > 0 {
            text.push(',');
        }
        text.push_str(&format!(
            r#"{{"check_id": "CKV_AWS_{rule}", "check_name": "Generated check {rule}", "check_result": {{"result": "FAILED"}}, "file_path": "/gen/file{file}.tf", "file_line_range": [{line}, {end}], "resource": "aws_s3_bucket.b{i}"}}"#,
            rule = i % 50,
            file = i / 1000,
            line = i % 1000 + 1,
            end = i % 1000 + 5,
        ));
    }
    text.push_str(r#"]}, "summary": {"checkov_version": "3.2.255"}}"#);
    let report = parse("large.json", text.as_bytes()).unwrap();
    assert_eq!(report.findings.len(), count);
    let fingerprints: std::collections::BTreeSet<_> = report.findings.iter().map(Finding::fingerprint).collect();
    assert_eq!(fingerprints.len(), count);
}

/// Checkov gives one record per failed check and resource, and DefectDojo
/// keeps each, so every finding is its own group.
fn group_key(finding: &Finding) -> String {
    finding.fingerprint().to_string()
}

#[test]
fn corpus_conformance() {
    let reports = common::check_folder("checkov", FORMAT, group_key);
    common::check_detection("checkov", FORMAT, |_| true);
    if reports.is_empty() {
        return;
    }
    let report = |name: &str| {
        &reports
            .iter()
            .find(|(file, _)| file == name)
            .unwrap_or_else(|| panic!("{name} parsed"))
            .1
    };

    let multiple = report("checkov-report-multiple-check_type.json");
    assert_eq!(multiple.findings.len(), 13);
    let first = &multiple.findings[0];
    assert_eq!(first.rule_id, "CKV_AWS_161");
    assert_eq!(first.title, "Ensure RDS database has IAM authentication enabled");
    assert_eq!(first.severity, Severity::Medium);
    assert_eq!(first.location.path.as_deref(), Some("/aws/db-app.tf"));
    assert_eq!(first.location.start_line, Some(1));
    assert_eq!(
        first.attributes.get("resource").map(String::as_str),
        Some("aws_db_instance.default")
    );
    let types: Vec<_> = multiple
        .findings
        .iter()
        .map(|f| f.attributes.get("check_type").map(String::as_str).unwrap_or_default())
        .collect();
    assert_eq!(types.iter().filter(|t| **t == "terraform").count(), 11);
    assert_eq!(types.iter().filter(|t| **t == "dockerfile").count(), 2);

    // DefectDojo keeps Checkov's line 0 for Dockerfile-wide checks; ctem
    // has no line there.
    let docker = &multiple.findings[11];
    assert_eq!(docker.rule_id, "CKV_DOCKER_3");
    assert_eq!(docker.title, "Ensure that a user for the container has been created");
    assert_eq!(docker.severity, Severity::Medium);
    assert_eq!(docker.location.path.as_deref(), Some("/aws/resources/Dockerfile"));
    assert_eq!(docker.location.start_line, None);
    assert_eq!(
        docker.attributes.get("resource").map(String::as_str),
        Some("/aws/resources/Dockerfile.")
    );
    assert_eq!(
        docker.references,
        ["https://docs.bridgecrew.io/docs/ensure-that-a-user-for-the-container-has-been-created"]
    );

    let severities: Vec<_> = report("checkov-report-severity.json")
        .findings
        .iter()
        .map(|f| f.severity)
        .collect();
    assert_eq!(
        severities,
        [Severity::Medium, Severity::Medium, Severity::Low, Severity::High]
    );

    let one = report("checkov-report-1-vuln.json");
    assert_eq!(one.findings[0].rule_id, "CKV_AZURE_42");
    assert_eq!(one.findings[0].title, "Ensure the key vault is recoverable");
}
