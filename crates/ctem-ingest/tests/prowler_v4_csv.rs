//! Tests of the Prowler CSV parser of versions 3 to 5: fixtures, hostile
//! input and the shared corpus.

mod common;
mod cspm;

use ctem_ingest::{Detection, ParseError, ParsedReport, Position, find};
use ctem_model::{Finding, FindingKind, Severity, SourceStatus};

const FORMAT: &str = "prowler-v4-csv";
const HEADER: &str = "AUTH_METHOD;TIMESTAMP;ACCOUNT_UID;FINDING_UID;PROVIDER;CHECK_ID;CHECK_TITLE;STATUS;\
    STATUS_EXTENDED;MUTED;SEVERITY;RESOURCE_UID;REGION";

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
    assert_eq!(cspm::targets(&report, "prowler"), ["prowler-v4-csv:empty.csv"]);
}

#[test]
fn empty_file_is_empty() {
    let report = parse("nothing.csv", b"\n\n").unwrap();
    assert!(report.findings.is_empty());
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
    assert_eq!(
        finding.rule_id,
        "ec2_securitygroup_allow_ingress_from_internet_to_tcp_port_22"
    );
    assert_eq!(finding.kind, FindingKind::Misconfiguration);
    assert_eq!(
        finding.title,
        "Ensure no security groups allow ingress from 0.0.0.0/0 or ::/0 to SSH port 22."
    );
    assert_eq!(
        finding.evidence.as_deref(),
        Some("Security group bastion-sg (sg-0a1b2c3d4e5f60718) has SSH port 22 open to the Internet.")
    );
    assert_eq!(finding.severity, Severity::High);
    assert_eq!(finding.source_status, None);
    assert_eq!(
        finding.asset.as_str(),
        "cloud_resource:arn:aws:ec2:eu-west-1:111122223333:security-group/sg-0a1b2c3d4e5f60718"
    );
    assert_eq!(
        finding.tool_fingerprint.as_deref(),
        Some(
            "prowler-aws-ec2_securitygroup_allow_ingress_from_internet_to_tcp_port_22-111122223333-eu-west-1-sg-0a1b2c3d4e5f60718"
        )
    );

    assert_eq!(finding.references.len(), 4, "{:?}", finding.references);
    assert_eq!(
        finding.attributes.get("compliance").map(String::as_str),
        Some("CIS-2.0: 5.2 | CIS-3.0: 5.2")
    );
    assert_eq!(
        finding.attributes.get("prowler_version").map(String::as_str),
        Some("5.1.0")
    );

    let group = &report.assets[1];
    assert_eq!(group.tags, ["team=platform", "env=prod"]);
    assert_eq!(group.attributes.get("partition").map(String::as_str), Some("aws"));
    assert_eq!(
        report.assets[0].attributes.get("organization").map(String::as_str),
        Some("Shop Example")
    );
}

/// Prowler cannot decide a manual check: a person has to look.
#[test]
fn manual_check_is_under_investigation() {
    let report = parse_fixture("many.csv");
    let manual = cspm::by_title(&report, "Maintain current contact details.");
    assert_eq!(manual.source_status, Some(SourceStatus::UnderInvestigation));
    assert_eq!(manual.severity, Severity::Medium);
}

#[test]
fn muted_failure_is_suppressed() {
    let report = parse_fixture("many.csv");
    let muted = cspm::by_title(&report, "Check if S3 buckets have server access logging enabled");
    assert_eq!(muted.source_status, Some(SourceStatus::Suppressed));
    assert_eq!(muted.attributes.get("muted").map(String::as_str), Some("true"));
}

#[test]
fn passed_check_is_dropped() {
    let report = parse_fixture("many.csv");
    assert!(
        report
            .findings
            .iter()
            .all(|f| f.rule_id != "iam_root_hardware_mfa_enabled")
    );
}

#[test]
fn missing_uid_and_arn_are_derived() {
    let report = parse_fixture("many.csv");
    let snapshot = cspm::by_title(&report, "Check if EBS snapshots are encrypted.");
    assert_eq!(
        snapshot.asset.as_str(),
        "cloud_resource:aws:111122223333:eu-west-1:snap-0123456789abcdef0"
    );
    assert_eq!(
        snapshot.tool_fingerprint.as_deref(),
        Some("prowler-aws-ec2_ebs_snapshots_encrypted-111122223333-eu-west-1-snap-0123456789abcdef0")
    );
    assert_eq!(snapshot.severity, Severity::Low, "a failed informational check");
}

