//! Ticket sync against a fake Jira on loopback: creation without
//! duplicates, lifecycle both ways, and the failures a real Jira shows.

mod common;

use std::path::Path;

use chrono::{Duration, Utc};
use common::{day, run_input, store_with_findings, sync_now, work_items};
use ctem_mobilize::config::{JiraConfig, TicketsConfig};
use ctem_mobilize::fake_jira::{FakeJira, Fault};
use ctem_mobilize::jira::JiraTracker;
use ctem_mobilize::jira_fields::JiraFieldType;
use ctem_mobilize::sync::{ChangeKind, SyncError, SyncOptions, SyncReport, WorkItem, finding_states, marker, sync};
use ctem_mobilize::tracker::TrackerError;
use ctem_model::LifecycleStatus;
use ctem_store::{Store, SubjectKind, TicketState};
use serde_json::{Value, json};

/// `Basic base64("sec@acme.example:secret-token")`.
const CLOUD_AUTH: &str = "Basic c2VjQGFjbWUuZXhhbXBsZTpzZWNyZXQtdG9rZW4=";

fn config(jira: &FakeJira, extra: &str) -> TicketsConfig {
    let text = format!(
        r#"
        {extra}
        [jira]
        url = "{}"
        project = "SEC"
        components = ["AppSec"]
        backoff_ms = 10
        attempts = 3
        [jira.priorities]
        P1 = "Highest"
        [jira.fields]
        owner = "customfield_10050"
        [jira.states]
        risk_accepted = ["Risk Accepted"]
        "#,
        jira.url()
    );
    let config: TicketsConfig = toml::from_str(&text).unwrap();
    config.validate().unwrap();
    config
}

fn env(name: &str) -> Option<String> {
    match name {
        "JIRA_USER" => Some("sec@acme.example".into()),
        "JIRA_API_TOKEN" => Some("secret-token".into()),
        _ => None,
    }
}

fn tracker(config: &JiraConfig) -> JiraTracker {
    JiraTracker::new("jira", config, Path::new("."), &env).unwrap()
}

/// Builds one action that closes every active finding of the store.
fn items(store: &Store, key: &str) -> Vec<WorkItem> {
    work_items(store, &[key], "Log4Shell in log4j-core")
}

fn run_sync(store: &mut Store, jira: &FakeJira, config: &TicketsConfig, items: &[WorkItem]) -> SyncReport {
    try_sync(store, jira, config, items).unwrap()
}

fn try_sync(
    store: &mut Store,
    jira: &FakeJira,
    config: &TicketsConfig,
    items: &[WorkItem],
) -> Result<SyncReport, SyncError> {
    let _ = jira;
    sync_now(store, &tracker(config.jira.as_ref().unwrap()), config, items)
}

#[test]
fn create_sends_documented_fields() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_with_findings(dir.path());
    let jira = FakeJira::start("SEC", CLOUD_AUTH);
    let config = config(&jira, "");
    let items = items(&store, "upgrade:pkg:maven/log4j-core");

    let report = run_sync(&mut store, &jira, &config, &items);

    assert_eq!(report.count(ChangeKind::Create), 1, "{report:?}");
    let issues = jira.issues();
    assert_eq!(issues.len(), 1);
    let fields = &issues[0].fields;
    assert_eq!(fields["summary"], "[P1] Upgrade log4j-core to 2.16.0 on 1 asset(s)");
    assert_eq!(fields["priority"]["name"], "Highest");
    assert_eq!(fields["components"][0]["name"], "AppSec");
    assert_eq!(fields["duedate"], "2026-11-08");
    assert_eq!(fields["customfield_10050"], "web-team");
    let marker = marker("jira", SubjectKind::Action, "upgrade:pkg:maven/log4j-core");
    assert_eq!(issues[0].labels(), ["ctem".to_string(), marker]);
    assert_eq!(fields["description"]["type"], "doc");
    let description = fields["description"].to_string();
    assert!(
        description.contains("Owner: web-team (chosen by owners \\\"Shop\\\")"),
        "{description}"
    );
    assert!(description.contains("Log4Shell in log4j-core"), "{description}");

    let record = store
        .ticket("jira", SubjectKind::Action, "upgrade:pkg:maven/log4j-core")
        .unwrap()
        .unwrap();
    assert_eq!(record.key.as_deref(), Some("SEC-1"));
    assert_eq!(record.state, TicketState::Open);
    assert_eq!(record.url, Some(format!("{}/browse/SEC-1", jira.url())));
    assert_eq!(record.findings.len(), 2);
}

