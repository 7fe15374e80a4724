//! Tests of the OSV-Scanner JSON parser: fixtures, hostile input and the
//! shared corpus.

mod common;
mod sca_common;

use std::collections::BTreeSet;

use ctem_ingest::{Detection, ParseError, ParsedReport, Position, find, parse_bytes};
use ctem_model::{AssetKind, Cwe, Finding, FindingKind, Severity};
use serde_json::json;

const FORMAT: &str = "osv-scanner-json";

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

fn ids(finding: &Finding) -> Vec<&str> {
    finding.vulnerability_ids.iter().map(|id| id.as_str()).collect()
}

fn purl(finding: &Finding) -> Option<&str> {
    finding.component.as_ref()?.purl.as_ref().map(|p| p.as_str())
}

#[test]
fn empty_report_declares_scope() {
    let report = parse_fixture("empty.json");
    assert!(report.findings.is_empty());
    let targets: Vec<_> = report.targets.iter().cloned().collect();
    assert_eq!(
        targets,
        [("osv-scanner".to_string(), "osv-scanner-json:empty.json".to_string())]
    );
    assert_eq!(report.assets.len(), 1);
    assert_eq!(report.assets[0].kind, AssetKind::Repository);
}

#[test]
fn zero_byte_file_declares_nothing() {
    let report = parse_fixture("zero_bytes.json");
    assert!(report.findings.is_empty());
    assert!(report.targets.is_empty(), "an empty file must not close findings");
    assert!(report.assets.is_empty());
    let report = parse("blank.json", b" \n\t\n").unwrap();
    assert!(report.targets.is_empty());
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
    assert_eq!(report.findings.len(), 4);
    insta::assert_json_snapshot!("many", normalized(&report));
}

#[test]
fn record_fields_map() {
    let report = parse_fixture("one.json");
    let finding = &report.findings[0];
    assert_eq!(finding.tool, "osv-scanner");
    assert_eq!(finding.rule_id, "GHSA-35jh-r3h4-6jhm");
    assert_eq!(finding.kind, FindingKind::Vulnerability);
    assert_eq!(finding.title, "GHSA-35jh-r3h4-6jhm in lodash 4.17.20");
    assert_eq!(finding.severity, Severity::High);
    assert_eq!(ids(finding), ["GHSA-35jh-r3h4-6jhm", "CVE-2021-23337"]);
    assert_eq!(finding.cwes, [Cwe(77), Cwe(94)]);
    assert_eq!(finding.cvss.len(), 1);
    assert_eq!(purl(finding), Some("pkg:npm/lodash@4.17.20"));
    assert_eq!(finding.fix.fixed_versions, ["4.17.21"]);
    assert_eq!(
        finding.location.path.as_deref(),
        Some("/src/storefront/package-lock.json")
    );
    assert_eq!(finding.references.len(), 2);
    assert!(
        finding
            .description
            .as_deref()
            .is_some_and(|d| d.starts_with("Command Injection in lodash\n\n`lodash` versions"))
    );
    assert_eq!(finding.attributes.get("max_severity").map(String::as_str), Some("7.2"));
    assert_eq!(finding.target.as_deref(), Some("osv-scanner-json:one.json"));
}

#[test]
fn aliased_records_are_one_finding() {
    let report = parse_fixture("many.json");
    let django = &report.findings[0];
    assert_eq!(django.rule_id, "GHSA-53qw-q765-4fww");
    assert_eq!(ids(django), ["GHSA-53qw-q765-4fww", "PYSEC-2021-439", "CVE-2021-44420"]);
    assert_eq!(
        django.severity,
        Severity::Medium,
        "the record's word wins over max_severity"
    );
    assert_eq!(django.fix.fixed_versions, ["2.2.25", "3.1.14"]);
    assert_eq!(django.cwes, [Cwe(290)]);
    assert_eq!(purl(django), Some("pkg:pypi/django@2.2.20"));

    let ungrouped = &report.findings[1];
    assert_eq!(ungrouped.rule_id, "PYSEC-2023-100");
    assert_eq!(ungrouped.severity, Severity::Info);
    assert_eq!(ungrouped.fix.fixed_versions, ["3.2.19"]);
}

