//! Tests of `ctem triage`, `ctem finding`, `ctem redupe` and the triage
//! statuses in `ctem findings`, run on a database in a temporary folder.
//!
//! The fixtures are two reports of one image: `alpha-scan` reports four
//! findings, and `beta-scan` reports one of them (CVE-2024-0001 in
//! left-pad) again, so that finding has two sources.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde_json::Value;
use tempfile::TempDir;

const FIRST_RUN: &str = "2025-03-01T08:00:00Z";
const SECOND_RUN: &str = "2025-03-02T08:00:00Z";
const TRIAGE_TIME: &str = "2025-03-03T09:30:00Z";

const LEFT_PAD: &str = "left-pad: prototype pollution";
const RIGHT_PAD: &str = "right-pad: denial of service";
const CENTER_PAD: &str = "center-pad: path traversal";
const DEBUG_ENDPOINT: &str = "Debug endpoint enabled";

fn ctem() -> Command {
    let mut command = common::ctem();
    command.env("USER", "alice");
    command
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/triage")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A database in a temporary folder, assessed from the fixtures.
struct Database {
    dir: TempDir,
}

impl Database {
    /// Assesses the fixtures twice, so that every finding is open.
    fn assessed() -> Database {
        let database = Database {
            dir: tempfile::tempdir().unwrap(),
        };
        database.assess(FIRST_RUN);
        database.assess(SECOND_RUN);
        database
    }

    fn path(&self) -> PathBuf {
        self.dir.path().join("ctem.db")
    }

    /// Runs `ctem SUBCOMMAND ARGS --db PATH` in the temporary folder.
    fn ctem(&self, args: &[&str]) -> Command {
        let mut command = ctem();
        command
            .current_dir(self.dir.path())
            .args(args)
            .arg("--db")
            .arg(self.path());
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.ctem(args).output().unwrap()
    }

    /// Runs a command that must succeed and returns its standard output.
    fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert_eq!(
            output.status.code(),
            Some(0),
            "ctem {args:?} failed: {}",
            text(&output.stderr)
        );
        text(&output.stdout)
    }

    fn json(&self, args: &[&str]) -> Value {
        let stdout = self.ok(args);
        serde_json::from_str(&stdout).unwrap_or_else(|error| panic!("{error}: {stdout}"))
    }

    fn assess(&self, at: &str) {
        let output = ctem()
            .current_dir(self.dir.path())
            .arg("assess")
            .arg(fixtures())
            .arg("--db")
            .arg(self.path())
            .args(["--at", at])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    }

    /// Returns the fingerprint of the finding whose title starts with `title`.
    fn fingerprint(&self, title: &str) -> String {
        let findings = self.json(&["findings", "--all", "--format", "json"]);
        let finding = findings
            .as_array()
            .unwrap()
            .iter()
            .find(|finding| finding["title"].as_str().unwrap().starts_with(title))
            .unwrap_or_else(|| panic!("no finding titled {title:?} in {findings}"));
        finding["fingerprint"].as_str().unwrap().to_string()
    }

    fn finding(&self, fingerprint: &str) -> Value {
        self.json(&["finding", fingerprint, "--format", "json"])
    }

    /// Every file of the database (the main file, and a write-ahead log
    /// where one is left) with its bytes.
    fn files(&self) -> Vec<(String, Vec<u8>)> {
        let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|entry| entry.unwrap())
            .filter(|entry| entry.file_name().to_string_lossy().starts_with("ctem.db"))
            .map(|entry| {
                let bytes = std::fs::read(entry.path()).unwrap();
                (entry.file_name().to_string_lossy().into_owned(), bytes)
            })
            .collect();
        files.sort();
        files
    }
}

fn last_history(finding: &Value) -> &Value {
    finding["history"].as_array().unwrap().last().unwrap()
}

