//! End-to-end tests of `ctem assess` on the example environment: the
//! ranking, the lifecycle across runs and the failure policy.

mod common;

use common::{ctem, example_dir};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ctem_store::{FindingFilter, Store};
use serde_json::Value;

/// A copy of the example environment in a temporary folder, so tests can
/// change its scans.
fn copy_example(into: &Path) -> PathBuf {
    let target = into.join("acme");
    for entry in walkdir(&example_dir()) {
        let relative = entry.strip_prefix(example_dir()).unwrap();
        let destination = target.join(relative);
        std::fs::create_dir_all(destination.parent().unwrap()).unwrap();
        std::fs::copy(&entry, &destination).unwrap();
    }
    target
}

fn walkdir(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walkdir(&path));
        } else {
            files.push(path);
        }
    }
    files
}

fn run(command: &mut Command) -> Output {
    let output = command.output().expect("ctem runs");
    if !output.status.success() {
        eprintln!("stdout:\n{}", String::from_utf8_lossy(&output.stdout));
        eprintln!("stderr:\n{}", String::from_utf8_lossy(&output.stderr));
    }
    output
}

fn assess_json(dir: &Path, db: &Path, extra: &[&str]) -> (Output, Value) {
    let output = run(ctem()
        .arg("assess")
        .arg(dir)
        .arg("--db")
        .arg(db)
        .args(["--format", "json", "--top", "100"])
        .args(extra));
    let json = serde_json::from_slice(&output.stdout).unwrap_or(Value::Null);
    (output, json)
}

/// The rank of the finding with this vulnerability id on this asset.
fn rank_of(top: &Value, vulnerability_id: &str, asset_part: &str) -> usize {
    top.as_array()
        .unwrap()
        .iter()
        .position(|row| {
            let has_id = row["vulnerability_ids"]
                .as_array()
                .unwrap()
                .iter()
                .any(|id| id == vulnerability_id);
            has_id && row["asset"].as_str().unwrap().contains(asset_part)
        })
        .unwrap_or_else(|| panic!("{vulnerability_id} on {asset_part} is not in the top list"))
}

#[test]
fn example_ranks_kev_on_exposed_crown_jewel_first() {
    let temp = tempfile::tempdir().unwrap();
    let db = temp.path().join("ctem.db");
    let (output, json) = assess_json(&example_dir(), &db, &[]);
    assert_eq!(output.status.code(), Some(0));

    let top = &json["top"];
    let kev_on_jewel = rank_of(top, "CVE-2021-41773", "203.0.113.10");
    let high_cvss_on_test_host = rank_of(top, "CVE-2022-42889", "10.30.0.15");
    assert!(
        kev_on_jewel < high_cvss_on_test_host,
        "KEV finding ranks {kev_on_jewel}, test host finding ranks {high_cvss_on_test_host}"
    );

    for row in top.as_array().unwrap() {
        assert!(
            !row["reasons"].as_str().unwrap().is_empty(),
            "no reasons for {}",
            row["rule_id"]
        );
        assert!(
            !row["factors"].as_array().unwrap().is_empty(),
            "no factors for {}",
            row["rule_id"]
        );
    }
    let reasons = top[kev_on_jewel]["reasons"].as_str().unwrap();
    assert!(reasons.contains("KEV"), "reasons of the KEV finding: {reasons}");

    let kev = &top[kev_on_jewel];
    let explanation = kev["explanation"].as_str().unwrap();
    assert!(explanation.starts_with("KEV since "), "{explanation}");
    assert!(explanation.contains("internet-facing"), "{explanation}");
    assert!(kev["decision"].is_string(), "{}", kev["decision"]);
    assert!(kev["deadline"].is_string(), "{}", kev["deadline"]);
}