#[test]
fn rerun_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_with_findings(dir.path());
    let jira = FakeJira::start("SEC", CLOUD_AUTH);
    let config = config(&jira, "");
    let items = items(&store, "upgrade:log4j");

    run_sync(&mut store, &jira, &config, &items);
    let second = run_sync(&mut store, &jira, &config, &items);

    assert_eq!(second.changes, [], "{second:?}");
    assert_eq!(second.unchanged, 1);
    assert_eq!(jira.issues().len(), 1);
    assert_eq!(jira.count("POST", "/issue"), 1);
    assert_eq!(jira.count("PUT", "/issue/SEC-1"), 0);
}

#[test]
fn lost_record_adopts_ticket() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_with_findings(dir.path());
    let jira = FakeJira::start("SEC", CLOUD_AUTH);
    let config = config(&jira, "");
    let items = items(&store, "upgrade:log4j");

    run_sync(&mut store, &jira, &config, &items);
    assert!(
        store
            .forget_ticket("jira", SubjectKind::Action, "upgrade:log4j")
            .unwrap()
    );
    let report = run_sync(&mut store, &jira, &config, &items);

    assert_eq!(report.count(ChangeKind::Adopt), 1, "{report:?}");
    assert_eq!(report.count(ChangeKind::Create), 0);
    assert_eq!(jira.issues().len(), 1);
    let record = store
        .ticket("jira", SubjectKind::Action, "upgrade:log4j")
        .unwrap()
        .unwrap();
    assert_eq!(record.key.as_deref(), Some("SEC-1"));
}

#[test]
fn crash_before_commit_adopts_ticket() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_with_findings(dir.path());
    let jira = FakeJira::start("SEC", CLOUD_AUTH);
    let config = config(&jira, "");
    let items = items(&store, "upgrade:log4j");

    run_sync(&mut store, &jira, &config, &items);
    // The state a sync leaves when it stops after Jira's reply and before
    // its own commit: the claim without the key.
    let mut record = store
        .ticket("jira", SubjectKind::Action, "upgrade:log4j")
        .unwrap()
        .unwrap();
    record.key = None;
    record.url = None;
    record.state = TicketState::Creating;
    store.save_ticket(&record).unwrap();

    let report = run_sync(&mut store, &jira, &config, &items);

    assert_eq!(report.count(ChangeKind::Adopt), 1, "{report:?}");
    assert_eq!(jira.issues().len(), 1);
    let record = store
        .ticket("jira", SubjectKind::Action, "upgrade:log4j")
        .unwrap()
        .unwrap();
    assert_eq!(record.key.as_deref(), Some("SEC-1"));
    assert_eq!(record.state, TicketState::Open);
}

#[test]
fn claim_of_other_sync_is_respected_until_stale() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_with_findings(dir.path());
    let jira = FakeJira::start("SEC", CLOUD_AUTH);
    let config = config(&jira, "claim_timeout_secs = 600");
    let items = items(&store, "upgrade:log4j");
    let marker = marker("jira", SubjectKind::Action, "upgrade:log4j");

    // A claim made a minute ago by a sync that may still be running.
    let recent = Utc::now() - Duration::minutes(1);
    store
        .claim_ticket("jira", SubjectKind::Action, "upgrade:log4j", &marker, recent)
        .unwrap();
    let report = run_sync(&mut store, &jira, &config, &items);
    assert_eq!(report.count(ChangeKind::Skip), 1, "{report:?}");
    assert!(jira.issues().is_empty());

    // The same claim an hour old: its sync stopped before it created.
    let mut record = store
        .ticket("jira", SubjectKind::Action, "upgrade:log4j")
        .unwrap()
        .unwrap();
    record.claimed_at = Utc::now() - Duration::hours(1);
    store.save_ticket(&record).unwrap();
    let report = run_sync(&mut store, &jira, &config, &items);
    assert_eq!(report.count(ChangeKind::Create), 1, "{report:?}");
    assert_eq!(jira.issues().len(), 1);
}

