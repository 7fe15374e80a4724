//! End-to-end tests of `ctem intel import`, `status` and `update`, and of
//! `ctem assess` reading the cache. Downloads go to a server on 127.0.0.1
//! that the test runs; every source URL is overridden in ctem.toml, so no
//! test reaches another host.

mod common;

#[path = "../../ctem-intel/tests/common/http.rs"]
mod http;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use http::{Reply, Server};
use serde_json::Value;

fn ctem(home: &Path) -> Command {
    let mut command = common::ctem();
    command
        .env_remove("CTEM_INTEL_CACHE")
        .env_remove("NVD_API_KEY")
        .env_remove("XDG_CACHE_HOME")
        .env("HOME", home)
        .current_dir(home);
    command
}

fn intel_fixture(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../ctem-intel/tests/fixtures")
        .join(relative)
}

fn example(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/acme")
        .join(relative)
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn status_json(home: &Path, extra: &[&str]) -> Value {
    let output = ctem(home)
        .args(["intel", "status", "--format", "json"])
        .args(extra)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

/// Runs `ctem intel import --intel-cache CACHE PATH`.
fn import_into(home: &Path, cache: &Path, path: &Path) -> Output {
    ctem(home)
        .args(["intel", "import", "--intel-cache"])
        .arg(cache)
        .arg(path)
        .output()
        .unwrap()
}

fn source<'a>(status: &'a Value, kind: &str) -> &'a Value {
    status["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == kind)
        .unwrap_or_else(|| panic!("{kind} is not in {status}"))
}

#[test]
fn import_then_status() {
    let home = tempfile::tempdir().unwrap();
    let feeds = home.path().join("feeds");
    fs::create_dir(&feeds).unwrap();
    fs::copy(intel_fixture("kev/catalog.json"), feeds.join("kev.json")).unwrap();
    fs::copy(intel_fixture("epss/official.csv"), feeds.join("epss.csv")).unwrap();
    fs::copy(intel_fixture("sync/notes.txt"), feeds.join("notes.txt")).unwrap();

    let output = ctem(home.path())
        .args(["intel", "import"])
        .arg(&feeds)
        .arg(intel_fixture("sync/cve5"))
        .output()
        .unwrap();

    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(text.contains("kev.json as kev, 3 records"), "{text}");
    assert!(text.contains("as cve5"), "{text}");
    assert!(text.contains("skipped"), "{text}");
    assert!(text.contains("notes.txt"), "{text}");
    let cache = home.path().join(".cache/ctem/intel");
    assert!(cache.join("kev/kev.json").is_file());
    assert!(cache.join("cve5/tree/2024/32xxx/CVE-2024-32466.json").is_file());

    let status = status_json(home.path(), &[]);
    let kev = source(&status, "kev");
    assert_eq!(kev["records"], 3);
    assert_eq!(kev["version"], "2025.08.25");
    assert_eq!(kev["date"], "2025-08-25");
    assert_eq!(kev["origin"], "import");
    assert!(kev["age_seconds"].as_i64().unwrap() < 600, "{kev}");
    assert_eq!(source(&status, "epss")["records"], 4);
    assert_eq!(source(&status, "cve5")["records"], 1);

    let table = ctem(home.path()).args(["intel", "status"]).output().unwrap();
    let table = stdout(&table);
    assert!(table.contains("2025.08.25"), "{table}");
    assert!(table.contains("v2025.03.14"), "{table}");
}

#[test]
fn invalid_import_keeps_cached_file() {
    let home = tempfile::tempdir().unwrap();
    let cache = home.path().join("cache");
    let good = import_into(home.path(), &cache, &intel_fixture("kev/catalog.json"));
    assert_eq!(good.status.code(), Some(0), "{}", stdout(&good));

    let bad = import_into(home.path(), &cache, &intel_fixture("kev/bad_cve.json"));

    let text = stdout(&bad);
    assert_eq!(bad.status.code(), Some(1), "{text}");
    assert!(text.contains("failed"), "{text}");
    assert!(text.contains("cveID"), "{text}");
    let status = status_json(home.path(), &["--intel-cache", cache.to_str().unwrap()]);
    let kev = source(&status, "kev");
    assert_eq!(kev["records"], 3);
    assert!(kev["path"].as_str().unwrap().ends_with("catalog.json"), "{kev}");
    assert!(
        kev["last_error"]["message"].as_str().unwrap().contains("cveID"),
        "{kev}"
    );
}

/// Serves one fixture per default source with an ETag, and `304 Not Modified` to a request that sends it back.
fn serve_feeds(server: &Server) {
    let feeds = [
        ("/kev.json", fs::read(intel_fixture("kev/catalog.json")).unwrap()),
        ("/epss.csv", fs::read(intel_fixture("epss/official.csv")).unwrap()),
        (
            "/enterprise-attack.json",
            fs::read(intel_fixture("sync/enterprise-attack.json")).unwrap(),
        ),
        (
            "/kev-attack-mappings.json",
            fs::read(intel_fixture("sync/kev-attack-mappings.json")).unwrap(),
        ),
        (
            "/files_exploits.csv",
            fs::read(intel_fixture("sync/files_exploits.csv")).unwrap(),
        ),
        (
            "/modules_metadata_base.json",
            fs::read(intel_fixture("sync/modules_metadata_base.json")).unwrap(),
        ),
    ];
    for (path, body) in feeds {
        let tag = format!("\"{}\"", body.len());
        server.route(path, move |request| {
            if request.headers.get("if-none-match") == Some(&tag) {
                Reply::status(304, &[("ETag", &tag)])
            } else {
                Reply::ok(body.clone()).with("ETag", &tag)
            }
        });
    }
}

/// Writes a ctem.toml that points every default source at the server, with
/// `kev_path` as the KEV path.
fn write_config(home: &Path, server: &Server, kev_path: &str) -> PathBuf {
    let sources = [
        ("kev", kev_path),
        ("epss", "/epss.csv"),
        ("attack", "/enterprise-attack.json"),
        ("ctid-mappings", "/kev-attack-mappings.json"),
        ("exploit-db", "/files_exploits.csv"),
        ("metasploit", "/modules_metadata_base.json"),
    ];
    let mut text =
        String::from("[intel]\ncache = \"cache\"\n\n[intel.download]\nattempts = 1\nread_timeout_secs = 5\n");
    for (kind, path) in sources {
        text.push_str(&format!("\n[intel.sources.{kind}]\nurl = \"{}\"\n", server.url(path)));
    }
    let path = home.join("ctem.toml");
    fs::write(&path, text).unwrap();
    path
}

#[test]
fn update_then_not_modified() {
    let home = tempfile::tempdir().unwrap();
    let server = Server::start();
    serve_feeds(&server);
    write_config(home.path(), &server, "/kev.json");

    let first = ctem(home.path()).args(["intel", "update"]).output().unwrap();
    let second = ctem(home.path()).args(["intel", "update"]).output().unwrap();

    let text = stdout(&first);
    assert_eq!(first.status.code(), Some(0), "{text}");
    for kind in ["kev", "epss", "attack", "ctid-mappings", "exploit-db", "metasploit"] {
        assert!(text.contains(&format!("{kind}: updated")), "{kind} in {text}");
    }
    assert!(text.contains("kev: updated, 3 records, version 2025.08.25"), "{text}");
    assert!(text.contains("exploit-db: updated, 2 records"), "{text}");
    let text = stdout(&second);
    assert_eq!(second.status.code(), Some(0), "{text}");
    assert_eq!(text.matches(": not modified").count(), 6, "{text}");
    assert!(
        home.path()
            .join("cache/metasploit/modules_metadata_base.json")
            .is_file()
    );
    assert_eq!(server.requests("/kev.json").len(), 2);
}

#[test]
fn failed_source_exits_1() {
    let home = tempfile::tempdir().unwrap();
    let server = Server::start();
    serve_feeds(&server);
    write_config(home.path(), &server, "/missing.json");

    let output = ctem(home.path()).args(["intel", "update"]).output().unwrap();

    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains("kev: failed"), "{text}");
    assert!(text.contains("404"), "{text}");
    assert!(text.contains("epss: updated"), "{text}");
    let status = status_json(home.path(), &[]);
    assert!(
        source(&status, "kev")["last_error"]["message"]
            .as_str()
            .unwrap()
            .contains("404")
    );
    assert_eq!(source(&status, "epss")["records"], 4);
}

