//! Tests of the Nuclei JSON lines parser: fixtures, hostile input and the
//! shared corpus.

mod common;
mod dast_common;

use std::collections::BTreeSet;

use ctem_ingest::{Detection, ParseError, ParsedReport, Position, find};
use ctem_model::{AssetKind, Cwe, Finding, FindingKind, RelationshipKind, Severity};
use dast_common::{assert_absent, instance_count, normalized, targets};

const FORMAT: &str = "nuclei-jsonl";

fn parse(name: &str, bytes: &[u8]) -> Result<ParsedReport, ParseError> {
    dast_common::parse(FORMAT, name, bytes)
}

fn parse_fixture(name: &str) -> ParsedReport {
    dast_common::parse_fixture(FORMAT, name)
}

fn by_template<'r>(report: &'r ParsedReport, template: &str) -> Vec<&'r Finding> {
    report.findings.iter().filter(|f| f.rule_id == template).collect()
}

fn ids(finding: &Finding) -> Vec<&str> {
    finding.vulnerability_ids.iter().map(|id| id.as_str()).collect()
}

#[test]
fn empty_output_covers_default() {
    let report = parse_fixture("empty.jsonl");
    assert!(report.findings.is_empty());
    assert!(report.assets.is_empty());
    assert_eq!(targets(&report, "nuclei"), ["nuclei-jsonl:empty.jsonl"]);
    let blank = parse("blank.jsonl", b"\n  \r\n\n").unwrap();
    assert!(blank.findings.is_empty());
}

#[test]
fn one_result_snapshot() {
    let report = parse_fixture("one.jsonl");
    assert_eq!(report.findings.len(), 1);
    insta::assert_json_snapshot!("one", normalized(&report));
}

#[test]
fn many_results_snapshot() {
    let report = parse_fixture("many.jsonl");
    assert_eq!(report.findings.len(), 8);
    insta::assert_json_snapshot!("many", normalized(&report));
}

#[test]
fn result_fields_map() {
    let report = parse_fixture("one.jsonl");
    let finding = &report.findings[0];
    assert_eq!(finding.tool, "nuclei");
    assert_eq!(finding.rule_id, "CVE-2021-41773");
    assert_eq!(finding.kind, FindingKind::Vulnerability);
    assert_eq!(
        finding.title,
        "Apache 2.4.49 - Path Traversal and Remote Code Execution"
    );
    assert_eq!(finding.severity, Severity::High);
    assert_eq!(ids(finding), ["CVE-2021-41773"]);
    assert_eq!(finding.cwes, [Cwe(22)]);
    assert_eq!(
        finding.cvss[0].to_string(),
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"
    );
    assert_eq!(
        finding.location.url.as_deref(),
        Some("https://intranet.example.test/cgi-bin/.%2e/.%2e/.%2e/.%2e/etc/passwd")
    );
    assert_eq!(finding.evidence.as_deref(), Some("root:x:0:0"));
    assert_eq!(
        finding.fix.description.as_deref(),
        Some("Update to Apache HTTP Server 2.4.51 or later.")
    );
    assert_eq!(
        finding.description.as_deref(),
        Some(
            "A flaw was found in a change made to path normalization in Apache HTTP Server 2.4.49.\n\n\
             Impact: Attackers can read files outside the document root."
        )
    );
    assert_eq!(
        finding.attributes.get("epss_score").map(String::as_str),
        Some("0.97472")
    );
    assert_eq!(finding.target.as_deref(), Some("https://intranet.example.test"));
    assert_absent(&report, &["5e1ec7ed5e1ec7ed", "root:/root:/bin/bash"]);
}

#[test]
fn export_array_is_read() {
    let report = parse_fixture("export.json");
    assert_eq!(report.findings.len(), 2);
    let matchers: Vec<_> = report
        .findings
        .iter()
        .map(|f| f.location.parameter.as_deref())
        .collect();
    assert_eq!(matchers, [Some("nginx"), Some("bootstrap")]);
    assert_eq!(report.assets[0].key.as_str(), "web_app:http://10.40.0.50:8080");
}

#[test]
fn old_field_names_read() {
    let report = parse_fixture("many.jsonl");
    let ssh = by_template(&report, "openssh-detect")[0];
    assert_eq!(ssh.title, "OpenSSH Service - Detect");
    assert_eq!(ssh.kind, FindingKind::ExposedService);
    assert_eq!(ssh.location.port, Some(22));
    assert_eq!(ssh.location.protocol.as_deref(), Some("tcp"));
    assert_eq!(ssh.evidence.as_deref(), Some("SSH-2.0-OpenSSH_8.4p1 Debian-5"));
    assert_eq!(
        ssh.references,
        ["https://www.openssh.com/", "https://nvd.nist.gov/vuln/search"]
    );
    assert_eq!(
        ssh.attributes.get("tags").map(String::as_str),
        Some("network,ssh,openssh,detect")
    );
}

