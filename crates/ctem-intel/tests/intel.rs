//! The `Intel` bundle: loading folders and configured files, skipping what is not intelligence.

mod common;

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use common::{fixture, gzip};
use ctem_intel::{Intel, IntelError, Skipped, SourceKind};
use ctem_model::CveId;

fn cve(text: &str) -> CveId {
    text.parse().expect("valid CVE id in test")
}

fn copy_fixture(name: &str, dir: &Path, relative: &str) -> PathBuf {
    let target = dir.join(relative);
    std::fs::create_dir_all(target.parent().unwrap()).unwrap();
    std::fs::copy(fixture(name), &target).unwrap();
    target
}

fn write(dir: &Path, relative: &str, bytes: &[u8]) -> PathBuf {
    let target = dir.join(relative);
    std::fs::create_dir_all(target.parent().unwrap()).unwrap();
    std::fs::write(&target, bytes).unwrap();
    target
}

fn skip_reason<'a>(skipped: &'a [Skipped], path: &Path) -> Option<&'a str> {
    let path = path.display().to_string();
    skipped.iter().find(|s| s.path == path).map(|s| s.reason.as_str())
}

const KEV_SCHEMA: &str = r#"{
  "$schema": "http://json-schema.org/draft-07/schema#",
  "type": "object",
  "properties": {"catalogVersion": {"type": "string"}, "vulnerabilities": {"type": "array"}}
}"#;

const CVE_RECORD: &str = r#"{"dataType": "CVE_RECORD", "dataVersion": "5.1",
  "cveMetadata": {"cveId": "CVE-2023-4966", "state": "PUBLISHED"}}"#;

/// Builds a folder laid out like a downloaded intelligence folder, with
/// the feeds among files of other kinds.
fn mixed_folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    copy_fixture("kev/catalog.json", root, "kev/known_exploited_vulnerabilities.json");
    write(
        root,
        "kev/known_exploited_vulnerabilities_schema.json",
        KEV_SCHEMA.as_bytes(),
    );
    copy_fixture("epss/official.csv", root, "epss/epss_scores-2025-03-14.csv");
    let older = std::fs::read(fixture("epss/official_older.csv")).unwrap();
    write(root, "epss/archive/epss_scores-2025-01-01.csv.gz", &gzip(&older));
    copy_fixture("epss/weekly_snapshot.csv", root, "epss/weekly.csv");
    copy_fixture("epss/wrong_header.csv", root, "epss/kev_epss.csv");
    write(root, "cve5/2023/4xxx/CVE-2023-4966.json", CVE_RECORD.as_bytes());
    write(
        root,
        "ssvc/table.csv",
        b"row,Exploitation v1.1.0,Automatable v2.0.0\n0,none,no\n",
    );
    write(root, "README.md", b"# intelligence\n");
    dir
}

#[test]
fn default_is_empty() {
    let intel = Intel::default();
    assert!(intel.is_empty());
    assert!(intel.sources().is_empty());
    assert!(intel.kev(&cve("CVE-2021-44228")).is_none());
    assert!(intel.epss(&cve("CVE-2021-44228")).is_none());
}

#[test]
fn folder_loads_feeds() {
    let dir = mixed_folder();
    let intel = Intel::load_dir(dir.path()).unwrap();

    assert!(!intel.is_empty());
    assert_eq!(intel.kev_catalog().map(|c| c.len()), Some(3));
    assert!(intel.kev(&cve("CVE-2023-4966")).is_some());
    // The newer file wins for Log4Shell; the older one still scores BlueKeep.
    assert_eq!(intel.epss(&cve("CVE-2021-44228")).map(|r| r.score.epss), Some(0.94358));
    assert_eq!(intel.epss(&cve("CVE-2019-0708")).map(|r| r.score.epss), Some(0.94489));
    assert_eq!(intel.epss_scores().len(), 5);
}

