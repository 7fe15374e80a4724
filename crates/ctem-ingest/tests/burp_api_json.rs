//! Tests of the Burp REST API scan result parser: fixtures, hostile input
//! and the shared corpus.

mod common;
mod dast_common;

use std::collections::BTreeSet;

use ctem_ingest::{Detection, ParseError, ParsedReport, Position, find};
use ctem_model::{Cwe, Finding, FindingKind, Severity, SourceStatus};
use dast_common::{assert_absent, normalized, targets};

const FORMAT: &str = "burp-api-json";

fn parse(name: &str, bytes: &[u8]) -> Result<ParsedReport, ParseError> {
    dast_common::parse(FORMAT, name, bytes)
}

fn parse_fixture(name: &str) -> ParsedReport {
    dast_common::parse_fixture(FORMAT, name)
}

fn by_serial<'r>(report: &'r ParsedReport, serial: &str) -> &'r Finding {
    report
        .findings
        .iter()
        .find(|f| f.attributes.get("serial_number").map(String::as_str) == Some(serial))
        .unwrap_or_else(|| panic!("issue {serial}"))
}

#[test]
fn empty_result_covers_default() {
    let report = parse_fixture("empty.json");
    assert!(report.findings.is_empty());
    assert!(report.assets.is_empty());
    assert_eq!(targets(&report, "burp"), ["burp-api-json:empty.json"]);
}

#[test]
fn one_issue_snapshot() {
    let report = parse_fixture("one.json");
    assert_eq!(report.findings.len(), 1);
    insta::assert_json_snapshot!("one", normalized(&report));
}

#[test]
fn many_issues_snapshot() {
    let report = parse_fixture("many.json");
    assert_eq!(report.findings.len(), 5, "the task_status event is skipped");
    insta::assert_json_snapshot!("many", normalized(&report));
}

#[test]
fn issue_fields_map() {
    let report = parse_fixture("one.json");
    let finding = &report.findings[0];
    assert_eq!(finding.tool, "burp");
    assert_eq!(finding.rule_id, "5243392");
    assert_eq!(finding.kind, FindingKind::WebWeakness);
    assert_eq!(finding.title, "TLS cookie without secure flag set");
    assert_eq!(finding.severity, Severity::Medium);
    assert_eq!(
        finding.location.url.as_deref(),
        Some("https://shop.example.test/account")
    );
    assert_eq!(finding.location.method.as_deref(), Some("GET"));
    assert_eq!(finding.location.parameter, None);
    assert_eq!(finding.attributes.get("confidence").map(String::as_str), Some("firm"));
    assert_eq!(
        finding.description.as_deref(),
        Some(
            "The following cookie was issued by the application and does not have the secure flag set:\n\n- session\n\n\
             If the secure flag is set on a cookie, then browsers will not submit the cookie in any requests that use \
             an unencrypted HTTP connection."
        )
    );
    assert_eq!(
        finding.fix.description.as_deref(),
        Some("Set the secure flag on the session cookie.")
    );
}

#[test]
fn evidence_is_masked_head() {
    let report = parse_fixture("one.json");
    let evidence = report.findings[0].evidence.as_deref().unwrap_or_default();
    assert_eq!(
        evidence,
        "- Other: session\n\nRequest:\nGET /account HTTP/1.1\nHost: shop.example.test\nAuthorization: Basic ********\n\
         Accept: */*\n\nResponse: HTTP/1.1 200 OK"
    );
    assert_absent(
        &report,
        &["YWxpY2U6Y29ycmVjdC1ob3JzZQ", "c0ffee1234567890abcdef", "<html>"],
    );
}

#[test]
fn segments_join_in_order() {
    let report = parse_fixture("many.json");
    let xss = by_serial(&report, "9000000000000000001");
    let evidence = xss.evidence.as_deref().unwrap_or_default();
    assert!(
        evidence.starts_with("Request:\nGET /search?q=xss1234 HTTP/1.1\nHost: shop.example.test\nCookie: session=********; theme=********"),
        "{evidence}"
    );
    assert_absent(&report, &["aaaabbbbccccdddd"]);
    assert_eq!(xss.cwes, [Cwe(79)]);
    assert_eq!(
        xss.references,
        [
            "https://portswigger.net/web-security/cross-site-scripting",
            "https://cwe.mitre.org/data/definitions/79.html"
        ]
    );
}

