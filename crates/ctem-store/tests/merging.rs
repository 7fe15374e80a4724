//! Findings merged across tools and moved lines, triage statuses, VEX,
//! validation marks, run statistics, asset coverage and redupe.

mod common;

use chrono::Duration;
use common::{TestStore, day, dump, run, scope, scored};
use ctem_model::{
    Asset, AssetKey, AssetKind, Component, Criticality, Finding, FindingKind, Fingerprint, LifecycleStatus, Severity,
    SourceStatus, Tier, Validation,
};
use ctem_store::{Cause, FindingFilter, RunSummary, StoreError, TriageAction, TriageRequest};

const IMAGE: &str = "shop:1";

/// Builds a report of CVE-2021-44228 in log4j-core 2.14.1 on the image, as
/// `tool` words it.
fn log4j(tool: &str) -> Finding {
    let (rule, extra) = match tool {
        "grype" => ("GHSA-jfh8-c2jp-5v3q", Some("CVE-2021-44228")),
        _ => ("CVE-2021-44228", None),
    };
    let mut finding = Finding::new(
        tool,
        rule,
        FindingKind::Vulnerability,
        "log4j-core: remote code execution",
        Severity::Critical,
        AssetKey::new(AssetKind::ContainerImage, IMAGE),
    );
    if let Some(cve) = extra {
        finding.vulnerability_ids.push(cve.parse().unwrap());
    }
    let purl = match tool {
        "grype" => "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
        _ => "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1?type=jar",
    };
    finding.component = Some(Component {
        name: "log4j-core".into(),
        version: Some("2.14.1".into()),
        purl: Some(purl.parse().unwrap()),
        ecosystem: Some("maven".into()),
    });
    finding.target = Some(IMAGE.into());
    finding
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

fn status(test: &TestStore, fingerprint: &Fingerprint) -> LifecycleStatus {
    test.store.finding(fingerprint).unwrap().unwrap().status
}

fn history_causes(test: &TestStore, fingerprint: &Fingerprint) -> Vec<(Cause, LifecycleStatus)> {
    test.store
        .finding_history(fingerprint)
        .unwrap()
        .iter()
        .map(|entry| (entry.cause, entry.status))
        .collect()
}

#[test]
fn two_tools_one_cve_merge() {
    let mut test = TestStore::new();
    let trivy = log4j("trivy");
    let grype = log4j("grype");
    assert_ne!(trivy.fingerprint(), grype.fingerprint());

    let summary = test
        .store
        .record_run(&run(
            day(1),
            &[scope("trivy", IMAGE), scope("grype", IMAGE)],
            vec![scored(trivy.clone(), 90.0), scored(grype.clone(), 95.0)],
        ))
        .unwrap();
    assert_eq!(counts(&summary), [1, 1, 0, 0, 0]);

    let all = test.store.findings(&FindingFilter::default()).unwrap();
    assert_eq!(all.len(), 1);
    let stored = &all[0];
    assert_eq!(stored.tools, ["grype", "trivy"]);
    // The higher-scored report represents the finding.
    assert_eq!(stored.finding.tool, "grype");
    // Either fingerprint finds it.
    assert_eq!(
        test.store.finding(&grype.fingerprint()).unwrap().unwrap().fingerprint,
        stored.fingerprint
    );
    assert_eq!(
        test.store.finding(&trivy.fingerprint()).unwrap().unwrap().fingerprint,
        stored.fingerprint
    );

    let sources = test.store.finding_sources(&trivy.fingerprint()).unwrap();
    assert_eq!(sources.len(), 2);
    assert_eq!(sources[0].merged_by, "first");
    assert_eq!(sources[1].merged_by, "vulnerability");
    let basis = sources[1].basis.as_deref().unwrap();
    assert!(basis.contains("CVE-2021-44228"), "{basis}");
    assert!(basis.contains("log4j-core@2.14.1"), "{basis}");
    assert!(basis.contains("container_image:shop:1"), "{basis}");

    let causes = history_causes(&test, &trivy.fingerprint());
    assert_eq!(
        causes,
        [(Cause::Run, LifecycleStatus::New), (Cause::Merge, LifecycleStatus::New)]
    );
}

#[test]
fn later_tool_joins_stored_finding() {
    let mut test = TestStore::new();
    let trivy = log4j("trivy");
    test.store
        .record_run(&run(
            day(1),
            &[scope("trivy", IMAGE)],
            vec![scored(trivy.clone(), 90.0)],
        ))
        .unwrap();
    let summary = test
        .store
        .record_run(&run(
            day(2),
            &[scope("grype", IMAGE)],
            vec![scored(log4j("grype"), 90.0)],
        ))
        .unwrap();
    // Grype's report is a new source of the stored finding, not a new finding.
    assert_eq!(counts(&summary), [1, 0, 1, 0, 0]);
    let stored = test.store.finding(&trivy.fingerprint()).unwrap().unwrap();
    assert_eq!(stored.tools, ["grype", "trivy"]);
    assert_eq!(stored.status, LifecycleStatus::Open);
    assert_eq!(stored.first_seen, day(1));
}

#[test]
fn merged_finding_fixed_when_all_tools_stop() {
    let mut test = TestStore::new();
    let trivy = log4j("trivy");
    let both = [scope("trivy", IMAGE), scope("grype", IMAGE)];
    test.store
        .record_run(&run(
            day(1),
            &both,
            vec![scored(trivy.clone(), 90.0), scored(log4j("grype"), 90.0)],
        ))
        .unwrap();

    // Trivy rescans without it; Grype did not rescan and still reports it.
    let summary = test
        .store
        .record_run(&run(day(2), &[scope("trivy", IMAGE)], vec![]))
        .unwrap();
    assert_eq!(summary.fixed, 0);
    assert_eq!(status(&test, &trivy.fingerprint()), LifecycleStatus::New);
    let mut sources: Vec<(String, bool)> = test
        .store
        .finding_sources(&trivy.fingerprint())
        .unwrap()
        .into_iter()
        .map(|source| (source.tool, source.active))
        .collect();
    sources.sort();
    assert_eq!(sources, [("grype".to_string(), true), ("trivy".to_string(), false)]);

    // Grype rescans without it: now nothing reports it.
    let summary = test
        .store
        .record_run(&run(day(3), &[scope("grype", IMAGE)], vec![]))
        .unwrap();
    assert_eq!(summary.fixed, 1);
    let stored = test.store.finding(&trivy.fingerprint()).unwrap().unwrap();
    assert_eq!(stored.status, LifecycleStatus::Fixed);
    assert_eq!(stored.fixed_at, Some(day(3)));
    assert_eq!(stored.verified_at, Some(day(3)));

    // Trivy reports it again: reopened, through Trivy's own source.
    let summary = test
        .store
        .record_run(&run(
            day(4),
            &[scope("trivy", IMAGE)],
            vec![scored(trivy.clone(), 90.0)],
        ))
        .unwrap();
    assert_eq!(counts(&summary), [1, 0, 0, 1, 0]);
    assert_eq!(test.store.findings(&FindingFilter::default()).unwrap().len(), 1);
}

/// Builds a Semgrep result of `rule` at `line` of app.py in the repository.
fn sast(rule: &str, line: u32) -> Finding {
    let mut finding = Finding::new(
        "semgrep",
        rule,
        FindingKind::CodeWeakness,
        "SQL injection",
        Severity::High,
        AssetKey::new(AssetKind::Repository, "github.com/acme/shop"),
    );
    finding.location.path = Some("src/app.py".into());
    finding.location.start_line = Some(line);
    finding.target = Some("github.com/acme/shop".into());
    finding
}

fn sast_run(at: u32, lines: &[(&str, u32)]) -> ctem_store::RunInput {
    let findings = lines
        .iter()
        .map(|(rule, line)| scored(sast(rule, *line), 60.0))
        .collect();
    run(day(at), &[scope("semgrep", "github.com/acme/shop")], findings)
}

#[test]
fn moved_code_finding_stays_same() {
    let mut test = TestStore::new();
    test.store.record_run(&sast_run(1, &[("sqli", 10)])).unwrap();
    // Five lines were added above it.
    let summary = test.store.record_run(&sast_run(2, &[("sqli", 15)])).unwrap();
    assert_eq!(counts(&summary), [1, 0, 1, 0, 0]);

    let original = sast("sqli", 10).fingerprint();
    let moved = sast("sqli", 15).fingerprint();
    let stored = test.store.finding(&moved).unwrap().unwrap();
    assert_eq!(stored.fingerprint, original);
    assert_eq!(stored.status, LifecycleStatus::Open);
    assert_eq!(stored.finding.location.start_line, Some(15));
    let history = test.store.finding_history(&original).unwrap();
    let merge = history.iter().find(|entry| entry.cause == Cause::Merge).unwrap();
    let reason = merge.reason.as_deref().unwrap();
    assert!(reason.contains("line 10 to line 15"), "{reason}");
    let sources = test.store.finding_sources(&moved).unwrap();
    assert_eq!(sources.len(), 1);
    assert_eq!(sources[0].fingerprint, moved);
    assert_eq!(sources[0].merged_by, "drift");
    assert_eq!(sources[0].basis.as_deref(), Some(reason));

    // A third run at the new line is an ordinary rescan.
    let summary = test.store.record_run(&sast_run(3, &[("sqli", 15)])).unwrap();
    assert_eq!(counts(&summary), [1, 0, 1, 0, 0]);
}

#[test]
fn moved_findings_pair_in_line_order() {
    let mut test = TestStore::new();
    test.store
        .record_run(&sast_run(1, &[("sqli", 10), ("sqli", 40)]))
        .unwrap();
    let summary = test
        .store
        .record_run(&sast_run(2, &[("sqli", 13), ("sqli", 43)]))
        .unwrap();
    assert_eq!(counts(&summary), [2, 0, 2, 0, 0]);
    let first = test.store.finding(&sast("sqli", 13).fingerprint()).unwrap().unwrap();
    let second = test.store.finding(&sast("sqli", 43).fingerprint()).unwrap().unwrap();
    assert_eq!(first.fingerprint, sast("sqli", 10).fingerprint());
    assert_eq!(second.fingerprint, sast("sqli", 40).fingerprint());
}

#[test]
fn distant_line_is_another_finding() {
    let mut test = TestStore::new();
    test.store
        .record_run(&sast_run(1, &[("sqli", 10), ("xss", 100)]))
        .unwrap();
    let far = 10 + ctem_store::DRIFT_LINES as u32 + 1;
    let summary = test
        .store
        .record_run(&sast_run(2, &[("sqli", far), ("sqli", 100)]))
        .unwrap();
    // Both are new; the old sqli at 10 and the xss are fixed.
    assert_eq!(counts(&summary), [2, 2, 0, 0, 2]);
}

#[test]
fn seen_finding_keeps_its_line() {
    let mut test = TestStore::new();
    test.store.record_run(&sast_run(1, &[("sqli", 10)])).unwrap();
    let summary = test
        .store
        .record_run(&sast_run(2, &[("sqli", 10), ("sqli", 12)]))
        .unwrap();
    assert_eq!(counts(&summary), [2, 1, 1, 0, 0]);
}

/// Builds a ZAP alert of rule 40012 at `url`.
fn dast(url: &str) -> Finding {
    let mut finding = Finding::new(
        "zap",
        "40012",
        FindingKind::WebWeakness,
        "Cross Site Scripting (Reflected)",
        Severity::High,
        AssetKey::new(AssetKind::WebApp, "https://shop.example"),
    );
    finding.location.url = Some(url.into());
    finding.location.parameter = Some("q".into());
    finding.target = Some("https://shop.example".into());
    finding
}

#[test]
fn dast_endpoints_stay_separate() {
    let mut test = TestStore::new();
    let summary = test
        .store
        .record_run(&run(
            day(1),
            &[scope("zap", "https://shop.example")],
            vec![
                scored(dast("https://shop.example/search"), 70.0),
                scored(dast("https://shop.example/login"), 70.0),
            ],
        ))
        .unwrap();
    assert_eq!(counts(&summary), [2, 2, 0, 0, 0]);
}

#[test]
fn identical_rerun_changes_nothing() {
    let mut test = TestStore::new();
    let both = [
        scope("trivy", IMAGE),
        scope("grype", IMAGE),
        scope("semgrep", "github.com/acme/shop"),
    ];
    let input = |at| {
        run(
            day(at),
            &both,
            vec![
                scored(log4j("trivy"), 90.0),
                scored(log4j("grype"), 92.0),
                scored(sast("sqli", 10), 60.0),
                scored(sast("sqli", 30), 60.0),
            ],
        )
    };
    test.store.record_run(&input(1)).unwrap();
    test.store.record_run(&input(2)).unwrap();
    let conn = test.raw_connection();
    let history_before: i64 = conn
        .query_row("SELECT count(*) FROM finding_history", [], |r| r.get(0))
        .unwrap();
    let findings_before = test.store.findings(&FindingFilter::default()).unwrap();

    for at in 3..6 {
        let summary = test.store.record_run(&input(at)).unwrap();
        assert_eq!(counts(&summary), [3, 0, 3, 0, 0], "run on day {at}");
    }
    let history_after: i64 = conn
        .query_row("SELECT count(*) FROM finding_history", [], |r| r.get(0))
        .unwrap();
    assert_eq!(history_after, history_before);
    let findings_after = test.store.findings(&FindingFilter::default()).unwrap();
    assert_eq!(findings_after.len(), findings_before.len());
    for (before, after) in findings_before.iter().zip(&findings_after) {
        assert_eq!((before.status, before.first_seen), (after.status, after.first_seen));
    }
    let sources: i64 = conn
        .query_row("SELECT count(*) FROM finding_sources", [], |r| r.get(0))
        .unwrap();
    assert_eq!(sources, 4);
}

fn triage(test: &mut TestStore, fingerprint: &Fingerprint, action: TriageAction, at: chrono::DateTime<chrono::Utc>) {
    test.store
        .triage(&TriageRequest {
            fingerprints: vec![fingerprint.clone()],
            action,
            reason: "reviewed".into(),
            actor: Some("alice".into()),
            at,
        })
        .unwrap();
}

#[test]
fn accepted_risk_reopens_at_its_end() {
    let mut test = TestStore::new();
    let trivy = log4j("trivy");
    let scan = |at| run(day(at), &[scope("trivy", IMAGE)], vec![scored(log4j("trivy"), 90.0)]);
    test.store.record_run(&scan(1)).unwrap();
    triage(
        &mut test,
        &trivy.fingerprint(),
        TriageAction::AcceptRisk {
            approver: "ciso".into(),
            until: day(10),
        },
        day(2),
    );
    test.store.record_run(&scan(5)).unwrap();
    let stored = test.store.finding(&trivy.fingerprint()).unwrap().unwrap();
    assert_eq!(stored.status, LifecycleStatus::RiskAccepted);
    assert_eq!(stored.accepted_until, Some(day(10)));

    // The run on day 10 is at the end of the acceptance: it reopens.
    test.store.record_run(&scan(10)).unwrap();
    let stored = test.store.finding(&trivy.fingerprint()).unwrap().unwrap();
    assert_eq!(stored.status, LifecycleStatus::Reopened);
    assert_eq!(stored.accepted_until, None);

    let history = test.store.finding_history(&trivy.fingerprint()).unwrap();
    let triaged = history.iter().find(|entry| entry.cause == Cause::Triage).unwrap();
    assert_eq!(triaged.status, LifecycleStatus::RiskAccepted);
    assert_eq!(triaged.reason.as_deref(), Some("reviewed"));
    assert_eq!(triaged.actor.as_deref(), Some("alice"));
    assert_eq!(triaged.approver.as_deref(), Some("ciso"));
    assert_eq!(triaged.expires_at, Some(day(10)));
    assert_eq!(triaged.run_id, None);
    let expiry = history.last().unwrap();
    assert_eq!(
        (expiry.cause, expiry.status),
        (Cause::Expiry, LifecycleStatus::Reopened)
    );
}

#[test]
fn accepted_risk_expires_between_runs() {
    let mut test = TestStore::new();
    let trivy = log4j("trivy");
    test.store
        .record_run(&run(
            day(1),
            &[scope("trivy", IMAGE)],
            vec![scored(trivy.clone(), 90.0)],
        ))
        .unwrap();
    let until = day(3);
    triage(
        &mut test,
        &trivy.fingerprint(),
        TriageAction::AcceptRisk {
            approver: "ciso".into(),
            until,
        },
        day(2),
    );
    assert!(
        test.store
            .expire_acceptances(day(3) - Duration::seconds(1))
            .unwrap()
            .is_empty()
    );
    assert_eq!(test.store.expire_acceptances(day(4)).unwrap(), [trivy.fingerprint()]);
    assert_eq!(status(&test, &trivy.fingerprint()), LifecycleStatus::Reopened);
}

#[test]
fn accepted_risk_fixed_by_rescan() {
    let mut test = TestStore::new();
    let trivy = log4j("trivy");
    test.store
        .record_run(&run(
            day(1),
            &[scope("trivy", IMAGE)],
            vec![scored(trivy.clone(), 90.0)],
        ))
        .unwrap();
    triage(
        &mut test,
        &trivy.fingerprint(),
        TriageAction::AcceptRisk {
            approver: "ciso".into(),
            until: day(20),
        },
        day(2),
    );
    let summary = test
        .store
        .record_run(&run(day(3), &[scope("trivy", IMAGE)], vec![]))
        .unwrap();
    assert_eq!(summary.fixed, 1);
    assert_eq!(status(&test, &trivy.fingerprint()), LifecycleStatus::Fixed);
}

#[test]
fn false_positive_survives_sightings() {
    let mut test = TestStore::new();
    let finding = sast("sqli", 10);
    test.store.record_run(&sast_run(1, &[("sqli", 10)])).unwrap();
    triage(&mut test, &finding.fingerprint(), TriageAction::FalsePositive, day(2));
    test.store.record_run(&sast_run(3, &[("sqli", 10)])).unwrap();
    assert_eq!(status(&test, &finding.fingerprint()), LifecycleStatus::FalsePositive);
    // Not seen any more: it stays a false positive, never counted fixed.
    let summary = test.store.record_run(&sast_run(4, &[])).unwrap();
    assert_eq!(summary.fixed, 0);
    assert_eq!(status(&test, &finding.fingerprint()), LifecycleStatus::FalsePositive);
    // A person reopens it.
    triage(&mut test, &finding.fingerprint(), TriageAction::Reopen, day(5));
    assert_eq!(status(&test, &finding.fingerprint()), LifecycleStatus::Open);
}

#[test]
fn claimed_fix_verified_or_reopened() {
    let mut test = TestStore::new();
    let trivy = log4j("trivy");
    let scan = |at, seen: bool| {
        let findings = if seen {
            vec![scored(log4j("trivy"), 90.0)]
        } else {
            vec![]
        };
        run(day(at), &[scope("trivy", IMAGE)], findings)
    };
    test.store.record_run(&scan(1, true)).unwrap();
    triage(&mut test, &trivy.fingerprint(), TriageAction::Fixed, day(2));
    let stored = test.store.finding(&trivy.fingerprint()).unwrap().unwrap();
    assert_eq!(
        (stored.status, stored.fixed_at, stored.verified_at),
        (LifecycleStatus::Fixed, Some(day(2)), None)
    );

    // The scan still reports it: the claim was wrong.
    let summary = test.store.record_run(&scan(3, true)).unwrap();
    assert_eq!(summary.reopened, 1);
    triage(&mut test, &trivy.fingerprint(), TriageAction::Fixed, day(4));
    // The scan no longer reports it: the fix is verified, at the scan's time.
    let summary = test.store.record_run(&scan(5, false)).unwrap();
    assert_eq!(summary.fixed, 0, "the finding was fixed already");
    let stored = test.store.finding(&trivy.fingerprint()).unwrap().unwrap();
    assert_eq!(
        (stored.status, stored.fixed_at, stored.verified_at),
        (LifecycleStatus::Fixed, Some(day(4)), Some(day(5)))
    );
}

#[test]
fn vex_sets_and_lifts_not_affected() {
    let mut test = TestStore::new();
    let mut vexed = log4j("trivy");
    vexed.source_status = Some(SourceStatus::NotAffected);
    let scan = |at, finding: &Finding| run(day(at), &[scope("trivy", IMAGE)], vec![scored(finding.clone(), 10.0)]);
    let summary = test.store.record_run(&scan(1, &vexed)).unwrap();
    assert_eq!(summary.new, 1);
    assert_eq!(status(&test, &vexed.fingerprint()), LifecycleStatus::NotAffected);
    test.store.record_run(&scan(2, &vexed)).unwrap();
    assert_eq!(status(&test, &vexed.fingerprint()), LifecycleStatus::NotAffected);

    test.store.record_run(&scan(3, &log4j("trivy"))).unwrap();
    assert_eq!(status(&test, &vexed.fingerprint()), LifecycleStatus::Open);
    let causes = history_causes(&test, &vexed.fingerprint());
    assert_eq!(
        causes,
        [
            (Cause::Run, LifecycleStatus::New),
            (Cause::Vex, LifecycleStatus::NotAffected),
            (Cause::Vex, LifecycleStatus::Open),
        ]
    );
}

#[test]
fn nuclei_match_confirms_exploitability() {
    let mut test = TestStore::new();
    let host = AssetKey::new(AssetKind::Host, "10.0.0.5");
    let report = |tool: &str, rule: &str| {
        let mut finding = Finding::new(
            tool,
            rule,
            FindingKind::Vulnerability,
            "Confluence RCE",
            Severity::Critical,
            host.clone(),
        );
        finding.vulnerability_ids.push("CVE-2023-22515".parse().unwrap());
        finding.location.port = Some(8090);
        finding.target = Some("host:10.0.0.5".into());
        finding
    };
    let nessus = report("nessus", "182468");
    test.store
        .record_run(&run(
            day(1),
            &[scope("nessus", "host:10.0.0.5")],
            vec![scored(nessus.clone(), 80.0)],
        ))
        .unwrap();
    assert_eq!(
        test.store.finding(&nessus.fingerprint()).unwrap().unwrap().validation,
        None
    );

    let nuclei = report("nuclei", "CVE-2023-22515");
    test.store
        .record_run(&run(
            day(2),
            &[scope("nuclei", "host:10.0.0.5")],
            vec![scored(nuclei, 95.0)],
        ))
        .unwrap();
    let stored = test.store.finding(&nessus.fingerprint()).unwrap().unwrap();
    assert_eq!(stored.validation, Some(Validation::Confirmed));
    // Both reports name the CVE on the same host without a component: one finding.
    assert_eq!(stored.tools, ["nessus", "nuclei"]);
    let history = test.store.finding_history(&nessus.fingerprint()).unwrap();
    let mark = history.iter().find(|entry| entry.cause == Cause::Validation).unwrap();
    assert!(
        mark.reason
            .as_deref()
            .unwrap()
            .contains("nuclei matched CVE-2023-22515"),
        "{mark:?}"
    );

    // A person's mark is never overridden by a later match.
    triage(
        &mut test,
        &nessus.fingerprint(),
        TriageAction::Validate(Validation::Refuted),
        day(3),
    );
    test.store
        .record_run(&run(
            day(4),
            &[scope("nuclei", "host:10.0.0.5")],
            vec![scored(report("nuclei", "CVE-2023-22515"), 95.0)],
        ))
        .unwrap();
    assert_eq!(
        test.store.finding(&nessus.fingerprint()).unwrap().unwrap().validation,
        Some(Validation::Refuted)
    );
}

#[test]
fn triage_errors_write_nothing() {
    let mut test = TestStore::new();
    let trivy = log4j("trivy");
    test.store
        .record_run(&run(
            day(1),
            &[scope("trivy", IMAGE)],
            vec![scored(trivy.clone(), 90.0)],
        ))
        .unwrap();
    let conn = test.raw_connection();
    let before = dump(&conn);
    let request = |fingerprints: Vec<Fingerprint>, action: TriageAction, reason: &str| TriageRequest {
        fingerprints,
        action,
        reason: reason.into(),
        actor: None,
        at: day(2),
    };
    let unknown = Fingerprint::from_stored("v1:00000000000000000000000000000000".into());
    let cases = [
        (
            request(vec![trivy.fingerprint(), unknown], TriageAction::FalsePositive, "fp"),
            "no finding has the fingerprint",
        ),
        (
            request(vec![trivy.fingerprint()], TriageAction::FalsePositive, "  "),
            "give a reason",
        ),
        (
            request(vec![], TriageAction::FalsePositive, "fp"),
            "at least one finding",
        ),
        (
            request(
                vec![trivy.fingerprint()],
                TriageAction::AcceptRisk {
                    approver: "".into(),
                    until: day(9),
                },
                "ok",
            ),
            "approver",
        ),
        (
            request(
                vec![trivy.fingerprint()],
                TriageAction::AcceptRisk {
                    approver: "ciso".into(),
                    until: day(1),
                },
                "ok",
            ),
            "not after",
        ),
        (
            request(vec![trivy.fingerprint()], TriageAction::Reopen, "ok"),
            "cannot take the action reopen",
        ),
    ];
    for (request, expected) in cases {
        let error = test.store.triage(&request).unwrap_err();
        assert!(matches!(error, StoreError::InvalidTriage { .. }), "{error:?}");
        assert!(error.to_string().contains(expected), "{error}");
        assert_eq!(dump(&conn), before);
    }
}

#[test]
fn run_stats_count_tiers_and_crown_jewels() {
    let mut test = TestStore::new();
    let mut crown = Asset::new(AssetKind::ContainerImage, IMAGE, "shop");
    crown.criticality = Some(Criticality::CrownJewel);
    let other = Finding::new(
        "trivy",
        "CVE-2020-0001",
        FindingKind::Vulnerability,
        "minor",
        Severity::Low,
        AssetKey::new(AssetKind::ContainerImage, "cart:1"),
    );
    let mut other = other;
    other.target = Some("cart:1".into());
    let mut input = run(
        day(1),
        &[scope("trivy", IMAGE), scope("trivy", "cart:1")],
        vec![scored(log4j("trivy"), 95.0), scored(other.clone(), 20.0)],
    );
    let component = Asset::new(
        AssetKind::Component,
        "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
        "log4j-core",
    );
    input.relationships.push(ctem_model::Relationship::new(
        crown.key.clone(),
        ctem_model::RelationshipKind::Contains,
        component.key.clone(),
    ));
    input.assets.push(component);
    input.assets.push(crown);
    input
        .assets
        .push(Asset::new(AssetKind::ContainerImage, "cart:1", "cart"));
    input
        .assets
        .push(Asset::new(AssetKind::ContainerImage, "idle:1", "idle"));
    test.store.record_run(&input).unwrap();
    triage(
        &mut test,
        &other.fingerprint(),
        TriageAction::AcceptRisk {
            approver: "ciso".into(),
            until: day(30),
        },
        day(2),
    );
    test.store
        .record_run(&run(
            day(3),
            &[scope("trivy", IMAGE)],
            vec![scored(log4j("trivy"), 95.0)],
        ))
        .unwrap();

    let stats = test.store.run_stats().unwrap();
    assert_eq!(stats.len(), 2);
    assert_eq!(stats[0].open_by_tier, [1, 0, 0, 1]);
    assert_eq!(stats[0].risk_by_tier, [95.0, 0.0, 0.0, 20.0]);
    assert_eq!((stats[0].crown_jewel_open, stats[0].crown_jewel_risk), (1, 95.0));
    assert_eq!(stats[0].accepted, 0);
    assert_eq!(stats[1].open_by_tier, [1, 0, 0, 0]);
    assert_eq!(stats[1].accepted, 1);
    assert_eq!(stats[1].open_total(), 1);
    assert_eq!(stats[1].risk_total(), 95.0);
    assert_eq!(stats[1].summary.still_open, 1);

    let coverage = test.store.asset_coverage().unwrap();
    let last: Vec<(&str, Option<chrono::DateTime<chrono::Utc>>)> = coverage
        .iter()
        .map(|entry| (entry.asset.key.as_str(), entry.last_assessed))
        .collect();
    assert_eq!(
        last,
        [
            (
                "component:pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
                Some(day(3))
            ),
            ("container_image:cart:1", Some(day(1))),
            ("container_image:idle:1", None),
            ("container_image:shop:1", Some(day(3))),
        ]
    );

    let facts = test.store.fact_table().unwrap();
    assert_eq!(facts.findings.len(), 2);
    let on_shop =
        |fact: &&ctem_store::FindingFacts| facts.assets[fact.asset as usize].as_str() == "container_image:shop:1";
    let log4j_facts = facts.findings.iter().find(on_shop).unwrap();
    let other_facts = facts.findings.iter().find(|fact| !on_shop(fact)).unwrap();
    assert_eq!(
        facts.assets[log4j_facts.asset as usize].as_str(),
        "container_image:shop:1"
    );
    assert_eq!(facts.tool_sets[log4j_facts.tools as usize], ["trivy"]);
    assert_eq!(
        (log4j_facts.tier, log4j_facts.status),
        (Tier::P1, LifecycleStatus::Open)
    );
    assert_eq!(log4j_facts.first_seen, day(1));
    assert_eq!(log4j_facts.last_seen, day(3));
    assert_eq!(other_facts.accepted_until, Some(day(30)));
    assert_eq!(other_facts.status, LifecycleStatus::RiskAccepted);
    let by_id = test
        .store
        .findings_by_id(&[other_facts.id, 999, log4j_facts.id])
        .unwrap();
    assert_eq!(by_id.len(), 2);
    assert_eq!(by_id[0].finding.rule_id, "CVE-2020-0001");
}

#[test]
fn introduction_time_takes_later_input() {
    let mut test = TestStore::new();
    // The component appears on day 1 with another CVE.
    let mut first = log4j("trivy");
    first.rule_id = "CVE-2021-45046".into();
    test.store
        .record_run(&run(
            day(1),
            &[scope("trivy", IMAGE)],
            vec![scored(first.clone(), 50.0)],
        ))
        .unwrap();
    // A CVE published on day 5 is detected on day 8.
    let mut published = scored(log4j("trivy"), 90.0);
    published.published = Some(day(5));
    test.store
        .record_run(&run(
            day(8),
            &[scope("trivy", IMAGE)],
            vec![scored(first, 50.0), published],
        ))
        .unwrap();
    let stored = test.store.finding(&log4j("trivy").fingerprint()).unwrap().unwrap();
    assert_eq!(stored.introduced_at, Some(day(5)));
    assert_eq!(stored.first_seen, day(8));

    // Without publication or component: the first run that covered the scope.
    test.store.record_run(&sast_run(9, &[])).unwrap();
    test.store.record_run(&sast_run(12, &[("sqli", 10)])).unwrap();
    let sast_finding = test.store.finding(&sast("sqli", 10).fingerprint()).unwrap().unwrap();
    assert_eq!(sast_finding.introduced_at, Some(day(9)));
}

#[test]
fn redupe_merges_findings_stored_under_an_older_key() {
    let mut test = TestStore::new();
    let trivy = log4j("trivy");
    test.store
        .record_run(&run(
            day(1),
            &[scope("trivy", IMAGE)],
            vec![scored(trivy.clone(), 90.0)],
        ))
        .unwrap();
    // As if an older scheme had keyed it differently.
    test.raw_connection()
        .execute("UPDATE findings SET merge_key = 'm0:older'", [])
        .unwrap();
    test.store
        .record_run(&run(
            day(2),
            &[scope("grype", IMAGE)],
            vec![scored(log4j("grype"), 80.0)],
        ))
        .unwrap();
    assert_eq!(test.store.findings(&FindingFilter::default()).unwrap().len(), 2);

    let summary = test.store.redupe().unwrap();
    assert_eq!((summary.before, summary.after, summary.merged), (2, 1, 1));
    let all = test.store.findings(&FindingFilter::default()).unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].fingerprint, trivy.fingerprint());
    assert_eq!(all[0].tools, ["grype", "trivy"]);
    assert_eq!(all[0].first_seen, day(1));
    let sources = test.store.finding_sources(&trivy.fingerprint()).unwrap();
    assert_eq!(sources.len(), 2);
    let history = test.store.finding_history(&log4j("grype").fingerprint()).unwrap();
    assert!(
        history
            .iter()
            .any(|entry| entry.cause == Cause::Merge && entry.reason.as_deref().unwrap().contains("CVE-2021-44228"))
    );
    // Both findings' creation events are kept.
    let created = history
        .iter()
        .filter(|entry| entry.cause == Cause::Run && entry.status == LifecycleStatus::New);
    assert_eq!(created.count(), 2);

    // Applying the rules again changes nothing.
    let again = test.store.redupe().unwrap();
    assert_eq!((again.merged, again.rekeyed), (0, 0));
}
