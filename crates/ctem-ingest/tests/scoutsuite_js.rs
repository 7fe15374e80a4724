//! Tests of the ScoutSuite results parser: fixtures, hostile input and the
//! shared corpus.

mod common;
mod cspm;

use std::collections::BTreeSet;

use ctem_ingest::{Detection, ParseError, ParsedReport, Position, find};
use ctem_model::{Finding, FindingKind, RelationshipKind, Severity};

const FORMAT: &str = "scoutsuite-js";

fn parse(name: &str, bytes: &[u8]) -> Result<ParsedReport, ParseError> {
    cspm::parse(FORMAT, name, bytes)
}

fn parse_fixture(name: &str) -> ParsedReport {
    cspm::parse_fixture(FORMAT, name)
}

fn by_rule<'r>(report: &'r ParsedReport, rule_id: &str) -> Vec<&'r Finding> {
    report.findings.iter().filter(|f| f.rule_id == rule_id).collect()
}

#[test]
fn no_flagged_items_is_empty() {
    let report = parse_fixture("empty.js");
    assert!(report.findings.is_empty());
    assert_eq!(cspm::targets(&report, "scoutsuite"), ["gcp:acme-shop-prod"]);
    assert_eq!(report.assets.len(), 1, "the project");
}

#[test]
fn one_finding_snapshot() {
    let report = parse_fixture("one.js");
    assert_eq!(report.findings.len(), 1);
    insta::assert_json_snapshot!("one", cspm::normalized(&report));
}

#[test]
fn many_findings_snapshot() {
    let report = parse_fixture("many.js");
    assert_eq!(report.findings.len(), 8);
    insta::assert_json_snapshot!("many", cspm::normalized(&report));
}

#[test]
fn fields_map() {
    let report = parse_fixture("one.js");
    let finding = &report.findings[0];
    assert_eq!(finding.tool, "scoutsuite");
    assert_eq!(finding.rule_id, "aws:s3-bucket-no-logging");
    assert_eq!(finding.kind, FindingKind::Misconfiguration);
    assert_eq!(finding.title, "Bucket Access Logging Disabled");
    assert_eq!(finding.severity, Severity::Medium);

    assert_eq!(
        finding.description.as_deref(),
        Some(
            "Server access logging records the requests made to a bucket.\n\nCloudTrail data events can take its place."
        )
    );
    assert_eq!(
        finding.fix.description.as_deref(),
        Some("Enable server access logging for the bucket")
    );
    assert_eq!(
        finding.references,
        ["https://docs.aws.amazon.com/AmazonS3/latest/userguide/ServerLogs.html"]
    );
    assert_eq!(
        finding.tool_fingerprint.as_deref(),
        Some("s3.buckets.3f1e0c9a7b5d2e4f6a8c0b1d3e5f7a9c1b3d5e7f.logging")
    );
    assert_eq!(
        finding.attributes.get("compliance").map(String::as_str),
        Some("CIS Amazon Web Services Foundations 1.2.0: 2.6")
    );
    assert_eq!(
        finding.attributes.get("scoutsuite_version").map(String::as_str),
        Some("5.14.0")
    );
    assert_eq!(finding.target.as_deref(), Some("aws:111122223333"));
}

#[test]
fn bucket_resolves_to_arn_and_name() {
    let report = parse_fixture("one.js");
    assert_eq!(
        report.findings[0].asset.as_str(),
        "cloud_resource:arn:aws:s3:::shop-logs"
    );
    let bucket = &report.assets[1];
    assert_eq!(bucket.name, "shop-logs");
    assert_eq!(bucket.attributes.get("region").map(String::as_str), Some("eu-west-1"));
    assert_eq!(
        bucket.attributes.get("resource_type").map(String::as_str),
        Some("buckets")
    );
    assert_eq!(report.relationships.len(), 1);
    assert_eq!(report.relationships[0].kind, RelationshipKind::Contains);
}