fn rfc3339(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[test]
fn triage_sets_each_status() {
    let database = Database::assessed();
    let cases = [
        (
            LEFT_PAD,
            vec![
                "--status",
                "risk-accepted",
                "--approver",
                "carol",
                "--expires",
                "2100-01-01",
            ],
            "risk_accepted",
        ),
        (RIGHT_PAD, vec!["--status", "false-positive"], "false_positive"),
        (CENTER_PAD, vec!["--status", "not-affected"], "not_affected"),
        (DEBUG_ENDPOINT, vec!["--status", "fixed"], "fixed"),
    ];

    for (title, options, status) in cases {
        let fingerprint = database.fingerprint(title);
        let mut args = vec![
            "triage",
            fingerprint.as_str(),
            "--reason",
            "reviewed in the weekly triage",
        ];
        args.extend(options.iter().copied());
        args.extend(["--at", TRIAGE_TIME]);
        let stdout = database.ok(&args);
        assert_eq!(stdout, format!("{fingerprint}  open → {status}\n"), "{title}");

        let finding = database.finding(&fingerprint);
        assert_eq!(finding["status"], status, "{title}");
        let entry = last_history(&finding);
        assert_eq!(entry["cause"], "triage", "{title}");
        assert_eq!(entry["status"], status, "{title}");
        assert_eq!(entry["reason"], "reviewed in the weekly triage", "{title}");
        assert_eq!(entry["actor"], "alice", "{title}");
        assert_eq!(entry["at"], "2025-03-03T09:30:00Z", "{title}");
        assert_eq!(entry["run_id"], Value::Null, "{title}");
    }

    let accepted = database.finding(&database.fingerprint(LEFT_PAD));
    let entry = last_history(&accepted);
    assert_eq!(entry["approver"], "carol");
    assert_eq!(entry["expires_at"], "2100-01-01T00:00:00Z");
    assert_eq!(accepted["accepted_until"], "2100-01-01T00:00:00Z");

    let fixed = database.finding(&database.fingerprint(DEBUG_ENDPOINT));
    assert_eq!(fixed["fixed_at"], "2025-03-03T09:30:00Z");
    assert_eq!(fixed["verified_at"], Value::Null);
}

#[test]
fn triage_open_undoes_a_status() {
    let database = Database::assessed();
    let fingerprint = database.fingerprint(RIGHT_PAD);
    database.ok(&[
        "triage",
        &fingerprint,
        "--status",
        "false-positive",
        "--reason",
        "test code only",
    ]);

    let stdout = database.ok(&[
        "triage",
        &fingerprint,
        "--status",
        "open",
        "--reason",
        "the test code ships in the image",
        "--actor",
        "dave",
    ]);

    assert_eq!(stdout, format!("{fingerprint}  false_positive → open\n"));
    let finding = database.finding(&fingerprint);
    assert_eq!(finding["status"], "open");
    let entry = last_history(&finding);
    assert_eq!(entry["actor"], "dave");
    assert_eq!(entry["reason"], "the test code ships in the image");
    assert_eq!(entry["approver"], Value::Null);
}

#[test]
fn triaged_fix_reopens_when_seen_again() {
    let database = Database::assessed();
    let fingerprint = database.fingerprint(RIGHT_PAD);
    database.ok(&[
        "triage",
        &fingerprint,
        "--status",
        "fixed",
        "--reason",
        "upgraded in release 4.2",
        "--at",
        TRIAGE_TIME,
    ]);

    database.assess("2025-03-04T08:00:00Z");

    let finding = database.finding(&fingerprint);
    assert_eq!(finding["status"], "reopened");
    let entry = last_history(&finding);
    assert_eq!(entry["cause"], "run");
    assert_eq!(entry["run_id"], 3);
}

#[test]
fn triage_status_filters_findings() {
    let database = Database::assessed();
    let fingerprint = database.fingerprint(RIGHT_PAD);
    database.ok(&[
        "triage",
        &fingerprint,
        "--status",
        "false_positive",
        "--reason",
        "test code only",
    ]);

    let listed = database.json(&["findings", "--status", "false_positive", "--format", "json"]);
    let listed: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|finding| finding["fingerprint"].as_str().unwrap())
        .collect();
    assert_eq!(listed, [fingerprint.as_str()]);

    let active = database.json(&["findings", "--format", "json"]);
    assert_eq!(
        active.as_array().unwrap().len(),
        3,
        "the default lists the findings that need fixing"
    );
}

