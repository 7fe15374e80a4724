//! The finding lifecycle across runs: new, open, fixed and reopened, and
//! the scopes that decide what a run may close.

mod common;

use common::{TestStore, day, image_scan, run, scope, scored, vulnerability};
use ctem_model::{Fingerprint, LifecycleStatus};
use ctem_store::{FindingFilter, RunSummary, StoreError};

fn fingerprint(target: &str, rule: &str) -> Fingerprint {
    vulnerability(target, rule).fingerprint()
}

fn status_of(test: &TestStore, target: &str, rule: &str) -> LifecycleStatus {
    test.store
        .finding(&fingerprint(target, rule))
        .unwrap()
        .unwrap_or_else(|| panic!("{rule} on {target} is not stored"))
        .status
}

fn counts(summary: &RunSummary) -> [u64; 5] {
    [
        summary.seen,
        summary.new,
        summary.still_open,
        summary.reopened,
        summary.fixed,
    ]
}

#[test]
fn first_run_marks_every_finding_new() {
    let mut test = TestStore::new();
    let summary = test
        .store
        .record_run(&image_scan(day(1), "shop:1", &["CVE-1", "CVE-2", "CVE-3"]))
        .unwrap();

    assert_eq!(counts(&summary), [3, 3, 0, 0, 0]);
    assert_eq!(summary.observed_at, day(1));
    for rule in ["CVE-1", "CVE-2", "CVE-3"] {
        assert_eq!(status_of(&test, "shop:1", rule), LifecycleStatus::New);
    }
}

#[test]
fn same_run_twice_is_still_open() {
    let mut test = TestStore::new();
    let rules = ["CVE-1", "CVE-2", "CVE-3"];
    test.store.record_run(&image_scan(day(1), "shop:1", &rules)).unwrap();
    let second = test.store.record_run(&image_scan(day(2), "shop:1", &rules)).unwrap();

    assert_eq!(counts(&second), [3, 0, 3, 0, 0]);
    assert_ne!(second.run_id, 0);
    for rule in rules {
        let stored = test.store.finding(&fingerprint("shop:1", rule)).unwrap().unwrap();
        assert_eq!(stored.status, LifecycleStatus::Open);
        assert_eq!(stored.first_seen, day(1));
        assert_eq!(stored.last_seen, day(2));
        assert_eq!(stored.fixed_at, None);
    }
}

#[test]
fn rescan_fixes_exactly_the_missing_two() {
    let mut test = TestStore::new();
    test.store
        .record_run(&image_scan(day(1), "shop:1", &["CVE-1", "CVE-2", "CVE-3", "CVE-4"]))
        .unwrap();
    let rescan = test
        .store
        .record_run(&image_scan(day(2), "shop:1", &["CVE-1", "CVE-3"]))
        .unwrap();

    assert_eq!(counts(&rescan), [2, 0, 2, 0, 2]);
    assert_eq!(status_of(&test, "shop:1", "CVE-1"), LifecycleStatus::Open);
    assert_eq!(status_of(&test, "shop:1", "CVE-3"), LifecycleStatus::Open);

    let fixed = test
        .store
        .findings(&FindingFilter {
            statuses: vec![LifecycleStatus::Fixed],
            ..FindingFilter::default()
        })
        .unwrap();
    let mut fixed_rules: Vec<&str> = fixed.iter().map(|f| f.finding.rule_id.as_str()).collect();
    fixed_rules.sort_unstable();
    assert_eq!(fixed_rules, ["CVE-2", "CVE-4"]);
    for finding in &fixed {
        assert_eq!(finding.fixed_at, Some(day(2)));
        assert_eq!(finding.last_seen, day(1), "last_seen moved for {}", finding.fingerprint);
    }
}