#[test]
fn matchers_separate_findings() {
    let report = parse_fixture("many.jsonl");
    let headers = by_template(&report, "http-missing-security-headers");
    let matchers: Vec<_> = headers.iter().map(|f| f.location.parameter.as_deref()).collect();
    assert_eq!(matchers, [Some("strict-transport-security"), Some("x-frame-options")]);
    assert_eq!(headers[0].kind, FindingKind::WebWeakness);
    let fingerprints: BTreeSet<_> = report.findings.iter().map(Finding::fingerprint).collect();
    assert_eq!(fingerprints.len(), report.findings.len());
}

#[test]
fn consecutive_results_merge() {
    let report = parse_fixture("many.jsonl");
    let tls = by_template(&report, "tls-version");
    assert_eq!(tls.len(), 1);
    assert_eq!(tls[0].evidence.as_deref(), Some("tls12\ntls13"));
    assert_eq!(instance_count(tls[0]), 2);
    assert_eq!(tls[0].location.port, Some(443));
}

#[test]
fn unmatched_results_are_skipped() {
    let report = parse_fixture("many.jsonl");
    assert!(by_template(&report, "git-config").is_empty());
}

#[test]
fn kinds_follow_protocol() {
    let report = parse_fixture("many.jsonl");
    assert_eq!(
        by_template(&report, "caa-fingerprint")[0].kind,
        FindingKind::Misconfiguration
    );
    assert_eq!(
        by_template(&report, "mysql-detect")[0].kind,
        FindingKind::ExposedService
    );
    assert_eq!(
        by_template(&report, "aws-access-key-value")[0].kind,
        FindingKind::Secret
    );
}

#[test]
fn unknown_severity_uses_cvss() {
    let report = parse_fixture("many.jsonl");
    let mysql = by_template(&report, "mysql-detect")[0];
    assert_eq!(mysql.severity, Severity::Medium, "CVSS 5.3");
}

#[test]
fn secrets_are_masked() {
    let report = parse_fixture("many.jsonl");
    let token = by_template(&report, "aws-access-key-value")[0];
    let secret = token.secret.as_ref().expect("masked secret");
    assert_eq!(secret.masked, "AKIA********");
    assert_eq!(token.evidence.as_deref(), Some("AKIA********"));
    let login = by_template(&report, "grafana-default-login")[0];
    assert!(login.secret.is_some());
    assert_eq!(login.attributes.get("meta.username").map(String::as_str), Some("admin"));
    assert_eq!(login.cwes, [Cwe(1391)]);
    assert_absent(&report, &["AKIAZZZZEXAMPLE7KEY1", "prom-operator"]);
}

#[test]
fn hosts_and_services_are_assets() {
    let report = parse_fixture("many.jsonl");
    let ssh_host = report
        .assets
        .iter()
        .find(|a| a.key.as_str() == "host:ssh.example.test")
        .expect("ssh host");
    assert_eq!(ssh_host.kind, AssetKind::Host);
    assert_eq!(ssh_host.identifier_values("ip").collect::<Vec<_>>(), ["10.40.0.22"]);
    assert!(
        report
            .assets
            .iter()
            .any(|a| a.key.as_str() == "service:ssh.example.test:22/tcp")
    );
    let hosts: Vec<_> = report
        .relationships
        .iter()
        .filter(|r| r.kind == RelationshipKind::Hosts)
        .map(|r| (r.from.as_str(), r.to.as_str(), r.port))
        .collect();
    assert_eq!(
        hosts,
        [
            ("host:ssh.example.test", "service:ssh.example.test:22/tcp", Some(22)),
            ("host:shop.example.test", "service:shop.example.test:443/tcp", Some(443)),
            ("host:db.example.test", "service:db.example.test:3306/tcp", Some(3306)),
        ]
    );
    let keys: BTreeSet<_> = report.assets.iter().map(|a| a.key.as_str()).collect();
    assert_eq!(keys.len(), report.assets.len(), "each asset once");
}

#[test]
fn each_host_is_a_target() {
    let report = parse_fixture("many.jsonl");
    assert_eq!(
        targets(&report, "nuclei"),
        [
            "db.example.test:3306",
            "https://grafana.example.test",
            "https://shop.example.test",
            "shop.example.test",
            "ssh.example.test"
        ]
    );
}

