//! Tests of the Prowler v2 JSON parser: fixtures, hostile input and the
//! shared corpus.

mod common;
mod cspm;

use ctem_ingest::{Detection, ParseError, ParsedReport, Position, find};
use ctem_model::{AssetKind, Finding, FindingKind, RelationshipKind, Severity, SourceStatus};

const FORMAT: &str = "prowler-v2-json";

fn parse(name: &str, bytes: &[u8]) -> Result<ParsedReport, ParseError> {
    cspm::parse(FORMAT, name, bytes)
}

fn parse_fixture(name: &str) -> ParsedReport {
    cspm::parse_fixture(FORMAT, name)
}

#[test]
fn empty_file_is_empty() {
    let report = parse_fixture("empty.json");
    assert!(report.findings.is_empty());
    assert_eq!(cspm::targets(&report, "prowler"), ["prowler-v2-json:empty.json"]);
}

#[test]
fn one_finding_snapshot() {
    let report = parse_fixture("one.json");
    assert_eq!(report.findings.len(), 1);
    insta::assert_json_snapshot!("one", cspm::normalized(&report));
}

#[test]
fn many_findings_snapshot() {
    let report = parse_fixture("many.json");
    assert_eq!(report.findings.len(), 4);
    insta::assert_json_snapshot!("many", cspm::normalized(&report));
}

#[test]
fn fields_map() {
    let report = parse_fixture("one.json");
    let finding = &report.findings[0];
    assert_eq!(finding.tool, "prowler");
    assert_eq!(finding.rule_id, "check21");
    assert_eq!(finding.kind, FindingKind::Misconfiguration);
    assert_eq!(finding.title, "us-east-1: No CloudTrail trail logs all regions");
    assert_eq!(finding.severity, Severity::High);
    assert_eq!(finding.source_status, None);
    assert_eq!(
        finding.description.as_deref(),
        Some(
            "Ensure CloudTrail is enabled in all regions (Scored)\n\n\
             Risk: Without a multi-region trail, API calls in other regions leave no audit record."
        )
    );
    assert_eq!(
        finding.fix.description.as_deref(),
        Some("Create a trail with IsMultiRegionTrail set to true.")
    );
    assert_eq!(finding.references.len(), 1);
    assert_eq!(finding.attributes.get("control_id").map(String::as_str), Some("2.1"));
    assert_eq!(finding.attributes.get("level").map(String::as_str), Some("Level 1"));
    assert_eq!(finding.target.as_deref(), Some("aws:111122223333"));
}

#[test]
fn result_without_resource_is_on_account() {
    let report = parse_fixture("one.json");
    assert_eq!(report.findings[0].asset.as_str(), "cloud_resource:aws:111122223333");
    assert_eq!(report.assets.len(), 1);
    let account = &report.assets[0];
    assert_eq!(account.kind, AssetKind::CloudResource);
    assert_eq!(account.name, "shop-prod");
    assert_eq!(
        account.attributes.get("account_email").map(String::as_str),
        Some("cloud-team@shop.example")
    );
}

/// Passed and informational results are no weaknesses. `WARNING` is an
/// allowlisted failure, kept as suppressed.
#[test]
fn only_failures_are_findings() {
    let report = parse_fixture("many.json");
    let titles: Vec<&str> = report.findings.iter().map(|f| f.title.as_str()).collect();
    assert!(!titles.iter().any(|t| t.contains("No users found")), "{titles:?}");
    assert!(!titles.iter().any(|t| t.contains("No ELBs found")), "{titles:?}");
    let warning = cspm::by_title(&report, "eu-west-1: Bucket shop-assets does not enforce encryption");
    assert_eq!(warning.severity, Severity::Low);
    assert_eq!(warning.source_status, Some(SourceStatus::Suppressed));
}