#[test]
fn scope_left_out_closes_nothing() {
    let mut test = TestStore::new();
    let first = run(
        day(1),
        &[scope("trivy", "shop:1"), scope("semgrep", "repo")],
        vec![
            scored(vulnerability("shop:1", "CVE-1"), 50.0),
            scored(sast_finding("repo", "sql-injection"), 70.0),
        ],
    );
    test.store.record_run(&first).unwrap();

    // The second run only ran Semgrep, which saw nothing.
    let second = run(day(2), &[scope("semgrep", "repo")], Vec::new());
    let summary = test.store.record_run(&second).unwrap();

    assert_eq!(summary.fixed, 1);
    assert_eq!(status_of(&test, "shop:1", "CVE-1"), LifecycleStatus::New);

    // A run that lists no scope at all closes nothing either.
    let third = run(day(3), &[], Vec::new());
    assert_eq!(test.store.record_run(&third).unwrap().fixed, 0);
    assert_eq!(status_of(&test, "shop:1", "CVE-1"), LifecycleStatus::New);
}

#[test]
fn image_a_scan_never_closes_image_b() {
    let mut test = TestStore::new();
    let both = run(
        day(1),
        &[scope("trivy", "image-a"), scope("trivy", "image-b")],
        vec![
            scored(vulnerability("image-a", "CVE-1"), 50.0),
            scored(vulnerability("image-b", "CVE-1"), 50.0),
            scored(vulnerability("image-b", "CVE-2"), 50.0),
        ],
    );
    test.store.record_run(&both).unwrap();

    let only_a = test.store.record_run(&image_scan(day(2), "image-a", &[])).unwrap();

    assert_eq!(only_a.fixed, 1);
    assert_eq!(status_of(&test, "image-a", "CVE-1"), LifecycleStatus::Fixed);
    assert_eq!(status_of(&test, "image-b", "CVE-1"), LifecycleStatus::New);
    assert_eq!(status_of(&test, "image-b", "CVE-2"), LifecycleStatus::New);
}

#[test]
fn same_target_other_tool_is_not_closed() {
    let mut test = TestStore::new();
    let mut grype = vulnerability("shop:1", "CVE-9");
    grype.tool = "grype".into();
    let grype_fingerprint = grype.fingerprint();
    let first = run(
        day(1),
        &[scope("trivy", "shop:1"), scope("grype", "shop:1")],
        vec![scored(vulnerability("shop:1", "CVE-1"), 50.0), scored(grype, 50.0)],
    );
    test.store.record_run(&first).unwrap();

    test.store.record_run(&image_scan(day(2), "shop:1", &[])).unwrap();

    let grype_status = test.store.finding(&grype_fingerprint).unwrap().unwrap().status;
    assert_eq!(grype_status, LifecycleStatus::New);
    assert_eq!(status_of(&test, "shop:1", "CVE-1"), LifecycleStatus::Fixed);
}

#[test]
fn fixed_finding_seen_again_is_reopened() {
    let mut test = TestStore::new();
    test.store
        .record_run(&image_scan(day(1), "shop:1", &["CVE-1", "CVE-2"]))
        .unwrap();
    test.store
        .record_run(&image_scan(day(2), "shop:1", &["CVE-2"]))
        .unwrap();
    let reopening = test
        .store
        .record_run(&image_scan(day(3), "shop:1", &["CVE-1", "CVE-2"]))
        .unwrap();

    assert_eq!(counts(&reopening), [2, 0, 1, 1, 0]);
    let stored = test.store.finding(&fingerprint("shop:1", "CVE-1")).unwrap().unwrap();
    assert_eq!(stored.status, LifecycleStatus::Reopened);
    assert_eq!(stored.fixed_at, None, "fixed_at stays set after reopening");
    assert_eq!(stored.first_seen, day(1));
    assert_eq!(stored.last_seen, day(3));

    // The next sighting turns the reopened finding into an open one.
    let next = test
        .store
        .record_run(&image_scan(day(4), "shop:1", &["CVE-1", "CVE-2"]))
        .unwrap();
    assert_eq!(counts(&next), [2, 0, 2, 0, 0]);
    assert_eq!(status_of(&test, "shop:1", "CVE-1"), LifecycleStatus::Open);
}

