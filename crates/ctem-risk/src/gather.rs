//! Reads the model's inputs from a finding, its asset, the intelligence
//! and the context, with one candidate factor per input that is known,
//! and the facts that the SSVC decision and the BOD 26-04 criteria take.

use std::borrow::Cow;
use std::cmp::Reverse;

use ctem_intel::{ExploitClue, ExploitSignal, Intel, KevEntry};
use ctem_model::{
    Asset, AssetKind, CompactString, Criticality, CveId, CvssVector, CvssVersion, Factor, Finding, FindingKind,
    ToCompactString, format_compact,
};

use crate::context::{BodCriteria, Context, Controls};
use crate::decision::{Exploitation, SystemExposure};
use crate::model::{
    AUTOMATABLE_EVIDENCE, CONTROL_EXPOSURE_STEP, CVSS_EXPLOITABILITY_WEIGHT, DEFAULT_CRITICALITY, EPSS_PRIOR,
    EPSS_WINDOW_DAYS, EXPLOIT_CVSS4_ATTACKED, EXPLOIT_CVSS4_POC, EXPLOITED_SIGHTING, EXPOSURE_UNKNOWN, Inputs,
    KEV_LISTED, KEV_RANSOMWARE, blast_assets_term, classification_weight, criticality_weight, epss_evidence,
    exploit_evidence, exposure_weight, kind_evidence, severity_level, unit,
};
use crate::shapley::MAX_CANDIDATES;
use crate::text::{concat, date_text, push_date, push_fixed, push_integer, push_shortest};

/// A factor before its contribution is known, with the change that sets
/// its input to its baseline.
pub(crate) struct Candidate {
    pub name: &'static str,
    pub value: CompactString,
    pub source: CompactString,
    /// The number the model uses for the input, on 0..=1.
    pub weight: Option<f64>,
    /// The day the value is from.
    pub date: Option<CompactString>,
    pub to_baseline: fn(&mut Inputs),
}

/// The candidates of a finding as the factors of its assessment, with
/// contributions still 0, and the change that sets each one's input to
/// its baseline, kept apart for [`shapley_values`](crate::shapley::shapley_values).
pub(crate) struct Candidates {
    pub factors: Vec<Factor>,
    resets: [fn(&mut Inputs); MAX_CANDIDATES],
}

impl Candidates {
    fn new() -> Candidates {
        // Room for one candidate per input and the two or three factors
        // that the assessment adds after them.
        Candidates {
            factors: Vec::with_capacity(MAX_CANDIDATES),
            resets: [|_| {}; MAX_CANDIDATES],
        }
    }

    fn push(&mut self, candidate: Candidate) {
        let index = self.factors.len();
        assert!(index < MAX_CANDIDATES, "gather makes one candidate per input at most");
        self.resets[index] = candidate.to_baseline;
        self.factors.push(Factor {
            name: CompactString::const_new(candidate.name),
            value: candidate.value,
            contribution: 0.0,
            source: candidate.source,
            weight: candidate.weight,
            date: candidate.date,
        });
    }

    fn extend(&mut self, candidates: impl IntoIterator<Item = Candidate>) {
        for candidate in candidates {
            self.push(candidate);
        }
    }

    /// Returns the changes to the baseline, one per factor gathered.
    pub(crate) fn resets(&self) -> &[fn(&mut Inputs)] {
        &self.resets[..self.factors.len()]
    }
}

/// The facts beyond the formula's inputs that the tier and the deadline
/// take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Facts {
    pub exploitation: Exploitation,
    /// A CVE of the finding is in the KEV catalog.
    pub kev: bool,
    /// SSVC Automatable, from CISA's assessment or read from the CVSS vector.
    pub automatable: bool,
    /// SSVC Technical Impact total, from CISA's assessment or the CVSS vector.
    pub total_impact: bool,
    /// The asset is internet-exposed.
    pub public: bool,
    /// The SSVC System Exposure before compensating controls.
    pub exposure: SystemExposure,
    /// Whether a compensating control at or below [`CONTROL_EXPOSURE_STEP`]
    /// applies, which lowers the System Exposure one step.
    pub controlled: bool,
}

impl Facts {
    pub(crate) fn criteria(&self) -> BodCriteria {
        BodCriteria {
            kev: self.kev,
            public: self.public,
            automatable: self.automatable,
            total: self.total_impact,
        }
    }
}

