//! The backtest of prioritization rules on small hand-computed cases.

use chrono::NaiveDate;
use ctem_risk::backtest::{Config, CveRecord, Features, Rule, ctem_likelihood, hits_at_effort, run};

fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn close(actual: f64, expected: f64) -> bool {
    (actual - expected).abs() < 1e-12
}

/// Ten CVEs with final EPSS scores 0.9, 0.8, ..., 0.0. The first and the
/// fourth are added to KEV on 2025-02-15, the last on 2025-03-20.
fn ten_records() -> Vec<CveRecord> {
    (0..10)
        .map(|i| CveRecord {
            id: format!("CVE-2025-{:04}", i + 1),
            epss_final: Some(f64::from(9 - i) / 10.0),
            kev_added: match i {
                0 | 3 => Some(day("2025-02-15")),
                9 => Some(day("2025-03-20")),
                _ => None,
            },
            ..CveRecord::default()
        })
        .collect()
}

fn config(resamples: usize, seed: u64) -> Config {
    Config {
        decision_dates: vec![day("2025-02-01")],
        window_days: 30,
        efforts: vec![0.1, 0.2, 0.5],
        resamples,
        seed,
    }
}

#[test]
fn hits_at_effort_counts_top_share() {
    let scores = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0];
    let labels = [true, false, true, false, false, false, false, false, false, true];

    assert!(close(hits_at_effort(&scores, &labels, 0.1), 1.0));
    assert!(close(hits_at_effort(&scores, &labels, 0.2), 1.0));
    assert!(close(hits_at_effort(&scores, &labels, 0.3), 2.0));
    assert!(close(hits_at_effort(&scores, &labels, 1.0), 3.0));
    assert!(close(hits_at_effort(&scores, &labels, 0.0), 0.0));
}

#[test]
fn tie_group_at_cut_counts_fraction() {
    // Four CVEs tied at the top with one label among them; a budget of two
    // takes half of the group and so half of its label.
    let scores = [1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.0, 0.0, 0.0, 0.0];
    let labels = [true, false, false, false, true, false, false, false, false, true];
    assert!(close(hits_at_effort(&scores, &labels, 0.2), 0.5));

    // Budget 5 takes the whole top group (1 hit) and half of the next (0.5).
    assert!(close(hits_at_effort(&scores, &labels, 0.5), 1.5));

    // Budget 8 reaches into the bottom group: 2 hits above, 2 of 4 of its one label.
    assert!(close(hits_at_effort(&scores, &labels, 0.8), 2.5));
}

#[test]
fn tie_handling_ignores_input_order() {
    let scores = [1.0, 1.0, 1.0, 1.0, 0.0];
    let labels = [true, false, false, false, false];
    let reversed_scores = [0.0, 1.0, 1.0, 1.0, 1.0];
    let reversed_labels = [false, false, false, false, true];

    let forward = hits_at_effort(&scores, &labels, 0.4);
    let backward = hits_at_effort(&reversed_scores, &reversed_labels, 0.4);
    assert!(close(forward, 0.5), "{forward}");
    assert!(close(backward, 0.5), "{backward}");
}

#[test]
fn single_group_takes_label_share() {
    let scores = [0.0; 10];
    let labels = [true, true, false, false, false, false, false, false, false, false];
    assert!(close(hits_at_effort(&scores, &labels, 0.5), 1.0));
}

#[test]
fn run_reports_coverage_and_efficiency() {
    // On 2025-02-01 with a 30-day window, CVEs 1 and 4 are labels (CVE 10
    // is added after the window). EPSS ranks CVE 1 first, CVE 4 fourth.
    let report = run(&ten_records(), &[Rule::EpssAtLeast(0.85)], &config(0, 1));

    assert_eq!(report.population, 10);
    assert_eq!(report.dates[0].labels, 2);
    assert_eq!(report.dates[0].kev_known, 0);
    assert_eq!(report.dates[0].labels_with_epss, 2);

    let efforts = &report.rules[0].efforts;
    // 10%: one CVE passes the threshold and it is a label.
    assert!(close(efforts[0].coverage.value, 0.5));
    assert!(close(efforts[0].efficiency.value, 1.0));
    // 20%: the one passing CVE, plus one of the nine tied below; those
    // nine hold one label, so the second pick adds 1/9 of a hit.
    let hits = 1.0 + 1.0 / 9.0;
    assert!(close(efforts[1].coverage.value, hits / 2.0));
    assert!(close(efforts[1].efficiency.value, hits / 2.0));
    // Without resamples the interval is the point.
    assert_eq!(efforts[1].coverage.low, efforts[1].coverage.value);
    assert_eq!(efforts[1].coverage.high, efforts[1].coverage.value);
}

