//! The values that go into and come out of the store.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use ctem_model::{
    Asset, AssetKey, Finding, FindingKind, Fingerprint, LifecycleStatus, Relationship, RiskAssessment, Severity, Tier,
    Validation,
};

/// What one scan covered: a tool run against a target (an image, a
/// repository, a set of hosts). A run closes a finding only when the
/// finding's scope is one of the run's scopes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Scope {
    /// The tool, as in [`Finding::tool`].
    pub tool: String,
    /// The target, as in [`Finding::target`]; a finding without a target
    /// belongs to the target `""`.
    pub target: String,
}

impl Scope {
    /// The scope a finding belongs to.
    pub fn of(finding: &Finding) -> Scope {
        Scope {
            tool: finding.tool.clone(),
            target: finding.target.clone().unwrap_or_default(),
        }
    }
}

/// One file that a run ingested.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRecord {
    pub path: String,
    /// The id of the parser that read it.
    pub format: String,
    /// The SHA-256 of the file's bytes, in hex.
    pub sha256: String,
    /// How many findings the file gave.
    pub finding_count: u64,
    /// Why the file was skipped, for a file that could not be read.
    pub error: Option<String>,
}

/// One tool's report of a finding, with its identity and its score.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredFinding {
    /// The report's identity, [`Finding::fingerprint`].
    pub fingerprint: Fingerprint,
    pub finding: Finding,
    pub risk: RiskAssessment,
    /// When the finding's vulnerability was published, where threat
    /// intelligence records it: an input of the introduction time that MTTD
    /// measures from.
    pub published: Option<DateTime<Utc>>,
}

/// Everything one run writes to the store.
#[derive(Debug, Clone, PartialEq)]
pub struct RunInput {
    /// When the scans were taken. Runs must be recorded in the order of this
    /// time; equal times are accepted.
    pub observed_at: DateTime<Utc>,
    pub sources: Vec<SourceRecord>,
    /// The scopes the run covered. Active findings of these scopes that the
    /// run did not see become fixed; findings of other scopes are left as
    /// they are.
    pub scopes: BTreeSet<Scope>,
    pub assets: Vec<Asset>,
    pub relationships: Vec<Relationship>,
    /// The findings seen. Two entries with the same fingerprint count as one
    /// finding: the one with the higher score is kept.
    pub findings: Vec<ScoredFinding>,
}

/// What a recorded run did to the finding lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunSummary {
    pub run_id: i64,
    pub observed_at: DateTime<Utc>,
    /// Distinct findings seen: `new + still_open + reopened`.
    pub seen: u64,
    /// Findings seen for the first time.
    pub new: u64,
    /// Findings stored before the run, and not fixed, that it saw again:
    /// they are `open` now, or keep a status that a person or a VEX
    /// statement set.
    pub still_open: u64,
    /// Findings that a previous run had fixed and that this run saw again.
    pub reopened: u64,
    /// Active findings of the run's scopes that the run no longer saw.
    pub fixed: u64,
}

/// A stored run, as [`crate::Store::runs`] returns it.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRecord {
    /// The id, the observation time and the lifecycle counts.
    pub summary: RunSummary,
    /// When the run was written to the store.
    pub recorded_at: DateTime<Utc>,
    pub sources: Vec<SourceRecord>,
    pub scopes: BTreeSet<Scope>,
}

/// Which findings [`crate::Store::findings`] returns. The default returns
/// every finding.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FindingFilter {
    /// Only these statuses; empty means every status.
    pub statuses: Vec<LifecycleStatus>,
    /// Only findings that still need fixing (new, open or reopened).
    pub active_only: bool,
    pub tool: Option<String>,
    /// Only this scope target (`""` selects findings without a target).
    pub target: Option<String>,
    /// Only this severity and higher ones.
    pub min_severity: Option<Severity>,
    pub tier: Option<Tier>,
    /// Only findings on the asset with this key (`host:10.0.0.5`).
    pub asset: Option<String>,
    /// At most this many findings, the highest scores first.
    pub limit: Option<usize>,
}

