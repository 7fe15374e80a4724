//! Explainable risk scoring of ctem: a score from 0 to 100, a tier and the
//! factors behind them, for every finding.
//!
//! [`assess`] is a pure function of a finding, its asset (where the
//! inventory has it) and the loaded [`ctem_intel::Intel`]. It performs no
//! I/O, so the engine, the server and benchmarks call it alike. Every
//! weight and threshold below is a public constant of this crate.
//!
//! # The model
//!
//! Risk is the likelihood that a weakness is exploited times what its
//! exploitation would cost:
//!
//! ```text
//! evidence   = 1 - (1 - kev) * (1 - epss) * (1 - base)
//! likelihood = exposure * evidence
//! impact     = criticality * (TECHNICAL_IMPACT_FLOOR + (1 - TECHNICAL_IMPACT_FLOOR) * technical)
//! score      = 100 * sqrt(likelihood * impact)
//! ```
//!
//! Every input lies in 0..=1, and so do likelihood and impact.
//!
//! | input | value | why |
//! | --- | --- | --- |
//! | `kev` | [`KEV_LISTED`] 0.9 when a CVE of the finding is in CISA KEV, [`KEV_RANSOMWARE`] 0.95 when the entry notes known ransomware use, else 0 | Exploitation in the wild has been observed: the strongest evidence there is. It is not 1.0 because a listing says that someone exploits the CVE, not that anyone targets this asset. Ransomware crews exploit at scale and fast. |
//! | `epss` | the square root of the FIRST EPSS probability, else 0 | EPSS estimates the probability of exploitation activity in the next 30 days. Most CVEs score below 0.01, so the square root spreads that range (0.01 becomes 0.1, 0.25 becomes 0.5) while it keeps 0, 1 and the order. |
//! | `base` | with a CVSS vector: [`CVSS_EXPLOITABILITY_WEIGHT`] 0.3 times `CvssVector::exploitability()` of the finding's highest-scoring vector. Without: the kind weight times `(1 - SEVERITY_LIKELIHOOD_SHARE) + SEVERITY_LIKELIHOOD_SHARE * severity level` | Ease of exploitation is no evidence that anyone exploits the flaw, so it weighs at most 0.3 and never outweighs an observed exploitation. |
//! | `exposure` | [`EXPOSURE_INTERNET`] 1.0 when the asset is internet-exposed, [`EXPOSURE_UNKNOWN`] 0.7 when nobody knows, [`EXPOSURE_INTERNAL`] 0.5 when it is not exposed | Internal assets are reached after a first foothold, and exploited flaws are often used for that lateral movement, so being internal halves the likelihood instead of zeroing it. Unknown sits between, nearer to internal, because most assets are internal. |
//! | `criticality` | [`CRITICALITY_CROWN_JEWEL`] 1.0, [`CRITICALITY_HIGH`] 0.8, [`CRITICALITY_MEDIUM`] 0.6, [`CRITICALITY_LOW`] 0.35; an asset that the configuration does not classify counts as [`DEFAULT_CRITICALITY`] (medium) | The configuration names what must not be reached. An unclassified asset is treated as an ordinary one, neither protected nor dismissed. |
//! | `technical` | `CvssVector::impact()` of the highest-scoring vector, else the severity level | What the flaw gives an attacker on the asset. It moves only half of the impact ([`TECHNICAL_IMPACT_FLOOR`] 0.5), because even a flaw of little impact gives a foothold on the asset, and the asset sets what is at stake. |
//!
//! Kind weights for findings without a CVSS vector: a secret
//! ([`KIND_SECRET`] 0.9) is directly usable by whoever finds it, a web
//! weakness ([`KIND_WEB_WEAKNESS`] 0.6) was observed on a running
//! application, a misconfiguration ([`KIND_MISCONFIGURATION`] 0.45) and a
//! code weakness ([`KIND_CODE_WEAKNESS`] 0.35) may not be reachable, a
//! vulnerability ([`KIND_VULNERABILITY`] 0.3) weighs as much as one with the
//! easiest CVSS vector, an exposed service alone ([`KIND_EXPOSED_SERVICE`]
//! 0.2) is only an entry point, and a license finding ([`KIND_LICENSE`] 0)
//! is no security risk. Severity levels: critical 1.0, high 0.8, medium
//! 0.5, low 0.25, info 0.05 ([`SEVERITY_CRITICAL`] and the others). Half of the kind
//! weight ([`SEVERITY_LIKELIHOOD_SHARE`]) scales with the severity.
//!
//! The evidence terms combine like independent chances (a "noisy OR"): any
//! one of them can make exploitation likely, and a second one adds less
//! than the first. Each term only adds, so a low EPSS probability never
//! scores below a missing one. Missing data is no evidence against
//! exploitation. A finding with several CVEs takes the KEV entry with the
//! strongest evidence (ransomware use, then the earliest listing) and the
//! highest EPSS probability among them.
//!
//! The score is the geometric mean of likelihood and impact on 0..=100. It
//! ranks findings exactly as their product would, but it reads on the
//! scale of its parts: 50 means that likelihood times impact is 0.25.
//!
//! # Tiers
//!
//! | tier | score | typical finding |
//! | --- | --- | --- |
//! | P1 | [`P1_MIN_SCORE`] 65 and above | exploitation evidence on an internet-exposed or crown-jewel asset; a leaked secret on an exposed asset |
//! | P2 | [`P2_MIN_SCORE`] 45 to 65 | exploitation evidence on an internal asset; an easy critical flaw on an exposed crown jewel; a leaked secret |
//! | P3 | [`P3_MIN_SCORE`] 30 to 45 | a severe flaw with no sign of exploitation |
//! | P4 | below 30 | unlikely or of little consequence; every suppressed finding |
//!
//! Examples (each is a test): a KEV-listed CVE of CVSS 7.5 scores 86.6
//! (P1) on an internet-exposed crown jewel, 67.1 (P1) on an exposed asset
//! of unknown criticality and 47.4 (P2) on an internal asset of medium
//! criticality. A CVSS 9.8 flaw without KEV or EPSS scores 54.8 (P2) on an
//! exposed crown jewel and 35.5 (P3) where exposure and criticality are
//! unknown. The same flaw with an EPSS probability of 0.0005 on an
//! internal low-criticality test host scores 23.5 (P4). A high-severity
//! secret scores 66.1 (P1) on an exposed asset, and an open port of
//! severity info on an exposed host scores 18.2 (P4).
//!
//! # Factors and contributions
//!
//! Each input is one [`ctem_model::Factor`], named `kev`, `epss`,
//! `cvss_exploitability` or `finding_kind` (the base evidence),
//! `cvss_impact` or `severity` (the technical impact), `internet_exposure`
//! and `asset_criticality`. `kev` and `epss` are listed only when the
//! intelligence has the CVE. Exposure and criticality are always listed,
//! with the source `default` when they were assumed, so that a reader
//! sees what the configuration could sharpen.
//!
//! A factor's contribution is its Shapley value in score points: the
//! score with the factor's input minus the score with that input at its
//! baseline, averaged over every order in which the inputs can be added.
//! The baselines are 0 for `kev`, `epss`, the base evidence and the
//! technical impact, unknown exposure and the default criticality. The
//! score with every input at its baseline is 0, so the contributions add
//! up to the score. An input at its baseline contributes exactly 0, and
//! inputs that lower the score (no exposure, low criticality) contribute
//! negative points. Averaging over the orders splits the credit of
//! overlapping evidence fairly. With a plain "score minus score without
//! it", a KEV listing would show almost nothing next to an EPSS of 0.94,
//! since either alone already makes exploitation nearly certain. Factors
//! are sorted by absolute contribution, largest first.
//!
//! # Suppressed findings
//!
//! A finding whose report marks it not affected, fixed, a false positive
//! or suppressed is scored 0 and tier P4. A `source_status` factor
//! contributes minus the score it would have had, and the other factors
//! keep their contributions, so the trace still shows what was suppressed
//! (a KEV listing, say) and still adds up to the score.
//!
//! # Example
//!
//! ```
//! use ctem_intel::{EpssScores, Intel, KevCatalog};
//! use ctem_model::{Asset, AssetKind, Criticality, Finding, FindingKind, Severity, Tier};
//!
//! let kev = r#"{"catalogVersion": "2025.08.25", "dateReleased": "2025-08-25T17:04:19Z",
//!   "vulnerabilities": [{"cveID": "CVE-2021-44228", "dateAdded": "2021-12-10",
//!                        "knownRansomwareCampaignUse": "Known"}]}"#;
//! let epss = "#model_version:v2025.03.14,score_date:2025-03-14T00:00:00+0000\n\
//!             cve,epss,percentile\n\
//!             CVE-2021-44228,0.94358,0.99957\n";
//! let mut intel = Intel::default();
//! intel.add_kev(KevCatalog::from_reader("kev.json", kev.as_bytes())?);
//! intel.add_epss(EpssScores::from_reader("epss.csv", epss.as_bytes())?);
//!
//! let mut asset = Asset::new(AssetKind::Host, "shop.acme.example", "shop");
//! asset.internet_exposed = Some(true);
//! asset.criticality = Some(Criticality::CrownJewel);
//!
//! let mut finding = Finding::new("trivy", "CVE-2021-44228", FindingKind::Vulnerability,
//!     "log4j-core 2.14.1", Severity::Critical, asset.key.clone());
//! finding.add_vulnerability_id("CVE-2021-44228".parse()?);
//! finding.add_cvss("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H".parse()?);
//!
//! let risk = ctem_risk::assess(&finding, Some(&asset), &intel);
//! assert_eq!(risk.tier, Tier::P1);
//! assert!(risk.score > 99.0);
//!
//! let row: Vec<String> = risk.factors.iter().map(|f| format!("{} {}", f.name, f.value)).collect();
//! assert_eq!(row[..2], ["epss 0.94358", "kev listed 2021-12-10, known ransomware use"]);
//! let total: f64 = risk.factors.iter().map(|f| f.contribution).sum();
//! assert!((total - risk.score).abs() < 1e-9);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod assess;
pub mod backtest;
mod model;

pub use assess::{assess, finding_cves};
pub use model::{
    CRITICALITY_CROWN_JEWEL, CRITICALITY_HIGH, CRITICALITY_LOW, CRITICALITY_MEDIUM, CVSS_EXPLOITABILITY_WEIGHT,
    DEFAULT_CRITICALITY, EXPOSURE_INTERNAL, EXPOSURE_INTERNET, EXPOSURE_UNKNOWN, KEV_LISTED, KEV_RANSOMWARE,
    KIND_CODE_WEAKNESS, KIND_EXPOSED_SERVICE, KIND_LICENSE, KIND_MISCONFIGURATION, KIND_SECRET, KIND_VULNERABILITY,
    KIND_WEB_WEAKNESS, P1_MIN_SCORE, P2_MIN_SCORE, P3_MIN_SCORE, SEVERITY_CRITICAL, SEVERITY_HIGH, SEVERITY_INFO,
    SEVERITY_LIKELIHOOD_SHARE, SEVERITY_LOW, SEVERITY_MEDIUM, TECHNICAL_IMPACT_FLOOR,
};
