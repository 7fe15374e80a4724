//! A seeded generator of a store's history: 100 daily runs over 200
//! container images that leave 1,000,000 distinct findings in the store.
//!
//! Each image carries a set of weaknesses (a CVE in one package version).
//! Trivy scans every image; Grype also scans every fourth image and reports
//! eight in ten of its weaknesses, some from the day Trivy first reports them
//! and some one or two days later, so the store merges reports of both
//! tools within a run and across runs. Every day after the first, each
//! image gains new weaknesses, has about one fixed weakness come back
//! (a rollback) and loses as many as it gained, so its size stays at
//! [`PER_IMAGE`]. The new weaknesses are spread over the 99 later runs so
//! that the store ends with exactly [`TOTAL_FINDINGS`] findings.
//!
//! Each run has about 100,000 reports: 83,400 weaknesses, about 16,600 of
//! them reported by both tools. Every twentieth image is a crown jewel.
//!
//! The evolution (which weaknesses are active in which run) draws from one
//! SplitMix64 stream and is cheap to replay; [`History::run_input`] builds
//! the reports of one run from the stored attributes of its weaknesses, so
//! the last run can be rebuilt without the store.

// The example and the bench each use part of the generator.
#![allow(dead_code)]

use std::collections::{BTreeSet, HashSet};

use chrono::{DateTime, Duration, TimeZone, Utc};
use ctem_model::{
    Asset, AssetKind, Component, Criticality, CvssVector, Factor, Finding, FindingKind, Fix, RiskAssessment, Severity,
    Tier,
};
use ctem_store::{RunInput, Scope, ScoredFinding, SourceRecord};

pub const SEED: u64 = 0x5eed_4157_0e1d;
pub const RUNS: usize = 100;
pub const IMAGES: usize = 200;
pub const TOTAL_FINDINGS: u64 = 1_000_000;

/// Active weaknesses per image. With Grype's reports on every fourth image
/// a run has 1.2 reports per weakness: 417 × 200 × 1.2 ≈ 100,000.
pub const PER_IMAGE: usize = 417;

/// Every `GRYPE_EVERY`th image is also scanned by Grype.
const GRYPE_EVERY: usize = 4;

/// Every `CROWN_JEWEL_EVERY`th image is a crown jewel.
const CROWN_JEWEL_EVERY: usize = 20;

/// Distinct packages and versions of each package that weaknesses are drawn
/// from. Weaknesses of one image never share (CVE, package, version).
const PACKAGES: u64 = 3_000;
const VERSIONS: u64 = 4;
const CVE_NUMBERS: u64 = 60_000;

const VECTORS: [&str; 4] = [
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
    "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:L/A:N",
    "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N",
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H",
];

/// SplitMix64: a small, well-distributed generator, so the bench needs no
/// random-number crate and every run generates the same findings.
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }
}

/// The fixed attributes of one weakness, drawn when it first appears.
#[derive(Clone, Copy)]
struct Weakness {
    image: u16,
    cve_year: u16,
    cve_number: u32,
    package: u16,
    version: u8,
    severity: u8,
    vector: u8,
    /// The Trivy score in hundredths of a point.
    score: u16,
    /// The run from which Grype reports it, where Grype scans its image
    /// and reports it at all.
    grype_from: Option<u8>,
}

struct Image {
    target: String,
    active: Vec<u32>,
    fixed: Vec<u32>,
    /// (CVE year, CVE number, package, version) of every weakness the image
    /// ever had, so that no two share a merge key.
    taken: HashSet<(u16, u32, u16, u8)>,
}

/// The state of the generated history at one run.
pub struct History {
    rng: SplitMix64,
    weaknesses: Vec<Weakness>,
    images: Vec<Image>,
    /// The run whose weaknesses `images` holds, from 0.
    run: usize,
    vectors: Vec<CvssVector>,
}

/// The changes that [`History::advance`] made on the way to the next run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Churn {
    pub new: usize,
    pub fixed: usize,
    pub reopened: usize,
}

