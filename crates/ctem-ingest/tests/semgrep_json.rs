//! Tests of the Semgrep JSON parser: fixtures, hostile input and the
//! shared corpus.

mod common;
mod sast_support;

use std::collections::BTreeSet;

use ctem_ingest::{Detection, ParseError, ParsedReport, Position, find};
use ctem_model::{AssetKind, Cwe, Finding, FindingKind, RelationshipKind, Severity, SourceStatus};

const FORMAT: &str = "semgrep-json";

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
    let report = parse_fixture("empty.json");
    assert!(report.findings.is_empty());
    assert!(report.assets.is_empty());
    let targets: Vec<_> = report.targets.iter().cloned().collect();
    assert_eq!(
        targets,
        [("semgrep".to_string(), "semgrep-json:empty.json".to_string())]
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
    assert_eq!(report.findings.len(), 5);
    insta::assert_json_snapshot!("many", sast_support::normalized(&report));
}

#[test]
fn cli_result_fields_map() {
    let report = parse_fixture("one.json");
    let finding = &report.findings[0];
    assert_eq!(finding.tool, "semgrep");
    assert_eq!(
        finding.rule_id,
        "python.django.security.injection.sql.sql-injection-using-raw.sql-injection-using-raw"
    );
    assert_eq!(finding.kind, FindingKind::CodeWeakness);
    assert_eq!(finding.title, "Detected user input flowing into a raw SQL query.");
    assert_eq!(finding.severity, Severity::High);
    assert_eq!(finding.cwes, [Cwe(89)]);
    assert_eq!(finding.location.path.as_deref(), Some("shop/orders/views.py"));
    assert_eq!(finding.location.start_line, Some(42));
    assert_eq!(finding.location.start_column, Some(9));
    assert_eq!(finding.location.end_line, Some(42));
    assert!(
        finding
            .tool_fingerprint
            .as_deref()
            .is_some_and(|f| f.starts_with("5e3c1a9b"))
    );
    assert!(
        finding
            .evidence
            .as_deref()
            .is_some_and(|e| e.contains("Order.objects.raw"))
    );
    assert_eq!(finding.references.len(), 2);
    assert_eq!(
        finding.attributes.get("owasp").map(String::as_str),
        Some("A01:2017 - Injection; A03:2021 - Injection")
    );
    assert_eq!(finding.attributes.get("confidence").map(String::as_str), Some("HIGH"));
    assert_eq!(finding.source_status, None);
    assert_eq!(finding.target.as_deref(), Some("semgrep-json:one.json"));
    assert_eq!(report.assets.len(), 1);
    assert_eq!(report.assets[0].kind, AssetKind::Repository);
}

/// Semgrep documents `ERROR`, `WARNING` and `INFO` as High, Medium and Low.
#[test]
fn severity_words_map() {
    let report = parse_fixture("many.json");
    let severities: Vec<(&str, Severity)> = report
        .findings
        .iter()
        .map(|f| (f.rule_id.rsplit('.').next().unwrap_or_default(), f.severity))
        .collect();
    assert_eq!(
        severities,
        [
            ("use-of-md5", Severity::Medium),
            ("eqeq-is-bad", Severity::Low),
            ("string-formatted-query", Severity::Medium),
            ("detected-stripe-api-key", Severity::Critical),
            ("ssc-1f2e3d4c-5b6a-4789-9abc-def012345678", Severity::Critical),
        ]
    );
}

#[test]
fn cwe_as_string_and_fix() {
    let report = parse_fixture("many.json");
    let md5 = finding(&report, "java.lang.security.audit.crypto.use-of-md5.use-of-md5");
    assert_eq!(md5.cwes, [Cwe(328)]);
    assert_eq!(
        md5.references,
        ["https://owasp.org/Top10/A02_2021-Cryptographic_Failures"]
    );
    assert_eq!(
        md5.fix.description.as_deref(),
        Some("Replace the matched code with: MessageDigest.getInstance(\"SHA-512\")")
    );
}

#[test]
fn ignored_result_is_suppressed() {
    let report = parse_fixture("many.json");
    let eqeq = finding(&report, "javascript.lang.correctness.useless-eqeq.eqeq-is-bad");
    assert_eq!(eqeq.source_status, Some(SourceStatus::Suppressed));
    assert!(eqeq.fix.description.as_deref().is_some_and(|d| d.contains("`==`")));
}

