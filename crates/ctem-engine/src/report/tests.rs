//! The HTML report on hand-built histories: the executive summary, the
//! crown jewels, the trend charts and their edge cases.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use ctem_model::{
    Asset, AssetKey, AssetKind, Criticality, Finding, FindingKind, LifecycleStatus, Relationship, RelationshipKind,
    RiskAssessment, Severity, Tier,
};
use ctem_store::{FactTable, RunSummary, StoredFinding};

use super::*;
use crate::config::Config;
use crate::metrics::{Compliance, DurationStats};

/// Midnight UTC of a day in 2026.
fn day(month: u32, day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, month, day, 0, 0, 0).unwrap()
}

fn point(
    run_id: i64,
    observed_at: DateTime<Utc>,
    risk: Option<f64>,
    crown_jewel_risk: Option<f64>,
    open_by_tier: [u64; 4],
    fixes: Option<(u64, f64)>,
) -> RunPoint {
    RunPoint {
        run_id,
        observed_at,
        open: open_by_tier.iter().sum(),
        open_by_tier,
        new: 0,
        reopened: 0,
        fixed: 0,
        accepted: 0,
        risk,
        crown_jewel_risk,
        crown_jewel_open: 0,
        verified: fixes.map_or(0, |(count, _)| count),
        mttr_days: fixes.map(|(_, days)| days),
    }
}

/// Runs on Nov 1, 8 and 15. Run 1 confirmed no fix, run 2 two fixes of
/// 12.5 days on average, run 3 one fix of 4 days.
fn three_runs() -> Vec<RunPoint> {
    vec![
        point(1, day(11, 1), Some(100.0), Some(50.0), [2, 1, 0, 1], None),
        point(2, day(11, 8), Some(150.0), Some(60.0), [3, 2, 1, 0], Some((2, 12.5))),
        point(3, day(11, 15), Some(200.0), Some(40.0), [1, 1, 1, 1], Some((1, 4.0))),
    ]
}

/// Computes the metrics of the 30 days before `now` with nothing in them.
fn empty_recent(now: DateTime<Utc>) -> Metrics {
    let options = MetricsOptions {
        since: Some(now - TimeDelta::days(30)),
        ..MetricsOptions::new(now)
    };
    compute(&FactTable::default(), &[], &[], &SlaPolicy::default(), &options)
}

/// Builds the metrics of the 30 days before Nov 15: 4 of 6 deadlines met,
/// 3 findings overdue, 4 fixes of 12.4 days on average.
fn busy_recent() -> Metrics {
    let mut recent = empty_recent(day(11, 15));
    recent.sla.compliance = Compliance {
        met: 4,
        missed: 2,
        share: Some(4.0 / 6.0),
    };
    recent.sla.overdue = 3;
    recent.mttr.overall = DurationStats {
        count: 4,
        mean_days: Some(12.4),
        median_days: Some(12.0),
    };
    recent
}

fn jewel(name: &str, open: u64, most_urgent: u64) -> CrownJewelExposure {
    CrownJewelExposure {
        name: name.to_string(),
        open,
        most_urgent,
    }
}

fn shop_jewels() -> Vec<CrownJewelExposure> {
    vec![
        jewel("Shop front", 5, 1),
        jewel("Payments database", 2, 0),
        jewel("Shop web image", 0, 0),
    ]
}

fn render(history: &ReportHistory, crown_jewels: &[CrownJewelExposure]) -> String {
    render_with_paths(history, crown_jewels, None)
}

fn render_with_paths(
    history: &ReportHistory,
    crown_jewels: &[CrownJewelExposure],
    attack_paths: Option<&crate::paths::PathsView>,
) -> String {
    let now = history.recent.now;
    let summary = RunSummary {
        run_id: history.runs.last().map_or(1, |run| run.run_id),
        observed_at: now,
        seen: 0,
        new: 0,
        still_open: 0,
        reopened: 0,
        fixed: 0,
    };
    let assets = BTreeMap::new();
    render_html(&ReportInput {
        generated_at: now,
        summary: &summary,
        files: &[],
        active: &[],
        assets: &assets,
        intel_sources: Vec::new(),
        top: Some(10),
        history,
        crown_jewels,
        attack_paths,
    })
}

