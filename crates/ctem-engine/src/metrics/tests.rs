//! The metrics on a scenario whose every figure is computed by hand below,
//! then on empty and hostile inputs.

use chrono::{DateTime, TimeZone, Utc};
use ctem_model::{Asset, AssetKey, AssetKind, Criticality, FindingKind, LifecycleStatus, Severity, Tier};
use ctem_store::{AssetCoverage, FactTable, FindingFacts, RunStats, RunSummary};

use super::*;
use crate::config::Config;

fn at(year: i32, month: u32, day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(year, month, day, hour, 0, 0).unwrap()
}

/// Midnight UTC of a day in 2026.
fn day(month: u32, day: u32) -> DateTime<Utc> {
    at(2026, month, day, 0)
}

fn asset(
    kind: AssetKind,
    identifier: &str,
    owner: Option<&str>,
    criticality: Option<Criticality>,
    last_assessed: Option<DateTime<Utc>>,
) -> AssetCoverage {
    let mut asset = Asset::new(kind, identifier, identifier);
    asset.owner = owner.map(str::to_string);
    asset.criticality = criticality;
    AssetCoverage {
        asset,
        first_seen: day(1, 1),
        last_assessed,
    }
}

/// Builds a finding's facts. The fields that the metrics do not read get
/// fixed values.
#[allow(clippy::too_many_arguments)]
fn fact(
    id: i64,
    asset: u32,
    tools: u32,
    severity: Severity,
    tier: Tier,
    status: LifecycleStatus,
    first_seen: DateTime<Utc>,
    introduced_at: Option<DateTime<Utc>>,
    verified_at: Option<DateTime<Utc>>,
) -> FindingFacts {
    FindingFacts {
        id,
        asset,
        tools,
        kind: FindingKind::Vulnerability,
        severity,
        tier,
        score: 50.0,
        status,
        first_seen,
        last_seen: first_seen,
        introduced_at,
        fixed_at: verified_at,
        verified_at,
        validation: None,
        accepted_until: None,
    }
}

fn run(run_id: i64, observed_at: DateTime<Utc>, open_by_tier: [u64; 4], risk_by_tier: [f64; 4]) -> RunStats {
    RunStats {
        run_id,
        observed_at,
        summary: RunSummary {
            run_id,
            observed_at,
            seen: 0,
            new: 0,
            still_open: 0,
            reopened: 0,
            fixed: 0,
        },
        open_by_tier,
        risk_by_tier,
        crown_jewel_open: 0,
        crown_jewel_risk: 0.0,
        accepted: 0,
    }
}