#[test]
fn update_of_one_source() {
    let home = tempfile::tempdir().unwrap();
    let server = Server::start();
    serve_feeds(&server);
    write_config(home.path(), &server, "/kev.json");

    let output = ctem(home.path())
        .args(["intel", "update", "--source", "epss"])
        .output()
        .unwrap();
    let disabled = ctem(home.path())
        .args(["intel", "update", "--source", "nvd"])
        .output()
        .unwrap();

    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(text.contains("epss: updated"), "{text}");
    assert!(!text.contains("kev"), "{text}");
    assert!(server.requests("/kev.json").is_empty());
    assert_eq!(disabled.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&disabled.stderr).contains("not enabled"));
}

#[test]
fn unknown_source_is_an_error() {
    let home = tempfile::tempdir().unwrap();
    fs::write(home.path().join("ctem.toml"), "[intel.sources.kevv]\nenabled = true\n").unwrap();

    let output = ctem(home.path()).args(["intel", "update"]).output().unwrap();

    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("intel.sources.kevv"), "{stderr}");
    assert!(stderr.contains("ctid-mappings"), "{stderr}");
}

/// Returns the rank reasons of a finding in `ctem assess --format json` output.
fn reasons_of(output: &Output, vulnerability_id: &str) -> String {
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    let row = json["top"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| {
            row["vulnerability_ids"]
                .as_array()
                .unwrap()
                .iter()
                .any(|id| id == vulnerability_id)
        })
        .unwrap_or_else(|| panic!("{vulnerability_id} is not in {json}"));
    row["reasons"].as_str().unwrap().to_string()
}