#[test]
fn each_item_is_a_finding() {
    let report = parse_fixture("many.js");
    let trails = by_rule(&report, "aws:cloudtrail-not-configured");
    assert_eq!(trails.len(), 2);
    assert_eq!(trails[0].severity, Severity::Critical, "danger");
    let regions: Vec<_> = trails
        .iter()
        .map(|f| f.attributes.get("region").map(String::as_str))
        .collect();
    assert_eq!(regions, [Some("eu-west-1"), Some("us-east-1")]);
    assert_ne!(trails[0].asset, trails[1].asset);
    assert!(
        by_rule(&report, "aws:cloudtrail-no-log-file-validation").is_empty(),
        "no items"
    );
}

#[test]
fn security_group_rule_names_port() {
    let report = parse_fixture("many.js");
    let ssh = by_rule(&report, "aws:ec2-security-group-opens-SSH-port-to-all")[0];
    assert_eq!(ssh.title, "Security Group Opens SSH Port to All", "tags removed");
    assert_eq!(
        ssh.asset.as_str(),
        "cloud_resource:arn:aws:ec2:eu-west-1:111122223333:security-group/sg-0a1b2c3d4e5f60718"
    );
    assert_eq!(ssh.location.port, Some(22));
    assert_eq!(ssh.location.protocol.as_deref(), Some("tcp"));
    let group = report.assets.iter().find(|a| a.key == ssh.asset).expect("group asset");
    assert_eq!(group.name, "bastion-sg");
}

#[test]
fn settings_and_users_resolve() {
    let report = parse_fixture("many.js");
    let policy = by_rule(&report, "aws:iam-password-policy-minimum-length")[0];
    assert_eq!(
        policy.asset.as_str(),
        "cloud_resource:aws:111122223333:iam.password_policy"
    );
    let root = by_rule(&report, "aws:iam-root-account-no-mfa")[0];
    assert_eq!(root.asset.as_str(), "cloud_resource:arn:aws:iam::111122223333:root");
    let keys = by_rule(&report, "aws:iam-user-no-Active-key-rotation");
    assert_eq!(keys.len(), 2);
    assert_eq!(
        keys[0].asset.as_str(),
        "cloud_resource:arn:aws:iam::111122223333:user/ci-runner"
    );
    assert_eq!(keys[0].asset, keys[1].asset);
    assert_ne!(keys[0].fingerprint(), keys[1].fingerprint());
}

#[test]
fn json_without_prefix_is_read() {
    let js = parse_fixture("one.js");
    let json = parse_fixture("plain.json");
    assert_eq!(json.findings.len(), 1);
    assert_eq!(json.findings[0].fingerprint(), js.findings[0].fingerprint());
}

#[test]
fn unsorted_keys_defer_findings() {
    let text = r#"{"services": {"iam": {"findings": {"iam-root-account-no-mfa": {"description": "Root Account without MFA",
        "level": "danger", "path": "iam.credential_reports.id", "items": ["iam.credential_reports.r1.mfa_active"]}},
        "credential_reports": {"r1": {"arn": "arn:aws:iam::111122223333:root", "name": "<root_account>"}}}},
        "provider_code": "aws", "account_id": "111122223333", "last_run": {"version": "5.14.0"}}"#;
    let report = parse("unsorted.json", text.as_bytes()).unwrap();
    assert_eq!(report.findings.len(), 1);
    assert_eq!(report.findings[0].target.as_deref(), Some("aws:111122223333"));
    assert_eq!(report.findings[0].rule_id, "aws:iam-root-account-no-mfa");
    assert_eq!(cspm::targets(&report, "scoutsuite"), ["aws:111122223333"]);
}

