//! Tests of the Snyk JSON parser: fixtures, snapshots, hostile
//! input and the shared corpus.

mod common;

use ctem_ingest::{Detection, ParseError, ParsedReport, Position, detect, find, parse_bytes};
use ctem_model::{AssetKind, Finding, FindingKind, RelationshipKind, Severity};
use serde_json::json;

const FORMAT: &str = "snyk-json";

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
        report.targets.iter().all(|(tool, _)| tool == "snyk"),
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

#[test]
fn detects_fixtures() {
    let parser = find(FORMAT).expect("registered");
    for name in ["empty.json", "one.json", "many.json", "container.json"] {
        assert_eq!(parser.detect(&fixture(name)), Detection::Certain, "{name}");
    }
    assert_eq!(parser.detect(&fixture("error.json")), Detection::Maybe);
    assert_eq!(parser.detect(b"{\"vulnerabilities\": []}"), Detection::No);
    assert_eq!(
        parser.detect(b"{\"matches\": [], \"packageManager\": 1}"),
        Detection::No
    );
}

#[test]
fn empty_report_declares_project() {
    let report = parse_fixture("empty.json");
    assert!(report.findings.is_empty());
    assert_eq!(targets(&report), ["/home/ci/ledger/pom.xml"]);
    assert_eq!(report.assets.len(), 1);
    assert_eq!(report.assets[0].kind, AssetKind::Repository);
    assert_eq!(report.assets[0].key.as_str(), "repository:/home/ci/ledger");
    assert_eq!(
        report.assets[0].attributes.get("project").map(String::as_str),
        Some("com.acme:ledger")
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
    assert_eq!(report.findings.len(), 5);
    assert_every_finding_has_scope(&report);
    insta::assert_json_snapshot!("many", normalized(&report));
}

#[test]
fn vulnerability_fields() {
    let report = parse_fixture("one.json");
    let finding = &report.findings[0];
    assert_eq!(finding.rule_id, "SNYK-JAVA-ORGAPACHESANTUARIO-460281");
    assert_eq!(
        finding.title,
        "XML External Entity (XXE) Injection in org.apache.santuario:xmlsec 2.1.1"
    );
    assert_eq!(finding.severity, Severity::Medium);
    assert_eq!(ids(finding), ["SNYK-JAVA-ORGAPACHESANTUARIO-460281", "CVE-2019-12400"]);
    assert_eq!(cwes(finding), [611]);
    assert_eq!(
        finding.cvss[0].to_string(),
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:L"
    );
    assert_eq!(finding.fix.fixed_versions, ["2.1.4"]);
    assert_eq!(
        finding.fix.description.as_deref(),
        Some("Upgrade to org.apache.santuario:xmlsec@2.1.4.")
    );
    assert_eq!(finding.location.path.as_deref(), Some("pom.xml"));
    assert_eq!(
        finding.tool_fingerprint.as_deref(),
        Some("com.acme:ledger > org.apache.santuario:xmlsec")
    );
    assert_eq!(
        finding.attributes.get("dependency_path").map(String::as_str),
        Some("com.acme:ledger@3.2.0 > org.apache.santuario:xmlsec@2.1.1")
    );
    assert_eq!(finding.attributes.get("cvss_score").map(String::as_str), Some("6.5"));
    assert_eq!(targets(&report), ["C:/ci/ledger/pom.xml"], "Windows paths use slashes");
    let component = finding.component.as_ref().expect("a component");
    assert_eq!(
        component.purl.as_ref().map(|p| p.as_str()),
        Some("pkg:maven/org.apache.santuario/xmlsec@2.1.1")
    );
    assert_eq!(report.relationships[0].kind, RelationshipKind::Contains);
}

#[test]
fn each_dependency_path_is_a_finding() {
    let report = parse_fixture("many.json");
    let lodash: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.rule_id == "SNYK-JS-LODASH-1040724")
        .collect();
    assert_eq!(lodash.len(), 2);
    assert_ne!(lodash[0].fingerprint(), lodash[1].fingerprint());
    assert_eq!(
        lodash[0].tool_fingerprint.as_deref(),
        Some("storefront > @angular/localize > @babel/core > lodash")
    );
    assert_eq!(
        lodash[1].fix.description.as_deref(),
        Some("Upgrade webpack-dev-server@4.0.0, which brings lodash@4.17.21.")
    );
    assert_eq!(
        ids(lodash[0]),
        ["SNYK-JS-LODASH-1040724", "CVE-2021-23337", "GHSA-35jh-r3h4-6jhm"]
    );
    assert_eq!(lodash[0].attributes.get("epss").map(String::as_str), Some("0.45121"));
    assert_eq!(
        lodash[0].attributes.get("exploit").map(String::as_str),
        Some("Proof of Concept")
    );
    assert_eq!(lodash[0].location.path.as_deref(), Some("web/package-lock.json"));
    let components = report.assets.iter().filter(|a| a.name == "lodash").count();
    assert_eq!(components, 1);
}

