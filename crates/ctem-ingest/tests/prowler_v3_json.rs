//! Tests of the Prowler v3 JSON parser: fixtures, hostile input and the
//! shared corpus.

mod common;
mod cspm;

use ctem_ingest::{Detection, ParseError, ParsedReport, Position, find};
use ctem_model::{Finding, FindingKind, RelationshipKind, Severity};

const FORMAT: &str = "prowler-v3-json";

fn parse(name: &str, bytes: &[u8]) -> Result<ParsedReport, ParseError> {
    cspm::parse(FORMAT, name, bytes)
}

fn parse_fixture(name: &str) -> ParsedReport {
    cspm::parse_fixture(FORMAT, name)
}

#[test]
fn empty_array_is_empty() {
    let report = parse_fixture("empty.json");
    assert!(report.findings.is_empty());
    assert_eq!(cspm::targets(&report, "prowler"), ["prowler-v3-json:empty.json"]);
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
    assert_eq!(report.findings.len(), 5);
    insta::assert_json_snapshot!("many", cspm::normalized(&report));
}

#[test]
fn fields_map() {
    let report = parse_fixture("one.json");
    let finding = &report.findings[0];
    assert_eq!(finding.tool, "prowler");
    assert_eq!(finding.rule_id, "s3_bucket_public_access");
    assert_eq!(finding.kind, FindingKind::Misconfiguration);
    assert_eq!(
        finding.title,
        "S3 Bucket shop-exports has public access due to bucket ACL."
    );
    assert_eq!(finding.severity, Severity::Critical);
    assert_eq!(finding.asset.as_str(), "cloud_resource:arn:aws:s3:::shop-exports");
    assert_eq!(
        finding.tool_fingerprint.as_deref(),
        Some("prowler-aws-s3_bucket_public_access-111122223333-eu-west-1-shop-exports")
    );

    assert_eq!(
        finding.fix.description.as_deref(),
        Some("Enable S3 Block Public Access on the bucket and the account.")
    );
    assert_eq!(finding.references.len(), 2);
    assert_eq!(
        finding.attributes.get("compliance").map(String::as_str),
        Some("CIS-1.5: 2.1.5 | AWS-Foundational-Security-Best-Practices: s3")
    );
    assert!(
        finding
            .attributes
            .get("remediation_cli")
            .is_some_and(|cli| cli.starts_with("aws s3api put-public-access-block"))
    );
    assert_eq!(finding.target.as_deref(), Some("aws:111122223333"));
}

#[test]
fn assets_carry_account_and_tags() {
    let report = parse_fixture("one.json");
    let account = &report.assets[0];
    assert_eq!(account.key.as_str(), "cloud_resource:aws:111122223333");
    assert_eq!(account.name, "shop-prod");
    assert_eq!(
        account.attributes.get("organization").map(String::as_str),
        Some("o-exampleorg")
    );
    let bucket = &report.assets[1];
    assert_eq!(bucket.name, "shop-exports");
    assert_eq!(bucket.tags, ["team=data", "env=prod"]);
    assert_eq!(
        bucket.attributes.get("resource_type").map(String::as_str),
        Some("AwsS3Bucket")
    );
    assert_eq!(report.relationships.len(), 1);
    assert_eq!(report.relationships[0].kind, RelationshipKind::Contains);
}

#[test]
fn passed_and_info_are_dropped() {
    let report = parse_fixture("many.json");
    assert!(report.findings.iter().all(|f| f.rule_id != "iam_root_mfa_enabled"));
    assert!(
        report
            .findings
            .iter()
            .all(|f| f.rule_id != "ec2_ebs_default_encryption")
    );
}

/// GuardDuty is checked per region on the account itself: one finding per
/// region, both on the account asset.
#[test]
fn account_checks_differ_by_region() {
    let report = parse_fixture("many.json");
    let guardduty: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.rule_id == "guardduty_is_enabled")
        .collect();
    assert_eq!(guardduty.len(), 2);
    assert_eq!(guardduty[0].asset.as_str(), "cloud_resource:aws:111122223333");
    assert_eq!(guardduty[0].asset, guardduty[1].asset);
    assert_ne!(guardduty[0].fingerprint(), guardduty[1].fingerprint());
}

