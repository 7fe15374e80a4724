//! Tests of the Nmap XML parser: fixtures, hostile input and the shared
//! corpus.

mod common;

use std::time::{Duration, Instant};

use ctem_ingest::{Detection, ParseError, ParsedReport, Position, find, parse_bytes};
use ctem_model::{AssetKind, Finding, FindingKind, RelationshipKind, Severity};
use serde_json::json;

const FORMAT: &str = "nmap-xml";

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

/// Renders the report as JSON for snapshots, with each finding's fingerprint.
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

/// Returns the targets of the report's scopes, after checking that every
/// scope is Nmap's.
fn targets(report: &ParsedReport) -> Vec<&str> {
    assert!(
        report.targets.iter().all(|(tool, _)| tool == "nmap"),
        "{:?}",
        report.targets
    );
    report.targets.iter().map(|(_, target)| target.as_str()).collect()
}

fn finding<'r>(report: &'r ParsedReport, rule_id: &str) -> &'r Finding {
    report
        .findings
        .iter()
        .find(|f| f.rule_id == rule_id)
        .unwrap_or_else(|| panic!("no finding {rule_id}"))
}

fn assert_every_finding_has_scope(report: &ParsedReport) {
    let declared = targets(report);
    for finding in &report.findings {
        let target = finding.target.as_deref().expect("a scope target");
        assert!(declared.contains(&target), "{target} is not declared in {declared:?}");
        assert!(
            report.assets.iter().any(|a| a.key == finding.asset),
            "{} has no asset",
            finding.rule_id
        );
    }
}

#[test]
fn detects_fixtures() {
    let parser = find(FORMAT).expect("registered");
    for name in ["empty.xml", "one_port.xml", "many.xml", "vulners_text.xml"] {
        assert_eq!(parser.detect(&fixture(name)), Detection::Certain, "{name}");
    }
    assert_eq!(
        parser.detect(b"<?xml version=\"1.0\"?><NessusClientData_v2/>"),
        Detection::No
    );
}

#[test]
fn host_without_open_ports() {
    let report = parse_fixture("empty.xml");
    assert!(report.findings.is_empty());
    assert_eq!(targets(&report), ["host:10.20.0.15"]);
    assert_eq!(report.assets.len(), 1);
    let host = &report.assets[0];
    assert_eq!(host.key.as_str(), "host:10.20.0.15");
    assert_eq!(host.name, "backup01.corp.example.test");
    assert_eq!(
        host.identifier_values("hostname").collect::<Vec<_>>(),
        ["backup01.corp.example.test"]
    );
}

#[test]
fn one_port_snapshot() {
    let report = parse_fixture("one_port.xml");
    assert_eq!(report.findings.len(), 1);
    assert_every_finding_has_scope(&report);
    insta::assert_json_snapshot!("one_port", normalized(&report));
}

#[test]
fn many_snapshot() {
    let report = parse_fixture("many.xml");
    assert_eq!(report.findings.len(), 8, "5 open ports and 3 vulners ids");
    assert_every_finding_has_scope(&report);
    insta::assert_json_snapshot!("many", normalized(&report));
}

#[test]
fn open_port_fields() {
    let report = parse_fixture("one_port.xml");
    let port = &report.findings[0];
    assert_eq!(port.kind, FindingKind::ExposedService);
    assert_eq!(port.rule_id, "open-port/5432/tcp");
    assert_eq!(port.title, "Open port: 5432/tcp (postgresql)");
    assert_eq!(port.severity, Severity::Info);
    assert_eq!(port.location.port, Some(5432));
    assert_eq!(port.location.protocol.as_deref(), Some("tcp"));
    assert_eq!(port.asset.as_str(), "host:10.20.0.21");
    assert_eq!(
        port.attributes.get("product").map(String::as_str),
        Some("PostgreSQL DB")
    );
    assert_eq!(
        port.description.as_deref(),
        Some("Port 5432/tcp is open on 10.20.0.21, running postgresql (PostgreSQL DB 9.6.0 - 9.6.2).")
    );

    let service = report
        .assets
        .iter()
        .find(|a| a.kind == AssetKind::Service)
        .expect("a service");
    assert_eq!(service.key.as_str(), "service:10.20.0.21:5432/tcp");
    assert_eq!(
        service.attributes.get("service").map(String::as_str),
        Some("postgresql")
    );
    let hosts = &report.relationships[0];
    assert_eq!(hosts.kind, RelationshipKind::Hosts);
    assert_eq!(hosts.from.as_str(), "host:10.20.0.21");
    assert_eq!(hosts.to, service.key);
    assert_eq!(hosts.port, Some(5432));
}

