//! Tests of the Semgrep AppSec Platform findings export parser: fixtures,
//! hostile input and the shared corpus.

mod common;
mod sast_support;

use std::collections::BTreeSet;

use ctem_ingest::{Detection, ParseError, ParsedReport, Position, find};
use ctem_model::{AssetKind, Cwe, Finding, FindingKind, RelationshipKind, Severity, SourceStatus};

const FORMAT: &str = "semgrep-pro-json";

fn parse(name: &str, bytes: &[u8]) -> Result<ParsedReport, ParseError> {
    sast_support::parse(FORMAT, name, bytes)
}

fn parse_fixture(name: &str) -> ParsedReport {
    sast_support::parse_fixture(FORMAT, name)
}

#[test]
fn empty_export_declares_default_target() {
    let report = parse_fixture("empty.json");
    assert!(report.findings.is_empty());
    let targets: Vec<_> = report.targets.iter().cloned().collect();
    assert_eq!(
        targets,
        [("semgrep".to_string(), "semgrep-pro-json:empty.json".to_string())]
    );
}

#[test]
fn one_finding_snapshot() {
    let report = parse_fixture("one.json");
    assert_eq!(report.findings.len(), 1);
    insta::assert_json_snapshot!("one", sast_support::normalized(&report));
}

#[test]
fn many_findings_snapshot() {
    let report = parse_fixture("many.json");
    assert_eq!(report.findings.len(), 4);
    insta::assert_json_snapshot!("many", sast_support::normalized(&report));
}

#[test]
fn finding_fields_map() {
    let report = parse_fixture("one.json");
    let finding = &report.findings[0];
    assert_eq!(finding.tool, "semgrep");
    assert_eq!(
        finding.rule_id,
        "typescript.react.security.audit.react-dangerouslysetinnerhtml.react-dangerouslysetinnerhtml"
    );
    assert_eq!(finding.kind, FindingKind::CodeWeakness);
    assert_eq!(
        finding.title,
        "Detection of dangerouslySetInnerHTML from non-constant definition."
    );
    assert_eq!(finding.severity, Severity::High);
    assert_eq!(finding.cwes, [Cwe(79)]);
    assert_eq!(finding.location.path.as_deref(), Some("src/checkout/render.ts"));
    assert_eq!(finding.location.start_line, Some(57));
    assert_eq!(finding.location.start_column, Some(12));
    assert!(
        finding
            .tool_fingerprint
            .as_deref()
            .is_some_and(|f| f.starts_with("3f2e1d0c"))
    );
    assert_eq!(finding.source_status, Some(SourceStatus::Affected));
    assert_eq!(
        finding.fix.description.as_deref(),
        Some(
            "Sanitize the HTML with DOMPurify before rendering it.\n\n\
             Suggested fix:\n<div>{DOMPurify.sanitize(summary)}</div>"
        )
    );
    assert_eq!(
        finding.attributes.get("ref").map(String::as_str),
        Some("refs/heads/main")
    );
    assert_eq!(
        finding.attributes.get("autotriage_verdict").map(String::as_str),
        Some("true_positive")
    );
    assert_eq!(
        finding.target.as_deref(),
        Some("https://git.acme.example/acme/storefront")
    );

    assert_eq!(report.assets.len(), 1);
    assert_eq!(report.assets[0].kind, AssetKind::Repository);
    assert_eq!(
        report.assets[0].identifier_values("repo_url").collect::<Vec<_>>(),
        ["https://git.acme.example/acme/storefront"]
    );
}

#[test]
fn triage_gives_status() {
    let report = parse_fixture("many.json");
    let statuses: Vec<_> = report.findings.iter().map(|f| f.source_status).collect();
    assert_eq!(
        statuses,
        [
            Some(SourceStatus::Fixed),
            Some(SourceStatus::FalsePositive),
            Some(SourceStatus::UnderInvestigation),
            Some(SourceStatus::Affected),
        ]
    );
    let ignored = &report.findings[1];
    assert_eq!(ignored.references, ["https://tickets.acme.example/browse/SEC-411"]);
    assert_eq!(
        ignored.attributes.get("external_ticket").map(String::as_str),
        Some("SEC-411")
    );
}