impl History {
    /// Starts the history at run 0, with [`PER_IMAGE`] weaknesses on each
    /// image.
    pub fn new(seed: u64) -> History {
        let images = (0..IMAGES)
            .map(|image| Image {
                target: format!("registry.example/team-{}/service-{image}:1.{}", image % 17, image % 5),
                active: Vec::new(),
                fixed: Vec::new(),
                taken: HashSet::new(),
            })
            .collect();
        let mut history = History {
            rng: SplitMix64(seed),
            weaknesses: Vec::with_capacity(TOTAL_FINDINGS as usize),
            images,
            run: 0,
            vectors: VECTORS
                .iter()
                .map(|vector| vector.parse().expect("valid vector"))
                .collect(),
        };
        for image in 0..IMAGES {
            for _ in 0..PER_IMAGE {
                history.add_weakness(image);
            }
        }
        history
    }

    /// Replays the history up to `run`.
    pub fn at(seed: u64, run: usize) -> History {
        let mut history = History::new(seed);
        while history.run < run {
            history.advance();
        }
        history
    }

    /// Generates the stored run observed at `latest` again, observed a day
    /// later: a rescan that changes nothing.
    pub fn run_again(seed: u64, latest: DateTime<Utc>) -> RunInput {
        let run = usize::try_from((latest - History::observed_at(0)).num_days()).unwrap_or(0);
        let mut input = History::at(seed, run).run_input();
        input.observed_at = History::observed_at(run + 1);
        input
    }

    pub fn run(&self) -> usize {
        self.run
    }

    /// Returns the count of distinct weaknesses so far: the findings in the
    /// store once this run is recorded.
    pub fn weakness_count(&self) -> usize {
        self.weaknesses.len()
    }

    /// When run `run` was observed: one day apart, from 2024-01-01 06:00 UTC.
    pub fn observed_at(run: usize) -> DateTime<Utc> {
        let first = Utc.with_ymd_and_hms(2024, 1, 1, 6, 0, 0).unwrap();
        first + Duration::days(run as i64)
    }

    /// Moves to the next run: on each image, new weaknesses appear, about
    /// one fixed weakness comes back and as many active ones are fixed.
    pub fn advance(&mut self) -> Churn {
        let next = self.run + 1;
        let initial = (IMAGES * PER_IMAGE) as u64;
        let later_runs = (RUNS - 1) as u64;
        let cumulative = |run: u64| (TOTAL_FINDINGS - initial) * run / later_runs;
        let new_total = (cumulative(next as u64) - cumulative(next as u64 - 1)) as usize;
        let (base, extra) = (new_total / IMAGES, new_total % IMAGES);

        let mut churn = Churn::default();
        for image in 0..IMAGES {
            // The images that take one more new weakness rotate by run.
            let new = base + usize::from((image + next * 7) % IMAGES < extra);
            let reopened = match self.rng.below(4) {
                0 => 0,
                1 | 2 => 1,
                _ => 2,
            };
            let reopened = reopened.min(self.images[image].fixed.len());

            // Chosen before the fixes, so a weakness fixed in this run does
            // not come back in the same run, and a returning one is not
            // fixed again at once.
            let state = &mut self.images[image];
            let mut returning = Vec::with_capacity(reopened);
            for _ in 0..reopened {
                let position = self.rng.below(state.fixed.len() as u64) as usize;
                returning.push(state.fixed.swap_remove(position));
            }
            let fixed = new + reopened;
            for _ in 0..fixed {
                let position = self.rng.below(state.active.len() as u64) as usize;
                let id = state.active.swap_remove(position);
                state.fixed.push(id);
            }
            state.active.extend(returning);
            for _ in 0..new {
                self.add_weakness(image);
            }
            churn.new += new;
            churn.fixed += fixed;
            churn.reopened += reopened;
        }
        self.run = next;
        churn
    }

