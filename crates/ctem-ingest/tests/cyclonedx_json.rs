//! Tests of the CycloneDX JSON parser: fixtures, hostile input and the
//! shared corpus.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use ctem_ingest::{Detection, ParseError, ParsedReport, Position, find, parse_bytes};
use ctem_model::{AssetKind, Cwe, Finding, FindingKind, RelationshipKind, Severity, SourceStatus, VexStatus};
use serde_json::json;

const FORMAT: &str = "cyclonedx-json";

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

#[test]
fn empty_bom_declares_scope() {
    let report = parse_fixture("empty.json");
    assert!(report.findings.is_empty());
    assert_eq!(scopes(&report), [("trivy", "acme/storefront")]);
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
    assert_eq!(report.findings.len(), 4);
    insta::assert_json_snapshot!("many", normalized(&report));
}

#[test]
fn vulnerability_fields_map() {
    let report = parse_fixture("one.json");
    let finding = &report.findings[0];
    assert_eq!(finding.tool, "grype");
    assert_eq!(finding.rule_id, "CVE-2021-44228");
    assert_eq!(finding.kind, FindingKind::Vulnerability);
    assert_eq!(finding.title, "CVE-2021-44228 in log4j-core 2.14.1");
    assert_eq!(finding.severity, Severity::Critical);
    assert_eq!(ids(finding), ["CVE-2021-44228", "GHSA-jfh8-c2jp-5v3q"]);
    assert_eq!(finding.cwes, [Cwe(502), Cwe(400), Cwe(20)]);
    let vectors: Vec<String> = finding.cvss.iter().map(|v| v.to_string()).collect();
    assert_eq!(
        vectors,
        [
            "AV:N/AC:M/Au:N/C:C/I:C/A:C",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"
        ]
    );
    let component = finding.component.as_ref().expect("component");
    assert_eq!(component.name, "log4j-core");
    assert_eq!(component.version.as_deref(), Some("2.14.1"));
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
}

#[test]
fn container_subject_contains_components() {
    let report = parse_fixture("one.json");
    let image = &report.assets[0];
    assert_eq!(image.kind, AssetKind::ContainerImage);
    assert_eq!(scopes(&report), [("grype", "registry.shop.example/acme/billing:2.3.1")]);
    assert_eq!(report.findings[0].asset, image.key);
    assert_eq!(report.relationships.len(), 1);
    assert_eq!(report.relationships[0].kind, RelationshipKind::Contains);
    assert_eq!(report.relationships[0].from, image.key);
    assert_eq!(
        report.relationships[0].to.as_str(),
        "component:pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"
    );
}

#[test]
fn nested_components_resolve() {
    let report = parse_fixture("many.json");
    let qs = report
        .findings
        .iter()
        .find(|f| f.rule_id == "CVE-2022-24999")
        .expect("qs finding");
    assert_eq!(qs.title, "CVE-2022-24999 in qs 6.7.0");
    assert_eq!(qs.severity, Severity::High, "highest of high and medium");
    let express = "component:pkg:npm/express@4.17.1";
    assert!(
        report
            .relationships
            .iter()
            .any(|r| r.from.as_str() == express && r.to.as_str() == "component:pkg:npm/qs@6.7.0"),
        "express contains qs"
    );
    assert_eq!(report.assets.len(), 5, "subject and four components");
}

#[test]
fn one_finding_per_affected_ref() {
    let report = parse_fixture("many.json");
    let jquery: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.rule_id == "CVE-2019-11358")
        .collect();
    assert_eq!(jquery.len(), 2);
    assert_ne!(jquery[0].fingerprint(), jquery[1].fingerprint());
    assert_eq!(jquery[0].severity, Severity::Medium, "from the CVSS v3 score 6.1");
    let vectors: Vec<String> = jquery[0].cvss.iter().map(|v| v.to_string()).collect();
    assert_eq!(
        vectors,
        [
            "AV:N/AC:M/Au:N/C:N/I:P/A:N",
            "CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N"
        ]
    );
}

