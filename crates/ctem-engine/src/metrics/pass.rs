//! The one pass over the findings behind MTTD, MTTR, SLA compliance, the
//! backlog and the breakdown. Groups are arrays indexed by interned ids, so
//! a finding costs no hashing and no allocation beyond the growth of the
//! sample and breach vectors.

use chrono::{DateTime, Utc};
use ctem_model::{Criticality, LifecycleStatus, Severity, Tier};
use ctem_store::FindingFacts;

use super::lookup::{AssetLookup, ToolLookup};
use super::stats::DurationSample;
use super::trend::{RunFixes, Timeline};
use super::{
    AgeBuckets, Backlog, Breach, BreachState, Compliance, DataWarnings, DurationStats, GroupBy, GroupDuration,
    GroupMetrics, Groups, MetricsOptions, Mttr, SlaCompliance, TierBuckets,
};
use crate::sla::{MS_PER_DAY, SlaPolicy, SlaState, days_between, sla_state, tier_index};

/// The criticality groups, most critical first, with `None` (unclassified) last.
const CRITICALITIES: [Option<Criticality>; 5] = [
    Some(Criticality::CrownJewel),
    Some(Criticality::High),
    Some(Criticality::Medium),
    Some(Criticality::Low),
    None,
];

fn criticality_group(criticality: Option<Criticality>) -> usize {
    match criticality {
        Some(Criticality::CrownJewel) => 0,
        Some(Criticality::High) => 1,
        Some(Criticality::Medium) => 2,
        Some(Criticality::Low) => 3,
        None => 4,
    }
}

/// Returns the index of a severity in [`Severity::ALL`] (critical first).
fn severity_group(severity: Severity) -> usize {
    match severity {
        Severity::Critical => 0,
        Severity::High => 1,
        Severity::Medium => 2,
        Severity::Low => 3,
        Severity::Info => 4,
    }
}

/// Returns the age bucket of a finding first seen `age_ms` milliseconds
/// before now: 0-7, 8-30, 31-90, 91-180 or more than 180 whole days.
fn age_bucket(age_ms: i64) -> usize {
    let days = (age_ms as f64 / MS_PER_DAY).floor();
    match days {
        d if d <= 7.0 => 0,
        d if d <= 30.0 => 1,
        d if d <= 90.0 => 2,
        d if d <= 180.0 => 3,
        _ => 4,
    }
}

/// The figures of one group of the breakdown.
#[derive(Default)]
struct GroupTotals {
    open: u64,
    mttr: DurationSample,
    sla: Compliance,
}

/// The figures that the pass produces.
pub(crate) struct PassOutcome {
    pub(crate) mttd: DurationStats,
    pub(crate) mttr: Mttr,
    pub(crate) sla: SlaCompliance,
    pub(crate) backlog: Backlog,
    pub(crate) groups: Option<Groups>,
    /// By index into the timeline.
    pub(crate) fixes_by_run: Vec<RunFixes>,
    pub(crate) warnings: DataWarnings,
}

pub(crate) struct FindingPass<'a> {
    policy: &'a SlaPolicy,
    now: DateTime<Utc>,
    since: Option<DateTime<Utc>>,
    by: Option<GroupBy>,
    assets: &'a AssetLookup,
    tools: &'a ToolLookup,
    timeline: &'a Timeline<'a>,

    mttd: DurationSample,
    mttr: DurationSample,
    mttr_by_tier: [DurationSample; 4],
    mttr_by_severity: [DurationSample; 5],
    mttr_by_criticality: [DurationSample; 5],
    mttr_by_team: Vec<DurationSample>,
    compliance: Compliance,
    overdue: u64,
    fixed_late: u64,
    breaches: Vec<Breach>,
    /// By tier, then by age bucket.
    backlog: [[u64; 5]; 4],
    /// Indexed by the group id of [`FindingPass::by`].
    groups: Vec<GroupTotals>,
    /// By index into the timeline.
    fixes_by_run: Vec<RunFixes>,
    warnings: DataWarnings,
}

