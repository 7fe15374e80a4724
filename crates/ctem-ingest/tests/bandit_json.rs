//! Tests of the Bandit JSON parser: fixtures, hostile input and the shared
//! corpus.

mod common;
mod sast_support;

use std::collections::BTreeSet;

use ctem_ingest::{Detection, ParseError, ParsedReport, Position, find};
use ctem_model::{AssetKind, Cwe, Finding, FindingKind, Severity};

const FORMAT: &str = "bandit-json";

fn parse(name: &str, bytes: &[u8]) -> Result<ParsedReport, ParseError> {
    sast_support::parse(FORMAT, name, bytes)
}

fn parse_fixture(name: &str) -> ParsedReport {
    sast_support::parse_fixture(FORMAT, name)
}

#[test]
fn empty_report_declares_default_target() {
    let report = parse_fixture("empty.json");
    assert!(report.findings.is_empty());
    let targets: Vec<_> = report.targets.iter().cloned().collect();
    assert_eq!(targets, [("bandit".to_string(), "bandit-json:empty.json".to_string())]);
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
    assert_eq!(report.findings.len(), 6);
    insta::assert_json_snapshot!("many", sast_support::normalized(&report));
}

#[test]
fn result_fields_map() {
    let report = parse_fixture("one.json");
    let finding = &report.findings[0];
    assert_eq!(finding.tool, "bandit");
    assert_eq!(finding.rule_id, "B602");
    assert_eq!(finding.kind, FindingKind::CodeWeakness);
    assert_eq!(
        finding.title,
        "subprocess call with shell=True identified, security issue."
    );
    assert_eq!(finding.severity, Severity::High);
    assert_eq!(finding.cwes, [Cwe(78)]);
    assert_eq!(finding.location.path.as_deref(), Some("inventory/sync.py"));
    assert_eq!(finding.location.start_line, Some(42));
    assert_eq!(finding.location.end_line, Some(42));
    assert_eq!(finding.location.start_column, Some(5), "col_offset counts from 0");
    assert!(finding.evidence.as_deref().is_some_and(|e| e.contains("shell=True")));
    assert_eq!(finding.references.len(), 2);
    assert_eq!(
        finding.attributes.get("test_name").map(String::as_str),
        Some("subprocess_popen_with_shell_equals_true")
    );
    assert_eq!(finding.attributes.get("confidence").map(String::as_str), Some("HIGH"));
    assert_eq!(finding.target.as_deref(), Some("bandit-json:one.json"));
    assert_eq!(report.assets.len(), 1);
    assert_eq!(report.assets[0].kind, AssetKind::Repository);
}

#[test]
fn hardcoded_password_is_masked() {
    let report = parse_fixture("many.json");
    let password = &report.findings[0];
    assert_eq!(password.kind, FindingKind::Secret);
    assert_eq!(password.title, "Possible hardcoded password: 'Tr0u********'");
    let secret = password.secret.as_ref().expect("secret");
    assert_eq!(secret.masked, "Tr0u********");
    assert!(
        password
            .evidence
            .as_deref()
            .is_some_and(|e| e.contains("DB_PASSWORD = \"Tr0u********\""))
    );
    assert!(!sast_support::serialized(&report).contains("Tr0ub4dor&3-horse"));
}

#[test]
fn password_without_quote_drops_code() {
    let text = br#"{"results": [{"test_id": "B106", "issue_text": "Possible hardcoded password", "code": "connect(password=\"hunter2\")", "issue_severity": "LOW", "filename": "a.py", "line_number": 1}]}"#;
    let report = parse("pw.json", text).unwrap();
    assert_eq!(report.findings[0].evidence, None);
    assert!(!sast_support::serialized(&report).contains("hunter2"));
}

#[test]
fn windows_path_is_kept() {
    let report = parse_fixture("many.json");
    let md5 = &report.findings[1];
    assert_eq!(md5.location.path.as_deref(), Some("shop\\auth\\tokens.py"));
    assert!(md5.cwes.is_empty(), "reports before Bandit 1.7.3 name no CWE");

    let mut slashed = md5.clone();
    slashed.location.path = Some("shop/auth/tokens.py".to_string());
    assert_eq!(
        slashed.fingerprint(),
        md5.fingerprint(),
        "the fingerprint normalizes separators"
    );
}