#[test]
fn concurrent_syncs_create_one_ticket() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_findings(dir.path());
    let jira = FakeJira::start("SEC", CLOUD_AUTH);
    let config = config(&jira, "");
    let items = items(&store, "upgrade:log4j");
    drop(store);

    let path = dir.path().join("ctem.db");
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..3)
            .map(|_| {
                scope.spawn(|| {
                    let mut store = Store::open(&path).unwrap();
                    run_sync(&mut store, &jira, &config, &items)
                })
            })
            .collect();
        for handle in handles {
            let report = handle.join().unwrap();
            assert_eq!(report.count(ChangeKind::Fail), 0, "{report:?}");
        }
    });

    assert_eq!(jira.issues().len(), 1);
    assert_eq!(jira.count("POST", "/issue"), 1);
}

#[test]
fn verified_fix_closes_and_reopen_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_with_findings(dir.path());
    let jira = FakeJira::start("SEC", CLOUD_AUTH);
    let config = config(&jira, "");
    let first = items(&store, "upgrade:log4j");
    run_sync(&mut store, &jira, &config, &first);

    // A rescan of the same image no longer reports the findings.
    store.record_run(&run_input(day(5), &[])).unwrap();
    let after_fix = items(&store, "upgrade:log4j");
    assert!(after_fix.is_empty());
    let report = run_sync(&mut store, &jira, &config, &after_fix);

    assert_eq!(report.count(ChangeKind::Close), 1, "{report:?}");
    let issue = &jira.issues()[0];
    assert_eq!(issue.status, "Done");
    assert_eq!(issue.comments.len(), 1);
    assert!(issue.comments[0].to_string().contains("verified the fix of 2"));
    let record = store
        .ticket("jira", SubjectKind::Action, "upgrade:log4j")
        .unwrap()
        .unwrap();
    assert_eq!(record.state, TicketState::Closed);

    // A later rescan reports one of them again.
    store.record_run(&run_input(day(9), &["CVE-2021-44228"])).unwrap();
    let reopened = items(&store, "upgrade:log4j");
    let report = run_sync(&mut store, &jira, &config, &reopened);

    assert_eq!(report.count(ChangeKind::Reopen), 1, "{report:?}");
    assert_eq!(report.count(ChangeKind::Create), 0);
    let issue = &jira.issues()[0];
    assert_eq!(issue.status, "To Do");
    assert_eq!(issue.comments.len(), 2);
    assert_eq!(jira.issues().len(), 1);
}

#[test]
fn wont_fix_becomes_risk_acceptance() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_with_findings(dir.path());
    let jira = FakeJira::start("SEC", CLOUD_AUTH);
    let config = config(&jira, "accept_days = 30");
    let items = items(&store, "upgrade:log4j");
    run_sync(&mut store, &jira, &config, &items);

    jira.set_status("SEC-1", "Done", Some("Won't Do"), "Alice Approver", Utc::now());
    let report = run_sync(&mut store, &jira, &config, &items);

    assert_eq!(report.count(ChangeKind::AcceptRisk), 1, "{report:?}");
    let stored = store.findings(&ctem_store::FindingFilter::default()).unwrap();
    assert_eq!(stored.len(), 2);
    for finding in &stored {
        assert_eq!(finding.status, LifecycleStatus::RiskAccepted);
        let until = finding.accepted_until.unwrap();
        assert!(until > Utc::now() + Duration::days(29));
        let history = store.finding_history(&finding.fingerprint).unwrap();
        let last = history.last().unwrap();
        assert_eq!(last.approver.as_deref(), Some("Alice Approver"));
        assert!(last.reason.as_deref().unwrap().contains("SEC-1"), "{last:?}");
    }
    let record = store
        .ticket("jira", SubjectKind::Action, "upgrade:log4j")
        .unwrap()
        .unwrap();
    assert_eq!(record.state, TicketState::Closed);

    // Read again, the same change does nothing more.
    let again = run_sync(&mut store, &jira, &config, &items);
    assert_eq!(again.count(ChangeKind::AcceptRisk), 0, "{again:?}");
}

