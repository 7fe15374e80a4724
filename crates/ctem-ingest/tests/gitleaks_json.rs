//! Tests of the Gitleaks JSON parser: fixtures, hostile input and the
//! shared corpus.

mod common;

use ctem_ingest::{Detection, ParseError, ParsedReport, Position, find, parse_bytes};
use ctem_model::{AssetKind, Finding, FindingKind, Severity};
use serde_json::json;

const FORMAT: &str = "gitleaks-json";

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

/// Returns the targets of the report's scopes and checks that every scope
/// names the tool gitleaks.
fn targets(report: &ParsedReport) -> Vec<&str> {
    assert!(
        report.targets.iter().all(|(tool, _)| tool == "gitleaks"),
        "{:?}",
        report.targets
    );
    report.targets.iter().map(|(_, target)| target.as_str()).collect()
}

fn serialized(report: &ParsedReport) -> String {
    normalized(report).to_string()
}

#[test]
fn null_report_is_empty() {
    let report = parse_fixture("empty.json");
    assert!(report.findings.is_empty());
    assert_eq!(targets(&report), ["gitleaks-json:empty.json"]);
}

#[test]
fn empty_array_is_empty() {
    let report = parse_fixture("empty_array.json");
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
    assert_eq!(report.findings.len(), 3);
    insta::assert_json_snapshot!("many", normalized(&report));
}

#[test]
fn v8_fields_map() {
    let report = parse_fixture("one.json");
    let finding = &report.findings[0];
    assert_eq!(finding.tool, "gitleaks");
    assert_eq!(finding.rule_id, "aws-access-token");
    assert_eq!(finding.kind, FindingKind::Secret);
    assert_eq!(finding.title, "AWS Access Key");
    assert_eq!(finding.location.path.as_deref(), Some("deploy/terraform.tfvars"));
    assert_eq!(finding.location.start_line, Some(12));
    assert_eq!(finding.location.start_column, Some(18));
    assert_eq!(
        finding.tool_fingerprint.as_deref(),
        Some("4f9c2a7d1b0e8f3a6c5d4e2b1a0f9e8d7c6b5a43:deploy/terraform.tfvars:aws-access-token:12")
    );
    assert_eq!(finding.evidence.as_deref(), Some("aws_access_key_id = AKIA********"));
    assert_eq!(finding.secret.as_ref().map(|s| s.masked.as_str()), Some("AKIA********"));
    assert_eq!(finding.attributes.get("author").map(String::as_str), Some("Dana Reyes"));
}

/// Every finding is High: a leaked credential gives direct access to what
/// it unlocks, and Gitleaks reports no severity of its own.
#[test]
fn every_secret_is_high() {
    for name in [
        "one.json",
        "many.json",
        "legacy.json",
        "v7_repo_url.json",
        "redacted.json",
    ] {
        for finding in parse_fixture(name).findings {
            assert_eq!(finding.severity, Severity::High, "{name}: {}", finding.title);
        }
    }
}

#[test]
fn clear_secrets_never_leave() {
    let secrets = [
        ("one.json", "AKIAIOSFODNN7EXAMPLE"),
        ("many.json", "ghp_EXAMPLEnotArealToken0000000000000"),
        ("many.json", "XXXXXXXXXXXXXXXXXXXXXXXX"),
        ("many.json", "EXAMPLEKEYMATERIALnotArealKey000000"),
        ("legacy.json", "sk_demo_EXAMPLEfirst00000000000"),
        ("legacy.json", "sk_demo_EXAMPLEsecond0000000000"),
        ("v7_repo_url.json", "Tr0ub4dor&3-horse"),
    ];
    for (name, clear) in secrets {
        let output = serialized(&parse_fixture(name));
        assert!(!output.contains(clear), "{name} leaks {clear}");
    }
}

