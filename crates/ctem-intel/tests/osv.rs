//! The OSV loader and alias store against hand-written advisories in the
//! layouts of GitHub, PyPA and Go, malformed and hostile records.

mod common;

use std::io::Read;

use chrono::NaiveDate;
use common::fixture;
use ctem_intel::{
    IntelError, OSV_MAX_RECORD_BYTES, OsvEvent, OsvRangeKind, OsvRecord, OsvSeverityKind, OsvStore, SourceKind,
};
use ctem_model::{CvssVersion, Cwe, VulnerabilityId};
use serde_json::json;

fn id(text: &str) -> VulnerabilityId {
    text.parse().expect("valid id in test")
}

fn ids(list: &[VulnerabilityId]) -> Vec<&str> {
    list.iter().map(VulnerabilityId::as_str).collect()
}

fn store() -> OsvStore {
    OsvStore::load_dir(fixture("osv")).expect("the fixture folder loads")
}

/// Parses `record` and returns the error it must raise.
fn record_error(record: serde_json::Value) -> String {
    let text = record.to_string();
    let error = OsvRecord::from_reader("record.json", text.as_bytes()).expect_err("the record is invalid");
    let message = error.to_string();
    assert!(
        message.starts_with("record.json"),
        "the error names the file: {message}"
    );
    message
}

/// Returns a valid record with `field` set to `value` (removed when null).
fn record_with(field: &str, value: serde_json::Value) -> serde_json::Value {
    let mut record = json!({
        "id": "GHSA-aaaa-bbbb-cccc", "modified": "2024-01-01T00:00:00Z", "aliases": ["CVE-2024-0001"],
        "affected": [{"package": {"ecosystem": "npm", "name": "left-pad"},
                      "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.3.0"}]}]}]
    });
    if value.is_null() {
        record.as_object_mut().unwrap().remove(field);
    } else {
        record[field] = value;
    }
    record
}

#[test]
fn github_record_fields() {
    let record = OsvRecord::load(fixture("osv/github/GHSA-jfh8-c2jp-5v3q.json")).unwrap();
    assert_eq!(record.id, id("GHSA-jfh8-c2jp-5v3q"));
    assert!(matches!(record.id, VulnerabilityId::Ghsa(_)));
    assert_eq!(ids(&record.aliases), ["CVE-2021-44228"]);
    assert_eq!(record.schema_version.as_deref(), Some("1.4.0"));
    assert_eq!(record.modified.to_rfc3339(), "2024-06-10T15:52:38+00:00");
    assert_eq!(record.published.unwrap().to_rfc3339(), "2021-12-10T00:40:56+00:00");
    assert_eq!(record.withdrawn, None);
    assert_eq!(record.summary, "Remote code injection in Log4j");
    assert_eq!(record.cwes, [Cwe(20), Cwe(400), Cwe(502), Cwe(917)]);

    assert_eq!(record.severity.len(), 1);
    let severity = &record.severity[0];
    assert_eq!(severity.kind, OsvSeverityKind::CvssV3);
    let vector = severity.vector.as_ref().expect("a CVSS v3 vector");
    assert_eq!(vector.version(), CvssVersion::V31);
    assert_eq!(vector.base_score(), 10.0);

    let affected = &record.affected[0];
    let package = affected.package.as_ref().unwrap();
    assert_eq!(package.ecosystem, "Maven");
    assert_eq!(package.name, "org.apache.logging.log4j:log4j-core");
    assert_eq!(package.purl.as_ref().map(|p| p.name()), Some("log4j-core"));
    assert_eq!(affected.ranges.len(), 2);
    assert_eq!(affected.ranges[1].kind, OsvRangeKind::Ecosystem);
    assert_eq!(
        affected.ranges[1].events,
        [
            OsvEvent::Introduced("2.0-beta9".into()),
            OsvEvent::Fixed("2.3.1".into())
        ]
    );
    assert!(affected.versions.is_empty());
}