impl<'a> FindingPass<'a> {
    pub(crate) fn new(
        policy: &'a SlaPolicy,
        options: &MetricsOptions,
        assets: &'a AssetLookup,
        tools: &'a ToolLookup,
        timeline: &'a Timeline<'a>,
    ) -> FindingPass<'a> {
        let group_count = match options.by {
            None => 0,
            Some(GroupBy::Team) => assets.teams.len(),
            Some(GroupBy::Tier) => Tier::ALL.len(),
            Some(GroupBy::Severity) => Severity::ALL.len(),
            Some(GroupBy::Source) => tools.names.len(),
        };
        FindingPass {
            policy,
            now: options.now,
            since: options.since,
            by: options.by,
            assets,
            tools,
            timeline,
            mttd: DurationSample::default(),
            mttr: DurationSample::default(),
            mttr_by_tier: Default::default(),
            mttr_by_severity: Default::default(),
            mttr_by_criticality: Default::default(),
            mttr_by_team: (0..assets.teams.len()).map(|_| DurationSample::default()).collect(),
            compliance: Compliance::default(),
            overdue: 0,
            fixed_late: 0,
            breaches: Vec::new(),
            backlog: [[0; 5]; 4],
            groups: (0..group_count).map(|_| GroupTotals::default()).collect(),
            fixes_by_run: vec![RunFixes::default(); timeline.len()],
            warnings: DataWarnings::default(),
        }
    }

    /// Tells whether a time falls in the period: from `since` (or the
    /// beginning) to `now`, both included.
    fn in_period(&self, time: DateTime<Utc>) -> bool {
        time <= self.now && self.since.is_none_or(|since| time >= since)
    }

    pub(crate) fn add(&mut self, finding: &FindingFacts) {
        let first_seen = finding.first_seen;
        if first_seen > self.now {
            self.warnings.detected_after_now += 1;
            return;
        }

        let (team, criticality) = self.assets.get(finding.asset).unwrap_or_else(|| {
            self.warnings.unknown_asset_index += 1;
            (0, None)
        });
        let tools = self.tools.get(finding.tools).unwrap_or_else(|| {
            self.warnings.unknown_tool_set_index += 1;
            &[]
        });
        let tier = tier_index(finding.tier);
        let severity = severity_group(finding.severity);
        let single_group = [match self.by {
            Some(GroupBy::Team) => team,
            Some(GroupBy::Tier) => tier as u32,
            Some(GroupBy::Severity) => severity as u32,
            Some(GroupBy::Source) | None => 0,
        }];
        let groups: &[u32] = match self.by {
            None => &[],
            Some(GroupBy::Source) => tools,
            Some(_) => &single_group,
        };

        self.add_detection(finding);

        if finding.status.is_active() {
            let bucket = age_bucket((self.now - first_seen).num_milliseconds());
            self.backlog[tier][bucket] += 1;
            for &group in groups {
                self.groups[group as usize].open += 1;
            }
        }

        // Only a confirmation at or before `now` stops the clock: a later
        // one has not happened yet at the reference time.
        let verified_at = match finding.verified_at {
            Some(verified_at) if finding.status == LifecycleStatus::Fixed && verified_at <= self.now => {
                Some(verified_at)
            }
            _ => None,
        };
        if verified_at.is_some_and(|verified_at| verified_at < first_seen) {
            self.warnings.verified_before_detection += 1;
            return;
        }

        // A fix counts in MTTR when its confirmation falls in the period,
        // and in the days to fix of the run that confirmed it when that
        // run is in the period.
        if let Some(verified_at) = verified_at {
            let run = self.timeline.run_of_fix(verified_at);
            let in_period = self.in_period(verified_at);
            if run.is_some() || in_period {
                let days = days_between(first_seen, verified_at);
                if let Some(run) = run {
                    self.fixes_by_run[run].add(days);
                }
                if in_period {
                    self.mttr.push(days);
                    self.mttr_by_tier[tier].push(days);
                    self.mttr_by_severity[severity].push(days);
                    self.mttr_by_criticality[criticality_group(criticality)].push(days);
                    self.mttr_by_team[team as usize].push(days);
                    for &group in groups {
                        self.groups[group as usize].mttr.push(days);
                    }
                }
            }
        }

        self.add_sla(finding, criticality, verified_at, groups);
    }

    /// Adds the finding's detection delay to MTTD when it was detected in
    /// the period. False positives and findings that do not affect the
    /// asset were never exposures, so they have no detection delay.
    fn add_detection(&mut self, finding: &FindingFacts) {
        if matches!(
            finding.status,
            LifecycleStatus::FalsePositive | LifecycleStatus::NotAffected
        ) || !self.in_period(finding.first_seen)
        {
            return;
        }
        let Some(introduced_at) = finding.introduced_at else {
            return;
        };
        if introduced_at > finding.first_seen {
            self.warnings.introduced_after_detection += 1;
            return;
        }
        self.mttd.push(days_between(introduced_at, finding.first_seen));
    }

    /// Counts the finding in SLA compliance when its due date or its
    /// confirmed fix falls in the period, and lists it when it breaches.
    fn add_sla(
        &mut self,
        finding: &FindingFacts,
        criticality: Option<Criticality>,
        verified_at: Option<DateTime<Utc>>,
        groups: &[u32],
    ) {
        let due = self.policy.due_date(finding.tier, criticality, finding.first_seen);
        let state = sla_state(finding.status, verified_at, due, self.now);

        let (met, breach) = match state {
            SlaState::Exempt | SlaState::Running { .. } => return,
            SlaState::Overdue { due, days_overdue } => {
                self.overdue += 1;
                let state = if finding.status == LifecycleStatus::Fixed {
                    BreachState::Unverified
                } else {
                    BreachState::Overdue
                };
                (false, Some((state, due, days_overdue)))
            }
            SlaState::Met { .. } => (true, None),
            SlaState::Late {
                due,
                verified_at,
                days_overdue,
            } => {
                let late_in_period = self.in_period(verified_at);
                if late_in_period {
                    self.fixed_late += 1;
                }
                (
                    false,
                    late_in_period.then_some((BreachState::FixedLate, due, days_overdue)),
                )
            }
        };

        if let Some((state, due, days_overdue)) = breach {
            self.breaches.push(Breach {
                id: finding.id,
                tier: finding.tier,
                state,
                due,
                days_overdue,
            });
        }

        let counted = self.in_period(due) || verified_at.is_some_and(|verified_at| self.in_period(verified_at));
        if !counted {
            return;
        }
        let count = |compliance: &mut Compliance| {
            if met {
                compliance.met += 1;
            } else {
                compliance.missed += 1;
            }
        };
        count(&mut self.compliance);
        for &group in groups {
            count(&mut self.groups[group as usize].sla);
        }
    }

    pub(crate) fn finish(mut self) -> PassOutcome {
        let mttr = Mttr {
            overall: self.mttr.stats(),
            by_tier: named_stats(&mut self.mttr_by_tier, |index| Tier::ALL[index].to_string()),
            by_severity: named_stats(&mut self.mttr_by_severity, |index| Severity::ALL[index].to_string()),
            by_criticality: named_stats(&mut self.mttr_by_criticality, |index| {
                CRITICALITIES[index]
                    .map_or("unclassified", Criticality::as_str)
                    .to_string()
            }),
            by_team: team_stats(&mut self.mttr_by_team, &self.assets.teams),
        };

        // The most overdue first. The id breaks ties, so the order is stable.
        self.breaches
            .sort_unstable_by(|a, b| b.days_overdue.total_cmp(&a.days_overdue).then_with(|| a.id.cmp(&b.id)));
        let sla = SlaCompliance {
            compliance: self.compliance.with_share(),
            overdue: self.overdue,
            fixed_late: self.fixed_late,
            breaches: self.breaches,
        };

        let by_tier: Vec<TierBuckets> = Tier::ALL
            .iter()
            .zip(self.backlog)
            .map(|(&tier, counts)| TierBuckets {
                tier,
                buckets: AgeBuckets::from_counts(counts),
            })
            .collect();
        let mut total = [0u64; 5];
        for counts in &self.backlog {
            for (sum, count) in total.iter_mut().zip(counts) {
                *sum = sum.saturating_add(*count);
            }
        }
        let backlog = Backlog {
            total: AgeBuckets::from_counts(total),
            by_tier,
        };

        let groups = self.by.map(|by| Groups {
            by,
            groups: group_metrics(by, self.groups, self.assets, self.tools),
        });

        PassOutcome {
            mttd: self.mttd.stats(),
            mttr,
            sla,
            backlog,
            groups,
            fixes_by_run: self.fixes_by_run,
            warnings: self.warnings,
        }
    }
}