#[test]
fn risk_accepted_state_becomes_acceptance() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_with_findings(dir.path());
    let jira = FakeJira::start("SEC", CLOUD_AUTH);
    let config = config(&jira, "");
    let items = items(&store, "upgrade:log4j");
    run_sync(&mut store, &jira, &config, &items);

    jira.set_status("SEC-1", "Risk Accepted", None, "Bob", Utc::now());
    let report = run_sync(&mut store, &jira, &config, &items);

    assert_eq!(report.count(ChangeKind::AcceptRisk), 1, "{report:?}");
    let stored = store.findings(&ctem_store::FindingFilter::default()).unwrap();
    assert!(
        stored
            .iter()
            .all(|finding| finding.status == LifecycleStatus::RiskAccepted)
    );
}

#[test]
fn done_without_rescan_claims_fix() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_with_findings(dir.path());
    let jira = FakeJira::start("SEC", CLOUD_AUTH);
    let config = config(&jira, "");
    let items = items(&store, "upgrade:log4j");
    run_sync(&mut store, &jira, &config, &items);

    jira.set_status("SEC-1", "Done", Some("Done"), "Carol", Utc::now());
    let report = run_sync(&mut store, &jira, &config, &items);

    assert_eq!(report.count(ChangeKind::ClaimFixed), 1, "{report:?}");
    assert_eq!(report.count(ChangeKind::Reopen), 0, "{report:?}");
    let stored = store.findings(&ctem_store::FindingFilter::default()).unwrap();
    for finding in &stored {
        assert_eq!(finding.status, LifecycleStatus::Fixed);
        assert_eq!(finding.verified_at, None);
    }
    assert_eq!(jira.issues()[0].status, "Done");
}

#[test]
fn rate_limited_burst_is_waited_out() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_with_findings(dir.path());
    let jira = FakeJira::start("SEC", CLOUD_AUTH);
    let config = config(&jira, "");
    let items = items(&store, "upgrade:log4j");
    jira.fail_next("POST", "/issue", Fault::RateLimited(1));
    jira.fail_next("POST", "/issue", Fault::RateLimited(1));

    let report = run_sync(&mut store, &jira, &config, &items);

    assert_eq!(report.count(ChangeKind::Create), 1, "{report:?}");
    assert_eq!(jira.count("POST", "/issue"), 3);
    assert_eq!(jira.issues().len(), 1);
}

#[test]
fn retry_after_beyond_maximum_fails() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_with_findings(dir.path());
    let jira = FakeJira::start("SEC", CLOUD_AUTH);
    let config = config(&jira, "");
    jira.fail_next("GET", "/search/jql", Fault::RateLimited(3600));

    let error = try_sync(&mut store, &jira, &config, &[]).unwrap_err();

    assert!(
        matches!(
            &error,
            SyncError::Tracker(TrackerError::RateLimited { seconds: 3600, .. })
        ),
        "{error}"
    );
    assert!(error.to_string().contains("max_retry_after_secs"), "{error}");
}

#[test]
fn server_error_then_success_creates_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_with_findings(dir.path());
    let jira = FakeJira::start("SEC", CLOUD_AUTH);
    let config = config(&jira, "");
    let items = items(&store, "upgrade:log4j");
    jira.fail_next("POST", "/issue", Fault::Status(500));

    let report = run_sync(&mut store, &jira, &config, &items);

    assert_eq!(report.count(ChangeKind::Create), 1, "{report:?}");
    assert_eq!(jira.count("POST", "/issue"), 2);
    assert_eq!(jira.issues().len(), 1);
}

#[test]
fn search_timeout_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_with_findings(dir.path());
    let jira = FakeJira::start("SEC", CLOUD_AUTH);
    let mut config = config(&jira, "");
    let jira_config = config.jira.as_mut().unwrap();
    jira_config.timeout_secs = 1;
    jira_config.attempts = 2;
    for _ in 0..2 {
        jira.fail_next("GET", "/search/jql", Fault::Silence(std::time::Duration::from_secs(3)));
    }

    let error = try_sync(&mut store, &jira, &config, &[]).unwrap_err().to_string();

    assert!(error.contains("failed after 2 attempt(s)"), "{error}");
    assert!(error.contains("timed out"), "{error}");
    assert!(error.contains("/rest/api/3/search/jql"), "{error}");
}