#[test]
fn twin_results_share_fingerprint() {
    let report = parse_fixture("many.json");
    assert_eq!(report.findings[2].fingerprint(), report.findings[3].fingerprint());
}

#[test]
fn severities_map() {
    let report = parse_fixture("many.json");
    let severities: Vec<Severity> = report.findings.iter().map(|f| f.severity).collect();
    assert_eq!(
        severities,
        [
            Severity::Low,
            Severity::Medium,
            Severity::Medium,
            Severity::Medium,
            Severity::Low,
            Severity::Info
        ]
    );
    assert_eq!(
        report.findings[4].location.end_line,
        Some(6),
        "the last line of line_range"
    );
}

#[test]
fn fixtures_are_detected() {
    let parser = find(FORMAT).expect("registered");
    for name in ["empty.json", "one.json", "many.json"] {
        let bytes = sast_support::fixture(FORMAT, name);
        assert_eq!(parser.detect(&bytes), Detection::Certain, "{name}");
        assert_eq!(ctem_ingest::detect(&bytes).map(|p| p.info().id), Some(FORMAT), "{name}");
    }
    assert_eq!(parser.detect(br#"{"results": [], "errors": []}"#), Detection::No);
    assert_eq!(parser.detect(br#"[{"test_id": "B101"}]"#), Detection::No);
}

#[test]
fn truncated_file_names_position() {
    let bytes = sast_support::fixture(FORMAT, "one.json");
    let error = parse("cut.json", &bytes[..bytes.len() / 2]).unwrap_err();
    assert!(error.message.contains("truncated"), "{}", error.message);
    assert!(matches!(error.position, Some(Position::LineColumn { .. })), "{error}");
    assert!(error.to_string().starts_with("cut.json: line "), "{error}");
}

#[test]
fn invalid_syntax_is_rejected() {
    let error = parse("bad.json", b"{\"results\": [}").unwrap_err();
    assert_eq!(error.format, FORMAT);
    assert_eq!(error.position, Some(Position::LineColumn { line: 1, column: 14 }));
}

#[test]
fn semgrep_report_is_wrong_format() {
    let error = parse(
        "semgrep.json",
        br#"{"results": [{"check_id": "x", "path": "a.py", "extra": {}}], "errors": []}"#,
    )
    .unwrap_err();
    assert!(error.message.contains("no Bandit result"), "{}", error.message);
    assert!(error.position.is_some(), "{error}");
}

#[test]
fn object_without_results_is_wrong_format() {
    let error = parse("other.json", br#"{"Issues": []}"#).unwrap_err();
    assert!(
        error.message.contains("expected a Bandit JSON report"),
        "{}",
        error.message
    );
}

#[test]
fn array_root_is_wrong_format() {
    let error = parse("list.json", b"[]").unwrap_err();
    assert!(error.message.contains("found an array"), "{}", error.message);
}

#[test]
fn wrong_field_type_is_rejected() {
    let error = parse(
        "types.json",
        br#"{"results": [{"test_id": "B101", "line_number": "five"}]}"#,
    )
    .unwrap_err();
    assert!(error.message.contains("invalid type"), "{}", error.message);
    assert_eq!(
        error
            .position
            .map(|p| matches!(p, Position::LineColumn { line: 1, .. })),
        Some(true)
    );
}

#[test]
fn invalid_utf8_is_rejected() {
    let mut bytes = br#"{"results": [{"test_id": "B101", "code": ""#.to_vec();
    bytes.extend_from_slice(b"\xed\xa0\x80");
    bytes.extend_from_slice(br#""}]}"#);
    let error = parse("binary.json", &bytes).unwrap_err();
    assert!(error.position.is_some(), "{error}");
}

#[test]
fn deep_nesting_errors() {
    let error = parse("deep.json", sast_support::nested_arrays(10_000).as_bytes()).unwrap_err();
    assert!(error.position.is_some(), "{error}");
}

#[test]
fn deep_metrics_are_skipped() {
    let text = format!(
        "{{\"metrics\": {}, \"results\": [{{\"test_id\": \"B101\"}}]}}",
        sast_support::nested_arrays(10_000)
    );
    assert_eq!(parse("deep.json", text.as_bytes()).unwrap().findings.len(), 1);
}

#[test]
fn large_report_parses() {
    let count = 20_000;
    let mut text = String::from("{\"errors\": [], \"results\": [");
    for i in 0..count {
        if i > 0 {
            text.push(',');
        }
        text.push_str(&format!(
            r#"{{"code": "{line} x = {i}\n", "filename": "pkg/m{file}.py", "issue_confidence": "HIGH", "issue_severity": "LOW", "issue_text": "Use of assert detected.", "line_number": {line}, "line_range": [{line}], "more_info": "https://bandit.readthedocs.io/", "test_id": "B101", "test_name": "assert_used"}}"#,
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

fn group_key(finding: &Finding) -> String {
    finding.fingerprint().to_string()
}

/// Bandit reports the query of `migrate_surveys.py` line 51 twice (it is
/// built by two concatenations), and DefectDojo keeps both. The twins are
/// one weakness at one location, so ctem gives them one fingerprint: these
/// files are checked by their number of findings instead.
const FILES_WITH_TWINS: [(&str, usize); 2] = [("dd2.json", 165), ("many_vulns.json", 214)];

#[test]
fn corpus_conformance() {
    let reports = common::check_folder_where("bandit_json", FORMAT, group_key, |file| {
        FILES_WITH_TWINS.iter().all(|(name, _)| *name != file)
    });
    common::check_detection("bandit_json", FORMAT, |_| true);
    let Some(corpus) = common::corpus_dir() else {
        return;
    };

    let dd = &reports
        .iter()
        .find(|(file, _)| file == "dd.json")
        .expect("dd.json parsed")
        .1;
    let first = &dd.findings[0];
    assert_eq!(first.title, "Use of insecure MD2, MD4, MD5, or SHA1 hash function.");
    assert_eq!(first.severity, Severity::Medium);
    assert_eq!(first.location.path.as_deref(), Some("dojo/tools/acunetix/parser.py"));
    assert_eq!(first.rule_id, "B303");
    assert_eq!(first.attributes.get("test_name").map(String::as_str), Some("blacklist"));

    for (name, count) in FILES_WITH_TWINS {
        let report =
            common::parse_file(FORMAT, &corpus.join("bandit_json").join(name)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(report.findings.len(), count, "{name}");
        let identities: BTreeSet<_> = report.findings.iter().map(Finding::fingerprint).collect();
        assert_eq!(identities.len(), count - 1, "{name}");
    }

    let dd2 = common::parse_file(FORMAT, &corpus.join("bandit_json/dd2.json")).unwrap_or_else(|e| panic!("{e}"));
    let findings = &dd2.findings;
    assert_eq!(
        (findings[0].rule_id.as_str(), findings[0].severity),
        ("B110", Severity::Low)
    );
    assert_eq!(
        findings[0].attributes.get("test_name").map(String::as_str),
        Some("try_except_pass")
    );
    assert_eq!(findings[0].location.path.as_deref(), Some("dojo/benchmark/views.py"));
    assert_eq!(
        findings[50].title,
        "Use of mark_safe() may expose cross-site scripting vulnerabilities and should be reviewed."
    );
    assert_eq!(findings[50].severity, Severity::Medium);
    assert_eq!(findings[50].location.path.as_deref(), Some("dojo/reports/widgets.py"));
    assert_eq!(findings[50].rule_id, "B308");
    assert_eq!(findings[100].title, "Potential XSS on mark_safe function.");
    assert_eq!(findings[100].rule_id, "B703");
    assert_eq!(findings[164].title, "Possible binding to all interfaces.");
    assert_eq!(findings[164].severity, Severity::Medium);
    assert_eq!(findings[164].location.path.as_deref(), Some("dojo/wsgi.py"));
    assert_eq!(findings[164].rule_id, "B104");
    assert_eq!(
        findings[164].attributes.get("confidence").map(String::as_str),
        Some("MEDIUM")
    );

    let windows =
        common::parse_file(FORMAT, &corpus.join("bandit_json/many_vulns.json")).unwrap_or_else(|e| panic!("{e}"));
    let first = &windows.findings[0];
    assert_eq!(first.title, "Try, Except, Pass detected.");
    assert_eq!(first.severity, Severity::Low);
    assert_eq!(first.location.path.as_deref(), Some("dojo/benchmark\\views.py"));
    assert_eq!(first.rule_id, "B110");
}

#[test]
fn corpus_detection_is_exact() {
    sast_support::check_exact_detection(FORMAT, &["bandit_json"], |_| true);
}
