//! The CVE JSON 5 loader against small records, CISA ADP enrichment,
//! rejected ids, invalid values, hostile inputs and the vulnrichment sample.

mod common;

use std::fs;
use std::io::Read;

use chrono::NaiveDate;
use common::{assert_invalid, capture_logs, fixture, fixture_json, fixture_json_with};
use ctem_intel::{
    CVE5_MAX_BYTES, Cve5Record, Cve5Store, CveState, Exploitation, Insertion, IntelError, SourceKind, TechnicalImpact,
    VersionStatus,
};
use ctem_model::{CveId, CvssVersion, Cwe, Severity};
use serde_json::{Value, json};

fn cve(text: &str) -> CveId {
    text.parse().expect("valid CVE id in test")
}

fn date(year: i32, month: u32, day: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year, month, day)
}

fn load(name: &str) -> Cve5Record {
    Cve5Record::load(fixture(&format!("cve5/{name}"))).expect("the fixture loads")
}

/// Reads `document` as a record named `variant.json`.
fn read_value(document: &Value) -> Result<Cve5Record, IntelError> {
    let bytes = serde_json::to_vec(document).expect("serialize");
    Cve5Record::from_reader("variant.json", bytes.as_slice())
}

/// Reads the ADP fixture with the value at the JSON pointer `pointer` replaced.
fn adp_record_with(pointer: &str, replacement: Value) -> Result<Cve5Record, IntelError> {
    read_value(&fixture_json_with("cve5/CVE-2023-20002.json", pointer, replacement))
}

/// Lists the CVSS facts of a record as (author, vector, computed score).
fn cvss_by_author(record: &Cve5Record) -> Vec<(Option<&str>, String, f64)> {
    record
        .cvss
        .iter()
        .map(|fact| {
            let vector = &fact.value.vector;
            (fact.source.author.as_deref(), vector.to_string(), vector.base_score())
        })
        .collect()
}

#[test]
fn cna_record_metadata() {
    let record = load("CVE-2024-10001.json");
    assert_eq!(record.cve, cve("CVE-2024-10001"));
    assert_eq!(record.state, CveState::Published);
    assert!(!record.is_rejected());
    assert_eq!(record.data_version, "5.1");
    assert_eq!(
        record.date_published.map(|time| time.to_rfc3339()).as_deref(),
        Some("2024-10-15T12:30:00+00:00")
    );
    assert_eq!(
        record.date_updated.map(|time| time.to_rfc3339()).as_deref(),
        Some("2024-10-20T09:15:00+00:00")
    );
    assert_eq!(record.source.kind, SourceKind::Cve5);
    assert_eq!(record.source.author.as_deref(), Some("ExampleCNA"));
    assert_eq!(record.source.date, date(2024, 10, 20));
    assert!(record.warnings.is_empty(), "{:?}", record.warnings);
}

#[test]
fn cna_record_description_and_title() {
    let record = load("CVE-2024-10001.json");
    let description = record.description.expect("an English description");
    assert!(description.value.starts_with("A path traversal in the file download"));
    assert_eq!(description.source.author.as_deref(), Some("ExampleCNA"));
    assert_eq!(description.source.date, date(2024, 10, 20));
    assert!(description.source.path.ends_with("CVE-2024-10001.json"));

    let title = record.title.expect("a title");
    assert_eq!(title.value, "Path traversal in Example Gateway file download");
    assert!(record.rejected_reason.is_none());
}

#[test]
fn cna_record_cvss() {
    let record = load("CVE-2024-10001.json");
    let versions: Vec<CvssVersion> = record.cvss.iter().map(|fact| fact.value.vector.version()).collect();
    assert_eq!(versions, [CvssVersion::V31, CvssVersion::V40, CvssVersion::V2]);

    let v31 = &record.cvss[0].value;
    assert_eq!(v31.vector.to_string(), "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N");
    assert_eq!(v31.stated_score, Some(7.5));
    assert_eq!(v31.stated_severity, Some(Severity::High));
    assert_eq!(v31.metric_type, None);
    assert!(v31.score_agrees());

    assert_eq!(record.cvss[1].value.vector.base_score(), 8.7);
    let v2 = &record.cvss[2].value;
    assert_eq!(v2.stated_score, Some(5.0));
    assert_eq!(v2.stated_severity, None, "CVSS v2 objects have no baseSeverity");
    assert!(
        record
            .cvss
            .iter()
            .all(|fact| fact.source.author.as_deref() == Some("ExampleCNA"))
    );
}

