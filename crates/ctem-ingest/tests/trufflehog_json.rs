//! Tests of the TruffleHog JSON parser: fixtures, hostile input and the
//! shared corpus.

mod common;
mod sast_support;

use std::collections::BTreeSet;

use ctem_ingest::{Detection, ParseError, ParsedReport, Position, find};
use ctem_model::{AssetKind, Cwe, Finding, FindingKind, MaskedSecret, Severity};

const FORMAT: &str = "trufflehog-json";

fn parse(name: &str, bytes: &[u8]) -> Result<ParsedReport, ParseError> {
    sast_support::parse(FORMAT, name, bytes)
}

fn parse_fixture(name: &str) -> ParsedReport {
    sast_support::parse_fixture(FORMAT, name)
}

/// The clear secrets of the fixtures, none of which may leave the parser.
const CLEAR_SECRETS: [&str; 9] = [
    "AKIAEXAMPLEKEY000001",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "ghp_EXAMPLEnotArealGithubToken000000000",
    "EXAMPLEnotArealKeyMaterial",
    "npm_EXAMPLEnotArealNpmToken0000000000000",
    "EXAMPLEpassw0rd",
    "sk_demo_EXAMPLEfirst00000000000",
    "sk_demo_EXAMPLEsecond0000000000",
    "EXAMPLEnotArealRsaKey",
];