#[test]
fn requires_login_is_no_fingerprint() {
    let report = parse_fixture("many.json");
    let query = finding(
        &report,
        "go.lang.security.audit.database.string-formatted-query.string-formatted-query",
    );
    assert_eq!(query.tool_fingerprint, None);
    assert_eq!(query.evidence, None);
    assert_eq!(query.location.start_line, Some(51));
    assert_eq!(query.location.end_line, Some(54));
}

/// Semgrep gives no secret value apart from the matched lines, so the lines
/// of secret rules are dropped rather than shown in clear.
#[test]
fn secret_rule_drops_lines() {
    let report = parse_fixture("many.json");
    let stripe = finding(
        &report,
        "generic.secrets.security.detected-stripe-api-key.detected-stripe-api-key",
    );
    assert_eq!(stripe.kind, FindingKind::Secret);
    assert_eq!(stripe.evidence, None);
    assert_eq!(
        stripe.attributes.get("validation_state").map(String::as_str),
        Some("CONFIRMED_VALID")
    );
    assert!(!sast_support::serialized(&report).contains("EXAMPLEnotArealKey"));
}

#[test]
fn supply_chain_result_has_component() {
    let report = parse_fixture("many.json");
    let minimist = finding(&report, "ssc-1f2e3d4c-5b6a-4789-9abc-def012345678");
    assert_eq!(minimist.kind, FindingKind::Vulnerability);
    let component = minimist.component.as_ref().expect("component");
    assert_eq!(component.name, "minimist");
    assert_eq!(component.version.as_deref(), Some("1.2.5"));
    assert_eq!(component.ecosystem.as_deref(), Some("npm"));
    assert_eq!(minimist.vulnerability_ids[0].as_str(), "CVE-2021-44906");
    assert_eq!(minimist.fix.fixed_versions, ["1.2.6"]);
    assert_eq!(minimist.location.start_line, Some(1204));
    assert_eq!(minimist.attributes.get("reachable").map(String::as_str), Some("false"));
    assert_eq!(
        minimist.attributes.get("transitivity").map(String::as_str),
        Some("transitive")
    );

    let component_asset = report
        .assets
        .iter()
        .find(|a| a.kind == AssetKind::Component)
        .expect("component asset");
    assert_eq!(component_asset.key.as_str(), "component:minimist@1.2.5");
    assert_eq!(report.relationships.len(), 1);
    assert_eq!(report.relationships[0].kind, RelationshipKind::Contains);
    assert_eq!(report.relationships[0].from, minimist.asset);
}

#[test]
fn repeated_results_share_fingerprint() {
    let report = parse_fixture("repeated.json");
    assert_eq!(report.findings.len(), 2);
    assert_eq!(report.findings[0].fingerprint(), report.findings[1].fingerprint());
}

#[test]
fn supply_chain_export_maps() {
    let report = parse_fixture("supply_chain.json");
    assert_eq!(report.findings.len(), 2);
    let targets: Vec<&str> = report.targets.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(targets, ["acme/build-tools", "acme/storefront"]);

    let parser = &report.findings[0];
    assert_eq!(parser.rule_id, "ssc-0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d");
    assert_eq!(parser.title, "Denial of service in fast-xml-parser");
    assert_eq!(parser.severity, Severity::High);
    assert_eq!(parser.kind, FindingKind::Vulnerability);
    let ids: Vec<&str> = parser.vulnerability_ids.iter().map(|id| id.as_str()).collect();
    assert_eq!(ids, ["CVE-2023-34104", "GHSA-6w63-h3fj-q4vw"]);
    assert_eq!(parser.cwes, [Cwe(1333)]);
    assert_eq!(parser.location.path.as_deref(), Some("package-lock.json"));
    assert_eq!(parser.location.start_line, Some(3120));
    assert_eq!(parser.location.start_column, None, "0 means unknown");
    assert_eq!(parser.fix.fixed_versions, ["4.2.4"]);
    assert_eq!(parser.source_status, Some(SourceStatus::Affected));
    assert_eq!(parser.target.as_deref(), Some("acme/storefront"));
    assert_eq!(parser.attributes.get("exposure").map(String::as_str), Some("REACHABLE"));

    let tar = &report.findings[1];
    assert_eq!(tar.severity, Severity::Critical);
    assert_eq!(tar.source_status, Some(SourceStatus::FalsePositive));
    assert_eq!(tar.target.as_deref(), Some("acme/build-tools"));
    assert_ne!(tar.asset, parser.asset);
    assert_eq!(report.relationships.len(), 2);
}

