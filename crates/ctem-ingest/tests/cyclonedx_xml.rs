//! Tests of the CycloneDX XML parser: fixtures, hostile input and the
//! shared corpus.

mod common;
mod sca_common;

use std::collections::BTreeSet;

use ctem_ingest::{Detection, ParseError, ParsedReport, Position, find, parse_bytes};
use ctem_model::{AssetKind, Cwe, Finding, FindingKind, RelationshipKind, Severity, SourceStatus};
use serde_json::json;

const FORMAT: &str = "cyclonedx-xml";

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

fn ids(finding: &Finding) -> Vec<&str> {
    finding.vulnerability_ids.iter().map(|id| id.as_str()).collect()
}

fn vectors(finding: &Finding) -> Vec<String> {
    finding.cvss.iter().map(|v| v.to_string()).collect()
}

fn edges(report: &ParsedReport) -> Vec<(&str, &str)> {
    report
        .relationships
        .iter()
        .map(|r| (r.from.as_str(), r.to.as_str()))
        .collect()
}

#[test]
fn empty_bom_declares_scope() {
    let report = parse_fixture("empty.xml");
    assert!(report.findings.is_empty());
    assert_eq!(scopes(&report), [("cyclonedx", "acme/storefront")]);
    assert_eq!(report.assets.len(), 1);
    assert_eq!(report.assets[0].kind, AssetKind::Repository);
}

#[test]
fn one_finding_snapshot() {
    let report = parse_fixture("one.xml");
    assert_eq!(report.findings.len(), 1);
    insta::assert_json_snapshot!("one", normalized(&report));
}

#[test]
fn many_findings_snapshot() {
    let report = parse_fixture("many.xml");
    assert_eq!(report.findings.len(), 4);
    insta::assert_json_snapshot!("many", normalized(&report));
}

#[test]
fn vulnerability_fields_map() {
    let report = parse_fixture("one.xml");
    let finding = &report.findings[0];
    assert_eq!(finding.tool, "grype");
    assert_eq!(finding.rule_id, "CVE-2021-44228");
    assert_eq!(finding.kind, FindingKind::Vulnerability);
    assert_eq!(finding.title, "CVE-2021-44228 in log4j-core 2.14.1");
    assert_eq!(finding.severity, Severity::Critical);
    assert_eq!(ids(finding), ["CVE-2021-44228", "GHSA-jfh8-c2jp-5v3q"]);
    assert_eq!(finding.cwes, [Cwe(502), Cwe(400)]);
    assert_eq!(
        vectors(finding),
        [
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H",
            "AV:N/AC:M/Au:N/C:C/I:C/A:C"
        ]
    );
    let component = finding.component.as_ref().expect("component");
    assert_eq!(
        component.purl.as_ref().map(|p| p.as_str()),
        Some("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1")
    );
    assert_eq!(finding.fix.fixed_versions, ["2.17.1"]);
    assert_eq!(
        finding.fix.description.as_deref(),
        Some("Upgrade log4j-core to 2.17.1 or later.")
    );
    assert_eq!(finding.references.len(), 3);
    assert!(
        finding
            .description
            .as_deref()
            .is_some_and(|d| d.contains("LDAP endpoints & other")),
        "references in text are resolved"
    );
    assert_eq!(finding.attributes.get("source").map(String::as_str), Some("NVD"));
    assert_eq!(scopes(&report), [("grype", "registry.shop.example/acme/billing:2.3.1")]);
    assert_eq!(report.assets[0].kind, AssetKind::ContainerImage);
}

#[test]
fn same_records_as_json() {
    let json_parser = find("cyclonedx-json").expect("registered");
    let json_path = format!("{}/tests/fixtures/cyclonedx-json/one.json", env!("CARGO_MANIFEST_DIR"));
    let from_json = parse_bytes(json_parser, "one.json", &std::fs::read(json_path).expect("fixture")).unwrap();
    let from_xml = parse_fixture("one.xml");
    let json_finding = &from_json.findings[0];
    let xml_finding = &from_xml.findings[0];
    assert_eq!(xml_finding.rule_id, json_finding.rule_id);
    assert_eq!(xml_finding.component, json_finding.component);
    assert_eq!(xml_finding.severity, json_finding.severity);
}

