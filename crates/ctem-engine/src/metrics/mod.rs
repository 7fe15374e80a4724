//! Remediation and exposure metrics: coverage, mean time to detect and to
//! remediate, SLA compliance, the open backlog by age, and trends per run.
//!
//! [`compute`] is a pure function of the store's compact reads (the fact
//! table, the run statistics and the asset coverage), the SLA policy and
//! the options. It makes one pass over the findings. `docs/metrics.md`
//! defines every figure, and the tests of this module check each
//! definition on a scenario computed by hand.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use ctem_engine::metrics::{MetricsOptions, compute};
//! use ctem_engine::sla::SlaPolicy;
//! use ctem_store::FactTable;
//!
//! let now = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
//! let metrics = compute(&FactTable::default(), &[], &[], &SlaPolicy::default(), &MetricsOptions::new(now));
//! assert_eq!(metrics.mttr.overall.count, 0);
//! assert_eq!(metrics.mttr.overall.mean_days, None);
//! ```

mod coverage;
mod lookup;
mod pass;
mod stats;
#[cfg(test)]
mod tests;
mod trend;

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use ctem_model::{AssetKey, AssetKind, Tier};
use ctem_store::{AssetCoverage, FactTable, RunStats};
use serde::Serialize;

pub use lookup::UNOWNED;
pub use stats::DurationStats;

use crate::sla::SlaPolicy;

/// The default coverage window: an asset counts as assessed when a run
/// assessed it in the last 30 days.
pub const DEFAULT_COVERAGE_WINDOW_DAYS: u32 = 30;

/// The reference time, the period, the breakdown and the coverage window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricsOptions {
    /// The reference time: ages, overdue days and the end of the period
    /// are measured at it. Statuses are always the stored ones.
    pub now: DateTime<Utc>,
    /// The start of the period. `None` counts from the first record.
    pub since: Option<DateTime<Utc>>,
    /// A breakdown of open findings, MTTR and SLA compliance by this group.
    pub by: Option<GroupBy>,
    /// The coverage window in days before `now`: an asset assessed within
    /// it counts as covered.
    pub coverage_window_days: u32,
}

impl MetricsOptions {
    /// Options for the whole history at `now`, without a breakdown, with
    /// the default coverage window.
    pub fn new(now: DateTime<Utc>) -> MetricsOptions {
        MetricsOptions {
            now,
            since: None,
            by: None,
            coverage_window_days: DEFAULT_COVERAGE_WINDOW_DAYS,
        }
    }
}

/// A dimension to break the metrics down by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    /// The owner of the finding's asset, or [`UNOWNED`] when it has none.
    Team,
    Tier,
    Severity,
    /// Each tool that reported the finding: a finding reported by two
    /// tools counts in both groups.
    Source,
}

impl GroupBy {
    pub const ALL: [GroupBy; 4] = [GroupBy::Team, GroupBy::Tier, GroupBy::Severity, GroupBy::Source];

    pub fn as_str(self) -> &'static str {
        match self {
            GroupBy::Team => "team",
            GroupBy::Tier => "tier",
            GroupBy::Severity => "severity",
            GroupBy::Source => "source",
        }
    }
}

impl fmt::Display for GroupBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for GroupBy {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let name = s.trim().to_ascii_lowercase();
        GroupBy::ALL
            .into_iter()
            .find(|group| group.as_str() == name)
            .ok_or_else(|| format!("invalid group {s:?}: expected team, tier, severity or source"))
    }
}

/// Every metric, as `ctem metrics` prints it. Durations are in days, with
/// the fraction. A figure without data is `None` (`null` in JSON).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metrics {
    pub now: DateTime<Utc>,
    pub since: Option<DateTime<Utc>>,
    pub coverage: Coverage,
    /// Mean time to detect: introduction to first detection, over the
    /// findings detected in the period.
    pub mttd: DurationStats,
    /// Mean time to remediate: first detection to confirmed fix, over the
    /// findings whose fix was confirmed in the period.
    pub mttr: Mttr,
    pub sla: SlaCompliance,
    /// Active findings at `now` by age.
    pub backlog: Backlog,
    /// The runs observed in the period, the oldest first.
    pub runs: Vec<RunPoint>,
    /// The breakdown that [`MetricsOptions::by`] requests.
    pub groups: Option<Groups>,
    pub warnings: DataWarnings,
}