/// A finding with its lifecycle state, as [`crate::Store::findings`]
/// returns it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredFinding {
    /// The finding's id: the fingerprint of the first report of it. Every
    /// source's fingerprint also finds it ([`crate::Store::finding`]).
    pub fingerprint: Fingerprint,
    /// The finding as the report with the highest score in the latest run
    /// that saw it gave it.
    pub finding: Finding,
    pub status: LifecycleStatus,
    /// The tools that reported it, sorted.
    pub tools: Vec<String>,
    pub validation: Option<Validation>,
    /// When a covering run confirmed the fix.
    pub verified_at: Option<DateTime<Utc>>,
    /// When a risk acceptance ends.
    pub accepted_until: Option<DateTime<Utc>>,
    /// See [`FindingFacts::introduced_at`].
    pub introduced_at: Option<DateTime<Utc>>,
    /// When the first run that saw it was observed.
    pub first_seen: DateTime<Utc>,
    /// When the latest run that saw it was observed.
    pub last_seen: DateTime<Utc>,
    /// When the run that fixed it was observed, while it is fixed.
    pub fixed_at: Option<DateTime<Utc>>,
    /// The assessment of the latest run that saw it. Every finding written
    /// by [`crate::Store::record_run`] has one.
    pub risk: Option<RiskAssessment>,
}

/// The cause of a change of a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cause {
    /// A run saw it or, covering its scope, no longer saw it.
    Run,
    /// A person triaged it.
    Triage,
    /// A VEX statement states that the product is not affected.
    Vex,
    /// A risk acceptance ended.
    Expiry,
    /// A report of another tool, or of a moved line, joined the finding.
    Merge,
    /// A validation mark was set, by a run (a DAST or Nuclei match) or by
    /// a person.
    Validation,
}

impl Cause {
    pub fn as_str(self) -> &'static str {
        match self {
            Cause::Run => "run",
            Cause::Triage => "triage",
            Cause::Vex => "vex",
            Cause::Expiry => "expiry",
            Cause::Merge => "merge",
            Cause::Validation => "validation",
        }
    }

    pub(crate) fn parse(name: &str) -> Option<Cause> {
        [
            Cause::Run,
            Cause::Triage,
            Cause::Vex,
            Cause::Expiry,
            Cause::Merge,
            Cause::Validation,
        ]
        .into_iter()
        .find(|cause| cause.as_str() == name)
    }
}

/// One change of a finding, as [`crate::Store::finding_history`] returns
/// it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    /// The run that made the change; `None` for triage between runs.
    pub run_id: Option<i64>,
    /// The observation time of that run, or when a person triaged it.
    pub at: DateTime<Utc>,
    /// The status after the change.
    pub status: LifecycleStatus,
    pub cause: Cause,
    /// Why: the triage reason, the matched values of a merge, the VEX
    /// justification.
    pub reason: Option<String>,
    /// The person who triaged it.
    pub actor: Option<String>,
    /// The person who approved a risk acceptance.
    pub approver: Option<String>,
    /// When a risk acceptance ends.
    pub expires_at: Option<DateTime<Utc>>,
    /// The validation mark set, for a validation change.
    pub validation: Option<Validation>,
}

/// One tool's report of a stored finding, as
/// [`crate::Store::finding_sources`] returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceEntry {
    pub fingerprint: Fingerprint,
    pub tool: String,
    pub target: String,
    /// Whether the latest run that covered its scope saw it.
    pub active: bool,
    pub first_seen: DateTime<Utc>,
    /// The rule that joined it to the finding: `first`, a merge rule (`vulnerability`,
    /// `secret`, `fingerprint`) or `drift`.
    pub merged_by: String,
    /// The values that matched.
    pub basis: Option<String>,
}

/// A change that a person makes to findings with `ctem triage`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TriageAction {
    /// Accept the risk until `until`, as approved by `approver`.
    AcceptRisk {
        approver: String,
        until: DateTime<Utc>,
    },
    FalsePositive,
    NotAffected,
    /// Say it is fixed; the next run that covers its scope confirms or
    /// reopens it.
    Fixed,
    /// Undo a triage status: back to `open`.
    Reopen,
    /// Set a validation mark.
    Validate(Validation),
}

