//! The STIX 2.1 bundle loader against a hand-written bundle, malformed
//! objects and hostile inputs.

mod common;

use std::io::Read;

use chrono::NaiveDate;
use common::fixture;
use ctem_intel::{IntelError, STIX_MAX_BYTES, SourceKind, StixBundle, StixCveIntel, StixRelationship, ThreatKind};
use ctem_model::CveId;
use serde_json::json;

const VULN_A: &str = "vulnerability--10000000-0000-4000-8000-00000000000a";
const MALWARE: &str = "malware--10000000-0000-4000-8000-000000000016";
const IDENTITY: &str = "identity--10000000-0000-4000-8000-000000000001";

fn cve(text: &str) -> CveId {
    text.parse().expect("valid CVE id in test")
}

fn date(year: i32, month: u32, day: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year, month, day)
}

fn fixture_bundle() -> StixBundle {
    StixBundle::load(fixture("stix/bundle.json")).expect("the fixture bundle loads")
}

fn threat_names(intel: &StixCveIntel) -> Vec<(&str, ThreatKind, StixRelationship, Option<&str>)> {
    intel
        .threats
        .iter()
        .map(|fact| {
            let link = &fact.value;
            (
                link.threat.name.as_str(),
                link.threat.kind,
                link.relationship,
                link.via.as_ref().map(|via| via.name.as_str()),
            )
        })
        .collect()
}

/// Parses a bundle holding `objects` and returns the error it must raise.
fn bundle_error(objects: serde_json::Value) -> String {
    let bundle = json!({"type": "bundle", "id": "bundle--10000000-0000-4000-8000-000000000001", "objects": objects});
    let text = bundle.to_string();
    let error = StixBundle::from_reader("test.json", text.as_bytes()).expect_err("the bundle is invalid");
    let message = error.to_string();
    assert!(
        message.starts_with("test.json"),
        "the error names the source: {message}"
    );
    message
}

fn malware(extra: serde_json::Value) -> serde_json::Value {
    let mut object = json!({
        "type": "malware", "spec_version": "2.1", "id": MALWARE,
        "created": "2024-01-01T00:00:00Z", "modified": "2024-01-01T00:00:00Z",
        "name": "Khonsari", "is_family": true
    });
    for (key, value) in extra.as_object().expect("extra is an object") {
        object[key] = value.clone();
    }
    object
}

#[test]
fn bundle_summary() {
    let bundle = fixture_bundle();
    assert_eq!(
        bundle.bundle_id().map(|id| id.as_str()),
        Some("bundle--10000000-0000-4000-8000-000000000001")
    );
    assert_eq!(bundle.object_count(), 28);
    assert_eq!(bundle.revoked(), 1);
    assert_eq!(bundle.vulnerabilities_without_cve(), 1);
    let ignored: Vec<(&str, usize)> = bundle.ignored_types().iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(ignored, [("indicator", 1), ("report", 1)]);
    let cves: Vec<&str> = bundle.cves().map(|intel| intel.cve.as_str()).collect();
    assert_eq!(cves, ["CVE-2021-44228", "CVE-2023-4966"]);
}

#[test]
fn cve_from_external_reference() {
    let bundle = fixture_bundle();
    let log4shell = bundle.get(&cve("CVE-2021-44228")).expect("Log4Shell is named");
    assert_eq!(log4shell.vulnerabilities.len(), 1);
    assert_eq!(log4shell.vulnerabilities[0].as_str(), VULN_A);
    assert_eq!(
        threat_names(log4shell),
        [
            (
                "APT Example",
                ThreatKind::IntrusionSet,
                StixRelationship::Uses,
                Some("Khonsari")
            ),
            ("Khonsari", ThreatKind::Malware, StixRelationship::Exploits, None),
            ("Scanner Kit", ThreatKind::Tool, StixRelationship::Targets, None),
        ]
    );
}

#[test]
fn cve_from_vulnerability_name() {
    let bundle = fixture_bundle();
    let bleed = bundle.get(&cve("cve-2023-4966")).expect("Citrix Bleed is named");
    assert_eq!(
        threat_names(bleed),
        [
            ("Bleed Wave", ThreatKind::Campaign, StixRelationship::Targets, None),
            (
                "Example Syndicate",
                ThreatKind::ThreatActor,
                StixRelationship::AttributedTo,
                Some("Bleed Wave")
            ),
            (
                "Exploit Public-Facing Application",
                ThreatKind::AttackPattern,
                StixRelationship::Targets,
                None
            ),
        ]
    );
}