#[test]
fn assess_reads_the_cache() {
    let home = tempfile::tempdir().unwrap();
    let cache = home.path().join("cache");
    let import = import_into(home.path(), &cache, &example("intel"));
    assert_eq!(import.status.code(), Some(0), "{}", stdout(&import));
    let assess = |cache: &Path, db: &str| {
        ctem(home.path())
            .arg("assess")
            .arg(example("scans"))
            .args(["--db", db, "--format", "json", "--top", "100", "--intel-cache"])
            .arg(cache)
            .output()
            .unwrap()
    };

    let with_cache = assess(&cache, "with.db");
    let without = assess(&home.path().join("empty"), "without.db");

    assert!(
        with_cache.status.success(),
        "{}",
        String::from_utf8_lossy(&with_cache.stderr)
    );
    assert!(without.status.success(), "{}", String::from_utf8_lossy(&without.stderr));
    assert!(reasons_of(&with_cache, "CVE-2021-41773").contains("KEV"));
    assert!(!reasons_of(&without, "CVE-2021-41773").contains("KEV"));
    // Only the run without intelligence prints the warning.
    let warning = "no threat intelligence was loaded";
    assert!(String::from_utf8_lossy(&without.stderr).contains(warning));
    assert!(!String::from_utf8_lossy(&with_cache.stderr).contains(warning));
}

/// Runs `ctem intel show` with the given arguments.
fn show(home: &Path, args: &[&str]) -> Output {
    ctem(home).args(["intel", "show"]).args(args).output().unwrap()
}

#[test]
fn show_gathers_every_source_with_dates() {
    let home = tempfile::tempdir().unwrap();
    let cache = home.path().join("cache");
    let feeds = home.path().join("feeds");
    fs::create_dir(&feeds).unwrap();
    fs::copy(
        intel_fixture("cve5/CVE-2024-10001.json"),
        feeds.join("CVE-2024-10001.json"),
    )
    .unwrap();
    fs::copy(
        intel_fixture("exploits/modules_metadata_base.json"),
        feeds.join("modules_metadata_base.json"),
    )
    .unwrap();
    let imported = import_into(home.path(), &cache, &feeds);
    assert!(
        imported.status.success(),
        "{}",
        String::from_utf8_lossy(&imported.stderr)
    );

    let cache_arg = cache.to_str().unwrap();
    let output = show(
        home.path(),
        &["CVE-2024-10001", "--format", "json", "--intel-cache", cache_arg],
    );
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let facts: Value = serde_json::from_slice(&output.stdout).unwrap();
    let facts = &facts[0];
    assert_eq!(facts["cve"], "CVE-2024-10001");

    // Every vector of the record is kept, and the choice gives its reason.
    let vectors = facts["cvss"].as_array().unwrap();
    assert_eq!(vectors.len(), 3, "{vectors:#?}");
    let chosen = &vectors[facts["chosen_cvss"]["index"].as_u64().unwrap() as usize];
    assert_eq!(chosen["value"]["version"], "4.0");
    assert_eq!(chosen["source"]["author"], "ExampleCNA");
    assert_eq!(chosen["source"]["date"], "2024-10-20");
    let reason = facts["chosen_cvss"]["reason"].as_str().unwrap();
    assert!(reason.contains("newest generation"), "{reason}");

    let text = stdout(&show(home.path(), &["CVE-2024-10001", "--intel-cache", cache_arg]));
    assert!(text.contains("* used for scoring: CVSS v4"), "{text}");
    assert!(text.contains("[CVE record (ExampleCNA) of 2024-10-20"), "{text}");
}