#[test]
fn only_open_ports_count() {
    let report = parse_fixture("many.xml");
    let rules: Vec<&str> = report
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::ExposedService)
        .map(|f| f.rule_id.as_str())
        .collect();
    assert_eq!(
        rules,
        [
            "open-port/22/tcp",
            "open-port/80/tcp",
            "open-port/443/tcp",
            "open-port/161/udp",
            "open-port/80/tcp"
        ]
    );
    assert_eq!(
        targets(&report),
        ["host:10.20.0.5", "host:10.20.0.6"],
        "the host that is down is skipped"
    );
}

#[test]
fn host_identity() {
    let report = parse_fixture("many.xml");
    let host = report
        .assets
        .iter()
        .find(|a| a.key.as_str() == "host:10.20.0.5")
        .expect("host");
    assert_eq!(host.name, "Web01.Corp.Example.Test");
    assert_eq!(
        host.identifier_values("ip").collect::<Vec<_>>(),
        ["10.20.0.5", "fd00:20::5"]
    );
    assert_eq!(host.identifier_values("mac").collect::<Vec<_>>(), ["52:54:00:ab:cd:05"]);
    assert_eq!(
        host.identifier_values("hostname").collect::<Vec<_>>(),
        ["web01.corp.example.test", "shop.example.test"]
    );
    assert_eq!(
        host.attributes.get("os").map(String::as_str),
        Some("Linux 5.0 - 5.4"),
        "the most accurate match"
    );
}

#[test]
fn vulners_tables() {
    let report = parse_fixture("many.xml");
    let critical = finding(&report, "CVE-2023-38408");
    assert_eq!(critical.kind, FindingKind::Vulnerability);
    assert_eq!(critical.title, "CVE-2023-38408 in OpenSSH 7.4");
    assert_eq!(critical.severity, Severity::Critical);
    assert_eq!(critical.location.port, Some(22));
    assert_eq!(critical.references, ["https://vulners.com/cve/CVE-2023-38408"]);
    assert_eq!(
        critical.attributes.get("cpe").map(String::as_str),
        Some("cpe:/a:openbsd:openssh:7.4")
    );
    let component = critical.component.as_ref().expect("the service software");
    assert_eq!(component.name, "OpenSSH");
    assert_eq!(component.version.as_deref(), Some("7.4"));

    let exploit = finding(&report, "EXPLOITPACK:98FE96309F9524B8C84C508837551A19");
    assert_eq!(exploit.severity, Severity::Medium);
    assert_eq!(exploit.attributes.get("is_exploit").map(String::as_str), Some("true"));
    assert_eq!(exploit.vulnerability_ids.len(), 1);
    assert_eq!(finding(&report, "CVE-2021-41617").severity, Severity::Medium);
}

#[test]
fn vulners_text_output() {
    let report = parse_fixture("vulners_text.xml");
    assert_eq!(report.findings.len(), 3);
    let backdoor = finding(&report, "CVE-2011-2523");
    assert_eq!(backdoor.severity, Severity::Critical);
    assert_eq!(backdoor.attributes.get("is_exploit").map(String::as_str), Some("false"));
    let packetstorm = finding(&report, "PACKETSTORM:162145");
    assert_eq!(
        packetstorm.attributes.get("is_exploit").map(String::as_str),
        Some("true")
    );
    assert_eq!(
        packetstorm.references,
        ["https://vulners.com/packetstorm/PACKETSTORM:162145"]
    );
}