    fn add_weakness(&mut self, image: usize) {
        let rng = &mut self.rng;
        let (cve_year, cve_number, package, version) = loop {
            let key = (
                2015 + rng.below(10) as u16,
                1_000 + rng.below(CVE_NUMBERS) as u32,
                rng.below(PACKAGES) as u16,
                rng.below(VERSIONS) as u8,
            );
            if self.images[image].taken.insert(key) {
                break key;
            }
        };
        let grype_from = (image.is_multiple_of(GRYPE_EVERY) && rng.below(10) < 8)
            .then(|| (self.run + rng.below(3) as usize).min(u8::MAX as usize) as u8);
        let weakness = Weakness {
            image: image as u16,
            cve_year,
            cve_number,
            package,
            version,
            severity: rng.below(5) as u8,
            vector: rng.below(VECTORS.len() as u64) as u8,
            score: rng.below(10_000) as u16,
            grype_from,
        };
        let id = u32::try_from(self.weaknesses.len()).expect("fewer than 2^32 weaknesses");
        self.weaknesses.push(weakness);
        self.images[image].active.push(id);
    }

    /// Returns the ids of the weaknesses that first appeared in the current run.
    pub fn new_in_run(&self) -> Vec<u32> {
        let created_before = if self.run == 0 {
            0
        } else {
            let initial = (IMAGES * PER_IMAGE) as u64;
            let later = (TOTAL_FINDINGS - initial) * (self.run as u64 - 1) / (RUNS as u64 - 1);
            (initial + later) as usize
        };
        (created_before..self.weaknesses.len()).map(|id| id as u32).collect()
    }

    /// Builds the Trivy report of a weakness, as [`History::run_input`] does.
    pub fn trivy_finding(&self, id: u32) -> ScoredFinding {
        self.scored(id, Tool::Trivy)
    }

    /// Builds the reports of the current run, with its scopes, assets and sources.
    pub fn run_input(&self) -> RunInput {
        let mut findings = Vec::with_capacity(IMAGES * PER_IMAGE * 6 / 5);
        let mut scopes = BTreeSet::new();
        let mut assets = Vec::with_capacity(IMAGES);
        let mut sources = Vec::with_capacity(IMAGES * 2);
        let mut sha = SplitMix64(SEED ^ self.run as u64);

        for (index, image) in self.images.iter().enumerate() {
            let mut asset = Asset::new(AssetKind::ContainerImage, &image.target, format!("service-{index}"));
            if index.is_multiple_of(CROWN_JEWEL_EVERY) {
                asset.criticality = Some(Criticality::CrownJewel);
            }
            assets.push(asset);

            let scanned_by_grype = index.is_multiple_of(GRYPE_EVERY);
            let tools: &[Tool] = if scanned_by_grype {
                &[Tool::Trivy, Tool::Grype]
            } else {
                &[Tool::Trivy]
            };
            for &tool in tools {
                let before = findings.len();
                for &id in &image.active {
                    let reports = match tool {
                        Tool::Trivy => true,
                        Tool::Grype => self.weaknesses[id as usize]
                            .grype_from
                            .is_some_and(|from| usize::from(from) <= self.run),
                    };
                    if reports {
                        findings.push(self.scored(id, tool));
                    }
                }
                scopes.insert(Scope {
                    tool: tool.name().to_string(),
                    target: image.target.clone(),
                });
                sources.push(SourceRecord {
                    path: format!("scans/{}/service-{index}.json", tool.name()),
                    format: tool.format().to_string(),
                    sha256: format!(
                        "{:016x}{:016x}{:016x}{:016x}",
                        sha.next(),
                        sha.next(),
                        sha.next(),
                        sha.next()
                    ),
                    finding_count: (findings.len() - before) as u64,
                    error: None,
                });
            }
        }

        RunInput {
            observed_at: History::observed_at(self.run),
            sources,
            scopes,
            assets,
            relationships: Vec::new(),
            findings,
        }
    }

