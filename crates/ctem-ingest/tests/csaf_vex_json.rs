//! Tests of the CSAF VEX parser: fixtures, hostile input and the shared
//! corpus.

mod common;
mod sca_common;
mod vex_common;

use std::collections::BTreeMap;

use ctem_ingest::{Detection, ParseError, ParsedReport, Position, find, parse_bytes};
use ctem_model::{ProductId, VexStatement, VexStatus};
use serde_json::json;

const FORMAT: &str = "csaf-vex-json";

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

fn normalized(report: &ParsedReport) -> serde_json::Value {
    json!({
        "targets": report.targets,
        "assets": report.assets,
        "findings": report.findings,
        "vex": report.vex,
    })
}

fn products(statement: &VexStatement) -> Vec<String> {
    statement.products().iter().map(|p| p.id.to_string()).collect()
}

/// Builds a document with the given version and vulnerabilities.
fn document(version: &str, vulnerabilities: serde_json::Value) -> Vec<u8> {
    json!({
        "document": {
            "category": "csaf_vex",
            "csaf_version": version,
            "publisher": {"category": "vendor", "name": "Acme", "namespace": "https://acme.example"},
            "tracking": {"id": "ACME-TEST", "current_release_date": "2026-03-02T09:00:00Z"}
        },
        "product_tree": {"full_product_names": [
            {"product_id": "P1", "name": "Acme App 1.0",
             "product_identification_helper": {"purl": "pkg:generic/acme/app@1.0"}}
        ]},
        "vulnerabilities": vulnerabilities,
    })
    .to_string()
    .into_bytes()
}

#[test]
fn empty_document_declares_nothing() {
    let report = parse_fixture("empty.json");
    assert!(report.vex.is_empty());
    assert!(report.findings.is_empty());
    assert!(report.targets.is_empty(), "a VEX document covers no scope");
    assert!(report.assets.is_empty());
}

#[test]
fn one_statement_snapshot() {
    let report = parse_fixture("one.json");
    assert_eq!(report.vex.len(), 1);
    insta::assert_json_snapshot!("one", normalized(&report));
}

#[test]
fn many_statements_snapshot() {
    let report = parse_fixture("many.json");
    assert_eq!(report.vex.len(), 4);
    insta::assert_json_snapshot!("many", normalized(&report));
}

#[test]
fn statement_fields_map() {
    let report = parse_fixture("one.json");
    let statement = &report.vex[0];
    let ids: Vec<&str> = statement.vulnerability_ids().map(|id| id.as_str()).collect();
    assert_eq!(ids, ["CVE-2021-44228", "GHSA-jfh8-c2jp-5v3q"]);
    assert_eq!(statement.status(), VexStatus::NotAffected);
    assert_eq!(statement.justification(), Some("vulnerable_code_not_present"));
    assert!(statement.impact_statement().unwrap().contains("JndiLookup"));
    assert_eq!(statement.timestamp(), Some("2026-03-02T09:00:00Z"));
    assert_eq!(statement.source().document_id.as_deref(), Some("ACME-VEX-2026-0001"));
    assert_eq!(statement.source().author.as_deref(), Some("Acme Product Security"));
    assert_eq!(products(statement), ["pkg:maven/com.acme/storefront@4.2"]);
}

#[test]
fn status_groups_split_by_details() {
    let report = parse_fixture("many.json");
    let summary: Vec<(&str, VexStatus, Vec<String>)> = report
        .vex
        .iter()
        .map(|s| (s.vulnerability().as_str(), s.status(), products(s)))
        .collect();
    assert_eq!(
        summary,
        [
            ("CVE-2023-2650", VexStatus::Affected, vec!["Gateway 3.0".to_string()]),
            ("CVE-2023-2650", VexStatus::Fixed, vec!["Gateway 3.1".to_string()]),
            (
                "CVE-2022-42889",
                VexStatus::NotAffected,
                vec![
                    "Gateway 3.0".to_string(),
                    "Gateway 3.1".to_string(),
                    "Gateway".to_string()
                ]
            ),
            (
                "CVE-2022-42889",
                VexStatus::UnderInvestigation,
                vec!["GW-NEXT".to_string()]
            ),
        ]
    );
}

#[test]
fn relationship_gives_subcomponent() {
    let report = parse_fixture("many.json");
    let affected = &report.vex[0];
    let product = &affected.products()[0];
    assert_eq!(
        product.id,
        ProductId::Name {
            name: "Gateway".into(),
            version: Some("3.0".into())
        }
    );
    assert!(matches!(product.subcomponents[0], ProductId::Cpe { .. }));
    assert_eq!(affected.action_statement(), Some("Upgrade Acme Gateway to 3.1."));
    assert_eq!(affected.timestamp(), Some("2026-02-12T15:30:00+01:00"));
}

