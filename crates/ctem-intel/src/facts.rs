//! Everything known about one CVE, gathered from every loaded source with
//! the source and date of each value ([`Intel::facts`]).
//!
//! # Which CVSS vector scoring uses
//!
//! Sources often disagree: the CNA, NVD and CISA's ADP each state their
//! own vector, sometimes in different CVSS versions. Every vector is kept
//! in [`VulnerabilityFacts::cvss`]; [`VulnerabilityFacts::chosen_cvss`]
//! names the one that scoring uses, and why, by these rules in order:
//!
//! 1. the newest CVSS generation (4.0, then 3.x, then 2.0), because it
//!    describes exploitation most precisely;
//! 2. within a generation, the CNA of the CVE (the vendor or project of the product),
//!    then NVD's primary analysis, then CISA's ADP, then OSV advisories,
//!    then any other party;
//! 3. within that, the newer minor version (3.1 before 3.0), then the
//!    later date.
//!
//! A scanner that states its own vector in a finding keeps it: scoring uses
//! the intelligence vector only for findings that have none.

use chrono::NaiveDate;
use ctem_model::{CveId, CvssVector, CvssVersion, Cwe, VulnerabilityId};
use serde::Serialize;

use crate::attack::AttackTechnique;
use crate::bundle::Intel;
use crate::cve5::{Exploitation, SsvcDecisionPoints, TechnicalImpact};
use crate::epss::EpssScore;
use crate::exploits::{ExploitEvidence, ExploitKind};
use crate::kev::KevEntry;
use crate::provenance::{Fact, Provenance, SourceKind};
use crate::ssvc::{BuiltinTable, Inputs};
use crate::stix::{StixLink, StixSighting};
use crate::vuln::{MetricType, Reference};

/// The CISA ADP's short name in CVE records.
const CISA_ADP: &str = "CISA-ADP";

/// Everything loaded about one CVE.
#[derive(Debug, Clone, Serialize)]
pub struct VulnerabilityFacts {
    pub cve: CveId,
    /// Other ids of the same vulnerability (GHSA, OSV ids), from OSV aliases.
    pub aliases: Vec<VulnerabilityId>,
    /// The CNA's title or description, else NVD's description.
    pub description: Option<Fact<String>>,
    /// Whether the CVE record or NVD marks the CVE as rejected.
    pub rejected: bool,
    /// The CISA KEV entry, dated by the day CISA added the CVE.
    pub kev: Option<Fact<KevEntry>>,
    /// KEV listings that CVE records (CISA ADP) and NVD (`cisaExploitAdd`)
    /// state, dated by the day they give. They cover a CVE that an older
    /// loaded catalog does not list yet.
    pub kev_listings: Vec<Provenance>,
    /// The latest EPSS score, dated by its score date.
    pub epss: Option<Fact<EpssScore>>,
    /// The highest EPSS probability of the last
    /// [`EPSS_HISTORY_DAYS`](crate::cache::EPSS_HISTORY_DAYS) days of the
    /// loaded history, where it is above the latest score: the probability
    /// that scoring uses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub epss_recent_maximum: Option<EpssMaximum>,
    /// Every CVSS vector of every source.
    pub cvss: Vec<Fact<CvssFact>>,
    /// The vector scoring uses, as an index into `cvss`, with the reason.
    pub chosen_cvss: Option<CvssChoice>,
    pub cwes: Vec<Fact<Cwe>>,
    /// SSVC decision points, as CISA's ADP states them.
    pub ssvc: Vec<Fact<SsvcDecisionPoints>>,
    /// SSVC outcomes that follow from the latest decision points.
    pub ssvc_outcomes: Vec<SsvcOutcome>,
    /// ATT&CK techniques that CTID maps the CVE to.
    pub techniques: Vec<Fact<AttackTechnique>>,
    /// Public exploits and detection templates.
    pub exploits: Vec<Fact<ExploitEvidence>>,
    /// References that CVE records or NVD tag as exploits.
    pub exploit_references: Vec<Fact<Reference>>,
    /// Threat actors, malware and campaigns that STIX bundles link to the CVE.
    pub threats: Vec<Fact<StixLink>>,
    pub sightings: Vec<Fact<StixSighting>>,
}

