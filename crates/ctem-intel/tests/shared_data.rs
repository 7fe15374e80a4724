//! The loaders against the published feeds under `$CTEM_SHARED/intel`.
//! Each test prints that it is skipped when `CTEM_SHARED` is unset.

mod common;

use common::shared_dir;
use ctem_intel::{EpssScores, Intel, IntelError, KevCatalog, SourceKind};
use ctem_model::CveId;

fn cve(text: &str) -> CveId {
    text.parse().expect("valid CVE id in test")
}

#[test]
fn real_kev_catalog() {
    let Some(shared) = shared_dir("real_kev_catalog") else {
        return;
    };
    let catalog = KevCatalog::load(shared.join("intel/kev/known_exploited_vulnerabilities.json")).unwrap();
    assert_eq!(catalog.len(), 1404);
    assert_eq!(catalog.version, "2025.08.25");
    let git = catalog.get(&cve("CVE-2025-48384")).expect("CVE-2025-48384 is listed");
    assert_eq!(git.vendor, "Git");
    assert_eq!(git.date_added.to_string(), "2025-08-25");
    assert!(catalog.entries().iter().any(|e| e.known_ransomware_use));
}

#[test]
fn real_epss_without_header() {
    let Some(shared) = shared_dir("real_epss_without_header") else {
        return;
    };
    let path = shared.join("intel/epss/epss_scores-2025-12-29_cve2025.csv");
    let lines = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty())
        .count();
    let scores = EpssScores::load(&path).unwrap();
    assert_eq!(scores.len(), lines, "one score per row");
    let record = scores.get(&cve("CVE-2025-0001")).expect("CVE-2025-0001 is scored");
    assert_eq!(record.score.epss, 0.00275);
    assert_eq!(record.score.percentile, 0.50602);
    assert_eq!(record.file.score_date, None);
}

#[test]
fn real_kev_epss_table_rejected() {
    let Some(shared) = shared_dir("real_kev_epss_table_rejected") else {
        return;
    };
    let error = EpssScores::load(shared.join("intel/epss/kev_2025_epss.csv")).unwrap_err();
    assert!(matches!(error, IntelError::NotEpss { .. }), "{error}");
    assert!(error.to_string().contains("kev_2025_epss.csv"), "{error}");
}

#[test]
fn real_intel_folder() {
    let Some(shared) = shared_dir("real_intel_folder") else {
        return;
    };
    let intel = Intel::load_dir(shared.join("intel")).unwrap();

    let sources = intel.sources();
    let kinds: Vec<SourceKind> = sources.iter().map(|s| s.kind).collect();
    assert_eq!(
        kinds,
        [
            SourceKind::Kev,
            SourceKind::Epss,
            SourceKind::Cve5,
            SourceKind::CtidMappings
        ],
        "{sources:#?}"
    );
    assert_eq!(sources[0].count, 1404);
    assert!(sources[1].path.ends_with("epss_scores-2025-12-29_cve2025.csv"));
    assert!(intel.kev(&cve("CVE-2025-48384")).is_some());
    assert!(intel.epss(&cve("CVE-2025-0001")).is_some());

    assert_eq!(sources[2].count, 1451, "every CVE record loads");
    assert_eq!(intel.cve5().len(), 1451);
    assert_eq!(sources[3].count, 1183, "every CTID mapping loads");
    assert!(!intel.facts(&cve("CVE-2023-22515")).techniques.is_empty());

    let skipped = intel.skipped();
    assert!(!skipped.iter().any(|s| s.path.contains("cve5")), "{skipped:#?}");
    for name in [
        "known_exploited_vulnerabilities_schema.json",
        "kev_2025_epss.csv",
        "kev_weekly_epss_2025.csv",
    ] {
        assert!(skipped.iter().any(|s| s.path.ends_with(name)), "{name} is skipped");
    }
}
