//! Ticket sync against a fake GitHub and a fake GitLab on loopback:
//! creation without duplicates, lifecycle both ways, rate limits, and the
//! failures a real forge shows.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use chrono::Utc;
use common::{day, run_input, store_with_findings, sync_now, work_items};
use ctem_mobilize::config::TicketsConfig;
use ctem_mobilize::fake_forge::{FakeForge, Fault, SeenRequest};
use ctem_mobilize::github::GitHubTracker;
use ctem_mobilize::gitlab::GitLabTracker;
use ctem_mobilize::sync::{ChangeKind, SyncError, SyncReport, WorkItem, marker};
use ctem_mobilize::tracker::{Tracker, TrackerError};
use ctem_model::LifecycleStatus;
use ctem_store::{Store, SubjectKind, TicketState};

const TOKEN: &str = "forge-secret-token";

fn env(name: &str) -> Option<String> {
    matches!(name, "GITHUB_TOKEN" | "GITLAB_TOKEN").then(|| TOKEN.to_string())
}

fn github_config(forge: &FakeForge, extra: &str) -> TicketsConfig {
    let text = format!(
        r#"
        tracker = "github"
        {extra}
        [github]
        api_url = "{}"
        repository = "acme/shop"
        labels = ["security"]
        backoff_ms = 10
        attempts = 3
        [github.tier_labels]
        P1 = "priority: critical"
        [github.assignees]
        web-team = ["alice"]
        "#,
        forge.url()
    );
    let config: TicketsConfig = toml::from_str(&text).unwrap();
    config.validate().unwrap();
    config
}

fn gitlab_config(forge: &FakeForge, extra: &str) -> TicketsConfig {
    let text = format!(
        r#"
        tracker = "gitlab"
        {extra}
        [gitlab]
        url = "{}"
        project = "acme/shop"
        labels = ["security"]
        backoff_ms = 10
        attempts = 3
        "#,
        forge.url()
    );
    let config: TicketsConfig = toml::from_str(&text).unwrap();
    config.validate().unwrap();
    config
}

fn tracker(config: &TicketsConfig) -> Box<dyn Tracker> {
    match config.tracker.as_str() {
        "github" => {
            Box::new(GitHubTracker::new("github", config.github.as_ref().unwrap(), Path::new("."), &env).unwrap())
        }
        _ => Box::new(GitLabTracker::new("gitlab", config.gitlab.as_ref().unwrap(), Path::new("."), &env).unwrap()),
    }
}

/// Builds one action per key, each closing every active finding.
fn items(store: &Store, keys: &[&str]) -> Vec<WorkItem> {
    work_items(store, keys, "Log4Shell in <b>log4j-core</b> @everyone")
}

fn try_sync(store: &mut Store, config: &TicketsConfig, items: &[WorkItem]) -> Result<SyncReport, SyncError> {
    sync_now(store, tracker(config).as_ref(), config, items)
}

fn run_sync(store: &mut Store, config: &TicketsConfig, items: &[WorkItem]) -> SyncReport {
    try_sync(store, config, items).unwrap()
}

/// Returns the first `POST` the forge received: the first create.
fn first_post(forge: &FakeForge) -> SeenRequest {
    forge
        .requests()
        .into_iter()
        .find(|request| request.method == "POST")
        .expect("a POST request")
}

/// Both forges with their configurations.
fn forges() -> Vec<(FakeForge, TicketsConfig)> {
    let github = FakeForge::github("acme/shop", TOKEN);
    let github_config = github_config(&github, "");
    let gitlab = FakeForge::gitlab("acme/shop", TOKEN);
    let gitlab_config = gitlab_config(&gitlab, "");
    vec![(github, github_config), (gitlab, gitlab_config)]
}

