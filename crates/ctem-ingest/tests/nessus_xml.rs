//! Tests of the Nessus v2 XML parser (with Tenable WAS exports): fixtures,
//! hostile input and the shared corpus.

mod common;

use std::time::{Duration, Instant};

use ctem_ingest::{Detection, ParseError, ParsedReport, Position, find, parse_bytes};
use ctem_model::{AssetKind, Cwe, Finding, FindingKind, RelationshipKind, Severity};
use serde_json::json;

const FORMAT: &str = "nessus-xml";

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

/// Returns the report's scopes as `tool target`.
fn scopes(report: &ParsedReport) -> Vec<String> {
    report
        .targets
        .iter()
        .map(|(tool, target)| format!("{tool} {target}"))
        .collect()
}

fn by_plugin<'r>(report: &'r ParsedReport, plugin_id: &str) -> Vec<&'r Finding> {
    report.findings.iter().filter(|f| f.rule_id == plugin_id).collect()
}

fn ids(finding: &Finding) -> Vec<&str> {
    finding.vulnerability_ids.iter().map(|id| id.as_str()).collect()
}

fn vectors(finding: &Finding) -> Vec<String> {
    finding.cvss.iter().map(ToString::to_string).collect()
}

fn assert_every_finding_has_scope(report: &ParsedReport) {
    for finding in &report.findings {
        let target = finding.target.as_deref().expect("a scope target");
        let scope = (finding.tool.clone(), target.to_string());
        assert!(report.targets.contains(&scope), "{scope:?} is not declared");
        assert!(
            report.assets.iter().any(|a| a.key == finding.asset),
            "{} has no asset",
            finding.rule_id
        );
        assert!(!finding.title.is_empty());
    }
}

#[test]
fn detects_fixtures() {
    let parser = find(FORMAT).expect("registered");
    for name in [
        "empty.nessus",
        "one_item.nessus",
        "many.nessus",
        "was.xml",
        "properties_after_items.nessus",
    ] {
        assert_eq!(parser.detect(&fixture(name)), Detection::Certain, "{name}");
    }
    assert_eq!(parser.detect(b"<?xml version=\"1.0\"?><nmaprun/>"), Detection::No);
}

#[test]
fn host_without_items() {
    let report = parse_fixture("empty.nessus");
    assert!(report.findings.is_empty());
    assert_eq!(scopes(&report), ["nessus host:10.30.0.40"]);
    let host = &report.assets[0];
    assert_eq!(host.kind, AssetKind::Host);
    assert_eq!(host.name, "files01.corp.example.test");
    assert_eq!(
        host.identifier_values("fqdn").collect::<Vec<_>>(),
        ["files01.corp.example.test"]
    );
}

#[test]
fn one_item_snapshot() {
    let report = parse_fixture("one_item.nessus");
    assert_eq!(report.findings.len(), 1);
    assert_every_finding_has_scope(&report);
    insta::assert_json_snapshot!("one_item", normalized(&report));
}

#[test]
fn many_snapshot() {
    let report = parse_fixture("many.nessus");
    assert_eq!(report.findings.len(), 7);
    assert_every_finding_has_scope(&report);
    insta::assert_json_snapshot!("many", normalized(&report));
}

#[test]
fn item_fields() {
    let report = parse_fixture("one_item.nessus");
    let apache = &report.findings[0];
    assert_eq!(apache.kind, FindingKind::Vulnerability);
    assert_eq!(apache.rule_id, "192711");
    assert_eq!(apache.title, "Apache 2.4.x < 2.4.59 Multiple Vulnerabilities");
    assert_eq!(
        apache.severity,
        Severity::High,
        "the severity attribute wins over risk_factor Medium"
    );
    assert_eq!(
        ids(apache),
        [
            "CVE-2023-38709",
            "CVE-2024-24795",
            "CVE-2024-27316",
            "IAVA:2024-A-0187-S"
        ]
    );
    assert_eq!(
        vectors(apache),
        [
            "AV:N/AC:L/Au:N/C:N/I:P/A:N",
            "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N"
        ]
    );
    assert_eq!(apache.location.port, Some(443));
    assert_eq!(apache.location.protocol.as_deref(), Some("tcp"));
    assert_eq!(
        apache.fix.description.as_deref(),
        Some("Upgrade to Apache version 2.4.59 or later.")
    );
    assert_eq!(
        apache.references,
        ["https://httpd.apache.org/security/vulnerabilities_24.html"]
    );
    assert!(
        apache
            .evidence
            .as_deref()
            .unwrap_or_default()
            .starts_with("URL               : https://portal.example.test/")
    );
    assert_eq!(apache.attributes.get("vpr_score").map(String::as_str), Some("6.7"));
    assert_eq!(
        apache.attributes.get("plugin_family").map(String::as_str),
        Some("Web Servers")
    );
    assert_eq!(apache.asset.as_str(), "host:203.0.113.24");
    assert_eq!(scopes(&report), ["nessus host:203.0.113.24"]);

    let service = report
        .assets
        .iter()
        .find(|a| a.kind == AssetKind::Service)
        .expect("a service");
    assert_eq!(service.key.as_str(), "service:203.0.113.24:443/tcp");
    assert_eq!(report.relationships[0].kind, RelationshipKind::Hosts);
    assert_eq!(report.relationships[0].port, Some(443));
}

