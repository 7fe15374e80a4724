//! A month of runs, end to end through the command line. Five weekly
//! `ctem assess --at` runs cover two images scanned by Trivy and Grype.
//! They bring fixes, a reintroduction, a risk acceptance that ends, one CVE
//! from two tools and a CVE published between two runs. Every metric that
//! `ctem metrics` prints is asserted against a value worked out by hand.

mod common;

use common::ctem;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

const PAYMENTS: &str = "acme/payments:1.0";
const BLOG: &str = "acme/blog:2.0";
const LOG4J: &str = "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1";
const CRITICAL_VECTOR: &str = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H";
const AVAILABILITY_VECTOR: &str = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H";
const LOCAL_VECTOR: &str = "CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N";

/// The scan times: Mondays at 08:00 UTC.
const RUNS: [&str; 5] = [
    "2026-11-02T08:00:00Z",
    "2026-11-09T08:00:00Z",
    "2026-11-16T08:00:00Z",
    "2026-11-23T08:00:00Z",
    "2026-11-30T08:00:00Z",
];
const NOW: &str = "2026-12-01T00:00:00Z";

fn run_ok(command: &mut Command) -> Output {
    let output = command.output().expect("ctem runs");
    assert!(
        output.status.success(),
        "ctem failed\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn json_of(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).expect("JSON output")
}

fn trivy_vulnerability(id: &str, purl: &str, name: &str, version: &str, severity: &str, vector: &str) -> Value {
    json!({
        "VulnerabilityID": id,
        "PkgName": name,
        "PkgIdentifier": {"PURL": purl},
        "InstalledVersion": version,
        "Severity": severity,
        "Title": format!("{name}: {id}"),
        "CVSS": {"nvd": {"V3Vector": vector}}
    })
}

fn trivy(image: &str, vulnerabilities: Vec<Value>) -> Value {
    json!({
        "SchemaVersion": 2,
        "ArtifactName": image,
        "ArtifactType": "container_image",
        "Results": [{"Target": "app", "Class": "lang-pkgs", "Type": "jar", "Vulnerabilities": vulnerabilities}]
    })
}

fn grype(image: &str, matches: Vec<Value>) -> Value {
    json!({
        "matches": matches,
        "source": {"type": "image", "target": {"userInput": image}},
        "descriptor": {"name": "grype", "version": "0.74.0"}
    })
}

/// The five weaknesses of the scenario:
/// - A: Log4Shell in the payments image, reported by Trivy (as the CVE)
///   and by Grype (as the GHSA advisory related to the CVE);
/// - B: jackson-databind in the payments image;
/// - C: zlib-sync in the blog image;
/// - D: a flaw in http2-server in the blog image;
/// - E: a CVE in the same http2-server, published on 2026-11-25.
struct Weaknesses {
    a: Value,
    a_grype: Value,
    b: Value,
    c: Value,
    d: Value,
    e: Value,
}

fn weaknesses() -> Weaknesses {
    let http2 = "pkg:npm/http2-server@2.0.0";
    Weaknesses {
        a: trivy_vulnerability(
            "CVE-2021-44228",
            LOG4J,
            "org.apache.logging.log4j:log4j-core",
            "2.14.1",
            "CRITICAL",
            CRITICAL_VECTOR,
        ),
        a_grype: json!({
            "vulnerability": {
                "id": "GHSA-jfh8-c2jp-5v3q",
                "severity": "Critical",
                "cvss": [{"version": "3.1", "vector": CRITICAL_VECTOR}]
            },
            "relatedVulnerabilities": [{"id": "CVE-2021-44228"}],
            "artifact": {
                "name": "log4j-core",
                "version": "2.14.1",
                "type": "java-archive",
                "purl": LOG4J,
                "locations": [{"path": "/app/lib/log4j-core-2.14.1.jar"}]
            }
        }),
        b: trivy_vulnerability(
            "CVE-2022-42003",
            "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.13.3",
            "com.fasterxml.jackson.core:jackson-databind",
            "2.13.3",
            "HIGH",
            AVAILABILITY_VECTOR,
        ),
        c: trivy_vulnerability(
            "CVE-2022-37434",
            "pkg:npm/zlib-sync@1.2.11",
            "zlib-sync",
            "1.2.11",
            "CRITICAL",
            CRITICAL_VECTOR,
        ),
        d: trivy_vulnerability(
            "CVE-2023-44487",
            http2,
            "http2-server",
            "2.0.0",
            "HIGH",
            AVAILABILITY_VECTOR,
        ),
        e: trivy_vulnerability("CVE-2026-41234", http2, "http2-server", "2.0.0", "LOW", LOCAL_VECTOR),
    }
}

const CONFIG: &str = r#"
[[crown_jewels]]
name = "Payments service"
match = { kind = "container_image", name = "acme/payments*" }

[[owners]]
owner = "payments-team"
match = { kind = "container_image", name = "acme/payments*" }

[[owners]]
owner = "web-team"
match = { kind = "container_image", name = "acme/blog*" }

[sla]
P3 = 20

[sla.criticality.crown_jewel]
P2 = 14
P3 = 30
"#;

/// Builds a CVE record that publishes E on 2026-11-25.
fn cve_record() -> Value {
    let org = "8254265b-2729-46b6-b9e3-3dfca2d5bfca";
    json!({
        "dataType": "CVE_RECORD",
        "dataVersion": "5.1",
        "cveMetadata": {
            "cveId": "CVE-2026-41234",
            "assignerOrgId": org,
            "state": "PUBLISHED",
            "datePublished": "2026-11-25T00:00:00.000Z"
        },
        "containers": {"cna": {
            "providerMetadata": {"orgId": org},
            "descriptions": [{"lang": "en", "value": "A flaw in http2-server."}],
            "affected": [{"vendor": "acme", "product": "http2-server",
                          "versions": [{"version": "2.0.0", "status": "affected"}]}],
            "references": [{"url": "https://example.org/advisory"}]
        }}
    })
}

/// Builds a KEV catalog that lists Log4Shell (A), so that the SSVC
/// deployer decision rates A's exploitation active: out-of-cycle (P2) on
/// the crown jewel.
fn kev_catalog() -> Value {
    json!({
        "catalogVersion": "2026.11.01",
        "dateReleased": "2026-11-01T00:00:00.000Z",
        "count": 1,
        "vulnerabilities": [{
            "cveID": "CVE-2021-44228",
            "vendorProject": "Apache",
            "product": "Log4j2",
            "vulnerabilityName": "Apache Log4j2 Remote Code Execution Vulnerability",
            "dateAdded": "2021-12-10",
            "dueDate": "2021-12-24",
            "knownRansomwareCampaignUse": "Known"
        }]
    })
}

struct Scenario {
    _temp: tempfile::TempDir,
    dir: PathBuf,
    db: PathBuf,
}

impl Scenario {
    fn new() -> Scenario {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path().to_path_buf();
        std::fs::write(dir.join("ctem.toml"), CONFIG).unwrap();
        std::fs::create_dir_all(dir.join("intel")).unwrap();
        write_json(&dir.join("intel/CVE-2026-41234.json"), &cve_record());
        write_json(&dir.join("intel/known_exploited_vulnerabilities.json"), &kev_catalog());
        let db = dir.join("ctem.db");
        Scenario { _temp: temp, dir, db }
    }

    /// Writes the reports of one run into their own folder and assesses
    /// them at `at`.
    fn assess(&self, name: &str, at: &str, reports: &[(&str, Value)]) -> Value {
        let folder = self.dir.join(name);
        std::fs::create_dir_all(&folder).unwrap();
        for (file, report) in reports {
            write_json(&folder.join(format!("{file}.json")), report);
        }
        let output = run_ok(
            ctem()
                .arg("assess")
                .arg(&folder)
                .arg("--config")
                .arg(self.dir.join("ctem.toml"))
                .arg("--intel")
                .arg(self.dir.join("intel"))
                .arg("--db")
                .arg(&self.db)
                .args(["--at", at, "--format", "json"]),
        );
        json_of(&output)["run"].clone()
    }

    fn ctem(&self, args: &[&str]) -> Value {
        json_of(&run_ok(ctem().args(args).arg("--db").arg(&self.db)))
    }

    fn findings(&self) -> Vec<Value> {
        self.ctem(&["findings", "--all", "--format", "json"])
            .as_array()
            .unwrap()
            .clone()
    }

    fn metrics(&self, extra: &[&str]) -> Value {
        let config = self.dir.join("ctem.toml");
        let mut args = vec![
            "metrics",
            "--config",
            config.to_str().unwrap(),
            "--now",
            NOW,
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        self.ctem(&args)
    }
}

fn write_json(path: &Path, value: &Value) {
    std::fs::write(path, serde_json::to_vec_pretty(value).unwrap()).unwrap();
}

fn by_rule<'f>(findings: &'f [Value], rule: &str) -> &'f Value {
    findings
        .iter()
        .find(|finding| finding["rule_id"] == rule)
        .unwrap_or_else(|| panic!("no finding of {rule}"))
}

