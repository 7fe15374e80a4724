//! Where a fact about a vulnerability came from.
//!
//! Every value that ctem loads about a CVE (a CVSS vector, an EPSS score,
//! a KEV date, an SSVC decision point, an ATT&CK technique, an exploit) is
//! a [`Fact`]: the value and its [`Provenance`], the source that stated it
//! and the date the source gives for it. When sources disagree, such as
//! NVD and the CNA on a CVSS vector, both facts are kept and the caller
//! picks one and gives the reason.

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The publisher and format of an intelligence source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    /// The CISA Known Exploited Vulnerabilities catalog (JSON).
    Kev,
    /// FIRST EPSS daily scores (CSV).
    Epss,
    /// CVE JSON 5.x records of the CVE Program, with ADP containers.
    Cve5,
    /// NVD CVE API 2.0 JSON.
    Nvd,
    /// OSV advisories (JSON).
    Osv,
    /// MITRE ATT&CK STIX 2.1 bundles.
    Attack,
    /// Center for Threat-Informed Defense mappings of CVEs to ATT&CK.
    CtidMappings,
    /// STIX 2.1 bundles from any provider, read from a file or a TAXII server.
    Stix,
    /// Exploit-DB's `files_exploits.csv`.
    ExploitDb,
    /// Metasploit's `modules_metadata_base.json`.
    Metasploit,
    /// Nuclei templates (YAML) with CVE ids in their metadata.
    NucleiTemplates,
}

impl SourceKind {
    /// Every kind, in the order reports list them.
    pub const ALL: [SourceKind; 11] = [
        SourceKind::Kev,
        SourceKind::Epss,
        SourceKind::Cve5,
        SourceKind::Nvd,
        SourceKind::Osv,
        SourceKind::Attack,
        SourceKind::CtidMappings,
        SourceKind::Stix,
        SourceKind::ExploitDb,
        SourceKind::Metasploit,
        SourceKind::NucleiTemplates,
    ];

    /// Returns the stable identifier used in configuration, cache folders and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Kev => "kev",
            SourceKind::Epss => "epss",
            SourceKind::Cve5 => "cve5",
            SourceKind::Nvd => "nvd",
            SourceKind::Osv => "osv",
            SourceKind::Attack => "attack",
            SourceKind::CtidMappings => "ctid-mappings",
            SourceKind::Stix => "stix",
            SourceKind::ExploitDb => "exploit-db",
            SourceKind::Metasploit => "metasploit",
            SourceKind::NucleiTemplates => "nuclei-templates",
        }
    }

    /// Returns the kind whose [`SourceKind::as_str`] is `id`, ignoring ASCII case.
    pub fn parse(id: &str) -> Option<SourceKind> {
        SourceKind::ALL
            .into_iter()
            .find(|kind| kind.as_str().eq_ignore_ascii_case(id.trim()))
    }

    /// Returns the common name of the source, such as `CISA KEV`.
    pub fn publisher(self) -> &'static str {
        match self {
            SourceKind::Kev => "CISA KEV",
            SourceKind::Epss => "FIRST EPSS",
            SourceKind::Cve5 => "CVE record",
            SourceKind::Nvd => "NVD",
            SourceKind::Osv => "OSV",
            SourceKind::Attack => "MITRE ATT&CK",
            SourceKind::CtidMappings => "CTID ATT&CK mappings",
            SourceKind::Stix => "STIX",
            SourceKind::ExploitDb => "Exploit-DB",
            SourceKind::Metasploit => "Metasploit",
            SourceKind::NucleiTemplates => "Nuclei templates",
        }
    }
}

impl fmt::Display for SourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The origin of one fact: source, author and date.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Provenance {
    pub kind: SourceKind,
    /// The party that stated the fact inside the source, where it is named: the CNA or ADP
    /// of a CVE record (`CISA-ADP`, `GitHub_M`), the `source` of an NVD
    /// metric (`nvd@nist.gov`), the STIX identity. `None` for single-author
    /// feeds such as KEV and EPSS.
    pub author: Option<String>,
    /// The file (or URL) the fact was read from.
    pub path: String,
    /// The date the source gives for the fact: the day it was added,
    /// scored, published or last modified. `None` when the source has none.
    pub date: Option<NaiveDate>,
}

impl Provenance {
    pub fn new(kind: SourceKind, path: impl Into<String>, date: Option<NaiveDate>) -> Provenance {
        Provenance {
            kind,
            author: None,
            path: path.into(),
            date,
        }
    }

    /// Sets who stated the fact inside the source.
    pub fn by(mut self, author: impl Into<String>) -> Provenance {
        self.author = Some(author.into());
        self
    }
}

impl fmt::Display for Provenance {
    /// Formats the provenance as `CVE record (CISA-ADP) of 2024-10-22, path`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind.publisher())?;
        if let Some(author) = &self.author {
            write!(f, " ({author})")?;
        }
        if let Some(date) = self.date {
            write!(f, " of {date}")?;
        }
        write!(f, ", {}", self.path)
    }
}

/// A value and where it came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fact<T> {
    pub value: T,
    pub source: Provenance,
}

impl<T> Fact<T> {
    pub fn new(value: T, source: Provenance) -> Fact<T> {
        Fact { value, source }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provenance_reads_as_a_citation() {
        let date = NaiveDate::from_ymd_opt(2024, 10, 22);
        let source = Provenance::new(SourceKind::Cve5, "cve5/2023/22xxx/CVE-2023-22515.json", date).by("CISA-ADP");
        assert_eq!(
            source.to_string(),
            "CVE record (CISA-ADP) of 2024-10-22, cve5/2023/22xxx/CVE-2023-22515.json"
        );
    }

    #[test]
    fn source_kind_identifiers_are_distinct() {
        let mut ids: Vec<&str> = SourceKind::ALL.iter().map(|kind| kind.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), SourceKind::ALL.len());
    }

    #[test]
    fn source_kind_parses_its_identifier_and_serde_name() {
        for kind in SourceKind::ALL {
            assert_eq!(SourceKind::parse(kind.as_str()), Some(kind));
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
            assert_eq!(serde_json::from_str::<SourceKind>(&json).unwrap(), kind);
        }
        assert_eq!(SourceKind::parse("KEV"), Some(SourceKind::Kev));
        assert_eq!(SourceKind::parse("exploitdb"), None);
    }
}
