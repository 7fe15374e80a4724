//! Triage requests that name one finding more than once.

mod common;

use common::{TestStore, day, image_scan, vulnerability};
use ctem_model::{LifecycleStatus, Validation};
use ctem_store::{Cause, TriageAction, TriageRequest};

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
