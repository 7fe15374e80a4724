//! End-to-end tests of `ctem paths` and the attack paths of `ctem assess`
//! on the example environment, whose AWS inventory puts the shop front
//! on the internet with a role that reads the payment exports, and lets
//! it reach the payments database.

mod common;

use common::{ctem, example_dir};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn run(command: &mut Command) -> Output {
    let output = command.output().expect("ctem runs");
    if !output.status.success() {
        eprintln!("stdout:\n{}", String::from_utf8_lossy(&output.stdout));
        eprintln!("stderr:\n{}", String::from_utf8_lossy(&output.stderr));
    }
    output
}

fn paths(extra: &[&str]) -> Output {
    run(ctem().arg("paths").arg(example_dir()).args(extra))
}

/// The crown jewels of the JSON output that the internet reaches through a
/// most likely path of at least two steps.
fn multi_step_jewels(json: &Value) -> Vec<&Value> {
    json["crown_jewels"]
        .as_array()
        .expect("crown_jewels is an array")
        .iter()
        .filter(|jewel| {
            jewel["reachable"] == true
                && jewel["most_likely_path"]["steps"]
                    .as_array()
                    .is_some_and(|steps| steps.len() >= 2)
        })
        .collect()
}

#[test]
fn json_shows_multi_step_path() {
    let output = paths(&["--format", "json"]);
    assert_eq!(output.status.code(), Some(0));
    let json: Value = serde_json::from_slice(&output.stdout).expect("the output is JSON");

    assert!(json["graph"]["edges"].as_u64().unwrap() > 0, "{json}");
    let jewels = multi_step_jewels(&json);
    assert!(
        !jewels.is_empty(),
        "no crown jewel with a path of two or more steps: {json:#}"
    );

    let jewel = jewels[0];
    let path = &jewel["most_likely_path"];
    let probability = path["probability"].as_f64().unwrap();
    assert!(probability > 0.0 && probability <= 1.0, "probability {probability}");
    assert_eq!(jewel["probability"], path["probability"]);

    let steps = path["steps"].as_array().unwrap();
    assert_eq!(
        steps[0]["from"]["capability"], "internet",
        "the path starts on the internet"
    );
    for pair in steps.windows(2) {
        assert_eq!(pair[0]["to"], pair[1]["from"], "the steps are not chained");
    }
    // The product of the step probabilities is the path probability.
    let product: f64 = steps.iter().map(|step| step["probability"].as_f64().unwrap()).product();
    assert!((product - probability).abs() < 1e-6, "{product} vs {probability}");
    for step in steps {
        for field in ["kind", "technique", "probability", "evidence", "enabled_by"] {
            assert!(step.get(field).is_some(), "{field} missing in {step}");
        }
    }
    assert!(
        steps
            .iter()
            .any(|step| !step["enabled_by"].as_array().unwrap().is_empty()),
        "no step names the finding or configuration that enables it: {path:#}"
    );

    let paths = jewel["paths"].as_array().unwrap();
    assert!(!paths.is_empty() && paths.len() <= 3, "{} paths", paths.len());
    assert_eq!(paths[0]["probability"], path["probability"]);
    let fix_set = &jewel["fix_set"];
    assert!(!fix_set["fixes"].as_array().unwrap().is_empty(), "{fix_set}");
    assert!(fix_set["cost"].as_f64().unwrap() > 0.0, "{fix_set}");
}

#[test]
fn table_shows_path_and_probability() {
    let output = paths(&[]);
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("Attack graph: "), "{stdout}");
    assert!(stdout.contains("Reachable from the internet: yes"), "{stdout}");
    assert!(stdout.contains("Most likely path: probability 0."), "{stdout}");
    assert!(stdout.contains("Minimal fix set: "), "{stdout}");
    assert!(stdout.contains("Choke points"), "{stdout}");

    // At least one crown jewel's most likely path has two or more steps,
    // and its table numbers them.
    let step_counts: Vec<usize> = stdout
        .lines()
        .filter_map(|line| {
            let (_, rest) = line.split_once("Most likely path: probability ")?;
            let (_, steps) = rest.split_once(", ")?;
            steps.strip_suffix(" step(s).")?.parse().ok()
        })
        .collect();
    assert!(
        step_counts.iter().any(|&count| count >= 2),
        "no path of two or more steps: {step_counts:?}\n{stdout}"
    );
    let second_step = stdout
        .lines()
        .any(|line| line.trim_start_matches('│').trim_start().starts_with("2 "));
    assert!(second_step, "no table row for a second step:\n{stdout}");
}

