//! Tests of the OWASP Dependency-Check XML parser: fixtures, snapshots, hostile
//! input and the shared corpus.

mod common;

use ctem_ingest::{Detection, ParseError, ParsedReport, Position, detect, find, parse_bytes};
use ctem_model::{AssetKind, Finding, RelationshipKind, Severity, SourceStatus};
use serde_json::json;

const FORMAT: &str = "dependency-check-xml";

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
        report.targets.iter().all(|(tool, _)| tool == "dependency-check"),
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

fn cwes(finding: &Finding) -> Vec<u32> {
    finding.cwes.iter().map(|cwe| cwe.0).collect()
}

fn vectors(finding: &Finding) -> Vec<String> {
    finding.cvss.iter().map(ToString::to_string).collect()
}

#[test]
fn detects_fixtures() {
    let parser = find(FORMAT).expect("registered");
    for name in ["empty.xml", "one.xml", "many.xml", "schema1.xml"] {
        assert_eq!(parser.detect(&fixture(name)), Detection::Certain, "{name}");
    }
    assert_eq!(parser.detect(b"<analysis><projectInfo></projectInfo>"), Detection::No);
    assert_eq!(
        parser.detect(b"<?xml version=\"1.0\"?><NessusClientData_v2>"),
        Detection::No
    );
}

#[test]
fn empty_report_declares_project() {
    let report = parse_fixture("empty.xml");
    assert!(report.findings.is_empty());
    assert_eq!(targets(&report), ["com.example.ledger:ledger-service"]);
    assert_eq!(
        report.assets.len(),
        1,
        "a dependency without vulnerabilities is no asset"
    );
    assert_eq!(report.assets[0].kind, AssetKind::Repository);
    assert_eq!(report.assets[0].name, "Ledger Service");
    assert_eq!(
        report.assets[0].attributes.get("version").map(String::as_str),
        Some("3.2.0")
    );
}

#[test]
fn one_snapshot() {
    let report = parse_fixture("one.xml");
    assert_eq!(report.findings.len(), 1);
    assert_every_finding_has_scope(&report);
    insta::assert_json_snapshot!("one", normalized(&report));
}

#[test]
fn many_snapshot() {
    let report = parse_fixture("many.xml");
    assert_eq!(report.findings.len(), 6);
    assert_every_finding_has_scope(&report);
    insta::assert_json_snapshot!("many", normalized(&report));
}

#[test]
fn vulnerability_fields() {
    let report = parse_fixture("one.xml");
    let finding = &report.findings[0];
    assert_eq!(finding.rule_id, "CVE-2020-9488");
    assert_eq!(
        finding.title,
        "CVE-2020-9488 in org.apache.logging.log4j:log4j-api 2.12.4"
    );
    assert_eq!(finding.severity, Severity::Low);
    assert_eq!(ids(finding), ["CVE-2020-9488"]);
    assert_eq!(cwes(finding), [295]);
    assert_eq!(
        vectors(finding),
        [
            "AV:N/AC:M/Au:N/C:P/I:N/A:N",
            "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:N/A:N"
        ]
    );
    assert_eq!(finding.cvss[1].base_score(), 3.7);
    assert_eq!(finding.attributes.get("cvss_v2_score").map(String::as_str), Some("4.3"));
    assert_eq!(finding.attributes.get("source").map(String::as_str), Some("NVD"));
    assert_eq!(
        finding.description.as_deref(),
        Some("Improper validation of certificate with host mismatch in Apache Log4j SMTP appender & friends.")
    );
    assert_eq!(
        finding.references,
        ["https://issues.apache.org/jira/browse/LOG4J2-2819"]
    );
    assert_eq!(
        finding.location.path.as_deref(),
        Some("/home/ci/.m2/repository/org/apache/logging/log4j/log4j-api/2.12.4/log4j-api-2.12.4.jar")
    );
    let component = finding.component.as_ref().expect("a component");
    assert_eq!(
        component.purl.as_ref().map(|p| p.as_str()),
        Some("pkg:maven/org.apache.logging.log4j/log4j-api@2.12.4")
    );
    assert_eq!(report.relationships.len(), 1);
    assert_eq!(report.relationships[0].kind, RelationshipKind::Contains);
    assert_eq!(report.relationships[0].from, finding.asset);
}

