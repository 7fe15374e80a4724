//! Tests of the ZAP traditional JSON parser: fixtures, hostile input and
//! the shared corpus.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use ctem_ingest::{Detection, ParseError, ParsedReport, Position, find, parse_bytes};
use ctem_model::{AssetKind, Cwe, Finding, FindingKind, Severity, SourceStatus};
use serde_json::json;

const FORMAT: &str = "zap-json";

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{FORMAT}/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn parse(name: &str, bytes: &[u8]) -> Result<ParsedReport, ParseError> {
    parse_bytes(find(FORMAT).expect("registered"), name, bytes)
}

fn parse_fixture(name: &str) -> ParsedReport {
    parse(name, &fixture(name)).unwrap_or_else(|e| panic!("{e}"))
}

/// Converts the report to JSON for snapshots, with each finding's fingerprint.
fn normalized(report: &ParsedReport) -> serde_json::Value {
    let findings: Vec<_> = report
        .findings
        .iter()
        .map(|f| json!({"fingerprint": f.fingerprint(), "finding": f}))
        .collect();
    json!({
        "targets": report.targets,
        "assets": report.assets,
        "relationships": report.relationships,
        "findings": findings,
    })
}

/// Returns the targets of the report's scopes and checks that every scope
/// names the tool zap.
fn targets(report: &ParsedReport) -> Vec<&str> {
    assert!(
        report.targets.iter().all(|(tool, _)| tool == "zap"),
        "{:?}",
        report.targets
    );
    report.targets.iter().map(|(_, target)| target.as_str()).collect()
}

#[test]
fn empty_report_covers_default() {
    let report = parse_fixture("empty.json");
    assert!(report.findings.is_empty());
    assert!(report.assets.is_empty());
    assert_eq!(targets(&report), ["zap-json:empty.json"]);
}

#[test]
fn clean_site_is_a_target() {
    let report = parse_fixture("clean_site.json");
    assert!(report.findings.is_empty());
    assert_eq!(targets(&report), ["https://shop.example.test"]);
    assert_eq!(report.assets.len(), 1);
}

#[test]
fn one_finding_snapshot() {
    let report = parse_fixture("one.json");
    assert_eq!(report.findings.len(), 1);
    insta::assert_json_snapshot!("one", normalized(&report));
}

#[test]
fn many_findings_snapshot() {
    let report = parse_fixture("many.json");
    assert_eq!(report.findings.len(), 5);
    insta::assert_json_snapshot!("many", normalized(&report));
}

#[test]
fn alert_fields_map() {
    let report = parse_fixture("one.json");
    let finding = &report.findings[0];
    assert_eq!(finding.tool, "zap");
    assert_eq!(finding.rule_id, "40012");
    assert_eq!(finding.kind, FindingKind::WebWeakness);
    assert_eq!(finding.title, "Cross Site Scripting (Reflected)");
    assert_eq!(finding.severity, Severity::High);
    assert_eq!(finding.cwes, [Cwe(79)]);
    assert_eq!(finding.location.method.as_deref(), Some("GET"));
    assert_eq!(finding.location.parameter.as_deref(), Some("q"));
    assert_eq!(finding.evidence.as_deref(), Some("<script>alert(1)</script>"));
    assert_eq!(
        finding.attributes.get("attack").map(String::as_str),
        Some("<script>alert(1)</script>")
    );
    assert_eq!(finding.attributes.get("wasc_id").map(String::as_str), Some("8"));
    assert_eq!(finding.attributes.get("confidence").map(String::as_str), Some("medium"));
    assert_eq!(finding.target.as_deref(), Some("https://shop.example.test"));
}

#[test]
fn html_becomes_paragraphs() {
    let report = parse_fixture("one.json");
    let finding = &report.findings[0];
    assert_eq!(
        finding.description.as_deref(),
        Some(
            "Cross-site Scripting (XSS) is an attack technique that involves echoing attacker-supplied code into a user's browser instance.\n\nThe user's browser then runs it with the site's privileges."
        )
    );
    assert_eq!(
        finding.fix.description.as_deref(),
        Some(
            "Phase: Architecture and Design\n\nUse a vetted library or framework that does not allow this weakness to occur."
        )
    );
    assert_eq!(
        finding.references,
        [
            "https://owasp.org/www-community/attacks/xss/",
            "https://cwe.mitre.org/data/definitions/79.html"
        ]
    );
}