#[test]
fn legacy_rule_is_slugified() {
    let report = parse_fixture("legacy.json");
    let finding = &report.findings[0];
    assert_eq!(finding.rule_id, "stripe-api-key");
    assert_eq!(finding.title, "Hard Coded Stripe API key");
    assert_eq!(finding.evidence.as_deref(), Some("export STRIPE_KEY=\"sk_d********\""));
    assert_eq!(finding.attributes.get("tags").map(String::as_str), Some("key, Stripe"));
}

#[test]
fn legacy_without_lines_stays_distinct() {
    let report = parse_fixture("legacy.json");
    let first = report.findings[0].fingerprint();
    let second = report.findings[1].fingerprint();
    assert_ne!(first, second, "two secrets of one rule in one file and commit");
    let derived = report.findings[0].tool_fingerprint.as_deref().unwrap_or_default();
    assert!(
        derived.starts_with("0a1b2c3d4e5f60718293a4b5c6d7e8f901234567:scripts/env.sh:stripe-api-key:sha256-"),
        "{derived}"
    );
}

#[test]
fn repo_names_the_target() {
    let report = parse_fixture("legacy.json");
    assert_eq!(targets(&report), ["billing"]);
    assert_eq!(report.findings[0].target.as_deref(), Some("billing"));
    assert_eq!(report.assets.len(), 1);
    assert_eq!(report.assets[0].kind, AssetKind::Repository);
}

#[test]
fn repo_url_wins_over_repo() {
    let report = parse_fixture("v7_repo_url.json");
    let url = "https://git.shop.example/acme/inventory";
    assert_eq!(targets(&report), [url]);
    assert_eq!(
        report.assets[0].identifier_values("repo_url").collect::<Vec<_>>(),
        [url]
    );
    let finding = &report.findings[0];
    assert_eq!(finding.location.start_line, Some(7));
    assert_eq!(
        finding.tool_fingerprint.as_deref(),
        Some("7e6d5c4b3a29180f7e6d5c4b3a29180f7e6d5c4b:config/db.yml:generic-password:7")
    );
    assert_eq!(finding.references.len(), 1);
}

#[test]
fn redacted_report_keeps_finding() {
    let report = parse_fixture("redacted.json");
    assert_eq!(report.findings.len(), 1);
    let finding = &report.findings[0];
    assert!(finding.secret.is_none(), "no digest of the word REDACTED");
    assert_eq!(finding.attributes.get("redacted").map(String::as_str), Some("true"));
    assert_eq!(finding.evidence.as_deref(), Some("token = \"REDACTED\""));
    assert_eq!(targets(&report), ["gitleaks-json:redacted.json"]);
}

#[test]
fn fixtures_are_detected() {
    let parser = find(FORMAT).expect("registered");
    for name in [
        "one.json",
        "many.json",
        "legacy.json",
        "v7_repo_url.json",
        "redacted.json",
    ] {
        assert_eq!(parser.detect(&fixture(name)), Detection::Certain, "{name}");
        assert_eq!(
            ctem_ingest::detect(&fixture(name)).map(|p| p.info().id),
            Some(FORMAT),
            "{name}"
        );
    }
    assert_eq!(parser.detect(b"null\n"), Detection::Maybe);
    assert_eq!(parser.detect(b"[{\"id\": 1}]"), Detection::No);
    assert_eq!(parser.detect(b"{\"rule\": 1, \"offender\": 2}"), Detection::No);
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
    let error = parse("bad.json", b"[{\"RuleID\": \"x\",, }]").unwrap_err();
    assert_eq!(error.format, FORMAT);
    assert_eq!(error.position, Some(Position::LineColumn { line: 1, column: 17 }));
}

