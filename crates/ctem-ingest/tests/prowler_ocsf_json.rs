//! Tests of the Prowler OCSF JSON parser: fixtures, hostile input and the
//! shared corpus.

mod common;
mod cspm;

use std::collections::BTreeSet;

use ctem_ingest::{Detection, ParseError, ParsedReport, Position, find};
use ctem_model::{Finding, FindingKind, Severity, SourceStatus};

const FORMAT: &str = "prowler-ocsf-json";

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
    assert_eq!(cspm::targets(&report, "prowler"), ["prowler-ocsf-json:empty.json"]);
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
    assert_eq!(
        finding.rule_id,
        "iam_role_administratoraccess_policy_permissive_trust_relationship"
    );
    assert_eq!(finding.kind, FindingKind::Misconfiguration);
    assert_eq!(
        finding.title,
        "IAM Role deploy-admin has AdministratorAccess policy attached that has too permissive trust relationship."
    );
    assert_eq!(finding.severity, Severity::High);
    assert_eq!(
        finding.asset.as_str(),
        "cloud_resource:arn:aws:iam::111122223333:role/deploy-admin"
    );

    assert_eq!(
        finding.fix.description.as_deref(),
        Some("Restrict the role's trust policy to named principals.")
    );
    assert_eq!(
        finding.references,
        [
            "https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#grant-least-privilege",
            "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_terms-and-concepts.html"
        ],
        "the command line among the references is no URL"
    );
    assert_eq!(
        finding.attributes.get("compliance").map(String::as_str),
        Some("CIS-3.0: 1.16 | ENS-RD2022: op.acc.2.aws.iam.4")
    );
    assert_eq!(
        finding.attributes.get("prowler_version").map(String::as_str),
        Some("5.1.0")
    );
    assert_eq!(
        finding.attributes.get("created_time").map(String::as_str),
        Some("2025-01-20T10:04:11.512230")
    );
    assert_eq!(finding.target.as_deref(), Some("aws:111122223333"));

    let role = &report.assets[1];
    assert_eq!(role.name, "deploy-admin");
    assert_eq!(role.tags, ["owner=platform"]);
    assert_eq!(
        report.assets[0].attributes.get("organization").map(String::as_str),
        Some("Shop Example")
    );
}

#[test]
fn statuses_map() {
    let report = parse_fixture("many.json");
    let manual = cspm::by_title(
        &report,
        "Login to the AWS Console. Choose your account name on the top right of the window -> My Account -> Contact Information.",
    );
    assert_eq!(manual.source_status, Some(SourceStatus::UnderInvestigation));
    let muted = cspm::by_title(&report, "S3 Bucket shop-assets has server access logging disabled.");
    assert_eq!(muted.source_status, Some(SourceStatus::Suppressed));
    assert!(
        report
            .findings
            .iter()
            .all(|f| f.rule_id != "iam_root_hardware_mfa_enabled"),
        "PASS is dropped"
    );
}

#[test]
fn severity_id_stands_in() {
    let report = parse_fixture("many.json");
    let firewall = cspm::by_title(
        &report,
        "Firewall allow-rdp does exposes port 3389 (RDP) to the internet.",
    );
    assert_eq!(firewall.severity, Severity::Critical);
    assert_eq!(
        firewall.asset.as_str(),
        "cloud_resource:gcp:acme-shop-prod:global:4119870162245537111"
    );
}

/// Kubernetes results have no `cloud` object, so they name no cluster.
#[test]
fn kubernetes_uses_default_target() {
    let report = parse_fixture("many.json");
    let apiserver = cspm::by_title(
        &report,
        "API Server does not have anonymous-auth set to false in pod kube-apiserver-node-1.",
    );
    assert_eq!(apiserver.target.as_deref(), Some("prowler-ocsf-json:many.json"));
    assert_eq!(
        apiserver.asset.as_str(),
        "cloud_resource:kubernetes:8d2c1f3e-5a6b-4c7d-9e8f-0a1b2c3d4e5f"
    );
    assert_eq!(
        apiserver.attributes.get("namespace").map(String::as_str),
        Some("kube-system")
    );
    assert_eq!(
        cspm::targets(&report, "prowler"),
        ["aws:111122223333", "gcp:acme-shop-prod", "prowler-ocsf-json:many.json"]
    );
}

