//! Tests of the npm audit JSON parser (npm 6 and npm 7+): fixtures, hostile
//! input and the shared corpus.

mod common;
mod sca_common;

use std::collections::BTreeSet;

use ctem_ingest::{Detection, ParseError, ParsedReport, Position, find, parse_bytes};
use ctem_model::{AssetKind, Cwe, Finding, FindingKind, Severity};
use serde_json::json;

const FORMAT: &str = "npm-audit-json";

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

fn attribute<'f>(finding: &'f Finding, name: &str) -> Option<&'f str> {
    finding.attributes.get(name).map(String::as_str)
}

#[test]
fn empty_reports_declare_scope() {
    for name in ["empty_v1.json", "empty_v2.json"] {
        let report = parse_fixture(name);
        assert!(report.findings.is_empty(), "{name}");
        let targets: Vec<_> = report.targets.iter().cloned().collect();
        assert_eq!(targets, [("npm-audit".to_string(), format!("npm-audit-json:{name}"))]);
        assert_eq!(report.assets.len(), 1, "{name}");
        assert_eq!(report.assets[0].kind, AssetKind::Repository, "{name}");
    }
}

#[test]
fn one_finding_snapshots() {
    let report = parse_fixture("one_v1.json");
    assert_eq!(report.findings.len(), 1);
    insta::assert_json_snapshot!("one_v1", normalized(&report));
    let report = parse_fixture("one_v2.json");
    assert_eq!(report.findings.len(), 1);
    insta::assert_json_snapshot!("one_v2", normalized(&report));
}

#[test]
fn many_findings_snapshots() {
    let report = parse_fixture("many_v1.json");
    assert_eq!(report.findings.len(), 4);
    insta::assert_json_snapshot!("many_v1", normalized(&report));
    let report = parse_fixture("many_v2.json");
    assert_eq!(report.findings.len(), 4);
    insta::assert_json_snapshot!("many_v2", normalized(&report));
}

#[test]
fn v1_advisory_fields_map() {
    let report = parse_fixture("one_v1.json");
    let finding = &report.findings[0];
    assert_eq!(finding.tool, "npm-audit");
    assert_eq!(finding.rule_id, "1067342", "npm's advisory number");
    assert_eq!(finding.kind, FindingKind::Vulnerability);
    assert_eq!(finding.title, "Prototype Pollution in minimist");
    assert_eq!(finding.severity, Severity::Critical);
    assert_eq!(ids(finding), ["GHSA-xvch-5gv4-984h", "CVE-2021-44906"]);
    assert_eq!(finding.cwes, [Cwe(1321)]);
    assert_eq!(finding.cvss.len(), 1);
    assert_eq!(purl(finding), Some("pkg:npm/minimist@1.2.5"));
    assert_eq!(finding.fix.fixed_versions, ["1.2.6"]);
    assert_eq!(
        finding.fix.description.as_deref(),
        Some("Upgrade to version 1.2.6 or later")
    );
    assert_eq!(
        finding.references,
        [
            "https://github.com/advisories/GHSA-xvch-5gv4-984h",
            "https://nvd.nist.gov/vuln/detail/CVE-2021-44906",
            "https://github.com/minimistjs/minimist/commit/ef88b93",
        ]
    );
    assert_eq!(
        attribute(finding, "dependency_paths"),
        Some("mkdirp>minimist\noptimist>minimist"),
        "two groups of paths of one version make one finding"
    );
    assert_eq!(finding.target.as_deref(), Some("npm-audit-json:one_v1.json"));
}

