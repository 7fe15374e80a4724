//! Tests of the Prowler v2 CSV parser: fixtures, hostile input and the
//! shared corpus.

mod common;
mod cspm;

use ctem_ingest::{Detection, ParseError, ParsedReport, Position, find};
use ctem_model::{Finding, FindingKind, Severity, SourceStatus};

const FORMAT: &str = "prowler-v2-csv";
const HEADER: &str = "PROFILE,ACCOUNT_NUM,REGION,TITLE_ID,CHECK_RESULT,ITEM_SCORED,ITEM_LEVEL,TITLE_TEXT,\
    CHECK_RESULT_EXTENDED,CHECK_ASFF_COMPLIANCE_TYPE,CHECK_SEVERITY,CHECK_SERVICENAME";

fn parse(name: &str, bytes: &[u8]) -> Result<ParsedReport, ParseError> {
    cspm::parse(FORMAT, name, bytes)
}

fn parse_fixture(name: &str) -> ParsedReport {
    cspm::parse_fixture(FORMAT, name)
}

#[test]
fn header_only_is_empty() {
    let report = parse_fixture("empty.csv");
    assert!(report.findings.is_empty());
    assert_eq!(cspm::targets(&report, "prowler"), ["prowler-v2-csv:empty.csv"]);
}

#[test]
fn empty_file_is_empty() {
    let report = parse("nothing.csv", b"").unwrap();
    assert!(report.findings.is_empty());
    assert_eq!(report.targets.len(), 1);
}

#[test]
fn one_finding_snapshot() {
    let report = parse_fixture("one.csv");
    assert_eq!(report.findings.len(), 1);
    insta::assert_json_snapshot!("one", cspm::normalized(&report));
}

#[test]
fn many_findings_snapshot() {
    let report = parse_fixture("many.csv");
    assert_eq!(report.findings.len(), 5);
    insta::assert_json_snapshot!("many", cspm::normalized(&report));
}

#[test]
fn fields_map() {
    let report = parse_fixture("one.csv");
    let finding = &report.findings[0];
    assert_eq!(finding.tool, "prowler");
    assert_eq!(finding.rule_id, "check21");
    assert_eq!(finding.kind, FindingKind::Misconfiguration);
    assert_eq!(finding.title, "No CloudTrail trail logs all regions");
    assert_eq!(finding.severity, Severity::High);
    assert_eq!(finding.source_status, None);
    assert_eq!(finding.asset.as_str(), "cloud_resource:aws:111122223333");
    assert_eq!(
        finding.description.as_deref(),
        Some(
            "Ensure CloudTrail is enabled in all regions (Scored)\n\n\
             Risk: Without a multi-region trail, API calls in other regions leave no audit record."
        )
    );
    assert_eq!(
        finding.attributes.get("asff_resource_type").map(String::as_str),
        Some("AwsCloudTrailTrail")
    );
    assert_eq!(
        finding.attributes.get("start_time").map(String::as_str),
        Some("2022-03-14T09:12:44Z")
    );
    assert_eq!(finding.target.as_deref(), Some("aws:111122223333"));
    assert_eq!(report.assets[0].name, "shop-prod");
}

/// Passed and informational results are kept, as DefectDojo keeps them
/// for this format, but as `Info` and not affected.
#[test]
fn passed_results_are_not_affected() {
    let report = parse_fixture("many.csv");
    let passed = cspm::by_title(&report, "No users found with Password enabled and MFA disabled");
    assert_eq!(passed.severity, Severity::Info);
    assert_eq!(passed.source_status, Some(SourceStatus::NotAffected));
    assert_eq!(
        passed.attributes.get("check_severity").map(String::as_str),
        Some("High")
    );
    let info = cspm::by_title(&report, "eu-west-1: No ELBs found");
    assert_eq!(info.source_status, Some(SourceStatus::NotAffected));
    assert_eq!(info.severity, Severity::Info);
}

#[test]
fn allowlisted_warning_is_suppressed() {
    let report = parse_fixture("many.csv");
    let warning = cspm::by_title(
        &report,
        "eu-west-1: Bucket shop-assets does not enforce encryption, objects may be stored in clear",
    );
    assert_eq!(warning.severity, Severity::Low);
    assert_eq!(warning.source_status, Some(SourceStatus::Suppressed));
    assert_eq!(warning.asset.as_str(), "cloud_resource:arn:aws:s3:::shop-assets");
}

#[test]
fn error_results_are_dropped() {
    let report = parse_fixture("many.csv");
    assert!(report.findings.iter().all(|f| f.rule_id != "extra799"));
}

#[test]
fn resource_column_keys_assets() {
    let report = parse_fixture("many.csv");
    let first = cspm::by_title(&report, "deploy-bot has not rotated access key 1 in over 90 days");
    let second = cspm::by_title(&report, "deploy-bot has not rotated access key 2 in over 90 days");
    assert_eq!(
        first.asset.as_str(),
        "cloud_resource:aws:111122223333:us-east-1:deploy-bot"
    );
    assert_eq!(first.asset, second.asset);
    assert_ne!(first.fingerprint(), second.fingerprint());
}

#[test]
fn legacy_columns_are_read() {
    let report = parse_fixture("legacy.csv");
    assert_eq!(report.findings.len(), 2);
    let failed = &report.findings[0];
    assert_eq!(failed.rule_id, "check19");
    assert_eq!(failed.title, "Password Policy missing or weak length requirement");
    assert_eq!(failed.severity, Severity::Info, "early 2.x reports give no severity");
    assert_eq!(failed.attributes.get("level").map(String::as_str), Some("Level 1"));
    assert_eq!(report.findings[1].source_status, Some(SourceStatus::NotAffected));
}

