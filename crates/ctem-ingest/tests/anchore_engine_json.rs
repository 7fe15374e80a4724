//! Tests of the Anchore Engine JSON parser: fixtures, snapshots, hostile
//! input and the shared corpus.

mod common;

use ctem_ingest::{Detection, ParseError, ParsedReport, Position, detect, find, parse_bytes};
use ctem_model::{AssetKind, Finding, RelationshipKind, Severity};
use serde_json::json;

const FORMAT: &str = "anchore-engine-json";

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{FORMAT}/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn parse(name: &str, bytes: &[u8]) -> Result<ParsedReport, ParseError> {
    parse_bytes(find(FORMAT).expect("registered"), name, bytes)
}

fn parse_fixture(name: &str) -> ParsedReport {
    parse(name, &fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

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

fn targets(report: &ParsedReport) -> Vec<&str> {
    assert!(
        report.targets.iter().all(|(tool, _)| tool == "anchore"),
        "{:?}",
        report.targets
    );
    report.targets.iter().map(|(_, target)| target.as_str()).collect()
}

fn ids(finding: &Finding) -> Vec<&str> {
    finding.vulnerability_ids.iter().map(|id| id.as_str()).collect()
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
        "one.json",
        "many.json",
        "anchorectl.json",
        "digest_last.json",
    ] {
        assert_eq!(parser.detect(&fixture(name)), Detection::Certain, "{name}");
    }
    assert_eq!(parser.detect(b"{\"vulnerabilities\": []}"), Detection::No);
    assert_eq!(parser.detect(b"[{\"imageDigest\": 1}]"), Detection::No);
}

#[test]
fn empty_report_declares_image() {
    let report = parse_fixture("empty.json");
    assert!(report.findings.is_empty());
    let digest = "sha256:4f1c2d9e8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d";
    assert_eq!(targets(&report), [digest]);
    assert_eq!(report.assets.len(), 1);
    assert_eq!(report.assets[0].kind, AssetKind::ContainerImage);
    assert_eq!(
        report.assets[0].identifier_values("image_digest").collect::<Vec<_>>(),
        [digest]
    );
}

#[test]
fn one_snapshot() {
    let report = parse_fixture("one.json");
    assert_eq!(report.findings.len(), 1);
    assert_every_finding_has_scope(&report);
    insta::assert_json_snapshot!("one", normalized(&report));
}

#[test]
fn many_snapshot() {
    let report = parse_fixture("many.json");
    assert_eq!(report.findings.len(), 4, "the repeated log4j record is dropped");
    assert_every_finding_has_scope(&report);
    insta::assert_json_snapshot!("many", normalized(&report));
}

#[test]
fn cli_record_fields() {
    let report = parse_fixture("one.json");
    let finding = &report.findings[0];
    assert_eq!(finding.rule_id, "CVE-2024-28085");
    assert_eq!(finding.title, "CVE-2024-28085 in bsdutils 1:2.38.1-5+b1");
    assert_eq!(finding.severity, Severity::High);
    assert_eq!(ids(finding), ["CVE-2024-28085"]);
    assert_eq!(finding.fix.fixed_versions, ["2.36.1-8+deb12u1"]);
    assert_eq!(finding.location.path, None, "the path None is no path");
    assert_eq!(finding.attributes.get("cvss_v3_score").map(String::as_str), Some("7.8"));
    assert_eq!(finding.attributes.get("cvss_v2_score"), None, "a score of -1 is none");
    assert_eq!(
        finding.attributes.get("feed_group").map(String::as_str),
        Some("debian:12")
    );
    assert_eq!(finding.attributes.get("package_cpe"), None);
    assert_eq!(
        finding.references,
        ["https://security-tracker.debian.org/tracker/CVE-2024-28085"]
    );
    let component = finding.component.as_ref().expect("a component");
    assert_eq!(component.name, "bsdutils");
    assert_eq!(component.version.as_deref(), Some("1:2.38.1-5+b1"));
    assert_eq!(component.ecosystem.as_deref(), Some("dpkg"));
    assert_eq!(report.relationships.len(), 1);
    assert_eq!(report.relationships[0].kind, RelationshipKind::Contains);
    assert_eq!(report.relationships[0].from, finding.asset);
}

#[test]
fn severity_words_and_scores() {
    let report = parse_fixture("many.json");
    let by_rule = |rule: &str| report.findings.iter().find(|f| f.rule_id == rule).expect(rule);
    assert_eq!(by_rule("CVE-2011-3374").severity, Severity::Info, "Negligible is Info");
    assert!(by_rule("CVE-2011-3374").fix.fixed_versions.is_empty());
    let log4j = by_rule("CVE-2021-44228");
    assert_eq!(log4j.cvss.len(), 2, "a v2 vector and a prefixed v3 vector");
    assert!(log4j.cvss.iter().any(|v| v.to_string().starts_with("CVSS:3.1/")));
    assert_eq!(
        log4j.location.path.as_deref(),
        Some("/opt/ledger/lib/log4j-core-2.14.1.jar")
    );
    let vulndb = by_rule("VULNDB-103881");
    assert_eq!(
        vulndb.severity,
        Severity::Medium,
        "Unknown falls back to the v2 score 5.0"
    );
    assert_eq!(ids(vulndb), ["VULNDB-103881"]);
}

#[test]
fn anchorectl_export() {
    let report = parse_fixture("anchorectl.json");
    assert_every_finding_has_scope(&report);
    assert_eq!(targets(&report), ["registry.example.test/payments/api:3.4.0"]);
    let image = &report.assets[0];
    assert_eq!(image.identifier_values("image_digest").count(), 1);
    assert_eq!(report.findings.len(), 3);

    let tomcat = &report.findings[0];
    assert_eq!(tomcat.severity, Severity::Critical);
    assert_eq!(tomcat.fix.fixed_versions, ["10.1.34", "11.0.2", "9.0.98"]);
    let component = tomcat.component.as_ref().expect("a component");
    assert_eq!(
        (component.name.as_str(), component.version.as_deref()),
        ("tomcat-embed-core", Some("9.0.97"))
    );
    assert_eq!(
        tomcat.attributes.get("nvd_cvss_base_score").map(String::as_str),
        Some("9.8")
    );

    let openssl = &report.findings[1];
    assert_eq!(openssl.location.path, None, "pkgdb is the package database");
    let component = openssl.component.as_ref().expect("a component");
    assert_eq!(component.name, "openssl-libs");
    assert_eq!(component.version.as_deref(), Some("1:1.1.1k-14.el8_6"));
    assert_eq!(
        openssl.attributes.get("package").map(String::as_str),
        Some("openssl-libs-1:1.1.1k-14.el8_6")
    );

    let esapi = &report.findings[2];
    assert_eq!(ids(esapi), ["GHSA-r68h-jhhj-9jvm"]);
    assert_eq!(esapi.severity, Severity::Info, "no severity and no score");
    assert_eq!(esapi.attributes.get("nvd_cvss_base_score"), None);
}

#[test]
fn digest_after_records() {
    let report = parse_fixture("digest_last.json");
    assert_every_finding_has_scope(&report);
    assert_eq!(report.findings.len(), 1);
    assert!(
        report.findings[0]
            .asset
            .as_str()
            .starts_with("container_image:sha256:abcdef")
    );
}

#[test]
fn missing_image_uses_default_target() {
    let report = parse(
        "bare.json",
        br#"{"vulnerabilities": [{"vuln": "CVE-2023-45853", "package_name": "zlib"}]}"#,
    )
    .expect("parses");
    assert_eq!(targets(&report), ["anchore-engine-json:bare.json"]);
    assert_every_finding_has_scope(&report);
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
    let error = parse("bad.json", b"{\"vulnerabilities\": [{\"vuln\": }]}").unwrap_err();
    assert!(
        matches!(error.position, Some(Position::LineColumn { line: 1, .. })),
        "{error}"
    );
}

#[test]
fn other_format_is_rejected() {
    let error = parse("grype.json", br#"{"matches": [], "source": {}}"#).unwrap_err();
    assert!(
        error.message.contains("expected a vulnerabilities array"),
        "{}",
        error.message
    );
    assert!(error.message.contains("matches, source"), "{}", error.message);

    let error = parse("list.json", b"[]").unwrap_err();
    assert!(error.message.contains("Anchore report"), "{}", error.message);
}

#[test]
fn record_without_id_is_rejected() {
    let error = parse(
        "noid.json",
        br#"{"imageDigest": "sha256:1", "vulnerabilities": [{"package_name": "x"}]}"#,
    )
    .unwrap_err();
    assert!(error.message.contains("no vuln id"), "{}", error.message);
    assert!(error.position.is_some());
}

#[test]
fn invalid_utf8_is_rejected() {
    let error = parse(
        "bytes.json",
        b"{\"imageDigest\": \"sha\xff\xfe\", \"vulnerabilities\": []}",
    )
    .unwrap_err();
    assert!(error.position.is_some(), "{error}");
}

#[test]
fn deep_nesting_errors() {
    let depth = 100_000;
    let mut bytes = b"{\"vulnerabilities\": ".to_vec();
    bytes.extend(std::iter::repeat_n(b'[', depth));
    bytes.extend(std::iter::repeat_n(b']', depth));
    bytes.push(b'}');
    let error = parse("deep.json", &bytes).unwrap_err();
    assert!(error.position.is_some(), "{error}");
}

#[test]
fn long_line_parses() {
    let description = "x".repeat(4 * 1024 * 1024);
    let bytes = format!(
        r#"{{"imageDigest": "sha256:1", "vulnerabilities": [{{"vuln": "CVE-2024-0001", "package_name": "a", "feed_group": "{description}"}}]}}"#
    );
    let report = parse("long.json", bytes.as_bytes()).expect("parses");
    assert_eq!(report.findings.len(), 1);
}

#[test]
fn large_report_streams() {
    let count = 20_000;
    let mut bytes = b"{\"imageDigest\": \"sha256:big\", \"vulnerabilities\": [".to_vec();
    for index in 0..count {
        if index > 0 {
            bytes.push(b',');
        }
        let record = format!(
            r#"{{"vuln": "CVE-2024-{:05}", "package_name": "lib{}", "package_version": "1.0", "package_type": "dpkg",
               "package_path": "None", "severity": "Medium", "fix": "None"}}"#,
            10_000 + index,
            index % 100
        );
        bytes.extend(record.as_bytes());
    }
    bytes.extend(b"], \"vulnerability_type\": \"os\"}");
    let report = parse("big.json", &bytes).expect("parses");
    assert_eq!(report.findings.len(), count);
    assert_eq!(
        report.assets.iter().filter(|a| a.kind == AssetKind::Component).count(),
        100
    );
}