#[test]
fn kinds_and_titles() {
    let report = parse_fixture("many.nessus");
    let scanners = by_plugin(&report, "11219");
    assert_eq!(scanners.len(), 3, "one finding per host and port");
    assert_eq!(scanners[0].kind, FindingKind::ExposedService);
    assert_eq!(scanners[0].title, "Open port: 445/tcp (cifs)");
    assert_eq!(scanners[0].severity, Severity::Info);
    assert_ne!(scanners[0].fingerprint(), scanners[1].fingerprint());

    let detection = by_plugin(&report, "22964")[0];
    assert_eq!(detection.kind, FindingKind::ExposedService);
    assert_eq!(detection.title, "Service Detection");

    let info = by_plugin(&report, "19506")[0];
    assert_eq!(info.kind, FindingKind::Vulnerability);
    assert_eq!(info.severity, Severity::Info);
    assert_eq!(info.location.port, None, "port 0 is no location");
    assert!(info.fix.is_empty(), "n/a is no solution");
}

#[test]
fn identifiers_and_vectors() {
    let report = parse_fixture("many.nessus");
    let eternalblue = by_plugin(&report, "97833")[0];
    assert_eq!(eternalblue.severity, Severity::Critical);
    assert_eq!(
        ids(eternalblue),
        [
            "CVE-2017-0143",
            "CVE-2017-0144",
            "BID:96703",
            "BID:96704",
            "MSFT:MS17-010",
            "IAVA:2017-A-0065"
        ]
    );
    assert_eq!(eternalblue.cwes, [Cwe(20)]);
    assert_eq!(vectors(eternalblue).len(), 2);
    assert_eq!(eternalblue.references.len(), 2, "see_also lists one URL per line");
    assert_eq!(
        eternalblue.attributes.get("exploited_by_malware").map(String::as_str),
        Some("true")
    );
    assert!(eternalblue.evidence.as_deref().unwrap_or_default().contains("& more"));

    let signing = by_plugin(&report, "57608")[0];
    assert!(vectors(signing)[0].starts_with("CVSS:4.0/"));
    assert_eq!(
        signing.fix.description.as_deref(),
        Some("Enforce message signing in the host's configuration.")
    );
}

#[test]
fn host_identity() {
    let report = parse_fixture("many.nessus");
    assert_eq!(
        scopes(&report),
        ["nessus host:10.30.1.10", "nessus host:printer-3f.corp.example.test"],
        "a host without host-ip is keyed by its ReportHost name"
    );
    let windows = report
        .assets
        .iter()
        .find(|a| a.key.as_str() == "host:10.30.1.10")
        .expect("host");
    assert_eq!(windows.name, "FS-WIN01.corp.example.test");
    assert_eq!(
        windows.identifier_values("mac").collect::<Vec<_>>(),
        ["00:50:56:aa:01:10", "00:50:56:aa:01:11"]
    );
    assert_eq!(
        windows.identifier_values("netbios_name").collect::<Vec<_>>(),
        ["FS-WIN01"]
    );
    assert_eq!(
        windows.attributes.get("os").map(String::as_str),
        Some("Microsoft Windows Server 2016 Standard")
    );
    let services = report.assets.iter().filter(|a| a.kind == AssetKind::Service).count();
    assert_eq!(services, 3, "445 and 3389 on one host, 9100 on the other");
}