#[test]
fn prefixed_namespace_and_nesting() {
    let report = parse_fixture("many.xml");
    assert_eq!(scopes(&report), [("dependency-scanner", "@acme/checkout")]);
    assert_eq!(
        edges(&report),
        [
            ("repository:@acme/checkout", "component:pkg:npm/express@4.17.1"),
            ("component:pkg:npm/express@4.17.1", "component:pkg:npm/qs@6.7.0"),
            ("repository:@acme/checkout", "component:pkg:npm/jquery@3.3.1"),
            ("repository:@acme/checkout", "component:pkg:npm/jquery@2.2.4"),
        ]
    );
    assert!(
        report
            .relationships
            .iter()
            .all(|r| r.kind == RelationshipKind::Contains)
    );
    let qs = &report.findings[0];
    assert_eq!(qs.title, "CVE-2022-24999 in qs 6.7.0");
    assert_eq!(qs.severity, Severity::High, "highest of medium and high");
    assert!(
        qs.description.as_deref().is_some_and(|d| d.contains("__proto__")),
        "CDATA is read"
    );
}

#[test]
fn analysis_and_affects() {
    let report = parse_fixture("many.xml");
    let jquery: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.rule_id == "CVE-2019-11358")
        .collect();
    assert_eq!(jquery.len(), 2, "one finding per affected ref");
    assert_ne!(jquery[0].fingerprint(), jquery[1].fingerprint());
    assert_eq!(jquery[0].severity, Severity::Medium, "from the CVSS v3 vector");
    assert_eq!(vectors(jquery[0]), ["CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N"]);
    assert_eq!(jquery[0].source_status, Some(SourceStatus::NotAffected));
    let attribute = |name: &str| jquery[0].attributes.get(name).map(String::as_str);
    assert_eq!(attribute("analysis_justification"), Some("code_not_reachable"));
    assert_eq!(attribute("analysis_response"), Some("will_not_fix, update"));
    assert_eq!(
        attribute("analysis_detail"),
        Some("The vulnerable extend() call is never reached.")
    );

    let internal = &report.findings[3];
    assert_eq!(internal.title, "ACME-2024-0007");
    assert_eq!(internal.component, None);
    assert_eq!(internal.asset.as_str(), "repository:@acme/checkout");
    assert_eq!(internal.source_status, Some(SourceStatus::UnderInvestigation));
    assert_eq!(internal.severity, Severity::Low);
}

#[test]
fn vulnerability_extension() {
    let report = parse_fixture("extension.xml");
    assert_eq!(report.findings.len(), 3);
    let titles: Vec<&str> = report.findings.iter().map(|f| f.title.as_str()).collect();
    assert_eq!(
        titles,
        [
            "GHSA-xgxc-v2qg-chmh in Django 2.2.18",
            "CVE-2021-33203 in Django 2.2.18",
            "CVE-2018-7489 in jackson-databind 2.9.9",
        ],
        "inside a component it affects that component; at the root its ref names one"
    );
    let django = &report.findings[0];
    assert_eq!(django.severity, Severity::Low);
    assert_eq!(
        django.attributes.get("source").map(String::as_str),
        Some("github:github:python")
    );
    assert_eq!(django.references, ["https://github.com/advisories/GHSA-xgxc-v2qg-chmh"]);
    assert_eq!(
        report.findings[1].severity,
        Severity::Medium,
        "from score/base and the vector"
    );
    let jackson = &report.findings[2];
    assert_eq!(jackson.severity, Severity::Critical);
    assert_eq!(jackson.cwes, [Cwe(184), Cwe(502)]);
    assert_eq!(vectors(jackson), ["CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"]);
    assert_eq!(
        jackson.fix.description.as_deref(),
        Some("Upgrade\nPin jackson-databind to 2.9.10.8 or later"),
        "every recommendation is kept"
    );
    assert_eq!(scopes(&report), [("grype", "acme/reports:1.4.0")]);
}

