//! Builders of findings, assets and intelligence for the ctem-risk tests.

#![allow(dead_code)] // Each test binary uses a different part of this module.

use ctem_intel::{EpssScores, Intel, KevCatalog};
use ctem_model::{Asset, AssetKind, Criticality, Finding, FindingKind, Severity, SourceStatus, VulnerabilityId};

/// CVSS 7.5: network, no privileges, confidentiality only (exploitability 1.0, impact 0.61).
pub const CVSS_7_5: &str = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N";
/// CVSS 9.8: network, no privileges, full impact.
pub const CVSS_9_8: &str = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H";
/// CVSS 10.0 with a changed scope.
pub const CVSS_10: &str = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H";
/// CVSS 7.8: local, low privileges (a typical privilege escalation).
pub const CVSS_7_8_LOCAL: &str = "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H";
/// CVSS 1.8: physical access, high complexity, low confidentiality impact.
pub const CVSS_1_8: &str = "CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N";
/// CVSS 0.0: no impact at all.
pub const CVSS_0: &str = "CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:N/I:N/A:N";
pub const CVSS_V4_9_3: &str = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N";
pub const CVSS_V2_10: &str = "AV:N/AC:L/Au:N/C:C/I:C/A:C";

/// A KEV catalog of version 2025.08.25 listing Log4Shell (ransomware use
/// known), Citrix Bleed and CVE-2025-48384 (ransomware use unknown).
pub const KEV_JSON: &str = r#"{
  "catalogVersion": "2025.08.25",
  "dateReleased": "2025-08-25T17:04:19.9796Z",
  "count": 3,
  "vulnerabilities": [
    {"cveID": "CVE-2021-44228", "vendorProject": "Apache", "product": "Log4j2",
     "vulnerabilityName": "Apache Log4j2 Remote Code Execution Vulnerability",
     "dateAdded": "2021-12-10", "dueDate": "2021-12-24", "knownRansomwareCampaignUse": "Known"},
    {"cveID": "CVE-2023-4966", "vendorProject": "Citrix", "product": "NetScaler ADC and NetScaler Gateway",
     "vulnerabilityName": "Citrix NetScaler ADC and NetScaler Gateway Buffer Overflow Vulnerability",
     "dateAdded": "2023-10-18", "dueDate": "2023-11-08", "knownRansomwareCampaignUse": "Known"},
    {"cveID": "CVE-2025-48384", "vendorProject": "Git", "product": "Git",
     "vulnerabilityName": "Git Link Following Vulnerability",
     "dateAdded": "2025-08-25", "dueDate": "2025-09-15", "knownRansomwareCampaignUse": "Unknown"}
  ]
}"#;

pub fn kev_catalog() -> KevCatalog {
    KevCatalog::from_reader("kev.json", KEV_JSON.as_bytes()).expect("the test catalog is valid")
}

/// EPSS scores of the official daily layout, dated 2025-03-14, one row per (CVE, probability).
pub fn epss_scores(rows: &[(&str, f64)]) -> EpssScores {
    let mut text =
        String::from("#model_version:v2025.03.14,score_date:2025-03-14T00:00:00+0000\ncve,epss,percentile\n");
    for (cve, probability) in rows {
        text.push_str(&format!("{cve},{probability},0.5\n"));
    }
    EpssScores::from_reader("epss.csv", text.as_bytes()).expect("the test scores are valid")
}

/// Intelligence with the test KEV catalog (when `with_kev`) and the given EPSS rows.
pub fn intel(with_kev: bool, epss: &[(&str, f64)]) -> Intel {
    let mut intel = Intel::default();
    if with_kev {
        intel.add_kev(kev_catalog());
    }
    if !epss.is_empty() {
        intel.add_epss(epss_scores(epss));
    }
    intel
}

/// Builds a host with the given exposure and criticality.
pub fn host(internet_exposed: Option<bool>, criticality: Option<Criticality>) -> Asset {
    let mut asset = Asset::new(AssetKind::Host, "10.0.0.5", "app01");
    asset.internet_exposed = internet_exposed;
    asset.criticality = criticality;
    asset
}

/// Builds a Trivy vulnerability finding on the host, with a CVE and optionally a CVSS vector.
pub fn vulnerability(cve: &str, vector: Option<&str>, severity: Severity) -> Finding {
    let asset = host(None, None);
    let mut finding = Finding::new(
        "trivy",
        cve,
        FindingKind::Vulnerability,
        format!("{cve} in a package"),
        severity,
        asset.key,
    );
    finding.add_vulnerability_id(cve.parse::<VulnerabilityId>().expect("valid id"));
    if let Some(text) = vector {
        finding.add_cvss(text.parse().expect("valid vector"));
    }
    finding
}

/// Builds a finding without CVE or vector, of the given kind and severity.
pub fn weakness(kind: FindingKind, severity: Severity) -> Finding {
    let asset = host(None, None);
    Finding::new("scanner", "rule-1", kind, "a weakness", severity, asset.key)
}

pub fn with_status(mut finding: Finding, status: SourceStatus) -> Finding {
    finding.source_status = Some(status);
    finding
}

pub const ALL_KINDS: [FindingKind; 7] = [
    FindingKind::Vulnerability,
    FindingKind::CodeWeakness,
    FindingKind::WebWeakness,
    FindingKind::Misconfiguration,
    FindingKind::Secret,
    FindingKind::ExposedService,
    FindingKind::License,
];

pub const EXPOSURES: [Option<bool>; 3] = [Some(true), None, Some(false)];

pub const CRITICALITIES: [Option<Criticality>; 5] = [
    None,
    Some(Criticality::Low),
    Some(Criticality::Medium),
    Some(Criticality::High),
    Some(Criticality::CrownJewel),
];
