//! Tests of the Grype JSON parser: fixtures, hostile input and the shared
//! corpus.

mod common;

use ctem_ingest::{Detection, ParseError, ParsedReport, Position, find, parse_bytes};
use ctem_model::{AssetKind, Finding, RelationshipKind, Severity, SourceStatus};
use serde_json::json;

const FORMAT: &str = "grype-json";

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

/// Renders the report as JSON for snapshots, with each finding's fingerprint.
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

/// Returns the targets of the report's scopes, after checking that every
/// scope is Grype's.
fn targets(report: &ParsedReport) -> Vec<&str> {
    assert!(
        report.targets.iter().all(|(tool, _)| tool == "grype"),
        "{:?}",
        report.targets
    );
    report.targets.iter().map(|(_, target)| target.as_str()).collect()
}

fn ids(finding: &Finding) -> Vec<&str> {
    finding.vulnerability_ids.iter().map(|id| id.as_str()).collect()
}

fn vectors(finding: &Finding) -> Vec<String> {
    finding.cvss.iter().map(ToString::to_string).collect()
}

fn assert_every_finding_has_scope(report: &ParsedReport) {
    let declared = targets(report);
    for finding in &report.findings {
        let target = finding.target.as_deref().expect("a scope target");
        assert!(declared.contains(&target), "{target} is not declared in {declared:?}");
        assert!(
            report.assets.iter().any(|a| a.key == finding.asset),
            "the asset {} of {} is not sent",
            finding.asset,
            finding.rule_id
        );
    }
}

#[test]
fn detects_fixtures() {
    let parser = find(FORMAT).expect("registered");
    for name in [
        "empty.json",
        "one_match.json",
        "many.json",
        "old_format.json",
        "no_source.json",
    ] {
        assert_eq!(parser.detect(&fixture(name)), Detection::Certain, "{name}");
    }
    assert_eq!(parser.detect(b"{\"matches\": []}"), Detection::No);
    assert_eq!(parser.detect(b"[{\"matches\": 1}]"), Detection::No);
}

#[test]
fn empty_report_declares_image() {
    let report = parse_fixture("empty.json");
    assert!(report.findings.is_empty());
    assert_eq!(targets(&report), ["registry.example.test/edge/gateway:4.2.1"]);
    let image = &report.assets[0];
    assert_eq!(image.kind, AssetKind::ContainerImage);
    assert_eq!(image.identifier_values("image_id").count(), 1);
    assert_eq!(
        image.identifier_values("image_digest").count(),
        2,
        "manifest and repository digests"
    );
    assert_eq!(image.identifier_values("repo_tag").count(), 1);
    assert_eq!(image.attributes.get("os").map(String::as_str), Some("alpine 3.20.3"));
}

#[test]
fn one_match_snapshot() {
    let report = parse_fixture("one_match.json");
    assert_eq!(report.findings.len(), 1);
    assert_every_finding_has_scope(&report);
    insta::assert_json_snapshot!("one_match", normalized(&report));
}

#[test]
fn many_snapshot() {
    let report = parse_fixture("many.json");
    assert_eq!(report.findings.len(), 5, "the repeated Django match is dropped");
    assert_every_finding_has_scope(&report);
    insta::assert_json_snapshot!("many", normalized(&report));
}

