//! The NVD CVE API 2.0 loader against response pages, single-CVE files,
//! invalid values and hostile inputs.

mod common;

use std::fs;
use std::io::Read;

use chrono::NaiveDate;
use common::{assert_invalid, capture_logs, fixture, fixture_json, fixture_json_with};
use ctem_intel::{IntelError, MetricType, NVD_MAX_BYTES, NvdCve, NvdFile, NvdOperator, NvdStore, SourceKind};
use ctem_model::{CveId, CvssVersion, Cwe, Severity};
use serde_json::{Value, json};

fn cve(text: &str) -> CveId {
    text.parse().expect("valid CVE id in test")
}

fn date(year: i32, month: u32, day: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year, month, day)
}

fn load(name: &str) -> NvdFile {
    NvdFile::load(fixture(&format!("nvd/{name}"))).expect("the fixture loads")
}

fn log4shell() -> NvdCve {
    load("response.json").cves.remove(0)
}

fn read_value(document: &Value) -> Result<NvdFile, IntelError> {
    let bytes = serde_json::to_vec(document).expect("serialize");
    NvdFile::from_reader("variant.json", bytes.as_slice())
}

/// Reads the response fixture with the value at the JSON pointer `pointer` replaced.
fn response_with(pointer: &str, replacement: Value) -> Result<NvdFile, IntelError> {
    read_value(&fixture_json_with("nvd/response.json", pointer, replacement))
}

#[test]
fn response_page_header() {
    let file = load("response.json");
    let page = file.page.expect("a response page");
    assert_eq!(page.results_per_page, 2);
    assert_eq!(page.start_index, 0);
    assert_eq!(page.total_results, 2);
    assert_eq!(
        page.timestamp.map(|time| time.to_rfc3339()).as_deref(),
        Some("2025-08-25T17:04:19.970+00:00")
    );
    let ids: Vec<&str> = file.cves.iter().map(|entry| entry.cve.as_str()).collect();
    assert_eq!(ids, ["CVE-2021-44228", "CVE-2025-10002"]);
}

#[test]
fn cve_metadata() {
    let entry = log4shell();
    assert_eq!(entry.source_identifier.as_deref(), Some("security@apache.org"));
    assert_eq!(entry.published.to_rfc3339(), "2021-12-10T10:15:09.143+00:00");
    assert_eq!(entry.last_modified.to_rfc3339(), "2025-02-04T15:15:13.773+00:00");
    assert_eq!(entry.vuln_status.as_deref(), Some("Analyzed"));
    assert!(!entry.is_rejected());
    assert_eq!(entry.source.kind, SourceKind::Nvd);
    assert_eq!(entry.source.date, date(2025, 2, 4));
    assert!(entry.warnings.is_empty(), "{:?}", entry.warnings);

    let description = entry.description.expect("an English description");
    assert!(description.value.starts_with("JNDI features of Apache Log4j2"));
    assert_eq!(description.source.author, None);
}

#[test]
fn cvss_metrics_with_source_and_type() {
    let entry = log4shell();
    let metrics: Vec<(Option<&str>, Option<MetricType>, CvssVersion, f64)> = entry
        .cvss
        .iter()
        .map(|fact| {
            (
                fact.source.author.as_deref(),
                fact.value.metric_type,
                fact.value.vector.version(),
                fact.value.vector.base_score(),
            )
        })
        .collect();
    assert_eq!(
        metrics,
        [
            (Some("nvd@nist.gov"), Some(MetricType::Primary), CvssVersion::V2, 9.3),
            (Some("nvd@nist.gov"), Some(MetricType::Primary), CvssVersion::V31, 10.0),
            (
                Some("security@apache.org"),
                Some(MetricType::Secondary),
                CvssVersion::V31,
                10.0
            ),
        ]
    );
    assert_eq!(
        entry.cvss[0].value.stated_severity,
        Some(Severity::High),
        "v2 severity beside cvssData"
    );
    assert_eq!(entry.cvss[1].value.stated_severity, Some(Severity::Critical));
    assert_eq!(entry.cvss[1].value.stated_score, Some(10.0));
    assert!(entry.cvss.iter().all(|fact| fact.value.score_agrees()));
    assert!(entry.cvss.iter().all(|fact| fact.source.date == date(2025, 2, 4)));
}