#[test]
fn fixed_finding_stays_fixed_when_unseen() {
    let mut test = TestStore::new();
    test.store
        .record_run(&image_scan(day(1), "shop:1", &["CVE-1"]))
        .unwrap();
    test.store.record_run(&image_scan(day(2), "shop:1", &[])).unwrap();
    let third = test.store.record_run(&image_scan(day(3), "shop:1", &[])).unwrap();

    assert_eq!(third.fixed, 0, "an already fixed finding was fixed again");
    let stored = test.store.finding(&fingerprint("shop:1", "CVE-1")).unwrap().unwrap();
    assert_eq!(stored.fixed_at, Some(day(2)));
}

#[test]
fn duplicate_fingerprint_counts_once_with_higher_score() {
    let mut test = TestStore::new();
    let finding = vulnerability("shop:1", "CVE-1");
    let mut reworded = finding.clone();
    reworded.title = "the same weakness, reported twice".into();
    let input = run(
        day(1),
        &[scope("trivy", "shop:1")],
        vec![
            scored(finding.clone(), 40.0),
            scored(reworded, 90.0),
            scored(finding, 60.0),
        ],
    );

    let summary = test.store.record_run(&input).unwrap();

    assert_eq!(counts(&summary), [1, 1, 0, 0, 0]);
    let stored = test.store.findings(&FindingFilter::default()).unwrap();
    assert_eq!(stored.len(), 1);
    let risk = stored[0].risk.as_ref().unwrap();
    assert_eq!(risk.score, 90.0);
    assert_eq!(stored[0].finding.title, "the same weakness, reported twice");
    let history = test.store.finding_history(&stored[0].fingerprint).unwrap();
    assert_eq!(history.len(), 1);
}

#[test]
fn run_older_than_latest_is_rejected() {
    let mut test = TestStore::new();
    test.store
        .record_run(&image_scan(day(5), "shop:1", &["CVE-1"]))
        .unwrap();

    let error = test.store.record_run(&image_scan(day(3), "shop:1", &[])).unwrap_err();

    assert!(
        matches!(error, StoreError::OutOfOrder { observed_at, latest, .. } if observed_at == day(3) && latest == day(5)),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.contains("2024-05-03"), "{message}");
    assert!(message.contains("2024-05-05"), "{message}");
    assert_eq!(test.store.runs().unwrap().len(), 1);
    assert_eq!(status_of(&test, "shop:1", "CVE-1"), LifecycleStatus::New);
}

#[test]
fn run_at_same_time_as_latest_is_accepted() {
    let mut test = TestStore::new();
    test.store
        .record_run(&image_scan(day(5), "shop:1", &["CVE-1"]))
        .unwrap();

    let summary = test
        .store
        .record_run(&image_scan(day(5), "shop:2", &["CVE-1"]))
        .unwrap();

    assert_eq!(summary.new, 1);
}

#[test]
fn finding_without_target_uses_empty_scope() {
    let mut test = TestStore::new();
    let mut finding = vulnerability("shop:1", "CVE-1");
    finding.target = None;
    let fingerprint = finding.fingerprint();
    test.store
        .record_run(&run(day(1), &[], vec![scored(finding, 50.0)]))
        .unwrap();

    // Only a run that covers the target "" closes it.
    test.store
        .record_run(&run(day(2), &[scope("trivy", "shop:1")], Vec::new()))
        .unwrap();
    assert_eq!(
        test.store.finding(&fingerprint).unwrap().unwrap().status,
        LifecycleStatus::New
    );
    test.store
        .record_run(&run(day(3), &[scope("trivy", "")], Vec::new()))
        .unwrap();
    assert_eq!(
        test.store.finding(&fingerprint).unwrap().unwrap().status,
        LifecycleStatus::Fixed
    );
}