#[test]
fn numeric_ids_and_licenses() {
    let report = parse_fixture("many.json");
    let yargs = report
        .findings
        .iter()
        .find(|f| f.rule_id == "SNYK-JS-YARGSPARSER-560381")
        .expect("yargs");
    assert_eq!(ids(yargs), ["SNYK-JS-YARGSPARSER-560381", "CVE-2020-7608", "NSP-1500"]);
    assert_eq!(
        yargs.fix.description.as_deref(),
        Some("Apply the Snyk patch (`snyk protect`).")
    );

    let license = report
        .findings
        .iter()
        .find(|f| f.kind == FindingKind::License)
        .expect("a license issue");
    assert_eq!(license.rule_id, "snyk:lic:npm:tinymce:LGPL-2.1");
    assert!(license.vulnerability_ids.is_empty(), "a license is no vulnerability");
    assert_eq!(license.title, "LGPL-2.1 license in tinymce 5.0.4");
}

#[test]
fn all_projects_have_own_targets() {
    let report = parse_fixture("many.json");
    assert_eq!(
        targets(&report),
        [
            "C:/ci/shop/api/obj/project.assets.json",
            "C:/ci/shop/reports/requirements.txt",
            "C:/ci/shop/web/package-lock.json"
        ]
    );
    let repositories = report.assets.iter().filter(|a| a.kind == AssetKind::Repository).count();
    assert_eq!(repositories, 1, "the projects share one folder");
}

#[test]
fn container_with_applications() {
    let report = parse_fixture("container.json");
    assert_every_finding_has_scope(&report);
    assert_eq!(targets(&report), ["registry.example.test/shop/web"]);
    assert_eq!(report.findings.len(), 2);
    let image = report
        .assets
        .iter()
        .find(|a| a.kind == AssetKind::ContainerImage)
        .expect("an image");
    assert!(report.findings.iter().all(|f| f.asset == image.key));

    let openssl = &report.findings[0];
    assert_eq!(openssl.severity, Severity::Low, "Snyk's word wins over the score");
    assert_eq!(openssl.location.path, None);
    assert_eq!(
        openssl.component.as_ref().and_then(|c| c.purl.as_ref()),
        None,
        "no purl type for debian"
    );
    assert_eq!(ids(openssl), ["SNYK-DEBIAN12-OPENSSL-5788364", "CVE-2023-3446"]);

    let jwt = &report.findings[1];
    assert_eq!(jwt.location.path.as_deref(), Some("/srv/web/package.json"));
    assert_eq!(jwt.severity, Severity::High);
}