/// Returns the text of the executive summary, without its tags.
fn executive_text(html: &str) -> String {
    let start = html
        .find("<section id=\"executive-summary\"")
        .expect("the report has an executive summary");
    let end = start + html[start..].find("</section>").expect("the summary section is closed");
    let mut text = String::new();
    let mut in_tag = false;
    for character in html[start..end].chars() {
        match character {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            _ if !in_tag => text.push(character),
            _ => {}
        }
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Returns the `svg` element with this id.
fn svg<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!("<svg id=\"{id}\""))
        .unwrap_or_else(|| panic!("no chart {id}"));
    let end = start + html[start..].find("</svg>").unwrap();
    &html[start..end]
}

/// Words that the executive summary must not use, as lowercase tokens.
const JARGON: [&str; 15] = [
    "cve",
    "cvss",
    "epss",
    "kev",
    "p1",
    "p2",
    "p3",
    "p4",
    "mttr",
    "sla",
    "slas",
    "tier",
    "tiers",
    "fingerprint",
    "fingerprints",
];

fn jargon_in(text: &str) -> Vec<String> {
    text.split(|character: char| !character.is_alphanumeric())
        .map(str::to_lowercase)
        .filter(|token| JARGON.contains(&token.as_str()))
        .collect()
}

#[test]
fn summary_of_busy_history() {
    let bullets = executive_summary(&busy_recent(), &three_runs(), &shop_jewels());
    // Previous run 150, latest 200: +50 / 150 = 33.3%. No run is at or
    // before Oct 16, the start of the 30 days, so the first run (100)
    // is the baseline: +100%.
    assert_eq!(
        bullets,
        vec![
            "2 of 3 crown jewels have open weaknesses: Shop front (5 open, 1 most urgent) and Payments database \
             (2 open)."
                .to_string(),
            "Exposure rose 33% since the previous run on 8 Nov 2026, from 150 to 200 in total score.".to_string(),
            "Exposure rose 100% since the first run on record, on 1 Nov 2026, from 100 to 200 in total score."
                .to_string(),
            "67% of the weaknesses due or fixed in the last 30 days were fixed by their deadline (4 of 6). \
             3 weaknesses are past their deadline and not yet confirmed fixed."
                .to_string(),
            "Weaknesses fixed in the last 30 days took 12.4 days on average from discovery to confirmed fix \
             (4 fixes)."
                .to_string(),
        ]
    );
}

#[test]
fn summary_compares_with_start_of_period() {
    // Oct 1 is before Oct 16, the start of the 30 days, and the last run
    // before it: 80 to 200 is +150%.
    let mut runs = vec![point(9, day(10, 1), Some(80.0), None, [0; 4], None)];
    runs.extend(three_runs());
    let bullets = executive_summary(&busy_recent(), &runs, &shop_jewels());
    assert_eq!(
        bullets[2],
        "Exposure rose 150% in the last 30 days (since the run on 1 Oct 2026), from 80 to 200 in total score."
    );
}

#[test]
fn summary_states_each_change() {
    let pair = |before: Option<f64>, after: Option<f64>| {
        let runs = vec![
            point(1, day(11, 8), before, None, [0; 4], None),
            point(2, day(11, 15), after, None, [0; 4], None),
        ];
        let bullets = executive_summary(&busy_recent(), &runs, &[]);
        assert_eq!(bullets.len(), 4, "two runs give one exposure sentence: {bullets:?}");
        bullets[1].clone()
    };
    let since = "since the previous run on 8 Nov 2026";
    let cases = [
        (
            Some(200.0),
            Some(150.0),
            format!("Exposure fell 25% {since}, from 200 to 150 in total score."),
        ),
        (
            Some(150.0),
            Some(150.0),
            format!("Exposure is unchanged {since}, with a total score of 150."),
        ),
        (
            Some(0.0),
            Some(40.0),
            format!("Exposure rose {since}, from 0 to 40 in total score."),
        ),
        (
            Some(1000.0),
            Some(1004.0),
            format!("Exposure rose less than 1% {since}, from 1,000 to 1,004 in total score."),
        ),
        (
            None,
            Some(40.0),
            format!("Exposure cannot be compared {since}, because a stored score total is not a number."),
        ),
    ];
    for (before, after, expected) in cases {
        assert_eq!(pair(before, after), expected, "{before:?} to {after:?}");
    }
}

