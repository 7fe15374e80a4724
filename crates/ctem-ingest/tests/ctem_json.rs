//! Tests of the ctem-native JSON parser: the documented example, round
//! trips of the model's JSON, strict validation and hostile input.

mod inventory_common;

use std::collections::BTreeMap;

use ctem_ingest::{Detection, ParseError, ParsedReport, Position, find, parse_bytes};
use ctem_model::{
    Asset, AssetKey, AssetKind, Component, Criticality, Finding, FindingKind, Fix, Location, MaskedSecret,
    Relationship, RelationshipKind, Severity, SourceStatus,
};
use serde_json::{Value, json};

const FORMAT: &str = "ctem-json";

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

fn parse_value(value: &Value) -> Result<ParsedReport, ParseError> {
    parse("native.json", value.to_string().as_bytes())
}

/// Converts the report to JSON for snapshots, with each finding's fingerprint.
fn normalized(report: &ParsedReport) -> Value {
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

/// Writes a parsed report back as a ctem-native file, the way a user
/// would from `ctem parse --format json`: scopes with their tools, and
/// findings with their fingerprints.
fn native(tool: &str, report: &ParsedReport) -> Value {
    let findings: Vec<Value> = report
        .findings
        .iter()
        .map(|finding| {
            let mut value = serde_json::to_value(finding).expect("a finding serializes");
            value["fingerprint"] = json!(finding.fingerprint());
            value
        })
        .collect();
    let scopes: Vec<Value> = report
        .targets
        .iter()
        .map(|(tool, target)| json!({"tool": tool, "target": target}))
        .collect();
    json!({
        "ctem_format": "1",
        "tool": {"name": tool},
        "scopes": scopes,
        "assets": report.assets,
        "relationships": report.relationships,
        "findings": findings,
    })
}

/// Builds a minimal valid file, for the validation tests to break one
/// field of.
fn minimal() -> Value {
    json!({
        "ctem_format": "1",
        "tool": {"name": "acme-edge-audit"},
        "scopes": [{"target": "edge.acme.example"}],
        "assets": [{"key": "host:edge01.acme.example", "kind": "host", "name": "edge01"}],
        "relationships": [],
        "findings": [{
            "rule_id": "admin-console-exposed",
            "kind": "exposed_service",
            "title": "Admin console reachable from the internet",
            "severity": "high",
            "asset": "host:edge01.acme.example"
        }]
    })
}

fn rejected(value: &Value) -> ParseError {
    match parse_value(value) {
        Ok(_) => panic!("accepted: {value}"),
        Err(error) => error,
    }
}

/// The example of docs/native-format.md is the fixture, byte for byte.
#[test]
fn documented_example_is_fixture() {
    let doc_path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/native-format.md");
    let doc = std::fs::read_to_string(doc_path).expect("docs/native-format.md");
    let start = doc.find("## Example").expect("an Example section");
    let block = &doc[start..];
    let open = block.find("```json\n").expect("a json code block") + "```json\n".len();
    let close = block[open..].find("```").expect("the end of the code block");
    let example = String::from_utf8(fixture("example.json")).expect("UTF-8");
    assert_eq!(&block[open..open + close], example);
}

#[test]
fn documented_example_parses() {
    let report = parse_fixture("example.json");
    assert_eq!(report.assets.len(), 2);
    assert_eq!(report.relationships.len(), 2);
    assert_eq!(report.findings.len(), 2);
    let targets: Vec<_> = report.targets.iter().cloned().collect();
    assert_eq!(
        targets,
        [("acme-edge-audit".to_string(), "edge.acme.example".to_string())]
    );

    let exposed = &report.findings[0];
    assert_eq!(exposed.tool, "acme-edge-audit");
    assert_eq!(exposed.kind, FindingKind::ExposedService);
    assert_eq!(exposed.location.port, Some(8443));
    assert_eq!(exposed.target.as_deref(), Some("edge.acme.example"));

    let backdoor = &report.findings[1];
    assert_eq!(backdoor.severity, Severity::Critical);
    assert_eq!(backdoor.vulnerability_ids[0].as_str(), "CVE-2024-3094");
    assert_eq!(backdoor.cwes[0].0, 506);
    assert_eq!(backdoor.cvss[0].base_score(), 10.0);
    let component = backdoor.component.as_ref().expect("a component");
    assert_eq!(
        component.purl.as_ref().map(|p| p.as_str()),
        Some("pkg:deb/debian/xz-utils@5.6.0-0.2")
    );
    assert_eq!(backdoor.fix.fixed_versions, ["5.6.1+really5.4.5-1"]);

    let host = &report.assets[0];
    assert_eq!(host.internet_exposed, Some(true));
    assert_eq!(host.identifier_values("ip").collect::<Vec<_>>(), ["203.0.113.10"]);
}

#[test]
fn empty_file_declares_default_target() {
    let report = parse_fixture("empty.json");
    assert!(report.findings.is_empty());
    let targets: Vec<_> = report.targets.iter().cloned().collect();
    assert_eq!(
        targets,
        [("acme-edge-audit".to_string(), "ctem-json:empty.json".to_string())]
    );
}

#[test]
fn one_finding_snapshot() {
    let report = parse_fixture("one.json");
    assert_eq!(report.findings.len(), 1);
    assert_eq!(report.findings[0].tool, "acme-secrets", "tools are lowercased");
    assert_eq!(
        report.findings[0].secret.as_ref().map(|s| s.masked.as_str()),
        Some("sk_l********")
    );
    insta::assert_json_snapshot!("one", normalized(&report));
}

#[test]
fn many_findings_snapshot() {
    let report = parse_fixture("many.json");
    assert_eq!(report.findings.len(), 3);
    let targets: Vec<_> = report.targets.iter().cloned().collect();
    assert_eq!(
        targets,
        [
            ("acme-cloud-review".to_string(), "aws:210987654321".to_string()),
            (
                "acme-image-review".to_string(),
                "ghcr.io/acme/shop-web:1.4.2".to_string()
            ),
        ]
    );
    assert_eq!(report.assets[0].criticality, Some(Criticality::CrownJewel));
    assert_eq!(report.findings[0].source_status, Some(SourceStatus::Affected));
    assert_eq!(report.findings[1].tool, "acme-image-review");
    insta::assert_json_snapshot!("many", normalized(&report));
}

/// A finding and an asset with every field set survive a round trip. The
/// struct literals list every field, so a field added to the model breaks
/// this test until the native format reads it.
#[test]
fn every_field_round_trips() {
    let asset = Asset {
        key: AssetKey::new(AssetKind::Host, "edge01.acme.example"),
        kind: AssetKind::Host,
        name: "edge01".into(),
        identifiers: vec![("ip".into(), "203.0.113.10".into())],
        attributes: BTreeMap::from([("os".into(), "Debian 12".into())]),
        tags: vec!["team:edge".into()],
        internet_exposed: Some(true),
        owner: Some("edge-team".into()),
        criticality: Some(Criticality::High),
    };
    let relationship = Relationship {
        from: AssetKey::new(AssetKind::Other, "network:internet"),
        to: asset.key.clone(),
        kind: RelationshipKind::NetworkReach,
        protocol: Some("tcp".into()),
        port: Some(8443),
    };
    let finding = Finding {
        tool: "acme-edge-audit".into(),
        rule_id: "CVE-2024-3094".into(),
        kind: FindingKind::Vulnerability,
        title: "xz-utils: backdoor in liblzma".into(),
        description: Some("A backdoor.".into()),
        severity: Severity::Critical,
        vulnerability_ids: vec!["CVE-2024-3094".parse().unwrap(), "GHSA-rxwq-x6h5-x525".parse().unwrap()],
        cwes: vec!["CWE-506".parse().unwrap()],
        cvss: vec!["CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H".parse().unwrap()],
        asset: asset.key.clone(),
        location: Location {
            path: Some("/usr/lib/liblzma.so.5".into()),
            start_line: Some(1),
            end_line: Some(2),
            start_column: Some(3),
            url: Some("https://edge01.acme.example:8443/".into()),
            method: Some("GET".into()),
            parameter: Some("q".into()),
            port: Some(8443),
            protocol: Some("tcp".into()),
        },
        component: Some(Component {
            name: "xz-utils".into(),
            version: Some("5.6.0-0.2".into()),
            purl: Some("pkg:deb/debian/xz-utils@5.6.0-0.2".parse().unwrap()),
            ecosystem: Some("deb".into()),
        }),
        fix: Fix {
            fixed_versions: vec!["5.6.1".into()],
            description: Some("Upgrade.".into()),
        },
        evidence: Some("liblzma 5.6.0".into()),
        secret: Some(MaskedSecret::new("a-clear-value-that-is-long")),
        references: vec!["https://nvd.nist.gov/vuln/detail/CVE-2024-3094".into()],
        source_status: Some(SourceStatus::Affected),
        tool_fingerprint: Some("abc123".into()),
        target: Some("edge.acme.example".into()),
        attributes: BTreeMap::from([("check".into(), "packages".into())]),
    };
    let report = ParsedReport {
        assets: vec![asset],
        relationships: vec![relationship],
        findings: vec![finding],
        targets: [("acme-edge-audit".to_string(), "edge.acme.example".to_string())].into(),
        // NOTE: the native format does not carry VEX statements yet; VEX is
        // read from OpenVEX, CSAF and CycloneDX documents.
        vex: Vec::new(),
    };

    let read = parse_value(&native("acme-edge-audit", &report)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(read.assets, report.assets);
    assert_eq!(read.relationships, report.relationships);
    assert_eq!(read.findings, report.findings);
    assert_eq!(read.targets, report.targets);
}

/// The output of another parser, written back as a native file, reads
/// back the same.
#[test]
fn parser_output_round_trips() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/kubernetes-yaml/many.yaml");
    let manifest = std::fs::read(path).expect("the Kubernetes fixture");
    let original = parse_bytes(find("kubernetes-yaml").unwrap(), "many.yaml", &manifest).unwrap();
    let read = parse_value(&native("kubernetes", &original)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(read.assets, original.assets);
    assert_eq!(read.relationships, original.relationships);
    assert_eq!(read.findings, original.findings);
    assert_eq!(read.targets, original.targets);
}

#[test]
fn minimal_file_parses() {
    let report = parse_value(&minimal()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.findings.len(), 1);
    assert_eq!(report.findings[0].target.as_deref(), Some("edge.acme.example"));
}

#[test]
fn unknown_keys_are_rejected() {
    let mut value = minimal();
    value["extra"] = json!(1);
    let error = rejected(&value);
    assert!(
        error.message.contains("unknown top-level key \"extra\""),
        "{}",
        error.message
    );
    assert!(matches!(error.position, Some(Position::LineColumn { .. })), "{error}");

    let mut value = minimal();
    value["findings"][0]["severty"] = json!("high");
    let error = rejected(&value);
    assert!(error.message.contains("unknown field `severty`"), "{}", error.message);

    let mut value = minimal();
    value["assets"][0]["colour"] = json!("red");
    assert!(rejected(&value).message.contains("unknown field `colour`"));

    let mut value = minimal();
    value["findings"][0]["location"] = json!({"line": 3});
    assert!(rejected(&value).message.contains("unknown field `line`"));

    let mut value = minimal();
    value["tool"]["vendor"] = json!("Acme");
    assert!(rejected(&value).message.contains("unknown field `vendor`"));
}

#[test]
fn versions_are_checked() {
    let mut value = minimal();
    value["ctem_format"] = json!("2");
    let error = rejected(&value);
    assert!(
        error.message.contains("unsupported ctem_format \"2\""),
        "{}",
        error.message
    );

    let mut value = minimal();
    value.as_object_mut().unwrap().remove("ctem_format");
    assert!(rejected(&value).message.contains("missing ctem_format"));

    let mut value = minimal();
    value.as_object_mut().unwrap().remove("tool");
    value["findings"][0]["tool"] = json!("acme");
    value["scopes"][0]["tool"] = json!("acme");
    assert!(rejected(&value).message.contains("missing tool"));
}

#[test]
fn asset_keys_are_checked() {
    let mut value = minimal();
    value["assets"][0]["kind"] = json!("domain");
    let error = rejected(&value);
    assert!(
        error
            .message
            .contains("starts with the kind host but the asset's kind is domain"),
        "{}",
        error.message
    );

    let mut value = minimal();
    value["assets"][0]["key"] = json!("host:Edge01.ACME.example");
    let error = rejected(&value);
    assert!(
        error.message.contains("write \"host:edge01.acme.example\""),
        "{}",
        error.message
    );

    let mut value = minimal();
    value["findings"][0]["asset"] = json!("spaceship:edge01");
    assert!(
        rejected(&value)
            .message
            .contains("invalid asset key \"spaceship:edge01\"")
    );

    let mut value = minimal();
    value["relationships"] = json!([{"from": "host:", "to": "host:edge01.acme.example", "kind": "hosts"}]);
    assert!(
        rejected(&value)
            .message
            .contains("the identifier after the kind is empty")
    );

    let mut value = minimal();
    let asset = value["assets"][0].clone();
    value["assets"].as_array_mut().unwrap().push(asset);
    assert!(rejected(&value).message.contains("declared twice"));
}

#[test]
fn model_ids_are_validated() {
    let cases = [
        ("vulnerability_ids", json!(["CVE-24-1"]), "invalid CVE id"),
        ("cvss", json!(["CVSS:3.1/AV:X"]), "CVSS"),
        ("severity", json!("urgent"), "unknown variant `urgent`"),
        ("kind", json!("bug"), "unknown variant `bug`"),
        (
            "component",
            json!({"name": "x", "purl": "not-a-purl"}),
            "invalid package URL",
        ),
        ("cwes", json!(["CWE-79"]), "invalid type"),
    ];
    for (field, bad, expected) in cases {
        let mut value = minimal();
        value["findings"][0][field] = bad;
        let error = rejected(&value);
        assert!(error.message.contains(expected), "{field}: {}", error.message);
    }
}

#[test]
fn fingerprints_must_match() {
    let report = parse_value(&minimal()).unwrap();
    let mut value = minimal();
    value["findings"][0]["fingerprint"] = json!(report.findings[0].fingerprint());
    parse_value(&value).unwrap_or_else(|e| panic!("{e}"));

    value["findings"][0]["fingerprint"] = json!("v1:00000000000000000000000000000000");
    let error = rejected(&value);
    assert!(error.message.contains("ctem computes"), "{}", error.message);
}

#[test]
fn targets_must_be_scopes() {
    let mut value = minimal();
    value["findings"][0]["target"] = json!("elsewhere");
    assert!(rejected(&value).message.contains("not among the scopes"));

    let mut value = minimal();
    value.as_object_mut().unwrap().remove("scopes");
    value["findings"][0]["target"] = json!("edge.acme.example");
    let report = parse_value(&value).unwrap();
    let targets: Vec<_> = report.targets.iter().cloned().collect();
    assert_eq!(
        targets,
        [("acme-edge-audit".to_string(), "edge.acme.example".to_string())]
    );

    let mut value = minimal();
    value.as_object_mut().unwrap().remove("scopes");
    let report = parse_value(&value).unwrap();
    assert_eq!(report.findings[0].target.as_deref(), Some("ctem-json:native.json"));
    let targets: Vec<_> = report.targets.iter().cloned().collect();
    assert_eq!(
        targets,
        [("acme-edge-audit".to_string(), "ctem-json:native.json".to_string())]
    );
}

/// A finding without tool or target takes them from the top level, even
/// when the top level comes after the findings, as with sorted keys.
#[test]
fn defaults_apply_in_any_order() {
    let text = r#"{"ctem_format": "1",
        "findings": [{"rule_id": "r", "kind": "secret", "title": "t", "severity": "low", "asset": "host:a"}],
        "scopes": [{"target": "x"}],
        "tool": {"name": "Acme"}}"#;
    let report = parse("late.json", text.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.findings[0].tool, "acme");
    assert_eq!(report.findings[0].target.as_deref(), Some("x"));
    let targets: Vec<_> = report.targets.iter().cloned().collect();
    assert_eq!(targets, [("acme".to_string(), "x".to_string())]);
}

#[test]
fn secrets_must_be_masked() {
    let mut value = minimal();
    value["findings"][0]["secret"] = json!({"masked": "hunter2-is-my-password", "sha256": "0".repeat(64)});
    assert!(rejected(&value).message.contains("not masked"));

    let mut value = minimal();
    value["findings"][0]["secret"] = json!({"masked": "********", "sha256": "abc"});
    assert!(rejected(&value).message.contains("no valid sha256"));
}

#[test]
fn fixtures_are_detected() {
    let parser = find(FORMAT).expect("registered");
    for name in ["example.json", "empty.json", "one.json", "many.json"] {
        assert_eq!(parser.detect(&fixture(name)), Detection::Certain, "{name}");
        assert_eq!(
            ctem_ingest::detect(&fixture(name)).map(|p| p.info().id),
            Some(FORMAT),
            "{name}"
        );
    }
    assert_eq!(
        parser.detect(br#"{"format": "trivy-json", "findings": []}"#),
        Detection::No
    );
    assert_eq!(parser.detect(br#"[{"ctem_format": "1"}]"#), Detection::No);
}

#[test]
fn truncated_file_names_position() {
    let bytes = fixture("example.json");
    let error = parse("cut.json", &bytes[..bytes.len() / 2]).unwrap_err();
    assert!(error.message.contains("truncated"), "{}", error.message);
    assert!(matches!(error.position, Some(Position::LineColumn { .. })), "{error}");
}

#[test]
fn wrong_root_is_rejected() {
    let error = parse("array.json", b"[]").unwrap_err();
    assert!(error.message.contains("ctem-native JSON object"), "{}", error.message);
    let error = parse("bad.json", b"{\"ctem_format\": \"1\",, }").unwrap_err();
    assert_eq!(error.position, Some(Position::LineColumn { line: 1, column: 21 }));
}

#[test]
fn deep_nesting_errors() {
    let depth = 10_000;
    let text = format!(
        "{{\"ctem_format\": \"1\", \"tool\": {{\"name\": \"x\"}}, \"assets\": [{{\"key\": \"host:a\", \"kind\": \"host\", \"name\": \"a\", \"tags\": {}{}}}]}}",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let error = parse("deep.json", text.as_bytes()).unwrap_err();
    assert!(error.position.is_some(), "{error}");
}

#[test]
fn large_file_parses() {
    let count = 20_000;
    let findings: Vec<Value> = (0..count)
        .map(|i| {
            json!({
                "rule_id": format!("check-{}", i % 100),
                "kind": "misconfiguration",
                "title": "A check failed",
                "severity": "medium",
                "asset": format!("host:10.0.{}.{}", i / 250, i % 250),
                "location": {"port": 443}
            })
        })
        .collect();
    let mut value = minimal();
    value["findings"] = Value::Array(findings);
    let report = parse_value(&value).unwrap();
    assert_eq!(report.findings.len(), count);
}

#[test]
fn corpus_detection_claims_nothing() {
    inventory_common::check_detection_everywhere(FORMAT, |_, _| false);
}