#[test]
fn missing_provider_and_account_fall_back() {
    let services = r#""services": {"s3": {"findings": {"s3-bucket-no-logging": {"description": "Bucket Access Logging Disabled",
        "level": "warning", "path": "s3.buckets.id", "items": ["s3.buckets.b1.logging"]}}}}"#;
    let no_provider = format!(r#"{{"account_id": "111122223333", "last_run": {{"version": "5.14.0"}}, {services}}}"#);
    let report = parse("no_provider.json", no_provider.as_bytes()).unwrap();
    assert_eq!(cspm::targets(&report, "scoutsuite"), ["cloud:111122223333"]);
    assert_eq!(report.findings[0].rule_id, "cloud:s3-bucket-no-logging");

    let no_account = format!(r#"{{"provider_code": "aws", "last_run": {{"version": "5.14.0"}}, {services}}}"#);
    let report = parse("no_account.json", no_account.as_bytes()).unwrap();
    assert_eq!(cspm::targets(&report, "scoutsuite"), ["scoutsuite-js:no_account.json"]);
    assert_eq!(
        report.findings[0].target.as_deref(),
        Some("scoutsuite-js:no_account.json")
    );
}

#[test]
fn old_version_is_rejected() {
    let error = parse("old.js", &cspm::fixture(FORMAT, "old_version.js")).unwrap_err();
    assert!(error.message.contains("ScoutSuite 4.2.0"), "{}", error.message);
    assert!(error.position.is_some(), "{error}");
}

#[test]
fn fixtures_are_detected() {
    let parser = find(FORMAT).expect("registered");
    for name in ["empty.js", "one.js", "many.js", "plain.json", "old_version.js"] {
        let bytes = cspm::fixture(FORMAT, name);
        assert_eq!(parser.detect(&bytes), Detection::Certain, "{name}");
        assert_eq!(ctem_ingest::detect(&bytes).map(|p| p.info().id), Some(FORMAT), "{name}");
    }
    assert_eq!(parser.detect(br#"{"last_run": {}}"#), Detection::No);
    assert_eq!(parser.detect(b"exceptions = {}"), Detection::No);
}

#[test]
fn truncated_file_names_position() {
    let bytes = cspm::fixture(FORMAT, "many.js");
    let error = parse("cut.js", &bytes[..bytes.len() / 2]).unwrap_err();
    assert!(error.message.contains("truncated"), "{}", error.message);
    assert!(matches!(error.position, Some(Position::LineColumn { .. })), "{error}");
}

/// The JSON keeps the file's line numbers after the `scoutsuite_results =`
/// line.
#[test]
fn error_lines_count_prefix_line() {
    let error = parse("bad.js", b"scoutsuite_results =\n{\n\"account_id\": ,\n}").unwrap_err();
    assert!(
        matches!(error.position, Some(Position::LineColumn { line: 3, .. })),
        "{error}"
    );
}

#[test]
fn prefix_without_object_is_rejected() {
    let error = parse("cut.js", b"scoutsuite_results").unwrap_err();
    assert!(error.message.contains("no `=`"), "{}", error.message);
    let error = parse("empty.js", b"scoutsuite_results =\n").unwrap_err();
    assert!(error.message.contains("truncated"), "{}", error.message);
}

#[test]
fn other_object_is_wrong_format() {
    let error = parse("trivy.json", br#"{"SchemaVersion": 2, "Results": []}"#).unwrap_err();
    assert!(
        error.message.contains("expected ScoutSuite results"),
        "{}",
        error.message
    );
}

#[test]
fn array_root_is_wrong_format() {
    let error = parse("list.json", b"[1, 2]").unwrap_err();
    assert!(error.message.contains("ScoutSuite results"), "{}", error.message);
}

#[test]
fn invalid_utf8_is_rejected() {
    let error = parse("latin1.js", b"scoutsuite_results =\n{\"account_id\": \"caf\xe9\"}").unwrap_err();
    assert!(error.position.is_some(), "{error}");
}

#[test]
fn deep_nesting_errors() {
    let depth = 10_000;
    let text = format!(
        "scoutsuite_results =\n{{\"services\": {{\"ec2\": {{\"regions\": {}{}}}}}}}",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let error = parse("deep.js", text.as_bytes()).unwrap_err();
    assert_eq!(error.format, FORMAT);
    assert!(error.message.contains("recursion"), "{}", error.message);
}

#[test]
fn large_report_parses() {
    let count = 20_000;
    let mut buckets = String::new();
    let mut items = String::new();
    for i in 0..count {
        if i > 0 {
            buckets.push(',');
            items.push(',');
        }
        buckets.push_str(&format!(
            r#""b{i}": {{"arn": "arn:aws:s3:::bucket-{i}/*", "id": "b{i}", "name": "bucket-{i}", "region": "eu-west-1"}}"#
        ));
        items.push_str(&format!(r#""s3.buckets.b{i}.logging""#));
    }
    let text = format!(
        r#"scoutsuite_results =
{{"account_id": "111122223333", "last_run": {{"version": "5.14.0"}}, "provider_code": "aws",
"services": {{"s3": {{"buckets": {{{buckets}}}, "findings": {{"s3-bucket-no-logging": {{"description": "Bucket Access Logging Disabled",
"level": "warning", "path": "s3.buckets.id", "items": [{items}]}}}}}}}}}}"#
    );
    let report = parse("large.js", text.as_bytes()).unwrap();
    assert_eq!(report.findings.len(), count);
    let fingerprints: BTreeSet<_> = report.findings.iter().map(Finding::fingerprint).collect();
    assert_eq!(fingerprints.len(), count);
    assert_eq!(
        report.findings[7].asset.as_str(),
        "cloud_resource:arn:aws:s3:::bucket-7"
    );
}

/// DefectDojo gives one finding per flagged item.
fn group_key(finding: &Finding) -> String {
    finding.fingerprint().to_string()
}

#[test]
fn corpus_conformance() {
    let reports = common::check_folder("scoutsuite", FORMAT, group_key);
    common::check_detection("scoutsuite", FORMAT, |_| true);
    cspm::check_detection_is_exact(FORMAT, &["scoutsuite"]);
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

    // DefectDojo also sets CWE-1032 on every finding; ScoutSuite names no
    // CWE, so ctem sets none and the CWE of the notable facts is not checked.
    let aws = report("new2.js");
    assert_eq!(cspm::targets(aws, "scoutsuite"), ["aws:430150006394"]);
    let first = &aws.findings[0];
    assert_eq!(first.title, "CloudTrail Service Not Configured");
    assert_eq!(first.severity, Severity::Critical);
    assert_eq!(first.rule_id, "aws:cloudtrail-not-configured");
    assert!(
        first
            .attributes
            .get("run_time")
            .is_some_and(|time| time.starts_with("2021-10-01"))
    );
    assert_eq!(aws.findings[15].rule_id, "aws:cloudtrail-not-configured");
    let config = &aws.findings[29];
    assert_eq!(config.title, "AWS Config Not Enabled");
    assert_eq!(config.severity, Severity::Medium);
    assert_eq!(config.rule_id, "aws:config-recorder-not-configured");
    let rules: BTreeSet<&str> = aws.findings.iter().map(|f| f.rule_id.as_str()).collect();
    assert_eq!(rules.len(), 30, "the rules with flagged items");

    let gcp = report("two_findings.js");
    assert_eq!(cspm::targets(gcp, "scoutsuite"), ["gcp:gcp-project-id"]);
    assert_eq!(gcp.findings[0].title, "Bucket with Logging Disabled");
    assert_eq!(gcp.findings[0].severity, Severity::Medium);
    assert_eq!(gcp.findings[0].rule_id, "gcp:cloudstorage-bucket-no-logging");
    assert_eq!(gcp.findings[2].title, "Bucket with Versioning Disabled");
    assert_eq!(gcp.findings[2].rule_id, "gcp:cloudstorage-bucket-no-versioning");
    let bucket = gcp
        .assets
        .iter()
        .find(|asset| asset.key == gcp.findings[0].asset)
        .expect("bucket asset");
    assert_eq!(bucket.name, "gcp-project-id.appspot.com");
}