#[test]
fn supply_chain_finding_has_component() {
    let report = parse_fixture("many.json");
    let lodash = &report.findings[2];
    assert_eq!(lodash.kind, FindingKind::Vulnerability);
    assert_eq!(lodash.severity, Severity::Critical);
    assert_eq!(lodash.vulnerability_ids[0].as_str(), "CVE-2021-23337");
    let component = lodash.component.as_ref().expect("component");
    assert_eq!(
        (component.name.as_str(), component.version.as_deref()),
        ("lodash", Some("4.17.15"))
    );
    assert_eq!(lodash.target.as_deref(), Some("acme/storefront"));
    assert_eq!(report.relationships.len(), 1);
    assert_eq!(report.relationships[0].kind, RelationshipKind::Contains);
    assert_eq!(report.relationships[0].from, lodash.asset);
}

#[test]
fn valid_secret_is_critical() {
    let report = parse_fixture("many.json");
    let token = &report.findings[3];
    assert_eq!(token.kind, FindingKind::Secret);
    assert_eq!(token.severity, Severity::Critical);
    assert_eq!(
        token.target.as_deref(),
        Some("semgrep-pro-json:many.json"),
        "no repository named"
    );
}

#[test]
fn repositories_are_targets() {
    let report = parse_fixture("many.json");
    let targets: Vec<&str> = report.targets.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(
        targets,
        [
            "acme/storefront",
            "https://git.acme.example/acme/billing",
            "semgrep-pro-json:many.json"
        ]
    );
    let repositories = report.assets.iter().filter(|a| a.kind == AssetKind::Repository).count();
    assert_eq!(repositories, 3);
}

