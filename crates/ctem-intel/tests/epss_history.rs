//! EPSS history: several daily files per CVE, scores as of a day, trends,
//! same-day conflicts and snapshot files.

mod common;

use chrono::NaiveDate;
use common::{capture_logs, fixture, shared_dir};
use ctem_intel::{EpssScore, EpssScores, Intel, IntelError};
use ctem_model::CveId;

const DAY_1: &str = "epss_history/epss_scores-2025-03-01.csv";
const DAY_2_GZIP: &str = "epss_history/epss_scores-2025-03-02.csv.gz";
const DAY_4: &str = "epss_history/epss_scores-2025-03-04.csv";
const UNDATED: &str = "epss_history/extract-undated.csv";
const CVES: [&str; 5] = [
    "CVE-2021-44228",
    "CVE-2025-0001",
    "CVE-2025-0002",
    "CVE-2019-0708",
    "CVE-2025-9999",
];

fn cve(text: &str) -> CveId {
    text.parse().expect("valid CVE id in test")
}

fn date(text: &str) -> NaiveDate {
    text.parse().expect("valid date in test")
}

fn score(epss: f64, percentile: f64) -> EpssScore {
    EpssScore { epss, percentile }
}

fn load(name: &str) -> EpssScores {
    EpssScores::load(fixture(name)).unwrap()
}

fn load_all(names: &[&str]) -> EpssScores {
    let mut scores = EpssScores::default();
    for name in names {
        scores.merge(load(name));
    }
    scores
}

fn history(scores: &EpssScores, id: &str) -> Vec<(NaiveDate, EpssScore)> {
    scores.history(&cve(id)).collect()
}

/// Everything that the public API returns for the test CVEs, to compare two loads.
fn answers(scores: &EpssScores) -> Vec<String> {
    let mut lines = vec![format!("len {}", scores.len())];
    for id in CVES {
        let latest = scores
            .get(&cve(id))
            .map(|r| (r.score, r.file.path.clone(), r.file.score_date));
        lines.push(format!("{id} latest {latest:?}"));
        lines.push(format!("{id} history {:?}", history(scores, id)));
        for day in 1..=5 {
            let day = NaiveDate::from_ymd_opt(2025, 3, day).unwrap();
            lines.push(format!("{id} as of {day} {:?}", scores.as_of(&cve(id), day)));
        }
        for days in 0..=4 {
            lines.push(format!("{id} trend {days} {:?}", scores.trend(&cve(id), days)));
        }
    }
    lines
}

#[test]
fn history_lists_each_scored_day() {
    let scores = load_all(&[DAY_1, DAY_2_GZIP, DAY_4]);
    assert_eq!(
        history(&scores, "CVE-2021-44228"),
        [
            (date("2025-03-01"), score(0.94358, 0.99956)),
            (date("2025-03-02"), score(0.94358, 0.99956)),
            (date("2025-03-04"), score(0.944, 0.9996)),
        ]
    );
    assert_eq!(
        history(&scores, "CVE-2025-0002"),
        [
            (date("2025-03-02"), score(0.001, 0.3)),
            (date("2025-03-04"), score(0.002, 0.4)),
        ]
    );
    assert_eq!(history(&scores, "CVE-2019-0708").len(), 1);
    assert_eq!(history(&scores, "CVE-2000-0001"), []);
    assert_eq!(scores.latest_score_date(), Some(date("2025-03-04")));
    assert_eq!(scores.files().len(), 3);
}

#[test]
fn get_returns_latest_day() {
    let scores = load_all(&[DAY_1, DAY_2_GZIP, DAY_4]);
    let latest = scores.get(&cve("CVE-2025-0001")).unwrap();
    assert_eq!(latest.score, score(0.01, 0.8));
    assert_eq!(latest.file.score_date, Some(date("2025-03-04")));
    assert!(latest.file.path.ends_with("epss_scores-2025-03-04.csv"));

    let only_day_1 = scores.get(&cve("CVE-2019-0708")).unwrap();
    assert_eq!(only_day_1.score, score(0.94489, 0.99968));
    assert_eq!(only_day_1.file.score_date, Some(date("2025-03-01")));
    assert_eq!(scores.len(), 4);
}