#[test]
fn summary_without_trend() {
    let recent = empty_recent(day(11, 15));
    let none = executive_summary(&recent, &[], &[]);
    assert_eq!(
        none,
        vec![
            "No crown jewel is named in the configuration or found among the assessed assets.",
            "No run is recorded yet, so there is no exposure trend.",
            "No weakness was due or fixed in the last 30 days. No weakness is past its deadline.",
            "No fix was confirmed in the last 30 days.",
        ]
    );

    let one = [point(1, day(11, 15), Some(1234.4), Some(10.0), [1, 0, 0, 0], None)];
    let bullets = executive_summary(&recent, &one, &[]);
    assert_eq!(
        bullets[1],
        "This is the first run on record, and trends need at least two runs. Its total exposure score is 1,234."
    );
}

#[test]
fn summary_counts_in_singular() {
    let mut recent = busy_recent();
    recent.sla.overdue = 1;
    recent.mttr.overall = DurationStats {
        count: 1,
        mean_days: Some(2.0),
        median_days: Some(2.0),
    };
    let bullets = executive_summary(&recent, &three_runs(), &[jewel("Payments database", 3, 0)]);
    assert_eq!(
        bullets[0],
        "The crown jewel Payments database (3 open) has open weaknesses."
    );
    assert!(
        bullets[3].ends_with("1 weakness is past its deadline and not yet confirmed fixed."),
        "{}",
        bullets[3]
    );
    assert!(bullets[4].ends_with("(1 fix)."), "{}", bullets[4]);
}

#[test]
fn summary_names_crown_jewels() {
    let recent = busy_recent();
    let sentence = |jewels: &[CrownJewelExposure]| executive_summary(&recent, &[], jewels)[0].clone();

    assert_eq!(
        sentence(&[jewel("Shop front", 0, 0)]),
        "The crown jewel Shop front has no open weaknesses."
    );
    assert_eq!(
        sentence(&[jewel("Shop front", 0, 0), jewel("Payments database", 0, 0)]),
        "None of the 2 crown jewels has open weaknesses."
    );
    assert_eq!(
        sentence(&[jewel("Shop front", 4, 2), jewel("Payments database", 0, 0)]),
        "1 of 2 crown jewels has open weaknesses: Shop front (4 open, 2 most urgent)."
    );

    let many: Vec<CrownJewelExposure> = (1..=7).map(|index| jewel(&format!("Jewel {index}"), 1, 0)).collect();
    assert_eq!(
        sentence(&many),
        "7 of 7 crown jewels have open weaknesses: Jewel 1 (1 open), Jewel 2 (1 open), Jewel 3 (1 open), \
         Jewel 4 (1 open), Jewel 5 (1 open) and 2 more."
    );
}

#[test]
fn summary_has_no_jargon() {
    // Every kind of sentence: busy, empty, one run, changes of each sign.
    let histories = [
        (busy_recent(), three_runs()),
        (empty_recent(day(11, 15)), Vec::new()),
        (empty_recent(day(11, 15)), three_runs()[..1].to_vec()),
        (busy_recent(), {
            let mut runs = three_runs();
            runs[1].risk = None;
            runs[2].risk = Some(0.0);
            runs
        }),
    ];
    let jewel_lists = [shop_jewels(), Vec::new(), vec![jewel("Shop front", 0, 0)]];
    for (recent, runs) in histories {
        for jewels in &jewel_lists {
            let history = ReportHistory {
                recent: recent.clone(),
                runs: runs.clone(),
            };
            let text = executive_text(&render(&history, jewels));
            assert!(text.len() > 100, "the summary is missing: {text}");
            assert_eq!(jargon_in(&text), Vec::<String>::new(), "in: {text}");
        }
    }
}

