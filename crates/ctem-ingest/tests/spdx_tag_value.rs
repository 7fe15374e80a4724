//! Tests of the SPDX 2.x tag-value parser: fixtures, hostile input and the
//! shared corpus.

mod common;
mod sca_common;

use ctem_ingest::{Detection, ParseError, ParsedReport, Position, find, parse_bytes};
use ctem_model::{AssetKind, Finding, Severity};
use serde_json::json;

const FORMAT: &str = "spdx-tag-value";

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

fn scopes(report: &ParsedReport) -> Vec<(&str, &str)> {
    report
        .targets
        .iter()
        .map(|(tool, target)| (tool.as_str(), target.as_str()))
        .collect()
}

fn edges(report: &ParsedReport) -> Vec<(&str, &str)> {
    report
        .relationships
        .iter()
        .map(|r| (r.from.as_str(), r.to.as_str()))
        .collect()
}

fn position_line(error: &ParseError) -> Option<u64> {
    match error.position {
        Some(Position::LineColumn { line, .. }) => Some(line),
        _ => None,
    }
}

#[test]
fn empty_document_declares_scope() {
    let report = parse_fixture("empty.spdx");
    assert!(report.findings.is_empty());
    assert_eq!(scopes(&report), [("syft", "storefront")]);
    assert_eq!(report.assets.len(), 1);
    assert_eq!(report.assets[0].kind, AssetKind::Other);
}

#[test]
fn one_finding_snapshot() {
    let report = parse_fixture("one.spdx");
    assert_eq!(report.findings.len(), 1);
    insta::assert_json_snapshot!("one", normalized(&report));
}

#[test]
fn many_findings_snapshot() {
    let report = parse_fixture("many.spdx");
    assert_eq!(report.findings.len(), 2);
    insta::assert_json_snapshot!("many", normalized(&report));
}

#[test]
fn same_records_as_json() {
    let json_parser = find("spdx-json").expect("registered");
    let json_path = format!("{}/tests/fixtures/spdx-json/one.json", env!("CARGO_MANIFEST_DIR"));
    let from_json = parse_bytes(json_parser, "one.json", &std::fs::read(json_path).expect("fixture")).unwrap();
    let from_text = parse_fixture("one.spdx");
    assert_eq!(scopes(&from_text), scopes(&from_json));
    assert_eq!(edges(&from_text), edges(&from_json));
    let fingerprints = |report: &ParsedReport| report.findings.iter().map(Finding::fingerprint).collect::<Vec<_>>();
    assert_eq!(fingerprints(&from_text), fingerprints(&from_json));
}

#[test]
fn text_values_and_sections() {
    let report = parse_fixture("many.spdx");
    assert_eq!(scopes(&report), [("syft", "checkout-service")]);
    let names: Vec<&str> = report.assets.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(
        names,
        ["checkout-service", "express", "qs", "lodash"],
        "tags inside <text> values and file sections make no package"
    );
    let qs = &report.findings[0];
    assert_eq!(qs.rule_id, "CVE-2022-24999");
    assert_eq!(
        qs.fix.description.as_deref(),
        Some("Upgrade qs to 6.7.3 (CVE-2022-24999): https://github.com/ljharb/qs/releases/tag/v6.7.3")
    );
    assert_eq!(report.findings[1].rule_id, "GHSA-hrpp-h998-j3pp");
    assert_eq!(qs.severity, Severity::Info);
    assert_eq!(
        edges(&report),
        [
            ("component:pkg:npm/express@4.17.1", "component:pkg:npm/qs@6.7.0"),
            ("repository:checkout-service", "component:pkg:npm/express@4.17.1"),
            ("repository:checkout-service", "component:pkg:npm/lodash@4.17.20"),
        ]
    );
}

