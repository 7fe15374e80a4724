//! Exposure coverage: the share of assets that a run assessed recently.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};
use ctem_model::AssetKind;
use ctem_store::AssetCoverage;

use super::{Coverage, CoverageCount, KindCoverage, MetricsOptions};

pub(crate) fn coverage(assets: &[AssetCoverage], options: &MetricsOptions) -> Coverage {
    let now = options.now;
    let window_start = now
        .checked_sub_signed(TimeDelta::days(i64::from(options.coverage_window_days)))
        .unwrap_or(DateTime::<Utc>::MIN_UTC);
    // An assessment after `now` had not happened at the reference time.
    let assessed = |entry: &AssetCoverage| {
        entry
            .last_assessed
            .is_some_and(|time| time >= window_start && time <= now)
    };

    let mut by_kind: BTreeMap<AssetKind, CoverageCount> = BTreeMap::new();
    let mut total = CoverageCount::default();
    let mut never_assessed = Vec::new();
    for entry in assets {
        let count = by_kind.entry(entry.asset.kind).or_default();
        count.assets += 1;
        total.assets += 1;
        if assessed(entry) {
            count.assessed += 1;
            total.assessed += 1;
        }
        if entry.last_assessed.is_none() {
            never_assessed.push(entry.asset.key.clone());
        }
    }
    never_assessed.sort();

    Coverage {
        window_days: options.coverage_window_days,
        window_start,
        total: with_share(total),
        by_kind: by_kind
            .into_iter()
            .map(|(kind, count)| KindCoverage {
                kind,
                count: with_share(count),
            })
            .collect(),
        never_assessed,
    }
}

fn with_share(mut count: CoverageCount) -> CoverageCount {
    count.share = (count.assets > 0).then(|| count.assessed as f64 / count.assets as f64);
    count
}