#[test]
fn github_create_sends_documented_fields() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_with_findings(dir.path());
    let forge = FakeForge::github("acme/shop", TOKEN);
    let config = github_config(&forge, "");
    let items = items(&store, &["upgrade:log4j"]);

    let report = run_sync(&mut store, &config, &items);

    assert_eq!(report.count(ChangeKind::Create), 1, "{report:?}");
    let issues = forge.issues();
    assert_eq!(issues.len(), 1);
    let issue = &issues[0];
    assert_eq!(issue.title, "[P1] Upgrade log4j-core to 2.16.0 on 1 asset(s)");
    assert_eq!(issue.labels, ["ctem", "security", "priority: critical"]);
    assert_eq!(issue.assignees, ["alice"]);
    let marker = marker("github", SubjectKind::Action, "upgrade:log4j");
    assert!(
        issue.body.ends_with(&format!("<!-- ctem-marker: {marker} -->\n")),
        "{}",
        issue.body
    );
    assert!(issue.body.contains("- **Owner:** web-team"), "{}", issue.body);
    assert!(
        issue.body.contains(r"\<b\>log4j-core\</b\> \@everyone"),
        "{}",
        issue.body
    );
    let record = store
        .ticket("github", SubjectKind::Action, "upgrade:log4j")
        .unwrap()
        .unwrap();
    assert_eq!(record.key.as_deref(), Some("#1"));
    assert_eq!(record.url.as_deref(), Some("https://github.example/issues/1"));
    let create = first_post(&forge);
    assert_eq!(create.path, "/repos/acme/shop/issues");
}

#[test]
fn gitlab_create_sends_documented_fields() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_with_findings(dir.path());
    let forge = FakeForge::gitlab("acme/shop", TOKEN);
    let config = gitlab_config(&forge, "");
    let items = items(&store, &["upgrade:log4j"]);

    let report = run_sync(&mut store, &config, &items);

    assert_eq!(report.count(ChangeKind::Create), 1, "{report:?}");
    let issues = forge.issues();
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0].labels, ["ctem", "security"]);
    let marker = marker("gitlab", SubjectKind::Action, "upgrade:log4j");
    assert!(issues[0].body.contains(&marker), "{}", issues[0].body);
    let create = first_post(&forge);
    assert_eq!(create.path, "/api/v4/projects/acme%2Fshop/issues");
    assert_eq!(create.headers.get("private-token").map(String::as_str), Some(TOKEN));
}

#[test]
fn rerun_changes_nothing() {
    for (forge, config) in forges() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = store_with_findings(dir.path());
        let items = items(&store, &["upgrade:log4j"]);
        run_sync(&mut store, &config, &items);

        let again = run_sync(&mut store, &config, &items);

        assert!(again.changes.is_empty(), "{}: {again:?}", config.tracker);
        assert_eq!(again.unchanged, 1, "{}", config.tracker);
        assert_eq!(forge.issues().len(), 1, "{}", config.tracker);
    }
}

#[test]
fn lists_are_paged() {
    for (forge, config) in forges() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = store_with_findings(dir.path());
        // Five issues on pages of two.
        let keys = ["a", "b", "c", "d", "e"];
        let items = items(&store, &keys);
        run_sync(&mut store, &config, &items);
        assert_eq!(forge.issues().len(), 5, "{}", config.tracker);

        let listed = tracker(&config).changed_since(None).unwrap();

        assert_eq!(listed.len(), 5, "{}", config.tracker);
        let pages = forge
            .requests()
            .iter()
            .filter(|request| request.method == "GET" && request.query.contains("page=3"))
            .count();
        assert!(pages >= 1, "{}: the third page was never read", config.tracker);
    }
}

#[test]
fn crash_before_commit_adopts_ticket() {
    for (forge, config) in forges() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = store_with_findings(dir.path());
        let items = items(&store, &["upgrade:log4j"]);
        run_sync(&mut store, &config, &items);
        // The state a sync leaves when it stops after the forge's reply
        // and before its own commit: the claim without the key.
        let mut record = store
            .ticket(&config.tracker, SubjectKind::Action, "upgrade:log4j")
            .unwrap()
            .unwrap();
        record.key = None;
        record.url = None;
        record.state = TicketState::Creating;
        store.save_ticket(&record).unwrap();

        let report = run_sync(&mut store, &config, &items);

        assert_eq!(report.count(ChangeKind::Adopt), 1, "{}: {report:?}", config.tracker);
        assert_eq!(forge.issues().len(), 1, "{}", config.tracker);
        let record = store
            .ticket(&config.tracker, SubjectKind::Action, "upgrade:log4j")
            .unwrap()
            .unwrap();
        assert_eq!(record.key.as_deref(), Some("#1"), "{}", config.tracker);
        assert_eq!(record.state, TicketState::Open, "{}", config.tracker);
    }
}

