//! Tests of the Clair (clair-scanner and klar) JSON parser: fixtures, snapshots, hostile
//! input and the shared corpus.

mod common;

use ctem_ingest::{Detection, ParseError, ParsedReport, Position, detect, find, parse_bytes};
use ctem_model::{AssetKind, Finding, RelationshipKind, Severity};
use serde_json::json;

const FORMAT: &str = "clair-json";

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
        report.targets.iter().all(|(tool, _)| tool == "clair"),
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
    for name in ["empty.json", "one.json", "many.json", "klar.json", "image_last.json"] {
        assert_eq!(parser.detect(&fixture(name)), Detection::Certain, "{name}");
    }
    assert_eq!(parser.detect(b"{\"vulnerabilities\": []}"), Detection::No);
    assert_eq!(
        parser.detect(b"[{\"LayerCount\": 1, \"Vulnerabilities\": {}}]"),
        Detection::No
    );
}

#[test]
fn empty_report_declares_image() {
    let report = parse_fixture("empty.json");
    assert!(report.findings.is_empty());
    assert_eq!(targets(&report), ["registry.example.test/tools/builder:2024.06"]);
    assert_eq!(report.assets.len(), 1);
    assert_eq!(report.assets[0].kind, AssetKind::ContainerImage);
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
    assert_eq!(report.findings.len(), 3, "the repeated coreutils record is dropped");
    assert_every_finding_has_scope(&report);
    insta::assert_json_snapshot!("many", normalized(&report));
}

#[test]
fn scanner_record_fields() {
    let report = parse_fixture("one.json");
    let finding = &report.findings[0];
    assert_eq!(finding.rule_id, "CVE-2023-4911");
    assert_eq!(finding.title, "CVE-2023-4911 in glibc 2.35-0ubuntu3.3");
    assert_eq!(finding.severity, Severity::High);
    assert_eq!(ids(finding), ["CVE-2023-4911"]);
    assert_eq!(finding.fix.fixed_versions, ["2.35-0ubuntu3.4"]);
    assert_eq!(finding.references, ["https://ubuntu.com/security/CVE-2023-4911"]);
    assert_eq!(
        finding.attributes.get("namespace").map(String::as_str),
        Some("ubuntu:22.04")
    );
    assert!(
        finding
            .description
            .as_deref()
            .unwrap_or_default()
            .contains("GLIBC_TUNABLES")
    );
    assert_eq!(finding.location.path, None);
    let component = finding.component.as_ref().expect("a component");
    assert_eq!(
        (component.name.as_str(), component.version.as_deref()),
        ("glibc", Some("2.35-0ubuntu3.3"))
    );
    assert_eq!(report.relationships.len(), 1);
    assert_eq!(report.relationships[0].kind, RelationshipKind::Contains);
    assert_eq!(report.relationships[0].from, finding.asset);
}

#[test]
fn negligible_without_fix() {
    let report = parse_fixture("many.json");
    let coreutils = report
        .findings
        .iter()
        .find(|f| f.rule_id == "CVE-2016-2781")
        .expect("coreutils");
    assert_eq!(coreutils.severity, Severity::Info);
    assert!(coreutils.fix.fixed_versions.is_empty(), "an empty fixedby is no fix");
}

#[test]
fn klar_buckets() {
    let report = parse_fixture("klar.json");
    assert_every_finding_has_scope(&report);
    assert_eq!(targets(&report), ["clair-json:klar.json"], "klar names no image");
    let by_rule = |rule: &str| report.findings.iter().find(|f| f.rule_id == rule).expect(rule);

    let sudo = by_rule("CVE-2021-3156");
    assert_eq!(sudo.severity, Severity::Critical, "Defcon1");
    assert_eq!(sudo.fix.fixed_versions, ["1.8.27-1+deb10u3"]);

    let perl = by_rule("RHSA-2019:0109");
    assert_eq!(perl.severity, Severity::High);
    assert_eq!(ids(perl), ["RHSA-2019:0109"]);
    assert_eq!(perl.component.as_ref().map(|c| c.name.as_str()), Some("perl-libs"));

    let bzip2 = by_rule("CVE-2019-12900");
    assert_eq!(
        bzip2.severity,
        Severity::Critical,
        "Unknown falls back to the v3 score 9.8"
    );
    assert_eq!(bzip2.cvss.len(), 2);
    assert!(bzip2.cvss.iter().any(|v| v.to_string().starts_with("CVSS:3.1/")));

    let apt = by_rule("CVE-2011-3374");
    assert_eq!(apt.severity, Severity::Low, "no Severity: the bucket name");
    assert_eq!(apt.description, None);
}