#[test]
fn match_fields() {
    let report = parse_fixture("one_match.json");
    let finding = &report.findings[0];
    assert_eq!(finding.rule_id, "CVE-2024-45491");
    assert_eq!(finding.title, "CVE-2024-45491 in libexpat 2.6.2-r0");
    assert_eq!(finding.severity, Severity::Critical);
    assert_eq!(
        ids(finding),
        ["CVE-2024-45491"],
        "a related id equal to the id is not repeated"
    );
    assert_eq!(vectors(finding), ["CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"]);
    assert!(
        finding
            .description
            .as_deref()
            .unwrap_or_default()
            .starts_with("An issue was discovered in libexpat")
    );
    assert_eq!(finding.fix.fixed_versions, ["2.6.3-r0"]);
    assert_eq!(
        finding.source_status, None,
        "a fixed version says nothing of the finding's status"
    );
    assert_eq!(finding.location.path.as_deref(), Some("/lib/apk/db/installed"));
    assert_eq!(finding.attributes.get("epss").map(String::as_str), Some("0.00234"));
    assert_eq!(
        finding.attributes.get("epss_percentile").map(String::as_str),
        Some("0.61507")
    );
    assert_eq!(
        finding.attributes.get("matchers").map(String::as_str),
        Some("apk-matcher")
    );
    assert_eq!(
        finding.references[0],
        "https://security.alpinelinux.org/vuln/CVE-2024-45491"
    );

    let component = finding.component.as_ref().expect("a component");
    assert_eq!(component.ecosystem.as_deref(), Some("apk"));
    assert!(component.purl.is_some());
    let contains = &report.relationships[0];
    assert_eq!(contains.kind, RelationshipKind::Contains);
    assert_eq!(contains.from, finding.asset);
}

#[test]
fn related_ids_and_bare_vectors() {
    let report = parse_fixture("many.json");
    let django = &report.findings[0];
    assert_eq!(ids(django), ["GHSA-qcgm-xc6h-6w8g", "CVE-2024-24680"]);
    assert_eq!(
        vectors(django),
        ["CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"],
        "the bare vector gets the prefix of its version and equals the related one"
    );
    assert_eq!(django.attributes.get("epss").map(String::as_str), Some("0.00089"));
    assert_eq!(
        django.attributes.get("matchers").map(String::as_str),
        Some("python-matcher")
    );

    let minimist = &report.findings[4];
    assert_eq!(ids(minimist), ["GHSA-xvch-5gv4-984h", "CVE-2021-44906"]);
    assert_eq!(
        minimist.severity,
        Severity::High,
        "no severity: the CVSS v2 score 7.5 decides"
    );
    assert!(
        minimist.component.as_ref().is_some_and(|c| c.purl.is_none()),
        "an empty purl is none"
    );
}

#[test]
fn same_package_two_paths() {
    let report = parse_fixture("many.json");
    let libc: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.rule_id == "CVE-2010-4756")
        .collect();
    assert_eq!(libc.len(), 2);
    assert_ne!(libc[0].fingerprint(), libc[1].fingerprint());
    assert_eq!(libc[0].severity, Severity::Info, "Negligible is Info");
    assert_eq!(libc[0].source_status, Some(SourceStatus::Affected));
    assert!(libc[0].description.is_some(), "the related description is used");
    let components = report
        .assets
        .iter()
        .filter(|a| a.name == "libc6" && a.kind == AssetKind::Component)
        .count();
    assert_eq!(components, 1);
}

#[test]
fn unknown_severity_is_info() {
    let report = parse_fixture("many.json");
    let perl = report
        .findings
        .iter()
        .find(|f| f.rule_id == "CVE-2011-4116")
        .expect("perl");
    assert_eq!(perl.severity, Severity::Info);
    assert_eq!(perl.source_status, Some(SourceStatus::WillNotFix));
    assert!(perl.fix.fixed_versions.is_empty());
}

#[test]
fn quoted_dot_directory_uses_default_target() {
    let report = parse_fixture("directory_dot.json");
    assert_eq!(targets(&report), ["grype-json:directory_dot.json"]);
    assert_eq!(
        report.findings[0].asset.as_str(),
        "repository:grype-json:directory_dot.json"
    );
    assert_eq!(
        report.findings[0].location.path.as_deref(),
        Some("components/yarn.lock")
    );
}