#[test]
fn cna_record_cwes() {
    let record = load("CVE-2024-10001.json");
    let cwes: Vec<Cwe> = record.cwes.iter().map(|fact| fact.value).collect();
    assert_eq!(
        cwes,
        [Cwe(22), Cwe(73)],
        "cweId, a description prefix, no duplicate, no placeholder"
    );
}

#[test]
fn cna_record_affected() {
    let record = load("CVE-2024-10001.json");
    assert_eq!(record.affected.len(), 2);

    let gateway = &record.affected[0].value;
    assert_eq!(gateway.vendor.as_deref(), Some("Example Corp"));
    assert_eq!(gateway.product.as_deref(), Some("Example Gateway"));
    assert_eq!(gateway.default_status, Some(VersionStatus::Unaffected));
    assert_eq!(gateway.cpes, ["cpe:2.3:a:example:gateway:*:*:*:*:*:*:*:*"]);
    assert_eq!(gateway.versions.len(), 2);
    let range = &gateway.versions[0];
    assert_eq!(range.status, VersionStatus::Affected);
    assert_eq!(range.version, "3.0.0");
    assert_eq!(range.less_than.as_deref(), Some("3.2.1"));
    assert_eq!(range.version_type.as_deref(), Some("semver"));
    assert_eq!(gateway.versions[1].status, VersionStatus::Unaffected);

    let client = &record.affected[1].value;
    assert_eq!(client.package_name.as_deref(), Some("example-gateway-client"));
    assert_eq!(client.collection_url.as_deref(), Some("https://pypi.org"));
    assert_eq!(client.default_status, Some(VersionStatus::Unknown));
    assert_eq!(client.versions[0].less_than_or_equal.as_deref(), Some("1.4.2"));
    assert_eq!(client.vendor, None);
}

#[test]
fn cna_record_references_and_timeline() {
    let record = load("CVE-2024-10001.json");
    assert_eq!(record.references.len(), 3);
    assert_eq!(record.references[0].value.name.as_deref(), Some("EX-2024-01"));
    assert_eq!(record.references[0].value.tags, ["vendor-advisory"]);
    assert!(record.references[2].value.tags.is_empty());

    let exploits: Vec<&str> = record
        .exploit_references()
        .map(|fact| fact.value.url.as_str())
        .collect();
    assert_eq!(exploits, ["https://github.com/researcher/example-gateway-poc"]);

    assert_eq!(record.timeline.len(), 2);
    assert_eq!(record.timeline[1].value.value, "Advisory published");
    assert_eq!(record.timeline[1].value.time.to_rfc3339(), "2024-10-15T00:00:00+00:00");
    assert!(record.ssvc.is_empty());
    assert!(record.kev.is_empty());
}

#[test]
fn adp_record_ssvc() {
    let record = load("CVE-2023-20002.json");
    assert_eq!(record.ssvc.len(), 1);
    let ssvc = &record.ssvc[0];
    assert_eq!(ssvc.value.exploitation, Some(Exploitation::Poc));
    assert_eq!(ssvc.value.automatable, Some(true));
    assert_eq!(ssvc.value.technical_impact, Some(TechnicalImpact::Total));
    assert_eq!(ssvc.value.role.as_deref(), Some("CISA Coordinator"));
    assert_eq!(ssvc.value.version.as_deref(), Some("2.0.3"));
    assert_eq!(
        ssvc.value.timestamp.map(|time| time.to_rfc3339()).as_deref(),
        Some("2023-12-09T05:05:17.297744+00:00")
    );
    assert_eq!(
        ssvc.value.other.get("Mission Impact").map(String::as_str),
        Some("MEF Failure")
    );
    assert_eq!(ssvc.source.author.as_deref(), Some("CISA-ADP"));
    assert_eq!(ssvc.source.date, date(2024, 9, 13));
}

