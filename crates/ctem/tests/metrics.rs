//! Argument and configuration errors of `ctem metrics` and `ctem sla`,
//! which are reported before the database is read.

mod common;

use common::ctem;
use std::path::Path;
use std::process::Output;

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Runs ctem in an empty folder, so that no `ctem.toml` or `ctem.db` of
/// the working folder is read.
fn run_in_empty_folder(args: &[&str]) -> (Output, tempfile::TempDir) {
    let folder = tempfile::tempdir().unwrap();
    let output = ctem().current_dir(folder.path()).args(args).output().unwrap();
    (output, folder)
}

#[test]
fn missing_database_is_not_created() {
    let (output, folder) = run_in_empty_folder(&["metrics", "--db", "missing.db"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("missing.db: database not found"),
        "{}",
        stderr(&output)
    );
    assert!(!folder.path().join("missing.db").exists());

    let (output, _folder) = run_in_empty_folder(&["sla", "--db", "missing.db"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("database not found"), "{}", stderr(&output));
}

#[test]
fn invalid_arguments_are_named() {
    let cases: [(&[&str], &str); 6] = [
        (&["metrics", "--since", "last-month"], "invalid --since \"last-month\""),
        (
            &["metrics", "--since", "2026-12-02", "--now", "2026-12-01T00:00:00Z"],
            "is after --now",
        ),
        (&["metrics", "--now", "2026-12-01"], "invalid --now \"2026-12-01\""),
        (&["metrics", "--by", "owner"], "--by"),
        (&["metrics", "--window", "0"], "--window"),
        (&["sla", "--now", "soon"], "invalid --now \"soon\""),
    ];
    for (args, expected) in cases {
        let (output, _folder) = run_in_empty_folder(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(stderr(&output).contains(expected), "{args:?}: {}", stderr(&output));
    }
}

#[test]
fn invalid_sla_table_is_named() {
    let folder = tempfile::tempdir().unwrap();
    std::fs::write(folder.path().join("ctem.toml"), "[sla]\nP1 = 7\nP5 = 10\n").unwrap();
    for command in ["metrics", "sla"] {
        let output = ctem().current_dir(folder.path()).arg(command).output().unwrap();
        let message = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{command}: {message}");
        assert!(message.contains("ctem.toml: line 3"), "{command}: {message}");
        assert!(message.contains("P5"), "{command}: {message}");
    }
    assert!(!Path::new(&folder.path().join("ctem.db")).exists());
}

#[test]
fn sla_table_keeps_fingerprint_whole() {
    let folder = tempfile::tempdir().unwrap();
    let asset = format!("container_image:registry.example.com/{}/shop:1", "team".repeat(12));
    let report = serde_json::json!({
        "ctem_format": "1",
        "tool": { "name": "long-scan", "version": "1.0.0" },
        "scopes": [{ "target": "shop" }],
        "assets": [{ "key": asset, "kind": "container_image", "name": "shop" }],
        "findings": [{
            "rule_id": "CVE-2024-0001",
            "kind": "vulnerability",
            "title": "left-pad: prototype pollution ".repeat(8),
            "severity": "critical",
            "vulnerability_ids": ["CVE-2024-0001"],
            "asset": asset
        }]
    });
    std::fs::write(folder.path().join("scan.json"), report.to_string()).unwrap();
    let run = |args: &[&str]| {
        let output = ctem().current_dir(folder.path()).args(args).output().unwrap();
        assert_eq!(output.status.code(), Some(0), "{args:?}: {}", stderr(&output));
        String::from_utf8(output.stdout).unwrap()
    };
    run(&["assess", "scan.json", "--at", "2025-01-01T00:00:00Z"]);
    let findings: serde_json::Value = serde_json::from_str(&run(&["findings", "--format", "json"])).unwrap();
    let fingerprint = findings[0]["fingerprint"].as_str().unwrap().to_string();

    let table = run(&["sla", "--now", "2026-01-01T00:00:00Z"]);

    assert!(table.contains(&fingerprint), "{table}");
}