/// The scenario. The reference time is 2026-12-01T00:00Z and the period
/// starts 2026-11-01T00:00Z. The SLA is the default (P1 7, P2 30, P3 90,
/// P4 180 days) except P1 on crown jewels, 3 days.
///
/// The assets follow. Each line gives the fact table index, the key, the
/// kind, the owner, the criticality and the last assessment:
///   (1) host:10.0.0.1          host, web-team, crown_jewel, Nov 30
///   (0) container_image:shop:1 image, payments-team, high, Oct 15
///   (2) host:10.0.0.2          host, no owner, unclassified, never
///   (3) repository:acme/api    repository, web-team, low, Nov 1 00:00
///   (4) host:10.9.9.9          missing from the coverage list
/// Tool sets: 0 [trivy], 1 [grype, trivy], 2 [nessus].
///
/// Findings (all dates 2026 at 00:00 unless said):
///   id asset tools sev  tier status   first  introduced verified  due
///   1  1     1     crit P1   fixed    Nov 2  Oct 31     Nov 4     Nov 5 (3 d)
///   2  0     0     high P1   fixed    Nov 3  Nov 1      Nov 15    Nov 10
///   3  2     2     med  P2   open     Oct 1  Sep 1      -         Oct 31
///   4  3     0     low  P4   new      Nov 25 12:00 -    -         2027
///   5  0     1     crit P1   reopened Nov 20 Nov 10     (Nov 22)  Nov 27
///   6  1     0     high P2   accepted Aug 1  -          -         exempt
///   7  2     2     med  P3   false p. Nov 5  Nov 1      -         exempt
///   8  3     0     med  P3   fixed    Jul 1  -          -         Sep 29
///   9  4     1     high P2   fixed    Oct 20 Oct 10     Nov 10    Nov 19
///   10 0     0     low  P4   fixed    Apr 1  -          Oct 15    Sep 28
///   11 1     2     crit P1   open     Nov 29 Nov 28     -         Dec 2 (3 d)
///   12 1     0     high P1   new      Dec 5  -          -         (after now)
///   13 3     1     high P2   fixed    Nov 10 Nov 10     Nov 26    Dec 10
///   14 2     2     low  P3   fixed    Aug 20 -          Oct 25    Nov 18
/// Finding 5's verification belongs to a fix that did not hold (it is
/// reopened), and finding 8 was marked fixed without a confirming run.
fn scenario() -> (FactTable, Vec<RunStats>, Vec<AssetCoverage>, SlaPolicy, MetricsOptions) {
    use LifecycleStatus::*;
    use Severity::{Critical, High, Low, Medium};
    use Tier::*;

    let coverage = vec![
        asset(
            AssetKind::Host,
            "10.0.0.1",
            Some("web-team"),
            Some(Criticality::CrownJewel),
            Some(day(11, 30)),
        ),
        asset(
            AssetKind::ContainerImage,
            "shop:1",
            Some("payments-team"),
            Some(Criticality::High),
            Some(day(10, 15)),
        ),
        asset(AssetKind::Host, "10.0.0.2", None, None, None),
        asset(
            AssetKind::Repository,
            "acme/api",
            Some("web-team"),
            Some(Criticality::Low),
            Some(day(11, 1)),
        ),
    ];
    let facts = FactTable {
        assets: vec![
            AssetKey::new(AssetKind::ContainerImage, "shop:1"),
            AssetKey::new(AssetKind::Host, "10.0.0.1"),
            AssetKey::new(AssetKind::Host, "10.0.0.2"),
            AssetKey::new(AssetKind::Repository, "acme/api"),
            AssetKey::new(AssetKind::Host, "10.9.9.9"),
        ],
        tool_sets: vec![
            vec!["trivy".into()],
            vec!["grype".into(), "trivy".into()],
            vec!["nessus".into()],
        ],
        findings: vec![
            fact(
                1,
                1,
                1,
                Critical,
                P1,
                Fixed,
                day(11, 2),
                Some(day(10, 31)),
                Some(day(11, 4)),
            ),
            fact(
                2,
                0,
                0,
                High,
                P1,
                Fixed,
                day(11, 3),
                Some(day(11, 1)),
                Some(day(11, 15)),
            ),
            fact(3, 2, 2, Medium, P2, Open, day(10, 1), Some(day(9, 1)), None),
            fact(4, 3, 0, Low, P4, New, at(2026, 11, 25, 12), None, None),
            fact(
                5,
                0,
                1,
                Critical,
                P1,
                Reopened,
                day(11, 20),
                Some(day(11, 10)),
                Some(day(11, 22)),
            ),
            fact(6, 1, 0, High, P2, RiskAccepted, day(8, 1), None, None),
            fact(7, 2, 2, Medium, P3, FalsePositive, day(11, 5), Some(day(11, 1)), None),
            fact(8, 3, 0, Medium, P3, Fixed, day(7, 1), None, None),
            fact(
                9,
                4,
                1,
                High,
                P2,
                Fixed,
                day(10, 20),
                Some(day(10, 10)),
                Some(day(11, 10)),
            ),
            fact(10, 0, 0, Low, P4, Fixed, day(4, 1), None, Some(day(10, 15))),
            fact(11, 1, 2, Critical, P1, Open, day(11, 29), Some(day(11, 28)), None),
            fact(12, 1, 0, High, P1, New, day(12, 5), None, None),
            fact(
                13,
                3,
                1,
                High,
                P2,
                Fixed,
                day(11, 10),
                Some(day(11, 10)),
                Some(day(11, 26)),
            ),
            fact(14, 2, 2, Low, P3, Fixed, day(8, 20), None, Some(day(10, 25))),
        ],
    };

    // Given out of order; runs 1 (before the period) and 4 (after now) are
    // left out.
    let mut second = run(2, day(11, 15), [2, 1, 0, 1], [150.0, 50.0, 0.0, 10.0]);
    second.summary.new = 3;
    second.summary.fixed = 1;
    second.accepted = 1;
    second.crown_jewel_open = 1;
    second.crown_jewel_risk = 70.0;
    let mut third = run(3, day(11, 30), [2, 1, 0, 1], [140.0, 45.5, 0.0, 9.5]);
    third.summary.new = 1;
    third.summary.reopened = 1;
    third.summary.fixed = 2;
    third.accepted = 1;
    third.crown_jewel_open = 1;
    third.crown_jewel_risk = 65.0;
    let runs = vec![
        third,
        run(1, day(10, 15), [9, 9, 9, 9], [1.0; 4]),
        second,
        run(4, day(12, 2), [9, 9, 9, 9], [1.0; 4]),
    ];

    let policy = Config::parse("[sla.criticality.crown_jewel]\nP1 = 3\n")
        .unwrap()
        .sla
        .policy();
    let options = MetricsOptions {
        now: day(12, 1),
        since: Some(day(11, 1)),
        by: None,
        coverage_window_days: 30,
    };
    (facts, runs, coverage, policy, options)
}

fn scenario_metrics(by: Option<GroupBy>) -> Metrics {
    let (facts, runs, coverage, policy, mut options) = scenario();
    options.by = by;
    compute(&facts, &runs, &coverage, &policy, &options)
}