/// The inputs, the candidate factors and the decision facts of a finding.
pub(crate) fn gather(
    finding: &Finding,
    asset: Option<&Asset>,
    intel: &Intel,
    context: &Context,
) -> (Inputs, Candidates, Facts) {
    let cves = crate::assess::cves_of(finding, intel);
    let name_cve = cves.len() > 1;
    let mut inputs = Inputs::baseline();
    let mut candidates = Candidates::new();
    let mut exploitation = Exploitation::None;

    // Hard evidence first: an observed exploitation.
    let kev = strongest_kev(&cves, intel);
    if let Some((cve, entry)) = kev {
        inputs.exploited = if entry.known_ransomware_use {
            KEV_RANSOMWARE
        } else {
            KEV_LISTED
        };
        exploitation = Exploitation::Active;
        candidates.push(kev_candidate(cve, entry, name_cve, intel, inputs.exploited));
    } else if let Some(sighting) = latest_sighting(&cves, intel) {
        inputs.exploited = EXPLOITED_SIGHTING;
        exploitation = Exploitation::Active;
        candidates.push(sighting);
    }

    if !cves.is_empty() {
        let (probability, candidate) = epss_input(&cves, intel, name_cve);
        inputs.epss = epss_evidence(probability);
        candidates.push(candidate);
    }

    let vector = finding
        .max_cvss()
        .map(|vector| (Cow::Borrowed(vector), Cow::Borrowed(finding.tool.as_str())))
        .or_else(|| {
            cves.iter().find_map(|cve| {
                let (fact, reason) = intel.preferred_cvss(cve)?;
                Some((
                    Cow::Owned(fact.value.vector),
                    Cow::Owned(format!("{}; {reason}", fact.source)),
                ))
            })
        });

    let metrics = vector.as_ref().map(|(vector, _)| VectorMetrics::read(vector));
    let clue = strongest_exploit(&cves, intel);
    let maturity = vector
        .as_ref()
        .zip(metrics.as_ref())
        .and_then(|((vector, _), metrics)| cvss4_maturity(vector, metrics));
    match (clue, maturity) {
        (Some((cve, clue)), maturity) if maturity.is_none_or(|(weight, _)| exploit_evidence(clue.signal) >= weight) => {
            inputs.exploit = exploit_evidence(clue.signal);
            exploitation = exploitation.max(match clue.signal {
                ExploitSignal::SsvcActive => Exploitation::Active,
                _ => Exploitation::Poc,
            });
            candidates.push(exploit_candidate(&cve, &clue, name_cve, inputs.exploit));
        }
        (_, Some((weight, level))) => {
            inputs.exploit = weight;
            exploitation = exploitation.max(level);
            let (vector, origin) = vector.as_ref().expect("a maturity comes from a vector");
            candidates.push(Candidate {
                name: "exploit",
                value: concat(&["CVSS v4.0 exploit maturity ", level.describe()]),
                source: vector_source(vector, origin),
                weight: Some(weight),
                date: None,
                to_baseline: |inputs| inputs.exploit = 0.0,
            });
        }
        _ => {}
    }
    if finding.kind == FindingKind::Secret {
        // A leaked secret is its own exploit: whoever reads it can use it.
        exploitation = exploitation.max(Exploitation::Poc);
    }

    let ssvc = latest_ssvc(&cves, intel);
    let automatable = match ssvc.and_then(|(points, _)| points.automatable) {
        Some(automatable) => {
            if automatable {
                inputs.automatable = AUTOMATABLE_EVIDENCE;
                let (_, source) = ssvc.expect("checked above");
                candidates.push(Candidate {
                    name: "automatable",
                    value: CompactString::const_new("yes"),
                    source: source.to_compact_string(),
                    weight: Some(AUTOMATABLE_EVIDENCE),
                    date: source.date.map(date_text),
                    to_baseline: |inputs| inputs.automatable = 0.0,
                });
            }
            automatable
        }
        None => match vector.as_ref().zip(metrics.as_ref()) {
            Some(((vector, _), metrics)) => cvss_automatable(vector.version(), metrics),
            None => finding.kind == FindingKind::Secret,
        },
    };
    let total_impact = match ssvc.and_then(|(points, _)| points.technical_impact) {
        Some(impact) => impact == ctem_intel::TechnicalImpact::Total,
        None => vector
            .as_ref()
            .zip(metrics.as_ref())
            .is_some_and(|((vector, _), metrics)| cvss_total_impact(vector.version(), metrics)),
    };

    match &vector {
        Some((vector, origin)) => {
            let exploitability = unit(vector.exploitability());
            inputs.base = CVSS_EXPLOITABILITY_WEIGHT * exploitability;
            inputs.technical = unit(vector.impact());
            candidates.extend(cvss_candidates(
                vector,
                origin,
                exploitability,
                inputs.base,
                inputs.technical,
            ));
        }
        None => {
            inputs.base = kind_evidence(finding.kind, finding.severity);
            inputs.technical = severity_level(finding.severity);
            candidates.extend(kind_candidates(finding, inputs.base, inputs.technical));
        }
    }

    let exposed = asset.and_then(|a| a.internet_exposed);
    inputs.exposure = exposure_weight(exposed);
    candidates.push(exposure_candidate(exposed, inputs.exposure));

    let graph = &context.graph;
    if let Some(probability) = graph.best_path_probability {
        inputs.path = unit(probability);
        candidates.push(path_candidate(context, inputs.path));
    }
    let (control, controls_value) = applicable_controls(finding, asset, &context.controls);
    if control < 1.0 {
        inputs.control = control;
        candidates.push(Candidate {
            name: "compensating_controls",
            value: controls_value,
            source: CompactString::const_new("configuration"),
            weight: Some(control),
            date: None,
            to_baseline: |inputs| inputs.control = 1.0,
        });
    }

    let criticality = asset.and_then(|a| a.criticality);
    inputs.criticality = criticality_weight(criticality.unwrap_or(DEFAULT_CRITICALITY));
    candidates.push(criticality_candidate(criticality, inputs.criticality));
    if let Some(classification) = context.data_classification {
        inputs.classification = classification_weight(classification);
        candidates.push(Candidate {
            name: "data_classification",
            value: CompactString::const_new(classification.as_str()),
            source: CompactString::const_new("asset attribute"),
            weight: Some(inputs.classification),
            date: None,
            to_baseline: |inputs| inputs.classification = 0.0,
        });
    }
    if graph.choke_point {
        inputs.choke_point = 1.0;
        candidates.push(Candidate {
            name: "choke_point",
            value: CompactString::const_new("leads into a choke point"),
            source: CompactString::const_new("attack graph"),
            weight: None,
            date: None,
            to_baseline: |inputs| inputs.choke_point = 0.0,
        });
    }
    if graph.blast_radius_crown_jewels > 0 || graph.blast_radius_assets > 0 {
        inputs.blast_jewels = if graph.blast_radius_crown_jewels > 0 { 1.0 } else { 0.0 };
        inputs.blast_assets = blast_assets_term(graph.blast_radius_assets);
        candidates.push(Candidate {
            name: "blast_radius",
            value: blast_radius_value(graph.blast_radius_crown_jewels, graph.blast_radius_assets),
            source: CompactString::const_new("attack graph"),
            weight: Some(inputs.blast_assets),
            date: None,
            to_baseline: |inputs| {
                inputs.blast_jewels = 0.0;
                inputs.blast_assets = 0.0;
            },
        });
    }

    let exposure = match exposed {
        Some(true) => SystemExposure::Open,
        Some(false) if graph.best_path_probability.is_none() => SystemExposure::Small,
        _ => SystemExposure::Controlled,
    };
    let facts = Facts {
        exploitation,
        kev: kev.is_some(),
        automatable,
        total_impact,
        public: exposed == Some(true),
        exposure,
        controlled: control <= CONTROL_EXPOSURE_STEP,
    };
    (inputs, candidates, facts)
}