#[test]
fn fixtures_are_detected() {
    let parser = find(FORMAT).expect("registered");
    for name in ["empty.xml", "one.xml", "many.xml", "extension.xml"] {
        assert_eq!(parser.detect(&fixture(name)), Detection::Certain, "{name}");
        assert_eq!(
            ctem_ingest::detect(&fixture(name)).map(|p| p.info().id),
            Some(FORMAT),
            "{name}"
        );
    }
    assert_eq!(parser.detect(b"<?xml version=\"1.0\"?><nmaprun/>"), Detection::No);
}

#[test]
fn other_xml_is_rejected() {
    let error = parse(
        "nmap.xml",
        b"<?xml version=\"1.0\"?>\n<nmaprun scanner=\"nmap\"></nmaprun>",
    )
    .unwrap_err();
    assert!(
        error
            .message
            .contains("expected the root element <bom>, found <nmaprun>"),
        "{}",
        error.message
    );
    assert_eq!(error.position, Some(Position::Byte(22)));
    let error = parse("plain.xml", b"<bom version=\"1\"></bom>").unwrap_err();
    assert!(error.message.contains("has no namespace"), "{}", error.message);
    let error = parse("empty.xml", b"<?xml version=\"1.0\"?>").unwrap_err();
    assert!(error.message.contains("no XML element found"), "{}", error.message);
}