#[test]
fn as_of_table() {
    let scores = load_all(&[DAY_1, DAY_2_GZIP, DAY_4]);
    let log4shell = cve("CVE-2021-44228");
    let new_cve = cve("CVE-2025-0002");
    let cases = [
        (&log4shell, "2021-04-13", None),
        (&log4shell, "2025-02-28", None),
        (&log4shell, "2025-03-01", Some(("2025-03-01", score(0.94358, 0.99956)))),
        (&log4shell, "2025-03-03", Some(("2025-03-02", score(0.94358, 0.99956)))),
        (&log4shell, "2025-03-04", Some(("2025-03-04", score(0.944, 0.9996)))),
        (&log4shell, "2026-01-01", Some(("2025-03-04", score(0.944, 0.9996)))),
        (&log4shell, "2262-01-01", Some(("2025-03-04", score(0.944, 0.9996)))),
        (&new_cve, "2025-03-01", None),
        (&new_cve, "2025-03-03", Some(("2025-03-02", score(0.001, 0.3)))),
    ];
    for (id, day, expected) in cases {
        let expected = expected.map(|(found, value)| (date(found), value));
        assert_eq!(scores.as_of(id, date(day)), expected, "{id} as of {day}");
    }
}

#[test]
fn trend_over_window() {
    let scores = load_all(&[DAY_1, DAY_2_GZIP, DAY_4]);
    let id = cve("CVE-2025-0001");

    let three = scores.trend(&id, 3).unwrap();
    assert_eq!(three.start_date, date("2025-03-01"));
    assert_eq!(three.end_date, date("2025-03-04"));
    assert_eq!(three.start, score(0.00275, 0.50602));
    assert_eq!(three.end, score(0.01, 0.8));
    assert_eq!(three.epss_change, 0.00725);
    assert_eq!(three.percentile_change, 0.29398);

    let one = scores.trend(&id, 1).unwrap();
    assert_eq!(one.start_date, date("2025-03-02"), "03-03 has no file, so 03-02 counts");
    assert_eq!(one.epss_change, 0.007);

    let zero = scores.trend(&id, 0).unwrap();
    assert_eq!(zero.epss_change, 0.0);
    assert_eq!(zero.start_date, zero.end_date);
}

#[test]
fn trend_falling_score() {
    let scores = load_all(&[DAY_1, DAY_4]);
    let trend = scores.trend(&cve("CVE-2025-0001"), 3).unwrap();
    assert_eq!(trend.epss_change, 0.00725);

    let falling = "#model_version:v1,score_date:2025-03-05\ncve,epss,percentile\nCVE-2025-0001,0.002,0.3\n";
    let mut scores = scores;
    scores.merge(EpssScores::from_reader("falling.csv", falling.as_bytes()).unwrap());
    let trend = scores.trend(&cve("CVE-2025-0001"), 1).unwrap();
    assert_eq!(trend.epss_change, -0.008);
    assert_eq!(trend.percentile_change, -0.5);
}

#[test]
fn trend_none_without_start_point() {
    let scores = load_all(&[DAY_1, DAY_2_GZIP, DAY_4]);
    assert_eq!(scores.trend(&cve("CVE-2025-0002"), 3), None, "first scored on 03-02");
    assert!(scores.trend(&cve("CVE-2025-0002"), 2).is_some());
    assert_eq!(scores.trend(&cve("CVE-2000-0001"), 1), None, "never scored");
    assert_eq!(
        scores.trend(&cve("CVE-2025-0001"), 4000),
        None,
        "starts before 2021-04-14"
    );
    assert_eq!(scores.trend(&cve("CVE-2025-0001"), u32::MAX), None);
}

#[test]
fn undated_counts_only_without_dated() {
    let scores = load_all(&[DAY_1, UNDATED, DAY_2_GZIP, DAY_4]);
    assert_eq!(scores.get(&cve("CVE-2025-0001")).unwrap().score, score(0.01, 0.8));
    let only_undated = scores.get(&cve("CVE-2025-9999")).unwrap();
    assert_eq!(only_undated.score, score(0.1, 0.1));
    assert_eq!(only_undated.file.score_date, None);
    assert_eq!(history(&scores, "CVE-2025-9999"), []);
    assert_eq!(scores.as_of(&cve("CVE-2025-9999"), date("2025-03-04")), None);
    assert_eq!(scores.len(), 5);
}