#[test]
fn k_limits_path_count() {
    let output = paths(&["--format", "json", "-k", "1"]);
    assert_eq!(output.status.code(), Some(0));
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    for jewel in json["crown_jewels"].as_array().unwrap() {
        assert!(jewel["paths"].as_array().unwrap().len() <= 1, "{jewel}");
    }
}

#[test]
fn to_selects_one_crown_jewel() {
    let all = paths(&["--format", "json"]);
    let all: Value = serde_json::from_slice(&all.stdout).unwrap();
    let jewel = multi_step_jewels(&all)[0].clone();
    let key = jewel["asset"].as_str().unwrap();

    let output = paths(&["--format", "json", "--to", key]);
    assert_eq!(output.status.code(), Some(0));
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    let selected = json["crown_jewels"].as_array().unwrap();
    assert_eq!(selected.len(), 1, "{json}");
    assert_eq!(selected[0]["asset"], key);
}

#[test]
fn to_unknown_lists_crown_jewels() {
    let output = paths(&["--to", "Payroll"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("unknown crown jewel \"Payroll\""), "{stderr}");
    assert!(
        stderr.contains("Payments database"),
        "the crown jewels are not listed: {stderr}"
    );
    assert!(output.stdout.is_empty());
}

#[test]
fn dot_output_is_digraph() {
    let output = paths(&["--format", "dot"]);
    assert_eq!(output.status.code(), Some(0));
    let dot = String::from_utf8(output.stdout).unwrap();
    assert!(dot.starts_with("digraph "), "{dot}");
    assert!(dot.trim_end().ends_with('}'), "{dot}");

    // Braces balance outside quoted strings, and never close more than
    // they opened.
    let mut depth = 0i32;
    let mut in_string = false;
    let mut escaped = false;
    for c in dot.chars() {
        match (in_string, escaped, c) {
            (true, true, _) => escaped = false,
            (true, false, '\\') => escaped = true,
            (_, _, '"') => in_string = !in_string,
            (false, _, '{') => depth += 1,
            (false, _, '}') => depth -= 1,
            _ => {}
        }
        assert!(depth >= 0, "a brace closes before it opens: {dot}");
    }
    assert_eq!(depth, 0, "{dot}");
    assert!(!in_string, "an unterminated string: {dot}");
    assert!(dot.contains(" -> "), "no edge: {dot}");
    assert!(dot.matches(" -> ").count() >= 2, "fewer than two edges: {dot}");
}

#[test]
fn assess_report_has_attack_paths() {
    let temp = tempfile::tempdir().unwrap();
    let report = temp.path().join("report.html");
    let output = run(ctem()
        .arg("assess")
        .arg(example_dir())
        .arg("--db")
        .arg(temp.path().join("ctem.db"))
        .args(["--format", "json", "--report"])
        .arg(&report));
    assert_eq!(output.status.code(), Some(0));

    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(
        !multi_step_jewels(&json["attack_paths"]).is_empty(),
        "no multi-step path in the assess JSON: {:#}",
        json["attack_paths"]
    );

    let html = std::fs::read_to_string(&report).unwrap();
    let start = html
        .find("<section id=\"attack-paths\">")
        .expect("no attack paths section");
    let section = &html[start..start + html[start..].find("</section>").unwrap()];
    assert!(section.contains("<h2>Attack paths</h2>"), "{section}");
    assert!(section.contains("(most likely): probability "), "{section}");
    assert!(section.contains("Minimal fix set: "), "{section}");
    assert!(
        html.contains("An attacker on the internet can reach"),
        "no summary sentence"
    );
}

/// Runs `ctem paths` on the example's scans with a configuration that
/// names no crown jewel.
fn paths_without_crown_jewel(format: &str) -> Output {
    let temp = tempfile::tempdir().unwrap();
    let config = temp.path().join("ctem.toml");
    std::fs::write(&config, "[controls]\nwaf = 0.5\n").unwrap();
    run(ctem()
        .arg("paths")
        .arg(example_dir().join("scans"))
        .arg("--config")
        .arg(&config)
        .args(["--format", format]))
}

#[test]
fn no_crown_jewel_skips_paths() {
    let output = paths_without_crown_jewel("json");
    assert_eq!(output.status.code(), Some(0));
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["crown_jewels"], serde_json::json!([]));
    assert_eq!(json["graph"], Value::Null);
}

