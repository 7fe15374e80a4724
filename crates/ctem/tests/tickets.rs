//! End to end: `ctem assess` on the example environment, then `ctem
//! tickets sync` against a fake Jira on loopback.

mod common;

use common::copy_dir;

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ctem_mobilize::fake_jira::{FakeJira, Fault};
use serde_json::Value;

/// `Basic base64("sec@acme.example:secret-token")`.
const AUTH: &str = "Basic c2VjQGFjbWUuZXhhbXBsZTpzZWNyZXQtdG9rZW4=";

fn ctem() -> Command {
    let mut command = common::ctem();
    command
        .env("JIRA_USER", "sec@acme.example")
        .env("JIRA_API_TOKEN", "secret-token");
    command
}

fn run(command: &mut Command) -> Output {
    let output = command.output().expect("ctem runs");
    if !output.status.success() {
        eprintln!("stderr:\n{}", String::from_utf8_lossy(&output.stderr));
    }
    output
}

/// Copies the example environment and points its ctem.toml at `jira`.
fn example_with_tracker(dir: &Path, jira: &FakeJira) -> PathBuf {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/acme");
    let copy = dir.join("acme");
    copy_dir(&example, &copy);
    let config = copy.join("ctem.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!(
        "\n[tickets]\nmin_tier = \"P1\"\n\n[tickets.jira]\nurl = \"{}\"\nproject = \"SEC\"\nbackoff_ms = 10\n\n[tickets.jira.priorities]\nP1 = \"Highest\"\n",
        jira.url()
    ));
    std::fs::write(&config, text).unwrap();
    copy
}

fn json(output: &Output) -> Value {
    assert_eq!(output.status.code(), Some(0));
    serde_json::from_slice(&output.stdout).expect("the output is JSON")
}

