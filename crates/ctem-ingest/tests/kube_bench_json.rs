//! Tests of the kube-bench JSON parser: fixtures, hostile input and the
//! shared corpus.

mod common;

use std::collections::BTreeSet;

use ctem_ingest::{Detection, ParseError, ParsedReport, Position, find, parse_bytes};
use ctem_model::{AssetKind, Finding, FindingKind, Severity};
use serde_json::json;

const FORMAT: &str = "kube-bench-json";

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

fn rule_ids(report: &ParsedReport) -> Vec<&str> {
    report.findings.iter().map(|f| f.rule_id.as_str()).collect()
}

#[test]
fn passed_checks_are_empty() {
    let report = parse_fixture("empty.json");
    assert!(report.findings.is_empty());
    let targets: Vec<_> = report.targets.iter().cloned().collect();
    assert_eq!(
        targets,
        [("kube-bench".to_string(), "kube-bench-json:empty.json".to_string())]
    );
    assert_eq!(report.assets.len(), 1, "the node type is still an asset");
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
    assert_eq!(report.findings.len(), 3);
    insta::assert_json_snapshot!("many", normalized(&report));
}

#[test]
fn check_fields_map() {
    let report = parse_fixture("one.json");
    let finding = &report.findings[0];
    assert_eq!(finding.tool, "kube-bench");
    assert_eq!(finding.rule_id, "4.2.1");
    assert_eq!(finding.kind, FindingKind::Misconfiguration);
    assert_eq!(
        finding.title,
        "4.2.1 - Ensure that the --anonymous-auth argument is set to false (Automated)"
    );
    assert_eq!(finding.severity, Severity::Medium);
    assert_eq!(
        finding.evidence.as_deref(),
        Some("authentication:\n  anonymous:\n    enabled: true")
    );
    assert!(
        finding
            .fix
            .description
            .as_deref()
            .unwrap_or_default()
            .starts_with("If using a Kubelet config file")
    );
    assert_eq!(finding.target.as_deref(), Some("kube-bench-json:one.json"));

    assert_eq!(finding.attributes.get("benchmark").map(String::as_str), Some("cis-1.5"));
    assert_eq!(finding.attributes.get("scored").map(String::as_str), Some("true"));
    assert_eq!(
        finding.attributes.get("section").map(String::as_str),
        Some("4.2 Kubelet")
    );
    assert_eq!(
        finding.attributes.get("audit_config").map(String::as_str),
        Some("/bin/cat /var/lib/kubelet/config.yaml")
    );
}

#[test]
fn node_type_is_asset() {
    let report = parse_fixture("one.json");
    assert_eq!(report.assets.len(), 1);
    let asset = &report.assets[0];
    assert_eq!(asset.kind, AssetKind::Other);
    assert_eq!(asset.key.as_str(), "other:kube-bench-json:one.json/node");
    assert_eq!(asset.name, "kube-bench-json:one.json: kubernetes node (node)");
    assert_eq!(asset.attributes.get("node_type").map(String::as_str), Some("node"));
    assert_eq!(report.findings[0].asset, asset.key);
}

#[test]
fn statuses_select_findings() {
    let report = parse_fixture("many.json");
    assert_eq!(rule_ids(&report), ["1.1.1", "1.1.12", "4.2.6"]);
    let severities: Vec<_> = report.findings.iter().map(|f| f.severity).collect();
    assert_eq!(severities, [Severity::Medium, Severity::Info, Severity::Medium]);
}

#[test]
fn warning_keeps_reason() {
    let report = parse_fixture("many.json");
    let warning = &report.findings[1];
    assert_eq!(
        warning.evidence.as_deref(),
        Some("failed to run: \"ps -ef | grep etcd\", output: \"\", error: exit status 123")
    );
    assert_eq!(warning.attributes.get("status").map(String::as_str), Some("WARN"));
}

#[test]
fn every_node_type_is_asset() {
    let report = parse_fixture("many.json");
    let keys: Vec<_> = report.assets.iter().map(|a| a.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "other:kube-bench-json:many.json/master",
            "other:kube-bench-json:many.json/node",
            "other:kube-bench-json:many.json/policies",
        ]
    );
    assert_eq!(
        report.assets[0].attributes.get("detected_version").map(String::as_str),
        Some("1.28")
    );
}

#[test]
fn concatenated_controls_are_read() {
    let report = parse_fixture("legacy_stream.json");
    assert_eq!(rule_ids(&report), ["1.2.1", "2.1"]);
    let assets: BTreeSet<_> = report.findings.iter().map(|f| f.asset.as_str()).collect();
    assert_eq!(assets.len(), 2);
}

#[test]
fn control_object_is_read() {
    let text = br#"{"id": "4", "node_type": "node", "tests": [{"section": "4.1", "results": [{"test_number": "4.1.1", "test_desc": "x", "status": "FAIL"}]}]}"#;
    let report = parse("control.json", text).unwrap();
    assert_eq!(rule_ids(&report), ["4.1.1"]);
}

#[test]
fn description_lists_context() {
    let report = parse_fixture("one.json");
    let description = report.findings[0].description.as_deref().unwrap_or_default();
    assert!(
        description.starts_with("4 Worker Node Security Configuration\n\n4.2 Kubelet\n\n"),
        "{description}"
    );
    assert!(description.contains("Audit: /bin/ps -fC kubelet"), "{description}");
    assert!(
        description.contains("Expected result: '{.authentication.anonymous.enabled}' is equal to 'false'"),
        "{description}"
    );
}