#[test]
fn run_pools_decision_dates() {
    // On 2025-03-01 CVEs 1 and 4 are already in KEV and CVE 10 is the only
    // label. No record has a CVSS score, so the rule ties all ten and 50%
    // takes half of every label: 1 + 0.5 hits of 3 labels, 10 of 20 selected.
    let mut settings = config(0, 1);
    settings.decision_dates.push(day("2025-03-01"));
    let report = run(&ten_records(), &[Rule::CvssAtLeast(7.0)], &settings);

    assert_eq!(report.dates[1].kev_known, 2);
    assert_eq!(report.dates[1].labels, 1);
    let half = &report.rules[0].efforts[2];
    assert!(close(half.coverage.value, 0.5), "{}", half.coverage.value);
    assert!(close(half.efficiency.value, 1.5 / 10.0), "{}", half.efficiency.value);
}

#[test]
fn bootstrap_same_seed_same_intervals() {
    let records: Vec<CveRecord> = (0..200)
        .map(|i| CveRecord {
            id: format!("CVE-2025-{i:04}"),
            epss_final: Some(f64::from(i % 17) / 17.0),
            kev_added: (i % 7 == 0).then(|| day("2025-02-10")),
            ..CveRecord::default()
        })
        .collect();
    let rules = [Rule::CtemLikelihood, Rule::EpssAtLeast(0.5)];

    let first = run(&records, &rules, &config(200, 42));
    let again = run(&records, &rules, &config(200, 42));
    let other = run(&records, &rules, &config(200, 43));

    assert_eq!(first, again);
    assert_ne!(first.rules, other.rules);
    let coverage = first.rules[0].efforts[2].coverage;
    assert!(coverage.low <= coverage.high, "{coverage:?}");
    assert!(
        coverage.low < coverage.high,
        "a bootstrap over 200 CVEs should vary: {coverage:?}"
    );
}

#[test]
fn kev_addition_before_date_is_feature() {
    let record = CveRecord {
        kev_added: Some(day("2025-03-10")),
        ..CveRecord::default()
    };

    // Added on the decision date: a label, not yet a feature.
    assert!(!record.features_at(day("2025-03-10")).kev);
    assert!(record.is_label_at(day("2025-03-10"), 90));

    // Added the day before: a feature, no longer a label.
    assert!(record.features_at(day("2025-03-11")).kev);
    assert!(!record.is_label_at(day("2025-03-11"), 90));

    // The window excludes its end: 2024-12-10 plus 90 days is 2025-03-10.
    assert!(!record.is_label_at(day("2024-12-10"), 90));
    assert!(record.is_label_at(day("2024-12-10"), 91));
}

#[test]
fn epss_uses_history_known_at_date() {
    let record = CveRecord {
        epss_history: vec![
            (day("2025-03-03"), 0.02),
            (day("2025-01-06"), 0.01),
            (day("2025-03-10"), 0.3),
            (day("2025-03-17"), 0.1),
        ],
        epss_final: Some(0.9),
        ..CveRecord::default()
    };

    assert_eq!(
        record.features_at(day("2025-01-01")).epss,
        None,
        "before the first point"
    );
    assert_eq!(record.features_at(day("2025-01-06")).epss, Some(0.01));
    // 2025-02-20: nothing in the 30 days before, so the latest earlier point.
    assert_eq!(record.features_at(day("2025-02-20")).epss, Some(0.01));
    assert_eq!(record.features_at(day("2025-03-09")).epss, Some(0.02));
    assert_eq!(record.features_at(day("2025-03-20")).epss, Some(0.3), "recent maximum");

    let without_history = CveRecord {
        epss_final: Some(0.9),
        ..CveRecord::default()
    };
    assert_eq!(without_history.features_at(day("2025-01-01")).epss, Some(0.9));
}

#[test]
fn ctem_likelihood_hand_computed() {
    let features = Features {
        epss: Some(0.04),
        cvss_exploitability: Some(1.0),
        ..Features::default()
    };
    // 1 - (1 - 0.2) * (1 - 0.3) = 0.44
    assert!(close(ctem_likelihood(&features, 0.0), 0.44));

    let listed = Features { kev: true, ..features };
    // 1 - 0.1 * 0.8 * 0.7 = 0.944
    assert!(close(ctem_likelihood(&listed, 0.0), 0.944));

    // No EPSS score: the prior 0.01 counts as sqrt(0.01) = 0.1.
    assert!(close(ctem_likelihood(&Features::default(), 0.01), 0.1));
}

#[test]
fn cve_prioritizer_levels() {
    let at = |kev, cvss, epss| {
        let features = Features {
            kev,
            cvss: Some(cvss),
            epss: Some(epss),
            ..Features::default()
        };
        Rule::CvePrioritizer.score(&features, 0.0)
    };
    assert_eq!(at(true, 0.0, 0.0), 4.0);
    assert_eq!(at(false, 6.0, 0.2), 3.0);
    assert_eq!(at(false, 9.8, 0.19), 2.0);
    assert_eq!(at(false, 5.9, 0.5), 1.0);
    assert_eq!(at(false, 5.9, 0.1), 0.0);
}

#[test]
fn kev_first_ranks_listed_before_cvss() {
    let listed_low = Features {
        kev: true,
        cvss: Some(0.1),
        ..Features::default()
    };
    let unlisted_max = Features {
        cvss: Some(10.0),
        ..Features::default()
    };
    assert!(Rule::KevFirst.score(&listed_low, 0.0) > Rule::KevFirst.score(&unlisted_max, 0.0));
}
