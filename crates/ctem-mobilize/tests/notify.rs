//! Notifications to a webhook receiver on loopback: signed bodies, once per
//! event across reruns, and the failures a receiver shows.

use std::path::Path;

use chrono::{NaiveDate, TimeZone, Utc};
use ctem_mobilize::fake_forge::{FakeForge, Fault};
use ctem_mobilize::notify::{EventKind, HttpNotifier, Notifier, NotifyConfig, events_of, notify, verify_signature};
use ctem_mobilize::sync::{WorkFinding, WorkItem, WorkOwner};
use ctem_model::Tier;
use ctem_store::{Store, SubjectKind};
use serde_json::Value;

const SECRET: &str = "hook-secret";

fn env(name: &str) -> Option<String> {
    (name == "HOOK_SECRET").then(|| SECRET.to_string())
}

fn webhook_config(url: &str, extra: &str) -> NotifyConfig {
    let text = format!(
        "name = \"soc\"\nkind = \"webhook\"\nurl = \"{url}/hook\"\nsecret_env = \"HOOK_SECRET\"\nbackoff_ms = 10\n{extra}"
    );
    let config: NotifyConfig = toml::from_str(&text).unwrap();
    config.validate(0).unwrap();
    config
}

fn item(key: &str, due: Option<NaiveDate>) -> WorkItem {
    WorkItem {
        kind: SubjectKind::Action,
        key: key.into(),
        title: "Upgrade log4j-core".into(),
        explanation: "Closes 1 finding.".into(),
        tier: Tier::P1,
        risk: 95.0,
        owner: Some(WorkOwner {
            team: "web-team".into(),
            contacts: vec![],
            rule: "owners".into(),
        }),
        due,
        findings: vec![WorkFinding {
            fingerprint: format!("fp-{key}"),
            title: "Log4Shell <!channel>".into(),
            asset: "host:web-1".into(),
            tier: Tier::P1,
            score: 95.0,
        }],
    }
}

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 2, 9, 0, 0).unwrap()
}

#[test]
fn events_cover_p1_sla_and_digest() {
    let items = [item("a", NaiveDate::from_ymd_opt(2026, 11, 30)), item("b", None)];

    let events = events_of(&items, now());

    let keys: Vec<&str> = events.iter().map(|event| event.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "immediate:fp-a",
            "sla:a:2026-11-30",
            "immediate:fp-b",
            "digest:2026-W49"
        ]
    );
    assert!(events[1].summary.contains("2 day(s) late"), "{}", events[1].summary);
    assert_eq!(events[3].data["past_due"], 1);
    assert_eq!(events[3].data["by_tier"]["P1"], 2);
}

#[test]
fn webhook_is_signed_and_sent_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("ctem.db")).unwrap();
    let receiver = FakeForge::receiver(Some(SECRET));
    let notifier = HttpNotifier::new(&webhook_config(&receiver.url(), ""), Path::new("."), &env).unwrap();
    let events = events_of(&[item("a", NaiveDate::from_ymd_opt(2026, 11, 30))], now());

    let first = notify(&mut store, &[&notifier as &dyn Notifier], &events, now()).unwrap();

    assert_eq!(first.sent.len(), 3, "{first:?}");
    assert!(first.failed.is_empty(), "{first:?}");
    let requests = receiver.requests();
    assert_eq!(requests.len(), 3);
    for request in &requests {
        let signature = request.headers.get("x-ctem-signature").unwrap();
        assert!(
            verify_signature(SECRET.as_bytes(), &request.body, signature),
            "{signature}"
        );
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(
            request.headers.get("x-ctem-delivery").unwrap(),
            body["key"].as_str().unwrap()
        );
        assert!(!String::from_utf8_lossy(&request.body).contains(SECRET));
    }
    let body: Value = serde_json::from_slice(&requests[0].body).unwrap();
    assert_eq!(body["event"], "immediate");
    assert_eq!(body["data"]["fingerprint"], "fp-a");

    // A rerun, in a new process, sends nothing again.
    drop(store);
    let mut store = Store::open(&dir.path().join("ctem.db")).unwrap();
    let second = notify(&mut store, &[&notifier as &dyn Notifier], &events, now()).unwrap();

    assert!(second.sent.is_empty(), "{second:?}");
    assert_eq!(second.skipped, 3);
    assert_eq!(receiver.requests().len(), 3);
}

#[test]
fn wrong_secret_is_rejected_by_receiver() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("ctem.db")).unwrap();
    let receiver = FakeForge::receiver(Some("another-secret"));
    let notifier = HttpNotifier::new(&webhook_config(&receiver.url(), ""), Path::new("."), &env).unwrap();
    let events = events_of(&[item("a", None)], now());

    let report = notify(&mut store, &[&notifier as &dyn Notifier], &events, now()).unwrap();

    assert!(report.sent.is_empty(), "{report:?}");
    assert_eq!(report.failed.len(), 2, "{report:?}");
    assert!(
        report.failed[0].2.contains("rejected the credentials (HTTP 401)"),
        "{report:?}"
    );
    // The failed events are not recorded, so a fixed secret sends them.
    let fixed = FakeForge::receiver(Some(SECRET));
    let notifier = HttpNotifier::new(&webhook_config(&fixed.url(), ""), Path::new("."), &env).unwrap();
    let retried = notify(&mut store, &[&notifier as &dyn Notifier], &events, now()).unwrap();
    assert_eq!(retried.sent.len(), 2, "{retried:?}");
}