#[test]
fn references_are_resolved() {
    let report = parse_fixture("many.xml");
    let http = report
        .findings
        .iter()
        .find(|f| f.rule_id == "open-port/80/tcp" && f.asset.as_str() == "host:10.20.0.5")
        .expect("port 80");
    assert_eq!(
        http.attributes.get("extra_info").map(String::as_str),
        Some("Ubuntu & friends")
    );
    assert_eq!(http.evidence.as_deref(), Some("http-title:\nShop & Co. <staging>"));
}

#[test]
fn billion_laughs_is_not_expanded() {
    let mut document = String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE nmaprun [\n  <!ENTITY lol \"lol\">\n");
    for level in 1..10 {
        let previous = if level == 1 {
            "lol".to_string()
        } else {
            format!("lol{}", level - 1)
        };
        let body: String = std::iter::repeat_n(format!("&{previous};"), 10).collect();
        document.push_str(&format!("  <!ENTITY lol{level} \"{body}\">\n"));
    }
    document.push_str(
        "]>\n<nmaprun xmloutputversion=\"1.05\"><host><status state=\"up\"/><address addr=\"10.20.0.30\" addrtype=\"ipv4\"/>\
         <ports><port protocol=\"tcp\" portid=\"80\"><state state=\"open\"/><service name=\"http\" product=\"&lol9;\"/>\
         <script id=\"banner\" output=\"x\"><elem key=\"banner\">&lol9;</elem></script></port></ports></host></nmaprun>",
    );

    let started = Instant::now();
    let report = parse("lol.xml", document.as_bytes()).expect("parses without expanding");
    assert!(started.elapsed() < Duration::from_secs(2));
    let port = &report.findings[0];
    assert_eq!(port.attributes.get("product").map(String::as_str), Some("&lol9;"));
    assert!(normalized(&report).to_string().len() < 10_000);
}

#[test]
fn truncated_file_names_position() {
    let bytes = fixture("many.xml");
    let error = parse("cut.xml", &bytes[..bytes.len() / 2]).unwrap_err();
    assert_eq!(error.format, FORMAT);
    assert!(error.message.contains("truncated"), "{}", error.message);
    assert!(matches!(error.position, Some(Position::Byte(offset)) if offset > 0));
}

#[test]
fn invalid_syntax_is_rejected() {
    let error = parse("bad.xml", b"<nmaprun><host></nmaprun>").unwrap_err();
    assert!(error.message.contains("invalid XML"), "{}", error.message);
    assert!(matches!(error.position, Some(Position::Byte(_))));
}

#[test]
fn other_format_is_rejected() {
    let error = parse(
        "nessus.xml",
        b"<?xml version=\"1.0\"?><NessusClientData_v2><Report/></NessusClientData_v2>",
    )
    .unwrap_err();
    assert!(
        error
            .message
            .contains("expected the root element <nmaprun>, found <NessusClientData_v2>"),
        "{}",
        error.message
    );

    let error = parse("empty.xml", b"").unwrap_err();
    assert!(error.message.contains("no XML element found"), "{}", error.message);
}

#[test]
fn unsupported_output_version() {
    let error = parse("v2.xml", b"<nmaprun xmloutputversion=\"2.0\"></nmaprun>").unwrap_err();
    assert!(
        error.message.contains("unsupported Nmap XML output version 2.0"),
        "{}",
        error.message
    );
}

#[test]
fn large_scan_streams() {
    let hosts = 400;
    let ports = 50;
    let mut document = String::from("<nmaprun xmloutputversion=\"1.05\">\n");
    for host in 0..hosts {
        document.push_str(&format!(
            "<host><status state=\"up\"/><address addr=\"10.{}.{}.1\" addrtype=\"ipv4\"/><ports>",
            host / 256,
            host % 256
        ));
        for port in 0..ports {
            document.push_str(&format!(
                "<port protocol=\"tcp\" portid=\"{}\"><state state=\"open\"/><service name=\"http\"/></port>",
                8000 + port
            ));
        }
        document.push_str("</ports></host>\n");
    }
    document.push_str("</nmaprun>\n");
    let report = parse("big.xml", document.as_bytes()).expect("parses");
    assert_eq!(report.findings.len(), hosts * ports);
    assert_eq!(report.targets.len(), hosts);
}