#[test]
fn risk_codes_map() {
    let report = parse_fixture("many.json");
    let by_rule: BTreeMap<_, _> = report
        .findings
        .iter()
        .map(|f| (f.rule_id.as_str(), f.severity))
        .collect();
    assert_eq!(by_rule["10038"], Severity::Medium);
    assert_eq!(by_rule["90005"], Severity::Info);
    assert_eq!(by_rule["10021"], Severity::Low);
}

#[test]
fn each_site_is_an_asset() {
    let report = parse_fixture("many.json");
    assert_eq!(
        targets(&report),
        ["http://10.20.30.40:8080", "https://shop.example.test"]
    );
    assert_eq!(report.assets.len(), 2);
    let shop = &report.assets[0];
    assert_eq!(shop.kind, AssetKind::WebApp);
    assert_eq!(
        shop.identifier_values("hostname").collect::<Vec<_>>(),
        ["shop.example.test"]
    );
    assert_eq!(shop.identifier_values("port").collect::<Vec<_>>(), ["443"]);
    let internal = &report.assets[1];
    assert_eq!(internal.identifier_values("ip").collect::<Vec<_>>(), ["10.20.30.40"]);
    let login = report.findings.iter().find(|f| f.rule_id == "10021").expect("10021");
    assert_eq!(login.asset, internal.key);
}

#[test]
fn confidence_zero_is_false_positive() {
    let report = parse_fixture("many.json");
    let timestamp = report.findings.iter().find(|f| f.rule_id == "10096").expect("10096");
    assert_eq!(timestamp.source_status, Some(SourceStatus::FalsePositive));
    let csp = report.findings.iter().find(|f| f.rule_id == "10038").expect("10038");
    assert_eq!(csp.source_status, None);
}

#[test]
fn other_info_joins_description() {
    let report = parse_fixture("many.json");
    let timestamp = report.findings.iter().find(|f| f.rule_id == "10096").expect("10096");
    let description = timestamp.description.as_deref().unwrap_or_default();
    assert!(
        description.ends_with("Other information: 1717400000, which evaluates to: 2024-06-03 07:33:20."),
        "{description}"
    );
    let login = report.findings.iter().find(|f| f.rule_id == "10021").expect("10021");
    let description = login.description.as_deref().unwrap_or_default();
    assert!(
        description.ends_with("Other information: This issue still applies to error type pages."),
        "{description}"
    );
    assert!(description.contains("\"nosniff\""), "{description}");
}

#[test]
fn alert_ref_kept_when_different() {
    let report = parse_fixture("many.json");
    let csp = report.findings.iter().find(|f| f.rule_id == "10038").expect("10038");
    assert_eq!(csp.attributes.get("alert_ref").map(String::as_str), Some("10038-1"));
    let headers = report.findings.iter().find(|f| f.rule_id == "10021").expect("10021");
    assert_eq!(headers.attributes.get("alert_ref"), None);
}

#[test]
fn numbers_and_late_name_read() {
    let report = parse_fixture("numbers_and_order.json");
    assert_eq!(targets(&report), ["http://intranet.example.test"]);
    assert_eq!(report.findings.len(), 2);
    let csrf = &report.findings[0];
    assert_eq!(csrf.rule_id, "10202");
    assert_eq!(csrf.severity, Severity::Medium);
    assert_eq!(csrf.cwes, [Cwe(352)]);
    assert_eq!(csrf.location.method.as_deref(), Some("POST"));
    assert_eq!(csrf.target.as_deref(), Some("http://intranet.example.test"));
    assert_eq!(report.assets[0].identifier_values("port").collect::<Vec<_>>(), ["80"]);
}

#[test]
fn alert_without_instances_uses_site() {
    let report = parse_fixture("numbers_and_order.json");
    let disclosure = &report.findings[1];
    assert_eq!(disclosure.severity, Severity::Low, "from riskdesc");
    assert_eq!(disclosure.location.url.as_deref(), Some("http://intranet.example.test"));
    assert!(disclosure.cwes.is_empty(), "cweid -1 means none");
}

#[test]
fn fingerprints_separate_instances() {
    let report = parse_fixture("many.json");
    let fingerprints: BTreeSet<_> = report.findings.iter().map(Finding::fingerprint).collect();
    assert_eq!(fingerprints.len(), report.findings.len());
}

