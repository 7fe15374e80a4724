//! Tests of the SPDX 2.x JSON parser: fixtures, hostile input and the
//! shared corpus.

mod common;
mod sca_common;

use std::collections::BTreeSet;

use ctem_ingest::{Detection, ParseError, ParsedReport, Position, find, parse_bytes};
use ctem_model::{AssetKind, Finding, FindingKind, RelationshipKind, Severity};
use serde_json::json;

const FORMAT: &str = "spdx-json";

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

#[test]
fn empty_document_declares_scope() {
    let report = parse_fixture("empty.json");
    assert!(report.findings.is_empty());
    assert_eq!(scopes(&report), [("syft", "storefront")]);
    assert_eq!(report.assets.len(), 1);
    assert_eq!(report.assets[0].kind, AssetKind::Repository);
    assert_eq!(
        report.assets[0].attributes.get("version").map(String::as_str),
        Some("3.1.0")
    );
    assert!(report.relationships.is_empty());
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
    assert_eq!(report.findings.len(), 2);
    insta::assert_json_snapshot!("many", normalized(&report));
}

#[test]
fn container_subject_contains_packages() {
    let report = parse_fixture("one.json");
    assert_eq!(scopes(&report), [("trivy", "registry.shop.example/billing:2.3.1")]);
    let image = &report.assets[0];
    assert_eq!(image.kind, AssetKind::ContainerImage);
    assert_eq!(
        image.key.as_str(),
        "container_image:registry.shop.example/billing:2.3.1"
    );
    assert_eq!(
        edges(&report),
        [(
            "container_image:registry.shop.example/billing:2.3.1",
            "component:pkg:deb/ubuntu/openssl@3.0.2-0ubuntu1.10?arch=amd64&distro=ubuntu-22.04"
        )]
    );
}

#[test]
fn security_reference_fields_map() {
    let report = parse_fixture("one.json");
    let finding = &report.findings[0];
    assert_eq!(finding.tool, "trivy");
    assert_eq!(finding.rule_id, "CVE-2023-0286");
    assert_eq!(finding.kind, FindingKind::Vulnerability);
    assert_eq!(finding.title, "CVE-2023-0286 in openssl 3.0.2-0ubuntu1.10");
    assert_eq!(finding.severity, Severity::Info, "SPDX gives no severity");
    assert_eq!(finding.references, ["https://ubuntu.com/security/CVE-2023-0286"]);
    assert_eq!(finding.asset, report.assets[0].key);
    let component = finding.component.as_ref().expect("component");
    assert_eq!(component.ecosystem.as_deref(), Some("deb"));
    assert_eq!(finding.target.as_deref(), Some("registry.shop.example/billing:2.3.1"));
}

#[test]
fn references_to_one_id_collapse() {
    let report = parse_fixture("many.json");
    let qs = &report.findings[0];
    assert_eq!(qs.rule_id, "CVE-2022-24999");
    assert_eq!(qs.references.len(), 2, "the advisory and the fix");
    assert_eq!(
        qs.fix.description.as_deref(),
        Some("Upgrade qs to 6.7.3 (CVE-2022-24999): https://github.com/ljharb/qs/releases/tag/v6.7.3")
    );
    let ghsa = &report.findings[1];
    assert_eq!(ghsa.rule_id, "GHSA-hrpp-h998-j3pp");
    let rules: BTreeSet<&str> = report.findings.iter().map(|f| f.rule_id.as_str()).collect();
    assert_eq!(rules.len(), 2, "an advisory without an id gives no finding");
}

#[test]
fn relationships_become_contains() {
    let report = parse_fixture("many.json");
    assert_eq!(scopes(&report), [("syft", "checkout-service")]);
    assert!(
        report
            .relationships
            .iter()
            .all(|r| r.kind == RelationshipKind::Contains)
    );
    assert_eq!(
        edges(&report),
        [
            ("component:pkg:npm/express@4.17.1", "component:pkg:npm/qs@6.7.0"),
            ("repository:checkout-service", "component:pkg:npm/express@4.17.1"),
            ("repository:checkout-service", "component:pkg:npm/lodash@4.17.20"),
            ("repository:checkout-service", "component:tzdata"),
        ],
        "depends-on, dependency-of reversed, and unplaced packages under the subject"
    );
    let tzdata = report.assets.iter().find(|a| a.name == "tzdata").expect("tzdata");
    assert!(!tzdata.attributes.contains_key("version"), "NOASSERTION is no version");
}