#[test]
fn fixtures_are_detected() {
    let parser = find(FORMAT).expect("registered");
    for name in ["one.json", "many.json", "repeated.json", "supply_chain.json"] {
        let bytes = sast_support::fixture(FORMAT, name);
        assert_eq!(parser.detect(&bytes), Detection::Certain, "{name}");
        assert_eq!(ctem_ingest::detect(&bytes).map(|p| p.info().id), Some(FORMAT), "{name}");
    }
    let empty = sast_support::fixture(FORMAT, "empty.json");
    assert_eq!(parser.detect(&empty), Detection::Maybe);
    assert_eq!(ctem_ingest::detect(&empty).map(|p| p.info().id), Some(FORMAT));
    assert_eq!(parser.detect(b"[{\"check_id\": 1}]"), Detection::No);
    assert_eq!(
        parser.detect(br#"{"results": [], "errors": [], "generated_at": "x", "metrics": {}}"#),
        Detection::No
    );
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
    let error = parse("bad.json", b"{\"results\": [{\"check_id\": \"x\",, }]}").unwrap_err();
    assert_eq!(error.format, FORMAT);
    assert_eq!(error.position, Some(Position::LineColumn { line: 1, column: 31 }));
}

#[test]
fn array_root_is_wrong_format() {
    let error = parse("gitleaks.json", br#"[{"RuleID": "x"}]"#).unwrap_err();
    assert!(
        error.message.contains("expected a Semgrep JSON report"),
        "{}",
        error.message
    );
    assert!(error.message.contains("found an array"), "{}", error.message);
}

#[test]
fn object_without_results_is_wrong_format() {
    let error = parse("trivy.json", br#"{"SchemaVersion": 2, "Results": []}"#).unwrap_err();
    assert!(
        error.message.contains("found an object without either"),
        "{}",
        error.message
    );
    assert!(error.position.is_some(), "{error}");
}

#[test]
fn bandit_report_is_wrong_format() {
    let error = parse(
        "bandit.json",
        br#"{"results": [{"test_id": "B101", "issue_text": "x"}], "errors": []}"#,
    )
    .unwrap_err();
    assert!(error.message.contains("no Semgrep result"), "{}", error.message);
    assert!(error.position.is_some(), "{error}");
}

#[test]
fn vuln_without_rule_is_rejected() {
    let error = parse("odd.json", br#"{"vulns": [{"advisory": {}}]}"#).unwrap_err();
    assert!(error.message.contains("no Semgrep Supply Chain"), "{}", error.message);
}

#[test]
fn platform_export_names_its_parser() {
    let error = parse("pro.json", br#"{"findings": []}"#).unwrap_err();
    assert!(error.message.contains("semgrep-pro-json"), "{}", error.message);
}

#[test]
fn results_object_is_rejected() {
    let error = parse("odd.json", br#"{"results": {"check_id": "x"}}"#).unwrap_err();
    assert!(
        error
            .message
            .contains("expected an array of Semgrep results, found an object"),
        "{}",
        error.message
    );
}

#[test]
fn wrong_extra_type_is_rejected() {
    let error = parse("types.json", br#"{"results": [{"check_id": "x", "extra": "text"}]}"#).unwrap_err();
    assert!(error.message.contains("invalid type"), "{}", error.message);
}

#[test]
fn invalid_utf8_is_rejected() {
    let mut bytes = br#"{"results": [{"check_id": "x", "path": ""#.to_vec();
    bytes.extend_from_slice(b"\xff\xfe");
    bytes.extend_from_slice(br#""}]}"#);
    let error = parse("binary.json", &bytes).unwrap_err();
    assert!(error.message.contains("invalid unicode"), "{}", error.message);
    assert!(error.position.is_some(), "{error}");
}

#[test]
fn byte_order_mark_is_skipped() {
    let mut bytes = b"\xef\xbb\xbf".to_vec();
    bytes.extend_from_slice(&sast_support::fixture(FORMAT, "one.json"));
    assert_eq!(parse("bom.json", &bytes).unwrap().findings.len(), 1);
}

#[test]
fn deep_nesting_errors() {
    let text = sast_support::nested_arrays(10_000);
    let error = parse("deep.json", text.as_bytes()).unwrap_err();
    assert_eq!(error.format, FORMAT);
    assert!(error.position.is_some(), "{error}");
}

/// `sca-fix-versions` is read as a JSON value, whose depth serde_json
/// limits to 128.
#[test]
fn deep_typed_field_errors() {
    let text = format!(
        "{{\"results\": [{{\"check_id\": \"x\", \"extra\": {{\"metadata\": {{\"sca-fix-versions\": {}}}}}}}]}}",
        sast_support::nested_arrays(10_000)
    );
    let error = parse("deep.json", text.as_bytes()).unwrap_err();
    assert!(error.message.contains("recursion limit"), "{}", error.message);
    assert!(error.position.is_some(), "{error}");
}

#[test]
fn result_array_is_rejected() {
    let text = format!("{{\"results\": [{}]}}", sast_support::nested_arrays(10_000));
    let error = parse("deep.json", text.as_bytes()).unwrap_err();
    assert!(
        error.message.contains("expected a Semgrep result object"),
        "{}",
        error.message
    );
}

/// serde_json skips an unknown field without recursion, so depth there
/// costs no stack and the result around it still counts.
#[test]
fn deep_unknown_field_is_skipped() {
    let text = format!(
        "{{\"results\": [{{\"check_id\": \"x\", \"extra\": {{\"metavars\": {}}}}}]}}",
        sast_support::nested_arrays(10_000)
    );
    let report = parse("deep.json", text.as_bytes()).unwrap();
    assert_eq!(report.findings.len(), 1);
}

#[test]
fn long_lines_are_bounded() {
    let lines = "x".repeat(1_000_000);
    let text = format!(
        r#"{{"results": [{{"check_id": "min", "path": "app.min.js", "start": {{"line": 1}}, "extra": {{"message": "m", "severity": "INFO", "lines": "{lines}"}}}}]}}"#
    );
    let report = parse("long.json", text.as_bytes()).unwrap();
    let evidence = report.findings[0].evidence.as_deref().unwrap_or_default();
    assert!(evidence.len() < 5_000, "{}", evidence.len());
    assert!(evidence.ends_with("[truncated: 4096 of 1000000 bytes kept]"));
}

#[test]
fn large_report_parses() {
    let count = 20_000;
    let mut text = String::from("{\"results\": [");
    for i in 0..count {
        if i > 0 {
            text.push(',');
        }
        text.push_str(&format!(
            r#"{{"check_id": "rules.r{rule}", "path": "src/f{file}.py", "start": {{"line": {line}, "col": 1}}, "end": {{"line": {line}, "col": 9}}, "extra": {{"message": "Message {i}.", "severity": "WARNING", "metadata": {{"cwe": ["CWE-79: XSS"]}}, "lines": "x = {i}"}}}}"#,
            rule = i % 7,
            file = i / 100,
            line = i % 100 + 1,
        ));
    }
    text.push_str("], \"errors\": []}");
    let report = parse("large.json", text.as_bytes()).unwrap();
    assert_eq!(report.findings.len(), count);
    let fingerprints: BTreeSet<_> = report.findings.iter().map(Finding::fingerprint).collect();
    assert_eq!(fingerprints.len(), count);
    assert_eq!(report.assets.len(), 1);
}

/// DefectDojo merges results with the same rule (its title is the
/// `check_id`, or the advisory title of the Supply Chain export, one to one
/// with the rule id), path and line.
fn group_key(finding: &Finding) -> String {
    format!(
        "{}|{}|{}",
        finding.rule_id,
        finding.location.path.as_deref().unwrap_or_default(),
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
    let reports = common::check_folder("semgrep_json", FORMAT, group_key);
    common::check_detection("semgrep_json", FORMAT, |_| true);
    if reports.is_empty() {
        return;
    }

    let cwe_list = &corpus_report(&reports, "cwe_list.json").findings[0];
    assert_eq!(cwe_list.severity, Severity::Low);
    assert_eq!(cwe_list.location.path.as_deref(), Some("index.js"));
    assert_eq!(cwe_list.location.start_line, Some(12));
    assert_eq!(cwe_list.cwes, [Cwe(352)]);
    assert_eq!(
        cwe_list.rule_id,
        "javascript.express.security.audit.express-check-csurf-middleware-usage.express-check-csurf-middleware-usage"
    );

    let login = corpus_report(&reports, "fingerprint_test.json");
    assert!(login.findings.iter().all(|f| f.tool_fingerprint.is_none()));
    assert_eq!(login.findings[0].location.path.as_deref(), Some("sample/brute.py"));
    assert_eq!(login.findings[0].location.start_line, Some(31));
    assert_eq!(login.findings[1].location.path.as_deref(), Some("sample/function.go"));
    assert_eq!(login.findings[1].location.start_line, Some(37));

    let many = &corpus_report(&reports, "many_vulns.json").findings;
    assert_eq!(many.len(), 48);
    assert_eq!(many[0].severity, Severity::High);
    assert_eq!(many[0].location.path.as_deref(), Some("tasks.py"));
    assert_eq!(many[0].location.start_line, Some(186));
    assert_eq!(
        many[0].rule_id,
        "python.lang.correctness.tempfile.flush.tempfile-without-flush"
    );
    assert_eq!(many[2].severity, Severity::Medium);
    assert_eq!(many[2].location.path.as_deref(), Some("utils.py"));
    assert_eq!(many[2].location.start_line, Some(503));
    assert_eq!(many[4].location.path.as_deref(), Some("tools/sslyze/parser_xml.py"));
    assert_eq!(many[4].location.start_line, Some(124));
    assert_eq!(many[4].cwes, [Cwe(327)]);
    assert!(
        many[4].rule_id.ends_with("insecure-hash-algorithm-md5"),
        "{}",
        many[4].rule_id
    );
    assert_eq!(many[37].severity, Severity::High);
    assert_eq!(
        many[37].location.path.as_deref(),
        Some("management/commands/csv_findings_export.py")
    );
    assert_eq!(many[37].location.start_line, Some(33));
    assert_eq!(many[37].cwes, [Cwe(1236)]);

    let multiple = &corpus_report(&reports, "multiple_cwes_fabricated.json").findings[0];
    assert_eq!(multiple.cwes, [Cwe(327), Cwe(696)]);

    let one = &corpus_report(&reports, "one_finding.json").findings[0];
    assert_eq!(one.severity, Severity::Medium);
    assert_eq!(
        one.location.path.as_deref(),
        Some("src/main/java/org/owasp/benchmark/testcode/BenchmarkTest02194.java")
    );
    assert_eq!(one.location.start_line, Some(64));
    assert_eq!(one.cwes, [Cwe(696)]);
    assert_eq!(
        one.rule_id,
        "java.lang.security.audit.cbc-padding-oracle.cbc-padding-oracle"
    );
    assert!(
        one.fix
            .description
            .as_deref()
            .is_some_and(|fix| fix.contains("javax crypto Cipher.getInstance(\"AES/GCM/NoPadding\");")),
        "{:?}",
        one.fix
    );

    let repeated = corpus_report(&reports, "repeated_findings.json");
    assert_eq!(repeated.findings.len(), 2, "one finding per result");
    assert_eq!(repeated.findings[0].fingerprint(), repeated.findings[1].fingerprint());
    assert_eq!(repeated.findings[0].severity, Severity::Medium);
    assert_eq!(repeated.findings[0].location.start_line, Some(66));
    assert_eq!(repeated.findings[0].cwes, [Cwe(696)]);

    let supply_chain = corpus_report(&reports, "sca-deployments-vulns.json");
    assert_eq!(supply_chain.findings.len(), 22, "one finding per vulnerability");
    let first = &supply_chain.findings[0];
    assert_eq!(first.severity, Severity::High);
    assert_eq!(first.location.path.as_deref(), Some("requirements3.txt"));
    assert_eq!(first.location.start_line, Some(222));
    assert_eq!(first.cwes, [Cwe(617)]);
    assert_eq!(first.target.as_deref(), Some("example/rfv"));
    assert_eq!(supply_chain.targets.len(), 22, "one repository per vulnerability");

    // The twin of this file (the same scan with the code one line lower)
    // is not in the corpus; Semgrep's fingerprints are what keeps them
    // equal, so each result must have one.
    let moved = corpus_report(&reports, "semgrep_version_1_30_0_line_27.json");
    assert_eq!(moved.findings.len(), 5);
    assert!(moved.findings.iter().all(|f| f.tool_fingerprint.is_some()));

    let twitter = &corpus_report(&reports, "issue_8435.json").findings[0];
    assert_eq!(twitter.kind, FindingKind::Secret);
    assert_eq!(twitter.evidence, None);
}

#[test]
fn corpus_detection_is_exact() {
    sast_support::check_exact_detection(FORMAT, &["semgrep_json"], |_| true);
}