#[test]
fn v1_versions_and_cwes() {
    let report = parse_fixture("many_v1.json");
    let growl = &report.findings[0];
    assert_eq!(growl.rule_id, "146");
    assert_eq!(ids(growl), ["CVE-2017-16042"]);
    assert_eq!(growl.title, "Command Injection in growl");
    assert_eq!(growl.cwes, [Cwe(94)]);
    assert_eq!(attribute(growl, "dev"), Some("true"));
    assert_eq!(growl.references.len(), 2);

    let ansi: Vec<&Finding> = report.findings.iter().filter(|f| f.rule_id == "1064843").collect();
    assert_eq!(ansi.len(), 2, "one finding per installed version");
    assert_eq!(purl(ansi[0]), Some("pkg:npm/ansi-regex@3.0.0"));
    assert_eq!(purl(ansi[1]), Some("pkg:npm/ansi-regex@4.1.0"));
    assert_eq!(ansi[0].cwes, [Cwe(918), Cwe(1333)], "a list written as a string");
    assert_eq!(
        ansi[0].severity,
        Severity::Medium,
        "the stated word wins over the score"
    );
    assert_eq!(
        ansi[0].title,
        "Inefficient Regular Expression Complexity in chalk/ansi-regex"
    );

    let fork = &report.findings[3];
    assert_eq!(purl(fork), Some("pkg:npm/%40acme/minimist-fork@0.0.8"));
    assert!(fork.fix.fixed_versions.is_empty(), "<0.0.0 means no fix");
    assert!(fork.cwes.is_empty());
}

#[test]
fn v2_advisory_fields_map() {
    let report = parse_fixture("one_v2.json");
    let finding = &report.findings[0];
    assert_eq!(finding.rule_id, "1088948");
    assert_eq!(finding.title, "Got allows a redirect to a UNIX socket");
    assert_eq!(finding.severity, Severity::Medium);
    assert_eq!(ids(finding), ["GHSA-pfrx-2q88-qq97"]);
    assert!(finding.cwes.is_empty());
    assert_eq!(purl(finding), Some("pkg:npm/got"), "npm 7+ gives no installed version");
    assert_eq!(finding.fix.fixed_versions, ["11.8.5"]);
    assert_eq!(finding.fix.description.as_deref(), Some("Upgrade got to 11.8.5"));
    assert_eq!(attribute(finding, "nodes"), Some("node_modules/got"));
    assert_eq!(attribute(finding, "is_direct"), Some("false"));
}

#[test]
fn v2_transitive_entries() {
    let report = parse_fixture("many_v2.json");
    let fun = &report.findings[0];
    assert_eq!(fun.rule_id, "transitive-vulnerability");
    assert_eq!(fun.title, "@vercel/fun depends on vulnerable debug, semver");
    assert_eq!(fun.severity, Severity::Medium);
    assert_eq!(
        fun.fix.description.as_deref(),
        Some("Upgrade vercel to 32.3.0, a major version")
    );
    assert!(fun.fix.fixed_versions.is_empty(), "the upgrade is of another package");

    let debug: Vec<&Finding> = report.findings.iter().filter(|f| package_group(f) == "debug").collect();
    let rules: Vec<&str> = debug.iter().map(|f| f.rule_id.as_str()).collect();
    assert_eq!(
        rules,
        ["1094222", "1096000"],
        "a repeated advisory is one finding, and the string via is left to its own entry"
    );
    assert_eq!(debug[0].cwes, [Cwe(400), Cwe(1333)]);
    assert_eq!(debug[1].severity, Severity::High);
    assert!(debug[1].cvss.is_empty(), "a zero score without a vector is no CVSS");
    assert_eq!(debug[0].fix.description.as_deref(), Some("Run npm audit fix"));

    let semver = report
        .findings
        .iter()
        .find(|f| f.title.starts_with("semver"))
        .expect("semver");
    assert!(semver.fix.is_empty(), "fixAvailable false");
    let components = report.assets.iter().filter(|a| a.kind == AssetKind::Component).count();
    assert_eq!(components, 3);
    assert_eq!(report.relationships.len(), 3);
}

#[test]
fn audit_error_is_rejected() {
    let error = parse("audit_error.json", &fixture("audit_error.json")).unwrap_err();
    assert!(
        error.message.contains("contains an error instead of results"),
        "{}",
        error.message
    );
    assert!(error.message.contains("ENOLOCK"), "{}", error.message);
    assert!(error.message.contains("npm i --package-lock-only"), "{}", error.message);
    assert!(error.position.is_some(), "{error}");
}