#[test]
fn sync_then_rerun_on_example() {
    let dir = tempfile::tempdir().unwrap();
    let jira = FakeJira::start("SEC", AUTH);
    let example = example_with_tracker(dir.path(), &jira);
    let config = example.join("ctem.toml");
    let db = dir.path().join("ctem.db");

    let assess = run(ctem().arg("assess").arg(&example).arg("--db").arg(&db));
    assert!(assess.status.code() == Some(0), "assess failed");

    // The P1 actions, as `ctem actions` ranks them from the same reports.
    let actions = json(&run(ctem()
        .args(["actions", "--top", "0", "--format", "json"])
        .arg(&example)));
    let p1: HashMap<String, Value> = actions["actions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|action| {
            action["findings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|finding| finding["tier"] == "P1")
        })
        .map(|action| (action["key"].as_str().unwrap().to_string(), action.clone()))
        .collect();
    assert!(!p1.is_empty(), "the example has P1 actions");

    let sync = |extra: &[&str]| {
        json(&run(ctem()
            .args(["tickets", "sync", "--format", "json", "--config"])
            .arg(&config)
            .arg("--db")
            .arg(&db)
            .args(extra)))
    };

    let preview = sync(&["--dry-run"]);
    assert!(jira.requests().is_empty(), "a dry run sends nothing");
    let planned = preview["changes"].as_array().unwrap().len();

    let first = sync(&[]);
    let changes = first["changes"].as_array().unwrap();
    let created: BTreeSet<String> = changes
        .iter()
        .filter(|change| change["change"] == "create")
        .map(|change| change["subject"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(created.len(), changes.len(), "{first}");
    assert_eq!(created.len(), planned);
    assert_eq!(created, p1.keys().cloned().collect::<BTreeSet<_>>());

    let issues = jira.issues();
    assert_eq!(issues.len(), p1.len());
    for issue in &issues {
        let fields = &issue.fields;
        let description = fields["description"].to_string();
        let subject = created
            .iter()
            .find(|key| description.contains(key.as_str()))
            .unwrap_or_else(|| panic!("{} names no action key: {description}", issue.key));
        let action = &p1[subject];
        assert_eq!(
            fields["summary"],
            format!("[P1] {}", action["summary"].as_str().unwrap())
        );
        assert_eq!(fields["priority"]["name"], "Highest");
        assert!(
            fields["duedate"].as_str().is_some_and(|due| due.len() == 10),
            "{fields}"
        );
        let owner = action["owner"]["team"].as_str().unwrap();
        assert!(
            description.contains(&format!("Owner: {owner} (chosen by")),
            "{description}"
        );
        for finding in action["findings"].as_array().unwrap() {
            let title = finding["title"].as_str().unwrap();
            let escaped = serde_json::to_string(title).unwrap();
            assert!(
                description.contains(escaped.trim_matches('"')),
                "{title} missing: {description}"
            );
        }
    }

    let second = sync(&[]);
    assert_eq!(second["changes"], serde_json::json!([]), "{second}");
    assert_eq!(second["unchanged"], p1.len());
    assert_eq!(jira.count("POST", "/issue"), p1.len());
    assert_eq!(jira.issues().len(), p1.len());

    let status = json(&run(ctem()
        .args(["tickets", "status", "--format", "json", "--db"])
        .arg(&db)));
    let tickets = status["tickets"].as_array().unwrap();
    assert_eq!(tickets.len(), p1.len());
    assert!(tickets.iter().all(|ticket| ticket["state"] == "open"));
}

#[test]
fn rejected_create_fails_then_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let jira = FakeJira::start("SEC", AUTH);
    let example = example_with_tracker(dir.path(), &jira);
    let db = dir.path().join("ctem.db");
    run(ctem().arg("assess").arg(&example).arg("--db").arg(&db));
    jira.fail_next("POST", "/rest/api/3/issue", Fault::Status(400));

    let sync = || {
        ctem()
            .args(["tickets", "sync", "--config"])
            .arg(example.join("ctem.toml"))
            .arg("--db")
            .arg(&db)
            .output()
            .unwrap()
    };
    let first = sync();
    let stdout = String::from_utf8_lossy(&first.stdout);
    assert_eq!(first.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("1 failed"), "{stdout}");
    assert!(stdout.contains("HTTP 400: fault injected by the test"), "{stdout}");
    let created = jira.issues().len();

    let second = sync();
    let stdout = String::from_utf8_lossy(&second.stdout);
    assert_eq!(second.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("1 created"), "{stdout}");
    assert_eq!(jira.issues().len(), created + 1);
}

#[test]
fn sync_without_credentials_names_variable() {
    let dir = tempfile::tempdir().unwrap();
    let jira = FakeJira::start("SEC", AUTH);
    let example = example_with_tracker(dir.path(), &jira);
    let db = dir.path().join("ctem.db");
    run(ctem().arg("assess").arg(&example).arg("--db").arg(&db));

    let output = ctem()
        .env_remove("JIRA_API_TOKEN")
        .args(["tickets", "sync", "--config"])
        .arg(example.join("ctem.toml"))
        .arg("--db")
        .arg(&db)
        .output()
        .unwrap();

    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("JIRA_API_TOKEN"), "{stderr}");
    assert!(stderr.contains("token_file in [tickets.jira]"), "{stderr}");
    assert!(jira.requests().is_empty());

    // A dry run previews the changes and warns that a real sync would stop.
    let preview = ctem()
        .env_remove("JIRA_API_TOKEN")
        .args(["tickets", "sync", "--dry-run", "--config"])
        .arg(example.join("ctem.toml"))
        .arg("--db")
        .arg(&db)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&preview.stderr);
    assert_eq!(preview.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("without --dry-run would stop"), "{stderr}");
    assert!(stderr.contains("JIRA_API_TOKEN"), "{stderr}");
    assert!(String::from_utf8_lossy(&preview.stdout).contains("Dry run"));
    assert!(jira.requests().is_empty(), "a dry run sends nothing");
}