#[test]
fn cvss_v30_and_v40() {
    let entry = load("response.json").cves.remove(1);
    let versions: Vec<CvssVersion> = entry.cvss.iter().map(|fact| fact.value.vector.version()).collect();
    assert_eq!(versions, [CvssVersion::V30, CvssVersion::V40]);
    assert_eq!(entry.cvss[1].value.stated_score, Some(5.1));
    assert!(entry.warnings.is_empty(), "{:?}", entry.warnings);
    assert!(entry.kev.is_none());
    assert!(entry.configurations.is_empty());
}

#[test]
fn weaknesses_by_source() {
    let entry = log4shell();
    let cwes: Vec<(Option<&str>, Cwe)> = entry
        .cwes
        .iter()
        .map(|fact| (fact.source.author.as_deref(), fact.value))
        .collect();
    assert_eq!(
        cwes,
        [
            (Some("nvd@nist.gov"), Cwe(917)),
            (Some("security@apache.org"), Cwe(20)),
            (Some("security@apache.org"), Cwe(400)),
            (Some("security@apache.org"), Cwe(502)),
        ],
        "no placeholder and no duplicate"
    );
}

#[test]
fn configurations_keep_ranges_and_operators() {
    let entry = log4shell();
    assert_eq!(entry.configurations.len(), 2);

    let simple = &entry.configurations[0];
    assert_eq!(simple.operator, None);
    assert!(!simple.negate);
    assert_eq!(simple.nodes.len(), 1);
    assert_eq!(simple.nodes[0].operator, NvdOperator::Or);
    let first = &simple.nodes[0].cpe_match[0];
    assert!(first.vulnerable);
    assert_eq!(first.criteria, "cpe:2.3:a:apache:log4j:*:*:*:*:*:*:*:*");
    assert_eq!(first.version_start_including.as_deref(), Some("2.0.1"));
    assert_eq!(first.version_end_excluding.as_deref(), Some("2.3.1"));
    assert_eq!(first.version_start_excluding, None);
    assert_eq!(
        first.match_criteria_id.as_deref(),
        Some("03FA5E81-F9C0-403E-8A4B-E4284E4E7B72")
    );
    assert_eq!(simple.nodes[0].cpe_match.len(), 2);

    let combined = &entry.configurations[1];
    assert_eq!(combined.operator, Some(NvdOperator::And));
    let firmware = &combined.nodes[0].cpe_match[0];
    assert_eq!(firmware.version_start_excluding.as_deref(), Some("1.0"));
    assert_eq!(firmware.version_end_including.as_deref(), Some("4.2"));
    let platform = &combined.nodes[1];
    assert!(platform.negate);
    assert!(!platform.cpe_match[0].vulnerable);
}

#[test]
fn cisa_kev_fields() {
    let entry = log4shell();
    let kev = entry.kev.expect("CISA lists the CVE");
    assert_eq!(Some(kev.value.date_added), date(2021, 12, 10));
    assert_eq!(kev.value.action_due, date(2021, 12, 24));
    assert!(
        kev.value
            .required_action
            .as_deref()
            .is_some_and(|text| text.starts_with("For all affected"))
    );
    assert_eq!(
        kev.value.vulnerability_name.as_deref(),
        Some("Apache Log4j2 Remote Code Execution Vulnerability")
    );
    assert_eq!(kev.source.kind, SourceKind::Nvd);
}

#[test]
fn references_mark_exploits() {
    let entry = log4shell();
    assert_eq!(entry.references.len(), 3);
    assert_eq!(entry.references[0].value.tags, ["Release Notes", "Vendor Advisory"]);
    assert_eq!(
        entry.references[0].source.author.as_deref(),
        Some("security@apache.org")
    );
    assert!(entry.references[2].value.tags.is_empty());

    let exploits: Vec<&str> = entry.exploit_references().map(|fact| fact.value.url.as_str()).collect();
    assert_eq!(
        exploits,
        ["http://packetstormsecurity.com/files/165225/Apache-Log4j2-2.14.1-Remote-Code-Execution.html"]
    );
}

