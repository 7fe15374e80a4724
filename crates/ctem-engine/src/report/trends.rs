//! The trend part of the HTML report: the three charts over every run, or
//! the values of the only run, and the table of values per run.

use ctem_model::Tier;

use super::charts::{self, Chart};
use crate::metrics::RunPoint;

/// One trend chart, or the values of the only run.
pub(crate) struct TrendSection {
    pub(crate) heading: &'static str,
    pub(crate) chart: Option<Chart>,
    /// The values of the only run, when there is one run.
    pub(crate) single: Option<String>,
}

/// One row of the table of values per run under the charts.
pub(crate) struct RunRow {
    pub(crate) run_id: i64,
    pub(crate) observed_at: String,
    pub(crate) risk: String,
    pub(crate) crown_jewel_risk: String,
    pub(crate) open_by_tier: [u64; 4],
    pub(crate) open: u64,
    pub(crate) verified: u64,
    pub(crate) mttr: String,
}

/// Lays out the three trend charts, or with one run describes its values.
pub(crate) fn trend_sections(runs: &[RunPoint]) -> Vec<TrendSection> {
    const HEADINGS: [&str; 3] = ["Risk per run", "Open findings per run", "Days to fix per run"];
    match runs {
        [] => HEADINGS
            .iter()
            .map(|&heading| TrendSection {
                heading,
                chart: None,
                single: None,
            })
            .collect(),
        [only] => {
            let score = |value: Option<f64>| value.map_or_else(|| "-".to_string(), charts::number);
            let tiers: Vec<String> = Tier::ALL
                .iter()
                .zip(only.open_by_tier)
                .map(|(tier, count)| format!("{tier} {count}"))
                .collect();
            let days = match (only.mttr_days, only.verified) {
                (Some(days), 1) => format!(
                    "The run confirmed 1 fix, {} days after detection.",
                    charts::number(days)
                ),
                (Some(days), count) => format!(
                    "The run confirmed {count} fixes, {} days after detection on average.",
                    charts::number(days)
                ),
                (None, _) => "The run confirmed no fix.".to_string(),
            };
            let values = [
                format!(
                    "Total risk score {}, of which {} on crown jewels.",
                    score(only.risk),
                    score(only.crown_jewel_risk)
                ),
                format!("{} open findings: {}.", only.open, tiers.join(", ")),
                days,
            ];
            HEADINGS
                .iter()
                .zip(values)
                .map(|(&heading, value)| TrendSection {
                    heading,
                    chart: None,
                    single: Some(value),
                })
                .collect()
        }
        runs => {
            let built = [
                charts::risk_chart(runs),
                charts::open_chart(runs),
                charts::days_to_fix_chart(runs),
            ];
            HEADINGS
                .iter()
                .zip(built)
                .map(|(&heading, chart)| TrendSection {
                    heading,
                    chart: Some(chart),
                    single: None,
                })
                .collect()
        }
    }
}

pub(crate) fn run_row(run: &RunPoint) -> RunRow {
    let optional = |value: Option<f64>| value.map_or_else(|| "-".to_string(), |value| format!("{value:.1}"));
    RunRow {
        run_id: run.run_id,
        observed_at: run.observed_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        risk: optional(run.risk),
        crown_jewel_risk: optional(run.crown_jewel_risk),
        open_by_tier: run.open_by_tier,
        open: run.open,
        verified: run.verified,
        mttr: optional(run.mttr_days),
    }
}
