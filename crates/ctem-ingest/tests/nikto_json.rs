//! Tests of the Nikto JSON parser: fixtures, hostile input and the shared
//! corpus.

mod common;
mod dast_common;

use std::collections::BTreeSet;

use ctem_ingest::{Detection, ParseError, ParsedReport, Position, find};
use ctem_model::{Finding, FindingKind, Severity};
use dast_common::{assert_absent, normalized, targets};

const FORMAT: &str = "nikto-json";

fn parse(name: &str, bytes: &[u8]) -> Result<ParsedReport, ParseError> {
    dast_common::parse(FORMAT, name, bytes)
}

fn parse_fixture(name: &str) -> ParsedReport {
    dast_common::parse_fixture(FORMAT, name)
}

fn by_id<'r>(report: &'r ParsedReport, id: &str) -> Vec<&'r Finding> {
    report.findings.iter().filter(|f| f.rule_id == id).collect()
}

#[test]
fn empty_report_covers_host() {
    let report = parse_fixture("empty.json");
    assert!(report.findings.is_empty());
    assert_eq!(targets(&report, "nikto"), ["https://shop.example.test"]);
    assert_eq!(report.assets.len(), 1);
    let nothing = parse("none.json", b"[]").unwrap();
    assert_eq!(targets(&nothing, "nikto"), ["nikto-json:none.json"]);
}

#[test]
fn one_result_snapshot() {
    let report = parse_fixture("one.json");
    assert_eq!(report.findings.len(), 1);
    insta::assert_json_snapshot!("one", normalized(&report));
}

#[test]
fn many_results_snapshot() {
    let report = parse_fixture("many.json");
    assert_eq!(report.findings.len(), 7);
    insta::assert_json_snapshot!("many", normalized(&report));
}

#[test]
fn result_fields_map() {
    let report = parse_fixture("one.json");
    let finding = &report.findings[0];
    assert_eq!(finding.tool, "nikto");
    assert_eq!(finding.rule_id, "999966");
    assert_eq!(finding.kind, FindingKind::WebWeakness);
    assert_eq!(finding.severity, Severity::Info);
    assert_eq!(finding.location.url.as_deref(), Some("https://shop.example.test/"));
    assert_eq!(finding.location.method.as_deref(), Some("GET"));
    assert!(finding.vulnerability_ids.is_empty(), "OSVDB 0 is none");
    assert_eq!(finding.asset.as_str(), "web_app:https://shop.example.test");
}

#[test]
fn hosts_after_results_are_read() {
    let report = parse_fixture("many.json");
    assert_eq!(
        targets(&report, "nikto"),
        ["http://portal.example.test:8080", "https://shop.example.test"]
    );
    let portal: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.target.as_deref() == Some("http://portal.example.test:8080"))
        .collect();
    assert_eq!(portal.len(), 5);
    assert!(
        portal
            .iter()
            .all(|f| f.asset.as_str() == "web_app:http://portal.example.test:8080")
    );
    assert_eq!(
        report.assets[0].attributes.get("server").map(String::as_str),
        Some("Apache/2.4.41 (Ubuntu)")
    );
}

#[test]
fn osvdb_becomes_id() {
    let report = parse_fixture("many.json");
    let backup = by_id(&report, "001811")[0];
    let ids: Vec<_> = backup.vulnerability_ids.iter().map(|id| id.as_str()).collect();
    assert_eq!(ids, ["OSVDB:3092"]);
    assert_eq!(
        backup.location.url.as_deref(),
        Some("http://portal.example.test:8080/backup/")
    );
    let sniff = by_id(&report, "999103")[0];
    assert_eq!(
        sniff.references,
        ["https://developer.mozilla.org/en-US/docs/Web/HTTP/Headers/X-Content-Type-Options"]
    );
}

#[test]
fn default_password_is_masked() {
    let report = parse_fixture("many.json");
    let account = by_id(&report, "700007")[0];
    assert!(account.secret.is_some());
    assert!(account.title.contains("PW '********'"), "{}", account.title);
    assert_absent(&report, &["ch4ng3me"]);
}

#[test]
fn header_checks_separate_findings() {
    let report = parse_fixture("many.json");
    let fingerprints: BTreeSet<_> = report.findings.iter().map(Finding::fingerprint).collect();
    assert_eq!(fingerprints.len(), report.findings.len());
    let retrieved: Vec<_> = by_id(&report, "999986")
        .iter()
        .map(|f| f.location.parameter.as_deref())
        .collect();
    assert_eq!(retrieved, [Some("via"), Some("x-powered-by")]);
}