#[test]
fn old_format_fields() {
    let report = parse_fixture("old_format.json");
    let finding = &report.findings[0];
    assert_eq!(finding.severity, Severity::Critical);
    assert_eq!(vectors(finding).len(), 2);
    assert_eq!(finding.fix.fixed_versions, ["1.1.1d-0+deb10u7"]);
    assert_eq!(
        finding.references,
        ["https://security-tracker.debian.org/tracker/CVE-2021-3711"]
    );
    assert_eq!(
        finding.attributes.get("matchers").map(String::as_str),
        Some("dpkg-matcher")
    );
    assert_eq!(targets(&report), ["registry.example.test/legacy/batch:2019.11"]);
}

#[test]
fn missing_source_uses_default_target() {
    let report = parse_fixture("no_source.json");
    assert_eq!(targets(&report), ["grype-json:no_source.json"]);
    assert_every_finding_has_scope(&report);
    let finding = &report.findings[0];
    assert_eq!(finding.attributes.get("epss").map(String::as_str), Some("0.00163"));
    assert_eq!(
        finding.attributes.get("epss_percentile").map(String::as_str),
        Some("0.37957")
    );
}

#[test]
fn truncated_file_names_position() {
    let bytes = fixture("many.json");
    let error = parse("cut.json", &bytes[..bytes.len() / 2]).unwrap_err();
    assert_eq!(error.format, FORMAT);
    assert!(error.message.contains("truncated"), "{}", error.message);
    assert!(matches!(error.position, Some(Position::LineColumn { line, .. }) if line > 1));
}

#[test]
fn invalid_syntax_is_rejected() {
    let error = parse("bad.json", b"{\"matches\": [{\"vulnerability\": }]}").unwrap_err();
    assert!(
        matches!(error.position, Some(Position::LineColumn { line: 1, .. })),
        "{error}"
    );
}

#[test]
fn other_format_is_rejected() {
    let error = parse("trivy.json", br#"{"SchemaVersion": 2, "Results": []}"#).unwrap_err();
    assert!(
        error.message.contains("expected a top-level matches array"),
        "{}",
        error.message
    );
    assert!(error.message.contains("SchemaVersion, Results"), "{}", error.message);

    let error = parse(
        "other.json",
        br#"{"matches": [], "descriptor": {"name": "syft", "version": "1.0"}}"#,
    )
    .unwrap_err();
    assert!(error.message.contains("descriptor names \"syft\""), "{}", error.message);

    let error = parse("list.json", b"[]").unwrap_err();
    assert!(error.message.contains("Grype JSON report"), "{}", error.message);
}

#[test]
fn match_without_id_is_rejected() {
    let error = parse(
        "noid.json",
        br#"{"matches": [{"vulnerability": {}, "artifact": {"name": "x"}}]}"#,
    )
    .unwrap_err();
    assert!(error.message.contains("no vulnerability.id"), "{}", error.message);
}

#[test]
fn deep_nesting_errors() {
    let depth = 100_000;
    let mut bytes = b"{\"matches\": ".to_vec();
    bytes.extend(std::iter::repeat_n(b'[', depth));
    bytes.extend(std::iter::repeat_n(b']', depth));
    bytes.push(b'}');
    let error = parse("deep.json", &bytes).unwrap_err();
    assert!(error.position.is_some(), "{error}");
}

#[test]
fn large_report_streams() {
    let count = 20_000;
    let mut bytes = b"{\"matches\": [".to_vec();
    for index in 0..count {
        if index > 0 {
            bytes.push(b',');
        }
        let record = format!(
            r#"{{"vulnerability": {{"id": "CVE-2024-{:05}", "severity": "Medium"}}, "relatedVulnerabilities": [],
               "matchDetails": [], "artifact": {{"name": "lib{}", "version": "1.0", "type": "npm",
               "locations": [{{"path": "app/package-lock.json"}}], "purl": "pkg:npm/lib{}@1.0"}}}}"#,
            10_000 + index,
            index % 100,
            index % 100
        );
        bytes.extend(record.as_bytes());
    }
    bytes.extend(br#"], "source": {"type": "directory", "target": "/srv/big"}, "descriptor": {"name": "grype"}}"#);
    let report = parse("big.json", &bytes).expect("parses");
    assert_eq!(report.findings.len(), count);
    assert_eq!(
        report.assets.iter().filter(|a| a.kind == AssetKind::Component).count(),
        100
    );
    assert_eq!(targets(&report), ["/srv/big"]);
}