#[test]
fn adp_record_kev_and_timeline() {
    let record = load("CVE-2023-20002.json");
    assert_eq!(record.kev.len(), 1);
    let kev = &record.kev[0];
    assert_eq!(Some(kev.value.date_added), date(2023, 10, 5));
    assert!(
        kev.value
            .reference
            .as_deref()
            .is_some_and(|url| url.contains("CVE-2023-20002"))
    );
    assert_eq!(kev.source.author.as_deref(), Some("CISA-ADP"));

    let events: Vec<&str> = record.timeline.iter().map(|fact| fact.value.value.as_str()).collect();
    assert_eq!(events, ["CVE-2023-20002 added to CISA KEV"]);
}

#[test]
fn adp_record_cvss_and_cwe_sources() {
    let record = load("CVE-2023-20002.json");
    assert_eq!(
        cvss_by_author(&record),
        [
            (
                Some("ExampleSoft"),
                "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H".to_string(),
                10.0
            ),
            (
                Some("CISA-ADP"),
                "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H".to_string(),
                9.8
            ),
        ]
    );
    assert_eq!(record.cvss[0].source.date, date(2023, 6, 1));

    assert_eq!(record.cwes.len(), 1);
    assert_eq!(record.cwes[0].value, Cwe(20));
    assert_eq!(record.cwes[0].source.author.as_deref(), Some("CISA-ADP"));
    assert_eq!(
        record.references.len(),
        2,
        "the CNA's reference and the CVE Program's copy"
    );
}

#[test]
fn stated_score_mismatch_is_noted() {
    let (record, logs) = capture_logs(|| load("CVE-2023-20002.json"));
    assert_eq!(record.warnings.len(), 1, "{:?}", record.warnings);
    let warning = &record.warnings[0];
    assert!(warning.contains("containers.cna.metrics[0].cvssV3_0"), "{warning}");
    assert!(warning.contains("stated base score 9.3"), "{warning}");
    assert!(warning.contains("differs from the score 10 computed"), "{warning}");
    assert!(!record.cvss[0].value.score_agrees());
    assert_eq!(record.cvss[0].value.stated_score, Some(9.3));
    assert!(logs.contains("DEBUG"), "{logs}");
    assert!(logs.contains("CVE-2023-20002"), "{logs}");
}

#[test]
fn vector_version_mismatch_warns() {
    let record = adp_record_with(
        "/containers/cna/metrics/0/cvssV3_0/vectorString",
        json!("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"),
    )
    .unwrap();
    assert!(
        record
            .warnings
            .iter()
            .any(|warning| warning.contains("is CVSS 3.1, but the field is for CVSS 3.0")),
        "{:?}",
        record.warnings
    );
}

#[test]
fn rejected_record_loads() {
    let record = load("CVE-2022-30003.json");
    assert_eq!(record.state, CveState::Rejected);
    assert!(record.is_rejected());
    assert_eq!(record.data_version, "5.0");
    let reason = record.rejected_reason.expect("a rejection reason");
    assert!(reason.value.contains("duplicate of CVE-2022-30004"));
    assert_eq!(reason.source.author.as_deref(), Some("ExampleOS"));
    assert!(record.description.is_none());
    assert!(record.cvss.is_empty());
    assert!(record.affected.is_empty());
}

#[test]
fn ssvc_spellings_normalize() {
    let cases = [
        (
            json!([{"Exploitation": "none"}, {"Automatable": "no"}, {"Technical Impact": "partial"}]),
            Exploitation::None,
            false,
            TechnicalImpact::Partial,
        ),
        (
            json!([{"exploitation": "PoC"}, {"AUTOMATABLE": "Yes"}, {"technicalImpact": "Total"}]),
            Exploitation::Poc,
            true,
            TechnicalImpact::Total,
        ),
        (
            json!([{"Exploitation": "public PoC"}, {"automatable": "YES"}, {"technical_impact": "total"}]),
            Exploitation::Poc,
            true,
            TechnicalImpact::Total,
        ),
        (
            json!([{" Exploitation ": "Active"}, {"Automatable": "No"}, {"Technical-Impact": "Partial"}]),
            Exploitation::Active,
            false,
            TechnicalImpact::Partial,
        ),
    ];
    for (options, exploitation, automatable, technical_impact) in cases {
        let record = adp_record_with("/containers/adp/1/metrics/1/other/content/options", options.clone()).unwrap();
        let points = &record.ssvc[0].value;
        assert_eq!(points.exploitation, Some(exploitation), "{options}");
        assert_eq!(points.automatable, Some(automatable), "{options}");
        assert_eq!(points.technical_impact, Some(technical_impact), "{options}");
        assert!(points.other.is_empty(), "{options}");
    }
}