#[test]
fn undated_alone_is_latest() {
    let scores = load(UNDATED);
    assert_eq!(scores.get(&cve("CVE-2025-0001")).unwrap().score, score(0.5, 0.9));
    assert_eq!(scores.latest_score_date(), None);
    assert_eq!(scores.trend(&cve("CVE-2025-0001"), 0), None);
    assert_eq!(history(&scores, "CVE-2025-0001"), []);
}

#[test]
fn reload_changes_nothing() {
    let mut scores = load_all(&[DAY_1, UNDATED, DAY_2_GZIP, DAY_4]);
    let before = answers(&scores);
    let files_before = scores.files().to_vec();

    let (_, logs) = capture_logs(|| {
        for name in [DAY_2_GZIP, DAY_1, UNDATED, DAY_4] {
            scores.merge(load(name));
        }
    });
    assert_eq!(answers(&scores), before);
    assert_eq!(scores.files(), files_before);
    assert!(!logs.contains("disagree"), "{logs}");
}

#[test]
fn load_order_does_not_matter() {
    let in_order = answers(&load_all(&[DAY_1, DAY_2_GZIP, DAY_4]));
    for order in [
        [DAY_4, DAY_2_GZIP, DAY_1],
        [DAY_2_GZIP, DAY_4, DAY_1],
        [DAY_4, DAY_1, DAY_2_GZIP],
    ] {
        let other = load_all(&order);
        for (expected, found) in in_order.iter().zip(answers(&other)) {
            assert_eq!(&found, expected, "order {order:?}");
        }
    }
}

#[test]
fn merge_of_merged_histories() {
    let mut first = load_all(&[DAY_1, DAY_4]);
    first.merge(load_all(&[DAY_2_GZIP]));
    assert_eq!(answers(&first), answers(&load_all(&[DAY_1, DAY_2_GZIP, DAY_4])));
}

#[test]
fn folder_load_keeps_history() {
    let intel = Intel::load_dir(fixture("epss_history")).unwrap();
    let scores = intel.epss_scores();
    assert_eq!(history(scores, "CVE-2025-0001").len(), 3);
    assert_eq!(intel.epss(&cve("CVE-2025-0001")).unwrap().score.epss, 0.01);
    assert_eq!(intel.sources().len(), 4);
    assert!(intel.skipped().is_empty(), "{:?}", intel.skipped());
}

#[test]
fn conflicting_rows_name_line() {
    let text = "#model_version:v1,score_date:2025-03-01\ncve,epss,percentile\n\
                CVE-2025-0001,0.1,0.2\nCVE-2025-0002,0.1,0.2\nCVE-2025-0001,0.3,0.2\n";
    let error = EpssScores::from_reader("conflict.csv", text.as_bytes()).unwrap_err();
    let IntelError::EpssConflict {
        path,
        line,
        cve,
        earlier,
        here,
    } = &error
    else {
        panic!("expected a conflict, got {error}");
    };
    assert_eq!(path, "conflict.csv");
    assert_eq!(*line, 5);
    assert_eq!(cve, "CVE-2025-0001");
    assert_eq!(*earlier, score(0.1, 0.2));
    assert_eq!(*here, score(0.3, 0.2));
    let message = error.to_string();
    assert!(message.contains("line 5"), "{message}");
    assert!(
        message.contains("0.3,0.2 here, 0.1,0.2 on an earlier line"),
        "{message}"
    );
}

#[test]
fn conflicting_rows_without_date() {
    let text = "CVE-2025-0001,0.1,0.2\nCVE-2025-0001,0.1,0.25\n";
    let error = EpssScores::from_reader("extract.csv", text.as_bytes()).unwrap_err();
    assert!(matches!(error, IntelError::EpssConflict { line: 2, .. }), "{error}");
}

#[test]
fn repeated_identical_row_is_logged() {
    let text = "cve,epss,percentile\nCVE-2025-0001,0.1,0.2\nCVE-2025-0001,0.10000,0.2\n";
    let (result, logs) = capture_logs(|| EpssScores::from_reader("repeat.csv", text.as_bytes()));
    let scores = result.unwrap();
    assert_eq!(scores.len(), 1);
    assert_eq!(scores.get(&cve("CVE-2025-0001")).unwrap().score, score(0.1, 0.2));
    assert!(logs.contains("repeats some rows"), "{logs}");
    assert!(logs.contains("duplicates=1"), "{logs}");
}