fn plural(count: usize) -> &'static str {
    if count == 1 { "" } else { "s" }
}

/// Appends ` (CVE-...)`, which names the CVE a value is about when the
/// finding has several.
fn push_cve(out: &mut CompactString, cve: &CveId) {
    out.push_str(" (");
    out.push_str(cve.as_str());
    out.push(')');
}

/// Appends a snake_case name as words: `crown_jewel` as `crown jewel`.
fn push_words(out: &mut CompactString, name: &str) {
    for (index, word) in name.split('_').enumerate() {
        if index > 0 {
            out.push(' ');
        }
        out.push_str(word);
    }
}

/// Names a CVSS vector's version and where it comes from.
fn vector_source(vector: &CvssVector, origin: &str) -> CompactString {
    concat(&["CVSS v", vector.version().as_str(), " vector from ", origin])
}

/// Picks the KEV entry with the strongest evidence among the finding's
/// CVEs: known ransomware use first, then the earliest listing.
fn strongest_kev<'a>(cves: &'a [CveId], intel: &'a Intel) -> Option<(&'a CveId, &'a KevEntry)> {
    cves.iter()
        .filter_map(|cve| intel.kev(cve).map(|entry| (cve, entry)))
        .max_by_key(|(_, entry)| (entry.known_ransomware_use, Reverse(entry.date_added)))
}