#[test]
fn jargon_check_finds_words() {
    assert_eq!(
        jargon_in("CVE-2021-44228 breaks the SLA of a P1 tier"),
        vec!["cve", "sla", "p1", "tier"]
    );
    assert!(jargon_in("translate, frontier, sleeve").is_empty());
}

#[test]
fn report_draws_three_charts() {
    let history = ReportHistory {
        recent: busy_recent(),
        runs: three_runs(),
    };
    let html = render(&history, &shop_jewels());

    // Three runs share 526 pixels (64 to 590): 175.3 each, centred at
    // 151.7, 327 and 502.3. The y axis of the risk chart ends at 200, so a
    // score v is drawn at 200 - v / 200 * 160.
    let risk = svg(&html, "risk-trend");
    assert!(risk.contains("points=\"151.7,120 327,80 502.3,40\""), "{risk}");
    assert!(risk.contains("points=\"151.7,160 327,152 502.3,168\""), "{risk}");
    assert!(
        risk.contains("stroke-dasharray=\"6 4\""),
        "the crown jewel line is dashed"
    );
    // The square of run 1's crown jewel point (151.7, 160), of side 7.
    assert!(
        risk.contains("<rect x=\"148.2\" y=\"156.5\" width=\"7\" height=\"7\" fill=\"#b42318\">"),
        "square crown jewel marker"
    );
    assert!(risk.contains(">200</text>"), "y axis maximum");
    assert!(risk.contains(">0</text>"), "y axis zero");
    assert!(risk.contains("<text class=\"last-value\" x=\"510.3\" y=\"44\">200 total</text>"));
    assert!(risk.contains("<text class=\"last-value\" x=\"510.3\" y=\"172\">40 crown jewels</text>"));
    assert!(risk.contains(">Crown jewels</text>"), "legend");
    assert!(risk.contains("role=\"img\""));
    assert!(risk.contains("aria-label=\"Total risk score"));
    assert!(risk.contains("<title>Total risk score"));
    for date in ["2026-11-01", "2026-11-08", "2026-11-15"] {
        assert!(risk.contains(&format!(">{date}</text>")), "x label {date}");
    }

    // Open findings 4, 6 and 4: the axis ends at 10, a count v is at
    // 200 - 16 v. Run 1 stacks P1 2 (168 to 200), P2 1 (152 to 168) and
    // P4 1 (136 to 152) in a bar 36 wide centred at 151.7.
    let open = svg(&html, "open-trend");
    assert!(open.contains("<rect x=\"133.7\" y=\"168\" width=\"36\" height=\"32\" fill=\"#b42318\""));
    assert!(open.contains("<rect x=\"133.7\" y=\"152\" width=\"36\" height=\"16\" fill=\"url(#fill-p2)\""));
    assert!(open.contains("<rect x=\"133.7\" y=\"136\" width=\"36\" height=\"16\" fill=\"url(#fill-p4)\""));
    assert!(open.contains("<title>2026-11-01 (run 1): P1 2</title>"));
    assert!(!open.contains("(run 1): P3"), "an empty tier has no bar");
    assert!(open.contains(">10</text>"), "y axis maximum");
    assert!(open.contains("<pattern id=\"fill-p3\""));
    for label in ["4 open", "P4 1", "P3 1", "P2 1", "P1 1"] {
        assert!(open.contains(&format!(">{label}</text>")), "last run label {label}");
    }

    // Days to fix 12.5 and 4: the axis ends at 20, a value v is at
    // 200 - 8 v. Run 1 confirmed no fix and has no point.
    let days = svg(&html, "mttr-trend");
    assert!(days.contains("points=\"327,100 502.3,168\""), "{days}");
    assert_eq!(
        days.matches("<circle cx=").count(),
        3,
        "two points and the legend marker"
    );
    assert!(!days.contains("cx=\"151.7\""), "run 1 has no point");
    assert!(days.contains("<title>2026-11-08 (run 2): 12.5 days on average over 2 fixes</title>"));
    assert!(days.contains(">20</text>"), "y axis maximum");
    assert!(days.contains("<text class=\"last-value\" x=\"510.3\" y=\"172\">4 days</text>"));
    assert!(!html.contains("Trends need at least two runs"));
}