#[test]
fn providers_name_their_accounts() {
    let report = parse_fixture("many.csv");
    assert_eq!(
        cspm::targets(&report, "prowler"),
        ["aws:111122223333", "azure:0f3c52aa-1d5e-4b7c-9a0e-6d2f8b1c4e77"]
    );
    let vault = cspm::by_title(&report, "Enable Role Based Access Control for Azure Key Vault");
    assert_eq!(
        vault.asset.as_str(),
        "cloud_resource:/subscriptions/0f3c52aa-1d5e-4b7c-9a0e-6d2f8b1c4e77/resourcegroups/shop-rg/providers/microsoft.keyvault/vaults/shop-kv"
    );
    assert_eq!(
        vault.target.as_deref(),
        Some("azure:0f3c52aa-1d5e-4b7c-9a0e-6d2f8b1c4e77")
    );
}

#[test]
fn prowler3_columns_are_read() {
    let report = parse_fixture("prowler3.csv");
    assert_eq!(report.findings.len(), 1);
    let finding = &report.findings[0];
    assert_eq!(finding.rule_id, "cloudtrail_multi_region_enabled");
    assert_eq!(
        finding.asset.as_str(),
        "cloud_resource:aws:111122223333",
        "the account itself"
    );
    assert_eq!(
        finding.tool_fingerprint.as_deref(),
        Some("prowler-aws-cloudtrail_multi_region_enabled-111122223333-us-east-1-111122223333")
    );
    assert_eq!(
        finding.attributes.get("remediation_cli").map(String::as_str),
        Some("aws cloudtrail create-trail --name all-regions --bucket-name <bucket> --is-multi-region-trail")
    );
    assert_eq!(cspm::targets(&report, "prowler"), ["aws:111122223333"]);
}

#[test]
fn comma_delimiter_is_detected() {
    let semicolons = parse_fixture("one.csv");
    let commas = parse_fixture("comma.csv");
    assert_eq!(commas.findings.len(), 1);
    assert_eq!(commas.findings[0].fingerprint(), semicolons.findings[0].fingerprint());
    assert_eq!(commas.findings[0].title, semicolons.findings[0].title);
}

#[test]
fn fixtures_are_detected() {
    let parser = find(FORMAT).expect("registered");
    for name in ["empty.csv", "one.csv", "many.csv", "prowler3.csv", "comma.csv"] {
        let bytes = cspm::fixture(FORMAT, name);
        assert_eq!(parser.detect(&bytes), Detection::Certain, "{name}");
        assert_eq!(ctem_ingest::detect(&bytes).map(|p| p.info().id), Some(FORMAT), "{name}");
    }
    assert_eq!(parser.detect(b"CHECK_ID;STATUS\n"), Detection::No);
}

#[test]
fn truncated_record_names_line() {
    let bytes = cspm::fixture(FORMAT, "many.csv");
    let cut = bytes.len() - 200;
    let error = parse("cut.csv", &bytes[..cut]).unwrap_err();
    assert!(error.message.contains("truncated"), "{}", error.message);
    assert_eq!(error.position, Some(Position::LineColumn { line: 7, column: 1 }));
}

#[test]
fn missing_columns_are_named() {
    let error = parse("other.csv", b"A;B;C\n1;2;3\n").unwrap_err();
    assert!(error.message.contains("no column CHECK_ID"), "{}", error.message);
}

#[test]
fn invalid_utf8_names_line() {
    let mut bytes = format!("{HEADER}\n").into_bytes();
    bytes.extend_from_slice(b"p;t;1;u;aws;c;T;FAIL;caf\xe9;False;high;r;eu-west-1\n");
    let error = parse("latin1.csv", &bytes).unwrap_err();
    assert!(error.message.contains("UTF-8"), "{}", error.message);
    assert_eq!(error.position, Some(Position::LineColumn { line: 2, column: 1 }));
}