#[test]
fn rate_limit_and_server_error_are_retried() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("ctem.db")).unwrap();
    let receiver = FakeForge::receiver(Some(SECRET));
    receiver.fail_next("POST", "/hook", Fault::RateLimited(1));
    receiver.fail_next("POST", "/hook", Fault::Status(503));
    let notifier = HttpNotifier::new(&webhook_config(&receiver.url(), ""), Path::new("."), &env).unwrap();
    let events = events_of(&[item("a", None)], now());

    let report = notify(&mut store, &[&notifier as &dyn Notifier], &events, now()).unwrap();

    assert_eq!(report.sent.len(), 2, "{report:?}");
    assert_eq!(receiver.count("POST", "/hook"), 4);
}

#[test]
fn timeout_is_reported_and_retried_later() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("ctem.db")).unwrap();
    let receiver = FakeForge::receiver(Some(SECRET));
    for _ in 0..2 {
        receiver.fail_next("POST", "/hook", Fault::Silence(std::time::Duration::from_secs(3)));
    }
    let config = webhook_config(
        &receiver.url(),
        "timeout_secs = 1\nattempts = 2\nevents = [\"digest\"]\n",
    );
    let notifier = HttpNotifier::new(&config, Path::new("."), &env).unwrap();
    let events = events_of(&[item("a", None)], now());

    let report = notify(&mut store, &[&notifier as &dyn Notifier], &events, now()).unwrap();

    assert_eq!(report.failed.len(), 1, "{report:?}");
    assert!(
        report.failed[0].2.contains("failed after 2 attempt(s): timed out"),
        "{report:?}"
    );
    let again = notify(&mut store, &[&notifier as &dyn Notifier], &events, now()).unwrap();
    assert_eq!(again.sent.len(), 1, "{again:?}");
}

#[test]
fn only_wanted_events_are_sent() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("ctem.db")).unwrap();
    let receiver = FakeForge::receiver(Some(SECRET));
    let config = webhook_config(&receiver.url(), "events = [\"sla_breach\"]\n");
    let notifier = HttpNotifier::new(&config, Path::new("."), &env).unwrap();
    assert!(notifier.wants(EventKind::SlaBreach));
    assert!(!notifier.wants(EventKind::Digest));
    let events = events_of(&[item("a", NaiveDate::from_ymd_opt(2026, 11, 1))], now());

    let report = notify(&mut store, &[&notifier as &dyn Notifier], &events, now()).unwrap();

    assert_eq!(report.sent, [("soc".to_string(), "sla:a:2026-11-01".to_string())]);
}

#[test]
fn slack_text_is_escaped_and_url_read_from_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("ctem.db")).unwrap();
    let receiver = FakeForge::receiver(None);
    std::fs::write(
        dir.path().join("slack-url"),
        format!("{}/services/T0/B0/x\n", receiver.url()),
    )
    .unwrap();
    let text = "name = \"chat\"\nkind = \"slack\"\nurl_file = \"slack-url\"\nevents = [\"immediate\"]\n";
    let config: NotifyConfig = toml::from_str(text).unwrap();
    config.validate(0).unwrap();
    let notifier = HttpNotifier::new(&config, dir.path(), &|_| None).unwrap();
    assert!(!format!("{notifier:?}").contains("services"));
    let events = events_of(&[item("a", None)], now());

    let report = notify(&mut store, &[&notifier as &dyn Notifier], &events, now()).unwrap();

    assert_eq!(report.sent.len(), 1, "{report:?}");
    let request = &receiver.requests()[0];
    assert_eq!(request.path, "/services/T0/B0/x");
    assert!(!request.headers.contains_key("x-ctem-signature"));
    let body: Value = serde_json::from_slice(&request.body).unwrap();
    let text = body["text"].as_str().unwrap();
    assert!(text.contains("Log4Shell &lt;!channel&gt;"), "{text}");
}

#[test]
fn invalid_secret_url_is_not_printed() {
    let text = "name = \"chat\"\nkind = \"slack\"\nurl_env = \"SLACK_URL\"\n";
    let config: NotifyConfig = toml::from_str(text).unwrap();
    for url in [
        "hooks.slack.example/services/T0/B0/s3cr3t",
        "ftp://hooks.slack.example/s3cr3t",
    ] {
        let error = HttpNotifier::new(&config, Path::new("."), &|_| Some(url.to_string()))
            .unwrap_err()
            .to_string();
        assert!(error.contains("notification URL"), "{error}");
        assert!(error.contains("http or https"), "{error}");
        assert!(!error.contains("s3cr3t"), "{error}");
    }
}

#[test]
fn missing_secret_names_variable() {
    let config = webhook_config("http://127.0.0.1:9", "");
    let error = HttpNotifier::new(&config, Path::new("."), &|_| None)
        .unwrap_err()
        .to_string();
    assert!(error.contains("HOOK_SECRET"), "{error}");
}