/// One `ctem triage` call: the action for the findings named, with the
/// reason and the person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TriageRequest {
    /// Fingerprints of the findings or of any of their sources.
    pub fingerprints: Vec<Fingerprint>,
    pub action: TriageAction,
    /// Required: why.
    pub reason: String,
    /// The person who made the change.
    pub actor: Option<String>,
    /// When the change was made.
    pub at: DateTime<Utc>,
}

/// One finding as the metrics read it: the columns that metrics group,
/// filter and measure on, without the finding's JSON. See
/// [`crate::Store::fact_table`].
#[derive(Debug, Clone, PartialEq)]
pub struct FindingFacts {
    /// The finding's row id, for [`crate::Store::findings_by_id`].
    pub id: i64,
    /// Index into [`FactTable::assets`].
    pub asset: u32,
    /// Index into [`FactTable::tool_sets`]: the tools that reported it.
    pub tools: u32,
    pub kind: FindingKind,
    pub severity: Severity,
    pub tier: Tier,
    pub score: f64,
    pub status: LifecycleStatus,
    /// Detection: the observation time of the first run that saw it.
    pub first_seen: DateTime<Utc>,
    /// The observation time of the latest run that saw it.
    pub last_seen: DateTime<Utc>,
    /// When the weakness came to be on the asset, as far as ctem knows:
    /// the later of the CVE's publication and the component's first
    /// appearance on the asset, else the first run that covered the
    /// finding's scope. Never after `first_seen`.
    pub introduced_at: Option<DateTime<Utc>>,
    /// When it became fixed, while its status is `fixed`.
    pub fixed_at: Option<DateTime<Utc>>,
    /// When a run that covered its scope confirmed the fix by no longer
    /// seeing it. Equal to `fixed_at` when a rescan fixed it; later when
    /// somebody marked it fixed first; `None` while unconfirmed.
    pub verified_at: Option<DateTime<Utc>>,
    pub validation: Option<Validation>,
    /// When a risk acceptance ends, while its status is `risk_accepted`.
    pub accepted_until: Option<DateTime<Utc>>,
}

/// Every finding's facts, with asset keys and tool sets interned so that
/// a million findings stay compact.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FactTable {
    pub assets: Vec<AssetKey>,
    /// Each distinct set of tools, sorted (`["grype", "trivy"]`).
    pub tool_sets: Vec<Vec<String>>,
    pub findings: Vec<FindingFacts>,
}

/// The state of the whole store right after one run: what the trends
/// draw. Written by [`crate::Store::record_run`]; see
/// [`crate::Store::run_stats`].
#[derive(Debug, Clone, PartialEq)]
pub struct RunStats {
    pub run_id: i64,
    pub observed_at: DateTime<Utc>,
    /// The run's own lifecycle counts.
    pub summary: RunSummary,
    /// Active findings (new, open, reopened) in the whole store after the
    /// run, by tier: P1, P2, P3, P4.
    pub open_by_tier: [u64; 4],
    /// The sum of the scores of those findings, by tier.
    pub risk_by_tier: [f64; 4],
    /// Active findings on crown jewels, and the sum of their scores.
    pub crown_jewel_open: u64,
    pub crown_jewel_risk: f64,
    /// Findings whose risk is accepted after the run.
    pub accepted: u64,
}

impl RunStats {
    pub fn open_total(&self) -> u64 {
        self.open_by_tier.iter().sum()
    }

    pub fn risk_total(&self) -> f64 {
        self.risk_by_tier.iter().sum()
    }
}

/// When an asset was last assessed, for exposure coverage. See
/// [`crate::Store::asset_coverage`].
#[derive(Debug, Clone, PartialEq)]
pub struct AssetCoverage {
    pub asset: Asset,
    /// When a source first named the asset.
    pub first_seen: DateTime<Utc>,
    /// The latest run that assessed it: that saw a finding on it, or that
    /// covered a scope whose target is the asset. `None`: never assessed.
    pub last_assessed: Option<DateTime<Utc>>,
}