/// Returns the lifecycle counts of a run: seen, new, still open, reopened, fixed.
fn counts(run: &Value) -> [u64; 5] {
    ["seen", "new", "still_open", "reopened", "fixed"].map(|field| run[field].as_u64().unwrap())
}

fn assert_close(actual: &Value, expected: f64, what: &str) {
    let actual = actual
        .as_f64()
        .unwrap_or_else(|| panic!("{what} is {actual}, not a number"));
    assert!((actual - expected).abs() < 1e-9, "{what}: {actual} != {expected}");
}

/// Runs the whole month and returns the scenario with its database.
fn month() -> Scenario {
    let s = Scenario::new();
    let w = weaknesses();

    // Run 1: A (by both tools), B, C and D are new.
    let run = s.assess(
        "run1",
        RUNS[0],
        &[
            ("trivy-payments", trivy(PAYMENTS, vec![w.a.clone(), w.b.clone()])),
            ("grype-payments", grype(PAYMENTS, vec![w.a_grype.clone()])),
            ("trivy-blog", trivy(BLOG, vec![w.c.clone(), w.d.clone()])),
        ],
    );
    assert_eq!(counts(&run), [4, 4, 0, 0, 0], "run 1");

    // Run 2: D is fixed.
    let run = s.assess(
        "run2",
        RUNS[1],
        &[
            ("trivy-payments", trivy(PAYMENTS, vec![w.a.clone(), w.b.clone()])),
            ("grype-payments", grype(PAYMENTS, vec![w.a_grype.clone()])),
            ("trivy-blog", trivy(BLOG, vec![w.c.clone()])),
        ],
    );
    assert_eq!(counts(&run), [3, 0, 3, 0, 1], "run 2");

    // Between runs 2 and 3 the risk of C is accepted until 2026-11-20.
    let c = by_rule(&s.findings(), "CVE-2022-37434")["fingerprint"]
        .as_str()
        .unwrap()
        .to_string();
    let triage = s.ctem(&[
        "triage",
        &c,
        "--status",
        "risk-accepted",
        "--approver",
        "ciso",
        "--expires",
        "2026-11-20T00:00:00Z",
        "--reason",
        "The blog holds no customer data",
        "--actor",
        "alice",
        "--at",
        "2026-11-10T09:00:00Z",
        "--format",
        "json",
    ]);
    assert!(triage.to_string().contains("risk_accepted"), "{triage}");

    // Run 3: Trivy no longer reports A, but Grype did not rescan, so A stays
    // open; D is back (reopened); C stays accepted.
    let run = s.assess(
        "run3",
        RUNS[2],
        &[
            ("trivy-payments", trivy(PAYMENTS, vec![w.b.clone()])),
            ("trivy-blog", trivy(BLOG, vec![w.c.clone(), w.d.clone()])),
        ],
    );
    assert_eq!(counts(&run), [3, 0, 2, 1, 0], "run 3");

    // Run 4: Grype no longer reports A either: fixed. C's acceptance ended on
    // 2026-11-20, so the run reopens it.
    let run = s.assess(
        "run4",
        RUNS[3],
        &[
            ("trivy-payments", trivy(PAYMENTS, vec![w.b.clone()])),
            ("grype-payments", grype(PAYMENTS, vec![])),
            ("trivy-blog", trivy(BLOG, vec![w.c.clone(), w.d.clone()])),
        ],
    );
    assert_eq!(counts(&run), [3, 0, 3, 0, 1], "run 4");

    // Run 5: B is fixed; E, published on 2026-11-25, is new.
    let run = s.assess(
        "run5",
        RUNS[4],
        &[
            ("trivy-payments", trivy(PAYMENTS, vec![])),
            ("trivy-blog", trivy(BLOG, vec![w.c.clone(), w.d.clone(), w.e.clone()])),
        ],
    );
    assert_eq!(counts(&run), [3, 1, 2, 0, 1], "run 5");
    s
}

