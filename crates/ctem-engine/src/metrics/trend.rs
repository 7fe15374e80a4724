//! Burn-down, new versus fixed, the exposure trend and the days to fix,
//! one point per run.

use chrono::{DateTime, Utc};
use ctem_store::RunStats;

use super::{DataWarnings, MetricsOptions, RunPoint};

/// The runs observed at or before `now`, the oldest first (by observation
/// time, then by id). Runs before the period are kept because each run's
/// fixes are those confirmed after the run before it.
pub(crate) struct Timeline<'a> {
    runs: Vec<&'a RunStats>,
    /// The observation times of `runs`, in the same order, for the binary
    /// search of [`Timeline::run_of_fix`].
    times: Vec<DateTime<Utc>>,
    /// The index of the first run observed in the period.
    first_in_period: usize,
}

/// The fixes that one run confirmed: their count and the sum of their
/// days from detection to the confirmation.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RunFixes {
    count: u64,
    days: f64,
}

impl RunFixes {
    pub(crate) fn add(&mut self, days: f64) {
        self.count += 1;
        self.days += days;
    }
}

impl<'a> Timeline<'a> {
    pub(crate) fn new(runs: &'a [RunStats], options: &MetricsOptions) -> Timeline<'a> {
        let mut runs: Vec<&RunStats> = runs.iter().filter(|run| run.observed_at <= options.now).collect();
        runs.sort_by(|a, b| a.observed_at.cmp(&b.observed_at).then(a.run_id.cmp(&b.run_id)));
        let times: Vec<DateTime<Utc>> = runs.iter().map(|run| run.observed_at).collect();
        let first_in_period = match options.since {
            Some(since) => times.partition_point(|&time| time < since),
            None => 0,
        };
        Timeline {
            runs,
            times,
            first_in_period,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.runs.len()
    }

    /// Returns the index of the run that confirmed a fix at `verified_at`:
    /// the first run observed at or after it, so the confirmation falls
    /// after the run before that one and at or before this one. Of runs
    /// observed at the same time, the one with the lowest id takes the fix.
    /// `None` when that run is before the period, or when no run was
    /// observed at or after `verified_at`.
    #[inline]
    pub(crate) fn run_of_fix(&self, verified_at: DateTime<Utc>) -> Option<usize> {
        // Most fixes of a long history belong to runs before the period:
        // one comparison settles them, and the search covers only the
        // runs in the period.
        if let Some(last_before) = self.first_in_period.checked_sub(1)
            && verified_at <= self.times[last_before]
        {
            return None;
        }
        let in_period = &self.times[self.first_in_period..];
        let index = self.first_in_period + in_period.partition_point(|&time| time < verified_at);
        (index < self.times.len()).then_some(index)
    }

    /// Builds the points of the runs observed in the period. `fixes` is
    /// indexed like the timeline and has one entry per run.
    pub(crate) fn points(&self, fixes: &[RunFixes], warnings: &mut DataWarnings) -> Vec<RunPoint> {
        self.runs
            .iter()
            .zip(fixes)
            .skip(self.first_in_period)
            .map(|(run, fixes)| run_point(run, fixes, warnings))
            .collect()
    }
}

fn run_point(run: &RunStats, fixes: &RunFixes, warnings: &mut DataWarnings) -> RunPoint {
    // The counts are summed here rather than with `RunStats::open_total`,
    // which would overflow on corrupt counts.
    let open = run
        .open_by_tier
        .iter()
        .fold(0u64, |sum, &count| sum.saturating_add(count));
    let risk = run.risk_by_tier.iter().sum::<f64>();
    let risk = risk.is_finite().then_some(risk);
    let crown_jewel_risk = run.crown_jewel_risk.is_finite().then_some(run.crown_jewel_risk);
    if risk.is_none() || crown_jewel_risk.is_none() {
        warnings.non_finite_run_risk += 1;
    }
    RunPoint {
        run_id: run.run_id,
        observed_at: run.observed_at,
        open,
        open_by_tier: run.open_by_tier,
        new: run.summary.new,
        reopened: run.summary.reopened,
        fixed: run.summary.fixed,
        accepted: run.accepted,
        risk,
        crown_jewel_open: run.crown_jewel_open,
        crown_jewel_risk,
        verified: fixes.count,
        mttr_days: (fixes.count > 0).then(|| fixes.days / fixes.count as f64),
    }
}