#[test]
fn gaps_break_lines() {
    // Run 2 has no total score and run 3 no fix: no line joins runs 1
    // and 3, and the last days-to-fix label goes to run 2.
    let mut runs = three_runs();
    runs[1].risk = None;
    runs[2].mttr_days = None;
    runs[2].verified = 0;
    let history = ReportHistory {
        recent: busy_recent(),
        runs,
    };
    let html = render(&history, &[]);

    let risk = svg(&html, "risk-trend");
    assert_eq!(
        risk.matches("<polyline").count(),
        1,
        "only the crown jewel line: {risk}"
    );
    assert_eq!(
        risk.matches("<circle cx=").count(),
        3,
        "two points and the legend marker"
    );

    let days = svg(&html, "mttr-trend");
    assert!(!days.contains("<polyline"), "a single point draws no line");
    assert!(days.contains(">12.5 days</text>"));
}

#[test]
fn one_run_shows_values() {
    let history = ReportHistory {
        recent: busy_recent(),
        runs: three_runs()[2..].to_vec(),
    };
    let html = render(&history, &[]);
    assert!(html.contains("Trends need at least two runs"));
    assert!(!html.contains("<svg id=\"risk-trend\""));
    assert!(html.contains("Total risk score 200, of which 40 on crown jewels."));
    assert!(html.contains("4 open findings: P1 1, P2 1, P3 1, P4 1."));
    assert!(html.contains("The run confirmed 1 fix, 4 days after detection."));
}

#[test]
fn empty_history_renders() {
    let history = ReportHistory::compute(&FactTable::default(), &[], &[], &SlaPolicy::default(), day(11, 15));
    assert!(history.runs.is_empty());
    assert_eq!(history.recent.since, Some(day(10, 16)));

    let html = render(&history, &[]);
    assert!(html.contains("No run is recorded yet."));
    assert!(html.contains("<h3>Risk per run</h3>"));
    assert!(!html.contains("<svg id=\"risk-trend\""));
    assert!(!html.contains("id=\"runs\""), "no table of runs without runs");
    assert!(html.trim_end().ends_with("</html>"));
}

#[test]
fn many_runs_stay_small() {
    // 100 weekly runs. The chart writes at most 12 dates: every 9th run
    // counting back from the last.
    let runs: Vec<RunPoint> = (0..100)
        .map(|index| {
            point(
                index + 1,
                day(1, 1) + TimeDelta::weeks(index),
                Some(1000.0 + index as f64),
                Some(100.0),
                [10, 20, 30, 40],
                (index % 3 == 0).then_some((5, 10.0)),
            )
        })
        .collect();
    let last_date = (day(1, 1) + TimeDelta::weeks(99)).format("%Y-%m-%d").to_string();
    let first_date = day(1, 1).format("%Y-%m-%d").to_string();
    let history = ReportHistory {
        recent: busy_recent(),
        runs,
    };
    let html = render(&history, &shop_jewels());

    assert!(html.len() < 1024 * 1024, "{} bytes", html.len());
    let risk = svg(&html, "risk-trend");
    assert_eq!(risk.matches("class=\"x-label\"").count(), 12);
    assert!(risk.contains(&format!(">{last_date}</text>")));
    assert!(
        risk.contains(&format!(">{first_date}</text>")),
        "(99 - 0) is a multiple of 9"
    );
    // Runs 5.3 pixels apart get markers of radius 5.3 * 0.35 = 1.8.
    assert!(risk.contains("r=\"1.8\" fill=\"#1d4ed8\"><title>"), "marker radius");
}