#[test]
fn groups_flags_and_threats_apply() {
    let report = parse_fixture("many.json");
    let not_affected = &report.vex[2];
    assert_eq!(not_affected.justification(), Some("component_not_present"));
    assert_eq!(
        not_affected.impact_statement(),
        Some("The Gateway does not ship commons-text."),
        "a threat without products applies to all, and only impact threats count"
    );
    let range = &not_affected.products()[2];
    assert_eq!(range.version_range.as_deref(), Some("vers:generic/<3.0"));
    assert!(
        matches!(report.vex[3].products()[0].id, ProductId::Reference { .. }),
        "an undefined product id stays a reference"
    );
    assert_eq!(report.vex[3].impact_statement(), None);
}

#[test]
fn late_product_tree_resolves() {
    let report = parse_fixture("late_tree.json");
    assert_eq!(report.vex.len(), 1);
    let statement = &report.vex[0];
    let ProductId::Purl { purl } = &statement.products()[0].id else {
        panic!("{:?}", statement.products()[0].id)
    };
    assert_eq!(purl.ty(), "oci");
    assert_eq!(statement.source().document_id.as_deref(), Some("ACME-VEX-2026-0003"));
    assert_eq!(statement.justification(), Some("component_not_present"));
}

#[test]
fn version_1_is_rejected_as_cvrf() {
    let bytes = document("1.2", json!([{"cve": "CVE-2026-10099"}]));
    let error = parse("old.json", &bytes).unwrap_err();
    assert!(error.message.contains("not supported"), "{}", error.message);
    assert!(error.message.contains("CVRF"), "{}", error.message);
    assert!(error.position.is_some());
}