/// Groups findings as DefectDojo merges Grype matches: by vulnerability id,
/// package name and package version.
fn group_key(finding: &Finding) -> String {
    let component = finding.component.as_ref();
    format!(
        "{}|{}|{}",
        finding.rule_id,
        component.map(|c| c.name.as_str()).unwrap_or_default(),
        component.and_then(|c| c.version.as_deref()).unwrap_or_default()
    )
}

#[test]
fn corpus_conformance() {
    let reports = common::check_folder("grype", FORMAT, group_key);
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

    let epss = &report("anchore_grype_epss_problem.json").findings[0];
    assert_eq!(epss.rule_id, "GHSA-4374-p667-p6c8");
    assert_eq!(epss.attributes.get("epss").map(String::as_str), Some("0.00163"));
    assert_eq!(
        epss.attributes.get("epss_percentile").map(String::as_str),
        Some("0.37957")
    );

    let fields = &report("check_all_fields.json").findings;
    assert_eq!(fields.len(), 5);
    assert_eq!(fields[0].title, "CVE-2004-0971 in libgssapi-krb5-2 1.17-3+deb10u3");
    assert_eq!(fields[0].severity, Severity::Info);
    assert_eq!(fields[1].title, "CVE-2021-32626 in redis 4.0.2");
    assert_eq!(fields[1].severity, Severity::High);
    assert!(vectors(&fields[1]).contains(&"CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H".to_string()));
    assert_eq!(fields[2].severity, Severity::Critical);
    assert_eq!(fields[3].severity, Severity::Critical);
    assert_eq!(fields[4].title, "GHSA-v6rh-hp5x-86rv in Django 3.2.9");
    assert_eq!(ids(&fields[4]), ["GHSA-v6rh-hp5x-86rv", "CVE-2021-44420"]);

    let fixed = &report("fix_available.json").findings[0];
    assert_eq!(fixed.fix.fixed_versions, ["1.2.3"]);
    assert!(
        report("fix_not_available.json").findings[0]
            .fix
            .fixed_versions
            .is_empty()
    );

    let many3 = &report("many_vulns3.json").findings;
    let beast = many3
        .iter()
        .find(|f| f.rule_id == "CVE-2011-3389")
        .expect("CVE-2011-3389");
    assert_eq!(beast.severity, Severity::Medium);
    let component = beast.component.as_ref().expect("a component");
    assert_eq!(component.name, "libgnutls30");
    assert_eq!(component.version.as_deref(), Some("3.6.7-4+deb10u5"));

    let many4 = &report("many_vulns4.json").findings;
    let delegate = many4
        .iter()
        .find(|f| f.rule_id == "CVE-1999-1338")
        .expect("CVE-1999-1338");
    assert_eq!(delegate.severity, Severity::Medium);
    assert_eq!(
        delegate.attributes.get("matchers").map(String::as_str),
        Some("javascript-matcher")
    );

    let paths = &report("same_cve_different_paths.json").findings;
    assert_eq!(paths.len(), 2);
    let locations: Vec<&str> = paths.iter().filter_map(|f| f.location.path.as_deref()).collect();
    assert_eq!(
        locations,
        ["/usr/lib/x86_64-linux-gnu/libc.so.6", "/lib/x86_64-linux-gnu/libc.so.6"]
    );
}

#[test]
fn corpus_detection() {
    common::check_detection("grype", FORMAT, |_| true);
}
