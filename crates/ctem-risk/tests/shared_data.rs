//! Scoring with the published feeds under `$CTEM_SHARED/intel`; skipped,
//! with a note, when `CTEM_SHARED` is unset.

mod common;

use std::path::PathBuf;

use common::{CVSS_9_8, host, vulnerability};
use ctem_intel::Intel;
use ctem_model::{Criticality, Severity, Tier};
use ctem_risk::assess;

#[test]
fn real_feeds_explain_score() {
    let Some(shared) = std::env::var_os("CTEM_SHARED").map(PathBuf::from) else {
        eprintln!("real_feeds_explain_score: skipped, CTEM_SHARED is not set");
        return;
    };
    let intel = Intel::load_dir(shared.join("intel")).unwrap();

    let finding = vulnerability("CVE-2025-48384", Some(CVSS_9_8), Severity::Critical);
    let risk = assess(&finding, Some(&host(Some(true), Some(Criticality::High))), &intel);

    let kev = risk
        .factors
        .iter()
        .find(|f| f.name == "kev")
        .expect("CVE-2025-48384 is in KEV");
    assert_eq!(kev.value, "listed 2025-08-25");
    assert_eq!(kev.source, "CISA KEV 2025.08.25");
    let epss = risk
        .factors
        .iter()
        .find(|f| f.name == "epss")
        .expect("CVE-2025-48384 has an EPSS score");
    assert!(
        epss.source.ends_with("epss_scores-2025-12-29_cve2025.csv"),
        "{}",
        epss.source
    );
    assert_eq!(risk.tier, Tier::P1, "score {}", risk.score);
}