/// The highest EPSS probability of a CVE within a window of days.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EpssMaximum {
    pub epss: f64,
    /// The day the probability was scored.
    pub date: Option<NaiveDate>,
    /// The days of the window before the newest score date.
    pub days: i64,
}

/// A CVSS vector with its computed score, as one source states it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CvssFact {
    pub vector: CvssVector,
    pub version: CvssVersion,
    /// The base score computed from the vector.
    pub score: f64,
    /// The score the source states beside the vector, where it differs.
    pub stated_score: Option<f64>,
    /// The role of the source for the CVE: `cna`, `nvd-primary`, `adp`, `osv`, `other`.
    pub role: CvssRole,
}

/// The role of a CVSS vector's source for the CVE, in the order of preference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CvssRole {
    Cna,
    NvdPrimary,
    Adp,
    Osv,
    Other,
}

impl CvssRole {
    fn describe(self) -> &'static str {
        match self {
            CvssRole::Cna => "the CNA of the CVE knows the product best",
            CvssRole::NvdPrimary => "no CNA vector of this generation, and NVD's primary analysis comes next",
            CvssRole::Adp => "no CNA or NVD vector of this generation, and CISA's ADP comes next",
            CvssRole::Osv => "no CNA, NVD or ADP vector of this generation, and the OSV advisory comes next",
            CvssRole::Other => "no vector of this generation from the CNA, NVD, ADP or OSV",
        }
    }
}

/// The vector that scoring uses, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CvssChoice {
    pub index: usize,
    pub reason: String,
}

/// An SSVC outcome, or the range of outcomes when a decision point that
/// depends on the environment is not known.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SsvcOutcome {
    /// The decision table, such as `CISA Coordinator v2.0.3`.
    pub table: String,
    /// The outcome (`Act`), or the range (`Attend to Act`).
    pub outcome: String,
    /// Decision points that the CVE's facts do not give, such as `Mission and Well-Being Impact`.
    pub unknown: Vec<String>,
    /// The decision points the outcome came from.
    pub source: Provenance,
}

