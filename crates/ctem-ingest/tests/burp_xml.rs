//! Tests of the Burp Suite XML parser: fixtures, hostile input and the
//! shared corpus.

mod common;
mod dast_common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use ctem_ingest::{Detection, ParseError, ParsedReport, Position, find};
use ctem_model::{AssetKind, Cwe, Finding, FindingKind, Severity, SourceStatus};
use dast_common::{assert_absent, billion_laughs_doctype, normalized, targets};

const FORMAT: &str = "burp-xml";

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

/// Wraps issues in an export.
fn export_with(issues: &str) -> String {
    format!("<issues burpVersion=\"2024.3.1\" exportTime=\"Wed Jun 05 08:00:00 UTC 2024\">{issues}</issues>")
}

#[test]
fn empty_export_covers_default() {
    let report = parse_fixture("empty.xml");
    assert!(report.findings.is_empty());
    assert!(report.assets.is_empty());
    assert_eq!(targets(&report, "burp"), ["burp-xml:empty.xml"]);
}

#[test]
fn one_issue_snapshot() {
    let report = parse_fixture("one.xml");
    assert_eq!(report.findings.len(), 1);
    insta::assert_json_snapshot!("one", normalized(&report));
}

#[test]
fn many_issues_snapshot() {
    let report = parse_fixture("many.xml");
    assert_eq!(report.findings.len(), 5);
    insta::assert_json_snapshot!("many", normalized(&report));
}

#[test]
fn issue_fields_map() {
    let report = parse_fixture("one.xml");
    let finding = &report.findings[0];
    assert_eq!(finding.tool, "burp");
    assert_eq!(finding.rule_id, "2097920");
    assert_eq!(finding.kind, FindingKind::WebWeakness);
    assert_eq!(finding.title, "Cross-site scripting (reflected)");
    assert_eq!(finding.severity, Severity::High);
    assert_eq!(finding.cwes, [Cwe(79), Cwe(116)]);
    assert_eq!(
        finding.location.url.as_deref(),
        Some("https://shop.example.test/search")
    );
    assert_eq!(finding.location.method.as_deref(), Some("GET"));
    assert_eq!(finding.location.parameter.as_deref(), Some("q"));
    assert_eq!(
        finding.attributes.get("insertion_point").map(String::as_str),
        Some("parameter")
    );
    assert_eq!(
        finding.attributes.get("confidence").map(String::as_str),
        Some("certain")
    );
    assert_eq!(finding.target.as_deref(), Some("https://shop.example.test"));
    assert_eq!(
        finding.references,
        [
            "https://portswigger.net/web-security/cross-site-scripting/reflected",
            "https://cwe.mitre.org/data/definitions/79.html",
            "https://cwe.mitre.org/data/definitions/116.html"
        ]
    );
}

#[test]
fn html_becomes_text() {
    let report = parse_fixture("one.xml");
    let finding = &report.findings[0];
    let description = finding.description.as_deref().unwrap_or_default();
    assert!(
        description.starts_with(
            "The value of the q request parameter is copied into the HTML document as plain text between tags. \
             The payload \"><script>alert(1)</script> was submitted in the q parameter.\n\nReflected"
        ),
        "{description}"
    );
    let fix = finding.fix.description.as_deref().unwrap_or_default();
    assert!(fix.ends_with("- Input should be validated as strictly as possible.\n- User input should be HTML-encoded at any point where it is copied into application responses."), "{fix}");
}

#[test]
fn request_head_is_masked() {
    let report = parse_fixture("one.xml");
    let evidence = report.findings[0].evidence.as_deref().unwrap_or_default();
    assert!(evidence.contains("Authorization: Bearer ********"), "{evidence}");
    assert!(
        evidence.contains("Cookie: session=********; lang=********"),
        "{evidence}"
    );
    assert!(evidence.ends_with("Response: HTTP/1.1 200 OK"), "{evidence}");
    assert_absent(
        &report,
        &["eyJhbGciOiJIUzI1NiJ9", "d41d8cd98f00b204e9800998ecf8427e", "<html>"],
    );
}

#[test]
fn raw_request_keeps_head_only() {
    let report = parse_fixture("many.xml");
    let injection = by_serial(&report, "1001");
    let evidence = injection.evidence.as_deref().unwrap_or_default();
    assert!(
        evidence.starts_with("Request:\nPOST /account/login HTTP/1.1\n"),
        "{evidence}"
    );
    assert!(evidence.contains("Cookie: JSESSIONID=********"), "{evidence}");
    assert!(
        evidence.ends_with("Response: HTTP/1.1 500 Internal Server Error"),
        "{evidence}"
    );
    assert_absent(
        &report,
        &[
            "Winter2024",
            "0A1B2C3D4E5F60718293A4B5C6D7E8F9",
            "ORA-00933",
            "alice%27",
        ],
    );
    assert_eq!(injection.location.method.as_deref(), Some("POST"));
    assert_eq!(injection.location.parameter.as_deref(), Some("username"));
}

