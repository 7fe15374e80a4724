//! Persistence of ctem: one SQLite file with the runs, the assets and the
//! lifecycle of every finding.
//!
//! This is the only crate that speaks SQL. A [`Store`] opens (or creates)
//! the database, switches it to write-ahead logging and applies the
//! versioned migrations it lacks. [`Store::record_run`] then writes one
//! assessment run in one transaction.
//!
//! A stored finding is one weakness; each tool's report of it is a
//! *source*, under the report's fingerprint. Reports of two tools merge
//! into one finding through their [`ctem_model::MergeKey`] (the same CVE in
//! the same component on the same asset), and a code finding whose line
//! moved by up to [`DRIFT_LINES`] lines stays the same finding. Each
//! source records which values matched.
//!
//! The lifecycle follows the sources scope by scope:
//!
//! | before the run | seen by the run | not seen, scope covered, no other active source | otherwise |
//! | --- | --- | --- | --- |
//! | not stored | `new` | — | — |
//! | `new`, `open`, `reopened` | `open` | `fixed` (verified) | unchanged |
//! | `fixed` | `reopened` | fix verified, if a person had marked it | unchanged |
//! | `risk_accepted` | unchanged | `fixed` (verified) | unchanged |
//! | `false_positive`, `not_affected` | unchanged | unchanged | unchanged |
//!
//! A finding's scope is its tool and its target ([`Scope`]); a run lists the
//! scopes it covered, so a scan of one image never closes the findings of
//! another, and a run that leaves a scan out closes nothing. A report that a
//! VEX statement marks not affected makes its finding `not_affected`. A risk
//! acceptance that ended by a run's time reopens the finding. People set
//! the other statuses and validation marks with [`Store::triage`].
//!
//! History is event-based. `finding_history` holds one row for every change
//! (a run's status change, a triage, a merge, a validation mark, an
//! expiry), with the reason and the person, so the time to detect and the time to
//! remediate are queries. `finding_scores` holds the score and tier of
//! every finding in every run that saw it, and `run_stats` the state of the
//! whole store after each run, which the trends draw.
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
//! let risk = RiskAssessment::new(97.0, Tier::P1, 0.97, 1.0, vec![]);
//!
//! let run = RunInput {
//!     observed_at: Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap(),
//!     sources: vec![],
//!     scopes: BTreeSet::from([Scope::of(&finding)]),
//!     assets: vec![],
//!     relationships: vec![],
//!     findings: vec![ScoredFinding { fingerprint: finding.fingerprint(), finding, risk, published: None }],
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
mod fact_row;
mod facts;
mod lifecycle;
mod migrations;
mod read;
mod record;
mod redupe;
mod store;
mod tickets;
mod triage;
mod types;

pub use error::StoreError;
pub use lifecycle::DRIFT_LINES;
pub use migrations::SCHEMA_VERSION;
pub use redupe::RedupeSummary;
pub use store::Store;
pub use tickets::{Claim, SubjectKind, TicketRecord, TicketState};
pub use triage::TriageOutcome;
pub use types::{
    AssetCoverage, Cause, FactTable, FindingFacts, FindingFilter, HistoryEntry, RunInput, RunRecord, RunStats,
    RunSummary, Scope, ScoredFinding, SourceEntry, SourceRecord, StoredFinding, TriageAction, TriageRequest,
};