#[test]
fn fixtures_are_detected() {
    let parser = find(FORMAT).expect("registered");
    for name in ["one.json", "many.json", "empty.json"] {
        let bytes = dast_common::fixture(FORMAT, name);
        assert_eq!(parser.detect(&bytes), Detection::Certain, "{name}");
        assert_eq!(ctem_ingest::detect(&bytes).map(|p| p.info().id), Some(FORMAT), "{name}");
    }
    assert_eq!(
        parser.detect(br#"{"vulnerabilities": [{"id": "CVE-1"}]}"#),
        Detection::No
    );
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
    let error = parse("bad.json", br#"{"host": "a", "vulnerabilities": [ {"id": } ]}"#).unwrap_err();
    assert_eq!(error.position, Some(Position::LineColumn { line: 1, column: 43 }));
}

#[test]
fn other_json_is_wrong_format() {
    let error = parse("sarif.json", br#"{"version": "2.1.0", "runs": []}"#).unwrap_err();
    assert!(
        error.message.contains("expected a Nikto JSON report"),
        "{}",
        error.message
    );
    assert!(error.message.contains("runs"), "{}", error.message);
    let error = parse("string.json", br#""nikto""#).unwrap_err();
    assert!(error.message.contains("invalid type"), "{}", error.message);
}

#[test]
fn invalid_utf8_is_rejected() {
    let error = parse("latin1.json", b"{\"host\": \"caf\xe9\", \"vulnerabilities\": []}").unwrap_err();
    assert!(error.position.is_some(), "{error}");
}

#[test]
fn deep_nesting_errors() {
    let depth = 10_000;
    let text = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let error = parse("deep.json", text.as_bytes()).unwrap_err();
    assert!(error.position.is_some(), "{error}");
    let text = format!(
        "{{\"host\": \"a.example.test\", \"vulnerabilities\": {}{}}}",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let error = parse("deep.json", text.as_bytes()).unwrap_err();
    assert!(error.message.contains("expected an object"), "{}", error.message);
}

#[test]
fn long_message_is_read() {
    let message = "x".repeat(4 * 1024 * 1024);
    let text = format!(
        r#"{{"host": "shop.example.test", "port": "443", "vulnerabilities": [{{"id": "1", "method": "GET", "url": "/", "msg": "{message}"}}]}}"#
    );
    let report = parse("long.json", text.as_bytes()).unwrap();
    assert_eq!(report.findings.len(), 1);
}

#[test]
fn large_report_streams() {
    let results = 20_000;
    let mut text = String::from(r#"{"host": "big.example.test", "ip": "10.1.0.1", "port": "80", "vulnerabilities": ["#);
    for result in 0..results {
        if result > 0 {
            text.push(',');
        }
        text.push_str(&format!(
            r#"{{"id": "740001", "OSVDB": "0", "method": "GET", "url": "/backup/{result}.tar", "msg": "Potentially interesting backup/cert file found. "}}"#
        ));
    }
    text.push_str("]}");
    let report = parse("large.json", text.as_bytes()).unwrap();
    assert_eq!(report.findings.len(), results);
    assert_eq!(targets(&report, "nikto"), ["http://big.example.test"]);
}

/// Groups findings as DefectDojo merges Nikto results: by message (the
/// severity it adds follows the OSVDB id, which the message decides here).
fn group_key(finding: &Finding) -> String {
    finding.title.clone()
}

#[test]
fn corpus_conformance() {
    let reports = common::check_folder_where("nikto", FORMAT, group_key, |file| file.ends_with(".json"));
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

    // One finding per result: 151 results, of which 140 backup files.
    let juice = report("juice-shop.json");
    assert_eq!(juice.findings.len(), 151);
    let fingerprints: BTreeSet<_> = juice.findings.iter().map(Finding::fingerprint).collect();
    assert_eq!(fingerprints.len(), 151);
    let backups = juice
        .findings
        .iter()
        .filter(|f| f.title == "Potentially interesting backup/cert file found.")
        .count();
    assert_eq!(backups, 140);
    // DefectDojo rates this result Medium for its OSVDB link; Nikto rates
    // nothing, so ctem keeps Info and the OSVDB id.
    let interesting = by_id(juice, "001811")[0];
    assert_eq!(interesting.severity, Severity::Info);
    let ids: Vec<_> = interesting.vulnerability_ids.iter().map(|id| id.as_str()).collect();
    assert_eq!(ids, ["OSVDB:3092"]);
    assert_eq!(
        interesting.location.url.as_deref(),
        Some("https://juice-shop.herokuapp.com/public/")
    );
    assert!(
        juice
            .findings
            .iter()
            .any(|f| f.title == "Retrieved via header: 1.1 vegur")
    );
    assert_eq!(juice.assets[0].identifier_values("port").collect::<Vec<_>>(), ["443"]);

    let tdh = report("tdh.json");
    let first = &tdh.findings[0];
    assert_eq!(first.title, "Uncommon header 'x-cacheable' found, with contents: YES");
    assert_eq!(first.rule_id, "999100");
    assert_eq!(first.severity, Severity::Info);
    assert_eq!(first.asset.as_str(), "web_app:https://www.tdh.com");
    assert_eq!(
        tdh.findings[1].title,
        "Uncommon header 'x-cache' found, with contents: HIT"
    );
    let account = by_id(tdh, "700007")[0];
    assert!(account.secret.is_some());
    assert_absent(tdh, &["'cisco'"]);

    // Nikto 2.5 writes the URL before some messages, which is removed.
    let issue = report("issue_9274.json");
    assert!(
        issue
            .findings
            .iter()
            .any(|f| f.title.starts_with("X-Frame-Options header is deprecated"))
    );
    assert!(
        issue
            .findings
            .iter()
            .any(|f| f.title == "Server banner changed from 'nginx' to 'ghs'.")
    );
}

#[test]
fn corpus_detection() {
    common::check_detection("nikto", FORMAT, |file| file.ends_with(".json"));
    dast_common::check_corpus_detection(FORMAT, |folder, file| folder == "nikto" && file.ends_with(".json"));
}
