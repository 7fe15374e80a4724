//! Enrichment beyond KEV and EPSS: exploit evidence, CVSS vectors from CVE
//! records for findings that have none, and CVEs found through OSV aliases.
//! The intelligence is loaded from the fixtures of ctem-intel, through the
//! same loaders as `ctem assess`.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use ctem_intel::{Intel, SourceKind};
use ctem_model::{Criticality, FindingKind, RiskAssessment, Severity, VulnerabilityId};
use ctem_risk::assess;

fn intel_fixture(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../ctem-intel/tests/fixtures")
        .join(relative)
}

fn load(intel: &mut Intel, kind: SourceKind, relative: &str) {
    intel
        .load_file(kind, &intel_fixture(relative))
        .unwrap_or_else(|error| panic!("{relative}: {error}"));
}

fn factor_source<'a>(risk: &'a RiskAssessment, name: &str) -> Option<&'a str> {
    risk.factors.iter().find(|f| f.name == name).map(|f| f.source.as_str())
}

#[test]
fn metasploit_module_is_exploit_evidence() {
    let finding = vulnerability("CVE-2021-44228", Some(CVSS_10), Severity::Critical);
    let asset = host(Some(false), Some(Criticality::Medium));
    let without = assess(&finding, Some(&asset), &Intel::default());

    let mut intel = Intel::default();
    load(
        &mut intel,
        SourceKind::Metasploit,
        "exploits/modules_metadata_base.json",
    );
    let with = assess(&finding, Some(&asset), &intel);

    let exploit = with
        .factors
        .iter()
        .find(|f| f.name == "exploit")
        .unwrap_or_else(|| panic!("no exploit factor in {:#?}", with.factors));
    // The exploit module outranks the auxiliary scanner of the same CVE.
    assert_eq!(
        exploit.value,
        "Metasploit exploit module exploit/multi/http/log4shell_header_injection"
    );
    assert!(exploit.source.starts_with("Metasploit"), "{}", exploit.source);
    assert!(exploit.contribution > 0.0);
    assert!(with.score > without.score, "{} <= {}", with.score, without.score);
    assert!(without.factors.iter().all(|f| f.name != "exploit"));
}

#[test]
fn record_vector_for_vectorless_finding() {
    let finding = vulnerability("CVE-2024-10001", None, Severity::High);
    let mut intel = Intel::default();
    load(&mut intel, SourceKind::Cve5, "cve5/CVE-2024-10001.json");

    let risk = assess(&finding, None, &intel);
    let source = factor_source(&risk, "cvss_exploitability").expect("a CVSS factor from the record");
    // The record states 3.1, 4.0 and 2.0 vectors: 4.0 is the newest generation.
    assert!(
        source.starts_with("CVSS v4.0 vector from CVE record (ExampleCNA)"),
        "{source}"
    );
    assert!(source.contains("the CNA of the CVE knows the product best"), "{source}");
    assert!(factor_source(&risk, "finding_kind").is_none(), "{:#?}", risk.factors);
}

#[test]
fn finding_vector_wins_over_the_record() {
    let finding = vulnerability("CVE-2024-10001", Some(CVSS_7_5), Severity::High);
    let mut intel = Intel::default();
    load(&mut intel, SourceKind::Cve5, "cve5/CVE-2024-10001.json");

    let risk = assess(&finding, None, &intel);
    assert_eq!(
        factor_source(&risk, "cvss_exploitability"),
        Some("CVSS v3.1 vector from trivy")
    );
}

#[test]
fn ghsa_finding_finds_its_cve_through_osv_aliases() {
    let mut finding = weakness(FindingKind::Vulnerability, Severity::High);
    let ghsa: VulnerabilityId = "GHSA-jfh8-c2jp-5v3q".parse().unwrap();
    finding.add_vulnerability_id(ghsa.clone());

    let mut intel = intel(true, &[]);
    load(&mut intel, SourceKind::Osv, "osv/github/GHSA-jfh8-c2jp-5v3q.json");
    let cves = intel.osv().cves(&ghsa);
    assert!(!cves.is_empty(), "the fixture links the GHSA to a CVE");

    assert_eq!(cves, ["CVE-2021-44228".parse().unwrap()]);

    let risk = assess(&finding, None, &intel);
    assert_eq!(
        factor_source(&risk, "kev"),
        Some("CISA KEV 2025.08.25"),
        "{:#?}",
        risk.factors
    );
    // The finding has no vector; the advisory states one.
    let cvss = factor_source(&risk, "cvss_exploitability").expect("a CVSS factor from the advisory");
    assert!(cvss.starts_with("CVSS v3.1 vector from OSV"), "{cvss}");
}
