//! Ticket records: claims, completion, concurrent claims and bad rows.

use std::sync::{Arc, Barrier};

use chrono::{Duration, TimeZone, Utc};
use ctem_store::{Claim, Store, StoreError, SubjectKind, TicketRecord, TicketState};

fn at(minute: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 9, minute, 0).unwrap()
}

fn completed(key: &str) -> TicketRecord {
    TicketRecord {
        tracker: "jira".into(),
        subject_kind: SubjectKind::Action,
        subject_key: "upgrade:pkg:maven/log4j".into(),
        marker: "ctem-0123456789abcdef".into(),
        key: Some(key.into()),
        url: Some(format!("https://jira.example/browse/{key}")),
        state: TicketState::Open,
        remote_status: Some("To Do".into()),
        content_hash: Some("abc".into()),
        findings: vec!["fp1".into(), "fp2".into()],
        claimed_at: at(0),
        synced_at: Some(at(1)),
    }
}

#[test]
fn claim_then_save_then_list() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("ctem.db")).unwrap();

    let claim = store
        .claim_ticket(
            "jira",
            SubjectKind::Action,
            "upgrade:pkg:maven/log4j",
            "ctem-0123456789abcdef",
            at(0),
        )
        .unwrap();
    assert_eq!(claim, Claim::Claimed);
    let pending = store
        .ticket("jira", SubjectKind::Action, "upgrade:pkg:maven/log4j")
        .unwrap()
        .unwrap();
    assert_eq!(pending.state, TicketState::Creating);
    assert_eq!(pending.key, None);

    store.save_ticket(&completed("SEC-1")).unwrap();
    let again = store
        .claim_ticket(
            "jira",
            SubjectKind::Action,
            "upgrade:pkg:maven/log4j",
            "ctem-0123456789abcdef",
            at(2),
        )
        .unwrap();
    assert_eq!(again, Claim::Exists(Box::new(completed("SEC-1"))));
    assert_eq!(store.tickets(None).unwrap(), [completed("SEC-1")]);
    assert_eq!(store.tickets(Some("github")).unwrap(), []);
}

#[test]
fn claim_by_same_marker_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("ctem.db")).unwrap();
    store.save_ticket(&completed("SEC-1")).unwrap();
    let claim = store
        .claim_ticket("jira", SubjectKind::Finding, "other", "ctem-0123456789abcdef", at(2))
        .unwrap();
    assert!(matches!(claim, Claim::Exists(record) if record.key.as_deref() == Some("SEC-1")));
}

#[test]
fn concurrent_claims_grant_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ctem.db");
    drop(Store::open(&path).unwrap());

    let barrier = Arc::new(Barrier::new(4));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (path, barrier) = (path.clone(), barrier.clone());
            std::thread::spawn(move || {
                let mut store = Store::open(&path).unwrap();
                barrier.wait();
                store
                    .claim_ticket("jira", SubjectKind::Action, "patch:host", "ctem-marker", at(0))
                    .unwrap()
            })
        })
        .collect();
    let claims: Vec<Claim> = threads.into_iter().map(|thread| thread.join().unwrap()).collect();
    assert_eq!(claims.iter().filter(|claim| **claim == Claim::Claimed).count(), 1);
}

#[test]
fn renew_claim_only_from_seen_state() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("ctem.db")).unwrap();
    store
        .claim_ticket("jira", SubjectKind::Action, "patch:host", "ctem-marker", at(0))
        .unwrap();
    assert!(
        store
            .renew_claim("jira", SubjectKind::Action, "patch:host", at(0), at(30))
            .unwrap()
    );
    assert!(
        !store
            .renew_claim("jira", SubjectKind::Action, "patch:host", at(0), at(31))
            .unwrap()
    );
    let record = store
        .ticket("jira", SubjectKind::Action, "patch:host")
        .unwrap()
        .unwrap();
    assert_eq!(record.claimed_at, at(30));
}

#[test]
fn forget_removes_record() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("ctem.db")).unwrap();
    store.save_ticket(&completed("SEC-1")).unwrap();
    assert!(
        store
            .forget_ticket("jira", SubjectKind::Action, "upgrade:pkg:maven/log4j")
            .unwrap()
    );
    assert!(
        !store
            .forget_ticket("jira", SubjectKind::Action, "upgrade:pkg:maven/log4j")
            .unwrap()
    );
    assert_eq!(store.tickets(None).unwrap(), []);
}

#[test]
fn pulled_at_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("ctem.db")).unwrap();
    assert_eq!(store.tickets_pulled_at("jira").unwrap(), None);
    store.set_tickets_pulled_at("jira", at(5)).unwrap();
    store
        .set_tickets_pulled_at("jira", at(5) + Duration::minutes(1))
        .unwrap();
    assert_eq!(store.tickets_pulled_at("jira").unwrap(), Some(at(6)));
}

#[test]
fn corrupt_row_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ctem.db");
    let mut store = Store::open(&path).unwrap();
    store.save_ticket(&completed("SEC-1")).unwrap();
    drop(store);

    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute("UPDATE tickets SET findings = '{not json'", []).unwrap();
    drop(conn);

    let store = Store::open(&path).unwrap();
    let error = store.tickets(None).unwrap_err();
    assert!(
        matches!(
            error,
            StoreError::Corrupt {
                table: "tickets",
                column: "findings",
                ..
            }
        ),
        "{error}"
    );
    assert!(
        error.to_string().contains("jira action upgrade:pkg:maven/log4j"),
        "{error}"
    );
}