#[test]
fn insertion_points_separate_findings() {
    let report = parse_fixture("many.xml");
    let cookie = by_serial(&report, "1002");
    assert_eq!(cookie.location.parameter.as_deref(), Some("basket_id"));
    assert_eq!(
        cookie.attributes.get("insertion_point").map(String::as_str),
        Some("cookie")
    );
    let header = by_serial(&report, "1005");
    assert_eq!(header.location.parameter.as_deref(), Some("Host"));
    assert_eq!(
        header.attributes.get("insertion_point").map(String::as_str),
        Some("header")
    );
    let plain = by_serial(&report, "1004");
    assert_eq!(plain.location.parameter, None);
    let fingerprints: BTreeSet<_> = report.findings.iter().map(Finding::fingerprint).collect();
    assert_eq!(fingerprints.len(), report.findings.len());
}

#[test]
fn false_positive_is_marked() {
    let report = parse_fixture("many.xml");
    let header = by_serial(&report, "1005");
    assert_eq!(header.severity, Severity::Info);
    assert_eq!(header.source_status, Some(SourceStatus::FalsePositive));
    assert_eq!(by_serial(&report, "1004").source_status, None);
    assert_eq!(by_serial(&report, "1003").severity, Severity::Low);
}

#[test]
fn detail_items_are_evidence() {
    let report = parse_fixture("many.xml");
    let cookie = by_serial(&report, "1003");
    assert_eq!(cookie.evidence.as_deref(), Some("- JSESSIONID\n- basket_id"));
    assert_eq!(
        cookie.fix.description.as_deref(),
        Some("Set the HttpOnly flag on the JSESSIONID cookie.")
    );
}

#[test]
fn each_origin_is_an_asset() {
    let report = parse_fixture("many.xml");
    assert_eq!(
        targets(&report, "burp"),
        ["http://portal.example.test:8080", "https://shop.example.test"]
    );
    assert_eq!(report.assets.len(), 2);
    let portal = &report.assets[0];
    assert_eq!(portal.kind, AssetKind::WebApp);
    assert_eq!(portal.key.as_str(), "web_app:http://portal.example.test:8080");
    assert_eq!(portal.identifier_values("ip").collect::<Vec<_>>(), ["198.51.100.20"]);
    assert_eq!(portal.identifier_values("port").collect::<Vec<_>>(), ["8080"]);
    let shop = &report.assets[1];
    assert_eq!(shop.identifier_values("port").collect::<Vec<_>>(), ["443"]);
}

#[test]
fn fixtures_are_detected() {
    let parser = find(FORMAT).expect("registered");
    for name in ["one.xml", "many.xml", "empty.xml"] {
        let bytes = dast_common::fixture(FORMAT, name);
        assert_eq!(parser.detect(&bytes), Detection::Certain, "{name}");
        assert_eq!(ctem_ingest::detect(&bytes).map(|p| p.info().id), Some(FORMAT), "{name}");
    }
    assert_eq!(
        parser.detect(b"<issues><issue><title>x</title></issue></issues>"),
        Detection::No
    );
}

#[test]
fn issue_without_host_uses_default() {
    let report = parse(
        "nohost.xml",
        export_with("<issue><type>5245344</type><name>Frameable response</name><path>/</path></issue>").as_bytes(),
    )
    .unwrap();
    assert_eq!(targets(&report, "burp"), ["burp-xml:nohost.xml"]);
    assert_eq!(report.findings[0].location.url, None);
    assert_eq!(report.findings[0].severity, Severity::Info);
}

#[test]
fn truncated_file_names_position() {
    let bytes = dast_common::fixture(FORMAT, "many.xml");
    let error = parse("cut.xml", &bytes[..bytes.len() / 2]).unwrap_err();
    assert!(error.message.contains("truncated"), "{}", error.message);
    assert!(
        matches!(error.position, Some(Position::Byte(offset)) if offset > 0),
        "{error}"
    );
}

#[test]
fn invalid_syntax_is_rejected() {
    let error = parse("bad.xml", export_with("<issue><name>x</issue>").as_bytes()).unwrap_err();
    assert!(error.message.contains("invalid XML"), "{}", error.message);
    assert!(error.position.is_some(), "{error}");
}

#[test]
fn other_format_is_rejected() {
    let error = parse("zap.xml", b"<OWASPZAPReport version=\"2.15.0\"></OWASPZAPReport>").unwrap_err();
    assert!(
        error.message.contains("expected the root element <issues>"),
        "{}",
        error.message
    );
    assert!(error.message.contains("<OWASPZAPReport>"), "{}", error.message);
}