#[test]
fn example_reads_every_report() {
    let temp = tempfile::tempdir().unwrap();
    let (output, json) = assess_json(&example_dir(), &temp.path().join("ctem.db"), &[]);
    assert_eq!(output.status.code(), Some(0));

    let files = json["files"].as_array().unwrap();
    let formats: Vec<&str> = files.iter().filter_map(|file| file["format"].as_str()).collect();
    for format in [
        "nmap-xml",
        "nessus-xml",
        "trivy-json",
        "grype-json",
        "cyclonedx-json",
        "sarif",
        "gitleaks-json",
    ] {
        assert!(formats.contains(&format), "{format} missing from {formats:?}");
    }
    for file in files {
        assert_eq!(file["status"], "parsed", "{file}");
    }
}

#[test]
fn example_table_says_why() {
    let temp = tempfile::tempdir().unwrap();
    let output = run(ctem()
        .arg("assess")
        .arg(example_dir())
        .arg("--db")
        .arg(temp.path().join("ctem.db")));
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains("Top 10 risks"), "{stdout}");
    assert!(stdout.contains("Why"), "{stdout}");
    assert!(stdout.contains("KEV"), "{stdout}");

    // Log4Shell is P1 on a crown jewel, which the example's [sla] gives 3
    // days, and in KEV with known ransomware use on an internet-facing
    // asset, which BOD 26-04 gives 3 days and forensic triage. Both count
    // from the run that first saw it.
    assert!(stdout.contains("Deadline"), "{stdout}");
    let observed = stdout
        .split_whitespace()
        .skip_while(|word| *word != "at")
        .nth(1)
        .and_then(|time| time.trim_end_matches(':').parse::<chrono::DateTime<chrono::Utc>>().ok())
        .expect("the summary names the run's time");
    let due = (observed.date_naive() + chrono::Days::new(3)).to_string();
    assert!(stdout.contains(&due), "{due} missing: {stdout}");
    assert!(stdout.contains("SLA 3 days"), "{stdout}");
    assert!(stdout.contains("BOD 3 days, forensic"), "{stdout}");

    // P2 findings get the example's 30 days, whatever their BOD band.
    let due = (observed.date_naive() + chrono::Days::new(30)).to_string();
    assert!(stdout.contains(&due), "{due} missing: {stdout}");
    assert!(stdout.contains("SLA 30 days"), "{stdout}");
}