#[test]
fn tenable_was_export() {
    let report = parse_fixture("was.xml");
    assert_eq!(scopes(&report), ["tenable-was web_app:https://shop.example.test/"]);
    assert_every_finding_has_scope(&report);
    let xss = by_plugin(&report, "98104")[0];
    assert_eq!(xss.tool, "tenable-was");
    assert_eq!(xss.kind, FindingKind::WebWeakness);
    assert_eq!(xss.severity, Severity::High);
    assert_eq!(xss.cwes, [Cwe(79)]);
    assert!(
        xss.vulnerability_ids.is_empty(),
        "OWASP and WASC classify, they name no vulnerability"
    );
    assert_eq!(
        xss.location.url.as_deref(),
        Some("https://shop.example.test/search?q=x")
    );
    assert!(
        xss.evidence
            .as_deref()
            .unwrap_or_default()
            .contains("<script>alert(1)</script>")
    );
    assert_eq!(xss.attributes.get("cvss3_base_score").map(String::as_str), Some("7.1"));
    let csp = by_plugin(&report, "112551")[0];
    assert_eq!(csp.location.url.as_deref(), Some("https://shop.example.test/"));
    assert_eq!(csp.severity, Severity::Low);
    assert_eq!(report.assets[0].kind, AssetKind::WebApp);
}

#[test]
fn properties_after_items() {
    let report = parse_fixture("properties_after_items.nessus");
    assert_eq!(scopes(&report), ["nessus host:10.30.2.77"]);
    assert_eq!(report.findings[0].asset.as_str(), "host:10.30.2.77");
    assert_eq!(report.findings[0].severity, Severity::Low);
}

#[test]
fn long_output_is_cut() {
    let output = "line of plugin output\n".repeat(20_000);
    let document = format!(
        "<NessusClientData_v2><Report name=\"r\"><ReportHost name=\"10.30.3.3\"><HostProperties>\
         <tag name=\"host-ip\">10.30.3.3</tag></HostProperties>\
         <ReportItem port=\"0\" protocol=\"tcp\" severity=\"0\" pluginID=\"10180\" pluginName=\"Ping the remote host\" \
         pluginFamily=\"Port scanners\"><plugin_output>{output}</plugin_output></ReportItem></ReportHost></Report>\
         </NessusClientData_v2>"
    );
    let report = parse("long.nessus", document.as_bytes()).expect("parses");
    let evidence = report.findings[0].evidence.as_deref().expect("evidence");
    assert!(evidence.len() < 4200, "{}", evidence.len());
    assert!(
        evidence.ends_with(&format!("[truncated: 4096 of {} bytes kept]", output.trim().len() + 1)),
        "{}",
        &evidence[4000..]
    );
    assert_eq!(
        report.findings[0].kind,
        FindingKind::Vulnerability,
        "a port scanner plugin without a port"
    );
}

#[test]
fn billion_laughs_is_not_expanded() {
    let mut document =
        String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE NessusClientData_v2 [\n  <!ENTITY lol \"lol\">\n");
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
        "]>\n<NessusClientData_v2><Report name=\"r\"><ReportHost name=\"10.30.3.4\"><HostProperties>\
         <tag name=\"host-ip\">10.30.3.4</tag></HostProperties>\
         <ReportItem port=\"80\" protocol=\"tcp\" severity=\"2\" pluginID=\"1\" pluginName=\"&lol9;\" pluginFamily=\"Misc.\">\
         <description>&lol9;</description></ReportItem></ReportHost></Report></NessusClientData_v2>",
    );

    let started = Instant::now();
    let report = parse("lol.nessus", document.as_bytes()).expect("parses without expanding");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(report.findings[0].title, "&lol9;");
    assert_eq!(report.findings[0].description.as_deref(), Some("&lol9;"));
}

#[test]
fn truncated_file_names_position() {
    let bytes = fixture("many.nessus");
    let error = parse("cut.nessus", &bytes[..bytes.len() / 2]).unwrap_err();
    assert_eq!(error.format, FORMAT);
    assert!(error.message.contains("truncated"), "{}", error.message);
    assert!(matches!(error.position, Some(Position::Byte(offset)) if offset > 0));
}

#[test]
fn invalid_syntax_is_rejected() {
    let error = parse(
        "bad.nessus",
        b"<NessusClientData_v2><Report></ReportHost></NessusClientData_v2>",
    )
    .unwrap_err();
    assert!(error.message.contains("invalid XML"), "{}", error.message);
    assert!(matches!(error.position, Some(Position::Byte(_))));
}