#[test]
fn single_item_file() {
    let (file, logs) = capture_logs(|| load("single_item.json"));
    assert_eq!(file.page, None);
    assert_eq!(file.cves.len(), 1);
    let entry = &file.cves[0];
    assert_eq!(entry.cve, cve("CVE-2024-30003"));
    assert_eq!(entry.vuln_status.as_deref(), Some("Modified"));
    let cwes: Vec<Cwe> = entry.cwes.iter().map(|fact| fact.value).collect();
    assert_eq!(cwes, [Cwe(190), Cwe(787)]);

    // The stated 8.1 disagrees with the vector, which scores 7.8.
    assert_eq!(entry.cvss[0].value.vector.base_score(), 7.8);
    assert!(!entry.cvss[0].value.score_agrees());
    assert_eq!(entry.warnings.len(), 1, "{:?}", entry.warnings);
    assert!(
        entry.warnings[0].contains("cve.metrics.cvssMetricV31[0].cvssData: stated base score 8.1"),
        "{}",
        entry.warnings[0]
    );
    assert!(logs.contains("NVD file loaded with warnings"), "{logs}");
}

#[test]
fn bare_cve_file() {
    let file = load("single_cve.json");
    assert_eq!(file.page, None);
    let entry = &file.cves[0];
    assert_eq!(entry.cve, cve("CVE-2019-40004"));
    assert!(entry.is_rejected());
    assert!(entry.cvss.is_empty());
    assert_eq!(entry.published.to_rfc3339(), "2019-07-22T18:15:10.917+00:00");
}

#[test]
fn page_count_mismatch_warns() {
    let (file, logs) = capture_logs(|| response_with("/resultsPerPage", json!(3)).unwrap());
    assert_eq!(file.cves.len(), 2);
    assert!(logs.contains("resultsPerPage disagrees"), "{logs}");
}

/// Replacements that make the response fixture invalid: the JSON pointer,
/// the new value, the JSON path the error must name and a part of its reason.
const INVALID_CASES: &[(&str, &str, &str, &str)] = &[
    (
        "/vulnerabilities/0/cve/id",
        r#""CVE-2021-4""#,
        "vulnerabilities[0].cve.id",
        "invalid CVE id \"CVE-2021-4\"",
    ),
    (
        "/vulnerabilities/0/cve/published",
        r#""December""#,
        "vulnerabilities[0].cve.published",
        "invalid date-time \"December\"",
    ),
    (
        "/vulnerabilities/0/cve/lastModified",
        "null",
        "vulnerabilities[0].cve",
        "missing required field lastModified",
    ),
    (
        "/vulnerabilities/0/cve/metrics/cvssMetricV31/0/cvssData/vectorString",
        r#""CVSS:3.1/AV:Q/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H""#,
        "vulnerabilities[0].cve.metrics.cvssMetricV31[0].cvssData.vectorString",
        "invalid CVSS vector",
    ),
    (
        "/vulnerabilities/0/cve/metrics/cvssMetricV31/0/cvssData/baseScore",
        "true",
        "vulnerabilities[0].cve.metrics.cvssMetricV31[0].cvssData.baseScore",
        "expected a number, found true",
    ),
    (
        "/vulnerabilities/0/cve/metrics/cvssMetricV2/0/baseSeverity",
        r#""SEVERE""#,
        "vulnerabilities[0].cve.metrics.cvssMetricV2[0].baseSeverity",
        "invalid severity \"SEVERE\"",
    ),
    (
        "/vulnerabilities/0/cve/metrics/cvssMetricV31/0/type",
        r#""Tertiary""#,
        "vulnerabilities[0].cve.metrics.cvssMetricV31[0].type",
        "expected Primary or Secondary",
    ),
    (
        "/vulnerabilities/0/cve/metrics/cvssMetricV31/0",
        r#"{"source": "nvd@nist.gov", "type": "Primary"}"#,
        "vulnerabilities[0].cve.metrics.cvssMetricV31[0]",
        "missing required field cvssData",
    ),
    (
        "/vulnerabilities/0/cve/metrics/cvssMetricV31",
        r#"{"source": "nvd@nist.gov"}"#,
        "vulnerabilities[0].cve.metrics.cvssMetricV31",
        "expected an array, found an object",
    ),
    (
        "/vulnerabilities/0/cve/weaknesses/0/description/0/value",
        r#""CWE-seventeen""#,
        "vulnerabilities[0].cve.weaknesses[0].description[0].value",
        "invalid CWE id \"CWE-seventeen\"",
    ),
    (
        "/vulnerabilities/0/cve/configurations/1/operator",
        r#""XOR""#,
        "vulnerabilities[0].cve.configurations[1].operator",
        "expected AND or OR",
    ),
    (
        "/vulnerabilities/0/cve/configurations/0/nodes/0/cpeMatch/0/criteria",
        r#""cpe:/a:apache:log4j""#,
        "vulnerabilities[0].cve.configurations[0].nodes[0].cpeMatch[0].criteria",
        "expected a CPE 2.3 name",
    ),
    (
        "/vulnerabilities/0/cve/configurations/0/nodes/0/cpeMatch/0/vulnerable",
        r#""yes""#,
        "vulnerabilities[0].cve.configurations[0].nodes[0].cpeMatch[0].vulnerable",
        "expected true or false, found the string \"yes\"",
    ),
    (
        "/vulnerabilities/0/cve/configurations/0/nodes/0/negate",
        "0",
        "vulnerabilities[0].cve.configurations[0].nodes[0].negate",
        "expected true or false, found the number 0",
    ),
    (
        "/vulnerabilities/0/cve/cisaExploitAdd",
        r#""12/10/2021""#,
        "vulnerabilities[0].cve.cisaExploitAdd",
        "invalid date \"12/10/2021\": expected YYYY-MM-DD",
    ),
    (
        "/vulnerabilities/0/cve/cisaActionDue",
        "20211224",
        "vulnerabilities[0].cve.cisaActionDue",
        "expected a string, found the number 20211224",
    ),
    (
        "/vulnerabilities/0/cve/references/1/tags",
        r#""Exploit""#,
        "vulnerabilities[0].cve.references[1].tags",
        "expected an array, found the string \"Exploit\"",
    ),
    (
        "/vulnerabilities/1",
        r#"{"id": "CVE-2025-10002"}"#,
        "vulnerabilities[1]",
        "missing required field cve",
    ),
    (
        "/vulnerabilities",
        r#"{"cve": {}}"#,
        "vulnerabilities",
        "expected an array, found an object",
    ),
    (
        "/totalResults",
        "-1",
        "totalResults",
        "expected a whole number of at least 0, found -1",
    ),
    (
        "/startIndex",
        r#""0""#,
        "startIndex",
        "expected a number, found the string \"0\"",
    ),
];