#[test]
fn image_after_records() {
    let report = parse_fixture("image_last.json");
    assert_every_finding_has_scope(&report);
    assert_eq!(targets(&report), ["registry.example.test/shop/cron:0.9.0"]);
    assert_eq!(report.findings.len(), 1);
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
    let error = parse("bad.json", b"{\"vulnerabilities\": [{\"vulnerability\": }]}").unwrap_err();
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
    assert!(error.message.contains("Clair report"), "{}", error.message);

    let error = parse("buckets.json", br#"{"LayerCount": 1, "Vulnerabilities": [1]}"#).unwrap_err();
    assert!(error.message.contains("keyed by severity"), "{}", error.message);
}

#[test]
fn record_without_feature_is_rejected() {
    let error = parse(
        "nofeature.json",
        br#"{"image": "a", "vulnerabilities": [{"vulnerability": "CVE-2020-1234"}]}"#,
    )
    .unwrap_err();
    assert!(
        error.message.contains("CVE-2020-1234 names no feature"),
        "{}",
        error.message
    );
    let error = parse(
        "noname.json",
        br#"{"image": "a", "vulnerabilities": [{"featurename": "zlib"}]}"#,
    )
    .unwrap_err();
    assert!(error.message.contains("has no name"), "{}", error.message);
}

#[test]
fn invalid_utf8_is_rejected() {
    let error = parse("bytes.json", b"{\"image\": \"reg\xff\xfe\", \"vulnerabilities\": []}").unwrap_err();
    assert!(error.position.is_some(), "{error}");
}

#[test]
fn deep_nesting_errors() {
    let depth = 100_000;
    let mut bytes = b"{\"Vulnerabilities\": {\"High\": ".to_vec();
    bytes.extend(std::iter::repeat_n(b'[', depth));
    bytes.extend(std::iter::repeat_n(b']', depth));
    bytes.extend(b"}}");
    let error = parse("deep.json", &bytes).unwrap_err();
    assert!(error.position.is_some(), "{error}");
}

#[test]
fn long_line_parses() {
    let description = "y".repeat(4 * 1024 * 1024);
    let bytes = format!(
        r#"{{"image": "a", "vulnerabilities": [{{"vulnerability": "CVE-2024-0001", "featurename": "a", "description": "{description}"}}]}}"#
    );
    let report = parse("long.json", bytes.as_bytes()).expect("parses");
    assert_eq!(
        report.findings[0].description.as_ref().map(String::len),
        Some(description.len())
    );
}

#[test]
fn large_report_streams() {
    let count = 20_000;
    let mut bytes = b"{\"image\": \"registry.example.test/big:1\", \"unapproved\": [], \"vulnerabilities\": [".to_vec();
    for index in 0..count {
        if index > 0 {
            bytes.push(b',');
        }
        let record = format!(
            r#"{{"featurename": "lib{}", "featureversion": "1.0", "vulnerability": "CVE-2024-{:05}",
               "namespace": "debian:12", "severity": "Medium", "fixedby": ""}}"#,
            index % 100,
            10_000 + index
        );
        bytes.extend(record.as_bytes());
    }
    bytes.extend(b"]}");
    let report = parse("big.json", &bytes).expect("parses");
    assert_eq!(report.findings.len(), count);
    assert_eq!(
        report.assets.iter().filter(|a| a.kind == AssetKind::Component).count(),
        100
    );
}

/// DefectDojo counts one finding per record: vulnerability and feature.
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
    let reports = common::check_folder("clair", FORMAT, group_key);
    if reports.is_empty() {
        return;
    }
    let report = |name: &str| &reports.iter().find(|(file, _)| file == name).expect(name).1;

    let many = &report("clair_many_vul.json").findings;
    assert_eq!(many[0].rule_id, "CVE-2018-20839");
    assert_eq!(many[0].severity, Severity::Medium);
    assert_eq!(many[0].title, "CVE-2018-20839 in systemd 237-3ubuntu10.29");
    assert_eq!(
        many[0].references,
        ["http://people.ubuntu.com/~ubuntu-security/cve/CVE-2018-20839"]
    );

    let mixed = &report("clairklar_mixed.json").findings;
    let severities: Vec<Severity> = mixed.iter().map(|f| f.severity).collect();
    assert!(severities.contains(&Severity::Critical));
    assert!(severities.contains(&Severity::Info), "Unknown without scores");
    for (_, parsed) in &reports {
        assert_every_finding_has_scope(parsed);
    }
}

#[test]
fn corpus_detection() {
    common::check_detection("clair", FORMAT, |_| true);
}

/// Checks that detection picks this format for every corpus file of its
/// folders and for no file of the other folders.
#[test]
fn corpus_detection_is_exclusive() {
    let Some(corpus) = common::corpus_dir() else {
        return;
    };
    let ours = ["clair"];
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