/// Statistics of a fixed list of groups, every group listed.
fn named_stats(samples: &mut [DurationSample], name: impl Fn(usize) -> String) -> Vec<GroupDuration> {
    samples
        .iter_mut()
        .enumerate()
        .map(|(index, sample)| GroupDuration {
            group: name(index),
            stats: sample.stats(),
        })
        .collect()
}

/// Statistics of the teams with at least one value, by team name.
fn team_stats(samples: &mut [DurationSample], teams: &[String]) -> Vec<GroupDuration> {
    let mut stats: Vec<GroupDuration> = samples
        .iter_mut()
        .zip(teams)
        .filter(|(sample, _)| sample.len() > 0)
        .map(|(sample, team)| GroupDuration {
            group: team.clone(),
            stats: sample.stats(),
        })
        .collect();
    stats.sort_by(|a, b| a.group.cmp(&b.group));
    stats
}

/// Builds the breakdown's rows. Every tier and severity is listed, in
/// order. Teams and sources are listed by name, and only when they have an
/// open finding, a confirmed fix or an SLA outcome.
fn group_metrics(by: GroupBy, totals: Vec<GroupTotals>, assets: &AssetLookup, tools: &ToolLookup) -> Vec<GroupMetrics> {
    let name = |index: usize| -> String {
        match by {
            GroupBy::Team => assets.teams[index].clone(),
            GroupBy::Tier => Tier::ALL[index].to_string(),
            GroupBy::Severity => Severity::ALL[index].to_string(),
            GroupBy::Source => tools.names[index].clone(),
        }
    };
    let list_all = matches!(by, GroupBy::Tier | GroupBy::Severity);
    let mut rows: Vec<GroupMetrics> = totals
        .into_iter()
        .enumerate()
        .filter(|(_, totals)| {
            list_all || totals.open > 0 || totals.mttr.len() > 0 || totals.sla != Compliance::default()
        })
        .map(|(index, mut totals)| GroupMetrics {
            group: name(index),
            open: totals.open,
            mttr: totals.mttr.stats(),
            sla: totals.sla.with_share(),
        })
        .collect();
    if !list_all {
        rows.sort_by(|a, b| a.group.cmp(&b.group));
    }
    rows
}