#[test]
fn fixtures_are_detected() {
    let parser = find(FORMAT).expect("registered");
    for name in ["empty.json", "one.json", "many.json", "legacy_stream.json"] {
        assert_eq!(parser.detect(&fixture(name)), Detection::Certain, "{name}");
        assert_eq!(
            ctem_ingest::detect(&fixture(name)).map(|p| p.info().id),
            Some(FORMAT),
            "{name}"
        );
    }
    assert_eq!(parser.detect(b"{\"node_type\": \"x\"}"), Detection::No);
    assert_eq!(parser.detect(b"{\"tests\": []}"), Detection::No);
}

#[test]
fn truncated_file_names_position() {
    let bytes = fixture("many.json");
    let error = parse("cut.json", &bytes[..bytes.len() / 2]).unwrap_err();
    assert!(error.message.contains("truncated"), "{}", error.message);
    assert!(matches!(error.position, Some(Position::LineColumn { .. })), "{error}");
    assert!(error.to_string().starts_with("cut.json: line "), "{error}");
}

#[test]
fn invalid_syntax_is_rejected() {
    let error = parse("bad.json", b"{\"Controls\": [,]}").unwrap_err();
    assert_eq!(error.format, FORMAT);
    assert_eq!(error.position, Some(Position::LineColumn { line: 1, column: 15 }));
}

#[test]
fn other_object_is_wrong_format() {
    let error = parse("kics.json", br#"{"queries": [], "kics_version": "v2.1.3"}"#).unwrap_err();
    assert!(
        error.message.contains("expected a kube-bench report"),
        "{}",
        error.message
    );
    assert!(error.message.contains("\"queries\""), "{}", error.message);
}

#[test]
fn trailing_garbage_is_rejected() {
    let error = parse("two.json", br#"{"Controls": []} garbage"#).unwrap_err();
    assert!(error.position.is_some(), "{error}");
    assert_eq!(error.format, FORMAT);
}

#[test]
fn trailing_other_object_is_rejected() {
    let error = parse("two.json", br#"{"Controls": []} {"results": []}"#).unwrap_err();
    assert!(
        error.message.contains("expected a kube-bench report"),
        "{}",
        error.message
    );
}

#[test]
fn wrong_field_type_is_rejected() {
    let error = parse(
        "types.json",
        br#"{"Controls": [{"node_type": "node", "tests": "none"}]}"#,
    )
    .unwrap_err();
    assert!(error.message.contains("invalid type"), "{}", error.message);
}

#[test]
fn invalid_utf8_is_rejected() {
    let mut bytes = br#"{"Controls": [{"text": ""#.to_vec();
    bytes.extend_from_slice(&[0xf0, 0x28, 0x8c, 0x28]);
    bytes.extend_from_slice(br#""}]}"#);
    let error = parse("latin1.json", &bytes).unwrap_err();
    assert!(error.position.is_some(), "{error}");
    assert!(error.message.contains("invalid unicode"), "{}", error.message);
}

#[test]
fn deep_nesting_errors() {
    let depth = 10_000;
    let text = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let error = parse("deep.json", text.as_bytes()).unwrap_err();
    assert_eq!(error.format, FORMAT);
    assert!(error.position.is_some(), "{error}");
}

#[test]
fn long_actual_value_is_cut() {
    let long = "y".repeat(60_000);
    let text = format!(
        r#"[{{"node_type": "node", "tests": [{{"results": [{{"test_number": "4.1.1", "status": "FAIL", "actual_value": "{long}"}}]}}]}}]"#
    );
    let report = parse("long.json", text.as_bytes()).unwrap();
    let evidence = report.findings[0].evidence.as_deref().unwrap_or_default();
    assert!(evidence.len() < 5_000, "{} bytes", evidence.len());
}

#[test]
fn large_report_parses() {
    let controls = 20;
    let checks = 1_000;
    let mut text = String::from("{\"Controls\": [");
    for c in 0..controls {
        if c > 0 {
            text.push(',');
        }
        text.push_str(&format!(
            r#"{{"id": "{c}", "version": "cis-1.8", "node_type": "type{c}", "tests": [{{"section": "{c}.1", "results": ["#
        ));
        for t in 0..checks {
            if t > 0 {
                text.push(',');
            }
            text.push_str(&format!(
                r#"{{"test_number": "{c}.1.{t}", "test_desc": "Generated check", "status": "FAIL", "scored": true}}"#
            ));
        }
        text.push_str("]}]}");
    }
    text.push_str("]}");
    let report = parse("large.json", text.as_bytes()).unwrap();
    assert_eq!(report.findings.len(), controls * checks);
    let fingerprints: BTreeSet<_> = report.findings.iter().map(Finding::fingerprint).collect();
    assert_eq!(fingerprints.len(), controls * checks);
    assert_eq!(report.assets.len(), controls);
}

/// DefectDojo gives one finding per failed or warned check, as ctem does.
fn group_key(finding: &Finding) -> String {
    finding.fingerprint().to_string()
}

#[test]
fn corpus_conformance() {
    let reports = common::check_folder("kube_bench", FORMAT, group_key);
    common::check_detection("kube_bench", FORMAT, |_| true);
    if reports.is_empty() {
        return;
    }
    let controls = &reports
        .iter()
        .find(|(file, _)| file == "kube-bench-controls.json")
        .expect("kube-bench-controls.json parsed")
        .1;
    let count = |severity| controls.findings.iter().filter(|f| f.severity == severity).count();
    assert_eq!(count(Severity::Medium), 36);
    assert_eq!(count(Severity::Info), 20);
    assert_eq!(controls.findings.len(), 56);

    let first = &controls.findings[0];
    assert_eq!(
        first.title,
        "1.1.1 - Ensure that the API server pod specification file permissions are set to 644 or more restrictive (Automated)"
    );
    assert_eq!(first.severity, Severity::Medium);
    assert_eq!(first.rule_id, "1.1.1");
    assert_eq!(first.attributes.get("node_type").map(String::as_str), Some("master"));
}
