//! Tests of the trufflehog3 JSON parser: fixtures, hostile input and the
//! shared corpus.

mod common;
mod sast_support;

use std::collections::BTreeSet;

use ctem_ingest::{Detection, ParseError, ParsedReport, Position, find};
use ctem_model::{AssetKind, Cwe, Finding, FindingKind, MaskedSecret, Severity};

const FORMAT: &str = "trufflehog3-json";

fn parse(name: &str, bytes: &[u8]) -> Result<ParsedReport, ParseError> {
    sast_support::parse(FORMAT, name, bytes)
}

fn parse_fixture(name: &str) -> ParsedReport {
    sast_support::parse_fixture(FORMAT, name)
}

/// The clear secrets of the fixtures, none of which may leave the parser.
const CLEAR_SECRETS: [&str; 6] = [
    "xoxb-EXAMPLE-notArealSlackToken-000000",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "9F8E7D6C5B4A39281706F5E4D3C2B1A0",
    "EXAMPLEpassw0rd",
    "md5$EXAMPLEsalt01$0a1b2c3d4e5f60718293a4b5c6d7e8f9",
    "md5$EXAMPLEsalt02$f9e8d7c6b5a40392817f6e5d4c3b2a10",
];

#[test]
fn empty_report_declares_default_target() {
    let report = parse_fixture("empty.json");
    assert!(report.findings.is_empty());
    let targets: Vec<_> = report.targets.iter().cloned().collect();
    assert_eq!(
        targets,
        [("trufflehog3".to_string(), "trufflehog3-json:empty.json".to_string())]
    );
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
fn legacy_snapshot() {
    let report = parse_fixture("legacy.json");
    assert_eq!(report.findings.len(), 3, "one finding per string found");
    insta::assert_json_snapshot!("legacy", sast_support::normalized(&report));
}

#[test]
fn clear_secrets_never_leave() {
    for name in ["one.json", "many.json", "legacy.json"] {
        let output = sast_support::serialized(&parse_fixture(name));
        for clear in CLEAR_SECRETS {
            assert!(!output.contains(clear), "{name} leaks {clear}");
        }
    }
}

#[test]
fn issue_fields_map() {
    let report = parse_fixture("one.json");
    let finding = &report.findings[0];
    assert_eq!(finding.tool, "trufflehog3");
    assert_eq!(finding.rule_id, "slack-token");
    assert_eq!(finding.kind, FindingKind::Secret);
    assert_eq!(finding.title, "Slack Token");
    assert_eq!(finding.severity, Severity::High);
    assert_eq!(finding.cwes, [Cwe(798)]);
    assert_eq!(finding.location.path.as_deref(), Some("ops/notify.sh"));
    assert_eq!(finding.location.start_line, Some(7));
    assert_eq!(
        finding.secret,
        Some(MaskedSecret::new("xoxb-EXAMPLE-notArealSlackToken-000000"))
    );
    assert_eq!(
        finding.evidence.as_deref(),
        Some(
            "6: # post the release note\n7: SLACK_TOKEN=xoxb********\n\
             8: curl -H \"Authorization: Bearer $SLACK_TOKEN\" https://slack.example/api/chat.postMessage"
        )
    );
    assert_eq!(
        finding.tool_fingerprint.as_deref(),
        Some("0f1e2d3c-4b5a-3c69-8778-96a5b4c3d2e1")
    );
    assert_eq!(
        finding.attributes.get("author").map(String::as_str),
        Some("Dana Reyes <dana@shop.example>")
    );
    assert_eq!(finding.target.as_deref(), Some("trufflehog3-json:one.json"));
    assert_eq!(report.assets[0].kind, AssetKind::Repository);
}

#[test]
fn same_id_in_two_commits_is_one_identity() {
    let report = parse_fixture("many.json");
    assert_eq!(report.findings[0].fingerprint(), report.findings[1].fingerprint());
    assert_ne!(
        report.findings[0].attributes.get("commit"),
        report.findings[1].attributes.get("commit")
    );
    assert_eq!(
        report.findings[0].attributes.get("commit_message").map(String::as_str),
        Some("Add staging credentials (wJal********)")
    );
}

#[test]
fn binary_context_is_cleaned() {
    let report = parse_fixture("many.json");
    let blob = &report.findings[2];
    assert_eq!(blob.severity, Severity::Low);
    let evidence = blob.evidence.as_deref().unwrap_or_default();
    assert!(!evidence.contains('\0'), "{evidence:?}");
    assert!(evidence.contains("key=9F8E********"), "{evidence:?}");
    assert!(blob.attributes.is_empty(), "null commit facts are left out");
}

#[test]
fn missing_severity_uses_rule_name() {
    let report = parse_fixture("many.json");
    let password = &report.findings[3];
    assert_eq!(password.severity, Severity::High);
    assert_eq!(password.location.start_line, Some(12), "a number works as well as text");
    let fingerprint = password.tool_fingerprint.as_deref().unwrap_or_default();
    assert!(
        fingerprint.starts_with("app/settings.ini:generic-password:12:sha256-"),
        "{fingerprint}"
    );
}

#[test]
fn legacy_issues_map() {
    let report = parse_fixture("legacy.json");
    let entropy = &report.findings[0];
    assert_eq!(entropy.rule_id, "high-entropy");
    assert_eq!(entropy.title, "High Entropy String");
    assert_eq!(entropy.severity, Severity::Low);
    assert_eq!(entropy.location.path.as_deref(), Some("fixtures/users.json"));
    assert_ne!(entropy.fingerprint(), report.findings[1].fingerprint());
    let key = &report.findings[2];
    assert_eq!(
        (key.rule_id.as_str(), key.severity),
        ("ssh-ec-private-key", Severity::High)
    );
}

#[test]
fn fixtures_are_detected() {
    let parser = find(FORMAT).expect("registered");
    for name in ["one.json", "many.json", "legacy.json"] {
        let bytes = sast_support::fixture(FORMAT, name);
        assert_eq!(parser.detect(&bytes), Detection::Certain, "{name}");
        assert_eq!(ctem_ingest::detect(&bytes).map(|p| p.info().id), Some(FORMAT), "{name}");
    }
    assert_eq!(parser.detect(b"[]"), Detection::No);
    assert_eq!(
        parser.detect(br#"{"rule": {}, "secret": "x", "context": {}}"#),
        Detection::No
    );
}

#[test]
fn truncated_file_names_position() {
    let bytes = sast_support::fixture(FORMAT, "one.json");
    let error = parse("cut.json", &bytes[..bytes.len() / 2]).unwrap_err();
    assert!(error.message.contains("truncated"), "{}", error.message);
    assert!(matches!(error.position, Some(Position::LineColumn { .. })), "{error}");
}

#[test]
fn invalid_syntax_is_rejected() {
    let error = parse("bad.json", b"[{\"rule\": {\"id\": \"x\"}, \"path\": }]").unwrap_err();
    assert_eq!(error.format, FORMAT);
    assert_eq!(error.position, Some(Position::LineColumn { line: 1, column: 32 }));
}

#[test]
fn object_root_is_wrong_format() {
    let error = parse("semgrep.json", br#"{"results": []}"#).unwrap_err();
    assert!(
        error.message.contains("expected a trufflehog3 report"),
        "{}",
        error.message
    );
}

#[test]
fn other_array_is_wrong_format() {
    let error = parse("eslint.json", br#"[{"filePath": "a.js", "messages": []}]"#).unwrap_err();
    assert!(error.message.contains("no trufflehog3 issue"), "{}", error.message);
}

#[test]
fn wrong_rule_type_is_rejected() {
    let error = parse("types.json", br#"[{"rule": "high-entropy", "secret": "x"}]"#).unwrap_err();
    assert!(error.message.contains("invalid type"), "{}", error.message);
}

#[test]
fn invalid_utf8_is_rejected() {
    let mut bytes = br#"[{"rule": {"id": "x"}, "secret": ""#.to_vec();
    bytes.extend_from_slice(b"\xc0\xaf");
    bytes.extend_from_slice(br#""}]"#);
    let error = parse("binary.json", &bytes).unwrap_err();
    assert!(error.position.is_some(), "{error}");
}

#[test]
fn deep_nesting_errors() {
    let error = parse("deep.json", sast_support::nested_arrays(10_000).as_bytes()).unwrap_err();
    assert!(
        error.message.contains("expected a trufflehog3 issue object"),
        "{}",
        error.message
    );
}

#[test]
fn long_context_is_bounded() {
    let line = format!("{}SECRETVALUE-EXAMPLE-0001{}", "a".repeat(50_000), "b".repeat(50_000));
    let text = format!(
        r#"[{{"rule": {{"id": "r", "message": "m", "severity": "LOW"}}, "path": "min.js", "line": "1", "secret": "SECRETVALUE-EXAMPLE-0001", "context": {{"1": "{line}"}}}}]"#
    );
    let report = parse("long.json", text.as_bytes()).unwrap();
    let evidence = report.findings[0].evidence.as_deref().unwrap_or_default();
    assert!(evidence.len() < 5_000, "{}", evidence.len());
    assert!(!sast_support::serialized(&report).contains("SECRETVALUE-EXAMPLE-0001"));
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
            r#"{{"rule": {{"id": "high-entropy", "message": "High Entropy", "severity": "MEDIUM"}}, "path": "data/f{file}.txt", "line": "{line}", "secret": "EXAMPLE{i:012}", "context": {{"{line}": "k=EXAMPLE{i:012}"}}, "id": "id-{i}"}}"#,
            file = i / 1000,
            line = i % 1000 + 1,
        ));
    }
    text.push(']');
    let report = parse("large.json", text.as_bytes()).unwrap();
    assert_eq!(report.findings.len(), count);
    let fingerprints: BTreeSet<_> = report.findings.iter().map(Finding::fingerprint).collect();
    assert_eq!(fingerprints.len(), count);
    assert!(!sast_support::serialized(&report).contains("EXAMPLE0000"));
}

/// DefectDojo merges issues before 3.0 by file and reason, and 3.x issues
/// by title (the rule's message and the file), secret, severity and line.
fn group_key(finding: &Finding) -> String {
    if finding.attributes.contains_key("reason") {
        return format!(
            "{}|{}",
            finding.rule_id,
            finding.location.path.as_deref().unwrap_or_default()
        );
    }
    format!(
        "{}|{}|{}|{}|{}",
        finding.title,
        finding.location.path.as_deref().unwrap_or_default(),
        finding.secret.as_ref().map(|s| s.sha256.as_str()).unwrap_or_default(),
        finding.severity,
        finding.location.start_line.map(|l| l.to_string()).unwrap_or_default()
    )
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
    let reports = common::check_folder("trufflehog3", FORMAT, group_key);
    common::check_detection("trufflehog3", FORMAT, |_| true);
    if reports.is_empty() {
        return;
    }

    let current = &corpus_report(&reports, "many_vulns_current.json").findings;
    assert_eq!(current.len(), 4);
    assert_eq!(current[0].title, "High Entropy");
    assert_eq!(current[0].location.path.as_deref(), Some("docker/Dockerfile"));
    assert_eq!(current[0].severity, Severity::High);
    assert_eq!(current[0].location.start_line, Some(3));
    assert_eq!(current[1].severity, Severity::Medium);
    assert_eq!(current[1].location.start_line, Some(2));
    assert_eq!(
        current[1].fingerprint(),
        current[3].fingerprint(),
        "DefectDojo counts two occurrences"
    );
    assert_eq!(current[2].location.path.as_deref(), Some("env-file.txt"));
    assert_eq!(current[2].severity, Severity::Low);
    assert_eq!(current[2].location.start_line, Some(10));
    assert_eq!(
        current[2].secret,
        Some(MaskedSecret::new("44c45225cf94e58d0c86f0a31051eb7c52c8f78f"))
    );
    assert!(!sast_support::serialized(corpus_report(&reports, "many_vulns_current.json")).contains("44c45225cf94e58d"));

    // DefectDojo rates `High entropy` High by the case of the word; ctem
    // rates every high entropy string Low (see the parser's doc).
    let legacy = &corpus_report(&reports, "many_vulns_legacy.json").findings[0];
    assert_eq!(legacy.severity, Severity::Low);
    assert_eq!(legacy.cwes, [Cwe(798)]);
    assert_eq!(legacy.location.path.as_deref(), Some("fixtures/users.json"));
    let legacy2 = &corpus_report(&reports, "many_vulns2_legacy.json").findings[0];
    assert_eq!(legacy2.location.path.as_deref(), Some("test_all.py"));

    let binary = &corpus_report(&reports, "issue_6999.json").findings[0];
    assert!(binary.evidence.as_deref().is_some_and(|e| !e.contains('\0')));
}

#[test]
fn corpus_detection_is_exact() {
    sast_support::check_exact_detection(FORMAT, &["trufflehog3"], |_| true);
}