fn kev_candidate(cve: &CveId, entry: &KevEntry, name_cve: bool, intel: &Intel, weight: f64) -> Candidate {
    let mut value = CompactString::const_new("listed ");
    push_date(&mut value, entry.date_added);
    if entry.known_ransomware_use {
        value.push_str(", known ransomware use");
    }
    if name_cve {
        push_cve(&mut value, cve);
    }
    let source = match intel.kev_catalog() {
        Some(catalog) => concat(&["CISA KEV ", &catalog.version]),
        None => CompactString::const_new("CISA KEV"),
    };
    Candidate {
        name: "kev",
        value,
        source,
        weight: Some(weight),
        date: Some(date_text(entry.date_added)),
        to_baseline: |inputs| inputs.exploited = 0.0,
    }
}

/// Finds the most recent STIX sighting of the finding's CVEs, or of a
/// threat that exploits them, in the loaded bundles.
fn latest_sighting(cves: &[CveId], intel: &Intel) -> Option<Candidate> {
    let (cve, bundle, sighting) = cves
        .iter()
        .flat_map(|cve| {
            intel.stix().iter().filter_map(move |bundle| {
                let found = bundle.get(cve)?;
                found
                    .sightings
                    .iter()
                    .map(move |sighting| (cve, bundle, sighting))
                    .max_by_key(|(_, _, sighting)| (sighting.value.last_seen, sighting.value.first_seen))
            })
        })
        .max_by_key(|(_, _, sighting)| (sighting.value.last_seen, sighting.value.first_seen))?;
    let seen = sighting.value.last_seen.or(sighting.value.first_seen);
    let what = sighting.value.sighting_of_name.as_deref().unwrap_or(cve.as_str());
    let value = match seen {
        Some(at) => format_compact!("{what} sighted, last {}", at.date_naive()),
        None => format_compact!("{what} sighted"),
    };
    Some(Candidate {
        name: "sighting",
        value,
        source: format_compact!("STIX {}", bundle.path()),
        weight: Some(EXPLOITED_SIGHTING),
        date: seen.map(|at| date_text(at.date_naive())),
        to_baseline: |inputs| inputs.exploited = 0.0,
    })
}

/// Returns the EPSS probability that the model uses for the finding's
/// CVEs: the highest over the CVEs of each one's maximum within the last
/// [`EPSS_WINDOW_DAYS`] of its history (the latest score where a file is
/// undated), or [`EPSS_PRIOR`] when no CVE has a score.
fn epss_input(cves: &[CveId], intel: &Intel, name_cve: bool) -> (f64, Candidate) {
    let scores = intel.epss_scores();
    let best = cves
        .iter()
        .filter_map(|cve| {
            let window = scores.window_maximum(cve, EPSS_WINDOW_DAYS)?;
            Some((
                cve,
                window.record,
                window.record.score.epss,
                window.maximum,
                window.date,
            ))
        })
        .max_by(|a, b| a.3.total_cmp(&b.3));

    let Some((cve, record, latest, maximum, date)) = best else {
        let candidate = Candidate {
            name: "epss",
            value: format_compact!("no score, prior {EPSS_PRIOR}"),
            source: CompactString::const_new("ctem prior: mean EPSS of CVE-2025 ids on 2025-12-29"),
            weight: Some(EPSS_PRIOR),
            date: None,
            to_baseline: |inputs| inputs.epss = 0.0,
        };
        return (EPSS_PRIOR, candidate);
    };
    let mut value = CompactString::default();
    push_shortest(&mut value, latest);
    if maximum > latest {
        value.push_str(", ");
        push_integer(&mut value, EPSS_WINDOW_DAYS as u64);
        value.push_str("-day maximum ");
        push_shortest(&mut value, maximum);
    }
    if name_cve {
        push_cve(&mut value, cve);
    }
    let day = date.map(date_text);
    let file = record.file;
    let source = match (file.score_date, &file.model_version, &day) {
        // The score is most often from the file's own day, already in words.
        (Some(score_date), _, Some(day)) if date == Some(score_date) => concat(&["FIRST EPSS ", day]),
        (Some(score_date), _, _) => concat(&["FIRST EPSS ", &date_text(score_date)]),
        (None, Some(model), _) => concat(&["FIRST EPSS ", model]),
        (None, None, _) => format_compact!("FIRST EPSS, undated file {}", file.path),
    };
    let candidate = Candidate {
        name: "epss",
        value,
        source,
        weight: Some(unit(maximum)),
        date: day,
        to_baseline: |inputs| inputs.epss = 0.0,
    };
    (maximum, candidate)
}