#[test]
fn providers_name_their_accounts() {
    let report = parse_fixture("many.json");
    assert_eq!(
        cspm::targets(&report, "prowler"),
        [
            "aws:111122223333",
            "azure:0f3c52aa-1d5e-4b7c-9a0e-6d2f8b1c4e77",
            "gcp:acme-shop-prod"
        ]
    );
    let storage = cspm::by_title(
        &report,
        "Storage account shopdata from subscription shop-prod has secure transfer required disabled.",
    );
    assert_eq!(
        storage.asset.as_str(),
        "cloud_resource:/subscriptions/0f3c52aa-1d5e-4b7c-9a0e-6d2f8b1c4e77/resourcegroups/shop-rg/providers/microsoft.storage/storageaccounts/shopdata"
    );
    let firewall = cspm::by_title(&report, "Firewall allow-ssh exposes port 22 (SSH) to the internet.");
    assert_eq!(
        firewall.asset.as_str(),
        "cloud_resource:gcp:acme-shop-prod:global:4119870162245537110"
    );
    assert_eq!(firewall.severity, Severity::Low, "a failed informational check");
}

#[test]
fn missing_unique_id_is_derived() {
    let bytes = br#"[{"Provider":"aws","CheckID":"ec2_instance_public_ip","Status":"FAIL","StatusExtended":"x","AccountId":"111122223333","Region":"eu-west-1","ResourceId":"i-0abc"}]"#;
    let report = parse("derived.json", bytes).unwrap();
    assert_eq!(
        report.findings[0].tool_fingerprint.as_deref(),
        Some("prowler-aws-ec2_instance_public_ip-111122223333-eu-west-1-i-0abc")
    );
}