/// DefectDojo counts one finding per record: vulnerability, package and
/// path.
fn group_key(finding: &Finding) -> String {
    let component = finding.component.as_ref();
    format!(
        "{}|{}|{}|{}",
        finding.rule_id,
        component.map(|c| c.name.as_str()).unwrap_or_default(),
        component.and_then(|c| c.version.as_deref()).unwrap_or_default(),
        finding.location.path.as_deref().unwrap_or_default()
    )
}

#[test]
fn corpus_conformance() {
    let reports = common::check_folder("anchore_engine", FORMAT, group_key);
    if reports.is_empty() {
        return;
    }
    let report = |name: &str| &reports.iter().find(|(file, _)| file == name).expect(name).1;

    let many = &report("many_vulns.json").findings;
    assert_eq!(many[5].rule_id, "CVE-2019-3842");
    assert_eq!(many[5].fix.fixed_versions, ["232-25+deb9u11"], "[5] has a fix");
    assert_eq!(many[0].severity, Severity::Info, "Negligible");

    let new_format = report("new_format_issue_11552.json");
    assert_eq!(targets(new_format), ["docker.io/myimage:new"]);
    let openssl = &new_format.findings[50];
    assert_eq!(openssl.rule_id, "CVE-2023-0466");
    let component = openssl.component.as_ref().expect("a component");
    assert_eq!(component.name, "openssl-libs");
    assert_eq!(component.version.as_deref(), Some("1:1.1.1k-14.el8_6"));
    assert_eq!(openssl.severity, Severity::Low);
    for (_, parsed) in &reports {
        assert_every_finding_has_scope(parsed);
    }
}

#[test]
fn corpus_detection() {
    common::check_detection("anchore_engine", FORMAT, |_| true);
}

/// Checks that detection picks this format for every corpus file of its
/// folders and for no file of the other folders.
#[test]
fn corpus_detection_is_exclusive() {
    let Some(corpus) = common::corpus_dir() else {
        return;
    };
    let ours = ["anchore_engine"];
    let mut failures = Vec::new();
    for folder in std::fs::read_dir(&corpus).expect("the corpus folder") {
        let folder = folder.expect("a corpus entry").path();
        if !folder.is_dir() {
            continue;
        }
        let expected = folder
            .file_name()
            .is_some_and(|name| ours.iter().any(|ours| name == *ours));
        for file in std::fs::read_dir(&folder).expect("a corpus folder") {
            let path = file.expect("a corpus file").path();
            let bytes = std::fs::read(&path).expect("a readable file");
            let detected = detect(&bytes).map(|parser| parser.info().id);
            if (detected == Some(FORMAT)) != expected {
                failures.push(format!("{}: detected as {detected:?}", path.display()));
            }
        }
    }
    assert!(failures.is_empty(), "detection failures:\n{}", failures.join("\n"));
}