#[test]
fn acceptance_ended_before_a_run_reopens_in_it() {
    let database = Database {
        dir: tempfile::tempdir().unwrap(),
    };
    let now = Utc::now();
    database.assess(&rfc3339(now - Duration::days(2)));
    let fingerprint = database.fingerprint(LEFT_PAD);
    let expires = rfc3339(now + Duration::hours(1));
    database.ok(&[
        "triage",
        &fingerprint,
        "--status",
        "risk-accepted",
        "--reason",
        "a WAF rule blocks the payload",
        "--approver",
        "carol",
        "--expires",
        &expires,
        "--at",
        &rfc3339(now - Duration::days(1)),
    ]);
    assert_eq!(database.finding(&fingerprint)["status"], "risk_accepted");

    database.assess(&rfc3339(now + Duration::hours(2)));

    let finding = database.finding(&fingerprint);
    assert_eq!(finding["status"], "reopened");
    assert_eq!(finding["accepted_until"], Value::Null);
    let expiry = finding["history"]
        .as_array()
        .unwrap()
        .iter()
        .find(|entry| entry["cause"] == "expiry")
        .expect("an expiry in the history");
    assert_eq!(expiry["run_id"], 2, "the second run reopened it");
    assert_eq!(expiry["status"], "reopened");
}

#[test]
fn ended_acceptance_never_lists_as_accepted() {
    let database = Database::assessed();
    let fingerprint = database.fingerprint(LEFT_PAD);
    database.ok(&[
        "triage",
        &fingerprint,
        "--status",
        "risk-accepted",
        "--reason",
        "a WAF rule blocks the payload",
        "--approver",
        "carol",
        "--expires",
        "7d",
        "--at",
        TRIAGE_TIME,
    ]);

    let accepted = database.json(&["findings", "--status", "risk_accepted", "--format", "json"]);
    assert_eq!(accepted, Value::Array(Vec::new()));

    let finding = database.finding(&fingerprint);
    assert_eq!(finding["status"], "reopened");
    let entry = last_history(&finding);
    assert_eq!(entry["cause"], "expiry");
    assert_eq!(entry["run_id"], Value::Null, "no run reopened it");
    assert_eq!(
        entry["at"], "2025-03-10T09:30:00Z",
        "it reopened when the acceptance ended"
    );
}

#[test]
fn validate_sets_the_mark() {
    let database = Database::assessed();
    let fingerprint = database.fingerprint(CENTER_PAD);

    let stdout = database.ok(&[
        "triage",
        &fingerprint,
        "--validate",
        "confirmed",
        "--reason",
        "exploited in the pentest",
    ]);
    assert_eq!(
        stdout,
        format!("{fingerprint}  validation none → confirmed (status open)\n")
    );
    let finding = database.finding(&fingerprint);
    assert_eq!(finding["validation"], "confirmed");
    assert_eq!(finding["status"], "open");
    let entry = last_history(&finding);
    assert_eq!(entry["cause"], "validation");
    assert_eq!(entry["validation"], "confirmed");
    assert_eq!(entry["reason"], "exploited in the pentest");
    assert_eq!(entry["actor"], "alice");

    let stdout = database.ok(&[
        "triage",
        &fingerprint,
        "--validate",
        "refuted",
        "--reason",
        "the retest failed",
    ]);
    assert_eq!(
        stdout,
        format!("{fingerprint}  validation confirmed → refuted (status open)\n")
    );
    assert_eq!(database.finding(&fingerprint)["validation"], "refuted");
}