#[test]
fn server_error_after_create_makes_no_duplicate() {
    for (forge, config) in forges() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = store_with_findings(dir.path());
        let items = items(&store, &["upgrade:log4j"]);
        forge.fail_next("POST", "/issues", Fault::StatusAfterProcessing(502));

        let report = run_sync(&mut store, &config, &items);

        assert_eq!(report.count(ChangeKind::Create), 1, "{}: {report:?}", config.tracker);
        assert_eq!(forge.count("POST", "/issues"), 1, "{}", config.tracker);
        assert_eq!(forge.issues().len(), 1, "{}", config.tracker);
    }
}

#[test]
fn server_error_before_create_retries_once() {
    for (forge, config) in forges() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = store_with_findings(dir.path());
        let items = items(&store, &["upgrade:log4j"]);
        forge.fail_next("POST", "/issues", Fault::Status(500));

        let report = run_sync(&mut store, &config, &items);

        assert_eq!(report.count(ChangeKind::Create), 1, "{}: {report:?}", config.tracker);
        assert_eq!(forge.count("POST", "/issues"), 2, "{}", config.tracker);
        assert_eq!(forge.issues().len(), 1, "{}", config.tracker);
    }
}

#[test]
fn verified_fix_closes_and_reopen_reopens() {
    for (forge, config) in forges() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = store_with_findings(dir.path());
        let first = items(&store, &["upgrade:log4j"]);
        run_sync(&mut store, &config, &first);

        store.record_run(&run_input(day(5), &[])).unwrap();
        let after_fix = items(&store, &["upgrade:log4j"]);
        let report = run_sync(&mut store, &config, &after_fix);

        assert_eq!(report.count(ChangeKind::Close), 1, "{}: {report:?}", config.tracker);
        let issue = &forge.issues()[0];
        assert!(!issue.open, "{}", config.tracker);
        if config.tracker == "github" {
            assert_eq!(issue.state_reason.as_deref(), Some("completed"));
        }
        assert_eq!(issue.comments.len(), 1, "{}", config.tracker);
        assert!(
            issue.comments[0].contains("verified the fix of 2"),
            "{}",
            config.tracker
        );

        store.record_run(&run_input(day(9), &["CVE-2021-44228"])).unwrap();
        let reopened = items(&store, &["upgrade:log4j"]);
        let report = run_sync(&mut store, &config, &reopened);

        assert_eq!(report.count(ChangeKind::Reopen), 1, "{}: {report:?}", config.tracker);
        assert_eq!(report.count(ChangeKind::Create), 0, "{}", config.tracker);
        let issues = forge.issues();
        assert_eq!(issues.len(), 1, "{}", config.tracker);
        assert!(issues[0].open, "{}", config.tracker);
        assert_eq!(issues[0].comments.len(), 2, "{}", config.tracker);
    }
}

#[test]
fn github_not_planned_becomes_risk_acceptance() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_with_findings(dir.path());
    let forge = FakeForge::github("acme/shop", TOKEN);
    let config = github_config(&forge, "accept_days = 30");
    let items = items(&store, &["upgrade:log4j"]);
    run_sync(&mut store, &config, &items);

    forge.set_state(1, false, Some("not_planned"), "alice-approver", Utc::now());
    let report = run_sync(&mut store, &config, &items);

    assert_eq!(report.count(ChangeKind::AcceptRisk), 1, "{report:?}");
    let stored = store.findings(&ctem_store::FindingFilter::default()).unwrap();
    assert_eq!(stored.len(), 2);
    for finding in &stored {
        assert_eq!(finding.status, LifecycleStatus::RiskAccepted);
        let history = store.finding_history(&finding.fingerprint).unwrap();
        let last = history.last().unwrap();
        // The list leaves out `closed_by`: the connector reads the issue.
        assert_eq!(last.approver.as_deref(), Some("alice-approver"));
        assert!(last.reason.as_deref().unwrap().contains("#1"), "{last:?}");
    }

    let again = run_sync(&mut store, &config, &items);
    assert_eq!(again.count(ChangeKind::AcceptRisk), 0, "{again:?}");
}