fn stats(count: u64, mean: f64, median: f64) -> DurationStats {
    DurationStats {
        count,
        mean_days: Some(mean),
        median_days: Some(median),
    }
}

fn compliance(met: u64, missed: u64, share: Option<f64>) -> Compliance {
    Compliance { met, missed, share }
}

#[test]
fn scenario_coverage() {
    // The window starts Nov 1 00:00, inclusive. Assessed in it: 10.0.0.1
    // (Nov 30) and acme/api (exactly Nov 1); not the image (Oct 15) nor
    // 10.0.0.2 (never).
    let coverage = scenario_metrics(None).coverage;
    assert_eq!(coverage.window_start, day(11, 1));
    assert_eq!(
        coverage.total,
        CoverageCount {
            assets: 4,
            assessed: 2,
            share: Some(0.5)
        }
    );
    let by_kind: Vec<(AssetKind, u64, u64, Option<f64>)> = coverage
        .by_kind
        .iter()
        .map(|kind| (kind.kind, kind.count.assets, kind.count.assessed, kind.count.share))
        .collect();
    assert_eq!(
        by_kind,
        vec![
            (AssetKind::Host, 2, 1, Some(0.5)),
            (AssetKind::ContainerImage, 1, 0, Some(0.0)),
            (AssetKind::Repository, 1, 1, Some(1.0)),
        ]
    );
    assert_eq!(
        coverage.never_assessed,
        vec![AssetKey::new(AssetKind::Host, "10.0.0.2")]
    );
}

#[test]
fn scenario_mttd() {
    // Detected in the period with an introduction time, not a false
    // positive: 1 (2 days), 2 (2), 5 (10), 11 (1), 13 (0). Finding 4 has no
    // introduction time, 7 is a false positive, 3, 9 and 14 were detected
    // before Nov 1, 12 after now. Sorted 0, 1, 2, 2, 10: mean 15 / 5 = 3,
    // median 2.
    assert_eq!(scenario_metrics(None).mttd, stats(5, 3.0, 2.0));
}

#[test]
fn scenario_mttr() {
    // Confirmed fixed in the period: 1 (Nov 2 to Nov 4: 2 days), 2 (12),
    // 9 (21), 13 (16). Finding 10 and 14 were confirmed before Nov 1, 8
    // never, and 5 is reopened. Sorted 2, 12, 16, 21: mean 51 / 4 = 12.75,
    // median (12 + 16) / 2 = 14.
    let mttr = scenario_metrics(None).mttr;
    assert_eq!(mttr.overall, stats(4, 12.75, 14.0));

    let by = |groups: &[GroupDuration]| -> Vec<(String, DurationStats)> {
        groups.iter().map(|g| (g.group.clone(), g.stats)).collect()
    };
    let none = DurationStats::default();
    assert_eq!(
        by(&mttr.by_tier),
        vec![
            ("P1".into(), stats(2, 7.0, 7.0)),
            ("P2".into(), stats(2, 18.5, 18.5)),
            ("P3".into(), none),
            ("P4".into(), none),
        ]
    );
    // High: 12, 21, 16: mean 49 / 3, median 16.
    assert_eq!(
        by(&mttr.by_severity),
        vec![
            ("critical".into(), stats(1, 2.0, 2.0)),
            ("high".into(), stats(3, 49.0 / 3.0, 16.0)),
            ("medium".into(), none),
            ("low".into(), none),
            ("info".into(), none),
        ]
    );
    // Finding 9's asset is missing from the coverage list: unclassified.
    assert_eq!(
        by(&mttr.by_criticality),
        vec![
            ("crown_jewel".into(), stats(1, 2.0, 2.0)),
            ("high".into(), stats(1, 12.0, 12.0)),
            ("medium".into(), none),
            ("low".into(), stats(1, 16.0, 16.0)),
            ("unclassified".into(), stats(1, 21.0, 21.0)),
        ]
    );
    assert_eq!(
        by(&mttr.by_team),
        vec![
            ("payments-team".into(), stats(1, 12.0, 12.0)),
            ("unowned".into(), stats(1, 21.0, 21.0)),
            ("web-team".into(), stats(2, 9.0, 9.0)),
        ]
    );
}

