//! Tests of the tfsec JSON parser: fixtures, hostile input and the shared
//! corpus.

mod common;

use std::collections::BTreeSet;

use ctem_ingest::{Detection, ParseError, ParsedReport, Position, find, parse_bytes};
use ctem_model::{AssetKind, Finding, FindingKind, Severity, SourceStatus};
use serde_json::json;

const FORMAT: &str = "tfsec-json";

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

#[test]
fn null_results_are_empty() {
    let report = parse_fixture("empty.json");
    assert!(report.findings.is_empty());
    let targets: Vec<_> = report.targets.iter().cloned().collect();
    assert_eq!(targets, [("tfsec".to_string(), "tfsec-json:empty.json".to_string())]);
    assert_eq!(report.assets.len(), 1);
    assert_eq!(report.assets[0].kind, AssetKind::Repository);
}

#[test]
fn empty_array_is_empty() {
    let report = parse("empty.json", br#"{"results": []}"#).unwrap();
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
    assert_eq!(report.findings.len(), 5, "the passed result gives no finding");
    insta::assert_json_snapshot!("many", normalized(&report));
}

#[test]
fn v1_fields_map() {
    let report = parse_fixture("one.json");
    let finding = &report.findings[0];
    assert_eq!(finding.tool, "tfsec");
    assert_eq!(finding.rule_id, "aws-s3-block-public-acls");
    assert_eq!(finding.kind, FindingKind::Misconfiguration);
    assert_eq!(finding.title, "S3 Access block should block public ACL");
    assert_eq!(finding.severity, Severity::High);
    assert_eq!(
        finding.location.path.as_deref(),
        Some("/src/acme-shop/infra/storage.tf")
    );
    assert_eq!(finding.location.start_line, Some(12));
    assert_eq!(finding.location.end_line, Some(18));
    assert_eq!(finding.tool_fingerprint.as_deref(), Some("aws_s3_bucket.uploads:12"));
    assert_eq!(
        finding.fix.description.as_deref(),
        Some("Enable blocking any PUT calls with a public ACL specified")
    );
    assert_eq!(finding.references.len(), 2);
    assert_eq!(finding.source_status, None);

    assert_eq!(
        finding.attributes.get("avd_id").map(String::as_str),
        Some("AVD-AWS-0086")
    );
    assert_eq!(finding.attributes.get("rule_service").map(String::as_str), Some("s3"));
    assert_eq!(finding.attributes.get("warning"), None);
    assert_eq!(finding.target.as_deref(), Some("tfsec-json:one.json"));
}

#[test]
fn module_instances_stay_apart() {
    let report = parse_fixture("many.json");
    let egress: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.rule_id == "aws-vpc-no-public-egress-sgr")
        .collect();
    assert_eq!(egress.len(), 2);
    assert_eq!(
        egress[0].tool_fingerprint.as_deref(),
        Some("module.sg_web:aws_security_group_rule.egress[0]:40")
    );
    assert_ne!(egress[0].fingerprint(), egress[1].fingerprint());

    let fingerprints: BTreeSet<_> = report.findings.iter().map(Finding::fingerprint).collect();
    assert_eq!(fingerprints.len(), report.findings.len());
}

#[test]
fn ignored_result_is_suppressed() {
    let report = parse_fixture("many.json");
    let finding = report
        .findings
        .iter()
        .find(|f| f.rule_id == "aws-cloudwatch-log-group-customer-key")
        .expect("ignored result");
    assert_eq!(finding.source_status, Some(SourceStatus::Suppressed));
    assert_eq!(finding.severity, Severity::Low);
}

#[test]
fn numeric_status_is_read() {
    let text = br#"{"results": [
        {"rule_id": "AVD-AWS-0001", "long_id": "a", "status": 0},
        {"rule_id": "AVD-AWS-0002", "long_id": "b", "status": 1},
        {"rule_id": "AVD-AWS-0003", "long_id": "c", "status": 2}
    ]}"#;
    let report = parse("status.json", text).unwrap();
    let statuses: Vec<_> = report
        .findings
        .iter()
        .map(|f| (f.rule_id.as_str(), f.source_status))
        .collect();
    assert_eq!(statuses, [("a", None), ("c", Some(SourceStatus::Suppressed))]);
}