#[test]
fn object_root_is_wrong_format() {
    let error = parse("trivy.json", br#"{"SchemaVersion": 2, "Results": []}"#).unwrap_err();
    assert!(
        error.message.contains("expected a Gitleaks report"),
        "{}",
        error.message
    );
    assert!(error.message.contains("SchemaVersion"), "{}", error.message);
}

#[test]
fn wrong_field_type_is_rejected() {
    let error = parse("types.json", br#"[{"RuleID": "x", "StartLine": "twelve"}]"#).unwrap_err();
    assert!(error.message.contains("invalid type"), "{}", error.message);
}

#[test]
fn trailing_data_is_rejected() {
    let error = parse("two.json", b"[] []").unwrap_err();
    assert!(error.message.contains("trailing"), "{}", error.message);
}

#[test]
fn deep_nesting_errors() {
    let depth = 10_000;
    let text = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let error = parse("deep.json", text.as_bytes()).unwrap_err();
    assert_eq!(error.format, FORMAT);
    assert!(error.position.is_some(), "{error}");
}

/// serde_json skips an unknown field without recursion, so depth there
/// costs no stack and the leak around it still counts.
#[test]
fn deep_unknown_field_is_skipped() {
    let depth = 10_000;
    let text = format!(
        "[{{\"RuleID\": \"x\", \"Extra\": {}{}}}]",
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
            r#"{{"Description":"Generic API Key","StartLine":{line},"Match":"key=tok{i:08}EXAMPLEvalue","Secret":"tok{i:08}EXAMPLEvalue","File":"src/gen{file}.py","RuleID":"generic-api-key","Fingerprint":"src/gen{file}.py:generic-api-key:{line}"}}"#,
            line = i % 500 + 1,
            file = i / 500,
        ));
    }
    text.push(']');
    let report = parse("large.json", text.as_bytes()).unwrap();
    assert_eq!(report.findings.len(), count);
    let fingerprints: std::collections::BTreeSet<_> = report.findings.iter().map(Finding::fingerprint).collect();
    assert_eq!(fingerprints.len(), count);
    assert!(!serialized(&report).contains("EXAMPLEvalue"));
}

/// DefectDojo counts one finding per (offender, file, line); a ctem finding
/// also keeps the commit, so count distinct (rule, file, line).
fn group_key(finding: &Finding) -> String {
    format!(
        "{}|{}|{}",
        finding.rule_id,
        finding.location.path.as_deref().unwrap_or(""),
        finding.location.start_line.map(|l| l.to_string()).unwrap_or_default()
    )
}

#[test]
fn corpus_conformance() {
    let reports = common::check_folder("gitleaks", FORMAT, group_key);
    common::check_detection("gitleaks", FORMAT, |_| true);
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

    let many = report("data_many.json");
    assert_eq!(many.findings[0].title, "Hard Coded Github");
    assert_eq!(many.findings[0].location.path.as_deref(), Some(".bashrc"));
    assert_eq!(
        many.findings[0].attributes.get("tags").map(String::as_str),
        Some("key, Github")
    );

    let one = report("data_one.json");
    assert_eq!(one.findings[0].title, "Hard Coded Asymmetric Private Key");
    assert_eq!(one.findings[0].location.path.as_deref(), Some("cert-key.pem"));

    let twitter = report("issue4336.json");
    assert_eq!(twitter.findings[0].title, "Hard Coded Twitter Client ID");
    assert_eq!(twitter.findings[0].location.path.as_deref(), Some("README.md"));
    assert_eq!(twitter.findings[0].location.start_line, Some(23));

    let v7 = report("version_7.5.0.json");
    let first = &v7.findings[0];
    assert_eq!(first.title, "Hard Coded AWS Access Key");
    assert_eq!(
        first.location.path.as_deref(),
        Some("dojo/unittests/scans/gitlab_secret_detection_report/gitlab_secret_detection_report_1_vuln.json")
    );
    assert_eq!(first.location.start_line, Some(13));
    assert_eq!(first.attributes.get("tags").map(String::as_str), Some("key, AWS"));
    assert_eq!(v7.findings.len(), 8, "one finding per commit");
    assert!(!serialized(v7).contains("AKIAIOSFODNN7EXAMPLE"));

    let redacted = report("redacted_data_many.json");
    assert_eq!(redacted.findings.len(), 6);
    assert!(redacted.findings.iter().all(|f| f.secret.is_none()));
}