#[test]
fn report_escapes_configured_names() {
    let history = ReportHistory {
        recent: busy_recent(),
        runs: three_runs(),
    };
    let html = render(&history, &[jewel("<b>\"Pay\" & Co</b>", 1, 1)]);
    assert!(!html.contains("<b>\"Pay\""));
    assert!(
        html.contains("&#60;b&#62;&#34;Pay&#34; &#38; Co&#60;/b&#62;"),
        "{}",
        executive_text(&html)
    );
}

#[test]
fn report_is_deterministic() {
    let history = ReportHistory {
        recent: busy_recent(),
        runs: three_runs(),
    };
    assert_eq!(render(&history, &shop_jewels()), render(&history, &shop_jewels()));
}

fn asset(kind: AssetKind, identifier: &str, name: &str, criticality: Option<Criticality>) -> Asset {
    let mut asset = Asset::new(kind, identifier, name);
    asset.criticality = criticality;
    asset
}

fn active(asset: &Asset, tier: Tier, rule_id: &str) -> StoredFinding {
    let finding = Finding::new(
        "trivy",
        rule_id,
        FindingKind::Vulnerability,
        rule_id,
        Severity::High,
        asset.key.clone(),
    );
    StoredFinding {
        fingerprint: finding.fingerprint(),
        finding,
        status: LifecycleStatus::Open,
        tools: vec!["trivy".into()],
        validation: None,
        verified_at: None,
        accepted_until: None,
        introduced_at: None,
        first_seen: day(11, 1),
        last_seen: day(11, 1),
        fixed_at: None,
        risk: Some(RiskAssessment {
            score: 50.0,
            tier,
            likelihood: 0.5,
            impact: 0.5,
            factors: Vec::new(),
            decision: None,
            deadline: None,
        }),
    }
}

#[test]
fn crown_jewels_group_assets() {
    let config = Config::parse(
        r#"
        [[crown_jewels]]
        name = "Shop front"
        match = { kind = "host", name = "www.acme.example" }

        [[crown_jewels]]
        name = "Payments database"
        match = { name = "db-pay*" }
        "#,
    )
    .unwrap();
    let crown_jewel = Some(Criticality::CrownJewel);
    let shop = asset(AssetKind::Host, "203.0.113.10", "www.acme.example", crown_jewel);
    // Crown jewel through its host.
    let https = asset(
        AssetKind::Service,
        "203.0.113.10:443/tcp",
        "203.0.113.10:443/tcp",
        crown_jewel,
    );
    // Selected by name, whatever its stored criticality.
    let db1 = asset(AssetKind::Host, "10.20.0.5", "db-pay01.acme.internal", crown_jewel);
    let db2 = asset(AssetKind::Host, "10.20.0.6", "db-pay02.acme.internal", None);
    // A crown jewel by another rule, under its own name.
    let vault = asset(AssetKind::Repository, "acme/vault", "acme/vault", crown_jewel);
    // Not crown jewels: a lab host and its service, which has its own
    // criticality.
    let lab = asset(AssetKind::Host, "10.30.0.15", "lab1", None);
    let ssh = asset(
        AssetKind::Service,
        "10.30.0.15:22/tcp",
        "10.30.0.15:22/tcp",
        Some(Criticality::Low),
    );

    let relationships = vec![
        Relationship::new(shop.key.clone(), RelationshipKind::Hosts, https.key.clone()),
        Relationship::new(lab.key.clone(), RelationshipKind::Hosts, ssh.key.clone()),
    ];
    let findings = vec![
        active(&shop, Tier::P1, "CVE-1"),
        active(&shop, Tier::P2, "CVE-2"),
        active(&https, Tier::P1, "CVE-3"),
        active(&db2, Tier::P3, "CVE-4"),
        active(&lab, Tier::P1, "CVE-5"),
        active(&ssh, Tier::P1, "CVE-6"),
    ];
    let assets: BTreeMap<AssetKey, Asset> = [shop, https, db1, db2, vault, lab, ssh]
        .into_iter()
        .map(|asset| (asset.key.clone(), asset))
        .collect();

    let exposure = crown_jewel_exposure(&config.crown_jewels, &assets, &relationships, &findings);
    assert_eq!(
        exposure,
        vec![
            jewel("Shop front", 3, 2),
            jewel("Payments database", 1, 0),
            jewel("acme/vault", 0, 0),
        ]
    );
}

