//! End-to-end tests of `ctem actions` on the example environment. The
//! expected groups come from its scans: Nmap's vulners script reports
//! three CVEs of Apache httpd 2.4.49 on the shop front (203.0.113.10),
//! Trivy reports two log4j-core 2.14.1 CVEs in the shop image, and
//! Gitleaks reports two different secrets.

mod common;

use common::{ctem, example_dir};
use std::collections::HashSet;
use std::process::Output;

use ctem_engine::actions::CROWN_JEWEL_VALUE;
use serde_json::Value;

fn actions(extra: &[&str]) -> Output {
    let output = ctem()
        .arg("actions")
        .arg(example_dir())
        .args(extra)
        .output()
        .expect("ctem runs");
    if !output.status.success() {
        eprintln!("stderr:\n{}", String::from_utf8_lossy(&output.stderr));
    }
    output
}

fn all_actions() -> Vec<Value> {
    let output = actions(&["--top", "0", "--format", "json"]);
    assert_eq!(output.status.code(), Some(0));
    let json: Value = serde_json::from_slice(&output.stdout).expect("the output is JSON");
    assert_eq!(json["total"], json["shown"]);
    json["actions"].as_array().expect("actions is an array").clone()
}

fn titles(action: &Value) -> Vec<String> {
    let mut titles: Vec<String> = action["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|finding| finding["title"].as_str().unwrap().to_string())
        .collect();
    titles.sort();
    titles
}

fn find<'a>(actions: &'a [Value], key: &str) -> &'a Value {
    actions
        .iter()
        .find(|action| action["key"] == key)
        .unwrap_or_else(|| panic!("no action {key}"))
}

#[test]
fn httpd_upgrade_ranks_first() {
    let actions = all_actions();
    let top = &actions[0];

    assert_eq!(top["rank"], 1);
    assert_eq!(top["kind"], "upgrade");
    assert_eq!(top["key"], "upgrade::apache httpd");
    assert_eq!(
        titles(top),
        [
            "CVE-2021-34798 in Apache httpd 2.4.49",
            "CVE-2021-36160 in Apache httpd 2.4.49",
            "CVE-2021-41773 in Apache httpd 2.4.49",
        ]
    );
    assert_eq!(top["assets"], serde_json::json!(["host:203.0.113.10"]));
    assert_eq!(top["owners"], serde_json::json!(["infrastructure"]));
    assert_eq!(top["owner"]["team"], "infrastructure");
    assert_eq!(top["owner"]["rule"], "owners \"Hosts\"");
    assert_eq!(top["owner"]["contacts"], serde_json::json!(["infra@acme.example"]));
    assert_eq!(top["findings"][0]["owner"]["team"], "infrastructure");
    // Nmap names no fixed version.
    assert_eq!(top["upgrade"]["target_version"], Value::Null);
    assert_eq!(top["upgrade"]["without_fixed_version"], 3);
    // The exploit of httpd is the shop front's minimal fix set.
    let cuts = top["cuts"].as_array().unwrap();
    assert!(cuts.contains(&serde_json::json!({"crown_jewel": "Shop front", "role": "fix_set"})));
    assert!(top["explanation"].as_str().unwrap().starts_with("Ranks 1 of "));
}

#[test]
fn log4j_is_one_upgrade() {
    let actions = all_actions();
    let log4j = find(&actions, "upgrade:pkg:maven/org.apache.logging.log4j/log4j-core");

    let titles = titles(log4j);
    assert_eq!(titles.len(), 2);
    assert!(titles[0].starts_with("CVE-2021-44228 "));
    assert!(titles[1].starts_with("CVE-2021-45046 "));
    assert_eq!(
        log4j["assets"],
        serde_json::json!(["container_image:ghcr.io/acme/shop-web:1.4.2"])
    );
    assert_eq!(log4j["owners"], serde_json::json!(["web-team"]));
    assert_eq!(log4j["owner"]["rule"], "owners \"Shop\"");
    // CVE-2021-44228 needs 2.15.0 and CVE-2021-45046 needs 2.16.0; their
    // 2.12.2 backport is below the installed 2.14.1.
    assert_eq!(log4j["upgrade"]["target_version"], "2.16.0");
    assert_eq!(log4j["upgrade"]["version_order"], "semver");
    // The configuration change ranked 2 already cuts the most likely path
    // to the Shop web image, so the upgrade removes no more attacker
    // success and ranks on its findings alone.
    assert_eq!(log4j["rank"], 3);
    assert_eq!(log4j["success_removed"], 0.0);
}

#[test]
fn each_secret_rotated_once() {
    let actions = all_actions();

    let rotations: Vec<&Value> = actions
        .iter()
        .filter(|action| action["kind"] == "rotate_secret")
        .collect();
    assert_eq!(rotations.len(), 2);
    for rotation in rotations {
        assert_eq!(rotation["findings"].as_array().unwrap().len(), 1);
        assert_eq!(rotation["effort"], 1.0);
    }
}