#[test]
fn go_record_ranges_and_severity() {
    let record = OsvRecord::load(fixture("osv/go/GO-2022-0001.json")).unwrap();
    assert!(record.cwes.is_empty(), "free-text database_specific has no CWE");
    let affected = &record.affected[0];
    assert_eq!(affected.ranges[0].kind, OsvRangeKind::Semver);
    let git = &affected.ranges[1];
    assert_eq!(git.kind, OsvRangeKind::Git);
    assert_eq!(git.repo.as_deref(), Some("https://example.org/mod.git"));
    assert_eq!(
        git.events,
        [
            OsvEvent::Introduced("0".into()),
            OsvEvent::LastAffected("4b2c1e7".into()),
            OsvEvent::Limit("9f8e7d6".into())
        ]
    );
    assert_eq!(affected.severity.len(), 2);
    assert_eq!(affected.severity[1].kind, OsvSeverityKind::Other("Ubuntu".into()));
    assert_eq!(affected.severity[1].score, "medium");
    assert_eq!(affected.severity[1].vector, None);
    let cves: Vec<String> = record.cves().iter().map(ToString::to_string).collect();
    assert_eq!(cves, ["CVE-2022-22222"]);
}

#[test]
fn cvss_facts_carry_provenance() {
    let record = OsvRecord::load(fixture("osv/go/GO-2022-0001.json")).unwrap();
    let facts = record.cvss_facts();
    assert_eq!(facts.len(), 1, "the package-level CVSS vector counts");
    assert_eq!(facts[0].value.base_score(), 7.5);
    assert_eq!(facts[0].source.kind, SourceKind::Osv);
    assert_eq!(facts[0].source.author.as_deref(), Some("GO"));
    assert_eq!(facts[0].source.date, NaiveDate::from_ymd_opt(2023, 6, 12));
    assert!(facts[0].source.path.ends_with("GO-2022-0001.json"));

    let v4 = OsvRecord::load(fixture("osv/github/GHSA-abcd-efgh-ijkl.json")).unwrap();
    assert_eq!(v4.cvss_facts()[0].value.version(), CvssVersion::V40);
}

#[test]
fn store_loads_folder() {
    let store = store();
    assert_eq!(store.len(), 5);
    assert!(!store.is_empty());
    let skipped: Vec<&str> = store
        .skipped()
        .iter()
        .map(|s| s.path.rsplit('/').next().unwrap())
        .collect();
    assert_eq!(skipped, ["bad-cvss.json", "truncated.json"]);
    assert!(
        store.skipped()[0]
            .reason
            .contains("severity[0].score: invalid CVSS vector"),
        "{:?}",
        store.skipped()
    );
    assert!(store.skipped()[1].reason.contains("truncated"), "{:?}", store.skipped());
}

#[test]
fn aliases_both_ways() {
    let store = store();
    assert_eq!(ids(&store.aliases(&id("GHSA-jfh8-c2jp-5v3q"))), ["CVE-2021-44228"]);
    assert_eq!(ids(&store.aliases(&id("cve-2021-44228"))), ["GHSA-jfh8-c2jp-5v3q"]);
    assert_eq!(ids(&store.aliases(&id("ghsa-JFH8-c2jp-5v3q"))), ["CVE-2021-44228"]);
}

#[test]
fn aliases_through_other_records() {
    let store = store();
    assert_eq!(
        ids(&store.aliases(&id("PYSEC-2023-0001"))),
        ["CVE-2023-11111", "GHSA-abcd-efgh-ijkl"]
    );
    let cves: Vec<String> = store
        .cves(&id("PYSEC-2023-0001"))
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(cves, ["CVE-2023-11111"]);

    // GHSA-wxyz has no record of its own; the Go record links it to its CVE.
    let cves: Vec<String> = store
        .cves(&id("GHSA-wxyz-wxyz-wxyz"))
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(cves, ["CVE-2022-22222"]);
    assert!(store.aliases(&id("CVE-2099-0001")).is_empty());
}