#[test]
fn very_long_header_is_rejected() {
    let bytes = vec![b'A'; 17 * 1024 * 1024];
    let error = parse("long.csv", &bytes).unwrap_err();
    assert!(error.message.contains("longer than"), "{}", error.message);
    assert!(
        matches!(error.position, Some(Position::LineColumn { line: 1, .. })),
        "{error}"
    );
}

#[test]
fn quoted_newlines_keep_lines() {
    let text = format!(
        "{HEADER}\np;t;1;u;aws;c1;T;FAIL;\"two\nlines\";False;high;r1;eu-west-1\np;t;1;u;aws;c2;T;FAIL;x;False;high;r2\n"
    );
    let error = parse("short.csv", text.as_bytes()).unwrap_err();
    assert_eq!(
        error.position,
        Some(Position::LineColumn { line: 4, column: 1 }),
        "{error}"
    );
}

#[test]
fn large_report_parses() {
    let count = 20_000;
    let mut text = format!("{HEADER}\n");
    for i in 0..count {
        text.push_str(&format!(
            "profile;2025-01-20;111122223333;prowler-aws-ec2_instance_public_ip-111122223333-eu-west-1-i-{i:08};aws;\
             ec2_instance_public_ip;Check for public IPs;FAIL;Instance i-{i:08} has a public IP.;False;medium;\
             arn:aws:ec2:eu-west-1:111122223333:instance/i-{i:08};eu-west-1\n"
        ));
    }
    let report = parse("large.csv", text.as_bytes()).unwrap();
    assert_eq!(report.findings.len(), count);
    let fingerprints: std::collections::BTreeSet<_> = report.findings.iter().map(Finding::fingerprint).collect();
    assert_eq!(fingerprints.len(), count);
}

/// DefectDojo keeps failed and manual checks of this format, one finding
/// per line.
fn group_key(finding: &Finding) -> String {
    finding.fingerprint().to_string()
}

#[test]
fn corpus_conformance() {
    let reports = common::check_folder("prowler_v4_csv", FORMAT, group_key);
    common::check_detection("prowler_v4_csv", FORMAT, |_| true);
    cspm::check_detection_is_exact(FORMAT, &["prowler_v4_csv"]);
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

    let expected: [(&str, &[(&str, Severity)]); 3] = [
        (
            "example_output_aws.csv",
            &[
                ("Check if IAM Access Analyzer is enabled", Severity::Low),
                ("Maintain current contact details.", Severity::Medium),
                (
                    "Maintain different contact details to security, billing and operations.",
                    Severity::Medium,
                ),
                ("Ensure security contact information is registered.", Severity::Medium),
            ],
        ),
        (
            "example_output_azure.csv",
            &[
                ("Ensure AKS RBAC is enabled", Severity::Medium),
                ("Ensure clusters are created with Private Nodes", Severity::High),
                (
                    "Ensure clusters are created with Private Endpoint Enabled and Public Access Disabled",
                    Severity::High,
                ),
                (
                    "Ensure Network Policy is Enabled and set as appropriate",
                    Severity::Medium,
                ),
            ],
        ),
        (
            "example_output_kubernetes.csv",
            &[
                (
                    "Ensure that the admission control plugin AlwaysPullImages is set",
                    Severity::Medium,
                ),
                (
                    "Ensure that the --anonymous-auth argument is set to false",
                    Severity::High,
                ),
                (
                    "Ensure that the --audit-log-maxage argument is set to 30 or as appropriate",
                    Severity::Medium,
                ),
                (
                    "Ensure that the --audit-log-maxbackup argument is set to 10 or as appropriate",
                    Severity::Medium,
                ),
            ],
        ),
    ];
    for (file, findings) in expected {
        let parsed = report(file);
        for (index, (title, severity)) in findings.iter().enumerate() {
            assert_eq!(parsed.findings[index].title, *title, "{file}");
            assert_eq!(parsed.findings[index].severity, *severity, "{file}: {title}");
        }
    }

    let aws = report("example_output_aws.csv");
    assert_eq!(
        aws.findings[1].source_status,
        Some(SourceStatus::UnderInvestigation),
        "MANUAL"
    );
    assert_eq!(cspm::targets(aws, "prowler"), ["aws:<account_uid>"]);
    assert_eq!(
        cspm::targets(report("example_output_kubernetes.csv"), "prowler"),
        ["kubernetes:<account_uid>"]
    );
}
