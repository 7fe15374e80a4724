//! Persistence of ctem: one SQLite file with the runs, the assets and the
//! lifecycle of every finding.
//!
//! This is the only crate that speaks SQL. A [`Store`] opens (or creates)
//! the database, switches it to write-ahead logging and applies the
//! versioned migrations it lacks. [`Store::record_run`] then writes one
//! assessment run in one transaction and moves each finding through its
//! lifecycle:
//!
//! | before the run | seen by the run | not seen, scope covered | not seen, scope not covered |
//! | --- | --- | --- | --- |
//! | not stored | `new` | — | — |
//! | `new`, `open`, `reopened` | `open` | `fixed` | unchanged |
//! | `fixed` | `reopened` | unchanged | unchanged |
//!
//! A finding's scope is its tool and its target ([`Scope`]); a run lists the
//! scopes it covered, so a scan of one image never closes the findings of
//! another, and a run that leaves a scan out closes nothing.
//!
//! History is event-based. `finding_events` holds one row each time a run
//! changes a finding's status (`new`, then `open` on the second sighting,
//! `fixed`, `reopened`, `open` again), so the time to detect and the time
//! to remediate are queries. `finding_scores` holds the score and tier of
//! every finding in every run that saw it.
//!
//! ```
//! use std::collections::BTreeSet;
//!
//! use chrono::{TimeZone, Utc};
//! use ctem_model::{AssetKey, AssetKind, Finding, FindingKind, LifecycleStatus, RiskAssessment, Severity, Tier};
//! use ctem_store::{FindingFilter, RunInput, Scope, ScoredFinding, Store};
//!
//! let dir = tempfile::tempdir()?;
//! let mut store = Store::open(&dir.path().join("ctem.db"))?;
//!
//! let image = AssetKey::new(AssetKind::ContainerImage, "acme/shop:1.0");
//! let mut finding = Finding::new("trivy", "CVE-2021-44228", FindingKind::Vulnerability,
//!     "log4j-core: remote code execution", Severity::Critical, image);
//! finding.target = Some("acme/shop:1.0".into());
//! let risk = RiskAssessment { score: 97.0, tier: Tier::P1, likelihood: 0.97, impact: 1.0, factors: vec![] };
//!
//! let run = RunInput {
//!     observed_at: Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap(),
//!     sources: vec![],
//!     scopes: BTreeSet::from([Scope::of(&finding)]),
//!     assets: vec![],
//!     relationships: vec![],
//!     findings: vec![ScoredFinding { fingerprint: finding.fingerprint(), finding, risk }],
//! };
//! let summary = store.record_run(&run)?;
//! assert_eq!(summary.new, 1);
//!
//! let open = store.findings(&FindingFilter { active_only: true, ..FindingFilter::default() })?;
//! assert_eq!(open.len(), 1);
//! assert_eq!(open[0].status, LifecycleStatus::New);
//! assert_eq!(open[0].finding.rule_id, "CVE-2021-44228");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Times are stored as RFC 3339 text in UTC; the JSON columns hold the
//! model types as serde writes them, so a model change that breaks their
//! deserialization needs a migration.

mod checkpoint;
mod codec;
mod error;
mod facts;
mod lifecycle;
mod migrations;
mod read;
mod record;
mod store;
mod types;

pub use error::StoreError;
pub use migrations::SCHEMA_VERSION;
pub use store::Store;
pub use types::{
    AssetCoverage, FactTable, FindingFacts, FindingFilter, HistoryEntry, RunInput, RunRecord, RunStats, RunSummary,
    Scope, ScoredFinding, SourceRecord, StoredFinding,
};