#[test]
fn withdrawn_record_adds_no_alias() {
    let store = store();
    let withdrawn = store
        .get(&id("GHSA-wdrw-wdrw-wdrw"))
        .expect("withdrawn records are kept");
    assert!(withdrawn.withdrawn.is_some());
    assert!(store.aliases(&id("CVE-2020-00001")).is_empty());
}

#[test]
fn newest_record_wins() {
    let store = store();
    let record = store.get(&id("GHSA-jfh8-c2jp-5v3q")).unwrap();
    assert_eq!(record.summary, "Remote code injection in Log4j");
    assert!(store.aliases(&id("CVE-2021-99999")).is_empty());

    let mut reversed = OsvStore::default();
    reversed.add(OsvRecord::load(fixture("osv/older/GHSA-jfh8-c2jp-5v3q.json")).unwrap());
    assert_eq!(ids(&reversed.aliases(&id("CVE-2021-99999"))), ["GHSA-jfh8-c2jp-5v3q"]);
    reversed.add(OsvRecord::load(fixture("osv/github/GHSA-jfh8-c2jp-5v3q.json")).unwrap());
    assert_eq!(reversed.len(), 1);
    assert!(
        reversed.aliases(&id("CVE-2021-99999")).is_empty(),
        "the old alias link is gone"
    );
    assert_eq!(ids(&reversed.aliases(&id("CVE-2021-44228"))), ["GHSA-jfh8-c2jp-5v3q"]);
}

#[test]
fn alias_chain_is_bounded() {
    let mut store = OsvStore::default();
    for index in 0..1500 {
        let record = json!({
            "id": format!("CHAIN-{index}"), "modified": "2024-01-01T00:00:00Z",
            "aliases": [format!("CHAIN-{}", index + 1)]
        });
        store.add(OsvRecord::from_reader("chain.json", record.to_string().as_bytes()).unwrap());
    }
    assert_eq!(store.aliases(&id("CHAIN-0")).len(), 999);
}

#[test]
fn missing_required_fields() {
    let cases = [
        (
            record_with("id", json!(null)),
            "record.json: id: missing required field",
        ),
        (
            record_with("modified", json!(null)),
            "record.json: modified: missing required field",
        ),
        (
            record_with("modified", json!("last tuesday")),
            "modified: invalid timestamp \"last tuesday\"",
        ),
        (
            record_with("withdrawn", json!("2024-13-01T00:00:00Z")),
            "withdrawn: invalid timestamp",
        ),
        (record_with("id", json!("GHSA aaaa")), "id: invalid id \"GHSA aaaa\""),
        (
            record_with("aliases", json!(["CVE-2024-0001", ""])),
            "aliases[1]: invalid id \"\"",
        ),
        (
            record_with("aliases", json!(["CVE-24-1"])),
            "aliases[0]: invalid id \"CVE-24-1\"",
        ),
    ];
    for (record, expected) in cases {
        let message = record_error(record);
        assert!(message.contains(expected), "{message}");
    }
}