#[test]
fn finding_moved_to_another_target_follows_it() {
    let mut test = TestStore::new();
    let finding = vulnerability("shop:1", "CVE-1");
    let fingerprint = finding.fingerprint();
    // Two sightings under the old name make it open, so the move below is
    // not also a change of status.
    for at in [1, 2] {
        let old = run(
            day(at),
            &[scope("trivy", "old-name")],
            vec![scored(with_target(finding.clone(), "old-name"), 50.0)],
        );
        test.store.record_run(&old).unwrap();
    }

    // The same weakness, now reported under another target name.
    let moved = run(
        day(3),
        &[scope("trivy", "new-name")],
        vec![scored(with_target(finding, "new-name"), 50.0)],
    );
    let summary = test.store.record_run(&moved).unwrap();
    assert_eq!(counts(&summary), [1, 0, 1, 0, 0]);
    let in_new = test
        .store
        .findings(&FindingFilter {
            target: Some("new-name".into()),
            ..FindingFilter::default()
        })
        .unwrap();
    assert_eq!(in_new.len(), 1, "the target column was not updated");

    // A scan of the old target no longer owns it.
    test.store
        .record_run(&run(day(4), &[scope("trivy", "old-name")], Vec::new()))
        .unwrap();
    assert_eq!(
        test.store.finding(&fingerprint).unwrap().unwrap().status,
        LifecycleStatus::Open
    );
}

#[test]
fn unlisted_scope_of_seen_finding_closes_nothing() {
    let mut test = TestStore::new();
    test.store
        .record_run(&image_scan(day(1), "shop:1", &["CVE-1", "CVE-2"]))
        .unwrap();

    // The run saw CVE-1 of shop:1 but does not claim to cover shop:1.
    let partial = run(
        day(2),
        &[scope("trivy", "cart:1")],
        vec![scored(vulnerability("shop:1", "CVE-1"), 50.0)],
    );
    let summary = test.store.record_run(&partial).unwrap();

    assert_eq!(summary.fixed, 0);
    assert_eq!(status_of(&test, "shop:1", "CVE-1"), LifecycleStatus::Open);
    assert_eq!(status_of(&test, "shop:1", "CVE-2"), LifecycleStatus::New);
}

#[test]
fn moved_finding_survives_scan_of_both_targets() {
    let mut test = TestStore::new();
    let finding = vulnerability("shop:1", "CVE-1");
    let fingerprint = finding.fingerprint();
    let scopes = [scope("trivy", "old-name"), scope("trivy", "new-name")];
    for at in [1, 2] {
        let old = run(
            day(at),
            &scopes,
            vec![scored(with_target(finding.clone(), "old-name"), 50.0)],
        );
        test.store.record_run(&old).unwrap();
    }

    // One run covers both targets and sees the finding under the new one:
    // the old scope's scan no longer has it, but it is not fixed.
    let summary = test
        .store
        .record_run(&run(
            day(3),
            &scopes,
            vec![scored(with_target(finding, "new-name"), 50.0)],
        ))
        .unwrap();

    assert_eq!(counts(&summary), [1, 0, 1, 0, 0]);
    let stored = test.store.finding(&fingerprint).unwrap().unwrap();
    assert_eq!(stored.status, LifecycleStatus::Open);
    assert_eq!(stored.finding.target.as_deref(), Some("new-name"));
    let in_new = test
        .store
        .findings(&FindingFilter {
            target: Some("new-name".into()),
            ..FindingFilter::default()
        })
        .unwrap();
    assert_eq!(in_new.len(), 1);
}

#[test]
fn fixed_finding_reopens_under_new_target() {
    let mut test = TestStore::new();
    let finding = vulnerability("shop:1", "CVE-1");
    let fingerprint = finding.fingerprint();
    test.store
        .record_run(&run(
            day(1),
            &[scope("trivy", "old-name")],
            vec![scored(with_target(finding.clone(), "old-name"), 50.0)],
        ))
        .unwrap();
    test.store
        .record_run(&run(day(2), &[scope("trivy", "old-name")], Vec::new()))
        .unwrap();

    let summary = test
        .store
        .record_run(&run(
            day(3),
            &[scope("trivy", "new-name")],
            vec![scored(with_target(finding, "new-name"), 50.0)],
        ))
        .unwrap();

    assert_eq!(counts(&summary), [1, 0, 0, 1, 0]);
    let stored = test.store.finding(&fingerprint).unwrap().unwrap();
    assert_eq!(stored.status, LifecycleStatus::Reopened);
    assert_eq!(stored.fixed_at, None);
}

