//! The KEV catalog loader against small catalogs, malformed entries and hostile inputs.

mod common;

use chrono::NaiveDate;
use common::{capture_logs, fixture};
use ctem_intel::{IntelError, KevCatalog};
use ctem_model::{CveId, Cwe};

fn cve(text: &str) -> CveId {
    text.parse().expect("valid CVE id in test")
}

fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).expect("valid date in test")
}

fn load_error(name: &str) -> (IntelError, String) {
    let path = fixture(&format!("kev/{name}"));
    let error = KevCatalog::load(&path).expect_err("the fixture is invalid");
    let message = error.to_string();
    assert!(
        message.contains(&path.display().to_string()),
        "the error names the file: {message}"
    );
    (error, message)
}

#[test]
fn catalog_header() {
    let catalog = KevCatalog::load(fixture("kev/catalog.json")).unwrap();
    assert_eq!(catalog.version, "2025.08.25");
    assert_eq!(catalog.released.to_rfc3339(), "2025-08-25T17:04:19.979600+00:00");
    assert_eq!(catalog.len(), 3);
    assert!(!catalog.is_empty());
    assert!(catalog.path().ends_with("catalog.json"));
}

#[test]
fn catalog_entry_fields() {
    let catalog = KevCatalog::load(fixture("kev/catalog.json")).unwrap();
    let log4shell = catalog.get(&cve("CVE-2021-44228")).expect("Log4Shell is listed");
    assert_eq!(log4shell.cve.as_str(), "CVE-2021-44228");
    assert_eq!(log4shell.vendor, "Apache");
    assert_eq!(log4shell.product, "Log4j2");
    assert_eq!(log4shell.name, "Apache Log4j2 Remote Code Execution Vulnerability");
    assert_eq!(log4shell.date_added, date(2021, 12, 10));
    assert_eq!(log4shell.due_date, Some(date(2021, 12, 24)));
    assert!(log4shell.known_ransomware_use);
    assert_eq!(log4shell.required_action, "Apply updates per vendor instructions.");
    assert!(log4shell.short_description.contains("Log4Shell"));
    assert_eq!(log4shell.cwes, [Cwe(20), Cwe(400), Cwe(502)]);

    let git = catalog
        .get(&cve("cve-2025-48384"))
        .expect("lookup is case-insensitive through CveId");
    assert!(!git.known_ransomware_use);
    assert_eq!(git.cwes, [Cwe(59), Cwe(436)]);
}

#[test]
fn catalog_keeps_file_order() {
    let catalog = KevCatalog::load(fixture("kev/catalog.json")).unwrap();
    let ids: Vec<&str> = catalog.entries().iter().map(|e| e.cve.as_str()).collect();
    assert_eq!(ids, ["CVE-2021-44228", "CVE-2023-4966", "CVE-2025-48384"]);
}

#[test]
fn unlisted_cve_is_none() {
    let catalog = KevCatalog::load(fixture("kev/catalog.json")).unwrap();
    assert!(catalog.get(&cve("CVE-2024-3094")).is_none());
}

#[test]
fn count_mismatch_warns() {
    let (result, logs) = capture_logs(|| KevCatalog::load(fixture("kev/count_mismatch.json")));
    let catalog = result.expect("a wrong count is no error");
    assert_eq!(catalog.len(), 3);
    assert!(logs.contains("WARN"), "{logs}");
    assert!(logs.contains("count disagrees"), "{logs}");
    assert!(logs.contains("declared=5"), "{logs}");
    assert!(logs.contains("found=3"), "{logs}");
}

#[test]
fn matching_count_does_not_warn() {
    let (result, logs) = capture_logs(|| KevCatalog::load(fixture("kev/catalog.json")));
    result.unwrap();
    assert!(!logs.contains("WARN"), "{logs}");
}

#[test]
fn invalid_cve_names_entry() {
    let (error, message) = load_error("bad_cve.json");
    assert!(matches!(error, IntelError::KevEntry { index: 1, .. }), "{message}");
    assert!(message.contains("vulnerabilities[1].cveID"), "{message}");
    assert!(message.contains("\"CVE-23-4966\""), "{message}");
}

#[test]
fn missing_cve_names_entry() {
    let (error, message) = load_error("missing_cve.json");
    assert!(
        matches!(
            error,
            IntelError::KevMissingField {
                index: 1,
                field: "cveID",
                ..
            }
        ),
        "{message}"
    );
}

#[test]
fn invalid_date_added_names_entry() {
    let (error, message) = load_error("bad_date_added.json");
    assert!(matches!(error, IntelError::KevEntry { index: 2, .. }), "{message}");
    assert!(message.contains("vulnerabilities[2].dateAdded"), "{message}");
    assert!(message.contains("\"2025-02-30\""), "{message}");
}

#[test]
fn invalid_due_date_names_entry() {
    let (_, message) = load_error("bad_due_date.json");
    assert!(message.contains("vulnerabilities[0].dueDate"), "{message}");
    assert!(message.contains("\"24/12/2021\""), "{message}");
}

#[test]
fn invalid_ransomware_value() {
    let (_, message) = load_error("bad_ransomware.json");
    assert!(
        message.contains("vulnerabilities[0].knownRansomwareCampaignUse"),
        "{message}"
    );
    assert!(message.contains("\"Yes\""), "{message}");
    assert!(message.contains("Known or Unknown"), "{message}");
}

