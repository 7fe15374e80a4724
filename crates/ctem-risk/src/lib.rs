//! Explainable risk scoring of ctem: a score from 0 to 100, a tier, a
//! remediation deadline and the factors behind them, for every finding.
//!
//! [`assess_with`] is a pure function of a finding, its asset (where the
//! inventory has it), the loaded [`ctem_intel::Intel`] and a [`Context`]:
//! the finding's attack graph facts, the compensating controls and the
//! data classification that the engine derives. [`assess`] is the same
//! call with an empty context. Neither performs I/O, so the engine, the
//! server and benchmarks call them alike. Every weight and threshold below
//! is a public constant of this crate. [`explain`] turns an assessment into
//! one sentence.
//!
//! # The model
//!
//! Risk is the likelihood that a weakness is exploited times what its
//! exploitation would cost:
//!
//! ```text
//! evidence   = 1 - (1 - exploited) * (1 - epss) * (1 - exploit) * (1 - automatable) * (1 - base)
//! reach      = max(exposure, EXPOSURE_INTERNAL + (1 - EXPOSURE_INTERNAL) * path)
//! likelihood = reach * control * evidence
//! value      = max(criticality, classification, graph values)
//! value      = value + (1 - value) * BLAST_RADIUS_ASSETS_WEIGHT * blast
//! impact     = value * (TECHNICAL_IMPACT_FLOOR + (1 - TECHNICAL_IMPACT_FLOOR) * technical)
//! score      = 100 * sqrt(likelihood * impact)
//! ```
//!
//! Every input lies in 0..=1, and so do likelihood and impact.
//!
//! ## Likelihood
//!
//! Hard evidence comes first: a KEV listing or a STIX sighting means the
//! flaw is exploited, and a public exploit or a CVSS v4.0 `E:P` vector
//! means a proof of concept exists. Both set the SSVC Exploitation of the
//! tier (below) and weigh heavily in the evidence. The evidence terms then
//! combine like independent chances (a "noisy OR"): any one of them can
//! make exploitation likely, a second one adds less than the first, and no
//! term ever lowers the likelihood, so the model is monotone in each.
//!
//! | input | value | why |
//! | --- | --- | --- |
//! | `exploited` | [`KEV_LISTED`] 0.9 when a CVE of the finding is in CISA KEV, [`KEV_RANSOMWARE`] 0.95 when the entry notes known ransomware use, [`EXPLOITED_SIGHTING`] 0.9 for a STIX sighting, else 0 | Exploitation in the wild has been observed: the strongest evidence there is. It is not 1.0 because a listing says that someone exploits the CVE, not that anyone targets this asset. Ransomware crews exploit at scale and fast. |
//! | `epss` | the square root of the FIRST EPSS probability: the maximum over the last [`EPSS_WINDOW_DAYS`] 30 days where the intelligence has EPSS history, else the latest score; [`EPSS_PRIOR`] 0.0053 for a CVE that no loaded file scores; 0 for a finding without CVE | EPSS estimates the probability of exploitation activity in the next 30 days, so a peak within the last 30 days still describes the current window. Most CVEs score below 0.01, so the square root spreads that range (0.01 becomes 0.1) while it keeps 0, 1 and the order. The prior is the mean EPSS probability of the 37,906 CVE-2025 ids that FIRST scored on 2025-12-29: a CVE without a score is usually new, and missing data is no evidence against exploitation. A measured score below the prior lowers the likelihood below that of a missing score, because it is evidence. |
//! | `exploit` | the strongest public exploit evidence: SSVC active 0.9, a Metasploit exploit module 0.8, a verified Exploit-DB entry 0.7, an Exploit-DB entry 0.55, SSVC public PoC 0.5, a detection template or an exploit reference 0.4; CVSS v4.0 `E:A` 0.9 and `E:P` 0.5 | Weaponized code that anyone can run weighs most; a detection template shows that the flaw can be found by mass scanning. |
//! | `automatable` | [`AUTOMATABLE_EVIDENCE`] 0.25 where CISA's SSVC assessment rates the CVE Automatable | Once an exploit exists, automation runs it at scale. It weighs less than a proof of concept because automation is no exploit. |
//! | `base` | with a CVSS vector: [`CVSS_EXPLOITABILITY_WEIGHT`] 0.3 times `CvssVector::exploitability()` of the finding's highest-scoring vector (or of the intelligence's preferred vector). Without: the kind weight times `(1 - SEVERITY_LIKELIHOOD_SHARE) + SEVERITY_LIKELIHOOD_SHARE * severity level` | Ease of exploitation is no evidence that anyone exploits the flaw, so it weighs at most 0.3 and never outweighs an observed exploitation. |
//! | `exposure` | [`EXPOSURE_INTERNET`] 1.0 when the asset is internet-exposed, [`EXPOSURE_UNKNOWN`] 0.7 when nobody knows, [`EXPOSURE_INTERNAL`] 0.5 when it is not exposed | Internal assets are reached after a first foothold, and exploited flaws are often used for that lateral movement, so being internal halves the likelihood instead of zeroing it. |
//! | `path` | the success probability of the most likely attack path to a crown jewel that takes a step the finding enables, else 0 | A path from the internet makes an internal asset reachable with the path's probability; it never lowers a known exposure. |
//! | `control` | the product of the [`Controls`] factors that address the finding, else 1 | A control lowers only the likelihood of the attacks it hinders: a WAF the exploits of internet-exposed web applications and web weaknesses, segmentation the findings on assets that are not internet-exposed, EDR the findings on hosts, MFA leaked secrets and findings on identities and credentials. |
//!
//! ## Impact
//!
//! | input | value | why |
//! | --- | --- | --- |
//! | `criticality` | [`CRITICALITY_CROWN_JEWEL`] 1.0, [`CRITICALITY_HIGH`] 0.8, [`CRITICALITY_MEDIUM`] 0.6, [`CRITICALITY_LOW`] 0.35; an asset that the configuration does not classify counts as [`DEFAULT_CRITICALITY`] (medium) | The configuration names what must not be reached. An unclassified asset is treated as an ordinary one, neither protected nor dismissed. |
//! | `classification` | restricted data 1.0, confidential 0.8, internal 0.6, public 0.35 ([`CLASSIFICATION_RESTRICTED`] and the others) | Data sets what a breach costs, as the criticality does, and the larger of both counts. |
//! | graph values | [`PATH_VALUE`] 0.8 on an attack path to a crown jewel, [`CHOKE_POINT_VALUE`] 1.0 at a choke point, [`BLAST_RADIUS_JEWEL_VALUE`] 0.8 when a crown jewel is reachable from the asset | A foothold on the way to a crown jewel is worth as much to an attacker as a high-criticality asset; a step that every path takes is worth as much as the crown jewel itself. |
//! | `blast` | `1 - exp(-assets / BLAST_RADIUS_ASSETS_SCALE)` for the assets reachable from the asset, with scale 50 and weight [`BLAST_RADIUS_ASSETS_WEIGHT`] 0.2 | Each further asset adds a little, less and less, up to a fifth of what the value leaves. |
//! | `technical` | `CvssVector::impact()` of the vector, else the severity level | What the flaw gives an attacker on the asset. It moves only half of the impact ([`TECHNICAL_IMPACT_FLOOR`] 0.5), because even a flaw of little impact gives a foothold on the asset, and the asset sets what is at stake. |
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
//! weight ([`SEVERITY_LIKELIHOOD_SHARE`]) scales with the severity. A
//! finding with several CVEs takes the KEV entry with the strongest
//! evidence (ransomware use, then the earliest listing), the highest EPSS
//! probability and the strongest exploit among them.
//!
//! The score is the geometric mean of likelihood and impact on 0..=100. It
//! ranks findings exactly as their product, the expected loss
//! ([`ctem_model::RiskAssessment::expected_loss`]), would, but it reads on
//! the scale of its parts: 50 means that likelihood times impact is 0.25.
//!
//! # Tiers: the SSVC deployer decision
//!
//! The tier is the outcome of the SSVC Deployer Patch Application
//! Priority table 1.0.0 (shipped by `ctem-intel`): immediate is P1,
//! out-of-cycle P2, scheduled P3 and defer P4. Within a tier, findings rank
//! by expected loss. The decision points come from the same facts as the
//! score:
//!
//! - Exploitation: active for a KEV listing, a STIX sighting, SSVC active
//!   or CVSS v4.0 `E:A`; public PoC for any other exploit evidence, CVSS
//!   v4.0 `E:P` or a leaked secret; else none.
//! - System Exposure: open for an internet-exposed asset; small for an
//!   asset that is not exposed and that no attack path reaches; else
//!   controlled (unknown exposure, or reached by an attack path). A
//!   compensating control at or below [`CONTROL_EXPOSURE_STEP`] 0.5 that
//!   addresses the finding lowers it one step.
//! - Automatable: CISA's SSVC rating where the intelligence has one; else
//!   yes when the CVSS vector needs network access only, with low
//!   complexity, no privileges and no user interaction (ctem's reading);
//!   yes for a leaked secret; else no.
//! - Human Impact: the asset value before the blast radius term, where a
//!   crown jewel (1.0) is very high, 0.8 high, 0.6 medium and less low. A
//!   weakness with a technical impact below [`MINOR_TECHNICAL_IMPACT`] 0.25
//!   (informational, or one limited impact) is low wherever it is.
//!
//! Compensating controls never move an actively exploited finding below
//! out-of-cycle (P2), nor below the tier it would have without them where
//! that is lower. A license finding is deferred.
//!
//! # Deadlines: CISA BOD 26-04
//!
//! Every finding that is not suppressed gets the remediation band of the
//! directive's four binary criteria ([`BodCriteria`]): the asset is
//! publicly exposed, a CVE is in KEV, the flaw is automatable (as above),
//! and its technical impact is total (CISA's SSVC rating, else a CVSS
//! vector with high confidentiality and integrity impact, ctem's reading).
//! The bands are 3 days (with forensic triage for three combinations), 14
//! days, 60 days and the next scheduled upgrade. The default
//! [`DeadlineTable`] is ctem's reading of the directive's Table 1 as the
//! SSVC project encodes it (the `cisa` namespace table BOD2604 1.0.0); the
//! engine lets ctem.toml replace every cell.
//!
//! # Examples
//!
//! Each is a test. A KEV-listed CVE of CVSS 7.5 without EPSS score scores
//! 86.8 (P1, immediate) on an internet-exposed crown jewel, 67.2 (P2) on an
//! exposed asset of unknown criticality and 47.6 (P2) on an internal asset
//! of medium criticality. A CVSS 9.8 flaw without KEV or EPSS scores 59.2
//! (P2, out-of-cycle, since the vector is automatable) on an exposed crown
//! jewel and 38.4 (P3) where exposure and criticality are unknown. The same
//! flaw with an EPSS probability of 0.0005 on an internal low-criticality
//! test host scores 23.5 (P4). A high-severity secret scores 66.1 on an
//! exposed asset, P3: SSVC schedules a proof of concept on an asset of
//! medium impact. An open port of severity info on an exposed host scores
//! 18.2 (P4).
//!
//! # Factors and contributions
//!
//! Each input is one [`ctem_model::Factor`], named `kev` or `sighting`
//! (observed exploitation), `epss`, `exploit`, `automatable`,
//! `cvss_exploitability` or `finding_kind` (the base evidence),
//! `cvss_impact` or `severity` (the technical impact),
//! `internet_exposure`, `attack_path`, `compensating_controls`,
//! `asset_criticality`, `data_classification`, `choke_point` and
//! `blast_radius`. Each carries its value as people read it, the number
//! the model uses (`weight`), its source and, where the source dates it,
//! its date. Intelligence factors are listed only when the intelligence
//! has the CVE. Exposure and criticality are always listed, with the
//! source `default` when they were assumed, so that a reader sees what the
//! configuration could sharpen. Two factors without contribution close the
//! list: `ssvc` names the decision points and the decision, and
//! `bod_26_04` the criteria and the deadline.
//!
//! A factor's contribution is its Shapley value in score points: the
//! score with the factor's input minus the score with that input at its
//! baseline, averaged over every order in which the inputs can be added.
//! The baselines are 0 for the evidence terms, the technical impact, the
//! path, the classification and the graph values, 1 for the controls,
//! unknown exposure and the default criticality. The score with every input
//! at its baseline is 0, so the contributions add up to the score. An input
//! at its baseline contributes exactly 0, and inputs that lower the score
//! (no exposure, low criticality, a control) contribute negative points.
//! Averaging over the orders splits the credit of overlapping evidence
//! fairly. With a plain "score minus score without it", a KEV listing
//! would show almost nothing next to an EPSS of 0.94, since either alone
//! already makes exploitation nearly certain. The score is a product of
//! terms that read separate inputs (the evidence, the reach and value at
//! stake, the control, the technical impact). So the values are computed
//! exactly from each term's values on the subsets of its own inputs, with
//! at most 100 evaluations of one term per finding. Enumerating the
//! subsets of n inputs would take 2^n evaluations of the whole formula. Factors are sorted by absolute contribution, largest first.
//!
//! # Suppressed findings
//!
//! A finding whose report marks it not affected, fixed, a false positive
//! or suppressed is scored 0, tier P4 (decision defer) and gets no
//! deadline. A `source_status` factor contributes minus the score it
//! would have had, and the other factors keep their contributions, so the
//! trace still shows what was suppressed (a KEV listing, say) and still
//! adds up to the score.
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
//! assert_eq!(risk.deadline, Some(ctem_model::Deadline::ThreeDaysForensic));
//! assert_eq!(
//!     ctem_risk::explain(&risk),
//!     "KEV since 2021-12-10, used by ransomware, EPSS 0.94, internet-facing, crown jewel, CVSS 10.0"
//! );
//! let total: f64 = risk.factors.iter().map(|f| f.contribution).sum();
//! assert!((total - risk.score).abs() < 1e-9);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod assess;
pub mod backtest;
mod context;
mod decision;
mod explain;
mod gather;
mod model;
mod shapley;
mod text;