#[test]
fn invalid_utf8_is_rejected() {
    let mut document = b"<issues><issue><name>caf".to_vec();
    document.extend_from_slice(b"\xe9</name></issue></issues>");
    let error = parse("latin1.xml", &document).unwrap_err();
    assert!(matches!(error.position, Some(Position::Byte(_))), "{error}");
}

#[test]
fn billion_laughs_is_not_expanded() {
    let mut document = billion_laughs_doctype("issues");
    document.push_str(&export_with(
        "<issue><type>1</type><name>&lol9;</name><issueDetail>&lol9;</issueDetail></issue>",
    ));
    let started = Instant::now();
    let report = parse("lol.xml", document.as_bytes()).expect("parses without expanding");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(report.findings[0].title, "&lol9;");
}

#[test]
fn huge_response_is_not_kept() {
    let body = "QUFB".repeat(4 * 1024 * 1024);
    let document = export_with(&format!(
        "<issue><type>6291968</type><name>Large response</name><host>https://shop.example.test</host>\
         <path>/download</path><requestresponse><request base64=\"false\">GET /download HTTP/1.1</request>\
         <response base64=\"true\">{body}</response></requestresponse></issue>"
    ));
    let report = parse("huge.xml", document.as_bytes()).unwrap();
    let evidence = report.findings[0].evidence.as_deref().unwrap_or_default();
    assert!(evidence.len() < 5000, "{}", evidence.len());
}

#[test]
fn large_export_streams() {
    let issues = 20_000;
    let mut document = String::from("<issues burpVersion=\"2024.3.1\">");
    for issue in 0..issues {
        document.push_str(&format!(
            "<issue><serialNumber>{issue}</serialNumber><type>{}</type><name>Issue {}</name>\
             <host ip=\"10.1.0.1\">https://big.example.test</host><path>/page/{issue}</path>\
             <location>/page/{issue}</location><severity>Low</severity><confidence>Firm</confidence></issue>",
            5_000_000 + issue % 20,
            issue % 20
        ));
    }
    document.push_str("</issues>");
    let report = parse("large.xml", document.as_bytes()).unwrap();
    assert_eq!(report.findings.len(), issues);
    assert_eq!(report.assets.len(), 1);
    let fingerprints: BTreeSet<_> = report.findings.iter().map(Finding::fingerprint).collect();
    assert_eq!(fingerprints.len(), issues);
}

/// Groups findings by issue type, as DefectDojo merges the issues of one
/// type on every URL into one finding.
fn group_key(finding: &Finding) -> String {
    finding.rule_id.clone()
}

#[test]
fn corpus_conformance() {
    let reports = common::check_folder("burp_xml", FORMAT, group_key);
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

    let one = report("one_finding.xml");
    assert_eq!(one.findings.len(), 3, "3 endpoints of one issue type");
    assert!(
        one.findings
            .iter()
            .all(|f| f.rule_id == "1049088" && f.title == "SQL injection")
    );
    let parameters: Vec<_> = one.findings.iter().map(|f| f.location.parameter.as_deref()).collect();
    assert_eq!(parameters, [Some("b_id"), Some("password"), Some("username")]);

    let cwe = &report("one_finding_with_cwe.xml").findings[0];
    assert_eq!(
        cwe.attributes.get("serial_number").map(String::as_str),
        Some("456437653765735")
    );
    assert_eq!(cwe.rule_id, "7340288");
    assert_eq!(cwe.title, "Cacheable HTTPS response");
    assert_eq!(cwe.severity, Severity::Info);
    assert_eq!(cwe.cwes, [Cwe(524), Cwe(525)]);
    let evidence = cwe.evidence.as_deref().unwrap_or_default();
    assert!(evidence.contains("Authorization: Bearer ********"), "{evidence}");
    assert_absent(report("one_finding_with_cwe.xml"), &["eyJhbGciOiJkaXIoRQ"]);

    let seven = report("seven_findings.xml");
    assert_eq!(seven.findings.len(), 16, "one finding per issue");
    let first = &seven.findings[0];
    assert_eq!(first.rule_id, "5245344");
    assert_eq!(first.severity, Severity::Info);
    assert_eq!(first.title, "Frameable response (potential Clickjacking)");
    assert_eq!(first.location.url.as_deref(), Some("http://bwa/bodgeit/"));
    let fingerprints: BTreeSet<_> = seven.findings.iter().map(Finding::fingerprint).collect();
    assert_eq!(fingerprints.len(), seven.findings.len());
}

#[test]
fn corpus_detection() {
    common::check_detection("burp_xml", FORMAT, |_| true);
    dast_common::check_corpus_detection(FORMAT, |folder, _| folder == "burp_xml");
}