#[test]
fn link_provenance_is_relationship() {
    let bundle = fixture_bundle();
    let log4shell = bundle.get(&cve("CVE-2021-44228")).unwrap();
    let direct = &log4shell.threats[1];
    assert_eq!(direct.value.threat.name, "Khonsari");
    assert_eq!(direct.source.kind, SourceKind::Stix);
    assert_eq!(direct.source.author.as_deref(), Some("ACME Threat Intel"));
    assert_eq!(direct.source.date, date(2024, 3, 1));
    assert!(direct.source.path.ends_with("bundle.json"));

    let hop = &log4shell.threats[0];
    assert_eq!(hop.source.author.as_deref(), Some("Example CERT"));
    assert_eq!(hop.source.date, date(2024, 4, 1));
}

#[test]
fn latest_version_wins() {
    let bundle = fixture_bundle();
    let log4shell = bundle.get(&cve("CVE-2021-44228")).unwrap();
    let names: Vec<&str> = log4shell.threats.iter().map(|f| f.value.threat.name.as_str()).collect();
    assert!(!names.contains(&"OldName"), "{names:?}");
}

#[test]
fn revoked_threat_is_skipped() {
    let bundle = fixture_bundle();
    let log4shell = bundle.get(&cve("CVE-2021-44228")).unwrap();
    assert!(
        log4shell
            .threats
            .iter()
            .all(|f| f.value.threat.name != "Withdrawn Malware"),
        "a revoked malware must not be linked"
    );
}

#[test]
fn sightings_of_vulnerability_and_threat() {
    let bundle = fixture_bundle();
    let log4shell = bundle.get(&cve("CVE-2021-44228")).unwrap();
    assert_eq!(log4shell.sightings.len(), 2);

    let direct = &log4shell.sightings[0].value;
    assert_eq!(direct.sighting_of.as_str(), VULN_A);
    assert_eq!(direct.count, Some(5));
    assert_eq!(direct.first_seen.unwrap().to_rfc3339(), "2024-02-01T00:00:00+00:00");
    assert_eq!(direct.last_seen.unwrap().to_rfc3339(), "2024-02-28T23:59:59+00:00");
    assert_eq!(direct.sighting_of_name, None);

    let of_malware = &log4shell.sightings[1];
    assert_eq!(of_malware.value.sighting_of.as_str(), MALWARE);
    assert_eq!(of_malware.value.sighting_of_name.as_deref(), Some("Khonsari"));
    assert_eq!(of_malware.value.count, Some(2));
    assert_eq!(of_malware.source.author.as_deref(), Some("Example CERT"));
}

#[test]
fn missing_identity_author_is_its_id() {
    let bundle = fixture_bundle();
    let bleed = bundle.get(&cve("CVE-2023-4966")).unwrap();
    assert_eq!(bleed.sightings.len(), 1);
    let sighting = &bleed.sightings[0];
    assert_eq!(sighting.value.count, None);
    assert_eq!(
        sighting.source.author.as_deref(),
        Some("identity--10000000-0000-4000-8000-000000000062")
    );
}

#[test]
fn broken_references_listed() {
    let bundle = fixture_bundle();
    let broken: Vec<(&str, &str)> = bundle
        .broken_references()
        .iter()
        .map(|b| (b.field, b.target.as_str()))
        .collect();
    assert_eq!(
        broken,
        [
            ("source_ref", "intrusion-set--10000000-0000-4000-8000-000000000063"),
            ("created_by_ref", "identity--10000000-0000-4000-8000-000000000062"),
        ]
    );
}

#[test]
fn from_objects_matches_file() {
    let text = std::fs::read_to_string(fixture("stix/bundle.json")).unwrap();
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    let objects = value["objects"].as_array().unwrap().clone();
    let bundle = StixBundle::from_objects("https://taxii.example/objects", objects).unwrap();
    assert_eq!(bundle.bundle_id(), None);
    let from_file = fixture_bundle();
    let threats = |b: &StixBundle| threat_names(b.get(&cve("CVE-2021-44228")).unwrap()).len();
    assert_eq!(threats(&bundle), threats(&from_file));
    assert_eq!(
        bundle.get(&cve("CVE-2021-44228")).unwrap().threats[0].source.path,
        "https://taxii.example/objects"
    );
}