#[test]
fn npm_advisories_and_cwe_names() {
    let report = parse_fixture("many.xml");
    assert_eq!(targets(&report), ["storefront"]);
    let advisory = &report.findings[0];
    assert_eq!(advisory.rule_id, "1500");
    assert!(advisory.vulnerability_ids.is_empty(), "a bare advisory number is no id");
    assert_eq!(advisory.severity, Severity::Low);
    assert_eq!(advisory.title, "1500 in yargs-parser 5.0.0");
    assert_eq!(advisory.attributes.get("virtual").map(String::as_str), Some("true"));
    assert_eq!(
        advisory.attributes.get("project_references").map(String::as_str),
        Some("package-lock.json: transitive")
    );

    let ossindex = &report.findings[1];
    assert_eq!(
        vectors(ossindex),
        ["CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N"],
        "letters, no version"
    );
    assert_eq!(
        ossindex.references,
        ["https://ossindex.sonatype.org/vuln/b7740d41-fc85-4d22-8af5-5a3159e114ea"]
    );

    let cwe = &report.findings[2];
    assert_eq!(
        cwe.rule_id,
        "CWE-400: Uncontrolled Resource Consumption ('Resource Exhaustion')"
    );
    assert_eq!(cwe.severity, Severity::High, "no severity: the v3 score 7.5");
    assert!(cwe.vulnerability_ids.is_empty());
    assert_eq!(cwes(cwe), [400]);
}

#[test]
fn evidence_names_component() {
    let report = parse_fixture("many.xml");
    let jquery = report
        .findings
        .iter()
        .find(|f| f.rule_id == "CVE-2019-11358")
        .expect("jquery");
    let component = jquery.component.as_ref().expect("a component");
    assert_eq!(component.name, "jquery");
    assert_eq!(
        component.version.as_deref(),
        Some("3.1.1"),
        "the most confident version evidence"
    );
    assert_eq!(jquery.severity, Severity::Medium);
    assert_eq!(
        jquery.attributes.get("related_paths").map(String::as_str),
        Some("/srv/ci/storefront/dist/admin.ear/static/jquery.js")
    );
}

#[test]
fn suppressed_vulnerability() {
    let report = parse_fixture("many.xml");
    let suppressed = report
        .findings
        .iter()
        .find(|f| f.rule_id == "CVE-2020-11023")
        .expect("suppressed");
    assert_eq!(suppressed.source_status, Some(SourceStatus::Suppressed));
    assert_eq!(suppressed.severity, Severity::Medium, "no severity: the v3 score 6.9");
    assert_eq!(
        suppressed.attributes.get("notes").map(String::as_str),
        Some("The storefront never passes untrusted HTML to jQuery.")
    );
    let open = report.findings.iter().filter(|f| f.source_status.is_none()).count();
    assert_eq!(open, 5);
}

#[test]
fn schema_one_metrics() {
    let report = parse_fixture("schema1.xml");
    assert_every_finding_has_scope(&report);
    assert_eq!(targets(&report), ["Billing Portal"]);
    let finding = &report.findings[0];
    assert_eq!(finding.severity, Severity::Medium, "Moderate");
    assert_eq!(vectors(finding), ["AV:N/AC:L/Au:N/C:P/I:P/A:P"]);
    assert_eq!(finding.attributes.get("cvss_v2_score").map(String::as_str), Some("7.5"));
    assert_eq!(cwes(finding), [264]);
    let component = finding.component.as_ref().expect("a component");
    assert_eq!(
        (component.name.as_str(), component.version.as_deref()),
        ("xalan:serializer", Some("2.7.1"))
    );
    assert_eq!(
        component.purl.as_ref().map(|p| p.as_str()),
        Some("pkg:maven/xalan/serializer@2.7.1")
    );
}