/// Picks the strongest exploit evidence among the finding's CVEs.
fn strongest_exploit(cves: &[CveId], intel: &Intel) -> Option<(CveId, ExploitClue)> {
    cves.iter()
        .filter_map(|cve| {
            intel
                .exploit_clues(cve)
                .into_iter()
                .next()
                .map(|clue| (cve.clone(), clue))
        })
        .min_by(|(_, a), (_, b)| a.signal.cmp(&b.signal))
}

fn exploit_candidate(cve: &CveId, clue: &ExploitClue, name_cve: bool, weight: f64) -> Candidate {
    let mut value = CompactString::new(&clue.detail);
    if name_cve {
        push_cve(&mut value, cve);
    }
    Candidate {
        name: "exploit",
        value,
        source: clue.source.to_compact_string(),
        weight: Some(weight),
        date: clue.source.date.map(date_text),
        to_baseline: |inputs| inputs.exploit = 0.0,
    }
}

/// A vector's metrics with names and values packed into integers, read
/// once per finding for the several metrics that gather reads.
struct VectorMetrics {
    pairs: [(u32, u32); 32],
    len: usize,
}

impl VectorMetrics {
    fn read(vector: &CvssVector) -> VectorMetrics {
        let mut metrics = VectorMetrics {
            pairs: [(0, 0); 32],
            len: 0,
        };
        for (name, value) in vector.metrics().take(metrics.pairs.len()) {
            metrics.pairs[metrics.len] = (pack(name), pack(value));
            metrics.len += 1;
        }
        metrics
    }

    /// Tells whether the metric `name` has the value `value`.
    fn is(&self, name: &str, value: &str) -> bool {
        let (name, value) = (pack(name), pack(value));
        self.pairs[..self.len]
            .iter()
            .find(|(key, _)| *key == name)
            .is_some_and(|(_, found)| *found == value)
    }
}

/// Packs a metric name or value of up to four bytes into an integer, and
/// a longer one into `u32::MAX`, which no metric of interest has.
const fn pack(text: &str) -> u32 {
    let bytes = text.as_bytes();
    if bytes.len() > 4 {
        return u32::MAX;
    }
    let mut packed = 0u32;
    let mut index = 0;
    while index < bytes.len() {
        packed = packed << 8 | bytes[index] as u32;
        index += 1;
    }
    packed
}

/// Reads the Exploit Maturity of a CVSS v4.0 vector: attacked (`E:A`) is
/// active exploitation, proof of concept (`E:P`) a public PoC.
fn cvss4_maturity(vector: &CvssVector, metrics: &VectorMetrics) -> Option<(f64, Exploitation)> {
    if vector.version() != CvssVersion::V40 {
        None
    } else if metrics.is("E", "A") {
        Some((EXPLOIT_CVSS4_ATTACKED, Exploitation::Active))
    } else if metrics.is("E", "P") {
        Some((EXPLOIT_CVSS4_POC, Exploitation::Poc))
    } else {
        None
    }
}