impl Intel {
    /// Gathers everything the loaded sources state about a CVE. A CVE that
    /// no source lists gives facts with every list empty.
    pub fn facts(&self, cve: &CveId) -> VulnerabilityFacts {
        let mut facts = VulnerabilityFacts {
            cve: cve.clone(),
            aliases: self.osv().aliases(&VulnerabilityId::Cve(cve.clone())),
            description: None,
            rejected: false,
            kev: None,
            kev_listings: Vec::new(),
            epss: None,
            epss_recent_maximum: None,
            cvss: Vec::new(),
            chosen_cvss: None,
            cwes: Vec::new(),
            ssvc: Vec::new(),
            ssvc_outcomes: Vec::new(),
            techniques: Vec::new(),
            exploits: self.exploits().get(cve).to_vec(),
            exploit_references: Vec::new(),
            threats: Vec::new(),
            sightings: Vec::new(),
        };

        if let Some(catalog) = self.kev_catalog()
            && let Some(entry) = catalog.get(cve)
        {
            let source = Provenance::new(SourceKind::Kev, catalog.path(), Some(entry.date_added));
            facts.kev = Some(Fact::new(entry.clone(), source));
        }
        if let Some(record) = self.epss(cve) {
            let source = Provenance::new(SourceKind::Epss, record.file.path.clone(), record.file.score_date);
            facts.epss = Some(Fact::new(record.score, source));
        }
        let days = crate::cache::EPSS_HISTORY_DAYS;
        if let Some(window) = self.epss_scores().window_maximum(cve, days)
            && window.maximum > window.record.score.epss
        {
            facts.epss_recent_maximum = Some(EpssMaximum {
                epss: window.maximum,
                date: window.date,
                days,
            });
        }

        if let Some(record) = self.cve5().get(cve) {
            facts.rejected |= record.is_rejected();
            facts.description = record.title.clone().or_else(|| record.description.clone());
            facts.cwes.extend(record.cwes.iter().cloned());
            facts.ssvc.extend(record.ssvc.iter().cloned());
            for listing in &record.kev {
                let mut source = listing.source.clone();
                source.date = Some(listing.value.date_added);
                facts.kev_listings.push(source);
            }
            facts.exploit_references.extend(
                record
                    .references
                    .iter()
                    .filter(|reference| reference.value.is_exploit())
                    .cloned(),
            );
        }

        if let Some(entry) = self.nvd().get(cve) {
            facts.rejected |= entry.is_rejected();
            if facts.description.is_none() {
                facts.description = entry.description.clone();
            }
            for cwe in &entry.cwes {
                if !facts.cwes.iter().any(|known| known.value == cwe.value) {
                    facts.cwes.push(cwe.clone());
                }
            }
            if let Some(kev) = &entry.kev {
                let mut source = kev.source.clone();
                source.date = Some(kev.value.date_added);
                facts.kev_listings.push(source);
            }
            facts.exploit_references.extend(
                entry
                    .references
                    .iter()
                    .filter(|reference| reference.value.is_exploit())
                    .cloned(),
            );
        }

        facts.cvss = self.cvss_facts(cve, &facts.aliases);
        facts.chosen_cvss = choose_cvss(&facts.cvss);

        for mappings in self.ctid() {
            facts.techniques.extend(mappings.get(cve).iter().cloned());
        }
        for bundle in self.stix() {
            if let Some(found) = bundle.get(cve) {
                facts.threats.extend(found.threats.iter().cloned());
                facts.sightings.extend(found.sightings.iter().cloned());
            }
        }
        facts.ssvc_outcomes = ssvc_outcomes(&facts);
        facts
    }
}

fn is_nvd(author: Option<&str>) -> bool {
    author.is_some_and(|author| author.eq_ignore_ascii_case("nvd@nist.gov"))
}

fn cvss_fact(vector: CvssVector, stated: Option<f64>, role: CvssRole, source: &Provenance) -> Fact<CvssFact> {
    let score = vector.base_score();
    let stated_score = stated.filter(|stated| (stated - score).abs() > 0.05);
    Fact::new(
        CvssFact {
            version: vector.version(),
            vector,
            score,
            stated_score,
            role,
        },
        source.clone(),
    )
}

/// The generation of a CVSS version: 4, 3 or 2.
fn generation(version: CvssVersion) -> u8 {
    match version {
        CvssVersion::V2 => 2,
        CvssVersion::V30 | CvssVersion::V31 => 3,
        CvssVersion::V40 => 4,
    }
}

/// Picks the vector scoring uses, by the rules of the module doc.
fn choose_cvss(vectors: &[Fact<CvssFact>]) -> Option<CvssChoice> {
    let (index, best) = vectors.iter().enumerate().min_by(|(_, a), (_, b)| {
        generation(b.value.version)
            .cmp(&generation(a.value.version))
            .then(a.value.role.cmp(&b.value.role))
            .then(b.value.version.cmp(&a.value.version))
            .then(b.source.date.cmp(&a.source.date))
    })?;
    let others: Vec<String> = vectors
        .iter()
        .enumerate()
        .filter(|(other, fact)| *other != index && fact.value.vector != best.value.vector)
        .map(|(_, fact)| {
            format!(
                "{} states {:.1} ({})",
                fact.source.author.as_deref().unwrap_or(fact.source.kind.publisher()),
                fact.value.score,
                fact.value.version.as_str()
            )
        })
        .collect();
    let mut reason = format!(
        "CVSS v{} is the newest generation stated, and {}",
        generation(best.value.version),
        best.value.role.describe()
    );
    if !others.is_empty() {
        reason.push_str(&format!("; {}", others.join(", ")));
    }
    Some(CvssChoice { index, reason })
}