    /// Builds one tool's report of a weakness, close in size and shape to
    /// what the Trivy and Grype parsers produce, with a three-factor
    /// assessment.
    fn scored(&self, id: u32, tool: Tool) -> ScoredFinding {
        let weakness = self.weaknesses[id as usize];
        let image = &self.images[usize::from(weakness.image)];
        let cve = format!("CVE-{}-{:05}", weakness.cve_year, weakness.cve_number);
        let package = format!("lib{}", weakness.package);
        let version = format!(
            "{}.{}.{}",
            weakness.package % 5,
            weakness.package % 19,
            weakness.version
        );
        let severity = Severity::ALL[usize::from(weakness.severity)];
        let asset = ctem_model::AssetKey::new(AssetKind::ContainerImage, &image.target);

        let (title, purl) = match tool {
            Tool::Trivy => (
                format!("{package}: {cve} allows remote attackers to cause a denial of service"),
                format!("pkg:deb/debian/{package}@{version}?arch=amd64&distro=debian-12"),
            ),
            Tool::Grype => (
                cve.clone(),
                format!("pkg:deb/debian/{package}@{version}?distro=debian-12"),
            ),
        };
        let mut finding = Finding::new(tool.name(), &cve, FindingKind::Vulnerability, title, severity, asset);
        finding.description = Some(format!(
            "A flaw was found in {package} before {version}-1. A remote attacker could send a crafted \
             request that leads to memory corruption."
        ));
        finding.add_vulnerability_id(cve.parse().expect("valid CVE id"));
        finding.add_cvss(self.vectors[usize::from(weakness.vector)].clone());
        finding.component = Some(Component {
            name: package.clone(),
            version: Some(version.clone()),
            purl: Some(purl.parse().expect("valid purl")),
            ecosystem: Some("deb".into()),
        });
        finding.fix = Fix {
            fixed_versions: vec![format!("{version}-1")],
            description: None,
        };
        finding.references = vec![format!("https://security-tracker.debian.org/tracker/{cve}")];
        finding.target = Some(image.target.clone());

        // Grype's report scores a little lower, so Trivy's represents the
        // finding. Scores never change between runs.
        let hundredths = match tool {
            Tool::Trivy => weakness.score,
            Tool::Grype => weakness.score.saturating_sub(50),
        };
        let score = f64::from(hundredths) / 100.0;
        let tier = match score {
            s if s >= 80.0 => Tier::P1,
            s if s >= 60.0 => Tier::P2,
            s if s >= 30.0 => Tier::P3,
            _ => Tier::P4,
        };
        let risk = RiskAssessment {
            score,
            tier,
            likelihood: score / 100.0,
            impact: 0.7,
            factors: vec![
                factor("cvss_impact", "high", score * 0.4, "report"),
                factor("epss", "0.12", score * 0.3, "FIRST EPSS 2024-01-01"),
                factor("severity", severity.as_str(), score * 0.3, "report"),
            ],
            decision: None,
            deadline: None,
        };
        let published = Utc
            .with_ymd_and_hms(
                i32::from(weakness.cve_year),
                1 + weakness.cve_number % 12,
                1 + weakness.cve_number % 28,
                0,
                0,
                0,
            )
            .single();
        ScoredFinding {
            fingerprint: finding.fingerprint(),
            finding,
            risk,
            published,
        }
    }
}

#[derive(Clone, Copy)]
enum Tool {
    Trivy,
    Grype,
}

impl Tool {
    fn name(self) -> &'static str {
        match self {
            Tool::Trivy => "trivy",
            Tool::Grype => "grype",
        }
    }

    fn format(self) -> &'static str {
        match self {
            Tool::Trivy => "trivy-json",
            Tool::Grype => "grype-json",
        }
    }
}

fn factor(name: &str, value: &str, contribution: f64, source: &str) -> Factor {
    Factor {
        name: name.into(),
        value: value.into(),
        contribution,
        source: source.into(),
        weight: None,
        date: None,
    }
}