#[test]
fn second_run_has_no_new_findings() {
    let temp = tempfile::tempdir().unwrap();
    let db = temp.path().join("ctem.db");
    let (_, first) = assess_json(&example_dir(), &db, &[]);
    assert!(first["run"]["new"].as_u64().unwrap() > 0);

    let (output, second) = assess_json(&example_dir(), &db, &[]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(second["run"]["new"], 0);
    assert_eq!(second["run"]["fixed"], 0);
    assert_eq!(second["run"]["still_open"], first["run"]["new"]);
}

/// The Trivy scan of the shop image, rescanned later without two of its
/// vulnerabilities.
fn rescan_without_two(trivy: &Path) -> Vec<String> {
    let mut report: Value = serde_json::from_str(&std::fs::read_to_string(trivy).unwrap()).unwrap();
    let java = report["Results"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|result| result["Class"] == "lang-pkgs")
        .unwrap();
    let vulnerabilities = java["Vulnerabilities"].as_array_mut().unwrap();
    let removed: Vec<String> = vulnerabilities
        .drain(..2)
        .map(|v| v["VulnerabilityID"].as_str().unwrap().to_string())
        .collect();
    report["CreatedAt"] = Value::from("2026-12-01T06:00:00Z");
    std::fs::write(trivy, serde_json::to_string_pretty(&report).unwrap()).unwrap();
    removed
}

#[test]
fn rescan_of_same_target_fixes_exactly_what_it_no_longer_sees() {
    let temp = tempfile::tempdir().unwrap();
    let acme = copy_example(temp.path());
    let db = temp.path().join("ctem.db");
    let (_, first) = assess_json(&acme, &db, &["--at", "2026-11-30T08:00:00Z"]);
    assert_eq!(first["run"]["fixed"], 0);

    let removed = rescan_without_two(&acme.join("scans/images/trivy-shop-web.json"));
    let (output, second) = assess_json(&acme, &db, &["--at", "2026-12-01T08:00:00Z"]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(second["run"]["fixed"], 2);
    assert_eq!(second["run"]["new"], 0);

    let store = Store::open(&db).unwrap();
    let fixed = store
        .findings(&FindingFilter {
            statuses: vec![ctem_model::LifecycleStatus::Fixed],
            ..FindingFilter::default()
        })
        .unwrap();
    let mut fixed_ids: Vec<&str> = fixed.iter().map(|f| f.finding.rule_id.as_str()).collect();
    fixed_ids.sort();
    let mut expected: Vec<&str> = removed.iter().map(String::as_str).collect();
    expected.sort();
    assert_eq!(fixed_ids, expected);
    assert!(fixed.iter().all(|f| f.fixed_at.is_some()));
}

#[test]
fn scan_left_out_closes_nothing() {
    let temp = tempfile::tempdir().unwrap();
    let acme = copy_example(temp.path());
    let db = temp.path().join("ctem.db");
    assess_json(&acme, &db, &["--at", "2026-11-30T08:00:00Z"]);

    std::fs::remove_file(acme.join("scans/images/trivy-shop-web.json")).unwrap();
    std::fs::remove_file(acme.join("scans/internal/nessus-internal.nessus")).unwrap();
    let (output, second) = assess_json(&acme, &db, &["--at", "2026-12-01T08:00:00Z"]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(second["run"]["fixed"], 0);
}

#[test]
fn fixed_finding_reopens_when_seen_again() {
    let temp = tempfile::tempdir().unwrap();
    let acme = copy_example(temp.path());
    let trivy = acme.join("scans/images/trivy-shop-web.json");
    let original = std::fs::read(&trivy).unwrap();
    let db = temp.path().join("ctem.db");
    assess_json(&acme, &db, &["--at", "2026-11-30T08:00:00Z"]);
    rescan_without_two(&trivy);
    assess_json(&acme, &db, &["--at", "2026-12-01T08:00:00Z"]);

    std::fs::write(&trivy, original).unwrap();
    let (_, third) = assess_json(&acme, &db, &["--at", "2026-12-02T08:00:00Z"]);
    assert_eq!(third["run"]["reopened"], 2);
    assert_eq!(third["run"]["new"], 0);
}

/// An empty report in a folder is a scan that wrote nothing: it fails the
/// run, where an empty file of another kind is skipped.
#[test]
fn empty_report_in_a_folder_fails() {
    let temp = tempfile::tempdir().unwrap();
    let acme = copy_example(temp.path());
    std::fs::write(acme.join("scans/images/empty.json"), b"").unwrap();
    std::fs::write(acme.join("scans/images/blank.sarif"), b"\n  \n").unwrap();
    std::fs::write(acme.join("scans/images/.gitkeep"), b"").unwrap();

    let (output, json) = assess_json(&acme, &temp.path().join("ctem.db"), &[]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("empty.json") && stderr.contains("the file is empty"),
        "{stderr}"
    );
    let status = |name: &str| {
        let files = json["files"].as_array().unwrap();
        let file = files.iter().find(|f| f["path"].as_str().unwrap().ends_with(name));
        file.map(|f| f["status"].as_str().unwrap().to_string())
    };
    assert_eq!(status("empty.json").as_deref(), Some("failed"));
    assert_eq!(status("blank.sarif").as_deref(), Some("failed"));
    assert_ne!(status(".gitkeep").as_deref(), Some("failed"));
}

/// A report that starts with a UTF-8 byte order mark is read; a file with
/// only a byte order mark (UTF-8 or UTF-16) is empty.
#[test]
fn byte_order_marks_are_read_as_such() {
    let temp = tempfile::tempdir().unwrap();
    let folder = temp.path().join("scans");
    std::fs::create_dir(&folder).unwrap();
    let trivy = std::fs::read(example_dir().join("scans/images/trivy-shop-web.json")).unwrap();
    std::fs::write(folder.join("marked.json"), [&b"\xef\xbb\xbf"[..], &trivy].concat()).unwrap();
    let (output, json) = assess_json(&folder, &temp.path().join("marked.db"), &[]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(json["files"][0]["status"], "parsed", "{}", json["files"]);

    let parse = run(ctem().arg("parse").arg(folder.join("marked.json")));
    assert_eq!(
        parse.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&parse.stderr)
    );

    std::fs::write(folder.join("utf8-mark.json"), b"\xef\xbb\xbf\n").unwrap();
    std::fs::write(folder.join("utf16-mark.xml"), b"\xff\xfe").unwrap();
    let (output, _) = assess_json(&folder, &temp.path().join("marks.db"), &[]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    for name in ["utf8-mark.json", "utf16-mark.xml"] {
        assert!(stderr.contains(name), "{name}: {stderr}");
    }
    assert_eq!(stderr.matches("the file is empty").count(), 2, "{stderr}");

    let parse = run(ctem().arg("parse").arg(folder.join("utf8-mark.json")));
    assert_eq!(parse.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&parse.stderr).contains("the file is empty"));
}

#[test]
fn truncated_file_is_reported_and_others_processed() {
    let temp = tempfile::tempdir().unwrap();
    let acme = copy_example(temp.path());
    let grype = acme.join("scans/images/grype-billing-api.json");
    let bytes = std::fs::read(&grype).unwrap();
    std::fs::write(&grype, &bytes[..bytes.len() / 2]).unwrap();

    let (output, json) = assess_json(&acme, &temp.path().join("ctem.db"), &[]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("grype-billing-api.json"), "{stderr}");
    assert!(stderr.contains("line "), "no position in: {stderr}");

    let failed: Vec<&Value> = json["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] == "failed")
        .collect();
    assert_eq!(failed.len(), 1);
    assert!(
        json["run"]["new"].as_u64().unwrap() > 0,
        "the other reports were not recorded"
    );
}

#[test]
fn strict_run_with_bad_file_writes_nothing() {
    let temp = tempfile::tempdir().unwrap();
    let acme = copy_example(temp.path());
    let db = temp.path().join("ctem.db");
    assess_json(&acme, &db, &["--at", "2026-11-30T08:00:00Z"]);

    let nmap = acme.join("scans/dmz/nmap-dmz.xml");
    let text = std::fs::read_to_string(&nmap).unwrap();
    std::fs::write(&nmap, text.replace("</ports>", "</port>")).unwrap();
    std::fs::remove_file(acme.join("scans/images/trivy-shop-web.json")).unwrap();

    let output =
        run(ctem()
            .arg("assess")
            .arg(&acme)
            .arg("--db")
            .arg(&db)
            .args(["--strict", "--at", "2026-12-01T08:00:00Z"]));
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("nmap-dmz.xml"), "{stderr}");
    assert!(stderr.contains("nothing was written"), "{stderr}");

    let store = Store::open(&db).unwrap();
    assert_eq!(store.runs().unwrap().len(), 1);
}

/// A run that fails records nothing, so it leaves no new database behind:
/// neither a --strict run with a broken file nor a policy that fails to
/// evaluate.
#[test]
fn failed_run_creates_no_database() {
    let temp = tempfile::tempdir().unwrap();
    let acme = copy_example(temp.path());
    let nmap = acme.join("scans/dmz/nmap-dmz.xml");
    let text = std::fs::read_to_string(&nmap).unwrap();
    std::fs::write(&nmap, text.replace("</ports>", "</port>")).unwrap();
    let strict_db = temp.path().join("strict.db");
    let output = run(ctem()
        .arg("assess")
        .arg(&acme)
        .arg("--db")
        .arg(&strict_db)
        .arg("--strict"));
    assert_eq!(output.status.code(), Some(1));
    assert!(!strict_db.exists(), "a failed --strict run left a database");
    std::fs::write(&nmap, text).unwrap();

    // Two values for one complete rule fail at evaluation, after the
    // policy loaded.
    std::fs::write(
        acme.join("conflict.rego"),
        "package ctem\n\ntier := {\"tier\": \"P1\", \"reason\": \"a\"}\ntier := {\"tier\": \"P2\", \"reason\": \"b\"}\n",
    )
    .unwrap();
    let config = std::fs::read_to_string(acme.join("ctem.toml")).unwrap();
    std::fs::write(
        acme.join("ctem.toml"),
        format!("{config}\n[policy]\nfiles = [\"conflict.rego\"]\n"),
    )
    .unwrap();
    // An empty file given as the database stays empty.
    let empty_db = temp.path().join("empty.db");
    std::fs::write(&empty_db, b"").unwrap();
    let output = run(ctem().arg("assess").arg(&acme).arg("--db").arg(&empty_db));
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        std::fs::metadata(&empty_db).unwrap().len(),
        0,
        "a failed run wrote into an empty file"
    );

    let policy_db = temp.path().join("policy.db");
    let output = run(ctem().arg("assess").arg(&acme).arg("--db").arg(&policy_db));
    assert_eq!(
        output.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!policy_db.exists(), "a failed policy evaluation left a database");
    for suffix in ["-wal", "-shm"] {
        assert!(!temp.path().join(format!("policy.db{suffix}")).exists());
    }
}

#[test]
fn named_file_in_unknown_format_fails() {
    let temp = tempfile::tempdir().unwrap();
    let notes = temp.path().join("notes.txt");
    std::fs::write(&notes, "not a report").unwrap();
    let output = run(ctem()
        .arg("assess")
        .arg(&notes)
        .arg("--db")
        .arg(temp.path().join("ctem.db")));
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("notes.txt"), "{stderr}");
}

#[test]
fn out_of_order_run_is_rejected() {
    let temp = tempfile::tempdir().unwrap();
    let db = temp.path().join("ctem.db");
    assess_json(&example_dir(), &db, &["--at", "2026-11-30T08:00:00Z"]);
    let (output, _) = assess_json(&example_dir(), &db, &["--at", "2026-11-01T08:00:00Z"]);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn invalid_config_names_the_field() {
    let temp = tempfile::tempdir().unwrap();
    let config = temp.path().join("ctem.toml");
    std::fs::write(
        &config,
        "[[crown_jewels]]\nname = \"db\"\nmatch = { kind = \"host\" }\ncriticalty = \"high\"\n",
    )
    .unwrap();
    let output = run(ctem()
        .arg("assess")
        .arg(example_dir().join("scans"))
        .arg("--config")
        .arg(&config)
        .arg("--db")
        .arg(temp.path().join("ctem.db")));
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("criticalty"), "{stderr}");
    assert!(stderr.contains("ctem.toml"), "{stderr}");
    assert!(
        !temp.path().join("ctem.db").exists()
            || Store::open(&temp.path().join("ctem.db"))
                .unwrap()
                .runs()
                .unwrap()
                .is_empty()
    );
}

#[test]
fn unwritable_output_records_no_run() {
    let temp = tempfile::tempdir().unwrap();
    let outputs = temp.path().join("outputs");
    std::fs::create_dir(&outputs).unwrap();
    let db = temp.path().join("ctem.db");
    let missing = temp.path().join("missing");
    let json = outputs.join("out.json");
    let html = outputs.join("report.html");
    // Each case has one destination that cannot be written, the last one.
    let cases: [[&Path; 4]; 3] = [
        [
            Path::new("--output"),
            &json,
            Path::new("--report"),
            &missing.join("report.html"),
        ],
        [
            Path::new("--report"),
            &html,
            Path::new("--output"),
            &missing.join("out.json"),
        ],
        [Path::new("--output"), &json, Path::new("--report"), &outputs],
    ];

    for case in cases {
        let output = run(ctem().arg("assess").arg(example_dir()).arg("--db").arg(&db).args(case));
        let bad = case[3].display().to_string();
        assert_eq!(output.status.code(), Some(2), "{bad}");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(stderr.contains(&bad), "{stderr}");
        assert!(stderr.contains("nothing was assessed or written"), "{stderr}");
        assert!(
            !db.exists() || Store::open(&db).unwrap().runs().unwrap().is_empty(),
            "{bad}"
        );
        let written: Vec<_> = std::fs::read_dir(&outputs)
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert!(written.is_empty(), "{bad}: {written:?}");
    }
}

#[cfg(unix)]
#[test]
fn outputs_follow_links_and_devices() {
    let temp = tempfile::tempdir().unwrap();
    let report = temp.path().join("report.html");
    std::fs::write(&report, "old").unwrap();
    let link = temp.path().join("latest.html");
    std::os::unix::fs::symlink(&report, &link).unwrap();

    let output = run(ctem()
        .arg("assess")
        .arg(example_dir())
        .arg("--db")
        .arg(temp.path().join("ctem.db"))
        .args(["--format", "json", "--output", "/dev/stdout", "--report"])
        .arg(&link));

    assert_eq!(output.status.code(), Some(0));
    let json: Value = serde_json::from_slice(&output.stdout).expect("the output is JSON");
    assert!(json["top"].is_array());
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(html.contains("id=\"top-risks\""));
}

#[test]
fn top_zero_shows_every_open_finding() {
    let temp = tempfile::tempdir().unwrap();
    let report = temp.path().join("report.html");
    let output = run(ctem()
        .arg("assess")
        .arg(example_dir())
        .arg("--db")
        .arg(temp.path().join("ctem.db"))
        .args(["--format", "json", "--top", "0", "--report"])
        .arg(&report));
    assert_eq!(output.status.code(), Some(0));

    let json: Value = serde_json::from_slice(&output.stdout).expect("the output is JSON");
    let open = json["open_findings"].as_u64().unwrap();
    assert!(open > 10, "the example has more open findings than the default --top");
    assert_eq!(json["top"].as_array().unwrap().len() as u64, open);

    let html = std::fs::read_to_string(&report).unwrap();
    let start = html
        .find("<table id=\"top-risks\"")
        .expect("the report lists the top risks");
    let end = start + html[start..].find("</table>").unwrap();
    let rows = html[start..end].matches("<tr>").count() as u64;
    assert_eq!(rows, open + 1, "one header row and one row per open finding");
}

#[test]
fn top_zero_table_lists_every_open_finding() {
    let temp = tempfile::tempdir().unwrap();
    let output = run(ctem()
        .arg("assess")
        .arg(example_dir())
        .arg("--db")
        .arg(temp.path().join("ctem.db"))
        .args(["--top", "0"]));
    assert_eq!(output.status.code(), Some(0));

    let text = String::from_utf8(output.stdout).unwrap();
    assert!(!text.contains("No open findings"), "{text}");
    assert!(text.contains("Top "), "{text}");
}

#[test]
fn html_report_is_self_contained() {
    let temp = tempfile::tempdir().unwrap();
    let report = temp.path().join("report.html");
    let output = run(ctem()
        .arg("assess")
        .arg(example_dir())
        .arg("--db")
        .arg(temp.path().join("ctem.db"))
        .arg("--report")
        .arg(&report));
    assert_eq!(output.status.code(), Some(0));
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(html.contains("<svg"), "no chart");
    assert!(html.contains("id=\"top-risks\""));
    assert!(html.contains("id=\"by-owner\""));
    assert!(html.contains("web-team"));
    assert!(html.contains("CVE-2021-41773"));
    assert!(!html.contains("<script"), "the report must not load scripts");
    assert!(
        !html.contains("src=\"http"),
        "the report must not load remote resources"
    );
}

#[test]
fn html_report_shows_trends_and_summary() {
    let temp = tempfile::tempdir().unwrap();
    let acme = copy_example(temp.path());
    let db = temp.path().join("ctem.db");
    let first_report = temp.path().join("first.html");
    let report = temp.path().join("report.html");

    let (output, _) = assess_json(
        &acme,
        &db,
        &[
            "--at",
            "2026-11-24T08:00:00Z",
            "--report",
            first_report.to_str().unwrap(),
        ],
    );
    assert_eq!(output.status.code(), Some(0));
    let first = std::fs::read_to_string(&first_report).unwrap();
    assert!(first.contains("Trends need at least two runs"));
    assert!(!first.contains("<svg id=\"risk-trend\""));

    // A week later the shop image no longer has two of its weaknesses.
    rescan_without_two(&acme.join("scans/images/trivy-shop-web.json"));
    let (output, second) = assess_json(
        &acme,
        &db,
        &["--at", "2026-12-01T08:00:00Z", "--report", report.to_str().unwrap()],
    );
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(second["run"]["fixed"], 2);
    let html = std::fs::read_to_string(&report).unwrap();

    for chart in ["risk-trend", "open-trend", "mttr-trend"] {
        assert!(html.contains(&format!("<svg id=\"{chart}\"")), "no chart {chart}");
    }
    for date in ["2026-11-24", "2026-12-01"] {
        assert!(html.contains(&format!(">{date}</text>")), "no run date {date}");
    }
    // The two fixes were confirmed by the second run, 7 days after the
    // first run detected them.
    assert!(html.contains(">7 days</text>"), "no days to fix of the second run");

    let start = html
        .find("<section id=\"executive-summary\"")
        .expect("no executive summary");
    let end = start + html[start..].find("</section>").unwrap();
    let summary = &html[start..end];
    assert!(summary.contains("crown jewels have open weaknesses"), "{summary}");
    assert!(
        summary.contains("Shop front"),
        "configured crown jewel names: {summary}"
    );
    assert!(summary.contains("since the previous run on 24 Nov 2026"), "{summary}");
    assert!(summary.contains("fixed by their deadline"), "{summary}");
    assert!(
        summary.contains("took 7.0 days on average from discovery to confirmed fix (2 fixes)"),
        "{summary}"
    );
    for jargon in ["CVE", "KEV", "EPSS", "CVSS", "P1", "MTTR", "SLA", "tier"] {
        assert!(!summary.contains(jargon), "{jargon} in the summary: {summary}");
    }
}

#[test]
fn secrets_never_reach_the_database_or_output() {
    let temp = tempfile::tempdir().unwrap();
    let db = temp.path().join("ctem.db");
    let (output, _) = assess_json(&example_dir(), &db, &[]);
    assert_eq!(output.status.code(), Some(0));
    let clear = "AKIA2E0A8F3B244C9986";
    assert!(!String::from_utf8_lossy(&output.stdout).contains(clear));
    for file in std::fs::read_dir(temp.path()).unwrap() {
        let bytes = std::fs::read(file.unwrap().path()).unwrap();
        assert!(
            !bytes.windows(clear.len()).any(|w| w == clear.as_bytes()),
            "clear secret stored"
        );
    }
}

#[test]
fn future_observation_time_is_rejected() {
    let temp = tempfile::tempdir().unwrap();
    let db = temp.path().join("ctem.db");
    let (output, _) = assess_json(&example_dir(), &db, &["--at", "2062-11-20T08:00:00Z"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("future"));
}

#[cfg(unix)]
#[test]
fn symlinked_report_is_read() {
    let temp = tempfile::tempdir().unwrap();
    let linked = temp.path().join("linked");
    std::fs::create_dir(&linked).unwrap();
    std::os::unix::fs::symlink(
        example_dir().join("scans/images/grype-billing-api.json"),
        linked.join("latest.json"),
    )
    .unwrap();
    let (output, json) = assess_json(&linked, &temp.path().join("ctem.db"), &[]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(json["files"][0]["format"], "grype-json");
}

#[test]
fn target_mapping_ignores_how_paths_are_written() {
    let temp = tempfile::tempdir().unwrap();
    let db = temp.path().join("ctem.db");
    let (_, first) = assess_json(&example_dir(), &db, &["--at", "2026-11-30T08:00:00Z"]);
    assert!(first["run"]["new"].as_u64().unwrap() > 0);

    let config = example_dir().join("ctem.toml").canonicalize().unwrap();
    let relative = Path::new("../../examples/acme");
    let output = run(ctem()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("assess")
        .arg(relative)
        .arg("--config")
        .arg(&config)
        .arg("--db")
        .arg(&db)
        .args(["--format", "json", "--at", "2026-12-01T08:00:00Z"]));
    assert_eq!(output.status.code(), Some(0));
    let second: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(second["run"]["new"], 0, "the same reports got other scope targets");
}

/// A `[[targets]]` pattern that starts with `./`, or is absolute, maps the
/// same reports whether ctem runs in the folder of ctem.toml or above it.
#[test]
fn target_pattern_with_dot_or_absolute_path() {
    let temp = tempfile::tempdir().unwrap();
    let acme = copy_example(temp.path());
    let config = std::fs::read_to_string(acme.join("ctem.toml")).unwrap();
    let absolute = acme.canonicalize().unwrap().join("scans/code/gitleaks-*.json");
    for (index, pattern) in [
        "./scans/code/gitleaks-*.json".to_string(),
        absolute.display().to_string(),
    ]
    .into_iter()
    .enumerate()
    {
        let rewritten = config.replace("\"scans/code/gitleaks-*.json\"", &format!("{pattern:?}"));
        assert_ne!(rewritten, config, "the example maps scans/code/gitleaks-*.json");
        std::fs::write(acme.join("ctem.toml"), rewritten).unwrap();
        let db = temp.path().join(format!("targets-{index}.db"));
        let (_, first) = assess_json(&acme, &db, &["--at", "2026-11-30T08:00:00Z"]);
        assert!(first["run"]["new"].as_u64().unwrap() > 0);
        let output = run(ctem()
            .current_dir(&acme)
            .args(["assess", "."])
            .arg("--db")
            .arg(&db)
            .args(["--format", "json", "--at", "2026-12-01T08:00:00Z"]));
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let json: Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(
            json["run"]["new"], 0,
            "pattern {pattern}: the same reports got other scope targets"
        );
    }
}

/// Run in the folder of ctem.toml, the configuration is the bare file name
/// `ctem.toml`, whose parent is the empty path: the `[[targets]]` globs
/// still apply, so the findings keep their scope targets and fingerprints.
#[test]
fn target_mapping_in_configuration_folder() {
    let temp = tempfile::tempdir().unwrap();
    let db = temp.path().join("ctem.db");
    let (_, first) = assess_json(&example_dir(), &db, &["--at", "2026-11-30T08:00:00Z"]);
    assert!(first["run"]["new"].as_u64().unwrap() > 0);

    for (at, config) in [
        ("2026-12-01T08:00:00Z", None),
        ("2026-12-02T08:00:00Z", Some("ctem.toml")),
    ] {
        let mut command = ctem();
        command.current_dir(example_dir()).args(["assess", "."]);
        if let Some(config) = config {
            command.args(["--config", config]);
        }
        let output = run(command.arg("--db").arg(&db).args(["--format", "json", "--at", at]));
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let json: Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(
            json["run"]["new"], 0,
            "--config {config:?}: the same reports got other scope targets"
        );
    }
}

/// A report assessed without ctem.toml gets a warning that crown jewels and
/// criticality are missing; with the configuration found, it gets none.
#[test]
fn assess_without_configuration_warns() {
    let temp = tempfile::tempdir().unwrap();
    let report = example_dir().join("scans/images/trivy-shop-web.json");
    let output = run(ctem()
        .current_dir(temp.path())
        .arg("assess")
        .arg(&report)
        .args(["--db", "alone.db"]));
    assert_eq!(output.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no ctem.toml was found"), "{stderr}");
    assert!(stderr.contains("--config"), "{stderr}");

    let (output, _) = assess_json(&example_dir(), &temp.path().join("example.db"), &[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("no ctem.toml"), "{stderr}");
}

/// A --db path that starts with `file:` names a file of that name, not a
/// SQLite URI, for the commands that write and those that read.
#[test]
fn database_path_is_never_a_uri() {
    let temp = tempfile::tempdir().unwrap();
    let output = run(ctem()
        .current_dir(temp.path())
        .arg("assess")
        .arg(example_dir())
        .args(["--db", "file:real.db"]));
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(temp.path().join("file:real.db").is_file());
    assert!(!temp.path().join("real.db").exists());

    let output = run(ctem()
        .current_dir(temp.path())
        .args(["findings", "--db", "file:real.db", "--format", "json"]));
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let findings: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(!findings.as_array().unwrap().is_empty());
}