#[test]
fn github_completed_claims_fix() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_with_findings(dir.path());
    let forge = FakeForge::github("acme/shop", TOKEN);
    let config = github_config(&forge, "");
    let items = items(&store, &["upgrade:log4j"]);
    run_sync(&mut store, &config, &items);

    forge.set_state(1, false, Some("completed"), "carol", Utc::now());
    let report = run_sync(&mut store, &config, &items);

    assert_eq!(report.count(ChangeKind::ClaimFixed), 1, "{report:?}");
    assert_eq!(report.count(ChangeKind::AcceptRisk), 0, "{report:?}");
}

#[test]
fn gitlab_wontfix_label_becomes_risk_acceptance() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_with_findings(dir.path());
    let forge = FakeForge::gitlab("acme/shop", TOKEN);
    let config = gitlab_config(&forge, "");
    let items = items(&store, &["upgrade:log4j"]);
    run_sync(&mut store, &config, &items);

    forge.add_label(1, "wontfix", Utc::now());
    forge.set_state(1, false, None, "bob", Utc::now());
    let report = run_sync(&mut store, &config, &items);

    assert_eq!(report.count(ChangeKind::AcceptRisk), 1, "{report:?}");
    assert_eq!(report.changes[0].detail, "gitlab #1 set to closed by bob");
    assert_eq!(report.unchanged, 0, "a ticket counts once: {report:?}");
    let stored = store.findings(&ctem_store::FindingFilter::default()).unwrap();
    for finding in &stored {
        assert_eq!(finding.status, LifecycleStatus::RiskAccepted);
        let history = store.finding_history(&finding.fingerprint).unwrap();
        assert_eq!(history.last().unwrap().approver.as_deref(), Some("bob"));
    }
}

#[test]
fn gitlab_close_with_added_label_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_with_findings(dir.path());
    let forge = FakeForge::gitlab("acme/shop", TOKEN);
    let config = gitlab_config(&forge, "");
    let items = items(&store, &["upgrade:log4j"]);
    run_sync(&mut store, &config, &items);

    // One edit that labels and closes, as a user of the API sends it.
    forge.add_token("carol-token", "carol");
    let response = reqwest::blocking::Client::new()
        .put(format!("{}/api/v4/projects/acme%2Fshop/issues/1", forge.url()))
        .header("PRIVATE-TOKEN", "carol-token")
        .header("Content-Type", "application/json")
        .body(r#"{"state_event": "close", "add_labels": "wontfix"}"#)
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let issue = &forge.issues()[0];
    assert!(!issue.open);
    assert!(issue.labels.contains(&"wontfix".to_string()), "{:?}", issue.labels);
    assert!(issue.labels.contains(&"ctem".to_string()), "{:?}", issue.labels);

    assert_eq!(issue.closed_by.as_deref(), Some("carol"));

    let report = run_sync(&mut store, &config, &items);
    assert_eq!(report.count(ChangeKind::AcceptRisk), 1, "{report:?}");
    assert_eq!(report.changes[0].detail, "gitlab #1 set to closed by carol");
}

#[test]
fn gitlab_closed_without_label_claims_fix() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_with_findings(dir.path());
    let forge = FakeForge::gitlab("acme/shop", TOKEN);
    let config = gitlab_config(&forge, "");
    let items = items(&store, &["upgrade:log4j"]);
    run_sync(&mut store, &config, &items);

    forge.set_state(1, false, None, "bob", Utc::now());
    let report = run_sync(&mut store, &config, &items);

    assert_eq!(report.count(ChangeKind::ClaimFixed), 1, "{report:?}");
    assert_eq!(
        report.changes[0].detail,
        "gitlab #1 set to closed by bob; awaiting a verifying rescan"
    );
    assert_eq!(report.unchanged, 0, "a ticket counts once: {report:?}");
}

#[test]
fn rate_limited_burst_is_waited_out() {
    for (forge, config) in forges() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = store_with_findings(dir.path());
        let items = items(&store, &["a", "b", "c"]);
        forge.fail_next("POST", "/issues", Fault::RateLimited(1));
        forge.fail_next("POST", "/issues", Fault::RateLimitReset(1));
        forge.fail_next("GET", "/issues", Fault::RateLimited(1));

        let report = run_sync(&mut store, &config, &items);

        assert_eq!(report.count(ChangeKind::Create), 3, "{}: {report:?}", config.tracker);
        assert_eq!(report.count(ChangeKind::Fail), 0, "{}: {report:?}", config.tracker);
        assert_eq!(forge.count("POST", "/issues"), 5, "{}", config.tracker);
        assert_eq!(forge.issues().len(), 3, "{}", config.tracker);
    }
}