#[test]
fn many_scopes_close_only_their_own() {
    let mut test = TestStore::new();
    let targets: Vec<String> = (0..12).map(|i| format!("image-{i}")).collect();
    let all_scopes: Vec<_> = targets.iter().map(|t| scope("trivy", t)).collect();
    let findings = targets
        .iter()
        .flat_map(|target| (0..5).map(move |i| scored(vulnerability(target, &format!("CVE-{i}")), 40.0)))
        .collect();
    test.store.record_run(&run(day(1), &all_scopes, findings)).unwrap();

    // Rescan the even images only, each now without CVE-0 and CVE-1.
    let even: Vec<_> = all_scopes.iter().step_by(2).cloned().collect();
    let rescan = even
        .iter()
        .flat_map(|scope| (2..5).map(|i| scored(vulnerability(&scope.target, &format!("CVE-{i}")), 40.0)))
        .collect();
    let summary = test.store.record_run(&run(day(2), &even, rescan)).unwrap();

    assert_eq!(counts(&summary), [18, 0, 18, 0, 12]);
    for (index, target) in targets.iter().enumerate() {
        let expected = if index % 2 == 0 {
            LifecycleStatus::Fixed
        } else {
            LifecycleStatus::New
        };
        assert_eq!(status_of(&test, target, "CVE-0"), expected, "{target}");
        assert_eq!(status_of(&test, target, "CVE-1"), expected, "{target}");
    }
}

#[test]
fn tool_spelled_differently_moves_scope() {
    let mut test = TestStore::new();
    let finding = vulnerability("shop:1", "CVE-1");
    let fingerprint = finding.fingerprint();
    for at in [1, 2] {
        test.store
            .record_run(&image_scan(day(at), "shop:1", &["CVE-1"]))
            .unwrap();
    }

    // The fingerprint lowercases the tool, so this is the same finding.
    let mut shouting = finding;
    shouting.tool = "Trivy".into();
    assert_eq!(shouting.fingerprint(), fingerprint);
    let summary = test
        .store
        .record_run(&run(day(3), &[scope("Trivy", "shop:1")], vec![scored(shouting, 50.0)]))
        .unwrap();

    assert_eq!(counts(&summary), [1, 0, 1, 0, 0]);
    let by_new_tool = test
        .store
        .findings(&FindingFilter {
            tool: Some("Trivy".into()),
            ..FindingFilter::default()
        })
        .unwrap();
    assert_eq!(by_new_tool.len(), 1, "the tool column was not updated");
}

#[test]
fn history_records_each_transition() {
    let mut test = TestStore::new();
    let scans: [(u32, &[&str]); 6] = [
        (1, &["CVE-1"]),
        (2, &["CVE-1"]),
        (3, &["CVE-1"]),
        (4, &[]),
        (5, &["CVE-1"]),
        (6, &["CVE-1"]),
    ];
    let mut run_ids = Vec::new();
    for (at, rules) in scans {
        let summary = test.store.record_run(&image_scan(day(at), "shop:1", rules)).unwrap();
        run_ids.push(summary.run_id);
    }

    let history = test.store.finding_history(&fingerprint("shop:1", "CVE-1")).unwrap();
    let entries: Vec<(i64, u32, LifecycleStatus)> = history
        .iter()
        .map(|entry| {
            let at_day = entry.at.format("%d").to_string().parse().unwrap();
            (entry.run_id.unwrap(), at_day, entry.status)
        })
        .collect();
    assert_eq!(
        entries,
        [
            (run_ids[0], 1, LifecycleStatus::New),
            (run_ids[1], 2, LifecycleStatus::Open),
            (run_ids[3], 4, LifecycleStatus::Fixed),
            (run_ids[4], 5, LifecycleStatus::Reopened),
            (run_ids[5], 6, LifecycleStatus::Open),
        ]
    );
}