#[test]
fn folder_lists_sources() {
    let dir = mixed_folder();
    let intel = Intel::load_dir(dir.path()).unwrap();
    let sources = intel.sources();
    assert_eq!(sources.len(), 3, "{sources:#?}");

    let kev = &sources[0];
    assert_eq!(kev.kind, SourceKind::Kev);
    assert_eq!(kev.version.as_deref(), Some("2025.08.25"));
    assert_eq!(kev.date, NaiveDate::from_ymd_opt(2025, 8, 25));
    assert_eq!(kev.count, 3);
    assert!(kev.path.ends_with("known_exploited_vulnerabilities.json"));

    // Path order: epss/archive/... comes before epss/epss_scores-...
    assert_eq!(sources[1].kind, SourceKind::Epss);
    assert_eq!(sources[1].version.as_deref(), Some("v2025.01.01"));
    assert_eq!(sources[1].count, 2);
    assert!(sources[1].path.ends_with(".csv.gz"));
    assert_eq!(sources[2].date, NaiveDate::from_ymd_opt(2025, 3, 14));
    assert_eq!(sources[2].count, 4);
}

#[test]
fn folder_skips_other_files() {
    let dir = mixed_folder();
    let root = dir.path();
    let intel = Intel::load_dir(root).unwrap();
    let skipped = intel.skipped();
    assert_eq!(skipped.len(), 6, "{skipped:#?}");

    let reason = |relative: &str| skip_reason(skipped, &root.join(relative)).unwrap_or("not skipped");
    assert!(reason("kev/known_exploited_vulnerabilities_schema.json").contains("JSON schema"));
    // A CVE record is read as one; this stub lacks what every record has.
    assert!(reason("cve5/2023/4xxx/CVE-2023-4966.json").contains("missing required field containers"));
    assert!(intel.cve5().is_empty());
    assert!(reason("epss/weekly.csv").contains("cve,kev_dateAdded"));
    assert!(reason("epss/kev_epss.csv").contains("cveID,vendorProject"));
    assert!(reason("ssvc/table.csv").contains("no EPSS"));
    assert!(reason("README.md").contains("not a .json, .csv or .csv.gz"));
}

#[test]
fn folder_with_bad_feed_fails() {
    let dir = tempfile::tempdir().unwrap();
    let bad = copy_fixture("epss/out_of_range.csv", dir.path(), "epss/scores.csv");
    let error = Intel::load_dir(dir.path()).unwrap_err();
    assert!(error.to_string().contains(&bad.display().to_string()), "{error}");
    assert!(matches!(error, IntelError::EpssValue { line: 3, .. }), "{error}");
}

#[test]
fn folder_with_bad_catalog_fails() {
    let dir = tempfile::tempdir().unwrap();
    copy_fixture("kev/truncated.json", dir.path(), "kev.json");
    let error = Intel::load_dir(dir.path()).unwrap_err();
    assert!(matches!(error, IntelError::Json { .. }), "{error}");
}

#[test]
fn missing_folder_fails() {
    let dir = tempfile::tempdir().unwrap();
    let absent = dir.path().join("absent");
    let error = Intel::load_dir(&absent).unwrap_err();
    assert!(matches!(error, IntelError::Io { .. }), "{error}");
    assert!(error.to_string().contains("absent"), "{error}");
}

#[test]
fn newest_catalog_wins() {
    let dir = tempfile::tempdir().unwrap();
    // The older catalog sorts last, so it is loaded second and must not replace the newer one.
    copy_fixture("kev/catalog.json", dir.path(), "a/kev.json");
    let older = copy_fixture("kev/older_catalog.json", dir.path(), "b/kev.json");
    let intel = Intel::load_dir(dir.path()).unwrap();
    assert_eq!(intel.kev_catalog().map(|c| c.version.as_str()), Some("2025.08.25"));
    assert_eq!(intel.sources().len(), 1);
    let reason = skip_reason(intel.skipped(), &older).expect("the older catalog is listed");
    assert!(reason.contains("2024.01.02"), "{reason}");
}

