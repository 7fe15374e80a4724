//! Triage requests that name one finding more than once.

mod common;

use common::{TestStore, day, image_scan, vulnerability};
use ctem_model::{LifecycleStatus, Validation};
use ctem_store::{Cause, StoreError, TriageAction, TriageRequest};

fn request(fingerprints: Vec<ctem_model::Fingerprint>, action: TriageAction) -> TriageRequest {
    TriageRequest {
        fingerprints,
        action,
        reason: "patched in the base image".into(),
        actor: Some("alice".into()),
        at: day(2),
    }
}

#[test]
fn repeated_fingerprint_is_triaged_once() {
    let mut test = TestStore::new();
    test.store
        .record_run(&image_scan(day(1), "shop:1", &["CVE-1"]))
        .unwrap();
    let fingerprint = vulnerability("shop:1", "CVE-1").fingerprint();

    let outcomes = test
        .store
        .triage(&request(
            vec![fingerprint.clone(), fingerprint.clone()],
            TriageAction::Fixed,
        ))
        .expect("naming a finding twice is not an error");

    assert_eq!(outcomes.len(), 1);
    assert_eq!(outcomes[0].before, LifecycleStatus::New);
    assert_eq!(outcomes[0].after, LifecycleStatus::Fixed);
    let triage_events = test
        .store
        .finding_history(&fingerprint)
        .unwrap()
        .into_iter()
        .filter(|entry| entry.cause == Cause::Triage)
        .count();
    assert_eq!(triage_events, 1);
}

#[test]
fn repeated_fingerprint_is_validated_once() {
    let mut test = TestStore::new();
    test.store
        .record_run(&image_scan(day(1), "shop:1", &["CVE-1"]))
        .unwrap();
    let fingerprint = vulnerability("shop:1", "CVE-1").fingerprint();

    let action = TriageAction::Validate(Validation::Confirmed);
    let outcomes = test
        .store
        .triage(&request(vec![fingerprint.clone(), fingerprint.clone()], action))
        .unwrap();

    assert_eq!(outcomes.len(), 1);
    let validation_events = test
        .store
        .finding_history(&fingerprint)
        .unwrap()
        .into_iter()
        .filter(|entry| entry.cause == Cause::Validation)
        .count();
    assert_eq!(validation_events, 1);
}

#[test]
fn triage_before_last_change_is_rejected() {
    let mut test = TestStore::new();
    test.store
        .record_run(&image_scan(day(3), "shop:1", &["CVE-1"]))
        .unwrap();
    let fingerprint = vulnerability("shop:1", "CVE-1").fingerprint();
    let mut backdated = request(vec![fingerprint.clone()], TriageAction::FalsePositive);
    backdated.at = day(2);

    let error = test.store.triage(&backdated).unwrap_err();

    let message = error.to_string();
    assert!(matches!(error, StoreError::InvalidTriage { .. }), "{message}");
    assert!(message.contains(fingerprint.as_str()), "{message}");
    assert!(message.contains("2024-05-03T00:00:00Z"), "{message}");
    let history = test.store.finding_history(&fingerprint).unwrap();
    assert_eq!(history.len(), 1, "nothing was written: {history:?}");
}

#[test]
fn triage_at_last_change_is_applied() {
    let mut test = TestStore::new();
    test.store
        .record_run(&image_scan(day(2), "shop:1", &["CVE-1"]))
        .unwrap();
    let fingerprint = vulnerability("shop:1", "CVE-1").fingerprint();

    let outcomes = test
        .store
        .triage(&request(vec![fingerprint], TriageAction::FalsePositive))
        .expect("a triage at the time of the last change keeps the history in order");

    assert_eq!(outcomes[0].after, LifecycleStatus::FalsePositive);
}

#[test]
fn run_before_expiry_entry_is_rejected() {
    let mut test = TestStore::new();
    test.store
        .record_run(&image_scan(day(1), "shop:1", &["CVE-1"]))
        .unwrap();
    let fingerprint = vulnerability("shop:1", "CVE-1").fingerprint();
    let accept = TriageAction::AcceptRisk {
        approver: "carol".into(),
        until: day(5),
    };
    test.store.triage(&request(vec![fingerprint.clone()], accept)).unwrap();
    test.store.expire_acceptances(day(20)).unwrap();

    let error = test
        .store
        .record_run(&image_scan(day(3), "shop:1", &["CVE-1"]))
        .unwrap_err();

    assert!(
        matches!(error, StoreError::OutOfOrder { observed_at, latest, .. } if observed_at == day(3) && latest == day(5)),
        "{error}"
    );
    let history = test.store.finding_history(&fingerprint).unwrap();
    assert_eq!(
        history.last().unwrap().cause,
        Cause::Expiry,
        "the run wrote nothing: {history:?}"
    );
}

#[test]
fn run_before_triage_entry_is_rejected() {
    let mut test = TestStore::new();
    test.store
        .record_run(&image_scan(day(1), "shop:1", &["CVE-1"]))
        .unwrap();
    let fingerprint = vulnerability("shop:1", "CVE-1").fingerprint();
    let mut false_positive = request(vec![fingerprint], TriageAction::FalsePositive);
    false_positive.at = day(4);
    test.store.triage(&false_positive).unwrap();

    let error = test
        .store
        .record_run(&image_scan(day(3), "shop:1", &["CVE-1"]))
        .unwrap_err();

    assert!(
        matches!(error, StoreError::OutOfOrder { observed_at, latest, .. } if observed_at == day(3) && latest == day(4)),
        "{error}"
    );
}

#[test]
fn expiry_reason_shows_end_as_rfc3339() {
    let mut test = TestStore::new();
    test.store
        .record_run(&image_scan(day(1), "shop:1", &["CVE-1", "CVE-2"]))
        .unwrap();
    let listed = vulnerability("shop:1", "CVE-1").fingerprint();
    let rescanned = vulnerability("shop:1", "CVE-2").fingerprint();
    for (fingerprint, until) in [(&listed, day(5)), (&rescanned, day(6))] {
        let accept = TriageAction::AcceptRisk {
            approver: "carol".into(),
            until,
        };
        test.store.triage(&request(vec![fingerprint.clone()], accept)).unwrap();
    }

    test.store.expire_acceptances(day(5)).unwrap();
    let listed_history = test.store.finding_history(&listed).unwrap();
    test.store
        .record_run(&image_scan(day(7), "shop:1", &["CVE-1", "CVE-2"]))
        .unwrap();
    let rescanned_history = test.store.finding_history(&rescanned).unwrap();

    let cases = [
        (listed_history, "the risk acceptance ended on 2024-05-05T00:00:00Z"),
        (rescanned_history, "the risk acceptance ended on 2024-05-06T00:00:00Z"),
    ];
    for (history, expected) in cases {
        let expiry = history
            .iter()
            .find(|entry| entry.cause == Cause::Expiry)
            .expect("an expiry entry");
        assert_eq!(expiry.reason.as_deref(), Some(expected));
    }
}