#[test]
fn fingerprints_read_from_stdin() {
    let database = Database::assessed();
    let left_pad = database.finding(&database.fingerprint(LEFT_PAD));
    let sources: Vec<&str> = left_pad["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|source| source["fingerprint"].as_str().unwrap())
        .collect();
    assert_eq!(sources.len(), 2);
    let right_pad = database.fingerprint(RIGHT_PAD);
    // Both sources of one finding, a quoted line as `jq` prints it without
    // -r, and a blank line.
    let input = format!("{}\n\"{}\"\n\n{right_pad}\n", sources[0], sources[1]);

    let mut child = database
        .ctem(&[
            "triage",
            "-",
            "--status",
            "false-positive",
            "--reason",
            "vendored test fixtures",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();

    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let lines: Vec<String> = text(&output.stdout).lines().map(str::to_string).collect();
    let left_pad_fingerprint = left_pad["fingerprint"].as_str().unwrap();
    assert_eq!(
        lines,
        [
            format!("{left_pad_fingerprint}  open → false_positive"),
            format!("{right_pad}  open → false_positive"),
        ]
    );
    let fingerprints = [left_pad_fingerprint, right_pad.as_str()];
    for fingerprint in fingerprints {
        let finding = database.finding(fingerprint);
        assert_eq!(finding["status"], "false_positive", "{fingerprint}");
        let triage_events = finding["history"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|entry| entry["cause"] == "triage")
            .count();
        assert_eq!(triage_events, 1, "{fingerprint}");
    }
}

#[test]
fn triage_json_lists_each_change() {
    let database = Database::assessed();
    let fingerprint = database.fingerprint(LEFT_PAD);

    let document = database.json(&[
        "triage",
        &fingerprint,
        "--status",
        "risk-accepted",
        "--approver",
        "carol",
        "--expires",
        "30d",
        "--reason",
        "a WAF rule blocks the payload",
        "--at",
        TRIAGE_TIME,
        "--format",
        "json",
    ]);

    assert_eq!(document["at"], TRIAGE_TIME);
    assert_eq!(document["actor"], "alice");
    assert_eq!(document["reason"], "a WAF rule blocks the payload");
    assert_eq!(document["approver"], "carol");
    assert_eq!(document["expires_at"], "2025-04-02T09:30:00Z");
    let change = &document["findings"][0];
    assert_eq!(change["fingerprint"], fingerprint.as_str());
    assert_eq!(change["status_before"], "open");
    assert_eq!(change["status_after"], "risk_accepted");
    assert_eq!(change["validation_before"], Value::Null);
    assert_eq!(change["validation_after"], Value::Null);
}

/// Returns the source of `finding` that `tool` reported.
fn source<'a>(finding: &'a Value, tool: &str) -> &'a Value {
    finding["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|source| source["tool"] == tool)
        .unwrap_or_else(|| panic!("no source of {tool} in {finding}"))
}

#[test]
fn finding_shows_sources_and_history() {
    let database = Database::assessed();
    let fingerprint = database.fingerprint(LEFT_PAD);
    let alpha_source = source(&database.finding(&fingerprint), "alpha-scan")["fingerprint"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(
        alpha_source, fingerprint,
        "the finding took the fingerprint of beta-scan's report"
    );

    let finding = database.finding(&alpha_source);

    assert_eq!(
        finding["fingerprint"],
        fingerprint.as_str(),
        "a source finds its finding"
    );
    assert_eq!(finding["tools"], serde_json::json!(["alpha-scan", "beta-scan"]));
    assert_eq!(finding["first_seen"], FIRST_RUN);
    assert_eq!(finding["last_seen"], SECOND_RUN);
    assert!(finding["score"].as_f64().unwrap() > 0.0);
    assert!(!finding["reasons"].as_str().unwrap().is_empty());
    let sources = finding["sources"].as_array().unwrap();
    assert_eq!(sources.len(), 2);
    let first = source(&finding, "beta-scan");
    assert_eq!(first["fingerprint"], fingerprint.as_str());
    assert_eq!(first["merged_by"], "first");
    let merged = source(&finding, "alpha-scan");
    assert_eq!(merged["merged_by"], "vulnerability");
    assert_eq!(merged["target"], "acme/shop:1");
    assert_eq!(merged["active"], true);
    assert_eq!(merged["first_seen"], FIRST_RUN);
    assert!(merged["basis"].as_str().unwrap().contains("CVE-2024-0001"));
    let history = finding["history"].as_array().unwrap();
    let statuses: Vec<(&str, &str)> = history
        .iter()
        .map(|entry| (entry["cause"].as_str().unwrap(), entry["status"].as_str().unwrap()))
        .collect();
    assert_eq!(statuses, [("run", "new"), ("merge", "new"), ("run", "open")]);
    let run_ids: Vec<&Value> = history.iter().map(|entry| &entry["run_id"]).collect();
    assert_eq!(run_ids, [1, 1, 2]);
    assert!(
        history[1]["reason"].as_str().unwrap().contains("alpha-scan"),
        "{}",
        history[1]
    );

    let table = database.ok(&["finding", &fingerprint]);
    for expected in [
        LEFT_PAD,
        "CVE-2024-0001",
        "alpha-scan, beta-scan",
        "Sources",
        "History",
        "vulnerability",
    ] {
        assert!(table.contains(expected), "{expected} missing from\n{table}");
    }
}

#[test]
fn findings_table_shows_every_tool() {
    let database = Database::assessed();
    let table = database.ok(&["findings"]);
    let header = table.lines().nth(1).unwrap();
    assert!(header.contains("Tools"), "{table}");
    let left_pad_row = table.lines().position(|line| line.contains(LEFT_PAD)).unwrap();
    let rows: Vec<&str> = table.lines().skip(left_pad_row).take(2).collect();
    assert!(rows[0].contains("alpha-scan"), "{table}");
    assert!(rows[1].contains("beta-scan"), "{table}");
}

#[test]
fn finding_unknown_fingerprint_fails() {
    let database = Database::assessed();
    let output = database.run(&["finding", "v1:00000000000000000000000000000000"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("no finding has the fingerprint v1:00000000000000000000000000000000"),
        "{stderr}"
    );
}

#[test]
fn hostile_text_is_stored_but_printed_safely() {
    let database = Database::assessed();
    let fingerprint = database.fingerprint(DEBUG_ENDPOINT);
    let reason = "see ticket\u{1b}]0;owned\u{7}\u{1b}[31m red\r\nforged line";

    database.ok(&["triage", &fingerprint, "--status", "fixed", "--reason", reason]);

    let finding = database.finding(&fingerprint);
    assert_eq!(last_history(&finding)["reason"], reason, "stored as given");
    let table = database.ok(&["finding", &fingerprint]);
    assert!(table.contains("see ticket"), "{table}");
    for args in [vec!["finding", fingerprint.as_str()], vec!["findings", "--all"]] {
        let output = database.ok(&args);
        let controls: Vec<char> = output.chars().filter(|c| c.is_control() && *c != '\n').collect();
        assert!(controls.is_empty(), "{args:?} printed {controls:?}");
    }
}

#[test]
fn reason_is_bounded_at_4_kib() {
    let database = Database::assessed();
    let fingerprint = database.fingerprint(RIGHT_PAD);
    let before = database.files();

    // Linux passes at most 128 KiB in one argument, so a 1 MiB reason
    // never reaches ctem; 64 KiB shows that a long one is rejected.
    for length in [4097, 64 * 1024] {
        let reason = "a".repeat(length);
        let output = database.run(&["triage", &fingerprint, "--status", "fixed", "--reason", &reason]);
        assert_eq!(output.status.code(), Some(2), "{length} bytes");
        let stderr = text(&output.stderr);
        assert!(
            stderr.contains(&format!("invalid --reason: {length} bytes")),
            "{stderr}"
        );
        assert!(database.files() == before, "{length} bytes changed the database");
    }

    let reason = "a".repeat(4096);
    database.ok(&["triage", &fingerprint, "--status", "fixed", "--reason", &reason]);
    assert_eq!(last_history(&database.finding(&fingerprint))["reason"], reason.as_str());
    assert!(database.files() != before, "a triage that succeeds changes the files");
}

#[test]
fn invalid_triage_changes_nothing() {
    let database = Database::assessed();
    let known = database.fingerprint(RIGHT_PAD);
    let unknown = "v1:00000000000000000000000000000000";
    let k = known.as_str();
    let accept = ["--status", "risk-accepted", "--approver", "carol"];
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec![unknown, "--status", "fixed", "--reason", "r"],
            "no finding has the fingerprint v1:0000",
        ),
        (
            vec![k, unknown, "--status", "fixed", "--reason", "r"],
            "(FINGERPRINT 2)",
        ),
        (
            vec!["not-a-fingerprint", "--status", "fixed", "--reason", "r"],
            "FINGERPRINT 1: invalid fingerprint",
        ),
        (vec![k, "--status", "fixed"], "--reason"),
        (
            vec![k, "--status", "fixed", "--reason", " \t "],
            "invalid --reason: it is empty",
        ),
        (vec![k, "--reason", "r"], "--status"),
        (
            vec![k, "--status", "fixed", "--validate", "confirmed", "--reason", "r"],
            "--validate",
        ),
        (vec![k, "--status", "closed", "--reason", "r"], "--status"),
        (vec![k, "--validate", "maybe", "--reason", "r"], "--validate"),
        (
            vec![k, "--status", "risk-accepted", "--approver", "carol", "--reason", "r"],
            "needs --expires",
        ),
        (
            vec![k, "--status", "risk-accepted", "--expires", "30d", "--reason", "r"],
            "needs --approver",
        ),
        (
            vec![
                k,
                accept[0],
                accept[1],
                accept[2],
                accept[3],
                "--expires",
                "next week",
                "--reason",
                "r",
            ],
            "invalid --expires \"next week\"",
        ),
        (
            vec![
                k,
                accept[0],
                accept[1],
                accept[2],
                accept[3],
                "--expires",
                "2020-01-01",
                "--reason",
                "r",
            ],
            "which is not after the triage time",
        ),
        (
            vec![
                k,
                accept[0],
                accept[1],
                "--approver",
                " ",
                "--expires",
                "30d",
                "--reason",
                "r",
            ],
            "invalid --approver: it is empty",
        ),
        (
            vec![k, "--status", "fixed", "--expires", "30d", "--reason", "r"],
            "--expires applies only",
        ),
        (
            vec![k, "--status", "false-positive", "--approver", "carol", "--reason", "r"],
            "--approver applies only",
        ),
        (
            vec![k, "--status", "fixed", "--at", "yesterday", "--reason", "r"],
            "invalid --at \"yesterday\"",
        ),
        (
            vec![k, "--status", "fixed", "--at", "2999-01-01T00:00:00Z", "--reason", "r"],
            "in the future",
        ),
        (vec![k, "--status", "open", "--reason", "r"], "--status open"),
        (
            vec![k, "-", "-", "--status", "fixed", "--reason", "r"],
            "more than once",
        ),
    ];
    let before = database.files();
    let finding_before = database.finding(&known);

    for (args, expected) in cases {
        let mut command_args = vec!["triage"];
        command_args.extend(args.iter().copied());
        let output = database.ctem(&command_args).stdin(Stdio::null()).output().unwrap();
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: expected {expected:?} in {stderr}");
        assert!(database.files() == before, "{args:?} changed the database");
    }
    assert_eq!(database.finding(&known), finding_before);
}

#[test]
fn commands_need_an_existing_database() {
    let temp = tempfile::tempdir().unwrap();
    let missing = temp.path().join("missing.db");
    let fingerprint = "v1:00000000000000000000000000000000";
    for args in [
        vec!["triage", fingerprint, "--status", "fixed", "--reason", "r"],
        vec!["finding", fingerprint],
        vec!["redupe"],
    ] {
        let output = ctem().args(&args).arg("--db").arg(&missing).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(text(&output.stderr).contains("database not found"), "{args:?}");
        assert!(!missing.exists(), "{args:?} created the database");
    }
}

/// An empty file where the database should be is reported, and stays
/// empty: reading it as a new database would report on nothing.
#[test]
fn commands_reject_empty_database_file() {
    let temp = tempfile::tempdir().unwrap();
    let empty = temp.path().join("empty.db");
    std::fs::write(&empty, b"").unwrap();
    let fingerprint = "v1:00000000000000000000000000000000";
    for args in [
        vec!["findings"],
        vec!["finding", fingerprint],
        vec!["sla"],
        vec!["metrics"],
        vec!["triage", fingerprint, "--status", "fixed", "--reason", "r"],
    ] {
        let output = ctem().args(&args).arg("--db").arg(&empty).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(
            text(&output.stderr).contains("empty.db: the database file is empty"),
            "{args:?}: {}",
            text(&output.stderr)
        );
        assert_eq!(
            std::fs::metadata(&empty).unwrap().len(),
            0,
            "{args:?} wrote to the file"
        );
    }
}

/// The commands that read reject an SQLite file without the tables of
/// ctem, where they would otherwise create the tables.
#[test]
fn commands_reject_sqlite_without_tables() {
    let temp = tempfile::tempdir().unwrap();
    let other = temp.path().join("other.db");
    rusqlite::Connection::open(&other)
        .unwrap()
        .execute_batch("VACUUM")
        .unwrap();
    let before = std::fs::read(&other).unwrap();
    assert!(!before.is_empty());
    let fingerprint = "v1:00000000000000000000000000000000";
    for args in [
        vec!["findings"],
        vec!["sla"],
        vec!["metrics"],
        vec!["triage", fingerprint, "--status", "fixed", "--reason", "r"],
    ] {
        let output = ctem().args(&args).arg("--db").arg(&other).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(
            text(&output.stderr).contains("contains no ctem tables"),
            "{args:?}: {}",
            text(&output.stderr)
        );
        assert_eq!(std::fs::read(&other).unwrap(), before, "{args:?} wrote to the file");
    }
}

/// The commands that read name a file that is no SQLite database once,
/// and ask for a database that `ctem assess` wrote, not for a file to
/// create.
#[test]
fn commands_reject_non_sqlite_file() {
    let temp = tempfile::tempdir().unwrap();
    let notes = temp.path().join("notes.db");
    std::fs::write(&notes, "not a database, just notes\n").unwrap();
    let fingerprint = "v1:00000000000000000000000000000000";
    for args in [
        vec!["findings"],
        vec!["sla"],
        vec!["metrics"],
        vec!["finding", fingerprint],
        vec!["triage", fingerprint, "--status", "fixed", "--reason", "r"],
    ] {
        let output = ctem().args(&args).arg("--db").arg(&notes).output().unwrap();
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains(
                "the file is not a SQLite database; pass the path of a ctem database that `ctem assess` wrote"
            ),
            "{args:?}: {stderr}"
        );
        assert_eq!(stderr.matches("notes.db").count(), 1, "{args:?}: {stderr}");
        assert_eq!(
            std::fs::read_to_string(&notes).unwrap(),
            "not a database, just notes\n",
            "{args:?} wrote to the file"
        );
    }
}

/// A folder given as the database is named as such, not reported as a
/// disk I/O error.
#[test]
fn commands_name_folder_as_database() {
    let temp = tempfile::tempdir().unwrap();
    let policy = temp.path().join("gate.rego");
    std::fs::write(&policy, "package ctem.gate\n\ndeny contains \"x\" if false\n").unwrap();
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/acme");
    let gate = vec![
        "gate".into(),
        "--policy".into(),
        policy.display().to_string(),
        example.display().to_string(),
    ];
    let assess = vec!["assess".to_string(), example.display().to_string()];
    for args in [vec!["findings".to_string()], vec!["sla".to_string()], gate, assess] {
        let output = ctem().args(&args).arg("--db").arg(temp.path()).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(
            text(&output.stderr).contains("is a folder"),
            "{args:?}: {}",
            text(&output.stderr)
        );
    }
    assert!(!temp.path().join("ctem.db").exists());

    let output = ctem().args(["findings", "--config"]).arg(temp.path()).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("is a folder; --config takes the ctem.toml file"),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn redupe_on_fresh_database_merges_nothing() {
    let database = Database::assessed();

    let summary = database.json(&["redupe", "--format", "json"]);
    assert_eq!(summary["before"], 4);
    assert_eq!(summary["after"], 4);
    assert_eq!(summary["merged"], 0);
    assert_eq!(summary["rekeyed"], 0);

    let table = database.ok(&["redupe"]);
    assert_eq!(
        table,
        "4 findings before, 4 after: 0 merged into another finding, 0 with a changed merge key\n"
    );
}
