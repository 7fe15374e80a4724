//! Tests of the pip-audit JSON parser: fixtures, hostile input and the
//! shared corpus.

mod common;
mod sca_common;

use ctem_ingest::{Detection, ParseError, ParsedReport, Position, find, parse_bytes};
use ctem_model::{AssetKind, Finding, FindingKind, RelationshipKind, Severity};
use serde_json::json;

const FORMAT: &str = "pip-audit-json";

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
        [("pip-audit".to_string(), "pip-audit-json:empty.json".to_string())]
    );
    assert_eq!(report.assets.len(), 1);
    assert_eq!(report.assets[0].kind, AssetKind::Repository);
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
fn vulnerability_fields_map() {
    let report = parse_fixture("one.json");
    let finding = &report.findings[0];
    assert_eq!(finding.tool, "pip-audit");
    assert_eq!(finding.rule_id, "PYSEC-2023-74");
    assert_eq!(finding.kind, FindingKind::Vulnerability);
    assert_eq!(finding.title, "PYSEC-2023-74 in requests 2.25.1");
    assert_eq!(finding.severity, Severity::Info, "pip-audit gives no severity");
    assert_eq!(ids(finding), ["PYSEC-2023-74", "CVE-2023-32681", "GHSA-j8r2-6x86-q33q"]);
    assert_eq!(purl(finding), Some("pkg:pypi/requests@2.25.1"));
    assert_eq!(finding.fix.fixed_versions, ["2.31.0"]);
    assert_eq!(finding.fix.description.as_deref(), Some("Upgrade requests to 2.31.0"));
    assert_eq!(finding.target.as_deref(), Some("pip-audit-json:one.json"));
    assert_eq!(finding.asset.as_str(), "repository:pip-audit-json:one.json");
    assert!(
        finding
            .description
            .as_deref()
            .is_some_and(|d| d.starts_with("Requests forwards"))
    );
}

#[test]
fn every_dependency_is_contained() {
    let report = parse_fixture("many.json");
    let components: Vec<&str> = report
        .assets
        .iter()
        .filter(|a| a.kind == AssetKind::Component)
        .map(|a| a.key.as_str())
        .collect();
    assert_eq!(
        components,
        [
            "component:pkg:pypi/alembic@1.8.1",
            "component:pkg:pypi/django@3.2.9",
            "component:pkg:pypi/internal-billing",
            "component:pkg:pypi/typing-extensions@4.0.0",
        ]
    );
    assert_eq!(report.relationships.len(), 4);
    assert!(
        report
            .relationships
            .iter()
            .all(|r| r.kind == RelationshipKind::Contains)
    );
    let skipped = &report.assets[3];
    assert!(
        skipped
            .attributes
            .get("skip_reason")
            .is_some_and(|r| r.contains("not found on PyPI"))
    );
}

#[test]
fn fix_versions_and_aliases() {
    let report = parse_fixture("many.json");
    let django: Vec<&Finding> = report.findings.iter().filter(|f| f.title.contains("Django")).collect();
    assert_eq!(django.len(), 2);
    assert_eq!(django[0].fix.fixed_versions, ["2.2.25", "3.1.14", "3.2.10"]);
    assert_eq!(
        django[0].fix.description.as_deref(),
        Some("Upgrade Django to 2.2.25 or 3.1.14 or 3.2.10")
    );
    assert_eq!(ids(django[1]), ["GHSA-xpfp-f569-q3p2", "CVE-2022-22818"]);
    let no_fix = &report.findings[2];
    assert!(no_fix.fix.is_empty());
    assert_eq!(no_fix.description, None, "an empty description is dropped");
}

#[test]
fn loose_types_are_read() {
    let report = parse_fixture("loose_types.json");
    assert_eq!(report.findings.len(), 1, "vulnerabilities without an id are skipped");
    let finding = &report.findings[0];
    assert_eq!(finding.title, "PYSEC-2021-142 in pyyaml 5.3");
    assert_eq!(finding.fix.fixed_versions, ["5.4"]);
    let components = report.assets.iter().filter(|a| a.kind == AssetKind::Component).count();
    assert_eq!(components, 3, "a dependency without a name is skipped");
}