#[test]
fn scenario_sla() {
    // Counted (due or confirmed fixed in the period):
    //   met: 1 (confirmed Nov 4, due Nov 5), 9 (Nov 10, due Nov 19),
    //        13 (confirmed Nov 26, due Dec 10), 14 (due Nov 18, confirmed
    //        Oct 25, before the period);
    //   missed: 2 (confirmed Nov 15, due Nov 10), 5 (reopened, due Nov 27).
    // Not counted: 3 and 8 (due before Nov 1), 10 (due and confirmed
    // before Nov 1), 4 and 11 (not due yet), 6 and 7 (exempt).
    let sla = scenario_metrics(None).sla;
    assert_eq!(sla.compliance, compliance(4, 2, Some(4.0 / 6.0)));
    assert_eq!(sla.overdue, 3);
    assert_eq!(sla.fixed_late, 1);

    // Overdue at Dec 1: 8 (due Sep 29, 63 days, marked fixed without a
    // confirming run), 3 (due Oct 31, 31 days), 5 (due Nov 27, 4 days).
    // Fixed late in the period: 2 (5 days). Finding 10 was late too, but
    // before the period.
    let breaches: Vec<(i64, BreachState, Tier, DateTime<Utc>, f64)> = sla
        .breaches
        .iter()
        .map(|b| (b.id, b.state, b.tier, b.due, b.days_overdue))
        .collect();
    assert_eq!(
        breaches,
        vec![
            (8, BreachState::Unverified, Tier::P3, day(9, 29), 63.0),
            (3, BreachState::Overdue, Tier::P2, day(10, 31), 31.0),
            (2, BreachState::FixedLate, Tier::P1, day(11, 10), 5.0),
            (5, BreachState::Overdue, Tier::P1, day(11, 27), 4.0),
        ]
    );
}

#[test]
fn scenario_backlog() {
    // Active at Dec 1: 3 (P2, 61 days), 4 (P4, 5.5 days: bucket 0-7),
    // 5 (P1, 11 days), 11 (P1, 2 days). Finding 12 is after now.
    let backlog = scenario_metrics(None).backlog;
    let rows: Vec<(Tier, [u64; 5], u64)> = backlog
        .by_tier
        .iter()
        .map(|row| (row.tier, row.buckets.counts(), row.buckets.total))
        .collect();
    assert_eq!(
        rows,
        vec![
            (Tier::P1, [1, 1, 0, 0, 0], 2),
            (Tier::P2, [0, 0, 1, 0, 0], 1),
            (Tier::P3, [0, 0, 0, 0, 0], 0),
            (Tier::P4, [1, 0, 0, 0, 0], 1),
        ]
    );
    assert_eq!(backlog.total.counts(), [2, 1, 1, 0, 0]);
    assert_eq!(backlog.total.total, 4);
}

#[test]
fn scenario_runs() {
    let runs = scenario_metrics(None).runs;
    let ids: Vec<i64> = runs.iter().map(|run| run.run_id).collect();
    assert_eq!(ids, vec![2, 3]);

    let second = &runs[0];
    assert_eq!(second.open, 4);
    assert_eq!((second.new, second.reopened, second.fixed), (3, 0, 1));
    assert_eq!(second.risk, Some(210.0));
    assert_eq!(second.crown_jewel_risk, Some(70.0));

    let third = &runs[1];
    assert_eq!(third.open, 4);
    assert_eq!((third.new, third.reopened, third.fixed), (1, 1, 2));
    assert_eq!(third.risk, Some(195.0));
    assert_eq!((third.crown_jewel_open, third.crown_jewel_risk), (1, Some(65.0)));
    assert_eq!(third.accepted, 1);
}

#[test]
fn scenario_run_mttr() {
    // A run confirms the fixes whose `verified_at` falls after the run
    // before it and at or before its own observation. Run 1 (Oct 15) is
    // before the period but still bounds run 2:
    //   run 2 (Oct 15 < verified <= Nov 15): 14 (Aug 20 to Oct 25: 66
    //     days, confirmed before the period but by this run's interval),
    //     1 (2), 9 (21) and 2 (confirmed exactly Nov 15: 12). Mean
    //     (66 + 2 + 21 + 12) / 4 = 25.25.
    //   run 3 (Nov 15 < verified <= Nov 30): 13 (16 days).
    // Finding 10 (confirmed Oct 15) belongs to run 1, 5 is reopened and 8
    // has no confirmation.
    let runs = scenario_metrics(None).runs;
    let per_run: Vec<(i64, u64, Option<f64>)> = runs
        .iter()
        .map(|run| (run.run_id, run.verified, run.mttr_days))
        .collect();
    assert_eq!(per_run, vec![(2, 4, Some(25.25)), (3, 1, Some(16.0))]);
}

#[test]
fn scenario_run_mttr_without_since() {
    // Run 1 takes finding 10: Apr 1 to Oct 15, 197 days.
    let (facts, runs, coverage, policy, mut options) = scenario();
    options.since = None;
    let metrics = compute(&facts, &runs, &coverage, &policy, &options);
    let per_run: Vec<(i64, u64, Option<f64>)> = metrics
        .runs
        .iter()
        .map(|run| (run.run_id, run.verified, run.mttr_days))
        .collect();
    assert_eq!(
        per_run,
        vec![(1, 1, Some(197.0)), (2, 4, Some(25.25)), (3, 1, Some(16.0))]
    );
}

