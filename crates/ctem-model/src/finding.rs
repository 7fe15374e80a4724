//! Findings: one weakness on one asset at one location.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{AssetKey, CvssVector, Cwe, Fingerprint, MaskedSecret, Purl, Severity, VulnerabilityId};

/// The class of weakness a finding reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// A known vulnerability in a component (SCA, container and host scanners).
    Vulnerability,
    /// A weakness in source code at a file and line (SAST).
    CodeWeakness,
    /// A weakness of a running web application at an URL (DAST).
    WebWeakness,
    /// A misconfigured resource (IaC, CSPM, container configuration).
    Misconfiguration,
    /// A credential or key found where it should not be.
    Secret,
    /// A network service that is reachable (port scanners).
    ExposedService,
    /// A license that policy restricts.
    License,
}

impl FindingKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::Vulnerability => "vulnerability",
            FindingKind::CodeWeakness => "code_weakness",
            FindingKind::WebWeakness => "web_weakness",
            FindingKind::Misconfiguration => "misconfiguration",
            FindingKind::Secret => "secret",
            FindingKind::ExposedService => "exposed_service",
            FindingKind::License => "license",
        }
    }
}

/// What the report itself says about a finding's status: a SARIF
/// suppression, a Trivy or VEX status, a CycloneDX analysis state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceStatus {
    Affected,
    NotAffected,
    Fixed,
    UnderInvestigation,
    WillNotFix,
    /// Suppressed in the tool (SARIF `suppressions`, inline ignore comments).
    Suppressed,
    FalsePositive,
}

/// The software package a finding is in.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Component {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purl: Option<Purl>,
    /// The package type or ecosystem as the tool names it (`npm`, `deb`, `jar`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ecosystem: Option<String>,
}

/// Where on the asset the weakness is. Which fields are set depends on the
/// finding kind: a file and line for code, an URL and parameter for web
/// weaknesses, a port for services, a path for a package inside an image.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Location {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_line: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_line: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_column: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
}

/// How to fix a finding.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Fix {
    /// Versions of the component that no longer have the weakness.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fixed_versions: Vec<String>,
    /// The tool's remediation advice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl Fix {
    pub fn is_empty(&self) -> bool {
        self.fixed_versions.is_empty() && self.description.is_none()
    }
}

/// One weakness on one asset at one location, as one tool reported it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// The tool that reported it, in lowercase (`trivy`, `codeql`, `nessus`).
    pub tool: String,
    /// The tool's own id for the check or rule (a CVE id for SCA tools, a
    /// plugin id for Nessus, a rule id for SAST).
    pub rule_id: String,
    pub kind: FindingKind,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub severity: Severity,
    /// Always serialized, even when empty, because consumers of `ctem parse`
    /// JSON rely on the field being present.
    #[serde(default)]
    pub vulnerability_ids: Vec<VulnerabilityId>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cwes: Vec<Cwe>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cvss: Vec<CvssVector>,
    pub asset: AssetKey,
    #[serde(default)]
    pub location: Location,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component: Option<Component>,
    #[serde(default, skip_serializing_if = "Fix::is_empty")]
    pub fix: Fix,
    /// What the tool saw, with any secret already masked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<MaskedSecret>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_status: Option<SourceStatus>,
    /// A stable id that the tool computed for the result (SARIF
    /// `partialFingerprints`, Gitleaks `Fingerprint`). When present it
    /// replaces the line number in the ctem fingerprint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_fingerprint: Option<String>,
    /// The scope target that the scan covered (an image, a repository, a
    /// set of scanned hosts). `None` until the engine fills in a default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Further tool-specific facts worth keeping (plugin family, confidence).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
}

impl Finding {
    /// Builds a finding with the required fields and every optional field empty.
    pub fn new(
        tool: impl Into<String>,
        rule_id: impl Into<String>,
        kind: FindingKind,
        title: impl Into<String>,
        severity: Severity,
        asset: AssetKey,
    ) -> Finding {
        Finding {
            tool: tool.into().to_ascii_lowercase(),
            rule_id: rule_id.into(),
            kind,
            title: title.into(),
            description: None,
            severity,
            vulnerability_ids: Vec::new(),
            cwes: Vec::new(),
            cvss: Vec::new(),
            asset,
            location: Location::default(),
            component: None,
            fix: Fix::default(),
            evidence: None,
            secret: None,
            references: Vec::new(),
            source_status: None,
            tool_fingerprint: None,
            target: None,
            attributes: BTreeMap::new(),
        }
    }

    /// The finding's identity across runs (see [`crate::fingerprint`]).
    pub fn fingerprint(&self) -> Fingerprint {
        Fingerprint::of(self)
    }

    /// The highest base score among the finding's CVSS vectors.
    pub fn max_cvss(&self) -> Option<&CvssVector> {
        self.cvss
            .iter()
            .max_by(|a, b| a.base_score().total_cmp(&b.base_score()))
    }

    /// Adds a vulnerability id unless the finding has it already.
    pub fn add_vulnerability_id(&mut self, id: VulnerabilityId) {
        if !self.vulnerability_ids.contains(&id) {
            self.vulnerability_ids.push(id);
        }
    }

    /// Adds a CWE unless the finding has it already.
    pub fn add_cwe(&mut self, cwe: Cwe) {
        if !self.cwes.contains(&cwe) {
            self.cwes.push(cwe);
        }
    }

    /// Adds a CVSS vector unless the finding has the same one already.
    pub fn add_cvss(&mut self, vector: CvssVector) {
        if !self.cvss.iter().any(|v| v.to_string() == vector.to_string()) {
            self.cvss.push(vector);
        }
    }
}