fn day_2_file(name: &str, epss: &str) -> EpssScores {
    let text = format!(
        "#model_version:v2025.03.14,score_date:2025-03-02T00:00:00+0000\ncve,epss,percentile\n\
         CVE-2025-0001,{epss},0.5\nCVE-2025-0002,0.001,0.3\n"
    );
    EpssScores::from_reader(name, text.as_bytes()).unwrap()
}

#[test]
fn same_day_files_later_wins() {
    for (first, second, expected) in [("a.csv", "b.csv", 0.2), ("b.csv", "a.csv", 0.1)] {
        let epss = |name: &str| if name == "a.csv" { "0.1" } else { "0.2" };
        let mut scores = load(DAY_1);
        scores.merge(day_2_file(first, epss(first)));
        let (_, logs) = capture_logs(|| scores.merge(day_2_file(second, epss(second))));

        let latest = scores.get(&cve("CVE-2025-0001")).unwrap();
        assert_eq!(latest.score.epss, expected, "{first} then {second}");
        assert_eq!(latest.file.path, second);
        assert_eq!(history(&scores, "CVE-2025-0001").len(), 2, "one point per day");
        assert!(logs.contains("disagree"), "{logs}");
        assert!(logs.contains("cves=1"), "only CVE-2025-0001 differs: {logs}");
        assert!(logs.contains(second), "{logs}");
    }
}

#[test]
fn same_day_older_file_merged_later_wins() {
    let mut scores = load_all(&[DAY_1, DAY_4]);
    scores.merge(day_2_file("a.csv", "0.1"));
    scores.merge(day_2_file("b.csv", "0.2"));
    assert_eq!(
        scores.as_of(&cve("CVE-2025-0001"), date("2025-03-03")),
        Some((date("2025-03-02"), score(0.2, 0.5)))
    );
    let latest = scores.get(&cve("CVE-2025-0001")).unwrap();
    assert_eq!(
        latest.file.score_date,
        Some(date("2025-03-04")),
        "day 4 stays the latest"
    );
}

#[test]
fn score_date_before_epss_rejected() {
    let text = "#model_version:v1,score_date:2021-04-13T00:00:00+0000\ncve,epss,percentile\n";
    let error = EpssScores::from_reader("old.csv", text.as_bytes()).unwrap_err();
    assert!(
        matches!(
            error,
            IntelError::EpssValue {
                line: 1,
                field: "score_date",
                ..
            }
        ),
        "{error}"
    );
    assert!(error.to_string().contains("2021-04-14"), "{error}");

    let first_day = "#model_version:v1,score_date:2021-04-14T00:00:00+0000\ncve,epss,percentile\n";
    assert!(EpssScores::from_reader("first.csv", first_day.as_bytes()).is_ok());
}

#[test]
fn extra_decimals_rounded_and_logged() {
    let text = "#model_version:v1,score_date:2025-03-01\ncve,epss,percentile\n\
                CVE-2025-0001,0.123456,0.5\nCVE-2025-0002,0.1234500000,0.5\n";
    let (result, logs) = capture_logs(|| EpssScores::from_reader("precise.csv", text.as_bytes()));
    let scores = result.unwrap();
    assert_eq!(scores.get(&cve("CVE-2025-0001")).unwrap().score.epss, 0.12346);
    assert_eq!(scores.get(&cve("CVE-2025-0002")).unwrap().score.epss, 0.12345);
    assert!(logs.contains("rounded=1"), "{logs}");
}

#[test]
fn snapshots_fill_history() {
    let scores = EpssScores::load_snapshots(fixture("epss_snapshots/snapshots.csv")).unwrap();
    assert_eq!(scores.len(), 2);
    assert_eq!(
        history(&scores, "CVE-2025-0282"),
        [
            (date("2025-01-06"), score(0.00043, 0.11049)),
            (date("2025-01-13"), score(0.94105, 0.99903)),
            (date("2025-01-20"), score(0.94105, 0.99903)),
        ]
    );
    let file = &scores.files()[0];
    assert_eq!(file.score_date, Some(date("2025-01-20")));
    assert_eq!(file.model_version, None);
    assert_eq!(file.count, 2);
    assert_eq!(scores.trend(&cve("CVE-2025-0282"), 14).unwrap().epss_change, 0.94062);
    assert_eq!(
        scores.get(&cve("CVE-2021-44228")).unwrap().score,
        score(0.94358, 0.99956)
    );
}