#[test]
fn run_mttr_assigns_each_fix_once() {
    use LifecycleStatus::{Fixed, Open};
    // Runs at Nov 10, twice at Nov 20 (ids 2 and 3) and Nov 25. Fixes
    // confirmed: Nov 10 (run 1), Nov 15 and Nov 20 (run 2, the lower id
    // of the two runs at Nov 20), Nov 28 (after every run: no run).
    let first_seen = day(11, 1);
    let fixed = |id: i64, verified: DateTime<Utc>| {
        fact(
            id,
            0,
            0,
            Severity::High,
            Tier::P1,
            Fixed,
            first_seen,
            None,
            Some(verified),
        )
    };
    let mut table = single(fixed(1, day(11, 10)));
    table.findings = vec![
        fixed(1, day(11, 10)),
        fixed(2, day(11, 15)),
        fixed(3, day(11, 20)),
        fixed(4, day(11, 28)),
        fact(5, 0, 0, Severity::High, Tier::P1, Open, first_seen, None, None),
    ];
    let runs = vec![
        run(4, day(11, 25), [0; 4], [0.0; 4]),
        run(3, day(11, 20), [0; 4], [0.0; 4]),
        run(2, day(11, 20), [0; 4], [0.0; 4]),
        run(1, day(11, 10), [0; 4], [0.0; 4]),
    ];
    let metrics = compute(
        &table,
        &runs,
        &[],
        &SlaPolicy::default(),
        &MetricsOptions::new(day(12, 1)),
    );

    let per_run: Vec<(i64, u64, Option<f64>)> = metrics
        .runs
        .iter()
        .map(|run| (run.run_id, run.verified, run.mttr_days))
        .collect();
    assert_eq!(
        per_run,
        vec![
            (1, 1, Some(9.0)),
            (2, 2, Some((14.0 + 19.0) / 2.0)),
            (3, 0, None),
            (4, 0, None)
        ]
    );
    assert_eq!(metrics.mttr.overall.count, 4, "every fix still counts in MTTR");
}

#[test]
fn scenario_warnings() {
    // Finding 12 is first seen Dec 5, after now; finding 9's asset is not
    // in the coverage list, which is no error.
    let expected = DataWarnings {
        detected_after_now: 1,
        ..DataWarnings::default()
    };
    assert_eq!(scenario_metrics(None).warnings, expected);
}

/// Returns (group, open, MTTR, SLA) per row of a breakdown.
fn rows(metrics: &Metrics) -> Vec<(String, u64, DurationStats, Compliance)> {
    let groups = metrics.groups.as_ref().expect("a breakdown was requested");
    groups
        .groups
        .iter()
        .map(|g| (g.group.clone(), g.open, g.mttr, g.sla))
        .collect()
}

#[test]
fn scenario_by_team() {
    // payments-team: open 5; fixed 2 (12 days); SLA 2 and 5 missed.
    // unowned: open 3; fixed 9 (21 days); SLA 9 and 14 met.
    // web-team: open 4 and 11; fixed 1 (2) and 13 (16); SLA 1 and 13 met.
    assert_eq!(
        rows(&scenario_metrics(Some(GroupBy::Team))),
        vec![
            (
                "payments-team".into(),
                1,
                stats(1, 12.0, 12.0),
                compliance(0, 2, Some(0.0))
            ),
            ("unowned".into(), 1, stats(1, 21.0, 21.0), compliance(2, 0, Some(1.0))),
            ("web-team".into(), 2, stats(2, 9.0, 9.0), compliance(2, 0, Some(1.0))),
        ]
    );
}

#[test]
fn scenario_by_source() {
    // A finding of tool set [grype, trivy] counts for both tools.
    // grype: 1, 5, 9, 13. Open 5; fixed 1 (2), 9 (21), 13 (16): mean 13,
    //   median 16; SLA 1, 9, 13 met, 5 missed.
    // nessus: 3, 7, 11, 14. Open 3 and 11; no fix in the period; SLA 14 met.
    // trivy: 1, 2, 4, 5, 6, 8, 9, 10, 13. Open 4 and 5; fixed 1, 2, 9, 13
    //   as overall; SLA 1, 9, 13 met, 2 and 5 missed.
    assert_eq!(
        rows(&scenario_metrics(Some(GroupBy::Source))),
        vec![
            ("grype".into(), 1, stats(3, 13.0, 16.0), compliance(3, 1, Some(0.75))),
            (
                "nessus".into(),
                2,
                DurationStats::default(),
                compliance(1, 0, Some(1.0))
            ),
            ("trivy".into(), 2, stats(4, 12.75, 14.0), compliance(3, 2, Some(0.6))),
        ]
    );
}

#[test]
fn scenario_by_tier() {
    // P1: open 5, 11; fixed 1 (2), 2 (12); SLA 1 met, 2 and 5 missed.
    // P2: open 3; fixed 9 (21), 13 (16); SLA 9, 13 met.
    // P3: SLA 14 met. P4: open 4, nothing else.
    assert_eq!(
        rows(&scenario_metrics(Some(GroupBy::Tier))),
        vec![
            ("P1".into(), 2, stats(2, 7.0, 7.0), compliance(1, 2, Some(1.0 / 3.0))),
            ("P2".into(), 1, stats(2, 18.5, 18.5), compliance(2, 0, Some(1.0))),
            ("P3".into(), 0, DurationStats::default(), compliance(1, 0, Some(1.0))),
            ("P4".into(), 1, DurationStats::default(), compliance(0, 0, None)),
        ]
    );
}