#[test]
fn missing_project_uses_default_target() {
    let bytes =
        br#"<analysis xmlns="https://jeremylong.github.io/DependencyCheck/dependency-check.2.0.xsd"><dependencies>
        <dependency><fileName>a.jar</fileName><vulnerabilities><vulnerability><name>CVE-2021-0001</name></vulnerability>
        </vulnerabilities></dependency></dependencies></analysis>"#;
    let report = parse("bare.xml", bytes).expect("parses");
    assert_eq!(targets(&report), ["dependency-check-xml:bare.xml"]);
    assert_eq!(report.findings[0].severity, Severity::Info);
    assert_eq!(
        report.findings[0].component.as_ref().map(|c| c.name.as_str()),
        Some("a.jar")
    );
    assert_every_finding_has_scope(&report);
}

#[test]
fn vulnerability_without_name_is_rejected() {
    let bytes = br#"<analysis><dependencies><dependency><fileName>a.jar</fileName><vulnerabilities>
        <vulnerability><severity>HIGH</severity></vulnerability></vulnerabilities></dependency></dependencies></analysis>"#;
    let error = parse("noname.xml", bytes).unwrap_err();
    assert!(
        error.message.contains("dependency a.jar has no <name>"),
        "{}",
        error.message
    );
    assert!(matches!(error.position, Some(Position::Byte(offset)) if offset > 0));
}

#[test]
fn truncated_file_names_position() {
    let bytes = fixture("many.xml");
    let error = parse("cut.xml", &bytes[..bytes.len() / 2]).unwrap_err();
    assert_eq!(error.format, FORMAT);
    assert!(error.message.contains("truncated"), "{}", error.message);
    assert!(matches!(error.position, Some(Position::Byte(offset)) if offset > 0));
}

#[test]
fn invalid_syntax_is_rejected() {
    let error = parse(
        "bad.xml",
        b"<analysis><projectInfo><name>x</nome></projectInfo></analysis>",
    )
    .unwrap_err();
    assert!(error.message.contains("invalid XML"), "{}", error.message);
    assert!(error.position.is_some());
}

#[test]
fn other_format_is_rejected() {
    let error = parse(
        "nessus.xml",
        b"<?xml version=\"1.0\"?><NessusClientData_v2></NessusClientData_v2>",
    )
    .unwrap_err();
    assert!(
        error.message.contains("expected the root element <analysis>"),
        "{}",
        error.message
    );
    assert!(error.message.contains("<NessusClientData_v2>"), "{}", error.message);

    let error = parse("empty.xml", b"<?xml version=\"1.0\"?>").unwrap_err();
    assert!(error.message.contains("no XML element"), "{}", error.message);
}

#[test]
fn unsupported_schema_is_rejected() {
    let bytes =
        br#"<analysis xmlns="https://jeremylong.github.io/DependencyCheck/dependency-check.9.0.xsd"></analysis>"#;
    let error = parse("future.xml", bytes).unwrap_err();
    assert!(
        error.message.contains("unsupported Dependency-Check report schema 9.0"),
        "{}",
        error.message
    );
    assert!(error.message.contains("1.x to 3.x"), "{}", error.message);
}

#[test]
fn billion_laughs_is_not_expanded() {
    let mut bytes = b"<?xml version=\"1.0\"?>\n<!DOCTYPE analysis [\n<!ENTITY lol \"lol\">\n".to_vec();
    for level in 1..10 {
        let previous = if level == 1 {
            "lol".to_string()
        } else {
            format!("lol{}", level - 1)
        };
        let entity = format!("<!ENTITY lol{level} \"{}\">\n", format!("&{previous};").repeat(10));
        bytes.extend(entity.as_bytes());
    }
    bytes.extend(
        br#"]>
<analysis xmlns="https://jeremylong.github.io/DependencyCheck/dependency-check.2.5.xsd"><dependencies>
<dependency><fileName>a.jar</fileName><vulnerabilities><vulnerability><name>CVE-2021-0001</name>
<description>&lol9;</description></vulnerability></vulnerabilities></dependency></dependencies></analysis>"#,
    );
    let started = std::time::Instant::now();
    let report = parse("laughs.xml", &bytes).expect("parses without expanding");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert_eq!(report.findings[0].description.as_deref(), Some("&lol9;"));
}