#[test]
fn ssvc_without_options_is_empty() {
    let record = adp_record_with("/containers/adp/1/metrics/1/other/content/options", json!([])).unwrap();
    let points = &record.ssvc[0].value;
    assert_eq!(points.exploitation, None);
    assert_eq!(points.automatable, None);
    assert_eq!(points.technical_impact, None);
}

/// Replacements that make the ADP fixture invalid: the JSON pointer, the
/// new value, the JSON path the error must name and a part of its reason.
const INVALID_CASES: &[(&str, &str, &str, &str)] = &[
    (
        "/containers/adp/1/metrics/1/other/content/options/0",
        r#"{"Exploitation": "maybe"}"#,
        "containers.adp[1].metrics[1].other.content.options[0].Exploitation",
        "invalid SSVC Exploitation value \"maybe\": expected none, poc or active",
    ),
    (
        "/containers/adp/1/metrics/1/other/content/options/1",
        r#"{"Automatable": "sometimes"}"#,
        "containers.adp[1].metrics[1].other.content.options[1].Automatable",
        "expected yes or no",
    ),
    (
        "/containers/adp/1/metrics/1/other/content/options/2",
        r#"{"Technical Impact": "huge"}"#,
        "containers.adp[1].metrics[1].other.content.options[2].Technical Impact",
        "expected partial or total",
    ),
    (
        "/containers/adp/1/metrics/1/other/content/options/3",
        r#"{"exploitation": "active"}"#,
        "containers.adp[1].metrics[1].other.content.options[3].exploitation",
        "stated twice with different values",
    ),
    (
        "/containers/adp/1/metrics/1/other/content/options/0",
        r#"{"Exploitation": 1}"#,
        "containers.adp[1].metrics[1].other.content.options[0].Exploitation",
        "expected a string, found the number 1",
    ),
    (
        "/containers/adp/1/metrics/1/other/content/options",
        r#"{"Exploitation": "poc"}"#,
        "containers.adp[1].metrics[1].other.content.options",
        "expected an array, found an object",
    ),
    (
        "/containers/adp/1/metrics/1/other/content/timestamp",
        r#""last week""#,
        "containers.adp[1].metrics[1].other.content.timestamp",
        "invalid date-time \"last week\"",
    ),
    (
        "/containers/adp/1/metrics/2/other/content/dateAdded",
        r#""soon""#,
        "containers.adp[1].metrics[2].other.content.dateAdded",
        "invalid date",
    ),
    (
        "/cveMetadata/cveId",
        r#""CVE-23-1""#,
        "cveMetadata.cveId",
        "invalid CVE id \"CVE-23-1\"",
    ),
    (
        "/cveMetadata/state",
        r#""DRAFT""#,
        "cveMetadata.state",
        "expected PUBLISHED or REJECTED",
    ),
    (
        "/cveMetadata/dateUpdated",
        r#""yesterday""#,
        "cveMetadata.dateUpdated",
        "invalid date-time",
    ),
    (
        "/containers/cna/metrics/0/cvssV3_0/vectorString",
        r#""CVSS:3.0/AV:X/AC:L""#,
        "containers.cna.metrics[0].cvssV3_0.vectorString",
        "invalid CVSS vector",
    ),
    (
        "/containers/cna/metrics/0/cvssV3_0",
        r#"{"version": "3.0", "baseScore": 9.8}"#,
        "containers.cna.metrics[0].cvssV3_0",
        "missing required field vectorString",
    ),
    (
        "/containers/cna/metrics/0/cvssV3_0/baseScore",
        r#""high""#,
        "containers.cna.metrics[0].cvssV3_0.baseScore",
        "expected a number, found the string \"high\"",
    ),
    (
        "/containers/cna/metrics/0/cvssV3_0/baseSeverity",
        r#""SEVERE""#,
        "containers.cna.metrics[0].cvssV3_0.baseSeverity",
        "invalid severity \"SEVERE\"",
    ),
    (
        "/containers/adp/1/problemTypes/0/descriptions/0/cweId",
        r#""CWE-abc""#,
        "containers.adp[1].problemTypes[0].descriptions[0].cweId",
        "invalid CWE id \"CWE-abc\"",
    ),
    (
        "/containers/cna/affected/0/versions/0/status",
        r#""vulnerable""#,
        "containers.cna.affected[0].versions[0].status",
        "expected affected, unaffected or unknown",
    ),
    (
        "/containers/cna/affected/0/versions/0",
        r#"{"status": "affected"}"#,
        "containers.cna.affected[0].versions[0]",
        "missing required field version",
    ),
    (
        "/containers/cna/descriptions",
        r#""A description that should be an array""#,
        "containers.cna.descriptions",
        "expected an array, found the string",
    ),
    (
        "/containers/cna/references/0/url",
        "42",
        "containers.cna.references[0].url",
        "expected a string, found the number 42",
    ),
    ("/containers/adp", r#""none""#, "containers.adp", "expected an array"),
    (
        "/containers/adp/1/timeline/0/time",
        r#""later""#,
        "containers.adp[1].timeline[0].time",
        "invalid date-time",
    ),
    (
        "/containers/cna",
        "[]",
        "containers.cna",
        "expected an object, found an array",
    ),
    (
        "/cveMetadata",
        r#"{"state": "PUBLISHED"}"#,
        "cveMetadata",
        "missing required field cveId",
    ),
];

#[test]
fn invalid_values_name_json_path() {
    for &(pointer, replacement, location, reason) in INVALID_CASES {
        let replacement: Value = serde_json::from_str(replacement).expect("replacement is JSON");
        let error = adp_record_with(pointer, replacement).expect_err(pointer);
        assert_invalid(&error, pointer, location, reason);
        assert!(error.to_string().starts_with("variant.json: "), "{error}");
    }
}

#[test]
fn other_formats_are_named() {
    let cases = [
        (fixture_json("cve5/cve4.json"), "CVE JSON 4"),
        (json!([]), "not a JSON object"),
        (json!("CVE-2024-0001"), "not a JSON object"),
        (
            json!({"dataType": "CVE_LIST", "dataVersion": "5.1"}),
            "dataType is \"CVE_LIST\"",
        ),
        (
            json!({"dataType": "CVE_RECORD", "dataVersion": "4.0"}),
            "dataVersion is \"4.0\"",
        ),
        (json!({"resultsPerPage": 1, "vulnerabilities": []}), "NVD API response"),
        (json!({"catalogVersion": "2025.08.25"}), "dataType is missing"),
    ];
    for (document, reason) in cases {
        let error = read_value(&document).expect_err("not a CVE record");
        assert!(
            matches!(
                &error,
                IntelError::NotFormat {
                    expected: "a CVE JSON 5 record",
                    ..
                }
            ),
            "{error}"
        );
        assert!(error.to_string().contains(reason), "{error}");
    }
}

#[test]
fn missing_metadata_is_invalid() {
    let mut document = fixture_json("cve5/CVE-2023-20002.json");
    document.as_object_mut().unwrap().remove("cveMetadata");
    let error = read_value(&document).unwrap_err();
    assert_eq!(
        error.to_string(),
        "variant.json: top level: missing required field cveMetadata"
    );
}

#[test]
fn truncated_file_is_reported() {
    let path = fixture("cve5/truncated.json");
    let error = Cve5Record::load(&path).unwrap_err();
    let IntelError::Json { message, .. } = &error else {
        panic!("expected a JSON error, got {error}");
    };
    assert!(message.contains("truncated"), "{message}");
    assert!(error.to_string().contains(&path.display().to_string()), "{error}");
}

#[test]
fn malformed_file_names_position() {
    let error = Cve5Record::load(fixture("cve5/malformed.json")).unwrap_err();
    let IntelError::Json { line, message, .. } = &error else {
        panic!("expected a JSON error, got {error}");
    };
    assert_eq!(*line, 9, "{error}");
    assert!(message.starts_with("invalid JSON"), "{message}");
}

#[test]
fn empty_input_is_truncated() {
    let error = Cve5Record::from_reader("empty.json", &b""[..]).unwrap_err();
    assert!(error.to_string().contains("truncated"), "{error}");
}

#[test]
fn deep_nesting_is_rejected() {
    let depth = 100_000;
    let deep = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let error = Cve5Record::from_reader("deep.json", deep.as_bytes()).unwrap_err();
    assert!(error.to_string().contains("recursion limit"), "{error}");

    // Deep nesting inside an ignored field of a valid record is rejected too.
    let text = fs::read_to_string(fixture("cve5/CVE-2023-20002.json")).unwrap();
    let nested = format!("{}1{}", "{\"a\":".repeat(1000), "}".repeat(1000));
    let hostile = text.replacen("\"cna\": {", &format!("\"cna\": {{\"x_deep\": {nested},"), 1);
    let error = Cve5Record::from_reader("deep_field.json", hostile.as_bytes()).unwrap_err();
    assert!(error.to_string().contains("recursion limit"), "{error}");
}

#[test]
fn oversized_input_is_rejected() {
    let huge = std::io::repeat(b' ').take(CVE5_MAX_BYTES + 1);
    let error = Cve5Record::from_reader("huge.json", huge).unwrap_err();
    assert!(
        matches!(
            error,
            IntelError::TooLarge {
                limit: CVE5_MAX_BYTES,
                ..
            }
        ),
        "{error}"
    );
}

#[test]
fn huge_string_within_limit() {
    let long = "x".repeat(4 * 1024 * 1024);
    let record = adp_record_with("/containers/cna/descriptions/0/value", json!(long)).unwrap();
    assert_eq!(record.description.unwrap().value.len(), long.len());

    let error = adp_record_with("/cveMetadata/cveId", json!(long)).unwrap_err();
    let message = error.to_string();
    assert!(message.len() < 400, "the value is shortened: {} bytes", message.len());
}

#[test]
fn file_name_mismatch_warns() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("CVE-2099-0001.json");
    fs::copy(fixture("cve5/CVE-2024-10001.json"), &path).unwrap();
    let record = Cve5Record::load(&path).unwrap();
    assert_eq!(
        record.warnings,
        ["the file name does not match the CVE id CVE-2024-10001"]
    );
}