#[test]
fn malicious_and_git_packages() {
    let report = parse_fixture("many.json");
    let malicious = &report.findings[2];
    assert_eq!(malicious.title, "MAL-2023-1035 in flot-axis 0.0.0");
    assert_eq!(malicious.cwes, [Cwe(506)]);
    assert!(malicious.fix.is_empty());

    let git = &report.findings[3];
    let component = git.component.as_ref().expect("component");
    assert_eq!(component.name, "/src/vendor/libfoo");
    assert_eq!(
        component.version.as_deref(),
        Some("f5f3c22f3ed5a6804a2a8d9ee9fa43044cfa24a6")
    );
    assert_eq!(git.severity, Severity::High);
    assert_eq!(git.attributes.get("source_type").map(String::as_str), Some("git"));
    let components = report.assets.iter().filter(|a| a.kind == AssetKind::Component).count();
    assert_eq!(components, 3);
    assert_eq!(report.relationships.len(), 3);
}

#[test]
fn fixtures_are_detected() {
    let parser = find(FORMAT).expect("registered");
    for name in ["empty.json", "one.json", "many.json"] {
        assert_eq!(parser.detect(&fixture(name)), Detection::Certain, "{name}");
        assert_eq!(
            ctem_ingest::detect(&fixture(name)).map(|p| p.info().id),
            Some(FORMAT),
            "{name}"
        );
    }
    assert_eq!(
        parser.detect(br#"{"results": [{"check_id": "x", "path": "a.py"}]}"#),
        Detection::No
    );
}

#[test]
fn other_json_is_rejected() {
    let error = parse("other.json", br#"{"matches": []}"#).unwrap_err();
    assert!(error.message.contains("missing \"results\""), "{}", error.message);
    let error = parse("list.json", b"[]").unwrap_err();
    assert!(
        error.message.contains("an OSV-Scanner report object"),
        "{}",
        error.message
    );
}

#[test]
fn truncated_file_names_position() {
    let bytes = fixture("many.json");
    let error = parse("cut.json", &bytes[..bytes.len() / 2]).unwrap_err();
    assert!(error.message.contains("truncated"), "{}", error.message);
    assert!(matches!(error.position, Some(Position::LineColumn { .. })), "{error}");
}

#[test]
fn invalid_syntax_is_rejected() {
    let error = parse("bad.json", b"\n\n{\"results\": [}").unwrap_err();
    assert_eq!(error.position, Some(Position::LineColumn { line: 3, column: 14 }));
}

#[test]
fn invalid_utf8_is_rejected() {
    let error = parse("latin1.json", b"{\"results\": [{\"source\": {\"path\": \"caf\xe9\"}}]}").unwrap_err();
    assert!(error.message.contains("invalid unicode"), "{}", error.message);
}

#[test]
fn deep_nesting_errors() {
    let depth = 10_000;
    let mut text = String::from(r#"{"results": [{"packages": [{"groups": [{"ids": "#);
    text.push_str(&"[".repeat(depth));
    text.push_str(&"]".repeat(depth));
    text.push_str("}]}]}]}");
    let error = parse("deep.json", text.as_bytes()).unwrap_err();
    assert!(error.message.contains("recursion limit"), "{}", error.message);
}

#[test]
fn large_report_parses() {
    let count = 20_000;
    let mut text = String::from(r#"{"results": [{"source": {"path": "go.mod", "type": "lockfile"}, "packages": ["#);
    for i in 0..count {
        if i > 0 {
            text.push(',');
        }
        text.push_str(&format!(
            r#"{{"package": {{"name": "example.com/mod{i}", "version": "1.0.0", "ecosystem": "Go"}}, "vulnerabilities": [{{"id": "GO-2024-{i}", "affected": [{{"package": {{"name": "example.com/mod{i}"}}, "versions": ["0.1.0", "0.2.0"], "ranges": [{{"events": [{{"fixed": "1.0.1"}}]}}]}}]}}], "groups": [{{"ids": ["GO-2024-{i}"]}}]}}"#
        ));
    }
    text.push_str("]}]}");
    let report = parse("large.json", text.as_bytes()).unwrap();
    assert_eq!(report.findings.len(), count);
    assert_eq!(report.assets.len(), count + 1);
    let fingerprints: BTreeSet<_> = report.findings.iter().map(Finding::fingerprint).collect();
    assert_eq!(fingerprints.len(), count);
    assert_eq!(purl(&report.findings[7]), Some("pkg:golang/example.com/mod7@1.0.0"));
}

/// Returns the finding's fingerprint as its group. In the files checked by
/// count, each package has one record per group, so this counts records.
fn group_key(finding: &Finding) -> String {
    finding.fingerprint().to_string()
}

/// Selects the files whose records are not aliased. `many_findings.json`
/// has 66 vulnerability records in 37 alias groups. DefectDojo gives one
/// finding per record, so a vulnerability known as a GHSA and a PYSEC id is
/// two findings there. ctem gives one finding per group, so that file is
/// checked by its groups and records below instead.
fn not_aliased(file: &str) -> bool {
    file != "many_findings.json"
}

#[test]
fn corpus_conformance() {
    let reports = common::check_folder_where("osv_scanner", FORMAT, group_key, not_aliased);
    common::check_detection("osv_scanner", FORMAT, |_| true);
    let Some(corpus) = common::corpus_dir() else {
        return;
    };

    let some = &reports
        .iter()
        .find(|(file, _)| file == "some_findings.json")
        .expect("parsed")
        .1;
    let finding = &some.findings[0];
    assert_eq!(finding.title, "MAL-2023-1035 in flot-axis 0.0.0");
    assert_eq!(finding.cwes, [Cwe(506)]);
    assert!(
        finding.vulnerability_ids.iter().all(|id| id.as_cve().is_none()),
        "no CVE"
    );
    // DefectDojo's default severity for a record without one is Low; ctem's is Info.
    assert_eq!(finding.severity, Severity::Info);

    let many = common::parse_file(FORMAT, &corpus.join("osv_scanner/many_findings.json")).expect("parses");
    assert_eq!(
        many.findings.len(),
        37,
        "one finding per alias group, package and source"
    );
    let records: usize = many
        .findings
        .iter()
        .map(|f| {
            f.vulnerability_ids
                .iter()
                .filter(|id| {
                    ["GHSA-", "PYSEC-", "OSV-", "GO-", "MAL-"]
                        .iter()
                        .any(|p| id.as_str().starts_with(p))
                })
                .count()
        })
        .sum();
    assert!(records >= 66, "every record's id is kept: {records}");
    let first = &many.findings[0];
    assert_eq!(first.rule_id, "GHSA-25mq-v84q-4j7r");
    assert_eq!(first.severity, Severity::High);
    let guzzle = many
        .findings
        .iter()
        .find(|f| f.rule_id == "GHSA-q559-8m2m-g699")
        .expect("guzzle");
    assert_eq!(
        guzzle.location.path.as_deref(),
        Some("/tmpcardmarket-api/composer.lock")
    );
    assert_eq!(
        guzzle.component.as_ref().map(|c| c.name.as_str()),
        Some("guzzlehttp/guzzle")
    );
    let django = many
        .findings
        .iter()
        .find(|f| f.rule_id == "GHSA-53qw-q765-4fww")
        .expect("django");
    assert!(
        django.fix.fixed_versions.iter().any(|v| v == "2.2.26"),
        "{:?}",
        django.fix
    );
}

#[test]
fn corpus_detection_everywhere() {
    sca_common::check_detection_everywhere(FORMAT, |folder, _| folder == "osv_scanner");
}