/// Reads SSVC Automatable from a CVSS vector, where CISA has not rated it:
/// yes when an attacker reaches the flaw over the network with no
/// complexity, privilege or user interaction, since nothing then stops a
/// script from running steps 1 to 4 of the kill chain. This is ctem's
/// reading, not a rule of SSVC.
fn cvss_automatable(version: CvssVersion, metrics: &VectorMetrics) -> bool {
    let is = |name: &str, value: &str| metrics.is(name, value);
    match version {
        CvssVersion::V2 => is("AV", "N") && is("AC", "L") && is("Au", "N"),
        CvssVersion::V30 | CvssVersion::V31 => is("AV", "N") && is("AC", "L") && is("PR", "N") && is("UI", "N"),
        CvssVersion::V40 => is("AV", "N") && is("AC", "L") && is("AT", "N") && is("PR", "N") && is("UI", "N"),
    }
}

/// Reads SSVC Technical Impact from a CVSS vector, where CISA has not
/// rated it: total when the flaw gives full confidentiality and integrity
/// impact on the vulnerable system (read and write everything is control).
/// This is ctem's reading, not a rule of SSVC.
fn cvss_total_impact(version: CvssVersion, metrics: &VectorMetrics) -> bool {
    let is = |name: &str, value: &str| metrics.is(name, value);
    match version {
        CvssVersion::V2 => is("C", "C") && is("I", "C"),
        CvssVersion::V30 | CvssVersion::V31 => is("C", "H") && is("I", "H"),
        CvssVersion::V40 => is("VC", "H") && is("VI", "H"),
    }
}

/// Returns the latest SSVC decision points among the finding's CVEs (from
/// CVE records, CISA's ADP), with their source.
fn latest_ssvc<'a>(
    cves: &[CveId],
    intel: &'a Intel,
) -> Option<(&'a ctem_intel::SsvcDecisionPoints, &'a ctem_intel::Provenance)> {
    cves.iter()
        .filter_map(|cve| intel.cve5().get(cve))
        .filter_map(|record| record.ssvc.iter().max_by_key(|fact| fact.source.date))
        .max_by_key(|fact| fact.source.date)
        .map(|fact| (&fact.value, &fact.source))
}

/// `origin` names where the vector comes from: the report, or the
/// intelligence source and why it was chosen. `exploitability` and
/// `technical` are the vector's sub-scores on 0..=1.
fn cvss_candidates(
    vector: &CvssVector,
    origin: &str,
    exploitability: f64,
    base: f64,
    technical: f64,
) -> [Candidate; 2] {
    let source = vector_source(vector, origin);
    let sub_score = |value: f64| {
        let mut text = CompactString::default();
        push_fixed(&mut text, value, 2);
        text.push_str(" (base score ");
        push_fixed(&mut text, vector.base_score(), 1);
        text.push(')');
        text
    };
    [
        Candidate {
            name: "cvss_exploitability",
            value: sub_score(exploitability),
            source: source.clone(),
            weight: Some(base),
            date: None,
            to_baseline: |inputs| inputs.base = 0.0,
        },
        Candidate {
            name: "cvss_impact",
            value: sub_score(technical),
            source,
            weight: Some(technical),
            date: None,
            to_baseline: |inputs| inputs.technical = 0.0,
        },
    ]
}

fn kind_candidates(finding: &Finding, base: f64, technical: f64) -> [Candidate; 2] {
    let source = concat(&[&finding.tool, " report"]);
    let mut value = CompactString::default();
    push_words(&mut value, finding.kind.as_str());
    value.push_str(", severity ");
    value.push_str(finding.severity.as_str());
    [
        Candidate {
            name: "finding_kind",
            value,
            source: source.clone(),
            weight: Some(base),
            date: None,
            to_baseline: |inputs| inputs.base = 0.0,
        },
        Candidate {
            name: "severity",
            value: CompactString::const_new(finding.severity.as_str()),
            source,
            weight: Some(technical),
            date: None,
            to_baseline: |inputs| inputs.technical = 0.0,
        },
    ]
}

fn exposure_candidate(exposed: Option<bool>, weight: f64) -> Candidate {
    let (value, source) = match exposed {
        Some(true) => ("internet-exposed", "asset attribute"),
        Some(false) => ("not internet-exposed", "asset attribute"),
        None => ("unknown", "default"),
    };
    Candidate {
        name: "internet_exposure",
        value: CompactString::const_new(value),
        source: CompactString::const_new(source),
        weight: Some(weight),
        date: None,
        to_baseline: |inputs| inputs.exposure = EXPOSURE_UNKNOWN,
    }
}