#[test]
fn missing_file_is_io_error() {
    let error = Cve5Record::load(fixture("cve5/CVE-2000-0000.json")).unwrap_err();
    assert!(matches!(error, IntelError::Io { .. }), "{error}");
}

/// Writes the ADP fixture with `dateUpdated` set to `updated` under `dir/sub`.
fn write_version(dir: &std::path::Path, sub: &str, updated: &str, title: &str) {
    let mut document = fixture_json("cve5/CVE-2023-20002.json");
    document["cveMetadata"]["dateUpdated"] = json!(updated);
    document["containers"]["cna"]["title"] = json!(title);
    let folder = dir.join(sub);
    fs::create_dir_all(&folder).unwrap();
    fs::write(
        folder.join("CVE-2023-20002.json"),
        serde_json::to_vec(&document).unwrap(),
    )
    .unwrap();
}

#[test]
fn store_keeps_latest_update() {
    let dir = tempfile::tempdir().unwrap();
    // The newer copy sorts first, so the older one must not replace it.
    write_version(dir.path(), "a/2023/20xxx", "2024-09-13T18:13:18.030Z", "newer");
    write_version(dir.path(), "b/2023/20xxx", "2023-06-01T10:00:00.000Z", "older");
    fs::copy(
        fixture("cve5/CVE-2024-10001.json"),
        dir.path().join("a/CVE-2024-10001.json"),
    )
    .unwrap();
    fs::write(dir.path().join("README.json"), "not a record").unwrap();

    let mut store = Cve5Store::new();
    let load = store.load_dir(dir.path()).unwrap();
    assert_eq!(load.files, 3, "README.json is not a CVE-*.json file");
    assert_eq!(load.added, 2);
    assert_eq!(load.not_newer, 1);
    assert!(load.failed.is_empty());
    assert_eq!(store.len(), 2);
    let kept = store.get(&cve("CVE-2023-20002")).unwrap();
    assert_eq!(kept.title.as_ref().map(|fact| fact.value.as_str()), Some("newer"));

    write_version(dir.path(), "c", "2025-01-01T00:00:00Z", "newest");
    let load = store.load_dir(dir.path().join("c")).unwrap();
    assert_eq!(load.replaced, 1);
    let kept = store.get(&cve("CVE-2023-20002")).unwrap();
    assert_eq!(kept.title.as_ref().map(|fact| fact.value.as_str()), Some("newest"));
}