#[test]
fn bad_credentials_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_with_findings(dir.path());
    let jira = FakeJira::start("SEC", "Basic d3Jvbmc6d3Jvbmc=");
    let config = config(&jira, "");

    let error = try_sync(&mut store, &jira, &config, &[]).unwrap_err();

    assert!(
        matches!(
            &error,
            SyncError::Tracker(TrackerError::Unauthorized { status: 401, .. })
        ),
        "{error}"
    );
    let text = error.to_string();
    assert!(text.contains("rejected the credentials"), "{text}");
    assert!(!text.contains("secret-token"), "{text}");
}

#[test]
fn missing_credentials_name_variable() {
    let jira = FakeJira::start("SEC", CLOUD_AUTH);
    let config = config(&jira, "");
    let error = JiraTracker::new("jira", config.jira.as_ref().unwrap(), Path::new("."), &|_| None)
        .unwrap_err()
        .to_string();
    assert!(error.contains("JIRA_API_TOKEN"), "{error}");
}

#[test]
fn token_file_is_read() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("token"), "pat-123\n").unwrap();
    let jira = FakeJira::start("SEC", "Bearer pat-123");
    let mut config = config(&jira, "");
    let jira_config = config.jira.as_mut().unwrap();
    jira_config.flavor = ctem_mobilize::config::JiraFlavor::DataCenter;
    jira_config.token_file = Some("token".into());

    let tracker = JiraTracker::new("jira", jira_config, dir.path(), &|_| None).unwrap();
    let found = ctem_mobilize::tracker::Tracker::find_by_marker(&tracker, "ctem-none").unwrap();
    assert_eq!(found, None);
    assert_eq!(jira.count("GET", "/rest/api/2/search"), 1);
}

#[test]
fn malformed_response_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_with_findings(dir.path());
    let jira = FakeJira::start("SEC", CLOUD_AUTH);
    let config = config(&jira, "");
    let cases = [
        (
            r#"{"issues": 5}"#,
            "malformed response at $.issues: expected an array, found a number",
        ),
        (
            r#"{"issues": [{"fields": {}}]}"#,
            "malformed response at issues[0].key: missing",
        ),
        (
            r#"{"issues": [{"key": "SEC-1", "fields": {}}]}"#,
            "issues[0].fields.status.name",
        ),
        (
            r#"{"issues": ["#,
            "malformed response at line 1 column 12: invalid JSON",
        ),
    ];
    for (body, expected) in cases {
        jira.fail_next("GET", "/search/jql", Fault::Body(body.to_string()));
        let error = try_sync(&mut store, &jira, &config, &[]).unwrap_err().to_string();
        assert!(error.contains(expected), "{body} gave {error}");
        assert!(error.contains("/rest/api/3/search/jql"), "{error}");
    }
}

#[test]
fn huge_response_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_with_findings(dir.path());
    let jira = FakeJira::start("SEC", CLOUD_AUTH);
    let config = config(&jira, "");
    let huge = format!("{{\"issues\": [], \"padding\": \"{}\"}}", "x".repeat(17 * 1024 * 1024));
    jira.fail_next("GET", "/search/jql", Fault::Body(huge));

    let error = try_sync(&mut store, &jira, &config, &[]).unwrap_err().to_string();

    assert!(error.contains("the response exceeds 16777216 bytes"), "{error}");
}

#[test]
fn data_center_pages_by_start_at() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_with_findings(dir.path());
    let jira = FakeJira::start("SEC", "Bearer secret-token");
    let mut config = config(&jira, "");
    config.jira.as_mut().unwrap().flavor = ctem_mobilize::config::JiraFlavor::DataCenter;
    let mut many = Vec::new();
    for index in 0..3 {
        let mut item = items(&store, &format!("patch:host-{index}")).remove(0);
        item.findings.truncate(1);
        many.push(item);
    }

    run_sync(&mut store, &jira, &config, &many);
    let second = run_sync(&mut store, &jira, &config, &many);

    assert_eq!(second.changes, [], "{second:?}");
    assert_eq!(second.unchanged, 3);
    let paged = jira
        .requests()
        .iter()
        .filter(|request| request.path == "/rest/api/2/search" && request.query.contains("startAt=2"))
        .count();
    assert!(paged >= 1, "the fake serves two issues per page");
    assert_eq!(jira.issues().len(), 3);
}