#[test]
fn fixtures_are_detected() {
    let parser = find(FORMAT).expect("registered");
    for name in ["one.json", "many.json"] {
        let bytes = cspm::fixture(FORMAT, name);
        assert_eq!(parser.detect(&bytes), Detection::Certain, "{name}");
        assert_eq!(ctem_ingest::detect(&bytes).map(|p| p.info().id), Some(FORMAT), "{name}");
    }
    assert_eq!(parser.detect(b"[]"), Detection::No);
    assert_eq!(parser.detect(br#"{"CheckID": "x"}"#), Detection::No);
}

#[test]
fn truncated_file_names_position() {
    let bytes = cspm::fixture(FORMAT, "one.json");
    let error = parse("cut.json", &bytes[..bytes.len() / 2]).unwrap_err();
    assert!(error.message.contains("truncated"), "{}", error.message);
    assert!(matches!(error.position, Some(Position::LineColumn { .. })), "{error}");
    assert!(error.to_string().starts_with("cut.json: line "), "{error}");
}

#[test]
fn invalid_syntax_is_rejected() {
    let error = parse("bad.json", b"[{\"CheckID\": \"x\",, }]").unwrap_err();
    assert_eq!(error.format, FORMAT);
    assert_eq!(error.position, Some(Position::LineColumn { line: 1, column: 18 }));
}

#[test]
fn object_root_is_wrong_format() {
    let error = parse("sarif.json", br#"{"version": "2.1.0", "runs": []}"#).unwrap_err();
    assert!(
        error.message.contains("expected a Prowler v3 JSON report"),
        "{}",
        error.message
    );
    assert!(error.message.contains("\"version\""), "{}", error.message);
}

#[test]
fn other_records_are_wrong_format() {
    let error = parse("gitleaks.json", br#"[{"RuleID": "aws-access-token", "Secret": "x"}]"#).unwrap_err();
    assert!(error.message.contains("`Status` and `CheckID`"), "{}", error.message);
    assert!(error.position.is_some(), "{error}");
}

#[test]
fn trailing_data_is_rejected() {
    let error = parse("two.json", b"[] []").unwrap_err();
    assert!(error.message.contains("trailing"), "{}", error.message);
}

#[test]
fn invalid_utf8_is_rejected() {
    let error = parse("latin1.json", b"[{\"CheckID\": \"caf\xe9\", \"Status\": \"FAIL\"}]").unwrap_err();
    assert!(error.position.is_some(), "{error}");
}

#[test]
fn deep_nesting_errors() {
    let depth = 10_000;
    let text = format!("[{}{}]", "[".repeat(depth), "]".repeat(depth));
    let error = parse("deep.json", text.as_bytes()).unwrap_err();
    assert_eq!(error.format, FORMAT);
    assert!(error.position.is_some(), "{error}");
}

/// serde_json skips an unknown field without recursion, so depth there
/// costs no stack and the finding around it still counts.
#[test]
fn deep_unknown_field_is_skipped() {
    let depth = 10_000;
    let text = format!(
        r#"[{{"CheckID": "x", "Status": "FAIL", "Extra": {}{}}}]"#,
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let report = parse("deep.json", text.as_bytes()).unwrap();
    assert_eq!(report.findings.len(), 1);
}

#[test]
fn large_report_parses() {
    let count = 20_000;
    let mut text = String::from("[");
    for i in 0..count {
        if i > 0 {
            text.push(',');
        }
        text.push_str(&format!(
            r#"{{"FindingUniqueId":"prowler-aws-ec2_instance_public_ip-111122223333-eu-west-1-i-{i:08}","Provider":"aws","CheckID":"ec2_instance_public_ip","Status":"FAIL","StatusExtended":"EC2 Instance i-{i:08} has a public IP.","Severity":"medium","AccountId":"111122223333","Region":"eu-west-1","ResourceId":"i-{i:08}","ResourceArn":"arn:aws:ec2:eu-west-1:111122223333:instance/i-{i:08}"}}"#
        ));
    }
    text.push(']');
    let report = parse("large.json", text.as_bytes()).unwrap();
    assert_eq!(report.findings.len(), count);
    let fingerprints: std::collections::BTreeSet<_> = report.findings.iter().map(Finding::fingerprint).collect();
    assert_eq!(fingerprints.len(), count);
}

/// DefectDojo keeps failed checks and merges the ones with the same
/// `FindingUniqueId`, which is the tool fingerprint here.
fn group_key(finding: &Finding) -> String {
    finding.tool_fingerprint.clone().unwrap_or_default()
}

#[test]
fn corpus_conformance() {
    let reports = common::check_folder("prowler_v3_json", FORMAT, group_key);
    common::check_detection("prowler_v3_json", FORMAT, |_| true);
    cspm::check_detection_is_exact(FORMAT, &["prowler_v3_json"]);
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
    assert_eq!(
        one.tool_fingerprint.as_deref(),
        Some("prowler-aws-acm_certificates_expiration_check-999999999999-us-east-1-api.sandbox.partner.teste.com")
    );
    assert_eq!(
        one.asset.as_str(),
        "cloud_resource:arn:aws:acm:us-east-1:999999999999:certificate/ffffffff-0000-0000-0000-000000000000"
    );
    assert_eq!(
        one.attributes.get("assessment_start_time").map(String::as_str),
        Some("2023-04-25T23:49:42.744599")
    );

    let many = report("many_vuln.json");
    let uids: Vec<&str> = many
        .findings
        .iter()
        .filter_map(|f| f.tool_fingerprint.as_deref())
        .collect();
    assert_eq!(
        uids,
        [
            "prowler-aws-acm_certificates_expiration_check-999999999999-us-east-1-api.teste.teste.com",
            "prowler-aws-accessanalyzer_enabled-999999999999-us-east-1-999999999999",
            "prowler-aws-account_maintain_current_contact_details-999999999999-us-east-1-999999999999",
        ]
    );
    assert_eq!(cspm::targets(many, "prowler"), ["aws:999999999999"]);
}