#[test]
fn fixtures_are_detected() {
    let parser = find(FORMAT).expect("registered");
    for name in [
        "one.json",
        "many.json",
        "clean_site.json",
        "empty.json",
        "numbers_and_order.json",
    ] {
        assert_eq!(parser.detect(&fixture(name)), Detection::Certain, "{name}");
        assert_eq!(
            ctem_ingest::detect(&fixture(name)).map(|p| p.info().id),
            Some(FORMAT),
            "{name}"
        );
    }
    assert_eq!(parser.detect(br#"{"site": [{"alerts": []}]}"#), Detection::Maybe);
    assert_eq!(parser.detect(br#"{"runs": []}"#), Detection::No);
    assert_eq!(parser.detect(b"[]"), Detection::No);
}

#[test]
fn newer_major_version_is_rejected() {
    let error = parse(
        "zap3.json",
        br#"{"@programName": "ZAP", "@version": "3.0.0", "site": []}"#,
    )
    .unwrap_err();
    assert!(
        error.message.contains("unsupported ZAP version \"3.0.0\""),
        "{}",
        error.message
    );
    assert!(error.position.is_some(), "{error}");
}

#[test]
fn weekly_version_is_read() {
    let report = parse("weekly.json", br#"{"@version": "D-2024-01-08", "site": []}"#).unwrap();
    assert!(report.findings.is_empty());
}

#[test]
fn truncated_file_names_position() {
    let bytes = fixture("many.json");
    let error = parse("cut.json", &bytes[..bytes.len() * 2 / 3]).unwrap_err();
    assert!(error.message.contains("truncated"), "{}", error.message);
    assert!(matches!(error.position, Some(Position::LineColumn { .. })), "{error}");
}

#[test]
fn invalid_syntax_is_rejected() {
    let error = parse("bad.json", b"{\"site\": [ {\"@name\": } ]}").unwrap_err();
    assert_eq!(error.position, Some(Position::LineColumn { line: 1, column: 22 }));
}

#[test]
fn other_json_is_wrong_format() {
    let error = parse("sarif.json", br#"{"version": "2.1.0", "runs": []}"#).unwrap_err();
    assert!(
        error.message.contains("expected a ZAP JSON report"),
        "{}",
        error.message
    );
    assert!(error.message.contains("runs"), "{}", error.message);
    let error = parse("array.json", b"[]").unwrap_err();
    assert!(error.message.contains("invalid type"), "{}", error.message);
}

#[test]
fn deep_nesting_errors() {
    let depth = 10_000;
    let text = format!("{{\"site\": {}{}}}", "[".repeat(depth), "]".repeat(depth));
    let error = parse("deep.json", text.as_bytes()).unwrap_err();
    assert!(error.position.is_some(), "{error}");
}

#[test]
fn large_report_parses() {
    let alerts = 20;
    let instances = 1_000;
    let mut text = String::from(r#"{"@version": "2.15.0", "site": [{"@name": "https://big.example.test", "alerts": ["#);
    for a in 0..alerts {
        if a > 0 {
            text.push(',');
        }
        text.push_str(&format!(
            r#"{{"pluginid": "{}", "name": "Alert {a}", "riskcode": "{}", "instances": ["#,
            10_000 + a,
            a % 4
        ));
        for i in 0..instances {
            if i > 0 {
                text.push(',');
            }
            text.push_str(&format!(
                r#"{{"uri": "https://big.example.test/page/{i}", "method": "GET"}}"#
            ));
        }
        text.push_str(r#"], "desc": "<p>generated</p>"}"#);
    }
    text.push_str("]}]}");
    let report = parse("large.json", text.as_bytes()).unwrap();
    assert_eq!(report.findings.len(), alerts * instances);
    let fingerprints: BTreeSet<_> = report.findings.iter().map(Finding::fingerprint).collect();
    assert_eq!(fingerprints.len(), alerts * instances);
}

/// Returns how many report instances a finding stands for.
fn instance_count(finding: &Finding) -> usize {
    finding
        .attributes
        .get("instances")
        .map_or(1, |count| count.parse().expect("a count"))
}

/// Structural counts of one corpus report: sites, alerts, instances, and
/// alerts per risk word.
struct Facts {
    sites: usize,
    alerts: usize,
    instances: usize,
    risks: BTreeMap<String, usize>,
}

/// Reads the `zap_json` rows of `STRUCTURAL_FACTS.tsv`, such as
/// `ZAP 2.11.0; sites=1; alerts=10; instances=809; risk={'Medium': 4}`.
fn structural_facts(corpus: &std::path::Path) -> BTreeMap<String, Facts> {
    let table = std::fs::read_to_string(corpus.join("STRUCTURAL_FACTS.tsv")).expect("STRUCTURAL_FACTS.tsv");
    let mut facts = BTreeMap::new();
    for line in table.lines() {
        let columns: Vec<&str> = line.split('\t').collect();
        if columns.len() < 3 || columns[0] != "zap_json" {
            continue;
        }
        let number = |name: &str| -> usize {
            let start = columns[2]
                .find(&format!("{name}="))
                .unwrap_or_else(|| panic!("{name} in {line}"))
                + name.len()
                + 1;
            let digits: String = columns[2][start..].chars().take_while(char::is_ascii_digit).collect();
            digits.parse().expect("a count")
        };
        let risk_start = columns[2].find("risk={").expect("risk") + "risk={".len();
        let risk_end = risk_start + columns[2][risk_start..].find('}').expect("}");
        let risks = columns[2][risk_start..risk_end]
            .split(',')
            .filter_map(|pair| pair.split_once(':'))
            .map(|(word, count)| {
                (
                    word.trim().trim_matches('\'').to_string(),
                    count.trim().parse().expect("count"),
                )
            })
            .collect();
        facts.insert(
            columns[1].to_string(),
            Facts {
                sites: number("sites"),
                alerts: number("alerts"),
                instances: number("instances"),
                risks,
            },
        );
    }
    facts
}

/// No project's tests assert counts for these reports, so they are checked
/// against their structural counts: every instance is counted by one
/// finding, and there is one (plugin, alert name) group per alert, since
/// ZAP splits some plugins into several alerts (90005-1 to 90005-4 in
/// 2.14.0).
#[test]
fn corpus_conformance() {
    common::check_detection("zap_json", FORMAT, |_| true);
    let Some(corpus) = common::corpus_dir() else {
        return;
    };
    let facts = structural_facts(&corpus);
    assert_eq!(facts.len(), 3, "three ZAP reports in the corpus");

    for (file, expected) in facts {
        let report = common::parse_file(FORMAT, &corpus.join("zap_json").join(&file)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(report.targets.len(), expected.sites, "{file}: sites");
        let instances: usize = report.findings.iter().map(instance_count).sum();
        assert_eq!(instances, expected.instances, "{file}: instances");
        let fingerprints: BTreeSet<_> = report.findings.iter().map(Finding::fingerprint).collect();
        assert_eq!(
            fingerprints.len(),
            report.findings.len(),
            "{file}: one fingerprint per finding"
        );

        let alerts: BTreeMap<(String, String), Severity> = report
            .findings
            .iter()
            .map(|f| ((f.rule_id.clone(), f.title.clone()), f.severity))
            .collect();
        assert_eq!(alerts.len(), expected.alerts, "{file}: alerts");

        let mut risks: BTreeMap<String, usize> = BTreeMap::new();
        for severity in alerts.values() {
            let word = match severity {
                Severity::Info => "Informational",
                Severity::Low => "Low",
                Severity::Medium => "Medium",
                _ => "High",
            };
            *risks.entry(word.to_string()).or_default() += 1;
        }
        assert_eq!(risks, expected.risks, "{file}: alerts per risk");

        let csp = report
            .findings
            .iter()
            .find(|f| f.rule_id == "10038")
            .expect("CSP alert");
        assert_eq!(csp.title, "Content Security Policy (CSP) Header Not Set");
        assert_eq!(csp.cwes, [Cwe(693)]);
        assert_eq!(csp.asset.as_str(), "web_app:http://www.itsecgames.com");
        assert!(
            !csp.description.as_deref().unwrap_or_default().contains("<p>"),
            "{file}: HTML left"
        );
    }
}

#[test]
fn same_place_instances_merge() {
    let report = parse(
        "timestamps.json",
        br#"{"@version": "2.15.0", "site": [{"@name": "https://shop.example.test", "alerts": [
            {"pluginid": "10096", "name": "Timestamp Disclosure - Unix", "riskcode": "0", "instances": [
                {"uri": "https://shop.example.test/app.js", "method": "GET", "evidence": "1717400000"},
                {"uri": "https://shop.example.test/app.js", "method": "GET", "evidence": "1717400999"},
                {"uri": "https://shop.example.test/app.js", "method": "GET", "evidence": "1717401234"},
                {"uri": "https://shop.example.test/", "method": "GET", "evidence": "1717400000"}
            ]}
        ]}]}"#,
    )
    .unwrap();
    assert_eq!(report.findings.len(), 2);
    let script = &report.findings[0];
    assert_eq!(script.location.url.as_deref(), Some("https://shop.example.test/app.js"));
    assert_eq!(script.evidence.as_deref(), Some("1717400000"));
    assert_eq!(script.attributes.get("instances").map(String::as_str), Some("3"));
    assert_eq!(report.findings[1].attributes.get("instances"), None);
}