#[test]
fn empty_report_declares_default_target() {
    let report = parse_fixture("empty.json");
    assert!(report.findings.is_empty());
    let targets: Vec<_> = report.targets.iter().cloned().collect();
    assert_eq!(
        targets,
        [("trufflehog".to_string(), "trufflehog-json:empty.json".to_string())]
    );
    assert!(parse("none.json", b"").unwrap().findings.is_empty());
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
fn version_2_snapshot() {
    let report = parse_fixture("v2.json");
    assert_eq!(report.findings.len(), 4, "one finding per distinct string found");
    insta::assert_json_snapshot!("v2", sast_support::normalized(&report));
}

#[test]
fn clear_secrets_never_leave() {
    for name in ["one.json", "many.json", "v2.json", "v2_array.json"] {
        let output = sast_support::serialized(&parse_fixture(name));
        for clear in CLEAR_SECRETS {
            assert!(!output.contains(clear), "{name} leaks {clear}");
        }
    }
}

#[test]
fn version_3_fields_map() {
    let report = parse_fixture("one.json");
    let finding = &report.findings[0];
    assert_eq!(finding.tool, "trufflehog");
    assert_eq!(finding.rule_id, "AWS");
    assert_eq!(finding.kind, FindingKind::Secret);
    assert_eq!(finding.title, "Hard Coded AWS secret");
    assert_eq!(finding.severity, Severity::Critical, "verified");
    assert_eq!(finding.cwes, [Cwe(798)]);
    assert_eq!(finding.location.path.as_deref(), Some("deploy/aws.env"));
    assert_eq!(finding.location.start_line, Some(3));
    assert_eq!(finding.secret, Some(MaskedSecret::new("AKIAEXAMPLEKEY000001")));
    assert_eq!(finding.evidence.as_deref(), Some("AKIA********"));
    assert_eq!(
        finding.attributes.get("extra.account").map(String::as_str),
        Some("123456789012")
    );
    assert_eq!(
        finding.attributes.get("email").map(String::as_str),
        Some("Dana Reyes <dana@shop.example>")
    );
    let fingerprint = finding.tool_fingerprint.as_deref().unwrap_or_default();
    assert!(
        fingerprint.starts_with("9b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c:deploy/aws.env:AWS:3:sha256-"),
        "{fingerprint}"
    );

    let repository = "https://git.shop.example/acme/infra.git";
    assert_eq!(finding.target.as_deref(), Some(repository));
    let targets: Vec<&str> = report.targets.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(targets, [repository]);
    assert_eq!(report.assets[0].kind, AssetKind::Repository);
    assert_eq!(
        report.assets[0].identifier_values("repo_url").collect::<Vec<_>>(),
        [repository]
    );
}

#[test]
fn unverified_is_high() {
    let report = parse_fixture("many.json");
    let github = &report.findings[0];
    assert_eq!(github.severity, Severity::High);
    assert_eq!(github.evidence, None);
    assert_eq!(github.references.len(), 1);
    assert!(
        github
            .description
            .as_deref()
            .is_some_and(|d| d.contains("failed to verify"))
    );
    assert!(github.attributes.contains_key("verification_error"));
}

#[test]
fn redacted_key_start_is_masked() {
    let report = parse_fixture("many.json");
    let key = &report.findings[1];
    assert_eq!(key.rule_id, "PrivateKey");
    assert_eq!(key.evidence.as_deref(), Some("----********"));
    assert_eq!(
        key.target.as_deref(),
        Some("trufflehog-json:many.json"),
        "a file system names no repository"
    );
}

#[test]
fn docker_image_is_target() {
    let report = parse_fixture("many.json");
    let npm = &report.findings[2];
    let image = "registry.shop.example/storefront:2.4.1";
    assert_eq!(npm.target.as_deref(), Some(image));
    assert_eq!(npm.asset.kind(), Some(AssetKind::ContainerImage));
    assert_eq!(npm.severity, Severity::Critical);
    assert_eq!(
        npm.attributes.get("extra.rotation_guide").map(String::as_str),
        Some("https://howtorotate.com/docs/tutorials/npm/")
    );
}

/// TruffleHog releases of 2022 wrote `Raw` as base64, without `DecoderName`.
#[test]
fn base64_raw_is_decoded() {
    let report = parse_fixture("many.json");
    let uri = &report.findings[3];
    assert_eq!(
        uri.secret,
        Some(MaskedSecret::new("smtp://mailer:EXAMPLEpassw0rd@mail.shop.example:587"))
    );
    assert_eq!(
        uri.evidence.as_deref(),
        Some("smtp://mailer:********@mail.shop.example:587")
    );
}

#[test]
fn targets_are_declared_once() {
    let report = parse_fixture("many.json");
    let targets: Vec<&str> = report.targets.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(
        targets,
        [
            "https://git.shop.example/acme/infra.git",
            "https://github.example/acme/storefront.git",
            "registry.shop.example/storefront:2.4.1",
            "trufflehog-json:many.json",
        ]
    );
    assert_eq!(report.assets.len(), 4);
}

#[test]
fn version_2_fields_map() {
    let report = parse_fixture("v2.json");
    let generic = &report.findings[0];
    assert_eq!(generic.rule_id, "generic-secret");
    assert_eq!(generic.title, "Hard Coded Generic Secret");
    assert_eq!(generic.severity, Severity::Medium);
    assert_eq!(generic.location.path.as_deref(), Some("billing/settings.py"));
    assert_eq!(generic.location.start_line, None);
    assert_eq!(
        generic.attributes.get("branch").map(String::as_str),
        Some("origin/main")
    );
    assert_ne!(
        generic.fingerprint(),
        report.findings[1].fingerprint(),
        "two secrets in one file"
    );

    let key = &report.findings[2];
    assert_eq!(
        (key.rule_id.as_str(), key.severity),
        ("rsa-private-key", Severity::High)
    );
    let entropy = &report.findings[3];
    assert_eq!(
        (entropy.title.as_str(), entropy.severity),
        ("High Entropy String", Severity::Low)
    );
    assert_eq!(report.targets.len(), 1);
}

#[test]
fn version_2_array_reads_same() {
    let lines = parse_fixture("v2.json");
    let array = parse("v2.json", &sast_support::fixture(FORMAT, "v2_array.json")).unwrap();
    assert_eq!(sast_support::normalized(&lines), sast_support::normalized(&array));
}

#[test]
fn pretty_printed_records_parse() {
    let record: serde_json::Value = serde_json::from_slice(&sast_support::fixture(FORMAT, "one.json")).unwrap();
    let pretty = format!(
        "\n\n{}\n{}\n",
        serde_json::to_string_pretty(&record).unwrap(),
        serde_json::to_string_pretty(&record).unwrap()
    );
    assert_eq!(parse("pretty.json", pretty.as_bytes()).unwrap().findings.len(), 2);
}

#[test]
fn fixtures_are_detected() {
    let parser = find(FORMAT).expect("registered");
    for name in ["one.json", "many.json", "v2.json"] {
        let bytes = sast_support::fixture(FORMAT, name);
        assert_eq!(parser.detect(&bytes), Detection::Certain, "{name}");
        assert_eq!(ctem_ingest::detect(&bytes).map(|p| p.info().id), Some(FORMAT), "{name}");
    }
    let array = sast_support::fixture(FORMAT, "v2_array.json");
    assert_eq!(parser.detect(&array), Detection::No, "trufflehog3 writes arrays");
    assert_eq!(parser.detect(b"{\"DetectorName\": \"AWS\"}"), Detection::No);
}

#[test]
fn truncated_line_names_position() {
    let bytes = sast_support::fixture(FORMAT, "many.json");
    let cut = &bytes[..bytes.len() - 40];
    let error = parse("cut.json", cut).unwrap_err();
    assert!(error.message.contains("truncated"), "{}", error.message);
    assert!(
        matches!(error.position, Some(Position::LineColumn { line: 4, .. })),
        "{error}"
    );
}

#[test]
fn invalid_line_names_position() {
    let mut bytes = sast_support::fixture(FORMAT, "one.json");
    bytes.extend_from_slice(b"\n{\"DetectorName\": \"AWS\",, }\n");
    let error = parse("bad.json", &bytes).unwrap_err();
    assert_eq!(error.position, Some(Position::LineColumn { line: 3, column: 24 }));
}

#[test]
fn leading_blank_lines_keep_positions() {
    // The `1` where a colon belongs is at line 3, column 19 of the file.
    let error = parse("bad.json", b"\n\n  {\"DetectorName\" 1}").unwrap_err();
    assert_eq!(error.position, Some(Position::LineColumn { line: 3, column: 19 }));
}

#[test]
fn other_record_is_wrong_format() {
    let error = parse("trivy.json", br#"{"SchemaVersion": 2, "Results": []}"#).unwrap_err();
    assert!(
        error.message.contains("record 1: neither a TruffleHog 3 result"),
        "{}",
        error.message
    );
    assert!(matches!(error.position, Some(Position::Byte(_))), "{error}");
}

#[test]
fn text_is_wrong_format() {
    let error = parse("log.txt", b"\n  Found verified result\n").unwrap_err();
    assert!(error.message.contains("expected TruffleHog JSON"), "{}", error.message);
    assert_eq!(error.position, Some(Position::LineColumn { line: 2, column: 3 }));
}

#[test]
fn invalid_utf8_is_rejected() {
    let mut bytes = br#"{"DetectorName": "AWS", "Raw": ""#.to_vec();
    bytes.extend_from_slice(b"\xff");
    bytes.extend_from_slice(b"\"}\n");
    let error = parse("binary.json", &bytes).unwrap_err();
    assert!(error.position.is_some(), "{error}");
}

#[test]
fn deep_nesting_errors() {
    let error = parse("deep.json", sast_support::nested_arrays(10_000).as_bytes()).unwrap_err();
    assert!(
        error.message.contains("expected a TruffleHog result object"),
        "{}",
        error.message
    );
    let text = format!(
        "{{\"DetectorName\": \"AWS\", \"ExtraData\": {{\"a\": {}}}}}",
        sast_support::nested_arrays(10_000)
    );
    let report = parse("deep.json", text.as_bytes()).unwrap();
    assert_eq!(report.findings.len(), 1, "a nested value in ExtraData is skipped");
}

#[test]
fn large_report_parses() {
    let count = 20_000;
    let mut text = String::new();
    for i in 0..count {
        text.push_str(&format!(
            r#"{{"SourceMetadata":{{"Data":{{"Git":{{"commit":"c{commit}","file":"f{file}.env","repository":"https://git.shop.example/acme/big","line":{line}}}}}}},"DetectorName":"Slack","DecoderName":"PLAIN","Verified":false,"Raw":"xoxb-EXAMPLE-{i:08}","Redacted":""}}"#,
            commit = i % 5,
            file = i / 100,
            line = i % 100 + 1,
        ));
        text.push('\n');
    }
    let report = parse("large.json", text.as_bytes()).unwrap();
    assert_eq!(report.findings.len(), count);
    let fingerprints: BTreeSet<_> = report.findings.iter().map(Finding::fingerprint).collect();
    assert_eq!(fingerprints.len(), count);
    assert!(!sast_support::serialized(&report).contains("xoxb-EXAMPLE"));
}

/// DefectDojo merges version 2 records by file and reason, and version 3
/// records by file, detector, line, commit and secret, which is what the
/// version 3 tool fingerprint is made of.
fn group_key(finding: &Finding) -> String {
    if finding.attributes.contains_key("verified") {
        finding.tool_fingerprint.clone().unwrap_or_default()
    } else {
        format!(
            "{}|{}",
            finding.rule_id,
            finding.location.path.as_deref().unwrap_or_default()
        )
    }
}

fn corpus_report<'r>(reports: &'r [(String, ParsedReport)], name: &str) -> &'r ParsedReport {
    &reports
        .iter()
        .find(|(file, _)| file == name)
        .unwrap_or_else(|| panic!("{name} parsed"))
        .1
}

