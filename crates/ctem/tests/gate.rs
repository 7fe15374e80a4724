//! End-to-end tests of `ctem gate` on the example environment, whose Nmap
//! scan reports Apache httpd 2.4.49 on the internet-facing shop front,
//! with CVEs that the example's KEV catalog lists.

mod common;

use common::{ctem, example_dir};
use std::path::{Path, PathBuf};
use std::process::Output;

fn write_policy(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("gate.rego");
    std::fs::write(&path, text).unwrap();
    path
}

fn gate(policy: &Path, extra: &[&str]) -> Output {
    ctem()
        .arg("gate")
        .arg("--policy")
        .arg(policy)
        .arg(example_dir())
        .args(extra)
        .output()
        .expect("ctem runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

const KEV_ON_INTERNET: &str = r#"package ctem.gate

deny contains sprintf("KEV %s on internet-exposed %s", [id, f.asset.key]) if {
  some f in input.findings
  f.kev
  f.asset.internet_exposed
  some id in f.vulnerability_ids
  id == "CVE-2021-41773"
}
"#;

const NEW_P1: &str = r#"package ctem.gate

deny contains sprintf("new P1 finding %s", [f.fingerprint]) if {
  some f in input.new
  f.tier == "P1"
}
"#;

#[test]
fn deny_exits_1_with_its_message() {
    let dir = tempfile::tempdir().unwrap();
    let output = gate(&write_policy(dir.path(), KEV_ON_INTERNET), &[]);
    assert_eq!(output.status.code(), Some(1), "stderr:\n{}", stderr(&output));
    assert!(stdout(&output).contains("gate denied"), "{}", stdout(&output));
    assert!(
        stdout(&output).contains("KEV CVE-2021-41773 on internet-exposed host:203.0.113.10"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn passing_policy_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let policy = r#"package ctem.gate

deny contains "a crown jewel has a P1 secret" if {
  some f in input.findings
  f.kind == "secret"
  f.asset.criticality == "no such criticality"
}
"#;
    let output = gate(&write_policy(dir.path(), policy), &[]);
    assert_eq!(output.status.code(), Some(0), "stderr:\n{}", stderr(&output));
    assert!(stdout(&output).contains("gate passed"), "{}", stdout(&output));
}

#[test]
fn findings_in_the_database_are_not_new() {
    let dir = tempfile::tempdir().unwrap();
    let policy = write_policy(dir.path(), NEW_P1);
    let db = dir.path().join("ctem.db");

    let without_db = gate(&policy, &[]);
    assert_eq!(without_db.status.code(), Some(1), "stderr:\n{}", stderr(&without_db));
    assert!(
        stdout(&without_db).contains("new P1 finding"),
        "{}",
        stdout(&without_db)
    );

    let assess = ctem()
        .arg("assess")
        .arg(example_dir())
        .arg("--db")
        .arg(&db)
        .output()
        .expect("ctem runs");
    assert!(assess.status.success(), "stderr:\n{}", stderr(&assess));
    let before = std::fs::read(&db).unwrap();

    let with_db = gate(&policy, &["--db", db.to_str().unwrap()]);
    assert_eq!(with_db.status.code(), Some(0), "stderr:\n{}", stderr(&with_db));
    assert!(stdout(&with_db).contains(" 0 new"), "{}", stdout(&with_db));
    assert_eq!(std::fs::read(&db).unwrap(), before, "the gate wrote to the database");
}

#[test]
fn empty_database_file_has_no_known_findings() {
    let dir = tempfile::tempdir().unwrap();
    let policy = write_policy(dir.path(), NEW_P1);
    let db = dir.path().join("empty.db");
    std::fs::write(&db, b"").unwrap();

    let output = gate(&policy, &["--db", db.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1), "stderr:\n{}", stderr(&output));
    assert!(stdout(&output).contains("new P1 finding"), "{}", stdout(&output));
    assert_eq!(std::fs::read(&db).unwrap(), b"", "the gate wrote to the database");
}

#[test]
fn non_database_file_gets_read_only_advice() {
    let dir = tempfile::tempdir().unwrap();
    let policy = write_policy(dir.path(), NEW_P1);
    let db = dir.path().join("notes.db");
    std::fs::write(&db, "not a database\n".repeat(100)).unwrap();

    let output = gate(&policy, &["--db", db.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2), "stderr:\n{}", stderr(&output));
    assert!(stderr(&output).contains("not a ctem database"), "{}", stderr(&output));
    assert!(!stderr(&output).contains("file to create"), "{}", stderr(&output));
}

#[test]
fn syntax_error_names_file_and_line_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let policy = write_policy(
        dir.path(),
        "package ctem.gate\n\ndeny contains msg if {\n  msg := \n}\n",
    );
    let output = gate(&policy, &[]);
    assert_eq!(output.status.code(), Some(2), "stdout:\n{}", stdout(&output));
    let expected = format!("{}:4:", policy.display());
    assert!(
        stderr(&output).contains(&expected),
        "expected {expected} in:\n{}",
        stderr(&output)
    );
}

#[test]
fn deep_nesting_is_rejected_quickly() {
    let dir = tempfile::tempdir().unwrap();
    let value = format!("{}1{}", "[".repeat(40), "]".repeat(40));
    let policy = write_policy(
        dir.path(),
        &format!("package ctem.gate\n\ndeny contains \"x\" if {{\n  x := {value}\n}}\n"),
    );

    let started = std::time::Instant::now();
    let output = gate(&policy, &[]);

    assert!(started.elapsed().as_secs() < 30, "took {:?}", started.elapsed());
    assert_eq!(output.status.code(), Some(2), "stdout:\n{}", stdout(&output));
    // The rule's `{` is the first level, so the 16th `[` of line 4, at
    // column 23, is the first bracket too deep.
    let expected = format!("{}:4:23:", policy.display());
    assert!(
        stderr(&output).contains(&expected),
        "expected {expected} in:\n{}",
        stderr(&output)
    );
    assert!(stderr(&output).contains("16 levels"), "{}", stderr(&output));
}

#[test]
fn a_policy_of_another_package_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let policy = write_policy(dir.path(), "package ctem\n\nraise := \"x\"\n");
    let output = gate(&policy, &[]);
    assert_eq!(output.status.code(), Some(2), "stdout:\n{}", stdout(&output));
    assert!(
        stderr(&output).contains("no file declares package ctem.gate"),
        "{}",
        stderr(&output)
    );
}

/// Runs `ctem assess` on the example with a configuration that names only
/// `org.rego`, written next to it.
fn assess_with_policy(dir: &Path, policy: &str) -> Output {
    std::fs::write(dir.join("ctem.toml"), "[policy]\nfiles = [\"org.rego\"]\n").unwrap();
    std::fs::write(dir.join("org.rego"), policy).unwrap();
    ctem()
        .arg("assess")
        .arg(example_dir())
        .arg("--config")
        .arg(dir.join("ctem.toml"))
        .arg("--intel")
        .arg(example_dir().join("intel"))
        .arg("--db")
        .arg(dir.join("ctem.db"))
        .args(["--top", "100", "--format", "json"])
        .output()
        .expect("ctem runs")
}

#[test]
fn assess_applies_the_configured_policy() {
    let dir = tempfile::tempdir().unwrap();
    let policy = r#"package ctem

accept := "the shop front is a honeypot" if input.asset.key == "host:203.0.113.10"

tier := {"tier": "P4", "reason": "secrets are rotated daily"} if input.kind == "secret"
"#;
    let output = assess_with_policy(dir.path(), policy);
    assert_eq!(output.status.code(), Some(0), "stderr:\n{}", stderr(&output));
    let document: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let top = document["top"].as_array().unwrap();

    let shop_front: Vec<_> = top.iter().filter(|f| f["asset"] == "host:203.0.113.10").collect();
    assert!(!shop_front.is_empty());
    for finding in shop_front {
        assert_eq!(finding["accepted_by_policy"], "the shop front is a honeypot");
        let reasons = finding["reasons"].as_str().unwrap();
        assert!(
            reasons.starts_with("policy data/ctem/accept: the shop front is a honeypot"),
            "{reasons}"
        );
    }

    let secrets: Vec<_> = top.iter().filter(|f| f["kind"] == "secret").collect();
    assert_eq!(secrets.len(), 2);
    for secret in secrets {
        assert_eq!(secret["tier"], "P4");
        assert_eq!(secret["accepted_by_policy"], serde_json::Value::Null);
    }
}

#[test]
fn broken_policy_stops_assess_before_writing() {
    let dir = tempfile::tempdir().unwrap();
    let output = assess_with_policy(dir.path(), "package ctem\n\ntier := {\"tier\": }\n");
    assert_eq!(output.status.code(), Some(2), "stdout:\n{}", stdout(&output));
    assert!(stderr(&output).contains("org.rego:3:"), "{}", stderr(&output));
    assert!(!dir.path().join("ctem.db").exists(), "the run created the database");
}

/// Each finding of a gate has `lifecycle_status` (null when the database
/// lacks it) and `accepted_by_policy`, so a gate can exempt both.
#[test]
fn gate_input_has_triage_and_acceptance() {
    let dir = tempfile::tempdir().unwrap();
    let policy = write_policy(
        dir.path(),
        r#"package ctem.gate

deny contains sprintf("%s %v %v", [f.fingerprint, f.lifecycle_status, f.accepted_by_policy]) if {
  some f in input.findings
  "CVE-2021-41773" in f.vulnerability_ids
}
"#,
    );
    let db = dir.path().join("ctem.db");
    let db_arg = db.to_str().unwrap();

    let before_assess = gate(&policy, &["--db", db_arg]);
    let line = stdout(&before_assess);
    assert!(line.contains(" null null"), "{line}");

    let assess = ctem()
        .args(["assess", "--db", db_arg])
        .arg(example_dir())
        .output()
        .unwrap();
    assert!(assess.status.success(), "stderr:\n{}", stderr(&assess));
    let recorded = stdout(&gate(&policy, &["--db", db_arg]));
    let denied = recorded
        .lines()
        .find_map(|line| line.strip_prefix("  - "))
        .unwrap_or_else(|| panic!("no denial in {recorded}"));
    let (fingerprint, rest) = denied.split_once(' ').unwrap();
    assert_eq!(rest, "new null", "{recorded}");

    let triage = ctem()
        .args([
            "triage",
            fingerprint,
            "--status",
            "false-positive",
            "--reason",
            "lab host",
        ])
        .args(["--db", db_arg])
        .output()
        .unwrap();
    assert!(triage.status.success(), "stderr:\n{}", stderr(&triage));
    let triaged = stdout(&gate(&policy, &["--db", db_arg]));
    assert!(
        triaged.contains(&format!("{fingerprint} false_positive null")),
        "{triaged}"
    );
}
