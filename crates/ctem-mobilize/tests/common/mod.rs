//! Setup that the ticket sync tests share: a store with two P1 findings
//! of one image, work items over them, and a sync against any tracker.

// Each test file uses a part of these helpers.
#![allow(dead_code)]

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use ctem_mobilize::config::TicketsConfig;
use ctem_mobilize::sync::{
    FindingState, SyncError, SyncOptions, SyncReport, WorkFinding, WorkItem, WorkOwner, finding_states, sync,
};
use ctem_mobilize::tracker::Tracker;
use ctem_model::{AssetKey, AssetKind, Finding, FindingKind, RiskAssessment, Severity, Tier};
use ctem_store::{RunInput, Scope, ScoredFinding, Store, SubjectKind};

pub fn finding(rule: &str) -> Finding {
    let image = AssetKey::new(AssetKind::ContainerImage, "ghcr.io/acme/shop:1.0");
    let mut finding = Finding::new(
        "trivy",
        rule,
        FindingKind::Vulnerability,
        format!("{rule} in log4j-core"),
        Severity::Critical,
        image,
    );
    finding.target = Some("ghcr.io/acme/shop:1.0".into());
    finding
}

/// Builds a run of the image's scope that reports the findings of `rules`.
pub fn run_input(at: DateTime<Utc>, rules: &[&str]) -> RunInput {
    let scope = Scope::of(&finding("CVE-2021-44228"));
    RunInput {
        observed_at: at,
        sources: vec![],
        scopes: BTreeSet::from([scope]),
        assets: vec![],
        relationships: vec![],
        findings: rules
            .iter()
            .map(|rule| {
                let finding = finding(rule);
                ScoredFinding {
                    fingerprint: finding.fingerprint(),
                    finding,
                    risk: RiskAssessment {
                        score: 95.0,
                        tier: Tier::P1,
                        likelihood: 0.95,
                        impact: 1.0,
                        factors: vec![],
                        decision: None,
                        deadline: None,
                    },
                    published: None,
                }
            })
            .collect(),
    }
}

pub fn day(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, day, 8, 0, 0).unwrap()
}

/// Opens a store with two P1 findings from one run.
pub fn store_with_findings(dir: &Path) -> Store {
    let mut store = Store::open(&dir.join("ctem.db")).unwrap();
    store
        .record_run(&run_input(day(1), &["CVE-2021-44228", "CVE-2021-45046"]))
        .unwrap();
    store
}

/// Builds one action per key, owned by `web-team`, each closing every
/// active finding of the store, whose lines show `finding_title`.
pub fn work_items(store: &Store, keys: &[&str], finding_title: &str) -> Vec<WorkItem> {
    let states = finding_states(store).unwrap();
    let mut findings: Vec<WorkFinding> = states
        .iter()
        .filter(|(_, state)| state.status.is_active())
        .map(|(fingerprint, _)| WorkFinding {
            fingerprint: fingerprint.clone(),
            title: finding_title.into(),
            asset: "container_image:ghcr.io/acme/shop:1.0".into(),
            tier: Tier::P1,
            score: 95.0,
        })
        .collect();
    findings.sort_by(|a, b| a.fingerprint.cmp(&b.fingerprint));
    if findings.is_empty() {
        return Vec::new();
    }
    keys.iter()
        .map(|key| WorkItem {
            kind: SubjectKind::Action,
            key: key.to_string(),
            title: "Upgrade log4j-core to 2.16.0 on 1 asset(s)".into(),
            explanation: "Ranks 1 of 1 because it closes 2 finding(s).".into(),
            tier: Tier::P1,
            risk: 190.0,
            owner: Some(WorkOwner {
                team: "web-team".into(),
                contacts: vec!["web@acme.example".into()],
                rule: "owners \"Shop\"".into(),
            }),
            due: NaiveDate::from_ymd_opt(2026, 11, 8),
            findings: findings.clone(),
        })
        .collect()
}

/// Syncs `items` with `tracker` now, with the store's finding states.
pub fn sync_now(
    store: &mut Store,
    tracker: &dyn Tracker,
    config: &TicketsConfig,
    items: &[WorkItem],
) -> Result<SyncReport, SyncError> {
    let states: HashMap<String, FindingState> = finding_states(store).unwrap();
    let options = SyncOptions {
        dry_run: false,
        now: Utc::now(),
    };
    sync(store, tracker, config, items, &states, options)
}