#[test]
fn invalid_control_names_field() {
    let temp = tempfile::tempdir().unwrap();
    let config = temp.path().join("ctem.toml");
    std::fs::write(&config, "[controls]\nsegmentation = 2\n").unwrap();
    let output = run(ctem().arg("paths").arg(example_dir()).arg("--config").arg(&config));
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("controls.segmentation"), "{stderr}");
    assert!(stderr.contains("(0, 1]"), "{stderr}");
}

/// Writes the example's configuration to `dir`, with its intelligence
/// files named by absolute path and `extra` appended.
fn example_config_in(dir: &Path, extra: &str) -> PathBuf {
    let text = std::fs::read_to_string(example_dir().join("ctem.toml")).unwrap();
    let intel = example_dir().join("intel");
    let text = text.replace("\"intel/", &format!("\"{}/", intel.display()));
    let config = dir.join("ctem.toml");
    std::fs::write(&config, format!("{text}\n{extra}")).unwrap();
    config
}

/// A BloodHound OpenGraph file in which the shop front's instance role
/// has a session of the service account `svc-web`, which administers the
/// payments database host.
const OPENGRAPH: &str = r#"{
  "metadata": {"source_kind": "Base"},
  "graph": {
    "nodes": [
      {"id": "identity:arn:aws:iam::111122223333:role/shop-web", "kinds": ["AWSRole"], "properties": {"name": "shop-web"}},
      {"id": "S-1-5-21-1-1104", "kinds": ["User"], "properties": {"name": "svc-web"}},
      {"id": "host:10.20.0.5", "kinds": ["Computer"], "properties": {"name": "db-pay01.acme.internal"}}
    ],
    "edges": [
      {"kind": "HasSession", "start": {"value": "identity:arn:aws:iam::111122223333:role/shop-web"}, "end": {"value": "S-1-5-21-1-1104"}},
      {"kind": "AdminTo", "start": {"value": "S-1-5-21-1-1104"}, "end": {"value": "host:10.20.0.5"}, "properties": {"probability": 0.9}}
    ]
  }
}"#;

/// Returns the most likely path to the payments database host from the
/// JSON output of `ctem paths`.
fn payments_host_path(json: &Value) -> Value {
    json["crown_jewels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|jewel| jewel["asset"] == "host:10.20.0.5")
        .expect("the payments database host is a crown jewel")["most_likely_path"]
        .clone()
}

#[test]
fn opengraph_edges_join_the_paths() {
    let temp = tempfile::tempdir().unwrap();
    std::fs::write(temp.path().join("ad.json"), OPENGRAPH).unwrap();
    let without = example_config_in(temp.path(), "");
    let before: Value = serde_json::from_slice(
        &run(ctem()
            .arg("paths")
            .arg(example_dir())
            .arg("--config")
            .arg(&without)
            .args(["--format", "json"]))
        .stdout,
    )
    .unwrap();
    let with = example_config_in(temp.path(), "[attack_paths]\nopengraph = [\"ad.json\"]\n");
    let output = run(ctem()
        .arg("paths")
        .arg(example_dir())
        .arg("--config")
        .arg(&with)
        .args(["--format", "json"]));
    assert_eq!(output.status.code(), Some(0));
    let after: Value = serde_json::from_slice(&output.stdout).unwrap();

    let old = payments_host_path(&before);
    let new = payments_host_path(&after);
    let kinds: Vec<&str> = new["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|step| step["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"imported"), "{kinds:?}");
    assert!(
        new["probability"].as_f64().unwrap() > old["probability"].as_f64().unwrap(),
        "{new}\n{old}"
    );
    let last = new["steps"].as_array().unwrap().last().unwrap();
    assert_eq!(last["to"]["asset"], "host:10.20.0.5");
    assert_eq!(last["probability"], 0.9);
}