/// Groups findings by rule, as DefectDojo merges the same port or id on
/// several hosts into one finding.
fn group_key(finding: &Finding) -> String {
    finding.rule_id.clone()
}

#[test]
fn corpus_conformance() {
    let reports = common::check_folder("nmap", FORMAT, group_key);
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

    let merged = report("issue12411.xml");
    assert_eq!(targets(merged), ["host:172.217.18.238", "host:54.239.28.85"]);
    let http: Vec<&Finding> = merged
        .findings
        .iter()
        .filter(|f| f.rule_id == "open-port/80/tcp")
        .collect();
    assert_eq!(http.len(), 2, "the same port on two hosts is two findings in one group");
    assert_eq!(http[0].severity, Severity::Info);
    let google = merged
        .assets
        .iter()
        .find(|a| a.key.as_str() == "host:172.217.18.238")
        .expect("host");
    assert_eq!(
        google.identifier_values("hostname").collect::<Vec<_>>(),
        ["google.com", "par10s10-in-f238.1e100.net", "lalala"]
    );

    let vulners = report("issue4406.xml");
    let first = &vulners.findings[1];
    assert_eq!(first.rule_id, "MSF:ILITIES/UBUNTU-CVE-2019-6111/");
    assert_eq!(first.severity, Severity::Medium);
    assert!(first.title.ends_with("in OpenSSH 7.4"), "{}", first.title);
    assert_eq!(finding(vulners, "CVE-2019-6111").severity, Severity::Medium);
    assert_eq!(
        finding(vulners, "EXPLOITPACK:EBDBC5685E3276D648B4D14B75563283").severity,
        Severity::Medium
    );
    let printer = finding(vulners, "open-port/9100/tcp");
    assert!(printer.title.starts_with("Open port: 9100/tcp"));
    let host = vulners.assets.iter().find(|a| a.key == printer.asset).expect("host");
    assert_eq!(host.name, "ip-10-250-195-71.eu-west-1.compute.internal");
    let strings = finding(vulners, "open-port/30150/tcp");
    assert!(
        strings
            .evidence
            .as_deref()
            .unwrap_or_default()
            .starts_with("fingerprint-strings:")
    );
    assert_eq!(strings.asset.as_str(), "host:10.250.195.71");
    assert!(
        finding(vulners, "open-port/31641/tcp")
            .title
            .starts_with("Open port: 31641/tcp")
    );

    let single = &report("nmap_1port.xml").findings[0];
    assert!(single.title.starts_with("Open port: 5432/tcp"));
    assert_eq!(single.location.port, Some(5432));
    let localhost = report("nmap_1port.xml")
        .assets
        .iter()
        .find(|a| a.key == single.asset)
        .expect("host");
    assert_eq!(localhost.name, "localhost.localdomain");

    let multiple = &report("nmap_multiple_port.xml").findings[0];
    assert!(multiple.title.starts_with("Open port: 21/tcp"));
    let mocha = report("nmap_multiple_port.xml")
        .assets
        .iter()
        .find(|a| a.key == multiple.asset)
        .expect("host");
    assert_eq!(mocha.name, "mocha2005.mochahost.com");

    let script = &report("nmap_script_vulners.xml").findings;
    assert_eq!(script[1].rule_id, "CVE-2018-15919");
    assert_eq!(script[1].severity, Severity::Medium);
    assert_eq!(script[2].rule_id, "CVE-2017-15906");
    assert_eq!(script[2].severity, Severity::Medium);
    assert_eq!(script[0].severity, Severity::Info);
}

#[test]
fn corpus_detection() {
    common::check_detection("nmap", FORMAT, |_| true);
}