#[test]
fn scenario_by_severity() {
    // critical: open 5, 11; fixed 1 (2); SLA 1 met, 5 missed.
    // high: fixed 2 (12), 9 (21), 13 (16); SLA 9, 13 met, 2 missed.
    // medium: open 3. low: open 4; SLA 14 met.
    assert_eq!(
        rows(&scenario_metrics(Some(GroupBy::Severity))),
        vec![
            ("critical".into(), 2, stats(1, 2.0, 2.0), compliance(1, 1, Some(0.5))),
            (
                "high".into(),
                0,
                stats(3, 49.0 / 3.0, 16.0),
                compliance(2, 1, Some(2.0 / 3.0))
            ),
            ("medium".into(), 1, DurationStats::default(), compliance(0, 0, None)),
            ("low".into(), 1, DurationStats::default(), compliance(1, 0, Some(1.0))),
            ("info".into(), 0, DurationStats::default(), compliance(0, 0, None)),
        ]
    );
}

#[test]
fn scenario_without_since_counts_all_history() {
    // Without a start, finding 10 (confirmed Oct 15, 197 days after Apr 1,
    // late) and 14 (confirmed Oct 25, 66 days) join MTTR, and 3 and 8 (due
    // Oct 31 and Sep 29) join the missed SLAs.
    let (facts, runs, coverage, policy, mut options) = scenario();
    options.since = None;
    let metrics = compute(&facts, &runs, &coverage, &policy, &options);

    // 2, 12, 16, 21, 66, 197: mean 314 / 6, median (16 + 21) / 2.
    assert_eq!(metrics.mttr.overall, stats(6, 314.0 / 6.0, 18.5));
    // Met 1, 9, 13, 14; missed 2, 3, 5, 8, 10.
    assert_eq!(metrics.sla.compliance, compliance(4, 5, Some(4.0 / 9.0)));
    assert_eq!(metrics.sla.fixed_late, 2);
    assert_eq!(metrics.runs.len(), 3);
    // MTTD adds 3 (Sep 1 to Oct 1: 30 days) and 9 (10 days): 0, 1, 2, 2,
    // 10, 10, 30.
    assert_eq!(metrics.mttd, stats(7, 55.0 / 7.0, 2.0));
}

#[test]
fn scenario_serializes_nulls() {
    let json = serde_json::to_value(scenario_metrics(Some(GroupBy::Tier))).unwrap();
    assert_eq!(json["mttr"]["by_tier"][2]["group"], "P3");
    assert!(json["mttr"]["by_tier"][2]["mean_days"].is_null());
    assert_eq!(json["mttr"]["overall"]["median_days"], 14.0);
    assert_eq!(json["sla"]["met"], 4);
    assert_eq!(json["sla"]["breaches"][0]["state"], "unverified");
    assert_eq!(json["backlog"]["total"]["days_0_to_7"], 2);
    assert_eq!(json["groups"]["by"], "tier");
    assert!(json["groups"]["groups"][3]["sla"]["share"].is_null());
    assert_eq!(json["coverage"]["by_kind"][0]["kind"], "host");
    assert_eq!(json["coverage"]["by_kind"][0]["assessed"], 1);
}

#[test]
fn empty_inputs_give_nulls() {
    let now = day(12, 1);
    let options = MetricsOptions {
        by: Some(GroupBy::Tier),
        ..MetricsOptions::new(now)
    };
    let metrics = compute(&FactTable::default(), &[], &[], &SlaPolicy::default(), &options);

    assert_eq!(metrics.mttd, DurationStats::default());
    assert_eq!(metrics.mttr.overall, DurationStats::default());
    assert!(metrics.mttr.by_team.is_empty());
    assert_eq!(metrics.mttr.by_tier.len(), 4);
    assert_eq!(metrics.sla.compliance.share, None);
    assert!(metrics.sla.breaches.is_empty());
    assert_eq!(metrics.backlog.total, AgeBuckets::default());
    assert_eq!(metrics.coverage.total.share, None);
    assert!(metrics.coverage.by_kind.is_empty());
    assert!(metrics.runs.is_empty());
    assert_eq!(rows(&metrics).len(), 4);
    assert_eq!(metrics.warnings, DataWarnings::default());

    let by_team = MetricsOptions {
        by: Some(GroupBy::Team),
        ..MetricsOptions::new(now)
    };
    let metrics = compute(&FactTable::default(), &[], &[], &SlaPolicy::default(), &by_team);
    assert!(rows(&metrics).is_empty());
}