#[test]
fn store_insert_outcomes() {
    let mut store = Cve5Store::new();
    let record = load("CVE-2023-20002.json");
    let mut older = record.clone();
    older.date_updated = None;
    assert_eq!(store.insert(older.clone()), Insertion::Added);
    assert_eq!(store.insert(older), Insertion::Kept, "a tie keeps the stored record");
    assert_eq!(store.insert(record.clone()), Insertion::Replaced, "a date beats none");
    assert_eq!(store.insert(record), Insertion::Kept);
    assert_eq!(store.len(), 1);
}

#[test]
fn store_reports_invalid_files() {
    let dir = tempfile::tempdir().unwrap();
    fs::copy(fixture("cve5/truncated.json"), dir.path().join("CVE-2023-20002.json")).unwrap();
    fs::copy(
        fixture("cve5/CVE-2024-10001.json"),
        dir.path().join("CVE-2024-10001.json"),
    )
    .unwrap();

    let mut store = Cve5Store::new();
    let (load, logs) = capture_logs(|| store.load_dir(dir.path()).unwrap());
    assert_eq!(load.files, 2);
    assert_eq!(load.added, 1);
    assert_eq!(load.failed.len(), 1);
    assert!(load.failed[0].path.ends_with("CVE-2023-20002.json"));
    assert!(matches!(load.failed[0].error, IntelError::Json { .. }));
    assert!(logs.contains("could not be loaded"), "{logs}");
}