#[test]
fn captions_name_insertion_points() {
    let report = parse_fixture("many.json");
    let named = by_serial(&report, "9000000000000000001");
    assert_eq!(named.location.parameter.as_deref(), Some("q"));
    let arbitrary = by_serial(&report, "9000000000000000002");
    assert_eq!(
        arbitrary.location.parameter.as_deref(),
        Some("name of an arbitrarily supplied URL parameter")
    );
    assert_eq!(arbitrary.location.method, None, "no request in the evidence");
    let fingerprints: BTreeSet<_> = report.findings.iter().map(Finding::fingerprint).collect();
    assert_eq!(fingerprints.len(), report.findings.len());
}

#[test]
fn severities_map() {
    let report = parse_fixture("many.json");
    assert_eq!(by_serial(&report, "9000000000000000003").severity, Severity::Low);
    let redirect = by_serial(&report, "9000000000000000004");
    assert_eq!(redirect.severity, Severity::Info);
    assert_eq!(redirect.source_status, Some(SourceStatus::FalsePositive));
    let certificate = by_serial(&report, "9000000000000000005");
    assert_eq!(certificate.severity, Severity::Info);
    assert_eq!(
        certificate.location.url.as_deref(),
        Some("https://api.example.test:8443")
    );
}

#[test]
fn each_origin_is_a_target() {
    let report = parse_fixture("many.json");
    assert_eq!(
        targets(&report, "burp"),
        ["https://api.example.test:8443", "https://shop.example.test"]
    );
    assert_eq!(report.assets.len(), 2);
}

/// The same issue read from the XML export and from the REST API gives
/// the same fingerprint.
#[test]
fn xml_and_api_agree() {
    let api = parse_fixture("many.json");
    let xml = dast_common::parse_fixture("burp-xml", "one.xml");
    let from_api = by_serial(&api, "9000000000000000001");
    let from_xml = &xml.findings[0];
    assert_eq!(from_api.fingerprint(), from_xml.fingerprint());
}