#[test]
fn deep_nesting_errors() {
    let depth = 100_000;
    let mut bytes = b"<analysis>".to_vec();
    bytes.extend(b"<a>".repeat(depth));
    bytes.extend(b"</a>".repeat(depth));
    bytes.extend(b"</analysis>");
    let error = parse("deep.xml", &bytes).unwrap_err();
    assert!(error.message.contains("nest deeper"), "{}", error.message);
    assert!(error.position.is_some());
}

#[test]
fn invalid_utf8_is_rejected() {
    let bytes = b"<analysis><projectInfo><name>caf\xff\xfe</name></projectInfo></analysis>";
    let error = parse("bytes.xml", bytes).unwrap_err();
    assert!(error.position.is_some(), "{error}");
}

#[test]
fn long_text_is_cut() {
    let description = "v".repeat(4 * 1024 * 1024);
    let bytes = format!(
        "<analysis><dependencies><dependency><fileName>a.jar</fileName><vulnerabilities><vulnerability>\
         <name>CVE-2021-0001</name><description>{description}</description></vulnerability></vulnerabilities>\
         </dependency></dependencies></analysis>"
    );
    let report = parse("long.xml", bytes.as_bytes()).expect("parses");
    let kept = report.findings[0]
        .description
        .as_ref()
        .map(String::len)
        .unwrap_or_default();
    assert!(kept > 0, "the start of the text is kept");
    assert!(kept <= 256 * 1024, "{kept} bytes kept");
}

#[test]
fn large_report_streams() {
    let count = 20_000;
    let mut bytes = b"<analysis xmlns=\"https://jeremylong.github.io/DependencyCheck/dependency-check.2.5.xsd\">\
        <projectInfo><name>big</name></projectInfo><dependencies>"
        .to_vec();
    for index in 0..count {
        let dependency = format!(
            "<dependency><fileName>lib{0}-1.0.jar</fileName><filePath>/srv/big/lib/lib{0}-1.0.jar</filePath>\
             <identifiers><package><id>pkg:maven/org.example/lib{0}@1.0</id></package></identifiers>\
             <vulnerabilities><vulnerability source=\"NVD\"><name>CVE-2024-{1:05}</name><severity>MEDIUM</severity>\
             </vulnerability></vulnerabilities></dependency>",
            index % 100,
            10_000 + index
        );
        bytes.extend(dependency.as_bytes());
    }
    bytes.extend(b"</dependencies></analysis>");
    let report = parse("big.xml", &bytes).expect("parses");
    assert_eq!(report.findings.len(), count);
    assert_eq!(
        report.assets.iter().filter(|a| a.kind == AssetKind::Component).count(),
        100
    );
}

/// DefectDojo counts one finding per vulnerability of a dependency, as
/// ctem does.
fn group_key(finding: &Finding) -> String {
    finding.fingerprint().to_string()
}