#[test]
fn fixtures_are_detected() {
    let parser = find(FORMAT).expect("registered");
    for name in ["one.jsonl", "many.jsonl", "export.json"] {
        let bytes = dast_common::fixture(FORMAT, name);
        assert_eq!(parser.detect(&bytes), Detection::Certain, "{name}");
        assert_eq!(ctem_ingest::detect(&bytes).map(|p| p.info().id), Some(FORMAT), "{name}");
    }
    assert_eq!(parser.detect(br#"{"template-id": "x", "info": {}}"#), Detection::Maybe);
    assert_eq!(parser.detect(br#"{"runs": []}"#), Detection::No);
    assert_eq!(parser.detect(b""), Detection::No);
}

#[test]
fn bad_line_names_its_line() {
    let mut text = String::from_utf8(dast_common::fixture(FORMAT, "one.jsonl")).unwrap();
    text.push_str("{\"template-id\": \"x\", \"info\": {\"name\": \n");
    text.push_str("not json\n");
    let error = parse("bad.jsonl", text.as_bytes()).unwrap_err();
    assert!(
        matches!(error.position, Some(Position::LineColumn { line: 3, .. })),
        "{error}"
    );
}

#[test]
fn truncated_file_names_position() {
    let bytes = dast_common::fixture(FORMAT, "one.jsonl");
    let error = parse("cut.jsonl", &bytes[..bytes.len() / 2]).unwrap_err();
    assert!(error.message.contains("truncated"), "{}", error.message);
    assert!(
        matches!(error.position, Some(Position::LineColumn { line: 1, .. })),
        "{error}"
    );
    let bytes = dast_common::fixture(FORMAT, "export.json");
    let error = parse("cut.json", &bytes[..bytes.len() - 3]).unwrap_err();
    assert!(error.message.contains("truncated"), "{}", error.message);
}

#[test]
fn other_json_is_wrong_format() {
    let error = parse("sarif.json", br#"{"version": "2.1.0", "runs": []}"#).unwrap_err();
    assert!(error.message.contains("expected a Nuclei result"), "{}", error.message);
    assert!(matches!(error.position, Some(Position::Byte(_))), "{error}");
    let error = parse("numbers.jsonl", b"1\n2\n").unwrap_err();
    assert!(error.message.contains("expected an object"), "{}", error.message);
}

#[test]
fn invalid_utf8_is_rejected() {
    let error = parse("latin1.jsonl", b"{\"template-id\": \"caf\xe9\", \"info\": {}}\n").unwrap_err();
    assert!(error.position.is_some(), "{error}");
}

#[test]
fn deep_nesting_errors() {
    let depth = 10_000;
    let text = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let error = parse("deep.json", text.as_bytes()).unwrap_err();
    assert!(error.position.is_some(), "{error}");
    let text = format!(
        "{{\"template-id\": \"x\", \"info\": {{\"classification\": {}{}}}}}",
        "{\"a\": ".repeat(depth),
        "}".repeat(depth)
    );
    let error = parse("deep.jsonl", text.as_bytes()).unwrap_err();
    assert!(error.position.is_some(), "{error}");
}

#[test]
fn long_line_is_read() {
    let response = "x".repeat(8 * 1024 * 1024);
    let text = format!(
        r#"{{"template-id": "big-response", "info": {{"name": "Big", "severity": "low"}}, "type": "http", "host": "https://shop.example.test", "matched-at": "https://shop.example.test/", "response": "{response}"}}"#
    );
    let report = parse("long.jsonl", text.as_bytes()).unwrap();
    assert_eq!(report.findings.len(), 1);
    assert_eq!(report.findings[0].evidence, None, "the response is never kept");
}

#[test]
fn large_output_streams() {
    let results = 20_000;
    let mut text = String::new();
    for result in 0..results {
        text.push_str(&format!(
            r#"{{"template-id": "template-{}", "info": {{"name": "Template {}", "severity": "medium"}}, "type": "http", "host": "https://big.example.test", "matched-at": "https://big.example.test/page/{result}", "matcher-status": true}}"#,
            result % 50,
            result % 50
        ));
        text.push('\n');
    }
    let report = parse("large.jsonl", text.as_bytes()).unwrap();
    assert_eq!(report.findings.len(), results);
    assert_eq!(report.assets.len(), 1);
    let fingerprints: BTreeSet<_> = report.findings.iter().map(Finding::fingerprint).collect();
    assert_eq!(fingerprints.len(), results);
}

/// Groups findings as DefectDojo merges Nuclei results: by template,
/// protocol, matcher name and the host (without port) of `matched-at`.
fn group_key(finding: &Finding) -> String {
    let host = finding
        .location
        .url
        .as_deref()
        .and_then(|url| url.split_once("://").map(|(_, rest)| rest))
        .map(|rest| rest.split(['/', ':', '?']).next().unwrap_or_default().to_string())
        .or_else(|| finding.asset.as_str().strip_prefix("host:").map(str::to_string))
        .unwrap_or_default();
    format!(
        "{}|{}|{}|{host}",
        finding.rule_id,
        finding.attributes.get("type").map_or("", String::as_str),
        finding.location.parameter.as_deref().unwrap_or("")
    )
}

#[test]
fn corpus_conformance() {
    let reports = common::check_folder("nuclei", FORMAT, group_key);
    if reports.is_empty() {
        return;
    }
    let report = |name: &str| {
        &reports
            .iter()
            .find(|(file, _)| file == name)
            .unwrap_or_else(|| panic!("{name} parsed"))
            .1
    };

    // One finding per result record, except consecutive results at one
    // place, which are counted in one finding.
    for (file, records) in [
        ("many_findings.json", 18),
        ("multiple_v3.json", 6),
        ("issue_14071.json", 27),
    ] {
        let parsed = report(file);
        assert_eq!(
            parsed.findings.iter().map(instance_count).sum::<usize>(),
            records,
            "{file}"
        );
        let fingerprints: BTreeSet<_> = parsed.findings.iter().map(Finding::fingerprint).collect();
        assert_eq!(fingerprints.len(), parsed.findings.len(), "{file}");
    }

    let many = report("many_findings.json");
    let ssh = &many.findings[0];
    assert_eq!(ssh.title, "OpenSSH 5.3 Detection");
    assert_eq!(ssh.severity, Severity::Low);
    assert_eq!(ssh.location.port, Some(22));
    assert_eq!(ssh.asset.as_str(), "host:nuclei-example.com");
    assert_eq!(ssh.attributes.get("tags").map(String::as_str), Some("network,openssh"));
    assert_eq!(many.findings[1].title, "nginx version detect");
    assert_eq!(many.findings[1].severity, Severity::Info);
    let setup = &many.findings[2];
    assert_eq!(setup.title, "phpMyAdmin setup page");
    assert_eq!(setup.severity, Severity::Medium);
    assert_eq!(
        setup.location.url.as_deref(),
        Some("https://nuclei-example.com/phpmyadmin/setup/index.php")
    );
    let wappalyzer = by_template(many, "tech-detect");
    let bootstrap: Vec<_> = wappalyzer
        .iter()
        .filter(|f| f.location.parameter.as_deref() == Some("bootstrap"))
        .map(|f| f.asset.as_str())
        .collect();
    assert!(bootstrap.contains(&"web_app:http://127.0.0.1:8080"), "{bootstrap:?}");
    assert!(bootstrap.contains(&"web_app:http://127.0.0.1:9090"), "{bootstrap:?}");
    assert_eq!(by_template(many, "waf-detect").len(), 2);
    let mysql = by_template(many, "mysql-native-password-bruteforce")[0];
    assert_eq!(mysql.title, "MySQL DB with enabled native password");
    assert_eq!(mysql.location.port, Some(3306));

    let new = report("many_findings_new.json");
    let enumeration = &new.findings[0];
    assert_eq!(enumeration.title, "OpenSSH Username Enumeration v7.7");
    assert_eq!(enumeration.severity, Severity::Medium);
    assert_eq!(enumeration.kind, FindingKind::Vulnerability);
    assert_eq!(ids(enumeration), ["CVE-2018-15473"]);
    assert_eq!(enumeration.cwes, [Cwe(362)]);
    assert_eq!(
        enumeration.cvss[0].to_string(),
        "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N"
    );
    assert_eq!(enumeration.location.port, Some(22));
    let prometheus = &new.findings[1];
    assert_eq!(prometheus.title, "Exposed Prometheus metrics");
    assert_eq!(prometheus.severity, Severity::Low);
    assert_eq!(prometheus.description, None);

    let third = report("many_findings_third.json");
    assert_eq!(third.findings[0].title, "HTTP Missing Security Headers");
    assert_eq!(
        third.findings[0].location.parameter.as_deref(),
        Some("x-content-type-options")
    );
    assert_eq!(third.findings[0].asset.as_str(), "web_app:https://example.com");
    assert_eq!(third.findings[1].location.parameter.as_deref(), Some("asp.net-favicon"));

    let matches = report("multiple_matches.json");
    assert_ne!(matches.findings[0].fingerprint(), matches.findings[1].fingerprint());
    assert!(
        matches
            .findings
            .iter()
            .all(|f| f.target.as_deref() == Some("turquoise-estrellita-69.tiiny.site"))
    );

    assert_eq!(
        report("issue_9201.json").findings[0].asset.as_str(),
        "web_app:https://example.com"
    );
    assert_eq!(report("multiple_v3.json").findings[0].severity, Severity::Info);
    assert_absent(
        report("issue_14071.json"),
        &["90af3b3f9792ec373da1611de12e09a8", "fbeb4812f1bc3aebc7ebd5f969d0ad00"],
    );
}

#[test]
fn corpus_detection() {
    common::check_detection("nuclei", FORMAT, |_| true);
    dast_common::check_corpus_detection(FORMAT, |folder, _| folder == "nuclei");
}