#[test]
fn empty_bundle_loads() {
    let bundle = StixBundle::from_reader("empty.json", br#"{"type": "bundle", "objects": []}"#.as_slice()).unwrap();
    assert_eq!(bundle.object_count(), 0);
    assert_eq!(bundle.cves().count(), 0);
}

#[test]
fn unknown_types_are_counted_not_checked() {
    let objects = json!([
        {"type": "x-acme-widget", "id": "x-acme-widget--10000000-0000-4000-8000-000000000001", "name": 42, "modified": []},
        {"type": "x-acme-widget", "id": "x-acme-widget--10000000-0000-4000-8000-000000000002"}
    ]);
    let text = json!({"type": "bundle", "objects": objects}).to_string();
    let bundle = StixBundle::from_reader("custom.json", text.as_bytes()).unwrap();
    assert_eq!(bundle.ignored_types().get("x-acme-widget"), Some(&2));
}

#[test]
fn not_a_bundle() {
    let cases: [(&str, &str); 4] = [
        (r#"{"type": "report", "objects": []}"#, "expected \"type\": \"bundle\""),
        (r#"{"objects": []}"#, "found no type"),
        (r#"{"type": "bundle"}"#, "objects array is missing"),
        (
            r#"{"type": "bundle", "id": "report--10000000-0000-4000-8000-000000000001", "objects": []}"#,
            "expected an id of type bundle",
        ),
    ];
    for (text, expected) in cases {
        let error = StixBundle::from_reader("x.json", text.as_bytes()).unwrap_err();
        assert!(error.to_string().contains(expected), "{text}: {error}");
    }
}

#[test]
fn wrong_json_shapes() {
    let cases: [(&str, &str); 4] = [
        ("[1, 2]", "expected a STIX bundle object"),
        (
            r#"{"type": "bundle", "objects": {}}"#,
            "expected an array of STIX objects",
        ),
        (
            r#"{"type": "bundle", "objects": [7]}"#,
            "objects[0]: expected a STIX object, found a number",
        ),
        (r#"{"type": "bundle", "objects": []} trailing"#, "invalid JSON"),
    ];
    for (text, expected) in cases {
        let error = StixBundle::from_reader("x.json", text.as_bytes()).unwrap_err();
        assert!(error.to_string().contains(expected), "{text}: {error}");
    }
}

#[test]
fn truncated_bundle() {
    let text = std::fs::read(fixture("stix/bundle.json")).unwrap();
    let half = &text[..text.len() / 2];
    let error = StixBundle::from_reader("half.json", half).unwrap_err();
    assert!(matches!(error, IntelError::Json { .. }), "{error}");
    assert!(error.to_string().contains("truncated"), "{error}");
}

#[test]
fn object_without_type_or_id() {
    let message = bundle_error(json!([{"id": MALWARE}]));
    assert!(
        message.contains("objects[0].type: missing required property"),
        "{message}"
    );
    let message = bundle_error(json!([{"type": "malware"}]));
    assert!(
        message.contains("objects[0].id: missing required property"),
        "{message}"
    );
    let message = bundle_error(json!([{"type": 5, "id": MALWARE}]));
    assert!(
        message.contains("objects[0].type: expected a string, found a number"),
        "{message}"
    );
}

#[test]
fn invalid_ids() {
    let message = bundle_error(json!([
        malware(json!({})),
        malware(json!({"id": "malware--not-a-uuid"}))
    ]));
    assert!(
        message.contains("objects[1].id: invalid STIX id \"malware--not-a-uuid\""),
        "{message}"
    );

    let message = bundle_error(json!([malware(
        json!({"id": "tool--10000000-0000-4000-8000-000000000016"})
    )]));
    assert!(message.contains("objects[0].id: invalid STIX id"), "{message}");
    assert!(message.contains("expected an id of type malware"), "{message}");

    let message = bundle_error(json!([malware(json!({"created_by_ref": MALWARE}))]));
    assert!(message.contains("objects[0].created_by_ref"), "{message}");
    assert!(message.contains("expected an id of type identity"), "{message}");
}

#[test]
fn invalid_timestamps() {
    let message = bundle_error(json!([malware(json!({"modified": "yesterday"}))]));
    assert!(
        message.contains("objects[0].modified: invalid timestamp \"yesterday\""),
        "{message}"
    );

    let mut no_modified = malware(json!({}));
    no_modified.as_object_mut().unwrap().remove("modified");
    let message = bundle_error(json!([no_modified]));
    assert!(
        message.contains("objects[0].modified: missing required property"),
        "{message}"
    );
}

#[test]
fn wrong_property_types() {
    let message = bundle_error(json!([malware(json!({"name": ["Khonsari"]}))]));
    assert!(message.contains("objects[0]: invalid malware"), "{message}");
    assert!(message.contains("invalid type: sequence"), "{message}");
}

#[test]
fn invalid_relationships() {
    let relationship = |extra: serde_json::Value| {
        let mut object = json!({
            "type": "relationship", "id": "relationship--10000000-0000-4000-8000-000000000001",
            "modified": "2024-01-01T00:00:00Z", "relationship_type": "targets",
            "source_ref": MALWARE, "target_ref": VULN_A
        });
        for (key, value) in extra.as_object().unwrap() {
            if value.is_null() {
                object.as_object_mut().unwrap().remove(key);
            } else {
                object[key] = value.clone();
            }
        }
        object
    };
    let message = bundle_error(json!([relationship(json!({"target_ref": null}))]));
    assert!(
        message.contains("objects[0].target_ref: missing required property"),
        "{message}"
    );
    let message = bundle_error(json!([relationship(json!({"relationship_type": null}))]));
    assert!(message.contains("objects[0].relationship_type: missing"), "{message}");
    let message = bundle_error(json!([relationship(json!({"source_ref": "malware"}))]));
    assert!(message.contains("objects[0].source_ref: invalid STIX id"), "{message}");
}

#[test]
fn invalid_cve_reference() {
    let vulnerability = json!({
        "type": "vulnerability", "id": VULN_A, "modified": "2024-01-01T00:00:00Z",
        "external_references": [{"source_name": "cve", "external_id": "CVE-21-1"}]
    });
    let message = bundle_error(json!([vulnerability]));
    assert!(
        message.contains("objects[0].external_references[0].external_id: invalid CVE id \"CVE-21-1\""),
        "{message}"
    );
}

#[test]
fn invalid_sightings() {
    let sighting = |extra: serde_json::Value| {
        let mut object = json!({
            "type": "sighting", "id": "sighting--10000000-0000-4000-8000-000000000001",
            "modified": "2024-01-01T00:00:00Z", "sighting_of_ref": VULN_A
        });
        for (key, value) in extra.as_object().unwrap() {
            object[key] = value.clone();
        }
        object
    };
    let message = bundle_error(json!([sighting(json!({"count": 1_000_000_000u64}))]));
    assert!(
        message.contains("objects[0].count: invalid count 1000000000"),
        "{message}"
    );
    let message = bundle_error(json!([sighting(json!({"count": -1}))]));
    assert!(message.contains("objects[0]: invalid sighting"), "{message}");
    let message = bundle_error(json!([sighting(
        json!({"first_seen": "2024-02-01T00:00:00Z", "last_seen": "2024-01-01T00:00:00Z"})
    )]));
    assert!(message.contains("objects[0].last_seen"), "{message}");
    assert!(message.contains("earlier than first_seen"), "{message}");
}

#[test]
fn deep_nesting_is_rejected() {
    let depth = 100_000;
    let text = format!(
        r#"{{"type": "bundle", "objects": [{{"type": "x-deep", "id": "x-deep--10000000-0000-4000-8000-000000000001", "a": {}{}}}]}}"#,
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let error = StixBundle::from_reader("deep.json", text.as_bytes()).unwrap_err();
    assert!(matches!(error, IntelError::Json { line: 1, .. }), "{error}");
    assert!(error.to_string().contains("nested deeper than 64 levels"), "{error}");
}

#[test]
fn huge_value_is_shortened() {
    let long_id = format!("malware--{}", "a".repeat(5_000_000));
    let message = bundle_error(json!([malware(json!({"id": long_id}))]));
    assert!(message.len() < 500, "the error is {} bytes long", message.len());
    assert!(message.contains("aaa..."), "{message}");
}

#[test]
fn huge_name_loads() {
    let name = "K".repeat(2_000_000);
    let text = json!({"type": "bundle", "objects": [
        malware(json!({"name": name})),
        {"type": "vulnerability", "id": VULN_A, "modified": "2024-01-01T00:00:00Z", "name": "CVE-2021-44228"},
        {"type": "relationship", "id": "relationship--10000000-0000-4000-8000-000000000001",
         "modified": "2024-01-01T00:00:00Z", "relationship_type": "exploits",
         "source_ref": MALWARE, "target_ref": VULN_A, "created_by_ref": IDENTITY}
    ]})
    .to_string();
    let bundle = StixBundle::from_reader("big-name.json", text.as_bytes()).unwrap();
    let intel = bundle.get(&cve("CVE-2021-44228")).unwrap();
    assert_eq!(intel.threats[0].value.threat.name.len(), 2_000_000);
}

#[test]
fn oversized_bundle_is_rejected() {
    let huge = std::io::repeat(b' ').take(STIX_MAX_BYTES + 1);
    let error = StixBundle::from_reader("huge.json", huge).unwrap_err();
    assert!(matches!(error, IntelError::TooLarge { .. }), "{error}");
}

#[test]
fn missing_file_is_io_error() {
    let error = StixBundle::load(fixture("stix/absent.json")).unwrap_err();
    assert!(matches!(error, IntelError::Io { .. }), "{error}");
}