#[test]
fn rate_limit_beyond_maximum_fails() {
    for (forge, config) in forges() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = store_with_findings(dir.path());
        forge.fail_next("GET", "/issues", Fault::RateLimitReset(3600));

        let error = try_sync(&mut store, &config, &[]).unwrap_err();

        assert!(
            matches!(&error, SyncError::Tracker(TrackerError::RateLimited { .. })),
            "{}: {error}",
            config.tracker
        );
        assert!(error.to_string().contains("max_retry_after_secs"), "{error}");
    }
}

#[test]
fn list_timeout_is_reported() {
    for (forge, mut config) in forges() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = store_with_findings(dir.path());
        if let Some(github) = config.github.as_mut() {
            github.timeout_secs = 1;
            github.attempts = 2;
        }
        if let Some(gitlab) = config.gitlab.as_mut() {
            gitlab.timeout_secs = 1;
            gitlab.attempts = 2;
        }
        for _ in 0..2 {
            forge.fail_next("GET", "/issues", Fault::Silence(std::time::Duration::from_secs(3)));
        }

        let error = try_sync(&mut store, &config, &[]).unwrap_err().to_string();

        assert!(error.contains("failed after 2 attempt(s)"), "{error}");
        assert!(error.contains("timed out"), "{error}");
        assert!(error.contains("/issues?labels=ctem"), "{error}");
    }
}

#[test]
fn bad_credentials_are_named() {
    for flavor in ["github", "gitlab"] {
        let forge = match flavor {
            "github" => FakeForge::github("acme/shop", "another-token"),
            _ => FakeForge::gitlab("acme/shop", "another-token"),
        };
        let config = match flavor {
            "github" => github_config(&forge, ""),
            _ => gitlab_config(&forge, ""),
        };
        let dir = tempfile::tempdir().unwrap();
        let mut store = store_with_findings(dir.path());

        let error = try_sync(&mut store, &config, &[]).unwrap_err();

        assert!(
            matches!(
                &error,
                SyncError::Tracker(TrackerError::Unauthorized { status: 401, .. })
            ),
            "{flavor}: {error}"
        );
        assert!(!error.to_string().contains(TOKEN), "{error}");
    }
}

#[test]
fn missing_credentials_name_variable() {
    let forge = FakeForge::github("acme/shop", TOKEN);
    let config = github_config(&forge, "");
    let error = GitHubTracker::new("github", config.github.as_ref().unwrap(), Path::new("."), &|_| None)
        .unwrap_err()
        .to_string();
    assert!(error.contains("GITHUB_TOKEN"), "{error}");

    let forge = FakeForge::gitlab("acme/shop", TOKEN);
    let config = gitlab_config(&forge, "");
    let error = GitLabTracker::new("gitlab", config.gitlab.as_ref().unwrap(), Path::new("."), &|_| None)
        .unwrap_err()
        .to_string();
    assert!(error.contains("GITLAB_TOKEN"), "{error}");
}

#[test]
fn token_file_is_read() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("token"), format!("{TOKEN}\n")).unwrap();
    let forge = FakeForge::gitlab("acme/shop", TOKEN);
    let mut config = gitlab_config(&forge, "");
    let gitlab = config.gitlab.as_mut().unwrap();
    gitlab.token_file = Some("token".into());

    let tracker = GitLabTracker::new("gitlab", gitlab, dir.path(), &|_| None).unwrap();

    assert_eq!(tracker.find_by_marker("ctem-none").unwrap(), None);
    assert_eq!(forge.count("GET", "/issues"), 1);

    std::fs::write(dir.path().join("token"), "\n").unwrap();
    let error = GitLabTracker::new("gitlab", gitlab, dir.path(), &|_| None)
        .unwrap_err()
        .to_string();
    assert!(error.contains("is empty"), "{error}");
}