#[test]
fn unsupported_version_is_rejected() {
    for version in ["2.0", "1.8", "one"] {
        let text = format!(r#"<bom xmlns="http://cyclonedx.org/schema/bom/{version}"></bom>"#);
        let error = parse("future.xml", text.as_bytes()).unwrap_err();
        assert!(
            error
                .message
                .contains(&format!("unsupported CycloneDX XML version \"{version}\"")),
            "{}",
            error.message
        );
    }
    let oldest = parse("old.xml", br#"<bom xmlns="http://cyclonedx.org/schema/bom/1.0"></bom>"#);
    assert!(oldest.is_ok(), "1.0 is read");
}

#[test]
fn truncated_file_names_position() {
    let bytes = fixture("many.xml");
    let error = parse("cut.xml", &bytes[..bytes.len() / 2]).unwrap_err();
    assert!(error.message.contains("truncated"), "{}", error.message);
    assert!(matches!(error.position, Some(Position::Byte(_))), "{error}");
}

#[test]
fn invalid_syntax_is_rejected() {
    let text = b"<bom xmlns=\"http://cyclonedx.org/schema/bom/1.4\"><components></metadata></bom>";
    let error = parse("bad.xml", text).unwrap_err();
    assert!(error.message.contains("invalid XML"), "{}", error.message);
    assert!(matches!(error.position, Some(Position::Byte(_))), "{error}");
}

#[test]
fn invalid_utf8_is_rejected() {
    let text = b"<bom xmlns=\"http://cyclonedx.org/schema/bom/1.4\"><components><component><name>caf\xe9</name></component></components></bom>";
    let error = parse("latin1.xml", text).unwrap_err();
    assert!(error.message.contains("invalid text"), "{}", error.message);
}

#[test]
fn billion_laughs_is_not_expanded() {
    let mut text = String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE bom [\n<!ENTITY lol \"lol\">\n");
    text.push_str("<!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n");
    for level in 2..10 {
        let previous = format!("&lol{};", level - 1);
        text.push_str(&format!("<!ENTITY lol{level} \"{}\">\n", previous.repeat(10)));
    }
    text.push_str("]>\n<bom xmlns=\"http://cyclonedx.org/schema/bom/1.4\"><components><component type=\"library\">");
    text.push_str("<name>&lol9;</name><version>1.0</version></component></components></bom>");
    let report = parse("laughs.xml", text.as_bytes()).unwrap();
    assert_eq!(report.assets[1].name, "&lol9;", "the entity stays a reference");
}

#[test]
fn deep_nesting_errors() {
    let depth = 100_000;
    let mut text = String::from("<bom xmlns=\"http://cyclonedx.org/schema/bom/1.4\">");
    text.push_str(&"<a>".repeat(depth));
    text.push_str(&"</a>".repeat(depth));
    text.push_str("</bom>");
    let error = parse("deep.xml", text.as_bytes()).unwrap_err();
    assert!(error.message.contains("nest deeper than"), "{}", error.message);
    assert!(matches!(error.position, Some(Position::Byte(_))), "{error}");
}

#[test]
fn huge_text_is_bounded() {
    let mut text = String::from(
        "<bom xmlns=\"http://cyclonedx.org/schema/bom/1.4\"><vulnerabilities><vulnerability><id>CVE-2024-0001</id><description>",
    );
    text.push_str(&"x".repeat(2 * 1024 * 1024));
    text.push_str("</description></vulnerability></vulnerabilities></bom>");
    let report = parse("huge.xml", text.as_bytes()).unwrap();
    let description = report.findings[0].description.as_deref().unwrap_or_default();
    assert_eq!(description.len(), 256 * 1024);
}

#[test]
fn large_bom_parses() {
    let count = 20_000;
    let mut text = String::from(
        "<bom xmlns=\"http://cyclonedx.org/schema/bom/1.5\"><metadata><component type=\"container\"><name>big:1</name></component></metadata><components>",
    );
    for i in 0..count {
        text.push_str(&format!(
            "<component type=\"library\" bom-ref=\"c{i}\"><name>pkg{i}</name><version>1.0.{i}</version><purl>pkg:npm/pkg{i}@1.0.{i}</purl></component>"
        ));
    }
    text.push_str("</components><vulnerabilities>");
    for i in 0..count {
        text.push_str(&format!(
            "<vulnerability><id>CVE-2024-{:05}</id><ratings><rating><severity>high</severity></rating></ratings><affects><target><ref>c{i}</ref></target></affects></vulnerability>",
            10_000 + i
        ));
    }
    text.push_str("</vulnerabilities></bom>");
    let report = parse("large.xml", text.as_bytes()).unwrap();
    assert_eq!(report.findings.len(), count);
    assert_eq!(report.assets.len(), count + 1);
    assert_eq!(report.relationships.len(), count);
    assert!(report.findings.iter().all(|f| f.component.is_some()));
    let fingerprints: BTreeSet<_> = report.findings.iter().map(Finding::fingerprint).collect();
    assert_eq!(fingerprints.len(), count);
}

fn is_xml(file: &str) -> bool {
    file.ends_with(".xml")
}

/// Returns the finding's fingerprint as its group: DefectDojo gives one
/// finding per (vulnerability, affected component), as ctem does.
fn group_key(finding: &Finding) -> String {
    finding.fingerprint().to_string()
}

#[test]
fn corpus_conformance() {
    let reports = common::check_folder_where("cyclonedx", FORMAT, group_key, is_xml);
    common::check_detection("cyclonedx", FORMAT, is_xml);
    let Some(corpus) = common::corpus_dir() else {
        return;
    };
    let report = |name: &str| &reports.iter().find(|(file, _)| file == name).expect("parsed").1;

    let grype = report("grype_dd_1_14_1.xml");
    assert_eq!(grype.findings.len(), 312);
    let first = &grype.findings[0];
    assert_eq!(first.severity, Severity::Low);
    let component = first.component.as_ref().expect("component");
    assert_eq!(
        (component.name.as_str(), component.version.as_deref()),
        ("Django", Some("2.2.18"))
    );
    let openjp = &grype.findings[200];
    assert_eq!(openjp.rule_id, "CVE-2019-6988");
    assert_eq!(openjp.severity, Severity::Low);
    let component = openjp.component.as_ref().expect("component");
    assert_eq!(component.name, "libopenjp2-7");
    assert_eq!(component.version.as_deref(), Some("2.3.0-2+deb10u2"));
    assert_eq!(scopes(grype), [("grype", "defectdojo/defectdojo-django:1.14.1")]);

    for name in ["spec1.xml", "spec1_lowfirst.xml"] {
        let finding = &report(name).findings[0];
        assert_eq!(finding.rule_id, "CVE-2018-7489", "{name}");
        assert_eq!(finding.severity, Severity::Critical, "{name}");
        assert_eq!(finding.cwes, [Cwe(184), Cwe(502)], "{name}");
        assert_eq!(
            vectors(finding),
            ["CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"],
            "{name}: DefectDojo writes CVSS:3.1; the method CVSSv3 names 3.0"
        );
        let component = finding.component.as_ref().expect("component");
        assert_eq!(component.name, "jackson-databind", "{name}");
        assert_eq!(component.version.as_deref(), Some("2.9.9"), "{name}");
        assert_eq!(finding.fix.description.as_deref(), Some("Upgrade"), "{name}");
    }

    let log4j = &report("log4j.xml").findings[0];
    assert_eq!(log4j.title, "CVE-2021-44228 in log4j-core 2.13.2");
    assert_eq!(log4j.severity, Severity::Critical);
    assert!(
        vectors(log4j)
            .iter()
            .any(|v| v == "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H")
    );

    let cwes = &report("multiple_cwes_fabricated.xml").findings[0];
    assert_eq!(cwes.cwes, [Cwe(79), Cwe(89)]);

    // Files without expected counts: STRUCTURAL_FACTS.tsv counts 63
    // components, `metadata/component` among them, and no vulnerabilities.
    for file in [
        "bom-examples__laravel-7.12.0_bom.1.3.xml",
        "bom-examples__laravel-7.12.0_bom.1.4.xml",
    ] {
        let parsed =
            common::parse_file(FORMAT, &corpus.join("cyclonedx").join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(
            parsed.relationships.len(),
            62,
            "{file}: one Contains edge per component"
        );
        assert!(parsed.findings.is_empty(), "{file}");
        assert_eq!(
            scopes(&parsed),
            [("cyclonedx", "cyclonedx/cyclonedx-php-composer-demo")],
            "{file}"
        );
    }
}

#[test]
fn corpus_detection_everywhere() {
    sca_common::check_detection_everywhere(FORMAT, |folder, file| folder == "cyclonedx" && is_xml(file));
}

/// A CycloneDX VEX document gives the same statements in XML as in JSON,
/// and like it declares no scope.
#[test]
fn vex_document_matches_json() {
    let report = parse_fixture("vex.xml");
    assert!(report.findings.is_empty(), "{:?}", report.findings);
    assert!(report.targets.is_empty(), "a VEX document covers no scope");
    assert!(report.assets.is_empty());

    let json_path = format!("{}/tests/fixtures/cyclonedx-json/vex.json", env!("CARGO_MANIFEST_DIR"));
    let json_bytes = std::fs::read(&json_path).unwrap();
    let json_report = parse_bytes(find("cyclonedx-json").unwrap(), "vex.json", &json_bytes).unwrap();
    assert_eq!(report.vex.len(), json_report.vex.len());
    for (xml, json) in report.vex.iter().zip(&json_report.vex) {
        let mut xml = serde_json::to_value(xml).unwrap();
        let mut json = serde_json::to_value(json).unwrap();
        // Only the source differs: the format and the path.
        xml["source"].take();
        json["source"].take();
        assert_eq!(xml, json);
    }
    let source = report.vex[0].source();
    assert_eq!(source.format, FORMAT);
    assert_eq!(
        source.document_id.as_deref(),
        Some("urn:uuid:7d0f5c0e-4b8e-4d55-9b8e-0a6f3c2d1e10")
    );
    assert_eq!(source.author.as_deref(), Some("Acme Product Security"));
}