#[test]
fn later_crown_jewel_rule_wins() {
    // As when the engine applies the configuration, the last matching
    // crown jewel names the asset.
    let config = Config::parse(
        r#"
        [[crown_jewels]]
        name = "Databases"
        match = { kind = "host" }

        [[crown_jewels]]
        name = "Payments database"
        match = { name = "db-pay*" }
        "#,
    )
    .unwrap();
    let db = asset(AssetKind::Host, "10.20.0.5", "db-pay01.acme.internal", None);
    let findings = vec![active(&db, Tier::P2, "CVE-1")];
    let assets = BTreeMap::from([(db.key.clone(), db)]);
    let exposure = crown_jewel_exposure(&config.crown_jewels, &assets, &[], &findings);
    assert_eq!(exposure, vec![jewel("Payments database", 1, 0)]);
}

/// The part of the report between the start of `id`'s section and its end.
fn section<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!("<section id=\"{id}\""))
        .unwrap_or_else(|| panic!("no section {id}"));
    let end = start + html[start..].find("</section>").expect("the section is closed");
    &html[start..end]
}

#[test]
fn attack_paths_section_shows_paths_and_fixes() {
    let history = ReportHistory {
        recent: busy_recent(),
        runs: three_runs(),
    };
    let view = crate::paths::tests::sample_paths().view(None);
    let html = render_with_paths(&history, &shop_jewels(), Some(&view));

    let paths = section(&html, "attack-paths");
    assert!(paths.contains("<h2>Attack paths</h2>"), "{paths}");
    assert!(paths.contains("Payments database"), "{paths}");
    assert!(paths.contains("probability 45%"), "{paths}");
    assert!(paths.contains("T1190"), "{paths}");
    assert!(paths.contains("www.acme.example (host, execute user)"), "{paths}");
    assert!(
        paths.contains("Choke points: www.acme.example (host, execute user)."),
        "{paths}"
    );
    assert!(
        paths.contains("Minimal fix set: 1 change (cost 1), the fewest possible."),
        "{paths}"
    );
    assert!(
        paths.contains("fix Apache 2.4.49 path traversal (CVE-2021-41773)"),
        "{paths}"
    );
    assert!(paths.contains("Card vault"), "{paths}");
    assert!(paths.contains("No path from the internet reaches it."), "{paths}");
    // The reachable crown jewel comes first.
    assert!(paths.find("Payments database").unwrap() < paths.find("Card vault").unwrap());

    let summary = executive_text(&html);
    assert!(
        summary.contains("An attacker on the internet can reach 1 of 2 crown jewels: Payments database (45% likely)."),
        "{summary}"
    );
    for jargon in ["CVE", "KEV", "EPSS", "CVSS", "P1", "MTTR", "SLA", "tier"] {
        assert!(!summary.contains(jargon), "{jargon} in the summary: {summary}");
    }
}

#[test]
fn attack_paths_section_without_graph_says_why() {
    let history = ReportHistory {
        recent: busy_recent(),
        runs: three_runs(),
    };
    let html = render(&history, &shop_jewels());
    let paths = section(&html, "attack-paths");
    assert!(paths.contains("No asset is a crown jewel"), "{paths}");
    assert!(!executive_text(&html).contains("attacker"));
}