/// Exposure coverage: how many assets a run assessed within the window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Coverage {
    pub window_days: u32,
    /// `now` minus the window: an assessment at or after it counts.
    pub window_start: DateTime<Utc>,
    pub total: CoverageCount,
    /// By asset kind, in the order of [`AssetKind`], only kinds with assets.
    pub by_kind: Vec<KindCoverage>,
    /// Assets that no run ever assessed, by key.
    pub never_assessed: Vec<AssetKey>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct CoverageCount {
    pub assets: u64,
    /// Assets last assessed within the window.
    pub assessed: u64,
    /// `assessed / assets`, from 0 to 1, or `None` without assets.
    pub share: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct KindCoverage {
    pub kind: AssetKind,
    #[serde(flatten)]
    pub count: CoverageCount,
}

/// MTTR overall and by group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mttr {
    pub overall: DurationStats,
    /// P1 to P4, every tier listed.
    pub by_tier: Vec<GroupDuration>,
    /// Critical to info, every severity listed.
    pub by_severity: Vec<GroupDuration>,
    /// crown_jewel, high, medium, low and unclassified, every one listed.
    pub by_criticality: Vec<GroupDuration>,
    /// Teams with at least one confirmed fix in the period, by name.
    pub by_team: Vec<GroupDuration>,
}

/// The statistics of one group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupDuration {
    pub group: String,
    #[serde(flatten)]
    pub stats: DurationStats,
}

/// Of the findings that SLA compliance counts, how many were fixed in time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Compliance {
    /// Confirmed fixed on or before the due date.
    pub met: u64,
    /// Not confirmed fixed by the due date.
    pub missed: u64,
    /// `met / (met + missed)`, from 0 to 1, or `None` when both are 0.
    pub share: Option<f64>,
}

impl Compliance {
    pub(crate) fn with_share(mut self) -> Compliance {
        let counted = self.met + self.missed;
        self.share = (counted > 0).then(|| self.met as f64 / counted as f64);
        self
    }
}

/// SLA compliance in the period, and the breaches.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SlaCompliance {
    #[serde(flatten)]
    pub compliance: Compliance,
    /// Findings past due at `now` and not confirmed fixed.
    pub overdue: u64,
    /// Findings confirmed fixed in the period after their due date.
    pub fixed_late: u64,
    /// The overdue findings and the late fixes, the most overdue first.
    pub breaches: Vec<Breach>,
}

/// One finding that breaches its SLA.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Breach {
    /// The finding's row id, for `Store::findings_by_id`.
    pub id: i64,
    pub tier: Tier,
    pub state: BreachState,
    pub due: DateTime<Utc>,
    /// Days from the due date to `now` (overdue, unverified) or to the
    /// confirmed fix (fixed late).
    pub days_overdue: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BreachState {
    /// Active and past due.
    Overdue,
    /// Marked fixed, past due, and no run has confirmed the fix.
    Unverified,
    /// Confirmed fixed after the due date.
    FixedLate,
}

impl BreachState {
    pub fn as_str(self) -> &'static str {
        match self {
            BreachState::Overdue => "overdue",
            BreachState::Unverified => "unverified",
            BreachState::FixedLate => "fixed_late",
        }
    }
}

/// Active findings by age at `now`: whole days since `first_seen`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct AgeBuckets {
    pub days_0_to_7: u64,
    pub days_8_to_30: u64,
    pub days_31_to_90: u64,
    pub days_91_to_180: u64,
    pub over_180_days: u64,
    pub total: u64,
}