#[test]
fn snapshots_merge_with_daily() {
    let mut scores = EpssScores::load_snapshots(fixture("epss_snapshots/snapshots.csv")).unwrap();
    scores.merge(load(DAY_1));
    assert_eq!(history(&scores, "CVE-2021-44228").len(), 3);
    let latest = scores.get(&cve("CVE-2021-44228")).unwrap();
    assert_eq!(latest.file.score_date, Some(date("2025-03-01")));
}

fn snapshots_error(text: &str) -> IntelError {
    EpssScores::snapshots_from_reader("weekly.csv", text.as_bytes()).unwrap_err()
}

#[test]
fn snapshots_invalid_inputs() {
    let header = "cve,snapshot_date,epss,percentile\n";
    let cases: [(&str, String, &str); 7] = [
        ("empty", String::new(), "empty"),
        (
            "daily layout",
            "cve,epss,percentile\n".to_string(),
            "no column snapshot_date",
        ),
        (
            "bad date",
            format!("{header}CVE-2025-0001,2025-13-01,0.1,0.2\n"),
            "line 2: invalid snapshot_date",
        ),
        (
            "early date",
            format!("{header}CVE-2025-0001,2020-01-01,0.1,0.2\n"),
            "2021-04-14",
        ),
        (
            "bad cve",
            format!("{header}CVE-1,2025-01-06,0.1,0.2\n"),
            "line 2: invalid cve",
        ),
        (
            "columns",
            format!("{header}CVE-2025-0001,2025-01-06,0.1\n"),
            "line 2: expected 4 columns",
        ),
        (
            "conflict",
            format!("{header}CVE-2025-0001,2025-01-06,0.1,0.2\nCVE-2025-0001,2025-01-06,0.3,0.2\n"),
            "line 3: CVE-2025-0001 is scored again",
        ),
    ];
    for (case, text, expected) in cases {
        let message = snapshots_error(&text).to_string();
        assert!(message.starts_with("weekly.csv"), "{case}: {message}");
        assert!(message.contains(expected), "{case}: {message}");
    }
}

#[test]
fn snapshots_huge_line_rejected() {
    let text = format!("cve,snapshot_date,epss,percentile\n{}", "9".repeat(10 * 1024 * 1024));
    assert!(matches!(
        snapshots_error(&text),
        IntelError::LineTooLong { line: 2, .. }
    ));
}