#[test]
fn malformed_responses_are_named() {
    let github_cases = [
        (
            r#"{"message": "x"}"#,
            "malformed response at $: expected an array of issues",
        ),
        (
            r#"[{"title": "x"}]"#,
            "malformed response at $[0].number: expected an issue number",
        ),
        (
            r#"[{"number": 1, "html_url": "u", "state": "merged"}]"#,
            "$[0].state: unknown state \"merged\"",
        ),
        (
            r#"[{"number": 1, "html_url": "u", "state": "open", "labels": 7}]"#,
            "$[0].labels: expected an array",
        ),
        (
            r#"[{"number": 1, "html_url": "u", "state": "open", "updated_at": "yesterday"}]"#,
            "$[0].updated_at: invalid time",
        ),
        ("[{\"number\": ", "malformed response at line 1 column 12: invalid JSON"),
    ];
    let github = FakeForge::github("acme/shop", TOKEN);
    let config = github_config(&github, "");
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_with_findings(dir.path());
    for (body, expected) in github_cases {
        github.fail_next("GET", "/issues", Fault::Body(body.to_string()));
        let error = try_sync(&mut store, &config, &[]).unwrap_err().to_string();
        assert!(error.contains(expected), "{body} gave {error}");
        assert!(error.contains("/repos/acme/shop/issues"), "{error}");
    }

    let gitlab = FakeForge::gitlab("acme/shop", TOKEN);
    let config = gitlab_config(&gitlab, "");
    let gitlab_cases = [
        (r#"[{"iid": "one"}]"#, "$[0].iid: expected an issue number"),
        (
            r#"[{"iid": 1, "web_url": "u", "state": "locked"}]"#,
            "unknown state \"locked\"",
        ),
    ];
    for (body, expected) in gitlab_cases {
        gitlab.fail_next("GET", "/issues", Fault::Body(body.to_string()));
        let error = try_sync(&mut store, &config, &[]).unwrap_err().to_string();
        assert!(error.contains(expected), "{body} gave {error}");
    }
}

#[test]
fn huge_response_is_rejected() {
    let github = FakeForge::github("acme/shop", TOKEN);
    let config = github_config(&github, "");
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_with_findings(dir.path());
    let huge = format!("[\"{}\"]", "x".repeat(17 * 1024 * 1024));
    github.fail_next("GET", "/issues", Fault::Body(huge));

    let error = try_sync(&mut store, &config, &[]).unwrap_err().to_string();

    assert!(error.contains("the response exceeds 16777216 bytes"), "{error}");
}

#[test]
fn hostile_titles_are_sent_escaped() {
    let github = FakeForge::github("acme/shop", TOKEN);
    let config = github_config(&github, "");
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_with_findings(dir.path());
    let mut items = items(&store, &["upgrade:log4j"]);
    items[0].title = format!("{} <!-- ctem-marker: ctem-forged -->", "t".repeat(300));

    run_sync(&mut store, &config, &items);

    let issue = &github.issues()[0];
    assert_eq!(issue.title.chars().count(), 256);
    let marker = marker("github", SubjectKind::Action, "upgrade:log4j");
    assert_eq!(ctem_mobilize::markdown::marker_of(&issue.body), Some(marker.as_str()));
}

/// Builds a GitLab configuration that assigns `web-team` to alice and to
/// a user GitLab does not know, and `ops-team` to Bob.
fn gitlab_assignee_config(forge: &FakeForge) -> TicketsConfig {
    let mut config = gitlab_config(forge, "");
    config.gitlab.as_mut().unwrap().assignees = BTreeMap::from([
        ("web-team".to_string(), vec!["ghost".to_string(), "alice".to_string()]),
        ("ops-team".to_string(), vec!["Bob".to_string()]),
    ]);
    config.validate().unwrap();
    config
}

#[test]
fn gitlab_assignees_follow_owner() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_with_findings(dir.path());
    let forge = FakeForge::gitlab("acme/shop", TOKEN);
    let alice = forge.add_user("alice");
    forge.add_user("bob");
    let config = gitlab_assignee_config(&forge);
    let mut items = items(&store, &["a", "b"]);

    let report = run_sync(&mut store, &config, &items);

    assert_eq!(report.count(ChangeKind::Create), 2, "{report:?}");
    assert_eq!(report.count(ChangeKind::Fail), 0, "{report:?}");
    for issue in forge.issues() {
        assert_eq!(issue.assignees, ["alice"], "#{}", issue.number);
    }
    let create = first_post(&forge);
    let body: serde_json::Value = serde_json::from_slice(&create.body).unwrap();
    assert_eq!(body["assignee_ids"], serde_json::json!([alice]));
    // One lookup per username and sync, the unknown one included.
    assert_eq!(forge.count("GET", "/api/v4/users"), 2);

    items[0].owner.as_mut().unwrap().team = "ops-team".into();
    let report = run_sync(&mut store, &config, &items);

    assert_eq!(report.count(ChangeKind::Update), 1, "{report:?}");
    let issues = forge.issues();
    assert_eq!(issues[0].assignees, ["bob"]);
    assert_eq!(issues[1].assignees, ["alice"]);

    // A team without usernames clears the assignees.
    items[0].owner.as_mut().unwrap().team = "data-team".into();
    let report = run_sync(&mut store, &config, &items);

    assert_eq!(report.count(ChangeKind::Update), 1, "{report:?}");
    assert!(forge.issues()[0].assignees.is_empty());
}