#[test]
fn fixtures_are_detected() {
    let parser = find(FORMAT).expect("registered");
    for name in ["one.json", "many.json"] {
        let bytes = sast_support::fixture(FORMAT, name);
        assert_eq!(parser.detect(&bytes), Detection::Certain, "{name}");
        assert_eq!(ctem_ingest::detect(&bytes).map(|p| p.info().id), Some(FORMAT), "{name}");
    }
    let empty = sast_support::fixture(FORMAT, "empty.json");
    assert_eq!(parser.detect(&empty), Detection::Maybe);
    assert_eq!(ctem_ingest::detect(&empty).map(|p| p.info().id), Some(FORMAT));
    assert_eq!(parser.detect(br#"{"findings": [], "other": 1}"#), Detection::No);
    assert_eq!(parser.detect(br#"{"findings": [{"id": 1}]}"#), Detection::No);
    assert_eq!(parser.detect(b"[]"), Detection::No);
}

#[test]
fn truncated_file_names_position() {
    let bytes = sast_support::fixture(FORMAT, "one.json");
    let error = parse("cut.json", &bytes[..bytes.len() / 2]).unwrap_err();
    assert!(error.message.contains("truncated"), "{}", error.message);
    assert!(matches!(error.position, Some(Position::LineColumn { .. })), "{error}");
}

#[test]
fn invalid_syntax_is_rejected() {
    let error = parse("bad.json", b"{\"findings\": [{\"rule_name\" \"x\"}]}").unwrap_err();
    assert_eq!(error.format, FORMAT);
    assert_eq!(error.position, Some(Position::LineColumn { line: 1, column: 28 }));
}

#[test]
fn cli_output_is_wrong_format() {
    let error = parse("semgrep.json", br#"{"results": [], "errors": []}"#).unwrap_err();
    assert!(
        error.message.contains("found an object without findings"),
        "{}",
        error.message
    );
}

#[test]
fn array_root_is_wrong_format() {
    let error = parse("list.json", br#"[{"rule_name": "x"}]"#).unwrap_err();
    assert!(error.message.contains("found an array"), "{}", error.message);
}

#[test]
fn finding_array_is_rejected() {
    let error = parse("odd.json", br#"{"findings": [["x"]]}"#).unwrap_err();
    assert!(
        error.message.contains("expected a Semgrep finding object"),
        "{}",
        error.message
    );
}

#[test]
fn invalid_utf8_is_rejected() {
    let mut bytes = br#"{"findings": [{"rule_name": ""#.to_vec();
    bytes.extend_from_slice(b"\xc3\x28");
    bytes.extend_from_slice(br#""}]}"#);
    let error = parse("binary.json", &bytes).unwrap_err();
    assert!(error.position.is_some(), "{error}");
}

#[test]
fn deep_nesting_errors() {
    let error = parse("deep.json", sast_support::nested_arrays(10_000).as_bytes()).unwrap_err();
    assert_eq!(error.format, FORMAT);
    assert!(error.position.is_some(), "{error}");
}

#[test]
fn deep_unknown_field_is_skipped() {
    let text = format!(
        "{{\"findings\": [{{\"rule_name\": \"x\", \"review_comments\": {}}}]}}",
        sast_support::nested_arrays(10_000)
    );
    assert_eq!(parse("deep.json", text.as_bytes()).unwrap().findings.len(), 1);
}

#[test]
fn large_export_parses() {
    let count = 20_000;
    let mut text = String::from("{\"findings\": [");
    for i in 0..count {
        if i > 0 {
            text.push(',');
        }
        text.push_str(&format!(
            r#"{{"rule_name": "rules.r{rule}", "rule_message": "M.", "severity": "medium", "status": "open", "match_based_id": "m{i}", "repository": {{"name": "acme/r{repo}"}}, "location": {{"file_path": "src/f.ts", "line": {line}}}}}"#,
            rule = i % 9,
            repo = i % 3,
            line = i % 400 + 1,
        ));
    }
    text.push_str("]}");
    let report = parse("large.json", text.as_bytes()).unwrap();
    assert_eq!(report.findings.len(), count);
    let fingerprints: BTreeSet<_> = report.findings.iter().map(Finding::fingerprint).collect();
    assert_eq!(fingerprints.len(), count);
    assert_eq!(report.targets.len(), 3);
}

/// DefectDojo merges findings with the same `match_based_id`, else with
/// the same rule, path and line.
fn group_key(finding: &Finding) -> String {
    match &finding.tool_fingerprint {
        Some(id) => id.clone(),
        None => format!(
            "{}|{}|{}",
            finding.rule_id,
            finding.location.path.as_deref().unwrap_or_default(),
            finding.location.start_line.map(|l| l.to_string()).unwrap_or_default()
        ),
    }
}

#[test]
fn corpus_conformance() {
    let reports = common::check_folder("semgrep_pro_json", FORMAT, group_key);
    common::check_detection("semgrep_pro_json", FORMAT, |_| true);
    let Some((_, one)) = reports.iter().find(|(file, _)| file == "one_vuln.json") else {
        return;
    };
    let finding = &one.findings[0];
    assert_eq!(finding.severity, Severity::Medium);
    assert_eq!(
        finding.rule_id,
        "typescript.react.security.audit.react-no-refs.react-no-refs"
    );
    assert_eq!(
        finding.location.path.as_deref(),
        Some("frontend/src/corpComponents/Code.tsx")
    );
    assert_eq!(finding.location.start_line, Some(120));
    assert_eq!(finding.cwes, [Cwe(319)]);
    assert_eq!(finding.attributes.get("status").map(String::as_str), Some("open"));
    assert_eq!(
        finding.attributes.get("triage_state").map(String::as_str),
        Some("untriaged")
    );
    assert_eq!(finding.source_status, Some(SourceStatus::Affected));
    assert_eq!(finding.target.as_deref(), Some("https://github.com/semgrep/semgrep"));
}

#[test]
fn corpus_detection_is_exact() {
    sast_support::check_exact_detection(FORMAT, &["semgrep_pro_json"], |_| true);
}