#[test]
fn unknown_version_is_rejected() {
    let error = parse("new.json", &document("3.0", json!([]))).unwrap_err();
    assert!(error.message.contains("\"3.0\""), "{}", error.message);

    let bytes = br#"{"document": {"category": "csaf_vex"}, "vulnerabilities": []}"#;
    let error = parse("no_version.json", bytes).unwrap_err();
    assert!(error.message.contains("csaf_version"), "{}", error.message);

    let error = parse("no_document.json", br#"{"vulnerabilities": []}"#).unwrap_err();
    assert!(error.message.contains("missing \"document\""), "{}", error.message);
}

#[test]
fn invalid_release_date_is_rejected() {
    let bytes = json!({"document": {"csaf_version": "2.0",
        "tracking": {"id": "X", "current_release_date": "March 2nd"}}})
    .to_string();
    let error = parse("date.json", bytes.as_bytes()).unwrap_err();
    assert!(error.message.contains("March 2nd"), "{}", error.message);
}

#[test]
fn vulnerability_without_id_is_skipped() {
    let bytes = document(
        "2.0",
        json!([
            {"title": "no id", "product_status": {"known_affected": ["P1"]}},
            {"ids": [{"system_name": "Acme", "text": "ACME-2026-17"}], "product_status": {"fixed": ["P1"]}},
        ]),
    );
    let report = parse("ids.json", &bytes).unwrap();
    assert_eq!(report.vex.len(), 1);
    assert_eq!(report.vex[0].vulnerability().as_str(), "ACME-2026-17");
    assert_eq!(report.vex[0].status(), VexStatus::Fixed);
}

#[test]
fn truncated_file_names_position() {
    let bytes = fixture("many.json");
    let error = parse("cut.json", &bytes[..bytes.len() * 2 / 3]).unwrap_err();
    assert!(error.message.contains("truncated"), "{}", error.message);
    assert!(matches!(error.position, Some(Position::LineColumn { .. })));
}

#[test]
fn invalid_syntax_and_encoding() {
    let error = parse("syntax.json", b"{\"document\": {\"csaf_version\": \"2.0\"},, }").unwrap_err();
    assert_eq!(error.format, FORMAT);
    assert!(matches!(error.position, Some(Position::LineColumn { line: 1, .. })));

    let mut bytes = fixture("one.json");
    let at = bytes.windows(10).position(|w| w == b"JndiLookup").unwrap();
    bytes[at] = 0xc3;
    let error = parse("utf8.json", &bytes).unwrap_err();
    assert!(error.position.is_some(), "{error}");
}

#[test]
fn deep_nesting_errors() {
    let mut branch = String::from(r#"{"category": "vendor", "name": "x"}"#);
    for _ in 0..5_000 {
        branch = format!(r#"{{"category": "vendor", "name": "x", "branches": [{branch}]}}"#);
    }
    let text = format!(
        r#"{{"document": {{"csaf_version": "2.0"}}, "product_tree": {{"branches": [{branch}]}}, "vulnerabilities": []}}"#
    );
    let error = parse("deep.json", text.as_bytes()).unwrap_err();
    assert!(error.message.contains("recursion"), "{}", error.message);
}

#[test]
fn huge_document_streams() {
    let count = 20_000;
    let vulnerabilities: Vec<serde_json::Value> = (0..count)
        .map(|index| {
            json!({"cve": format!("CVE-2026-{:05}", 10_000 + index),
                   "product_status": {"known_not_affected": ["P1"]},
                   "flags": [{"label": "component_not_present", "product_ids": ["P1"]}]})
        })
        .collect();
    let report = parse("huge.json", &document("2.0", json!(vulnerabilities))).unwrap();
    assert_eq!(report.vex.len(), count);
    assert!(
        report
            .vex
            .iter()
            .all(|s| s.justification() == Some("component_not_present"))
    );
}

#[test]
fn detection_by_content() {
    let parser = find(FORMAT).unwrap();
    assert_eq!(parser.detect(&fixture("one.json")), Detection::Certain);
    assert_eq!(parser.detect(&fixture("late_tree.json")), Detection::Certain);
    assert_eq!(
        parser.detect(br#"{"@context": "https://openvex.dev/ns"}"#),
        Detection::No
    );
    assert_eq!(
        ctem_ingest::detect(&fixture("many.json")).map(|p| p.info().id),
        Some(FORMAT)
    );
}

/// The VEX status that a CSAF product status key gives.
fn status_of_key(key: &str) -> &'static str {
    match key {
        "known_not_affected" => "not_affected",
        "known_affected" | "first_affected" | "last_affected" => "affected",
        "fixed" | "first_fixed" | "recommended" => "fixed",
        "under_investigation" => "under_investigation",
        other => panic!("unexpected product status {other}"),
    }
}

#[test]
fn corpus_conformance() {
    let reports = vex_common::check_expected("csaf_vex", FORMAT);
    common::check_detection("csaf_vex", FORMAT, |_| true);
    let Some(corpus) = common::corpus_dir() else {
        return;
    };

    let one = &reports
        .iter()
        .find(|(file, _)| file == "csaf_one_vuln.json")
        .expect("parsed")
        .1;
    let statement = &one.vex[0];
    assert_eq!(statement.vulnerability().as_str(), "CVE-2026-10001");
    assert_eq!(statement.status(), VexStatus::Affected, "known_affected");
    assert_eq!(products(statement), ["Generic App 1.0.0"]);
    assert_eq!(statement.action_statement(), Some("Upgrade to Generic App 1.0.1."));
    assert_eq!(statement.source().author.as_deref(), Some("Example Corp"));
    assert!(statement.timestamp().unwrap().starts_with("2026-07-29"));

    // Files without expected counts: vulnerabilities and product statuses.
    let rows = vex_common::structural_rows(&corpus, "csaf_vex");
    assert!(rows.len() >= 18, "{} rows", rows.len());
    for (file, facts) in rows {
        let report =
            common::parse_file(FORMAT, &corpus.join("csaf_vex").join(&file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        let vulnerabilities: std::collections::BTreeSet<String> =
            report.vex.iter().map(|s| s.vulnerability().to_string()).collect();
        assert_eq!(
            vulnerabilities.len(),
            vex_common::fact_count(&facts, "vulnerabilities"),
            "{file}"
        );

        // first_fixed and fixed both give Fixed, so a status counts at
        // least the largest and at most the sum of its keys' counts.
        let mut expected: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (key, count) in vex_common::fact_map(&facts, "product_status keys") {
            expected.entry(status_of_key(&key)).or_default().push(count);
        }
        let found = vex_common::vulnerabilities_by_status(&report);
        assert_eq!(
            found.keys().map(String::as_str).collect::<Vec<_>>(),
            expected.keys().copied().collect::<Vec<_>>(),
            "{file}: statuses"
        );
        for (status, counts) in expected {
            let count = found[status];
            let max = counts.iter().copied().max().unwrap_or_default();
            let sum: usize = counts.iter().sum();
            assert!(
                (max..=sum).contains(&count),
                "{file}: {count} {status}, expected {counts:?}"
            );
        }

        let tracking = facts
            .split("tracking.id=")
            .nth(1)
            .and_then(|rest| rest.split(';').next());
        for statement in &report.vex {
            assert_eq!(
                statement.source().document_id.as_deref(),
                tracking,
                "{file}: tracking id"
            );
        }
        assert!(report.targets.is_empty(), "{file}: no scope");
    }

    let trivy = common::parse_file(FORMAT, &corpus.join("csaf_vex/trivy_csaf-relationships.json")).unwrap();
    let product = &trivy.vex[0].products()[0];
    assert_eq!(
        product.id.to_string(),
        "pkg:golang/github.com/aquasecurity/go-direct1@v2.0.0"
    );
    assert_eq!(
        product.subcomponents[0].to_string(),
        "pkg:golang/github.com/aquasecurity/go-transitive@v4.0.0"
    );
    assert_eq!(
        trivy.vex[0].justification(),
        Some("vulnerable_code_cannot_be_controlled_by_adversary")
    );
}

#[test]
fn corpus_detection_everywhere() {
    sca_common::check_detection_everywhere(FORMAT, |folder, _| folder == "csaf_vex");
}