#[test]
fn gitlab_unknown_assignee_is_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_with_findings(dir.path());
    let forge = FakeForge::gitlab("acme/shop", TOKEN);
    forge.add_user("alice");
    let config = gitlab_assignee_config(&forge);
    let items = items(&store, &["upgrade:log4j"]);

    let report = run_sync(&mut store, &config, &items);

    assert_eq!(report.count(ChangeKind::Create), 1, "{report:?}");
    assert_eq!(report.count(ChangeKind::Fail), 0, "{report:?}");
    assert_eq!(forge.issues()[0].assignees, ["alice"]);
    let lookups: Vec<String> = forge
        .requests()
        .into_iter()
        .filter(|request| request.path == "/api/v4/users")
        .map(|request| request.query)
        .collect();
    assert_eq!(lookups, ["username=ghost", "username=alice"]);
}

#[test]
fn gitlab_without_assignees_table_sends_none() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_with_findings(dir.path());
    let forge = FakeForge::gitlab("acme/shop", TOKEN);
    let config = gitlab_config(&forge, "");
    let items = items(&store, &["upgrade:log4j"]);

    run_sync(&mut store, &config, &items);

    let create = first_post(&forge);
    let body: serde_json::Value = serde_json::from_slice(&create.body).unwrap();
    assert!(body.get("assignee_ids").is_none(), "{body}");
    assert_eq!(forge.count("GET", "/api/v4/users"), 0);
}

#[test]
fn gitlab_invalid_assignee_is_named() {
    let forge = FakeForge::gitlab("acme/shop", TOKEN);
    let mut config = gitlab_config(&forge, "");
    config.gitlab.as_mut().unwrap().assignees = BTreeMap::from([("web-team".to_string(), vec!["@alice".to_string()])]);

    let error = config.validate().unwrap_err();

    assert!(
        error.contains("tickets.gitlab.assignees.web-team: invalid username \"@alice\""),
        "{error}"
    );
}

#[test]
fn issues_listed_once_per_sync() {
    for subjects in [1, 6] {
        for (forge, config) in forges() {
            let case = format!("{} with {subjects} subject(s)", config.tracker);
            let dir = tempfile::tempdir().unwrap();
            let mut store = store_with_findings(dir.path());
            forge.set_page_size(100);
            let keys: Vec<String> = (0..subjects).map(|index| format!("action-{index}")).collect();
            let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
            let items = items(&store, &keys);

            let first = run_sync(&mut store, &config, &items);

            assert_eq!(first.count(ChangeKind::Create), subjects, "{case}: {first:?}");
            // The first sync lists every `ctem` issue to read back changes,
            // and the marker search reuses that listing.
            assert_eq!(forge.count("GET", "/issues"), 1, "{case}");

            // Every record lost, as after restoring an old database.
            for key in &keys {
                store.forget_ticket(&config.tracker, SubjectKind::Action, key).unwrap();
            }
            let listed_before = forge.count("GET", "/issues");
            let second = run_sync(&mut store, &config, &items);

            assert_eq!(second.count(ChangeKind::Adopt), subjects, "{case}: {second:?}");
            assert_eq!(forge.issues().len(), subjects, "{case}");
            // One listing of the changes since the first sync, one of every
            // `ctem` issue for the markers.
            let listed = forge.count("GET", "/issues") - listed_before;
            assert_eq!(listed, 2, "{case}");
        }
    }
}