#[test]
fn other_format_is_rejected() {
    let error = parse("nmap.xml", b"<?xml version=\"1.0\"?><nmaprun></nmaprun>").unwrap_err();
    assert!(
        error
            .message
            .contains("expected the root element <NessusClientData_v2>, found <nmaprun>"),
        "{}",
        error.message
    );
    let error = parse("v1.nessus", b"<NessusClientData><Report/></NessusClientData>").unwrap_err();
    assert!(
        error.message.contains("unsupported Nessus v1 report"),
        "{}",
        error.message
    );
    let error = parse("empty.nessus", b"  ").unwrap_err();
    assert!(error.message.contains("no XML element found"), "{}", error.message);
}

#[test]
fn large_report_streams() {
    let hosts = 200;
    let items = 100;
    let mut document = String::from("<NessusClientData_v2><Report name=\"big\">\n");
    for host in 0..hosts {
        document.push_str(&format!(
            "<ReportHost name=\"10.40.{}.{}\"><HostProperties><tag name=\"host-ip\">10.40.{}.{}</tag></HostProperties>",
            host / 256,
            host % 256,
            host / 256,
            host % 256
        ));
        for item in 0..items {
            document.push_str(&format!(
                "<ReportItem port=\"{}\" svc_name=\"www\" protocol=\"tcp\" severity=\"2\" pluginID=\"{}\" \
                 pluginName=\"Plugin {item}\" pluginFamily=\"Misc.\"><risk_factor>Medium</risk_factor>\
                 <cve>CVE-2024-{:05}</cve></ReportItem>",
                8000 + item % 10,
                100_000 + item,
                10_000 + item
            ));
        }
        document.push_str("</ReportHost>\n");
    }
    document.push_str("</Report></NessusClientData_v2>\n");
    let report = parse("big.nessus", document.as_bytes()).expect("parses");
    assert_eq!(report.findings.len(), hosts * items);
    assert_eq!(report.targets.len(), hosts);
}

/// Groups findings by plugin, as DefectDojo merges one plugin's results on
/// every host and port into one finding.
fn group_key(finding: &Finding) -> String {
    finding.rule_id.clone()
}

#[test]
fn corpus_conformance() {
    let reports = common::check_folder("nessus", FORMAT, group_key);
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

    // DefectDojo rates this item High from its CVSS v3 score 7.5. ctem
    // keeps the severity the report states (2, Medium, as risk_factor),
    // because it follows the scan's severity basis and recast rules.
    let php = &report("issue_6992.nessus").findings[0];
    assert_eq!(php.severity, Severity::Medium);
    assert_eq!(php.attributes.get("cvss3_base_score").map(String::as_str), Some("7.5"));
    assert_eq!(php.asset.as_str(), "host:44.228.249.3");

    let many = report("nessus_many_vuln.xml");
    assert!(many.findings.iter().all(|f| f.severity == Severity::Info));
    assert!(
        many.findings
            .iter()
            .all(|f| f.cwes.is_empty() && f.vulnerability_ids.is_empty())
    );
    let syn = by_plugin(many, "11219");
    assert_eq!(syn.len(), 2, "one plugin on two ports");
    let ports: Vec<Option<u16>> = syn.iter().map(|f| f.location.port).collect();
    assert_eq!(ports, [Some(443), Some(264)]);

    let browsable = by_plugin(report("nessus_with_cvssv3.nessus"), "40984")[0];
    assert_eq!(browsable.severity, Severity::Medium);
    assert!(browsable.cwes.is_empty());
    assert_eq!(browsable.attributes.get("service").map(String::as_str), Some("www"));
    assert_eq!(browsable.location.port, Some(80));
    assert!(vectors(browsable).contains(&"CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N".to_string()));

    let php5 = &report("nessus_with_cwe-.nessus").findings[0];
    assert_eq!(php5.cwes[0], Cwe(94));
    assert_eq!(php5.vulnerability_ids.len(), 15 + 3, "15 CVEs and 3 BIDs");

    let one_was = &report("nessus_was_one_vuln.xml").findings[0];
    assert_eq!(one_was.severity, Severity::High);
    assert_eq!(one_was.title, "Cross-Site Scripting (XSS)");
    assert_eq!(one_was.location.url.as_deref(), Some("http://google.com/search.jsp"));
    assert_eq!(one_was.attributes.get("service").map(String::as_str), Some("http"));

    let many_was = report("nessus_was_many_vuln.xml");
    assert_eq!(many_was.findings[0].title, "Cross-Site Scripting (XSS)");
    assert_eq!(many_was.findings[0].severity, Severity::High);
    assert!(many_was.findings.iter().all(|f| f.kind == FindingKind::WebWeakness));
}

#[test]
fn corpus_detection() {
    common::check_detection("nessus", FORMAT, |_| true);
}