#[test]
fn since_after_now_empties_period() {
    let (facts, runs, coverage, policy, mut options) = scenario();
    options.since = Some(day(12, 2));
    let metrics = compute(&facts, &runs, &coverage, &policy, &options);
    assert_eq!(metrics.mttd.count, 0);
    assert_eq!(metrics.mttr.overall.count, 0);
    assert_eq!(metrics.sla.compliance, compliance(0, 0, None));
    assert!(metrics.runs.is_empty());
    // The backlog and the overdue findings are measured at now.
    assert_eq!(metrics.backlog.total.total, 4);
    assert_eq!(metrics.sla.overdue, 3);
}

/// Builds a table of one finding on asset 0 (unowned) with tool set 0
/// (trivy).
fn single(finding: FindingFacts) -> FactTable {
    FactTable {
        assets: vec![AssetKey::new(AssetKind::Host, "10.0.0.1")],
        tool_sets: vec![vec!["trivy".into()]],
        findings: vec![finding],
    }
}

fn compute_single(finding: FindingFacts) -> Metrics {
    let options = MetricsOptions {
        by: Some(GroupBy::Source),
        ..MetricsOptions::new(day(12, 1))
    };
    compute(&single(finding), &[], &[], &SlaPolicy::default(), &options)
}

#[test]
fn verified_before_detection_is_left_out() {
    use LifecycleStatus::Fixed;
    let finding = fact(
        1,
        0,
        0,
        Severity::High,
        Tier::P1,
        Fixed,
        day(11, 20),
        None,
        Some(day(11, 10)),
    );
    let metrics = compute_single(finding);
    assert_eq!(metrics.mttr.overall.count, 0);
    assert_eq!(metrics.sla.compliance, compliance(0, 0, None));
    assert!(metrics.sla.breaches.is_empty());
    assert_eq!(metrics.warnings.verified_before_detection, 1);
}

#[test]
fn fixed_before_detection_changes_nothing() {
    use LifecycleStatus::Fixed;
    let finding = fact(
        1,
        0,
        0,
        Severity::High,
        Tier::P1,
        Fixed,
        day(11, 20),
        None,
        Some(day(11, 22)),
    );
    let expected = compute_single(finding.clone());

    let mut hostile = finding;
    hostile.fixed_at = Some(day(1, 1));
    let metrics = compute_single(hostile);
    assert_eq!(metrics, expected);
    assert_eq!(metrics.mttr.overall, stats(1, 2.0, 2.0));
}

#[test]
fn introduced_after_detection_is_left_out() {
    use LifecycleStatus::Open;
    let finding = fact(
        1,
        0,
        0,
        Severity::High,
        Tier::P1,
        Open,
        day(11, 20),
        Some(day(11, 25)),
        None,
    );
    let metrics = compute_single(finding);
    assert_eq!(metrics.mttd.count, 0);
    assert_eq!(metrics.warnings.introduced_after_detection, 1);
}

#[test]
fn verification_after_now_is_ignored() {
    // At Nov 30 the fix of Dec 5 had not happened: the finding is overdue
    // (first seen Nov 1, P1 due Nov 8) and there is no MTTR yet.
    use LifecycleStatus::Fixed;
    let finding = fact(
        1,
        0,
        0,
        Severity::High,
        Tier::P1,
        Fixed,
        day(11, 1),
        None,
        Some(day(12, 5)),
    );
    let options = MetricsOptions::new(day(11, 30));
    let metrics = compute(&single(finding), &[], &[], &SlaPolicy::default(), &options);
    assert_eq!(metrics.mttr.overall.count, 0);
    assert_eq!(metrics.sla.breaches.len(), 1);
    assert_eq!(metrics.sla.breaches[0].state, BreachState::Unverified);
    assert_eq!(metrics.sla.breaches[0].days_overdue, 22.0);
}

#[test]
fn nan_finding_score_changes_nothing() {
    use LifecycleStatus::Open;
    let finding = fact(1, 0, 0, Severity::High, Tier::P1, Open, day(11, 1), None, None);
    let expected = compute_single(finding.clone());
    let mut hostile = finding;
    hostile.score = f64::NAN;
    assert_eq!(compute_single(hostile), expected);
}

#[test]
fn non_finite_run_risk_is_null() {
    let runs = vec![
        run(1, day(11, 1), [1, 0, 0, 0], [f64::NAN, 0.0, 0.0, 0.0]),
        run(
            2,
            day(11, 2),
            [1, 0, 0, 0],
            [f64::INFINITY, f64::NEG_INFINITY, 0.0, 0.0],
        ),
        run(3, day(11, 3), [1, 0, 0, 0], [10.0, 0.0, 0.0, 0.0]),
    ];
    let metrics = compute(
        &FactTable::default(),
        &runs,
        &[],
        &SlaPolicy::default(),
        &MetricsOptions::new(day(12, 1)),
    );
    let risks: Vec<Option<f64>> = metrics.runs.iter().map(|run| run.risk).collect();
    assert_eq!(risks, vec![None, None, Some(10.0)]);
    assert_eq!(metrics.warnings.non_finite_run_risk, 2);
    let json = serde_json::to_value(&metrics).unwrap();
    assert!(json["runs"][0]["risk"].is_null());
}

