//! Tests of the OpenVEX parser: fixtures, hostile input and the shared
//! corpus.

mod common;
mod sca_common;
mod vex_common;

use ctem_ingest::{Detection, ParseError, ParsedReport, Position, find, parse_bytes};
use ctem_model::{ProductId, VexStatement, VexStatus};
use serde_json::json;

const FORMAT: &str = "openvex-json";

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

fn ids(statement: &VexStatement) -> Vec<&str> {
    statement.vulnerability_ids().map(|id| id.as_str()).collect()
}

/// A minimal document around the given statements.
fn document(statements: serde_json::Value) -> Vec<u8> {
    json!({
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": "https://vex.acme.example/docs/test",
        "author": "Acme",
        "timestamp": "2026-03-02T09:00:00Z",
        "statements": statements,
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
    assert_eq!(ids(statement), ["CVE-2021-44228", "GHSA-jfh8-c2jp-5v3q"]);
    assert_eq!(statement.status(), VexStatus::NotAffected);
    assert_eq!(statement.justification(), Some("vulnerable_code_not_in_execute_path"));
    assert!(statement.impact_statement().unwrap().contains("JNDI"));
    assert_eq!(statement.timestamp(), Some("2026-03-02T09:00:00Z"));
    assert_eq!(
        statement.source().document_id.as_deref(),
        Some("https://vex.acme.example/docs/storefront-2026-002")
    );
    assert_eq!(
        statement.source().author.as_deref(),
        Some("Acme Product Security <psirt@acme.example>")
    );
    assert_eq!(statement.source().path, "one.json");

    let product = &statement.products()[0];
    let ProductId::Purl { purl } = &product.id else {
        panic!("{:?}", product.id)
    };
    assert_eq!(purl.ty(), "oci");
    assert!(purl.version().unwrap().starts_with("sha256:"), "{purl}");
    assert_eq!(
        product.subcomponents[0].to_string(),
        "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"
    );
}

#[test]
fn products_by_identifier_kind() {
    let report = parse_fixture("many.json");
    let kinds: Vec<&str> = report
        .vex
        .iter()
        .map(|s| match &s.products()[0].id {
            ProductId::Purl { .. } => "purl",
            ProductId::Cpe { .. } => "cpe",
            ProductId::Name { .. } => "name",
            ProductId::Reference { .. } => "reference",
        })
        .collect();
    assert_eq!(kinds, ["purl", "cpe", "purl", "purl"]);
    assert_eq!(
        report.vex[1].vulnerability().as_str(),
        "CVE-2023-2650",
        "the id from the @id IRI"
    );
    assert_eq!(report.vex[2].vulnerability().as_str(), "GHSA-4374-p667-p6c8");
    assert!(!report.vex[2].products()[0].id.has_version());
    assert_eq!(report.vex[3].products().len(), 2);
}

#[test]
fn statement_timestamp_wins_over_document() {
    let report = parse_fixture("many.json");
    assert_eq!(report.vex[0].timestamp(), Some("2026-03-01T08:00:00Z"));
    assert_eq!(
        report.vex[1].timestamp(),
        Some("2026-03-05T12:30:00+01:00"),
        "without its own, a statement takes the document's last_updated"
    );
    assert_eq!(
        report.vex[0].action_statement(),
        Some("Upgrade commons-text to 1.10.0.")
    );
    assert_eq!(
        report.vex[1].status_notes(),
        Some("Fixed in the base image rebuilt on 2026-02-20.")
    );
}

#[test]
fn version_001_shape() {
    let report = parse_fixture("v0.0.1.json");
    assert_eq!(report.vex.len(), 1);
    let statement = &report.vex[0];
    assert_eq!(statement.vulnerability().as_str(), "CVE-2023-25652");
    assert_eq!(statement.status(), VexStatus::Fixed);
    assert_eq!(statement.products().len(), 2);
    assert_eq!(statement.timestamp(), Some("2026-01-10T18:02:03.647787998-06:00"));
}

#[test]
fn late_document_fields_apply() {
    let report = parse_fixture("late_fields.json");
    assert_eq!(report.vex.len(), 2);
    for statement in &report.vex {
        assert_eq!(statement.source().author.as_deref(), Some("Acme Product Security"));
        assert_eq!(
            statement.source().document_id.as_deref(),
            Some("https://vex.acme.example/docs/late-fields")
        );
    }
    assert_eq!(report.vex[0].timestamp(), Some("2026-03-02T09:00:00Z"));
    assert_eq!(report.vex[1].timestamp(), Some("2026-02-01T00:00:00Z"));
}

#[test]
fn unknown_status_is_rejected() {
    let bytes = document(json!([
        {"vulnerability": {"name": "CVE-2021-44228"}, "products": ["pkg:npm/a@1"], "status": "fixed"},
        {"vulnerability": {"name": "CVE-2021-44229"}, "products": ["pkg:npm/a@1"], "status": "mitigated"},
    ]));
    let error = parse("bad.json", &bytes).unwrap_err();
    assert!(error.message.contains("statement 2"), "{}", error.message);
    assert!(error.message.contains("mitigated"), "{}", error.message);
    assert!(error.position.is_some());
}

#[test]
fn statement_without_products_is_rejected() {
    let bytes = document(json!([{"vulnerability": {"name": "CVE-2021-44228"}, "status": "fixed"}]));
    let error = parse("bad.json", &bytes).unwrap_err();
    assert!(error.message.contains("statement 1"), "{}", error.message);
    assert!(error.message.contains("no product"), "{}", error.message);
}

#[test]
fn invalid_vulnerability_is_rejected() {
    let bytes =
        document(json!([{"vulnerability": {"name": "CVE-21-1"}, "products": ["pkg:npm/a@1"], "status": "fixed"}]));
    let error = parse("bad.json", &bytes).unwrap_err();
    assert!(error.message.contains("CVE-21-1"), "{}", error.message);

    let bytes = document(json!([{"products": ["pkg:npm/a@1"], "status": "fixed"}]));
    let error = parse("bad.json", &bytes).unwrap_err();
    assert!(error.message.contains("missing \"vulnerability\""), "{}", error.message);
}

#[test]
fn invalid_timestamp_is_rejected() {
    let bytes = document(json!([{"vulnerability": "CVE-2021-44228", "products": ["pkg:npm/a@1"],
        "status": "fixed", "timestamp": "last Tuesday"}]));
    let error = parse("bad.json", &bytes).unwrap_err();
    assert!(error.message.contains("last Tuesday"), "{}", error.message);
}

#[test]
fn other_context_is_rejected() {
    let bytes = br#"{"@context": "https://openvex.dev/ns/v9.0.0", "statements": []}"#;
    let error = parse("future.json", bytes).unwrap_err();
    assert!(error.message.contains("v9.0.0"), "{}", error.message);
    assert!(error.message.contains("0.2.0"), "{}", error.message);

    let bytes = br#"{"statements": []}"#;
    let error = parse("no_context.json", bytes).unwrap_err();
    assert!(error.message.contains("missing \"@context\""), "{}", error.message);

    let error = parse("array.json", b"[1, 2]").unwrap_err();
    assert!(error.message.contains("OpenVEX document"), "{}", error.message);
}

#[test]
fn truncated_file_names_position() {
    let bytes = fixture("many.json");
    let error = parse("cut.json", &bytes[..bytes.len() / 2]).unwrap_err();
    assert!(error.message.contains("truncated"), "{}", error.message);
    assert!(matches!(error.position, Some(Position::LineColumn { .. })));
    assert_eq!(error.path, "cut.json");
}

#[test]
fn invalid_syntax_and_encoding() {
    let error = parse(
        "syntax.json",
        b"{\"@context\": \"https://openvex.dev/ns\", \"statements\": [}",
    )
    .unwrap_err();
    assert_eq!(error.format, FORMAT);
    assert!(matches!(error.position, Some(Position::LineColumn { line: 1, .. })));

    let mut bytes = fixture("one.json");
    let at = bytes.windows(4).position(|w| w == b"JNDI").unwrap();
    bytes[at] = 0xff;
    let error = parse("utf8.json", &bytes).unwrap_err();
    assert!(error.position.is_some(), "{error}");
}

#[test]
fn deep_nesting_errors() {
    let depth = 10_000;
    let text = format!(
        "{{\"@context\": \"https://openvex.dev/ns/v0.2.0\", \"statements\": [{{\"vulnerability\": {}{}}}]}}",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let error = parse("deep.json", text.as_bytes()).unwrap_err();
    assert!(error.message.contains("recursion"), "{}", error.message);
}

#[test]
fn huge_document_streams() {
    let count = 20_000;
    let mut text = String::from(
        r#"{"@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://vex.acme.example/docs/huge",
            "author": "Acme", "timestamp": "2026-03-02T09:00:00Z", "statements": ["#,
    );
    for index in 0..count {
        if index > 0 {
            text.push(',');
        }
        text.push_str(&format!(
            r#"{{"vulnerability": {{"name": "CVE-2026-{:05}"}}, "products": [{{"@id": "pkg:npm/pkg{index}@1.0.{index}"}}], "status": "not_affected", "justification": "component_not_present"}}"#,
            10_000 + index
        ));
    }
    text.push_str("]}");
    let report = parse("huge.json", text.as_bytes()).unwrap();
    assert_eq!(report.vex.len(), count);
    assert_eq!(report.vex[count - 1].vulnerability().as_str(), "CVE-2026-29999");
}

#[test]
fn detection_by_content() {
    let parser = find(FORMAT).unwrap();
    assert_eq!(parser.detect(&fixture("one.json")), Detection::Certain);
    assert_eq!(parser.detect(&fixture("v0.0.1.json")), Detection::Certain);
    assert_eq!(parser.detect(br#"{"bomFormat": "CycloneDX"}"#), Detection::No);
    assert_eq!(parser.detect(b"[]"), Detection::No);
    assert_eq!(
        ctem_ingest::detect(&fixture("many.json")).map(|p| p.info().id),
        Some(FORMAT)
    );
}

#[test]
fn corpus_conformance() {
    let reports = vex_common::check_expected("openvex", FORMAT);
    common::check_detection("openvex", FORMAT, |_| true);
    let Some(corpus) = common::corpus_dir() else {
        return;
    };

    let many = &reports
        .iter()
        .find(|(file, _)| file == "openvex_many_vuln.json")
        .expect("parsed")
        .1;
    let by_id = |id: &str| {
        many.vex
            .iter()
            .find(|s| s.vulnerability().as_str() == id)
            .unwrap_or_else(|| panic!("{id}"))
    };
    let first = by_id("CVE-2024-10001");
    assert_eq!(first.status(), VexStatus::NotAffected);
    assert_eq!(first.justification(), Some("vulnerable_code_not_present"));
    assert_eq!(by_id("CVE-2024-10002").status(), VexStatus::Affected);
    assert_eq!(by_id("CVE-2024-10003").status(), VexStatus::Fixed);
    assert_eq!(by_id("CVE-2024-10004").status(), VexStatus::UnderInvestigation);
    let fifth = by_id("CVE-2024-10005");
    assert_eq!(fifth.justification(), Some("inline_mitigations_already_exist"));
    assert_eq!(ids(fifth), ["CVE-2024-10005", "GHSA-jfh8-c2jp-5v3q"]);
    assert_eq!(
        fifth.impact_statement(),
        Some("The affected code path is disabled at build time.")
    );
    let sixth = by_id("CVE-2024-10006");
    assert_eq!(sixth.justification(), Some("component_not_present"));
    let ProductId::Purl { purl } = &sixth.products()[0].id else {
        panic!("a purl")
    };
    assert_eq!((purl.name(), purl.version()), ("openssl", Some("1.1.1k-r0")));

    // Files without expected counts: statements and statuses.
    for (file, facts) in vex_common::structural_rows(&corpus, "openvex") {
        let report =
            common::parse_file(FORMAT, &corpus.join("openvex").join(&file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(
            report.vex.len(),
            vex_common::fact_count(&facts, "statements"),
            "{file}: statements"
        );
        let mut statuses = std::collections::BTreeMap::new();
        for statement in &report.vex {
            *statuses.entry(statement.status().as_str().to_string()).or_insert(0) += 1;
        }
        assert_eq!(statuses, vex_common::fact_map(&facts, "status"), "{file}: statuses");
        assert!(report.targets.is_empty(), "{file}: no scope");
    }
}

#[test]
fn corpus_detection_everywhere() {
    sca_common::check_detection_everywhere(FORMAT, |folder, _| folder == "openvex");
}