#[test]
fn analysis_states_map() {
    let report = parse_fixture("many.json");
    let jquery = report
        .findings
        .iter()
        .find(|f| f.rule_id == "CVE-2019-11358")
        .expect("jquery");
    assert_eq!(jquery.source_status, Some(SourceStatus::NotAffected));
    assert_eq!(
        jquery.attributes.get("analysis_justification").map(String::as_str),
        Some("code_not_reachable")
    );
    assert_eq!(
        jquery.attributes.get("analysis_response").map(String::as_str),
        Some("will_not_fix")
    );
    let internal = report
        .findings
        .iter()
        .find(|f| f.rule_id == "ACME-2024-0007")
        .expect("internal");
    assert_eq!(internal.source_status, Some(SourceStatus::UnderInvestigation));
    assert_eq!(internal.severity, Severity::Low);
    assert_eq!(ids(internal), ["ACME-2024-0007"]);
}

#[test]
fn missing_affects_uses_subject() {
    let report = parse_fixture("no_affects.json");
    assert_eq!(report.findings.len(), 2);
    let http2 = &report.findings[0];
    assert_eq!(http2.title, "CVE-2023-44487");
    assert_eq!(http2.component, None);
    assert_eq!(http2.severity, Severity::High, "from the vector");
    assert_eq!(http2.asset.as_str(), "other:cyclonedx-json:no_affects.json");
    let xz = &report.findings[1];
    assert_eq!(
        xz.attributes.get("affects_ref").map(String::as_str),
        Some("pkg:deb/debian/xz-utils@5.6.0")
    );
    assert_eq!(scopes(&report), [("cyclonedx", "cyclonedx-json:no_affects.json")]);
}

#[test]
fn late_metadata_is_held() {
    let report = parse_fixture("late_metadata.json");
    assert_eq!(scopes(&report), [("cyclonedx", "@acme/widgets")]);
    let finding = &report.findings[0];
    assert_eq!(finding.title, "GHSA-29mw-wpgm-hmr9 in lodash 4.17.20");
    assert_eq!(finding.severity, Severity::Medium);
    assert_eq!(finding.asset.as_str(), "component:@acme/widgets");
    assert_eq!(report.relationships.len(), 1);
}