#[test]
fn corpus_conformance() {
    let reports = common::check_folder("trufflehog", FORMAT, group_key);
    common::check_detection("trufflehog", FORMAT, |_| true);
    if reports.is_empty() {
        return;
    }

    let v2 = corpus_report(&reports, "v2_many_vulns.json");
    let first = &v2.findings[0];
    assert_eq!(first.severity, Severity::Medium);
    assert_eq!(first.cwes, [Cwe(798)]);
    assert_eq!(first.location.path.as_deref(), Some("test_all.py"));
    assert_eq!(first.rule_id, "generic-secret");
    let output = sast_support::serialized(v2);
    assert!(
        !output.contains("9ed54617547cfca783e0f81f8dc5c927e3d1e345'"),
        "strings found are masked"
    );

    for name in ["v3_git.json", "v3_github.json"] {
        let v3 = corpus_report(&reports, name);
        // The report has a fourth record, which DefectDojo merges with the
        // second: the same URI in the same file, line and commit.
        assert_eq!(v3.findings.len(), 4, "{name}");
        assert_eq!(v3.findings[1].fingerprint(), v3.findings[3].fingerprint(), "{name}");
        let first = &v3.findings[0];
        assert_eq!(first.severity, Severity::Critical, "{name}");
        assert_eq!(first.cwes, [Cwe(798)], "{name}");
        assert_eq!(first.location.path.as_deref(), Some("keys"), "{name}");
        assert_eq!(first.secret, Some(MaskedSecret::new("AKIAYVP4CIPPERUVIFXG")), "{name}");
        let output = sast_support::serialized(v3);
        for clear in [
            "AKIAYVP4CIPPERUVIFXG",
            "admin:admin@",
            "QUtJQVlWUDRDSVBQRVJVVklGWEc=",
            "b3BlbnNzaC1rZXktdjEAAAAACmFl",
        ] {
            assert!(!output.contains(clear), "{name} leaks {clear}");
        }
        assert!(
            v3.targets
                .iter()
                .all(|(_, target)| target.starts_with("https://github.com/trufflesecurity/test_keys"))
        );
    }
}

#[test]
fn corpus_detection_is_exact() {
    sast_support::check_exact_detection(FORMAT, &["trufflehog"], |_| true);
}