#[test]
fn invalid_cwe_names_position() {
    let (_, message) = load_error("bad_cwe.json");
    assert!(message.contains("vulnerabilities[0].cwes[1]"), "{message}");
    assert!(message.contains("\"weakness\""), "{message}");
}

#[test]
fn truncated_names_line_and_column() {
    let path = fixture("kev/truncated.json");
    let lines = std::fs::read_to_string(&path).unwrap().lines().count();
    let (error, message) = load_error("truncated.json");
    match error {
        IntelError::Json { line, column, .. } => {
            assert_eq!(line, lines, "{message}");
            assert!(column > 0, "{message}");
        }
        other => panic!("expected a JSON error, got {other}"),
    }
    assert!(message.contains("truncated"), "{message}");
}

#[test]
fn wrong_type_names_line() {
    let (error, message) = load_error("wrong_type.json");
    assert!(matches!(error, IntelError::Json { line: 5, .. }), "{message}");
    assert!(message.contains("\"three\""), "{message}");
}

#[test]
fn other_json_is_not_kev() {
    let (error, message) = load_error("not_kev.json");
    assert!(matches!(error, IntelError::NotKev { .. }), "{message}");
    assert!(message.contains("catalogVersion"), "{message}");
}

#[test]
fn optional_fields_default() {
    let catalog = KevCatalog::load(fixture("kev/lenient.json")).unwrap();
    let git = catalog.get(&cve("CVE-2025-48384")).unwrap();
    assert_eq!(git.due_date, None);
    assert!(!git.known_ransomware_use);
    assert_eq!(git.notes, "");
    assert_eq!(git.short_description, "");
    assert!(git.cwes.is_empty(), "NVD-CWE-noinfo is no weakness: {:?}", git.cwes);
}

#[test]
fn duplicate_keeps_first() {
    let (result, logs) = capture_logs(|| KevCatalog::load(fixture("kev/duplicate.json")));
    let catalog = result.unwrap();
    assert_eq!(catalog.len(), 3);
    let log4shell = catalog.get(&cve("CVE-2021-44228")).unwrap();
    assert_eq!(log4shell.name, "Apache Log4j2 Remote Code Execution Vulnerability");
    assert!(logs.contains("more than once"), "{logs}");
    assert!(!logs.contains("count disagrees"), "duplicates count as entries: {logs}");
}

#[test]
fn missing_file_names_path() {
    let error = KevCatalog::load(fixture("kev/absent.json")).unwrap_err();
    assert!(matches!(error, IntelError::Io { .. }), "{error}");
    assert!(error.to_string().contains("absent.json"), "{error}");
}

#[test]
fn reader_name_used_in_errors() {
    let error = KevCatalog::from_reader("feeds/kev.json", "{\"catalogVersion\": ".as_bytes()).unwrap_err();
    assert!(error.to_string().starts_with("feeds/kev.json: line 1"), "{error}");
}

#[test]
fn empty_catalog_loads() {
    let json = r#"{"catalogVersion": "2025.01.01", "dateReleased": "2025-01-01", "count": 0, "vulnerabilities": []}"#;
    let catalog = KevCatalog::from_reader("empty.json", json.as_bytes()).unwrap();
    assert!(catalog.is_empty());
}

#[test]
fn invalid_release_date() {
    let json = r#"{"catalogVersion": "2025.01.01", "dateReleased": "soon", "vulnerabilities": []}"#;
    let error = KevCatalog::from_reader("kev.json", json.as_bytes()).unwrap_err();
    assert!(
        matches!(
            error,
            IntelError::KevHeader {
                field: "dateReleased",
                ..
            }
        ),
        "{error}"
    );
    assert!(error.to_string().contains("\"soon\""), "{error}");
}

#[test]
fn deep_nesting_is_rejected() {
    let depth = 100_000;
    let json = format!(
        "{{\"catalogVersion\": \"x\", \"dateReleased\": \"2025-01-01\", \"vulnerabilities\": {}{}}}",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let error = KevCatalog::from_reader("deep.json", json.as_bytes()).unwrap_err();
    assert!(matches!(error, IntelError::Json { line: 1, .. }), "{error}");
}

#[test]
fn huge_value_is_shortened_in_error() {
    let huge_id = format!("CVE-2021-{}", "x".repeat(1_000_000));
    let json = format!(
        r#"{{"catalogVersion": "x", "dateReleased": "2025-01-01", "vulnerabilities": [{{"cveID": "{huge_id}", "dateAdded": "2021-12-10"}}]}}"#
    );
    let error = KevCatalog::from_reader("huge.json", json.as_bytes()).unwrap_err();
    let message = error.to_string();
    assert!(message.contains("vulnerabilities[0].cveID"), "{message}");
    assert!(message.len() < 400, "message of {} bytes", message.len());
}

#[test]
fn binary_input_is_rejected() {
    let bytes: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
    let error = KevCatalog::from_reader("random.bin", bytes.as_slice()).unwrap_err();
    assert!(matches!(error, IntelError::Json { .. }), "{error}");
}