#[test]
fn error_report_is_rejected() {
    let error = parse("error.json", &fixture("error.json")).unwrap_err();
    assert!(
        error.message.contains("Snyk CLI reported an error"),
        "{}",
        error.message
    );
    assert!(
        error.message.contains("Could not detect supported target files"),
        "{}",
        error.message
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
    let error = parse("bad.json", b"{\"vulnerabilities\": [{\"id\": }]}").unwrap_err();
    assert!(
        matches!(error.position, Some(Position::LineColumn { line: 1, .. })),
        "{error}"
    );
}

#[test]
fn other_format_is_rejected() {
    let error = parse("grype.json", br#"{"matches": [], "source": {}}"#).unwrap_err();
    assert!(error.message.contains("expected a project object"), "{}", error.message);
    assert!(error.message.contains("matches, source"), "{}", error.message);

    let error = parse("number.json", b"42").unwrap_err();
    assert!(error.message.contains("Snyk JSON report"), "{}", error.message);
}

#[test]
fn vulnerability_without_id_is_rejected() {
    let error = parse(
        "noid.json",
        br#"{"vulnerabilities": [{"packageName": "x"}], "path": "/srv"}"#,
    )
    .unwrap_err();
    assert!(error.message.contains("has no id"), "{}", error.message);
    assert!(error.position.is_some());
}

#[test]
fn invalid_utf8_is_rejected() {
    let error = parse("bytes.json", b"{\"vulnerabilities\": [], \"path\": \"/srv\xff\xfe\"}").unwrap_err();
    assert!(error.position.is_some(), "{error}");
}

#[test]
fn deep_nesting_errors() {
    let depth = 100_000;
    let mut bytes = b"[{\"vulnerabilities\": ".to_vec();
    bytes.extend(std::iter::repeat_n(b'[', depth));
    bytes.extend(std::iter::repeat_n(b']', depth));
    bytes.extend(b"}]");
    let error = parse("deep.json", &bytes).unwrap_err();
    assert!(error.position.is_some(), "{error}");
}

#[test]
fn long_line_parses() {
    let description = "z".repeat(4 * 1024 * 1024);
    let bytes = format!(
        r#"{{"vulnerabilities": [{{"id": "SNYK-JS-A-1", "packageName": "a", "version": "1.0", "description": "{description}"}}], "path": "/srv"}}"#
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
    let mut bytes = b"{\"vulnerabilities\": [".to_vec();
    for index in 0..count {
        if index > 0 {
            bytes.push(b',');
        }
        let record = format!(
            r#"{{"id": "SNYK-JS-LIB{}-{}", "title": "Prototype Pollution", "severity": "medium", "packageManager": "npm",
               "packageName": "lib{}", "version": "1.0.0", "from": ["big@1.0.0", "lib{}@1.0.0"], "upgradePath": []}}"#,
            index % 100,
            index,
            index % 100,
            index % 100
        );
        bytes.extend(record.as_bytes());
    }
    bytes.extend(br#"], "ok": false, "packageManager": "npm", "projectName": "big", "displayTargetFile": "package-lock.json", "path": "/srv/big"}"#);
    let report = parse("big.json", &bytes).expect("parses");
    assert_eq!(report.findings.len(), count);
    assert_eq!(
        report.assets.iter().filter(|a| a.kind == AssetKind::Component).count(),
        100
    );
}

/// DefectDojo counts one finding per vulnerability and dependency path,
/// as ctem does.
fn group_key(finding: &Finding) -> String {
    format!(
        "{}|{}",
        finding.fingerprint(),
        finding.target.as_deref().unwrap_or_default()
    )
}

/// The container report whose applications DefectDojo does not read: its
/// expected count is that of the image's own vulnerabilities, checked in
/// `corpus_conformance`.
const CONTAINER_WITH_APPLICATIONS: &str = "snykcontainer_issue_epss.json";

#[test]
fn corpus_conformance() {
    let reports = common::check_folder_where("snyk", FORMAT, group_key, |file| file != CONTAINER_WITH_APPLICATIONS);
    if reports.is_empty() {
        return;
    }
    let report = |name: &str| &reports.iter().find(|(file, _)| file == name).expect(name).1;

    let one = &report("single_project_one_vuln.json").findings[0];
    assert_eq!(one.rule_id, "SNYK-JAVA-ORGAPACHESANTUARIO-460281");
    assert_eq!(one.severity, Severity::Medium);
    assert_eq!(ids(one), ["SNYK-JAVA-ORGAPACHESANTUARIO-460281", "CVE-2019-12400"]);
    assert_eq!(cwes(one), [611]);
    assert_eq!(one.cvss[0].to_string(), "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:L");
    assert_eq!(one.fix.fixed_versions, ["2.1.4"]);
    assert_eq!(
        one.tool_fingerprint.as_deref(),
        Some("com.test:myframework > org.apache.santuario:xmlsec")
    );

    let ampersands = &report("single_project_one_vuln_with_ampersands.json").findings[0];
    assert_eq!(
        ampersands.tool_fingerprint.as_deref(),
        Some("myproject > @angular/localize > @babel/core > lodash")
    );

    let containers = &report("all_containers_target_output.json").findings;
    assert_eq!(containers[0].severity, Severity::Critical);
    assert_eq!(
        containers[0].location.path.as_deref(),
        Some("Mobile-Security-Framework-MobSF/requirements.txt")
    );
    let numpy = containers
        .iter()
        .find(|f| f.rule_id == "SNYK-PYTHON-NUMPY-2321966")
        .expect("numpy");
    assert_eq!(cwes(numpy), [119, 120]);
    let numpy = containers
        .iter()
        .find(|f| f.rule_id == "SNYK-PYTHON-NUMPY-2321970")
        .expect("numpy");
    assert_eq!(cwes(numpy), [400, 1023]);

    let issue = &report("all_projects_issue4277.json").findings;
    assert_eq!(issue[0].severity, Severity::High);
    assert_eq!(issue[0].rule_id, "SNYK-DOTNET-MICROSOFTASPNETCORE-174184");
    assert_eq!(ids(&issue[0])[1], "CVE-2019-0815");
    assert_eq!(cwes(&issue[0]), [200]);
    let aspnet = issue[0].component.as_ref().expect("a component");
    assert_eq!(
        (aspnet.name.as_str(), aspnet.version.as_deref()),
        ("Microsoft.AspNetCore", Some("2.2.0"))
    );
    assert_eq!(issue[40].rule_id, "SNYK-JS-LODASH-1040724");
    assert_eq!(issue[40].severity, Severity::High);
    assert_eq!(cwes(&issue[40]), [78]);
    assert_eq!(
        issue[40].cvss[0].to_string(),
        "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H/E:P/RL:U/RC:C"
    );
    assert_eq!(issue[81].rule_id, "SNYK-JS-YARGSPARSER-560381");
    assert_eq!(issue[81].severity, Severity::Medium);
    assert_eq!(cwes(&issue[81]), [400]);

    let upgrades = &report("single_project_upgrade_libs.json").findings;
    assert_eq!(upgrades[227].severity, Severity::High);
    assert_eq!(upgrades[227].location.path.as_deref(), Some("package-lock.json"));
    let advice = upgrades[227].fix.description.as_deref().unwrap_or_default();
    assert!(advice.contains("react-scripts@5.0.0"), "{advice}");
    assert_eq!(
        upgrades[227].component.as_ref().and_then(|c| c.version.as_deref()),
        Some("1.7.2")
    );
    for (_, parsed) in &reports {
        assert_every_finding_has_scope(parsed);
    }
}

#[test]
fn corpus_container_applications() {
    let Some(corpus) = common::corpus_dir() else {
        return;
    };
    let path = corpus.join("snyk").join(CONTAINER_WITH_APPLICATIONS);
    let report = common::parse_file(FORMAT, &path).expect("parses");
    assert_every_finding_has_scope(&report);
    let image_findings: Vec<&Finding> = report.findings.iter().filter(|f| f.location.path.is_none()).collect();
    assert_eq!(image_findings.len(), 1, "the count DefectDojo asserts");
    assert_eq!(report.findings.len(), 13, "and the 12 of the juice-shop application");
    let gcc = image_findings[0];
    assert_eq!(gcc.title, "CVE-2023-4039 in gcc-10 10.2.1-6");
    assert_eq!(gcc.attributes.get("epss").map(String::as_str), Some("0.00046"));
    assert_eq!(
        gcc.attributes.get("epss_percentile").map(String::as_str),
        Some("0.14414")
    );
    assert_eq!(targets(&report), ["sarim04/juiceshop"]);
}

#[test]
fn corpus_detection() {
    common::check_detection("snyk", FORMAT, |_| true);
}

/// Checks that detection picks this format for every corpus file of its
/// folders and for no file of the other folders.
#[test]
fn corpus_detection_is_exclusive() {
    let Some(corpus) = common::corpus_dir() else {
        return;
    };
    let ours = ["snyk"];
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