pub use assess::{assess, assess_with, finding_cves};
pub use context::{BodCriteria, Context, Controls, DataClassification, DeadlineTable, GraphFacts};
pub use explain::explain;
pub use model::{
    AUTOMATABLE_EVIDENCE, BLAST_RADIUS_ASSETS_SCALE, BLAST_RADIUS_ASSETS_WEIGHT, BLAST_RADIUS_JEWEL_VALUE,
    CHOKE_POINT_VALUE, CLASSIFICATION_CONFIDENTIAL, CLASSIFICATION_INTERNAL, CLASSIFICATION_PUBLIC,
    CLASSIFICATION_RESTRICTED, CONTROL_EXPOSURE_STEP, CRITICALITY_CROWN_JEWEL, CRITICALITY_HIGH, CRITICALITY_LOW,
    CRITICALITY_MEDIUM, CVSS_EXPLOITABILITY_WEIGHT, DEFAULT_CRITICALITY, EPSS_PRIOR, EPSS_WINDOW_DAYS,
    EXPLOIT_CVSS4_ATTACKED, EXPLOIT_CVSS4_POC, EXPLOIT_DB, EXPLOIT_DB_VERIFIED, EXPLOIT_DETECTION, EXPLOIT_METASPLOIT,
    EXPLOIT_REFERENCE, EXPLOIT_SSVC_ACTIVE, EXPLOIT_SSVC_POC, EXPLOITED_SIGHTING, EXPOSURE_INTERNAL, EXPOSURE_INTERNET,
    EXPOSURE_UNKNOWN, KEV_LISTED, KEV_RANSOMWARE, KIND_CODE_WEAKNESS, KIND_EXPOSED_SERVICE, KIND_LICENSE,
    KIND_MISCONFIGURATION, KIND_SECRET, KIND_VULNERABILITY, KIND_WEB_WEAKNESS, MINOR_TECHNICAL_IMPACT, PATH_VALUE,
    SEVERITY_CRITICAL, SEVERITY_HIGH, SEVERITY_INFO, SEVERITY_LIKELIHOOD_SHARE, SEVERITY_LOW, SEVERITY_MEDIUM,
    TECHNICAL_IMPACT_FLOOR,
};