fn path_candidate(context: &Context, probability: f64) -> Candidate {
    let graph = &context.graph;
    let count = graph.paths_to_crown_jewels;
    let mut value = CompactString::default();
    push_integer(&mut value, count as u64);
    value.push_str(" path");
    value.push_str(plural(count));
    value.push_str(" to ");
    if graph.crown_jewels.is_empty() {
        value.push_str("a crown jewel");
    }
    for (index, jewel) in graph.crown_jewels.iter().enumerate() {
        if index > 0 {
            value.push_str(", ");
        }
        value.push_str(jewel);
    }
    value.push_str(", best probability ");
    push_fixed(&mut value, probability, 2);
    Candidate {
        name: "attack_path",
        value,
        source: CompactString::const_new("attack graph"),
        weight: Some(probability),
        date: None,
        to_baseline: |inputs| inputs.path = 0.0,
    }
}

fn criticality_candidate(criticality: Option<Criticality>, weight: f64) -> Candidate {
    let mut value = CompactString::default();
    let source = match criticality {
        Some(level) => {
            push_words(&mut value, level.as_str());
            "configuration"
        }
        None => {
            value.push_str("unknown, default ");
            push_words(&mut value, DEFAULT_CRITICALITY.as_str());
            "default"
        }
    };
    Candidate {
        name: "asset_criticality",
        value,
        source: CompactString::const_new(source),
        weight: Some(weight),
        date: None,
        to_baseline: |inputs| inputs.criticality = criticality_weight(DEFAULT_CRITICALITY),
    }
}

/// Returns the product of the control factors that address the finding,
/// and their names and factors in words (`WAF 0.5, EDR 0.8`).
///
/// - a WAF addresses web weaknesses and findings on web applications that
///   are internet-exposed: it filters the requests that carry the exploit;
/// - segmentation addresses findings on assets that are not
///   internet-exposed: they are reached from another internal host;
/// - EDR addresses findings on hosts: it detects and stops the exploit's
///   code on the endpoint;
/// - MFA addresses leaked secrets and findings on identities and
///   credentials: a stolen password alone no longer signs in.
pub(crate) fn applicable_controls(
    finding: &Finding,
    asset: Option<&Asset>,
    controls: &Controls,
) -> (f64, CompactString) {
    let kind = asset.map(|asset| asset.kind);
    let exposed = asset.and_then(|asset| asset.internet_exposed);
    let applies = [
        (
            "WAF",
            controls.waf,
            exposed == Some(true) && (finding.kind == FindingKind::WebWeakness || kind == Some(AssetKind::WebApp)),
        ),
        ("segmentation", controls.segmentation, exposed == Some(false)),
        ("EDR", controls.edr, kind == Some(AssetKind::Host)),
        (
            "MFA",
            controls.mfa,
            finding.kind == FindingKind::Secret || matches!(kind, Some(AssetKind::Identity | AssetKind::Credential)),
        ),
    ];
    let mut product = 1.0;
    let mut names = CompactString::default();
    for (name, factor, applies) in applies {
        // A factor outside (0, 1] or NaN is no control: the configuration
        // rejects such values, and the model never raises a likelihood.
        if applies && factor > 0.0 && factor < 1.0 {
            product *= factor;
            if !names.is_empty() {
                names.push_str(", ");
            }
            names.push_str(name);
            names.push(' ');
            push_shortest(&mut names, factor);
        }
    }
    (product, names)
}

/// Words for a blast radius: "4 crown jewels, 12 assets", or only the
/// assets when it reaches no crown jewel.
fn blast_radius_value(crown_jewels: usize, assets: usize) -> CompactString {
    let mut value = CompactString::default();
    if crown_jewels > 0 {
        push_integer(&mut value, crown_jewels as u64);
        value.push_str(" crown jewel");
        value.push_str(plural(crown_jewels));
        value.push_str(", ");
    }
    push_integer(&mut value, assets as u64);
    value.push_str(" asset");
    value.push_str(plural(assets));
    value
}

#[cfg(test)]
mod blast_radius_tests {
    use super::blast_radius_value;

    #[test]
    fn blast_radius_names_crown_jewels_only_when_reached() {
        assert_eq!(blast_radius_value(0, 2), "2 assets");
        assert_eq!(blast_radius_value(1, 1), "1 crown jewel, 1 asset");
        assert_eq!(blast_radius_value(4, 12), "4 crown jewels, 12 assets");
    }
}