#[test]
fn fixtures_are_detected() {
    let parser = find(FORMAT).expect("registered");
    for (name, expected) in [
        ("empty.json", Detection::Maybe),
        ("one.json", Detection::Certain),
        ("many.json", Detection::Certain),
    ] {
        assert_eq!(parser.detect(&fixture(name)), expected, "{name}");
        assert_eq!(
            ctem_ingest::detect(&fixture(name)).map(|p| p.info().id),
            Some(FORMAT),
            "{name}"
        );
    }
    assert_eq!(parser.detect(br#"[{"RuleID": "aws", "File": "a"}]"#), Detection::No);
    assert_eq!(parser.detect(br#"{"results": []}"#), Detection::No);
}

#[test]
fn other_json_is_rejected() {
    let error = parse("osv.json", br#"{"results": []}"#).unwrap_err();
    assert!(error.message.contains("missing \"dependencies\""), "{}", error.message);
    let error = parse("text.json", br#""pip-audit""#).unwrap_err();
    assert!(
        error.message.contains("expected a pip-audit report"),
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
    let error = parse("bad.json", br#"[{"name": "a" "version": "1"}]"#).unwrap_err();
    assert_eq!(error.position, Some(Position::LineColumn { line: 1, column: 15 }));
    assert_eq!(error.path, "bad.json");
}

#[test]
fn invalid_utf8_is_rejected() {
    let error = parse("latin1.json", b"[{\"name\": \"caf\xe9\", \"vulns\": []}]").unwrap_err();
    assert!(error.message.contains("invalid unicode"), "{}", error.message);
    assert!(error.position.is_some(), "{error}");
}

#[test]
fn deep_nesting_errors() {
    let depth = 10_000;
    let mut text = String::from(r#"[{"name": "a", "version": "1", "vulns": [{"id": "X", "aliases": "#);
    text.push_str(&"[".repeat(depth));
    text.push_str(&"]".repeat(depth));
    text.push_str("}]}]");
    let error = parse("deep_aliases.json", text.as_bytes()).unwrap_err();
    assert!(error.message.contains("recursion limit"), "{}", error.message);
    assert!(error.position.is_some(), "{error}");

    // A deep value in a field that the parser skips is read without
    // recursion, so it neither crashes nor fails.
    let mut text = String::from(r#"[{"name": "a", "version": "1", "vulns": [{"id": "X", "extra": "#);
    text.push_str(&"[".repeat(depth));
    text.push_str(&"]".repeat(depth));
    text.push_str("}]}]");
    let report = parse("deep_ignored.json", text.as_bytes()).unwrap();
    assert_eq!(report.findings.len(), 1);
}

#[test]
fn large_report_parses() {
    let count = 20_000;
    let mut text = String::from(r#"{"dependencies": ["#);
    for i in 0..count {
        if i > 0 {
            text.push(',');
        }
        text.push_str(&format!(
            r#"{{"name": "pkg{i}", "version": "1.0.{i}", "vulns": [{{"id": "PYSEC-2024-{i}", "fix_versions": ["2.0.0"]}}]}}"#
        ));
    }
    text.push_str("]}");
    let report = parse("large.json", text.as_bytes()).unwrap();
    assert_eq!(report.findings.len(), count);
    assert_eq!(report.assets.len(), count + 1);
    let fingerprints: std::collections::BTreeSet<_> = report.findings.iter().map(Finding::fingerprint).collect();
    assert_eq!(fingerprints.len(), count);
}

/// Returns the finding's fingerprint as its group: DefectDojo gives one
/// finding per (vulnerability, dependency), as ctem does.
fn group_key(finding: &Finding) -> String {
    finding.fingerprint().to_string()
}

#[test]
fn corpus_conformance() {
    let reports = common::check_folder("pip_audit", FORMAT, group_key);
    common::check_detection("pip_audit", FORMAT, |_| true);
    if reports.is_empty() {
        return;
    }
    let report = |name: &str| &reports.iter().find(|(file, _)| file == name).expect("parsed").1;

    for name in ["many_vulns.json", "many_vulns_new.json"] {
        let findings = &report(name).findings;
        let titles: Vec<&str> = findings.iter().map(|f| f.title.as_str()).collect();
        assert_eq!(
            titles,
            [
                "PYSEC-2021-76 in aiohttp 3.6.2",
                "PYSEC-2021-439 in django 3.2.9",
                "PYSEC-2021-852 in lxml 4.6.4",
                "PYSEC-2019-128 in twisted 18.9.0",
                "PYSEC-2020-260 in twisted 18.9.0",
                "PYSEC-2019-129 in twisted 18.9.0",
                "PYSEC-2020-259 in twisted 18.9.0",
            ],
            "{name}"
        );
        assert_eq!(findings[0].fix.fixed_versions, ["3.7.4"], "{name}");
        assert_eq!(purl(&findings[0]), Some("pkg:pypi/aiohttp@3.6.2"), "{name}");
    }
}

#[test]
fn corpus_detection_everywhere() {
    sca_common::check_detection_everywhere(FORMAT, |folder, _| folder == "pip_audit");
}