#[test]
fn show_unknown_cve_exits_one() {
    let home = tempfile::tempdir().unwrap();
    let cache = home.path().join("cache");
    let imported = import_into(home.path(), &cache, &intel_fixture("kev/catalog.json"));
    assert!(
        imported.status.success(),
        "{}",
        String::from_utf8_lossy(&imported.stderr)
    );

    let output = show(
        home.path(),
        &["CVE-1999-99999", "--intel-cache", cache.to_str().unwrap()],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    assert!(stdout(&output).contains("KEV: not listed"), "{}", stdout(&output));
}

#[test]
fn show_without_intelligence_says_what_to_do() {
    let home = tempfile::tempdir().unwrap();
    let output = show(
        home.path(),
        &[
            "CVE-2023-22515",
            "--intel-cache",
            home.path().join("empty").to_str().unwrap(),
        ],
    );
    assert_eq!(output.status.code(), Some(2));
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(error.contains("ctem intel import"), "{error}");
}

#[test]
fn show_id_without_cve_exits_one() {
    let home = tempfile::tempdir().unwrap();
    let feeds = home.path().join("feeds");
    fs::create_dir(&feeds).unwrap();
    fs::copy(intel_fixture("kev/catalog.json"), feeds.join("kev.json")).unwrap();
    let output = show(
        home.path(),
        &["GHSA-aaaa-bbbb-cccc", "--intel", feeds.to_str().unwrap()],
    );
    assert_eq!(output.status.code(), Some(1));
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(error.contains("no loaded source links it to a CVE"), "{error}");
}

/// The shared intelligence sample, imported as a user would, shows the
/// KEV entry, CVSS vectors, CWE, SSVC points and ATT&CK techniques of
/// CVE-2023-22515, each with a source and a date.
#[test]
fn show_shared_sample_confluence() {
    let Some(shared) = std::env::var_os("CTEM_SHARED").map(PathBuf::from) else {
        eprintln!("show_shared_sample_confluence: skipped, CTEM_SHARED is not set");
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let cache = home.path().join("cache");
    let imported = import_into(home.path(), &cache, &shared.join("intel"));
    assert!(
        imported.status.success(),
        "{}",
        String::from_utf8_lossy(&imported.stderr)
    );

    let cache_arg = cache.to_str().unwrap();
    let output = show(
        home.path(),
        &["CVE-2023-22515", "--format", "json", "--intel-cache", cache_arg],
    );
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let facts: Value = serde_json::from_slice(&output.stdout).unwrap();
    let facts = &facts[0];

    assert_eq!(facts["kev"]["value"]["date_added"], "2023-10-05");
    assert_eq!(facts["kev"]["source"]["kind"], "kev");
    let scores: Vec<f64> = facts["cvss"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["value"]["score"].as_f64().unwrap())
        .collect();
    assert!(scores.contains(&10.0), "{scores:?}");
    assert!(scores.contains(&9.8), "{scores:?}");
    assert_eq!(facts["cwes"][0]["value"], 20, "CWE-20");
    assert_eq!(facts["ssvc"][0]["value"]["exploitation"], "active");
    assert_eq!(facts["ssvc"][0]["source"]["author"], "CISA-ADP");
    let techniques: Vec<&str> = facts["techniques"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["value"]["id"].as_str().unwrap())
        .collect();
    assert!(techniques.contains(&"T1190"), "{techniques:?}");
    for fact in [
        &facts["kev"],
        &facts["cvss"][0],
        &facts["cwes"][0],
        &facts["ssvc"][0],
        &facts["techniques"][0],
    ] {
        assert!(fact["source"]["date"].is_string(), "undated: {fact}");
        assert!(fact["source"]["path"].is_string(), "no path: {fact}");
    }
}

#[test]
fn import_output_escapes_control_characters() {
    let home = tempfile::tempdir().unwrap();
    let feeds = home.path().join("feeds");
    fs::create_dir(&feeds).unwrap();
    fs::copy(
        intel_fixture("kev/catalog.json"),
        feeds.join("evil\u{1b}[31mRED\nfake: imported.json"),
    )
    .unwrap();

    let output = import_into(home.path(), &home.path().join("cache"), &feeds);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let text = stdout(&output);
    assert!(!text.contains('\u{1b}'), "{text:?}");
    assert!(!text.lines().any(|line| line.starts_with("fake:")), "{text:?}");
    assert!(text.contains("evil?[31mRED?fake: imported.json"), "{text:?}");
}

#[test]
fn status_into_a_closed_pipe_ends_quietly() {
    use std::process::Stdio;

    let home = tempfile::tempdir().unwrap();
    let cache = home.path().join("cache");
    let imported = import_into(home.path(), &cache, &intel_fixture("kev/catalog.json"));
    assert!(imported.status.success());

    let mut child = ctem(home.path())
        .args(["intel", "status", "--intel-cache"])
        .arg(&cache)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Close the pipe before the process writes, as a reader that stopped
    // early (`head -1`) leaves it.
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!String::from_utf8_lossy(&output.stderr).contains("panicked"));
}

#[test]
fn missing_intel_folder_names_the_os_error_once() {
    let home = tempfile::tempdir().unwrap();
    let missing = home.path().join("missing");
    let output = show(home.path(), &["CVE-2023-22515", "--intel", missing.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    let error = String::from_utf8_lossy(&output.stderr);
    assert_eq!(error.matches("os error 2").count(), 1, "{error}");
    assert!(error.contains("cannot load intelligence from"), "{error}");
}

/// Two EPSS days imported into the cache: CVE-2025-0001 at 0.9 on
/// 2025-03-01, then 0.1 on 2025-03-20. Scoring uses the 30-day maximum,
/// and `intel show` names it beside the latest score.
#[test]
fn show_names_recent_epss_maximum() {
    let home = tempfile::tempdir().unwrap();
    let cache = home.path().join("cache");
    for (day, score) in [("2025-03-01", "0.90000"), ("2025-03-20", "0.10000")] {
        let file = home.path().join(format!("epss-{day}.csv"));
        fs::write(
            &file,
            format!(
                "#model_version:v2025.03.14,score_date:{day}T00:00:00+0000\ncve,epss,percentile\nCVE-2025-0001,{score},0.50000\n"
            ),
        )
        .unwrap();
        let imported = import_into(home.path(), &cache, &file);
        assert!(
            imported.status.success(),
            "{}",
            String::from_utf8_lossy(&imported.stderr)
        );
    }

    let cache_arg = cache.to_str().unwrap();
    let text = stdout(&show(home.path(), &["CVE-2025-0001", "--intel-cache", cache_arg]));
    assert!(text.contains("EPSS: 0.10000"), "{text}");
    assert!(
        text.contains("EPSS 30-day maximum: 0.90000 on 2025-03-01, the probability that scoring uses"),
        "{text}"
    );
    let output = show(
        home.path(),
        &["CVE-2025-0001", "--format", "json", "--intel-cache", cache_arg],
    );
    let facts: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(facts[0]["epss_recent_maximum"]["epss"], 0.9);
    assert_eq!(facts[0]["epss_recent_maximum"]["date"], "2025-03-01");
}

/// Imports EPSS days of 2025-01-01, 2025-03-01 and 2025-03-20 and prunes
/// the history to 30 days before the newest: the January day goes.
#[test]
fn prune_deletes_old_epss_days() {
    let home = tempfile::tempdir().unwrap();
    let cache = home.path().join("cache");
    for day in ["2025-01-01", "2025-03-01", "2025-03-20"] {
        let file = home.path().join(format!("epss-{day}.csv"));
        fs::write(
            &file,
            format!(
                "#model_version:v2025.03.14,score_date:{day}T00:00:00+0000\ncve,epss,percentile\nCVE-2025-0001,0.10000,0.50000\n"
            ),
        )
        .unwrap();
        assert!(import_into(home.path(), &cache, &file).status.success());
    }
    let history = cache.join("epss/history");
    let prune = |extra: &[&str]| {
        ctem(home.path())
            .args(["intel", "prune", "--intel-cache"])
            .arg(&cache)
            .args(extra)
            .output()
            .unwrap()
    };

    let too_short = prune(&["--epss-days", "10"]);
    assert!(!too_short.status.success());
    let error = String::from_utf8_lossy(&too_short.stderr);
    assert!(error.contains("cannot keep 10 days of EPSS history"), "{error}");
    assert!(!prune(&["--epss-days", "many"]).status.success());

    let dry = stdout(&prune(&["--epss-days", "30", "--dry-run"]));
    assert!(
        dry.contains("Would delete 1 EPSS history file(s) of 2025-01-01 to 2025-01-01"),
        "{dry}"
    );
    assert!(history.join("epss_scores-2025-01-01.csv").is_file());

    let done = stdout(&prune(&["--epss-days", "30"]));
    assert!(done.contains("Deleted 2025-01-01:"), "{done}");
    assert!(!history.join("epss_scores-2025-01-01.csv").exists());
    assert!(history.join("epss_scores-2025-03-01.csv").is_file());
    let again = stdout(&prune(&["--epss-days", "30"]));
    assert!(
        again.contains("No EPSS history day is more than 30 days before the newest day."),
        "{again}"
    );
}