#[test]
fn opengraph_errors_name_file_and_position() {
    let temp = tempfile::tempdir().unwrap();
    std::fs::write(temp.path().join("ad.json"), &OPENGRAPH[..200]).unwrap();
    let config = example_config_in(temp.path(), "[attack_paths]\nopengraph = [\"ad.json\"]\n");
    let output = run(ctem().arg("paths").arg(example_dir()).arg("--config").arg(&config));
    assert_ne!(output.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("ad.json"), "{stderr}");
    assert!(stderr.contains("line"), "{stderr}");

    let missing = example_config_in(temp.path(), "[attack_paths]\nopengraph = [\"missing.json\"]\n");
    let output = run(ctem().arg("paths").arg(example_dir()).arg("--config").arg(&missing));
    assert_ne!(output.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("missing.json"), "{stderr}");
}

#[test]
fn opengraph_export_reimports() {
    let output = paths(&["--format", "opengraph"]);
    assert_eq!(output.status.code(), Some(0));
    let json: Value = serde_json::from_slice(&output.stdout).expect("the output is JSON");
    let nodes = json["graph"]["nodes"].as_array().unwrap();
    let edges = json["graph"]["edges"].as_array().unwrap();
    assert!(nodes.len() > 10, "{} nodes", nodes.len());
    assert!(edges.len() > 10, "{} edges", edges.len());
    // Every edge names nodes of the file.
    let ids: std::collections::HashSet<&str> = nodes.iter().map(|node| node["id"].as_str().unwrap()).collect();
    for edge in edges {
        assert!(ids.contains(edge["start"]["value"].as_str().unwrap()), "{edge}");
        assert!(ids.contains(edge["end"]["value"].as_str().unwrap()), "{edge}");
    }
}

/// The `--fix` arguments that apply one crown jewel's minimal fix set, as
/// the JSON output lists it.
fn fix_arguments(jewel: &Value) -> Vec<String> {
    jewel["fix_set"]["fixes"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|fix| {
            let selector = match fix["type"].as_str().unwrap() {
                "finding" => fix["fingerprint"].as_str().unwrap(),
                _ => fix["change"].as_str().unwrap(),
            };
            ["--fix".to_string(), selector.to_string()]
        })
        .collect()
}

#[test]
fn fix_set_applied_cuts_every_path() {
    let before: Value = serde_json::from_slice(&paths(&["--format", "json"]).stdout).unwrap();
    for jewel in before["crown_jewels"].as_array().unwrap() {
        assert_eq!(jewel["reachable"], true, "{}", jewel["asset"]);
        let mut arguments = vec!["--format".to_string(), "json".to_string()];
        arguments.extend(fix_arguments(jewel));
        let refs: Vec<&str> = arguments.iter().map(String::as_str).collect();
        let output = paths(&refs);
        assert_eq!(output.status.code(), Some(0));
        let after: Value = serde_json::from_slice(&output.stdout).unwrap();

        let same = after["crown_jewels"]
            .as_array()
            .unwrap()
            .iter()
            .find(|other| other["asset"] == jewel["asset"])
            .unwrap();
        assert_eq!(same["reachable"], false, "{} after {arguments:?}", jewel["asset"]);
        let applied = after["what_if"]["applied"].as_array().unwrap();
        assert_eq!(applied.len(), jewel["fix_set"]["fixes"].as_array().unwrap().len());
        assert_eq!(
            after["what_if"]["reachable_crown_jewels_before"],
            before["exposure"]["reachable_crown_jewels"].as_array().unwrap().len()
        );
    }
}

#[test]
fn fix_by_cve_shows_remaining_exposure() {
    let output = paths(&[
        "--fix",
        "CVE-2021-41773",
        "--fix",
        "cve-2021-34798",
        "--fix",
        "CVE-2021-36160",
    ]);
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.starts_with("What if these 3 fix(es) were applied:"), "{stdout}");
    assert!(
        stdout.contains("Before them: An attacker on the internet can reach 4 of 4"),
        "{stdout}"
    );
    assert!(stdout.contains("Payments database (13% likely)"), "{stdout}");

    let output = paths(&["--fix", "CVE-1999-0001"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("\"CVE-1999-0001\" names no fix"), "{stderr}");
}