#[test]
fn fixtures_are_detected() {
    let parser = find(FORMAT).expect("registered");
    for name in [
        "empty.json",
        "one.json",
        "many.json",
        "no_affects.json",
        "late_metadata.json",
    ] {
        assert_eq!(parser.detect(&fixture(name)), Detection::Certain, "{name}");
        assert_eq!(
            ctem_ingest::detect(&fixture(name)).map(|p| p.info().id),
            Some(FORMAT),
            "{name}"
        );
    }
    assert_eq!(parser.detect(br#"{"spdxVersion": "SPDX-2.3"}"#), Detection::No);
}

#[test]
fn other_format_is_rejected() {
    let error = parse("spdx.json", br#"{"bomFormat": "SPDX", "specVersion": "1.4"}"#).unwrap_err();
    assert!(
        error.message.contains("unsupported bomFormat \"SPDX\""),
        "{}",
        error.message
    );
    let error = parse("sarif.json", br#"{"version": "2.1.0", "runs": []}"#).unwrap_err();
    assert!(error.message.contains("missing \"bomFormat\""), "{}", error.message);
}

#[test]
fn unsupported_version_is_rejected() {
    for version in ["1.1", "2.0", "one"] {
        let text = format!(r#"{{"bomFormat": "CycloneDX", "specVersion": "{version}"}}"#);
        let error = parse("old.json", text.as_bytes()).unwrap_err();
        assert!(
            error
                .message
                .contains(&format!("unsupported CycloneDX specVersion \"{version}\"")),
            "{}",
            error.message
        );
    }
    let newest = parse("new.json", br#"{"bomFormat": "CycloneDX", "specVersion": "1.7"}"#);
    assert!(newest.is_ok(), "1.7 is read");
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
    let error = parse("bad.json", b"{\"bomFormat\": \"CycloneDX\" \"specVersion\": \"1.5\"}").unwrap_err();
    assert_eq!(error.position, Some(Position::LineColumn { line: 1, column: 27 }));
}

#[test]
fn deep_nesting_errors() {
    let depth = 10_000;
    let mut text = String::from(r#"{"bomFormat": "CycloneDX", "specVersion": "1.5", "components": ["#);
    text.push_str(&r#"{"name": "n", "components": ["#.repeat(depth));
    text.push_str(&"]}".repeat(depth));
    text.push_str("]}");
    let error = parse("deep.json", text.as_bytes()).unwrap_err();
    assert!(error.message.contains("recursion limit"), "{}", error.message);
    assert!(error.position.is_some(), "{error}");
}

#[test]
fn large_bom_parses() {
    let count = 20_000;
    let mut text = String::from(
        r#"{"bomFormat": "CycloneDX", "specVersion": "1.6", "metadata": {"component": {"type": "container", "name": "big:1"}}, "components": ["#,
    );
    for i in 0..count {
        if i > 0 {
            text.push(',');
        }
        text.push_str(&format!(
            r#"{{"bom-ref": "c{i}", "type": "library", "name": "pkg{i}", "version": "1.0.{i}", "purl": "pkg:npm/pkg{i}@1.0.{i}"}}"#
        ));
    }
    text.push_str(r#"], "vulnerabilities": ["#);
    for i in 0..count {
        if i > 0 {
            text.push(',');
        }
        text.push_str(&format!(
            r#"{{"id": "CVE-2024-{:05}", "ratings": [{{"severity": "high"}}], "affects": [{{"ref": "c{i}"}}]}}"#,
            10_000 + i
        ));
    }
    text.push_str("]}");
    let report = parse("large.json", text.as_bytes()).unwrap();
    assert_eq!(report.findings.len(), count);
    assert_eq!(report.assets.len(), count + 1);
    assert_eq!(report.relationships.len(), count);
    assert!(report.findings.iter().all(|f| f.component.is_some()));
    let fingerprints: BTreeSet<_> = report.findings.iter().map(Finding::fingerprint).collect();
    assert_eq!(fingerprints.len(), count);
}

fn is_json(file: &str) -> bool {
    !file.ends_with(".xml")
}

/// Returns the finding's fingerprint as its group: DefectDojo gives one
/// finding per (vulnerability, affected component), as ctem does.
fn group_key(finding: &Finding) -> String {
    finding.fingerprint().to_string()
}

fn corpus_report<'r>(reports: &'r [(String, ParsedReport)], name: &str) -> &'r ParsedReport {
    &reports
        .iter()
        .find(|(file, _)| file == name)
        .unwrap_or_else(|| panic!("{name} parsed"))
        .1
}

#[test]
fn corpus_conformance() {
    let reports = common::check_folder_where("cyclonedx", FORMAT, group_key, is_json);
    common::check_detection("cyclonedx", FORMAT, is_json);
    let Some(corpus) = common::corpus_dir() else {
        return;
    };

    let log4j = corpus_report(&reports, "log4j.json");
    let first = &log4j.findings[0];
    assert_eq!(first.title, "CVE-2021-44228 in log4j-core 2.13.2");
    assert_eq!(first.severity, Severity::Critical);
    assert!(
        first
            .cvss
            .iter()
            .any(|v| v.to_string() == "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H")
    );
    assert_eq!(first.tool, "grype");

    let nested = corpus_report(&reports, "nested-component-log4j.json");
    let first = &nested.findings[0];
    assert_eq!(first.component.as_ref().map(|c| c.name.as_str()), Some("log4j-core"));
    assert_eq!(
        first.component.as_ref().and_then(|c| c.version.as_deref()),
        Some("2.13.2")
    );
    assert_eq!(first.severity, Severity::Critical);

    let no_severity = corpus_report(&reports, "no-severity.json");
    assert_eq!(no_severity.findings[0].title, "CVE-2021-44228");
    assert_eq!(no_severity.findings[0].severity, Severity::Critical);

    let valid = corpus_report(&reports, "valid-vulnerability-1.4.json");
    let finding = &valid.findings[0];
    assert_eq!(
        ids(finding),
        ["SNYK-JAVA-COMFASTERXMLJACKSONCORE-32111", "CVE-2018-7489"]
    );
    assert_eq!(finding.cwes, [Cwe(184), Cwe(502)]);
    assert_eq!(finding.severity, Severity::Critical);
    assert_eq!(
        finding.component.as_ref().and_then(|c| c.version.as_deref()),
        Some("2.9.4")
    );
    assert_eq!(finding.source_status, Some(SourceStatus::NotAffected));

    let trivy = corpus_report(&reports, "issue_9277.json");
    assert!(trivy.findings.iter().all(|f| f.tool == "trivy"));
    assert_eq!(scopes(trivy), [("trivy", "ubuntu:latest")]);
    assert_eq!(trivy.assets[0].kind, AssetKind::ContainerImage);

    // Files without expected counts: structural checks.
    for (file, components, vulnerabilities) in [
        ("bom-examples__juice-shop_via_npm_bare_bom.1.4.json", 1115, 0),
        ("trivy_fluentd-multiple-lockfiles.cdx.json.golden", 161, 0),
        ("trivy_npm-cyclonedx.json.golden", 13, 1),
        ("trivy_pom-cyclonedx.json.golden", 3, 2),
        ("bom-examples__CBOM_Protocol_bom.1.6.json", 8, 0),
    ] {
        let report =
            common::parse_file(FORMAT, &corpus.join("cyclonedx").join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        let component_assets = report.assets.iter().filter(|a| a.kind == AssetKind::Component).count();
        assert!(
            component_assets <= components,
            "{file}: {component_assets} component assets"
        );
        assert_eq!(
            report.relationships.len(),
            components,
            "{file}: one Contains edge per component"
        );
        let vulnerability_ids: BTreeSet<&str> = report.findings.iter().map(|f| f.rule_id.as_str()).collect();
        assert_eq!(vulnerability_ids.len(), vulnerabilities, "{file}: vulnerabilities");
    }
}

/// Reads the `cyclonedx_vex` rows of `STRUCTURAL_FACTS.tsv`: each file's
/// number of vulnerabilities and of analysis states, such as
/// `vulnerabilities=2; analysis.state={'exploitable': 1, 'not_affected': 1}`.
fn vex_facts(corpus: &std::path::Path) -> Vec<(String, usize, BTreeMap<String, usize>)> {
    let table = std::fs::read_to_string(corpus.join("STRUCTURAL_FACTS.tsv")).expect("STRUCTURAL_FACTS.tsv");
    let mut rows = Vec::new();
    for line in table.lines() {
        let columns: Vec<&str> = line.split('\t').collect();
        if columns.len() < 3 || columns[0] != "cyclonedx_vex" {
            continue;
        }
        let facts = columns[2];
        let start = facts.find("vulnerabilities=").expect("vulnerabilities") + "vulnerabilities=".len();
        let count: String = facts[start..].chars().take_while(char::is_ascii_digit).collect();
        let states_start = facts.find("analysis.state={").expect("states") + "analysis.state={".len();
        let states_end = states_start + facts[states_start..].find('}').expect("}");
        let states = facts[states_start..states_end]
            .split(',')
            .filter_map(|pair| pair.split_once(':'))
            .map(|(state, n)| {
                (
                    state.trim().trim_matches('\'').to_string(),
                    n.trim().parse().expect("a count"),
                )
            })
            .collect();
        rows.push((columns[1].to_string(), count.parse().expect("a count"), states));
    }
    rows
}

#[test]
fn vex_document_gives_statements() {
    let report = parse_fixture("vex.json");
    assert!(report.findings.is_empty(), "{:?}", report.findings);
    assert!(report.targets.is_empty(), "a VEX document covers no scope");
    assert!(report.assets.is_empty(), "a VEX document describes no asset of a scan");
    assert_eq!(report.vex.len(), 5);
    insta::assert_json_snapshot!("vex", json!({"vex": report.vex}));
}

#[test]
fn vex_statement_fields_map() {
    let report = parse_fixture("vex.json");
    let [log4shell, text4shell, openssl, xz, triage] = &report.vex[..] else {
        panic!("five statements")
    };

    let ids: Vec<&str> = log4shell.vulnerability_ids().map(|id| id.as_str()).collect();
    assert_eq!(ids, ["CVE-2021-44228", "GHSA-jfh8-c2jp-5v3q"]);
    assert_eq!(
        log4shell.products()[0].id.to_string(),
        "storefront 4.2",
        "the subject by its bom-ref"
    );
    assert_eq!(log4shell.justification(), Some("vulnerable_code_not_in_execute_path"));
    assert_eq!(
        log4shell.status_notes(),
        Some("CycloneDX justification: code_not_reachable\nResponses: will_not_fix")
    );
    assert!(log4shell.impact_statement().unwrap().contains("lookup pattern"));
    assert_eq!(
        log4shell.timestamp(),
        Some("2026-03-01T10:00:00Z"),
        "analysis.lastUpdated"
    );
    assert_eq!(
        log4shell.source().document_id.as_deref(),
        Some("urn:uuid:7d0f5c0e-4b8e-4d55-9b8e-0a6f3c2d1e10")
    );
    assert_eq!(log4shell.source().author.as_deref(), Some("Acme Product Security"));

    assert_eq!(text4shell.status(), VexStatus::Affected);
    assert_eq!(text4shell.action_statement(), Some("Upgrade commons-text to 1.10.0."));
    assert_eq!(
        text4shell.status_notes(),
        Some("Text interpolation reaches user input.")
    );
    assert_eq!(
        text4shell.products()[0].id.to_string(),
        "pkg:maven/org.apache.commons/commons-text@1.9"
    );
    assert_eq!(
        text4shell.timestamp(),
        Some("2026-03-02T09:00:00Z"),
        "metadata.timestamp"
    );

    assert_eq!(openssl.status(), VexStatus::NotAffected);
    assert_eq!(openssl.justification(), Some("false_positive"));

    assert_eq!(xz.status(), VexStatus::Fixed);
    let versions: Vec<(String, Option<&str>)> = xz
        .products()
        .iter()
        .map(|p| (p.id.to_string(), p.version_range.as_deref()))
        .collect();
    assert_eq!(
        versions,
        [
            ("storefront 4.1".to_string(), None),
            ("storefront".to_string(), Some("vers:generic/>=3.0|<4.0"))
        ]
    );

    assert_eq!(triage.status(), VexStatus::UnderInvestigation);
    assert!(matches!(
        triage.products()[0].id,
        ctem_model::ProductId::Reference { .. }
    ));
}

#[test]
fn mixed_document_keeps_findings() {
    let report = parse_fixture("vex_mixed.json");
    assert_eq!(report.findings.len(), 1, "the ref to a component of the document");
    assert_eq!(report.findings[0].source_status, Some(SourceStatus::NotAffected));
    assert_eq!(report.vex.len(), 1, "the BOM-link");
    assert_eq!(
        report.vex[0].products()[0].id.to_string(),
        "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"
    );
    assert_eq!(scopes(&report), [("trivy", "registry.acme.example/storefront")]);
    assert_eq!(
        report.assets[0].kind,
        AssetKind::ContainerImage,
        "the subject comes first"
    );
}

/// Returns the CycloneDX analysis state that a VEX status comes from.
fn analysis_state(status: VexStatus) -> &'static str {
    match status {
        VexStatus::NotAffected => "not_affected",
        VexStatus::Affected => "exploitable",
        VexStatus::Fixed => "resolved",
        VexStatus::UnderInvestigation => "in_triage",
    }
}

/// CycloneDX VEX documents are CycloneDX JSON, so this parser reads them:
/// each analysed vulnerability about products outside the document is a
/// VEX statement, and the others give findings with their analysis state.
#[test]
fn corpus_vex_documents() {
    common::check_detection("cyclonedx_vex", FORMAT, |_| true);
    let Some(corpus) = common::corpus_dir() else {
        return;
    };
    let rows = vex_facts(&corpus);
    assert_eq!(rows.len(), 30);
    for (file, vulnerabilities, states) in rows {
        let report = common::parse_file(FORMAT, &corpus.join("cyclonedx_vex").join(&file))
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        let mut found: BTreeSet<(String, String)> = BTreeSet::new();
        for finding in &report.findings {
            let state = finding.attributes.get("analysis_state").cloned().unwrap_or_default();
            found.insert((finding.rule_id.clone(), state));
        }
        for statement in &report.vex {
            let state = analysis_state(statement.status()).to_string();
            found.insert((statement.vulnerability().to_string(), state));
        }
        assert_eq!(found.len(), vulnerabilities, "{file}: vulnerabilities");
        let mut counted: BTreeMap<String, usize> = BTreeMap::new();
        for (_, state) in &found {
            *counted.entry(state.clone()).or_default() += 1;
        }
        assert_eq!(counted, states, "{file}: analysis states");
        if report.findings.is_empty() && !report.vex.is_empty() {
            assert!(report.targets.is_empty(), "{file}: a VEX document covers no scope");
        }
    }

    // Spot checks: the subject named by its bom-ref, a BOM-link to a purl,
    // BOM-links to components of other BOMs, and version ranges.
    let parse = |file: &str| common::parse_file(FORMAT, &corpus.join("cyclonedx_vex").join(file)).unwrap();
    let case1 = parse("bom-examples__CISA-Use-Cases__Case-1__vex-not_affected.json");
    let statement = &case1.vex[0];
    assert_eq!(statement.status(), VexStatus::NotAffected);
    assert_eq!(statement.justification(), Some("vulnerable_code_not_present"));
    assert_eq!(statement.products()[0].id.to_string(), "ABC 4.2");
    assert!(
        statement
            .impact_statement()
            .unwrap()
            .contains("removed before shipping")
    );
    assert_eq!(statement.timestamp(), Some("2022-03-03T00:00:00Z"));
    assert!(case1.findings.is_empty() && case1.targets.is_empty() && case1.assets.is_empty());

    let trivy = parse("trivy_cyclonedx-vex.json");
    let products: Vec<String> = trivy.vex.iter().map(|s| s.products()[0].id.to_string()).collect();
    assert_eq!(
        products,
        [
            "pkg:maven/org.springframework.boot/spring-boot@2.6.0",
            "pkg:deb/ubuntu/libstdc%2B%2B6@12.3.0-1ubuntu1~22.04?arch=amd64&distro=ubuntu-22.04"
        ]
    );
    assert_eq!(
        trivy.vex[0].justification(),
        Some("vulnerable_code_not_in_execute_path"),
        "code_not_reachable"
    );

    let links = parse("bom-examples__Use-Cases__Case-6__vex.json");
    assert_eq!(links.vex[0].products().len(), 3);
    assert!(
        links.vex[0]
            .products()
            .iter()
            .all(|p| matches!(p.id, ctem_model::ProductId::Reference { .. }))
    );

    let ranges = parse("bom-examples__Use-Cases__Case-4__vex.json");
    assert_eq!(
        ranges.vex[0].products()[0].version_range.as_deref(),
        Some("vers:semver/>=2.2.0|<=2.4.0")
    );
}