#[test]
fn sync_without_tickets_table_is_explained() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("ctem.toml");
    std::fs::write(&config, "").unwrap();
    let output = ctem()
        .args(["tickets", "sync", "--config"])
        .arg(&config)
        .arg("--db")
        .arg(dir.path().join("ctem.db"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no [tickets] table"), "{stderr}");
}

/// `Basic base64("alice@acme.example:alice-token")`.
const ALICE_AUTH: &str = "Basic YWxpY2VAYWNtZS5leGFtcGxlOmFsaWNlLXRva2Vu";

#[test]
fn wont_fix_in_jira_accepts_risk() {
    let dir = tempfile::tempdir().unwrap();
    let jira = FakeJira::start("SEC", AUTH);
    jira.add_user(ALICE_AUTH, "Alice Analyst");
    let example = example_with_tracker(dir.path(), &jira);
    let db = dir.path().join("ctem.db");
    run(ctem().arg("assess").arg(&example).arg("--db").arg(&db));
    let sync = || {
        json(&run(ctem()
            .args(["tickets", "sync", "--format", "json", "--config"])
            .arg(example.join("ctem.toml"))
            .arg("--db")
            .arg(&db)))
    };
    sync();
    let key = jira.issues()[0].key.clone();

    // Alice closes the ticket as "Won't Do" through the REST API, as the
    // transition screen of Jira does.
    let client = reqwest::blocking::Client::new();
    let transitions = client
        .get(format!("{}/rest/api/3/issue/{key}/transitions", jira.url()))
        .header("Authorization", ALICE_AUTH)
        .send()
        .unwrap()
        .text()
        .unwrap();
    let transitions: Value = serde_json::from_str(&transitions).unwrap();
    let done = transitions["transitions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|transition| transition["to"]["name"] == "Done")
        .expect("a transition to Done");
    let response = client
        .post(format!("{}/rest/api/3/issue/{key}/transitions", jira.url()))
        .header("Authorization", ALICE_AUTH)
        .header("Content-Type", "application/json")
        .body(
            serde_json::json!({
                "transition": { "id": done["id"] },
                "fields": { "resolution": { "name": "Won't Do" } },
            })
            .to_string(),
        )
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 204);

    let second = sync();
    let changes = second["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{second}");
    assert_eq!(changes[0]["change"], "accept_risk");
    assert_eq!(changes[0]["ticket"], key.as_str());
    assert!(
        changes[0]["detail"].as_str().unwrap().contains("by Alice Analyst"),
        "{second}"
    );

    let accepted = json(&run(ctem()
        .args(["findings", "--status", "risk_accepted", "--format", "json", "--db"])
        .arg(&db)));
    let findings = accepted.as_array().unwrap();
    assert!(!findings.is_empty(), "{accepted}");
    let fingerprint = findings[0]["fingerprint"].as_str().unwrap();
    let finding = json(&run(ctem()
        .args(["finding", fingerprint, "--format", "json", "--db"])
        .arg(&db)));
    let last = finding["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["status"], "risk_accepted");
    assert_eq!(last["approver"], "Alice Analyst");
    assert!(last["expires_at"].is_string(), "{last}");

    // Ticket status counts the ticket's findings by outcome.
    let status = json(&run(ctem()
        .args(["tickets", "status", "--format", "json", "--db"])
        .arg(&db)));
    let ticket = status["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|ticket| ticket["key"] == key.as_str())
        .unwrap()
        .clone();
    let listed = ticket["findings"].as_array().unwrap().len();
    assert_eq!(ticket["finding_outcomes"]["risk_accepted"], listed, "{ticket}");
    let table = String::from_utf8(run(ctem().args(["tickets", "status", "--db"]).arg(&db)).stdout).unwrap();
    assert!(table.contains(&format!("{listed}: {listed} risk_accepted")), "{table}");
}

#[test]
fn tracker_config_mistakes_are_named() {
    let cases = [
        (
            "token = \"s3cr3t-value\"\n",
            "tickets.jira",
            "credentials never go in ctem.toml",
        ),
        (
            "",
            "tickets.jira.url: invalid URL \"127.0.0.1:8080\"",
            "write it as https://HOST",
        ),
    ];
    for (extra, place, hint) in cases {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("ctem.toml");
        let url = if extra.is_empty() {
            "127.0.0.1:8080"
        } else {
            "http://127.0.0.1:8080"
        };
        std::fs::write(
            &config,
            format!("[tickets.jira]\nurl = \"{url}\"\nproject = \"SEC\"\n{extra}"),
        )
        .unwrap();
        let db = dir.path().join("ctem.db");
        let output = ctem()
            .args(["tickets", "sync", "--dry-run", "--config"])
            .arg(&config)
            .arg("--db")
            .arg(&db)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("ctem.toml"), "{stderr}");
        assert!(stderr.contains(place), "{stderr}");
        assert!(stderr.contains(hint), "{stderr}");
        assert!(!stderr.contains("s3cr3t-value"), "{stderr}");
        assert!(!db.exists(), "a failed sync writes no database");
    }
}

#[test]
fn sync_before_assess_is_explained() {
    let dir = tempfile::tempdir().unwrap();
    let jira = FakeJira::start("SEC", AUTH);
    let example = example_with_tracker(dir.path(), &jira);
    let db = dir.path().join("ctem.db");

    // An assess of a path that does not exist writes no database.
    let assess = ctem()
        .arg("assess")
        .arg(dir.path().join("missing"))
        .arg("--db")
        .arg(&db)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&assess.stderr);
    assert_eq!(assess.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no such file or folder"), "{stderr}");
    assert!(!db.exists(), "a failed assess leaves no database");

    // A database without a run stops the sync before it reaches the tracker.
    drop(ctem_store::Store::open(&db).unwrap());
    for extra in [&[][..], &["--dry-run"][..]] {
        let output = ctem()
            .args(["tickets", "sync", "--config"])
            .arg(example.join("ctem.toml"))
            .arg("--db")
            .arg(&db)
            .args(extra)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{extra:?}: {stderr}");
        assert!(stderr.contains("no run recorded yet"), "{stderr}");
        assert!(stderr.contains("ctem assess"), "{stderr}");
    }
    assert!(jira.requests().is_empty(), "nothing reaches the tracker");
}
