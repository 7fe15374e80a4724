//! Tests of the ESLint JSON parser: fixtures, hostile input and the shared
//! corpus.

mod common;
mod sast_support;

use std::collections::BTreeSet;

use ctem_ingest::{Detection, ParseError, ParsedReport, Position, find};
use ctem_model::{AssetKind, Finding, FindingKind, Severity, SourceStatus};

const FORMAT: &str = "eslint-json";

fn parse(name: &str, bytes: &[u8]) -> Result<ParsedReport, ParseError> {
    sast_support::parse(FORMAT, name, bytes)
}

fn parse_fixture(name: &str) -> ParsedReport {
    sast_support::parse_fixture(FORMAT, name)
}

fn finding<'r>(report: &'r ParsedReport, rule_id: &str) -> &'r Finding {
    report
        .findings
        .iter()
        .find(|f| f.rule_id == rule_id)
        .unwrap_or_else(|| panic!("no finding of {rule_id}"))
}

#[test]
fn empty_report_declares_default_target() {
    for name in ["empty.json", "clean.json"] {
        let report = parse_fixture(name);
        assert!(report.findings.is_empty(), "{name}");
        let targets: Vec<_> = report.targets.iter().map(|(_, t)| t.clone()).collect();
        assert_eq!(targets, [format!("eslint-json:{name}")]);
    }
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
fn message_fields_map() {
    let report = parse_fixture("one.json");
    let finding = &report.findings[0];
    assert_eq!(finding.tool, "eslint");
    assert_eq!(finding.rule_id, "security/detect-non-literal-regexp");
    assert_eq!(finding.kind, FindingKind::CodeWeakness);
    assert!(
        finding
            .title
            .starts_with("RegExp() called with a `query` function argument")
    );
    assert_eq!(finding.severity, Severity::Medium);
    assert_eq!(
        finding.location.path.as_deref(),
        Some("/builds/acme/storefront/src/routes/search.js")
    );
    assert_eq!(finding.location.start_line, Some(14));
    assert_eq!(finding.location.start_column, Some(17));
    assert_eq!(finding.location.end_line, Some(14));
    assert!(finding.references.is_empty(), "plugin rules have no known page");
    assert_eq!(
        finding.attributes.get("node_type").map(String::as_str),
        Some("NewExpression")
    );
    assert_eq!(
        finding.attributes.get("eslint_severity").map(String::as_str),
        Some("error")
    );
    assert_eq!(finding.target.as_deref(), Some("eslint-json:one.json"));
    assert_eq!(report.assets.len(), 1);
    assert_eq!(report.assets[0].kind, AssetKind::Repository);
}

/// ESLint's levels are build policy: an error is Medium, a warning Low.
#[test]
fn severities_map() {
    let report = parse_fixture("many.json");
    let severities: Vec<(&str, Severity)> = report
        .findings
        .iter()
        .map(|f| (f.rule_id.as_str(), f.severity))
        .collect();
    assert_eq!(
        severities,
        [
            ("security/detect-object-injection", Severity::Low),
            ("eqeqeq", Severity::Medium),
            ("no-eval", Severity::Medium),
            ("no-secrets/no-secrets", Severity::Medium),
            ("security/detect-child-process", Severity::Medium),
            ("parse-error", Severity::Info),
        ]
    );
}

#[test]
fn fixes_and_core_rules_map() {
    let report = parse_fixture("many.json");
    let eqeqeq = finding(&report, "eqeqeq");
    assert_eq!(
        eqeqeq.fix.description.as_deref(),
        Some("ESLint fixes this automatically with `eslint --fix`.")
    );
    assert_eq!(eqeqeq.references, ["https://eslint.org/docs/latest/rules/eqeqeq"]);
    let eval = finding(&report, "no-eval");
    assert_eq!(
        eval.fix.description.as_deref(),
        Some("Parse the value with JSON.parse instead.")
    );
}

#[test]
fn secret_in_message_is_masked() {
    let report = parse_fixture("many.json");
    let secret = finding(&report, "no-secrets/no-secrets");
    assert_eq!(secret.kind, FindingKind::Secret);
    assert_eq!(secret.secret.as_ref().map(|s| s.masked.as_str()), Some("tok_********"));
    assert_eq!(secret.title, "Found a string with entropy 4.81 : \"tok_********\"");
    assert!(!sast_support::serialized(&report).contains("EXAMPLEnotArealToken"));
}

#[test]
fn parse_error_is_info() {
    let report = parse_fixture("many.json");
    let fatal = finding(&report, "parse-error");
    assert_eq!(fatal.title, "Parsing error: Unexpected token )");
    assert_eq!(
        fatal.location.path.as_deref(),
        Some("C:\\work\\storefront\\src\\legacy.js")
    );
    assert_eq!(fatal.attributes.get("fatal").map(String::as_str), Some("true"));
}

#[test]
fn suppressed_message_is_suppressed() {
    let report = parse_fixture("many.json");
    let child = finding(&report, "security/detect-child-process");
    assert_eq!(child.source_status, Some(SourceStatus::Suppressed));
    assert_eq!(
        child.attributes.get("justification").map(String::as_str),
        Some("command comes from the build config")
    );
}

#[test]
fn fixtures_are_detected() {
    let parser = find(FORMAT).expect("registered");
    for name in ["clean.json", "one.json", "many.json"] {
        let bytes = sast_support::fixture(FORMAT, name);
        assert_eq!(parser.detect(&bytes), Detection::Certain, "{name}");
        assert_eq!(ctem_ingest::detect(&bytes).map(|p| p.info().id), Some(FORMAT), "{name}");
    }
    assert_eq!(parser.detect(b"[]"), Detection::No, "an empty array fits many formats");
    assert_eq!(
        parser.detect(br#"{"filePath": "a", "messages": [], "errorCount": 0}"#),
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
    let error = parse("bad.json", b"[{\"filePath\": \"a.js\" \"messages\": []}]").unwrap_err();
    assert_eq!(error.format, FORMAT);
    assert_eq!(error.position, Some(Position::LineColumn { line: 1, column: 22 }));
}

#[test]
fn object_root_is_wrong_format() {
    let error = parse("semgrep.json", br#"{"results": [], "errors": []}"#).unwrap_err();
    assert!(
        error.message.contains("expected an ESLint JSON report"),
        "{}",
        error.message
    );
    assert!(error.message.contains("\"results\""), "{}", error.message);
}

#[test]
fn other_array_is_wrong_format() {
    let error = parse("gitleaks.json", br#"[{"RuleID": "aws", "File": "a"}]"#).unwrap_err();
    assert!(error.message.contains("no ESLint result"), "{}", error.message);
}

#[test]
fn wrong_severity_type_is_rejected() {
    let error = parse(
        "types.json",
        br#"[{"filePath": "a.js", "messages": [{"severity": "error"}]}]"#,
    )
    .unwrap_err();
    assert!(error.message.contains("invalid type"), "{}", error.message);
}

#[test]
fn invalid_utf8_is_rejected() {
    let mut bytes = br#"[{"filePath": ""#.to_vec();
    bytes.extend_from_slice(b"\x80");
    bytes.extend_from_slice(br#"", "messages": []}]"#);
    let error = parse("binary.json", &bytes).unwrap_err();
    assert!(error.position.is_some(), "{error}");
}

#[test]
fn deep_nesting_errors() {
    let error = parse("deep.json", sast_support::nested_arrays(10_000).as_bytes()).unwrap_err();
    assert!(
        error.message.contains("expected an ESLint file result object"),
        "{}",
        error.message
    );
}

#[test]
fn long_source_is_skipped() {
    let source = "x".repeat(2_000_000);
    let text = format!(
        r#"[{{"filePath": "big.js", "messages": [{{"ruleId": "no-undef", "severity": 2, "message": "'x' is not defined.", "line": 1, "column": 1}}], "source": "{source}"}}]"#
    );
    let report = parse("big.json", text.as_bytes()).unwrap();
    assert_eq!(report.findings.len(), 1);
    assert!(!sast_support::serialized(&report).contains("xxxxxxxxxx"));
}

#[test]
fn large_report_parses() {
    let count = 20_000;
    let mut text = String::from("[");
    for file in 0..count / 10 {
        if file > 0 {
            text.push(',');
        }
        text.push_str(&format!(r#"{{"filePath": "/src/f{file}.js", "messages": ["#));
        for line in 1..=10 {
            if line > 1 {
                text.push(',');
            }
            text.push_str(&format!(
                r#"{{"ruleId": "security/detect-object-injection", "severity": 1, "message": "Generic Object Injection Sink", "line": {line}, "column": 3}}"#
            ));
        }
        text.push_str(r#"], "errorCount": 0, "warningCount": 10}"#);
    }
    text.push(']');
    let report = parse("large.json", text.as_bytes()).unwrap();
    assert_eq!(report.findings.len(), count);
    let fingerprints: BTreeSet<_> = report.findings.iter().map(Finding::fingerprint).collect();
    assert_eq!(fingerprints.len(), count);
}

/// DefectDojo keeps one finding per message.
fn group_key(finding: &Finding) -> String {
    finding.fingerprint().to_string()
}

#[test]
fn corpus_conformance() {
    let reports = common::check_folder("eslint_json", FORMAT, group_key);
    common::check_detection("eslint_json", FORMAT, |_| true);
    let Some((_, scan)) = reports.iter().find(|(file, _)| file == "scan.json") else {
        return;
    };
    assert_eq!(scan.findings.len(), 2);
    let first = &scan.findings[0];
    assert_eq!(first.rule_id, "security/detect-object-injection");
    assert_eq!(first.title, "Generic Object Injection Sink");
    assert_eq!(
        first.location.path.as_deref(),
        Some("/Users/omerlh/dev/juice-shop/routes/basketItems.js")
    );
    assert_eq!(first.location.start_line, Some(19));
    assert_eq!(scan.findings[1].location.start_line, Some(20));
}

#[test]
fn corpus_detection_is_exact() {
    sast_support::check_exact_detection(FORMAT, &["eslint_json"], |_| true);
}