#[test]
fn invalid_severity() {
    let cases = [
        (
            json!([{"type": "CVSS_V3", "score": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"}]),
            "severity[0].score: CVSS_V3 contains a CVSS 4.0 vector",
        ),
        (
            json!([{"type": "CVSS_V2", "score": "AV:N/AC:L"}]),
            "severity[0].score: invalid CVSS vector",
        ),
        (
            json!([{"type": "CVSS_V3"}]),
            "severity[0].score: missing required field",
        ),
        (json!([{"score": "high"}]), "severity[0].type: missing required field"),
    ];
    for (severity, expected) in cases {
        let message = record_error(record_with("severity", severity));
        assert!(message.contains(expected), "{message}");
    }
}

#[test]
fn invalid_affected() {
    let affected = |value: serde_json::Value| record_with("affected", json!([value]));
    let range =
        |value: serde_json::Value| affected(json!({"package": {"ecosystem": "npm", "name": "x"}, "ranges": [value]}));
    let cases = [
        (
            affected(json!({"package": {"ecosystem": "npm"}})),
            "affected[0].package.name: missing required field",
        ),
        (
            affected(json!({"package": {"name": "x"}})),
            "affected[0].package.ecosystem: missing required field",
        ),
        (
            affected(json!({"package": {"ecosystem": "npm", "name": "x", "purl": "npm/x"}})),
            "affected[0].package.purl",
        ),
        (
            range(json!({"type": "CALVER", "events": [{"introduced": "0"}]})),
            "ranges[0].type: invalid range type \"CALVER\"",
        ),
        (
            range(json!({"events": [{"introduced": "0"}]})),
            "ranges[0].type: missing required field",
        ),
        (
            range(json!({"type": "GIT", "events": [{"introduced": "0"}]})),
            "ranges[0].repo: a GIT range needs the repository URL",
        ),
        (
            range(json!({"type": "SEMVER", "events": []})),
            "ranges[0].events: a range needs at least one event",
        ),
        (
            range(json!({"type": "SEMVER", "events": [{"introduced": "0", "fixed": "1"}]})),
            "ranges[0].events[0]: an event needs exactly one",
        ),
        (
            range(json!({"type": "SEMVER", "events": [{"introduced": "0"}, {}]})),
            "ranges[0].events[1]: an event needs exactly one",
        ),
    ];
    for (record, expected) in cases {
        let message = record_error(record);
        assert!(message.contains(expected), "{message}");
    }
}

#[test]
fn invalid_cwe_ids() {
    let message = record_error(record_with("database_specific", json!({"cwe_ids": ["CWE-79", "XSS"]})));
    assert!(
        message.contains("database_specific.cwe_ids[1]: invalid CWE id"),
        "{message}"
    );
    let message = record_error(record_with("database_specific", json!({"cwe_ids": [79.5]})));
    assert!(message.contains("database_specific.cwe_ids[0]"), "{message}");
}

#[test]
fn wrong_json_types() {
    let cases = [
        (record_with("aliases", json!("CVE-2024-0001")), "invalid type: string"),
        (record_with("affected", json!({"package": {}})), "invalid type: map"),
        (
            json!(["GHSA-aaaa-bbbb-cccc"]),
            "not an OSV record: expected a JSON object",
        ),
        (json!(null), "not an OSV record: expected a JSON object"),
    ];
    for (record, expected) in cases {
        let message = record_error(record);
        assert!(message.contains(expected), "{message}");
    }
}

#[test]
fn truncated_record() {
    let text = std::fs::read(fixture("osv/github/GHSA-jfh8-c2jp-5v3q.json")).unwrap();
    let error = OsvRecord::from_reader("cut.json", &text[..text.len() / 3]).unwrap_err();
    assert!(matches!(error, IntelError::Json { .. }), "{error}");
    assert!(error.to_string().contains("truncated"), "{error}");
}

#[test]
fn deep_nesting_rejected() {
    let text = format!(
        r#"{{"id": "X-1", "modified": "2024-01-01T00:00:00Z", "x": {}{}}}"#,
        "[".repeat(200_000),
        "]".repeat(200_000)
    );
    let error = OsvRecord::from_reader("deep.json", text.as_bytes()).unwrap_err();
    assert!(error.to_string().contains("nested deeper than 32 levels"), "{error}");
}

#[test]
fn huge_string_is_shortened() {
    let record = record_with("aliases", json!([format!("CVE-{}", "x".repeat(3_000_000))]));
    let message = record_error(record);
    assert!(message.len() < 400, "the error is {} bytes long", message.len());
}

#[test]
fn oversized_record() {
    let huge = std::io::repeat(b' ').take(OSV_MAX_RECORD_BYTES + 1);
    let error = OsvRecord::from_reader("huge.json", huge).unwrap_err();
    assert!(matches!(error, IntelError::TooLarge { .. }), "{error}");
}

#[test]
fn folder_errors() {
    let error = OsvStore::load_dir(fixture("osv/absent")).unwrap_err();
    assert!(matches!(error, IntelError::Io { .. }), "{error}");
    let error = OsvStore::load_dir(fixture("osv/notes.txt")).unwrap_err();
    assert!(matches!(error, IntelError::NotFormat { .. }), "{error}");
}