#[test]
fn security_finding_class_is_rejected() {
    let bytes = cspm::fixture(FORMAT, "security_finding.json");
    let error = parse("security_finding.json", &bytes).unwrap_err();
    assert!(error.message.contains("class_uid 2001"), "{}", error.message);
    assert!(error.position.is_some(), "{error}");
}

#[test]
fn other_ocsf_version_is_rejected() {
    let bytes = br#"[{"metadata":{"event_code":"c","product":{"name":"Prowler"},"version":"2.0.0"},"status_code":"FAIL","class_uid":2004}]"#;
    let error = parse("future.json", bytes).unwrap_err();
    assert!(error.message.contains("OCSF version 2.0.0"), "{}", error.message);
}

#[test]
fn other_product_is_rejected() {
    let bytes = br#"[{"metadata":{"event_code":"c","product":{"name":"Other Scanner"},"version":"1.1.0"},"status_code":"FAIL","class_uid":2004}]"#;
    let error = parse("other.json", bytes).unwrap_err();
    assert!(error.message.contains("\"Other Scanner\""), "{}", error.message);
}

#[test]
fn fixtures_are_detected() {
    let parser = find(FORMAT).expect("registered");
    for name in ["one.json", "many.json", "security_finding.json"] {
        let bytes = cspm::fixture(FORMAT, name);
        assert_eq!(parser.detect(&bytes), Detection::Certain, "{name}");
        assert_eq!(ctem_ingest::detect(&bytes).map(|p| p.info().id), Some(FORMAT), "{name}");
    }
    assert_eq!(
        parser.detect(br#"[{"event_code": "x", "status_code": "FAIL"}]"#),
        Detection::Maybe
    );
    assert_eq!(parser.detect(b"[]"), Detection::No);
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
    let error = parse("bad.json", b"[{\"status_code\": \"FAIL\",, }]").unwrap_err();
    assert_eq!(error.format, FORMAT);
    assert_eq!(error.position, Some(Position::LineColumn { line: 1, column: 25 }));
}

#[test]
fn object_root_is_wrong_format() {
    let error = parse("single.json", br#"{"class_uid": 2004}"#).unwrap_err();
    assert!(
        error.message.contains("expected a Prowler OCSF JSON report"),
        "{}",
        error.message
    );
}

#[test]
fn other_records_are_wrong_format() {
    let error = parse("v3.json", br#"[{"CheckID": "x", "Status": "FAIL"}]"#).unwrap_err();
    assert!(error.message.contains("`metadata.event_code`"), "{}", error.message);
}

#[test]
fn invalid_utf8_is_rejected() {
    let error = parse("latin1.json", b"[{\"status_code\": \"caf\xe9\"}]").unwrap_err();
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

/// The resource data is skipped without recursion, however deep.
#[test]
fn deep_resource_data_is_skipped() {
    let depth = 10_000;
    let text = format!(
        r#"[{{"metadata":{{"event_code":"c"}},"status_code":"FAIL","resources":[{{"uid":"r","data":{}{}}}]}}]"#,
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
            r#"{{"metadata":{{"event_code":"ec2_instance_public_ip","product":{{"name":"Prowler","version":"5.1.0"}},"version":"1.4.0"}},"severity":"Medium","status":"New","status_code":"FAIL","status_detail":"Instance i-{i:08} has a public IP.","finding_info":{{"uid":"prowler-aws-ec2_instance_public_ip-111122223333-eu-west-1-i-{i:08}","title":"Check for public IPs"}},"cloud":{{"account":{{"uid":"111122223333"}},"provider":"aws","region":"eu-west-1"}},"resources":[{{"uid":"arn:aws:ec2:eu-west-1:111122223333:instance/i-{i:08}","name":"i-{i:08}","region":"eu-west-1","data":{{"details":""}}}}],"class_uid":2004}}"#
        ));
    }
    text.push(']');
    let report = parse("large.json", text.as_bytes()).unwrap();
    assert_eq!(report.findings.len(), count);
    let fingerprints: BTreeSet<_> = report.findings.iter().map(Finding::fingerprint).collect();
    assert_eq!(fingerprints.len(), count);
}

/// DefectDojo merges identical findings of this format (the Kubernetes
/// example repeats one), so count distinct fingerprints.
fn group_key(finding: &Finding) -> String {
    finding.fingerprint().to_string()
}

/// The file whose third finding is muted. DefectDojo drops muted results,
/// but ctem keeps them as suppressed so that a muted finding is not
/// reported fixed. This file is counted without its suppressed findings.
const WITH_MUTED: &str = "many_vuln_after_4_5_0.ocsf.json";

#[test]
fn corpus_conformance() {
    let reports = common::check_folder_where("prowler_ocsf", FORMAT, group_key, |file| file != WITH_MUTED);
    common::check_detection("prowler_ocsf", FORMAT, |_| true);
    cspm::check_detection_is_exact(FORMAT, &["prowler_ocsf"]);
    let Some(corpus) = common::corpus_dir() else {
        return;
    };
    let report = |name: &str| {
        &reports
            .iter()
            .find(|(file, _)| file == name)
            .unwrap_or_else(|| panic!("{name} parsed"))
            .1
    };

    let row = common::expected_rows(&corpus, "prowler_ocsf")
        .into_iter()
        .find(|row| row.file == WITH_MUTED)
        .expect("a row for the file with a muted finding");
    let muted = common::parse_file(FORMAT, &corpus.join("prowler_ocsf").join(WITH_MUTED)).unwrap();
    let unsuppressed: BTreeSet<String> = muted
        .findings
        .iter()
        .filter(|f| f.source_status != Some(SourceStatus::Suppressed))
        .map(group_key)
        .collect();
    assert_eq!(common::Expected::Count(unsuppressed.len()), row.expected);
    assert_eq!(muted.findings.len(), 3, "the muted finding is kept");
    assert_eq!(
        muted.findings[1].tool_fingerprint.as_deref(),
        Some("prowler-aws-iam_role_cross_account_readonlyaccess_policy-123456789012-us-east-1-AuditRole")
    );

    let expected: [(&str, &[(&str, Severity)]); 4] = [
        (
            "example_output_aws.ocsf.json",
            &[
                (
                    "IAM Access Analyzer in account <account_uid> is not enabled.",
                    Severity::Low,
                ),
                (
                    "Login to the AWS Console. Choose your account name on the top right of the window -> My Account -> Contact Information.",
                    Severity::Medium,
                ),
                (
                    "SECURITY, BILLING and OPERATIONS contacts not found or they are not different between each other and between ROOT contact.",
                    Severity::Medium,
                ),
            ],
        ),
        (
            "example_output_azure.ocsf.json",
            &[
                (
                    "There are no AppInsight configured in subscription <subscription_name>.",
                    Severity::Low,
                ),
                (
                    "There is not another correct email configured for subscription <subscription_name>.",
                    Severity::Medium,
                ),
                (
                    "Defender plan Defender for App Services from subscription <subscription_name> is set to OFF (pricing tier not standard).",
                    Severity::High,
                ),
            ],
        ),
        (
            "example_output_gcp.ocsf.json",
            &[
                ("Project <project_id> does not have active API Keys.", Severity::Medium),
                (
                    "AR Container Analysis is not enabled in project <project_id>.",
                    Severity::Medium,
                ),
                (
                    "Firewall <resource_id> does exposes port 3389 (RDP) to the internet.",
                    Severity::Critical,
                ),
            ],
        ),
        (
            "example_output_kubernetes.ocsf.json",
            &[
                (
                    "AlwaysPullImages admission control plugin is not set in pod <pod>.",
                    Severity::Medium,
                ),
                (
                    "Audit log max age is not set to 30 or as appropriate in pod <pod>.",
                    Severity::Medium,
                ),
                (
                    "Audit log max backup is not set to 10 or as appropriate in pod <pod>.",
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

    let one = &report("one_vuln.ocsf.json").findings[0];
    assert_eq!(
        one.tool_fingerprint.as_deref(),
        Some(
            "prowler-aws-iam_role_administratoraccess_policy_permissive_trust_relationship-123456789012-us-east-1-myAdministratorExecutionRole"
        )
    );
    assert_eq!(
        one.asset.as_str(),
        "cloud_resource:arn:aws:iam::123456789012:role/myAdministratorExecutionRole"
    );
    assert!(
        one.attributes
            .get("created_time")
            .is_some_and(|time| time.starts_with("2024-06-03"))
    );
    let after = &report("one_vuln_after_4_5_0.ocsf.json").findings[0];
    assert_eq!(
        after.fingerprint(),
        one.fingerprint(),
        "the same finding in both layouts"
    );
}