#[test]
fn false_positive_triage_removes_its_steps() {
    let temp = tempfile::tempdir().unwrap();
    let db = temp.path().join("ctem.db");
    let assess = |at: &str| -> Value {
        let output = run(ctem()
            .arg("assess")
            .arg(example_dir())
            .arg("--db")
            .arg(&db)
            .args(["--format", "json", "--at", at]));
        assert_eq!(output.status.code(), Some(0));
        serde_json::from_slice(&output.stdout).unwrap()
    };
    let first = assess("2026-11-30T08:00:00Z");
    let shop_host = |json: &Value| -> Value {
        json["attack_paths"]["crown_jewels"]
            .as_array()
            .unwrap()
            .iter()
            .find(|jewel| jewel["asset"] == "host:203.0.113.10")
            .unwrap()
            .clone()
    };
    let before = shop_host(&first);
    let exploit = &before["most_likely_path"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|step| step["kind"] == "exploit")
        .expect("the path to the shop front exploits a finding")["enabled_by"][0];
    let fingerprint = exploit["fingerprint"].as_str().unwrap();

    let triage = run(ctem()
        .args(["triage", fingerprint, "--status", "false-positive"])
        .args([
            "--reason",
            "the module is not loaded",
            "--at",
            "2026-11-30T09:00:00Z",
            "--db",
        ])
        .arg(&db));
    assert_eq!(triage.status.code(), Some(0));

    let after = shop_host(&assess("2026-11-30T10:00:00Z"));
    let uses_it = after["paths"].as_array().unwrap().iter().any(|path| {
        path["steps"].as_array().unwrap().iter().any(|step| {
            step["enabled_by"]
                .as_array()
                .unwrap()
                .iter()
                .any(|fix| fix["fingerprint"] == fingerprint)
        })
    });
    assert!(
        !uses_it,
        "a path still exploits the false positive {fingerprint}: {after:#}"
    );
    assert!(
        after["probability"].as_f64().unwrap_or(0.0) <= before["probability"].as_f64().unwrap(),
        "{after:#}"
    );
}