/// Decides the CISA coordinator and BOD 26-04 tables from the latest SSVC
/// points. Points that depend on the environment stay unknown, so the
/// outcome is a range.
fn ssvc_outcomes(facts: &VulnerabilityFacts) -> Vec<SsvcOutcome> {
    let Some(points) = facts.ssvc.iter().max_by_key(|fact| fact.source.date) else {
        return Vec::new();
    };
    let mut inputs = Inputs::new();
    if let Some(exploitation) = points.value.exploitation {
        let value = match exploitation {
            Exploitation::None => "none",
            Exploitation::Poc => "public poc",
            Exploitation::Active => "active",
        };
        inputs.set("Exploitation", value);
    }
    if let Some(automatable) = points.value.automatable {
        inputs.set("Automatable", if automatable { "yes" } else { "no" });
    }
    if let Some(impact) = points.value.technical_impact {
        let value = match impact {
            TechnicalImpact::Partial => "partial",
            TechnicalImpact::Total => "total",
        };
        inputs.set("Technical Impact", value);
    }
    let in_kev = facts.kev.is_some() || !facts.kev_listings.is_empty();
    inputs.set("In KEV", if in_kev { "yes" } else { "no" });

    [BuiltinTable::CisaCoordinator, BuiltinTable::CisaBod2604]
        .into_iter()
        .filter_map(|builtin| {
            let table = builtin.table();
            match table.outcome_range(&inputs) {
                Ok(range) => Some(SsvcOutcome {
                    table: match table.version() {
                        Some(version) => format!("{} {version}", table.name()),
                        None => table.name().to_string(),
                    },
                    outcome: range.to_string(),
                    unknown: range.unknown.clone(),
                    source: points.source.clone(),
                }),
                Err(error) => {
                    tracing::warn!(cve = %facts.cve, table = table.name(), %error, "SSVC points do not fit the table");
                    None
                }
            }
        })
        .collect()
}

/// One piece of evidence that a CVE can be or is being exploited, short of
/// a KEV listing or an EPSS score, for scoring.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExploitClue {
    pub signal: ExploitSignal,
    /// The evidence, such as `Metasploit module exploit/multi/http/confluence_... (excellent)`.
    pub detail: String,
    pub source: Provenance,
}

/// The kinds of exploit evidence, from the strongest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExploitSignal {
    /// SSVC Exploitation `active`: exploitation seen in the wild (CISA ADP).
    SsvcActive,
    /// A Metasploit module: a weaponized, point-and-shoot exploit.
    MetasploitModule,
    /// An Exploit-DB entry that the Exploit-DB team verified.
    ExploitDbVerified,
    /// An Exploit-DB entry.
    ExploitDb,
    /// SSVC Exploitation `public PoC`.
    SsvcPoc,
    /// A Nuclei template or a Metasploit auxiliary module that detects the
    /// vulnerability remotely.
    DetectionTemplate,
    /// A reference that a CVE record or NVD tags as an exploit.
    ExploitReference,
}