#[test]
fn resources_are_keyed() {
    let report = parse_fixture("many.json");
    let key = cspm::by_title(
        &report,
        "us-east-1: deploy-bot has not rotated access key 1 in over 90 days",
    )
    .asset
    .as_str();
    assert_eq!(key, "cloud_resource:aws:111122223333:us-east-1:deploy-bot");
    let arn = cspm::by_title(&report, "eu-west-1: Bucket shop-assets does not enforce encryption");
    assert_eq!(arn.asset.as_str(), "cloud_resource:arn:aws:s3:::shop-assets");
    let bucket = report
        .assets
        .iter()
        .find(|asset| asset.key == arn.asset)
        .expect("bucket asset");
    assert_eq!(
        bucket.identifier_values("arn").collect::<Vec<_>>(),
        ["arn:aws:s3:::shop-assets"]
    );
    assert_eq!(bucket.attributes.get("region").map(String::as_str), Some("eu-west-1"));
}

/// Access keys 1 and 2 of one user are two results of one check on one
/// resource: the result text keeps them apart.
#[test]
fn two_results_on_one_resource_differ() {
    let report = parse_fixture("many.json");
    let first = cspm::by_title(
        &report,
        "us-east-1: deploy-bot has not rotated access key 1 in over 90 days",
    );
    let second = cspm::by_title(
        &report,
        "us-east-1: deploy-bot has not rotated access key 2 in over 90 days",
    );
    assert_eq!(first.asset, second.asset);
    assert_ne!(first.fingerprint(), second.fingerprint());
}

#[test]
fn accounts_are_scopes() {
    let report = parse_fixture("many.json");
    assert_eq!(
        cspm::targets(&report, "prowler"),
        ["aws:111122223333", "aws:444455556666"],
        "a numeric account number is read as text"
    );
    let contains: Vec<_> = report
        .relationships
        .iter()
        .filter(|relationship| relationship.kind == RelationshipKind::Contains)
        .map(|relationship| (relationship.from.as_str(), relationship.to.as_str()))
        .collect();
    assert!(
        contains.contains(&(
            "cloud_resource:aws:444455556666",
            "cloud_resource:aws:444455556666:ap-southeast-2:staging-exports"
        )),
        "{contains:?}"
    );
}

#[test]
fn passing_account_is_still_scope() {
    let report = parse_fixture("array.json");
    assert_eq!(report.findings.len(), 1);
    assert_eq!(report.findings[0].rule_id, "check116");
    assert_eq!(cspm::targets(&report, "prowler"), ["aws:111122223333"]);
}

#[test]
fn muted_result_is_suppressed() {
    let line = br#"{"Account Number":"111122223333","Control":"[check21] Trail","Message":"m","Status":"MUTED","Severity":"High"}"#;
    let report = parse("muted.json", line).unwrap();
    assert_eq!(report.findings[0].source_status, Some(SourceStatus::Suppressed));
}