#[test]
fn unsupported_version_is_rejected() {
    let error = parse("v3.json", br#"{"auditReportVersion": 3, "vulnerabilities": {}}"#).unwrap_err();
    assert!(
        error.message.contains("unsupported npm audit auditReportVersion \"3\""),
        "{}",
        error.message
    );
}

#[test]
fn other_json_is_rejected() {
    let error = parse("other.json", br#"{"results": []}"#).unwrap_err();
    assert!(error.message.contains("missing \"advisories\""), "{}", error.message);
    let error = parse("list.json", br#"[{"name": "a"}]"#).unwrap_err();
    assert!(
        error.message.contains("an npm audit report object"),
        "{}",
        error.message
    );
}

#[test]
fn fixtures_are_detected() {
    let parser = find(FORMAT).expect("registered");
    for (name, expected) in [
        ("empty_v1.json", Detection::Certain),
        ("empty_v2.json", Detection::Certain),
        ("one_v1.json", Detection::Certain),
        ("many_v2.json", Detection::Certain),
        ("audit_error.json", Detection::Maybe),
    ] {
        assert_eq!(parser.detect(&fixture(name)), expected, "{name}");
        assert_eq!(
            ctem_ingest::detect(&fixture(name)).map(|p| p.info().id),
            Some(FORMAT),
            "{name}"
        );
    }
    assert_eq!(parser.detect(br#"{"vulnerabilities": []}"#), Detection::No);
}

#[test]
fn truncated_file_names_position() {
    let bytes = fixture("many_v2.json");
    let error = parse("cut.json", &bytes[..bytes.len() / 2]).unwrap_err();
    assert!(error.message.contains("truncated"), "{}", error.message);
    assert!(matches!(error.position, Some(Position::LineColumn { .. })), "{error}");
}

#[test]
fn invalid_syntax_is_rejected() {
    let error = parse("bad.json", b"{\"auditReportVersion\": 2,\n \"vulnerabilities\" {}}").unwrap_err();
    assert_eq!(error.position, Some(Position::LineColumn { line: 2, column: 20 }));
}

#[test]
fn invalid_utf8_is_rejected() {
    let error = parse(
        "latin1.json",
        b"{\"auditReportVersion\": 2, \"vulnerabilities\": {\"caf\xe9\": {}}}",
    )
    .unwrap_err();
    assert!(error.message.contains("invalid unicode"), "{}", error.message);
}

#[test]
fn deep_nesting_errors() {
    let depth = 10_000;
    let mut text = String::from(r#"{"auditReportVersion": 2, "vulnerabilities": {"a": {"via": ["#);
    text.push_str(&r#"{"cwe": ["#.repeat(depth));
    text.push_str(&"]}".repeat(depth));
    text.push_str("]}}}");
    let error = parse("deep.json", text.as_bytes()).unwrap_err();
    assert!(error.position.is_some(), "{error}");
}

#[test]
fn large_reports_parse() {
    let count = 20_000;
    let mut text = String::from(r#"{"auditReportVersion": 2, "vulnerabilities": {"#);
    for i in 0..count {
        if i > 0 {
            text.push(',');
        }
        text.push_str(&format!(
            r#""pkg{i}": {{"name": "pkg{i}", "severity": "high", "via": [{{"source": {i}, "title": "Flaw", "url": "https://npmjs.com/advisories/{i}", "severity": "high"}}], "nodes": ["node_modules/pkg{i}"], "fixAvailable": true}}"#
        ));
    }
    text.push_str("}}");
    let report = parse("large_v2.json", text.as_bytes()).unwrap();
    assert_eq!(report.findings.len(), count);
    let fingerprints: BTreeSet<_> = report.findings.iter().map(Finding::fingerprint).collect();
    assert_eq!(fingerprints.len(), count);

    let mut text = String::from(r#"{"advisories": {"#);
    for i in 0..count {
        if i > 0 {
            text.push(',');
        }
        text.push_str(&format!(
            r#""{i}": {{"id": {i}, "title": "Flaw", "module_name": "pkg{i}", "severity": "low", "findings": [{{"version": "1.0.0", "paths": ["pkg{i}"]}}]}}"#
        ));
    }
    text.push_str(r#"}, "muted": []}"#);
    let report = parse("large_v1.json", text.as_bytes()).unwrap();
    assert_eq!(report.findings.len(), count);
    assert_eq!(report.assets.len(), count + 1);
}

/// Groups npm 6 findings by advisory: DefectDojo gives one finding per
/// advisory, where ctem gives one per advisory and installed version.
fn advisory_group(finding: &Finding) -> String {
    finding.rule_id.clone()
}

/// Groups npm 7+ findings by package: DefectDojo gives one finding per
/// entry of `vulnerabilities`, where ctem gives one per advisory of the
/// entry (or one transitive finding).
fn package_group(finding: &Finding) -> String {
    finding.component.as_ref().map(|c| c.name.clone()).unwrap_or_default()
}

fn corpus_report<'r>(reports: &'r [(String, ParsedReport)], name: &str) -> &'r ParsedReport {
    &reports
        .iter()
        .find(|(file, _)| file == name)
        .unwrap_or_else(|| panic!("{name} parsed"))
        .1
}

#[test]
fn corpus_conformance_v1() {
    let reports = common::check_folder("npm_audit", FORMAT, advisory_group);
    common::check_detection("npm_audit", FORMAT, |_| true);
    if reports.is_empty() {
        return;
    }

    let one = &corpus_report(&reports, "one_vuln.json").findings[0];
    assert_eq!(one.cwes, [Cwe(94)]);
    let component = one.component.as_ref().expect("component");
    assert_eq!(component.name, "growl");
    assert_eq!(component.version.as_deref(), Some("1.9.2"));
    assert_eq!(one.severity, Severity::Critical);
    assert_eq!(ids(one), ["CVE-2017-16042"]);

    let null_cwe = &corpus_report(&reports, "cwe_null.json").findings[0];
    assert!(null_cwe.cwes.is_empty(), "DefectDojo's default CWE 1035 is not ctem's");

    let multiple = &corpus_report(&reports, "multiple_cwes.json").findings;
    assert_eq!(multiple[0].cwes, [Cwe(400)]);
    assert!(multiple.iter().any(|f| f.cwes == [Cwe(359)]));
    let multiple2 = &corpus_report(&reports, "multiple_cwes2.json").findings;
    assert_eq!(multiple2[0].cwes, [Cwe(918), Cwe(1333)]);

    // An npm 7+ report among the npm 6 samples is read by content.
    let npm7 = corpus_report(&reports, "many_vuln_npm7.json");
    let packages: BTreeSet<String> = npm7.findings.iter().map(package_group).collect();
    assert_eq!(packages.len(), 15, "one group per vulnerable package");
}

#[test]
fn corpus_conformance_v2() {
    let reports = common::check_folder("npm_audit_v2", FORMAT, package_group);
    common::check_detection("npm_audit_v2", FORMAT, |_| true);
    if reports.is_empty() {
        return;
    }

    let issue = &corpus_report(&reports, "issue_10801.json").findings[0];
    assert_eq!(issue.severity, Severity::Medium);
    assert!(issue.cwes.is_empty());

    let many = &corpus_report(&reports, "many_vulns.json").findings;
    assert_eq!(many[0].title, "@vercel/fun depends on vulnerable debug, semver");
    assert_eq!(many[0].severity, Severity::Medium);

    let fabricated = &corpus_report(&reports, "multiple_cwes_fabricated.json").findings[0];
    assert_eq!(fabricated.cwes, [Cwe(400), Cwe(1333)]);
    // DefectDojo rates the package (high, through its dependency `ms`);
    // ctem rates each advisory by its own severity.
    assert_eq!(fabricated.severity, Severity::Medium);
}

#[test]
fn corpus_detection_everywhere() {
    sca_common::check_detection_everywhere(FORMAT, |folder, _| folder == "npm_audit" || folder == "npm_audit_v2");
}