#[test]
fn month_of_runs_gives_hand_computed_metrics() {
    let s = month();
    let findings = s.findings();
    assert_eq!(findings.len(), 5, "A is one finding with two sources");

    // The stored state of each finding, and the tiers and scores that the
    // metrics below depend on.
    let a = by_rule(&findings, "CVE-2021-44228");
    let b = by_rule(&findings, "CVE-2022-42003");
    let c = by_rule(&findings, "CVE-2022-37434");
    let d = by_rule(&findings, "CVE-2023-44487");
    let e = by_rule(&findings, "CVE-2026-41234");
    assert_eq!(a["tools"], json!(["grype", "trivy"]));
    let state = |finding: &Value| {
        (
            finding["status"].as_str().unwrap().to_string(),
            finding["tier"].as_str().unwrap().to_string(),
        )
    };
    assert_eq!(state(a), ("fixed".into(), "P2".into()));
    assert_eq!(state(b), ("fixed".into(), "P3".into()));
    assert_eq!(state(c), ("open".into(), "P3".into()));
    assert_eq!(state(d), ("open".into(), "P3".into()));
    assert_eq!(state(e), ("new".into(), "P4".into()));
    assert_eq!(a["verified_at"], RUNS[3]);
    assert_eq!(b["verified_at"], RUNS[4]);
    assert_eq!(e["introduced_at"], "2026-11-25T00:00:00Z");
    let score = |finding: &Value| finding["score"].as_f64().unwrap();
    let (sa, sb, sc, sd, se) = (score(a), score(b), score(c), score(d), score(e));

    let metrics = s.metrics(&["--by", "team"]);

    // Coverage: both images and their four components were assessed by
    // run 5, inside the 30-day window.
    assert_eq!(
        metrics["coverage"]["total"],
        json!({"assets": 6, "assessed": 6, "share": 1.0})
    );
    assert_eq!(metrics["coverage"]["never_assessed"], json!([]));

    // MTTD: A to D were detected when their components appeared (0 days);
    // E was published 2026-11-25T00:00 and detected 2026-11-30T08:00,
    // 5 days 8 hours = 5.3333 days. Mean 5.3333 / 5, median 0.
    assert_eq!(metrics["mttd"]["count"], 5);
    assert_close(&metrics["mttd"]["mean_days"], (5.0 + 8.0 / 24.0) / 5.0, "MTTD mean");
    assert_close(&metrics["mttd"]["median_days"], 0.0, "MTTD median");

    // MTTR: A from 11-02T08 to 11-23T08, 21 days; B from 11-02T08 to
    // 11-30T08, 28 days. D's fix did not hold (reopened), so it does not
    // count. Mean and median 24.5.
    let mttr = &metrics["mttr"];
    assert_eq!(
        mttr["overall"],
        json!({"count": 2, "mean_days": 24.5, "median_days": 24.5})
    );
    let group = |list: &Value, name: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|g| g["group"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(group(&mttr["by_tier"], "P2")["mean_days"], 21.0);
    assert_eq!(group(&mttr["by_tier"], "P3")["mean_days"], 28.0);
    assert_eq!(group(&mttr["by_tier"], "P1")["mean_days"], Value::Null);
    assert_eq!(group(&mttr["by_severity"], "critical")["mean_days"], 21.0);
    assert_eq!(group(&mttr["by_severity"], "high")["mean_days"], 28.0);
    assert_eq!(group(&mttr["by_criticality"], "crown_jewel")["count"], 2);
    assert_eq!(group(&mttr["by_team"], "payments-team")["mean_days"], 24.5);

    // SLA: A is P2 on a crown jewel, 14 days: due 11-16T08, fixed 11-23T08,
    // 7 days late. B is P3 on a crown jewel, 30 days: due 12-02T08, fixed
    // 11-30T08, met. C and D are P3 on the blog, 20 days: due 11-22T08 and
    // open at 12-01T00, 8 days 16 hours overdue. E is not due before 2027.
    // Met 1, missed 3.
    let sla = &metrics["sla"];
    assert_eq!(sla["met"], 1);
    assert_eq!(sla["missed"], 3);
    assert_eq!(sla["share"], 0.25);
    assert_eq!(sla["overdue"], 2);
    assert_eq!(sla["fixed_late"], 1);
    let breaches: Vec<(String, String, f64)> = sla["breaches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|breach| {
            (
                breach["state"].as_str().unwrap().to_string(),
                breach["due"].as_str().unwrap().to_string(),
                breach["days_overdue"].as_f64().unwrap(),
            )
        })
        .collect();
    let overdue = 8.0 + 16.0 / 24.0;
    assert_eq!(breaches.len(), 3);
    for breach in &breaches[..2] {
        assert_eq!(
            (breach.0.as_str(), breach.1.as_str()),
            ("overdue", "2026-11-22T08:00:00Z")
        );
        assert!((breach.2 - overdue).abs() < 1e-9, "{breach:?}");
    }
    assert_eq!(
        breaches[2],
        ("fixed_late".to_string(), "2026-11-16T08:00:00Z".to_string(), 7.0)
    );

    // Backlog at 12-01T00: C and D are 28 days old (8-30), E 0 days (0-7).
    let backlog = &metrics["backlog"]["total"];
    assert_eq!(backlog["days_0_to_7"], 1);
    assert_eq!(backlog["days_8_to_30"], 2);
    assert_eq!(backlog["total"], 3);

    // Trends: which findings are active after each run, and the sums of
    // their scores.
    // run 1: A B C D | run 2: A B C (D fixed) | run 3: A B D (C accepted,
    // D reopened) | run 4: B C D (A fixed, C's acceptance ended) | run 5:
    // C D E (B fixed, E new). A and B are on the crown jewel.
    let runs = metrics["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 5);
    let expected = [
        // open, by tier, new, reopened, fixed, accepted, risk, crown open, crown risk
        (4, [0, 1, 3, 0], 4, 0, 0, 0, sa + sb + sc + sd, 2, sa + sb),
        (3, [0, 1, 2, 0], 0, 0, 1, 0, sa + sb + sc, 2, sa + sb),
        (3, [0, 1, 2, 0], 0, 1, 0, 1, sa + sb + sd, 2, sa + sb),
        (3, [0, 0, 3, 0], 0, 0, 1, 0, sb + sc + sd, 1, sb),
        (3, [0, 0, 2, 1], 1, 0, 1, 0, sc + sd + se, 0, 0.0),
    ];
    for (index, (run, want)) in runs.iter().zip(expected).enumerate() {
        let what = format!("run {}", index + 1);
        assert_eq!(run["observed_at"], RUNS[index], "{what}");
        assert_eq!(run["open"], want.0, "{what}");
        assert_eq!(run["open_by_tier"], json!(want.1), "{what}");
        assert_eq!(run["new"], want.2, "{what}");
        assert_eq!(run["reopened"], want.3, "{what}");
        assert_eq!(run["fixed"], want.4, "{what}");
        assert_eq!(run["accepted"], want.5, "{what}");
        assert_close(&run["risk"], want.6, &format!("{what} risk"));
        assert_eq!(run["crown_jewel_open"], want.7, "{what}");
        assert_close(&run["crown_jewel_risk"], want.8, &format!("{what} crown jewel risk"));
    }

    // By team: payments met B and missed A; the web team missed C and D
    // and has C, D and E open.
    let groups = metrics["groups"]["groups"].as_array().unwrap();
    let payments = groups.iter().find(|g| g["group"] == "payments-team").unwrap();
    let web = groups.iter().find(|g| g["group"] == "web-team").unwrap();
    assert_eq!(payments["open"], 0);
    assert_eq!(payments["sla"], json!({"met": 1, "missed": 1, "share": 0.5}));
    assert_eq!(web["open"], 3);
    assert_eq!(web["sla"], json!({"met": 0, "missed": 2, "share": 0.0}));
    assert_eq!(web["mttr"]["count"], 0);

    // Since 2026-11-20: MTTD counts only E; MTTR counts both fixes
    // (confirmed 11-23 and 11-30); the trend has runs 4 and 5.
    let recent = s.metrics(&["--since", "2026-11-20"]);
    assert_eq!(recent["mttd"]["count"], 1);
    assert_close(&recent["mttd"]["mean_days"], 5.0 + 8.0 / 24.0, "recent MTTD");
    assert_eq!(recent["mttr"]["overall"]["count"], 2);
    assert_eq!(recent["runs"].as_array().unwrap().len(), 2);
}

#[test]
fn finding_history_tells_what_happened() {
    let s = month();
    let findings = s.findings();
    let history = |rule: &str| -> Vec<(String, String)> {
        let fingerprint = by_rule(&findings, rule)["fingerprint"].as_str().unwrap().to_string();
        let shown = s.ctem(&["finding", &fingerprint, "--format", "json"]);
        shown["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|entry| {
                (
                    entry["cause"].as_str().unwrap().to_string(),
                    entry["status"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
        list.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    };
    assert_eq!(
        history("CVE-2021-44228"),
        pairs(&[("run", "new"), ("merge", "new"), ("run", "open"), ("run", "fixed")])
    );
    assert_eq!(
        history("CVE-2022-37434"),
        pairs(&[
            ("run", "new"),
            ("run", "open"),
            ("triage", "risk_accepted"),
            ("expiry", "reopened"),
            ("run", "open")
        ])
    );
    assert_eq!(
        history("CVE-2023-44487"),
        pairs(&[("run", "new"), ("run", "fixed"), ("run", "reopened"), ("run", "open")])
    );
}

#[test]
fn identical_rerun_changes_nothing() {
    let s = month();
    let w = weaknesses();
    let rerun = |name: &str, at: &str| {
        s.assess(
            name,
            at,
            &[
                ("trivy-payments", trivy(PAYMENTS, vec![])),
                ("trivy-blog", trivy(BLOG, vec![w.c.clone(), w.d.clone(), w.e.clone()])),
            ],
        )
    };
    let histories = |findings: &[Value]| -> Vec<usize> {
        findings
            .iter()
            .map(|finding| {
                let shown = s.ctem(&["finding", finding["fingerprint"].as_str().unwrap(), "--format", "json"]);
                shown["history"].as_array().unwrap().len()
            })
            .collect()
    };

    // The reports of run 5 again, an hour later: nothing is created,
    // fixed or reopened. E, new in run 5, is now seen a second time: open.
    let run = rerun("rerun1", "2026-11-30T09:00:00Z");
    assert_eq!(counts(&run), [3, 0, 3, 0, 0]);
    let before = s.findings();
    assert_eq!(by_rule(&before, "CVE-2026-41234")["status"], "open");
    let history_before = histories(&before);

    // And again: not even a status or a history entry changes.
    for (name, at) in [("rerun2", "2026-11-30T10:00:00Z"), ("rerun3", "2026-11-30T11:00:00Z")] {
        let run = rerun(name, at);
        assert_eq!(counts(&run), [3, 0, 3, 0, 0], "{name}");
    }
    let after = s.findings();
    assert_eq!(after.len(), before.len());
    for (old, new) in before.iter().zip(&after) {
        assert_eq!(old["fingerprint"], new["fingerprint"]);
        assert_eq!(old["status"], new["status"]);
        assert_eq!(old["first_seen"], new["first_seen"]);
    }
    assert_eq!(histories(&after), history_before);
}

#[test]
fn concurrent_runs_without_at_all_record() {
    let s = Scenario::new();
    let w = weaknesses();
    let folder = s.dir.join("now");
    std::fs::create_dir_all(&folder).unwrap();
    write_json(
        &folder.join("trivy-blog.json"),
        &trivy(BLOG, vec![w.c.clone(), w.d.clone()]),
    );
    // Without --at each run takes its time once it holds the write lock,
    // so a run that waited for another one is never older than it.
    let children: Vec<_> = (0..4)
        .map(|_| {
            ctem()
                .arg("assess")
                .arg(&folder)
                .arg("--db")
                .arg(&s.db)
                .args(["--top", "0"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    }
    let store = ctem_store::Store::open(&s.db).unwrap();
    let runs = store.runs().unwrap();
    assert_eq!(runs.len(), 4);
    assert_eq!(runs.iter().map(|run| run.summary.new).sum::<u64>(), 2);
}

#[test]
fn findings_table_keeps_fingerprints_whole() {
    let s = month();
    let table = run_ok(ctem().args(["findings", "--all", "--db"]).arg(&s.db));
    let text = String::from_utf8(table.stdout).unwrap();
    for finding in s.findings() {
        let fingerprint = finding["fingerprint"].as_str().unwrap();
        assert!(text.contains(fingerprint), "{fingerprint} is not whole in\n{text}");
    }
}