#[test]
fn every_open_finding_closed_once() {
    let actions = all_actions();

    let mut seen = HashSet::new();
    for action in &actions {
        for finding in action["findings"].as_array().unwrap() {
            let fingerprint = finding["fingerprint"].as_str().unwrap().to_string();
            assert!(seen.insert(fingerprint.clone()), "{fingerprint} in two actions");
        }
    }
    // The SBOM marks CVE-2018-7489 of jackson-databind not affected.
    let all_titles: Vec<String> = actions.iter().flat_map(titles).collect();
    assert!(!all_titles.iter().any(|title| title.contains("CVE-2018-7489")));
}

#[test]
fn ranking_follows_formula() {
    let actions = all_actions();

    let mut previous = f64::INFINITY;
    for action in &actions {
        let finding_risk: f64 = action["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|finding| finding["score"].as_f64().unwrap())
            .sum();
        let bonus: f64 = action["cuts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|cut| if cut["role"] == "fix_set" { 50.0 } else { 25.0 })
            .sum();
        let success_removed = action["success_removed"].as_f64().unwrap();
        let risk = action["risk_removed"].as_f64().unwrap();
        let priority = action["priority"].as_f64().unwrap();
        assert!(
            (risk - finding_risk - bonus - CROWN_JEWEL_VALUE * success_removed).abs() < 1e-6,
            "{}",
            action["key"]
        );
        assert!((priority - risk / action["effort"].as_f64().unwrap()).abs() < 1e-9);
        // An action that lowers the attacker's success may rank above one
        // of higher priority on its own; the others keep their order.
        if success_removed == 0.0 {
            assert!(priority <= previous, "{} out of order", action["key"]);
            previous = priority;
        }
    }
}

#[test]
fn configuration_changes_are_actions() {
    let actions = all_actions();

    let changes: Vec<&Value> = actions
        .iter()
        .filter(|action| action["kind"] == "change_configuration")
        .collect();
    assert!(!changes.is_empty());
    for change in changes {
        assert!(change["findings"].as_array().unwrap().is_empty());
        assert!(!change["cuts"].as_array().unwrap().is_empty());
        assert!(change["change"]["change"].is_string());
    }
}

#[test]
fn top_limits_table() {
    let output = actions(&["--top", "3"]);

    assert_eq!(output.status.code(), Some(0));
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.starts_with("3 of "), "{text}");
    assert!(text.contains("Upgrade Apache httpd to a fixed version on 1 asset(s)"));
    assert!(text.contains("\n3. Ranks 3 of "));
    assert!(!text.contains("\n4. Ranks 4 of "));
}

#[test]
fn table_reasons_are_whole() {
    let output = actions(&["--top", "0"]);

    assert_eq!(output.status.code(), Some(0));
    let text = String::from_utf8(output.stdout).unwrap();
    let json = all_actions();
    let reasons: Vec<&str> = text.lines().filter(|line| line.contains(". Ranks ")).collect();
    assert_eq!(reasons.len(), json.len(), "{text}");
    // The reason of the first action names four effects and runs past the
    // width of a table cell.
    let first = json[0]["explanation"].as_str().unwrap();
    assert!(first.chars().count() > 300, "{first}");
    for (line, action) in reasons.iter().zip(&json) {
        let explanation = action["explanation"].as_str().unwrap();
        assert!(line.contains(explanation), "{line}");
        assert!(line.contains("risk points per unit of effort."), "{line}");
        assert!(!line.contains('…'), "{line}");
    }
}

#[test]
fn success_removed_is_not_called_a_chance() {
    let actions = all_actions();
    let top = &actions[0];
    // The attacker's success sums a probability per crown jewel, so it
    // may exceed 1, as it does for the first action here.
    assert!(top["success_removed"].as_f64().unwrap() > 1.0, "{top}");
    let explanation = top["explanation"].as_str().unwrap();
    assert!(!explanation.contains("chance"), "{explanation}");
    assert!(
        explanation.contains("lowers the summed probability of the most likely path to each crown jewel by "),
        "{explanation}"
    );
}

#[test]
fn code_findings_take_path_and_codeowners_owners() {
    let actions = all_actions();
    let findings: Vec<&Value> = actions
        .iter()
        .flat_map(|action| action["findings"].as_array().unwrap())
        .filter(|finding| finding["asset"] == "repository:https://github.com/acme/shop-web")
        .collect();
    assert!(!findings.is_empty());
    for finding in findings {
        let rule = finding["owner"]["rule"].as_str().unwrap();
        assert!(
            rule == "owners \"Shop settings\"" || rule.contains("shop-web.CODEOWNERS:"),
            "{finding}"
        );
    }
}
