//! Tests of `ctem parse`, `ctem formats` and `ctem findings`, of a run
//! killed midway, and of `ctem assess` over the shared corpus.

mod common;

use common::ctem;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use ctem_store::Store;
use serde_json::Value;

fn example(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/acme")
        .join(path)
}

fn output_json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "{error}\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

#[test]
fn parse_prints_documented_fields() {
    let output = ctem()
        .args(["parse", "--format", "json"])
        .arg(example("scans/images/trivy-shop-web.json"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let json = output_json(&output);
    assert_eq!(json["format"], "trivy-json");
    let findings = json["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 5);
    for finding in findings {
        for field in [
            "tool",
            "rule_id",
            "vulnerability_ids",
            "severity",
            "title",
            "asset",
            "location",
            "fingerprint",
        ] {
            assert!(finding.get(field).is_some(), "{field} missing in {finding}");
        }
        assert!(finding["fingerprint"].as_str().unwrap().starts_with("v1:"));
    }
    assert!(!json["assets"].as_array().unwrap().is_empty());
    assert_eq!(json["scopes"][0]["target"], "ghcr.io/acme/shop-web:1.4.2");
}

#[test]
fn parse_as_names_the_format() {
    let output = ctem()
        .args(["parse", "--as", "nmap-xml"])
        .arg(example("scans/dmz/nmap-dmz.xml"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(output_json(&output)["format"], "nmap-xml");

    let unknown = ctem()
        .args(["parse", "--as", "nope"])
        .arg(example("ctem.toml"))
        .output()
        .unwrap();
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("ctem formats"));
}

#[test]
fn parse_reports_position_of_bad_input() {
    let temp = tempfile::tempdir().unwrap();
    let broken = temp.path().join("broken.sarif");
    std::fs::write(&broken, "{\"version\": \"2.1.0\", \"runs\": [ {\"tool\": ").unwrap();
    let output = ctem().args(["parse", "--as", "sarif"]).arg(&broken).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("broken.sarif"), "{stderr}");
    assert!(stderr.contains("line 1"), "{stderr}");
}

#[test]
fn formats_lists_every_parser() {
    let output = ctem().args(["formats", "--format", "json"]).output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let json = output_json(&output);
    let ids: Vec<&str> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    for id in [
        "sarif",
        "cyclonedx-json",
        "trivy-json",
        "grype-json",
        "nmap-xml",
        "nessus-xml",
        "zap-json",
        "gitleaks-json",
    ] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }
}

/// Assesses the example environment into a new database. Returns the
/// temporary folder (removed when dropped) and the database path.
fn assessed_example() -> (tempfile::TempDir, PathBuf) {
    let temp = tempfile::tempdir().unwrap();
    let db = temp.path().join("ctem.db");
    let assess = ctem()
        .arg("assess")
        .arg(example(""))
        .arg("--db")
        .arg(&db)
        .output()
        .unwrap();
    assert_eq!(assess.status.code(), Some(0));
    (temp, db)
}

#[test]
fn findings_lists_stored_fields_and_filters() {
    let (_temp, db) = assessed_example();

    let all = ctem()
        .args(["findings", "--format", "json", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    let all = output_json(&all);
    let rows = all.as_array().unwrap();
    assert!(!rows.is_empty());
    for field in [
        "tool",
        "rule_id",
        "fingerprint",
        "status",
        "first_seen",
        "last_seen",
        "score",
        "tier",
        "factors",
    ] {
        assert!(rows[0].get(field).is_some(), "{field} missing in {}", rows[0]);
    }
    let ranks: Vec<(String, f64)> = rows
        .iter()
        .map(|r| (r["tier"].as_str().unwrap().to_string(), r["score"].as_f64().unwrap()))
        .collect();
    assert!(
        ranks
            .windows(2)
            .all(|pair| pair[0].0 < pair[1].0 || (pair[0].0 == pair[1].0 && pair[0].1 >= pair[1].1)),
        "not sorted by tier, then score: {ranks:?}"
    );

    let nessus = ctem()
        .args(["findings", "--format", "json", "--tool", "nessus", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    let nessus = output_json(&nessus);
    assert!(!nessus.as_array().unwrap().is_empty());
    assert!(nessus.as_array().unwrap().iter().all(|r| r["tool"] == "nessus"));

    let via_env = ctem()
        .args(["findings", "--format", "json", "--limit", "3"])
        .env("CTEM_DB", &db)
        .output()
        .unwrap();
    assert_eq!(output_json(&via_env).as_array().unwrap().len(), 3);
}

#[test]
fn findings_without_database_is_a_usage_error() {
    let temp = tempfile::tempdir().unwrap();
    let output = ctem()
        .arg("findings")
        .arg("--db")
        .arg(temp.path().join("missing.db"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(!temp.path().join("missing.db").exists());
}

#[test]
fn killed_run_leaves_database_as_it_was() {
    let temp = tempfile::tempdir().unwrap();
    let db = temp.path().join("ctem.db");
    let first = ctem()
        .arg("assess")
        .arg(example(""))
        .arg("--db")
        .arg(&db)
        .args(["--at", "2026-11-30T08:00:00Z"])
        .output()
        .unwrap();
    assert_eq!(first.status.code(), Some(0));
    let before = Store::open(&db).unwrap().findings(&Default::default()).unwrap().len();

    let big = temp.path().join("big");
    std::fs::create_dir(&big).unwrap();
    for index in 0..4 {
        let report = ctem_engine::synthetic::trivy_report(&format!("acme/big-{index}:1"), 60_000, index + 1);
        std::fs::write(big.join(format!("trivy-{index}.json")), report).unwrap();
    }

    // Kill runs at different moments: while parsing, scoring or writing.
    for (attempt, delay) in [50u64, 300, 900, 1800].into_iter().enumerate() {
        let mut child = ctem()
            .arg("assess")
            .arg(&big)
            .arg("--db")
            .arg(&db)
            .args([
                "--format",
                "json",
                "--at",
                &format!("2026-12-0{}T08:00:00Z", attempt + 1),
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay));
        let _ = child.kill();
        let status = child.wait().unwrap();

        let store = Store::open(&db).expect("the database opens after a kill");
        let runs = store.runs().unwrap();
        let findings = store.findings(&Default::default()).unwrap().len();
        if status.success() {
            // The run finished before the kill: it must be whole.
            assert_eq!(findings, before + 4 * 60_000, "a finished run is whole");
            return;
        }
        assert_eq!(runs.len(), 1, "a killed run left a run record (attempt {attempt})");
        assert_eq!(findings, before, "a killed run left findings (attempt {attempt})");
    }
}

/// `ctem assess` over the real scanner outputs of the shared corpus, with
/// the real KEV and EPSS data.
#[test]
fn assess_over_shared_corpus() {
    let Some(shared) = std::env::var_os("CTEM_SHARED").map(PathBuf::from) else {
        eprintln!("skipped: set CTEM_SHARED to the folder holding corpus/ and intel/");
        return;
    };
    let temp = tempfile::tempdir().unwrap();
    let db = temp.path().join("ctem.db");
    let folders = [
        "sarif",
        "trivy",
        "grype",
        "cyclonedx",
        "nmap",
        "nessus",
        "zap_json",
        "gitleaks",
    ];
    let output = ctem()
        .arg("assess")
        .args(folders.iter().map(|folder| shared.join("corpus").join(folder)))
        .arg("--intel")
        .arg(shared.join("intel"))
        .arg("--db")
        .arg(&db)
        .args(["--format", "json", "--top", "20"])
        .output()
        .unwrap();
    let json = output_json(&output);
    let failed: Vec<&Value> = json["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] == "failed")
        .collect();
    assert!(failed.is_empty(), "files failed: {failed:?}");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(json["run"]["new"].as_u64().unwrap() > 1000);

    // Log4Shell is in the corpus and in the KEV catalog: its factors say so.
    let store = Store::open(&db).unwrap();
    let findings = store.findings(&Default::default()).unwrap();
    let log4shell = findings
        .iter()
        .find(|f| {
            f.finding
                .vulnerability_ids
                .iter()
                .any(|id| id.as_str() == "CVE-2021-44228")
        })
        .expect("a Log4Shell finding in the corpus");
    let factors = &log4shell.risk.as_ref().unwrap().factors;
    assert!(factors.iter().any(|f| f.name == "kev"), "{factors:?}");
}

/// `ctem formats` prints the registry that `docs/formats.md` is checked
/// against (see the ctem-ingest test `formats_doc`), in registry order.
#[test]
fn formats_prints_registry() {
    let output = ctem().args(["formats", "--format", "json"]).output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let printed: Vec<[String; 4]> = output_json(&output)
        .as_array()
        .unwrap()
        .iter()
        .map(|format| {
            ["id", "name", "tool", "versions"].map(|key| format[key].as_str().unwrap_or_default().to_string())
        })
        .collect();
    let registered: Vec<[String; 4]> = ctem_ingest::registry()
        .iter()
        .map(|parser| {
            let info = parser.info();
            [info.id, info.name, info.tool, info.versions].map(str::to_string)
        })
        .collect();
    assert_eq!(printed, registered);

    let table = ctem().arg("formats").output().unwrap();
    assert_eq!(table.status.code(), Some(0));
    let text = String::from_utf8_lossy(&table.stdout);
    for parser in ctem_ingest::registry() {
        let id = parser.info().id;
        assert!(
            text.lines().any(|line| line.split_whitespace().any(|word| word == id)),
            "{id} missing from the table"
        );
    }
}

#[test]
fn parse_prints_vex_statements() {
    let temp = tempfile::tempdir().unwrap();
    let document = temp.path().join("storefront.openvex.json");
    std::fs::write(
        &document,
        r#"{
  "@context": "https://openvex.dev/ns/v0.2.0",
  "@id": "https://vex.shop.example/docs/storefront-7",
  "author": "Shop Product Security",
  "timestamp": "2026-03-02T09:00:00Z",
  "version": 1,
  "statements": [
    {
      "vulnerability": {"name": "CVE-2021-44228"},
      "products": [{"@id": "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"}],
      "status": "not_affected",
      "justification": "vulnerable_code_not_in_execute_path",
      "impact_statement": "No JNDI lookup pattern reaches the logger."
    },
    {
      "vulnerability": {"name": "CVE-2022-22965"},
      "products": [{"@id": "pkg:maven/org.springframework/spring-beans@5.3.17"}],
      "status": "affected",
      "action_statement": "Upgrade spring-beans to 5.3.18."
    }
  ]
}"#,
    )
    .unwrap();

    let output = ctem()
        .args(["parse", "--format", "json"])
        .arg(&document)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json = output_json(&output);
    assert_eq!(json["format"], "openvex-json");
    let vex = json["vex"].as_array().expect("a vex array");
    assert_eq!(vex.len(), 2);

    let first = &vex[0];
    assert_eq!(first["vulnerability"], "CVE-2021-44228");
    assert_eq!(first["status"], "not_affected");
    assert_eq!(first["justification"], "vulnerable_code_not_in_execute_path");
    assert_eq!(first["impact_statement"], "No JNDI lookup pattern reaches the logger.");
    assert_eq!(
        first["products"][0]["id"]["purl"],
        "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"
    );
    assert_eq!(first["source"]["format"], "openvex-json");
    assert_eq!(
        first["source"]["document_id"],
        "https://vex.shop.example/docs/storefront-7"
    );
    assert_eq!(vex[1]["status"], "affected");
    assert_eq!(vex[1]["action_statement"], "Upgrade spring-beans to 5.3.18.");

    let table = ctem()
        .args(["parse", "--format", "table"])
        .arg(&document)
        .output()
        .unwrap();
    assert_eq!(table.status.code(), Some(0));
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.contains("2 VEX statements"), "{text}");

    let scanner = ctem()
        .args(["parse", "--format", "json"])
        .arg(example("scans/images/trivy-shop-web.json"))
        .output()
        .unwrap();
    assert_eq!(output_json(&scanner)["vex"], serde_json::json!([]));
}

/// Every stored finding shows its owner and the rule that chose it, from
/// the owner rules of the configuration: in `ctem findings` (JSON and
/// table) and in `ctem finding`.
#[test]
fn findings_show_owner_and_rule() {
    let (temp, db) = assessed_example();
    let config = example("ctem.toml");

    let listed = ctem()
        .args(["findings", "--format", "json", "--config"])
        .arg(&config)
        .arg("--db")
        .arg(&db)
        .output()
        .unwrap();
    let rows = output_json(&listed);
    let log4shell = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["rule_id"] == "CVE-2021-44228")
        .expect("Log4Shell is listed");
    assert_eq!(log4shell["owner"]["team"], "web-team", "{log4shell}");
    assert_eq!(log4shell["owner"]["rule"], "owners \"Shop\"", "{log4shell}");
    assert_eq!(log4shell["owner"]["contacts"][0], "web-team@acme.example");

    let table = ctem()
        .args(["findings", "--config"])
        .arg(&config)
        .arg("--db")
        .arg(&db)
        .output()
        .unwrap();
    let table = String::from_utf8(table.stdout).unwrap();
    assert!(table.contains("owner web-team"), "{table}");

    let fingerprint = log4shell["fingerprint"].as_str().unwrap();
    let detail = ctem()
        .args(["finding", fingerprint, "--config"])
        .arg(&config)
        .arg("--db")
        .arg(&db)
        .output()
        .unwrap();
    let detail = String::from_utf8(detail.stdout).unwrap();
    assert!(detail.contains("web-team (owners \"Shop\")"), "{detail}");
    // The example's [sla] gives a P1 finding on a crown jewel 3 days.
    assert!(detail.contains("SLA 3 days"), "{detail}");
    assert!(detail.contains("BOD 3 days, forensic triage"), "{detail}");

    // Without a configuration, the owner comes from the stored inventory,
    // which the assess run resolved, and the contacts are unknown.
    let bare = ctem()
        .args(["findings", "--format", "json", "--db"])
        .arg(&db)
        .current_dir(temp.path())
        .output()
        .unwrap();
    let bare = output_json(&bare);
    let bare_log4shell = bare
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["rule_id"] == "CVE-2021-44228")
        .unwrap();
    assert_eq!(bare_log4shell["owner"]["team"], "web-team", "{bare_log4shell}");
    assert_eq!(
        bare_log4shell["owner"]["contacts"],
        serde_json::json!([]),
        "{bare_log4shell}"
    );
}