#[test]
fn data_center_uses_v2_and_wiki_markup() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_with_findings(dir.path());
    let jira = FakeJira::start("SEC", "Bearer secret-token");
    let mut config = config(&jira, "");
    config.jira.as_mut().unwrap().flavor = ctem_mobilize::config::JiraFlavor::DataCenter;
    let items = items(&store, "upgrade:log4j");

    let report = run_sync(&mut store, &jira, &config, &items);
    assert_eq!(report.count(ChangeKind::Create), 1, "{report:?}");
    let again = run_sync(&mut store, &jira, &config, &items);
    assert_eq!(again.changes, []);

    assert_eq!(jira.count("POST", "/rest/api/2/issue"), 1);
    let description = jira.issues()[0].fields["description"].as_str().unwrap().to_string();
    assert!(description.contains("* *Owner:* web-team"), "{description}");
    assert!(description.contains("h3. Findings"), "{description}");
}

#[test]
fn max_create_caps_one_sync() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_with_findings(dir.path());
    let jira = FakeJira::start("SEC", CLOUD_AUTH);
    let config = config(&jira, "max_create = 2");
    let mut many = Vec::new();
    for index in 0..3 {
        let mut item = items(&store, &format!("patch:host-{index}")).remove(0);
        item.findings.truncate(1);
        many.push(item);
    }

    let report = run_sync(&mut store, &jira, &config, &many);
    assert_eq!(report.count(ChangeKind::Create), 2, "{report:?}");
    assert_eq!(report.count(ChangeKind::Skip), 1, "{report:?}");

    let next = run_sync(&mut store, &jira, &config, &many);
    assert_eq!(next.count(ChangeKind::Create), 1, "{next:?}");
    assert_eq!(jira.issues().len(), 3);
}

#[test]
fn dry_run_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_with_findings(dir.path());
    let jira = FakeJira::start("SEC", CLOUD_AUTH);
    let config = config(&jira, "");
    let items = items(&store, "upgrade:log4j");
    let states = finding_states(&store).unwrap();
    let options = SyncOptions {
        dry_run: true,
        now: Utc::now(),
    };

    let report = sync(
        &mut store,
        &tracker(config.jira.as_ref().unwrap()),
        &config,
        &items,
        &states,
        options,
    )
    .unwrap();

    assert_eq!(report.count(ChangeKind::Create), 1, "{report:?}");
    assert!(jira.requests().is_empty());
    assert_eq!(store.tickets(None).unwrap(), []);
}

/// Builds a configuration whose only custom field is `fields`, a TOML
/// table body, with users for the teams `web-team` and `ops-team`.
fn typed_config(jira: &FakeJira, flavor: &str, fields: &str) -> TicketsConfig {
    let text = format!(
        r#"
        [jira]
        url = "{}"
        flavor = "{flavor}"
        project = "SEC"
        backoff_ms = 10
        attempts = 1
        [jira.fields]
        {fields}
        [jira.users]
        web-team = "5b10ac8d82e05b22cc7d4ef5"
        ops-team = "712020:2c3c0f0e"
        "#,
        jira.url()
    );
    let config: TicketsConfig = toml::from_str(&text).unwrap();
    config.validate().unwrap();
    config
}