#[test]
fn huge_run_counts_saturate() {
    let mut huge = run(1, day(11, 1), [u64::MAX; 4], [f64::MAX, f64::MAX, 0.0, 0.0]);
    huge.summary.new = u64::MAX;
    let metrics = compute(
        &FactTable::default(),
        &[huge],
        &[],
        &SlaPolicy::default(),
        &MetricsOptions::new(day(12, 1)),
    );
    assert_eq!(metrics.runs[0].open, u64::MAX);
    assert_eq!(metrics.runs[0].new, u64::MAX);
    // f64::MAX + f64::MAX is infinite.
    assert_eq!(metrics.runs[0].risk, None);
}

#[test]
fn unknown_indexes_are_counted() {
    use LifecycleStatus::Open;
    let finding = fact(1, 7, 9, Severity::High, Tier::P1, Open, day(11, 1), None, None);
    let metrics = compute_single(finding);
    assert_eq!(metrics.warnings.unknown_asset_index, 1);
    assert_eq!(metrics.warnings.unknown_tool_set_index, 1);
    assert_eq!(metrics.backlog.total.total, 1);
    assert!(
        rows(&metrics).is_empty(),
        "a finding without tools is in no source group"
    );
}

#[test]
fn extreme_times_do_not_panic() {
    use LifecycleStatus::{Fixed, Open};
    let min = DateTime::<Utc>::MIN_UTC;
    let max = DateTime::<Utc>::MAX_UTC;
    let table = FactTable {
        assets: vec![AssetKey::new(AssetKind::Host, "10.0.0.1")],
        tool_sets: vec![vec!["trivy".into()]],
        findings: vec![
            fact(1, 0, 0, Severity::High, Tier::P4, Fixed, min, Some(min), Some(max)),
            fact(2, 0, 0, Severity::High, Tier::P4, Open, min, Some(min), None),
            fact(3, 0, 0, Severity::High, Tier::P4, Open, max, None, None),
        ],
    };
    let coverage = vec![asset(AssetKind::Host, "10.0.0.1", None, None, Some(min))];
    let options = MetricsOptions {
        coverage_window_days: u32::MAX,
        ..MetricsOptions::new(max)
    };
    let metrics = compute(&table, &[], &coverage, &SlaPolicy::default(), &options);
    assert_eq!(metrics.mttr.overall.count, 1);
    assert!(metrics.mttr.overall.mean_days.unwrap() > 190_000_000.0);
    // Finding 3 is first seen at now: 0 days old, and due at the last
    // representable time.
    assert_eq!(metrics.backlog.total.over_180_days, 1);
    assert_eq!(metrics.backlog.total.days_0_to_7, 1);
    assert_eq!(metrics.sla.overdue, 1);
    assert_eq!(metrics.sla.fixed_late, 1);
    assert_eq!(metrics.coverage.total.assessed, 1);
}

#[test]
fn many_findings_keep_exact_counts() {
    use LifecycleStatus::Fixed;
    // 200,001 confirmed fixes taking 0, 1, 2, ... 200,000 hours: the median
    // is 100,000 hours and the mean the same.
    let findings: Vec<FindingFacts> = (0..=200_000i64)
        .map(|hours| {
            let first_seen = day(11, 1);
            let verified = first_seen + chrono::TimeDelta::hours(hours);
            fact(
                hours,
                0,
                0,
                Severity::High,
                Tier::P4,
                Fixed,
                first_seen,
                None,
                Some(verified),
            )
        })
        .collect();
    let mut table = single(findings[0].clone());
    table.findings = findings;

    let options = MetricsOptions::new(at(2050, 1, 1, 0));
    let metrics = compute(&table, &[], &[], &SlaPolicy::default(), &options);

    let expected_days = 100_000.0 / 24.0;
    assert_eq!(metrics.mttr.overall.count, 200_001);
    assert_eq!(metrics.mttr.overall.median_days, Some(expected_days));
    assert!((metrics.mttr.overall.mean_days.unwrap() - expected_days).abs() < 1e-6);
    // Due after 180 days = 4,320 hours: 4,321 fixes (0 to 4,320 hours)
    // were in time.
    assert_eq!(metrics.sla.compliance.met, 4_321);
    assert_eq!(metrics.sla.compliance.missed, 200_001 - 4_321);
}

#[test]
fn group_by_parses_names() {
    assert_eq!("Team".parse::<GroupBy>(), Ok(GroupBy::Team));
    assert_eq!(" source ".parse::<GroupBy>(), Ok(GroupBy::Source));
    let error = "owner".parse::<GroupBy>().unwrap_err();
    assert!(error.contains("owner"), "{error}");
    assert!(error.contains("team"), "{error}");
}