#[test]
fn newer_catalog_replaces_older() {
    let dir = tempfile::tempdir().unwrap();
    let older = copy_fixture("kev/older_catalog.json", dir.path(), "a/kev.json");
    copy_fixture("kev/catalog.json", dir.path(), "b/kev.json");
    let intel = Intel::load_dir(dir.path()).unwrap();
    assert_eq!(intel.kev_catalog().map(|c| c.version.as_str()), Some("2025.08.25"));
    assert!(intel.kev(&cve("CVE-2025-48384")).is_some());
    assert!(skip_reason(intel.skipped(), &older).is_some());
}

#[test]
fn configured_files_load() {
    let epss = [fixture("epss/official_older.csv"), fixture("epss/headerless.csv")];
    let intel = Intel::load_files(Some(&fixture("kev/catalog.json")), &epss).unwrap();
    assert_eq!(intel.sources().len(), 3);
    assert_eq!(intel.epss_scores().len(), 5);
    assert!(intel.kev(&cve("CVE-2021-44228")).is_some());
    assert!(intel.skipped().is_empty());
}

#[test]
fn configured_files_without_kev() {
    let intel = Intel::load_files(None, &[fixture("epss/official.csv")]).unwrap();
    assert!(intel.kev_catalog().is_none());
    assert_eq!(intel.epss_scores().len(), 4);
}

#[test]
fn configured_wrong_csv_fails() {
    let error = Intel::load_files(None, &[fixture("epss/wrong_header.csv")]).unwrap_err();
    assert!(matches!(error, IntelError::NotEpss { .. }), "{error}");
    assert!(error.to_string().contains("wrong_header.csv"), "{error}");
}

#[cfg(unix)]
#[test]
fn folder_links_followed_for_files_only() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let feeds = tempfile::tempdir().unwrap();
    let catalog = copy_fixture("kev/catalog.json", feeds.path(), "kev.json");
    std::os::unix::fs::symlink(&catalog, root.join("kev.json")).unwrap();
    std::os::unix::fs::symlink(root, root.join("loop")).unwrap();
    std::os::unix::fs::symlink(root.join("absent.csv"), root.join("broken.csv")).unwrap();

    let intel = Intel::load_dir(root).unwrap();
    assert_eq!(intel.kev_catalog().map(|c| c.len()), Some(3));
    let loop_reason = skip_reason(intel.skipped(), &root.join("loop")).unwrap();
    assert!(loop_reason.contains("not followed"), "{loop_reason}");
    let broken_reason = skip_reason(intel.skipped(), &root.join("broken.csv")).unwrap();
    assert!(broken_reason.contains("broken"), "{broken_reason}");
}

#[test]
fn merge_combines_bundles() {
    let configured = Intel::load_files(
        Some(&fixture("kev/older_catalog.json")),
        &[fixture("epss/official.csv")],
    )
    .unwrap();
    let folder = mixed_folder();
    let mut intel = Intel::default();
    intel.merge(configured);
    intel.merge(Intel::load_dir(folder.path()).unwrap());

    assert_eq!(intel.kev_catalog().map(|c| c.version.as_str()), Some("2025.08.25"));
    assert!(intel.skipped().iter().any(|s| s.reason.contains("2024.01.02")));
    assert_eq!(intel.skipped().len(), 7, "{:#?}", intel.skipped());
    assert_eq!(intel.epss_scores().files().len(), 3);
    assert_eq!(intel.epss(&cve("CVE-2019-0708")).map(|r| r.score.epss), Some(0.94489));
}

#[test]
fn source_display() {
    let intel = Intel::load_files(
        Some(Path::new("tests/fixtures/kev/catalog.json")),
        &[
            PathBuf::from("tests/fixtures/epss/official.csv"),
            PathBuf::from("tests/fixtures/epss/headerless.csv"),
        ],
    )
    .unwrap();
    let lines: Vec<String> = intel.sources().iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "CISA KEV 2025.08.25 of 2025-08-25, 3 entries (tests/fixtures/kev/catalog.json)",
            "FIRST EPSS v2025.03.14 of 2025-03-14, 4 scores (tests/fixtures/epss/official.csv)",
            "FIRST EPSS (undated), 3 scores (tests/fixtures/epss/headerless.csv)",
        ]
    );
}