#[test]
fn scores_are_kept_per_run() {
    let mut test = TestStore::new();
    let finding = vulnerability("shop:1", "CVE-1");
    for (at, score) in [(1, 40.0), (2, 85.0)] {
        test.store
            .record_run(&run(
                day(at),
                &[scope("trivy", "shop:1")],
                vec![scored(finding.clone(), score)],
            ))
            .unwrap();
    }

    let conn = test.raw_connection();
    let scores: Vec<(i64, f64, String)> = conn
        .prepare("SELECT run_id, score, tier FROM finding_scores ORDER BY run_id")
        .unwrap()
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(scores, [(1, 40.0, "P3".to_string()), (2, 85.0, "P1".to_string())]);
    let stored = test.store.finding(&finding.fingerprint()).unwrap().unwrap();
    assert_eq!(stored.risk.unwrap().score, 85.0);
}

#[test]
fn run_counts_are_stored() {
    let mut test = TestStore::new();
    test.store
        .record_run(&image_scan(day(1), "shop:1", &["CVE-1", "CVE-2"]))
        .unwrap();
    let summary = test
        .store
        .record_run(&image_scan(day(2), "shop:1", &["CVE-2", "CVE-3"]))
        .unwrap();

    let latest = test.store.latest_run().unwrap().unwrap();
    assert_eq!(latest.summary, summary);
    assert_eq!(counts(&latest.summary), [2, 1, 1, 0, 1]);
}

fn sast_finding(target: &str, rule: &str) -> ctem_model::Finding {
    let mut finding = ctem_model::Finding::new(
        "semgrep",
        rule,
        ctem_model::FindingKind::CodeWeakness,
        rule,
        ctem_model::Severity::Medium,
        ctem_model::AssetKey::new(ctem_model::AssetKind::Repository, target),
    );
    finding.location.path = Some("src/db.py".into());
    finding.location.start_line = Some(12);
    finding.target = Some(target.into());
    finding
}

fn with_target(mut finding: ctem_model::Finding, target: &str) -> ctem_model::Finding {
    finding.target = Some(target.into());
    finding
}

#[test]
fn rescan_keeps_or_replaces_report_json() {
    let mut test = TestStore::new();
    let target_scope = [scope("trivy", "shop:1")];
    let report = |description: &str, score: f64| {
        let mut finding = vulnerability("shop:1", "CVE-1");
        finding.description = Some(description.to_string());
        scored(finding, score)
    };
    let key = fingerprint("shop:1", "CVE-1");
    let stored = |test: &TestStore| test.store.finding(&key).unwrap().expect("the finding is stored");

    test.store
        .record_run(&run(day(1), &target_scope, vec![report("first wording", 50.0)]))
        .unwrap();
    // The same report: the stored JSON stays as it is.
    test.store
        .record_run(&run(day(2), &target_scope, vec![report("first wording", 50.0)]))
        .unwrap();
    assert_eq!(stored(&test).finding.description.as_deref(), Some("first wording"));

    // A reworded report with the same score only touches the finding.
    test.store
        .record_run(&run(day(3), &target_scope, vec![report("second wording", 50.0)]))
        .unwrap();
    assert_eq!(stored(&test).finding.description.as_deref(), Some("second wording"));

    // A new score rewrites the finding and its assessment.
    test.store
        .record_run(&run(day(4), &target_scope, vec![report("third wording", 70.0)]))
        .unwrap();
    let finding = stored(&test);
    assert_eq!(finding.finding.description.as_deref(), Some("third wording"));
    assert_eq!(finding.risk.map(|risk| risk.score), Some(70.0));

    // Back to the first wording: a hash of an older JSON must not hide it.
    test.store
        .record_run(&run(day(5), &target_scope, vec![report("first wording", 70.0)]))
        .unwrap();
    assert_eq!(stored(&test).finding.description.as_deref(), Some("first wording"));
}