#[test]
fn fixtures_are_detected() {
    let parser = find(FORMAT).expect("registered");
    for name in ["one.json", "many.json", "array.json"] {
        let bytes = cspm::fixture(FORMAT, name);
        assert_eq!(parser.detect(&bytes), Detection::Certain, "{name}");
        assert_eq!(ctem_ingest::detect(&bytes).map(|p| p.info().id), Some(FORMAT), "{name}");
    }
    assert_eq!(parser.detect(b""), Detection::No);
    assert_eq!(parser.detect(br#"{"Status": "FAIL"}"#), Detection::No);
}

#[test]
fn truncated_file_names_position() {
    let bytes = cspm::fixture(FORMAT, "one.json");
    let error = parse("cut.json", &bytes[..bytes.len() / 2]).unwrap_err();
    assert!(error.message.contains("truncated"), "{}", error.message);
    assert!(
        matches!(error.position, Some(Position::LineColumn { line: 1, .. })),
        "{error}"
    );
    assert!(error.to_string().starts_with("cut.json: line 1, column "), "{error}");
}

#[test]
fn invalid_syntax_is_rejected() {
    let error = parse("bad.json", b"{\"Status\": \"FAIL\",, }").unwrap_err();
    assert_eq!(error.format, FORMAT);
    assert_eq!(error.position, Some(Position::LineColumn { line: 1, column: 19 }));
}

#[test]
fn error_on_second_line_names_it() {
    let bytes = b"{\"Account Number\":\"1\",\"Control\":\"[c] t\",\"Status\":\"PASS\"}\n{\"Status\": }\n";
    let error = parse("lines.json", bytes).unwrap_err();
    assert!(
        matches!(error.position, Some(Position::LineColumn { line: 2, .. })),
        "{error}"
    );
}

#[test]
fn other_object_is_wrong_format() {
    let error = parse("trivy.json", br#"{"SchemaVersion": 2, "Results": []}"#).unwrap_err();
    assert!(
        error.message.contains("expected a Prowler v2 JSON record"),
        "{}",
        error.message
    );
    assert!(error.position.is_some(), "{error}");
}

#[test]
fn scalar_root_is_wrong_format() {
    let error = parse("number.json", b"42").unwrap_err();
    assert!(error.message.contains("Prowler v2 JSON record"), "{}", error.message);
}

#[test]
fn invalid_utf8_is_rejected() {
    let error = parse("latin1.json", b"{\"Status\": \"FAIL\", \"Message\": \"caf\xe9\"}").unwrap_err();
    assert!(error.position.is_some(), "{error}");
    assert!(
        error.message.contains("UTF-8") || error.message.contains("unicode"),
        "{}",
        error.message
    );
}

#[test]
fn deep_nesting_errors() {
    let depth = 10_000;
    let text = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let error = parse("deep.json", text.as_bytes()).unwrap_err();
    assert_eq!(error.format, FORMAT);
    assert!(error.position.is_some(), "{error}");
}

#[test]
fn large_report_parses() {
    let count = 20_000;
    let mut text = String::new();
    for i in 0..count {
        text.push_str(&format!(
            r#"{{"Account Number":"111122223333","Control":"[check14] Ensure access keys are rotated","Message":"us-east-1: user-{i} has not rotated access key 1","Severity":"Medium","Status":"FAIL","Region":"us-east-1","Resource ID":"user-{i}"}}"#
        ));
        text.push('\n');
    }
    let report = parse("large.json", text.as_bytes()).unwrap();
    assert_eq!(report.findings.len(), count);
    let fingerprints: std::collections::BTreeSet<_> = report.findings.iter().map(Finding::fingerprint).collect();
    assert_eq!(fingerprints.len(), count);
    assert_eq!(report.assets.len(), count + 1, "the users and the account");
}

/// DefectDojo drops passed and informational results and counts one
/// finding per failed result.
fn group_key(finding: &Finding) -> String {
    finding.fingerprint().to_string()
}

#[test]
fn corpus_conformance() {
    let reports = common::check_folder("prowler_v2_json", FORMAT, group_key);
    common::check_detection("prowler_v2_json", FORMAT, |_| true);
    cspm::check_detection_is_exact(FORMAT, &["prowler_v2_json"]);
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

    let one = &report("one_vuln.json").findings[0];
    assert_eq!(one.title, "eu-central-1: Only Virtual MFA is enabled for root");
    assert_eq!(one.severity, Severity::Critical);
    assert_eq!(one.rule_id, "check114");
    assert_eq!(one.attributes.get("control_id").map(String::as_str), Some("1.14"));
    assert_eq!(
        one.attributes.get("account_id").map(String::as_str),
        Some("012345678912")
    );
    assert_eq!(
        one.attributes.get("timestamp").map(String::as_str),
        Some("2021-08-23T06:38:46Z")
    );
    assert_eq!(
        one.references,
        ["https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-user.html#id_root-user_manage_mfa"]
    );

    let many = report("many_vuln.json");
    let expected = [
        ("eu-central-1: Only Virtual MFA is enabled for root", Severity::Critical),
        (
            "eu-central-1: Cluster control plane access is not restricted for EKS cluster prod",
            Severity::High,
        ),
        (
            "eu-central-1: Control plane logging is not enabled for EKS cluster prod",
            Severity::Medium,
        ),
        (
            "eu-central-1: prod.config_read.iam has inline policy directly attached",
            Severity::Low,
        ),
    ];
    for (index, (title, severity)) in expected.iter().enumerate() {
        assert_eq!(many.findings[index].title, *title);
        assert_eq!(many.findings[index].severity, *severity, "{title}");
    }
    assert_eq!(cspm::targets(many, "prowler"), ["aws:012345678912"]);
}