#[test]
fn store_missing_dir_is_error() {
    let error = Cve5Store::new().load_dir(fixture("cve5/no-such-folder")).unwrap_err();
    assert!(matches!(error, IntelError::Io { .. }), "{error}");
}

#[test]
fn sample_loads_and_reloads() {
    let Some(shared) = common::shared_dir("sample_loads_and_reloads") else {
        return;
    };
    let dir = shared.join("intel/cve5");

    let mut store = Cve5Store::new();
    let first = store.load_dir(&dir).unwrap();
    let errors: Vec<String> = first.failed.iter().map(|failed| failed.error.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(first.files, 1451);
    assert_eq!(first.added, 1451);
    assert_eq!(store.len(), 1451);
    assert_eq!(store.records().filter(|record| record.is_rejected()).count(), 4);
    let with_ssvc = store.records().filter(|record| !record.ssvc.is_empty()).count();
    assert_eq!(with_ssvc, 1447, "every published record has CISA-ADP SSVC points");

    let before = store.clone();
    let second = store.load_dir(&dir).unwrap();
    assert_eq!(second.files, 1451);
    assert_eq!(second.added, 0);
    assert_eq!(second.replaced, 0);
    assert_eq!(second.not_newer, 1451);
    assert!(second.failed.is_empty());
    assert!(store == before, "a second load changes nothing");
}

#[test]
fn sample_confluence_record() {
    let Some(shared) = common::shared_dir("sample_confluence_record") else {
        return;
    };
    let record = Cve5Record::load(shared.join("intel/cve5/2023/22xxx/CVE-2023-22515.json")).unwrap();
    assert_eq!(record.cve, cve("CVE-2023-22515"));
    assert_eq!(record.source.author.as_deref(), Some("atlassian"));

    let ssvc = &record.ssvc[0];
    assert_eq!(ssvc.value.exploitation, Some(Exploitation::Active));
    assert_eq!(ssvc.value.automatable, Some(true));
    assert_eq!(ssvc.value.technical_impact, Some(TechnicalImpact::Total));
    assert_eq!(ssvc.source.author.as_deref(), Some("CISA-ADP"));
    assert_eq!(ssvc.source.date, date(2024, 9, 13));

    let kev = &record.kev[0];
    assert_eq!(Some(kev.value.date_added), date(2023, 10, 5));
    assert!(
        kev.value
            .reference
            .as_deref()
            .is_some_and(|url| url.contains("CVE-2023-22515"))
    );

    assert_eq!(
        cvss_by_author(&record),
        [
            (
                Some("atlassian"),
                "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H".to_string(),
                10.0
            ),
            (
                Some("CISA-ADP"),
                "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H".to_string(),
                9.8
            ),
        ]
    );

    let cwes: Vec<(Option<&str>, Cwe)> = record
        .cwes
        .iter()
        .map(|fact| (fact.source.author.as_deref(), fact.value))
        .collect();
    assert_eq!(cwes, [(Some("CISA-ADP"), Cwe(20))]);
    assert!(record.warnings.is_empty(), "{:?}", record.warnings);
}