#[test]
fn invalid_values_name_json_path() {
    for &(pointer, replacement, location, reason) in INVALID_CASES {
        let replacement: Value = serde_json::from_str(replacement).expect("replacement is JSON");
        let error = response_with(pointer, replacement).expect_err(pointer);
        assert_invalid(&error, pointer, location, reason);
    }
}

#[test]
fn incomplete_vector_is_not_silent() {
    // cvss 3.0.0 accepts a v3.x vector without all base metrics and scores
    // it 0.0. Until it rejects one, the stated score must expose it.
    let vector = "CVSS:3.1/AV:N/AC:L/PR:N";
    let pointer = "/vulnerabilities/0/cve/metrics/cvssMetricV31/0/cvssData/vectorString";
    match response_with(pointer, json!(vector)) {
        Err(error) => assert!(matches!(error, IntelError::Invalid { .. }), "{error}"),
        Ok(file) => {
            let warnings = &file.cves[0].warnings;
            assert!(
                warnings
                    .iter()
                    .any(|warning| warning.contains("stated base score 10 differs")),
                "{warnings:?}"
            );
        }
    }
}

#[test]
fn other_formats_are_named() {
    let cases = [
        (
            json!({"format": "NVD_CPE", "version": "2.0", "vulnerabilities": []}),
            "format is \"NVD_CPE\"",
        ),
        (
            json!({"format": "NVD_CVE", "version": "1.0", "vulnerabilities": []}),
            "version is \"1.0\"",
        ),
        (
            json!({"dataType": "CVE_RECORD", "cveMetadata": {}}),
            "CVE JSON 5 record",
        ),
        (json!({"CVE_Items": []}), "expected vulnerabilities[]"),
        (json!([]), "not a JSON object"),
        (json!(null), "not a JSON object"),
    ];
    for (document, reason) in cases {
        let error = read_value(&document).expect_err("not an NVD file");
        assert!(
            matches!(
                &error,
                IntelError::NotFormat {
                    expected: "an NVD CVE API 2.0 response",
                    ..
                }
            ),
            "{error}"
        );
        assert!(error.to_string().contains(reason), "{error}");
    }
}