#[test]
fn typed_fields_have_jira_shapes() {
    let cases = [
        ("cloud", "owner", "text", JiraFieldType::Text, json!("web-team")),
        (
            "cloud",
            "contacts",
            "text",
            JiraFieldType::Text,
            json!("web@acme.example"),
        ),
        ("cloud", "subject", "text", JiraFieldType::Text, json!("upgrade:log4j")),
        ("cloud", "risk", "number", JiraFieldType::Number, json!(190.0)),
        ("cloud", "risk", "text", JiraFieldType::Text, json!("190.0")),
        ("cloud", "due", "date", JiraFieldType::Date, json!("2026-11-08")),
        (
            "cloud",
            "owner",
            "select",
            JiraFieldType::Select,
            json!({ "value": "web-team" }),
        ),
        (
            "cloud",
            "tier",
            "select",
            JiraFieldType::Select,
            json!({ "value": "P1" }),
        ),
        (
            "cloud",
            "contacts",
            "multi_select",
            JiraFieldType::MultiSelect,
            json!([{ "value": "web@acme.example" }]),
        ),
        ("cloud", "tier", "labels", JiraFieldType::Labels, json!(["P1"])),
        (
            "cloud",
            "owner",
            "user",
            JiraFieldType::User,
            json!({ "accountId": "5b10ac8d82e05b22cc7d4ef5" }),
        ),
        (
            "data_center",
            "owner",
            "user",
            JiraFieldType::User,
            json!({ "name": "5b10ac8d82e05b22cc7d4ef5" }),
        ),
        (
            "data_center",
            "owner",
            "multi_select",
            JiraFieldType::MultiSelect,
            json!([{ "value": "web-team" }]),
        ),
    ];
    for (flavor, value, type_name, kind, expected) in cases {
        let dir = tempfile::tempdir().unwrap();
        let mut store = store_with_findings(dir.path());
        let auth = if flavor == "cloud" {
            CLOUD_AUTH
        } else {
            "Bearer secret-token"
        };
        let jira = FakeJira::start("SEC", auth);
        jira.define_field("customfield_20000", kind);
        let fields = format!("{value} = {{ field = \"customfield_20000\", type = \"{type_name}\" }}");
        let config = typed_config(&jira, flavor, &fields);
        let items = items(&store, "upgrade:log4j");

        let report = run_sync(&mut store, &jira, &config, &items);

        let case = format!("{flavor} {value} as {type_name}");
        assert_eq!(report.count(ChangeKind::Create), 1, "{case}: {report:?}");
        assert_eq!(jira.issues()[0].fields["customfield_20000"], expected, "{case}");
    }
}

#[test]
fn typed_field_changes_with_owner() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_with_findings(dir.path());
    let jira = FakeJira::start("SEC", CLOUD_AUTH);
    jira.define_field("customfield_20000", JiraFieldType::User);
    jira.define_field("customfield_20001", JiraFieldType::Select);
    let fields = "owner = { field = \"customfield_20000\", type = \"user\" }\n\
                  tier = { field = \"customfield_20001\", type = \"select\" }";
    let config = typed_config(&jira, "cloud", fields);
    let mut items = items(&store, "upgrade:log4j");
    run_sync(&mut store, &jira, &config, &items);

    items[0].owner.as_mut().unwrap().team = "ops-team".into();
    let report = run_sync(&mut store, &jira, &config, &items);

    assert_eq!(report.count(ChangeKind::Update), 1, "{report:?}");
    let fields = &jira.issues()[0].fields;
    assert_eq!(fields["customfield_20000"], json!({ "accountId": "712020:2c3c0f0e" }));
    assert_eq!(fields["customfield_20001"], json!({ "value": "P1" }));

    // A team without a Jira user clears the field.
    items[0].owner.as_mut().unwrap().team = "data-team".into();
    let report = run_sync(&mut store, &jira, &config, &items);

    assert_eq!(report.count(ChangeKind::Update), 1, "{report:?}");
    assert_eq!(report.count(ChangeKind::Fail), 0, "{report:?}");
    assert_eq!(jira.issues()[0].fields["customfield_20000"], Value::Null);
}

#[test]
fn wrong_field_shape_fails_ticket() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_with_findings(dir.path());
    let jira = FakeJira::start("SEC", CLOUD_AUTH);
    // A select field configured as plain text, the mistake this catches.
    jira.define_field("customfield_10050", JiraFieldType::Select);
    let config = config(&jira, "");
    let items = items(&store, "upgrade:log4j");

    let report = run_sync(&mut store, &jira, &config, &items);

    assert_eq!(report.count(ChangeKind::Fail), 1, "{report:?}");
    let detail = &report.changes[0].detail;
    assert!(detail.contains("HTTP 400"), "{detail}");
    assert!(detail.contains("customfield_10050: Specify a valid"), "{detail}");
    assert!(jira.issues().is_empty());
    assert_eq!(
        store.ticket("jira", SubjectKind::Action, "upgrade:log4j").unwrap(),
        None,
        "a rejected create frees its claim"
    );
}