#[test]
fn from_lists_blast_radius() {
    let output = paths(&["--from", "host:203.0.113.10", "--format", "json"]);
    assert_eq!(output.status.code(), Some(0));
    let radius: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(radius["asset"], "host:203.0.113.10");
    let capabilities = radius["capabilities"].as_array().unwrap();
    assert!(capabilities.contains(&Value::from("execute_user")), "{radius}");
    let assets: Vec<&str> = radius["assets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|asset| asset.as_str().unwrap())
        .collect();
    assert!(assets.contains(&"host:10.20.0.5"), "{assets:?}");
    assert!(!assets.contains(&"host:203.0.113.10"), "{assets:?}");
    let jewels: Vec<&str> = radius["crown_jewels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|jewel| jewel["asset"].as_str().unwrap())
        .collect();
    assert!(
        jewels.contains(&"data_store:arn:aws:s3:::acme-payment-exports"),
        "{jewels:?}"
    );
    assert!(jewels.contains(&"host:10.20.0.5"), "{jewels:?}");

    let table = paths(&["--from", "host:203.0.113.10"]);
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.starts_with("An attacker who holds www.acme.example"), "{text}");
    assert!(
        text.contains("Payment exports (data_store:arn:aws:s3:::acme-payment-exports)"),
        "{text}"
    );
}

#[test]
fn from_ambiguous_name_lists_keys() {
    let output = paths(&["--from", "www.acme.example"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("matches 2 assets"), "{stderr}");
    assert!(stderr.contains("host:203.0.113.10"), "{stderr}");

    let output = paths(&["--from", "host:192.0.2.1"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("matches no asset"));
}

#[test]
fn exposure_counts_match_crown_jewels() {
    let json: Value = serde_json::from_slice(&paths(&["--format", "json"]).stdout).unwrap();
    let jewels = json["crown_jewels"].as_array().unwrap();
    assert_eq!(json["exposure"]["crown_jewels"], jewels.len());
    let reachable = jewels.iter().filter(|jewel| jewel["reachable"] == true).count();
    assert_eq!(
        json["exposure"]["reachable_crown_jewels"].as_array().unwrap().len(),
        reachable
    );
    let assets = json["exposure"]["assets"].as_u64().unwrap();
    assert!(
        assets < json["graph"]["nodes"].as_u64().unwrap(),
        "{}",
        json["exposure"]
    );
    // Path probabilities are the products of the step probabilities as
    // printed, without the noise of widened 32-bit floats.
    for jewel in jewels {
        let path = &jewel["most_likely_path"];
        let product: f64 = path["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|step| step["probability"].as_f64().unwrap())
            .product();
        let printed = path["probability"].as_f64().unwrap();
        assert!((printed - product).abs() < 1e-11, "{printed} against {product}");
        assert_eq!(printed, (printed * 1e12).round() / 1e12);
    }
}

#[test]
fn unmatched_crown_jewel_is_named() {
    let temp = tempfile::tempdir().unwrap();
    let config = temp.path().join("ctem.toml");
    std::fs::write(
        &config,
        "[[crown_jewels]]\nname = \"Ghost\"\nmatch = { name = \"no-such-asset\" }\n",
    )
    .unwrap();
    let output = run(ctem()
        .arg("paths")
        .arg(example_dir().join("scans"))
        .arg("--config")
        .arg(&config));
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("(\"Ghost\") match no asset"), "{stdout}");

    let output = run(ctem()
        .arg("paths")
        .arg(example_dir().join("scans"))
        .arg("--config")
        .arg(&config)
        .args(["--to", "Ghost"]));
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("match no asset"));
}

#[test]
fn long_path_lines_show_their_end() {
    let output = paths(&["--to", "Payments database"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<&str> = stdout.lines().filter(|line| line.contains("probability 0.")).collect();
    assert!(!lines.is_empty(), "{stdout}");
    for line in lines.iter().filter(|line| line.contains(" -> ")) {
        assert!(!line.ends_with('…'), "{line}");
        assert!(
            line.ends_with("(host, execute user)") || line.ends_with(", execute user)"),
            "{line}"
        );
    }
}

#[test]
fn instance_profile_step_names_profile_change() {
    let output = paths(&["--to", "Payment exports", "--format", "json"]);
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    let changes: Vec<&str> = json["crown_jewels"][0]["most_likely_path"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|step| step["enabled_by"].as_array().unwrap())
        .filter_map(|fix| fix["change"].as_str())
        .collect();
    assert!(
        changes.contains(&"remove role shop-web from instance profile shop-web"),
        "{changes:?}"
    );
}

#[test]
fn opengraph_export_without_crown_jewel_is_empty() {
    let output = paths_without_crown_jewel("opengraph");
    assert_eq!(output.status.code(), Some(0));
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["graph"]["nodes"], serde_json::json!([]));
    assert!(String::from_utf8_lossy(&output.stderr).contains("empty attack graph"));
}

/// The VPN gateway, a configured crown jewel with network access only,
/// counts and is named in the summary. `--to` explains why it has no path.
#[test]
fn stepless_crown_jewel_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let acme = dir.path().join("acme");
    common::copy_dir(&example_dir(), &acme);
    let config = acme.join("ctem.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("\n[[crown_jewels]]\nname = \"VPN gateway\"\nmatch = { name = \"vpn.acme.example\" }\n");
    std::fs::write(&config, text).unwrap();

    let table = run(ctem().arg("paths").arg(&acme));
    assert!(table.status.success());
    let first = String::from_utf8_lossy(&table.stdout)
        .lines()
        .next()
        .unwrap()
        .to_string();
    assert!(first.contains(" of 5 crown jewels"), "{first}");
    assert!(
        first.contains("No step of the attack graph compromises the crown jewel VPN gateway."),
        "{first}"
    );

    let json = run(ctem().arg("paths").arg(&acme).args(["--format", "json"]));
    let json: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(json["without_attack_steps"], serde_json::json!(["VPN gateway"]));

    let selected = run(ctem().arg("paths").arg(&acme).args(["--to", "VPN gateway"]));
    assert_eq!(selected.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&selected.stderr);
    assert!(
        stderr.contains("crown jewel \"VPN gateway\" (host:203.0.113.20) has no attack path"),
        "{stderr}"
    );
}