#[test]
fn fixtures_are_detected() {
    let parser = find(FORMAT).expect("registered");
    for name in ["empty.csv", "one.csv", "many.csv", "legacy.csv"] {
        let bytes = cspm::fixture(FORMAT, name);
        assert_eq!(parser.detect(&bytes), Detection::Certain, "{name}");
        assert_eq!(ctem_ingest::detect(&bytes).map(|p| p.info().id), Some(FORMAT), "{name}");
    }
    assert_eq!(parser.detect(b"ACCOUNT_NUM,REGION\n"), Detection::No);
}

#[test]
fn truncated_record_names_line() {
    let bytes = cspm::fixture(FORMAT, "many.csv");
    let cut = bytes.len() - 40;
    let error = parse("cut.csv", &bytes[..cut]).unwrap_err();
    assert!(error.message.contains("truncated"), "{}", error.message);
    assert_eq!(error.position, Some(Position::LineColumn { line: 7, column: 1 }));
}

#[test]
fn missing_columns_are_named() {
    let error = parse("other.csv", b"PROFILE,ACCOUNT_NUM,REGION,TITLE_ID,OTHER\nx,y,z,w,v\n").unwrap_err();
    assert!(error.message.contains("no column CHECK_RESULT"), "{}", error.message);
    assert_eq!(error.position, Some(Position::LineColumn { line: 1, column: 1 }));
}

#[test]
fn invalid_utf8_names_line() {
    let text = format!(
        "{HEADER}\ndefault,111122223333,us-east-1,1.1,FAIL,Scored,Level 1,[check11] Root,caf\u{e9},x,High,iam\n"
    );
    let mut bytes = text.into_bytes();
    let accent = bytes.iter().position(|&b| b == 0xc3).expect("an accent");
    bytes[accent] = 0xe9;
    bytes.remove(accent + 1);
    let error = parse("latin1.csv", &bytes).unwrap_err();
    assert!(error.message.contains("UTF-8"), "{}", error.message);
    assert_eq!(error.position, Some(Position::LineColumn { line: 2, column: 1 }));
}

#[test]
fn very_long_line_is_rejected() {
    let mut bytes = format!("{HEADER}\n").into_bytes();
    bytes.extend(std::iter::repeat_n(b'a', 17 * 1024 * 1024));
    let error = parse("long.csv", &bytes).unwrap_err();
    assert!(error.message.contains("longer than"), "{}", error.message);
    assert!(
        matches!(error.position, Some(Position::LineColumn { line: 2, .. })),
        "{error}"
    );
}

#[test]
fn binary_input_is_rejected() {
    let error = parse("image.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").unwrap_err();
    assert_eq!(error.format, FORMAT);
    assert!(error.position.is_some(), "{error}");
}

#[test]
fn large_report_parses() {
    let count = 20_000;
    let mut text = format!("{HEADER}\n");
    for i in 0..count {
        text.push_str(&format!(
            "default,111122223333,us-east-1,1.4,FAIL,Scored,Level 1,[check14] Ensure access keys are rotated,\
             user-{i} has not rotated access key 1 in over 90 days,x,Medium,iam\n"
        ));
    }
    let report = parse("large.csv", text.as_bytes()).unwrap();
    assert_eq!(report.findings.len(), count);
    let fingerprints: std::collections::BTreeSet<_> = report.findings.iter().map(Finding::fingerprint).collect();
    assert_eq!(fingerprints.len(), count);
}

/// DefectDojo keeps every result of this format, passed ones as `Info`,
/// and merges the results with the same severity, region and text.
fn group_key(finding: &Finding) -> String {
    format!(
        "{}|{}|{}",
        finding.severity,
        finding.attributes.get("region").map(String::as_str).unwrap_or(""),
        finding.title
    )
}

#[test]
fn corpus_conformance() {
    let reports = common::check_folder("prowler_v2_csv", FORMAT, group_key);
    common::check_detection("prowler_v2_csv", FORMAT, |_| true);
    cspm::check_detection_is_exact(FORMAT, &["prowler_v2_csv"]);
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

    let many = report("many_vuln.csv");
    let expected = [
        (
            "Root user in the account wasn't accessed in the last 1 days",
            Severity::High,
        ),
        (
            "User example_user has never used access key 1 since creation and not rotated it in the past 90 days",
            Severity::Medium,
        ),
        (
            "Password Policy has weak reuse requirement (lower than 24)",
            Severity::Medium,
        ),
        ("eu-west-2: sg-01234567890qwerty is not being used!", Severity::Low),
    ];
    for (index, (title, severity)) in expected.iter().enumerate() {
        assert_eq!(many.findings[index].title, *title);
        assert_eq!(many.findings[index].severity, *severity, "{title}");
    }
    assert_eq!(cspm::targets(many, "prowler"), ["aws:012345678910"]);

    let many2 = report("many_vuln2.csv");
    assert_eq!(many2.findings.len(), 214, "one finding per line");
    let root = &many2.findings[0];
    assert_eq!(
        root.title,
        "Root user in the account wasn't accessed in the last 1 days"
    );
    assert_eq!(root.severity, Severity::Info);
    assert_eq!(root.source_status, Some(SourceStatus::NotAffected));
    let unused_key = cspm::by_title(
        many2,
        "User example has never used access key 1 since creation and not rotated it in the past 90 days",
    );
    assert_eq!(unused_key.severity, Severity::Medium);
    assert_eq!(unused_key.source_status, None);
    let failures = many2.findings.iter().filter(|f| f.source_status.is_none()).count();
    assert_eq!(failures, 42);
}