impl Intel {
    /// Lists the exploit evidence of a CVE other than KEV and EPSS: SSVC
    /// Exploitation, exploit modules and entries, Nuclei templates and
    /// references tagged as exploits. Cheap when no such source is loaded.
    pub fn exploit_clues(&self, cve: &CveId) -> Vec<ExploitClue> {
        let mut clues = Vec::new();
        if let Some(record) = self.cve5().get(cve)
            && let Some(points) = record.ssvc.iter().max_by_key(|fact| fact.source.date)
        {
            let signal = match points.value.exploitation {
                Some(Exploitation::Active) => Some((ExploitSignal::SsvcActive, "SSVC exploitation active")),
                Some(Exploitation::Poc) => Some((ExploitSignal::SsvcPoc, "SSVC exploitation public PoC")),
                _ => None,
            };
            if let Some((signal, detail)) = signal {
                clues.push(ExploitClue {
                    signal,
                    detail: detail.to_string(),
                    source: points.source.clone(),
                });
            }
        }
        for evidence in self.exploits().get(cve) {
            let value = &evidence.value;
            let (signal, detail) = match value.kind {
                ExploitKind::MetasploitModule if value.category.as_deref() == Some("exploit") => (
                    ExploitSignal::MetasploitModule,
                    format!("Metasploit exploit module {}", value.reference),
                ),
                ExploitKind::MetasploitModule => (
                    ExploitSignal::DetectionTemplate,
                    format!("Metasploit auxiliary module {}", value.reference),
                ),
                ExploitKind::ExploitDb if value.verified == Some(true) => (
                    ExploitSignal::ExploitDbVerified,
                    format!("Exploit-DB {} (verified)", value.reference),
                ),
                ExploitKind::ExploitDb => (ExploitSignal::ExploitDb, format!("Exploit-DB {}", value.reference)),
                ExploitKind::NucleiTemplate => (
                    ExploitSignal::DetectionTemplate,
                    format!("Nuclei template {}", value.reference),
                ),
            };
            clues.push(ExploitClue {
                signal,
                detail,
                source: evidence.source.clone(),
            });
        }
        let record_references = self.cve5().get(cve).map(|record| record.references.as_slice());
        let nvd_references = self.nvd().get(cve).map(|entry| entry.references.as_slice());
        for reference in record_references.into_iter().chain(nvd_references).flatten() {
            if reference.value.is_exploit() {
                clues.push(ExploitClue {
                    signal: ExploitSignal::ExploitReference,
                    detail: format!("exploit reference {}", reference.value.url),
                    source: reference.source.clone(),
                });
            }
        }
        clues.sort_by(|a, b| a.signal.cmp(&b.signal).then_with(|| a.detail.cmp(&b.detail)));
        clues
    }

    /// Collects every CVSS vector of a CVE: from its CVE record (CNA and
    /// ADPs), its NVD entry and the OSV advisories of its aliases.
    fn cvss_facts(&self, cve: &CveId, aliases: &[VulnerabilityId]) -> Vec<Fact<CvssFact>> {
        let mut vectors = Vec::new();
        if let Some(record) = self.cve5().get(cve) {
            let cna = record.source.author.as_deref();
            for metric in &record.cvss {
                let role = match metric.source.author.as_deref() {
                    author if author.is_some() && author == cna => CvssRole::Cna,
                    Some(CISA_ADP) => CvssRole::Adp,
                    _ => CvssRole::Other,
                };
                vectors.push(cvss_fact(
                    metric.value.vector.clone(),
                    metric.value.stated_score,
                    role,
                    &metric.source,
                ));
            }
        }
        if let Some(entry) = self.nvd().get(cve) {
            for metric in &entry.cvss {
                let role = match metric.value.metric_type {
                    Some(MetricType::Primary) if is_nvd(metric.source.author.as_deref()) => CvssRole::NvdPrimary,
                    _ => CvssRole::Other,
                };
                vectors.push(cvss_fact(
                    metric.value.vector.clone(),
                    metric.value.stated_score,
                    role,
                    &metric.source,
                ));
            }
        }
        for alias in aliases {
            if let Some(record) = self.osv().get(alias) {
                for vector in record.cvss_facts() {
                    vectors.push(cvss_fact(vector.value, None, CvssRole::Osv, &vector.source));
                }
            }
        }
        vectors
    }

    /// Returns the CVSS vector that scoring uses for a CVE (see the module
    /// doc), with the reason, or `None` when no loaded source states one.
    pub fn preferred_cvss(&self, cve: &CveId) -> Option<(Fact<CvssFact>, String)> {
        if self.cve5().get(cve).is_none() && self.nvd().get(cve).is_none() && self.osv().is_empty() {
            return None;
        }
        let aliases = self.osv().aliases(&VulnerabilityId::Cve(cve.clone()));
        let vectors = self.cvss_facts(cve, &aliases);
        let choice = choose_cvss(&vectors)?;
        let fact = vectors.into_iter().nth(choice.index)?;
        Some((fact, choice.reason))
    }
}