impl AgeBuckets {
    /// The labels of the buckets, in the order of [`AgeBuckets::counts`].
    pub const LABELS: [&'static str; 5] = ["0-7", "8-30", "31-90", "91-180", ">180"];

    pub fn counts(&self) -> [u64; 5] {
        [
            self.days_0_to_7,
            self.days_8_to_30,
            self.days_31_to_90,
            self.days_91_to_180,
            self.over_180_days,
        ]
    }

    pub(crate) fn from_counts(counts: [u64; 5]) -> AgeBuckets {
        AgeBuckets {
            days_0_to_7: counts[0],
            days_8_to_30: counts[1],
            days_31_to_90: counts[2],
            days_91_to_180: counts[3],
            over_180_days: counts[4],
            total: counts.iter().fold(0u64, |sum, &count| sum.saturating_add(count)),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Backlog {
    pub total: AgeBuckets,
    /// P1 to P4, every tier listed.
    pub by_tier: Vec<TierBuckets>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TierBuckets {
    pub tier: Tier,
    #[serde(flatten)]
    pub buckets: AgeBuckets,
}

/// The state of the store after one run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RunPoint {
    pub run_id: i64,
    pub observed_at: DateTime<Utc>,
    /// Active findings in the whole store after the run: the burn-down.
    pub open: u64,
    /// The same by tier, P1 to P4.
    pub open_by_tier: [u64; 4],
    /// Findings the run saw for the first time.
    pub new: u64,
    /// Findings the run saw again after they were fixed.
    pub reopened: u64,
    /// Active findings of the run's scopes that it no longer saw.
    pub fixed: u64,
    /// Findings whose risk was accepted after the run.
    pub accepted: u64,
    /// The sum of the scores of the active findings, or `None` when a
    /// stored sum is not a finite number.
    pub risk: Option<f64>,
    pub crown_jewel_open: u64,
    /// The sum of the scores of the active findings on crown jewels.
    pub crown_jewel_risk: Option<f64>,
    /// Fixes that the run confirmed: findings now fixed whose confirmation
    /// falls after the previous run and at or before this one.
    pub verified: u64,
    /// The mean days from detection to confirmation of those fixes, or
    /// `None` when the run confirmed none.
    pub mttr_days: Option<f64>,
}

/// The breakdown by one dimension.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Groups {
    pub by: GroupBy,
    pub groups: Vec<GroupMetrics>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupMetrics {
    pub group: String,
    /// Active findings at `now`.
    pub open: u64,
    pub mttr: DurationStats,
    pub sla: Compliance,
}

/// Inputs that contradict the store's documented invariants. Each such
/// finding or run is left out of the figures it would distort, and counted
/// here so that nothing is dropped silently.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DataWarnings {
    /// Findings first seen after `now`, left out of every figure. Expected
    /// when `now` is set in the past.
    pub detected_after_now: u64,
    /// Findings introduced after their first detection, left out of MTTD.
    pub introduced_after_detection: u64,
    /// Fixed findings confirmed before their first detection, left out of
    /// MTTR and SLA compliance.
    pub verified_before_detection: u64,
    /// Findings whose asset index is outside the fact table's asset list.
    /// They count as unowned and unclassified.
    pub unknown_asset_index: u64,
    /// Findings whose tool set index is outside the fact table's tool sets.
    /// They count in no source group.
    pub unknown_tool_set_index: u64,
    /// Runs whose stored risk sums are not finite numbers.
    pub non_finite_run_risk: u64,
}

/// Computes every metric from the store's reads. `coverage` supplies the
/// owner and criticality of the assets that the findings refer to.
pub fn compute(
    facts: &FactTable,
    runs: &[RunStats],
    coverage: &[AssetCoverage],
    policy: &SlaPolicy,
    options: &MetricsOptions,
) -> Metrics {
    let assets = lookup::AssetLookup::build(facts, coverage);
    let tools = lookup::ToolLookup::build(facts);

    let timeline = trend::Timeline::new(runs, options);

    let mut findings = pass::FindingPass::new(policy, options, &assets, &tools, &timeline);
    for finding in &facts.findings {
        findings.add(finding);
    }
    let mut outcome = findings.finish();

    let runs = timeline.points(&outcome.fixes_by_run, &mut outcome.warnings);
    Metrics {
        now: options.now,
        since: options.since,
        coverage: coverage::coverage(coverage, options),
        mttd: outcome.mttd,
        mttr: outcome.mttr,
        sla: outcome.sla,
        backlog: outcome.backlog,
        runs,
        groups: outcome.groups,
        warnings: outcome.warnings,
    }
}