#[test]
fn corpus_conformance() {
    let reports = common::check_folder("dependency_check", FORMAT, group_key);
    if reports.is_empty() {
        return;
    }
    let report = |name: &str| &reports.iter().find(|(file, _)| file == name).expect(name).1;

    let pr = &report("PR6439.xml").findings;
    assert_eq!(pr[0].rule_id, "CVE-2015-3208");
    assert_eq!(pr[0].severity, Severity::Critical);
    assert_eq!(pr[0].cvss[0].base_score(), 9.8);
    assert_eq!(pr[0].source_status, Some(SourceStatus::Suppressed));
    assert_eq!(pr[0].attributes.get("source").map(String::as_str), Some("OSSINDEX"));
    assert_eq!(
        pr[0].attributes.get("file_name").map(String::as_str),
        Some("activemq-broker-5.16.5.jar")
    );
    assert!(
        pr[0]
            .attributes
            .get("notes")
            .is_some_and(|notes| notes.starts_with("Ist eine Dependency"))
    );
    let broker = pr[0].component.as_ref().expect("a component");
    assert_eq!(
        (broker.name.as_str(), broker.version.as_deref()),
        ("org.apache.activemq:activemq-broker", Some("5.16.5"))
    );
    assert_eq!(targets(report("PR6439.xml")), ["de.virtimo.bpc:karaf"]);

    let multiple = &report("multiple_vulnerabilities_has_multiple_findings.xml").findings;
    let name_version = |finding: &Finding| {
        let component = finding.component.as_ref().expect("a component");
        format!(
            "{}:{}",
            component.name,
            component.version.as_deref().unwrap_or_default()
        )
    };
    assert_eq!(name_version(&multiple[0]), "org.dom4j:dom4j:2.1.1.redhat-00001");
    assert_eq!(multiple[0].rule_id, "CVE-0000-0001");
    assert_eq!(multiple[0].severity, Severity::High);
    assert_eq!(
        multiple[0].attributes.get("file_name").map(String::as_str),
        Some("adapter-ear1.ear: dom4j-2.1.1.jar")
    );
    assert_eq!(
        (multiple[1].rule_id.as_str(), multiple[1].severity),
        ("1500", Severity::Low)
    );
    assert_eq!(name_version(&multiple[1]), "yargs-parser:5.0.0");
    assert_eq!(multiple[2].rule_id, "CVE-2020-7608");
    assert_eq!(multiple[2].severity, Severity::High);
    assert_eq!(vectors(&multiple[2]), ["CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N"]);
    assert_eq!(
        multiple[3].rule_id,
        "CWE-400: Uncontrolled Resource Consumption ('Resource Exhaustion')"
    );
    assert_eq!(multiple[3].severity, Severity::High);
    assert_eq!(name_version(&multiple[5]), "dom4j:2.1.1");
    assert_eq!(name_version(&multiple[6]), "jquery:3.1.1");
    assert_eq!(multiple[6].severity, Severity::High);
    for suppressed in &multiple[7..9] {
        assert_eq!(suppressed.source_status, Some(SourceStatus::Suppressed));
        assert_eq!(suppressed.severity, Severity::Critical);
    }
    assert_eq!(multiple[7].attributes.get("notes"), None);
    assert_eq!(
        multiple[8].attributes.get("notes").map(String::as_str),
        Some("This is our reason for not to upgrade it.")
    );

    let single = &report("single_vuln.xml").findings[0];
    assert_eq!(single.rule_id, "CVE-0000-0001");
    assert_eq!(single.severity, Severity::Medium);
    assert_eq!(name_version(single), "org.owasp:library:6.7.8");
    assert!(!vectors(single).iter().any(|v| v.starts_with("CVSS:3")), "no cvssV3");

    let log4j = &report("version-6.5.3.xml").findings[0];
    assert_eq!(name_version(log4j), "org.apache.logging.log4j:log4j-api:2.12.4");
    assert_eq!(log4j.severity, Severity::Low);
    assert!(vectors(log4j).contains(&"CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:N/A:N".to_string()));
    assert_eq!(
        log4j.attributes.get("file_name").map(String::as_str),
        Some("log4j-api-2.12.4.jar")
    );

    let multi_cwe = &report("version-6.5.3_multi_cwe_fabricated.xml").findings[0];
    assert_eq!(cwes(multi_cwe), [295, 297]);
    for (_, parsed) in &reports {
        assert_every_finding_has_scope(parsed);
    }
}

#[test]
fn corpus_detection() {
    common::check_detection("dependency_check", FORMAT, |_| true);
}

/// Checks that detection picks this format for every corpus file of its
/// folders and for no file of the other folders.
#[test]
fn corpus_detection_is_exclusive() {
    let Some(corpus) = common::corpus_dir() else {
        return;
    };
    let ours = ["dependency_check"];
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