#[test]
fn legacy_fields_map() {
    let report = parse_fixture("legacy.json");
    assert_eq!(report.findings.len(), 2, "the passed result gives no finding");
    let first = &report.findings[0];
    assert_eq!(first.rule_id, "AWS002");
    assert_eq!(first.severity, Severity::High, "ERROR");
    assert_eq!(first.references, ["https://tfsec.dev/docs/aws/AWS002/"]);
    assert_eq!(first.tool_fingerprint.as_deref(), Some("aws_s3_bucket.uploads:1"));
    assert_eq!(first.attributes.get("avd_id"), None);

    let second = &report.findings[1];
    assert_eq!(second.rule_id, "GEN001");
    assert_eq!(second.severity, Severity::Medium, "WARNING");
    assert_eq!(second.tool_fingerprint, None, "no quoted resource");
    assert_eq!(second.location.start_line, Some(14));
}

#[test]
fn description_keeps_impact() {
    let report = parse_fixture("legacy.json");
    assert_eq!(
        report.findings[0].description.as_deref(),
        Some(
            "Resource 'aws_s3_bucket.uploads' does not have logging enabled.\n\n\
             Impact: There is no way to determine the access to this bucket"
        )
    );
}

#[test]
fn missing_fields_still_give_finding() {
    let report = parse("bare.json", br#"{"results": [{}]}"#).unwrap();
    let finding = &report.findings[0];
    assert_eq!(finding.rule_id, "unknown-rule");
    assert_eq!(finding.title, "unknown-rule");
    assert_eq!(finding.severity, Severity::Info);
}

#[test]
fn fixtures_are_detected() {
    let parser = find(FORMAT).expect("registered");
    for name in ["one.json", "many.json", "legacy.json"] {
        assert_eq!(parser.detect(&fixture(name)), Detection::Certain, "{name}");
        assert_eq!(
            ctem_ingest::detect(&fixture(name)).map(|p| p.info().id),
            Some(FORMAT),
            "{name}"
        );
    }
    assert_eq!(parser.detect(&fixture("empty.json")), Detection::Maybe);
    assert_eq!(parser.detect(b"{\"results\": []}"), Detection::Maybe);
    assert_eq!(parser.detect(b"{\"results\": [], \"errors\": []}"), Detection::No);
    assert_eq!(parser.detect(b"[{\"rule_description\": 1}]"), Detection::No);
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
    let error = parse("bad.json", b"{\"results\": [{\"rule_id\": }]}").unwrap_err();
    assert_eq!(error.format, FORMAT);
    assert_eq!(error.position, Some(Position::LineColumn { line: 1, column: 26 }));
}

#[test]
fn missing_results_is_wrong_format() {
    let error = parse("grype.json", br#"{"matches": [], "source": {}}"#).unwrap_err();
    assert!(error.message.contains("expected a tfsec report"), "{}", error.message);
    assert!(error.message.contains("\"matches\""), "{}", error.message);
}

#[test]
fn array_root_is_wrong_format() {
    let error = parse("gitleaks.json", b"[]").unwrap_err();
    assert!(error.message.contains("tfsec report"), "{}", error.message);
}

#[test]
fn wrong_field_type_is_rejected() {
    let error = parse(
        "types.json",
        br#"{"results": [{"location": {"start_line": "twelve"}}]}"#,
    )
    .unwrap_err();
    assert!(error.message.contains("invalid type"), "{}", error.message);
}

#[test]
fn array_record_is_rejected() {
    let error = parse("array.json", br#"{"results": [["AVD-AWS-0086"]]}"#).unwrap_err();
    assert!(error.message.contains("expected an object"), "{}", error.message);
}

#[test]
fn trailing_data_is_rejected() {
    let error = parse("two.json", br#"{"results": null} {}"#).unwrap_err();
    assert!(error.message.contains("trailing"), "{}", error.message);
}

#[test]
fn invalid_utf8_is_rejected() {
    let mut bytes = br#"{"results": [{"rule_id": ""#.to_vec();
    bytes.extend_from_slice(&[0xc3, 0x28]);
    bytes.extend_from_slice(br#""}]}"#);
    let error = parse("latin1.json", &bytes).unwrap_err();
    assert!(error.position.is_some(), "{error}");
    assert!(error.message.contains("invalid unicode"), "{}", error.message);
}

#[test]
fn deep_nesting_errors() {
    let depth = 10_000;
    let text = format!("{{\"results\": {}{}}}", "[".repeat(depth), "]".repeat(depth));
    let error = parse("deep.json", text.as_bytes()).unwrap_err();
    assert_eq!(error.format, FORMAT);
    assert!(error.position.is_some(), "{error}");
}

#[test]
fn long_description_is_kept() {
    let long = "a".repeat(200_000);
    let text = format!(r#"{{"results": [{{"rule_id": "x", "description": "{long}"}}]}}"#);
    let report = parse("long.json", text.as_bytes()).unwrap();
    assert_eq!(report.findings[0].title.len(), 200_000);
}

#[test]
fn large_report_parses() {
    let count = 20_000;
    let mut text = String::from("{\"results\": [");
    for i in 0..count {
        if i > 0 {
            text.push(',');
        }
        text.push_str(&format!(
            r#"{{"rule_id": "AVD-AWS-{rule:04}", "long_id": "aws-generated-{rule}", "rule_description": "Generated rule {rule}", "severity": "MEDIUM", "status": 0, "resource": "aws_s3_bucket.b{i}", "location": {{"filename": "gen/file{file}.tf", "start_line": {line}, "end_line": {line}}}}}"#,
            rule = i % 40,
            file = i / 1000,
            line = i % 1000 + 1,
        ));
    }
    text.push_str("]}");
    let report = parse("large.json", text.as_bytes()).unwrap();
    assert_eq!(report.findings.len(), count);
    let fingerprints: BTreeSet<_> = report.findings.iter().map(Finding::fingerprint).collect();
    assert_eq!(fingerprints.len(), count);
}

/// DefectDojo merges tfsec results by provider, rule, file and line range;
/// ctem keeps one finding per resource (see the parser docs).
fn group_key(finding: &Finding) -> String {
    format!(
        "{}|{}|{}|{:?}|{:?}",
        finding
            .attributes
            .get("rule_provider")
            .map(String::as_str)
            .unwrap_or(""),
        finding.rule_id,
        finding.location.path.as_deref().unwrap_or(""),
        finding.location.start_line,
        finding.location.end_line,
    )
}

#[test]
fn corpus_conformance() {
    let reports = common::check_folder("tfsec", FORMAT, group_key);
    common::check_detection("tfsec", FORMAT, |_| true);
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

    let current = report("many_findings_current.json");
    assert_eq!(current.findings.len(), 19, "one finding per raw result");
    let first = &current.findings[0];
    assert_eq!(first.title, "An ingress Network ACL rule allows ALL ports.");
    assert_eq!(first.severity, Severity::Critical);
    assert_eq!(first.rule_id, "aws-vpc-no-excessive-port-access");
    assert_eq!(
        first.location.path.as_deref(),
        Some("/tmp/aws-eks/modules/vpc-subnets/resources.tf")
    );
    assert_eq!(first.location.start_line, Some(155));
    let fingerprints: BTreeSet<_> = current.findings.iter().map(Finding::fingerprint).collect();
    assert_eq!(fingerprints.len(), 19);

    // The expected severity counts are over DefectDojo's 13 merged
    // findings, so count the severities of one finding per group.
    let mut groups = std::collections::BTreeMap::new();
    for finding in &current.findings {
        groups.entry(group_key(finding)).or_insert(finding.severity);
    }
    let count = |severity| groups.values().filter(|s| **s == severity).count();
    assert_eq!(count(Severity::Critical), 8);
    assert_eq!(count(Severity::High), 3);
    assert_eq!(count(Severity::Medium), 1);
    assert_eq!(count(Severity::Low), 1);

    let legacy = report("many_findings_legacy.json");
    assert_eq!(legacy.findings[0].title, "Pod security policy enforcement not defined.");
    assert_eq!(legacy.findings[0].severity, Severity::High);
    assert_eq!(legacy.findings[0].rule_id, "GCP009");
    assert_eq!(
        legacy.findings[0].location.path.as_deref(),
        Some("tfsec-test/cluster.tf")
    );
    assert_eq!(legacy.findings[0].location.start_line, Some(52));
    assert_eq!(legacy.findings[1].title, "Shielded GKE nodes not enabled.");
    assert_eq!(legacy.findings[1].rule_id, "GCP010");
    assert_eq!(legacy.findings[2].rule_id, "GEN003");
    assert_eq!(legacy.findings[2].severity, Severity::Medium);
    assert_eq!(legacy.findings[2].location.start_line, Some(226));

    let one = report("one_finding_legacy.json");
    let finding = &one.findings[0];
    assert_eq!(finding.title, "Potentially sensitive data stored in block attribute.");
    assert_eq!(finding.severity, Severity::Medium);
    assert_eq!(finding.rule_id, "GEN003");
    assert_eq!(finding.location.path.as_deref(), Some("tfsec-test/identity.tf"));
    assert_eq!(finding.location.start_line, Some(226));
    assert_eq!(
        finding.tool_fingerprint.as_deref(),
        Some("keycloak_oidc_identity_provider.google:226")
    );
}