#[test]
fn fixtures_are_detected() {
    let parser = find(FORMAT).expect("registered");
    for name in ["empty.spdx", "one.spdx", "many.spdx"] {
        assert_eq!(parser.detect(&fixture(name)), Detection::Certain, "{name}");
        assert_eq!(
            ctem_ingest::detect(&fixture(name)).map(|p| p.info().id),
            Some(FORMAT),
            "{name}"
        );
    }
    assert_eq!(parser.detect(br#"{"spdxVersion": "SPDX-2.3"}"#), Detection::No);
    assert_eq!(
        parser.detect(b"DataLicense: CC0-1.0\nSPDXVersion: SPDX-2.3"),
        Detection::No
    );
}

#[test]
fn missing_version_is_rejected() {
    let error = parse("no_version.spdx", b"DocumentName: x\n").unwrap_err();
    assert!(error.message.contains("missing SPDXVersion"), "{}", error.message);
    let error = parse("v3.spdx", b"SPDXVersion: SPDX-3.0\n").unwrap_err();
    assert!(
        error.message.contains("SPDX 3 is not supported yet"),
        "{}",
        error.message
    );
    assert_eq!(position_line(&error), Some(1));
}

#[test]
fn invalid_line_names_position() {
    let error = parse("bad.spdx", b"SPDXVersion: SPDX-2.3\n\nthis is not a tag\n").unwrap_err();
    assert_eq!(position_line(&error), Some(3));
    assert!(
        error.message.contains("expected a `Tag: value` line"),
        "{}",
        error.message
    );
    let error = parse(
        "bad_ref.spdx",
        b"SPDXVersion: SPDX-2.3\nPackageName: a\nExternalRef: SECURITY\n",
    )
    .unwrap_err();
    assert_eq!(position_line(&error), Some(3));
    let error = parse("bad_rel.spdx", b"SPDXVersion: SPDX-2.3\nRelationship: A DESCRIBES\n").unwrap_err();
    assert!(error.message.contains("ELEMENT TYPE RELATED"), "{}", error.message);
}

#[test]
fn truncated_text_names_position() {
    let text = b"SPDXVersion: SPDX-2.3\nDocumentName: x\nDocumentComment: <text>first line\nsecond line\n";
    let error = parse("cut.spdx", text).unwrap_err();
    assert_eq!(position_line(&error), Some(3), "the line that opened the value");
    assert!(error.message.contains("truncated"), "{}", error.message);
}

#[test]
fn invalid_utf8_is_rejected() {
    let error = parse("latin1.spdx", b"SPDXVersion: SPDX-2.3\nPackageName: caf\xe9\n").unwrap_err();
    assert_eq!(position_line(&error), Some(2));
    assert!(error.message.contains("invalid UTF-8"), "{}", error.message);
}

#[test]
fn long_line_is_rejected() {
    let mut text = b"SPDXVersion: SPDX-2.3\nDocumentComment: ".to_vec();
    text.extend(std::iter::repeat_n(b'a', 2 * 1024 * 1024));
    let error = parse("long.spdx", &text).unwrap_err();
    assert_eq!(position_line(&error), Some(2));
    assert!(error.message.contains("line longer than"), "{}", error.message);
}

#[test]
fn huge_text_value_is_rejected() {
    let mut text = b"SPDXVersion: SPDX-2.3\nDocumentComment: <text>".to_vec();
    for _ in 0..200_000 {
        text.extend_from_slice(b"a line of a comment that never ends\n");
    }
    let error = parse("huge.spdx", &text).unwrap_err();
    assert!(error.message.contains("<text> value longer than"), "{}", error.message);
}

#[test]
fn large_document_parses() {
    let count = 20_000;
    let mut text = String::from("SPDXVersion: SPDX-2.3\nSPDXID: SPDXRef-DOCUMENT\nDocumentName: big\n\n");
    text.push_str("PackageName: big-app\nSPDXID: SPDXRef-root\n\n");
    for i in 0..count {
        text.push_str(&format!(
            "PackageName: pkg{i}\nSPDXID: SPDXRef-p{i}\nPackageVersion: 1.0.{i}\nExternalRef: PACKAGE-MANAGER purl pkg:npm/pkg{i}@1.0.{i}\nExternalRef: SECURITY advisory https://x.example/CVE-2024-{:05}\n\n",
            10_000 + i
        ));
    }
    text.push_str("Relationship: SPDXRef-DOCUMENT DESCRIBES SPDXRef-root\n");
    let report = parse("large.spdx", text.as_bytes()).unwrap();
    assert_eq!(report.findings.len(), count);
    assert_eq!(report.assets.len(), count + 1);
    assert_eq!(report.relationships.len(), count);
}

/// Returns the finding's fingerprint as its group: one finding per
/// (package, vulnerability), as DefectDojo counts them.
fn group_key(finding: &Finding) -> String {
    finding.fingerprint().to_string()
}

fn is_tag_value(file: &str) -> bool {
    file.ends_with(".spdx") || file.ends_with(".txt")
}

#[test]
fn corpus_conformance() {
    let reports = common::check_folder_where("spdx", FORMAT, group_key, is_tag_value);
    common::check_detection("spdx", FORMAT, is_tag_value);
    let Some(corpus) = common::corpus_dir() else {
        return;
    };

    let one = &reports
        .iter()
        .find(|(file, _)| file == "spdx_one_vuln.spdx")
        .expect("parsed")
        .1;
    let finding = &one.findings[0];
    assert_eq!(finding.rule_id, "CVE-2024-10001");
    let component = finding.component.as_ref().expect("component");
    assert_eq!(component.name, "alpine-baselayout");
    assert_eq!(component.version.as_deref(), Some("3.1.2-r0"));
    assert_eq!(finding.tool, "syft");

    // STRUCTURAL_FACTS.tsv: SPDX tag-value 2.2, 4 packages.
    let centos = common::parse_file(FORMAT, &corpus.join("spdx/trivy_centos-7-spdx.txt")).expect("parses");
    assert_eq!(centos.assets.len(), 4);
    assert_eq!(
        scopes(&centos),
        [("trivy", "integration/testdata/fixtures/images/centos-7.tar.gz")]
    );
    assert_eq!(centos.assets[0].kind, AssetKind::ContainerImage);
    assert_eq!(centos.relationships.len(), 3);
    assert!(centos.findings.is_empty());
}

#[test]
fn corpus_detection_everywhere() {
    sca_common::check_detection_everywhere(FORMAT, |folder, file| folder == "spdx" && is_tag_value(file));
}