#[test]
fn real_weekly_snapshots() {
    let Some(shared) = shared_dir("real_weekly_snapshots") else {
        return;
    };
    let path = shared.join("intel/epss/kev_weekly_epss_2025.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let rows: Vec<&str> = text.lines().skip(1).filter(|line| !line.trim().is_empty()).collect();
    let mut distinct: Vec<&str> = rows.iter().map(|row| row.split(',').next().unwrap()).collect();
    distinct.sort_unstable();
    distinct.dedup();

    let scores = EpssScores::load_snapshots(&path).unwrap();
    assert_eq!(scores.len(), distinct.len());
    assert_eq!(scores.files()[0].count, distinct.len());
    let stored: usize = distinct.iter().map(|id| scores.history(&cve(id)).count()).sum();
    assert_eq!(stored, rows.len(), "one point per row");
    assert_eq!(
        scores.as_of(&cve("CVE-2007-0671"), date("2025-01-06")),
        Some((date("2025-01-06"), score(0.95591, 0.99565)))
    );
}

/// Scores CVE-2025-0001 at 0.9 on 2025-03-01 and 0.1 on 2025-03-20, and
/// CVE-2025-0002 at 0.1, then 0.2.
fn spike_then_fall() -> EpssScores {
    let day = |date: &str, first: f64, second: f64| {
        let text = format!(
            "#model_version:v2025.03.14,score_date:{date}T00:00:00+0000\ncve,epss,percentile\n\
             CVE-2025-0001,{first},0.5\nCVE-2025-0002,{second},0.5\n"
        );
        EpssScores::from_reader(date, text.as_bytes()).unwrap()
    };
    let mut scores = day("2025-03-01", 0.9, 0.1);
    scores.merge(day("2025-03-20", 0.1, 0.2));
    scores
}

#[test]
fn window_maximum_keeps_recent_peak() {
    let scores = spike_then_fall();
    let wide = scores.window_maximum(&cve("CVE-2025-0001"), 30).unwrap();
    assert_eq!((wide.maximum, wide.date), (0.9, Some(date("2025-03-01"))));
    assert_eq!(wide.record.score.epss, 0.1);
    // 19 days before the newest day, the peak is outside a window of 10.
    let narrow = scores.window_maximum(&cve("CVE-2025-0001"), 10).unwrap();
    assert_eq!((narrow.maximum, narrow.date), (0.1, Some(date("2025-03-20"))));
    let rising = scores.window_maximum(&cve("CVE-2025-0002"), 30).unwrap();
    assert_eq!((rising.maximum, rising.date), (0.2, Some(date("2025-03-20"))));
    assert!(scores.window_maximum(&cve("CVE-2025-9999"), 30).is_none());

    let mut intel = Intel::default();
    intel.add_epss(spike_then_fall());
    let peak = intel.facts(&cve("CVE-2025-0001")).epss_recent_maximum.unwrap();
    assert_eq!((peak.epss, peak.date, peak.days), (0.9, Some(date("2025-03-01")), 30));
    assert_eq!(intel.facts(&cve("CVE-2025-0002")).epss_recent_maximum, None);
}

/// Compares the window maximum with the maximum over every scored day, on
/// 60 generated days of three CVEs whose scores repeat, rise and fall (so
/// the history contains runs of equal scores) and one undated file.
#[test]
fn window_maximum_matches_every_day() {
    let mut state: u64 = 0x5eed_0005;
    let mut next = move |bound: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % bound
    };
    let mut scores = EpssScores::from_reader(
        "undated.csv",
        "cve,epss,percentile\nCVE-2025-0004,0.3,0.5\nCVE-2025-0001,0.99,0.5\n".as_bytes(),
    )
    .unwrap();
    let first = date("2025-01-01");
    let mut levels = [0u64; 3];
    for offset in 0..60 {
        // Some days have no file, so the history has gaps.
        if next(5) == 0 {
            continue;
        }
        let day = first + chrono::Days::new(offset);
        let mut text = format!("#model_version:v2025.03.14,score_date:{day}T00:00:00+0000\ncve,epss,percentile\n");
        for (index, level) in levels.iter_mut().enumerate() {
            // About half the days keep the score of the day before.
            if next(2) == 0 {
                *level = next(6);
            }
            text.push_str(&format!("CVE-2025-000{},0.{}0000,0.5\n", index + 1, *level));
        }
        scores.merge(EpssScores::from_reader(&day.to_string(), text.as_bytes()).unwrap());
    }

    let newest = scores.latest_score_date().unwrap();
    for id in ["CVE-2025-0001", "CVE-2025-0002", "CVE-2025-0003", "CVE-2025-0004"] {
        for days in [-1, 0, 1, 7, 30, 59, 60, 1_000, 100_000_000, i64::MAX] {
            let window = scores.window_maximum(&cve(id), days).unwrap();
            let latest = scores.get(&cve(id)).unwrap();
            let start = chrono::TimeDelta::try_days(days).and_then(|window| newest.checked_sub_signed(window));
            let peak = history(&scores, id)
                .into_iter()
                .filter(|(day, _)| start.is_some_and(|start| *day >= start))
                .map(|(day, score)| (score.epss, day))
                .max_by(|a, b| a.0.total_cmp(&b.0));
            let expected = match peak {
                Some((maximum, day)) if maximum > latest.score.epss => (maximum, Some(day)),
                _ => (latest.score.epss, latest.file.score_date),
            };
            assert_eq!((window.maximum, window.date), expected, "{id}, {days} days");
            assert_eq!(window.record.score, latest.score, "{id}, {days} days");
        }
    }
}