#[test]
fn empty_page_loads() {
    let document = json!({
        "resultsPerPage": 0, "startIndex": 0, "totalResults": 0,
        "format": "NVD_CVE", "version": "2.0", "timestamp": "2025-08-25T17:04:19.970",
        "vulnerabilities": []
    });
    let file = read_value(&document).unwrap();
    assert!(file.cves.is_empty());
    assert_eq!(file.page.map(|page| page.total_results), Some(0));
}

#[test]
fn truncated_file_is_reported() {
    let error = NvdFile::load(fixture("nvd/truncated.json")).unwrap_err();
    let IntelError::Json { message, .. } = &error else {
        panic!("expected a JSON error, got {error}");
    };
    assert!(message.contains("truncated"), "{message}");
}

#[test]
fn malformed_json_is_reported() {
    let error = NvdFile::from_reader("bad.json", &b"{\"vulnerabilities\": [,]}"[..]).unwrap_err();
    let IntelError::Json {
        line, column, message, ..
    } = &error
    else {
        panic!("expected a JSON error, got {error}");
    };
    assert_eq!((*line, *column), (1, 22));
    assert!(message.starts_with("invalid JSON"), "{message}");
}

#[test]
fn deep_nesting_is_rejected() {
    let depth = 100_000;
    let deep = format!("{}{}", "{\"cve\":".repeat(depth), "}".repeat(depth));
    let error = NvdFile::from_reader("deep.json", deep.as_bytes()).unwrap_err();
    assert!(error.to_string().contains("recursion limit"), "{error}");
}

#[test]
fn oversized_input_is_rejected() {
    let huge = std::io::repeat(b' ').take(NVD_MAX_BYTES + 1);
    let error = NvdFile::from_reader("huge.json", huge).unwrap_err();
    assert!(
        matches!(
            error,
            IntelError::TooLarge {
                limit: NVD_MAX_BYTES,
                ..
            }
        ),
        "{error}"
    );
}

#[test]
fn huge_bad_value_is_shortened() {
    let long = "A".repeat(2 * 1024 * 1024);
    let error = response_with("/vulnerabilities/0/cve/id", json!(long)).unwrap_err();
    assert!(error.to_string().len() < 400, "{} bytes", error.to_string().len());
}

#[test]
fn store_keeps_latest_modification() {
    let dir = tempfile::tempdir().unwrap();
    fs::copy(fixture("nvd/response.json"), dir.path().join("page-0.json")).unwrap();
    let mut newer = fixture_json("nvd/single_item.json");
    newer["cve"]["id"] = json!("CVE-2021-44228");
    newer["cve"]["lastModified"] = json!("2025-06-01T00:00:00.000");
    fs::write(dir.path().join("page-1.json"), serde_json::to_vec(&newer).unwrap()).unwrap();
    fs::write(dir.path().join("notes.txt"), "not JSON").unwrap();

    let mut store = NvdStore::new();
    let load = store.load_dir(dir.path()).unwrap();
    assert_eq!(load.files, 2);
    assert_eq!(load.added, 2);
    assert_eq!(load.replaced, 1);
    assert!(load.failed.is_empty());
    let entry = store.get(&cve("CVE-2021-44228")).unwrap();
    assert_eq!(entry.vuln_status.as_deref(), Some("Modified"));

    let before = store.clone();
    let again = store.load_dir(dir.path()).unwrap();
    assert_eq!((again.added, again.replaced, again.not_newer), (0, 0, 3));
    assert!(store == before, "a second load changes nothing");
}

#[test]
fn store_reports_invalid_files() {
    let dir = tempfile::tempdir().unwrap();
    fs::copy(fixture("nvd/truncated.json"), dir.path().join("broken.json")).unwrap();
    fs::copy(fixture("cve5/CVE-2024-10001.json"), dir.path().join("record.json")).unwrap();
    fs::copy(fixture("nvd/single_cve.json"), dir.path().join("single.json")).unwrap();

    let mut store = NvdStore::new();
    let load = store.load_dir(dir.path()).unwrap();
    assert_eq!(load.files, 3);
    assert_eq!(load.added, 1);
    let failed: Vec<&str> = load
        .failed
        .iter()
        .map(|failed| failed.path.rsplit('/').next().unwrap_or_default())
        .collect();
    assert_eq!(failed, ["broken.json", "record.json"]);
    assert!(matches!(load.failed[1].error, IntelError::NotFormat { .. }));
}