#[test]
fn fixtures_are_detected() {
    let parser = find(FORMAT).expect("registered");
    for name in ["one.json", "many.json", "empty.json"] {
        let bytes = dast_common::fixture(FORMAT, name);
        assert_eq!(parser.detect(&bytes), Detection::Certain, "{name}");
        assert_eq!(ctem_ingest::detect(&bytes).map(|p| p.info().id), Some(FORMAT), "{name}");
    }
    assert_eq!(parser.detect(br#"{"issue_events": []}"#), Detection::Maybe);
    assert_eq!(parser.detect(br#"{"runs": []}"#), Detection::No);
}

#[test]
fn truncated_file_names_position() {
    let bytes = dast_common::fixture(FORMAT, "many.json");
    let error = parse("cut.json", &bytes[..bytes.len() / 2]).unwrap_err();
    assert!(error.message.contains("truncated"), "{}", error.message);
    assert!(matches!(error.position, Some(Position::LineColumn { .. })), "{error}");
}

#[test]
fn invalid_syntax_is_rejected() {
    let error = parse("bad.json", br#"{"issue_events": [ {"issue": } ]}"#).unwrap_err();
    assert_eq!(error.position, Some(Position::LineColumn { line: 1, column: 30 }));
}

#[test]
fn other_json_is_wrong_format() {
    let error = parse("sarif.json", br#"{"version": "2.1.0", "runs": []}"#).unwrap_err();
    assert!(
        error.message.contains("expected a Burp REST API scan result"),
        "{}",
        error.message
    );
    assert!(error.message.contains("runs"), "{}", error.message);
    let error = parse("array.json", b"[]").unwrap_err();
    assert!(error.message.contains("invalid type"), "{}", error.message);
}

#[test]
fn invalid_utf8_is_rejected() {
    let error = parse(
        "latin1.json",
        b"{\"issue_events\": [{\"issue\": {\"name\": \"caf\xe9\"}}]}",
    )
    .unwrap_err();
    assert!(error.position.is_some(), "{error}");
}

#[test]
fn deep_nesting_errors() {
    let depth = 10_000;
    let text = format!("{{\"issue_events\": {}{}}}", "[".repeat(depth), "]".repeat(depth));
    let error = parse("deep.json", text.as_bytes()).unwrap_err();
    assert!(error.message.contains("expected an object"), "{}", error.message);
    assert_eq!(error.position, Some(Position::LineColumn { line: 1, column: 19 }));
}

#[test]
fn deep_value_is_skipped() {
    let depth = 100_000;
    let text = format!(
        r#"{{"issue_events": [{{"type": "issue_found", "issue": {{"name": "Deep", "internal_data": {}1{}}}}}]}}"#,
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let report = parse("deep.json", text.as_bytes()).expect("ignored values are skipped without recursion");
    assert_eq!(report.findings[0].title, "Deep");
}

#[test]
fn long_segment_is_cut() {
    let data = "QUFB".repeat(2 * 1024 * 1024);
    let text = format!(
        r#"{{"issue_events": [{{"type": "issue_found", "issue": {{"name": "Large", "type_index": 1, "origin": "https://shop.example.test", "path": "/", "evidence": [{{"request_response": {{"request": [{{"type": "DataSegment", "data": "{data}"}}]}}}}]}}}}]}}"#
    );
    let report = parse("long.json", text.as_bytes()).unwrap();
    let evidence = report.findings[0].evidence.as_deref().unwrap_or_default();
    assert!(evidence.len() < 5000, "{}", evidence.len());
}

#[test]
fn large_result_streams() {
    let issues = 20_000;
    let mut text = String::from(r#"{"task_id": "1", "scan_status": "succeeded", "issue_events": ["#);
    for issue in 0..issues {
        if issue > 0 {
            text.push(',');
        }
        text.push_str(&format!(
            r#"{{"id": "{issue}", "type": "issue_found", "issue": {{"name": "Issue {}", "type_index": {}, "serial_number": "{issue}", "origin": "https://big.example.test", "path": "/page/{issue}", "severity": "low", "confidence": "firm", "evidence": []}}}}"#,
            issue % 20,
            5_000_000 + issue % 20
        ));
    }
    text.push_str("]}");
    let report = parse("large.json", text.as_bytes()).unwrap();
    assert_eq!(report.findings.len(), issues);
    let fingerprints: BTreeSet<_> = report.findings.iter().map(Finding::fingerprint).collect();
    assert_eq!(fingerprints.len(), issues);
}

/// Groups findings by issue: DefectDojo makes one finding per issue event
/// of this format, and an issue is its type at one URL and insertion
/// point.
fn group_key(finding: &Finding) -> String {
    finding.fingerprint().to_string()
}

#[test]
fn corpus_conformance() {
    let reports = common::check_folder("burp_api_json", FORMAT, group_key);
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

    let example = report("example.json");
    let first = &example.findings[0];
    assert_eq!(first.severity, Severity::Info);
    assert_eq!(first.title, "TLS cookie without secure flag set");
    assert_eq!(
        first.attributes.get("serial_number").map(String::as_str),
        Some("5605602767570803712")
    );
    assert_eq!(first.rule_id, "5243392");

    // Every issue has a URL, and a description where the report gives one:
    // the "Backup file" issues of many_vulns.json have none.
    for file in ["fix_issue_9128.json", "many_vulns.json"] {
        let parsed = report(file);
        let fingerprints: BTreeSet<_> = parsed.findings.iter().map(Finding::fingerprint).collect();
        assert_eq!(fingerprints.len(), parsed.findings.len(), "{file}");
        for finding in &parsed.findings {
            assert!(
                finding.description.is_some() || finding.title == "Backup file",
                "{file}: {}",
                finding.title
            );
            assert!(
                finding
                    .location
                    .url
                    .as_deref()
                    .is_some_and(|url| url.starts_with("https://")),
                "{file}"
            );
        }
    }
    assert_eq!(report("many_vulns.json").findings.len(), 25);
    let cookie = &report("fix_issue_9128.json").findings[0];
    assert_eq!(cookie.severity, Severity::Low);
    assert_eq!(cookie.location.url.as_deref(), Some("https://pentest-website.com"));
    let evidence = cookie.evidence.as_deref().unwrap_or_default();
    assert!(
        evidence.contains("Cookie: mp_6b641a9ef84bbfbb2cd60b2822dc4f07_mixpanel=********"),
        "{evidence}"
    );
}

#[test]
fn corpus_detection() {
    common::check_detection("burp_api_json", FORMAT, |_| true);
    dast_common::check_corpus_detection(FORMAT, |folder, _| folder == "burp_api_json");
}
