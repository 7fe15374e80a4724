//! Burn-down, new versus fixed, and the exposure trend, one point per run.

use ctem_store::RunStats;

use super::{DataWarnings, MetricsOptions, RunPoint};

/// Selects the runs observed in the period, the oldest first (by
/// observation time, then by id).
pub(crate) fn run_points(runs: &[RunStats], options: &MetricsOptions, warnings: &mut DataWarnings) -> Vec<RunPoint> {
    let mut points: Vec<RunPoint> = runs
        .iter()
        .filter(|run| run.observed_at <= options.now && options.since.is_none_or(|since| run.observed_at >= since))
        .map(|run| {
            // The counts are summed here rather than with
            // `RunStats::open_total`, which would overflow on corrupt counts.
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
            }
        })
        .collect();
    points.sort_by(|a, b| a.observed_at.cmp(&b.observed_at).then(a.run_id.cmp(&b.run_id)));
    points
}