#[test]
fn document_without_described_package() {
    let text = br#"{"spdxVersion": "SPDX-2.3", "name": "generic-image", "documentNamespace": "https://x.example/1",
        "packages": [{"SPDXID": "SPDXRef-a", "name": "zlib", "versionInfo": "1.2.13"}]}"#;
    let report = parse("no_describes.json", text).unwrap();
    assert_eq!(scopes(&report), [("spdx", "generic-image")]);
    assert_eq!(report.assets[0].kind, AssetKind::Other);
    assert_eq!(edges(&report), [("other:generic-image", "component:zlib@1.2.13")]);

    let text = br#"{"spdxVersion": "SPDX-2.3", "documentNamespace": "https://x.example/1"}"#;
    let report = parse("no_name.json", text).unwrap();
    assert_eq!(scopes(&report), [("spdx", "https://x.example/1")]);
}

#[test]
fn spdx3_is_rejected() {
    let error = parse("spdx3.json", &fixture("spdx3.json")).unwrap_err();
    assert!(
        error
            .message
            .contains("SPDX 3 is not supported yet; export SPDX 2.3 JSON"),
        "{}",
        error.message
    );
    assert!(error.position.is_some(), "{error}");
    let error = parse("v3.json", br#"{"spdxVersion": "SPDX-3.0"}"#).unwrap_err();
    assert!(
        error.message.contains("SPDX 3 is not supported yet"),
        "{}",
        error.message
    );
}

#[test]
fn other_version_is_rejected() {
    let error = parse("v1.json", br#"{"spdxVersion": "SPDX-1.2"}"#).unwrap_err();
    assert!(
        error.message.contains("unsupported spdxVersion \"SPDX-1.2\""),
        "{}",
        error.message
    );
    let error = parse("cdx.json", br#"{"bomFormat": "CycloneDX"}"#).unwrap_err();
    assert!(error.message.contains("missing \"spdxVersion\""), "{}", error.message);
}

#[test]
fn fixtures_are_detected() {
    let parser = find(FORMAT).expect("registered");
    for name in ["empty.json", "one.json", "many.json", "spdx3.json"] {
        assert_eq!(parser.detect(&fixture(name)), Detection::Certain, "{name}");
        assert_eq!(
            ctem_ingest::detect(&fixture(name)).map(|p| p.info().id),
            Some(FORMAT),
            "{name}"
        );
    }
    assert_eq!(parser.detect(br#"{"bomFormat": "CycloneDX"}"#), Detection::No);
    assert_eq!(parser.detect(b"SPDXVersion: SPDX-2.3"), Detection::No);
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
    let error = parse("bad.json", b"{\"spdxVersion\": \"SPDX-2.3\",\n\"packages\": [,]}").unwrap_err();
    assert_eq!(error.position, Some(Position::LineColumn { line: 2, column: 14 }));
}

#[test]
fn invalid_utf8_is_rejected() {
    let error = parse("latin1.json", b"{\"spdxVersion\": \"SPDX-2.3\", \"name\": \"caf\xe9\"}").unwrap_err();
    assert!(error.message.contains("invalid unicode"), "{}", error.message);
}

#[test]
fn deep_nesting_errors() {
    let depth = 10_000;
    let mut text = String::from(r#"{"spdxVersion": "SPDX-2.3", "documentDescribes": "#);
    text.push_str(&"[".repeat(depth));
    text.push_str(&"]".repeat(depth));
    text.push('}');
    let error = parse("deep.json", text.as_bytes()).unwrap_err();
    assert!(error.message.contains("recursion limit"), "{}", error.message);
}

#[test]
fn large_document_parses() {
    let count = 20_000;
    let mut text = String::from(
        r#"{"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT", "name": "big", "packages": [{"SPDXID": "SPDXRef-root", "name": "big-app"}"#,
    );
    for i in 0..count {
        text.push_str(&format!(
            r#",{{"SPDXID": "SPDXRef-p{i}", "name": "pkg{i}", "versionInfo": "1.0.{i}", "externalRefs": [{{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": "pkg:npm/pkg{i}@1.0.{i}"}}, {{"referenceCategory": "SECURITY", "referenceType": "advisory", "referenceLocator": "https://x.example/CVE-2024-{:05}"}}]}}"#,
            10_000 + i
        ));
    }
    text.push_str(r#"], "relationships": [{"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES", "relatedSpdxElement": "SPDXRef-root"}"#);
    for i in 0..count {
        text.push_str(&format!(
            r#",{{"spdxElementId": "SPDXRef-root", "relationshipType": "DEPENDS_ON", "relatedSpdxElement": "SPDXRef-p{i}"}}"#
        ));
    }
    text.push_str("]}");
    let report = parse("large.json", text.as_bytes()).unwrap();
    assert_eq!(report.findings.len(), count);
    assert_eq!(report.assets.len(), count + 1);
    assert_eq!(report.relationships.len(), count);
    assert_eq!(scopes(&report), [("spdx", "big-app")]);
}

/// Returns the finding's package and vulnerability id as its group:
/// DefectDojo gives one finding per (package, vulnerability), as ctem does.
fn group_key(finding: &Finding) -> String {
    finding.fingerprint().to_string()
}

fn is_json(file: &str) -> bool {
    file.ends_with(".json") || file.ends_with(".json.golden")
}

/// Reads the `packages=N` count of each `spdx` row of `STRUCTURAL_FACTS.tsv`.
fn package_counts(corpus: &std::path::Path) -> Vec<(String, usize)> {
    let table = std::fs::read_to_string(corpus.join("STRUCTURAL_FACTS.tsv")).expect("STRUCTURAL_FACTS.tsv");
    table
        .lines()
        .map(|line| line.split('\t').collect::<Vec<_>>())
        .filter(|columns| columns.len() >= 3 && columns[0] == "spdx")
        .map(|columns| {
            let start = columns[2].find("packages=").expect("packages") + "packages=".len();
            let count: String = columns[2][start..].chars().take_while(char::is_ascii_digit).collect();
            (columns[1].to_string(), count.parse().expect("a count"))
        })
        .collect()
}

#[test]
fn corpus_conformance() {
    let reports = common::check_folder_where("spdx", FORMAT, group_key, is_json);
    common::check_detection("spdx", FORMAT, is_json);
    let Some(corpus) = common::corpus_dir() else {
        return;
    };
    let report = |name: &str| &reports.iter().find(|(file, _)| file == name).expect("parsed").1;

    let one = report("spdx_one_vuln.json");
    let finding = &one.findings[0];
    assert_eq!(finding.title, "CVE-2024-10001 in alpine-baselayout 3.1.2-r0");
    let component = finding.component.as_ref().expect("component");
    assert_eq!(component.name, "alpine-baselayout");
    assert_eq!(component.version.as_deref(), Some("3.1.2-r0"));
    // DefectDojo defaults to Medium where SPDX gives no severity; ctem to Info.
    assert_eq!(finding.severity, Severity::Info);

    let many = report("spdx_many_vuln.json");
    let ids: Vec<&str> = many.findings.iter().map(|f| f.rule_id.as_str()).collect();
    assert_eq!(ids, ["CVE-2024-10001", "CVE-2024-10002", "GHSA-jfh8-c2jp-5v3q"]);

    let no_vuln = report("spdx_no_vuln.json");
    assert!(no_vuln.findings.is_empty(), "CPE references are no findings");
    assert!(no_vuln.assets.iter().any(|a| {
        a.identifier_values("purl")
            .any(|p| p == "pkg:apk/alpine/alpine-baselayout@3.1.2-r0?arch=x86_64&distro=alpine-3.10.9")
    }));

    for (file, packages) in package_counts(&corpus).into_iter().filter(|(file, _)| is_json(file)) {
        let parsed =
            common::parse_file(FORMAT, &corpus.join("spdx").join(&file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(parsed.findings.is_empty(), "{file}");
        assert_eq!(
            parsed.assets.len(),
            packages,
            "{file}: the subject and one component per other package"
        );
        let components = parsed.assets.iter().filter(|a| a.kind == AssetKind::Component).count();
        assert_eq!(
            parsed.relationships.len(),
            components,
            "{file}: every component is placed once"
        );
        let subject = if file.contains("julia") {
            // Trivy's scan of a source tree describes a `SOURCE` package.
            AssetKind::Repository
        } else {
            AssetKind::ContainerImage
        };
        assert_eq!(parsed.assets[0].kind, subject, "{file}");
    }
}

#[test]
fn corpus_detection_everywhere() {
    sca_common::check_detection_everywhere(FORMAT, |folder, file| folder == "spdx" && is_json(file));
}
